//! Where sessions live (`SESSION_STORE`) and, with Redis, how they are kept at rest: the key
//! prefix (`SESSION_REDIS_PREFIX`) and the app key that names and seals them (`SESSION_KEY` or
//! `SESSION_KEY_FILE`, earlier ones in `SESSION_KEY_PREVIOUS`).

use anyhow::{Context, bail};

use super::{RedisUrl, vars::Vars};

/// Where sessions live.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionStoreConfig {
    /// In this process (bounded, purged): one instance, or sticky sessions.
    Memory,
    /// A shared Redis: several instances, restarts, one lock per session across them.
    Redis(RedisStoreConfig),
}

/// The Redis store's settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RedisStoreConfig {
    /// `SESSION_STORE`: the URL (its password never shown).
    pub url: RedisUrl,
    /// `SESSION_REDIS_PREFIX`: every key this app writes starts with it. Default: the crate's
    /// name and a colon, so two apps can share a database without sharing a namespace.
    pub prefix: String,
    /// `SESSION_KEY`: names records and locks (HMAC) and seals records (AEAD).
    pub key: SessionKey,
    /// `SESSION_KEY_PREVIOUS`: earlier keys, still read (a record found under one moves to the
    /// current key), so rotating the key logs nobody out.
    pub previous_keys: Vec<SessionKey>,
}

/// A 256-bit app key. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionKey([u8; 32]);

impl SessionKey {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// 64 hex digits, as `openssl rand -hex 32` prints them. The error never echoes the value.
    pub fn parse_hex(hex: &str) -> anyhow::Result<Self> {
        let hex = hex.trim();
        let bytes: Option<Vec<u8>> = (hex.len() == 64 && hex.is_ascii())
            .then(|| {
                (0..32)
                    .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok())
                    .collect()
            })
            .flatten();
        match bytes.and_then(|b| <[u8; 32]>::try_from(b).ok()) {
            Some(bytes) => Ok(Self(bytes)),
            None => bail!("expected 64 hex digits (make one with: openssl rand -hex 32)"),
        }
    }

    /// The key's bytes, for deriving the naming and sealing keys only.
    pub fn expose(&self) -> &[u8; 32] {
        &self.0
    }
}

impl std::fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionKey([redacted])")
    }
}

