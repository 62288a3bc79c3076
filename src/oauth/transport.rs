//! The `oauth2` crate's transport for one token or refresh request: the app's [`HttpClient`],
//! with a DPoP proof when DPoP is on (and one retry with the server's nonce when it asks for
//! one, RFC 9449 §8), and with `private_key_jwt` a fresh client assertion in every body sent
//! (RFC 7523 §2.2), a retry included.

use std::{future::Future, pin::Pin};

use crate::{
    http_client::{HttpClient, HttpError},
    oauth::{
        assertion::Assertions,
        dpop::{Dpop, NonceChallenge},
    },
};

pub struct Transport {
    http: HttpClient,
    dpop: Option<Dpop>,
    assertions: Option<Assertions>,
}

impl Transport {
    pub fn new(http: &HttpClient, dpop: Option<Dpop>, assertions: Option<&Assertions>) -> Self {
        Self {
            http: http.clone(),
            dpop,
            assertions: assertions.cloned(),
        }
    }

    /// The request's body with the client's fresh assertion appended, when it authenticates
    /// with `private_key_jwt`; the `oauth2` crate then sent only `client_id` (no secret set).
    fn with_assertion(&self, body: &[u8]) -> Vec<u8> {
        let mut body = body.to_vec();
        if let Some(assertions) = &self.assertions {
            let mut form = url::form_urlencoded::Serializer::new(String::new());
            form.extend_pairs(assertions.form_pairs());
            body.push(b'&');
            body.extend_from_slice(form.finish().as_bytes());
        }
        body
    }
}

impl<'c> oauth2::AsyncHttpClient<'c> for Transport {
    type Error = HttpError;
    type Future =
        Pin<Box<dyn Future<Output = Result<oauth2::HttpResponse, HttpError>> + Send + Sync + 'c>>;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        let Some(dpop) = &self.dpop else {
            if self.assertions.is_none() {
                return oauth2::AsyncHttpClient::call(&self.http, request);
            }
            let (parts, body) = request.into_parts();
            let request = http::Request::from_parts(parts, self.with_assertion(&body));
            return oauth2::AsyncHttpClient::call(&self.http, request);
        };
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let url = url::Url::parse(&parts.uri.to_string()).map_err(|_| HttpError {
                host: "(invalid URL)".into(),
                kind: crate::http_client::HttpErrorKind::Other(
                    "the request URL does not parse".into(),
                ),
            })?;
            let unusable = || HttpError {
                host: crate::http_client::host_of(&url),
                kind: crate::http_client::HttpErrorKind::Other(
                    "the session's DPoP key is unusable".into(),
                ),
            };
            // RFC 9449 §8: a 400 `use_dpop_nonce` with a `DPoP-Nonce` is answered once more,
            // with that nonce in a new proof.
            let send = |proof: String| {
                let body = self.with_assertion(&body);
                let mut request = http::Request::from_parts(parts.clone(), body);
                if let Ok(value) = http::HeaderValue::from_str(&proof) {
                    request.headers_mut().insert("dpop", value);
                }
                oauth2::AsyncHttpClient::call(&self.http, request)
            };
            dpop.send_with_nonce(parts.method.as_str(), &url, None, send, unusable)
                .await
        })
    }
}

impl NonceChallenge for oauth2::HttpResponse {
    fn headers(&self) -> &http::HeaderMap {
        self.headers()
    }

