//! The provider's own HTML pages (consent and error) and the name they show, [`DISPLAY_NAME`],
//! with their own look so a person sees they have left the client's site, and headers that keep
//! them out of frames (RFC 9700 §4.16).

use askama::Template;
use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Response},
};

use crate::photos::DemoUser;

/// The provider's own name, shown on its pages (a client may show it too).
pub const DISPLAY_NAME: &str = "Demo Photos";

#[derive(Template)]
#[template(
    ext = "html",
    source = r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="color-scheme" content="light dark">
  <title>Sign in to {{ crate::pages::DISPLAY_NAME }}</title>
  <link rel="stylesheet" href="/assets/provider.css">
</head>
<body>
  <main class="panel" aria-labelledby="consent-title">
    <p class="brand">{{ crate::pages::DISPLAY_NAME }} <span class="tag">demo authorization server</span></p>
    <h1 id="consent-title"><strong>{{ client_name }}</strong> wants to view your photos</h1>
    <form method="post" action="/oauth/authorize">
      <input type="hidden" name="transaction" value="{{ transaction }}">
      <fieldset>
        <legend>Sign in as</legend>
        {% for user in users %}
        <label class="user" for="user-{{ user.id }}">
          <input type="radio" id="user-{{ user.id }}" name="user" value="{{ user.id }}"{% if loop.first %} checked{% endif %}>
          <span><strong>{{ user.name }}</strong> <small>{{ user.photos.len() }} photos</small></span>
        </label>
        {% endfor %}
      </fieldset>
      <p>It will be able to:</p>
      <ul class="scopes">
        {% for s in scope %}<li>{% if s == "photos" %}See your photos{% elif s == "openid" %}Know who you are (sign in with this account){% else %}See your basic profile{% endif %} <code>{{ s }}</code></li>{% endfor %}
      </ul>
      <p class="muted">You will be sent back to <strong>{{ return_origin }}</strong>.</p>
      <details class="request" id="request-details">
        <summary>What the app asked for</summary>
        <dl>
          <dt>Client</dt><dd><code>{{ client_id }}</code>, registered as {{ client_name }}</dd>
          <dt>Redirect URI</dt><dd><code>{{ redirect_uri }}</code>, registered for this client</dd>
          <dt>Scope</dt><dd>{% for s in scope %}<code>{{ s }}</code> {% endfor %}</dd>
          <dt>PKCE</dt><dd>{% if let Some(c) = code_challenge %}method <code>S256</code>, challenge <code>{{ c }}</code>{% else %}none{% endif %}</dd>
          <dt>State</dt><dd>{% if state_sent %}sent; it goes back unchanged{% else %}not sent{% endif %}</dd>
        </dl>
      </details>
      <div class="buttons">
        <button id="approve" type="submit" name="decision" value="approve">Approve</button>
        <button id="deny" class="secondary" type="submit" name="decision" value="deny">Deny</button>
      </div>
    </form>
  </main>
</body>
</html>"#
)]
pub struct ConsentPage<'a> {
    pub client_name: &'a str,
    pub client_id: &'a str,
    /// The redirect URI the answer will go to (registered for this client).
    pub redirect_uri: &'a str,
    /// The PKCE challenge, always S256 when present (others are refused before this page).
    pub code_challenge: Option<&'a str>,
    pub state_sent: bool,
    pub return_origin: &'a str,
    pub scope: &'a [String],
    pub users: &'a [DemoUser],
    pub transaction: &'a str,
}

#[derive(Template)]
#[template(
    ext = "html",
    source = r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="color-scheme" content="light dark">
  <title>{{ crate::pages::DISPLAY_NAME }}: request refused</title>
  <link rel="stylesheet" href="/assets/provider.css">
</head>
<body>
  <main class="panel" aria-labelledby="error-title">
    <p class="brand">{{ crate::pages::DISPLAY_NAME }} <span class="tag">demo authorization server</span></p>
    <h1 id="error-title">This request was refused</h1>
    <p id="reason">{{ reason }}</p>
    <p class="muted">Go back to the app you came from and start again.</p>
  </main>
</body>
</html>"#
)]
struct ErrorPage<'a> {
    reason: &'a str,
}

/// The consent page. Its CSP lets the form's 303 go to the client's origin: Chromium applies
/// `form-action` to the redirect after a form POST, so `'self'` alone would block the return.
pub fn consent_page(page: &ConsentPage<'_>, return_origin: &str) -> Response {
    let csp = format!(
        "default-src 'none'; style-src 'self'; form-action 'self' {return_origin}; frame-ancestors 'none'; base-uri 'none'"
    );
    with_headers(render(page), StatusCode::OK, &csp)
}

