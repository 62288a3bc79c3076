//! OpenID Connect sign-in (OIDC Core §3.1), on when `openid` is among `OAUTH_SCOPES`: the
//! ID token of a token response checked in full (§3.1.3.7, in `verify`) against the provider's
//! cached keys (`jwks`), and who it names, kept with the tokens as an [`Identity`].
//!
//! Without `openid` none of this runs: no nonce is made, no ID token is asked for or read.

mod jwks;
mod logout;
pub mod logout_token;
mod verify;

use std::fmt;

use openidconnect::{ClientId, IssuerUrl, Nonce, core::CoreJwsSigningAlgorithm};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::http_client::HttpClient;

/// The scope that makes a sign-in an OpenID Connect authentication (OIDC Core §3.1.2.1).
pub const OPENID: &str = "openid";
/// The longest ID token kept: it is stored in the session record.
const MAX_ID_TOKEN_LEN: usize = 8 * 1024;

/// Who signed in, from a checked ID token. Kept with the session's tokens; `Debug` redacts the
/// token.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Identity {
    /// `sub`: the provider's identifier of the person (OIDC Core §2), at most 255 characters.
    pub subject: String,
    /// `name`, if the provider sent one (OIDC Core §5.1); only ever shown, escaped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The ID token itself, for a later RP-initiated logout's `id_token_hint`.
    pub id_token: RawIdToken,
    /// `sid`, the provider's session (OIDC Back-Channel Logout 1.0 §2.1), if it sent one: a
    /// logout token naming it ends this session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
}

impl Identity {
    /// What the pages call the person: their name, else their `sub`.
    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.subject)
    }
}

/// An ID token as the provider sent it: a bearer of the person's identity, so `Debug` never
/// shows it and it is only stored (sealed, like the other tokens).
#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RawIdToken(String);

impl RawIdToken {
    #[cfg(test)]
    pub fn new(token: String) -> Self {
        Self(token)
    }

    /// The token itself, for an `id_token_hint` (OIDC RP-Initiated Logout §2).
    pub fn secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for RawIdToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RawIdToken([redacted])")
    }
}

/// The token response's `id_token` member (OIDC Core §3.1.3.3), read as text: it is parsed
/// only when `openid` was asked for, so a provider that sends one anyway changes nothing.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct IdTokenField {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<RawIdToken>,
}

impl oauth2::ExtraTokenFields for IdTokenField {}

/// Why an ID token was refused: which check of OIDC Core §3.1.3.7 failed, never what the token
/// said (it reaches a log line).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IdTokenError {
    #[error("the token response has no ID token (OIDC Core §3.1.3.3)")]
    Missing,
    #[error("the ID token is not a well-formed signed JWT with the required claims")]
    Malformed,
    #[error("the ID token's iss is not the provider's issuer (OIDC Core §3.1.3.7 (2))")]
    Issuer,
    #[error("the ID token's aud does not name this client alone (OIDC Core §3.1.3.7 (3))")]
    Audience,
    #[error("the ID token's azp is not this client (OIDC Core §3.1.3.7 (5))")]
    AuthorizedParty,
    #[error("the ID token has expired (OIDC Core §3.1.3.7 (9))")]
    Expired,
    #[error("the ID token's iat is in the future (OIDC Core §3.1.3.7 (10))")]
    IssuedInFuture,
    #[error("the ID token's nonce is missing or not this sign-in's (OIDC Core §3.1.3.7 (11))")]
    Nonce,
    #[error("the ID token's algorithm is not allowed (OIDC Core §3.1.3.7 (7), §16.3)")]
    Algorithm,
    #[error("the ID token is signed with a key the provider does not publish (OIDC Core §10.1.1)")]
    UnknownKey,
    #[error("the ID token's signature does not verify (OIDC Core §3.1.3.7 (6))")]
    Signature,
    #[error("the refreshed ID token names another issuer or person (OIDC Core §12.2)")]
    OtherPerson,
    #[error("the provider's signing keys (jwks_uri) could not be fetched or read")]
    KeysUnavailable,
}

