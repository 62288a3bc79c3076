//! The authorization request: `GET /oauth/authorize` validates it (RFC 6749 §4.1.1, RFC 7636
//! §4.3) and shows the consent page. The answer, `POST /oauth/authorize`, is in `consent`.

use std::{collections::HashMap, sync::Arc};

use axum::{
    Router,
    extract::{RawQuery, State},
    http::{HeaderMap, StatusCode},
    response::Response,
    routing::get,
};
use url::Url;

use crate::{
    RegisteredClient, browser, consent,
    form::{self, param_label},
    pages::{self, ConsentPage},
    par,
    photos::USERS,
    pkce,
    response::ReplyTo,
    secret::random_token,
    store::{ProviderState, SCOPES, Transaction, expiry, now},
};

/// The longest `state` accepted, in bytes. RFC 6749 §4.1.1 sets no limit; this pinned one keeps
/// the redirect back to the client a reasonable size (the whole query is capped at 16 KiB).
pub const MAX_STATE_BYTES: usize = 1024;

/// The longest authorization query accepted, in bytes.
const MAX_QUERY_BYTES: usize = 16 * 1024;

pub fn router() -> Router<Arc<ProviderState>> {
    Router::new()
        .route(
            "/oauth/authorize",
            get(show_consent).post(consent::answer_consent),
        )
        .route("/oauth/par", axum::routing::post(par::push))
}

/// The request's parameters: how often each name came, and the non-empty values.
pub(crate) struct Params<'q> {
    counts: HashMap<&'q str, usize>,
    values: HashMap<&'q str, &'q str>,
}

impl<'q> Params<'q> {
    pub(crate) fn new(pairs: &'q [(String, String)]) -> Self {
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for (name, _) in pairs {
            *counts.entry(name.as_str()).or_default() += 1;
        }
        // Empty values count as omitted (OAuth 2.1 §3.1).
        let values = pairs
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        Self { counts, values }
    }

    pub(crate) fn repeated(&self, name: &str) -> bool {
        self.counts.get(name).is_some_and(|n| *n > 1)
    }

    pub(crate) fn get(&self, name: &str) -> Option<&'q str> {
        self.values.get(name).copied()
    }
}

/// What a request that passed every check asks for.
pub(crate) struct Checked<'q> {
    pub(crate) scope: Vec<String>,
    pub(crate) code_challenge: Option<&'q str>,
}

/// `GET /oauth/authorize`.
async fn show_consent(
    State(state): State<Arc<ProviderState>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let Ok(pairs) = form::pairs(query.as_deref().unwrap_or(""), MAX_QUERY_BYTES) else {
        return pages::error_page(
            StatusCode::BAD_REQUEST,
            "The authorization request is not valid form encoding (RFC 6749 §3.1).",
        );
    };
    // A pushed request (RFC 9126 §4): the front channel carries only `client_id` and the
    // `request_uri`, which stands for the parameters the client pushed.
    let (pairs, pushed) = match par::take_pushed(&state, &pairs) {
        Ok(Some(pushed)) => (pushed, true),
        Ok(None) => (pairs, false),
        Err(why) => return pages::error_page(StatusCode::BAD_REQUEST, why),
    };
    let params = Params::new(&pairs);
    // 1. Client and redirect URI first. Until both are known-good, errors are shown here and
    //    never redirected: redirecting to an unverified URI makes this an open redirector
    //    (RFC 6749 §3.1.2.4, §4.1.2.1).
    let (client, redirect_uri) = match trusted_target(&state, &params) {
        Ok(target) => target,
        Err(why) => return pages::error_page(StatusCode::BAD_REQUEST, why),
    };
    if !pushed && (state.settings.require_par || client.require_par) {
        return pages::error_page(
            StatusCode::BAD_REQUEST,
            "This client must push its authorization request first, then send only client_id and request_uri (RFC 9126 §5, §6).",
        );
    }
    // 2. From here on, errors go back to the client as redirects. An ambiguous `state` is not
    //    echoed at all.
    let state_param = params.get("state").filter(|_| !params.repeated("state"));
    let reply = ReplyTo {
        redirect_uri: &redirect_uri,
        state: state_param,
        issuer: state.iss(),
    };
    let checked = match check_request(&state, &params, state_param) {
        Ok(checked) => checked,
        Err((error, description)) => return reply.error(error, &description),
    };

    // 3. A valid request: remember it and ask the person. A browser that already holds a
    //    binding keeps it, so consent screens in two of its tabs both stay answerable.
    let browser = browser::binding(&headers)
        .filter(|b| b.len() == 43)
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
                redirect_uri_sent: params.get("redirect_uri").is_some(),
                scope: checked.scope.clone(),
                state: state_param.map(str::to_owned),
                code_challenge: checked.code_challenge.map(str::to_owned),
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
        client_id: &client.client_id,
        redirect_uri: &redirect_uri,
        code_challenge: checked.code_challenge,
        state_sent: state_param.is_some(),
        return_origin: &return_origin,
        scope: &checked.scope,
        users: USERS,
        transaction: &transaction,
    };
    let mut response = pages::consent_page(&page, &return_origin);
    browser::set_binding(&mut response, &browser);
    response
}

