//! Which model answers a chat message: the pure router of ROUTE-02 and the operator-editable
//! rules of ROUTE-07.
//!
//! [`route`] applies ROUTE-02's priority order, first match wins:
//!
//! 1. no Claude key → local ([`RouteReason::NoClaudeKey`]);
//! 2. override passkey → Claude;
//! 3. daily budget exceeded → local;
//! 4. tool/action intent (a [`RoutingRules::tool_keywords`] or
//!    [`RoutingRules::prefer_claude_for_tools`] match) → Claude;
//! 5. a pending confirmation → Claude;
//! 6. context too large for the local window → Claude;
//! 7. small talk → local;
//! 8. default → local.
//!
//! Availability wraps that order: with neither provider available the outcome is
//! [`RouteOutcome::NoProvider`] (the server answers with the slash-command help). When the
//! order picks local but the local server is down, the message goes to Claude with
//! [`RouteReason::LocalUnavailable`], except when the budget is exceeded: the cap is a hard
//! stop, so that case is also `NoProvider` ([`RouteReason::BudgetExceededNoLocal`]).
//!
//! The budget sits above tool intent and pending confirmations, unlike the order listed in
//! ROUTE-02: a cap that tool-intent messages (most of a sysadmin's messages) could pass would
//! not "really trip" (ROUTE-06), and the acceptance test sends exactly such a message to the
//! local model. Only the override passkey — the operator explicitly asking for Claude — spends
//! past the cap.
//!
//! # Keyword matching
//!
//! The message is lowercased (Unicode) and split into words on every character that is not
//! alphanumeric, so `"Restart VM-101!"` is `restart vm 101` and `get_vm_status` is
//! `get vm status`. A rule (keyword, small-talk pattern or tool name) is split the same way and
//! matches when its words appear *consecutively and whole* in the message: `get` does not match
//! "forget", `stop` does not match "stopwatch", `node` does not match "nodes". A rule whose
//! last character is `*` matches that last word as a prefix instead (`restart*` matches
//! "restarting", "restarted"); stems are therefore explicit in the rules, never implicit.

use serde::{Deserialize, Serialize};

use crate::tools::ToolDef as _;
use crate::tools::defs as d;

#[cfg(test)]
mod tests;

/// A model provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// Anthropic Claude (tools, paid).
    Claude,
    /// The local OpenAI-compatible server (free, small context).
    Local,
}

impl Provider {
    /// The wire name: `"claude"` or `"local"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Claude => "claude",
            Provider::Local => "local",
        }
    }
}

/// Lowest accepted [`RoutingRules::local_context_limit_tokens`].
pub const MIN_LOCAL_CONTEXT_TOKENS: u32 = 256;
/// Highest accepted [`RoutingRules::local_context_limit_tokens`].
pub const MAX_LOCAL_CONTEXT_TOKENS: u32 = 1_000_000;
/// Longest accepted single rule, in bytes.
pub const MAX_RULE_BYTES: usize = 64;
/// Most rules accepted per list.
pub const MAX_RULES: usize = 500;

/// Operator-editable routing rules (ROUTE-07), stored and served by `GET/PUT /api/routing`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RoutingRules {
    /// Words or phrases that signal a cluster action or an operational question → Claude.
    /// A trailing `*` makes the last word a prefix (see the module docs).
    pub tool_keywords: Vec<String>,
    /// Words or phrases that mark small talk → local (only when nothing above matched).
    pub smalltalk_patterns: Vec<String>,
    /// Largest prompt (system + history + message, estimated tokens) sent to the local model;
    /// above it the message goes to Claude. Must leave room for the answer in the local window
    /// (ROUTE-09): the default is a 4096-token window minus a 1024-token answer reserve.
    pub local_context_limit_tokens: u32,
    /// Registered tool names; a message naming one (`execute_ssh` or "execute ssh") → Claude.
    pub prefer_claude_for_tools: Vec<String>,
}

/// Default action/intent keywords. Stems are explicit: `restart*` covers "restarting", `start`
/// alone does not cover "starting" (so "starting over" stays small talk).
const DEFAULT_TOOL_KEYWORDS: &[&str] = &[
    "start",
    "stop",
    "restart*",
    "reboot*",
    "shutdown",
    "shut down",
    "power off",
    "power on",
    "wake",
    "wol",
    "migrat*",
    "status",
    "status of",
    "check",
    "show",
    "list",
    "log",
    "logs",
    "disk",
    "disks",
    "cpu",
    "memory",
    "ram",
    "temperature",
    "temperatures",
    "temp",
    "vm",
    "vms",
    "vmid",
    "ct",
    "lxc",
    "qemu",
    "guest",
    "guests",
    "container",
    "containers",
    "node",
    "nodes",
    "storage",
    "backup*",
    "snapshot*",
    "restore",
    "ssh",
    "run",
    "execute",
    "systemctl",
    "service",
    "services",
    "uptime",
    "load average",
    "quorum",
    "cluster",
    "proxmox",
    "pve",
    "health",
    "task",
    "tasks",
    "journal",
    "journalctl",
];

