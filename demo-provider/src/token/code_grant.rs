//! The `authorization_code` grant (RFC 6749 §4.1.3): the code consumed once and atomically,
//! bound to its client, redirect URI and PKCE challenge (RFC 7636 §4.6), with replay detection
//! (RFC 6749 §4.1.2). With a DPoP proof, the grant and its access tokens are DPoP-bound
//! (RFC 9449 §5).

use std::collections::HashMap;

use subtle::ConstantTimeEq;

use super::issue::{issue_tokens, with_id_token};
use crate::{
    backchannel::OAuthError,
    pkce,
    secret::random_token,
    store::{Grant, ProviderState, TokenRequestSeen, now},
};

/// The authorization_code grant: every binding checked, the code consumed atomically.
pub(crate) fn redeem_code(
    state: &ProviderState,
    client_id: &str,
    params: &HashMap<String, String>,
    seen: &mut TokenRequestSeen,
    jkt: Option<&str>,
) -> Result<serde_json::Value, OAuthError> {
    let code = params
        .get("code")
        .ok_or_else(|| OAuthError::invalid_request("code is missing (RFC 6749 section 4.1.3)"))?;
    let mut tables = state.tables();
    let record = tables.codes.get(code).cloned().ok_or_else(|| {
        OAuthError::invalid_grant(
            "the code is unknown, expired or was issued by another server (RFC 6749 section 5.2)",
        )
    })?;
    if record.client_id != client_id {
        return Err(OAuthError::invalid_grant(
            "the code was issued to another client (RFC 6749 section 4.1.3)",
        ));
    }
    // RFC 6749 §4.1.3: required and identical if the authorization request had it; if it did
    // not (one registered URI), it may be omitted, but a value sent must still be identical.
    match params.get("redirect_uri") {
        Some(uri) if *uri == record.redirect_uri => {}
        None if !record.redirect_uri_sent => {}
        Some(_) => {
            return Err(OAuthError::invalid_grant(
                "redirect_uri is not identical to the one in the authorization request (RFC 6749 section 4.1.3)",
            ));
        }
        None => {
            return Err(OAuthError::invalid_grant(
                "redirect_uri is missing; the authorization request had one, so it is required here (RFC 6749 section 4.1.3)",
            ));
        }
    }
    check_pkce(record.code_challenge.as_deref(), params, seen)?;
    // Only now, with client, redirect URI and verifier all valid, is a reused code treated as
    // an attack: revoke what it issued (RFC 6749 §4.1.2). A replay with bad parameters revokes
    // nothing, or anyone could cancel a grant (OAuth 2.1 §7.5.2).
    if let Some(grant) = &record.redeemed_grant {
        ProviderState::revoke_grant(&mut tables, &grant.clone());
        return Err(OAuthError::invalid_grant(
            "the code was already used; the tokens issued from it are now revoked (RFC 6749 section 4.1.2)",
        ));
    }
    if record.expires_at <= now() {
        return Err(OAuthError::invalid_grant(
            "the code has expired (RFC 6749 section 4.1.2)",
        ));
    }
    let grant_id = random_token();
    if let Some(code) = tables.codes.get_mut(code) {
        code.redeemed_grant = Some(grant_id.clone());
    }
    tables.grants.insert(
        grant_id.clone(),
        Grant {
            client_id: client_id.into(),
            user: record.user.clone(),
            scope: record.scope.clone(),
            revoked: false,
            dpop_bound: jkt.is_some(),
            auth_time: record.auth_time,
            sid: random_token(),
        },
    );
    let body = issue_tokens(state, &mut tables, &grant_id, &record.scope, jkt);
    // OIDC Core §3.1.3.3: with `openid` granted, the response carries the ID token, with the
    // authorization request's nonce.
    Ok(with_id_token(
        state,
        &tables,
        body,
        &grant_id,
        record.nonce.as_deref(),
    ))
}

/// The PKCE check (RFC 7636 §4.6): a verifier is required exactly when the code has a
/// challenge (RFC 9700 §2.1.1, §4.8.2).
fn check_pkce(
    challenge: Option<&str>,
    params: &HashMap<String, String>,
    seen: &mut TokenRequestSeen,
) -> Result<(), OAuthError> {
    let verifier = params.get("code_verifier");
    let Some(challenge) = challenge else {
        // PKCE downgrade: an attacker who stole a code issued without a challenge pretends PKCE
        // was used. Only reachable with the test-only `pkce_required: false`.
        return match verifier {
            Some(_) => Err(OAuthError::invalid_request(
                "code_verifier was sent, but the authorization request had no code_challenge: PKCE downgrade refused (RFC 9700 section 4.8.2, OAuth 2.1 section 3.2.4)",
            )),
            None => Ok(()),
        };
    };
    let verifier = verifier.ok_or_else(|| {
        OAuthError::invalid_grant(
            "code_verifier is missing; this code was issued with a PKCE challenge (RFC 7636 section 4.5)",
        )
    })?;
    // Malformed verifiers get invalid_grant, like a wrong one (pinned: the conformance suite
    // and Spring do the same; OAuth 2.1 would also allow invalid_request).
    if !pkce::is_valid_verifier(verifier) {
        seen.pkce_verified = Some(false);
        return Err(OAuthError::invalid_grant(
            "code_verifier must be 43-128 characters of [A-Za-z0-9-._~] (RFC 7636 section 4.1)",
        ));
    }
    let matches = pkce::s256(verifier)
        .as_bytes()
        .ct_eq(challenge.as_bytes())
        .into();
    seen.pkce_verified = Some(matches);
    if !matches {
        return Err(OAuthError::invalid_grant(
            "BASE64URL(SHA256(code_verifier)) does not equal the code_challenge (RFC 7636 section 4.6)",
        ));
    }
    Ok(())
}