/// The registered client and the redirect URI to answer at, or why the request must not be
/// redirected anywhere (the text of the error page).
pub(crate) fn trusted_target<'s>(
    state: &'s ProviderState,
    params: &Params<'_>,
) -> Result<(&'s RegisteredClient, String), &'static str> {
    if params.repeated("client_id") || params.repeated("redirect_uri") {
        return Err("client_id or redirect_uri is repeated (RFC 6749 §3.1).");
    }
    let client_id = params
        .get("client_id")
        .ok_or("The request has no client_id (RFC 6749 §4.1.1).")?;
    let client = state
        .client(client_id)
        .ok_or("This client_id is not registered here (RFC 6749 §4.1.2.1).")?;
    let redirect_uri = match params.get("redirect_uri") {
        // Exact string comparison, no normalization (RFC 9700 §4.1.3).
        Some(uri) if client.redirect_uris.iter().any(|r| r == uri) => uri.to_owned(),
        Some(_) => {
            return Err(
                "redirect_uri does not exactly match a URI registered for this client (RFC 6749 §3.1.2.3, RFC 9700 §4.1.3).",
            );
        }
        None => match client.redirect_uris.as_slice() {
            [only] => only.clone(),
            _ => {
                return Err(
                    "redirect_uri is required when a client has several registered (OAuth 2.1 §2.3.2).",
                );
            }
        },
    };
    Ok((client, redirect_uri))
}

/// Every other rule of the request, or the `error` and `error_description` to send back to the
/// client (RFC 6749 §4.1.2.1).
pub(crate) fn check_request<'q>(
    state: &ProviderState,
    params: &Params<'q>,
    state_param: Option<&str>,
) -> Result<Checked<'q>, (&'static str, String)> {
    let invalid = |description: &str| Err(("invalid_request", description.to_owned()));
    if let Some((name, _)) = params.counts.iter().find(|(_, n)| **n > 1) {
        // The name is echoed only if it is a known parameter (no attacker text in the reply).
        return invalid(&format!(
            "{} is repeated (RFC 6749 section 3.1)",
            param_label(name)
        ));
    }
    if state_param.is_some_and(|s| s.len() > MAX_STATE_BYTES) {
        return invalid(
            "state is longer than this server's limit of 1024 bytes (RFC 6749 section 4.1.1 leaves the limit to the server)",
        );
    }
    match params.get("response_type") {
        Some("code") => {}
        None => return invalid("response_type is missing (RFC 6749 section 4.1.1)"),
        Some(_) => {
            return Err((
                "unsupported_response_type",
                "only response_type=code is supported; the implicit grant is deprecated (RFC 9700 section 2.1.2)".into(),
            ));
        }
    }
    let code_challenge = params.get("code_challenge");
    if code_challenge.is_none() && state.settings.pkce_required {
        return invalid(
            "code_challenge is required: this server enforces PKCE (RFC 7636 section 4.4.1, RFC 9700 section 2.1.1)",
        );
    }
    if let Some(challenge) = code_challenge
        && let Err(description) =
            pkce::check_challenge(challenge, params.get("code_challenge_method"))
    {
        return invalid(description);
    }
    let scope: Vec<String> = params
        .get("scope")
        .unwrap_or("photos")
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if scope.is_empty() || !scope.iter().all(|s| SCOPES.contains(&s.as_str())) {
        return Err((
            "invalid_scope",
            "the requested scope is unknown; supported: photos, profile (RFC 6749 section 3.3)"
                .into(),
        ));
    }
    Ok(Checked {
        scope,
        code_challenge,
    })
}
