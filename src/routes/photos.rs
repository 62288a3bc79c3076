//! `GET /photos`: the connected visitor's photos, fetched with their access token.

use askama::Template;
use axum::{
    Router,
    extract::State,
    response::{Html, IntoResponse, Redirect, Response},
    routing::get,
};
use tower_sessions::Session;

use crate::{
    error::{AppError, Result},
    photos_api::{self, Photo, PhotosError},
    refresh,
    routes::method_not_allowed,
    session,
    state::{AppState, now},
};

pub fn router() -> Router<AppState> {
    Router::new().route("/photos", get(show_photos).head(method_not_allowed))
}

#[derive(Template)]
#[template(path = "photos.html")]
struct PhotosPage<'a> {
    provider_name: &'a str,
    photos: Vec<Photo>,
    csrf_token: String,
    /// "expires in 59 minutes", when the provider said.
    token_lifetime: Option<String>,
    /// How many times the access token was refreshed.
    refreshed: u32,
}

/// Shows the photos. An access token that is (nearly) expired is refreshed first; one the API
/// rejects with 401 is refreshed once and the call retried once (RFC 6750 §3.1), never more. A 403
/// `insufficient_scope` is not a refresh case: a new token would have the same scope.
async fn show_photos(State(state): State<AppState>, session: Session) -> Result<Response> {
    let Some(tokens) = session::tokens(&session).await? else {
        return Ok(Redirect::to("/?notice=connect-first").into_response());
    };
    let tokens = refresh::fresh_tokens(&state, &session, tokens, false).await?;
    let api = &state.provider.photos_api_url;
    let (tokens, photos) =
        match photos_api::fetch_photos(&state.http, api, &tokens.access_token).await {
            Ok(photos) => (tokens, photos),
            Err(PhotosError::InvalidToken) if tokens.refresh_token.is_some() => {
                let tokens = refresh::fresh_tokens(&state, &session, tokens, true).await?;
                match photos_api::fetch_photos(&state.http, api, &tokens.access_token).await {
                    Ok(photos) => (tokens, photos),
                    Err(err) => return Err(forget_dead_token(&session, err).await),
                }
            }
            Err(err) => return Err(forget_dead_token(&session, err).await),
        };
    let page = PhotosPage {
        provider_name: &state.provider.name,
        photos,
        csrf_token: session::csrf_token(&session).await?,
        token_lifetime: tokens.expires_at.map(|at| describe_lifetime(at - now())),
        refreshed: tokens.refreshed,
    };
    Ok(Html(page.render().map_err(anyhow::Error::from)?).into_response())
}

/// A token the API still rejects is dead (expired or revoked): forget it so the home page offers
/// to connect again. Other errors keep the tokens.
async fn forget_dead_token(session: &Session, err: PhotosError) -> AppError {
    if matches!(err, PhotosError::InvalidToken)
        && let Err(store_err) = session::clear_tokens(session).await
    {
        return store_err;
    }
    err.into()
}

/// "expires in 5 minutes" / "has expired".
fn describe_lifetime(seconds: i64) -> String {
    match seconds {
        s if s <= 0 => "has expired".into(),
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
        assert_eq!(super::describe_lifetime(30), "expires in 30 seconds");
        assert_eq!(super::describe_lifetime(3599), "expires in 59 minutes");
        assert_eq!(super::describe_lifetime(36_000), "expires in 10 hours");
    }
}
