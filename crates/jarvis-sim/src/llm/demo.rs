//! The demo responder: answers whatever the operator types with a plausible reply computed from
//! the request alone (no script), for `jarvis demo --scripted-llm` and the browser tests.
//!
//! The rules are documented on [`DemoResponder`]; `request` reads the wire formats.

use std::time::Duration;

use serde_json::{Value, json};

use super::Api;
use super::request::{RequestView, ToolResult};
use super::script::{Answer, DEFAULT_CHUNK_SIZE, ToolCall};

/// Pause between text chunks of [`DemoResponder::default`], so streaming is visible in the UI.
pub const DEMO_CHUNK_DELAY: Duration = Duration::from_millis(15);

/// How many chars of a tool result the summary quotes.
const RESULT_QUOTE_CHARS: usize = 300;

/// Answers each request from its content, for `jarvis demo --scripted-llm` and the browser
/// tests. Use [`DemoResponder::chunk_delay`] to change the pause between text chunks (tests use
/// zero).
///
/// # Rules, first match wins
/// 1. The last message carries tool results → a text reply with one line per result:
///    a sentence for lifecycle tools (`✓ stop_vm: VM 101 on pve1 has been stopped.`), the
///    cluster status and guest/node lists; otherwise `✓ <tool>: `<result>`` as a code span cut
///    to ~300 chars with whitespace collapsed; `The action did not run: <result>` for a failed
///    or declined call.
/// 2. `start|stop|shutdown|shut down|reboot|restart [vm|ct|container|lxc|guest] <vmid>` →
///    a short text ("Stopping VM 101 on pve1.") and one call of `start_vm`, `stop_vm`,
///    `shutdown_vm`, `restart_vm` or the `_container` twin. The registry requires `node`
///    for these, and the responder finds it, in order: `on <node>` / `node <node>` in the
///    operator's text; the system prompt's guest line for the vmid (`- 101 web (vm, pve1): …`
///    as `jarvis_domain::prompt` writes it, or a line starting with the vmid that says
///    `node <name>` / `on <name>`); an object with this `vmid` and a `node` in an earlier tool
///    result (e.g. a `get_vms` answer, newest first). The same sources decide VM or container
///    when the operator said neither (`vm`/`ct` in the line, or `"type": "lxc"`); the default is
///    VM. Without a node it asks for one in text instead of guessing.
/// 3. `stop|shutdown … all|everything` → parallel calls: the stop tool for the first two guests
///    the context names (as in rule 2), or, when it names none, `get_vms` and `get_containers`.
/// 4. `node <name>` → `get_node_status`; `status|cluster|health|quorum` → `get_cluster_status`;
///    `nodes` → `get_cluster_resources {"type":"node"}`; `containers|cts` → `get_containers`;
///    `storage|disk|disks` → `get_storage`; `vms|guests|list` → `get_vms`.
/// 5. Anything else → a few sentences of help quoting the question.
///
/// A call is only made when the request offers that tool (the server drops the tools on the
/// last round of its loop); otherwise the answer says so in text. Words are matched whole and
/// case-insensitively; node names keep the operator's case. Call ids are
/// `toolu_demo_<request number>_<index>` in both wire formats; text streams in chunks of
/// [`DEFAULT_CHUNK_SIZE`] chars.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoResponder {
    chunk_delay: Duration,
}

impl Default for DemoResponder {
    fn default() -> Self {
        Self { chunk_delay: DEMO_CHUNK_DELAY }
    }
}

impl DemoResponder {
    /// A responder with the default pace ([`DEMO_CHUNK_DELAY`] between text chunks).
    pub fn new() -> Self {
        Self::default()
    }

    /// Pauses `delay` before each text chunk (zero streams everything at once).
    #[must_use]
    pub fn chunk_delay(mut self, delay: Duration) -> Self {
        self.chunk_delay = delay;
        self
    }

    /// The reply to request number `seq` (1-based; it names the tool call ids).
    pub(crate) fn reply(&self, api: Api, body: &Value, seq: u64) -> DemoReply {
        let view = RequestView::parse(api, body);
        let (text, calls) = decide(&view, seq);
        let delay_ms = u64::try_from(self.chunk_delay.as_millis()).unwrap_or(u64::MAX);
        DemoReply { text, calls, delay_ms }
    }
}

