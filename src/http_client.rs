//! The one outbound HTTP client: built once, never follows redirects, times out, and caps every
//! response body it reads. The `oauth2` crate uses it for the token request; `photos_api` for
//! the photos API. An [`Observer`] in scope ([`observed`]) sees every call it makes: the seam
//! a wing records through, so the protocol code never knows it is there.

use std::{
    future::Future,
    pin::Pin,
    sync::Arc,
    time::{Duration, Instant},
};

use futures_util::future::Either;
use http::{HeaderMap, StatusCode};
use reqwest::NoProxy;
use tokio::task::futures::TaskLocalFuture;

use crate::{config::OutboundProxy, metrics};

/// Largest response body read from the provider. A token response is a few hundred bytes and a
/// page of photos a few KiB; anything bigger is a broken or hostile server.
pub const DEFAULT_MAX_BODY: usize = 1024 * 1024;

/// Why an outbound call failed: the endpoint's host and the category. Carries no path, header
/// or body, so it is safe to log.
#[derive(Debug, thiserror::Error)]
#[error("{host}: {kind}")]
pub struct HttpError {
    /// `host[:port]` of the endpoint (from configuration or metadata, not from a response).
    pub host: String,
    pub kind: HttpErrorKind,
}

/// The category of an outbound failure.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum HttpErrorKind {
    #[error("timed out")]
    Timeout,
    #[error("connection refused or unreachable")]
    Connect,
    #[error("TLS handshake or certificate failure")]
    Tls,
    #[error("answered HTTP {0}")]
    Status(u16),
    #[error("the response body is larger than {0} bytes")]
    TooLarge(usize),
    #[error("the request failed: {0}")]
    Other(String),
}

impl HttpError {
    pub fn new(url: &url::Url, kind: HttpErrorKind) -> Self {
        Self {
            host: host_of(url),
            kind,
        }
    }

    pub fn is_timeout(&self) -> bool {
        self.kind == HttpErrorKind::Timeout
    }

    fn from_reqwest(url: &url::Url, err: reqwest::Error) -> Self {
        let kind = if err.is_timeout() {
            HttpErrorKind::Timeout
        } else if err.is_connect() && mentions_tls(&err) {
            HttpErrorKind::Tls
        } else if err.is_connect() {
            HttpErrorKind::Connect
        } else {
            // `without_url`: the host is named already; reqwest's text is its own, not a body.
            HttpErrorKind::Other(crate::text::escaped(&err.without_url().to_string(), 200))
        };
        Self::new(url, kind)
    }
}

/// `host[:port]` of an endpoint, as error messages name it.
pub fn host_of(url: &url::Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_owned(),
        (None, _) => "(no host)".to_owned(),
    }
}

/// Whether a connect error came from TLS (rustls names certificates and handshakes).
fn mentions_tls(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut source = Some(err);
    while let Some(err) = source {
        let text = err.to_string().to_ascii_lowercase();
        if text.contains("certificate") || text.contains("tls") || text.contains("handshake") {
            return true;
        }
        source = err.source();
    }
    false
}

/// A status, headers and a capped body. `Debug` omits the body, which may hold tokens.
pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl std::fmt::Debug for Response {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// One outbound call as an [`Observer`] sees it: what was sent, and what came back or why not.
#[allow(dead_code, reason = "a seam for wings: unread when no wing observes")]
pub struct Call<'a> {
    pub method: &'a http::Method,
    pub url: &'a url::Url,
    pub request_headers: &'a HeaderMap,
    /// The request body (a form, for the token, revocation and PAR requests).
    pub request_body: &'a [u8],
    pub outcome: Result<&'a Response, &'a HttpError>,
    pub elapsed: Duration,
}

