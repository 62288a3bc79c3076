//! The client against a hostile provider: a mock token endpoint and photos API that misbehave on
//! command (docs/requirements.md C10, C28, C40–C60, C77, C79). No embedded provider is involved, so these tests
//! stay when it is removed.

mod cli;
mod dpop;
mod first_run;
mod fuzz;
#[cfg(feature = "inspector")] // INSPECTOR
mod inspector; // INSPECTOR
mod lifecycle;
mod lock;
mod logout;
mod logs;
mod mock;
mod openid;
mod photos;
mod private_key_jwt;
mod proxy;
#[path = "../support/mod.rs"]
mod support;
mod token;
