//! A provider that misbehaves on command, and a harness that points the app at it.

use std::{
    convert::Infallible,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Router,
    body::{Body, Bytes},
    extract::{RawQuery, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::any,
};
use oauth2::{AuthUrl, ClientSecret, TokenUrl};
use photo_connect::{
    Application,
    config::{Config, ProviderConfig, ProviderSource},
};
use reqwest::cookie::Jar;
use url::Url;

use crate::support::*;

/// What an endpoint answers.
#[derive(Clone, Debug)]
pub enum Reply {
    /// `application/json` with this status and body.
    Json(u16, String),
    /// Any status, content type, body and extra headers.
    Raw {
        status: u16,
        content_type: &'static str,
        body: String,
        headers: Vec<(&'static str, String)>,
    },
    /// A 200 JSON body of this many bytes.
    Huge(usize),
    /// A chunked body that never ends.
    Endless,
    /// One byte every 300 ms, forever.
    Trickle,
    /// Accepts the request and never answers.
    Silent,
    /// A redirect with this status to this URL.
    Redirect(u16, String),
    /// The reply, after a pause.
    Slow(Duration, Box<Reply>),
}

impl Reply {
    /// The same reply with one more header (a JSON reply becomes the `Raw` one it stands for).
    pub fn with_header(self, name: &'static str, value: &str) -> Self {
        let (status, content_type, body, mut headers) = match self {
            Reply::Json(status, body) => (status, "application/json", body, Vec::new()),
            Reply::Raw {
                status,
                content_type,
                body,
                headers,
            } => (status, content_type, body, headers),
            other => panic!("{other:?} has no headers to add to"),
        };
        headers.push((name, value.to_owned()));
        Reply::Raw {
            status,
            content_type,
            body,
            headers,
        }
    }
}

/// A request the mock received.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: String,
}

#[derive(Clone)]
struct MockState {
    token: Arc<Mutex<Reply>>,
    refresh: Arc<Mutex<Vec<Reply>>>,
    photos: Arc<Mutex<Vec<Reply>>>,
    revoke: Arc<Mutex<Reply>>,
    metadata: Arc<Mutex<Reply>>,
    /// What `/jwks` answers (the OpenID Connect tests' signing keys).
    jwks: Arc<Mutex<Reply>>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

/// Takes the next reply of a queue; the last one repeats.
fn next(queue: &Mutex<Vec<Reply>>) -> Reply {
    let mut queue = queue.lock().expect("lock");
    if queue.len() > 1 {
        queue.remove(0)
    } else {
        queue[0].clone()
    }
}

/// A running mock provider.
pub struct Mock {
    pub url: String,
    state: MockState,
}

/// A refresh response with rotated tokens numbered `n`.
pub fn refreshed_token(n: u32) -> Reply {
    Reply::Json(
        200,
        format!(
            r#"{{"access_token":"at-GOOD-{n}","token_type":"Bearer","expires_in":3600,"refresh_token":"rt-GOOD-{n}"}}"#
        ),
    )
}

/// A token response that works.
pub fn good_token() -> Reply {
    Reply::Json(200, r#"{"access_token":"at-GOOD-1","token_type":"Bearer","expires_in":3600,"refresh_token":"rt-GOOD-1","scope":"photos"}"#.into())
}

impl Mock {
    pub async fn start() -> Self {
        let state = MockState {
            token: Arc::new(Mutex::new(good_token())),
            refresh: Arc::new(Mutex::new(vec![refreshed_token(2)])),
            photos: Arc::new(Mutex::new(vec![Reply::Json(
                200,
                r#"{"photos":[]}"#.into(),
            )])),
            revoke: Arc::new(Mutex::new(Reply::Json(200, "{}".into()))),
            metadata: Arc::new(Mutex::new(Reply::Json(404, "{}".into()))),
            jwks: Arc::new(Mutex::new(Reply::Json(404, "{}".into()))),
            seen: Arc::default(),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let router = Router::new()
            .fallback(any(handle))
            .with_state(state.clone());
        tokio::spawn(async move { axum::serve(listener, router).await.expect("mock serves") });
        Self { url, state }
    }

    pub fn token_replies(&self, reply: Reply) {
        *self.state.token.lock().expect("lock") = reply;
    }

    pub fn photos_reply(&self, reply: Reply) {
        *self.state.photos.lock().expect("lock") = vec![reply];
    }

    /// Photos API replies in order; the last one repeats.
    pub fn photos_replies(&self, replies: Vec<Reply>) {
        *self.state.photos.lock().expect("lock") = replies;
    }

    /// Replies to `grant_type=refresh_token`, in order; the last one repeats.
    pub fn refresh_replies(&self, replies: Vec<Reply>) {
        *self.state.refresh.lock().expect("lock") = replies;
    }

    pub fn revoke_replies(&self, reply: Reply) {
        *self.state.revoke.lock().expect("lock") = reply;
    }

    /// What `/.well-known/oauth-authorization-server` answers.
    pub fn metadata_replies(&self, reply: Reply) {
        *self.state.metadata.lock().expect("lock") = reply;
    }

    /// What `/jwks` answers.
    pub fn jwks_replies(&self, reply: Reply) {
        *self.state.jwks.lock().expect("lock") = reply;
    }

    /// Token requests with this grant type.
    pub fn token_requests(&self, grant_type: &str) -> Vec<Seen> {
        self.hits("/token")
            .into_iter()
            .filter(|s| s.body.contains(&format!("grant_type={grant_type}")))
            .collect()
    }

    /// Every request received so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.state.seen.lock().expect("lock").clone()
    }

    /// Requests to `path`.
    pub fn hits(&self, path: &str) -> Vec<Seen> {
        self.seen().into_iter().filter(|s| s.path == path).collect()
    }
}

async fn handle(
    State(state): State<MockState>,
    method: axum::http::Method,
    uri: axum::http::Uri,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    state.seen.lock().expect("lock").push(Seen {
        method: method.to_string(),
        path: path.clone(),
        query,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    let refresh = String::from_utf8_lossy(&body).contains("grant_type=refresh_token");
    let reply = match path.as_str() {
        "/token" if refresh => next(&state.refresh),
        "/token" => state.token.lock().expect("lock").clone(),
        "/photos" => next(&state.photos),
        "/revoke" => state.revoke.lock().expect("lock").clone(),
        "/.well-known/oauth-authorization-server" => state.metadata.lock().expect("lock").clone(),
        "/jwks" => state.jwks.lock().expect("lock").clone(),
        _ => Reply::Raw {
            status: 200,
            content_type: "text/plain",
            body: "attacker got it".into(),
            headers: vec![],
        },
    };
    render(reply).await
}

async fn render(reply: Reply) -> Response {
    match reply {
        Reply::Json(status, body) => (
            StatusCode::from_u16(status).expect("status"),
            [(header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response(),
        Reply::Raw {
            status,
            content_type,
            body,
            headers,
        } => {
            let mut response = (
                StatusCode::from_u16(status).expect("status"),
                [(header::CONTENT_TYPE, content_type)],
                body,
            )
                .into_response();
            for (name, value) in headers {
                response
                    .headers_mut()
                    .insert(name, value.parse().expect("header value"));
            }
            response
        }
        Reply::Huge(size) => {
            let body = format!(
                r#"{{"access_token":"x","token_type":"Bearer","padding":"{}"}}"#,
                "a".repeat(size)
            );
            ([(header::CONTENT_TYPE, "application/json")], body).into_response()
        }
        Reply::Endless => {
            let chunk = Bytes::from(vec![b' '; 16 * 1024]);
            let stream =
                futures_util::stream::repeat_with(move || Ok::<_, Infallible>(chunk.clone()));
            (
                [(header::CONTENT_TYPE, "application/json")],
                Body::from_stream(stream),
            )
                .into_response()
        }
        Reply::Trickle => {
            let stream = futures_util::stream::unfold((), |()| async {
                tokio::time::sleep(Duration::from_millis(300)).await;
                Some((Ok::<_, Infallible>(Bytes::from_static(b" ")), ()))
            });
            (
                [(header::CONTENT_TYPE, "application/json")],
                Body::from_stream(stream),
            )
                .into_response()
        }
        Reply::Silent => {
            std::future::pending::<()>().await;
            StatusCode::OK.into_response()
        }
        Reply::Slow(pause, reply) => {
            tokio::time::sleep(pause).await;
            Box::pin(render(*reply)).await
        }
        Reply::Redirect(status, location) => (
            StatusCode::from_u16(status).expect("status"),
            [(header::LOCATION, location)],
        )
            .into_response(),
    }
}

/// The app, pointed at a mock provider.
pub struct TestApp {
    pub url: Url,
    pub client: reqwest::Client,
}

pub const SECRET: &str = "hostile-test-secret";

/// The mock's endpoints, as the app is configured with them (explicit URLs, no discovery).
pub fn provider_of(mock: &Mock) -> ProviderConfig {
    ProviderConfig {
        name: Some("Hostile".into()),
        auth_url: AuthUrl::new(format!("{}/authorize", mock.url)).expect("url"),
        token_url: TokenUrl::new(format!("{}/token", mock.url)).expect("url"),
        photos_api_url: Url::parse(&format!("{}/photos", mock.url)).expect("url"),
        revocation_url: Some(
            oauth2::RevocationUrl::new(format!("{}/revoke", mock.url)).expect("url"),
        ),
        par_url: None,
        require_par: false,
        dpop_es256: false,
        issuer: None,
        require_iss: false,
        openid: None,
    }
}

/// Starts the app against `mock` (1 s timeout), after `tweak` adjusts the config.
pub async fn spawn_app(mock: &Mock, tweak: impl FnOnce(&mut Config)) -> TestApp {
    init_log_capture();
    let mut config = Config::for_tests();
    config.client_secret = Some(ClientSecret::new(SECRET.into()));
    config.http_timeout = Duration::from_secs(1);
    config.provider = ProviderSource::Explicit(provider_of(mock));
    tweak(&mut config);
    let running = Application::bind(config)
        .await
        .expect("bind")
        .spawn()
        .expect("app starts");
    TestApp {
        url: running.url,
        client: browser(Arc::new(Jar::default())),
    }
}

impl TestApp {
    pub fn at(&self, path: &str) -> Url {
        self.url.join(path).expect("url")
    }

    /// Loads home (a fresh pending login) and returns its state.
    pub async fn start_login(&self) -> String {
        let (_, _, home) = fetch(&self.client, self.at("/")).await;
        param(&connect_url(&home), "state").expect("state")
    }

    /// Starts a login and delivers a callback with `code`; returns status and page.
    pub async fn callback(&self, code: &str) -> (reqwest::StatusCode, String) {
        let state = self.start_login().await;
        let (status, _, body) = fetch(
            &self.client,
            self.at(&format!("/cb?code={code}&state={state}")),
        )
        .await;
        (status, body)
    }

    /// Whether the session is connected.
    pub async fn is_connected(&self) -> bool {
        fetch(&self.client, self.at("/"))
            .await
            .2
            .contains("You are connected")
    }
}

/// A 401 `invalid_token` from the photos API (RFC 6750 §3.1).
pub fn invalid_token() -> Reply {
    Reply::Raw {
        status: 401,
        content_type: "text/plain",
        body: String::new(),
        headers: vec![("www-authenticate", r#"Bearer error="invalid_token""#.into())],
    }
}

/// A 403 `insufficient_scope` from the photos API (RFC 6750 §3.1).
pub fn insufficient_scope() -> Reply {
    Reply::Raw {
        status: 403,
        content_type: "text/plain",
        body: String::new(),
        headers: vec![(
            "www-authenticate",
            r#"Bearer error="insufficient_scope", scope="photos.read""#.into(),
        )],
    }
}

/// One photo on the mock's origin.
pub fn photos_ok(mock: &Mock) -> Reply {
    Reply::Json(
        200,
        format!(
            r#"{{"photos":[{{"id":"1","title":"Lake","url":"{}/1.png"}}]}}"#,
            mock.url
        ),
    )
}

/// The app, signed in against `mock`.
pub async fn connected(mock: &Mock) -> TestApp {
    let app = spawn_app(mock, |_| {}).await;
    assert_eq!(app.callback("c").await.0, StatusCode::SEE_OTHER);
    app
}

/// Logs out the way the page does (the logout form's token, a POST); returns the answer.
pub async fn post_logout(app: &TestApp) -> reqwest::Response {
    let (_, _, home) = fetch(&app.client, app.at("/")).await;
    let token = attribute_after(&home, r#"name="csrf_token" value=""#).expect("csrf field");
    app.client
        .post(app.at("/logout"))
        .form(&[("csrf_token", token)])
        .send()
        .await
        .expect("logout")
}
