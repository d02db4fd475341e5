//! Every answer has the shape of the recorded real PVE answer for the same endpoint.

use serde_json::Value;

use crate::common::*;

fn of_type<'a>(list: &'a Value, ty: &str) -> Vec<&'a Value> {
    list.as_array().unwrap().iter().filter(|e| e["type"] == ty).collect()
}

#[tokio::test]
async fn cluster_resources_match_the_recorded_pve7_entries() {
    for tls in [false, true] {
        let sim = start(SimConfig { tls, ..test_config() }).await;
        let fix = fixture("cluster_resources.all.pve7.json");
        let all = data(&sim, "/cluster/resources").await;
        for ty in ["qemu", "node", "storage"] {
            assert_entries_shape(
                &of_type(&all, ty),
                &of_type(&fix, ty),
                &format!("resources[{ty}]"),
            );
        }
        // The capture has no containers; PVE reports them with the same fields as VMs.
        let lxc = of_type(&all, "lxc");
        let qemu_fix = of_type(&fix, "qemu");
        assert_entries_shape(&lxc, &qemu_fix, "resources[lxc]");
        for e in all.as_array().unwrap() {
            let id = e["id"].as_str().unwrap();
            match e["type"].as_str().unwrap() {
                "qemu" | "lxc" => {
                    assert_eq!(id, format!("{}/{}", e["type"].as_str().unwrap(), e["vmid"]))
                }
                "node" => assert_eq!(id, format!("node/{}", e["node"].as_str().unwrap())),
                "storage" => assert_eq!(
                    id,
                    format!(
                        "storage/{}/{}",
                        e["node"].as_str().unwrap(),
                        e["storage"].as_str().unwrap()
                    )
                ),
                _ => {}
            }
        }
        // Booleans are 0/1 integers, like PVE's.
        for e in of_type(&all, "qemu").iter().chain(of_type(&all, "storage").iter()) {
            for k in ["template", "shared"] {
                if let Some(v) = e.get(k) {
                    assert!(v == 0 || v == 1, "{k} must be 0/1, got {v}");
                }
            }
        }
        // Type filters.
        let vms = data(&sim, "/cluster/resources?type=vm").await;
        assert!(vms.as_array().unwrap().iter().all(|e| e["type"] == "qemu" || e["type"] == "lxc"));
        assert_eq!(vms.as_array().unwrap().len(), 12);
        let nodes = data(&sim, "/cluster/resources?type=node").await;
        assert_eq!(nodes.as_array().unwrap().len(), 4);
        sim.shutdown().await;
    }
}

#[tokio::test]
async fn cluster_status_and_nodes_match_recordings() {
    let sim = start(test_config()).await;
    let st = data(&sim, "/cluster/status").await;
    let fix = fixture("cluster_status.pve7.json");
    for ty in ["cluster", "node"] {
        assert_entries_shape(
            &of_type(&st, ty),
            &of_type(&fix, ty),
            &format!("cluster/status[{ty}]"),
        );
    }
    let nodes = of_type(&st, "node");
    let ips: Vec<&str> = nodes.iter().map(|n| n["ip"].as_str().unwrap()).collect();
    assert_eq!(ips, ["127.0.1.1", "127.0.1.2", "127.0.1.3", "127.0.1.4"]);
    assert_eq!(nodes.iter().filter(|n| n["local"] == 1).count(), 1);
    let cluster = &of_type(&st, "cluster")[0];
    assert_eq!((cluster["quorate"].clone(), cluster["nodes"].clone()), (1.into(), 4.into()));

    let list = data(&sim, "/nodes").await;
    let fix = fixture("nodes.pve8.json");
    let entries: Vec<&Value> = list.as_array().unwrap().iter().collect();
    let fix_entries: Vec<&Value> = fix.as_array().unwrap().iter().collect();
    // Without TLS there is no certificate, hence no ssl_fingerprint; the TLS test covers it.
    let fix_no_fp: Vec<Value> = fix_entries
        .iter()
        .map(|e| {
            let mut e = (*e).clone();
            e.as_object_mut().unwrap().remove("ssl_fingerprint");
            e
        })
        .collect();
    assert_entries_shape(&entries, &fix_no_fp.iter().collect::<Vec<_>>(), "nodes");
    sim.shutdown().await;
}

