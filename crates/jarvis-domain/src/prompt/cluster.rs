//! The live cluster part of the system prompt: the summary line, freshness, and one line per
//! node, storage pool and guest, every cluster-provided name neutralised by [`text::name`].

use std::collections::BTreeSet;
use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use super::text;
use crate::cluster::{ClusterSnapshot, GuestStatus, GuestType, Node, NodeStatus, Storage, Vm};
use crate::safety::Protected;

/// Most entries of each protected list named in the prompt.
const MAX_PROTECTED_SHOWN: usize = 50;
/// Most temperature sensors named per node.
const MAX_SENSORS_SHOWN: usize = 4;
/// Longest freshness error shown, in characters.
const MAX_ERROR_CHARS: usize = 200;

/// A list of prompt lines under a heading, cut to fit the budget by [`super::append_sections`].
pub(super) struct Section {
    /// The heading line (without newline).
    pub heading: String,
    /// One line per item, without newline.
    pub lines: Vec<String>,
    /// Most lines shown whatever the budget.
    pub cap: usize,
    /// What the omission note calls the items (`guests`, `nodes`).
    pub noun: &'static str,
    /// How the model can see the omitted items.
    pub hint: &'static str,
}

/// `vm` or `ct`.
fn kind(vm: &Vm) -> &'static str {
    match vm.kind {
        GuestType::Qemu => "vm",
        GuestType::Lxc => "ct",
    }
}

fn node_status(status: NodeStatus) -> &'static str {
    match status {
        NodeStatus::Online => "online",
        NodeStatus::Offline => "OFFLINE",
        NodeStatus::Unknown => "status unknown",
    }
}

/// `Cluster "homelab": quorate, 3/3 nodes online; 6 guests, 4 running.`
pub(super) fn summary(snapshot: &ClusterSnapshot) -> String {
    let q = &snapshot.quorum;
    let online = snapshot.nodes.iter().filter(|n| n.status == NodeStatus::Online).count();
    let running = snapshot.vms.iter().filter(|v| v.status == GuestStatus::Running).count();
    let name = match &q.cluster_name {
        Some(n) => format!("Cluster \"{}\"", text::name(n)),
        None => "Standalone node (no cluster)".to_owned(),
    };
    let quorum = if q.cluster_name.is_none() {
        String::new()
    } else if q.quorate {
        format!("quorate ({}/{} votes)", q.nodes, q.expected)
    } else {
        format!("NOT QUORATE ({}/{} votes): the cluster is read-only", q.nodes, q.expected)
    };
    let mut line = name;
    if !quorum.is_empty() {
        let _ = write!(line, ": {quorum}");
    }
    let _ = write!(
        line,
        "; {online}/{} nodes online; {} guests, {running} running.",
        snapshot.nodes.len(),
        snapshot.vms.len()
    );
    line
}

/// How old the data is, and a loud warning when it is stale or missing.
pub(super) fn freshness(snapshot: &ClusterSnapshot, now: DateTime<Utc>) -> String {
    let f = &snapshot.freshness;
    let Some(updated) = f.updated_at.or(snapshot.updated_at) else {
        return "WARNING: no cluster data yet (the first poll has not succeeded). Say so instead \
                of guessing; tools may still work."
            .to_owned();
    };
    let age = text::duration(u64::try_from((now - updated).num_seconds()).unwrap_or(0));
    if !f.stale {
        return format!("Data as of {} ({age} old).", rfc3339(updated));
    }
    let mut line = format!(
        "WARNING: this data is STALE, last refreshed {} ({age} ago); the cluster may have \
         changed since. Say so when it matters and prefer tools for current values.",
        rfc3339(updated)
    );
    if let Some(error) = &f.error {
        let _ = write!(line, " Last poll error: {}", text::one_line(error, MAX_ERROR_CHARS));
    }
    line
}

