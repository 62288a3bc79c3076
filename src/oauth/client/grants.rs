//! The client's token requests (RFC 6749 §4.1.3, §6): the code redeemed and the tokens
//! refreshed, each response read into a [`TokenSet`] and, with OpenID Connect, its ID token
//! checked (OIDC Core §3.1.3.7, §12.2) before the tokens are used.

use oauth2::{AuthorizationCode, TokenResponse};

use super::OAuthClient;
use crate::oauth::{
    dpop::DpopKey,
    openid::IdTokenError,
    pending::PendingLogin,
    tokens::{ExchangeError, RefreshError, TokenSet, classify_token_error},
    transport::Transport,
};

impl OAuthClient {
    /// Redeems `code` with the pending login's verifier (RFC 6749 §4.1.3, RFC 7636 §4.5).
    pub async fn exchange(
        &self,
        code: AuthorizationCode,
        pending: PendingLogin,
        now: i64,
    ) -> Result<TokenSet, ExchangeError> {
        // With DPoP, each sign-in gets its own key (see `oauth::dpop` for where it lives).
        let key = self.dpop.is_some().then(DpopKey::generate);
        let dpop = self.dpop_with(key.as_ref());
        let PendingLogin {
            verifier, nonce, ..
        } = pending;
        let exchanged = async {
            let response = self
                .inner
                .exchange_code(code)
                .set_pkce_verifier(verifier)
                .request_async(&Transport::new(&self.http, dpop, self.assertions()))
                .await
                .map_err(|err| classify_token_error(err, &self.token_host))?;
            let mut tokens = TokenSet::from_response(&response, &self.scopes, now, key.as_ref())?;
            // OIDC Core §3.1.3.7: the session is connected only with a valid ID token. A
            // pending login without a nonce (started before `openid` was configured) cannot
            // bind one, so it is refused too (§3.1.3.7 (11)).
            if let Some(openid) = &self.openid {
                let nonce = nonce.ok_or(ExchangeError::IdToken(IdTokenError::Nonce))?;
                let raw = response.extra_fields().id_token.as_ref();
                let identity = openid.sign_in(raw, &nonce, now).await;
                tokens.identity = Some(identity.map_err(ExchangeError::IdToken)?);
            }
            Ok::<_, ExchangeError>(tokens)
        }
        .await;
        crate::metrics::token_exchange(match &exchanged {
            Ok(_) => "ok",
            Err(err) => err.outcome(),
        });
        exchanged
    }

    /// Uses the refresh token (RFC 6749 §6). A rotated refresh token replaces the old one; when
    /// the provider sends none, the old one is kept (§6: "MAY issue a new refresh token").
    pub async fn refresh(&self, tokens: &TokenSet, now: i64) -> Result<TokenSet, RefreshError> {
        let refreshed = self.refresh_unrecorded(tokens, now).await;
        crate::metrics::token_refresh(match &refreshed {
            Ok(_) => "ok",
            Err(RefreshError::Fatal(_)) => "refused",
            Err(RefreshError::Transient(err)) => err.outcome(),
        });
        refreshed
    }

    async fn refresh_unrecorded(
        &self,
        tokens: &TokenSet,
        now: i64,
    ) -> Result<TokenSet, RefreshError> {
        let refresh_token = tokens
            .refresh_token
            .as_ref()
            .ok_or_else(|| RefreshError::Fatal("no refresh token".into()))?;
        let dpop = self.dpop_with(tokens.dpop_key.as_ref());
        let response = self
            .inner
            .exchange_refresh_token(refresh_token)
            .request_async(&Transport::new(&self.http, dpop.clone(), self.assertions()))
            .await
            .map_err(|err| RefreshError::from(classify_token_error(err, &self.token_host)))?;
        // The key the proof was signed with, if one was sent: only then is `DPoP` understood.
        let used = dpop.as_ref().map(|d| &d.key);
        let mut fresh = TokenSet::from_response(&response, &self.scopes, now, used)
            .map_err(RefreshError::Transient)?;
        if fresh.refresh_token.is_none() {
            fresh.refresh_token = tokens.refresh_token.clone();
        }
        if response.scopes().is_none() {
            // No `scope` in the response means "as granted before" (RFC 6749 §5.1, §6).
            fresh.scopes = tokens.scopes.clone();
        }
        fresh.refreshed = tokens.refreshed.saturating_add(1);
        fresh.identity = tokens.identity.clone();
        // OIDC Core §12.2: a refresh response may carry a new ID token for the same person.
        if let (Some(openid), Some(previous)) = (&self.openid, &tokens.identity) {
            let raw = response.extra_fields().id_token.as_ref();
            match openid.refreshed(raw, previous, now).await {
                Ok(Some(identity)) => fresh.identity = Some(identity),
                Ok(None) => {}
                Err(IdTokenError::KeysUnavailable) => {
                    return Err(RefreshError::Transient(ExchangeError::IdToken(
                        IdTokenError::KeysUnavailable,
                    )));
                }
                // A provider whose refreshed ID token fails a check cannot be trusted with this
                // grant any longer: forget the tokens, and sign in again.
                Err(refused) => return Err(RefreshError::Fatal(refused.to_string())),
            }
        }
        Ok(fresh)
    }
}
