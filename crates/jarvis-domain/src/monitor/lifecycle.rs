//! The incident lifecycle: matching each tier's conditions against incidents — opening,
//! reopening within the window, updating severity and flapping, holding back for backups and
//! silences, resolving when the condition clears — and the feed lines for state changes.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use super::detect::Change;
use super::machine::{Effect, EventDraft, Monitor};
use super::model::{Incident, IncidentKind, IncidentState, IncidentTracking, TimelineKind};
use super::observe::{Condition, Family, Subject};
use crate::events::{EventType, Severity};

impl Monitor {
    pub(super) fn change_events(&self, changes: &[Change], fx: &mut Vec<Effect>) {
        for c in changes {
            let (severity, title, message, node) = match c {
                Change::Stopped { vm, by } => (
                    Severity::Info,
                    format!("{} stopped", vm.label()),
                    format!("Stopped on {} ({by}).", vm.node),
                    Some(&vm.node),
                ),
                Change::Started { vm } => (
                    Severity::Info,
                    format!("{} started", vm.label()),
                    format!("Running on {}.", vm.node),
                    Some(&vm.node),
                ),
                Change::Migrated { vm, from } => (
                    Severity::Info,
                    format!("{} moved to {}", vm.label(), vm.node),
                    format!("Migrated from {from}."),
                    Some(&vm.node),
                ),
                Change::NodeOffline { node, deliberate: Some(by) } => (
                    Severity::Info,
                    format!("Node {node} went down"),
                    format!("Powered down on purpose ({by})."),
                    Some(node),
                ),
                Change::NodeOnline { node } => (
                    Severity::Info,
                    format!("Node {node} is online"),
                    "The node rejoined the cluster.".to_owned(),
                    Some(node),
                ),
                Change::QuorumRegained => (
                    Severity::Info,
                    "Quorum regained".to_owned(),
                    "The cluster is quorate again.".to_owned(),
                    None,
                ),
                // These open incidents; the incident's own event reports them.
                Change::Crashed { .. }
                | Change::NodeOffline { deliberate: None, .. }
                | Change::QuorumLost => continue,
            };
            let node = node.cloned();
            fx.push(Effect::Event(EventDraft {
                kind: EventType::Status,
                severity,
                title,
                message,
                node,
            }));
        }
    }

    /// Matches a family's conditions against its incidents: opens, reopens, updates, clears.
    pub(super) fn reconcile(
        &mut self,
        family: Family,
        conditions: Vec<Condition>,
        complete: bool,
        now: DateTime<Utc>,
        fx: &mut Vec<Effect>,
    ) {
        let mut present = BTreeSet::new();
        for c in conditions {
            present.insert(c.key.clone());
            self.seen.insert(c.key.clone(), now);
            let key = c.key.clone();
            self.conditions.insert(key.clone(), c.clone());
            let inc = match self.incidents.remove(&key) {
                Some(mut inc) if inc.is_live() => {
                    self.update_live(&mut inc, &c, now, fx);
                    inc
                }
                Some(inc) if inc.tracking.accepted => inc,
                Some(mut inc)
                    if inc.resolved_at.is_some_and(|t| now - t < self.settings.reopen_window) =>
                {
                    self.reopen(&mut inc, &c, now, fx);
                    inc
                }
                _ => self.open(&c, now, fx),
            };
            self.incidents.insert(key, inc);
        }
        if complete {
            let gone: Vec<String> = self
                .incidents
                .values()
                .filter(|i| Family::of(i.kind, &i.key) == family && !present.contains(&i.key))
                .map(|i| i.key.clone())
                .collect();
            for key in gone {
                let Some(mut inc) = self.incidents.remove(&key) else { continue };
                if inc.is_live() {
                    if !self.has_pending_action(&inc.id) {
                        let detail = cleared_text(&inc);
                        self.resolve(&mut inc, &detail, now, fx);
                    }
                } else if inc.tracking.accepted {
                    // It cleared once: it may open again.
                    inc.tracking.accepted = false;
                    fx.push(Effect::SaveIncident(inc.clone()));
                }
                self.conditions.remove(&key);
                self.incidents.insert(key, inc);
            }
        }
        self.evaluated.insert(family, now);
    }

