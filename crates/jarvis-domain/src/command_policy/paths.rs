//! Which files and directories diagnostic commands may touch.
//!
//! Paths are never resolved, only checked: a path must already be absolute and normal (no `.`,
//! `..` or empty components), and must then match the allowlist literally. So
//! `/proc/../etc/shadow` is refused for its `..`, not "resolved" into something else, and
//! nothing outside the lists below can ever be named.
//!
//! Patterns use placeholders inside a component: `{N}` (1–3 digits), `{ID}` (a guest id, 3–9
//! digits), `{IF}` (an interface name). A tree entry also covers everything below it.

/// What a command does with a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PathUse {
    /// Reads the file's contents (`cat`, `head`, `tail`, `wc`).
    Read,
    /// Reads a listing, a size or metadata only (`ls`, `du`, `df`, `stat`).
    List,
}

/// Files whose contents may be read: kernel status, sensors, a few system and cluster
/// configuration files that hold no secrets, and the main logs. Never `/etc/pve/priv`, never
/// `/proc/<pid>` or `/proc/self` (environments hold secrets), never `/etc/shadow` or keys.
pub(super) const READABLE: &[&str] = &[
    "/proc/cpuinfo",
    "/proc/meminfo",
    "/proc/loadavg",
    "/proc/uptime",
    "/proc/version",
    "/proc/mounts",
    "/proc/diskstats",
    "/proc/partitions",
    "/proc/swaps",
    "/proc/mdstat",
    "/proc/stat",
    "/proc/vmstat",
    "/proc/interrupts",
    "/proc/cmdline",
    "/proc/net/dev",
    "/proc/pressure/cpu",
    "/proc/pressure/memory",
    "/proc/pressure/io",
    "/proc/spl/kstat/zfs/arcstats",
    "/sys/class/thermal/thermal_zone{N}/temp",
    "/sys/class/thermal/thermal_zone{N}/type",
    "/sys/class/hwmon/hwmon{N}/name",
    "/sys/class/hwmon/hwmon{N}/temp{N}_input",
    "/sys/class/hwmon/hwmon{N}/temp{N}_label",
    "/sys/class/hwmon/hwmon{N}/temp{N}_crit",
    "/sys/class/hwmon/hwmon{N}/temp{N}_max",
    "/sys/class/hwmon/hwmon{N}/fan{N}_input",
    "/sys/class/net/{IF}/operstate",
    "/sys/class/net/{IF}/carrier",
    "/sys/class/net/{IF}/speed",
    "/sys/class/net/{IF}/duplex",
    "/sys/class/net/{IF}/mtu",
    "/etc/os-release",
    "/etc/debian_version",
    "/etc/hostname",
    "/etc/hosts",
    "/etc/timezone",
    "/etc/resolv.conf",
    "/etc/network/interfaces",
    "/etc/apt/sources.list",
    "/etc/pve/storage.cfg",
    "/etc/pve/corosync.conf",
    "/etc/pve/datacenter.cfg",
    "/etc/pve/.members",
    "/etc/pve/.vmlist",
    "/etc/pve/.version",
    "/etc/pve/qemu-server/{ID}.conf",
    "/etc/pve/lxc/{ID}.conf",
    "/var/log/syslog",
    "/var/log/syslog.1",
    "/var/log/messages",
    "/var/log/messages.1",
    "/var/log/daemon.log",
    "/var/log/daemon.log.1",
    "/var/log/kern.log",
    "/var/log/kern.log.1",
    "/var/log/dpkg.log",
    "/var/log/apt/history.log",
    "/var/log/pve-firewall.log",
    "/var/log/pveproxy/access.log",
    "/var/log/pve/tasks/active",
    "/var/log/pve/tasks/index",
];

/// Directories that may be listed or sized, with everything below them.
pub(super) const LISTABLE_TREES: &[&str] =
    &["/var/log", "/var/lib/vz", "/etc/pve", "/mnt/pve", "/dev/disk"];

/// Directories that may be listed or sized themselves (for `df /`, `du -sh /var`, `ls /etc`),
/// but not their other subdirectories.
pub(super) const LISTABLE_DIRS: &[&str] = &[
    "/",
    "/boot",
    "/boot/efi",
    "/etc",
    "/mnt",
    "/tmp",
    "/var",
    "/var/lib",
    "/var/tmp",
    "/var/cache",
];

/// Components that are refused anywhere, even inside a listable tree: PVE keeps its private keys
/// and token secrets under `/etc/pve/priv` (and per-node `priv` directories).
const NEVER: &[&str] = &["priv"];

/// Checks a path argument and returns it normalised (one trailing `/` removed).
pub(super) fn check(arg: &str, how: PathUse) -> Result<String, String> {
    let path = normalise(arg)?;
    let comps: Vec<&str> = path.split('/').skip(1).collect();
    if let Some(bad) = comps.iter().find(|c| NEVER.contains(c)) {
        return Err(format!("`{arg}`: `{bad}` directories hold secrets and are never accessible"));
    }
    let readable = READABLE.iter().any(|p| matches_pattern(p, &path));
    let listable = readable
        || LISTABLE_DIRS.contains(&path.as_str())
        || LISTABLE_TREES.iter().any(|t| path == *t || path.starts_with(&format!("{t}/")));
    match how {
        PathUse::Read if readable => Ok(path),
        PathUse::Read => Err(format!("`{arg}` is not a readable path")),
        PathUse::List if listable => Ok(path),
        PathUse::List => Err(format!("`{arg}` is not a listable path")),
    }
}

