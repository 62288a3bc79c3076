//! What `/flow` shows of a record: each step with its title, the RFC sections it implements, a
//! one-line note per parameter, timings, the sequence diagram's arrows and a "copy as curl".

use serde::Serialize;

use super::{
    Exchange, FlowLog, Step, StepKind,
    curl::curl,
    glossary::{describe, note},
    mask,
};

/// The four parties of the flow, the sequence diagram's columns.
pub const ACTORS: [&str; 4] = ["Browser", "This app", "Provider", "Photos API"];
const BROWSER: usize = 0;
const APP: usize = 1;
const PROVIDER: usize = 2;
const PHOTOS: usize = 3;

pub struct FlowView {
    pub steps: Vec<StepView>,
    pub arrows: Vec<Arrow>,
    /// Later steps no longer kept.
    pub dropped: u32,
    /// The token request as a curl command, secrets replaced by placeholders.
    pub curl: Option<String>,
}

#[derive(Serialize)]
pub struct StepView {
    pub number: usize,
    /// Its stable anchor (`token`, `photos-2`): the kind of step, and which of that kind.
    pub anchor: String,
    pub title: &'static str,
    pub summary: &'static str,
    /// `21:04:05 UTC, +1.2 s after the link was made`.
    pub when: String,
    pub rfcs: &'static [(&'static str, &'static str)],
    pub params: Vec<ParamView>,
    pub checks: Vec<super::Check>,
    pub exchange: Option<ExchangeView>,
}

#[derive(Serialize)]
pub struct ParamView {
    pub name: String,
    pub value: String,
    pub masked: bool,
    pub note: Option<&'static str>,
}

#[derive(Serialize)]
pub struct ExchangeView {
    pub method: String,
    pub url: String,
    pub request_headers: Vec<(String, String)>,
    pub request_form: Vec<ParamView>,
    /// `HTTP 200`, or `no answer`.
    pub status: String,
    pub ok: bool,
    pub response_headers: Vec<(String, String)>,
    pub response_body: Option<String>,
    pub error: Option<String>,
    /// `12.3 ms`.
    pub took: String,
}

/// One arrow of the sequence diagram, linking to its step.
pub struct Arrow {
    pub step: usize,
    /// The anchor of its step.
    pub anchor: String,
    pub label: String,
    /// `span-02`: the columns it spans (left actor, right actor).
    pub span: String,
    /// Points left (an answer going back).
    pub leftward: bool,
    pub reply: bool,
}

impl FlowView {
    /// `client_id` goes into the curl command (Basic authentication hides it in the record).
    pub fn new(log: &FlowLog, client_id: &str) -> Self {
        let start = log.steps.first().map(|s| s.at_ms).unwrap_or_default();
        let anchors = anchors(&log.steps);
        let steps: Vec<StepView> = log
            .steps
            .iter()
            .zip(&anchors)
            .enumerate()
            .map(|(i, (step, anchor))| step_view(i + 1, anchor, step, start))
            .collect();
        let pushed = log.steps.iter().any(|s| s.kind == StepKind::Push);
        let arrows = log
            .steps
            .iter()
            .zip(&anchors)
            .enumerate()
            .flat_map(|(i, (step, anchor))| arrows(i + 1, anchor, step, pushed))
            .collect();
        let curl = log
            .steps
            .iter()
            // The last one: after a DPoP nonce retry, the first was refused.
            .rfind(|s| s.kind == StepKind::Token)
            .and_then(|s| s.exchange.as_ref())
            .map(|e| curl(e, client_id));
        Self {
            steps,
            arrows,
            dropped: log.dropped,
            curl,
        }
    }
}

/// Each step's anchor: its kind, and from the second of a kind on, its rank (`photos-2`), so a
/// link to `#token` or `#callback` means the same step in every record.
fn anchors(steps: &[Step]) -> Vec<String> {
    let mut seen: Vec<StepKind> = Vec::with_capacity(steps.len());
    steps
        .iter()
        .map(|step| {
            seen.push(step.kind);
            let slug = match step.kind {
                StepKind::Authorize => "authorize",
                StepKind::Push => "push",
                StepKind::Callback => "callback",
                StepKind::Token => "token",
                StepKind::RefreshExpiring => "refresh",
                StepKind::RefreshRejected => "refresh-after-401",
                StepKind::Photos => "photos",
                StepKind::RevokeRefresh => "revoke-refresh-token",
                StepKind::RevokeAccess => "revoke-access-token",
            };
            match seen.iter().filter(|&&kind| kind == step.kind).count() {
                1 => slug.to_owned(),
                rank => format!("{slug}-{rank}"),
            }
        })
        .collect()
}

