//! A back-channel logout token checked (OIDC Back-Channel Logout 1.0 §2.6): its signature with
//! the provider's cached keys (the ID tokens' `jwks`, with the same one refetch for an unknown
//! `kid`) through `openidconnect`'s JWK verification, then `iss`, `aud`, `iat`, `exp`, the
//! logout event, `sid` and/or `sub`, and no `nonce`. Whether its `jti` was seen before is the
//! caller's (a replay cache shared by the instances).

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64};
use openidconnect::{JsonWebKey, core::CoreJwsSigningAlgorithm};
use serde_json::Value;

use super::{OpenId, jwks::Snapshot, verify::MAX_IAT_SKEW_SECS};

/// The event a logout token must carry (§2.4).
pub const LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";
/// The oldest `iat` accepted, in seconds: a logout token is sent at once (§2.5), so an old one
/// is a replay, and the `jti` cache need only remember this long.
pub const MAX_AGE_SECS: i64 = 300;
/// The longest logout token read.
const MAX_LEN: usize = 8 * 1024;
/// The longest `sid`, `sub` or `jti` kept.
const MAX_CLAIM_LEN: usize = 255;

/// Who a valid logout token logs out (§2.4): the session `sid`, or every session of `sub`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutToken {
    pub sid: Option<String>,
    pub sub: Option<String>,
    /// The token's identifier, for the replay check (§2.4 `jti`, §2.6 step 7).
    pub jti: String,
    /// Its `iat`: the replay cache keeps the `jti` until `iat` + [`MAX_AGE_SECS`].
    pub iat: i64,
}

/// Which check of §2.6 refused a logout token; never what it said (it reaches a log line).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LogoutTokenError {
    #[error("not a well-formed signed JWT")]
    Malformed,
    #[error("signed with an algorithm that is not allowed (§2.6 step 3)")]
    Algorithm,
    #[error("the signature does not verify with the provider's keys (§2.6 step 3)")]
    Signature,
    #[error("iss is not the provider's issuer (§2.6 step 3)")]
    Issuer,
    #[error("aud does not name this client (§2.6 step 3)")]
    Audience,
    #[error("iat is too old or in the future, or exp has passed (§2.6 step 3)")]
    Time,
    #[error("no jti (§2.4)")]
    NoJti,
    #[error("no back-channel logout event (§2.6 step 4)")]
    Event,
    #[error("neither sid nor sub (§2.6 step 5)")]
    NoSubject,
    #[error("a nonce: an ID token, not a logout token (§2.6 step 6)")]
    Nonce,
    #[error("the provider's signing keys could not be fetched")]
    KeysUnavailable,
}

impl OpenId {
    /// Checks `raw` (§2.6 steps 1–6, all but the `jti` replay check) at `now`.
    pub async fn logout_token(&self, raw: &str, now: i64) -> Result<LogoutToken, LogoutTokenError> {
        if raw.len() > MAX_LEN {
            return Err(LogoutTokenError::Malformed);
        }
        let keys = self
            .jwks
            .keys()
            .await
            .map_err(|_| LogoutTokenError::KeysUnavailable)?;
        let claims = match self.signed_claims(raw, &keys) {
            // A key this set does not have: the provider may have rotated (OIDC Core §10.1.1).
            Err(UnknownKey) => match self.jwks.refetch(&keys).await {
                Ok(Some(fresh)) => self
                    .signed_claims(raw, &fresh)
                    .unwrap_or(Err(LogoutTokenError::Signature)),
                Ok(None) => Err(LogoutTokenError::Signature),
                Err(_) => Err(LogoutTokenError::KeysUnavailable),
            },
            Ok(checked) => checked,
        }?;
        self.check_claims(&claims, now)
    }

    /// The payload of `raw` if its signature verifies with `keys`; `Err(UnknownKey)` when it
    /// names a key the set does not have.
    fn signed_claims(
        &self,
        raw: &str,
        keys: &Snapshot,
    ) -> Result<Result<Value, LogoutTokenError>, UnknownKey> {
        let malformed = Ok(Err(LogoutTokenError::Malformed));
        let Some((input, signature)) = raw.rsplit_once('.') else {
            return malformed;
        };
        let Some((header, payload)) = input.split_once('.') else {
            return malformed;
        };
        let (Some(header), Ok(signature)) = (json_part(header), B64.decode(signature)) else {
            return malformed;
        };
        // §2.6 step 3: the same algorithm rules as ID tokens; never `none`, never HS*.
        let alg: Option<CoreJwsSigningAlgorithm> =
            serde_json::from_value(header["alg"].clone()).ok();
        let Some(alg) = alg.filter(|alg| self.algs.contains(alg)) else {
            return Ok(Err(LogoutTokenError::Algorithm));
        };
        let kid = header["kid"].as_str();
        let mut candidates =
            keys.keys.keys().iter().filter(|key| {
                kid.is_none_or(|kid| key.key_id().is_some_and(|id| id.as_str() == kid))
            });
        let mut any = false;
        let verified = candidates.any(|key| {
            any = true;
            key.verify_signature(&alg, input.as_bytes(), &signature)
                .is_ok()
        });
        if !any {
            return Err(UnknownKey);
        }
        if !verified {
            return Ok(Err(LogoutTokenError::Signature));
        }
        Ok(json_part(payload).ok_or(LogoutTokenError::Malformed))
    }

    /// §2.6 steps 3–6 on the verified claims.
    fn check_claims(&self, claims: &Value, now: i64) -> Result<LogoutToken, LogoutTokenError> {
        if claims["iss"].as_str() != Some(self.issuer.as_str()) {
            return Err(LogoutTokenError::Issuer);
        }
        // aud: this client, as a string or within an array (as for ID tokens, no other).
        let client = self.client_id.as_str();
        let aud_ok = match &claims["aud"] {
            Value::String(aud) => aud == client,
            Value::Array(auds) => auds.len() == 1 && auds[0].as_str() == Some(client),
            _ => false,
        };
        if !aud_ok {
            return Err(LogoutTokenError::Audience);
        }
        let iat = claims["iat"].as_i64().ok_or(LogoutTokenError::Time)?;
        if iat > now.saturating_add(MAX_IAT_SKEW_SECS) || iat < now.saturating_sub(MAX_AGE_SECS) {
            return Err(LogoutTokenError::Time);
        }
        if claims["exp"].as_i64().is_some_and(|exp| exp <= now) {
            return Err(LogoutTokenError::Time);
        }
        // §2.6 step 6: a nonce means this is an ID token presented as a logout token.
        if claims.get("nonce").is_some() {
            return Err(LogoutTokenError::Nonce);
        }
        // §2.6 step 4: events names the back-channel logout event (with a JSON object).
        if !claims["events"][LOGOUT_EVENT].is_object() {
            return Err(LogoutTokenError::Event);
        }
        let text = |name: &str| {
            claims[name]
                .as_str()
                .filter(|v| !v.is_empty() && v.len() <= MAX_CLAIM_LEN)
                .map(str::to_owned)
        };
        let jti = text("jti").ok_or(LogoutTokenError::NoJti)?;
        let (sid, sub) = (text("sid"), text("sub"));
        // §2.6 step 5: sid, sub, or both.
        if sid.is_none() && sub.is_none() {
            return Err(LogoutTokenError::NoSubject);
        }
        Ok(LogoutToken { sid, sub, jti, iat })
    }
}

/// The token names a key the set does not have.
struct UnknownKey;

fn json_part(part: &str) -> Option<Value> {
    serde_json::from_slice(&B64.decode(part).ok()?).ok()
}
