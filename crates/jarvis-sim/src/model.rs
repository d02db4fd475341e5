//! The simulated cluster's state: nodes, guests, storage usage, quorum, node power state.
//!
//! Generation lives in `generate.rs`, metric movement in `tick.rs`, tasks in `tasks.rs`, and
//! everything that turns this state into PVE JSON in `render*.rs`. All of it is plain data
//! behind one mutex in the server; nothing here does IO.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use jarvis_domain::GuestType;
use rand::rngs::StdRng;

use crate::tasks::Tasks;

/// Run state of a guest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RunState {
    Stopped,
    Running,
    /// QEMU paused (`status: running`, `qmpstatus: paused`).
    Paused,
}

/// A systemd unit action taken over SSH (`systemctl restart|stop|start`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UnitAction {
    Restart,
    Stop,
    Start,
}

/// A pending power change of a node (`POST /nodes/{node}/status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PowerOp {
    Shutdown,
    Reboot,
}

/// One cluster node.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub name: String,
    pub nodeid: u32,
    pub ip: Ipv4Addr,
    pub online: bool,
    /// When the node stopped answering; its last status data expires after the stale window.
    pub offline_since: Option<Instant>,
    /// Switched off (a shutdown, or `power_off_node`): only a boot brings it back, and a
    /// wake-on-LAN packet starts one. A node that only lost its network is not powered off.
    pub powered_off: bool,
    /// A boot in progress (wake-on-LAN or reboot): the node comes online at this instant.
    pub boot_at: Option<Instant>,
    /// A requested shutdown/reboot that takes effect at this instant.
    pub power_op: Option<(Instant, PowerOp)>,
    /// Index into [`CPUS`].
    pub cpu_spec: usize,
    pub maxcpu: u32,
    pub maxmem: u64,
    pub swap_total: u64,
    pub swap_used: u64,
    pub rootfs_total: u64,
    pub rootfs_used: u64,
    /// Thin pool size of `local-lvm` and how much of it guests use.
    pub lvm_total: u64,
    pub lvm_used: u64,
    pub cpu: f64,
    pub mem: u64,
    pub uptime_ms: u64,
    pub load: [f64; 3],
    pub iowait: f64,
    pub ksm_shared: u64,
    /// Current network throughput (bytes/s in, out), for `rrddata`.
    pub net_rate: (f64, f64),
    /// Memory and CPU the host itself uses, before guests.
    pub host_mem: u64,
    pub host_cpu: f64,
    pub mac: String,
    pub efi: bool,
    /// Next PID handed to a guest process or a task worker.
    pub next_pid: u32,
    /// What was done to systemd units over SSH, oldest first: unit, action, Unix time.
    pub service_log: Vec<(String, UnitAction, i64)>,
    /// systemd units stopped over SSH (they come back on the next boot).
    pub stopped_units: Vec<String>,
}

/// How a guest's load behaves.
#[derive(Debug, Clone)]
pub(crate) struct Profile {
    pub cpu_base: f64,
    pub bursty: bool,
    pub mem_frac: f64,
    pub net_in: f64,
    pub net_out: f64,
    pub disk_rate: f64,
}

/// A QEMU VM or LXC container.
#[derive(Debug, Clone)]
pub(crate) struct Guest {
    pub vmid: u32,
    pub name: String,
    pub kind: GuestType,
    pub node: usize,
    pub template: bool,
    pub tags: String,
    pub cores: u32,
    pub maxmem: u64,
    pub maxdisk: u64,
    /// Used bytes of the root disk (containers report it as `disk`; VMs report 0 like PVE).
    pub disk_used: u64,
    pub ostype: &'static str,
    pub run: RunState,
    pub cpu: f64,
    pub mem_frac: f64,
    pub mem: u64,
    pub uptime_ms: u64,
    pub netin: u64,
    pub netout: u64,
    pub diskread: u64,
    pub diskwrite: u64,
    /// Process id while running (0 when stopped).
    pub pid: u32,
    pub profile: Profile,
    pub ha: bool,
    pub lock: Option<String>,
    pub pool: Option<String>,
    pub onboot: bool,
    pub mac: String,
    pub description: String,
    pub ctime: i64,
    pub uuid: String,
}

