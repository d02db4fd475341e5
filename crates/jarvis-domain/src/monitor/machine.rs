//! [`Monitor`]: the pure incident machine. Each method takes what happened and the time, updates
//! the machine and returns [`Effect`]s for the driver to carry out (store, run a tool through the
//! pipeline, notify, record an event, wake at a time). It never reads a clock or does IO, so a
//! simulated day runs in milliseconds and every decision is testable.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

use super::detect::{GuestRef, StateTracker};
use super::measure::{BackupTracker, Backups, metric_conditions, storage_conditions};
use super::model::{
    AutonomyLevel, Incident, IncidentKind, IncidentState, MonitorAction, Silence, TimelineKind,
};
use super::notices::Notice;
use super::observe::{Condition, Family, Observed};
use super::runbook::Runbook;
use super::schedule::MonitorTier;
use super::threshold::{ThresholdSettings, ThresholdTracker};
use crate::cluster::{GuestType, NodeStatus};
use crate::events::{EventType, Severity};

/// Settings of the machine (operator-tunable; defaults in [`MonitorSettings::default`]).
#[derive(Debug, Clone, PartialEq)]
pub struct MonitorSettings {
    /// Threshold rules.
    pub thresholds: ThresholdSettings,
    /// A recurrence within this long after resolution reopens the same incident.
    pub reopen_window: Duration,
    /// Reminder for an open, unacknowledged incident after this long; `None` = never.
    pub repeat_interval: Option<Duration>,
    /// A heartbeat line in the feed at least this often (and whenever the summary changes).
    pub heartbeat_every: Duration,
    /// Runbooks switched off by the operator.
    pub disabled_runbooks: BTreeSet<String>,
    /// Whether any notification target is configured (only the timeline's wording depends on
    /// it: the rules of who is told what stay the same).
    pub notifications_configured: bool,
}

impl Default for MonitorSettings {
    fn default() -> Self {
        MonitorSettings {
            thresholds: ThresholdSettings::default(),
            reopen_window: Duration::hours(1),
            repeat_interval: Some(Duration::hours(24)),
            heartbeat_every: Duration::hours(1),
            disabled_runbooks: BTreeSet::new(),
            notifications_configured: true,
        }
    }
}

/// An activity-feed line the driver stamps and records.
#[derive(Debug, Clone, PartialEq)]
pub struct EventDraft {
    /// Kind.
    pub kind: EventType,
    /// Severity.
    pub severity: Severity,
    /// One line.
    pub title: String,
    /// Details.
    pub message: String,
    /// Node concerned.
    pub node: Option<String>,
}

/// A tool call the driver submits through the pipeline with the monitor as source.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionRequest {
    /// The action record it belongs to (the outcome comes back with this id).
    pub action_id: String,
    /// Registry tool.
    pub tool: String,
    /// Its arguments.
    pub args: Value,
    /// Ask the operator instead of running (autonomy level 2, or a RED/BLACK tool).
    pub confirm: bool,
}

/// Something for the driver to do. In every batch the stores come first.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Store (insert or update) an incident.
    SaveIncident(Incident),
    /// Store (insert or update) an action record.
    SaveAction(MonitorAction),
    /// Submit a tool call; report back with [`Monitor::action_done`].
    RunAction(ActionRequest),
    /// Withdraw (deny) a confirmation the monitor created and no longer needs.
    WithdrawConfirmation {
        /// Its id.
        confirmation_id: String,
        /// Why.
        reason: String,
    },
    /// Queue a notification.
    Notify(Notice),
    /// Record an activity event.
    Event(EventDraft),
    /// Call [`Monitor::wake`] at this time (at the latest).
    WakeAt(DateTime<Utc>),
}

/// A command the machine refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// No such incident (or no longer remembered).
    #[error("no incident {0}")]
    NotFound(String),
    /// It is already resolved.
    #[error("incident {0} is already resolved")]
    AlreadyResolved(String),
}

/// The monitor's incident machine.
#[derive(Debug, Clone)]
pub struct Monitor {
    pub(super) settings: MonitorSettings,
    pub(super) level: AutonomyLevel,
    pub(super) kill_switch: bool,
    pub(super) state: StateTracker,
    pub(super) thresholds: ThresholdTracker,
    pub(super) backup_runs: BackupTracker,
    pub(super) backups_now: Backups,
    /// By key: live incidents and resolved ones still inside the reopen window.
    pub(super) incidents: BTreeMap<String, Incident>,
    /// Attempts inside the runbook window, and every one still in progress.
    pub(super) actions: Vec<MonitorAction>,
    pub(super) silences: Vec<Silence>,
    /// The latest condition seen per key (subject, backup hold-back).
    pub(super) conditions: BTreeMap<String, Condition>,
    /// When each key's condition was last seen holding, and each family last evaluated.
    pub(super) seen: BTreeMap<String, DateTime<Utc>>,
    pub(super) evaluated: BTreeMap<Family, DateTime<Utc>>,
    pub(super) heartbeat: Option<(DateTime<Utc>, String)>,
}

