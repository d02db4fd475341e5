//! SSH to cluster nodes: pooled connections, exec with timeouts and output caps, PTY sessions and
//! host-key pinning behind the [`RemoteExec`] trait.
//!
//! What this crate owns, and the rules it keeps (each one fixes a bug of the original system):
//!
//! - **One connection per `host:port`.** [`SshPool`] opens it lazily under a per-host async mutex,
//!   so concurrent callers never race to open duplicates; a connection that has died
//!   (`is_closed()`) is replaced, never reused.
//! - **Host keys are always checked** ([`HostKeyPolicy`]): an OpenSSH `known_hosts` file, or a
//!   trust-on-first-use pin file. Errors carry the server's `SHA256:` fingerprint so the operator
//!   can compare it with `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` on the node.
//! - **A failing or timed-out command never tears down the shared connection.** Only its own
//!   channel is closed (and its remote process killed), so an open terminal on the same host keeps
//!   working.
//! - **Channels are always closed**, on success, error, timeout and cancellation alike: russh's
//!   `Drop` sends no `CHANNEL_CLOSE`, and every leaked channel would hold one of sshd's
//!   `MaxSessions` slots.
//! - **Concurrency per host is capped** below sshd's `MaxSessions` by a semaphore; waiting for a
//!   slot counts against the caller's timeout.
//! - **Output is capped** per stream; the rest is drained and discarded.
//!
//! Module map: [`config`] (settings), [`error`] (the error type), [`hostkey`] (fingerprints and
//! the policies), `known_hosts` (OpenSSH file parsing), [`pool`] (connections and exec),
//! [`pty`] (interactive terminals), `channel` (the close-on-every-path guard).

mod channel;
pub mod config;
pub mod error;
mod exec;
pub mod hostkey;
mod known_hosts;
pub mod pool;
pub mod pty;

use std::fmt;
use std::time::Duration;

pub use config::{HostKeyPolicy, SshConfig};
pub use error::SshError;
pub use hostkey::fingerprint;
pub use pool::{HostStats, SshPool};
pub use pty::{PtyEvent, PtySession, PtyWriter};
/// An SSH public key (a host key or a client key), as parsed by russh.
pub use russh::keys::PublicKey;

/// Where to reach one cluster node over SSH.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HostTarget {
    /// The PVE node name (for messages, and as an alternative name in `known_hosts`).
    pub node: String,
    /// IP address or hostname to connect to.
    pub host: String,
    /// TCP port of sshd, usually 22.
    pub port: u16,
}

impl HostTarget {
    /// A target for `node`, reached at `host:port`.
    pub fn new(node: impl Into<String>, host: impl Into<String>, port: u16) -> Self {
        Self { node: node.into(), host: host.into(), port }
    }

    /// `host:port`, with IPv6 literals in brackets: the key of the pool and of the TOFU pin file.
    pub fn address(&self) -> String {
        if self.host.contains(':') && !self.host.starts_with('[') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

impl fmt::Display for HostTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.node.is_empty() || self.node == self.host {
            f.write_str(&self.address())
        } else {
            write!(f, "{} ({})", self.node, self.address())
        }
    }
}

/// What a finished remote command produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecOutput {
    /// Standard output, decoded as lossy UTF-8 and capped at [`SshConfig::output_cap`] bytes.
    pub stdout: String,
    /// Standard error, decoded and capped like `stdout`.
    pub stderr: String,
    /// The exit status, as a shell reports it (a command killed by signal N gives 128 + N);
    /// `None` when the server reported none.
    pub exit_status: Option<u32>,
    /// True when either stream produced more than the cap and was cut.
    pub truncated: bool,
    /// Wall time from the call until the command finished (including waiting for a slot).
    pub duration: Duration,
}

/// Runs commands and opens terminals on cluster nodes. [`SshPool`] is the real implementation;
/// the simulator provides another.
#[async_trait::async_trait]
pub trait RemoteExec: Send + Sync {
    /// Runs an already-quoted shell command line; never more than `timeout`.
    ///
    /// The timeout covers everything: waiting for a channel slot, connecting, and running. When
    /// it expires the remote process is killed and its channel closed in the background; the
    /// pooled connection and every other session on it stay up.
    async fn exec(
        &self,
        target: &HostTarget,
        command: &str,
        timeout: Duration,
    ) -> Result<ExecOutput, SshError>;

    /// Opens an interactive PTY shell.
    async fn open_pty(
        &self,
        target: &HostTarget,
        term: &str,
        cols: u32,
        rows: u32,
    ) -> Result<PtySession, SshError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_brackets_ipv6_literals_only() {
        assert_eq!(HostTarget::new("pve1", "10.0.0.1", 22).address(), "10.0.0.1:22");
        assert_eq!(HostTarget::new("pve1", "::1", 2222).address(), "[::1]:2222");
        assert_eq!(HostTarget::new("pve1", "pve1.lan", 22).to_string(), "pve1 (pve1.lan:22)");
        assert_eq!(HostTarget::new("", "10.0.0.1", 22).to_string(), "10.0.0.1:22");
    }
}
