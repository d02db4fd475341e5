//! `serve` pointed at a PVE API that replays recorded responses of real clusters, over HTTPS with
//! a self-signed certificate pinned by fingerprint — and refused when the pin is wrong.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::harness::TestServer;

fn fixtures() -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/pve/go-proxmox");
    assert!(
        p.is_dir(),
        "fixtures missing at {} (fixtures/pve at the repository root)",
        p.display()
    );
    p
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(fixtures().join(name)).unwrap()
}

/// A tiny HTTPS server answering GET paths from a table; counts the requests it actually read.
struct ReplayServer {
    url: String,
    fingerprint: String,
    requests: Arc<AtomicUsize>,
}

async fn replay_server(routes: Vec<(&'static str, String)>) -> ReplayServer {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let cert =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    let der = cert.cert.der().clone();
    let digest = <sha2::Sha256 as sha2::Digest>::digest(der.as_ref());
    let fingerprint = digest.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":");
    let key = rustls::pki_types::PrivateKeyDer::try_from(cert.signing_key.serialize_der()).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![der], key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://{}", listener.local_addr().unwrap());
    let requests = Arc::new(AtomicUsize::new(0));
    let counter = requests.clone();
    let routes = Arc::new(routes);
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, routes, counter) = (acceptor.clone(), routes.clone(), counter.clone());
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else { return };
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                counter.fetch_add(1, Ordering::SeqCst);
                let head = String::from_utf8_lossy(&buf);
                let path = head.split_whitespace().nth(1).unwrap_or("/");
                let path = path.split('?').next().unwrap_or(path);
                let found = routes.iter().find(|(p, _)| path.ends_with(p));
                let (status, body) = match found {
                    Some((_, body)) => ("200 OK", body.clone()),
                    None => ("501 Method not implemented", "{\"data\":null}".to_string()),
                };
                let resp = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: application/json;charset=UTF-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(resp.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    ReplayServer { url, fingerprint, requests }
}

fn pve_config(url: &str, fingerprint: &str) -> jarvis_proxmox::PveConfig {
    let mut pve = jarvis_proxmox::PveConfig::new(
        vec![url::Url::parse(url).unwrap()],
        "jarvis@pve!test",
        "5f3c2a9e-0000-4000-8000-000000000000",
    );
    pve.tls = jarvis_proxmox::TlsMode::Fingerprints(
        jarvis_proxmox::parse_fingerprints(fingerprint).unwrap(),
    );
    pve.discover_endpoints = false;
    pve.timeout = Duration::from_secs(3);
    pve
}

