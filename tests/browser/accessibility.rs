//! An accessibility pass on every page a person sees, in a real browser, in the light and the
//! dark scheme: the checklist in `checklist.js` (at desktop and phone width), a keyboard walk
//! (Tab reaches every control, in order, with a visible focus ring) and reflow (no sideways
//! scrolling at 320 CSS px, WCAG 1.4.10). Each audited page is photographed at desktop and
//! phone size (`<page>-<light|dark>[-phone].png`), and the look each page owes its message is
//! checked too: a declined consent is calm, a logout is a success, the provider's tag stays
//! on one line.
//!
//! The pages: home (not connected, connected, signed out, at the wrong address), the provider's
//! consent page, photos, the error pages for a declined consent, a passing fault and a missing
//! page.

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
    helpers::{
        DESKTOP, PHONE, TestApp, calm, click, describe, eval, find, screenshot, serve_page,
        set_viewport, wait_for_text,
    },
    sign_in::loaded_photos,
};

const CHECKLIST: &str = include_str!("checklist.js");

#[tokio::test]
async fn every_page_passes_the_accessibility_checklist() {
    with_browser(|c| async move { expect_none(audit_every_page(&c, Scheme::Light).await?) }).await;
}

#[tokio::test]
async fn every_page_passes_the_accessibility_checklist_in_dark_mode() {
    with_dark_browser(|c| async move {
        ensure_dark(&c).await?;
        expect_none(audit_every_page(&c, Scheme::Dark).await?)
    })
    .await;
}

#[tokio::test]
async fn the_try_again_page_passes_the_accessibility_checklist() {
    with_browser(|c| async move { expect_none(audit_transient_error(&c, Scheme::Light).await?) })
        .await;
}

#[tokio::test]
async fn the_try_again_page_passes_the_accessibility_checklist_in_dark_mode() {
    with_dark_browser(|c| async move {
        ensure_dark(&c).await?;
        expect_none(audit_transient_error(&c, Scheme::Dark).await?)
    })
    .await;
}

fn expect_none(problems: Vec<String>) -> anyhow::Result<()> {
    ensure!(
        problems.is_empty(),
        "accessibility problems:\n  {}",
        problems.join("\n  ")
    );
    Ok(())
}

async fn ensure_dark(c: &Client) -> anyhow::Result<()> {
    let dark: bool = eval(
        c,
        "return matchMedia('(prefers-color-scheme: dark)').matches;",
    )
    .await?;
    ensure!(dark, "the browser prefers a dark colour scheme");
    Ok(())
}

#[derive(Clone, Copy, PartialEq)]
enum Scheme {
    Light,
    Dark,
}

impl Scheme {
    fn name(self) -> &'static str {
        match self {
            Scheme::Light => "light",
            Scheme::Dark => "dark",
        }
    }
}

