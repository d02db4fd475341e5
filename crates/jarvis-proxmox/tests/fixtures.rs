//! Every recorded/mock PVE payload in fixtures/pve must parse with its model, and every
//! field the model knows must come through with the value PVE sent (no silent loss); error
//! fixtures must map to the right `PveError`.

mod common;

use std::collections::BTreeSet;

use jarvis_domain::cluster::{GuestStatus, GuestType, NodeStatus, Quorum};
use jarvis_proxmox::error::error_from_response;
use jarvis_proxmox::{
    ClusterResource, ClusterStatusEntry, GuestCurrent, NodeListEntry, NodeStatusInfo, NodeStorage,
    PveError, ResourceType, TaskListEntry, TaskStatus, Upid, Version, map_cluster,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

#[derive(serde::Deserialize)]
struct Envelope<T> {
    data: T,
}

fn data<T: DeserializeOwned>(json: &str) -> T {
    serde_json::from_str::<Envelope<T>>(json).unwrap_or_else(|e| panic!("does not parse: {e}")).data
}

fn scalar_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        _ => None,
    }
}

/// True when `parsed` carries the same information as `original` (PVE spellings allowed).
fn equivalent(original: &Value, parsed: &Value) -> bool {
    match (original, parsed) {
        (a, b) if a == b => true,
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| equivalent(x, y))
        }
        (Value::Object(_), Value::Object(_)) => true, // checked key by key by the caller
        (Value::String(a), Value::String(b)) => a.trim() == b.trim(),
        (a, b) => match (scalar_f64(a), scalar_f64(b)) {
            (Some(x), Some(y)) => (x - y).abs() <= x.abs() * 1e-12,
            _ => false,
        },
    }
}

/// Walks `original`; every key the model serialised must hold an equivalent value. Returns the
/// number of values compared so a test can see the model actually covered the payload.
fn assert_no_loss(original: &Value, parsed: &Value, at: &str) -> usize {
    match (original, parsed) {
        (Value::Object(o), Value::Object(p)) => {
            let mut checked = 0;
            for (k, ov) in o {
                if let Some(pv) = p.get(k) {
                    assert!(
                        !pv.is_null() || ov.is_null(),
                        "{at}.{k}: PVE sent {ov}, the model lost it"
                    );
                    assert!(equivalent(ov, pv), "{at}.{k}: PVE sent {ov}, the model holds {pv}");
                    checked += 1 + assert_no_loss(ov, pv, &format!("{at}.{k}"));
                }
            }
            checked
        }
        (Value::Array(o), Value::Array(p)) => {
            assert_eq!(o.len(), p.len(), "{at}: list length changed (an entry was dropped)");
            o.iter()
                .zip(p)
                .enumerate()
                .map(|(i, (a, b))| assert_no_loss(a, b, &format!("{at}[{i}]")))
                .sum()
        }
        _ => 0,
    }
}

/// Parses `file` as `T` and checks nothing modelled was lost; returns the parsed value.
fn check<T: DeserializeOwned + Serialize>(file: &str) -> T {
    let raw = common::go(file);
    let original: Value = serde_json::from_str(&raw).unwrap();
    let parsed: T = data(&raw);
    let back = serde_json::to_value(&parsed).unwrap();
    let n = assert_no_loss(&original["data"], &back, file);
    assert!(
        n > 0 || original["data"].is_string() || original["data"].is_null(),
        "{file}: nothing compared"
    );
    parsed
}

