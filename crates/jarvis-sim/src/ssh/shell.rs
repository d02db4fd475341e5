//! The interactive shell behind `pty-req` + `shell`: a login banner, the prompt
//! `<user>@<node>:~# `, echo of typed characters, line editing (backspace, Ctrl-U), Ctrl-C
//! (`^C` and a fresh prompt), Ctrl-L and `clear` (`ESC[H ESC[2J`), Ctrl-D or `exit` to log out
//! (exit status 0, or `exit N`), and Enter running the line through the command table with
//! CRLF line endings. Arrow keys and other escape sequences are swallowed; any byte sequence is
//! safe. The window size follows `window-change` (`stty size`, `tput cols`).

use std::sync::Arc;

use russh::ChannelId;
use russh::server::Handle;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::commands::{self, Ctx};
use super::server::PtySize;
use crate::catalog::{KERNEL_BUILD, KERNEL_RELEASE};
use crate::server::Shared;

/// Longest line the editor keeps; further typing rings the bell.
const MAX_LINE: usize = 4096;

/// Input for a running shell.
#[derive(Debug)]
pub(crate) enum ShellIn {
    /// Bytes typed by the user.
    Data(Vec<u8>),
    /// The terminal was resized.
    Resize(PtySize),
    /// The client sent EOF.
    Eof,
}

/// `\n` → `\r\n` (leaving existing `\r\n` alone), as a tty's `onlcr` does.
pub(crate) fn crlf(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 16);
    let mut prev = '\0';
    for c in text.chars() {
        if c == '\n' && prev != '\r' {
            out.push('\r');
        }
        out.push(c);
        prev = c;
    }
    out
}

/// What the editor asks the shell to do, in input order.
#[derive(Debug, PartialEq, Eq)]
enum Action {
    /// Bytes to send back (echo, erasing).
    Echo(Vec<u8>),
    /// Enter: run this line.
    Run(String),
    /// Ctrl-C.
    Interrupt,
    /// Ctrl-L: clear the screen and redraw the line.
    Redraw(Vec<u8>),
    /// Ctrl-D on an empty line.
    Logout,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Esc {
    #[default]
    None,
    /// After ESC.
    Start,
    /// Inside `ESC [ …` until a final byte.
    Csi,
    /// After `ESC O`: one more byte.
    Ss3,
}

/// A minimal readline: one line buffer, no cursor movement.
#[derive(Debug, Default)]
struct Editor {
    line: Vec<u8>,
    esc: Esc,
    last_cr: bool,
}

impl Editor {
    fn feed(&mut self, bytes: &[u8]) -> Vec<Action> {
        let mut actions = Vec::new();
        let mut echo = Vec::new();
        let flush = |echo: &mut Vec<u8>, actions: &mut Vec<Action>| {
            if !echo.is_empty() {
                actions.push(Action::Echo(std::mem::take(echo)));
            }
        };
        for &b in bytes {
            let after_cr = std::mem::replace(&mut self.last_cr, b == b'\r');
            match self.esc {
                Esc::Start => {
                    self.esc = match b {
                        b'[' => Esc::Csi,
                        b'O' => Esc::Ss3,
                        _ => Esc::None,
                    };
                    // A lone ESC (or Alt+key) drops the ESC; the key itself still counts.
                    if self.esc != Esc::None {
                        continue;
                    }
                }
                Esc::Csi => {
                    if (0x40..=0x7e).contains(&b) {
                        self.esc = Esc::None;
                    }
                    continue;
                }
                Esc::Ss3 => {
                    self.esc = Esc::None;
                    continue;
                }
                Esc::None => {}
            }
            match b {
                0x1b => self.esc = Esc::Start,
                b'\n' if after_cr => {}
                b'\r' | b'\n' => {
                    flush(&mut echo, &mut actions);
                    let line =
                        String::from_utf8_lossy(&std::mem::take(&mut self.line)).into_owned();
                    actions.push(Action::Run(line));
                }
                0x03 => {
                    flush(&mut echo, &mut actions);
                    self.line.clear();
                    actions.push(Action::Interrupt);
                }
                0x04 if self.line.is_empty() => {
                    flush(&mut echo, &mut actions);
                    actions.push(Action::Logout);
                    // Nothing after logout matters.
                    return actions;
                }
                0x0c => {
                    flush(&mut echo, &mut actions);
                    actions.push(Action::Redraw(self.line.clone()));
                }
                0x7f | 0x08 => {
                    if self.pop_char() {
                        echo.extend_from_slice(b"\x08 \x08");
                    }
                }
                0x15 => {
                    while self.pop_char() {
                        echo.extend_from_slice(b"\x08 \x08");
                    }
                }
                b if b < 0x20 => echo.push(0x07),
                b => {
                    if self.line.len() < MAX_LINE {
                        self.line.push(b);
                        echo.push(b);
                    } else {
                        echo.push(0x07);
                    }
                }
            }
        }
        flush(&mut echo, &mut actions);
        actions
    }

