//! Steering the simulator: fault switches (latency, failing calls, bad token, random errors),
//! direct state changes (node online, guest running, endpoint down), deterministic ticks, SSH
//! counters (sessions, restarted services) and a domain snapshot — from Rust through
//! [`SimControl`], and from browser tests through the token-protected `/_sim/` HTTP routes.
//! The monitor's scenario controls are in `control_scenario.rs` (`/_sim/scenario` in
//! `scenario_http.rs`).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Response, StatusCode, header};
use jarvis_domain::ClusterSnapshot;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::config::SimError;
use crate::model::UnitAction;
use crate::server::Shared;
use crate::wire::ApiError;

/// The fault switches.
pub(crate) struct Faults {
    pub latency: Duration,
    pub bad_token: bool,
    pub error_rate: f64,
    /// (calls left, status to answer).
    pub fail_next: Option<(usize, u16)>,
    /// Draws for `error_rate`; separate from the metric RNG so faults never change metrics.
    pub rng: StdRng,
}

impl Faults {
    pub fn new(seed: u64) -> Self {
        Self {
            latency: Duration::ZERO,
            bad_token: false,
            error_rate: 0.0,
            fail_next: None,
            rng: StdRng::seed_from_u64(seed ^ 0xfa17_fa17),
        }
    }

    /// The status the next API call must fail with, if any (consumes one `fail_next`).
    pub fn take(&mut self) -> Option<u16> {
        if let Some((n, status)) = self.fail_next {
            self.fail_next = (n > 1).then_some((n - 1, status));
            return Some(status);
        }
        if self.error_rate > 0.0 && self.rng.random_bool(self.error_rate.clamp(0.0, 1.0)) {
            return Some(500);
        }
        None
    }
}

/// The answer to an injected failure: PVE's error shape for that status.
pub(crate) fn fault_error(status: u16) -> ApiError {
    let canonical =
        StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()).unwrap_or("error");
    match status {
        // Auth and proxy failures come without a body in PVE.
        401 => ApiError::bare(401, "invalid token value!"),
        595 => ApiError::bare(595, "No route to host"),
        596 => ApiError::bare(596, "Connection timed out"),
        _ => ApiError::new(status, format!("injected fault: {canonical}")),
    }
}

/// Where an endpoint listens and whether it is up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointInfo {
    /// 0 is the main listener; 1.. are node endpoints in node order.
    pub index: usize,
    /// Base URL (no `/api2/json`).
    pub url: String,
    /// The node the endpoint belongs to, if it is a node endpoint.
    pub node: Option<String>,
    /// Whether it accepts connections now.
    pub up: bool,
}

/// Cheap, cloneable, thread-safe handle on a running simulator's switches and state.
#[derive(Clone)]
pub struct SimControl {
    pub(crate) shared: Arc<Shared>,
}

impl SimControl {
    /// Takes a node off the cluster network (`false`) or brings it back (`true`): network
    /// loss, not power loss — its guests keep running (the cluster keeps their last state for
    /// `offline_stale_after`) and a wake-on-LAN packet changes nothing. Offline nodes answer 595
    /// through the API, lose quorum votes, and their per-node endpoint and SSH server go down
    /// (connections refused, open ones cut). `true` on a powered-off node
    /// ([`SimControl::power_off_node`]) boots it at once. For a power cut, see
    /// [`SimControl::power_off_node`].
    pub fn set_node_online(&self, name: &str, online: bool) -> Result<(), SimError> {
        {
            let mut cl = self.shared.cluster.lock();
            let i = cl.node_idx(name).ok_or_else(|| SimError::UnknownNode(name.into()))?;
            if online && cl.nodes[i].powered_off {
                cl.finish_boot(i);
            } else if online {
                cl.set_node_online(i);
            } else {
                cl.set_node_offline(i, Instant::now());
            }
        }
        self.shared.sync_node_endpoints();
        Ok(())
    }

    /// Delays every API answer by `latency`.
    pub fn set_latency(&self, latency: Duration) {
        self.shared.faults.lock().latency = latency;
    }

    /// Makes the next `n` API calls answer `status` with a PVE error (401/595 with an empty
    /// body and the reason in the status line, like PVE's own).
    pub fn fail_next(&self, n: usize, status: u16) {
        self.shared.faults.lock().fail_next = (n > 0).then_some((n, status));
    }

    /// Makes each API call fail with 500 with this probability (0..=1).
    pub fn set_error_rate(&self, rate: f64) {
        self.shared.faults.lock().error_rate =
            if rate.is_finite() { rate.clamp(0.0, 1.0) } else { 0.0 };
    }

    /// Makes every API call answer 401 `invalid token value!`, as if the token were revoked.
    pub fn set_bad_token(&self, bad: bool) {
        self.shared.faults.lock().bad_token = bad;
    }

