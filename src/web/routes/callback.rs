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
    inspector::{
        FlowLog, Step, recording,
        steps::{self, CallbackChecks},
    },
    oauth::{Callback, LoginLookup, PendingLogin, parse_callback},
    session::AppSession,
    telemetry::Outcome,
    web::error::{AppError, Result},
    web::routes::method_not_allowed,
    web::state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/cb", get(finish_login).head(method_not_allowed))
        // The URL carries the code and state: no Referer from this page, ever (RFC 9700 §4.2.4).
        .route_layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
}

/// The redirect URI's handler, step by step.
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
        .take_login(callback_state, now(), state.pending_login_ttl, || {
            state.oauth.issuer_ok(iss.as_deref())
        })
        .await?;
    let pending = match lookup {
        LoginLookup::Found(pending) => pending,
        LoginLookup::Unknown => return Err(AppError::UnknownState),
        LoginLookup::Refused => return Err(AppError::IssuerMismatch),
        LoginLookup::Expired => return Err(AppError::LoginExpired),
    };

    // The inspector's record (when it is on): what the link carried and what was just checked,
    // taken before the code and verifier are spent.
    let mut flow = match state.inspector {
        true => {
            let pushed = session.pushed_step(callback_state).await?;
            Some(sign_in_steps(&state, &pending, &callback, pushed))
        }
        false => None,
    };

    match callback {
        // The person said no, or the provider refused: the sign-in is over either way.
        Callback::Error { error, .. } => {
            keep(&session, flow.as_ref()).await;
            match error.as_str() {
                "access_denied" => Err(AppError::AccessDenied),
                _ => Err(AppError::AuthorizationFailed(error)),
            }
        }
        Callback::Code { code, .. } => {
            // 3. Redeem the code with the client secret and the PKCE verifier (RFC 7636 §4.5).
            let tape = state.tape();
            let exchange = state.oauth.exchange(code, pending, now());
            let exchanged = recording(tape.as_ref(), exchange).await;
            if let (Some(flow), Some(tape)) = (flow.as_mut(), tape) {
                flow.extend(tape.take());
            }
            let tokens = match exchanged {
                Ok(tokens) => tokens,
                Err(err) => {
                    keep(&session, flow.as_ref()).await;
                    return Err(err.into());
                }
            };
            // 4. New session id, the connected idle limit, the tokens (server-side only).
            session
                .connect(&tokens, state.session_idle, flow.as_ref())
                .await?;
            // The granted scopes are the provider's text: escaped and bounded.
            let scopes = crate::text::escaped(&tokens.scopes.join(" "), 100);
            let outcome = Outcome(format!("signed in; scopes {scopes}"));
            Ok((Extension(outcome), Redirect::to("/photos")))
        }
    }
}

/// The inspector's first steps: the authorization request, rebuilt from the pending sign-in,
/// the push (with PAR), and the callback with the checks it passed.
fn sign_in_steps(
    state: &AppState,
    pending: &PendingLogin,
    callback: &Callback,
    pushed: Option<Step>,
) -> FlowLog {
    let (code, callback_state, iss) = match callback {
        Callback::Code { code, state, iss } => (Some(code.secret().as_str()), state.as_str(), iss),
        Callback::Error { state, iss, .. } => (None, state.as_deref().unwrap_or_default(), iss),
    };
    let checks = CallbackChecks {
        expected_issuer: state.oauth.expected_issuer().map(str::to_owned),
        age_secs: now().saturating_sub(pending.created_at),
        ttl_secs: state.pending_login_ttl.as_secs(),
    };
    let mut answer = steps::callback(code, callback_state, iss.as_deref(), &checks);
    if let Callback::Error { error, .. } = callback {
        answer = answer.param("error", error);
    }
    let url = state.oauth.authorize_url_of(pending);
    let started_ms = pending.created_at.saturating_mul(1000);
    let mut flow = FlowLog::default();
    flow.extend([steps::authorize(
        &url,
        pending.verifier.secret(),
        started_ms,
    )]);
    flow.extend(pushed);
    flow.extend([answer]);
    flow
}

/// Keeps the record of a sign-in that ended without connecting. Best effort: the sign-in's own
/// error is what the visitor needs to see, not a failure to keep its record.
async fn keep(session: &AppSession, flow: Option<&FlowLog>) {
    let Some(flow) = flow else {
        return;
    };
    if let Err(err) = session.record_flow(flow).await {
        tracing::debug!(error = %err, "the flow inspector's record was not saved");
    }
}
