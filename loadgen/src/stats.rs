//! Latency and error bookkeeping: one histogram per step (microseconds), errors per step with
//! the first error's text, and the summary (percentiles) that reports print.

use std::{collections::BTreeMap, time::Duration};

use hdrhistogram::Histogram;
use serde::Serialize;

/// The steps of one sign-in, in order, and the whole flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Step {
    Home,
    Authorize,
    Consent,
    Callback,
    Photos,
    /// The whole flow, from its scheduled start (open loop) or its start (closed loop).
    Flow,
}

impl Step {
    pub const ALL: [Step; 6] = [
        Step::Home,
        Step::Authorize,
        Step::Consent,
        Step::Callback,
        Step::Photos,
        Step::Flow,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Step::Home => "home",
            Step::Authorize => "authorize",
            Step::Consent => "consent",
            Step::Callback => "callback",
            Step::Photos => "photos",
            Step::Flow => "flow",
        }
    }
}

/// Latencies and errors of one run (or of one worker, merged later).
pub struct Recorder {
    latencies: BTreeMap<Step, Histogram<u64>>,
    errors: BTreeMap<Step, (u64, String)>,
    pub flows_ok: u64,
    pub flows_failed: u64,
}

impl Default for Recorder {
    fn default() -> Self {
        Self::new()
    }
}

impl Recorder {
    pub fn new() -> Self {
        // 3 significant digits, auto-resizing (creation fails only above 5 digits).
        let latencies = Step::ALL
            .iter()
            .filter_map(|step| Some((*step, Histogram::new(3).ok()?)))
            .collect();
        Self {
            latencies,
            errors: BTreeMap::new(),
            flows_ok: 0,
            flows_failed: 0,
        }
    }

    pub fn record(&mut self, step: Step, took: Duration) {
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX).max(1);
        if let Some(histogram) = self.latencies.get_mut(&step)
            && histogram.record(micros).is_err()
        {
            histogram.saturating_record(micros);
        }
    }

    pub fn error(&mut self, step: Step, text: String) {
        let entry = self.errors.entry(step).or_insert((0, text));
        entry.0 += 1;
    }

    pub fn merge(&mut self, other: Recorder) {
        for (step, histogram) in other.latencies {
            match self.latencies.get_mut(&step) {
                Some(mine) => {
                    // Both auto-resize: adding cannot fail.
                    let _ = mine.add(&histogram);
                }
                None => {
                    self.latencies.insert(step, histogram);
                }
            }
        }
        for (step, (count, text)) in other.errors {
            self.errors.entry(step).or_insert((0, text)).0 += count;
        }
        self.flows_ok += other.flows_ok;
        self.flows_failed += other.flows_failed;
    }

    pub fn summary(&self) -> BTreeMap<Step, StepSummary> {
        let mut out = BTreeMap::new();
        for step in Step::ALL {
            let (errors, first_error) = match self.errors.get(&step) {
                Some((count, text)) => (*count, Some(text.clone())),
                None => (0, None),
            };
            let Some(h) = self.latencies.get(&step).filter(|h| !h.is_empty()) else {
                if errors > 0 {
                    out.insert(step, StepSummary::errors_only(errors, first_error));
                }
                continue;
            };
            let ms = |micros: u64| micros as f64 / 1000.0;
            out.insert(
                step,
                StepSummary {
                    count: h.len(),
                    p50_ms: ms(h.value_at_quantile(0.50)),
                    p90_ms: ms(h.value_at_quantile(0.90)),
                    p99_ms: ms(h.value_at_quantile(0.99)),
                    max_ms: ms(h.max()),
                    errors,
                    first_error,
                },
            );
        }
        out
    }
}

/// One step's numbers in a report.
#[derive(Clone, Debug, Serialize)]
pub struct StepSummary {
    pub count: u64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub errors: u64,
    pub first_error: Option<String>,
}

impl StepSummary {
    fn errors_only(errors: u64, first_error: Option<String>) -> Self {
        Self {
            count: 0,
            p50_ms: 0.0,
            p90_ms: 0.0,
            p99_ms: 0.0,
            max_ms: 0.0,
            errors,
            first_error,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_errors_and_merge() {
        let mut a = Recorder::new();
        for ms in 1..=100 {
            a.record(Step::Home, Duration::from_millis(ms));
        }
        let mut b = Recorder::new();
        b.error(Step::Consent, "HTTP 403".into());
        b.error(Step::Consent, "later".into());
        b.flows_failed = 2;
        a.merge(b);
        let s = a.summary();
        let home = &s[&Step::Home];
        assert_eq!(home.count, 100);
        assert!((home.p50_ms - 50.0).abs() < 0.1, "{}", home.p50_ms);
        assert!((home.p99_ms - 99.0).abs() < 0.1, "{}", home.p99_ms);
        assert!((home.max_ms - 100.0).abs() < 0.1);
        let consent = &s[&Step::Consent];
        assert_eq!(consent.errors, 2);
        assert_eq!(consent.first_error.as_deref(), Some("HTTP 403"));
        assert_eq!(a.flows_failed, 2);
    }
}
