//! `GET /metrics`: every series in the Prometheus text format, when `METRICS` (on the app's
//! address) or `METRICS_ADDR` (on a listener of its own) turns it on. No session, no lock.

use std::net::SocketAddr;

use axum::{
    Router,
    http::header,
    response::{IntoResponse, Response},
    routing::get,
};
use metrics_exporter_prometheus::PrometheusHandle;
use tokio::net::TcpListener;

use crate::{config::MetricsConfig, metrics, session::store::MemoryStore};

/// One app's metrics: the process's recorder and, with `METRICS_ADDR`, the listener bound for it.
pub struct MetricsSetup {
    handle: PrometheusHandle,
    listener: Option<TcpListener>,
}

impl MetricsSetup {
    /// Installs the recorder (once per process) and binds `METRICS_ADDR`, with a message naming
    /// it when it cannot be; `None` when metrics are off.
    pub async fn new(config: MetricsConfig) -> anyhow::Result<Option<Self>> {
        let listener = match config {
            MetricsConfig::Off => return Ok(None),
            MetricsConfig::OnAppAddress => None,
            MetricsConfig::OwnListener(listen) => Some(listen.bind().await?),
        };
        if let Some(listener) = &listener {
            tracing::info!(listening = %listener.local_addr()?, "metrics at /metrics (METRICS_ADDR)");
        }
        let handle = metrics::install()?;
        Ok(Some(Self { handle, listener }))
    }

    /// The `METRICS_ADDR` listener's address, when there is one.
    pub fn own_addr(&self) -> Option<SocketAddr> {
        self.listener.as_ref()?.local_addr().ok()
    }

    /// The route's state; `memory` is the store whose size is the active-sessions gauge.
    pub fn exporter(&self, memory: Option<MemoryStore>) -> Exporter {
        Exporter {
            handle: self.handle.clone(),
            memory,
        }
    }

    /// The route for the app's own router, unless `METRICS_ADDR` gives it a listener of its own.
    pub fn on_app_address(&self, exporter: &Exporter) -> Option<Exporter> {
        self.listener.is_none().then(|| exporter.clone())
    }

    /// Serves `/metrics` alone on the `METRICS_ADDR` listener, when there is one, until the
    /// future is dropped (with the app).
    pub fn serve_alone(self, exporter: Exporter) -> Option<impl Future<Output = ()> + Send> {
        let listener = self.listener?;
        Some(async move {
            let router: Router = router(exporter);
            if let Err(err) = axum::serve(listener, router).await {
                tracing::error!(error = %err, "the metrics listener stopped");
            }
        })
    }
}

/// The process's recorder, and the memory store whose size is the active-sessions gauge.
#[derive(Clone)]
pub struct Exporter {
    handle: PrometheusHandle,
    /// `None` with Redis: counting its keys is not cheap, so the gauge is left out.
    memory: Option<MemoryStore>,
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
