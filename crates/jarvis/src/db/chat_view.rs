//! The `ChatMessage` view of a stored transcript (REST `GET /api/chat/sessions/{id}` and the
//! `/chat` namespace): tool results, stored as user-side blocks, are folded into the tool calls
//! of the assistant message that made them, and each call gets a status.
//!
//! A call's status is the one the turn machine gave its answer
//! (`jarvis_domain::agent::ToolResultStatus`), stored in the meta of the message carrying the
//! answers. Rows stored before that field existed are read once by [`legacy_status`], the only
//! place that still looks at the answer's wording. A call without an answer is `pending` while
//! nothing was stored after its message (it awaits a confirmation or is still running) and
//! `aborted` once the conversation went on without it.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use jarvis_domain::agent::{Block, Role, ToolResultStatus, result_text};
use jarvis_domain::tools::Tier;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use ts_rs::TS;
use utoipa::ToSchema;

use super::chat::StoredChatMessage;

/// What the driver stores beside a message, keyed by tool-use id. The view merges the meta of
/// every message of the session, so it may be written on the assistant message or on the
/// message carrying the results.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ChatMessageMeta {
    /// Tool-use id → confirmation id (for calls that needed the operator).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub confirmations: BTreeMap<String, String>,
    /// Tool-use id → the tier the pipeline decided (overrides the registry's tier).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub tiers: BTreeMap<String, Tier>,
    /// Tool-use id → how its answer (in this message) went. Absent on rows stored before the
    /// status existed.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub statuses: BTreeMap<String, ToolResultStatus>,
}

impl ChatMessageMeta {
    /// Nothing recorded.
    pub fn is_empty(&self) -> bool {
        self.confirmations.is_empty() && self.tiers.is_empty() && self.statuses.is_empty()
    }
}

/// How a tool call ended (or that it has not yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ToolCallStatus {
    /// It ran.
    Ok,
    /// It ran and failed, or its arguments were invalid.
    Error,
    /// The safety policy refused it.
    Blocked,
    /// It waits for the operator (or is still running).
    Pending,
    /// The operator denied it.
    Denied,
    /// Nobody decided in time.
    Expired,
    /// The turn was stopped before it finished (or never answered it); its outcome is unknown.
    Aborted,
    /// It never ran (the response was cut off, or the turn's tool-call limit was reached).
    NotExecuted,
}

impl From<ToolResultStatus> for ToolCallStatus {
    fn from(s: ToolResultStatus) -> Self {
        match s {
            ToolResultStatus::Ok => ToolCallStatus::Ok,
            ToolResultStatus::Error => ToolCallStatus::Error,
            ToolResultStatus::Blocked => ToolCallStatus::Blocked,
            ToolResultStatus::Denied => ToolCallStatus::Denied,
            ToolResultStatus::Expired => ToolCallStatus::Expired,
            ToolResultStatus::Aborted => ToolCallStatus::Aborted,
            ToolResultStatus::NotExecuted => ToolCallStatus::NotExecuted,
        }
    }
}

/// One tool call of an assistant message, with its answer.
#[derive(Debug, Clone, PartialEq, Serialize, TS, ToSchema)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ToolCallView {
    /// Tool-use id.
    pub id: String,
    /// Tool name as the model sent it.
    pub name: String,
    /// Arguments as the model sent them.
    #[ts(type = "unknown")]
    #[schema(value_type = Object)]
    pub input: Value,
    /// `green`, `yellow`, `red` or `black`; `null` for a name the registry does not know.
    #[ts(type = "\"green\" | \"yellow\" | \"red\" | \"black\" | null")]
    #[schema(value_type = Option<String>)]
    pub tier: Option<Tier>,
    /// How it ended.
    pub status: ToolCallStatus,
    /// The answer the model got; `null` while pending.
    pub result: Option<String>,
    /// The confirmation record, for calls that needed the operator.
    pub confirmation_id: Option<String>,
}

