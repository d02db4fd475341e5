//! The command table behind exec requests and the PTY shell.
//!
//! A command line is split like a shell would (single and double quotes, backslashes, `;`, `&&`,
//! `||`, `|`, and redirections such as `2>&1` or `>/dev/null`), so both `df -h` and the
//! re-quoted form our client sends (`'df' '-h'`) work, as do `sudo …`, `sh -c '…'` and simple
//! pipelines into `head`, `tail`, `grep` or `wc -l`. Each command renders its output from the
//! cluster model (see `system`, `units`, `sensors`); nothing is executed. Unknown commands answer
//! `bash: <cmd>: command not found` with exit status 127, as bash does.
//!
//! The one exception to parsing is Jarvis' temperature script: any command line that reads
//! `thermal_zone` together with `hwmon` (or loops over zones) gets the sensor listing in the
//! script's format (`zone:<type> <millidegrees>` / `hwmon:<chip>/<label> <millidegrees>`).

use std::time::Duration;

use super::lex::{Tok, tokenize};
use super::server::PtySize;
use super::{sensors, system, units};
use crate::model::Cluster;

/// Who runs a command, and where.
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    /// Node index.
    pub node: usize,
    /// Login name.
    pub user: String,
    /// Terminal size when the channel has a PTY.
    pub pty: Option<PtySize>,
}

/// What a command line printed and how it ended.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Output {
    pub stdout: String,
    pub stderr: String,
    pub status: u32,
    /// How long the command "takes" (service restarts); the answer is sent after it.
    pub delay: Duration,
    /// `exit` was run: the shell ends with this status.
    pub exit: Option<u32>,
}

impl Output {
    /// Successful output.
    pub fn ok(stdout: impl Into<String>) -> Self {
        Self { stdout: stdout.into(), ..Self::default() }
    }

    /// A failure with a message on stderr.
    pub fn err(status: u32, stderr: impl Into<String>) -> Self {
        Self { stderr: stderr.into(), status, ..Self::default() }
    }
}

/// Longest output one command line may produce (keeps a pathological line cheap).
const MAX_OUTPUT: usize = 1 << 20;
/// Longest a command line may "take" (sleeps and restarts add up).
const MAX_DELAY: Duration = Duration::from_secs(10);
/// How deep `sh -c '…'` and friends may nest.
const MAX_DEPTH: usize = 4;

