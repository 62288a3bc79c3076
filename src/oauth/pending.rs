//! Pending logins: the sign-ins a browser session started and that wait for their callback, each
//! with its `state`, PKCE verifier and, with OpenID Connect, its nonce. Kept server-side only,
//! keyed by state (several tabs work).

use std::time::Duration;

use oauth2::{CsrfToken, PkceCodeVerifier};
use openidconnect::Nonce;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

/// Most sign-ins one browser session may have in flight (several tabs). The oldest is evicted.
pub const MAX_PENDING_LOGINS: usize = 5;

/// A sign-in that was started and waits for its callback: one record per authorization request,
/// so whatever a later step must check (an OpenID Connect nonce, say) can join it here.
#[derive(Debug, Serialize, Deserialize)]
pub struct PendingLogin {
    /// The `state` sent in the authorize URL (RFC 6749 §10.12 CSRF binding).
    pub state: CsrfToken,
    /// The PKCE verifier; it leaves the server only in the token request (RFC 7636 §4.5).
    pub verifier: PkceCodeVerifier,
    /// The OpenID Connect nonce sent in the authorization request, which the ID token must
    /// carry (OIDC Core §3.1.3.7 (11)); `None` without `openid` (and then not stored at all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<Nonce>,
    /// Unix seconds when the sign-in started.
    pub created_at: i64,
}

/// The started sign-ins of one session, oldest first.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct PendingLogins(Vec<PendingLogin>);

/// What a callback's `state` found among the pending logins.
#[derive(Debug)]
pub enum LoginLookup {
    /// A live pending login that the callback may finish; it was removed (single use).
    Found(PendingLogin),
    /// The pending login is older than its lifetime; it was removed.
    Expired,
    /// The callback did not pass `accept` (the `iss` check); the pending login is kept, so a
    /// forged response cannot cancel the real sign-in.
    Refused,
    /// No pending login of this session has that state: forged, replayed, or another browser.
    Unknown,
}

impl PendingLogins {
    /// Adds a pending login, evicting the oldest beyond [`MAX_PENDING_LOGINS`].
    pub fn push(&mut self, login: PendingLogin) {
        self.0.push(login);
        if self.0.len() > MAX_PENDING_LOGINS {
            let excess = self.0.len() - MAX_PENDING_LOGINS;
            self.0.drain(..excess);
        }
    }

