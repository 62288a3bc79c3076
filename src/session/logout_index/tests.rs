//! Tests of the back-channel logout index: in memory (bounded, per name and in all, expiring)
//! and in a real `redis-server` (sealed ids under HMAC names, the `jti` shared by instances).

use std::{sync::Arc, time::Duration};

use tower_sessions::session::Id;

use super::LogoutIndex;
use crate::{
    config::{RedisUrl, SessionKey},
    session::{at_rest::AtRest, redis_server as server},
};

const MINUTE: Duration = Duration::from_secs(60);

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|n| (*n).to_owned()).collect()
}

#[tokio::test]
async fn c100_a_session_is_found_by_its_sid_and_its_sub_once() {
    let index = LogoutIndex::in_process(10);
    let (one, two) = (Id::default(), Id::default());
    index
        .add(&names(&["sid:s1", "sub:alice"]), one, MINUTE)
        .await
        .expect("add");
    index
        .add(&names(&["sid:s2", "sub:alice"]), two, MINUTE)
        .await
        .expect("add");
    index
        .add(&names(&["sid:s2", "sub:alice"]), two, MINUTE)
        .await
        .expect("renewed");
    assert_eq!(index.take("sid:s1").await.expect("take"), vec![one]);
    assert!(
        index.take("sid:s1").await.expect("take").is_empty(),
        "taken once"
    );
    let mut both = index.take("sub:alice").await.expect("take");
    both.sort_by_key(|id| id.0);
    let mut want = vec![one, two];
    want.sort_by_key(|id| id.0);
    assert_eq!(both, want, "a renewal does not index a session twice");
}

#[tokio::test]
async fn c100_the_memory_index_is_bounded_per_name_and_in_all() {
    let index = LogoutIndex::in_process(2);
    let ids: Vec<Id> = (0..40).map(|_| Id::default()).collect();
    for id in &ids {
        index
            .add(&names(&["sub:alice"]), *id, MINUTE)
            .await
            .expect("add");
    }
    let kept = index.take("sub:alice").await.expect("take");
    assert_eq!(kept.len(), super::MAX_PER_NAME);
    assert_eq!(kept.last(), ids.last(), "the newest are kept");

    index
        .add(&names(&["sid:a", "sid:b", "sid:c"]), ids[0], MINUTE)
        .await
        .expect("add");
    assert_eq!(
        index.take("sid:c").await.expect("take"),
        vec![],
        "past the cap, not indexed"
    );
    assert_eq!(index.take("sid:a").await.expect("take"), vec![ids[0]]);
}

#[tokio::test]
async fn c100_a_jti_is_new_once_and_a_full_cache_refuses_rather_than_forgets() {
    let index = LogoutIndex::in_process(2);
    assert!(index.first_use("j1", MINUTE).await.expect("first"));
    assert!(
        !index.first_use("j1", MINUTE).await.expect("again"),
        "a replay"
    );
    assert!(index.first_use("j2", MINUTE).await.expect("second"));
    assert!(
        !index.first_use("j3", MINUTE).await.expect("full"),
        "full of live jtis"
    );
}

#[tokio::test]
async fn c100_an_entry_expires_with_its_session() {
    let index = LogoutIndex::in_process(10);
    index
        .add(&names(&["sid:s"]), Id::default(), Duration::from_secs(1))
        .await
        .expect("add");
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert!(index.take("sid:s").await.expect("take").is_empty());
}

async fn redis_index(redis: &server::RedisServer) -> LogoutIndex {
    let url = RedisUrl::parse(&redis.url()).expect("url");
    let pool = crate::session::redis::connect(&url).await.expect("redis");
    let at_rest = AtRest::new("t:", &SessionKey::from_bytes([3; 32]), &[]);
    LogoutIndex::redis(pool, Arc::new(at_rest))
}

#[tokio::test]
async fn c100_in_redis_the_index_names_no_one_and_a_jti_is_shared_by_instances() {
    let Some(redis) = server::RedisServer::start() else {
        return;
    };
    let (a, b) = (redis_index(&redis).await, redis_index(&redis).await);
    let id = Id::default();
    a.add(&names(&["sid:s-secret", "sub:alice"]), id, MINUTE)
        .await
        .expect("add");
    let keys = redis.cli(&["--scan"]);
    assert!(keys.contains("t:logout:"), "{keys}");
    for word in ["s-secret", "alice", &id.to_string()] {
        assert!(!keys.contains(word), "{word} in a key: {keys}");
    }
    assert_eq!(
        b.take("sub:alice").await.expect("take"),
        vec![id],
        "another instance finds it"
    );
    assert!(b.take("sub:alice").await.expect("take").is_empty());

    assert!(a.first_use("j1", MINUTE).await.expect("first"));
    assert!(
        !b.first_use("j1", MINUTE).await.expect("replay"),
        "SET NX: shared"
    );
}
