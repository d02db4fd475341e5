//! System, process and hardware information. Nothing here takes a file argument; commands that
//! can set what they show (`date`, `hostname`, `sensors -s`, `smartctl -s`) are limited to showing.

use super::*;

const PS_COLUMNS: &[&str] = &[
    "pid", "ppid", "pgid", "sid", "tid", "lwp", "nlwp", "user", "uid", "ruser", "euser", "group",
    "tty", "stat", "state", "pcpu", "pmem", "rss", "vsz", "sz", "start", "stime", "time", "etime",
    "etimes", "lstart", "comm", "ucmd", "args", "cmd", "ni", "nice", "pri", "psr", "wchan", "cls",
    "policy", "rtprio", "maj_flt", "min_flt", "f", "c",
];

/// System and hardware commands.
pub(super) static COMMANDS: &[Command] = &[
    Command {
        opts: &[flag(&["-u", "--utc"]), flag(&["-R", "--rfc-email"]), flag(&["-I", "--iso-8601"])],
        ..cmd("date", Style::Gnu)
    },
    Command {
        opts: &[
            flag(&["-l", "--list"]),
            flag(&["-D", "--df"]),
            flag(&["-J", "--json"]),
            flag(&["-n", "--noheadings"]),
        ],
        refused: &[("-p", NEVER_RETURNS), ("--poll", NEVER_RETURNS)],
        ..cmd("findmnt", Style::Gnu)
    },
    Command {
        opts: &[
            flag(&["-h", "--human"]),
            flag(&["-b", "--bytes"]),
            flag(&["-k", "--kibi"]),
            flag(&["-m", "--mebi"]),
            flag(&["-g", "--gibi"]),
            flag(&["-w", "--wide"]),
            flag(&["-t", "--total"]),
            flag(&["-l", "--lohi"]),
        ],
        refused: &[("-s", NEVER_RETURNS), ("-c", NEVER_RETURNS)],
        ..cmd("free", Style::Gnu)
    },
    Command {
        opts: &[
            flag(&["-f", "--fqdn"]),
            flag(&["-s", "--short"]),
            flag(&["-i", "--ip-address"]),
            flag(&["-I", "--all-ip-addresses"]),
            flag(&["-d", "--domain"]),
            flag(&["-A", "--all-fqdns"]),
        ],
        ..cmd("hostname", Style::Gnu)
    },
    Command { forms: &[BARE, sub(&[&["status"]])], ..cmd("hostnamectl", Style::Gnu) },
    Command {
        opts: &[
            val(&["-n", "--limit"], UInt { min: 1, max: 100 }),
            flag(&["-x", "--system"]),
            flag(&["-F", "--fulltimes"]),
            flag(&["-w", "--fullnames"]),
        ],
        forms: &[BARE, sub(&[&["reboot", "shutdown"]])],
        refused: &[("-f", "reads another file")],
        ..cmd("last", Style::Gnu)
    },
    Command {
        opts: &[
            flag(&["-f", "--fs"]),
            flag(&["-b", "--bytes"]),
            flag(&["-d", "--nodeps"]),
            flag(&["-p", "--paths"]),
            flag(&["-a", "--all"]),
            flag(&["-J", "--json"]),
            flag(&["-m", "--perms"]),
            flag(&["-t", "--topology"]),
        ],
        forms: &[args(Device, 0, 4)],
        ..cmd("lsblk", Style::Gnu)
    },
    Command { opts: &[flag(&["-J", "--json"])], ..cmd("lscpu", Style::Gnu) },
    Command {
        opts: &[
            flag(&["-v"]),
            flag(&["-n"]),
            flag(&["-k"]),
            flag(&["-t"]),
            flag(&["-D"]),
            flag(&["-m"]),
        ],
        ..cmd("lspci", Style::Gnu)
    },
    Command {
        opts: &[flag(&["-t", "--tree"]), flag(&["-v", "--verbose"])],
        ..cmd("lsusb", Style::Gnu)
    },
    Command { opts: &[flag(&["--all"])], ..cmd("nproc", Style::Gnu) },
    Command {
        opts: &[
            flag(&["-e"]),
            flag(&["-A"]),
            flag(&["-f"]),
            flag(&["-F"]),
            flag(&["-l"]),
            flag(&["-H"]),
            flag(&["-L"]),
            flag(&["-w"]),
            flag(&["--forest"]),
            flag(&["--no-headers"]),
            val(&["-o", "--format"], ListOf(PS_COLUMNS)),
            val(&["-p", "--pid"], Pids),
            val(&["--sort"], SortKeys(PS_COLUMNS)),
        ],
        forms: &[BARE, sub(&[&["aux", "auxf", "auxww", "axjf"]])],
        ..cmd("ps", Style::Gnu)
    },
    Command {
        opts: &[flag(&["-j"]), flag(&["-A"]), flag(&["-u"]), flag(&["-f"])],
        refused: &[("-s", "sets sensor limits")],
        ..cmd("sensors", Style::Gnu)
    },
    Command {
        opts: &[
            flag(&["-a", "--all"]),
            flag(&["-H", "--health"]),
            flag(&["-i", "--info"]),
            flag(&["-A", "--attributes"]),
            flag(&["-x", "--xall"]),
            flag(&["-c", "--capabilities"]),
            flag(&["-j"]),
            val(&["-l", "--log"], OneOf(&["error", "selftest", "xerror", "xselftest"])),
            val(&["-d", "--device"], OneOf(&["sat", "nvme", "ata", "scsi", "auto"])),
            val(&["-n", "--nocheck"], OneOf(&["never", "sleep", "standby", "idle"])),
        ],
        forms: &[args(Device, 1, 1)],
        refused: &[
            ("-t", "starts a self-test"),
            ("-s", "changes SMART settings"),
            ("-o", "changes SMART settings"),
            ("-S", "changes SMART settings"),
        ],
        ..cmd("smartctl", Style::Gnu)
    },
    Command {
        forms: &[BARE, sub(&[&["status", "show", "timesync-status", "show-timesync"]])],
        ..cmd("timedatectl", Style::Gnu)
    },
    Command {
        opts: &[
            flag(&["-b"]),
            val(&["-n"], UInt { min: 1, max: 1 }),
            flag(&["-c"]),
            flag(&["-H"]),
            flag(&["-i"]),
        ],
        required: &[
            (&["-b"], "`top` runs interactively forever; use `top -b -n 1`"),
            (&["-n"], "`top -b` repeats forever without `-n 1`; use `top -b -n 1`"),
        ],
        ..cmd("top", Style::Gnu)
    },
    Command {
        opts: &[
            flag(&["-a", "--all"]),
            flag(&["-r", "--kernel-release"]),
            flag(&["-m", "--machine"]),
            flag(&["-n", "--nodename"]),
            flag(&["-s", "--kernel-name"]),
            flag(&["-v", "--kernel-version"]),
            flag(&["-o", "--operating-system"]),
        ],
        ..cmd("uname", Style::Gnu)
    },
    Command {
        opts: &[flag(&["-p", "--pretty"]), flag(&["-s", "--since"])],
        ..cmd("uptime", Style::Gnu)
    },
    Command {
        opts: &[
            flag(&["-h", "--no-header"]),
            flag(&["-s", "--short"]),
            flag(&["-f", "--from"]),
            flag(&["-i", "--ip-addr"]),
        ],
        ..cmd("w", Style::Gnu)
    },
    Command {
        opts: &[
            flag(&["-b", "--boot"]),
            flag(&["-r", "--runlevel"]),
            flag(&["-a", "--all"]),
            flag(&["-H", "--heading"]),
            flag(&["-q", "--count"]),
            flag(&["-u", "--users"]),
        ],
        ..cmd("who", Style::Gnu)
    },
];
