//! Who is told what, when (MON-06): one notification when an incident opens, one when it
//! resolves, one on escalation — never a repeat for an open incident, except a reminder after a
//! long repeat interval — and none while it is acknowledged, silenced, held back by a backup, at
//! autonomy level 0, or (level 4) while a remediation may still fix it. The texts live here too,
//! so the golden scenarios pin them.

use chrono::{DateTime, Utc};

use super::machine::{Effect, EventDraft, Monitor};
use super::model::{AutonomyLevel, Incident, IncidentState, TimelineKind};
use crate::events::{EventType, Severity, word_enum};

word_enum! {
    /// Why a notification is sent (the outbox's `kind`).
    pub enum NoticeKind, "Notification kind." {
        /// An incident opened.
        Opened = "opened",
        /// It came back within the reopen window.
        Reopened = "reopened",
        /// It resolved.
        Resolved = "resolved",
        /// Remediation gave up: the operator is needed.
        Escalated = "escalated",
        /// Still open after the repeat interval.
        Reminder = "reminder",
    }
}

/// A notification to queue (the driver renders the link and fans out to every target).
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    /// The incident.
    pub incident_id: String,
    /// Why.
    pub kind: NoticeKind,
    /// How serious.
    pub severity: Severity,
    /// One line.
    pub title: String,
    /// The text.
    pub body: String,
}

fn ago(from: DateTime<Utc>, to: DateTime<Utc>) -> String {
    let secs = (to - from).num_seconds().max(0);
    match secs {
        0..=119 => format!("{secs} s"),
        120..=7199 => format!("{} min", secs / 60),
        _ => format!("{} h {} min", secs / 3600, secs % 3600 / 60),
    }
}

impl Monitor {
    /// Queues `kind` for `inc` and records it.
    pub(super) fn notice(
        &mut self,
        inc: &mut Incident,
        kind: NoticeKind,
        detail: &str,
        now: DateTime<Utc>,
        fx: &mut Vec<Effect>,
    ) {
        let title = match kind {
            NoticeKind::Opened => inc.title.clone(),
            NoticeKind::Reopened => format!("Again: {} ({} times)", inc.title, inc.occurrences),
            NoticeKind::Resolved => format!("Resolved: {}", inc.title),
            NoticeKind::Escalated => format!("Needs you: {}", inc.title),
            NoticeKind::Reminder => format!("Still open: {}", inc.title),
        };
        let severity = if kind == NoticeKind::Resolved { Severity::Info } else { inc.severity };
        let mut body = format!("{detail}\n");
        if let Some(node) = &inc.node {
            body.push_str(&format!("Node: {node}\n"));
        }
        body.push_str(&format!(
            "Opened {} ago ({} UTC); occurrences: {}.\n",
            ago(inc.opened_at, now),
            inc.opened_at.format("%Y-%m-%d %H:%M:%S"),
            inc.occurrences
        ));
        if let Some(last) = inc.timeline.iter().rev().find(|e| {
            matches!(
                e.kind,
                TimelineKind::Acted | TimelineKind::Verified | TimelineKind::Recommended
            )
        }) {
            body.push_str(&format!("Last action: {}\n", last.detail));
        }
        inc.tracking.last_notified_at = Some(now);
        let line = if self.settings.notifications_configured {
            format!("{} notification queued", kind.as_str())
        } else {
            format!(
                "{}: no notification target is configured (SMTP_URL, ALERT_WEBHOOK_URL)",
                kind.as_str()
            )
        };
        inc.note(now, TimelineKind::Notified, line);
        fx.push(Effect::Notify(Notice {
            incident_id: inc.id.clone(),
            kind,
            severity,
            title,
            body,
        }));
    }

    /// Sends the opening notification if the rules allow it now.
    pub(super) fn maybe_notify_open(
        &mut self,
        inc: &mut Incident,
        has_runbook: bool,
        now: DateTime<Utc>,
        fx: &mut Vec<Effect>,
    ) {
        if inc.tracking.notified_open
            || inc.state != IncidentState::Open
            || inc.suppressed_by.is_some()
        {
            return;
        }
        match self.level {
            AutonomyLevel::Observe => {
                inc.say_once(
                    now,
                    "level0-notify",
                    "Autonomy level 0 (observe only): nobody is notified.",
                );
                return;
            }
            AutonomyLevel::ActSilent
                if has_runbook && !inc.tracking.escalated && !self.failed_attempts(inc) =>
            {
                if !inc.tracking.deferred {
                    inc.tracking.deferred = true;
                    inc.note(
                        now,
                        TimelineKind::Note,
                        "Autonomy level 4: reported only if remediation fails.",
                    );
                }
                return;
            }
            _ => {}
        }
        inc.tracking.notified_open = true;
        inc.tracking.deferred = false;
        let kind = if inc.occurrences > 1 { NoticeKind::Reopened } else { NoticeKind::Opened };
        let detail = inc
            .timeline
            .iter()
            .rev()
            .find(|e| e.kind == TimelineKind::Detected || e.kind == TimelineKind::Reopened)
            .map(|e| e.detail.clone())
            .unwrap_or_default();
        self.notice(inc, kind, &detail, now, fx);
    }

    /// Reminders for incidents open past the repeat interval.
    pub(super) fn reminders(&mut self, now: DateTime<Utc>, fx: &mut Vec<Effect>) {
        let Some(every) = self.settings.repeat_interval else { return };
        let keys: Vec<String> = self
            .incidents
            .values()
            .filter(|i| {
                i.state == IncidentState::Open
                    && i.suppressed_by.is_none()
                    && i.tracking.notified_open
                    && i.tracking.last_notified_at.is_some_and(|t| now - t >= every)
            })
            .map(|i| i.key.clone())
            .collect();
        for key in keys {
            let Some(mut inc) = self.incidents.remove(&key) else { continue };
            let detail = format!("Open for {}; not acknowledged.", ago(inc.opened_at, now));
            self.notice(&mut inc, NoticeKind::Reminder, &detail, now, fx);
            fx.push(Effect::SaveIncident(inc.clone()));
            self.incidents.insert(key, inc);
        }
    }

    /// The activity-feed line for an incident event.
    pub(super) fn incident_event(
        inc: &Incident,
        kind: EventType,
        severity: Severity,
        title: String,
        message: String,
    ) -> Effect {
        Effect::Event(EventDraft { kind, severity, title, message, node: inc.node.clone() })
    }
}