/// A chat message as the UI shows it.
#[derive(Debug, Clone, PartialEq, Serialize, TS, ToSchema)]
#[serde(rename_all = "camelCase")]
#[ts(export, rename = "ChatMessage")]
#[schema(as = ChatMessage)]
pub struct ChatMessageView {
    /// Stored id (increasing).
    #[ts(type = "number")]
    pub id: i64,
    /// The session.
    pub session_id: String,
    /// `user` or `assistant`.
    #[schema(value_type = String)]
    pub role: Role,
    /// The text.
    pub content: String,
    /// `claude`, `local`, `slash`, or `null` for the operator.
    #[ts(type = "\"claude\" | \"local\" | \"slash\" | null")]
    pub provider: Option<String>,
    /// Model id.
    pub model: Option<String>,
    /// The calls this message made, with their answers.
    pub tool_calls: Vec<ToolCallView>,
    /// Input tokens of the call that produced it.
    #[ts(type = "number")]
    pub input_tokens: u64,
    /// Output tokens.
    #[ts(type = "number")]
    pub output_tokens: u64,
    /// USD.
    pub cost_usd: f64,
    /// When it was stored.
    pub created_at: DateTime<Utc>,
}

/// The status of an answer stored without one (rows written before `statuses` existed), read
/// from the words the turn machine begins such answers with. Placeholder answers of the very
/// first versions ("Awaiting confirmation …") stand for a call still pending.
pub fn legacy_status(content: &str, is_error: bool) -> ToolCallStatus {
    let text = content.trim_start();
    if text.starts_with("Awaiting confirmation") {
        return ToolCallStatus::Pending;
    }
    if !is_error {
        return ToolCallStatus::Ok;
    }
    [
        (result_text::BLOCKED, ToolCallStatus::Blocked),
        (result_text::DENIED, ToolCallStatus::Denied),
        (result_text::EXPIRED, ToolCallStatus::Expired),
        (result_text::ABORTED, ToolCallStatus::Aborted),
        (result_text::NOT_RUN, ToolCallStatus::NotExecuted),
    ]
    .into_iter()
    .find_map(|(prefix, status)| text.starts_with(prefix).then_some(status))
    .unwrap_or(ToolCallStatus::Error)
}

fn view(s: &StoredChatMessage, tool_calls: Vec<ToolCallView>) -> ChatMessageView {
    ChatMessageView {
        id: s.id,
        session_id: s.session_id.clone(),
        role: s.message.role,
        content: s.message.text(),
        provider: s.provider.clone(),
        model: s.model.clone(),
        tool_calls,
        input_tokens: s.input_tokens,
        output_tokens: s.output_tokens,
        cost_usd: s.cost_usd,
        created_at: s.created_at,
    }
}

