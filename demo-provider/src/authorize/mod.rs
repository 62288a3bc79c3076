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
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::Response,
    routing::get,
};
use url::Url;

use crate::{
    browser, form,
    pages::{self, ConsentPage},
    photos::USERS,
    secret::random_token,
    source::Source,
    store::{MAX_PENDING_PER_SOURCE, ProviderState, Transaction, expiry, now},
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
    source: Source,
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
        // Anyone can open consent screens, so each source gets a share: past it, that source
        // waits (its screens expire, or it answers them) while others still sign in. Checked
        // without a scan, so refusing a flood costs nothing.
        if tables.transactions.of_source(source) >= MAX_PENDING_PER_SOURCE {
            drop(tables);
            return too_many_from_here();
        }
        // Then the whole table: past the cap, expired ones go first, and if that is
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
            source,
            Transaction {
                client_id: client.client_id.clone(),
                redirect_uri: redirect_uri.clone(),
                redirect_uri_sent: params.get("redirect_uri").is_some(),
                scope: checked.scope.clone(),
                state: state_param.map(str::to_owned),
                code_challenge: checked.code_challenge.map(str::to_owned),
                nonce: checked.nonce.map(str::to_owned),
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

/// 429 for a source past its share of pending consent screens: a page for the person, since a
/// redirect would only send them back to the app to try again at once.
fn too_many_from_here() -> Response {
    let mut response = pages::error_page(
        StatusCode::TOO_MANY_REQUESTS,
        "Too many sign-ins are waiting from your network. Finish or close the consent screens already open, or wait a few minutes, then start again from the app.",
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "unit-client";

    fn state(max_pending: usize) -> Arc<ProviderState> {
        Arc::new(ProviderState::new(
            "http://127.0.0.1:1".into(),
            crate::DemoSettings {
                clients: vec![crate::RegisteredClient {
                    client_id: ID.into(),
                    client_secret: crate::Secret::new("unit-secret-5c1d"),
                    redirect_uris: vec!["https://client.example/cb".into()],
                    name: "unit".into(),
                    require_par: false,
                    post_logout_redirect_uris: Vec::new(),
                    backchannel_logout_uri: None,
                    jwks: None,
                }],
                max_pending,
                ..crate::DemoSettings::for_tests()
            },
        ))
    }

    fn from(last: u8) -> Source {
        Source::of(Some([192, 0, 2, last].into()))
    }

    /// `GET /oauth/authorize` with a valid request, from `source`.
    async fn open(state: &Arc<ProviderState>, source: Source) -> Response {
        let query = format!(
            "response_type=code&client_id={ID}&code_challenge_method=S256\
             &code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        show_consent(
            State(state.clone()),
            source,
            HeaderMap::new(),
            RawQuery(Some(query)),
        )
        .await
    }

    #[tokio::test]
    async fn one_source_cannot_take_every_pending_consent_screen() {
        let state = state(10_000);
        let (flood, person) = (from(66), from(7));
        for _ in 0..MAX_PENDING_PER_SOURCE {
            assert_eq!(open(&state, flood).await.status(), StatusCode::OK);
        }
        let refused = open(&state, flood).await;
        assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(refused.headers()[header::RETRY_AFTER], "60");
        assert_eq!(state.tables().transactions.len(), MAX_PENDING_PER_SOURCE);
        // Someone else still gets a consent screen.
        assert_eq!(open(&state, person).await.status(), StatusCode::OK);
        // Answered or expired screens give the flood's source its share back.
        state.purge(now() + 24 * 3600);
        assert_eq!(open(&state, flood).await.status(), StatusCode::OK);
    }

    #[tokio::test]
    async fn the_global_cap_still_holds_across_sources() {
        let state = state(3);
        for last in 1..=3 {
            assert_eq!(open(&state, from(last)).await.status(), StatusCode::OK);
        }
        let refused = open(&state, from(4)).await;
        assert_eq!(
            refused.status(),
            StatusCode::SEE_OTHER,
            "temporarily_unavailable"
        );
        assert_eq!(state.tables().transactions.len(), 3);
    }
}