/// A computed reply, rendered like a scripted turn.
#[derive(Debug)]
pub(crate) struct DemoReply {
    text: String,
    calls: Vec<ToolCall>,
    delay_ms: u64,
}

impl DemoReply {
    /// The streamed form of this reply.
    pub(crate) fn answer(&self) -> Answer<'_> {
        Answer {
            text: &self.text,
            calls: &self.calls,
            chunk: DEFAULT_CHUNK_SIZE,
            delay_ms: self.delay_ms,
            error: None,
        }
    }
}

/// A lifecycle action on a guest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verb {
    Start,
    Stop,
    Shutdown,
    Restart,
}

impl Verb {
    fn parse(word: &str) -> Option<Self> {
        Some(match word {
            "start" => Self::Start,
            "stop" => Self::Stop,
            "shutdown" => Self::Shutdown,
            "reboot" | "restart" => Self::Restart,
            _ => return None,
        })
    }

    fn tool_prefix(self) -> &'static str {
        match self {
            Self::Start => "start",
            Self::Stop => "stop",
            Self::Shutdown => "shutdown",
            Self::Restart => "restart",
        }
    }

    fn doing(self) -> &'static str {
        match self {
            Self::Start => "Starting",
            Self::Stop => "Stopping",
            Self::Shutdown => "Shutting down",
            Self::Restart => "Rebooting",
        }
    }

    fn done(self) -> &'static str {
        match self {
            Self::Start => "started",
            Self::Stop => "stopped",
            Self::Shutdown => "shut down",
            Self::Restart => "rebooted",
        }
    }
}

/// QEMU VM or LXC container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Vm,
    Container,
}

impl Kind {
    fn parse(word: &str) -> Option<Self> {
        match word {
            "vm" | "qemu" => Some(Self::Vm),
            "ct" | "container" | "lxc" => Some(Self::Container),
            _ => None,
        }
    }

    fn tool_suffix(self) -> &'static str {
        match self {
            Self::Vm => "vm",
            Self::Container => "container",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Vm => "VM",
            Self::Container => "container",
        }
    }
}

/// A guest the context names.
#[derive(Debug, Clone, PartialEq)]
struct Guest {
    vmid: u64,
    node: String,
    kind: Option<Kind>,
}

/// The words of a text: runs of letters, digits, `-`, `.` and `_`, trailing `.`/`-` trimmed,
/// with their lower-case twins for matching.
struct Words {
    original: Vec<String>,
    lower: Vec<String>,
}

impl Words {
    fn new(text: &str) -> Self {
        let original: Vec<String> = text
            .split(|c: char| !(c.is_alphanumeric() || matches!(c, '-' | '.' | '_')))
            .map(|w| w.trim_end_matches(['.', '-']))
            .filter(|w| !w.is_empty())
            .map(str::to_owned)
            .collect();
        let lower = original.iter().map(|w| w.to_lowercase()).collect();
        Self { original, lower }
    }

    fn has(&self, any: &[&str]) -> bool {
        self.lower.iter().any(|w| any.contains(&w.as_str()))
    }

    /// The node named after `on` or `node` (skipping a `node`/`the` in between).
    fn node(&self) -> Option<String> {
        const NOT_NODES: &[&str] =
            &["node", "the", "status", "health", "list", "temperature", "details", "info", "load"];
        for (i, w) in self.lower.iter().enumerate() {
            if w != "on" && w != "node" {
                continue;
            }
            let mut j = i + 1;
            while self.lower.get(j).is_some_and(|n| n == "node" || n == "the") {
                j += 1;
            }
            let Some(name) = self.original.get(j) else { continue };
            if is_host_name(name) && !NOT_NODES.contains(&self.lower[j].as_str()) {
                return Some(name.clone());
            }
        }
        None
    }
}

fn is_host_name(s: &str) -> bool {
    s.len() <= 63
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        && !s.chars().all(|c| c.is_ascii_digit())
}

fn parse_vmid(word: &str) -> Option<u64> {
    let vmid: u64 = word.parse().ok().filter(|_| word.chars().all(|c| c.is_ascii_digit()))?;
    (100..=999_999_999).contains(&vmid).then_some(vmid)
}

