//! One ID token checked against one key set, with `openidconnect`'s verifier (OIDC Core
//! §3.1.3.7): signature and algorithm, `iss`, `aud`, `exp` and `nonce` by the library; `azp`,
//! `iat` and the `sub` and `name` bounds here. Synchronous and network-free: the key set comes
//! from `jwks`.

use openidconnect::{
    ClaimsVerificationError, ClientId, IssuerUrl, Nonce, SignatureVerificationError,
    core::{CoreIdToken, CoreIdTokenVerifier, CoreJsonWebKeySet, CoreJwsSigningAlgorithm},
};

use super::{IdTokenError, Identity, RawIdToken};

/// The signature algorithms accepted: asymmetric ones only (OIDC Core §3.1.3.7 (6)–(8)). Never
/// `none` (§16.3 "token manufacture"), never HS*: this app is a confidential client, but an HS*
/// token "keyed" with a public key from the JWKS is the classic algorithm-confusion forgery, and
/// the verifier is built as a public client's so it has no shared secret to use either.
const ALLOWED_ALGS: [CoreJwsSigningAlgorithm; 9] = [
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
    CoreJwsSigningAlgorithm::RsaSsaPssSha256,
    CoreJwsSigningAlgorithm::RsaSsaPssSha384,
    CoreJwsSigningAlgorithm::RsaSsaPssSha512,
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    CoreJwsSigningAlgorithm::EcdsaP384Sha384,
    CoreJwsSigningAlgorithm::EdDsa,
];

/// The algorithms to accept: [`ALLOWED_ALGS`], narrowed to those the provider says it signs
/// ID tokens with when its metadata lists them (OIDC Discovery §3), so a token in any other
/// algorithm is refused even if the library could verify it. Empty: nothing is acceptable.
pub fn allowed_algs(advertised: Option<&[String]>) -> Vec<CoreJwsSigningAlgorithm> {
    let named = |alg: &CoreJwsSigningAlgorithm| {
        let name = serde_json::to_value(alg).ok();
        advertised.is_none_or(|list| {
            list.iter()
                .any(|a| Some(a.as_str()) == name.as_ref().and_then(|n| n.as_str()))
        })
    };
    ALLOWED_ALGS.into_iter().filter(named).collect()
}

/// How far in the future an `iat` may be (clock drift between the provider and this server).
pub const MAX_IAT_SKEW_SECS: i64 = 60;
/// The longest `sub` (OIDC Core §2: "MUST NOT exceed 255 ASCII characters").
const MAX_SUB_LEN: usize = 255;
/// The longest `name` kept; a longer one is cut (it is only shown).
const MAX_NAME_CHARS: usize = 100;

/// What the check needs besides the token and the keys.
pub struct Expected<'a> {
    pub issuer: &'a IssuerUrl,
    pub client_id: &'a ClientId,
    /// From [`allowed_algs`].
    pub algs: &'a [CoreJwsSigningAlgorithm],
    /// The pending login's nonce at sign-in; `None` on refresh, where none is required
    /// (OIDC Core §12.2).
    pub nonce: Option<&'a Nonce>,
    /// Unix seconds now.
    pub now: i64,
}

/// Checks `raw` against `keys` (OIDC Core §3.1.3.7) and returns who it names.
pub fn check(
    raw: &RawIdToken,
    keys: &CoreJsonWebKeySet,
    expected: &Expected<'_>,
) -> Result<Identity, IdTokenError> {
    let token: CoreIdToken = raw.0.parse().map_err(|_| IdTokenError::Malformed)?;
    // (2) iss exactly, (3) aud contains the client and no untrusted audience, (6)–(8) the
    // signature with an allowed algorithm and the provider's key, (9) exp.
    let verifier = CoreIdTokenVerifier::new_public_client(
        expected.client_id.clone(),
        expected.issuer.clone(),
        keys.clone(),
    )
    .set_allowed_algs(expected.algs.iter().cloned());
    // (11) The nonce, compared in constant time by the library; at refresh, any (§12.2).
    let claims = match expected.nonce {
        Some(nonce) => token.claims(&verifier, nonce),
        None => token.claims(&verifier, |_: Option<&Nonce>| Ok(())),
    }
    .map_err(refusal)?;
    // (4)–(5) azp, when present, is this client (the library leaves azp to the caller).
    if claims
        .authorized_party()
        .is_some_and(|azp| azp.as_str() != expected.client_id.as_str())
    {
        return Err(IdTokenError::AuthorizedParty);
    }
    // (10) iat: not from the future beyond the clock skew.
    if claims.issue_time().timestamp() > expected.now.saturating_add(MAX_IAT_SKEW_SECS) {
        return Err(IdTokenError::IssuedInFuture);
    }
    let subject = claims.subject().as_str();
    if subject.is_empty() || subject.len() > MAX_SUB_LEN {
        return Err(IdTokenError::Malformed);
    }
    let name = claims
        .name()
        .and_then(|name| name.get(None))
        .map(|name| {
            name.as_str()
                .chars()
                .take(MAX_NAME_CHARS)
                .collect::<String>()
        })
        .filter(|name| !name.trim().is_empty());
    Ok(Identity {
        subject: subject.to_owned(),
        name,
        id_token: raw.clone(),
        sid: sid_of(raw),
    })
}

/// The `sid` claim of a token whose signature was just checked (OIDC Back-Channel Logout 1.0
/// §2.1; the library's standard claims do not have it), if present and of a sane length.
fn sid_of(raw: &RawIdToken) -> Option<String> {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64};
    let payload = B64.decode(raw.0.split('.').nth(1)?).ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&payload).ok()?;
    let sid = claims["sid"].as_str()?;
    (!sid.is_empty() && sid.len() <= MAX_SUB_LEN).then(|| sid.to_owned())
}

/// The library's refusal as ours: which check failed, never what the token said.
fn refusal(err: ClaimsVerificationError) -> IdTokenError {
    use SignatureVerificationError as Sig;
    match err {
        ClaimsVerificationError::InvalidIssuer(_) => IdTokenError::Issuer,
        ClaimsVerificationError::InvalidAudience(_) => IdTokenError::Audience,
        ClaimsVerificationError::Expired(_) => IdTokenError::Expired,
        ClaimsVerificationError::InvalidNonce(_) => IdTokenError::Nonce,
        ClaimsVerificationError::SignatureVerification(Sig::NoMatchingKey) => {
            IdTokenError::UnknownKey
        }
        ClaimsVerificationError::SignatureVerification(
            Sig::DisallowedAlg(_) | Sig::UnsupportedAlg(_) | Sig::NoSignature,
        ) => IdTokenError::Algorithm,
        ClaimsVerificationError::SignatureVerification(_) => IdTokenError::Signature,
        _ => IdTokenError::Malformed,
    }
}
