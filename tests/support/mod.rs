//! Helpers shared by the integration-test binaries (include with `#[path = "../support/mod.rs"]`):
//! a "browser" HTTP client, small HTML/URL readers, and a TRACE log capture for no-leak checks.
#![allow(dead_code)] // each test binary uses a different subset

use std::{
    io::Write,
    sync::{Arc, Mutex, OnceLock},
};

use reqwest::{StatusCode, cookie::Jar, header};
use url::Url;

/// A cookie-keeping client that never follows redirects, so each hop can be asserted.
pub fn browser(jar: Arc<Jar>) -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_provider(jar)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

pub async fn fetch(client: &reqwest::Client, url: Url) -> (StatusCode, header::HeaderMap, String) {
    let response = client.get(url).send().await.expect("request");
    let status = response.status();
    let headers = response.headers().clone();
    (status, headers, response.text().await.expect("body"))
}

/// The `Location` header as an absolute URL.
pub fn location(headers: &header::HeaderMap) -> Url {
    let value = headers
        .get(header::LOCATION)
        .expect("Location header")
        .to_str()
        .expect("ascii");
    Url::parse(value)
        .or_else(|_| Url::parse("http://relative.invalid/").and_then(|b| b.join(value)))
        .expect("url")
}

/// The Connect link's href, HTML-unescaped.
pub fn connect_url(html: &str) -> Url {
    let href =
        attribute_after(html, r#"id="connect" class="button" href=""#).expect("Connect link");
    Url::parse(&href.replace("&#38;", "&").replace("&amp;", "&")).expect("authorize URL")
}

/// The text after `marker` up to the next `"`.
pub fn attribute_after(html: &str, marker: &str) -> Option<String> {
    let start = html.find(marker)? + marker.len();
    let end = html[start..].find('"')?;
    Some(html[start..start + end].to_owned())
}

/// A query parameter of `url`.
pub fn param(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Everything every test logged, at TRACE, for the no-leak checks.
pub fn captured_logs() -> String {
    String::from_utf8_lossy(&log_buffer().lock().expect("log buffer").clone()).into_owned()
}

fn log_buffer() -> &'static Arc<Mutex<Vec<u8>>> {
    static BUFFER: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    BUFFER.get_or_init(Arc::default)
}

#[derive(Clone)]
struct BufferWriter(Arc<Mutex<Vec<u8>>>);

impl Write for BufferWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs the process-wide TRACE subscriber writing into the capture buffer (once).
pub fn init_log_capture() {
    let buffer = log_buffer().clone();
    // Everything at TRACE, except the *test browser's* cookie jar, which logs the cookies it stores.
    photo_connect::telemetry::init_with_writer("trace,cookie_store=off", false, move || {
        BufferWriter(buffer.clone())
    });
}
