//! The simulated cluster behaves like PVE: tasks take effect when they finish, templates do not
//! start, metrics move, quorum follows nodes, errors look like PVE's.

use std::time::Duration;

use jarvis_domain::{GuestStatus, NodeStatus};
use jarvis_sim::SimConfig;
use serde_json::Value;

use crate::common::*;

#[tokio::test]
async fn starting_a_stopped_guest_runs_a_task_then_the_guest_runs() {
    let sim = start(test_config()).await;
    let vm = find_resource(&sim, |e| {
        e["type"] == "qemu" && e["status"] == "stopped" && e["template"] == 0
    })
    .await;
    let (node, vmid) = (vm["node"].as_str().unwrap().to_string(), vm["vmid"].as_u64().unwrap());
    let (status, body) = post(&sim, &format!("/nodes/{node}/qemu/{vmid}/status/start"), &[]).await;
    assert_eq!(status, 200, "{body}");
    let upid = body["data"].as_str().unwrap().to_string();
    assert_upid(&upid, &node, "qmstart", &vmid.to_string());

    // The effect lands with the task, not with the request.
    let st = data(&sim, &format!("/nodes/{node}/tasks/{upid}/status")).await;
    assert_eq!(st["status"], "running");
    let still = find_resource(&sim, |e| e["vmid"] == vmid).await;
    assert_eq!(still["status"], "stopped");

    let done = wait_task(&sim, &node, &upid).await;
    assert_eq!(done["exitstatus"], "OK");
    assert_eq!(done["user"], "root@pam", "token tasks are owned by the user…");
    assert_eq!(done["tokenid"], "jarvis", "…with the token split off, as PVE does");
    let now = find_resource(&sim, |e| e["vmid"] == vmid).await;
    assert_eq!(now["status"], "running");
    let cur = data(&sim, &format!("/nodes/{node}/qemu/{vmid}/status/current")).await;
    assert_eq!(
        (cur["status"].clone(), cur["qmpstatus"].clone()),
        ("running".into(), "running".into())
    );
    assert!(cur["pid"].as_u64().unwrap() > 0);
    let log = data(&sim, &format!("/nodes/{node}/tasks/{upid}/log")).await;
    assert_eq!(log.as_array().unwrap().last().unwrap()["t"], "TASK OK");

    // Starting it again: the request succeeds, the task fails, like PVE's worker.
    let (_, body) = post(&sim, &format!("/nodes/{node}/qemu/{vmid}/status/start"), &[]).await;
    let again = wait_task(&sim, &node, body["data"].as_str().unwrap()).await;
    assert_eq!(again["exitstatus"], format!("VM {vmid} already running"));

    // Shut it down again.
    let (_, body) =
        post(&sim, &format!("/nodes/{node}/qemu/{vmid}/status/shutdown"), &[("timeout", "30")])
            .await;
    let upid = body["data"].as_str().unwrap().to_string();
    assert_upid(&upid, &node, "qmshutdown", &vmid.to_string());
    wait_task(&sim, &node, &upid).await;
    let snap = sim.control().snapshot();
    assert_eq!(snap.vm(vmid as u32).unwrap().status, GuestStatus::Stopped);
    sim.shutdown().await;
}

#[tokio::test]
async fn templates_cannot_start_and_running_containers_refuse_start() {
    let sim = start(test_config()).await;
    let tpl = find_resource(&sim, |e| e["template"] == 1).await;
    let (node, vmid) = (tpl["node"].as_str().unwrap().to_string(), tpl["vmid"].as_u64().unwrap());
    let (status, body) = post(&sim, &format!("/nodes/{node}/qemu/{vmid}/status/start"), &[]).await;
    assert_eq!(status, 200);
    let done = wait_task(&sim, &node, body["data"].as_str().unwrap()).await;
    assert_eq!(done["exitstatus"], "you can't start a vm if it's a template");
    assert_eq!(find_resource(&sim, |e| e["vmid"] == vmid).await["status"], "stopped");

    let ct = find_resource(&sim, |e| e["type"] == "lxc" && e["status"] == "running").await;
    let (node, vmid) = (ct["node"].as_str().unwrap().to_string(), ct["vmid"].as_u64().unwrap());
    let (status, body) = post(&sim, &format!("/nodes/{node}/lxc/{vmid}/status/start"), &[]).await;
    assert_eq!(status, 500);
    assert_eq!(body["message"], format!("CT {vmid} already running\n"));
    assert_eq!(body["data"], Value::Null);
    sim.shutdown().await;
}

