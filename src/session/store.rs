//! The in-memory session store: tower-sessions' `MemoryStore` never deletes expired records, and
//! every anonymous home-page view creates a session (it holds the pending login), so this one
//! purges expired records in the background and caps how many it keeps. Full, it turns away
//! new anonymous sessions (the visitor sees "busy, try again in a minute") and never drops
//! one already stored: a flood cannot cancel sign-ins waiting for their callback. Connected
//! sessions are admitted past the cap (a completed sign-in is never turned away by a flood of
//! anonymous ones) up to a hard ceiling, twice the cap; past the cap they are kept without the
//! wings' values (a record of the sign-in, several KB), which go first under pressure.
//!
//! An anonymous record is kept serialized (one small allocation: a pending login is about 150
//! bytes of JSON), not as a map of JSON values, so an anonymous visitor costs a few hundred
//! bytes; a connected session's is kept as values, cheaper to read on every page.
//!
//! Records live in this process only: use a shared store (Redis) to run several instances.
//! Hand-written rather than a crate: tower-sessions' stores neither cap nor refuse resurrecting
//! saves (`save` must not bring back a record that a logout or `cycle_id` deleted).

use std::{
    collections::HashMap,
    sync::{
        Arc,
        atomic::{AtomicI64, Ordering},
    },
    time::Duration,
};

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

/// Drops what a record can lose under pressure (the wings' values), keeping the session's own.
pub type Trim = fn(&mut Record);

/// How many times `max_sessions` the store holds at most, connected sessions included.
const HARD_CEILING: usize = 2;

/// A purging, bounded in-memory store.
#[derive(Clone)]
pub struct MemoryStore {
    records: Arc<Mutex<HashMap<Id, Kept>>>,
    max_sessions: usize,
    expendable: Expendable,
    trim: Trim,
    /// Unix second of the last sweep a full store made: at most one a second, so a flood of
    /// refused sign-ins costs a lookup each, not a scan of every record each.
    last_sweep: Arc<AtomicI64>,
}

/// One record as kept: its expiry and its data.
struct Kept {
    expiry_date: OffsetDateTime,
    data: Data,
}

enum Data {
    /// An expendable (anonymous) record, serialized: one small allocation, so that a flood of
    /// home-page views costs a few hundred bytes each.
    Json(Box<[u8]>),
    /// A connected session's, as values: it is read on every page, and copying it costs about a
    /// third of parsing it (BENCHMARKS.md); there are only as many as signed-in visitors.
    Values(HashMap<String, serde_json::Value>),
}

impl Kept {
    /// Keeps `record`: serialized when it is `expendable` (anonymous), else as values.
    fn new(record: &Record, expendable: bool) -> session_store::Result<Self> {
        let data = if expendable {
            let json = serde_json::to_vec(&record.data)
                .map_err(|err| session_store::Error::Encode(err.to_string()))?;
            Data::Json(json.into_boxed_slice())
        } else {
            Data::Values(record.data.clone())
        };
        Ok(Self {
            expiry_date: record.expiry_date,
            data,
        })
    }

    fn record(&self, id: Id) -> session_store::Result<Record> {
        let data = match &self.data {
            Data::Json(json) => serde_json::from_slice(json)
                .map_err(|err| session_store::Error::Decode(err.to_string()))?,
            Data::Values(values) => values.clone(),
        };
        Ok(Record {
            id,
            data,
            expiry_date: self.expiry_date,
        })
    }

    fn live(&self, now: OffsetDateTime) -> bool {
        self.expiry_date > now
    }
}

/// Never the records: they hold tokens and DPoP keys (a `{:?}` of the app's state must not
/// print them, RFC 6749 §10.3).
impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore")
            .field("max_sessions", &self.max_sessions)
            .finish_non_exhaustive()
    }
}

impl MemoryStore {
    pub fn new(max_sessions: usize, expendable: Expendable) -> Self {
        Self {
            records: Arc::default(),
            max_sessions,
            expendable,
            trim: |_| {},
            last_sweep: Arc::default(),
        }
    }

    /// The same store, trimming records with `trim` once it holds `max_sessions` or more.
    pub fn trimming(self, trim: Trim) -> Self {
        Self { trim, ..self }
    }

