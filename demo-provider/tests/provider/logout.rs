//! Logout at the provider (C99, C100's provider side): the end-session endpoint's checks (OIDC
//! RP-Initiated Logout 1.0), the account page, and the logout tokens it POSTs to clients that
//! registered a `backchannel_logout_uri` (OIDC Back-Channel Logout 1.0).

use std::{sync::Arc, time::Duration};

use axum::{Form, Router, extract::State, routing::post};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64};
use reqwest::StatusCode;
use serde_json::Value;
use tokio::sync::Mutex;

use crate::helpers::*;

const HOME: &str = "https://client.example/";

/// The JSON of part `i` of a compact JWS.
fn part(token: &str, i: usize) -> Value {
    let bytes = B64
        .decode(token.split('.').nth(i).expect("part"))
        .expect("b64");
    serde_json::from_slice(&bytes).expect("json")
}

type Received = Arc<Mutex<Vec<String>>>;

/// A client's back-channel logout endpoint on loopback: what it received.
async fn receiver() -> (String, Received) {
    let received: Received = Arc::default();
    async fn take(
        State(received): State<Received>,
        Form(form): Form<std::collections::HashMap<String, String>>,
    ) -> StatusCode {
        if let Some(token) = form.get("logout_token") {
            received.lock().await.push(token.clone());
        }
        StatusCode::OK
    }
    let app = Router::new()
        .route("/bcl", post(take))
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/bcl"), received)
}

/// The provider with [`CLIENT_ID`] registered with [`HOME`] as its post-logout redirect URI and
/// [`OTHER_ID`] with a back-channel logout URI.
async fn provider(backchannel: &str) -> Provider {
    let mut settings = settings();
    settings.clients[0].post_logout_redirect_uris = vec![HOME.into()];
    settings.clients[1].backchannel_logout_uri = Some(backchannel.into());
    spawn_with(settings).await
}

/// Alice's ID token and access token for [`CLIENT_ID`].
async fn sign_in(provider: &Provider) -> (String, String) {
    let request = AuthRequest::new().set("scope", "openid photos");
    let code = provider.code_for(&request).await;
    let reply = provider.redeem(&code, &request.pkce.verifier).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let id = reply.json["id_token"]
        .as_str()
        .expect("id_token")
        .to_owned();
    let at = reply.json["access_token"].as_str().expect("at").to_owned();
    (id, at)
}

