//! Network inspection: addresses, links, routes, sockets, reachability. Only `show`/`list` forms;
//! `ping` always with a count.

use super::*;

const IP_OBJECTS: &[&str] =
    &["a", "addr", "address", "link", "route", "r", "neigh", "neighbor", "neighbour"];

/// Network commands.
pub(super) static COMMANDS: &[Command] = &[
    Command {
        opts: &[flag(&["-i"]), flag(&["-S"]), flag(&["-k"]), flag(&["-g"]), flag(&["-a"])],
        forms: &[args(Iface, 1, 1)],
        refused: &[
            ("-s", "changes link settings"),
            ("-K", "changes offload settings"),
            ("-E", "writes the EEPROM"),
            ("-f", "flashes firmware"),
            ("-p", "blinks the port LED and blocks"),
            ("-r", "restarts negotiation"),
        ],
        ..cmd("ethtool", Style::Ordered)
    },
    Command {
        opts: &[
            flag(&["-br", "-brief"]),
            flag(&["-s", "-stats"]),
            flag(&["-d", "-details"]),
            flag(&["-4"]),
            flag(&["-6"]),
            flag(&["-j", "-json"]),
            flag(&["-p", "-pretty"]),
            flag(&["-o", "-oneline"]),
        ],
        forms: &[
            sub(&[IP_OBJECTS]),
            sub_args(&[IP_OBJECTS, &["show", "list"]], Iface, 0, 1),
            sub_args(&[IP_OBJECTS, &["show", "list"], &["dev"]], Iface, 1, 1),
        ],
        refused: &[
            ("add", "changes networking"),
            ("del", "changes networking"),
            ("delete", "changes networking"),
            ("set", "changes networking"),
            ("flush", "changes networking"),
            ("change", "changes networking"),
            ("replace", "changes networking"),
            ("-b", "reads commands from a file"),
            ("-batch", "reads commands from a file"),
            ("-n", "enters another network namespace"),
            ("netns", "enters another network namespace"),
        ],
        ..cmd("ip", Style::Ordered)
    },
    Command {
        opts: &[
            val(&["-c"], UInt { min: 1, max: 10 }),
            val(&["-W"], UInt { min: 1, max: 5 }),
            val(&["-w"], UInt { min: 1, max: 30 }),
            flag(&["-4"]),
            flag(&["-6"]),
            flag(&["-q"]),
            flag(&["-n"]),
        ],
        forms: &[args(Host, 1, 1)],
        required: &[(&["-c"], "`ping` needs `-c N` (1-10) or it never returns")],
        refused: &[("-f", "`ping -f` floods the network")],
        ..cmd("ping", Style::Gnu)
    },
    Command {
        opts: &[
            flag(&["-t", "--tcp"]),
            flag(&["-u", "--udp"]),
            flag(&["-l", "--listening"]),
            flag(&["-n", "--numeric"]),
            flag(&["-p", "--processes"]),
            flag(&["-a", "--all"]),
            flag(&["-s", "--summary"]),
            flag(&["-x", "--unix"]),
            flag(&["-w", "--raw"]),
            flag(&["-e", "--extended"]),
            flag(&["-m", "--memory"]),
            flag(&["-o", "--options"]),
            flag(&["-i", "--info"]),
            flag(&["-4"]),
            flag(&["-6"]),
            flag(&["-H", "--no-header"]),
            flag(&["-r", "--resolve"]),
        ],
        refused: &[
            ("-K", "kills sockets"),
            ("--kill", "kills sockets"),
            ("-D", "writes a file"),
            ("-F", "reads a filter file"),
            ("-N", "enters another network namespace"),
        ],
        ..cmd("ss", Style::Gnu)
    },
];
