//! One measured run: CPU and memory read before and after, the sampler running during it, and
//! the load in between; the result is a [`Report`].

use std::net::Ipv4Addr;

use reqwest::Client;

use crate::{
    flow::FlowPlan,
    procfs::{self, Sampler, Watch},
    report::{ProcessReport, Report},
    run::{self, Load},
};

/// The processes to watch.
#[derive(Clone, Copy, Debug, Default)]
pub struct Pids {
    pub app: Option<u32>,
    pub provider: Option<u32>,
}

/// Runs `load` and reports it, with the processes in `pids` watched.
pub async fn measure(
    target: &str,
    client: &Client,
    plan: &FlowPlan,
    load: Load,
    pids: Pids,
    provider: (Ipv4Addr, u16),
) -> anyhow::Result<Report> {
    let before = Snapshot::take(pids)?;
    let me = procfs::cpu_seconds(std::process::id())?;
    let sampler = Sampler::start(Watch {
        pid: pids.app,
        provider_pid: pids.provider,
        client_ip: Ipv4Addr::LOCALHOST,
        provider,
    });
    let outcome = run::run(client, plan, load).await;
    let samples = sampler.stop();
    let after = Snapshot::take(pids)?;
    let me = procfs::cpu_seconds(std::process::id())? - me;

    let flows = outcome.recorder.flows_ok + outcome.recorder.flows_failed;
    let per_flow = |cpu: f64| cpu * 1000.0 / flows.max(1) as f64;
    let process = |b: Option<Mem>, a: Option<Mem>, peak: u64| {
        let (b, a) = (b?, a?);
        let cpu = a.cpu - b.cpu;
        Some(ProcessReport {
            cpu_seconds: cpu,
            cpu_ms_per_flow: per_flow(cpu),
            rss_before_kib: b.rss,
            rss_after_kib: a.rss,
            rss_peak_sampled_kib: peak.max(a.rss),
            vm_hwm_kib: a.hwm,
        })
    };
    let mode = match load {
        Load::Closed { users, .. } => format!("closed loop, {users} users"),
        Load::Open {
            rate,
            max_in_flight,
            ..
        } => format!("open loop, {rate:.1} flows/s, cap {max_in_flight}"),
    };
    Ok(Report {
        target: target.to_owned(),
        mode,
        flows_ok: outcome.recorder.flows_ok,
        flows_failed: outcome.recorder.flows_failed,
        elapsed_s: outcome.elapsed.as_secs_f64(),
        flows_per_sec: outcome.recorder.flows_ok as f64 / outcome.elapsed.as_secs_f64(),
        steps: outcome.recorder.summary(),
        cap_hits: outcome.cap_hits,
        peak_in_flight: outcome.peak_in_flight,
        app: process(before.app, after.app, samples.peak_rss_kib),
        provider: process(
            before.provider,
            after.provider,
            samples.provider_peak_rss_kib,
        ),
        provider_connections_new: pids.app.map(|_| samples.new_connections),
        provider_connections_peak_open: pids.app.map(|_| samples.peak_open),
        loadgen_cpu_ms_per_flow: per_flow(me),
    })
}

/// CPU seconds and memory of one process at one moment.
#[derive(Clone, Copy, Debug)]
struct Mem {
    cpu: f64,
    rss: u64,
    hwm: u64,
}

impl Mem {
    fn read(pid: u32) -> anyhow::Result<Self> {
        let (rss, hwm) = procfs::memory_kib(pid)?;
        Ok(Self {
            cpu: procfs::cpu_seconds(pid)?,
            rss,
            hwm,
        })
    }
}

#[derive(Clone, Copy, Debug)]
struct Snapshot {
    app: Option<Mem>,
    provider: Option<Mem>,
}

impl Snapshot {
    fn take(pids: Pids) -> anyhow::Result<Self> {
        Ok(Self {
            app: pids.app.map(Mem::read).transpose()?,
            provider: pids.provider.map(Mem::read).transpose()?,
        })
    }
}
