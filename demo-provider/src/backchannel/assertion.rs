//! `private_key_jwt` client authentication (RFC 7523 sections 2.2 and 3, OpenID Connect Core
//! section 9, draft-ietf-oauth-rfc7523bis): the `client_assertion` checked rule by rule
//! against the client's registered public key, its `jti` remembered until it expires.
//!
//! Verified by hand with `p256`, like DPoP proofs (see `dpop`, whose JWK and JSON helpers it
//! uses): one algorithm, one key type.

use std::collections::HashMap;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64};
use p256::ecdsa::{Signature, VerifyingKey, signature::Verifier};
use serde_json::{Map, Value};

use crate::{
    dpop::{self, Refusal},
    settings::RegisteredClient,
    store::ProviderState,
};

/// `client_assertion_type` for a JWT (RFC 7523 section 2.2).
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// The furthest in the future an assertion's `exp` may be: a long-lived assertion would be a
/// password by another name (RFC 7523 section 3 point 4 lets the server limit it).
pub const MAX_LIFETIME_SECS: i64 = 300;
/// Clock skew allowed for `nbf` and `iat` in the future.
const SKEW_SECS: i64 = 60;
/// The longest assertion accepted (one signed with a P-256 key is well under 1 KiB).
const MAX_ASSERTION_LEN: usize = 8 * 1024;

/// The client a request's assertion claims to be: the body's `client_id` when sent, else the
/// assertion's `sub` (RFC 7523 section 3 point 2), read before any check. `Err` when the two
/// differ, or neither names one.
pub(super) fn claimed_client(params: &HashMap<String, String>) -> Result<String, &'static str> {
    let sub = params
        .get("client_assertion")
        .and_then(|a| a.split('.').nth(1))
        .and_then(dpop::json_object)
        .and_then(|claims| claims.get("sub").and_then(Value::as_str).map(str::to_owned));
    match (params.get("client_id"), sub) {
        (Some(id), Some(sub)) if *id != sub => {
            Err("client_id differs from the client assertion's sub (RFC 7523 section 3 point 2)")
        }
        (Some(id), _) => Ok(id.clone()),
        (None, Some(sub)) => Ok(sub),
        (None, None) => {
            Err("the client assertion is not a JWT with a sub (RFC 7523 section 3 point 2)")
        }
    }
}

/// Checks `assertion` for `client` (RFC 7523 section 3) at `now`, and remembers its `jti`.
/// The refusal names the rule broken (answered as `invalid_client`).
pub(super) fn verify(
    state: &ProviderState,
    client: &RegisteredClient,
    assertion: &str,
    now: i64,
) -> Result<(), &'static str> {
    if assertion.len() > MAX_ASSERTION_LEN {
        return Err("the client assertion is too long");
    }
    let parts: Vec<&str> = assertion.split('.').collect();
    let [head, body, signature] = parts[..] else {
        return Err(
            "the client assertion is not a compact JWS of three parts (RFC 7515 section 7.1)",
        );
    };
    let (Some(header), Some(claims)) = (dpop::json_object(head), dpop::json_object(body)) else {
        return Err("the client assertion's header or claims are not base64url JSON objects");
    };
    check_header(&header)?;
    let keys = registered_keys(client);
    if keys.is_empty() {
        return Err("this client has no registered public key: it cannot use private_key_jwt");
    }
    let kid = header.get("kid").and_then(Value::as_str);
    let signature = B64
        .decode(signature)
        .ok()
        .and_then(|bytes| Signature::from_slice(&bytes).ok());
    let input = format!("{head}.{body}");
    let verified = keys
        .iter()
        .filter(|(_, thumbprint, key_kid)| {
            kid.is_none_or(|kid| Some(kid) == key_kid.as_deref() || kid == thumbprint)
        })
        .any(|(key, _, _)| signature.is_some_and(|s| key.verify(input.as_bytes(), &s).is_ok()));
    if !verified {
        return Err(
            "the client assertion's signature does not verify with the client's registered key (RFC 7523 section 3 point 9)",
        );
    }
    check_claims(state, &client.client_id, &claims, now)
}

