//! The scale-out tests' instances as child processes (`tests/support/app_process.rs`), each
//! configured with the test's Redis and the cluster's provider and `APP_URL`.

use crate::{Cluster, SECRET, Serves, app_process::SESSION_KEY, redis::RedisServer};

pub use crate::app_process::{AppProcess, free_port};

impl Serves for AppProcess {
    fn base(&self) -> &url::Url {
        &self.url
    }
}

impl AppProcess {
    /// Starts the binary on `port` with the cluster's `APP_URL`, its provider (by discovery)
    /// and `redis`, plus `extra` variables, and waits until it is ready.
    pub async fn start(
        cluster: &Cluster,
        redis: &RedisServer,
        port: u16,
        extra: &[(&str, &str)],
    ) -> Self {
        let issuer = cluster.provider.issuer.clone();
        let mut env = vec![
            ("APP_URL", cluster.app_url.to_string()),
            ("SESSION_STORE", redis.url()),
            ("SESSION_KEY", SESSION_KEY.into()),
            ("OAUTH_ISSUER", issuer.clone()),
            ("PHOTOS_API_URL", format!("{issuer}/api/photos")),
            ("OAUTH_CLIENT_ID", "photo-connect".into()),
            ("OAUTH_CLIENT_SECRET", SECRET.into()),
            ("HTTP_TIMEOUT_SECS", "3".into()),
        ];
        env.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
        Self::spawn(port, &env).await
    }
}