/// The environment of a login shell for `ctx`, for `$VAR` expansion.
fn environment(cl: &Cluster, ctx: &Ctx) -> Vec<(&'static str, String)> {
    let home = if ctx.user == "root" { "/root".to_string() } else { format!("/home/{}", ctx.user) };
    let term = if ctx.pty.is_some() { "xterm-256color" } else { "dumb" };
    vec![
        ("HOME", home.clone()),
        ("PWD", home),
        ("USER", ctx.user.clone()),
        ("LOGNAME", ctx.user.clone()),
        ("HOSTNAME", cl.nodes[ctx.node].name.clone()),
        ("SHELL", "/bin/bash".into()),
        ("TERM", term.into()),
        ("LANG", "C.UTF-8".into()),
        ("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into()),
        ("?", "0".into()),
    ]
}

/// One simple command of a pipeline.
#[derive(Debug, Default)]
struct Simple {
    args: Vec<String>,
    redirs: Vec<(u8, String)>,
}

/// The exec wrapper a careful client (Jarvis's own SSH pool among them) puts around a command
/// so a timeout can kill the remote process group:
/// `exec 3<&0 </dev/null; setsid "${SHELL:-/bin/sh}" -c '<command>' 3<&- & c=$!; { … }`.
/// The simulator has no process groups, so it runs the inner command.
const WRAPPER_PREFIX: &str = "exec 3<&0 </dev/null; setsid \"${SHELL:-/bin/sh}\" -c '";

/// The inner command of a wrapped exec line (single-quoted, with `'\''` for a quote), if any.
fn unwrap_exec(line: &str) -> Option<String> {
    let rest = line.strip_prefix(WRAPPER_PREFIX)?;
    let mut inner = String::new();
    let mut chars = rest.char_indices();
    while let Some((i, ch)) = chars.next() {
        if ch != '\'' {
            inner.push(ch);
        } else if rest[i..].starts_with("'\\''") {
            inner.push('\'');
            chars.nth(2);
        } else {
            return Some(inner);
        }
    }
    None
}

/// Runs a command line for `ctx` on the cluster (whose state it may change: service restarts).
pub(crate) fn run(cl: &mut Cluster, ctx: &Ctx, line: &str) -> Output {
    let unwrapped = unwrap_exec(line);
    let line = unwrapped.as_deref().unwrap_or(line);
    let mut out = run_line(cl, ctx, line, 0);
    out.delay = out.delay.min(MAX_DELAY);
    for s in [&mut out.stdout, &mut out.stderr] {
        if s.len() > MAX_OUTPUT {
            let mut cut = MAX_OUTPUT;
            while !s.is_char_boundary(cut) {
                cut -= 1;
            }
            s.truncate(cut);
        }
    }
    out
}

/// Whether a command line is Jarvis' temperature script rather than a plain read of one zone.
fn is_temperature_script(line: &str) -> bool {
    line.contains("thermal_zone")
        && (line.contains("hwmon") || line.contains("for ") || line.contains('*'))
}

fn run_line(cl: &mut Cluster, ctx: &Ctx, line: &str, depth: usize) -> Output {
    if is_temperature_script(line) {
        return Output::ok(sensors::script_output(cl, ctx.node));
    }
    let env = environment(cl, ctx);
    let toks = match tokenize(line, &env) {
        Ok(t) => t,
        Err(msg) => return Output::err(2, format!("bash: -c: line 1: {msg}\n")),
    };
    let mut total = Output::default();
    let mut last_status = 0u32;
    // The operator before the pipeline being collected, and the pipeline itself.
    let mut connector = ";";
    let mut pipeline: Vec<Simple> = vec![Simple::default()];
    let mut toks = toks.into_iter();
    loop {
        let tok = toks.next();
        match tok {
            Some(Tok::Word(w)) => {
                if let Some(s) = pipeline.last_mut() {
                    s.args.push(w);
                }
            }
            Some(Tok::Redir(fd, target)) => {
                if let Some(s) = pipeline.last_mut() {
                    s.redirs.push((fd, target));
                }
            }
            Some(Tok::Op("|")) => pipeline.push(Simple::default()),
            Some(Tok::Op(_)) | None => {
                let runs = match connector {
                    "&&" => last_status == 0,
                    "||" => last_status != 0,
                    _ => true,
                };
                let empty = pipeline.iter().all(|s| s.args.is_empty());
                if runs && !empty {
                    let out = run_pipeline(cl, ctx, &pipeline, depth);
                    last_status = out.status;
                    total.stdout.push_str(&out.stdout);
                    total.stderr.push_str(&out.stderr);
                    total.delay += out.delay;
                    total.status = out.status;
                    if out.exit.is_some() {
                        total.exit = out.exit;
                        return total;
                    }
                }
                match tok {
                    Some(Tok::Op(op)) => connector = op,
                    _ => return total,
                }
                pipeline = vec![Simple::default()];
            }
        }
    }
}

fn run_pipeline(cl: &mut Cluster, ctx: &Ctx, pipeline: &[Simple], depth: usize) -> Output {
    let mut total = Output::default();
    let mut stdin: Option<String> = None;
    for (i, simple) in pipeline.iter().enumerate() {
        if simple.args.is_empty() {
            return Output::err(2, "bash: -c: line 1: syntax error near unexpected token `|'\n");
        }
        let mut out = run_simple(cl, ctx, &simple.args, stdin.as_deref(), depth);
        for (fd, target) in &simple.redirs {
            match (fd, target.as_str()) {
                (2, "&1") => out.stdout.push_str(&std::mem::take(&mut out.stderr)),
                (1, "&2") => out.stderr.push_str(&std::mem::take(&mut out.stdout)),
                (0, _) => {}
                // Written to a file (or /dev/null): gone from the terminal.
                (1, _) => out.stdout.clear(),
                (2, _) => out.stderr.clear(),
                _ => {}
            }
        }
        total.stderr.push_str(&out.stderr);
        total.delay += out.delay;
        total.status = out.status;
        total.exit = total.exit.or(out.exit);
        if i + 1 == pipeline.len() {
            total.stdout = out.stdout;
        } else {
            stdin = Some(out.stdout);
        }
    }
    total
}

fn run_simple(
    cl: &mut Cluster,
    ctx: &Ctx,
    args: &[String],
    stdin: Option<&str>,
    depth: usize,
) -> Output {
    let Some(first) = args.first() else { return Output::default() };
    // `/usr/bin/df` is `df`.
    let name = first.rsplit('/').next().unwrap_or(first);
    let rest: Vec<&str> = args[1..].iter().map(String::as_str).collect();
    let nested = |cl: &mut Cluster, words: &[String]| {
        if depth >= MAX_DEPTH {
            return Output::err(126, "bash: too many nested shells\n");
        }
        run_simple(cl, ctx, words, stdin, depth + 1)
    };
    match name {
        "sudo" => {
            let words: Vec<String> =
                args[1..].iter().skip_while(|a| a.starts_with('-')).cloned().collect();
            let root = Ctx { user: "root".into(), ..ctx.clone() };
            match words.is_empty() || depth >= MAX_DEPTH {
                true => Output::err(1, "usage: sudo command\n"),
                false => run_simple(cl, &root, &words, stdin, depth + 1),
            }
        }
        "command" | "exec" | "nice" | "nohup" => {
            let words: Vec<String> =
                args[1..].iter().skip_while(|a| a.starts_with('-')).cloned().collect();
            if words.is_empty() { Output::default() } else { nested(cl, &words) }
        }
        "timeout" => {
            let words: Vec<String> =
                args[1..].iter().skip_while(|a| a.starts_with('-')).skip(1).cloned().collect();
            if words.is_empty() {
                Output::err(125, "timeout: missing operand\n")
            } else {
                nested(cl, &words)
            }
        }
        "sh" | "bash" | "dash" => match rest.iter().position(|a| *a == "-c" || *a == "-lc") {
            Some(p) if p + 1 < rest.len() => {
                if depth >= MAX_DEPTH {
                    return Output::err(126, "bash: too many nested shells\n");
                }
                run_line(cl, ctx, rest[p + 1], depth + 1)
            }
            _ => Output::default(),
        },
        "true" | ":" => Output::default(),
        "false" => Output { status: 1, ..Output::default() },
        "exit" => {
            let status = rest.first().and_then(|s| s.parse::<u32>().ok()).unwrap_or(0) & 0xff;
            Output { status, exit: Some(status), ..Output::default() }
        }
        "echo" => {
            let (newline, words) = match rest.first() {
                Some(&"-n") => (false, &rest[1..]),
                _ => (true, &rest[..]),
            };
            Output::ok(format!("{}{}", words.join(" "), if newline { "\n" } else { "" }))
        }
        "whoami" => Output::ok(format!("{}\n", ctx.user)),
        "id" => Output::ok(if ctx.user == "root" {
            "uid=0(root) gid=0(root) groups=0(root)\n".to_string()
        } else {
            format!("uid=1000({0}) gid=1000({0}) groups=1000({0})\n", ctx.user)
        }),
        "pwd" => Output::ok(if ctx.user == "root" {
            "/root\n".to_string()
        } else {
            format!("/home/{}\n", ctx.user)
        }),
        "clear" => match ctx.pty {
            Some(_) => Output::ok("\x1b[H\x1b[2J"),
            None => Output::err(1, "TERM environment variable not set.\n"),
        },
        "stty" => match (ctx.pty, rest.first()) {
            (Some(p), Some(&"size")) => Output::ok(format!("{} {}\n", p.rows, p.cols)),
            (Some(_), _) => Output::ok("speed 38400 baud; line = 0;\n"),
            (None, _) => Output::err(1, "stty: 'standard input': Inappropriate ioctl for device\n"),
        },
        "tput" => {
            let size = ctx.pty.unwrap_or(PtySize { cols: 80, rows: 24 });
            match rest.first() {
                Some(&"cols") => Output::ok(format!("{}\n", size.cols)),
                Some(&"lines") => Output::ok(format!("{}\n", size.rows)),
                Some(&"clear") => Output::ok("\x1b[H\x1b[2J"),
                _ => Output::err(2, "tput: unknown terminfo capability\n"),
            }
        }
        "sleep" => {
            let secs = rest.first().and_then(|s| s.parse::<f64>().ok()).unwrap_or(0.0);
            let secs = if secs.is_finite() { secs.clamp(0.0, 5.0) } else { 0.0 };
            Output { delay: Duration::from_secs_f64(secs), ..Output::default() }
        }
        "head" | "tail" | "grep" | "wc" | "sort" => filter(cl, ctx, name, &rest, stdin),
        "cat" if rest.is_empty() => Output::ok(stdin.unwrap_or_default()),
        "cat" => system::cat(cl, ctx, &rest),
        "sensors" => Output::ok(sensors::sensors_output(cl, ctx.node)),
        "systemctl" => units::systemctl(cl, ctx, &rest),
        "journalctl" => units::journalctl(cl, ctx, &rest),
        _ => system::command(cl, ctx, name, &rest).unwrap_or_else(|| {
            Output::err(127, format!("bash: {}: command not found\n", printable(first)))
        }),
    }
}

/// A command name as bash prints it back (control characters would mess up the terminal).
fn printable(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { '?' } else { c }).take(200).collect()
}

