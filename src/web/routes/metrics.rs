//! `GET /metrics`: every series in the Prometheus text format, when `METRICS` (on the app's
//! address) or `METRICS_ADDR` (on a listener of its own) turns it on. No session, no lock.

use axum::{
    Router,
    http::header,
    response::{IntoResponse, Response},
    routing::get,
};
use metrics_exporter_prometheus::PrometheusHandle;
use tokio::net::TcpListener;

use crate::{metrics, session::store::MemoryStore};

/// The process's recorder, and the memory store whose size is the active-sessions gauge.
#[derive(Clone)]
pub struct Exporter {
    pub handle: PrometheusHandle,
    /// `None` with Redis: counting its keys is not cheap, so the gauge is left out.
    pub memory: Option<MemoryStore>,
}

/// The one route, for the app's router or a listener of its own.
pub fn router<S: Clone + Send + Sync + 'static>(exporter: Exporter) -> Router<S> {
    Router::new().route(
        "/metrics",
        get(move || {
            let exporter = exporter.clone();
            async move { render(&exporter).await }
        }),
    )
}

async fn render(exporter: &Exporter) -> Response {
    if let Some(memory) = &exporter.memory {
        metrics::sessions_active(memory.len().await);
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        exporter.handle.render(),
    )
        .into_response()
}

/// Serves `/metrics` alone on `listener` (`METRICS_ADDR`) until the app's task ends.
pub async fn serve_alone(listener: TcpListener, exporter: Exporter) {
    let router: Router = router(exporter);
    if let Err(err) = axum::serve(listener, router).await {
        tracing::error!(error = %err, "the metrics listener stopped");
    }
}
