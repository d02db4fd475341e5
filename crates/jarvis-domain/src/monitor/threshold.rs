//! Thresholds (MON-03): the rules (defaults from REQUIREMENTS, overridable per node and per
//! guest), and the per-condition tracker that gives them hysteresis.
//!
//! A condition **fires** only after the value has stayed at or above the warning mark for the
//! rule's hold time; it **clears** only when the value has dropped below the lower *clear* mark,
//! and then only after it has stayed there for the settle time — so a metric hovering around the
//! mark, or bouncing, is one incident, not fifty. A condition that bounces back above the clear
//! mark three times within half an hour is marked **flapping** and must then stay low for the
//! long settle time before it resolves.

use std::collections::{BTreeMap, VecDeque};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

use crate::events::{Severity, word_enum};

word_enum! {
    /// A measured quantity with a threshold.
    pub enum Metric, "Metric." {
        /// Node CPU, percent of all cores.
        Cpu = "cpu",
        /// Node RAM, percent used.
        Memory = "memory",
        /// Node root filesystem, percent used.
        Disk = "disk",
        /// Node temperature, °C of the hottest sensor.
        Temperature = "temperature",
        /// A storage pool, percent used.
        Storage = "storage",
        /// A guest's disk, percent used (containers; most VMs do not report it).
        GuestDisk = "guest_disk",
    }
}

impl Metric {
    /// How a value of this metric is written (`96.2%`, `91.0 °C`).
    pub fn format(self, value: f64) -> String {
        match self {
            Metric::Temperature => format!("{value:.1} °C"),
            _ => format!("{value:.1}%"),
        }
    }

    /// The words used in titles.
    pub fn label(self) -> &'static str {
        match self {
            Metric::Cpu => "CPU usage",
            Metric::Memory => "RAM usage",
            Metric::Disk => "Root disk usage",
            Metric::Temperature => "Temperature",
            Metric::Storage => "Storage usage",
            Metric::GuestDisk => "Guest disk usage",
        }
    }

    fn max_value(self) -> f64 {
        if self == Metric::Temperature { 150.0 } else { 100.0 }
    }
}

/// One threshold rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[ts(export)]
pub struct Rule {
    /// Off: never fires.
    pub enabled: bool,
    /// Fires at or above this (percent, or °C for temperature).
    pub warn: f64,
    /// Critical at or above this; none = the rule is only ever a warning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub critical: Option<f64>,
    /// Clears only below this lower mark (hysteresis); must be below `warn`.
    pub clear: f64,
    /// The value must stay at or above `warn` this long before it fires.
    pub hold_seconds: u32,
}

/// A partial rule: the fields given replace the default rule's.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[ts(export)]
pub struct RulePatch {
    /// See [`Rule::enabled`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub enabled: Option<bool>,
    /// See [`Rule::warn`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub warn: Option<f64>,
    /// See [`Rule::critical`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub critical: Option<f64>,
    /// See [`Rule::clear`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub clear: Option<f64>,
    /// See [`Rule::hold_seconds`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub hold_seconds: Option<u32>,
}

impl Rule {
    fn patched(&self, p: &RulePatch) -> Rule {
        Rule {
            enabled: p.enabled.unwrap_or(self.enabled),
            warn: p.warn.unwrap_or(self.warn),
            critical: p.critical.or(self.critical),
            clear: p.clear.unwrap_or(self.clear),
            hold_seconds: p.hold_seconds.unwrap_or(self.hold_seconds),
        }
    }

    fn validate(&self, metric: Metric, at: &str) -> Result<(), String> {
        let max = metric.max_value();
        let ok = |v: f64| v.is_finite() && (0.0..=max).contains(&v);
        if !ok(self.warn) || !ok(self.clear) || !self.critical.is_none_or(ok) {
            return Err(format!("{at}: values must be numbers from 0 to {max}"));
        }
        if self.clear >= self.warn {
            return Err(format!("{at}: clear ({}) must be below warn ({})", self.clear, self.warn));
        }
        if self.critical.is_some_and(|c| c < self.warn) {
            return Err(format!("{at}: critical must not be below warn ({})", self.warn));
        }
        if self.hold_seconds > 86_400 {
            return Err(format!("{at}: holdSeconds must be at most 86400"));
        }
        Ok(())
    }
}

