//! The per-session request lock (`src/session/lock.rs`), made certain rather than left to
//! timing. A logout is sent by hand with `Expect: 100-continue` and its body held back: the app
//! answers `100 Continue` only once the handler starts reading the body, that is, once the
//! middleware has taken the session's lock, and the handler then waits for the body for as long
//! as the test wants. A second request of the same session sent now must not run: it waits out
//! the lock's bounded wait and gets the "another page of yours is still being answered" 503.
//! Without the lock it would be answered at once.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use reqwest::{StatusCode, cookie::CookieStore, cookie::Jar};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::{
    mock::{Mock, Reply, TestApp, connected, photos_ok, spawn_app},
    support::*,
};

/// `web::extract::BODY_TIMEOUT`: how long a form body may take to arrive.
const BODY_TIMEOUT: Duration = Duration::from_secs(5);

/// Reads from `stream` until `marker` has arrived; returns everything read.
async fn read_until(stream: &mut TcpStream, marker: &str) -> String {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains(marker) {
        let n = stream.read(&mut buf).await.expect("read");
        assert!(
            n > 0,
            "closed before {marker:?}: {}",
            String::from_utf8_lossy(&seen)
        );
        seen.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&seen).into_owned()
}

/// A connected visitor whose requests the test can also send by hand: the app, and the
/// `Cookie` header value of the visitor's session.
async fn connected_by_hand(mock: &Mock) -> (TestApp, String) {
    let app = spawn_app(mock, |_| {}).await;
    let jar = Arc::new(Jar::default());
    let app = TestApp {
        url: app.url,
        client: browser(jar.clone()),
    };
    assert_eq!(app.callback("c").await.0, StatusCode::SEE_OTHER);
    let cookies = jar.cookies(&app.url).expect("the session cookie");
    let cookies = cookies.to_str().expect("ascii").to_owned();
    (app, cookies)
}

#[tokio::test]
async fn a_second_request_of_a_session_waits_while_the_first_is_in_progress() {
    let mock = Mock::start().await;
    let (app, cookies) = connected_by_hand(&mock).await;
    let (_, _, home) = fetch(&app.client, app.at("/")).await;
    let token = attribute_after(&home, r#"name="csrf_token" value=""#).expect("csrf field");

    // The first request: a logout whose body is held back.
    let body = format!("csrf_token={token}");
    let mut first = TcpStream::connect(app.url.socket_addrs(|| None).expect("addr")[0])
        .await
        .expect("connect");
    let head = format!(
        "POST /logout HTTP/1.1\r\nHost: {}\r\nCookie: {cookies}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
         Expect: 100-continue\r\nConnection: close\r\n\r\n",
        app.url.authority(),
        body.len()
    );
    first.write_all(head.as_bytes()).await.expect("write");
    // The handler is reading the body: the lock is held, and stays held until the body comes.
    let interim = read_until(&mut first, "\r\n\r\n").await;
    assert!(interim.starts_with("HTTP/1.1 100 Continue"), "{interim}");

    // The second request of the same session, while the first is in progress, waits its turn;
    // a path no route names is answered at once, outside the lock.
    let home = tokio::spawn({
        let (client, url) = (app.client.clone(), app.at("/"));
        async move { fetch(&client, url).await }
    });
    let (status, _, page) = fetch(&app.client, app.at("/no-such-page")).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "a 404 never waits for the lock"
    );
    assert!(page.contains("Page not found"), "{page}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !home.is_finished(),
        "the second request ran while the first held the session"
    );

    // The first request finishes normally once its body arrives; then the second runs, and
    // sees what the first did.
    first.write_all(body.as_bytes()).await.expect("write");
    let answer = read_until(&mut first, "\r\n\r\n").await;
    assert!(answer.starts_with("HTTP/1.1 303"), "{answer}");
    assert!(answer.contains("location: /?notice=signed-out"), "{answer}");
    let (status, _, page) = home.await.expect("the second request");
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.contains("Not connected."),
        "it ran after the logout: {page}"
    );
    assert!(!app.is_connected().await, "the logout went through");
}

#[tokio::test]
async fn a_form_body_that_never_arrives_gets_the_408_page_and_frees_the_lock() {
    let mock = Mock::start().await;
    let (app, cookies) = connected_by_hand(&mock).await;
    let mut first = TcpStream::connect(app.url.socket_addrs(|| None).expect("addr")[0])
        .await
        .expect("connect");
    let head = format!(
        "POST /logout HTTP/1.1\r\nHost: {}\r\nCookie: {cookies}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 40\r\n\
         Connection: close\r\n\r\n",
        app.url.authority()
    );
    first.write_all(head.as_bytes()).await.expect("write");
    let started = Instant::now();
    let answer = read_until(&mut first, "</html>").await;
    let waited = started.elapsed();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("The form did not arrive"), "{answer}");
    assert!(
        waited >= BODY_TIMEOUT - Duration::from_millis(100)
            && waited < BODY_TIMEOUT + Duration::from_secs(2),
        "answered after {waited:?}"
    );
    let (status, _, page) = fetch(&app.client, app.at("/")).await;
    assert_eq!(status, StatusCode::OK, "the lock is free again: {page}");
    assert!(app.is_connected().await, "nothing was logged out");
}

/// `/photos` is routed outside the lock: a slow photos API never holds the visitor's other pages
/// (the refresh alone takes the session's lock, see `tests/hostile/lifecycle.rs`).
#[tokio::test]
async fn a_slow_photos_page_never_holds_the_visitors_other_pages() {
    let mock = Mock::start().await;
    let app = connected(&mock).await;
    let slow = Reply::Slow(Duration::from_millis(800), Box::new(photos_ok(&mock)));
    mock.photos_replies(vec![slow]);
    let photos = tokio::spawn({
        let (client, url) = (app.client.clone(), app.at("/photos"));
        async move { client.get(url).send().await.map(|r| r.status()) }
    });
    let deadline = Instant::now() + Duration::from_secs(5);
    while mock.hits("/photos").is_empty() {
        assert!(Instant::now() < deadline, "the photos call never started");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (status, _, home) = fetch(&app.client, app.at("/")).await;
    assert_eq!(status, StatusCode::OK, "{home}");
    assert!(home.contains("You are connected"));
    assert!(
        !photos.is_finished(),
        "the home page was answered while the photos page was still waiting"
    );
    assert_eq!(
        photos.await.expect("joined").expect("answered"),
        StatusCode::OK
    );
}
