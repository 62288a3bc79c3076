//! The authorization request's parameters and its rules (RFC 6749 §4.1.1, RFC 7636 §4.3):
//! which client and redirect URI to answer at, then everything else. Both the authorization
//! endpoint and the PAR endpoint (`par`, RFC 9126 §2.1) check requests with it.

use std::collections::HashMap;

use crate::{
    form::param_label,
    id_token::MAX_NONCE_BYTES,
    pkce,
    settings::RegisteredClient,
    store::{ProviderState, SCOPES},
};

/// The longest `state` accepted, in bytes. RFC 6749 §4.1.1 sets no limit; this pinned one keeps
/// the redirect back to the client a reasonable size (the whole query is capped at 16 KiB).
pub const MAX_STATE_BYTES: usize = 1024;

/// The request's parameters: how often each name came, and the non-empty values.
pub(crate) struct Params<'q> {
    counts: HashMap<&'q str, usize>,
    values: HashMap<&'q str, &'q str>,
}

impl<'q> Params<'q> {
    pub(crate) fn new(pairs: &'q [(String, String)]) -> Self {
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for (name, _) in pairs {
            *counts.entry(name.as_str()).or_default() += 1;
        }
        // Empty values count as omitted (OAuth 2.1 §3.1).
        let values = pairs
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        Self { counts, values }
    }

    pub(crate) fn repeated(&self, name: &str) -> bool {
        self.counts.get(name).is_some_and(|n| *n > 1)
    }

    pub(crate) fn get(&self, name: &str) -> Option<&'q str> {
        self.values.get(name).copied()
    }
}

/// What a request that passed every check asks for.
pub(crate) struct Checked<'q> {
    pub(crate) scope: Vec<String>,
    pub(crate) code_challenge: Option<&'q str>,
    /// The OpenID Connect `nonce`, echoed in the ID token (OIDC Core §3.1.2.1).
    pub(crate) nonce: Option<&'q str>,
}

/// The registered client and the redirect URI to answer at, or why the request must not be
/// redirected anywhere (the text of the error page).
pub(crate) fn trusted_target<'s>(
    state: &'s ProviderState,
    params: &Params<'_>,
) -> Result<(&'s RegisteredClient, String), &'static str> {
    if params.repeated("client_id") || params.repeated("redirect_uri") {
        return Err("client_id or redirect_uri is repeated (RFC 6749 §3.1).");
    }
    let client_id = params
        .get("client_id")
        .ok_or("The request has no client_id (RFC 6749 §4.1.1).")?;
    let client = state
        .client(client_id)
        .ok_or("This client_id is not registered here (RFC 6749 §4.1.2.1).")?;
    let redirect_uri = match params.get("redirect_uri") {
        // Exact string comparison, no normalization (RFC 9700 §4.1.3).
        Some(uri) if client.redirect_uris.iter().any(|r| r == uri) => uri.to_owned(),
        Some(_) => {
            return Err(
                "redirect_uri does not exactly match a URI registered for this client (RFC 6749 §3.1.2.3, RFC 9700 §4.1.3).",
            );
        }
        None => match client.redirect_uris.as_slice() {
            [only] => only.clone(),
            _ => {
                return Err(
                    "redirect_uri is required when a client has several registered (OAuth 2.1 §2.3.2).",
                );
            }
        },
    };
    Ok((client, redirect_uri))
}

/// Every other rule of the request, or the `error` and `error_description` to send back to the
/// client (RFC 6749 §4.1.2.1).
pub(crate) fn check_request<'q>(
    state: &ProviderState,
    params: &Params<'q>,
    state_param: Option<&str>,
) -> Result<Checked<'q>, (&'static str, String)> {
    let invalid = |description: &str| Err(("invalid_request", description.to_owned()));
    if let Some((name, _)) = params.counts.iter().find(|(_, n)| **n > 1) {
        // The name is echoed only if it is a known parameter (no attacker text in the reply).
        return invalid(&format!(
            "{} is repeated (RFC 6749 section 3.1)",
            param_label(name)
        ));
    }
    if state_param.is_some_and(|s| s.len() > MAX_STATE_BYTES) {
        return invalid(
            "state is longer than this server's limit of 1024 bytes (RFC 6749 section 4.1.1 leaves the limit to the server)",
        );
    }
    match params.get("response_type") {
        Some("code") => {}
        None => return invalid("response_type is missing (RFC 6749 section 4.1.1)"),
        Some(_) => {
            return Err((
                "unsupported_response_type",
                "only response_type=code is supported; the implicit grant is deprecated (RFC 9700 section 2.1.2)".into(),
            ));
        }
    }
    let code_challenge = params.get("code_challenge");
    if code_challenge.is_none() && state.settings.pkce_required {
        return invalid(
            "code_challenge is required: this server enforces PKCE (RFC 7636 section 4.4.1, RFC 9700 section 2.1.1)",
        );
    }
    if let Some(challenge) = code_challenge
        && let Err(description) =
            pkce::check_challenge(challenge, params.get("code_challenge_method"))
    {
        return invalid(description);
    }
    let scope: Vec<String> = params
        .get("scope")
        .unwrap_or("photos")
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if scope.is_empty() || !scope.iter().all(|s| SCOPES.contains(&s.as_str())) {
        return Err((
            "invalid_scope",
            "the requested scope is unknown; supported: photos, profile, openid (RFC 6749 section 3.3)"
                .into(),
        ));
    }
    let nonce = params.get("nonce");
    if nonce.is_some_and(|n| n.len() > MAX_NONCE_BYTES) {
        return invalid(
            "nonce is longer than this server's limit of 512 bytes (it comes back in the ID token, OpenID Connect Core section 3.1.2.1)",
        );
    }
    Ok(Checked {
        scope,
        code_challenge,
        nonce,
    })
}
