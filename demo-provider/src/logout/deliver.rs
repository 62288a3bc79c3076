//! Back-channel logout delivery (OIDC Back-Channel Logout 1.0 §2.5): when a user's session ends
//! here, each client with a grant in it that registered a `backchannel_logout_uri` gets a
//! logout token POSTed there, in the background, each bounded in time.

use std::{sync::Arc, time::Duration};

use crate::{id_token::Logout, secret::random_token, store::ProviderState};

/// How long one delivery may take (§2.5: the OP should not wait long on an RP).
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(5);

/// One session ended at a client: its grant's `sid`, told to `uri`.
struct Ended {
    client_id: String,
    user: String,
    sid: String,
    uri: Option<String>,
}

/// Ends `user`'s session here: revokes every grant they gave (their tokens with them) and POSTs a
/// logout token to each client that registered a `backchannel_logout_uri`, except `except`
/// (the client that asked, which knows). Returns how many grants ended.
pub fn end_user_sessions(
    state: &Arc<ProviderState>,
    user: &str,
    except: Option<&str>,
    at: i64,
) -> usize {
    let ended: Vec<Ended> = {
        let mut tables = state.tables();
        let grants: Vec<(String, String, String)> = tables
            .grants
            .iter()
            .filter(|(_, g)| g.user == user && !g.revoked)
            .map(|(id, g)| (id.clone(), g.client_id.clone(), g.sid.clone()))
            .collect();
        for (id, _, _) in &grants {
            ProviderState::revoke_grant(&mut tables, id);
        }
        grants
            .into_iter()
            .map(|(_, client_id, sid)| Ended {
                uri: state
                    .client(&client_id)
                    .and_then(|c| c.backchannel_logout_uri.clone()),
                client_id,
                user: user.to_owned(),
                sid,
            })
            .collect()
    };
    let count = ended.len();
    for end in ended {
        let Some(uri) = end.uri.clone() else { continue };
        if except == Some(end.client_id.as_str()) {
            continue;
        }
        let logout = Logout {
            client_id: &end.client_id,
            user_id: Some(&end.user),
            sid: Some(&end.sid),
            jti: &random_token(),
        };
        let token = state.id_token_key.logout_token(&state.issuer, &logout, at);
        let state = state.clone();
        tokio::spawn(async move {
            let ok = post(&uri, &token).await;
            state.count_logout_delivery(ok);
            tracing::info!(client_id = %end.client_id, ok, "back-channel logout delivered");
        });
    }
    count
}

/// POSTs the logout token (§2.5: `application/x-www-form-urlencoded`, `logout_token`); whether
/// the client answered 200.
async fn post(uri: &str, token: &str) -> bool {
    let Ok(client) = reqwest::Client::builder()
        .timeout(DELIVERY_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
    else {
        return false;
    };
    let body = format!("logout_token={token}");
    client
        .post(uri)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .is_ok_and(|r| r.status() == reqwest::StatusCode::OK)
}