/// Alice's grant at [`OTHER_ID`].
async fn sign_in_other(provider: &Provider) {
    let request = AuthRequest::for_client(OTHER_ID, OTHER_REDIRECT);
    let code = provider.code_for(&request).await;
    let reply = provider
        .token_as(
            OTHER_ID,
            OTHER_SECRET,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", OTHER_REDIRECT),
                ("code_verifier", &request.pkce.verifier),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

async fn end_session(provider: &Provider, params: &[(&str, &str)]) -> Reply {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    let url = format!("{}?{query}", provider.url("/oauth/logout"));
    Reply::from(provider.http.get(url).send().await.expect("logout")).await
}

async fn delivered(received: &Received, n: usize) -> Vec<String> {
    for _ in 0..100 {
        let got = received.lock().await.clone();
        if got.len() >= n {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    received.lock().await.clone()
}

#[tokio::test]
async fn c99_c100_the_openid_configuration_advertises_end_session_and_back_channel_logout() {
    let provider = provider("http://127.0.0.1:9/bcl").await;
    let reply = Reply::from(
        provider
            .http
            .get(provider.url("/.well-known/openid-configuration"))
            .send()
            .await
            .expect("get"),
    )
    .await;
    assert_eq!(
        reply.json["end_session_endpoint"],
        provider.url("/oauth/logout").as_str()
    );
    assert_eq!(reply.json["backchannel_logout_supported"], true);
    assert_eq!(reply.json["backchannel_logout_session_supported"], true);
}

#[tokio::test]
async fn c99_end_session_ends_the_users_grants_tells_the_other_clients_and_returns_the_state() {
    let (uri, received) = receiver().await;
    let provider = provider(&uri).await;
    let (id_token, access) = sign_in(&provider).await;
    sign_in_other(&provider).await;
    let reply = end_session(
        &provider,
        &[
            ("id_token_hint", &id_token),
            ("client_id", CLIENT_ID),
            ("post_logout_redirect_uri", HOME),
            ("state", "st-9"),
        ],
    )
    .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(
        reply.location().as_str(),
        "https://client.example/?state=st-9"
    );
    assert!(
        !provider.state.access_token_valid(&access),
        "its grant ended"
    );

    let tokens = delivered(&received, 1).await;
    assert_eq!(tokens.len(), 1, "the other client is told, once");
    let header = part(&tokens[0], 0);
    assert_eq!(header["alg"], "ES256");
    assert_eq!(header["typ"], "logout+jwt");
    let claims = part(&tokens[0], 1);
    assert_eq!(claims["iss"], provider.issuer.as_str());
    assert_eq!(claims["aud"], OTHER_ID);
    assert_eq!(claims["sub"], "alice");
    assert!(claims["sid"].as_str().is_some_and(|s| !s.is_empty()));
    assert!(claims["jti"].as_str().is_some_and(|s| s.len() >= 32));
    assert!(claims["iat"].is_i64());
    assert!(
        claims["events"]
            .get("http://schemas.openid.net/event/backchannel-logout")
            .is_some()
    );
    assert!(claims.get("nonce").is_none(), "§2.4: never a nonce");
}

#[tokio::test]
async fn c99_end_session_refuses_a_bad_hint_a_foreign_client_id_or_an_unregistered_return() {
    let provider = provider("http://127.0.0.1:9/bcl").await;
    let (id_token, access) = sign_in(&provider).await;
    let mut forged = id_token.clone();
    forged.pop();
    forged.push(if id_token.ends_with('A') { 'B' } else { 'A' });
    let (head, _) = id_token.rsplit_once('.').expect("jws");
    let unsigned = format!("{head}.");
    for (why, params) in [
        ("no hint", vec![("post_logout_redirect_uri", HOME)]),
        (
            "a bad signature",
            vec![
                ("id_token_hint", forged.as_str()),
                ("post_logout_redirect_uri", HOME),
            ],
        ),
        (
            "no signature",
            vec![
                ("id_token_hint", unsigned.as_str()),
                ("post_logout_redirect_uri", HOME),
            ],
        ),
        (
            "another client_id",
            vec![
                ("id_token_hint", id_token.as_str()),
                ("client_id", OTHER_ID),
                ("post_logout_redirect_uri", HOME),
            ],
        ),
        (
            "an unregistered return",
            vec![
                ("id_token_hint", id_token.as_str()),
                ("post_logout_redirect_uri", "https://client.example/x"),
            ],
        ),
        (
            "a return that only starts like the registered one",
            vec![
                ("id_token_hint", id_token.as_str()),
                ("post_logout_redirect_uri", "https://client.example/?a=1"),
            ],
        ),
        (
            "another client's return",
            vec![
                ("id_token_hint", id_token.as_str()),
                ("post_logout_redirect_uri", OTHER_REDIRECT),
            ],
        ),
    ] {
        let reply = end_session(&provider, &params).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{why}");
        assert!(reply.header("location").is_none(), "{why}: never redirects");
        assert!(
            provider.state.access_token_valid(&access),
            "{why}: nothing ended"
        );
    }
}

#[tokio::test]
async fn c100_the_account_page_signs_a_user_out_of_all_apps_only_from_itself() {
    let (uri, received) = receiver().await;
    let provider = provider(&uri).await;
    let (_, access) = sign_in(&provider).await;
    sign_in_other(&provider).await;
    let page = Reply::from(
        provider
            .http
            .get(provider.url("/account"))
            .send()
            .await
            .expect("account"),
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Sign out of all apps"), "{}", page.body);
    let token = hidden_value(&page.body, "token").expect("form token");
    let post = |origin: Option<String>, token: String| {
        let mut request = provider
            .http
            .post(provider.url("/account/logout"))
            .form(&[("token", token.as_str()), ("user", "alice")]);
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        async move { request.send().await.expect("post").status() }
    };
    let ours = Some(provider.issuer.clone());
    assert_eq!(post(None, token.clone()).await, StatusCode::FORBIDDEN);
    let evil = Some("https://evil.example".to_owned());
    assert_eq!(post(evil, token.clone()).await, StatusCode::FORBIDDEN);
    assert_eq!(
        post(ours.clone(), "wrong".into()).await,
        StatusCode::FORBIDDEN
    );
    assert!(
        provider.state.access_token_valid(&access),
        "refused: nothing ended"
    );

    assert_eq!(post(ours, token).await, StatusCode::SEE_OTHER);
    assert!(!provider.state.access_token_valid(&access));
    let tokens = delivered(&received, 1).await;
    assert_eq!(tokens.len(), 1);
    assert_eq!(part(&tokens[0], 1)["aud"], OTHER_ID);
    assert_eq!(provider.state.logout_deliveries().0, 1);
}
