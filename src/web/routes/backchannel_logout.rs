//! `POST /backchannel-logout` (OIDC Back-Channel Logout 1.0 §2.5–2.8): the provider's logout
//! token, checked by the OAuth client, ends the sessions it names through `Sessions`. The
//! provider's request carries no cookie, `Origin` or browser: served outside the session
//! layers, with no lock, no CSRF check and no sign-in limit (a forged token fails its
//! signature check instead).

use std::time::Duration;

use axum::{
    Extension, Router,
    body::{Body, to_bytes},
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::post,
};

use crate::{
    clock::now, form, oauth::openid::logout_token::MAX_AGE_SECS, session::BackChannelLogout,
    telemetry::Outcome, web::state::AppState,
};

/// Where the provider POSTs logout tokens: `APP_URL` + this, the client's registered
/// `backchannel_logout_uri` (§2.2).
pub const PATH: &str = "/backchannel-logout";
/// The largest body read: one logout token and its name.
const MAX_BODY: usize = 16 * 1024;
/// The whole answer within this (§2.8: the OP should not wait long).
const DEADLINE: Duration = Duration::from_secs(2);

pub fn router() -> Router<AppState> {
    Router::new().route(PATH, post(backchannel_logout))
}

async fn backchannel_logout(State(state): State<AppState>, body: Body) -> Response {
    let outcome = match tokio::time::timeout(DEADLINE, handle(&state, body)).await {
        Ok(outcome) => outcome,
        Err(_) => Err(format!("no answer within {} s", DEADLINE.as_secs())),
    };
    // §2.8: 200 when the logout succeeded (also when nothing was left to end), else 400 with
    // an error; never cached. The log line says why, never the token.
    let (status, body, line) = match outcome {
        Ok(ended) => (
            StatusCode::OK,
            String::new(),
            format!("back-channel logout: {ended} session(s) ended"),
        ),
        Err(why) => (
            StatusCode::BAD_REQUEST,
            r#"{"error":"invalid_request"}"#.to_owned(),
            format!("back-channel logout refused: {why}"),
        ),
    };
    let content_type = if status == StatusCode::OK {
        "text/plain; charset=utf-8"
    } else {
        "application/json"
    };
    (
        status,
        Extension(Outcome(line)),
        [
            (header::CACHE_CONTROL, "no-store"),
            (header::CONTENT_TYPE, content_type),
        ],
        body,
    )
        .into_response()
}

/// How many sessions the request's logout token ended, or why it was refused.
async fn handle(state: &AppState, body: Body) -> Result<usize, String> {
    let body = to_bytes(body, MAX_BODY)
        .await
        .map_err(|_| "the body is too large or broken".to_owned())?;
    let form = std::str::from_utf8(&body)
        .ok()
        .and_then(|b| form::parse_unique(b, MAX_BODY).ok())
        .ok_or("the body is not a form with each field once")?;
    let raw = form.get("logout_token").ok_or("no logout_token")?;
    let token = state
        .oauth
        .check_logout_token(raw, now())
        .await
        .map_err(|err| err.to_string())?;
    // The jti is remembered as long as a token with its iat is accepted (and a minute's skew).
    let keep = Duration::from_secs(u64::try_from(MAX_AGE_SECS).unwrap_or(300) + 60);
    match state
        .sessions
        .back_channel_logout(token.sid.as_deref(), token.sub.as_deref(), &token.jti, keep)
        .await
        .map_err(|err| err.to_string())?
    {
        BackChannelLogout::Ended(count) => Ok(count),
        BackChannelLogout::Replayed => Err("its jti was seen before (§2.6 step 7)".to_owned()),
    }
}