/// Threshold rules: defaults for every metric, and patches per node and per guest
/// (`GET`/`PUT /api/monitor/thresholds`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[ts(export)]
pub struct ThresholdSettings {
    /// The rule for each metric.
    pub defaults: BTreeMap<Metric, Rule>,
    /// Per node name: metric → patch.
    #[serde(default)]
    pub nodes: BTreeMap<String, BTreeMap<Metric, RulePatch>>,
    /// Per guest id: metric → patch.
    #[serde(default)]
    pub guests: BTreeMap<u32, BTreeMap<Metric, RulePatch>>,
}

impl Default for ThresholdSettings {
    /// REQUIREMENTS MON-03: disk 90/95, RAM 85/95, CPU 95, storage 85/95; temperature 80/90 °C
    /// and guest disk 90/95 in the same spirit.
    fn default() -> Self {
        let rule = |warn, critical, clear, hold_seconds| Rule {
            enabled: true,
            warn,
            critical,
            clear,
            hold_seconds,
        };
        let defaults = BTreeMap::from([
            (Metric::Cpu, rule(95.0, None, 85.0, 120)),
            (Metric::Memory, rule(85.0, Some(95.0), 80.0, 60)),
            (Metric::Disk, rule(90.0, Some(95.0), 85.0, 0)),
            (Metric::Temperature, rule(80.0, Some(90.0), 75.0, 60)),
            (Metric::Storage, rule(85.0, Some(95.0), 80.0, 0)),
            (Metric::GuestDisk, rule(90.0, Some(95.0), 85.0, 0)),
        ]);
        ThresholdSettings { defaults, nodes: BTreeMap::new(), guests: BTreeMap::new() }
    }
}

impl ThresholdSettings {
    /// Checks every rule and every patched rule; the error names the place.
    pub fn validate(&self) -> Result<(), String> {
        for m in Metric::ALL {
            let rule = self.defaults.get(m).ok_or_else(|| format!("defaults.{m}: missing"))?;
            rule.validate(*m, &format!("defaults.{m}"))?;
        }
        for (node, patches) in &self.nodes {
            for (m, p) in patches {
                self.defaults[m].patched(p).validate(*m, &format!("nodes.{node}.{m}"))?;
            }
        }
        for (vmid, patches) in &self.guests {
            for (m, p) in patches {
                self.defaults[m].patched(p).validate(*m, &format!("guests.{vmid}.{m}"))?;
            }
        }
        Ok(())
    }

    /// The rule in force for `metric` on `node` / guest `vmid` (a guest patch beats a node
    /// patch beats the default).
    pub fn rule(&self, metric: Metric, node: Option<&str>, vmid: Option<u32>) -> Rule {
        let mut rule = self.defaults.get(&metric).cloned().unwrap_or(Rule {
            enabled: false,
            warn: 100.0,
            critical: None,
            clear: 0.0,
            hold_seconds: 0,
        });
        if let Some(p) = node.and_then(|n| self.nodes.get(n)).and_then(|m| m.get(&metric)) {
            rule = rule.patched(p);
        }
        if let Some(p) = vmid.and_then(|v| self.guests.get(&v)).and_then(|m| m.get(&metric)) {
            rule = rule.patched(p);
        }
        rule
    }
}

/// How long a cleared condition must stay below its clear mark before it resolves.
pub const SETTLE: Duration = Duration::minutes(5);
/// The same once the condition is flapping.
pub const FLAP_SETTLE: Duration = Duration::minutes(30);
/// Bounces back above the clear mark within [`FLAP_WINDOW`] that make a condition flapping.
pub const FLAP_BOUNCES: usize = 3;
/// The window for counting bounces.
pub const FLAP_WINDOW: Duration = Duration::minutes(30);

#[derive(Debug, Clone, PartialEq)]
enum Phase {
    /// Below the warning mark.
    Normal,
    /// At or above the warning mark since `since`, not long enough to fire.
    Rising { since: DateTime<Utc> },
    /// Firing; `low_since` is set while the value is below the clear mark (settling).
    Firing { severity: Severity, low_since: Option<DateTime<Utc>> },
}

/// A firing threshold condition, as the tracker reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct Firing {
    /// Warning or critical.
    pub severity: Severity,
    /// The last value.
    pub value: f64,
    /// The rule it broke.
    pub rule: Rule,
    /// Bouncing around its marks.
    pub flapping: bool,
    /// Below the clear mark since then, waiting to resolve.
    pub settling_since: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
