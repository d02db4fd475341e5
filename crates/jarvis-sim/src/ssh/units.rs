//! systemd on a simulated node: the units a PVE host runs, `systemctl` (status, is-active,
//! is-enabled, start/stop/restart/reload, list-units), `journalctl -u <unit> -n N` and
//! `/var/log/syslog`.
//!
//! Every node runs the PVE services (pveproxy, pvedaemon, pve-cluster, corosync — inactive on a
//! standalone node —, pvestatd, pve-firewall, pve-ha-lrm, pve-ha-crm, spiceproxy) and the base
//! system (chrony, ssh, cron, rpcbind, postfix); docker exists on every other node (pve1, pve3, …).
//! Restarts, stops and starts land in the model (`Node::service_log`, `Node::stopped_units`), so
//! `systemctl status`, `ps`, `ss` and the journal show them, and tests can see them through
//! `SimControl::restarted_services`.

use std::time::Duration;

use super::commands::{Ctx, Output};
use super::mix;
use super::system::{boot_time, fmt_time};
use crate::model::{Cluster, UnitAction};

/// One systemd service.
struct Unit {
    name: &'static str,
    description: &'static str,
    /// Main process command line.
    cmd: &'static str,
    /// Unit file directory.
    dir: &'static str,
    /// Typical journal messages.
    log: &'static [&'static str],
}

const fn unit(
    name: &'static str,
    description: &'static str,
    cmd: &'static str,
    log: &'static [&'static str],
) -> Unit {
    Unit { name, description, cmd, dir: "/usr/lib/systemd/system", log }
}

const UNITS: [Unit; 15] = [
    unit(
        "pveproxy",
        "PVE API Proxy Server",
        "pveproxy",
        &["worker 2211 finished", "starting 1 worker(s)", "worker 2298 started"],
    ),
    unit(
        "pvedaemon",
        "PVE API Daemon",
        "pvedaemon",
        &[
            "<root@pam> successful auth for user 'root@pam'",
            "<root@pam!jarvis> starting task UPID",
            "<root@pam!jarvis> end task UPID OK",
        ],
    ),
    unit(
        "pve-cluster",
        "The Proxmox VE cluster filesystem",
        "/usr/bin/pmxcfs",
        &["[dcdb] notice: data verification successful", "[status] notice: received log"],
    ),
    unit(
        "corosync",
        "Corosync Cluster Engine",
        "/usr/sbin/corosync -f",
        &[
            "[KNET  ] pmtud: Global data MTU changed to: 1397",
            "[TOTEM ] Token has not been received in 2737 ms",
            "[QUORUM] Members[3]: 1 2 3",
        ],
    ),
    unit(
        "pvestatd",
        "PVE Status Daemon",
        "pvestatd",
        &["status update time (1.112 seconds)", "auth key pair too old, rotating.."],
    ),
    unit(
        "pve-firewall",
        "Proxmox VE firewall",
        "pve-firewall",
        &["status update time (0.021 seconds)"],
    ),
    unit(
        "pve-ha-lrm",
        "PVE Local HA Resource Manager Daemon",
        "pve-ha-lrm",
        &[
            "successfully acquired lock 'ha_agent_lock'",
            "status change wait_for_agent_lock => active",
        ],
    ),
    unit(
        "pve-ha-crm",
        "PVE Cluster HA Resource Manager Daemon",
        "pve-ha-crm",
        &["status change slave => wait_for_quorum", "status change wait_for_quorum => slave"],
    ),
    unit("spiceproxy", "PVE SPICE Proxy Server", "spiceproxy", &["worker 1988 started"]),
    unit(
        "chrony",
        "chrony, an NTP client/server",
        "/usr/sbin/chronyd -F 1",
        &["Selected source 2.debian.pool.ntp.org", "System clock wrong by 0.000412 seconds"],
    ),
    unit(
        "ssh",
        "OpenBSD Secure Shell server",
        "sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups",
        &[
            "Accepted publickey for root from 127.0.0.1 port 51234 ssh2: ED25519",
            "pam_unix(sshd:session): session opened for user root(uid=0) by root(uid=0)",
            "pam_unix(sshd:session): session closed for user root",
        ],
    ),
    unit(
        "cron",
        "Regular background program processing daemon",
        "/usr/sbin/cron -f",
        &[
            "(root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)",
            "pam_unix(cron:session): session opened for user root(uid=0) by root(uid=0)",
        ],
    ),
    unit("rpcbind", "RPC bind portmap service", "/sbin/rpcbind -f -w", &[]),
    unit(
        "postfix",
        "Postfix Mail Transport Agent",
        "/usr/lib/postfix/sbin/master -w",
        &["daemon started -- version 3.10.4, configuration /etc/postfix"],
    ),
    unit(
        "docker",
        "Docker Application Container Engine",
        "/usr/bin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock",
        &[
            "level=info msg=\"Loading containers: done.\"",
            "level=info msg=\"API listen on /run/docker.sock\"",
        ],
    ),
];

