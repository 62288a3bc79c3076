//! The app's OAuth client: start a sign-in (authorize URL + pending login), redeem the code,
//! refresh and revoke tokens; with `openid` in the scopes, check the ID token of each (see
//! `openid`). Built on the `oauth2` crate's typestate client; no web types here.

use std::sync::Arc;

use oauth2::{
    AuthType, ClientId, CsrfToken, EndpointNotSet, EndpointSet, PkceCodeChallenge, RedirectUrl,
    RevocationUrl, Scope, StandardRevocableToken, StandardTokenResponse,
    basic::{
        BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
        BasicTokenType,
    },
};
use openidconnect::Nonce;
use url::Url;

use crate::{
    config::{Config, DpopMode, ParMode, Profile, ProviderConfig},
    http_client::{HttpClient, host_of},
    oauth::{
        callback::issuer_matches,
        dpop::{Dpop, DpopKey, Nonces},
        openid::{self, IdTokenField, OpenId},
        pending::PendingLogin,
    },
};

mod backchannel;
mod grants;
mod logout;

use backchannel::Credentials;

/// Bytes of randomness in `state`: 256 bits, far above the 128-bit floor (RFC 6749 §10.10).
const STATE_BYTES: u32 = 32;

/// A token response, with the `id_token` member OpenID Connect adds (OIDC Core §3.1.3.3).
type TokenResponseWithIdToken = StandardTokenResponse<IdTokenField, BasicTokenType>;

/// The `oauth2` crate's client with the authorization and token endpoints set (typestate): its
/// basic client, but whose token responses keep the `id_token`.
type Oauth2Client = oauth2::Client<
    BasicErrorResponse,
    TokenResponseWithIdToken,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// The app's OAuth client: one per process, shared by every request.
#[derive(Clone, Debug)]
pub struct OAuthClient {
    inner: Oauth2Client,
    scopes: Vec<String>,
    issuer: Option<String>,
    require_iss: bool,
    /// For revocation, which the `oauth2` crate refuses over plain http even on loopback.
    client_id: ClientId,
    /// How every back-channel request authenticates (see `backchannel`).
    credentials: Credentials,
    revocation_url: Option<RevocationUrl>,
    /// The pushed authorization request endpoint, when sign-ins use PAR (RFC 9126).
    par_url: Option<Url>,
    /// The servers' DPoP nonces, when sign-ins use DPoP (RFC 9449); `None`: no DPoP.
    dpop: Option<Arc<Nonces>>,
    /// OpenID Connect, when `openid` is among the scopes; `None`: plain OAuth, no ID token.
    openid: Option<Arc<OpenId>>,
    /// The token endpoint's `host[:port]`, named in every error about it.
    token_host: String,
    http: HttpClient,
}

