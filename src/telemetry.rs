//! Logging: one `tracing` subscriber for the process, filtered by `RUST_LOG`, as text or as JSON
//! (`LOG_FORMAT`), and the one helper through which outside text reaches a log line.
//!
//! Nothing secret is ever passed to a log macro: tokens, codes, verifiers and states live in
//! redacting types, and a request's line has its path only. Each request is logged once, when
//! it ends ([`log_request`]), with its error if it failed.

use std::{
    io::IsTerminal,
    time::{Duration, Instant},
};

use anyhow::bail;
use axum::{extract::Request, http::Method, middleware::Next, response::Response};

use crate::text::escaped;
use tracing_subscriber::{EnvFilter, fmt::MakeWriter};

/// The filter used when `RUST_LOG` is unset: INFO for this crate, whatever a fork renames it
/// to. tower-sessions' own error events are off: a store failure becomes the request's error,
/// logged once with the request.
const DEFAULT_FILTER: &str = concat!(
    env!("CARGO_CRATE_NAME"),
    "=info,tower_sessions_core=off,",
    "demo_provider=info,", // DEMO-PROVIDER
    "warn"
);

/// Installs the global subscriber on stderr: human-readable lines (coloured only on a terminal),
/// or one JSON object per line with `LOG_FORMAT=json` for log shippers. Call once from `main`
/// and keep the guard until the end: lines are written by a background thread, in batches (one
/// `write` for many lines under load, so a request never waits on stderr), and the guard
/// flushes what is left when it is dropped. Never lossy: a full queue makes the logger wait.
pub fn init() -> anyhow::Result<tracing_appender::non_blocking::WorkerGuard> {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let json = match std::env::var("LOG_FORMAT").unwrap_or_default().trim() {
        "" | "text" => false,
        "json" => true,
        other => bail!(
            "LOG_FORMAT={:?} is not valid: expected text or json",
            escaped(other, 40)
        ),
    };
    let ansi = colour(json, std::io::stderr().is_terminal());
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .thread_name(concat!(env!("CARGO_PKG_NAME"), "-log"))
        .finish(std::io::BufWriter::new(std::io::stderr()));
    tracing::subscriber::set_global_default(subscriber(filter, json, ansi, writer))
        .map_err(|err| anyhow::anyhow!("cannot install the logger: {err}"))?;
    Ok(guard)
}

/// ANSI colours only for text on a terminal: never in JSON, a file or a pipe.
fn colour(json: bool, terminal: bool) -> bool {
    !json && terminal
}

/// Installs a subscriber that writes every event, at the given filter, to `writer`, as text or
/// (`json`) as JSON lines. Tests use it with a buffer to prove that no secret reaches the logs.
/// Does nothing if one is already set.
pub fn init_with_writer<W>(filter: &str, json: bool, writer: W)
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let _ = tracing::subscriber::set_global_default(subscriber(
        EnvFilter::new(filter),
        json,
        false,
        writer,
    ));
}

/// The one subscriber shape: the filter, then text (ANSI colours only if `ansi`) or JSON.
fn subscriber<W>(
    filter: EnvFilter,
    json: bool,
    ansi: bool,
    writer: W,
) -> Box<dyn tracing::Subscriber + Send + Sync>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    if json {
        Box::new(builder.json().finish())
    } else {
        Box::new(builder.with_ansi(ansi).finish())
    }
}

/// What went wrong, for the request's one log line ([`log_request`] writes it when the response
/// leaves): the error type puts it in the response's extensions. Built only from codes and
/// reasons; outside text in it went through [`escaped`] when the error was made.
#[derive(Clone, Debug)]
pub struct ErrorReport {
    pub message: std::sync::Arc<str>,
    pub hint: &'static str,
}

/// What a request did, put in its response's extensions (`(Extension(Outcome(..)), page)`), so
/// the one line written when it ends says it. Outside text in it must go through [`escaped`].
#[derive(Clone, Debug)]
pub struct Outcome(pub String);

