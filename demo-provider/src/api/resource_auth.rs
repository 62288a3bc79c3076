//! How the photos API authenticates a request: the one `Authorization` header, `Bearer`
//! (RFC 6750) or `DPoP` (RFC 9449 section 7); the token's record; for a DPoP-bound token its
//! proof and key binding. Its refusals are `challenge`'s.

use axum::{
    body::Bytes,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::Response,
};

use super::challenge::{Refused, Scheme, refused};
use crate::{
    dpop::{self, Expected, Refusal},
    form,
    store::{ProviderState, now},
};

/// The user whose token authorizes this `method` request to `path`, or the refusal to send.
pub(crate) fn authenticate(
    state: &ProviderState,
    method: &str,
    path: &str,
    headers: &HeaderMap,
    query: &str,
    body: &Bytes,
) -> Result<String, Refused> {
    use Scheme::{Bearer, Dpop};
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let value = match (values.next(), values.next()) {
        (None, _) => {
            return Err(refused(
                StatusCode::UNAUTHORIZED,
                Bearer,
                None,
                "send the access token as Authorization: Bearer <token> (or DPoP <token> with a DPoP proof); tokens in the query or body are ignored (RFC 6750 section 2.1, RFC 9449 section 7.1, OAuth 2.1 section 5.1)",
            ));
        }
        (Some(_), Some(_)) => {
            return Err(refused(
                StatusCode::BAD_REQUEST,
                Bearer,
                Some(("invalid_request", None)),
                "more than one Authorization header, e.g. DPoP and Bearer at once: use one method (RFC 6750 section 3.1, RFC 9449 section 7.1)",
            ));
        }
        (Some(value), None) => value,
    };
    let Some((scheme, token)) = credentials(value) else {
        return Err(refused(
            StatusCode::BAD_REQUEST,
            Bearer,
            Some(("invalid_request", None)),
            "the Authorization header is not Bearer <token> or DPoP <token> (RFC 6750 section 2.1, RFC 9449 section 7.1)",
        ));
    };
    // Only the Authorization header counts. `?access_token=` and a form body are never read as
    // credentials (OAuth 2.1 §5.1; RFC 6750 §2.2 forbids the body method on GET), but sending
    // one *with* the header is two methods at once: invalid_request (RFC 6750 §2, §3.1).
    if has_access_token(query)
        || (is_form(headers) && std::str::from_utf8(body).is_ok_and(has_access_token))
    {
        return Err(refused(
            StatusCode::BAD_REQUEST,
            scheme,
            Some(("invalid_request", None)),
            "the access token was sent in more than one way; use only the Authorization header (RFC 6750 section 2, section 3.1)",
        ));
    }
    let record = {
        let tables = state.tables();
        tables
            .access
            .get(token)
            .filter(|a| a.expires_at > now())
            .and_then(|a| {
                let grant = tables.grants.get(&a.grant).filter(|g| !g.revoked)?;
                Some((a.scope.clone(), grant.user.clone(), a.jkt.clone()))
            })
    };
    let Some((scope, user, jkt)) = record else {
        return Err(refused(
            StatusCode::UNAUTHORIZED,
            scheme,
            Some(("invalid_token", None)),
            "the access token is unknown, expired or revoked (RFC 6750 section 3.1)",
        ));
    };
    match (scheme, jkt) {
        (Bearer, None) => {}
        (Bearer, Some(_)) => {
            return Err(refused(
                StatusCode::UNAUTHORIZED,
                Dpop,
                Some(("invalid_token", None)),
                "this access token is DPoP-bound: send it as Authorization: DPoP with a DPoP proof, never as Bearer (RFC 9449 section 7.2)",
            ));
        }
        (Dpop, None) => {
            return Err(refused(
                StatusCode::UNAUTHORIZED,
                Dpop,
                Some(("invalid_token", None)),
                "this access token is not DPoP-bound (token_type Bearer): send it as Authorization: Bearer (RFC 6749 section 7.1, RFC 6750 section 2.1)",
            ));
        }
        (Dpop, Some(jkt)) => check_proof(state, method, path, headers, token, &jkt)?,
    }
    if !scope.iter().any(|s| s == "photos") {
        return Err(refused(
            StatusCode::FORBIDDEN,
            scheme,
            Some(("insufficient_scope", Some("photos"))),
            "the access token was not granted the photos scope (RFC 6750 section 3.1)",
        ));
    }
    Ok(user)
}

