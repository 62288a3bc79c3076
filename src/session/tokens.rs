//! The tokens of a connected session, changed outside the request's own copy of the session:
//! refreshed, forgotten, and a wing's later steps added, each under the session's lock.
//!
//! A refresh runs in a task of its own that owns the lock: the provider rotates the refresh
//! token when it answers (RFC 9700 §4.14.2), so the new one must be saved even if the visitor
//! reloads or closes the tab meanwhile; a refresh cut off between the two would present the old
//! token next time, and a provider with reuse detection then revokes the whole grant.

use std::{sync::Arc, time::Duration};

use tokio_util::task::TaskTracker;
use tower_sessions::{SessionStore, session::Id};

use super::{SessionError, StoredSession, lock::SessionLocks, logout_index::LogoutIndex};

/// How many sids/subs and `jti`s the in-process back-channel logout index holds by default
/// (startup sets the memory store's cap).
const DEFAULT_INDEX_CAP: usize = 10_000;
use crate::{
    clock::now,
    http_client::{current_observer, observed},
    oauth::{ExchangeError, OAuthClient, RefreshError, TokenSet},
};

/// The session floor's handle on every session: the store, the locks, the refreshes under way.
#[derive(Clone, Debug)]
pub struct Sessions {
    pub(super) store: Arc<dyn SessionStore>,
    pub(super) locks: SessionLocks,
    /// Refresh access tokens this long before they expire.
    refresh_skew: Duration,
    /// The refreshes under way: shutdown waits for them ([`Sessions::finish_refreshes`]).
    refreshes: TaskTracker,
    /// Signed-in sessions by `sid`/`sub`, and logout tokens' `jti`s (back-channel logout).
    pub(super) logout_index: LogoutIndex,
}

/// Why a refresh did not give fresh tokens.
#[derive(Debug, thiserror::Error)]
pub enum RefreshFailed {
    #[error(transparent)]
    Session(#[from] SessionError),
    /// The grant is gone (`invalid_grant`…, or logged out meanwhile): the tokens are forgotten,
    /// so the home page offers to connect again.
    #[error("the provider refused the refresh ({0}); tokens cleared")]
    Reconnect(String),
    /// A passing failure (provider down, slow): the tokens are kept; try again.
    #[error("refresh failed: {0}")]
    Unavailable(ExchangeError),
}

impl Sessions {
    pub fn new(store: Arc<dyn SessionStore>, locks: SessionLocks, refresh_skew: Duration) -> Self {
        Self {
            store,
            locks,
            refresh_skew,
            refreshes: TaskTracker::new(),
            logout_index: LogoutIndex::in_process(DEFAULT_INDEX_CAP),
        }
    }

    /// Whether `tokens` expire within the refresh skew (or have expired).
    pub fn needs_refresh(&self, tokens: &TokenSet) -> bool {
        tokens.needs_refresh(now(), self.refresh_skew)
    }

    /// Refreshes the tokens of session `id`, of which `current` is the request's copy.
    /// Single-flight (RFC 9700 §4.14.2): under the session's lock (across instances with Redis),
    /// a request that waited finds the tokens another one refreshed and uses them, instead of
    /// refreshing again with a refresh token already rotated away. The lock is waited for here,
    /// so a visitor who leaves while waiting leaves nothing behind; once it is held, the locked
    /// section runs in a task of its own, to completion, even if this future is dropped.
    pub async fn refresh(
        &self,
        id: Id,
        current: &TokenSet,
        oauth: &Arc<OAuthClient>,
    ) -> Result<TokenSet, RefreshFailed> {
        let guard = self.locks.acquire(&id.to_string()).await?;
        let this = self.clone();
        let (oauth, seen) = (oauth.clone(), current.refreshed);
        // The request's outbound observer (a wing's, if any) goes along into the task.
        let locked = observed(current_observer(), async move {
            let result = this.refresh_locked(id, seen, &oauth).await;
            guard.release().await;
            result
        });
        let task = self.refreshes.spawn(locked);
        match task.await {
            Ok(result) => result,
            // A panic in the task stays a panic (the app's catch-panic layer shows the 500 page).
            Err(err) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
            Err(err) => Err(SessionError::store(err).into()),
        }
    }

    async fn refresh_locked(
        &self,
        id: Id,
        seen: u32,
        oauth: &OAuthClient,
    ) -> Result<TokenSet, RefreshFailed> {
        let stored = StoredSession::new(self.store.clone(), id);
        let Some(latest) = stored.tokens().await? else {
            return Err(RefreshFailed::Reconnect("logged out meanwhile".into()));
        };
        if latest.refreshed > seen && !self.needs_refresh(&latest) {
            return Ok(latest);
        }
        match oauth.refresh(&latest, now()).await {
            Ok(fresh) => {
                stored.update_tokens(&fresh).await?;
                Ok(fresh)
            }
            Err(RefreshError::Fatal(why)) => {
                stored.forget_tokens().await?;
                Err(RefreshFailed::Reconnect(why))
            }
            Err(RefreshError::Transient(err)) => Err(RefreshFailed::Unavailable(err)),
        }
    }

