//! Table tests (TEST-02): hostile commands that must be refused for the right reason, and
//! everyday diagnostics that must pass.

use super::*;

/// `(command, fragment the refusal reason must contain)`.
pub(super) const HOSTILE: &[(&str, &str)] = &[
    // Chaining and injection in every form.
    ("df -h; rm -rf /", "`;` is a shell metacharacter"),
    ("df -h;rm -rf /", "`;`"),
    ("uptime && reboot", "`&`"),
    ("uptime & reboot", "`&`"),
    ("false || reboot", "`|`"),
    ("ps aux | grep x", "`|`"),
    ("cat /proc/loadavg|sh", "`|`"),
    ("echo `reboot`", "command substitution"),
    ("uptime `id`", "command substitution"),
    ("ls $(reboot)", "command substitution"),
    ("ls ${IFS}/", "command substitution"),
    ("cat${IFS}/etc/shadow", "command substitution"),
    ("ls $HOME", "command substitution"),
    ("uptime\nreboot", "line breaks"),
    ("uptime\rreboot", "line breaks"),
    ("uptime\r\nreboot", "line breaks"),
    ("uptime\0reboot", "control character U+0000"),
    ("uptime\treboot", "tabs"),
    ("df\t-h", "tabs"),
    ("uptime\u{0b}", "control character U+000B"),
    ("uptime\u{7f}", "control character U+007F"),
    ("uptime\u{1b}[2J", "control character U+001B"),
    ("uptime\u{ff1b} reboot", "U+FF1B"),
    ("uptime \u{202e}toober", "U+202E"),
    ("\u{441}at /etc/shadow", "U+0441"),
    ("c\u{430}t /etc/hostname", "U+0430"),
    ("df \u{2212}h", "U+2212"),
    ("df\u{a0}-h", "U+00A0"),
    ("ls\u{200b} /", "U+200B"),
    ("ｃａｔ /etc/hostname", "non-ASCII"),
    ("(reboot)", "subshells"),
    ("{ reboot; }", "brace expansion"),
    ("uptime # comment", "`#`"),
    ("!!", "`!`"),
    ("^uptime^reboot", "`^`"),
    ("cat \"/etc/shadow\"", "quotes"),
    ("cat '/etc/shadow'", "quotes"),
    ("cat /etc/sha\\dow", "quotes and backslashes"),
    ("ls ~root", "`~`"),
    ("ls ~", "`~`"),
    // Redirections.
    ("uptime > /etc/passwd", "redirection"),
    ("uptime >> /root/.bashrc", "redirection"),
    ("ls /nope 2>&1", "redirection"),
    ("cat < /etc/shadow", "redirection"),
    ("df -h >/dev/sda", "redirection"),
    // Globs.
    ("cat /etc/*", "globs"),
    ("cat /sys/class/thermal/thermal_zone?/temp", "globs"),
    ("cat /proc/[0-9]/environ", "globs"),
    ("ls /var/log/sys*", "globs"),
    // Path traversal and unnormalised paths.
    ("cat /proc/../etc/shadow", "`..`"),
    ("cat /etc/os-release/../shadow", "`..`"),
    ("cat /sys/class/thermal/../../../etc/shadow", "`..`"),
    ("cat //etc/shadow", "`//`"),
    ("cat /var/log//syslog", "`//`"),
    ("cat /var/log/./syslog", "`.`"),
    ("cat ./x", "relative path"),
    ("cat etc/shadow", "relative path"),
    ("cat ../../etc/shadow", "relative path"),
    ("ls ..", "relative path"),
    ("ls /var/log/../../root", "`..`"),
    ("du -sh /var/lib/vz/../../../root", "`..`"),
    ("tail -n 10 /var/log/syslog/../../../etc/shadow", "`..`"),
    // Protected and secret files.
    ("cat /etc/shadow", "not a readable path"),
    ("cat /etc/pve/priv/authkey.key", "secrets"),
    ("ls /etc/pve/priv", "secrets"),
    ("ls -la /etc/pve/priv/", "secrets"),
    ("stat /etc/pve/nodes/pve1/priv", "secrets"),
    ("cat /proc/self/environ", "not a readable path"),
    ("cat /proc/1/environ", "not a readable path"),
    ("cat /proc/1/cmdline", "not a readable path"),
    ("cat /root/.ssh/id_rsa", "not a readable path"),
    ("head -n 5 /etc/pve/user.cfg", "not a readable path"),
    ("cat /etc/pve/nodes/pve1/pve-ssl.key", "not a readable path"),
    ("cat /dev/sda", "not a readable path"),
    ("cat /var/lib/vz", "not a readable path"),
    ("ls /root", "not a listable path"),
    ("ls /home", "not a listable path"),
    ("du -sh /etc/ssh", "not a listable path"),
    ("wc -l /etc/passwd", "not a readable path"),
    // Never-returning commands.
    ("tail -f /var/log/syslog", "never returns"),
    ("tail -F /var/log/syslog", "never returns"),
    ("tail -fn 10 /var/log/syslog", "never returns"),
    ("tail -n 10 -f /var/log/syslog", "never returns"),
    ("tail --follow /var/log/syslog", "never returns"),
    ("tail --follow=name /var/log/syslog", "never returns"),
    ("journalctl -f", "never returns"),
    ("journalctl -n 10 -f", "never returns"),
    ("journalctl --follow -n 10", "never returns"),
    ("journalctl -fu pveproxy -n 10", "never returns"),
    ("journalctl -u pveproxy", "needs `-n N`"),
    ("journalctl -n 100000", "from 1 to 2000"),
    ("top", "use `top -b -n 1`"),
    ("top -b", "`-n 1`"),
    ("top -b -n 5", "from 1 to 1"),
    ("ping 10.0.0.1", "needs `-c N`"),
    ("ping -c 100000 10.0.0.1", "from 1 to 10"),
    ("ping -f -c 1 10.0.0.1", "floods"),
    ("watch df -h", "runs another command"),
    ("dmesg -w", "never returns"),
    ("dmesg --follow", "never returns"),
    ("less /var/log/syslog", "interactive"),
    ("vi /etc/hosts", "interactive"),
    ("free -s 1", "never returns"),
    ("findmnt --poll", "never returns"),
    ("cat", "needs at least 1"),
    ("ceph", "needs more words"),
    ("ceph -w", "never returns"),
    // Destructive look-alikes.
    ("systemctl restart pveproxy", "restart_service"),
    ("systemctl stop pve-cluster", "changes service state"),
    ("systemctl --no-pager stop pve-cluster", "changes service state"),
    ("systemctl disable --now pveproxy", "changes service state"),
    ("systemctl mask corosync", "changes service state"),
    ("systemctl kill sshd", "changes service state"),
    ("systemctl daemon-reload", "changes service state"),
    ("systemctl reboot", "takes the node down"),
    ("systemctl poweroff", "takes the node down"),
    ("systemctl isolate rescue.target", "changes service state"),
    ("systemctl -H otherhost status", "another host"),
    ("rm -rf /", "changes or destroys files"),
    ("mkfs.ext4 /dev/sda", "changes or destroys files"),
    ("dd if=/dev/zero of=/dev/sda", "changes or destroys files"),
    ("shutdown -h now", "takes the node down"),
    ("reboot", "takes the node down"),
    ("poweroff", "takes the node down"),
    ("init 0", "takes the node down"),
    ("qm stop 100", "stop_vm"),
    ("qm destroy 100", "destroys a VM"),
    ("qm guest exec 100 id", "inside a guest"),
    ("qm set 100 --delete net0", "changes a VM"),
    ("pct exec 100 -- bash", "inside a guest"),
    ("pct enter 100", "inside a guest"),
    ("pct stop 100", "stop_container"),
    ("pvesh create /nodes/pve1/qemu", "only get and ls"),
    ("pvesh set /cluster/options", "only get and ls"),
    ("pvesh delete /nodes/pve1/qemu/100", "only get and ls"),
    ("pvesh get /nodes/pve1/qemu/100/agent/file-read", "reach into guests"),
    ("pvesh get /nodes/../access", "not a valid API path"),
    ("pvesh", "needs more words"),
    ("pvecm expected 1", "changes quorum"),
    ("zpool destroy rpool", "destroys ZFS data"),
    ("zpool scrub rpool", "ZFS data"),
    ("zpool status 5", "not a valid pool"),
    ("zfs destroy rpool/data", "destroys ZFS data"),
    ("zfs rollback rpool/data@snap", "ZFS data"),
    ("ip link delete vmbr0", "changes networking"),
    ("ip link set vmbr0 down", "changes networking"),
    ("ip addr flush dev vmbr0", "changes networking"),
    ("ip route add default via 1.2.3.4", "changes networking"),
    ("ip -batch /tmp/x", "reads commands from a file"),
    ("ip -n other link", "another network namespace"),
    ("ip link show vmbr0 -s", "options must come before"),
    ("iptables -F", "changes the firewall"),
    ("nft flush ruleset", "changes the firewall"),
    ("dmesg -c", "clears the kernel log"),
    ("dmesg -C", "clears the kernel log"),
    ("dmesg -n 1", "console log level"),
    ("journalctl --vacuum-size=1", "deletes journal files"),
    ("journalctl --rotate -n 1", "changes journald state"),
    ("journalctl -n 5 --file=/etc/shadow", "another journal file"),
    ("journalctl -n 5 -D /tmp", "another journal directory"),
    ("find / -exec rm {} +", "brace expansion"),
    ("find / -delete", "can run commands"),
    ("xargs rm", "runs another command"),
    ("env rm -rf /", "runs another command"),
    ("sudo ls /", "runs another command"),
    ("timeout 5 bash", "runs another command"),
    ("nice reboot", "runs another command"),
    ("nsenter -t 1 -m", "runs another command"),
    ("/bin/rm -rf /", "bare command name"),
    ("/usr/bin/cat /etc/hostname", "bare command name"),
    ("./uptime", "bare command name"),
    ("busybox rm -rf /", "is a shell"),
    ("bash -c uptime", "is a shell"),
    ("sh", "is a shell"),
    ("awk BEGIN", "interpreter"),
    ("awk 'BEGIN{system(\"reboot\")}'", "quotes"),
    ("python3 -c x", "interpreter"),
    ("perl -e x", "interpreter"),
    ("sed -i s/a/b/ /etc/hosts", "interpreter"),
    ("curl http://x/y", "network connections"),
    ("ssh pve2 reboot", "network connections"),
    ("kill -9 1", "stops processes"),
    ("smartctl -t long /dev/sda", "self-test"),
    ("smartctl -s off /dev/sda", "SMART settings"),
    ("smartctl -a /dev/mem", "not a valid disk device"),
    ("ethtool -s eth0 speed 10", "changes link settings"),
    ("ethtool -E eth0", "writes the EEPROM"),
    ("ss -K dst 10.0.0.1", "kills sockets"),
    ("sensors -s", "sets sensor limits"),
    ("hostname evil", "takes no arguments"),
    ("date 010100002030", "takes no arguments"),
    ("date -s 2030-01-01", "not an allowed option"),
    ("dpkg -i /tmp/x.deb", "installs packages"),
    ("dpkg -P pve-manager", "purges packages"),
    ("dpkg vim", "needs one of -l"),
    ("apt install vim", "installs packages"),
    ("apt update", "changes the package lists"),
    ("apt list", "only `apt list --upgradable`"),
    ("last -f /etc/shadow", "reads another file"),
    // Option smuggling and parser confusion.
    ("ls --color=always /var/log", "not an allowed option"),
    ("ls -la -- /etc/shadow", "`--`"),
    ("cat -", "standard input"),
    ("cat -- /etc/shadow", "`--`"),
    ("ps -eo pid,env", "`env` is not one of"),
    ("ps e", "not allowed"),
    ("ps auxe", "not allowed"),
    ("ps -eo pid,cmd --sort=-env", "not one of"),
    ("ps -eo pid,comm= ", "not one of"),
    ("journalctl -n 10 -o export", "not one of"),
    ("journalctl -n010", "from 1 to 2000"),
    ("head -n -5 /var/log/syslog", "from 1 to 5000"),
    ("head -100 /var/log/syslog", "not an allowed option"),
    ("tail -n 10 /var/log/syslog /etc/shadow", "not a readable path"),
    ("systemctl status -l --lines=999", "from 0 to 200"),
    ("systemctl --no-pager=no status", "takes no value"),
    ("systemctl status --root=/tmp x", "not an allowed option"),
    ("du --max-depth=99 /var", "from 0 to 5"),
    ("pvesh get /cluster/resources --output-format=sh", "not one of"),
    ("pvesh get /version --noproxy", "not an allowed option"),
    ("qm status 99", "from 100"),
    ("qm status 100abc", "whole number"),
    ("qm config 0100", "whole number"),
    ("ip addr show -s", "options must come before"),
    ("ip addr show vmbr0 extra", "not allowed"),
    ("ip addr show this-name-is-too-long", "not a valid interface"),
    ("lsblk /dev/sda/../mem", "not a valid disk device"),
    ("zfs list -o name,all", "not one of"),
    ("-h", "is an option, not a command"),
    ("", "empty"),
    ("     ", "empty"),
];

