//! The demo provider, run alone: the strict local OAuth 2.0 authorization server and photos
//! API, for testing *any* client against it. Run with
//!
//! ```sh
//! DEMO_CLIENT_ID=my-app DEMO_CLIENT_SECRET=$(openssl rand -hex 32) \
//! DEMO_REDIRECT_URIS=http://localhost:8080/callback cargo run -p demo-provider
//! ```
//!
//! Every variable is described in `demo-provider/README.md` and on `DemoSettings::from_lookup`.
//! Not for production: users are hard-coded and everything lives in memory.

use std::io::IsTerminal;

use anyhow::{Context, bail};
use demo_provider::DemoSettings;
use tracing_subscriber::EnvFilter;

/// Logs when `RUST_LOG` is not set: this crate at info, everything else at warn.
const DEFAULT_FILTER: &str = "demo_provider=info,warn";

/// Logs go to stderr (stdout is the tool's output), coloured only on a terminal.
fn init_logs() {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // A missing `.env` is fine: the variables may come from the shell.
    dotenvy::dotenv().ok();
    init_logs();

    let settings = DemoSettings::from_env().context("invalid demo provider settings")?;
    if settings.clients.is_empty() {
        bail!(
            "no client registered: set DEMO_CLIENT_ID, DEMO_CLIENT_SECRET and DEMO_REDIRECT_URIS \
             (space-separated), or DEMO_CLIENTS_FILE (see demo-provider/README.md)"
        );
    }
    let quirks = settings.quirks.enabled();
    let clients: Vec<(String, Vec<String>)> = settings
        .clients
        .iter()
        .map(|c| (c.client_id.clone(), c.redirect_uris.clone()))
        .collect();
    let provider = demo_provider::spawn(settings).await?;
    let issuer = &provider.issuer;

    // Plain stdout: this is the tool's output, not a log line. Secrets are never printed.
    println!("Demo provider (DEMO ONLY, in memory) running; issuer {issuer}");
    println!("  metadata       {issuer}/.well-known/oauth-authorization-server");
    println!("  OpenID config  {issuer}/.well-known/openid-configuration");
    println!("  signing keys   {issuer}/oauth/jwks");
    println!("  authorization  {issuer}/oauth/authorize");
    println!("  pushed (PAR)   {issuer}/oauth/par");
    println!("  token          {issuer}/oauth/token");
    println!("  revocation     {issuer}/oauth/revoke");
    println!("  photos API     {issuer}/api/photos   (scope: photos)");
    for (id, uris) in &clients {
        println!("  client         {id} -> {}", uris.join(" "));
    }
    println!(
        "  quirks         {}",
        if quirks.is_empty() {
            "none".to_owned()
        } else {
            quirks.join(", ")
        }
    );
    println!("Press Ctrl-C to stop.");

    tokio::select! {
        result = tokio::signal::ctrl_c() => result.context("cannot wait for Ctrl-C")?,
        result = provider.task => result.context("the demo provider stopped")?,
    }
    Ok(())
}