/// `-n N`, `-nN`, `--lines=N` or `-N`: the line count (default 10), plus the other arguments.
fn line_count<'a>(args: &[&'a str]) -> (usize, Vec<&'a str>) {
    let mut n = 10;
    let mut rest = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if *a == "-n" {
            n = it.next().and_then(|v| v.trim_start_matches('+').parse().ok()).unwrap_or(n);
        } else if let Some(v) = a.strip_prefix("--lines=").or_else(|| a.strip_prefix("-n")) {
            n = v.trim_start_matches('+').parse().unwrap_or(n);
        } else if let Some(v) = a.strip_prefix('-').and_then(|v| v.parse().ok()) {
            n = v;
        } else if !a.starts_with('-') {
            rest.push(*a);
        }
    }
    (n, rest)
}

/// `head`, `tail`, `grep`, `wc`, `sort` over a file the simulator knows or the piped input.
fn filter(cl: &mut Cluster, ctx: &Ctx, name: &str, args: &[&str], stdin: Option<&str>) -> Output {
    let flags: String = args
        .iter()
        .filter(|a| a.starts_with('-') && !a.starts_with("--"))
        .map(|a| &a[1..])
        .collect();
    let (count, operands) = if name == "grep" {
        (0, args.iter().filter(|a| !a.starts_with('-')).copied().collect())
    } else {
        line_count(args)
    };
    // grep's first operand is the pattern; the others are files.
    let (pattern, files) = match name {
        "grep" => match operands.split_first() {
            Some((p, files)) => (Some(*p), files.to_vec()),
            None => return Output::err(2, "Usage: grep [OPTION]... PATTERNS [FILE]...\n"),
        },
        _ => (None, operands),
    };
    let input = match files.first() {
        Some(file) => {
            let read = system::cat(cl, ctx, &[file]);
            if read.status != 0 {
                return Output {
                    stderr: read.stderr.replacen("cat:", &format!("{name}:"), 1),
                    ..read
                };
            }
            read.stdout
        }
        None => stdin.unwrap_or_default().to_string(),
    };
    let lines: Vec<&str> = input.lines().collect();
    let pick = |ls: &[&str]| ls.iter().map(|l| format!("{l}\n")).collect::<String>();
    match name {
        "head" => Output::ok(pick(&lines[..count.min(lines.len())])),
        "tail" => Output::ok(pick(&lines[lines.len().saturating_sub(count)..])),
        "wc" => Output::ok(format!("{}\n", lines.len())),
        "sort" => {
            let mut sorted = lines.clone();
            sorted.sort_unstable();
            if flags.contains('r') {
                sorted.reverse();
            }
            Output::ok(pick(&sorted))
        }
        _ => {
            let pattern = pattern.unwrap_or_default();
            let fold = flags.contains('i');
            let needle = if fold { pattern.to_lowercase() } else { pattern.to_string() };
            let hits: Vec<&str> = lines
                .iter()
                .copied()
                .filter(|l| {
                    let hay = if fold { l.to_lowercase() } else { l.to_string() };
                    hay.contains(&needle) != flags.contains('v')
                })
                .collect();
            let status = if hits.is_empty() { 1 } else { 0 };
            let stdout =
                if flags.contains('c') { format!("{}\n", hits.len()) } else { pick(&hits) };
            Output { stdout, status, ..Output::default() }
        }
    }
}

