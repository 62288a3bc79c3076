//! The README's screenshots (`docs/screenshots/`), taken from the current build: the app on its
//! default address, `http://localhost:3000/`, so the consent page's "You will be sent back to …"
//! shows what a person running the app sees, not a test port (a random port when 3000 is busy;
//! the test says so). Headless Chromium has no address bar: the shots show the page only.
//!
//! Each shot is checked against the page it shows: beside `docs/screenshots/<name>.png` lies
//! `<name>.txt`, the page's outline (elements, ids, classes, text with digits masked) and a hash
//! of its stylesheet. When a page changes, its outline does and this test fails until the shots
//! are refreshed: `UPDATE_SCREENSHOTS=1 cargo test --test browser readme` writes both.

use std::path::PathBuf;

use anyhow::{Context, ensure};
use fantoccini::Client;

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
        readme_shot(&c, "home", Shot::Page, Text::Kept).await?;

        click(&c, "#connect").await?;
        find(&c, "#approve").await?;
        let origin = find(&c, ".muted strong").await?.text().await?;
        ensure!(
            !default_port || origin == "http://localhost:3000",
            "the consent page names the app's default address: {origin:?}"
        );
        calm(&c).await?;
        readme_shot(&c, "consent", Shot::Page, Text::Kept).await?;
        set_viewport(&c, PHONE).await?;
        readme_shot(&c, "consent-phone", Shot::Screen, Text::Kept).await?;
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
        readme_shot(&c, "photos", Shot::Page, Text::Kept).await?;

        #[cfg(feature = "inspector")] // INSPECTOR
        {
            // INSPECTOR
            click(&c, "#flow-link").await?; // INSPECTOR
            find(&c, "li[data-step='4']").await?; // INSPECTOR
            calm(&c).await?; // INSPECTOR
            readme_shot(&c, "flow", Shot::Page, Text::Masked).await?; // INSPECTOR
        } // INSPECTOR
        c.goto(app.url.as_str()).await?;
        find(&c, "#photos-link").await?;

        // "Try to break it", the forged state refused (its transcript's values change).
        click(&c, "a.wing-link[href='/break-it']").await?;
        click(&c, "li[id='forged-state'] button").await?;
        find(&c, "#verdict").await?;
        calm(&c).await?;
        readme_shot(&c, "break-it", Shot::Screen, Text::Masked).await?;
        c.goto(app.url.as_str()).await?;
        find(&c, "#photos-link").await?;

        click(&c, "#logout").await?;
        wait_for_text(&c, "#status", "Not connected.").await?;
        click(&c, "#connect").await?;
        click(&c, "#deny").await?;
        wait_for_text(&c, "#error-title", "Access was not granted").await?;
        calm(&c).await?;
        readme_shot(&c, "error", Shot::Page, Text::Kept).await?;
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
        readme_shot(&c, "photos-phone-dark", Shot::Screen, Text::Kept).await?;
        Ok(())
    })
    .await;
}

/// What a README shot covers.
#[derive(Clone, Copy, PartialEq)]
enum Shot {
    /// The whole page.
    Page,
    /// What fits on the screen.
    Screen,
}

/// Whether the outline keeps the page's text.
#[derive(Clone, Copy, PartialEq)]
enum Text {
    Kept,
    /// Left out: it changes from run to run (timings, masked values, a transcript).
    Masked,
}

/// The page's outline: one line per element (tag, id, classes and, unless left out, its own
/// text with digits and long random values masked, so a port, a lifetime or a PKCE challenge
/// does not count), then a hash of its CSS.
const OUTLINE: &str = r##"
const withText = arguments[0];
const out = [];
const walk = (el, depth) => {
  const tag = el.tagName.toLowerCase();
  if (tag === "script") return;
  let line = "  ".repeat(depth) + tag + (el.id ? "#" + el.id : "")
    + [...el.classList].map(c => "." + c).join("");
  const own = [...el.childNodes].filter(n => n.nodeType === 3)
    .map(n => n.textContent).join(" ").replace(/\s+/g, " ").trim();
  if (own && withText) line += " \"" + own.replace(/[A-Za-z0-9_-]{20,}/g, "<random>").replace(/[0-9]+/g, "0") + "\"";
  out.push(line);
  for (const child of el.children) walk(child, depth + 1);
};
walk(document.body, 0);
let css = "";
for (const sheet of document.styleSheets) {
  try { for (const rule of sheet.cssRules) css += rule.cssText + "\n"; } catch (e) {}
}
let hash = 0x811c9dc5;
for (let i = 0; i < css.length; i++) hash = Math.imul(hash ^ css.charCodeAt(i), 0x01000193) >>> 0;
out.push("css fnv1a " + hash.toString(16) + ", " + css.length + " chars");
return out.join("\n") + "\n";
"##;

/// Takes the shot, then checks the page's outline against the one recorded beside the README's
/// copy; with `UPDATE_SCREENSHOTS` set, records both instead.
async fn readme_shot(c: &Client, name: &str, shot: Shot, text: Text) -> anyhow::Result<()> {
    let png = match shot {
        Shot::Screen => screenshot_screen(c, name).await?,
        Shot::Page => screenshot(c, name).await?,
    };
    let with_text = serde_json::Value::Bool(text == Text::Kept);
    let value = c.execute(OUTLINE, vec![with_text]).await?;
    let outline: String = serde_json::from_value(value).context("the outline is text")?;
    let docs = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/screenshots");
    let recorded = docs.join(format!("{name}.txt"));
    if std::env::var_os("UPDATE_SCREENSHOTS").is_some() {
        std::fs::copy(&png, docs.join(format!("{name}.png")))?;
        std::fs::write(&recorded, &outline)?;
        return Ok(());
    }
    let expected = std::fs::read_to_string(&recorded).unwrap_or_default();
    ensure!(
        expected == outline,
        "docs/screenshots/{name}.png no longer shows the current page. Refresh the README's \
         shots with `UPDATE_SCREENSHOTS=1 cargo test --test browser readme` and commit \
         docs/screenshots/.\n--- recorded ({})\n{expected}\n--- now\n{outline}",
        recorded.display()
    );
    Ok(())
}
