//! The monitor's settings: the four tier intervals (`0` disables a tier), the autonomy level it
//! starts with on a fresh database (a level the operator set later is stored and wins), and the
//! reminder interval for open incidents.

use chrono::Duration;
use jarvis_domain::monitor::{AutonomyLevel, MonitorTier};

use crate::cli::CommonArgs;

/// Default `AUTONOMY_LEVEL`: act and report (crashed guests are started, nodes woken; nothing
/// disruptive ever runs without the operator, whatever the level).
pub const DEFAULT_AUTONOMY_LEVEL: u8 = 3;
/// Default `ALERT_REPEAT_INTERVAL` in hours.
pub const DEFAULT_REPEAT_HOURS: u32 = 24;

/// Monitor settings.
#[derive(Debug, Clone, PartialEq)]
pub struct MonitorConfig {
    /// Interval of each tier (critical, important, routine, background); `None` = disabled.
    pub intervals: [Option<Duration>; 4],
    /// The level on a fresh database.
    pub initial_level: AutonomyLevel,
    /// Reminder for an open, unacknowledged incident; `None` = never.
    pub repeat_interval: Option<Duration>,
}

impl Default for MonitorConfig {
    fn default() -> Self {
        MonitorConfig {
            intervals: [
                MonitorTier::Critical,
                MonitorTier::Important,
                MonitorTier::Routine,
                MonitorTier::Background,
            ]
            .map(|t| Some(t.default_interval())),
            initial_level: AutonomyLevel::ActReport,
            repeat_interval: Some(Duration::hours(i64::from(DEFAULT_REPEAT_HOURS))),
        }
    }
}

pub(super) fn monitor_from_args(c: &CommonArgs, problems: &mut Vec<String>) -> MonitorConfig {
    let interval = |secs: u64| (secs > 0).then(|| Duration::seconds(secs.min(86_400 * 7) as i64));
    let initial_level = AutonomyLevel::try_from(c.autonomy_level).unwrap_or_else(|e| {
        problems.push(format!("AUTONOMY_LEVEL: {e}"));
        AutonomyLevel::Alert
    });
    MonitorConfig {
        intervals: [
            interval(c.monitor_critical_interval),
            interval(c.monitor_important_interval),
            interval(c.monitor_routine_interval),
            interval(c.monitor_background_interval),
        ],
        initial_level,
        repeat_interval: (c.alert_repeat_interval_hours > 0)
            .then(|| Duration::hours(i64::from(c.alert_repeat_interval_hours))),
    }
}
