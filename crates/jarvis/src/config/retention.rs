//! Retention settings (MEM-09): the days each table keeps (`RETENTION_*_DAYS`), how often the
//! retention component runs and how many pages one incremental vacuum may free. The policy
//! itself (which rows, how) is `db::retention`.

use std::time::Duration;

use clap::Args;

use crate::db::retention::RetentionPolicy;

/// Default `RETENTION_INTERVAL` in seconds: hourly.
pub const DEFAULT_RETENTION_INTERVAL_SECS: u64 = 3600;

/// The retention flags, flattened into the common arguments.
#[derive(Debug, Clone, Args)]
pub struct RetentionArgs {
    /// Days activity events are kept.
    #[arg(long, env = "RETENTION_EVENTS_DAYS", default_value_t = 30)]
    pub retention_events_days: u32,
    /// Days an idle chat session (with its messages) is kept.
    #[arg(long, env = "RETENTION_CHAT_DAYS", default_value_t = 180)]
    pub retention_chat_days: u32,
    /// Days per-call LLM usage is kept before it folds into hourly totals (cost stays exact).
    #[arg(long, env = "RETENTION_USAGE_DAYS", default_value_t = 90)]
    pub retention_usage_days: u32,
    /// Days audit entries stay in the live log before moving to the verified archive.
    #[arg(long, env = "RETENTION_AUDIT_DAYS", default_value_t = 365)]
    pub retention_audit_days: u32,
    /// Days resolved incidents and finished runbook attempts are kept.
    #[arg(long, env = "RETENTION_INCIDENTS_DAYS", default_value_t = 90)]
    pub retention_incidents_days: u32,
    /// Days sent or failed notifications are kept.
    #[arg(long, env = "RETENTION_NOTIFICATIONS_DAYS", default_value_t = 30)]
    pub retention_notifications_days: u32,
    /// Days decided confirmations are kept.
    #[arg(long, env = "RETENTION_CONFIRMATIONS_DAYS", default_value_t = 30)]
    pub retention_confirmations_days: u32,
    /// Seconds between retention runs (0 disables retention).
    #[arg(long, env = "RETENTION_INTERVAL", default_value_t = DEFAULT_RETENTION_INTERVAL_SECS)]
    pub retention_interval: u64,
}

/// Retention settings.
#[derive(Debug, Clone, PartialEq)]
pub struct RetentionConfig {
    /// Days per table.
    pub policy: RetentionPolicy,
    /// Between runs; `None` = retention off.
    pub interval: Option<Duration>,
    /// Pages one incremental vacuum may free (0 = all free pages).
    pub vacuum_pages: u32,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        RetentionConfig {
            policy: RetentionPolicy::default(),
            interval: Some(Duration::from_secs(DEFAULT_RETENTION_INTERVAL_SECS)),
            vacuum_pages: 0,
        }
    }
}

pub(super) fn retention_from_args(a: &RetentionArgs) -> RetentionConfig {
    // A day count of 0 would delete everything on the next run; read it as the smallest, 1.
    let d = |days: u32| days.max(1);
    RetentionConfig {
        policy: RetentionPolicy {
            events_days: d(a.retention_events_days),
            chat_days: d(a.retention_chat_days),
            usage_days: d(a.retention_usage_days),
            audit_days: d(a.retention_audit_days),
            incidents_days: d(a.retention_incidents_days),
            notifications_days: d(a.retention_notifications_days),
            confirmations_days: d(a.retention_confirmations_days),
        },
        interval: (a.retention_interval > 0).then(|| Duration::from_secs(a.retention_interval)),
        vacuum_pages: 0,
    }
}
