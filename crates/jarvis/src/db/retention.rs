//! Retention (MEM-09): how long every growing table keeps its rows, and the one pass that
//! applies it. [`RetentionPolicy::rules`] is the typed table documented in the README and
//! `docs/architecture.md`; [`Db::run_retention`] applies it at a given time (a virtual clock in
//! tests and the benchmark) and then returns free pages to the file system with
//! `PRAGMA incremental_vacuum`. The background component in `crate::retention` owns the
//! schedule and the metrics.
//!
//! Nothing that is still in use is removed: pending confirmations and notifications, unresolved
//! incidents, pending runbook attempts and unexpired silences or revocations stay whatever their
//! age. Spend is never forgotten (usage rows fold into hourly rollups) and the audit chain is
//! archived, not deleted (see `db::audit_archive`).

use chrono::{DateTime, Duration, Utc};

use super::audit_archive::ArchiveOutcome;
use super::{Db, DbError, timestamp};

/// Days each class of rows is kept. Defaults suit a homelab; `RETENTION_*_DAYS` change them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionPolicy {
    /// Activity events (`RETENTION_EVENTS_DAYS`, 30).
    pub events_days: u32,
    /// Chat sessions idle this long are deleted with their messages (`RETENTION_CHAT_DAYS`, 180).
    pub chat_days: u32,
    /// Per-call usage rows older than this fold into hourly rollups (`RETENTION_USAGE_DAYS`, 90).
    pub usage_days: u32,
    /// Audit rows older than this move to the archive (`RETENTION_AUDIT_DAYS`, 365).
    pub audit_days: u32,
    /// Resolved incidents and finished runbook attempts (`RETENTION_INCIDENTS_DAYS`, 90).
    pub incidents_days: u32,
    /// Sent or failed notifications (`RETENTION_NOTIFICATIONS_DAYS`, 30).
    pub notifications_days: u32,
    /// Decided (no longer pending) confirmations (`RETENTION_CONFIRMATIONS_DAYS`, 30).
    pub confirmations_days: u32,
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        RetentionPolicy {
            events_days: 30,
            chat_days: 180,
            usage_days: 90,
            audit_days: 365,
            incidents_days: 90,
            notifications_days: 30,
            confirmations_days: 30,
        }
    }
}

/// What happens to a row past its age.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum How {
    /// Deleted.
    Delete,
    /// Deleted once finished (decided, resolved, sent or failed); live rows stay.
    DeleteFinished,
    /// Deleted once past its own expiry time (the age does not apply).
    DeleteExpired,
    /// Folded into `llm_usage_hourly` (costs, tokens and call counts kept exactly).
    Rollup,
    /// Moved to `audit_archive` behind a verified checkpoint.
    Archive,
}

/// One row of the policy table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// The table (also the `table` label of `jarvis_retention_rows_deleted_total`).
    pub table: &'static str,
    /// Age past which [`Rule::how`] applies; `None` for [`How::DeleteExpired`].
    pub days: Option<u32>,
    /// What happens.
    pub how: How,
}

impl RetentionPolicy {
    /// The policy table, in the order [`Db::run_retention`] applies it (children before their
    /// parents, so counts are per table and not hidden in cascades).
    pub fn rules(&self) -> Vec<Rule> {
        let r = |table, days: u32, how| Rule { table, days: Some(days), how };
        vec![
            r("events", self.events_days, How::Delete),
            r("chat_messages", self.chat_days, How::Delete),
            r("chat_sessions", self.chat_days, How::Delete),
            r("llm_usage", self.usage_days, How::Rollup),
            r("audit_log", self.audit_days, How::Archive),
            r("monitor_actions", self.incidents_days, How::DeleteFinished),
            r("incidents", self.incidents_days, How::DeleteFinished),
            r("notifications", self.notifications_days, How::DeleteFinished),
            r("confirmations", self.confirmations_days, How::DeleteFinished),
            Rule { table: "silences", days: None, how: How::DeleteExpired },
            Rule { table: "revoked_tokens", days: None, how: How::DeleteExpired },
        ]
    }
}

/// What one retention pass did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RetentionReport {
    /// Rows removed (deleted, rolled up or archived) per table, in policy order.
    pub removed: Vec<(&'static str, usize)>,
    /// The audit archive step was refused at this id: the chain is broken there.
    pub audit_refused_at: Option<i64>,
    /// Pages returned to the file system by the incremental vacuum.
    pub pages_freed: i64,
}

impl RetentionReport {
    /// Rows removed from `table`.
    pub fn removed_from(&self, table: &str) -> usize {
        self.removed.iter().find(|(t, _)| *t == table).map_or(0, |(_, n)| *n)
    }
}

