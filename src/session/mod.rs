//! The typed session: what this app keeps server-side for one browser, behind methods that load,
//! change and save in one call. The browser holds only the session id cookie; pending logins and
//! tokens never leave the server (RFC 6749 §10.3).
//!
//! [`Sessions`] changes a session's tokens outside the request's copy, under the session's lock:
//! the refresh (in a task that outlives the request), forgetting dead tokens.
//!
//! Skip on first read: [`lock`] (one request per session at a time), [`store`] (the bounded
//! in-memory store) and [`redis`] (the shared store).

pub mod at_rest;
mod backchannel;
mod error;
pub mod lock;
mod logout;
pub mod logout_index;
pub mod redis;
mod save_once;
pub mod sealed_store;
pub mod store;
mod stored;
mod tokens;
mod values;

use std::{sync::Arc, time::Duration};

use serde::{Serialize, de::DeserializeOwned};
use subtle::ConstantTimeEq;
use tower_sessions::{
    Expiry, Session, SessionStore,
    session::{Id, Record},
};

use crate::{
    oauth::{LoginLookup, PendingLogin, PendingLogins, TokenSet},
    random::random_token,
};

pub use backchannel::BackChannelLogout;
pub use error::SessionError;
use save_once::mark_saved;
pub(crate) use save_once::save_once;
use stored::StoredSession;
pub use tokens::{RefreshFailed, Sessions};

/// Started sign-ins waiting for their callback, keyed by `state`.
const PENDING: &str = "oauth.pending";
/// The tokens of a connected session.
const TOKENS: &str = "auth.tokens";
/// The per-session CSRF token of the logout form.
const LOGOUT_TOKEN: &str = "csrf";
/// When a connected session's idle limit was last pushed back (unix seconds): the sign-in, or
/// the last renewal.
const RENEWED: &str = "renewed";
/// How long an anonymous session outlives its newest pending login.
const EXPIRED_GRACE: Duration = Duration::from_secs(60);

/// One browser's session. Every change is saved before the method returns: tower-sessions
/// skips its automatic save on 5xx responses (a consumed state would come back after a failed
/// exchange), and a failed automatic save turns the response into an empty 500.
#[derive(Clone, Debug)]
pub struct AppSession(Session);

impl AppSession {
    /// The typed view of the request's session (the web floor's extractor makes it).
    pub fn new(session: Session) -> Self {
        Self(session)
    }

    /// Keeps a started sign-in. An anonymous session lives only as long as its sign-in may take
    /// (plus a minute, so a late callback hears "expired", not "not started here"), so drive-by
    /// visits do not pile up in the store.
    pub async fn begin_login(
        &self,
        login: PendingLogin,
        ttl: Duration,
    ) -> Result<(), SessionError> {
        let mut logins = self.pending_logins().await?;
        logins.push(login);
        self.expire_after(ttl + EXPIRED_GRACE);
        self.insert(PENDING, &logins).await?;
        self.save().await?;
        crate::metrics::sign_in_started();
        Ok(())
    }

    /// Consumes the pending login named by `state` if `accept` holds (see
    /// [`PendingLogins::take`]), and saves that before returning, so the state is single-use
    /// even when what follows fails (RFC 9700 §4.2.4).
    pub async fn take_login(
        &self,
        state: &str,
        now: i64,
        ttl: Duration,
        accept: impl FnOnce() -> bool,
    ) -> Result<LoginLookup, SessionError> {
        let mut logins = self.pending_logins().await?;
        let before = logins.len();
        let lookup = logins.take(state, now, ttl, accept);
        if logins.len() != before {
            mark_saved(false);
            if logins.is_empty() {
                self.0
                    .remove_value(PENDING)
                    .await
                    .map_err(SessionError::from)?;
            } else {
                self.insert(PENDING, &logins).await?;
            }
            self.save().await?;
        }
        Ok(lookup)
    }

