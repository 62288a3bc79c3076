//! The Redis session store: records sealed at rest, under names derived from the cookie id
//! ([`AtRest`]). Hand-written over `fred` rather than `tower-sessions-redis-store`, which keys
//! each record by the cookie id itself and stores it in clear; the semantics are that crate's:
//! `create` is `SET NX` (a new id on a clash), `save` is `SET XX` (update-only, so a save never
//! brings back a session that a logout or an id rotation deleted), every key expires (`EXAT`).

use std::sync::Arc;

use async_trait::async_trait;
use fred::{
    clients::Pool,
    interfaces::KeysInterface,
    types::{Expiration, SetOptions},
};
use tower_sessions::{
    SessionStore,
    session::{Id, Record},
    session_store::{Error, Result},
};

use super::at_rest::AtRest;

#[derive(Clone, Debug)]
pub struct SealedRedisStore {
    pool: Pool,
    at_rest: Arc<AtRest>,
}

impl SealedRedisStore {
    pub fn new(pool: Pool, at_rest: Arc<AtRest>) -> Self {
        Self { pool, at_rest }
    }

    /// Writes `record` sealed under its current name; `false` when `options` said no.
    async fn write(&self, record: &Record, options: SetOptions) -> Result<bool> {
        let name = self.at_rest.record_key(&record.id.to_string());
        let plain = rmp_serde::to_vec(record).map_err(|e| Error::Encode(e.to_string()))?;
        let sealed = self
            .at_rest
            .seal(&name, &plain)
            .ok_or_else(|| Error::Encode("the record is too large to seal".into()))?;
        let expire = Expiration::EXAT(record.expiry_date.unix_timestamp());
        let set: Option<String> = self
            .pool
            .set(name, sealed.as_slice(), Some(expire), Some(options), false)
            .await
            .map_err(backend)?;
        Ok(set.is_some())
    }

    /// The record under `name`, opened with the current key (`previous` = `None`) or an earlier
    /// one. A record that does not open (another key, tampered with) is no record.
    async fn read(&self, name: &str, previous: Option<usize>) -> Result<Option<Record>> {
        let sealed: Option<Vec<u8>> = self.pool.get(name).await.map_err(backend)?;
        let Some(sealed) = sealed else {
            return Ok(None);
        };
        let Some(plain) = self.at_rest.open(name, &sealed, previous) else {
            tracing::warn!("a session record in Redis does not open with SESSION_KEY: ignored");
            return Ok(None);
        };
        let record = rmp_serde::from_slice(&plain).map_err(|e| Error::Decode(e.to_string()))?;
        Ok(Some(record))
    }
}

fn backend(err: fred::error::Error) -> Error {
    Error::Backend(err.to_string())
}

#[async_trait]
impl SessionStore for SealedRedisStore {
    async fn create(&self, record: &mut Record) -> Result<()> {
        while !self.write(record, SetOptions::NX).await? {
            record.id = Id::default();
        }
        Ok(())
    }

    async fn save(&self, record: &Record) -> Result<()> {
        self.write(record, SetOptions::XX).await.map(drop)
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        let id = id.to_string();
        if let Some(record) = self.read(&self.at_rest.record_key(&id), None).await? {
            return Ok(Some(record));
        }
        // Sealed before the key was rotated: moved under the current key, so that `save`
        // (update-only) finds it.
        for (i, name) in self.at_rest.previous_record_keys(&id).iter().enumerate() {
            if let Some(record) = self.read(name, Some(i)).await? {
                self.write(&record, SetOptions::NX).await?;
                let _: i64 = self.pool.del(name.as_str()).await.map_err(backend)?;
                return Ok(Some(record));
            }
        }
        Ok(None)
    }

    async fn delete(&self, id: &Id) -> Result<()> {
        let id = id.to_string();
        let mut names = self.at_rest.previous_record_keys(&id);
        names.push(self.at_rest.record_key(&id));
        let _: i64 = self.pool.del(names).await.map_err(backend)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
