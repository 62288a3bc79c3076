//! The client's authenticated back-channel requests besides the token request: revocation
//! (RFC 7009) and pushed authorization requests (RFC 9126), with the client's credentials,
//! the one place every back-channel request (token, refresh, revocation, PAR) takes its client
//! authentication from (RFC 6749 §2.3, RFC 7523 §2.2).

use oauth2::ClientSecret;
use url::Url;

use super::OAuthClient;
use crate::{
    config::{Config, ProviderConfig, TokenAuth},
    http_client::{HttpError, HttpErrorKind, Response, host_of},
    oauth::{
        assertion::Assertions,
        pushed::{self, PushError},
        tokens::RevokeError,
    },
};

/// How the client authenticates: exactly one method per request (RFC 6749 §2.3: "MUST NOT use
/// more than one"), so with a key no secret is ever sent, even one that is configured.
#[derive(Clone, Debug)]
pub(super) enum Credentials {
    /// `client_secret_basic` (RFC 6749 §2.3.1).
    Basic(ClientSecret),
    /// `client_secret_post` (RFC 6749 §2.3.1).
    Post(ClientSecret),
    /// `private_key_jwt` (RFC 7523 §2.2): a fresh signed assertion per request.
    Jwt(Assertions),
}

impl Credentials {
    pub(super) fn new(config: &Config, provider: &ProviderConfig) -> anyhow::Result<Self> {
        let secret = || {
            config
                .client_secret
                .clone()
                .ok_or_else(|| anyhow::anyhow!("OAUTH_CLIENT_SECRET is not set"))
        };
        Ok(match config.token_auth {
            TokenAuth::ClientSecretBasic => Self::Basic(secret()?),
            TokenAuth::ClientSecretPost => Self::Post(secret()?),
            TokenAuth::PrivateKeyJwt => {
                let key = config.client_key.clone().ok_or_else(|| {
                    anyhow::anyhow!("OAUTH_CLIENT_KEY_FILE is required with private_key_jwt")
                })?;
                if config.client_secret.is_some() {
                    tracing::warn!(
                        "OAUTH_CLIENT_SECRET is set but unused: OAUTH_TOKEN_AUTH=private_key_jwt \
                         authenticates with the key of OAUTH_CLIENT_KEY_FILE alone"
                    );
                }
                // rfc7523bis: the audience is the issuer identifier, one string, the same at
                // every endpoint. Without an issuer (endpoints configured by hand, no
                // OAUTH_ISSUER) the token endpoint URL, which RFC 7523 §3 point 3 also allows.
                let audience = match &provider.issuer {
                    Some(issuer) => issuer.clone(),
                    None => provider.token_url.url().to_string(),
                };
                Self::Jwt(Assertions::new(key, &config.client_id, audience))
            }
        })
    }
}

impl OAuthClient {
    /// Revokes `token` (RFC 7009 §2.1), authenticating like the token request; does nothing
    /// without a revocation endpoint. Built here rather than through `oauth2`, which refuses
    /// http URLs outright, so a provider on loopback can use it; configuration refuses plain http
    /// anywhere but loopback (`ProviderConfig::check_https`).
    pub async fn revoke(&self, token: &str, hint: &str) -> Result<(), RevokeError> {
        let Some(url) = &self.revocation_url else {
            return Ok(());
        };
        let form = vec![("token", token), ("token_type_hint", hint)];
        let response = self.post_authenticated(url.url(), form).await?;
        // 200 also means "the token was already invalid" (RFC 7009 §2.2).
        match response.status.as_u16() {
            200 => Ok(()),
            status => Err(HttpError::new(url.url(), HttpErrorKind::Status(status)).into()),
        }
    }

    /// With `private_key_jwt`, what makes each request's assertion (the token transport takes
    /// it from here too); `None` with a secret.
    pub(super) fn assertions(&self) -> Option<&Assertions> {
        match &self.credentials {
            Credentials::Jwt(assertions) => Some(assertions),
            Credentials::Basic(_) | Credentials::Post(_) => None,
        }
    }

    /// The public key set to serve at the JWKS URL, with `private_key_jwt`; `None` otherwise.
    pub fn public_jwks(&self) -> Option<serde_json::Value> {
        Some(self.assertions()?.public_jwks())
    }

    /// Whether sign-ins push their authorization request first (RFC 9126).
    pub fn uses_par(&self) -> bool {
        self.par_url.is_some()
    }

    /// Pushes the parameters of `authorize_url` (made by [`OAuthClient::start`]) to the PAR
    /// endpoint with the client's authentication, and returns the URL the browser goes to
    /// instead: the authorization endpoint with only `client_id` and the `request_uri`
    /// (RFC 9126 §2.1, §4). The parameters never travel through the browser.
    pub async fn push(&self, authorize_url: &Url) -> Result<Url, PushError> {
        let Some(par_url) = &self.par_url else {
            return Ok(authorize_url.clone());
        };
        let pairs: Vec<(String, String)> = authorize_url.query_pairs().into_owned().collect();
        let form = pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let response = self
            .post_authenticated(par_url, form)
            .await
            .map_err(PushError::Http)?;
        let request_uri = pushed::request_uri(&response, &host_of(par_url))?;
        let mut url = self.inner.auth_uri().url().clone();
        // Appended: a query the endpoint's URL already has is kept (RFC 6749 §3.1).
        url.query_pairs_mut()
            .append_pair("client_id", self.client_id.as_str())
            .append_pair("request_uri", &request_uri);
        Ok(url)
    }

    /// POSTs `form` to `url` with the client's authentication, as the token request does: the
    /// one place the revocation and PAR requests authenticate (RFC 6749 §2.3).
    async fn post_authenticated(
        &self,
        url: &Url,
        mut form: Vec<(&str, &str)>,
    ) -> Result<Response, HttpError> {
        let request = self.http.post(url.clone());
        // A pushed request already names the client: a parameter is never sent twice
        // (RFC 6749 §3.2).
        let names_client =
            |form: &[(&str, &str)]| form.iter().any(|(name, _)| *name == "client_id");
        let assertion;
        let request = match &self.credentials {
            // The same encoding as the token request: form-urlencode, then Basic (RFC 6749 §2.3.1).
            Credentials::Basic(secret) => {
                let enc = |s: &str| {
                    url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>()
                };
                request.basic_auth(enc(&self.client_id), Some(enc(secret.secret())))
            }
            Credentials::Post(secret) => {
                if !names_client(&form) {
                    form.push(("client_id", self.client_id.as_str()));
                }
                form.push(("client_secret", secret.secret()));
                request
            }
            Credentials::Jwt(assertions) => {
                if !names_client(&form) {
                    form.push(("client_id", self.client_id.as_str()));
                }
                assertion = assertions.form_pairs();
                form.extend(
                    assertion
                        .iter()
                        .map(|(name, value)| (*name, value.as_str())),
                );
                request
            }
        };
        let request = request
            .header(http::header::ACCEPT, "application/json")
            .form(&form)
            .build()
            .map_err(|e| HttpError::new(url, HttpErrorKind::Other(e.without_url().to_string())))?;
        self.http.send(request).await
    }
}
