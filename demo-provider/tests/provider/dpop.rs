//! DPoP (RFC 9449) at the token endpoint and the photos API: proofs made here with p256, every
//! rule of section 4.3 broken once, key-bound tokens, the nonce, refresh, and Bearer unchanged.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64};
use demo_provider::DemoSettings;
use p256::ecdsa::{Signature, SigningKey, signature::Signer};
use rand::RngCore;
use reqwest::{StatusCode, header};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::*;

/// A client's DPoP key pair (ES256).
struct Key {
    signing: SigningKey,
}

impl Key {
    fn new() -> Self {
        Self {
            signing: SigningKey::random(&mut rand::rngs::OsRng),
        }
    }

    /// The public JWK, as a client puts it in the proof header.
    fn jwk(&self) -> Value {
        let point = self.signing.verifying_key().to_encoded_point(false);
        let (x, y) = (point.x().expect("x"), point.y().expect("y"));
        json!({ "kty": "EC", "crv": "P-256", "x": B64.encode(x), "y": B64.encode(y) })
    }

    /// Its RFC 7638 thumbprint, computed here from the JWK members.
    fn jkt(&self) -> String {
        let jwk = self.jwk();
        let canonical = format!(
            r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
            jwk["x"].as_str().expect("x"),
            jwk["y"].as_str().expect("y")
        );
        B64.encode(Sha256::digest(canonical.as_bytes()))
    }

    /// The standard proof header.
    fn header(&self) -> Value {
        json!({ "typ": "dpop+jwt", "alg": "ES256", "jwk": self.jwk() })
    }

    /// A compact JWS of `header` and `claims`, signed with this key (r || s, RFC 7518 §3.4).
    fn sign(&self, header: &Value, claims: &Value) -> String {
        let input = format!(
            "{}.{}",
            B64.encode(header.to_string()),
            B64.encode(claims.to_string())
        );
        let signature: Signature = self.signing.sign(input.as_bytes());
        format!("{input}.{}", B64.encode(signature.to_bytes()))
    }

    /// A valid proof for `htm` `htu` (with `ath` for `token`).
    fn proof(&self, htm: &str, htu: &str, token: Option<&str>) -> String {
        self.sign(&self.header(), &claims(htm, htu, token))
    }
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn jti() -> String {
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    B64.encode(bytes)
}

/// BASE64URL(SHA-256(token)), the `ath` claim (RFC 9449 §4.2).
fn ath(token: &str) -> String {
    B64.encode(Sha256::digest(token.as_bytes()))
}

fn claims(htm: &str, htu: &str, token: Option<&str>) -> Value {
    let mut claims = json!({ "jti": jti(), "htm": htm, "htu": htu, "iat": now() });
    if let Some(token) = token {
        claims["ath"] = json!(ath(token));
    }
    claims
}

fn challenges(reply: &Reply) -> Vec<&str> {
    reply
        .headers
        .get_all(header::WWW_AUTHENTICATE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect()
}

fn nonce_of(reply: &Reply) -> Option<&str> {
    reply.header("dpop-nonce")
}

impl Provider {
    fn token_url(&self) -> String {
        self.url("/oauth/token")
    }

    fn photos_url(&self) -> String {
        self.url("/api/photos")
    }

    /// `POST /oauth/token` as [`CLIENT_ID`] with these `DPoP` headers.
    async fn token_dpop(&self, form: &[(&str, &str)], proofs: &[&str]) -> Reply {
        let mut request = self
            .http
            .post(self.token_url())
            .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
            .form(form);
        for proof in proofs {
            request = request.header("DPoP", *proof);
        }
        Reply::from(request.send().await.expect("token request")).await
    }

    async fn redeem_dpop(&self, code: &str, verifier: &str, proof: &str) -> Reply {
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", verifier),
        ];
        self.token_dpop(&form, &[proof]).await
    }

    async fn refresh_dpop(&self, refresh_token: &str, proof: &str) -> Reply {
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ];
        self.token_dpop(&form, &[proof]).await
    }

