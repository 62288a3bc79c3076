//! DEMO PROVIDER (fake): in-memory state of the authorization server: registered clients,
//! consent transactions, codes, grants and tokens, with expiry and a background purge.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, MutexGuard},
    time::Duration,
};

use super::{DemoSettings, RegisteredClient};

/// Scopes this provider knows. `photos` lets the client read the user's photos.
pub const SCOPES: &[&str] = &["photos", "profile"];

/// A consent screen in progress (between `GET` and `POST /oauth/authorize`).
#[derive(Clone, Debug)]
pub struct Transaction {
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: Vec<String>,
    pub state: Option<String>,
    pub code_challenge: String,
    /// The browser that saw the consent page (its cookie); only it may answer (RFC 6749 §10.12).
    pub browser: String,
    pub expires_at: i64,
}

/// An authorization code, bound to client, redirect URI, PKCE challenge and user (RFC 6749 §4.1.2).
#[derive(Clone, Debug)]
pub struct CodeRecord {
    pub client_id: String,
    pub redirect_uri: String,
    pub code_challenge: String,
    pub user: String,
    pub scope: Vec<String>,
    pub expires_at: i64,
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
}

#[derive(Clone, Debug)]
pub struct AccessRecord {
    pub grant: String,
    pub scope: Vec<String>,
    pub expires_at: i64,
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
    /// `client_secret_basic`, `client_secret_post` or `none`.
    pub auth_method: &'static str,
    pub had_code_verifier: bool,
    /// `Some(true)` when the verifier's S256 matched the code's challenge.
    pub pkce_verified: Option<bool>,
    /// The HTTP status the provider answered.
    pub status: u16,
}

#[derive(Default)]
pub struct Tables {
    pub transactions: HashMap<String, Transaction>,
    pub codes: HashMap<String, CodeRecord>,
    pub grants: HashMap<String, Grant>,
    pub access: HashMap<String, AccessRecord>,
    pub refresh: HashMap<String, RefreshRecord>,
    /// Failed client authentications per client id: (count, window start).
    pub auth_failures: HashMap<String, (u32, i64)>,
}

/// The provider's state, shared by its handlers.
pub struct ProviderState {
    pub issuer: String,
    pub settings: DemoSettings,
    tables: Mutex<Tables>,
    seen: Mutex<Vec<TokenRequestSeen>>,
    api_requests: Mutex<u64>,
}

impl ProviderState {
    pub fn new(issuer: String, settings: DemoSettings) -> Self {
        Self {
            issuer,
            settings,
            tables: Mutex::default(),
            seen: Mutex::default(),
            api_requests: Mutex::default(),
        }
    }

    /// The tables, locked. Handlers hold the lock only for in-memory work (never across `.await`),
    /// which also makes check-and-consume of a code atomic (RFC 6749 §4.1.2).
    pub fn tables(&self) -> MutexGuard<'_, Tables> {
        self.tables
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn client(&self, client_id: &str) -> Option<&RegisteredClient> {
        self.settings
            .clients
            .iter()
            .find(|c| c.client_id == client_id)
    }

    /// Records a token request (for tests and the demo's own diagnostics).
    pub fn record_token_request(&self, seen: TokenRequestSeen) {
        self.seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(seen);
    }

    /// Every token request so far.
    pub fn token_requests(&self) -> Vec<TokenRequestSeen> {
        self.seen.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn count_api_request(&self) {
        *self.api_requests.lock().unwrap_or_else(|p| p.into_inner()) += 1;
    }

    /// How many photos-API requests arrived.
    pub fn api_requests(&self) -> u64 {
        *self.api_requests.lock().unwrap_or_else(|p| p.into_inner())
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

    /// Deletes expired transactions, codes and tokens every `period`, so memory stays bounded.
    pub fn spawn_purger(self: &Arc<Self>, period: Duration) {
        let weak = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(period);
            loop {
                tick.tick().await;
                let Some(state) = weak.upgrade() else { break };
                state.purge(now());
            }
        });
    }

    /// Deletes what expired before `now`. Redeemed codes are kept a little longer than their
    /// lifetime so that a late replay is still recognised.
    pub fn purge(&self, now: i64) {
        let mut t = self.tables();
        let grace = self.settings.code_ttl.as_secs() as i64 * 10;
        t.transactions.retain(|_, x| x.expires_at > now);
        t.codes.retain(|_, c| c.expires_at + grace > now);
        t.access.retain(|_, a| a.expires_at > now);
        t.refresh.retain(|_, r| r.expires_at > now);
        let Tables {
            grants,
            access,
            refresh,
            ..
        } = &mut *t;
        grants.retain(|id, _| {
            access.values().any(|a| &a.grant == id) || refresh.values().any(|r| &r.grant == id)
        });
    }
}

/// Unix seconds.
pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}
