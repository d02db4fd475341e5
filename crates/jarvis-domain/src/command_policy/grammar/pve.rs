//! Proxmox VE, storage (ZFS, LVM, Ceph) and package queries. Guest lifecycle sub-commands are
//! refused with a pointer to the tiered tools; `pvesh` only reads (`get`, `ls`).

use super::*;

const QM_LIFECYCLE: &str = "changes a guest; use the start_vm, stop_vm, shutdown_vm or restart_vm \
    tools (stop and restart need the operator's confirmation)";
const PCT_LIFECYCLE: &str = "changes a container; use the start_container, stop_container, \
    shutdown_container or restart_container tools";
const GUEST_EXEC: &str = "runs commands inside a guest and is never allowed";
const ZFS_CHANGES: &str = "changes or destroys ZFS data and is never allowed";
const ZPOOL_COLUMNS: &[&str] = &[
    "name", "size", "alloc", "free", "cap", "health", "frag", "dedup", "expandsz", "ckpoint",
    "altroot",
];
const ZFS_COLUMNS: &[&str] = &[
    "name",
    "used",
    "avail",
    "available",
    "refer",
    "referenced",
    "mountpoint",
    "type",
    "compressratio",
    "compression",
    "creation",
    "origin",
    "quota",
    "refquota",
    "reservation",
    "volsize",
    "recordsize",
    "written",
    "usedbysnapshots",
    "usedbydataset",
    "logicalused",
];
const LVM_COLUMNS: &[&str] = &[
    "lv_name",
    "vg_name",
    "lv_size",
    "lv_attr",
    "lv_path",
    "pool_lv",
    "origin",
    "data_percent",
    "metadata_percent",
    "lv_tags",
    "devices",
    "segtype",
    "vg_size",
    "vg_free",
    "vg_attr",
    "pv_count",
    "lv_count",
    "snap_count",
    "pv_name",
    "pv_size",
    "pv_free",
    "pv_attr",
    "pv_used",
    "dev_size",
];
const LVM_OPTS: &[Opt] = &[
    flag(&["-a", "--all"]),
    val(&["-o", "--options"], ListOf(LVM_COLUMNS)),
    val(&["--units"], OneOf(&["h", "b", "k", "m", "g", "t", "H", "B", "K", "M", "G", "T"])),
    flag(&["--noheadings"]),
    flag(&["--nosuffix"]),
    val(&["--reportformat"], OneOf(&["basic", "json"])),
];

