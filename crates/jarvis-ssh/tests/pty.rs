//! Interactive PTY sessions against a real sshd: terminal type and size, resize, binary-safe
//! input and output, exit, close, drop, and the pool still working afterwards.

mod common;

use std::time::Duration;

use common::{Sshd, T, eventually};
use jarvis_ssh::{HostKeyPolicy, PtyEvent, RemoteExec, SshError, SshPool};
use tokio::sync::mpsc;

/// Terminal output read so far, and how much of it earlier expectations consumed.
struct Screen {
    seen: Vec<u8>,
    pos: usize,
}

impl Screen {
    fn new() -> Self {
        Self { seen: Vec::new(), pos: 0 }
    }

    /// Reads until `needle` appears after the previous match; returns the text up to its end.
    async fn expect(&mut self, rx: &mut mpsc::Receiver<PtyEvent>, needle: &[u8]) -> Vec<u8> {
        let deadline = tokio::time::Instant::now() + T;
        loop {
            if let Some(i) = self.seen[self.pos..].windows(needle.len()).position(|w| w == needle) {
                let end = self.pos + i + needle.len();
                let out = self.seen[self.pos..end].to_vec();
                self.pos = end;
                return out;
            }
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(PtyEvent::Data(d))) => self.seen.extend_from_slice(&d),
                other => panic!(
                    "waiting for {:?}, got {other:?}; output so far: {:?}",
                    String::from_utf8_lossy(needle),
                    String::from_utf8_lossy(&self.seen[self.pos..])
                ),
            }
        }
    }
}

