//! What the back-channel endpoints (token, revocation and PAR) share: the strict form body
//! (`body`, RFC 6749 §3.2), client authentication (`client_auth`, RFC 6749 §2.3, with
//! `assertion` for `private_key_jwt`, RFC 7523) and the JSON
//! error response (`error`, RFC 6749 §5.2). The endpoints themselves are in `token`, `revoke`
//! and `authorize`, one floor up.

mod assertion;
mod body;
mod client_auth;
mod error;

pub(crate) use body::parse_request;
pub(crate) use client_auth::{Method, authenticate, method_of};
pub(crate) use error::OAuthError;
