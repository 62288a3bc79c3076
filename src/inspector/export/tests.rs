use base64::Engine;
use proptest::prelude::*;

use super::*;
use crate::inspector::{Exchange, FlowLog, Step, StepKind, mask};

fn exchange(body: &str) -> Exchange {
    Exchange {
        method: "POST".into(),
        url: "https://login.example.com/token".into(),
        status: Some(200),
        response_body: Some(body.into()),
        micros: 1_500,
        ..Exchange::default()
    }
}

fn record(kinds: &[StepKind]) -> FlowLog {
    let mut log = FlowLog::default();
    log.extend(kinds.iter().map(|&kind| Step::new(kind)));
    log
}

#[test]
fn each_step_keeps_an_anchor_named_by_its_kind_and_rank() {
    use StepKind::*;
    let log = record(&[
        Authorize,
        Callback,
        Token,
        Photos,
        Photos,
        RefreshRejected,
        Photos,
    ]);
    let view = FlowView::new(&log, "client");
    let anchors: Vec<&str> = view.steps.iter().map(|s| s.anchor.as_str()).collect();
    assert_eq!(
        anchors,
        [
            "authorize",
            "callback",
            "token",
            "photos",
            "photos-2",
            "refresh-after-401",
            "photos-3"
        ]
    );
    // The diagram links to the same anchors.
    assert!(
        view.arrows
            .iter()
            .any(|a| a.anchor == "photos-2" && a.step == 5)
    );

    let json: serde_json::Value =
        serde_json::from_str(&json(&view).expect("json")).expect("parses");
    assert_eq!(json["format"], FORMAT);
    assert_eq!(json["steps"][2]["anchor"], "token");
    assert_eq!(json["steps"][2]["number"], 3);
    let markdown = markdown(&view);
    assert!(markdown.contains("| 3 | [The token request"), "{markdown}");
    assert!(markdown.contains("(#token) |"), "{markdown}");
    assert!(
        markdown.contains("<a id=\"photos-2\"></a>\n\n## 5. "),
        "{markdown}"
    );
}

#[test]
fn markdown_keeps_what_came_from_outside_inside_a_longer_fence() {
    let body = "``` \n</pre><img src=x onerror=alert(1)> [click](https://evil.example) ````";
    let mut step = Step::new(StepKind::Token).param("state", "a`b");
    step.exchange = Some(exchange(body));
    let mut log = FlowLog::default();
    log.extend([step]);
    let markdown = markdown(&FlowView::new(&log, "client"));
    // Four backticks in the body: the fence is five, and the body sits between its two lines.
    let opening = markdown.find("`````http\n").expect("a five-backtick fence");
    let closing = opening + 10 + markdown[opening + 10..].find("\n`````\n").expect("closed");
    let inside = &markdown[opening..closing];
    assert!(
        inside.contains("[click](https://evil.example)"),
        "{markdown}"
    );
    assert!(inside.contains("<img src=x"), "{markdown}");
    assert_eq!(markdown.matches("[click]").count(), 1, "{markdown}");
    assert!(markdown.contains("```text\nstate = a`b\n```"), "{markdown}");
}

#[test]
fn json_and_markdown_say_what_was_dropped_and_carry_the_curl_command() {
    let mut log = record(&[StepKind::Authorize, StepKind::Callback]);
    let mut token = Step::new(StepKind::Token);
    token.exchange = Some(Exchange {
        request_headers: vec![("authorization".into(), "Basic (hidden)".into())],
        request_form: vec![("grant_type".into(), "authorization_code".into())],
        ..exchange("{}")
    });
    log.extend([token]);
    log.dropped = 3;
    let view = FlowView::new(&log, "the-client");
    let json: serde_json::Value =
        serde_json::from_str(&json(&view).expect("json")).expect("parses");
    assert_eq!(json["dropped"], 3);
    assert!(
        json["curl"]
            .as_str()
            .expect("curl")
            .contains("the-client:<client secret>")
    );
    let markdown = markdown(&view);
    assert!(
        markdown.contains("3 earlier steps were no longer kept."),
        "{markdown}"
    );
    assert!(
        markdown.contains("## Copy as curl\n\n```sh\ncurl -i -X POST"),
        "{markdown}"
    );
}

/// Every window of `secret` one character longer than the prefix the masking shows.
fn beyond_prefix(secret: &str) -> impl Iterator<Item = &str> {
    (0..=secret.len() - (mask::PREFIX_CHARS + 1))
        .map(move |i| &secret[i..i + mask::PREFIX_CHARS + 1])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// A record made the way the recorder makes one, from secrets in every place a flow carries
    /// them (the callback's code, the token request's form and Basic credentials, the token
    /// response, a DPoP-bound call's `Authorization` header): neither export holds any of them
    /// beyond the masked prefix, nor anything of the client secret.
    #[test]
    fn exports_hold_no_secret_beyond_the_masked_prefix(
        code in "[A-Za-z0-9_-]{20,64}",
        verifier in "[A-Za-z0-9_-]{43,128}",
        client_secret in "[A-Za-z0-9_-]{16,64}",
        access in "[A-Za-z0-9_-]{20,64}",
        refresh in "[A-Za-z0-9_-]{20,64}",
        id_token in "[A-Za-z0-9_-]{20,64}",
        photos in 0usize..16,
    ) {
        let form = format!(
            "grant_type=authorization_code&code={code}&code_verifier={verifier}&client_secret={client_secret}"
        );
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("client:{client_secret}"));
        let mut headers = http::HeaderMap::new();
        headers.insert("authorization", format!("Basic {basic}").parse().expect("header"));
        let response = format!(
            r#"{{"access_token":"{access}","refresh_token":"{refresh}","id_token":"{id_token}","nested":{{"token":"{access}"}}}}"#
        );
        let mut token = Step::new(StepKind::Token);
        token.exchange = Some(Exchange {
            request_headers: mask::headers(&headers),
            request_form: mask::form(form.as_bytes()),
            ..exchange(&mask::body(response.as_bytes()))
        });
        let mut log = FlowLog::default();
        log.extend([Step::new(StepKind::Callback).secret("code", &code), token]);
        for _ in 0..photos {
            let mut call = Step::new(StepKind::Photos);
            let mut headers = http::HeaderMap::new();
            headers.insert("authorization", format!("DPoP {access}").parse().expect("header"));
            call.exchange = Some(Exchange { request_headers: mask::headers(&headers), ..Exchange::default() });
            log.extend([call]);
        }
        let view = FlowView::new(&log, "client");
        for export in [json(&view).expect("json"), markdown(&view)] {
            for secret in [&code, &verifier, &access, &refresh, &id_token, &client_secret] {
                for window in beyond_prefix(secret) {
                    prop_assert!(!export.contains(window), "{window} of {secret} in {export}");
                }
            }
            prop_assert!(!export.contains(&basic[..8]), "the Basic credentials in {export}");
        }
    }
}
