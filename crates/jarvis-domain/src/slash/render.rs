//! Short markdown answers for tool results, one shape per tool (the shapes the server's executors
//! build). Anything unexpected falls back to a compact JSON code block, so a renderer can never
//! hide a result. Text from the cluster is neutralised and markdown-escaped.

use std::fmt::Write as _;

use chrono::DateTime;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::cluster::{Freshness, GuestStatus, GuestType, Node, NodeStatus, Quorum, Storage, Vm};
use crate::prompt::text;
use crate::tools::ToolDef as _;
use crate::tools::defs as d;

/// Most table rows or list items shown.
const MAX_ROWS: usize = 100;
/// Longest JSON fallback or command output shown, in bytes.
const MAX_BLOCK_BYTES: usize = 3_000;

/// A short markdown answer for `tool`'s `result`.
pub fn render_result(tool: &str, result: &Value) -> String {
    render_filtered(tool, result, None)
}

/// Like [`render_result`], showing only guests that match `filter` in guest lists.
pub(super) fn render_filtered(tool: &str, result: &Value, filter: Option<&str>) -> String {
    let rendered = match tool {
        d::GetClusterStatus::NAME => typed(result, cluster_status),
        d::GetClusterResources::NAME => typed(result, |r: Resources| resources(r, filter)),
        d::GetVms::NAME | d::GetContainers::NAME => {
            typed(result, |vms: Vec<Vm>| guests(&vms, filter))
        }
        d::GetStorage::NAME => typed(result, |s: Vec<Storage>| storage(&s)),
        d::GetNodeStatus::NAME => result.as_object().map(node_details),
        d::GetNodeTemperature::NAME => typed(result, temperatures),
        d::GetRecentTasks::NAME => typed(result, |t: Vec<Task>| tasks(&t)),
        d::GetEvents::NAME => typed(result, |e: Events| events(&e.events)),
        d::GetGuestConfig::NAME => result.as_object().map(guest_config),
        d::WakeNode::NAME => typed(result, |w: Wake| {
            format!("Wake-on-LAN sent to **{}** ({}).", md(&w.node), md(&w.mac))
        }),
        d::RestartService::NAME => typed(result, service),
        d::ExecuteSsh::NAME => typed(result, ssh),
        d::StartVm::NAME
        | d::StartContainer::NAME
        | d::StopVm::NAME
        | d::StopContainer::NAME
        | d::ShutdownVm::NAME
        | d::ShutdownContainer::NAME
        | d::RestartVm::NAME
        | d::RestartContainer::NAME => typed(result, lifecycle),
        _ => None,
    };
    rendered.unwrap_or_else(|| json_block(result))
}

/// Renders a result of a known shape, or `None` when it does not have that shape.
fn typed<T: DeserializeOwned>(result: &Value, f: impl FnOnce(T) -> String) -> Option<String> {
    T::deserialize(result).ok().map(f)
}

/// A compact JSON code block, capped.
fn json_block(result: &Value) -> String {
    let mut s = result.to_string();
    if s.len() > MAX_BLOCK_BYTES {
        s.truncate(s.floor_char_boundary(MAX_BLOCK_BYTES));
        s.push('…');
    }
    fenced("json", &s)
}

/// A code block whose fence is longer than any backtick run inside.
fn fenced(lang: &str, body: &str) -> String {
    let longest = body.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    format!("{fence}{lang}\n{}\n{fence}", body.trim_end())
}

/// A name from the cluster for markdown: one line, capped, markdown characters escaped.
fn md(raw: &str) -> String {
    escape(&text::name(raw))
}

/// Longer cluster text (titles, errors) for markdown: one line of at most `max` characters.
fn md_long(raw: &str, max: usize) -> String {
    escape(&text::one_line(raw, max))
}

