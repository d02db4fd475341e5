//! What the monitor is given at each evaluation — the one cluster snapshot, PVE's own task list
//! and Jarvis's recent actions from the audit log — and what it derives: [`Condition`]s.

use chrono::{DateTime, Duration, Utc};

use super::model::IncidentKind;
use crate::cluster::ClusterSnapshot;
use crate::events::Severity;

/// A PVE task as the monitor sees it (one entry of `/cluster/tasks`).
#[derive(Debug, Clone, PartialEq)]
pub struct TaskInfo {
    /// The UPID.
    pub upid: String,
    /// The node that ran it.
    pub node: String,
    /// Task type: `qmstop`, `vzshutdown`, `qmigrate`, `vzdump`, `hastop`, …
    pub kind: String,
    /// Object id, usually the vmid (empty for jobs over several guests).
    pub id: String,
    /// Who started it (`root@pam`, `jarvis@pve!token`).
    pub user: String,
    /// When it started.
    pub start: DateTime<Utc>,
    /// When it ended (absent while running).
    pub end: Option<DateTime<Utc>>,
    /// The end status (`OK`, `WARNINGS: n`, an error text); absent while running.
    pub status: Option<String>,
}

impl TaskInfo {
    /// Still running.
    pub fn running(&self) -> bool {
        self.end.is_none() && self.status.is_none()
    }

    /// The vmid the task is about, if its id is one.
    pub fn vmid(&self) -> Option<u32> {
        self.id.parse().ok()
    }

    /// Finished successfully (`OK` or `WARNINGS: n`, PVE's own rule).
    pub fn succeeded(&self) -> Option<bool> {
        let s = self.status.as_deref()?.trim();
        Some(
            s == "OK"
                || s.strip_prefix("WARNINGS: ")
                    .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())),
        )
    }

    /// Whether the task was active at some point in `[from, to]` (with `slack` for clock skew
    /// between PVE and Jarvis).
    pub fn overlaps(&self, from: DateTime<Utc>, to: DateTime<Utc>, slack: Duration) -> bool {
        self.start <= to + slack && self.end.is_none_or(|end| end >= from - slack)
    }
}

/// A lifecycle action Jarvis itself ran (from its audit log): stop/shutdown/restart of a guest,
/// reboot/shutdown of a node.
#[derive(Debug, Clone, PartialEq)]
pub struct JarvisAction {
    /// When it was recorded.
    pub at: DateTime<Utc>,
    /// The registry tool.
    pub tool: String,
    /// Its node argument.
    pub node: Option<String>,
    /// Its vmid argument.
    pub vmid: Option<u32>,
    /// Who asked (the audit actor).
    pub actor: String,
}

/// One evaluation's inputs.
#[derive(Debug, Clone, Copy)]
pub struct Observed<'a> {
    /// The one cluster state.
    pub snapshot: &'a ClusterSnapshot,
    /// PVE's task list when this tier read it (`None` when it did not or the read failed: then
    /// nothing that needs it is decided).
    pub tasks: Option<&'a [TaskInfo]>,
    /// Jarvis's recent lifecycle actions.
    pub actions: &'a [JarvisAction],
    /// The kill switch as it stands now.
    pub kill_switch: bool,
}

/// What a runbook would act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// A guest.
    Guest {
        /// Node it is on.
        node: String,
        /// Its id.
        vmid: u32,
        /// VM or container.
        kind: crate::cluster::GuestType,
    },
    /// A node.
    Node {
        /// Its name.
        node: String,
    },
    /// Nothing a runbook acts on.
    None,
}

/// A condition that holds now; the machine keeps one incident per key.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// `crash:qemu/101`, `node_offline:pve2`, `threshold:disk:node/pve2`, …
    pub key: String,
    /// What kind of incident it makes.
    pub kind: IncidentKind,
    /// How serious.
    pub severity: Severity,
    /// Node concerned.
    pub node: Option<String>,
    /// Guest concerned.
    pub vmid: Option<u32>,
    /// One line.
    pub title: String,
    /// Details (values, the reason).
    pub detail: String,
    /// What a runbook may act on.
    pub subject: Subject,
    /// Whether a runbook may act (false for a node already down when monitoring started).
    pub remediable: bool,
    /// Caused by a running backup: recorded, not notified, not remediated.
    pub backup: Option<String>,
    /// Bouncing around its marks.
    pub flapping: bool,
    /// Below its clear mark, waiting out the settle time before it resolves.
    pub settling: bool,
}

/// The families of conditions; each is evaluated by one schedule tier, so a tier only resolves
/// the incidents it evaluates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Family {
    /// Guest crashes, nodes offline, quorum, PVE unreachable (critical tier).
    State,
    /// Node and guest metrics (important tier).
    Metrics,
    /// Storage use and availability (routine tier).
    Storage,
    /// Failed backups (background tier).
    Backups,
}

impl Family {
    /// The family an incident of `kind` with `key` belongs to.
    pub fn of(kind: IncidentKind, key: &str) -> Family {
        match kind {
            IncidentKind::Crash
            | IncidentKind::NodeOffline
            | IncidentKind::Quorum
            | IncidentKind::Pve => Family::State,
            IncidentKind::Storage => Family::Storage,
            IncidentKind::Backup => Family::Backups,
            IncidentKind::Threshold if key.starts_with("threshold:storage:") => Family::Storage,
            IncidentKind::Threshold => Family::Metrics,
        }
    }
}
