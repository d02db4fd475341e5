//! Failover across endpoints: which failures move on to the next endpoint, which are real
//! answers, preference for the last working endpoint, endpoint discovery and `read_cluster`.

mod common;

use std::time::Duration;

use jarvis_domain::cluster::{GuestType, NodeStatus, Quorum};
use jarvis_proxmox::{GuestAction, ProxmoxActions, ProxmoxApi, PveClient, PveError, read_cluster};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn answering(status: u16, body: serde_json::Value) -> MockServer {
    let s = MockServer::start().await;
    Mock::given(path("/api2/json/version"))
        .respond_with(ResponseTemplate::new(status).set_body_json(body))
        .mount(&s)
        .await;
    s
}

fn version_ok() -> serde_json::Value {
    json!({"data": {"version": "8.4-1", "release": "8.4", "repoid": "761609f7"}})
}

async fn hits(s: &MockServer) -> usize {
    s.received_requests().await.unwrap().len()
}

#[tokio::test]
async fn refused_connection_fails_over_and_the_working_endpoint_becomes_current() {
    let dead = common::dead_endpoint().await;
    let good = answering(200, version_ok()).await;
    let c = common::client(&[dead.clone(), good.uri()]);
    assert_eq!(c.current_endpoint(), None);
    assert_eq!(c.version().await.unwrap().release.as_deref(), Some("8.4"));
    assert_eq!(c.current_endpoint(), Some(good.uri()));
    let health = c.endpoints();
    assert_eq!(health.len(), 2);
    assert_eq!((health[0].url.as_str(), health[0].ok), (dead.as_str(), false));
    assert!(
        health[0].last_error.as_deref().is_some_and(|e| e.to_lowercase().contains("refused")),
        "{health:?}"
    );
    assert!(health[1].ok && health[1].preferred && health[1].last_error.is_none());
}

#[tokio::test]
async fn status_596_fails_over_and_the_next_call_prefers_the_working_endpoint() {
    let proxy_down = answering(596, json!({"data": null})).await;
    let good = answering(200, version_ok()).await;
    let c = common::client(&[proxy_down.uri(), good.uri()]);
    c.version().await.unwrap();
    c.version().await.unwrap();
    c.version().await.unwrap();
    assert_eq!(hits(&proxy_down).await, 1, "after one failure the working endpoint is tried first");
    assert_eq!(hits(&good).await, 3);
    assert_eq!(c.current_endpoint(), Some(good.uri()));
    let h = c.endpoints();
    assert!(h[0].last_error.as_deref().is_some_and(|e| e.contains("596")), "{h:?}");
}

#[tokio::test]
async fn real_answers_are_returned_not_failed_over() {
    for (status, body) in [
        (404, json!({"data": null})),
        (500, json!({"data": null, "message": "VM 100 not running\n"})),
        (400, json!({"data": null, "errors": {"vmid": "bad"}})),
        (403, json!({"data": null, "message": "Permission check failed (/, Sys.Audit)\n"})),
    ] {
        let first = answering(status, body).await;
        let second = answering(200, version_ok()).await;
        let c = common::client(&[first.uri(), second.uri()]);
        let err = c.version().await.unwrap_err();
        assert_eq!(err.status(), Some(status), "{err:?}");
        assert_eq!(hits(&second).await, 0, "HTTP {status} must not fail over");
        assert_eq!(
            c.current_endpoint(),
            Some(first.uri()),
            "the endpoint answered, so it is healthy"
        );
    }
}

#[tokio::test]
async fn all_endpoints_down_lists_each_one() {
    let a = common::dead_endpoint().await;
    let b = answering(503, json!({"data": null})).await;
    let c = common::client(&[a.clone(), b.uri()]);
    let err = c.version().await.unwrap_err();
    let PveError::AllEndpointsFailed(list) = &err else { panic!("{err:?}") };
    assert_eq!(list.len(), 2);
    assert_eq!(list[0].0, a);
    assert_eq!(list[1].0, b.uri());
    assert!(list[1].1.contains("503"), "{list:?}");
    let text = err.to_string();
    assert!(text.contains(&a) && text.contains(&b.uri()), "{text}");
    assert!(err.is_retryable());
    assert!(!text.contains(common::TOKEN_SECRET));
    assert!(c.endpoints().iter().all(|h| !h.ok));
}

#[tokio::test]
async fn single_dead_endpoint_reports_a_connect_error() {
    let dead = common::dead_endpoint().await;
    let err = common::client(std::slice::from_ref(&dead)).version().await.unwrap_err();
    assert!(matches!(err, PveError::Connect { ref endpoint, .. } if *endpoint == dead), "{err:?}");
    assert!(err.is_retryable());
}

#[tokio::test]
async fn get_timeouts_fail_over_but_a_sent_post_is_never_repeated() {
    let slow = MockServer::start().await;
    let delayed =
        ResponseTemplate::new(200).set_body_json(version_ok()).set_delay(Duration::from_secs(3));
    Mock::given(method("GET")).respond_with(delayed.clone()).mount(&slow).await;
    Mock::given(method("POST")).respond_with(delayed).mount(&slow).await;
    let good = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api2/json/version"))
        .respond_with(ResponseTemplate::new(200).set_body_json(version_ok()))
        .mount(&good)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"data": "UPID:n1:00000001:00000001:00000001:qmstart:100:root@pam:"}),
        ))
        .mount(&good)
        .await;
    let mut cfg = common::config(&[slow.uri(), good.uri()]);
    cfg.timeout = Duration::from_millis(300);
    let c = PveClient::new(cfg).unwrap();

    let err = c.guest_action("n1", GuestType::Qemu, 100, GuestAction::Start).await.unwrap_err();
    assert_eq!(err, PveError::Timeout { endpoint: slow.uri() });
    assert_eq!(hits(&good).await, 0, "a POST that may have started a task is not sent again");

    // The slow endpoint is now in backoff, so a GET goes to the good one first; and a GET that
    // times out is safe to retry elsewhere.
    assert!(c.version().await.is_ok());
    let mut cfg = common::config(&[slow.uri(), good.uri()]);
    cfg.timeout = Duration::from_millis(300);
    let fresh = PveClient::new(cfg).unwrap();
    assert!(fresh.version().await.is_ok());
    assert_eq!(fresh.current_endpoint(), Some(good.uri()));
}

