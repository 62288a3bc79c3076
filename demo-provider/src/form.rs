//! The provider's strict `application/x-www-form-urlencoded` parser, for authorization queries,
//! token and revocation bodies and the consent form.
//!
//! Lenient parsers (`url::form_urlencoded`, `serde_urlencoded`) pass bad escapes through,
//! replace invalid UTF-8 and keep the last of repeated names. Here each of those is an error:
//! OAuth parameters "MUST NOT be included more than once" (RFC 6749 §3.1, §3.2), and an
//! ambiguous or mangled value must be refused, not guessed at. Empty values count as omitted
//! (OAuth 2.1 §3.1). Errors never carry a value, and a name only through [`param_label`].

use std::collections::{HashMap, hash_map::Entry};

use percent_encoding::percent_decode_str;

/// Why a form was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum FormError {
    /// Longer than the caller's limit (checked before any decoding).
    TooLong(usize),
    /// A name appeared twice (the name, clipped to 40 characters).
    Duplicate(String),
    /// A bad `%` escape, invalid UTF-8 or a control character.
    BadEncoding,
}

impl FormError {
    /// A description without any of the input: a repeated name is named only if the provider
    /// knows it (RFC 6749 §4.1.2.1 limits the characters of `error_description`, and echoed
    /// input is an injection vector).
    pub(crate) fn describe(&self) -> String {
        match self {
            Self::TooLong(limit) => format!("the form is longer than {limit} bytes"),
            Self::Duplicate(name) => format!("{} is repeated", param_label(name)),
            Self::BadEncoding => {
                "a parameter is not valid percent-encoded UTF-8 or contains control characters"
                    .into()
            }
        }
    }
}

/// Every `name=value` pair of `raw`, in order, repeated names and empty values included.
/// `a&b=` gives two pairs with empty values; empty pieces (`a=1&&b=2`) are skipped.
pub(crate) fn pairs(raw: &str, limit: usize) -> Result<Vec<(String, String)>, FormError> {
    if raw.len() > limit {
        return Err(FormError::TooLong(limit));
    }
    let mut out = Vec::new();
    for piece in raw.split('&').filter(|piece| !piece.is_empty()) {
        let (name, value) = match piece.find('=') {
            Some(at) => (&piece[..at], &piece[at + 1..]),
            None => (piece, ""),
        };
        out.push((component(name)?, component(value)?));
    }
    Ok(out)
}

/// The parameters of `raw` by name. A repeated name is an error even when both values are equal
/// or empty; parameters with an empty value are left out, as if not sent.
pub(crate) fn unique(raw: &str, limit: usize) -> Result<HashMap<String, String>, FormError> {
    let mut all: HashMap<String, String> = HashMap::new();
    for (name, value) in pairs(raw, limit)? {
        match all.entry(name) {
            Entry::Occupied(taken) => return Err(FormError::Duplicate(clip(taken.key(), 40))),
            Entry::Vacant(free) => {
                free.insert(value);
            }
        }
    }
    all.retain(|_, value| !value.is_empty());
    Ok(all)
}

/// Decodes one name or value, exactly once: `+` is a space, `%XX` the byte `XX`. Every `%` must
/// start two hex digits, the bytes must be UTF-8, and control characters are refused: CR, LF,
/// NUL or ESC in a parameter can only be an attempt at header or log injection (RFC 6749
/// §10.14).
pub(crate) fn component(raw: &str) -> Result<String, FormError> {
    let bytes = raw.as_bytes();
    let escapes_ok = raw.match_indices('%').all(|(at, _)| {
        bytes
            .get(at + 1..at + 3)
            .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit))
    });
    if !escapes_ok {
        return Err(FormError::BadEncoding);
    }
    // `+` becomes a space before the escapes are decoded, so `%2B` stays a literal `+`.
    let spaced = raw.replace('+', " ");
    let text = percent_decode_str(&spaced)
        .decode_utf8()
        .map_err(|_| FormError::BadEncoding)?;
    if text.chars().any(char::is_control) {
        return Err(FormError::BadEncoding);
    }
    Ok(text.into_owned())
}

