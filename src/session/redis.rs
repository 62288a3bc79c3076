//! The shared session store in Redis (`SESSION_STORE=redis://…`), skip on first read: the
//! connection (bounded command time, reconnect with backoff) and the per-session lock that
//! several instances take before changing a session.
//!
//! The records themselves go through `tower-sessions-redis-store`: `create` is `SET NX`, `save`
//! is `SET XX` (update-only, so a save never brings back a session that a logout or an id
//! rotation deleted) and every key has a TTL (`EXAT`), so Redis never fills with dead sessions.

use std::time::Duration;

use anyhow::Context;
use fred::{
    clients::{Client, Pool},
    interfaces::{ClientLike, KeysInterface, LuaInterface},
    types::{
        Builder, Expiration, SetOptions,
        config::{Config, ConnectionConfig, PerformanceConfig, ReconnectPolicy},
    },
};

use crate::config::RedisUrl;

/// How long one Redis command may take before the request gets the "try again" page.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(2);

/// Connects, failing fast (naming `SESSION_STORE`, password redacted) when Redis is not there at
/// startup. Later outages are ridden out: commands fail after [`COMMAND_TIMEOUT`] while the
/// client reconnects with exponential backoff (100 ms up to 2 s, forever).
pub async fn connect(url: &RedisUrl) -> anyhow::Result<Pool> {
    let config = Config::from_url(url.expose())
        .with_context(|| format!("SESSION_STORE={url} is not a Redis URL"))?;
    let pool = Builder::from_config(config)
        .with_connection_config(|c: &mut ConnectionConfig| {
            c.connection_timeout = COMMAND_TIMEOUT;
            c.internal_command_timeout = COMMAND_TIMEOUT;
            c.max_command_attempts = 1;
        })
        .with_performance_config(|p: &mut PerformanceConfig| {
            p.default_command_timeout = COMMAND_TIMEOUT;
        })
        .set_policy(ReconnectPolicy::new_exponential(0, 100, 2_000, 2))
        .build_pool(4)
        .with_context(|| format!("SESSION_STORE={url}: cannot build the Redis client"))?;
    pool.init()
        .await
        .with_context(|| format!("SESSION_STORE={url}: Redis is not reachable"))?;
    pool.ping::<()>(None)
        .await
        .with_context(|| format!("SESSION_STORE={url}: Redis does not answer PING"))?;
    Ok(pool)
}

/// Whether Redis answers (for `/readyz`).
pub async fn is_ready(pool: &Pool) -> bool {
    pool.ping::<()>(None).await.is_ok()
}

/// Releases a lock only if `owner` still holds it: a lock that expired and was taken by another
/// request is not ours to delete.
const RELEASE: &str = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

/// Extends a lock's lease only if `owner` still holds it; 0 when it does not any more.
const RENEW: &str = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end";

/// Extends `key`'s lease to `ttl` if `owner` holds it; `false` when the lock was lost.
pub async fn renew(client: &Client, key: &str, owner: &str, ttl: Duration) -> anyhow::Result<bool> {
    let millis = i64::try_from(ttl.as_millis())
        .unwrap_or(i64::MAX)
        .to_string();
    let renewed: i64 = client
        .eval(RENEW, vec![key], vec![owner, millis.as_str()])
        .await?;
    Ok(renewed == 1)
}

/// Tries once to take `key` for `owner` for `ttl` (`SET key owner NX PX ttl`).
pub async fn try_lock(
    client: &Client,
    key: &str,
    owner: &str,
    ttl: Duration,
) -> anyhow::Result<bool> {
    let millis = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
    let taken: Option<String> = client
        .set(
            key,
            owner,
            Some(Expiration::PX(millis)),
            Some(SetOptions::NX),
            false,
        )
        .await?;
    Ok(taken.is_some())
}

/// Releases `key` if `owner` holds it.
pub async fn unlock(client: &Client, key: &str, owner: &str) -> anyhow::Result<()> {
    let _: i64 = client.eval(RELEASE, vec![key], vec![owner]).await?;
    Ok(())
}
