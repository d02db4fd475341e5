//! [`Outbox`]: the notification queue over the `notifications` table, and the component that
//! delivers it.
//!
//! - [`Outbox::enqueue`] (what the monitor calls) only inserts one `pending` row per configured
//!   target — nothing when none is configured — so producers never wait on a target.
//! - [`Outbox::step`] is one deterministic delivery round at a given `now` (tests drive it with a
//!   manual clock; [`Outbox::run`] calls the same planning every tick with the real clock). A
//!   fresh row waits for the group window to close (`next_attempt_at = created_at + window`);
//!   when a target has a due row, every pending row of that target due within one more window
//!   joins it, so notifications created close together go out as one message ("3 alerts: …").
//!   Targets are sent concurrently, each under its own timeout, and `run` never waits for a
//!   send at all: a target still busy is skipped until it finishes, so a dead target delays
//!   neither the others nor the caller.
//! - Failures retry with backoff (30 s, 2 min, 10 min, 30 min, 1 h, then hourly) up to 12
//!   attempts or 24 h, then the row is `failed` with the last error; permanent refusals (SMTP
//!   5xx, HTTP 4xx) fail at once. Success marks the rows `sent` with a shared `delivery` id.
//!   Rows of a target no longer configured become `failed`.
//! - **Restart-safe**: the table is the only state. A row marked sent is never sent again
//!   (updates only touch `pending` rows). A crash between a send and its mark — or a shutdown
//!   that aborts a send in flight — may send that one message again after the restart: at most
//!   the message in flight, never the backlog.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use parking_lot::Mutex;
use tokio_util::sync::CancellationToken;

use super::render::render;
use super::{
    Channel, Message, MessageItem, NotificationKind, Notifier, NotifyError, Severity, Targets,
};
use crate::clock::Clock;
use crate::config::notify::NotifyConfig;
use crate::db::notifications::{NewNotification, NotificationRow, RowOutcome};
use crate::db::{Db, DbError};
use crate::metrics::Metrics;

/// At most this many notifications in one message; the rest go in the next round.
const MAX_GROUP: usize = 50;
/// Longest stored title and body (characters).
const MAX_TITLE_CHARS: usize = 500;
const MAX_BODY_CHARS: usize = 10_000;
const UNCONFIGURED: &str = "target no longer configured";

/// Timing and retry policy.
#[derive(Debug, Clone)]
pub struct OutboxSettings {
    /// Rows for one target created this close together go out as one message.
    pub group_window: Duration,
    /// Longest one delivery to one target may take.
    pub send_timeout: Duration,
    /// Wait after the n-th failed attempt (the last entry repeats).
    pub backoff: Vec<Duration>,
    /// Attempts before giving up.
    pub max_attempts: u32,
    /// Age after which a row is given up.
    pub max_age: Duration,
    /// How often `run` looks for due rows.
    pub tick: Duration,
    /// `PUBLIC_URL`: links for incidents without one, and the dashboard link of a group.
    pub public_url: Option<String>,
}

impl Default for OutboxSettings {
    fn default() -> Self {
        let min = |m: u64| Duration::from_secs(m * 60);
        OutboxSettings {
            group_window: Duration::from_secs(crate::config::notify::DEFAULT_GROUP_WINDOW_SECS),
            send_timeout: Duration::from_secs(crate::config::notify::DEFAULT_NOTIFY_TIMEOUT_SECS),
            backoff: vec![Duration::from_secs(30), min(2), min(10), min(30), min(60)],
            max_attempts: 12,
            max_age: Duration::from_secs(24 * 3600),
            tick: Duration::from_secs(1),
            public_url: None,
        }
    }
}

impl OutboxSettings {
    /// The defaults with the configured window, timeout and public URL.
    pub fn from_config(c: &NotifyConfig) -> OutboxSettings {
        OutboxSettings {
            group_window: c.group_window,
            send_timeout: c.send_timeout,
            public_url: c.public_url.clone(),
            ..OutboxSettings::default()
        }
    }

    /// The wait after the `failures`-th failed attempt (1-based).
    pub fn backoff_after(&self, failures: u32) -> Duration {
        let i = (failures.max(1) as usize - 1).min(self.backoff.len().saturating_sub(1));
        self.backoff.get(i).copied().unwrap_or(Duration::from_secs(3600))
    }
}