/// Sees the outbound calls made in its scope ([`observed`]).
pub trait Observer: Send + Sync {
    fn observe(&self, call: Call<'_>);
}

tokio::task_local! {
    /// The observer of the current request, if any.
    static OBSERVER: Arc<dyn Observer>;
}

/// Runs `future` with `observer` (when there is one) seeing every call [`HttpClient`] makes in
/// it. Without one, `future` runs as it is (not wrapped in another state machine: BENCHMARKS.md)
/// and each call costs one task-local lookup more.
pub fn observed<F: Future>(
    observer: Option<Arc<dyn Observer>>,
    future: F,
) -> Either<F, TaskLocalFuture<Arc<dyn Observer>, F>> {
    match observer {
        Some(observer) => Either::Right(OBSERVER.scope(observer, future)),
        None => Either::Left(future),
    }
}

/// The observer in scope, to carry into a task spawned for the same request.
pub fn current_observer() -> Option<Arc<dyn Observer>> {
    OBSERVER.try_with(Arc::clone).ok()
}

/// Shared, cheap to clone (the inner `reqwest::Client` is an `Arc` with a keep-alive pool).
#[derive(Clone, Debug)]
pub struct HttpClient {
    inner: reqwest::Client,
    max_body: usize,
}

impl HttpClient {
    /// Builds the client. `timeout` bounds each whole call, body included; `proxy` is the
    /// configured outbound proxy (the standard variables, read once by `config`).
    pub fn new(timeout: Duration, proxy: &OutboundProxy) -> anyhow::Result<Self> {
        // Loopback never goes through a proxy: a local provider and local test servers are on
        // this machine, and a corporate proxy would either fail them or see their traffic.
        let bypass = format!(
            "localhost,127.0.0.0/8,::1{}",
            proxy
                .no_proxy
                .as_deref()
                .map(|n| format!(",{n}"))
                .unwrap_or_default()
        );
        let mut builder = reqwest::Client::builder().no_proxy();
        if let Some(url) = &proxy.https {
            builder = builder.proxy(
                reqwest::Proxy::https(url.as_str())?.no_proxy(NoProxy::from_string(&bypass)),
            );
        }
        if let Some(url) = &proxy.http {
            builder = builder
                .proxy(reqwest::Proxy::http(url.as_str())?.no_proxy(NoProxy::from_string(&bypass)));
        }
        let inner = builder
            // Following redirects would re-POST the code and verifier (307/308) or send the
            // bearer token to wherever a server points us: SSRF and token leaks (oauth2 crate
            // docs; RFC 9700 §4.11). A 3xx is treated as an error by the callers.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .user_agent(concat!(
                env!("CARGO_PKG_NAME"),
                "/",
                env!("CARGO_PKG_VERSION")
            ))
            .build()?;
        Ok(Self {
            inner,
            max_body: DEFAULT_MAX_BODY,
        })
    }

    /// Starts a GET request.
    pub fn get(&self, url: url::Url) -> reqwest::RequestBuilder {
        self.inner.get(url)
    }

    /// Starts a POST request.
    pub fn post(&self, url: url::Url) -> reqwest::RequestBuilder {
        self.inner.post(url)
    }

    /// Sends `request` and reads at most `max_body` bytes of the answer; the observer in scope
    /// where `send` is called (inside a future that [`observed`] runs), if any, sees the call.
    /// Unobserved, the call is not wrapped in a second state machine.
    /// With metrics on, the call's latency is recorded by endpoint and outcome; off, nothing is
    /// classified, timed or wrapped.
    pub fn send(
        &self,
        request: reqwest::Request,
    ) -> impl Future<Output = Result<Response, HttpError>> + Send + '_ {
        let endpoint = metrics::enabled().then(|| endpoint_of(&request));
        let call = match current_observer() {
            None => Either::Left(self.send_unobserved(request)),
            Some(observer) => Either::Right(Box::pin(self.send_observed(observer, request))),
        };
        match endpoint {
            None => Either::Left(call),
            Some(endpoint) => Either::Right(Box::pin(async move {
                let started = Instant::now();
                let result = call.await;
                metrics::provider_call(endpoint, outcome_of(&result), started);
                result
            })),
        }
    }

    async fn send_observed(
        &self,
        observer: Arc<dyn Observer>,
        request: reqwest::Request,
    ) -> Result<Response, HttpError> {
        let (method, url) = (request.method().clone(), request.url().clone());
        let headers = request.headers().clone();
        let body = request
            .body()
            .and_then(|b| b.as_bytes())
            .map(<[u8]>::to_vec)
            .unwrap_or_default();
        let started = Instant::now();
        let result = self.send_unobserved(request).await;
        observer.observe(Call {
            method: &method,
            url: &url,
            request_headers: &headers,
            request_body: &body,
            outcome: result.as_ref(),
            elapsed: started.elapsed(),
        });
        result
    }

    async fn send_unobserved(&self, request: reqwest::Request) -> Result<Response, HttpError> {
        let url = request.url().clone();
        let mut response = self
            .inner
            .execute(request)
            .await
            .map_err(|e| HttpError::from_reqwest(&url, e))?;
        let too_large = || HttpError::new(&url, HttpErrorKind::TooLarge(self.max_body));
        if response
            .content_length()
            .is_some_and(|len| len > self.max_body as u64)
        {
            return Err(too_large());
        }
        let status = response.status();
        let headers = std::mem::take(response.headers_mut());
        let mut body = Vec::new();
        // Read chunk by chunk so an endless or huge body is cut at the cap, not buffered whole.
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| HttpError::from_reqwest(&url, e))?
        {
            if body.len() + chunk.len() > self.max_body {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Response {
            status,
            headers,
            body,
        })
    }
}

