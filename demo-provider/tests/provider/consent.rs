//! The consent page and its answer (A18–A21): bound to the browser that saw it, never framed,
//! answered with a 303 that its own CSP lets the browser follow.

use reqwest::{StatusCode, header};

use crate::helpers::*;

/// A refused consent answer: 403 page, no redirect, no code.
fn assert_forbidden(provider: &Provider, reply: &Reply) {
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
    assert!(reply.header(header::LOCATION).is_none());
    assert!(provider.state.tables().codes.is_empty(), "no code minted");
}

#[tokio::test]
async fn a18_consent_without_the_browser_cookie_is_forbidden() {
    let provider = spawn().await;
    let consent = provider.open_consent(&AuthRequest::new()).await;
    let form = [
        ("transaction", consent.transaction.as_str()),
        ("user", "alice"),
        ("decision", "approve"),
    ];
    let reply = provider.post_consent(&form, None, None).await;
    assert_forbidden(&provider, &reply);
    // A forged answer does not use up the real one.
    let reply = provider.answer(&consent, "alice", "approve").await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a18_consent_without_a_transaction_is_forbidden() {
    let provider = spawn().await;
    let consent = provider.open_consent(&AuthRequest::new()).await;
    let reply = provider
        .post_consent(
            &[("user", "alice"), ("decision", "approve")],
            Some(&consent.cookie),
            None,
        )
        .await;
    assert_forbidden(&provider, &reply);
    let reply = provider
        .post_consent(
            &[
                ("transaction", "made-up"),
                ("user", "alice"),
                ("decision", "approve"),
            ],
            Some(&consent.cookie),
            None,
        )
        .await;
    assert_forbidden(&provider, &reply);
}

#[tokio::test]
async fn a18_consent_with_another_browsers_transaction_is_forbidden() {
    let provider = spawn().await;
    let victim = provider.open_consent(&AuthRequest::new()).await;
    let attacker = provider.open_consent(&AuthRequest::new()).await;
    assert_ne!(victim.cookie, attacker.cookie);
    let forged = Consent {
        transaction: victim.transaction.clone(),
        cookie: attacker.cookie.clone(),
    };
    let reply = provider.answer(&forged, "alice", "approve").await;
    assert_forbidden(&provider, &reply);
    // Both real answers still work.
    for consent in [&victim, &attacker] {
        let reply = provider.answer(consent, "alice", "approve").await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER);
    }
}

#[tokio::test]
async fn a18_cross_site_consent_posts_are_forbidden() {
    let provider = spawn().await;
    let consent = provider.open_consent(&AuthRequest::new()).await;
    let form = [
        ("transaction", consent.transaction.as_str()),
        ("user", "alice"),
        ("decision", "approve"),
    ];
    let post = |origin: Option<&'static str>, fetch_site: Option<&'static str>| {
        let mut request = provider
            .http
            .post(provider.url("/oauth/authorize"))
            .form(&form)
            .header(header::COOKIE, &consent.cookie);
        if let Some(origin) = origin {
            request = request.header(header::ORIGIN, origin);
        }
        if let Some(site) = fetch_site {
            request = request.header("sec-fetch-site", site);
        }
        request.send()
    };
    // Even with the right cookie (which a real cross-site form would not carry).
    for (origin, fetch_site) in [
        (Some("https://evil.example"), None),
        (Some("http://localhost:1"), None),
        (None, Some("cross-site")),
        (None, Some("same-site")),
        (Some("null"), Some("cross-site")),
        (Some("https://evil.example"), Some("same-origin")),
    ] {
        let reply = Reply::from(post(origin, fetch_site).await.expect("post")).await;
        assert_forbidden(&provider, &reply);
    }
    // What a browser sends from the consent page itself: its no-referrer policy turns Origin
    // into "null", and fetch metadata says same-origin.
    let reply = Reply::from(post(Some("null"), Some("same-origin")).await.expect("post")).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
}

#[tokio::test]
async fn a19_provider_pages_cannot_be_framed() {
    let provider = spawn().await;
    let consent_page = provider.authorize(&AuthRequest::new()).await;
    let error_page = provider
        .authorize(&AuthRequest::new().set("client_id", "nope"))
        .await;
    let forbidden_page = provider
        .post_consent(&[("transaction", "x")], None, None)
        .await;
    for (what, page) in [
        ("consent", &consent_page),
        ("error", &error_page),
        ("forbidden", &forbidden_page),
    ] {
        assert_eq!(page.header(header::X_FRAME_OPTIONS), Some("DENY"), "{what}");
        let csp = page.header(header::CONTENT_SECURITY_POLICY).unwrap_or("");
        assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
        assert_eq!(
            page.header(header::X_CONTENT_TYPE_OPTIONS),
            Some("nosniff"),
            "{what}"
        );
        assert_eq!(
            page.header(header::CACHE_CONTROL),
            Some("no-store"),
            "{what}"
        );
    }
}

