//! An in-process SSH server for every simulated node, so the SSH-backed features (node
//! temperatures, remote commands, service restarts, the browser terminal) work in the demo.
//!
//! Every node listens on its own loopback address (127.0.1.x, as reported in `/cluster/status`),
//! all at the same port, so `<node ip>:<ssh_port>` reaches that node's "shell". One ed25519 host
//! key per simulator, generated at start, is served by every node; `SimHandle::ssh_known_hosts`
//! gives the lines to pin it. Authentication is public key only: against
//! `SimConfig::ssh_authorized_keys`, or any key when that is empty (demo and tests only). The
//! user name is free and shows up in the prompt.
//!
//! Nothing is executed: exec requests and the PTY shell answer from a command table
//! (`commands`) that renders plausible output from the cluster model — the node's name, uptime,
//! memory, guests, load and temperatures — so what the SSH features show agrees with the API.
//! An offline node's listener is dropped (connections are refused) and its open connections are
//! cut, like the per-node HTTP endpoints; it comes back with the node.
//!
//! # Layout
//! - `server` — connections, authentication and channel requests (russh's server side)
//! - `shell` — the interactive PTY shell: line editing, prompt, window size
//! - `lex` — splitting a command line; `commands` — running it through the command table
//! - `system` — general system commands and files; `pve` — PVE, network and process commands;
//!   `units` — systemctl and journals; `sensors` — temperatures

mod commands;
mod lex;
mod pve;
mod sensors;
mod server;
mod shell;
mod system;
mod units;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use parking_lot::Mutex;
use rand::Rng;
use russh::keys::ssh_key::private::Ed25519Keypair;
use russh::keys::ssh_key::public::KeyData;
use russh::keys::{HashAlg, PrivateKey, PublicKey};
use russh::{MethodKind, MethodSet};
use tokio::net::TcpListener;

use crate::config::{SimConfig, SimError};
use crate::model::node_ip;
use crate::server::{Running, Shared, accept_loop, bind_std};

/// How often an automatically chosen port is retried when it is taken on another node address.
const PORT_ATTEMPTS: usize = 20;

/// The SSH servers of all nodes.
pub(crate) struct SshState {
    /// The port every node listens on.
    pub port: u16,
    /// russh's server configuration (host key, auth methods, timeouts).
    pub config: Arc<russh::server::Config>,
    /// `SHA256:…` fingerprint of the host key, OpenSSH style.
    pub fingerprint: String,
    /// One `[ip]:port ssh-ed25519 AAAA…` line per node.
    pub known_hosts: String,
    /// Keys allowed to log in; empty accepts any key.
    pub authorized: Vec<KeyData>,
    /// Connections that authenticated successfully.
    pub sessions_opened: AtomicU64,
    /// Per node, in node order.
    listeners: Vec<NodeListener>,
    /// The node-online epoch the listeners were last synced to (see `Cluster::epoch`).
    synced_epoch: AtomicU64,
}

struct NodeListener {
    addr: SocketAddr,
    running: Mutex<Option<Running>>,
}

/// A deterministic 64-bit mix (splitmix64), for per-node and per-tick variety without an RNG.
pub(crate) fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Parses OpenSSH public key lines (one or more per entry; blank lines and `#` comments skipped).
pub(crate) fn parse_authorized_keys(entries: &[String]) -> Result<Vec<KeyData>, SimError> {
    let mut keys = Vec::new();
    for line in entries.iter().flat_map(|e| e.lines()).map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let key = PublicKey::from_openssh(line).map_err(|e| {
            SimError::Config(format!("ssh_authorized_keys: cannot parse '{line}': {e}"))
        })?;
        keys.push(key.key_data().clone());
    }
    Ok(keys)
}

/// A fresh ed25519 host key.
fn host_key() -> PrivateKey {
    let seed: [u8; 32] = rand::rng().random();
    PrivateKey::from(Ed25519Keypair::from_seed(&seed))
}

