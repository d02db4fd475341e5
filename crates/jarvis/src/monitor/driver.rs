//! The [`Driver`]: runs the schedule on the [`Clock`], reads what each tier needs, hands it to
//! the pure machine and carries out the effects. Runbook actions run as their own tasks (a start
//! waits up to two minutes for PVE) and come back as inputs, so the schedule never stalls; the
//! pipeline audits them with the monitor as source. [`Driver::step`] and [`Driver::settle`] let
//! tests drive it on a manual clock: a simulated day in seconds.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use jarvis_domain::monitor::{
    ActionOutcome, ActionRequest, ActionResult, AutonomyLevel, Effect, EventDraft, Incident,
    Monitor, MonitorSettings, MonitorTier, Notice, NoticeKind, Observed, Schedule, Settled,
    ThresholdSettings,
};
use jarvis_domain::safety::BlockCode;
use jarvis_domain::tools::parse_call;
use jarvis_proxmox::ProxmoxApi;
use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;

use super::inputs::{ACTION_HORIZON, Reads, TASK_LIMIT, task_info};
use super::{Command, LEVEL_KEY, MonitorService, RUNBOOKS_OFF_KEY, THRESHOLDS_KEY, intervals_view};
use crate::bus::{Bus, ServerEvent};
use crate::clock::Clock;
use crate::cluster::ClusterState;
use crate::config::MonitorConfig;
use crate::db::confirmations::ConfirmationStatus;
use crate::db::{Db, DbError};
use crate::events::{EventSource, new_event};
use crate::guard::Guard;
use crate::metrics::{KindLabels, Metrics};
use crate::notify::{NotificationDraft, NotificationKind, Outbox};
use crate::tools::{ConfirmPolicy, Origin, Pipeline, Source, ToolOutcome};

/// The actor the monitor's actions are audited as.
pub const MONITOR_ACTOR: &str = "monitor";
/// Longest a runbook action may run before it counts as failed (a start waits for its task).
const ACTION_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(180);

/// What the driver works with.
#[derive(Clone)]
pub struct DriverDeps {
    /// The database.
    pub db: Db,
    /// The one tool pipeline.
    pub pipeline: Pipeline,
    /// PVE reads (the task list).
    pub pve: Arc<dyn ProxmoxApi>,
    /// The one cluster state.
    pub cluster: ClusterState,
    /// The kill switch.
    pub guard: Arc<Guard>,
    /// Where notifications go.
    pub outbox: Outbox,
    /// Where events, incidents and status are announced.
    pub bus: Bus,
    /// Evaluation and action metrics.
    pub metrics: Metrics,
    /// Where "now" comes from.
    pub clock: Arc<dyn Clock>,
    /// The shared handle (status, commands).
    pub service: MonitorService,
    /// Intervals, initial level, reminders.
    pub config: MonitorConfig,
}

/// The running monitor.
pub struct Driver {
    deps: DriverDeps,
    machine: Monitor,
    schedule: Schedule,
    wake_at: Option<DateTime<Utc>>,
    done_tx: mpsc::UnboundedSender<(String, ActionOutcome)>,
    done_rx: mpsc::UnboundedReceiver<(String, ActionOutcome)>,
    in_flight: usize,
}

impl std::fmt::Debug for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver").field("in_flight", &self.in_flight).finish_non_exhaustive()
    }
}

async fn stored<T: serde::de::DeserializeOwned>(
    db: &Db,
    key: &'static str,
) -> Result<Option<T>, DbError> {
    Ok(db.setting(key).await?.and_then(|text| match serde_json::from_str(&text) {
        Ok(v) => Some(v),
        Err(e) => {
            tracing::warn!(key, error = %e, "stored monitor setting is unreadable; using the default");
            None
        }
    }))
}

