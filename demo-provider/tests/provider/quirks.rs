//! Quirk modes: each switch changes exactly what it says, and all are off by default.

use demo_provider::{DemoSettings, Quirks};
use reqwest::StatusCode;

use crate::helpers::*;

async fn with_quirks(quirks: Quirks) -> Provider {
    spawn_with(DemoSettings {
        quirks,
        ..settings()
    })
    .await
}

/// A token response for scope `photos profile`.
async fn token_response(provider: &Provider) -> Reply {
    let request = AuthRequest::new().set("scope", "photos profile");
    let code = provider.code_for(&request).await;
    provider.redeem(&code, &request.pkce.verifier).await
}

#[tokio::test]
async fn quirks_are_off_by_default() {
    assert_eq!(DemoSettings::for_tests().quirks, Quirks::default());
    let provider = spawn().await;
    let reply = token_response(&provider).await;
    assert_eq!(reply.json["expires_in"], 3600);
    assert_eq!(reply.json["scope"], "photos profile");
    let bad = provider.redeem("unknown", &Pkce::new().verifier).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn quirk_error_200_sends_token_errors_with_http_200() {
    let provider = with_quirks(Quirks {
        error_with_200: true,
        ..Quirks::default()
    })
    .await;
    let reply = provider.redeem("unknown", &Pkce::new().verifier).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.error(), "invalid_grant");
    let reply = provider
        .token_as(CLIENT_ID, "wrong", &[("grant_type", "x")])
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.error(), "invalid_client");
    // Successes are unchanged.
    assert!(token_response(&provider).await.json["access_token"].is_string());
}

#[tokio::test]
async fn quirk_expires_in_string_sends_a_json_string() {
    let provider = with_quirks(Quirks {
        expires_in_as_string: true,
        ..Quirks::default()
    })
    .await;
    let reply = token_response(&provider).await;
    assert_eq!(reply.json["expires_in"], "3600");
    let (_, rt) = provider.tokens().await;
    assert_eq!(provider.refresh(&rt).await.json["expires_in"], "3600");
}

#[tokio::test]
async fn quirk_scope_commas_separates_scopes_with_commas() {
    let provider = with_quirks(Quirks {
        comma_separated_scope: true,
        ..Quirks::default()
    })
    .await;
    let reply = token_response(&provider).await;
    assert_eq!(reply.json["scope"], "photos,profile");
}

#[tokio::test]
async fn quirk_no_expires_in_omits_it() {
    let provider = with_quirks(Quirks {
        omit_expires_in: true,
        ..Quirks::default()
    })
    .await;
    let reply = token_response(&provider).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.json.get("expires_in").is_none(), "{}", reply.body);
}

#[tokio::test]
async fn quirk_no_iss_drops_iss_and_stops_advertising_it() {
    let provider = with_quirks(Quirks {
        omit_iss: true,
        ..Quirks::default()
    })
    .await;
    let consent = provider.open_consent(&AuthRequest::new()).await;
    let success = provider.answer(&consent, "alice", "approve").await;
    let error = provider
        .authorize(&AuthRequest::new().set("scope", "admin"))
        .await;
    for reply in [success, error] {
        assert_eq!(reply.status, StatusCode::SEE_OTHER);
        assert!(!reply.params().contains_key("iss"), "{}", reply.location());
    }
    let meta = Reply::from(
        provider
            .http
            .get(provider.url("/.well-known/oauth-authorization-server"))
            .send()
            .await
            .expect("metadata"),
    )
    .await;
    assert_eq!(
        meta.json["authorization_response_iss_parameter_supported"],
        false
    );
}

#[test]
fn quirks_come_from_demo_provider_quirks() {
    let settings = DemoSettings::from_lookup(|name| {
        (name == "DEMO_PROVIDER_QUIRKS").then(|| "error-200, scope-commas,no_iss".to_owned())
    })
    .expect("valid");
    assert_eq!(
        settings.quirks,
        Quirks {
            error_with_200: true,
            comma_separated_scope: true,
            omit_iss: true,
            ..Quirks::default()
        }
    );
    let err = DemoSettings::from_lookup(|name| {
        (name == "DEMO_PROVIDER_QUIRKS").then(|| "no-iss,bogus".to_owned())
    })
    .expect_err("an unknown quirk is refused");
    assert!(format!("{err:#}").contains("bogus"), "{err:#}");
}
