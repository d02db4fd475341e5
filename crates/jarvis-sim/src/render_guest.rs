//! Guest PVE JSON: `/nodes/{node}/{qemu|lxc}` lists, `status/current`, `config`, `rrddata`,
//! and the task list and log shapes.
//!
//! Running QEMU guests carry everything the recorded PVE 7 status has (blockstat, ballooninfo,
//! nics, proxmox-support, with QMP's genuine JSON booleans inside), stopped ones only what
//! `vmstatus` has for them (no `qmpstatus`, no `pid`). Container lists give `vmid` as a string
//! like the recorded PVE 7 list does; `status/current` gives it as a number.

use jarvis_domain::GuestType;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::catalog;
use crate::model::{Cluster, Guest, RunState};
use crate::render::{jnum, noise};
use crate::tasks::Task;

fn is_qemu(g: &Guest) -> bool {
    g.kind == GuestType::Qemu
}

/// Demo VMs use a QXL display (SPICE); generated ones the default VGA.
fn has_spice(g: &Guest) -> bool {
    is_qemu(g) && g.vmid < 200
}

fn gib(bytes: u64) -> u64 {
    bytes / (1024 * 1024 * 1024)
}

impl Cluster {
    /// One entry of `/nodes/{node}/qemu` or `/nodes/{node}/lxc`.
    pub fn guest_list_entry(&self, g: &Guest, full: bool) -> Value {
        let mut v = json!({
            "vmid": g.vmid,
            "name": g.name,
            "status": g.status_str(),
            "cpus": g.cores,
            "cpu": jnum(g.cpu),
            "maxmem": g.maxmem,
            "mem": g.mem,
            "maxdisk": g.maxdisk,
            "disk": if is_qemu(g) || !g.is_up() { 0 } else { g.disk_used },
            "netin": g.netin,
            "netout": g.netout,
            "diskread": g.diskread,
            "diskwrite": g.diskwrite,
            "uptime": g.uptime_ms / 1000,
        });
        if !is_qemu(g) {
            // The recorded PVE 7 container list sends vmid as a string.
            v["vmid"] = json!(g.vmid.to_string());
            v["type"] = json!("lxc");
            v["maxswap"] = json!(g.maxmem);
            v["swap"] = json!(0);
        }
        if g.is_up() {
            v["pid"] = json!(g.pid);
            if is_qemu(g) {
                v["memhost"] = json!(g.mem + g.maxmem / 40);
                if full {
                    v["qmpstatus"] = json!(qmpstatus(g));
                    v["running-machine"] = json!(machine(g));
                    v["running-qemu"] = json!(catalog::QEMU_VERSION);
                }
            }
        }
        self.guest_extras(g, &mut v);
        v
    }

    fn guest_extras(&self, g: &Guest, v: &mut Value) {
        if !g.tags.is_empty() {
            v["tags"] = json!(g.tags);
        }
        if g.template {
            v["template"] = json!(1);
        }
        if let Some(lock) = &g.lock {
            v["lock"] = json!(lock);
        }
    }

    /// `/nodes/{node}/{qemu|lxc}/{vmid}/status/current`.
    pub fn guest_current(&self, g: &Guest) -> Value {
        let mut v = self.guest_list_entry(g, true);
        v["vmid"] = json!(g.vmid);
        v["ha"] = if g.ha {
            json!({"managed": 1, "state": if g.is_up() { "started" } else { "stopped" },
                   "group": null, "request_state": if g.is_up() { "started" } else { "stopped" }})
        } else {
            json!({"managed": 0})
        };
        if is_qemu(g) {
            if g.ostype != "win11" {
                v["agent"] = json!(1);
            }
            if has_spice(g) {
                v["spice"] = json!(1);
            }
            if g.is_up() {
                self.qemu_running_status(g, &mut v);
            }
        }
        if g.is_up() {
            let r = noise(g.vmid as u64, g.uptime_ms / 1000);
            for (k, f) in [
                ("pressurecpusome", 0.5),
                ("pressurecpufull", 0.2),
                ("pressureiosome", 0.3),
                ("pressureiofull", 0.1),
                ("pressurememorysome", 0.0),
                ("pressurememoryfull", 0.0),
            ] {
                v[k] = jnum((g.cpu * f * r * 100.0).round() / 100.0);
            }
        }
        v
    }

