//! Provider- and visitor-controlled text never reaches a log line raw (docs/requirements.md C79):
//! hostile JSON member names, error codes and token types, with CR/LF and terminal escapes, on
//! every outbound call. Each failed request writes exactly one log line, and no raw control
//! character reaches the log at all.

use reqwest::StatusCode;

use crate::{
    mock::{Mock, Reply, connected, invalid_token, post_logout, spawn_app},
    support::*,
};

/// A JSON object whose one member name carries CR/LF, ESC and `marker`, above a value nested
/// deeper than the parser allows, so the parse error's path is built from the member name.
fn hostile_member(marker: &str) -> String {
    let deep = format!("{}{}", "[".repeat(300), "]".repeat(300));
    format!(
        r#"{{"access_token":"t","token_type":"Bearer","\r\n{marker} INFO fake line \u001b[2J\u001b]0;pwned\u0007":{deep}}}"#
    )
}

/// The log lines that mention `marker`: exactly one, the request's own line, with no raw
/// control character in it.
fn assert_one_clean_line(marker: &str) -> String {
    let logs = captured_logs();
    let lines: Vec<&str> = logs.lines().filter(|l| l.contains(marker)).collect();
    assert_eq!(lines.len(), 1, "{marker}: one line, not {lines:#?}");
    let line = lines[0];
    assert!(
        line.contains("request failed") || line.contains("request refused"),
        "{marker}: the text sits inside the request's own line: {line}"
    );
    assert!(!line.chars().any(char::is_control), "{marker}: {line:?}");
    assert!(
        line.contains("\\r\\n") || line.contains("\\u{1b}"),
        "{marker}: escaped: {line}"
    );
    line.to_owned()
}

fn assert_no_raw_control_characters_anywhere() {
    let logs = captured_logs();
    for forbidden in ['\u{1b}', '\r', '\u{7}'] {
        assert!(
            !logs.contains(forbidden),
            "a raw {forbidden:?} reached the log"
        );
    }
}

#[tokio::test]
async fn c79_hostile_member_names_in_a_token_response_are_escaped_in_one_line() {
    let mock = Mock::start().await;
    let app = spawn_app(&mock, |_| {}).await;
    mock.token_replies(Reply::Json(200, hostile_member("MARKER-EXCHANGE-7f3a")));
    assert_eq!(app.callback("c").await.0, StatusCode::BAD_GATEWAY);
    let line = assert_one_clean_line("MARKER-EXCHANGE-7f3a");
    assert!(line.len() < 1_000, "bounded: {} bytes", line.len());
    assert_no_raw_control_characters_anywhere();
}

#[tokio::test]
async fn c79_hostile_member_names_in_a_refresh_response_are_escaped_in_one_line() {
    let mock = Mock::start().await;
    let app = connected(&mock).await;
    mock.photos_replies(vec![invalid_token()]);
    mock.refresh_replies(vec![Reply::Json(
        200,
        hostile_member("MARKER-REFRESH-91c2"),
    )]);
    let (status, _, _) = fetch(&app.client, app.at("/photos")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_one_clean_line("MARKER-REFRESH-91c2");
    assert_no_raw_control_characters_anywhere();
}

#[tokio::test]
async fn c79_hostile_error_codes_and_token_types_are_escaped_in_one_line() {
    let mock = Mock::start().await;
    let app = spawn_app(&mock, |_| {}).await;
    mock.token_replies(Reply::Json(
        400,
        r#"{"error":"\r\nMARKER-CODE-5b1d INFO forged \u001b[31m","error_description":"MARKER-DESC-never"}"#
            .into(),
    ));
    assert_eq!(app.callback("c").await.0, StatusCode::BAD_GATEWAY);
    assert_one_clean_line("MARKER-CODE-5b1d");
    mock.token_replies(Reply::Json(
        200,
        r#"{"access_token":"t","token_type":"\r\nmarker-type-33e0\u001b[0m"}"#.into(),
    ));
    assert_eq!(app.callback("c").await.0, StatusCode::BAD_GATEWAY);
    assert_one_clean_line("marker-type-33e0");
    assert!(
        !captured_logs().contains("MARKER-DESC-never"),
        "descriptions are never logged"
    );
    assert_no_raw_control_characters_anywhere();
}

#[tokio::test]
async fn c79_hostile_photos_and_revocation_bodies_never_reach_the_log() {
    let mock = Mock::start().await;
    let app = connected(&mock).await;
    mock.photos_replies(vec![Reply::Json(200, hostile_member("MARKER-PHOTOS-0a9e"))]);
    let (status, _, _) = fetch(&app.client, app.at("/photos")).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    mock.revoke_replies(Reply::Json(500, hostile_member("MARKER-REVOKE-d4c8")));
    assert_eq!(post_logout(&app).await.status(), StatusCode::SEE_OTHER);
    let logs = captured_logs();
    assert!(!logs.contains("MARKER-PHOTOS-0a9e") && !logs.contains("MARKER-REVOKE-d4c8"));
    assert_no_raw_control_characters_anywhere();
}

#[tokio::test]
async fn c79_a_hostile_error_code_in_the_callback_is_escaped_in_one_line() {
    let mock = Mock::start().await;
    let app = spawn_app(&mock, |_| {}).await;
    let (_, _, home) = fetch(&app.client, app.at("/")).await;
    let state = param(&connect_url(&home), "state").expect("state");
    // Control characters are refused by the parser; a bidi override is not a control.
    let (status, _, _) = fetch(
        &app.client,
        app.at(&format!(
            "/cb?error=MARKER-CB-61f0%E2%80%AEtxt.exe&state={state}"
        )),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    let line = assert_one_clean_line_with("MARKER-CB-61f0", "\\u{202e}");
    assert!(!line.contains('\u{202e}'));
}

/// Like [`assert_one_clean_line`], for text whose hostile part is `escape` once escaped.
fn assert_one_clean_line_with(marker: &str, escape: &str) -> String {
    let logs = captured_logs();
    let lines: Vec<&str> = logs.lines().filter(|l| l.contains(marker)).collect();
    assert_eq!(lines.len(), 1, "{marker}: one line, not {lines:#?}");
    assert!(
        lines[0].contains(escape) && lines[0].contains("request"),
        "{}",
        lines[0]
    );
    lines[0].to_owned()
}

#[tokio::test]
async fn every_outbound_failure_names_the_host_and_the_category_never_a_body() {
    let mock = Mock::start().await;
    let app = spawn_app(&mock, |_| {}).await;
    let host = mock.url.trim_start_matches("http://").to_owned();
    for (reply, category) in [
        (Reply::Silent, "timed out"),
        (
            Reply::Raw {
                status: 500,
                content_type: "text/html",
                body: "<h1>BODY-NEVER-LOGGED-5e</h1>".into(),
                headers: vec![],
            },
            "answered HTTP 500",
        ),
        (
            Reply::Huge(2 * 1024 * 1024),
            "the response body is larger than",
        ),
    ] {
        mock.token_replies(reply);
        let _ = app.callback("c").await;
        let expected = format!("the token endpoint {host}: {category}");
        assert!(
            captured_logs()
                .lines()
                .any(|l| l.contains("request failed") && l.contains(&expected)),
            "{expected}"
        );
    }
    assert!(!captured_logs().contains("BODY-NEVER-LOGGED-5e"));
}
