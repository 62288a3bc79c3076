//! The token endpoint, `POST /oauth/token` (RFC 6749 §3.2): after the strict form body and
//! client authentication (from `backchannel`), the dispatch to the `authorization_code` grant
//! (`code_grant`) or the `refresh_token` grant (`refresh_grant`), which both answer with the
//! token response (`issue`, RFC 6749 §5.1). A request with a valid DPoP proof gets a `DPoP`
//! token bound to the proof's key (RFC 9449 §5). Every refusal is an RFC 6749 §5.2 JSON error
//! whose `error_description` says which rule was broken.

mod code_grant;
mod issue;
mod refresh_grant;

use std::{collections::HashMap, sync::Arc, time::Duration};

use axum::{
    Json, Router,
    body::Bytes,
    extract::{State, rejection::BytesRejection},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::post,
};

use crate::{
    backchannel::{self, Method, OAuthError, parse_request},
    dpop::{self, Expected, Refusal},
    form,
    source::Source,
    store::{ProviderState, TokenRequestSeen, now},
};

pub fn router() -> Router<Arc<ProviderState>> {
    Router::new().route("/oauth/token", post(token))
}

/// `POST /oauth/token`.
async fn token(
    State(state): State<Arc<ProviderState>>,
    source: Source,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let (params, parse_error) = match parse_request(&headers, &body) {
        Ok(params) => (params, None),
        Err(err) => (HashMap::new(), Some(err)),
    };
    let mut seen = TokenRequestSeen {
        grant_type: params.get("grant_type").map(|g| form::clip(g, 40)),
        auth_method: backchannel::method_of(&headers, &params).map_or("none", Method::as_str),
        had_code_verifier: params.contains_key("code_verifier"),
        pkce_verified: None,
        status: 200,
    };
    let result = match parse_error {
        None => handle_token(&state, source, &headers, &params, &mut seen),
        Some(err) => Err(err),
    };
    let mut response = match result {
        Ok(json) => {
            let mut response = Json(json).into_response();
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
                .headers_mut()
                .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
            response
        }
        Err(err) => {
            tracing::info!(error = err.error, description = %err.description, "demo provider refused a token request");
            err.with_quirks(&state).into_response()
        }
    };
    // RFC 9449 §8: the nonce goes to every client that uses DPoP, on errors and successes.
    if state.settings.dpop_nonce
        && headers.contains_key("dpop")
        && let Ok(nonce) = HeaderValue::from_str(state.dpop.nonce())
    {
        response.headers_mut().insert("dpop-nonce", nonce);
    }
    seen.status = response.status().as_u16();
    let delay = match seen.grant_type.as_deref() {
        Some("refresh_token") => state.settings.refresh_delay,
        Some("authorization_code") => state.settings.code_delay,
        _ => Duration::ZERO,
    };
    state.record_token_request(seen);
    // Test-only: the grant is done (the token rotated or the code redeemed, the request
    // recorded) but its answer is held back, as by a slow network on the way back.
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    response
}

fn handle_token(
    state: &ProviderState,
    source: Source,
    headers: &HeaderMap,
    params: &HashMap<String, String>,
    seen: &mut TokenRequestSeen,
) -> Result<serde_json::Value, OAuthError> {
    let (client_id, _method) = backchannel::authenticate(state, source, headers, params)?;
    // Checked before the grant, so a refused proof (or a nonce retry) consumes no code and
    // rotates no refresh token.
    let jkt = proof_key(state, headers)?;
    let jkt = jkt.as_deref();
    match params.get("grant_type").map(String::as_str) {
        None => Err(OAuthError::invalid_request(
            "grant_type is missing (RFC 6749 section 4.1.3)",
        )),
        Some("authorization_code") => code_grant::redeem_code(state, &client_id, params, seen, jkt),
        Some("refresh_token") => refresh_grant::refresh(state, &client_id, params, jkt),
        Some("code") => Err(OAuthError::new(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "grant_type=code is not a grant type: use grant_type=authorization_code (RFC 6749 section 4.1.3)",
        )),
        Some(_) => Err(OAuthError::new(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "supported grant types are authorization_code and refresh_token (RFC 6749 section 5.2; the password grant is forbidden by RFC 9700 section 2.4)",
        )),
    }
}

/// The thumbprint of the request's DPoP proof key, `None` without a `DPoP` header (then
/// everything is as without DPoP: a Bearer token). The proof is for `POST` to this endpoint
/// and carries no `ath` (RFC 9449 §4.3, §5).
fn proof_key(state: &ProviderState, headers: &HeaderMap) -> Result<Option<String>, OAuthError> {
    let expected = Expected {
        method: "POST",
        url: format!("{}/oauth/token", state.issuer),
        access_token: None,
    };
    let result = dpop::header(headers).and_then(|proof| {
        proof
            .map(|proof| dpop::verify(state, proof, &expected, now()))
            .transpose()
    });
    result.map_err(|refusal| match refusal {
        Refusal::Invalid(why) => {
            OAuthError::new(StatusCode::BAD_REQUEST, "invalid_dpop_proof", why)
        }
        Refusal::UseNonce => OAuthError::new(
            StatusCode::BAD_REQUEST,
            "use_dpop_nonce",
            "this server requires a DPoP proof with the nonce given in the DPoP-Nonce header (RFC 9449 section 8)",
        ),
        Refusal::Busy => OAuthError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "too many DPoP proofs are remembered; try again in a minute (RFC 9449 section 11.1)",
        ),
    })
}
