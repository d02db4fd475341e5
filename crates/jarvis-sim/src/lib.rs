//! A simulated Proxmox VE cluster that speaks the real PVE API wire format, for `jarvis demo`,
//! integration and browser tests, and benchmarks.
//!
//! It is an independent implementation of the wire format (it does not use `jarvis-proxmox`),
//! so the client is tested against something it did not write. Shapes follow the official
//! schema and the recorded responses in `fixtures/pve/` (copied in from the shared reference set): the `{"data": …}` envelope,
//! form-encoded POSTs, 0/1 booleans, numbers as strings where PVE sends strings, pollable UPID
//! tasks, errors with `message` and the same text in the reason phrase, and 401s whose only
//! content is the reason phrase.
//!
//! ```no_run
//! # async fn demo() -> Result<(), jarvis_sim::SimError> {
//! let sim = jarvis_sim::SimServer::start(jarvis_sim::SimConfig::default()).await?;
//! println!("PVE at {} (fingerprint {:?})", sim.base_url(), sim.fingerprint());
//! sim.control().set_node_online("pve3", false)?;
//! sim.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! # Behaviour worth knowing
//! - Power actions answer with a UPID at once; the effect lands when the task finishes
//!   (`task_duration`). Failures PVE decides inside its worker (starting a running VM or a
//!   template, a locked guest) fail the task; the ones PVE checks up front (a running container,
//!   a stopped guest for reboot/reset/suspend, no quorum) answer 500 at once. HA-managed guests
//!   get `hastart`/`hastop` tasks, as in PVE.
//! - An offline node answers 595 `No route to host` (empty body) for everything under
//!   `/nodes/{node}`. In `/cluster/resources` it is `offline` without live metrics; its guests
//!   and storage keep their last values for `offline_stale_after` (pmxcfs keeps status data for
//!   5 minutes) and then turn `unknown` without metrics. Quorum needs a strict majority.
//! - A node is offline in one of two ways. [`SimControl::set_node_online`]`(false)` is network
//!   loss: the machine runs on, its guests keep running, and a wake-on-LAN packet does nothing.
//!   [`SimControl::power_off_node`] (and a node `shutdown`) switches it off: its guests stop,
//!   and `POST /nodes/{other}/wakeonlan` for it boots it after `boot_delay`, starting its
//!   `onboot` guests.
//! - Metrics move only on ticks (background every `tick`, or [`SimControl::tick`]), so tests can
//!   make them deterministic with `tick: Duration::ZERO`.
//! - With `ssh` on (the default) every node runs an SSH server on its own address (127.0.1.x)
//!   at [`SimHandle::ssh_port`], with one ed25519 host key ([`SimHandle::ssh_known_hosts`]).
//!   Public key auth only; exec requests and a PTY shell answer from a command table that reads
//!   the cluster model (`hostname`, `uptime`, `free`, `df`, `qm list`, `systemctl`, `journalctl`,
//!   `sensors`, Jarvis' temperature script, …). Nothing is executed. `systemctl restart` is
//!   recorded ([`SimControl::restarted_services`]). Offline nodes refuse SSH connections.
//!
//! # Control over HTTP (for browser tests)
//! Token-authenticated like the API, never affected by the fault switches:
//! - `GET /_sim/state` — switches, request count, ticks, endpoints, quorum and the
//!   `ClusterSnapshot` (camelCase JSON).
//! - `PUT /_sim/faults` — any of `{"latencyMs": 0, "badToken": false, "errorRate": 0.0,
//!   "failNext": {"count": 2, "status": 500}, "nodeOnline": {"node": "pve2", "online": false},
//!   "endpointDown": {"index": 0, "down": true}, "guestStatus": {"vmid": 100, "running": true},
//!   "tick": 3}`; answers the new state. Unknown fields are a 400.
//! - `POST /_sim/tick` — one metric tick; answers the new state.
//! - `PUT|POST /_sim/scenario` — the scenario controls below, as optional fields of one JSON
//!   object (camelCase; unknown fields and malformed values are a 400 naming the field, before
//!   anything applies; then they apply in this order, stopping at the first that cannot, with a
//!   400 naming it): `{"clear": true}`, `{"advanceClock": {"seconds": 3600}}`,
//!   `{"powerOff": {"node": "pve2"}}`, `{"crash": {"vmid": 101}}`,
//!   `{"failStarts": {"vmid": 101, "count": 3}}` (`count` null: until cleared, 0: clear),
//!   `{"diskFill": {"target": "rootfs"|"storage"|"guest", "node": "pve1", "storage": "local",
//!   "vmid": 105, "fraction": 0.97}}` (each target takes only its own fields; `fraction` null
//!   clears), `{"temperature": {"node": "pve1", "celsius": 96}}` (null clears),
//!   `{"stopFlap": {"node": "pve1", "metric": "cpu"}}` (no metric: both),
//!   `{"flap": {"node": "pve1", "metric": "cpu"|"mem", "low": 0.1, "high": 0.95,
//!   "everyTicks": 3}}`, `{"guestText": {"vmid": 101, "name": …, "description": …, "tags":
//!   […]}}`, `{"backup": {"vmid": 102, "mode": "stop"|"suspend"|"snapshot", "seconds": 30,
//!   "fail": false}}` (mode defaults to `snapshot`), `{"taskLog": {"upid": …, "lines": […]}}`.
//!   Answers the new state, whose `scenario` lists the clock offset, pins, flaps, failing
//!   starts and running backups ([`ScenarioState`]).
//!
//! # Scenario controls (what the autonomous monitor handles)
//! Each changes the model only; clients see the effects through the PVE wire format and SSH.
//! - [`SimControl::crash_guest`] — a running guest stops with no task (QEMU died, OOM). No HA
//!   manager restarts it. Refuses templates and guests that are not running.
//! - [`SimControl::power_off_node`] — see above; the counterpart of network loss.
//! - [`SimControl::fill_disk`] / [`SimControl::clear_disk_fill`] — pin the used share of a
//!   [`DiskTarget`]: a node's root filesystem (node `disk`/`maxdisk`, `rootfs` in node status,
//!   `df`, and the `local` storage on it), a storage (`/cluster/resources` and
//!   `/nodes/{node}/storage`; `nfs-backup` is shared by all nodes) or a container's disk. Ticks
//!   do not move a pinned value; clearing puts the value from before the pin back.
//! - [`SimControl::pin_temperature`] / [`SimControl::clear_temperature`] — the CPU package
//!   reading (k10temp `Tctl`, coretemp `Package id N` and `x86_pkg_temp`) is the pinned value,
//!   cores sit just below it, in the temperature script, `sensors` and the sysfs files.
//! - [`SimControl::start_backup`] / [`SimControl::start_failing_backup`] — a `vzdump` task
//!   (UPID type `vzdump`, id = vmid, owned by the token like other tasks) running for the given
//!   time, listed as running, with a vzdump-like log; the guest has `lock: backup` meanwhile (in
//!   `/cluster/resources`, status and config, and the domain snapshot). [`BackupMode::Stop`]
//!   shuts the guest down at the start and starts it at the end, without separate tasks. The
//!   node's CPU and IO rise a little on ticks. The task ends `OK` (and an archive appears in
//!   `nfs-backup`'s content) or `job errors`; stopping the task ends it `interrupted by signal`,
//!   unlocking (and restarting) the guest.
//! - [`SimControl::flap_node_metric`] / [`SimControl::stop_flap`] — a node's CPU or memory
//!   (fractions) is `high` for N ticks, then `low` for N ticks, and so on.
//! - [`SimControl::fail_starts`] — the next N starts (or all until cleared) of a guest fail in
//!   their task (`qmstart`, `vzstart`, `hastart`) with `start failed: QEMU exited with code 1`
//!   (containers: `startup for container '<vmid>' failed`); the guest stays stopped. An `onboot`
//!   start at node boot fails the same way.
//! - [`SimControl::advance_clock`] / [`SimControl::clock_offset`] — every Unix time the
//!   simulator reports (task `starttime`/`endtime` and the UPID's start field, `ctime`, rrd
//!   times, `last_update`, times over SSH, the snapshot's `updatedAt`) is the wall clock plus
//!   the offset (applied in one place, `Cluster::unix_now`); uptimes of running nodes and guests
//!   grow with it, so boot times stay put. Internals on `Instant` (task completion, ticks,
//!   staleness) stay real-time.
//! - [`SimControl::set_guest_text`] / [`SimControl::append_task_log`] — names, descriptions,
//!   tags and task-log lines for prompt-injection tests (not held to PVE's name rules).
//! - [`SimControl::clear_scenario`] — drops every pin, flap and failing start; running backups
//!   run to their end and the clock offset stays.
//!
//! # Layout
//! - `config` — [`SimConfig`], [`SimError`]
//! - `scenario` — pins, flaps, failing starts (state and how ticks honour it);
//!   `scenario_state` — its JSON view; `backup` — `vzdump` tasks; `control_scenario` — the
//!   scenario controls; `scenario_http` — `/_sim/scenario`
//! - `catalog` — demo guests, hardware, version strings
//! - `model` — cluster state; `generate` — building it from a seed; `tick` — metric movement;
//!   `tasks` — UPIDs
//!   and task completion; `snapshot` — the domain view
//! - `wire` — envelopes, errors, parameter checks; `render`, `render_guest` — PVE JSON
//! - `api`, `api_guest` — routes; `http` — auth, faults, latency; `server` — listeners;
//!   `tls` — certificate; `control` — [`SimControl`] and `/_sim/`
//! - `ssh` — the per-node SSH servers, their shell and command table
//! - [`llm`] — scripted LLM servers (Anthropic Messages and OpenAI-compatible streaming)

