//! Recording outbound calls: a [`Tape`] that one request's steps go on, and the calls that
//! record onto it when they are given one, and go straight through when they are not.

use std::{
    sync::{Arc, Mutex},
    time::Instant,
};

use super::{Exchange, Step, StepKind, mask};
use crate::http_client::{HttpClient, HttpError, HttpErrorKind, Response};

/// The steps one request records, in the order they finished. Shared with the recorders
/// (`Arc`: the `oauth2` crate's transport cannot borrow).
#[derive(Debug, Default)]
pub struct Tape(Mutex<Vec<Step>>);

impl Tape {
    /// A recorder for one kind of step.
    pub fn recorder(self: &Arc<Self>, kind: StepKind) -> Recorder {
        Recorder {
            tape: self.clone(),
            kind,
        }
    }

    pub fn push(&self, step: Step) {
        // A poisoned lock only means another recording panicked; the steps are still whole.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(step);
    }

    /// The steps recorded so far, taken off the tape.
    pub fn take(&self) -> Vec<Step> {
        std::mem::take(
            &mut *self
                .0
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        )
    }
}

/// Where one outbound call is recorded, and as what.
#[derive(Clone, Debug)]
pub struct Recorder {
    tape: Arc<Tape>,
    kind: StepKind,
}

impl Recorder {
    fn record(self, exchange: Exchange) {
        let mut step = Step::new(self.kind);
        step.exchange = Some(exchange);
        self.tape.push(step);
    }
}

/// One `oauth2` request through [`HttpClient`], recorded when a recorder is given (the token
/// and refresh requests; `oauth::transport` adds DPoP around it).
pub async fn call(
    http: &HttpClient,
    request: oauth2::HttpRequest,
    recorder: Option<&Recorder>,
) -> Result<oauth2::HttpResponse, HttpError> {
    let Some(recorder) = recorder else {
        return oauth2::AsyncHttpClient::call(http, request).await;
    };
    let mut exchange = request_of(
        request.method().as_str(),
        &request.uri().to_string(),
        request.headers(),
        request.body(),
    );
    let started = Instant::now();
    let result = oauth2::AsyncHttpClient::call(http, request).await;
    exchange.micros = micros(started);
    match &result {
        Ok(response) => {
            answered(&mut exchange, response.status(), response.headers());
            exchange.response_body = Some(mask::body(response.body()));
        }
        Err(err) => failed(&mut exchange, err),
    }
    recorder.clone().record(exchange);
    result
}

/// [`HttpClient::send`], recorded when a recorder is given.
pub async fn send(
    http: &HttpClient,
    request: reqwest::Request,
    recorder: Option<Recorder>,
) -> Result<Response, HttpError> {
    let Some(recorder) = recorder else {
        return http.send(request).await;
    };
    let body = request
        .body()
        .and_then(|b| b.as_bytes())
        .unwrap_or_default();
    let mut exchange = request_of(
        request.method().as_str(),
        request.url().as_str(),
        request.headers(),
        body,
    );
    let started = Instant::now();
    let result = http.send(request).await;
    exchange.micros = micros(started);
    match &result {
        Ok(response) => {
            answered(&mut exchange, response.status, &response.headers);
            // The photos themselves are the visitor's data, shown on the photos page: the
            // record keeps only their size (it outlives a logout by a few minutes).
            exchange.response_body = Some(match recorder.kind {
                StepKind::Photos => format!("({} bytes of photos, not kept)", response.body.len()),
                _ => mask::body(&response.body),
            });
        }
        Err(err) => failed(&mut exchange, err),
    }
    recorder.record(exchange);
    result
}

fn request_of(method: &str, url: &str, headers: &http::HeaderMap, body: &[u8]) -> Exchange {
    let form = headers.get(http::header::CONTENT_TYPE).is_some_and(|v| {
        v.as_bytes()
            .starts_with(b"application/x-www-form-urlencoded")
    });
    Exchange {
        method: method.to_owned(),
        url: mask::shown(url, mask::MAX_VALUE_CHARS),
        request_headers: mask::headers(headers),
        request_form: if form { mask::form(body) } else { Vec::new() },
        ..Exchange::default()
    }
}

fn answered(exchange: &mut Exchange, status: http::StatusCode, headers: &http::HeaderMap) {
    exchange.status = Some(status.as_u16());
    exchange.response_headers = mask::headers(headers);
}

fn failed(exchange: &mut Exchange, err: &HttpError) {
    if let HttpErrorKind::Status(status) = err.kind {
        exchange.status = Some(status);
    }
    exchange.error = Some(err.kind.to_string());
}