#[test]
fn every_indexed_fixture_parses_with_its_model() {
    let index: Vec<Value> = serde_json::from_str(&common::go("INDEX.json")).unwrap();
    let mut seen = BTreeSet::new();
    for entry in &index {
        let file = entry["file"].as_str().unwrap().trim_start_matches("go-proxmox/");
        let status = entry["http_status"].as_u64().unwrap();
        seen.insert(file.to_owned());
        let stem = file.split('.').next().unwrap();
        match stem {
            _ if status >= 400 => {
                let body = common::go(file);
                let err =
                    error_from_response(u16::try_from(status).unwrap(), None, body.as_bytes());
                assert_eq!(err.status(), Some(u16::try_from(status).unwrap()), "{file}");
            }
            "version" | "node_version" => drop(check::<Version>(file)),
            "cluster_status" => drop(check::<Vec<ClusterStatusEntry>>(file)),
            "cluster_resources" => drop(check::<Vec<ClusterResource>>(file)),
            "cluster_tasks" => drop(check::<Vec<TaskListEntry>>(file)),
            "nodes" => drop(check::<Vec<NodeListEntry>>(file)),
            "node_status" => drop(check::<NodeStatusInfo>(file)),
            "node_storage" | "storage" => drop(check::<Vec<NodeStorage>>(file)),
            "lxc_list" => drop(check::<Vec<GuestCurrent>>(file)),
            "qemu_status_current" | "lxc_status_current" => drop(check::<GuestCurrent>(file)),
            "task_status" => drop(check::<TaskStatus>(file)),
            s if s.starts_with("qemu_") && s != "qemu_config" && !s.ends_with("index")
                || s.starts_with("lxc_") =>
            {
                let upid: Upid = data(&common::go(file));
                assert_eq!(upid.node(), "node1", "{file}");
            }
            // Directory indexes, task logs, config and the DELETE answer have no model: the
            // client hands them on as JSON.
            _ => drop(data::<Value>(&common::go(file))),
        }
    }
    // Every JSON file in the directory is covered by the index.
    let on_disk: BTreeSet<String> = std::fs::read_dir(common::fixtures_dir().join("go-proxmox"))
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".json") && n != "INDEX.json")
        .collect();
    assert_eq!(on_disk, seen);
    assert!(seen.len() >= 40, "expected the full fixture set, found {}", seen.len());
}

#[test]
fn cluster_resources_pve7_concrete_values() {
    let list = check::<Vec<ClusterResource>>("cluster_resources.all.pve7.json");
    assert_eq!(list.len(), 20);
    let vm100 = list.iter().find(|r| r.vmid == Some(100)).unwrap();
    assert_eq!(vm100.kind, ResourceType::Qemu);
    assert_eq!(
        (vm100.name.as_deref(), vm100.status.as_deref(), vm100.node.as_deref()),
        (Some("server1"), Some("running"), Some("node2"))
    );
    assert_eq!(
        (vm100.maxmem, vm100.mem, vm100.uptime, vm100.template),
        (Some(1_073_741_824), Some(842_551_296), Some(874_350), Some(false))
    );
    let tpl = list.iter().find(|r| r.vmid == Some(101)).unwrap();
    assert_eq!((tpl.template, tpl.name.as_deref()), (Some(true), Some("leap154")));
    let tagged = list.iter().find(|r| r.vmid == Some(102)).unwrap();
    assert_eq!(tagged.tag_list(), ["go-proxmox+cloud-init"]);
    let nodes: Vec<&ClusterResource> =
        list.iter().filter(|r| r.kind == ResourceType::Node).collect();
    assert_eq!(nodes.len(), 4);
    let n2 = nodes.iter().find(|r| r.node.as_deref() == Some("node2")).unwrap();
    assert_eq!((n2.maxcpu, n2.maxmem, n2.cgroup_mode), (Some(12.0), Some(33_567_911_936), Some(2)));
    let storage: Vec<&ClusterResource> =
        list.iter().filter(|r| r.kind == ResourceType::Storage).collect();
    assert_eq!(storage.len(), 12);
    let zfs1 = storage.iter().find(|r| r.id.as_deref() == Some("storage/node1/local-zfs")).unwrap();
    assert_eq!(
        (zfs1.plugintype.as_deref(), zfs1.shared, zfs1.disk),
        (Some("zfspool"), Some(false), Some(14_446_702_592))
    );
    assert_eq!(zfs1.content_list(), ["images", "rootdir"]);
}

