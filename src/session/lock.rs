//! The per-session lock: one request per browser session at a time. The web floor's lock
//! middleware takes it around a whole request, save included; [`Sessions`](super::Sessions) takes
//! it around a refresh alone (single-flight, RFC 9700 §4.14.2). A request first takes the
//! session's lock in this process (at most [`MAX_WAITERS`] wait; more are told "busy" at once).
//! With the Redis store the one request that holds it then takes the lock in Redis too (`SET NX
//! PX` with a random owner, released only by that owner, a bounded wait), so it holds across
//! instances: a short lease, renewed while the holder works, so a crashed instance blocks its
//! sessions for seconds, and only one poller per session per instance, so waiting costs Redis
//! a few commands a second, however many requests wait.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, Weak},
};

use std::time::{Duration, Instant};

use fred::clients::{Client, Pool};

use super::{SessionError, at_rest::AtRest};
use crate::{metrics, random::random_token};

/// Beyond this many entries, the lock table drops the locks no request holds any more.
const PRUNE_ABOVE: usize = 1024;

/// Most requests of one session that wait for its lock in one process; more are busy at once.
/// A browser sends a handful at a time; thousands on one cookie are an attack.
pub const MAX_WAITERS: usize = 8;

/// How long a lock in Redis lives unless renewed: what a crashed holder costs its session.
const LEASE: Duration = Duration::from_secs(5);

/// The per-session locks, keyed by session id (the cookie's value).
#[derive(Clone, Debug)]
pub struct SessionLocks {
    cookie_name: &'static str,
    /// The locks in this process: the whole lock in memory, the gate in front of Redis.
    table: LockTable,
    backend: Backend,
    /// How long a request may wait for the lock.
    wait: Duration,
    /// (Redis) how long a lock lives unless its holder renews it.
    lease: Duration,
}

#[derive(Clone, Debug)]
enum Backend {
    InProcess,
    /// The pool, and the names of locks in Redis (derived from the cookie id, never the id).
    Redis(Pool, Arc<AtRest>),
}

/// A held lock; released when dropped (or, for Redis, by [`LockGuard::release`]).
pub struct LockGuard {
    /// The lock in this process; with Redis, also the gate in front of it.
    _in_process: tokio::sync::OwnedMutexGuard<()>,
    /// Renews the Redis lease while held; aborted when the guard goes.
    _renewal: Option<AbortOnDrop>,
    /// The connection that took the lock, its key and owner value.
    redis: Option<(Client, String, String)>,
}

impl LockGuard {
    /// Releases the lock now (Redis: waits for the release; dropping releases in the background).
    pub async fn release(mut self) {
        // Boxed, like the Redis wait in `acquire`: inline, its few kilobytes would be built and
        // copied on every request.
        if let Some((client, key, owner)) = self.redis.take()
            && let Err(err) = Box::pin(super::redis::unlock(&client, &key, &owner)).await
        {
            tracing::warn!(error = %err, "could not release a session lock; it expires on its own");
        }
    }
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        if let Some((client, key, owner)) = self.redis.take() {
            tokio::spawn(async move {
                let _ = super::redis::unlock(&client, &key, &owner).await;
            });
        }
    }
}

impl SessionLocks {
    /// In-process locks (the memory store).
    pub fn in_process(cookie_name: &'static str, wait: Duration) -> Self {
        Self {
            cookie_name,
            table: LockTable::default(),
            backend: Backend::InProcess,
            wait,
            lease: LEASE,
        }
    }

    /// Locks in Redis, shared by every instance using that Redis.
    pub fn redis(
        cookie_name: &'static str,
        pool: Pool,
        wait: Duration,
        at_rest: Arc<AtRest>,
    ) -> Self {
        Self {
            cookie_name,
            table: LockTable::default(),
            backend: Backend::Redis(pool, at_rest),
            wait,
            lease: LEASE,
        }
    }

