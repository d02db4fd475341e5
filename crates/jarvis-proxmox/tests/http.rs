//! The client against loopback HTTP servers: auth header, error mapping (incl. 401 reason
//! phrases), tolerant payloads, form-encoded POSTs, UPID task polling and path encoding.

mod common;

use std::time::Duration;

use jarvis_domain::cluster::GuestType;
use jarvis_proxmox::{
    Consolidation, GuestAction, ProxmoxActions, ProxmoxApi, PveError, ResourceKind, ResourceType,
    Timeframe, Upid,
};
use serde_json::json;
use wiremock::matchers::{body_string, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn ok(body: serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

fn fixture_body(name: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(common::go(name), "application/json;charset=UTF-8")
}

#[tokio::test]
async fn sends_the_token_header_and_parses_version() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api2/json/version"))
        .and(header(
            "authorization",
            format!("PVEAPIToken={}={}", common::TOKEN_ID, common::TOKEN_SECRET).as_str(),
        ))
        .respond_with(fixture_body("version.pve9.json"))
        .expect(1)
        .mount(&server)
        .await;
    let c = common::client(&[server.uri()]);
    let v = c.version().await.unwrap();
    assert_eq!(v.release.as_deref(), Some("9.1"));
    assert_eq!(c.current_endpoint(), Some(server.uri()));
}

#[tokio::test]
async fn unauthorized_reason_phrase_with_empty_body_is_surfaced() {
    let (url, seen) =
        common::raw_server(common::raw_response(401, "no such token 'x' for user 'root@pam'", ""))
            .await;
    let c = common::client(&[url]);
    let err = c.version().await.unwrap_err();
    assert_eq!(err, PveError::Unauthorized("no such token 'x' for user 'root@pam'".into()));
    let text = err.to_string();
    assert!(text.contains("no such token 'x' for user 'root@pam'"), "{text}");
    assert!(!text.contains(common::TOKEN_SECRET), "the secret must never be in an error");
    assert!(!format!("{err:?}").contains(common::TOKEN_SECRET));
    assert_eq!(seen.count(), 1, "a 401 is an answer, not a reason to fail over or retry");
    let head = seen.heads.lock()[0].to_ascii_lowercase();
    assert!(head.starts_with("get /api2/json/version http/1.1"), "{head}");
    assert!(head.contains(&format!(
        "authorization: pveapitoken={}=",
        common::TOKEN_ID.to_ascii_lowercase()
    )));
}

#[tokio::test]
async fn every_observed_error_status_line_reaches_the_caller() {
    let doc: serde_json::Value =
        serde_json::from_str(&common::fixture("errors.observed.json")).unwrap();
    for case in doc["cases"].as_array().unwrap() {
        let id = case["id"].as_str().unwrap();
        let status = u16::try_from(case["http_status"].as_u64().unwrap()).unwrap();
        let canonical =
            reqwest::StatusCode::from_u16(status).unwrap().canonical_reason().unwrap_or("Error");
        let reason = case["reason"].as_str().unwrap_or(canonical);
        let body = match (&case["body"], &case["body_per_formatter"], &case["body_text"]) {
            (serde_json::Value::Object(_), _, _) => case["body"].to_string(),
            (_, serde_json::Value::Object(_), _) => case["body_per_formatter"].to_string(),
            (_, _, serde_json::Value::String(t)) => t.clone(),
            _ => String::new(),
        };
        let (url, _) = common::raw_server(common::raw_response(status, reason, &body)).await;
        let err = common::client(&[url]).version().await.unwrap_err();
        assert_eq!(err.status(), Some(status), "{id}: {err:?}");
        if let Some(r) = case["reason"].as_str() {
            assert!(err.to_string().contains(r), "{id}: {r:?} not in {err}");
        }
    }
}

#[tokio::test]
async fn forbidden_server_error_and_not_found() {
    let server = MockServer::start().await;
    Mock::given(path("/api2/json/nodes/node1/qemu/100/status/current"))
        .respond_with(ResponseTemplate::new(403).set_body_json(
            json!({"data": null, "message": "Permission check failed (/vms/100, VM.Audit)\n"}),
        ))
        .mount(&server)
        .await;
    Mock::given(path("/api2/json/nodes/doesntexist/status"))
        .respond_with(
            ResponseTemplate::new(500).set_body_raw(
                common::go("error.500.node_doesntexist.pve9.json"),
                "application/json",
            ),
        )
        .mount(&server)
        .await;
    let c = common::client(&[server.uri()]);
    let err = c.guest_status("node1", GuestType::Qemu, 100).await.unwrap_err();
    assert_eq!(err, PveError::Forbidden("Permission check failed (/vms/100, VM.Audit)".into()));
    let err = c.node_status("doesntexist").await.unwrap_err();
    assert_eq!(err, PveError::Api { status: 500, message: "Internal Server Error".into() });
    assert!(!err.is_retryable());
    // Nothing mounted here: wiremock answers 404.
    let err = c.node_storage("nope").await.unwrap_err();
    assert!(
        matches!(err, PveError::NotFound(ref m) if m.contains("/nodes/nope/storage")),
        "{err:?}"
    );
}

#[tokio::test]
async fn numbers_and_booleans_as_strings_parse() {
    let server = MockServer::start().await;
    Mock::given(path("/api2/json/cluster/resources"))
        .and(query_param("type", "vm"))
        .respond_with(ok(json!({"data": [
            {"id": "lxc/105", "type": "lxc", "vmid": "105", "node": "Home", "status": "running",
             "cpu": "0.25", "maxcpu": "2", "mem": "1048576", "maxmem": 2097152.0, "template": "0",
             "uptime": "42", "tags": "a;b", "brand-new-field": {"x": 1}},
            {"id": "qemu/100", "type": "qemu", "vmid": 100, "template": true, "maxmem": "bogus"},
            {"id": "weird/1", "type": "quantum"}
        ]})))
        .mount(&server)
        .await;
    Mock::given(path("/api2/json/nodes/Home/status"))
        .respond_with(ok(json!({"data": {"cpu": "0.5", "uptime": "100", "loadavg": ["1.5", 2, "x"],
            "memory": {"used": "1", "total": "2", "free": 1}, "cpuinfo": {"cpus": "8", "hvm": "1"}}})))
        .mount(&server)
        .await;
    let c = common::client(&[server.uri()]);
    let list = c.cluster_resources(Some(ResourceKind::Vm)).await.unwrap();
    assert_eq!(list.len(), 3, "an unknown type is kept, never fatal");
    let ct = &list[0];
    assert_eq!(
        (ct.vmid, ct.cpu, ct.maxcpu, ct.mem, ct.maxmem),
        (Some(105), Some(0.25), Some(2.0), Some(1_048_576), Some(2_097_152))
    );
    assert_eq!(
        (ct.template, ct.uptime, ct.tag_list()),
        (Some(false), Some(42), vec!["a".to_owned(), "b".to_owned()])
    );
    assert_eq!((list[1].template, list[1].maxmem), (Some(true), None));
    assert_eq!(list[2].kind, ResourceType::Other("quantum".into()));
    let ns = c.node_status("Home").await.unwrap();
    assert_eq!((ns.cpu, ns.uptime, ns.loadavg.as_slice()), (Some(0.5), Some(100), &[1.5, 2.0][..]));
    assert_eq!(ns.memory.unwrap().total, Some(2));
    assert_eq!(ns.cpuinfo.unwrap().cpus, Some(8));
}

#[tokio::test]
async fn malformed_success_payload_is_a_decode_error_naming_the_path() {
    let server = MockServer::start().await;
    Mock::given(path("/api2/json/version"))
        .respond_with(ok(json!({"data": "oops"})))
        .mount(&server)
        .await;
    Mock::given(path("/api2/json/nodes/n1/status"))
        .respond_with(ResponseTemplate::new(200).set_body_raw("<html>proxy</html>", "text/html"))
        .mount(&server)
        .await;
    let c = common::client(&[server.uri()]);
    assert!(
        matches!(c.version().await, Err(PveError::Decode { ref path, .. }) if path == "/version")
    );
    assert!(
        matches!(c.node_status("n1").await, Err(PveError::Decode { ref path, .. }) if path == "/nodes/n1/status")
    );
}

#[tokio::test]
async fn guest_actions_post_form_encoded_and_return_upids() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api2/json/nodes/node1/qemu/100/status/start"))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(body_string(""))
        .respond_with(fixture_body("qemu_start.pve8.json"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api2/json/nodes/node1/lxc/101/status/shutdown"))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .respond_with(fixture_body("lxc_shutdown.pve8.json"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api2/json/nodes/node1/qemu/100/status/reboot"))
        .respond_with(ok(json!({"data": "not a upid"})))
        .mount(&server)
        .await;
    let c = common::client(&[server.uri()]);
    let upid = c.guest_action("node1", GuestType::Qemu, 100, GuestAction::Start).await.unwrap();
    assert_eq!((upid.node(), upid.kind(), upid.id()), ("node1", "qmstart", "100"));
    let upid = c.guest_action("node1", GuestType::Lxc, 101, GuestAction::Shutdown).await.unwrap();
    assert_eq!(upid.kind(), "vzshutdown");
    let err = c.guest_action("node1", GuestType::Qemu, 100, GuestAction::Reboot).await.unwrap_err();
    assert!(matches!(err, PveError::Decode { .. }), "{err:?}");
}

