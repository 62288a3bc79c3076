//! No secret reaches the logs, even at TRACE for every target (docs/requirements.md C77, issue 2).

use base64::Engine;

use crate::helpers::*;

#[tokio::test]
async fn c77_the_happy_path_logs_no_secret_at_trace() {
    let app = spawn_app().await;
    let authorize = app.start_login().await;
    let state = param(&authorize, "state").expect("state");
    let verifier = pending_verifier(&app).await;
    let transaction = app.open_consent(&authorize).await;
    let callback = app.answer_consent(&transaction, "alice", "approve").await;
    let code = param(&callback, "code").expect("code");
    let (status, _, _) = fetch(&app.client, callback).await;
    assert_eq!(status, reqwest::StatusCode::SEE_OTHER);
    app.get("/photos").await;
    let session = app.session_cookie().expect("session cookie");
    let (access, refresh) = {
        let tables = app.provider.state.tables();
        (
            tables.access.keys().cloned().collect::<Vec<_>>(),
            tables.refresh.keys().cloned().collect::<Vec<_>>(),
        )
    };
    assert_eq!((access.len(), refresh.len()), (1, 1));

    let logs = captured_logs();
    assert!(
        logs.contains("signed in; scopes photos"),
        "the capture works: {}",
        logs.len()
    );
    let basic =
        base64::engine::general_purpose::STANDARD.encode(format!("photo-connect:{CLIENT_SECRET}"));
    let secrets = [
        ("client secret", CLIENT_SECRET.to_owned()),
        ("basic credentials", basic),
        ("state", state),
        ("code verifier", verifier),
        ("code", code),
        ("access token", access[0].clone()),
        ("refresh token", refresh[0].clone()),
        ("session id", session),
    ];
    for (what, secret) in secrets {
        assert!(!logs.contains(&secret), "the {what} appears in the logs");
    }
}

/// The verifier of the one pending login in the session store.
async fn pending_verifier(app: &TestApp) -> String {
    let records = app.sessions.records().await;
    let pending = records
        .iter()
        .find_map(|r| r.data.get("oauth.pending"))
        .expect("pending login stored");
    pending[0]["verifier"]
        .as_str()
        .expect("verifier")
        .to_owned()
}