struct Track {
    phase: Phase,
    bounces: VecDeque<DateTime<Utc>>,
    flapping: bool,
    seen_at: DateTime<Utc>,
}

/// Hysteresis and flap state of every threshold condition, by key.
#[derive(Debug, Clone, Default)]
pub struct ThresholdTracker {
    tracks: BTreeMap<String, Track>,
}

impl ThresholdTracker {
    /// Feeds one reading of `key`; `Some` while the condition fires (including while it
    /// settles below the clear mark).
    pub fn observe(
        &mut self,
        key: &str,
        value: f64,
        rule: &Rule,
        now: DateTime<Utc>,
    ) -> Option<Firing> {
        let track = self.tracks.entry(key.to_owned()).or_insert_with(|| Track {
            phase: Phase::Normal,
            bounces: VecDeque::new(),
            flapping: false,
            seen_at: now,
        });
        track.seen_at = now;
        if !rule.enabled || !value.is_finite() {
            track.phase = Phase::Normal;
            return None;
        }
        let level = |v: f64| match rule.critical {
            Some(c) if v >= c => Severity::Critical,
            _ => Severity::Warning,
        };
        let hold = Duration::seconds(i64::from(rule.hold_seconds));
        track.phase = match track.phase.clone() {
            Phase::Normal | Phase::Rising { .. } if value < rule.warn => Phase::Normal,
            Phase::Normal if hold.is_zero() => {
                Phase::Firing { severity: level(value), low_since: None }
            }
            Phase::Normal => Phase::Rising { since: now },
            Phase::Rising { since } if now - since >= hold => {
                Phase::Firing { severity: level(value), low_since: None }
            }
            rising @ Phase::Rising { .. } => rising,
            Phase::Firing { severity, low_since } => {
                let severity = severity.max(level(value));
                if value < rule.clear {
                    let since = low_since.unwrap_or(now);
                    let settle = if track.flapping { FLAP_SETTLE } else { SETTLE };
                    if now - since >= settle {
                        track.bounces.clear();
                        track.flapping = false;
                        Phase::Normal
                    } else {
                        Phase::Firing { severity, low_since: Some(since) }
                    }
                } else {
                    if low_since.is_some() {
                        // Back above the clear mark while settling: a bounce.
                        track.bounces.push_back(now);
                        while track.bounces.front().is_some_and(|t| now - *t > FLAP_WINDOW) {
                            track.bounces.pop_front();
                        }
                        if track.bounces.len() >= FLAP_BOUNCES {
                            track.flapping = true;
                        }
                    }
                    Phase::Firing { severity, low_since: None }
                }
            }
        };
        match &track.phase {
            Phase::Firing { severity, low_since } => Some(Firing {
                severity: *severity,
                value,
                rule: rule.clone(),
                flapping: track.flapping,
                settling_since: *low_since,
            }),
            _ => None,
        }
    }

    /// Marks `key` as flapping from the start (restored from a stored incident after a restart).
    pub fn restore_firing(
        &mut self,
        key: &str,
        severity: Severity,
        flapping: bool,
        now: DateTime<Utc>,
    ) {
        self.tracks.insert(
            key.to_owned(),
            Track {
                phase: Phase::Firing { severity, low_since: None },
                bounces: VecDeque::new(),
                flapping,
                seen_at: now,
            },
        );
    }

    /// Forgets conditions not observed since `before` (deleted guests, removed storage).
    pub fn forget_unseen(&mut self, before: DateTime<Utc>) {
        self.tracks.retain(|_, t| t.seen_at >= before);
    }

    /// Forgets one condition (its subject is gone or no longer measured).
    pub fn forget(&mut self, key: &str) {
        self.tracks.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap()
    }

    fn disk() -> Rule {
        ThresholdSettings::default().rule(Metric::Disk, None, None)
    }

    #[test]
    fn holds_before_firing_and_escalates_severity() {
        let cpu = ThresholdSettings::default().rule(Metric::Cpu, None, None);
        let mut tr = ThresholdTracker::default();
        assert!(tr.observe("k", 97.0, &cpu, t(0)).is_none(), "not held yet");
        assert!(tr.observe("k", 97.0, &cpu, t(60)).is_none());
        let f = tr.observe("k", 97.0, &cpu, t(120)).expect("held 2 min: fires");
        assert_eq!(f.severity, Severity::Warning);
        // A dip below warn while rising resets the hold.
        let mut tr = ThresholdTracker::default();
        tr.observe("k", 97.0, &cpu, t(0));
        tr.observe("k", 90.0, &cpu, t(60));
        assert!(tr.observe("k", 97.0, &cpu, t(120)).is_none(), "hold restarted");
        // Disk has no hold; critical at 95.
        let mut tr = ThresholdTracker::default();
        assert_eq!(tr.observe("d", 91.0, &disk(), t(0)).unwrap().severity, Severity::Warning);
        assert_eq!(tr.observe("d", 96.0, &disk(), t(30)).unwrap().severity, Severity::Critical);
        assert_eq!(
            tr.observe("d", 91.0, &disk(), t(60)).unwrap().severity,
            Severity::Critical,
            "severity does not drop while the condition holds"
        );
    }

