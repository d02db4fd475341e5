//! Jarvis: a self-hosted AI command center for Proxmox VE clusters.
//!
//! This crate is the server binary's library: everything stateful lives here as modules, while
//! the pure logic lives in `jarvis-domain` and the PVE client in `jarvis-proxmox`.
//!
//! # Layout
//! - [`cli`] — subcommands and every setting as flag + env var.
//! - [`config`] — the one typed, validated [`config::Config`]; secrets print as `***`.
//! - [`db`] — SQLite (WAL, pool, versioned migrations).
//! - [`auth`] — password login, session tokens, revocation, failed-login rate limit.
//! - [`cluster`] — the one in-memory cluster state, the poller and the temperature reader.
//! - [`tools`] — the one tool pipeline (parse → safety → execute → audit) and the executors.
//! - [`guard`] — kill switch, elevation, protected resources.
//! - [`bus`], [`events`] — the event bus and activity events.
//! - [`clock`] — where time-driven components read "now" (a manual clock in tests).
//! - [`chat`] — the chat assistant: providers, routing, the agent loop, slash commands.
//! - [`ssh`] — node name → address resolution over `jarvis-ssh`.
//! - [`notify`] — notification targets (SMTP, webhooks) and the outbox that delivers them.
//! - [`http_client`] — the one outbound HTTP client for operator-given URLs (SSRF guard).
//! - [`mcp`] — the tools over MCP: streamable HTTP at `/mcp` and `jarvis mcp` on stdio.
//! - [`api`] — REST routes (`api/router.rs` is the only list of routes) and OpenAPI.
//! - [`realtime`] — Socket.IO namespaces (`/cluster`, `/events`, `/terminal`, `/chat`) and pushers.
//! - [`web`] — the embedded React UI.
//! - [`commands`] — the `demo`, `doctor`, `healthcheck`, `hash-password` and `migrate` commands.
//!
//! [`run`] takes an already bound listener and a shutdown future, so tests bind port 0 and stop
//! the server whenever they like; `main` only parses the command line and calls into here.

pub mod api;
pub mod auth;
pub mod bus;
pub mod chat;
pub mod cli;
pub mod clock;
pub mod cluster;
pub mod commands;
pub mod config;
pub mod db;
pub mod error;
pub mod events;
pub mod guard;
pub mod http_client;
pub mod mcp;
pub mod metrics;
pub mod notify;
pub mod realtime;
pub mod ssh;
pub mod state;
pub mod tools;
pub mod web;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jarvis_proxmox::ProxmoxApi;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::auth::AuthService;
use crate::cluster::{ClusterState, Poller};
use crate::config::Config;
use crate::db::Db;
use crate::metrics::Metrics;
use crate::state::AppState;

/// How long shutdown waits for background components before giving up on them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// The stateful core `serve` and `jarvis mcp` share: database, auth, cluster state and its
/// poller, SSH, guard, event bus and the one tool pipeline, with the supervisor (cancellation
/// token + task tracker) of the background components it started.
pub struct Core {
    /// The handles every handler and component shares.
    pub state: AppState,
    /// Cancelled at shutdown; every background component watches it.
    pub cancel: CancellationToken,
    /// Background components, waited for at shutdown.
    pub tracker: TaskTracker,
}

impl std::fmt::Debug for Core {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Core").field("state", &self.state).finish_non_exhaustive()
    }
}

impl Core {
    /// Stops the background components (waiting at most `SHUTDOWN_GRACE`, 10 s), then
    /// checkpoints and closes the database.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        self.cancel.cancel();
        self.tracker.close();
        if tokio::time::timeout(SHUTDOWN_GRACE, self.tracker.wait()).await.is_err() {
            tracing::warn!("some components did not stop within {SHUTDOWN_GRACE:?}");
        }
        self.state.db.close().await?;
        Ok(())
    }
}

