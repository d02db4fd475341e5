//! Executors: what each tool does once the pipeline has decided it may run.
//!
//! Read tools answer from the one cluster state where it has the data (no re-polling); the rest
//! call PVE or SSH. Lifecycle tools wait for their PVE task (bounded) and report its exit status.
//! Every executor runs under a timeout, and every error is turned into an [`ExecError`] whose text
//! is safe to show (and to hand to a model): no secrets, no raw internals.

use std::time::Duration;

use jarvis_domain::command_policy::check_command;
use jarvis_domain::temperature::{TEMPERATURE_COMMAND, parse_temperatures};
use jarvis_domain::tools::{ResourceType, ToolCall};
use jarvis_domain::{GuestType, NodeStatus};
use jarvis_proxmox::{GuestAction, NodePower, PveError, Upid};
use serde_json::{Value, json};

use super::Pipeline;
use crate::db::events::EventQuery;

/// How long a lifecycle tool waits for its PVE task.
const TASK_WAIT: Duration = Duration::from_secs(120);
/// Overall limit for tools without their own.
const DEFAULT_LIMIT: Duration = Duration::from_secs(30);

/// Why a tool failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ExecError {
    /// It took too long.
    #[error("timed out: {0}")]
    Timeout(String),
    /// The arguments name something that does not fit (a container passed to a VM tool).
    #[error("{0}")]
    InvalidTarget(String),
    /// A needed component is not configured (SSH).
    #[error("{0}")]
    Unavailable(String),
    /// PVE or the node answered with an error.
    #[error("{0}")]
    Upstream(String),
}

impl From<PveError> for ExecError {
    fn from(e: PveError) -> Self {
        match e {
            PveError::Timeout { .. } | PveError::TaskTimeout { .. } => {
                ExecError::Timeout(e.to_string())
            }
            _ => ExecError::Upstream(e.to_string()),
        }
    }
}

impl From<jarvis_ssh::SshError> for ExecError {
    fn from(e: jarvis_ssh::SshError) -> Self {
        match e {
            jarvis_ssh::SshError::Timeout { .. } => ExecError::Timeout(e.to_string()),
            _ => ExecError::Upstream(format!("SSH: {e}")),
        }
    }
}

fn db_err(e: crate::db::DbError) -> ExecError {
    ExecError::Upstream(e.to_string())
}

/// A one-line summary of a result for the audit log.
pub fn brief(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 300 { format!("{}…", &s[..s.floor_char_boundary(300)]) } else { s }
}

