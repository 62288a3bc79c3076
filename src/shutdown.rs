//! Stopping cleanly (skip on first read): at Ctrl-C or SIGTERM stop accepting, let requests in
//! flight finish within a grace period (`SHUTDOWN_GRACE_SECS`), and say how it went.

use std::{future::Future, net::SocketAddr, time::Duration};

use axum::extract::connect_info::IntoMakeServiceWithConnectInfo;
use tokio::net::TcpListener;

/// Serves `service` on `listener` until `stop` resolves, then for at most `grace`.
pub async fn serve(
    listener: TcpListener,
    service: IntoMakeServiceWithConnectInfo<crate::web::App, SocketAddr>,
    stop: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> anyhow::Result<()> {
    let (stopping_tx, stopping) = tokio::sync::oneshot::channel::<()>();
    let signal = async move {
        stop.await;
        let _ = stopping_tx.send(());
    };
    let server = axum::serve(listener, service).with_graceful_shutdown(signal);
    let deadline = async move {
        if stopping.await.is_ok() {
            tokio::time::sleep(grace).await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        result = server => {
            result?;
            tracing::info!("stopped: every request finished");
        }
        () = deadline => {
            tracing::warn!(
                grace_secs = grace.as_secs(),
                "stopped: requests still in flight after the grace period were cut off"
            );
        }
    }
    Ok(())
}

/// Waits for Ctrl-C or SIGTERM. The SIGTERM handler is installed when this is *called*, not
/// when the future is first polled, so a signal that arrives right after "ready" is not missed.
pub fn signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate());
    async move {
        let ctrl_c = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        #[cfg(unix)]
        let terminate = async move {
            match terminate {
                Ok(mut signal) => {
                    signal.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let terminate = std::future::pending::<()>();
        tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
        tracing::info!("shutting down: finishing requests in flight");
    }
}