/// The middleware that writes each request's one line when its response leaves (see
/// [`log_response`]). Method and *path* only: the full URI of `/cb` carries the code and state
/// (RFC 6749 §10.3: keep them out of logs); the path is the visitor's text, so it is escaped and
/// bounded. No span per request: it cost more than the line itself (BENCHMARKS.md), and the few
/// events a request writes on its own say what they are about.
pub async fn log_request(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    // Escaped here, so the line shows it as it is (`%path`, no second escaping pass).
    let path = escaped(request.uri().path(), 200);
    let started = Instant::now();
    let response = next.run(request).await;
    log_response(&method, &path, &response, started.elapsed());
    response
}

/// The request's one log line: INFO when it went well (with what the handler said it did), WARN
/// when it was refused, ERROR when it failed, with the error that `AppError` left behind.
fn log_response(method: &Method, path: &str, response: &Response, latency: Duration) {
    let status = response.status().as_u16();
    let ms = u64::try_from(latency.as_millis()).unwrap_or(u64::MAX);
    if let Some(Outcome(outcome)) = response.extensions().get() {
        tracing::info!(%method, %path, status, ms, outcome = %outcome, "request done");
        return;
    }
    match response.extensions().get::<ErrorReport>() {
        Some(report) if response.status().is_server_error() => {
            // Display, not Debug: the message's outside text was escaped when it was made
            // ([`escaped`]), so the line reads cleanly and stays one line.
            let (error, hint) = (&report.message, report.hint);
            tracing::error!(%method, %path, status, ms, %error, hint, "request failed");
        }
        Some(report) => {
            tracing::warn!(%method, %path, status, ms, error = %report.message, "request refused")
        }
        None if response.status().is_server_error() => {
            tracing::error!(%method, %path, status, ms, "request failed")
        }
        None => tracing::info!(%method, %path, status, ms, "request done"),
    }
}

/// Test support: what the subscriber that `make` builds around a writer writes while `run`
/// runs, as text.
#[cfg(test)]
pub(crate) fn lines_of<S>(make: impl FnOnce(Buffer) -> S, run: impl FnOnce()) -> String
where
    S: tracing::Subscriber + Send + Sync + 'static,
{
    let buffer = Buffer::default();
    let subscriber = make(buffer.clone());
    tracing::subscriber::with_default(subscriber, run);
    let bytes = buffer.0.lock().expect("buffer").clone();
    String::from_utf8(bytes).expect("utf-8")
}

/// Test support: a writer that keeps what it is given.
#[cfg(test)]
#[derive(Clone, Default)]
pub(crate) struct Buffer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