/// What a call is, for the metrics' `endpoint` label, from the request alone (never its URL):
/// a token request by its grant type, a revocation by its token, a pushed authorization request
/// by its `response_type`; a GET is discovery when it asks for metadata, the photos API when it
/// carries a token, else the provider's signing keys (OpenID Connect's `jwks_uri`).
fn endpoint_of(request: &reqwest::Request) -> &'static str {
    if request.method() == http::Method::GET {
        return if request.url().path().contains("/.well-known/") {
            "discovery"
        } else if request.headers().contains_key(http::header::AUTHORIZATION) {
            "photos"
        } else {
            "jwks"
        };
    }
    let body = request
        .body()
        .and_then(|b| b.as_bytes())
        .unwrap_or_default();
    let has = |field: &[u8]| {
        body.split(|&b| b == b'&')
            .any(|pair| pair.starts_with(field))
    };
    if has(b"grant_type=authorization_code") {
        "token"
    } else if has(b"grant_type=refresh_token") {
        "refresh"
    } else if has(b"token=") {
        "revoke"
    } else if has(b"response_type=") {
        "par"
    } else {
        "other"
    }
}

/// How a call ended, for the metrics' `outcome` label.
fn outcome_of(result: &Result<Response, HttpError>) -> &'static str {
    match result {
        Ok(response) if response.status.is_success() => "ok",
        Ok(_)
        | Err(HttpError {
            kind: HttpErrorKind::Status(_),
            ..
        }) => "error_status",
        Err(err) if err.is_timeout() => "timeout",
        Err(_) => "failed",
    }
}

