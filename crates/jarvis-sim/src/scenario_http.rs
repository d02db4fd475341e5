//! `PUT|POST /_sim/scenario`: the scenario controls over HTTP, for browser tests.
//!
//! One JSON object whose fields are all optional (camelCase, unknown fields refused). Every
//! field is parsed before anything is applied, so a malformed body changes nothing; then they
//! apply in this order, and the first one that cannot apply stops there with a 400 naming it
//! (the ones before it stay applied): `clear`, `advanceClock`, `powerOff`, `crash`,
//! `failStarts`, `diskFill`, `temperature`, `stopFlap`, `flap`, `guestText`, `backup`,
//! `taskLog`.

use std::time::Duration;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::config::SimError;
use crate::control::SimControl;
use crate::scenario::{BackupMode, DiskTarget, FlapMetric, GuestText};

/// The fields in the order they apply.
const FIELDS: [&str; 12] = [
    "clear",
    "advanceClock",
    "powerOff",
    "crash",
    "failStarts",
    "diskFill",
    "temperature",
    "stopFlap",
    "flap",
    "guestText",
    "backup",
    "taskLog",
];

/// Most a single `advanceClock` may move (ten years).
const MAX_ADVANCE_SECS: u64 = 10 * 366 * 86_400;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Vmid {
    vmid: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NodeName {
    node: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum FillTarget {
    Rootfs,
    Storage,
    Guest,
}

/// `fraction` null or absent clears the fill.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DiskFill {
    target: FillTarget,
    node: Option<String>,
    storage: Option<String>,
    vmid: Option<u32>,
    fraction: Option<f64>,
}

/// `celsius` null or absent clears the pin.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Temperature {
    node: String,
    celsius: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Backup {
    vmid: u32,
    /// vzdump's default.
    #[serde(default = "default_mode")]
    mode: BackupMode,
    seconds: f64,
    #[serde(default)]
    fail: bool,
}

fn default_mode() -> BackupMode {
    BackupMode::Snapshot
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FlapBody {
    node: String,
    metric: FlapMetric,
    low: f64,
    high: f64,
    every_ticks: u32,
}

/// `metric` absent stops both.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StopFlap {
    node: String,
    metric: Option<FlapMetric>,
}

/// `count` null or absent fails until cleared; 0 clears.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FailStarts {
    vmid: u32,
    count: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AdvanceClock {
    seconds: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GuestTextBody {
    vmid: u32,
    name: Option<String>,
    description: Option<String>,
    tags: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TaskLog {
    upid: String,
    lines: Vec<String>,
}

/// One parsed field, ready to apply.
enum Step {
    Clear(bool),
    AdvanceClock(AdvanceClock),
    PowerOff(NodeName),
    Crash(Vmid),
    FailStarts(FailStarts),
    DiskFill(DiskFill),
    Temperature(Temperature),
    StopFlap(StopFlap),
    Flap(FlapBody),
    GuestText(GuestTextBody),
    Backup(Backup),
    TaskLog(TaskLog),
}

fn parse<T: DeserializeOwned>(key: &str, v: &Value) -> Result<T, String> {
    T::deserialize(v).map_err(|e| format!("{key}: {e}"))
}

fn parse_step(key: &str, v: &Value) -> Result<Step, String> {
    Ok(match key {
        "clear" => Step::Clear(parse(key, v)?),
        "advanceClock" => Step::AdvanceClock(parse(key, v)?),
        "powerOff" => Step::PowerOff(parse(key, v)?),
        "crash" => Step::Crash(parse(key, v)?),
        "failStarts" => Step::FailStarts(parse(key, v)?),
        "diskFill" => Step::DiskFill(parse(key, v)?),
        "temperature" => Step::Temperature(parse(key, v)?),
        "stopFlap" => Step::StopFlap(parse(key, v)?),
        "flap" => Step::Flap(parse(key, v)?),
        "guestText" => Step::GuestText(parse(key, v)?),
        "backup" => Step::Backup(parse(key, v)?),
        _ => Step::TaskLog(parse(key, v)?),
    })
}

/// Parses a scenario body; the error names the field at fault.
fn parse_body(body: &[u8]) -> Result<Vec<(&'static str, Step)>, String> {
    let map: Map<String, Value> = match serde_json::from_slice(body) {
        Ok(Value::Object(map)) => map,
        Ok(_) => return Err("a scenario body must be a JSON object".into()),
        Err(e) => return Err(format!("bad scenario body: {e}")),
    };
    if let Some(unknown) = map.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(format!("unknown field `{unknown}`, expected one of {}", FIELDS.join(", ")));
    }
    FIELDS
        .iter()
        .filter_map(|&key| map.get(key).map(|v| (key, v)))
        .map(|(key, v)| parse_step(key, v).map(|step| (key, step)))
        .collect()
}

fn disk_target(d: &DiskFill) -> Result<DiskTarget, String> {
    let extra = |what: &str, present: bool| {
        if present { Err(format!("`{what}` does not belong to this target")) } else { Ok(()) }
    };
    let need = |what: &str| format!("this target needs `{what}`");
    Ok(match d.target {
        FillTarget::Rootfs => {
            extra("storage", d.storage.is_some())?;
            extra("vmid", d.vmid.is_some())?;
            DiskTarget::Rootfs { node: d.node.clone().ok_or_else(|| need("node"))? }
        }
        FillTarget::Storage => {
            extra("vmid", d.vmid.is_some())?;
            DiskTarget::Storage {
                node: d.node.clone().ok_or_else(|| need("node"))?,
                storage: d.storage.clone().ok_or_else(|| need("storage"))?,
            }
        }
        FillTarget::Guest => {
            extra("node", d.node.is_some())?;
            extra("storage", d.storage.is_some())?;
            DiskTarget::Guest { vmid: d.vmid.ok_or_else(|| need("vmid"))? }
        }
    })
}

fn run(ctl: &SimControl, step: Step) -> Result<(), String> {
    let sim = |r: Result<(), SimError>| r.map_err(|e| e.to_string());
    match step {
        Step::Clear(clear) => {
            if clear {
                ctl.clear_scenario();
            }
            Ok(())
        }
        Step::AdvanceClock(a) => {
            if a.seconds > MAX_ADVANCE_SECS {
                return Err(format!("seconds must be at most {MAX_ADVANCE_SECS}"));
            }
            ctl.advance_clock(Duration::from_secs(a.seconds));
            Ok(())
        }
        Step::PowerOff(n) => sim(ctl.power_off_node(&n.node)),
        Step::Crash(c) => sim(ctl.crash_guest(c.vmid)),
        Step::FailStarts(f) => sim(ctl.fail_starts(f.vmid, f.count)),
        Step::DiskFill(d) => {
            let target = disk_target(&d)?;
            sim(match d.fraction {
                Some(f) => ctl.fill_disk(&target, f),
                None => ctl.clear_disk_fill(&target),
            })
        }
        Step::Temperature(t) => sim(match t.celsius {
            Some(c) => ctl.pin_temperature(&t.node, c),
            None => ctl.clear_temperature(&t.node),
        }),
        Step::StopFlap(s) => sim(ctl.stop_flap(&s.node, s.metric)),
        Step::Flap(f) => sim(ctl.flap_node_metric(&f.node, f.metric, f.low, f.high, f.every_ticks)),
        Step::GuestText(g) => {
            let text = GuestText { name: g.name, description: g.description, tags: g.tags };
            sim(ctl.set_guest_text(g.vmid, text))
        }
        Step::Backup(b) => {
            let duration = Duration::try_from_secs_f64(b.seconds)
                .map_err(|_| format!("seconds must be a positive number, got {}", b.seconds))?;
            let started = match b.fail {
                true => ctl.start_failing_backup(b.vmid, b.mode, duration),
                false => ctl.start_backup(b.vmid, b.mode, duration),
            };
            started.map(drop).map_err(|e| e.to_string())
        }
        Step::TaskLog(t) => sim(ctl.append_task_log(&t.upid, &t.lines)),
    }
}

/// Applies a `/_sim/scenario` body; the error (for a 400) names the field at fault.
pub(crate) fn apply(ctl: &SimControl, body: &[u8]) -> Result<(), String> {
    for (key, step) in parse_body(body)? {
        run(ctl, step).map_err(|e| format!("{key}: {e}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(body: &str) -> String {
        parse_body(body.as_bytes()).err().expect("must not parse")
    }

    #[test]
    fn bodies_are_checked_field_by_field_before_anything_applies() {
        assert!(err("[1]").contains("JSON object"));
        assert!(err("{\"bogus\": 1}").starts_with("unknown field `bogus`"));
        assert!(err("{\"crash\": {}}").starts_with("crash: missing field `vmid`"));
        assert!(
            err("{\"crash\": {\"vmid\": 1, \"x\": 2}}").starts_with("crash: unknown field `x`")
        );
        let e = err("{\"backup\": {\"vmid\": 1, \"mode\": \"fast\", \"seconds\": 1}}");
        assert!(e.starts_with("backup: unknown variant `fast`"), "{e}");
        let steps = parse_body(br#"{"taskLog": {"upid": "u", "lines": []}, "clear": true}"#);
        let keys: Vec<&str> = steps.unwrap().iter().map(|(k, _)| *k).collect();
        assert_eq!(keys, ["clear", "taskLog"], "applied in the documented order");
    }

    #[test]
    fn disk_fill_targets_need_their_own_fields_only() {
        let fill = |json: &str| -> Result<DiskTarget, String> {
            disk_target(&serde_json::from_str::<DiskFill>(json).unwrap())
        };
        assert_eq!(
            fill(r#"{"target": "rootfs", "node": "pve1", "fraction": 0.9}"#),
            Ok(DiskTarget::Rootfs { node: "pve1".into() })
        );
        assert!(fill(r#"{"target": "storage", "node": "pve1"}"#).unwrap_err().contains("storage"));
        assert!(
            fill(r#"{"target": "guest", "vmid": 1, "node": "x"}"#).unwrap_err().contains("node")
        );
    }
}
