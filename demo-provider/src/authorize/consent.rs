//! The consent answer: `POST /oauth/authorize` records the person's decision and sends the
//! browser back to the client with a code or `access_denied` (RFC 6749 §4.1.2, §4.1.2.1). Only
//! the browser that saw the consent screen, on this origin, may answer (RFC 6749 §10.12).

use std::sync::Arc;

use axum::{
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::Response,
};
use subtle::ConstantTimeEq;

use super::response::ReplyTo;
use crate::{
    browser, form, pages,
    photos::USERS,
    secret::random_token,
    store::{CodeRecord, ProviderState, expiry, now, secs},
};

/// The consent form is three short fields.
const MAX_FORM_BYTES: usize = 4096;

/// `POST /oauth/authorize`: the person's answer. Refused (403, no redirect) unless it comes from
/// the browser that saw this consent screen, from this origin (RFC 6749 §10.12).
pub(crate) async fn answer_consent(
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
        .and_then(|b| form::unique(b, MAX_FORM_BYTES).ok())
    else {
        return pages::error_page(
            StatusCode::BAD_REQUEST,
            "The consent form is malformed: expected one transaction, user and decision (RFC 6749 Appendix B).",
        );
    };
    let browser = browser::binding(&headers).unwrap_or_default();
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
            let grace = secs(state.settings.code_ttl).saturating_mul(10);
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
                nonce: transaction.nonce,
                auth_time: now,
                redeemed_grant: None,
            },
        );
    }
    reply.redirect(&[("code", &code)])
}
