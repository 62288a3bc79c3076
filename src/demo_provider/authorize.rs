//! DEMO PROVIDER (fake): the authorization endpoint. `GET /oauth/authorize` validates the request
//! and shows the consent page; `POST /oauth/authorize` records the person's answer and sends the
//! browser back to the client with a code or an error (RFC 6749 §4.1.1–4.1.2.1, RFC 7636 §4.3).

use std::{collections::HashMap, sync::Arc};

use axum::{
    Router,
    body::Bytes,
    extract::{RawQuery, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use subtle::ConstantTimeEq;
use url::Url;

use super::{
    pages::{self, ConsentPage},
    photos::USERS,
    random_token,
    store::{CodeRecord, ProviderState, SCOPES, Transaction, now},
};
use crate::form;

/// The provider's browser-binding cookie (ties a consent answer to the browser that saw it).
const BROWSER_COOKIE: &str = "demo_as_browser";
/// How long a consent screen stays answerable.
const TRANSACTION_TTL_SECS: i64 = 600;

pub fn router() -> Router<Arc<ProviderState>> {
    Router::new().route("/oauth/authorize", get(show_consent).post(answer_consent))
}

/// Where and how to send an authorization response back to the client.
struct ReplyTo<'a> {
    redirect_uri: &'a str,
    state: Option<&'a str>,
    issuer: &'a str,
}

impl ReplyTo<'_> {
    /// 303 to the redirect URI with `params`, `state` echoed exactly (RFC 6749 §4.1.2) and `iss`
    /// on every response, errors included (RFC 9207 §2). 303, never 307, so a POST's body is
    /// not replayed to the client (RFC 9700 §4.12).
    fn redirect(&self, params: &[(&str, &str)]) -> Response {
        let Ok(mut url) = Url::parse(self.redirect_uri) else {
            return pages::error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The registered redirect URI is not a URL.",
            );
        };
        {
            let mut query = url.query_pairs_mut();
            for (name, value) in params {
                query.append_pair(name, value);
            }
            if let Some(state) = self.state {
                query.append_pair("state", state);
            }
            query.append_pair("iss", self.issuer);
        }
        let mut response = StatusCode::SEE_OTHER.into_response();
        if let Ok(location) = HeaderValue::from_str(url.as_str()) {
            response.headers_mut().insert(header::LOCATION, location);
        }
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response.headers_mut().insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
        response
    }

    fn error(&self, error: &str, description: &str) -> Response {
        self.redirect(&[("error", error), ("error_description", description)])
    }
}

/// `GET /oauth/authorize`.
async fn show_consent(
    State(state): State<Arc<ProviderState>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let Ok(pairs) = form::parse_all(query.as_deref().unwrap_or(""), 16 * 1024) else {
        return pages::error_page(
            StatusCode::BAD_REQUEST,
            "The authorization request is not valid form encoding (RFC 6749 §3.1).",
        );
    };
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for (name, _) in &pairs {
        *counts.entry(name.as_str()).or_default() += 1;
    }
    // Empty values count as omitted (OAuth 2.1 §3.1).
    let params: HashMap<&str, &str> = pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();

    // 1. Client and redirect URI first. Until both are known-good, errors are shown here and
    //    never redirected: redirecting to an unverified URI makes this an open redirector
    //    (RFC 6749 §3.1.2.4, §4.1.2.1).
    if counts.get("client_id") > Some(&1) || counts.get("redirect_uri") > Some(&1) {
        return pages::error_page(
            StatusCode::BAD_REQUEST,
            "client_id or redirect_uri is repeated (RFC 6749 §3.1).",
        );
    }
    let Some(client_id) = params.get("client_id") else {
        return pages::error_page(
            StatusCode::BAD_REQUEST,
            "The request has no client_id (RFC 6749 §4.1.1).",
        );
    };
    let Some(client) = state.client(client_id) else {
        return pages::error_page(
            StatusCode::BAD_REQUEST,
            "This client_id is not registered here (RFC 6749 §4.1.2.1).",
        );
    };
    let redirect_uri = match params.get("redirect_uri") {
        // Exact string comparison, no normalization (RFC 9700 §4.1.3).
        Some(uri) if client.redirect_uris.iter().any(|r| r == uri) => (*uri).to_owned(),
        Some(_) => {
            return pages::error_page(
                StatusCode::BAD_REQUEST,
                "redirect_uri does not exactly match a URI registered for this client (RFC 6749 §3.1.2.3, RFC 9700 §4.1.3).",
            );
        }
        None if client.redirect_uris.len() == 1 => client.redirect_uris[0].clone(),
        None => {
            return pages::error_page(
                StatusCode::BAD_REQUEST,
                "redirect_uri is required when a client has several registered (OAuth 2.1 §2.3.2).",
            );
        }
    };

    // 2. From here on, errors go back to the client as redirects.
    let state_param = if counts.get("state") > Some(&1) {
        None
    } else {
        params.get("state").copied()
    };
    let reply = ReplyTo {
        redirect_uri: &redirect_uri,
        state: state_param,
        issuer: &state.issuer,
    };
    if let Some((name, _)) = counts.iter().find(|(_, n)| **n > 1) {
        return reply.error(
            "invalid_request",
            &format!(
                "parameter {} is repeated (RFC 6749 §3.1)",
                form::truncate(name, 30)
            ),
        );
    }
    match params.get("response_type") {
        Some(&"code") => {}
        None => {
            return reply.error(
                "invalid_request",
                "response_type is missing (RFC 6749 §4.1.1)",
            );
        }
        Some(_) => {
            return reply.error(
                "unsupported_response_type",
                "only response_type=code is supported; the implicit grant is deprecated (RFC 9700 §2.1.2)",
            );
        }
    }
    let Some(challenge) = params.get("code_challenge") else {
        return reply.error("invalid_request", "code_challenge is required: this server enforces PKCE (RFC 7636 §4.4.1, RFC 9700 §2.1.1)");
    };
    match params.get("code_challenge_method") {
        Some(&"S256") => {}
        None => {
            return reply.error(
                "invalid_request",
                "code_challenge_method is missing, which means plain; only S256 is accepted (RFC 7636 §4.3, §4.4.1)",
            );
        }
        Some(_) => {
            return reply.error(
                "invalid_request",
                "only code_challenge_method=S256 is supported (RFC 7636 §4.2)",
            );
        }
    }
    // An S256 challenge is exactly 43 base64url characters (RFC 7636 §4.2).
    if challenge.len() != 43
        || !challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return reply.error(
            "invalid_request",
            "code_challenge must be 43 base64url characters, without padding (RFC 7636 §4.2)",
        );
    }
    let scope: Vec<String> = params
        .get("scope")
        .unwrap_or(&"photos")
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if scope.is_empty() || !scope.iter().all(|s| SCOPES.contains(&s.as_str())) {
        return reply.error(
            "invalid_scope",
            "the requested scope is unknown; supported: photos, profile (RFC 6749 §3.3)",
        );
    }
    if state_param.is_some_and(|s| s.len() > 1024) {
        return reply.error("invalid_request", "state is longer than 1024 characters");
    }

    // 3. A valid request: remember it and ask the person.
    let browser = cookie(&headers, BROWSER_COOKIE)
        .filter(|b| b.len() == 43)
        .map(str::to_owned)
        .unwrap_or_else(random_token);
    let transaction = random_token();
    state.tables().transactions.insert(
        transaction.clone(),
        Transaction {
            client_id: client.client_id.clone(),
            redirect_uri: redirect_uri.clone(),
            scope: scope.clone(),
            state: state_param.map(str::to_owned),
            code_challenge: (*challenge).to_owned(),
            browser: browser.clone(),
            expires_at: now() + TRANSACTION_TTL_SECS,
        },
    );
    let return_origin = Url::parse(&redirect_uri)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default();
    let page = ConsentPage {
        client_name: &client.name,
        return_origin: &return_origin,
        scope: &scope,
        users: USERS,
        transaction: &transaction,
    };
    let mut response = pages::consent_page(&page, &return_origin);
    // Lax: sent again when another tab's cross-site navigation arrives here, so two consent
    // screens in one browser share the binding; never sent on cross-site POSTs.
    let cookie = format!("{BROWSER_COOKIE}={browser}; Path=/oauth; HttpOnly; SameSite=Lax");
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

