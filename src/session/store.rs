//! The in-memory session store: tower-sessions' `MemoryStore` never deletes expired records, and
//! every anonymous home-page view creates a session (it holds the pending login), so this one
//! purges expired records in the background and caps how many it keeps.
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

/// Default cap on stored sessions (about 1 KiB each, so roughly 100 MiB at the cap).
pub const MAX_SESSIONS: usize = 100_000;

/// Which records a full store may evict (the app passes "anonymous", so connected visitors are
/// never pushed out by a flood).
pub type Evictable = fn(&Record) -> bool;

/// A purging, bounded in-memory store. At the cap it evicts only [`Evictable`] records, so a
/// flood of drive-by visits cannot lock everyone out.
#[derive(Clone, Debug)]
pub struct MemoryStore {
    records: Arc<Mutex<HashMap<Id, Record>>>,
    max_sessions: usize,
    evictable: Evictable,
}

impl MemoryStore {
    pub fn new(max_sessions: usize, evictable: Evictable) -> Self {
        Self {
            records: Arc::default(),
            max_sessions,
            evictable,
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

/// At the cap: drop expired records, then, if still full, the anonymous sessions closest to
/// expiry (a tenth of the cap at once, so a flood costs one scan per batch). Connected sessions
/// are never evicted; a flood of anonymous visits only pushes out other anonymous visits.
fn make_room(records: &mut HashMap<Id, Record>, max_sessions: usize, evictable: Evictable) {
    let now = OffsetDateTime::now_utc();
    records.retain(|_, r| r.expiry_date > now);
    if records.len() < max_sessions {
        return;
    }
    let mut anonymous: Vec<(OffsetDateTime, Id)> = records
        .iter()
        .filter(|(_, r)| evictable(r))
        .map(|(id, r)| (r.expiry_date, *id))
        .collect();
    anonymous.sort_unstable_by_key(|(expiry, _)| *expiry);
    for (_, id) in anonymous.into_iter().take((max_sessions / 10).max(1)) {
        records.remove(&id);
    }
}

#[async_trait]
impl SessionStore for MemoryStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let mut records = self.records.lock().await;
        if records.len() >= self.max_sessions {
            make_room(&mut records, self.max_sessions, self.evictable);
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
    async fn c35_a_full_store_evicts_anonymous_sessions_never_connected_ones() {
        let store = MemoryStore::new(10, unless_kept);
        let mut connected = record(time::Duration::minutes(1));
        connected.data.insert("kept".into(), serde_json::json!({}));
        store.create(&mut connected).await.expect("create");
        for _ in 0..100 {
            let mut anonymous = record(time::Duration::minutes(10));
            store
                .create(&mut anonymous)
                .await
                .expect("a flood never refuses");
        }
        assert!(store.len().await <= 10);
        assert!(
            store.contains(&connected.id).await,
            "the connected session survives the flood"
        );
    }

    #[tokio::test]
    async fn a_full_store_evicts_a_tenth_of_its_cap_closest_to_expiry_first() {
        let store = MemoryStore::new(20, any);
        let mut ids = Vec::new();
        for minutes in 1..=20 {
            let mut r = record(time::Duration::minutes(minutes));
            store.create(&mut r).await.expect("create");
            ids.push(r.id);
        }
        let mut newcomer = record(time::Duration::minutes(30));
        store.create(&mut newcomer).await.expect("create");
        assert_eq!(
            store.len().await,
            19,
            "two evicted (a tenth of 20), one added"
        );
        assert!(!store.contains(&ids[0]).await && !store.contains(&ids[1]).await);
        assert!(store.contains(&ids[2]).await && store.contains(&newcomer.id).await);
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
