//! Drives one turn: routes it, then runs `jarvis_domain::agent::Turn`, carrying out its effects
//! and feeding back what happened until it finishes. The driver keeps no bookkeeping of its own:
//! which confirmations the turn waits for, and until when, is the machine's; the driver only
//! executes effects — model calls (`model.rs`), tool calls through the pipeline and
//! confirmation reads (`tooling.rs`), persistence with tokens and cost, one wake-up timer — and
//! turns what it hears (stream items, finished tools, confirmation news on the bus, the timer,
//! abort) into inputs.

use std::collections::VecDeque;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use jarvis_domain::agent::{Answered, Block, Effect, FinishReason, Input, Message, Role, Turn};
use jarvis_domain::cost::round_usd;
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;

use super::events::{
    ChatDoneEvent, ChatErrorEvent, ChatEvent, ChatMessageEvent, ChatRouteEvent, ChatTokenEvent,
    ChatToolResultEvent, ChatToolUseEvent, UsageView,
};
use super::model::{Answerer, CallUsage, ModelStream, Step, next_item};
use super::slash::{SlashPlan, SlashProvider};
use super::tooling::ToolFuture;
use super::{ChatService, Sender};
use crate::bus::ServerEvent;
use crate::db::chat::{ChatMessageMeta, ChatMessageView, NewChatMessage};

impl ChatService {
    pub(super) async fn emit(&self, session_id: &str, event: ChatEvent) {
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
        let message = self.user_view(&session_id, user_id, &user);
        let stored = ChatMessageEvent { session_id: session_id.clone(), message };
        self.emit(&session_id, ChatEvent::Message(stored)).await;
        let mut transcript = history;
        transcript.push(user);
        let answerer = match self.choose(&session_id, &text, override_active, &transcript).await {
            Ok(a) => a,
            Err(e) => {
                self.finish_running(&session_id);
                let error = ChatErrorEvent {
                    session_id: session_id.clone(),
                    code: e.code().into(),
                    message: e.to_string(),
                };
                self.emit(&session_id, ChatEvent::Error(error)).await;
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
            last_call: None,
            offer_tools: true,
            cancel,
        };
        // The driver leaves the running set itself, right before `chat:done`.
        driver.run().await;
    }

    fn user_view(&self, session_id: &str, id: i64, user: &Message) -> ChatMessageView {
        ChatMessageView {
            id,
            session_id: session_id.to_owned(),
            role: Role::User,
            content: user.text(),
            provider: None,
            model: None,
            tool_calls: vec![],
            input_tokens: 0,
            output_tokens: 0,
            cost_usd: 0.0,
            created_at: self.now(),
        }
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
        let code = reason.code();
        let chosen = outcome.provider().and_then(|kind| Some((kind, self.provider(kind)?)));
        match chosen {
            Some((kind, provider)) => {
                self.announce(
                    kind.as_str(),
                    provider.model(),
                    &reason.text(),
                    code,
                    false,
                    session_id,
                )
                .await;
                Ok(Answerer { provider, kind: Some(kind) })
            }
            None => {
                self.announce("slash", "", &reason.text(), code, false, session_id).await;
                let plan = SlashPlan::no_model(&reason.text());
                Ok(Answerer { provider: Arc::new(SlashProvider(plan)), kind: None })
            }
        }
    }

    pub(super) async fn announce(
        &self,
        provider: &str,
        model: &str,
        reason: &str,
        code: &str,
        fallback: bool,
        session_id: &str,
    ) {
        let event = ChatEvent::Route(ChatRouteEvent {
            session_id: session_id.into(),
            provider: provider.into(),
            model: model.into(),
            reason: reason.into(),
            reason_code: code.into(),
            fallback,
        });
        self.emit(session_id, event).await;
    }
}

/// The state of one running turn outside the pure machine: who answers, the transcript the
/// requests are built from, and usage — nothing about what the turn waits for.
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
    /// Tokens and cost of the last finished model call (stored with its message).
    pub(super) last_call: Option<(u64, u64, f64)>,
    /// Whether the model call in flight offers tools.
    pub(super) offer_tools: bool,
    /// Thrown by `chat:abort` (and shutdown).
    pub(super) cancel: CancellationToken,
}

/// What the loop is doing besides running effects.
struct Io {
    stream: Option<ModelStream>,
    tools: FuturesUnordered<ToolFuture>,
    /// The machine's last [`Effect::WakeAt`], until a tick at or after it was fed.
    wake: Option<DateTime<Utc>>,
    cancelled: bool,
}

impl Driver {
    pub(super) async fn emit(&self, event: ChatEvent) {
        self.svc.emit(&self.session_id, event).await;
    }

