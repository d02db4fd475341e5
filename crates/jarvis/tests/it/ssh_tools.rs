//! SSH-backed features in the server against the simulator's in-process SSH nodes: the
//! `execute_ssh` and `restart_service` tools, temperatures, and the `/terminal` namespace over
//! the real engine.io/socket.io wire protocol (binary attachments included).
//! (The SSH client itself is tested against a real OpenSSH sshd in `crates/jarvis-ssh`.)

use std::time::Duration;

use base64::Engine;
use serde_json::{Value, json};

use crate::harness::{Options, TestServer};

async fn ssh_server(temps: Option<Duration>) -> (TestServer, String, String) {
    let s = TestServer::start_opts(Options {
        ssh: true,
        temperature_interval: temps,
        protected: ("", "", "docker"),
        ..Options::default()
    })
    .await;
    let token = s.login().await;
    let c = s.wait_cluster(&token, 10, |c| c["updatedAt"].is_string()).await;
    let node = c["nodes"][0]["name"].as_str().unwrap().to_string();
    (s, token, node)
}

#[tokio::test(flavor = "multi_thread")]
async fn execute_ssh_runs_allowed_commands_and_refuses_hostile_ones() {
    let (s, token, node) = ssh_server(None).await;
    let (status, body) =
        s.tool(&token, "execute_ssh", json!({"node": node, "command": "hostname"})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"]["stdout"].as_str().unwrap().trim(), node);
    assert_eq!(body["result"]["exitCode"], 0);
    let (status, body) =
        s.tool(&token, "execute_ssh", json!({"node": node, "command": "df -h"})).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["result"]["stdout"].as_str().unwrap().contains("Filesystem"), "{body}");

    for hostile in [
        "df -h; rm -rf /",
        "hostname && reboot",
        "cat /etc/shadow",
        "cat /proc/../etc/shadow",
        "uptime | sh",
        "tail -f /var/log/syslog",
        "echo $(id)",
        "systemctl restart pveproxy",
        "hostname\nreboot",
    ] {
        let (status, body) =
            s.tool(&token, "execute_ssh", json!({"node": node, "command": hostile})).await;
        assert_eq!(status, 403, "{hostile:?} must be refused: {body}");
        assert!(!body["error"]["message"].as_str().unwrap().is_empty());
    }
    let (_, audit) = s.get_json("/api/audit?tool=execute_ssh&limit=100", &token).await;
    let blocked =
        audit["entries"].as_array().unwrap().iter().filter(|e| e["decision"] == "blocked").count();
    assert_eq!(blocked, 9, "every refusal is audited");
}

