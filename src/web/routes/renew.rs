//! `GET /photos/renew`: pushes a connected visitor's idle limit back (`SESSION_IDLE_MINUTES`),
//! under the session's lock, then straight back to the photos. `/photos` itself only reads the
//! session, so it sends the visitor here once every half idle limit.

use axum::{Router, extract::State, response::Redirect, routing::get};

use crate::{
    session::AppSession,
    web::{error::Result, routes::method_not_allowed, state::AppState},
};

pub fn router() -> Router<AppState> {
    Router::new().route(super::photos::RENEW, get(renew).head(method_not_allowed))
}

/// Renews a connected session (its record's expiry, and the cookie's `Max-Age` with the save)
/// and goes back to `/photos`; anyone else goes home to connect.
async fn renew(State(state): State<AppState>, session: AppSession) -> Result<Redirect> {
    let Some(tokens) = session.tokens().await? else {
        return Ok(Redirect::to("/?notice=connect-first"));
    };
    let idle = state.settings.session_idle;
    session.renew(idle).await?;
    // The back-channel logout index lives as long as the session.
    state.sessions.index_sign_in(&session, &tokens, idle).await;
    Ok(Redirect::to("/photos"))
}
