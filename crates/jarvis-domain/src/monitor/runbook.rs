//! Runbooks (MON-04) as data: what triggers them, which registry tool they call with which
//! arguments, how the result is verified and after how long, and how often they may try.
//! `GET /api/monitor/runbooks` lists them.

use chrono::Duration;
use serde::Serialize;
use serde_json::{Value, json};
use ts_rs::TS;
use utoipa::ToSchema;

use super::model::IncidentKind;
use super::observe::Subject;
use crate::cluster::{ClusterSnapshot, GuestStatus, GuestType, NodeStatus};
use crate::events::word_enum;

word_enum! {
    /// How a runbook checks that its action worked.
    pub enum Verify, "Verification." {
        /// The guest is running.
        GuestRunning = "guest_running",
        /// The node is online.
        NodeOnline = "node_online",
    }
}

impl Verify {
    /// `Some(true)` verified, `Some(false)` not (with what was seen), `None` when the snapshot
    /// cannot tell (stale data, the subject gone from it).
    pub fn check(
        self,
        subject: &Subject,
        snap: &ClusterSnapshot,
    ) -> Option<Result<String, String>> {
        if snap.freshness.stale {
            return None;
        }
        match (self, subject) {
            (Verify::GuestRunning, Subject::Guest { vmid, .. }) => {
                let vm = snap.vm(*vmid)?;
                // What an offline node's guests look like is last-known data: undecidable.
                if snap.node(&vm.node).is_none_or(|n| n.status != NodeStatus::Online) {
                    return None;
                }
                Some(if vm.status == GuestStatus::Running {
                    Ok(format!("guest {vmid} is running on {}", vm.node))
                } else {
                    Err(format!("guest {vmid} is {} on {}", vm.status.as_str(), vm.node))
                })
            }
            (Verify::NodeOnline, Subject::Node { node }) => {
                let n = snap.node(node)?;
                Some(if n.status == NodeStatus::Online {
                    Ok(format!("node {node} is online"))
                } else {
                    let seen = if n.status == NodeStatus::Offline { "offline" } else { "unknown" };
                    Err(format!("node {node} is still {seen}"))
                })
            }
            _ => Some(Err("nothing to verify for this subject".into())),
        }
    }
}

/// One runbook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Runbook {
    /// Stable id.
    pub id: &'static str,
    /// The incident kind it answers.
    pub trigger: IncidentKind,
    /// For guest incidents: only guests of this type.
    pub guest_type: Option<GuestType>,
    /// The registry tool it calls (never RED or BLACK on its own: those become confirmations).
    pub tool: &'static str,
    /// How the result is checked.
    pub verify: Verify,
    /// After how long.
    pub verify_after: Duration,
    /// Attempts per incident within [`Runbook::window`] before escalating.
    pub max_attempts: u32,
    /// The window attempts are counted in.
    pub window: Duration,
    /// Pause after a failed attempt before the next.
    pub cooldown: Duration,
    /// What it does, for people.
    pub description: &'static str,
}

/// Every runbook.
pub static RUNBOOKS: &[Runbook] = &[
    Runbook {
        id: "vm-crashed-start",
        trigger: IncidentKind::Crash,
        guest_type: Some(GuestType::Qemu),
        tool: "start_vm",
        verify: Verify::GuestRunning,
        verify_after: Duration::seconds(20),
        max_attempts: 3,
        window: Duration::hours(1),
        cooldown: Duration::seconds(60),
        description: "A VM stopped without any task explaining it: start it, then check it runs.",
    },
    Runbook {
        id: "ct-crashed-start",
        trigger: IncidentKind::Crash,
        guest_type: Some(GuestType::Lxc),
        tool: "start_container",
        verify: Verify::GuestRunning,
        verify_after: Duration::seconds(15),
        max_attempts: 3,
        window: Duration::hours(1),
        cooldown: Duration::seconds(60),
        description: "A container stopped without any task explaining it: start it, then check \
                      it runs.",
    },
    Runbook {
        id: "node-offline-wake",
        trigger: IncidentKind::NodeOffline,
        guest_type: None,
        tool: "wake_node",
        verify: Verify::NodeOnline,
        verify_after: Duration::seconds(120),
        max_attempts: 3,
        window: Duration::hours(1),
        cooldown: Duration::seconds(120),
        description: "A node Jarvis saw go offline: send Wake-on-LAN, then check it rejoins.",
    },
];

impl Runbook {
    /// The runbook for an incident about `subject`, if any.
    pub fn for_incident(kind: IncidentKind, subject: &Subject) -> Option<&'static Runbook> {
        RUNBOOKS.iter().find(|r| {
            r.trigger == kind
                && match subject {
                    Subject::Guest { kind, .. } => r.guest_type == Some(*kind),
                    Subject::Node { .. } => r.guest_type.is_none(),
                    Subject::None => false,
                }
        })
    }

    /// The tool arguments for `subject` (what `parse_call` accepts for [`Runbook::tool`]).
    pub fn args(&self, subject: &Subject) -> Value {
        match subject {
            Subject::Guest { node, vmid, .. } => json!({"node": node, "vmid": vmid}),
            Subject::Node { node } => json!({"node": node}),
            Subject::None => json!({}),
        }
    }

    /// The API view.
    pub fn view(&self, enabled: bool) -> RunbookView {
        RunbookView {
            id: self.id.into(),
            trigger: self.trigger,
            guest_type: self.guest_type,
            tool: self.tool.into(),
            verify: self.verify,
            verify_after_seconds: self.verify_after.num_seconds() as u32,
            max_attempts: self.max_attempts,
            window_seconds: self.window.num_seconds() as u32,
            cooldown_seconds: self.cooldown.num_seconds() as u32,
            description: self.description.into(),
            enabled,
        }
    }
}

/// One runbook as `GET /api/monitor/runbooks` shows it.
#[derive(Debug, Clone, PartialEq, Serialize, TS, ToSchema)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct RunbookView {
    /// Id.
    pub id: String,
    /// Incident kind that triggers it.
    pub trigger: IncidentKind,
    /// For guest incidents: the guest type.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub guest_type: Option<GuestType>,
    /// Registry tool it calls.
    pub tool: String,
    /// How it verifies.
    pub verify: Verify,
    /// After how long.
    pub verify_after_seconds: u32,
    /// Attempts per incident within the window.
    pub max_attempts: u32,
    /// The window, seconds.
    pub window_seconds: u32,
    /// Pause after a failed attempt, seconds.
    pub cooldown_seconds: u32,
    /// What it does.
    pub description: String,
    /// Whether it may run.
    pub enabled: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::{Tier, parse_call, tier_of};

    #[test]
    fn every_runbook_calls_a_registered_non_red_tool_with_valid_arguments() {
        for r in RUNBOOKS {
            assert!(tier_of(r.tool) < Tier::Red, "{} must not be RED/BLACK by itself", r.id);
            let subject = match r.guest_type {
                Some(kind) => Subject::Guest { node: "pve1".into(), vmid: 101, kind },
                None => Subject::Node { node: "pve1".into() },
            };
            let call = parse_call(r.tool, &r.args(&subject)).expect("arguments parse");
            assert_eq!(call.name(), r.tool);
            assert!(r.max_attempts >= 1 && r.cooldown > Duration::zero());
            assert_eq!(Runbook::for_incident(r.trigger, &subject).map(|x| x.id), Some(r.id));
        }
        assert!(Runbook::for_incident(IncidentKind::Threshold, &Subject::None).is_none());
    }
}
