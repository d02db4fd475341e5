//! Temperatures of a simulated node: thermal zones and hwmon chips whose readings follow the
//! node's CPU load (hotter when busier), differ per node and per CPU (a passively cooled N100
//! runs warmer than a Xeon server; AMD nodes report `k10temp` Tctl/Tccd, Intel nodes `coretemp`
//! packages and cores), and wobble a little on every tick — deterministic for the seed and the
//! number of ticks, like the other metrics.
//!
//! The same readings back Jarvis' temperature script (`zone:<type> <m°C>` and
//! `hwmon:<chip>/<label> <m°C>` lines), `sensors`, and `cat` of the `/sys/class/thermal` and
//! `/sys/class/hwmon` files. Resolutions are the drivers' own: coretemp whole degrees, k10temp
//! 1/8 °C (Tctl) and 1/4 °C (Tccd), acpitz 0.1 °C, NVMe whole kelvins. A pinned temperature
//! (a scenario) replaces the package reading, and the cores follow it without wobble.

use super::mix;
use crate::catalog::CPUS;
use crate::model::Cluster;

/// One hwmon chip and its labelled sensors (millidegrees Celsius).
struct Chip {
    name: &'static str,
    /// `sensors` heading, e.g. `coretemp-isa-0000`.
    heading: String,
    adapter: &'static str,
    sensors: Vec<(String, i64)>,
}