    /// A full flow with a proof by `key`: (access token, refresh token), DPoP-bound.
    async fn dpop_tokens(&self, key: &Key) -> (String, String) {
        let (code, request) = self.code().await;
        let proof = key.proof("POST", &self.token_url(), None);
        let reply = self
            .redeem_dpop(&code, &request.pkce.verifier, &proof)
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(reply.json["token_type"], "DPoP");
        (
            reply.json["access_token"].as_str().expect("at").to_owned(),
            reply.json["refresh_token"].as_str().expect("rt").to_owned(),
        )
    }

    /// `GET /api/photos` with `Authorization: <scheme> <token>` and an optional proof.
    async fn photos_dpop(&self, scheme: &str, token: &str, proof: Option<&str>) -> Reply {
        let mut request = self
            .http
            .get(self.photos_url())
            .header(header::AUTHORIZATION, format!("{scheme} {token}"));
        if let Some(proof) = proof {
            request = request.header("DPoP", proof);
        }
        Reply::from(request.send().await.expect("photos")).await
    }
}

/// A refusal at the token endpoint: 400 `invalid_dpop_proof`, naming the rule.
fn assert_invalid_proof(reply: &Reply, rule: &str, case: &str) {
    assert_eq!(
        reply.status,
        StatusCode::BAD_REQUEST,
        "{case}: {}",
        reply.body
    );
    assert_eq!(reply.error(), "invalid_dpop_proof", "{case}");
    assert!(
        reply.description().contains(rule),
        "{case}: {}",
        reply.description()
    );
    assert!(is_error_charset(reply.description()), "{case}");
}

/// A refusal at the photos API: 401 with a DPoP challenge carrying `error`.
fn assert_api_refused(reply: &Reply, error: &str, case: &str) {
    assert_eq!(
        reply.status,
        StatusCode::UNAUTHORIZED,
        "{case}: {}",
        reply.body
    );
    assert_eq!(
        challenges(reply),
        [format!(r#"DPoP error="{error}", algs="ES256""#)],
        "{case}"
    );
    assert_eq!(reply.error(), error, "{case}");
    assert!(is_error_charset(reply.description()), "{case}");
}

#[tokio::test]
async fn dpop_happy_path_code_photos_refresh_photos() {
    let provider = spawn().await;
    let key = Key::new();
    let (code, request) = provider.code().await;
    let proof = key.proof("POST", &provider.token_url(), None);
    let reply = provider
        .redeem_dpop(&code, &request.pkce.verifier, &proof)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.json["token_type"], "DPoP");
    assert_eq!(reply.header(header::CACHE_CONTROL), Some("no-store"));
    assert_eq!(
        nonce_of(&reply),
        None,
        "no nonce unless DEMO_DPOP_NONCE is on"
    );
    let access = reply.json["access_token"].as_str().expect("at").to_owned();
    let refresh = reply.json["refresh_token"].as_str().expect("rt").to_owned();

    let proof = key.proof("GET", &provider.photos_url(), Some(&access));
    let photos = provider.photos_dpop("DPoP", &access, Some(&proof)).await;
    assert_eq!(photos.status, StatusCode::OK, "{}", photos.body);
    assert_eq!(photos.json["photos"].as_array().map(Vec::len), Some(3));

    let proof = key.proof("POST", &provider.token_url(), None);
    let reply = provider.refresh_dpop(&refresh, &proof).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.json["token_type"], "DPoP");
    let renewed = reply.json["access_token"].as_str().expect("at").to_owned();
    assert_ne!(renewed, access);

    // The scheme is case-insensitive (RFC 9110 section 11.1).
    for scheme in ["DPoP", "dpop", "DPOP"] {
        let proof = key.proof("GET", &provider.photos_url(), Some(&renewed));
        let photos = provider.photos_dpop(scheme, &renewed, Some(&proof)).await;
        assert_eq!(photos.status, StatusCode::OK, "{scheme}: {}", photos.body);
    }
}

#[tokio::test]
async fn dpop_metadata_advertises_es256_only() {
    let provider = spawn().await;
    let url = provider.url("/.well-known/oauth-authorization-server");
    let reply = Reply::from(provider.http.get(&url).send().await.expect("get")).await;
    assert_eq!(
        reply.json["dpop_signing_alg_values_supported"],
        json!(["ES256"])
    );
}

