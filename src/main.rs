//! The `photo-connect` binary: read the configuration, start the app, serve until Ctrl-C or
//! SIGTERM. Run with `cargo run`.

use std::process::ExitCode;

use anyhow::{Context, bail};
use photo_connect::{config::Config, telemetry};

const ABOUT: &str = "An OAuth 2.0 client (authorization code + PKCE) as a server-side web app.";

/// `--help` prints every environment variable: the text of `.env.example`, kept in one place.
fn cli() -> clap::Command {
    let mut long_about = String::from(ABOUT);
    #[cfg(feature = "demo")] // DEMO-PROVIDER
    long_about.push_str(" With no provider configured it starts an embedded demo provider: run it and open the URL it prints."); // DEMO-PROVIDER
    long_about.push_str(" Everything is configured with environment variables (or a .env file):");
    clap::Command::new(env!("CARGO_PKG_NAME"))
        .version(env!("CARGO_PKG_VERSION"))
        .about(ABOUT)
        .long_about(long_about)
        .after_help(include_str!("../.env.example"))
}

/// Startup errors end as one `error: …` line (the cause chain, never a backtrace) and exit 1.
fn main() -> ExitCode {
    cli().get_matches();
    match start() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

#[tokio::main]
async fn start() -> anyhow::Result<()> {
    // A missing `.env` is fine: every variable has a default or is reported by name below.
    match dotenvy::dotenv() {
        Err(err) if !err.not_found() => bail!("cannot read .env: {err}"),
        _ => {}
    }
    // Held to the end: dropping it flushes the last log lines (before the error, if any).
    let _logs = telemetry::init()?;

    let config = Config::from_env().context("invalid configuration")?;
    #[cfg(feature = "demo")] // DEMO-PROVIDER
    let app = photo_connect::demo::bind_if_unconfigured(config).await?; // DEMO-PROVIDER
    #[cfg(not(feature = "demo"))] // DEMO-PROVIDER
    let app = photo_connect::Application::bind(config).await?;
    app.run_until_stopped().await
}