/// Builds the `ChatMessage` views of `stored` (chronological). `tiers` gives a tool's tier by
/// name (normally `jarvis_domain::tools::descriptor(name).map(|d| d.tier)`) for calls whose
/// meta does not record one. Answers to calls outside `stored` are dropped; operator messages
/// that only carry answers are not returned.
pub fn chat_message_views(
    stored: &[StoredChatMessage],
    tiers: impl Fn(&str) -> Option<Tier>,
) -> Vec<ChatMessageView> {
    let mut confirmations = BTreeMap::new();
    let mut meta_tiers = BTreeMap::new();
    for s in stored {
        confirmations.extend(s.meta.confirmations.iter().map(|(k, v)| (k.clone(), v.clone())));
        meta_tiers.extend(s.meta.tiers.iter().map(|(k, v)| (k.clone(), *v)));
    }
    let mut views: Vec<ChatMessageView> = Vec::with_capacity(stored.len());
    let mut calls: HashMap<String, (usize, usize)> = HashMap::new();
    // Calls not answered yet: pending unless a later message shows the turn moved on.
    let mut open: Vec<(usize, usize)> = Vec::new();
    let close_open = |views: &mut Vec<ChatMessageView>, open: &mut Vec<(usize, usize)>| {
        for (v, i) in open.drain(..) {
            let call = &mut views[v].tool_calls[i];
            if call.result.is_none() {
                call.status = ToolCallStatus::Aborted;
            }
        }
    };
    for s in stored {
        match s.message.role {
            Role::Assistant => {
                close_open(&mut views, &mut open);
                let made: Vec<ToolCallView> = s
                    .message
                    .tool_uses()
                    .map(|(id, name, input)| ToolCallView {
                        id: id.to_owned(),
                        name: name.to_owned(),
                        input: input.clone(),
                        tier: meta_tiers.get(id).copied().or_else(|| tiers(name)),
                        status: ToolCallStatus::Pending,
                        result: None,
                        confirmation_id: confirmations.get(id).cloned(),
                    })
                    .collect();
                for (i, c) in made.iter().enumerate() {
                    calls.insert(c.id.clone(), (views.len(), i));
                    open.push((views.len(), i));
                }
                views.push(view(s, made));
            }
            Role::User => {
                let statuses = &s.meta.statuses;
                let mut only_results = true;
                for block in &s.message.blocks {
                    let Block::ToolResult { tool_use_id, content, is_error } = block else {
                        only_results = false;
                        continue;
                    };
                    if let Some(&(v, i)) = calls.get(tool_use_id) {
                        let call = &mut views[v].tool_calls[i];
                        call.result = Some(content.clone());
                        call.status = match statuses.get(tool_use_id) {
                            Some(status) => (*status).into(),
                            None => legacy_status(content, *is_error),
                        };
                    }
                }
                close_open(&mut views, &mut open);
                if !only_results || s.message.blocks.is_empty() {
                    views.push(view(s, Vec::new()));
                }
            }
        }
    }
    views
}

#[cfg(test)]
mod tests {
    use super::*;
    use jarvis_domain::agent::Message;
    use serde_json::json;

    fn stored(id: i64, message: Message) -> StoredChatMessage {
        StoredChatMessage {
            id,
            session_id: "s".into(),
            message,
            provider: None,
            model: None,
            input_tokens: 0,
            output_tokens: 0,
            cost_usd: 0.0,
            meta: ChatMessageMeta::default(),
            created_at: DateTime::<Utc>::default(),
        }
    }

    fn call(id: &str, name: &str) -> Block {
        Block::ToolUse { id: id.into(), name: name.into(), input: json!({"node": "pve1"}) }
    }

    fn answer(id: &str, content: &str, is_error: bool) -> Block {
        Block::ToolResult { tool_use_id: id.into(), content: content.into(), is_error }
    }

    fn registry(name: &str) -> Option<Tier> {
        jarvis_domain::tools::descriptor(name).map(|d| d.tier)
    }

    #[test]
    fn legacy_statuses_follow_the_prefixes_only_for_errors() {
        use ToolCallStatus as S;
        assert_eq!(legacy_status("{\"ok\":true}", false), S::Ok);
        assert_eq!(legacy_status("Blocked: protected", false), S::Ok);
        assert_eq!(legacy_status("Blocked: protected VM", true), S::Blocked);
        assert_eq!(legacy_status("Denied: by the operator", true), S::Denied);
        assert_eq!(legacy_status("Expired: nobody decided", true), S::Expired);
        assert_eq!(legacy_status("Aborted: stopped", true), S::Aborted);
        assert_eq!(legacy_status("Not executed: the turn ended first.", true), S::NotExecuted);
        assert_eq!(legacy_status("Awaiting confirmation abc", false), S::Pending);
        assert_eq!(legacy_status("stop_vm failed: 500", true), S::Error);
    }