    pub(super) fn open(
        &mut self,
        c: &Condition,
        now: DateTime<Utc>,
        fx: &mut Vec<Effect>,
    ) -> Incident {
        let mut inc = Incident {
            id: Incident::id_for(&c.key, now),
            key: c.key.clone(),
            kind: c.kind,
            severity: c.severity,
            state: IncidentState::Open,
            node: c.node.clone(),
            vmid: c.vmid,
            title: c.title.clone(),
            opened_at: now,
            acknowledged_at: None,
            resolved_at: None,
            occurrences: 1,
            suppressed_by: None,
            flapping: c.flapping,
            escalated: false,
            timeline: Vec::new(),
            tracking: IncidentTracking { remediable: c.remediable, ..IncidentTracking::default() },
        };
        if let Subject::Guest { .. } = c.subject {
            inc.tracking.guest_name = guest_name(&c.title);
        }
        inc.note(now, TimelineKind::Detected, c.detail.clone());
        fx.push(Self::incident_event(
            &inc,
            EventType::Alert,
            c.severity,
            inc.title.clone(),
            c.detail.clone(),
        ));
        self.apply_suppression(&mut inc, now);
        let has_runbook = self.runbook_for(&inc).is_some();
        self.maybe_notify_open(&mut inc, has_runbook, now, fx);
        fx.push(Effect::SaveIncident(inc.clone()));
        inc
    }

    pub(super) fn reopen(
        &mut self,
        inc: &mut Incident,
        c: &Condition,
        now: DateTime<Utc>,
        fx: &mut Vec<Effect>,
    ) {
        let after = (now - inc.resolved_at.unwrap_or(now)).num_minutes();
        inc.state = IncidentState::Open;
        inc.occurrences += 1;
        inc.acknowledged_at = None;
        inc.severity = c.severity;
        inc.title = c.title.clone();
        inc.escalated = false;
        inc.flapping = inc.flapping || c.flapping;
        let remediable = inc.tracking.remediable || c.remediable;
        let guest_name = inc.tracking.guest_name.take();
        inc.tracking = IncidentTracking { remediable, guest_name, ..IncidentTracking::default() };
        inc.note(
            now,
            TimelineKind::Reopened,
            format!("Back {after} min after it resolved: {}", c.detail),
        );
        fx.push(Self::incident_event(
            inc,
            EventType::Alert,
            c.severity,
            format!("Again: {}", inc.title),
            c.detail.clone(),
        ));
        self.apply_suppression(inc, now);
        let has_runbook = self.runbook_for(inc).is_some();
        self.maybe_notify_open(inc, has_runbook, now, fx);
        fx.push(Effect::SaveIncident(inc.clone()));
    }

    pub(super) fn update_live(
        &mut self,
        inc: &mut Incident,
        c: &Condition,
        now: DateTime<Utc>,
        fx: &mut Vec<Effect>,
    ) {
        let before = inc.clone();
        if c.severity > inc.severity {
            inc.note(
                now,
                TimelineKind::Note,
                format!("Severity raised to {}: {}", c.severity, c.detail),
            );
            inc.severity = c.severity;
        }
        if c.flapping && !inc.flapping {
            inc.flapping = true;
            inc.note(now, TimelineKind::Note, "Flapping: it keeps bouncing around its threshold; kept as this one incident until it settles for 30 min.");
        }
        self.apply_suppression(inc, now);
        let has_runbook = self.runbook_for(inc).is_some();
        self.maybe_notify_open(inc, has_runbook, now, fx);
        if *inc != before {
            fx.push(Effect::SaveIncident(inc.clone()));
        }
    }

    /// Resolves `inc` now, notifying if its opening was notified.
    pub(super) fn resolve(
        &mut self,
        inc: &mut Incident,
        detail: &str,
        now: DateTime<Utc>,
        fx: &mut Vec<Effect>,
    ) {
        inc.state = IncidentState::Resolved;
        inc.resolved_at = Some(now);
        inc.suppressed_by = None;
        inc.note(now, TimelineKind::Resolved, detail);
        fx.push(Self::incident_event(
            inc,
            EventType::Status,
            Severity::Info,
            format!("Resolved: {}", inc.title),
            detail.to_owned(),
        ));
        if inc.tracking.notified_open {
            self.notice(inc, super::notices::NoticeKind::Resolved, detail, now, fx);
        } else if inc.tracking.deferred {
            inc.note(now, TimelineKind::Note, "Not reported: remediated at autonomy level 4.");
        }
        inc.tracking.notified_open = false;
        inc.tracking.deferred = false;
        inc.tracking.said.clear();
        self.withdraw_recommendations(&inc.id, "the incident resolved", now, fx);
        fx.push(Effect::SaveIncident(inc.clone()));
    }