impl OAuthClient {
    /// Builds the client from the configuration; `redirect_uri` is `APP_URL/cb`.
    pub fn new(
        config: &Config,
        provider: &ProviderConfig,
        redirect_uri: RedirectUrl,
        http: HttpClient,
    ) -> anyhow::Result<Self> {
        let credentials = Credentials::new(config, provider)?;
        let inner = oauth2::Client::new(config.client_id.clone());
        // Without a secret the `oauth2` crate sends `client_id` in the body and no Basic header;
        // the assertion is added by the transport (RFC 7523 §2.2), one method per request.
        let inner = match &credentials {
            Credentials::Basic(secret) => inner
                .set_client_secret(secret.clone())
                .set_auth_type(AuthType::BasicAuth),
            Credentials::Post(secret) => inner
                .set_client_secret(secret.clone())
                .set_auth_type(AuthType::RequestBody),
            Credentials::Jwt(_) => inner.set_auth_type(AuthType::RequestBody),
        };
        let inner = inner
            .set_auth_uri(provider.auth_url.clone())
            .set_token_uri(provider.token_url.clone())
            // The same redirect_uri goes in the authorize and the token request (RFC 6749 §4.1.3).
            .set_redirect_uri(redirect_uri);
        let par_url = match (config.par, &provider.par_url) {
            (ParMode::Off, _) if provider.require_par => anyhow::bail!(
                "the provider requires pushed authorization requests \
                 (require_pushed_authorization_requests, RFC 9126 §5), but OAUTH_PAR=off"
            ),
            (ParMode::Off, _) => None,
            (ParMode::IfRequired, _) if !provider.require_par => None,
            (ParMode::On | ParMode::IfRequired, None) => anyhow::bail!(
                "pushed authorization requests are on (OAUTH_PAR=on, or the provider requires \
                 them), but the provider has no pushed authorization request endpoint: set \
                 OAUTH_PAR_URL"
            ),
            (_, url) => url.clone(),
        };
        let dpop = match config.dpop {
            DpopMode::Off => false,
            DpopMode::On => true,
            DpopMode::Auto => provider.dpop_es256,
        };
        let openid = if config.scopes.iter().any(|s| s == openid::OPENID) {
            // OIDC Core §3.1.3.7 (2), (6): the ID token is checked against the issuer and its
            // published keys, so both must be known before any sign-in.
            let (Some(issuer), Some(keys)) = (&provider.issuer, &provider.openid) else {
                anyhow::bail!(
                    "openid is in OAUTH_SCOPES, so sign-ins are checked with OpenID Connect, which \
                     needs the provider's issuer and signing keys (jwks_uri): set OAUTH_ISSUER \
                     alone, to a provider whose discovery document lists a jwks_uri, or remove \
                     openid from OAUTH_SCOPES"
                );
            };
            let openid = OpenId::new(
                issuer,
                config.client_id.as_str(),
                keys.jwks_url.clone(),
                keys.id_token_algs.as_deref(),
                http.clone(),
            )?
            .with_end_session(keys.end_session_url.clone());
            Some(Arc::new(openid))
        } else {
            None
        };
        Ok(Self {
            inner,
            openid,
            par_url,
            dpop: dpop.then(Arc::default),
            scopes: config.scopes.clone(),
            issuer: provider.issuer.clone(),
            // FAPI 2.0 has the authorization server send `iss` (RFC 9207) and the client check
            // it: under that profile a callback without one is refused whatever the metadata says.
            require_iss: provider.require_iss || config.profile == Profile::Fapi2,
            client_id: config.client_id.clone(),
            credentials,
            revocation_url: provider.revocation_url.clone(),
            token_host: host_of(provider.token_url.url()),
            http,
        })
    }

    /// Starts a sign-in: the authorize URL to put in the "Connect" link, and the pending login to
    /// keep in the session. Every call makes a fresh state and verifier (OAuth 2.1 §7.5.1).
    pub fn start(&self, now: i64) -> (Url, PendingLogin) {
        // S256 only: `plain` would expose the verifier in the front channel (RFC 7636 §4.2, §7.2).
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        // OIDC Core §3.1.2.1, §15.5.2: a nonce binds the ID token to this sign-in.
        let nonce = self.openid.is_some().then(openid::new_nonce);
        let state = CsrfToken::new_random_len(STATE_BYTES);
        let (url, state) = self.authorize_url(state, challenge, nonce.as_ref());
        let login = PendingLogin {
            state,
            verifier,
            nonce,
            created_at: now,
        };
        (url, login)
    }

    /// The authorize URL `start` made for `login`, built again from its state and verifier (the // INSPECTOR
    /// flow inspector shows it; the home page never stores it). // INSPECTOR
    #[cfg(feature = "inspector")] // INSPECTOR
    pub fn authorize_url_of(&self, login: &PendingLogin) -> Url {
        // INSPECTOR
        let challenge = PkceCodeChallenge::from_code_verifier_sha256(&login.verifier); // INSPECTOR
        self.authorize_url(login.state.clone(), challenge, login.nonce.as_ref()) // INSPECTOR
            .0 // INSPECTOR
    } // INSPECTOR

    fn authorize_url(
        &self,
        state: CsrfToken,
        challenge: PkceCodeChallenge,
        nonce: Option<&Nonce>,
    ) -> (Url, CsrfToken) {
        let mut request = self
            .inner
            .authorize_url(|| state)
            .add_scopes(self.scopes.iter().cloned().map(Scope::new))
            .set_pkce_challenge(challenge);
        if let Some(nonce) = nonce {
            request = request.add_extra_param("nonce", nonce.secret());
        }
        request.url()
    }

    /// The registered client id. // INSPECTOR
    #[cfg(feature = "inspector")] // INSPECTOR
    pub fn client_id(&self) -> &str {
        // INSPECTOR
        self.client_id.as_str() // INSPECTOR
    } // INSPECTOR

    /// The issuer callbacks are checked against (RFC 9207), if the provider has one. // INSPECTOR
    #[cfg(feature = "inspector")] // INSPECTOR
    pub fn expected_issuer(&self) -> Option<&str> {
        // INSPECTOR
        self.issuer.as_deref() // INSPECTOR
    } // INSPECTOR

