//! The allowlist itself: every program `execute_ssh` may run, with every option and positional
//! shape it may be given. This table is the policy; read it as a spec. Anything not written here
//! is refused.
//!
//! Rules of thumb that shaped it: read-only sub-commands only (state changes have their own,
//! tiered tools); every output is bounded (no follow modes, `-n` required where output is
//! unbounded, `top` only in batch mode, `ping` only with a count); no option that names a file
//! to write or read outside the path allowlist; no option that runs another program, talks to a
//! remote host or changes settings.

mod files;
mod network;
mod pve;
mod services;
mod system;

use super::engine::{Command, Form, Opt, Style};
use super::values::Kind::{self, *};

const fn flag(names: &'static [&'static str]) -> Opt {
    Opt { names, value: None }
}
const fn val(names: &'static [&'static str], kind: Kind) -> Opt {
    Opt { names, value: Some(kind) }
}
/// No positional words at all.
const BARE: Form = Form { words: &[], arg: None, min: 0, max: 0 };
/// Only these literal words.
const fn sub(words: &'static [&'static [&'static str]]) -> Form {
    Form { words, arg: None, min: 0, max: 0 }
}
/// Literal words, then `min..=max` arguments of `kind`.
const fn sub_args(
    words: &'static [&'static [&'static str]],
    kind: Kind,
    min: usize,
    max: usize,
) -> Form {
    Form { words, arg: Some(kind), min, max }
}
/// `min..=max` arguments of `kind`.
const fn args(kind: Kind, min: usize, max: usize) -> Form {
    Form { words: &[], arg: Some(kind), min, max }
}
const fn cmd(name: &'static str, style: Style) -> Command {
    Command { name, style, opts: &[], forms: &[BARE], required: &[], implied: &[], refused: &[] }
}

const NEVER_RETURNS: &str = "never returns; ask for a bounded amount of output instead";

/// Every allowed program, grouped by area; each group is alphabetical.
pub(super) static TABLES: &[&[Command]] =
    &[files::COMMANDS, network::COMMANDS, pve::COMMANDS, services::COMMANDS, system::COMMANDS];

/// Every allowed program.
pub(super) fn commands() -> impl Iterator<Item = &'static Command> {
    TABLES.iter().flat_map(|t| t.iter())
}

/// Well-known programs that are refused, with the reason. Only for clearer messages: anything
/// not in [`TABLES`] is refused anyway.
pub(super) static REFUSED_PROGRAMS: &[(&[&str], &str)] = &[
    (
        &["sh", "bash", "dash", "zsh", "ksh", "fish", "csh", "tcsh", "busybox"],
        "is a shell; shells never run",
    ),
    (
        &[
            "sudo", "su", "doas", "env", "nice", "ionice", "nohup", "timeout", "xargs", "chroot",
            "nsenter", "unshare", "setsid", "stdbuf", "taskset", "flock", "exec", "command",
            "eval", "time", "strace", "script", "watch",
        ],
        "runs another command; run the command itself",
    ),
    (
        &[
            "python", "python3", "perl", "ruby", "node", "php", "lua", "awk", "gawk", "mawk",
            "sed", "tclsh",
        ],
        "is an interpreter that can run arbitrary code",
    ),
    (
        &["find"],
        "can run commands (-exec) and delete files (-delete); use ls or du on an allowed directory",
    ),
    (
        &[
            "less", "more", "most", "vi", "vim", "nano", "emacs", "man", "htop", "atop", "iotop",
            "tmux", "screen", "yes",
        ],
        "is interactive or never returns",
    ),
    (
        &[
            "rm",
            "rmdir",
            "mv",
            "cp",
            "dd",
            "shred",
            "truncate",
            "wipefs",
            "fdisk",
            "sfdisk",
            "sgdisk",
            "parted",
            "mkfs",
            "mkfs.ext4",
            "mkfs.xfs",
            "mkswap",
            "tee",
            "touch",
            "mkdir",
            "ln",
            "chmod",
            "chown",
            "chattr",
            "install",
        ],
        "changes or destroys files",
    ),
    (
        &["shutdown", "reboot", "poweroff", "halt", "init", "telinit"],
        "takes the node down; only reboot_node / shutdown_node do that (BLACK tier)",
    ),
    (&["kill", "killall", "pkill"], "stops processes; use restart_service for services"),
    (
        &[
            "curl", "wget", "nc", "ncat", "netcat", "socat", "ssh", "scp", "sftp", "rsync",
            "telnet", "ftp",
        ],
        "opens network connections or transfers files",
    ),
    (&["iptables", "ip6tables", "nft", "ebtables", "ufw"], "changes the firewall"),
    (
        &["mount", "umount", "swapon", "swapoff", "modprobe", "rmmod", "insmod", "sysctl"],
        "changes system state",
    ),
];
