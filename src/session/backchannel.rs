//! Back-channel logout's session side (OIDC Back-Channel Logout 1.0 §2.7): signed-in sessions
//! indexed by the provider's `sid` and `sub` ([`LogoutIndex`]), and a logout token's sessions
//! ended, on every instance (the records are deleted from the shared store), once per `jti`.

use std::time::Duration;

use super::{AppSession, SessionError, Sessions, logout_index::LogoutIndex};
use crate::oauth::TokenSet;

/// What a logout token did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackChannelLogout {
    /// This many sessions ended (0: already ended, or never here).
    Ended(usize),
    /// Its `jti` was seen before (§2.6 step 7): nothing ended.
    Replayed,
}

fn sid_name(sid: &str) -> String {
    format!("sid:{sid}")
}

fn sub_name(sub: &str) -> String {
    format!("sub:{sub}")
}

impl Sessions {
    /// Uses `index` for back-channel logout (startup: the Redis one with a shared store).
    pub fn with_logout_index(mut self, index: LogoutIndex) -> Self {
        self.logout_index = index;
        self
    }

    /// Indexes a signed-in `session` under its person's `sid` and `sub` for `idle`: called at
    /// sign-in and at each renewal, so the entry lives as long as the session. Without an
    /// OpenID Connect identity there is nothing to index. A failure is logged, never fatal:
    /// the sign-in stands, only a later back-channel logout would miss it.
    pub async fn index_sign_in(&self, session: &AppSession, tokens: &TokenSet, idle: Duration) {
        let (Some(identity), Some(id)) = (&tokens.identity, session.id()) else {
            return;
        };
        let mut names = vec![sub_name(&identity.subject)];
        names.extend(identity.sid.as_deref().map(sid_name));
        // Boxed: the store's future stays out of every handler that may index (the home page,
        // the callback), which would otherwise grow and be copied on each of their requests.
        if let Err(err) = Box::pin(self.logout_index.add(&names, id, idle)).await {
            tracing::warn!(error = %err, "a session could not be indexed for back-channel logout");
        }
    }

    /// Ends the sessions a valid logout token names (§2.7): the one of `sid` when it has one,
    /// else every session of `sub`; unless its `jti` was seen (remembered for `keep_jti`,
    /// across instances with Redis). Records are deleted from the store, so every instance
    /// sees them gone; a save racing with it is update-only and does not bring them back.
    pub async fn back_channel_logout(
        &self,
        sid: Option<&str>,
        sub: Option<&str>,
        jti: &str,
        keep_jti: Duration,
    ) -> Result<BackChannelLogout, SessionError> {
        if !self.logout_index.first_use(jti, keep_jti).await? {
            return Ok(BackChannelLogout::Replayed);
        }
        let name = match (sid, sub) {
            (Some(sid), _) => sid_name(sid),
            (None, Some(sub)) => sub_name(sub),
            (None, None) => return Ok(BackChannelLogout::Ended(0)),
        };
        let ids = self.logout_index.take(&name).await?;
        let mut ended = 0;
        for id in ids {
            if self
                .store
                .load(&id)
                .await
                .map_err(SessionError::from)?
                .is_some()
            {
                ended += 1;
            }
            self.store.delete(&id).await.map_err(SessionError::from)?;
        }
        Ok(BackChannelLogout::Ended(ended))
    }
}
