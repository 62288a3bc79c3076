//! The hooks with no recording wing: nothing is recorded or kept. Same signatures as the
//! recording hooks.
//! Without the `inspector` cargo feature, `/flow` answers that the inspector is off. // INSPECTOR

use std::{future::Future, time::Duration};

use tower_sessions::session::Id;

use crate::{
    oauth::{Callback, PendingLogin},
    session::{AppSession, SessionError},
    web::state::AppState,
};

/// `/flow`: the inspector is not built into this app. // INSPECTOR
pub fn router() -> axum::Router<AppState> {
    // INSPECTOR
    let off = || async { crate::web::error::AppError::InspectorOff }; // INSPECTOR
    axum::Router::new().route("/flow", axum::routing::get(off)) // INSPECTOR
} // INSPECTOR

pub struct Recording;

impl Recording {
    pub fn start(_: &AppState) -> Self {
        Self
    }

    pub fn run<F: Future>(&self, future: F) -> F {
        future
    }

    pub fn unanswered_revocation(&self, _hint: &str, _why: &str) {}

    pub async fn append_to(self, _: &AppState, _: Id) {}

    pub async fn keep_push(
        self,
        _: &AppSession,
        _login_state: &str,
        _target: Option<&url::Url>,
    ) -> Result<(), SessionError> {
        Ok(())
    }

    pub async fn end(self, session: &AppSession, _ttl: Duration) -> Result<(), SessionError> {
        session.end().await
    }
}

pub async fn has_flow(_: &AppState, _: &AppSession) -> Result<bool, SessionError> {
    // INSPECTOR
    Ok(false) // INSPECTOR
} // INSPECTOR

pub struct SignIn;

impl SignIn {
    pub async fn start(
        _: &AppState,
        _: &AppSession,
        _: &PendingLogin,
        _: &Callback,
    ) -> Result<Self, SessionError> {
        Ok(Self)
    }

    pub fn join(&mut self, _: Recording) {}

    pub async fn keep(&self, _: &AppSession) {}

    pub async fn stage(&self, _: &AppSession) -> Result<(), SessionError> {
        Ok(())
    }
}
