//! The environment reader behind `Config::from_lookup`: trimmed values, parsing with a
//! default, and every problem collected rather than the first one returned.

/// Reads variables and collects every problem, so one start reports all of them.
pub(super) struct Vars<L> {
    pub(super) lookup: L,
    pub(super) errors: Vec<String>,
}

impl<L: Fn(&str) -> Option<String>> Vars<L> {
    /// The trimmed value, `None` when unset or blank.
    pub(super) fn get(&self, name: &str) -> Option<String> {
        (self.lookup)(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    /// `name` parsed, or `default` parsed when unset; `None` (and an error noted) when invalid.
    pub(super) fn parse<T>(
        &mut self,
        name: &str,
        default: &str,
        parse: impl FnOnce(&str) -> anyhow::Result<T>,
    ) -> Option<T> {
        let value = self.get(name).unwrap_or_else(|| default.to_owned());
        match parse(&value) {
            Ok(parsed) => Some(parsed),
            Err(err) => {
                self.errors
                    .push(format!("{} is not valid: {err}", shown(name, &value)));
                None
            }
        }
    }

    /// `Some(Some(v))` when set and valid, `Some(None)` when unset, `None` when invalid.
    pub(super) fn optional<T>(
        &mut self,
        name: &str,
        parse: impl FnOnce(&str) -> anyhow::Result<T>,
    ) -> Option<Option<T>> {
        match self.get(name) {
            None => Some(None),
            Some(value) => match parse(&value) {
                Ok(parsed) => Some(Some(parsed)),
                Err(err) => {
                    self.errors
                        .push(format!("{} is not valid: {err}", shown(name, &value)));
                    None
                }
            },
        }
    }

    /// An [`Vars::optional`] value that `because` makes mandatory.
    pub(super) fn required<T>(
        &mut self,
        value: Option<Option<T>>,
        name: &str,
        because: &str,
    ) -> Option<T> {
        match value {
            Some(None) => {
                self.errors
                    .push(format!("{name} is required when {because} is set"));
                None
            }
            other => other.flatten(),
        }
    }
}

/// `NAME="value"` for an error message, except for variables whose value may carry a password
/// (a Redis or proxy URL): those are named, never echoed.
fn shown(name: &str, value: &str) -> String {
    let secret =
        name.eq_ignore_ascii_case("SESSION_STORE") || name.to_ascii_uppercase().ends_with("_PROXY");
    if secret {
        format!("{name} (value not shown: it may hold a password)")
    } else {
        format!("{name}={:?}", crate::text::escaped(value, 200))
    }
}
