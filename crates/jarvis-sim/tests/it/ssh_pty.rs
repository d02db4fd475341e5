//! The interactive PTY shell (what the browser terminal drives), and — when the machine has an
//! OpenSSH client — a login with it, pinned by `ssh_known_hosts`.

use std::time::Duration;

use russh::ChannelMsg;

use crate::common::{start, test_config};
use crate::ssh_client::{STEP, key, login, node_ip, read_until};

#[tokio::test]
async fn pty_shell_runs_commands_follows_the_window_and_exits_cleanly() {
    let sim = start(test_config()).await;
    let h = login(&sim, 1).await;
    let mut ch = h.channel_open_session().await.unwrap();
    ch.request_pty(true, "xterm-256color", 80, 24, 0, 0, &[]).await.unwrap();
    ch.request_shell(true).await.unwrap();
    let mut buf = String::new();
    let banner = read_until(&mut ch, &mut buf, "root@pve2:~# ").await;
    assert!(banner.contains("Linux pve2 "), "{banner}");

    ch.data_bytes(&b"hostname\r"[..]).await.unwrap();
    let out = read_until(&mut ch, &mut buf, "root@pve2:~# ").await;
    assert_eq!(out, "hostname\r\npve2\r\nroot@pve2:~# ", "echo, CRLF output, prompt");

    ch.data_bytes(&b"stty size\r"[..]).await.unwrap();
    assert!(read_until(&mut ch, &mut buf, "root@pve2:~# ").await.contains("\r\n24 80\r\n"));
    ch.window_change(120, 40, 0, 0).await.unwrap();
    ch.data_bytes(&b"stty size\r"[..]).await.unwrap();
    assert!(read_until(&mut ch, &mut buf, "root@pve2:~# ").await.contains("\r\n40 120\r\n"));
    ch.data_bytes(&b"tput cols\r"[..]).await.unwrap();
    assert!(read_until(&mut ch, &mut buf, "root@pve2:~# ").await.contains("\r\n120\r\n"));

    // Backspace edits the line; Ctrl-C abandons it; garbage is harmless.
    ch.data_bytes(&b"whoamx\x7fi\r"[..]).await.unwrap();
    assert!(read_until(&mut ch, &mut buf, "root@pve2:~# ").await.contains("\r\nroot\r\n"));
    ch.data_bytes(&b"rm -rf /\x03"[..]).await.unwrap();
    assert!(read_until(&mut ch, &mut buf, "root@pve2:~# ").await.ends_with("^C\r\nroot@pve2:~# "));
    ch.data_bytes(&b"\x1b[A\xff\xfe\x00\x1b\r"[..]).await.unwrap();
    read_until(&mut ch, &mut buf, "root@pve2:~# ").await;
    ch.data_bytes(&b"clear\r"[..]).await.unwrap();
    assert!(read_until(&mut ch, &mut buf, "root@pve2:~# ").await.contains("\x1b[H\x1b[2J"));
    ch.data_bytes(&b"nope\r"[..]).await.unwrap();
    assert!(
        read_until(&mut ch, &mut buf, "root@pve2:~# ")
            .await
            .contains("bash: nope: command not found\r\n")
    );

    ch.data_bytes(&b"exit\r"[..]).await.unwrap();
    let mut status = None;
    loop {
        match tokio::time::timeout(STEP, ch.wait()).await.expect("shell closes") {
            Some(ChannelMsg::ExitStatus { exit_status }) => status = Some(exit_status),
            Some(_) => {}
            None => break,
        }
    }
    assert_eq!(status, Some(0));
    sim.shutdown().await;
}

#[tokio::test]
async fn ctrl_d_logs_out_and_the_user_shows_in_the_prompt() {
    let sim = start(test_config()).await;
    let (mut h, _) = crate::ssh_client::connect(&sim, 0).await.unwrap();
    assert!(crate::ssh_client::auth(&mut h, "jarvis", &key(9)).await);
    let mut ch = h.channel_open_session().await.unwrap();
    ch.request_pty(true, "xterm", 100, 30, 0, 0, &[]).await.unwrap();
    ch.request_shell(true).await.unwrap();
    let mut buf = String::new();
    read_until(&mut ch, &mut buf, "jarvis@pve1:~$ ").await;
    ch.data_bytes(&b"systemctl restart pveproxy\r"[..]).await.unwrap();
    let denied = read_until(&mut ch, &mut buf, "jarvis@pve1:~$ ").await;
    assert!(denied.contains("Interactive authentication required"), "{denied}");
    ch.data_bytes(&b"sudo systemctl restart pveproxy\r"[..]).await.unwrap();
    read_until(&mut ch, &mut buf, "jarvis@pve1:~$ ").await;
    assert_eq!(sim.control().restarted_services("pve1"), ["pveproxy"]);
    ch.data_bytes(&b"\x04"[..]).await.unwrap();
    read_until(&mut ch, &mut buf, "logout").await;
    let mut status = None;
    while let Some(msg) = tokio::time::timeout(STEP, ch.wait()).await.expect("closes") {
        if let ChannelMsg::ExitStatus { exit_status } = msg {
            status = Some(exit_status);
        }
    }
    assert_eq!(status, Some(0));
    sim.shutdown().await;
}

/// Optional: the real OpenSSH client logs in with the pinned known_hosts lines (skipped where
/// there is no `/usr/bin/ssh`).
#[tokio::test]
async fn openssh_client_logs_in_with_the_pinned_host_key() {
    let ssh = std::path::Path::new("/usr/bin/ssh");
    if !ssh.exists() {
        eprintln!("skipped: no /usr/bin/ssh");
        return;
    }
    let sim = start(test_config()).await;
    let dir = tempfile::tempdir().unwrap();
    let key_path = dir.path().join("id_ed25519");
    let pem = key(5).to_openssh(russh::keys::ssh_key::LineEnding::LF).unwrap();
    std::fs::write(&key_path, pem.as_bytes()).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key_path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let known = dir.path().join("known_hosts");
    std::fs::write(&known, sim.ssh_known_hosts().unwrap()).unwrap();
    let port = sim.ssh_port().unwrap().to_string();
    let out = tokio::time::timeout(
        Duration::from_secs(30),
        tokio::process::Command::new(ssh)
            .args(["-F", "/dev/null", "-i"])
            .arg(&key_path)
            .arg("-o")
            .arg(format!("UserKnownHostsFile={}", known.display()))
            .args([
                "-o",
                "StrictHostKeyChecking=yes",
                "-o",
                "BatchMode=yes",
                "-o",
                "IdentitiesOnly=yes",
            ])
            .args(["-p", &port, &format!("root@{}", node_ip(2)), "hostname", "&&", "uptime", "-p"])
            .stdin(std::process::Stdio::null())
            .output(),
    )
    .await
    .expect("ssh finishes")
    .expect("ssh runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "ssh failed: {}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.starts_with("pve3\nup "), "{stdout}");
    sim.shutdown().await;
}
