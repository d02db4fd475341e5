//! Storage content (`GET /nodes/{node}/storage/{storage}/content`): backups, images, ISOs.

use serde::{Deserialize, Serialize};

use crate::de;

/// One volume on a storage.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct StorageContent {
    /// Volume id, e.g. `nfs-backup:backup/vzdump-qemu-100-2026_11_20-01_00_03.vma.zst`.
    #[serde(deserialize_with = "de::opt_string")]
    pub volid: Option<String>,
    /// Content type (`backup`, `images`, `iso`, `vztmpl`, `rootdir`).
    #[serde(deserialize_with = "de::opt_string")]
    pub content: Option<String>,
    /// File format (`vma.zst`, `tar.zst`, `raw`, `qcow2`, …).
    #[serde(deserialize_with = "de::opt_string")]
    pub format: Option<String>,
    /// Size in bytes.
    #[serde(deserialize_with = "de::opt_u64")]
    pub size: Option<u64>,
    /// Creation time (unix seconds).
    #[serde(deserialize_with = "de::opt_u64")]
    pub ctime: Option<u64>,
    /// Guest the volume belongs to.
    #[serde(deserialize_with = "de::opt_u32")]
    pub vmid: Option<u32>,
    /// Backup notes.
    #[serde(deserialize_with = "de::opt_string")]
    pub notes: Option<String>,
    /// Protected from pruning.
    #[serde(deserialize_with = "de::opt_bool")]
    pub protected: Option<bool>,
    /// Result of the last verification (`ok`, `failed`), if any.
    #[serde(deserialize_with = "de::opt_object")]
    pub verification: Option<serde_json::Value>,
}

/// Node power commands (`POST /nodes/{node}/status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodePower {
    /// Reboot the node.
    Reboot,
    /// Power the node off.
    Shutdown,
}

impl NodePower {
    /// PVE's `command` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reboot => "reboot",
            Self::Shutdown => "shutdown",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_backup_entries_leniently() {
        let raw = r#"[{"volid":"local:backup/vzdump-lxc-105-2026_11_20-01_00_03.tar.zst","content":"backup",
            "format":"tar.zst","size":"123456","ctime":1763600403,"vmid":"105","protected":1,
            "verification":{"state":"ok","upid":"UPID:x"},"subtype":"lxc"}]"#;
        let v: Vec<StorageContent> = serde_json::from_str(raw).unwrap();
        assert_eq!(v[0].vmid, Some(105));
        assert_eq!(v[0].size, Some(123456));
        assert_eq!(v[0].protected, Some(true));
        assert_eq!(v[0].verification.as_ref().unwrap()["state"], "ok");
    }
}
