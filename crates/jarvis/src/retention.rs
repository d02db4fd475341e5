//! The retention component (MEM-09): applies `db::retention`'s policy on a schedule (hourly by
//! default, `RETENTION_INTERVAL`), frees pages with an incremental vacuum, and records rows
//! removed per table, run time, last run and the database's size. It is the one owner of
//! pruning: the monitor and the outbox no longer delete anything themselves.

use std::sync::Arc;
use std::time::Instant;

use tokio_util::sync::CancellationToken;

use crate::clock::Clock;
use crate::config::retention::RetentionConfig;
use crate::db::Db;
use crate::db::retention::RetentionReport;
use crate::metrics::Metrics;

/// Runs one retention pass now (per `clock`) and records it; errors are logged, never fatal.
pub async fn run_once(
    db: &Db,
    config: &RetentionConfig,
    metrics: &Metrics,
    clock: &dyn Clock,
) -> Option<RetentionReport> {
    let started = Instant::now();
    let now = clock.now();
    match db.run_retention(config.policy, now, config.vacuum_pages).await {
        Ok(report) => {
            let size = db.size_bytes();
            metrics.retention_run(&report, started.elapsed().as_secs_f64(), now.timestamp(), size);
            let removed: usize = report.removed.iter().map(|(_, n)| n).sum();
            if let Some(id) = report.audit_refused_at {
                tracing::error!(
                    first_broken_id = id,
                    "retention: the audit chain does not verify; nothing archived"
                );
            }
            if removed > 0 || report.pages_freed > 0 {
                tracing::info!(
                    removed,
                    pages_freed = report.pages_freed,
                    db_bytes = size,
                    "retention run"
                );
            }
            Some(report)
        }
        Err(e) => {
            tracing::warn!(error = %e, "retention run failed");
            None
        }
    }
}

/// The component: a first pass at start, then every `config.interval`.
pub async fn run(
    db: Db,
    config: RetentionConfig,
    metrics: Metrics,
    clock: Arc<dyn Clock>,
    cancel: CancellationToken,
) {
    let Some(interval) = config.interval else { return };
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            _ = ticker.tick() => {}
        }
        run_once(&db, &config, &metrics, clock.as_ref()).await;
    }
}