fn escape(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    for c in line.chars() {
        if "\\`*_[]<>|#~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn node_status(status: NodeStatus) -> &'static str {
    match status {
        NodeStatus::Online => "online",
        NodeStatus::Offline => "**offline**",
        NodeStatus::Unknown => "unknown",
    }
}

fn kind(k: GuestType) -> &'static str {
    match k {
        GuestType::Qemu => "VM",
        GuestType::Lxc => "CT",
    }
}

fn more(out: &mut String, total: usize, hint: &str) {
    if total > MAX_ROWS {
        let _ = writeln!(out, "\n… and {} more{hint}.", total - MAX_ROWS);
    }
}

#[derive(Deserialize)]
struct StatusNode {
    name: String,
    status: NodeStatus,
    cpu: f64,
    mem: u64,
    maxmem: u64,
    uptime: u64,
}

#[derive(Deserialize)]
struct Guests {
    total: usize,
    running: usize,
}

#[derive(Deserialize)]
struct ClusterStatus {
    quorum: Quorum,
    nodes: Vec<StatusNode>,
    guests: Guests,
    freshness: Freshness,
}

fn cluster_status(s: ClusterStatus) -> String {
    let q = &s.quorum;
    let mut out = match &q.cluster_name {
        Some(name) if q.quorate => {
            format!("**Cluster {}**: quorate ({}/{} votes)", md(name), q.nodes, q.expected)
        }
        Some(name) => format!(
            "**Cluster {}**: **not quorate** ({}/{} votes), the cluster is read-only",
            md(name),
            q.nodes,
            q.expected
        ),
        None => "**Standalone node**".to_owned(),
    };
    let _ = writeln!(out, " · {} guests, {} running", s.guests.total, s.guests.running);
    if s.freshness.stale {
        let when = s
            .freshness
            .updated_at
            .map_or("never".to_owned(), |t| t.format("%F %T UTC").to_string());
        let _ = write!(out, "\n**Warning:** this data is stale (last refreshed {when})");
        if let Some(e) = &s.freshness.error {
            let _ = write!(out, ": {}", md_long(e, 200));
        }
        out.push('\n');
    }
    out.push_str("\n| Node | Status | CPU | Memory | Uptime |\n|---|---|---|---|---|\n");
    for n in s.nodes.iter().take(MAX_ROWS) {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            md(&n.name),
            node_status(n.status),
            text::percent(n.cpu),
            text::used_of(n.mem, n.maxmem),
            text::duration(n.uptime)
        );
    }
    more(&mut out, s.nodes.len(), " nodes");
    out
}

#[derive(Deserialize)]
struct Resources {
    nodes: Option<Vec<Node>>,
    vms: Option<Vec<Vm>>,
    storage: Option<Vec<Storage>>,
}

fn resources(r: Resources, filter: Option<&str>) -> String {
    let mut parts = Vec::new();
    if let Some(n) = &r.nodes {
        parts.push(nodes(n));
    }
    if let Some(v) = &r.vms {
        parts.push(guests(v, filter));
    }
    if let Some(s) = &r.storage {
        parts.push(storage(s));
    }
    parts.join("\n")
}

fn nodes(nodes: &[Node]) -> String {
    if nodes.is_empty() {
        return "No nodes known yet.".to_owned();
    }
    let mut out = String::from(
        "| Node | Status | CPU | Memory | Root disk | Uptime | Temp |\n|---|---|---|---|---|---|---|\n",
    );
    for n in nodes.iter().take(MAX_ROWS) {
        let temp = n
            .temperatures
            .iter()
            .flat_map(|t| t.values())
            .copied()
            .reduce(f64::max)
            .map_or("–".to_owned(), |t| format!("{t:.0} °C"));
        let _ = writeln!(
            out,
            "| {} | {} | {} of {} | {} | {} | {} | {temp} |",
            md(&n.name),
            node_status(n.status),
            text::percent(n.cpu),
            n.maxcpu,
            text::used_of(n.mem, n.maxmem),
            text::share(n.disk, n.maxdisk),
            text::duration(n.uptime)
        );
    }
    more(&mut out, nodes.len(), " nodes");
    out
}

