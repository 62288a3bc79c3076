//! An accessibility pass on every page a person sees, in a real browser: the checklist in
//! `checklist.js`, a keyboard walk (Tab reaches every control, in order, with a visible focus
//! ring) and reflow (no sideways scrolling at 320 CSS px, WCAG 1.4.10).

use anyhow::ensure;
use fantoccini::{
    Client,
    actions::{InputSource, KeyAction, KeyActions},
    key::Key,
};
use serde::Deserialize;
use serde_json::json;

use crate::{
    driver::{with_browser, with_dark_browser},
    helpers::{TestApp, click, describe, eval, find, screenshot, serve_page},
};

const CHECKLIST: &str = include_str!("checklist.js");

#[tokio::test]
async fn every_page_passes_the_accessibility_checklist() {
    with_browser(|c| async move {
        let problems = audit_every_page(&c, Scheme::Light).await?;
        ensure!(
            problems.is_empty(),
            "accessibility problems:\n  {}",
            problems.join("\n  ")
        );
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn every_app_page_passes_the_accessibility_checklist_in_dark_mode() {
    with_dark_browser(|c| async move {
        let dark: bool = eval(
            &c,
            "return matchMedia('(prefers-color-scheme: dark)').matches;",
        )
        .await?;
        ensure!(dark, "the browser prefers a dark colour scheme");
        let problems = audit_every_page(&c, Scheme::Dark).await?;
        ensure!(
            problems.is_empty(),
            "accessibility problems in dark mode:\n  {}",
            problems.join("\n  ")
        );
        Ok(())
    })
    .await;
}

#[derive(Clone, Copy, PartialEq)]
enum Scheme {
    Light,
    Dark,
}

/// Walks through every page a person sees (home, consent, photos, connected home, signed-out
/// home, error) and audits each. The provider's consent page has one look, audited in light.
async fn audit_every_page(c: &Client, scheme: Scheme) -> anyhow::Result<Vec<String>> {
    let app = TestApp::spawn().await?;
    let prefix = if scheme == Scheme::Dark { "dark-" } else { "" };
    let mut problems = Vec::new();

    c.goto(app.url.as_str()).await?;
    find(c, "#connect").await?;
    problems.extend(audit(c, &format!("{prefix}home")).await?);

    click(c, "#connect").await?;
    find(c, "#approve").await?;
    if scheme == Scheme::Light {
        problems.extend(audit(c, "consent").await?);
    }

    click(c, "#approve").await?;
    find(c, "#photos").await?;
    problems.extend(audit(c, &format!("{prefix}photos")).await?);

    c.goto(app.url.as_str()).await?;
    find(c, "#photos-link").await?;
    problems.extend(audit(c, &format!("{prefix}home-connected")).await?);

    click(c, "#logout").await?;
    find(c, "[role=status]").await?;
    problems.extend(audit(c, &format!("{prefix}home-signed-out")).await?);

    click(c, "#connect").await?;
    click(c, "#deny").await?;
    find(c, "#error-title").await?;
    problems.extend(audit(c, &format!("{prefix}error")).await?);
    Ok(problems)
}

/// The checklist is only worth something if it notices problems: a page breaking every rule.
#[tokio::test]
async fn the_accessibility_checklist_flags_a_page_that_breaks_its_rules() {
    with_browser(|c| async move {
        let bad = r##"<!doctype html><html><head>
            <meta name="viewport" content="width=device-width, user-scalable=no">
            <style>
              .faint { color: #bbb; } a:focus, button:focus { outline: none; }
              .tiny { width: 16px; height: 16px; padding: 0; } .wide { width: 900px; }
              p a { text-decoration: none; } .pale:focus { outline: 3px solid #eee; }
            </style></head><body>
            <h1>One</h1><h1>Two</h1><h3>Skipped a level</h3>
            <img src="/nope.png">
            <input type="text" name="q">
            <input type="radio" name="pick" value="1"><input type="radio" name="pick" value="2">
            <button class="tiny"></button>
            <a href="#nowhere">Jump</a> <a class="pale" href="/pale">Pale focus ring</a>
            <p>Read <a href="/more">more</a> here.</p>
            <div tabindex="2">Focusable first</div>
            <span id="twice"></span><span id="twice"></span>
            <ul><div>Not a list item</div></ul>
            <p class="faint">Hard to read</p>
            <div class="wide">Too wide</div>
            </body></html>"##;
        let (url, _server) = serve_page(bad.into()).await?;
        c.goto(url.as_str()).await?;
        let problems = audit(&c, "checklist-self-test").await?.join("\n");
        for rule in [
            "html-lang",
            "document-title",
            "meta-viewport",
            "one-main",
            "one-h1",
            "heading-order",
            "img-alt",
            "control-label",
            "group-legend",
            "accessible-name",
            "positive-tabindex",
            "duplicate-id",
            "in-page-link-target",
            "list-structure",
            "contrast",
            "target-size",
            "link-underline",
            "tab-order",
            "focus-visible",
            "focus-contrast",
            "reflow",
        ] {
            ensure!(
                problems.contains(&format!("[{rule}]")),
                "the checklist missed {rule}; it found:\n{problems}"
            );
        }
        Ok(())
    })
    .await;
}

#[derive(Debug, Deserialize)]
struct Audit {
    problems: Vec<Problem>,
    tab_stops: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct Problem {
    rule: String,
    at: String,
    detail: String,
}

#[derive(Debug, Deserialize)]
struct Focused {
    at: String,
    outline: bool,
    shadow: bool,
    ring_contrast: Option<f64>,
}

/// Runs every check on the current page; each problem reads `page: [rule] where: detail`.
async fn audit(c: &Client, page: &str) -> anyhow::Result<Vec<String>> {
    let audit: Audit = serde_json::from_value(c.execute(CHECKLIST, vec![json!("audit")]).await?)?;
    let mut problems: Vec<String> = audit
        .problems
        .iter()
        .map(|p| format!("{page}: [{}] {}: {}", p.rule, p.at, p.detail))
        .collect();

    // Keyboard: from the top of the page, Tab visits exactly the expected stops, in order, and
    // each shows a focus ring that stands out from its surroundings.
    let mut reached = Vec::new();
    for _ in &audit.tab_stops {
        press_tab(c).await?;
        let focused: Focused =
            serde_json::from_value(c.execute(CHECKLIST, vec![json!("focused")]).await?)?;
        if !focused.outline && !focused.shadow {
            problems.push(format!(
                "{page}: [focus-visible] {} shows no focus ring",
                focused.at
            ));
        } else if let Some(ratio) = focused.ring_contrast.filter(|r| *r < 3.0) {
            problems.push(format!(
                "{page}: [focus-contrast] {}: the focus ring is {ratio:.2}:1 against its background, needs 3:1",
                focused.at
            ));
        }
        reached.push(focused.at);
    }
    if reached != audit.tab_stops {
        problems.push(format!(
            "{page}: [tab-order] Tab reached {reached:?}, expected {:?}",
            audit.tab_stops
        ));
    }

    // Reflow: nothing scrolls sideways in a 320 px wide window (and a look at it, narrow).
    c.set_window_size(320, 800).await?;
    let (scroll, client): (u32, u32) = serde_json::from_value(
        c.execute(
            "const d = document.documentElement; return [d.scrollWidth, d.clientWidth];",
            vec![],
        )
        .await?,
    )?;
    if scroll > client {
        problems.push(format!(
            "{page}: [reflow] {scroll} px wide content in a {client} px window ({})",
            describe(c).await
        ));
    }
    c.execute("document.activeElement.blur();", vec![]).await?;
    screenshot(c, &format!("narrow-{page}")).await?;
    c.set_window_size(1280, 900).await?;
    Ok(problems)
}

async fn press_tab(c: &Client) -> anyhow::Result<()> {
    let tab = char::from(Key::Tab);
    let keys = KeyActions::new("keyboard".into())
        .then(KeyAction::Down { value: tab })
        .then(KeyAction::Up { value: tab });
    c.perform_actions(keys).await?;
    Ok(())
}
