//! PVE API routes under `/api2/json`: matching a request to a handler, checking its parameters
//! the way PVE's schema does, and answering from the cluster state.
//!
//! Routing order mirrors pveproxy: an unknown path/method is 501 whatever the node; a node-bound
//! path first resolves the node (unknown → 500 hostname lookup failure, offline → 595 from the
//! proxy with an empty body), then checks parameters, then runs the handler. Guest power
//! actions live in `api_guest.rs`.

use std::time::Instant;

use jarvis_domain::GuestType;
use serde_json::{Value, json};

use crate::model::{Cluster, PowerOp, StorageId};
use crate::render::{self, ResFilter};
use crate::render_guest::{task_list_entry, task_log, task_status};
use crate::tasks::is_upid;
use crate::wire::{
    self, ApiError, INT, Kind, Params, VMID, check, get, get_bool, get_int, int_min,
};

/// One API request, already split and decoded.
pub(crate) struct ApiRequest {
    pub method: String,
    /// Decoded path segments after `/api2/json`.
    pub segs: Vec<String>,
    /// Path after `/api2/json` as sent (for 501 messages).
    pub rel_path: String,
    /// Query and body parameters.
    pub params: Params,
    /// Index of the node that "answers" (the one whose endpoint received the request).
    pub local: usize,
}

/// The handler's answer: the full response body.
pub(crate) type ApiResult = Result<Vec<u8>, ApiError>;

fn ok(v: &Value) -> ApiResult {
    Ok(wire::ok_body(v))
}

/// Timeframes `rrddata` accepts.
const TIMEFRAMES: &[&str] = &["hour", "day", "week", "month", "year", "decade"];

/// Answers one API request against the cluster.
pub(crate) fn dispatch(cl: &mut Cluster, req: &ApiRequest, now: Instant) -> ApiResult {
    let segs: Vec<&str> = req.segs.iter().map(String::as_str).collect();
    let p = &req.params;
    match (req.method.as_str(), segs.as_slice()) {
        ("GET", ["version"]) => {
            check(p, &[])?;
            ok(&render::version())
        }
        ("GET", ["cluster", "status"]) => {
            check(p, &[])?;
            ok(&cl.cluster_status(req.local))
        }
        ("GET", ["cluster", "resources"]) => {
            check(p, &[("type", Kind::Enum(&["vm", "storage", "node", "sdn"]))])?;
            let filter = match get(p, "type") {
                Some("vm") => ResFilter::Vm,
                Some("node") => ResFilter::Node,
                Some("storage") => ResFilter::Storage,
                Some("sdn") => ResFilter::Sdn,
                _ => ResFilter::All,
            };
            Ok(cl.resources_json(filter, now))
        }
        ("GET", ["cluster", "tasks"]) => {
            check(p, &[])?;
            let mut idx: Vec<usize> = (0..cl.tasks.list.len()).collect();
            idx.sort_by_key(|&i| std::cmp::Reverse((cl.tasks.list[i].starttime, i)));
            let list: Vec<Value> = idx
                .iter()
                .take(200)
                .map(|&i| {
                    let t = &cl.tasks.list[i];
                    task_list_entry(t, &cl.nodes[t.node].name, false)
                })
                .collect();
            ok(&Value::Array(list))
        }
        ("GET", ["cluster", "nextid"]) => {
            check(p, &[("vmid", VMID)])?;
            let id = match get_int(p, "vmid") {
                Some(v) => {
                    let v = v as u32;
                    if cl.guest_idx(v).is_some() {
                        return Err(ApiError::param("vmid", format!("VM {v} already exists")));
                    }
                    v
                }
                None => (100..).find(|v| cl.guest_idx(*v).is_none()).unwrap_or(100),
            };
            // PVE answers the next id as a string.
            ok(&json!(id.to_string()))
        }
        ("GET", ["nodes"]) => {
            check(p, &[])?;
            Ok(cl.nodes_json(now))
        }
        ("GET", ["storage"]) => {
            check(p, &[("type", Kind::Str)])?;
            ok(&cl.storage_config())
        }
        ("GET", ["access", "permissions"]) => {
            check(p, &[("path", Kind::Str), ("userid", Kind::Str)])?;
            ok(&render::permissions(get(p, "path")))
        }
        (method, ["nodes", node, rest @ ..]) => node_route(cl, req, method, node, rest, now),
        _ => Err(ApiError::not_implemented(&req.method, &req.rel_path)),
    }
}

