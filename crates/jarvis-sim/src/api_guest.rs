//! Guest routes: `/nodes/{node}/{qemu|lxc}/{vmid}/…` reads and power actions.
//!
//! Each power action does what PVE's API code does before forking its worker: the synchronous
//! checks that answer 500 right away (e.g. "CT 105 already running", "VM 101 not running",
//! "VM is paused - cannot shutdown", no quorum), the root-only parameters that an API token may
//! never use, and the choice of worker type (`qmstart`, or `hastart` for HA-managed guests).
//! Everything else is decided when the task finishes (see `tasks.rs`).

use std::time::Instant;

use jarvis_domain::GuestType;
use serde_json::{Value, json};

use crate::api::{ApiRequest, ApiResult, GuestPath, rrd_step};
use crate::model::{Cluster, RunState};
use crate::tasks::Action;
use crate::wire::{self, ApiError, Kind, Params, check, get, get_bool, int_min, parse_vmid};

const QEMU_ACTIONS: [&str; 7] =
    ["start", "stop", "shutdown", "reboot", "reset", "suspend", "resume"];
const LXC_ACTIONS: [&str; 4] = ["start", "stop", "shutdown", "reboot"];

/// Whether `action` is a power action PVE offers for this guest type.
pub(crate) fn is_action(kind: GuestType, action: &str) -> bool {
    match kind {
        GuestType::Qemu => QEMU_ACTIONS.contains(&action),
        GuestType::Lxc => LXC_ACTIONS.contains(&action),
    }
}

/// Declared parameters of each action, from the PVE schema.
fn action_params(kind: GuestType, action: &str) -> &'static [(&'static str, Kind)] {
    const B: Kind = Kind::Bool;
    const S: Kind = Kind::Str;
    const T: Kind = int_min(0);
    match (kind, action) {
        (GuestType::Qemu, "start") => &[
            ("skiplock", B),
            ("stateuri", S),
            ("migratedfrom", S),
            ("migration_type", Kind::Enum(&["secure", "insecure"])),
            ("migration_network", S),
            ("machine", S),
            ("force-cpu", S),
            ("targetstorage", S),
            ("timeout", T),
            ("nets-host-mtu", S),
            ("with-conntrack-state", B),
        ],
        (GuestType::Qemu, "stop") => &[
            ("skiplock", B),
            ("migratedfrom", S),
            ("timeout", T),
            ("keepActive", B),
            ("overrule-shutdown", B),
        ],
        (GuestType::Qemu, "shutdown") => {
            &[("skiplock", B), ("timeout", T), ("forceStop", B), ("keepActive", B)]
        }
        (GuestType::Qemu, "reboot") | (GuestType::Lxc, "reboot") => &[("timeout", T)],
        (GuestType::Qemu, "reset") => &[("skiplock", B)],
        (GuestType::Qemu, "suspend") => &[("skiplock", B), ("todisk", B), ("statestorage", S)],
        (GuestType::Qemu, "resume") => &[("skiplock", B), ("nocheck", B)],
        (GuestType::Lxc, "start") => &[("skiplock", B), ("debug", B)],
        (GuestType::Lxc, "stop") => &[("skiplock", B), ("overrule-shutdown", B)],
        (GuestType::Lxc, "shutdown") => &[("timeout", T), ("forceStop", B)],
        _ => &[],
    }
}

/// Parameters only `root@pam` itself may set. An API token is never `root@pam` (its user is
/// `root@pam!name`), so PVE refuses them for every token.
const ROOT_ONLY: [&str; 5] = ["skiplock", "keepActive", "migratedfrom", "stateuri", "nocheck"];