/// Everyday diagnostics that must pass, with the argv they must become.
pub(super) const EVERYDAY: &[(&str, &[&str])] = &[
    ("df -h", &["df", "-h"]),
    ("df -hT /", &["df", "-hT", "/"]),
    ("free -h", &["free", "-h"]),
    ("uptime", &["uptime"]),
    ("uptime -p", &["uptime", "-p"]),
    ("hostname -f", &["hostname", "-f"]),
    ("uname -a", &["uname", "-a"]),
    ("date -u", &["date", "-u"]),
    ("nproc", &["nproc"]),
    ("systemctl status pveproxy", &["systemctl", "--no-pager", "status", "pveproxy"]),
    ("systemctl status docker", &["systemctl", "--no-pager", "status", "docker"]),
    ("systemctl is-active corosync", &["systemctl", "--no-pager", "is-active", "corosync"]),
    (
        "systemctl --no-pager list-units --state=failed",
        &["systemctl", "--no-pager", "list-units", "--state=failed"],
    ),
    (
        "systemctl list-units --type=service --state=running",
        &["systemctl", "--no-pager", "list-units", "--type=service", "--state=running"],
    ),
    ("systemctl list-timers", &["systemctl", "--no-pager", "list-timers"]),
    (
        "systemctl show pveproxy -p ActiveState,SubState",
        &["systemctl", "--no-pager", "show", "pveproxy", "-p", "ActiveState,SubState"],
    ),
    (
        "journalctl -u pve-cluster -n 100",
        &["journalctl", "--no-pager", "-u", "pve-cluster", "-n", "100"],
    ),
    ("journalctl -p err -b -n 50", &["journalctl", "--no-pager", "-p", "err", "-b", "-n", "50"]),
    (
        "journalctl -k -n 200 --since=today",
        &["journalctl", "--no-pager", "-k", "-n", "200", "--since=today"],
    ),
    (
        "journalctl -u corosync --since -2h -n 300 -o short-iso",
        &[
            "journalctl",
            "--no-pager",
            "-u",
            "corosync",
            "--since",
            "-2h",
            "-n",
            "300",
            "-o",
            "short-iso",
        ],
    ),
    ("journalctl -n100 -upveproxy", &["journalctl", "--no-pager", "-n100", "-upveproxy"]),
    ("dmesg -T --level=err,warn", &["dmesg", "-T", "--level=err,warn"]),
    ("dmesg -T", &["dmesg", "-T"]),
    ("zpool status", &["zpool", "status"]),
    ("zpool status -x", &["zpool", "status", "-x"]),
    ("zpool list", &["zpool", "list"]),
    (
        "zfs list -t snapshot -o name,used,creation",
        &["zfs", "list", "-t", "snapshot", "-o", "name,used,creation"],
    ),
    ("lvs", &["lvs"]),
    ("vgs -o vg_name,vg_size,vg_free", &["vgs", "-o", "vg_name,vg_size,vg_free"]),
    ("pvs", &["pvs"]),
    ("qm list", &["qm", "list"]),
    ("qm status 101", &["qm", "status", "101"]),
    ("qm config 101", &["qm", "config", "101"]),
    ("pct list", &["pct", "list"]),
    ("pct config 200", &["pct", "config", "200"]),
    ("pvecm status", &["pvecm", "status"]),
    ("pvecm nodes", &["pvecm", "nodes"]),
    ("pvesm status", &["pvesm", "status"]),
    ("ha-manager status", &["ha-manager", "status"]),
    ("pveversion -v", &["pveversion", "-v"]),
    (
        "pvesh get /cluster/resources --output-format=json",
        &["pvesh", "get", "/cluster/resources", "--output-format=json"],
    ),
    (
        "pvesh get /cluster/resources --type vm",
        &["pvesh", "get", "/cluster/resources", "--type", "vm"],
    ),
    ("pvesh ls /nodes", &["pvesh", "ls", "/nodes"]),
    ("cat /proc/loadavg", &["cat", "/proc/loadavg"]),
    ("cat /proc/meminfo", &["cat", "/proc/meminfo"]),
    ("cat /proc/pressure/io", &["cat", "/proc/pressure/io"]),
    (
        "cat /sys/class/thermal/thermal_zone0/temp",
        &["cat", "/sys/class/thermal/thermal_zone0/temp"],
    ),
    ("cat /sys/class/hwmon/hwmon2/temp1_input", &["cat", "/sys/class/hwmon/hwmon2/temp1_input"]),
    ("cat /etc/os-release", &["cat", "/etc/os-release"]),
    ("cat /etc/pve/storage.cfg", &["cat", "/etc/pve/storage.cfg"]),
    ("cat /etc/pve/qemu-server/101.conf", &["cat", "/etc/pve/qemu-server/101.conf"]),
    ("cat /etc/network/interfaces", &["cat", "/etc/network/interfaces"]),
    ("tail -n 100 /var/log/syslog", &["tail", "-n", "100", "/var/log/syslog"]),
    ("tail -n100 /var/log/pveproxy/access.log", &["tail", "-n100", "/var/log/pveproxy/access.log"]),
    ("head -n 20 /var/log/kern.log", &["head", "-n", "20", "/var/log/kern.log"]),
    ("wc -l /var/log/syslog", &["wc", "-l", "/var/log/syslog"]),
    ("ls -la /var/log", &["ls", "-la", "/var/log"]),
    ("ls -lh /var/lib/vz/dump/", &["ls", "-lh", "/var/lib/vz/dump"]),
    ("ls -l /dev/disk/by-id", &["ls", "-l", "/dev/disk/by-id"]),
    ("du -sh /var/lib/vz", &["du", "-sh", "/var/lib/vz"]),
    ("du -h -d 1 /var/log", &["du", "-h", "-d", "1", "/var/log"]),
    ("stat /var/log/syslog", &["stat", "/var/log/syslog"]),
    ("ip addr show vmbr0", &["ip", "addr", "show", "vmbr0"]),
    ("ip -br a", &["ip", "-br", "a"]),
    ("ip -s link show dev eno1", &["ip", "-s", "link", "show", "dev", "eno1"]),
    ("ip route", &["ip", "route"]),
    ("ss -tlnp", &["ss", "-tlnp"]),
    ("ss -s", &["ss", "-s"]),
    ("ps aux", &["ps", "aux"]),
    ("ps -ef", &["ps", "-ef"]),
    ("ps aux --sort=-pcpu", &["ps", "aux", "--sort=-pcpu"]),
    (
        "ps -eo pid,ppid,user,pcpu,pmem,rss,comm --sort -rss",
        &["ps", "-eo", "pid,ppid,user,pcpu,pmem,rss,comm", "--sort", "-rss"],
    ),
    ("top -b -n 1", &["top", "-b", "-n", "1"]),
    ("top -bn1", &["top", "-bn1"]),
    ("sensors", &["sensors"]),
    ("sensors -j", &["sensors", "-j"]),
    ("smartctl -H /dev/sda", &["smartctl", "-H", "/dev/sda"]),
    ("smartctl -a /dev/nvme0n1", &["smartctl", "-a", "/dev/nvme0n1"]),
    ("smartctl -a -d sat /dev/sdb", &["smartctl", "-a", "-d", "sat", "/dev/sdb"]),
    ("lsblk -f", &["lsblk", "-f"]),
    ("lsblk", &["lsblk"]),
    ("lscpu", &["lscpu"]),
    ("lspci -nnk", &["lspci", "-nnk"]),
    ("lsusb", &["lsusb"]),
    ("ping -c 3 10.0.0.1", &["ping", "-c", "3", "10.0.0.1"]),
    ("ping -c 1 -W 2 pve2", &["ping", "-c", "1", "-W", "2", "pve2"]),
    ("ping -c 2 fe80::1", &["ping", "-c", "2", "fe80::1"]),
    ("who", &["who"]),
    ("w", &["w"]),
    ("last -n 20", &["last", "-n", "20"]),
    ("last reboot", &["last", "reboot"]),
    ("ethtool eno1", &["ethtool", "eno1"]),
    ("ethtool -i eno1", &["ethtool", "-i", "eno1"]),
    ("dpkg -l pve-manager", &["dpkg", "-l", "pve-manager"]),
    ("apt list --upgradable", &["apt", "list", "--upgradable"]),
    ("ceph status", &["ceph", "status"]),
    ("ceph health detail", &["ceph", "health", "detail"]),
    ("ceph osd tree", &["ceph", "osd", "tree"]),
    ("ceph df -f json", &["ceph", "df", "-f", "json"]),
    ("timedatectl", &["timedatectl"]),
    ("findmnt -D", &["findmnt", "-D"]),
    ("  df    -h  ", &["df", "-h"]),
];

