//! The flow inspector's record to take away: `/flow.json` and `/flow.md`, made from what `/flow`
//! shows, so with the same masking (secrets are masked when recorded, [`super::mask`]), for a
//! talk or a bug report. Each step keeps its anchor, the one `/flow` links to.

use std::fmt::Write;

use serde::Serialize;

use super::{
    mask::PREFIX_CHARS,
    view::{ExchangeView, FlowView, ParamView, StepView},
};

/// What every export says of itself: what it is, and what was masked.
const FORMAT: &str = "photo-connect flow inspector record, version 1";
const MASKING: &str = "The client secret is never included; codes, verifiers and tokens only as their first characters and their length.";

#[derive(Serialize)]
struct Document<'a> {
    format: &'static str,
    masking: &'static str,
    steps: &'a [StepView],
    /// Later steps no longer kept when this was taken.
    dropped: u32,
    /// The token request as a curl command, secrets as placeholders.
    curl: Option<&'a str>,
}

/// The record as JSON: every step with its anchor, parameters, checks and exchange.
pub fn json(view: &FlowView) -> serde_json::Result<String> {
    serde_json::to_string_pretty(&Document {
        format: FORMAT,
        masking: MASKING,
        steps: &view.steps,
        dropped: view.dropped,
        curl: view.curl.as_deref(),
    })
}

/// The record as Markdown: a table of contents, then each step under its anchor. Whatever came
/// from outside (parameters, headers, bodies) is inside a code fence longer than any run of
/// backticks in it, so a pasted record renders no link, image or HTML a provider slipped in.
pub fn markdown(view: &FlowView) -> String {
    let mut out = format!(
        "# What just happened\n\n{FORMAT}. Secrets are masked: the client secret is never \
         included; codes, verifiers and tokens show their first {PREFIX_CHARS} characters and \
         their length.\n\n| Step | | When |\n| --- | --- | --- |\n"
    );
    for step in &view.steps {
        let _ = writeln!(
            out,
            "| {} | [{}](#{}) | {} |",
            step.number, step.title, step.anchor, step.when
        );
    }
    for step in &view.steps {
        step_markdown(&mut out, step);
    }
    if view.dropped > 0 {
        let _ = writeln!(out, "{} earlier steps were no longer kept.\n", view.dropped);
    }
    if let Some(curl) = &view.curl {
        out.push_str("## Copy as curl\n\n");
        fenced(&mut out, "sh", curl);
    }
    out
}

fn step_markdown(out: &mut String, step: &StepView) {
    let _ = write!(
        out,
        "\n<a id=\"{}\"></a>\n\n## {}. {}\n\n{}\n\n{}\n\n",
        step.anchor, step.number, step.title, step.when, step.summary
    );
    if !step.params.is_empty() {
        fenced(out, "text", &params(&step.params));
    }
    for check in &step.checks {
        let mark = if check.ok { "✓ passed" } else { "✗ failed" };
        let _ = writeln!(out, "- {mark}: {}", check.what);
    }
    if !step.checks.is_empty() {
        out.push('\n');
    }
    if let Some(exchange) = &step.exchange {
        fenced(out, "http", &exchange_text(exchange));
    }
    let implements: Vec<String> = step
        .rfcs
        .iter()
        .map(|(label, href)| format!("[{label}]({href})"))
        .collect();
    let _ = writeln!(out, "Implements {}.", implements.join(", "));
}

fn params(params: &[ParamView]) -> String {
    params
        .iter()
        .map(|p| format!("{} = {}\n", p.name, p.value))
        .collect()
}

fn exchange_text(e: &ExchangeView) -> String {
    let mut text = format!("{} {}\n", e.method, e.url);
    for (name, value) in &e.request_headers {
        let _ = writeln!(text, "{name}: {value}");
    }
    if !e.request_form.is_empty() {
        text.push('\n');
        text.push_str(&params(&e.request_form));
    }
    let _ = writeln!(text, "\n→ {} after {}", e.status, e.took);
    if let Some(error) = &e.error {
        let _ = writeln!(text, "({error})");
    }
    for (name, value) in &e.response_headers {
        let _ = writeln!(text, "{name}: {value}");
    }
    if let Some(body) = &e.response_body {
        let _ = writeln!(text, "\n{body}");
    }
    text
}

/// `text` in a code fence of backticks, one more than its longest run of them (CommonMark §4.5).
fn fenced(out: &mut String, info: &str, text: &str) {
    let longest = text
        .split(|c| c != '`')
        .map(str::len)
        .max()
        .unwrap_or_default();
    let fence = "`".repeat(longest.max(2) + 1);
    let _ = write!(out, "{fence}{info}\n{}\n{fence}\n\n", text.trim_end());
}

#[cfg(test)]
mod tests;