#[tokio::test]
async fn dpop_token_endpoint_refuses_each_broken_rule_and_consumes_no_code() {
    let provider = spawn().await;
    let key = Key::new();
    let other = Key::new();
    let htu = provider.token_url();
    let good = || claims("POST", &htu, None);
    let with = |name: &str, value: Value| {
        let mut claims = good();
        claims[name] = value;
        claims
    };
    let without = |name: &str| {
        let mut claims = good();
        claims.as_object_mut().expect("object").remove(name);
        claims
    };
    let header_with = |name: &str, value: Value| {
        let mut header = key.header();
        header[name] = value;
        header
    };
    let mut private_jwk = key.jwk();
    private_jwk["d"] = json!(B64.encode(key.signing.to_bytes()));
    let unsigned = {
        let header = json!({ "typ": "dpop+jwt", "alg": "none", "jwk": key.jwk() });
        format!(
            "{}.{}.",
            B64.encode(header.to_string()),
            B64.encode(good().to_string())
        )
    };
    let hs256 = {
        let header = json!({ "typ": "dpop+jwt", "alg": "HS256", "jwk": key.jwk() });
        let input = format!(
            "{}.{}",
            B64.encode(header.to_string()),
            B64.encode(good().to_string())
        );
        format!("{input}.{}", B64.encode(Sha256::digest(input.as_bytes())))
    };
    // Signed by `other`, but naming `key`: the signature does not verify with the jwk.
    let forged = other.sign(&key.header(), &good());
    // A valid proof whose claims were swapped afterwards.
    let tampered = {
        let proof = key.proof("POST", &htu, None);
        let parts: Vec<&str> = proof.split('.').collect();
        format!(
            "{}.{}.{}",
            parts[0],
            B64.encode(good().to_string()),
            parts[2]
        )
    };
    let rsa_header = header_with("jwk", json!({ "kty": "RSA", "n": "AQAB", "e": "AQAB" }));
    let cases: Vec<(&str, String, &str)> = vec![
        ("not a JWS", "not-a-jwt".into(), "point 2"),
        ("two parts", "e30.e30".into(), "point 2"),
        (
            "typ JWT",
            key.sign(&header_with("typ", json!("JWT")), &good()),
            "dpop+jwt",
        ),
        (
            "no typ",
            key.sign(&json!({ "alg": "ES256", "jwk": key.jwk() }), &good()),
            "dpop+jwt",
        ),
        ("alg none", unsigned, "alg none"),
        ("alg HS256", hs256, "only algorithm"),
        (
            "alg RS256",
            key.sign(&header_with("alg", json!("RS256")), &good()),
            "only algorithm",
        ),
        (
            "crit",
            key.sign(&header_with("crit", json!(["exp"])), &good()),
            "crit",
        ),
        (
            "no jwk",
            key.sign(&json!({ "typ": "dpop+jwt", "alg": "ES256" }), &good()),
            "no jwk",
        ),
        (
            "private jwk",
            key.sign(&header_with("jwk", private_jwk), &good()),
            "private key",
        ),
        ("RSA jwk", key.sign(&rsa_header, &good()), "EC P-256"),
        ("forged signature", forged, "signature"),
        ("tampered claims", tampered, "signature"),
        ("no jti", key.sign(&key.header(), &without("jti")), "jti"),
        (
            "long jti",
            key.sign(&key.header(), &with("jti", json!("j".repeat(257)))),
            "jti",
        ),
        (
            "htm GET",
            key.sign(&key.header(), &with("htm", json!("GET"))),
            "htm",
        ),
        (
            "htm post",
            key.sign(&key.header(), &with("htm", json!("post"))),
            "htm",
        ),
        (
            "htu other path",
            key.sign(
                &key.header(),
                &with("htu", json!(provider.url("/oauth/par"))),
            ),
            "htu",
        ),
        (
            "htu other host",
            key.sign(
                &key.header(),
                &with("htu", json!(htu.replace("127.0.0.1", "localhost"))),
            ),
            "htu",
        ),
        ("no htu", key.sign(&key.header(), &without("htu")), "htu"),
        (
            "iat too old",
            key.sign(&key.header(), &with("iat", json!(now() - 120))),
            "iat",
        ),
        (
            "iat in the future",
            key.sign(&key.header(), &with("iat", json!(now() + 120))),
            "iat",
        ),
        (
            "iat a string",
            key.sign(&key.header(), &with("iat", json!(now().to_string()))),
            "iat",
        ),
    ];
    let (code, request) = provider.code().await;
    for (case, proof, rule) in &cases {
        let reply = provider
            .redeem_dpop(&code, &request.pkce.verifier, proof)
            .await;
        assert_invalid_proof(&reply, rule, case);
        assert!(reply.description().contains("RFC"), "{case}");
    }
    // Two DPoP headers, each valid alone.
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT_URI),
        ("code_verifier", request.pkce.verifier.as_str()),
    ];
    let (a, b) = (key.proof("POST", &htu, None), key.proof("POST", &htu, None));
    let reply = provider.token_dpop(&form, &[&a, &b]).await;
    assert_invalid_proof(&reply, "more than one DPoP header", "two headers");
    // None of the refusals consumed the code; a proof within the window, with a query in htu,
    // is accepted (RFC 9449 section 4.3 point 9).
    let fine = key.sign(&key.header(), &with("htu", json!(format!("{htu}?x=1#f"))));
    let reply = provider
        .redeem_dpop(&code, &request.pkce.verifier, &fine)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.json["token_type"], "DPoP");
}

