//! Host-key policies against a real sshd: known_hosts (plain, hashed, by node name, mismatch,
//! unknown) and trust-on-first-use pinning across pool instances and a "reinstalled" node.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::process::Command;

use common::{Sshd, T, keygen, keygen_fingerprint, pub_path};
use jarvis_ssh::{HostKeyPolicy, HostTarget, RemoteExec, SshError, SshPool};

fn pool_with(sshd: &Sshd, policy: HostKeyPolicy) -> SshPool {
    SshPool::new(sshd.config(policy)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn known_hosts_plain_and_hashed_entries_are_trusted() {
    let sshd = Sshd::start();
    let kh = sshd.dir.path().join("kh_plain");
    let other = sshd.dir.path().join("other_host_key");
    keygen(&other, "ed25519", "");
    // An unrelated host first, so the lookup has to pick the right line.
    let unrelated = fs::read_to_string(pub_path(&other)).unwrap();
    let unrelated: Vec<&str> = unrelated.split_whitespace().collect();
    let text = format!(
        "# managed by test\n10.9.9.9 {} {}\n{}",
        unrelated[0],
        unrelated[1],
        sshd.known_hosts_line(&format!("[127.0.0.1]:{}", sshd.port))
    );
    fs::write(&kh, &text).unwrap();
    let out = pool_with(&sshd, HostKeyPolicy::KnownHosts(kh.clone()))
        .exec(&sshd.target(), "echo plain", T)
        .await
        .unwrap();
    assert_eq!(out.stdout, "plain\n");

    // `ssh-keygen -H` hashes every host name in place (OpenSSH's HashKnownHosts format).
    let hashed = sshd.dir.path().join("kh_hashed");
    fs::write(&hashed, &text).unwrap();
    let status = Command::new("ssh-keygen").args(["-q", "-H", "-f"]).arg(&hashed).status().unwrap();
    assert!(status.success());
    let hashed_text = fs::read_to_string(&hashed).unwrap();
    assert!(hashed_text.contains("|1|") && !hashed_text.contains("127.0.0.1"), "{hashed_text}");
    let out = pool_with(&sshd, HostKeyPolicy::KnownHosts(hashed))
        .exec(&sshd.target(), "echo hashed", T)
        .await
        .unwrap();
    assert_eq!(out.stdout, "hashed\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn known_hosts_entry_under_the_node_name_is_trusted() {
    let sshd = Sshd::start();
    let kh = sshd.dir.path().join("kh_node");
    // PVE's cluster-wide known_hosts lists nodes by name.
    fs::write(&kh, sshd.known_hosts_line(&format!("[pve-test]:{}", sshd.port))).unwrap();
    let target = HostTarget::new("pve-test", "127.0.0.1", sshd.port);
    let out = pool_with(&sshd, HostKeyPolicy::KnownHosts(kh))
        .exec(&target, "echo by-name", T)
        .await
        .unwrap();
    assert_eq!(out.stdout, "by-name\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn known_hosts_with_a_different_key_is_a_mismatch() {
    let sshd = Sshd::start();
    let other = sshd.dir.path().join("impostor_key");
    keygen(&other, "ed25519", "");
    let public = fs::read_to_string(pub_path(&other)).unwrap();
    let kh = sshd.dir.path().join("kh_wrong");
    fs::write(&kh, format!("[127.0.0.1]:{} {public}", sshd.port)).unwrap();
    let err = pool_with(&sshd, HostKeyPolicy::KnownHosts(kh))
        .exec(&sshd.target(), "echo must-not-run", T)
        .await
        .unwrap_err();
    match &err {
        SshError::HostKeyMismatch { expected, got, .. } => {
            // Exactly what `ssh-keygen -lf` prints for each key.
            assert_eq!(expected, &keygen_fingerprint(&pub_path(&other)));
            assert_eq!(got, &sshd.host_fingerprint());
        }
        other => panic!("expected HostKeyMismatch, got {other:?}"),
    }
    assert!(err.to_string().contains(&sshd.host_fingerprint()), "{err}");
    assert!(err.to_string().contains("ssh-keygen -lf"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_absent_from_known_hosts_is_unknown_with_its_fingerprint() {
    let sshd = Sshd::start();
    let kh = sshd.dir.path().join("kh_other_port");
    // Same address, another port: a different host for OpenSSH.
    fs::write(&kh, sshd.known_hosts_line(&format!("[127.0.0.1]:{}", sshd.port + 1))).unwrap();
    let pool = pool_with(&sshd, HostKeyPolicy::KnownHosts(kh));
    let err = pool.exec(&sshd.target(), "echo must-not-run", T).await.unwrap_err();
    match &err {
        SshError::UnknownHostKey { fingerprint, .. } => {
            assert_eq!(fingerprint, &sshd.host_fingerprint());
        }
        other => panic!("expected UnknownHostKey, got {other:?}"),
    }
    assert!(err.to_string().contains(&sshd.host_fingerprint()), "{err}");
    assert_eq!(pool.host_stats(&sshd.target()).connections_opened, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tofu_pins_on_first_use_and_refuses_a_reinstalled_node() {
    let mut sshd = Sshd::start();
    let pins = sshd.dir.path().join("state/ssh-pins.json");
    let target = sshd.target();
    let first_fp = sshd.host_fingerprint();

    // First contact records the key.
    let out = pool_with(&sshd, HostKeyPolicy::TrustOnFirstUse(pins.clone()))
        .exec(&target, "echo first", T)
        .await
        .unwrap();
    assert_eq!(out.stdout, "first\n");
    let recorded: BTreeMap<String, String> =
        serde_json::from_str(&fs::read_to_string(&pins).unwrap()).unwrap();
    assert_eq!(recorded, BTreeMap::from([(format!("127.0.0.1:{}", sshd.port), first_fp.clone())]));

    // A second pool instance (a restarted Jarvis) reads the pin and connects.
    let second = pool_with(&sshd, HostKeyPolicy::TrustOnFirstUse(pins.clone()));
    assert_eq!(second.exec(&target, "echo second", T).await.unwrap().stdout, "second\n");

    // The node is reinstalled: same address and port, new host key.
    sshd.restart_with_new_host_key();
    let new_fp = sshd.host_fingerprint();
    assert_ne!(new_fp, first_fp);
    let err = second.exec(&target, "echo must-not-run", T).await.unwrap_err();
    match &err {
        SshError::HostKeyMismatch { expected, got, .. } => {
            assert_eq!(expected, &first_fp);
            assert_eq!(got, &new_fp);
        }
        other => panic!("expected HostKeyMismatch, got {other:?}"),
    }
    // The pin is not silently replaced.
    let after: BTreeMap<String, String> =
        serde_json::from_str(&fs::read_to_string(&pins).unwrap()).unwrap();
    assert_eq!(after, recorded);
    // The server itself is fine: only the key check refused it.
    let out = pool_with(&sshd, HostKeyPolicy::AcceptAny)
        .exec(&target, "echo reachable", T)
        .await
        .unwrap();
    assert_eq!(out.stdout, "reachable\n");
}
