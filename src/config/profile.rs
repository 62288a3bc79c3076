//! `OAUTH_PROFILE`: a security profile the configuration is checked against at startup.
//! `fapi2` refuses, one message per problem and all at once, what the FAPI 2.0 Security Profile
//! forbids this client: a shared secret, hand-written endpoints, front-channel authorization
//! requests and bearer tokens. Mutual TLS is out of scope, so DPoP is the sender constraint.
//! (The OAuth client also requires `iss` on every callback under it, RFC 9207.)

use super::{DpopMode, ParMode, ProviderSource, TokenAuth};

/// `OAUTH_PROFILE`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    /// Unset or `none`: the settings as given.
    Default,
    /// `fapi2`: the FAPI 2.0 Security Profile's client requirements, enforced at startup.
    Fapi2,
}

/// Parses `OAUTH_PROFILE`.
pub(super) fn parse(value: &str) -> anyhow::Result<Profile> {
    match value {
        "none" => Ok(Profile::Default),
        "fapi2" => Ok(Profile::Fapi2),
        _ => anyhow::bail!("expected none or fapi2"),
    }
}

/// What `fapi2` needs of the other settings; `None` where a value was invalid (already
/// reported under its own variable).
pub(super) struct Settings<'a> {
    pub client_secret_set: bool,
    pub token_auth: Option<TokenAuth>,
    pub provider: Option<&'a ProviderSource>,
    pub par: Option<ParMode>,
    pub dpop: Option<DpopMode>,
}

/// Every way `settings` breaks the FAPI 2.0 Security Profile, one message each, naming its
/// variable.
pub(super) fn fapi2_problems(settings: &Settings<'_>) -> Vec<String> {
    let mut problems = Vec::new();
    let fapi = "OAUTH_PROFILE=fapi2";
    // FAPI 2.0: confidential clients authenticate with private_key_jwt or mTLS, never a shared
    // secret (mTLS is not supported by this app).
    if settings
        .token_auth
        .is_some_and(|auth| auth != TokenAuth::PrivateKeyJwt)
    {
        problems.push(format!(
            "{fapi} requires OAUTH_TOKEN_AUTH=private_key_jwt (FAPI 2.0 client authentication: \
             private_key_jwt or mTLS, never a client secret)"
        ));
    }
    if settings.client_secret_set {
        problems.push(format!(
            "{fapi} forbids OAUTH_CLIENT_SECRET: the client authenticates with its key \
             (OAUTH_CLIENT_KEY_FILE); unset the secret"
        ));
    }
    // Endpoints come from the issuer's metadata, so the issuer is known and checked (RFC 8414
    // §3.3) and the assertion's audience is that issuer. Unconfigured: a wing that starts its own
    // provider fills in discovery, or startup already refuses.
    if let Some(ProviderSource::Explicit(_)) = settings.provider {
        problems.push(format!(
            "{fapi} requires discovery: set OAUTH_ISSUER and unset OAUTH_AUTH_URL (endpoints \
             given by hand are not allowed)"
        ));
    }
    // FAPI 2.0: authorization requests are pushed (RFC 9126), never sent in the front channel.
    if settings.par.is_some_and(|par| par != ParMode::On) {
        problems.push(format!(
            "{fapi} requires OAUTH_PAR=on (pushed authorization requests, RFC 9126)"
        ));
    }
    // FAPI 2.0: sender-constrained access tokens; DPoP (RFC 9449), as mTLS is out of scope.
    if settings.dpop.is_some_and(|dpop| dpop != DpopMode::On) {
        problems.push(format!(
            "{fapi} requires OAUTH_DPOP=on (sender-constrained access tokens, RFC 9449; mTLS is \
             not supported)"
        ));
    }
    problems
}

#[cfg(test)]
mod tests;
