//! `GET /photos`: the connected visitor's photos, fetched with their access token, which is
//! refreshed when it is (nearly) expired or the photos API calls it invalid.

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::{Extension, Router, extract::State, routing::get};

use crate::{
    error::{AppError, Result},
    oauth::{RefreshError, TokenSet},
    photos_api::{self, Photo, PhotosError},
    routes::method_not_allowed,
    session::{AppSession, Connected},
    state::{AppState, now},
    telemetry::Outcome,
};

pub fn router() -> Router<AppState> {
    Router::new().route("/photos", get(show_photos).head(method_not_allowed))
}

#[derive(Template, WebTemplate)]
#[template(path = "photos.html")]
struct PhotosPage {
    provider_name: Arc<str>,
    photos: Vec<Photo>,
    csrf_token: String,
    /// "expires in 59 minutes", when the provider said.
    token_lifetime: Option<String>,
    /// How many times the access token was refreshed.
    refreshed: u32,
}

/// Why a refresh is attempted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RefreshReason {
    /// The access token expires within `TOKEN_REFRESH_SKEW_SECS` (or has expired).
    Expiring,
    /// The photos API answered 401: the token is dead before its time (RFC 6750 §3.1).
    Rejected,
}

/// Shows the photos. An access token that is (nearly) expired is refreshed first; one the API
/// rejects with 401 is refreshed once and the call retried once (RFC 6750 §3.1), never more. A 403
/// `insufficient_scope` is not a refresh case: a new token would have the same scope.
async fn show_photos(
    State(state): State<AppState>,
    Connected { session, tokens }: Connected,
) -> Result<(Extension<Outcome>, PhotosPage)> {
    let mut tokens = tokens;
    let mut refreshed = Vec::new();
    if tokens.needs_refresh(now(), state.token_refresh_skew) {
        tokens = refresh(&state, &session, &tokens, RefreshReason::Expiring).await?;
        refreshed.push(RefreshReason::Expiring);
    }
    let api = &state.photos_api_url;
    let photos = match photos_api::fetch_photos(&state.http, api, &tokens.access_token).await {
        Err(PhotosError::InvalidToken) if tokens.refresh_token.is_some() => {
            tokens = refresh(&state, &session, &tokens, RefreshReason::Rejected).await?;
            refreshed.push(RefreshReason::Rejected);
            photos_api::fetch_photos(&state.http, api, &tokens.access_token).await
        }
        first => first,
    };
    let photos = match photos {
        Ok(photos) => photos,
        // A token the API still rejects is dead (expired or revoked): forget it, so the home
        // page offers to connect again. Other errors keep the tokens.
        Err(PhotosError::InvalidToken) => {
            session.forget_tokens().await?;
            return Err(PhotosError::InvalidToken.into());
        }
        Err(err) => return Err(err.into()),
    };
    let outcome = match refreshed.as_slice() {
        [] => format!("{} photos", photos.len()),
        reasons => format!(
            "{} photos; access token refreshed ({reasons:?})",
            photos.len()
        ),
    };
    let page = PhotosPage {
        provider_name: state.provider_name.clone(),
        photos,
        csrf_token: session.logout_token().await?,
        token_lifetime: tokens.expires_at.map(|at| describe_lifetime(at - now())),
        refreshed: tokens.refreshed,
    };
    Ok((Extension(Outcome(outcome)), page))
}

/// Refreshes the tokens and stores the result. Single-flight comes from the session lock: the
/// requests of one session run one at a time, so the next one finds the refreshed tokens
/// instead of refreshing again with a refresh token already rotated away (RFC 9700 §4.14.2).
async fn refresh(
    state: &AppState,
    session: &AppSession,
    current: &TokenSet,
    reason: RefreshReason,
) -> Result<TokenSet> {
    tracing::debug!(?reason, "refreshing the access token");
    match state.oauth.refresh(current, now()).await {
        Ok(fresh) => {
            session.update_tokens(&fresh).await?;
            Ok(fresh)
        }
        Err(RefreshError::Fatal(why)) => {
            // The grant is gone: forget the tokens so the home page offers to connect again.
            session.forget_tokens().await?;
            Err(AppError::Reconnect(why))
        }
        Err(RefreshError::Transient(err)) => Err(AppError::RefreshUnavailable(err)),
    }
}

/// "expires in 5 minutes" / "has expired".
fn describe_lifetime(seconds: i64) -> String {
    match seconds {
        s if s <= 0 => "has expired".into(),
        1 => "expires in 1 second".into(),
        s if s < 120 => format!("expires in {s} seconds"),
        s if s < 7200 => format!("expires in {} minutes", s / 60),
        s => format!("expires in {} hours", s / 3600),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn lifetimes_read_naturally() {
        assert_eq!(super::describe_lifetime(-5), "has expired");
        assert_eq!(super::describe_lifetime(0), "has expired");
        assert_eq!(super::describe_lifetime(1), "expires in 1 second");
        assert_eq!(super::describe_lifetime(30), "expires in 30 seconds");
        assert_eq!(super::describe_lifetime(119), "expires in 119 seconds");
        assert_eq!(super::describe_lifetime(120), "expires in 2 minutes");
        assert_eq!(super::describe_lifetime(3599), "expires in 59 minutes");
        assert_eq!(super::describe_lifetime(7199), "expires in 119 minutes");
        assert_eq!(super::describe_lifetime(7200), "expires in 2 hours");
        assert_eq!(super::describe_lifetime(36_000), "expires in 10 hours");
    }
}
