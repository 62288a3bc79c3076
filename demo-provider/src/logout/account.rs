//! The account page, `GET /account`: the demo users' active sessions (their grants, per client)
//! and, per user, "Sign out of all apps" (`POST /account/logout`), which ends them all here and
//! tells each client by back channel (OIDC Back-Channel Logout 1.0 §2.5).

use std::sync::Arc;

use askama::Template;
use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use subtle::ConstantTimeEq;

use crate::{
    form, pages,
    photos::USERS,
    store::{ProviderState, now},
};

pub fn router() -> Router<Arc<ProviderState>> {
    Router::new()
        .route("/account", get(show))
        .route("/account/logout", post(sign_out_everywhere))
}

/// One user's active sessions: the names of the clients holding a live grant.
struct Row {
    id: &'static str,
    name: &'static str,
    clients: Vec<String>,
}

#[derive(Template)]
#[template(
    ext = "html",
    source = r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Your account at {{ crate::pages::DISPLAY_NAME }}</title>
  <link rel="stylesheet" href="/assets/provider.css">
</head>
<body>
  <main class="panel" aria-labelledby="account-title">
    <p class="brand">{{ crate::pages::DISPLAY_NAME }} <span class="tag">demo authorization server</span></p>
    <h1 id="account-title">Active sessions</h1>
    <ul class="sessions">
    {% for row in rows %}
      <li id="user-{{ row.id }}"><strong>{{ row.name }}</strong>:
        {% if row.clients.is_empty() %}signed in to no app{% else %}signed in to {% for c in row.clients %}{{ c }}{% if !loop.last %}, {% endif %}{% endfor %}
        <form method="post" action="/account/logout">
          <input type="hidden" name="token" value="{{ token }}">
          <input type="hidden" name="user" value="{{ row.id }}">
          <button type="submit">Sign out of all apps</button>
        </form>{% endif %}
      </li>
    {% endfor %}
    </ul>
  </main>
</body>
</html>"#
)]
struct AccountPage<'a> {
    rows: Vec<Row>,
    token: &'a str,
}

/// `GET /account`.
async fn show(State(state): State<Arc<ProviderState>>) -> Response {
    let rows = {
        let tables = state.tables();
        USERS
            .iter()
            .map(|user| {
                let mut clients: Vec<String> = tables
                    .grants
                    .values()
                    .filter(|g| g.user == user.id && !g.revoked)
                    .filter_map(|g| state.client(&g.client_id).map(|c| c.name.clone()))
                    .collect();
                clients.sort();
                clients.dedup();
                Row {
                    id: user.id,
                    name: user.name,
                    clients,
                }
            })
            .collect()
    };
    let page = AccountPage {
        rows,
        token: &state.account_form_token,
    };
    pages::page(&page)
}

/// `POST /account/logout`: only from this page (its `Origin`, and its form token, compared in
/// constant time: a cross-site form cannot sign anyone out, RFC 6749 §10.12).
async fn sign_out_everywhere(
    State(state): State<Arc<ProviderState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let forbidden = || {
        pages::error_page(
            StatusCode::FORBIDDEN,
            "This form must come from the account page.",
        )
    };
    let origin = headers.get(header::ORIGIN).map(HeaderValue::as_bytes);
    if origin != Some(state.issuer.as_bytes()) {
        return forbidden();
    }
    let Ok(params) = std::str::from_utf8(&body)
        .map_err(|_| ())
        .and_then(|b| form::unique(b, 4096).map_err(|_| ()))
    else {
        return forbidden();
    };
    let sent = params
        .get("token")
        .map(String::as_bytes)
        .unwrap_or_default();
    if !bool::from(sent.ct_eq(state.account_form_token.as_bytes())) {
        return forbidden();
    }
    let Some(user) = params
        .get("user")
        .filter(|u| USERS.iter().any(|known| known.id == *u))
    else {
        return pages::error_page(StatusCode::BAD_REQUEST, "No such user.");
    };
    let ended = super::deliver::end_user_sessions(&state, user, None, now());
    tracing::info!(user, ended, "signed out of all apps from the account page");
    let mut response = StatusCode::SEE_OTHER.into_response();
    response
        .headers_mut()
        .insert(header::LOCATION, HeaderValue::from_static("/account"));
    response
}
