//! The monitor's records: incidents with their timeline, runbook attempts, silences and the
//! autonomy level — the wire shapes of `/api/monitor/*` (generated into the web UI) and what the
//! server stores.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use ts_rs::TS;
use utoipa::ToSchema;

use crate::events::{Severity, word_enum};

word_enum! {
    /// What an incident is about.
    pub enum IncidentKind, "Incident kind." {
        /// A running guest stopped without any task explaining it.
        Crash = "crash",
        /// A node stopped answering the cluster.
        NodeOffline = "node_offline",
        /// The cluster lost quorum.
        Quorum = "quorum",
        /// A metric crossed its threshold (CPU, RAM, disk, temperature, storage or guest disk).
        Threshold = "threshold",
        /// A storage is not available on a node.
        Storage = "storage",
        /// A backup task failed.
        Backup = "backup",
        /// Jarvis cannot read the cluster from any PVE endpoint.
        Pve = "pve",
    }
}

word_enum! {
    /// Where an incident stands.
    pub enum IncidentState, "Incident state." {
        /// Open: notifications and remediation apply.
        Open = "open",
        /// The operator acknowledged it: no more notifications or actions until it resolves.
        Acknowledged = "acknowledged",
        /// Over (the condition cleared, or the operator resolved it).
        Resolved = "resolved",
    }
}

word_enum! {
    /// What a timeline entry records.
    pub enum TimelineKind, "Timeline entry kind." {
        /// The condition was seen.
        Detected = "detected",
        /// A notification was queued.
        Notified = "notified",
        /// A remediation was proposed for approval (autonomy level 2).
        Recommended = "recommended",
        /// A remediation ran.
        Acted = "acted",
        /// A remediation was verified (or failed verification).
        Verified = "verified",
        /// Remediation stopped and the operator was called.
        Escalated = "escalated",
        /// The operator acknowledged it.
        Acknowledged = "acknowledged",
        /// It ended.
        Resolved = "resolved",
        /// It came back within the reopen window.
        Reopened = "reopened",
        /// Notifications and remediation are held back (backup, silence) or released again.
        Suppressed = "suppressed",
        /// Something worth knowing: why nothing was done, severity changes, flapping.
        Note = "note",
    }
}

/// One entry of an incident's timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct TimelineEntry {
    /// When.
    #[ts(type = "string")]
    #[schema(value_type = String, format = DateTime)]
    pub at: DateTime<Utc>,
    /// What.
    pub kind: TimelineKind,
    /// In words.
    pub detail: String,
    /// The audit row of the action this entry records, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional, type = "number")]
    pub audit_id: Option<i64>,
}

/// Bookkeeping the machine keeps with an incident (stored, not part of the API).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct IncidentTracking {
    /// An opening notification went out for the current episode.
    pub notified_open: bool,
    /// When the last notification for this incident was queued.
    pub last_notified_at: Option<DateTime<Utc>>,
    /// Level 4: the opening notification waits for the remediation's outcome.
    pub deferred: bool,
    /// Remediation gave up and the operator was called.
    pub escalated: bool,
    /// The condition flaps (fires and clears repeatedly); it stays one incident.
    pub flapping: bool,
    /// The operator resolved it while the condition still held: it may not reopen before the
    /// condition has cleared once.
    pub accepted: bool,
    /// The runbook may act on it (false e.g. for a node already offline when Jarvis started).
    pub remediable: bool,
    /// Why remediation is permanently off for this incident (a protected guest, a denial).
    pub remediation_off: Option<String>,
    /// For guest incidents: the guest's name when it opened (titles after a restart).
    pub guest_name: Option<String>,
    /// One-time notes already written for the current episode (so a reason for not acting is
    /// said once, not every 12 seconds).
    pub said: BTreeSet<String>,
}

/// An incident: one per open condition, keyed (`crash:qemu/101`, `threshold:disk:node/pve2`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Incident {
    /// Stable id (derived from the key and the first opening time).
    pub id: String,
    /// The condition's key.
    pub key: String,
    /// What it is about.
    pub kind: IncidentKind,
    /// How serious (it may rise while open).
    pub severity: Severity,
    /// Open, acknowledged or resolved.
    pub state: IncidentState,
    /// The node concerned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub node: Option<String>,
    /// The guest concerned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub vmid: Option<u32>,
    /// One line.
    pub title: String,
    /// When it first opened.
    #[ts(type = "string")]
    #[schema(value_type = String, format = DateTime)]
    pub opened_at: DateTime<Utc>,
    /// When the operator acknowledged it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional, type = "string")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// When it resolved (last time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional, type = "string")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub resolved_at: Option<DateTime<Utc>>,
    /// How many times it opened (reopens within the window count here).
    pub occurrences: u32,
    /// Why notifications and remediation are held back right now (a backup, a silence).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub suppressed_by: Option<String>,
    /// Whether the condition flaps (collapsed into this one incident).
    pub flapping: bool,
    /// Whether remediation gave up and the operator was called.
    pub escalated: bool,
    /// What happened, oldest first.
    pub timeline: Vec<TimelineEntry>,
    /// The machine's bookkeeping (stored; not sent to clients).
    #[serde(skip)]
    pub tracking: IncidentTracking,
}