    /// Looks up the pending login named by `state` (exact bytes, constant-time) and removes it
    /// if it is live and `accept` holds. Expired entries are dropped on the way.
    pub fn take(
        &mut self,
        state: &str,
        now: i64,
        ttl: Duration,
        accept: impl FnOnce() -> bool,
    ) -> LoginLookup {
        let max_age = crate::clock::seconds(ttl);
        let live = |login: &PendingLogin| now.saturating_sub(login.created_at) <= max_age;
        let position = self
            .0
            .iter()
            .position(|p| bool::from(p.state.secret().as_bytes().ct_eq(state.as_bytes())));
        let lookup = match position {
            None => LoginLookup::Unknown,
            Some(i) if !live(&self.0[i]) => LoginLookup::Expired,
            Some(_) if !accept() => LoginLookup::Refused,
            Some(i) => LoginLookup::Found(self.0.remove(i)),
        };
        self.0.retain(live);
        lookup
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TTL: Duration = Duration::from_secs(60);

    fn pending(state: &str, created_at: i64) -> PendingLogin {
        PendingLogin {
            state: CsrfToken::new(state.into()),
            verifier: PkceCodeVerifier::new("v".repeat(43)),
            nonce: Some(Nonce::new("the-nonce-value".into())),
            created_at,
        }
    }

    fn take(logins: &mut PendingLogins, state: &str, now: i64) -> LoginLookup {
        logins.take(state, now, TTL, || true)
    }

    #[test]
    fn pending_logins_are_single_use_keyed_by_state() {
        let mut logins = PendingLogins::default();
        logins.push(pending("tab-a", 100));
        logins.push(pending("tab-b", 100));
        assert!(matches!(
            take(&mut logins, "tab-b", 101),
            LoginLookup::Found(_)
        ));
        assert!(matches!(
            take(&mut logins, "tab-b", 101),
            LoginLookup::Unknown
        ));
        assert!(matches!(
            take(&mut logins, "tab-a", 101),
            LoginLookup::Found(_)
        ));
        assert!(logins.is_empty());
    }

    #[test]
    fn a_refused_callback_keeps_the_pending_login() {
        let mut logins = PendingLogins::default();
        logins.push(pending("s", 0));
        assert!(matches!(
            logins.take("s", 0, TTL, || false),
            LoginLookup::Refused
        ));
        assert_eq!(logins.len(), 1);
        assert!(matches!(take(&mut logins, "s", 0), LoginLookup::Found(_)));
    }

    #[test]
    fn the_iss_check_is_not_consulted_for_an_unknown_state() {
        let mut logins = PendingLogins::default();
        logins.push(pending("s", 0));
        let lookup = logins.take("other", 0, TTL, || panic!("no pending login to protect"));
        assert!(matches!(lookup, LoginLookup::Unknown));
    }

    #[test]
    fn pending_logins_expire_exactly_after_their_ttl() {
        let mut logins = PendingLogins::default();
        logins.push(pending("edge", 0));
        logins.push(pending("old", 0));
        assert!(
            matches!(take(&mut logins, "edge", 60), LoginLookup::Found(_)),
            "60 s is live"
        );
        assert!(matches!(take(&mut logins, "old", 61), LoginLookup::Expired));
        assert!(logins.is_empty(), "the expired one is removed");
        logins.push(pending("other", 0));
        logins.push(pending("kept", 50));
        let _ = take(&mut logins, "nothing", 61);
        assert_eq!(logins.len(), 1, "expired entries are dropped on any lookup");
    }

    #[test]
    fn pending_logins_are_capped_oldest_first() {
        let mut logins = PendingLogins::default();
        for i in 0..MAX_PENDING_LOGINS {
            logins.push(pending(&format!("s{i}"), 0));
        }
        assert_eq!(
            logins.len(),
            MAX_PENDING_LOGINS,
            "the cap itself is allowed"
        );
        for i in MAX_PENDING_LOGINS..MAX_PENDING_LOGINS + 3 {
            logins.push(pending(&format!("s{i}"), 0));
        }
        assert_eq!(logins.len(), MAX_PENDING_LOGINS);
        for evicted in 0..3 {
            assert!(matches!(
                take(&mut logins, &format!("s{evicted}"), 0),
                LoginLookup::Unknown
            ));
        }
        assert!(matches!(take(&mut logins, "s3", 0), LoginLookup::Found(_)));
    }

    #[test]
    fn a_record_stored_over_the_cap_is_cut_to_the_cap_by_the_next_push() {
        // A session saved by a version with a larger cap (or edited in the store) arrives with
        // more pending logins than this one allows: the next push brings it back to the cap,
        // keeping the newest.
        let mut logins = PendingLogins((0..12).map(|i| pending(&format!("s{i}"), 0)).collect());
        logins.push(pending("new", 0));
        assert_eq!(logins.len(), MAX_PENDING_LOGINS);
        for evicted in 0..8 {
            assert!(matches!(
                take(&mut logins, &format!("s{evicted}"), 0),
                LoginLookup::Unknown
            ));
        }
        for kept in ["s8", "s9", "s10", "s11", "new"] {
            assert!(
                matches!(take(&mut logins, kept, 0), LoginLookup::Found(_)),
                "{kept}"
            );
        }
    }

    #[test]
    fn a_lookup_removes_only_the_entry_it_found_and_the_expired_ones() {
        let mut logins = PendingLogins::default();
        logins.push(pending("a", 100));
        logins.push(pending("b", 100));
        logins.push(pending("c", 100));
        let lookup = take(&mut logins, "b", 100);
        assert!(matches!(lookup, LoginLookup::Found(ref l) if l.state.secret() == "b"));
        assert_eq!(logins.len(), 2);
        assert!(!logins.is_empty());
        assert!(matches!(take(&mut logins, "a", 160), LoginLookup::Found(_)));
        assert!(matches!(take(&mut logins, "c", 160), LoginLookup::Found(_)));
        assert!(logins.is_empty());
        assert_eq!(logins.len(), 0);
    }

    #[test]
    fn a_huge_ttl_never_overflows() {
        let mut logins = PendingLogins::default();
        logins.push(pending("s", i64::MIN));
        assert!(matches!(
            logins.take("s", i64::MAX, Duration::MAX, || true),
            LoginLookup::Found(_)
        ));
    }

    #[test]
    fn state_comparison_is_exact() {
        let mut logins = PendingLogins::default();
        logins.push(pending("AbC", 0));
        for near in ["abc", "AbC ", "AbCd", "Ab", ""] {
            assert!(
                matches!(take(&mut logins, near, 0), LoginLookup::Unknown),
                "{near:?}"
            );
        }
    }

    #[test]
    fn without_openid_a_stored_pending_login_has_no_nonce_member() {
        let mut login = pending("s", 0);
        login.nonce = None;
        let stored = serde_json::to_value(&login).expect("json");
        assert!(stored.get("nonce").is_none(), "{stored}");
        let read: PendingLogin = serde_json::from_value(stored).expect("reads back");
        assert!(read.nonce.is_none());
    }

    #[test]
    fn debug_of_a_pending_login_is_redacted() {
        let debug = format!("{:?}", pending("the-state-value", 0));
        assert!(
            !debug.contains("the-state-value")
                && !debug.contains("vvvvvvvv")
                && !debug.contains("the-nonce-value"),
            "{debug}"
        );
    }
}
