//! [`Clock`]: where time-driven components (the monitor, the notification outbox) read "now".
//!
//! Production uses [`SystemClock`]. Tests use [`ManualClock`] and step the components
//! themselves, so a simulated day of monitoring runs in seconds and every timing decision
//! (hold-for durations, cooldowns, verification delays, retry backoff) is deterministic.

use std::sync::Arc;

use chrono::{DateTime, Duration, SubsecRound, Utc};
use parking_lot::Mutex;

/// A source of wall-clock time.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current time (millisecond precision, as stored).
    fn now(&self) -> DateTime<Utc>;
}

/// The system's wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now().trunc_subsecs(3)
    }
}

/// A clock that only moves when told to. Cloning shares the same time.
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<Mutex<DateTime<Utc>>>,
}

impl ManualClock {
    /// A clock standing at `start`.
    pub fn starting_at(start: DateTime<Utc>) -> ManualClock {
        ManualClock { now: Arc::new(Mutex::new(start.trunc_subsecs(3))) }
    }

    /// Moves the clock forward by `by` and returns the new time.
    pub fn advance(&self, by: Duration) -> DateTime<Utc> {
        let mut now = self.now.lock();
        *now += by;
        *now
    }

    /// Sets the clock (it may go backwards: tests of clock jumps need that).
    pub fn set(&self, to: DateTime<Utc>) {
        *self.now.lock() = to.trunc_subsecs(3);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock()
    }
}

/// The clock production code uses.
pub fn system() -> Arc<dyn Clock> {
    Arc::new(SystemClock)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told_and_clones_share_it() {
        let t0 = DateTime::parse_from_rfc3339("2026-12-03T10:00:00Z").unwrap().with_timezone(&Utc);
        let c = ManualClock::starting_at(t0);
        let shared = c.clone();
        assert_eq!(c.now(), t0);
        assert_eq!(c.advance(Duration::seconds(12)), t0 + Duration::seconds(12));
        assert_eq!(shared.now(), t0 + Duration::seconds(12));
        c.set(t0);
        assert_eq!(shared.now(), t0);
    }
}
