//! The flow inspector's record: what one browser's most recent sign-in really sent and received,
//! step by step, kept in that browser's session and bounded in size. `/flow` shows it.
//!
//! A wing (cargo feature `inspector`): `web::inspect` calls it, nothing below the web floor
//! knows it. Recording is off unless `FLOW_INSPECTOR` is on; off, nothing here runs: no tape
//! is made and the outbound calls go straight through, with no allocation. Everything kept is masked as it is recorded
//! ([`mask`]): no client secret, and codes, verifiers and tokens only as a prefix and a length.

mod curl;
pub mod export;
mod glossary;
pub mod mask;
pub mod record;
pub mod steps;
mod tape;
pub mod view;

use serde::{Deserialize, Serialize};

pub use tape::{Tape, recording};

/// Most steps after the sign-in's first three (authorize, callback, token) kept per session; the
/// oldest go first, and their number is kept in [`FlowLog::dropped`].
pub const MAX_LATER_STEPS: usize = 12;

/// One sign-in, as it happened: in the session under its own key, replaced by the next sign-in.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct FlowLog {
    pub steps: Vec<Step>,
    /// Later steps no longer kept (see [`MAX_LATER_STEPS`]).
    #[serde(default)]
    pub dropped: u32,
    /// Set at logout: after this Unix second the record is no longer shown (it then lives in
    /// the anonymous session that follows, for the revocations to be seen, not for good).
    #[serde(default)]
    pub kept_until: Option<i64>,
}

impl FlowLog {
    /// Adds steps, dropping the oldest later ones beyond [`MAX_LATER_STEPS`].
    pub fn extend(&mut self, steps: impl IntoIterator<Item = Step>) {
        self.steps.extend(steps);
        let first = self
            .steps
            .iter()
            .take_while(|s| s.kind.is_sign_in())
            .count();
        let later = self.steps.len() - first;
        if later > MAX_LATER_STEPS {
            let excess = later - MAX_LATER_STEPS;
            self.steps.drain(first..first + excess);
            self.dropped = self
                .dropped
                .saturating_add(u32::try_from(excess).unwrap_or(u32::MAX));
        }
    }
}

/// What a step was.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    /// The Connect link: the authorization request the browser carried to the provider.
    Authorize,
    /// With PAR: the authorization request pushed over the back channel (RFC 9126).
    Push,
    /// The provider's answer, brought back by the browser to `/cb`.
    Callback,
    /// The code exchanged for tokens.
    Token,
    /// A refresh because the access token was (nearly) expired.
    RefreshExpiring,
    /// A refresh because the photos API answered 401.
    RefreshRejected,
    /// A call to the photos API.
    Photos,
    /// Logout: the refresh token revoked.
    RevokeRefresh,
    /// Logout: the access token revoked.
    RevokeAccess,
}

impl StepKind {
    /// The steps of the sign-in itself, recorded by the time `/cb` is done.
    pub fn is_sign_in(self) -> bool {
        matches!(
            self,
            Self::Authorize | Self::Push | Self::Callback | Self::Token
        )
    }
}

/// One step: when, what it carried, what was checked, and the HTTP exchange if the app made one.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Step {
    pub kind: StepKind,
    /// Unix milliseconds when it happened.
    pub at_ms: i64,
    /// Parameters in order (already masked where secret).
    #[serde(default)]
    pub params: Vec<Param>,
    /// The checks the app made, each with its outcome.
    #[serde(default)]
    pub checks: Vec<Check>,
    #[serde(default)]
    pub exchange: Option<Exchange>,
}

impl Step {
    pub fn new(kind: StepKind) -> Self {
        Self {
            kind,
            at_ms: crate::clock::now_ms(),
            params: Vec::new(),
            checks: Vec::new(),
            exchange: None,
        }
    }

    /// Adds a parameter shown as is (a value that is not secret).
    pub fn param(mut self, name: &str, value: &str) -> Self {
        self.params.push(Param {
            name: name.into(),
            value: mask::shown(value, mask::MAX_VALUE_CHARS),
            masked: false,
        });
        self
    }

    /// Adds a secret parameter: only its prefix and length are kept.
    pub fn secret(mut self, name: &str, value: &str) -> Self {
        self.params.push(Param {
            name: name.into(),
            value: mask::masked(value),
            masked: true,
        });
        self
    }

    /// Adds a check and its outcome. `what` is the app's own text, never outside input.
    pub fn check(mut self, what: &str, ok: bool) -> Self {
        self.checks.push(Check {
            what: what.into(),
            ok,
        });
        self
    }
}

/// A parameter of a step.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Param {
    pub name: String,
    pub value: String,
    /// Whether `value` is a masked secret.
    #[serde(default)]
    pub masked: bool,
}

/// A check the app made at this step.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Check {
    pub what: String,
    pub ok: bool,
}

/// An HTTP request the app made and what came back, masked.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Exchange {
    pub method: String,
    pub url: String,
    pub request_headers: Vec<(String, String)>,
    /// The form body's fields, in order.
    pub request_form: Vec<(String, String)>,
    /// `None` when no answer came (timeout, refused connection).
    pub status: Option<u16>,
    pub response_headers: Vec<(String, String)>,
    /// The body, pretty-printed if JSON, tokens masked, bounded.
    pub response_body: Option<String>,
    /// Why the call failed, when it did (the same category the log line names).
    pub error: Option<String>,
    /// How long it took, in microseconds.
    pub micros: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log_with(later: usize) -> FlowLog {
        let mut log = FlowLog::default();
        log.extend([StepKind::Authorize, StepKind::Callback, StepKind::Token].map(Step::new));
        log.extend((0..later).map(|_| Step::new(StepKind::Photos)));
        log
    }

    #[test]
    fn later_steps_are_bounded_and_the_sign_in_is_kept() {
        let log = log_with(MAX_LATER_STEPS);
        assert_eq!(log.steps.len(), 3 + MAX_LATER_STEPS);
        assert_eq!(log.dropped, 0, "the cap itself is kept whole");

        let mut log = log_with(MAX_LATER_STEPS + 1);
        assert_eq!(log.steps.len(), 3 + MAX_LATER_STEPS);
        assert_eq!(log.dropped, 1);
        log.extend([Step::new(StepKind::RevokeAccess)]);
        assert_eq!(log.dropped, 2);
        let kinds: Vec<_> = log.steps.iter().map(|s| s.kind).collect();
        assert_eq!(
            &kinds[..3],
            &[StepKind::Authorize, StepKind::Callback, StepKind::Token]
        );
        assert_eq!(kinds.last(), Some(&StepKind::RevokeAccess), "newest kept");
    }

    #[test]
    fn secret_params_keep_only_a_prefix_and_length() {
        let token = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcde";
        let step = Step::new(StepKind::Callback)
            .secret("code", token)
            .param("state", "s");
        assert!(step.params[0].masked);
        assert!(!step.params[0].value.contains(&token[..10]));
        assert!(step.params[0].value.contains("43 characters"));
        assert_eq!(step.params[1].value, "s");
    }
}