#[cfg(test)]
impl std::io::Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("buffer").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
impl<'a> MakeWriter<'a> for Buffer {
    type Writer = Buffer;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the subscriber (`json`, `ansi`) writes for [`requests`].
    fn capture(json: bool, ansi: bool) -> String {
        lines_of(
            |writer| subscriber(EnvFilter::new("info"), json, ansi, writer),
            || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .build()
                    .expect("runtime");
                runtime.block_on(requests());
            },
        )
    }

    /// Two requests through [`log_request`]: a failed callback (with its code and state in the
    /// query) and a good page with an outcome.
    async fn requests() {
        use axum::{Extension, Router, response::IntoResponse, routing::get};
        use tower::ServiceExt;
        let reported = |status: http::StatusCode, message: &str, hint: &'static str| {
            let mut response = status.into_response();
            response.extensions_mut().insert(ErrorReport {
                message: message.into(),
                hint,
            });
            response
        };
        let failed = move || async move {
            reported(
                http::StatusCode::BAD_GATEWAY,
                "a \"quoted\" reason",
                "a hint",
            )
        };
        let done = || async { (Extension(Outcome("showed 3 photos".into())), "page") };
        let refused = move || async move { reported(http::StatusCode::FORBIDDEN, "not yours", "") };
        let broken = || async { http::StatusCode::INTERNAL_SERVER_ERROR };
        let plain = || async { http::StatusCode::NOT_FOUND };
        let app = Router::new()
            .route("/cb", get(failed))
            .route("/photos", get(done))
            .route("/refused", get(refused))
            .route("/broken", get(broken))
            .route("/plain", get(plain))
            .layer(axum::middleware::from_fn(log_request));
        let uris = [
            "/cb?code=SECRET-CODE&state=SECRET-STATE",
            "/photos",
            "/refused",
            "/broken",
            "/plain",
        ];
        for uri in uris {
            let request = Request::get(uri)
                .body(axum::body::Body::empty())
                .expect("request");
            app.clone().oneshot(request).await.expect("infallible");
        }
    }

    #[test]
    fn each_request_is_one_line_with_method_path_status_and_what_happened() {
        let out = capture(true, false);
        let lines: Vec<serde_json::Value> = out
            .lines()
            .map(|line| serde_json::from_str(line).expect("one JSON object per line"))
            .collect();
        assert_eq!(lines.len(), 5, "{out}");
        let (failed, done) = (&lines[0]["fields"], &lines[1]["fields"]);
        let level_and_message = |i: usize| {
            let line = &lines[i];
            (line["level"].clone(), line["fields"]["message"].clone())
        };
        assert_eq!(
            level_and_message(2),
            ("WARN".into(), "request refused".into())
        );
        assert_eq!(lines[2]["fields"]["error"], "not yours");
        assert_eq!(
            level_and_message(3),
            ("ERROR".into(), "request failed".into())
        );
        assert_eq!(level_and_message(4), ("INFO".into(), "request done".into()));
        assert_eq!(lines[4]["fields"]["status"], 404);
        assert_eq!(lines[0]["level"], "ERROR");
        assert_eq!(failed["message"], "request failed");
        assert_eq!(failed["method"], "GET");
        assert_eq!(failed["path"], "/cb");
        assert_eq!(failed["status"], 502);
        assert_eq!(failed["error"], "a \"quoted\" reason");
        assert_eq!(failed["hint"], "a hint");
        assert!(failed["ms"].is_u64(), "{out}");
        assert_eq!(lines[1]["level"], "INFO");
        assert_eq!(done["path"], "/photos");
        assert_eq!(done["status"], 200);
        assert_eq!(done["outcome"], "showed 3 photos");
        assert!(lines.iter().all(|l| l["timestamp"].is_string()));
        assert!(!out.contains("SECRET"), "never the query: {out}");
    }

    #[test]
    fn the_default_filter_shows_this_crates_info_lines_whatever_it_is_named() {
        let out = lines_of(
            |writer| subscriber(EnvFilter::new(DEFAULT_FILTER), true, false, writer),
            || {
                tracing::info!("ours, at info");
                tracing::info!(target: "some_dependency", "theirs, at info");
                tracing::warn!(target: "some_dependency", "theirs, at warn");
            },
        );
        assert!(out.contains("ours, at info"), "{out}");
        assert!(!out.contains("theirs, at info"), "{out}");
        assert!(out.contains("theirs, at warn"), "{out}");
    }

    #[test]
    fn colour_only_for_text_on_a_terminal() {
        assert!(colour(false, true));
        assert!(!colour(true, true));
        assert!(!colour(false, false));
        assert!(!colour(true, false));
    }

    #[test]
    fn text_logs_have_no_colour_codes_unless_asked() {
        let plain = capture(false, false);
        assert!(!plain.contains('\u{1b}'), "{plain}");
        assert!(
            plain.contains("request failed") && plain.contains("path=/cb "),
            "{plain}"
        );
        assert_eq!(plain.lines().count(), 5, "{plain}");
        assert!(
            capture(false, true).contains('\u{1b}'),
            "a terminal gets colours"
        );
    }
}
