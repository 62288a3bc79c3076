//! One request per browser session at a time: middleware outside the session layer.
//!
//! tower-sessions loads a record at the start of a request and saves the whole record at the
//! end, so two overlapping requests of one session would each save their own copy: a refresh
//! could be undone (the rotated refresh token replaced by the used one, RFC 6749 §6), or a
//! logged-out session brought back. Holding a per-session lock for the whole request, save
//! included, rules that out; it also makes the refresh single-flight (RFC 9700 §4.14.2).
//! Requests without a session cookie, and static assets, are not serialized. The lock is
//! in-process: several instances behind a shared store need the same lock in that store.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, Weak},
};

use axum::{
    extract::{Request, State},
    middleware::Next,
    response::Response,
};

/// Beyond this many entries, the lock table drops the locks no request holds any more.
const PRUNE_ABOVE: usize = 1024;

/// The per-session locks, keyed by session cookie value. Hand-written rather than a crate: a
/// keyed async mutex whose entries vanish with their last holder is twenty lines.
#[derive(Clone, Debug)]
pub struct SessionLocks {
    cookie_name: &'static str,
    locks: Arc<Mutex<HashMap<String, Weak<tokio::sync::Mutex<()>>>>>,
}

impl SessionLocks {
    pub fn new(cookie_name: &'static str) -> Self {
        Self {
            cookie_name,
            locks: Arc::default(),
        }
    }

    /// The middleware function.
    pub async fn serialize(State(this): State<Self>, request: Request, next: Next) -> Response {
        let key = (!request.uri().path().starts_with("/static/"))
            .then(|| cookie_value(request.headers(), this.cookie_name))
            .flatten();
        match key {
            None => next.run(request).await,
            Some(key) => {
                let lock = this.lock_for(&key);
                let _guard = lock.lock().await;
                next.run(request).await
            }
        }
    }

    fn lock_for(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self
            .locks
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(lock) = locks.get(key).and_then(Weak::upgrade) {
            return lock;
        }
        if locks.len() > PRUNE_ABOVE {
            locks.retain(|_, lock| lock.strong_count() > 0);
        }
        let lock = Arc::new(tokio::sync::Mutex::new(()));
        locks.insert(key.to_owned(), Arc::downgrade(&lock));
        lock
    }

    /// How many entries the lock table holds (tests check the pruning).
    #[cfg(test)]
    fn table_len(&self) -> usize {
        self.locks
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .len()
    }
}

/// The value of cookie `name` in the request, if any (parsed with the `cookie` crate).
pub fn cookie_value(headers: &http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_value_finds_the_named_cookie_only() {
        let mut headers = http::HeaderMap::new();
        headers.append(
            http::header::COOKIE,
            "a=1; session=abc".parse().expect("ascii"),
        );
        headers.append(http::header::COOKIE, "other=2".parse().expect("ascii"));
        assert_eq!(cookie_value(&headers, "session").as_deref(), Some("abc"));
        assert_eq!(cookie_value(&headers, "other").as_deref(), Some("2"));
        assert_eq!(cookie_value(&headers, "sess"), None);
        assert_eq!(cookie_value(&headers, "missing"), None);
    }

    #[test]
    fn the_same_key_shares_one_lock_while_it_is_held() {
        let locks = SessionLocks::new("session");
        let a = locks.lock_for("k");
        let b = locks.lock_for("k");
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &locks.lock_for("other")));
    }

    #[test]
    fn released_locks_are_pruned_once_the_table_is_large() {
        let locks = SessionLocks::new("session");
        let held = locks.lock_for("held");
        for i in 1..PRUNE_ABOVE + 1 {
            drop(locks.lock_for(&format!("k{i}")));
        }
        assert_eq!(
            locks.table_len(),
            PRUNE_ABOVE + 1,
            "not pruned up to the limit"
        );
        drop(locks.lock_for("one-more"));
        assert_eq!(
            locks.table_len(),
            2,
            "only the held lock and the new one remain"
        );
        assert!(Arc::ptr_eq(&held, &locks.lock_for("held")));
    }
}