/// Whether a guest matches a `/vms` filter: its exact id, or (ignoring case) its node, status,
/// type (`vm`, `qemu`, `ct`, `lxc`, `container`) or a part of its name.
fn matches(vm: &Vm, filter: &str) -> bool {
    let f = filter.to_lowercase();
    if let Ok(id) = f.parse::<u32>() {
        return vm.vmid == id;
    }
    let type_word = match vm.kind {
        GuestType::Qemu => ["vm", "vms", "qemu"].contains(&f.as_str()),
        GuestType::Lxc => ["ct", "cts", "lxc", "container", "containers"].contains(&f.as_str()),
    };
    type_word
        || vm.node.to_lowercase() == f
        || vm.status.as_str() == f
        || vm.name.to_lowercase().contains(&f)
}

fn guests(all: &[Vm], filter: Option<&str>) -> String {
    let list: Vec<&Vm> = all.iter().filter(|v| filter.is_none_or(|f| matches(v, f))).collect();
    match (list.as_slice(), filter) {
        ([], Some(f)) => return format!("No guests match `{}`.", md(f)),
        ([], None) => return "No guests in the cluster.".to_owned(),
        ([one], Some(_)) => return guest_detail(one),
        _ => {}
    }
    let running = list.iter().filter(|v| v.status == GuestStatus::Running).count();
    let mut out = format!("**{} guests**, {running} running\n\n", list.len());
    out.push_str(
        "| ID | Name | Type | Node | Status | CPU | Memory |\n|---|---|---|---|---|---|---|\n",
    );
    for v in list.iter().take(MAX_ROWS) {
        let running = v.status == GuestStatus::Running;
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            v.vmid,
            md(&v.name),
            kind(v.kind),
            md(&v.node),
            if v.template { "template" } else { v.status.as_str() },
            if running { text::percent(v.cpu) } else { "–".into() },
            if running { text::used_of(v.mem, v.maxmem) } else { text::bytes(v.maxmem) },
        );
    }
    more(&mut out, list.len(), "; narrow it with /vms <filter>");
    out
}

fn guest_detail(v: &Vm) -> String {
    let mut out = format!(
        "**{} {}** ({} on {})\n",
        v.vmid,
        md(&v.name),
        if v.kind == GuestType::Qemu { "VM" } else { "container" },
        md(&v.node)
    );
    let status = if v.template { "template" } else { v.status.as_str() };
    if v.status == GuestStatus::Running {
        let _ = writeln!(out, "- Status: {status}, up {}", text::duration(v.uptime));
        let _ = writeln!(out, "- CPU: {} of {} cores", text::percent(v.cpu), v.maxcpu);
        let _ = writeln!(out, "- Memory: {}", text::used_of(v.mem, v.maxmem));
    } else {
        let _ = writeln!(out, "- Status: {status}");
        let _ = writeln!(out, "- Size: {} cores, {} memory", v.maxcpu, text::bytes(v.maxmem));
    }
    let _ = writeln!(out, "- Disk: {}", text::bytes(v.maxdisk));
    if !v.tags.is_empty() {
        let tags: Vec<String> = v.tags.iter().take(20).map(|t| md(t)).collect();
        let _ = writeln!(out, "- Tags: {}", tags.join(", "));
    }
    out
}

fn storage(pools: &[Storage]) -> String {
    if pools.is_empty() {
        return "No storage reported.".to_owned();
    }
    let mut out = String::from(
        "| Storage | Node | Type | Used | Usage | Status |\n|---|---|---|---|---|---|\n",
    );
    for s in pools.iter().take(MAX_ROWS) {
        let _ = writeln!(
            out,
            "| {} | {}{} | {} | {} | {} | {} |",
            md(&s.storage),
            md(&s.node),
            if s.shared { " (shared)" } else { "" },
            md(&s.kind),
            text::used_of(s.used, s.total),
            text::share(s.used, s.total),
            md(&s.status)
        );
    }
    more(&mut out, pools.len(), " entries");
    out
}

