//! The in-memory session store: tower-sessions' `MemoryStore` never deletes expired records, and
//! every anonymous home-page view creates a session (it holds the pending login), so this one
//! purges expired records in the background and caps how many it keeps.
//!
//! Records live in this process only: use a shared store (Redis) to run several instances.

use std::{collections::HashMap, sync::Arc, time::Duration};

use async_trait::async_trait;
use time::OffsetDateTime;
use tokio::sync::Mutex;
use tower_sessions::{
    SessionStore,
    session::{Id, Record},
    session_store,
};

/// Default cap on stored sessions (about 1 KiB each, so roughly 100 MiB at the cap).
pub const DEFAULT_MAX_SESSIONS: usize = 100_000;

/// A purging, bounded in-memory store.
#[derive(Clone, Debug)]
pub struct MemoryStore {
    records: Arc<Mutex<HashMap<Id, Record>>>,
    max_sessions: usize,
}

impl MemoryStore {
    pub fn new(max_sessions: usize) -> Self {
        Self {
            records: Arc::default(),
            max_sessions,
        }
    }

    /// Starts a task that deletes expired records every `period`. It ends with the last clone.
    pub fn spawn_purger(&self, period: Duration) {
        let records = Arc::downgrade(&self.records);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(period);
            loop {
                tick.tick().await;
                let Some(records) = records.upgrade() else {
                    break;
                };
                let now = OffsetDateTime::now_utc();
                records.lock().await.retain(|_, r| r.expiry_date > now);
            }
        });
    }

    /// How many records are stored (expired ones included until the next purge).
    pub async fn len(&self) -> usize {
        self.records.lock().await.len()
    }

    pub async fn is_empty(&self) -> bool {
        self.len().await == 0
    }

    /// A copy of every live record (tests inspect what the server keeps).
    pub async fn records(&self) -> Vec<Record> {
        let now = OffsetDateTime::now_utc();
        self.records
            .lock()
            .await
            .values()
            .filter(|r| r.expiry_date > now)
            .cloned()
            .collect()
    }

    /// Whether a record with this id exists and has not expired (tests use it for C30).
    pub async fn contains(&self, id: &Id) -> bool {
        self.records
            .lock()
            .await
            .get(id)
            .is_some_and(|r| r.expiry_date > OffsetDateTime::now_utc())
    }
}

#[async_trait]
impl SessionStore for MemoryStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let mut records = self.records.lock().await;
        if records.len() >= self.max_sessions {
            // At the cap, first drop the expired; if still full, refuse (the app answers 503)
            // rather than grow without bound.
            let now = OffsetDateTime::now_utc();
            records.retain(|_, r| r.expiry_date > now);
            if records.len() >= self.max_sessions {
                return Err(session_store::Error::Backend(
                    "session store is full".into(),
                ));
            }
        }
        while records.contains_key(&record.id) {
            record.id = Id::default();
        }
        records.insert(record.id, record.clone());
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.records.lock().await.insert(record.id, record.clone());
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let now = OffsetDateTime::now_utc();
        Ok(self
            .records
            .lock()
            .await
            .get(id)
            .filter(|r| r.expiry_date > now)
            .cloned())
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.records.lock().await.remove(id);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(expires_in: time::Duration) -> Record {
        Record {
            id: Id::default(),
            data: Default::default(),
            expiry_date: OffsetDateTime::now_utc() + expires_in,
        }
    }

    #[tokio::test]
    async fn expired_records_are_not_loaded_and_are_purged_at_the_cap() {
        let store = MemoryStore::new(2);
        let mut old = record(time::Duration::seconds(-1));
        let mut live = record(time::Duration::minutes(5));
        store.create(&mut old).await.expect("create");
        store.create(&mut live).await.expect("create");
        assert!(store.load(&old.id).await.expect("load").is_none());
        let mut third = record(time::Duration::minutes(5));
        store
            .create(&mut third)
            .await
            .expect("expired record makes room");
        assert_eq!(store.len().await, 2);
        let mut fourth = record(time::Duration::minutes(5));
        assert!(
            store.create(&mut fourth).await.is_err(),
            "full of live sessions: refuse"
        );
    }

    #[tokio::test]
    async fn the_purger_deletes_expired_records() {
        let store = MemoryStore::new(10);
        let mut old = record(time::Duration::milliseconds(-5));
        store.create(&mut old).await.expect("create");
        store.spawn_purger(Duration::from_millis(10));
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(store.is_empty().await);
    }
}
