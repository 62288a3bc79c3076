//! Keeps a session's access token usable: refresh it when it is (nearly) expired or the photos API
//! calls it invalid. Single-flight comes from [`crate::session::SessionLocks`]: the requests of one
//! session run one at a time, so the next one finds the refreshed tokens instead of refreshing
//! again with a refresh token that was already rotated away (RFC 9700 §4.14.2).

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
    match state.oauth.refresh(&current, now()).await {
        Ok(fresh) => {
            session::store_tokens(session, &fresh).await?;
            tracing::info!(refreshed = fresh.refreshed, "access token refreshed");
            Ok(fresh)
        }
        Err(RefreshError::Fatal(reason)) => {
            // The grant is gone: forget the tokens so the home page offers to connect again.
            tracing::warn!(reason = ?reason, "refresh refused; tokens cleared");
            session::clear_tokens(session).await?;
            Err(AppError::Reconnect)
        }
        Err(RefreshError::Transient(err)) => Err(AppError::RefreshUnavailable(err)),
    }
}
