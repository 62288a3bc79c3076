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
    session,
    state::{AppState, now},
};

pub fn router() -> Router<AppState> {
    Router::new().route("/photos", get(show_photos))
}

#[derive(Template)]
#[template(path = "photos.html")]
struct PhotosPage<'a> {
    provider_name: &'a str,
    photos: Vec<Photo>,
    csrf_token: String,
    /// "expires in 59 minutes", when the provider said.
    token_lifetime: Option<String>,
}

async fn show_photos(State(state): State<AppState>, session: Session) -> Result<Response> {
    let Some(tokens) = session::tokens(&session).await? else {
        return Ok(Redirect::to("/?notice=connect-first").into_response());
    };
    let photos = match photos_api::fetch_photos(
        &state.http,
        &state.provider.photos_api_url,
        &tokens.access_token,
    )
    .await
    {
        Ok(photos) => photos,
        Err(PhotosError::InvalidToken) => {
            // The token is dead (expired or revoked): forget it so the home page offers to connect.
            session::clear_tokens(&session).await?;
            return Err(AppError::Photos(PhotosError::InvalidToken));
        }
        Err(err) => return Err(err.into()),
    };
    let token_lifetime = tokens.expires_at.map(|at| describe_lifetime(at - now()));
    let page = PhotosPage {
        provider_name: &state.provider.name,
        photos,
        csrf_token: session::csrf_token(&session).await?,
        token_lifetime,
    };
    Ok(Html(page.render().map_err(anyhow::Error::from)?).into_response())
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
