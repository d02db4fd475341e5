//! `GET /nodes/{node}/storage/{storage}/content`: what lies on a storage — nightly backups on
//! the shared backup store, guest disks on `local-lvm`, ISO images and templates on `local`.
//! Deterministic: the same cluster always lists the same volumes (dated relative to today),
//! plus the archives of backups run through `SimControl::start_backup`.

use jarvis_domain::GuestType;
use serde_json::{Value, json};

use crate::model::{Cluster, StorageId};

/// Nightly backups kept per guest.
const BACKUPS_KEPT: i64 = 3;

impl Cluster {
    /// The content of `sid` as seen from node `ni`, optionally only of one content type.
    pub(crate) fn storage_content(
        &self,
        ni: usize,
        sid: StorageId,
        content: Option<&str>,
    ) -> Value {
        let mut out = Vec::new();
        let day = 86_400i64;
        let midnight = self.unix_now() / day * day;
        match sid {
            StorageId::NfsBackup => {
                for g in self.guests.iter().filter(|g| !g.template) {
                    let (kind, ext) = match g.kind {
                        GuestType::Qemu => ("qemu", "vma.zst"),
                        GuestType::Lxc => ("lxc", "tar.zst"),
                    };
                    for back in 1..=BACKUPS_KEPT {
                        let ctime = midnight - back * day + 3_600 + i64::from(g.vmid % 60);
                        let stamp = chrono::DateTime::from_timestamp(ctime, 0)
                            .map(|t| t.format("%Y_%m_%d-%H_%M_%S").to_string())
                            .unwrap_or_default();
                        out.push(json!({
                            "volid": format!("nfs-backup:backup/vzdump-{kind}-{}-{stamp}.{ext}", g.vmid),
                            "content": "backup",
                            "format": ext,
                            "size": g.maxdisk / 5 + u64::from(g.vmid) * 1_048_576,
                            "ctime": ctime,
                            "vmid": g.vmid,
                            "subtype": kind,
                            "notes": format!("{}, nightly", g.name),
                            "protected": u8::from(back == BACKUPS_KEPT),
                        }));
                    }
                }
                // Archives of backups run through `SimControl::start_backup`.
                for v in &self.scenario.volumes {
                    let subtype = v.kind.as_str();
                    let name = crate::backup::archive_name(v.kind, v.vmid, v.ctime);
                    let format = name.split_once('.').map_or("", |(_, ext)| ext).to_string();
                    out.push(json!({
                        "volid": format!("nfs-backup:backup/{name}"),
                        "content": "backup",
                        "format": format,
                        "size": v.size,
                        "ctime": v.ctime,
                        "vmid": v.vmid,
                        "subtype": subtype,
                        "notes": v.name,
                        "protected": 0,
                    }));
                }
                out.push(json!({"volid": "nfs-backup:iso/debian-13.2.0-amd64-netinst.iso",
                    "content": "iso", "format": "iso", "size": 790_626_304u64, "ctime": midnight - 40 * day}));
            }
            StorageId::LocalLvm => {
                for g in self.guests.iter().filter(|g| g.node == ni) {
                    let (content, name) = match g.kind {
                        GuestType::Qemu => ("images", format!("vm-{}-disk-0", g.vmid)),
                        GuestType::Lxc => ("rootdir", format!("vm-{}-disk-0", g.vmid)),
                    };
                    out.push(json!({"volid": format!("local-lvm:{name}"), "content": content,
                        "format": "raw", "size": g.maxdisk, "vmid": g.vmid}));
                }
            }
            StorageId::Local => {
                out.push(json!({"volid": "local:iso/proxmox-ve_9.1-1.iso", "content": "iso",
                    "format": "iso", "size": 1_641_218_048u64, "ctime": midnight - 60 * day}));
                out.push(json!({"volid": "local:vztmpl/debian-13-standard_13.1-1_amd64.tar.zst",
                    "content": "vztmpl", "format": "tzst", "size": 125_829_120u64, "ctime": midnight - 50 * day}));
            }
        }
        let wanted: Vec<&str> =
            content.map(|c| c.split(',').map(str::trim).collect()).unwrap_or_default();
        out.retain(|v| wanted.is_empty() || wanted.iter().any(|w| v["content"] == *w));
        Value::Array(out)
    }
}
