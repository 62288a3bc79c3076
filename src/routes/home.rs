//! `GET /`: the home page. Not connected: the "Connect Your Account" link, whose href is the
//! authorize URL with a fresh state and PKCE challenge. Connected: the provider, a link to the
//! photos and a logout button.

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Router,
    extract::{RawQuery, State},
    http::HeaderMap,
    routing::get,
};

use crate::{
    error::{AppError, Result},
    form,
    session::AppSession,
    state::{AppState, now},
};

pub fn router() -> Router<AppState> {
    Router::new().route("/", get(show_home))
}

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
struct HomePage {
    provider_name: Arc<str>,
    /// The authorize URL when not connected.
    connect_url: Option<String>,
    /// The logout form's CSRF token when connected.
    logout_token: Option<String>,
    notice: Option<&'static str>,
}

/// Shows the home page, starting a sign-in for a visitor who is not connected.
async fn show_home(
    headers: HeaderMap,
    State(state): State<AppState>,
    session: AppSession,
    RawQuery(query): RawQuery,
) -> Result<HomePage> {
    let notice = notice(query.as_deref());
    let provider_name = state.provider_name.clone();

    if session.tokens().await?.is_some() {
        return Ok(HomePage {
            provider_name,
            connect_url: None,
            logout_token: Some(session.logout_token().await?),
            notice,
        });
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
    session.begin_login(login, state.pending_login_ttl).await?;
    Ok(HomePage {
        provider_name,
        connect_url: Some(url.to_string()),
        logout_token: None,
        notice,
    })
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