mod api;
mod api_guest;
mod backup;
mod catalog;
mod config;
mod control;
mod control_scenario;
mod generate;
mod http;
pub mod llm;
pub mod local_llm;
mod model;
mod render;
mod render_content;
mod render_guest;
mod scenario;
mod scenario_http;
mod scenario_state;
mod server;
mod snapshot;
mod ssh;
mod tasks;
mod tick;
mod tls;
mod wire;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Instant;

use parking_lot::Mutex;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use config::{SimConfig, SimError};
pub use control::{EndpointInfo, SimControl};
pub use llm::{DemoResponder, Responder, Script, ScriptedLlm, ScriptedLlmHandle, ToolCall, Turn};
pub use local_llm::{LOCAL_CONTEXT_WINDOW, LOCAL_MODEL_ALIAS, LocalLlmServer};
pub use scenario::{BackupMode, DiskTarget, FlapMetric, GuestText};
pub use scenario_state::{
    BackupState, DiskFillState, FailStartsState, FlapState, ScenarioState, TemperatureState,
};
pub use tls::sha256_fingerprint;

use crate::control::Faults;
use crate::model::{Cluster, node_ip};
use crate::server::{Endpoint, Shared, bind_std};

/// Starts simulators.
pub struct SimServer;

impl SimServer {
    /// Generates the cluster, binds the listeners and starts serving. Must be called inside a
    /// Tokio runtime; the simulator runs until [`SimHandle::shutdown`] or the runtime ends.
    pub async fn start(cfg: SimConfig) -> Result<SimHandle, SimError> {
        cfg.validate()?;
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
            SimError::Config("the simulator must run inside a Tokio runtime".into())
        })?;
        let main_std = bind_std(SocketAddr::new(cfg.bind, cfg.port))?;
        let port = main_std
            .local_addr()
            .map_err(|source| SimError::Bind {
                addr: SocketAddr::new(cfg.bind, cfg.port),
                source,
                hint: "",
            })?
            .port();
        let mut endpoints = vec![Endpoint::new(SocketAddr::new(cfg.bind, port), None)];
        if cfg.per_node_endpoints {
            endpoints
                .extend((0..cfg.nodes).map(|i| {
                    Endpoint::new(SocketAddr::new(IpAddr::V4(node_ip(i)), port), Some(i))
                }));
        }
        let tls = if cfg.tls { Some(tls::make(cert_names(&cfg))?) } else { None };
        let (ssh, ssh_sockets) = match cfg.ssh {
            true => {
                let (state, sockets) = ssh::prepare(&cfg, port)?;
                (Some(state), sockets)
            }
            false => (None, Vec::new()),
        };
        let cluster = Cluster::generate(&cfg, tls.as_ref().map(|t| t.fingerprint.clone()));
        let shared = Arc::new(Shared {
            ssh,
            faults: Mutex::new(Faults::new(cfg.seed)),
            cluster: Mutex::new(cluster),
            requests: AtomicU64::new(0),
            tls,
            endpoints,
            synced_epoch: AtomicU64::new(0),
            cancel: CancellationToken::new(),
            tracker: TaskTracker::new(),
            runtime,
            cfg,
        });
        let handle = SimHandle { shared: shared.clone() };
        let started = (|| {
            shared.serve_endpoint(0, main_std)?;
            for i in 1..shared.endpoints.len() {
                shared.serve_endpoint(i, bind_std(shared.endpoints[i].addr)?)?;
            }
            ssh::start(&shared, ssh_sockets)?;
            Ok::<(), SimError>(())
        })();
        if let Err(e) = started {
            handle.clone().shutdown().await;
            return Err(e);
        }
        if !shared.cfg.tick.is_zero() {
            shared.tracker.spawn(ticker(shared.clone()));
        }
        tracing::info!(url = %handle.base_url(), nodes = shared.cfg.nodes, guests = shared.cfg.guests, "PVE simulator listening");
        Ok(handle)
    }
}