/// Index of the unit `name` (`x`, `x.service`, or an alias) if it exists on `node`.
fn find(node: usize, name: &str) -> Option<usize> {
    let base = name.strip_suffix(".service").unwrap_or(name);
    let base = match base {
        "sshd" => "ssh",
        "chronyd" => "chrony",
        "crond" => "cron",
        other => other,
    };
    let i = UNITS.iter().position(|u| u.name == base)?;
    // Docker is installed on every other node only.
    let installed = UNITS[i].name != "docker" || node.is_multiple_of(2);
    installed.then_some(i)
}

fn is_active(cl: &Cluster, node: usize, i: usize) -> bool {
    let name = UNITS[i].name;
    // corosync has no config to start with on a standalone node.
    let unconfigured = cl.standalone && name == "corosync";
    let stopped = cl.nodes[node].stopped_units.iter().any(|u| u == name);
    !unconfigured && !stopped
}

/// How often `name` was restarted, and when anything last happened to it.
fn restarts(cl: &Cluster, node: usize, name: &str) -> (u64, Option<i64>) {
    let log = &cl.nodes[node].service_log;
    let count = log.iter().filter(|e| e.0 == name && e.1 != UnitAction::Stop).count() as u64;
    (count, log.iter().rev().find(|e| e.0 == name).map(|e| e.2))
}

fn pid_of(cl: &Cluster, node: usize, i: usize) -> u32 {
    let (count, _) = restarts(cl, node, UNITS[i].name);
    if count == 0 {
        700 + i as u32 * 53 + node as u32 * 7
    } else {
        100_000 + (mix(node as u64 * 131 + i as u64 * 17 + count) % 800_000) as u32
    }
}

/// The main PID of unit `name` on `node` while it runs.
pub(crate) fn main_pid(cl: &Cluster, node: usize, name: &str) -> Option<u32> {
    let i = find(node, name)?;
    is_active(cl, node, i).then(|| pid_of(cl, node, i))
}

/// (PID, command line) of every running service's main process.
pub(crate) fn processes(cl: &Cluster, node: usize) -> Vec<(u32, &'static str)> {
    (0..UNITS.len())
        .filter(|&i| find(node, UNITS[i].name).is_some() && is_active(cl, node, i))
        .map(|i| (pid_of(cl, node, i), UNITS[i].cmd))
        .collect()
}

/// Unix time the unit last started or stopped.
fn since(cl: &Cluster, node: usize, i: usize) -> i64 {
    let booted = boot_time(cl, node) + 4 + i as i64;
    restarts(cl, node, UNITS[i].name).1.map_or(booted, |t| t.max(booted))
}

fn ago(secs: i64) -> String {
    let s = secs.max(0);
    match s {
        0..=119 => format!("{s}s ago"),
        120..=7199 => format!("{}min ago", s / 60),
        7200..=172_799 => format!("{}h {}min ago", s / 3600, s % 3600 / 60),
        _ => format!("{} days ago", s / 86_400),
    }
}

