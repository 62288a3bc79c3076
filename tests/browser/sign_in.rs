//! The whole sign-in, as a person does it: click, choose, approve (or deny), look at the photos.
//! (The README's screenshots of the same steps are taken in `readme.rs`.)

use anyhow::ensure;
use fantoccini::Client;
use serde::Deserialize;

use crate::{
    driver::with_browser,
    helpers::{TestApp, click, describe, eval, find, location, wait_for_text},
};

#[tokio::test]
async fn a_person_connects_as_bob_sees_his_four_photos_and_logs_out() {
    with_browser(|c| async move {
        let app = TestApp::spawn().await?;

        c.goto(app.url.as_str()).await?;
        wait_for_text(&c, "#status", "Not connected.").await?;

        click(&c, "#connect").await?;
        find(&c, "#approve").await?;
        let (host, path) = location(&c).await?;
        ensure!(
            host == "127.0.0.1" && path == "/oauth/authorize",
            "the consent page is the provider's, on its own site: {}",
            describe(&c).await
        );

        click(&c, "#user-bob").await?;
        click(&c, "#approve").await?;
        wait_for_text(&c, "#heading", "Your photos (4)").await?;
        ensure!(
            location(&c).await? == ("localhost".into(), "/photos".into()),
            "back on the app's photos page, the code no longer in the address bar: {}",
            c.current_url().await?
        );
        // The positive half of C32: this flow worked *with* a Lax cookie, across sites.
        let cookies = c.get_all_cookies().await?;
        let session = cookies.iter().find(|k| k.name() == "session");
        ensure!(
            session.is_some_and(|k| format!("{:?}", k.same_site()) == "Some(Lax)"),
            "the session cookie is SameSite=Lax: {cookies:?}"
        );
        let photos = loaded_photos(&c).await?;
        ensure!(photos.len() == 4, "four <img> in #photos: {photos:?}");
        for photo in &photos {
            ensure!(
                photo.natural_width > 0 && !photo.alt.trim().is_empty(),
                "every photo has loaded and has alt text: {} {photo:?}",
                photo.src
            );
        }

        click(&c, "#logout").await?;
        wait_for_text(&c, "#status", "Not connected.").await?;
        ensure!(
            location(&c).await?.1 == "/",
            "logout lands on the home page"
        );
        let notice = find(&c, "[role=status]").await?.text().await?;
        ensure!(
            notice.contains("logged out"),
            "the home page says so: {notice:?}"
        );
        // Really signed out: the photos page now sends us home to connect first.
        c.goto(&app.at("photos")).await?;
        wait_for_text(&c, "#status", "Not connected.").await?;
        ensure!(location(&c).await?.1 == "/", "/photos redirects home");
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn denying_at_the_provider_shows_the_friendly_access_was_not_granted_page() {
    with_browser(|c| async move {
        let app = TestApp::spawn().await?;

        c.goto(app.url.as_str()).await?;
        click(&c, "#connect").await?;
        click(&c, "#deny").await?;
        // WebDriver cannot see the 403; the page's words are what the person sees anyway.
        wait_for_text(&c, "#error-title", "Access was not granted").await?;
        ensure!(
            location(&c).await? == ("localhost".into(), "/cb".into()),
            "the app's callback page explains it: {}",
            describe(&c).await
        );
        let body = find(&c, "main").await?.text().await?;
        ensure!(
            body.contains("Nothing was shared"),
            "the page reassures: {body:?}"
        );

        click(&c, "#error-action").await?;
        wait_for_text(&c, "#status", "Not connected.").await?;
        find(&c, "#connect").await?;
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn two_tabs_each_finish_their_own_sign_in() {
    with_browser(|c| async move {
        let app = TestApp::spawn().await?;

        // Both tabs show the home page, each with its own state and PKCE pair ...
        let tab_a = c.window().await?;
        c.goto(app.url.as_str()).await?;
        find(&c, "#connect").await?;
        let tab_b = c.new_window(true).await?.handle;
        c.switch_to_window(tab_b.clone()).await?;
        c.goto(app.url.as_str()).await?;
        find(&c, "#connect").await?;

        // ... and both go to the consent page before either comes back.
        c.switch_to_window(tab_a.clone()).await?;
        click(&c, "#connect").await?;
        find(&c, "#approve").await?;
        c.switch_to_window(tab_b.clone()).await?;
        click(&c, "#connect").await?;
        find(&c, "#approve").await?;

        // Tab A finishes first, as Alice (3 photos) ...
        c.switch_to_window(tab_a).await?;
        click(&c, "#user-alice").await?;
        click(&c, "#approve").await?;
        wait_for_text(&c, "#heading", "Your photos (3)").await?;

        // ... then tab B, as Carol (2 photos): its own attempt, not A's leftovers.
        c.switch_to_window(tab_b).await?;
        click(&c, "#user-carol").await?;
        click(&c, "#approve").await?;
        wait_for_text(&c, "#heading", "Your photos (2)").await?;
        ensure!(location(&c).await?.1 == "/photos", "tab B is on /photos");
        Ok(())
    })
    .await;
}

/// One `<img>` of the photo grid, as the browser sees it.
#[derive(Debug, Deserialize)]
pub struct LoadedPhoto {
    pub src: String,
    pub alt: String,
    pub natural_width: u32,
}

/// The photos in `#photos`, once the browser has finished loading (or failing) each of them.
pub async fn loaded_photos(c: &Client) -> anyhow::Result<Vec<LoadedPhoto>> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        // Scrolling each image into view starts any lazy load; `complete` is true once an image
        // has loaded *or failed*, so a broken image ends the wait with natural_width 0.
        let (done, photos): (bool, Vec<LoadedPhoto>) = eval(
            c,
            r#"const imgs = [...document.querySelectorAll('#photos img')];
               imgs.forEach(i => i.scrollIntoView({block: 'nearest'}));
               window.scrollTo(0, 0);
               return [imgs.length > 0 && imgs.every(i => i.complete),
                       imgs.map(i => ({src: i.currentSrc, alt: i.alt, natural_width: i.naturalWidth}))];"#,
        )
        .await?;
        if done || std::time::Instant::now() > deadline {
            return Ok(photos);
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