impl Incident {
    /// The incident id for `key` first opened at `at`: stable and reproducible (golden tests).
    pub fn id_for(key: &str, at: DateTime<Utc>) -> String {
        let mut h = Sha256::new();
        h.update(key.as_bytes());
        h.update(b"\n");
        h.update(at.timestamp_millis().to_be_bytes());
        format!("inc-{}", &hex::encode(h.finalize())[..16])
    }

    /// Not resolved.
    pub fn is_live(&self) -> bool {
        self.state != IncidentState::Resolved
    }

    /// Appends a timeline entry.
    pub fn note(&mut self, at: DateTime<Utc>, kind: TimelineKind, detail: impl Into<String>) {
        self.timeline.push(TimelineEntry { at, kind, detail: detail.into(), audit_id: None });
    }

    /// Appends a timeline entry naming an audit row.
    pub fn note_audited(
        &mut self,
        at: DateTime<Utc>,
        kind: TimelineKind,
        detail: impl Into<String>,
        audit_id: Option<i64>,
    ) {
        self.timeline.push(TimelineEntry { at, kind, detail: detail.into(), audit_id });
    }

    /// Writes `detail` once per episode under the tag `tag`; returns whether it was written.
    pub fn say_once(&mut self, at: DateTime<Utc>, tag: &str, detail: impl Into<String>) -> bool {
        if self.tracking.said.insert(tag.to_owned()) {
            self.note(at, TimelineKind::Note, detail);
            true
        } else {
            false
        }
    }
}

word_enum! {
    /// The result of a runbook attempt (`GET /api/monitor/actions`).
    pub enum ActionResult, "Action result." {
        /// Ran; verification pending.
        Pending = "pending",
        /// Proposed as a confirmation; waiting for the operator (autonomy level 2).
        Recommended = "recommended",
        /// Ran and verified.
        Success = "success",
        /// Ran and failed, or failed verification.
        Failure = "failure",
        /// Refused (protection, kill switch, denied by the operator).
        Blocked = "blocked",
        /// Attempts exhausted: the operator was called.
        Escalated = "escalated",
    }
}

/// One runbook attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct MonitorAction {
    /// Stable id (`<incident id>-<n>`).
    pub id: String,
    /// When it started.
    #[ts(type = "string")]
    #[schema(value_type = String, format = DateTime)]
    pub timestamp: DateTime<Utc>,
    /// The incident it serves.
    pub incident_id: String,
    /// The incident's key.
    pub incident_key: String,
    /// The runbook.
    pub runbook_id: String,
    /// The registry tool it runs.
    pub action: String,
    /// The tool's arguments.
    #[ts(type = "Record<string, unknown>")]
    pub args: serde_json::Value,
    /// Outcome so far.
    pub result: ActionResult,
    /// What verification found (or why it did not run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub verification: Option<String>,
    /// More about the outcome (an error, a reason).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub detail: Option<String>,
    /// The autonomy level it ran under.
    pub autonomy_level: u8,
    /// The node concerned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub node: Option<String>,
    /// 1 for the first attempt on this incident.
    pub attempt: u32,
    /// When verification is due (while pending).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional, type = "string")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub verify_at: Option<DateTime<Utc>>,
    /// The audit row of the execution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional, type = "number")]
    pub audit_id: Option<i64>,
    /// The confirmation the operator must approve (level 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub confirmation_id: Option<String>,
    /// When it reached its final result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional, type = "string")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub finished_at: Option<DateTime<Utc>>,
}

impl MonitorAction {
    /// Still in progress (running, waiting for verification or for the operator's approval).
    pub fn in_progress(&self) -> bool {
        matches!(self.result, ActionResult::Pending | ActionResult::Recommended)
    }

    /// Whether it counts against the per-incident limit: everything that ran or was proposed.
    /// Refusals (kill switch, protection) and escalation markers do not.
    pub fn counts_as_attempt(&self) -> bool {
        !matches!(self.result, ActionResult::Blocked | ActionResult::Escalated)
    }
}

/// What a silence applies to; every given field must match, at least one must be given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[ts(export)]
pub struct Matcher {
    /// Only incidents on this node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub node: Option<String>,
    /// Only incidents about this guest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub vmid: Option<u32>,
    /// Only incidents of this kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub kind: Option<IncidentKind>,
}

impl Matcher {
    /// True when nothing is set (which would silence everything; refused at creation).
    pub fn is_empty(&self) -> bool {
        self.node.is_none() && self.vmid.is_none() && self.kind.is_none()
    }

