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
//! - [`cluster`] — the one in-memory cluster state and the poller that fills it.
//! - [`api`] — REST routes (`api/router.rs` is the only list of routes) and OpenAPI.
//! - [`realtime`] — Socket.IO namespaces and the pusher of cluster changes.
//! - [`web`] — the embedded React UI.
//! - [`commands`] — the `demo`, `doctor`, `healthcheck`, `hash-password` and `migrate` commands.
//!
//! [`run`] takes an already bound listener and a shutdown future, so tests bind port 0 and stop
//! the server whenever they like; `main` only parses the command line and calls into here.

pub mod api;
pub mod auth;
pub mod cli;
pub mod cluster;
pub mod commands;
pub mod config;
pub mod db;
pub mod error;
pub mod metrics;
pub mod realtime;
pub mod state;
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

/// Runs the server on `listener` until `shutdown` resolves, then drains sockets, stops the
/// pollers, waits for in-flight work and checkpoints the database.
pub async fn run(
    config: Config,
    pve: Arc<dyn ProxmoxApi>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let db = Db::open(&config.db_path).await?;
    let auth = AuthService::new(&config.auth, db.clone()).await?;
    let state = AppState {
        config: Arc::new(config),
        db: db.clone(),
        auth,
        cluster: ClusterState::new(),
        metrics: Metrics::default(),
        pve: pve.clone(),
        started,
    };

    let (socket_layer, io) = realtime::layer(state.clone());
    let app = api::router(state.clone(), socket_layer);

    // The supervisor: every background component gets the same cancellation token, and the
    // tracker lets shutdown wait for all of them before the database closes.
    let cancel = CancellationToken::new();
    let tracker = TaskTracker::new();
    let poller = Poller {
        api: pve,
        state: state.cluster.clone(),
        metrics: state.metrics.clone(),
        interval: state.config.poll_interval,
    };
    tracker.spawn(poller.run(cancel.clone()));
    tracker.spawn(realtime::push_cluster_changes(io.clone(), state.clone(), cancel.clone()));
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
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(stop)
        .await?;

    cancel.cancel();
    tracker.close();
    if tokio::time::timeout(SHUTDOWN_GRACE, tracker.wait()).await.is_err() {
        tracing::warn!("some components did not stop within {SHUTDOWN_GRACE:?}");
    }
    db.close().await?;
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