/// Thermal zones (type, m°C) in zone order, and hwmon chips in hwmon order.
struct Readings {
    zones: Vec<(&'static str, i64)>,
    chips: Vec<Chip>,
}

fn quantize(celsius: f64, step: i64) -> i64 {
    ((celsius * 1000.0 / step as f64).round() as i64) * step
}

fn readings(cl: &Cluster, node: usize) -> Readings {
    let n = &cl.nodes[node];
    let spec = &CPUS[n.cpu_spec];
    let amd = spec.model.starts_with("AMD");
    // Idle temperature and how much full load adds, per CPU in the catalogue.
    let idle = [38.0, 35.0, 31.0, 36.0, 44.0, 37.0][n.cpu_spec % 6];
    let gain = [42.0, 38.0, 30.0, 28.0, 26.0, 36.0][n.cpu_spec % 6];
    let offset = (mix(node as u64 ^ 0x7e4d) % 30) as f64 / 10.0;
    let tick = cl.ticks;
    // ±0.6 °C that changes on every tick, different per sensor.
    let wobble = |k: u64| {
        (mix(tick.wrapping_mul(1_000_003) ^ (node as u64) << 20 ^ k) % 1000) as f64 / 1000.0 * 1.2
            - 0.6
    };
    // A pinned temperature (`SimControl::pin_temperature`) is the package reading exactly, and
    // the cores sit steadily just below it.
    let pinned = cl.scenario.temperatures.get(&node).copied();
    let cpu_wobble = |k: u64| if pinned.is_some() { 0.0 } else { wobble(k) };
    let pkg = pinned.unwrap_or_else(|| idle + offset + gain * n.cpu + wobble(0));
    let acpi = quantize(27.8 + 3.0 * n.cpu + wobble(1) * 0.2, 100);
    let mut zones = vec![("acpitz", acpi)];
    let mut chips = Vec::new();
    if amd {
        let ccds = if spec.model.contains("EPYC") { 4 } else { 2 };
        let mut sensors = vec![("Tctl".to_string(), quantize(pkg, 125))];
        for c in 0..ccds {
            let t = pkg - 2.5 - c as f64 * 0.75 + cpu_wobble(10 + c) * 0.5;
            sensors.push((format!("Tccd{}", c + 1), quantize(t, 250)));
        }
        chips.push(Chip {
            name: "k10temp",
            heading: "k10temp-pci-00c3".into(),
            adapter: "PCI adapter",
            sensors,
        });
    } else {
        zones.push(("x86_pkg_temp", quantize(pkg, 1000)));
        for s in 0..spec.sockets as u64 {
            let p = pkg - s as f64 * 1.5;
            let mut sensors = vec![(format!("Package id {s}"), quantize(p, 1000))];
            for c in 0..spec.cores as u64 {
                let spread = (mix(node as u64 * 97 + s * 31 + c) % 40) as f64 / 10.0;
                let t = p - 0.5 - spread + cpu_wobble(100 + s * 64 + c) * 0.5;
                sensors.push((format!("Core {c}"), quantize(t, 1000)));
            }
            chips.push(Chip {
                name: "coretemp",
                heading: format!("coretemp-isa-{s:04}"),
                adapter: "ISA adapter",
                sensors,
            });
        }
    }
    // NVMe reports whole kelvins.
    let nvme_c = 31.0 + offset + 9.0 * n.cpu + wobble(99) * 0.5;
    let nvme = ((nvme_c + 273.15).round() * 1000.0) as i64 - 273_150;
    let mut sensors = vec![("Composite".to_string(), nvme)];
    if node % 2 == 1 {
        sensors.push(("Sensor 1".into(), nvme + 2000));
    }
    chips.push(Chip {
        name: "nvme",
        heading: "nvme-pci-0100".into(),
        adapter: "PCI adapter",
        sensors,
    });
    Readings { zones, chips }
}

/// The answer to Jarvis' temperature script: one `zone:` line per thermal zone, then one
/// `hwmon:` line per hwmon sensor.
pub(crate) fn script_output(cl: &Cluster, node: usize) -> String {
    let r = readings(cl, node);
    let mut out = String::new();
    for (kind, milli) in &r.zones {
        out.push_str(&format!("zone:{kind} {milli}\n"));
    }
    for chip in &r.chips {
        for (label, milli) in &chip.sensors {
            out.push_str(&format!("hwmon:{}/{label} {milli}\n", chip.name));
        }
    }
    out
}

fn celsius(milli: i64) -> String {
    format!("{:+.1}°C", milli as f64 / 1000.0)
}

/// `sensors` (lm-sensors) output.
pub(crate) fn sensors_output(cl: &Cluster, node: usize) -> String {
    let r = readings(cl, node);
    let mut out = String::new();
    for chip in &r.chips {
        out.push_str(&format!("{}\nAdapter: {}\n", chip.heading, chip.adapter));
        for (label, milli) in &chip.sensors {
            let limits = match chip.name {
                "coretemp" => "  (high = +80.0°C, crit = +100.0°C)",
                "nvme" => {
                    "  (low  = -273.1°C, high = +81.8°C)\n                       (crit = +84.8°C)"
                }
                _ => "  ",
            };
            out.push_str(&format!("{:<14}{:>8}{limits}\n", format!("{label}:"), celsius(*milli)));
        }
        out.push('\n');
    }
    if let Some((_, acpi)) = r.zones.first() {
        out.push_str(&format!(
            "acpitz-acpi-0\nAdapter: ACPI interface\n{:<14}{:>8}  \n\n",
            "temp1:",
            celsius(*acpi)
        ));
    }
    out
}

/// Contents of the `/sys/class/thermal` and `/sys/class/hwmon` files, if `path` is one.
pub(crate) fn sys_file(cl: &Cluster, node: usize, path: &str) -> Option<String> {
    let r = readings(cl, node);
    if let Some(rest) = path.strip_prefix("/sys/class/thermal/thermal_zone") {
        let (idx, file) = rest.split_once('/')?;
        let (kind, milli) = r.zones.get(idx.parse::<usize>().ok()?)?;
        return match file {
            "temp" => Some(format!("{milli}\n")),
            "type" => Some(format!("{kind}\n")),
            _ => None,
        };
    }
    let rest = path.strip_prefix("/sys/class/hwmon/hwmon")?;
    let (idx, file) = rest.split_once('/')?;
    let chip = r.chips.get(idx.parse::<usize>().ok()?)?;
    if file == "name" {
        return Some(format!("{}\n", chip.name));
    }
    let sensor = file.strip_prefix("temp")?;
    let (num, what) = sensor.split_once('_')?;
    let (label, milli) = chip.sensors.get(num.parse::<usize>().ok()?.checked_sub(1)?)?;
    match what {
        "input" => Some(format!("{milli}\n")),
        "label" => Some(format!("{label}\n")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SimConfig;

    fn parse(out: &str) -> Vec<(String, i64)> {
        out.lines()
            .map(|l| {
                let (k, v) = l.rsplit_once(' ').expect("key value");
                (k.to_string(), v.parse().expect("millidegrees"))
            })
            .collect()
    }

    #[test]
    fn script_lines_follow_load_and_ticks() {
        let mut cl = Cluster::generate(&SimConfig::default(), None);
        let before = parse(&script_output(&cl, 0));
        assert!(before.iter().any(|(k, _)| k.starts_with("zone:")));
        assert!(before.iter().any(|(k, _)| k == "hwmon:nvme/Composite"));
        assert!(before.iter().all(|(_, v)| (15_000..110_000).contains(v)), "{before:?}");
        cl.tick();
        assert_ne!(before, parse(&script_output(&cl, 0)), "readings move with ticks");
        let cool = parse(&script_output(&cl, 1));
        cl.nodes[1].cpu = 0.95;
        let hot = parse(&script_output(&cl, 1));
        let pkg = |r: &[(String, i64)]| r.iter().find(|(k, _)| k == "zone:x86_pkg_temp").unwrap().1;
        assert!(pkg(&hot) > pkg(&cool) + 10_000, "load heats the package");
    }

    #[test]
    fn amd_and_intel_nodes_report_their_chips() {
        let cl = Cluster::generate(&SimConfig::default(), None);
        // Node 0 has the Ryzen, node 1 the i7 (see generate.rs).
        assert!(script_output(&cl, 0).contains("hwmon:k10temp/Tctl "));
        let intel = script_output(&cl, 1);
        assert!(
            intel.contains("hwmon:coretemp/Package id 0 ") && intel.contains("coretemp/Core 5 ")
        );
        assert_eq!(
            sys_file(&cl, 1, "/sys/class/thermal/thermal_zone1/type").as_deref(),
            Some("x86_pkg_temp\n")
        );
        assert!(sys_file(&cl, 1, "/sys/class/hwmon/hwmon0/temp1_label").is_some());
        assert!(sensors_output(&cl, 0).contains("Tctl:"));
    }
}