/// Binds `port` on every node address, or a port free on all of them when `port` is 0 (never
/// `avoid`, the port the per-node HTTP endpoints will take on the same addresses).
fn bind_all(
    nodes: usize,
    port: u16,
    avoid: Option<u16>,
) -> Result<(u16, Vec<std::net::TcpListener>), SimError> {
    let addr = |i: usize, port: u16| SocketAddr::new(IpAddr::V4(node_ip(i)), port);
    let bind_rest = |first: std::net::TcpListener, port: u16| {
        let mut all = vec![first];
        for i in 1..nodes {
            all.push(bind_std(addr(i, port))?);
        }
        Ok::<_, SimError>(all)
    };
    if port != 0 {
        if avoid == Some(port) {
            return Err(SimError::Config(format!(
                "ssh_port {port} is the API port, which the per-node endpoints use too"
            )));
        }
        let first = bind_std(addr(0, port))?;
        return Ok((port, bind_rest(first, port)?));
    }
    let mut last_err = None;
    for _ in 0..PORT_ATTEMPTS {
        let first = bind_std(addr(0, 0))?;
        let picked = first
            .local_addr()
            .map_err(|source| SimError::Bind { addr: addr(0, 0), source, hint: "" })?
            .port();
        if avoid == Some(picked) {
            continue;
        }
        match bind_rest(first, picked) {
            Ok(all) => return Ok((picked, all)),
            // Taken on some other node address: try another port.
            Err(e) => last_err = Some(e),
        }
    }
    Err(last_err.unwrap_or_else(|| SimError::Ssh("no free SSH port".into())))
}

/// One known_hosts line per node for `key` at `port`.
fn known_hosts_lines(nodes: usize, port: u16, key: &PublicKey) -> Result<String, SimError> {
    let mut key = key.clone();
    key.set_comment("");
    let key = key.to_openssh().map_err(|e| SimError::Ssh(format!("host key encoding: {e}")))?;
    let mut out = String::new();
    for i in 0..nodes {
        let host =
            if port == 22 { node_ip(i).to_string() } else { format!("[{}]:{port}", node_ip(i)) };
        out.push_str(&format!("{host} {key}\n"));
    }
    Ok(out)
}

/// Generates the host key and binds every node's listener (`api_port` is the main listener's
/// port, kept free for the per-node HTTP endpoints); serving starts with [`start`].
pub(crate) fn prepare(
    cfg: &SimConfig,
    api_port: u16,
) -> Result<(SshState, Vec<std::net::TcpListener>), SimError> {
    let authorized = parse_authorized_keys(&cfg.ssh_authorized_keys)?;
    let key = host_key();
    let public = key.public_key().clone();
    let fingerprint = public.fingerprint(HashAlg::Sha256).to_string();
    let avoid = cfg.per_node_endpoints.then_some(api_port);
    let (port, sockets) = bind_all(cfg.nodes, cfg.ssh_port, avoid)?;
    let known_hosts = known_hosts_lines(cfg.nodes, port, &public)?;
    let config = russh::server::Config {
        server_id: russh::SshId::Standard("SSH-2.0-OpenSSH_10.0p2 Debian-7".into()),
        methods: MethodSet::from(&[MethodKind::PublicKey][..]),
        auth_rejection_time: Duration::from_millis(50),
        auth_rejection_time_initial: Some(Duration::ZERO),
        keys: vec![key],
        // Terminals stay open for as long as the browser tab does.
        inactivity_timeout: None,
        nodelay: true,
        ..Default::default()
    };
    let listeners = sockets
        .iter()
        .map(|s| NodeListener {
            addr: s.local_addr().unwrap_or_else(|_| SocketAddr::new(IpAddr::V4(node_ip(0)), port)),
            running: Mutex::new(None),
        })
        .collect();
    let state = SshState {
        port,
        config: Arc::new(config),
        fingerprint,
        known_hosts,
        authorized,
        sessions_opened: AtomicU64::new(0),
        listeners,
        synced_epoch: AtomicU64::new(0),
    };
    Ok((state, sockets))
}

