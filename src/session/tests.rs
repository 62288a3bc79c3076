//! Tests of the typed session: what each method keeps in the store, for how long, and what it
//! never lets through (a second use of a state, a logout without its token).

use oauth2::{CsrfToken, PkceCodeVerifier};
use tower_sessions::Expiry;

use super::*;
use crate::oauth::{TokenSet, tokens::TokenType};

/// A store that counts its writes.
#[derive(Debug, Default)]
struct Counting {
    inner: tokio::sync::Mutex<std::collections::HashMap<Id, Record>>,
    writes: std::sync::atomic::AtomicUsize,
}

#[async_trait::async_trait]
impl SessionStore for Counting {
    async fn create(&self, record: &mut Record) -> tower_sessions::session_store::Result<()> {
        self.save(record).await
    }
    async fn save(&self, record: &Record) -> tower_sessions::session_store::Result<()> {
        self.writes
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.inner.lock().await.insert(record.id, record.clone());
        Ok(())
    }
    async fn load(&self, id: &Id) -> tower_sessions::session_store::Result<Option<Record>> {
        Ok(self.inner.lock().await.get(id).cloned())
    }
    async fn delete(&self, id: &Id) -> tower_sessions::session_store::Result<()> {
        self.inner.lock().await.remove(id);
        Ok(())
    }
}

#[tokio::test]
async fn the_layers_final_save_is_skipped_only_after_an_unchanged_explicit_save() {
    let counting = Arc::new(Counting::default());
    let store: Arc<dyn SessionStore> = counting.clone();
    let layer_store = Arc::new(store::AnyStore(store));
    let writes = || counting.writes.load(std::sync::atomic::Ordering::SeqCst);
    save_once::save_once(async {
        let session = AppSession(Session::new(None, layer_store.clone(), None));
        session.logout_token().await.expect("token");
        assert_eq!(writes(), 1, "the typed session saved");
        // What the session layer does when the response leaves: skipped, once.
        session.0.save().await.expect("final save");
        assert_eq!(writes(), 1, "the same record is not written twice");
        session.0.save().await.expect("another save");
        assert_eq!(writes(), 2, "only the one save right after is skipped");
        // A change after the explicit save is not lost.
        session
            .logout_token()
            .await
            .expect("no change: nothing saved");
        session.insert("x", &1).await.expect("insert");
        session.0.save().await.expect("final save");
        assert_eq!(writes(), 3, "a changed session is saved");
    })
    .await;
    // Outside the scope (no middleware), nothing is skipped.
    let session = AppSession(Session::new(None, layer_store.clone(), None));
    session.logout_token().await.expect("token");
    session.0.save().await.expect("final save");
    assert_eq!(writes(), 5);
}

#[test]
fn only_records_without_tokens_are_anonymous() {
    let mut record = Record {
        id: Default::default(),
        data: Default::default(),
        expiry_date: time::OffsetDateTime::now_utc(),
    };
    record.data.insert(PENDING.into(), serde_json::json!([]));
    assert!(is_anonymous(&record));
    record.data.insert(TOKENS.into(), serde_json::json!({}));
    assert!(!is_anonymous(&record));
}

/// A fresh browser's session over `store`.
fn session_over(store: &Arc<Counting>) -> AppSession {
    let store: Arc<dyn SessionStore> = store.clone();
    AppSession(Session::new(None, Arc::new(store::AnyStore(store)), None))
}

/// The same browser's next request: its record loaded again from `store`.
async fn next_request(store: &Arc<Counting>, of: &AppSession) -> AppSession {
    let dyn_store: Arc<dyn SessionStore> = store.clone();
    let session = Session::new(of.id(), Arc::new(store::AnyStore(dyn_store)), None);
    // Loads now, so the test sees what the store holds.
    let _ = session.get_value("nothing").await.expect("load");
    AppSession(session)
}