fn usage_line(label: &str, usage: Option<&Value>, out: &mut String) {
    let get = |k: &str| usage.and_then(|u| u.get(k)).and_then(Value::as_u64);
    if let (Some(used), Some(total)) = (get("used"), get("total")) {
        let _ = writeln!(
            out,
            "- {label}: {} ({})",
            text::used_of(used, total),
            text::share(used, total)
        );
    }
}

fn node_details(s: &Map<String, Value>) -> String {
    let mut out = String::from("**Node status**\n");
    if let Some(cpu) = s.get("cpu").and_then(Value::as_f64) {
        let model = s.get("cpuinfo").and_then(|c| c.get("model")).and_then(Value::as_str);
        let cpus = s.get("cpuinfo").and_then(|c| c.get("cpus")).and_then(Value::as_u64);
        let _ = write!(out, "- CPU: {}", text::percent(cpu));
        if let Some(cpus) = cpus {
            let _ = write!(out, " of {cpus} threads");
        }
        if let Some(model) = model {
            let _ = write!(out, " ({})", md_long(model, 80));
        }
        out.push('\n');
    }
    if let Some(load) = s.get("loadavg").and_then(Value::as_array).filter(|l| !l.is_empty()) {
        let load: Vec<String> =
            load.iter().filter_map(Value::as_f64).map(|l| format!("{l:.2}")).collect();
        let _ = writeln!(out, "- Load: {}", load.join(" / "));
    }
    usage_line("Memory", s.get("memory"), &mut out);
    usage_line("Swap", s.get("swap"), &mut out);
    usage_line("Root disk", s.get("rootfs"), &mut out);
    if let Some(up) = s.get("uptime").and_then(Value::as_u64) {
        let _ = writeln!(out, "- Uptime: {}", text::duration(up));
    }
    for (key, label) in [("pveversion", "PVE"), ("kversion", "Kernel")] {
        if let Some(v) = s.get(key).and_then(Value::as_str) {
            let _ = writeln!(out, "- {label}: {}", md_long(v, 120));
        }
    }
    out
}

#[derive(Deserialize)]
struct Temperatures {
    node: String,
    zones: std::collections::BTreeMap<String, f64>,
}

fn temperatures(t: Temperatures) -> String {
    if t.zones.is_empty() {
        return format!("No temperature sensors reported on **{}**.", md(&t.node));
    }
    let mut out = format!("**Temperatures on {}**\n", md(&t.node));
    for (sensor, celsius) in t.zones.iter().take(MAX_ROWS) {
        let _ = writeln!(out, "- {}: {celsius:.1} °C", md(sensor));
    }
    out
}

#[derive(Deserialize)]
struct Task {
    node: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    id: Option<String>,
    user: Option<String>,
    status: Option<String>,
    starttime: Option<i64>,
}

fn tasks(list: &[Task]) -> String {
    if list.is_empty() {
        return "No recent tasks.".to_owned();
    }
    let mut out = String::from(
        "| Started (UTC) | Node | Task | ID | User | Status |\n|---|---|---|---|---|---|\n",
    );
    let cell = |v: &Option<String>| v.as_deref().map_or("–".to_owned(), md);
    for t in list.iter().take(MAX_ROWS) {
        let started = t
            .starttime
            .and_then(|s| DateTime::from_timestamp(s, 0))
            .map_or("–".to_owned(), |d| d.format("%F %R").to_string());
        let status = t.status.as_deref().map_or("running".to_owned(), md);
        let _ = writeln!(
            out,
            "| {started} | {} | {} | {} | {} | {status} |",
            cell(&t.node),
            cell(&t.kind),
            cell(&t.id),
            cell(&t.user)
        );
    }
    more(&mut out, list.len(), " tasks");
    out
}

#[derive(Deserialize)]
struct Events {
    events: Vec<Event>,
}