/// Starts serving the listeners bound by [`prepare`].
pub(crate) fn start(
    shared: &Arc<Shared>,
    sockets: Vec<std::net::TcpListener>,
) -> Result<(), SimError> {
    for (i, socket) in sockets.into_iter().enumerate() {
        serve_node(shared, i, socket)?;
    }
    Ok(())
}

fn serve_node(
    shared: &Arc<Shared>,
    node: usize,
    socket: std::net::TcpListener,
) -> Result<(), SimError> {
    let Some(ssh) = &shared.ssh else { return Ok(()) };
    let slot = &ssh.listeners[node];
    let listener = {
        let _rt = shared.runtime.enter();
        TcpListener::from_std(socket).map_err(|source| SimError::Bind {
            addr: slot.addr,
            source,
            hint: "",
        })?
    };
    let running = Running::new(&shared.cancel, listener);
    let conn_shared = shared.clone();
    let task = accept_loop(shared.clone(), &running, move |stream, token| {
        server::serve_connection(conn_shared.clone(), node, stream, token)
    });
    *slot.running.lock() = Some(running);
    shared.tracker.spawn_on(task, &shared.runtime);
    Ok(())
}

/// Makes every node's SSH listener follow its node: dropped while the node is offline (new
/// connections are refused, open ones cut), rebound on the same address when it is back.
pub(crate) fn sync_listeners(shared: &Arc<Shared>) {
    let Some(ssh) = &shared.ssh else { return };
    let (epoch, online): (u64, Vec<bool>) = {
        let cl = shared.cluster.lock();
        // Called after every API request: the common case is that nothing changed.
        if ssh.synced_epoch.load(Ordering::Acquire) == cl.epoch {
            return;
        }
        (cl.epoch, cl.nodes.iter().map(|n| n.online).collect())
    };
    if ssh.synced_epoch.swap(epoch, Ordering::AcqRel) == epoch {
        return;
    }
    for (i, slot) in ssh.listeners.iter().enumerate() {
        let up = slot.running.lock().is_some();
        match (online[i], up) {
            (true, false) => {
                if shared.cancel.is_cancelled() {
                    return;
                }
                let result = bind_std(slot.addr).and_then(|s| serve_node(shared, i, s));
                if let Err(e) = result {
                    tracing::warn!(node = i, error = %e, "simulator SSH listener could not follow its node");
                }
            }
            (false, true) => {
                if let Some(r) = slot.running.lock().take() {
                    r.stop();
                }
            }
            _ => {}
        }
    }
}

impl SshState {
    /// Stops every node's listener and connections (shutdown).
    pub fn stop_all(&self) {
        for slot in &self.listeners {
            if let Some(r) = slot.running.lock().take() {
                r.stop();
            }
        }
    }

    /// Whether `key` may log in.
    pub fn allows(&self, key: &PublicKey) -> bool {
        self.authorized.is_empty() || self.authorized.iter().any(|k| k == key.key_data())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorized_keys_parse_and_reject_garbage() {
        let key = host_key().public_key().to_openssh().unwrap();
        let keys =
            parse_authorized_keys(&[format!("# mine\n{key} me@host\n\n"), key.clone()]).unwrap();
        assert_eq!(keys.len(), 2);
        assert!(parse_authorized_keys(&["ssh-ed25519 AAAA!!".into()]).is_err());
        assert!(parse_authorized_keys(&[]).unwrap().is_empty());
    }

    #[test]
    fn known_hosts_has_one_bracketed_line_per_node() {
        let key = host_key().public_key().clone();
        let lines = known_hosts_lines(3, 2222, &key).unwrap();
        let lines: Vec<&str> = lines.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].starts_with("[127.0.1.1]:2222 ssh-ed25519 AAAA"), "{}", lines[0]);
        assert!(lines[2].starts_with("[127.0.1.3]:2222 ssh-ed25519 "));
        assert_eq!(lines[0].split(' ').count(), 3, "no comment: {}", lines[0]);
    }
}
