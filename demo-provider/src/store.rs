//! The provider's in-memory state: registered clients, pushed requests, consent transactions,
//! codes, grants and tokens, failed client authentications (and the DPoP state, `dpop_state`,
//! and the ID-token signing key, `id_token`),
//! with expiry (the background purge that keeps memory bounded is in `purge`).

use std::{
    collections::{HashMap, VecDeque},
    sync::{Mutex, MutexGuard},
    time::{Duration, SystemTime},
};

use crate::{
    dpop_state::DpopState,
    id_token::IdTokenKey,
    per_source::PerSource,
    settings::{DemoSettings, RegisteredClient},
    source::Source,
};

/// How many token requests [`ProviderState::token_requests`] remembers.
pub const MAX_SEEN: usize = 10_000;

/// How long failed client authentications count ([`Tables::auth_failures`]), in seconds: the
/// brute-force window of client authentication (RFC 6749 §2.3.1), after which the purge
/// forgets them.
pub const FAILURE_WINDOW_SECS: i64 = 60;

/// Most consent screens one source may have waiting at once (see [`Source`]); the whole table
/// is capped by `DemoSettings::max_pending` too. A person opens a handful; 100 leaves room for
/// a whole office behind one NAT, and 10 000 anonymous requests from one address no longer
/// shut everyone else out.
pub const MAX_PENDING_PER_SOURCE: usize = 100;

/// Most (client, source) pairs whose failed authentications are counted at once: past it,
/// a failure that cannot be counted is answered as if its source were over the limit.
pub const MAX_FAILURE_ENTRIES: usize = 10_000;

/// Scopes this provider knows. `photos` lets the client read the user's photos.
pub const SCOPES: &[&str] = &["photos", "profile", crate::id_token::OPENID];

/// A consent screen in progress (between `GET` and `POST /oauth/authorize`).
#[derive(Clone, Debug)]
pub struct Transaction {
    pub client_id: String,
    pub redirect_uri: String,
    /// Whether the request named `redirect_uri` (then the token request must repeat it).
    pub redirect_uri_sent: bool,
    pub scope: Vec<String>,
    pub state: Option<String>,
    /// `None` only when the test-only `pkce_required: false` let the request omit it.
    pub code_challenge: Option<String>,
    /// The request's `nonce`, for the ID token (OIDC Core §3.1.2.1).
    pub nonce: Option<String>,
    /// The browser that saw the consent page (its cookie); only it may answer (RFC 6749 §10.12).
    pub browser: String,
    pub expires_at: i64,
}

/// A pushed authorization request (RFC 9126 §2), waiting for the browser to bring its
/// `request_uri` to the authorization endpoint. Single use.
#[derive(Clone, Debug)]
pub struct PushedRequest {
    /// The authenticated client that pushed it: only that client's `client_id` may use it.
    pub client_id: String,
    /// The authorization parameters, as pushed.
    pub params: Vec<(String, String)>,
    pub expires_at: i64,
}

/// An authorization code, bound to client, redirect URI, PKCE challenge and user (RFC 6749 §4.1.2).
#[derive(Clone, Debug)]
pub struct CodeRecord {
    pub client_id: String,
    pub redirect_uri: String,
    /// Whether the authorization request named `redirect_uri`: then the token request must
    /// carry the identical value (RFC 6749 §4.1.3).
    pub redirect_uri_sent: bool,
    /// `None` only when the test-only `pkce_required: false` let the request omit it; a
    /// verifier sent for such a code is a PKCE downgrade and refused (RFC 9700 §4.8.2).
    pub code_challenge: Option<String>,
    pub user: String,
    pub scope: Vec<String>,
    pub expires_at: i64,
    /// The authorization request's `nonce`, echoed in the ID token (OIDC Core §3.1.2.1).
    pub nonce: Option<String>,
    /// When the user consented: the ID token's `auth_time` (OIDC Core §2).
    pub auth_time: i64,
    /// Set at the first redemption: a second one revokes this grant (RFC 6749 §4.1.2).
    pub redeemed_grant: Option<String>,
}