/// Default small-talk patterns.
const DEFAULT_SMALLTALK: &[&str] = &[
    "hi",
    "hello",
    "hey",
    "good morning",
    "good afternoon",
    "good evening",
    "good night",
    "thanks",
    "thank you",
    "cheers",
    "how are you",
    "who are you",
    "what can you do",
    "bye",
    "goodbye",
    "joke",
    "nice",
    "great",
    "ok",
    "okay",
];

/// Default per-tool Claude preferences: the tools that change or touch the cluster.
const DEFAULT_PREFER_CLAUDE: &[&str] =
    &[d::ExecuteSsh::NAME, d::RestartService::NAME, d::WakeNode::NAME];

fn owned(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

impl Default for RoutingRules {
    fn default() -> Self {
        RoutingRules {
            tool_keywords: owned(DEFAULT_TOOL_KEYWORDS),
            smalltalk_patterns: owned(DEFAULT_SMALLTALK),
            local_context_limit_tokens: 3072,
            prefer_claude_for_tools: owned(DEFAULT_PREFER_CLAUDE),
        }
    }
}

impl RoutingRules {
    /// Checks the rules before they are stored; every problem is reported, one message each
    /// (field name first). Rejected: an empty keyword list, blank or over-long rules, rules with
    /// no word or with `*` anywhere but the end, prefixes shorter than 2 characters,
    /// case-insensitive duplicates within a list, a rule that is both a keyword and a
    /// small-talk pattern, unregistered tool names, and a local context limit outside
    /// [`MIN_LOCAL_CONTEXT_TOKENS`]..=[`MAX_LOCAL_CONTEXT_TOKENS`].
    pub fn validate(&self) -> Result<(), Vec<String>> {
        let mut errors = Vec::new();
        if self.tool_keywords.is_empty() {
            errors.push("toolKeywords: must not be empty".to_owned());
        }
        let keywords = check_list("toolKeywords", &self.tool_keywords, &mut errors);
        let smalltalk = check_list("smalltalkPatterns", &self.smalltalk_patterns, &mut errors);
        for k in &keywords {
            if smalltalk.contains(k) {
                errors.push(format!("smalltalkPatterns: {k:?} is also a tool keyword"));
            }
        }
        check_list("preferClaudeForTools", &self.prefer_claude_for_tools, &mut errors);
        for tool in &self.prefer_claude_for_tools {
            if crate::tools::descriptor(tool).is_none() {
                errors.push(format!("preferClaudeForTools: {tool:?} is not a registered tool"));
            }
        }
        let limit = self.local_context_limit_tokens;
        if !(MIN_LOCAL_CONTEXT_TOKENS..=MAX_LOCAL_CONTEXT_TOKENS).contains(&limit) {
            errors.push(format!(
                "localContextLimitTokens: {limit} is outside \
                 {MIN_LOCAL_CONTEXT_TOKENS}..={MAX_LOCAL_CONTEXT_TOKENS}"
            ));
        }
        if errors.is_empty() { Ok(()) } else { Err(errors) }
    }
}

/// Validates one list; returns its normalised (lowercased, trimmed) rules.
fn check_list(field: &str, list: &[String], errors: &mut Vec<String>) -> Vec<String> {
    if list.len() > MAX_RULES {
        errors.push(format!("{field}: more than {MAX_RULES} entries"));
    }
    let mut seen: Vec<String> = Vec::new();
    for raw in list {
        let norm = raw.trim().to_lowercase();
        if norm.is_empty() {
            errors.push(format!("{field}: blank entry"));
            continue;
        }
        if norm.len() > MAX_RULE_BYTES {
            errors.push(format!("{field}: {raw:?} is longer than {MAX_RULE_BYTES} bytes"));
            continue;
        }
        match Rule::parse(&norm) {
            None => errors
                .push(format!("{field}: {raw:?} has no word, or a '*' that is not at the end")),
            Some(rule)
                if rule.prefix && rule.words.last().is_some_and(|w| w.chars().count() < 2) =>
            {
                errors.push(format!("{field}: {raw:?} prefix is shorter than 2 characters"));
            }
            Some(_) => {}
        }
        if seen.contains(&norm) {
            errors.push(format!("{field}: duplicate {raw:?}"));
        } else {
            seen.push(norm);
        }
    }
    seen
}

/// A parsed rule: consecutive words, the last possibly a prefix.
#[derive(Debug)]
struct Rule {
    words: Vec<String>,
    prefix: bool,
}

impl Rule {
    fn parse(rule: &str) -> Option<Rule> {
        let trimmed = rule.trim();
        let (body, prefix) = match trimmed.strip_suffix('*') {
            Some(body) => (body, true),
            None => (trimmed, false),
        };
        if body.contains('*') || (prefix && body.ends_with(|c: char| !c.is_alphanumeric())) {
            return None;
        }
        let words = words(body);
        if words.is_empty() { None } else { Some(Rule { words, prefix }) }
    }

    fn matches(&self, message: &[String]) -> bool {
        let n = self.words.len();
        if n > message.len() {
            return false;
        }
        message.windows(n).any(|window| {
            window.iter().zip(&self.words).enumerate().all(|(i, (got, want))| {
                if self.prefix && i == n - 1 { got.starts_with(want.as_str()) } else { got == want }
            })
        })
    }
}

/// Lowercased words of `text`, split on every non-alphanumeric character.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// The first rule in `rules` that matches the message words.
fn first_match<'a>(rules: &'a [String], message: &[String]) -> Option<&'a str> {
    rules
        .iter()
        .find(|r| Rule::parse(&r.to_lowercase()).is_some_and(|rule| rule.matches(message)))
        .map(|r| r.trim())
}

