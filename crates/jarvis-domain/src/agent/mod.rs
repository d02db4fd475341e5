//! One chat turn as a pure state machine (CHAT-02…04): the server feeds it what happened
//! ([`Input`]: model output, tool outcomes, confirmation decisions, abort) and carries out what it
//! asks for ([`Effect`]: call the model, relay text, run tools, persist messages, finish).
//!
//! The machine never does IO, so every path — parallel tool calls, a confirmation pause in the
//! middle of them, abort at any point, the last iteration without tools — is tested here without
//! a server, a model or a clock.
//!
//! Invariants it keeps:
//! - every tool call the model makes gets exactly one answer in the transcript, in the order the
//!   model made them, before the model is called again (providers reject anything else);
//! - the model is called at most `max_iterations` times per turn, and the last call offers no
//!   tools;
//! - what the model reads back from a tool is capped at `max_tool_output_chars`;
//! - nothing it emits after [`Effect::Finish`].

#[cfg(test)]
mod tests;
mod transcript;

use serde_json::Value;

pub use transcript::{Block, Message, Role, repair};

/// Text the model gets for outcomes that are not a tool's own output. The UI derives a call's
/// status from these prefixes, so they are part of the stored format.
pub mod result_text {
    /// The safety policy refused the call.
    pub const BLOCKED: &str = "Blocked:";
    /// The operator denied the call.
    pub const DENIED: &str = "Denied:";
    /// Nobody decided in time.
    pub const EXPIRED: &str = "Expired:";
    /// The operator aborted the turn before the call finished.
    pub const ABORTED: &str = "Aborted:";
    /// The model ran out of iterations before the call could run.
    pub const NOT_RUN: &str = "Not executed:";
}

/// Limits of one turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TurnConfig {
    /// Model calls per turn (at least 1); the last one is offered no tools.
    pub max_iterations: u32,
    /// Longest tool output the model reads back, in characters.
    pub max_tool_output_chars: usize,
}

impl Default for TurnConfig {
    fn default() -> Self {
        TurnConfig { max_iterations: 10, max_tool_output_chars: 8_000 }
    }
}

/// How the model's response ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelStop {
    /// Finished normally (including "wants tools").
    Complete,
    /// Hit the output token limit: tool calls may be cut and are not run.
    MaxTokens,
}

/// What a tool run came to, as the server reports it.
#[derive(Debug, Clone, PartialEq)]
pub enum ToolOutcome {
    /// It ran; its output.
    Ok(String),
    /// It ran and failed, or its arguments were invalid, or it is unknown.
    Error(String),
    /// The safety policy refused it.
    Blocked(String),
    /// It needs the operator: the turn pauses until [`Input::Confirmation`] for this id.
    NeedsConfirmation {
        /// The confirmation record's id.
        confirmation_id: String,
    },
}

/// How a confirmation ended.
#[derive(Debug, Clone, PartialEq)]
pub enum ConfirmationOutcome {
    /// Approved and run; its output.
    Executed(String),
    /// Approved, but it failed.
    Failed(String),
    /// Approved, but refused at execution time (e.g. the kill switch was thrown meanwhile).
    Blocked(String),
    /// The operator said no.
    Denied,
    /// Nobody decided in time.
    Expired,
}

/// Something that happened, fed to [`Turn::handle`].
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// A piece of model text.
    ModelText(String),
    /// The model completed a tool call.
    ModelToolCall {
        /// Provider call id.
        id: String,
        /// Tool name.
        name: String,
        /// Parsed arguments.
        input: Value,
    },
    /// The model's response ended.
    ModelDone(ModelStop),
    /// The model call failed (after any fallback the server tried).
    ModelFailed(String),
    /// A tool run finished (or turned into a confirmation).
    ToolFinished {
        /// The call id.
        id: String,
        /// What happened.
        outcome: ToolOutcome,
    },
    /// A confirmation this turn waits for was decided.
    Confirmation {
        /// The confirmation record's id.
        confirmation_id: String,
        /// How it ended.
        outcome: ConfirmationOutcome,
    },
    /// The operator aborted the turn.
    Abort,
}

