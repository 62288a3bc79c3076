//! The two ways to apply load. Closed loop: N users, each starting its next flow when the last
//! one ends. Open loop: flows start on a fixed schedule whatever happens to earlier ones, each
//! measured from its scheduled start, with a cap on flows in flight that is counted when hit.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use reqwest::Client;
use tokio::sync::Semaphore;

use crate::{
    flow::{self, FlowPlan},
    stats::Recorder,
};

/// How much load, and of which kind.
#[derive(Clone, Copy, Debug)]
pub enum Load {
    /// `users` concurrent users, each running `flows` flows (or until `duration` ends).
    Closed {
        users: usize,
        flows: Option<u64>,
        duration: Option<Duration>,
    },
    /// `rate` flows a second for `duration`, at most `max_in_flight` at once.
    Open {
        rate: f64,
        duration: Duration,
        max_in_flight: usize,
    },
}

/// What a run measured.
pub struct Outcome {
    pub recorder: Recorder,
    pub elapsed: Duration,
    /// Open loop: how many flows found the in-flight cap full and started late (still
    /// measured from their scheduled start).
    pub cap_hits: u64,
    pub peak_in_flight: usize,
}

/// Runs `load` against the app; returns when every flow has ended.
pub async fn run(client: &Client, plan: &FlowPlan, load: Load) -> Outcome {
    match load {
        Load::Closed {
            users,
            flows,
            duration,
        } => closed(client, plan, users, flows, duration).await,
        Load::Open {
            rate,
            duration,
            max_in_flight,
        } => open(client, plan, rate, duration, max_in_flight).await,
    }
}

async fn closed(
    client: &Client,
    plan: &FlowPlan,
    users: usize,
    flows: Option<u64>,
    duration: Option<Duration>,
) -> Outcome {
    let start = Instant::now();
    let deadline = duration.map(|d| start + d);
    let tasks: Vec<_> = (0..users)
        .map(|_| {
            let (client, plan) = (client.clone(), plan.clone());
            tokio::spawn(async move {
                let mut recorder = Recorder::new();
                let mut done = 0;
                while flows.is_none_or(|f| done < f) && deadline.is_none_or(|d| Instant::now() < d)
                {
                    flow::run(&client, &plan, Instant::now(), &mut recorder).await;
                    done += 1;
                }
                recorder
            })
        })
        .collect();
    let mut recorder = Recorder::new();
    for task in tasks {
        if let Ok(part) = task.await {
            recorder.merge(part);
        }
    }
    Outcome {
        recorder,
        elapsed: start.elapsed(),
        cap_hits: 0,
        peak_in_flight: users,
    }
}

/// When flow `index` is due: `index / rate` seconds after the start.
pub fn scheduled_offset(index: u64, rate: f64) -> Duration {
    Duration::from_secs_f64(index as f64 / rate)
}

/// How many flows `rate` a second make in `duration`.
pub fn scheduled_count(rate: f64, duration: Duration) -> u64 {
    (rate * duration.as_secs_f64()).floor() as u64
}

async fn open(
    client: &Client,
    plan: &FlowPlan,
    rate: f64,
    duration: Duration,
    max_in_flight: usize,
) -> Outcome {
    let shared = Arc::new(Mutex::new(Recorder::new()));
    let slots = Arc::new(Semaphore::new(max_in_flight));
    let start = Instant::now();
    let (mut cap_hits, mut peak) = (0, 0);
    let mut tasks = Vec::new();
    for index in 0..scheduled_count(rate, duration) {
        let due = start + scheduled_offset(index, rate);
        tokio::time::sleep_until(due.into()).await;
        let permit = match slots.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                cap_hits += 1;
                match slots.clone().acquire_owned().await {
                    Ok(permit) => permit,
                    Err(_) => break, // never closed
                }
            }
        };
        peak = peak.max(max_in_flight - slots.available_permits());
        let (client, plan, shared) = (client.clone(), plan.clone(), shared.clone());
        tasks.push(tokio::spawn(async move {
            let mut recorder = Recorder::new();
            flow::run(&client, &plan, due, &mut recorder).await;
            drop(permit);
            if let Ok(mut all) = shared.lock() {
                all.merge(recorder);
            }
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
    let recorder = match Arc::try_unwrap(shared) {
        Ok(mutex) => mutex.into_inner().unwrap_or_default(),
        Err(_) => Recorder::new(),
    };
    Outcome {
        recorder,
        elapsed: start.elapsed(),
        cap_hits,
        peak_in_flight: peak,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_open_loop_schedule_is_evenly_spaced_and_independent_of_progress() {
        assert_eq!(scheduled_count(20.0, Duration::from_secs(10)), 200);
        assert_eq!(scheduled_count(2.5, Duration::from_millis(1900)), 4);
        assert_eq!(scheduled_offset(0, 20.0), Duration::ZERO);
        assert_eq!(scheduled_offset(1, 20.0), Duration::from_millis(50));
        assert_eq!(scheduled_offset(199, 20.0), Duration::from_millis(9950));
    }
}
