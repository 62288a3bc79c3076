//! DEMO PROVIDER (fake): the token endpoint (`authorization_code` and `refresh_token` grants,
//! RFC 6749 §4.1.3, §6) and the revocation endpoint (RFC 7009). Every refusal is an RFC 6749 §5.2
//! JSON error whose `error_description` says which rule was broken.

use std::{collections::HashMap, sync::Arc};

use axum::{
    Json, Router,
    body::Bytes,
    extract::{State, rejection::BytesRejection},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::post,
};
use base64::Engine;
use serde_json::json;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{
    client_auth::{self, Method},
    describe_form_error, random_token,
    store::{
        AccessRecord, Grant, ProviderState, RefreshRecord, Tables, TokenRequestSeen, expiry, now,
        secs,
    },
};
use crate::form;

pub fn router() -> Router<Arc<ProviderState>> {
    Router::new()
        .route("/oauth/token", post(token))
        .route("/oauth/revoke", post(revoke))
}

/// An RFC 6749 §5.2 error response.
#[derive(Debug)]
pub struct OAuthError {
    pub status: StatusCode,
    pub error: &'static str,
    pub description: String,
    /// `invalid_client` after an `Authorization: Basic` attempt must carry `WWW-Authenticate`.
    pub www_authenticate: bool,
}

impl OAuthError {
    fn new(status: StatusCode, error: &'static str, description: impl Into<String>) -> Self {
        Self {
            status,
            error,
            description: description.into(),
            www_authenticate: false,
        }
    }
    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", description)
    }
    pub fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_grant", description)
    }
    /// 401, with `WWW-Authenticate: Basic` when the client used Basic (RFC 6749 §5.2).
    pub fn invalid_client(description: impl Into<String>, basic: bool) -> Self {
        Self {
            www_authenticate: basic,
            ..Self::new(StatusCode::UNAUTHORIZED, "invalid_client", description)
        }
    }
    pub fn too_many_attempts() -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "invalid_client",
            "too many failed client authentications; wait a minute (RFC 6749 section 2.3.1 brute-force protection)",
        )
    }

    /// The body could not be read: too large (413) or not readable (400).
    fn unreadable_body(rejection: &BytesRejection) -> Self {
        let status = rejection.status();
        let description = if status == StatusCode::PAYLOAD_TOO_LARGE {
            "the body is larger than this server's 64 KiB limit (RFC 6749 section 3.2)"
        } else {
            "the body could not be read (RFC 6749 section 3.2)"
        };
        Self::new(status, "invalid_request", description)
    }

    /// Applies the `error-200` quirk: the same JSON error, with HTTP 200 (GitHub style).
    fn with_quirks(mut self, state: &ProviderState) -> Self {
        if state.settings.quirks.error_with_200 {
            self.status = StatusCode::OK;
            self.www_authenticate = false;
        }
        self
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            Json(json!({ "error": self.error, "error_description": self.description })),
        )
            .into_response();
        let headers = response.headers_mut();
        // RFC 6749 §5.1/§5.2: token responses must not be cached.
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        if self.www_authenticate {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"demo-provider\""),
            );
        }
        if self.status == StatusCode::TOO_MANY_REQUESTS {
            headers.insert(
                header::RETRY_AFTER,
                HeaderValue::from(client_auth::FAILURE_WINDOW_SECS),
            );
        }
        response
    }
}

/// Parses a form body strictly: the right content type, no repeated parameters (RFC 6749 §3.2).
fn parse_body(headers: &HeaderMap, body: &Bytes) -> Result<HashMap<String, String>, OAuthError> {
    let form_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    if !form_type {
        return Err(OAuthError::invalid_request(
            "the body must be application/x-www-form-urlencoded (RFC 6749 section 3.2, Appendix B)",
        ));
    }
    let text = std::str::from_utf8(body)
        .map_err(|_| OAuthError::invalid_request("the body is not UTF-8 (RFC 6749 Appendix B)"))?;
    // The description names a repeated parameter only if it is a known one: nothing the sender
    // chose is echoed.
    form::parse_unique(text, 64 * 1024).map_err(|e| {
        OAuthError::invalid_request(format!(
            "{} (RFC 6749 section 3.2)",
            describe_form_error(&e)
        ))
    })
}

