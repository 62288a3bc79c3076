//! RFC 8414 metadata (A01–A02), and no CORS anywhere (A22).

use reqwest::{Method, StatusCode, header};
use serde_json::Value;

use crate::helpers::*;

#[tokio::test]
async fn a01_metadata_describes_a_code_and_pkce_s256_only_server() {
    let provider = spawn().await;
    let url = provider.url("/.well-known/oauth-authorization-server");
    let reply = Reply::from(provider.http.get(&url).send().await.expect("get")).await;

    assert_eq!(reply.status, StatusCode::OK);
    assert!(
        reply
            .header(header::CONTENT_TYPE)
            .is_some_and(|t| t.starts_with("application/json"))
    );
    let meta = &reply.json;
    // Identical to the base the well-known URL was built from; loopback http (demo only).
    assert_eq!(meta["issuer"], provider.issuer.as_str());
    let issuer = url::Url::parse(&provider.issuer).expect("issuer is a URL");
    assert!(issuer.query().is_none() && issuer.fragment().is_none());
    assert_eq!(issuer.host_str(), Some("127.0.0.1"));
    for (name, path) in [
        ("authorization_endpoint", "/oauth/authorize"),
        ("token_endpoint", "/oauth/token"),
        ("revocation_endpoint", "/oauth/revoke"),
    ] {
        assert_eq!(meta[name], provider.url(path).as_str(), "{name}");
    }
    assert_eq!(
        meta["response_types_supported"],
        serde_json::json!(["code"])
    );
    assert_eq!(
        meta["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    let grants = meta["grant_types_supported"].as_array().expect("grants");
    for forbidden in ["password", "implicit", "client_credentials"] {
        assert!(!grants.iter().any(|g| g == forbidden), "{forbidden}");
    }
    assert!(
        meta["token_endpoint_auth_methods_supported"]
            .as_array()
            .is_some_and(|m| m.iter().any(|x| x == "client_secret_basic"))
    );
    assert_eq!(meta["authorization_response_iss_parameter_supported"], true);
    // RFC 8414 §3.2: claims with zero elements are omitted.
    for (name, value) in meta.as_object().expect("an object") {
        assert!(
            !matches!(value, Value::Array(a) if a.is_empty()),
            "{name} is an empty array"
        );
    }
}

#[tokio::test]
async fn a02_metadata_refuses_post() {
    let provider = spawn().await;
    let url = provider.url("/.well-known/oauth-authorization-server");
    let response = provider.http.post(&url).send().await.expect("post");
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn a22_no_endpoint_answers_with_cors_headers() {
    let provider = spawn().await;
    let (access, _) = provider.tokens().await;
    let evil = "https://evil.example";
    let authorize = format!(
        "{}?{}",
        provider.url("/oauth/authorize"),
        AuthRequest::new().query()
    );
    let requests = [
        provider.http.get(&authorize),
        provider.http.request(Method::OPTIONS, &authorize),
        provider
            .http
            .post(provider.url("/oauth/token"))
            .form(&[("grant_type", "authorization_code")]),
        provider
            .http
            .request(Method::OPTIONS, provider.url("/oauth/token"))
            .header("access-control-request-method", "POST"),
        provider
            .http
            .get(provider.url("/api/photos"))
            .bearer_auth(&access),
        provider
            .http
            .get(provider.url("/.well-known/oauth-authorization-server")),
    ];
    for request in requests {
        let response = request
            .header(header::ORIGIN, evil)
            .send()
            .await
            .expect("send");
        let url = response.url().path().to_owned();
        let cors: Vec<_> = response
            .headers()
            .keys()
            .filter(|k| k.as_str().starts_with("access-control-"))
            .collect();
        assert!(cors.is_empty(), "{url}: {cors:?}");
    }
}
