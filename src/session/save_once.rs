//! One store write per changed session: tower-sessions saves a modified session again when the
//! response leaves, though [`AppSession`](super::AppSession) already saved it; this skips that
//! identical second write (and only it).

use std::cell::Cell;

tokio::task_local! {
    /// Whether this request's session was saved by [`AppSession`] and not changed since. Then
    /// the session layer's own save at the end of the request would write the same record a
    /// second time, and [`store::AnyStore`] skips it (see [`save_once`]).
    static SAVED: Cell<bool>;
}

/// The scope for [`SAVED`], around the session layer: one write per changed session, not two.
pub async fn save_once(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    SAVED.scope(Cell::new(false), next.run(request)).await
}

/// Whether the session layer's final save may be skipped (and, once asked, it may not again).
pub(crate) fn already_saved() -> bool {
    SAVED
        .try_with(|saved| saved.replace(false))
        .unwrap_or(false)
}

/// Runs `future` inside the scope, as the middleware does (for tests).
#[cfg(test)]
pub(super) async fn scoped<F: std::future::Future>(future: F) -> F::Output {
    SAVED.scope(Cell::new(false), future).await
}

pub(super) fn mark_saved(saved: bool) {
    let _ = SAVED.try_with(|flag| flag.set(saved));
}
