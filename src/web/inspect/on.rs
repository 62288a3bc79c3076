//! The hooks, recording: each request's outbound calls go on a tape (the outbound observer),
//! and the sign-in's record lives in the visitor's session (`inspector::record`).

use std::{future::Future, sync::Arc, time::Duration};

use axum::Router;
use tower_sessions::session::Id;

use crate::{
    clock::{now, seconds},
    inspector::{
        FlowLog, Step, StepKind, Tape, record, recording,
        steps::{self, CallbackChecks},
    },
    oauth::{Callback, PendingLogin},
    session::{AppSession, SessionError},
    web::state::AppState,
};

/// The `/flow` page.
pub fn router() -> Router<AppState> {
    super::page::router()
}

/// One request's recording: a tape when the inspector is on (`FLOW_INSPECTOR`), else nothing
/// allocated and nothing recorded.
pub struct Recording(Option<Arc<Tape>>);

impl Recording {
    pub fn start(state: &AppState) -> Self {
        Self(state.settings.inspector.then(Default::default))
    }

    /// Runs `future` with its outbound calls recorded.
    pub fn run<F: Future>(&self, future: F) -> impl Future<Output = F::Output> {
        recording(self.0.as_ref(), future)
    }

    /// A revocation given up on after `why` (its request never finished).
    pub fn unanswered_revocation(&self, hint: &str, why: &str) {
        let Some(tape) = &self.0 else {
            return;
        };
        let kind = match hint {
            "refresh_token" => StepKind::RevokeRefresh,
            _ => StepKind::RevokeAccess,
        };
        let mut step = Step::new(kind);
        step.exchange = Some(crate::inspector::Exchange {
            method: "POST".into(),
            error: Some(why.into()),
            ..Default::default()
        });
        tape.push(step);
    }

    /// Adds this request's steps to session `id`'s record. Best effort: the page is what the
    /// visitor came for.
    pub async fn append_to(self, state: &AppState, id: Id) {
        let Some(steps) = self.0.map(|t| t.take()).filter(|s| !s.is_empty()) else {
            return;
        };
        if let Err(err) = record::append(&state.sessions, id, steps).await {
            tracing::debug!(error = %err, "the flow inspector's record was not updated");
        }
    }

    /// With PAR: keeps the push's step, with the `request_uri` it got and the check it stands
    /// for, for the sign-in named by `login_state`.
    pub async fn keep_push(
        self,
        session: &AppSession,
        login_state: &str,
        target: Option<&url::Url>,
    ) -> Result<(), SessionError> {
        let Some(mut step) = self.0.and_then(|t| t.take().pop()) else {
            return Ok(());
        };
        if let Some(target) = target {
            let request_uri = target
                .query_pairs()
                .find(|(name, _)| name == "request_uri")
                .map(|(_, value)| value.into_owned())
                .unwrap_or_default();
            step = step.param("request_uri", &request_uri).check(
                "the browser carries only client_id and request_uri; the parameters went over the back channel (RFC 9126 §4)",
                true,
            );
        }
        record::keep_push(session, login_state, step).await
    }

    /// Logout: the revocations join the record, which outlives the connected session in a
    /// fresh anonymous one (no tokens, new id) for `ttl`, so `/flow` can show them; without a
    /// record the session simply ends.
    pub async fn end(self, session: &AppSession, ttl: Duration) -> Result<(), SessionError> {
        let flow = match self.0 {
            Some(tape) => record::flow(session).await?.map(|mut flow| {
                flow.extend(tape.take());
                flow.kept_until = Some(now().saturating_add(seconds(ttl)));
                flow
            }),
            None => None,
        };
        match flow {
            Some(flow) => record::end_keeping(session, &flow, ttl).await,
            None => session.end().await,
        }
    }
}

/// Whether this browser has a record to show (read only when the inspector is on).
pub async fn has_flow(state: &AppState, session: &AppSession) -> Result<bool, SessionError> {
    Ok(state.settings.inspector && record::has_flow(session).await?)
}

/// The record of one sign-in, from its callback on.
pub struct SignIn(Option<FlowLog>);

impl SignIn {
    /// The first steps, taken before the code and verifier are spent: the authorization
    /// request rebuilt from the pending sign-in, the push (with PAR), and the callback with the
    /// checks it passed.
    pub async fn start(
        state: &AppState,
        session: &AppSession,
        pending: &PendingLogin,
        callback: &Callback,
    ) -> Result<Self, SessionError> {
        if !state.settings.inspector {
            return Ok(Self(None));
        }
        let (code, callback_state, iss) = match callback {
            Callback::Code { code, state, iss } => {
                (Some(code.secret().as_str()), state.as_str(), iss)
            }
            Callback::Error { state, iss, .. } => (None, state.as_deref().unwrap_or_default(), iss),
        };
        let pushed = record::pushed_step(session, callback_state).await?;
        let checks = CallbackChecks {
            expected_issuer: state.oauth.expected_issuer().map(str::to_owned),
            age_secs: now().saturating_sub(pending.created_at),
            ttl_secs: state.settings.pending_login_ttl.as_secs(),
        };
        let mut answer = steps::callback(code, callback_state, iss.as_deref(), &checks);
        if let Callback::Error { error, .. } = callback {
            answer = answer.param("error", error);
        }
        let url = state.oauth.authorize_url_of(pending);
        let started_ms = pending.created_at.saturating_mul(1000);
        let mut flow = FlowLog::default();
        flow.extend([steps::authorize(
            &url,
            pending.verifier.secret(),
            started_ms,
        )]);
        flow.extend(pushed);
        flow.extend([answer]);
        Ok(Self(Some(flow)))
    }

    /// Adds the token request `recording` recorded.
    pub fn join(&mut self, recording: Recording) {
        if let (Some(flow), Some(tape)) = (self.0.as_mut(), recording.0) {
            flow.extend(tape.take());
        }
    }

    /// Keeps the record of a sign-in that ended without connecting. Best effort: the sign-in's
    /// own error is what the visitor needs to see, not a failure to keep its record.
    pub async fn keep(&self, session: &AppSession) {
        let Some(flow) = &self.0 else {
            return;
        };
        if let Err(err) = record::keep(session, flow).await {
            tracing::debug!(error = %err, "the flow inspector's record was not saved");
        }
    }

    /// Stages the record of a sign-in that connects: saved with the connected session.
    pub async fn stage(&self, session: &AppSession) -> Result<(), SessionError> {
        match &self.0 {
            Some(flow) => record::stage(session, flow).await,
            None => Ok(()),
        }
    }
}