/// PVE, storage and package commands.
pub(super) static COMMANDS: &[Command] = &[
    Command {
        opts: &[flag(&["--upgradable"])],
        forms: &[sub(&[&["list"]])],
        required: &[(&["--upgradable"], "only `apt list --upgradable` is allowed")],
        refused: &[
            ("install", "installs packages"),
            ("remove", "removes packages"),
            ("purge", "removes packages"),
            ("upgrade", "upgrades packages"),
            ("full-upgrade", "upgrades packages"),
            ("dist-upgrade", "upgrades packages"),
            ("autoremove", "removes packages"),
            ("update", "changes the package lists"),
        ],
        ..cmd("apt", Style::Exact)
    },
    Command {
        opts: &[val(&["-f", "--format"], OneOf(&["json", "json-pretty", "plain"]))],
        // No bare `ceph`: without a sub-command it starts an interactive shell.
        forms: &[
            sub(&[&["status", "df", "versions"]]),
            sub(&[&["health"]]),
            sub(&[&["health"], &["detail"]]),
            sub(&[&["df"], &["detail"]]),
            sub(&[&["osd"], &["tree", "df", "stat"]]),
            sub(&[&["osd"], &["pool"], &["ls"]]),
            sub(&[&["mon", "pg"], &["stat"]]),
        ],
        refused: &[
            ("-w", NEVER_RETURNS),
            ("--watch", NEVER_RETURNS),
            ("-s", "use `ceph status`"),
            ("auth", "exposes Ceph keys"),
        ],
        ..cmd("ceph", Style::Gnu)
    },
    Command {
        opts: &[flag(&["-l", "--list"]), flag(&["-s", "--status"]), flag(&["-L", "--listfiles"])],
        forms: &[args(Package, 0, 8)],
        required: &[(&["-l", "-s", "-L"], "`dpkg` needs one of -l, -s or -L")],
        refused: &[
            ("-i", "installs packages"),
            ("--install", "installs packages"),
            ("-r", "removes packages"),
            ("--remove", "removes packages"),
            ("-P", "purges packages"),
            ("--purge", "purges packages"),
            ("--configure", "configures packages"),
        ],
        ..cmd("dpkg", Style::Exact)
    },
    Command { forms: &[BARE, sub(&[&["status"]])], ..cmd("ha-manager", Style::Exact) },
    Command { opts: LVM_OPTS, ..cmd("lvs", Style::Gnu) },
    Command {
        opts: &[flag(&["--full"]), flag(&["--verbose"]), flag(&["--current"])],
        forms: &[sub(&[&["list"]]), sub_args(&[&["status", "config", "pending"]], VmId, 1, 1)],
        refused: &[
            ("start", PCT_LIFECYCLE),
            ("stop", PCT_LIFECYCLE),
            ("shutdown", PCT_LIFECYCLE),
            ("reboot", PCT_LIFECYCLE),
            ("destroy", "destroys a container"),
            ("exec", GUEST_EXEC),
            ("enter", GUEST_EXEC),
            ("console", GUEST_EXEC),
            ("push", "writes into a container"),
            ("pull", "reads files from inside a container"),
            ("set", "changes a container"),
        ],
        ..cmd("pct", Style::Exact)
    },
    Command {
        forms: &[sub(&[&["status", "nodes"]])],
        refused: &[("expected", "changes quorum")],
        ..cmd("pvecm", Style::Exact)
    },
    Command {
        opts: &[
            val(&["--output-format"], OneOf(&["json", "json-pretty", "text", "yaml"])),
            val(&["--type"], OneOf(&["vm", "storage", "node", "sdn"])),
            val(&["--limit"], UInt { min: 1, max: 500 }),
        ],
        forms: &[sub_args(&[&["get", "ls"]], ApiPath, 1, 1)],
        refused: &[
            ("create", "`pvesh create` changes the cluster; only get and ls are allowed"),
            ("set", "`pvesh set` changes the cluster; only get and ls are allowed"),
            ("delete", "`pvesh delete` changes the cluster; only get and ls are allowed"),
        ],
        ..cmd("pvesh", Style::Exact)
    },
    Command { forms: &[sub(&[&["status"]])], ..cmd("pvesm", Style::Exact) },
    Command { opts: &[flag(&["-v", "--verbose"])], ..cmd("pveversion", Style::Exact) },
    Command { opts: LVM_OPTS, ..cmd("pvs", Style::Gnu) },
    Command {
        opts: &[flag(&["--verbose"]), flag(&["--current"]), flag(&["--full"])],
        forms: &[sub(&[&["list"]]), sub_args(&[&["status", "config", "pending"]], VmId, 1, 1)],
        refused: &[
            ("start", QM_LIFECYCLE),
            ("stop", QM_LIFECYCLE),
            ("shutdown", QM_LIFECYCLE),
            ("reboot", QM_LIFECYCLE),
            ("reset", QM_LIFECYCLE),
            ("destroy", "destroys a VM"),
            ("guest", GUEST_EXEC),
            ("agent", GUEST_EXEC),
            ("monitor", GUEST_EXEC),
            ("terminal", GUEST_EXEC),
            ("set", "changes a VM"),
        ],
        ..cmd("qm", Style::Exact)
    },
    Command { opts: LVM_OPTS, ..cmd("vgs", Style::Gnu) },
    Command {
        opts: &[
            val(&["-t"], ListOf(&["filesystem", "volume", "snapshot", "bookmark", "all"])),
            val(&["-o"], ListOf(ZFS_COLUMNS)),
            flag(&["-r"]),
            flag(&["-H"]),
            flag(&["-p"]),
            val(&["-s"], OneOf(ZFS_COLUMNS)),
            val(&["-S"], OneOf(ZFS_COLUMNS)),
            val(&["-d"], UInt { min: 0, max: 10 }),
        ],
        forms: &[sub_args(&[&["list"]], ZfsName, 0, 4)],
        refused: &[
            ("destroy", ZFS_CHANGES),
            ("create", ZFS_CHANGES),
            ("rollback", ZFS_CHANGES),
            ("snapshot", ZFS_CHANGES),
            ("rename", ZFS_CHANGES),
            ("set", ZFS_CHANGES),
            ("send", ZFS_CHANGES),
            ("receive", ZFS_CHANGES),
            ("recv", ZFS_CHANGES),
            ("program", ZFS_CHANGES),
            ("mount", ZFS_CHANGES),
            ("unmount", ZFS_CHANGES),
        ],
        ..cmd("zfs", Style::Gnu)
    },
    Command {
        opts: &[
            flag(&["-x"]),
            flag(&["-v"]),
            flag(&["-P"]),
            flag(&["-H"]),
            flag(&["-p"]),
            val(&["-o"], ListOf(ZPOOL_COLUMNS)),
        ],
        forms: &[sub_args(&[&["status", "list"]], ZfsName, 0, 4)],
        refused: &[
            ("destroy", ZFS_CHANGES),
            ("create", ZFS_CHANGES),
            ("add", ZFS_CHANGES),
            ("remove", ZFS_CHANGES),
            ("attach", ZFS_CHANGES),
            ("detach", ZFS_CHANGES),
            ("replace", ZFS_CHANGES),
            ("offline", ZFS_CHANGES),
            ("online", ZFS_CHANGES),
            ("clear", ZFS_CHANGES),
            ("export", ZFS_CHANGES),
            ("import", ZFS_CHANGES),
            ("scrub", ZFS_CHANGES),
            ("trim", ZFS_CHANGES),
            ("upgrade", ZFS_CHANGES),
            ("labelclear", ZFS_CHANGES),
            ("set", ZFS_CHANGES),
            ("split", ZFS_CHANGES),
        ],
        ..cmd("zpool", Style::Gnu)
    },
];