impl Guest {
    /// Whether the guest process exists (running or paused).
    pub fn is_up(&self) -> bool {
        self.run != RunState::Stopped
    }

    /// PVE's `status` string.
    pub fn status_str(&self) -> &'static str {
        if self.is_up() { "running" } else { "stopped" }
    }

    /// Puts the guest into the freshly started state.
    pub fn boot(&mut self, pid: u32) {
        self.run = RunState::Running;
        self.cpu = (self.profile.cpu_base * 3.0 + 0.2).min(1.0);
        self.mem_frac = 0.25_f64.min(self.profile.mem_frac);
        self.mem = (self.maxmem as f64 * self.mem_frac) as u64;
        self.uptime_ms = 0;
        self.netin = 0;
        self.netout = 0;
        self.diskread = 0;
        self.diskwrite = 0;
        self.pid = pid;
    }

    /// Puts the guest into the stopped state: PVE reports zero usage for stopped guests.
    pub fn halt(&mut self) {
        self.run = RunState::Stopped;
        self.cpu = 0.0;
        self.mem = 0;
        self.uptime_ms = 0;
        self.netin = 0;
        self.netout = 0;
        self.diskread = 0;
        self.diskwrite = 0;
        self.pid = 0;
    }
}

/// The storages every node has, in the order they are reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StorageId {
    Local,
    LocalLvm,
    NfsBackup,
}

impl StorageId {
    pub const ALL: [StorageId; 3] = [StorageId::Local, StorageId::LocalLvm, StorageId::NfsBackup];

    pub fn name(self) -> &'static str {
        match self {
            Self::Local => "local",
            Self::LocalLvm => "local-lvm",
            Self::NfsBackup => "nfs-backup",
        }
    }

    pub fn plugintype(self) -> &'static str {
        match self {
            Self::Local => "dir",
            Self::LocalLvm => "lvmthin",
            Self::NfsBackup => "nfs",
        }
    }

    pub fn content(self) -> &'static str {
        match self {
            Self::Local => "iso,vztmpl,backup",
            Self::LocalLvm => "images,rootdir",
            Self::NfsBackup => "backup,iso",
        }
    }

    pub fn shared(self) -> bool {
        self == Self::NfsBackup
    }
}

/// The whole simulated cluster.
#[derive(Debug)]
pub(crate) struct Cluster {
    pub name: String,
    /// A single node without a cluster (no `cluster` entry in `/cluster/status`).
    pub standalone: bool,
    pub nodes: Vec<Node>,
    pub node_by_name: HashMap<String, usize>,
    /// Sorted by vmid.
    pub guests: Vec<Guest>,
    pub guest_by_vmid: HashMap<u32, usize>,
    pub nfs_total: u64,
    pub nfs_used: u64,
    pub tasks: Tasks,
    /// Drives metric movement only, so ticks stay deterministic whatever else happens.
    pub rng: StdRng,
    pub ticks: u64,
    /// Simulated milliseconds per tick.
    pub tick_ms: u64,
    pub stale_after: Duration,
    pub task_duration: Duration,
    pub boot_delay: Duration,
    /// Token id of the configured API token (task owner).
    pub token_id: String,
    /// Fingerprint of the served certificate, reported in `/nodes`.
    pub fingerprint: Option<String>,
    /// Corosync config version (`/cluster/status`).
    pub config_version: u32,
    /// Bumped whenever a node goes online or offline, so per-node endpoints can follow.
    pub epoch: u64,
    /// Seconds added to every reported wall time (see [`Cluster::unix_now`]).
    pub clock_offset: i64,
    /// Pins, flaps, failing starts and running backups (see `scenario.rs`).
    pub scenario: crate::scenario::Scenario,
}

/// Node `i`'s cluster address: 127.0.1.1, 127.0.1.2, … then 127.0.2.1, …
pub(crate) fn node_ip(i: usize) -> Ipv4Addr {
    let hi = 1 + (i / 254) as u8;
    let lo = 1 + (i % 254) as u8;
    Ipv4Addr::new(127, 0, hi, lo)
}

