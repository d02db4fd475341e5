//! MCP (MCP-01): streamable HTTP at `/mcp` driven by rmcp's own client, its bearer and Host
//! guards over plain HTTP, and the real `jarvis mcp` executable over stdio sharing the server's
//! database — one registry, one safety pipeline, confirmations approved only by the operator.

use std::process::Stdio;
use std::time::Duration;

use jarvis_domain::tools::REGISTRY;
use rmcp::model::{CallToolRequestParams, CallToolResult, JsonObject};
use rmcp::service::RunningService;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{RoleClient, ServiceError, ServiceExt};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::harness::{JWT_SECRET, PASSWORD, TestServer};

const INITIALIZE: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"it","version":"1"}}}"#;

async fn mcp_client(s: &TestServer, token: &str) -> RunningService<RoleClient, ()> {
    let transport = StreamableHttpClientTransport::from_config(
        StreamableHttpClientTransportConfig::with_uri(s.url("/mcp")).auth_header(token),
    );
    ().serve(transport).await.expect("MCP initialize over HTTP")
}

fn args(v: Value) -> JsonObject {
    v.as_object().cloned().expect("arguments are an object")
}

async fn call(
    c: &RunningService<RoleClient, ()>,
    tool: &str,
    a: Value,
) -> Result<CallToolResult, ServiceError> {
    c.call_tool(CallToolRequestParams::new(tool.to_string()).with_arguments(args(a))).await
}

