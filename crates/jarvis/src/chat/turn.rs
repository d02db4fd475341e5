//! Drives one turn: routes it, then runs `jarvis_domain::agent::Turn`, carrying out its effects —
//! model calls (with fallback to the other provider when the first fails before answering),
//! tool calls through the pipeline (concurrently, each with a timeout), confirmation waits on the
//! bus, persistence with tokens and cost — and feeding back what happened, until it finishes.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use futures::stream::{BoxStream, FuturesUnordered};
use jarvis_domain::agent::{Block, Effect, FinishReason, Input, Message, ModelStop, Role, Turn};
use jarvis_domain::cost::{Usage, cost_usd};
use jarvis_domain::routing::Provider;
use jarvis_llm::{ChatRequest, LlmError, LlmEvent, LlmProvider, StopReason};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::events::{ChatEvent, ConfirmNeeded, UsageView};
use super::slash::{SlashPlan, SlashProvider};
use super::tooling::{ToolFuture, tier_word};
use super::{ChatService, Sender};
use crate::db::chat::{ChatMessageMeta, NewChatMessage};
use crate::db::usage::NewUsage;
use crate::tools::Source;

/// How long a provider may take to start answering, and between two stream items.
const MODEL_IDLE_TIMEOUT: Duration = Duration::from_secs(120);

type ModelStream = BoxStream<'static, Result<LlmEvent, LlmError>>;

/// Who answers the current model call.
pub(super) struct Answerer {
    provider: Arc<dyn LlmProvider>,
    /// `None` for slash commands (no usage, no cost, no fallback).
    kind: Option<Provider>,
}

/// Usage of the model call in flight.
#[derive(Default)]
pub(super) struct CallUsage {
    model: String,
    input: Option<u64>,
    output: Option<u64>,
    prompt_chars: usize,
    output_chars: usize,
    /// Anything relayed yet (after that, a failure cannot fall back).
    relayed: bool,
}

/// Size of a request in characters, for estimating usage when a server reports none.
fn request_chars(req: &ChatRequest) -> usize {
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

impl ChatService {
    async fn emit(&self, session_id: &str, event: ChatEvent) {
        self.sink().emit(session_id, event).await;
    }

    /// Runs one turn to its end; never panics the server on bad provider output.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn run_turn(
        self,
        session_id: String,
        text: String,
        override_active: bool,
        sender: Sender,
        history: Vec<Message>,
        user: (i64, Message),
        cancel: CancellationToken,
    ) {
        let (user_id, user) = user;
        let view = self.user_view(&session_id, user_id, &user);
        self.emit(&session_id, ChatEvent::Message(view)).await;
        let mut transcript = history;
        transcript.push(user);
        let answerer = match self.choose(&session_id, &text, override_active, &transcript).await {
            Ok(a) => a,
            Err(e) => {
                self.finish_running(&session_id);
                self.emit(
                    &session_id,
                    ChatEvent::Error { code: e.code().into(), message: e.to_string() },
                )
                .await;
                return;
            }
        };
        let mut driver = Driver {
            svc: self.clone(),
            session_id: session_id.clone(),
            sender,
            override_active,
            answerer,
            tried_fallback: false,
            transcript,
            usage: CallUsage::default(),
            turn_usage: UsageView::default(),
            turn_cost: 0.0,
            confirmations: HashMap::new(),
            pending: Vec::new(),
            confirmation_by_call: HashMap::new(),
            last_call: None,
            offer_tools: true,
            cancel,
        };
        // The driver leaves the running set itself, right before `chat:done`.
        driver.run().await;
    }

    fn user_view(&self, session_id: &str, id: i64, user: &Message) -> Value {
        json!({
            "id": id, "sessionId": session_id, "role": "user", "content": user.text(),
            "provider": null, "model": null, "toolCalls": [], "inputTokens": 0,
            "outputTokens": 0, "costUsd": 0.0, "createdAt": crate::db::timestamp(Utc::now()),
        })
    }

    /// Slash command, routed provider, or the no-model answer; announces it as `chat:route`.
    async fn choose(
        &self,
        session_id: &str,
        text: &str,
        override_active: bool,
        transcript: &[Message],
    ) -> Result<Answerer, super::ChatError> {
        let snapshot = self.inner.cluster.snapshot();
        if let Some(plan) = SlashPlan::parse(text, &snapshot) {
            let command = text.split_whitespace().next().unwrap_or("/").to_owned();
            self.announce(
                "slash",
                "",
                &format!("slash command {command}"),
                "slash",
                false,
                session_id,
            )
            .await;
            return Ok(Answerer { provider: Arc::new(SlashProvider(plan)), kind: None });
        }
        let pending = !self
            .inner
            .pipeline
            .pending()
            .await
            .map_err(|e| super::ChatError::Invalid(format!("could not read confirmations: {e}")))?
            .is_empty();
        let history = &transcript[..transcript.len().saturating_sub(1)];
        let outcome = self.route(text, override_active, pending, history).await?;
        let reason = outcome.reason();
        let code = serde_json::to_value(reason)
            .ok()
            .and_then(|v| v.get("code").and_then(Value::as_str).map(str::to_owned))
            .unwrap_or_default();
        let chosen = outcome.provider().and_then(|kind| Some((kind, self.provider(kind)?)));
        match chosen {
            Some((kind, provider)) => {
                self.announce(
                    kind.as_str(),
                    provider.model(),
                    &reason.text(),
                    &code,
                    false,
                    session_id,
                )
                .await;
                Ok(Answerer { provider, kind: Some(kind) })
            }
            None => {
                self.announce("slash", "", &reason.text(), &code, false, session_id).await;
                let plan = SlashPlan::no_model(&reason.text());
                Ok(Answerer { provider: Arc::new(SlashProvider(plan)), kind: None })
            }
        }
    }

    async fn announce(
        &self,
        provider: &str,
        model: &str,
        reason: &str,
        code: &str,
        fallback: bool,
        session_id: &str,
    ) {
        let event = ChatEvent::Route {
            provider: provider.into(),
            model: model.into(),
            reason: reason.into(),
            reason_code: code.into(),
            fallback,
        };
        self.emit(session_id, event).await;
    }
}