    fn qemu_running_status(&self, g: &Guest, v: &mut Value) {
        let free = g.maxmem.saturating_sub(g.mem);
        let disk = if g.ostype == "win11" { "sata0" } else { "scsi0" };
        v["shares"] = json!(1000);
        v["balloon"] = json!(g.maxmem);
        v["balloon_min"] = json!(g.maxmem);
        v["freemem"] = json!(free);
        v["ballooninfo"] = json!({
            "actual": g.maxmem,
            "max_mem": g.maxmem,
            "total_mem": g.maxmem - g.maxmem / 25,
            "free_mem": free,
            "mem_swapped_in": 0,
            "mem_swapped_out": 0,
            "major_page_faults": 1200 + g.vmid as u64,
            "minor_page_faults": 3_000_000 + g.uptime_ms / 50,
            "last_update": self.unix_now(),
        });
        let mut blocks = serde_json::Map::new();
        blocks.insert(disk.into(), blockstat(g.diskread, g.diskwrite, true));
        blocks.insert("ide2".into(), blockstat(344_348, 0, false));
        v["blockstat"] = Value::Object(blocks);
        let mut nics = serde_json::Map::new();
        nics.insert(format!("tap{}i0", g.vmid), json!({"netin": g.netin, "netout": g.netout}));
        v["nics"] = Value::Object(nics);
        // QMP answers with real JSON booleans, which PVE passes through untouched.
        v["proxmox-support"] = json!({
            "backup-fleecing": true,
            "backup-max-workers": true,
            "pbs-dirty-bitmap": true,
            "pbs-dirty-bitmap-migration": true,
            "pbs-dirty-bitmap-savevm": true,
            "pbs-library-version": "1.5.2 (UNKNOWN)",
            "pbs-masterkey": true,
            "query-bitmap-info": true,
        });
    }

    /// `/nodes/{node}/{qemu|lxc}/{vmid}/config`.
    pub fn guest_config(&self, g: &Guest) -> Value {
        let storage_disk = format!("local-lvm:vm-{}-disk-0", g.vmid);
        let mut v = if is_qemu(g) {
            let win = g.ostype == "win11";
            let mut v = json!({
                "name": g.name,
                "cores": g.cores,
                "sockets": 1,
                "memory": (g.maxmem / (1024 * 1024)).to_string(),
                "cpu": "x86-64-v2-AES",
                "ostype": g.ostype,
                "numa": 0,
                "scsihw": "virtio-scsi-single",
                "ide2": "none,media=cdrom",
                "net0": format!("virtio={},bridge=vmbr0,firewall=1", g.mac),
                "smbios1": format!("uuid={}", g.uuid),
                "vmgenid": derived_uuid(&g.uuid),
                "meta": format!("creation-qemu=9.0.2,ctime={}", g.ctime),
            });
            if win {
                v["bios"] = json!("ovmf");
                v["machine"] = json!("pc-q35-10.1");
                v["sata0"] = json!(format!("{storage_disk},size={}G", gib(g.maxdisk)));
                v["efidisk0"] = json!(format!(
                    "local-lvm:vm-{}-disk-1,efitype=4m,pre-enrolled-keys=1,size=4M",
                    g.vmid
                ));
                v["tpmstate0"] =
                    json!(format!("local-lvm:vm-{}-disk-2,size=4M,version=v2.0", g.vmid));
                v["boot"] = json!("order=sata0;ide2;net0");
            } else {
                v["agent"] = json!("1");
                v["scsi0"] = json!(format!("{storage_disk},iothread=1,size={}G", gib(g.maxdisk)));
                v["boot"] = json!("order=scsi0;ide2;net0");
            }
            if has_spice(g) {
                v["vga"] = json!("qxl");
            }
            v
        } else {
            json!({
                "hostname": g.name,
                "arch": "amd64",
                "cores": g.cores,
                "memory": g.maxmem / (1024 * 1024),
                "swap": g.maxmem / (1024 * 1024),
                "ostype": g.ostype,
                "unprivileged": 1,
                "features": "nesting=1",
                "rootfs": format!("{storage_disk},size={}G", gib(g.maxdisk)),
                "net0": format!("name=eth0,bridge=vmbr0,firewall=1,hwaddr={},ip=dhcp,type=veth", g.mac),
            })
        };
        if g.onboot {
            v["onboot"] = json!(1);
        }
        if !g.description.is_empty() {
            v["description"] = json!(g.description);
        }
        self.guest_extras(g, &mut v);
        let digest = Sha256::digest(v.to_string().as_bytes());
        v["digest"] = json!(hex::encode(&digest[..20]));
        v
    }

