//! The inputs of the context builder's recent-activity and knowledge sections (MEM-04): the last
//! 24 hours of events, monitor actions and audit entries read from the database (each read
//! capped), mapped to plain [`ActivityItem`]s, and the memories as [`KnowledgeItem`]s.
//!
//! A read that fails leaves its section short rather than failing the turn: the prompt is still
//! useful without it, and the error is logged.

use chrono::{DateTime, Duration, Utc};
use jarvis_domain::audit::AuditEntry;
use jarvis_domain::monitor::{ActionResult, MonitorAction};
use jarvis_domain::prompt::{ActivityItem, ActivityKind, KnowledgeItem};

use super::ChatService;
use crate::db::events::EventQuery;
use crate::events::{Event, Severity};

/// How far back recent activity reaches.
pub const ACTIVITY_WINDOW_HOURS: i64 = 24;
/// Most rows read from each source per prompt.
pub const MAX_ROWS_PER_SOURCE: u32 = 200;

impl ChatService {
    /// Recent activity for the system prompt: up to [`MAX_ROWS_PER_SOURCE`] newest events,
    /// monitor actions and audit entries of the last [`ACTIVITY_WINDOW_HOURS`].
    pub(super) async fn recent_activity(&self) -> Vec<ActivityItem> {
        let since = self.now() - Duration::hours(ACTIVITY_WINDOW_HOURS);
        let db = &self.inner.db;
        let events = db.events(EventQuery {
            limit: MAX_ROWS_PER_SOURCE,
            since: Some(since),
            ..Default::default()
        });
        let actions = db.monitor_actions(MAX_ROWS_PER_SOURCE, Some(since));
        let audit = db.audit_entries(MAX_ROWS_PER_SOURCE, Some(since), None);
        let (events, actions, audit) = tokio::join!(events, actions, audit);
        let mut items = Vec::new();
        match events {
            Ok(rows) => items.extend(rows.iter().map(event_item)),
            Err(e) => tracing::warn!(error = %e, "recent events left out of the prompt"),
        }
        match actions {
            Ok(rows) => items.extend(rows.iter().map(action_item)),
            Err(e) => tracing::warn!(error = %e, "monitor actions left out of the prompt"),
        }
        match audit {
            Ok(rows) => items.extend(rows.iter().filter_map(audit_item)),
            Err(e) => tracing::warn!(error = %e, "audit entries left out of the prompt"),
        }
        items
    }

    /// What Jarvis remembers, for the knowledge section. There is no memory store in this
    /// build, so there is nothing to recall; the memory store maps its rows in here.
    pub(super) fn knowledge_items(&self) -> Vec<KnowledgeItem> {
        let _ = self;
        Vec::new()
    }
}

/// `title: message (node pve1)`.
pub fn event_item(e: &Event) -> ActivityItem {
    let mut text = e.title.clone();
    if !e.message.is_empty() && e.message != e.title {
        text.push_str(": ");
        text.push_str(&e.message);
    }
    if let Some(node) = &e.node {
        text.push_str(&format!(" (node {node})"));
    }
    ActivityItem { at: e.timestamp, kind: ActivityKind::Event, severity: e.severity, text }
}

/// `start_vm {"vmid":101} by runbook crash-restart: failure — detail`.
pub fn action_item(a: &MonitorAction) -> ActivityItem {
    let severity = match a.result {
        ActionResult::Failure | ActionResult::Escalated => Severity::Error,
        ActionResult::Blocked | ActionResult::Recommended => Severity::Warning,
        ActionResult::Pending | ActionResult::Success => Severity::Info,
    };
    let mut text =
        format!("{} {} by runbook {}: {}", a.action, a.args, a.runbook_id, a.result.as_str());
    if let Some(detail) = a.detail.as_deref().or(a.verification.as_deref()) {
        text.push_str(" — ");
        text.push_str(detail);
    }
    ActivityItem { at: a.timestamp, kind: ActivityKind::Action, severity, text }
}

/// `operator via chat: stop_vm {"vmid":101} executed → success — detail`; `None` for a row whose time
/// does not parse (it cannot be placed in the window).
pub fn audit_item(a: &AuditEntry) -> Option<ActivityItem> {
    let at: DateTime<Utc> = DateTime::parse_from_rfc3339(&a.at).ok()?.with_timezone(&Utc);
    let severity = match (a.outcome.as_str(), a.decision.as_str()) {
        ("failure", _) => Severity::Error,
        ("blocked" | "denied", _) | (_, "kill_switch_on" | "elevate") => Severity::Warning,
        _ => Severity::Info,
    };
    let mut text = format!("{} via {}: {}", a.actor, a.source, a.tool.as_deref().unwrap_or("-"));
    if let Some(args) = &a.args {
        text.push_str(&format!(" {args}"));
    }
    text.push_str(&format!(" {} → {}", a.decision, a.outcome));
    if let Some(detail) = &a.detail {
        text.push_str(" — ");
        text.push_str(detail);
    }
    Some(ActivityItem { at, kind: ActivityKind::Audit, severity, text })
}