/// `systemctl …`.
pub(crate) fn systemctl(cl: &mut Cluster, ctx: &Ctx, args: &[&str]) -> Output {
    let quiet = args.iter().any(|a| *a == "-q" || *a == "--quiet");
    let words: Vec<&str> = args.iter().copied().filter(|a| !a.starts_with('-')).collect();
    let node = ctx.node;
    let (verb, names) = match words.split_first() {
        Some((v, n)) => (*v, n),
        None => ("list-units", &[][..]),
    };
    let needs_unit = matches!(
        verb,
        "start"
            | "stop"
            | "restart"
            | "reload"
            | "try-restart"
            | "reload-or-restart"
            | "is-active"
            | "is-enabled"
    );
    if needs_unit && names.is_empty() {
        return Output::err(1, "Too few arguments.\n");
    }
    match verb {
        "status" if names.is_empty() => Output::ok(format!(
            "● {}\n    State: running\n    Units: 312 loaded (incl. loaded aliases)\n     Jobs: 0 queued\n   Failed: 0 units\n",
            cl.nodes[node].name
        )),
        "status" => {
            let mut out = Output::default();
            for name in names {
                let o = status(cl, node, name);
                out.stdout.push_str(&o.stdout);
                out.stderr.push_str(&o.stderr);
                out.status = out.status.max(o.status);
            }
            out
        }
        "is-active" => {
            let mut out = Output::default();
            for name in names {
                let active = find(node, name).is_some_and(|i| is_active(cl, node, i));
                if !quiet {
                    out.stdout.push_str(if active { "active\n" } else { "inactive\n" });
                }
                if !active {
                    out.status = 3;
                }
            }
            out
        }
        "is-enabled" => match find(node, names[0]) {
            Some(_) if quiet => Output::default(),
            Some(_) => Output::ok("enabled\n"),
            None => Output::err(
                1,
                format!(
                    "Failed to get unit file state for {}: No such file or directory\n",
                    service(names[0])
                ),
            ),
        },
        "start" | "stop" | "restart" | "reload" | "try-restart" | "reload-or-restart" => {
            control(cl, ctx, verb, names)
        }
        "list-units" if args.contains(&"--failed") => Output::ok("0 loaded units listed.\n"),
        "list-units" | "list-unit-files" => Output::ok(list_units(cl, node)),
        "daemon-reload" => Output::default(),
        other => Output::err(1, format!("Unknown command verb '{other}'.\n")),
    }
}

fn service(name: &str) -> String {
    if name.contains('.') { name.to_string() } else { format!("{name}.service") }
}

fn control(cl: &mut Cluster, ctx: &Ctx, verb: &str, names: &[&str]) -> Output {
    let node = ctx.node;
    let mut out = Output::default();
    for name in names {
        let Some(i) = find(node, name) else {
            out.stderr
                .push_str(&format!("Failed to {verb} {0}: Unit {0} not found.\n", service(name)));
            out.status = 5;
            continue;
        };
        if ctx.user != "root" {
            out.stderr.push_str(&format!(
                "Failed to {verb} {0}: Interactive authentication required.\nSee system logs and 'systemctl status {0}' for details.\n",
                service(name)
            ));
            out.status = 1;
            continue;
        }
        let unit = UNITS[i].name.to_string();
        let now = cl.unix_now();
        let n = &mut cl.nodes[node];
        let stopped = n.stopped_units.contains(&unit);
        let action = match verb {
            "stop" if !stopped => Some((UnitAction::Stop, 150)),
            "start" if stopped => Some((UnitAction::Start, 200)),
            "restart" | "reload-or-restart" => Some((UnitAction::Restart, 300)),
            "try-restart" if !stopped => Some((UnitAction::Restart, 300)),
            "reload" if stopped => {
                out.stderr.push_str(&format!("{0} is not active, cannot reload.\n", service(name)));
                out.status = 1;
                None
            }
            "reload" => {
                out.delay += Duration::from_millis(100);
                None
            }
            // Stopping a stopped unit, starting a running one, try-restart of a stopped one.
            _ => None,
        };
        if let Some((action, ms)) = action {
            if action == UnitAction::Stop {
                n.stopped_units.push(unit.clone());
            } else {
                n.stopped_units.retain(|u| *u != unit);
            }
            n.service_log.push((unit, action, now));
            out.delay += Duration::from_millis(ms);
        }
    }
    out
}

