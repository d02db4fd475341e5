//! What a simulated cluster looks like and how it is served ([`SimConfig`]), and the errors
//! starting or steering it can raise ([`SimError`]).
//!
//! Defaults give the demo cluster: 4 nodes, 12 guests, HTTPS on a random loopback port, and an
//! SSH server on every node's loopback address (127.0.1.x) at one shared random port.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

/// Shape of the simulated cluster and how its API is served.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Number of nodes (`pve1`, `pve2`, …). At least 1; one node is served as a standalone host
    /// (no `cluster` entry in `/cluster/status`, like real PVE without a cluster).
    pub nodes: usize,
    /// Number of guests. The first 12 are the hand-made demo guests, the rest are generated.
    pub guests: usize,
    /// Seed for everything random: hardware, placement, initial metrics and metric movement.
    pub seed: u64,
    /// API token id accepted in `Authorization: PVEAPIToken=<token_id>=<secret>`.
    pub token_id: String,
    /// API token secret.
    pub token_secret: String,
    /// Serve HTTPS with a fresh self-signed certificate (true) or plain HTTP (false).
    pub tls: bool,
    /// Address of the main listener.
    pub bind: IpAddr,
    /// Port of the main listener; 0 picks a free one.
    pub port: u16,
    /// Also listen on every node's own address (127.0.1.x) at the main port, so a client that
    /// discovers node IPs from `/cluster/status` can fail over to them.
    pub per_node_endpoints: bool,
    /// How often metrics move on their own. `Duration::ZERO` turns the background ticker off
    /// (tests then call `SimControl::tick` for deterministic movement).
    pub tick: Duration,
    /// How long start/stop/shutdown/… tasks run before their effect lands.
    pub task_duration: Duration,
    /// Delay before answering a failed authentication. Real PVE waits 3 s; the default is 0 so
    /// tests stay fast.
    pub auth_failure_delay: Duration,
    /// How long an offline node's last metrics stay visible. pmxcfs drops status data older than
    /// 5 minutes; after that guests of the node show `status: "unknown"` without metrics.
    pub offline_stale_after: Duration,
    /// How long a node takes to come back after a wake-on-LAN packet or a node reboot.
    pub boot_delay: Duration,
    /// Cluster name shown in `/cluster/status`.
    pub cluster_name: String,
    /// Run an SSH server for every node on the node's own address (127.0.1.x, as in
    /// `/cluster/status`), all at [`SimConfig::ssh_port`], so SSH-backed features (temperatures,
    /// remote commands, the terminal) work against the simulator. Each node needs one listening
    /// socket, so turn it off for clusters larger than the open-file limit allows.
    pub ssh: bool,
    /// Port every node's SSH server listens on; 0 picks one that is free on all node addresses.
    pub ssh_port: u16,
    /// OpenSSH public key lines (`ssh-ed25519 AAAA… comment`; `#` comments and blank lines are
    /// skipped, option prefixes are not supported) allowed to log in. Empty accepts ANY public
    /// key, which is only acceptable because the simulator is a loopback demo and test fixture
    /// whose "shell" runs nothing real.
    pub ssh_authorized_keys: Vec<String>,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            nodes: 4,
            guests: 12,
            seed: 42,
            token_id: "root@pam!jarvis".into(),
            token_secret: "4f1c9a2e-7b3d-4e8a-9c61-2d5f0a7b8e13".into(),
            tls: true,
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            per_node_endpoints: false,
            tick: Duration::from_secs(2),
            task_duration: Duration::from_millis(1500),
            auth_failure_delay: Duration::ZERO,
            offline_stale_after: Duration::from_secs(300),
            boot_delay: Duration::from_secs(10),
            cluster_name: "homelab".into(),
            ssh: true,
            ssh_port: 0,
            ssh_authorized_keys: Vec::new(),
        }
    }
}

