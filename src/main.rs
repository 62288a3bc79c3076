//! The `photo-connect` binary: read the configuration, start the app (and the demo provider when no
//! real provider is configured), serve until Ctrl-C or SIGTERM. Run with `cargo run`.

use anyhow::Context;
use photo_connect::{Application, config::Config, telemetry};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // A missing `.env` is fine: every variable has a default or is reported by name below.
    dotenvy::dotenv().ok();
    telemetry::init();

    let config = Config::from_env().context("invalid configuration")?;
    let app = Application::bind(config).await?;
    let app = photo_connect::demo_provider::start_for(app).await?; // DEMO-PROVIDER
    app.run_until_stopped().await
}
