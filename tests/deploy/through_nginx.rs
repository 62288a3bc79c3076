//! The real Chromium signs in through Debian's nginx (TLS with a throwaway certificate) to two
//! instances of the binary sharing one `redis-server`, the demo provider in this process; between
//! Connect and Approve each instance in turn is stopped (SIGTERM) and started again on its port.
//! Every page is the one expected, nginx answers no 5xx, and the instances saw https.

use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use photo_connect::demo::provider::{self, DemoSettings, RegisteredClient, Secret};
use url::Url;

use crate::nginx::{self, Nginx};

#[allow(dead_code)] // the scale-out tests use the rest
#[path = "../support/redis.rs"]
mod redis;

#[path = "../support/app_process.rs"]
mod app_process;

#[allow(dead_code)] // the browser tests' other ways to start Chromium
#[path = "../browser/driver.rs"]
mod driver;

#[allow(dead_code)] // the browser tests' apps and screenshots
#[path = "../browser/helpers.rs"]
mod helpers;

use app_process::{AppProcess, SESSION_KEY, free_port};
use helpers::{click, describe, find, location, wait_for_text};
use redis::RedisServer;

const SECRET: &str = "deploy-test-client-secret-5d1e";

/// What an instance logs when an https `APP_URL` is reached without `X-Forwarded-Proto: https`,
/// and when the `Host` it sees is not `APP_URL`'s (`src/web/middleware/setup_check.rs`).
const NOT_SEEN_AS_HTTPS: &str = "arrived over plain http";
const ANOTHER_HOST: &str = "another address than APP_URL";

