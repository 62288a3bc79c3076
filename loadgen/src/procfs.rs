//! What the kernel says about the processes under test: CPU seconds (`/proc/<pid>/stat`), memory
//! (`/proc/<pid>/status`), and a sampler that records peak RSS and every TCP connection made to
//! the provider's port from the client's address (`/proc/net/tcp*`, `/proc/<pid>/fd`).

use std::{
    collections::{HashMap, HashSet},
    net::Ipv4Addr,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    thread,
    time::Duration,
};

use anyhow::{Context, bail};

/// Linux reports `utime`/`stime` in USER_HZ ticks, 100 a second on every architecture's ABI.
const TICKS_PER_SEC: f64 = 100.0;

/// User + system CPU seconds the process has used so far.
pub fn cpu_seconds(pid: u32) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("cannot read /proc/{pid}/stat"))?;
    // The command name may contain spaces: fields are counted after its closing parenthesis.
    let rest = stat.rsplit_once(')').context("a malformed stat")?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // Field 3 (state) is fields[0]: utime is field 14, stime field 15.
    let (Some(utime), Some(stime)) = (fields.get(11), fields.get(12)) else {
        bail!("a short /proc/{pid}/stat");
    };
    Ok((utime.parse::<u64>()? + stime.parse::<u64>()?) as f64 / TICKS_PER_SEC)
}

/// `VmRSS` and `VmHWM` (the peak since the process started), in KiB.
pub fn memory_kib(pid: u32) -> anyhow::Result<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("cannot read /proc/{pid}/status"))?;
    let field = |name: &str| -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        line[name.len()..]
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()
    };
    match (field("VmRSS:"), field("VmHWM:")) {
        (Some(rss), Some(hwm)) => Ok((rss, hwm)),
        _ => bail!("no VmRSS/VmHWM in /proc/{pid}/status"),
    }
}

/// One socket of `/proc/net/tcp`: local and remote ends, and its inode (0 in TIME_WAIT).
#[derive(Debug, PartialEq)]
struct Socket {
    local: (Ipv4Addr, u16),
    remote: (Ipv4Addr, u16),
    inode: u64,
}

/// Parses `/proc/net/tcp` (IPv4; `0100007F:0BB9` is 127.0.0.1:3001, in host byte order).
fn parse_tcp(table: &str) -> Vec<Socket> {
    let end = |hex: &str| -> Option<(Ipv4Addr, u16)> {
        let (ip, port) = hex.split_once(':')?;
        let ip = u32::from_str_radix(ip, 16).ok()?;
        Some((
            Ipv4Addr::from(ip.swap_bytes()),
            u16::from_str_radix(port, 16).ok()?,
        ))
    };
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            Some(Socket {
                local: end(f.get(1)?)?,
                remote: end(f.get(2)?)?,
                inode: f.get(9)?.parse().ok()?,
            })
        })
        .collect()
}

/// The socket inodes a process holds open.
fn socket_inodes(pid: u32) -> HashSet<u64> {
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return HashSet::new();
    };
    dir.filter_map(|entry| {
        let link = std::fs::read_link(entry.ok()?.path()).ok()?;
        let link = link.to_str()?;
        link.strip_prefix("socket:[")?
            .strip_suffix(']')?
            .parse()
            .ok()
    })
    .collect()
}

/// What to watch: the client process (its RSS, its sockets) and the provider's address.
#[derive(Clone, Debug)]
pub struct Watch {
    pub pid: Option<u32>,
    pub provider_pid: Option<u32>,
    /// Connections from this address to `provider` are the client's (the load generator binds
    /// its own to another loopback address).
    pub client_ip: Ipv4Addr,
    pub provider: (Ipv4Addr, u16),
}

/// What the sampler saw.
#[derive(Clone, Debug, Default)]
pub struct Samples {
    pub peak_rss_kib: u64,
    pub provider_peak_rss_kib: u64,
    /// Connections from the client to the provider first seen during the run.
    pub new_connections: usize,
    /// The most of them the client process held open at one time.
    pub peak_open: usize,
}

/// Samples every 50 ms on a thread of its own until stopped.
pub struct Sampler {
    stop: Arc<AtomicBool>,
    thread: thread::JoinHandle<Samples>,
}

impl Sampler {
    pub fn start(watch: Watch) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = thread::spawn(move || {
            let mut tracker = Tracker::new(&watch);
            let baseline: HashSet<u16> = tracker.ports.keys().copied().collect();
            let mut samples = Samples::default();
            loop {
                if let Some(pid) = watch.pid
                    && let Ok((rss, _)) = memory_kib(pid)
                {
                    samples.peak_rss_kib = samples.peak_rss_kib.max(rss);
                }
                if let Some(pid) = watch.provider_pid
                    && let Ok((rss, _)) = memory_kib(pid)
                {
                    samples.provider_peak_rss_kib = samples.provider_peak_rss_kib.max(rss);
                }
                let open = tracker.sample(&watch);
                samples.peak_open = samples.peak_open.max(open);
                if flag.load(Ordering::Relaxed) {
                    break;
                }
                thread::sleep(Duration::from_millis(50));
            }
            samples.new_connections = tracker.count_excluding(&baseline);
            samples
        });
        Self { stop, thread }
    }

    pub fn stop(self) -> Samples {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap_or_default()
    }
}

/// Every connection seen, by the client's ephemeral port, with the inodes seen on it (a port
/// reused later comes back with another inode and counts again).
struct Tracker {
    ports: HashMap<u16, HashSet<u64>>,
}

impl Tracker {
    fn new(watch: &Watch) -> Self {
        let mut tracker = Self {
            ports: HashMap::new(),
        };
        tracker.sample(watch);
        tracker
    }

    /// Records the connections in the tables now; returns how many the client holds open.
    fn sample(&mut self, watch: &Watch) -> usize {
        let owned = watch.pid.map(socket_inodes).unwrap_or_default();
        let table = std::fs::read_to_string("/proc/net/tcp").unwrap_or_default();
        let mut open = 0;
        for socket in parse_tcp(&table) {
            // The client's end (local = client, remote = provider), or the provider's end of
            // the same connection (which outlives it in TIME_WAIT when the provider closes).
            if socket.remote == watch.provider && socket.local.0 == watch.client_ip {
                let held = match watch.pid {
                    Some(_) => owned.contains(&socket.inode),
                    None => socket.inode != 0,
                };
                open += usize::from(held);
                let inodes = self.ports.entry(socket.local.1).or_default();
                if socket.inode != 0 {
                    inodes.insert(socket.inode);
                }
            } else if socket.local == watch.provider && socket.remote.0 == watch.client_ip {
                self.ports.entry(socket.remote.1).or_default();
            }
        }
        open
    }

    /// Connections on ports not in `baseline`: each client-side inode seen, or one per port
    /// seen only after it closed.
    fn count_excluding(&self, baseline: &HashSet<u16>) -> usize {
        self.ports
            .iter()
            .filter(|(port, _)| !baseline.contains(port))
            .map(|(_, inodes)| inodes.len().max(1))
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_net_tcp() {
        let table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 0100007F:0BB9 0100007F:A1B2 01 00000000:00000000 00:00000000 00000000     0        0 12345 1 0 20 4 30 10 -1\n";
        let sockets = parse_tcp(table);
        assert_eq!(
            sockets,
            vec![Socket {
                local: (Ipv4Addr::LOCALHOST, 3001),
                remote: (Ipv4Addr::LOCALHOST, 0xA1B2),
                inode: 12345,
            }]
        );
    }
}
