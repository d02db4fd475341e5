//! Provider-neutral chat request: system prompt, conversation, tool specs.

use serde_json::{Value, json};

/// A tool the model may call.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolSpec {
    /// Tool name.
    pub name: String,
    /// What the tool does (shown to the model).
    pub description: String,
    /// JSON Schema of the tool's input object.
    pub input_schema: Value,
}

/// One content block of a message.
#[derive(Debug, Clone, PartialEq)]
pub enum ContentBlock {
    /// Plain text.
    Text(String),
    /// A tool call made by the assistant.
    ToolUse {
        /// Provider tool-call id.
        id: String,
        /// Tool name.
        name: String,
        /// Parsed arguments.
        input: Value,
    },
    /// The result of a tool call, sent back by the user side.
    ToolResult {
        /// The id of the [`ContentBlock::ToolUse`] this answers.
        tool_use_id: String,
        /// Result text.
        content: String,
        /// Whether the tool failed.
        is_error: bool,
    },
}

/// Who authored a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The operator (and tool results).
    User,
    /// The model.
    Assistant,
}

/// One message of the conversation.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatMessage {
    /// Author.
    pub role: Role,
    /// Content blocks, in order.
    pub content: Vec<ContentBlock>,
}

impl ChatMessage {
    /// A user text message.
    pub fn user(text: impl Into<String>) -> Self {
        Self { role: Role::User, content: vec![ContentBlock::Text(text.into())] }
    }

    /// An assistant text message.
    pub fn assistant(text: impl Into<String>) -> Self {
        Self { role: Role::Assistant, content: vec![ContentBlock::Text(text.into())] }
    }

    /// A user message carrying one tool result.
    pub fn tool_result(
        tool_use_id: impl Into<String>,
        content: impl Into<String>,
        is_error: bool,
    ) -> Self {
        Self {
            role: Role::User,
            content: vec![ContentBlock::ToolResult {
                tool_use_id: tool_use_id.into(),
                content: content.into(),
                is_error,
            }],
        }
    }
}

/// A provider-neutral chat request.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChatRequest {
    /// System prompt (omitted from the wire when empty).
    pub system: String,
    /// Conversation so far.
    pub messages: Vec<ChatMessage>,
    /// Tools the model may call.
    pub tools: Vec<ToolSpec>,
    /// Output token cap; `None` uses the client default.
    pub max_tokens: Option<u32>,
}

impl ChatRequest {
    /// Anthropic Messages wire body (`stream: true`).
    pub fn to_anthropic(&self, model: &str, default_max_tokens: u32) -> Value {
        let messages: Vec<Value> = self
            .messages
            .iter()
            .map(|m| {
                let role = match m.role {
                    Role::User => "user",
                    Role::Assistant => "assistant",
                };
                let content: Vec<Value> = m.content.iter().map(anthropic_block).collect();
                json!({ "role": role, "content": content })
            })
            .collect();
        let mut body = json!({
            "model": model,
            "max_tokens": self.max_tokens.unwrap_or(default_max_tokens),
            "stream": true,
            "messages": messages,
        });
        if !self.system.is_empty() {
            body["system"] = json!(self.system);
        }
        if !self.tools.is_empty() {
            body["tools"] = self
                .tools
                .iter()
                .map(|t| {
                    json!({
                        "name": t.name,
                        "description": t.description,
                        "input_schema": t.input_schema,
                    })
                })
                .collect();
        }
        body
    }

