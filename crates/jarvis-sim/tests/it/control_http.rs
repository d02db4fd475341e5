//! The `/_sim/` control routes Playwright uses to flip switches.

use serde_json::{Value, json};

use crate::common::*;

async fn sim_call(
    sim: &jarvis_sim::SimHandle,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = client()
        .request(method, format!("{}{path}", sim.base_url()))
        .header("Authorization", sim.auth_header());
    if let Some(body) = body {
        req = req.json(&body);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn sim_routes_need_the_token_and_flip_faults() {
    let sim = start(test_config()).await;
    let res = client().get(format!("{}/_sim/state", sim.base_url())).send().await.unwrap();
    assert_eq!(res.status(), 401);

    let (status, state) = sim_call(&sim, reqwest::Method::GET, "/_sim/state", None).await;
    assert_eq!(status, 200);
    assert_eq!(state["badToken"], false);
    assert_eq!(state["snapshot"]["nodes"].as_array().unwrap().len(), 4);
    assert_eq!(state["endpoints"][0]["up"], true);

    let (status, state) = sim_call(
        &sim,
        reqwest::Method::PUT,
        "/_sim/faults",
        Some(json!({"badToken": true, "latencyMs": 5})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!((state["badToken"].clone(), state["latencyMs"].clone()), (true.into(), 5.into()));
    assert_eq!(get(&sim, "/version").await.0, 401);
    // The control routes keep working under bad-token mode, so it can be switched off again.
    let (status, _) = sim_call(
        &sim,
        reqwest::Method::PUT,
        "/_sim/faults",
        Some(json!({"badToken": false, "latencyMs": 0})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(get(&sim, "/version").await.0, 200);

    sim_call(
        &sim,
        reqwest::Method::PUT,
        "/_sim/faults",
        Some(json!({"failNext": {"count": 1, "status": 503}})),
    )
    .await;
    assert_eq!(get(&sim, "/version").await.0, 503);
    assert_eq!(get(&sim, "/version").await.0, 200);

    let (_, state) = sim_call(
        &sim,
        reqwest::Method::PUT,
        "/_sim/faults",
        Some(json!({"nodeOnline": {"node": "pve2", "online": false}})),
    )
    .await;
    let pve2 = state["snapshot"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == "pve2")
        .unwrap()
        .clone();
    assert_eq!(pve2["status"], "offline");
    assert_eq!(state["quorate"], true);
    sim_call(
        &sim,
        reqwest::Method::PUT,
        "/_sim/faults",
        Some(json!({"nodeOnline": {"node": "pve3", "online": false}})),
    )
    .await;
    let (_, state) = sim_call(&sim, reqwest::Method::GET, "/_sim/state", None).await;
    assert_eq!(state["quorate"], false);

    let (_, state) =
        sim_call(&sim, reqwest::Method::PUT, "/_sim/faults", Some(json!({"errorRate": 1.0}))).await;
    assert_eq!(state["errorRate"], 1.0);
    assert_eq!(get(&sim, "/version").await.0, 500);
    sim_call(&sim, reqwest::Method::PUT, "/_sim/faults", Some(json!({"errorRate": 0}))).await;

    let ticks = state["ticks"].as_u64().unwrap();
    let (_, state) = sim_call(&sim, reqwest::Method::POST, "/_sim/tick", None).await;
    assert_eq!(state["ticks"].as_u64().unwrap(), ticks + 1);

    let (status, body) =
        sim_call(&sim, reqwest::Method::PUT, "/_sim/faults", Some(json!({"bogus": 1}))).await;
    assert_eq!(status, 400, "{body}");
    let (status, _) = sim_call(
        &sim,
        reqwest::Method::PUT,
        "/_sim/faults",
        Some(json!({"nodeOnline": {"node": "nope", "online": true}})),
    )
    .await;
    assert_eq!(status, 400);
    sim.shutdown().await;
}
