//! Client keys and connection failures: ed25519 and RSA keys, encrypted keys, an unauthorised
//! key, a missing key file, and nothing listening.

mod common;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use common::{Sshd, T, keygen_fingerprint, pub_path};
use jarvis_ssh::{HostKeyPolicy, HostTarget, RemoteExec, SshConfig, SshError, SshPool};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rsa_client_key_authenticates() {
    let sshd = Sshd::start();
    let rsa = sshd.new_key("client_rsa", "rsa", "");
    sshd.authorize(&rsa);
    let mut cfg = sshd.config(HostKeyPolicy::AcceptAny);
    cfg.key_path = rsa;
    let out = SshPool::new(cfg).unwrap().exec(&sshd.target(), "echo rsa-ok", T).await.unwrap();
    assert_eq!(out.stdout, "rsa-ok\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encrypted_key_needs_its_passphrase_which_is_never_shown() {
    let sshd = Sshd::start();
    let key = sshd.new_key("client_enc", "ed25519", "s3cret-pass");
    sshd.authorize(&key);
    let mut cfg = sshd.config(HostKeyPolicy::AcceptAny);
    cfg.key_path = key;

    let err = SshPool::new(cfg.clone()).unwrap_err();
    assert!(matches!(err, SshError::Key(_)), "{err:?}");
    assert!(err.to_string().contains("passphrase"), "{err}");

    cfg.key_passphrase = Some("wrong-pass".into());
    let err = SshPool::new(cfg.clone()).unwrap_err();
    assert!(matches!(err, SshError::Key(_)), "{err:?}");
    assert!(!err.to_string().contains("wrong-pass"), "{err}");

    cfg.key_passphrase = Some("s3cret-pass".into());
    let pool = SshPool::new(cfg).unwrap();
    assert!(!format!("{pool:?}").contains("s3cret-pass"));
    let out = pool.exec(&sshd.target(), "echo enc-ok", T).await.unwrap();
    assert_eq!(out.stdout, "enc-ok\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unauthorised_key_is_an_auth_error_naming_the_key() {
    let sshd = Sshd::start();
    let stranger = sshd.new_key("stranger", "ed25519", "");
    let mut cfg = sshd.config(HostKeyPolicy::AcceptAny);
    cfg.key_path = stranger.clone();
    let err =
        SshPool::new(cfg).unwrap().exec(&sshd.target(), "echo must-not-run", T).await.unwrap_err();
    match &err {
        SshError::Auth { detail, .. } => {
            assert!(detail.contains(&keygen_fingerprint(&pub_path(&stranger))), "{detail}");
            assert!(detail.contains("authorized_keys"), "{detail}");
        }
        other => panic!("expected Auth, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_key_file_fails_at_construction() {
    let cfg = SshConfig::new("/nonexistent/id_ed25519", HostKeyPolicy::AcceptAny);
    match SshPool::new(cfg) {
        Err(SshError::Key(msg)) => assert!(msg.contains("/nonexistent/id_ed25519"), "{msg}"),
        other => panic!("expected Key error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_listening_is_a_connect_error_not_a_timeout() {
    let sshd = Sshd::start(); // only for its client key
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    }; // closed again: connections are refused
    let pool = SshPool::new(sshd.config(HostKeyPolicy::AcceptAny)).unwrap();
    let started = Instant::now();
    let err = pool
        .exec(&HostTarget::new("down-node", "127.0.0.1", port), "true", Duration::from_secs(30))
        .await
        .unwrap_err();
    match &err {
        SshError::Connect { host, detail } => {
            assert!(host.contains("down-node"), "{host}");
            assert!(detail.to_lowercase().contains("refused"), "{detail}");
        }
        other => panic!("expected Connect, got {other:?}"),
    }
    assert!(started.elapsed() < pool.config().connect_timeout, "refusal should be immediate");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_server_hits_the_connect_timeout() {
    let sshd = Sshd::start(); // only for its client key
    // Accepts TCP but never speaks SSH.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut cfg = sshd.config(HostKeyPolicy::AcceptAny);
    cfg.connect_timeout = Duration::from_millis(500);
    let pool = SshPool::new(cfg).unwrap();
    let err = pool
        .exec(&HostTarget::new("mute", "127.0.0.1", port), "true", Duration::from_secs(30))
        .await
        .unwrap_err();
    assert!(
        matches!(err, SshError::Timeout { after, .. } if after == Duration::from_millis(500)),
        "{err:?}"
    );
    drop(listener);
}