fn guest_type_of_key(key: &str) -> Option<GuestType> {
    match key.strip_prefix("crash:")?.split('/').next()? {
        "qemu" => Some(GuestType::Qemu),
        "lxc" => Some(GuestType::Lxc),
        _ => None,
    }
}

impl Monitor {
    /// A fresh machine (first start).
    pub fn new(settings: MonitorSettings, level: AutonomyLevel) -> Monitor {
        Monitor {
            settings,
            level,
            kill_switch: false,
            state: StateTracker::default(),
            thresholds: ThresholdTracker::default(),
            backup_runs: BackupTracker::default(),
            backups_now: Backups::default(),
            incidents: BTreeMap::new(),
            actions: Vec::new(),
            silences: Vec::new(),
            conditions: BTreeMap::new(),
            seen: BTreeMap::new(),
            evaluated: BTreeMap::new(),
            heartbeat: None,
        }
    }

    /// Rebuilds the machine after a restart from what was stored: live incidents and those
    /// resolved within the reopen window, recent and unfinished actions, active silences.
    /// Returns the wake-up the restored actions need.
    pub fn restore(
        settings: MonitorSettings,
        level: AutonomyLevel,
        incidents: Vec<Incident>,
        actions: Vec<MonitorAction>,
        silences: Vec<Silence>,
        now: DateTime<Utc>,
    ) -> (Monitor, Vec<Effect>) {
        let mut m = Monitor::new(settings, level);
        let mut fx = Vec::new();
        for inc in incidents {
            if inc.is_live() {
                match inc.kind {
                    IncidentKind::Crash => {
                        if let (Some(vmid), Some(kind)) = (inc.vmid, guest_type_of_key(&inc.key)) {
                            m.state.restore_crash(GuestRef {
                                vmid,
                                name: inc.tracking.guest_name.clone().unwrap_or_default(),
                                kind,
                                node: inc.node.clone().unwrap_or_default(),
                            });
                        }
                    }
                    IncidentKind::Threshold => {
                        m.thresholds.restore_firing(&inc.key, inc.severity, inc.flapping, now);
                    }
                    _ => {}
                }
            }
            m.incidents.insert(inc.key.clone(), inc);
        }
        for mut a in actions {
            if a.result == super::model::ActionResult::Pending && a.verify_at.is_none() {
                // It was running when Jarvis stopped: whether it worked is for verification.
                a.verify_at = Some(now);
                fx.push(Effect::SaveAction(a.clone()));
            }
            m.actions.push(a);
        }
        m.silences = silences;
        fx.extend(m.next_wake(now));
        (m, stored_first(fx))
    }

    /// The autonomy level in force.
    pub fn level(&self) -> AutonomyLevel {
        self.level
    }

    /// Changes the autonomy level (the driver persists it).
    pub fn set_level(&mut self, level: AutonomyLevel, now: DateTime<Utc>) -> Vec<Effect> {
        self.level = level;
        let mut fx = Vec::new();
        for inc in self.incidents.values_mut().filter(|i| i.is_live()) {
            // Reasons for not acting were about the old level; say the new ones.
            inc.tracking.said.retain(|t| !t.starts_with("level"));
            inc.note(
                now,
                TimelineKind::Note,
                format!("Autonomy level set to {}: {}.", level.number(), level.describe()),
            );
            fx.push(Effect::SaveIncident(inc.clone()));
        }
        stored_first(fx)
    }

    /// Replaces the threshold rules.
    pub fn set_thresholds(&mut self, thresholds: ThresholdSettings) {
        self.settings.thresholds = thresholds;
    }

    /// Replaces the runbooks switched off.
    pub fn set_disabled_runbooks(&mut self, disabled: BTreeSet<String>) {
        self.settings.disabled_runbooks = disabled;
    }

    /// Replaces the silences; live incidents are held back or released at once.
    pub fn set_silences(&mut self, silences: Vec<Silence>, now: DateTime<Utc>) -> Vec<Effect> {
        self.silences = silences;
        let mut fx = Vec::new();
        self.resuppress_all(now, &mut fx);
        fx.extend(self.next_wake(now));
        stored_first(fx)
    }

