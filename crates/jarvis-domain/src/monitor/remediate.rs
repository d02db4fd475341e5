//! Runbooks under guardrails (MON-04, MON-05): when the monitor may act on an incident, the
//! attempt's life (run or recommend → outcome → verification), and escalation.
//!
//! In order, an open incident with a runbook is left alone when: it is held back (backup,
//! silence), acknowledged, escalated or its remediation was refused for good; the autonomy level
//! is 0 or 1; the kill switch is on (then *nothing* is submitted, so the audit log shows no
//! monitor action at all); an attempt for it is in progress; another remediation is running
//! anywhere in the cluster (one at a time); the runbook's attempts in its window are used up
//! (then it escalates, once); or a failed attempt's cooldown has not passed. Otherwise it runs
//! the runbook's tool — or, at level 2 and for any RED/BLACK tool, proposes it as a
//! confirmation the operator approves.

use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

use super::machine::{ActionRequest, Effect, EventDraft, Monitor, stored_first};
use super::model::{
    ActionResult, AutonomyLevel, Incident, IncidentState, MonitorAction, TimelineKind,
};
use super::notices::NoticeKind;
use super::observe::{Observed, Subject};
use super::runbook::{RUNBOOKS, Runbook};
use crate::cluster::GuestType;
use crate::events::{EventType, Severity};
use crate::tools::{Tier, tier_of};

/// How long a verification waits when the cluster data is stale.
const VERIFY_RETRY: Duration = Duration::seconds(15);

/// What the pipeline said about a submitted action.
#[derive(Debug, Clone, PartialEq)]
pub enum ActionOutcome {
    /// It ran and succeeded.
    Executed {
        /// Its audit row.
        audit_id: Option<i64>,
    },
    /// A confirmation was created instead (level 2, or a RED tool).
    ConfirmationCreated {
        /// Its id.
        confirmation_id: String,
    },
    /// It ran and failed.
    Failed {
        /// Its audit row.
        audit_id: Option<i64>,
        /// The error.
        error: String,
    },
    /// The pipeline refused it.
    Blocked {
        /// Its audit row.
        audit_id: Option<i64>,
        /// Why.
        reason: String,
        /// It will never be allowed (protected resource), as opposed to the kill switch.
        permanent: bool,
    },
}

/// How a proposed action's confirmation ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Settled {
    /// Approved and it ran successfully.
    Executed,
    /// Approved and it failed (or was blocked at execution).
    Failed(String),
    /// The operator said no.
    Denied,
    /// Nobody decided in time.
    Expired,
}

fn runbook(id: &str) -> Option<&'static Runbook> {
    RUNBOOKS.iter().find(|r| r.id == id)
}

/// The subject of an action, from its arguments.
fn subject_of(a: &MonitorAction, rb: &Runbook) -> Subject {
    let node = a.args.get("node").and_then(Value::as_str).unwrap_or_default().to_owned();
    match (a.args.get("vmid").and_then(Value::as_u64), rb.guest_type) {
        (Some(vmid), Some(kind)) => Subject::Guest { node, vmid: vmid as u32, kind },
        (Some(vmid), None) => Subject::Guest { node, vmid: vmid as u32, kind: GuestType::Qemu },
        (None, _) => Subject::Node { node },
    }
}

impl Monitor {
    /// An attempt for `incident_id` ran and awaits verification.
    pub(super) fn has_pending_action(&self, incident_id: &str) -> bool {
        self.actions
            .iter()
            .any(|a| a.incident_id == incident_id && a.result == ActionResult::Pending)
    }

    /// Any attempt of this incident failed (level 4 reports from then on).
    pub(super) fn failed_attempts(&self, inc: &Incident) -> bool {
        self.actions.iter().any(|a| a.incident_id == inc.id && a.result == ActionResult::Failure)
    }

    fn attempts(&self, inc: &Incident, rb: &Runbook, now: DateTime<Utc>) -> u32 {
        self.actions
            .iter()
            .filter(|a| {
                a.incident_key == inc.key && a.counts_as_attempt() && now - a.timestamp < rb.window
            })
            .count() as u32
    }

    /// When the cooldown after the incident's last failed attempt ends, if still ahead.
    pub(super) fn cooldown_end(&self, inc: &Incident, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let last =
            self.actions.iter().filter(|a| a.incident_id == inc.id).max_by_key(|a| a.timestamp)?;
        // After a failure — and after a success whose condition still holds — wait before the
        // next attempt rather than retrying at once.
        if !matches!(last.result, ActionResult::Failure | ActionResult::Success) {
            return None;
        }
        let end = last.finished_at? + runbook(&last.runbook_id)?.cooldown;
        (end > now).then_some(end)
    }

