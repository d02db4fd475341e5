//! Output of the PVE, network and process commands: `pveversion`, `qm list`, `pct list`,
//! `pvecm status`, `zpool`, `ip addr`/`ip route`, `ss -tlnp` and `ps aux`. Guests, quorum and
//! service PIDs come from the cluster model and `units`, so every view agrees.

use jarvis_domain::GuestType;

use super::commands::{Ctx, Output};
use super::system::{fmt_time, mem_split};
use super::units;
use crate::catalog::{KERNEL_RELEASE, PVE_REPOID, PVE_VERSION, QEMU_VERSION};
use crate::model::{Cluster, Guest, RunState};

const MIB: u64 = 1024 * 1024;
const GIB: u64 = 1024 * MIB;

/// A command of this module; None when the name is unknown.
pub(crate) fn command(cl: &mut Cluster, ctx: &Ctx, name: &str, args: &[&str]) -> Option<Output> {
    let node = ctx.node;
    let sub = args.first().copied().unwrap_or("");
    Some(match name {
        "pveversion" => Output::ok(pveversion(args.contains(&"-v") || args.contains(&"--verbose"))),
        "qm" if sub == "list" => Output::ok(qm_list(cl, node)),
        "pct" if sub == "list" => Output::ok(pct_list(cl, node)),
        "qm" | "pct" => Output::err(255, format!("ERROR: unknown command '{name} {sub}'\n")),
        "pvecm" if sub == "status" => pvecm_status(cl, node),
        "pvecm" if sub == "nodes" => pvecm_nodes(cl, node),
        "pvecm" => Output::err(255, format!("ERROR: unknown command 'pvecm {sub}'\n")),
        "zpool" => Output::ok("no pools available\n"),
        "ip" => ip(cl, node, args),
        "ss" | "netstat" => Output::ok(ss(cl, node)),
        "ps" => Output::ok(ps(cl, ctx)),
        _ => return None,
    })
}

fn pveversion(verbose: bool) -> String {
    let head =
        format!("pve-manager/{PVE_VERSION}/{PVE_REPOID} (running kernel: {KERNEL_RELEASE})\n");
    if !verbose {
        return head;
    }
    let mut out = format!(
        "proxmox-ve: 9.1.0 (running kernel: {KERNEL_RELEASE})\n\
         pve-manager: {PVE_VERSION} (running version: {PVE_VERSION}/{PVE_REPOID})\n\
         proxmox-kernel-helper: 9.0.4\nproxmox-kernel-{KERNEL_RELEASE}: 6.17.2-1\n"
    );
    for (pkg, v) in [
        ("ceph-fuse", "19.2.3-pve2"),
        ("corosync", "3.1.9-pve2"),
        ("criu", "4.1.1-1"),
        ("ifupdown2", "3.3.0-1+pmx10"),
        ("libjs-extjs", "7.0.0-5"),
        ("libproxmox-acme-perl", "1.7.0"),
        ("libpve-access-control", "9.0.4"),
        ("libpve-cluster-perl", "9.0.7"),
        ("libpve-common-perl", "9.0.13"),
        ("libpve-guest-common-perl", "6.0.2"),
        ("libpve-storage-perl", "9.0.17"),
        ("lxc-pve", "6.0.5-3"),
        ("proxmox-backup-client", "4.0.19-1"),
        ("proxmox-widget-toolkit", "5.1.2"),
        ("pve-cluster", "9.0.7"),
        ("pve-container", "6.0.18"),
        ("pve-firewall", "6.0.4"),
        ("pve-ha-manager", "5.0.8"),
        ("pve-qemu-kvm", &format!("{QEMU_VERSION}-2")),
        ("qemu-server", "9.0.30"),
        ("smartmontools", "7.4-pve1"),
        ("zfsutils-linux", "2.3.4-pve1"),
    ] {
        out.push_str(&format!("{pkg}: {v}\n"));
    }
    out
}

fn guests_on(cl: &Cluster, node: usize, kind: GuestType) -> impl Iterator<Item = &Guest> {
    cl.guests.iter().filter(move |g| g.node == node && g.kind == kind)
}

fn qm_list(cl: &Cluster, node: usize) -> String {
    let mut out = format!(
        "{:>10} {:<20} {:<10} {:<10} {:>12} {:<10}\n",
        "VMID", "NAME", "STATUS", "MEM(MB)", "BOOTDISK(GB)", "PID"
    );
    for g in guests_on(cl, node, GuestType::Qemu) {
        out.push_str(&format!(
            "{:>10} {:<20} {:<10} {:<10} {:>12.2} {:<10}\n",
            g.vmid,
            g.name,
            g.status_str(),
            g.maxmem / MIB,
            g.maxdisk as f64 / GIB as f64,
            g.pid
        ));
    }
    out
}

fn pct_list(cl: &Cluster, node: usize) -> String {
    let mut out = format!("{:<10} {:<10} {:<12} {:<20}\n", "VMID", "Status", "Lock", "Name");
    for g in guests_on(cl, node, GuestType::Lxc) {
        let lock = g.lock.as_deref().unwrap_or("");
        out.push_str(&format!(
            "{:<10} {:<10} {:<12} {:<20}\n",
            g.vmid,
            g.status_str(),
            lock,
            g.name
        ));
    }
    out
}

