//! One virtual browser: a cookie jar of its own on a shared HTTP client, the headers a browser
//! sends on a top-level navigation, and the two bits of HTML the flow reads (the Connect link
//! and the consent form's transaction field).

use std::{
    net::{IpAddr, SocketAddr},
    sync::Arc,
    time::Duration,
};

use anyhow::{Context, bail};
use reqwest::{
    Client, Method, Response, StatusCode,
    cookie::{CookieStore, Jar},
    header::{self, HeaderValue},
};
use url::Url;

/// What Chromium sends as `Accept` on a navigation.
const ACCEPT_HTML: &str =
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8";
const USER_AGENT: &str = "Mozilla/5.0 (X11; Linux x86_64) loadgen/0.1 (photo-connect benchmark)";

/// The shared client: no redirects (each hop is timed by the caller), no proxy, keep-alive, and
/// `local` as the source address so the loadgen's own sockets are told apart from the app's.
pub fn client(local: Option<IpAddr>, pool_size: usize) -> anyhow::Result<Client> {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .local_address(local)
        // `localhost` is the app's site; skip the resolver (and an IPv6 first try).
        .resolve("localhost", SocketAddr::from(([127, 0, 0, 1], 0)))
        .pool_max_idle_per_host(pool_size)
        .timeout(Duration::from_secs(30))
        .user_agent(USER_AGENT)
        .build()
        .context("cannot build the HTTP client")
}

/// `Sec-Fetch-Site` of a navigation: typed in, from the same origin, or from another site.
#[derive(Clone, Copy, Debug)]
pub enum SecFetchSite {
    None,
    SameOrigin,
    CrossSite,
}

impl SecFetchSite {
    fn header(self) -> &'static str {
        match self {
            SecFetchSite::None => "none",
            SecFetchSite::SameOrigin => "same-origin",
            SecFetchSite::CrossSite => "cross-site",
        }
    }
}

/// One person's browser: the shared client and a jar of its own.
pub struct Browser {
    client: Client,
    jar: Option<Arc<Jar>>,
}

impl Browser {
    /// A fresh browser with an empty jar; `cookies: false` never stores nor sends any.
    pub fn new(client: Client, cookies: bool) -> Self {
        let jar = cookies.then(|| Arc::new(Jar::default()));
        Self { client, jar }
    }

    /// A top-level navigation to `url` (a `GET`, or a form `POST` with `form`).
    pub async fn navigate(
        &self,
        url: &Url,
        site: SecFetchSite,
        form: Option<&[(&str, &str)]>,
    ) -> anyhow::Result<Response> {
        let method = if form.is_some() {
            Method::POST
        } else {
            Method::GET
        };
        let mut request = self
            .client
            .request(method, url.clone())
            .header(header::ACCEPT, ACCEPT_HTML)
            .header(header::ACCEPT_LANGUAGE, "en-US,en;q=0.9")
            .header("sec-fetch-mode", "navigate")
            .header("sec-fetch-dest", "document")
            .header("sec-fetch-site", site.header())
            .header("sec-fetch-user", "?1")
            .header("upgrade-insecure-requests", "1");
        if let Some(jar) = &self.jar
            && let Some(cookies) = jar.cookies(url)
        {
            request = request.header(header::COOKIE, cookies);
        }
        if let Some(fields) = form {
            // The consent page is `Referrer-Policy: no-referrer`: browsers send `Origin: null`.
            request = request.header(header::ORIGIN, "null").form(fields);
        }
        let response = request.send().await?;
        if let Some(jar) = &self.jar {
            let mut set = response
                .headers()
                .get_all(header::SET_COOKIE)
                .iter()
                .filter(|v: &&HeaderValue| !v.is_empty());
            jar.set_cookies(&mut set, url);
        }
        Ok(response)
    }
}

/// The body of a `200` response, or an error naming the status and the start of the body.
pub async fn expect_page(response: Response) -> anyhow::Result<String> {
    let status = response.status();
    let body = response.text().await.context("reading the body")?;
    if status != StatusCode::OK {
        bail!("HTTP {status}: {}", snippet(&body));
    }
    Ok(body)
}

/// The `Location` of a `303`/`302` response resolved against `base` (the body is drained).
pub async fn expect_redirect(response: Response, base: &Url) -> anyhow::Result<Url> {
    let status = response.status();
    let location = response
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = response.text().await.unwrap_or_default();
    match location {
        Some(location) if status.is_redirection() => {
            base.join(&location).context("a bad Location header")
        }
        _ => bail!("HTTP {status}, expected a redirect: {}", snippet(&body)),
    }
}

/// The first `href="…"` of the element with `id="connect"`, HTML-unescaped.
pub fn connect_href(html: &str) -> Option<String> {
    let at = html.find("id=\"connect\"")?;
    let tag_start = html[..at].rfind('<')?;
    let tag = &html[tag_start..tag_start + html[tag_start..].find('>')?];
    attribute(tag, "href")
}

/// The value of the hidden `transaction` field of the consent form.
pub fn transaction_field(html: &str) -> Option<String> {
    let at = html.find("name=\"transaction\"")?;
    let tag_start = html[..at].rfind('<')?;
    let tag = &html[tag_start..tag_start + html[tag_start..].find('>')?];
    attribute(tag, "value")
}

/// `name="value"` inside one tag, with the HTML entities a template escapes undone.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let needle = format!("{name}=\"");
    let start = tag.find(&needle)? + needle.len();
    let end = start + tag[start..].find('"')?;
    Some(unescape(&tag[start..end]))
}

/// Undoes HTML character references: the five named ones a template writes, and numeric ones
/// (`&#38;`, `&#x26;`). Anything else is kept as it is.
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let decoded = rest.find(';').and_then(|end| {
            let name = &rest[1..end];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => match name.strip_prefix("#x").or_else(|| name.strip_prefix("#X")) {
                    Some(hex) => u32::from_str_radix(hex, 16).ok().and_then(char::from_u32),
                    None => name
                        .strip_prefix('#')?
                        .parse()
                        .ok()
                        .and_then(char::from_u32),
                },
            }?;
            Some((c, end + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// At most 160 characters of a body, on one line, for an error message.
pub fn snippet(body: &str) -> String {
    let flat: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    flat.chars().take(160).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_connect_link_and_the_transaction() {
        let home = r#"<p><a id="connect" class="button" href="http://127.0.0.1:3001/oauth/authorize?a=1&amp;b=&#x2f;x&#38;c=&z">Go</a>"#;
        assert_eq!(
            connect_href(home).as_deref(),
            Some("http://127.0.0.1:3001/oauth/authorize?a=1&b=/x&c=&z")
        );
        let consent =
            r#"<form><input type="hidden" name="transaction" value="t-1_x"><input name="user">"#;
        assert_eq!(transaction_field(consent).as_deref(), Some("t-1_x"));
        assert_eq!(connect_href("<a href=\"/x\">no id</a>"), None);
    }
}
