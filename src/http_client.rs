//! The one outbound HTTP client: built once, never follows redirects, times out, and caps every
//! response body it reads. The `oauth2` crate uses it for the token request; `photos_api` for
//! the photos API.

use std::{future::Future, pin::Pin, time::Duration};

use http::{HeaderMap, StatusCode};

/// Largest response body read from the provider. A token response is a few hundred bytes and a
/// page of photos a few KiB; anything bigger is a broken or hostile server.
pub const DEFAULT_MAX_BODY: usize = 1024 * 1024;

/// Why an outbound call failed. Carries no URL, header or body, so it is safe to log.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("the request timed out")]
    Timeout,
    #[error("could not connect")]
    Connect,
    #[error("the response body is larger than {0} bytes")]
    TooLarge(usize),
    #[error("the request failed: {0}")]
    Other(String),
}

impl HttpError {
    fn from_reqwest(err: reqwest::Error) -> Self {
        if err.is_timeout() {
            Self::Timeout
        } else if err.is_connect() {
            Self::Connect
        } else {
            // `without_url`: URLs are not secret here, but keep log lines short and uniform.
            Self::Other(err.without_url().to_string())
        }
    }
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

/// Shared, cheap to clone (the inner `reqwest::Client` is an `Arc` with a keep-alive pool).
#[derive(Clone, Debug)]
pub struct HttpClient {
    inner: reqwest::Client,
    max_body: usize,
}

impl HttpClient {
    /// Builds the client. `timeout` bounds each whole call, body included.
    pub fn new(timeout: Duration) -> anyhow::Result<Self> {
        let inner = reqwest::Client::builder()
            // Following redirects would re-POST the code and verifier (307/308) or send the
            // bearer token to wherever a server points us: SSRF and token leaks (oauth2 crate
            // docs; RFC 9700 §4.11). A 3xx is treated as an error by the callers.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .user_agent(concat!("photo-connect/", env!("CARGO_PKG_VERSION")))
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

    /// Sends `request` and reads at most `max_body` bytes of the answer.
    pub async fn send(&self, request: reqwest::Request) -> Result<Response, HttpError> {
        let mut response = self
            .inner
            .execute(request)
            .await
            .map_err(HttpError::from_reqwest)?;
        if response
            .content_length()
            .is_some_and(|len| len > self.max_body as u64)
        {
            return Err(HttpError::TooLarge(self.max_body));
        }
        let status = response.status();
        let headers = std::mem::take(response.headers_mut());
        let mut body = Vec::new();
        // Read chunk by chunk so an endless or huge body is cut at the cap, not buffered whole.
        while let Some(chunk) = response.chunk().await.map_err(HttpError::from_reqwest)? {
            if body.len() + chunk.len() > self.max_body {
                return Err(HttpError::TooLarge(self.max_body));
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

/// The `oauth2` crate's transport. Its own impl for `reqwest::Client` reads bodies without a cap;
/// this one goes through [`HttpClient::send`].
impl<'c> oauth2::AsyncHttpClient<'c> for HttpClient {
    type Error = HttpError;
    type Future =
        Pin<Box<dyn Future<Output = Result<oauth2::HttpResponse, HttpError>> + Send + Sync + 'c>>;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        Box::pin(async move {
            let request = reqwest::Request::try_from(request).map_err(HttpError::from_reqwest)?;
            let response = self.send(request).await?;
            let mut builder = http::Response::builder().status(response.status);
            if let Some(headers) = builder.headers_mut() {
                *headers = response.headers;
            }
            builder
                .body(response.body)
                .map_err(|e| HttpError::Other(e.to_string()))
        })
    }
}