fn to_json<T: serde::Serialize>(v: T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// The guest, type and PVE action of a lifecycle tool (`None` for every other tool).
fn lifecycle_target(call: &ToolCall) -> Option<(&str, u32, GuestType, GuestAction)> {
    use GuestAction as A;
    use GuestType::{Lxc, Qemu};
    use ToolCall as T;
    let (node, vmid, kind, action) = match call {
        T::StartVm { node, vmid } => (node, vmid, Qemu, A::Start),
        T::StopVm { node, vmid } => (node, vmid, Qemu, A::Stop),
        T::ShutdownVm { node, vmid } => (node, vmid, Qemu, A::Shutdown),
        T::RestartVm { node, vmid } => (node, vmid, Qemu, A::Reboot),
        T::StartContainer { node, vmid } => (node, vmid, Lxc, A::Start),
        T::StopContainer { node, vmid } => (node, vmid, Lxc, A::Stop),
        T::ShutdownContainer { node, vmid } => (node, vmid, Lxc, A::Shutdown),
        T::RestartContainer { node, vmid } => (node, vmid, Lxc, A::Reboot),
        _ => return None,
    };
    Some((node.as_str(), vmid.get(), kind, action))
}

/// The limit for one call.
fn limit(call: &ToolCall) -> Duration {
    match call {
        ToolCall::ExecuteSsh { timeout_seconds, .. } => {
            Duration::from_secs(u64::from(*timeout_seconds) + 5)
        }
        ToolCall::RestartService { .. } => Duration::from_secs(60),
        _ if lifecycle_target(call).is_some() => TASK_WAIT + Duration::from_secs(15),
        _ => DEFAULT_LIMIT,
    }
}

/// Runs a decided call under its timeout.
pub async fn run(p: &Pipeline, call: &ToolCall) -> Result<Value, ExecError> {
    let limit = limit(call);
    match tokio::time::timeout(limit, dispatch(p, call)).await {
        Ok(r) => r,
        Err(_) => Err(ExecError::Timeout(format!(
            "{} did not finish within {} s",
            call.name(),
            limit.as_secs()
        ))),
    }
}

fn ssh(p: &Pipeline) -> Result<&crate::ssh::Ssh, ExecError> {
    p.ssh.as_ref().ok_or_else(|| {
        ExecError::Unavailable(
            "SSH is not configured (set SSH_KEY_PATH); this tool needs it".into(),
        )
    })
}

/// The guest's type as the cluster state knows it; a mismatch with the tool is refused before
/// anything reaches PVE.
fn guest_kind(
    p: &Pipeline,
    node: &str,
    vmid: u32,
    expected: Option<GuestType>,
) -> Result<GuestType, ExecError> {
    let snap = p.cluster.snapshot();
    let Some(vm) = snap.vm(vmid) else {
        return Err(ExecError::InvalidTarget(format!("no guest {vmid} in the cluster")));
    };
    if vm.node != node {
        return Err(ExecError::InvalidTarget(format!(
            "guest {vmid} is on node {}, not {node}",
            vm.node
        )));
    }
    match expected {
        Some(k) if k != vm.kind => Err(ExecError::InvalidTarget(format!(
            "guest {vmid} is a {}; use the {} tool",
            if vm.kind == GuestType::Lxc { "container" } else { "VM" },
            if vm.kind == GuestType::Lxc { "_container" } else { "_vm" },
        ))),
        _ => Ok(vm.kind),
    }
}

async fn lifecycle(
    p: &Pipeline,
    node: &str,
    vmid: u32,
    kind: GuestType,
    action: GuestAction,
) -> Result<Value, ExecError> {
    guest_kind(p, node, vmid, Some(kind))?;
    let upid = p.actions.guest_action(node, kind, vmid, action).await?;
    let status = p.pve.wait_for_task(&upid, TASK_WAIT, Duration::from_millis(500)).await?;
    Ok(json!({
        "node": node,
        "vmid": vmid,
        "action": action.as_str(),
        "upid": upid.as_str(),
        "status": status.exitstatus.unwrap_or_else(|| "OK".into()),
    }))
}

async fn dispatch(p: &Pipeline, call: &ToolCall) -> Result<Value, ExecError> {
    use ToolCall as T;
    let snap = p.cluster.snapshot();
    match call {
        T::GetClusterStatus => Ok(json!({
            "quorum": snap.quorum,
            "nodes": snap.nodes.iter().map(|n| json!({
                "name": n.name, "status": n.status, "cpu": n.cpu, "mem": n.mem, "maxmem": n.maxmem,
                "uptime": n.uptime,
            })).collect::<Vec<_>>(),
            "guests": { "total": snap.vms.len(), "running": snap.vms.iter().filter(|v| v.status == jarvis_domain::GuestStatus::Running).count() },
            "freshness": snap.freshness,
        })),
        T::GetNodeStatus { node } => Ok(to_json(p.pve.node_status(node.as_str()).await?)),
        T::GetVms => {
            Ok(to_json(snap.vms.iter().filter(|v| v.kind == GuestType::Qemu).collect::<Vec<_>>()))
        }
        T::GetContainers => {
            Ok(to_json(snap.vms.iter().filter(|v| v.kind == GuestType::Lxc).collect::<Vec<_>>()))
        }
        T::GetStorage => Ok(to_json(&snap.storage)),
        T::GetClusterResources { resource_type } => Ok(match resource_type {
            Some(ResourceType::Vm) => json!({ "vms": snap.vms }),
            Some(ResourceType::Storage) => json!({ "storage": snap.storage }),
            Some(ResourceType::Node) => json!({ "nodes": snap.nodes }),
            None => json!({ "nodes": snap.nodes, "vms": snap.vms, "storage": snap.storage }),
        }),
        T::GetNodeTemperature { node } => {
            let out =
                ssh(p)?.run(node.as_str(), TEMPERATURE_COMMAND, Duration::from_secs(10)).await?;
            Ok(json!({ "node": node.as_str(), "zones": parse_temperatures(&out.stdout) }))
        }
        T::GetRecentTasks { limit, node } => {
            Ok(to_json(p.pve.recent_tasks(node.as_ref().map(|n| n.as_str()), *limit).await?))
        }
        T::GetBackups { node, storage } => {
            let stores: Vec<String> = match storage {
                Some(s) => vec![s.as_str().to_string()],
                None => snap
                    .storage
                    .iter()
                    .filter(|s| s.node == node.as_str() && s.content.iter().any(|c| c == "backup"))
                    .map(|s| s.storage.clone())
                    .collect(),
            };
            let mut backups = Vec::new();
            for s in &stores {
                for item in p.pve.storage_content(node.as_str(), s, Some("backup")).await? {
                    backups.push(json!({"storage": s, "volid": item.volid, "vmid": item.vmid,
                        "size": item.size, "ctime": item.ctime, "format": item.format, "notes": item.notes,
                        "protected": item.protected}));
                }
            }
            Ok(json!({ "node": node.as_str(), "storages": stores, "backups": backups }))
        }
        T::GetGuestConfig { node, vmid } => {
            let kind = guest_kind(p, node.as_str(), vmid.get(), None)?;
            Ok(p.pve.guest_config(node.as_str(), kind, vmid.get()).await?)
        }
        T::GetTaskStatus { node, upid } => {
            let upid = Upid::parse(upid)
                .map_err(|e| ExecError::InvalidTarget(format!("bad UPID: {e}")))?;
            if upid.node() != node.as_str() {
                return Err(ExecError::InvalidTarget(format!(
                    "that task belongs to node {}",
                    upid.node()
                )));
            }
            Ok(to_json(p.pve.task_status(&upid).await?))
        }
        T::GetEvents { limit, kind, severity, node, since } => {
            let q = EventQuery {
                limit: *limit,
                kind: kind.map(|k| k.as_str().to_owned()),
                severity: severity.map(|s| s.as_str().to_owned()),
                node: node.as_ref().map(|n| n.to_string()),
                since: *since,
                unresolved: false,
                text: None,
            };
            let events = p.db.events(q).await.map_err(|e| ExecError::Upstream(e.to_string()))?;
            Ok(json!({ "events": events }))
        }
        T::GetAutonomyActions { since } => {
            // Every runbook attempt the monitor made (what ran, how it was verified); each
            // execution is also in the audit log under source `monitor`.
            let actions = p.db.monitor_actions(100, *since).await.map_err(db_err)?;
            Ok(json!({ "actions": actions }))
        }
        T::GetIncidents { state } => {
            use jarvis_domain::monitor::IncidentState;
            let states = match state {
                Some(s) => vec![*s],
                None => vec![IncidentState::Open, IncidentState::Acknowledged],
            };
            let mut incidents = Vec::new();
            for s in states {
                incidents.extend(p.db.incidents(Some(s), 50).await.map_err(db_err)?);
            }
            // The model needs the story, not every 12-second note: the last entries suffice.
            let view: Vec<Value> = incidents
                .into_iter()
                .map(|mut i| {
                    let keep = i.timeline.len().saturating_sub(8);
                    i.timeline.drain(..keep);
                    to_json(i)
                })
                .collect();
            Ok(json!({ "incidents": view }))
        }
        T::SearchMemory { query } => {
            let hits =
                p.db.search_events(query.clone(), 20)
                    .await
                    .map_err(|e| ExecError::Upstream(e.to_string()))?;
            Ok(json!({ "query": query, "results": hits }))
        }
        T::ExecuteSsh { node, command, timeout_seconds } => {
            // The safety decision already ran the policy; parse again so only the re-quoted
            // argv can ever reach the node, whatever the caller did.
            let safe =
                check_command(command).map_err(|v| ExecError::InvalidTarget(v.to_string()))?;
            let out = ssh(p)?
                .run(
                    node.as_str(),
                    &safe.to_shell(),
                    Duration::from_secs(u64::from(*timeout_seconds)),
                )
                .await?;
            Ok(json!({
                "node": node.as_str(), "command": safe.argv.join(" "), "exitCode": out.exit_status,
                "stdout": out.stdout, "stderr": out.stderr, "truncated": out.truncated,
                "durationMs": out.duration.as_millis() as u64,
            }))
        }
        T::RestartService { node, service } => {
            let ssh = ssh(p)?;
            let quoted = format!("'{}'", service.as_str());
            let restart = ssh
                .run(node.as_str(), &format!("systemctl restart {quoted}"), Duration::from_secs(45))
                .await?;
            let active = ssh
                .run(
                    node.as_str(),
                    &format!("systemctl is-active {quoted}"),
                    Duration::from_secs(10),
                )
                .await?;
            let status = active.stdout.trim().to_string();
            if restart.exit_status != Some(0) {
                return Err(ExecError::Upstream(format!(
                    "systemctl restart {} failed (exit {}): {}",
                    service.as_str(),
                    restart.exit_status.map(|c| c.to_string()).unwrap_or_else(|| "?".into()),
                    restart.stderr.trim()
                )));
            }
            Ok(
                json!({ "node": node.as_str(), "service": service.as_str(), "success": status == "active", "status": status }),
            )
        }
        T::WakeNode { node } => {
            if snap.node(node.as_str()).is_some_and(|n| n.status == NodeStatus::Online) {
                return Err(ExecError::InvalidTarget(format!("node {node} is already online")));
            }
            let mac = p.actions.wake_on_lan(node.as_str()).await?;
            Ok(json!({ "node": node.as_str(), "action": "wake", "mac": mac }))
        }
        T::StartVm { .. }
        | T::StopVm { .. }
        | T::ShutdownVm { .. }
        | T::RestartVm { .. }
        | T::StartContainer { .. }
        | T::StopContainer { .. }
        | T::ShutdownContainer { .. }
        | T::RestartContainer { .. } => match lifecycle_target(call) {
            Some((node, vmid, kind, action)) => lifecycle(p, node, vmid, kind, action).await,
            None => Err(ExecError::InvalidTarget("not a lifecycle tool".into())),
        },
        T::RebootNode { node } => {
            p.actions.node_power(node.as_str(), NodePower::Reboot).await?;
            Ok(json!({ "node": node.as_str(), "action": "reboot" }))
        }
        T::ShutdownNode { node } => {
            p.actions.node_power(node.as_str(), NodePower::Shutdown).await?;
            Ok(json!({ "node": node.as_str(), "action": "shutdown" }))
        }
    }
}