    /// Whether an incident about `node`/`vmid` of `kind` matches.
    pub fn matches(&self, kind: IncidentKind, node: Option<&str>, vmid: Option<u32>) -> bool {
        !self.is_empty()
            && self.kind.is_none_or(|k| k == kind)
            && self.node.as_deref().is_none_or(|n| node == Some(n))
            && self.vmid.is_none_or(|v| vmid == Some(v))
    }
}

/// A silence / maintenance window: matching incidents are recorded but neither notified nor
/// remediated until it expires.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Silence {
    /// Id.
    pub id: String,
    /// What it silences.
    pub matcher: Matcher,
    /// Why (shown on the incidents it holds back).
    pub reason: String,
    /// Who created it.
    pub created_by: String,
    /// When.
    #[ts(type = "string")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    /// When it ends.
    #[ts(type = "string")]
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: DateTime<Utc>,
}

impl Silence {
    /// In force at `now`.
    pub fn active(&self, now: DateTime<Utc>) -> bool {
        self.created_at <= now && now < self.expires_at
    }
}

/// How much the monitor may do on its own (MON-05): five distinct behaviours. On the wire it
/// is the integer 0..4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, TS)]
#[ts(export, type = "0 | 1 | 2 | 3 | 4")]
pub enum AutonomyLevel {
    /// 0: observe only — incidents are recorded, nobody is told, nothing is done.
    Observe = 0,
    /// 1: alert — incidents are notified; nothing is done.
    Alert = 1,
    /// 2: recommend — the runbook's action becomes a confirmation the operator approves.
    Recommend = 2,
    /// 3: act and report — the runbook runs, is verified, and everything is notified.
    ActReport = 3,
    /// 4: act, report only on failure — remediated incidents are not notified at all.
    ActSilent = 4,
}

impl Serialize for AutonomyLevel {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u8(self.number())
    }
}

impl<'de> Deserialize<'de> for AutonomyLevel {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let n = u8::deserialize(d)?;
        AutonomyLevel::try_from(n).map_err(serde::de::Error::custom)
    }
}

impl utoipa::PartialSchema for AutonomyLevel {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::Integer)
            .minimum(Some(0))
            .maximum(Some(4))
            .description(Some("Autonomy level 0..4"))
            .into()
    }
}

impl ToSchema for AutonomyLevel {}

impl AutonomyLevel {
    /// The number (0..4).
    pub fn number(self) -> u8 {
        self as u8
    }

    /// What the level does, in one line (shown in the UI and on incidents).
    pub fn describe(self) -> &'static str {
        match self {
            Self::Observe => "observe only",
            Self::Alert => "alert only",
            Self::Recommend => "recommend (operator approves)",
            Self::ActReport => "act and report",
            Self::ActSilent => "act, report only failures",
        }
    }
}

impl TryFrom<u8> for AutonomyLevel {
    type Error = String;
    fn try_from(n: u8) -> Result<Self, String> {
        Ok(match n {
            0 => Self::Observe,
            1 => Self::Alert,
            2 => Self::Recommend,
            3 => Self::ActReport,
            4 => Self::ActSilent,
            _ => return Err(format!("autonomy level must be an integer from 0 to 4 (got {n})")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matcher_needs_a_field_and_matches_all_given_ones() {
        assert!(!Matcher::default().matches(IncidentKind::Crash, Some("pve1"), Some(101)));
        let m = Matcher { node: Some("pve1".into()), ..Matcher::default() };
        assert!(m.matches(IncidentKind::Crash, Some("pve1"), Some(101)));
        assert!(m.matches(IncidentKind::Threshold, Some("pve1"), None));
        assert!(!m.matches(IncidentKind::Crash, Some("pve2"), Some(101)));
        let both = Matcher { vmid: Some(101), kind: Some(IncidentKind::Crash), node: None };
        assert!(both.matches(IncidentKind::Crash, Some("pve9"), Some(101)));
        assert!(!both.matches(IncidentKind::Threshold, Some("pve9"), Some(101)));
        assert!(!both.matches(IncidentKind::Crash, Some("pve9"), Some(102)));
    }

    #[test]
    fn levels_parse_only_0_to_4() {
        for n in 0..=4u8 {
            assert_eq!(AutonomyLevel::try_from(n).unwrap().number(), n);
        }
        assert!(AutonomyLevel::try_from(5).unwrap_err().contains("0 to 4"));
        assert!(serde_json::from_str::<AutonomyLevel>("7").is_err());
        assert_eq!(serde_json::to_string(&AutonomyLevel::Recommend).unwrap(), "2");
    }

    #[test]
    fn incident_ids_are_stable_and_distinct() {
        let t = DateTime::parse_from_rfc3339("2026-12-03T10:00:00Z").unwrap().to_utc();
        let a = Incident::id_for("crash:qemu/101", t);
        assert_eq!(a, Incident::id_for("crash:qemu/101", t));
        assert_ne!(a, Incident::id_for("crash:qemu/102", t));
        assert_ne!(a, Incident::id_for("crash:qemu/101", t + chrono::Duration::milliseconds(1)));
        assert!(a.starts_with("inc-") && a.len() == 20);
    }
}
