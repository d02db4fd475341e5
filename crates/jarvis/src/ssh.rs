//! SSH to cluster nodes as the server uses it: resolves a node name to the address the cluster
//! reports (`/cluster/status`), then runs commands or opens terminals through `jarvis-ssh`.
//!
//! No IP is configured or hard-coded: the node list and addresses come from the API, so a node
//! added to the cluster is reachable without touching Jarvis.

use std::sync::Arc;
use std::time::Duration;

use jarvis_ssh::{ExecOutput, HostTarget, PtySession, RemoteExec, SshError};

use crate::cluster::ClusterState;

/// SSH access to the nodes of the cluster.
#[derive(Clone)]
pub struct Ssh {
    exec: Arc<dyn RemoteExec>,
    port: u16,
    cluster: ClusterState,
    /// Outcome of the most recent command, for `/api/health`.
    last: Arc<parking_lot::Mutex<Option<Result<String, String>>>>,
}

impl std::fmt::Debug for Ssh {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ssh").field("port", &self.port).finish_non_exhaustive()
    }
}

impl Ssh {
    /// SSH over `exec`, to port `port` of each node's cluster address.
    pub fn new(exec: Arc<dyn RemoteExec>, port: u16, cluster: ClusterState) -> Ssh {
        Ssh { exec, port, cluster, last: Arc::default() }
    }

    /// The most recent command's outcome: `Ok(node)` or `Err(reason)`; `None` before any.
    pub fn last_outcome(&self) -> Option<Result<String, String>> {
        self.last.lock().clone()
    }

    /// Where to reach `node`: its cluster IP when known, else its name (DNS).
    pub fn target(&self, node: &str) -> HostTarget {
        let snap = self.cluster.snapshot();
        let host = snap.node(node).and_then(|n| n.ip.clone()).unwrap_or_else(|| node.to_string());
        HostTarget::new(node, host, self.port)
    }

    /// Runs an already-quoted command line on `node`.
    pub async fn run(
        &self,
        node: &str,
        command: &str,
        timeout: Duration,
    ) -> Result<ExecOutput, SshError> {
        self.exec.exec(&self.target(node), command, timeout).await
    }

    /// Opens an interactive terminal on `node`.
    pub async fn open_pty(&self, node: &str, cols: u32, rows: u32) -> Result<PtySession, SshError> {
        self.exec.open_pty(&self.target(node), "xterm-256color", cols, rows).await
    }
}