    pub(super) fn suppression(&self, inc: &Incident, now: DateTime<Utc>) -> Option<String> {
        if let Some(why) = self.conditions.get(&inc.key).and_then(|c| c.backup.clone()) {
            return Some(why);
        }
        self.silences
            .iter()
            .filter(|s| s.active(now))
            .find(|s| s.matcher.matches(inc.kind, inc.node.as_deref(), inc.vmid))
            .map(|s| {
                format!(
                    "silenced until {} UTC: {}",
                    s.expires_at.format("%Y-%m-%d %H:%M"),
                    s.reason
                )
            })
    }

    pub(super) fn apply_suppression(&mut self, inc: &mut Incident, now: DateTime<Utc>) {
        let mut next = if inc.is_live() { self.suppression(inc, now) } else { None };
        let settling = self.conditions.get(&inc.key).is_some_and(|c| c.settling);
        if next.is_none()
            && settling
            && inc.suppressed_by.as_deref().is_some_and(|s| s.starts_with("backup"))
        {
            // The backup is over and the value is already falling back: what the backup caused
            // stays held back while it settles, instead of being announced on its way out.
            next = inc.suppressed_by.clone();
        }
        if next == inc.suppressed_by {
            return;
        }
        match (&inc.suppressed_by, &next) {
            (_, Some(why)) => inc.note(
                now,
                TimelineKind::Suppressed,
                format!("Held back (no notification, no remediation): {why}"),
            ),
            (Some(_), None) => inc.note(now, TimelineKind::Suppressed, "No longer held back."),
            (None, None) => {}
        }
        inc.suppressed_by = next;
    }

    pub(super) fn resuppress_all(&mut self, now: DateTime<Utc>, fx: &mut Vec<Effect>) {
        let keys: Vec<String> =
            self.incidents.values().filter(|i| i.is_live()).map(|i| i.key.clone()).collect();
        for key in keys {
            let Some(mut inc) = self.incidents.remove(&key) else { continue };
            let before = inc.suppressed_by.clone();
            self.apply_suppression(&mut inc, now);
            if inc.suppressed_by != before {
                let has_runbook = self.runbook_for(&inc).is_some();
                self.maybe_notify_open(&mut inc, has_runbook, now, fx);
                fx.push(Effect::SaveIncident(inc.clone()));
            }
            self.incidents.insert(key, inc);
        }
        self.silences.retain(|s| s.expires_at > now);
    }

    /// Whether the condition of `inc` was holding at its family's latest evaluation.
    pub(super) fn holds(&self, inc: &Incident) -> bool {
        let family = Family::of(inc.kind, &inc.key);
        match (self.seen.get(&inc.key), self.evaluated.get(&family)) {
            (Some(seen), Some(evaluated)) => seen >= evaluated,
            _ => false,
        }
    }
}

/// The guest name inside a crash title (`VM web (101) crashed on pve1` → `web`).
fn guest_name(title: &str) -> Option<String> {
    let rest = title.split_once(' ')?.1;
    Some(rest.split(" (").next()?.to_owned())
}

/// What clearing means, per kind.
fn cleared_text(inc: &Incident) -> String {
    match inc.kind {
        IncidentKind::Crash => format!("Guest {} is running again.", inc.vmid.unwrap_or_default()),
        IncidentKind::NodeOffline => {
            format!("Node {} is back online.", inc.node.as_deref().unwrap_or("?"))
        }
        IncidentKind::Quorum => "The cluster is quorate again.".into(),
        IncidentKind::Threshold => "Back below the clear mark, and it stayed there.".into(),
        IncidentKind::Storage => "The storage is available again.".into(),
        IncidentKind::Backup => "A later backup run succeeded.".into(),
        IncidentKind::Pve => "PVE answers again.".into(),
    }
}
