//! What the session keeps across an RP-initiated logout (OIDC RP-Initiated Logout 1.0 §2): the
//! `state` sent to the provider's end-session endpoint, and the notice to show when the browser
//! comes back with it, in the fresh anonymous session the logout leaves.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use super::{AppSession, SessionError, mark_saved};

/// The session key of the logout under way at the provider.
pub(super) const LOGOUT_STATE: &str = "logout.state";

/// One logout the provider is ending: the `state` it must send back, and the notice then shown.
#[derive(Serialize, Deserialize)]
struct PendingLogout {
    state: String,
    notice: String,
}

impl AppSession {
    /// After [`AppSession::end`] (or a wing's `end_keeping`): keeps `state` and `notice` for
    /// `ttl` in the new anonymous session, saved now, for [`AppSession::take_logout`].
    pub async fn remember_logout(
        &self,
        state: &str,
        notice: &str,
        ttl: Duration,
    ) -> Result<(), SessionError> {
        let pending = PendingLogout {
            state: state.to_owned(),
            notice: notice.to_owned(),
        };
        // A fresh id: after `end` the record would otherwise be created again under the old
        // one, the cookie of the session that just ended (session fixation's mirror image).
        self.0.cycle_id().await.map_err(SessionError::from)?;
        self.expire_after(ttl);
        self.insert(LOGOUT_STATE, &pending).await?;
        self.save().await
    }

    /// The notice of the logout whose `state` the provider sent back (compared in constant
    /// time, §2 "state"), consumed; `None` for any other or none (the plain home page).
    pub async fn take_logout(&self, sent: &str) -> Result<Option<String>, SessionError> {
        let Some(pending) = self.get::<PendingLogout>(LOGOUT_STATE).await? else {
            return Ok(None);
        };
        if sent.is_empty() || !bool::from(pending.state.as_bytes().ct_eq(sent.as_bytes())) {
            return Ok(None);
        }
        mark_saved(false);
        self.0
            .remove_value(LOGOUT_STATE)
            .await
            .map_err(SessionError::from)?;
        self.save().await?;
        Ok(Some(pending.notice))
    }
}
