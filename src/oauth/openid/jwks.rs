//! The provider's signing keys (its JWKS, RFC 7517 §5, at the `jwks_uri`), cached: fetched at
//! the first ID token, again when they are older than [`MAX_AGE`], and once more when a token
//! names a `kid` the set does not have (a key rotation, OIDC Core §10.1.1), at most once per
//! [`REFETCH_COOLDOWN`] and one fetch at a time, so unknown keys cannot cause a fetch storm.

use std::{
    sync::{Arc, RwLock},
    time::{Duration, Instant},
};

use openidconnect::core::CoreJsonWebKeySet;
use url::Url;

use super::IdTokenError;
use crate::http_client::HttpClient;

/// A key set older than this is fetched again before use: a key the provider withdrew stops
/// being trusted within this time.
pub const MAX_AGE: Duration = Duration::from_secs(3600);
/// At most one refetch for an unknown `kid` in this time, whatever the tokens say.
pub const REFETCH_COOLDOWN: Duration = Duration::from_secs(30);
/// The most keys kept from one set: bounds the cache and the work of each check.
pub const MAX_KEYS: usize = 32;

/// One fetched key set and when.
#[derive(Clone)]
pub struct Snapshot {
    pub keys: Arc<CoreJsonWebKeySet>,
    fetched_at: Option<Instant>,
    /// Counts the fetches: a waiter that sees it changed uses the new set instead of fetching.
    generation: u64,
}

/// The cached key set of one provider.
pub struct Jwks {
    url: Url,
    http: HttpClient,
    current: RwLock<Snapshot>,
    /// One fetch at a time; holds when the last refetch for an unknown `kid` was.
    fetching: tokio::sync::Mutex<Option<Instant>>,
}

impl std::fmt::Debug for Jwks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jwks")
            .field("url", &self.url.as_str())
            .finish()
    }
}

impl Jwks {
    pub fn new(url: Url, http: HttpClient) -> Self {
        Self {
            url,
            http,
            current: RwLock::new(Snapshot {
                keys: Arc::new(CoreJsonWebKeySet::new(Vec::new())),
                fetched_at: None,
                generation: 0,
            }),
            fetching: tokio::sync::Mutex::new(None),
        }
    }

    fn snapshot(&self) -> Snapshot {
        match self.current.read() {
            Ok(current) => current.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// The key set to check a token with: the cached one while it is fresh, else fetched.
    pub async fn keys(&self) -> Result<Snapshot, IdTokenError> {
        let seen = self.snapshot();
        if seen.fetched_at.is_some_and(|at| at.elapsed() < MAX_AGE) {
            return Ok(seen);
        }
        let _one_at_a_time = self.fetching.lock().await;
        let now = self.snapshot();
        if now.generation != seen.generation {
            return Ok(now);
        }
        self.fetch(now.generation).await
    }

    /// The key set after a token named a key that `stale` does not have: fetched again, unless
    /// another request already did since, or a refetch happened within the cooldown (then
    /// `None`: the key is unknown).
    pub async fn refetch(&self, stale: &Snapshot) -> Result<Option<Snapshot>, IdTokenError> {
        let mut last_refetch = self.fetching.lock().await;
        let now = self.snapshot();
        if now.generation != stale.generation {
            return Ok(Some(now));
        }
        if last_refetch.is_some_and(|at| at.elapsed() < REFETCH_COOLDOWN) {
            return Ok(None);
        }
        *last_refetch = Some(Instant::now());
        self.fetch(now.generation).await.map(Some)
    }

    /// Fetches the set (the caller holds `fetching`) and makes it current.
    async fn fetch(&self, generation: u64) -> Result<Snapshot, IdTokenError> {
        let request = self
            .http
            .get(self.url.clone())
            .header(http::header::ACCEPT, "application/json")
            .build()
            .map_err(|_| IdTokenError::KeysUnavailable)?;
        let response = self
            .http
            .send(request)
            .await
            .map_err(|_| IdTokenError::KeysUnavailable)?;
        if !response.status.is_success() {
            return Err(IdTokenError::KeysUnavailable);
        }
        // Keys of unknown types are skipped by the library; too many is a broken set.
        let keys: CoreJsonWebKeySet =
            serde_json::from_slice(&response.body).map_err(|_| IdTokenError::KeysUnavailable)?;
        if keys.keys().len() > MAX_KEYS {
            return Err(IdTokenError::KeysUnavailable);
        }
        let snapshot = Snapshot {
            keys: Arc::new(keys),
            fetched_at: Some(Instant::now()),
            generation: generation.wrapping_add(1),
        };
        match self.current.write() {
            Ok(mut current) => *current = snapshot.clone(),
            Err(poisoned) => *poisoned.into_inner() = snapshot.clone(),
        }
        Ok(snapshot)
    }
}
