//! `GET /connect`: with pushed authorization requests (RFC 9126), the Connect link's target.
//! It starts the sign-in (state and PKCE verifier in the session, as the home page does without
//! PAR), pushes the authorization parameters to the provider over the back channel with the
//! client's authentication, and sends the browser on with only `client_id` and `request_uri`.

use std::net::SocketAddr;

use axum::{
    Extension, Router,
    extract::{ConnectInfo, State},
    http::HeaderMap,
    response::Redirect,
    routing::get,
};

use crate::{
    clock::now,
    metrics,
    session::AppSession,
    telemetry::Outcome,
    web::{
        error::Result,
        inspect::Recording,
        routes::{home::may_start_sign_in, method_not_allowed},
        state::AppState,
    },
};

pub fn router() -> Router<AppState> {
    // HEAD must not push: axum would otherwise run the GET handler.
    Router::new().route("/connect", get(counted).head(method_not_allowed))
}

/// A sign-in that could not start or be pushed is counted as failed, with its reason.
async fn counted(
    headers: HeaderMap,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    state: State<AppState>,
    session: AppSession,
) -> Result<(Extension<Outcome>, Redirect)> {
    let started = connect(headers, peer, state, session).await;
    if let Err(err) = &started {
        metrics::sign_in_failed(err.reason());
    }
    started
}

async fn connect(
    headers: HeaderMap,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    State(state): State<AppState>,
    session: AppSession,
) -> Result<(Extension<Outcome>, Redirect)> {
    if session.tokens().await?.is_some() {
        return Ok((
            Extension(Outcome("already connected".into())),
            Redirect::to("/"),
        ));
    }
    may_start_sign_in(&headers, peer, &state)?;
    let (url, login) = state.oauth.start(now());
    let login_state = login.state.secret().clone();
    // Kept before the push: the callback may come back before this request has finished.
    session
        .begin_login(login, state.settings.pending_login_ttl)
        .await?;
    let recording = Recording::start(&state);
    let pushed = recording.run(state.oauth.push(&url)).await;
    recording
        .keep_push(&session, &login_state, pushed.as_ref().ok())
        .await?;
    let target = pushed?;
    let outcome = Outcome("authorization request pushed".into());
    Ok((Extension(outcome), Redirect::to(target.as_str())))
}
