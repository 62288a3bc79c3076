//! Clickjacking (docs/requirements.md A19): another site must not be able to show the provider's consent
//! page inside a frame and trick a person into clicking Approve.

use std::time::{Duration, Instant};

use anyhow::{bail, ensure};
use fantoccini::Client;

use crate::{
    driver::with_browser,
    helpers::{TestApp, eval, find, serve_page},
};

#[tokio::test]
async fn the_consent_page_refuses_to_render_inside_a_frame_on_another_site() {
    with_browser(|c| async move {
        let app = TestApp::spawn().await?;

        // A genuine authorization request, as the app's Connect link makes it.
        c.goto(app.url.as_str()).await?;
        let authorize = find(&c, "#connect").await?.attr("href").await?;
        let Some(authorize) = authorize else {
            bail!("#connect has an href");
        };

        // A third site frames it. The control frame shows that framing a provider page
        // *without* anti-framing headers does work here, so a blank consent frame means
        // "blocked", not "this test cannot see inside frames".
        let control = format!(
            "{}/.well-known/oauth-authorization-server",
            app.provider.issuer
        );
        let html = format!(
            r#"<!doctype html><html lang="en"><title>evil</title>
            <iframe id="control" src="{control}"></iframe>
            <iframe id="consent" src="{}"></iframe></html>"#,
            authorize.replace('&', "&amp;").replace('"', "&quot;")
        );
        let (evil, _server) = serve_page(html).await?;
        c.goto(evil.as_str()).await?;

        let control = loaded_frame(&c, 0).await?;
        ensure!(
            control.text.contains("authorization_endpoint"),
            "the control frame rendered the provider's metadata: {control:?}"
        );
        let consent = loaded_frame(&c, 1).await?;
        ensure!(
            !consent.has_approve && !consent.text.contains("wants to view your photos"),
            "the consent page must not render inside a frame: {consent:?}"
        );
        ensure!(
            !consent.url.contains("/oauth/authorize"),
            "the frame holds Chromium's blocked-page document, not the consent page: {consent:?}"
        );
        Ok(())
    })
    .await;
}

/// What a frame shows.
#[derive(Debug, serde::Deserialize)]
struct Frame {
    url: String,
    ready: String,
    text: String,
    has_approve: bool,
}

/// The document in the top page's frame number `index`, once it has left `about:blank`.
async fn loaded_frame(c: &Client, index: u16) -> anyhow::Result<Frame> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        c.enter_frame(index).await?;
        let frame: anyhow::Result<Frame> = eval(
            c,
            r#"return {url: document.URL, ready: document.readyState,
                       text: document.body ? document.body.innerText : '',
                       has_approve: !!document.getElementById('approve')};"#,
        )
        .await;
        c.enter_parent_frame().await?;
        let frame = frame?;
        // A frame starts as a blank document; a blocked one then gets Chromium's error page.
        let loaded = frame.url != "about:blank" && frame.ready == "complete";
        if loaded || Instant::now() > deadline {
            return Ok(frame);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
