//! The `refresh_token` grant (RFC 6749 §6): rotation on every use and reuse detection that
//! revokes the whole grant (RFC 9700 §4.14.2); the scope may narrow, never widen. A grant whose
//! access tokens are DPoP-bound stays bound (RFC 9449 §5).

use std::collections::HashMap;

use axum::http::StatusCode;

use super::issue::{issue_tokens, with_id_token};
use crate::{
    backchannel::OAuthError,
    store::{ProviderState, now},
};

/// The refresh_token grant, with rotation and reuse detection (RFC 6749 §6, RFC 9700 §4.14.2).
pub(crate) fn refresh(
    state: &ProviderState,
    client_id: &str,
    params: &HashMap<String, String>,
    jkt: Option<&str>,
) -> Result<serde_json::Value, OAuthError> {
    let token = params.get("refresh_token").ok_or_else(|| {
        OAuthError::invalid_request("refresh_token is missing (RFC 6749 section 6)")
    })?;
    let mut tables = state.tables();
    let record = tables.refresh.get(token).cloned().ok_or_else(|| {
        OAuthError::invalid_grant(
            "the refresh token is unknown, expired or revoked (RFC 6749 section 5.2)",
        )
    })?;
    let grant = tables
        .grants
        .get(&record.grant)
        .cloned()
        .filter(|g| !g.revoked)
        .ok_or_else(|| OAuthError::invalid_grant("the grant was revoked (RFC 6749 section 5.2)"))?;
    if grant.client_id != client_id {
        return Err(OAuthError::invalid_grant(
            "the refresh token was issued to another client (RFC 6749 section 6)",
        ));
    }
    if record.rotated {
        ProviderState::revoke_grant(&mut tables, &record.grant);
        return Err(OAuthError::invalid_grant(
            "this refresh token was already used and replaced; the whole grant is now revoked (RFC 9700 section 4.14.2)",
        ));
    }
    if record.expires_at <= now() {
        return Err(OAuthError::invalid_grant(
            "the refresh token has expired (RFC 6749 section 5.2)",
        ));
    }
    // A grant bound once stays bound: refreshing it without a proof would silently downgrade
    // its tokens to Bearer, and a stolen refresh token would then yield unbound tokens
    // (RFC 9449 section 5). The refresh token itself is bound to the client's authentication
    // (all clients here are confidential), so a proof with a new key is accepted.
    if grant.dpop_bound && jkt.is_none() {
        return Err(OAuthError::new(
            StatusCode::BAD_REQUEST,
            "invalid_dpop_proof",
            "this grant's tokens are DPoP-bound: a refresh needs a DPoP proof too, it is not downgraded to Bearer (RFC 9449 section 5)",
        ));
    }
    let scope = match params.get("scope") {
        None => grant.scope.clone(),
        Some(requested) => {
            let requested: Vec<String> = requested
                .split(' ')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            if !requested.iter().all(|s| grant.scope.contains(s)) {
                return Err(OAuthError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_scope",
                    "a refresh may not ask for more scope than was granted (RFC 6749 section 6)",
                ));
            }
            requested
        }
    };
    if let Some(old) = tables.refresh.get_mut(token) {
        old.rotated = true;
    }
    if let Some(grant) = tables.grants.get_mut(&record.grant) {
        grant.dpop_bound |= jkt.is_some();
    }
    let body = issue_tokens(state, &mut tables, &record.grant, &scope, jkt);
    // OIDC Core §12.2: a refreshed ID token, same iss, sub, aud and auth_time, no nonce.
    Ok(with_id_token(state, &tables, body, &record.grant, None))
}