/// `alg` ES256 only, never `none` or a symmetric HS* (that would be `client_secret_jwt`, with
/// the secret as the key); no `crit`; `typ`, when present, one a client assertion may carry.
fn check_header(header: &Map<String, Value>) -> Result<(), &'static str> {
    match header.get("alg").and_then(Value::as_str) {
        Some(dpop::ALG) => {}
        Some("none") => {
            return Err(
                "alg none is refused: a client assertion must be signed (RFC 7523 section 3 point 9)",
            );
        }
        Some(alg) if alg.starts_with("HS") => {
            return Err(
                "symmetric algorithms are refused: private_key_jwt is signed with the client's private key (OpenID Connect Core section 9)",
            );
        }
        _ => return Err("alg must be ES256, the only algorithm this server supports"),
    }
    if header.contains_key("crit") {
        return Err(
            "the header names crit extensions this server does not understand (RFC 7515 section 4.1.11)",
        );
    }
    // rfc7523bis types client assertions; a JWT typed for something else (a DPoP proof, an
    // access token) signed with the same key is not one.
    match header.get("typ").and_then(Value::as_str) {
        None | Some("JWT" | "client-authentication+jwt") => Ok(()),
        Some(_) => Err("typ must be client-authentication+jwt (draft-ietf-oauth-rfc7523bis)"),
    }
}

/// `iss` = `sub` = the client, `aud` this issuer (or its token endpoint), `exp` soon, `nbf` and
/// `iat` not in the future, and a `jti` never seen before its `exp`.
fn check_claims(
    state: &ProviderState,
    client_id: &str,
    claims: &Map<String, Value>,
    now: i64,
) -> Result<(), &'static str> {
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    if text("iss") != Some(client_id) {
        return Err("iss must be the client_id (RFC 7523 section 3 point 1)");
    }
    if text("sub") != Some(client_id) {
        return Err("sub must be the client_id (RFC 7523 section 3 point 2)");
    }
    // rfc7523bis: one string, the issuer identifier; the token endpoint URL is still accepted,
    // as RFC 7523 section 3 point 3 allowed it. An array is refused: it could name others too.
    let token_endpoint = format!("{}/oauth/token", state.issuer);
    let aud = claims.get("aud").and_then(Value::as_str);
    if aud != Some(state.issuer.as_str()) && aud != Some(token_endpoint.as_str()) {
        return Err(
            "aud must be this server's issuer identifier, as one string (RFC 7523 section 3 point 3, draft-ietf-oauth-rfc7523bis)",
        );
    }
    let date = |name: &str| claims.get(name).and_then(dpop::numeric_date);
    let Some(exp) = date("exp") else {
        return Err("exp is required (RFC 7523 section 3 point 4)");
    };
    if exp <= now {
        return Err("the client assertion has expired (RFC 7523 section 3 point 4)");
    }
    if exp > now.saturating_add(MAX_LIFETIME_SECS) {
        return Err(
            "exp is more than 5 minutes away: client assertions must be short-lived (RFC 7523 section 3 point 4)",
        );
    }
    let future = |name: &str| date(name).is_some_and(|t| t > now.saturating_add(SKEW_SECS));
    if future("nbf") || future("iat") {
        return Err("nbf or iat is in the future (RFC 7523 section 3 points 5 and 6)");
    }
    let jti = text("jti").unwrap_or("");
    if jti.is_empty() || jti.len() > dpop::MAX_JTI_LEN {
        return Err("jti must be a string of 1 to 256 characters (RFC 7523 section 3 point 7)");
    }
    let until = exp.saturating_add(1);
    match state
        .assertion_jtis
        .remember(client_id, jti, until, now, state.settings.max_pending)
    {
        Ok(()) => Ok(()),
        Err(Refusal::Invalid(_)) => Err(
            "this jti was already used: a client assertion works once (RFC 7523 section 3 point 7)",
        ),
        Err(Refusal::Busy | Refusal::UseNonce) => {
            Err("too many client assertions in flight; try again later")
        }
    }
}

/// The client's registered public keys, each with its RFC 7638 thumbprint and `kid`: its `jwks`
/// may be one JWK or a set (`{"keys": [...]}`); keys that are not EC P-256 are skipped.
fn registered_keys(client: &RegisteredClient) -> Vec<(VerifyingKey, String, Option<String>)> {
    let Some(jwks) = &client.jwks else {
        return Vec::new();
    };
    let keys = match jwks.get("keys").and_then(Value::as_array) {
        Some(keys) => keys.iter().collect(),
        None => vec![jwks],
    };
    keys.into_iter()
        .filter_map(Value::as_object)
        .filter_map(|jwk| {
            let (key, thumbprint) = dpop::public_key(jwk)?;
            let kid = jwk.get("kid").and_then(Value::as_str).map(str::to_owned);
            Some((key, thumbprint, kid))
        })
        .collect()
}
