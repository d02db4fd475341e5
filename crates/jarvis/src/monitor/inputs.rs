//! What a tier reads before the machine decides: PVE's task list (once per tier run), the
//! lifecycle actions Jarvis itself ran (from the audit log) and the kill switch.

use chrono::{DateTime, Duration};
use jarvis_domain::monitor::{JarvisAction, TaskInfo};
use jarvis_proxmox::TaskListEntry;

/// How many recent tasks one read asks PVE for.
pub const TASK_LIMIT: u32 = 500;
/// How far back Jarvis's own actions can explain a stop.
pub const ACTION_HORIZON: Duration = Duration::hours(1);

/// A PVE task list entry as the monitor sees it; entries without a UPID, node or start time
/// (which PVE always sends) are skipped.
pub fn task_info(e: &TaskListEntry) -> Option<TaskInfo> {
    let start = DateTime::from_timestamp(i64::try_from(e.starttime?).ok()?, 0)?;
    let end = e.endtime.and_then(|t| DateTime::from_timestamp(i64::try_from(t).ok()?, 0));
    let status = e.status.clone().filter(|s| s != "running");
    Some(TaskInfo {
        upid: e.upid.clone()?,
        node: e.node.clone()?,
        kind: e.kind.clone().unwrap_or_default(),
        id: e.id.clone().unwrap_or_default(),
        user: e.user.clone().unwrap_or_default(),
        start,
        // A finished entry without an end time still finished.
        end: end.or_else(|| status.as_ref().map(|_| start)),
        status,
    })
}

/// The inputs of one evaluation, owned (the machine borrows them).
#[derive(Debug, Default)]
pub struct Reads {
    /// The task list, when the tier read it and the read worked.
    pub tasks: Option<Vec<TaskInfo>>,
    /// Jarvis's recent lifecycle actions.
    pub actions: Vec<JarvisAction>,
    /// The kill switch.
    pub kill_switch: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(status: Option<&str>, end: Option<u64>) -> TaskListEntry {
        TaskListEntry {
            upid: Some("UPID:pve1:00001234:00000001:6500AAAA:qmstop:101:root@pam:".into()),
            node: Some("pve1".into()),
            kind: Some("qmstop".into()),
            id: Some("101".into()),
            user: Some("root@pam".into()),
            status: status.map(str::to_owned),
            starttime: Some(1_700_000_000),
            endtime: end,
            pid: None,
            pstart: None,
        }
    }

    #[test]
    fn running_and_finished_entries_map_to_task_info() {
        let running = task_info(&entry(Some("running"), None)).unwrap();
        assert!(running.running());
        assert_eq!(running.vmid(), Some(101));
        let done = task_info(&entry(Some("OK"), Some(1_700_000_004))).unwrap();
        assert_eq!(done.succeeded(), Some(true));
        assert_eq!(done.end.unwrap().timestamp(), 1_700_000_004);
        let no_end = task_info(&entry(Some("job errors"), None)).unwrap();
        assert_eq!(no_end.succeeded(), Some(false));
        assert!(!no_end.running(), "a status means it finished, end time or not");
        let mut broken = entry(None, None);
        broken.starttime = None;
        assert!(task_info(&broken).is_none());
    }
}
