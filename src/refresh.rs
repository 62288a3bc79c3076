//! Keeps a session's access token usable: refresh it when it is (nearly) expired or the photos API
//! calls it invalid, exactly once per session even when several requests race (single-flight).
//!
//! The lock is per session id and in-process. With several instances sharing a Redis session
//! store, the same sequence works with the lock taken in Redis (`SET key NX PX`) instead: lock,
//! reload the session, refresh only if nobody else already did, save, unlock.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, Weak},
};

use tower_sessions::Session;

use crate::{
    error::AppError,
    oauth::{RefreshError, TokenSet},
    session,
    state::{AppState, now},
};

/// One async mutex per session that is refreshing right now; entries die with their last user.
#[derive(Debug, Default)]
pub struct RefreshLocks(Mutex<HashMap<String, Weak<tokio::sync::Mutex<()>>>>);

impl RefreshLocks {
    fn lock_for(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self
            .0
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

/// Returns usable tokens: `current` if it is fresh and not `force`d, else refreshed ones.
pub async fn fresh_tokens(
    state: &AppState,
    session: &Session,
    current: TokenSet,
    force: bool,
) -> Result<TokenSet, AppError> {
    if !force && !current.needs_refresh(now(), state.token_refresh_skew) {
        return Ok(current);
    }
    let key = session.id().map(|id| id.to_string()).unwrap_or_default();
    let lock = state.refresh_locks.lock_for(&key);
    let _guard = lock.lock().await;

    // Another request may have refreshed while this one waited: read the stored record again.
    // Using the old refresh token now would be reuse, which revokes the whole grant at providers
    // that rotate refresh tokens (RFC 9700 §4.14.2).
    session.load().await.map_err(AppError::session)?;
    let latest = session::tokens(session).await?.ok_or(AppError::Reconnect)?;
    if latest.access_token.secret() != current.access_token.secret() {
        return Ok(latest);
    }

    match state.oauth.refresh(&latest, now()).await {
        Ok(fresh) => {
            session::store_tokens(session, &fresh).await?;
            tracing::info!(refreshed = fresh.refreshed, "access token refreshed");
            Ok(fresh)
        }
        Err(RefreshError::Fatal(reason)) => {
            // The grant is gone: forget the tokens so the home page offers to connect again.
            tracing::warn!(reason = ?reason, "refresh refused; tokens cleared");
            session::clear_tokens(session).await?;
            session.save().await.map_err(AppError::session)?;
            Err(AppError::Reconnect)
        }
        Err(RefreshError::Transient(err)) => Err(AppError::RefreshUnavailable(err)),
    }
}
