//! Where the app listens: `LISTEN_ADDR`, else `0.0.0.0:$PORT` (the convention of hosting
//! platforms), else `127.0.0.1:3000`; binding it with an error that names the address and its
//! variable; and whether `APP_URL` can reach it at all.

use std::net::SocketAddr;

use tokio::net::TcpListener;
use url::Url;

/// The listening address and the variable it came from, for messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListenAddr {
    pub addr: SocketAddr,
    /// `"LISTEN_ADDR"` or `"PORT"`; `"LISTEN_ADDR"` for the default too (the one to set).
    pub variable: &'static str,
}

impl ListenAddr {
    /// `LISTEN_ADDR` when set; else every interface on `PORT` when set (a platform that sets
    /// `PORT` routes to the container from outside, so loopback would be unreachable); else
    /// `127.0.0.1:3000`.
    pub(super) fn parse(listen_addr: Option<&str>, port: Option<&str>) -> anyhow::Result<Self> {
        let (value, variable) = match (listen_addr, port) {
            (Some(addr), _) => (addr, "LISTEN_ADDR"),
            (None, Some(port)) => {
                let port: u16 = port
                    .parse()
                    .map_err(|_| anyhow::anyhow!("PORT={port:?} is not valid: expected 0-65535"))?;
                return Ok(Self {
                    addr: SocketAddr::from(([0, 0, 0, 0], port)),
                    variable: "PORT",
                });
            }
            (None, None) => ("127.0.0.1:3000", "LISTEN_ADDR"),
        };
        let addr = value.parse().map_err(|_| {
            anyhow::anyhow!(
                "{variable}={value:?} is not valid: expected host:port, e.g. 127.0.0.1:3000"
            )
        })?;
        Ok(Self { addr, variable })
    }

    /// Binds the address. The error names it and its variable, and says what to do when the
    /// port is taken, the usual first-run mistake (a second copy of the app still running).
    pub async fn bind(&self) -> anyhow::Result<TcpListener> {
        TcpListener::bind(self.addr).await.map_err(|err| {
            let advice = match err.kind() {
                std::io::ErrorKind::AddrInUse => format!(
                    ": another program (another copy of this app?) is using port {}; stop it, \
                     or set {} to a free address",
                    self.addr.port(),
                    self.variable
                ),
                std::io::ErrorKind::PermissionDenied => format!(
                    ": ports below 1024 need privileges; set {} to a port above 1023",
                    self.variable
                ),
                _ => String::new(),
            };
            anyhow::anyhow!(
                "cannot listen on {} ({}): {err}{advice}",
                self.addr,
                self.variable
            )
        })
    }
}

/// Why a browser opening `app_url` would not reach `bound`, or `None` when it can or when this
/// cannot be told (a non-loopback `APP_URL` is usually a proxy, which may forward anywhere).
pub fn unreachable_from(app_url: &Url, bound: SocketAddr, variable: &str) -> Option<String> {
    if !super::is_loopback(app_url) {
        return None;
    }
    let port = app_url.port_or_known_default()?;
    let problem = if port != bound.port() {
        format!("port {port}")
    } else {
        let ip = bound.ip();
        // A loopback URL reaches a loopback listener or one on every interface.
        if ip.is_loopback() || ip.is_unspecified() {
            return None;
        }
        format!("a loopback host, but the app listens on {ip} only")
    };
    Some(format!(
        "APP_URL={app_url} points at {problem}, and the app listens on {bound} ({variable}): \
         the browser would find nothing there. Set APP_URL to http://localhost:{}/ or change \
         {variable}",
        bound.port()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(listen: Option<&str>, port: Option<&str>) -> ListenAddr {
        ListenAddr::parse(listen, port).expect("valid")
    }

    #[test]
    fn listen_addr_wins_then_port_on_every_interface_then_the_default() {
        let both = parsed(Some("127.0.0.1:4000"), Some("8080"));
        assert_eq!(
            (both.addr.to_string().as_str(), both.variable),
            ("127.0.0.1:4000", "LISTEN_ADDR")
        );
        let port = parsed(None, Some("8080"));
        assert_eq!(
            (port.addr.to_string().as_str(), port.variable),
            ("0.0.0.0:8080", "PORT")
        );
        let default = parsed(None, None);
        assert_eq!(default.addr.to_string(), "127.0.0.1:3000");
        assert_eq!(default.variable, "LISTEN_ADDR");
    }

    #[test]
    fn a_bad_value_names_its_variable() {
        let err = ListenAddr::parse(None, Some("eighty")).expect_err("not a port");
        assert!(err.to_string().starts_with("PORT=\"eighty\""), "{err}");
        let err = ListenAddr::parse(Some("localhost"), None).expect_err("no port");
        assert!(
            err.to_string().starts_with("LISTEN_ADDR=\"localhost\""),
            "{err}"
        );
    }

    #[tokio::test]
    async fn a_busy_port_names_the_address_the_variable_and_what_to_do() {
        let taken = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = taken.local_addr().expect("addr");
        for variable in ["LISTEN_ADDR", "PORT"] {
            let err = ListenAddr { addr, variable }
                .bind()
                .await
                .expect_err("the port is taken");
            let text = err.to_string();
            assert!(
                text.starts_with(&format!("cannot listen on {addr} ({variable}):")),
                "{text}"
            );
            assert!(
                text.contains(&format!("set {variable} to a free address")),
                "{text}"
            );
        }
    }

    #[test]
    fn app_url_on_another_port_or_an_unreachable_host_is_named() {
        let url = |s: &str| Url::parse(s).expect("url");
        let bound: SocketAddr = "127.0.0.1:3000".parse().expect("addr");
        let warning = unreachable_from(&url("http://localhost:8080/"), bound, "LISTEN_ADDR")
            .expect("another port");
        assert!(
            warning.contains("APP_URL=http://localhost:8080/ points at port 8080"),
            "{warning}"
        );
        assert!(
            warning.contains("127.0.0.1:3000 (LISTEN_ADDR)"),
            "{warning}"
        );
        let lan: SocketAddr = "192.0.2.7:3000".parse().expect("addr");
        let warning = unreachable_from(&url("http://127.0.0.1:3000/"), lan, "PORT")
            .expect("loopback cannot reach a LAN-only listener");
        assert!(warning.contains("listens on 192.0.2.7 only"), "{warning}");
        assert!(warning.contains("(PORT)"), "{warning}");
        // Reachable, or not for this check to say.
        assert_eq!(
            unreachable_from(&url("http://localhost:3000/"), bound, "LISTEN_ADDR"),
            None
        );
        let any: SocketAddr = "0.0.0.0:3000".parse().expect("addr");
        assert_eq!(
            unreachable_from(&url("http://localhost:3000/"), any, "PORT"),
            None
        );
        assert_eq!(
            unreachable_from(&url("https://photos.example/"), bound, "LISTEN_ADDR"),
            None
        );
        let https_local = unreachable_from(&url("https://localhost/"), bound, "LISTEN_ADDR");
        assert!(https_local.is_some_and(|w| w.contains("port 443")));
    }
}
