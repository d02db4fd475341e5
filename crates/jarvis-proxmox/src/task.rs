//! PVE task models: the status of one task and entries of the task lists, plus the rule for
//! deciding whether a finished task succeeded.

use serde::{Deserialize, Serialize};

use crate::de;

/// Whether a finished task's exit status means success. Follows PVE's own rule
/// (`PVE::Tools::upid_status_is_error`): `OK` and `WARNINGS: <n>` are successes (the task
/// completed, with warnings in its log); anything else is the error text.
pub fn exitstatus_is_ok(exitstatus: &str) -> bool {
    let s = exitstatus.trim();
    s == "OK"
        || s.strip_prefix("WARNINGS: ")
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// `GET /nodes/{node}/tasks/{upid}/status`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TaskStatus {
    /// `running` or `stopped`.
    #[serde(deserialize_with = "de::opt_string")]
    pub status: Option<String>,
    /// When stopped: `OK`, `WARNINGS: n`, or the error text.
    #[serde(deserialize_with = "de::opt_string")]
    pub exitstatus: Option<String>,
    /// Task type (`qmstart`, `vzdump`, …).
    #[serde(rename = "type", deserialize_with = "de::opt_string")]
    pub kind: Option<String>,
    /// Object id (usually the vmid).
    #[serde(deserialize_with = "de::opt_string")]
    pub id: Option<String>,
    /// Node running the task.
    #[serde(deserialize_with = "de::opt_string")]
    pub node: Option<String>,
    /// Worker PID.
    #[serde(deserialize_with = "de::opt_u64")]
    pub pid: Option<u64>,
    /// Worker process start (clock ticks).
    #[serde(deserialize_with = "de::opt_u64")]
    pub pstart: Option<u64>,
    /// Start time, Unix seconds.
    #[serde(deserialize_with = "de::opt_u64")]
    pub starttime: Option<u64>,
    /// End time, Unix seconds (newer PVE, when stopped).
    #[serde(deserialize_with = "de::opt_u64")]
    pub endtime: Option<u64>,
    /// The task's UPID.
    #[serde(deserialize_with = "de::opt_string")]
    pub upid: Option<String>,
    /// Who started it.
    #[serde(deserialize_with = "de::opt_string")]
    pub user: Option<String>,
}

impl TaskStatus {
    /// Still running.
    pub fn is_running(&self) -> bool {
        self.status.as_deref() == Some("running")
    }

    /// Finished. PVE says `stopped`; anything that is not `running` is treated as finished.
    pub fn is_finished(&self) -> bool {
        !self.is_running()
    }

    /// `Some(true)` finished successfully, `Some(false)` finished with an error, `None` still
    /// running. A stopped task without an exit status counts as failed (PVE always sets it).
    pub fn succeeded(&self) -> Option<bool> {
        if self.is_running() {
            return None;
        }
        Some(self.exitstatus.as_deref().is_some_and(exitstatus_is_ok))
    }
}

/// One entry of `GET /cluster/tasks` or `GET /nodes/{node}/tasks`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TaskListEntry {
    /// The task's UPID.
    #[serde(deserialize_with = "de::opt_string")]
    pub upid: Option<String>,
    /// Node running the task.
    #[serde(deserialize_with = "de::opt_string")]
    pub node: Option<String>,
    /// Task type.
    #[serde(rename = "type", deserialize_with = "de::opt_string")]
    pub kind: Option<String>,
    /// Object id.
    #[serde(deserialize_with = "de::opt_string")]
    pub id: Option<String>,
    /// Who started it.
    #[serde(deserialize_with = "de::opt_string")]
    pub user: Option<String>,
    /// End status (`OK`, `WARNINGS: n`, error text); absent or `running` while running.
    #[serde(deserialize_with = "de::opt_string")]
    pub status: Option<String>,
    /// Start time, Unix seconds.
    #[serde(deserialize_with = "de::opt_u64")]
    pub starttime: Option<u64>,
    /// End time, Unix seconds.
    #[serde(deserialize_with = "de::opt_u64")]
    pub endtime: Option<u64>,
    /// Worker PID.
    #[serde(deserialize_with = "de::opt_u64")]
    pub pid: Option<u64>,
    /// Worker process start.
    #[serde(deserialize_with = "de::opt_u64")]
    pub pstart: Option<u64>,
}

impl TaskListEntry {
    /// Still running (no end status yet, or PVE says `running`).
    pub fn is_running(&self) -> bool {
        self.endtime.is_none() && matches!(self.status.as_deref(), None | Some("running"))
    }

    /// `Some(true)`/`Some(false)` for finished tasks, `None` while running.
    pub fn succeeded(&self) -> Option<bool> {
        if self.is_running() {
            return None;
        }
        Some(self.status.as_deref().is_some_and(exitstatus_is_ok))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_status_rule_matches_pve() {
        assert!(exitstatus_is_ok("OK"));
        assert!(exitstatus_is_ok("WARNINGS: 2"));
        assert!(!exitstatus_is_ok("WARNINGS: "));
        assert!(!exitstatus_is_ok("interrupted by signal"));
        assert!(!exitstatus_is_ok("command 'qm start 100' failed: exit code 1"));
    }

    #[test]
    fn running_and_finished() {
        let t: TaskStatus = serde_json::from_str(r#"{"status":"running","pid":"12"}"#).unwrap();
        assert_eq!((t.is_running(), t.succeeded(), t.pid), (true, None, Some(12)));
        let t: TaskStatus =
            serde_json::from_str(r#"{"status":"stopped","exitstatus":"OK"}"#).unwrap();
        assert_eq!(t.succeeded(), Some(true));
        let t: TaskStatus = serde_json::from_str(r#"{"status":"stopped"}"#).unwrap();
        assert_eq!(t.succeeded(), Some(false));
    }
}
