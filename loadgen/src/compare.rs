//! `loadgen compare`: the provider, then each client in turn (bare, photo-connect at its
//! default log level, photo-connect with `RUST_LOG=warn`) as separate processes, the same load
//! against each in one run, and photo-connect's cost as ratios to the bare client's.

use std::{collections::BTreeMap, net::Ipv4Addr, path::PathBuf, time::Duration};

use anyhow::Context;
use serde::Serialize;
use url::Url;

use crate::{
    browser,
    flood::{self, Flood, FloodReport},
    flow::FlowPlan,
    measure::{Pids, measure},
    procfs::Watch,
    report::Report,
    run::Load,
    stack::{Client, Stack},
    stats::Step,
};

/// What `compare` runs.
#[derive(Clone, Debug)]
pub struct Plan {
    pub bin_dir: PathBuf,
    pub out_dir: PathBuf,
    pub users: usize,
    pub flows_per_user: u64,
    pub extra_photos: u32,
    /// Open loop at this fraction of the bare client's closed-loop flows/s (0: none).
    pub open_fraction: f64,
    pub open_duration: Duration,
    pub max_in_flight: usize,
    pub flood: Option<Flood>,
    pub warmup_flows: u64,
}

#[derive(Debug, Serialize)]
pub struct Comparison {
    pub closed: Vec<Report>,
    pub open: Vec<Report>,
    pub flood: Option<FloodReport>,
}

pub async fn compare(plan: &Plan) -> anyhow::Result<Comparison> {
    let stack = Stack::new(plan.bin_dir.clone(), plan.out_dir.clone())?;
    let http = browser::client(Some([127, 0, 0, 2].into()), plan.users.max(64))?;
    let clients = [
        Client::Bare,
        Client::App { rust_log: None },
        Client::App {
            rust_log: Some("warn".into()),
        },
    ];
    let mut comparison = Comparison {
        closed: Vec::new(),
        open: Vec::new(),
        flood: None,
    };
    let mut open_rate = None;
    for which in &clients {
        let closed = Load::Closed {
            users: plan.users,
            flows: Some(plan.flows_per_user),
            duration: None,
        };
        let report = phase(&stack, which, plan, &http, closed).await?;
        let rate = *open_rate.get_or_insert(report.flows_per_sec * plan.open_fraction);
        comparison.closed.push(report);
        if rate > 0.0 {
            let open = Load::Open {
                rate,
                duration: plan.open_duration,
                max_in_flight: plan.max_in_flight,
            };
            comparison
                .open
                .push(phase(&stack, which, plan, &http, open).await?);
        }
    }
    if let Some(flood) = &plan.flood {
        let which = Client::App { rust_log: None };
        let provider = stack
            .provider()
            .await
            .context("starting the demo provider")?;
        let running = stack.client(&which).await?;
        let flow_plan = flow_plan(&which, 0)?;
        let watch = Watch {
            pid: Some(running.pid),
            provider_pid: Some(provider.pid),
            client_ip: Ipv4Addr::LOCALHOST,
            provider: PROVIDER,
        };
        let report = flood::flood(&http, &flow_plan, flood, running.pid, watch).await?;
        report.print();
        comparison.flood = Some(report);
        running.stop().await;
        provider.stop().await;
    }
    print_ratios(&comparison);
    Ok(comparison)
}

const PROVIDER: (Ipv4Addr, u16) = (Ipv4Addr::LOCALHOST, 3001);

fn flow_plan(which: &Client, extra_photos: u32) -> anyhow::Result<FlowPlan> {
    Ok(FlowPlan {
        app: Url::parse(which.url())?,
        user: "alice".into(),
        extra_photos,
    })
}

/// One measurement on fresh processes: a new provider (it keeps every code for 11 minutes and
/// at most 10 000 of them) and a new client, warmed up, then `load`.
async fn phase(
    stack: &Stack,
    which: &Client,
    plan: &Plan,
    http: &reqwest::Client,
    load: Load,
) -> anyhow::Result<Report> {
    if let Load::Open { rate, duration, .. } = load
        && crate::run::scheduled_count(rate, duration) + plan.warmup_flows * plan.users as u64
            > 9_000
    {
        println!("note: more than 9 000 flows: the demo provider may refuse codes past 10 000");
    }
    let provider = stack
        .provider()
        .await
        .context("starting the demo provider")?;
    let running = stack.client(which).await?;
    let pids = Pids {
        app: Some(running.pid),
        provider: Some(provider.pid),
    };
    let flow_plan = flow_plan(which, plan.extra_photos)?;
    let warmup = Load::Closed {
        users: plan.users,
        flows: Some(plan.warmup_flows),
        duration: None,
    };
    crate::run::run(http, &flow_plan, warmup).await;
    let report = measure(&which.name(), http, &flow_plan, load, pids, PROVIDER).await;
    running.stop().await;
    provider.stop().await;
    let report = report?;
    report.print();
    Ok(report)
}

/// `a / b`, or NaN when `b` is 0.
pub fn ratio(a: f64, b: f64) -> f64 {
    if b == 0.0 { f64::NAN } else { a / b }
}

/// Per-step p99 ratios of `report` to `base`.
pub fn p99_ratios(report: &Report, base: &Report) -> BTreeMap<Step, f64> {
    report
        .steps
        .iter()
        .filter_map(|(step, s)| Some((*step, ratio(s.p99_ms, base.steps.get(step)?.p99_ms))))
        .collect()
}

fn print_ratios(comparison: &Comparison) {
    for (kind, reports) in [
        ("closed loop", &comparison.closed),
        ("open loop", &comparison.open),
    ] {
        let Some((base, apps)) = reports.split_first() else {
            continue;
        };
        println!(
            "\n== {kind}: cost relative to {} ({})",
            base.target, base.mode
        );
        for report in apps {
            let cpu = |r: &Report| r.app.as_ref().map_or(f64::NAN, |a| a.cpu_ms_per_flow);
            let p99: Vec<String> = p99_ratios(report, base)
                .iter()
                .map(|(step, r)| format!("{} x{r:.2}", step.name()))
                .collect();
            println!(
                "  {}: CPU/flow x{:.2}, flows/s x{:.2}, p99: {}",
                report.target,
                ratio(cpu(report), cpu(base)),
                ratio(report.flows_per_sec, base.flows_per_sec),
                p99.join(", ")
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_divide_and_refuse_zero() {
        assert_eq!(ratio(3.0, 2.0), 1.5);
        assert!(ratio(1.0, 0.0).is_nan());
    }
}