    /// Whether a callback's `iss` is acceptable (RFC 9207 §2.4): see [`issuer_matches`].
    pub fn issuer_ok(&self, iss: Option<&str>) -> bool {
        issuer_matches(self.issuer.as_deref(), self.require_iss, iss)
    }

    /// The key and nonces for a request with `key` (the session's), when DPoP is in use.
    pub fn dpop_with(&self, key: Option<&DpopKey>) -> Option<Dpop> {
        Some(Dpop {
            key: key?.clone(),
            nonces: self.dpop.clone()?,
        })
    }

    /// Whether the provider has a revocation endpoint (RFC 7009) to tell at logout.
    pub fn can_revoke(&self) -> bool {
        self.revocation_url.is_some()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::time::Duration;

    use super::*;
    use crate::config::OpenIdProvider;
    use oauth2::{AuthUrl, ClientSecret, PkceCodeVerifier, TokenUrl};

    /// A client for tests (no network: https endpoints that are never called).
    pub(crate) fn oauth() -> OAuthClient {
        oauth_with(|_, _| {})
    }

    /// The test client, after `tweak` adjusts the config and the provider.
    fn oauth_with(tweak: impl FnOnce(&mut Config, &mut ProviderConfig)) -> OAuthClient {
        build(tweak).expect("client")
    }

    fn build(tweak: impl FnOnce(&mut Config, &mut ProviderConfig)) -> anyhow::Result<OAuthClient> {
        let mut config = Config::for_tests();
        config.client_secret = Some(ClientSecret::new("test-secret".into()));
        let mut provider = ProviderConfig {
            name: Some("Test".into()),
            auth_url: AuthUrl::new("https://as.example/authorize".into()).expect("url"),
            token_url: TokenUrl::new("https://as.example/token".into()).expect("url"),
            photos_api_url: Url::parse("https://api.example/photos").expect("url"),
            revocation_url: None,
            par_url: None,
            require_par: false,
            dpop_es256: false,
            issuer: None,
            require_iss: false,
            openid: None,
        };
        tweak(&mut config, &mut provider);
        let redirect = RedirectUrl::new("http://localhost:3000/cb".into()).expect("url");
        let http = HttpClient::new(Duration::from_secs(1), &Default::default()).expect("client");
        OAuthClient::new(&config, &provider, redirect, http)
    }

    fn keys() -> Box<OpenIdProvider> {
        Box::new(OpenIdProvider {
            jwks_url: Url::parse("https://as.example/jwks").expect("url"),
            id_token_algs: None,
            end_session_url: None,
        })
    }

    fn with_openid(config: &mut Config) {
        config.scopes = vec!["openid".into(), "photos".into()];
    }

    #[test]
    fn c96_with_openid_every_start_sends_a_fresh_nonce_that_the_pending_login_keeps() {
        let oidc = oauth_with(|c, p| {
            with_openid(c);
            p.issuer = Some("https://as.example".into());
            p.openid = Some(keys());
        });
        let (url, login) = oidc.start(0);
        let nonce = login.nonce.as_ref().expect("a nonce");
        let sent = url
            .query_pairs()
            .find(|(k, _)| k == "nonce")
            .map(|(_, v)| v.into_owned());
        assert_eq!(sent.as_deref(), Some(nonce.secret().as_str()));
        assert_eq!(nonce.secret().len(), 43, "256 bits");
        assert_ne!(
            oidc.start(0).1.nonce.map(|n| n.secret().clone()),
            Some(nonce.secret().clone())
        );
        #[cfg(feature = "inspector")] // INSPECTOR
        assert_eq!(oidc.authorize_url_of(&login), url, "rebuilt with its nonce"); // INSPECTOR
        let (plain, login) = oauth().start(0);
        assert!(
            login.nonce.is_none() && !plain.as_str().contains("nonce"),
            "{plain}"
        );
    }

    #[test]
    fn c96_openid_without_an_issuer_or_signing_keys_refuses_to_start() {
        for (issuer, jwks) in [(true, false), (false, true)] {
            let err = build(|c, p| {
                with_openid(c);
                p.issuer = issuer.then(|| "https://as.example".into());
                p.openid = jwks.then(keys);
            })
            .expect_err("no keys to check ID tokens with");
            assert!(format!("{err:#}").contains("OAUTH_ISSUER"), "{err:#}");
        }
    }

    #[test]
    fn pkce_s256_matches_rfc7636_appendix_b() {
        let verifier = PkceCodeVerifier::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk".into());
        let challenge = PkceCodeChallenge::from_code_verifier_sha256(&verifier);
        assert_eq!(
            challenge.as_str(),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert_eq!(challenge.method().as_str(), "S256");
    }

    #[test]
    fn pkce_s256_matches_the_seed_example() {
        let verifier =
            PkceCodeVerifier::new("Th7UHJdLswIYQxwSg29DbK1a_d9o41uNMTRmuH0PM8zyoMAQ".into());
        let challenge = PkceCodeChallenge::from_code_verifier_sha256(&verifier);
        assert_eq!(
            challenge.as_str(),
            "hKpKupTM391pE10xfQiorMxXarRKAHRhTfH_xkGf7U4"
        );
    }

    #[test]
    fn authorize_url_has_every_parameter_and_no_secret() {
        let (url, login) = oauth().start(7);
        let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(q["response_type"], "code");
        assert_eq!(q["client_id"], "photo-connect");
        assert_eq!(q["redirect_uri"], "http://localhost:3000/cb");
        assert_eq!(q["scope"], "photos");
        assert_eq!(q["code_challenge_method"], "S256");
        assert_eq!(q["state"], *login.state.secret());
        assert_eq!(q["state"].len(), 43, "256-bit state, base64url");
        assert_eq!(login.created_at, 7);
        let expected = PkceCodeChallenge::from_code_verifier_sha256(&login.verifier);
        assert_eq!(q["code_challenge"], expected.as_str());
        let verifier = login.verifier.secret();
        assert!((43..=128).contains(&verifier.len()));
        assert!(!url.as_str().contains(verifier.as_str()));
        assert!(!url.as_str().contains("test-secret"));
    }

    #[test]
    fn every_start_is_fresh() {
        let o = oauth();
        let (a, la) = o.start(0);
        let (b, lb) = o.start(0);
        assert_ne!(a, b);
        assert_ne!(la.state.secret(), lb.state.secret());
        assert_ne!(la.verifier.secret(), lb.verifier.secret());
    }

    #[test]
    fn the_issuer_of_a_provider_that_has_one_is_checked() {
        let with_issuer = oauth_with(|_, p| {
            p.issuer = Some("https://as.example".into());
            p.require_iss = true;
        });
        #[cfg(feature = "inspector")] // INSPECTOR
        assert_eq!(with_issuer.expected_issuer(), Some("https://as.example")); // INSPECTOR
        assert!(with_issuer.issuer_ok(Some("https://as.example")));
        assert!(
            !with_issuer.issuer_ok(Some("https://evil.example")),
            "mix-up"
        );
        assert!(!with_issuer.issuer_ok(None), "required");
        let without = oauth();
        #[cfg(feature = "inspector")] // INSPECTOR
        assert_eq!(without.expected_issuer(), None); // INSPECTOR
        assert!(without.issuer_ok(None));
    }

    #[test]
    fn under_fapi2_every_callback_must_name_the_issuer() {
        let fapi2 = oauth_with(|c, p| {
            c.profile = Profile::Fapi2;
            p.issuer = Some("https://as.example".into());
            p.require_iss = false;
        });
        assert!(!fapi2.issuer_ok(None), "RFC 9207 required under FAPI 2.0");
        assert!(fapi2.issuer_ok(Some("https://as.example")));
    }

    #[test]
    fn revocation_par_and_dpop_follow_the_configuration() {
        let plain = oauth();
        #[cfg(feature = "inspector")] // INSPECTOR
        assert_eq!(plain.client_id(), "photo-connect"); // INSPECTOR
        assert!(!plain.can_revoke() && !plain.uses_par());
        let key = DpopKey::generate();
        assert!(plain.dpop_with(Some(&key)).is_none(), "DPoP is off");
        let full = oauth_with(|c, p| {
            c.par = ParMode::On;
            c.dpop = DpopMode::On;
            p.revocation_url =
                Some(oauth2::RevocationUrl::new("https://as.example/revoke".into()).expect("url"));
            p.par_url = Some(Url::parse("https://as.example/par").expect("url"));
        });
        assert!(full.can_revoke() && full.uses_par());
        let dpop = full.dpop_with(Some(&key)).expect("DPoP is on");
        assert_eq!(dpop.key.thumbprint(), key.thumbprint());
        assert!(full.dpop_with(None).is_none(), "no key, no proof");
    }
}