    /// OpenAI chat-completions wire body (`stream: true`, usage requested): the system prompt
    /// as the first message, assistant tool calls as `tool_calls` (arguments as a JSON
    /// string), and tool results as `role: "tool"` messages (failed ones prefixed `Error: `,
    /// as the format has no error flag). `tools` is omitted when empty.
    pub fn to_openai(&self, model: &str, default_max_tokens: u32) -> Value {
        let mut messages = Vec::new();
        if !self.system.is_empty() {
            messages.push(json!({ "role": "system", "content": self.system }));
        }
        for m in &self.messages {
            openai_messages(m, &mut messages);
        }
        let mut body = json!({
            "model": model,
            "max_tokens": self.max_tokens.unwrap_or(default_max_tokens),
            "stream": true,
            "stream_options": { "include_usage": true },
            "messages": messages,
        });
        if !self.tools.is_empty() {
            body["tools"] = self
                .tools
                .iter()
                .map(|t| {
                    json!({
                        "type": "function",
                        "function": {
                            "name": t.name,
                            "description": t.description,
                            "parameters": t.input_schema,
                        },
                    })
                })
                .collect();
        }
        body
    }
}

/// Appends the OpenAI messages for one neutral message: an assistant message (text joined,
/// `content: null` when it only calls tools), or tool messages followed by any user text.
fn openai_messages(m: &ChatMessage, out: &mut Vec<Value>) {
    let mut text = String::new();
    let mut tool_calls = Vec::new();
    for block in &m.content {
        match block {
            ContentBlock::Text(t) => text.push_str(t),
            ContentBlock::ToolUse { id, name, input } => tool_calls.push(json!({
                "id": id,
                "type": "function",
                "function": { "name": name, "arguments": input.to_string() },
            })),
            ContentBlock::ToolResult { tool_use_id, content, is_error } => {
                let content = if *is_error { format!("Error: {content}") } else { content.clone() };
                out.push(
                    json!({ "role": "tool", "tool_call_id": tool_use_id, "content": content }),
                );
            }
        }
    }
    match m.role {
        Role::Assistant => {
            let mut msg = json!({ "role": "assistant", "content": text });
            if !tool_calls.is_empty() {
                if text.is_empty() {
                    msg["content"] = Value::Null;
                }
                msg["tool_calls"] = Value::Array(tool_calls);
            }
            if !text.is_empty() || msg.get("tool_calls").is_some() {
                out.push(msg);
            }
        }
        Role::User => {
            if !text.is_empty() {
                out.push(json!({ "role": "user", "content": text }));
            }
        }
    }
}