/// `POST /oauth/token`.
async fn token(
    State(state): State<Arc<ProviderState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let parsed = match &body {
        Ok(body) => parse_body(&headers, body),
        Err(rejection) => Err(OAuthError::unreadable_body(rejection)),
    };
    let (params, parse_error) = match parsed {
        Ok(params) => (params, None),
        Err(err) => (HashMap::new(), Some(err)),
    };
    let mut seen = TokenRequestSeen {
        grant_type: params.get("grant_type").map(|g| form::truncate(g, 40)),
        auth_method: client_auth::method_of(&headers, &params).map_or("none", Method::as_str),
        had_code_verifier: params.contains_key("code_verifier"),
        pkce_verified: None,
        status: 200,
    };
    let result = match parse_error {
        None => handle_token(&state, &headers, &params, &mut seen),
        Some(err) => Err(err),
    };
    let response = match result {
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
    seen.status = response.status().as_u16();
    state.record_token_request(seen);
    response
}

fn handle_token(
    state: &ProviderState,
    headers: &HeaderMap,
    params: &HashMap<String, String>,
    seen: &mut TokenRequestSeen,
) -> Result<serde_json::Value, OAuthError> {
    let (client_id, _method) = client_auth::authenticate(state, headers, params)?;
    match params.get("grant_type").map(String::as_str) {
        None => Err(OAuthError::invalid_request(
            "grant_type is missing (RFC 6749 section 4.1.3)",
        )),
        Some("authorization_code") => redeem_code(state, &client_id, params, seen),
        Some("refresh_token") => refresh(state, &client_id, params),
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

/// The authorization_code grant: every binding checked, the code consumed atomically.
fn redeem_code(
    state: &ProviderState,
    client_id: &str,
    params: &HashMap<String, String>,
    seen: &mut TokenRequestSeen,
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
        },
    );
    Ok(issue_tokens(state, &mut tables, &grant_id, &record.scope))
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
    if !is_valid_verifier(verifier) {
        seen.pkce_verified = Some(false);
        return Err(OAuthError::invalid_grant(
            "code_verifier must be 43-128 characters of [A-Za-z0-9-._~] (RFC 7636 section 4.1)",
        ));
    }
    let matches = s256(verifier).as_bytes().ct_eq(challenge.as_bytes()).into();
    seen.pkce_verified = Some(matches);
    if !matches {
        return Err(OAuthError::invalid_grant(
            "BASE64URL(SHA256(code_verifier)) does not equal the code_challenge (RFC 7636 section 4.6)",
        ));
    }
    Ok(())
}

/// The refresh_token grant, with rotation and reuse detection (RFC 6749 §6, RFC 9700 §4.14.2).
fn refresh(
    state: &ProviderState,
    client_id: &str,
    params: &HashMap<String, String>,
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
    Ok(issue_tokens(state, &mut tables, &record.grant, &scope))
}

/// Mints an access token and a refresh token for `grant` (RFC 6749 §5.1).
fn issue_tokens(
    state: &ProviderState,
    tables: &mut Tables,
    grant: &str,
    scope: &[String],
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
        "token_type": "Bearer",
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

/// `POST /oauth/revoke` (RFC 7009 §2.1): client-authenticated; a refresh token takes its whole
/// grant with it; unknown tokens answer 200 (§2.2).
async fn revoke(
    State(state): State<Arc<ProviderState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let parsed = match &body {
        Ok(body) => parse_body(&headers, body),
        Err(rejection) => Err(OAuthError::unreadable_body(rejection)),
    };
    let result = parsed.and_then(|params| {
        let (client_id, _) = client_auth::authenticate(&state, &headers, &params)?;
        let token = params
            .get("token")
            .ok_or_else(|| OAuthError::invalid_request("token is missing (RFC 7009 section 2.1)"))?;
        let mut tables = state.tables();
        let grant = tables
            .refresh
            .get(token)
            .map(|r| r.grant.clone())
            .or_else(|| tables.access.get(token).map(|a| a.grant.clone()));
        // Unknown, expired or already revoked: 200 all the same (RFC 7009 §2.2). The
        // token_type_hint is only a hint and is not even read (§2.1).
        let Some(grant) = grant else { return Ok(()) };
        if tables
            .grants
            .get(&grant)
            .is_some_and(|g| g.client_id != client_id)
        {
            // Pinned: refused with 400 invalid_request and nothing revoked (RFC 7009 §2.1 says
            // refuse; §2.2.1 names no better code).
            return Err(OAuthError::invalid_request(
                "the token was issued to another client, so this client may not revoke it (RFC 7009 section 2.1)",
            ));
        }
        if tables.refresh.contains_key(token) {
            ProviderState::revoke_grant(&mut tables, &grant);
        } else {
            tables.access.remove(token);
        }
        Ok(())
    });
    match result {
        Ok(()) => (StatusCode::OK, [(header::CACHE_CONTROL, "no-store")]).into_response(),
        Err(err) => err.into_response(),
    }
}

/// `BASE64URL(SHA256(ASCII(verifier)))`, no padding (RFC 7636 §4.2).
pub fn s256(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// `code-verifier = 43*128unreserved` (RFC 7636 §4.1).
pub fn is_valid_verifier(v: &str) -> bool {
    (43..=128).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s256_matches_the_rfc7636_and_seed_vectors() {
        assert_eq!(
            s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert_eq!(
            s256("Th7UHJdLswIYQxwSg29DbK1a_d9o41uNMTRmuH0PM8zyoMAQ"),
            "hKpKupTM391pE10xfQiorMxXarRKAHRhTfH_xkGf7U4"
        );
    }

    #[test]
    fn a34_verifier_syntax() {
        assert!(is_valid_verifier(&"a".repeat(43)));
        assert!(is_valid_verifier(&"-._~".repeat(32)));
        for bad in [
            "a".repeat(42),
            "a".repeat(129),
            format!("{}+", "a".repeat(43)),
            format!("{}=", "a".repeat(43)),
            format!("{} ", "a".repeat(43)),
            format!("{}é", "a".repeat(43)),
        ] {
            assert!(!is_valid_verifier(&bad), "{bad}");
        }
    }
}
