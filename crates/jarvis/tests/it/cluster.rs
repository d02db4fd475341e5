//! `GET /api/cluster` against the simulated cluster: shape, live movement, guest lifecycle seen
//! through the poller, staleness when PVE fails, recovery, and a node going offline.

use std::time::Duration;

use serde_json::Value;

use crate::harness::TestServer;

fn vms(c: &Value) -> &Vec<Value> {
    c["vms"].as_array().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn snapshot_has_nodes_vms_containers_storage_and_quorum() {
    let s = TestServer::start().await;
    let token = s.login().await;
    let c = s.wait_cluster(&token, 10, |c| c["updatedAt"].is_string()).await;
    let nodes = c["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 4, "{c}");
    for n in nodes {
        assert_eq!(n["status"], "online");
        assert!(n["ip"].as_str().is_some_and(|ip| ip.starts_with("127.")), "discovered ip: {n}");
        assert!(n["maxmem"].as_u64().unwrap() > n["mem"].as_u64().unwrap());
        let cpu = n["cpu"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&cpu));
    }
    let kinds: Vec<&str> = vms(&c).iter().map(|v| v["type"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"qemu") && kinds.contains(&"lxc"), "{kinds:?}");
    let running = vms(&c).iter().filter(|v| v["status"] == "running").count();
    assert!(running >= 3, "several guests run: {running}");
    assert!(vms(&c).windows(2).all(|w| w[0]["vmid"].as_u64() < w[1]["vmid"].as_u64()), "sorted");
    assert!(!c["storage"].as_array().unwrap().is_empty());
    assert_eq!(c["quorum"]["quorate"], true);
    assert_eq!(c["quorum"]["expected"], 4);
    assert_eq!(c["freshness"]["stale"], false);
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_move_between_polls() {
    let s = TestServer::start().await;
    let token = s.login().await;
    let first = s.wait_cluster(&token, 10, |c| c["updatedAt"].is_string()).await;
    let cpus = |c: &Value| -> Vec<f64> {
        c["nodes"].as_array().unwrap().iter().map(|n| n["cpu"].as_f64().unwrap()).collect()
    };
    let before = cpus(&first);
    s.wait_cluster(&token, 15, |c| cpus(c) != before).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_guest_started_in_pve_shows_up_as_running() {
    let s = TestServer::start().await;
    let token = s.login().await;
    let c = s.wait_cluster(&token, 10, |c| c["updatedAt"].is_string()).await;
    let stopped = vms(&c)
        .iter()
        .find(|v| v["status"] == "stopped" && v["template"] == false)
        .expect("the default cluster has a stopped guest")
        .clone();
    let vmid = stopped["vmid"].as_u64().unwrap();
    // Start it through the PVE API itself, as an operator would in the PVE web UI.
    let sim_http =
        reqwest::Client::builder().tls_danger_accept_invalid_certs(true).build().unwrap();
    let cfg = jarvis_sim::SimConfig::default();
    let url = format!(
        "{}/api2/json/nodes/{}/{}/{}/status/start",
        s.sim().base_url(),
        stopped["node"].as_str().unwrap(),
        stopped["type"].as_str().unwrap(),
        vmid
    );
    let r = sim_http
        .post(url)
        .header("authorization", format!("PVEAPIToken={}={}", cfg.token_id, cfg.token_secret))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    s.wait_cluster(&token, 15, |c| {
        vms(c).iter().any(|v| v["vmid"].as_u64() == Some(vmid) && v["status"] == "running")
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn failing_pve_marks_data_stale_without_blanking_and_recovers() {
    let s = TestServer::start().await;
    let token = s.login().await;
    let good = s.wait_cluster(&token, 10, |c| c["updatedAt"].is_string()).await;
    s.sim().control().set_error_rate(1.0);
    let stale = s.wait_cluster(&token, 15, |c| c["freshness"]["stale"] == true).await;
    assert_eq!(stale["nodes"].as_array().unwrap().len(), good["nodes"].as_array().unwrap().len());
    assert!(stale["freshness"]["error"].as_str().is_some_and(|e| !e.is_empty()), "{stale}");
    let h: Value = s.http.get(s.url("/api/health")).send().await.unwrap().json().await.unwrap();
    assert_eq!(h["components"]["proxmox"]["status"], "degraded", "{h}");
    assert_eq!(h["status"], "degraded");

    s.sim().control().set_error_rate(0.0);
    s.wait_cluster(&token, 15, |c| c["freshness"]["stale"] == false).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_offline_node_is_shown_offline_and_quorum_follows() {
    let s = TestServer::start().await;
    let token = s.login().await;
    let c = s.wait_cluster(&token, 10, |c| c["updatedAt"].is_string()).await;
    let name = c["nodes"][1]["name"].as_str().unwrap().to_string();
    s.sim().control().set_node_online(&name, false).unwrap();
    let c = s
        .wait_cluster(&token, 15, |c| {
            c["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .any(|n| n["name"] == name && n["status"] == "offline")
        })
        .await;
    assert_eq!(c["quorum"]["nodes"], 3, "{}", c["quorum"]);
    assert_eq!(c["quorum"]["quorate"], true);
    tokio::time::sleep(Duration::from_millis(10)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn graceful_shutdown_returns_cleanly_and_checkpoints() {
    let s = TestServer::start().await;
    let token = s.login().await;
    s.wait_cluster(&token, 10, |c| c["updatedAt"].is_string()).await;
    let db = s.db_path.clone();
    s.stop().await.expect("clean shutdown");
    let wal = db.with_extension("db-wal");
    let wal_len = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    assert_eq!(wal_len, 0, "WAL is checkpointed and truncated on shutdown");
}
