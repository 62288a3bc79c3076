//! Benchmark: anonymous home-page views, full sign-in flows, and memory per session, with the app
//! and the demo provider in this process. Run with `cargo bench --bench flow` (release build).
//! Numbers include the load generator's own CPU (same process, same 2 cores on CI machines).

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use futures_util::{StreamExt, stream};
use photo_connect::{
    MemoryStore,
    config::Config,
    config::{RedisStoreConfig, RedisUrl, SessionKey, SessionStoreConfig},
    demo::{self, provider::DemoSettings},
};
use reqwest::{StatusCode, cookie::Jar, header};
use url::Url;

const HOME_VIEWS: usize = 5_000;
const FLOWS: usize = 300;
const MEMORY_SESSIONS: usize = 20_000;
const CONCURRENCY: usize = 16;

#[tokio::main]
async fn main() {
    let (app, provider) = demo::bind(Config::for_tests(), DemoSettings::for_tests())
        .await
        .expect("provider");
    let running = app.spawn().expect("app");
    let base = running.url.clone();
    println!(
        "photo-connect benchmark (app {base}, provider {})\n",
        provider.issuer
    );

    // 1. Anonymous home-page views: each creates a session with a pending login.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let started = Instant::now();
    let latencies: Vec<Duration> = stream::iter(0..HOME_VIEWS)
        .map(|_| {
            let (client, url) = (client.clone(), base.clone());
            async move {
                let t = Instant::now();
                let response = client.get(url).send().await.expect("home");
                assert_eq!(response.status(), StatusCode::OK);
                response.bytes().await.expect("body");
                t.elapsed()
            }
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    report(
        "home page (anonymous)",
        HOME_VIEWS,
        started.elapsed(),
        latencies,
    );

    // 2. Whole flows: home → authorize → approve → /cb → /photos, each in a fresh cookie jar.
    let started = Instant::now();
    let steps: Vec<[Duration; 5]> = stream::iter(0..FLOWS)
        .map(|i| {
            flow(
                base.clone(),
                provider.issuer.clone(),
                ["alice", "bob", "carol"][i % 3],
            )
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let total = started.elapsed();
    let memory_flows_per_sec = FLOWS as f64 / total.as_secs_f64();
    println!(
        "full flow: {FLOWS} flows, concurrency {CONCURRENCY}: {memory_flows_per_sec:.0} flows/s"
    );
    for (i, name) in [
        "GET / (app)",
        "GET /oauth/authorize",
        "POST consent",
        "GET /cb (+token call)",
        "GET /photos (+API call)",
    ]
    .iter()
    .enumerate()
    {
        let (p50, p95, p99) = percentiles(steps.iter().map(|s| s[i]).collect());
        println!("  {name:<26} p50 {p50:>7.2} ms  p95 {p95:>7.2} ms  p99 {p99:>7.2} ms");
    }
    println!();

    // 3. Memory per stored session (anonymous sessions: one pending login each). Measured as the
    //    RSS slope between two batches, so allocator warm-up and connection buffers cancel out.
    let mut points = Vec::new();
    for _ in 0..2 {
        stream::iter(0..MEMORY_SESSIONS)
            .map(|_| {
                let (client, url) = (client.clone(), base.clone());
                async move {
                    client
                        .get(url)
                        .send()
                        .await
                        .expect("home")
                        .bytes()
                        .await
                        .expect("body")
                }
            })
            .buffer_unordered(CONCURRENCY)
            .collect::<Vec<_>>()
            .await;
        points.push((
            running.sessions.as_ref().expect("memory store").len().await,
            rss_kib(),
        ));
    }
    let ((s1, r1), (s2, r2)) = (points[0], points[1]);
    println!(
        "memory: {s1} → {s2} sessions, RSS {r1} → {r2} KiB: ~{:.0} bytes per anonymous session",
        (r2.saturating_sub(r1) as f64 * 1024.0) / (s2 - s1).max(1) as f64
    );
    print_record_size(running.sessions.as_ref().expect("memory store")).await;

    // 4. The same flows with the Redis store (a local redis-server), as a ratio to the memory
    //    store measured above in this same run.
    redis_flows(memory_flows_per_sec).await;
}

/// Runs [`FLOWS`] whole flows against an app whose sessions live in a fresh local Redis.
async fn redis_flows(memory_flows_per_sec: f64) {
    let Ok(port) = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()) else {
        return;
    };
    let port = port.port();
    let Ok(mut server) = std::process::Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .stdout(std::process::Stdio::null())
        .spawn()
    else {
        println!("redis: skipped (redis-server is not installed)");
        return;
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut config = Config::for_tests();
    config.session_store = SessionStoreConfig::Redis(RedisStoreConfig {
        url: RedisUrl::parse(&format!("redis://127.0.0.1:{port}")).expect("url"),
        prefix: "bench:".into(),
        key: SessionKey::from_bytes([1; 32]),
        previous_keys: Vec::new(),
    });
    let (app, provider) = demo::bind(config, DemoSettings::for_tests())
        .await
        .expect("app with Redis");
    let running = app.spawn().expect("app");
    let started = Instant::now();
    let _: Vec<[Duration; 5]> = stream::iter(0..FLOWS)
        .map(|i| {
            flow(
                running.url.clone(),
                provider.issuer.clone(),
                ["alice", "bob", "carol"][i % 3],
            )
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let redis_flows_per_sec = FLOWS as f64 / started.elapsed().as_secs_f64();
    println!(
        "full flow, SESSION_STORE=redis: {redis_flows_per_sec:.0} flows/s, {:.2}x the memory store's",
        redis_flows_per_sec / memory_flows_per_sec
    );
    let _ = server.kill();
    let _ = server.wait();
}

async fn flow(base: Url, issuer: String, user: &str) -> [Duration; 5] {
    let jar = Arc::new(Jar::default());
    let client = reqwest::Client::builder()
        .cookie_provider(jar)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let mut steps = [Duration::ZERO; 5];

    let t = Instant::now();
    let home = client
        .get(base.clone())
        .send()
        .await
        .expect("home")
        .text()
        .await
        .expect("body");
    steps[0] = t.elapsed();
    let marker = r#"id="connect" class="button" href=""#;
    let start = home.find(marker).expect("connect link") + marker.len();
    let href = &home[start..start + home[start..].find('"').expect("end")];
    let authorize = href.replace("&#38;", "&");

    let t = Instant::now();
    let consent = client
        .get(authorize)
        .send()
        .await
        .expect("authorize")
        .text()
        .await
        .expect("body");
    steps[1] = t.elapsed();
    let marker = r#"name="transaction" value=""#;
    let start = consent.find(marker).expect("transaction") + marker.len();
    let transaction = &consent[start..start + consent[start..].find('"').expect("end")];

    let t = Instant::now();
    let answer = client
        .post(format!("{issuer}/oauth/authorize"))
        .form(&[
            ("transaction", transaction),
            ("user", user),
            ("decision", "approve"),
        ])
        .send()
        .await
        .expect("consent");
    steps[2] = t.elapsed();
    let callback = answer.headers()[header::LOCATION]
        .to_str()
        .expect("location")
        .to_owned();

    let t = Instant::now();
    let cb = client.get(callback).send().await.expect("callback");
    assert_eq!(cb.status(), StatusCode::SEE_OTHER);
    steps[3] = t.elapsed();

    let t = Instant::now();
    let photos = client
        .get(base.join("photos").expect("url"))
        .send()
        .await
        .expect("photos");
    assert_eq!(photos.status(), StatusCode::OK);
    photos.bytes().await.expect("body");
    steps[4] = t.elapsed();
    steps
}

fn report(name: &str, count: usize, total: Duration, latencies: Vec<Duration>) {
    let (p50, p95, p99) = percentiles(latencies);
    println!(
        "{name}: {count} requests, concurrency {CONCURRENCY}: {:.0} req/s, p50 {p50:.2} ms, p95 {p95:.2} ms, p99 {p99:.2} ms\n",
        count as f64 / total.as_secs_f64()
    );
}

fn percentiles(mut samples: Vec<Duration>) -> (f64, f64, f64) {
    samples.sort();
    let at = |q: f64| {
        samples[((samples.len() as f64 - 1.0) * q).round() as usize].as_secs_f64() * 1000.0
    };
    (at(0.50), at(0.95), at(0.99))
}

/// Resident set size from /proc (Linux); 0 elsewhere.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// The serialized size of a typical stored session record.
async fn print_record_size(store: &MemoryStore) {
    let records = store.records().await;
    if let Some(record) = records.first() {
        let json = serde_json::to_vec(&record.data).expect("json");
        println!(
            "a stored anonymous session record serializes to {} bytes of JSON",
            json.len()
        );
    }
}
