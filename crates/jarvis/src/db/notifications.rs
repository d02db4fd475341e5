//! Storage of the notification outbox (table `notifications`, migration 4): one row per queued
//! notification and target, moved from `pending` to `sent` or `failed` by the outbox. The table
//! is the outbox's whole state, which is what makes it restart-safe.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Row, params};

use super::{Db, DbError, parse_time, timestamp};
use crate::notify::{NotificationKind, Severity};

/// A row to insert (status `pending`, no attempt yet).
#[derive(Debug, Clone)]
pub struct NewNotification {
    /// The incident, if any (must exist: foreign key).
    pub incident_id: Option<String>,
    /// Why.
    pub kind: NotificationKind,
    /// The target's id.
    pub target: String,
    /// Severity.
    pub severity: Severity,
    /// One line.
    pub title: String,
    /// Details.
    pub body: String,
    /// Dashboard link.
    pub link: Option<String>,
    /// When queued.
    pub created_at: DateTime<Utc>,
    /// First attempt not before.
    pub next_attempt_at: DateTime<Utc>,
}

/// Delivery state of a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotificationStatus {
    /// Waiting for (another) attempt.
    Pending,
    /// Delivered.
    Sent,
    /// Given up.
    Failed,
}

impl NotificationStatus {
    /// The stored word.
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationStatus::Pending => "pending",
            NotificationStatus::Sent => "sent",
            NotificationStatus::Failed => "failed",
        }
    }

    fn parse(word: &str) -> Option<NotificationStatus> {
        match word {
            "pending" => Some(NotificationStatus::Pending),
            "sent" => Some(NotificationStatus::Sent),
            "failed" => Some(NotificationStatus::Failed),
            _ => None,
        }
    }
}

/// A stored row.
#[derive(Debug, Clone, PartialEq)]
pub struct NotificationRow {
    /// Row id.
    pub id: i64,
    /// The incident, if any.
    pub incident_id: Option<String>,
    /// Why.
    pub kind: NotificationKind,
    /// The target's id.
    pub target: String,
    /// Severity.
    pub severity: Severity,
    /// One line.
    pub title: String,
    /// Details.
    pub body: String,
    /// Dashboard link.
    pub link: Option<String>,
    /// When queued.
    pub created_at: DateTime<Utc>,
    /// Delivery state.
    pub status: NotificationStatus,
    /// Attempts made.
    pub attempts: u32,
    /// Next attempt not before (meaningful while pending).
    pub next_attempt_at: DateTime<Utc>,
    /// The last failure.
    pub last_error: Option<String>,
    /// When delivered.
    pub sent_at: Option<DateTime<Utc>>,
    /// Shared by the rows delivered in one message.
    pub delivery: Option<String>,
}

/// What one attempt did to one row.
#[derive(Debug, Clone)]
pub enum RowOutcome {
    /// Delivered in message `delivery`.
    Sent {
        /// Shared delivery id.
        delivery: String,
    },
    /// Failed; try again at `next`.
    Retry {
        /// Next attempt.
        next: DateTime<Utc>,
        /// Why it failed.
        error: String,
    },
    /// Failed for good.
    Failed {
        /// Why.
        error: String,
    },
}

const COLUMNS: &str = "id, incident_id, kind, target, severity, title, body, link, created_at, \
                       status, attempts, next_attempt_at, last_error, sent_at, delivery";

fn read_row(r: &Row<'_>) -> rusqlite::Result<NotificationRow> {
    let text = |i: usize| -> rusqlite::Result<String> { r.get(i) };
    let bad = |i: usize| {
        rusqlite::Error::InvalidColumnType(i, "enum".into(), rusqlite::types::Type::Text)
    };
    Ok(NotificationRow {
        id: r.get(0)?,
        incident_id: r.get(1)?,
        kind: NotificationKind::parse(&text(2)?).ok_or_else(|| bad(2))?,
        target: text(3)?,
        severity: Severity::parse(&text(4)?).ok_or_else(|| bad(4))?,
        title: text(5)?,
        body: text(6)?,
        link: r.get(7)?,
        created_at: parse_time(&text(8)?),
        status: NotificationStatus::parse(&text(9)?).ok_or_else(|| bad(9))?,
        attempts: r.get(10)?,
        next_attempt_at: parse_time(&text(11)?),
        last_error: r.get(12)?,
        sent_at: r.get::<_, Option<String>>(13)?.as_deref().map(parse_time),
        delivery: r.get(14)?,
    })
}

