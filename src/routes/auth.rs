//! The redirect endpoint `GET /cb` (finishes a sign-in) and `POST /logout`.

use axum::{
    Router,
    body::Bytes,
    extract::{RawQuery, State},
    http::{HeaderMap, header},
    response::Redirect,
    routing::{get, post},
};
use subtle::ConstantTimeEq;
use tower_sessions::Session;

use crate::{
    error::{AppError, Result},
    form,
    oauth::{self, Callback, Taken},
    routes::method_not_allowed,
    session,
    state::{AppState, now},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/cb", get(finish_login).head(method_not_allowed))
        .route("/logout", post(logout))
}

/// The redirect URI. Validates the query, consumes the pending sign-in named by `state`, redeems
/// the code, rotates the session id and redirects to the photos (so no page has the code in its
/// URL: RFC 6749 §3.1.2.5, OAuth 2.1 §2.3.6).
async fn finish_login(
    State(state): State<AppState>,
    session: Session,
    RawQuery(query): RawQuery,
) -> Result<Redirect> {
    // 1. The query is checked before any session or provider work (RFC 6749 §10.14).
    let callback = oauth::parse_callback(query.as_deref())?;
    let ttl = state.pending_login_ttl;

    match callback {
        Callback::Error {
            error,
            state: callback_state,
            iss,
        } => {
            // An error only counts if it answers a sign-in this browser started: otherwise anyone
            // could cancel a pending sign-in with a crafted link (RFC 9207 §2.4).
            let callback_state = callback_state.ok_or(AppError::UnknownState)?;
            let mut logins = session::pending_logins(&session).await?;
            if !logins.contains(&callback_state) {
                return Err(AppError::UnknownState);
            }
            if !state.oauth.issuer_ok(iss.as_deref()) {
                return Err(AppError::IssuerMismatch);
            }
            let _ = logins.take(&callback_state, now(), ttl);
            session::store_pending_logins(&session, &logins).await?;
            Err(if error == "access_denied" {
                AppError::AccessDenied
            } else {
                AppError::AuthorizationFailed(error)
            })
        }
        Callback::Code {
            code,
            state: callback_state,
            iss,
        } => {
            // 2. Mix-up defence: the response must come from the issuer we sent it to
            //    (RFC 9207 §2.4). Checked before consuming, so a forged response cannot cancel
            //    the real sign-in.
            if !state.oauth.issuer_ok(iss.as_deref()) {
                return Err(AppError::IssuerMismatch);
            }
            // 3. Take the pending sign-in out of the session and save that *before* the token
            //    request: the state is single-use even if the exchange fails (RFC 9700 §4.2.4;
            //    tower-sessions would skip saving on a 5xx).
            let mut logins = session::pending_logins(&session).await?;
            let before = logins.len();
            let taken = logins.take(&callback_state, now(), ttl);
            if logins.len() != before {
                session::store_pending_logins(&session, &logins).await?;
            }
            let pending = match taken {
                Taken::Found(pending) => pending,
                Taken::Expired => return Err(AppError::LoginExpired),
                Taken::NotFound => return Err(AppError::UnknownState),
            };

            // 4. Redeem the code with the client secret and the PKCE verifier (RFC 7636 §4.5).
            let tokens = state.oauth.exchange(code, pending, now()).await?;

            // 5. New session id at the privilege change: a planted id is worthless (session
            //    fixation), and the connected session gets the longer idle limit.
            session.cycle_id().await.map_err(AppError::session)?;
            session::expire_after_inactivity(&session, state.session_idle);
            session::store_tokens(&session, &tokens).await?;
            tracing::info!(scopes = ?tokens.scopes, "sign-in completed");
            Ok(Redirect::to("/photos"))
        }
    }
}

/// Ends the session. Needs the session's CSRF token in the form and, when the browser sends one,
/// our own `Origin` (a cross-site form cannot log people out).
async fn logout(
    State(state): State<AppState>,
    session: Session,
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
        .map(String::as_bytes)
        .unwrap_or_default();
    let expected = session::csrf_token_if_any(&session)
        .await?
        .unwrap_or_default();
    if expected.is_empty() || !bool::from(expected.as_bytes().ct_eq(sent)) {
        return Err(AppError::Csrf);
    }
    // Revoke at the provider first (RFC 7009 §2.1), so logging out here also ends the grant there.
    // Both tokens at once, each bounded by the HTTP timeout; a failure is logged, never shown:
    // the local logout must not depend on the provider being up (RFC 7009 §2.2.1).
    if let Some(tokens) = session::tokens(&session).await? {
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
    // Deletes the record from the store and expires the cookie.
    session.flush().await.map_err(AppError::session)?;
    tracing::info!("signed out");
    Ok(Redirect::to("/?notice=signed-out"))
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
