//! Everything a turn decides before the first byte goes to a provider: the override passkey,
//! the route (ROUTE-02, with the budget read from the stored usage), the system prompt per
//! provider (CHAT-01, ROUTE-09) from the cached cluster snapshot — never a fresh poll — and the
//! history window that fits the provider's context.

use jarvis_domain::agent::{self, Block, Message, Role};
use jarvis_domain::prompt::{self, PromptInput};
use jarvis_domain::routing::{Provider, RouteInput, RouteOutcome, RoutingRules, route};
use jarvis_domain::tools::REGISTRY;
use jarvis_llm::{ChatMessage, ChatRequest, ContentBlock, ToolSpec};

use super::{ChatError, ChatService};

/// The override passkey found in a message, and the message without it.
pub fn strip_override(message: &str, key: Option<&str>) -> (String, bool) {
    let Some(key) = key.filter(|k| !k.is_empty()) else { return (message.to_owned(), false) };
    if !message.contains(key) {
        return (message.to_owned(), false);
    }
    let stripped = message.replace(key, " ");
    let stripped = stripped.split_whitespace().collect::<Vec<_>>().join(" ");
    (stripped, true)
}

/// Largest system prompt for Claude, in estimated tokens.
const CLAUDE_PROMPT_TOKENS: u32 = 24_000;
/// History budget for Claude, in estimated tokens.
const CLAUDE_HISTORY_TOKENS: u32 = 100_000;

impl ChatService {
    /// The routing rules in force (stored ones, else the defaults and configuration), and
    /// whether today's spend has reached their daily budget (counted in `COST_TIMEZONE`).
    pub(super) async fn routing(&self) -> Result<(RoutingRules, bool), ChatError> {
        let settings = &self.inner.settings;
        let c = self.inner.db.effective_routing(settings.daily_cost_limit_usd).await?;
        let budget = self
            .inner
            .db
            .budget_state(c.daily_budget_usd, self.now(), settings.cost_timezone)
            .await?;
        Ok((c.rules, budget.exceeded))
    }

    /// Routes `message` (already without the passkey).
    pub(super) async fn route(
        &self,
        message: &str,
        override_active: bool,
        pending_confirmation: bool,
        history: &[Message],
    ) -> Result<RouteOutcome, ChatError> {
        let (rules, budget_exceeded) = self.routing().await?;
        let estimated = self.local_prompt_estimate(history, message);
        let input = RouteInput {
            message,
            claude_available: self.inner.claude.is_some(),
            local_available: self.inner.local.is_some(),
            override_active,
            pending_confirmation,
            budget_exceeded,
            estimated_context_tokens: estimated,
        };
        Ok(route(&input, &rules))
    }

    /// Estimated tokens the local model would need for this message with the whole window.
    fn local_prompt_estimate(&self, history: &[Message], message: &str) -> u32 {
        let hist: u32 = history.iter().map(message_tokens).sum();
        // The compact prompt is bounded by its own budget; count that budget, not a render.
        let system = self.local_window().map(|w| w / 3).unwrap_or(0);
        hist.saturating_add(system).saturating_add(prompt::estimate_tokens(message))
    }

    fn local_window(&self) -> Option<u32> {
        self.inner.settings.local.as_ref().map(|l| l.context_window)
    }

    /// The request for `provider` over `transcript` (already repaired), with or without tools.
    /// The system prompt's context comes from the cached snapshot, the live incidents, the last
    /// day's activity in the database and the memories ([`ChatService::knowledge_items`]).
    pub(super) async fn build_request(
        &self,
        provider: &str,
        transcript: &[Message],
        tools: bool,
        override_active: bool,
    ) -> ChatRequest {
        let snapshot = self.inner.cluster.snapshot();
        let local = provider == Provider::Local.as_str();
        let window = self.local_window().unwrap_or(8192);
        let (prompt_budget, history_budget, max_tokens, tool_specs) = if local {
            let reserve = (window / 4).clamp(64, 2048);
            let prompt_budget = window / 4;
            let specs = if tools { self.local_tools(window / 4) } else { vec![] };
            let tool_tokens: u32 = specs.iter().map(spec_tokens).sum();
            let history_budget = window
                .saturating_sub(prompt_budget)
                .saturating_sub(reserve)
                .saturating_sub(tool_tokens);
            (prompt_budget, history_budget.max(64), Some(reserve), specs)
        } else {
            let specs = if tools { all_tools() } else { vec![] };
            (CLAUDE_PROMPT_TOKENS, CLAUDE_HISTORY_TOKENS, None, specs)
        };
        let incidents = self.live_incidents();
        let recent = self.recent_activity().await;
        let knowledge = self.knowledge_items();
        let provider_kind = if local { Provider::Local } else { Provider::Claude };
        let system = prompt::system_prompt(&PromptInput {
            provider: provider_kind,
            snapshot: &snapshot,
            now: self.now(),
            kill_switch: self.inner.guard.kill_switch(),
            override_active,
            protected: &self.inner.guard.protected,
            budget_tokens: prompt_budget,
            budgets: self.inner.settings.context_budgets.for_provider(provider_kind),
            recent: &recent,
            knowledge: &knowledge,
            incidents: &incidents,
        })
        .text();
        let start = window_start(transcript, history_budget);
        let window_msgs = agent::repair(transcript[start..].to_vec());
        // The local model gets shorter tool results (they are already capped for Claude).
        let result_cap = if local { Some((window as usize / 8) * 4) } else { None };
        ChatRequest {
            system,
            messages: window_msgs.iter().map(|m| to_llm(m, result_cap)).collect(),
            tools: tool_specs,
            max_tokens,
        }
    }

