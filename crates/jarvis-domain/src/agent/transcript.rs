//! The provider-neutral transcript of a chat session: what is persisted, replayed to the UI and
//! turned into each provider's wire format by the server.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use ts_rs::TS;

/// Who authored a transcript message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum Role {
    /// The operator; also carries tool results back to the model.
    User,
    /// The model (or the slash-command handler, which answers without a model).
    Assistant,
}

impl Role {
    /// The stored word.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }

    /// Parses the stored word.
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "user" => Some(Role::User),
            "assistant" => Some(Role::Assistant),
            _ => None,
        }
    }
}

/// One content block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
#[ts(export)]
pub enum Block {
    /// Plain text.
    Text {
        /// The text.
        text: String,
    },
    /// A tool call made by the model.
    #[serde(rename_all = "camelCase")]
    ToolUse {
        /// Provider tool-call id (unique within the message).
        id: String,
        /// Tool name as the model sent it (may be unknown).
        name: String,
        /// Arguments as the model sent them.
        #[ts(type = "unknown")]
        input: Value,
    },
    /// The answer to a tool call (sent to the model on the user side).
    #[serde(rename_all = "camelCase")]
    ToolResult {
        /// The [`Block::ToolUse`] id this answers.
        tool_use_id: String,
        /// What the model sees (already truncated).
        content: String,
        /// Whether the call failed, was refused or denied.
        is_error: bool,
    },
}

impl Block {
    /// A text block.
    pub fn text(text: impl Into<String>) -> Block {
        Block::Text { text: text.into() }
    }
}

/// One message of the transcript.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export, rename = "TranscriptMessage")]
pub struct Message {
    /// Author.
    pub role: Role,
    /// Content, in order.
    pub blocks: Vec<Block>,
}

impl Message {
    /// A user text message.
    pub fn user(text: impl Into<String>) -> Message {
        Message { role: Role::User, blocks: vec![Block::text(text)] }
    }

    /// An assistant text message.
    pub fn assistant(text: impl Into<String>) -> Message {
        Message { role: Role::Assistant, blocks: vec![Block::text(text)] }
    }

    /// All text blocks joined.
    pub fn text(&self) -> String {
        self.blocks
            .iter()
            .filter_map(|b| match b {
                Block::Text { text } => Some(text.as_str()),
                _ => None,
            })
            .collect()
    }

    /// The tool calls of this message.
    pub fn tool_uses(&self) -> impl Iterator<Item = (&str, &str, &Value)> {
        self.blocks.iter().filter_map(|b| match b {
            Block::ToolUse { id, name, input } => Some((id.as_str(), name.as_str(), input)),
            _ => None,
        })
    }
}

/// Makes a loaded history valid for a provider: every tool call gets an answer (a turn cut by a
/// restart or crash can leave calls unanswered, which the Anthropic API rejects), answers to
/// calls that are not in the history are dropped (a history window can start between a call and
/// its answer), and the history starts with a user message.
pub fn repair(history: Vec<Message>) -> Vec<Message> {
    let mut out: Vec<Message> = Vec::with_capacity(history.len());
    let mut open: Vec<String> = Vec::new();
    for mut msg in history {
        if msg.role == Role::User {
            msg.blocks.retain(|b| match b {
                Block::ToolResult { tool_use_id, .. } => open.contains(tool_use_id),
                _ => true,
            });
            let answered: Vec<String> = msg
                .blocks
                .iter()
                .filter_map(|b| match b {
                    Block::ToolResult { tool_use_id, .. } => Some(tool_use_id.clone()),
                    _ => None,
                })
                .collect();
            open.retain(|id| !answered.contains(id));
        }
        if !open.is_empty() {
            // The previous assistant message's calls were never answered.
            let missing: Vec<Block> = open
                .drain(..)
                .map(|id| Block::ToolResult {
                    tool_use_id: id,
                    content: "Not executed: the turn was interrupted.".into(),
                    is_error: true,
                })
                .collect();
            if msg.role == Role::User {
                let mut blocks = missing;
                blocks.append(&mut msg.blocks);
                msg.blocks = blocks;
            } else {
                out.push(Message { role: Role::User, blocks: missing });
            }
        }
        if msg.blocks.is_empty() || (out.is_empty() && msg.role != Role::User) {
            continue;
        }
        if msg.role == Role::Assistant {
            open = msg.tool_uses().map(|(id, _, _)| id.to_owned()).collect();
        }
        out.push(msg);
    }
    if !open.is_empty() {
        out.push(Message {
            role: Role::User,
            blocks: open
                .into_iter()
                .map(|id| Block::ToolResult {
                    tool_use_id: id,
                    content: "Not executed: the turn was interrupted.".into(),
                    is_error: true,
                })
                .collect(),
        });
    }
    out
}
