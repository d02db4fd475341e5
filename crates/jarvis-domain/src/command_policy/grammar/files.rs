//! Reading files, listing directories and disk usage. File arguments are typed `ReadPath` (contents)
//! or `ListPath` (listings and metadata only); both are checked against `paths.rs`.

use super::*;

const FOLLOW_TAIL: &str = "`tail -f` never returns; use `tail -n N FILE`";
const TAIL_LIKE: &[(&str, &str)] = &[
    ("-f", FOLLOW_TAIL),
    ("-F", FOLLOW_TAIL),
    ("--follow", FOLLOW_TAIL),
    ("--retry", FOLLOW_TAIL),
    ("--pid", FOLLOW_TAIL),
];

/// File and directory commands.
pub(super) static COMMANDS: &[Command] = &[
    Command {
        opts: &[flag(&["-n", "--number"])],
        forms: &[args(ReadPath, 1, 8)],
        ..cmd("cat", Style::Gnu)
    },
    Command {
        opts: &[
            flag(&["-h", "--human-readable"]),
            flag(&["-H", "--si"]),
            flag(&["-T", "--print-type"]),
            flag(&["-i", "--inodes"]),
            flag(&["-l", "--local"]),
            flag(&["-P", "--portability"]),
            flag(&["-k"]),
            flag(&["-m"]),
            flag(&["-a", "--all"]),
            flag(&["--total"]),
        ],
        forms: &[args(ListPath, 0, 8)],
        ..cmd("df", Style::Gnu)
    },
    Command {
        opts: &[
            flag(&["-s", "--summarize"]),
            flag(&["-h", "--human-readable"]),
            flag(&["-x", "--one-file-system"]),
            flag(&["-c", "--total"]),
            val(&["-d", "--max-depth"], UInt { min: 0, max: 5 }),
        ],
        forms: &[args(ListPath, 1, 8)],
        ..cmd("du", Style::Gnu)
    },
    Command {
        opts: &[val(&["-n", "--lines"], UInt { min: 1, max: 5000 })],
        forms: &[args(ReadPath, 1, 8)],
        ..cmd("head", Style::Gnu)
    },
    Command {
        opts: &[
            flag(&["-l"]),
            flag(&["-a", "--all"]),
            flag(&["-A", "--almost-all"]),
            flag(&["-h", "--human-readable"]),
            flag(&["-1"]),
            flag(&["-t"]),
            flag(&["-r", "--reverse"]),
            flag(&["-S"]),
            flag(&["-d", "--directory"]),
            flag(&["-i", "--inode"]),
            flag(&["-n", "--numeric-uid-gid"]),
            flag(&["-F", "--classify"]),
        ],
        forms: &[args(ListPath, 1, 8)],
        ..cmd("ls", Style::Gnu)
    },
    Command {
        opts: &[flag(&["-f", "--file-system"]), flag(&["-t", "--terse"])],
        forms: &[args(ListPath, 1, 8)],
        ..cmd("stat", Style::Gnu)
    },
    Command {
        opts: &[val(&["-n", "--lines"], UInt { min: 1, max: 5000 })],
        forms: &[args(ReadPath, 1, 8)],
        refused: TAIL_LIKE,
        ..cmd("tail", Style::Gnu)
    },
    Command {
        opts: &[
            flag(&["-l", "--lines"]),
            flag(&["-w", "--words"]),
            flag(&["-c", "--bytes"]),
            flag(&["-m", "--chars"]),
            flag(&["-L", "--max-line-length"]),
        ],
        forms: &[args(ReadPath, 1, 8)],
        ..cmd("wc", Style::Gnu)
    },
];
