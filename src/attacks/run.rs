//! Each attack, run for real: a victim's and an attacker's browser (fresh ones, never the
//! visitor's own) sign in at the demo provider and send the forged requests to this app's and
//! the provider's real endpoints; the outcome is what came back.

use url::Url;

use super::{
    Kit, Outcome,
    browser::{Answer, Browser, Transcript, query, with_param},
};
use crate::random::random_token;

/// The demo users the two browsers sign in as.
const VICTIM: &str = "alice";
const ATTACKER: &str = "carol";

/// Where the attackers send what they make up.
const ATTACKER_SITE: &str = "https://attacker.example";

/// Runs the attack named `id` (one of `catalogue::ATTACKS`).
pub async fn run(kit: &Kit, id: &str, transcript: &Transcript) -> anyhow::Result<Outcome> {
    let victim = || Browser::new(&kit.http, &kit.app, "victim", transcript);
    let attacker = || Browser::new(&kit.http, &kit.app, "attacker", transcript);
    let (mut v, mut x) = (victim(), attacker());
    Ok(match id {
        "forged-state" => {
            let callback = approved(kit, &mut v, VICTIM).await?;
            let forged = with_param(&callback, "state", Some(&random_token()));
            let answer = v.get(&forged).await?;
            let real = v.get(&callback).await?;
            refused_if(
                answer.status == 400 && answer.says() == "This sign-in was not started here",
                &answer,
                format!("The victim's real callback then: {}", real.summary()),
            )
        }
        "replayed-callback" => {
            let callback = approved(kit, &mut v, VICTIM).await?;
            v.get(&callback).await?;
            let answer = v.get(&callback).await?;
            let photos = v.get(&kit.at("/photos")?).await?;
            refused_if(
                answer.status == 400 && answer.says() == "This sign-in was not started here",
                &answer,
                format!("The first sign-in's photos page: {}", photos.summary()),
            )
        }
        "login-csrf" => {
            let theirs = approved(kit, &mut x, ATTACKER).await?;
            begin(kit, &mut v).await?;
            let answer = v.get(&theirs).await?;
            let photos = v.get(&kit.at("/photos")?).await?;
            refused_if(
                answer.status == 400 && answer.says() == "This sign-in was not started here",
                &answer,
                format!("The victim's photos page: {}", photos.summary()),
            )
        }
        "code-injection" => {
            let victims = approved(kit, &mut v, VICTIM).await?;
            let theirs = approved(kit, &mut x, ATTACKER).await?;
            let code = query(&victims, "code").unwrap_or_default();
            let answer = x.get(&with_param(&theirs, "code", Some(&code))).await?;
            refused_if(
                answer.status == 502 && answer.says() == "The provider refused the sign-in",
                &answer,
                "The attacker's session stays signed out.".into(),
            )
        }
        "wrong-issuer" | "missing-issuer" => {
            let callback = approved(kit, &mut v, VICTIM).await?;
            let iss = (id == "wrong-issuer").then_some(ATTACKER_SITE);
            let answer = v.get(&with_param(&callback, "iss", iss)).await?;
            refused_if(
                answer.status == 400
                    && answer.says() == "That sign-in came from an unexpected provider",
                &answer,
                "No code was sent to any token endpoint.".into(),
            )
        }
        "pkce-plain" | "redirect-uri" => {
            let mut request = kit.endpoint("authorization_endpoint").await?;
            let plain = id == "pkce-plain";
            let redirect_uri = if plain {
                kit.at("/cb")?.to_string()
            } else {
                format!("{ATTACKER_SITE}/cb")
            };
            let challenge = random_token();
            request
                .query_pairs_mut()
                .append_pair("response_type", "code")
                .append_pair("client_id", &kit.client_id)
                .append_pair("redirect_uri", &redirect_uri)
                .append_pair("scope", "photos")
                .append_pair("state", &random_token())
                .append_pair("code_challenge", &challenge)
                .append_pair(
                    "code_challenge_method",
                    if plain { "plain" } else { "S256" },
                );
            let answer = x.get(&request).await?;
            let consent = answer.status == 200 && answer.body.contains("name=\"transaction\"");
            let to_attacker = answer
                .location
                .as_ref()
                .is_some_and(|l| l.as_str().starts_with(ATTACKER_SITE));
            refused_if(
                !consent && !to_attacker && (answer.status >= 400 || answer.location.is_some()),
                &answer,
                if to_attacker {
                    "The provider redirected to the attacker's site.".into()
                } else {
                    "No consent page was shown and no code was issued.".into()
                },
            )
        }
        "code-other-client" | "code-no-credentials" => {
            let callback = approved(kit, &mut v, VICTIM).await?;
            let code = query(&callback, "code").unwrap_or_default();
            let token = kit.endpoint("token_endpoint").await?;
            let redirect_uri = kit.at("/cb")?.to_string();
            let verifier = random_token();
            let mut form = vec![
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("code_verifier", verifier.as_str()),
            ];
            match id {
                "code-other-client" => form.extend([
                    ("redirect_uri", kit.other_client.redirect_uri.as_str()),
                    ("client_id", kit.other_client.id.as_str()),
                    ("client_secret", kit.other_client.secret.as_str()),
                ]),
                _ => form.extend([
                    ("redirect_uri", redirect_uri.as_str()),
                    ("client_id", kit.client_id.as_str()),
                ]),
            }
            let answer = x.post(&token, &form, ATTACKER_SITE).await?;
            let real = v.get(&callback).await?;
            refused_if(
                (400..500).contains(&answer.status) && !answer.body.contains("access_token"),
                &answer,
                format!("The victim's own callback then: {}", real.summary()),
            )
        }
        "logout-csrf" => {
            let callback = approved(kit, &mut v, VICTIM).await?;
            v.get(&callback).await?;
            let origin = kit.app.origin().ascii_serialization();
            let answer = v.post(&kit.at("/logout")?, &[], &origin).await?;
            let photos = v.get(&kit.at("/photos")?).await?;
            refused_if(
                answer.status == 403 && photos.status == 200,
                &answer,
                format!("The victim's photos page afterwards: {}", photos.summary()),
            )
        }
        "session-fixation" => {
            x.get(&kit.app).await?;
            v.plant_cookie_of(&x);
            let callback = approved(kit, &mut v, VICTIM).await?;
            v.get(&callback).await?;
            let planted = x.get(&kit.at("/photos")?).await?;
            let photos = v.get(&kit.at("/photos")?).await?;
            refused_if(
                planted.status != 200 && photos.status == 200,
                &planted,
                format!("The victim's own photos page: {}", photos.summary()),
            )
        }
        _ => anyhow::bail!("no attack is named {id}"),
    })
}