    /// Takes endpoint `index` down (its listener is dropped: connections are refused, open ones
    /// are cut) or brings it back on the same address.
    pub fn set_endpoint_down(&self, index: usize, down: bool) -> Result<(), SimError> {
        self.shared.set_endpoint_down(index, down)
    }

    /// Starts or stops a guest at once, without a task (for a crash with the checks a test
    /// wants, see [`SimControl::crash_guest`]).
    pub fn set_guest_status(&self, vmid: u32, running: bool) -> Result<(), SimError> {
        let mut cl = self.shared.cluster.lock();
        let gi = cl.guest_idx(vmid).ok_or(SimError::UnknownGuest(vmid))?;
        if running {
            if cl.guests[gi].template {
                return Err(SimError::Config(format!("guest {vmid} is a template and cannot run")));
            }
            if !cl.guests[gi].is_up() {
                let node = cl.guests[gi].node;
                let pid = cl.next_pid(node);
                cl.guests[gi].boot(pid);
            }
        } else {
            cl.guests[gi].halt();
        }
        Ok(())
    }

    /// Sets or clears a guest's config lock (`backup`, `migrate`, …); locked guests refuse
    /// power actions like PVE does ("VM is locked (backup)").
    pub fn set_guest_lock(&self, vmid: u32, lock: Option<&str>) -> Result<(), SimError> {
        let mut cl = self.shared.cluster.lock();
        let gi = cl.guest_idx(vmid).ok_or(SimError::UnknownGuest(vmid))?;
        cl.guests[gi].lock = lock.map(str::to_string);
        Ok(())
    }

    /// The cluster as a domain snapshot, after applying finished tasks.
    pub fn snapshot(&self) -> ClusterSnapshot {
        let now = Instant::now();
        let snap = {
            let mut cl = self.shared.cluster.lock();
            cl.settle(now);
            cl.snapshot(now)
        };
        self.shared.sync_node_endpoints();
        snap
    }

    /// Moves metrics by one tick (deterministic for the seed and the number of ticks).
    pub fn tick(&self) {
        {
            let mut cl = self.shared.cluster.lock();
            cl.settle(Instant::now());
            cl.tick();
        }
        // A node may have finished powering off or booting.
        self.shared.sync_node_endpoints();
    }

    /// SSH connections that authenticated successfully, over all nodes, since start.
    pub fn ssh_sessions_opened(&self) -> u64 {
        self.shared.ssh.as_ref().map_or(0, |s| s.sessions_opened.load(Ordering::Relaxed))
    }

    /// systemd units restarted over SSH on `node` (`systemctl restart`, `try-restart` or
    /// `reload-or-restart` of a unit that exists there), oldest first, as unit names without
    /// `.service`; empty for an unknown node.
    pub fn restarted_services(&self, node: &str) -> Vec<String> {
        let cl = self.shared.cluster.lock();
        cl.node_idx(node)
            .map(|i| {
                let log = &cl.nodes[i].service_log;
                log.iter().filter(|e| e.1 == UnitAction::Restart).map(|e| e.0.clone()).collect()
            })
            .unwrap_or_default()
    }

    /// How many ticks have run.
    pub fn ticks(&self) -> u64 {
        self.shared.cluster.lock().ticks
    }

    /// API requests received so far (everything but `/_sim/`).
    pub fn request_count(&self) -> u64 {
        self.shared.requests.load(Ordering::Relaxed)
    }

    /// All endpoints and whether they are up.
    pub fn endpoints(&self) -> Vec<EndpointInfo> {
        let scheme = if self.shared.tls.is_some() { "https" } else { "http" };
        let names: Vec<String> =
            self.shared.cluster.lock().nodes.iter().map(|n| n.name.clone()).collect();
        self.shared
            .endpoints
            .iter()
            .enumerate()
            .map(|(index, ep)| EndpointInfo {
                index,
                url: format!("{scheme}://{}", ep.addr),
                node: ep.node.map(|n| names[n].clone()),
                up: ep.is_up(),
            })
            .collect()
    }

    /// The switches and state as `GET /_sim/state` shows them.
    pub(crate) fn state(&self) -> SimState {
        let f = self.shared.faults.lock();
        let (latency, bad_token, error_rate, fail_next) =
            (f.latency, f.bad_token, f.error_rate, f.fail_next);
        drop(f);
        let snapshot = self.snapshot();
        SimState {
            scenario: self.scenario(),
            request_count: self.request_count(),
            ticks: self.ticks(),
            latency_ms: latency.as_millis() as u64,
            bad_token,
            error_rate,
            fail_next: fail_next.map(|(count, status)| FailNext { count, status }),
            quorate: snapshot.quorum.quorate,
            endpoints: self.endpoints(),
            snapshot,
        }
    }
}

