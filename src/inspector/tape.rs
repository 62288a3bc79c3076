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