    #[test]
    fn clears_only_below_the_lower_mark_after_settling() {
        let mut tr = ThresholdTracker::default();
        tr.observe("d", 92.0, &disk(), t(0)).unwrap();
        // Between clear (85) and warn (90): still firing, not settling.
        assert!(tr.observe("d", 87.0, &disk(), t(30)).unwrap().settling_since.is_none());
        let f = tr.observe("d", 80.0, &disk(), t(60)).unwrap();
        assert_eq!(f.settling_since, Some(t(60)));
        assert!(tr.observe("d", 80.0, &disk(), t(60 + 299)).is_some(), "settle is 5 min");
        assert!(tr.observe("d", 80.0, &disk(), t(60 + 300)).is_none(), "resolved");
    }

    #[test]
    fn bouncing_marks_flapping_and_needs_the_long_settle() {
        let mut tr = ThresholdTracker::default();
        let mut now = 0;
        tr.observe("d", 92.0, &disk(), t(now));
        for _ in 0..FLAP_BOUNCES {
            now += 60;
            tr.observe("d", 70.0, &disk(), t(now)).unwrap();
            now += 60;
            tr.observe("d", 93.0, &disk(), t(now)).unwrap();
        }
        now += 60;
        let f = tr.observe("d", 70.0, &disk(), t(now)).unwrap();
        assert!(f.flapping);
        assert!(tr.observe("d", 70.0, &disk(), t(now + 600)).is_some(), "5 min is not enough");
        assert!(tr.observe("d", 70.0, &disk(), t(now + 1800)).is_none(), "30 min stable resolves");
        // Afterwards it starts clean.
        assert!(!tr.observe("d", 92.0, &disk(), t(now + 1900)).unwrap().flapping);
    }

    #[test]
    fn disabled_rules_never_fire_and_patches_apply_in_order() {
        let mut s = ThresholdSettings::default();
        s.nodes.insert(
            "pve2".into(),
            BTreeMap::from([(
                Metric::Disk,
                RulePatch { warn: Some(70.0), clear: Some(60.0), ..Default::default() },
            )]),
        );
        s.guests.insert(
            105,
            BTreeMap::from([(
                Metric::GuestDisk,
                RulePatch { enabled: Some(false), ..Default::default() },
            )]),
        );
        assert!(s.validate().is_ok());
        assert_eq!(s.rule(Metric::Disk, Some("pve2"), None).warn, 70.0);
        assert_eq!(s.rule(Metric::Disk, Some("pve1"), None).warn, 90.0);
        let off = s.rule(Metric::GuestDisk, Some("pve2"), Some(105));
        let mut tr = ThresholdTracker::default();
        assert!(tr.observe("g", 99.0, &off, t(0)).is_none());
    }

    #[test]
    fn invalid_rules_name_the_place() {
        let mut s = ThresholdSettings::default();
        s.nodes.insert(
            "pve1".into(),
            BTreeMap::from([(
                Metric::Memory,
                RulePatch { clear: Some(90.0), ..Default::default() },
            )]),
        );
        assert!(s.validate().unwrap_err().contains("nodes.pve1.memory: clear"));
        let mut s = ThresholdSettings::default();
        s.defaults.get_mut(&Metric::Cpu).unwrap().warn = f64::NAN;
        assert!(s.validate().unwrap_err().starts_with("defaults.cpu"));
        let mut s = ThresholdSettings::default();
        s.defaults.remove(&Metric::Storage);
        assert!(s.validate().unwrap_err().contains("defaults.storage: missing"));
        let json = r#"{"defaults": {}, "nodes": {}, "guests": {}, "extra": 1}"#;
        assert!(serde_json::from_str::<ThresholdSettings>(json).is_err(), "unknown fields refused");
    }
}