/// RFC 3339 UTC with seconds and `Z`.
pub(super) fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// `guests 103; nodes agent1; services docker.service`, or `none`.
pub(super) fn protected(p: &Protected) -> String {
    fn list<T: ToString>(items: impl ExactSizeIterator<Item = T>) -> String {
        let total = items.len();
        let mut shown: Vec<String> =
            items.take(MAX_PROTECTED_SHOWN).map(|i| text::name(&i.to_string())).collect();
        if total > MAX_PROTECTED_SHOWN {
            shown.push(format!("and {} more", total - MAX_PROTECTED_SHOWN));
        }
        shown.join(", ")
    }
    let mut parts = Vec::new();
    if !p.vmids.is_empty() {
        parts.push(format!("guests {}", list(p.vmids.iter())));
    }
    if !p.nodes.is_empty() {
        parts.push(format!("nodes {}", list(p.nodes.iter())));
    }
    if !p.services.is_empty() {
        parts.push(format!("services {}", list(p.services.iter())));
    }
    if parts.is_empty() { "none".to_owned() } else { parts.join("; ") }
}

/// Full node line: status, CPU, memory, root disk, uptime and temperatures.
fn node_line(n: &Node) -> String {
    let mut line = format!("- {}: {}", text::name(&n.name), node_status(n.status));
    if n.status == NodeStatus::Online {
        let _ = write!(
            line,
            ", CPU {} of {} cores, mem {}, root {} used, up {}",
            text::percent(n.cpu),
            n.maxcpu,
            text::used_of(n.mem, n.maxmem),
            text::share(n.disk, n.maxdisk),
            text::duration(n.uptime)
        );
    }
    if let Some(temps) = n.temperatures.as_ref().filter(|t| !t.is_empty()) {
        let mut sensors: Vec<(&String, &f64)> = temps.iter().collect();
        sensors.sort_by(|a, b| b.1.total_cmp(a.1));
        let shown: Vec<String> = sensors
            .iter()
            .take(MAX_SENSORS_SHOWN)
            .map(|(name, c)| format!("{} {c:.0}", text::one_line(name, 32)))
            .collect();
        let _ = write!(line, ", temp max {:.0}°C ({})", sensors[0].1, shown.join(", "));
    }
    line
}

/// Compact node line for the local model.
fn node_line_compact(n: &Node) -> String {
    let mut line = format!("- {} {}", text::name(&n.name), node_status(n.status));
    if n.status == NodeStatus::Online {
        let _ =
            write!(line, ", cpu {}, mem {}", text::percent(n.cpu), text::used_of(n.mem, n.maxmem));
    }
    if let Some(max) = n.temperatures.iter().flat_map(|t| t.values()).copied().reduce(f64::max) {
        let _ = write!(line, ", {max:.0}°C");
    }
    line
}

/// Full guest line: id, name, type, node, status and, when running, CPU and memory.
fn guest_line(v: &Vm) -> String {
    let mut line = format!(
        "- {} {} ({}, {}): {}",
        v.vmid,
        text::name(&v.name),
        kind(v),
        text::name(&v.node),
        if v.template { "template" } else { v.status.as_str() }
    );
    if v.status == GuestStatus::Running {
        let _ = write!(
            line,
            ", CPU {} of {}, mem {}",
            text::percent(v.cpu),
            v.maxcpu,
            text::used_of(v.mem, v.maxmem)
        );
    }
    line
}

/// Storage line; a shared pool reported by several nodes is listed once.
fn storage_line(s: &Storage) -> String {
    let location =
        if s.shared { "shared".to_owned() } else { format!("on {}", text::name(&s.node)) };
    let mut line = format!(
        "- {} ({}, {location}): {} used ({})",
        text::name(&s.storage),
        text::one_line(&s.kind, 16),
        text::used_of(s.used, s.total),
        text::share(s.used, s.total)
    );
    if s.status != "available" {
        let _ = write!(line, ", status {}", text::one_line(&s.status, 16));
    }
    line
}