    pub(super) fn remediate_all(&mut self, now: DateTime<Utc>, fx: &mut Vec<Effect>) {
        let keys: Vec<String> = self
            .incidents
            .values()
            .filter(|i| i.state == IncidentState::Open)
            .map(|i| i.key.clone())
            .collect();
        for key in keys {
            let Some(mut inc) = self.incidents.remove(&key) else { continue };
            let before = inc.clone();
            self.remediate(&mut inc, now, fx);
            if inc != before {
                fx.push(Effect::SaveIncident(inc.clone()));
            }
            self.incidents.insert(key, inc);
        }
    }

    fn remediate(&mut self, inc: &mut Incident, now: DateTime<Utc>, fx: &mut Vec<Effect>) {
        let t = &inc.tracking;
        if inc.suppressed_by.is_some()
            || t.escalated
            || t.remediation_off.is_some()
            || !t.remediable
        {
            return;
        }
        let Some(rb) = self.runbook_for(inc) else { return };
        if !self.holds(inc) {
            return;
        }
        match self.level {
            AutonomyLevel::Observe | AutonomyLevel::Alert => {
                inc.say_once(
                    now,
                    "level",
                    format!(
                        "Autonomy level {} ({}): not acting; the runbook {} would run {}.",
                        self.level.number(),
                        self.level.describe(),
                        rb.id,
                        rb.tool
                    ),
                );
                return;
            }
            _ => {}
        }
        if self.kill_switch {
            inc.say_once(now, "kill", "Kill switch is on: not acting.");
            return;
        }
        if self.actions.iter().any(|a| a.incident_id == inc.id && a.in_progress()) {
            return;
        }
        if self.actions.iter().any(|a| a.result == ActionResult::Pending) {
            inc.say_once(
                now,
                "busy",
                "Waiting: another remediation is in progress (one at a time).",
            );
            return;
        }
        if let Some(Subject::Guest { node, .. }) = self.conditions.get(&inc.key).map(|c| &c.subject)
            && !self.state.node_online(node)
        {
            let line = format!(
                "Waiting: node {node} is offline; nothing can start there until it is back."
            );
            inc.say_once(now, "node-down", line);
            return;
        }
        inc.tracking.said.remove("node-down");
        let attempts = self.attempts(inc, rb, now);
        if attempts >= rb.max_attempts {
            self.escalate(inc, rb, attempts, now, fx);
            return;
        }
        if self.cooldown_end(inc, now).is_some() {
            return;
        }
        let Some(subject) = self.conditions.get(&inc.key).map(|c| c.subject.clone()) else {
            return;
        };
        let n = self.actions.iter().filter(|a| a.incident_id == inc.id).count() + 1;
        let confirm = self.level == AutonomyLevel::Recommend || tier_of(rb.tool) >= Tier::Red;
        let action = MonitorAction {
            id: format!("{}-{n}", inc.id),
            timestamp: now,
            incident_id: inc.id.clone(),
            incident_key: inc.key.clone(),
            runbook_id: rb.id.into(),
            action: rb.tool.into(),
            args: rb.args(&subject),
            result: if confirm { ActionResult::Recommended } else { ActionResult::Pending },
            verification: None,
            detail: None,
            autonomy_level: self.level.number(),
            node: inc.node.clone(),
            attempt: attempts + 1,
            verify_at: None,
            audit_id: None,
            confirmation_id: None,
            finished_at: None,
        };
        inc.tracking.said.remove("busy");
        fx.push(Effect::SaveAction(action.clone()));
        fx.push(Effect::RunAction(ActionRequest {
            action_id: action.id.clone(),
            tool: action.action.clone(),
            args: action.args.clone(),
            confirm,
        }));
        self.actions.push(action);
    }

    fn escalate(
        &mut self,
        inc: &mut Incident,
        rb: &Runbook,
        attempts: u32,
        now: DateTime<Utc>,
        fx: &mut Vec<Effect>,
    ) {
        inc.tracking.escalated = true;
        inc.escalated = true;
        let detail = format!(
            "{} did not fix it in {attempts} attempts within {} min; Jarvis stopped trying. It needs you.",
            rb.tool,
            rb.window.num_minutes()
        );
        inc.note(now, TimelineKind::Escalated, detail.clone());
        let marker = MonitorAction {
            id: format!("{}-escalated", inc.id),
            timestamp: now,
            incident_id: inc.id.clone(),
            incident_key: inc.key.clone(),
            runbook_id: rb.id.into(),
            action: rb.tool.into(),
            args: self.conditions.get(&inc.key).map_or(Value::Null, |c| rb.args(&c.subject)),
            result: ActionResult::Escalated,
            verification: None,
            detail: Some(detail.clone()),
            autonomy_level: self.level.number(),
            node: inc.node.clone(),
            attempt: attempts,
            verify_at: None,
            audit_id: None,
            confirmation_id: None,
            finished_at: Some(now),
        };
        fx.push(Effect::SaveAction(marker.clone()));
        self.actions.push(marker);
        fx.push(Self::incident_event(
            inc,
            EventType::Alert,
            Severity::Critical,
            format!("Escalated: {}", inc.title),
            detail.clone(),
        ));
        // Level 4 held the opening back; a failure that needs a human is exactly what it reports.
        self.maybe_notify_open(inc, true, now, fx);
        if self.level != AutonomyLevel::Observe {
            self.notice(inc, NoticeKind::Escalated, &detail, now, fx);
        }
    }

