//! `GET /`: the home page. Not connected: the "Connect Your Account" link, whose href is the
//! authorize URL with a fresh state and PKCE challenge. Connected: the provider, a link to the
//! photos and a logout button.

use askama::Template;
use axum::{
    Router,
    extract::{RawQuery, State},
    http::HeaderMap,
    response::{Html, IntoResponse, Response},
    routing::get,
};
use tower_sessions::Session;

use crate::{
    error::{AppError, Result},
    form, session,
    state::{AppState, now},
};

pub fn router() -> Router<AppState> {
    Router::new().route("/", get(show_home))
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage<'a> {
    provider_name: &'a str,
    /// The authorize URL when not connected.
    connect_url: Option<String>,
    /// The logout form's CSRF token when connected.
    csrf_token: Option<String>,
    notice: Option<&'static str>,
}

/// Shows the home page, starting a sign-in for a visitor who is not connected.
async fn show_home(
    headers: HeaderMap,
    State(state): State<AppState>,
    session: Session,
    RawQuery(query): RawQuery,
) -> Result<Response> {
    let notice = notice(query.as_deref());
    let provider_name = &state.provider.name;

    if session::tokens(&session).await?.is_some() {
        let csrf_token = Some(session::csrf_token(&session).await?);
        let page = HomePage {
            provider_name,
            connect_url: None,
            csrf_token,
            notice,
        };
        return Ok(Html(page.render().map_err(anyhow::Error::from)?).into_response());
    }

    // Only a page navigation starts a sign-in. An `<img>` or `fetch()` aimed here from another
    // site would otherwise make each of its visitors' browsers store a session (store flooding).
    if headers
        .get("sec-fetch-mode")
        .is_some_and(|mode| mode.as_bytes() != b"navigate")
    {
        return Err(AppError::NotANavigation);
    }

    // Every view makes a fresh state and verifier, kept server-side and keyed by state, so two
    // tabs can each sign in (the oldest are evicted beyond a small cap).
    let (url, login) = state.oauth.start(now());
    let mut logins = session::pending_logins(&session).await?;
    logins.push(login);
    // An anonymous session lives only as long as its sign-in may take, so drive-by visits do
    // not pile up in the store.
    session::expire_after_inactivity(&session, state.pending_login_ttl);
    session::store_pending_logins(&session, &logins).await?;

    let page = HomePage {
        provider_name,
        connect_url: Some(url.to_string()),
        csrf_token: None,
        notice,
    };
    Ok(Html(page.render().map_err(anyhow::Error::from)?).into_response())
}

/// A fixed message for a known `?notice=` value; anything else is ignored (never echoed).
fn notice(query: Option<&str>) -> Option<&'static str> {
    let params = form::parse_unique(query?, 1024).ok()?;
    match params.get("notice")?.as_str() {
        "signed-out" => Some("You are signed out. Your connection to the provider was closed."),
        "connect-first" => Some("Connect your account first to see your photos."),
        _ => None,
    }
}