const NO_CLUSTER: &str = "Error: Corosync config '/etc/pve/corosync.conf' does not exist - is this node part of a cluster?\n";

fn pvecm_status(cl: &Cluster, node: usize) -> Output {
    if cl.standalone {
        return Output::err(2, NO_CLUSTER);
    }
    let total = cl.nodes.len();
    let online = cl.online_count();
    let quorum = total / 2 + 1;
    let quorate = cl.quorate();
    let me = &cl.nodes[node];
    let mut out = format!(
        "Cluster information\n-------------------\nName:             {}\nConfig Version:   {}\n\
         Transport:        knet\nSecure auth:      on\n\n\
         Quorum information\n------------------\nDate:             {}\n\
         Quorum provider:  corosync_votequorum\nNodes:            {online}\n\
         Node ID:          0x{:08x}\nRing ID:          1.{:x}\nQuorate:          {}\n\n\
         Votequorum information\n----------------------\nExpected votes:   {total}\n\
         Highest expected: {total}\nTotal votes:      {online}\nQuorum:           {quorum} {}\n\
         Flags:            {}\n\n\
         Membership information\n----------------------\n    Nodeid      Votes Name\n",
        cl.name,
        cl.config_version,
        fmt_time(cl.unix_now(), "%a %b %e %T %Y"),
        me.nodeid,
        0x20 + cl.epoch,
        if quorate { "Yes" } else { "No" },
        if quorate { "" } else { "Activity blocked" },
        if quorate { "Quorate " } else { "" },
    );
    for n in cl.nodes.iter().filter(|n| n.online) {
        let local = if n.nodeid == me.nodeid { " (local)" } else { "" };
        out.push_str(&format!("0x{:08x}          1 {}{local}\n", n.nodeid, n.ip));
    }
    Output::ok(out)
}

fn pvecm_nodes(cl: &Cluster, node: usize) -> Output {
    if cl.standalone {
        return Output::err(2, NO_CLUSTER);
    }
    let mut out = "\nMembership information\n----------------------\n    Nodeid      Votes Name\n"
        .to_string();
    for (i, n) in cl.nodes.iter().enumerate().filter(|(_, n)| n.online) {
        let local = if i == node { " (local)" } else { "" };
        out.push_str(&format!("{:>10} {:>10} {}{local}\n", n.nodeid, 1, n.name));
    }
    Output::ok(out)
}

/// The node's physical NIC name (stable per node).
fn nic(node: usize) -> &'static str {
    ["enp3s0", "eno1", "enp1s0f0", "enp2s0"][node % 4]
}

fn ip(cl: &Cluster, node: usize, args: &[&str]) -> Output {
    let n = &cl.nodes[node];
    let mac = n.mac.to_lowercase();
    let obj = args.iter().find(|a| !a.starts_with('-')).copied().unwrap_or("");
    if matches!(obj, "r" | "ro" | "route") {
        let gw = std::net::Ipv4Addr::from(u32::from(n.ip) & 0xffff_ff00 | 254);
        return Output::ok(format!(
            "default via {gw} dev vmbr0 proto kernel onlink \n{}/24 dev vmbr0 proto kernel scope link src {}\n",
            std::net::Ipv4Addr::from(u32::from(n.ip) & 0xffff_ff00),
            n.ip
        ));
    }
    if !matches!(obj, "a" | "ad" | "addr" | "address" | "l" | "link") {
        return Output::err(1, format!("Object \"{obj}\" is unknown, try \"ip help\".\n"));
    }
    let link = matches!(obj, "l" | "link");
    let b = mac.split(':').map(|h| u8::from_str_radix(h, 16).unwrap_or(0)).collect::<Vec<_>>();
    let ll = if b.len() == 6 {
        format!(
            "fe80::{:02x}{:02x}:{:02x}ff:fe{:02x}:{:02x}{:02x}",
            b[0] ^ 2,
            b[1],
            b[2],
            b[3],
            b[4],
            b[5]
        )
    } else {
        "fe80::1".into()
    };
    let fl = "BROADCAST,MULTICAST,UP,LOWER_UP";
    let mut out = String::from(
        "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000\n    \
         link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n",
    );
    if !link {
        out.push_str(
            "    inet 127.0.0.1/8 scope host lo\n       valid_lft forever preferred_lft forever\n    \
             inet6 ::1/128 scope host noprefixroute \n       valid_lft forever preferred_lft forever\n",
        );
    }
    out.push_str(&format!(
        "2: {}: <{fl}> mtu 1500 qdisc pfifo_fast master vmbr0 state UP group default qlen 1000\n    \
         link/ether {mac} brd ff:ff:ff:ff:ff:ff\n",
        nic(node)
    ));
    out.push_str(&format!(
        "3: vmbr0: <{fl}> mtu 1500 qdisc noqueue state UP group default qlen 1000\n    \
         link/ether {mac} brd ff:ff:ff:ff:ff:ff\n"
    ));
    if !link {
        out.push_str(&format!(
            "    inet {}/24 scope global vmbr0\n       valid_lft forever preferred_lft forever\n    \
             inet6 {ll}/64 scope link \n       valid_lft forever preferred_lft forever\n",
            n.ip
        ));
    }
    let up = cl.guests.iter().filter(|g| g.node == node && g.is_up());
    for (idx, g) in (4..).zip(up) {
        let gmac = g.mac.to_lowercase();
        let (name, state) = match g.kind {
            GuestType::Qemu => (format!("tap{}i0", g.vmid), "UNKNOWN"),
            GuestType::Lxc => (format!("veth{}i0@if2", g.vmid), "UP"),
        };
        out.push_str(&format!(
            "{idx}: {name}: <BROADCAST,MULTICAST,PROMISC,UP,LOWER_UP> mtu 1500 qdisc noqueue master vmbr0 state {state} group default qlen 1000\n    \
             link/ether {gmac} brd ff:ff:ff:ff:ff:ff\n"
        ));
    }
    Output::ok(out)
}

