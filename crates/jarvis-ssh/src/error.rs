//! The crate's error type. Messages say what the operator should check or run; they never contain
//! key material or passphrases.

use std::time::Duration;

/// Everything that can go wrong talking SSH to a node.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SshError {
    /// TCP connect or the SSH handshake failed (host down, wrong port, sshd not running, …).
    #[error("cannot reach sshd on {host}: {detail}")]
    Connect {
        /// The node and address.
        host: String,
        /// What failed.
        detail: String,
    },
    /// The server rejected our key.
    #[error("SSH authentication to {host} failed: {detail}")]
    Auth {
        /// The node and address.
        host: String,
        /// What failed, and which key was offered (by fingerprint).
        detail: String,
    },
    /// The server presented a key other than the recorded one: a reinstalled node, or someone
    /// impersonating it.
    #[error(
        "host key of {host} does not match the recorded one (expected {expected}, server presented \
         {got}); if the node was reinstalled, compare with `ssh-keygen -lf \
         /etc/ssh/ssh_host_ed25519_key.pub` on the node and update the trusted key; otherwise \
         someone may be impersonating it"
    )]
    HostKeyMismatch {
        /// The node and address.
        host: String,
        /// Fingerprint(s) recorded for the host.
        expected: String,
        /// Fingerprint the server presented.
        got: String,
    },
    /// The host is not in the trusted keys at all.
    #[error(
        "host key of {host} is not trusted (server presented {fingerprint}); compare it with \
         `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` on the node, then add the node to \
         the known_hosts file"
    )]
    UnknownHostKey {
        /// The node and address.
        host: String,
        /// Fingerprint the server presented, `SHA256:…`.
        fingerprint: String,
    },
    /// The operation did not finish in time.
    #[error("{host}: no result within {after:?}")]
    Timeout {
        /// The node and address.
        host: String,
        /// The limit that expired.
        after: Duration,
    },
    /// Opening or using a channel on an established connection failed.
    #[error("SSH channel error: {0}")]
    Channel(String),
    /// The private key could not be loaded.
    #[error("cannot load SSH private key: {0}")]
    Key(String),
    /// The session or connection is already closed.
    #[error("SSH session is closed")]
    Closed,
}