fn refused_if(refused: bool, answer: &Answer, aftermath: String) -> Outcome {
    Outcome {
        refused,
        answer: answer.summary(),
        aftermath,
        transcript: Vec::new(),
    }
}

/// The Connect link of the home page, followed to the provider's authorization URL (through
/// `/connect` when the app pushes its requests, PAR).
async fn begin(kit: &Kit, browser: &mut Browser<'_>) -> anyhow::Result<Url> {
    let home = browser.get(&kit.app).await?;
    let marker = r#"id="connect" class="button" href=""#;
    let href = home
        .body
        .split_once(marker)
        .and_then(|(_, rest)| rest.split_once('"'))
        .map(|(href, _)| href.replace("&#38;", "&").replace("&amp;", "&"))
        .ok_or_else(|| anyhow::anyhow!("no Connect link on the home page"))?;
    let link = kit.app.join(&href)?;
    if link.origin() != kit.app.origin() {
        return Ok(link);
    }
    let pushed = browser.get(&link).await?;
    pushed
        .location
        .ok_or_else(|| anyhow::anyhow!("/connect did not redirect"))
}

/// A sign-in approved at the demo provider as `user`: the callback it redirects to, not yet
/// opened.
async fn approved(kit: &Kit, browser: &mut Browser<'_>, user: &str) -> anyhow::Result<Url> {
    let authorize = begin(kit, browser).await?;
    let consent = browser.get(&authorize).await?;
    let marker = r#"name="transaction" value=""#;
    let transaction = consent
        .body
        .split_once(marker)
        .and_then(|(_, rest)| rest.split_once('"'))
        .map(|(value, _)| value.to_owned())
        .ok_or_else(|| anyhow::anyhow!("no consent page: {}", consent.summary()))?;
    let mut form_action = authorize.clone();
    form_action.set_query(None);
    let origin = authorize.origin().ascii_serialization();
    let fields = [
        ("transaction", transaction.as_str()),
        ("user", user),
        ("decision", "approve"),
    ];
    let answer = browser.post(&form_action, &fields, &origin).await?;
    answer
        .location
        .ok_or_else(|| anyhow::anyhow!("the provider did not redirect back"))
}
