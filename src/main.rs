//! The `photo-connect` binary: read the configuration, start the app (and the demo provider when
//! no real provider is configured), serve until Ctrl-C or SIGTERM. Run with `cargo run`.

use anyhow::Context;
use photo_connect::{config::Config, telemetry};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // A missing `.env` is fine: every variable has a default or is reported by name below.
    dotenvy::dotenv().ok();
    telemetry::init();

    let config = Config::from_env().context("invalid configuration")?;
    #[cfg(feature = "demo")] // DEMO-PROVIDER
    let app = photo_connect::demo::bind_if_unconfigured(config).await?; // DEMO-PROVIDER
    #[cfg(not(feature = "demo"))] // DEMO-PROVIDER
    let app = photo_connect::Application::bind(config).await?;
    app.run_until_stopped().await
}
