//! Running one command on an open channel: collect stdout/stderr up to a cap, record the exit
//! status, and read until the server closes the channel. Timeouts and cleanup live in the
//! caller and in [`ChannelGuard`].
//!
//! The command runs inside a small POSIX-sh wrapper ([`wrap`]) that kills the command's whole
//! process group when the channel's stdin reaches EOF, which happens when we give up on it
//! (timeout, cancellation) or when the connection drops. Without it a timed-out command keeps
//! running on the node and keeps its sshd `MaxSessions` slot until it ends on its own; SSH
//! `signal` requests cannot replace it because sshd refuses them for root logins.

use russh::ChannelMsg;

use crate::SshError;
use crate::channel::ChannelGuard;

/// A byte buffer that keeps at most `cap` bytes and remembers whether it dropped any.
#[derive(Debug)]
pub(crate) struct CappedBuf {
    buf: Vec<u8>,
    cap: usize,
    truncated: bool,
}

impl CappedBuf {
    pub(crate) fn new(cap: usize) -> Self {
        Self { buf: Vec::new(), cap, truncated: false }
    }

    pub(crate) fn push(&mut self, data: &[u8]) {
        let room = self.cap.saturating_sub(self.buf.len());
        if data.len() > room {
            self.truncated = true;
        }
        self.buf.extend_from_slice(&data[..data.len().min(room)]);
    }

    pub(crate) fn truncated(&self) -> bool {
        self.truncated
    }

    /// Lossy UTF-8. A multi-byte character cut by the cap is dropped, so the text never exceeds
    /// the cap and never ends in a replacement character that the remote did not send.
    pub(crate) fn into_string(self) -> String {
        let mut bytes = self.buf;
        if self.truncated {
            let valid_up_to = match std::str::from_utf8(&bytes) {
                Ok(_) => bytes.len(),
                Err(e) if e.error_len().is_none() => e.valid_up_to(),
                Err(_) => bytes.len(),
            };
            bytes.truncate(valid_up_to);
        }
        match String::from_utf8(bytes) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        }
    }
}

/// What [`run`] collected.
pub(crate) struct Collected {
    pub(crate) stdout: CappedBuf,
    pub(crate) stderr: CappedBuf,
    pub(crate) exit_status: Option<u32>,
}

/// The wrapper: the command runs in the user's login shell (`$SHELL -c`, as sshd itself would
/// run it) in a new session (`setsid`), with stdin from `/dev/null`; a watcher subshell reads
/// the channel's stdin and kills the command's process group when it reaches EOF, and is
/// itself killed when the command ends. The watcher reads with the shell's builtin `read`, not
/// `cat`: sshd may hand the session one socket for stdin and stdout, so a leftover reader
/// process would keep stdout open and the channel would never close. Needs only POSIX `sh`,
/// `kill` and util-linux `setsid`, all present on every PVE node.
pub(crate) fn wrap(command: &str) -> String {
    let quoted = command.replace('\'', "'\\''");
    format!(
        "exec 3<&0 </dev/null; setsid \"${{SHELL:-/bin/sh}}\" -c '{quoted}' 3<&- & c=$!; \
         {{ while read -r _ <&3; do :; done; kill -KILL -- -$c; }} >/dev/null 2>&1 & w=$!; \
         wait $c; s=$?; kill $w 2>/dev/null; exit $s"
    )
}

/// Starts `command` on the guarded channel and reads until the channel closes.
pub(crate) async fn run(
    guard: &mut ChannelGuard,
    command: &str,
    cap: usize,
) -> Result<Collected, SshError> {
    if command.contains('\0') {
        return Err(SshError::Channel("the command contains a NUL byte".into()));
    }
    let channel = guard.channel().ok_or(SshError::Closed)?;
    channel
        .exec(true, wrap(command).as_bytes())
        .await
        .map_err(|e| SshError::Channel(format!("cannot send exec request: {e}")))?;
    guard.mark_wrapped();

    let mut out =
        Collected { stdout: CappedBuf::new(cap), stderr: CappedBuf::new(cap), exit_status: None };
    let mut started = false;
    loop {
        match guard.wait().await {
            Some(ChannelMsg::Success) => started = true,
            Some(ChannelMsg::Failure) if !started => {
                return Err(SshError::Channel(
                    "the server refused to run the command (exec request denied)".into(),
                ));
            }
            Some(ChannelMsg::Data { data }) => out.stdout.push(&data),
            Some(ChannelMsg::ExtendedData { data, ext: 1 }) => out.stderr.push(&data),
            Some(ChannelMsg::ExitStatus { exit_status }) => out.exit_status = Some(exit_status),
            Some(ChannelMsg::ExitSignal { signal_name, .. }) => {
                tracing::debug!(?signal_name, "remote command killed by a signal");
                out.exit_status = None;
            }
            Some(ChannelMsg::Close) => return Ok(out),
            None if out.exit_status.is_some() => return Ok(out),
            None => return Err(SshError::Closed),
            Some(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_quotes_single_quotes_for_the_inner_shell() {
        let w = wrap("echo 'a b' \"$HOME\"");
        assert!(w.contains("-c 'echo '\\''a b'\\'' \"$HOME\"' 3<&-"), "{w}");
        assert!(w.starts_with("exec 3<&0 </dev/null; setsid "), "{w}");
    }

    #[test]
    fn capped_buf_keeps_exactly_cap_bytes() {
        let mut b = CappedBuf::new(5);
        b.push(b"abc");
        assert!(!b.truncated());
        b.push(b"defg");
        b.push(b"h");
        assert!(b.truncated());
        assert_eq!(b.into_string(), "abcde");
    }

    #[test]
    fn capped_buf_at_exact_cap_is_not_truncated() {
        let mut b = CappedBuf::new(3);
        b.push(b"abc");
        b.push(b"");
        assert!(!b.truncated());
        assert_eq!(b.into_string(), "abc");
    }

    #[test]
    fn cut_multibyte_character_is_dropped_not_replaced() {
        let mut b = CappedBuf::new(4);
        b.push("aé€".as_bytes()); // 1 + 2 + 3 bytes; the cap cuts the euro sign
        assert!(b.truncated());
        assert_eq!(b.into_string(), "aé");
    }

    #[test]
    fn invalid_utf8_is_lossy_not_a_panic() {
        let mut b = CappedBuf::new(100);
        b.push(&[b'o', b'k', 0xff, 0xfe, b'!']);
        assert_eq!(b.into_string(), "ok\u{fffd}\u{fffd}!");
    }

    #[test]
    fn zero_cap_keeps_nothing() {
        let mut b = CappedBuf::new(0);
        b.push(b"x");
        assert!(b.truncated());
        assert_eq!(b.into_string(), "");
    }
}
