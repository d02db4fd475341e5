//! Output of the general system commands and files: `hostname`, `uptime`, `date`, `uname`,
//! `free`, `df`, `nproc`, `lscpu`, and `cat` of `/proc/loadavg`, `/proc/meminfo`, `/proc/uptime`,
//! `/etc/os-release` and friends — all derived from the node in the cluster model, so they agree
//! with what the API reports. PVE-specific commands live in `pve.rs`.

use std::fmt::Write as _;

use chrono::format::{Item, StrftimeItems};
use chrono::{DateTime, Utc};

use super::commands::{Ctx, Output};
use super::{pve, sensors, units};
use crate::catalog::{CPU_FLAGS, CPUS, KERNEL_BUILD, KERNEL_RELEASE};
use crate::model::{Cluster, Node};

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;

/// Debian release PVE 9 is built on.
const OS_RELEASE: &str = "PRETTY_NAME=\"Debian GNU/Linux 13 (trixie)\"\nNAME=\"Debian GNU/Linux\"\n\
VERSION_ID=\"13\"\nVERSION=\"13 (trixie)\"\nVERSION_CODENAME=trixie\nDEBIAN_VERSION_FULL=13.2\n\
ID=debian\nHOME_URL=\"https://www.debian.org/\"\nSUPPORT_URL=\"https://www.debian.org/support\"\n\
BUG_REPORT_URL=\"https://bugs.debian.org/\"\n";

/// A command from this module or `pve.rs`; None when the name is unknown.
pub(crate) fn command(cl: &mut Cluster, ctx: &Ctx, name: &str, args: &[&str]) -> Option<Output> {
    let now = cl.unix_now();
    let n = &cl.nodes[ctx.node];
    Some(match name {
        "hostname" => match args.first() {
            Some(&"-I") => Output::ok(format!("{} \n", n.ip)),
            Some(&"-i") => Output::ok(format!("{}\n", n.ip)),
            Some(&"-f") => Output::ok(format!("{}.lan\n", n.name)),
            _ => Output::ok(format!("{}\n", n.name)),
        },
        "uptime" => Output::ok(uptime(n, now, args)),
        "date" => Output::ok(date(now, args)),
        "uname" => Output::ok(uname(n, args)),
        "free" => Output::ok(free(n, args)),
        "df" => df(cl, ctx.node, args),
        "nproc" => Output::ok(format!("{}\n", n.maxcpu)),
        "lscpu" => Output::ok(lscpu(n)),
        "who" | "w" | "users" => {
            Output::ok(format!("{}     pts/0        {}\n", ctx.user, fmt_time(now, "%F %R")))
        }
        _ => return pve::command(cl, ctx, name, args),
    })
}

/// Formats Unix time `ts` (UTC; the nodes run in UTC).
pub(crate) fn fmt_time(ts: i64, fmt: &str) -> String {
    let t = DateTime::<Utc>::from_timestamp(ts, 0).unwrap_or_default();
    let items: Vec<Item> = StrftimeItems::new(fmt).collect();
    if items.iter().any(|i| matches!(i, Item::Error)) {
        return fmt.to_string();
    }
    let mut s = String::new();
    // Writing into a String only fails on a bad format, which was ruled out above.
    let _ = write!(s, "{}", t.format_with_items(items.into_iter()));
    s
}

/// Unix time node `node` booted, on the simulator's reported clock.
pub(crate) fn boot_time(cl: &Cluster, node: usize) -> i64 {
    node_boot_time(&cl.nodes[node], cl.unix_now())
}

fn node_boot_time(n: &Node, now: i64) -> i64 {
    now - (n.uptime_ms / 1000) as i64
}