/// The state of one running turn outside the pure machine.
pub(super) struct Driver {
    pub(super) svc: ChatService,
    pub(super) session_id: String,
    pub(super) sender: Sender,
    pub(super) override_active: bool,
    pub(super) answerer: Answerer,
    pub(super) tried_fallback: bool,
    pub(super) transcript: Vec<Message>,
    pub(super) usage: CallUsage,
    pub(super) turn_usage: UsageView,
    pub(super) turn_cost: f64,
    /// Confirmation id → (call id, expiry).
    pub(super) confirmations: HashMap<String, (String, DateTime<Utc>)>,
    pub(super) pending: Vec<ConfirmNeeded>,
    /// Call id → its confirmation (stored with the answers, for replay).
    pub(super) confirmation_by_call: HashMap<String, String>,
    /// Tokens and cost of the last finished model call (stored with its message).
    pub(super) last_call: Option<(u64, u64, f64)>,
    /// Whether the model call in flight offers tools.
    pub(super) offer_tools: bool,
    /// Thrown by `chat:abort` (and shutdown).
    pub(super) cancel: CancellationToken,
}

impl Driver {
    pub(super) async fn emit(&self, event: ChatEvent) {
        self.svc.emit(&self.session_id, event).await;
    }

    async fn run(&mut self) {
        let cancel = self.cancel.clone();
        let (mut turn, first) = Turn::start(self.svc.turn_config());
        let mut queue: VecDeque<Effect> = first.into();
        let mut stream: Option<ModelStream> = None;
        let mut tools: FuturesUnordered<ToolFuture> = FuturesUnordered::new();
        let mut bus = self.svc.inner.bus.subscribe();
        let mut cancelled = false;
        loop {
            while let Some(effect) = queue.pop_front() {
                match effect {
                    Effect::CallModel { tools: offer, .. } => match self.open(offer).await {
                        Ok(s) => stream = Some(s),
                        Err(Some(e)) => queue.extend(turn.handle(Input::ModelFailed(e))),
                        Err(None) => {
                            cancelled = true;
                            queue.extend(turn.handle(Input::Abort));
                        }
                    },
                    Effect::EmitText(t) => {
                        self.usage.relayed = true;
                        self.usage.output_chars += t.len();
                        self.emit(ChatEvent::Token(t)).await;
                    }
                    Effect::EmitToolUse { id, name, input } => {
                        self.usage.relayed = true;
                        self.usage.output_chars += input.to_string().len();
                        let tier = tier_word(&name);
                        self.emit(ChatEvent::ToolUse {
                            tool_use_id: id,
                            tool_name: name,
                            tool_input: input,
                            tier,
                        })
                        .await;
                    }
                    Effect::RunTool { id, name, input } => {
                        tools.push(self.run_tool(id, name, input))
                    }
                    Effect::EmitToolResult { id, content, is_error } => {
                        self.emit(ChatEvent::ToolResult {
                            tool_use_id: id,
                            result: content,
                            is_error,
                        })
                        .await;
                    }
                    Effect::AwaitConfirmation { .. } => {}
                    Effect::CancelConfirmation { confirmation_id } => {
                        let _ = self
                            .svc
                            .inner
                            .pipeline
                            .decide(
                                &confirmation_id,
                                false,
                                &self.sender.actor,
                                Source::Chat,
                                self.sender.jti.clone(),
                            )
                            .await;
                        self.forget_confirmation(&confirmation_id);
                    }
                    Effect::Persist(m) => self.persist(m).await,
                    Effect::Finish(reason) => {
                        self.finish(reason).await;
                        return;
                    }
                }
            }
            let expiry = self.confirmations.values().map(|(_, at)| *at).min();
            let sleep_for = expiry
                .map(|at| {
                    (at - Utc::now()).to_std().unwrap_or_default() + Duration::from_millis(500)
                })
                .unwrap_or(Duration::from_secs(3600));
            tokio::select! {
                biased;
                _ = cancel.cancelled(), if !cancelled => {
                    cancelled = true;
                    stream = None;
                    queue.extend(turn.handle(Input::Abort));
                }
                item = next_item(&mut stream), if stream.is_some() => {
                    match self.model_item(item).await {
                        Step::Input(input) => queue.extend(turn.handle(input)),
                        Step::Inputs(inputs) => {
                            for input in inputs {
                                queue.extend(turn.handle(input));
                            }
                            stream = None;
                        }
                        Step::Retry(s) => stream = Some(s),
                        Step::Nothing => {}
                    }
                }
                Some((id, run)) = tools.next(), if !tools.is_empty() => {
                    let input = self.tool_done(&id, run).await;
                    queue.extend(turn.handle(input));
                }
                msg = bus.recv(), if !self.confirmations.is_empty() => {
                    for input in self.bus_message(msg).await {
                        queue.extend(turn.handle(input));
                    }
                }
                _ = tokio::time::sleep(sleep_for), if expiry.is_some() => {
                    for input in self.check_expired().await {
                        queue.extend(turn.handle(input));
                    }
                }
            }
        }
    }

