//! One sign-in as a browser makes it: home → Connect link (authorize at the provider) → the
//! consent form → `/cb` → `/photos`, then more `/photos` views. Each hop is one timed step;
//! redirects are followed by hand.

use std::time::Instant;

use anyhow::{Context, bail};
use reqwest::Client;
use url::Url;

use crate::{
    browser::{self, Browser, SecFetchSite},
    stats::{Recorder, Step},
};

/// What every flow needs: the app's home URL, the demo user, and the extra photos views.
#[derive(Clone, Debug)]
pub struct FlowPlan {
    pub app: Url,
    pub user: String,
    pub extra_photos: u32,
}

/// Runs one flow in a fresh browser and records its steps. `started` is when the flow was
/// *scheduled* to start (open loop) or started (closed loop): the first step and the whole
/// flow are measured from it, so a late start is counted as latency (no coordinated omission).
pub async fn run(client: &Client, plan: &FlowPlan, started: Instant, recorder: &mut Recorder) {
    let browser = Browser::new(client.clone(), true);
    let mut clock = Clock {
        last: started,
        recorder,
    };
    match steps(&browser, plan, &mut clock).await {
        Ok(()) => {
            clock.recorder.record(Step::Flow, started.elapsed());
            clock.recorder.flows_ok += 1;
        }
        Err((step, err)) => {
            clock.recorder.error(step, format!("{err:#}"));
            clock.recorder.flows_failed += 1;
        }
    }
}

/// Times each step from the end of the previous one.
struct Clock<'a> {
    last: Instant,
    recorder: &'a mut Recorder,
}

impl Clock<'_> {
    fn lap(&mut self, step: Step) {
        let now = Instant::now();
        self.recorder.record(step, now - self.last);
        self.last = now;
    }
}

type StepResult<T> = Result<T, (Step, anyhow::Error)>;

fn at<T>(step: Step, result: anyhow::Result<T>) -> StepResult<T> {
    result.map_err(|err| (step, err))
}

async fn steps(browser: &Browser, plan: &FlowPlan, clock: &mut Clock<'_>) -> StepResult<()> {
    let home = at(Step::Home, home(browser, &plan.app).await)?;
    clock.lap(Step::Home);

    let (consent_url, transaction) = at(Step::Authorize, authorize(browser, &home).await)?;
    clock.lap(Step::Authorize);

    let form = [
        ("transaction", transaction.as_str()),
        ("user", plan.user.as_str()),
        ("decision", "approve"),
    ];
    let consent = async {
        let response = browser
            .navigate(&consent_url, SecFetchSite::SameOrigin, Some(&form))
            .await?;
        browser::expect_redirect(response, &consent_url).await
    };
    let callback_url = at(Step::Consent, consent.await)?;
    clock.lap(Step::Consent);

    let callback = async {
        let response = browser
            .navigate(&callback_url, SecFetchSite::CrossSite, None)
            .await?;
        browser::expect_redirect(response, &callback_url).await
    };
    let photos_url = at(Step::Callback, callback.await)?;
    clock.lap(Step::Callback);

    for view in 0..=plan.extra_photos {
        let site = if view == 0 {
            SecFetchSite::CrossSite // the end of the redirect chain that began at the provider
        } else {
            SecFetchSite::None
        };
        at(Step::Photos, photos(browser, &photos_url, site).await)?;
        clock.lap(Step::Photos);
    }
    Ok(())
}

/// `GET /`: the Connect link.
async fn home(browser: &Browser, app: &Url) -> anyhow::Result<Url> {
    let page = browser::expect_page(browser.navigate(app, SecFetchSite::None, None).await?).await?;
    let href = browser::connect_href(&page).context("no Connect Your Account link")?;
    app.join(&href).context("a bad Connect link")
}

/// The Connect link: the provider's consent page and its form's transaction field.
async fn authorize(browser: &Browser, url: &Url) -> anyhow::Result<(Url, String)> {
    let page =
        browser::expect_page(browser.navigate(url, SecFetchSite::CrossSite, None).await?).await?;
    let transaction = browser::transaction_field(&page).context("no transaction field")?;
    let mut action = url.clone();
    action.set_query(None);
    Ok((action, transaction))
}

/// `GET /photos`: a page that shows photos.
async fn photos(browser: &Browser, url: &Url, site: SecFetchSite) -> anyhow::Result<()> {
    let page = browser::expect_page(browser.navigate(url, site, None).await?).await?;
    if !page.contains("<img") {
        bail!("a photos page without photos: {}", browser::snippet(&page));
    }
    Ok(())
}
