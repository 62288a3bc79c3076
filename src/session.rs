//! Typed access to what this app keeps in the server-side session. The browser holds only the
//! session id cookie; pending logins and tokens never leave the server (RFC 6749 §10.3).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, Weak},
};

use axum::{
    extract::{Request, State},
    middleware::Next,
    response::Response,
};
use rand::RngCore;
use serde::{Serialize, de::DeserializeOwned};
use tower_sessions::Session;

use crate::{
    error::AppError,
    oauth::{PendingLogins, TokenSet},
};

/// Started sign-ins waiting for their callback, keyed by `state`.
const PENDING: &str = "oauth.pending";
/// The tokens of a connected session (the store reads it too: it evicts only anonymous sessions).
pub(crate) const TOKENS: &str = "auth.tokens";
/// The per-session CSRF token for `POST /logout`.
const CSRF: &str = "csrf";

/// The pending logins (empty when none).
pub async fn pending_logins(session: &Session) -> Result<PendingLogins, AppError> {
    Ok(get(session, PENDING).await?.unwrap_or_default())
}

/// Replaces the pending logins and saves the session now. Saving explicitly matters twice:
/// tower-sessions skips the automatic save on 5xx responses (so a consumed state would come back
/// after a failed exchange), and a failed automatic save turns the response into an empty 500.
pub async fn store_pending_logins(
    session: &Session,
    logins: &PendingLogins,
) -> Result<(), AppError> {
    if logins.is_empty() {
        session
            .remove_value(PENDING)
            .await
            .map_err(AppError::session)?;
    } else {
        session
            .insert(PENDING, logins)
            .await
            .map_err(AppError::session)?;
    }
    session.save().await.map_err(AppError::session)
}

/// The tokens, if the session is connected.
pub async fn tokens(session: &Session) -> Result<Option<TokenSet>, AppError> {
    get(session, TOKENS).await
}

/// Stores the tokens of a completed sign-in.
pub async fn store_tokens(session: &Session, tokens: &TokenSet) -> Result<(), AppError> {
    session
        .insert(TOKENS, tokens)
        .await
        .map_err(AppError::session)?;
    session.save().await.map_err(AppError::session)
}

/// The session's CSRF token for state-changing forms, created on first use (256 random bits).
pub async fn csrf_token(session: &Session) -> Result<String, AppError> {
    if let Some(token) = get::<String>(session, CSRF).await? {
        return Ok(token);
    }
    let token = random_token();
    session
        .insert(CSRF, &token)
        .await
        .map_err(AppError::session)?;
    Ok(token)
}

/// Reads a value; a record that no longer deserializes (an older version's shape) counts as absent.
async fn get<T: DeserializeOwned + Serialize>(
    session: &Session,
    key: &str,
) -> Result<Option<T>, AppError> {
    match session.get::<T>(key).await {
        Ok(value) => Ok(value),
        Err(tower_sessions::session::Error::SerdeJson(err)) => {
            tracing::warn!(key, error = ?err.classify(), "ignoring a session value that no longer parses");
            Ok(None)
        }
        Err(err) => Err(AppError::session(err)),
    }
}

/// Forgets the tokens (the provider no longer accepts them) and saves the session.
pub async fn clear_tokens(session: &Session) -> Result<(), AppError> {
    session
        .remove_value(TOKENS)
        .await
        .map_err(AppError::session)?;
    // Saved now, like every other change here: the answer may be a 5xx, which tower-sessions
    // would not save.
    session.save().await.map_err(AppError::session)
}

/// The session's CSRF token if one was issued (never creates one).
pub async fn csrf_token_if_any(session: &Session) -> Result<Option<String>, AppError> {
    get(session, CSRF).await
}

/// Serializes the requests of one browser session (middleware, outside the session layer).
///
/// tower-sessions loads a record at the start of a request and saves the whole record at the end,
/// so two overlapping requests of one session would each save their own copy: a refresh could be
/// undone (the rotated refresh token replaced by the used one, RFC 6749 §6), or a logged-out
/// session brought back. Holding a per-session lock for the whole request, save included, rules
/// that out; it also makes the refresh single-flight. Requests without a session cookie, and
/// static assets, are not serialized. The lock is in-process: several instances behind a shared
/// store need the same lock in that store (e.g. Redis `SET NX PX`).
#[derive(Clone, Debug)]
pub struct SessionLocks {
    cookie_name: &'static str,
    locks: Arc<Mutex<HashMap<String, Weak<tokio::sync::Mutex<()>>>>>,
}

impl SessionLocks {
    pub fn new(cookie_name: &'static str) -> Self {
        Self {
            cookie_name,
            locks: Arc::default(),
        }
    }

    /// The middleware function.
    pub async fn serialize(State(this): State<Self>, request: Request, next: Next) -> Response {
        let key = (!request.uri().path().starts_with("/static/"))
            .then(|| cookie_value(request.headers(), this.cookie_name))
            .flatten()
            .map(str::to_owned);
        match key {
            None => next.run(request).await,
            Some(key) => {
                let lock = this.lock_for(&key);
                let _guard = lock.lock().await;
                next.run(request).await
            }
        }
    }

    fn lock_for(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self
            .locks
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(lock) = locks.get(key).and_then(Weak::upgrade) {
            return lock;
        }
        if locks.len() > 1024 {
            locks.retain(|_, lock| lock.strong_count() > 0);
        }
        let lock = Arc::new(tokio::sync::Mutex::new(()));
        locks.insert(key.to_owned(), Arc::downgrade(&lock));
        lock
    }
}

/// The value of cookie `name` in the request, if any.
pub fn cookie_value<'a>(headers: &'a http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(name)?.strip_prefix('='))
}

/// 256 random bits from the OS CSPRNG, base64url without padding (43 characters): far beyond the
/// 2^-128 guessing odds RFC 6749 §10.10 asks of anything secret.
pub fn random_token() -> String {
    use base64::Engine;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Ends the session after `idle` without a request (anonymous: the sign-in lifetime; connected:
/// `SESSION_IDLE_MINUTES`).
pub fn expire_after_inactivity(session: &Session, idle: std::time::Duration) {
    let idle = time::Duration::seconds(i64::try_from(idle.as_secs()).unwrap_or(i64::MAX));
    session.set_expiry(Some(tower_sessions::Expiry::OnInactivity(idle)));
}
