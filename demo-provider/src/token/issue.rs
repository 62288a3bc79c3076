//! The token response (RFC 6749 §5.1): a fresh access token and refresh token for a grant,
//! shaped by the quirks, and the ID token when `openid` was granted (OIDC Core §3.1.3.3), for
//! both grants (`code_grant`, `refresh_grant`) to answer with.

use serde_json::json;

use crate::{
    id_token::{Claims, OPENID},
    photos,
    secret::random_token,
    store::{AccessRecord, ProviderState, RefreshRecord, Tables, expiry, now, secs},
};

/// Mints an access token and a refresh token for `grant` (RFC 6749 §5.1): a `DPoP` access token
/// bound to `jkt` when the request had a proof (RFC 9449 §5, §6), a `Bearer` one otherwise. The
/// refresh token is not bound to the key: every client here is confidential, so it stays
/// bound to the client's authentication (RFC 9449 §5 binds refresh tokens of public clients).
pub(crate) fn issue_tokens(
    state: &ProviderState,
    tables: &mut Tables,
    grant: &str,
    scope: &[String],
    jkt: Option<&str>,
) -> serde_json::Value {
    let now = now();
    let access_token = random_token();
    let refresh_token = random_token();
    let settings = &state.settings;
    tables.access.insert(
        access_token.clone(),
        AccessRecord {
            grant: grant.into(),
            scope: scope.to_vec(),
            expires_at: expiry(now, settings.access_token_ttl),
            jkt: jkt.map(str::to_owned),
        },
    );
    tables.refresh.insert(
        refresh_token.clone(),
        RefreshRecord {
            grant: grant.into(),
            expires_at: expiry(now, settings.refresh_token_ttl),
            rotated: false,
        },
    );
    let quirks = settings.quirks;
    let mut body = json!({
        "access_token": access_token,
        "token_type": if jkt.is_some() { "DPoP" } else { "Bearer" },
        "expires_in": secs(settings.access_token_ttl),
        "refresh_token": refresh_token,
        // Space-separated (RFC 6749 §3.3), unless the `scope-commas` quirk is on.
        "scope": scope.join(if quirks.comma_separated_scope { "," } else { " " }),
    });
    if quirks.expires_in_as_string {
        body["expires_in"] = json!(secs(settings.access_token_ttl).to_string());
    }
    if quirks.omit_expires_in
        && let Some(object) = body.as_object_mut()
    {
        object.remove("expires_in");
    }
    body
}

/// `body` with an `id_token` member when `grant` includes the `openid` scope (OIDC Core
/// §3.1.3.3), signed with the provider's key; `nonce` is the authorization request's, none on
/// refresh (§12.2).
pub(crate) fn with_id_token(
    state: &ProviderState,
    tables: &Tables,
    mut body: serde_json::Value,
    grant: &str,
    nonce: Option<&str>,
) -> serde_json::Value {
    let Some(grant) = tables.grants.get(grant) else {
        return body;
    };
    if !grant.scope.iter().any(|s| s == OPENID) {
        return body;
    }
    let name = photos::user(&grant.user).map_or(grant.user.as_str(), |u| u.name);
    let claims = Claims {
        client_id: &grant.client_id,
        user_id: &grant.user,
        user_name: name,
        nonce,
        auth_time: grant.auth_time,
        sid: &grant.sid,
    };
    body["id_token"] = json!(state.id_token_key.issue(&state.issuer, &claims, now()));
    body
}