    /// Tools for the local model: all if they fit `budget`, else the read-only ones, else none.
    fn local_tools(&self, budget: u32) -> Vec<ToolSpec> {
        let all = all_tools();
        if all.iter().map(spec_tokens).sum::<u32>() <= budget {
            return all;
        }
        let reads: Vec<ToolSpec> = REGISTRY.iter().filter(|d| !d.mutating).map(spec).collect();
        if reads.iter().map(spec_tokens).sum::<u32>() <= budget { reads } else { vec![] }
    }
}

fn spec(d: &jarvis_domain::ToolDescriptor) -> ToolSpec {
    ToolSpec {
        name: d.name.to_owned(),
        description: d.description.to_owned(),
        input_schema: jarvis_domain::input_schema(d.name)
            .unwrap_or_else(|| serde_json::json!({"type": "object"})),
    }
}

/// Every registry tool as the model sees it.
pub fn all_tools() -> Vec<ToolSpec> {
    REGISTRY.iter().map(spec).collect()
}

fn spec_tokens(t: &ToolSpec) -> u32 {
    prompt::estimate_tokens(&t.description)
        + prompt::estimate_tokens(&t.input_schema.to_string())
        + prompt::estimate_tokens(&t.name)
}

/// Estimated tokens of one transcript message.
pub fn message_tokens(m: &Message) -> u32 {
    m.blocks
        .iter()
        .map(|b| match b {
            Block::Text { text } => prompt::estimate_tokens(text),
            Block::ToolUse { name, input, .. } => {
                prompt::estimate_tokens(name) + prompt::estimate_tokens(&input.to_string())
            }
            Block::ToolResult { content, .. } => prompt::estimate_tokens(content),
        })
        .sum::<u32>()
        + 4
}

fn opens_exchange(m: &Message) -> bool {
    m.role == Role::User && m.blocks.iter().any(|b| matches!(b, Block::Text { .. }))
}

/// Where the history sent to a provider starts: the newest messages that fit `budget`, but
/// always the whole current exchange (the operator's latest message and every tool call and
/// result after it), and never in the middle of an exchange — a window that began with a tool
/// result would lose the question and the call it answers.
pub fn window_start(transcript: &[Message], budget: u32) -> usize {
    let sizes: Vec<u32> = transcript.iter().map(message_tokens).collect();
    let mut start = prompt::history_start(&sizes, budget);
    if let Some(current) = transcript.iter().rposition(opens_exchange) {
        start = start.min(current);
    }
    while start > 0 && !opens_exchange(&transcript[start]) {
        start -= 1;
    }
    start
}

/// A transcript message in the provider-neutral request form; tool results longer than
/// `result_cap` characters are shortened.
pub fn to_llm(m: &Message, result_cap: Option<usize>) -> ChatMessage {
    ChatMessage {
        role: match m.role {
            Role::User => jarvis_llm::Role::User,
            Role::Assistant => jarvis_llm::Role::Assistant,
        },
        content: m
            .blocks
            .iter()
            .map(|b| match b {
                Block::Text { text } => ContentBlock::Text(text.clone()),
                Block::ToolUse { id, name, input } => ContentBlock::ToolUse {
                    id: id.clone(),
                    name: name.clone(),
                    input: input.clone(),
                },
                Block::ToolResult { tool_use_id, content, is_error } => ContentBlock::ToolResult {
                    tool_use_id: tool_use_id.clone(),
                    content: match result_cap {
                        Some(cap) => agent::truncate(content, cap),
                        None => content.clone(),
                    },
                    is_error: *is_error,
                },
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn result(id: &str, content: &str) -> Message {
        Message {
            role: Role::User,
            blocks: vec![Block::ToolResult {
                tool_use_id: id.into(),
                content: content.into(),
                is_error: false,
            }],
        }
    }

    fn call(id: &str) -> Message {
        Message {
            role: Role::Assistant,
            blocks: vec![Block::ToolUse {
                id: id.into(),
                name: "get_vms".into(),
                input: json!({}),
            }],
        }
    }

    #[test]
    fn the_window_keeps_the_current_exchange_and_starts_at_a_question() {
        let big = "x".repeat(40_000);
        let transcript = vec![
            Message::user("old question"),
            Message::assistant("old answer"),
            Message::user("what guests do I have"),
            call("a"),
            result("a", &big),
        ];
        // Even with a tiny budget the current question and its exchange stay.
        assert_eq!(window_start(&transcript, 10), 2);
        // With room for everything, everything stays.
        assert_eq!(window_start(&transcript, 1_000_000), 0);
        // A budget that would start at the old answer backs up to the old question.
        let small = vec![
            Message::user("q1"),
            call("a"),
            result("a", "r"),
            Message::assistant("done"),
            Message::user("q2"),
        ];
        let start = window_start(&small, message_tokens(&small[4]) + message_tokens(&small[3]) + 1);
        assert!(opens_exchange(&small[start]), "{start}");
    }

    #[test]
    fn local_results_are_capped() {
        let m = to_llm(&result("a", &"y".repeat(5_000)), Some(100));
        let ContentBlock::ToolResult { content, .. } = &m.content[0] else { panic!() };
        assert!(content.len() < 200 && content.contains("truncated"), "{content}");
    }

    #[test]
    fn override_key_is_stripped_and_detected() {
        assert_eq!(strip_override("stop 101", Some("k3y")), ("stop 101".into(), false));
        assert_eq!(strip_override("k3y stop  101", Some("k3y")), ("stop 101".into(), true));
        assert_eq!(strip_override("stop 101", None), ("stop 101".into(), false));
        assert_eq!(strip_override("stop 101", Some("")), ("stop 101".into(), false));
    }
}
