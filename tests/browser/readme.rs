//! The README's screenshots (`docs/screenshots/`), taken from the current build: the app on its
//! default address, `http://localhost:3000/`, so the consent page's "You will be sent back to …"
//! shows what a person running the app sees, not a test port (a random port when 3000 is busy;
//! the test says so). Headless Chromium has no address bar: the shots show the page only.
//!
//! Refresh them with `cargo test --test browser readme`, then copy
//! `target/screenshots/{home,consent,photos,flow,error,consent-phone,photos-phone-dark}.png`.

use anyhow::ensure;

use crate::{
    driver::{with_browser, with_dark_browser},
    helpers::{
        DESKTOP, PHONE, TestApp, calm, click, find, screenshot, screenshot_screen, set_viewport,
        wait_for_text,
    },
    sign_in::loaded_photos,
};

#[tokio::test]
async fn readme_screenshots_show_the_default_address() {
    with_browser(|c| async move {
        let (app, default_port) = TestApp::spawn_on_default_port().await?;
        set_viewport(&c, DESKTOP).await?;

        c.goto(app.url.as_str()).await?;
        wait_for_text(&c, "#status", "Not connected.").await?;
        calm(&c).await?;
        screenshot(&c, "home").await?;

        click(&c, "#connect").await?;
        find(&c, "#approve").await?;
        let origin = find(&c, ".muted strong").await?.text().await?;
        ensure!(
            !default_port || origin == "http://localhost:3000",
            "the consent page names the app's default address: {origin:?}"
        );
        calm(&c).await?;
        screenshot(&c, "consent").await?;
        set_viewport(&c, PHONE).await?;
        screenshot_screen(&c, "consent-phone").await?;
        set_viewport(&c, DESKTOP).await?;

        click(&c, "#user-bob").await?;
        click(&c, "#approve").await?;
        wait_for_text(&c, "#heading", "Your photos (4)").await?;
        let photos = loaded_photos(&c).await?;
        ensure!(
            photos.iter().all(|p| p.natural_width > 0),
            "every photo loaded before the shot: {photos:?}"
        );
        calm(&c).await?;
        screenshot(&c, "photos").await?;

        click(&c, "#flow-link").await?;
        find(&c, "#step-4").await?;
        calm(&c).await?;
        screenshot(&c, "flow").await?;
        c.goto(app.url.as_str()).await?;
        find(&c, "#photos-link").await?;

        click(&c, "#logout").await?;
        wait_for_text(&c, "#status", "Not connected.").await?;
        click(&c, "#connect").await?;
        click(&c, "#deny").await?;
        wait_for_text(&c, "#error-title", "Access was not granted").await?;
        calm(&c).await?;
        screenshot(&c, "error").await?;
        Ok(())
    })
    .await;
}

/// The dark scheme, on a phone: the photos page prints no address, so any port will do.
#[tokio::test]
async fn readme_screenshot_of_the_photos_on_a_dark_phone() {
    with_dark_browser(|c| async move {
        let app = TestApp::spawn().await?;
        set_viewport(&c, PHONE).await?;
        c.goto(app.url.as_str()).await?;
        click(&c, "#connect").await?;
        click(&c, "#user-bob").await?;
        click(&c, "#approve").await?;
        wait_for_text(&c, "#heading", "Your photos (4)").await?;
        loaded_photos(&c).await?;
        calm(&c).await?;
        screenshot_screen(&c, "photos-phone-dark").await?;
        Ok(())
    })
    .await;
}