#[test]
fn hostile_commands_are_refused_for_the_right_reason() {
    assert!(HOSTILE.len() >= 120, "only {} hostile cases", HOSTILE.len());
    let mut wrong = Vec::new();
    for (input, fragment) in HOSTILE {
        match check_command(input) {
            Ok(cmd) => wrong.push(format!("ACCEPTED {input:?} as {:?}", cmd.argv())),
            Err(v) if !v.reason.contains(fragment) => {
                wrong.push(format!("{input:?}: reason {:?} lacks {fragment:?}", v.reason));
            }
            Err(_) => {}
        }
    }
    assert!(wrong.is_empty(), "{} problems:\n{}", wrong.len(), wrong.join("\n"));
}

#[test]
fn everyday_diagnostics_pass_as_the_expected_argv() {
    assert!(EVERYDAY.len() >= 50, "only {} everyday cases", EVERYDAY.len());
    let mut wrong = Vec::new();
    for (input, argv) in EVERYDAY {
        match check_command(input) {
            Ok(cmd) if cmd.argv() == *argv => {}
            Ok(cmd) => wrong.push(format!("{input:?} became {:?}, expected {argv:?}", cmd.argv())),
            Err(v) => wrong.push(format!("REFUSED {input:?}: {}", v.reason)),
        }
    }
    assert!(wrong.is_empty(), "{} problems:\n{}", wrong.len(), wrong.join("\n"));
}

