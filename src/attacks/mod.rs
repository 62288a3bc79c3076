//! "Try to break it" (`/break-it`): attacks a visitor launches with one button each against this
//! app and the embedded demo provider, each ending in the real refusal, the check that made it
//! and the clause that check implements.
//!
//! A wing of the demo provider: served only with it (`demo::bind` attaches it at the app's
//! wing-routes seam), never against a real provider. Each attack is real: scripted browsers
//! ([`browser`]) send the forged requests over the network to the app's and the provider's own
//! endpoints ([`run`]). They are fresh browsers with sessions of their own, never the visitor's
//! nor anyone else's, so an attack changes nothing for another session; runs are bounded (two
//! at a time, [`RUNS_PER_MINUTE`] in all) and each gives up after [`RUN_TIMEOUT`].

mod browser;
mod catalogue;
mod run;

use std::{num::NonZeroU32, sync::Arc, time::Duration};

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Extension, Router,
    extract::Path,
    http::{HeaderMap, header},
    routing::{get, post},
};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::sync::Semaphore;
use url::Url;

use crate::web::{
    error::{AppError, Result},
    state::AppState,
};
use catalogue::{ATTACKS, Attack};

/// Attack runs per minute, all visitors together.
pub const RUNS_PER_MINUTE: u32 = 30;
/// How long one run may take.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(15);

/// Another client registered at the demo provider: the attacker's own app.
pub struct OtherClient {
    pub id: String,
    pub secret: String,
    pub redirect_uri: String,
}

/// What the attacks need: where the app and the provider are, and the bounds on runs.
pub struct Kit {
    app: Url,
    issuer: String,
    client_id: String,
    other_client: OtherClient,
    http: reqwest::Client,
    limit: DefaultDirectRateLimiter,
    running: Semaphore,
}

impl Kit {
    pub fn new(
        app: Url,
        issuer: String,
        client_id: String,
        other_client: OtherClient,
    ) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(RUN_TIMEOUT)
            .build()?;
        let per_minute = NonZeroU32::new(RUNS_PER_MINUTE).unwrap_or(NonZeroU32::MIN);
        Ok(Self {
            app,
            issuer,
            client_id,
            other_client,
            http,
            limit: RateLimiter::direct(Quota::per_minute(per_minute)),
            running: Semaphore::new(2),
        })
    }

    fn at(&self, path: &str) -> anyhow::Result<Url> {
        Ok(self.app.join(path)?)
    }

    /// An endpoint from the provider's metadata (RFC 8414), read as a client would.
    async fn endpoint(&self, name: &str) -> anyhow::Result<Url> {
        let metadata: serde_json::Value = self
            .http
            .get(format!(
                "{}/.well-known/oauth-authorization-server",
                self.issuer
            ))
            .send()
            .await?
            .json()
            .await?;
        let url = metadata[name]
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("the provider's metadata has no {name}"))?;
        Ok(Url::parse(url)?)
    }
}

/// How an attack ended.
pub struct Outcome {
    /// Whether the attack was refused.
    pub refused: bool,
    /// The refusing answer: `HTTP 400 · This sign-in was not started here`.
    pub answer: String,
    /// What was checked afterwards (the honest session still works, nothing was issued).
    pub aftermath: String,
    /// Every request the attack's browsers sent, and its answer.
    pub transcript: Vec<String>,
}

pub fn router(kit: Kit) -> Router<AppState> {
    Router::new()
        .route("/break-it", get(show))
        .route("/break-it/{id}", post(launch))
        .layer(Extension(Arc::new(kit)))
}

#[derive(Template, WebTemplate)]
#[template(path = "break-it.html")]
struct BreakItPage {
    attacks: &'static [Attack],
    /// The attack just run and how it ended.
    result: Option<(&'static str, Outcome)>,
}

async fn show() -> BreakItPage {
    BreakItPage {
        attacks: ATTACKS,
        result: None,
    }
}

/// Runs one attack. A cross-site form cannot start one (our `Origin` only).
async fn launch(
    Extension(kit): Extension<Arc<Kit>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<BreakItPage> {
    let attack = catalogue::find(&id).ok_or(AppError::NotFound)?;
    let origin = headers.get(header::ORIGIN).map(|o| o.as_bytes());
    if origin.is_some_and(|o| o != kit.app.origin().ascii_serialization().as_bytes()) {
        return Err(AppError::Csrf);
    }
    let Ok(_running) = kit.running.try_acquire() else {
        return Err(AppError::TooManySignIns);
    };
    if kit.limit.check().is_err() {
        return Err(AppError::TooManySignIns);
    }
    let transcript = browser::Transcript::default();
    let outcome =
        match tokio::time::timeout(RUN_TIMEOUT, run::run(&kit, attack.id, &transcript)).await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(err)) => Outcome {
                refused: false,
                answer: format!("The attack could not be run: {err}"),
                aftermath: String::new(),
                transcript: Vec::new(),
            },
            Err(_) => Outcome {
                refused: false,
                answer: "The attack did not finish in time.".into(),
                aftermath: String::new(),
                transcript: Vec::new(),
            },
        };
    let transcript = transcript.lock().map(|t| t.clone()).unwrap_or_default();
    Ok(BreakItPage {
        attacks: ATTACKS,
        result: Some((
            attack.id,
            Outcome {
                transcript,
                ..outcome
            },
        )),
    })
}