impl Driver {
    /// Restores the machine from the database (incidents, attempts, silences, level, rules).
    pub async fn start(deps: DriverDeps) -> Result<Driver, DbError> {
        let now = deps.clock.now();
        let db = &deps.db;
        let level = match db.setting(LEVEL_KEY).await? {
            Some(v) => v.parse::<u8>().ok().and_then(|n| AutonomyLevel::try_from(n).ok()),
            None => None,
        }
        .unwrap_or(deps.config.initial_level);
        let mut settings = MonitorSettings {
            repeat_interval: deps.config.repeat_interval,
            notifications_configured: !deps.outbox.targets().is_empty(),
            ..MonitorSettings::default()
        };
        if let Some(t) =
            stored::<ThresholdSettings>(db, THRESHOLDS_KEY).await?.filter(|t| t.validate().is_ok())
        {
            settings.thresholds = t;
        }
        if let Some(off) = stored::<BTreeSet<String>>(db, RUNBOOKS_OFF_KEY).await? {
            settings.disabled_runbooks = off;
        }
        let incidents = db.incidents_to_restore(now - settings.reopen_window).await?;
        let actions = db.actions_to_restore(now - Duration::hours(1)).await?;
        let silences = db.active_silences(now).await?;
        let restored = (incidents.len(), actions.len());
        let (machine, fx) = Monitor::restore(settings, level, incidents, actions, silences, now);
        let (done_tx, done_rx) = mpsc::unbounded_channel();
        let mut driver = Driver {
            schedule: Schedule::new(deps.config.intervals),
            deps,
            machine,
            wake_at: None,
            done_tx,
            done_rx,
            in_flight: 0,
        };
        tracing::info!(
            level = level.number(),
            incidents = restored.0,
            actions = restored.1,
            "monitor restored"
        );
        driver.apply(fx).await;
        driver.check_confirmations().await;
        driver.publish_status();
        Ok(driver)
    }

    /// The machine (tests read incidents from it).
    pub fn machine(&self) -> &Monitor {
        &self.machine
    }

    /// Runs every tier due now and every due wake-up.
    pub async fn step(&mut self) {
        let now = self.deps.clock.now();
        for tier in self.schedule.due(now) {
            self.schedule.ran(tier, now);
            self.evaluate(tier, now).await;
        }
        if self.wake_at.is_some_and(|w| w <= now) {
            self.wake_at = None;
            let reads = self.read(false, now).await;
            let snapshot = self.deps.cluster.snapshot();
            let o = observed(&snapshot, &reads);
            let fx = self.machine.wake(&o, now);
            self.apply(fx).await;
        }
        self.publish_status();
    }

    async fn evaluate(&mut self, tier: MonitorTier, now: DateTime<Utc>) {
        let started = Instant::now();
        if tier == MonitorTier::Critical {
            // Decisions on recommendations first: an approved start that already ran must be
            // known before the guest is seen running again (or the recommendation would be
            // withdrawn as if nobody had approved it).
            self.check_confirmations().await;
        }
        let reads = self.read(tier.reads_tasks(), now).await;
        let snapshot = self.deps.cluster.snapshot();
        let o = observed(&snapshot, &reads);
        let fx = self.machine.evaluate(tier, &o, now);
        self.apply(fx).await;
        self.deps.metrics.monitor_run(
            tier.as_str(),
            started.elapsed().as_secs_f64(),
            now.timestamp(),
        );
    }

    async fn read(&self, tasks: bool, now: DateTime<Utc>) -> Reads {
        let tasks = if tasks {
            match self.deps.pve.recent_tasks(None, TASK_LIMIT).await {
                Ok(list) => Some(list.iter().filter_map(task_info).collect()),
                Err(e) => {
                    self.deps.metrics.monitor_task_read_errors.inc();
                    tracing::warn!(error = %e, "monitor: reading the PVE task list failed; deciding nothing that needs it");
                    None
                }
            }
        } else {
            None
        };
        let actions =
            self.deps.db.jarvis_lifecycle_actions(now - ACTION_HORIZON).await.unwrap_or_else(|e| {
                tracing::warn!(error = %e, "monitor: reading the audit log failed");
                Vec::new()
            });
        // Unreadable kill switch: count it as on — the monitor then only watches.
        let kill_switch = self.deps.guard.refresh().await.unwrap_or(true);
        self.deps.service.note_kill_switch(kill_switch);
        Reads { tasks, actions, kill_switch }
    }

