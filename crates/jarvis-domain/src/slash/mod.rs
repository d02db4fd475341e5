//! Slash commands (CHAT-06): `/status`, `/vms`, `/start 101`, … typed into the chat run a
//! registry tool directly, without any LLM, so the assistant still works when no model is
//! reachable.
//!
//! This module owns the command table ([`SLASH_COMMANDS`]), parsing a chat line into a tool name
//! and arguments ([`parse`]), the help text ([`help_text`]) and turning a tool's result into a
//! short markdown answer ([`render_result`], [`SlashCommand::render`]). It does not run anything:
//! the server submits the tool through the same pipeline as every other caller, so the safety
//! decision, confirmations for RED tools, the kill switch and the audit log all apply.
//!
//! Commands that take a guest id resolve the guest's node and type (VM or container) from the
//! cached cluster snapshot and pick the matching tool (`/stop 200` on a container is
//! `stop_container`). Every produced call is checked with [`crate::tools::parse_call`] before it
//! is returned.

mod render;
#[cfg(test)]
mod tests;

use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::cluster::{ClusterSnapshot, GuestType, Vm};
use crate::events::{EventType, Severity};
use crate::ids::VmId;
use crate::prompt::text;
use crate::tools::ToolDef as _;
use crate::tools::defs as d;
use crate::tools::parse_call;

pub use render::render_result;

/// One slash command, as `/help` lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlashSpec {
    /// The command without its slash (`start`).
    pub command: &'static str,
    /// How to call it (`/start <vmid>`).
    pub usage: &'static str,
    /// What it does, one line.
    pub description: &'static str,
}

const fn spec(command: &'static str, usage: &'static str, description: &'static str) -> SlashSpec {
    SlashSpec { command, usage, description }
}

/// Every slash command, in the order `/help` lists them.
pub const SLASH_COMMANDS: &[SlashSpec] = &[
    spec("help", "/help", "List these commands."),
    spec("status", "/status", "Cluster overview: quorum, nodes and guest counts."),
    spec("nodes", "/nodes", "Every node with CPU, memory, uptime and temperature."),
    spec("node", "/node <name>", "Detailed status of one node."),
    spec(
        "vms",
        "/vms [filter]",
        "VMs and containers; filter by name, id, node, status, `vm` or `ct`.",
    ),
    spec("vm", "/vm <vmid>", "Status of one guest."),
    spec("config", "/config <vmid>", "Configuration of one guest."),
    spec("start", "/start <vmid>", "Start a VM or container."),
    spec("shutdown", "/shutdown <vmid>", "Cleanly shut down a guest (asks for confirmation)."),
    spec("reboot", "/reboot <vmid>", "Reboot a running guest (asks for confirmation)."),
    spec(
        "stop",
        "/stop <vmid>",
        "Hard-stop a guest, like pulling the plug (asks for confirmation).",
    ),
    spec("storage", "/storage", "Storage pools and their usage."),
    spec("temps", "/temps <node>", "Temperature sensors of a node."),
    spec("tasks", "/tasks [node]", "Recent Proxmox tasks, optionally of one node."),
    spec(
        "events",
        "/events [count] [severity|type]",
        "Jarvis's recent events, e.g. `/events 20 critical` or `/events alert`.",
    ),
    spec("wake", "/wake <node>", "Send Wake-on-LAN to a powered-off node."),
];

/// Events listed by `/events` without a count.
const DEFAULT_EVENTS: u32 = 20;
/// Tasks listed by `/tasks`.
const DEFAULT_TASKS: u32 = 15;
/// Longest `/vms` filter kept, in characters.
const MAX_FILTER_CHARS: usize = 64;

/// A parsed slash command.
#[derive(Debug, Clone, PartialEq)]
pub enum SlashCommand {
    /// Show [`help_text`]; runs nothing.
    Help,
    /// Run a registry tool through the pipeline, then show [`SlashCommand::render`] of its result.
    Tool {
        /// The registry tool name.
        tool: &'static str,
        /// Its arguments (already accepted by [`crate::tools::parse_call`]).
        args: Value,
        /// For guest lists: show only guests matching this text (`/vms web`, `/vm 101`).
        filter: Option<String>,
    },
}