async fn cluster_server(status_ok: bool) -> MockServer {
    let s = MockServer::start().await;
    Mock::given(path("/api2/json/cluster/resources"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(common::go("cluster_resources.all.pve7.json"), "application/json"),
        )
        .mount(&s)
        .await;
    let status = if status_ok {
        ResponseTemplate::new(200)
            .set_body_raw(common::go("cluster_status.pve7.json"), "application/json")
    } else {
        ResponseTemplate::new(500)
            .set_body_json(json!({"data": null, "message": "cfs-lock timeout\n"}))
    };
    Mock::given(path("/api2/json/cluster/status")).respond_with(status).mount(&s).await;
    s
}

#[tokio::test]
async fn read_cluster_over_http() {
    let s = cluster_server(true).await;
    let c = common::client(&[s.uri()]);
    let v = read_cluster(&c).await.unwrap();
    let ips: Vec<Option<&str>> = v.nodes.iter().map(|n| n.ip.as_deref()).collect();
    assert_eq!(
        ips,
        [Some("192.168.1.1"), Some("192.168.1.2"), Some("192.168.1.3"), Some("192.168.1.4")]
    );
    assert_eq!(
        v.quorum,
        Quorum { quorate: true, nodes: 4, expected: 4, cluster_name: Some("clustername".into()) }
    );
    assert_eq!((v.vms.len(), v.storage.len()), (4, 12));
    assert_eq!(c.endpoints().len(), 1, "discovery is off in this config");
}

#[tokio::test]
async fn read_cluster_survives_a_failing_cluster_status() {
    let s = cluster_server(false).await;
    let v = read_cluster(&common::client(&[s.uri()])).await.unwrap();
    assert_eq!(v.nodes.len(), 4);
    assert!(v.nodes.iter().all(|n| n.ip.is_none() && n.status == NodeStatus::Online));
    assert_eq!(v.quorum, Quorum { quorate: true, nodes: 4, expected: 4, cluster_name: None });
}

#[tokio::test]
async fn read_cluster_fails_when_resources_fail() {
    let s = MockServer::start().await;
    Mock::given(path("/api2/json/cluster/resources"))
        .respond_with(ResponseTemplate::new(403).set_body_json(
            json!({"data": null, "message": "Permission check failed (/, Sys.Audit)\n"}),
        ))
        .mount(&s)
        .await;
    let err = read_cluster(&common::client(&[s.uri()])).await.unwrap_err();
    assert_eq!(err, PveError::Forbidden("Permission check failed (/, Sys.Audit)".into()));
}

#[tokio::test]
async fn cluster_status_feeds_discovered_endpoints_that_really_serve() {
    let s = MockServer::start().await;
    let port = s.address().port();
    assert_eq!(s.address().ip().to_string(), "127.0.0.1");
    Mock::given(path("/api2/json/cluster/status"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": [
            {"type": "cluster", "name": "c", "quorate": 1, "nodes": 2},
            {"type": "node", "name": "a", "online": 1, "ip": "127.0.0.1", "local": 1},
            {"type": "node", "name": "b", "online": 1, "ip": "127.0.0.2"}
        ]})))
        .mount(&s)
        .await;
    // The configured endpoint cannot serve /version (its proxy is down)…
    Mock::given(path("/api2/json/version"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&s)
        .await;
    // …but node b, discovered at 127.0.0.2 on the same port, can.
    let body = version_ok().to_string();
    let (node_b, seen_b) =
        common::raw_server_at(&format!("127.0.0.2:{port}"), common::raw_response(200, "OK", &body))
            .await;

    let configured = format!("http://127.0.0.1:{port}");
    let mut cfg = common::config(std::slice::from_ref(&configured));
    cfg.discover_endpoints = true;
    let c = PveClient::new(cfg).unwrap();
    assert_eq!(c.endpoints().len(), 1);
    c.cluster_status().await.unwrap();
    let urls: Vec<(String, bool)> =
        c.endpoints().into_iter().map(|h| (h.url, h.discovered)).collect();
    // 127.0.0.1 is the configured endpoint itself, so only node b is added.
    assert_eq!(urls, [(configured.clone(), false), (node_b.clone(), true)]);

    assert_eq!(c.version().await.unwrap().release.as_deref(), Some("8.4"));
    assert_eq!(seen_b.count(), 1);
    assert_eq!(c.current_endpoint(), Some(node_b));
}

#[tokio::test]
async fn discovery_off_adds_nothing() {
    let s = MockServer::start().await;
    Mock::given(path("/api2/json/cluster/status"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(common::go("cluster_status.pve7.json"), "application/json"),
        )
        .mount(&s)
        .await;
    let c = common::client(&[s.uri()]);
    assert_eq!(c.cluster_status().await.unwrap().len(), 5);
    assert_eq!(c.endpoints().len(), 1);
}
