//! photo-connect: an OAuth 2.0 client (authorization code + PKCE, RFC 6749 / 7636 / 9700) as a
//! server-side axum app.
//!
//! The modules are floors, listed here bottom-up: each imports only from the floors below it
//! (`scripts/module-cycles.py`, run in CI, checks that no two import each other).
//!
//! 1. Ground, importing nothing of the crate: [`text`] (outside text made safe for a log line),
//!    `clock`, `random` (256-bit tokens), `form` (strict form and query parsing), `jws` (ES256
//!    compact JWS and RFC 7638 thumbprints, for DPoP proofs and client assertions).
//! 2. [`config`] (every environment variable, by area), [`telemetry`] (the log subscriber and
//!    each request's one log line) and [`metrics`] (the Prometheus series, no-ops until
//!    `METRICS` installs the recorder).
//! 3. Outbound: `http_client`, the one HTTP client (no redirects, timeouts, body cap), with
//!    an observer hook that sees every call.
//! 4. `oauth`: the protocol steps, with no web types: `client`, `callback`, `pending`,
//!    `tokens`; PAR and DPoP. Beside it, `photos_api`, the resource server's client.
//! 5. `session`: the typed session, and `Sessions`, which refreshes tokens under the session's
//!    lock in a task that outlives the request.
//!    Wing: `inspector`, the flow inspector (cargo feature `inspector`), which records through // INSPECTOR
//!    the outbound observer and keeps its record through the session's value API. // INSPECTOR
//! 6. `web`: everything axum: state, the one error type, extractors, routes, middleware.
//! 7. `shutdown` and [`startup`] (the composition root), then the wiring of wings that start
//!    with the app.
//!    Wing: `attacks`, "Try to break it" (`/break-it`), served beside the demo provider, and // DEMO-PROVIDER
//!    `demo`, which starts that provider when none is configured. // DEMO-PROVIDER
//!
//! Reading order, following one sign-in: `main.rs`, [`startup`], `web::routes` (`home` → `callback`
//! → `photos` → `logout`), then `oauth` and `session`, each at the file its folder's `//!` names.

// Ground floor.
mod clock;
mod form;
mod jws;
mod random;
mod text;
// Configuration and logging.
pub mod config;
pub mod metrics;
pub mod telemetry;
// Outbound.
mod http_client;
// The protocol and the resource.
mod oauth;
mod photos_api;
// Sessions.
mod session;
// Wings. // INSPECTOR
#[cfg(feature = "inspector")] // INSPECTOR
mod inspector; // INSPECTOR
// The web.
mod web;
// The composition root.
mod shutdown;
pub mod startup;

#[cfg(feature = "demo")] // DEMO-PROVIDER
mod attacks; // DEMO-PROVIDER
#[cfg(feature = "demo")] // DEMO-PROVIDER
pub mod demo; // DEMO-PROVIDER

pub use oauth::MAX_PENDING_LOGINS;
pub use photos_api::MAX_PHOTOS;
pub use session::store::MemoryStore;
pub use startup::{Application, RunningApp};