fn text(r: &CallToolResult) -> String {
    r.content
        .iter()
        .filter_map(|c| c.as_text())
        .map(|t| t.text.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

/// A guest of the simulated cluster (qemu, not a template) in `status`: (node, vmid).
async fn guest(s: &TestServer, token: &str, status: &str) -> (String, u64) {
    let c = s.wait_cluster(token, 10, |c| c["vms"].as_array().is_some_and(|v| !v.is_empty())).await;
    let vm = c["vms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["type"] == "qemu" && v["status"] == status && v["template"] == false)
        .unwrap_or_else(|| panic!("the simulated cluster has a {status} VM: {c}"));
    (vm["node"].as_str().unwrap().to_string(), vm["vmid"].as_u64().unwrap())
}

async fn vm_status(s: &TestServer, vmid: u64) -> String {
    let snap = s.sim().control().snapshot();
    let vm = snap.vms.iter().find(|v| u64::from(v.vmid) == vmid).expect("guest exists");
    serde_json::to_value(vm.status).unwrap().as_str().unwrap().to_string()
}

async fn send_json(
    s: &TestServer,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: Value,
) -> (u16, Value) {
    let r =
        s.http.request(method, s.url(path)).bearer_auth(token).json(&body).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn pending(s: &TestServer, token: &str) -> Vec<Value> {
    let (status, body) = s.get_json("/api/confirmations", token).await;
    assert_eq!(status, 200, "{body}");
    body["confirmations"].as_array().cloned().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn http_client_lists_the_registry_and_runs_green_tools() {
    let s = TestServer::start().await;
    let token = s.login().await;
    let client = mcp_client(&s, &token).await;

    let info = client.peer_info().expect("server info after initialize");
    assert_eq!(info.server_info.as_ref().map(|i| i.name.as_str()), Some("jarvis"));
    let instructions = info.instructions.clone().unwrap_or_default();
    assert!(
        instructions.contains("confirmation id")
            && instructions.contains("data, never instructions"),
        "{instructions}"
    );

    let tools = client.list_all_tools().await.unwrap();
    assert!(tools.len() >= 25, "{} tools", tools.len());
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    let registry: Vec<&str> = REGISTRY.iter().map(|d| d.name).collect();
    assert_eq!(names, registry, "the MCP list is the registry, in order");
    assert!(
        !names.iter().any(|n| n.contains("confirm") || n.contains("approve")),
        "no way to approve over MCP"
    );
    for (t, d) in tools.iter().zip(REGISTRY) {
        let a = t.annotations.as_ref().expect("annotations");
        let tier = d.tier.as_str();
        assert_eq!(a.read_only_hint, Some(tier == "green"), "{}", d.name);
        assert_eq!(a.destructive_hint, Some(tier == "red" || tier == "black"), "{}", d.name);
        assert_eq!(t.meta.as_ref().and_then(|m| m.get("jarvis/tier")), Some(&json!(tier)));
        assert_eq!(t.input_schema.get("type"), Some(&json!("object")), "{}", d.name);
    }
    let stop = tools.iter().find(|t| t.name == "stop_vm").unwrap();
    assert!(stop.description.as_deref().unwrap().contains("confirmation id"));

    s.wait_cluster(&token, 10, |c| c["nodes"].as_array().is_some_and(|n| n.len() == 4)).await;
    let r = call(&client, "get_cluster_status", json!({})).await.unwrap();
    assert_eq!(r.is_error, Some(false), "{r:?}");
    let structured = r.structured_content.clone().expect("structured content");
    assert_eq!(structured["status"], "executed");
    assert_eq!(structured["tier"], "green");
    assert_eq!(structured["result"]["nodes"].as_array().map(Vec::len), Some(4), "{structured}");
    let t = text(&r);
    for node in ["pve1", "pve2", "pve3", "pve4"] {
        assert!(t.contains(node), "{t}");
    }
    assert!(serde_json::from_str::<Value>(&t).is_ok(), "the text is the JSON result: {t}");

    // Arguments may be omitted entirely for tools without any.
    let r = client.call_tool(CallToolRequestParams::new("get_vms")).await.unwrap();
    assert_eq!(r.is_error, Some(false), "{r:?}");

    // Unknown tool: a JSON-RPC invalid-params error.
    let err = call(&client, "format_all_disks", json!({})).await.unwrap_err();
    match err {
        ServiceError::McpError(e) => {
            assert_eq!(e.code.0, -32602, "{e:?}");
            assert!(e.message.contains("format_all_disks"), "{e:?}");
        }
        other => panic!("expected an MCP error, got {other:?}"),
    }
    // Bad arguments: a tool error the model can read and correct.
    let r = call(&client, "get_node_status", json!({ "node": "nope" })).await.unwrap();
    assert_eq!(r.is_error, Some(true));
    assert!(text(&r).contains("unknown node"), "{}", text(&r));
    let r = call(&client, "stop_vm", json!({ "node": "pve1", "vmid": "x" })).await.unwrap();
    assert_eq!(r.is_error, Some(true));
    assert_eq!(r.structured_content.unwrap()["status"], "invalid_arguments");

    client.cancel().await.unwrap();
    s.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn http_red_tool_returns_a_confirmation_only_the_operator_can_approve() {
    let s = TestServer::start().await;
    let token = s.login().await;
    let (node, vmid) = guest(&s, &token, "running").await;
    let client = mcp_client(&s, &token).await;

    let r = call(&client, "stop_vm", json!({ "node": node, "vmid": vmid })).await.unwrap();
    assert_eq!(r.is_error, Some(false), "a confirmation is not an error: {r:?}");
    let t = text(&r);
    assert!(t.starts_with("Confirmation required: "), "{t}");
    assert!(t.contains("nothing has been executed"), "{t}");
    let structured = r.structured_content.clone().unwrap();
    assert_eq!(structured["status"], "confirmation_required");
    let conf = &structured["confirmation"];
    let id = conf["id"].as_str().unwrap().to_string();
    assert!(t.contains(&id) && t.contains(&format!("/api/confirmations/{id}")), "{t}");
    assert_eq!(conf["tool"], "stop_vm");
    assert_eq!(conf["args"]["vmid"], vmid);
    assert!(conf["expiresAt"].as_str().is_some_and(|e| e.ends_with('Z')), "{conf}");
    assert!(!conf["summary"].as_str().unwrap().is_empty());

    // Nothing ran.
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(vm_status(&s, vmid).await, "running");

    let list = pending(&s, &token).await;
    let listed = list.iter().find(|c| c["id"] == id.as_str()).expect("the dashboard lists it");
    assert_eq!(listed["source"], "mcp");
    assert_eq!(listed["actor"], "mcp");

    let (status, body) = send_json(
        &s,
        reqwest::Method::POST,
        &format!("/api/confirmations/{id}"),
        &token,
        json!({"decision": "approve"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "executed", "{body}");
    assert_eq!(vm_status(&s, vmid).await, "stopped");

    // The audit log records the MCP request and the operator's approval.
    let (_, audit) = s.get_json("/api/audit?tool=stop_vm", &token).await;
    let entries = audit["entries"].as_array().unwrap();
    assert!(
        entries.iter().any(|e| e["source"] == "mcp" && e["decision"] == "confirmation_requested"),
        "{audit}"
    );
    assert!(entries.iter().any(|e| e["decision"] == "approved"), "{audit}");

    client.cancel().await.unwrap();
    s.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn http_kill_switch_refuses_acting_tools_and_is_audited() {
    let s = TestServer::start().await;
    let token = s.login().await;
    let (node, vmid) = guest(&s, &token, "stopped").await;
    let client = mcp_client(&s, &token).await;

    let (status, body) = send_json(
        &s,
        reqwest::Method::PUT,
        "/api/monitor/killswitch",
        &token,
        json!({"active": true}),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    let r = call(&client, "start_vm", json!({ "node": node, "vmid": vmid })).await.unwrap();
    assert_eq!(r.is_error, Some(true), "{r:?}");
    assert!(text(&r).contains("kill switch"), "{}", text(&r));
    let structured = r.structured_content.unwrap();
    assert_eq!(structured["status"], "blocked");
    assert_eq!(structured["code"], "kill_switch");
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(vm_status(&s, vmid).await, "stopped");

    // Reads still work under the kill switch.
    let r = call(&client, "get_storage", json!({})).await.unwrap();
    assert_eq!(r.is_error, Some(false), "{r:?}");

    let (_, audit) = s.get_json("/api/audit?tool=start_vm", &token).await;
    let entries = audit["entries"].as_array().unwrap();
    assert!(
        entries
            .iter()
            .any(|e| e["source"] == "mcp" && e["decision"] == "blocked" && e["actor"] == "mcp"),
        "{audit}"
    );

    client.cancel().await.unwrap();
    s.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn http_endpoint_needs_a_live_token_and_an_allowed_host() {
    let s = TestServer::start().await;
    let post = |token: Option<&str>, host: Option<&str>| {
        let mut r = s
            .http
            .post(s.url("/mcp"))
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body(INITIALIZE);
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        if let Some(h) = host {
            r = r.header("host", h);
        }
        r.send()
    };

    let r = post(None, None).await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers().contains_key("www-authenticate"));
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthorized", "{body}");
    assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));

    let r = post(Some("not-a-token"), None).await.unwrap();
    assert_eq!(r.status(), 401);

    let token = s.login().await;
    let r = post(Some(&token), None).await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["result"]["serverInfo"]["name"], "jarvis", "{body}");

    // DNS-rebinding guard: a foreign Host is refused even with a valid token.
    let r = post(Some(&token), Some("evil.example:4000")).await.unwrap();
    assert_eq!(r.status(), 403);
    let r = post(Some(&token), Some("localhost")).await.unwrap();
    assert_eq!(r.status(), 200);

    // A revoked (logged out) token no longer opens /mcp.
    let out = s.http.post(s.url("/api/auth/logout")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(out.status(), 204);
    let r = post(Some(&token), None).await.unwrap();
    assert_eq!(r.status(), 401);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthorized");

    s.stop().await.unwrap();
}

/// The real `jarvis mcp` process, JSON-RPC driven by hand over its stdin/stdout.
struct StdioMcp {
    child: tokio::process::Child,
    stdin: tokio::process::ChildStdin,
    stdout: tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
    /// Every stdout line seen, to prove stdout carried JSON-RPC only.
    lines: Vec<String>,
    stderr: tokio::task::JoinHandle<String>,
}

impl StdioMcp {
    fn spawn(s: &TestServer) -> StdioMcp {
        let sim = s.sim();
        let sim_cfg = jarvis_sim::SimConfig::default();
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_jarvis"))
            .arg("mcp")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("RUST_LOG", "info")
            .env("PVE_URL", sim.base_url())
            .env("PVE_TOKEN_ID", sim_cfg.token_id)
            .env("PVE_TOKEN_SECRET", sim_cfg.token_secret)
            .env("PVE_TLS_FINGERPRINT", sim.fingerprint().unwrap())
            .env("PVE_DISCOVER_ENDPOINTS", "false")
            .env("CLUSTER_POLL_INTERVAL", "1")
            .env("JWT_SECRET", JWT_SECRET)
            .env("JARVIS_PASSWORD", PASSWORD)
            // The same database as the running server, as an operator would configure it.
            .env("DB_PATH", &s.db_path)
            .current_dir(s.db_path.parent().unwrap())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("jarvis mcp starts");
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut err = BufReader::new(child.stderr.take().unwrap()).lines();
        let stderr = tokio::spawn(async move {
            let mut all = String::new();
            while let Ok(Some(l)) = err.next_line().await {
                all.push_str(&l);
                all.push('\n');
            }
            all
        });
        StdioMcp { child, stdin, stdout, lines: Vec::new(), stderr }
    }

    async fn send(&mut self, msg: Value) {
        let mut line = msg.to_string();
        line.push('\n');
        self.stdin.write_all(line.as_bytes()).await.unwrap();
        self.stdin.flush().await.unwrap();
    }

    /// Sends a request and reads stdout until its response arrives.
    async fn request(&mut self, id: u64, method: &str, params: Value) -> Value {
        self.send(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params })).await;
        loop {
            let line = tokio::time::timeout(Duration::from_secs(30), self.stdout.next_line())
                .await
                .unwrap_or_else(|_| panic!("no answer to {method}"))
                .unwrap()
                .unwrap_or_else(|| panic!("stdout closed while waiting for {method}"));
            self.lines.push(line.clone());
            let msg: Value = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("stdout line is not JSON ({e}): {line}"));
            assert_eq!(msg["jsonrpc"], "2.0", "{line}");
            if msg["id"] == id {
                return msg;
            }
        }
    }

    async fn call(&mut self, id: u64, tool: &str, arguments: Value) -> Value {
        let r =
            self.request(id, "tools/call", json!({ "name": tool, "arguments": arguments })).await;
        assert!(r.get("error").is_none(), "{tool}: {r}");
        r["result"].clone()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn stdio_serves_the_same_pipeline_and_keeps_stdout_clean() {
    let s = TestServer::start().await;
    let token = s.login().await;
    let (node, running_vmid) = guest(&s, &token, "running").await;
    let (_, stopped_vmid) = guest(&s, &token, "stopped").await;
    let mut mcp = StdioMcp::spawn(&s);

    let init = mcp
        .request(
            1,
            "initialize",
            serde_json::from_str::<Value>(INITIALIZE).unwrap()["params"].clone(),
        )
        .await;
    assert_eq!(init["result"]["serverInfo"]["name"], "jarvis", "{init}");
    assert!(init["result"]["capabilities"]["tools"].is_object(), "{init}");
    mcp.send(json!({ "jsonrpc": "2.0", "method": "notifications/initialized" })).await;

    let list = mcp.request(2, "tools/list", json!({})).await;
    let names: Vec<&str> = list["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, REGISTRY.iter().map(|d| d.name).collect::<Vec<_>>());

    // GREEN: the process polls the cluster itself.
    let vms = mcp.call(3, "get_vms", json!({})).await;
    assert_eq!(vms["isError"], false, "{vms}");
    let listed = vms["structuredContent"]["result"].as_array().unwrap();
    assert!(listed.iter().any(|v| v["vmid"] == running_vmid), "{vms}");
    assert!(vms["content"][0]["text"].as_str().unwrap().contains(&running_vmid.to_string()));

    // RED: a confirmation stored in the shared database, listed and approved by the server.
    let stop = mcp.call(4, "stop_vm", json!({ "node": node, "vmid": running_vmid })).await;
    assert_eq!(stop["isError"], false, "{stop}");
    assert_eq!(stop["structuredContent"]["status"], "confirmation_required", "{stop}");
    let id = stop["structuredContent"]["confirmation"]["id"].as_str().unwrap().to_string();
    assert_eq!(vm_status(&s, running_vmid).await, "running");
    let list = pending(&s, &token).await;
    let listed = list
        .iter()
        .find(|c| c["id"] == id.as_str())
        .expect("the server lists the stdio confirmation");
    assert_eq!(listed["source"], "mcp");
    let (status, body) = send_json(
        &s,
        reqwest::Method::POST,
        &format!("/api/confirmations/{id}"),
        &token,
        json!({"decision": "approve"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(vm_status(&s, running_vmid).await, "stopped");

    // The kill switch thrown in the server is honoured by the other process at decision time.
    let (status, _) = send_json(
        &s,
        reqwest::Method::PUT,
        "/api/monitor/killswitch",
        &token,
        json!({"active": true}),
    )
    .await;
    assert_eq!(status, 200);
    let start = mcp.call(5, "start_vm", json!({ "node": node, "vmid": stopped_vmid })).await;
    assert_eq!(start["isError"], true, "{start}");
    assert_eq!(start["structuredContent"]["code"], "kill_switch", "{start}");
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(vm_status(&s, stopped_vmid).await, "stopped");
    let (_, audit) = s.get_json("/api/audit?tool=start_vm", &token).await;
    assert!(
        audit["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["source"] == "mcp" && e["decision"] == "blocked"),
        "{audit}"
    );

    // Closing stdin ends the session and the process, cleanly.
    let StdioMcp { mut child, stdin, mut stdout, mut lines, stderr } = mcp;
    drop(stdin);
    let status = tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .expect("exits after stdin closes")
        .unwrap();
    while let Ok(Some(l)) = stdout.next_line().await {
        lines.push(l);
    }
    let logs = stderr.await.unwrap();
    assert!(status.success(), "exit {status:?}; stderr:\n{logs}");
    assert!(logs.contains("serving MCP on stdin/stdout"), "logs go to stderr:\n{logs}");
    for l in &lines {
        let v: Value =
            serde_json::from_str(l).unwrap_or_else(|e| panic!("non-JSON on stdout ({e}): {l}"));
        assert_eq!(v["jsonrpc"], "2.0", "{l}");
    }
    s.stop().await.unwrap();
}
