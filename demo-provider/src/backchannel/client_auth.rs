//! Client authentication at the back-channel endpoints (token, revocation, PAR):
//! `client_secret_basic`, `client_secret_post` and `private_key_jwt` (RFC 7523, checked in
//! `assertion`), exactly one per request (RFC 6749 §2.3), with
//! constant-time secret comparison and a brute-force limit (RFC 6749 §2.3.1) per client and
//! source, so that guesses from one address never lock the real client out of another.

use std::collections::HashMap;

use axum::http::{HeaderMap, header};
use base64::Engine;

use super::{assertion, error::OAuthError};
use crate::{
    form,
    source::Source,
    store::{FAILURE_WINDOW_SECS, MAX_FAILURE_ENTRIES, ProviderState, now},
};

/// Failed authentications per client from one source within [`FAILURE_WINDOW_SECS`] before
/// that source's answers for that client become 429.
pub const MAX_FAILURES: u32 = 10;

/// How a client authenticated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Basic,
    Post,
    PrivateKeyJwt,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Basic => "client_secret_basic",
            Method::Post => "client_secret_post",
            Method::PrivateKeyJwt => "private_key_jwt",
        }
    }
}

/// Which credentials a request carried, decoded but not yet checked.
struct Credentials {
    id: String,
    secret: String,
    method: Method,
}

/// The method a request used, if any, for the provider's own record (no secret checked).
pub fn method_of(headers: &HeaderMap, params: &HashMap<String, String>) -> Option<Method> {
    if params.contains_key("client_assertion") {
        Some(Method::PrivateKeyJwt)
    } else if basic_header(headers).is_some() {
        Some(Method::Basic)
    } else if params.contains_key("client_secret") {
        Some(Method::Post)
    } else {
        None
    }
}

/// Authenticates the client for a request from `source`; returns its id and the method used.
pub fn authenticate(
    state: &ProviderState,
    source: Source,
    headers: &HeaderMap,
    params: &HashMap<String, String>,
) -> Result<(String, Method), OAuthError> {
    if params.contains_key("client_assertion") || params.contains_key("client_assertion_type") {
        return with_assertion(state, headers, params);
    }
    let creds = credentials(headers, params)?;
    let basic = creds.method == Method::Basic;
    let Some(client) = state.client(&creds.id) else {
        return Err(OAuthError::invalid_client(
            "unknown client_id (RFC 6749 section 5.2)",
            basic,
        ));
    };
    if client.jwks.is_some() {
        // One registered method per client (RFC 7591 section 2): a key, so never a secret.
        return Err(OAuthError::invalid_client(
            "this client is registered for private_key_jwt; a client secret is not accepted (RFC 7591 section 2)",
            basic,
        ));
    }

    let now = now();
    let key = (creds.id, source);
    // One lock for check, compare and count, so a burst of parallel guesses cannot all slip in
    // before the first failure is counted.
    let mut tables = state.tables();
    let failures = &mut tables.auth_failures;
    if let Some((count, since)) = failures.get(&key)
        && *count >= MAX_FAILURES
        && now - since < FAILURE_WINDOW_SECS
    {
        return Err(OAuthError::too_many_attempts());
    }
    // Constant time: the comparison's duration says nothing about how much of the secret matched.
    if !client.client_secret.matches(&creds.secret) {
        if failures.len() >= MAX_FAILURE_ENTRIES && !failures.contains_key(&key) {
            failures.retain(|_, (_, since)| now - *since < FAILURE_WINDOW_SECS);
        }
        if failures.len() >= MAX_FAILURE_ENTRIES && !failures.contains_key(&key) {
            // Full of live counts: this failure cannot be counted, so it is answered as if its
            // source were over the limit. A right secret from a new source still passes.
            tracing::warn!("demo provider: too many sources are failing client authentication");
            return Err(OAuthError::too_many_attempts());
        }
        let entry = failures.entry(key).or_insert((0, now));
        if now - entry.1 >= FAILURE_WINDOW_SECS {
            *entry = (0, now);
        }
        entry.0 += 1;
        return Err(OAuthError::invalid_client(
            "client authentication failed (RFC 6749 section 5.2)",
            basic,
        ));
    }
    // A success does not reset the count: failures age out with the window, so a guesser gains
    // nothing from the real client's traffic.
    Ok((key.0, creds.method))
}

