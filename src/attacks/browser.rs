//! A scripted browser for the attacks: real HTTP requests to this app and the demo provider,
//! cookies kept per origin as a browser keeps them (its own, shared with no other browser), no
//! redirect followed so each attack sees every answer, and a transcript of what it sent, codes
//! masked.

use std::sync::{Arc, Mutex};

use reqwest::{Client, Method, header};
use url::Url;

/// What the browsers of one attack sent and got, one line each, in order.
pub type Transcript = Arc<Mutex<Vec<String>>>;

/// What came back: the status, where it points, the page's title (its `<h1>`) or an OAuth
/// error code, and the body.
pub struct Answer {
    pub status: u16,
    pub location: Option<Url>,
    pub body: String,
}

impl Answer {
    /// The `<h1>` of an HTML page, the `error` of an OAuth JSON answer, or the `error`
    /// parameter of a redirect: what the answer says, in a few words.
    pub fn says(&self) -> String {
        if let Some(error) = self.location.as_ref().and_then(|l| query(l, "error")) {
            return format!("redirected with error={error}");
        }
        if let Ok(json) = serde_json::from_str::<serde_json::Value>(&self.body)
            && let Some(error) = json["error"].as_str()
        {
            return format!("error={error}");
        }
        let title = self
            .body
            .split_once("<h1")
            .and_then(|(_, rest)| rest.split_once('>'))
            .and_then(|(_, rest)| rest.split_once("</h1>"))
            .map(|(title, _)| without_tags(title));
        title.unwrap_or_default()
    }

    /// `HTTP 400 · This sign-in was not started here`, `HTTP 303 to /photos`.
    pub fn summary(&self) -> String {
        match (self.says(), &self.location) {
            (says, Some(to)) if says.is_empty() => format!("HTTP {} to {}", self.status, to.path()),
            (says, _) if says.is_empty() => format!("HTTP {}", self.status),
            (says, _) => format!("HTTP {} · {says}", self.status),
        }
    }
}

/// One browser: its own cookies, by origin, shared with no other browser.
pub struct Browser<'a> {
    http: &'a Client,
    app: &'a Url,
    /// `(origin, name, value)`, as the servers set them.
    cookies: Vec<(String, String, String)>,
    transcript: Transcript,
    /// Who this browser is in the transcript ("victim", "attacker").
    who: &'static str,
}

impl<'a> Browser<'a> {
    pub fn new(http: &'a Client, app: &'a Url, who: &'static str, transcript: &Transcript) -> Self {
        Self {
            http,
            app,
            cookies: Vec::new(),
            transcript: transcript.clone(),
            who,
        }
    }

    /// Plants `other`'s cookies for this app in this browser (what a session fixation attack
    /// does).
    pub fn plant_cookie_of(&mut self, other: &Browser<'_>) {
        let app = self.app.origin().ascii_serialization();
        self.cookies.retain(|(origin, ..)| *origin != app);
        let planted = other.cookies.iter().filter(|(origin, ..)| *origin == app);
        self.cookies.extend(planted.cloned());
    }

    pub async fn get(&mut self, url: &Url) -> anyhow::Result<Answer> {
        self.send(Method::GET, url, None, None).await
    }

    /// A form POST, with `origin` as its `Origin` header (a browser always sends one).
    pub async fn post(
        &mut self,
        url: &Url,
        fields: &[(&str, &str)],
        origin: &str,
    ) -> anyhow::Result<Answer> {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        self.send(Method::POST, url, Some(body), Some(origin)).await
    }