/// What a user consented to for one client; tokens belong to a grant and die with it.
#[derive(Clone, Debug)]
pub struct Grant {
    pub client_id: String,
    pub user: String,
    pub scope: Vec<String>,
    pub revoked: bool,
    /// Its access tokens were DPoP-bound: a refresh must bring a proof too (RFC 9449 section 5).
    pub dpop_bound: bool,
    /// The authentication time, the same in every ID token of the grant (OIDC Core §12.2).
    pub auth_time: i64,
    /// The provider-side session id, the ID tokens' `sid`.
    pub sid: String,
}

#[derive(Clone, Debug)]
pub struct AccessRecord {
    pub grant: String,
    pub scope: Vec<String>,
    pub expires_at: i64,
    /// The `cnf.jkt` of a DPoP-bound token (RFC 9449 section 6): the proof key's thumbprint.
    pub jkt: Option<String>,
}

#[derive(Clone, Debug)]
pub struct RefreshRecord {
    pub grant: String,
    pub expires_at: i64,
    /// Rotated away: presenting it again is reuse and revokes the grant (RFC 9700 §4.14.2).
    pub rotated: bool,
}

/// What a token request looked like (tests assert on it). Never holds a secret value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenRequestSeen {
    pub grant_type: Option<String>,
    /// `client_secret_basic`, `client_secret_post`, `private_key_jwt` or `none`.
    pub auth_method: &'static str,
    pub had_code_verifier: bool,
    /// `Some(true)` when the verifier's S256 matched the code's challenge.
    pub pkce_verified: Option<bool>,
    /// The HTTP status the provider answered.
    pub status: u16,
}

#[derive(Default)]
pub struct Tables {
    /// Consent screens waiting for an answer, counted per source ([`MAX_PENDING_PER_SOURCE`]).
    pub transactions: PerSource<Transaction>,
    /// Pushed authorization requests by the random part of their `request_uri`.
    pub pushed: HashMap<String, PushedRequest>,
    pub codes: HashMap<String, CodeRecord>,
    pub grants: HashMap<String, Grant>,
    pub access: HashMap<String, AccessRecord>,
    pub refresh: HashMap<String, RefreshRecord>,
    /// Failed client authentications per client id and source: (count, window start). At most
    /// [`MAX_FAILURE_ENTRIES`] entries.
    pub auth_failures: HashMap<(String, Source), (u32, i64)>,
}

/// The provider's state, shared by its handlers.
pub struct ProviderState {
    pub issuer: String,
    pub settings: DemoSettings,
    tables: Mutex<Tables>,
    /// The latest [`MAX_SEEN`] token requests (a diagnostic, so it must not grow forever).
    seen: Mutex<VecDeque<TokenRequestSeen>>,
    api_requests: Mutex<u64>,
    /// The DPoP nonce and the `jti`s seen (RFC 9449 sections 8, 11.1).
    pub(crate) dpop: DpopState,
    /// The key that signs ID tokens (OIDC Core §2), published at the `jwks_uri`.
    pub(crate) id_token_key: IdTokenKey,
    /// The client assertion `jti`s seen, per client, until their `exp` (RFC 7523 section 3
    /// point 7): the same bounded table as DPoP's, a second one (its nonce goes unused).
    pub(crate) assertion_jtis: DpopState,
    /// Back-channel logout deliveries (OIDC Back-Channel Logout 1.0 §2.5): answered 200, not.
    logout_deliveries: Mutex<(u64, u64)>,
    /// The account page's form token (its CSRF defence, with the `Origin` check).
    pub(crate) account_form_token: String,
}

impl ProviderState {
    pub fn new(issuer: String, settings: DemoSettings) -> Self {
        Self {
            issuer,
            settings,
            tables: Mutex::default(),
            seen: Mutex::default(),
            api_requests: Mutex::default(),
            dpop: DpopState::new(),
            id_token_key: IdTokenKey::generate(),
            assertion_jtis: DpopState::new(),
            logout_deliveries: Mutex::default(),
            account_form_token: crate::secret::random_token(),
        }
    }

