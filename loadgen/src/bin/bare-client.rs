//! The bare baseline: the same three routes as photo-connect (`/` with a Connect link carrying
//! a fresh state and S256 challenge, `/cb` with the token POST, `/photos` with the photos API
//! GET), and nothing else: no sessions, no checks, no templates, no logs. It reads the app's
//! variables (`LISTEN_ADDR`, `APP_URL`, `OAUTH_ISSUER`, `OAUTH_CLIENT_ID`,
//! `OAUTH_CLIENT_SECRET`, `PHOTOS_API_URL`) and assumes the demo provider's endpoint paths.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use anyhow::Context;
use axum::{
    Router,
    extract::{Query, State},
    http::{HeaderMap, StatusCode, header},
    response::{Html, IntoResponse, Response},
    routing::get,
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::Deserialize;
use sha2::{Digest, Sha256};

const COOKIE: &str = "bare_sid";

struct Bare {
    http: reqwest::Client,
    /// The authorize URL up to its per-visit parameters.
    authorize: String,
    token_url: String,
    photos_url: String,
    redirect_uri: String,
    client_id: String,
    secret: String,
    /// state → PKCE verifier.
    pending: Mutex<HashMap<String, String>>,
    /// cookie → access token.
    tokens: Mutex<HashMap<String, String>>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let var = |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.into());
    let listen = var("LISTEN_ADDR", "127.0.0.1:3100");
    let app_url = var("APP_URL", "http://localhost:3100");
    let issuer = var("OAUTH_ISSUER", "http://127.0.0.1:3001");
    let client_id = var("OAUTH_CLIENT_ID", "photo-connect");
    let secret = std::env::var("OAUTH_CLIENT_SECRET").context("OAUTH_CLIENT_SECRET is required")?;
    let redirect_uri = format!("{}/cb", app_url.trim_end_matches('/'));
    let mut authorize = url::Url::parse(&format!("{issuer}/oauth/authorize"))?;
    authorize
        .query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &client_id)
        .append_pair("redirect_uri", &redirect_uri)
        .append_pair("scope", "photos");
    let bare = Arc::new(Bare {
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()?,
        authorize: authorize.to_string(),
        token_url: format!("{issuer}/oauth/token"),
        photos_url: var("PHOTOS_API_URL", &format!("{issuer}/api/photos")),
        redirect_uri,
        client_id,
        secret,
        pending: Mutex::default(),
        tokens: Mutex::default(),
    });
    let app = Router::new()
        .route("/", get(home))
        .route("/cb", get(callback))
        .route("/photos", get(photos))
        .with_state(bare);
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    println!("bare-client listening on {listen}");
    axum::serve(listener, app).await?;
    Ok(())
}

fn random() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

fn fail(status: StatusCode, why: impl std::fmt::Display) -> Response {
    (status, why.to_string()).into_response()
}

async fn home(State(bare): State<Arc<Bare>>) -> Response {
    let (state, verifier) = (random(), random());
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    if let Ok(mut pending) = bare.pending.lock() {
        pending.insert(state.clone(), verifier);
    }
    let href = format!(
        "{}&amp;state={state}&amp;code_challenge={challenge}&amp;code_challenge_method=S256",
        bare.authorize.replace('&', "&amp;")
    );
    Html(format!(
        "<!doctype html><title>bare</title><a id=\"connect\" href=\"{href}\">Connect Your Account</a>"
    ))
    .into_response()
}

#[derive(Deserialize)]
struct Token {
    access_token: String,
}

async fn callback(
    State(bare): State<Arc<Bare>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let (Some(code), Some(state)) = (query.get("code"), query.get("state")) else {
        return fail(StatusCode::BAD_REQUEST, "no code or state");
    };
    let verifier = bare.pending.lock().ok().and_then(|mut p| p.remove(state));
    let Some(verifier) = verifier else {
        return fail(StatusCode::BAD_REQUEST, "unknown state");
    };
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", bare.redirect_uri.as_str()),
        ("code_verifier", verifier.as_str()),
    ];
    let answer = bare
        .http
        .post(&bare.token_url)
        .basic_auth(&bare.client_id, Some(&bare.secret))
        .form(&form)
        .send()
        .await;
    let token = match answer {
        Ok(r) if r.status().is_success() => r.json::<Token>().await,
        Ok(r) => return fail(StatusCode::BAD_GATEWAY, r.status()),
        Err(err) => return fail(StatusCode::BAD_GATEWAY, err),
    };
    let Ok(token) = token else {
        return fail(StatusCode::BAD_GATEWAY, "a bad token response");
    };
    let sid = random();
    if let Ok(mut tokens) = bare.tokens.lock() {
        tokens.insert(sid.clone(), token.access_token);
    }
    let cookie = format!("{COOKIE}={sid}; Path=/; HttpOnly; SameSite=Lax");
    (
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, "/photos".to_owned()),
            (header::SET_COOKIE, cookie),
        ],
    )
        .into_response()
}

#[derive(Deserialize)]
struct Photos {
    photos: Vec<Photo>,
}

#[derive(Deserialize)]
struct Photo {
    title: String,
    url: String,
}

async fn photos(State(bare): State<Arc<Bare>>, headers: HeaderMap) -> Response {
    let sid = headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|c| {
            c.split(';')
                .find_map(|p| p.trim().strip_prefix("bare_sid="))
        });
    let token = sid.and_then(|sid| bare.tokens.lock().ok()?.get(sid).cloned());
    let Some(token) = token else {
        return fail(StatusCode::UNAUTHORIZED, "not connected");
    };
    let answer = bare
        .http
        .get(&bare.photos_url)
        .bearer_auth(token)
        .send()
        .await;
    let photos = match answer {
        Ok(r) if r.status().is_success() => r.json::<Photos>().await,
        Ok(r) => return fail(StatusCode::BAD_GATEWAY, r.status()),
        Err(err) => return fail(StatusCode::BAD_GATEWAY, err),
    };
    let Ok(photos) = photos else {
        return fail(StatusCode::BAD_GATEWAY, "a bad photos response");
    };
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('"', "&quot;")
    };
    let mut page = String::from("<!doctype html><title>photos</title>");
    for photo in &photos.photos {
        page.push_str(&format!(
            "<img src=\"{}\" alt=\"{}\">",
            escape(&photo.url),
            escape(&photo.title)
        ));
    }
    Html(page).into_response()
}