/// Walks through every page of a visit and audits each: home, consent, photos, the flow page
/// (with its wing), connected home, signed-out home, the declined-consent page, "Try to break
/// it" and an attack's result, the 404 page, and the home page opened at
/// another address than `APP_URL`.
async fn audit_every_page(c: &Client, scheme: Scheme) -> anyhow::Result<Vec<String>> {
    let app = TestApp::spawn().await?;
    let mut problems = Vec::new();

    c.goto(app.url.as_str()).await?;
    find(c, "#connect").await?;
    problems.extend(audit(c, "home", scheme).await?);

    click(c, "#connect").await?;
    find(c, "#approve").await?;
    problems.extend(consent_look(c).await?);
    problems.extend(audit(c, "consent", scheme).await?);

    click(c, "#approve").await?;
    find(c, "#photos").await?;
    loaded_photos(c).await?;
    problems.extend(audit(c, "photos", scheme).await?);

    // The flow inspector: the sequence diagram, every step, the curl block. // INSPECTOR
    #[cfg(feature = "inspector")] // INSPECTOR
    {
        // INSPECTOR
        click(c, "#flow-link").await?; // INSPECTOR
        find(c, "li[data-step='4']").await?; // INSPECTOR
        problems.extend(audit(c, "flow", scheme).await?); // INSPECTOR
    } // INSPECTOR

    c.goto(app.url.as_str()).await?;
    find(c, "#photos-link").await?;
    problems.extend(audit(c, "home-connected", scheme).await?);

    click(c, "#logout").await?;
    find(c, ".notice-success[role=status]").await?;
    problems.extend(notice_look(c, ".notice-success", "\u{2713}").await?);
    problems.extend(audit(c, "signed-out", scheme).await?);

    click(c, "#connect").await?;
    click(c, "#deny").await?;
    wait_for_text(c, "#error-title", "Access was not granted").await?;
    problems.extend(error_look(c, "choice").await?);
    problems.extend(audit(c, "deny", scheme).await?);

    // "Try to break it": the list, then an attack's result.
    c.goto(&app.at("break-it")).await?;
    find(c, "#attacks").await?;
    problems.extend(audit(c, "break-it", scheme).await?);
    // Posted without the form's `#forged-state`, so Tab starts at the top as the audit expects.
    let submit = "const f = document.querySelector(\"li[id='forged-state'] form\"); \
                  f.action = '/break-it/forged-state'; f.submit();";
    c.execute(submit, vec![]).await?;
    find(c, "#verdict").await?;
    problems.extend(audit(c, "break-it-result", scheme).await?);

    c.goto(&app.at("no-such-page")).await?;
    wait_for_text(c, "#error-title", "Page not found").await?;
    problems.extend(error_look(c, "not-found").await?);
    problems.extend(audit(c, "not-found", scheme).await?);

    // The same server at 127.0.0.1 instead of APP_URL's localhost: the set-up banner.
    c.goto(&app.at_loopback_ip("")?).await?;
    find(c, "#setup-warning").await?;
    problems.extend(notice_look(c, "#setup-warning.notice-warning", "!").await?);
    problems.extend(audit(c, "setup-warning", scheme).await?);
    Ok(problems)
}

/// Signs in to an app whose photos API fails: the photos page becomes the "try again" page.
async fn audit_transient_error(c: &Client, scheme: Scheme) -> anyhow::Result<Vec<String>> {
    let app = TestApp::spawn_with_failing_photos_api().await?;
    c.goto(app.url.as_str()).await?;
    click(c, "#connect").await?;
    click(c, "#approve").await?;
    find(c, "#error-title").await?;
    let mut problems = error_look(c, "transient").await?;
    let action = find(c, "#error-action").await?.text().await?;
    if action != "Try again" {
        problems.push(format!("transient: the button reads {action:?}"));
    }
    problems.extend(audit(c, "transient", scheme).await?);
    Ok(problems)
}

/// The error page's tone fits its cause: a declined consent shows no error code and no
/// warning colours; a passing fault is blue, not amber.
async fn error_look(c: &Client, tone: &str) -> anyhow::Result<Vec<String>> {
    #[derive(Deserialize)]
    struct Look {
        tone: bool,
        status_code: bool,
        icon_stroke: String,
        warning: String,
    }
    let look: Look = serde_json::from_value(
        c.execute(
            r#"const section = document.querySelector('section.error');
               const probe = document.createElement('span');
               probe.style.cssText = 'color: var(--warn)';
               document.body.append(probe);
               const warning = getComputedStyle(probe).color;
               probe.remove();
               const path = section && section.querySelector('.error-icon path');
               return {
                 tone: !!section && section.classList.contains('tone-' + arguments[0]),
                 status_code: !!document.querySelector('.status-code'),
                 icon_stroke: path ? getComputedStyle(path).stroke : '',
                 warning,
               };"#,
            vec![json!(tone)],
        )
        .await?,
    )?;
    let mut problems = Vec::new();
    if !look.tone {
        problems.push(format!(
            "{tone}: no section.error.tone-{tone} on {}",
            describe(c).await
        ));
    }
    if tone == "choice" && look.status_code {
        problems.push("choice: a declined consent shows an error code".into());
    }
    if matches!(tone, "choice" | "transient" | "not-found") && look.icon_stroke == look.warning {
        problems.push(format!(
            "{tone}: the icon is drawn in the warning colour {}",
            look.warning
        ));
    }
    Ok(problems)
}

