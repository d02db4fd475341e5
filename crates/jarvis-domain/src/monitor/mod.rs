//! The autonomous monitor's decisions (DESIGN.md "How data flows" §6), pure and effects-as-data
//! like `agent`: detection of state changes and threshold breaches with hysteresis, incidents
//! with their timeline, silences and backup awareness, runbooks under guardrails, and who is
//! notified when. The server's `monitor` driver feeds it the one cluster state, PVE's task list
//! and the audit log on a tiered schedule, and carries out its [`Effect`]s through the one tool
//! pipeline, the database and the notification outbox.
//!
//! # Layout
//! - [`model`] — incidents, timeline, actions, silences, autonomy levels (wire shapes).
//! - [`observe`] — the inputs of an evaluation and the [`Condition`]s derived from them.
//! - [`detect`] — crashes, nodes, quorum, PVE reachability (from tasks and the audit log).
//! - [`threshold`] — threshold rules and their hysteresis/flap tracker.
//! - [`measure`] — metric, storage and backup conditions; backup awareness.
//! - [`runbook`] — runbooks as data.
//! - [`schedule`] — the four tiers.
//! - `machine`, `remediate`, `notices` — the [`Monitor`] itself: incident lifecycle,
//!   guardrails, notifications.

pub mod detect;
mod lifecycle;
mod machine;
pub mod measure;
pub mod model;
mod notices;
pub mod observe;
mod remediate;
pub mod runbook;
pub mod schedule;
pub mod threshold;

pub use machine::{ActionRequest, CommandError, Effect, EventDraft, Monitor, MonitorSettings};
pub use model::{
    ActionResult, AutonomyLevel, Incident, IncidentKind, IncidentState, IncidentTracking, Matcher,
    MonitorAction, Silence, TimelineEntry, TimelineKind,
};
pub use notices::{Notice, NoticeKind};
pub use observe::{Condition, Family, JarvisAction, Observed, Subject, TaskInfo};
pub use remediate::{ActionOutcome, Settled};
pub use runbook::{RUNBOOKS, Runbook, RunbookView, Verify};
pub use schedule::{LastRuns, MonitorTier, Schedule};
pub use threshold::{Metric, Rule, RulePatch, ThresholdSettings};
