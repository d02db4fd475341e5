//! The model side of a turn: opening a provider's stream (falling back once to the other
//! provider when the first fails before anything was relayed), turning stream items into machine
//! inputs, and recording each call's usage and cost.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use futures::stream::BoxStream;
use jarvis_domain::agent::{Input, ModelStop};
use jarvis_domain::cost::{Usage, cost_usd};
use jarvis_domain::routing::Provider;
use jarvis_llm::{ChatRequest, LlmError, LlmEvent, LlmProvider, StopReason};

use super::turn::Driver;
use crate::db::usage::NewUsage;

/// How long a provider may take to start answering, and between two stream items.
pub(super) const MODEL_IDLE_TIMEOUT: Duration = Duration::from_secs(120);

pub(super) type ModelStream = BoxStream<'static, Result<LlmEvent, LlmError>>;

/// Who answers the current model call.
pub(super) struct Answerer {
    pub(super) provider: Arc<dyn LlmProvider>,
    /// `None` for slash commands (no usage, no cost, no fallback).
    pub(super) kind: Option<Provider>,
}

/// Usage of the model call in flight.
#[derive(Default)]
pub(super) struct CallUsage {
    pub(super) model: String,
    pub(super) input: Option<u64>,
    pub(super) output: Option<u64>,
    pub(super) prompt_chars: usize,
    pub(super) output_chars: usize,
    /// Anything relayed yet (after that, a failure cannot fall back).
    pub(super) relayed: bool,
}

/// Size of a request in characters, for estimating usage when a server reports none.
pub(super) fn request_chars(req: &ChatRequest) -> usize {
    use jarvis_llm::ContentBlock as B;
    let blocks: usize = req
        .messages
        .iter()
        .flat_map(|m| &m.content)
        .map(|b| match b {
            B::Text(t) => t.len(),
            B::ToolUse { name, input, .. } => name.len() + input.to_string().len(),
            B::ToolResult { content, .. } => content.len(),
        })
        .sum();
    let tools: usize =
        req.tools.iter().map(|t| t.description.len() + t.input_schema.to_string().len()).sum();
    req.system.len() + blocks + tools
}

impl Driver {
    /// Opens a stream for the current answerer, falling back once when it fails to start.
    /// `Err(None)` when the operator aborted while the provider was being reached.
    pub(super) async fn open(&mut self, tools: bool) -> Result<ModelStream, Option<String>> {
        self.offer_tools = tools;
        loop {
            let req = self
                .svc
                .build_request(
                    self.answerer.provider.name(),
                    &self.transcript,
                    tools,
                    self.override_active,
                )
                .await;
            self.usage = CallUsage {
                model: self.answerer.provider.model().to_owned(),
                prompt_chars: request_chars(&req),
                ..CallUsage::default()
            };
            let started = tokio::select! {
                _ = self.cancel.cancelled() => return Err(None),
                r = tokio::time::timeout(MODEL_IDLE_TIMEOUT, self.answerer.provider.stream(req)) => r,
            };
            let err = match started {
                Ok(Ok(s)) => return Ok(s),
                Ok(Err(e)) => e,
                Err(_) => LlmError::Timeout,
            };
            if !self.fall_back(&err).await {
                return Err(Some(err.to_string()));
            }
        }
    }

    /// Switches to the other provider after `err`, if allowed; announces it.
    async fn fall_back(&mut self, err: &LlmError) -> bool {
        let Some(kind) = self.answerer.kind else { return false };
        self.svc.record_outcome(
            kind.as_str(),
            crate::chat::ProviderOutcome::Failed(self.svc.now(), err.to_string()),
        );
        if self.tried_fallback || !err.should_fall_back() || self.usage.relayed {
            return false;
        }
        let other = match kind {
            Provider::Claude => Provider::Local,
            Provider::Local => Provider::Claude,
        };
        let Some(provider) = self.svc.provider(other) else { return false };
        if other == Provider::Claude && self.budget_exceeded().await {
            return false;
        }
        self.tried_fallback = true;
        let reason =
            format!("{} failed ({err}); {} answers instead", kind.as_str(), other.as_str());
        self.svc
            .announce(other.as_str(), provider.model(), &reason, "fallback", true, &self.session_id)
            .await;
        self.answerer = Answerer { provider, kind: Some(other) };
        true
    }

