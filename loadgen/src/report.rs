//! A run's report: the numbers (serialized as JSON for machines) and the human table.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::stats::{Step, StepSummary};

/// One measured run against one target.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub target: String,
    pub mode: String,
    pub flows_ok: u64,
    pub flows_failed: u64,
    pub elapsed_s: f64,
    pub flows_per_sec: f64,
    pub steps: BTreeMap<Step, StepSummary>,
    /// Open loop: flows that found the in-flight cap full (they started late, and their
    /// latency still counts from the scheduled start).
    pub cap_hits: u64,
    pub peak_in_flight: usize,
    /// The client under test (`--app-pid`).
    pub app: Option<ProcessReport>,
    pub provider: Option<ProcessReport>,
    /// TCP connections from the client to the provider first seen during the run, and the most
    /// the client held open at once.
    pub provider_connections_new: Option<usize>,
    pub provider_connections_peak_open: Option<usize>,
    /// This load generator's own CPU, for scale.
    pub loadgen_cpu_ms_per_flow: f64,
}

/// CPU and memory of one process over the measured window.
#[derive(Clone, Debug, Serialize)]
pub struct ProcessReport {
    pub cpu_seconds: f64,
    pub cpu_ms_per_flow: f64,
    pub rss_before_kib: u64,
    pub rss_after_kib: u64,
    pub rss_peak_sampled_kib: u64,
    /// `VmHWM`: the peak since the process started.
    pub vm_hwm_kib: u64,
}

impl Report {
    /// The human table.
    pub fn print(&self) {
        println!(
            "== {} ({}): {} flows ok, {} failed in {:.1} s: {:.1} flows/s",
            self.target,
            self.mode,
            self.flows_ok,
            self.flows_failed,
            self.elapsed_s,
            self.flows_per_sec
        );
        println!(
            "  {:<10} {:>7} {:>9} {:>9} {:>9} {:>9} {:>7}  first error",
            "step", "count", "p50 ms", "p90 ms", "p99 ms", "max ms", "errors"
        );
        for (step, s) in &self.steps {
            println!(
                "  {:<10} {:>7} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>7}  {}",
                step.name(),
                s.count,
                s.p50_ms,
                s.p90_ms,
                s.p99_ms,
                s.max_ms,
                s.errors,
                s.first_error.as_deref().unwrap_or("")
            );
        }
        if self.mode.starts_with("open") {
            println!(
                "  in flight: peak {}, cap hit {} times",
                self.peak_in_flight, self.cap_hits
            );
        }
        for (name, process) in [("app", &self.app), ("provider", &self.provider)] {
            if let Some(p) = process {
                println!(
                    "  {name}: {:.3} CPU ms/flow ({:.2} s), RSS {} -> {} KiB, sampled peak {} KiB, VmHWM {} KiB",
                    p.cpu_ms_per_flow,
                    p.cpu_seconds,
                    p.rss_before_kib,
                    p.rss_after_kib,
                    p.rss_peak_sampled_kib,
                    p.vm_hwm_kib
                );
            }
        }
        if let (Some(new), Some(peak)) = (
            self.provider_connections_new,
            self.provider_connections_peak_open,
        ) {
            println!("  connections to the provider: {new} new, at most {peak} open at once");
        }
        println!(
            "  loadgen itself: {:.3} CPU ms/flow",
            self.loadgen_cpu_ms_per_flow
        );
    }
}
