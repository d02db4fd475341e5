//! Scenario controls that change state — a crash, a power cut and wake-on-LAN, disk fills,
//! pinned temperatures, flapping metrics — checked through the PVE wire format and SSH, as a
//! PVE client sees them.

use std::time::{Duration, Instant};

use jarvis_domain::{TEMPERATURE_COMMAND, parse_temperatures};
use jarvis_sim::{DiskTarget, FlapMetric, SimConfig, SimError, SimHandle};
use serde_json::Value;

use crate::common::*;
use crate::ssh_client::{connect, exec, login};

/// Tasks whose id is `vmid`, from `/cluster/tasks`.
async fn tasks_for(sim: &SimHandle, vmid: u64) -> Vec<Value> {
    let all = data(sim, "/cluster/tasks").await;
    let id = vmid.to_string();
    all.as_array().unwrap().iter().filter(|t| t["id"] == id.as_str()).cloned().collect()
}

/// Guests on `node` from `/cluster/resources`: (vmid, status).
async fn guests_on(sim: &SimHandle, node: &str) -> Vec<(u64, String)> {
    let all = data(sim, "/cluster/resources?type=vm").await;
    let mut out: Vec<(u64, String)> = all
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["node"] == node)
        .map(|g| (g["vmid"].as_u64().unwrap(), g["status"].as_str().unwrap().to_string()))
        .collect();
    out.sort();
    out
}

