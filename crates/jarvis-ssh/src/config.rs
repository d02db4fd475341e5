//! SSH settings: who we log in as, with which key, how host keys are trusted, and the limits
//! (timeouts, channels per host, output caps) the pool enforces.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// How the server's host key is checked before any credential is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostKeyPolicy {
    /// An OpenSSH `known_hosts` file (plain and hashed `|1|` entries, `[host]:port` form for
    /// ports other than 22, `*`/`?` wildcards, `!` negation, `@revoked`). A host is looked up
    /// by its address and by its node name. An unknown host, or a key that differs from the
    /// recorded one, is refused. A missing file refuses every host.
    KnownHosts(PathBuf),
    /// A Jarvis-owned pin file, JSON `{"host:port": "SHA256:…", …}`. The first connection to a
    /// host records its key fingerprint (written atomically: temp file + rename); a later
    /// mismatch is refused. Only as safe as that first connection.
    TrustOnFirstUse(PathBuf),
    /// Accepts any host key. **Insecure**: anyone on the path can impersonate the node and
    /// receive every command. For tests and demos only.
    AcceptAny,
}

/// Settings of an [`SshPool`](crate::SshPool).
#[derive(Clone)]
pub struct SshConfig {
    /// Remote user (usually `root` on PVE nodes).
    pub user: String,
    /// Private key in OpenSSH format (ed25519 or RSA).
    pub key_path: PathBuf,
    /// Passphrase of the private key, if it is encrypted. Never printed.
    pub key_passphrase: Option<String>,
    /// How host keys are verified.
    pub host_keys: HostKeyPolicy,
    /// Limit for TCP connect + handshake + authentication (default 5 s).
    pub connect_timeout: Duration,
    /// Keepalive interval on idle connections (default 15 s); the connection is dropped after
    /// about four silent intervals. `Duration::ZERO` disables keepalives.
    pub keepalive: Duration,
    /// Concurrent channels (exec + PTY) per host (default 8, below sshd's `MaxSessions 10`).
    /// Values below 1 are treated as 1.
    pub max_channels_per_host: usize,
    /// Bytes kept per output stream of one command (default 256 KiB).
    pub output_cap: usize,
}

impl SshConfig {
    /// Default user for PVE nodes.
    pub const DEFAULT_USER: &'static str = "root";
    /// Default [`SshConfig::connect_timeout`].
    pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
    /// Default [`SshConfig::keepalive`].
    pub const DEFAULT_KEEPALIVE: Duration = Duration::from_secs(15);
    /// Default [`SshConfig::max_channels_per_host`].
    pub const DEFAULT_MAX_CHANNELS: usize = 8;
    /// Default [`SshConfig::output_cap`].
    pub const DEFAULT_OUTPUT_CAP: usize = 256 * 1024;

    /// Settings with the defaults above, user `root`, and no passphrase.
    pub fn new(key_path: impl Into<PathBuf>, host_keys: HostKeyPolicy) -> Self {
        Self {
            user: Self::DEFAULT_USER.to_owned(),
            key_path: key_path.into(),
            key_passphrase: None,
            host_keys,
            connect_timeout: Self::DEFAULT_CONNECT_TIMEOUT,
            keepalive: Self::DEFAULT_KEEPALIVE,
            max_channels_per_host: Self::DEFAULT_MAX_CHANNELS,
            output_cap: Self::DEFAULT_OUTPUT_CAP,
        }
    }
}

impl fmt::Debug for SshConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SshConfig")
            .field("user", &self.user)
            .field("key_path", &self.key_path)
            .field("key_passphrase", &self.key_passphrase.as_ref().map(|_| "***"))
            .field("host_keys", &self.host_keys)
            .field("connect_timeout", &self.connect_timeout)
            .field("keepalive", &self.keepalive)
            .field("max_channels_per_host", &self.max_channels_per_host)
            .field("output_cap", &self.output_cap)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_prints_the_passphrase() {
        let mut cfg = SshConfig::new("/k", HostKeyPolicy::AcceptAny);
        cfg.key_passphrase = Some("hunter2".into());
        let shown = format!("{cfg:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("***"));
    }

    #[test]
    fn defaults_match_the_documented_values() {
        let cfg = SshConfig::new("/k", HostKeyPolicy::AcceptAny);
        assert_eq!(cfg.user, "root");
        assert_eq!(cfg.connect_timeout, Duration::from_secs(5));
        assert_eq!(cfg.keepalive, Duration::from_secs(15));
        assert_eq!(cfg.max_channels_per_host, 8);
        assert_eq!(cfg.output_cap, 256 * 1024);
    }
}