    fn asks_for_nonce(&self) -> bool {
        asks_for_nonce(self)
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

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use base64::Engine;

    use super::*;
    use crate::{
        http_client::test_server::{client, header, response, serve},
        oauth::dpop::{DpopKey, Nonces},
    };

    fn answer(status: u16, body: &str, nonce: Option<&str>) -> http::Response<Vec<u8>> {
        let mut response = http::Response::builder().status(status);
        if let Some(nonce) = nonce {
            response = response.header("dpop-nonce", nonce);
        }
        response.body(body.as_bytes().to_vec()).expect("response")
    }

    #[test]
    fn only_a_400_use_dpop_nonce_asks_for_a_nonce() {
        let nonce = r#"{"error":"use_dpop_nonce"}"#;
        assert!(asks_for_nonce(&answer(400, nonce, None)));
        assert!(
            !asks_for_nonce(&answer(401, nonce, None)),
            "RFC 9449 §8: a 400"
        );
        assert!(!asks_for_nonce(&answer(
            400,
            r#"{"error":"invalid_dpop_proof"}"#,
            None
        )));
        assert!(
            !asks_for_nonce(&answer(400, "use_dpop_nonce", None)),
            "not JSON"
        );
    }

    /// A token endpoint that gives its answers in order (the last repeats) and keeps the `DPoP`
    /// header of every request it gets.
    async fn token_endpoint(answers: Vec<Vec<u8>>) -> (url::Url, Arc<Mutex<Vec<String>>>) {
        let proofs = Arc::new(Mutex::new(Vec::new()));
        let seen = proofs.clone();
        let addr = serve(move |request| {
            let mut proofs = seen.lock().expect("lock");
            proofs.push(header(request, "dpop").unwrap_or_default().to_owned());
            answers[(proofs.len() - 1).min(answers.len() - 1)].clone()
        })
        .await;
        let url = url::Url::parse(&format!("http://{addr}/token")).expect("url");
        (url, proofs)
    }

    /// A 400 `use_dpop_nonce`, with `nonce` as its `DPoP-Nonce` if any.
    fn challenge(nonce: Option<&str>) -> Vec<u8> {
        let mut headers = vec![("content-type", "application/json")];
        headers.extend(nonce.map(|n| ("dpop-nonce", n)));
        response(
            "400 Bad Request",
            &headers,
            br#"{"error":"use_dpop_nonce"}"#,
        )
    }

    /// A 200 that brings the next nonce.
    fn ok_with_nonce() -> Vec<u8> {
        let headers = [("content-type", "application/json"), ("dpop-nonce", "n-2")];
        response("200 OK", &headers, b"{}")
    }

    /// Sends one token request with DPoP to `url`; returns the status.
    async fn token_request(url: &url::Url, dpop: &Dpop) -> u16 {
        let transport = Transport::new(&client(), Some(dpop.clone()), None);
        let request = http::Request::post(url.as_str())
            .body(b"grant_type=authorization_code".to_vec())
            .expect("request");
        let response = oauth2::AsyncHttpClient::call(&transport, request)
            .await
            .expect("an answer");
        response.status().as_u16()
    }

    /// The `DPoP` proofs the endpoint got.
    fn sent(proofs: &Mutex<Vec<String>>) -> Vec<String> {
        proofs.lock().expect("lock").clone()
    }

    fn nonce_of(proof: &str) -> Option<String> {
        let claims = proof.split('.').nth(1)?;
        let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(claims)
            .ok()?;
        let claims: serde_json::Value = serde_json::from_slice(&claims).ok()?;
        claims["nonce"].as_str().map(str::to_owned)
    }

    fn dpop() -> Dpop {
        Dpop {
            key: DpopKey::generate(),
            nonces: Arc::new(Nonces::default()),
        }
    }

    #[tokio::test]
    async fn a_nonce_challenge_is_answered_once_with_the_nonce() {
        let dpop = dpop();
        let (url, proofs) = token_endpoint(vec![challenge(Some("n-1")), ok_with_nonce()]).await;
        assert_eq!(token_request(&url, &dpop).await, 200);
        let first = sent(&proofs);
        assert_eq!(first.len(), 2);
        assert_eq!(nonce_of(&first[0]), None);
        assert_eq!(nonce_of(&first[1]).as_deref(), Some("n-1"));
        // The success's nonce is kept for the next request, and is not a reason to retry.
        assert_eq!(token_request(&url, &dpop).await, 200);
        let all = sent(&proofs);
        assert_eq!(all.len(), 3, "a 200 with a nonce is not retried");
        assert_eq!(nonce_of(&all[2]).as_deref(), Some("n-2"));
    }

    #[tokio::test]
    async fn a_second_challenge_or_one_without_a_nonce_is_not_answered() {
        let (url, proofs) = token_endpoint(vec![
            challenge(Some("n-1")),
            challenge(Some("n-1")),
            ok_with_nonce(),
        ])
        .await;
        assert_eq!(token_request(&url, &dpop()).await, 400);
        assert_eq!(sent(&proofs).len(), 2, "one retry, no more");
        let (url, proofs) = token_endpoint(vec![challenge(None), ok_with_nonce()]).await;
        assert_eq!(token_request(&url, &dpop()).await, 400);
        assert_eq!(sent(&proofs).len(), 1, "nothing new to prove with");
    }
}
