//! The flow inspector's words: each kind of step's title, summary and RFC sections, and a
//! one-line explanation of each parameter, shown next to the real values on `/flow`.

use super::StepKind;

type Described = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

/// Title, one-line summary and RFC sections of each kind of step.
pub(super) fn describe(kind: StepKind) -> Described {
    match kind {
        StepKind::Authorize => (
            "The Connect link: the authorization request",
            "This app made the request, with a fresh state and PKCE challenge. Its parameters reach the provider in the link, through your browser, unless they are pushed first (PAR).",
            &[
                (
                    "RFC 6749 §4.1.1",
                    "https://www.rfc-editor.org/rfc/rfc6749#section-4.1.1",
                ),
                (
                    "RFC 7636 §4.2–4.3",
                    "https://www.rfc-editor.org/rfc/rfc7636#section-4.2",
                ),
                (
                    "RFC 9700 §2.1.1",
                    "https://www.rfc-editor.org/rfc/rfc9700#section-2.1.1",
                ),
            ],
        ),
        StepKind::Push => (
            "The push: the request sent over the back channel (PAR)",
            "Before sending your browser to the provider, the app pushed the parameters to it directly, with its client credentials, and got a one-time request_uri in return.",
            &[
                (
                    "RFC 9126 §2",
                    "https://www.rfc-editor.org/rfc/rfc9126#section-2",
                ),
                (
                    "RFC 9126 §4",
                    "https://www.rfc-editor.org/rfc/rfc9126#section-4",
                ),
            ],
        ),
        StepKind::Callback => (
            "The callback: the provider's answer at /cb",
            "After you approved, the provider redirected your browser back here with a one-time code.",
            &[
                (
                    "RFC 6749 §4.1.2",
                    "https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2",
                ),
                (
                    "RFC 6749 §10.12",
                    "https://www.rfc-editor.org/rfc/rfc6749#section-10.12",
                ),
                (
                    "RFC 9207 §2",
                    "https://www.rfc-editor.org/rfc/rfc9207#section-2",
                ),
            ],
        ),
        StepKind::Token => (
            "The token request: the code exchanged for tokens",
            "Server to server: the code, the PKCE verifier and the client's credentials, answered with tokens.",
            &[
                (
                    "RFC 6749 §4.1.3",
                    "https://www.rfc-editor.org/rfc/rfc6749#section-4.1.3",
                ),
                (
                    "RFC 6749 §5.1",
                    "https://www.rfc-editor.org/rfc/rfc6749#section-5.1",
                ),
                (
                    "RFC 7636 §4.5",
                    "https://www.rfc-editor.org/rfc/rfc7636#section-4.5",
                ),
            ],
        ),
        StepKind::RefreshExpiring => (
            "Refresh: the access token was about to expire",
            "Before calling the photos API, the app traded its refresh token for a fresh access token.",
            REFRESH,
        ),
        StepKind::RefreshRejected => (
            "Refresh: the photos API refused the access token",
            "The API answered 401, so the app refreshed once and retried once.",
            REFRESH,
        ),
        StepKind::Photos => (
            "A photos API call",
            "The access token goes in the Authorization header only, never in a URL.",
            &[(
                "RFC 6750 §2.1",
                "https://www.rfc-editor.org/rfc/rfc6750#section-2.1",
            )],
        ),
        StepKind::RevokeRefresh => ("Logout: the refresh token revoked", REVOKE_SUMMARY, REVOKE),
        StepKind::RevokeAccess => ("Logout: the access token revoked", REVOKE_SUMMARY, REVOKE),
    }
}

const REFRESH: &[(&str, &str)] = &[
    (
        "RFC 6749 §6",
        "https://www.rfc-editor.org/rfc/rfc6749#section-6",
    ),
    (
        "RFC 9700 §4.14.2",
        "https://www.rfc-editor.org/rfc/rfc9700#section-4.14.2",
    ),
];
const REVOKE: &[(&str, &str)] = &[(
    "RFC 7009 §2.1",
    "https://www.rfc-editor.org/rfc/rfc7009#section-2.1",
)];
const REVOKE_SUMMARY: &str =
    "At logout the app tells the provider to end its access, so the grant ends there too.";

/// A one-line explanation of a parameter or field, by name.
pub(super) fn note(name: &str) -> Option<&'static str> {
    Some(match name {
        "authorization endpoint" => "the provider's page where you sign in and approve",
        "response_type" => "code: ask for an authorization code (the only flow this app uses)",
        "client_id" => "who is asking: this app's registration at the provider (RFC 6749 §2.2)",
        "redirect_uri" => {
            "where the provider sends your browser back; it must match the registration exactly"
        }
        "scope" => "what the app asks to do: read your photos (RFC 6749 §3.3)",
        "state" => {
            "random, bound to this browser's session: the answer must bring it back (CSRF defence)"
        }
        "code_challenge" => {
            "BASE64URL(SHA256(code_verifier)): a hash, so the verifier itself never travels through the browser"
        }
        "code_challenge_method" => {
            "S256: the challenge is a SHA-256 hash, never the plain verifier"
        }
        "code_verifier (kept on the server)" => {
            "43+ random characters made with the link and kept in the session until the token request"
        }
        "SHA256(code_verifier), hex" => {
            "the verifier's hash, recomputed here from the kept verifier"
        }
        "BASE64URL(SHA256(code_verifier))" => {
            "the same hash in base64url without padding: must equal code_challenge"
        }
        "code" => "the one-time authorization code; already spent (single use, RFC 6749 §4.1.2)",
        "iss" => "which server answered: defends against mix-up attacks (RFC 9207)",
        "error" => "the provider's error code (access_denied: you declined)",
        "grant_type" => {
            "authorization_code (the oauth.com example says code; RFC 6749 §4.1.3 says authorization_code)"
        }
        "code_verifier" => {
            "proves this is the client that made the link (RFC 7636 §4.5); spent with the code"
        }
        "refresh_token" => "the long-lived token, traded for a new access token",
        "token" => "the token to revoke",
        "token_type_hint" => {
            "which kind of token it is, to help the provider find it (RFC 7009 §2.1)"
        }
        "client_secret" => "the app's password at the provider: never shown",
        "request_uri" => {
            "stands for the pushed parameters: single use and short-lived (RFC 9126 §2.2)"
        }
        _ => return None,
    })
}