/// `private_key_jwt` (RFC 7523 section 2.2): the assertion names the client and proves it. No
/// failure count: a signature cannot be guessed the way a secret can.
fn with_assertion(
    state: &ProviderState,
    headers: &HeaderMap,
    params: &HashMap<String, String>,
) -> Result<(String, Method), OAuthError> {
    // RFC 6749 sections 2.3 and 5.2: more than one mechanism is an invalid_request.
    if basic_header(headers).is_some() || params.contains_key("client_secret") {
        return Err(OAuthError::invalid_request(
            "a client assertion and a client secret were both sent; use one method (RFC 6749 section 2.3)",
        ));
    }
    let refused = |why: &str| OAuthError::invalid_client(why, false);
    if params.get("client_assertion_type").map(String::as_str) != Some(assertion::ASSERTION_TYPE) {
        return Err(refused(
            "client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer (RFC 7523 section 2.2)",
        ));
    }
    let Some(jwt) = params.get("client_assertion") else {
        return Err(refused(
            "client_assertion is missing (RFC 7521 section 4.2)",
        ));
    };
    let id = assertion::claimed_client(params).map_err(refused)?;
    let Some(client) = state.client(&id) else {
        return Err(refused("unknown client_id (RFC 6749 section 5.2)"));
    };
    assertion::verify(state, client, jwt, now()).map_err(refused)?;
    Ok((id, Method::PrivateKeyJwt))
}

fn credentials(
    headers: &HeaderMap,
    params: &HashMap<String, String>,
) -> Result<Credentials, OAuthError> {
    let body_secret = params.get("client_secret");
    match basic_header(headers) {
        Some(encoded) => {
            // RFC 6749 §2.3: "MUST NOT use more than one authentication method in each request".
            if body_secret.is_some() {
                return Err(OAuthError::invalid_request(
                    "client credentials were sent both in the Authorization header and in the body; use one method (RFC 6749 section 2.3)",
                ));
            }
            let (id, secret) = decode_basic(encoded).ok_or_else(|| {
                OAuthError::invalid_client(
                    "malformed HTTP Basic credentials (RFC 6749 section 2.3.1, Appendix B)",
                    true,
                )
            })?;
            if params
                .get("client_id")
                .is_some_and(|body_id| *body_id != id)
            {
                return Err(OAuthError::invalid_request(
                    "client_id in the body differs from the HTTP Basic username (RFC 6749 section 2.3)",
                ));
            }
            Ok(Credentials {
                id,
                secret,
                method: Method::Basic,
            })
        }
        None => match (params.get("client_id"), body_secret) {
            (Some(id), Some(secret)) => Ok(Credentials {
                id: id.clone(),
                secret: secret.clone(),
                method: Method::Post,
            }),
            _ => Err(OAuthError::invalid_client(
                "client authentication is required: HTTP Basic or client_id + client_secret in the body (RFC 6749 section 2.3.1)",
                false,
            )),
        },
    }
}

/// The base64 part of `Authorization: Basic …` (the scheme is case-insensitive).
fn basic_header(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    // A bare "Basic" is still an attempt at Basic: it gets the Basic challenge when refused.
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    scheme.eq_ignore_ascii_case("basic").then(|| rest.trim())
}