fn plural(n: u64, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

fn uptime(n: &Node, now: i64, args: &[&str]) -> String {
    let secs = n.uptime_ms / 1000;
    let (days, hours, mins) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    match args.first() {
        Some(&"-p" | &"--pretty") => {
            let (weeks, days) = (days / 7, days % 7);
            let parts: Vec<String> =
                [(weeks, "week"), (days, "day"), (hours, "hour"), (mins, "minute")]
                    .iter()
                    .filter(|(v, _)| *v > 0)
                    .map(|(v, w)| plural(*v, w))
                    .collect();
            if parts.is_empty() {
                "up 0 minutes\n".into()
            } else {
                format!("up {}\n", parts.join(", "))
            }
        }
        Some(&"-s" | &"--since") => format!("{}\n", fmt_time(node_boot_time(n, now), "%F %T")),
        _ => {
            // procps: "%d days, " then "%2d:%02d" or "%d min".
            let days = if days > 0 { format!("{}, ", plural(days, "day")) } else { String::new() };
            let time =
                if hours > 0 { format!("{hours:2}:{mins:02}") } else { format!("{mins} min") };
            let up = format!("{days}{time}");
            format!(
                " {} up {up},  1 user,  load average: {:.2}, {:.2}, {:.2}\n",
                fmt_time(now, "%T"),
                n.load[0],
                n.load[1],
                n.load[2]
            )
        }
    }
}

fn date(now: i64, args: &[&str]) -> String {
    match args.iter().find_map(|a| a.strip_prefix('+')) {
        Some(fmt) => format!("{}\n", fmt_time(now, fmt)),
        None if args.contains(&"-I") || args.contains(&"--iso-8601") => {
            format!("{}\n", fmt_time(now, "%F"))
        }
        None if args.iter().any(|a| a.starts_with("-Is")) => {
            format!("{}\n", fmt_time(now, "%FT%T+00:00"))
        }
        None => format!("{}\n", fmt_time(now, "%a %b %e %T UTC %Y")),
    }
}

fn uname(n: &Node, args: &[&str]) -> String {
    let flags: String = args.iter().filter_map(|a| a.strip_prefix('-')).collect();
    if flags.contains('a') {
        return format!("Linux {} {KERNEL_RELEASE} {KERNEL_BUILD} x86_64 GNU/Linux\n", n.name);
    }
    let mut parts = Vec::new();
    for (flag, value) in [
        ('s', "Linux".to_string()),
        ('n', n.name.clone()),
        ('r', KERNEL_RELEASE.to_string()),
        ('v', KERNEL_BUILD.to_string()),
        ('m', "x86_64".to_string()),
        ('o', "GNU/Linux".to_string()),
    ] {
        if flags.contains(flag) {
            parts.push(value);
        }
    }
    if parts.is_empty() {
        parts.push("Linux".into());
    }
    format!("{}\n", parts.join(" "))
}

/// The node's memory, split like `free` and `/proc/meminfo` split it (bytes).
pub(crate) struct MemSplit {
    pub total: u64,
    pub used: u64,
    pub free: u64,
    pub shared: u64,
    pub cache: u64,
    pub available: u64,
}

pub(crate) fn mem_split(n: &Node) -> MemSplit {
    let total = n.maxmem;
    let used = n.mem.min(total);
    let cache = (total - used) / 12;
    let shared = 48 * MIB + (n.mem / 400);
    let free = total - used - cache;
    MemSplit { total, used, free, shared, cache, available: free + cache / 10 * 8 }
}

/// `free -h` style: Ki/Mi/Gi/Ti with one decimal below 10.
fn human_iec(bytes: u64) -> String {
    let units = ["B", "Ki", "Mi", "Gi", "Ti", "Pi"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < units.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{bytes}B")
    } else if v < 10.0 {
        format!("{v:.1}{}", units[u])
    } else {
        format!("{}{}", v.round() as u64, units[u])
    }
}

fn free(n: &Node, args: &[&str]) -> String {
    let m = mem_split(n);
    let flags: String = args.iter().filter_map(|a| a.strip_prefix('-')).collect();
    let show = |b: u64| -> String {
        if flags.contains('h') {
            human_iec(b)
        } else if flags.contains('g') {
            (b >> 30).to_string()
        } else if flags.contains('m') {
            (b >> 20).to_string()
        } else if flags.contains('b') {
            b.to_string()
        } else {
            (b >> 10).to_string()
        }
    };
    let mut out = format!(
        "{:<7}{:>12}{:>12}{:>12}{:>12}{:>12}{:>12}\n",
        "", "total", "used", "free", "shared", "buff/cache", "available"
    );
    out.push_str(&format!(
        "{:<7}{:>12}{:>12}{:>12}{:>12}{:>12}{:>12}\n",
        "Mem:",
        show(m.total),
        show(m.used),
        show(m.free),
        show(m.shared),
        show(m.cache),
        show(m.available)
    ));
    out.push_str(&format!(
        "{:<7}{:>12}{:>12}{:>12}\n",
        "Swap:",
        show(n.swap_total),
        show(n.swap_used),
        show(n.swap_total - n.swap_used.min(n.swap_total))
    ));
    out
}

/// `df -h` style: K/M/G/T rounded up, one decimal below 10.
fn human_si_up(bytes: u64) -> String {
    if bytes == 0 {
        return "0".into();
    }
    let units = ["", "K", "M", "G", "T", "P"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < units.len() {
        v /= 1024.0;
        u += 1;
    }
    if v < 10.0 && u > 0 {
        format!("{:.1}{}", (v * 10.0).ceil() / 10.0, units[u])
    } else {
        format!("{}{}", v.ceil() as u64, units[u])
    }
}

/// Mounted filesystems: (source, type, size, used, mount point).
fn mounts(cl: &Cluster, node: usize) -> Vec<(String, &'static str, u64, u64, &'static str)> {
    let n = &cl.nodes[node];
    let mut m = vec![
        ("udev".to_string(), "devtmpfs", n.maxmem / 2, 0, "/dev"),
        ("tmpfs".into(), "tmpfs", n.maxmem / 10, 2 * MIB + 300 * KIB, "/run"),
        ("/dev/mapper/pve-root".into(), "ext4", n.rootfs_total, n.rootfs_used, "/"),
        ("tmpfs".into(), "tmpfs", n.maxmem / 2, 46 * MIB + 128 * KIB, "/dev/shm"),
        ("tmpfs".into(), "tmpfs", 5 * MIB, 0, "/run/lock"),
    ];
    if n.efi {
        m.push(("efivarfs".into(), "efivarfs", 192 * KIB, 68 * KIB, "/sys/firmware/efi/efivars"));
        m.push(("/dev/nvme0n1p2".into(), "vfat", 1022 * MIB, 8 * MIB + 712 * KIB, "/boot/efi"));
    }
    m.push((
        "/dev/fuse".into(),
        "fuse",
        128 * MIB,
        40 * KIB + cl.nodes.len() as u64 * 4 * KIB,
        "/etc/pve",
    ));
    m.push((
        "nas.lan:/volume1/pve".into(),
        "nfs4",
        cl.nfs_total,
        cl.nfs_used,
        "/mnt/pve/nfs-backup",
    ));
    m.push(("tmpfs".into(), "tmpfs", n.maxmem / 10, 0, "/run/user/0"));
    m
}

/// Left-aligns the first and last column and right-aligns the others, each at least as wide as
/// `min` says, one space apart.
fn table(rows: &[Vec<String>], min: &[usize]) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            let widest = rows.iter().map(|r| r.get(c).map_or(0, |s| s.chars().count())).max();
            widest.unwrap_or(0).max(min.get(c).copied().unwrap_or(0))
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            let w = widths[c];
            if c == 0 {
                let _ = write!(line, "{cell:<w$}");
            } else if c + 1 == cols {
                let _ = write!(line, " {cell}");
            } else {
                let _ = write!(line, " {cell:>w$}");
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn df(cl: &Cluster, node: usize, args: &[&str]) -> Output {
    let flags: String = args
        .iter()
        .filter(|a| a.starts_with('-') && !a.starts_with("--"))
        .map(|a| &a[1..])
        .collect();
    let human = flags.contains('h');
    let all = mounts(cl, node);
    let paths: Vec<&str> = args.iter().copied().filter(|a| !a.starts_with('-')).collect();
    let mut picked = Vec::new();
    for p in &paths {
        let abs = if p.starts_with('/') { p.to_string() } else { format!("/root/{p}") };
        // The mount with the longest matching mount point holds the path.
        let best = all
            .iter()
            .filter(|m| m.4 == "/" || abs == m.4 || abs.starts_with(&format!("{}/", m.4)))
            .max_by_key(|m| m.4.len());
        if let Some(m) = best {
            picked.push(m.clone());
        }
    }
    let list = if paths.is_empty() { all } else { picked };
    let size_hdr = if human { "Size" } else { "1K-blocks" };
    let mut rows = vec![
        ["Filesystem", size_hdr, "Used", "Avail", "Use%", "Mounted on"].map(String::from).to_vec(),
    ];
    for (src, _, size, used, mp) in list {
        // ext4 keeps 5% for root; the others hand out everything.
        let reserved = if mp == "/" { size / 20 } else { 0 };
        let avail = size.saturating_sub(used).saturating_sub(reserved);
        let pct = if used + avail == 0 { 0 } else { (used * 100).div_ceil(used + avail) };
        let show = |b: u64| if human { human_si_up(b) } else { (b / KIB).to_string() };
        rows.push(vec![
            src,
            show(size),
            show(used),
            show(avail),
            format!("{pct}%"),
            mp.to_string(),
        ]);
    }
    // df's own minimum widths: sizes 5 characters, Use% 4.
    Output::ok(table(&rows, &[0, 5, 5, 5, 4]))
}

fn lscpu(n: &Node) -> String {
    let spec = &CPUS[n.cpu_spec];
    let amd = spec.model.starts_with("AMD");
    let threads_per_core = spec.threads / (spec.cores * spec.sockets).max(1);
    let mhz: f64 = spec.mhz.parse().unwrap_or(2000.0);
    let lines = [
        ("Architecture", "x86_64".to_string()),
        ("CPU op-mode(s)", "32-bit, 64-bit".into()),
        ("Address sizes", "48 bits physical, 48 bits virtual".into()),
        ("Byte Order", "Little Endian".into()),
        ("CPU(s)", spec.threads.to_string()),
        ("On-line CPU(s) list", format!("0-{}", spec.threads.saturating_sub(1))),
        ("Vendor ID", if amd { "AuthenticAMD" } else { "GenuineIntel" }.into()),
        ("Model name", spec.model.into()),
        ("Thread(s) per core", threads_per_core.to_string()),
        ("Core(s) per socket", spec.cores.to_string()),
        ("Socket(s)", spec.sockets.to_string()),
        ("CPU max MHz", format!("{:.4}", mhz * 1.35)),
        ("CPU min MHz", format!("{:.4}", mhz.min(800.0))),
        ("BogoMIPS", format!("{:.2}", mhz * 2.0)),
        ("Flags", CPU_FLAGS.into()),
        ("Virtualization", if amd { "AMD-V" } else { "VT-x" }.into()),
        ("NUMA node(s)", spec.sockets.to_string()),
    ];
    lines.iter().map(|(k, v)| format!("{:<33} {v}\n", format!("{k}:"))).collect()
}

fn meminfo(n: &Node) -> String {
    let m = mem_split(n);
    let kb = |b: u64| b / KIB;
    let rows = [
        ("MemTotal", kb(m.total)),
        ("MemFree", kb(m.free)),
        ("MemAvailable", kb(m.available)),
        ("Buffers", kb(m.cache / 20)),
        ("Cached", kb(m.cache - m.cache / 20)),
        ("SwapCached", kb(n.swap_used / 50)),
        ("Active", kb(m.used / 3 * 2)),
        ("Inactive", kb(m.used / 3)),
        ("SwapTotal", kb(n.swap_total)),
        ("SwapFree", kb(n.swap_total.saturating_sub(n.swap_used))),
        ("Shmem", kb(m.shared)),
        ("KSM", kb(n.ksm_shared)),
        ("HugePages_Total", 0),
        ("Hugepagesize", 2048),
    ];
    rows.iter()
        .map(|(k, v)| {
            let unit = if k.starts_with("HugePages_") { "" } else { " kB" };
            format!("{:<16}{v:>8}{unit}\n", format!("{k}:"))
        })
        .collect()
}

/// `cat` of files the simulator knows; others are missing.
pub(crate) fn cat(cl: &mut Cluster, ctx: &Ctx, files: &[&str]) -> Output {
    let mut out = Output::default();
    for file in files.iter().filter(|f| !f.starts_with('-')) {
        let n = &cl.nodes[ctx.node];
        let text = match *file {
            "/proc/loadavg" => {
                let running = (n.cpu * n.maxcpu as f64).round().max(1.0) as u64;
                let total = 380 + 9 * cl.guests.iter().filter(|g| g.node == ctx.node).count();
                Some(format!(
                    "{:.2} {:.2} {:.2} {running}/{total} {}\n",
                    n.load[0], n.load[1], n.load[2], n.next_pid
                ))
            }
            "/proc/uptime" => {
                let up = n.uptime_ms as f64 / 1000.0;
                Some(format!("{up:.2} {:.2}\n", up * n.maxcpu as f64 * (1.0 - n.cpu)))
            }
            "/proc/meminfo" => Some(meminfo(n)),
            "/etc/os-release" | "/usr/lib/os-release" => Some(OS_RELEASE.to_string()),
            "/etc/debian_version" => Some("13.2\n".to_string()),
            "/etc/hostname" => Some(format!("{}\n", n.name)),
            "/proc/sys/kernel/hostname" => Some(format!("{}\n", n.name)),
            "/proc/version" => Some(format!(
                "Linux version {KERNEL_RELEASE} (build@proxmox) (gcc (Debian 14.2.0-19) 14.2.0, GNU ld (GNU Binutils for Debian) 2.44) {KERNEL_BUILD}\n"
            )),
            "/var/log/syslog" => Some(units::syslog(cl, ctx.node)),
            f => sensors::sys_file(cl, ctx.node, f),
        };
        match text {
            Some(t) => out.stdout.push_str(&t),
            None => {
                let what = if file.ends_with('/') || ["/etc", "/proc", "/root"].contains(file) {
                    "Is a directory"
                } else {
                    "No such file or directory"
                };
                out.stderr.push_str(&format!("cat: {file}: {what}\n"));
                out.status = 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_render_like_the_tools() {
        assert_eq!(human_iec(125 * 1024 * MIB), "125Gi");
        assert_eq!(human_iec(7 * 1024 * MIB + 900 * MIB), "7.9Gi");
        assert_eq!(human_si_up(0), "0");
        assert_eq!(human_si_up(5 * MIB), "5.0M");
        assert_eq!(human_si_up(94 * 1024 * MIB + 1), "95G");
    }

    #[test]
    fn bad_date_formats_do_not_panic() {
        assert_eq!(fmt_time(0, "%Y"), "1970");
        assert_eq!(fmt_time(0, "%Q%"), "%Q%");
    }
}