/// Opens the database and builds the core, starting the cluster poller.
pub async fn build_core(config: Config, pve: Arc<dyn ProxmoxApi>) -> anyhow::Result<Core> {
    let started = Instant::now();
    let db = Db::open(&config.db_path).await?;
    let cluster = ClusterState::new();
    let metrics = Metrics::default();
    // Built here so every handler can list and test targets; only `run` starts its delivery
    // loop, so `jarvis mcp` (which shares the database) never sends.
    let targets = notify::Targets::from_config(&config.notify)
        .map_err(|e| anyhow::anyhow!("notification targets: {e}"))?;
    let outbox = notify::Outbox::new(
        db.clone(),
        targets,
        notify::OutboxSettings::from_config(&config.notify),
        metrics.clone(),
        clock::system(),
    );

    // The supervisor: every background component gets the same cancellation token, and the
    // tracker lets shutdown wait for all of them before the database closes. The poller starts
    // first so the first cluster read overlaps the (deliberately slow) password hashing below.
    let cancel = CancellationToken::new();
    let tracker = TaskTracker::new();
    let poller = Poller {
        api: pve.clone(),
        state: cluster.clone(),
        metrics: metrics.clone(),
        interval: config.poll_interval,
    };
    tracker.spawn(poller.run(cancel.clone()));

    let rest = async {
        let ssh = match &config.ssh {
            Some(s) => Some(ssh::Ssh::new(
                Arc::new(jarvis_ssh::SshPool::new(s.client.clone())?),
                s.port,
                cluster.clone(),
            )),
            None => None,
        };
        let auth = AuthService::new(&config.auth, db.clone()).await?;
        let guard = Arc::new(
            guard::Guard::load(
                db.clone(),
                config.safety.protected.clone(),
                config.safety.override_key.clone(),
            )
            .await?,
        );
        anyhow::Ok((ssh, auth, guard))
    };
    let (ssh, auth, guard) = match rest.await {
        Ok(parts) => parts,
        Err(e) => {
            cancel.cancel();
            return Err(e);
        }
    };
    let bus = bus::Bus::default();
    let tools = tools::Pipeline {
        db: db.clone(),
        guard: guard.clone(),
        cluster: cluster.clone(),
        pve: pve.clone(),
        ssh: ssh.clone(),
        bus: bus.clone(),
    };
    let chat = chat::ChatService::new(
        db.clone(),
        tools.clone(),
        cluster.clone(),
        guard.clone(),
        bus.clone(),
        config.llm.clone(),
        chat::providers::Providers::from_settings(&config.llm),
        config.safety.override_key.as_ref().map(|k| k.expose().clone()),
        cancel.child_token(),
    )
    .with_metrics(metrics.clone());
    let state = AppState {
        chat,
        config: Arc::new(config),
        db,
        auth,
        cluster,
        metrics,
        pve,
        started,
        guard,
        bus,
        tools,
        ssh,
        outbox,
    };
    Ok(Core { state, cancel, tracker })
}

/// Runs the server on `listener` until `shutdown` resolves, then drains sockets, stops the
/// pollers, waits for in-flight work and checkpoints the database.
pub async fn run(
    config: Config,
    pve: Arc<dyn ProxmoxApi>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let core = build_core(config, pve).await?;
    let (state, cancel, tracker) = (core.state.clone(), core.cancel.clone(), &core.tracker);

    if let (Some(ssh), Some(interval)) = (&state.ssh, state.config.temperature_interval) {
        tracker.spawn(cluster::temperatures::run(
            ssh.clone(),
            state.cluster.clone(),
            interval,
            cancel.clone(),
        ));
    }

    tracker.spawn(state.outbox.clone().run(cancel.clone()));

    let (socket_layer, io) = realtime::layer(state.clone());
    // MCP (streamable HTTP at /mcp) shares the shutdown token so in-flight MCP work stops with
    // everything else.
    let app = api::router(state.clone(), socket_layer, cancel.clone());

    tracker.spawn(realtime::push_cluster_changes(io.clone(), state.clone(), cancel.clone()));
    tracker.spawn(realtime::push_events(io.clone(), state.clone(), cancel.clone()));
    tracker.spawn(realtime::sweep_expired_sockets(
        io.clone(),
        state.clone(),
        Duration::from_secs(30),
        cancel.clone(),
    ));

    let addr = listener.local_addr()?;
    tracing::info!(%addr, "jarvis listening");
    let stop = {
        let cancel = cancel.clone();
        let io = io.clone();
        async move {
            shutdown.await;
            tracing::info!("shutting down: closing sockets and stopping components");
            cancel.cancel();
            // Live websockets would otherwise keep the graceful shutdown waiting forever.
            io.close().await;
        }
    };
    let served = axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(stop)
        .await;
    drop(state);
    core.shutdown().await?;
    served?;
    tracing::info!("shutdown complete");
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

/// Builds the PVE client for a configuration.
pub fn pve_client(config: &Config) -> anyhow::Result<Arc<dyn ProxmoxApi>> {
    Ok(Arc::new(jarvis_proxmox::PveClient::new(config.pve.clone())?))
}