/// Applies the rules to a request: the reply text and the calls.
fn decide(view: &RequestView, seq: u64) -> (String, Vec<ToolCall>) {
    if !view.results.is_empty() {
        return (summarise(&view.results), Vec::new());
    }
    let words = Words::new(&view.user_text);
    let planned =
        lifecycle(view, &words).or_else(|| stop_all(view, &words)).or_else(|| read(&words));
    let Some(Planned { text, calls }) = planned else {
        return (help(&view.user_text), Vec::new());
    };
    if let Some((missing, _)) = calls.iter().find(|(tool, _)| !view.offers(tool)) {
        let text = format!(
            "I would use the {missing} tool for that, but it is not available right now, so \
             I can only answer in text. {}",
            capabilities()
        );
        return (text, Vec::new());
    }
    let calls = calls
        .into_iter()
        .enumerate()
        .map(|(i, (tool, input))| ToolCall::new(&format!("toolu_demo_{seq:04}_{i}"), &tool, input))
        .collect();
    (text, calls)
}

/// What a rule decided: text before the calls, and the calls (tool, arguments). Text only when
/// `calls` is empty.
struct Planned {
    text: String,
    calls: Vec<(String, Value)>,
}

impl Planned {
    fn text(text: String) -> Self {
        Self { text, calls: Vec::new() }
    }

    fn call(text: &str, tool: &str, input: Value) -> Self {
        Self { text: text.to_owned(), calls: vec![(tool.to_owned(), input)] }
    }
}

/// Rule 2: one lifecycle action on one guest.
fn lifecycle(view: &RequestView, words: &Words) -> Option<Planned> {
    let w = &words.lower;
    // verb ["the"] [kind | "guest"] vmid, anywhere in the text.
    let (verb, said, vmid) = (0..w.len()).find_map(|start| {
        let (verb, mut i) = if w[start] == "shut" && w.get(start + 1).is_some_and(|n| n == "down") {
            (Verb::Shutdown, start + 2)
        } else {
            (Verb::parse(&w[start])?, start + 1)
        };
        if w.get(i).is_some_and(|n| n == "the") {
            i += 1;
        }
        let said = w.get(i).and_then(|k| Kind::parse(k));
        if said.is_some() || w.get(i).is_some_and(|k| k == "guest") {
            i += 1;
        }
        Some((verb, said, parse_vmid(w.get(i)?)?))
    })?;
    let found = find_guest(view, vmid);
    let node = words.node().or_else(|| found.as_ref().map(|g| g.node.clone()));
    let kind = said.or(found.and_then(|g| g.kind)).unwrap_or(Kind::Vm);
    let Some(node) = node else {
        return Some(Planned::text(format!(
            "Which node is {} {vmid} on? I could not find it in the cluster context. Say, for \
             example, \"{} {} {vmid} on pve1\".",
            kind.label(),
            verb.tool_prefix(),
            if kind == Kind::Vm { "vm" } else { "ct" },
        )));
    };
    let text = format!("{} {} {vmid} on {node}.", verb.doing(), kind.label());
    let tool = format!("{}_{}", verb.tool_prefix(), kind.tool_suffix());
    Some(Planned::call(&text, &tool, json!({"node": node, "vmid": vmid})))
}

/// Rule 3: stop everything (two guests from the context, or look first).
fn stop_all(view: &RequestView, words: &Words) -> Option<Planned> {
    let stopping = words.has(&["stop", "shutdown"])
        || words.lower.windows(2).any(|p| p[0] == "shut" && p[1] == "down");
    if !(stopping && words.has(&["all", "everything"])) {
        return None;
    }
    let guests = known_guests(view);
    if guests.is_empty() {
        return Some(Planned {
            text: "I need to know what is running first.".to_owned(),
            calls: vec![
                ("get_vms".to_owned(), json!({})),
                ("get_containers".to_owned(), json!({})),
            ],
        });
    }
    let chosen: Vec<&Guest> = guests.iter().take(2).collect();
    let names: Vec<String> = chosen
        .iter()
        .map(|g| format!("{} {} on {}", g.kind.unwrap_or(Kind::Vm).label(), g.vmid, g.node))
        .collect();
    let calls = chosen
        .iter()
        .map(|g| {
            let tool = format!("stop_{}", g.kind.unwrap_or(Kind::Vm).tool_suffix());
            (tool, json!({"node": g.node, "vmid": g.vmid}))
        })
        .collect();
    Some(Planned { text: format!("Stopping {}.", names.join(" and ")), calls })
}

