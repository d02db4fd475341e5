//! PVE task ids (UPIDs): parsing, formatting and where to poll them.
//!
//! A UPID looks like `UPID:node1:000FF1FD:10F9374C:630D702C:vzdump:110:root@pam:`:
//! node, pid, process start and start time (hex), task type, object id (may be empty), user
//! (an API token user looks like `root@pam!jarvis`), and a trailing colon. Very old PVE
//! versions insert one more hex field (a task counter) before the start time; both forms parse.
//! The node inside the UPID is the node that runs the task, and the task's status must be
//! polled on that node (`/nodes/{node}/tasks/{upid}/status`), whichever node started it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A parsed PVE task id. `Display` gives back the exact original string.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Upid {
    raw: String,
    node: String,
    pid: u32,
    pstart: u64,
    starttime: u64,
    kind: String,
    id: String,
    user: String,
}

/// Why a string is not a UPID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a PVE task id (UPID:node:pid:pstart:starttime:type:id:user:): {reason}: {input:?}")]
pub struct UpidParseError {
    input: String,
    reason: &'static str,
}

fn hex_field(s: &str, max_len: usize) -> Option<u64> {
    if s.is_empty() || s.len() > max_len || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u64::from_str_radix(s, 16).ok()
}

impl Upid {
    /// Parses a UPID string.
    pub fn parse(s: &str) -> Result<Self, UpidParseError> {
        let err = |reason| UpidParseError { input: s.chars().take(200).collect(), reason };
        let rest = s.strip_prefix("UPID:").ok_or_else(|| err("missing the UPID: prefix"))?;
        let rest = rest.strip_suffix(':').ok_or_else(|| err("missing the trailing ':'"))?;
        let parts: Vec<&str> = rest.split(':').collect();
        // node:pid:pstart:starttime:type:id:user, or with the old task counter before starttime.
        let (node, pid, pstart, starttime, kind, id, user) = match parts.as_slice() {
            [node, pid, pstart, starttime, kind, id, user] => {
                (*node, *pid, *pstart, *starttime, *kind, *id, *user)
            }
            [node, pid, pstart, _counter, starttime, kind, id, user] => {
                (*node, *pid, *pstart, *starttime, *kind, *id, *user)
            }
            _ => return Err(err("wrong number of fields")),
        };
        if node.is_empty()
            || !node.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_')
        {
            return Err(err("invalid node name"));
        }
        let pid = hex_field(pid, 8)
            .and_then(|p| u32::try_from(p).ok())
            .ok_or_else(|| err("pid is not hex"))?;
        let pstart = hex_field(pstart, 16).ok_or_else(|| err("pstart is not hex"))?;
        let starttime = hex_field(starttime, 16).ok_or_else(|| err("starttime is not hex"))?;
        if kind.is_empty() || user.is_empty() {
            return Err(err("empty task type or user"));
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(err("contains whitespace"));
        }
        Ok(Self {
            raw: s.to_owned(),
            node: node.to_owned(),
            pid,
            pstart,
            starttime,
            kind: kind.to_owned(),
            id: id.to_owned(),
            user: user.to_owned(),
        })
    }

    /// Builds a UPID from its parts, formatted the way PVE does (8-digit upper-case hex).
    /// Returns an error if a part would not parse back (empty node, `:` inside a field, …).
    pub fn new(
        node: &str,
        pid: u32,
        pstart: u64,
        starttime: u64,
        kind: &str,
        id: &str,
        user: &str,
    ) -> Result<Self, UpidParseError> {
        Self::parse(&format!(
            "UPID:{node}:{pid:08X}:{pstart:08X}:{starttime:08X}:{kind}:{id}:{user}:"
        ))
    }

    /// The node that runs the task: poll it there.
    pub fn node(&self) -> &str {
        &self.node
    }
    /// The worker's process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }
    /// The worker's process start time (clock ticks since boot).
    pub fn pstart(&self) -> u64 {
        self.pstart
    }
    /// When the task started (Unix seconds).
    pub fn starttime(&self) -> u64 {
        self.starttime
    }
    /// Task type: `qmstart`, `vzshutdown`, `vzdump`, …
    pub fn kind(&self) -> &str {
        &self.kind
    }
    /// Object id (usually the vmid); may be empty.
    pub fn id(&self) -> &str {
        &self.id
    }
    /// Who started it: `root@pam`, `jarvis@pve!token`, …
    pub fn user(&self) -> &str {
        &self.user
    }
    /// The UPID string exactly as PVE sent it.
    pub fn as_str(&self) -> &str {
        &self.raw
    }
}

impl fmt::Display for Upid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

impl FromStr for Upid {
    type Err = UpidParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for Upid {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.raw)
    }
}

impl<'de> Deserialize<'de> for Upid {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_real_upids() {
        let u = Upid::parse("UPID:node1:000FF1FD:10F9374C:630D702C:vzdump:110:root@pam:").unwrap();
        assert_eq!(
            (u.node(), u.pid(), u.pstart(), u.starttime(), u.kind(), u.id(), u.user()),
            ("node1", 1_044_989, 284_768_076, 1_661_825_068, "vzdump", "110", "root@pam")
        );
        let u = Upid::parse("UPID:node:0017C594:0ADB2769:63EC5455:imgcopy::root@pam:").unwrap();
        assert_eq!(u.id(), "");
        let u = Upid::parse("UPID:Home-Lab:00001234:00005678:5A3B7C8D:vzstart:101:jarvis@pve!ops:")
            .unwrap();
        assert_eq!((u.node(), u.user()), ("Home-Lab", "jarvis@pve!ops"));
        // Old format with a task counter.
        let u = Upid::parse("UPID:n1:00001234:00005678:00000001:5A3B7C8D:qmstart:100:root@pam:")
            .unwrap();
        assert_eq!(u.starttime(), 0x5A3B_7C8D);
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            "",
            "UPID:",
            "UPID:node1:xyz:1:1:t:1:u:",
            "UPID:node1:1:1:1:t:1:u",
            "node1:1:1:1:t:1:u:",
            "UPID::1:1:1:t:1:u:",
            "UPID:n/1:1:1:1:t:1:u:",
        ] {
            assert!(Upid::parse(bad).is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn format_parse_round_trip(
            node in "[a-zA-Z0-9][a-zA-Z0-9-]{0,20}",
            pid in any::<u32>(),
            pstart in 0u64..=0xFF_FFFF_FFFF,
            starttime in 0u64..=0xFFFF_FFFF,
            kind in "[a-z]{1,12}",
            id in "[a-zA-Z0-9._-]{0,12}",
            user in "[a-z]{1,8}@[a-z]{2,6}(![a-z0-9]{1,8})?",
        ) {
            let u = Upid::new(&node, pid, pstart, starttime, &kind, &id, &user).unwrap();
            let back = Upid::parse(&u.to_string()).unwrap();
            prop_assert_eq!(&back, &u);
            prop_assert_eq!(
                (back.node(), back.pid(), back.pstart(), back.starttime(), back.kind(), back.id(), back.user()),
                (node.as_str(), pid, pstart, starttime, kind.as_str(), id.as_str(), user.as_str())
            );
        }

        #[test]
        fn parse_never_panics(s in ".{0,120}") {
            let _ = Upid::parse(&s);
            let _ = Upid::parse(&format!("UPID:{s}:"));
        }
    }
}
