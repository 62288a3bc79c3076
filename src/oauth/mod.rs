//! The OAuth 2.0 client logic, free of web-framework types. Read in this order:
//!
//! 1. [`client`]: [`OAuthClient::start`] makes a fresh `state` and PKCE verifier and the
//!    authorize URL (RFC 7636 §4.1–4.3); [`OAuthClient::exchange`] redeems the code with the
//!    client's credentials and the verifier (RFC 6749 §4.1.3); refresh (§6) and revocation
//!    (RFC 7009).
//! 2. [`callback`]: the redirect's query is validated before anything else happens, and its
//!    `iss` checked (RFC 9207).
//! 3. [`pending`]: the pending login that `state` names is consumed exactly once.
//! 4. [`tokens`]: what a token response becomes, and the errors, by what to do next.
//! 5. [`pushed`]: with PAR (RFC 9126), the pushed request's answer, the `request_uri`.
//! 6. [`openid`]: with `openid` in the scopes, OpenID Connect sign-in: the nonce, and the ID
//!    token checked against the provider's keys (OIDC Core §3.1.3.7).
//! 7. [`discovery`] (skip on first read): RFC 8414 metadata or OpenID Connect Discovery, with
//!    `OAUTH_ISSUER` alone.
//! 8. [`assertion`] (skip on first read): with `private_key_jwt` (RFC 7523), the signed client
//!    assertion every back-channel request carries instead of a secret.

pub mod assertion;
pub mod callback;
pub mod client;
pub mod discovery;
pub mod dpop;
pub mod openid;
pub mod pending;
pub mod pushed;
pub mod tokens;
mod transport;

pub use callback::{Callback, CallbackError, parse_callback};
pub use client::OAuthClient;
pub use pending::{LoginLookup, MAX_PENDING_LOGINS, PendingLogin, PendingLogins};
pub use pushed::PushError;
pub use tokens::{ExchangeError, RefreshError, TokenSet};
