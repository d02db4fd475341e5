//! [`AppState`]: the handles every handler and component shares. Cheap to clone (all `Arc`s).
//! It holds no PVE client: reads come from the cluster state, and changes go through `tools`.

use std::sync::Arc;
use std::time::Instant;

use crate::auth::AuthService;
use crate::bus::Bus;
use crate::chat::ChatService;
use crate::cluster::ClusterState;
use crate::config::Config;
use crate::db::Db;
use crate::guard::Guard;
use crate::metrics::Metrics;
use crate::notify::Outbox;
use crate::ssh::Ssh;
use crate::tools::Pipeline;

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
    /// Process start, for uptime.
    pub started: Instant,
    /// Kill switch, elevation, protected resources.
    pub guard: Arc<Guard>,
    /// The event bus.
    pub bus: Bus,
    /// The one tool pipeline.
    pub tools: Pipeline,
    /// SSH to the nodes, when configured.
    pub ssh: Option<Ssh>,
    /// The chat assistant.
    pub chat: ChatService,
    /// The monitor's status and commands (its driver runs only in `serve`/`demo`).
    pub monitor: crate::monitor::MonitorService,
    /// The notification outbox (its delivery loop runs only in `serve`/`demo`).
    pub outbox: Outbox,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").field("config", &self.config).finish_non_exhaustive()
    }
}