    /// Carries out effects in order; a failing store is logged, never fatal.
    async fn apply(&mut self, fx: Vec<Effect>) {
        for e in fx {
            match e {
                Effect::SaveIncident(inc) => self.save_incident(inc).await,
                Effect::SaveAction(a) => {
                    if let Err(e) = self.deps.db.save_action(&a).await {
                        tracing::error!(error = %e, action = %a.id, "could not store a monitor action");
                    }
                    if a.result != ActionResult::Pending || a.verify_at.is_none() {
                        let labels = KindLabels { kind: a.result.as_str().into() };
                        self.deps.metrics.monitor_actions.get_or_create(&labels).inc();
                    }
                }
                Effect::RunAction(req) => self.run_action(req).await,
                Effect::WithdrawConfirmation { confirmation_id, reason } => {
                    let decided = self
                        .deps
                        .pipeline
                        .decide(&confirmation_id, false, MONITOR_ACTOR, Source::Monitor, None)
                        .await;
                    if let Err(e) = decided {
                        tracing::debug!(%confirmation_id, error = %e, "withdrawing a recommendation ({reason})");
                    }
                }
                Effect::Notify(n) => self.notify(n).await,
                Effect::Event(d) => self.event(d).await,
                Effect::WakeAt(t) => self.wake_at = Some(self.wake_at.map_or(t, |w| w.min(t))),
            }
        }
    }

    async fn save_incident(&self, inc: Incident) {
        let before = self.deps.db.incident(inc.id.clone()).await.ok().flatten();
        let opened = before.as_ref().is_none_or(|b| b.occurrences < inc.occurrences);
        if opened {
            self.deps
                .metrics
                .incidents_opened
                .get_or_create(&KindLabels { kind: inc.kind.as_str().into() })
                .inc();
        }
        if let Err(e) = self.deps.db.save_incident(&inc).await {
            tracing::error!(error = %e, incident = %inc.id, "could not store an incident");
        }
        self.deps.bus.publish(ServerEvent::Incident(Box::new(inc)));
    }

    async fn notify(&self, n: Notice) {
        let kind = match n.kind {
            NoticeKind::Opened => NotificationKind::Opened,
            NoticeKind::Reopened => NotificationKind::Reopened,
            NoticeKind::Resolved => NotificationKind::Resolved,
            NoticeKind::Escalated => NotificationKind::Escalated,
            NoticeKind::Reminder => NotificationKind::Reminder,
        };
        let draft = NotificationDraft {
            incident_id: Some(n.incident_id.clone()),
            kind,
            severity: n.severity,
            title: n.title,
            body: n.body,
            link: None,
        };
        if let Err(e) = self.deps.outbox.enqueue(draft).await {
            tracing::error!(error = %e, incident = %n.incident_id, "could not queue a notification");
        }
    }

    async fn event(&self, d: EventDraft) {
        let event = new_event(d.kind, d.severity, EventSource::Monitor, d.title, d.message)
            .with_node(d.node);
        crate::events::record(&self.deps.db, &self.deps.bus, event).await;
    }

