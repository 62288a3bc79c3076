//! A strict, RFC-following demo OAuth 2.0 authorization server with a bearer-protected photos
//! API. **DEMO ONLY**: the users are hard-coded, everything lives in memory, and it speaks plain
//! http (on loopback unless told otherwise). It knows nothing of any client: clients are
//! registered through [`DemoSettings::clients`], and a client finds the endpoints through the
//! RFC 8414 metadata at `{issuer}/.well-known/oauth-authorization-server`.
//!
//! It follows RFC 6749, RFC 7636 (PKCE, S256 only), RFC 9700, RFC 9207 (`iss`), RFC 8414,
//! RFC 9126 (pushed authorization requests), RFC 9449 (DPoP), RFC 7523 (`private_key_jwt`),
//! RFC 7009 (revocation) and RFC 6750 (bearer tokens), and speaks OpenID Connect (Core,
//! Discovery) when `openid` is in the scope; every refusal names the rule it
//! applies. [`spawn`] runs it on its own listener and origin, so a browser really leaves the
//! client's site and comes back; `cargo run -p demo-provider` runs it alone (see `README.md`).
//!
//! The modules, in floors from the bottom up: each imports only from the floors below it
//! (within a floor, from those listed before it), never from above, so there is no cycle.
//!
//! 1. tools, which import nothing from the crate: `browser` (the browser-binding cookie),
//!    `form` (the strict form parser), `id_token` (the ID-token key, JWKS and signed ID
//!    tokens, OIDC Core §2), `photos` (the demo users and their photos), `pkce`
//!    (S256), `secret` (redacted secrets, random tokens), `source` (who is asking: the peer's
//!    network, for per-source bounds);
//! 2. `pages`, the HTML pages and [`DISPLAY_NAME`]; `settings/`, how it runs, with its quirks
//!    and the clients it knows (the redirect-URI rules checked at registration);
//! 3. `dpop_state`, the DPoP nonce and `jti` replay table; `per_source`, a table counted per
//!    source; `store`, the in-memory state (transactions, codes, grants, tokens, and that DPoP
//!    state); `purge`, which drops what expired from it;
//! 4. what several endpoints share: `dpop`, DPoP proofs (RFC 9449), for the token endpoint and
//!    the photos API; `backchannel/`, the token, revocation and PAR endpoints' strict form body,
//!    client authentication (with `private_key_jwt`, RFC 7523, whose signatures it checks with
//!    `dpop`'s JWK helpers) and RFC 6749 §5.2 JSON error;
//! 5. the endpoints, one folder (or file) each: `api/` (the photos API, how it authenticates
//!    with Bearer or DPoP and how it refuses), `authorize/` (the authorization endpoint, its
//!    consent answer, pushed requests (RFC 9126) and the redirect back), `logout/` (the
//!    end-session endpoint, the account page and back-channel logout delivery, OIDC
//!    RP-Initiated and Back-Channel Logout 1.0), `revoke` (RFC 7009),
//!    `token/` (the token endpoint, its two grants and the token response);
//! 6. this file, the root: [`spawn`], the router and the metadata handlers (RFC 8414, OpenID
//!    Connect Discovery) and the JWKS.

// 1. tools
mod browser;
mod form;
mod id_token;
mod photos;
mod pkce;
mod secret;
mod source;
// 2. pages and settings
mod pages;
mod settings;
// 3. state
mod dpop_state;
mod per_source;
mod purge;
mod store;
// 4. what several endpoints share
mod backchannel;
mod dpop;
// 5. the endpoints
mod api;
mod authorize;
mod logout;
mod revoke;
mod token;

use std::{net::SocketAddr, sync::Arc, time::Duration};

use anyhow::Context;
use axum::{Json, Router, extract::DefaultBodyLimit, extract::State, routing::get};
use serde_json::json;
use tokio::{net::TcpListener, task::JoinHandle};

pub use pages::DISPLAY_NAME;
pub use secret::Secret;
pub use settings::{DemoSettings, ENV_VARIABLES, Quirks, RegisteredClient, parse_clients_file};
pub use store::{ProviderState, TokenRequestSeen};

/// A running demo provider.
pub struct DemoProvider {
    /// Its issuer identifier and base URL, e.g. `http://127.0.0.1:3001` (RFC 8414 §2).
    pub issuer: String,
    /// Its state: registered clients, codes, tokens and what it has seen (tests inspect it).
    pub state: Arc<ProviderState>,
    /// The server task; aborting it stops the provider.
    pub task: JoinHandle<()>,
}