/// The OpenID Connect half of the client: the issuer and client an ID token must name, and the
/// provider's keys.
#[derive(Debug)]
pub struct OpenId {
    issuer: IssuerUrl,
    client_id: ClientId,
    /// The signature algorithms accepted: see [`verify::allowed_algs`].
    algs: Vec<CoreJwsSigningAlgorithm>,
    jwks: jwks::Jwks,
    /// The provider's `end_session_endpoint` (OIDC RP-Initiated Logout 1.0 §2.1), if any.
    end_session: Option<Url>,
}

impl OpenId {
    /// `advertised`: the provider's `id_token_signing_alg_values_supported`, if it lists them.
    pub fn new(
        issuer: &str,
        client_id: &str,
        jwks_url: Url,
        advertised: Option<&[String]>,
        http: HttpClient,
    ) -> anyhow::Result<Self> {
        let algs = verify::allowed_algs(advertised);
        if algs.is_empty() {
            anyhow::bail!(
                "the provider signs ID tokens only with algorithms this app refuses \
                 (id_token_signing_alg_values_supported lists no asymmetric one; none and HS* are \
                 never accepted, OIDC Core §16.3): remove openid from OAUTH_SCOPES"
            );
        }
        Ok(Self {
            issuer: IssuerUrl::new(issuer.to_owned())?,
            client_id: ClientId::new(client_id.to_owned()),
            algs,
            jwks: jwks::Jwks::new(jwks_url, http),
            end_session: None,
        })
    }

    /// Sets the provider's `end_session_endpoint`, from its discovery document.
    pub fn with_end_session(mut self, url: Option<Url>) -> Self {
        self.end_session = url;
        self
    }

    /// Checks the sign-in's ID token (OIDC Core §3.1.3.7) with the nonce its authorization
    /// request carried.
    pub async fn sign_in(
        &self,
        raw: Option<&RawIdToken>,
        nonce: &Nonce,
        now: i64,
    ) -> Result<Identity, IdTokenError> {
        // OIDC Core §3.1.3.3: a successful OpenID Connect token response carries an ID token.
        let raw = raw.ok_or(IdTokenError::Missing)?;
        self.check(raw, Some(nonce), now).await
    }

    /// Checks a refresh response's ID token, if it has one (OIDC Core §12.2): valid as at
    /// sign-in but without a nonce, and about the same person at the same issuer.
    pub async fn refreshed(
        &self,
        raw: Option<&RawIdToken>,
        previous: &Identity,
        now: i64,
    ) -> Result<Option<Identity>, IdTokenError> {
        let Some(raw) = raw else {
            return Ok(None);
        };
        let identity = self.check(raw, None, now).await?;
        // OIDC Core §12.2: "its sub Claim Value MUST be the same" (iss was checked as at
        // sign-in, against the one issuer).
        if identity.subject != previous.subject {
            return Err(IdTokenError::OtherPerson);
        }
        Ok(Some(identity))
    }

    async fn check(
        &self,
        raw: &RawIdToken,
        nonce: Option<&Nonce>,
        now: i64,
    ) -> Result<Identity, IdTokenError> {
        if raw.0.len() > MAX_ID_TOKEN_LEN {
            return Err(IdTokenError::Malformed);
        }
        let expected = verify::Expected {
            issuer: &self.issuer,
            client_id: &self.client_id,
            algs: &self.algs,
            nonce,
            now,
        };
        let keys = self.jwks.keys().await?;
        match verify::check(raw, &keys.keys, &expected) {
            // A key this set does not have: the provider may have rotated (OIDC Core §10.1.1).
            Err(IdTokenError::UnknownKey) => match self.jwks.refetch(&keys).await? {
                Some(fresh) => verify::check(raw, &fresh.keys, &expected),
                None => Err(IdTokenError::UnknownKey),
            },
            checked => checked,
        }
    }
}

/// A fresh nonce for an authorization request (OIDC Core §3.1.2.1, §15.5.2): 256 random bits,
/// kept in the pending login and compared with the ID token's.
pub fn new_nonce() -> Nonce {
    Nonce::new(crate::random::random_token())
}

#[cfg(test)]
mod tests;
