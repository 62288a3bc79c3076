//! `GET /`: the home page. Not connected: the "Connect Your Account" link, whose href is the
//! authorize URL with a fresh state and PKCE challenge. Connected: the provider, a link to the
//! photos and a logout button.

use std::{net::SocketAddr, sync::Arc};

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Extension, Router,
    extract::{ConnectInfo, RawQuery, State},
    http::{HeaderMap, header},
    routing::get,
};

use crate::{
    clock::now,
    form,
    session::AppSession,
    web::error::{AppError, Result},
    web::middleware::setup_check::HostMismatch,
    web::state::{AppState, ProviderName, WingLink},
};

pub fn router() -> Router<AppState> {
    // HEAD answers like GET without starting a sign-in: a link checker or a monitor probing the
    // home page must not create a session (axum would otherwise run the GET handler).
    let head = || async { [(header::CONTENT_TYPE, "text/html; charset=utf-8")] };
    Router::new().route("/", get(show_home).head(head))
}

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
struct HomePage {
    provider_name: ProviderName,
    /// The authorize URL when not connected.
    connect_url: Option<String>,
    /// The logout form's CSRF token when connected.
    logout_token: Option<String>,
    notice: Option<Notice>,
    /// The development banner: the browser is not at `APP_URL`.
    mismatch: Option<HostMismatch>,
    /// Whether the flow inspector has a record of this browser's last sign-in. // INSPECTOR
    has_flow: bool, // INSPECTOR
    /// Whether the Connect link goes through `/connect`, which pushes the request (PAR).
    pushed: bool,
    wing_links: Arc<[WingLink]>,
}

/// Shows the home page, starting a sign-in for a visitor who is not connected.
async fn show_home(
    headers: HeaderMap,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    State(state): State<AppState>,
    session: AppSession,
    RawQuery(query): RawQuery,
    mismatch: Option<Extension<HostMismatch>>,
) -> Result<HomePage> {
    let notice = match returned_state(query.as_deref()) {
        // Back from the provider's end-session endpoint (OIDC RP-Initiated Logout 1.0 §3): the
        // notice only for the state this browser's logout sent; any other, the plain page.
        // Boxed: rare, and kept out of the size of every home page's future.
        Some(sent) => match Box::pin(session.take_logout(&sent)).await? {
            Some(kept) => notice(Some(&format!("notice={kept}"))),
            None => None,
        },
        None => notice(query.as_deref()),
    };
    let mismatch = mismatch.map(|Extension(m)| m);
    let provider_name = state.settings.provider_name.clone();
    // Read only when the inspector is on: off, the home page costs what it always did. // INSPECTOR
    let has_flow = crate::web::inspect::has_flow(&state, &session).await?; // INSPECTOR

    if let Some(tokens) = session.tokens().await? {
        // Under the session's lock: a connected visitor's idle limit is pushed back here, and
        // the back-channel logout index with it.
        let idle = state.settings.session_idle;
        if session.renewal_due(idle).await? {
            session.renew(idle).await?;
            state.sessions.index_sign_in(&session, &tokens, idle).await;
        }
        return Ok(HomePage {
            provider_name,
            connect_url: None,
            logout_token: Some(session.logout_token().await?),
            notice,
            mismatch,
            has_flow, // INSPECTOR
            pushed: false,
            wing_links: state.settings.wing_links.clone(),
        });
    }

    // With PAR, the link goes to `/connect`, which pushes the request when it is followed: a
    // view costs no push and stores nothing (RFC 9126 §2.1).
    if state.oauth.uses_par() {
        return Ok(HomePage {
            provider_name,
            connect_url: Some("/connect".into()),
            logout_token: None,
            notice,
            mismatch,
            has_flow, // INSPECTOR
            pushed: true,
            wing_links: state.settings.wing_links.clone(),
        });
    }
    may_start_sign_in(&headers, peer, &state)?;

    // Every view makes a fresh state and verifier, kept server-side and keyed by state, so two
    // tabs can each sign in (the oldest are evicted beyond a small cap).
    let (url, login) = state.oauth.start(now());
    session
        .begin_login(login, state.settings.pending_login_ttl)
        .await?;
    Ok(HomePage {
        provider_name,
        connect_url: Some(url.to_string()),
        logout_token: None,
        notice,
        mismatch,
        has_flow, // INSPECTOR
        pushed: false,
        wing_links: state.settings.wing_links.clone(),
    })
}