impl Counting {
    fn writes(&self) -> usize {
        self.writes.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn record(&self, id: Option<Id>) -> Option<Record> {
        self.inner.try_lock().expect("idle").get(&id?).cloned()
    }
}

/// A fresh browser's session over its own store, with a sign-in started under `state`.
async fn started_login(state: &str) -> (Arc<Counting>, AppSession) {
    let store = Arc::new(Counting::default());
    let session = session_over(&store);
    session
        .begin_login(login(state, 0), TTL)
        .await
        .expect("kept");
    (store, session)
}

fn login(state: &str, created_at: i64) -> PendingLogin {
    PendingLogin {
        state: CsrfToken::new(state.into()),
        verifier: PkceCodeVerifier::new("v".repeat(43)),
        nonce: None,
        created_at,
    }
}

fn tokens(access: &str) -> TokenSet {
    TokenSet {
        access_token: oauth2::AccessToken::new(access.into()),
        refresh_token: None,
        expires_at: None,
        scopes: vec!["photos".into()],
        refreshed: 0,
        token_type: TokenType::Bearer,
        dpop_key: None,
        identity: None,
    }
}

const TTL: Duration = Duration::from_secs(600);

fn idle(expiry: Option<Expiry>) -> Option<i64> {
    match expiry {
        Some(Expiry::OnInactivity(d)) => Some(d.whole_seconds()),
        _ => None,
    }
}

#[tokio::test]
async fn a_started_login_is_saved_and_lives_its_ttl_plus_a_minute() {
    let (store, session) = started_login("s1").await;
    assert_eq!(idle(session.0.expiry()), Some(660), "the ttl and its grace");
    let record = store.record(session.id()).expect("saved before returning");
    assert!(
        record.data.contains_key(PENDING),
        "{:?}",
        record.data.keys()
    );
    let next = next_request(&store, &session).await;
    assert_eq!(next.pending_logins().await.expect("load").len(), 1);
}

#[tokio::test]
async fn a_state_is_taken_once_and_the_taking_is_saved() {
    let (store, session) = started_login("s1").await;
    session
        .begin_login(login("s2", 0), TTL)
        .await
        .expect("kept");
    let taken = session
        .take_login("s1", 1, TTL, || true)
        .await
        .expect("take");
    assert!(matches!(taken, LoginLookup::Found(l) if l.state.secret() == "s1"));
    // Another request (or instance) sees the state gone and the other sign-in kept.
    let next = next_request(&store, &session).await;
    let again = next.take_login("s1", 1, TTL, || true).await.expect("take");
    assert!(matches!(again, LoginLookup::Unknown), "single use");
    let other = next.take_login("s2", 1, TTL, || true).await.expect("take");
    assert!(matches!(other, LoginLookup::Found(_)));
    let record = store.record(session.id()).expect("record");
    assert!(
        !record.data.contains_key(PENDING),
        "the last one taken: removed"
    );
}

#[tokio::test]
async fn a_refused_callback_changes_nothing_in_the_store() {
    let (store, session) = started_login("s1").await;
    let writes = store.writes();
    let refused = session
        .take_login("s1", 1, TTL, || false)
        .await
        .expect("take");
    assert!(matches!(refused, LoginLookup::Refused));
    assert_eq!(store.writes(), writes);
    let next = next_request(&store, &session).await;
    let taken = next.take_login("s1", 1, TTL, || true).await.expect("take");
    assert!(
        matches!(taken, LoginLookup::Found(_)),
        "the real sign-in survives"
    );
}

#[tokio::test]
async fn connecting_changes_the_id_and_keeps_tokens_and_a_logout_token_for_the_idle_limit() {
    let (store, session) = started_login("s1").await;
    let anonymous = session.id().expect("saved");
    assert_eq!(session.logout_token_if_any().await.expect("read"), None);
    let idle_limit = Duration::from_secs(7 * 24 * 3600);
    session
        .connect(&tokens("at-1"), idle_limit)
        .await
        .expect("connect");
    let id = session.id().expect("id");
    assert_ne!(id, anonymous, "a new id at sign-in (session fixation)");
    assert!(
        store.record(Some(anonymous)).is_none(),
        "the old id is gone"
    );
    assert_eq!(
        idle(session.0.expiry()),
        Some(7 * 24 * 3600),
        "the connected idle limit"
    );

    let next = next_request(&store, &session).await;
    assert_eq!(next.id(), Some(id));
    let kept = next.tokens().await.expect("read").expect("connected");
    assert_eq!(kept.access_token.secret(), "at-1");
    let logout = next
        .logout_token_if_any()
        .await
        .expect("read")
        .expect("made");
    assert_eq!(logout.len(), 43);
    assert_eq!(next.logout_token().await.expect("same"), logout);

    next.update_tokens(&tokens("at-2")).await.expect("update");
    let later = next_request(&store, &session).await;
    let kept = later.tokens().await.expect("read").expect("connected");
    assert_eq!(kept.access_token.secret(), "at-2");
}

#[tokio::test]
async fn only_the_sessions_own_logout_token_matches() {
    let store = Arc::new(Counting::default());
    let session = session_over(&store);
    assert!(
        !session.logout_token_matches("").await.expect("check"),
        "no token yet"
    );
    assert!(!session.logout_token_matches("guess").await.expect("check"));
    let token = session.logout_token().await.expect("token");
    assert!(session.logout_token_matches(&token).await.expect("check"));
    assert!(!session.logout_token_matches("").await.expect("check"));
    assert!(
        !session
            .logout_token_matches(&token[..42])
            .await
            .expect("check")
    );
    let other = session_over(&store).logout_token().await.expect("token");
    assert!(!session.logout_token_matches(&other).await.expect("check"));
}

/// A connected session over `store`, and its id (its record is there).
async fn connected_over(store: &Arc<Counting>) -> (AppSession, Option<Id>) {
    let session = session_over(store);
    session
        .connect(&tokens("at-1"), TTL)
        .await
        .expect("connect");
    let id = Some(session.id().expect("saved"));
    assert!(store.record(id).is_some());
    (session, id)
}

#[tokio::test]
async fn ending_deletes_the_record_or_keeps_only_the_given_value_under_a_new_id() {
    let store = Arc::new(Counting::default());
    let (session, id) = connected_over(&store).await;
    session.end().await.expect("end");
    assert!(store.record(id).is_none(), "deleted from the store");

    let (session, id) = connected_over(&store).await;
    session
        .end_keeping("wing.kept", &vec![1u32], Duration::from_secs(120))
        .await
        .expect("end");
    assert!(store.record(id).is_none(), "the connected record is gone");
    assert_ne!(session.id(), id);
    assert_eq!(idle(session.0.expiry()), Some(120));
    let record = store.record(session.id()).expect("the kept value's record");
    let keys: Vec<&String> = record.data.keys().collect();
    assert_eq!(
        keys,
        ["wing.kept"],
        "only the value: no tokens, no logout token"
    );
}

#[tokio::test]
async fn a_staged_value_is_saved_with_the_connection_in_one_write() {
    let store = Arc::new(Counting::default());
    let session = session_over(&store);
    session
        .stage_value("wing", &vec![1u32])
        .await
        .expect("staged");
    assert_eq!(store.writes(), 0, "not saved on its own");
    session
        .connect(&tokens("at-1"), TTL)
        .await
        .expect("connect");
    assert_eq!(store.writes(), 1, "one write for both");
    let next = next_request(&store, &session).await;
    assert_eq!(
        next.value::<Vec<u32>>("wing").await.expect("read"),
        Some(vec![1])
    );
    next.forget_value("wing").await.expect("forget");
    next.forget_value("never-kept")
        .await
        .expect("nothing to forget");
    assert_eq!(next.value::<Vec<u32>>("wing").await.expect("read"), None);
}

#[tokio::test]
async fn stored_session_reads_and_writes_the_record_as_the_store_has_it() {
    let store = Arc::new(Counting::default());
    let session = session_over(&store);
    session
        .stage_value("wing", &vec![1u32])
        .await
        .expect("staged");
    session
        .connect(&tokens("at-1"), TTL)
        .await
        .expect("connect");
    let dyn_store: Arc<dyn SessionStore> = store.clone();
    let stored = StoredSession::new(dyn_store, session.id().expect("id"));
    let now = stored.tokens().await.expect("read").expect("connected");
    assert_eq!(now.access_token.secret(), "at-1");
    stored.update_tokens(&tokens("at-2")).await.expect("update");
    let next = next_request(&store, &session).await;
    let seen = next.tokens().await.expect("read").expect("connected");
    assert_eq!(
        seen.access_token.secret(),
        "at-2",
        "the layer's next load sees it"
    );

    stored
        .update_value("wing", |v: &mut Vec<u32>| v.push(2))
        .await
        .expect("update");
    stored
        .update_value("absent", |v: &mut Vec<u32>| v.push(3))
        .await
        .expect("nothing to update");
    let next = next_request(&store, &session).await;
    assert_eq!(
        next.value::<Vec<u32>>("wing").await.expect("read"),
        Some(vec![1, 2])
    );
    assert_eq!(
        next.value::<Vec<u32>>("absent").await.expect("read"),
        None,
        "not created"
    );

    stored.forget_tokens().await.expect("forget");
    assert!(stored.tokens().await.expect("read").is_none());
    let next = next_request(&store, &session).await;
    assert!(next.tokens().await.expect("read").is_none(), "disconnected");
    assert!(
        next.logout_token_if_any().await.expect("read").is_some(),
        "the rest is kept"
    );
}

#[tokio::test]
async fn a_stored_session_that_is_gone_stays_gone() {
    let store = Arc::new(Counting::default());
    let dyn_store: Arc<dyn SessionStore> = store.clone();
    let id = Id::default();
    let stored = StoredSession::new(dyn_store, id);
    stored
        .update_tokens(&tokens("at-1"))
        .await
        .expect("nothing to update");
    assert!(store.record(Some(id)).is_none(), "not created again");
    assert_eq!(store.writes(), 0);
    assert!(stored.tokens().await.expect("read").is_none());
}

#[tokio::test]
async fn tokens_are_kept_as_one_string_and_older_records_still_read() {
    let store = Arc::new(Counting::default());
    let session = session_over(&store);
    session
        .connect(&tokens("at-1"), TTL)
        .await
        .expect("connect");
    let record = store.record(session.id()).expect("saved");
    assert!(
        record.data[TOKENS].is_string(),
        "one value to copy, not a map of fields"
    );
    let inside: serde_json::Value =
        serde_json::from_str(record.data[TOKENS].as_str().expect("a string")).expect("JSON");
    assert_eq!(
        inside["access_token"], "at-1",
        "the token set, as JSON text"
    );

    // A record written by an earlier version kept the tokens as an object.
    let mut older = record.clone();
    let object = serde_json::to_value(tokens("at-old")).expect("json");
    older.data.insert(TOKENS.into(), object);
    store.inner.lock().await.insert(older.id, older);
    let next = next_request(&store, &session).await;
    let read = next.tokens().await.expect("read").expect("still connected");
    assert_eq!(read.access_token.secret(), "at-old");

    // Unreadable tokens count as absent: the visitor connects again.
    let mut broken = record.clone();
    broken
        .data
        .insert(TOKENS.into(), serde_json::json!("not json"));
    store.inner.lock().await.insert(broken.id, broken);
    let next = next_request(&store, &session).await;
    assert!(next.tokens().await.expect("read").is_none());
}

#[test]
fn under_pressure_only_the_sessions_own_values_are_kept() {
    let mut record = tower_sessions::session::Record {
        id: tower_sessions::session::Id::default(),
        data: Default::default(),
        expiry_date: time::OffsetDateTime::now_utc(),
    };
    for key in [
        super::PENDING,
        super::TOKENS,
        super::LOGOUT_TOKEN,
        super::RENEWED,
        "wing.record",
        "x",
    ] {
        record.data.insert(key.into(), serde_json::json!(1));
    }
    super::drop_wing_values(&mut record);
    let mut kept: Vec<&str> = record.data.keys().map(String::as_str).collect();
    kept.sort_unstable();
    assert_eq!(kept, ["auth.tokens", "csrf", "oauth.pending", "renewed"]);
}

#[tokio::test]
async fn c99_the_logout_state_survives_the_end_of_the_session_and_is_taken_once() {
    let store = Arc::new(Counting::default());
    let session = session_over(&store);
    session
        .logout_token()
        .await
        .expect("a connected-like session");
    let old = session.id();
    session.end().await.expect("ended");
    session
        .remember_logout("st-1", "signed-out", TTL)
        .await
        .expect("kept");
    assert_ne!(
        session.id(),
        old,
        "a new anonymous session, not the old one"
    );
    let record = store
        .inner
        .lock()
        .await
        .get(&session.id().expect("saved"))
        .cloned();
    let record = record.expect("saved before returning");
    assert!(is_anonymous(&record) && !record.data.contains_key(LOGOUT_TOKEN));

    let back = next_request(&store, &session).await;
    assert_eq!(
        back.take_logout("st-2").await.expect("read"),
        None,
        "another state"
    );
    assert_eq!(back.take_logout("").await.expect("read"), None, "no state");
    assert_eq!(
        back.take_logout("st-1").await.expect("read").as_deref(),
        Some("signed-out")
    );
    let again = next_request(&store, &back).await;
    assert_eq!(
        again.take_logout("st-1").await.expect("read"),
        None,
        "single use"
    );
}