#[test]
fn to_shell_quotes_every_word() {
    let cmd = check_command("journalctl -u pve-cluster -n 100").unwrap();
    assert_eq!(cmd.to_shell(), "'journalctl' '--no-pager' '-u' 'pve-cluster' '-n' '100'");
    assert_eq!(cmd.program(), "journalctl");
    assert_eq!(cmd.to_string(), "journalctl --no-pager -u pve-cluster -n 100");
    // Quoting does not rely on the character check: a quote inside a word is still contained.
    let odd = SafeCommand { argv: vec!["echo".into(), "it's".into()] };
    assert_eq!(odd.to_shell(), r"'echo' 'it'\''s'");
}

#[test]
fn length_limit_is_in_bytes() {
    let long = format!("ls {}", "/var/log".repeat(200));
    assert!(check_command(&long).unwrap_err().reason.contains("limit is 1000"));
    let path = format!("/var/log/{}", "a".repeat(MAX_COMMAND_BYTES - "ls /var/log/".len()));
    assert!(check_command(&format!("ls {path}")).is_ok());
}

#[test]
fn grammar_tables_are_consistent() {
    for table in grammar::TABLES {
        let names: Vec<&str> = table.iter().map(|c| c.name).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(names, sorted, "keep each command table alphabetical");
    }
    let mut all: Vec<&str> = allowed_programs().collect();
    all.sort_unstable();
    let count = all.len();
    all.dedup();
    assert_eq!(all.len(), count, "duplicate command");
    for c in grammar::commands() {
        for f in c.forms {
            assert!(f.min <= f.max, "{}: min > max", c.name);
            assert_eq!(f.arg.is_some(), f.max > 0, "{}: arg kind iff arguments", c.name);
        }
        for o in c.opts {
            for n in o.names {
                assert!(n.starts_with('-'), "{}: option {n} must start with -", c.name);
                if c.style == engine::Style::Gnu && !n.starts_with("--") {
                    assert_eq!(n.len(), 2, "{}: getopt short options are one letter: {n}", c.name);
                }
            }
        }
        for (names, _) in c.required {
            assert!(
                names.iter().all(|n| c.opts.iter().any(|o| o.names.contains(n))),
                "{}: required option not in opts",
                c.name
            );
        }
        for (token, _) in c.refused {
            assert!(
                !c.opts.iter().any(|o| o.names.contains(token)),
                "{}: {token} is both allowed and refused",
                c.name
            );
        }
        assert!(
            !REFUSED_PROGRAMS.iter().any(|(names, _)| names.contains(&c.name)),
            "{} is both allowed and refused",
            c.name
        );
    }
}

#[test]
fn refusals_explain_allowed_forms() {
    let why = check_command("qm migrate 100 pve2").unwrap_err().reason;
    assert!(why.contains("qm list") && why.contains("qm status|config|pending VMID"), "{why}");
}
