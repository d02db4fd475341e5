//! `RemoteExec::exec` against a real sshd: output, exit status, timeouts, channel hygiene,
//! concurrency cap, output cap, and connection reuse.

mod common;

use std::time::{Duration, Instant};

use common::{Sshd, T, eventually};
use jarvis_ssh::{PtyEvent, RemoteExec, SshError};
use tokio::sync::mpsc;

async fn read_until(rx: &mut mpsc::Receiver<PtyEvent>, needle: &str) -> String {
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + T;
    while !String::from_utf8_lossy(&seen).contains(needle) {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(PtyEvent::Data(d))) => seen.extend_from_slice(&d),
            other => panic!(
                "waiting for {needle:?}, got {other:?}; output so far: {}",
                String::from_utf8_lossy(&seen)
            ),
        }
    }
    String::from_utf8_lossy(&seen).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn echo_returns_stdout_and_exit_zero() {
    let sshd = Sshd::start();
    let pool = sshd.pool();
    let out = pool.exec(&sshd.target(), "echo hello", T).await.unwrap();
    assert_eq!(out.stdout, "hello\n");
    assert_eq!(out.stderr, "");
    assert_eq!(out.exit_status, Some(0));
    assert!(!out.truncated);
    assert!(out.duration > Duration::ZERO && out.duration < T);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stderr_and_non_zero_exit_status_are_reported() {
    let sshd = Sshd::start();
    let pool = sshd.pool();
    let out = pool.exec(&sshd.target(), "sh -c 'echo err >&2; exit 3'", T).await.unwrap();
    assert_eq!(out.stdout, "");
    assert_eq!(out.stderr, "err\n");
    assert_eq!(out.exit_status, Some(3));
    // A command killed by a signal reports 128 + the signal number, as in a shell.
    let out = pool.exec(&sshd.target(), "sh -c 'kill -9 $$'", T).await.unwrap();
    assert_eq!(out.exit_status, Some(137));
    // Quotes and shell syntax reach the login shell intact through the wrapper.
    let out = pool
        .exec(&sshd.target(), "a='it'\\''s'; echo \"$a\" | tr a-z A-Z; read x || echo no-stdin", T)
        .await
        .unwrap();
    assert_eq!(out.stdout, "IT'S\nno-stdin\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn timeout_kills_only_its_command_not_the_connection_or_an_open_pty() {
    let sshd = Sshd::start();
    let pool = sshd.pool();
    let target = sshd.target();
    let mut pty = pool.open_pty(&target, "xterm-256color", 80, 24).await.unwrap();
    let mut events = pty.take_events().unwrap();
    pty.write(b"echo \"pty-\"\"before\"\n").await.unwrap();
    read_until(&mut events, "pty-before\r\n").await;

    let started = Instant::now();
    let err = pool.exec(&target, "sleep 4.321", Duration::from_secs(1)).await.unwrap_err();
    assert!(
        matches!(err, SshError::Timeout { after, .. } if after == Duration::from_secs(1)),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(4), "waited for the command");

    // Same pooled connection still works, right away.
    let out = pool.exec(&target, "echo still-here", T).await.unwrap();
    assert_eq!(out.stdout, "still-here\n");
    // The open terminal survived the timeout. (Quotes split the word, so only the command's
    // output matches, not the terminal's echo of what was typed.)
    pty.write(b"echo \"pty-\"\"after\"\n").await.unwrap();
    read_until(&mut events, "pty-after\r\n").await;
    assert_eq!(pool.host_stats(&target).connections_opened, 1);

    // The timed-out command was killed on the node, not left running.
    let mut gone = false;
    for _ in 0..40 {
        let ps =
            pool.exec(&target, "ps -eo args | grep -c '^sleep 4.321' || true", T).await.unwrap();
        if ps.stdout.trim() == "0" {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(gone, "the timed-out remote command is still running");
    pty.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_timeouts_failures_and_cancellations_leak_no_channels() {
    let sshd = Sshd::start();
    let pool = sshd.pool();
    let target = sshd.target();
    // sshd allows MaxSessions 10 per connection: leaking channels would exhaust it long before 30.
    for i in 0..30 {
        match i % 3 {
            0 => {
                let err =
                    pool.exec(&target, "sleep 30", Duration::from_millis(200)).await.unwrap_err();
                assert!(matches!(err, SshError::Timeout { .. }), "{err:?}");
            }
            1 => {
                let out = pool.exec(&target, "no-such-command-jarvis", T).await.unwrap();
                assert_eq!(out.exit_status, Some(127));
            }
            _ => {
                // The caller gives up (future dropped) while the command runs.
                tokio::select! {
                    r = pool.exec(&target, "sleep 30", T) => panic!("finished early: {r:?}"),
                    () = tokio::time::sleep(Duration::from_millis(200)) => {}
                }
            }
        }
    }
    for i in 0..20 {
        let out = pool
            .exec(&target, &format!("echo ok-{i}"), T)
            .await
            .unwrap_or_else(|e| panic!("exec {i} after the failures: {e}"));
        assert_eq!(out.stdout, format!("ok-{i}\n"));
    }
    assert_eq!(pool.host_stats(&target).connections_opened, 1);
    assert!(
        eventually(Duration::from_secs(10), || pool.host_stats(&target).open_channels == 0).await,
        "slots still held: {:?}",
        pool.host_stats(&target)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_execs_share_one_connection_and_respect_the_channel_cap() {
    let sshd = Sshd::start();
    let pool = sshd.pool();
    let target = sshd.target();
    assert_eq!(pool.config().max_channels_per_host, 8);
    let dir = sshd.dir.path().join("running");
    std::fs::create_dir(&dir).unwrap();
    // Each command counts the commands running on the node at that moment.
    let cmd = format!(
        "d={}; : > $d/$$; n=$(ls $d | wc -l); sleep 0.3; rm -f $d/$$; echo x $n",
        dir.display()
    );
    let tasks: Vec<_> = (0..25)
        .map(|_| {
            let (pool, target, cmd) = (pool.clone(), target.clone(), cmd.clone());
            tokio::spawn(async move { pool.exec(&target, &cmd, Duration::from_secs(30)).await })
        })
        .collect();
    let mut max_running = 0;
    for task in tasks {
        let out = task.await.unwrap().unwrap();
        let mut words = out.stdout.split_whitespace();
        assert_eq!(words.next(), Some("x"), "{out:?}");
        let n: usize = words.next().unwrap().parse().unwrap();
        max_running = max_running.max(n);
    }
    assert!(max_running <= 8, "{max_running} commands ran at once on the node");
    let stats = pool.host_stats(&target);
    assert!((2..=8).contains(&stats.peak_open_channels), "peak {}", stats.peak_open_channels);
    assert_eq!(stats.connections_opened, 1, "concurrent callers opened duplicate connections");
    assert_eq!(sshd.established_connections(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn output_is_capped_per_stream_and_the_command_still_completes() {
    let sshd = Sshd::start();
    let mut cfg = sshd.config(jarvis_ssh::HostKeyPolicy::AcceptAny);
    cfg.output_cap = 65536;
    let pool = jarvis_ssh::SshPool::new(cfg).unwrap();
    let out = pool
        .exec(&sshd.target(), "head -c 2000000 /dev/zero | tr '\\0' a; echo small >&2", T)
        .await
        .unwrap();
    assert!(out.truncated);
    assert_eq!(out.stdout.len(), 65536);
    assert!(out.stdout.bytes().all(|b| b == b'a'));
    assert_eq!(out.stderr, "small\n", "stderr has its own cap");
    assert_eq!(out.exit_status, Some(0), "drained to the end, not cut off");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn binary_output_is_decoded_lossily() {
    let sshd = Sshd::start();
    let pool = sshd.pool();
    let out = pool
        .exec(&sshd.target(), "printf 'ok\\377\\376\\n'; head -c 65536 /dev/urandom", T)
        .await
        .unwrap();
    assert!(out.stdout.starts_with("ok\u{fffd}\u{fffd}\n"), "{:?}", &out.stdout[..8]);
    assert_eq!(out.exit_status, Some(0));
    assert!(!out.truncated);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_execs_use_one_tcp_connection() {
    let sshd = Sshd::start();
    let pool = sshd.pool();
    let target = sshd.target();
    for i in 0..30 {
        let out = pool.exec(&target, &format!("echo {i}"), T).await.unwrap();
        assert_eq!(out.stdout, format!("{i}\n"));
    }
    assert_eq!(pool.host_stats(&target).connections_opened, 1);
    assert_eq!(sshd.established_connections(), 1, "sshd sees one TCP connection");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_dead_connection_is_replaced_not_reused() {
    let mut sshd = Sshd::start();
    let mut cfg = sshd.config(jarvis_ssh::HostKeyPolicy::AcceptAny);
    cfg.connect_timeout = Duration::from_secs(10);
    let pool = jarvis_ssh::SshPool::new(cfg).unwrap();
    let target = sshd.target();
    assert_eq!(pool.exec(&target, "echo 1", T).await.unwrap().stdout, "1\n");
    // The node "reboots": every connection drops and sshd comes back on the same port.
    sshd.stop();
    sshd.restart_with_new_host_key(); // AcceptAny: only the reconnect matters here
    let out = pool.exec(&target, "echo 2", T).await.unwrap();
    assert_eq!(out.stdout, "2\n");
    assert_eq!(pool.host_stats(&target).connections_opened, 2);
}