/// At most the first `max` characters of `s`, for log lines and error messages.
pub(crate) fn clip(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// The OAuth parameters this provider knows: the only names an error message may repeat.
const KNOWN_PARAMS: &[&str] = &[
    "client_id",
    "client_secret",
    "code",
    "code_challenge",
    "code_challenge_method",
    "code_verifier",
    "grant_type",
    "redirect_uri",
    "refresh_token",
    "response_type",
    "scope",
    "state",
    "token",
    "token_type_hint",
    "transaction",
    "user",
    "decision",
];

/// `name` if it is a known parameter, else a neutral phrase: a name chosen by the sender is
/// never echoed.
pub(crate) fn param_label(name: &str) -> &'static str {
    KNOWN_PARAMS
        .iter()
        .copied()
        .find(|known| *known == name)
        .unwrap_or("a parameter")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(raw: &str, name: &str) -> Option<String> {
        unique(raw, 1000).expect("valid").get(name).cloned()
    }

    #[test]
    fn plus_is_a_space_and_escapes_are_decoded_once() {
        assert_eq!(value("state=x+y", "state").as_deref(), Some("x y"));
        assert_eq!(value("code=a%2Bb", "code").as_deref(), Some("a+b"));
        assert_eq!(value("state=%2541", "state").as_deref(), Some("%41"));
        assert_eq!(
            value("state=%C3%A9t%C3%A9", "state").as_deref(),
            Some("été")
        );
        assert_eq!(
            value("st%61te=1", "state").as_deref(),
            Some("1"),
            "names too"
        );
        assert_eq!(component("a%3Db%26c").as_deref(), Ok("a=b&c"));
    }

    #[test]
    fn empty_values_count_as_absent() {
        let params = unique("code=&flag&state=s&&=x", 1000).expect("valid");
        assert!(!params.contains_key("code"));
        assert!(!params.contains_key("flag"));
        assert_eq!(params.get("state").map(String::as_str), Some("s"));
        // `pairs` keeps them, in order.
        let all = pairs("code=&flag&state=s", 1000).expect("valid");
        let names: Vec<_> = all.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        assert_eq!(names, [("code", ""), ("flag", ""), ("state", "s")]);
    }

    #[test]
    fn repeated_names_are_refused_even_when_equal_or_empty() {
        for (raw, name) in [
            ("state=a&state=a", "state"),
            ("code=&code=x", "code"),
            ("a=1&b=2&a", "a"),
            ("st%61te=1&state=2", "state"),
        ] {
            assert_eq!(
                unique(raw, 1000),
                Err(FormError::Duplicate(name.into())),
                "{raw}"
            );
        }
        assert_eq!(
            unique(&format!("{0}=1&{0}=2", "n".repeat(100)), 1000),
            Err(FormError::Duplicate("n".repeat(40))),
            "the name is clipped"
        );
        // `pairs` reports them; its callers decide.
        assert_eq!(pairs("a=1&a=2", 100).map(|p| p.len()), Ok(2));
    }

    #[test]
    fn bad_escapes_invalid_utf8_and_controls_are_refused() {
        for raw in [
            "state=%zz",
            "state=%F",
            "state=%",
            "state=a%",
            "state=%%41",
            "state=%FF",
            "state=%C0%AF",
            "state=%ED%A0%80",
            "state=%0A",
            "state=a%0D%0Ab",
            "state=%1b[31m",
            "state=%00",
            "state=%7F",
            "state=%C2%85",
            "state=tab\there",
            "na%0Ame=x",
            "%zz=x",
        ] {
            assert_eq!(unique(raw, 1000), Err(FormError::BadEncoding), "{raw}");
            assert_eq!(pairs(raw, 1000), Err(FormError::BadEncoding), "{raw}");
        }
    }

    #[test]
    fn the_length_cap_is_exact_and_checked_before_decoding() {
        let at_limit = format!("a={}", "b".repeat(98));
        assert_eq!(at_limit.len(), 100);
        assert!(unique(&at_limit, 100).is_ok());
        assert_eq!(
            unique(&format!("{at_limit}b"), 100),
            Err(FormError::TooLong(100))
        );
        // Too long wins over a bad escape further on.
        assert_eq!(
            pairs(&format!("{at_limit}%zz"), 100),
            Err(FormError::TooLong(100))
        );
    }

    #[test]
    fn only_known_parameter_names_are_echoed() {
        assert_eq!(param_label("state"), "state");
        assert_eq!(param_label("<script>"), "a parameter");
        let err = FormError::Duplicate("\"<b>".into());
        assert_eq!(err.describe(), "a parameter is repeated");
        assert_eq!(
            FormError::Duplicate("code".into()).describe(),
            "code is repeated"
        );
        assert!(!FormError::BadEncoding.describe().contains('%'));
    }

    #[test]
    fn clip_counts_characters_not_bytes() {
        assert_eq!(clip("ééé", 2), "éé");
        assert_eq!(clip("ab", 40), "ab");
    }
}
