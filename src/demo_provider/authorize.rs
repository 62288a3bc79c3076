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
    param_label,
    photos::USERS,
    random_token,
    store::{CodeRecord, ProviderState, SCOPES, Transaction, expiry, now},
};
use crate::{form, session::cookie_value};

/// The provider's browser-binding cookie (ties a consent answer to the browser that saw it).
const BROWSER_COOKIE: &str = "demo_as_browser";
/// The longest `state` accepted, in bytes. RFC 6749 §4.1.1 sets no limit; this pinned one keeps
/// the redirect back to the client a reasonable size (the whole query is capped at 16 KiB).
pub const MAX_STATE_BYTES: usize = 1024;

pub fn router() -> Router<Arc<ProviderState>> {
    Router::new().route("/oauth/authorize", get(show_consent).post(answer_consent))
}

/// Where and how to send an authorization response back to the client.
struct ReplyTo<'a> {
    redirect_uri: &'a str,
    state: Option<&'a str>,
    /// `None` only under the `no-iss` quirk.
    issuer: Option<&'a str>,
}

impl ReplyTo<'_> {
    /// 303 to the redirect URI with `params`, `state` echoed exactly (RFC 6749 §4.1.2) and `iss`
    /// on every response, errors included (RFC 9207 §2). 303, never 307, so a POST's body is
    /// not replayed to the client (RFC 9700 §4.12).
    fn redirect(&self, params: &[(&str, &str)]) -> Response {
        let Ok(mut url) = Url::parse(self.redirect_uri) else {
            // Unreachable: redirect URIs are checked at registration (RFC 6749 §3.1.2).
            return pages::error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The registered redirect URI is not a URL (RFC 6749 §3.1.2).",
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
            if let Some(issuer) = self.issuer {
                query.append_pair("iss", issuer);
            }
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
        issuer: state.iss(),
    };
    if let Some((name, _)) = counts.iter().find(|(_, n)| **n > 1) {
        // The name is echoed only if it is a known parameter (no attacker text in the reply).
        return reply.error(
            "invalid_request",
            &format!("{} is repeated (RFC 6749 section 3.1)", param_label(name)),
        );
    }
    if state_param.is_some_and(|s| s.len() > MAX_STATE_BYTES) {
        return reply.error(
            "invalid_request",
            "state is longer than this server's limit of 1024 bytes (RFC 6749 section 4.1.1 leaves the limit to the server)",
        );
    }
    match params.get("response_type") {
        Some(&"code") => {}
        None => {
            return reply.error(
                "invalid_request",
                "response_type is missing (RFC 6749 section 4.1.1)",
            );
        }
        Some(_) => {
            return reply.error(
                "unsupported_response_type",
                "only response_type=code is supported; the implicit grant is deprecated (RFC 9700 section 2.1.2)",
            );
        }
    }
    let challenge = match params.get("code_challenge") {
        Some(challenge) => Some(*challenge),
        None if state.settings.pkce_required => {
            return reply.error(
                "invalid_request",
                "code_challenge is required: this server enforces PKCE (RFC 7636 section 4.4.1, RFC 9700 section 2.1.1)",
            );
        }
        None => None,
    };
    if let Some(challenge) = challenge
        && let Err(description) = check_challenge(challenge, params.get("code_challenge_method"))
    {
        return reply.error("invalid_request", description);
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
            "the requested scope is unknown; supported: photos, profile (RFC 6749 section 3.3)",
        );
    }

    // 3. A valid request: remember it and ask the person.
    let browser = cookie_value(&headers, BROWSER_COOKIE)
        .filter(|b| b.len() == 43)
        .map(str::to_owned)
        .unwrap_or_else(random_token);
    let transaction = random_token();
    {
        let mut tables = state.tables();
        let now = now();
        // Anyone can open consent screens: past the cap, expired ones go first, and if that is
        // not enough the request is refused rather than letting memory grow without bound.
        if tables.transactions.len() >= state.settings.max_pending {
            tables.transactions.retain(|_, t| t.expires_at > now);
        }
        if tables.transactions.len() >= state.settings.max_pending {
            drop(tables);
            return reply.error(
                "temporarily_unavailable",
                "too many sign-ins are in progress; try again in a few minutes (RFC 6749 section 4.1.2.1)",
            );
        }
        tables.transactions.insert(
            transaction.clone(),
            Transaction {
                client_id: client.client_id.clone(),
                redirect_uri: redirect_uri.clone(),
                redirect_uri_sent: params.contains_key("redirect_uri"),
                scope: scope.clone(),
                state: state_param.map(str::to_owned),
                code_challenge: challenge.map(str::to_owned),
                browser: browser.clone(),
                expires_at: expiry(now, state.settings.transaction_ttl),
            },
        );
    }
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
    // A browser says where a POST comes from; a form on another site is refused before anything
    // else is looked at (RFC 6749 §10.12). Fetch metadata must say `same-origin`. `Origin` must
    // be this issuer, except `null`: the consent page's `Referrer-Policy: no-referrer` makes
    // browsers send `Origin: null` on its own form (Fetch, "append a request Origin header").
    // Neither header (curl, old browsers) falls through to the cookie check, which a cross-site
    // form cannot pass either: the cookie is SameSite=Lax, so it is withheld from such POSTs.
    let foreign_fetch = headers
        .get("sec-fetch-site")
        .is_some_and(|v| !v.as_bytes().eq_ignore_ascii_case(b"same-origin"));
    let foreign_origin = headers
        .get(header::ORIGIN)
        .is_some_and(|o| o.as_bytes() != b"null" && o.as_bytes() != state.issuer.as_bytes());
    if foreign_fetch || foreign_origin {
        return forbidden(
            "This answer was not sent from the consent page: cross-site requests are refused (RFC 6749 §10.12).",
        );
    }
    let Some(params) = std::str::from_utf8(&body)
        .ok()
        .and_then(|b| form::parse_unique(b, 4096).ok())
    else {
        return pages::error_page(
            StatusCode::BAD_REQUEST,
            "The consent form is malformed: expected one transaction, user and decision (RFC 6749 Appendix B).",
        );
    };
    let browser = cookie_value(&headers, BROWSER_COOKIE).unwrap_or_default();
    let transaction = {
        let mut tables = state.tables();
        let Some(id) = params.get("transaction") else {
            return forbidden(
                "The consent answer has no transaction: it did not come from the consent page (RFC 6749 §10.12).",
            );
        };
        let Some(found) = tables.transactions.get(id) else {
            return forbidden(
                "This consent screen is unknown or was already answered. Go back to the app and start again (RFC 6749 §10.12).",
            );
        };
        // Checked before the transaction is consumed, so a forged answer cannot cancel the
        // real person's consent screen.
        if !bool::from(browser.as_bytes().ct_eq(found.browser.as_bytes())) {
            return forbidden(
                "This consent screen was opened in another browser (RFC 6749 §10.12).",
            );
        }
        let Some(transaction) = tables.transactions.remove(id) else {
            return forbidden("This consent screen was already answered (RFC 6749 §10.12).");
        };
        transaction
    };
    if transaction.expires_at <= now() {
        return forbidden(
            "This consent screen has expired. Go back to the app and start again (RFC 6749 §10.12).",
        );
    }
    let reply = ReplyTo {
        redirect_uri: &transaction.redirect_uri,
        state: transaction.state.as_deref(),
        issuer: state.iss(),
    };
    if params.get("decision").map(String::as_str) != Some("approve") {
        return reply.error(
            "access_denied",
            "the user denied the request (RFC 6749 section 4.1.2.1)",
        );
    }
    let Some(user) = params
        .get("user")
        .and_then(|u| USERS.iter().find(|x| x.id == u))
    else {
        return pages::error_page(
            StatusCode::BAD_REQUEST,
            "Pick one of the demo users: the resource owner must be known before a code is issued (RFC 9700 §4.11.2).",
        );
    };
    let code = random_token();
    {
        let mut tables = state.tables();
        let now = now();
        if tables.codes.len() >= state.settings.max_pending {
            let grace = super::store::secs(state.settings.code_ttl).saturating_mul(10);
            tables
                .codes
                .retain(|_, c| c.expires_at.saturating_add(grace) > now);
        }
        if tables.codes.len() >= state.settings.max_pending {
            drop(tables);
            return reply.error(
                "temporarily_unavailable",
                "too many codes are waiting to be redeemed; try again in a few minutes (RFC 6749 section 4.1.2.1)",
            );
        }
        tables.codes.insert(
            code.clone(),
            CodeRecord {
                client_id: transaction.client_id,
                redirect_uri: transaction.redirect_uri.clone(),
                redirect_uri_sent: transaction.redirect_uri_sent,
                code_challenge: transaction.code_challenge,
                user: user.id.to_owned(),
                scope: transaction.scope,
                expires_at: expiry(now, state.settings.code_ttl),
                redeemed_grant: None,
            },
        );
    }
    reply.redirect(&[("code", &code)])
}

/// Checks an S256 challenge and its method (RFC 7636 §4.2, §4.3, §4.4.1).
fn check_challenge(challenge: &str, method: Option<&&str>) -> Result<(), &'static str> {
    match method {
        Some(&"S256") => {}
        None => {
            return Err(
                "code_challenge_method is missing, which means plain; only S256 is accepted (RFC 7636 section 4.3, section 4.4.1)",
            );
        }
        Some(_) => {
            return Err("only code_challenge_method=S256 is supported (RFC 7636 section 4.2)");
        }
    }
    // An S256 challenge is exactly 43 base64url characters (RFC 7636 §4.2).
    if challenge.len() != 43
        || !challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(
            "code_challenge must be 43 base64url characters, without padding (RFC 7636 section 4.2)",
        );
    }
    Ok(())
}
