//! The in-memory session store: tower-sessions' `MemoryStore` never deletes expired records, and
//! every anonymous home-page view creates a session (it holds the pending login), so this one
//! purges expired records in the background and caps how many it keeps. Full, it turns away
//! new anonymous sessions (the visitor sees "busy, try again in a minute") and never drops
//! one already stored: a flood cannot cancel sign-ins waiting for their callback.
//!
//! Records live in this process only: use a shared store (Redis) to run several instances.
//! Hand-written rather than a crate: tower-sessions' stores neither cap nor refuse resurrecting
//! saves (`save` must not bring back a record that a logout or `cycle_id` deleted).

use std::{collections::HashMap, sync::Arc, time::Duration};

use async_trait::async_trait;
use time::OffsetDateTime;
use tokio::sync::Mutex;
use tower_sessions::{
    SessionStore,
    session::{Id, Record},
    session_store,
};

/// The error a full store answers with (the web layer shows it as "busy").
pub const STORE_FULL: &str = "the session store is full";

/// Which new records a full store may turn away (the app passes "anonymous": a sign-in that
/// completes, i.e. a connected session, is always admitted).
pub type Expendable = fn(&Record) -> bool;

/// A purging, bounded in-memory store.
#[derive(Clone, Debug)]
pub struct MemoryStore {
    records: Arc<Mutex<HashMap<Id, Record>>>,
    max_sessions: usize,
    expendable: Expendable,
}

impl MemoryStore {
    pub fn new(max_sessions: usize, expendable: Expendable) -> Self {
        Self {
            records: Arc::default(),
            max_sessions,
            expendable,
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
        if records.len() >= self.max_sessions && (self.expendable)(record) {
            let now = OffsetDateTime::now_utc();
            records.retain(|_, r| r.expiry_date > now);
            if records.len() >= self.max_sessions {
                return Err(session_store::Error::Backend(STORE_FULL.into()));
            }
        }
        while records.contains_key(&record.id) {
            record.id = Id::default();
        }
        records.insert(record.id, record.clone());
        Ok(())
    }

    /// Updates an existing record only. A record deleted meanwhile (logout, or the old id after
    /// `cycle_id`) stays deleted: an in-flight request's final save must not bring it back.
    /// New records go through `create`.
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        if let Some(stored) = self.records.lock().await.get_mut(&record.id) {
            *stored = record.clone();
        }
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

/// Either store behind one type, so the session layer, the lock and `/photos` are the same
/// code for both (`Arc<dyn SessionStore>` itself cannot implement the trait: orphan rule).
#[derive(Clone, Debug)]
pub struct AnyStore(pub Arc<dyn SessionStore>);

#[async_trait]
impl SessionStore for AnyStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        self.0.create(record).await
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.0.save(record).await
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        self.0.load(id).await
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.0.delete(id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn any(_: &Record) -> bool {
        true
    }

    fn unless_kept(r: &Record) -> bool {
        !r.data.contains_key("kept")
    }

    fn record(expires_in: time::Duration) -> Record {
        Record {
            id: Id::default(),
            data: Default::default(),
            expiry_date: OffsetDateTime::now_utc() + expires_in,
        }
    }

    #[tokio::test]
    async fn expired_records_are_not_loaded_and_make_room_first() {
        let store = MemoryStore::new(2, any);
        let mut old = record(time::Duration::seconds(-1));
        let mut live = record(time::Duration::minutes(5));
        store.create(&mut old).await.expect("create");
        store.create(&mut live).await.expect("create");
        assert!(store.load(&old.id).await.expect("load").is_none());
        let mut third = record(time::Duration::minutes(5));
        store
            .create(&mut third)
            .await
            .expect("the expired record makes room");
        assert!(store.contains(&live.id).await && store.contains(&third.id).await);
    }

    #[tokio::test]
    async fn c35_a_full_store_refuses_new_anonymous_sessions_and_drops_none_it_holds() {
        let store = MemoryStore::new(10, unless_kept);
        let mut held = Vec::new();
        for minutes in 1..=10 {
            let mut r = record(time::Duration::minutes(minutes));
            store.create(&mut r).await.expect("below the cap");
            held.push(r.id);
        }
        for _ in 0..100 {
            let mut flood = record(time::Duration::minutes(10));
            let err = store.create(&mut flood).await.expect_err("full");
            assert_eq!(err.to_string(), STORE_FULL);
        }
        for id in &held {
            assert!(
                store.contains(id).await,
                "a sign-in in flight is never evicted"
            );
        }
        let mut connected = record(time::Duration::minutes(30));
        connected.data.insert("kept".into(), serde_json::json!({}));
        store
            .create(&mut connected)
            .await
            .expect("a completed sign-in is always admitted");
        assert_eq!(store.len().await, 11);
    }

    #[tokio::test]
    async fn saving_a_deleted_record_does_not_resurrect_it() {
        let store = MemoryStore::new(10, any);
        let mut r = record(time::Duration::minutes(5));
        store.create(&mut r).await.expect("create");
        store.delete(&r.id).await.expect("delete");
        store.save(&r).await.expect("save");
        assert!(!store.contains(&r.id).await);
    }

    #[tokio::test]
    async fn the_purger_deletes_expired_records() {
        let store = MemoryStore::new(10, any);
        let mut old = record(time::Duration::milliseconds(-5));
        store.create(&mut old).await.expect("create");
        store.spawn_purger(Duration::from_millis(10));
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(store.is_empty().await);
    }
}