fn ss(cl: &Cluster, node: usize) -> String {
    let mut out =
        String::from("State  Recv-Q Send-Q Local Address:Port  Peer Address:PortProcess\n");
    for (unit, addr, procname) in [
        ("rpcbind", "0.0.0.0:111", "rpcbind"),
        ("ssh", "0.0.0.0:22", "sshd"),
        ("postfix", "127.0.0.1:25", "master"),
        ("pvedaemon", "127.0.0.1:85", "pvedaemon worke"),
        ("pveproxy", "*:8006", "pveproxy worker"),
        ("spiceproxy", "*:3128", "spiceproxy work"),
    ] {
        // A stopped service listens nowhere.
        let Some(pid) = units::main_pid(cl, node, unit) else { continue };
        let (host, port) = addr.rsplit_once(':').unwrap_or((addr, ""));
        let peer = if host == "*" { "*" } else { "0.0.0.0" };
        out.push_str(&format!(
            "LISTEN 0      4096  {host:>15}:{port:<5} {peer:>10}:*    users:((\"{procname}\",pid={pid},fd=6))\n"
        ));
    }
    out
}

fn ps(cl: &Cluster, ctx: &Ctx) -> String {
    let node = ctx.node;
    let n = &cl.nodes[node];
    let m = mem_split(n);
    let start = fmt_time(super::system::boot_time(cl, node), "%b%d");
    let mut out = String::from(
        "USER         PID %CPU %MEM    VSZ   RSS TTY      STAT START   TIME COMMAND\n",
    );
    let mut row = |user: &str, pid: u32, cpu: f64, rss_kib: u64, stat: &str, cmd: &str| {
        let mem = rss_kib as f64 * 1024.0 * 100.0 / m.total.max(1) as f64;
        out.push_str(&format!(
            "{user:<8} {pid:>7} {cpu:>4.1} {mem:>4.1} {:>6} {rss_kib:>5} ?        {stat:<4} {start:>5}   0:{:02} {cmd}\n",
            rss_kib + rss_kib / 3,
            pid % 60
        ));
    };
    row("root", 1, 0.0, 12_880, "Ss", "/sbin/init");
    row("root", 2, 0.0, 0, "S", "[kthreadd]");
    for (pid, cmd) in units::processes(cl, node) {
        row("root", pid, 0.1, 65_000 + (pid as u64 % 90) * 1000, "Ss", cmd);
    }
    for g in cl.guests.iter().filter(|g| g.node == node && g.is_up()) {
        // A VM's memory is its kvm process's; a container's processes are its own, not
        // lxc-start's.
        let (rss, cpu) = match g.kind {
            GuestType::Qemu => (g.mem / 1024, g.cpu * 100.0 * g.cores as f64),
            GuestType::Lxc => (4_800, 0.0),
        };
        let stat = if g.run == RunState::Paused { "Tl" } else { "Sl" };
        let cmd = match g.kind {
            GuestType::Qemu => format!(
                "/usr/bin/kvm -id {0} -name {1},debug-threads=on -no-shutdown -chardev socket,id=qmp,path=/var/run/qemu-server/{0}.qmp,server=on,wait=off -mon chardev=qmp,mode=control -pidfile /var/run/qemu-server/{0}.pid -daemonize -smp {2},sockets=1,cores={2},maxcpus={2} -m {3}",
                g.vmid,
                g.name,
                g.cores,
                g.maxmem / MIB
            ),
            GuestType::Lxc => format!("/usr/bin/lxc-start -F -n {}", g.vmid),
        };
        row("root", g.pid, cpu, rss, stat, &cmd);
    }
    let me = ctx.user.as_str();
    row(me, n.next_pid.wrapping_add(1), 0.0, 5_400, "Ss", "-bash");
    row(me, n.next_pid.wrapping_add(2), 0.0, 4_100, "R+", "ps aux");
    out
}