impl SimConfig {
    /// Checks the values that would otherwise make the simulator misbehave.
    pub(crate) fn validate(&self) -> Result<(), SimError> {
        if self.nodes == 0 {
            return Err(SimError::Config("nodes must be at least 1".into()));
        }
        // Node addresses are 127.0.<1..=254>.<1..=254>; beyond that they would collide.
        if self.nodes > 254 * 254 {
            return Err(SimError::Config(format!("nodes must be at most {}", 254 * 254)));
        }
        if self.guests > 1_000_000 {
            return Err(SimError::Config("guests must be at most 1000000".into()));
        }
        match split_token_id(&self.token_id) {
            Some(_) => {}
            None => {
                return Err(SimError::Config(format!(
                    "token_id '{}' is not of the form user@realm!name",
                    self.token_id
                )));
            }
        }
        if self.token_secret.is_empty() || self.token_secret.contains(char::is_whitespace) {
            return Err(SimError::Config("token_secret must be non-empty without spaces".into()));
        }
        crate::ssh::parse_authorized_keys(&self.ssh_authorized_keys)?;
        Ok(())
    }
}

/// Splits `user@realm!name` into (`user@realm`, `name`), as PVE's `split_tokenid` does.
pub(crate) fn split_token_id(token_id: &str) -> Option<(&str, &str)> {
    let (user, name) = token_id.split_once('!')?;
    let (uname, realm) = user.split_once('@')?;
    let ok_part = |s: &str| {
        !s.is_empty()
            && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    (ok_part(uname) && ok_part(realm) && ok_part(name)).then_some((user, name))
}

/// Errors from starting or steering the simulator.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The configuration cannot work.
    #[error("invalid simulator config: {0}")]
    Config(String),
    /// A listener could not be bound.
    #[error("cannot listen on {addr}: {source}{hint}")]
    Bind {
        /// The address that failed.
        addr: SocketAddr,
        /// Why.
        source: io::Error,
        /// A hint on how to fix it (may be empty).
        hint: &'static str,
    },
    /// Certificate generation or TLS configuration failed.
    #[error("TLS setup failed: {0}")]
    Tls(String),
    /// The SSH server could not be set up (host key, authorized keys).
    #[error("SSH setup failed: {0}")]
    Ssh(String),
    /// No node with that name.
    #[error("no node named '{0}' in the simulated cluster")]
    UnknownNode(String),
    /// No guest with that vmid.
    #[error("no guest with vmid {0} in the simulated cluster")]
    UnknownGuest(u32),
    /// No endpoint with that index.
    #[error("no endpoint with index {0} (0 is the main listener, 1.. are node endpoints)")]
    UnknownEndpoint(usize),
    /// No storage with that id.
    #[error("no storage '{0}' in the simulated cluster (there are local, local-lvm, nfs-backup)")]
    UnknownStorage(String),
    /// No task with that UPID.
    #[error("no task '{0}' in the simulated cluster")]
    UnknownTask(String),
    /// A scenario control that cannot apply as asked (a template cannot crash, a fraction
    /// outside 0..=1, …); the message says why.
    #[error("{0}")]
    Scenario(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_ids_are_checked_like_pve() {
        assert_eq!(split_token_id("root@pam!jarvis"), Some(("root@pam", "jarvis")));
        assert_eq!(split_token_id("dev@pve!ci-1"), Some(("dev@pve", "ci-1")));
        assert_eq!(split_token_id("root@pam"), None);
        assert_eq!(split_token_id("root!x"), None);
        assert_eq!(split_token_id("root@pam!"), None);
        assert_eq!(split_token_id("ro ot@pam!x"), None);
    }

    #[test]
    fn default_config_is_valid_and_bad_ones_are_not() {
        assert!(SimConfig::default().validate().is_ok());
        let bad = SimConfig { nodes: 0, ..SimConfig::default() };
        assert!(bad.validate().is_err());
        let bad = SimConfig { token_id: "nope".into(), ..SimConfig::default() };
        assert!(bad.validate().is_err());
        let bad = SimConfig { token_secret: String::new(), ..SimConfig::default() };
        assert!(bad.validate().is_err());
        let bad = SimConfig {
            ssh_authorized_keys: vec!["ssh-ed25519 nope".into()],
            ..SimConfig::default()
        };
        assert!(bad.validate().is_err());
    }
}
