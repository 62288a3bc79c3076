//! The flood: M anonymous home-page views without cookies, as fast as a concurrency allows,
//! with a few real sign-ins during and after it, and the app's memory before, after and at
//! its peak.

use std::{
    collections::BTreeMap,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use reqwest::Client;
use serde::Serialize;
use url::Url;

use crate::{
    browser::{Browser, SecFetchSite},
    flow::{self, FlowPlan},
    procfs::{self, Sampler, Watch},
    stats::{Recorder, Step, StepSummary},
};

/// How to flood.
#[derive(Clone, Debug)]
pub struct Flood {
    pub views: u64,
    pub concurrency: usize,
    /// Send a browser's navigation headers (each view then starts a sign-in and stores a
    /// pending login), or none (the app refuses to start one).
    pub navigate: bool,
    /// Real sign-ins after the flood.
    pub flows_after: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct FloodReport {
    pub views: u64,
    pub elapsed_s: f64,
    pub views_per_sec: f64,
    /// How many views got each HTTP status (0: no answer).
    pub statuses: BTreeMap<u16, u64>,
    pub home: Option<StepSummary>,
    pub rss_before_kib: u64,
    pub rss_after_kib: u64,
    pub rss_peak_kib: u64,
    pub vm_hwm_kib: u64,
    /// (RSS after − RSS before) / views answered 200: each stored one pending login.
    pub bytes_per_visitor: f64,
    /// Real sign-ins during the flood (one after another) and after it.
    pub during: BTreeMap<Step, StepSummary>,
    pub during_ok: u64,
    pub during_failed: u64,
    pub after: BTreeMap<Step, StepSummary>,
    pub after_ok: u64,
    pub after_failed: u64,
}

pub async fn flood(
    client: &Client,
    plan: &FlowPlan,
    flood: &Flood,
    pid: u32,
    watch: Watch,
) -> anyhow::Result<FloodReport> {
    let (rss_before_kib, _) = procfs::memory_kib(pid)?;
    let sampler = Sampler::start(watch);
    let next = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let start = Instant::now();

    let probe = {
        let (client, plan, done) = (client.clone(), plan.clone(), done.clone());
        tokio::spawn(async move {
            let mut recorder = Recorder::new();
            while !done.load(Ordering::Relaxed) {
                flow::run(&client, &plan, Instant::now(), &mut recorder).await;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            recorder
        })
    };
    let workers: Vec<_> = (0..flood.concurrency)
        .map(|_| {
            let (client, next, app) = (client.clone(), next.clone(), plan.app.clone());
            let (total, navigate) = (flood.views, flood.navigate);
            tokio::spawn(async move { view_loop(client, app, next, total, navigate).await })
        })
        .collect();
    let mut home = Recorder::new();
    let mut statuses = BTreeMap::new();
    for worker in workers {
        if let Ok((recorder, counts)) = worker.await {
            home.merge(recorder);
            for (status, n) in counts {
                *statuses.entry(status).or_insert(0) += n;
            }
        }
    }
    let elapsed = start.elapsed();
    done.store(true, Ordering::Relaxed);
    let during = probe.await.unwrap_or_default();
    let (rss_after_kib, vm_hwm_kib) = procfs::memory_kib(pid)?;

    let mut after = Recorder::new();
    for _ in 0..flood.flows_after {
        flow::run(client, plan, Instant::now(), &mut after).await;
    }
    let samples = sampler.stop();
    let stored = statuses.get(&200).copied().unwrap_or(0).max(1);
    let grown = rss_after_kib.saturating_sub(rss_before_kib) as f64 * 1024.0;
    Ok(FloodReport {
        views: flood.views,
        elapsed_s: elapsed.as_secs_f64(),
        views_per_sec: flood.views as f64 / elapsed.as_secs_f64(),
        statuses,
        home: home.summary().remove(&Step::Home),
        rss_before_kib,
        rss_after_kib,
        rss_peak_kib: samples.peak_rss_kib.max(rss_after_kib),
        vm_hwm_kib,
        bytes_per_visitor: grown / stored as f64,
        during: during.summary(),
        during_ok: during.flows_ok,
        during_failed: during.flows_failed,
        after: after.summary(),
        after_ok: after.flows_ok,
        after_failed: after.flows_failed,
    })
}

/// One worker: views until `total` have been taken, each a fresh cookie-less browser.
async fn view_loop(
    client: Client,
    app: Url,
    next: Arc<AtomicU64>,
    total: u64,
    navigate: bool,
) -> (Recorder, BTreeMap<u16, u64>) {
    let mut recorder = Recorder::new();
    let mut counts = BTreeMap::new();
    let browser = Browser::new(client.clone(), false);
    while next.fetch_add(1, Ordering::Relaxed) < total {
        let started = Instant::now();
        let response = if navigate {
            browser.navigate(&app, SecFetchSite::None, None).await
        } else {
            client.get(app.clone()).send().await.map_err(Into::into)
        };
        let status = match response {
            Ok(response) => {
                let status = response.status().as_u16();
                let _ = response.bytes().await;
                status
            }
            Err(_) => 0,
        };
        recorder.record(Step::Home, started.elapsed());
        *counts.entry(status).or_insert(0) += 1;
    }
    (recorder, counts)
}

impl FloodReport {
    pub fn print(&self) {
        println!(
            "== flood: {} anonymous home views in {:.1} s ({:.0}/s), statuses {:?}",
            self.views, self.elapsed_s, self.views_per_sec, self.statuses
        );
        if let Some(h) = &self.home {
            println!(
                "  home: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
                h.p50_ms, h.p99_ms, h.max_ms
            );
        }
        println!(
            "  app RSS {} -> {} KiB, peak {} KiB, VmHWM {} KiB: {:.0} bytes per stored visitor",
            self.rss_before_kib,
            self.rss_after_kib,
            self.rss_peak_kib,
            self.vm_hwm_kib,
            self.bytes_per_visitor
        );
        for (when, ok, failed, steps) in [
            ("during", self.during_ok, self.during_failed, &self.during),
            ("after", self.after_ok, self.after_failed, &self.after),
        ] {
            println!("  real sign-ins {when} the flood: {ok} ok, {failed} failed");
            for (step, s) in steps {
                println!(
                    "    {:<10} p50 {:>8.2} ms  p99 {:>8.2} ms  errors {} {}",
                    step.name(),
                    s.p50_ms,
                    s.p99_ms,
                    s.errors,
                    s.first_error.as_deref().unwrap_or("")
                );
            }
        }
    }
}