/// Something the server must do, returned by [`Turn::start`] and [`Turn::handle`] in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Call the model with the transcript so far.
    CallModel {
        /// 1-based iteration.
        iteration: u32,
        /// Whether tools are offered (not on the last iteration).
        tools: bool,
    },
    /// Relay a piece of text to the operator.
    EmitText(String),
    /// Show a tool call to the operator.
    EmitToolUse {
        /// Call id.
        id: String,
        /// Tool name.
        name: String,
        /// Arguments.
        input: Value,
    },
    /// Run a tool through the safety pipeline. Several may be requested at once; they may run
    /// concurrently, and each reports back with [`Input::ToolFinished`].
    RunTool {
        /// Call id.
        id: String,
        /// Tool name.
        name: String,
        /// Arguments.
        input: Value,
    },
    /// Show a tool's answer to the operator.
    EmitToolResult {
        /// Call id.
        id: String,
        /// Full text (the model may get less).
        content: String,
        /// Failed, refused or denied.
        is_error: bool,
    },
    /// The call waits for the operator.
    AwaitConfirmation {
        /// Call id.
        id: String,
        /// The confirmation record.
        confirmation_id: String,
    },
    /// The turn no longer waits for this confirmation (abort): deny it so it cannot run later.
    CancelConfirmation {
        /// The confirmation record.
        confirmation_id: String,
    },
    /// Append this message to the transcript and store it.
    Persist(Message),
    /// The turn is over; nothing follows.
    Finish(FinishReason),
}

/// Why a turn ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FinishReason {
    /// The model answered without (further) tool calls.
    Completed,
    /// The iteration limit was reached.
    MaxIterations,
    /// The operator aborted.
    Aborted,
    /// The model failed.
    ModelError(String),
}

impl FinishReason {
    /// The `stopReason` word of `chat:done`.
    pub fn as_str(&self) -> &'static str {
        match self {
            FinishReason::Completed => "end_turn",
            FinishReason::MaxIterations => "max_iterations",
            FinishReason::Aborted => "aborted",
            FinishReason::ModelError(_) => "error",
        }
    }
}

/// Where a turn is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Waiting for (streaming) model output.
    Streaming,
    /// Tool calls are running or awaiting confirmation.
    Tools,
    /// Over.
    Done,
}

/// One tool call of the current assistant message and its answer so far.
#[derive(Debug, Clone)]
struct Call {
    id: String,
    name: String,
    input: Value,
    answer: Option<(String, bool)>,
    confirmation: Option<String>,
}

/// The state of one turn.
#[derive(Debug, Clone)]
pub struct Turn {
    config: TurnConfig,
    phase: Phase,
    iteration: u32,
    text: String,
    calls: Vec<Call>,
}

impl Turn {
    /// Starts a turn (the operator's message is already in the transcript).
    pub fn start(config: TurnConfig) -> (Turn, Vec<Effect>) {
        let config = TurnConfig { max_iterations: config.max_iterations.max(1), ..config };
        let mut turn = Turn {
            config,
            phase: Phase::Streaming,
            iteration: 0,
            text: String::new(),
            calls: vec![],
        };
        let effect = turn.next_call();
        (turn, vec![effect])
    }

    /// The current phase.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// The current 1-based iteration.
    pub fn iteration(&self) -> u32 {
        self.iteration
    }

    /// Confirmations the turn currently waits for, with their call ids.
    pub fn awaiting(&self) -> Vec<(&str, &str)> {
        self.calls
            .iter()
            .filter(|c| c.answer.is_none())
            .filter_map(|c| c.confirmation.as_deref().map(|conf| (c.id.as_str(), conf)))
            .collect()
    }

    fn tools_offered(&self) -> bool {
        self.iteration < self.config.max_iterations
    }

    fn next_call(&mut self) -> Effect {
        self.iteration += 1;
        self.phase = Phase::Streaming;
        self.text.clear();
        self.calls.clear();
        Effect::CallModel { iteration: self.iteration, tools: self.tools_offered() }
    }