    /// `record` as kept when the store holds `len` records: trimmed past the cap.
    fn kept(&self, record: &Record, len: usize) -> session_store::Result<Kept> {
        let expendable = (self.expendable)(record);
        if len < self.max_sessions || expendable {
            return Kept::new(record, expendable);
        }
        let mut trimmed = record.clone();
        (self.trim)(&mut trimmed);
        Kept::new(&trimmed, expendable)
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
                records.lock().await.retain(|_, r| r.live(now));
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
            .iter()
            .filter(|(_, r)| r.live(now))
            .filter_map(|(id, r)| r.record(*id).ok())
            .collect()
    }

    /// Whether a record with this id exists and has not expired (tests use it for C30).
    pub async fn contains(&self, id: &Id) -> bool {
        self.records
            .lock()
            .await
            .get(id)
            .is_some_and(|r| r.live(OffsetDateTime::now_utc()))
    }
}

#[async_trait]
impl SessionStore for MemoryStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let expendable = (self.expendable)(record);
        let mut records = self.records.lock().await;
        let limit = if expendable {
            self.max_sessions
        } else {
            self.max_sessions.saturating_mul(HARD_CEILING)
        };
        if records.len() >= limit {
            let now = OffsetDateTime::now_utc();
            let second = now.unix_timestamp();
            if self.last_sweep.swap(second, Ordering::Relaxed) != second {
                records.retain(|_, r| r.live(now));
            }
            if records.len() >= limit {
                return Err(session_store::Error::Backend(STORE_FULL.into()));
            }
        }
        let kept = self.kept(record, records.len())?;
        while records.contains_key(&record.id) {
            record.id = Id::default();
        }
        records.insert(record.id, kept);
        Ok(())
    }

    /// Updates an existing record only. A record deleted meanwhile (logout, or the old id after
    /// `cycle_id`) stays deleted: an in-flight request's final save must not bring it back.
    /// New records go through `create`.
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let mut records = self.records.lock().await;
        let kept = self.kept(record, records.len())?;
        if let Some(stored) = records.get_mut(&record.id) {
            *stored = kept;
        }
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let now = OffsetDateTime::now_utc();
        let records = self.records.lock().await;
        match records.get(id).filter(|r| r.live(now)) {
            Some(kept) => kept.record(*id).map(Some),
            None => Ok(None),
        }
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

    /// Skips the session layer's final save when the typed session already saved this very
    /// record in this request ([`super::save_once`]).
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        if super::save_once::already_saved() {
            return Ok(());
        }
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
    async fn debug_never_prints_a_stored_record() {
        let store = MemoryStore::new(10, unless_kept);
        let mut connected = record(time::Duration::hours(1));
        connected
            .data
            .insert("kept".into(), serde_json::json!("SECRET-ACCESS-TOKEN"));
        store.create(&mut connected).await.expect("kept");
        let shown = format!("{store:?}");
        assert!(!shown.contains("SECRET"), "{shown}");
        assert!(shown.contains("max_sessions: 10"), "{shown}");
    }

    #[tokio::test]
    async fn anonymous_records_are_kept_serialized_and_connected_ones_as_values() {
        let store = MemoryStore::new(10, unless_kept);
        let mut anonymous = record(time::Duration::minutes(5));
        anonymous
            .data
            .insert("pending".into(), serde_json::json!([{"state": "s"}]));
        let mut connected = record(time::Duration::minutes(5));
        connected
            .data
            .insert("kept".into(), serde_json::json!({"token": "t", "n": 1}));
        for r in [&mut anonymous, &mut connected] {
            store.create(r).await.expect("create");
            let loaded = store.load(&r.id).await.expect("load").expect("there");
            assert_eq!(loaded.data, r.data, "what is loaded is what was stored");
            assert_eq!(loaded.expiry_date, r.expiry_date);
        }
        let records = store.records.lock().await;
        assert!(matches!(records[&anonymous.id].data, Data::Json(_)));
        assert!(matches!(records[&connected.id].data, Data::Values(_)));
    }

    #[test]
    fn a_record_is_dead_from_its_expiry_instant_on() {
        let at = OffsetDateTime::now_utc();
        let kept = Kept::new(
            &Record {
                expiry_date: at,
                ..record(time::Duration::ZERO)
            },
            true,
        )
        .expect("kept");
        assert!(kept.live(at - time::Duration::nanoseconds(1)));
        assert!(!kept.live(at), "expired at its expiry instant");
    }

    #[tokio::test]
    async fn connected_sessions_pass_the_cap_up_to_twice_it_losing_wing_values_first() {
        fn drop_extra(record: &mut Record) {
            record.data.remove("extra");
        }
        let store = MemoryStore::new(2, unless_kept).trimming(drop_extra);
        let connected = || {
            let mut r = record(time::Duration::minutes(5));
            r.data.insert("kept".into(), serde_json::json!("tokens"));
            r.data
                .insert("extra".into(), serde_json::json!("a wing's record"));
            r
        };
        let mut first = connected();
        store.create(&mut first).await.expect("under the cap");
        let loaded = store.load(&first.id).await.expect("load").expect("there");
        assert!(
            loaded.data.contains_key("extra"),
            "kept whole under the cap"
        );
        let mut anonymous = record(time::Duration::minutes(5));
        store.create(&mut anonymous).await.expect("under the cap");
        let mut anonymous = record(time::Duration::minutes(5));
        let full = store.create(&mut anonymous).await.expect_err("the cap");
        assert!(full.to_string().contains(STORE_FULL), "{full}");

        let mut past_cap = connected();
        store
            .create(&mut past_cap)
            .await
            .expect("a connected session passes the cap");
        let loaded = store
            .load(&past_cap.id)
            .await
            .expect("load")
            .expect("there");
        assert!(loaded.data.contains_key("kept"), "its own values stay");
        assert!(!loaded.data.contains_key("extra"), "the wing's go first");
        store.save(&first).await.expect("saved");
        let loaded = store.load(&first.id).await.expect("load").expect("there");
        assert!(
            !loaded.data.contains_key("extra"),
            "trimmed on save too, past the cap"
        );

        let mut fourth = connected();
        store
            .create(&mut fourth)
            .await
            .expect("up to twice the cap");
        let mut fifth = connected();
        let ceiling = store
            .create(&mut fifth)
            .await
            .expect_err("the hard ceiling");
        assert!(ceiling.to_string().contains(STORE_FULL), "{ceiling}");
        assert_eq!(store.len().await, 4);
    }

    #[tokio::test]
    async fn any_store_passes_create_load_save_and_delete_through() {
        let memory = MemoryStore::new(10, any);
        let store = AnyStore(Arc::new(memory.clone()));
        assert!(memory.is_empty().await);
        let mut r = record(time::Duration::minutes(5));
        r.data.insert("k".into(), serde_json::json!("v"));
        store.create(&mut r).await.expect("create");
        assert!(!memory.is_empty().await);
        let loaded = store.load(&r.id).await.expect("load").expect("there");
        assert_eq!(loaded.data, r.data);
        r.data.insert("k".into(), serde_json::json!("w"));
        store.save(&r).await.expect("save");
        let loaded = memory.load(&r.id).await.expect("load").expect("there");
        assert_eq!(loaded.data["k"], "w");
        store.delete(&r.id).await.expect("delete");
        assert!(store.load(&r.id).await.expect("load").is_none());
        assert!(memory.is_empty().await);
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
    async fn a_kept_record_loads_back_as_it_was_saved() {
        let store = MemoryStore::new(10, any);
        let mut r = record(time::Duration::minutes(5));
        r.data
            .insert("k".into(), serde_json::json!({"a": [1, "two"]}));
        store.create(&mut r).await.expect("create");
        assert_eq!(store.load(&r.id).await.expect("load"), Some(r.clone()));
        r.data.insert("k".into(), serde_json::json!(3));
        store.save(&r).await.expect("save");
        assert_eq!(store.load(&r.id).await.expect("load"), Some(r.clone()));
        assert_eq!(store.records().await, vec![r]);
    }

    #[tokio::test]
    async fn a_full_store_sweeps_at_most_once_a_second() {
        let store = MemoryStore::new(1, any);
        let mut held = record(time::Duration::minutes(5));
        store.create(&mut held).await.expect("create");
        let mut refused = record(time::Duration::minutes(5));
        assert!(
            store.create(&mut refused).await.is_err(),
            "full: sweeps, still full"
        );
        // Expired now, but this second's sweep is spent: still refused until the next second.
        store
            .records
            .lock()
            .await
            .get_mut(&held.id)
            .expect("held")
            .expiry_date = OffsetDateTime::now_utc() - time::Duration::seconds(1);
        store.last_sweep.store(
            OffsetDateTime::now_utc().unix_timestamp(),
            Ordering::Relaxed,
        );
        assert!(
            store.create(&mut refused).await.is_err(),
            "no second sweep this second"
        );
        store.last_sweep.store(0, Ordering::Relaxed);
        store
            .create(&mut refused)
            .await
            .expect("the next sweep makes room");
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
