//! The client's authenticated back-channel requests besides the token request: revocation
//! (RFC 7009) and pushed authorization requests (RFC 9126), with the one place they
//! authenticate as the client (RFC 6749 §2.3).

use url::Url;

use super::OAuthClient;
use crate::{
    config::TokenAuth,
    http_client::{HttpError, HttpErrorKind, Response, host_of},
    oauth::{
        pushed::{self, PushError},
        tokens::RevokeError,
    },
};

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
        let request = match self.token_auth {
            // The same encoding as the token request: form-urlencode, then Basic (RFC 6749 §2.3.1).
            TokenAuth::ClientSecretBasic => {
                let enc = |s: &str| {
                    url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>()
                };
                request.basic_auth(enc(&self.client_id), Some(enc(self.client_secret.secret())))
            }
            TokenAuth::ClientSecretPost => {
                // A pushed request already names the client: a parameter is never sent twice
                // (RFC 6749 §3.2).
                if !form.iter().any(|(name, _)| *name == "client_id") {
                    form.push(("client_id", self.client_id.as_str()));
                }
                form.push(("client_secret", self.client_secret.secret()));
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
