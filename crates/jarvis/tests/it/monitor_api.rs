//! The monitor's REST surface over real HTTP against the running server (its driver on the
//! system clock, critical tier every second): auth on every route, status, the autonomy level
//! (validated, stored, audited), incidents with ack/resolve, silences, runbooks, thresholds and
//! events — and clear 4xx errors for every client mistake.

use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::{Options, TestServer};

/// A server whose monitor evaluates state changes every second, at level 1 (alert only), so an
/// incident stays open for the test to act on.
async fn server() -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let sim = jarvis_sim::SimServer::start(jarvis_sim::SimConfig {
        tick: Duration::ZERO,
        task_duration: Duration::from_millis(100),
        ssh: false,
        ..jarvis_sim::SimConfig::default()
    })
    .await
    .unwrap();
    let mut cfg = crate::harness::config(crate::harness::pve_for(&sim), dir.path().join("j.db"));
    cfg.poll_interval = Duration::from_millis(200);
    cfg.monitor = jarvis::config::MonitorConfig {
        intervals: [Some(chrono::Duration::seconds(1)), None, None, None],
        initial_level: jarvis_domain::monitor::AutonomyLevel::Alert,
        repeat_interval: None,
    };
    TestServer::start_config(cfg, Some(sim), dir).await
}

async fn wait_for<F: Fn(&Value) -> bool>(
    s: &TestServer,
    token: &str,
    path: &str,
    pred: F,
) -> Value {
    for _ in 0..150 {
        let (status, body) = s.get_json(path, token).await;
        assert_eq!(status, 200, "{path}: {body}");
        if pred(&body) {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{path} never matched");
}

async fn delete(s: &TestServer, path: &str, token: &str) -> (u16, Value) {
    let r = s.http.delete(s.url(path)).bearer_auth(token).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread")]
async fn every_monitor_route_needs_a_token() {
    let s = TestServer::start_opts(Options::default()).await;
    let routes: &[(&str, &str)] = &[
        ("GET", "/api/monitor/status"),
        ("PUT", "/api/monitor/killswitch"),
        ("PUT", "/api/monitor/autonomy-level"),
        ("GET", "/api/monitor/actions"),
        ("GET", "/api/monitor/runbooks"),
        ("PUT", "/api/monitor/runbooks/vm-crashed-start"),
        ("GET", "/api/monitor/thresholds"),
        ("PUT", "/api/monitor/thresholds"),
        ("GET", "/api/monitor/incidents"),
        ("GET", "/api/monitor/incidents/x"),
        ("POST", "/api/monitor/incidents/x/ack"),
        ("POST", "/api/monitor/incidents/x/resolve"),
        ("GET", "/api/monitor/silences"),
        ("POST", "/api/monitor/silences"),
        ("DELETE", "/api/monitor/silences/x"),
        ("GET", "/api/events"),
        ("POST", "/api/events/x/ack"),
        ("POST", "/api/events/x/resolve"),
    ];
    for (method, path) in routes {
        let r = s
            .http
            .request(method.parse().unwrap(), s.url(path))
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{method} {path}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unauthorized", "{method} {path}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn level_status_incidents_ack_and_resolve_over_rest() {
    let s = server().await;
    let token = s.login().await;
    let status =
        wait_for(&s, &token, "/api/monitor/status", |b| !b["lastPoll"]["critical"].is_null()).await;
    assert_eq!(status["running"], true);
    assert_eq!(status["autonomyLevel"], 1);
    assert_eq!(status["intervals"]["critical"], 1);
    assert!(status["intervals"]["important"].is_null(), "disabled tiers show as null");

    // Bad levels are a clear 400; a good one is stored and audited.
    for bad in [json!({"level": 5}), json!({"level": "3"}), json!({"level": 2.5}), json!({})] {
        let (code, body) = s.put_json("/api/monitor/autonomy-level", &token, bad.clone()).await;
        assert_eq!(code, 400, "{bad}: {body}");
    }
    let (code, body) = s.put_json("/api/monitor/autonomy-level", &token, json!({"level": 0})).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["autonomyLevel"], 0);
    assert_eq!(body["description"], "observe only");
    let (_, status) = s.get_json("/api/monitor/status", &token).await;
    assert_eq!(status["autonomyLevel"], 0);
    let (_, audit) = s.get_json("/api/audit?limit=50", &token).await;
    assert!(
        audit["entries"].as_array().unwrap().iter().any(|e| e["decision"] == "autonomy_level_set")
    );

    // A crash behind Jarvis's back becomes an incident.
    let snap = s.sim().control().snapshot();
    let vm = snap
        .vms
        .iter()
        .find(|v| v.status == jarvis_domain::GuestStatus::Running && !v.template)
        .unwrap();
    s.sim().control().crash_guest(vm.vmid).unwrap();
    let key = format!("crash:{}/{}", vm.kind.as_str(), vm.vmid);
    let list = wait_for(&s, &token, "/api/monitor/incidents?state=open", |b| {
        b["incidents"].as_array().unwrap().iter().any(|i| i["key"] == key)
    })
    .await;
    let inc =
        list["incidents"].as_array().unwrap().iter().find(|i| i["key"] == key).unwrap().clone();
    let id = inc["id"].as_str().unwrap();
    assert_eq!(inc["kind"], "crash");
    assert_eq!(inc["timeline"][0]["kind"], "detected");
    assert!(inc.get("tracking").is_none(), "bookkeeping stays on the server");
    let (code, one) = s.get_json(&format!("/api/monitor/incidents/{id}"), &token).await;
    assert_eq!((code, one["key"].as_str()), (200, Some(key.as_str())));

    let (code, acked) =
        s.post_json(&format!("/api/monitor/incidents/{id}/ack"), &token, json!({})).await;
    assert_eq!(code, 200, "{acked}");
    assert_eq!(acked["state"], "acknowledged");
    assert!(acked["acknowledgedAt"].is_string());
    let (code, resolved) =
        s.post_json(&format!("/api/monitor/incidents/{id}/resolve"), &token, json!({})).await;
    assert_eq!(code, 200, "{resolved}");
    assert_eq!(resolved["state"], "resolved");
    let (code, again) =
        s.post_json(&format!("/api/monitor/incidents/{id}/resolve"), &token, json!({})).await;
    assert_eq!(code, 409, "{again}");
    assert_eq!(again["error"]["code"], "already_resolved");
    let (code, _) = s.post_json("/api/monitor/incidents/inc-nope/ack", &token, json!({})).await;
    assert_eq!(code, 404);
    let (code, body) = s.get_json("/api/monitor/incidents?state=closed", &token).await;
    assert_eq!((code, body["error"]["code"].as_str()), (400, Some("invalid_query")));
    // Accepted while the guest is still down: it does not come back as a new incident.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (_, open) = s.get_json("/api/monitor/incidents?state=open", &token).await;
    assert!(open["incidents"].as_array().unwrap().iter().all(|i| i["key"] != key), "{open}");

    // The feed has the monitor's line for it, which can be acknowledged and resolved.
    let (_, events) = s.get_json("/api/events?type=alert", &token).await;
    let ev = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["source"] == "monitor")
        .unwrap()
        .clone();
    let ev_id = ev["id"].as_str().unwrap();
    let (code, acked) = s.post_json(&format!("/api/events/{ev_id}/ack"), &token, json!({})).await;
    assert!(code == 200 && acked["acknowledgedAt"].is_string(), "{acked}");
    let (code, done) =
        s.post_json(&format!("/api/events/{ev_id}/resolve"), &token, json!({})).await;
    assert!(code == 200 && done["resolved"] == true, "{done}");
    let (code, _) = s.post_json("/api/events/nope/ack", &token, json!({})).await;
    assert_eq!(code, 404);
    let (code, body) = s.get_json("/api/events?severity=fatal", &token).await;
    assert_eq!((code, body["error"]["code"].as_str()), (400, Some("invalid_query")));
}

#[tokio::test(flavor = "multi_thread")]
async fn silences_runbooks_and_thresholds_are_validated_stored_and_audited() {
    let s = server().await;
    let token = s.login().await;
    let soon = (chrono::Utc::now() + chrono::Duration::hours(2)).to_rfc3339();
    let past = (chrono::Utc::now() - chrono::Duration::minutes(1)).to_rfc3339();
    let far = (chrono::Utc::now() + chrono::Duration::days(60)).to_rfc3339();
    for bad in [
        json!({"matcher": {}, "reason": "x", "expiresAt": soon}),
        json!({"matcher": {"node": "pve1"}, "reason": "  ", "expiresAt": soon}),
        json!({"matcher": {"node": "pve1"}, "reason": "x", "expiresAt": past}),
        json!({"matcher": {"node": "pve1"}, "reason": "x", "expiresAt": far}),
        json!({"matcher": {"kind": "nope"}, "reason": "x", "expiresAt": soon}),
        json!({"matcher": {"node": "pve1", "extra": 1}, "reason": "x", "expiresAt": soon}),
    ] {
        let (code, body) = s.post_json("/api/monitor/silences", &token, bad.clone()).await;
        assert_eq!(code, 400, "{bad}: {body}");
    }
    let (code, created) = s
        .post_json("/api/monitor/silences", &token, json!({"matcher": {"node": "pve2", "kind": "crash"}, "reason": "patching pve2", "expiresAt": soon}))
        .await;
    assert_eq!(code, 201, "{created}");
    let id = created["id"].as_str().unwrap();
    let (_, list) = s.get_json("/api/monitor/silences", &token).await;
    assert_eq!(list["silences"].as_array().unwrap().len(), 1);
    assert_eq!(list["silences"][0]["matcher"], json!({"node": "pve2", "kind": "crash"}));
    assert_eq!(delete(&s, &format!("/api/monitor/silences/{id}"), &token).await.0, 204);
    assert_eq!(delete(&s, &format!("/api/monitor/silences/{id}"), &token).await.0, 404);

    let (_, runbooks) = s.get_json("/api/monitor/runbooks", &token).await;
    let ids: Vec<&str> = runbooks["runbooks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["vm-crashed-start", "ct-crashed-start", "node-offline-wake"]);
    assert!(
        runbooks["runbooks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["enabled"] == true && r["maxAttempts"] == 3)
    );
    let (code, after) = s
        .put_json("/api/monitor/runbooks/node-offline-wake", &token, json!({"enabled": false}))
        .await;
    assert_eq!(code, 200, "{after}");
    assert_eq!(after["runbooks"][2]["enabled"], false);
    let (code, _) =
        s.put_json("/api/monitor/runbooks/nope", &token, json!({"enabled": false})).await;
    assert_eq!(code, 404);

    let (_, mut rules) = s.get_json("/api/monitor/thresholds", &token).await;
    assert_eq!(rules["defaults"]["disk"]["warn"], 90.0);
    rules["nodes"] = json!({"pve1": {"disk": {"warn": 70.0, "clear": 60.0}}});
    let (code, body) = s.put_json("/api/monitor/thresholds", &token, rules.clone()).await;
    assert_eq!(code, 200, "{body}");
    let (_, back) = s.get_json("/api/monitor/thresholds", &token).await;
    assert_eq!(back["nodes"]["pve1"]["disk"]["warn"], 70.0);
    rules["nodes"] = json!({"pve1": {"disk": {"warn": 70.0, "clear": 80.0}}});
    let (code, body) = s.put_json("/api/monitor/thresholds", &token, rules).await;
    assert_eq!(code, 400, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("nodes.pve1.disk"), "{body}");

    let (_, audit) = s.get_json("/api/audit?limit=50", &token).await;
    let decisions: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["decision"].as_str().unwrap())
        .collect();
    for d in ["silence_created", "silence_removed", "monitor_settings_updated"] {
        assert!(decisions.contains(&d), "{d} missing from {decisions:?}");
    }
    let (code, actions) = s.get_json("/api/monitor/actions?limit=10", &token).await;
    assert_eq!(code, 200);
    assert!(actions["actions"].as_array().unwrap().is_empty());
}