/// What the monitor (or anyone) asks to notify.
#[derive(Debug, Clone)]
pub struct NotificationDraft {
    /// The incident, if any (it must exist).
    pub incident_id: Option<String>,
    /// Why.
    pub kind: NotificationKind,
    /// Severity.
    pub severity: Severity,
    /// One line.
    pub title: String,
    /// Plain-text details.
    pub body: String,
    /// Dashboard link; `None` with an incident id and `PUBLIC_URL` set becomes
    /// `{PUBLIC_URL}/incidents/{id}`.
    pub link: Option<String>,
}

/// What one [`Outbox::step`] did (counts of notifications, i.e. rows).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StepReport {
    /// Messages delivered (a group counts once).
    pub messages: usize,
    /// Rows delivered.
    pub sent: usize,
    /// Rows that failed and will be tried again.
    pub retried: usize,
    /// Rows given up (errors, age, unconfigured targets).
    pub failed: usize,
}

/// One target's result of `POST /api/notifications/test`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestOutcome {
    /// The target's redacted name.
    pub target: String,
    /// Its service.
    pub channel: Channel,
    /// The error, when it failed.
    pub error: Option<String>,
}

/// One target's share of a round.
struct Job {
    target: Arc<dyn Notifier>,
    rows: Vec<NotificationRow>,
    _busy: InFlight,
}

/// Marks a target busy until dropped.
struct InFlight {
    set: Arc<Mutex<HashSet<String>>>,
    id: String,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.set.lock().remove(&self.id);
    }
}

/// The outbox; cheap to clone.
#[derive(Clone)]
pub struct Outbox {
    db: Db,
    targets: Targets,
    settings: Arc<OutboxSettings>,
    metrics: Metrics,
    clock: Arc<dyn Clock>,
    /// Targets with a send in progress (only `run` overlaps rounds).
    in_flight: Arc<Mutex<HashSet<String>>>,
}

impl std::fmt::Debug for Outbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbox").field("targets", &self.targets).finish_non_exhaustive()
    }
}

