//! The provider's DPoP state (RFC 9449): its nonce (sections 8 and 9) and the bounded table of
//! proof `jti`s seen within the `iat` window, which makes every proof single-use (section
//! 11.1), and [`Refusal`], why a proof was refused. The store holds this state; the proofs
//! themselves are checked in `dpop`, one floor up, which re-exports [`Refusal`].

use std::{
    collections::HashMap,
    sync::{Mutex, MutexGuard},
};

use sha2::{Digest, Sha256};

use crate::secret::random_token;

/// Why a proof was refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// `invalid_dpop_proof` (RFC 9449 section 5, section 7.1), naming the rule broken.
    Invalid(&'static str),
    /// `use_dpop_nonce`: the server's current nonce is missing or stale (sections 8 and 9).
    UseNonce,
    /// The table of seen `jti`s is full; try again later (memory stays bounded).
    Busy,
}

/// The provider's DPoP state: one nonce per provider start (enough for a demo: RFC 9449
/// section 8 leaves the rotation to the server) and the `jti`s seen within the window.
pub(crate) struct DpopState {
    nonce: String,
    /// SHA-256 of (target URL, jti), so every entry has the same size, with the Unix time
    /// after which the proof is too old to be accepted anyway and the entry can go.
    seen: Mutex<HashMap<[u8; 32], i64>>,
}

impl DpopState {
    pub fn new() -> Self {
        Self {
            nonce: random_token(),
            seen: Mutex::default(),
        }
    }

    /// The value of the `DPoP-Nonce` header, and of the `nonce` claim it requires.
    pub fn nonce(&self) -> &str {
        &self.nonce
    }

    fn seen(&self) -> MutexGuard<'_, HashMap<[u8; 32], i64>> {
        self.seen.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Forgets the `jti`s whose proofs are past the `iat` window at `now`.
    pub fn purge(&self, now: i64) {
        self.seen().retain(|_, until| *until > now);
    }

    /// How many `jti`s are remembered.
    pub fn remembered(&self) -> usize {
        self.seen().len()
    }

    /// Records `jti` for `url`; a second use within the window is a replay (section 11.1).
    pub(crate) fn remember(
        &self,
        url: &str,
        jti: &str,
        until: i64,
        now: i64,
        max: usize,
    ) -> Result<(), Refusal> {
        let key: [u8; 32] = Sha256::new()
            .chain_update(url)
            .chain_update([0])
            .chain_update(jti)
            .finalize()
            .into();
        let mut seen = self.seen();
        if seen.get(&key).is_some_and(|t| *t > now) {
            return Err(Refusal::Invalid(
                "this jti was already used: a proof works once (RFC 9449 section 11.1)",
            ));
        }
        if seen.len() >= max {
            seen.retain(|_, t| *t > now);
        }
        if seen.len() >= max {
            return Err(Refusal::Busy);
        }
        seen.insert(key, until);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_jti_is_accepted_once_per_target_and_the_table_is_bounded() {
        let dpop = DpopState::new();
        let (url, now) = ("http://127.0.0.1:1/api/photos", 1_000);
        assert_eq!(dpop.remember(url, "a", now + 61, now, 2), Ok(()));
        assert!(matches!(
            dpop.remember(url, "a", now + 61, now, 2),
            Err(Refusal::Invalid(_))
        ));
        // The same jti for another target is another proof (RFC 9449 section 11.1).
        assert_eq!(
            dpop.remember("http://127.0.0.1:1/oauth/token", "a", now + 61, now, 2),
            Ok(())
        );
        assert_eq!(
            dpop.remember(url, "b", now + 61, now, 2),
            Err(Refusal::Busy)
        );
        assert_eq!(dpop.remembered(), 2);
        // Past their window the entries go, and the table has room again.
        dpop.purge(now + 61);
        assert_eq!(dpop.remembered(), 0);
        assert_eq!(dpop.remember(url, "b", now + 122, now + 61, 2), Ok(()));
    }
}