/// Rule 4: the read-only tools.
fn read(words: &Words) -> Option<Planned> {
    if words.has(&["node"])
        && let Some(node) = words.node()
    {
        let text = format!("Checking node {node}.");
        return Some(Planned::call(&text, "get_node_status", json!({"node": node})));
    }
    let rules: [(&[&str], &str, &str, Value); 5] = [
        (
            &["status", "cluster", "health", "quorum"],
            "Checking the cluster status.",
            "get_cluster_status",
            json!({}),
        ),
        (&["nodes"], "Listing the nodes.", "get_cluster_resources", json!({"type": "node"})),
        (&["containers", "cts", "lxc"], "Listing the containers.", "get_containers", json!({})),
        (&["storage", "disk", "disks"], "Checking the storage pools.", "get_storage", json!({})),
        (&["vms", "guests", "list"], "Listing the VMs.", "get_vms", json!({})),
    ];
    rules
        .into_iter()
        .find(|(any, ..)| words.has(any))
        .map(|(_, text, tool, input)| Planned::call(text, tool, input))
}

/// The guest with this vmid as the context names it (see the module docs for where it looks).
fn find_guest(view: &RequestView, vmid: u64) -> Option<Guest> {
    known_guests(view).into_iter().find(|g| g.vmid == vmid)
}

/// Every guest the system prompt and earlier tool results name with its node, in that order
/// (tool results newest first), without repeats.
fn known_guests(view: &RequestView) -> Vec<Guest> {
    let mut out: Vec<Guest> = view.system.lines().filter_map(guest_in_line).collect();
    for content in &view.history {
        match serde_json::from_str::<Value>(content) {
            Ok(value) => guests_in_json(&value, &mut out),
            Err(_) => out.extend(content.lines().filter_map(guest_in_line)),
        }
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|g| seen.insert(g.vmid));
    out
}

/// A guest line of the system prompt: `- 101 web (vm, pve1): running, …` (the format of
/// `jarvis_domain::prompt`), or one that starts with the vmid (or `vmid <n>`) and names the
/// node with `node <name>` / `on <name>`: `- 102 db on node pve2 (vm)`, `vmid=200 type=lxc
/// node=pve2`. Other lines (nodes, storage) do not start with a vmid.
fn guest_in_line(line: &str) -> Option<Guest> {
    let words = Words::new(line);
    let first = usize::from(words.lower.first().is_some_and(|w| w == "vmid"));
    let vmid = parse_vmid(words.lower.get(first)?)?;
    let (kind, node) = match paren_kind_node(line) {
        Some((kind, node)) => (Some(kind), node),
        None => (words.lower.iter().find_map(|w| Kind::parse(w)), words.node()?),
    };
    Some(Guest { vmid, node, kind })
}

/// The `(vm, pve1)` / `(ct, pve1)` part of a prompt guest line.
fn paren_kind_node(line: &str) -> Option<(Kind, String)> {
    line.split('(').skip(1).find_map(|part| {
        let (inside, _) = part.split_once(')')?;
        let (kind, node) = inside.split_once(',')?;
        let node = node.trim();
        Some((Kind::parse(kind.trim())?, node.to_owned())).filter(|_| is_host_name(node))
    })
}