    /// Removes the last character (all bytes of a UTF-8 sequence); false on an empty line.
    fn pop_char(&mut self) -> bool {
        let Some(mut b) = self.line.pop() else { return false };
        // Continuation bytes belong to the character being removed.
        while b & 0xc0 == 0x80 {
            match self.line.pop() {
                Some(prev) => b = prev,
                None => break,
            }
        }
        true
    }
}

fn prompt(ctx: &Ctx, node: &str) -> String {
    let sign = if ctx.user == "root" { '#' } else { '$' };
    format!("{}@{node}:~{sign} ", ctx.user)
}

async fn logout(handle: &Handle, channel: ChannelId, status: u32) {
    let _ = handle.data(channel, b"logout\r\n".to_vec()).await;
    let _ = handle.exit_status_request(channel, status).await;
    let _ = handle.eof(channel).await;
    let _ = handle.close(channel).await;
}

/// Runs one shell until logout, the channel closing (`rx` ends) or `token` firing.
pub(crate) async fn run(
    shared: Arc<Shared>,
    mut ctx: Ctx,
    handle: Handle,
    channel: ChannelId,
    mut rx: mpsc::UnboundedReceiver<ShellIn>,
    token: CancellationToken,
) {
    let node = shared.cluster.lock().nodes[ctx.node].name.clone();
    let banner = format!(
        "Linux {node} {KERNEL_RELEASE} {KERNEL_BUILD} x86_64\r\n\r\n\
         The programs included with the Debian GNU/Linux system are free software;\r\n\
         the exact distribution terms for each program are described in the\r\n\
         individual files in /usr/share/doc/*/copyright.\r\n\r\n\
         Debian GNU/Linux comes with ABSOLUTELY NO WARRANTY, to the extent\r\n\
         permitted by applicable law.\r\n{}",
        prompt(&ctx, &node)
    );
    let _ = handle.data(channel, banner.into_bytes()).await;
    let mut editor = Editor::default();
    loop {
        let input = tokio::select! {
            _ = token.cancelled() => return,
            input = rx.recv() => input,
        };
        let bytes = match input {
            None => return,
            Some(ShellIn::Resize(size)) => {
                ctx.pty = Some(size);
                continue;
            }
            Some(ShellIn::Eof) => return logout(&handle, channel, 0).await,
            Some(ShellIn::Data(bytes)) => bytes,
        };
        let mut out: Vec<u8> = Vec::new();
        for action in editor.feed(&bytes) {
            match action {
                Action::Echo(b) => out.extend_from_slice(&b),
                Action::Interrupt => {
                    out.extend_from_slice(format!("^C\r\n{}", prompt(&ctx, &node)).as_bytes());
                }
                Action::Redraw(line) => {
                    out.extend_from_slice(
                        format!("\x1b[H\x1b[2J{}", prompt(&ctx, &node)).as_bytes(),
                    );
                    out.extend_from_slice(&line);
                }
                Action::Logout => {
                    let _ = handle.data(channel, std::mem::take(&mut out)).await;
                    return logout(&handle, channel, 0).await;
                }
                Action::Run(line) => {
                    out.extend_from_slice(b"\r\n");
                    let _ = handle.data(channel, std::mem::take(&mut out)).await;
                    let result = {
                        let mut cl = shared.cluster.lock();
                        commands::run(&mut cl, &ctx, &line)
                    };
                    if !result.delay.is_zero() {
                        tokio::select! {
                            _ = token.cancelled() => return,
                            _ = tokio::time::sleep(result.delay) => {}
                        }
                    }
                    let text = crlf(&format!("{}{}", result.stdout, result.stderr));
                    if let Some(status) = result.exit {
                        let _ = handle.data(channel, text.into_bytes()).await;
                        return logout(&handle, channel, status).await;
                    }
                    out.extend_from_slice(text.as_bytes());
                    out.extend_from_slice(prompt(&ctx, &node).as_bytes());
                }
            }
        }
        if !out.is_empty() {
            let _ = handle.data(channel, out).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typing_editing_and_enter() {
        let mut ed = Editor::default();
        assert_eq!(
            ed.feed(b"hostnamx\x7fe\r\n"),
            vec![Action::Echo(b"hostnamx\x08 \x08e".to_vec()), Action::Run("hostname".into())]
        );
        assert_eq!(ed.feed("é\x7f".as_bytes()), vec![Action::Echo(b"\xc3\xa9\x08 \x08".to_vec())]);
        assert!(ed.line.is_empty(), "a multi-byte character is erased whole");
        assert_eq!(ed.feed(b"ab\x03"), vec![Action::Echo(b"ab".to_vec()), Action::Interrupt]);
        assert_eq!(ed.feed(b"\x1b[A\x1bOBx\x15"), vec![Action::Echo(b"x\x08 \x08".to_vec())]);
        assert_eq!(ed.feed(b"\x1b\r"), vec![Action::Run(String::new())]);
        assert_eq!(ed.feed(b"\x04ignored"), vec![Action::Logout]);
    }

    #[test]
    fn any_bytes_are_safe() {
        let mut ed = Editor::default();
        let all: Vec<u8> = (0..=255u8).cycle().take(20_000).collect();
        let _ = ed.feed(&all);
        assert!(ed.line.len() <= MAX_LINE);
        assert_eq!(crlf("a\nb\r\nc"), "a\r\nb\r\nc");
    }
}