fn micros(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http_client::test_server::{client, response, serve};

    /// A server whose every answer is `answer`.
    async fn answering(answer: Vec<u8>) -> url::Url {
        let addr = serve(move |_| answer.clone()).await;
        url::Url::parse(&format!("http://{addr}/token?x=1")).expect("url")
    }

    const TOKEN: &str = r#"{"access_token":"SECRET-ACCESS-TOKEN-1234567"}"#;

    /// A 200 with a token in its JSON body.
    fn token_answer() -> Vec<u8> {
        let headers = [("content-type", "application/json"), ("x-seen", "yes")];
        response("200 OK", &headers, TOKEN.as_bytes())
    }

    fn only_step(tape: &Tape) -> Exchange {
        let mut steps = tape.take();
        assert_eq!(steps.len(), 1, "one call, one step");
        assert!(tape.take().is_empty(), "taken off the tape");
        steps.remove(0).exchange.expect("an exchange")
    }

    #[tokio::test]
    async fn a_recorded_token_request_keeps_its_form_and_answer_masked() {
        let url = answering(token_answer()).await;
        let tape = Arc::new(Tape::default());
        let request = http::Request::post(url.as_str())
            .header("content-type", "application/x-www-form-urlencoded")
            .header("authorization", "Basic c2VjcmV0LWNsaWVudDpzZWNyZXQ=")
            .body(
                b"grant_type=authorization_code&code=SECRET-CODE-1234567&client_secret=HUSH"
                    .to_vec(),
            )
            .expect("request");
        let recorder = tape.recorder(StepKind::Token);
        let answer = call(&client(), request, Some(&recorder))
            .await
            .expect("200");
        assert_eq!(
            answer.body(),
            TOKEN.as_bytes(),
            "the caller gets the real body"
        );

        let exchange = only_step(&tape);
        assert_eq!(exchange.method, "POST");
        assert_eq!(exchange.url, url.as_str());
        assert_eq!(exchange.status, Some(200));
        assert!(exchange.micros > 1, "a loopback round trip takes time");
        let form: Vec<&str> = exchange
            .request_form
            .iter()
            .map(|(k, _)| k.as_str())
            .collect();
        assert_eq!(form, ["grant_type", "code", "client_secret"]);
        let kept = format!("{exchange:?}");
        for secret in [
            "SECRET-CODE-1234567",
            "HUSH",
            "c2VjcmV0",
            "SECRET-ACCESS-TOKEN-1234567",
        ] {
            assert!(!kept.contains(secret), "{secret} in {kept}");
        }
        assert!(
            exchange
                .request_headers
                .iter()
                .any(|(k, _)| k == "authorization")
        );
        assert!(
            exchange
                .response_headers
                .iter()
                .any(|(k, v)| k == "x-seen" && v == "yes")
        );
        let body = exchange.response_body.expect("a body");
        assert!(
            body.contains("access_token") && body.contains("SECRET"),
            "masked: {body}"
        );
    }

    #[tokio::test]
    async fn a_recorded_photos_call_keeps_the_size_of_the_photos_not_the_photos() {
        let url = answering(token_answer()).await;
        for (kind, kept) in [(StepKind::Photos, false), (StepKind::RevokeAccess, true)] {
            let tape = Arc::new(Tape::default());
            let request = client().get(url.clone()).build().expect("request");
            let answer = send(&client(), request, Some(tape.recorder(kind)))
                .await
                .expect("200");
            assert_eq!(answer.body.len(), TOKEN.len());
            let exchange = only_step(&tape);
            assert_eq!(
                (exchange.method.as_str(), exchange.status),
                ("GET", Some(200))
            );
            let body = exchange.response_body.expect("a body");
            assert_eq!(body.contains("access_token"), kept, "{kind:?}: {body}");
            if !kept {
                assert_eq!(body, format!("({} bytes of photos, not kept)", TOKEN.len()));
            }
        }
    }

    #[tokio::test]
    async fn a_failed_call_is_recorded_with_its_status_and_reason() {
        let busy = response("503 Busy", &[("content-type", "text/html")], b"busy");
        let url = answering(busy).await;
        let tape = Arc::new(Tape::default());
        let request = http::Request::post(url.as_str())
            .body(Vec::new())
            .expect("request");
        let recorder = tape.recorder(StepKind::Token);
        let err = call(&client(), request, Some(&recorder))
            .await
            .expect_err("503");
        assert_eq!(err.kind, HttpErrorKind::Status(503));
        let exchange = only_step(&tape);
        assert_eq!(exchange.status, Some(503));
        assert_eq!(exchange.error.as_deref(), Some("answered HTTP 503"));
    }

    #[tokio::test]
    async fn without_a_recorder_nothing_is_recorded() {
        let url = answering(token_answer()).await;
        let tape = Arc::new(Tape::default());
        let request = client().get(url).build().expect("request");
        send(&client(), request, None).await.expect("200");
        assert!(tape.take().is_empty());
    }
}