impl SlashCommand {
    /// The markdown answer for this command given its tool's result (the help text for
    /// [`SlashCommand::Help`]).
    pub fn render(&self, result: &Value) -> String {
        match self {
            SlashCommand::Help => help_text(),
            SlashCommand::Tool { tool, filter, .. } => {
                render::render_filtered(tool, result, filter.as_deref())
            }
        }
    }
}

/// Why a slash command could not be turned into a tool call. The text is for the operator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlashError {
    /// No such command.
    #[error("unknown command /{command}.{} /help lists every command.", did_you_mean(.suggestion))]
    UnknownCommand {
        /// What was typed (neutralised and shortened).
        command: String,
        /// The command probably meant.
        suggestion: Option<&'static str>,
    },
    /// A required argument is missing or not of the right kind.
    #[error("/{command} needs {what}, e.g. {example}{}", given(.got))]
    NeedsArgument {
        /// The command.
        command: &'static str,
        /// What it needs (`a VM id`).
        what: &'static str,
        /// A complete example call.
        example: String,
        /// What was given instead, if anything.
        got: Option<String>,
    },
    /// More arguments than the command takes.
    #[error("too many arguments for /{command} (unexpected `{extra}`); usage: {usage}")]
    TooManyArguments {
        /// The command.
        command: &'static str,
        /// Its usage line.
        usage: &'static str,
        /// The first argument too many.
        extra: String,
    },
    /// The vmid is not in the cluster snapshot.
    #[error("no guest {0} in the cluster; /vms lists them")]
    UnknownGuest(u32),
    /// The node is not in the cluster snapshot.
    #[error("no node `{0}` in the cluster; /nodes lists them")]
    UnknownNode(String),
    /// The tool refused the arguments built from the snapshot (for example a node name PVE
    /// allows but the tools do not).
    #[error("cannot run /{command}: {message}")]
    Invalid {
        /// The command.
        command: &'static str,
        /// The tool's reason.
        message: String,
    },
}

fn did_you_mean(suggestion: &Option<&'static str>) -> String {
    suggestion.map(|s| format!(" Did you mean /{s}?")).unwrap_or_default()
}

fn given(got: &Option<String>) -> String {
    got.as_ref().map(|g| format!(" (got `{g}`)")).unwrap_or_default()
}

/// Shown form of something the operator typed.
fn shown(s: &str) -> String {
    text::one_line(s, 32)
}

/// Parses a chat message as a slash command against the current cluster snapshot.
///
/// `None` when the message is not a command: it does not start with `/` (leading whitespace
/// allowed), or its first word contains another `/` (a path such as `/etc/hosts`). Otherwise the
/// command (case-insensitive, any amount of whitespace between words; a bare `/` is
/// [`SlashCommand::Help`]) or why it is wrong.
pub fn parse(input: &str, snapshot: &ClusterSnapshot) -> Option<Result<SlashCommand, SlashError>> {
    let rest = input.trim_start().strip_prefix('/')?;
    let mut words = rest.split_whitespace();
    let word = words.next().unwrap_or("");
    if word.contains('/') {
        return None;
    }
    let args: Vec<&str> = words.collect();
    if word.is_empty() {
        // A bare `/`: the operator is looking for the commands.
        return Some(Ok(SlashCommand::Help));
    }
    let name = word.to_lowercase();
    let Some(spec) = SLASH_COMMANDS.iter().find(|s| s.command == name) else {
        return Some(Err(SlashError::UnknownCommand {
            suggestion: suggest(&name),
            command: shown(word),
        }));
    };
    Some(Parser { spec, args: &args, snapshot }.command())
}

/// Parses the arguments of one known command.
struct Parser<'a> {
    spec: &'static SlashSpec,
    args: &'a [&'a str],
    snapshot: &'a ClusterSnapshot,
}

