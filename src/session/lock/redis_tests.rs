//! Tests of the per-session lock in Redis, driven directly against a real `redis-server`: two
//! instances (two connection pools) taking one session's lock, its bounded wait, its release,
//! a lock whose holder vanished, and readiness. The server comes from the harness the scale-out
//! tests use.

use std::time::{Duration, Instant};

use std::sync::Arc;

use super::SessionLocks;
use crate::{
    config::{RedisUrl, SessionKey},
    session::{SessionError, at_rest::AtRest, redis::connect},
};

use crate::session::redis_server::RedisServer;

/// How every instance names data in Redis (one prefix, one key).
fn at_rest() -> Arc<AtRest> {
    Arc::new(AtRest::new("test:", &SessionKey::from_bytes([3; 32]), &[]))
}

/// One instance's locks over its own connection pool.
async fn instance(redis: &RedisServer, wait: Duration) -> SessionLocks {
    let url = RedisUrl::parse(&redis.url()).expect("url");
    let pool = connect(&url).await.expect("redis");
    SessionLocks::redis("id", pool, wait, at_rest())
}

/// The Redis name of the lock of session "the-session".
fn lock_name() -> String {
    at_rest().lock_key("the-session")
}

fn held(redis: &RedisServer) -> bool {
    redis.cli(&["EXISTS", &lock_name()]).trim() == "1"
}

#[tokio::test]
async fn the_lock_is_named_by_a_hash_of_the_cookie_id_under_the_prefix() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let locks = instance(&redis, Duration::from_secs(1)).await;
    let guard = locks.acquire("the-session").await.expect("free");
    let keys = redis.cli(&["--scan"]);
    assert_eq!(keys.trim(), lock_name(), "one key, the derived name");
    assert!(
        keys.starts_with("test:lock:") && !keys.contains("the-session"),
        "{keys}"
    );
    guard.release().await;
}

#[tokio::test]
async fn a_held_lock_makes_another_instance_wait_its_bound_then_answer_busy() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let wait = Duration::from_secs(1);
    let (a, b) = (instance(&redis, wait).await, instance(&redis, wait).await);
    let guard = a.acquire("the-session").await.expect("free");
    // A short lease, so a holder that dies frees it within seconds.
    let ttl: u64 = redis
        .cli(&["PTTL", &lock_name()])
        .trim()
        .parse()
        .expect("a ttl");
    assert!((4_000..=5_000).contains(&ttl), "PTTL {ttl} ms");

    let before = redis.commands_processed();
    let started = Instant::now();
    let refused = b.acquire("the-session").await.err().expect("held by A");
    let waited = started.elapsed();
    assert!(matches!(refused, SessionError::Busy), "{refused:?}");
    assert!(
        waited >= wait,
        "gave up after {waited:?}, before its {wait:?}"
    );
    // Backing off from 5 ms to 50 ms: about twenty tries in a second, not a busy loop.
    let tries = redis.commands_processed() - before;
    assert!(tries <= 60, "{tries} commands while waiting");

    guard.release().await;
    assert!(!held(&redis), "released when release returns");
    cycle(&b).await; // free again
}

#[tokio::test]
async fn a_waiting_instance_gets_the_lock_as_soon_as_it_is_released() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let (a, b) = (
        instance(&redis, Duration::from_secs(5)).await,
        instance(&redis, Duration::from_secs(5)).await,
    );
    let guard = a.acquire("the-session").await.expect("free");
    let waiter = tokio::spawn(async move {
        let started = Instant::now();
        let guard = b.acquire("the-session").await;
        (
            guard.map(|_| ()).map_err(|e| format!("{e:?}")),
            started.elapsed(),
        )
    });
    tokio::time::sleep(Duration::from_millis(150)).await;
    guard.release().await;
    let (got, waited) = waiter.await.expect("waiter");
    got.expect("taken after the release");
    assert!(
        waited < Duration::from_secs(1),
        "waited {waited:?}: the lock's expiry, not its release"
    );
}

#[tokio::test]
async fn a_lock_dropped_without_release_is_freed_in_the_background() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    // A request that was cancelled (the client went away) drops its guard unreleased.
    let locks = instance(&redis, Duration::from_secs(10)).await;
    drop(locks.acquire("the-session").await.expect("free"));
    let deadline = Instant::now() + Duration::from_secs(2);
    while held(&redis) {
        assert!(Instant::now() < deadline, "still held: left to its lease");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[test]
fn release_is_done_when_it_returns_not_left_to_a_task_a_shutdown_would_cancel() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    // One request's whole life on a runtime that stops as soon as the request ends, as at
    // shutdown: a release left to a background task would never run.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        cycle(&instance(&redis, Duration::from_secs(10)).await).await;
    });
    drop(runtime);
    assert!(!held(&redis), "the lock outlived its request");
}

