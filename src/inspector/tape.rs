//! Recording outbound calls: a [`Tape`] that one request's steps go on. It is the outbound
//! [`Observer`] the routes put in scope when the inspector is on: every call the app's
//! [`HttpClient`](crate::http_client::HttpClient) makes is recorded, masked, as the step its
//! request says it is. Off, no tape is made and nothing here runs.

use std::{
    future::Future,
    sync::{Arc, Mutex},
};

use super::{Exchange, Step, StepKind, mask};
use crate::http_client::{Call, HttpError, HttpErrorKind, Observer, Response, observed};

/// Runs `future` with `tape` (when the inspector is on) recording its outbound calls.
pub fn recording<F: Future>(
    tape: Option<&Arc<Tape>>,
    future: F,
) -> impl Future<Output = F::Output> {
    let observer = tape.map(|tape| Arc::clone(tape) as Arc<dyn Observer>);
    observed(observer, future)
}

/// The steps one request records, in the order they finished.
#[derive(Debug, Default)]
pub struct Tape(Mutex<Vec<Step>>);

impl Tape {
    pub fn push(&self, step: Step) {
        self.steps().push(step);
    }

    /// The steps recorded so far, taken off the tape.
    pub fn take(&self) -> Vec<Step> {
        std::mem::take(&mut *self.steps())
    }

    fn steps(&self) -> std::sync::MutexGuard<'_, Vec<Step>> {
        // A poisoned lock only means another recording panicked; the steps are still whole.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// What a call was, from what it sent: a token request by its grant, a revocation by its
    /// hint, a pushed request by its `response_type`, a GET for the photos. A refresh right after
    /// a photos call that answered 401 was caused by it (RFC 6750 §3.1).
    fn kind_of(&self, call: &Call<'_>) -> Option<StepKind> {
        if call.method == http::Method::GET {
            return Some(StepKind::Photos);
        }
        let form = url::form_urlencoded::parse(call.request_body);
        let param = |name: &str| form.clone().find(|(k, _)| k == name).map(|(_, v)| v);
        if let Some(grant) = param("grant_type") {
            return Some(match grant.as_ref() {
                "refresh_token" => match self.steps().last() {
                    Some(last) if last.kind == StepKind::Photos && status(last) == Some(401) => {
                        StepKind::RefreshRejected
                    }
                    _ => StepKind::RefreshExpiring,
                },
                _ => StepKind::Token,
            });
        }
        match param("token_type_hint").as_deref() {
            Some("refresh_token") => Some(StepKind::RevokeRefresh),
            Some(_) => Some(StepKind::RevokeAccess),
            None if param("response_type").is_some() => Some(StepKind::Push),
            None => None,
        }
    }
}

fn status(step: &Step) -> Option<u16> {
    step.exchange.as_ref().and_then(|e| e.status)
}

impl Observer for Tape {
    fn observe(&self, call: Call<'_>) {
        let Some(kind) = self.kind_of(&call) else {
            return;
        };
        let mut exchange = request_of(&call);
        exchange.micros = u64::try_from(call.elapsed.as_micros()).unwrap_or(u64::MAX);
        match call.outcome {
            Ok(response) => answered(&mut exchange, kind, response),
            Err(err) => failed(&mut exchange, err),
        }
        let mut step = Step::new(kind);
        step.exchange = Some(exchange);
        self.push(step);
    }
}

fn request_of(call: &Call<'_>) -> Exchange {
    let form = call
        .request_headers
        .get(http::header::CONTENT_TYPE)
        .is_some_and(|v| {
            v.as_bytes()
                .starts_with(b"application/x-www-form-urlencoded")
        });
    Exchange {
        method: call.method.to_string(),
        url: mask::shown(call.url.as_str(), mask::MAX_VALUE_CHARS),
        request_headers: mask::headers(call.request_headers),
        request_form: if form {
            mask::form(call.request_body)
        } else {
            Vec::new()
        },
        ..Exchange::default()
    }
}

