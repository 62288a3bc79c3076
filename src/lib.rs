//! photo-connect: an OAuth 2.0 client (authorization code + PKCE, RFC 6749 / 7636 / 9700) as a
//! server-side axum app. This file is the module map; `startup.rs` is the composition root.

pub mod config;
pub mod discovery;
pub mod error;
pub mod form;
pub mod http_client;
pub mod oauth;
pub mod photos_api;
pub mod refresh;
pub mod routes;
pub mod session;
pub mod session_store;
pub mod startup;
pub mod state;
pub mod telemetry;

pub mod demo_provider; // DEMO-PROVIDER: delete this line and src/demo_provider/ to remove it

pub use startup::Application;