/// `POST /oauth/authorize`: the person's answer. Refused (403, no redirect) unless it comes from
/// the browser that saw this consent screen, from this origin (RFC 6749 §10.12).
async fn answer_consent(
    State(state): State<Arc<ProviderState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let forbidden = |why: &str| pages::error_page(StatusCode::FORBIDDEN, why);
    if headers
        .get(header::ORIGIN)
        .is_some_and(|o| o.as_bytes() != state.issuer.as_bytes())
    {
        return forbidden(
            "This answer was not sent from the consent page (cross-site request refused).",
        );
    }
    let Some(params) = std::str::from_utf8(&body)
        .ok()
        .and_then(|b| form::parse_unique(b, 4096).ok())
    else {
        return pages::error_page(StatusCode::BAD_REQUEST, "The consent form is malformed.");
    };
    let Some(transaction) = params
        .get("transaction")
        .and_then(|t| state.tables().transactions.remove(t))
    else {
        return forbidden(
            "This consent screen is unknown or was already answered. Go back to the app and start again.",
        );
    };
    let browser = cookie(&headers, BROWSER_COOKIE).unwrap_or_default();
    if !bool::from(browser.as_bytes().ct_eq(transaction.browser.as_bytes())) {
        return forbidden("This consent screen was opened in another browser.");
    }
    if transaction.expires_at <= now() {
        return forbidden("This consent screen has expired. Go back to the app and start again.");
    }
    let reply = ReplyTo {
        redirect_uri: &transaction.redirect_uri,
        state: transaction.state.as_deref(),
        issuer: &state.issuer,
    };
    if params.get("decision").map(String::as_str) != Some("approve") {
        return reply.error(
            "access_denied",
            "the user denied the request (RFC 6749 §4.1.2.1)",
        );
    }
    let Some(user) = params
        .get("user")
        .and_then(|u| USERS.iter().find(|x| x.id == u))
    else {
        return pages::error_page(StatusCode::BAD_REQUEST, "Pick one of the demo users.");
    };
    let code = random_token();
    state.tables().codes.insert(
        code.clone(),
        CodeRecord {
            client_id: transaction.client_id,
            redirect_uri: transaction.redirect_uri.clone(),
            code_challenge: transaction.code_challenge,
            user: user.id.to_owned(),
            scope: transaction.scope,
            expires_at: now() + state.settings.code_ttl.as_secs() as i64,
            redeemed_grant: None,
        },
    );
    reply.redirect(&[("code", &code)])
}

/// The value of cookie `name`, if the request has one.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(name)?.strip_prefix('='))
}