fn status(cl: &Cluster, node: usize, name: &str) -> Output {
    let Some(i) = find(node, name) else {
        return Output::err(4, format!("Unit {} could not be found.\n", service(name)));
    };
    let u = &UNITS[i];
    let active = is_active(cl, node, i);
    let t = since(cl, node, i);
    let when = format!("{}; {}", fmt_time(t, "%a %F %T UTC"), ago(cl.unix_now() - t));
    let mut out = format!(
        "● {0}.service - {1}\n     Loaded: loaded ({2}/{0}.service; enabled; preset: enabled)\n",
        u.name, u.description, u.dir
    );
    if !active {
        let why = if cl.standalone && u.name == "corosync" {
            format!(
                "\n  Condition: start condition unmet at {}\n             └─ ConditionPathExists=/etc/corosync/corosync.conf was not met",
                fmt_time(t, "%a %F %T UTC")
            )
        } else {
            String::new()
        };
        out.push_str(&format!("     Active: inactive (dead) since {when}{why}\n"));
        return Output { stdout: out, status: 3, ..Output::default() };
    }
    let pid = pid_of(cl, node, i);
    let proc_name = u.cmd.rsplit('/').next().unwrap_or(u.cmd).split(' ').next().unwrap_or(u.name);
    let mem = 20.0 + (mix(node as u64 * 7 + i as u64) % 2400) as f64 / 10.0;
    out.push_str(&format!(
        "     Active: active (running) since {when}\n   Main PID: {pid} ({proc_name})\n      Tasks: {} (limit: 154476)\n     Memory: {mem:.1}M\n        CPU: {}\n     CGroup: /system.slice/{}.service\n             └─{pid} {}\n\n",
        1 + i % 5,
        cpu_time((cl.unix_now() - t).max(1) as u64 * 10 + u64::from(pid % 1000)),
        u.name,
        u.cmd
    ));
    out.push_str(&journal(cl, node, Some(i), 5));
    Output::ok(out)
}

/// systemd's CPU time display, from milliseconds: `19h 24min 6.700s`, `2min 3.100s`, `0.465s`.
fn cpu_time(ms: u64) -> String {
    let (h, m, s, ms) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000);
    match (h, m) {
        (0, 0) => format!("{s}.{ms:03}s"),
        (0, _) => format!("{m}min {s}.{ms:03}s"),
        _ => format!("{h}h {m}min {s}.{ms:03}s"),
    }
}

fn list_units(cl: &Cluster, node: usize) -> String {
    let mut out =
        format!("  {:<28} {:<7} {:<7} {:<8} {}\n", "UNIT", "LOAD", "ACTIVE", "SUB", "DESCRIPTION");
    let mut count = 0;
    for (i, u) in UNITS.iter().enumerate().filter(|(_, u)| find(node, u.name).is_some()) {
        let (a, s) =
            if is_active(cl, node, i) { ("active", "running") } else { ("inactive", "dead") };
        out.push_str(&format!(
            "  {:<28} loaded  {a:<7} {s:<8} {}\n",
            format!("{}.service", u.name),
            u.description
        ));
        count += 1;
    }
    out.push_str(&format!("\n{count} loaded units listed.\n"));
    out
}

/// A journal entry: time, process tag, message.
type Entry = (i64, String, String);