/// Everything the router looks at for one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteInput<'a> {
    /// The user's message (already stripped of the override passkey by the server).
    pub message: &'a str,
    /// Claude has an API key (and is not administratively disabled).
    pub claude_available: bool,
    /// The local model server is configured and reachable.
    pub local_available: bool,
    /// The override passkey was given for this message.
    pub override_active: bool,
    /// The session has a RED confirmation waiting; its follow-ups need Claude's tool context.
    pub pending_confirmation: bool,
    /// Today's spend has reached the daily cap (see `cost::Budget`).
    pub budget_exceeded: bool,
    /// Estimated size of the prompt the local model would get, in tokens.
    pub estimated_context_tokens: u32,
}

/// Why a message went where it went; sent as the `reason` of `chat:route`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "code")]
pub enum RouteReason {
    /// No Claude API key: everything goes local.
    NoClaudeKey,
    /// The override passkey forces Claude.
    Override,
    /// A tool keyword matched.
    ToolIntent {
        /// The keyword rule that matched.
        keyword: String,
    },
    /// The message names a tool the operator prefers Claude for.
    ToolPreference {
        /// The tool name.
        tool: String,
    },
    /// A confirmation is pending in this session.
    PendingConfirmation,
    /// The daily budget is spent.
    BudgetExceeded,
    /// The prompt does not fit the local model.
    #[serde(rename_all = "camelCase")]
    ContextTooLarge {
        /// Estimated prompt tokens.
        estimated_tokens: u32,
        /// The local limit.
        limit_tokens: u32,
    },
    /// A small-talk pattern matched.
    SmallTalk {
        /// The pattern that matched.
        pattern: String,
    },
    /// Nothing matched; local is the default.
    Default,
    /// Local would have answered, but it is unavailable, so Claude does.
    LocalUnavailable,
    /// Neither provider is available.
    NoProvider,
    /// The budget is spent and the local model is unavailable.
    BudgetExceededNoLocal,
}