    /// The same locks with another lease (tests).
    #[cfg(test)]
    fn with_lease(self, lease: Duration) -> Self {
        Self { lease, ..self }
    }

    /// The lock key of the session whose cookie `headers` carry, if any.
    pub fn key_in(&self, headers: &http::HeaderMap) -> Option<String> {
        cookie_value(headers, self.cookie_name)
    }

    /// Takes the lock of session `key`, waiting at most `wait`; busy at once when
    /// [`MAX_WAITERS`] requests of that session already wait in this process.
    pub async fn acquire(&self, key: &str) -> Result<LockGuard, SessionError> {
        let deadline = Instant::now() + self.wait;
        let lock = self.table.lock_for(key).ok_or_else(busy)?;
        // A clone to try with; on success the original goes at once, so the holder counts once
        // towards `MAX_WAITERS`, as when it waited.
        let local = match lock.clone().try_lock_owned() {
            Ok(free) => {
                drop(lock);
                free
            }
            Err(_) => {
                metrics::session_lock_wait();
                tokio::time::timeout(self.wait, lock.lock_owned())
                    .await
                    .map_err(|_| busy())?
            }
        };
        match &self.backend {
            Backend::InProcess => Ok(LockGuard {
                _in_process: local,
                _renewal: None,
                redis: None,
            }),
            // Boxed: the Redis wait's future is about 7 KB, and inline it would be built and
            // copied on every request, Redis or not (4% of the app's instructions, BENCHMARKS.md).
            Backend::Redis(pool, at_rest) => {
                let key = at_rest.lock_key(key);
                Box::pin(self.acquire_in_redis(pool, key, local, deadline)).await
            }
        }
    }

    async fn acquire_in_redis(
        &self,
        pool: &Pool,
        key: String,
        local: tokio::sync::OwnedMutexGuard<()>,
        deadline: Instant,
    ) -> Result<LockGuard, SessionError> {
        let owner = random_token();
        let mut pause = Duration::from_millis(5);
        loop {
            // One connection per attempt, so that a release sent after a failed attempt runs
            // after that attempt's `SET` even when Redis stalls and replays both later.
            let client = pool.next().clone();
            match super::redis::try_lock(&client, &key, &owner, self.lease).await {
                Ok(true) => {
                    let renewal = renew_while_held(&client, &key, &owner, self.lease);
                    return Ok(LockGuard {
                        _in_process: local,
                        _renewal: Some(renewal),
                        redis: Some((client, key, owner)),
                    });
                }
                Ok(false) if Instant::now() < deadline => {
                    if pause == Duration::from_millis(5) {
                        metrics::session_lock_wait();
                    }
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_millis(50));
                }
                Ok(false) => return Err(busy()),
                Err(err) => {
                    // A timed-out `SET NX` may still run when a stalled Redis resumes, leaving a
                    // lock nobody owns; this attempt's own release, queued behind it, undoes it.
                    tokio::spawn(async move {
                        let _ = super::redis::unlock(&client, &key, &owner).await;
                    });
                    return Err(SessionError::store(format_args!("session lock: {err}")));
                }
            }
        }
    }
}

/// A busy answer, counted.
fn busy() -> SessionError {
    metrics::session_lock_busy();
    SessionError::Busy
}

/// Renews the lease every third of it while the lock is held (a refresh may take the whole HTTP
/// timeout); stops when the lock is lost or the guard goes.
fn renew_while_held(client: &Client, key: &str, owner: &str, lease: Duration) -> AbortOnDrop {
    let (client, key, owner) = (client.clone(), key.to_owned(), owner.to_owned());
    AbortOnDrop(tokio::spawn(async move {
        loop {
            tokio::time::sleep(lease / 3).await;
            match super::redis::renew(&client, &key, &owner, lease).await {
                Ok(true) => {}
                Ok(false) => {
                    tracing::warn!("a session lock expired while held: Redis stalled too long");
                    return;
                }
                // Redis is away; the next tick tries again, within the lease.
                Err(_) => {}
            }
        }
    }))
}

