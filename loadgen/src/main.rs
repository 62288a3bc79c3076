//! `loadgen`: drives a running photo-connect and provider through the whole sign-in with
//! virtual browsers (`run`), floods the home page (`flood`), or starts the provider, the app
//! and a bare baseline client and compares them (`compare`). See `BENCHMARKS.md`.

mod browser;
mod compare;
mod flood;
mod flow;
mod measure;
mod procfs;
mod report;
mod run;
mod stack;
mod stats;

use std::{
    net::{Ipv4Addr, SocketAddrV4},
    path::PathBuf,
    time::Duration,
};

use anyhow::bail;
use clap::{Args, Parser, Subcommand};
use url::Url;

#[derive(Parser)]
#[command(
    version,
    about = "Load generator for photo-connect (see BENCHMARKS.md)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Print JSON instead of the human table.
    #[arg(long, global = true)]
    json: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Whole sign-ins against a running app and provider.
    Run(RunArgs),
    /// Anonymous home-page views without cookies, with real sign-ins during and after.
    Flood(FloodArgs),
    /// Start the provider, the bare client and photo-connect, and compare them.
    Compare(CompareArgs),
}

#[derive(Args)]
struct Target {
    /// The app's home page (its APP_URL).
    #[arg(long, default_value = "http://localhost:3000/")]
    app: Url,
    /// The provider's address, to count the app's connections to it.
    #[arg(long, default_value = "127.0.0.1:3001")]
    provider: SocketAddrV4,
    #[arg(long)]
    app_pid: Option<u32>,
    #[arg(long)]
    provider_pid: Option<u32>,
    /// The demo user who approves.
    #[arg(long, default_value = "alice")]
    user: String,
    /// Source address of the load generator's sockets (so the app's are told apart).
    #[arg(long, default_value = "127.0.0.2")]
    source: Ipv4Addr,
}

#[derive(Args)]
struct RunArgs {
    #[command(flatten)]
    target: Target,
    /// Closed loop: concurrent users.
    #[arg(long, default_value_t = 64)]
    users: usize,
    /// Closed loop: flows per user.
    #[arg(long)]
    flows: Option<u64>,
    /// Seconds: closed loop until then, or the open loop's length.
    #[arg(long, value_parser = seconds)]
    duration: Option<Duration>,
    /// Open loop: flows started per second, on schedule.
    #[arg(long)]
    rate: Option<f64>,
    /// Open loop: most flows in flight (reported when hit).
    #[arg(long, default_value_t = 1024)]
    max_in_flight: usize,
    /// More /photos views after the first, per flow.
    #[arg(long, default_value_t = 0)]
    photos: u32,
    /// Unmeasured flows per user first.
    #[arg(long, default_value_t = 1)]
    warmup: u64,
}

#[derive(Args)]
struct FloodArgs {
    #[command(flatten)]
    target: Target,
    #[arg(long, default_value_t = 100_000)]
    views: u64,
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Send no navigation headers (the app then starts no sign-in).
    #[arg(long)]
    no_navigate: bool,
    #[arg(long, default_value_t = 20)]
    flows_after: u64,
}

#[derive(Args)]
struct CompareArgs {
    /// Where the release binaries are (default: beside this one).
    #[arg(long)]
    bin_dir: Option<PathBuf>,
    /// Logs and the JSON result go here.
    #[arg(long, default_value = "target/loadgen")]
    out: PathBuf,
    #[arg(long, default_value_t = 64)]
    users: usize,
    #[arg(long, default_value_t = 20)]
    flows: u64,
    #[arg(long, default_value_t = 0)]
    photos: u32,
    #[arg(long, default_value_t = 2)]
    warmup: u64,
    /// Open loop at this fraction of the bare client's closed-loop flows/s (0: skip).
    #[arg(long, default_value_t = 0.5)]
    open_fraction: f64,
    #[arg(long, value_parser = seconds, default_value = "20")]
    open_duration: Duration,
    #[arg(long, default_value_t = 1024)]
    max_in_flight: usize,
    /// Anonymous home views of the flood phase (0: skip).
    #[arg(long, default_value_t = 0)]
    flood_views: u64,
    #[arg(long, default_value_t = 32)]
    flood_concurrency: usize,
}

/// `30`, `30s` or `2.5` seconds.
fn seconds(text: &str) -> Result<Duration, String> {
    let number = text.trim().trim_end_matches('s');
    number
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s > 0.0)
        .map(Duration::from_secs_f64)
        .ok_or_else(|| format!("{text:?} is not a number of seconds"))
}

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