#[tokio::test]
async fn metrics_move_on_tick_deterministically() {
    let a = start(test_config()).await;
    let b = start(test_config()).await;
    let pick = |v: &Value| -> Vec<(u64, f64, u64, u64)> {
        v.as_array()
            .unwrap()
            .iter()
            .filter(|e| e["status"] == "running")
            .map(|e| {
                (
                    e["vmid"].as_u64().unwrap(),
                    e["cpu"].as_f64().unwrap(),
                    e["mem"].as_u64().unwrap(),
                    e["netin"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    let before = pick(&data(&a, "/cluster/resources?type=vm").await);
    assert_eq!(before, pick(&data(&a, "/cluster/resources?type=vm").await), "no tick, no movement");
    for _ in 0..3 {
        a.control().tick();
        b.control().tick();
    }
    let after_a = pick(&data(&a, "/cluster/resources?type=vm").await);
    let after_b = pick(&data(&b, "/cluster/resources?type=vm").await);
    assert_ne!(before, after_a, "metrics moved");
    assert_eq!(after_a, after_b, "same seed and ticks give the same numbers");
    for (x, y) in before.iter().zip(after_a.iter()) {
        assert!(y.3 > x.3, "netin only grows");
        assert!((0.0..=1.0).contains(&y.1));
    }
    let up_before = data(&a, "/nodes/pve1/status").await["uptime"].as_u64().unwrap();
    a.control().tick();
    let up_after = data(&a, "/nodes/pve1/status").await["uptime"].as_u64().unwrap();
    assert_eq!(up_after, up_before + 2, "uptime grows by the simulated tick");
    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test]
async fn the_background_ticker_moves_metrics_on_its_own() {
    let sim = start(SimConfig { tick: Duration::from_millis(50), ..test_config() }).await;
    let t0 = sim.control().ticks();
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(sim.control().ticks() > t0);
    sim.shutdown().await;
}

#[tokio::test]
async fn offline_nodes_change_quorum_and_answer_595() {
    let sim = start(SimConfig { offline_stale_after: Duration::ZERO, ..test_config() }).await;
    let ctl = sim.control();
    ctl.set_node_online("pve2", false).unwrap();
    let st = data(&sim, "/cluster/status").await;
    let cluster = st.as_array().unwrap().iter().find(|e| e["type"] == "cluster").unwrap().clone();
    assert_eq!(cluster["quorate"], 1, "3 of 4 online is quorate");
    let pve2 = st.as_array().unwrap().iter().find(|e| e["name"] == "pve2").unwrap().clone();
    assert_eq!(pve2["online"], 0);

    let (status, body) = get(&sim, "/nodes/pve2/status").await;
    assert_eq!((status, body), (595, Value::Null), "proxy error with an empty body");
    let (status_line, _, _) = raw_http(
        &sim.base_url(),
        &raw_get(
            "/api2/json/nodes/pve2/status",
            &format!("Authorization: {}\r\n", sim.auth_header()),
        ),
    )
    .await;
    assert_eq!(status_line, "HTTP/1.1 595 No route to host");

    let node = find_resource(&sim, |e| e["id"] == "node/pve2").await;
    assert_eq!(node["status"], "offline");
    assert!(node.get("cpu").is_none(), "offline nodes report no live metrics");
    let guest =
        find_resource(&sim, |e| e["node"] == "pve2" && (e["type"] == "qemu" || e["type"] == "lxc"))
            .await;
    assert_eq!(guest["status"], "unknown", "stale guests are unknown");

    ctl.set_node_online("pve3", false).unwrap();
    let snap = ctl.snapshot();
    assert!(!snap.quorum.quorate, "2 of 4 is no majority");
    assert_eq!((snap.quorum.nodes, snap.quorum.expected), (2, 4));
    assert_eq!(snap.node("pve3").unwrap().status, NodeStatus::Offline);
    let st = data(&sim, "/cluster/status").await;
    assert_eq!(st[0]["quorate"], 0);

    ctl.set_node_online("pve2", true).unwrap();
    ctl.set_node_online("pve3", true).unwrap();
    assert!(ctl.snapshot().quorum.quorate);
    assert_eq!(get(&sim, "/nodes/pve2/status").await.0, 200);
    assert!(ctl.set_node_online("nope", false).is_err());
    sim.shutdown().await;
}

#[tokio::test]
async fn recently_offline_guests_keep_their_last_state() {
    let sim = start(test_config()).await;
    sim.control().set_node_online("pve1", false).unwrap();
    let guest = find_resource(&sim, |e| e["node"] == "pve1" && e["type"] == "qemu").await;
    assert_ne!(guest["status"], "unknown", "within pmxcfs' 5 minutes the last data stays");
    assert!(guest.get("name").is_some());
    let node = find_resource(&sim, |e| e["id"] == "node/pve1").await;
    assert!(node.get("maxmem").is_some() && node.get("mem").is_none());
    sim.shutdown().await;
}

#[tokio::test]
async fn errors_look_like_pve() {
    let sim = start(test_config()).await;
    let (status, body) = get(&sim, "/nodes/pve9/status").await;
    assert_eq!(status, 500);
    assert!(body["message"].as_str().unwrap().starts_with("hostname lookup 'pve9' failed"));

    let (status, body) = get(&sim, "/nodes/pve1/qemu/999/status/current").await;
    assert_eq!(status, 500);
    assert_eq!(
        body["message"],
        "Configuration file 'nodes/pve1/qemu-server/999.conf' does not exist\n"
    );

    let (status, body) = get(&sim, "/nodes/pve1/qemu/x1/status/current").await;
    assert_eq!(status, 400);
    assert_eq!(body["errors"]["vmid"], "type check ('integer') failed - got 'x1'");
    assert_eq!(body["message"], "Parameter verification failed.\n");

    let (status, body) = get(&sim, "/foo").await;
    assert_eq!(status, 501);
    assert_eq!(body["message"], "Method 'GET /foo' not implemented");

    let (status, body) = post(&sim, "/nodes/pve1/qemu/100/status/start", &[("bogus", "1")]).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["errors"]["bogus"].is_string());

    // A broken JSON body and a broken escape are 400s, never a crash.
    let res = client()
        .post(format!("{}/api2/json/nodes/pve1/qemu/100/status/start", sim.base_url()))
        .header("Authorization", sim.auth_header())
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let (status_line, _, body) = raw_http(
        &sim.base_url(),
        &raw_get(
            "/api2/json/nodes/pve%zz/status",
            &format!("Authorization: {}\r\n", sim.auth_header()),
        ),
    )
    .await;
    assert!(status_line.starts_with("HTTP/1.1 400"), "{status_line} {body}");

    // The reason phrase carries the message.
    let (status_line, headers, _) = raw_http(
        &sim.base_url(),
        &raw_get(
            "/api2/json/nodes/pve1/qemu/999/config",
            &format!("Authorization: {}\r\n", sim.auth_header()),
        ),
    )
    .await;
    assert_eq!(
        status_line,
        "HTTP/1.1 500 Configuration file 'nodes/pve1/qemu-server/999.conf' does not exist"
    );
    assert!(headers.to_ascii_lowercase().contains("server: pve-api-daemon/3.0"));
    sim.shutdown().await;
}

#[tokio::test]
async fn direct_guest_control_and_locks() {
    let sim = start(test_config()).await;
    let ctl = sim.control();
    let vm = find_resource(&sim, |e| {
        e["type"] == "qemu" && e["status"] == "running" && e.get("hastate").is_none()
    })
    .await;
    let (node, vmid) =
        (vm["node"].as_str().unwrap().to_string(), vm["vmid"].as_u64().unwrap() as u32);
    ctl.set_guest_status(vmid, false).unwrap();
    let e = find_resource(&sim, |e| e["vmid"] == vmid).await;
    assert_eq!(
        (e["status"].clone(), e["cpu"].clone(), e["mem"].clone(), e["uptime"].clone()),
        ("stopped".into(), 0.into(), 0.into(), 0.into())
    );
    ctl.set_guest_lock(vmid, Some("backup")).unwrap();
    assert_eq!(find_resource(&sim, |e| e["vmid"] == vmid).await["lock"], "backup");
    let (_, body) = post(&sim, &format!("/nodes/{node}/qemu/{vmid}/status/start"), &[]).await;
    let done = wait_task(&sim, &node, body["data"].as_str().unwrap()).await;
    assert_eq!(done["exitstatus"], "VM is locked (backup)");
    ctl.set_guest_lock(vmid, None).unwrap();
    ctl.set_guest_status(vmid, true).unwrap();
    assert_eq!(find_resource(&sim, |e| e["vmid"] == vmid).await["status"], "running");
    assert!(ctl.set_guest_status(4242, true).is_err());
    sim.shutdown().await;
}

#[tokio::test]
async fn storage_content_lists_backups_disks_and_isos() {
    let sim = start(test_config()).await;
    let backups = data(&sim, "/nodes/pve1/storage/nfs-backup/content?content=backup").await;
    let backups = backups.as_array().unwrap();
    assert!(!backups.is_empty());
    for b in backups {
        assert_eq!(b["content"], "backup");
        assert!(b["volid"].as_str().unwrap().starts_with("nfs-backup:backup/vzdump-"), "{b}");
        assert!(b["size"].as_u64().unwrap() > 0 && b["ctime"].as_i64().unwrap() > 0);
    }
    let one = data(&sim, "/nodes/pve1/storage/nfs-backup/content?content=backup&vmid=100").await;
    assert!(one.as_array().unwrap().iter().all(|b| b["vmid"] == 100));
    assert!(!one.as_array().unwrap().is_empty());
    let disks = data(&sim, "/nodes/pve1/storage/local-lvm/content").await;
    assert!(
        disks
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["volid"].as_str().unwrap().starts_with("local-lvm:vm-"))
    );
    let (status, body) = get(&sim, "/nodes/pve1/storage/nope/content").await;
    assert_eq!(status, 500, "{body}");
}
