//! `GET /photos`: the connected visitor's photos, fetched with their access token, which is
//! refreshed when it is (nearly) expired or the photos API calls it invalid.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Extension, Router,
    extract::State,
    response::{IntoResponse, Redirect, Response},
    routing::get,
};

use tower_sessions::session::Id;

use crate::{
    clock::now,
    oauth::{TokenSet, tokens::TokenType},
    photos_api::{self, Credential, Photo, PhotosError},
    telemetry::Outcome,
    web::{
        error::{AppError, Result},
        extract::Connected,
        inspect::Recording,
        routes::method_not_allowed,
        state::{AppState, ProviderName},
    },
};

pub fn router() -> Router<AppState> {
    Router::new().route("/photos", get(show_photos).head(method_not_allowed))
}

/// Where `/photos` sends a visitor whose idle limit is due to be pushed back: a locked route
/// ([`super::renew`]) that renews it and sends them straight back.
pub const RENEW: &str = "/photos/renew";

#[derive(Template, WebTemplate)]
#[template(path = "photos.html")]
struct PhotosPage {
    provider_name: ProviderName,
    photos: Vec<Photo>,
    csrf_token: String,
    /// "expires in 59 minutes", when the provider said.
    token_lifetime: Option<String>,
    /// How many times the access token was refreshed.
    refreshed: u32,
    /// Whether `/flow` has this sign-in's record. // INSPECTOR
    inspector: bool, // INSPECTOR
    /// Whether the access token is bound to the session's DPoP key.
    dpop: bool,
    /// With OpenID Connect, who signed in: their name, else their `sub`.
    signed_in_as: Option<String>,
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
async fn show_photos(State(state): State<AppState>, connected: Connected) -> Result<Response> {
    let Some(id) = connected.session.id() else {
        return Err(AppError::Reconnect("the session has no id".into()));
    };
    // This page never writes its session (it runs outside the lock): a renewal is a detour.
    if connected
        .session
        .renewal_due(state.settings.session_idle)
        .await?
    {
        return Ok(Redirect::to(RENEW).into_response());
    }
    let recording = Recording::start(&state);
    let page = recording.run(photos_page(&state, id, connected)).await;
    recording.append_to(&state, id).await;
    page.map(IntoResponse::into_response)
}

async fn photos_page(
    state: &AppState,
    id: Id,
    Connected { session, tokens }: Connected,
) -> Result<(Extension<Outcome>, PhotosPage)> {
    let sessions = &state.sessions;
    let mut tokens = tokens;
    let mut refreshed = Vec::new();
    if sessions.needs_refresh(&tokens) {
        tokens = sessions.refresh(id, &tokens, &state.oauth).await?;
        refreshed.push(RefreshReason::Expiring);
    }
    let first = fetch(state, &tokens).await;
    let photos = match first {
        Err(PhotosError::InvalidToken) if tokens.refresh_token.is_some() => {
            tokens = sessions.refresh(id, &tokens, &state.oauth).await?;
            refreshed.push(RefreshReason::Rejected);
            fetch(state, &tokens).await
        }
        first => first,
    };
    let photos = match photos {
        Ok(photos) => photos,
        // A token the API still rejects is dead (expired or revoked): forget it, so the home
        // page offers to connect again. Other errors keep the tokens.
        Err(PhotosError::InvalidToken) => {
            sessions.forget_tokens(id).await?;
            return Err(PhotosError::InvalidToken.into());
        }
        // Bound to a key this app can no longer use (DPoP switched off): connect again.
        Err(PhotosError::DpopUnavailable) => {
            sessions.forget_tokens(id).await?;
            return Err(AppError::Reconnect("DPoP-bound token, DPoP off".into()));
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
        provider_name: state.settings.provider_name.clone(),
        photos,
        // Read only: this handler never changes its `Session`, whose copy may be stale.
        csrf_token: session.logout_token_if_any().await?.unwrap_or_default(),
        token_lifetime: tokens.expires_at.map(|at| describe_lifetime(at - now())),
        refreshed: tokens.refreshed,
        inspector: state.settings.inspector, // INSPECTOR
        dpop: tokens.token_type == TokenType::Dpop,
        signed_in_as: tokens
            .identity
            .as_ref()
            .map(|who| who.display_name().to_owned()),
    };
    Ok((Extension(Outcome(outcome)), page))
}

/// One photos API call with `tokens` (a bearer token, or DPoP-bound with a proof).
async fn fetch(
    state: &AppState,
    tokens: &TokenSet,
) -> std::result::Result<Vec<Photo>, PhotosError> {
    let credential = Credential {
        token: &tokens.access_token,
        token_type: tokens.token_type,
        dpop: state.oauth.dpop_with(tokens.dpop_key.as_ref()),
    };
    photos_api::fetch_photos(&state.http, &state.settings.photos_api_url, &credential).await
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