/// Takes session "the-session"'s lock and releases it.
async fn cycle(locks: &SessionLocks) {
    locks
        .acquire("the-session")
        .await
        .expect("free")
        .release()
        .await;
}

#[tokio::test]
async fn a_released_lock_leaves_no_renewal_task_behind() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let locks = instance(&redis, Duration::from_secs(10)).await;
    // Once first, so that whatever the Redis client starts lazily is running before counting.
    cycle(&locks).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let metrics = tokio::runtime::Handle::current().metrics();
    let before = metrics.num_alive_tasks();
    for _ in 0..5 {
        cycle(&locks).await;
    }
    // The renewals tick every third of the 5 s lease: still sleeping unless aborted.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        metrics.num_alive_tasks(),
        before,
        "a renewal outlived its lock (one task per request until its next tick)"
    );
}

#[tokio::test]
async fn a_lock_taken_while_redis_stalls_is_not_left_behind_when_it_resumes() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let locks = instance(&redis, Duration::from_secs(10)).await;
    redis.signal("-STOP");
    let failed = locks.acquire("the-session").await;
    assert!(
        matches!(failed, Err(SessionError::Store(_))),
        "a frozen Redis is a store error after the command timeout: {:?}",
        failed.err()
    );
    // Redis now runs what it was sent while frozen: the `SET NX`, then that attempt's release.
    redis.signal("-CONT");
    let deadline = Instant::now() + Duration::from_secs(2);
    while held(&redis) {
        assert!(
            Instant::now() < deadline,
            "an orphaned lock: the session would be blocked for its whole lease"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let started = Instant::now();
    cycle(&locks).await; // the next request takes the lock at once
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_lease_is_renewed_while_its_holder_works_and_ends_soon_after_the_holder_dies() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let lease = Duration::from_millis(600);
    // An instance's whole life on its own runtime: dropping the runtime with the lock held and
    // never released is what a SIGKILL leaves behind.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let locks = instance(&redis, Duration::from_secs(10))
            .await
            .with_lease(lease);
        let guard = locks.acquire("the-session").await.expect("free");
        // Working for three leases: a refresh as slow as the HTTP timeout keeps its lock.
        tokio::time::sleep(lease * 3).await;
        assert!(
            held(&redis),
            "the lease was not renewed while the holder worked"
        );
        std::mem::forget(guard);
    });
    drop(runtime);
    let died = Instant::now();
    while held(&redis) {
        assert!(
            died.elapsed() < lease * 2,
            "a dead holder's lock outlived its lease"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test]
async fn two_hundred_requests_waiting_on_one_held_lock_cost_redis_a_few_commands() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let wait = Duration::from_secs(3);
    let (a, b) = (instance(&redis, wait).await, instance(&redis, wait).await);
    let guard = a.acquire("the-session").await.expect("free");
    let before = redis.commands_processed();
    let waiters: Vec<_> = (0..200)
        .map(|_| {
            let b = b.clone();
            tokio::spawn(async move { b.acquire("the-session").await.map(drop) })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(1)).await;
    guard.release().await;
    let mut busy = 0;
    for waiter in waiters {
        match waiter.await.expect("task") {
            Ok(()) => {}
            Err(SessionError::Busy) => busy += 1,
            Err(other) => panic!("{other:?}"),
        }
    }
    let commands = redis.commands_processed() - before;
    // One polls Redis, MAX_WAITERS wait behind it; the rest are busy at once.
    assert_eq!(
        busy,
        200 - 1 - super::MAX_WAITERS,
        "beyond the cap, busy at once"
    );
    // One poller for the session in this instance (about 20 tries a second), then each of the
    // waiters' SET, its lease renewal and its release: not 20 a second for each of 200.
    eprintln!("{commands} Redis commands for 200 requests waiting on one held lock");
    assert!(
        commands <= 120,
        "{commands} Redis commands for 200 waiting requests"
    );
}

#[tokio::test]
async fn readiness_follows_whether_redis_answers() {
    let Some(mut redis) = RedisServer::start() else {
        return;
    };
    let url = RedisUrl::parse(&redis.url()).expect("url");
    let pool = connect(&url).await.expect("redis");
    assert!(crate::session::redis::is_ready(&pool).await);
    redis.stop();
    assert!(!crate::session::redis::is_ready(&pool).await, "stopped");
}