const RUNNING: &str = "UPID:node1:00000001:00000001:00000001:test:running:root@pam:";

/// The encoded status path of a UPID: every ':' '@' '!' percent-encoded.
fn task_path(upid: &str) -> String {
    let enc = upid.replace(':', "%3A").replace('@', "%40").replace('!', "%21");
    format!("/api2/json/nodes/node1/tasks/{enc}/status")
}

#[tokio::test]
async fn task_polling_running_then_ok() {
    let server = MockServer::start().await;
    // A token user in the UPID: '!' and '@' must be encoded in the path segment.
    let upid =
        Upid::parse("UPID:node1:00000002:00000002:00000002:qmstart:100:jarvis@pve!ops:").unwrap();
    let p = task_path(upid.as_str());
    assert!(p.contains("jarvis%40pve%21ops%3A/status"));
    Mock::given(path(p.as_str()))
        .respond_with(fixture_body("task_status.running.pve9.json"))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(path(p.as_str()))
        .respond_with(fixture_body("task_status.completed.pve9.json"))
        .with_priority(2)
        .mount(&server)
        .await;
    let c = common::client(&[server.uri()]);
    let st =
        c.wait_for_task(&upid, Duration::from_secs(5), Duration::from_millis(10)).await.unwrap();
    assert_eq!((st.status.as_deref(), st.exitstatus.as_deref()), (Some("stopped"), Some("OK")));
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

#[tokio::test]
async fn task_polling_failed_and_timeout() {
    let server = MockServer::start().await;
    let failed =
        Upid::parse("UPID:node1:00000003:00000003:00000003:test:failed:root@pam:").unwrap();
    Mock::given(path(task_path(failed.as_str()).as_str()))
        .respond_with(fixture_body("task_status.failed.pve9.json"))
        .mount(&server)
        .await;
    let running = Upid::parse(RUNNING).unwrap();
    Mock::given(path(task_path(RUNNING).as_str()))
        .respond_with(fixture_body("task_status.running.pve9.json"))
        .mount(&server)
        .await;
    let c = common::client(&[server.uri()]);
    let err = c
        .wait_for_task(&failed, Duration::from_secs(5), Duration::from_millis(10))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        PveError::TaskFailed { upid: failed.to_string(), exitstatus: "some error occurred".into() }
    );
    let err = c
        .wait_for_task(&running, Duration::from_millis(100), Duration::from_millis(20))
        .await
        .unwrap_err();
    assert_eq!(err, PveError::TaskTimeout { upid: RUNNING.into() });
}

