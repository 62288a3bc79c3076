//! The hooks without the `inspector` cargo feature: nothing is recorded or kept, and `/flow`
//! answers that the inspector is off. Same signatures as the recording hooks.

use std::{future::Future, time::Duration};

use axum::{Router, routing::get};
use tower_sessions::session::Id;

use crate::{
    oauth::{Callback, PendingLogin},
    session::{AppSession, SessionError},
    web::{error::AppError, state::AppState},
};

/// `/flow`: the inspector is not built into this app.
pub fn router() -> Router<AppState> {
    Router::new().route("/flow", get(|| async { AppError::InspectorOff }))
}

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
    Ok(false)
}

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