#[test]
fn other_payloads_concrete_values() {
    let st = check::<Vec<ClusterStatusEntry>>("cluster_status.pve7.json");
    assert!(st[0].is_cluster() && st[0].quorate == Some(true) && st[0].nodes == Some(4));
    assert_eq!(st.iter().filter(|e| e.is_node() && e.online == Some(true)).count(), 4);
    let ns = check::<NodeStatusInfo>("node_status.node1.pve7.json");
    assert_eq!(ns.loadavg, [0.0, 0.0, 0.0]);
    let cpu = ns.cpuinfo.as_ref().unwrap();
    assert_eq!(
        (cpu.mhz, cpu.hvm, cpu.cpus, cpu.sockets),
        (Some(3400.0), Some(true), Some(8), Some(1))
    );
    assert_eq!(ns.memory.as_ref().unwrap().total, Some(65_919_459_328));
    assert_eq!(ns.rootfs.as_ref().unwrap().avail, Some(937_851_224_064));
    assert!(ns.extra.contains_key("ksm"));
    let ns9 = check::<NodeStatusInfo>("node_status.node2.pve9.json");
    assert_eq!(ns9.loadavg, [0.25, 0.35, 0.40]);
    let lxc = check::<Vec<GuestCurrent>>("lxc_list.pve7.json");
    assert_eq!(
        lxc.iter().map(|g| g.vmid.unwrap()).collect::<Vec<_>>(),
        [106, 105, 101],
        "string vmids parse"
    );
    let q = check::<GuestCurrent>("qemu_status_current.101.pve7.json");
    assert_eq!(
        (q.guest_status(), q.agent, q.pid),
        (GuestStatus::Running, Some(true), Some(1_563_102))
    );
    assert_eq!(q.ha.as_ref().unwrap().managed, Some(false));
    assert!(q.extra.contains_key("blockstat") && q.extra.contains_key("proxmox-support"));
    let ct = check::<GuestCurrent>("lxc_status_current.101.pve7.json");
    assert_eq!(
        (ct.template, ct.tag_list()),
        (Some(true), vec!["tag1".to_owned(), "tag2".to_owned()])
    );
    let nodes = check::<Vec<NodeListEntry>>("nodes.pve8.json");
    let fp = nodes[0].ssl_fingerprint.as_deref().unwrap();
    assert_eq!(
        jarvis_proxmox::parse_fingerprint(fp).unwrap()[0],
        0x80,
        "PVE's own fingerprints parse as pins"
    );
    let stor = check::<Vec<NodeStorage>>("node_storage.pve9.json");
    assert_eq!(
        (stor[1].kind.as_deref(), stor[1].avail, stor[1].active),
        (Some("lvmthin"), Some(100_000_000_000), Some(true))
    );
    let failed = check::<TaskStatus>("task_status.failed.pve9.json");
    assert_eq!(
        (failed.succeeded(), failed.exitstatus.as_deref()),
        (Some(false), Some("some error occurred"))
    );
    assert_eq!(check::<TaskStatus>("task_status.completed.pve9.json").succeeded(), Some(true));
    assert_eq!(check::<TaskStatus>("task_status.running.pve9.json").succeeded(), None);
    let tasks = check::<Vec<TaskListEntry>>("cluster_tasks.pve9.json");
    assert_eq!((tasks[0].succeeded(), tasks[1].is_running()), (Some(true), true));
    let v = check::<Version>("version.pve8.json");
    assert_eq!((v.release.as_deref(), v.version.as_deref()), (Some("8.4"), Some("8.4-1")));
    let upid: Upid = data(&common::go("lxc_shutdown.pve8.json"));
    assert_eq!((upid.kind(), upid.id(), upid.user()), ("vzshutdown", "101", "root@pam"));
}

#[test]
fn read_cluster_mapping_on_pve7_fixtures() {
    let resources: Vec<ClusterResource> = data(&common::go("cluster_resources.all.pve7.json"));
    let status: Vec<ClusterStatusEntry> = data(&common::go("cluster_status.pve7.json"));
    let v = map_cluster(&resources, Some(&status));
    let nodes: Vec<(&str, Option<&str>, NodeStatus)> =
        v.nodes.iter().map(|n| (n.name.as_str(), n.ip.as_deref(), n.status)).collect();
    assert_eq!(
        nodes,
        [
            ("node1", Some("192.168.1.1"), NodeStatus::Online),
            ("node2", Some("192.168.1.2"), NodeStatus::Online),
            ("node3", Some("192.168.1.3"), NodeStatus::Online),
            ("node4", Some("192.168.1.4"), NodeStatus::Online),
        ]
    );
    assert_eq!(v.nodes[1].maxcpu, 12);
    assert_eq!(
        v.quorum,
        Quorum { quorate: true, nodes: 4, expected: 4, cluster_name: Some("clustername".into()) }
    );
    assert_eq!(v.vms.iter().map(|g| g.vmid).collect::<Vec<_>>(), [100, 101, 102, 200]);
    let vm = &v.vms[0];
    assert_eq!(
        (vm.name.as_str(), vm.node.as_str(), vm.status, vm.kind, vm.maxmem, vm.template),
        ("server1", "node2", GuestStatus::Running, GuestType::Qemu, 1_073_741_824, false)
    );
    assert!(v.vms[1].template && v.vms[1].status == GuestStatus::Stopped);
    assert_eq!(v.vms[3].name, "VM 200");
    assert_eq!(v.storage.len(), 12);
    let first = &v.storage[0];
    assert_eq!(
        (first.storage.as_str(), first.node.as_str(), first.kind.as_str()),
        ("cloud-init", "node1", "dir")
    );
    let zfs2 = v.storage.iter().find(|s| s.storage == "local-zfs" && s.node == "node2").unwrap();
    assert_eq!(
        (zfs2.total, zfs2.used, zfs2.avail),
        (962_664_386_560, 25_294_921_728, 962_664_386_560 - 25_294_921_728)
    );
    assert_eq!((zfs2.status.as_str(), zfs2.shared), ("available", false));
    assert_eq!(
        v.storage.iter().find(|s| s.storage == "local").unwrap().content,
        ["backup", "vztmpl", "iso"]
    );

    // Without /cluster/status: same resources, no IPs, quorum estimated from node states.
    let v = map_cluster(&resources, None);
    assert!(v.nodes.iter().all(|n| n.ip.is_none()));
    assert_eq!(v.quorum, Quorum { quorate: true, nodes: 4, expected: 4, cluster_name: None });
}