/// The `oauth2` crate's transport. Its own impl for `reqwest::Client` reads bodies without a cap;
/// this one goes through [`HttpClient::send`]. An error status without a JSON body (an HTML
/// 500 page, a redirect) is not an OAuth error response (RFC 6749 §5.2): it becomes
/// `HttpErrorKind::Status`, so the log names the status rather than a parse failure.
impl<'c> oauth2::AsyncHttpClient<'c> for HttpClient {
    type Error = HttpError;
    type Future =
        Pin<Box<dyn Future<Output = Result<oauth2::HttpResponse, HttpError>> + Send + Sync + 'c>>;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        Box::pin(async move {
            let url = url::Url::parse(&request.uri().to_string()).map_err(|_| HttpError {
                host: "(invalid URL)".into(),
                kind: HttpErrorKind::Other("the request URL does not parse".into()),
            })?;
            let request = reqwest::Request::try_from(request)
                .map_err(|e| HttpError::from_reqwest(&url, e))?;
            let response = self.send(request).await?;
            let json = response
                .headers
                .get(http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.trim_start().starts_with("application/json"));
            if !response.status.is_success() && !json {
                return Err(HttpError::new(
                    &url,
                    HttpErrorKind::Status(response.status.as_u16()),
                ));
            }
            let mut builder = http::Response::builder().status(response.status);
            if let Some(headers) = builder.headers_mut() {
                *headers = response.headers;
            }
            builder
                .body(response.body)
                .map_err(|e| HttpError::new(&url, HttpErrorKind::Other(e.to_string())))
        })
    }
}

/// A raw HTTP server for unit tests of outbound calls.
#[cfg(test)]
pub(crate) mod test_server {
    use std::{net::SocketAddr, sync::Arc, time::Duration};

    use tokio::{
        io::{AsyncReadExt, AsyncWriteExt},
        net::TcpListener,
    };

    /// Listens on a free loopback port. Each connection's first request (its head, up to 4 KiB)
    /// gets `answer(request)` written back whole (status line, headers, body); the connection
    /// then stays open but answers nothing more, so a client making several calls needs
    /// `connection: close`.
    pub async fn serve(answer: impl Fn(&str) -> Vec<u8> + Send + Sync + 'static) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let answer = Arc::new(answer);
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let answer = answer.clone();
                tokio::spawn(async move {
                    // Up to the end of the head: a request may come in several reads.
                    let (mut request, mut read) = ([0u8; 4096], 0);
                    while read < request.len() && !ends_head(&request[..read]) {
                        match socket.read(&mut request[read..]).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => read += n,
                        }
                    }
                    let request = String::from_utf8_lossy(&request[..read]).into_owned();
                    let _ = socket.write_all(&answer(&request)).await;
                    tokio::time::sleep(Duration::from_secs(30)).await;
                });
            }
        });
        addr
    }

    /// A whole answer: `status` (`"200 OK"`), `headers`, and `body` with its `content-length`.
    /// Every answer closes its connection, so a client making several calls opens new ones.
    pub fn response(status: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
        let mut head = format!("HTTP/1.1 {status}\r\nconnection: close\r\n");
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str(&format!("content-length: {}\r\n\r\n", body.len()));
        let mut answer = head.into_bytes();
        answer.extend_from_slice(body);
        answer
    }

    /// The client the tests call servers with: a 2 s timeout, no proxy.
    pub fn client() -> super::HttpClient {
        super::HttpClient::new(Duration::from_secs(2), &Default::default()).expect("client")
    }

    fn ends_head(bytes: &[u8]) -> bool {
        bytes.windows(4).any(|w| w == b"\r\n\r\n")
    }

    /// The value of header `name` (lower case, as reqwest sends it) in a request's text.
    pub fn header<'r>(request: &'r str, name: &str) -> Option<&'r str> {
        request.lines().find_map(|line| {
            line.strip_prefix(name)
                .and_then(|rest| rest.strip_prefix(": "))
        })
    }

    /// The path of a request's text.
    pub fn path_of(request: &str) -> &str {
        request.split(' ').nth(1).unwrap_or("/")
    }
}

#[cfg(test)]
mod tests {
    use tokio::net::TcpListener;

    use super::*;