    async fn run(&mut self) {
        let cancel = self.cancel.clone();
        let (mut turn, first) = Turn::start(self.svc.turn_config());
        let mut queue: VecDeque<Effect> = first.into();
        let mut io =
            Io { stream: None, tools: FuturesUnordered::new(), wake: None, cancelled: false };
        let mut bus = self.svc.inner.bus.subscribe();
        let mut bus_open = true;
        loop {
            while let Some(effect) = queue.pop_front() {
                if let Effect::Finish(reason) = effect {
                    self.finish(reason).await;
                    return;
                }
                let inputs = self.execute(effect, &mut io).await;
                for input in inputs {
                    queue.extend(turn.handle(input));
                }
            }
            // The timer follows the service clock: a tick that comes early (the clock and the
            // runtime's timer disagree) finds nothing due and the timer is set again.
            let sleep_for = io.wake.map(|at| (at - self.svc.now()).to_std().unwrap_or_default());
            tokio::select! {
                biased;
                _ = cancel.cancelled(), if !io.cancelled => {
                    io.cancelled = true;
                    io.stream = None;
                    queue.extend(turn.handle(Input::Abort));
                }
                item = next_item(&mut io.stream), if io.stream.is_some() => {
                    match self.model_item(item).await {
                        Step::Input(input) => queue.extend(turn.handle(input)),
                        Step::Inputs(inputs) => {
                            for input in inputs {
                                queue.extend(turn.handle(input));
                            }
                            io.stream = None;
                        }
                        Step::Retry(s) => io.stream = Some(s),
                        Step::Nothing => {}
                    }
                }
                Some((id, run)) = io.tools.next(), if !io.tools.is_empty() => {
                    let input = self.tool_done(&id, run).await;
                    queue.extend(turn.handle(input));
                }
                msg = bus.recv(), if bus_open => match msg {
                    Ok(ServerEvent::Confirmation(c)) => {
                        let input = Input::ConfirmationChanged { confirmation_id: c.id };
                        queue.extend(turn.handle(input));
                    }
                    Ok(_) => {}
                    Err(RecvError::Lagged(_)) => queue.extend(turn.handle(Input::Resync)),
                    Err(RecvError::Closed) => bus_open = false,
                },
                () = tokio::time::sleep(sleep_for.unwrap_or_default()), if sleep_for.is_some() => {
                    let now = self.svc.now();
                    if io.wake.is_some_and(|at| at <= now) {
                        io.wake = None;
                    }
                    queue.extend(turn.handle(Input::Tick(now)));
                }
            }
        }
    }

    /// Carries out one effect (all but `Finish`); returns the inputs it produced at once.
    async fn execute(&mut self, effect: Effect, io: &mut Io) -> Vec<Input> {
        match effect {
            Effect::CallModel { tools: offer, .. } => match self.open(offer).await {
                Ok(s) => io.stream = Some(s),
                Err(Some(e)) => return vec![Input::ModelFailed(e)],
                Err(None) => {
                    io.cancelled = true;
                    return vec![Input::Abort];
                }
            },
            Effect::EmitText(text) => {
                self.usage.relayed = true;
                self.usage.output_chars += text.len();
                let session_id = self.session_id.clone();
                self.emit(ChatEvent::Token(ChatTokenEvent { session_id, text })).await;
            }
            Effect::EmitToolUse { id, name, input } => {
                self.usage.relayed = true;
                self.usage.output_chars += input.to_string().len();
                let event = ChatToolUseEvent {
                    session_id: self.session_id.clone(),
                    tier: jarvis_domain::tier_of(&name),
                    tool_use_id: id,
                    tool_name: name,
                    tool_input: input,
                };
                self.emit(ChatEvent::ToolUse(event)).await;
            }
            Effect::RunTool { id, name, input } => io.tools.push(self.run_tool(id, name, input)),
            Effect::EmitToolResult { id, content, status } => {
                self.svc.settle_pending(&self.session_id, &id);
                let event = ChatToolResultEvent {
                    session_id: self.session_id.clone(),
                    tool_use_id: id,
                    result: content,
                    is_error: status.is_error(),
                    status,
                };
                self.emit(ChatEvent::ToolResult(event)).await;
            }
            Effect::AwaitConfirmation { id, confirmation_id, expires_at } => {
                self.announce_confirmation(&id, &confirmation_id, expires_at).await;
            }
            Effect::WakeAt(at) => io.wake = Some(at),
            Effect::ReadConfirmation { confirmation_id } => {
                return self.read_confirmation(&confirmation_id).await.into_iter().collect();
            }
            Effect::ExpireConfirmation { confirmation_id } => {
                self.expire_due().await;
                return self.read_confirmation(&confirmation_id).await.into_iter().collect();
            }
            Effect::CancelConfirmation { confirmation_id } => {
                self.cancel_confirmation(&confirmation_id).await;
            }
            Effect::Persist(m) => self.persist(m, &[]).await,
            Effect::PersistAnswers { message, answers } => self.persist(message, &answers).await,
            // The loop ends the turn itself (it must stop taking effects).
            Effect::Finish(_) => {}
        }
        vec![]
    }

    async fn persist(&mut self, m: Message, answers: &[Answered]) {
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
            if let Block::ToolUse { id, name, .. } = b {
                meta.tiers.insert(id.clone(), jarvis_domain::tier_of(name));
            }
        }
        for a in answers {
            meta.statuses.insert(a.tool_use_id.clone(), a.status);
            if let Some(c) = &a.confirmation_id {
                meta.confirmations.insert(a.tool_use_id.clone(), c.clone());
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
            at: self.svc.now(),
            meta,
        };
        if let Err(e) = self.svc.inner.db.append_chat_message(row).await {
            tracing::error!(error = %e, "could not store a chat message");
            self.emit_error("internal", "could not store the message").await;
        }
    }

    pub(super) async fn emit_error(&self, code: &str, message: &str) {
        let error = ChatErrorEvent {
            session_id: self.session_id.clone(),
            code: code.into(),
            message: message.into(),
        };
        self.emit(ChatEvent::Error(error)).await;
    }

    async fn finish(&mut self, reason: FinishReason) {
        // Leave the running set first: a client that sends right after `chat:done` must not be
        // told the session is busy.
        self.svc.finish_running(&self.session_id);
        if let FinishReason::ModelError(message) = &reason {
            self.emit_error("llm_error", message).await;
        }
        let done = ChatDoneEvent {
            session_id: self.session_id.clone(),
            provider: self.answerer.provider.name().to_owned(),
            model: self.usage.model.clone(),
            usage: self.turn_usage,
            cost_usd: round_usd(self.turn_cost),
            stop_reason: reason.stop_reason(),
        };
        self.emit(ChatEvent::Done(done)).await;
    }
}