fn root_only_check(p: &Params) -> Result<(), ApiError> {
    let mut errors = std::collections::BTreeMap::new();
    for name in ROOT_ONLY {
        let set = match name {
            "migratedfrom" | "stateuri" => get(p, name).is_some_and(|v| !v.is_empty()),
            _ => get_bool(p, name).unwrap_or(false),
        };
        if set {
            errors.insert(name.to_string(), "Only root may use this option.".to_string());
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(ApiError::params(errors)) }
}

/// Routes `/nodes/{node}/{kind}/{vmid}/…`.
pub(crate) fn guest_route(
    cl: &mut Cluster,
    req: &ApiRequest,
    ni: usize,
    kind: GuestType,
    vmid: &str,
    path: GuestPath<'_>,
    now: Instant,
) -> ApiResult {
    let p = &req.params;
    let vmid = parse_vmid(vmid)?;
    match &path {
        GuestPath::Index | GuestPath::StatusIndex | GuestPath::Current => check(p, &[])?,
        GuestPath::Config => check(p, &[("current", Kind::Bool), ("snapshot", Kind::Str)])?,
        GuestPath::Rrd => {
            rrd_step(p)?;
        }
        GuestPath::Action(action) => {
            check(p, action_params(kind, action))?;
            root_only_check(p)?;
        }
    }
    let gi = find_guest(cl, ni, kind, vmid)?;
    let g = &cl.guests[gi];
    match path {
        GuestPath::Index => {
            let subdirs: &[&str] = match kind {
                GuestType::Qemu => &[
                    "config",
                    "status",
                    "snapshot",
                    "firewall",
                    "agent",
                    "rrd",
                    "rrddata",
                    "monitor",
                    "termproxy",
                    "vncproxy",
                    "spiceproxy",
                    "migrate",
                    "resize",
                    "template",
                    "pending",
                ],
                GuestType::Lxc => &[
                    "config",
                    "status",
                    "vncproxy",
                    "termproxy",
                    "firewall",
                    "rrd",
                    "rrddata",
                    "snapshot",
                    "migrate",
                    "resize",
                    "template",
                    "pending",
                    "interfaces",
                ],
            };
            Ok(wire::ok_body(&subdirs.iter().map(|s| json!({"subdir": s})).collect::<Vec<_>>()))
        }
        GuestPath::StatusIndex => {
            let mut list = vec!["current"];
            list.extend(match kind {
                GuestType::Qemu => QEMU_ACTIONS.as_slice(),
                GuestType::Lxc => LXC_ACTIONS.as_slice(),
            });
            Ok(wire::ok_body(&list.iter().map(|s| json!({"subdir": s})).collect::<Vec<_>>()))
        }
        GuestPath::Current => Ok(wire::ok_body(&cl.guest_current(g))),
        GuestPath::Config => {
            if let Some(snap) = get(p, "snapshot") {
                return Err(ApiError::new(500, format!("snapshot '{snap}' does not exist")));
            }
            Ok(wire::ok_body(&cl.guest_config(g)))
        }
        GuestPath::Rrd => {
            let step = rrd_step(p)?;
            Ok(wire::ok_body(&cl.guest_rrd(g, step)))
        }
        GuestPath::Action(action) => power_action(cl, ni, gi, action, p, now),
    }
}

fn find_guest(cl: &Cluster, ni: usize, kind: GuestType, vmid: u32) -> Result<usize, ApiError> {
    match cl.guest_idx(vmid) {
        Some(gi) if cl.guests[gi].node == ni && cl.guests[gi].kind == kind => Ok(gi),
        _ => {
            let dir = if kind == GuestType::Qemu { "qemu-server" } else { "lxc" };
            Err(ApiError::new(
                500,
                format!(
                    "Configuration file 'nodes/{}/{dir}/{vmid}.conf' does not exist",
                    cl.nodes[ni].name
                ),
            ))
        }
    }
}

fn power_action(
    cl: &mut Cluster,
    ni: usize,
    gi: usize,
    action: &str,
    p: &Params,
    now: Instant,
) -> ApiResult {
    let g = &cl.guests[gi];
    let vmid = g.vmid;
    let ct = g.kind == GuestType::Lxc;
    let up = g.is_up();
    let paused = g.run == RunState::Paused;
    let ha = g.ha;
    let id = vmid.to_string();
    let what = if ct { "CT" } else { "VM" };
    let not_running = || ApiError::new(500, format!("{what} {vmid} not running"));
    let (task_kind, effect, first_line): (&str, Action, Option<String>) = match action {
        "start" => {
            if ct && up {
                return Err(ApiError::new(500, format!("CT {vmid} already running")));
            }
            if !cl.quorate() {
                return Err(ApiError::new(500, "cluster not ready - no quorum?"));
            }
            if ha {
                ("hastart", Action::HaStart, Some(format!("Requesting HA start for {what} {vmid}")))
            } else {
                (if ct { "vzstart" } else { "qmstart" }, Action::Start, None)
            }
        }
        "stop" | "shutdown" => {
            if ct && !up {
                return Err(not_running());
            }
            let mut act = if action == "stop" { Action::Stop } else { Action::Shutdown };
            if action == "shutdown" && paused {
                if get_bool(p, "forceStop").unwrap_or(false) {
                    act = Action::Stop;
                } else {
                    return Err(ApiError::new(500, "VM is paused - cannot shutdown"));
                }
            }
            if ha {
                ("hastop", Action::HaStop, Some(format!("Requesting HA stop for {what} {vmid}")))
            } else {
                let kind = match (ct, action) {
                    (true, "stop") => "vzstop",
                    (true, _) => "vzshutdown",
                    (false, "stop") => "qmstop",
                    (false, _) => "qmshutdown",
                };
                (kind, act, None)
            }
        }
        "reboot" => {
            if paused {
                return Err(ApiError::new(500, "VM is paused - cannot shutdown"));
            }
            if !up {
                // PVE's container reboot says "VM" here too.
                return Err(ApiError::new(500, format!("VM {vmid} not running")));
            }
            (if ct { "vzreboot" } else { "qmreboot" }, Action::Reboot, None)
        }
        "reset" => {
            if !up {
                return Err(not_running());
            }
            ("qmreset", Action::Reset, None)
        }
        "suspend" => {
            if !up {
                return Err(not_running());
            }
            let todisk = get_bool(p, "todisk").unwrap_or(false);
            if todisk && ha {
                return Err(ApiError::new(500, "Cannot suspend HA managed VM to disk"));
            }
            (if todisk { "qmsuspend" } else { "qmpause" }, Action::Pause, None)
        }
        "resume" => {
            if !up {
                return Err(not_running());
            }
            ("qmresume", Action::Resume, None)
        }
        other => return Err(ApiError::new(501, format!("unknown action '{other}'"))),
    };
    let upid = cl.spawn_task(
        ni,
        task_kind,
        &id,
        Some((effect, vmid)),
        first_line.into_iter().collect(),
        now,
    );
    Ok(wire::ok_body(&Value::String(upid)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::dispatch;
    use crate::config::SimConfig;

    fn post(cl: &mut Cluster, path: &str, params: &[(&str, &str)]) -> Result<Value, ApiError> {
        let req = ApiRequest {
            method: "POST".into(),
            segs: path.trim_start_matches('/').split('/').map(str::to_string).collect(),
            rel_path: path.into(),
            params: params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            local: 0,
        };
        dispatch(cl, &req, Instant::now()).map(|b| serde_json::from_slice(&b).unwrap())
    }

    fn guest<'a>(cl: &'a Cluster, name: &str) -> &'a crate::model::Guest {
        cl.guests.iter().find(|g| g.name == name).unwrap()
    }

    #[test]
    fn running_container_start_is_refused_synchronously() {
        let mut cl = Cluster::generate(&SimConfig::default(), None);
        let g = guest(&cl, "pihole");
        let path = format!("/nodes/{}/lxc/{}/status/start", cl.nodes[g.node].name, g.vmid);
        let e = post(&mut cl, &path, &[]).unwrap_err();
        assert_eq!(e.reason(), format!("CT {} already running", guest(&cl, "pihole").vmid));
    }

    #[test]
    fn ha_guests_get_ha_workers_and_tokens_cannot_skiplock() {
        let mut cl = Cluster::generate(&SimConfig::default(), None);
        let g = guest(&cl, "postgres-main");
        let path = format!("/nodes/{}/qemu/{}/status/shutdown", cl.nodes[g.node].name, g.vmid);
        let v = post(&mut cl, &path, &[("timeout", "30")]).unwrap();
        assert!(v["data"].as_str().unwrap().contains(":hastop:"));
        let e = post(&mut cl, &path, &[("skiplock", "1")]).unwrap_err();
        assert_eq!(e.errors.unwrap()["skiplock"], "Only root may use this option.");
        let e = post(&mut cl, &path, &[("bogus", "1")]).unwrap_err();
        assert_eq!(e.status, 400);
    }

    #[test]
    fn guests_on_the_wrong_node_or_bad_vmids_fail_like_pve() {
        let mut cl = Cluster::generate(&SimConfig::default(), None);
        let e = post(&mut cl, "/nodes/pve1/qemu/999/status/start", &[]).unwrap_err();
        assert_eq!(
            e.reason(),
            "Configuration file 'nodes/pve1/qemu-server/999.conf' does not exist"
        );
        let e = post(&mut cl, "/nodes/pve1/qemu/abc/status/start", &[]).unwrap_err();
        assert_eq!(e.errors.unwrap()["vmid"], "type check ('integer') failed - got 'abc'");
        let e = post(&mut cl, "/nodes/pve1/lxc/100/status/suspend", &[]).unwrap_err();
        assert_eq!(e.status, 501);
    }

    #[test]
    fn no_quorum_no_start() {
        let mut cl = Cluster::generate(&SimConfig::default(), None);
        let now = Instant::now();
        cl.set_node_offline(1, now);
        cl.set_node_offline(2, now);
        let gi = cl.guests.iter().position(|g| g.node == 0 && !g.template).unwrap();
        cl.guests[gi].halt();
        let (kind, vmid) = (cl.guests[gi].kind.as_str(), cl.guests[gi].vmid);
        let e = post(&mut cl, &format!("/nodes/pve1/{kind}/{vmid}/status/start"), &[]).unwrap_err();
        assert_eq!(e.reason(), "cluster not ready - no quorum?");
    }
}
