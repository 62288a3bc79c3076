//! `GET /cb`, the redirect URI: finishes a sign-in. Validates the query, consumes the pending
//! sign-in named by `state`, redeems the code, rotates the session id and redirects to the
//! photos, so no page has the code in its URL (RFC 6749 §3.1.2.5, OAuth 2.1 §2.3.6).

use axum::{
    Extension, Router,
    extract::{RawQuery, State},
    http::{HeaderValue, header},
    response::Redirect,
    routing::get,
};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::{
    clock::now,
    metrics,
    oauth::{Callback, LoginLookup, parse_callback},
    session::AppSession,
    telemetry::Outcome,
    web::{
        error::{AppError, Result},
        inspect::{Recording, SignIn},
        routes::method_not_allowed,
        state::AppState,
    },
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/cb", get(counted).head(method_not_allowed))
        // The URL carries the code and state: no Referer from this page, ever (RFC 9700 §4.2.4).
        .route_layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
}

/// The redirect URI's handler, counted: a sign-in completed, or failed with its reason.
async fn counted(
    state: State<AppState>,
    session: AppSession,
    query: RawQuery,
) -> Result<(Extension<Outcome>, Redirect)> {
    let finished = finish_login(state, session, query).await;
    match &finished {
        Ok(_) => metrics::sign_in_completed(),
        Err(err) => metrics::sign_in_failed(err.reason()),
    }
    finished
}

/// The sign-in's end, step by step.
async fn finish_login(
    State(state): State<AppState>,
    session: AppSession,
    RawQuery(query): RawQuery,
) -> Result<(Extension<Outcome>, Redirect)> {
    // 1. The query is checked before any session or provider work (RFC 6749 §10.14).
    let callback = parse_callback(query.as_deref())?;
    let (callback_state, iss) = match &callback {
        Callback::Code { state, iss, .. } => (Some(state), iss),
        Callback::Error { state, iss, .. } => (state.as_ref(), iss),
    };
    // An answer only counts if it names a sign-in this browser started; otherwise anyone could
    // cancel a pending sign-in with a crafted link (RFC 9207 §2.4).
    let callback_state = callback_state.ok_or(AppError::UnknownState)?;

    // 2. Take the pending sign-in out of the session, and save that *before* the token request:
    //    the state is single-use even if the exchange fails (RFC 9700 §4.2.4). The mix-up
    //    defence runs first: the response must come from the issuer we sent the request to
    //    (RFC 9207 §2.4), and a forged one leaves the real sign-in in place.
    let lookup = session
        .take_login(
            callback_state,
            now(),
            state.settings.pending_login_ttl,
            || state.oauth.issuer_ok(iss.as_deref()),
        )
        .await?;
    let pending = match lookup {
        LoginLookup::Found(pending) => pending,
        LoginLookup::Unknown => return Err(AppError::UnknownState),
        LoginLookup::Refused => return Err(AppError::IssuerMismatch),
        LoginLookup::Expired => return Err(AppError::LoginExpired),
    };

    // A wing's record (when one records): what the link carried and what was just checked,
    // taken before the code and verifier are spent.
    let mut sign_in = SignIn::start(&state, &session, &pending, &callback).await?;

    match callback {
        // The person said no, or the provider refused: the sign-in is over either way.
        Callback::Error { error, .. } => {
            sign_in.keep(&session).await;
            match error.as_str() {
                "access_denied" => Err(AppError::AccessDenied),
                _ => Err(AppError::AuthorizationFailed(error)),
            }
        }
        Callback::Code { code, .. } => {
            // 3. Redeem the code with the client secret and the PKCE verifier (RFC 7636 §4.5).
            let recording = Recording::start(&state);
            let exchanged = recording
                .run(state.oauth.exchange(code, pending, now()))
                .await;
            sign_in.join(recording);
            let tokens = match exchanged {
                Ok(tokens) => tokens,
                Err(err) => {
                    sign_in.keep(&session).await;
                    return Err(err.into());
                }
            };
            // 4. New session id, the connected idle limit, the tokens (server-side only).
            sign_in.stage(&session).await?;
            session
                .connect(&tokens, state.settings.session_idle)
                .await?;
            // Findable by the provider's sid and sub, for a back-channel logout (OIDC
            // Back-Channel Logout 1.0 §2.7).
            state
                .sessions
                .index_sign_in(&session, &tokens, state.settings.session_idle)
                .await;
            // The granted scopes are the provider's text: escaped and bounded.
            let scopes = crate::text::escaped(&tokens.scopes.join(" "), 100);
            let outcome = Outcome(format!("signed in; scopes {scopes}"));
            Ok((Extension(outcome), Redirect::to("/photos")))
        }
    }
}
