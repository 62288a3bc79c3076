//! The web floor: everything axum. The state handlers reach, the one error type and its page,
//! the extractors, the routes (one module per page, in the order a sign-in visits them) and the
//! middleware around them. Below it, nothing knows of HTTP requests coming in.

pub mod error;
pub mod extract;
pub mod inspect;
pub mod middleware;
pub mod routes;
pub mod state;

use std::convert::Infallible;

use axum::{extract::Request, response::Response};
use tower::util::BoxCloneSyncService;

/// The whole app as one service: the router inside its middleware, boxed once.
pub type App = BoxCloneSyncService<Request, Response, Infallible>;
