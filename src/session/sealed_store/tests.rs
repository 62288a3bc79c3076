//! Tests of the sealed Redis store against a real `redis-server`: round trips, key rotation,
//! update-only saves, clashes and expiry.

use std::collections::HashMap;

use super::*;
use crate::config::{RedisUrl, SessionKey};

use crate::session::redis_server as server;

async fn store(redis: &server::RedisServer, key: u8, previous: &[u8]) -> SealedRedisStore {
    let url = RedisUrl::parse(&redis.url()).expect("url");
    let pool = super::super::redis::connect(&url).await.expect("redis");
    let previous: Vec<SessionKey> = previous
        .iter()
        .map(|b| SessionKey::from_bytes([*b; 32]))
        .collect();
    let at_rest = AtRest::new("t:", &SessionKey::from_bytes([key; 32]), &previous);
    SealedRedisStore::new(pool, Arc::new(at_rest))
}

/// `store.create(record)`, which must not spin: a clash gets one fresh id, not a loop (a test
/// that hangs instead of failing costs a mutation run its whole timeout).
async fn create(store: &SealedRedisStore, record: &mut Record) {
    tokio::time::timeout(std::time::Duration::from_secs(10), store.create(record))
        .await
        .expect("create returns")
        .expect("created");
}

fn record() -> Record {
    let mut data = HashMap::new();
    data.insert("tokens".to_owned(), serde_json::json!("a-token"));
    Record {
        id: Id::default(),
        data,
        expiry_date: time::OffsetDateTime::now_utc() + time::Duration::minutes(5),
    }
}

#[tokio::test]
async fn a_record_round_trips_and_a_rotated_key_still_reads_and_moves_it() {
    let Some(redis) = server::RedisServer::start() else {
        return;
    };
    let old = store(&redis, 1, &[]).await;
    let mut first = record();
    create(&old, &mut first).await;
    assert_eq!(
        old.load(&first.id).await.expect("loads"),
        Some(first.clone())
    );

    let rotated = store(&redis, 2, &[1]).await;
    let loaded = rotated.load(&first.id).await.expect("loads");
    assert_eq!(
        loaded,
        Some(first.clone()),
        "an earlier key still opens its records"
    );
    let names = redis.cli(&["--scan"]);
    assert_eq!(names.lines().count(), 1, "moved, not copied: {names}");
    let mut changed = first.clone();
    changed
        .data
        .insert("tokens".into(), serde_json::json!("rotated"));
    rotated.save(&changed).await.expect("saved");
    assert_eq!(
        rotated.load(&first.id).await.expect("loads"),
        Some(changed.clone())
    );
    assert_eq!(
        old.load(&first.id).await.expect("loads"),
        None,
        "the old key no longer finds it"
    );

    let stranger = store(&redis, 3, &[]).await;
    assert_eq!(
        stranger.load(&first.id).await.expect("no error"),
        None,
        "another key"
    );
    rotated.delete(&first.id).await.expect("deleted");
    assert_eq!(rotated.load(&first.id).await.expect("loads"), None);
    assert_eq!(redis.cli(&["--scan"]).trim(), "", "nothing left");
}

#[tokio::test]
async fn save_never_brings_back_a_deleted_session_and_create_never_overwrites() {
    let Some(redis) = server::RedisServer::start() else {
        return;
    };
    let store = store(&redis, 1, &[]).await;
    let mut first = record();
    create(&store, &mut first).await;
    store.delete(&first.id).await.expect("deleted");
    store.save(&first).await.expect("a save is not an error");
    assert_eq!(
        store.load(&first.id).await.expect("loads"),
        None,
        "update-only"
    );

    let mut taken = record();
    create(&store, &mut taken).await;
    let mut clash = record();
    clash.id = taken.id;
    create(&store, &mut clash).await;
    assert_ne!(clash.id, taken.id, "a clash gets a fresh id");
    assert_eq!(
        store.load(&taken.id).await.expect("loads"),
        Some(taken.clone())
    );
    let ttl: i64 = redis
        .cli(&["TTL", &store.at_rest.record_key(&taken.id.to_string())])
        .trim()
        .parse()
        .expect("ttl");
    assert!(
        (1..=300).contains(&ttl),
        "every record expires with its session: {ttl}"
    );
}
