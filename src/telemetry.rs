//! Logging: one `tracing` subscriber for the process, filtered by `RUST_LOG`.
//!
//! Nothing secret is ever passed to a log macro: tokens, codes, verifiers and states live in
//! redacting types, and the HTTP span records the path only (see `startup::http_span`).

use tracing_subscriber::{EnvFilter, fmt::MakeWriter};

/// The filter used when `RUST_LOG` is unset.
const DEFAULT_FILTER: &str = "photo_connect=info,tower_http=info,warn";

/// Installs the global subscriber (human-readable lines on stderr). Call once from `main`.
pub fn init() {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

/// Installs a subscriber that writes every event, at the given filter, to `writer`. Tests use it
/// with a buffer to prove that no secret reaches the logs. Does nothing if one is already set.
pub fn init_with_writer<W>(filter: &str, writer: W)
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let _ = tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::new(filter))
        .with_writer(writer)
        .with_ansi(false)
        .try_init();
}
