//! Session data at rest in Redis: each record and lock under a name derived from the cookie id
//! with an HMAC (never the id itself), each record sealed with XChaCha20-Poly1305 under the app's
//! `SESSION_KEY`. A Redis dump, or anyone who can `SCAN` the database, gets no usable cookie,
//! token or DPoP key. Older keys (`SESSION_KEY_PREVIOUS`) still open what they sealed, so a key
//! can be rotated without logging everyone out.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chacha20poly1305::{
    KeyInit, XChaCha20Poly1305, XNonce,
    aead::{Aead, Payload},
};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use crate::config::SessionKey;

/// Bytes of the random nonce in front of each sealed record (XChaCha20: 192 bits, so random
/// nonces never repeat in practice).
const NONCE: usize = 24;

/// One `SESSION_KEY`, split into two independent keys (so that naming and sealing never share
/// one): HMAC-SHA256 of the secret over a fixed label each.
struct Key {
    /// Names records and locks: HMAC-SHA256(this, cookie id).
    name: [u8; 32],
    seal: XChaCha20Poly1305,
}

impl Key {
    fn new(secret: &SessionKey) -> Self {
        let derive = |label: &[u8]| hmac(secret.expose(), label);
        Self {
            name: derive(b"photo-connect session names v1"),
            seal: XChaCha20Poly1305::new(&derive(b"photo-connect session seal v1").into()),
        }
    }

    fn name(&self, id: &str) -> String {
        URL_SAFE_NO_PAD.encode(hmac(&self.name, id.as_bytes()))
    }
}

fn hmac(key: &[u8], message: &[u8]) -> [u8; 32] {
    // HMAC takes a key of any length, so `new_from_slice` cannot fail; `Hmac::new` would need
    // a key of exactly the block size.
    let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(key) else {
        unreachable!("HMAC accepts keys of every length")
    };
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// The names and seals of session data in Redis: `<prefix>session:<name>` and
/// `<prefix>lock:<name>`, records sealed with the current key.
pub struct AtRest {
    prefix: String,
    current: Key,
    /// Keys of earlier deployments, read-only.
    previous: Vec<Key>,
}

impl std::fmt::Debug for AtRest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AtRest")
            .field("prefix", &self.prefix)
            .field("previous_keys", &self.previous.len())
            .finish_non_exhaustive()
    }
}

impl AtRest {
    pub fn new(prefix: &str, current: &SessionKey, previous: &[SessionKey]) -> Self {
        Self {
            prefix: prefix.to_owned(),
            current: Key::new(current),
            previous: previous.iter().map(Key::new).collect(),
        }
    }

    /// Where the record of session `id` lives now.
    pub fn record_key(&self, id: &str) -> String {
        format!("{}session:{}", self.prefix, self.current.name(id))
    }

    /// Where it lived under each earlier key (read, then moved, on the next load).
    pub fn previous_record_keys(&self, id: &str) -> Vec<String> {
        self.previous
            .iter()
            .map(|key| format!("{}session:{}", self.prefix, key.name(id)))
            .collect()
    }

    /// The name of the back-channel logout index entry for `name` (`sid:…` or `sub:…`, OIDC
    /// Back-Channel Logout 1.0): an HMAC, like the records', so the index names no one in clear.
    pub fn logout_index_key(&self, name: &str) -> String {
        format!("{}logout:{}", self.prefix, self.current.name(name))
    }

    /// The name under which a logout token's `jti` is remembered (its replay check).
    pub fn logout_jti_key(&self, jti: &str) -> String {
        format!(
            "{}jti:{}",
            self.prefix,
            self.current.name(&format!("jti:{jti}"))
        )
    }

    /// The name of session `id`'s lock.
    pub fn lock_key(&self, id: &str) -> String {
        format!("{}lock:{}", self.prefix, self.current.name(id))
    }