impl Db {
    /// Inserts rows (one transaction: all or none) and returns their ids.
    pub async fn insert_notifications(
        &self,
        rows: Vec<NewNotification>,
    ) -> Result<Vec<i64>, DbError> {
        self.call(move |c| {
            let tx = c.transaction()?;
            let mut ids = Vec::with_capacity(rows.len());
            {
                let mut stmt = tx.prepare(
                    "INSERT INTO notifications (incident_id, kind, target, severity, title, body,
                         link, created_at, status, attempts, next_attempt_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'pending', 0, ?9)",
                )?;
                for n in rows {
                    stmt.execute(params![
                        n.incident_id,
                        n.kind.as_str(),
                        n.target,
                        n.severity.as_str(),
                        n.title,
                        n.body,
                        n.link,
                        timestamp(n.created_at),
                        timestamp(n.next_attempt_at),
                    ])?;
                    ids.push(tx.last_insert_rowid());
                }
            }
            tx.commit()?;
            Ok(ids)
        })
        .await
    }

    /// Pending rows whose next attempt is at or before `until`, oldest first (at most `limit`).
    pub async fn pending_notifications(
        &self,
        until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<NotificationRow>, DbError> {
        self.call(move |c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {COLUMNS} FROM notifications
                 WHERE status = 'pending' AND next_attempt_at <= ?1
                 ORDER BY created_at, id LIMIT ?2"
            ))?;
            let rows = stmt.query_map(params![timestamp(until), limit], read_row)?;
            rows.collect()
        })
        .await
    }

    /// Marks every pending row of a target not in `configured` as failed; returns how many.
    pub async fn fail_unconfigured_notifications(
        &self,
        configured: Vec<String>,
        error: &'static str,
    ) -> Result<usize, DbError> {
        self.call(move |c| {
            let tx = c.transaction()?;
            let targets: Vec<String> = {
                let mut stmt = tx.prepare(
                    "SELECT DISTINCT target FROM notifications WHERE status = 'pending'",
                )?;
                stmt.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?
            };
            let mut changed = 0;
            for t in targets.iter().filter(|t| !configured.contains(t)) {
                changed += tx.execute(
                    "UPDATE notifications SET status = 'failed', last_error = ?2
                     WHERE status = 'pending' AND target = ?1",
                    params![t, error],
                )?;
            }
            tx.commit()?;
            Ok(changed)
        })
        .await
    }

    /// Applies one attempt's outcome to each row (one transaction). Only pending rows change,
    /// so a row marked sent is never touched again.
    pub async fn record_notification_attempts(
        &self,
        outcomes: Vec<(i64, RowOutcome)>,
        at: DateTime<Utc>,
    ) -> Result<(), DbError> {
        self.call(move |c| {
            let tx = c.transaction()?;
            let at = timestamp(at);
            for (id, outcome) in outcomes {
                match outcome {
                    RowOutcome::Sent { delivery } => tx.execute(
                        "UPDATE notifications SET status = 'sent', attempts = attempts + 1,
                             sent_at = ?2, delivery = ?3, last_error = NULL
                         WHERE id = ?1 AND status = 'pending'",
                        params![id, at, delivery],
                    )?,
                    RowOutcome::Retry { next, error } => tx.execute(
                        "UPDATE notifications SET attempts = attempts + 1, next_attempt_at = ?2,
                             last_error = ?3
                         WHERE id = ?1 AND status = 'pending'",
                        params![id, timestamp(next), error],
                    )?,
                    RowOutcome::Failed { error } => tx.execute(
                        "UPDATE notifications SET status = 'failed', attempts = attempts + 1,
                             last_error = ?2
                         WHERE id = ?1 AND status = 'pending'",
                        params![id, error],
                    )?,
                };
            }
            tx.commit()
        })
        .await
    }

    /// Marks rows failed without an attempt (expired before they could be sent).
    pub async fn expire_notifications(&self, ids: Vec<i64>, error: String) -> Result<(), DbError> {
        self.call(move |c| {
            let tx = c.transaction()?;
            for id in ids {
                tx.execute(
                    "UPDATE notifications SET status = 'failed', last_error = ?2
                     WHERE id = ?1 AND status = 'pending'",
                    params![id, error],
                )?;
            }
            tx.commit()
        })
        .await
    }

    /// Stores a row already delivered or failed (the test endpoint sends first, then records).
    pub async fn insert_finished_notification(
        &self,
        row: NewNotification,
        outcome: Result<String, String>,
    ) -> Result<i64, DbError> {
        self.call(move |c| {
            let (status, sent_at, delivery, error) = match outcome {
                Ok(delivery) => ("sent", Some(timestamp(row.created_at)), Some(delivery), None),
                Err(e) => ("failed", None, None, Some(e)),
            };
            c.execute(
                "INSERT INTO notifications (incident_id, kind, target, severity, title, body, link,
                     created_at, status, attempts, next_attempt_at, last_error, sent_at, delivery)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 1, ?8, ?10, ?11, ?12)",
                params![
                    row.incident_id,
                    row.kind.as_str(),
                    row.target,
                    row.severity.as_str(),
                    row.title,
                    row.body,
                    row.link,
                    timestamp(row.created_at),
                    status,
                    error,
                    sent_at,
                    delivery,
                ],
            )?;
            Ok(c.last_insert_rowid())
        })
        .await
    }

    /// The newest rows first.
    pub async fn recent_notifications(&self, limit: u32) -> Result<Vec<NotificationRow>, DbError> {
        self.call(move |c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {COLUMNS} FROM notifications ORDER BY created_at DESC, id DESC LIMIT ?1"
            ))?;
            let rows = stmt.query_map([limit.clamp(1, 1000)], read_row)?;
            rows.collect()
        })
        .await
    }

    /// One row.
    pub async fn notification(&self, id: i64) -> Result<Option<NotificationRow>, DbError> {
        self.call(move |c| {
            c.query_row(
                &format!("SELECT {COLUMNS} FROM notifications WHERE id = ?1"),
                [id],
                read_row,
            )
            .optional()
        })
        .await
    }

    /// How many rows are pending.
    pub async fn count_pending_notifications(&self) -> Result<u64, DbError> {
        self.call(|c| {
            c.query_row("SELECT COUNT(*) FROM notifications WHERE status = 'pending'", [], |r| {
                r.get::<_, i64>(0).map(|n| n.unsigned_abs())
            })
        })
        .await
    }
}