fn anthropic_block(block: &ContentBlock) -> Value {
    match block {
        ContentBlock::Text(text) => json!({ "type": "text", "text": text }),
        ContentBlock::ToolUse { id, name, input } => {
            json!({ "type": "tool_use", "id": id, "name": name, "input": input })
        }
        ContentBlock::ToolResult { tool_use_id, content, is_error } => json!({
            "type": "tool_result",
            "tool_use_id": tool_use_id,
            "content": content,
            "is_error": is_error,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anthropic_wire_format() {
        let req = ChatRequest {
            system: "You are Jarvis.".into(),
            messages: vec![
                ChatMessage::user("weather in Paris?"),
                ChatMessage {
                    role: Role::Assistant,
                    content: vec![
                        ContentBlock::Text("Checking.".into()),
                        ContentBlock::ToolUse {
                            id: "toolu_1".into(),
                            name: "get_weather".into(),
                            input: json!({"location": "Paris"}),
                        },
                    ],
                },
                ChatMessage::tool_result("toolu_1", "boom", true),
            ],
            tools: vec![ToolSpec {
                name: "get_weather".into(),
                description: "Weather".into(),
                input_schema: json!({"type": "object"}),
            }],
            max_tokens: None,
        };
        let body = req.to_anthropic("claude-x", 1024);
        assert_eq!(
            body,
            json!({
                "model": "claude-x",
                "max_tokens": 1024,
                "stream": true,
                "system": "You are Jarvis.",
                "messages": [
                    {"role": "user", "content": [{"type": "text", "text": "weather in Paris?"}]},
                    {"role": "assistant", "content": [
                        {"type": "text", "text": "Checking."},
                        {"type": "tool_use", "id": "toolu_1", "name": "get_weather",
                         "input": {"location": "Paris"}}
                    ]},
                    {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1",
                        "content": "boom", "is_error": true}]}
                ],
                "tools": [{"name": "get_weather", "description": "Weather",
                           "input_schema": {"type": "object"}}]
            })
        );
        let bare = ChatRequest {
            messages: vec![ChatMessage::user("hi")],
            max_tokens: Some(5),
            ..Default::default()
        }
        .to_anthropic("m", 1024);
        assert!(bare.get("system").is_none() && bare.get("tools").is_none());
        assert_eq!(bare["max_tokens"], 5);
    }

    #[test]
    fn openai_wire_format() {
        let req = ChatRequest {
            system: "You are Jarvis.".into(),
            messages: vec![
                ChatMessage::user("weather in Paris and Rome?"),
                ChatMessage {
                    role: Role::Assistant,
                    content: vec![
                        ContentBlock::Text("Checking.".into()),
                        ContentBlock::ToolUse {
                            id: "call_1".into(),
                            name: "get_weather".into(),
                            input: json!({"location": "Paris"}),
                        },
                        ContentBlock::ToolUse {
                            id: "call_2".into(),
                            name: "get_weather".into(),
                            input: json!({"location": "Rome"}),
                        },
                    ],
                },
                ChatMessage {
                    role: Role::User,
                    content: vec![
                        ContentBlock::ToolResult {
                            tool_use_id: "call_1".into(),
                            content: "sunny".into(),
                            is_error: false,
                        },
                        ContentBlock::ToolResult {
                            tool_use_id: "call_2".into(),
                            content: "boom".into(),
                            is_error: true,
                        },
                    ],
                },
                ChatMessage {
                    role: Role::Assistant,
                    content: vec![ContentBlock::ToolUse {
                        id: "call_3".into(),
                        name: "noop".into(),
                        input: json!({}),
                    }],
                },
                ChatMessage::tool_result("call_3", "ok", false),
                ChatMessage::assistant("Paris is sunny."),
            ],
            tools: vec![ToolSpec {
                name: "get_weather".into(),
                description: "Weather".into(),
                input_schema: json!({"type": "object"}),
            }],
            max_tokens: None,
        };
        let body = req.to_openai("qwen", 1024);
        assert_eq!(
            body,
            json!({
                "model": "qwen",
                "max_tokens": 1024,
                "stream": true,
                "stream_options": {"include_usage": true},
                "messages": [
                    {"role": "system", "content": "You are Jarvis."},
                    {"role": "user", "content": "weather in Paris and Rome?"},
                    {"role": "assistant", "content": "Checking.", "tool_calls": [
                        {"id": "call_1", "type": "function", "function":
                            {"name": "get_weather", "arguments": "{\"location\":\"Paris\"}"}},
                        {"id": "call_2", "type": "function", "function":
                            {"name": "get_weather", "arguments": "{\"location\":\"Rome\"}"}}
                    ]},
                    {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
                    {"role": "tool", "tool_call_id": "call_2", "content": "Error: boom"},
                    {"role": "assistant", "content": null, "tool_calls": [
                        {"id": "call_3", "type": "function",
                         "function": {"name": "noop", "arguments": "{}"}}
                    ]},
                    {"role": "tool", "tool_call_id": "call_3", "content": "ok"},
                    {"role": "assistant", "content": "Paris is sunny."}
                ],
                "tools": [{"type": "function", "function": {"name": "get_weather",
                    "description": "Weather", "parameters": {"type": "object"}}}]
            })
        );
        let bare = ChatRequest {
            messages: vec![ChatMessage::user("hi")],
            max_tokens: Some(5),
            ..Default::default()
        }
        .to_openai("m", 1024);
        assert!(bare.get("tools").is_none());
        assert_eq!(bare["messages"], json!([{"role": "user", "content": "hi"}]));
        assert_eq!(bare["max_tokens"], 5);
    }
}