    /// Incidents the machine remembers (live and recently resolved), by key.
    pub fn incidents(&self) -> impl Iterator<Item = &Incident> {
        self.incidents.values()
    }

    /// Remediations running or awaiting verification (not recommendations waiting for the
    /// operator).
    pub fn active_remediations(&self) -> usize {
        self.actions.iter().filter(|a| a.result == super::model::ActionResult::Pending).count()
    }

    /// Confirmation ids of recommendations waiting for the operator (the driver watches them).
    pub fn awaited_confirmations(&self) -> Vec<String> {
        self.actions
            .iter()
            .filter(|a| a.result == super::model::ActionResult::Recommended)
            .filter_map(|a| a.confirmation_id.clone())
            .collect()
    }

    /// Runs one tier's evaluation.
    pub fn evaluate(
        &mut self,
        tier: MonitorTier,
        o: &Observed<'_>,
        now: DateTime<Utc>,
    ) -> Vec<Effect> {
        let mut fx = Vec::new();
        self.observe_kill_switch(o.kill_switch);
        let stale = o.snapshot.freshness.stale;
        match tier {
            MonitorTier::Critical => {
                if let Some(tasks) = o.tasks {
                    self.backups_now = Backups::from_state(tasks, o.snapshot);
                }
                let eval = self.state.evaluate(o, now);
                self.change_events(&eval.changes, &mut fx);
                self.reconcile(Family::State, eval.conditions, eval.complete, now, &mut fx);
            }
            MonitorTier::Important if !stale => {
                let conds = metric_conditions(
                    o.snapshot,
                    &self.settings.thresholds,
                    &mut self.thresholds,
                    &self.backups_now,
                    now,
                );
                self.reconcile(Family::Metrics, conds, true, now, &mut fx);
            }
            MonitorTier::Routine => {
                if !stale {
                    let conds = storage_conditions(
                        o.snapshot,
                        &self.settings.thresholds,
                        &mut self.thresholds,
                        now,
                    );
                    self.reconcile(Family::Storage, conds, true, now, &mut fx);
                    self.heartbeat(o, now, &mut fx);
                }
                self.reminders(now, &mut fx);
            }
            MonitorTier::Background => {
                if let Some(tasks) = o.tasks {
                    let conds = self.backup_runs.evaluate(tasks);
                    self.reconcile(Family::Backups, conds, true, now, &mut fx);
                }
                self.thresholds.forget_unseen(now - Duration::hours(1));
                self.forget_old(now);
            }
            MonitorTier::Important => {}
        }
        self.after_input(o, now, &mut fx);
        stored_first(fx)
    }

    /// Time passed: verifications, retries after cooldown, silence expiries.
    pub fn wake(&mut self, o: &Observed<'_>, now: DateTime<Utc>) -> Vec<Effect> {
        let mut fx = Vec::new();
        self.observe_kill_switch(o.kill_switch);
        self.resuppress_all(now, &mut fx);
        self.after_input(o, now, &mut fx);
        stored_first(fx)
    }

    fn after_input(&mut self, o: &Observed<'_>, now: DateTime<Utc>, fx: &mut Vec<Effect>) {
        self.verify_due(o, now, fx);
        self.remediate_all(now, fx);
        fx.extend(self.next_wake(now));
    }

    fn observe_kill_switch(&mut self, on: bool) {
        self.kill_switch = on;
        if !on {
            for inc in self.incidents.values_mut() {
                inc.tracking.said.remove("kill");
            }
        }
    }

    /// The earliest time something is due: a verification, the end of a cooldown, a silence
    /// expiring.
    pub(super) fn next_wake(&self, now: DateTime<Utc>) -> Option<Effect> {
        let verify = self
            .actions
            .iter()
            .filter(|a| a.result == super::model::ActionResult::Pending)
            .filter_map(|a| a.verify_at);
        let cooldowns = self
            .incidents
            .values()
            .filter(|i| i.state == IncidentState::Open)
            .filter_map(|i| self.cooldown_end(i, now));
        let silences = self.silences.iter().map(|s| s.expires_at).filter(|t| *t > now);
        verify.chain(cooldowns).chain(silences).min().map(Effect::WakeAt)
    }