#[tokio::test]
async fn node_status_storage_and_version_match_recordings() {
    let sim = start(test_config()).await;
    let st = data(&sim, "/nodes/pve1/status").await;
    assert_shape(&st, &fixture("node_status.node1.pve7.json"), "node status", &[]);
    assert_shape(&st, &fixture("node_status.node1.pve9.json"), "node status", &[]);
    for k in ["boot-info", "current-kernel"] {
        assert!(st.get(k).is_some(), "node status lacks {k}");
    }
    assert!(st["loadavg"].as_array().unwrap().iter().all(Value::is_string), "loadavg are strings");
    assert!(st["cpuinfo"]["mhz"].is_string(), "cpuinfo.mhz is a string");

    let storage = data(&sim, "/nodes/pve1/storage").await;
    let fix = fixture("node_storage.pve9.json");
    assert_entries_shape(
        &storage.as_array().unwrap().iter().collect::<Vec<_>>(),
        &fix.as_array().unwrap().iter().collect::<Vec<_>>(),
        "node storage",
    );
    let images = data(&sim, "/nodes/pve1/storage?content=images").await;
    assert!(
        images
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["content"].as_str().unwrap().contains("images"))
    );

    assert_shape(&data(&sim, "/version").await, &fixture("version.pve8.json"), "version", &[]);
    assert_shape(
        &data(&sim, "/nodes/pve2/version").await,
        &fixture("node_version.pve8.json"),
        "node version",
        &[],
    );
    let storage_cfg = data(&sim, "/storage").await;
    assert_shape(&storage_cfg, &fixture("storage.pve7.json"), "storage config", &[]);

    let rrd = data(&sim, "/nodes/pve1/rrddata?timeframe=hour&cf=AVERAGE").await;
    let points = rrd.as_array().unwrap();
    assert_eq!(points.len(), 70);
    let keys = [
        "time",
        "cpu",
        "maxcpu",
        "memused",
        "memtotal",
        "loadavg",
        "netin",
        "netout",
        "rootused",
        "roottotal",
        "iowait",
    ];
    for k in keys {
        assert!(points[0].get(k).is_some(), "rrddata point lacks {k}");
    }
    let steps: Vec<i64> = points
        .windows(2)
        .map(|w| w[1]["time"].as_i64().unwrap() - w[0]["time"].as_i64().unwrap())
        .collect();
    assert!(steps.iter().all(|s| *s == 60), "hour timeframe is one point a minute");
    assert!(points.iter().take(69).all(|p| (0.0..=1.0).contains(&p["cpu"].as_f64().unwrap())));
    sim.shutdown().await;
}