    /// Submits a runbook action as its own task; the outcome comes back through `done_rx`.
    async fn run_action(&mut self, req: ActionRequest) {
        let done = self.done_tx.clone();
        let id = req.action_id.clone();
        // The machine never asks while the switch is on; a throw since the last read still
        // stops it here, before anything reaches the pipeline (so not even a refusal is audited).
        if self.deps.guard.refresh().await.unwrap_or(true) {
            let reason = "the kill switch is on".to_string();
            let _ = done
                .send((id, ActionOutcome::Blocked { audit_id: None, reason, permanent: false }));
            self.in_flight += 1;
            return;
        }
        let call = match parse_call(&req.tool, &req.args) {
            Ok(call) => call,
            Err(e) => {
                let _ =
                    done.send((id, ActionOutcome::Failed { audit_id: None, error: e.to_string() }));
                self.in_flight += 1;
                return;
            }
        };
        let origin = Origin {
            source: Source::Monitor,
            actor: MONITOR_ACTOR.into(),
            session: None,
            confirm: if req.confirm { ConfirmPolicy::Always } else { ConfirmPolicy::AsTier },
        };
        let pipeline = self.deps.pipeline.clone();
        self.in_flight += 1;
        tokio::spawn(async move {
            let submitted =
                tokio::time::timeout(ACTION_TIMEOUT, pipeline.submit_call(call, origin)).await;
            let outcome = match submitted {
                Err(_) => ActionOutcome::Failed {
                    audit_id: None,
                    error: format!(
                        "no answer within {} s; it may still complete",
                        ACTION_TIMEOUT.as_secs()
                    ),
                },
                Ok(Err(e)) => ActionOutcome::Failed { audit_id: None, error: e.to_string() },
                Ok(Ok(outcome)) => match outcome {
                    ToolOutcome::Executed { audit_id, .. } => ActionOutcome::Executed { audit_id },
                    ToolOutcome::ConfirmationRequired { confirmation, .. } => {
                        ActionOutcome::ConfirmationCreated { confirmation_id: confirmation.id }
                    }
                    ToolOutcome::Failed { error, audit_id, .. } => {
                        ActionOutcome::Failed { audit_id, error: error.to_string() }
                    }
                    ToolOutcome::Blocked { code, reason, audit_id, .. } => ActionOutcome::Blocked {
                        audit_id: Some(audit_id),
                        reason,
                        permanent: code != BlockCode::KillSwitch,
                    },
                },
            };
            let _ = done.send((id, outcome));
        });
    }

    async fn action_finished(&mut self, id: String, outcome: ActionOutcome) {
        self.in_flight = self.in_flight.saturating_sub(1);
        let now = self.deps.clock.now();
        let fx = self.machine.action_done(&id, outcome, now);
        self.apply(fx).await;
        self.publish_status();
    }

    /// Waits for every action in flight and feeds its outcome (tests; shutdown).
    pub async fn settle(&mut self) {
        while self.in_flight > 0 {
            match self.done_rx.recv().await {
                Some((id, outcome)) => self.action_finished(id, outcome).await,
                None => break,
            }
        }
    }

    /// Handles every command waiting in the queue without blocking (tests driving the driver
    /// with [`Driver::step`]; the running loop takes them as they come).
    pub async fn process_commands(&mut self) {
        let Some(mut rx) = self.deps.service.take_receiver() else { return };
        while let Ok(cmd) = rx.try_recv() {
            self.command(cmd).await;
        }
        self.deps.service.return_receiver(rx);
    }

    /// Re-reads recommendations the machine waits for (missed bus messages, expiry, restart).
    async fn check_confirmations(&mut self) {
        let awaited = self.machine.awaited_confirmations();
        if awaited.is_empty() {
            return;
        }
        // Expiring happens in the pipeline; asking for the pending list applies it.
        let _ = self.deps.pipeline.pending().await;
        for id in awaited {
            if let Ok(Some((c, result))) = self.deps.db.confirmation_with_result(id.clone()).await {
                self.confirmation_status(&id, c.status, result).await;
            }
        }
    }

    async fn confirmation_status(
        &mut self,
        id: &str,
        status: ConfirmationStatus,
        result: Option<serde_json::Value>,
    ) {
        let settled = match status {
            ConfirmationStatus::Pending | ConfirmationStatus::Approved => return,
            ConfirmationStatus::Executed => Settled::Executed,
            ConfirmationStatus::Denied => Settled::Denied,
            ConfirmationStatus::Expired => Settled::Expired,
            ConfirmationStatus::Failed => Settled::Failed(
                result
                    .as_ref()
                    .and_then(|r| r.get("error"))
                    .and_then(|e| e.as_str())
                    .unwrap_or("failed")
                    .to_owned(),
            ),
        };
        let now = self.deps.clock.now();
        let fx = self.machine.confirmation_settled(id, settled, now);
        self.apply(fx).await;
    }

