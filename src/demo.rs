//! DEMO-PROVIDER wiring (the default `demo` cargo feature): with no provider configured, start
//! the embedded demo provider, register this app as its client, and hand the app a finished
//! `Config` that *discovers* it (RFC 8414), exactly as it would a real provider; and serve
//! "Try to break it" (`/break-it`, the `attacks` module) beside it.
//!
//! The only place the app names the `demo_provider` crate. To remove the demo, delete this file
//! and the lines tagged `DEMO-PROVIDER` (`scripts/remove-demo-provider.sh` does it).

/// The demo provider crate itself, for the tests that drive it.
pub use demo_provider as provider;
use demo_provider::{DemoProvider, DemoSettings, RegisteredClient, Secret};
use oauth2::ClientSecret;
use url::Url;

use crate::{
    Application,
    attacks::{self, Kit, OtherClient},
    config::{Config, Discovery, ProviderSource, TokenAuth},
    random::random_token,
    startup,
    web::state::WingLink,
};

/// Binds the app, starts the demo provider with the app registered (a fresh random secret
/// unless `OAUTH_CLIENT_SECRET` is set; with `private_key_jwt`, the public key of
/// `OAUTH_CLIENT_KEY_FILE` instead, and the app gets no secret), and points the app at it
/// through discovery.
pub async fn bind(
    config: Config,
    mut settings: DemoSettings,
) -> anyhow::Result<(Application, DemoProvider)> {
    let listener = config.listen.bind().await?;
    let app_url = startup::app_url(&config, &listener)?;
    let secret = config
        .client_secret
        .clone()
        .unwrap_or_else(|| ClientSecret::new(random_token()));
    // With a key, the provider holds only its public half (and refuses any secret for it); the
    // secret it is registered with is never given to the app.
    let jwks = config
        .client_key
        .as_ref()
        .filter(|_| config.token_auth == TokenAuth::PrivateKeyJwt)
        .map(|key| serde_json::json!({ "keys": [key.public_jwk()] }));
    let client_secret = match jwks {
        Some(_) => config.client_secret.clone(),
        None => Some(secret.clone()),
    };
    settings.clients.push(RegisteredClient {
        client_id: config.client_id.to_string(),
        client_secret: Secret::new(secret.secret().clone()),
        redirect_uris: vec![startup::redirect_uri(&app_url)?.to_string()],
        name: "photo-connect".into(),
        require_par: false,
        // OIDC RP-Initiated Logout 1.0 §3.1: the home page, where a logout comes back.
        post_logout_redirect_uris: vec![startup::home_url(&app_url)?.to_string()],
        // OIDC Back-Channel Logout 1.0 §2.2: where the provider's logout tokens go.
        backchannel_logout_uri: Some(startup::backchannel_logout_uri(&app_url)?.to_string()),
        jwks,
    });
    // The attacker's own app, for the attacks of `/break-it` that redeem a code as another client.
    let other_client = OtherClient {
        id: "attacker-app".into(),
        secret: random_token(),
        redirect_uri: "https://attacker.example/cb".into(),
    };
    settings.clients.push(RegisteredClient {
        client_id: other_client.id.clone(),
        client_secret: Secret::new(other_client.secret.clone()),
        redirect_uris: vec![other_client.redirect_uri.clone()],
        name: "Attacker's app".into(),
        require_par: false,
        post_logout_redirect_uris: Vec::new(),
        backchannel_logout_uri: None,
        jwks: None,
    });
    let provider = demo_provider::spawn(settings).await?;
    tracing::info!(issuer = %provider.issuer, "demo provider running (no provider configured)");
    let config = Config {
        // The inspector is on by default here: this is the demo. // INSPECTOR
        flow_inspector: Some(config.flow_inspector.unwrap_or(cfg!(feature = "inspector"))), // INSPECTOR
        app_url: Some(app_url),
        client_secret,
        provider: ProviderSource::Discover(Discovery {
            issuer: provider.issuer.clone(),
            photos_api_url: Url::parse(&format!("{}/api/photos", provider.issuer))?,
            name: Some(demo_provider::DISPLAY_NAME.into()),
            token_url: None,
            revocation_url: None,
            par_url: None,
            allow_unadvertised_pkce: false,
        }),
        ..config
    };
    let client_id = config.client_id.to_string();
    let app = Application::with_listener(config, listener).await?;
    let kit = Kit::new(
        app.app_url().clone(),
        provider.issuer.clone(),
        client_id,
        other_client,
    )?;
    let link = WingLink {
        label: "Try to break it: attacks you can launch, and how they are refused",
        href: "/break-it",
    };
    Ok((app.with_wing(attacks::router(kit), link), provider))
}

/// `main`'s start: with no provider configured, the demo provider from the `DEMO_*` variables
/// and the app pointed at it; otherwise just the app. The provider serves for the life of the
/// process.
pub async fn bind_if_unconfigured(config: Config) -> anyhow::Result<Application> {
    if !matches!(config.provider, ProviderSource::Unconfigured) {
        return Application::bind(config).await;
    }
    let (app, _provider) = bind(config, DemoSettings::from_env()?).await?;
    Ok(app)
}
