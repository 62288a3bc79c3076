//! The back-channel logout index (OIDC Back-Channel Logout 1.0 §2.7): from the
//! provider's `sid` and `sub` to this app's session ids, so a logout token ends the sessions it
//! names on every instance, and the replay cache of logout tokens' `jti`s. In memory, maps in
//! this process; with Redis, keys under the store's prefix, named by an HMAC of the sid or sub
//! (`AtRest`) and holding the session ids sealed, each expiring with its sessions.

use std::{collections::HashMap, sync::Arc, time::Duration};

use fred::{
    clients::Pool,
    interfaces::{KeysInterface, SetsInterface},
    types::{Expiration, SetOptions},
};
use tower_sessions::session::Id;

use super::{SessionError, at_rest::AtRest};
use crate::clock::now;

/// The most sessions indexed under one sid or sub: the oldest make way.
const MAX_PER_NAME: usize = 32;

/// The index and the replay cache, in this process or in Redis.
#[derive(Clone, Debug)]
pub enum LogoutIndex {
    Memory(Arc<std::sync::Mutex<Tables>>),
    Redis { pool: Pool, at_rest: Arc<AtRest> },
}

/// The in-process tables, each bounded by `max` names.
#[derive(Debug, Default)]
pub struct Tables {
    /// `sid:…`/`sub:…` → (session id, unix second it expires).
    names: HashMap<String, Vec<(Id, i64)>>,
    /// Logout token `jti` → unix second it may be forgotten.
    jtis: HashMap<String, i64>,
    max: usize,
}

fn seconds(ttl: Duration) -> i64 {
    i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX).max(1)
}

impl LogoutIndex {
    /// In this process, at most `max` sids/subs and `max` `jti`s (like the store's cap).
    pub fn in_process(max: usize) -> Self {
        Self::Memory(Arc::new(std::sync::Mutex::new(Tables {
            max: max.max(1),
            ..Tables::default()
        })))
    }

    /// In Redis, beside the sealed records.
    pub fn redis(pool: Pool, at_rest: Arc<AtRest>) -> Self {
        Self::Redis { pool, at_rest }
    }

    /// Indexes session `id` under each of `names` for `ttl` (its idle limit).
    pub async fn add(&self, names: &[String], id: Id, ttl: Duration) -> Result<(), SessionError> {
        let until = now().saturating_add(seconds(ttl));
        match self {
            Self::Memory(tables) => {
                let mut t = tables.lock().unwrap_or_else(|p| p.into_inner());
                let at = now();
                if t.names.len() >= t.max {
                    t.names.retain(|_, ids| {
                        ids.retain(|(_, until)| *until > at);
                        !ids.is_empty()
                    });
                }
                for name in names {
                    if !t.names.contains_key(name) && t.names.len() >= t.max {
                        tracing::warn!(
                            "the back-channel logout index is full: a session is not indexed"
                        );
                        continue;
                    }
                    let ids = t.names.entry(name.clone()).or_default();
                    ids.retain(|(kept, until)| *kept != id && *until > at);
                    if ids.len() >= MAX_PER_NAME {
                        ids.remove(0);
                    }
                    ids.push((id, until));
                }
                Ok(())
            }
            Self::Redis { pool, at_rest } => {
                for name in names {
                    let key = at_rest.logout_index_key(name);
                    let sealed = at_rest
                        .seal(&key, id.to_string().as_bytes())
                        .ok_or_else(|| SessionError::store("cannot seal a session id"))?;
                    // Raw bytes: nothing token-like (no base64 run) lies in Redis.
                    let _: i64 = pool.sadd(&key, sealed).await.map_err(SessionError::store)?;
                    // Expires with the newest session it names (renewals index again).
                    let _: i64 = pool
                        .expire(&key, seconds(ttl), None)
                        .await
                        .map_err(SessionError::store)?;
                    let count: usize = pool.scard(&key).await.map_err(SessionError::store)?;
                    if count > MAX_PER_NAME {
                        let _: Vec<Vec<u8>> = pool
                            .spop(&key, Some(count - MAX_PER_NAME))
                            .await
                            .map_err(SessionError::store)?;
                    }
                }
                Ok(())
            }
        }
    }

    /// The session ids indexed under `name` (removed from the index: they are being ended).
    pub async fn take(&self, name: &str) -> Result<Vec<Id>, SessionError> {
        match self {
            Self::Memory(tables) => {
                let mut t = tables.lock().unwrap_or_else(|p| p.into_inner());
                let at = now();
                let ids = t.names.remove(name).unwrap_or_default();
                Ok(ids
                    .into_iter()
                    .filter(|(_, until)| *until > at)
                    .map(|(id, _)| id)
                    .collect())
            }
            Self::Redis { pool, at_rest } => {
                let key = at_rest.logout_index_key(name);
                let members: Vec<Vec<u8>> =
                    pool.smembers(&key).await.map_err(SessionError::store)?;
                let _: i64 = pool.del(&key).await.map_err(SessionError::store)?;
                Ok(members
                    .iter()
                    .filter_map(|sealed| at_rest.open(&key, sealed, None))
                    .filter_map(|plain| String::from_utf8(plain).ok())
                    .filter_map(|id| id.parse().ok())
                    .collect())
            }
        }
    }

    /// Whether `jti` is new (then it is remembered for `ttl`): `false` for a replay, or when the
    /// in-process cache is full of live ones (refused rather than forgotten).
    pub async fn first_use(&self, jti: &str, ttl: Duration) -> Result<bool, SessionError> {
        match self {
            Self::Memory(tables) => {
                let mut t = tables.lock().unwrap_or_else(|p| p.into_inner());
                let at = now();
                if t.jtis.len() >= t.max {
                    t.jtis.retain(|_, until| *until > at);
                }
                if t.jtis.get(jti).is_some_and(|until| *until > at) || t.jtis.len() >= t.max {
                    return Ok(false);
                }
                t.jtis
                    .insert(jti.to_owned(), at.saturating_add(seconds(ttl)));
                Ok(true)
            }
            Self::Redis { pool, at_rest } => {
                // SET NX EX: one instance wins, whichever received it (§2.6 step 7).
                let set: Option<String> = pool
                    .set(
                        at_rest.logout_jti_key(jti),
                        1,
                        Some(Expiration::EX(seconds(ttl))),
                        Some(SetOptions::NX),
                        false,
                    )
                    .await
                    .map_err(SessionError::store)?;
                Ok(set.is_some())
            }
        }
    }
}

#[cfg(test)]
mod tests;