/// The SQL of a delete rule; `?1` is the cutoff timestamp (or unix seconds for tokens).
fn delete_sql(table: &str) -> &'static str {
    match table {
        "events" => "DELETE FROM events WHERE timestamp < ?1",
        // Messages first (of sessions about to go), so the count is theirs, not a cascade's.
        "chat_messages" => {
            "DELETE FROM chat_messages WHERE session_id IN
               (SELECT id FROM chat_sessions WHERE updated_at < ?1)"
        }
        "chat_sessions" => "DELETE FROM chat_sessions WHERE updated_at < ?1",
        "monitor_actions" => {
            "DELETE FROM monitor_actions WHERE at < ?1 AND result NOT IN ('pending', 'recommended')"
        }
        "incidents" => "DELETE FROM incidents WHERE state = 'resolved' AND resolved_at < ?1",
        "notifications" => {
            "DELETE FROM notifications WHERE status IN ('sent', 'failed') AND created_at < ?1"
        }
        "confirmations" => {
            "DELETE FROM confirmations WHERE status != 'pending' AND created_at < ?1"
        }
        "silences" => "DELETE FROM silences WHERE expires_at <= ?1",
        "revoked_tokens" => "DELETE FROM revoked_tokens WHERE expires_at <= ?1",
        _ => "SELECT 1 WHERE 0",
    }
}

/// Folds usage rows before `cutoff` into hourly rollups in one transaction; returns how many.
fn rollup_usage(c: &mut rusqlite::Connection, cutoff: &str) -> rusqlite::Result<usize> {
    let tx = c.transaction()?;
    tx.execute(
        "INSERT INTO llm_usage_hourly (hour, provider, model, session_id, calls, input_tokens,
             output_tokens, cache_read_tokens, cache_write_tokens, cost_usd)
         SELECT substr(at, 1, 13) || ':00:00.000Z', provider, model, COALESCE(session_id, ''),
                COUNT(*), SUM(input_tokens), SUM(output_tokens), SUM(cache_read_tokens),
                SUM(cache_write_tokens), SUM(cost_usd)
         FROM llm_usage WHERE at < ?1
         GROUP BY 1, 2, 3, 4
         ON CONFLICT (hour, provider, model, session_id) DO UPDATE SET
             calls = calls + excluded.calls,
             input_tokens = input_tokens + excluded.input_tokens,
             output_tokens = output_tokens + excluded.output_tokens,
             cache_read_tokens = cache_read_tokens + excluded.cache_read_tokens,
             cache_write_tokens = cache_write_tokens + excluded.cache_write_tokens,
             cost_usd = cost_usd + excluded.cost_usd",
        [cutoff],
    )?;
    let n = tx.execute("DELETE FROM llm_usage WHERE at < ?1", [cutoff])?;
    tx.commit()?;
    Ok(n)
}

impl Db {
    /// Applies `policy` as of `now`, then frees up to `vacuum_pages` pages (0 = all free pages).
    /// Each rule is its own transaction: a failing rule leaves the others applied.
    pub async fn run_retention(
        &self,
        policy: RetentionPolicy,
        now: DateTime<Utc>,
        vacuum_pages: u32,
    ) -> Result<RetentionReport, DbError> {
        let mut report = RetentionReport::default();
        for rule in policy.rules() {
            let cutoff = now - Duration::days(i64::from(rule.days.unwrap_or(0)));
            let n = match rule.how {
                How::Archive => match self.archive_audit(cutoff, now).await? {
                    ArchiveOutcome::Archived { moved, .. } => moved,
                    ArchiveOutcome::Nothing => 0,
                    ArchiveOutcome::Refused(id) => {
                        report.audit_refused_at = Some(id);
                        0
                    }
                },
                How::Rollup => {
                    let cutoff = timestamp(cutoff);
                    self.call(move |c| rollup_usage(c, &cutoff)).await?
                }
                How::DeleteExpired if rule.table == "revoked_tokens" => {
                    let sql = delete_sql(rule.table);
                    let unix = now.timestamp();
                    self.call(move |c| c.execute(sql, [unix])).await?
                }
                How::Delete | How::DeleteFinished | How::DeleteExpired => {
                    let sql = delete_sql(rule.table);
                    let cutoff = timestamp(cutoff);
                    self.call(move |c| c.execute(sql, [cutoff])).await?
                }
            };
            report.removed.push((rule.table, n));
        }
        report.pages_freed = self.incremental_vacuum(vacuum_pages).await?;
        Ok(report)
    }

    /// `PRAGMA incremental_vacuum(pages)` (0 = every free page), then a passive WAL checkpoint
    /// so the shrink reaches the main file. Returns the pages freed.
    pub async fn incremental_vacuum(&self, pages: u32) -> Result<i64, DbError> {
        self.call(move |c| {
            let free = |c: &rusqlite::Connection| {
                c.query_row("PRAGMA freelist_count", [], |r| r.get::<_, i64>(0))
            };
            let before = free(c)?;
            let sql = if pages == 0 {
                "PRAGMA incremental_vacuum".to_string()
            } else {
                format!("PRAGMA incremental_vacuum({pages})")
            };
            // The pragma frees pages as its rows are stepped through; run it to the end.
            let mut stmt = c.prepare(&sql)?;
            let mut rows = stmt.query([])?;
            while rows.next()?.is_some() {}
            drop(rows);
            drop(stmt);
            let after = free(c)?;
            c.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
            Ok(before - after)
        })
        .await
    }

    /// The database's size on disk: the main file plus its WAL.
    pub fn size_bytes(&self) -> u64 {
        let len = |p: &std::path::Path| std::fs::metadata(p).map_or(0, |m| m.len());
        let mut wal = self.path().as_os_str().to_owned();
        wal.push("-wal");
        len(self.path()) + len(std::path::Path::new(&wal))
    }
}

#[cfg(test)]
#[path = "retention_tests.rs"]
mod tests;