    /// Applies one input. Inputs that do not fit the phase (late tool results after an abort, a
    /// confirmation the turn does not wait for, model output after the response ended) are
    /// ignored and return no effects.
    pub fn handle(&mut self, input: Input) -> Vec<Effect> {
        match (self.phase, input) {
            (Phase::Done, _) => vec![],
            (_, Input::Abort) => self.abort(),
            (Phase::Streaming, Input::ModelText(t)) => {
                if t.is_empty() {
                    return vec![];
                }
                self.text.push_str(&t);
                vec![Effect::EmitText(t)]
            }
            (Phase::Streaming, Input::ModelToolCall { id, name, input }) => {
                // A repeated id would make the answers ambiguous: give it a unique one.
                let id = if id.is_empty() || self.calls.iter().any(|c| c.id == id) {
                    format!("call_{}_{}", self.iteration, self.calls.len())
                } else {
                    id
                };
                self.calls.push(Call {
                    id: id.clone(),
                    name: name.clone(),
                    input: input.clone(),
                    answer: None,
                    confirmation: None,
                });
                vec![Effect::EmitToolUse { id, name, input }]
            }
            (Phase::Streaming, Input::ModelDone(stop)) => self.model_done(stop),
            (Phase::Streaming, Input::ModelFailed(message)) => {
                let mut effects = Vec::new();
                // Calls of a failed response are not run; the text so far is kept.
                self.calls.clear();
                if !self.text.is_empty() {
                    effects.push(Effect::Persist(Message::assistant(self.text.clone())));
                }
                effects.push(self.finish(FinishReason::ModelError(message)));
                effects
            }
            (Phase::Tools, Input::ToolFinished { id, outcome }) => self.tool_finished(&id, outcome),
            (Phase::Tools, Input::Confirmation { confirmation_id, outcome }) => {
                self.confirmation(&confirmation_id, outcome)
            }
            _ => vec![],
        }
    }

    fn model_done(&mut self, stop: ModelStop) -> Vec<Effect> {
        let mut blocks = Vec::new();
        if !self.text.is_empty() {
            blocks.push(Block::text(self.text.clone()));
        }
        for c in &self.calls {
            blocks.push(Block::ToolUse {
                id: c.id.clone(),
                name: c.name.clone(),
                input: c.input.clone(),
            });
        }
        let mut effects = Vec::new();
        if !blocks.is_empty() {
            effects.push(Effect::Persist(Message { role: Role::Assistant, blocks }));
        }
        if self.calls.is_empty() {
            let reason = match stop {
                ModelStop::Complete => FinishReason::Completed,
                ModelStop::MaxTokens => FinishReason::Completed,
            };
            effects.push(self.finish(reason));
            return effects;
        }
        if stop == ModelStop::MaxTokens || !self.tools_offered() {
            // Cut-off arguments must not run; neither may calls to tools that were not offered.
            let why = if stop == ModelStop::MaxTokens {
                "the response was cut off at the output token limit"
            } else {
                "the tool-call limit of this turn was reached"
            };
            let reason = if stop == ModelStop::MaxTokens {
                FinishReason::Completed
            } else {
                FinishReason::MaxIterations
            };
            let ids: Vec<String> = self.calls.iter().map(|c| c.id.clone()).collect();
            for id in ids {
                effects.extend(self.answer(&id, format!("{} {why}.", result_text::NOT_RUN), true));
            }
            effects.push(self.results_message());
            effects.push(self.finish(reason));
            return effects;
        }
        self.phase = Phase::Tools;
        for c in &self.calls {
            effects.push(Effect::RunTool {
                id: c.id.clone(),
                name: c.name.clone(),
                input: c.input.clone(),
            });
        }
        effects
    }

    /// Records an answer for call `id` (full text to the operator, capped text to the model).
    fn answer(&mut self, id: &str, content: String, is_error: bool) -> Vec<Effect> {
        let max = self.config.max_tool_output_chars;
        let Some(call) = self.calls.iter_mut().find(|c| c.id == id && c.answer.is_none()) else {
            return vec![];
        };
        call.answer = Some((truncate(&content, max), is_error));
        vec![Effect::EmitToolResult { id: id.to_owned(), content, is_error }]
    }

