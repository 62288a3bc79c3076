//! Negative control for docs/requirements.md C32: the app's session cookie is `SameSite=Lax` because the
//! return from the provider to `/cb` is a cross-site navigation. Forced to `Strict`, the browser
//! leaves the cookie behind on that navigation and the sign-in fails. This proves that the
//! positive test (`sign_in.rs`) would catch someone "hardening" the cookie to Strict.

use anyhow::ensure;
use axum::{
    http::{HeaderValue, header},
    middleware,
    response::Response,
};

use crate::{
    driver::with_browser,
    helpers::{TestApp, click, find, location, wait_for_text},
};

#[tokio::test]
async fn a_strict_session_cookie_would_break_the_return_from_the_provider() {
    with_browser(|c| async move {
        let app =
            TestApp::spawn_with(|router| router.layer(middleware::map_response(strict_cookies)))
                .await?;

        c.goto(app.url.as_str()).await?;
        find(&c, "#connect").await?;
        let cookies = c.get_all_cookies().await?;
        ensure!(
            cookies
                .iter()
                .any(|k| k.name() == "session" && format!("{:?}", k.same_site()) == "Some(Strict)"),
            "the control really runs with a Strict session cookie: {cookies:?}"
        );

        click(&c, "#connect").await?;
        click(&c, "#approve").await?;
        wait_for_text(&c, "#error-title", "This sign-in was not started here").await?;
        ensure!(location(&c).await?.1 == "/cb", "the callback refused it");
        Ok(())
    })
    .await;
}

/// Rewrites `SameSite=Lax` to `SameSite=Strict` in every `Set-Cookie` the app sends.
async fn strict_cookies(mut response: Response) -> Response {
    let headers = response.headers_mut();
    let cookies: Vec<HeaderValue> = headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| HeaderValue::from_str(&v.replace("SameSite=Lax", "SameSite=Strict")).ok())
        .collect();
    headers.remove(header::SET_COOKIE);
    for cookie in cookies {
        headers.append(header::SET_COOKIE, cookie);
    }
    response
}
