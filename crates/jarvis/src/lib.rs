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
//! - [`monitor`] — the autonomous monitor's driver (schedule, reads, effects) and its handle.
//! - [`supervisor`] — named background components on one cancellation token.
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
pub mod monitor;
pub mod notify;
pub mod realtime;
pub mod retention;
pub mod ssh;
pub mod state;
pub mod supervisor;
pub mod tools;
pub mod web;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jarvis_proxmox::{ProxmoxActions, ProxmoxApi, PveClient};
use tokio::net::TcpListener;

use crate::auth::AuthService;
use crate::cluster::{ClusterState, Poller};
use crate::config::Config;
use crate::db::Db;
use crate::metrics::Metrics;
use crate::state::AppState;

/// How long shutdown waits for background components before giving up on them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// The stateful core `serve` and `jarvis mcp` share: database, auth, cluster state and its
/// poller, SSH, guard, event bus and the one tool pipeline, with the supervisor of the
/// background components it started.
pub struct Core {
    /// The handles every handler and component shares.
    pub state: AppState,
    /// Starts, names and stops the background components.
    pub supervisor: supervisor::Supervisor,
    /// PVE reads for components started later (the monitor's task list).
    pub pve_read: Arc<dyn ProxmoxApi>,
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
        if !self.supervisor.shutdown(SHUTDOWN_GRACE).await {
            tracing::warn!("some components did not stop within {SHUTDOWN_GRACE:?}");
        }
        self.state.db.close().await?;
        Ok(())
    }

    /// Starts the components only a serving Jarvis runs — never `jarvis mcp`, which shares the
    /// database and would otherwise act and notify a second time: temperatures, the
    /// notification outbox, the monitor and retention (one writer prunes, not two processes).
    pub async fn start_acting_components(&self) -> anyhow::Result<()> {
        let (state, sup) = (&self.state, &self.supervisor);
        if let (Some(ssh), Some(interval)) = (&state.ssh, state.config.temperature_interval) {
            let run = cluster::temperatures::run(
                ssh.clone(),
                state.cluster.clone(),
                interval,
                sup.token(),
            );
            sup.spawn("temperatures", run);
        }
        sup.spawn("outbox", state.outbox.clone().run(sup.token()));
        let driver = monitor::Driver::start(monitor::DriverDeps {
            db: state.db.clone(),
            pipeline: state.tools.clone(),
            pve: self.pve_read.clone(),
            cluster: state.cluster.clone(),
            guard: state.guard.clone(),
            outbox: state.outbox.clone(),
            bus: state.bus.clone(),
            metrics: state.metrics.clone(),
            clock: clock::system(),
            service: state.monitor.clone(),
            config: state.config.monitor.clone(),
        })
        .await?;
        sup.spawn("monitor", driver.run(sup.token()));
        sup.spawn(
            "retention",
            retention::run(
                state.db.clone(),
                state.config.retention.clone(),
                state.metrics.clone(),
                clock::system(),
                sup.token(),
            ),
        );
        Ok(())
    }
}

/// The two sides of one PVE client: reads for every component that needs PVE data, actions for
/// the tool pipeline only ([`build_core`] hands `actions` to [`tools::Pipeline`] and to nothing
/// else).
#[derive(Clone)]
pub struct PveHandles {
    /// Reads (the poller, the pipeline's read tools).
    pub read: Arc<dyn ProxmoxApi>,
    /// Changes (guest and node power, Wake-on-LAN).
    pub actions: Arc<dyn ProxmoxActions>,
}

impl PveHandles {
    /// Both sides of a client that implements both (normally [`PveClient`]).
    pub fn new<C: ProxmoxApi + ProxmoxActions + 'static>(client: Arc<C>) -> Self {
        PveHandles { read: client.clone(), actions: client }
    }
}

impl std::fmt::Debug for PveHandles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PveHandles").finish_non_exhaustive()
    }
}

/// Opens the database and builds the core, starting the cluster poller.
pub async fn build_core(config: Config, pve: PveHandles) -> anyhow::Result<Core> {
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

    // Every background component gets the same cancellation token, and shutdown waits for all
    // of them before the database closes. The poller starts first so the first cluster read
    // overlaps the (deliberately slow) password hashing below.
    let supervisor = supervisor::Supervisor::new();
    let pve_read = pve.read.clone();
    let poller = Poller {
        api: pve.read.clone(),
        state: cluster.clone(),
        metrics: metrics.clone(),
        interval: config.poll_interval,
    };
    supervisor.spawn("cluster poller", poller.run(supervisor.token()));

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
            supervisor.shutdown(SHUTDOWN_GRACE).await;
            return Err(e);
        }
    };
    let bus = bus::Bus::default();
    let tools = tools::Pipeline::new(
        db.clone(),
        guard.clone(),
        cluster.clone(),
        pve,
        ssh.clone(),
        bus.clone(),
    );
    let chat = chat::ChatService::new(
        db.clone(),
        tools.clone(),
        cluster.clone(),
        guard.clone(),
        bus.clone(),
        config.llm.clone(),
        chat::providers::Providers::from_settings(&config.llm),
        config.safety.override_key.as_ref().map(|k| k.expose().clone()),
        supervisor.token().child_token(),
    )
    .with_metrics(metrics.clone());
    let monitor = monitor::MonitorService::new(config.monitor.initial_level, guard.kill_switch());
    let chat = chat.with_monitor(monitor.clone());
    let state = AppState {
        chat,
        config: Arc::new(config),
        db,
        auth,
        cluster,
        metrics,
        started,
        guard,
        bus,
        tools,
        ssh,
        outbox,
        monitor,
    };
    Ok(Core { state, supervisor, pve_read })
}

/// Runs the server on `listener` until `shutdown` resolves, then drains sockets, stops the
/// pollers, waits for in-flight work and checkpoints the database.
pub async fn run(
    config: Config,
    pve: PveHandles,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let core = build_core(config, pve).await?;
    core.start_acting_components().await?;
    let state = core.state.clone();
    let sup = core.supervisor.clone();
    let cancel = sup.token();

    let (socket_layer, io) = realtime::layer(state.clone());
    // MCP (streamable HTTP at /mcp) shares the shutdown token so in-flight MCP work stops with
    // everything else.
    let app = api::router(state.clone(), socket_layer, cancel.clone());

    sup.spawn(
        "cluster push",
        realtime::push_cluster_changes(io.clone(), state.clone(), cancel.clone()),
    );
    sup.spawn("events push", realtime::push_events(io.clone(), state.clone(), cancel.clone()));
    let sweep = realtime::sweep_expired_sockets(
        io.clone(),
        state.clone(),
        Duration::from_secs(30),
        cancel.clone(),
    );
    sup.spawn("socket sweeper", sweep);

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

/// Builds the PVE client for a configuration (wrap it in [`PveHandles::new`] for [`run`]).
pub fn pve_client(config: &Config) -> anyhow::Result<Arc<PveClient>> {
    Ok(Arc::new(PveClient::new(config.pve.clone())?))
}