/// A task aborted when this is dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A keyed async mutex whose entries vanish with their last holder. Hand-written rather than a
/// crate: it is twenty lines.
#[derive(Clone, Debug, Default)]
struct LockTable(Arc<Mutex<HashMap<String, Weak<tokio::sync::Mutex<()>>>>>);

impl LockTable {
    /// The lock of `key`, or `None` when [`MAX_WAITERS`] requests already wait for it (the
    /// table keeps weak references: every strong one is a holder or a waiter).
    fn lock_for(&self, key: &str) -> Option<Arc<tokio::sync::Mutex<()>>> {
        let mut locks = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(lock) = locks.get(key).and_then(Weak::upgrade) {
            // The one we just made, the holder, and the waiters.
            return (Arc::strong_count(&lock) <= MAX_WAITERS + 1).then_some(lock);
        }
        if locks.len() > PRUNE_ABOVE {
            locks.retain(|_, lock| lock.strong_count() > 0);
        }
        let lock = Arc::new(tokio::sync::Mutex::new(()));
        locks.insert(key.to_owned(), Arc::downgrade(&lock));
        Some(lock)
    }

    /// How many entries the table holds (tests check the pruning).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .len()
    }
}

/// The session id that cookie `name` names, read exactly as tower-sessions reads it (through
/// tower-cookies: every `Cookie` header that is UTF-8, split at `;`, each piece percent-decoded,
/// the *last* cookie of that name, a valid id), in its canonical form. A lock key read any other
/// way would let two requests of one session take different locks, or none: a visible-ASCII-only
/// reading skipped the lock for any browser holding one non-ASCII cookie on the same host.
fn cookie_value(headers: &http::HeaderMap, name: &str) -> Option<String> {
    let value = headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| std::str::from_utf8(v.as_bytes()).ok())
        .flat_map(|header| header.split(';'))
        .filter_map(|piece| cookie::Cookie::parse_encoded(piece).ok())
        .rfind(|c| c.name() == name)?;
    let id: tower_sessions::session::Id = value.value().parse().ok()?;
    Some(id.to_string())
}