    /// `record` sealed for `key` (its Redis key is authenticated too: a sealed record moved to
    /// another session's key does not open there). `None` only for a record over 256 GiB.
    pub fn seal(&self, key: &str, record: &[u8]) -> Option<Vec<u8>> {
        let mut nonce = [0u8; NONCE];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let payload = Payload {
            msg: record,
            aad: key.as_bytes(),
        };
        let sealed = self
            .current
            .seal
            .encrypt(XNonce::from_slice(&nonce), payload)
            .ok()?;
        Some([nonce.as_slice(), &sealed].concat())
    }

    /// The record sealed for `key` by the current key or, when `previous` says which, an earlier
    /// one; `None` when it does not open (another key, or tampered with).
    pub fn open(&self, key: &str, sealed: &[u8], previous: Option<usize>) -> Option<Vec<u8>> {
        let with = match previous {
            None => &self.current,
            Some(i) => self.previous.get(i)?,
        };
        if sealed.len() < NONCE {
            return None;
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE);
        let payload = Payload {
            msg: ciphertext,
            aad: key.as_bytes(),
        };
        with.seal.decrypt(XNonce::from_slice(nonce), payload).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> SessionKey {
        SessionKey::from_bytes([byte; 32])
    }

    #[test]
    fn names_hide_the_id_differ_per_key_and_carry_the_prefix() {
        let a = AtRest::new("app:", &key(1), &[]);
        let b = AtRest::new("app:", &key(2), &[key(1)]);
        let id = "2Nq0pA7xYbYGxoHcU0Cukg";
        let name = a.record_key(id);
        assert!(name.starts_with("app:session:"), "{name}");
        assert!(!name.contains(id), "the cookie id never appears: {name}");
        assert_eq!(name, a.record_key(id), "stable");
        assert_ne!(name, a.record_key("another-id"));
        assert_ne!(name, b.record_key(id), "another key, another name");
        assert_eq!(
            b.previous_record_keys(id),
            vec![name],
            "the old key finds the old name"
        );
        assert!(a.lock_key(id).starts_with("app:lock:") && !a.lock_key(id).contains(id));
    }

    #[test]
    fn a_sealed_record_opens_only_with_its_key_at_its_name_and_untouched() {
        let at_rest = AtRest::new("p:", &key(1), &[]);
        let name = at_rest.record_key("id");
        let record = br#"{"tokens":"access-token-value"}"#;
        let sealed = at_rest.seal(&name, record).expect("sealed");
        assert!(
            !sealed.windows(12).any(|w| w == b"access-token"),
            "nothing in clear"
        );
        assert_ne!(
            Some(&sealed),
            at_rest.seal(&name, record).as_ref(),
            "a fresh nonce each time"
        );
        assert_eq!(
            at_rest.open(&name, &sealed, None).as_deref(),
            Some(&record[..])
        );
        assert_eq!(
            at_rest.open(&at_rest.record_key("other"), &sealed, None),
            None,
            "moved"
        );
        let mut tampered = sealed.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert_eq!(at_rest.open(&name, &tampered, None), None, "tampered");
        assert_eq!(at_rest.open(&name, &sealed[..10], None), None, "truncated");
        let other = AtRest::new("p:", &key(2), &[]);
        assert_eq!(other.open(&name, &sealed, None), None, "another key");
    }

    #[test]
    fn an_earlier_key_still_opens_what_it_sealed() {
        let old = AtRest::new("p:", &key(1), &[]);
        let name = old.record_key("id");
        let sealed = old.seal(&name, b"record").expect("sealed");
        let rotated = AtRest::new("p:", &key(2), &[key(1)]);
        assert_eq!(rotated.open(&name, &sealed, None), None);
        assert_eq!(
            rotated.open(&name, &sealed, Some(0)).as_deref(),
            Some(&b"record"[..])
        );
        assert_eq!(rotated.open(&name, &sealed, Some(1)), None, "no such key");
    }

    #[test]
    fn debug_shows_no_key() {
        let text = format!("{:?}", AtRest::new("p:", &key(7), &[key(8)]));
        assert!(text.contains("previous_keys: 1"), "{text}");
        assert!(!text.contains("7,") && !text.contains("[7"), "{text}");
    }
}