impl Cluster {
    /// The Unix time (seconds) the simulator reports: the wall clock plus the test clock offset
    /// ([`crate::SimControl::advance_clock`]). The single place the offset is applied: every
    /// reported time (task times and UPIDs, `ctime`, rrd timestamps, `last_update`, boot times,
    /// times shown over SSH) comes from here, while internal timing runs on `Instant`.
    pub fn unix_now(&self) -> i64 {
        let wall = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        wall + self.clock_offset
    }

    /// Hands out the next process id on `node`. Not drawn from the tick RNG, so starting guests
    /// never changes how metrics move.
    pub fn next_pid(&mut self, node: usize) -> u32 {
        let n = &mut self.nodes[node];
        n.next_pid = n.next_pid.wrapping_add(97 + (n.next_pid % 89));
        if n.next_pid > 4_000_000 {
            n.next_pid = 1000 + n.next_pid % 1000;
        }
        n.next_pid
    }

    /// Node index by exact name.
    pub fn node_idx(&self, name: &str) -> Option<usize> {
        self.node_by_name.get(name).copied()
    }

    /// Guest index by vmid.
    pub fn guest_idx(&self, vmid: u32) -> Option<usize> {
        self.guest_by_vmid.get(&vmid).copied()
    }

    /// Whether node `i`'s status data is still known to the cluster: always while online, and
    /// for the stale window after it went offline (pmxcfs keeps RRD data for 5 minutes).
    pub fn node_fresh(&self, i: usize, now: Instant) -> bool {
        let n = &self.nodes[i];
        n.online || n.offline_since.is_some_and(|t| now.duration_since(t) < self.stale_after)
    }

    /// Nodes online and in total.
    pub fn online_count(&self) -> usize {
        self.nodes.iter().filter(|n| n.online).count()
    }

    /// Corosync quorum with one vote per node: a strict majority must be online.
    pub fn quorate(&self) -> bool {
        self.standalone || self.online_count() * 2 > self.nodes.len()
    }

    /// Takes a node off the cluster network (crash or partition): its guests keep their last
    /// state, which the cluster stops reporting once the stale window has passed.
    pub fn set_node_offline(&mut self, i: usize, now: Instant) {
        let n = &mut self.nodes[i];
        if n.online {
            n.online = false;
            n.offline_since = Some(now);
            self.epoch += 1;
        }
        n.boot_at = None;
        n.power_op = None;
    }

    /// Brings a node back without rebooting it (a healed partition).
    pub fn set_node_online(&mut self, i: usize) {
        let n = &mut self.nodes[i];
        if !n.online {
            n.online = true;
            self.epoch += 1;
        }
        n.offline_since = None;
        n.boot_at = None;
    }

    /// Completes a boot: uptime restarts and guests marked `onboot` start (except those whose
    /// starts are set to fail, which stay stopped, as their start at boot would fail too).
    pub fn finish_boot(&mut self, i: usize) {
        self.set_node_online(i);
        self.nodes[i].powered_off = false;
        self.nodes[i].uptime_ms = 0;
        self.nodes[i].load = [0.0; 3];
        self.nodes[i].stopped_units.clear();
        for gi in 0..self.guests.len() {
            if self.guests[gi].node != i {
                continue;
            }
            let vmid = self.guests[gi].vmid;
            if self.guests[gi].onboot && !self.guests[gi].template && !self.take_start_failure(vmid)
            {
                let pid = self.next_pid(i);
                self.guests[gi].boot(pid);
            } else {
                self.guests[gi].halt();
            }
        }
    }

    /// Powers a node off: its guests stop (without tasks) and it leaves the cluster until a
    /// boot (wake-on-LAN, or the second half of a reboot).
    pub fn power_off(&mut self, i: usize, now: Instant) {
        for g in self.guests.iter_mut().filter(|g| g.node == i) {
            g.halt();
        }
        self.set_node_offline(i, now);
        self.nodes[i].powered_off = true;
    }
}