#[tokio::test]
async fn guest_status_lists_and_config_match_recordings() {
    let sim = start(test_config()).await;
    let vm = find_resource(&sim, |e| {
        e["type"] == "qemu" && e["status"] == "running" && e["vmid"] == 100
    })
    .await;
    let node = vm["node"].as_str().unwrap().to_string();
    let cur = data(&sim, &format!("/nodes/{node}/qemu/100/status/current")).await;
    assert_shape(&cur, &fixture("qemu_status_current.101.pve7.json"), "qemu current", &[]);
    assert_shape(&cur, &fixture("qemu_status_current.102.pve9.json"), "qemu current", &[]);
    assert_eq!(cur["qmpstatus"], "running");

    let ct = find_resource(&sim, |e| e["type"] == "lxc" && e["status"] == "running").await;
    let (ct_node, ct_id) = (ct["node"].as_str().unwrap().to_string(), ct["vmid"].clone());
    let cur = data(&sim, &format!("/nodes/{ct_node}/lxc/{ct_id}/status/current")).await;
    // `template` is only sent for templates (PVE's vmstatus), and this container is none.
    assert_shape(&cur, &fixture("lxc_status_current.101.pve7.json"), "lxc current", &["template"]);
    assert_eq!(cur["vmid"], ct_id, "status/current gives vmid as a number");

    let list = data(&sim, &format!("/nodes/{ct_node}/lxc")).await;
    let fix = fixture("lxc_list.pve7.json");
    let running: Vec<&Value> =
        list.as_array().unwrap().iter().filter(|e| e["status"] == "running").collect();
    let fix_running: Vec<&Value> =
        fix.as_array().unwrap().iter().filter(|e| e["status"] == "running").collect();
    assert_entries_shape(&running, &fix_running, "lxc list");
    assert!(running[0]["vmid"].is_string(), "container lists carry vmid as a string, as recorded");

    let qlist = data(&sim, &format!("/nodes/{node}/qemu")).await;
    for e in qlist.as_array().unwrap() {
        for k in ["vmid", "status", "name", "cpus", "maxmem", "maxdisk", "uptime"] {
            assert!(e.get(k).is_some(), "qemu list entry lacks {k}: {e}");
        }
        assert!(e["vmid"].is_number());
    }

    let cfg = data(&sim, &format!("/nodes/{node}/qemu/100/config")).await;
    assert_shape(&cfg, &fixture("qemu_config.100.pve8.json"), "qemu config", &["vmid", "memory"]);
    assert!(cfg["memory"].is_string(), "memory is a property string since PVE 8.1");
    sim.shutdown().await;
}

#[tokio::test]
async fn tasks_and_start_responses_match_recordings() {
    let sim = start(test_config()).await;
    let vm = find_resource(&sim, |e| {
        e["type"] == "qemu" && e["status"] == "stopped" && e["template"] == 0
    })
    .await;
    let (node, vmid) = (vm["node"].as_str().unwrap().to_string(), vm["vmid"].as_u64().unwrap());
    let (status, body) = post(&sim, &format!("/nodes/{node}/qemu/{vmid}/status/start"), &[]).await;
    assert_eq!(status, 200, "{body}");
    assert_shape(&body["data"], &fixture("qemu_start.pve8.json"), "start", &[]);
    let upid = body["data"].as_str().unwrap().to_string();
    assert_upid(&upid, &node, "qmstart", &vmid.to_string());
    // The same layout check accepts the recorded UPIDs.
    for f in ["qemu_start.pve8.json", "lxc_start.pve8.json", "qemu_shutdown.pve8.json"] {
        assert_upid_layout(fixture(f).as_str().unwrap());
    }

    let running = data(&sim, &format!("/nodes/{node}/tasks/{upid}/status")).await;
    assert_eq!(running["status"], "running");
    assert_shape(&running, &fixture("task_status.running.pve9.json"), "task running", &[]);
    let log = data(&sim, &format!("/nodes/{node}/tasks/{upid}/log")).await;
    assert_shape(&log, &fixture("task_log.running.pve9.json"), "task log", &[]);

    let done = wait_task(&sim, &node, &upid).await;
    assert_shape(&done, &fixture("task_status.completed.pve9.json"), "task done", &[]);
    assert_eq!(done["exitstatus"], "OK");

    let tasks = data(&sim, "/cluster/tasks").await;
    let fix = fixture("cluster_tasks.pve9.json");
    let finished: Vec<&Value> =
        tasks.as_array().unwrap().iter().filter(|t| t.get("endtime").is_some()).collect();
    assert_entries_shape(&finished, &[&fix[0]], "cluster tasks");
    let (status, body) = get(&sim, &format!("/nodes/{node}/tasks?limit=5")).await;
    assert_eq!(status, 200);
    assert!(body["total"].as_u64().unwrap() >= 1, "task lists carry a total");
    assert!(body["data"].as_array().unwrap().len() <= 5);
    sim.shutdown().await;
}

use jarvis_sim::SimConfig;