fn step_view(number: usize, anchor: &str, step: &Step, start_ms: i64) -> StepView {
    let (title, summary, rfcs) = describe(step.kind);
    let seconds = (step.at_ms.saturating_sub(start_ms)) as f64 / 1000.0;
    let day_ms = step.at_ms.rem_euclid(86_400_000);
    let (h, m, s) = (day_ms / 3_600_000, day_ms / 60_000 % 60, day_ms / 1000 % 60);
    StepView {
        number,
        anchor: anchor.to_owned(),
        title,
        summary,
        when: format!("{h:02}:{m:02}:{s:02} UTC, +{seconds:.1} s"),
        rfcs,
        params: step
            .params
            .iter()
            .map(|p| param(&p.name, &p.value, p.masked))
            .collect(),
        checks: step.checks.clone(),
        exchange: step.exchange.as_ref().map(exchange_view),
    }
}

fn param(name: &str, value: &str, masked: bool) -> ParamView {
    ParamView {
        name: name.to_owned(),
        value: value.to_owned(),
        masked,
        note: note(name),
    }
}

fn exchange_view(e: &Exchange) -> ExchangeView {
    ExchangeView {
        method: e.method.clone(),
        url: e.url.clone(),
        request_headers: e.request_headers.clone(),
        request_form: e
            .request_form
            .iter()
            .map(|(name, value)| param(name, value, mask::is_secret(name)))
            .collect(),
        status: e
            .status
            .map_or_else(|| "no answer".to_owned(), |s| format!("HTTP {s}")),
        ok: e.status.is_some_and(|s| (200..300).contains(&s)) && e.error.is_none(),
        response_headers: e.response_headers.clone(),
        response_body: e.response_body.clone(),
        error: e.error.clone(),
        took: format!("{:.1} ms", e.micros as f64 / 1000.0),
    }
}

/// The diagram's arrows for one step; `pushed`: the flow used PAR, so the browser goes to the
/// provider only after the push.
fn arrows(step: usize, anchor: &str, s: &Step, pushed: bool) -> Vec<Arrow> {
    let arrow = |from, to, label, reply| arrow(step, anchor, from, to, label, reply);
    let reply = |e: Option<&Exchange>| match e.and_then(|e| e.status) {
        Some(status) => format!("HTTP {status}"),
        None => "no answer".to_owned(),
    };
    let call = |to: usize, label: &str| {
        [
            arrow(APP, to, label.to_owned(), false),
            arrow(to, APP, reply(s.exchange.as_ref()), true),
        ]
    };
    // The home page and its Connect link, the start of every flow.
    let home = || {
        vec![
            arrow(BROWSER, APP, "GET /".into(), false),
            arrow(APP, BROWSER, "page with the Connect link".into(), true),
        ]
    };
    let to_provider = |label: &str| arrow(BROWSER, PROVIDER, label.into(), false);
    match s.kind {
        StepKind::Authorize if pushed => home(),
        StepKind::Authorize => {
            let mut arrows = home();
            arrows.push(to_provider("GET /authorize?…"));
            arrows
        }
        StepKind::Push => {
            let mut arrows = vec![arrow(BROWSER, APP, "GET /connect".into(), false)];
            arrows.extend(call(PROVIDER, "POST par: the parameters"));
            arrows.push(arrow(
                APP,
                BROWSER,
                "redirect with request_uri".into(),
                true,
            ));
            arrows.push(to_provider("GET /authorize?client_id&request_uri"));
            arrows
        }
        StepKind::Callback => vec![
            arrow(PROVIDER, BROWSER, "redirect to /cb?code&state".into(), true),
            arrow(BROWSER, APP, "GET /cb?code&state".into(), false),
        ],
        StepKind::Token => call(PROVIDER, "POST token: code + verifier").into(),
        StepKind::RefreshExpiring | StepKind::RefreshRejected => {
            call(PROVIDER, "POST token: refresh_token").into()
        }
        StepKind::Photos => call(PHOTOS, "GET photos, Bearer token").into(),
        StepKind::RevokeRefresh => call(PROVIDER, "POST revoke: refresh token").into(),
        StepKind::RevokeAccess => call(PROVIDER, "POST revoke: access token").into(),
    }
}

fn arrow(step: usize, anchor: &str, from: usize, to: usize, label: String, reply: bool) -> Arrow {
    Arrow {
        step,
        anchor: anchor.to_owned(),
        label,
        span: format!("span-{}{}", from.min(to), from.max(to)),
        leftward: to < from,
        reply,
    }
}

#[cfg(test)]
mod tests;