    /// Connects the session: a new session id at the privilege change, so a planted id is
    /// worthless (session fixation), the connected idle limit, the tokens and the logout token
    /// (made now, so the photos page only ever reads the session), saved at once with whatever
    /// was staged ([`AppSession::stage_value`]).
    pub async fn connect(&self, tokens: &TokenSet, idle: Duration) -> Result<(), SessionError> {
        mark_saved(false);
        self.0.cycle_id().await.map_err(SessionError::from)?;
        self.expire_after(idle);
        self.insert(LOGOUT_TOKEN, &random_token()).await?;
        self.insert(RENEWED, &crate::clock::now()).await?;
        self.update_tokens(tokens).await
    }

    /// Whether a connected visitor's idle limit is due to be pushed back: half of it has gone
    /// since the sign-in or the last renewal. Reading never pushes it back (a read-only page
    /// writes nothing, so it cannot undo a parallel change), so pages ask, and renew under the
    /// session's lock.
    pub async fn renewal_due(&self, idle: Duration) -> Result<bool, SessionError> {
        let half = i64::try_from(idle.as_secs() / 2).unwrap_or(i64::MAX).max(1);
        let renewed: Option<i64> = self.get(RENEWED).await?;
        Ok(renewed.is_none_or(|at| crate::clock::now() - at >= half))
    }

    /// Pushes the idle limit back to `idle` from now: the record's expiry and, with the save,
    /// the cookie's `Max-Age`. Call it under the session's lock (a locked route).
    pub async fn renew(&self, idle: Duration) -> Result<(), SessionError> {
        self.expire_after(idle);
        self.insert(RENEWED, &crate::clock::now()).await?;
        self.save().await
    }

    /// The session's id, when it has one in the store.
    pub fn id(&self) -> Option<Id> {
        self.0.id()
    }

    /// The logout token if one was made (never creates one, so the session is not changed).
    pub async fn logout_token_if_any(&self) -> Result<Option<String>, SessionError> {
        self.get(LOGOUT_TOKEN).await
    }

    /// The tokens, if the session is connected.
    pub async fn tokens(&self) -> Result<Option<TokenSet>, SessionError> {
        let value = self.0.get_value(TOKENS).await.map_err(SessionError::from)?;
        Ok(value.and_then(tokens_from))
    }

    /// Replaces the tokens (after a refresh).
    pub async fn update_tokens(&self, tokens: &TokenSet) -> Result<(), SessionError> {
        mark_saved(false);
        let value = tokens_value(tokens)?;
        self.0
            .insert_value(TOKENS, value)
            .await
            .map_err(SessionError::from)?;
        self.save().await
    }

    /// The logout form's CSRF token, created on first use (256 random bits).
    pub async fn logout_token(&self) -> Result<String, SessionError> {
        if let Some(token) = self.get::<String>(LOGOUT_TOKEN).await? {
            return Ok(token);
        }
        let token = random_token();
        self.insert(LOGOUT_TOKEN, &token).await?;
        // Saved now: a failed save at the end of the request would be tower-sessions' empty 500.
        self.save().await?;
        Ok(token)
    }

    /// Whether `sent` is this session's logout token (constant-time; never true without one).
    pub async fn logout_token_matches(&self, sent: &str) -> Result<bool, SessionError> {
        let expected = self.get::<String>(LOGOUT_TOKEN).await?.unwrap_or_default();
        Ok(!expected.is_empty() && bool::from(expected.as_bytes().ct_eq(sent.as_bytes())))
    }

    /// Ends the session: deletes the record from the store and expires the cookie.
    pub async fn end(&self) -> Result<(), SessionError> {
        self.0.flush().await.map_err(SessionError::from)
    }

