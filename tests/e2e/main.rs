//! HTTP-level tests of the whole flow: the app and the embedded demo provider on real sockets,
//! driven by a cookie-jar client that follows no redirect, so every hop is asserted.
//!
//! These tests use the demo provider; removing it removes this folder too (see README).

mod abuse;
mod attacks;
mod callback;
mod dpop;
mod first_run;
mod flow;
mod helpers;
#[cfg(feature = "inspector")] // INSPECTOR
mod inspector; // INSPECTOR
mod lifecycle;
mod logout;
mod logs;
mod metrics;
mod openid;
mod pages;
mod par;
mod private_key_jwt;
#[path = "../support/mod.rs"]
mod support;
