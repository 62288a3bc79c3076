//! "Try to break it" (`/break-it`): every attack the page offers, launched as its button does,
//! is refused by the check it names, with PAR and without; a visitor signed in meanwhile keeps
//! their session; a cross-site form cannot launch one.

use photo_connect::config::{Config, DpopMode, ParMode};
use photo_connect::demo::provider::DemoSettings;
use reqwest::StatusCode;

use crate::helpers::*;

/// The attacks the page offers: the ids its forms post to.
fn attack_ids(page: &str) -> Vec<String> {
    page.split(r#"action="/break-it/"#)
        .skip(1)
        .filter_map(|rest| rest.split_once('#').map(|(id, _)| id.to_owned()))
        .collect()
}

async fn launch(app: &TestApp, id: &str, origin: &str) -> (StatusCode, String) {
    let response = app
        .client
        .post(app.at(&format!("/break-it/{id}")))
        .header("origin", origin)
        .send()
        .await
        .expect("launch");
    let status = response.status();
    (status, response.text().await.expect("page"))
}

/// The verdict line of the page.
fn verdict(page: &str) -> &str {
    let start = page.find(r#"id="verdict""#).expect("a verdict");
    let end = page[start..].find("</li>").expect("its end");
    &page[start..start + end]
}

/// `honest`: a visitor signed in before, and checked after (the helper signs in without PAR).
async fn every_attack_is_refused(app: &TestApp, honest: bool) {
    if honest {
        app.login_as("bob").await;
    }
    let (status, _, page) = app.get("/break-it").await;
    assert_eq!(status, StatusCode::OK);
    let ids = attack_ids(&page);
    assert!(ids.len() >= 10, "{ids:?}");
    let origin = app.url.origin().ascii_serialization();
    for id in &ids {
        let (status, page) = launch(app, id, &origin).await;
        assert_eq!(status, StatusCode::OK, "{id}: {page}");
        let verdict = verdict(&page);
        assert!(
            verdict.contains("✓") && verdict.contains("Refused by"),
            "{id}: {verdict}"
        );
        assert!(
            page.contains(r#"<pre class="http transcript"><code>victim: GET"#)
                || page.contains("<code>attacker: GET"),
            "{id}: the requests sent"
        );
    }
    if honest {
        let (status, _, photos) = app.get("/photos").await;
        assert_eq!(
            status,
            StatusCode::OK,
            "the honest visitor is still signed in"
        );
        assert!(
            photos.contains("Your photos (4)"),
            "as Bob, with his 4 photos: {photos}"
        );
    }
}

#[tokio::test]
async fn every_attack_is_refused_by_its_check_and_an_honest_session_is_untouched() {
    let app = spawn_app().await;
    every_attack_is_refused(&app, true).await;
}

#[tokio::test]
async fn every_attack_is_refused_with_par_and_dpop_too() {
    let mut config = Config::for_tests();
    config.par = ParMode::On;
    config.dpop = DpopMode::On;
    let app = spawn_app_with(config, DemoSettings::for_tests()).await;
    every_attack_is_refused(&app, false).await;
}

#[tokio::test]
async fn each_refusal_names_what_came_back_and_what_was_checked_after() {
    let app = spawn_app().await;
    let origin = app.url.origin().ascii_serialization();
    for (id, answer, aftermath) in [
        (
            "forged-state",
            "HTTP 400 · This sign-in was not started here",
            "The victim&#39;s real callback then: HTTP 303",
        ),
        (
            "wrong-issuer",
            "HTTP 400 · That sign-in came from an unexpected provider",
            "No code was sent",
        ),
        (
            "code-injection",
            "HTTP 502 · The provider refused the sign-in",
            "stays signed out",
        ),
        (
            "code-other-client",
            "HTTP 400 · error=invalid_grant",
            "The victim&#39;s own callback then: HTTP 303",
        ),
        (
            "code-no-credentials",
            "HTTP 401 · error=invalid_client",
            "The victim&#39;s own callback then: HTTP 303",
        ),
        (
            "logout-csrf",
            "HTTP 403",
            "photos page afterwards: HTTP 200",
        ),
        ("session-fixation", "HTTP 303", "own photos page: HTTP 200"),
    ] {
        let (_, page) = launch(&app, id, &origin).await;
        let verdict = verdict(&page);
        assert!(verdict.contains(answer), "{id}: {answer} in {verdict}");
        assert!(page.contains(aftermath), "{id}: {aftermath} in {page}");
    }
}

#[tokio::test]
async fn a_cross_site_form_cannot_launch_an_attack_and_an_unknown_one_is_not_found() {
    let app = spawn_app().await;
    let (status, _) = launch(&app, "forged-state", "https://attacker.example").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let origin = app.url.origin().ascii_serialization();
    let (status, _) = launch(&app, "no-such-attack", &origin).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(app.token_requests(), 0, "nothing was sent to the provider");
}