#[derive(Deserialize)]
struct Event {
    #[serde(rename = "type")]
    kind: String,
    severity: String,
    title: String,
    node: Option<String>,
    timestamp: DateTime<chrono::Utc>,
    resolved: bool,
}

fn events(list: &[Event]) -> String {
    if list.is_empty() {
        return "No events.".to_owned();
    }
    let mut out = String::new();
    for e in list.iter().take(MAX_ROWS) {
        let _ = write!(
            out,
            "- {} **{}** {}",
            e.timestamp.format("%F %R"),
            md(&e.severity),
            md(&e.kind)
        );
        if let Some(node) = &e.node {
            let _ = write!(out, " on {}", md(node));
        }
        let _ = write!(out, ": {}", md_long(&e.title, 160));
        out.push_str(if e.resolved { " (resolved)\n" } else { "\n" });
    }
    more(&mut out, list.len(), " events");
    out
}

fn guest_config(config: &Map<String, Value>) -> String {
    let mut out = String::from("**Guest configuration**\n");
    let shown = config.iter().filter(|(k, _)| k.as_str() != "digest");
    for (key, value) in shown.clone().take(MAX_ROWS) {
        let value = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let _ = writeln!(out, "- {}: `{}`", md(key), text::one_line(&value, 160).replace('`', "'"));
    }
    more(&mut out, shown.count(), " settings");
    out
}

#[derive(Deserialize)]
struct Wake {
    node: String,
    mac: String,
}

#[derive(Deserialize)]
struct Service {
    node: String,
    service: String,
    success: bool,
    status: String,
}

fn service(s: Service) -> String {
    if s.success {
        format!("Restarted **{}** on **{}**; it is active.", md(&s.service), md(&s.node))
    } else {
        format!(
            "Restarted **{}** on **{}**, but it is now `{}`.",
            md(&s.service),
            md(&s.node),
            text::one_line(&s.status, 40).replace('`', "'")
        )
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Ssh {
    node: String,
    command: String,
    exit_code: Option<i64>,
    stdout: String,
    stderr: String,
    truncated: bool,
}

fn ssh(s: Ssh) -> String {
    let exit = s.exit_code.map_or("no exit code".to_owned(), |c| format!("exit {c}"));
    let mut out = format!(
        "`{}` on **{}** ({exit})",
        text::one_line(&s.command, 200).replace('`', "'"),
        md(&s.node)
    );
    for stream in [&s.stdout, &s.stderr].into_iter().filter(|t| !t.trim().is_empty()) {
        let mut body = stream.clone();
        if body.len() > MAX_BLOCK_BYTES {
            body.truncate(body.floor_char_boundary(MAX_BLOCK_BYTES));
            body.push('…');
        }
        let _ = write!(out, "\n\n{}", fenced("text", &body));
    }
    if s.truncated {
        out.push_str("\n\n(output truncated)");
    }
    out
}

#[derive(Deserialize)]
struct Lifecycle {
    node: String,
    vmid: u32,
    action: String,
    status: String,
}

fn lifecycle(l: Lifecycle) -> String {
    let done = match l.action.as_str() {
        "start" => "Started",
        "stop" => "Stopped",
        "shutdown" => "Shut down",
        "reboot" => "Rebooted",
        _ => "",
    };
    let ok = l.status == "OK" || l.status.starts_with("WARNINGS");
    match (done, ok) {
        ("", _) => format!(
            "{} of guest {} on **{}**: {}",
            md(&l.action),
            l.vmid,
            md(&l.node),
            md(&l.status)
        ),
        (done, true) => {
            format!("{done} guest **{}** on **{}** (task {}).", l.vmid, md(&l.node), md(&l.status))
        }
        (_, false) => format!(
            "The {} task for guest **{}** on **{}** failed: {}",
            md(&l.action),
            l.vmid,
            md(&l.node),
            md_long(&l.status, 200)
        ),
    }
}