impl RouteReason {
    /// The machine code: the `reasonCode` of `chat:route` (and the serde tag).
    pub fn code(&self) -> &'static str {
        match self {
            RouteReason::NoClaudeKey => "noClaudeKey",
            RouteReason::Override => "override",
            RouteReason::ToolIntent { .. } => "toolIntent",
            RouteReason::ToolPreference { .. } => "toolPreference",
            RouteReason::PendingConfirmation => "pendingConfirmation",
            RouteReason::BudgetExceeded => "budgetExceeded",
            RouteReason::ContextTooLarge { .. } => "contextTooLarge",
            RouteReason::SmallTalk { .. } => "smallTalk",
            RouteReason::Default => "default",
            RouteReason::LocalUnavailable => "localUnavailable",
            RouteReason::NoProvider => "noProvider",
            RouteReason::BudgetExceededNoLocal => "budgetExceededNoLocal",
        }
    }

    /// A short human explanation for the UI badge and logs.
    pub fn text(&self) -> String {
        match self {
            RouteReason::NoClaudeKey => "no Claude API key configured".to_owned(),
            RouteReason::Override => "override passkey given".to_owned(),
            RouteReason::ToolIntent { keyword } => format!("cluster action or query ({keyword:?})"),
            RouteReason::ToolPreference { tool } => format!("Claude preferred for tool {tool}"),
            RouteReason::PendingConfirmation => "a confirmation is pending".to_owned(),
            RouteReason::BudgetExceeded => "daily budget reached".to_owned(),
            RouteReason::ContextTooLarge { estimated_tokens, limit_tokens } => format!(
                "context too large for the local model ({estimated_tokens} > {limit_tokens} tokens)"
            ),
            RouteReason::SmallTalk { pattern } => format!("small talk ({pattern:?})"),
            RouteReason::Default => "conversational message".to_owned(),
            RouteReason::LocalUnavailable => "local model unavailable".to_owned(),
            RouteReason::NoProvider => "no model available".to_owned(),
            RouteReason::BudgetExceededNoLocal => {
                "daily budget reached and local model unavailable".to_owned()
            }
        }
    }
}

/// A routed message: who answers and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteDecision {
    /// The provider that answers.
    pub provider: Provider,
    /// Why.
    pub reason: RouteReason,
}

/// The router's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteOutcome {
    /// A provider answers.
    Route(RouteDecision),
    /// No provider may answer; the server replies with the slash-command help. The reason is
    /// [`RouteReason::NoProvider`] or [`RouteReason::BudgetExceededNoLocal`].
    NoProvider(RouteReason),
}

impl RouteOutcome {
    /// The decision, if a provider answers.
    pub fn decision(&self) -> Option<&RouteDecision> {
        match self {
            RouteOutcome::Route(d) => Some(d),
            RouteOutcome::NoProvider(_) => None,
        }
    }

    /// The provider, if one answers.
    pub fn provider(&self) -> Option<Provider> {
        self.decision().map(|d| d.provider)
    }

    /// The reason, whichever the outcome.
    pub fn reason(&self) -> &RouteReason {
        match self {
            RouteOutcome::Route(d) => &d.reason,
            RouteOutcome::NoProvider(r) => r,
        }
    }
}

/// The tool-intent reason for `message`, if any (keywords first, then tool preferences).
pub fn tool_intent(message: &str, rules: &RoutingRules) -> Option<RouteReason> {
    let msg = words(message);
    if let Some(keyword) = first_match(&rules.tool_keywords, &msg) {
        return Some(RouteReason::ToolIntent { keyword: keyword.to_owned() });
    }
    first_match(&rules.prefer_claude_for_tools, &msg)
        .map(|tool| RouteReason::ToolPreference { tool: tool.to_owned() })
}

/// The small-talk pattern `message` matches, if any.
pub fn smalltalk(message: &str, rules: &RoutingRules) -> Option<String> {
    first_match(&rules.smalltalk_patterns, &words(message)).map(str::to_owned)
}

/// Routes one message (ROUTE-02); see the module docs for the order.
pub fn route(input: &RouteInput<'_>, rules: &RoutingRules) -> RouteOutcome {
    let claude = |reason| RouteOutcome::Route(RouteDecision { provider: Provider::Claude, reason });
    if !input.claude_available && !input.local_available {
        return RouteOutcome::NoProvider(RouteReason::NoProvider);
    }
    let local = |reason| {
        if input.local_available {
            RouteOutcome::Route(RouteDecision { provider: Provider::Local, reason })
        } else if reason == RouteReason::BudgetExceeded {
            RouteOutcome::NoProvider(RouteReason::BudgetExceededNoLocal)
        } else {
            claude(RouteReason::LocalUnavailable)
        }
    };
    if !input.claude_available {
        return local(RouteReason::NoClaudeKey);
    }
    if input.override_active {
        return claude(RouteReason::Override);
    }
    if input.budget_exceeded {
        return local(RouteReason::BudgetExceeded);
    }
    if let Some(reason) = tool_intent(input.message, rules) {
        return claude(reason);
    }
    if input.pending_confirmation {
        return claude(RouteReason::PendingConfirmation);
    }
    if input.estimated_context_tokens > rules.local_context_limit_tokens {
        return claude(RouteReason::ContextTooLarge {
            estimated_tokens: input.estimated_context_tokens,
            limit_tokens: rules.local_context_limit_tokens,
        });
    }
    match smalltalk(input.message, rules) {
        Some(pattern) => local(RouteReason::SmallTalk { pattern }),
        None => local(RouteReason::Default),
    }
}