    /// The pipeline's answer for a submitted action.
    pub fn action_done(
        &mut self,
        action_id: &str,
        outcome: ActionOutcome,
        now: DateTime<Utc>,
    ) -> Vec<Effect> {
        let mut fx = Vec::new();
        let Some(idx) = self.actions.iter().position(|a| a.id == action_id && a.in_progress())
        else {
            return fx;
        };
        let rb = runbook(&self.actions[idx].runbook_id);
        let key = self.actions[idx].incident_key.clone();
        let mut inc = self.incidents.remove(&key);
        let a = &mut self.actions[idx];
        let what = format!("{} {}", a.action, a.args);
        let (kind, line, severity) = match outcome {
            ActionOutcome::Executed { audit_id } => {
                a.audit_id = audit_id;
                a.verify_at = Some(now + rb.map_or(Duration::seconds(20), |r| r.verify_after));
                (
                    TimelineKind::Acted,
                    format!("Ran {what} (attempt {}); verifying.", a.attempt),
                    Severity::Info,
                )
            }
            ActionOutcome::ConfirmationCreated { confirmation_id } => {
                a.result = ActionResult::Recommended;
                a.confirmation_id = Some(confirmation_id.clone());
                (
                    TimelineKind::Recommended,
                    format!(
                        "Proposed {what} for approval (confirmation {confirmation_id}); nothing runs until the operator approves."
                    ),
                    Severity::Warning,
                )
            }
            ActionOutcome::Failed { audit_id, error } => {
                a.audit_id = audit_id;
                a.result = ActionResult::Failure;
                a.finished_at = Some(now);
                a.detail = Some(error.clone());
                (
                    TimelineKind::Acted,
                    format!("{what} failed (attempt {}): {error}", a.attempt),
                    Severity::Error,
                )
            }
            ActionOutcome::Blocked { audit_id, reason, permanent } => {
                a.audit_id = audit_id;
                a.result = ActionResult::Blocked;
                a.finished_at = Some(now);
                a.detail = Some(reason.clone());
                if permanent && let Some(inc) = inc.as_mut() {
                    inc.tracking.remediation_off = Some(reason.clone());
                }
                (
                    TimelineKind::Note,
                    format!("The pipeline refused {what}: {reason}"),
                    Severity::Warning,
                )
            }
        };
        let audit_id = a.audit_id;
        let saved = a.clone();
        fx.push(Effect::SaveAction(saved));
        if let Some(mut inc) = inc {
            inc.note_audited(now, kind, line.clone(), audit_id);
            fx.push(Effect::Event(EventDraft {
                kind: EventType::Action,
                severity,
                title: format!("Remediation: {}", inc.title),
                message: line,
                node: inc.node.clone(),
            }));
            if self.failed_attempts(&inc) {
                self.maybe_notify_open(&mut inc, true, now, &mut fx);
            }
            fx.push(Effect::SaveIncident(inc.clone()));
            self.incidents.insert(key, inc);
        }
        fx.extend(self.next_wake(now));
        stored_first(fx)
    }

