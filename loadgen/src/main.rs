//! `loadgen`: drives a running photo-connect and provider through the whole sign-in with
//! virtual browsers (`run`), floods the home page (`flood`), or starts the provider, the app
//! and a bare baseline client and compares them (`compare`). See `BENCHMARKS.md`.

mod browser;
mod cli;
mod compare;
mod flood;
mod flow;
mod measure;
mod procfs;
mod report;
mod run;
mod stack;
mod stats;

use std::net::Ipv4Addr;

use anyhow::bail;
use clap::Parser;
use cli::{Cli, Command, CompareArgs, FloodArgs, RunArgs, Target};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Run(args) => run(args, cli.json).await,
        Command::Flood(args) => flood_cmd(args, cli.json).await,
        Command::Compare(args) => compare_cmd(args, cli.json).await,
    }
}

fn plan(target: &Target, extra_photos: u32) -> flow::FlowPlan {
    flow::FlowPlan {
        app: target.app.clone(),
        user: target.user.clone(),
        extra_photos,
    }
}

async fn run(args: RunArgs, json: bool) -> anyhow::Result<()> {
    let t = &args.target;
    let http = browser::client(Some(t.source.into()), args.users.max(64))?;
    let plan = plan(t, args.photos);
    let load = match (args.rate, args.duration, args.flows) {
        (Some(rate), Some(duration), None) if rate > 0.0 => run::Load::Open {
            rate,
            duration,
            max_in_flight: args.max_in_flight,
        },
        (Some(_), _, _) => bail!("--rate needs --duration and a positive rate, and no --flows"),
        (None, duration, flows) if duration.is_some() || flows.is_some() => run::Load::Closed {
            users: args.users,
            flows,
            duration,
        },
        (None, _, _) => {
            bail!("give --flows F or --duration D (closed loop), or --rate R --duration D")
        }
    };
    let warmup = run::Load::Closed {
        users: args.users,
        flows: Some(args.warmup),
        duration: None,
    };
    run::run(&http, &plan, warmup).await;
    let pids = measure::Pids {
        app: t.app_pid,
        provider: t.provider_pid,
    };
    let provider = (*t.provider.ip(), t.provider.port());
    let report = measure::measure(t.app.as_str(), &http, &plan, load, pids, provider).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        report.print();
    }
    Ok(())
}

async fn flood_cmd(args: FloodArgs, json: bool) -> anyhow::Result<()> {
    let t = &args.target;
    let Some(pid) = t.app_pid else {
        bail!("flood needs --app-pid: it reports the app's memory");
    };
    let http = browser::client(Some(t.source.into()), args.concurrency.max(64))?;
    let flood = flood::Flood {
        views: args.views,
        concurrency: args.concurrency,
        navigate: !args.no_navigate,
        flows_after: args.flows_after,
    };
    let watch = procfs::Watch {
        pid: Some(pid),
        provider_pid: t.provider_pid,
        client_ip: Ipv4Addr::LOCALHOST,
        provider: (*t.provider.ip(), t.provider.port()),
    };
    let report = flood::flood(&http, &plan(t, 0), &flood, pid, watch).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        report.print();
    }
    Ok(())
}

async fn compare_cmd(args: CompareArgs, json: bool) -> anyhow::Result<()> {
    let bin_dir = match args.bin_dir {
        Some(dir) => dir,
        None => stack::default_bin_dir()?,
    };
    let plan = compare::Plan {
        bin_dir,
        out_dir: args.out.clone(),
        users: args.users,
        flows_per_user: args.flows,
        extra_photos: args.photos,
        open_fraction: args.open_fraction,
        open_duration: args.open_duration,
        max_in_flight: args.max_in_flight,
        flood: (args.flood_views > 0).then_some(flood::Flood {
            views: args.flood_views,
            concurrency: args.flood_concurrency,
            navigate: true,
            flows_after: 20,
        }),
        warmup_flows: args.warmup,
    };
    let comparison = compare::compare(&plan).await?;
    let text = serde_json::to_string_pretty(&comparison)?;
    std::fs::write(args.out.join("compare.json"), &text)?;
    if json {
        println!("{text}");
    }
    Ok(())
}