#[tokio::test(flavor = "multi_thread")]
async fn recorded_pve7_cluster_is_shown_exactly() {
    let pve = replay_server(vec![
        ("/cluster/resources", fixture("cluster_resources.all.pve7.json")),
        ("/cluster/status", fixture("cluster_status.pve7.json")),
        ("/version", fixture("version.pve7.json")),
    ])
    .await;
    // The GUI / openssl form: upper-case colon-separated SHA-256.
    let s = TestServer::start_with(pve_config(&pve.url, &pve.fingerprint), None).await;
    let token = s.login().await;
    let c = s.wait_cluster(&token, 10, |c| c["updatedAt"].is_string()).await;

    let names: Vec<&str> =
        c["nodes"].as_array().unwrap().iter().map(|n| n["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["node1", "node2", "node3", "node4"]);
    let node1 = &c["nodes"][0];
    assert_eq!(node1["ip"], "192.168.1.1");
    assert_eq!(node1["status"], "online");
    assert_eq!(node1["maxmem"], 65919459328u64);
    assert_eq!(node1["mem"], 2113265664u64);
    assert_eq!(node1["maxcpu"], 8);
    assert_eq!(node1["uptime"], 872854);

    let vms = c["vms"].as_array().unwrap();
    let ids: Vec<u64> = vms.iter().map(|v| v["vmid"].as_u64().unwrap()).collect();
    assert_eq!(ids, [100, 101, 102, 200]);
    assert_eq!(vms[0]["name"], "server1");
    assert_eq!(vms[0]["status"], "running");
    assert_eq!(vms[0]["node"], "node2");
    assert_eq!(vms[0]["type"], "qemu");
    assert_eq!(vms[0]["mem"], 842551296u64);
    assert_eq!(vms[1]["template"], true);
    assert_eq!(vms[2]["status"], "stopped");
    assert_eq!(vms[2]["tags"].as_array().unwrap().len(), 1, "{}", vms[2]["tags"]);

    let storage = c["storage"].as_array().unwrap();
    assert_eq!(storage.len(), 12);
    let zfs = storage.iter().find(|s| s["storage"] == "local-zfs" && s["node"] == "node2").unwrap();
    assert_eq!(zfs["type"], "zfspool");
    assert_eq!(zfs["total"], 962664386560u64);
    assert_eq!(zfs["used"], 25294921728u64);
    assert_eq!(zfs["avail"], 962664386560u64 - 25294921728u64);
    assert_eq!(zfs["content"], serde_json::json!(["images", "rootdir"]));
    assert_eq!(zfs["shared"], false);

    assert_eq!(
        c["quorum"],
        serde_json::json!({"quorate": true, "nodes": 4, "expected": 4, "clusterName": "clustername"})
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn loosely_typed_payloads_parse_without_loss() {
    // Later PVE versions and proxies send numbers as strings and booleans as strings; a
    // standalone node has no `cluster` entry in /cluster/status.
    let resources = r#"{"data":[
        {"id":"node/pve","type":"node","node":"pve","status":"online","cpu":"0.25","maxcpu":"16",
         "mem":"1073741824","maxmem":"68719476736","disk":"10","maxdisk":"100","uptime":"42","level":""},
        {"id":"lxc/105","type":"lxc","vmid":"105","name":"pihole","node":"pve","status":"running",
         "cpu":0.01,"maxcpu":1,"mem":"134217728","maxmem":536870912,"disk":"1048576","maxdisk":8589934592,
         "uptime":3600,"template":"0","tags":"dns;infra","netin":1,"unknownfield":{"x":1}},
        {"id":"storage/pve/nfs","type":"storage","storage":"nfs","node":"pve","status":"available",
         "plugintype":"nfs","content":"backup","shared":"1","disk":"5","maxdisk":"10"},
        {"id":"sdn/pve/localnetwork","type":"sdn","sdn":"localnetwork","node":"pve","status":"ok"}
    ]}"#;
    let status = r#"{"data":[{"id":"node/pve","type":"node","name":"pve","online":1,"local":1,"nodeid":0,"ip":"10.1.2.3","level":""}]}"#;
    let pve = replay_server(vec![
        ("/cluster/resources", resources.to_string()),
        ("/cluster/status", status.to_string()),
    ])
    .await;
    let s =
        TestServer::start_with(pve_config(&pve.url, &pve.fingerprint.to_lowercase()), None).await;
    let token = s.login().await;
    let c = s.wait_cluster(&token, 10, |c| c["updatedAt"].is_string()).await;
    assert_eq!(c["nodes"][0]["maxcpu"], 16);
    assert_eq!(c["nodes"][0]["cpu"], 0.25);
    assert_eq!(c["nodes"][0]["ip"], "10.1.2.3");
    let ct: &Value = &c["vms"][0];
    assert_eq!(ct["vmid"], 105);
    assert_eq!(ct["type"], "lxc");
    assert_eq!(ct["mem"], 134217728);
    assert_eq!(ct["template"], false);
    assert_eq!(ct["tags"], serde_json::json!(["dns", "infra"]));
    assert_eq!(c["storage"][0]["shared"], true);
    assert_eq!(c["storage"].as_array().unwrap().len(), 1, "sdn entries are not storage");
    assert_eq!(c["quorum"]["quorate"], true);
    assert_eq!(c["quorum"]["nodes"], 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_fingerprint_means_no_data_is_read() {
    let pve = replay_server(vec![
        ("/cluster/resources", fixture("cluster_resources.all.pve7.json")),
        ("/cluster/status", fixture("cluster_status.pve7.json")),
    ])
    .await;
    let wrong = ["AB"; 32].join(":");
    let s = TestServer::start_with(pve_config(&pve.url, &wrong), None).await;
    let token = s.login().await;
    let c = s.wait_cluster(&token, 10, |c| c["freshness"]["error"].is_string()).await;
    assert!(c["nodes"].as_array().unwrap().is_empty());
    let err = c["freshness"]["error"].as_str().unwrap().to_lowercase();
    assert!(err.contains("fingerprint"), "the error names the cause: {err}");
    assert_eq!(
        pve.requests.load(Ordering::SeqCst),
        0,
        "no HTTP request may reach an unverified server"
    );
    let h: Value = s.http.get(s.url("/api/health")).send().await.unwrap().json().await.unwrap();
    assert_eq!(h["components"]["proxmox"]["status"], "down", "{h}");
}