/// Decodes `base64(urlencode(id) ":" urlencode(secret))` (RFC 6749 §2.3.1 and Appendix B): the
/// split happens at the first `:` *before* URL-decoding, so ids and secrets may contain `:`.
pub fn decode_basic(encoded: &str) -> Option<(String, String)> {
    let raw = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    let raw = String::from_utf8(raw).ok()?;
    let (id, secret) = raw.split_once(':')?;
    let id = form::component(id).ok()?;
    let secret = form::component(secret).ok()?;
    (!id.is_empty()).then_some((id, secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(id: &str, secret: &str) -> String {
        let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", enc(id), enc(secret)))
    }

    const ID: &str = "unit-client";
    const SECRET: &str = "unit-secret-5c1d";

    fn state() -> ProviderState {
        ProviderState::new(
            "http://127.0.0.1:1".into(),
            crate::DemoSettings {
                clients: vec![crate::RegisteredClient {
                    client_id: ID.into(),
                    client_secret: crate::Secret::new(SECRET),
                    redirect_uris: vec!["https://client.example/cb".into()],
                    name: "unit".into(),
                    require_par: false,
                    post_logout_redirect_uris: Vec::new(),
                    backchannel_logout_uri: None,
                    jwks: None,
                }],
                ..crate::DemoSettings::for_tests()
            },
        )
    }

    /// The source of the requests in these tests (a router without `ConnectInfo`'s).
    fn here() -> Source {
        Source::default()
    }

    fn from(last: u8) -> Source {
        Source::of(Some([192, 0, 2, last].into()))
    }

    fn post_params(id: &str, secret: &str) -> HashMap<String, String> {
        HashMap::from([
            ("client_id".to_owned(), id.to_owned()),
            ("client_secret".to_owned(), secret.to_owned()),
        ])
    }

    fn basic_headers(id: &str, secret: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let value = format!("Basic {}", encode(id, secret));
        headers.insert(header::AUTHORIZATION, value.parse().expect("header value"));
        headers
    }

    #[test]
    fn a39_the_limit_holds_inside_the_window_and_lifts_when_it_ends() {
        let state = state();
        let right = post_params(ID, SECRET);
        // Ten failures 30 seconds ago: still inside the minute, even the right secret is refused.
        state
            .tables()
            .auth_failures
            .insert((ID.into(), here()), (MAX_FAILURES, now() - 30));
        let refused = authenticate(&state, here(), &HeaderMap::new(), &right).expect_err("limited");
        assert_eq!(refused.status, axum::http::StatusCode::TOO_MANY_REQUESTS);
        // Ten failures a full window ago: the window is over, the right secret passes.
        state.tables().auth_failures.insert(
            (ID.into(), here()),
            (MAX_FAILURES, now() - FAILURE_WINDOW_SECS),
        );
        assert_eq!(
            authenticate(&state, here(), &HeaderMap::new(), &right).expect("window over"),
            (ID.to_owned(), Method::Post)
        );
    }

    #[test]
    fn a39_failures_older_than_the_window_are_forgotten_and_a_new_window_starts() {
        let state = state();
        let old = now() - FAILURE_WINDOW_SECS;
        state
            .tables()
            .auth_failures
            .insert((ID.into(), here()), (MAX_FAILURES - 1, old));
        let wrong = post_params(ID, "wrong");
        let refused =
            authenticate(&state, here(), &HeaderMap::new(), &wrong).expect_err("wrong secret");
        assert_eq!(refused.status, axum::http::StatusCode::UNAUTHORIZED);
        let (count, since) = state.tables().auth_failures[&(ID.to_owned(), here())];
        assert_eq!(count, 1, "the old failures are not counted");
        assert!(since > old, "the window restarts at this failure");
    }

    #[test]
    fn a37_a_body_client_id_must_match_the_basic_username() {
        let state = state();
        let headers = basic_headers(ID, SECRET);
        let same = HashMap::from([("client_id".to_owned(), ID.to_owned())]);
        assert_eq!(
            authenticate(&state, here(), &headers, &same).expect("same id"),
            (ID.to_owned(), Method::Basic)
        );
        let other = HashMap::from([("client_id".to_owned(), "someone-else".to_owned())]);
        let refused = authenticate(&state, here(), &headers, &other).expect_err("other id");
        assert_eq!(refused.error, "invalid_request");
    }

    #[test]
    fn a38_basic_credentials_round_trip_with_special_characters() {
        for (id, secret) in [
            ("client %&+-_.!~*'()", "s:e=c%r+e t"),
            ("plain", "p"),
            ("a:b", ""),
        ] {
            assert_eq!(
                decode_basic(&encode(id, secret)),
                Some((id.to_owned(), secret.to_owned())),
                "{id}"
            );
        }
    }

    #[test]
    fn a38_malformed_basic_credentials_are_refused() {
        use base64::engine::general_purpose::STANDARD;
        for bad in [
            "!!!notbase64",
            &STANDARD.encode("no-colon"),
            &STANDARD.encode(":secret-without-id"),
            &STANDARD.encode("id%zz:x"),
        ] {
            assert_eq!(decode_basic(bad), None, "{bad}");
        }
    }

    #[test]
    fn a39_guesses_from_one_source_do_not_lock_the_client_out_of_another() {
        let state = state();
        let (attacker, client) = (from(66), from(7));
        let wrong = post_params(ID, "guess");
        for _ in 0..MAX_FAILURES {
            let refused = authenticate(&state, attacker, &HeaderMap::new(), &wrong);
            assert_eq!(refused.expect_err("wrong").error, "invalid_client");
        }
        // The attacker's source is locked out, even with the right secret.
        let right = post_params(ID, SECRET);
        let refused = authenticate(&state, attacker, &HeaderMap::new(), &right);
        assert_eq!(
            refused.expect_err("locked").status,
            axum::http::StatusCode::TOO_MANY_REQUESTS
        );
        // The real client, from its own address, is not.
        assert_eq!(
            authenticate(&state, client, &HeaderMap::new(), &right).expect("not locked"),
            (ID.to_owned(), Method::Post)
        );
    }

    #[test]
    fn a39_the_failure_table_is_bounded_and_a_right_secret_still_passes_when_it_is_full() {
        let state = state();
        {
            let mut tables = state.tables();
            let live = now();
            for i in 0..MAX_FAILURE_ENTRIES {
                let ip = u32::try_from(i).expect("small").to_be_bytes();
                let source = Source::of(Some(ip.into()));
                tables.auth_failures.insert((ID.into(), source), (1, live));
            }
        }
        let refused = authenticate(&state, from(1), &HeaderMap::new(), &post_params(ID, "x"));
        assert_eq!(
            refused.expect_err("uncountable").status,
            axum::http::StatusCode::TOO_MANY_REQUESTS
        );
        assert_eq!(state.tables().auth_failures.len(), MAX_FAILURE_ENTRIES);
        let right = post_params(ID, SECRET);
        assert!(authenticate(&state, from(1), &HeaderMap::new(), &right).is_ok());

        // Once the counts are stale, they make room.
        for (_, since) in state.tables().auth_failures.values_mut() {
            *since -= FAILURE_WINDOW_SECS;
        }
        let refused = authenticate(&state, from(1), &HeaderMap::new(), &post_params(ID, "x"));
        assert_eq!(refused.expect_err("counted").error, "invalid_client");
        assert_eq!(state.tables().auth_failures.len(), 1);
    }
}
