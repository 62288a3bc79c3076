//! The lock middleware: one request per browser session at a time, outside the session layer.
//!
//! tower-sessions loads a record at the start of a request and saves the whole record at the
//! end, so two overlapping requests of one session would each save their own copy: a refresh
//! could be undone (the rotated refresh token replaced by the used one, RFC 6749 §6), or a
//! logged-out session brought back. Holding the session's lock ([`SessionLocks`]) for the whole
//! request, save included, rules that out. `web::app` puts [`serialize`] around the routes that
//! change the session and [`unlocked`] around those that never do (`routes::unlocked`).

use axum::{
    extract::{Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
};

use crate::{
    session::{lock::SessionLocks, save_once},
    telemetry::ErrorReport,
    web::error::AppError,
};

/// Runs a request that may change its session under that session's lock (a request without a
/// session cookie has nothing to lock), in the scope of [`save_once`]: one store write per
/// changed session.
pub async fn serialize(
    State(locks): State<SessionLocks>,
    request: Request,
    next: Next,
) -> Response {
    let Some(key) = locks.key_in(request.headers()) else {
        return unlocked(request, next).await;
    };
    match locks.acquire(&key).await {
        Ok(guard) => {
            let response = save_once(next.run(request)).await;
            guard.release().await;
            no_empty_500(response)
        }
        // No lock, no session work: never a change that another request could undo.
        Err(err) => AppError::from(err).into_response(),
    }
}

/// Runs a request that never changes its session, in the scope of [`save_once`] all the same.
pub async fn unlocked(request: Request, next: Next) -> Response {
    no_empty_500(save_once(next.run(request)).await)
}

/// tower-sessions answers a failed end-of-request save with an empty 500 (and no cookie); the
/// visitor gets the "try again" page instead. A 500 the app made itself carries its report.
fn no_empty_500(response: Response) -> Response {
    let ours = response.extensions().get::<ErrorReport>().is_some();
    if response.status() == http::StatusCode::INTERNAL_SERVER_ERROR && !ours {
        let err = crate::session::SessionError::store("the session could not be saved");
        return AppError::from(err).into_response();
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_empty_500_becomes_the_try_again_page() {
        let report = |response: &Response| {
            response
                .extensions()
                .get::<ErrorReport>()
                .map(|r| r.message.to_string())
        };
        let replaced = no_empty_500(http::StatusCode::INTERNAL_SERVER_ERROR.into_response());
        assert_eq!(replaced.status(), http::StatusCode::SERVICE_UNAVAILABLE);
        assert!(report(&replaced).is_some_and(|m| m.contains("could not be saved")));

        let ours = no_empty_500(AppError::Internal(anyhow::anyhow!("ours")).into_response());
        assert_eq!(ours.status(), http::StatusCode::INTERNAL_SERVER_ERROR);
        assert!(
            report(&ours).is_some_and(|m| m.contains("ours")),
            "an app-made 500 keeps its own report"
        );

        for other in [http::StatusCode::OK, http::StatusCode::BAD_GATEWAY] {
            let response = no_empty_500((other, "page").into_response());
            assert_eq!(response.status(), other);
            assert!(report(&response).is_none());
        }
    }
}
