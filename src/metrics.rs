//! Metrics: every Prometheus series the app records, each behind a typed function whose labels
//! are `&'static str` from a fixed set (never a path, a parameter or a provider's text: bounded
//! cardinality), and the one recorder of the process, installed by [`install`] only when
//! `METRICS` or `METRICS_ADDR` asks for it. Until then no recorder exists and every function
//! here is a no-op (the `metrics` macros reach the no-op recorder).
//!
//! [`SERIES`] lists the names, types and labels; the README's "Metrics" table documents the same
//! list, and a test pins both.

use std::{
    sync::OnceLock,
    time::{Duration, Instant},
};

use ::metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// Sign-ins started (a pending sign-in kept in the session, before the provider is visited).
pub const SIGN_INS_STARTED: &str = "oauth_client_sign_ins_started_total";
/// Sign-ins finished at the callback with tokens in the session.
pub const SIGN_INS_COMPLETED: &str = "oauth_client_sign_ins_completed_total";
/// Sign-ins that failed at `/connect` or at the callback, by `reason` ([`REASONS`]).
pub const SIGN_INS_FAILED: &str = "oauth_client_sign_ins_failed_total";
/// Authorization codes redeemed at the token endpoint, by `outcome`.
pub const TOKEN_EXCHANGES: &str = "oauth_client_token_exchanges_total";
/// Refresh-token grants, by `outcome`.
pub const TOKEN_REFRESHES: &str = "oauth_client_token_refreshes_total";
/// Every call to the provider and the photos API, by `endpoint` and `outcome`.
pub const PROVIDER_CALL_SECONDS: &str = "oauth_client_provider_request_duration_seconds";
/// Requests that found their session's lock taken and waited for it.
pub const SESSION_LOCK_WAITS: &str = "oauth_client_session_lock_waits_total";
/// Requests answered "busy" because their session's lock stayed taken.
pub const SESSION_LOCK_BUSY: &str = "oauth_client_session_lock_busy_total";
/// Failures of the session store (Redis unreachable, a record it cannot read, a failed save).
pub const SESSION_STORE_ERRORS: &str = "oauth_client_session_store_errors_total";
/// Tokens revoked at logout (RFC 7009), by `token` and `outcome`.
pub const REVOCATIONS: &str = "oauth_client_revocations_total";
/// Sessions in the in-memory store, set at each scrape (absent with Redis).
pub const SESSIONS_ACTIVE: &str = "oauth_client_sessions_active";

/// One documented series: its name, Prometheus type, and each label with its possible values.
pub struct Series {
    pub name: &'static str,
    pub kind: &'static str,
    pub labels: &'static [(&'static str, &'static [&'static str])],
}

/// The outcomes of a token request (exchange or refresh).
pub const TOKEN_OUTCOMES: &[&str] = &["ok", "refused", "unavailable", "invalid"];
/// What a call to the provider or the photos API was, classified from the request alone.
pub const ENDPOINTS: &[&str] = &[
    "token",
    "refresh",
    "revoke",
    "par",
    "photos",
    "discovery",
    "jwks",
    "other",
];
/// How a call ended: a 2xx, another status, no answer in time, or no answer at all.
pub const CALL_OUTCOMES: &[&str] = &["ok", "error_status", "timeout", "failed"];
/// Why a sign-in failed: one per `AppError` variant that a sign-in can end with.
pub const REASONS: &[&str] = &[
    "bad_callback",
    "unknown_state",
    "login_expired",
    "issuer_mismatch",
    "access_denied",
    "authorization_failed",
    "exchange_failed",
    "id_token_refused",
    "push_failed",
    "client_rejected",
    "photos",
    "reconnect",
    "refresh_unavailable",
    "csrf",
    "not_found",
    "slow_body",
    "inspector_off", // INSPECTOR
    "not_a_navigation",
    "session_store",
    "session_full",
    "session_busy",
    "too_many_sign_ins",
    "internal",
];
/// The tokens logout revokes, and how each revocation ended.
pub const REVOKED_TOKENS: &[&str] = &["access_token", "refresh_token"];
pub const REVOCATION_OUTCOMES: &[&str] = &["ok", "failed", "timeout"];