/// Whether this request may start a sign-in (each one stores a pending login). Only a
/// top-level page navigation may: an `<img>`, a `fetch()` or an `<iframe>` (a navigation, but
/// into a frame: `Sec-Fetch-Dest: iframe`) aimed here from another site would otherwise make
/// each of its visitors' browsers store a session. And one client cannot fill the store with
/// pending logins: the per-client limit.
pub(super) fn may_start_sign_in(
    headers: &HeaderMap,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    state: &AppState,
) -> Result<()> {
    let fetch_is = |name: &str, wanted: &[u8]| {
        headers
            .get(name)
            .is_some_and(|value| value.as_bytes() != wanted)
    };
    if fetch_is("sec-fetch-mode", b"navigate") || fetch_is("sec-fetch-dest", b"document") {
        return Err(AppError::NotANavigation);
    }
    let peer = peer.map(|Extension(ConnectInfo(addr))| addr);
    if let Some(limit) = &state.signin_limit
        && !limit.allow(peer, headers)
    {
        return Err(AppError::TooManySignIns);
    }
    Ok(())
}

/// A notice above the home page: fixed text for a known `?notice=` value (and a number of
/// minutes, parsed as a number); anything else is ignored, never echoed.
struct Notice {
    /// `success` or `info`: the CSS class.
    kind: &'static str,
    text: String,
}

/// The `state` a provider's end-session endpoint sent back, if the query has one.
fn returned_state(query: Option<&str>) -> Option<String> {
    let params = form::parse_unique(query?, 1024).ok()?;
    params.get("state").cloned()
}

fn notice(query: Option<&str>) -> Option<Notice> {
    let params = form::parse_unique(query?, 1024).ok()?;
    let expire = match params.get("minutes").and_then(|m| m.parse::<u32>().ok()) {
        Some(1) => " in about a minute".to_owned(),
        Some(minutes) => format!(" in about {minutes} minutes"),
        None => String::new(),
    };
    let (kind, text) = match params.get("notice")?.as_str() {
        "signed-out" => (
            "success",
            "You are logged out. The provider was told to end this app's access.".to_owned(),
        ),
        "signed-out-unrevoked" => (
            "info",
            format!(
                "You are logged out here. The provider did not answer, so the access it gave \
                 this app ends on its own{expire}."
            ),
        ),
        "signed-out-local" => (
            "info",
            format!(
                "You are logged out here. This provider offers no way to end the app's access \
                 early; it ends on its own{expire}."
            ),
        ),
        "connect-first" => (
            "info",
            "Connect your account first to see your photos.".to_owned(),
        ),
        _ => return None,
    };
    Some(Notice { kind, text })
}

#[cfg(test)]
mod tests {
    use askama::Template;

    use super::{HomePage, ProviderName, notice};

    /// The visible text of the home page, tags dropped and spaces collapsed.
    fn text_of(name: Option<&str>, connected: bool) -> String {
        let page = HomePage {
            provider_name: ProviderName::new(name),
            connect_url: (!connected).then(|| "https://as.example/authorize".into()),
            logout_token: connected.then(|| "t".into()),
            notice: None,
            mismatch: None,
            has_flow: false, // INSPECTOR
            pushed: false,
            wing_links: Vec::new().into(),
        };
        let html = page.render().expect("renders");
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

    #[test]
    fn with_no_provider_name_the_pages_say_your_provider_in_good_english() {
        for connected in [false, true] {
            let text = text_of(None, connected);
            assert!(!text.contains("your your"), "{text}");
            assert!(!text.contains("Your your"), "{text}");
            assert!(
                !text.contains(". your provider"),
                "a sentence starts lower-case: {text}"
            );
        }
        let text = text_of(None, false);
        assert!(
            text.contains("Connect your account to see your photos here."),
            "{text}"
        );
        assert!(text.contains("Your provider sends you back"), "{text}");
        assert!(text_of(None, true).contains("Your photos are ready."));

        let named = text_of(Some("Acme Photos"), false);
        assert!(
            named.contains("Connect your Acme Photos account to see"),
            "{named}"
        );
        assert!(named.contains("Acme Photos sends you back"), "{named}");
        assert!(text_of(Some("Acme Photos"), true).contains("Your Acme Photos photos are ready."));
    }

    #[test]
    fn notices_are_fixed_text_for_known_values_only() {
        let n = notice(Some("notice=signed-out")).expect("known");
        assert_eq!(n.kind, "success");
        let n = notice(Some("notice=signed-out-unrevoked&minutes=42")).expect("known");
        assert_eq!(n.kind, "info");
        assert!(n.text.contains("did not answer") && n.text.ends_with("in about 42 minutes."));
        let n = notice(Some("notice=signed-out-local&minutes=1")).expect("known");
        assert!(n.text.ends_with("in about a minute."), "{}", n.text);
        let n = notice(Some("notice=signed-out-unrevoked&minutes=<b>")).expect("known");
        assert!(
            n.text.ends_with("on its own."),
            "a non-number is ignored: {}",
            n.text
        );
        let n = notice(Some("notice=connect-first")).expect("known");
        assert!(
            n.text.starts_with("Connect your account first"),
            "{}",
            n.text
        );
        assert!(notice(Some("notice=<script>")).is_none());
        assert!(notice(Some("notice=signed-out&notice=x")).is_none());
        assert!(notice(None).is_none());
    }
}