    /// Whether the daily budget is spent (unknown counts as spent: no Claude call then).
    async fn budget_exceeded(&self) -> bool {
        self.svc.routing().await.map_or(true, |(_, exceeded)| exceeded)
    }

    /// Turns one stream item into machine inputs.
    pub(super) async fn model_item(
        &mut self,
        item: Option<Result<Result<LlmEvent, LlmError>, ()>>,
    ) -> Step {
        let event = match item {
            None => Err(LlmError::Stream("the response ended before it was complete".into())),
            Some(Err(())) => Err(LlmError::Timeout),
            Some(Ok(r)) => r,
        };
        match event {
            Ok(LlmEvent::MessageStart { model, input_tokens }) => {
                if !model.is_empty() {
                    self.usage.model = model;
                }
                if input_tokens.is_some() {
                    self.usage.input = input_tokens;
                }
                Step::Nothing
            }
            Ok(LlmEvent::TextDelta(t)) => Step::Input(Input::ModelText(t)),
            Ok(LlmEvent::ToolCallStart { .. } | LlmEvent::ToolCallArgsDelta { .. }) => {
                Step::Nothing
            }
            Ok(LlmEvent::ToolCallEnd { id, name, input, .. }) => {
                Step::Input(Input::ModelToolCall { id, name, input })
            }
            Ok(LlmEvent::Usage { input_tokens, output_tokens }) => {
                self.usage.input = Some(input_tokens);
                self.usage.output = Some(output_tokens);
                Step::Nothing
            }
            Ok(LlmEvent::Done { stop_reason }) => {
                self.record_usage().await;
                let stop = if stop_reason == StopReason::MaxTokens {
                    ModelStop::MaxTokens
                } else {
                    ModelStop::Complete
                };
                Step::Inputs(vec![Input::ModelDone(stop)])
            }
            Err(e) => {
                if self.fall_back(&e).await {
                    return match self.open(self.offer_tools).await {
                        Ok(s) => Step::Retry(s),
                        Err(Some(msg)) => Step::Inputs(vec![Input::ModelFailed(msg)]),
                        Err(None) => Step::Inputs(vec![Input::Abort]),
                    };
                }
                Step::Inputs(vec![Input::ModelFailed(e.to_string())])
            }
        }
    }

    /// Stores the finished call's usage and cost (estimated when the server sent none).
    async fn record_usage(&mut self) {
        let Some(kind) = self.answerer.kind else { return };
        let estimated = self.usage.input.is_none() || self.usage.output.is_none();
        let usage = Usage::new(
            self.usage.input.unwrap_or((self.usage.prompt_chars as u64).div_ceil(4)),
            self.usage.output.unwrap_or((self.usage.output_chars as u64).div_ceil(4).max(1)),
        );
        let cost = cost_usd(&self.svc.inner.settings.prices, kind, &self.usage.model, &usage);
        self.svc.inner.metrics.llm_call(
            kind.as_str(),
            usage.input_tokens,
            usage.output_tokens,
            cost,
        );
        self.svc.record_outcome(kind.as_str(), crate::chat::ProviderOutcome::Ok(self.svc.now()));
        self.turn_usage.input_tokens += usage.input_tokens;
        self.turn_usage.output_tokens += usage.output_tokens;
        self.turn_cost += cost;
        self.last_call = Some((usage.input_tokens, usage.output_tokens, cost));
        let row = NewUsage {
            session_id: Some(self.session_id.clone()),
            at: self.svc.now(),
            provider: kind,
            model: self.usage.model.clone(),
            usage,
            cost_usd: cost,
            estimated,
        };
        if let Err(e) = self.svc.inner.db.record_llm_usage(row).await {
            tracing::error!(error = %e, "could not record LLM usage");
        }
    }
}

/// What one stream item means for the loop.
pub(super) enum Step {
    Input(Input),
    /// The response ended (these inputs finish it); drop the stream.
    Inputs(Vec<Input>),
    /// A fallback stream replaces the failed one.
    Retry(ModelStream),
    Nothing,
}

/// The next stream item, or `Err(())` when none came in time.
pub(super) async fn next_item(
    stream: &mut Option<ModelStream>,
) -> Option<Result<Result<LlmEvent, LlmError>, ()>> {
    let s = stream.as_mut()?;
    match tokio::time::timeout(MODEL_IDLE_TIMEOUT, s.next()).await {
        Ok(item) => item.map(Ok),
        Err(_) => Some(Err(())),
    }
}
