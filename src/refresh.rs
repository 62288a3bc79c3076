//! Keeps a session's access token usable: refresh it when it is (nearly) expired or the photos API
//! calls it invalid, exactly once per session even when several requests race (single-flight).
//!
//! The lock ([`crate::session::SessionLocks`]) is per session id and in-process. With several instances sharing a Redis session
//! store, the same sequence works with the lock taken in Redis (`SET key NX PX`) instead: lock,
//! reload the session, refresh only if nobody else already did, save, unlock.

use tower_sessions::Session;

use crate::{
    error::AppError,
    oauth::{RefreshError, TokenSet},
    session,
    state::{AppState, now},
};

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
    // The lock reloads the record: another request may have refreshed while this one waited.
    // Using the old refresh token now would be reuse, which revokes the whole grant at providers
    // that rotate refresh tokens (RFC 9700 §4.14.2).
    let _guard = state.session_locks.lock(session).await?;
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