/// An HTML error page. Shown instead of redirecting when the client or redirect URI cannot be
/// trusted (RFC 6749 §4.1.2.1). `reason` is fixed text, never request input.
pub fn error_page(status: StatusCode, reason: &str) -> Response {
    let csp = "default-src 'none'; style-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'";
    with_headers(render(&ErrorPage { reason }), status, csp)
}

/// Another page of the provider's own (the account page), with the error page's headers but
/// its forms allowed to post to the provider itself.
pub fn page(template: &impl Template) -> Response {
    let csp = "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
    with_headers(render(template), StatusCode::OK, csp)
}

fn render(template: &impl Template) -> String {
    template.render().unwrap_or_else(|err| {
        tracing::error!(error = %err, "demo provider page did not render");
        format!("{DISPLAY_NAME}: internal error")
    })
}

fn with_headers(html: String, status: StatusCode, csp: &str) -> Response {
    let mut response = (status, Html(html)).into_response();
    let h = response.headers_mut();
    if let Ok(csp) = HeaderValue::from_str(csp) {
        h.insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    // Clickjacking: never inside a frame (RFC 9700 §4.16, RFC 6749 §10.13).
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // The URL carries state and the challenge: no Referer to anyone (RFC 9700 §4.2.2).
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `GET /assets/provider.css`: the provider's own look (teal, light and dark), unlike any client's.
pub async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLESHEET,
    )
}

const STYLESHEET: &str = r#"
/* Demo Photos, the demo provider: its own look (teal, a centred card), so a person sees they
   have left the client's site. One sans-serif stack, light and dark, no inline styles (the CSP
   allows only this file). Every colour pair meets WCAG AA. */
:root {
  --bg: #dcefeb; --glow: #bfe6de; --panel: #ffffff; --line: #b5d6cf; --ink: #0d2b2a; --muted: #37605b;
  --brand: #0b6259; --tag-bg: #d3eee8; --tag-ink: #0a4a44; --accent: #0f766e; --accent-hover: #0b5e57;
  --on-accent: #ffffff; --secondary: #0b5e57; --row: #f4faf9; --row-on: #e3f4f0; --code-bg: #e4f2ef;
  --ring: #b45309; --shadow: 0 1px 2px rgba(13, 43, 42, .08), 0 18px 44px rgba(13, 43, 42, .14);
  color-scheme: light dark;
  font-family: "Avenir Next", Avenir, "Segoe UI Variable Text", "Segoe UI", Ubuntu, Cantarell, "Noto Sans",
    "DejaVu Sans", system-ui, sans-serif;
  color: var(--ink); background: var(--bg); line-height: 1.5;
  -webkit-text-size-adjust: 100%; text-size-adjust: 100%;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0c2a2a; --glow: #17504d; --panel: #10393a; --line: #2b6b66; --ink: #e8f4f2; --muted: #a9d9d1;
    --brand: #7fe0cf; --tag-bg: #1f5a56; --tag-ink: #d5f6f0; --accent: #7fe0cf; --accent-hover: #a3eadd;
    --on-accent: #0c2a2a; --secondary: #cdf3ec; --row: #0f3435; --row-on: #164746; --code-bg: #0c2a2a;
    --ring: #ffd166; --shadow: 0 1px 2px rgba(0, 0, 0, .3), 0 20px 50px rgba(0, 0, 0, .35);
  }
}
*, *::before, *::after { box-sizing: border-box; }
body { margin: 0; min-height: 100vh; display: grid; place-items: center; padding: clamp(.75rem, 4vw, 2rem);
  background: radial-gradient(circle at 20% 10%, var(--glow), var(--bg) 60%); }
button, input { font: inherit; }
.panel { width: 100%; max-width: 480px; background: var(--panel); border: 1px solid var(--line); border-radius: 20px;
  padding: clamp(1.25rem, 5vw, 2.25rem); box-shadow: var(--shadow); }
.brand { display: flex; flex-wrap: wrap; align-items: center; gap: .45rem .6rem; margin: 0 0 1.25rem;
  font-weight: 700; font-size: 1.05rem; letter-spacing: .01em; color: var(--brand); }