#[tokio::test]
async fn tasks_rrd_storage_config_and_wol() {
    let server = MockServer::start().await;
    Mock::given(path("/api2/json/cluster/tasks"))
        .respond_with(fixture_body("cluster_tasks.pve9.json"))
        .mount(&server)
        .await;
    Mock::given(path("/api2/json/nodes/node1/tasks"))
        .and(query_param("limit", "5"))
        .respond_with(ok(json!({"data": [{"upid": RUNNING, "node": "node1", "type": "test", "starttime": "7", "status": "OK", "endtime": 9}]})))
        .mount(&server)
        .await;
    Mock::given(path("/api2/json/nodes/node1/rrddata"))
        .and(query_param("timeframe", "hour"))
        .and(query_param("cf", "AVERAGE"))
        .respond_with(ok(json!({"data": [{"time": 1_700_000_000, "cpu": "0.5", "memused": 1024}, {"time": 1_700_000_060}, {"cpu": 1}]})))
        .mount(&server)
        .await;
    Mock::given(path("/api2/json/nodes/node1/storage"))
        .respond_with(fixture_body("node_storage.pve7.json"))
        .mount(&server)
        .await;
    Mock::given(path("/api2/json/nodes/node1/qemu/100/config"))
        .respond_with(fixture_body("qemu_config.100.pve8.json"))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api2/json/nodes/node3/wakeonlan"))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .respond_with(ok(json!({"data": "aa:bb:cc:dd:ee:ff"})))
        .mount(&server)
        .await;
    let c = common::client(&[server.uri()]);
    let all = c.recent_tasks(None, 1).await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].node.as_deref(), Some("node2"), "newest first");
    let one = c.recent_tasks(Some("node1"), 5).await.unwrap();
    assert_eq!((one[0].starttime, one[0].succeeded()), (Some(7), Some(true)));
    let rrd = c.node_rrddata("node1", Timeframe::Hour, Consolidation::Average).await.unwrap();
    assert_eq!(rrd.len(), 2, "a sample without time is skipped");
    assert_eq!(
        (rrd[0].get("cpu"), rrd[0].get("memused"), rrd[1].get("cpu")),
        (Some(0.5), Some(1024.0), None)
    );
    let st = c.node_storage("node1").await.unwrap();
    assert_eq!(st[1].content_list(), ["images", "rootdir"]);
    let cfg = c.guest_config("node1", GuestType::Qemu, 100).await.unwrap();
    assert_eq!(cfg["scsi0"], "local-lvm:vm-100-disk-0,size=32G");
    assert_eq!(c.wake_on_lan("node3").await.unwrap(), "aa:bb:cc:dd:ee:ff");
}