/// Starts the provider with `settings`. Refuses settings that [`DemoSettings::validate`]
/// refuses, e.g. an `http` redirect URI on a non-loopback host without `allow_http` (AR-05).
pub async fn spawn(settings: DemoSettings) -> anyhow::Result<DemoProvider> {
    settings.validate()?;
    if !settings.pkce_required {
        tracing::warn!("demo provider: PKCE is optional (test-only setting)");
    }
    let listener = TcpListener::bind(settings.addr).await.with_context(|| {
        format!(
            "the demo provider cannot listen on {} (DEMO_PROVIDER_ADDR; another copy still \
                 running? stop it, or set DEMO_PROVIDER_ADDR to a free address)",
            settings.addr
        )
    })?;
    let mut addr = listener.local_addr()?;
    if addr.ip().is_unspecified() {
        addr.set_ip([127, 0, 0, 1].into());
    }
    let issuer = format!("http://{addr}");
    let state = Arc::new(ProviderState::new(issuer.clone(), settings));
    state.spawn_purger(Duration::from_secs(30));
    let app = router(state.clone());
    let task = tokio::spawn(async move {
        // With the peer address, for the per-source bounds (`source`).
        let app = app.into_make_service_with_connect_info::<SocketAddr>();
        if let Err(err) = axum::serve(listener, app).await {
            tracing::error!(error = %err, "demo provider stopped");
        }
    });
    Ok(DemoProvider {
        issuer,
        state,
        task,
    })
}

fn router(state: Arc<ProviderState>) -> Router {
    Router::new()
        .route("/.well-known/oauth-authorization-server", get(metadata))
        .route(
            "/.well-known/openid-configuration",
            get(openid_configuration),
        )
        .route(JWKS_PATH, get(jwks))
        .merge(authorize::router())
        .merge(token::router())
        .merge(revoke::router())
        .merge(logout::router())
        .merge(api::router())
        .route("/assets/provider.css", get(pages::stylesheet))
        // Token and consent bodies are tiny: a 64 KiB cap answers 413 to anything abusive.
        .layer(DefaultBodyLimit::max(64 * 1024))
        .with_state(state)
}

/// Where the provider publishes its ID-token signing keys (OIDC Discovery `jwks_uri`).
const JWKS_PATH: &str = "/oauth/jwks";
/// The client authentication methods of the back-channel endpoints (RFC 8414 §2).
const AUTH_METHODS: [&str; 3] = [
    "client_secret_basic",
    "client_secret_post",
    "private_key_jwt",
];

/// RFC 8414 metadata, with RFC 9207's `authorization_response_iss_parameter_supported`.
async fn metadata(State(state): State<Arc<ProviderState>>) -> Json<serde_json::Value> {
    Json(oauth_metadata(&state))
}

/// OpenID Connect Discovery 1.0 §3: the RFC 8414 metadata and what an OpenID Provider adds.
async fn openid_configuration(State(state): State<Arc<ProviderState>>) -> Json<serde_json::Value> {
    let mut metadata = oauth_metadata(&state);
    let issuer = &state.issuer;
    let extra = json!({
        "jwks_uri": format!("{issuer}{JWKS_PATH}"),
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [id_token::ALG],
        "claims_supported": ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "name", "sid"],
        // OIDC RP-Initiated Logout 1.0 §2.1.
        "end_session_endpoint": format!("{issuer}{}", logout::END_SESSION_PATH),
        // OIDC Back-Channel Logout 1.0 §2.1: logout tokens are sent, with `sid`.
        "backchannel_logout_supported": true,
        "backchannel_logout_session_supported": true,
    });
    if let (Some(all), Some(extra)) = (metadata.as_object_mut(), extra.as_object()) {
        all.extend(extra.clone());
    }
    Json(metadata)
}

/// The public keys that verify this provider's ID tokens (RFC 7517 §5).
async fn jwks(State(state): State<Arc<ProviderState>>) -> Json<serde_json::Value> {
    Json(state.id_token_key.jwks())
}

/// The RFC 8414 members, which the OpenID configuration repeats.
fn oauth_metadata(state: &ProviderState) -> serde_json::Value {
    let issuer = &state.issuer;
    json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/oauth/authorize"),
        "token_endpoint": format!("{issuer}/oauth/token"),
        "revocation_endpoint": format!("{issuer}/oauth/revoke"),
        // RFC 9126 §5.
        "pushed_authorization_request_endpoint": format!("{issuer}/oauth/par"),
        "require_pushed_authorization_requests": state.settings.require_par,
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": AUTH_METHODS,
        // RFC 8414 §2: the algorithms private_key_jwt assertions may be signed with.
        "token_endpoint_auth_signing_alg_values_supported": [dpop::ALG],
        "revocation_endpoint_auth_methods_supported": AUTH_METHODS,
        "revocation_endpoint_auth_signing_alg_values_supported": [dpop::ALG],
        "scopes_supported": store::SCOPES,
        // RFC 9207 §3; false only under the `no-iss` quirk, which stops sending it.
        "authorization_response_iss_parameter_supported": !state.settings.quirks.omit_iss,
        // RFC 9449 §5.1.
        "dpop_signing_alg_values_supported": [dpop::ALG],
    })
}
