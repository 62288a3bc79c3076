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

/// Runs `request` (the session layer and what it wraps) in the scope of [`SAVED`]: one write
/// per changed session, not two. Called by the lock middleware, [`super::lock`], for every
/// request.
pub async fn save_once<F: std::future::Future>(request: F) -> F::Output {
    SAVED.scope(Cell::new(false), request).await
}

/// Whether the session layer's final save may be skipped (and, once asked, it may not again).
pub(crate) fn already_saved() -> bool {
    SAVED
        .try_with(|saved| saved.replace(false))
        .unwrap_or(false)
}

pub(super) fn mark_saved(saved: bool) {
    let _ = SAVED.try_with(|flag| flag.set(saved));
}
