//! What can go wrong with a session: its store failed or is full, or its lock stayed busy. The
//! web floor turns each into its page (all "try again": 503).

use tower_sessions::{session, session_store};

use super::store::STORE_FULL;
use crate::text::escaped;

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The store failed (unreachable once it is Redis, or a record it cannot read). The text is
    /// escaped and bounded: it reaches the log line.
    #[error("session store failure: {0}")]
    Store(String),
    /// The store is full: no new sign-in until some expire.
    #[error("the session store is full; a new sign-in was turned away")]
    Full,
    /// Another request of this session held its lock for longer than a request may take.
    #[error("the session's lock was not free in time")]
    Busy,
}

impl SessionError {
    /// A store failure described by `what` (outside text: escaped, bounded).
    pub fn store(what: impl std::fmt::Display) -> Self {
        crate::metrics::session_store_error();
        Self::Store(escaped(&what.to_string(), 200))
    }
}

impl From<session::Error> for SessionError {
    fn from(err: session::Error) -> Self {
        match err {
            session::Error::Store(session_store::Error::Backend(msg)) if msg == STORE_FULL => {
                Self::Full
            }
            other => Self::store(other),
        }
    }
}

impl From<session_store::Error> for SessionError {
    fn from(err: session_store::Error) -> Self {
        session::Error::Store(err).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_store_is_full_and_other_store_failures_are_escaped() {
        let backend = |msg: &str| session::Error::Store(session_store::Error::Backend(msg.into()));
        assert!(matches!(
            SessionError::from(backend(STORE_FULL)),
            SessionError::Full
        ));
        let other = SessionError::from(backend("down\n\u{1b}[31m"));
        assert!(
            matches!(&other, SessionError::Store(m) if m.contains("down") && !m.contains('\n') && !m.contains('\u{1b}')),
            "{other:?}"
        );
    }
}
