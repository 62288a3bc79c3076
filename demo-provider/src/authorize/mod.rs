//! The authorization endpoint: `GET /oauth/authorize` validates the request (`request`,
//! RFC 6749 §4.1.1, RFC 7636 §4.3) and shows the consent page. The answer, `POST
//! /oauth/authorize`, is in `consent`; pushed requests, `POST /oauth/par`, in `par` (RFC 9126);
//! the redirect back to the client in `response`.

mod consent;
mod par;
mod request;
mod response;

use std::sync::Arc;

use axum::{
    Router,
    extract::{RawQuery, State},
    http::{HeaderMap, StatusCode},
    response::Response,
    routing::get,
};
use url::Url;

use crate::{
    browser, form,
    pages::{self, ConsentPage},
    photos::USERS,
    secret::random_token,
    store::{ProviderState, Transaction, expiry, now},
};
use request::{Params, check_request, trusted_target};
use response::ReplyTo;

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