.brand::before { content: ""; flex: none; width: 1.6rem; height: 1.6rem; border-radius: 8px;
  background: conic-gradient(from 200deg, #0f766e, #2bb3a0, #7fe0cf, #0f766e); }
.tag { white-space: nowrap; font-size: .7rem; font-weight: 700; line-height: 1.2; text-transform: uppercase;
  letter-spacing: .08em; background: var(--tag-bg); color: var(--tag-ink); padding: .3rem .6rem; border-radius: 999px; }
h1 { font-size: clamp(1.35rem, 4.5vw, 1.6rem); line-height: 1.25; letter-spacing: -.01em; margin: 0 0 1.5rem; text-wrap: balance; }
p { margin: 0 0 .75rem; }
fieldset { border: 0; padding: 0; margin: 0 0 1.5rem; min-width: 0; }
legend { padding: 0; margin-bottom: .55rem; font-weight: 700; }
.user { display: flex; gap: .8rem; align-items: center; margin-top: .5rem; padding: .7rem .9rem; cursor: pointer;
  background: var(--row); border: 1px solid var(--line); border-radius: 12px; transition: border-color .15s, background-color .15s; }
.user:hover { border-color: var(--accent); }
.user:has(input:checked) { background: var(--row-on); border-color: var(--accent); box-shadow: inset 0 0 0 1px var(--accent); }
.user input { flex: none; width: 1.2rem; height: 1.2rem; margin: 0; accent-color: var(--accent); cursor: pointer; }
.user input:focus-visible { outline: 3px solid var(--ring); outline-offset: 3px; }
.user span { flex: 1; display: flex; flex-wrap: wrap; align-items: baseline; justify-content: space-between; gap: .1rem .75rem; }
.user small { color: var(--muted); font-size: .875rem; }
.scopes { list-style: none; margin: 0 0 1.25rem; padding: 0; }
.scopes li { position: relative; padding-left: 1.9rem; margin-bottom: .4rem; }
.scopes li::before { content: "\2713"; content: "\2713" / ""; position: absolute; left: 0; top: .1rem; width: 1.3rem; height: 1.3rem;
  display: grid; place-items: center; border-radius: 50%; background: var(--accent); color: var(--on-accent);
  font-size: .75rem; font-weight: 700; line-height: 1; }
code { font: .85em/1.4 ui-monospace, "SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono", monospace;
  background: var(--code-bg); border: 1px solid var(--line); padding: .05rem .4rem; border-radius: 6px; }
.muted { color: var(--muted); font-size: .95rem; }
.muted strong { color: var(--ink); overflow-wrap: anywhere; }
#reason { font-weight: 600; }
.buttons { display: flex; flex-wrap: wrap; gap: .75rem; margin-top: 1.5rem; }
button { min-height: 2.75rem; padding: .7rem 1.5rem; font-weight: 700; line-height: 1.2; cursor: pointer;
  border-radius: 10px; border: 2px solid var(--accent); background: var(--accent); color: var(--on-accent);
  transition: background-color .15s, border-color .15s; }
button:hover { background: var(--accent-hover); border-color: var(--accent-hover); }
button.secondary { background: transparent; color: var(--secondary); border-color: var(--line); }
button.secondary:hover { background: var(--row-on); border-color: var(--accent); }
:focus-visible { outline: 3px solid var(--ring); outline-offset: 3px; }
.request { margin: 0 0 1rem; border: 1px solid var(--line); border-radius: 12px; background: var(--row); }
.request summary { min-height: 2.75rem; padding: .65rem .9rem; cursor: pointer; font-weight: 700; color: var(--secondary);
  border-radius: 12px; }
.request dl { margin: 0; padding: 0 .9rem .8rem; display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: .35rem .8rem; }
.request dt { font-weight: 700; }
.request dd { margin: 0; min-width: 0; overflow-wrap: anywhere; }
.request code { overflow-wrap: anywhere; }
@media (max-width: 480px) {
  body { place-items: start stretch; }
  .request dl { grid-template-columns: minmax(0, 1fr); }
  .buttons button { flex: 1 1 8rem; }
}
@media (prefers-reduced-motion: reduce) {
  .user, button { transition: none; }
}
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_carry_the_providers_own_name_and_escape_their_input() {
        let html = render(&ErrorPage {
            reason: "<script>x</script>",
        });
        assert!(html.contains(&format!("<title>{DISPLAY_NAME}: request refused</title>")));
        assert!(!html.contains("<script>"), "askama escapes HTML");
    }
}