    #[test]
    fn a_call_is_labelled_by_what_it_is_never_by_its_url() {
        let client = reqwest::Client::new();
        let post =
            |url: &str, body: &'static str| client.post(url).body(body).build().expect("request");
        let as_url = "https://as.example/HOSTILE/token?grant_type=refresh_token";
        for (request, endpoint) in [
            (
                post(as_url, "grant_type=authorization_code&code=x"),
                "token",
            ),
            (post(as_url, "code=x&grant_type=refresh_token"), "refresh"),
            (
                post(as_url, "token=x&token_type_hint=access_token"),
                "revoke",
            ),
            (post(as_url, "client_id=c&response_type=code"), "par"),
            (
                post(as_url, "x=grant_type=refresh_token&refresh_token=1"),
                "other",
            ),
            (
                client.get(as_url).bearer_auth("t").build().expect("get"),
                "photos",
            ),
            (client.get(as_url).build().expect("get"), "jwks"),
            (
                client
                    .get("https://as.example/.well-known/oauth-authorization-server")
                    .build()
                    .expect("get"),
                "discovery",
            ),
        ] {
            assert_eq!(endpoint_of(&request), endpoint, "{request:?}");
        }
        let answer = |status: u16| Response {
            status: StatusCode::from_u16(status).expect("status"),
            headers: HeaderMap::new(),
            body: Vec::new(),
        };
        let url = url::Url::parse("https://as.example/").expect("url");
        let failed = |kind| Err(HttpError::new(&url, kind));
        assert_eq!(outcome_of(&Ok(answer(200))), "ok");
        assert_eq!(outcome_of(&Ok(answer(400))), "error_status");
        assert_eq!(
            outcome_of(&failed(HttpErrorKind::Status(502))),
            "error_status"
        );
        assert_eq!(outcome_of(&failed(HttpErrorKind::Timeout)), "timeout");
        assert_eq!(outcome_of(&failed(HttpErrorKind::Connect)), "failed");
        assert_eq!(outcome_of(&failed(HttpErrorKind::TooLarge(1))), "failed");
    }

    /// A server that answers every request with `answer`, then keeps the connection open (so a
    /// client still reading waits for its timeout).
    async fn serving(answer: Vec<u8>) -> url::Url {
        let addr = test_server::serve(move |_| answer.clone()).await;
        url::Url::parse(&format!("http://{addr}/x")).expect("url")
    }

    /// A 200 with `Content-Length: len` and `sent` bytes of body (the two may differ).
    async fn with_length(len: usize, sent: usize) -> url::Url {
        let mut answer = format!("HTTP/1.1 200 OK\r\ncontent-length: {len}\r\n\r\n").into_bytes();
        answer.extend(vec![b'a'; sent]);
        serving(answer).await
    }

    /// A 200 with a chunked body of one `len`-byte chunk, and the end.
    async fn chunked(len: usize) -> url::Url {
        let mut answer =
            format!("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n{len:x}\r\n")
                .into_bytes();
        answer.extend(vec![b'a'; len]);
        answer.extend(b"\r\n0\r\n\r\n");
        serving(answer).await
    }

    fn client(max_body: usize) -> HttpClient {
        let mut client = test_server::client();
        client.max_body = max_body;
        client
    }

    async fn get(client: &HttpClient, url: url::Url) -> Result<Response, HttpError> {
        client.send(client.get(url).build().expect("request")).await
    }

    #[tokio::test]
    async fn a_declared_length_over_the_cap_is_refused_before_the_body_is_read() {
        // The body never comes: only the Content-Length check can end this call before the
        // timeout.
        let err = get(&client(10), with_length(11, 0).await)
            .await
            .expect_err("too large");
        assert_eq!(err.kind, HttpErrorKind::TooLarge(10));
        let ok = get(&client(10), with_length(10, 10).await)
            .await
            .expect("exactly the cap is read");
        assert_eq!(ok.body, b"aaaaaaaaaa");
    }