/// Names the certificate is valid for: loopback, and each node's name and address (skipped
/// for big clusters without node endpoints, where nobody connects by node and the certificate
/// would only grow every handshake).
fn cert_names(cfg: &SimConfig) -> Vec<String> {
    let mut names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
    if !cfg.bind.is_unspecified() && cfg.bind.to_string() != "127.0.0.1" {
        names.push(cfg.bind.to_string());
    }
    if cfg.per_node_endpoints || cfg.nodes <= 16 {
        for i in 0..cfg.nodes {
            names.push(format!("pve{}", i + 1));
            names.push(node_ip(i).to_string());
        }
    }
    names
}

async fn ticker(shared: Arc<Shared>) {
    let mut interval = tokio::time::interval(shared.cfg.tick);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    interval.tick().await;
    loop {
        tokio::select! {
            _ = shared.cancel.cancelled() => break,
            _ = interval.tick() => {
                {
                    let mut cl = shared.cluster.lock();
                    cl.settle(Instant::now());
                    cl.tick();
                }
                shared.sync_node_endpoints();
            }
        }
    }
}

/// A running simulator. Cloning gives another handle on the same simulator.
#[derive(Clone)]
pub struct SimHandle {
    shared: Arc<Shared>,
}

impl SimHandle {
    fn scheme(&self) -> &'static str {
        if self.shared.tls.is_some() { "https" } else { "http" }
    }

    /// Base URL of the main listener, e.g. `https://127.0.0.1:38211` (without `/api2/json`).
    pub fn base_url(&self) -> String {
        format!("{}://{}", self.scheme(), self.shared.endpoints[0].addr)
    }

    /// Base URLs of the per-node endpoints in node order (empty unless `per_node_endpoints`).
    pub fn node_urls(&self) -> Vec<String> {
        self.shared.endpoints[1..]
            .iter()
            .map(|e| format!("{}://{}", self.scheme(), e.addr))
            .collect()
    }

    /// The token id clients must use.
    pub fn token_id(&self) -> &str {
        &self.shared.cfg.token_id
    }

    /// The token secret clients must use.
    pub fn token_secret(&self) -> &str {
        &self.shared.cfg.token_secret
    }

    /// The full `Authorization` header value for the configured token.
    pub fn auth_header(&self) -> String {
        format!("PVEAPIToken={}={}", self.shared.cfg.token_id, self.shared.cfg.token_secret)
    }

    /// SHA-256 fingerprint of the served certificate (`AB:CD:…`), None without TLS.
    pub fn fingerprint(&self) -> Option<String> {
        self.shared.tls.as_ref().map(|t| t.fingerprint.clone())
    }

    /// The served self-signed certificate in PEM, None without TLS.
    pub fn cert_pem(&self) -> Option<String> {
        self.shared.tls.as_ref().map(|t| t.cert_pem.clone())
    }

    /// Port of every node's SSH server (`<node ip>:<port>`), None when `ssh` is off.
    pub fn ssh_port(&self) -> Option<u16> {
        self.shared.ssh.as_ref().map(|s| s.port)
    }

    /// OpenSSH-style SHA-256 fingerprint (`SHA256:…`) of the SSH host key all nodes share,
    /// None when `ssh` is off.
    pub fn ssh_host_key_fingerprint(&self) -> Option<String> {
        self.shared.ssh.as_ref().map(|s| s.fingerprint.clone())
    }

    /// known_hosts lines pinning the host key for every node (`[127.0.1.1]:PORT ssh-ed25519
    /// AAAA…`, one line each, in node order), None when `ssh` is off.
    pub fn ssh_known_hosts(&self) -> Option<String> {
        self.shared.ssh.as_ref().map(|s| s.known_hosts.clone())
    }

    /// Fault switches and direct state changes.
    pub fn control(&self) -> SimControl {
        SimControl { shared: self.shared.clone() }
    }

    /// Stops every listener and connection and waits for them to finish.
    pub async fn shutdown(self) {
        self.shared.stop_all();
        self.shared.cancel.cancel();
        self.shared.tracker.close();
        self.shared.tracker.wait().await;
    }
}
