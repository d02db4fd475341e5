//! The tool pipeline over REST against the simulator: every tool, tiers, confirmations (single
//! use, expiry, bound to their arguments), the kill switch on every path, protection, elevation
//! and the hash-chained audit log.

use serde_json::{Value, json};

use crate::harness::{Options, TestServer};

fn vms(c: &Value) -> Vec<Value> {
    c["vms"].as_array().unwrap().clone()
}

/// A running (or stopped) non-template guest of the given type.
fn guest(c: &Value, kind: &str, status: &str) -> (String, u64) {
    let v = vms(c)
        .into_iter()
        .find(|v| v["type"] == kind && v["status"] == status && v["template"] == false)
        .unwrap_or_else(|| panic!("no {status} {kind} in {c}"));
    (v["node"].as_str().unwrap().to_string(), v["vmid"].as_u64().unwrap())
}

async fn ready(s: &TestServer) -> (String, Value) {
    let token = s.login().await;
    let c = s.wait_cluster(&token, 10, |c| c["updatedAt"].is_string()).await;
    (token, c)
}

async fn status_of(s: &TestServer, token: &str, vmid: u64) -> String {
    let (_, c) = s.get_json("/api/cluster", token).await;
    vms(&c).iter().find(|v| v["vmid"].as_u64() == Some(vmid)).unwrap()["status"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn wait_status(s: &TestServer, token: &str, vmid: u64, want: &str) {
    s.wait_cluster(token, 15, |c| {
        vms(c).iter().any(|v| v["vmid"].as_u64() == Some(vmid) && v["status"] == want)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn registry_lists_every_protocol_tool_with_its_tier() {
    let s = TestServer::start().await;
    let (token, _) = ready(&s).await;
    let (status, body) = s.get_json("/api/tools", &token).await;
    assert_eq!(status, 200);
    let tools = body["tools"].as_array().unwrap();
    assert!(tools.len() >= 25, "{}", tools.len());
    let tier = |name: &str| {
        tools.iter().find(|t| t["name"] == name).unwrap_or_else(|| panic!("missing {name}"))["tier"]
            .clone()
    };
    for (name, want) in [
        ("get_cluster_status", "green"),
        ("get_backups", "green"),
        ("search_memory", "green"),
        ("execute_ssh", "yellow"),
        ("start_vm", "yellow"),
        ("start_container", "yellow"),
        ("wake_node", "yellow"),
        ("stop_vm", "red"),
        ("shutdown_container", "red"),
        ("restart_vm", "red"),
        ("reboot_node", "black"),
        ("shutdown_node", "black"),
    ] {
        assert_eq!(tier(name), want, "{name}");
    }
    for t in tools {
        assert_eq!(t["inputSchema"]["type"], "object", "{}", t["name"]);
        assert!(!t["description"].as_str().unwrap().is_empty());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn green_tools_work_against_the_simulator() {
    let s = TestServer::start().await;
    let (token, c) = ready(&s).await;
    let node = c["nodes"][0]["name"].as_str().unwrap().to_string();
    let (vm_node, vmid) = guest(&c, "qemu", "running");
    let cases = vec![
        ("get_cluster_status", json!({})),
        ("get_node_status", json!({"node": node})),
        ("get_vms", json!({})),
        ("get_containers", json!({})),
        ("get_storage", json!({})),
        ("get_cluster_resources", json!({"type": "vm"})),
        ("get_recent_tasks", json!({"limit": 5})),
        ("get_guest_config", json!({"node": vm_node, "vmid": vmid})),
        ("get_events", json!({"limit": 10})),
        ("get_autonomy_actions", json!({})),
        ("get_incidents", json!({})),
        ("get_incidents", json!({"state": "resolved"})),
        ("search_memory", json!({"query": "disk"})),
        ("get_backups", json!({"node": node})),
    ];
    for (tool, args) in cases {
        let (status, body) = s.tool(&token, tool, args.clone()).await;
        assert_eq!(status, 200, "{tool} {args}: {body}");
        assert_eq!(body["status"], "executed");
        assert_eq!(body["tier"], "green");
        assert!(!body["result"].is_null(), "{tool}: {body}");
    }
    let (_, vms_body) = s.tool(&token, "get_vms", json!({})).await;
    assert!(vms_body["result"].as_array().unwrap().iter().all(|v| v["type"] == "qemu"));
    let (_, cts) = s.tool(&token, "get_containers", json!({})).await;
    assert!(cts["result"].as_array().unwrap().iter().all(|v| v["type"] == "lxc"));
    let (_, node_status) = s.tool(&token, "get_node_status", json!({"node": node})).await;
    assert!(node_status["result"]["memory"]["total"].as_u64().unwrap() > 0, "{node_status}");
    let (_, backups) = s.tool(&token, "get_backups", json!({"node": node})).await;
    let list = backups["result"]["backups"].as_array().unwrap();
    assert!(!list.is_empty(), "{backups}");
    assert!(list.iter().all(|b| b["volid"].as_str().unwrap().contains("vzdump")));
    let (_, tasks) = s.tool(&token, "get_recent_tasks", json!({"limit": 3})).await;
    let upid = tasks["result"][0]["upid"].as_str().unwrap().to_string();
    let task_node = upid.split(':').nth(1).unwrap().to_string();
    let (status, t) =
        s.tool(&token, "get_task_status", json!({"node": task_node, "upid": upid})).await;
    assert_eq!(status, 200, "{t}");
    assert!(t["result"]["status"].is_string(), "{t}");
}

#[tokio::test(flavor = "multi_thread")]
async fn yellow_start_runs_directly_waits_for_the_task_and_is_audited() {
    let s = TestServer::start().await;
    let (token, c) = ready(&s).await;
    let (node, vmid) = guest(&c, "qemu", "stopped");
    let (status, body) = s.tool(&token, "start_vm", json!({"node": node, "vmid": vmid})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["tier"], "yellow");
    assert_eq!(body["result"]["status"], "OK", "the PVE task finished OK: {body}");
    assert!(body["result"]["upid"].as_str().unwrap().starts_with("UPID:"));
    assert!(body["auditId"].as_i64().is_some());
    wait_status(&s, &token, vmid, "running").await;
    // A VM tool on a container is refused before anything reaches PVE.
    let (ct_node, ctid) = guest(&c, "lxc", "running");
    let (status, body) = s.tool(&token, "stop_vm", json!({"node": ct_node, "vmid": ctid})).await;
    assert_eq!(status, 202, "confirmation first: {body}");
    let id = body["confirmation"]["id"].as_str().unwrap();
    let (status, body) = s
        .post_json(&format!("/api/confirmations/{id}"), &token, json!({"decision": "approve"}))
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("container"), "{body}");
    assert_eq!(status_of(&s, &token, ctid).await, "running");
}

#[tokio::test(flavor = "multi_thread")]
async fn red_needs_a_server_confirmation_that_works_once() {
    let s = TestServer::start().await;
    let (token, c) = ready(&s).await;
    let (node, vmid) = guest(&c, "qemu", "running");
    let (status, body) = s.tool(&token, "stop_vm", json!({"node": node, "vmid": vmid})).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["status"], "confirmation_required");
    let conf = &body["confirmation"];
    assert!(conf["summary"].as_str().unwrap().contains(&vmid.to_string()), "{conf}");
    assert_eq!(conf["args"], json!({"node": node, "vmid": vmid}));
    let id = conf["id"].as_str().unwrap().to_string();
    // Nothing ran yet, and there is no flag to make it run.
    assert_eq!(status_of(&s, &token, vmid).await, "running");
    let (status, _) = s
        .post_json(
            "/api/tools/execute",
            &token,
            json!({"tool": "stop_vm", "args": {"node": node, "vmid": vmid}, "confirmed": true}),
        )
        .await;
    assert_eq!(status, 400, "a `confirmed` field is an unknown field, not a bypass");
    let (status, pending) = s.get_json("/api/confirmations", &token).await;
    assert_eq!(status, 200);
    assert_eq!(pending["confirmations"][0]["id"], id.as_str());

    let (status, body) = s
        .post_json(&format!("/api/confirmations/{id}"), &token, json!({"decision": "approve"}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "executed");
    wait_status(&s, &token, vmid, "stopped").await;
    let (status, body) = s
        .post_json(&format!("/api/confirmations/{id}"), &token, json!({"decision": "approve"}))
        .await;
    assert_eq!(status, 410, "no replay: {body}");
    assert_eq!(body["error"]["code"], "already_decided");
    let (status, _) =
        s.post_json("/api/confirmations/not-an-id", &token, json!({"decision": "approve"})).await;
    assert_eq!(status, 404);
    let (status, _) = s
        .post_json(&format!("/api/confirmations/{id}"), &token, json!({"decision": "maybe"}))
        .await;
    assert_eq!(status, 400);
}

#[tokio::test(flavor = "multi_thread")]
async fn denied_expired_and_tampered_confirmations_never_run() {
    let s = TestServer::start().await;
    let (token, c) = ready(&s).await;
    let (node, vmid) = guest(&c, "qemu", "running");
    let ask = || s.tool(&token, "stop_vm", json!({"node": node, "vmid": vmid}));

    let (_, body) = ask().await;
    let id = body["confirmation"]["id"].as_str().unwrap().to_string();
    let (status, body) =
        s.post_json(&format!("/api/confirmations/{id}"), &token, json!({"decision": "deny"})).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("denied")));

    let (_, body) = ask().await;
    let expired = body["confirmation"]["id"].as_str().unwrap().to_string();
    let (_, body) = ask().await;
    let tampered = body["confirmation"]["id"].as_str().unwrap().to_string();
    let db = rusqlite::Connection::open(&s.db_path).unwrap();
    db.execute(
        "UPDATE confirmations SET expires_at = '2000-01-01T00:00:00.000Z' WHERE id = ?1",
        [&expired],
    )
    .unwrap();
    let other = vms(&c)
        .into_iter()
        .find(|v| {
            v["vmid"].as_u64() != Some(vmid) && v["status"] == "running" && v["type"] == "qemu"
        })
        .unwrap();
    let swapped = json!({"node": other["node"], "vmid": other["vmid"]}).to_string();
    db.execute("UPDATE confirmations SET args = ?2 WHERE id = ?1", [&tampered, &swapped]).unwrap();

    let (status, body) = s
        .post_json(&format!("/api/confirmations/{expired}"), &token, json!({"decision": "approve"}))
        .await;
    assert_eq!((status, body["error"]["code"].as_str()), (410, Some("expired")), "{body}");
    let (status, body) = s
        .post_json(
            &format!("/api/confirmations/{tampered}"),
            &token,
            json!({"decision": "approve"}),
        )
        .await;
    assert_eq!(status, 403, "arguments that differ from the confirmed digest are refused: {body}");
    assert_eq!(status_of(&s, &token, vmid).await, "running");
    assert_eq!(status_of(&s, &token, other["vmid"].as_u64().unwrap()).await, "running");
}

#[tokio::test(flavor = "multi_thread")]
async fn kill_switch_stops_every_mutation_even_approved_ones_but_not_reads() {
    let s = TestServer::start().await;
    let (token, c) = ready(&s).await;
    let (node, vmid) = guest(&c, "qemu", "running");
    let (stopped_node, stopped) = guest(&c, "qemu", "stopped");
    // A confirmation created before the switch is thrown...
    let (_, body) = s.tool(&token, "stop_vm", json!({"node": node, "vmid": vmid})).await;
    let id = body["confirmation"]["id"].as_str().unwrap().to_string();

    let (status, body) =
        s.put_json("/api/monitor/killswitch", &token, json!({"active": true})).await;
    assert_eq!((status, body["killSwitch"].as_bool()), (200, Some(true)));
    let (_, st) = s.get_json("/api/monitor/status", &token).await;
    assert_eq!(st["killSwitch"], true);

    let (status, body) =
        s.tool(&token, "start_vm", json!({"node": stopped_node, "vmid": stopped})).await;
    assert_eq!((status, body["error"]["code"].as_str()), (423, Some("kill_switch")), "{body}");
    let (status, _) = s.tool(&token, "stop_vm", json!({"node": node, "vmid": vmid})).await;
    assert_eq!(status, 423, "not even a confirmation is created");
    // ...cannot be executed while it is on.
    let (status, body) = s
        .post_json(&format!("/api/confirmations/{id}"), &token, json!({"decision": "approve"}))
        .await;
    assert_eq!(status, 423, "{body}");
    assert_eq!(s.tool(&token, "get_vms", json!({})).await.0, 200, "reads keep working");
    assert_eq!(status_of(&s, &token, vmid).await, "running");
    assert_eq!(status_of(&s, &token, stopped).await, "stopped");

    let (_, audit) = s.get_json("/api/audit?limit=50", &token).await;
    let blocked =
        audit["entries"].as_array().unwrap().iter().filter(|e| e["decision"] == "blocked").count();
    assert!(blocked >= 3, "every refused attempt is audited: {audit}");

    s.put_json("/api/monitor/killswitch", &token, json!({"active": false})).await;
    let (status, _) =
        s.tool(&token, "start_vm", json!({"node": stopped_node, "vmid": stopped})).await;
    assert_eq!(status, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn protection_holds_on_parsed_arguments_and_elevation_cannot_lift_it() {
    let s = TestServer::start_opts(Options {
        override_key: Some("override alpha 42"),
        protected: ("101", "", "docker"),
        ..Options::default()
    })
    .await;
    let (token, c) = ready(&s).await;
    let node101 = vms(&c).into_iter().find(|v| v["vmid"] == 101).unwrap()["node"]
        .as_str()
        .unwrap()
        .to_string();
    for args in [
        json!({"node": node101, "vmid": "101"}),
        json!({"node": node101, "vmid": 101.0}),
        json!({"node": node101, "vmid": "101abc"}),
    ] {
        let (status, body) = s.tool(&token, "stop_vm", args.clone()).await;
        assert_eq!(status, 400, "a vmid must be an integer: {args} {body}");
    }
    let (status, body) = s.tool(&token, "stop_vm", json!({"node": node101, "vmid": 101})).await;
    assert_eq!(status, 403, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("101"));
    let (status, _) =
        s.tool(&token, "get_guest_config", json!({"node": node101, "vmid": 101})).await;
    assert_eq!(status, 200, "reading a protected guest is fine");

    // Elevation: wrong key refused; right key makes BLACK confirmable, never protected.
    let (status, _) =
        s.post_json("/api/auth/elevate", &token, json!({"passkey": "override beta"})).await;
    assert_eq!(status, 403);
    let node = c["nodes"][0]["name"].as_str().unwrap().to_string();
    let (status, _) = s.tool(&token, "reboot_node", json!({"node": node})).await;
    assert_eq!(status, 403, "BLACK is blocked without elevation");
    let (status, body) =
        s.post_json("/api/auth/elevate", &token, json!({"passkey": "override alpha 42"})).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["elevatedUntil"].is_string());
    let (status, body) = s.tool(&token, "reboot_node", json!({"node": node})).await;
    assert_eq!(status, 202, "elevated BLACK needs a confirmation: {body}");
    let (status, _) = s.tool(&token, "stop_vm", json!({"node": node101, "vmid": 101})).await;
    assert_eq!(status, 403, "no elevation unlocks a protected VM");
    // Another session is not elevated.
    let other = s.login().await;
    let (status, _) = s.tool(&other, "reboot_node", json!({"node": node})).await;
    assert_eq!(status, 403);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_requests_are_clear_and_unknown_tools_are_audited() {
    let s = TestServer::start().await;
    let (token, _) = ready(&s).await;
    let (status, body) = s.tool(&token, "format_disk", json!({})).await;
    assert_eq!((status, body["error"]["code"].as_str()), (404, Some("unknown_tool")));
    let (status, body) = s.tool(&token, "get_node_status", json!({"node": "nope"})).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("unknown node"), "{body}");
    let (status, _) = s.tool(&token, "get_node_status", json!({"node": "pve1", "extra": 1})).await;
    assert_eq!(status, 400);
    let (status, _) = s.tool(&token, "get_vms", json!([1, 2])).await;
    assert_eq!(status, 400);
    let (status, body) =
        s.tool(&token, "execute_ssh", json!({"node": "pve1", "command": "uptime"})).await;
    assert_eq!(status, 503, "SSH is not configured in this server: {body}");
    let (_, audit) = s.get_json("/api/audit?tool=format_disk", &token).await;
    assert_eq!(audit["entries"][0]["decision"], "blocked");
    assert_eq!(audit["entries"][0]["tier"], "black");
}

#[tokio::test(flavor = "multi_thread")]
async fn editing_any_audit_row_breaks_verification_there() {
    let s = TestServer::start().await;
    let (token, c) = ready(&s).await;
    let (node, vmid) = guest(&c, "qemu", "stopped");
    s.tool(&token, "start_vm", json!({"node": node, "vmid": vmid})).await;
    s.tool(&token, "format_disk", json!({})).await;
    s.put_json("/api/monitor/killswitch", &token, json!({"active": true})).await;
    s.put_json("/api/monitor/killswitch", &token, json!({"active": false})).await;
    let (_, v) = s.get_json("/api/audit/verify", &token).await;
    assert_eq!(v["valid"], true, "{v}");
    let n = v["entries"].as_u64().unwrap();
    assert!(n >= 4);
    // Nothing is old enough to be archived: the whole chain is live.
    assert_eq!((v["archivedEntries"].as_u64(), v.get("archivedThrough")), (Some(0), None), "{v}");
    let db = rusqlite::Connection::open(&s.db_path).unwrap();
    db.execute("UPDATE audit_log SET outcome = 'failure' WHERE id = 2", []).unwrap();
    let (_, v) = s.get_json("/api/audit/verify", &token).await;
    assert_eq!((v["valid"].as_bool(), v["firstBrokenId"].as_i64()), (Some(false), Some(2)), "{v}");
}

#[tokio::test(flavor = "multi_thread")]
async fn wake_and_elevated_reboot_reach_pve() {
    let s = TestServer::start_opts(Options {
        override_key: Some("override alpha 42"),
        ..Options::default()
    })
    .await;
    let (token, c) = ready(&s).await;
    let node = c["nodes"][1]["name"].as_str().unwrap().to_string();
    let (status, body) = s.tool(&token, "wake_node", json!({"node": node})).await;
    assert_eq!(status, 400, "an online node is not woken: {body}");
    s.sim().control().set_node_online(&node, false).unwrap();
    s.wait_cluster(&token, 15, |c| {
        c["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["name"] == node.as_str() && n["status"] == "offline")
    })
    .await;
    let (status, body) = s.tool(&token, "wake_node", json!({"node": node})).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["result"]["mac"].as_str().unwrap().contains(':'), "{body}");

    let target = c["nodes"][2]["name"].as_str().unwrap().to_string();
    s.post_json("/api/auth/elevate", &token, json!({"passkey": "override alpha 42"})).await;
    let (status, body) = s.tool(&token, "reboot_node", json!({"node": target})).await;
    assert_eq!(status, 202, "{body}");
    let id = body["confirmation"]["id"].as_str().unwrap().to_string();
    let (status, body) = s
        .post_json(&format!("/api/confirmations/{id}"), &token, json!({"decision": "approve"}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"]["action"], "reboot");
    s.wait_cluster(&token, 15, |c| {
        c["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["name"] == target.as_str() && n["status"] == "offline")
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn every_lifecycle_tool_drives_its_pve_task() {
    let s = TestServer::start().await;
    let (token, c) = ready(&s).await;
    for kind in ["qemu", "lxc"] {
        let (node, vmid) = guest(&c, kind, "running");
        let suffix = if kind == "qemu" { "vm" } else { "container" };
        // (tool, status after it, via a confirmation?)
        for (action, after, red) in [
            ("restart", "running", true),
            ("shutdown", "stopped", true),
            ("start", "running", false),
            ("stop", "stopped", true),
        ] {
            let tool = format!("{action}_{suffix}");
            let (status, body) = s.tool(&token, &tool, json!({"node": node, "vmid": vmid})).await;
            let result = if red {
                assert_eq!(status, 202, "{tool}: {body}");
                let id = body["confirmation"]["id"].as_str().unwrap().to_string();
                let (status, body) = s
                    .post_json(
                        &format!("/api/confirmations/{id}"),
                        &token,
                        json!({"decision": "approve"}),
                    )
                    .await;
                assert_eq!(status, 200, "{tool}: {body}");
                body["result"].clone()
            } else {
                assert_eq!(status, 200, "{tool}: {body}");
                body["result"].clone()
            };
            assert_eq!(result["status"], "OK", "{tool}: {result}");
            assert!(
                result["upid"].as_str().unwrap().contains(&format!(":{vmid}:")),
                "{tool}: {result}"
            );
            wait_status(&s, &token, vmid, after).await;
        }
    }
}
