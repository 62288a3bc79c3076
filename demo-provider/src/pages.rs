//! The provider's own HTML pages (consent and error), with their own look so a person sees they
//! have left the client's site, and headers that keep them out of frames (RFC 9700 §4.16).

use askama::Template;
use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Response},
};

use crate::{DISPLAY_NAME, photos::DemoUser};

#[derive(Template)]
#[template(
    ext = "html",
    source = r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Sign in to {{ crate::DISPLAY_NAME }}</title>
  <link rel="stylesheet" href="/assets/provider.css">
</head>
<body>
  <main class="panel" aria-labelledby="consent-title">
    <p class="brand">{{ crate::DISPLAY_NAME }} <span class="tag">demo authorization server</span></p>
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
        {% for s in scope %}<li>{% if s == "photos" %}See your photos{% else %}See your basic profile{% endif %} <code>{{ s }}</code></li>{% endfor %}
      </ul>
      <p class="muted">You will be sent back to <strong>{{ return_origin }}</strong>.</p>
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
  <title>{{ crate::DISPLAY_NAME }}: request refused</title>
  <link rel="stylesheet" href="/assets/provider.css">
</head>
<body>
  <main class="panel" aria-labelledby="error-title">
    <p class="brand">{{ crate::DISPLAY_NAME }} <span class="tag">demo authorization server</span></p>
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

/// `GET /assets/provider.css`: the provider's own look (dark, teal), unlike any client's.
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
:root { font-family: Georgia, "Iowan Old Style", "Times New Roman", serif; color: #e8f4f2; background: #0c2a2a; line-height: 1.5; }
body { margin: 0; min-height: 100vh; display: grid; place-items: center; padding: 1rem; box-sizing: border-box;
  background: radial-gradient(circle at 20% 10%, #17504d, #0c2a2a 60%); }
.panel { box-sizing: border-box; width: 100%; max-width: 460px; background: #10393a; border: 1px solid #2b6b66; border-radius: 18px; padding: 2rem; box-shadow: 0 20px 50px rgba(0,0,0,.35); }
.brand { font-weight: 700; letter-spacing: .04em; color: #7fe0cf; margin: 0 0 1rem; }
.tag { font: 600 .7rem system-ui, sans-serif; text-transform: uppercase; letter-spacing: .08em; background: #1f5a56; color: #cdf3ec; padding: .2rem .5rem; border-radius: 999px; margin-left: .4rem; }
h1 { font-size: 1.5rem; line-height: 1.25; margin: 0 0 1.25rem; }
fieldset { border: 1px solid #2b6b66; border-radius: 12px; padding: .75rem 1rem; margin: 0 0 1rem; }
legend { padding: 0 .4rem; color: #a9d9d1; }
.user { display: flex; gap: .6rem; align-items: center; padding: .45rem .25rem; cursor: pointer; }
.user small { color: #a9d9d1; }
.scopes { margin: 0 0 1rem; padding-left: 1.2rem; }
code { background: #0c2a2a; padding: .05rem .35rem; border-radius: 6px; font-size: .85em; }
.muted { color: #a9d9d1; font-size: .95rem; }
.buttons { display: flex; gap: .75rem; margin-top: 1.25rem; }
button { font: 700 1rem system-ui, sans-serif; padding: .75rem 1.5rem; border-radius: 10px; border: 2px solid #7fe0cf; background: #7fe0cf; color: #0c2a2a; cursor: pointer; }
button.secondary { background: transparent; color: #e8f4f2; border-color: #5fa39a; }
button:hover { filter: brightness(1.1); }
:focus-visible { outline: 3px solid #ffd166; outline-offset: 3px; }
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