/// The proof that must come with a DPoP-bound token: valid for this request and this token
/// (RFC 9449 section 4.3) and signed with the key the token is bound to (section 7.1).
fn check_proof(
    state: &ProviderState,
    method: &str,
    path: &str,
    headers: &HeaderMap,
    token: &str,
    jkt: &str,
) -> Result<(), Refused> {
    let expected = Expected {
        method,
        url: format!("{}{path}", state.issuer),
        access_token: Some(token),
    };
    let refusal = match dpop::header(headers) {
        Ok(None) => Refusal::Invalid(
            "a DPoP-bound access token must come with a DPoP proof in the DPoP header (RFC 9449 section 7.1)",
        ),
        Ok(Some(proof)) => match dpop::verify(state, proof, &expected, now()) {
            Ok(key) if key == jkt => return Ok(()),
            Ok(_) => {
                return Err(refused(
                    StatusCode::UNAUTHORIZED,
                    Scheme::Dpop,
                    Some(("invalid_token", None)),
                    "the DPoP proof is signed with another key than the one the access token is bound to (RFC 9449 section 7.1, section 6.1)",
                ));
            }
            Err(refusal) => refusal,
        },
        Err(refusal) => refusal,
    };
    Err(match refusal {
        Refusal::Invalid(why) => refused(
            StatusCode::UNAUTHORIZED,
            Scheme::Dpop,
            Some(("invalid_dpop_proof", None)),
            why,
        ),
        Refusal::UseNonce => refused(
            StatusCode::UNAUTHORIZED,
            Scheme::Dpop,
            Some(("use_dpop_nonce", None)),
            "this resource requires a DPoP proof with the nonce given in the DPoP-Nonce header (RFC 9449 section 9)",
        ),
        Refusal::Busy => Refused {
            status: StatusCode::SERVICE_UNAVAILABLE,
            scheme: None,
            error: Some(("temporarily_unavailable", None)),
            description: "too many DPoP proofs are remembered; try again in a minute (RFC 9449 section 11.1)",
        },
    })
}

/// Puts the server's nonce on the answer to a request that uses DPoP (the scheme or a proof),
/// when nonces are on: on errors and successes alike (RFC 9449 section 9).
pub(crate) fn add_nonce(state: &ProviderState, headers: &HeaderMap, response: &mut Response) {
    let dpop_scheme = headers.get_all(header::AUTHORIZATION).iter().any(|v| {
        v.to_str()
            .is_ok_and(|v| credentials_scheme(v) == Some(Scheme::Dpop))
    });
    if state.settings.dpop_nonce
        && (dpop_scheme || headers.contains_key("dpop"))
        && let Ok(nonce) = HeaderValue::from_str(state.dpop.nonce())
    {
        response.headers_mut().insert("dpop-nonce", nonce);
    }
}

fn credentials_scheme(value: &str) -> Option<Scheme> {
    let (scheme, _) = value.split_once(' ')?;
    if scheme.eq_ignore_ascii_case("bearer") {
        Some(Scheme::Bearer)
    } else if scheme.eq_ignore_ascii_case("dpop") {
        Some(Scheme::Dpop)
    } else {
        None
    }
}

/// `Bearer <token>` or `DPoP <token>`, the scheme case-insensitive (RFC 6750 section 2.1,
/// RFC 9449 section 7.1, RFC 9110 section 11.1).
fn credentials(value: &HeaderValue) -> Option<(Scheme, &str)> {
    let value = value.to_str().ok()?;
    let scheme = credentials_scheme(value)?;
    let token = value.split_once(' ')?.1.trim();
    (!token.is_empty()).then_some((scheme, token))
}

/// Whether a form (query or body) carries an `access_token` parameter.
fn has_access_token(raw: &str) -> bool {
    form::pairs(raw, 64 * 1024)
        .is_ok_and(|pairs| pairs.iter().any(|(name, _)| name == "access_token"))
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        })
}