    /// A recommendation's confirmation ended (approved and ran, failed, denied, expired).
    pub fn confirmation_settled(
        &mut self,
        confirmation_id: &str,
        settled: Settled,
        now: DateTime<Utc>,
    ) -> Vec<Effect> {
        let mut fx = Vec::new();
        let Some(idx) = self.actions.iter().position(|a| {
            a.result == ActionResult::Recommended
                && a.confirmation_id.as_deref() == Some(confirmation_id)
        }) else {
            return fx;
        };
        let rb = runbook(&self.actions[idx].runbook_id);
        let key = self.actions[idx].incident_key.clone();
        let mut inc = self.incidents.remove(&key);
        let a = &mut self.actions[idx];
        let line = match settled {
            Settled::Executed => {
                a.result = ActionResult::Pending;
                a.verify_at = Some(now + rb.map_or(Duration::seconds(20), |r| r.verify_after));
                format!("Approved by the operator; {} ran. Verifying.", a.action)
            }
            Settled::Failed(error) => {
                a.result = ActionResult::Failure;
                a.finished_at = Some(now);
                a.detail = Some(error.clone());
                format!("Approved by the operator, but {} failed: {error}", a.action)
            }
            Settled::Denied => {
                a.result = ActionResult::Blocked;
                a.finished_at = Some(now);
                a.detail = Some("denied by the operator".into());
                if let Some(inc) = inc.as_mut() {
                    inc.tracking.remediation_off =
                        Some(format!("the operator denied {}", a.action));
                }
                format!(
                    "The operator denied {}; Jarvis will not propose it again for this incident.",
                    a.action
                )
            }
            Settled::Expired => {
                a.result = ActionResult::Failure;
                a.finished_at = Some(now);
                a.detail = Some("the confirmation expired without a decision".into());
                format!("Nobody approved {} in time; the proposal expired.", a.action)
            }
        };
        let kind = if a.result == ActionResult::Pending {
            TimelineKind::Acted
        } else {
            TimelineKind::Note
        };
        fx.push(Effect::SaveAction(a.clone()));
        if let Some(mut inc) = inc {
            inc.note(now, kind, line);
            fx.push(Effect::SaveIncident(inc.clone()));
            self.incidents.insert(key, inc);
        }
        fx.extend(self.next_wake(now));
        stored_first(fx)
    }

    /// Verifies every attempt whose verification is due.
    pub(super) fn verify_due(
        &mut self,
        o: &Observed<'_>,
        now: DateTime<Utc>,
        fx: &mut Vec<Effect>,
    ) {
        let due: Vec<usize> = (0..self.actions.len())
            .filter(|&i| {
                let a = &self.actions[i];
                a.result == ActionResult::Pending && a.verify_at.is_some_and(|t| t <= now)
            })
            .collect();
        for idx in due {
            let Some(rb) = runbook(&self.actions[idx].runbook_id) else { continue };
            let subject = subject_of(&self.actions[idx], rb);
            let Some(verdict) = rb.verify.check(&subject, o.snapshot) else {
                self.actions[idx].verify_at = Some(now + VERIFY_RETRY);
                continue;
            };
            let key = self.actions[idx].incident_key.clone();
            let mut inc = self.incidents.remove(&key);
            let a = &mut self.actions[idx];
            a.finished_at = Some(now);
            let line = match verdict {
                Ok(seen) => {
                    a.result = ActionResult::Success;
                    a.verification = Some(seen.clone());
                    format!("Verified: {seen}.")
                }
                Err(seen) => {
                    a.result = ActionResult::Failure;
                    a.verification = Some(format!("not verified: {seen}"));
                    format!(
                        "Verification failed: {seen} after {} s.",
                        rb.verify_after.num_seconds()
                    )
                }
            };
            let ok = a.result == ActionResult::Success;
            fx.push(Effect::SaveAction(a.clone()));
            let Some(mut inc) = inc.take() else { continue };
            inc.note(now, TimelineKind::Verified, line.clone());
            fx.push(Effect::Event(EventDraft {
                kind: EventType::Action,
                severity: if ok { Severity::Info } else { Severity::Error },
                title: format!("Remediation: {}", inc.title),
                message: line.clone(),
                node: inc.node.clone(),
            }));
            if ok && inc.is_live() && !self.holds(&inc) {
                // The condition cleared while this attempt was being verified.
                self.resolve(&mut inc, &line, now, fx);
            } else {
                if !ok {
                    self.maybe_notify_open(&mut inc, true, now, fx);
                }
                fx.push(Effect::SaveIncident(inc.clone()));
            }
            self.incidents.insert(key, inc);
        }
    }

    /// Withdraws recommendations still waiting for the operator (the incident resolved).
    pub(super) fn withdraw_recommendations(
        &mut self,
        incident_id: &str,
        reason: &str,
        now: DateTime<Utc>,
        fx: &mut Vec<Effect>,
    ) {
        for a in self
            .actions
            .iter_mut()
            .filter(|a| a.incident_id == incident_id && a.result == ActionResult::Recommended)
        {
            a.result = ActionResult::Blocked;
            a.finished_at = Some(now);
            a.detail = Some(format!("withdrawn: {reason}"));
            if let Some(id) = &a.confirmation_id {
                fx.push(Effect::WithdrawConfirmation {
                    confirmation_id: id.clone(),
                    reason: reason.into(),
                });
            }
            fx.push(Effect::SaveAction(a.clone()));
        }
    }
}
