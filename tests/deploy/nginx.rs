//! Debian's nginx running `deploy/nginx-photo-connect.conf` as shipped, but for the test's
//! ports, throwaway certificate, server name and log path (each substitution asserted), inside a
//! minimal main config that keeps every file (pid, logs, temp paths) in the test's directory.

use std::{
    net::TcpStream,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use crate::{deploy_file, installed, scratch_dir, substitute};

/// One nginx master process (`daemon off`), stopped when dropped.
pub struct Nginx {
    pub dir: PathBuf,
    pub https_port: u16,
    pub http_port: u16,
    child: Child,
}

/// Whether nginx and openssl are there (says why not, or panics under `CI=true`).
pub fn tools_installed() -> bool {
    installed(binary(), "-v", "nginx") && installed("openssl", "version", "openssl")
}

/// `nginx` on `PATH`, else Debian's `/usr/sbin/nginx` (not on an ordinary user's `PATH`).
fn binary() -> &'static str {
    match Command::new("nginx").arg("-v").output() {
        Ok(_) => "nginx",
        Err(_) => "/usr/sbin/nginx",
    }
}

impl Nginx {
    /// Starts the site in front of the instances on `upstreams` (loopback ports), `https://localhost:<https_port>/`.
    pub fn start(name: &str, upstreams: [u16; 2]) -> Self {
        let dir = scratch_dir(name);
        let (https_port, http_port) = (free_port(), free_port());
        let (cert, key) = throwaway_certificate(&dir);
        let site = site_config(&dir, https_port, http_port, upstreams, &cert, &key);
        let d = dir.display();
        let main = format!(
            "# Written by tests/deploy: the site below, every file in {d}.\n\
             pid {d}/nginx.pid;\n\
             error_log {d}/error.log notice;\n\
             worker_processes 1;\n\
             events {{ worker_connections 256; }}\n\
             http {{\n\
             \x20   client_body_temp_path {d}/client_body;\n\
             \x20   proxy_temp_path {d}/proxy;\n\
             \x20   fastcgi_temp_path {d}/fastcgi;\n\
             \x20   uwsgi_temp_path {d}/uwsgi;\n\
             \x20   scgi_temp_path {d}/scgi;\n\
             \x20   access_log {d}/other.access.log;\n\
             {site}\n\
             }}\n"
        );
        std::fs::write(dir.join("nginx.conf"), main).expect("nginx.conf");
        let conf = dir.join("nginx.conf");
        let test = Command::new(binary())
            .arg("-p")
            .arg(&dir)
            .arg("-e")
            .arg(dir.join("error.log"))
            .arg("-c")
            .arg(&conf)
            .arg("-t")
            .output()
            .expect("nginx -t runs");
        assert!(
            test.status.success(),
            "nginx -t: {}",
            String::from_utf8_lossy(&test.stderr)
        );
        let child = Command::new(binary())
            .arg("-p")
            .arg(&dir)
            .arg("-e")
            .arg(dir.join("error.log"))
            .arg("-c")
            .arg(&conf)
            .args(["-g", "daemon off;"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nginx starts");
        let mut nginx = Self {
            dir,
            https_port,
            http_port,
            child,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", https_port)).is_err() {
            let exited = nginx.child.try_wait().expect("try_wait");
            assert!(
                exited.is_none() && Instant::now() < deadline,
                "nginx did not listen ({exited:?}): {}",
                nginx.error_log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        nginx
    }

    /// `https://localhost:<port>/`, the `APP_URL` of the instances behind it.
    pub fn url(&self) -> url::Url {
        url::Url::parse(&format!("https://localhost:{}/", self.https_port)).expect("url")
    }

    /// The site's access log (the site file's own format: status, upstreams and their statuses).
    pub fn access_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("access.log")).unwrap_or_default()
    }

    /// The access log once it contains `line` (nginx writes a request's line after its
    /// response has gone), or after 5 s as it is.
    pub fn access_log_once(&self, line: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let log = self.access_log();
            if log.contains(line) || Instant::now() > deadline {
                return log;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("error.log")).unwrap_or_default()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGTERM: the master stops its workers (SIGKILL would leave them running).
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Its logs stay for a look after a failed assertion.
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// The site file with the test's values for the example's; then no example value is left.
fn site_config(
    dir: &Path,
    https: u16,
    http: u16,
    upstreams: [u16; 2],
    cert: &Path,
    key: &Path,
) -> String {
    let site = deploy_file("nginx-photo-connect.conf");
    let live = "/etc/letsencrypt/live/photos.example.com";
    let site = substitute(
        &site,
        "listen 443 ssl;",
        &format!("listen 127.0.0.1:{https} ssl;"),
        1,
    );
    let site = substitute(&site, "listen 80;", &format!("listen 127.0.0.1:{http};"), 1);
    let site = substitute(
        &site,
        "server_name photos.example.com;",
        "server_name localhost;",
        2,
    );
    let site = substitute(
        &site,
        &format!("{live}/fullchain.pem;"),
        &format!("{};", cert.display()),
        1,
    );
    let site = substitute(
        &site,
        &format!("{live}/privkey.pem;"),
        &format!("{};", key.display()),
        1,
    );
    let site = substitute(
        &site,
        "server 127.0.0.1:3001 ",
        &format!("server 127.0.0.1:{} ", upstreams[0]),
        1,
    );
    let site = substitute(
        &site,
        "server 127.0.0.1:3002 ",
        &format!("server 127.0.0.1:{} ", upstreams[1]),
        1,
    );
    let log = dir.join("access.log");
    let site = substitute(
        &site,
        "/var/log/nginx/photo-connect.access.log ",
        &format!("{} ", log.display()),
        1,
    );
    // Comments may name the examples; no directive may.
    for line in site
        .lines()
        .map(|l| l.split('#').next().unwrap_or_default())
    {
        for example in ["example.com", ":3001", ":3002", "/etc/", "/var/"] {
            assert!(
                !line.contains(example),
                "an example value left in the site file: {line}"
            );
        }
    }
    site
}

/// A self-signed certificate for `localhost`, valid one day: `(certificate, key)`.
fn throwaway_certificate(dir: &Path) -> (PathBuf, PathBuf) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args(["-nodes", "-days", "1", "-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=DNS:localhost", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl runs");
    assert!(
        made.status.success(),
        "openssl: {}",
        String::from_utf8_lossy(&made.stderr)
    );
    (cert, key)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// The site alone, with nothing behind it: http redirects to https, and with both instances
/// down a request gets nginx's 502 (what a rolling restart must never come to).
#[tokio::test]
async fn the_site_redirects_http_to_https_and_answers_502_with_no_instance() {
    if !tools_installed() {
        return;
    }
    let nginx = Nginx::start("site", [free_port(), free_port()]);
    let client = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let http = format!("http://localhost:{}/photos?x=1", nginx.http_port);
    let response = client.get(&http).send().await.expect("http answers");
    assert_eq!(response.status(), reqwest::StatusCode::MOVED_PERMANENTLY);
    assert_eq!(
        response.headers()[reqwest::header::LOCATION],
        "https://localhost/photos?x=1"
    );
    let response = client.get(nginx.url()).send().await.expect("https answers");
    assert_eq!(response.status(), reqwest::StatusCode::BAD_GATEWAY);
    let line = "\"GET / HTTP/1.1\" 502";
    let log = nginx.access_log_once(line);
    assert!(log.contains(line), "the site's own log: {log}");
}