/// Polls the snapshot until `pred` holds (the simulator boots nodes on real time).
async fn until(
    sim: &SimHandle,
    what: &str,
    pred: impl Fn(&jarvis_domain::ClusterSnapshot) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !pred(&sim.control().snapshot()) {
        assert!(Instant::now() < deadline, "never happened: {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test]
async fn a_crashed_guest_stops_without_a_task() {
    let sim = start(test_config()).await;
    let ctl = sim.control();
    let vm = find_resource(&sim, |e| e["type"] == "qemu" && e["status"] == "running").await;
    let vmid = vm["vmid"].as_u64().unwrap();
    let tasks_before = tasks_for(&sim, vmid).await.len();
    ctl.crash_guest(vmid as u32).unwrap();
    let e = find_resource(&sim, |e| e["vmid"] == vmid).await;
    assert_eq!((e["status"].clone(), e["uptime"].clone()), ("stopped".into(), 0.into()));
    let node = e["node"].as_str().unwrap();
    let cur = data(&sim, &format!("/nodes/{node}/qemu/{vmid}/status/current")).await;
    assert_eq!(cur["status"], "stopped");
    assert!(cur.get("pid").is_none(), "a dead QEMU has no pid");
    assert_eq!(tasks_for(&sim, vmid).await.len(), tasks_before, "a crash leaves no task");

    let again = ctl.crash_guest(vmid as u32).unwrap_err();
    assert_eq!(again.to_string(), format!("guest {vmid} is not running"));
    let tpl = find_resource(&sim, |e| e["template"] == 1).await["vmid"].as_u64().unwrap();
    let e = ctl.crash_guest(tpl as u32).unwrap_err();
    assert_eq!(e.to_string(), format!("guest {tpl} is a template and never runs"));
    assert!(matches!(ctl.crash_guest(4242), Err(SimError::UnknownGuest(4242))));
    sim.shutdown().await;
}

#[tokio::test]
async fn a_powered_off_node_wakes_on_a_magic_packet_and_starts_its_onboot_guests() {
    let sim = start(SimConfig { boot_delay: Duration::from_millis(300), ..test_config() }).await;
    let ctl = sim.control();
    let before = guests_on(&sim, "pve2").await;
    assert!(before.iter().any(|g| g.1 == "running"), "{before:?}");
    ctl.power_off_node("pve2").unwrap();
    assert_eq!(get(&sim, "/nodes/pve2/status").await.0, 595);
    assert!(connect(&sim, 1).await.is_err(), "a powered-off node refuses SSH");
    let after = guests_on(&sim, "pve2").await;
    assert!(after.iter().all(|g| g.1 == "stopped"), "its guests stopped: {after:?}");
    let node = find_resource(&sim, |e| e["id"] == "node/pve2").await;
    assert_eq!(node["status"], "offline");
    ctl.power_off_node("pve3").unwrap();
    let st = data(&sim, "/cluster/status").await;
    assert_eq!(st[0]["quorate"], 0, "2 of 4 nodes left: quorum is recomputed");

    // Network loss is different: the node keeps running and ignores the packet.
    ctl.set_node_online("pve4", false).unwrap();
    let (status, body) = post(&sim, "/nodes/pve4/wakeonlan", &[]).await;
    assert_eq!(status, 200, "PVE sends the packet anyway: {body}");

    let (status, body) = post(&sim, "/nodes/pve2/wakeonlan", &[]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"].as_str().unwrap().len(), 17, "answers the MAC: {body}");
    assert_eq!(post(&sim, "/nodes/pve1/wakeonlan", &[]).await.0, 500, "the local node");
    until(&sim, "pve2 boots", |s| {
        s.node("pve2").is_some_and(|n| n.status == jarvis_domain::NodeStatus::Online)
    })
    .await;
    assert_eq!(guests_on(&sim, "pve2").await, before, "onboot guests are back, others stay off");
    let status = data(&sim, "/nodes/pve2/status").await;
    assert!(status["uptime"].as_u64().unwrap() < 10, "a fresh boot: {status}");
    let h = login(&sim, 1).await;
    assert_eq!(exec(&h, "hostname").await.stdout, "pve2\n", "SSH is back");
    let snap = ctl.snapshot();
    assert_eq!(snap.node("pve4").unwrap().status, jarvis_domain::NodeStatus::Offline);
    assert_eq!(snap.node("pve3").unwrap().status, jarvis_domain::NodeStatus::Offline);
    assert!(!snap.quorum.quorate, "pve1 and pve2 are 2 of 4: still no majority");
    sim.shutdown().await;
}

fn fraction(used: &Value, total: &Value) -> f64 {
    used.as_u64().unwrap() as f64 / total.as_u64().unwrap() as f64
}

#[tokio::test]
async fn disk_fills_pin_usage_until_cleared() {
    let sim = start(test_config()).await;
    let ctl = sim.control();
    let rootfs = DiskTarget::Rootfs { node: "pve1".into() };
    let before = data(&sim, "/nodes/pve1/status").await["rootfs"]["used"].clone();
    ctl.fill_disk(&rootfs, 0.97).unwrap();
    for _ in 0..3 {
        ctl.tick();
    }
    let node = find_resource(&sim, |e| e["id"] == "node/pve1").await;
    assert!((fraction(&node["disk"], &node["maxdisk"]) - 0.97).abs() < 1e-6, "{node}");
    let rootfs_json = data(&sim, "/nodes/pve1/status").await["rootfs"].clone();
    assert!((fraction(&rootfs_json["used"], &rootfs_json["total"]) - 0.97).abs() < 1e-6);
    let local = data(&sim, "/nodes/pve1/storage?storage=local").await;
    assert!((local[0]["used_fraction"].as_f64().unwrap() - 0.97).abs() < 1e-6, "{local}");

    let lvm = DiskTarget::Storage { node: "pve1".into(), storage: "local-lvm".into() };
    ctl.fill_disk(&lvm, 0.995).unwrap();
    ctl.tick();
    let st = find_resource(&sim, |e| e["id"] == "storage/pve1/local-lvm").await;
    assert!((fraction(&st["disk"], &st["maxdisk"]) - 0.995).abs() < 1e-6, "{st}");
    let listed = data(&sim, "/nodes/pve1/storage?storage=local-lvm").await;
    assert_eq!(listed[0]["used"], st["disk"]);
    let other = find_resource(&sim, |e| e["id"] == "storage/pve2/local-lvm").await;
    assert!(fraction(&other["disk"], &other["maxdisk"]) < 0.99, "other nodes are untouched");

    let ct = find_resource(&sim, |e| e["type"] == "lxc" && e["status"] == "running").await;
    let ct_id = ct["vmid"].as_u64().unwrap() as u32;
    ctl.fill_disk(&DiskTarget::Guest { vmid: ct_id }, 0.9).unwrap();
    ctl.tick();
    let ct = find_resource(&sim, |e| e["vmid"] == ct_id).await;
    assert!((fraction(&ct["disk"], &ct["maxdisk"]) - 0.9).abs() < 1e-6, "{ct}");

    let state = ctl.scenario();
    assert_eq!(state.disk_fills.len(), 3, "{state:?}");
    ctl.clear_disk_fill(&rootfs).unwrap();
    let back = data(&sim, "/nodes/pve1/status").await["rootfs"]["used"].clone();
    assert_eq!(back, before, "clearing puts the old usage back");
    ctl.tick();
    let moved = data(&sim, "/nodes/pve1/status").await["rootfs"]["used"].clone();
    assert!(moved.as_u64() > before.as_u64(), "and it moves normally again");
    ctl.clear_scenario();
    assert!(ctl.scenario().disk_fills.is_empty());

    let vm = find_resource(&sim, |e| e["type"] == "qemu").await["vmid"].as_u64().unwrap();
    let e = ctl.fill_disk(&DiskTarget::Guest { vmid: vm as u32 }, 0.5).unwrap_err();
    assert!(e.to_string().contains("only containers can be filled"), "{e}");
    assert!(ctl.fill_disk(&rootfs, 1.5).unwrap_err().to_string().contains("between 0 and 1"));
    let bad = DiskTarget::Storage { node: "pve1".into(), storage: "ceph".into() };
    assert!(matches!(ctl.fill_disk(&bad, 0.5), Err(SimError::UnknownStorage(_))));
    sim.shutdown().await;
}

#[tokio::test]
async fn a_pinned_temperature_shows_over_ssh_until_cleared() {
    let sim = start(test_config()).await;
    let ctl = sim.control();
    ctl.pin_temperature("pve1", 96.0).unwrap();
    ctl.pin_temperature("pve2", 91.0).unwrap();
    let amd = login(&sim, 0).await;
    let intel = login(&sim, 1).await;
    for _ in 0..2 {
        let t = parse_temperatures(&exec(&amd, TEMPERATURE_COMMAND).await.stdout);
        assert_eq!(t.get("k10temp/Tctl"), Some(&96.0), "{t:?}");
        assert!(t.iter().filter(|(k, _)| k.starts_with("k10temp/Tccd")).all(|(_, v)| *v < 96.0));
        let t = parse_temperatures(&exec(&intel, TEMPERATURE_COMMAND).await.stdout);
        assert_eq!(t.get("x86_pkg_temp"), Some(&91.0), "{t:?}");
        assert_eq!(t.get("coretemp/Package id 0"), Some(&91.0));
        let cores: Vec<f64> =
            t.iter().filter(|(k, _)| k.starts_with("coretemp/Core")).map(|(_, v)| *v).collect();
        assert!(!cores.is_empty() && cores.iter().all(|c| (85.0..=91.0).contains(c)), "{cores:?}");
        ctl.tick();
    }
    let sensors = exec(&amd, "sensors").await.stdout;
    assert!(
        sensors.lines().any(|l| l.starts_with("Tctl:") && l.ends_with("+96.0°C  ")),
        "{sensors}"
    );
    assert_eq!(ctl.scenario().temperatures.len(), 2);
    ctl.clear_temperature("pve1").unwrap();
    let t = parse_temperatures(&exec(&amd, TEMPERATURE_COMMAND).await.stdout);
    assert!(t["k10temp/Tctl"] < 80.0, "back to following the load: {t:?}");
    assert!(ctl.pin_temperature("pve1", f64::NAN).is_err());
    assert!(ctl.pin_temperature("pve1", 400.0).is_err());
    sim.shutdown().await;
}

#[tokio::test]
async fn a_flapping_metric_alternates_every_n_ticks_until_stopped() {
    let sim = start(test_config()).await;
    let ctl = sim.control();
    ctl.flap_node_metric("pve1", FlapMetric::Cpu, 0.1, 0.9, 2).unwrap();
    ctl.flap_node_metric("pve1", FlapMetric::Mem, 0.3, 0.8, 1).unwrap();
    let mut cpus = Vec::new();
    let mut mems = Vec::new();
    for _ in 0..5 {
        let n = find_resource(&sim, |e| e["id"] == "node/pve1").await;
        cpus.push(n["cpu"].as_f64().unwrap());
        mems.push((fraction(&n["mem"], &n["maxmem"]) * 100.0).round() / 100.0);
        ctl.tick();
    }
    assert_eq!(cpus, [0.9, 0.9, 0.1, 0.1, 0.9]);
    assert_eq!(mems, [0.8, 0.3, 0.8, 0.3, 0.8]);
    let status = data(&sim, "/nodes/pve1/status").await;
    assert_eq!(status["cpu"], 0.9, "node status agrees: {status}");
    let other = find_resource(&sim, |e| e["id"] == "node/pve2").await;
    assert!(other["cpu"].as_f64().unwrap() < 0.5, "other nodes move normally");
    assert_eq!(ctl.scenario().flaps.len(), 2);

    ctl.stop_flap("pve1", Some(FlapMetric::Cpu)).unwrap();
    assert_eq!(ctl.scenario().flaps.len(), 1, "only the CPU flap stopped");
    ctl.tick();
    let cpu = find_resource(&sim, |e| e["id"] == "node/pve1").await["cpu"].as_f64().unwrap();
    assert!(cpu != 0.9 && cpu != 0.1, "moves normally again: {cpu}");
    ctl.stop_flap("pve1", None).unwrap();
    assert!(ctl.scenario().flaps.is_empty());
    assert!(ctl.flap_node_metric("pve1", FlapMetric::Cpu, 0.9, 0.1, 2).is_err(), "low > high");
    assert!(ctl.flap_node_metric("pve1", FlapMetric::Cpu, 0.1, 0.9, 0).is_err());
    assert!(ctl.flap_node_metric("nope", FlapMetric::Cpu, 0.1, 0.9, 1).is_err());
    sim.shutdown().await;
}