    /// Forgets the tokens of session `id` (the API still rejects them), under its lock.
    pub async fn forget_tokens(&self, id: Id) -> Result<(), SessionError> {
        let guard = self.locks.acquire(&id.to_string()).await?;
        let result = StoredSession::new(self.store.clone(), id)
            .forget_tokens()
            .await;
        guard.release().await;
        result
    }

    /// At shutdown: lets the refreshes under way save what the provider answered, for at most
    /// `grace`. Returns whether they all finished.
    pub async fn finish_refreshes(&self, grace: Duration) -> bool {
        self.refreshes.close();
        tokio::time::timeout(grace, self.refreshes.wait())
            .await
            .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::store::MemoryStore;

    fn fresh() -> Sessions {
        let locks = SessionLocks::in_process("s", Duration::from_secs(1));
        Sessions::new(
            Arc::new(MemoryStore::new(10, |_| false)),
            locks,
            Duration::ZERO,
        )
    }

    #[tokio::test]
    async fn shutdown_waits_for_a_refresh_under_way_but_only_for_its_grace() {
        let sessions = fresh();
        let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = done.clone();
        sessions.refreshes.spawn(async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            flag.store(true, std::sync::atomic::Ordering::SeqCst);
        });
        assert!(sessions.finish_refreshes(Duration::from_secs(5)).await);
        assert!(
            done.load(std::sync::atomic::Ordering::SeqCst),
            "it ran to its end"
        );

        let stuck = fresh();
        stuck.refreshes.spawn(std::future::pending::<()>());
        let started = std::time::Instant::now();
        assert!(!stuck.finish_refreshes(Duration::from_millis(50)).await);
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "bounded by the grace"
        );
    }

    #[tokio::test]
    async fn a_visitor_who_leaves_while_waiting_for_the_lock_leaves_no_refresh_behind() {
        let sessions = fresh();
        let id = Id::default();
        let held = sessions.locks.acquire(&id.to_string()).await.expect("free");
        let oauth = oauth();
        let tokens = TokenSet {
            access_token: oauth2::AccessToken::new("at".into()),
            refresh_token: Some(oauth2::RefreshToken::new("rt".into())),
            expires_at: Some(0),
            scopes: vec!["photos".into()],
            refreshed: 0,
            token_type: crate::oauth::tokens::TokenType::Bearer,
            dpop_key: None,
            identity: None,
        };
        let waiting = sessions.refresh(id, &tokens, &oauth);
        let left = tokio::time::timeout(Duration::from_millis(50), waiting).await;
        assert!(
            left.is_err(),
            "still waiting for the lock when the visitor left"
        );
        assert!(
            sessions.refreshes.is_empty(),
            "no task waits on for a request that is gone"
        );
        held.release().await;
    }

    /// A store that panics when a record is read: a bug inside the refresh task.
    #[derive(Debug)]
    struct PanickingStore;

    #[async_trait::async_trait]
    impl SessionStore for PanickingStore {
        async fn save(
            &self,
            _: &tower_sessions::session::Record,
        ) -> tower_sessions::session_store::Result<()> {
            Ok(())
        }
        async fn load(
            &self,
            _: &Id,
        ) -> tower_sessions::session_store::Result<Option<tower_sessions::session::Record>>
        {
            panic!("a bug in the refresh task")
        }
        async fn delete(&self, _: &Id) -> tower_sessions::session_store::Result<()> {
            Ok(())
        }
    }

    fn oauth() -> Arc<OAuthClient> {
        Arc::new(crate::oauth::client::tests::oauth())
    }

    #[tokio::test]
    async fn a_panic_in_the_refresh_task_stays_a_panic_not_a_store_failure() {
        let locks = SessionLocks::in_process("s", Duration::from_secs(1));
        let sessions = Sessions::new(Arc::new(PanickingStore), locks, Duration::ZERO);
        let current = TokenSet {
            access_token: oauth2::AccessToken::new("at-1".into()),
            refresh_token: Some(oauth2::RefreshToken::new("rt-1".into())),
            expires_at: None,
            scopes: vec![],
            refreshed: 0,
            token_type: Default::default(),
            dpop_key: None,
            identity: None,
        };
        let refresh = tokio::spawn(async move {
            let _ = sessions.refresh(Id::default(), &current, &oauth()).await;
        });
        let outcome = refresh.await;
        assert!(
            outcome.is_err_and(|err| err.is_panic()),
            "resumed in the caller (the catch-panic layer's 500), not turned into a 503"
        );
    }
}
