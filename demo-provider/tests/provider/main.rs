//! The demo provider alone, over real HTTP, against the authorization-server cases A01–A56 of
//! the requirement catalogue (docs/requirements.md), plus its quirk modes, settings and memory
//! bounds (per-source ones in `bounds`).
//! Each test spawns its own provider on a free loopback port; test names carry the case id.

mod api;
mod authorize;
mod bounds;
mod client_auth;
mod consent;
mod dpop;
mod helpers;
mod logout;
mod metadata;
mod openid;
mod par;
mod private_key_jwt;
mod quirks;
mod refresh_revoke;
mod settings;
mod token;
