//! [`AppState`]: the handles every handler and component shares. Cheap to clone (all `Arc`s).

use std::sync::Arc;
use std::time::Instant;

use jarvis_proxmox::ProxmoxApi;

use crate::auth::AuthService;
use crate::cluster::ClusterState;
use crate::config::Config;
use crate::db::Db;
use crate::metrics::Metrics;

/// Shared application state.
#[derive(Clone)]
pub struct AppState {
    /// The validated configuration.
    pub config: Arc<Config>,
    /// The database.
    pub db: Db,
    /// Login, tokens, revocation, rate limit.
    pub auth: Arc<AuthService>,
    /// The one cluster snapshot.
    pub cluster: ClusterState,
    /// Prometheus metrics.
    pub metrics: Metrics,
    /// The PVE API (used by health; later by tools).
    pub pve: Arc<dyn ProxmoxApi>,
    /// Process start, for uptime.
    pub started: Instant,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").field("config", &self.config).finish_non_exhaustive()
    }
}