    #[tokio::test]
    async fn a_body_without_a_length_is_cut_at_the_cap() {
        let err = get(&client(10), chunked(11).await)
            .await
            .expect_err("too large");
        assert_eq!(err.kind, HttpErrorKind::TooLarge(10));
        let ok = get(&client(10), chunked(10).await)
            .await
            .expect("exactly the cap is read");
        assert_eq!(ok.body.len(), 10);
    }

    #[tokio::test]
    async fn the_default_cap_is_one_mebibyte() {
        let default = test_server::client();
        let err = get(&default, with_length(1024 * 1024 + 1, 0).await)
            .await
            .expect_err("too large");
        assert_eq!(err.kind, HttpErrorKind::TooLarge(1024 * 1024));
        let ok = get(&default, chunked(1024 * 1024).await)
            .await
            .expect("1 MiB is read");
        assert_eq!(ok.body.len(), 1024 * 1024);
    }

    #[tokio::test]
    async fn a_refused_connection_is_a_connect_error_naming_the_host() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        drop(listener);
        let url = url::Url::parse(&format!("http://127.0.0.1:{port}/x")).expect("url");
        let err = get(&client(10), url).await.expect_err("refused");
        assert_eq!(err.kind, HttpErrorKind::Connect, "not TLS: {err}");
        assert_eq!(err.host, format!("127.0.0.1:{port}"));
    }

    #[tokio::test]
    async fn oauth2_gets_json_error_answers_but_not_an_html_error_page() {
        let call = |url: url::Url| async move {
            let request = http::Request::post(url.as_str())
                .body(Vec::new())
                .expect("request");
            oauth2::AsyncHttpClient::call(&client(1024), request).await
        };
        let answer = |status, kind, body: &[u8]| {
            serving(test_server::response(
                status,
                &[("content-type", kind)],
                body,
            ))
        };
        let err = call(answer("500 Oops", "text/html", b"oops").await)
            .await
            .expect_err("an HTML 500 is not an OAuth error response");
        assert_eq!(err.kind, HttpErrorKind::Status(500));
        let json = call(answer("400 Bad", "application/json", b"{}").await)
            .await
            .expect("a JSON 400 goes to oauth2 (RFC 6749 §5.2)");
        assert_eq!(json.status(), 400);
        let answer = call(answer("200 OK", "text/plain", b"ok").await)
            .await
            .expect("a success goes to oauth2 whatever its type");
        assert_eq!(answer.body(), b"ok");
    }

    #[test]
    fn host_of_names_host_and_port() {
        let host = |u: &str| host_of(&url::Url::parse(u).expect("url"));
        assert_eq!(host("http://as.example:8080/token?x=1"), "as.example:8080");
        assert_eq!(host("https://as.example/token"), "as.example");
        assert_eq!(host("data:text/plain,x"), "(no host)");
    }

    /// An error with one cause, to test the chain walk.
    #[derive(Debug, thiserror::Error)]
    #[error("{0}")]
    struct Wrapped(&'static str, #[source] Option<Box<Wrapped>>);

    #[test]
    fn a_tls_failure_is_recognised_anywhere_in_the_error_chain() {
        let chain = |outer, inner| Wrapped(outer, Some(Box::new(Wrapped(inner, None))));
        for word in ["invalid peer certificate", "TLS alert", "handshake failed"] {
            assert!(
                mentions_tls(&chain("error sending request", word)),
                "{word}"
            );
            assert!(mentions_tls(&Wrapped(word, None)), "{word}");
        }
        assert!(!mentions_tls(&chain(
            "error sending request",
            "connection refused"
        )));
    }

    #[test]
    fn debug_of_a_response_shows_the_body_length_not_the_body() {
        let response = Response {
            status: StatusCode::OK,
            headers: HeaderMap::new(),
            body: br#"{"access_token":"SECRET"}"#.to_vec(),
        };
        let debug = format!("{response:?}");
        assert!(
            debug.contains("200") && debug.contains("body_len: 25"),
            "{debug}"
        );
        assert!(!debug.contains("SECRET"), "{debug}");
    }
}
