//! The `oauth2` crate's transport for one token or refresh request: the app's [`HttpClient`],
//! with a DPoP proof when DPoP is on (and one retry with the server's nonce when it asks for
//! one, RFC 9449 §8), recorded for the flow inspector when that is on.

use std::{future::Future, pin::Pin};

use crate::{
    http_client::{HttpClient, HttpError},
    inspector::{self, Recorder},
    oauth::dpop::Dpop,
    state::now,
};

pub struct Transport {
    http: HttpClient,
    recorder: Option<Recorder>,
    dpop: Option<Dpop>,
}

impl Transport {
    pub fn new(http: &HttpClient, recorder: Option<Recorder>, dpop: Option<Dpop>) -> Self {
        Self {
            http: http.clone(),
            recorder,
            dpop,
        }
    }
}

impl<'c> oauth2::AsyncHttpClient<'c> for Transport {
    type Error = HttpError;
    type Future =
        Pin<Box<dyn Future<Output = Result<oauth2::HttpResponse, HttpError>> + Send + Sync + 'c>>;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        let Some(dpop) = &self.dpop else {
            return Box::pin(inspector::call(&self.http, request, self.recorder.as_ref()));
        };
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let url = url::Url::parse(&parts.uri.to_string()).map_err(|_| HttpError {
                host: "(invalid URL)".into(),
                kind: crate::http_client::HttpErrorKind::Other(
                    "the request URL does not parse".into(),
                ),
            })?;
            let mut retried = false;
            loop {
                let nonce = dpop.nonces.get(&url);
                let proof = dpop
                    .key
                    .proof(parts.method.as_str(), &url, None, nonce.as_deref(), now())
                    .ok_or_else(|| HttpError {
                        host: crate::http_client::host_of(&url),
                        kind: crate::http_client::HttpErrorKind::Other(
                            "the session's DPoP key is unusable".into(),
                        ),
                    })?;
                let mut request = http::Request::from_parts(parts.clone(), body.clone());
                if let Ok(value) = http::HeaderValue::from_str(&proof) {
                    request.headers_mut().insert("dpop", value);
                }
                let response = inspector::call(&self.http, request, self.recorder.as_ref()).await?;
                let fresh_nonce = dpop.nonces.remember(&url, response.headers());
                // RFC 9449 §8: a 400 `use_dpop_nonce` with a `DPoP-Nonce` is answered once more,
                // with that nonce in a new proof. Never more than once.
                if !retried && fresh_nonce && asks_for_nonce(&response) {
                    retried = true;
                    continue;
                }
                return Ok(response);
            }
        })
    }
}

/// Whether a token endpoint's error response is `use_dpop_nonce` (RFC 9449 §8).
fn asks_for_nonce(response: &oauth2::HttpResponse) -> bool {
    #[derive(serde::Deserialize)]
    struct Error {
        error: String,
    }
    response.status() == http::StatusCode::BAD_REQUEST
        && serde_json::from_slice::<Error>(response.body())
            .is_ok_and(|e| e.error == "use_dpop_nonce")
}