#[tokio::test]
async fn a_sign_in_through_nginx_survives_a_rolling_restart_of_both_instances() {
    if !nginx::tools_installed() {
        return;
    }
    let Some(redis) = RedisServer::start() else {
        return;
    };
    driver::run(&["--ignore-certificate-errors"], |c| async move {
        let started = Instant::now();
        let ports = [free_port(), free_port()];
        let nginx = Nginx::start("flow", ports);
        let app_url = nginx.url();
        let mut settings = DemoSettings::for_tests();
        settings.clients.push(RegisteredClient {
            client_id: "photo-connect".into(),
            client_secret: Secret::new(SECRET),
            redirect_uris: vec![app_url.join("cb")?.to_string()],
            name: "photo-connect".into(),
            require_par: false,
            post_logout_redirect_uris: Vec::new(),
            backchannel_logout_uri: None,
            jwks: None,
        });
        let provider = provider::spawn(settings).await?;
        let issuer = provider.issuer.clone();
        let env = [
            ("APP_URL", app_url.to_string()),
            ("SESSION_STORE", redis.url()),
            ("SESSION_KEY", SESSION_KEY.into()),
            ("TRUST_FORWARDED_FOR", "true".into()),
            ("OAUTH_ISSUER", issuer.clone()),
            ("PHOTOS_API_URL", format!("{issuer}/api/photos")),
            ("OAUTH_CLIENT_ID", "photo-connect".into()),
            ("OAUTH_CLIENT_SECRET", SECRET.into()),
        ];
        let mut instances = [
            AppProcess::spawn(ports[0], &env).await,
            AppProcess::spawn(ports[1], &env).await,
        ];
        let mut logs = Vec::new();

        c.goto(app_url.as_str()).await?;
        wait_for_text(&c, "#status", "Not connected.").await?;
        ensure!(c.current_url().await? == app_url, "{}", describe(&c).await);
        // https from the browser to nginx: the app set its cookie Secure, with the __Host- prefix.
        let cookies = c.get_all_cookies().await?;
        let session = cookies
            .iter()
            .find(|k| k.name() == "__Host-session")
            .with_context(|| format!("a __Host-session cookie: {cookies:?}"))?;
        ensure!(
            session.secure() == Some(true)
                && session.http_only() == Some(true)
                && session.path() == Some("/")
                && cookies.len() == 1,
            "one cookie, Secure, HttpOnly, Path=/: {cookies:?}"
        );

        click(&c, "#connect").await?;
        find(&c, "#approve").await?;
        ensure!(
            location(&c).await? == ("127.0.0.1".into(), "/oauth/authorize".into()),
            "at the provider's consent page: {}",
            describe(&c).await
        );

        // The rolling restart, while the sign-in waits at the provider.
        let probe = reqwest::Client::builder()
            .danger_accept_invalid_certs(true)
            .build()?;
        for (i, port) in ports.into_iter().enumerate() {
            let stopped_at = Instant::now();
            instances[i].signal("-TERM");
            let status = instances[i].exited_within(Duration::from_secs(15)).await;
            ensure!(
                status.is_some_and(|s| s.success()),
                "instance {port} stops cleanly on SIGTERM: {status:?}"
            );
            // Down: nginx passes every request to the other instance.
            for _ in 0..3 {
                healthz(&probe, &app_url).await?;
            }
            logs.push(instances[i].logs());
            instances[i] = AppProcess::spawn(port, &env).await;
            let gap = stopped_at.elapsed();
            // Back: nginx sends it requests again once fail_timeout has passed.
            let back = Instant::now();
            let served = format!("upstream=127.0.0.1:{port} 200");
            let before = nginx.access_log().len();
            while !nginx.access_log()[before..].contains(&served) {
                ensure!(back.elapsed() < Duration::from_secs(10), "{port} never back");
                healthz(&probe, &app_url).await?;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            eprintln!(
                "instance {port}: down and up again in {gap:?}, back in nginx's rotation {:?} later",
                back.elapsed()
            );
        }

        let after_restarts = nginx.access_log().len();
        click(&c, "#user-bob").await?;
        click(&c, "#approve").await?;
        wait_for_text(&c, "#heading", "Your photos (4)").await?;
        ensure!(
            c.current_url().await? == app_url.join("photos")?,
            "back on the photos page through nginx: {}",
            describe(&c).await
        );

        click(&c, "#logout").await?;
        wait_for_text(&c, "#status", "Not connected.").await?;
        ensure!(location(&c).await?.1 == "/", "logout lands on the home page");
        let notice = find(&c, "[role=status]").await?.text().await?;
        ensure!(notice.contains("logged out"), "the home page says so: {notice:?}");
        c.goto(app_url.join("photos")?.as_str()).await?;
        wait_for_text(&c, "#status", "Not connected.").await?;

        // Every request nginx logged was answered without a 5xx, some after an instance that
        // was down refused them, and both instances, restarted, served the rest of the flow.
        let log = nginx.access_log_once("\"GET /?notice=connect-first ");
        let rest = &log[after_restarts..];
        for line in log.lines() {
            let status = line.split('"').nth(2).and_then(|s| s.split_whitespace().next());
            ensure!(
                status.is_some_and(|s| !s.starts_with('5')),
                "nginx answered 5xx: {line}"
            );
        }
        for (down, up) in [(ports[0], ports[1]), (ports[1], ports[0])] {
            let skipped = format!("upstream=127.0.0.1:{down}, 127.0.0.1:{up} 502, 200");
            ensure!(log.contains(&skipped), "no request skipped {down}: {log}");
            let served = rest
                .lines()
                .filter(|l| !l.contains("/healthz") && l.contains(&format!(":{down} ")))
                .count();
            ensure!(served > 0, "{down} served nothing after its restart: {rest}");
        }
        logs.extend(instances.iter().map(AppProcess::logs));
        ensure!(logs.len() == 4, "two instances, each started twice");
        for log in &logs {
            let wrong: Vec<&str> = log
                .lines()
                .filter(|l| l.contains(NOT_SEEN_AS_HTTPS) || l.contains(ANOTHER_HOST))
                .collect();
            ensure!(wrong.is_empty(), "an instance did not see {app_url}: {wrong:#?}");
            ensure!(log.contains("is ready: open"), "{log}");
        }
        eprintln!(
            "{} requests through nginx, the whole test in {:?}",
            log.lines().count(),
            started.elapsed()
        );
        Ok(())
    })
    .await;
}

/// `GET /healthz` through nginx: must be answered by an instance.
async fn healthz(client: &reqwest::Client, app_url: &Url) -> anyhow::Result<()> {
    let response = client.get(app_url.join("healthz")?).send().await?;
    let status = response.status();
    let body = response.text().await?;
    ensure!(
        status == reqwest::StatusCode::OK && body == "ok",
        "{status}: {body}"
    );
    Ok(())
}
