//! `POST /logout`: revokes the tokens at the provider (RFC 7009) and ends the session.

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, header},
    response::Redirect,
    routing::post,
};

use crate::{
    error::{AppError, Result},
    form,
    oauth::TokenSet,
    session::AppSession,
    state::AppState,
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
    body: Bytes,
) -> Result<Redirect> {
    if !same_origin(&headers, &state.app_origin) {
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
    if let Some(tokens) = session.tokens().await? {
        revoke_both(&state, &tokens).await;
    }
    session.end().await?;
    tracing::info!("signed out");
    Ok(Redirect::to("/?notice=signed-out"))
}

/// Revokes at the provider first (RFC 7009 §2.1), so logging out here also ends the grant
/// there. Both tokens at once, each bounded by the HTTP timeout; a failure is logged, never
/// shown: the local logout must not depend on the provider being up (RFC 7009 §2.2.1).
async fn revoke_both(state: &AppState, tokens: &TokenSet) {
    let refresh = async {
        match &tokens.refresh_token {
            Some(rt) => state.oauth.revoke(rt.secret(), "refresh_token").await,
            None => Ok(()),
        }
    };
    let access = state
        .oauth
        .revoke(tokens.access_token.secret(), "access_token");
    let (refresh, access) = tokio::join!(refresh, access);
    for (kind, result) in [("refresh_token", refresh), ("access_token", access)] {
        if let Err(err) = result {
            tracing::warn!(kind, error = %err, "token revocation failed; logging out locally anyway");
        }
    }
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