/// Refuses anything that is not already an absolute, normal path. Only a single trailing `/`
/// is tolerated (and removed), since `ls /var/log/` is everyday usage.
pub(super) fn normalise(arg: &str) -> Result<String, String> {
    if !arg.starts_with('/') {
        return Err(format!(
            "`{arg}` is a relative path; give an absolute path such as /var/log/syslog"
        ));
    }
    if arg == "/" {
        return Ok(arg.to_owned());
    }
    let body = arg.strip_suffix('/').unwrap_or(arg);
    for comp in body.split('/').skip(1) {
        match comp {
            "" => return Err(format!("`{arg}`: empty path components (`//`) are not allowed")),
            "." | ".." => {
                return Err(format!("`{arg}`: `{comp}` path components are not allowed"));
            }
            _ => {}
        }
    }
    Ok(body.to_owned())
}

/// True when `path` matches `pattern` component by component.
pub(super) fn matches_pattern(pattern: &str, path: &str) -> bool {
    let pat: Vec<&str> = pattern.split('/').collect();
    let got: Vec<&str> = path.split('/').collect();
    pat.len() == got.len() && pat.iter().zip(&got).all(|(p, g)| component_matches(p, g))
}

/// Matches one component. A placeholder matches a run of characters of its class; every
/// possible run length is tried against the rest of the pattern, so a literal suffix that starts
/// with class characters (`.conf` after `{IF}`) still matches.
fn component_matches(pat: &str, got: &str) -> bool {
    if got == "." || got == ".." {
        return false;
    }
    let Some(open) = pat.find('{') else { return pat == got };
    let Some(close) = pat[open..].find('}').map(|c| open + c) else { return false };
    let (prefix, class, rest) = (&pat[..open], &pat[open + 1..close], &pat[close + 1..]);
    let Some(tail) = got.strip_prefix(prefix) else { return false };
    let (min, max, allowed): (usize, usize, fn(u8) -> bool) = match class {
        "N" => (1, 3, |b| b.is_ascii_digit()),
        "ID" => (3, 9, |b| b.is_ascii_digit()),
        "IF" => (1, 15, |b| b.is_ascii_alphanumeric() || b"._-".contains(&b)),
        _ => return false,
    };
    let run = tail.bytes().take_while(|b| allowed(*b)).count();
    (min..=run.min(max)).rev().any(|n| component_matches(rest, &tail[n..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders() {
        assert!(matches_pattern(
            "/sys/class/hwmon/hwmon{N}/temp{N}_input",
            "/sys/class/hwmon/hwmon3/temp12_input"
        ));
        assert!(!matches_pattern(
            "/sys/class/hwmon/hwmon{N}/temp{N}_input",
            "/sys/class/hwmon/hwmon/temp1_input"
        ));
        assert!(!matches_pattern(
            "/sys/class/hwmon/hwmon{N}/temp{N}_input",
            "/sys/class/hwmon/hwmon1/temp1_input/x"
        ));
        assert!(matches_pattern("/etc/pve/qemu-server/{ID}.conf", "/etc/pve/qemu-server/101.conf"));
        assert!(!matches_pattern("/etc/pve/qemu-server/{ID}.conf", "/etc/pve/qemu-server/1.conf"));
        assert!(matches_pattern("/sys/class/net/{IF}/mtu", "/sys/class/net/vmbr0.100/mtu"));
        assert!(!matches_pattern("/sys/class/net/{IF}/mtu", "/sys/class/net/../mtu"));
    }

    #[test]
    fn reading_and_listing() {
        assert_eq!(check("/proc/loadavg", PathUse::Read).unwrap(), "/proc/loadavg");
        assert_eq!(check("/var/log/", PathUse::List).unwrap(), "/var/log");
        assert_eq!(check("/", PathUse::List).unwrap(), "/");
        assert!(check("/var/log", PathUse::Read).is_err());
        assert!(check("/var/lib/vz/dump/x.zst", PathUse::List).is_ok());
        assert!(check("/var/lib/vz/dump/x.zst", PathUse::Read).is_err());
        for bad in ["/etc/pve/priv", "/etc/pve/priv/authkey.key", "/etc/pve/nodes/pve1/priv"] {
            assert!(check(bad, PathUse::List).unwrap_err().contains("secrets"), "{bad}");
        }
        for bad in [
            "/etc/shadow",
            "/proc/self/environ",
            "/proc/1/environ",
            "/root/.ssh/id_rsa",
            "/var/lib",
            "/etc/pve/user.cfg",
        ] {
            assert!(check(bad, PathUse::Read).is_err(), "{bad}");
        }
        for bad in [
            "/proc/../etc/shadow",
            "//etc/shadow",
            "./x",
            "x",
            "/var/log//syslog",
            "/var/log/./syslog",
            "/var/log//",
        ] {
            assert!(check(bad, PathUse::List).is_err(), "{bad}");
        }
    }
}
