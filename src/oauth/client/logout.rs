//! The client's two logout verbs (OpenID Connect): where to send the browser to end the
//! provider's session (RP-Initiated Logout 1.0), and the check of a logout token the provider
//! POSTs (Back-Channel Logout 1.0).

use url::Url;

use super::OAuthClient;
use crate::oauth::{
    TokenSet,
    openid::logout_token::{LogoutToken, LogoutTokenError},
};

impl OAuthClient {
    /// The provider's end-session URL for an RP-initiated logout of `tokens`' person (OIDC
    /// RP-Initiated Logout 1.0 §2), when signed in with OpenID Connect at a provider that has
    /// one; `None`: the logout stays local.
    pub fn end_session_url(
        &self,
        tokens: &TokenSet,
        post_logout_redirect_uri: &Url,
        state: &str,
    ) -> Option<Url> {
        let identity = tokens.identity.as_ref()?;
        self.openid
            .as_ref()?
            .end_session_url(identity, post_logout_redirect_uri, state)
    }

    /// Checks a back-channel logout token (OIDC Back-Channel Logout 1.0 §2.6, all but the
    /// `jti` replay check, which is the session floor's); without OpenID Connect there is no
    /// provider key to check it with, so none is valid.
    pub async fn check_logout_token(
        &self,
        raw: &str,
        now: i64,
    ) -> Result<LogoutToken, LogoutTokenError> {
        match &self.openid {
            Some(openid) => openid.logout_token(raw, now).await,
            None => Err(LogoutTokenError::KeysUnavailable),
        }
    }
}