#[cfg(test)]
mod wrapper_tests {
    use super::unwrap_exec;

    #[test]
    fn the_kill_on_timeout_wrapper_is_unwrapped() {
        let wrapped = "exec 3<&0 </dev/null; setsid \"${SHELL:-/bin/sh}\" -c ''\\''df'\\'' '\\''-h'\\''' 3<&- & c=$!; \
                       { while read -r _ <&3; do :; done; kill -KILL -- -$c; } >/dev/null 2>&1 & w=$!; \
                       wait $c; s=$?; kill $w 2>/dev/null; exit $s";
        assert_eq!(unwrap_exec(wrapped).as_deref(), Some("'df' '-h'"));
        assert_eq!(unwrap_exec("hostname"), None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SimConfig;

    #[test]
    fn sequences_pipes_and_unknown_commands() {
        let mut cl = Cluster::generate(&SimConfig::default(), None);
        let ctx = Ctx { node: 1, user: "root".into(), pty: None };
        assert_eq!(run(&mut cl, &ctx, "'hostname'").stdout, "pve2\n");
        assert_eq!(run(&mut cl, &ctx, "false && echo no || echo yes").stdout, "yes\n");
        assert_eq!(run(&mut cl, &ctx, "sudo sh -c 'hostname; whoami'").stdout, "pve2\nroot\n");
        let missing = run(&mut cl, &ctx, "frobnicate --now");
        assert_eq!(
            (missing.status, missing.stderr.as_str()),
            (127, "bash: frobnicate: command not found\n")
        );
        let counted = run(&mut cl, &ctx, "echo a; echo b | wc -l");
        assert_eq!(counted.stdout, "a\n1\n");
        let quiet = run(&mut cl, &ctx, "nope 2>/dev/null");
        assert_eq!((quiet.status, quiet.stderr.as_str()), (127, ""));
        assert_eq!(run(&mut cl, &ctx, "exit 3; echo never").exit, Some(3));
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let mut cl = Cluster::generate(&SimConfig::default(), None);
        let ctx = Ctx { node: 0, user: "root".into(), pty: None };
        for line in
            ["", "|", "&&", ">", "2>", "'", "\"\\", "\u{0}\u{7f}é|>&<", "a |  | b", "tail -n"]
        {
            let _ = run(&mut cl, &ctx, line);
        }
    }
}