#[cfg(test)]
mod redis_tests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_key_is_the_session_id_as_tower_sessions_reads_it() {
        let id = tower_sessions::session::Id::default().to_string();
        let other = tower_sessions::session::Id::default().to_string();
        let key = |cookies: &[String]| {
            let mut headers = http::HeaderMap::new();
            for c in cookies {
                headers.append(http::header::COOKIE, c.parse().expect("ascii"));
            }
            cookie_value(&headers, "session")
        };
        assert_eq!(key(&[format!("a=1; session={id}")]), Some(id.clone()));
        assert_eq!(
            key(&[format!("session={other}"), format!("x=1; session={id}")]),
            Some(id.clone()),
            "the last one wins"
        );
        let encoded: String = id.chars().map(|c| format!("%{:02X}", c as u32)).collect();
        assert_eq!(
            key(&[format!("session={encoded}")]),
            Some(id.clone()),
            "percent-decoded"
        );
        assert_eq!(key(&["session=not-an-id".into()]), None);
        // A non-ASCII cookie of another app on the same host does not hide the session's.
        let mut headers = http::HeaderMap::new();
        let utf8 = format!("theme=caf\u{e9}; session={id}");
        headers.append(
            http::header::COOKIE,
            http::HeaderValue::from_bytes(utf8.as_bytes()).expect("bytes"),
        );
        assert_eq!(cookie_value(&headers, "session"), Some(id.clone()));
        assert_eq!(key(&[format!("sess={id}")]), None);
        assert_eq!(key(&[]), None);
    }

    #[test]
    fn key_in_reads_the_session_cookie_the_locks_were_made_for() {
        let id = tower_sessions::session::Id::default().to_string();
        let locks = SessionLocks::in_process("session", Duration::from_millis(50));
        let mut headers = http::HeaderMap::new();
        assert_eq!(locks.key_in(&headers), None, "no cookie, no lock");
        headers.append(
            http::header::COOKIE,
            format!("theme=dark; session={id}").parse().expect("ascii"),
        );
        assert_eq!(locks.key_in(&headers), Some(id.clone()));
        let other = SessionLocks::in_process("other", Duration::from_millis(50));
        assert_eq!(other.key_in(&headers), None, "its own cookie name only");
    }

    #[tokio::test]
    async fn a_wait_and_a_busy_answer_are_counted() {
        let handle = crate::metrics::install().expect("the recorder");
        // Other tests of this process count too: only increases are compared.
        let count = |name: &str| {
            let text = handle.render();
            text.lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        let (waits, busy) = (metrics::SESSION_LOCK_WAITS, metrics::SESSION_LOCK_BUSY);
        let locks = SessionLocks::in_process("session", Duration::from_millis(50));
        let before = (count(waits), count(busy));
        let held = locks.acquire("counted").await.expect("free");
        assert!(matches!(
            locks.acquire("counted").await,
            Err(SessionError::Busy)
        ));
        held.release().await;
        assert!(count(waits) - before.0 >= 1.0, "{}", handle.render());
        assert!(count(busy) - before.1 >= 1.0, "{}", handle.render());
    }

    #[tokio::test]
    async fn a_held_lock_makes_the_same_session_wait_and_then_gives_up_but_not_other_sessions() {
        let locks = SessionLocks::in_process("session", Duration::from_millis(50));
        let held = locks.acquire("a").await.expect("free");
        assert!(
            matches!(locks.acquire("a").await, Err(SessionError::Busy)),
            "the same session waits at most `wait`, then is told it is busy"
        );
        let other = locks
            .acquire("b")
            .await
            .expect("another session is not held up");
        held.release().await;
        let again = locks.acquire("a").await.expect("free again once released");
        drop((other, again));
    }

    #[tokio::test]
    async fn beyond_max_waiters_a_session_is_busy_at_once_and_others_are_not_held_up() {
        let locks = SessionLocks::in_process("session", Duration::from_secs(30));
        let held = locks.acquire("a").await.expect("free");
        let waiters: Vec<_> = (0..MAX_WAITERS)
            .map(|_| {
                let locks = locks.clone();
                tokio::spawn(async move { locks.acquire("a").await.map(drop) })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(50)).await;
        let started = Instant::now();
        let refused = locks.acquire("a").await;
        assert!(
            matches!(refused, Err(SessionError::Busy)),
            "one too many waits"
        );
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "busy at once, not after the wait"
        );
        locks
            .acquire("b")
            .await
            .expect("another session is not held up")
            .release()
            .await;
        held.release().await;
        for waiter in waiters {
            waiter
                .await
                .expect("task")
                .expect("each waiter gets its turn");
        }
    }

    #[test]
    fn the_same_key_shares_one_lock_while_it_is_held() {
        let locks = LockTable::default();
        let a = locks.lock_for("k").expect("free");
        let b = locks.lock_for("k").expect("free");
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &locks.lock_for("other").expect("free")));
    }

    #[test]
    fn released_locks_are_pruned_once_the_table_is_large() {
        let locks = LockTable::default();
        let held = locks.lock_for("held").expect("free");
        for i in 1..PRUNE_ABOVE + 1 {
            drop(locks.lock_for(&format!("k{i}")).expect("free"));
        }
        assert_eq!(locks.len(), PRUNE_ABOVE + 1, "not pruned up to the limit");
        drop(locks.lock_for("one-more").expect("free"));
        assert_eq!(locks.len(), 2, "only the held lock and the new one remain");
        assert!(Arc::ptr_eq(&held, &locks.lock_for("held").expect("free")));
    }
}