#[tokio::test]
async fn a20_approve_is_a_303_that_the_consent_pages_form_action_allows() {
    let provider = spawn().await;
    let page = provider.authorize(&AuthRequest::new()).await;
    let csp = page.header(header::CONTENT_SECURITY_POLICY).unwrap_or("");
    let form_action = csp
        .split(';')
        .map(str::trim)
        .find(|d| d.starts_with("form-action"))
        .expect("a form-action directive");
    assert!(
        form_action
            .split_whitespace()
            .any(|s| s == "https://client.example"),
        "the redirect URI's origin: {form_action}"
    );

    let consent = Consent {
        transaction: hidden_value(&page.body, "transaction").expect("transaction"),
        cookie: set_cookie(&page.headers, "demo_as_browser").expect("cookie"),
    };
    let reply = provider.answer(&consent, "alice", "approve").await;
    // 303, never 307: the form body (the person's answer) is not re-posted to the client.
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert!(reply.location().as_str().starts_with(REDIRECT_URI));
    assert_eq!(reply.header(header::CACHE_CONTROL), Some("no-store"));
}

#[tokio::test]
async fn a21_consent_page_sends_no_referrer_and_loads_nothing_third_party() {
    let provider = spawn().await;
    let page = provider.authorize(&AuthRequest::new()).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.header(header::REFERRER_POLICY), Some("no-referrer"));
    for attribute in ["src=\"", "href=\"", "action=\""] {
        for (i, _) in page.body.match_indices(attribute) {
            let value = &page.body[i + attribute.len()..];
            assert!(
                value.starts_with('/'),
                "{attribute}… must be same-origin: {}",
                &value[..value.len().min(40)]
            );
        }
    }
    let consent = provider.open_consent(&AuthRequest::new()).await;
    let reply = provider.answer(&consent, "alice", "approve").await;
    assert_eq!(reply.header(header::REFERRER_POLICY), Some("no-referrer"));
}

#[tokio::test]
async fn the_consent_page_shows_folded_away_what_the_client_asked_for() {
    let provider = spawn().await;
    let request = AuthRequest::new();
    let reply = provider.authorize_raw(&request.query(), None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let details = reply
        .body
        .split(r#"<details class="request" id="request-details">"#)
        .nth(1)
        .and_then(|rest| rest.split("</details>").next())
        .expect("a closed <details> block");
    assert!(details.contains("<summary>What the app asked for</summary>"));
    for value in [CLIENT_ID, "photos", "S256", request.pkce.challenge.as_str()] {
        assert!(details.contains(value), "{value} in {details}");
    }
    let escaped_redirect = REDIRECT_URI.replace('/', "&#x2f;");
    assert!(
        details.contains(REDIRECT_URI) || details.contains(&escaped_redirect),
        "the redirect URI in {details}"
    );
    assert!(details.contains("sent; it goes back unchanged"), "state");
    assert!(
        !details.contains("st-123"),
        "the state's value is not shown"
    );
}

#[tokio::test]
async fn two_consent_screens_in_one_browser_share_its_binding_and_both_can_be_answered() {
    let provider = spawn().await;
    let first = provider.open_consent(&AuthRequest::new()).await;
    let second = provider
        .open_consent_in(&AuthRequest::new(), Some(&first.cookie))
        .await;
    assert_eq!(
        second.cookie, first.cookie,
        "the browser keeps the binding it holds"
    );
    for consent in [&first, &second] {
        let reply = provider.answer(consent, "alice", "approve").await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
        assert!(reply.params().contains_key("code"));
    }
}

#[tokio::test]
async fn a_browser_binding_that_is_not_one_of_ours_is_replaced() {
    let provider = spawn().await;
    let odd = "demo_as_browser=short";
    let consent = provider
        .open_consent_in(&AuthRequest::new(), Some(odd))
        .await;
    assert_ne!(consent.cookie, odd);
    assert_eq!(
        consent.cookie.len(),
        "demo_as_browser=".len() + 43,
        "a fresh 43-character binding: {}",
        consent.cookie
    );
}