    /// `/nodes/{node}/{qemu|lxc}/{vmid}/rrddata`.
    pub fn guest_rrd(&self, g: &Guest, step: u64) -> Value {
        let end = self.unix_now() as u64 / step * step;
        let up_since = end.saturating_sub(g.uptime_ms / 1000);
        let points = (0..70u64)
            .map(|k| {
                let t = end - (69 - k) * step;
                if k == 69 {
                    return json!({"time": t});
                }
                let on = g.is_up() && t >= up_since;
                let r = noise(g.vmid as u64, t);
                let scale = |x: f64| if on { jnum((x * (0.5 + r)).round()) } else { json!(0) };
                json!({
                    "time": t,
                    "cpu": if on { jnum((g.profile.cpu_base * (0.5 + r)).min(1.0)) } else { json!(0) },
                    "maxcpu": g.cores,
                    "mem": if on { jnum((g.maxmem as f64 * g.profile.mem_frac * (0.9 + 0.2 * r)).round()) } else { json!(0) },
                    "maxmem": g.maxmem,
                    "disk": if is_qemu(g) { 0 } else { g.disk_used },
                    "maxdisk": g.maxdisk,
                    "netin": scale(g.profile.net_in),
                    "netout": scale(g.profile.net_out),
                    "diskread": scale(g.profile.disk_rate * 0.7),
                    "diskwrite": scale(g.profile.disk_rate * 0.3),
                })
            })
            .collect();
        Value::Array(points)
    }
}

/// A second stable UUID derived from the guest's SMBIOS UUID (for `vmgenid`).
fn derived_uuid(uuid: &str) -> String {
    let h = hex::encode(Sha256::digest(uuid.as_bytes()));
    format!("{}-{}-4{}-8{}-{}", &h[0..8], &h[8..12], &h[13..16], &h[17..20], &h[20..32])
}

fn qmpstatus(g: &Guest) -> &'static str {
    if g.run == RunState::Paused { "paused" } else { "running" }
}

fn machine(g: &Guest) -> String {
    let kind = if g.ostype == "win11" { "q35" } else { "i440fx" };
    format!("pc-{kind}-{}", catalog::QEMU_MACHINE)
}

fn blockstat(rd: u64, wr: u64, active: bool) -> Value {
    let ops = |bytes: u64| bytes / 40_960;
    json!({
        "rd_bytes": rd, "wr_bytes": wr,
        "rd_operations": ops(rd), "wr_operations": ops(wr),
        "flush_operations": ops(wr) / 10, "unmap_operations": u64::from(active) * 469,
        "rd_total_time_ns": ops(rd) * 450_000, "wr_total_time_ns": ops(wr) * 420_000,
        "flush_total_time_ns": ops(wr) * 47_000, "unmap_total_time_ns": u64::from(active) * 9_514_953,
        "rd_merged": 0, "wr_merged": 0, "unmap_merged": 0, "unmap_bytes": u64::from(active) * wr / 4,
        "failed_rd_operations": 0, "failed_wr_operations": 0, "failed_flush_operations": 0,
        "failed_unmap_operations": 0, "invalid_rd_operations": 0, "invalid_wr_operations": 0,
        "invalid_flush_operations": 0, "invalid_unmap_operations": 0,
        "account_failed": true, "account_invalid": true,
        "idle_time_ns": 4_427_685_914u64, "wr_highest_offset": wr.min(2_808_696_832),
        "timed_stats": [],
    })
}