fn answered(exchange: &mut Exchange, kind: StepKind, response: &Response) {
    exchange.status = Some(response.status.as_u16());
    exchange.response_headers = mask::headers(&response.headers);
    // The photos themselves are the visitor's data, shown on the photos page: the record keeps
    // only their size (it outlives a logout by a few minutes).
    exchange.response_body = Some(match kind {
        StepKind::Photos => format!("({} bytes of photos, not kept)", response.body.len()),
        _ => mask::body(&response.body),
    });
}

fn failed(exchange: &mut Exchange, err: &HttpError) {
    if let HttpErrorKind::Status(status) = err.kind {
        exchange.status = Some(status);
    }
    exchange.error = Some(err.kind.to_string());
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

    fn only_step(tape: &Tape) -> Step {
        let mut steps = tape.take();
        assert_eq!(steps.len(), 1, "one call, one step");
        assert!(tape.take().is_empty(), "taken off the tape");
        steps.remove(0)
    }

    /// A form POST to `url` through the `oauth2` transport, with `tape` observing.
    async fn post_form(
        tape: &Arc<Tape>,
        url: &url::Url,
        form: &str,
    ) -> Result<oauth2::HttpResponse, HttpError> {
        let request = http::Request::post(url.as_str())
            .header("content-type", "application/x-www-form-urlencoded")
            .header("authorization", "Basic c2VjcmV0LWNsaWVudDpzZWNyZXQ=")
            .body(form.as_bytes().to_vec())
            .expect("request");
        let http = client();
        let observer: Arc<dyn Observer> = tape.clone();
        observed(
            Some(observer),
            oauth2::AsyncHttpClient::call(&http, request),
        )
        .await
    }

    #[tokio::test]
    async fn a_recorded_token_request_keeps_its_form_and_answer_masked() {
        let url = answering(token_answer()).await;
        let tape = Arc::new(Tape::default());
        let form = "grant_type=authorization_code&code=SECRET-CODE-1234567&client_secret=HUSH";
        let answer = post_form(&tape, &url, form).await.expect("200");
        assert_eq!(
            answer.body(),
            TOKEN.as_bytes(),
            "the caller gets the real body"
        );

        let step = only_step(&tape);
        assert_eq!(step.kind, StepKind::Token);
        let exchange = step.exchange.expect("an exchange");
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
    async fn each_call_is_the_step_its_request_says_it_is() {
        let url = answering(token_answer()).await;
        let tape = Arc::new(Tape::default());
        let kinds = [
            (
                "grant_type=refresh_token&refresh_token=r",
                StepKind::RefreshExpiring,
            ),
            (
                "token=t&token_type_hint=refresh_token",
                StepKind::RevokeRefresh,
            ),
            (
                "token=t&token_type_hint=access_token",
                StepKind::RevokeAccess,
            ),
            ("response_type=code&client_id=c", StepKind::Push),
            ("grant_type=authorization_code&code=c", StepKind::Token),
        ];
        for (form, kind) in kinds {
            post_form(&tape, &url, form).await.expect("200");
            assert_eq!(only_step(&tape).kind, kind, "{form}");
        }
        post_form(&tape, &url, "something=else").await.expect("200");
        assert!(tape.take().is_empty(), "an unknown call is not a step");
    }

    #[tokio::test]
    async fn a_refresh_right_after_a_rejected_photos_call_is_recorded_as_caused_by_it() {
        let url = answering(response("401 Unauthorized", &[], b"")).await;
        let tape = Arc::new(Tape::default());
        let observer: Arc<dyn Observer> = tape.clone();
        let photos = client().get(url.clone()).build().expect("request");
        let answer = observed(Some(observer), async { client().send(photos).await }).await;
        assert_eq!(answer.expect("answered").status, 401);
        let refresh = "grant_type=refresh_token&refresh_token=r";
        let _ = post_form(&tape, &url, refresh).await;
        let kinds: Vec<StepKind> = tape.take().iter().map(|s| s.kind).collect();
        assert_eq!(kinds, [StepKind::Photos, StepKind::RefreshRejected]);
    }

    #[tokio::test]
    async fn a_refresh_after_an_answered_photos_call_or_another_401_is_for_expiring_tokens() {
        let refresh = "grant_type=refresh_token&refresh_token=r";
        let tape = Arc::new(Tape::default());
        let observer: Arc<dyn Observer> = tape.clone();
        let ok = answering(token_answer()).await;
        let photos = client().get(ok.clone()).build().expect("request");
        let answer = observed(Some(observer), async { client().send(photos).await }).await;
        assert_eq!(answer.expect("answered").status, 200);
        post_form(&tape, &ok, refresh).await.expect("200");
        let kinds: Vec<StepKind> = tape.take().iter().map(|s| s.kind).collect();
        assert_eq!(
            kinds,
            [StepKind::Photos, StepKind::RefreshExpiring],
            "the photos were answered: nothing rejected the token"
        );

        let rejecting = answering(response("401 Unauthorized", &[], b"")).await;
        let revoke = "token=t&token_type_hint=access_token";
        let _ = post_form(&tape, &rejecting, revoke).await;
        post_form(&tape, &ok, refresh).await.expect("200");
        let steps = tape.take();
        assert_eq!(status(&steps[0]), Some(401));
        let kinds: Vec<StepKind> = steps.iter().map(|s| s.kind).collect();
        assert_eq!(
            kinds,
            [StepKind::RevokeAccess, StepKind::RefreshExpiring],
            "only the photos API's 401 is a rejected access token"
        );
    }

    #[tokio::test]
    async fn a_recorded_photos_call_keeps_the_size_of_the_photos_not_the_photos() {
        let url = answering(token_answer()).await;
        let tape = Arc::new(Tape::default());
        let observer: Arc<dyn Observer> = tape.clone();
        let request = client().get(url.clone()).build().expect("request");
        let answer = observed(Some(observer), async { client().send(request).await })
            .await
            .expect("200");
        assert_eq!(answer.body.len(), TOKEN.len());
        let step = only_step(&tape);
        assert_eq!(step.kind, StepKind::Photos);
        let exchange = step.exchange.expect("an exchange");
        assert_eq!(
            (exchange.method.as_str(), exchange.status),
            ("GET", Some(200))
        );
        let body = exchange.response_body.expect("a body");
        assert_eq!(body, format!("({} bytes of photos, not kept)", TOKEN.len()));

        post_form(&tape, &url, "token=t&token_type_hint=access_token")
            .await
            .expect("200");
        let body = only_step(&tape).exchange.and_then(|e| e.response_body);
        assert!(
            body.is_some_and(|b| b.contains("access_token")),
            "other answers are kept, masked"
        );
    }

    #[tokio::test]
    async fn a_failed_call_is_recorded_with_its_reason() {
        let tape = Arc::new(Tape::default());
        // Nothing listens on port 9 of loopback: the connection is refused.
        let url = url::Url::parse("http://127.0.0.1:9/token").expect("url");
        let err = post_form(&tape, &url, "grant_type=authorization_code&code=c")
            .await
            .expect_err("refused");
        assert_eq!(err.kind, HttpErrorKind::Connect);
        let exchange = only_step(&tape).exchange.expect("an exchange");
        assert_eq!(exchange.status, None, "no answer came");
        assert_eq!(
            exchange.error.as_deref(),
            Some("connection refused or unreachable")
        );
    }

    #[tokio::test]
    async fn without_an_observer_nothing_is_recorded() {
        let url = answering(token_answer()).await;
        let tape = Arc::new(Tape::default());
        let request = client().get(url).build().expect("request");
        client().send(request).await.expect("200");
        assert!(tape.take().is_empty());
    }
}