    #[test]
    fn a_stored_status_wins_over_the_wording() {
        let asked = stored(
            1,
            Message { role: Role::Assistant, blocks: vec![call("a", "stop_vm"), call("b", "x")] },
        );
        let mut results = stored(
            2,
            Message {
                role: Role::User,
                // Words that would read as "denied" and "ok" in an old row.
                blocks: vec![answer("a", "Denied: no.", true), answer("b", "fine", false)],
            },
        );
        results.meta.statuses.insert("a".into(), ToolResultStatus::Error);
        results.meta.statuses.insert("b".into(), ToolResultStatus::NotExecuted);
        let views = chat_message_views(&[asked, results], registry);
        let statuses: Vec<_> = views[0].tool_calls.iter().map(|c| c.status).collect();
        assert_eq!(statuses, [ToolCallStatus::Error, ToolCallStatus::NotExecuted]);
        let json = serde_json::to_value(&views[0]).unwrap();
        assert_eq!(json["toolCalls"][1]["status"], "not_executed");
    }

    #[test]
    fn results_fold_into_their_calls_and_carriers_disappear() {
        let mut asked = stored(
            2,
            Message {
                role: Role::Assistant,
                blocks: vec![
                    Block::text("Checking."),
                    call("t1", "get_cluster_status"),
                    call("t2", "stop_vm"),
                    call("t3", "nonsense"),
                ],
            },
        );
        asked.provider = Some("claude".into());
        asked.meta.confirmations.insert("t2".into(), "conf-1".into());
        let mut results = stored(
            3,
            Message {
                role: Role::User,
                blocks: vec![
                    answer("t1", "{}", false),
                    answer("t2", "Denied: no.", true),
                    answer("t3", "unknown tool", true),
                    answer("zz", "orphan", false),
                ],
            },
        );
        results.meta.tiers.insert("t1".into(), Tier::Yellow);
        let views = chat_message_views(
            &[
                stored(1, Message::user("status?")),
                asked,
                results,
                stored(4, Message::assistant("Done.")),
            ],
            registry,
        );
        assert_eq!(views.iter().map(|v| v.id).collect::<Vec<_>>(), [1, 2, 4]);
        let calls = &views[1].tool_calls;
        assert_eq!(views[1].content, "Checking.");
        assert_eq!(views[1].provider.as_deref(), Some("claude"));
        assert_eq!(calls.len(), 3);
        assert_eq!((calls[0].status, calls[0].tier), (ToolCallStatus::Ok, Some(Tier::Yellow)));
        assert_eq!(calls[0].result.as_deref(), Some("{}"));
        assert_eq!(calls[1].status, ToolCallStatus::Denied);
        assert_eq!(calls[1].tier, registry("stop_vm"));
        assert_eq!(calls[1].confirmation_id.as_deref(), Some("conf-1"));
        assert_eq!((calls[2].status, calls[2].tier), (ToolCallStatus::Error, None));
        let json = serde_json::to_value(&views[1]).unwrap();
        assert_eq!(json["toolCalls"][1]["confirmationId"], "conf-1");
        assert_eq!(json["role"], "assistant");
    }

    #[test]
    fn unanswered_calls_are_pending_at_the_end_and_aborted_before_it() {
        let asked = |id: i64, tool_id: &str| {
            stored(id, Message { role: Role::Assistant, blocks: vec![call(tool_id, "stop_vm")] })
        };
        let views =
            chat_message_views(&[stored(1, Message::user("stop it")), asked(2, "a")], registry);
        assert_eq!(views[1].tool_calls[0].status, ToolCallStatus::Pending);
        assert_eq!(views[1].tool_calls[0].result, None);
        let views = chat_message_views(
            &[asked(2, "a"), stored(3, Message::user("never mind")), asked(4, "b")],
            registry,
        );
        assert_eq!(views[0].tool_calls[0].status, ToolCallStatus::Aborted);
        assert_eq!(views[1].content, "never mind");
        assert_eq!(views[2].tool_calls[0].status, ToolCallStatus::Pending);
    }
}