    fn tool_finished(&mut self, id: &str, outcome: ToolOutcome) -> Vec<Effect> {
        let mut effects = match outcome {
            ToolOutcome::Ok(out) => self.answer(id, out, false),
            ToolOutcome::Error(e) => self.answer(id, e, true),
            ToolOutcome::Blocked(reason) => self.answer(
                id,
                format!(
                    "{} {reason} Do not retry this action in another form.",
                    result_text::BLOCKED
                ),
                true,
            ),
            ToolOutcome::NeedsConfirmation { confirmation_id } => {
                match self.calls.iter_mut().find(|c| c.id == id && c.answer.is_none()) {
                    Some(call) if call.confirmation.is_none() => {
                        call.confirmation = Some(confirmation_id.clone());
                        vec![Effect::AwaitConfirmation { id: id.to_owned(), confirmation_id }]
                    }
                    _ => vec![],
                }
            }
        };
        effects.extend(self.maybe_continue());
        effects
    }

    fn confirmation(&mut self, confirmation_id: &str, outcome: ConfirmationOutcome) -> Vec<Effect> {
        let Some(id) = self
            .calls
            .iter()
            .find(|c| c.answer.is_none() && c.confirmation.as_deref() == Some(confirmation_id))
            .map(|c| c.id.clone())
        else {
            return vec![];
        };
        let (content, is_error) = match outcome {
            ConfirmationOutcome::Executed(out) => (out, false),
            ConfirmationOutcome::Failed(e) => (e, true),
            ConfirmationOutcome::Blocked(reason) => (
                format!(
                    "{} {reason} Do not retry this action in another form.",
                    result_text::BLOCKED
                ),
                true,
            ),
            ConfirmationOutcome::Denied => (
                format!(
                    "{} the operator denied this action. It did not run; do not retry it unless \
                     the operator asks again.",
                    result_text::DENIED
                ),
                true,
            ),
            ConfirmationOutcome::Expired => (
                format!(
                    "{} nobody confirmed this action in time. It did not run.",
                    result_text::EXPIRED
                ),
                true,
            ),
        };
        let mut effects = self.answer(&id, content, is_error);
        effects.extend(self.maybe_continue());
        effects
    }

    /// When every call is answered: store the answers and call the model again.
    fn maybe_continue(&mut self) -> Vec<Effect> {
        if self.phase != Phase::Tools || self.calls.iter().any(|c| c.answer.is_none()) {
            return vec![];
        }
        let persist = self.results_message();
        vec![persist, self.next_call()]
    }

    /// The user-side message answering every call, in call order.
    fn results_message(&self) -> Effect {
        let blocks = self
            .calls
            .iter()
            .map(|c| {
                let (content, is_error) = c.answer.clone().unwrap_or_else(|| {
                    (format!("{} the turn ended first.", result_text::NOT_RUN), true)
                });
                Block::ToolResult { tool_use_id: c.id.clone(), content, is_error }
            })
            .collect();
        Effect::Persist(Message { role: Role::User, blocks })
    }

    fn abort(&mut self) -> Vec<Effect> {
        let mut effects = Vec::new();
        match self.phase {
            Phase::Streaming => {
                // The response is incomplete: keep its text, drop its calls (never run).
                self.calls.clear();
                if !self.text.is_empty() {
                    effects.push(Effect::Persist(Message::assistant(self.text.clone())));
                }
            }
            Phase::Tools => {
                let open: Vec<(String, Option<String>)> = self
                    .calls
                    .iter()
                    .filter(|c| c.answer.is_none())
                    .map(|c| (c.id.clone(), c.confirmation.clone()))
                    .collect();
                for (id, confirmation) in open {
                    if let Some(confirmation_id) = confirmation {
                        effects.push(Effect::CancelConfirmation { confirmation_id });
                    }
                    effects.extend(self.answer(
                        &id,
                        format!(
                            "{} the operator stopped the turn before this finished; its outcome \
                             is unknown to you.",
                            result_text::ABORTED
                        ),
                        true,
                    ));
                }
                effects.push(self.results_message());
            }
            Phase::Done => return effects,
        }
        effects.push(self.finish(FinishReason::Aborted));
        effects
    }

    fn finish(&mut self, reason: FinishReason) -> Effect {
        self.phase = Phase::Done;
        Effect::Finish(reason)
    }
}

/// Caps `text` at `max` characters, saying how much was cut.
pub fn truncate(text: &str, max: usize) -> String {
    let total = text.chars().count();
    if total <= max {
        return text.to_owned();
    }
    let kept: String = text.chars().take(max).collect();
    format!("{kept}\n… [truncated: {} of {total} characters omitted]", total - max)
}
