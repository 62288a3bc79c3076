use super::*;
use crate::inspector::curl::curl;
use crate::inspector::{Exchange, FlowLog, Step, StepKind};

fn token_step() -> Step {
    let mut step = Step::new(StepKind::Token);
    step.exchange = Some(Exchange {
        method: "POST".into(),
        url: "http://127.0.0.1:4000/oauth/token".into(),
        request_headers: vec![
            ("accept".into(), "application/json".into()),
            ("authorization".into(), "Basic (hidden)".into()),
            (
                "content-type".into(),
                "application/x-www-form-urlencoded".into(),
            ),
        ],
        request_form: vec![
            ("grant_type".into(), "authorization_code".into()),
            ("code".into(), "AbCdEf… (43 characters)".into()),
            (
                "redirect_uri".into(),
                "http://localhost:3000/cb?it's=1".into(),
            ),
            ("code_verifier".into(), "XyZ123… (43 characters)".into()),
        ],
        status: Some(200),
        micros: 12_345,
        ..Exchange::default()
    });
    step
}

#[test]
fn curl_repeats_the_request_with_placeholders_for_secrets() {
    let curl = curl(
        token_step().exchange.as_ref().expect("exchange"),
        "photo-connect",
    );
    assert_eq!(
        curl,
        "curl -i -X POST 'http://127.0.0.1:4000/oauth/token' \\\n  \
         -H 'accept: application/json' \\\n  \
         -u 'photo-connect:<client secret>' \\\n  \
         --data-urlencode 'grant_type=authorization_code' \\\n  \
         --data-urlencode 'code=<code>' \\\n  \
         --data-urlencode 'redirect_uri=http://localhost:3000/cb?it'\\''s=1' \\\n  \
         --data-urlencode 'code_verifier=<code_verifier>'"
    );
}

#[test]
fn the_diagram_has_one_arrow_per_message_in_order() {
    let mut log = FlowLog::default();
    log.extend([
        Step::new(StepKind::Authorize),
        Step::new(StepKind::Callback),
        token_step(),
        Step::new(StepKind::Photos),
    ]);
    let view = FlowView::new(&log, "photo-connect");
    let arrows: Vec<_> = view
        .arrows
        .iter()
        .map(|a| (a.step, a.span.as_str(), a.leftward, a.label.as_str()))
        .collect();
    assert_eq!(
        arrows,
        vec![
            (1, "span-01", false, "GET /"),
            (1, "span-01", true, "page with the Connect link"),
            (1, "span-02", false, "GET /authorize?…"),
            (2, "span-02", true, "redirect to /cb?code&state"),
            (2, "span-01", false, "GET /cb?code&state"),
            (3, "span-12", false, "POST token: code + verifier"),
            (3, "span-12", true, "HTTP 200"),
            (4, "span-13", false, "GET photos, Bearer token"),
            (4, "span-13", true, "no answer"),
        ]
    );
    assert!(view.curl.is_some());
    let token = &view.steps[2];
    assert_eq!(token.number, 3);
    let exchange = token.exchange.as_ref().expect("exchange");
    assert_eq!((exchange.status.as_str(), exchange.ok), ("HTTP 200", true));
    assert_eq!(exchange.took, "12.3 ms");
    assert!(exchange.request_form[1].masked, "the code is a secret");
    assert!(!exchange.request_form[0].masked);
    assert!(
        exchange.request_form[0]
            .note
            .is_some_and(|n| n.contains("RFC 6749 §4.1.3"))
    );
}

#[test]
fn times_are_relative_to_the_link() {
    let mut first = Step::new(StepKind::Authorize);
    first.at_ms = 86_400_000 + 3_600_000 + 61_000;
    let mut later = Step::new(StepKind::Callback);
    later.at_ms = first.at_ms + 2_500;
    let mut log = FlowLog::default();
    log.extend([first, later]);
    let view = FlowView::new(&log, "c");
    assert_eq!(view.steps[0].when, "01:01:01 UTC, +0.0 s");
    assert_eq!(view.steps[1].when, "01:01:03 UTC, +2.5 s");
}
