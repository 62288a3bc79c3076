//! `POST /logout`: revokes the tokens at the provider (RFC 7009) and ends the session; with
//! OpenID Connect, goes on to the provider's end-session endpoint (RP-Initiated Logout 1.0).

use axum::{
    Extension, Router,
    extract::State,
    http::{HeaderMap, header},
    response::Redirect,
    routing::post,
};

use crate::{
    clock::now,
    form, metrics,
    oauth::TokenSet,
    random::random_token,
    session::AppSession,
    telemetry::Outcome,
    web::{
        error::{AppError, Result},
        extract::FormBody,
        inspect::Recording,
        state::AppState,
    },
};

pub fn router() -> Router<AppState> {
    Router::new().route("/logout", post(logout))
}

/// Ends the session. Needs the session's logout token in the form and, when the browser sends
/// one, our own `Origin`: a cross-site form cannot log people out (RFC 6749 §10.12).
async fn logout(
    State(state): State<AppState>,
    session: AppSession,
    headers: HeaderMap,
    FormBody(body): FormBody,
) -> Result<(Extension<Outcome>, Redirect)> {
    if !same_origin(&headers, &state.settings.app_origin) {
        return Err(AppError::Csrf);
    }
    let form = std::str::from_utf8(&body)
        .ok()
        .and_then(|b| form::parse_unique(b, 4096).ok())
        .unwrap_or_default();
    let sent = form
        .get("csrf_token")
        .map(String::as_str)
        .unwrap_or_default();
    if !session.logout_token_matches(sent).await? {
        return Err(AppError::Csrf);
    }
    let recording = Recording::start(&state);
    let tokens = session.tokens().await?;
    let notice = match &tokens {
        Some(tokens) => match recording.run(revoke_both(&state, tokens, &recording)).await {
            Revocation::Done => "signed-out".to_owned(),
            outcome => {
                let kind = if outcome == Revocation::Unsupported {
                    "signed-out-local"
                } else {
                    "signed-out-unrevoked"
                };
                match tokens.expires_at.map(|at| (at - now()).max(0)) {
                    Some(left) => format!("{kind}&minutes={}", (left + 59) / 60),
                    None => kind.to_owned(),
                }
            }
        },
        None => "signed-out".to_owned(),
    };
    // With a wing recording, the revocations join its record, kept a little longer.
    recording
        .end(&session, state.settings.pending_login_ttl)
        .await?;
    // OIDC RP-Initiated Logout 1.0 §2: with an ID token and a provider that has an
    // end-session endpoint, the browser goes on there so the provider ends its session too,
    // with a fresh state kept in the new anonymous session (§2 "state": checked on return).
    let logout_state = random_token();
    let end_session = tokens.as_ref().and_then(|tokens| {
        state
            .oauth
            .end_session_url(tokens, &state.settings.home_url, &logout_state)
    });
    if let Some(url) = end_session {
        session
            .remember_logout(&logout_state, &notice, state.settings.pending_login_ttl)
            .await?;
        let outcome = Outcome(format!(
            "signed out ({notice}), ending the provider's session"
        ));
        return Ok((Extension(outcome), Redirect::to(url.as_str())));
    }
    let outcome = Outcome(format!("signed out ({notice})"));
    Ok((
        Extension(outcome),
        Redirect::to(&format!("/?notice={notice}")),
    ))
}

/// What the provider heard of the logout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Revocation {
    /// Both tokens revoked (RFC 7009 §2.2: 200 also for an already invalid token).
    Done,
    /// The provider has no revocation endpoint: its tokens live until they expire.
    Unsupported,
    /// A revocation failed or timed out: the tokens may still be valid until they expire.
    Failed,
}

/// Revokes at the provider first (RFC 7009 §2.1), so logging out here also ends the grant
/// there. Both tokens at once, together bounded by `REVOCATION_TIMEOUT_SECS`; a failure is
/// logged and told honestly, but the local logout never depends on the provider being up
/// (RFC 7009 §2.2.1).
async fn revoke_both(state: &AppState, tokens: &TokenSet, recording: &Recording) -> Revocation {
    if !state.oauth.can_revoke() {
        return Revocation::Unsupported;
    }
    let refresh = async {
        match &tokens.refresh_token {
            Some(rt) => state.oauth.revoke(rt.secret(), "refresh_token").await,
            None => Ok(()),
        }
    };
    let access = state
        .oauth
        .revoke(tokens.access_token.secret(), "access_token");
    let timeout = state.settings.revocation_timeout;
    let (refresh, access) = tokio::join!(
        tokio::time::timeout(timeout, refresh),
        tokio::time::timeout(timeout, access)
    );
    let outcomes = [("refresh_token", refresh), ("access_token", access)];
    let failures: Vec<String> = outcomes
        .into_iter()
        // No refresh token, nothing revoked: not counted.
        .filter(|(hint, _)| *hint == "access_token" || tokens.refresh_token.is_some())
        .filter_map(|(hint, result)| match result {
            Ok(Ok(())) => {
                metrics::revocation(hint, "ok");
                None
            }
            Ok(Err(err)) => {
                metrics::revocation(hint, "failed");
                Some(format!("{hint}: {err}"))
            }
            Err(_) => {
                metrics::revocation(hint, "timeout");
                let why = format!("no answer within {} s", timeout.as_secs());
                recording.unanswered_revocation(hint, &why);
                Some(format!("{hint}: {why}"))
            }
        })
        .collect();
    if failures.is_empty() {
        return Revocation::Done;
    }
    let failures = failures.join("; ");
    tracing::warn!(error = %failures, "revocation failed; logged out locally anyway");
    Revocation::Failed
}

/// Whether a POST comes from our own pages: `Origin` is ours or absent (non-browser clients; the
/// CSRF token still applies). Some browsers send `Origin: null` on same-origin POSTs under strict
/// referrer settings; that counts only when `Sec-Fetch-Site` confirms `same-origin`.
fn same_origin(headers: &HeaderMap, app_origin: &str) -> bool {
    match headers.get(header::ORIGIN).map(|o| o.as_bytes()) {
        None => true,
        Some(b"null") => headers
            .get("sec-fetch-site")
            .is_some_and(|v| v.as_bytes() == b"same-origin"),
        Some(origin) => origin == app_origin.as_bytes(),
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_origin_accepts_ours_absent_or_confirmed_null() {
        let app = "http://localhost:3000";
        let with = |pairs: &[(&'static str, &'static str)]| {
            let mut h = HeaderMap::new();
            for (k, v) in pairs {
                h.insert(*k, http::HeaderValue::from_static(v));
            }
            h
        };
        assert!(same_origin(&with(&[]), app));
        assert!(same_origin(
            &with(&[("origin", "http://localhost:3000")]),
            app
        ));
        assert!(same_origin(
            &with(&[("origin", "null"), ("sec-fetch-site", "same-origin")]),
            app
        ));
        assert!(!same_origin(&with(&[("origin", "null")]), app));
        assert!(!same_origin(
            &with(&[("origin", "null"), ("sec-fetch-site", "cross-site")]),
            app
        ));
        assert!(!same_origin(
            &with(&[("origin", "https://evil.example")]),
            app
        ));
        assert!(!same_origin(
            &with(&[("origin", "http://localhost:3000.evil.example")]),
            app
        ));
    }
}