/// Every series, as the README documents it.
pub const SERIES: &[Series] = &[
    series(SIGN_INS_STARTED, "counter", &[]),
    series(SIGN_INS_COMPLETED, "counter", &[]),
    series(SIGN_INS_FAILED, "counter", &[("reason", REASONS)]),
    series(TOKEN_EXCHANGES, "counter", &[("outcome", TOKEN_OUTCOMES)]),
    series(TOKEN_REFRESHES, "counter", &[("outcome", TOKEN_OUTCOMES)]),
    series(
        PROVIDER_CALL_SECONDS,
        "histogram",
        &[("endpoint", ENDPOINTS), ("outcome", CALL_OUTCOMES)],
    ),
    series(SESSION_LOCK_WAITS, "counter", &[]),
    series(SESSION_LOCK_BUSY, "counter", &[]),
    series(SESSION_STORE_ERRORS, "counter", &[]),
    series(
        REVOCATIONS,
        "counter",
        &[("token", REVOKED_TOKENS), ("outcome", REVOCATION_OUTCOMES)],
    ),
    series(SESSIONS_ACTIVE, "gauge", &[]),
];

const fn series(
    name: &'static str,
    kind: &'static str,
    labels: &'static [(&'static str, &'static [&'static str])],
) -> Series {
    Series { name, kind, labels }
}

/// Histogram buckets of provider calls, in seconds: a local provider answers in a millisecond, a
/// remote one in tens to hundreds, and `HTTP_TIMEOUT_SECS` defaults to 10.
const BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// How often histogram samples are folded in when nobody scrapes (the exporter keeps them
/// until then; without this an unscraped app would grow).
const UPKEEP: Duration = Duration::from_secs(5);

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
/// Held while installing: two apps starting at once must not both try, or the loser would find
/// the recorder taken and its handle not yet kept.
static INSTALLING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Installs the process's recorder, once: later calls (several apps in one test process) get the
/// same handle. A thread, not a task, folds histogram samples in, so it outlives any runtime.
pub fn install() -> anyhow::Result<PrometheusHandle> {
    if let Some(handle) = HANDLE.get() {
        return Ok(handle.clone());
    }
    let _installing = INSTALLING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(handle) = HANDLE.get() {
        return Ok(handle.clone());
    }
    let recorder = PrometheusBuilder::new()
        .set_buckets(BUCKETS)?
        .build_recorder();
    let handle = recorder.handle();
    // Another recorder installed by someone else: the error below says so.
    if metrics::set_global_recorder(recorder).is_ok() {
        let _ = HANDLE.set(handle.clone());
        let upkeep = handle.clone();
        std::thread::Builder::new()
            .name("metrics-upkeep".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(UPKEEP);
                    upkeep.run_upkeep();
                }
            })?;
    }
    HANDLE
        .get()
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("another metrics recorder is installed in this process"))
}

/// Whether a recorder is installed: callers skip work (timing, classifying) when not.
pub fn enabled() -> bool {
    HANDLE.get().is_some()
}

pub fn sign_in_started() {
    counter!(SIGN_INS_STARTED).increment(1);
}

pub fn sign_in_completed() {
    counter!(SIGN_INS_COMPLETED).increment(1);
}

/// `reason` is one of [`REASONS`].
pub fn sign_in_failed(reason: &'static str) {
    counter!(SIGN_INS_FAILED, "reason" => reason).increment(1);
}

/// `outcome` is one of [`TOKEN_OUTCOMES`].
pub fn token_exchange(outcome: &'static str) {
    counter!(TOKEN_EXCHANGES, "outcome" => outcome).increment(1);
}

/// `outcome` is one of [`TOKEN_OUTCOMES`].
pub fn token_refresh(outcome: &'static str) {
    counter!(TOKEN_REFRESHES, "outcome" => outcome).increment(1);
}

/// A call that started at `started`; `endpoint` is one of [`ENDPOINTS`], `outcome` one of
/// [`CALL_OUTCOMES`].
pub fn provider_call(endpoint: &'static str, outcome: &'static str, started: Instant) {
    histogram!(PROVIDER_CALL_SECONDS, "endpoint" => endpoint, "outcome" => outcome)
        .record(started.elapsed());
}

pub fn session_lock_wait() {
    counter!(SESSION_LOCK_WAITS).increment(1);
}

pub fn session_lock_busy() {
    counter!(SESSION_LOCK_BUSY).increment(1);
}

pub fn session_store_error() {
    counter!(SESSION_STORE_ERRORS).increment(1);
}

/// `token` is one of [`REVOKED_TOKENS`], `outcome` one of [`REVOCATION_OUTCOMES`].
pub fn revocation(token: &'static str, outcome: &'static str) {
    counter!(REVOCATIONS, "token" => token, "outcome" => outcome).increment(1);
}

pub fn sessions_active(count: usize) {
    gauge!(SESSIONS_ACTIVE).set(count as f64);
}

#[cfg(test)]
mod tests;