/// Objects with a `vmid` (number or string) and a `node`, anywhere in a JSON value.
fn guests_in_json(value: &Value, out: &mut Vec<Guest>) {
    match value {
        Value::Object(map) => {
            let vmid = match map.get("vmid") {
                Some(Value::Number(n)) => n.as_u64(),
                Some(Value::String(s)) => parse_vmid(s),
                _ => None,
            };
            let node = map.get("node").and_then(Value::as_str).filter(|n| is_host_name(n));
            if let (Some(vmid), Some(node)) = (vmid, node) {
                let kind = map.get("type").and_then(Value::as_str).and_then(Kind::parse);
                out.push(Guest { vmid, node: node.to_owned(), kind });
            }
            map.values().for_each(|v| guests_in_json(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| guests_in_json(v, out)),
        _ => {}
    }
}

/// Rule 1: one line per tool result.
fn summarise(results: &[ToolResult]) -> String {
    let lines: Vec<String> = results
        .iter()
        .map(|r| {
            let quote = shorten(&r.content, RESULT_QUOTE_CHARS);
            if r.is_error {
                return format!("The action did not run: {quote}");
            }
            let tool = if r.tool.is_empty() { "tool" } else { r.tool.as_str() };
            match lifecycle_done(r).or_else(|| describe(&r.content)) {
                Some(sentence) => format!("✓ {tool}: {sentence}"),
                // A code span, so URLs and markup in the data stay literal.
                None => format!("✓ {tool}: `{}`", quote.replace('`', "'")),
            }
        })
        .collect();
    lines.join("\n")
}

/// Prose for the common result shapes: the cluster status, lists of guests or nodes.
fn describe(content: &str) -> Option<String> {
    let v: Value = serde_json::from_str(content).ok()?;
    if let (Some(nodes), Some(guests)) = (v["nodes"].as_array(), v.get("guests")) {
        let online: Vec<&str> = nodes
            .iter()
            .filter(|n| n["status"] == "online")
            .filter_map(|n| n["name"].as_str())
            .collect();
        let quorum = if v["quorum"]["quorate"] == true { "quorate" } else { "NOT quorate" };
        return Some(format!(
            "the cluster is {quorum}; {} of {} nodes online ({}); {} of {} guests running.",
            online.len(),
            nodes.len(),
            online.join(", "),
            guests["running"],
            guests["total"]
        ));
    }
    let list = v.as_array().or_else(|| v["vms"].as_array()).or_else(|| v["nodes"].as_array())?;
    let items: Vec<String> = list
        .iter()
        .map(|item| match (item["vmid"].as_u64(), item["name"].as_str()) {
            (Some(vmid), name) => {
                format!(
                    "{vmid} {} ({})",
                    name.unwrap_or(""),
                    item["status"].as_str().unwrap_or("?")
                )
            }
            (None, Some(name)) => format!("{name} ({})", item["status"].as_str().unwrap_or("?")),
            (None, None) => String::new(),
        })
        .filter(|s| !s.is_empty())
        .collect();
    if items.is_empty() {
        return None;
    }
    let shown = items.iter().take(12).cloned().collect::<Vec<_>>().join(", ");
    let more = items.len().saturating_sub(12);
    Some(if more > 0 {
        format!("{} entries: {shown} and {more} more.", items.len())
    } else {
        format!("{} entries: {shown}.", items.len())
    })
}

/// "VM 101 on pve1 has been stopped." for a successful lifecycle call.
fn lifecycle_done(result: &ToolResult) -> Option<String> {
    let (verb, kind) = result.tool.split_once('_')?;
    let verb = Verb::parse(verb)?;
    let kind = Kind::parse(kind)?;
    let vmid = result.input.get("vmid")?;
    let node = result.input.get("node").and_then(Value::as_str).unwrap_or("its node");
    Some(format!("{} {vmid} on {node} has been {}.", capitalise(kind.label()), verb.done()))
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    chars.next().map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
}

/// Collapses whitespace and cuts to `max` chars, marking a cut with `…`.
fn shorten(s: &str, max: usize) -> String {
    let collapsed = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.chars().count() <= max {
        return collapsed;
    }
    let mut cut: String = collapsed.chars().take(max).collect();
    cut.push('…');
    cut
}

fn capabilities() -> &'static str {
    "I can start, stop, shut down or reboot guests (try \"stop vm 101\"), show the cluster \
     status (\"status\"), list guests (\"list vms\") or nodes (\"nodes\")."
}

/// Rule 5: help, quoting the question.
fn help(question: &str) -> String {
    let intro = "I am the scripted demo assistant, not a language model, so I only understand a \
                 few requests.";
    let quote = shorten(question, 80);
    if quote.is_empty() {
        format!("{intro} {}", capabilities())
    } else {
        format!("You asked: \"{quote}\". {intro} {}", capabilities())
    }
}
