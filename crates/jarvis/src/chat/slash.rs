//! Slash commands (CHAT-06) as a provider: [`SlashProvider`] answers like a model would — first a
//! tool call, then, once the tool result is in the transcript, a rendered answer — so a slash
//! command runs through exactly the same turn loop as a model's call: the tool pipeline, the
//! confirmation pause, abort, persistence. No LLM is involved, so slash commands work when no
//! model is configured or reachable.

use async_trait::async_trait;
use futures::stream::{self, BoxStream, StreamExt};
use jarvis_domain::slash::{self, SlashCommand};
use jarvis_llm::{ChatRequest, ContentBlock, LlmError, LlmEvent, LlmProvider, StopReason};
use serde_json::Value;

/// The id of the one call a slash command makes.
const CALL_ID: &str = "slash_1";

/// What the slash "model" answers.
#[derive(Debug, Clone)]
pub enum SlashPlan {
    /// Run the command's tool, then render its result.
    Tool(SlashCommand),
    /// Answer with this text (help, a parse error, the no-model notice).
    Text(String),
}

impl SlashPlan {
    /// The plan for `message` if it is a slash command.
    pub fn parse(message: &str, snapshot: &jarvis_domain::ClusterSnapshot) -> Option<SlashPlan> {
        Some(match slash::parse(message, snapshot)? {
            Ok(SlashCommand::Help) => SlashPlan::Text(slash::help_text()),
            Ok(cmd @ SlashCommand::Tool { .. }) => SlashPlan::Tool(cmd),
            Err(e) => SlashPlan::Text(e.to_string()),
        })
    }

    /// The answer when no model may answer: why, and the slash commands.
    pub fn no_model(why: &str) -> SlashPlan {
        SlashPlan::Text(format!(
            "**No language model is available** ({why}), so I can only answer slash commands.\n\n{}",
            slash::help_text()
        ))
    }
}

/// A provider that answers a [`SlashPlan`].
#[derive(Debug, Clone)]
pub struct SlashProvider(pub SlashPlan);

fn text_stream(text: String) -> BoxStream<'static, Result<LlmEvent, LlmError>> {
    stream::iter(vec![
        Ok(LlmEvent::MessageStart { model: String::new(), input_tokens: Some(0) }),
        Ok(LlmEvent::TextDelta(text)),
        Ok(LlmEvent::Done { stop_reason: StopReason::EndTurn }),
    ])
    .boxed()
}

#[async_trait]
impl LlmProvider for SlashProvider {
    fn name(&self) -> &'static str {
        "slash"
    }

    fn model(&self) -> &str {
        ""
    }

    async fn stream(
        &self,
        req: ChatRequest,
    ) -> Result<BoxStream<'static, Result<LlmEvent, LlmError>>, LlmError> {
        let (cmd, tool, args) = match &self.0 {
            SlashPlan::Text(t) => return Ok(text_stream(t.clone())),
            SlashPlan::Tool(cmd @ SlashCommand::Tool { tool, args, .. }) => {
                (cmd, *tool, args.clone())
            }
            SlashPlan::Tool(SlashCommand::Help) => return Ok(text_stream(slash::help_text())),
        };
        // Second call: the result is the last thing in the transcript.
        let answered = req.messages.last().and_then(|m| {
            m.content.iter().find_map(|b| match b {
                ContentBlock::ToolResult { tool_use_id, content, is_error }
                    if tool_use_id == CALL_ID =>
                {
                    Some((content.clone(), *is_error))
                }
                _ => None,
            })
        });
        if let Some((content, is_error)) = answered {
            let text = if is_error {
                format!("The command did not run: {content}")
            } else {
                match serde_json::from_str::<Value>(&content) {
                    Ok(v) => cmd.render(&v),
                    Err(_) => content,
                }
            };
            return Ok(text_stream(text));
        }
        if req.tools.is_empty() {
            return Ok(text_stream("Tools are not available for this turn.".into()));
        }
        Ok(stream::iter(vec![
            Ok(LlmEvent::MessageStart { model: String::new(), input_tokens: Some(0) }),
            Ok(LlmEvent::ToolCallStart { index: 0, id: CALL_ID.into(), name: tool.into() }),
            Ok(LlmEvent::ToolCallEnd {
                index: 0,
                id: CALL_ID.into(),
                name: tool.into(),
                input: args,
            }),
            Ok(LlmEvent::Done { stop_reason: StopReason::ToolUse }),
        ])
        .boxed())
    }
}