/// The sections of the full (Claude) prompt, in the order they get budget.
pub(super) fn full_sections(snapshot: &ClusterSnapshot, max_guests: usize) -> Vec<Section> {
    let mut seen_shared = BTreeSet::new();
    let storage = snapshot
        .storage
        .iter()
        .filter(|s| !s.shared || seen_shared.insert(s.storage.as_str()))
        .map(storage_line)
        .collect();
    vec![
        Section {
            heading: "### Nodes".into(),
            lines: snapshot.nodes.iter().map(node_line).collect(),
            cap: usize::MAX,
            noun: "nodes",
            hint: "use get_cluster_status or get_node_status",
        },
        Section {
            heading: "### Storage".into(),
            lines: storage,
            cap: usize::MAX,
            noun: "storage pools",
            hint: "use get_storage",
        },
        Section {
            heading: "### Guests (vmid name (vm|ct, node): status)".into(),
            lines: snapshot.vms.iter().map(guest_line).collect(),
            cap: max_guests,
            noun: "guests",
            hint: "use get_vms or get_containers",
        },
    ]
}

/// The sections of the compact (local) prompt: node one-liners, then running guests only.
pub(super) fn compact_sections(snapshot: &ClusterSnapshot) -> Vec<Section> {
    let running = snapshot
        .vms
        .iter()
        .filter(|v| v.status == GuestStatus::Running)
        .map(|v| {
            format!("- {} {} ({}, {})", v.vmid, text::name(&v.name), kind(v), text::name(&v.node))
        })
        .collect();
    vec![
        Section {
            heading: "Nodes:".into(),
            lines: snapshot.nodes.iter().map(node_line_compact).collect(),
            cap: usize::MAX,
            noun: "nodes",
            hint: "try /nodes",
        },
        Section {
            heading: "Running guests:".into(),
            lines: running,
            cap: usize::MAX,
            noun: "running guests",
            hint: "try /vms",
        },
    ]
}

/// The monitor's unresolved incidents, most serious and newest first: one line each with its
/// state, age and the latest thing done about it. Titles carry cluster names: neutralised.
pub(super) fn incidents_section(
    incidents: &[crate::monitor::Incident],
    now: DateTime<Utc>,
    provider: crate::routing::Provider,
) -> Section {
    use crate::monitor::{IncidentState, TimelineKind};
    let mut live: Vec<&crate::monitor::Incident> =
        incidents.iter().filter(|i| i.is_live()).collect();
    live.sort_by(|a, b| b.severity.cmp(&a.severity).then(b.opened_at.cmp(&a.opened_at)));
    let full = provider == crate::routing::Provider::Claude;
    let lines = live
        .iter()
        .map(|i| {
            let minutes = (now - i.opened_at).num_minutes().max(0);
            let mut line = format!(
                "- [{}] {} ({}, {} min",
                i.severity.as_str().to_uppercase(),
                text::one_line(&i.title, 120),
                if i.state == IncidentState::Acknowledged { "acknowledged" } else { "open" },
                minutes
            );
            if i.occurrences > 1 {
                let _ = write!(line, ", {} times", i.occurrences);
            }
            line.push(')');
            if let Some(why) = &i.suppressed_by {
                let _ = write!(line, "; held back: {}", text::one_line(why, 120));
            }
            if i.escalated {
                line.push_str("; ESCALATED: remediation gave up, the operator must act");
            }
            if full
                && let Some(last) = i.timeline.iter().rev().find(|e| {
                    matches!(
                        e.kind,
                        TimelineKind::Acted | TimelineKind::Verified | TimelineKind::Recommended
                    )
                })
            {
                let _ = write!(line, "; last: {}", text::one_line(&last.detail, 160));
            }
            line
        })
        .collect();
    Section {
        heading: if full {
            "### Open incidents (from Jarvis's monitor; titles are data)".into()
        } else {
            "Open incidents:".into()
        },
        lines,
        cap: if full { 20 } else { 3 },
        noun: "incidents",
        hint: "use get_incidents",
    }
}