#[tokio::test]
async fn dpop_a_proof_works_once_at_the_token_endpoint() {
    let provider = spawn().await;
    let key = Key::new();
    let proof = key.proof("POST", &provider.token_url(), None);
    let (code, request) = provider.code().await;
    let reply = provider
        .redeem_dpop(&code, &request.pkce.verifier, &proof)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let (code, request) = provider.code().await;
    let reply = provider
        .redeem_dpop(&code, &request.pkce.verifier, &proof)
        .await;
    assert_invalid_proof(&reply, "jti was already used", "replay");
    // The replay consumed nothing: a fresh proof redeems this code.
    let proof = key.proof("POST", &provider.token_url(), None);
    let reply = provider
        .redeem_dpop(&code, &request.pkce.verifier, &proof)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

#[tokio::test]
async fn dpop_bearer_flows_are_unchanged() {
    let provider = spawn().await;
    let (code, request) = provider.code().await;
    let reply = provider.redeem(&code, &request.pkce.verifier).await;
    assert_eq!(reply.json["token_type"], "Bearer");
    let access = reply.json["access_token"].as_str().expect("at").to_owned();
    let refresh = reply.json["refresh_token"].as_str().expect("rt").to_owned();
    let photos = provider.photos(&access).await;
    assert_eq!(photos.status, StatusCode::OK);
    assert_eq!(nonce_of(&photos), None);
    let reply = provider.refresh(&refresh).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.json["token_type"], "Bearer");
    // A Bearer token sent with the DPoP scheme is refused: it is not bound.
    let key = Key::new();
    let proof = key.proof("GET", &provider.photos_url(), Some(&access));
    let reply = provider.photos_dpop("DPoP", &access, Some(&proof)).await;
    assert_api_refused(&reply, "invalid_token", "Bearer token as DPoP");
    // No credentials: the Bearer challenge as before, and a second one offering DPoP.
    let reply = Reply::from(
        provider
            .http
            .get(provider.photos_url())
            .send()
            .await
            .expect("get"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        challenges(&reply),
        [r#"Bearer realm="demo-photos""#, r#"DPoP algs="ES256""#]
    );
}

#[tokio::test]
async fn dpop_refresh_keeps_the_binding_and_may_change_the_key() {
    let provider = spawn().await;
    let key = Key::new();
    let (_, refresh) = provider.dpop_tokens(&key).await;
    // Without a proof: refused, not downgraded to Bearer, and the refresh token not rotated.
    let reply = provider.refresh(&refresh).await;
    assert_invalid_proof(&reply, "not downgraded to Bearer", "refresh without proof");
    assert!(reply.description().contains("RFC 9449 section 5"));
    // Confidential client: the refresh token is bound to its authentication, not to the key,
    // so a proof with a new key gets a token bound to the new key.
    let new_key = Key::new();
    let proof = new_key.proof("POST", &provider.token_url(), None);
    let reply = provider.refresh_dpop(&refresh, &proof).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.json["token_type"], "DPoP");
    let access = reply.json["access_token"].as_str().expect("at").to_owned();
    let old = key.proof("GET", &provider.photos_url(), Some(&access));
    let reply = provider.photos_dpop("DPoP", &access, Some(&old)).await;
    assert_api_refused(&reply, "invalid_token", "the previous key");
    let new = new_key.proof("GET", &provider.photos_url(), Some(&access));
    let reply = provider.photos_dpop("DPoP", &access, Some(&new)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(new_key.jkt().len(), 43, "a SHA-256 thumbprint, base64url");
}

#[tokio::test]
async fn dpop_a_bearer_grant_refreshed_with_a_proof_becomes_bound() {
    let provider = spawn().await;
    let (_, refresh) = provider.tokens().await;
    let key = Key::new();
    let proof = key.proof("POST", &provider.token_url(), None);
    let reply = provider.refresh_dpop(&refresh, &proof).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.json["token_type"], "DPoP");
    let next = reply.json["refresh_token"].as_str().expect("rt").to_owned();
    let reply = provider.refresh(&next).await;
    assert_invalid_proof(
        &reply,
        "not downgraded to Bearer",
        "bound after the upgrade",
    );
}

#[tokio::test]
async fn dpop_photos_api_refuses_each_broken_binding() {
    let provider = spawn().await;
    let key = Key::new();
    let other = Key::new();
    let (access, _) = provider.dpop_tokens(&key).await;
    let (other_access, _) = provider.dpop_tokens(&key).await;
    let url = provider.photos_url();

    // Bound, so never a bearer token (RFC 9449 section 7.2).
    let reply = provider.photos(&access).await;
    assert_api_refused(&reply, "invalid_token", "DPoP token as Bearer");
    let proof = key.proof("GET", &url, Some(&access));
    let reply = provider.photos_dpop("Bearer", &access, Some(&proof)).await;
    assert_api_refused(&reply, "invalid_token", "DPoP token as Bearer with a proof");

    let reply = provider.photos_dpop("DPoP", &access, None).await;
    assert_api_refused(&reply, "invalid_dpop_proof", "no proof");
    assert!(reply.description().contains("section 7.1"));

    let mut no_ath = claims("GET", &url, None);
    no_ath.as_object_mut().expect("object").remove("ath");
    let cases = [
        ("POST", key.proof("POST", &url, Some(&access)), "htm"),
        (
            "other URL",
            key.proof("GET", &provider.token_url(), Some(&access)),
            "htu",
        ),
        ("no ath", key.sign(&key.header(), &no_ath), "ath"),
        (
            "ath of another token",
            key.proof("GET", &url, Some(&other_access)),
            "ath",
        ),
        (
            "forged",
            other.sign(&key.header(), &claims("GET", &url, Some(&access))),
            "signature",
        ),
        (
            "alg none",
            {
                let header = json!({ "typ": "dpop+jwt", "alg": "none", "jwk": key.jwk() });
                let claims = claims("GET", &url, Some(&access));
                format!(
                    "{}.{}.",
                    B64.encode(header.to_string()),
                    B64.encode(claims.to_string())
                )
            },
            "alg none",
        ),
    ];
    for (case, proof, rule) in &cases {
        let reply = provider.photos_dpop("DPoP", &access, Some(proof)).await;
        assert_api_refused(&reply, "invalid_dpop_proof", case);
        assert!(
            reply.description().contains(rule),
            "{case}: {}",
            reply.description()
        );
    }

    // A valid proof by another key: the token is bound to `key` (section 7.1, the example's
    // invalid_token).
    let proof = other.proof("GET", &url, Some(&access));
    let reply = provider.photos_dpop("DPoP", &access, Some(&proof)).await;
    assert_api_refused(&reply, "invalid_token", "another key");

    // A proof works once.
    let proof = key.proof("GET", &url, Some(&access));
    let reply = provider.photos_dpop("DPoP", &access, Some(&proof)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let reply = provider.photos_dpop("DPoP", &access, Some(&proof)).await;
    assert_api_refused(&reply, "invalid_dpop_proof", "replayed jti");
    assert!(reply.description().contains("jti"));
}

#[tokio::test]
async fn dpop_and_bearer_authorization_at_once_is_invalid_request() {
    let provider = spawn().await;
    let key = Key::new();
    let (access, _) = provider.dpop_tokens(&key).await;
    let (bearer, _) = provider.tokens().await;
    let proof = key.proof("GET", &provider.photos_url(), Some(&access));
    let request = provider
        .http
        .get(provider.photos_url())
        .header(header::AUTHORIZATION, format!("DPoP {access}"))
        .header(header::AUTHORIZATION, format!("Bearer {bearer}"))
        .header("DPoP", proof);
    let reply = Reply::from(request.send().await.expect("get")).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.error(), "invalid_request");
    assert_eq!(
        challenges(&reply),
        [r#"Bearer realm="demo-photos", error="invalid_request""#]
    );
}

#[tokio::test]
async fn dpop_token_without_photos_scope_is_insufficient_scope_in_the_dpop_scheme() {
    let provider = spawn().await;
    let key = Key::new();
    let request = AuthRequest::new().set("scope", "profile");
    let code = provider.code_for(&request).await;
    let proof = key.proof("POST", &provider.token_url(), None);
    let reply = provider
        .redeem_dpop(&code, &request.pkce.verifier, &proof)
        .await;
    let access = reply.json["access_token"].as_str().expect("at").to_owned();
    let proof = key.proof("GET", &provider.photos_url(), Some(&access));
    let reply = provider.photos_dpop("DPoP", &access, Some(&proof)).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(
        challenges(&reply),
        [r#"DPoP error="insufficient_scope", scope="photos", algs="ES256""#]
    );
}

#[tokio::test]
async fn dpop_nonce_required_is_use_dpop_nonce_then_success_with_it() {
    let provider = spawn_with(DemoSettings {
        dpop_nonce: true,
        ..settings()
    })
    .await;
    let key = Key::new();
    let htu = provider.token_url();
    let (code, request) = provider.code().await;
    let reply = provider
        .redeem_dpop(
            &code,
            &request.pkce.verifier,
            &key.proof("POST", &htu, None),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert_eq!(reply.error(), "use_dpop_nonce");
    assert!(reply.description().contains("RFC 9449 section 8"));
    let nonce = nonce_of(&reply).expect("a DPoP-Nonce header").to_owned();
    // A wrong nonce is the same answer.
    let mut stale = claims("POST", &htu, None);
    stale["nonce"] = json!("stale");
    let reply = provider
        .redeem_dpop(
            &code,
            &request.pkce.verifier,
            &key.sign(&key.header(), &stale),
        )
        .await;
    assert_eq!(reply.error(), "use_dpop_nonce");
    assert_eq!(nonce_of(&reply), Some(nonce.as_str()));
    // With the nonce: the same code (not consumed by the retries) gives a DPoP token.
    let mut fresh = claims("POST", &htu, None);
    fresh["nonce"] = json!(nonce);
    let reply = provider
        .redeem_dpop(
            &code,
            &request.pkce.verifier,
            &key.sign(&key.header(), &fresh),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.json["token_type"], "DPoP");
    assert_eq!(nonce_of(&reply), Some(nonce.as_str()));
    let access = reply.json["access_token"].as_str().expect("at").to_owned();

    // The photos API: 401 use_dpop_nonce with the header, then success with the nonce.
    let url = provider.photos_url();
    let proof = key.proof("GET", &url, Some(&access));
    let reply = provider.photos_dpop("DPoP", &access, Some(&proof)).await;
    assert_api_refused(&reply, "use_dpop_nonce", "no nonce at the API");
    assert_eq!(nonce_of(&reply), Some(nonce.as_str()));
    let mut with_nonce = claims("GET", &url, Some(&access));
    with_nonce["nonce"] = json!(nonce);
    let proof = key.sign(&key.header(), &with_nonce);
    let reply = provider.photos_dpop("DPoP", &access, Some(&proof)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(nonce_of(&reply), Some(nonce.as_str()));

    // Bearer clients never see a nonce.
    let (bearer, _) = provider.tokens().await;
    let reply = provider.photos(&bearer).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(nonce_of(&reply), None);
}

#[tokio::test]
async fn dpop_nonce_setting_reads_demo_dpop_nonce() {
    let on = DemoSettings::from_lookup(|name| (name == "DEMO_DPOP_NONCE").then(|| "1".into()))
        .expect("valid");
    assert!(on.dpop_nonce);
    assert!(!DemoSettings::for_tests().dpop_nonce, "off by default");
    let bad = DemoSettings::from_lookup(|name| (name == "DEMO_DPOP_NONCE").then(|| "maybe".into()));
    assert!(bad.is_err());
}

#[tokio::test]
async fn dpop_remembered_jtis_are_bounded_and_purged() {
    let provider = spawn_with(DemoSettings {
        max_pending: 3,
        ..settings()
    })
    .await;
    let key = Key::new();
    let (access, _) = provider.dpop_tokens(&key).await;
    let url = provider.photos_url();
    for _ in 0..2 {
        let proof = key.proof("GET", &url, Some(&access));
        let reply = provider.photos_dpop("DPoP", &access, Some(&proof)).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    }
    assert_eq!(provider.state.dpop_jtis(), 3);
    // Full: a new proof is not forgotten-and-accepted, it is refused for now.
    let proof = key.proof("GET", &url, Some(&access));
    let reply = provider.photos_dpop("DPoP", &access, Some(&proof)).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(reply.error(), "temporarily_unavailable");
    // Once their iat window is over, the purge forgets them.
    provider.state.purge(now() + 200);
    assert_eq!(provider.state.dpop_jtis(), 0);
    let proof = key.proof("GET", &url, Some(&access));
    let reply = provider.photos_dpop("DPoP", &access, Some(&proof)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

/// A valid proof for `POST htu`, padded to exactly `len` bytes with a header member and a
/// claim that the server ignores.
fn padded_proof(key: &Key, htu: &str, len: usize) -> String {
    let b64_len = |value: &Value| (value.to_string().len() * 4).div_ceil(3);
    // The signature is 64 bytes, 86 characters; two dots join the three parts.
    let fixed = 86 + 2;
    let claims = claims("POST", htu, None);
    for header_pad in 0..3 {
        let mut header = key.header();
        header["pad"] = json!("h".repeat(header_pad));
        // The claims' base64url must take what is left: start a little below the padding
        // that gives it, since each 3 bytes of JSON are 4 characters.
        let left = len.saturating_sub(b64_len(&header) + fixed);
        let start = (left * 3 / 4).saturating_sub(claims.to_string().len() + 16);
        for claim_pad in start..len {
            let mut padded = claims.clone();
            padded["pad"] = json!("c".repeat(claim_pad));
            let total = b64_len(&header) + b64_len(&padded) + fixed;
            if total == len {
                let proof = key.sign(&header, &padded);
                assert_eq!(proof.len(), len);
                return proof;
            }
            if total > len {
                break;
            }
        }
    }
    panic!("no padding gives a proof of {len} bytes");
}

#[tokio::test]
async fn dpop_a_proof_of_up_to_8_kib_is_accepted_and_a_longer_one_refused() {
    let provider = spawn().await;
    let key = Key::new();
    let (code, request) = provider.code().await;
    let too_long = padded_proof(&key, &provider.token_url(), 8 * 1024 + 1);
    let reply = provider
        .redeem_dpop(&code, &request.pkce.verifier, &too_long)
        .await;
    assert_invalid_proof(&reply, "too long", "8 KiB + 1");
    let longest = padded_proof(&key, &provider.token_url(), 8 * 1024);
    let reply = provider
        .redeem_dpop(&code, &request.pkce.verifier, &longest)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.json["token_type"], "DPoP");
}

#[tokio::test]
async fn dpop_the_api_gives_its_nonce_to_the_dpop_scheme_alone_and_to_a_proof_alone() {
    let provider = spawn_with(DemoSettings {
        dpop_nonce: true,
        ..settings()
    })
    .await;
    let (bearer, _) = provider.tokens().await;
    // The DPoP scheme without a proof: refused, and told the nonce for its next proof.
    let reply = provider.photos_dpop("DPoP", &bearer, None).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.body);
    assert!(nonce_of(&reply).is_some(), "DPoP scheme alone");
    // A proof next to a Bearer token: the client uses DPoP, so it is told the nonce too.
    let key = Key::new();
    let proof = key.proof("GET", &provider.photos_url(), Some(&bearer));
    let reply = provider.photos_dpop("Bearer", &bearer, Some(&proof)).await;
    assert!(nonce_of(&reply).is_some(), "proof alone");
}