    /// The operator acknowledges: no notifications or actions until it resolves.
    pub fn acknowledge(
        &mut self,
        id: &str,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<Effect>, CommandError> {
        let key = self.key_of(id)?;
        let mut inc =
            self.incidents.remove(&key).ok_or_else(|| CommandError::NotFound(id.into()))?;
        let mut fx = Vec::new();
        if inc.state == IncidentState::Resolved {
            self.incidents.insert(key, inc);
            return Err(CommandError::AlreadyResolved(id.into()));
        }
        if inc.state == IncidentState::Open {
            inc.state = IncidentState::Acknowledged;
            inc.acknowledged_at = Some(now);
            inc.note(
                now,
                TimelineKind::Acknowledged,
                format!(
                    "Acknowledged by {by}: no notifications or automatic actions until it resolves."
                ),
            );
            fx.push(Self::incident_event(
                &inc,
                EventType::Action,
                Severity::Info,
                format!("Acknowledged: {}", inc.title),
                format!("By {by}."),
            ));
            fx.push(Effect::SaveIncident(inc.clone()));
        }
        self.incidents.insert(key, inc);
        Ok(stored_first(fx))
    }

    /// The operator resolves it. If the condition still holds, it is accepted: no new incident
    /// until it has cleared once.
    pub fn resolve_by(
        &mut self,
        id: &str,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<Effect>, CommandError> {
        let key = self.key_of(id)?;
        let mut inc =
            self.incidents.remove(&key).ok_or_else(|| CommandError::NotFound(id.into()))?;
        if inc.state == IncidentState::Resolved {
            self.incidents.insert(key, inc);
            return Err(CommandError::AlreadyResolved(id.into()));
        }
        let mut fx = Vec::new();
        if self.holds(&inc) {
            inc.tracking.accepted = true;
        }
        if inc.kind == IncidentKind::Crash
            && let Some(vmid) = inc.vmid
        {
            self.state.accept_crash(vmid);
        }
        self.resolve(&mut inc, &format!("Resolved by {by}."), now, &mut fx);
        self.incidents.insert(key, inc);
        Ok(stored_first(fx))
    }

    fn key_of(&self, id: &str) -> Result<String, CommandError> {
        self.incidents
            .values()
            .find(|i| i.id == id)
            .map(|i| i.key.clone())
            .ok_or_else(|| CommandError::NotFound(id.into()))
    }

    fn heartbeat(&mut self, o: &Observed<'_>, now: DateTime<Utc>, fx: &mut Vec<Effect>) {
        let snap = o.snapshot;
        let online = snap.nodes.iter().filter(|n| n.status == NodeStatus::Online).count();
        let live = self.incidents.values().filter(|i| i.is_live()).count();
        let nominal = online == snap.nodes.len() && live == 0;
        let summary = format!(
            "{online}/{} nodes online, {} guests running, {live} open incident{}",
            snap.nodes.len(),
            snap.vms.iter().filter(|v| v.status == crate::cluster::GuestStatus::Running).count(),
            if live == 1 { "" } else { "s" }
        );
        let due = match &self.heartbeat {
            None => true,
            Some((at, last)) => *last != summary || now - *at >= self.settings.heartbeat_every,
        };
        if due {
            let (severity, title) = if nominal {
                (Severity::Info, "Systems nominal")
            } else {
                (Severity::Warning, "Cluster degraded")
            };
            fx.push(Effect::Event(EventDraft {
                kind: EventType::Status,
                severity,
                title: title.into(),
                message: summary.clone(),
                node: None,
            }));
            self.heartbeat = Some((now, summary));
        }
    }

    fn forget_old(&mut self, now: DateTime<Utc>) {
        let window = self.settings.reopen_window;
        self.incidents.retain(|_, i| {
            i.is_live() || i.tracking.accepted || i.resolved_at.is_some_and(|t| now - t < window)
        });
        let horizon =
            super::runbook::RUNBOOKS.iter().map(|r| r.window).max().unwrap_or(Duration::hours(1));
        self.actions.retain(|a| a.in_progress() || now - a.timestamp < horizon);
        let live: BTreeSet<&String> = self.incidents.keys().collect();
        self.conditions.retain(|k, _| live.contains(k));
        self.seen.retain(|k, _| live.contains(k));
    }

    pub(super) fn runbook_for(&self, inc: &Incident) -> Option<&'static Runbook> {
        let c = self.conditions.get(&inc.key)?;
        Runbook::for_incident(inc.kind, &c.subject)
            .filter(|r| !self.settings.disabled_runbooks.contains(r.id))
    }
}

/// Puts every store first, in order, so a notification or event never names an incident or
/// action the database does not have yet (the outbox row references the incident).
pub(super) fn stored_first(fx: Vec<Effect>) -> Vec<Effect> {
    let (mut stores, rest): (Vec<Effect>, Vec<Effect>) =
        fx.into_iter().partition(|e| matches!(e, Effect::SaveIncident(_) | Effect::SaveAction(_)));
    stores.extend(rest);
    stores
}
