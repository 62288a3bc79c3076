//! The standard proxy variables: calls to non-loopback endpoints go through the configured
//! proxy, and a loopback provider (an embedded one, a local test server) never does. The
//! "proxy" here is a loopback listener that records what reaches it and refuses it.

use std::sync::{Arc, Mutex};

use photo_connect::config::{OutboundProxy, ProviderSource};
use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use url::Url;

use crate::{
    mock::{Mock, spawn_app},
    support::*,
};

/// A listener that records the first line of each request and answers 403.
async fn recording_proxy() -> (Url, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = Url::parse(&format!("http://{}", listener.local_addr().expect("addr"))).expect("url");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buf = vec![0u8; 4096];
            let n = socket.read(&mut buf).await.unwrap_or(0);
            let head = String::from_utf8_lossy(&buf[..n]);
            let first = head.lines().next().unwrap_or_default().to_owned();
            record.lock().expect("lock").push(first);
            let _ = socket
                .write_all(b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n")
                .await;
        }
    });
    (url, seen)
}

#[tokio::test]
async fn a_loopback_provider_is_never_sent_through_the_proxy() {
    let (proxy, seen) = recording_proxy().await;
    let mock = Mock::start().await;
    let app = spawn_app(&mock, |config| {
        config.proxy = OutboundProxy {
            https: Some(proxy.clone()),
            http: Some(proxy.clone()),
            no_proxy: None,
        };
    })
    .await;
    assert_eq!(
        app.callback("c").await.0,
        StatusCode::SEE_OTHER,
        "the token call went direct"
    );
    let (status, _, _) = fetch(&app.client, app.at("/photos")).await;
    assert_eq!(status, StatusCode::OK, "and so did the photos call");
    assert!(
        seen.lock().expect("lock").is_empty(),
        "the proxy saw nothing"
    );
}

#[tokio::test]
async fn a_non_loopback_endpoint_goes_through_the_configured_proxy() {
    let (proxy, seen) = recording_proxy().await;
    let mock = Mock::start().await;
    let app = spawn_app(&mock, |config| {
        config.proxy = OutboundProxy {
            https: Some(proxy.clone()),
            http: None,
            no_proxy: Some("internal.example".into()),
        };
        if let ProviderSource::Explicit(provider) = &mut config.provider {
            // Never resolved or reached: the proxy (a loopback listener) refuses the tunnel.
            provider.photos_api_url = Url::parse("https://photos.example/photos").expect("url");
        }
    })
    .await;
    assert_eq!(app.callback("c").await.0, StatusCode::SEE_OTHER);
    let (status, _, page) = fetch(&app.client, app.at("/photos")).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{page}");
    assert_eq!(
        seen.lock().expect("lock").as_slice(),
        ["CONNECT photos.example:443 HTTP/1.1"],
        "the https call asked the proxy for a tunnel"
    );
    let logs = captured_logs();
    assert!(
        logs.lines()
            .any(|l| l.contains("request failed") && l.contains("photos.example")),
        "the failure names the endpoint's host"
    );
}
