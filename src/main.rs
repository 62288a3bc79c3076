//! The `photo-connect` binary: read the configuration, start the app, serve until Ctrl-C or
//! SIGTERM. Run with `cargo run`.

use anyhow::Context;
use photo_connect::{config::Config, telemetry};

const ABOUT: &str = "An OAuth 2.0 client (authorization code + PKCE) as a server-side web app.";

/// `--help` prints every environment variable: the text of `.env.example`, kept in one place.
fn cli() -> clap::Command {
    let mut long_about = String::from(ABOUT);
    #[cfg(feature = "demo")] // DEMO-PROVIDER
    long_about.push_str(" With no provider configured it starts an embedded demo provider: run it and open the URL it prints."); // DEMO-PROVIDER
    long_about.push_str(" Everything is configured with environment variables (or a .env file):");
    clap::Command::new("photo-connect")
        .version(env!("CARGO_PKG_VERSION"))
        .about(ABOUT)
        .long_about(long_about)
        .after_help(include_str!("../.env.example"))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    cli().get_matches();
    // A missing `.env` is fine: every variable has a default or is reported by name below.
    dotenvy::dotenv().ok();
    // Held to the end: dropping it flushes the last log lines.
    let _logs = telemetry::init()?;

    let config = Config::from_env().context("invalid configuration")?;
    #[cfg(feature = "demo")] // DEMO-PROVIDER
    let app = photo_connect::demo::bind_if_unconfigured(config).await?; // DEMO-PROVIDER
    #[cfg(not(feature = "demo"))] // DEMO-PROVIDER
    let app = photo_connect::Application::bind(config).await?;
    app.run_until_stopped().await
}
