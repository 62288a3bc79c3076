//! photo-connect: an OAuth 2.0 client (authorization code + PKCE, RFC 6749 / 7636 / 9700) as a
//! server-side axum app.
//!
//! Reading order, following one sign-in (about an hour for the whole path):
//!
//! 1. `main.rs`: configuration, then the app (or the demo provider first).
//! 2. [`startup`]: the composition root: listener, provider, OAuth client, sessions, layers.
//! 3. [`config`]: every environment variable, and where the provider comes from.
//! 4. `routes`: `home` (the Connect link) → `callback` (`/cb`) → `photos` → `logout`.
//! 5. `oauth`: the protocol steps, with no web types: `client`, `callback`, `pending`, `tokens`.
//! 6. `session`: the typed session every route uses, and the `Connected` extractor.
//! 7. `error`: the one error type and its page.
//! 8. `inspector` and `routes::flow`: the flow inspector, the record of a sign-in's real requests
//!    that `/flow` shows (on by default with the demo provider).
//! 9. Beyond the classic flow, both opt-in: `routes::connect` and `oauth::pushed` (pushed
//!    authorization requests, RFC 9126), `oauth::dpop` and `oauth::transport` (DPoP, RFC 9449).
//!
//! Skip on first read (hardening): `form` (strict parameter parsing), `http_client` (no
//! redirects, timeouts, body cap), `photos_api` (response checks), `oauth::discovery`,
//! `session::lock`, `session::store` and `session::redis`, `routes::rate_limit`,
//! `routes::setup_check`, `shutdown`, `telemetry`.

pub mod config;
mod error;
mod form;
mod http_client;
mod inspector;
mod oauth;
mod photos_api;
mod routes;
mod session;
mod shutdown;
pub mod startup;
mod state;
pub mod telemetry;

#[cfg(feature = "demo")] // DEMO-PROVIDER
pub mod demo; // DEMO-PROVIDER

pub use oauth::MAX_PENDING_LOGINS;
pub use photos_api::MAX_PHOTOS;
pub use session::store::MemoryStore;
pub use startup::{Application, RunningApp};