#[test]
fn go_proxmox_error_fixtures_map_to_variants() {
    let e =
        error_from_response(400, None, common::go("error.400.cluster_nextid.pve7.json").as_bytes());
    assert_eq!(e, PveError::Api { status: 400, message: "vmid: VM 200 already exists".into() });
    for f in ["error.500.node_doesntexist.pve9.json", "error.500.sdn_missing.pve9.json"] {
        let e = error_from_response(500, None, common::go(f).as_bytes());
        assert_eq!(
            e,
            PveError::Api { status: 500, message: "Internal Server Error".into() },
            "{f}"
        );
    }
}

/// The body of an errors.observed.json case as PVE would send it.
pub fn observed_body(case: &Value) -> String {
    if let Some(t) = case["body_text"].as_str() {
        return t.to_owned();
    }
    for key in ["body", "body_per_formatter"] {
        match &case[key] {
            Value::Null => {}
            Value::String(s) => return s.clone(),
            other => return other.to_string(),
        }
    }
    String::new()
}

#[test]
fn observed_error_cases_map_to_variants_with_the_pve_text() {
    let doc: Value = serde_json::from_str(&common::fixture("errors.observed.json")).unwrap();
    let cases = doc["cases"].as_array().unwrap();
    assert!(cases.len() >= 10);
    for case in cases {
        let id = case["id"].as_str().unwrap();
        let status = u16::try_from(case["http_status"].as_u64().unwrap()).unwrap();
        let reason = case["reason"].as_str();
        let err = error_from_response(status, reason, observed_body(case).as_bytes());
        match status {
            401 => assert!(matches!(err, PveError::Unauthorized(_)), "{id}: {err:?}"),
            403 => assert!(matches!(err, PveError::Forbidden(_)), "{id}: {err:?}"),
            s => {
                assert!(matches!(err, PveError::Api { status, .. } if status == s), "{id}: {err:?}")
            }
        }
        if let Some(r) = reason {
            assert!(err.to_string().contains(r), "{id}: reason {r:?} missing from {err}");
        }
        let text = err.to_string();
        assert!(!text.contains('\n'), "{id}: trailing newline kept: {text:?}");
    }
    let by_id = |id: &str| cases.iter().find(|c| c["id"] == id).unwrap();
    let c = by_id("500_guest_agent_not_running");
    assert_eq!(
        error_from_response(500, None, observed_body(c).as_bytes()),
        PveError::Api { status: 500, message: "QEMU guest agent is not running".into() }
    );
    let c = by_id("400_type_check");
    assert_eq!(
        error_from_response(400, None, observed_body(c).as_bytes()),
        PveError::Api {
            status: 400,
            message: "command: type check ('string') failed - got ARRAY".into()
        }
    );
    let c = by_id("500_storage_missing_plain");
    assert!(
        error_from_response(500, None, observed_body(c).as_bytes())
            .to_string()
            .contains("storage 'missing' does not exist")
    );
    let c = by_id("500_download_url_invalid");
    assert!(
        error_from_response(500, None, observed_body(c).as_bytes())
            .to_string()
            .contains("certificate verify failed")
    );
}
