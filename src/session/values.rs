//! Values a wing keeps in the session under a key of its own (a record of the sign-in, say): the
//! session's small record API. This floor never looks inside them.

use serde::{Serialize, de::DeserializeOwned};
use tower_sessions::session::Id;

use super::{AppSession, SessionError, Sessions, StoredSession, mark_saved};

#[allow(
    dead_code,
    reason = "a seam for wings: unused when no wing keeps a value"
)]
impl AppSession {
    /// The value kept under `key`; one that no longer parses (an older shape) counts as absent.
    pub async fn value<T: DeserializeOwned>(
        &self,
        key: &'static str,
    ) -> Result<Option<T>, SessionError> {
        self.get(key).await
    }

    /// Keeps `value` under `key`, saved now.
    pub async fn keep_value(
        &self,
        key: &'static str,
        value: &impl Serialize,
    ) -> Result<(), SessionError> {
        self.insert(key, value).await?;
        self.save().await
    }

    /// Keeps `value` under `key` with the session's next save (the one [`AppSession::connect`]
    /// makes): one store write for both.
    pub async fn stage_value(
        &self,
        key: &'static str,
        value: &impl Serialize,
    ) -> Result<(), SessionError> {
        self.insert(key, value).await
    }

    /// Forgets the value under `key`, with the session's next save.
    pub async fn forget_value(&self, key: &'static str) -> Result<(), SessionError> {
        if self.get::<serde::de::IgnoredAny>(key).await?.is_some() {
            mark_saved(false);
            self.0.remove_value(key).await.map_err(SessionError::from)?;
        }
        Ok(())
    }
}

#[allow(
    dead_code,
    reason = "a seam for wings: unused when no wing keeps a value"
)]
impl Sessions {
    /// Changes the value under `key` of session `id` as stored now, under the session's lock.
    /// Nothing happens if either is gone.
    pub async fn update_value<T: Serialize + DeserializeOwned>(
        &self,
        id: Id,
        key: &'static str,
        edit: impl FnOnce(&mut T),
    ) -> Result<(), SessionError> {
        let guard = self.locks.acquire(&id.to_string()).await?;
        let result = StoredSession::new(self.store.clone(), id)
            .update_value(key, edit)
            .await;
        guard.release().await;
        result
    }
}