/// `GET /_sim/state`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SimState {
    request_count: u64,
    ticks: u64,
    latency_ms: u64,
    bad_token: bool,
    error_rate: f64,
    fail_next: Option<FailNext>,
    quorate: bool,
    endpoints: Vec<EndpointInfo>,
    /// Active pins, flaps, failing starts, running backups and the clock offset.
    scenario: crate::ScenarioState,
    snapshot: ClusterSnapshot,
}

#[derive(Serialize, Deserialize, Clone, Copy)]
#[serde(deny_unknown_fields)]
struct FailNext {
    count: usize,
    status: u16,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NodeOnline {
    node: String,
    online: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EndpointDown {
    index: usize,
    down: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GuestRunning {
    vmid: u32,
    running: bool,
}

/// `PUT /_sim/faults`: every field optional; absent ones stay as they are.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FaultsPatch {
    latency_ms: Option<u64>,
    bad_token: Option<bool>,
    error_rate: Option<f64>,
    fail_next: Option<FailNext>,
    node_online: Option<NodeOnline>,
    endpoint_down: Option<EndpointDown>,
    guest_status: Option<GuestRunning>,
    tick: Option<u32>,
}

fn json_response(status: StatusCode, body: &impl Serialize) -> Response<Body> {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut res = Response::new(Body::from(bytes));
    *res.status_mut() = status;
    res.headers_mut()
        .insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/json"));
    res
}

fn sim_error(status: StatusCode, msg: impl Into<String>) -> Response<Body> {
    json_response(status, &serde_json::json!({"error": msg.into()}))
}

/// Answers a `/_sim/…` request (already authenticated).
pub(crate) fn handle_sim(
    ctl: &SimControl,
    method: &str,
    path: &str,
    body: &[u8],
) -> Response<Body> {
    match (method, path) {
        ("GET", "/_sim/state") => json_response(StatusCode::OK, &ctl.state()),
        ("POST", "/_sim/tick") => {
            ctl.tick();
            json_response(StatusCode::OK, &ctl.state())
        }
        ("PUT" | "POST", "/_sim/scenario") => {
            if let Err(e) = crate::scenario_http::apply(ctl, body) {
                return sim_error(StatusCode::BAD_REQUEST, e);
            }
            json_response(StatusCode::OK, &ctl.state())
        }
        ("PUT" | "POST", "/_sim/faults") => {
            let patch: FaultsPatch = match serde_json::from_slice(body) {
                Ok(p) => p,
                Err(e) => {
                    return sim_error(StatusCode::BAD_REQUEST, format!("bad faults body: {e}"));
                }
            };
            if let Err(e) = apply(ctl, patch) {
                return sim_error(StatusCode::BAD_REQUEST, e.to_string());
            }
            json_response(StatusCode::OK, &ctl.state())
        }
        _ => sim_error(StatusCode::NOT_FOUND, format!("no simulator route {method} {path}")),
    }
}

fn apply(ctl: &SimControl, p: FaultsPatch) -> Result<(), SimError> {
    if let Some(ms) = p.latency_ms {
        ctl.set_latency(Duration::from_millis(ms));
    }
    if let Some(b) = p.bad_token {
        ctl.set_bad_token(b);
    }
    if let Some(r) = p.error_rate {
        ctl.set_error_rate(r);
    }
    if let Some(f) = p.fail_next {
        ctl.fail_next(f.count, f.status);
    }
    if let Some(n) = p.node_online {
        ctl.set_node_online(&n.node, n.online)?;
    }
    if let Some(e) = p.endpoint_down {
        ctl.set_endpoint_down(e.index, e.down)?;
    }
    if let Some(g) = p.guest_status {
        ctl.set_guest_status(g.vmid, g.running)?;
    }
    for _ in 0..p.tick.unwrap_or(0).min(10_000) {
        ctl.tick();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fail_next_counts_down_then_stops() {
        let mut f = Faults::new(1);
        f.fail_next = Some((2, 503));
        assert_eq!(f.take(), Some(503));
        assert_eq!(f.take(), Some(503));
        assert_eq!(f.take(), None);
    }

    #[test]
    fn error_rate_is_roughly_honoured() {
        let mut f = Faults::new(1);
        f.error_rate = 0.3;
        let fails = (0..10_000).filter(|_| f.take().is_some()).count();
        assert!((2500..3500).contains(&fails), "{fails}");
    }

    #[test]
    fn injected_errors_have_pve_shapes() {
        assert!(!fault_error(401).body);
        assert_eq!(fault_error(500).reason(), "injected fault: Internal Server Error");
    }
}