    /// Ends the session but keeps `value` under `key` for `ttl` in a new anonymous session (new
    /// id, no tokens, nothing else): a wing's record of the sign-in can show the logout so.
    #[allow(
        dead_code,
        reason = "a seam for wings: unused when no wing keeps a value"
    )]
    pub async fn end_keeping(
        &self,
        key: &'static str,
        value: &impl Serialize,
        ttl: Duration,
    ) -> Result<(), SessionError> {
        // Not `flush`: a record saved after it would be created again under the old id.
        mark_saved(false);
        self.0.clear().await;
        self.0.cycle_id().await.map_err(SessionError::from)?;
        self.expire_after(ttl);
        if self.keep_value(key, value).await.is_err() {
            // A full store may refuse the new record: the logout still happens, without it.
            return self.end().await;
        }
        Ok(())
    }

    async fn pending_logins(&self) -> Result<PendingLogins, SessionError> {
        Ok(self.get(PENDING).await?.unwrap_or_default())
    }

    /// Ends the session after `idle` without a request.
    fn expire_after(&self, idle: Duration) {
        mark_saved(false);
        let idle = crate::clock::to_time(idle);
        self.0.set_expiry(Some(Expiry::OnInactivity(idle)));
    }

    /// Reads a value; one that no longer deserializes (an older version's shape) counts as absent.
    async fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, SessionError> {
        match self.0.get::<T>(key).await {
            Ok(value) => Ok(value),
            Err(tower_sessions::session::Error::SerdeJson(err)) => {
                tracing::warn!(key, error = ?err.classify(), "ignoring a session value that no longer parses");
                Ok(None)
            }
            Err(err) => Err(SessionError::from(err)),
        }
    }

    async fn insert(&self, key: &str, value: &impl Serialize) -> Result<(), SessionError> {
        mark_saved(false);
        self.0.insert(key, value).await.map_err(SessionError::from)
    }

    async fn save(&self) -> Result<(), SessionError> {
        self.0.save().await.map_err(SessionError::from)?;
        mark_saved(true);
        Ok(())
    }
}

/// The tokens as a record keeps them: one JSON string, so each copy of the record (every load
/// from the memory store, every read of the value) is one allocation, not one per field
/// (BENCHMARKS.md, round 3).
fn tokens_value(tokens: &TokenSet) -> Result<serde_json::Value, SessionError> {
    serde_json::to_string(tokens)
        .map(serde_json::Value::String)
        .map_err(SessionError::store)
}

/// The tokens a record keeps (as an object in records of earlier versions); unreadable ones
/// count as absent: the visitor connects again.
fn tokens_from(value: serde_json::Value) -> Option<TokenSet> {
    let tokens = match value {
        serde_json::Value::String(json) => serde_json::from_str(&json),
        older => serde_json::from_value(older),
    };
    match tokens {
        Ok(tokens) => Some(tokens),
        Err(err) => {
            tracing::warn!(error = ?err.classify(), "ignoring stored tokens that no longer parse");
            None
        }
    }
}

/// The session layer: the cookie and the store. The cookie holds only the session id.
pub fn layer(
    store: Arc<dyn SessionStore>,
    cookie_name: &'static str,
    https: bool,
    idle: Duration,
) -> tower_sessions::SessionManagerLayer<store::AnyStore> {
    tower_sessions::SessionManagerLayer::new(store::AnyStore(store))
        .with_name(cookie_name)
        // Lax, not tower-sessions' default Strict: the return from the provider to /cb is a
        // cross-site navigation, and a Strict cookie would not be sent with it, so every real
        // sign-in would fail its state check. Lax still withholds it from cross-site POSTs and
        // subresources.
        .with_same_site(tower_sessions::cookie::SameSite::Lax)
        .with_secure(https)
        .with_http_only(true)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(crate::clock::to_time(idle)))
}

/// Keeps only the session's own values (pending logins, tokens, the logout token, the last
/// renewal): what a memory store under pressure drops first is the wings' (a wing's record of
/// a sign-in).
pub fn drop_wing_values(record: &mut Record) {
    record.data.retain(|key, _| {
        matches!(
            key.as_str(),
            PENDING | TOKENS | LOGOUT_TOKEN | RENEWED | logout::LOGOUT_STATE
        )
    });
}

/// Whether a stored record is anonymous (not connected): the only kind a full store may evict.
pub fn is_anonymous(record: &Record) -> bool {
    !record.data.contains_key(TOKENS)
}

#[cfg(test)]
mod tests;

/// A real `redis-server` for the unit tests of the lock and the sealed store (the harness the
/// scale-out tests use; it says why it skips without one, and fails under `CI=true`).
#[cfg(test)]
#[allow(dead_code)] // the scale-out tests use all of it; these tests, a part
#[path = "../../tests/support/redis.rs"]
mod redis_server;