impl Parser<'_> {
    fn command(&self) -> Result<SlashCommand, SlashError> {
        let c = self.spec.command;
        match c {
            "help" => self.at_most(0).map(|()| SlashCommand::Help),
            "status" => {
                self.at_most(0).and_then(|()| self.tool(d::GetClusterStatus::NAME, json!({})))
            }
            "nodes" => self
                .at_most(0)
                .and_then(|()| self.tool(d::GetClusterResources::NAME, json!({"type": "node"}))),
            "storage" => self.at_most(0).and_then(|()| self.tool(d::GetStorage::NAME, json!({}))),
            "vms" => {
                let filter = self.args.join(" ");
                let filter =
                    (!filter.is_empty()).then(|| text::one_line(&filter, MAX_FILTER_CHARS));
                self.tool_filtered(d::GetClusterResources::NAME, json!({"type": "vm"}), filter)
            }
            "vm" => {
                let vm = self.guest()?;
                let filter = Some(vm.vmid.to_string());
                self.tool_filtered(d::GetClusterResources::NAME, json!({"type": "vm"}), filter)
            }
            "config" => {
                let vm = self.guest()?;
                self.tool(d::GetGuestConfig::NAME, json!({"node": vm.node, "vmid": vm.vmid}))
            }
            "start" | "stop" | "shutdown" | "reboot" => {
                let vm = self.guest()?;
                let tool = lifecycle_tool(c, vm.kind);
                self.tool(tool, json!({"node": vm.node, "vmid": vm.vmid}))
            }
            "node" | "temps" | "wake" => {
                let node = self.node()?;
                let tool = match c {
                    "node" => d::GetNodeStatus::NAME,
                    "temps" => d::GetNodeTemperature::NAME,
                    _ => d::WakeNode::NAME,
                };
                self.tool(tool, json!({ "node": node }))
            }
            "tasks" => {
                self.at_most(1)?;
                let mut args = json!({"limit": DEFAULT_TASKS});
                if let Some(word) = self.args.first() {
                    args["node"] = self.resolve_node(word)?.into();
                }
                self.tool(d::GetRecentTasks::NAME, args)
            }
            "events" => self.events(),
            // Unreachable while every table entry has an arm (a test checks this).
            _ => Err(SlashError::UnknownCommand { command: c.to_owned(), suggestion: None }),
        }
    }

    fn tool(&self, tool: &'static str, args: Value) -> Result<SlashCommand, SlashError> {
        self.tool_filtered(tool, args, None)
    }

    fn tool_filtered(
        &self,
        tool: &'static str,
        args: Value,
        filter: Option<String>,
    ) -> Result<SlashCommand, SlashError> {
        parse_call(tool, &args).map_err(|e| SlashError::Invalid {
            command: self.spec.command,
            message: e.to_string(),
        })?;
        Ok(SlashCommand::Tool { tool, args, filter })
    }

    fn at_most(&self, n: usize) -> Result<(), SlashError> {
        match self.args.get(n) {
            None => Ok(()),
            Some(extra) => Err(SlashError::TooManyArguments {
                command: self.spec.command,
                usage: self.spec.usage,
                extra: shown(extra),
            }),
        }
    }

    fn needs(&self, what: &'static str, example: &str, got: Option<&str>) -> SlashError {
        SlashError::NeedsArgument {
            command: self.spec.command,
            what,
            example: format!("/{} {example}", self.spec.command),
            got: got.map(shown),
        }
    }

    /// The one guest argument, looked up in the snapshot.
    fn guest(&self) -> Result<&Vm, SlashError> {
        let example = self.snapshot.vms.first().map_or(101, |v| v.vmid).to_string();
        let Some(word) = self.args.first() else {
            return Err(self.needs("a VM id", &example, None));
        };
        self.at_most(1)?;
        let vmid: VmId = word.parse().map_err(|_| self.needs("a VM id", &example, Some(word)))?;
        self.snapshot.vm(vmid.get()).ok_or(SlashError::UnknownGuest(vmid.get()))
    }

    /// The one node argument; optional when the cluster has a single node.
    fn node(&self) -> Result<String, SlashError> {
        self.at_most(1)?;
        match (self.args.first(), self.snapshot.nodes.as_slice()) {
            (Some(word), _) => self.resolve_node(word),
            (None, [only]) => Ok(only.name.clone()),
            (None, nodes) => {
                let example = nodes.first().map_or("pve1", |n| n.name.as_str());
                Err(self.needs("a node name", &shown(example), None))
            }
        }
    }

    /// The snapshot's spelling of a node: exact, else the one matching ignoring case.
    fn resolve_node(&self, word: &str) -> Result<String, SlashError> {
        let nodes = &self.snapshot.nodes;
        let exact = nodes.iter().find(|n| n.name == word);
        let mut folded = nodes.iter().filter(|n| n.name.eq_ignore_ascii_case(word));
        let unique = match (folded.next(), folded.next()) {
            (Some(n), None) => Some(n),
            _ => None,
        };
        exact.or(unique).map(|n| n.name.clone()).ok_or_else(|| SlashError::UnknownNode(shown(word)))
    }

    /// `/events [count] [severity|type]`, in any order.
    fn events(&self) -> Result<SlashCommand, SlashError> {
        self.at_most(2)?;
        let mut args = json!({"limit": DEFAULT_EVENTS});
        for word in self.args {
            let lower = word.to_lowercase();
            let as_string = Value::String(lower.clone());
            if let Ok(limit) = lower.parse::<u32>() {
                args["limit"] = limit.into();
            } else if Severity::parse(&lower).is_some() {
                args["severity"] = as_string;
            } else if EventType::parse(&lower).is_some() {
                args["type"] = as_string;
            } else {
                return Err(self.needs(
                    "a count (1-500), a severity (info, warning, error, critical) or a type \
                     (alert, action, status, metric)",
                    "20 critical",
                    Some(word),
                ));
            }
        }
        self.tool(d::GetEvents::NAME, args)
    }
}

