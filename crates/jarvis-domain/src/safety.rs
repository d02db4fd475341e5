//! The safety decision for one parsed tool call: run it, ask a human first, or refuse.
//!
//! [`decide`] is the only place that decides, and every caller (chat, REST, MCP, runbooks, UI
//! buttons, slash commands) goes through it with a typed [`ToolCall`] — so protected resources
//! are checked on parsed values, never on raw strings, and the rules below hold everywhere:
//!
//! 1. Kill switch on and the tool mutates → blocked.
//! 2. A mutating tool aimed at a protected guest, node or service → blocked. No elevation
//!    unlocks this. Read-only tools on protected resources are allowed (the original blocked
//!    even reads of a protected node, which only made Jarvis blind to it).
//! 3. `execute_ssh` whose command fails the command policy → blocked.
//! 4. BLACK → blocked, or a confirmation while elevated by the override passkey.
//! 5. RED → a confirmation, elevated or not.
//! 6. YELLOW and GREEN → run.
//!
//! The server calls [`decide`] again when a confirmation is approved
//! ([`recheck_at_execution`]), so a kill switch thrown, a resource protected or an elevation
//! expired in between still stops the action.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::command_policy::check_command;
use crate::ids::{NodeName, ServiceName, VmId};
use crate::tools::{Tier, ToolCall};

/// The protected resources, from `PROTECTED_VMIDS`, `PROTECTED_NODES` and `PROTECTED_SERVICES`.
/// Stored normalised: node names lower-cased (compared ignoring case), services in
/// [`ServiceName::canonical`] form (so `docker`, `Docker` and `docker.service` all match).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Protected {
    /// Protected guest ids.
    pub vmids: BTreeSet<u32>,
    /// Protected node names, lower-cased.
    pub nodes: Vec<String>,
    /// Protected services, canonical (`docker.service`).
    pub services: Vec<String>,
}

impl Protected {
    /// Parses the three comma-separated configuration values. Blank entries are ignored; an
    /// invalid entry is an error naming the variable, so a typo cannot silently unprotect.
    pub fn from_lists(vmids: &str, nodes: &str, services: &str) -> Result<Protected, String> {
        fn entries(list: &str) -> impl Iterator<Item = &str> {
            list.split(',').map(str::trim).filter(|e| !e.is_empty())
        }
        let mut p = Protected::default();
        for e in entries(vmids) {
            let id: VmId = e.parse().map_err(|err| format!("PROTECTED_VMIDS: {err}"))?;
            p.vmids.insert(id.get());
        }
        for e in entries(nodes) {
            let n: NodeName = e.parse().map_err(|err| format!("PROTECTED_NODES: {err}"))?;
            p.nodes.push(n.as_str().to_ascii_lowercase());
        }
        for e in entries(services) {
            let s: ServiceName = e.parse().map_err(|err| format!("PROTECTED_SERVICES: {err}"))?;
            p.services.push(s.canonical());
        }
        p.nodes.dedup();
        p.services.dedup();
        Ok(p)
    }

    /// True when this guest is protected.
    pub fn has_vmid(&self, vmid: VmId) -> bool {
        self.vmids.contains(&vmid.get())
    }

    /// True when this node is protected (ignoring case).
    pub fn has_node(&self, node: &NodeName) -> bool {
        self.nodes.iter().any(|n| node.eq_ignore_case(n))
    }

    /// True when this service is protected (canonical comparison).
    pub fn has_service(&self, service: &ServiceName) -> bool {
        self.services.contains(&service.canonical())
    }

    /// Why `call` touches a protected resource, if it does (whatever the tool's tier).
    pub fn violation(&self, call: &ToolCall) -> Option<String> {
        const NO_OVERRIDE: &str = "Jarvis never acts on it and no override unlocks it";
        if let Some(vmid) = call.vmid().filter(|v| self.has_vmid(*v)) {
            return Some(format!("guest {vmid} is protected (PROTECTED_VMIDS): {NO_OVERRIDE}"));
        }
        if let Some(node) = call.node().filter(|n| self.has_node(n)) {
            return Some(format!("node {node} is protected (PROTECTED_NODES): {NO_OVERRIDE}"));
        }
        if let Some(service) = call.service().filter(|s| self.has_service(s)) {
            return Some(format!(
                "service {service} is protected (PROTECTED_SERVICES): {NO_OVERRIDE}"
            ));
        }
        None
    }
}