/// Reads `SESSION_STORE` and, for Redis, its key and prefix; every problem noted in `vars`.
pub(super) fn session_store(
    vars: &mut Vars<impl Fn(&str) -> Option<String>>,
) -> Option<SessionStoreConfig> {
    let url = vars.parse("SESSION_STORE", "memory", |v| match v {
        "memory" => Ok(None),
        url => Ok(Some(RedisUrl::parse(url)?)),
    })?;
    let Some(url) = url else {
        return Some(SessionStoreConfig::Memory);
    };
    let key = match (vars.get("SESSION_KEY"), vars.get("SESSION_KEY_FILE")) {
        (Some(_), Some(_)) => Err("set SESSION_KEY or SESSION_KEY_FILE, not both".to_owned()),
        (Some(hex), None) => {
            SessionKey::parse_hex(&hex).map_err(|err| format!("SESSION_KEY is not valid: {err}"))
        }
        (None, Some(path)) => std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read SESSION_KEY_FILE={path:?}"))
            .and_then(|hex| SessionKey::parse_hex(&hex))
            .map_err(|err| format!("SESSION_KEY_FILE is not valid: {err:#}")),
        (None, None) => Err(
            "SESSION_KEY (or SESSION_KEY_FILE) is required with a Redis \
             SESSION_STORE: it keeps tokens sealed at rest (make one with: openssl rand -hex 32)"
                .to_owned(),
        ),
    };
    let previous: Result<Vec<SessionKey>, String> = vars
        .get("SESSION_KEY_PREVIOUS")
        .unwrap_or_default()
        .split([' ', ','])
        .filter(|k| !k.is_empty())
        .map(|k| {
            SessionKey::parse_hex(k)
                .map_err(|err| format!("SESSION_KEY_PREVIOUS is not valid: {err}"))
        })
        .collect();
    let prefix = vars
        .get("SESSION_REDIS_PREFIX")
        .unwrap_or_else(|| concat!(env!("CARGO_PKG_NAME"), ":").to_owned());
    match (key, previous) {
        (Ok(key), Ok(previous_keys)) => Some(SessionStoreConfig::Redis(RedisStoreConfig {
            url,
            prefix,
            key,
            previous_keys,
        })),
        (key, previous) => {
            vars.errors.extend(key.err());
            vars.errors.extend(previous.err());
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::config::Config;

    const KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    const OLD: &str = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";

    fn store(vars: &[(&str, &str)]) -> anyhow::Result<SessionStoreConfig> {
        let mut map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        map.insert("SESSION_STORE".into(), "redis://127.0.0.1:6379".into());
        Config::from_lookup(|k| map.get(k).cloned()).map(|c| c.session_store)
    }

    #[test]
    fn redis_needs_a_key_named_with_how_to_make_one_and_never_echoed() {
        let err = format!("{:#}", store(&[]).expect_err("no key"));
        assert!(
            err.contains("SESSION_KEY (or SESSION_KEY_FILE) is required"),
            "{err}"
        );
        assert!(err.contains("openssl rand -hex 32"), "{err}");
        let bad = "not-hex-but-a-secret-looking-value-of-64-characters-0123456789ab";
        let err = format!("{:#}", store(&[("SESSION_KEY", bad)]).expect_err("bad"));
        assert!(
            err.contains("SESSION_KEY is not valid: expected 64 hex digits"),
            "{err}"
        );
        assert!(!err.contains(bad), "the value is never echoed: {err}");
        let err = format!(
            "{:#}",
            store(&[("SESSION_KEY", &KEY[..62])]).expect_err("short")
        );
        assert!(err.contains("64 hex digits"), "{err}");
        let both = store(&[("SESSION_KEY", KEY), ("SESSION_KEY_FILE", "/k")]).expect_err("two");
        assert!(format!("{both:#}").contains("not both"));
    }

    #[test]
    fn the_key_comes_from_the_variable_or_a_file_with_earlier_keys_and_a_prefix() {
        let SessionStoreConfig::Redis(redis) =
            store(&[("SESSION_KEY", KEY), ("SESSION_KEY_PREVIOUS", OLD)]).expect("valid")
        else {
            panic!("redis");
        };
        assert_eq!(redis.key.expose()[1], 1);
        assert_eq!(
            redis.previous_keys,
            vec![SessionKey::parse_hex(OLD).expect("hex")]
        );
        assert_eq!(
            redis.prefix,
            concat!(env!("CARGO_PKG_NAME"), ":"),
            "the crate's name"
        );
        assert!(
            !format!("{redis:?}").contains("0102"),
            "Debug shows no key: {redis:?}"
        );
        assert_eq!(
            format!("{:?}", redis.key),
            "SessionKey([redacted])",
            "Debug says a key is there, not what it is"
        );

        let file = std::env::temp_dir().join(format!("session-key-{}", std::process::id()));
        std::fs::write(&file, format!("{KEY}\n")).expect("write");
        let path = file.to_string_lossy().into_owned();
        let from_file = store(&[
            ("SESSION_KEY_FILE", &path),
            ("SESSION_REDIS_PREFIX", "acme:"),
        ])
        .expect("ok");
        std::fs::remove_file(&file).expect("remove");
        let SessionStoreConfig::Redis(from_file) = from_file else {
            panic!("redis");
        };
        assert_eq!(from_file.key, redis.key);
        assert_eq!(from_file.prefix, "acme:");
        let missing = store(&[("SESSION_KEY_FILE", "/nonexistent/key")]).expect_err("no file");
        assert!(
            format!("{missing:#}").contains("cannot read SESSION_KEY_FILE"),
            "{missing:#}"
        );
    }
}