    async fn command(&mut self, cmd: Command) {
        let now = self.deps.clock.now();
        match cmd {
            Command::Ack { id, by, reply } => {
                let result = self.machine.acknowledge(&id, &by, now);
                let answer = self.after_command(result, &id).await;
                let _ = reply.send(answer);
            }
            Command::Resolve { id, by, reply } => {
                let result = self.machine.resolve_by(&id, &by, now);
                let answer = self.after_command(result, &id).await;
                let _ = reply.send(answer);
            }
            Command::SetLevel { level, reply } => {
                let fx = self.machine.set_level(level, now);
                self.apply(fx).await;
                let _ = reply.send(());
            }
            Command::Silences { silences, reply } => {
                let fx = self.machine.set_silences(silences, now);
                self.apply(fx).await;
                let _ = reply.send(());
            }
            Command::Thresholds { thresholds, reply } => {
                self.machine.set_thresholds(thresholds);
                let _ = reply.send(());
            }
            Command::Runbooks { disabled, reply } => {
                self.machine.set_disabled_runbooks(disabled);
                let _ = reply.send(());
            }
        }
        self.publish_status();
    }

    async fn after_command(
        &mut self,
        result: Result<Vec<Effect>, jarvis_domain::monitor::CommandError>,
        id: &str,
    ) -> Result<Incident, jarvis_domain::monitor::CommandError> {
        let fx = result?;
        self.apply(fx).await;
        self.machine
            .incidents()
            .find(|i| i.id == id)
            .cloned()
            .ok_or_else(|| jarvis_domain::monitor::CommandError::NotFound(id.into()))
    }

    fn publish_status(&self) {
        let status = super::MonitorStatus {
            running: true,
            autonomy_level: self.machine.level().number(),
            kill_switch: self.deps.guard.kill_switch(),
            active_remediations: self.machine.active_remediations() as u32,
            last_poll: self.schedule.last_runs(),
            open_incidents: self.machine.incidents().filter(|i| i.is_live()).count() as u32,
            intervals: intervals_view(&self.deps.config.intervals),
        };
        self.deps.metrics.incidents_open.set(i64::from(status.open_incidents));
        self.deps.service.set_live_incidents(
            self.machine.incidents().filter(|i| i.is_live()).cloned().collect(),
        );
        let cell = self.deps.service.status_cell();
        let changed = {
            let mut current = cell.write();
            // Only a changed status is announced (lastPoll moves every step: compare the rest).
            let mut a = current.clone();
            a.last_poll = status.last_poll.clone();
            let changed = a != status;
            *current = status.clone();
            changed
        };
        if changed {
            self.deps.bus.publish(ServerEvent::MonitorStatus(status));
        }
    }

    /// Runs until `cancel` fires: sleeps until the next tier or wake-up, and meanwhile takes
    /// commands, finished actions and confirmation decisions.
    pub async fn run(mut self, cancel: CancellationToken) {
        let Some(mut commands) = self.deps.service.take_receiver() else {
            tracing::error!("the monitor driver was started twice; this one stops");
            return;
        };
        let mut bus = self.deps.bus.subscribe();
        loop {
            let now = self.deps.clock.now();
            let next = [self.schedule.next_due(), self.wake_at].into_iter().flatten().min();
            let sleep = next.map_or(std::time::Duration::from_secs(3600), |t| {
                (t - now).to_std().unwrap_or_default()
            });
            tokio::select! {
                _ = cancel.cancelled() => break,
                _ = tokio::time::sleep(sleep) => self.step().await,
                Some(cmd) = commands.recv() => self.command(cmd).await,
                Some((id, outcome)) = self.done_rx.recv() => self.action_finished(id, outcome).await,
                msg = bus.recv() => match msg {
                    Ok(ServerEvent::Confirmation(c)) if self.machine.awaited_confirmations().contains(&c.id) => {
                        let result = self.deps.db.confirmation_with_result(c.id.clone()).await.ok().flatten().and_then(|(_, r)| r);
                        self.confirmation_status(&c.id, c.status, result).await;
                        self.publish_status();
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => self.check_confirmations().await,
                    Err(broadcast::error::RecvError::Closed) => break,
                    Ok(_) => {}
                },
            }
        }
        self.deps.service.status_cell().write().running = false;
        tracing::debug!("monitor stopped");
    }
}

fn observed<'a>(snapshot: &'a jarvis_domain::ClusterSnapshot, reads: &'a Reads) -> Observed<'a> {
    Observed {
        snapshot,
        tasks: reads.tasks.as_deref(),
        actions: &reads.actions,
        kill_switch: reads.kill_switch,
    }
}
