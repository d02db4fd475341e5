//! Authentication and fault injection: 401s with the reason only in the status line, failing
//! calls, random errors, latency, and endpoints that refuse connections.

use std::time::{Duration, Instant};

use jarvis_sim::SimConfig;

use crate::common::*;

#[tokio::test]
async fn unauthenticated_calls_get_401_with_the_reason_in_the_status_line() {
    let sim = start(test_config()).await;
    let url = sim.base_url();
    let (status, headers, body) = raw_http(&url, &raw_get("/api2/json/version", "")).await;
    assert_eq!(status, "HTTP/1.1 401 No ticket");
    assert!(body.is_empty(), "401 bodies are empty: {body:?}");
    assert!(headers.to_ascii_lowercase().contains("content-length: 0"), "{headers}");

    let (status, _, _) = raw_http(
        &url,
        &raw_get("/api2/json/version", "Authorization: PVEAPIToken=root@pam!other=abc\r\n"),
    )
    .await;
    assert_eq!(status, "HTTP/1.1 401 no such token 'other' for user 'root@pam'");
    let (status, _, _) = raw_http(
        &url,
        &raw_get("/api2/json/version", "Authorization: PVEAPIToken=root@pam!jarvis=wrong\r\n"),
    )
    .await;
    assert_eq!(status, "HTTP/1.1 401 invalid token value!");
    // Authentication comes before routing.
    let (status, _, _) = raw_http(&url, &raw_get("/api2/json/does/not/exist", "")).await;
    assert_eq!(status, "HTTP/1.1 401 No ticket");

    let (status, _, body) = raw_http(
        &url,
        &raw_get("/api2/json/version", &format!("Authorization: {}\r\n", sim.auth_header())),
    )
    .await;
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(body.contains("\"release\""), "{body}");
    sim.shutdown().await;
}

#[tokio::test]
async fn auth_failures_can_be_delayed_like_pve() {
    let sim =
        start(SimConfig { auth_failure_delay: Duration::from_millis(300), ..test_config() }).await;
    let t = Instant::now();
    let (status, _, _) = raw_http(&sim.base_url(), &raw_get("/api2/json/version", "")).await;
    assert!(status.starts_with("HTTP/1.1 401"));
    assert!(t.elapsed() >= Duration::from_millis(300), "401 answered after {:?}", t.elapsed());
    sim.shutdown().await;
}

#[tokio::test]
async fn bad_token_switch_makes_every_call_401() {
    let sim = start(test_config()).await;
    sim.control().set_bad_token(true);
    assert_eq!(get(&sim, "/version").await.0, 401);
    let (status, _, _) = raw_http(
        &sim.base_url(),
        &raw_get("/api2/json/version", &format!("Authorization: {}\r\n", sim.auth_header())),
    )
    .await;
    assert_eq!(status, "HTTP/1.1 401 invalid token value!");
    sim.control().set_bad_token(false);
    assert_eq!(get(&sim, "/version").await.0, 200);
    sim.shutdown().await;
}

#[tokio::test]
async fn fail_next_fails_exactly_n_calls_then_recovers() {
    let sim = start(test_config()).await;
    let before = sim.control().request_count();
    sim.control().fail_next(2, 500);
    for _ in 0..2 {
        let (status, body) = get(&sim, "/cluster/resources").await;
        assert_eq!(status, 500);
        assert!(body["message"].as_str().unwrap().ends_with('\n'), "{body}");
        assert_eq!(body["data"], serde_json::Value::Null);
    }
    assert_eq!(get(&sim, "/cluster/resources").await.0, 200);
    assert_eq!(sim.control().request_count(), before + 3);

    sim.control().fail_next(1, 595);
    let (status, body) = get(&sim, "/version").await;
    assert_eq!((status, body), (595, serde_json::Value::Null));
    sim.shutdown().await;
}

#[tokio::test]
async fn error_rate_and_latency() {
    let sim = start(test_config()).await;
    let ctl = sim.control();
    ctl.set_error_rate(1.0);
    assert_eq!(get(&sim, "/version").await.0, 500);
    ctl.set_error_rate(0.0);
    assert_eq!(get(&sim, "/version").await.0, 200);

    ctl.set_latency(Duration::from_millis(250));
    let t = Instant::now();
    assert_eq!(get(&sim, "/version").await.0, 200);
    assert!(t.elapsed() >= Duration::from_millis(250), "answered after {:?}", t.elapsed());
    ctl.set_latency(Duration::ZERO);
    sim.shutdown().await;
}

#[tokio::test]
async fn endpoints_go_down_and_come_back_on_the_same_port() {
    let sim = start(test_config()).await;
    let addr = sim.base_url().trim_start_matches("http://").to_string();
    let c = client();
    // A kept-alive connection from before must not survive the endpoint going down.
    assert_eq!(get(&sim, "/version").await.0, 200);
    let warm = c
        .get(format!("{}/api2/json/version", sim.base_url()))
        .header("Authorization", sim.auth_header())
        .send()
        .await
        .unwrap();
    assert_eq!(warm.status(), 200);

    sim.control().set_endpoint_down(0, true).unwrap();
    let err = tokio::net::TcpStream::connect(&addr).await.unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
    assert!(
        c.get(format!("{}/api2/json/version", sim.base_url()))
            .header("Authorization", sim.auth_header())
            .send()
            .await
            .is_err(),
        "pooled connections are cut too"
    );
    assert!(!sim.control().endpoints()[0].up);

    sim.control().set_endpoint_down(0, false).unwrap();
    assert!(sim.control().endpoints()[0].up);
    assert_eq!(get(&sim, "/version").await.0, 200);
    assert!(sim.control().set_endpoint_down(7, true).is_err());
    sim.shutdown().await;
}

#[tokio::test]
async fn per_node_endpoints_answer_as_their_node_and_follow_it() {
    let sim = start(SimConfig { per_node_endpoints: true, ..test_config() }).await;
    let urls = sim.node_urls();
    assert_eq!(urls.len(), 4);
    let port = sim.base_url().rsplit(':').next().unwrap().to_string();
    for (i, url) in urls.iter().enumerate() {
        assert_eq!(*url, format!("http://127.0.1.{}:{port}", i + 1));
        let res = client()
            .get(format!("{url}/api2/json/cluster/status"))
            .header("Authorization", sim.auth_header())
            .send()
            .await
            .unwrap();
        let v: serde_json::Value = res.json().await.unwrap();
        let local: Vec<&str> = v["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["local"] == 1)
            .map(|e| e["name"].as_str().unwrap())
            .collect();
        assert_eq!(local, [format!("pve{}", i + 1)]);
    }
    sim.control().set_node_online("pve2", false).unwrap();
    let pve2 = urls[1].trim_start_matches("http://");
    assert!(tokio::net::TcpStream::connect(pve2).await.is_err(), "an offline node does not answer");
    sim.control().set_node_online("pve2", true).unwrap();
    assert!(tokio::net::TcpStream::connect(pve2).await.is_ok());
    // Taking the main endpoint down leaves the node endpoints serving: the failover path.
    sim.control().set_endpoint_down(0, true).unwrap();
    let res = client()
        .get(format!("{}/api2/json/version", urls[2]))
        .header("Authorization", sim.auth_header())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    sim.shutdown().await;
}