/// What a `/nodes/{node}/…` path asks for.
enum NodeRoute<'a> {
    Status,
    PowerCommand,
    Version,
    Rrd,
    Storage,
    StorageContent(&'a str),
    Tasks,
    TaskIndex(&'a str),
    TaskStatus(&'a str),
    TaskLog(&'a str),
    TaskStop(&'a str),
    WakeOnLan,
    Guests(GuestType),
    Guest(GuestType, &'a str, GuestPath<'a>),
}

/// What a `/nodes/{node}/{qemu|lxc}/{vmid}/…` path asks for.
pub(crate) enum GuestPath<'a> {
    Index,
    StatusIndex,
    Current,
    Config,
    Rrd,
    Action(&'a str),
}

fn kind_of(s: &str) -> Option<GuestType> {
    match s {
        "qemu" => Some(GuestType::Qemu),
        "lxc" => Some(GuestType::Lxc),
        _ => None,
    }
}

fn parse_node_route<'a>(method: &str, rest: &'a [&'a str]) -> Option<NodeRoute<'a>> {
    use NodeRoute as R;
    Some(match (method, rest) {
        ("GET", ["status"]) => R::Status,
        ("POST", ["status"]) => R::PowerCommand,
        ("GET", ["version"]) => R::Version,
        ("GET", ["rrddata"]) => R::Rrd,
        ("GET", ["storage"]) => R::Storage,
        ("GET", ["storage", storage, "content"]) => R::StorageContent(storage),
        ("GET", ["tasks"]) => R::Tasks,
        ("GET", ["tasks", upid]) => R::TaskIndex(upid),
        ("DELETE", ["tasks", upid]) => R::TaskStop(upid),
        ("GET", ["tasks", upid, "status"]) => R::TaskStatus(upid),
        ("GET", ["tasks", upid, "log"]) => R::TaskLog(upid),
        ("POST", ["wakeonlan"]) => R::WakeOnLan,
        ("GET", [kind]) => R::Guests(kind_of(kind)?),
        (_, [kind, vmid, tail @ ..]) => {
            let kind = kind_of(kind)?;
            let path = match (method, tail) {
                ("GET", []) => GuestPath::Index,
                ("GET", ["status"]) => GuestPath::StatusIndex,
                ("GET", ["status", "current"]) => GuestPath::Current,
                ("GET", ["config"]) => GuestPath::Config,
                ("GET", ["rrddata"]) => GuestPath::Rrd,
                ("POST", ["status", action]) if crate::api_guest::is_action(kind, action) => {
                    GuestPath::Action(action)
                }
                _ => return None,
            };
            R::Guest(kind, vmid, path)
        }
        _ => return None,
    })
}

fn node_route(
    cl: &mut Cluster,
    req: &ApiRequest,
    method: &str,
    node: &str,
    rest: &[&str],
    now: Instant,
) -> ApiResult {
    let Some(route) = parse_node_route(method, rest) else {
        return Err(ApiError::not_implemented(&req.method, &req.rel_path));
    };
    let p = &req.params;
    let Some(ni) = cl.node_idx(node) else {
        return Err(ApiError::new(
            500,
            format!(
                "hostname lookup '{node}' failed - failed to get address info for: {node}: \
                 Name or service not known"
            ),
        ));
    };
    // Wake-on-LAN runs on the answering node (it wakes the other one); everything else is
    // proxied to the named node, which must be reachable.
    if !matches!(route, NodeRoute::WakeOnLan) && !cl.nodes[ni].online {
        return Err(ApiError::bare(595, "No route to host"));
    }
    match route {
        NodeRoute::Status => {
            check(p, &[])?;
            ok(&cl.node_status(ni))
        }
        NodeRoute::PowerCommand => {
            check(p, &[("command", Kind::Enum(&["reboot", "shutdown"]))])?;
            let op = match get(p, "command") {
                Some("reboot") => PowerOp::Reboot,
                Some(_) => PowerOp::Shutdown,
                None => return Err(missing("command")),
            };
            cl.nodes[ni].power_op = Some((now + cl.task_duration, op));
            ok(&Value::Null)
        }
        NodeRoute::Version => {
            check(p, &[])?;
            ok(&render::version())
        }
        NodeRoute::Rrd => {
            let step = rrd_step(p)?;
            ok(&cl.node_rrd(ni, step))
        }
        NodeRoute::Storage => {
            check(
                p,
                &[
                    ("content", Kind::Str),
                    ("enabled", Kind::Bool),
                    ("format", Kind::Bool),
                    ("storage", Kind::Str),
                    ("target", Kind::Str),
                ],
            )?;
            ok(&cl.node_storage(ni, get(p, "content"), get(p, "storage")))
        }
        NodeRoute::StorageContent(storage) => {
            check(p, &[("content", Kind::Str), ("vmid", VMID)])?;
            let Some(&sid) = StorageId::ALL.iter().find(|s| s.name() == storage) else {
                return Err(ApiError::new(500, format!("storage '{storage}' does not exist")));
            };
            let mut list = cl.storage_content(ni, sid, get(p, "content"));
            if let (Some(vmid), Value::Array(items)) = (get_int(p, "vmid"), &mut list) {
                items.retain(|v| v["vmid"].as_i64() == Some(vmid));
            }
            ok(&list)
        }
        NodeRoute::Tasks => node_tasks(cl, ni, p),
        NodeRoute::TaskIndex(upid) => {
            check(p, &[])?;
            find_task(cl, ni, upid)?;
            ok(&json!([{"name": "log"}, {"name": "status"}]))
        }
        NodeRoute::TaskStatus(upid) => {
            check(p, &[])?;
            let t = find_task(cl, ni, upid)?;
            ok(&task_status(&cl.tasks.list[t], &cl.nodes[ni].name))
        }
        NodeRoute::TaskLog(upid) => {
            check(p, &[("download", Kind::Bool), ("limit", int_min(0)), ("start", int_min(0))])?;
            let t = find_task(cl, ni, upid)?;
            let start = get_int(p, "start").unwrap_or(0) as usize;
            let limit = get_int(p, "limit").unwrap_or(50) as usize;
            let (lines, total) = task_log(&cl.tasks.list[t], start, limit);
            Ok(wire::ok_body_total(&lines, total))
        }
        NodeRoute::TaskStop(upid) => {
            check(p, &[])?;
            let t = find_task(cl, ni, upid)?;
            cl.abort_task(t);
            ok(&Value::Null)
        }
        NodeRoute::WakeOnLan => {
            check(p, &[])?;
            if ni == req.local {
                return Err(ApiError::new(
                    500,
                    format!("'{node}' is local node, cannot wake my self!"),
                ));
            }
            // The packet only matters to a machine that is switched off; a node that lost its
            // network is still running and ignores it (PVE answers with the MAC either way).
            let n = &mut cl.nodes[ni];
            if n.powered_off && n.boot_at.is_none() {
                n.boot_at = Some(now + cl.boot_delay);
            }
            ok(&json!(cl.nodes[ni].mac))
        }
        NodeRoute::Guests(kind) => {
            let spec: &[(&str, Kind)] =
                if kind == GuestType::Qemu { &[("full", Kind::Bool)] } else { &[] };
            check(p, spec)?;
            let full = get_bool(p, "full").unwrap_or(false);
            let list: Vec<Value> = cl
                .guests
                .iter()
                .filter(|g| g.node == ni && g.kind == kind)
                .map(|g| cl.guest_list_entry(g, full))
                .collect();
            ok(&Value::Array(list))
        }
        NodeRoute::Guest(kind, vmid, path) => {
            crate::api_guest::guest_route(cl, req, ni, kind, vmid, path, now)
        }
    }
}

/// PVE's message for a required parameter that is absent.
pub(crate) fn missing(name: &str) -> ApiError {
    ApiError::param(name, "property is missing and it is not optional")
}

/// Checks `rrddata` parameters and returns the step in seconds for the timeframe.
pub(crate) fn rrd_step(p: &Params) -> Result<u64, ApiError> {
    check(p, &[("timeframe", Kind::Enum(TIMEFRAMES)), ("cf", Kind::Enum(&["AVERAGE", "MAX"]))])?;
    Ok(match get(p, "timeframe") {
        Some("hour") => 60,
        Some("day") => 1800,
        Some("week") => 10_800,
        Some("month") => 43_200,
        Some("year") => 604_800,
        Some(_) => 2_592_000,
        None => return Err(missing("timeframe")),
    })
}

fn find_task(cl: &Cluster, ni: usize, upid: &str) -> Result<usize, ApiError> {
    if !is_upid(upid) {
        return Err(ApiError::param("upid", "unable to parse worker upid"));
    }
    match cl.tasks.by_upid.get(upid) {
        Some(&i) if cl.tasks.list[i].node == ni => Ok(i),
        _ => Err(ApiError::param("upid", "no such task")),
    }
}

fn node_tasks(cl: &Cluster, ni: usize, p: &Params) -> ApiResult {
    check(
        p,
        &[
            ("errors", Kind::Bool),
            ("limit", int_min(0)),
            ("since", INT),
            ("source", Kind::Enum(&["archive", "active", "all"])),
            ("start", int_min(0)),
            ("statusfilter", Kind::Str),
            ("typefilter", Kind::Str),
            ("until", INT),
            ("userfilter", Kind::Str),
            ("vmid", VMID),
        ],
    )?;
    let source = get(p, "source").unwrap_or("archive");
    let errors_only = get_bool(p, "errors").unwrap_or(false);
    let start = get_int(p, "start").unwrap_or(0).max(0) as usize;
    let limit = get_int(p, "limit").unwrap_or(50).max(0) as usize;
    let vmid = get(p, "vmid");
    let typefilter = get(p, "typefilter");
    let userfilter = get(p, "userfilter").map(str::to_lowercase);
    let since = get_int(p, "since");
    let until = get_int(p, "until");
    let mut idx: Vec<usize> = (0..cl.tasks.list.len())
        .filter(|&i| {
            let t = &cl.tasks.list[i];
            let wanted_source = match source {
                "active" => t.running(),
                "all" => true,
                _ => !t.running(),
            };
            t.node == ni
                && wanted_source
                && vmid.is_none_or(|v| t.id == v)
                && typefilter.is_none_or(|f| t.kind == f)
                && userfilter.as_deref().is_none_or(|f| t.user.to_lowercase().contains(f))
                && since.is_none_or(|s| t.starttime >= s)
                && until.is_none_or(|u| t.starttime <= u)
                && (!errors_only || t.exitstatus.as_deref().is_some_and(|s| s != "OK"))
        })
        .collect();
    // Newest first, running tasks ahead of the archive, as PVE reads its index backwards.
    idx.sort_by_key(|&i| {
        let t = &cl.tasks.list[i];
        std::cmp::Reverse((t.running(), t.starttime, i))
    });
    let total = idx.len() as u64;
    let list: Vec<Value> = idx
        .iter()
        .skip(start)
        .take(limit)
        .map(|&i| task_list_entry(&cl.tasks.list[i], &cl.nodes[ni].name, true))
        .collect();
    Ok(wire::ok_body_total(&list, total))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SimConfig;

    fn req(method: &str, path: &str, params: &[(&str, &str)]) -> ApiRequest {
        ApiRequest {
            method: method.into(),
            segs: path.trim_start_matches('/').split('/').map(str::to_string).collect(),
            rel_path: path.into(),
            params: params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            local: 0,
        }
    }

    fn call(
        cl: &mut Cluster,
        method: &str,
        path: &str,
        params: &[(&str, &str)],
    ) -> Result<Value, ApiError> {
        dispatch(cl, &req(method, path, params), Instant::now())
            .map(|b| serde_json::from_slice(&b).unwrap())
    }

    #[test]
    fn unknown_paths_and_methods_are_501_like_pve() {
        let mut cl = Cluster::generate(&SimConfig::default(), None);
        let e = call(&mut cl, "GET", "/foo", &[]).unwrap_err();
        assert_eq!((e.status, e.reason()), (501, "Method 'GET /foo' not implemented"));
        let e = call(&mut cl, "POST", "/version", &[]).unwrap_err();
        assert_eq!(e.status, 501);
        let e = call(&mut cl, "GET", "/nodes/nope/bogus", &[]).unwrap_err();
        assert_eq!(e.status, 501, "path check comes before node lookup");
    }

    #[test]
    fn unknown_and_offline_nodes_fail_like_pve() {
        let mut cl = Cluster::generate(&SimConfig::default(), None);
        let e = call(&mut cl, "GET", "/nodes/nope/status", &[]).unwrap_err();
        assert_eq!(e.status, 500);
        assert!(e.reason().starts_with("hostname lookup 'nope' failed"));
        cl.set_node_offline(1, Instant::now());
        let e = call(&mut cl, "GET", "/nodes/pve2/status", &[]).unwrap_err();
        assert_eq!((e.status, e.body), (595, false));
    }

    #[test]
    fn bad_parameters_are_400_with_errors() {
        let mut cl = Cluster::generate(&SimConfig::default(), None);
        let e = call(&mut cl, "GET", "/cluster/resources", &[("type", "bogus")]).unwrap_err();
        assert_eq!(e.status, 400);
        assert!(e.errors.unwrap().contains_key("type"));
        let e = call(&mut cl, "GET", "/nodes/pve1/rrddata", &[]).unwrap_err();
        assert_eq!(e.errors.unwrap()["timeframe"], "property is missing and it is not optional");
        let e = call(&mut cl, "GET", "/nodes/pve1/tasks/garbage/status", &[]).unwrap_err();
        assert_eq!(e.errors.unwrap()["upid"], "unable to parse worker upid");
    }

    #[test]
    fn nextid_is_a_string_and_taken_ids_are_rejected() {
        let mut cl = Cluster::generate(&SimConfig::default(), None);
        let v = call(&mut cl, "GET", "/cluster/nextid", &[]).unwrap();
        assert_eq!(v["data"], "111", "100..=110 and 9000 are taken");
        let e = call(&mut cl, "GET", "/cluster/nextid", &[("vmid", "100")]).unwrap_err();
        assert_eq!(e.errors.unwrap()["vmid"], "VM 100 already exists");
    }

    #[test]
    fn node_task_lists_page_and_count() {
        let mut cl = Cluster::generate(&SimConfig::default(), None);
        let v = call(&mut cl, "GET", "/nodes/pve1/tasks", &[("limit", "1")]).unwrap();
        assert_eq!(v["data"].as_array().unwrap().len(), 1);
        assert!(v["total"].as_u64().unwrap() >= 2);
    }
}
