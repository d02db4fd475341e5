//! The server's SSH tools against a REAL OpenSSH sshd on loopback. The simulated node `pve1`
//! reports the address 127.0.1.1; an sshd started here listens exactly there, so the server's
//! node-name → address resolution, host-key pinning (known_hosts), quoting and timeouts meet the
//! real thing. (Needs /usr/sbin/sshd; `scripts/install-test-deps.sh` installs it.)

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::harness::{TestServer, config, pve_for};

struct Sshd {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
    known_hosts: std::path::PathBuf,
    client_key: std::path::PathBuf,
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn keygen(path: &Path) {
    let ok = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(path)
        .status()
        .expect("ssh-keygen (openssh-client) must be installed");
    assert!(ok.success());
}

fn start_sshd(ip: &str) -> Sshd {
    assert!(
        Path::new("/usr/sbin/sshd").exists(),
        "/usr/sbin/sshd missing: run scripts/install-test-deps.sh"
    );
    std::fs::create_dir_all("/run/sshd").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (host_key, client_key) = (d.join("host_key"), d.join("client_key"));
    keygen(&host_key);
    keygen(&client_key);
    std::fs::copy(d.join("client_key.pub"), d.join("authorized_keys")).unwrap();
    std::fs::create_dir_all(d.join("home")).unwrap();
    let user = String::from_utf8(Command::new("whoami").output().unwrap().stdout)
        .unwrap()
        .trim()
        .to_string();
    let port = std::net::TcpListener::bind((ip, 0)).unwrap().local_addr().unwrap().port();
    let config = format!(
        "Port {port}\nListenAddress {ip}\nHostKey {}\nAuthorizedKeysFile {}\nPasswordAuthentication no\n\
         KbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\nPidFile {}\nLogLevel ERROR\n\
         AllowUsers {user}\nPermitRootLogin prohibit-password\nSetEnv HOME={}\n",
        host_key.display(),
        d.join("authorized_keys").display(),
        d.join("sshd.pid").display(),
        d.join("home").display(),
    );
    std::fs::write(d.join("sshd_config"), config).unwrap();
    let child = Command::new("/usr/sbin/sshd")
        .args(["-D", "-e", "-f"])
        .arg(d.join("sshd_config"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect((ip, port)).is_err() {
        assert!(Instant::now() < deadline, "sshd did not start");
        std::thread::sleep(Duration::from_millis(25));
    }
    let pubkey = std::fs::read_to_string(host_key.with_extension("pub")).unwrap();
    let mut fields = pubkey.split_whitespace();
    let line = format!("[{ip}]:{port} {} {}\n", fields.next().unwrap(), fields.next().unwrap());
    let known_hosts = d.join("known_hosts");
    std::fs::write(&known_hosts, line).unwrap();
    Sshd { child, port, _dir: dir, known_hosts, client_key }
}

/// A server over a simulator without SSH whose SSH settings point at `sshd` (pinned through its
/// known_hosts file); returns it logged in, once the cluster (with pve1 at 127.0.1.1) is known.
async fn server_for(sshd: &Sshd) -> (TestServer, String) {
    let sim =
        jarvis_sim::SimServer::start(jarvis_sim::SimConfig { ssh: false, ..Default::default() })
            .await
            .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(pve_for(&sim), dir.path().join("jarvis.db"));
    cfg.ssh = Some(jarvis::config::SshSettings {
        client: jarvis_ssh::SshConfig::new(
            &sshd.client_key,
            jarvis_ssh::HostKeyPolicy::KnownHosts(sshd.known_hosts.clone()),
        ),
        port: sshd.port,
    });
    let s = TestServer::start_config(cfg, Some(sim), dir).await;
    let token = s.login().await;
    s.wait_cluster(&token, 10, |c| c["nodes"][0]["ip"] == "127.0.1.1").await;
    (s, token)
}

#[tokio::test(flavor = "multi_thread")]
async fn ssh_tools_run_against_a_real_sshd() {
    let sshd = start_sshd("127.0.1.1");
    let (s, token) = server_for(&sshd).await;

    let me = String::from_utf8(Command::new("hostname").output().unwrap().stdout).unwrap();
    let (status, body) =
        s.tool(&token, "execute_ssh", json!({"node": "pve1", "command": "hostname"})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["result"]["stdout"].as_str().unwrap().trim(),
        me.trim(),
        "the real sshd answered"
    );
    for command in ["cat /proc/loadavg", "df -h", "uptime", "free -m", "ps aux"] {
        let (status, body) =
            s.tool(&token, "execute_ssh", json!({"node": "pve1", "command": command})).await;
        assert_eq!(status, 200, "{command}: {body}");
        assert_eq!(body["result"]["exitCode"], 0, "{command}: {body}");
    }
    // (Timeouts that kill the remote command without hurting the pooled connection are proven
    // against real sshd in crates/jarvis-ssh/tests/exec.rs.)
    let (status, body) =
        s.tool(&token, "execute_ssh", json!({"node": "pve1", "command": "cat /etc/shadow"})).await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = s.tool(&token, "get_node_temperature", json!({"node": "pve1"})).await;
    assert_eq!(status, 200, "the temperature script runs in a real shell: {body}");
    assert!(body["result"]["zones"].is_object());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_host_key_that_does_not_match_known_hosts_is_refused() {
    let sshd = start_sshd("127.0.1.1");
    // Pin some other key for the node.
    let other = tempfile::tempdir().unwrap();
    keygen(&other.path().join("k"));
    let pubkey = std::fs::read_to_string(other.path().join("k.pub")).unwrap();
    let mut f = pubkey.split_whitespace();
    std::fs::write(
        &sshd.known_hosts,
        format!("[127.0.1.1]:{} {} {}\n", sshd.port, f.next().unwrap(), f.next().unwrap()),
    )
    .unwrap();
    let (s, token) = server_for(&sshd).await;
    let (status, body) =
        s.tool(&token, "execute_ssh", json!({"node": "pve1", "command": "hostname"})).await;
    assert_eq!(status, 502, "{body}");
    let msg = body["error"]["message"].as_str().unwrap().to_lowercase();
    assert!(msg.contains("host key") || msg.contains("mismatch"), "{msg}");
}