#[tokio::test]
async fn node_names_keep_case_and_are_encoded() {
    let server = MockServer::start().await;
    Mock::given(path("/api2/json/nodes/Home%20Lab/status"))
        .respond_with(fixture_body("node_status.node1.pve9.json"))
        .mount(&server)
        .await;
    Mock::given(path("/api2/json/nodes/PVE-Main/status"))
        .respond_with(fixture_body("node_status.node2.pve9.json"))
        .mount(&server)
        .await;
    let c = common::client(&[server.uri()]);
    assert_eq!(c.node_status("PVE-Main").await.unwrap().uptime, Some(172_800));
    assert_eq!(c.node_status("Home Lab").await.unwrap().uptime, Some(86_400));
    assert!(
        matches!(c.node_status("pve-main").await, Err(PveError::NotFound(_))),
        "never lowercased"
    );
}

#[tokio::test]
async fn storage_content_and_node_power() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api2/json/nodes/pve1/storage/nfs-backup/content"))
        .and(query_param("content", "backup"))
        .respond_with(ok(json!({"data": [
            {"volid": "nfs-backup:backup/vzdump-qemu-100-2026_11_20-01_00_03.vma.zst",
             "content": "backup", "format": "vma.zst", "size": 2147483648u64, "ctime": 1763600403, "vmid": 100},
            {"unexpected": "shape"}
        ]})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api2/json/nodes/pve1/status"))
        .and(body_string("command=reboot"))
        .respond_with(ok(json!({"data": null})))
        .expect(1)
        .mount(&server)
        .await;
    let c = common::client(&[server.uri()]);
    let backups = c.storage_content("pve1", "nfs-backup", Some("backup")).await.unwrap();
    assert_eq!(backups[0].vmid, Some(100));
    assert_eq!(backups[0].size, Some(2147483648));
    c.node_power("pve1", jarvis_proxmox::NodePower::Reboot).await.unwrap();
}
