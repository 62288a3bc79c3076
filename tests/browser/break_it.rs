//! "Try to break it" in the real browser: a person signed in as Bob opens `/break-it` from the
//! home page, launches every attack with its button, and sees each refused with its check; Bob's
//! own session is the honest one, and it is still signed in afterwards.

use anyhow::ensure;

use crate::{
    driver::with_browser,
    helpers::{TestApp, click, describe, find, wait_for_text},
};

#[tokio::test]
async fn every_attack_is_launched_by_its_button_and_refused_and_bob_stays_signed_in() {
    with_browser(|c| async move {
        let app = TestApp::spawn().await?;
        c.goto(app.url.as_str()).await?;
        click(&c, "#connect").await?;
        click(&c, "#user-bob").await?;
        click(&c, "#approve").await?;
        wait_for_text(&c, "#heading", "Your photos (4)").await?;

        c.goto(app.url.as_str()).await?;
        click(&c, "a.wing-link[href='/break-it']").await?;
        wait_for_text(&c, "#heading", "Try to break it").await?;
        let ids: Vec<String> = {
            let mut ids = Vec::new();
            for attack in c.find_all(fantoccini::Locator::Css("li.step[id]")).await? {
                ids.push(attack.attr("id").await?.unwrap_or_default());
            }
            ids
        };
        ensure!(ids.len() >= 10, "at least ten attacks: {ids:?}");
        for id in &ids {
            click(&c, &format!("li[id='{id}'] button")).await?;
            let verdict = find(&c, &format!("li[id='{id}'] #verdict"))
                .await?
                .text()
                .await?;
            ensure!(
                verdict.starts_with("✓ Refused by"),
                "{id}: refused, with its answer: {verdict} ({})",
                describe(&c).await
            );
            let url = c.current_url().await?;
            ensure!(
                url.fragment() == Some(id.as_str()),
                "{id}: the page lands on the attack it ran: {url}"
            );
        }

        c.goto(&app.at("photos")).await?;
        wait_for_text(&c, "#heading", "Your photos (4)").await?;
        Ok(())
    })
    .await;
}