/// The last `n` entries of unit `which` (None: all units), oldest first.
fn entries(cl: &Cluster, node: usize, which: Option<usize>, n: usize) -> Vec<Entry> {
    let now = cl.unix_now();
    let mut list = Vec::new();
    let units: Vec<usize> = match which {
        Some(i) => vec![i],
        None => (0..UNITS.len()).filter(|&i| find(node, UNITS[i].name).is_some()).collect(),
    };
    // Until when each unit logged: now while it runs, its stop time otherwise; never for
    // corosync on a standalone node.
    let last_alive = |i: usize| {
        if cl.standalone && UNITS[i].name == "corosync" {
            None
        } else if is_active(cl, node, i) {
            Some(now)
        } else {
            Some(since(cl, node, i))
        }
    };
    let mut t = now - (mix(node as u64) % 20) as i64;
    let mut k = 0u64;
    while list.len() < n && k < n as u64 * 4 + 64 {
        let i = units[(mix(k * 31 + node as u64) % units.len() as u64) as usize];
        let u = &UNITS[i];
        if !u.log.is_empty() && last_alive(i).is_some_and(|last| t <= last) {
            let msg = u.log[(mix(k ^ 0x5eed) % u.log.len() as u64) as usize];
            let tag =
                u.cmd.rsplit('/').next().unwrap_or(u.name).split(' ').next().unwrap_or(u.name);
            list.push((t, format!("{tag}[{}]", pid_of(cl, node, i)), msg.to_string()));
        }
        t -= 20 + (mix(k + 7) % 90) as i64;
        k += 1;
    }
    for (name, action, at) in &cl.nodes[node].service_log {
        let Some(i) = find(node, name) else { continue };
        if which.is_some_and(|w| w != i) {
            continue;
        }
        let d = UNITS[i].description;
        let steps: &[(i64, &str)] = match action {
            UnitAction::Restart => {
                &[(0, "Stopping"), (0, "Stopped"), (1, "Starting"), (1, "Started")]
            }
            UnitAction::Stop => &[(0, "Stopping"), (0, "Stopped")],
            UnitAction::Start => &[(0, "Starting"), (0, "Started")],
        };
        for (dt, msg) in steps {
            let suffix = if msg.ends_with("ing") { "..." } else { "." };
            list.push((
                at + dt,
                "systemd[1]".into(),
                format!("{msg} {name}.service - {d}{suffix}"),
            ));
        }
    }
    list.sort_by_key(|e| e.0);
    let skip = list.len().saturating_sub(n);
    list.split_off(skip)
}

fn journal(cl: &Cluster, node: usize, which: Option<usize>, n: usize) -> String {
    let host = &cl.nodes[node].name;
    entries(cl, node, which, n)
        .into_iter()
        .map(|(t, tag, msg)| format!("{} {host} {tag}: {msg}\n", fmt_time(t, "%b %d %T")))
        .collect()
}

/// `journalctl [-u UNIT] [-n N] …`.
pub(crate) fn journalctl(cl: &mut Cluster, ctx: &Ctx, args: &[&str]) -> Output {
    let mut unit = None;
    let mut n = 50;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match *a {
            "-u" | "--unit" => unit = it.next().copied(),
            "-n" | "--lines" => n = it.next().and_then(|v| v.parse().ok()).unwrap_or(n),
            a if a.starts_with("--unit=") => unit = Some(&a[7..]),
            a if a.starts_with("--lines=") => n = a[8..].parse().unwrap_or(n),
            a if a.starts_with("-n") => n = a[2..].parse().unwrap_or(n),
            a if a.starts_with("-u") && a.len() > 2 => unit = Some(&a[2..]),
            _ => {}
        }
    }
    let n = n.min(10_000);
    let which = match unit {
        Some(u) => match find(ctx.node, u) {
            Some(i) => Some(i),
            None => return Output::ok("-- No entries --\n"),
        },
        None => None,
    };
    let text = journal(cl, ctx.node, which, n);
    Output::ok(if text.is_empty() { "-- No entries --\n".to_string() } else { text })
}

/// `/var/log/syslog`: the last 200 journal entries in rsyslog's high-precision format.
pub(crate) fn syslog(cl: &Cluster, node: usize) -> String {
    let host = &cl.nodes[node].name;
    entries(cl, node, None, 200)
        .into_iter()
        .map(|(t, tag, msg)| {
            let micros = mix(t as u64) % 1_000_000;
            format!("{}.{micros:06}+00:00 {host} {tag}: {msg}\n", fmt_time(t, "%FT%T"))
        })
        .collect()
}