/// A task as `/nodes/{node}/tasks/{upid}/status` shows it.
pub(crate) fn task_status(t: &Task, node: &str) -> Value {
    let mut v = task_common(t, node);
    if t.running() {
        v["status"] = json!("running");
    } else {
        v["status"] = json!("stopped");
        v["exitstatus"] = json!(t.exitstatus.as_deref().unwrap_or("unexpected status"));
        if let Some(end) = t.endtime {
            v["endtime"] = json!(end);
        }
    }
    v
}

/// A task as task lists show it (`status` is the exit status; running ones have none, or
/// `RUNNING` in a node list that asked for active tasks).
pub(crate) fn task_list_entry(t: &Task, node: &str, mark_running: bool) -> Value {
    let mut v = task_common(t, node);
    if let (Some(end), Some(status)) = (t.endtime, t.exitstatus.as_deref()) {
        v["endtime"] = json!(end);
        v["status"] = json!(status);
    } else if mark_running {
        v["status"] = json!("RUNNING");
    }
    v
}

fn task_common(t: &Task, node: &str) -> Value {
    let (user, token) = t.owner();
    let mut v = json!({
        "upid": t.upid,
        "node": node,
        "pid": t.pid,
        "pstart": t.pstart,
        "starttime": t.starttime,
        "type": t.kind,
        "id": t.id,
        "user": user,
    });
    if let Some(token) = token {
        v["tokenid"] = json!(token);
    }
    v
}

/// A page of a task log and the total line count; an empty log reads "no content" like PVE.
pub(crate) fn task_log(t: &Task, start: usize, limit: usize) -> (Value, u64) {
    if t.log.is_empty() {
        return (json!([{"n": 1, "t": "no content"}]), 1);
    }
    let lines: Vec<Value> = t
        .log
        .iter()
        .enumerate()
        .skip(start)
        .take(limit)
        .map(|(i, line)| json!({"n": i + 1, "t": line}))
        .collect();
    (Value::Array(lines), t.log.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SimConfig;

    #[test]
    fn running_and_stopped_vms_differ_like_pve() {
        let c = Cluster::generate(&SimConfig::default(), None);
        let running = c.guests.iter().find(|g| g.is_up() && is_qemu(g)).unwrap();
        let v = c.guest_current(running);
        for k in ["qmpstatus", "pid", "blockstat", "ballooninfo", "nics", "proxmox-support", "ha"] {
            assert!(v.get(k).is_some(), "running VM lacks {k}");
        }
        let stopped = c.guests.iter().find(|g| !g.is_up() && is_qemu(g)).unwrap();
        let v = c.guest_current(stopped);
        assert!(v.get("qmpstatus").is_none() && v.get("pid").is_none());
        assert_eq!(v["status"], "stopped");
        assert_eq!(v["cpu"], 0);
    }

    #[test]
    fn container_list_vmids_are_strings_but_current_is_a_number() {
        let c = Cluster::generate(&SimConfig::default(), None);
        let ct = c.guests.iter().find(|g| !is_qemu(g)).unwrap();
        assert!(c.guest_list_entry(ct, false)["vmid"].is_string());
        assert!(c.guest_current(ct)["vmid"].is_number());
    }

    #[test]
    fn empty_task_logs_read_no_content() {
        let c = Cluster::generate(&SimConfig::default(), None);
        let mut t = c.tasks.list[0].clone();
        t.log.clear();
        let (v, total) = task_log(&t, 0, 50);
        assert_eq!(v[0]["t"], "no content");
        assert_eq!(total, 1);
    }
}