#[tokio::test(flavor = "multi_thread")]
async fn restart_service_restarts_and_protected_services_are_refused() {
    let (s, token, node) = ssh_server(None).await;
    let (status, body) =
        s.tool(&token, "restart_service", json!({"node": node, "service": "pveproxy"})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"]["success"], true, "{body}");
    assert!(s.sim().control().restarted_services(&node).iter().any(|u| u.contains("pveproxy")));
    for svc in ["docker", "Docker.service", "docker.service"] {
        let (status, body) =
            s.tool(&token, "restart_service", json!({"node": node, "service": svc})).await;
        assert_eq!(status, 403, "{svc}: {body}");
    }
    let (status, _) =
        s.tool(&token, "restart_service", json!({"node": node, "service": "x; reboot"})).await;
    assert_eq!(status, 400, "a unit name is validated as such");
}

#[tokio::test(flavor = "multi_thread")]
async fn temperatures_are_read_over_ssh_and_reach_the_snapshot() {
    let (s, token, node) = ssh_server(Some(Duration::from_millis(300))).await;
    let (status, body) = s.tool(&token, "get_node_temperature", json!({"node": node})).await;
    assert_eq!(status, 200, "{body}");
    let zones = body["result"]["zones"].as_object().unwrap();
    assert!(!zones.is_empty(), "{body}");
    assert!(zones.values().all(|v| (0.0..150.0).contains(&v.as_f64().unwrap())));
    let c = s
        .wait_cluster(&token, 15, |c| {
            c["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .all(|n| n["temperatures"].as_object().is_some_and(|t| !t.is_empty()))
        })
        .await;
    assert!(c["nodes"][0]["temperatures"].is_object());
}

/// engine.io polling client for `/terminal`, with binary attachments (base64 `b` packets).
struct Term {
    http: reqwest::Client,
    url: String,
    /// Whether the namespace CONNECT was accepted (false: `connect_error`).
    accepted: bool,
}

impl Term {
    async fn open(s: &TestServer, token: &str) -> Term {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(40)).build().unwrap();
        let base = s.url("/socket.io/?EIO=4&transport=polling");
        let body = http.get(&base).send().await.unwrap().text().await.unwrap();
        let sid =
            serde_json::from_str::<Value>(&body[1..]).unwrap()["sid"].as_str().unwrap().to_string();
        let mut t = Term { http, url: format!("{base}&sid={sid}"), accepted: false };
        t.send(&format!("40/terminal,{}", json!({ "token": token }))).await;
        // Like socket.io-client, emit nothing before the namespace CONNECT is acknowledged
        // (`40`) or refused (`44`): earlier packets are not for a connected socket yet.
        loop {
            let body = t.http.get(&t.url).send().await.unwrap().text().await.unwrap();
            if body.split('\u{1e}').any(|p| p.starts_with("40/terminal,")) {
                t.accepted = true;
                break;
            }
            if body.split('\u{1e}').any(|p| p.starts_with("44/terminal,")) {
                break;
            }
        }
        t
    }

    async fn send(&self, payload: &str) {
        let r = self.http.post(&self.url).body(payload.to_string()).send().await.unwrap();
        assert!(r.status().is_success());
    }

    async fn emit(&self, event: &str, data: Value) {
        self.send(&format!("42/terminal,{}", json!([event, data]))).await;
    }

    async fn emit_binary(&self, bytes: &[u8]) {
        let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
        let header = format!("451-/terminal,{}", json!(["data", {"_placeholder": true, "num": 0}]));
        self.send(&format!("{header}\u{1e}b{b64}")).await;
    }

    /// Polls until `pred` holds over (events seen, terminal output so far).
    async fn until(
        &self,
        secs: u64,
        pred: impl Fn(&[(String, Value)], &[u8]) -> bool,
    ) -> (Vec<(String, Value)>, Vec<u8>) {
        let (mut events, mut output) = (Vec::new(), Vec::new());
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        while !pred(&events, &output) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "events {events:?} output {:?}",
                String::from_utf8_lossy(&output)
            );
            let body = self.http.get(&self.url).send().await.unwrap().text().await.unwrap();
            for p in body.split('\u{1e}') {
                if std::env::var("TERM_DEBUG").is_ok() {
                    eprintln!("packet: {}", &p[..p.len().min(200)]);
                }
                if p == "2" {
                    self.send("3").await;
                } else if let Some(b64) = p.strip_prefix('b') {
                    output.extend(base64::engine::general_purpose::STANDARD.decode(b64).unwrap());
                } else if let Some(rest) = p.strip_prefix("42/terminal,") {
                    let v: Value = serde_json::from_str(rest).unwrap();
                    events.push((v[0].as_str().unwrap().to_string(), v[1].clone()));
                } else if p.starts_with("44/terminal,") {
                    events.push(("connect_error".into(), Value::String(p.to_string())));
                }
            }
        }
        (events, output)
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn terminal_session_streams_bytes_both_ways_and_is_audited() {
    let (s, token, node) = ssh_server(None).await;
    let t = Term::open(&s, &token).await;
    t.emit("start", json!({"node": node, "cols": 100, "rows": 30})).await;
    t.until(10, |e, _| e.iter().any(|(n, _)| n == "ready")).await;
    t.emit_binary(b"hostname\r").await;
    let n = node.clone();
    t.until(10, move |_, out| String::from_utf8_lossy(out).contains(&format!("\n{n}"))).await;
    t.emit("resize", json!({"cols": 120, "rows": 40})).await;
    t.emit_binary(b"stty size\r").await;
    t.until(10, |_, out| String::from_utf8_lossy(out).contains("40 120")).await;
    t.emit_binary(b"exit\r").await;
    t.until(10, |e, _| e.iter().any(|(n, _)| n == "exit")).await;

    let (_, audit) = s.get_json("/api/audit?limit=20", &token).await;
    let decisions: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["source"] == "terminal")
        .map(|e| e["decision"].as_str().unwrap())
        .collect();
    assert!(
        decisions.contains(&"terminal_start") && decisions.contains(&"terminal_end"),
        "{decisions:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn terminal_refuses_bad_tokens_unknown_nodes_and_input_before_start() {
    let (s, token, _) = ssh_server(None).await;
    let bad = Term::open(&s, "forged").await;
    assert!(!bad.accepted, "a forged token gets connect_error");

    let t = Term::open(&s, &token).await;
    assert!(t.accepted);
    t.emit_binary(b"ls\r").await;
    let (events, _) = t.until(10, |e, _| e.iter().any(|(n, _)| n == "error")).await;
    assert_eq!(events.iter().find(|(n, _)| n == "error").unwrap().1["code"], "no_session");
    t.emit("start", json!({"node": "nope"})).await;
    let (events, _) = t
        .until(10, |e, _| e.iter().any(|(n, v)| n == "error" && v["code"] == "unknown_node"))
        .await;
    assert!(!events.is_empty());
}