/// What the server knows when it decides.
#[derive(Debug, Clone, Copy)]
pub struct SafetyContext<'a> {
    /// The operator's kill switch: no mutation runs while it is on.
    pub kill_switch: bool,
    /// The override passkey is in effect for this request (chat turn or 5-minute elevation).
    pub elevated: bool,
    /// The protected resources.
    pub protected: &'a Protected,
}

/// Why a call was refused. The REST API maps [`BlockCode::KillSwitch`] to 423 `kill_switch`
/// and the others to 403 `blocked`; the code itself goes into the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BlockCode {
    /// A BLACK tool without elevation (or a service restart that would take the node down).
    Black,
    /// A protected guest, node or service.
    Protected,
    /// An SSH command the command policy refused.
    CommandPolicy,
    /// The kill switch is on.
    KillSwitch,
}

impl BlockCode {
    /// The snake_case code (`black`, `protected`, `command_policy`, `kill_switch`).
    pub fn as_str(self) -> &'static str {
        match self {
            BlockCode::Black => "black",
            BlockCode::Protected => "protected",
            BlockCode::CommandPolicy => "command_policy",
            BlockCode::KillSwitch => "kill_switch",
        }
    }
}

/// The outcome of [`decide`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Run it now.
    Execute,
    /// Create a server-side confirmation; run only when a human approves it.
    Confirm {
        /// What the dialog shows, e.g. "Stop VM 101 on node pve1 (hard power-off)".
        summary: String,
    },
    /// Never run it.
    Blocked {
        /// Machine-readable reason.
        code: BlockCode,
        /// Human-readable reason (safe to show to the LLM and the operator).
        reason: String,
    },
}

impl Decision {
    /// True for [`Decision::Blocked`].
    pub fn is_blocked(&self) -> bool {
        matches!(self, Decision::Blocked { .. })
    }
}

/// Restarting these units powers the node off or reboots it, which is what the BLACK
/// `reboot_node` / `shutdown_node` tools are for.
const POWER_UNITS: &[&str] = &[
    "systemd-reboot.service",
    "systemd-poweroff.service",
    "systemd-halt.service",
    "systemd-kexec.service",
    "systemd-soft-reboot.service",
    "systemd-suspend.service",
    "systemd-hibernate.service",
    "systemd-hybrid-sleep.service",
    "systemd-suspend-then-hibernate.service",
];

fn blocked(code: BlockCode, reason: impl Into<String>) -> Decision {
    Decision::Blocked { code, reason: reason.into() }
}

/// Decides what happens to `call`. Pure: the same call and context always give the same answer.
pub fn decide(call: &ToolCall, ctx: &SafetyContext<'_>) -> Decision {
    let d = call.descriptor();
    if d.mutating && ctx.kill_switch {
        return blocked(
            BlockCode::KillSwitch,
            "kill switch is active: no actions run until the operator turns it off",
        );
    }
    if d.mutating
        && let Some(reason) = ctx.protected.violation(call)
    {
        return blocked(BlockCode::Protected, reason);
    }
    if let ToolCall::ExecuteSsh { command, .. } = call
        && let Err(v) = check_command(command)
    {
        return blocked(BlockCode::CommandPolicy, v.reason);
    }
    if let Some(service) = call.service().filter(|s| POWER_UNITS.contains(&s.canonical().as_str()))
    {
        return blocked(
            BlockCode::Black,
            format!(
                "restarting {service} would take the node down; that is what reboot_node and \
                 shutdown_node are for"
            ),
        );
    }
    match d.tier {
        Tier::Black if ctx.elevated => Decision::Confirm { summary: call.summary() },
        Tier::Black => blocked(
            BlockCode::Black,
            format!(
                "`{}` is BLACK tier and never runs without the operator's override passkey; \
                 suggest a safer alternative",
                d.name
            ),
        ),
        Tier::Red => Decision::Confirm { summary: call.summary() },
        Tier::Yellow | Tier::Green => Decision::Execute,
    }
}

/// The check the server repeats when a confirmation is approved, right before executing: it is
/// [`decide`] again with the context *at that moment*. [`Decision::Blocked`] means refuse (for
/// example the kill switch was thrown while the dialog was open, or the elevation that made a
/// BLACK call confirmable has expired); `Execute` or `Confirm` mean go ahead, since the approval
/// being processed is the confirmation.
pub fn recheck_at_execution(call: &ToolCall, ctx: &SafetyContext<'_>) -> Decision {
    decide(call, ctx)
}

#[cfg(test)]
mod tests;