    async fn send(
        &mut self,
        method: Method,
        url: &Url,
        form: Option<String>,
        origin: Option<&str>,
    ) -> anyhow::Result<Answer> {
        let origin_of_url = url.origin().ascii_serialization();
        let mut request = self.http.request(method.clone(), url.clone());
        let cookie: Vec<String> = self
            .cookies
            .iter()
            .filter(|(origin, ..)| *origin == origin_of_url)
            .map(|(_, name, value)| format!("{name}={value}"))
            .collect();
        if !cookie.is_empty() {
            request = request.header(header::COOKIE, cookie.join("; "));
        }
        if let Some(origin) = origin {
            request = request.header(header::ORIGIN, origin);
        }
        if let Some(form) = form {
            request = request
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(form);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        for set in response.headers().get_all(header::SET_COOKIE) {
            let pair = set.to_str().unwrap_or_default().split(';').next();
            if let Some((name, value)) = pair.and_then(|p| p.split_once('=')) {
                let (name, value) = (name.trim().to_owned(), value.trim().to_owned());
                self.cookies
                    .retain(|(origin, n, _)| !(*origin == origin_of_url && *n == name));
                if !value.is_empty() {
                    self.cookies.push((origin_of_url.clone(), name, value));
                }
            }
        }
        let location = response
            .headers()
            .get(header::LOCATION)
            .and_then(|l| l.to_str().ok())
            .and_then(|l| url.join(l).ok());
        let body = response.text().await.unwrap_or_default();
        let answer = Answer {
            status,
            location,
            body,
        };
        let line = format!(
            "{}: {method} {} → {}",
            self.who,
            shown(url),
            answer.summary()
        );
        if let Ok(mut transcript) = self.transcript.lock() {
            transcript.push(line);
        }
        Ok(answer)
    }
}

/// An HTML fragment's text: tags dropped, spaces collapsed (askama escapes it again).
fn without_tags(html: &str) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A query parameter's value.
pub fn query(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.into_owned())
}

/// `url` with `name` set to `value` (or removed, with `None`), the other parameters in order.
pub fn with_param(url: &Url, name: &str, value: Option<&str>) -> Url {
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(n, _)| n != name)
        .map(|(n, v)| (n.into_owned(), v.into_owned()))
        .collect();
    let mut out = url.clone();
    out.query_pairs_mut()
        .clear()
        .extend_pairs(pairs)
        .extend_pairs(value.map(|v| (name, v)));
    out
}

/// A URL as the transcript shows it: codes, verifiers and request URIs as a prefix only.
fn shown(url: &Url) -> String {
    let mut out = url.clone();
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(n, v)| match n.as_ref() {
            "code" | "code_verifier" | "request_uri" => {
                let prefix: String = v.chars().take(6).collect();
                (n.into_owned(), format!("{prefix}…"))
            }
            _ => (n.into_owned(), v.into_owned()),
        })
        .collect();
    if !pairs.is_empty() {
        out.query_pairs_mut().clear().extend_pairs(pairs);
    }
    let text = out.to_string();
    text.replace("%E2%80%A6", "…")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, location: Option<&str>, body: &str) -> Answer {
        Answer {
            status,
            location: location.map(|l| Url::parse(l).expect("url")),
            body: body.into(),
        }
    }

    #[test]
    fn an_answer_says_its_redirect_error_its_oauth_error_or_its_title() {
        let redirect = answer(
            303,
            Some("https://app.example/cb?error=invalid_request&state=s"),
            "",
        );
        assert_eq!(
            redirect.summary(),
            "HTTP 303 · redirected with error=invalid_request"
        );
        let json = answer(
            400,
            None,
            r#"{"error":"invalid_grant","error_description":"x"}"#,
        );
        assert_eq!(json.summary(), "HTTP 400 · error=invalid_grant");
        let page = answer(
            200,
            None,
            "<h1 id=\"t\">\n <strong>app</strong>  wants\n</h1>",
        );
        assert_eq!(page.summary(), "HTTP 200 · app wants");
        assert_eq!(answer(204, None, "").summary(), "HTTP 204");
        let to = answer(303, Some("http://app.example/photos"), "");
        assert_eq!(to.summary(), "HTTP 303 to /photos");
    }

    #[test]
    fn parameters_are_replaced_or_removed_and_codes_shown_as_a_prefix() {
        let url = Url::parse("https://app.example/cb?code=AbCdEfGhIj&state=s&iss=i").expect("url");
        let forged = with_param(&url, "state", Some("x y"));
        assert_eq!(query(&forged, "state").as_deref(), Some("x y"));
        assert_eq!(query(&forged, "code").as_deref(), Some("AbCdEfGhIj"));
        assert_eq!(query(&with_param(&url, "iss", None), "iss"), None);
        assert_eq!(
            shown(&url),
            "https://app.example/cb?code=AbCdEf…&state=s&iss=i"
        );
    }
}
