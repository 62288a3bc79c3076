//! The command line: `loadgen run`, `loadgen flood` and `loadgen compare`, and their flags.

use std::{
    net::{Ipv4Addr, SocketAddrV4},
    path::PathBuf,
    time::Duration,
};

use clap::{Args, Parser, Subcommand};
use url::Url;

#[derive(Parser)]
#[command(
    version,
    about = "Load generator for photo-connect (see BENCHMARKS.md)"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Print JSON instead of the human table.
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Subcommand)]
pub enum Command {
    /// Whole sign-ins against a running app and provider.
    Run(RunArgs),
    /// Anonymous home-page views without cookies, with real sign-ins during and after.
    Flood(FloodArgs),
    /// Start the provider, the bare client and photo-connect, and compare them.
    Compare(CompareArgs),
}

#[derive(Args)]
pub struct Target {
    /// The app's home page (its APP_URL).
    #[arg(long, default_value = "http://localhost:3000/")]
    pub app: Url,
    /// The provider's address, to count the app's connections to it.
    #[arg(long, default_value = "127.0.0.1:3001")]
    pub provider: SocketAddrV4,
    #[arg(long)]
    pub app_pid: Option<u32>,
    #[arg(long)]
    pub provider_pid: Option<u32>,
    /// The demo user who approves.
    #[arg(long, default_value = "alice")]
    pub user: String,
    /// Source address of the load generator's sockets (so the app's are told apart).
    #[arg(long, default_value = "127.0.0.2")]
    pub source: Ipv4Addr,
}

#[derive(Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub target: Target,
    /// Closed loop: concurrent users.
    #[arg(long, default_value_t = 64)]
    pub users: usize,
    /// Closed loop: flows per user.
    #[arg(long)]
    pub flows: Option<u64>,
    /// Seconds: closed loop until then, or the open loop's length.
    #[arg(long, value_parser = seconds)]
    pub duration: Option<Duration>,
    /// Open loop: flows started per second, on schedule.
    #[arg(long)]
    pub rate: Option<f64>,
    /// Open loop: most flows in flight (reported when hit).
    #[arg(long, default_value_t = 1024)]
    pub max_in_flight: usize,
    /// More /photos views after the first, per flow.
    #[arg(long, default_value_t = 0)]
    pub photos: u32,
    /// Unmeasured flows per user first.
    #[arg(long, default_value_t = 1)]
    pub warmup: u64,
}

#[derive(Args)]
pub struct FloodArgs {
    #[command(flatten)]
    pub target: Target,
    #[arg(long, default_value_t = 100_000)]
    pub views: u64,
    #[arg(long, default_value_t = 32)]
    pub concurrency: usize,
    /// Send no navigation headers (the app then starts no sign-in).
    #[arg(long)]
    pub no_navigate: bool,
    #[arg(long, default_value_t = 20)]
    pub flows_after: u64,
}

#[derive(Args)]
pub struct CompareArgs {
    /// Where the release binaries are (default: beside this one).
    #[arg(long)]
    pub bin_dir: Option<PathBuf>,
    /// Logs and the JSON result go here.
    #[arg(long, default_value = "target/loadgen")]
    pub out: PathBuf,
    #[arg(long, default_value_t = 64)]
    pub users: usize,
    #[arg(long, default_value_t = 20)]
    pub flows: u64,
    #[arg(long, default_value_t = 0)]
    pub photos: u32,
    #[arg(long, default_value_t = 2)]
    pub warmup: u64,
    /// Open loop at this fraction of the bare client's closed-loop flows/s (0: skip).
    #[arg(long, default_value_t = 0.5)]
    pub open_fraction: f64,
    #[arg(long, value_parser = seconds, default_value = "20")]
    pub open_duration: Duration,
    #[arg(long, default_value_t = 1024)]
    pub max_in_flight: usize,
    /// Anonymous home views of the flood phase (0: skip).
    #[arg(long, default_value_t = 0)]
    pub flood_views: u64,
    #[arg(long, default_value_t = 32)]
    pub flood_concurrency: usize,
}

/// `30`, `30s` or `2.5` seconds.
pub fn seconds(text: &str) -> Result<Duration, String> {
    let number = text.trim().trim_end_matches('s');
    number
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s > 0.0)
        .map(Duration::from_secs_f64)
        .ok_or_else(|| format!("{text:?} is not a number of seconds"))
}