/// The registry tool for a lifecycle command on a guest of this type.
fn lifecycle_tool(command: &str, kind: GuestType) -> &'static str {
    match (command, kind) {
        ("start", GuestType::Qemu) => d::StartVm::NAME,
        ("start", GuestType::Lxc) => d::StartContainer::NAME,
        ("stop", GuestType::Qemu) => d::StopVm::NAME,
        ("stop", GuestType::Lxc) => d::StopContainer::NAME,
        ("shutdown", GuestType::Qemu) => d::ShutdownVm::NAME,
        ("shutdown", GuestType::Lxc) => d::ShutdownContainer::NAME,
        (_, GuestType::Qemu) => d::RestartVm::NAME,
        (_, GuestType::Lxc) => d::RestartContainer::NAME,
    }
}

/// Words people try that mean one of our commands.
const SYNONYMS: &[(&str, &str)] = &[
    ("restart", "reboot"),
    ("guests", "vms"),
    ("containers", "vms"),
    ("cts", "vms"),
    ("list", "vms"),
    ("ct", "vm"),
    ("guest", "vm"),
    ("temp", "temps"),
    ("temperature", "temps"),
    ("temperatures", "temps"),
    ("poweroff", "shutdown"),
    ("halt", "stop"),
    ("info", "status"),
    ("commands", "help"),
    ("?", "help"),
];

/// The command the operator probably meant: a known synonym, the only command starting with
/// what was typed, or the single closest command within two edits.
fn suggest(typed: &str) -> Option<&'static str> {
    if let Some((_, command)) = SYNONYMS.iter().find(|(word, _)| *word == typed) {
        return Some(command);
    }
    let mut prefixed = SLASH_COMMANDS.iter().filter(|s| s.command.starts_with(typed));
    if let (Some(only), None) = (prefixed.next(), prefixed.next()) {
        return Some(only.command);
    }
    let mut best: Option<(usize, &'static str)> = None;
    let mut tie = false;
    for s in SLASH_COMMANDS {
        let d = edit_distance(typed, s.command);
        match best {
            Some((b, _)) if d > b => {}
            Some((b, _)) if d == b => tie = true,
            _ => {
                best = Some((d, s.command));
                tie = false;
            }
        }
    }
    best.filter(|&(d, _)| d <= 2 && !tie).map(|(_, c)| c)
}

/// Levenshtein distance over characters (both strings are short).
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1).min(row[j] + 1).min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

/// The `/help` answer: a markdown list of every command.
pub fn help_text() -> String {
    let mut out = String::from(
        "**Slash commands** run directly, without a language model (RED actions still ask for \
         confirmation):\n\n",
    );
    for s in SLASH_COMMANDS {
        let _ = writeln!(out, "- `{}` — {}", s.usage, s.description);
    }
    out
}
