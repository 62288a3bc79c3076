//! A session's record read and written straight through the store, under the session's lock:
//! what [`Sessions`](super::Sessions) changes tokens through (see [`StoredSession`]).

use std::sync::Arc;

use tower_sessions::{
    SessionStore,
    session::{Id, Record},
};

use serde::{Serialize, de::DeserializeOwned};

use super::{SessionError, TOKENS};
use crate::oauth::TokenSet;

/// One session's record as the store has it *now*, bypassing the copy this request loaded:
/// `/photos` reads and writes its tokens through this, under the session's lock, so it sees a
/// refresh that another request (on any instance) made while it waited, and its own writes are
/// never overwritten by a stale copy (it leaves the request's `Session` unchanged).
pub struct StoredSession {
    store: Arc<dyn SessionStore>,
    id: Id,
}

impl StoredSession {
    pub fn new(store: Arc<dyn SessionStore>, id: Id) -> Self {
        Self { store, id }
    }

    async fn record(&self) -> Result<Option<Record>, SessionError> {
        self.store.load(&self.id).await.map_err(SessionError::from)
    }

    /// The tokens as stored now (`None`: logged out, expired, or never connected).
    pub async fn tokens(&self) -> Result<Option<TokenSet>, SessionError> {
        Ok(self
            .record()
            .await?
            .and_then(|mut r| r.data.remove(TOKENS))
            .and_then(super::tokens_from))
    }

    /// Replaces the tokens; does nothing if the session is gone (update-only, like every save).
    pub async fn update_tokens(&self, tokens: &TokenSet) -> Result<(), SessionError> {
        let value = super::tokens_value(tokens)?;
        self.change(|record| {
            record.data.insert(TOKENS.into(), value);
        })
        .await
    }

    /// Forgets the tokens (the provider no longer accepts them).
    pub async fn forget_tokens(&self) -> Result<(), SessionError> {
        self.change(|record| {
            record.data.remove(TOKENS);
        })
        .await
    }

    /// Changes the value under `key`, if the session has one that parses.
    pub async fn update_value<T: Serialize + DeserializeOwned>(
        &self,
        key: &str,
        edit: impl FnOnce(&mut T),
    ) -> Result<(), SessionError> {
        self.change(|record| {
            let value = record.data.get(key).cloned();
            if let Some(mut value) = value.and_then(|v| serde_json::from_value::<T>(v).ok()) {
                edit(&mut value);
                if let Ok(value) = serde_json::to_value(&value) {
                    record.data.insert(key.into(), value);
                }
            }
        })
        .await
    }

    async fn change(&self, edit: impl FnOnce(&mut Record)) -> Result<(), SessionError> {
        let Some(mut record) = self.record().await? else {
            return Ok(());
        };
        edit(&mut record);
        self.store.save(&record).await.map_err(SessionError::from)
    }
}