/// A notice wears its kind: `css` is there, and its icon is `icon`.
async fn notice_look(c: &Client, css: &str, icon: &str) -> anyhow::Result<Vec<String>> {
    let content: Option<String> = eval(
        c,
        &format!(
            "const n = document.querySelector({css:?}); \
             return n ? getComputedStyle(n, '::before').content : null;"
        ),
    )
    .await?;
    Ok(match content {
        None => vec![format!("no {css} on {}", describe(c).await)],
        Some(content) if !content.contains(icon) => {
            vec![format!("{css}: its icon is {content}, expected {icon:?}")]
        }
        Some(_) => Vec::new(),
    })
}

/// The provider's consent page: one font for text and buttons, themed radio buttons, and the
/// "demo authorization server" tag on one line even on the narrowest phone.
async fn consent_look(c: &Client) -> anyhow::Result<Vec<String>> {
    #[derive(Deserialize)]
    struct Look {
        body_font: String,
        button_font: String,
        accent: String,
        tag_lines: usize,
    }
    let mut problems = Vec::new();
    for size in [(320, 800), PHONE, DESKTOP] {
        set_viewport(c, size).await?;
        let look: Look = eval(
            c,
            r#"const font = (el) => getComputedStyle(el).fontFamily;
               const tag = document.querySelector('.tag');
               return {
                 body_font: font(document.body),
                 button_font: font(document.getElementById('approve')),
                 accent: getComputedStyle(document.querySelector('input[type=radio]')).accentColor,
                 tag_lines: tag ? tag.getClientRects().length : 0,
               };"#,
        )
        .await?;
        if look.body_font != look.button_font || !look.body_font.ends_with("sans-serif") {
            problems.push(format!(
                "consent: one sans-serif stack for the page, saw {:?} and buttons {:?}",
                look.body_font, look.button_font
            ));
        }
        if look.accent == "auto" {
            problems.push("consent: the radio buttons keep the browser's own colour".into());
        }
        if look.tag_lines != 1 {
            problems.push(format!(
                "consent: the tag breaks over {} lines at {} px",
                look.tag_lines, size.0
            ));
        }
    }
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
        let problems = audit(&c, "checklist-self-test", Scheme::Light)
            .await?
            .join("\n");
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

/// Runs every check on the current page, in its desktop window and on a phone, and takes a
/// screenshot of each (`<page>-<scheme>.png`, `<page>-<scheme>-phone.png`). Each problem reads
/// `page: [rule] where: detail`.
async fn audit(c: &Client, page: &str, scheme: Scheme) -> anyhow::Result<Vec<String>> {
    let page = format!("{page}-{}", scheme.name());
    set_viewport(c, DESKTOP).await?;
    calm(c).await?;
    screenshot(c, &page).await?;
    let audit = run_checklist(c).await?;
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

    // Reflow: nothing scrolls sideways in a 320 px wide window.
    set_viewport(c, (320, 800)).await?;
    let (scroll, client): (u32, u32) = eval(
        c,
        "const d = document.documentElement; return [d.scrollWidth, d.clientWidth];",
    )
    .await?;
    if scroll > client {
        problems.push(format!(
            "{page}: [reflow] {scroll} px wide content in a {client} px window ({})",
            describe(c).await
        ));
    }

    // A phone: the checklist again (contrast and target sizes can change with the layout),
    // reporting only what the desktop pass did not, and a look at it.
    set_viewport(c, PHONE).await?;
    calm(c).await?;
    for p in run_checklist(c).await?.problems {
        let seen = audit
            .problems
            .iter()
            .any(|d| (&d.rule, &d.at, &d.detail) == (&p.rule, &p.at, &p.detail));
        if !seen {
            problems.push(format!(
                "{page} (phone): [{}] {}: {}",
                p.rule, p.at, p.detail
            ));
        }
    }
    screenshot(c, &format!("{page}-phone")).await?;
    set_viewport(c, DESKTOP).await?;
    Ok(problems)
}

async fn run_checklist(c: &Client) -> anyhow::Result<Audit> {
    Ok(serde_json::from_value(
        c.execute(CHECKLIST, vec![json!("audit")]).await?,
    )?)
}

async fn press_tab(c: &Client) -> anyhow::Result<()> {
    let tab = char::from(Key::Tab);
    let keys = KeyActions::new("keyboard".into())
        .then(KeyAction::Down { value: tab })
        .then(KeyAction::Up { value: tab });
    c.perform_actions(keys).await?;
    Ok(())
}
