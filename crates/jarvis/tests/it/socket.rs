//! Socket.IO `/cluster` over the real engine.io v4 / socket.io v5 wire protocol (HTTP long-polling
//! transport, spoken directly so the test sees exactly what a browser would get).

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::TestServer;

/// A minimal socket.io client over engine.io polling.
struct PollingClient {
    http: reqwest::Client,
    url: String,
}

impl PollingClient {
    async fn open(s: &TestServer) -> PollingClient {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(40)).build().unwrap();
        let base = s.url("/socket.io/?EIO=4&transport=polling");
        let body = http.get(&base).send().await.unwrap().text().await.unwrap();
        let open =
            body.strip_prefix('0').unwrap_or_else(|| panic!("engine.io open packet: {body}"));
        let sid = serde_json::from_str::<Value>(open).unwrap()["sid"].as_str().unwrap().to_string();
        PollingClient { http, url: format!("{base}&sid={sid}") }
    }

    async fn send(&self, packet: String) {
        let r = self.http.post(&self.url).body(packet).send().await.unwrap();
        assert!(r.status().is_success(), "post: {}", r.status());
    }

    /// One long-poll: the packets the server had queued.
    async fn poll(&self) -> Vec<String> {
        let body = self.http.get(&self.url).send().await.unwrap().text().await.unwrap();
        body.split('\u{1e}').map(str::to_string).collect()
    }

    async fn connect(&self, ns: &str, auth: Value) {
        self.send(format!("40{ns},{auth}")).await;
    }

    /// Polls (answering engine.io pings) until the namespace's CONNECT (`40`) or CONNECT_ERROR
    /// (`44`) packet arrives, and returns it.
    async fn connect_reply(&self, ns: &str) -> String {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            assert!(tokio::time::Instant::now() < deadline, "no connect reply for {ns}");
            for p in self.poll().await {
                if p == "2" {
                    self.send("3".into()).await;
                }
                if p.starts_with(&format!("40{ns},")) || p.starts_with(&format!("44{ns},")) {
                    return p;
                }
            }
        }
    }

    /// Collects `/cluster` events until every name in `want` was seen (or times out).
    async fn events_until(&self, want: &[&str], secs: u64) -> HashMap<String, Vec<Value>> {
        let mut seen: HashMap<String, Vec<Value>> = HashMap::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        while !want.iter().all(|w| seen.contains_key(*w)) {
            assert!(tokio::time::Instant::now() < deadline, "events seen: {:?}", seen.keys());
            for p in self.poll().await {
                if p == "2" {
                    self.send("3".into()).await; // answer engine.io pings
                }
                if let Some(rest) = p.strip_prefix("42/cluster,") {
                    let v: Value = serde_json::from_str(rest).unwrap();
                    seen.entry(v[0].as_str().unwrap().to_string()).or_default().push(v[1].clone());
                }
            }
        }
        seen
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn connect_without_or_with_bad_token_is_refused() {
    let s = TestServer::start().await;
    for auth in [json!({}), json!({"token": "forged"}), json!({"token": 7})] {
        let c = PollingClient::open(&s).await;
        c.connect("/cluster", auth.clone()).await;
        let refusal = c.connect_reply("/cluster").await;
        assert!(
            refusal.starts_with("44/cluster,"),
            "auth {auth}: expected connect_error: {refusal}"
        );
        let payload: Value =
            serde_json::from_str(refusal.trim_start_matches("44/cluster,")).unwrap();
        assert_eq!(payload["message"], "unauthorized", "{auth}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_revoked_token_cannot_connect() {
    let s = TestServer::start().await;
    let token = s.login().await;
    s.http.post(s.url("/api/auth/logout")).bearer_auth(&token).send().await.unwrap();
    let c = PollingClient::open(&s).await;
    c.connect("/cluster", json!({ "token": token })).await;
    let reply = c.connect_reply("/cluster").await;
    assert!(reply.starts_with("44/cluster,"), "{reply}");
}

#[tokio::test(flavor = "multi_thread")]
async fn snapshot_on_connect_then_live_changes() {
    let s = TestServer::start().await;
    let token = s.login().await;
    s.wait_cluster(&token, 10, |c| c["updatedAt"].is_string()).await;
    let c = PollingClient::open(&s).await;
    c.connect("/cluster", json!({ "token": token })).await;
    let first = c
        .events_until(&["nodes", "vms", "storage", "quorum", "temperature", "freshness"], 10)
        .await;
    let nodes = &first["nodes"][0];
    assert_eq!(nodes.as_array().unwrap().len(), 4);
    let api = s.get_json("/api/cluster", &token).await.1;
    assert_eq!(first["quorum"][0], api["quorum"], "socket and REST show the same state");
    assert!(first["vms"][0].as_array().unwrap().iter().any(|v| v["type"] == "lxc"));

    // The simulator moves metrics every tick, so further `nodes` pushes arrive without asking.
    let later = c.events_until(&["nodes"], 15).await;
    assert!(!later["nodes"].is_empty());

    // `refresh` re-sends the whole snapshot to this socket.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    c.send("42/cluster,[\"refresh\"]".into()).await;
    let again = c.events_until(&["storage", "quorum"], 10).await;
    assert_eq!(again["quorum"][0]["expected"], 4);
}