    /// Opens a stream for the current answerer, falling back once when it fails to start.
    /// `Err(None)` when the operator aborted while the provider was being reached.
    async fn open(&mut self, tools: bool) -> Result<ModelStream, Option<String>> {
        self.offer_tools = tools;
        loop {
            let req = self.svc.build_request(
                self.answerer.provider.name(),
                &self.transcript,
                tools,
                self.override_active,
            );
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
            super::ProviderOutcome::Failed(Utc::now(), err.to_string()),
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
    async fn model_item(&mut self, item: Option<Result<Result<LlmEvent, LlmError>, ()>>) -> Step {
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
        self.svc.record_outcome(kind.as_str(), super::ProviderOutcome::Ok(Utc::now()));
        self.turn_usage.input_tokens += usage.input_tokens;
        self.turn_usage.output_tokens += usage.output_tokens;
        self.turn_cost += cost;
        self.last_call = Some((usage.input_tokens, usage.output_tokens, cost));
        let row = NewUsage {
            session_id: Some(self.session_id.clone()),
            at: Utc::now(),
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

    async fn persist(&mut self, m: Message) {
        let (provider, model, input_tokens, output_tokens, cost) = if m.role == Role::Assistant {
            let provider = self.answerer.provider.name().to_owned();
            let model = Some(self.usage.model.clone()).filter(|m| !m.is_empty());
            let (input, output, cost) = self.last_call.take().unwrap_or((0, 0, 0.0));
            (Some(provider), model, input, output, cost)
        } else {
            (None, None, 0, 0, 0.0)
        };
        let mut meta = ChatMessageMeta::default();
        for b in &m.blocks {
            match b {
                Block::ToolResult { tool_use_id, .. } => {
                    if let Some(c) = self.confirmation_by_call.get(tool_use_id) {
                        meta.confirmations.insert(tool_use_id.clone(), c.clone());
                    }
                }
                Block::ToolUse { id, name, .. } => {
                    meta.tiers.insert(id.clone(), jarvis_domain::tier_of(name));
                }
                Block::Text { .. } => {}
            }
        }
        self.transcript.push(m.clone());
        let row = NewChatMessage {
            session_id: self.session_id.clone(),
            message: m,
            provider,
            model,
            input_tokens,
            output_tokens,
            cost_usd: cost,
            at: Utc::now(),
            meta,
        };
        if let Err(e) = self.svc.inner.db.append_chat_message(row).await {
            tracing::error!(error = %e, "could not store a chat message");
            self.emit(ChatEvent::Error {
                code: "internal".into(),
                message: "could not store the message".into(),
            })
            .await;
        }
    }

    async fn finish(&mut self, reason: FinishReason) {
        // Leave the running set first: a client that sends right after `chat:done` must not be
        // told the session is busy.
        self.svc.finish_running(&self.session_id);
        if let FinishReason::ModelError(message) = &reason {
            self.emit(ChatEvent::Error { code: "llm_error".into(), message: message.clone() })
                .await;
        }
        self.emit(ChatEvent::Done {
            provider: self.answerer.provider.name().to_owned(),
            model: self.usage.model.clone(),
            usage: self.turn_usage,
            cost_usd: jarvis_domain::cost::round_usd(self.turn_cost),
            stop_reason: reason.as_str().to_owned(),
        })
        .await;
    }
}

/// What one stream item means for the loop.
enum Step {
    Input(Input),
    /// The response ended (these inputs finish it); drop the stream.
    Inputs(Vec<Input>),
    /// A fallback stream replaces the failed one.
    Retry(ModelStream),
    Nothing,
}

/// The next stream item, or `Err(())` when none came in time.
async fn next_item(
    stream: &mut Option<ModelStream>,
) -> Option<Result<Result<LlmEvent, LlmError>, ()>> {
    let s = stream.as_mut()?;
    match tokio::time::timeout(MODEL_IDLE_TIMEOUT, s.next()).await {
        Ok(item) => item.map(Ok),
        Err(_) => Some(Err(())),
    }
}
