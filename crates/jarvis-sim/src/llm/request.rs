//! A wire-neutral view of a chat request body (Anthropic Messages or OpenAI chat completions),
//! just what the demo responder needs: the offered tools, the system prompt, the operator's
//! last words or the tool results being answered, and all tool results seen so far.
//!
//! Parsing is tolerant: anything missing or oddly shaped reads as empty, because the demo must
//! answer every request sensibly rather than reject it.

use std::collections::HashMap;

use serde_json::Value;

use super::Api;

/// One tool result sent back to the model.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ToolResult {
    /// The tool that produced it (from the assistant's matching call; empty if not found).
    pub tool: String,
    /// The arguments of that call (`{}` if not found).
    pub input: Value,
    /// The result text (OpenAI's `Error: ` prefix removed).
    pub content: String,
    /// Whether the tool failed (Anthropic `is_error`; OpenAI: content starting `Error: `).
    pub is_error: bool,
}

/// What the demo responder reads from a request.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct RequestView {
    /// Names of the tools the request offers.
    pub tools: Vec<String>,
    /// The system prompt (Anthropic `system`, OpenAI `system` messages), joined by newlines.
    pub system: String,
    /// The text of the last message when it is the operator's (empty otherwise).
    pub user_text: String,
    /// The tool results the last message carries (empty unless it answers tool calls).
    pub results: Vec<ToolResult>,
    /// The contents of every tool result in the conversation, newest first.
    pub history: Vec<String>,
}

impl RequestView {
    /// Reads a request body of the given wire format.
    pub(crate) fn parse(api: Api, body: &Value) -> Self {
        let messages =
            body.get("messages").and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
        let mut view = match api {
            Api::Anthropic => anthropic(body, messages),
            Api::OpenAi => openai(messages),
        };
        view.tools = tool_names(api, body);
        view.history.reverse();
        view
    }

    /// Whether the request offers a tool of this name.
    pub(crate) fn offers(&self, tool: &str) -> bool {
        self.tools.iter().any(|t| t == tool)
    }
}

fn tool_names(api: Api, body: &Value) -> Vec<String> {
    let name_at = match api {
        Api::Anthropic => "/name",
        Api::OpenAi => "/function/name",
    };
    let tools = body.get("tools").and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
    tools.iter().filter_map(|t| t.pointer(name_at)?.as_str().map(str::to_owned)).collect()
}

/// Text of a content value: a string, or the `text` of every text block/part, joined.
fn text_of(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter(|p| p.get("type").and_then(Value::as_str) == Some("text"))
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

fn str_at<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

fn anthropic(body: &Value, messages: &[Value]) -> RequestView {
    let mut view = RequestView {
        system: body.get("system").map(text_of).unwrap_or_default(),
        ..Default::default()
    };
    // Tool calls by id, from assistant messages, to name the results.
    let mut calls: HashMap<&str, (&str, &Value)> = HashMap::new();
    for (i, message) in messages.iter().enumerate() {
        let last = i + 1 == messages.len();
        let content = message.get("content").unwrap_or(&Value::Null);
        let blocks = content.as_array().map_or(&[][..], Vec::as_slice);
        match str_at(message, "role") {
            "assistant" => {
                for b in blocks.iter().filter(|b| str_at(b, "type") == "tool_use") {
                    calls.insert(str_at(b, "id"), (str_at(b, "name"), &b["input"]));
                }
            }
            "user" => {
                for b in blocks.iter().filter(|b| str_at(b, "type") == "tool_result") {
                    let text = b.get("content").map(text_of).unwrap_or_default();
                    view.history.push(text.clone());
                    if last {
                        let (tool, input) = calls
                            .get(str_at(b, "tool_use_id"))
                            .copied()
                            .unwrap_or(("", &Value::Null));
                        view.results.push(ToolResult {
                            tool: tool.to_owned(),
                            input: if input.is_object() {
                                input.clone()
                            } else {
                                serde_json::json!({})
                            },
                            content: text,
                            is_error: b.get("is_error").and_then(Value::as_bool).unwrap_or(false),
                        });
                    }
                }
                if last && view.results.is_empty() {
                    view.user_text = text_of(content);
                }
            }
            _ => {}
        }
    }
    view
}

fn openai(messages: &[Value]) -> RequestView {
    let mut view = RequestView::default();
    let mut system = Vec::new();
    let mut calls: HashMap<&str, (&str, Value)> = HashMap::new();
    // Tool messages at the end of the conversation are the results being answered.
    let trailing_tools = messages.iter().rev().take_while(|m| str_at(m, "role") == "tool").count();
    let first_trailing = messages.len() - trailing_tools;
    for (i, message) in messages.iter().enumerate() {
        let content = message.get("content").unwrap_or(&Value::Null);
        match str_at(message, "role") {
            "system" | "developer" => system.push(text_of(content)),
            "assistant" => {
                let tool_calls = message.get("tool_calls").and_then(Value::as_array);
                for c in tool_calls.map_or(&[][..], Vec::as_slice) {
                    let args =
                        c.pointer("/function/arguments").and_then(Value::as_str).unwrap_or("");
                    let input = serde_json::from_str::<Value>(args)
                        .ok()
                        .filter(Value::is_object)
                        .unwrap_or_else(|| serde_json::json!({}));
                    let name = c.pointer("/function/name").and_then(Value::as_str).unwrap_or("");
                    calls.insert(str_at(c, "id"), (name, input));
                }
            }
            "tool" => {
                let text = text_of(content);
                view.history.push(text.clone());
                if i >= first_trailing {
                    let (tool, input) = calls
                        .get(str_at(message, "tool_call_id"))
                        .cloned()
                        .unwrap_or(("", serde_json::json!({})));
                    let (content, is_error) = match text.strip_prefix("Error: ") {
                        Some(rest) => (rest.to_owned(), true),
                        None => (text, false),
                    };
                    view.results.push(ToolResult {
                        tool: tool.to_owned(),
                        input,
                        content,
                        is_error,
                    });
                }
            }
            "user" if i + 1 == messages.len() => view.user_text = text_of(content),
            _ => {}
        }
    }
    view.system = system.join("\n");
    view
}
