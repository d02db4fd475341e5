//! The tiered schedule (MON-01): critical every 12 s, important 32 s, routine 5 min, background
//! 30 min by default; each interval configurable, `None` disables a tier. Pure: the driver asks
//! which tiers are due and when to wake next.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use ts_rs::TS;
use utoipa::ToSchema;

use super::observe::Family;
use crate::events::word_enum;

word_enum! {
    /// A schedule tier.
    pub enum MonitorTier, "Monitor tier." {
        /// State changes: crashes, nodes, quorum, PVE reachability; reads the task list.
        Critical = "critical",
        /// Node and guest metrics.
        Important = "important",
        /// Storage, heartbeat, reminders.
        Routine = "routine",
        /// Failed backups (reads the task list), retention.
        Background = "background",
    }
}

impl MonitorTier {
    /// The condition family the tier evaluates.
    pub fn family(self) -> Family {
        match self {
            MonitorTier::Critical => Family::State,
            MonitorTier::Important => Family::Metrics,
            MonitorTier::Routine => Family::Storage,
            MonitorTier::Background => Family::Backups,
        }
    }

    /// Whether the tier needs PVE's task list (one shared read per run).
    pub fn reads_tasks(self) -> bool {
        matches!(self, MonitorTier::Critical | MonitorTier::Background)
    }

    /// The default interval.
    pub fn default_interval(self) -> Duration {
        match self {
            MonitorTier::Critical => Duration::seconds(12),
            MonitorTier::Important => Duration::seconds(32),
            MonitorTier::Routine => Duration::minutes(5),
            MonitorTier::Background => Duration::minutes(30),
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// When each tier last ran (`GET /api/monitor/status` `lastPoll`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, TS, ToSchema)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct LastRuns {
    /// Critical tier.
    #[ts(type = "string | null")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub critical: Option<DateTime<Utc>>,
    /// Important tier.
    #[ts(type = "string | null")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub important: Option<DateTime<Utc>>,
    /// Routine tier.
    #[ts(type = "string | null")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub routine: Option<DateTime<Utc>>,
    /// Background tier.
    #[ts(type = "string | null")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub background: Option<DateTime<Utc>>,
}

/// The schedule: intervals and last runs.
#[derive(Debug, Clone)]
pub struct Schedule {
    intervals: [Option<Duration>; 4],
    last: [Option<DateTime<Utc>>; 4],
}

impl Schedule {
    /// A schedule with these intervals (critical, important, routine, background); `None` or
    /// a non-positive duration disables a tier.
    pub fn new(intervals: [Option<Duration>; 4]) -> Schedule {
        let intervals = intervals.map(|i| i.filter(|d| *d > Duration::zero()));
        Schedule { intervals, last: [None; 4] }
    }

    /// The default intervals.
    pub fn defaults() -> Schedule {
        Schedule::new(
            MonitorTier::ALL
                .iter()
                .map(|t| Some(t.default_interval()))
                .collect::<Vec<_>>()
                .try_into()
                .unwrap_or([None; 4]),
        )
    }

    /// A tier's interval (`None` = disabled).
    pub fn interval(&self, tier: MonitorTier) -> Option<Duration> {
        self.intervals[tier.index()]
    }

    /// Tiers due at `now`, in order (every enabled tier is due at its first look).
    pub fn due(&self, now: DateTime<Utc>) -> Vec<MonitorTier> {
        MonitorTier::ALL
            .iter()
            .copied()
            .filter(|t| match (self.interval(*t), self.last[t.index()]) {
                (None, _) => false,
                (Some(_), None) => true,
                (Some(every), Some(last)) => now >= last + every || now < last,
            })
            .collect()
    }

    /// Records a run.
    pub fn ran(&mut self, tier: MonitorTier, at: DateTime<Utc>) {
        self.last[tier.index()] = Some(at);
    }

    /// When the next tier is due (`None` when every tier is disabled).
    pub fn next_due(&self) -> Option<DateTime<Utc>> {
        MonitorTier::ALL
            .iter()
            .filter_map(|t| {
                let every = self.interval(*t)?;
                Some(self.last[t.index()].map_or(DateTime::<Utc>::MIN_UTC, |l| l + every))
            })
            .min()
    }

    /// Last runs for the status view.
    pub fn last_runs(&self) -> LastRuns {
        LastRuns {
            critical: self.last[0],
            important: self.last[1],
            routine: self.last[2],
            background: self.last[3],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap()
    }

    #[test]
    fn tiers_run_at_their_intervals_and_zero_disables() {
        let mut s = Schedule::new([
            Some(Duration::seconds(12)),
            Some(Duration::seconds(32)),
            None,
            Some(Duration::zero()),
        ]);
        assert_eq!(s.due(t(0)), vec![MonitorTier::Critical, MonitorTier::Important]);
        s.ran(MonitorTier::Critical, t(0));
        s.ran(MonitorTier::Important, t(0));
        assert_eq!(s.next_due(), Some(t(12)));
        assert!(s.due(t(11)).is_empty());
        assert_eq!(s.due(t(12)), vec![MonitorTier::Critical]);
        s.ran(MonitorTier::Critical, t(12));
        assert_eq!(s.due(t(24)), vec![MonitorTier::Critical]);
        s.ran(MonitorTier::Critical, t(24));
        assert_eq!(s.due(t(32)), vec![MonitorTier::Important]);
        // A clock that jumped backwards does not stall the schedule.
        assert_eq!(s.due(t(-100)).len(), 2);
        let none = Schedule::new([None; 4]);
        assert_eq!(none.next_due(), None);
        assert_eq!(
            Schedule::defaults().interval(MonitorTier::Background),
            Some(Duration::minutes(30))
        );
    }
}