fn to_chrono(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

fn cut(text: &str, max: usize) -> String {
    super::render::truncate(text, max)
}

impl Outbox {
    /// An outbox over `db` delivering to `targets`.
    pub fn new(
        db: Db,
        targets: Targets,
        settings: OutboxSettings,
        metrics: Metrics,
        clock: Arc<dyn Clock>,
    ) -> Outbox {
        Outbox {
            db,
            targets,
            settings: Arc::new(settings),
            metrics,
            clock,
            in_flight: Arc::new(Mutex::new(HashSet::new())),
        }
    }

    /// The configured targets.
    pub fn targets(&self) -> &Targets {
        &self.targets
    }

    /// Queues `draft` for every configured target (nothing when none is configured).
    pub async fn enqueue(&self, draft: NotificationDraft) -> Result<(), DbError> {
        if self.targets.is_empty() {
            return Ok(());
        }
        let now = self.clock.now();
        let link = draft.link.or_else(|| {
            let (base, id) = (self.settings.public_url.as_ref()?, draft.incident_id.as_ref()?);
            Some(format!("{base}/incidents/{id}"))
        });
        let rows = self
            .targets
            .iter()
            .map(|t| NewNotification {
                incident_id: draft.incident_id.clone(),
                kind: draft.kind,
                target: t.id().to_string(),
                severity: draft.severity,
                title: cut(&draft.title, MAX_TITLE_CHARS),
                body: cut(&draft.body, MAX_BODY_CHARS),
                link: link.clone(),
                created_at: now,
                next_attempt_at: now + to_chrono(self.settings.group_window),
            })
            .collect();
        self.db.insert_notifications(rows).await?;
        self.update_pending_gauge().await;
        Ok(())
    }

    /// One delivery round at `now`: every target with due rows is sent to concurrently, each
    /// under the send timeout; returns when all have finished or timed out.
    pub async fn step(&self, now: DateTime<Utc>) -> StepReport {
        let (jobs, mut report) = self.plan(now).await;
        let results =
            futures::future::join_all(jobs.into_iter().map(|j| self.deliver(j, now))).await;
        for r in results {
            report.messages += r.messages;
            report.sent += r.sent;
            report.retried += r.retried;
            report.failed += r.failed;
        }
        self.update_pending_gauge().await;
        report
    }

    /// Delivers until `cancel`: every tick, plans a round with the clock's time and sends each
    /// target's share in its own task, never waiting for one. At shutdown, sends still in
    /// flight are abandoned (their rows stay pending and go out after the restart).
    pub async fn run(self, cancel: CancellationToken) {
        let mut tick = tokio::time::interval(self.settings.tick);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut sends = tokio::task::JoinSet::new();
        loop {
            tokio::select! {
                _ = cancel.cancelled() => break,
                _ = tick.tick() => {}
            }
            while sends.try_join_next().is_some() {}
            let now = self.clock.now();
            let (jobs, report) = self.plan(now).await;
            if report.failed > 0 {
                self.update_pending_gauge().await;
            }
            for job in jobs {
                let me = self.clone();
                sends.spawn(async move {
                    me.deliver(job, now).await;
                    me.update_pending_gauge().await;
                });
            }
        }
        sends.shutdown().await;
    }

    /// Sends a test message to every target now (bypassing the queue, each under the send
    /// timeout) and records each outcome as a `test` row.
    pub async fn send_test(&self) -> Vec<TestOutcome> {
        let now = self.clock.now();
        let item = MessageItem {
            kind: NotificationKind::Test,
            severity: Severity::Info,
            title: "Test notification".into(),
            body: "This is a test message from Jarvis. If you can read it, this notification \
                   target works."
                .into(),
            link: self.settings.public_url.clone(),
            incident_id: None,
            created_at: now,
        };
        let msg = render(vec![item.clone()], self.settings.public_url.as_deref());
        let sends = self.targets.iter().map(|t| {
            let msg = &msg;
            let item = &item;
            async move {
                let result = self.send_with_timeout(t.as_ref(), msg).await;
                let outcome = result.as_ref().map(|_| uuid::Uuid::new_v4().to_string());
                let row = NewNotification {
                    incident_id: None,
                    kind: NotificationKind::Test,
                    target: t.id().to_string(),
                    severity: item.severity,
                    title: item.title.clone(),
                    body: item.body.clone(),
                    link: item.link.clone(),
                    created_at: now,
                    next_attempt_at: now,
                };
                let stored = outcome.clone().map_err(|e| e.to_string());
                if let Err(e) = self.db.insert_finished_notification(row, stored).await {
                    tracing::warn!(error = %e, "could not record a test notification");
                }
                let word = if result.is_ok() { "sent" } else { "failed" };
                self.metrics.notification(t.channel().as_str(), word, 1);
                TestOutcome {
                    target: t.name().to_string(),
                    channel: t.channel(),
                    error: result.err().map(|e| e.to_string()),
                }
            }
        });
        futures::future::join_all(sends).await
    }

    async fn send_with_timeout(&self, t: &dyn Notifier, msg: &Message) -> Result<(), NotifyError> {
        match tokio::time::timeout(self.settings.send_timeout, t.send(msg)).await {
            Ok(r) => r,
            Err(_) => Err(NotifyError::Timeout),
        }
    }

    async fn update_pending_gauge(&self) {
        if let Ok(n) = self.db.count_pending_notifications().await {
            self.metrics.notifications_pending.set(i64::try_from(n).unwrap_or(i64::MAX));
        }
    }

    /// Fails rows of unconfigured targets and expired rows, then picks each idle target's due
    /// rows (plus those due within one more window).
    async fn plan(&self, now: DateTime<Utc>) -> (Vec<Job>, StepReport) {
        let mut report = StepReport::default();
        let configured: Vec<String> = self.targets.iter().map(|t| t.id().to_string()).collect();
        match self.db.fail_unconfigured_notifications(configured, UNCONFIGURED).await {
            Ok(n) if n > 0 => {
                tracing::warn!(rows = n, "notifications for removed targets marked failed");
                report.failed += n;
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "outbox: cannot check targets"),
        }
        let window = to_chrono(self.settings.group_window);
        let rows = match self.db.pending_notifications(now + window, 2000).await {
            Ok(rows) => rows,
            Err(e) => {
                tracing::warn!(error = %e, "outbox: cannot read pending notifications");
                return (Vec::new(), report);
            }
        };
        let max_age = to_chrono(self.settings.max_age);
        let mut jobs = Vec::new();
        for target in self.targets.iter() {
            let (expired, mine): (Vec<NotificationRow>, Vec<NotificationRow>) = rows
                .iter()
                .filter(|r| r.target == target.id())
                .cloned()
                .partition(|r| now - r.created_at >= max_age);
            if !expired.is_empty() {
                let ids = expired.iter().map(|r| r.id).collect();
                let error =
                    format!("expired: not delivered within {}", humanize(self.settings.max_age));
                if self.db.expire_notifications(ids, error).await.is_ok() {
                    report.failed += expired.len();
                    self.metrics.notification(
                        target.channel().as_str(),
                        "failed",
                        expired.len() as u64,
                    );
                }
            }
            if !mine.iter().any(|r| r.next_attempt_at <= now) {
                continue;
            }
            let Some(busy) = self.claim(target.id()) else { continue };
            let rows = mine.into_iter().take(MAX_GROUP).collect();
            jobs.push(Job { target: target.clone(), rows, _busy: busy });
        }
        (jobs, report)
    }

    fn claim(&self, id: &str) -> Option<InFlight> {
        let mut set = self.in_flight.lock();
        set.insert(id.to_string())
            .then(|| InFlight { set: self.in_flight.clone(), id: id.to_string() })
    }

    /// Sends one target's rows as one message and records the outcome of every row.
    async fn deliver(&self, job: Job, now: DateTime<Utc>) -> StepReport {
        let items = job
            .rows
            .iter()
            .map(|r| MessageItem {
                kind: r.kind,
                severity: r.severity,
                title: r.title.clone(),
                body: r.body.clone(),
                link: r.link.clone(),
                incident_id: r.incident_id.clone(),
                created_at: r.created_at,
            })
            .collect();
        let msg = render(items, self.settings.public_url.as_deref());
        let result = self.send_with_timeout(job.target.as_ref(), &msg).await;
        let mut report = StepReport::default();
        let outcomes: Vec<(i64, RowOutcome)> = match &result {
            Ok(()) => {
                let delivery = uuid::Uuid::new_v4().to_string();
                report.messages = 1;
                report.sent = job.rows.len();
                job.rows
                    .iter()
                    .map(|r| (r.id, RowOutcome::Sent { delivery: delivery.clone() }))
                    .collect()
            }
            Err(e) => job.rows.iter().map(|r| (r.id, self.after_failure(r, e, now))).collect(),
        };
        for (_, o) in &outcomes {
            match o {
                RowOutcome::Retry { .. } => report.retried += 1,
                RowOutcome::Failed { .. } => report.failed += 1,
                RowOutcome::Sent { .. } => {}
            }
        }
        let channel = job.target.channel().as_str();
        for (word, n) in
            [("sent", report.sent), ("retry", report.retried), ("failed", report.failed)]
        {
            if n > 0 {
                self.metrics.notification(channel, word, n as u64);
            }
        }
        match &result {
            Ok(()) => {
                tracing::info!(target = job.target.name(), rows = report.sent, "notification sent")
            }
            Err(e) => tracing::warn!(
                target = job.target.name(),
                error = %e,
                retried = report.retried,
                failed = report.failed,
                "notification failed"
            ),
        }
        if let Err(e) = self.db.record_notification_attempts(outcomes, now).await {
            tracing::warn!(error = %e, "outbox: cannot record delivery outcome");
        }
        report
    }

    fn after_failure(
        &self,
        row: &NotificationRow,
        e: &NotifyError,
        now: DateTime<Utc>,
    ) -> RowOutcome {
        let error = e.to_string();
        let attempts = row.attempts + 1;
        let next = now + to_chrono(self.settings.backoff_after(attempts));
        let too_old = next - row.created_at > to_chrono(self.settings.max_age);
        if !e.is_retryable() || attempts >= self.settings.max_attempts || too_old {
            RowOutcome::Failed { error }
        } else {
            RowOutcome::Retry { next, error }
        }
    }
}

/// `24 h`, `30 min`, `45 s`.
fn humanize(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 && s.is_multiple_of(3600) {
        format!("{} h", s / 3600)
    } else if s >= 60 && s.is_multiple_of(60) {
        format!("{} min", s / 60)
    } else {
        format!("{s} s")
    }
}