/// Skips output until the `Exit` event, which must be followed by the end of the stream.
async fn read_exit(rx: &mut mpsc::Receiver<PtyEvent>) -> Option<u32> {
    let deadline = tokio::time::Instant::now() + T;
    loop {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(PtyEvent::Data(_))) => {}
            Ok(Some(PtyEvent::Exit(status))) => {
                let end = tokio::time::timeout_at(deadline, rx.recv()).await;
                assert!(matches!(end, Ok(None)), "events after Exit: {end:?}");
                return status;
            }
            other => panic!("expected Exit, got {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn terminal_type_size_resize_binary_and_exit() {
    let sshd = Sshd::start();
    let pool = sshd.pool();
    let target = sshd.target();
    let mut pty = pool.open_pty(&target, "xterm-256color", 80, 24).await.unwrap();
    let mut events = pty.take_events().unwrap();
    assert!(pty.take_events().is_none(), "events can be taken once");

    let mut screen = Screen::new();
    pty.write(b"echo \"T=$TERM\"; stty size\n").await.unwrap();
    screen.expect(&mut events, b"T=xterm-256color\r\n").await;
    screen.expect(&mut events, b"24 80\r\n").await;

    pty.resize(100, 40).await.unwrap();
    pty.write(b"stty size\n").await.unwrap();
    screen.expect(&mut events, b"40 100\r\n").await;

    // Raw bytes in (not valid UTF-8), then Ctrl-U to discard the line: no panic, shell alive.
    pty.write(&[0xff, 0xfe, 0x00, 0x1b, 0x80, b'x', 0x15]).await.unwrap();
    // Raw bytes out: the terminal stream is bytes, not text.
    // (The typed command echoes as `BIN\377\376END`; only the output has the raw bytes.)
    pty.write(b"printf 'BIN\\377\\376END\\n'\n").await.unwrap();
    screen.expect(&mut events, b"BIN\xff\xfeEND\r\n").await;

    // A writer clone works from another task while this one reads.
    let writer = pty.writer();
    tokio::spawn(async move { writer.write(b"echo \"from-\"\"writer\"\n").await.unwrap() })
        .await
        .unwrap();
    screen.expect(&mut events, b"from-writer\r\n").await;

    pty.write(b"exit 0\n").await.unwrap();
    assert_eq!(read_exit(&mut events).await, Some(0));
    assert!(pty.is_closed());
    assert!(matches!(pty.write(b"echo late\n").await, Err(SshError::Closed)));
    assert!(matches!(pty.resize(10, 10).await, Err(SshError::Closed)));

    // The pool still works, on the same connection, and the slot was returned.
    let out = pool.exec(&target, "echo after-pty", T).await.unwrap();
    assert_eq!(out.stdout, "after-pty\n");
    let stats = pool.host_stats(&target);
    assert_eq!(stats.connections_opened, 1);
    assert!(eventually(T, || pool.host_stats(&target).open_channels == 0).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn close_ends_the_session_and_frees_its_slot() {
    let sshd = Sshd::start();
    let mut cfg = sshd.config(HostKeyPolicy::AcceptAny);
    cfg.max_channels_per_host = 1; // the terminal holds the only slot
    let pool = SshPool::new(cfg).unwrap();
    let target = sshd.target();
    let mut pty = pool.open_pty(&target, "xterm", 80, 24).await.unwrap();
    let mut events = pty.take_events().unwrap();
    pty.write(b"echo \"rea\"\"dy\"\n").await.unwrap();
    Screen::new().expect(&mut events, b"ready\r\n").await;

    // While the terminal is open, an exec waits for the slot and times out.
    let err = pool.exec(&target, "echo blocked", Duration::from_millis(300)).await.unwrap_err();
    assert!(matches!(err, SshError::Timeout { .. }), "{err:?}");

    let writer = pty.writer();
    pty.close().await;
    assert!(writer.is_closed());
    assert!(matches!(writer.write(b"x").await, Err(SshError::Closed)));
    read_exit(&mut events).await;
    let out = pool.exec(&target, "echo freed", T).await.unwrap();
    assert_eq!(out.stdout, "freed\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dropping_every_handle_closes_the_session() {
    let sshd = Sshd::start();
    let mut cfg = sshd.config(HostKeyPolicy::AcceptAny);
    cfg.max_channels_per_host = 1;
    let pool = SshPool::new(cfg).unwrap();
    let target = sshd.target();
    for round in 0..12 {
        // More rounds than sshd's MaxSessions: a leaked channel would make a later open fail.
        let pty = pool.open_pty(&target, "xterm", 80, 24).await.unwrap();
        let (writer, events) = pty.into_parts();
        writer.write(b"echo hi\n").await.unwrap();
        drop(writer);
        drop(events);
        let out = pool
            .exec(&target, &format!("echo round-{round}"), T)
            .await
            .unwrap_or_else(|e| panic!("round {round}: {e}"));
        assert_eq!(out.stdout, format!("round-{round}\n"));
    }
    assert_eq!(pool.host_stats(&target).connections_opened, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stalled_terminal_reader_is_cut_off_without_stalling_other_commands() {
    let sshd = Sshd::start();
    let pool = sshd.pool();
    let target = sshd.target();
    let mut pty = pool.open_pty(&target, "xterm", 80, 24).await.unwrap();
    let mut events = pty.take_events().unwrap(); // not read for now
    // Endless output that nobody reads.
    pty.write(b"yes\n").await.unwrap();
    for i in 0..5 {
        let out = pool.exec(&target, &format!("echo {i}"), T).await.unwrap();
        assert_eq!(out.stdout, format!("{i}\n"));
    }
    // The lagging terminal is closed rather than buffering without bound.
    assert!(eventually(Duration::from_secs(30), || pty.is_closed()).await);
    let mut buffered = 0;
    while let Some(event) = events.recv().await {
        buffered += 1;
        assert!(buffered <= jarvis_ssh::pty::EVENT_BUFFER, "unbounded buffering");
        let _ = event;
    }
    assert_eq!(buffered, jarvis_ssh::pty::EVENT_BUFFER);
    assert!(eventually(T, || pool.host_stats(&target).open_channels == 0).await);
    assert_eq!(pool.exec(&target, "echo after", T).await.unwrap().stdout, "after\n");
}