    /// The tables, locked. Handlers hold the lock only for in-memory work (never across `.await`),
    /// which also makes check-and-consume of a code atomic (RFC 6749 §4.1.2).
    pub fn tables(&self) -> MutexGuard<'_, Tables> {
        self.tables
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The `iss` to put in authorization responses (RFC 9207 §2): the issuer, unless the
    /// `no-iss` quirk is on.
    pub fn iss(&self) -> Option<&str> {
        (!self.settings.quirks.omit_iss).then_some(self.issuer.as_str())
    }

    pub fn client(&self, client_id: &str) -> Option<&RegisteredClient> {
        self.settings
            .clients
            .iter()
            .find(|c| c.client_id == client_id)
    }

    /// Records a token request (for tests and the demo's own diagnostics).
    pub fn record_token_request(&self, seen: TokenRequestSeen) {
        let mut all = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if all.len() >= MAX_SEEN {
            all.pop_front();
        }
        all.push_back(seen);
    }

    /// Every token request so far (the latest 10 000, `MAX_SEEN`), oldest first.
    pub fn token_requests(&self) -> Vec<TokenRequestSeen> {
        let all = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        all.iter().cloned().collect()
    }

    pub fn count_api_request(&self) {
        *self.api_requests.lock().unwrap_or_else(|p| p.into_inner()) += 1;
    }

    /// How many photos-API requests arrived.
    pub fn api_requests(&self) -> u64 {
        *self.api_requests.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn count_logout_delivery(&self, ok: bool) {
        let mut counts = self
            .logout_deliveries
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if ok { counts.0 += 1 } else { counts.1 += 1 }
    }

    /// Back-channel logout tokens delivered so far: (answered 200, failed).
    pub fn logout_deliveries(&self) -> (u64, u64) {
        *self
            .logout_deliveries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// A logout token for `client_id` naming `sub` and/or `sid`, signed with the ID-token key,
    /// as `logout/` sends them (OIDC Back-Channel Logout 1.0 §2.4): for tests that deliver
    /// one themselves.
    pub fn logout_token(&self, client_id: &str, sub: Option<&str>, sid: Option<&str>) -> String {
        let jti = crate::secret::random_token();
        let logout = crate::id_token::Logout {
            client_id,
            user_id: sub,
            sid,
            jti: &jti,
        };
        self.id_token_key.logout_token(&self.issuer, &logout, now())
    }

    /// The `sid` of `user`'s live grant to `client_id`, if any.
    pub fn sid_of(&self, client_id: &str, user: &str) -> Option<String> {
        let tables = self.tables();
        tables
            .grants
            .values()
            .find(|g| g.client_id == client_id && g.user == user && !g.revoked)
            .map(|g| g.sid.clone())
    }

    /// How many DPoP proof `jti`s are remembered: at most `max_pending`, each for its `iat`
    /// window only (RFC 9449 section 11.1).
    pub fn dpop_jtis(&self) -> usize {
        self.dpop.remembered()
    }

    /// Whether an access token is currently valid (not expired, grant not revoked).
    pub fn access_token_valid(&self, token: &str) -> bool {
        let tables = self.tables();
        tables.access.get(token).is_some_and(|a| {
            a.expires_at > now() && tables.grants.get(&a.grant).is_some_and(|g| !g.revoked)
        })
    }

    /// Marks a grant revoked and drops its tokens.
    pub fn revoke_grant(tables: &mut Tables, grant: &str) {
        if let Some(g) = tables.grants.get_mut(grant) {
            g.revoked = true;
        }
        tables.access.retain(|_, a| a.grant != grant);
        tables.refresh.retain(|_, r| r.grant != grant);
    }
}

/// Unix seconds (0 if the clock is before 1970).
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, secs)
}

/// A lifetime in whole seconds, saturating (a huge configured TTL never wraps negative).
pub fn secs(ttl: Duration) -> i64 {
    i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX)
}

/// `now + ttl`, saturating.
pub fn expiry(now: i64, ttl: Duration) -> i64 {
    now.saturating_add(secs(ttl))
}
