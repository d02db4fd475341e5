//! One chat turn as a pure state machine (CHAT-02…04): the server feeds it what happened
//! ([`Input`]: model output, tool outcomes, confirmation news and decisions, the time, abort)
//! and carries out what it asks for ([`Effect`]: call the model, relay text, run tools, announce
//! and read confirmations, wake it at a time, persist messages, finish).
//!
//! The machine owns the turn's waiting and its time: which confirmations it waits for (record
//! id, call id, expiry), when it must be woken ([`Effect::WakeAt`]), what a [`Input::Tick`] past
//! an expiry means, and how a decision resumes it (`waiting.rs`). The server keeps no
//! bookkeeping of its own; it only executes effects. The machine never does IO, so every path —
//! parallel tool calls, confirmation pauses in the middle of them, expiry, abort at any point,
//! the last iteration without tools — is tested here without a server, a model or a clock.
//!
//! Invariants it keeps:
//! - every tool call the model makes gets exactly one answer in the transcript, in the order the
//!   model made them, before the model is called again (providers reject anything else), and
//!   every answer has a [`ToolResultStatus`];
//! - the model is called at most `max_iterations` times per turn, and the last call offers no
//!   tools;
//! - what the model reads back from a tool is capped at `max_tool_output_chars`;
//! - a confirmation the turn stops waiting for by abort is cancelled, so it cannot run later;
//! - nothing it emits after [`Effect::Finish`].

mod io;
mod status;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_waiting;
mod transcript;
mod waiting;

use serde_json::Value;

pub use io::{
    Answered, ConfirmationOutcome, Effect, FinishReason, Input, ModelStop, StopReason, ToolOutcome,
};
pub use status::{ToolResultStatus, result_text};
pub use transcript::{Block, Message, Role, repair};

use waiting::Wait;

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

/// The answer a call got: what the model reads (capped) and its status.
#[derive(Debug, Clone)]
struct Answer {
    content: String,
    status: ToolResultStatus,
}

/// One tool call of the current assistant message and its answer so far.
#[derive(Debug, Clone)]
struct Call {
    id: String,
    name: String,
    input: Value,
    answer: Option<Answer>,
    /// The confirmation it needed; kept after the answer (it is stored with it).
    wait: Option<Wait>,
}

/// The state of one turn.
#[derive(Debug, Clone)]
pub struct Turn {
    config: TurnConfig,
    phase: Phase,
    iteration: u32,
    text: String,
    calls: Vec<Call>,
    /// The last [`Effect::WakeAt`] asked for, if it still stands.
    wake: Option<chrono::DateTime<chrono::Utc>>,
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
            wake: None,
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

    /// Applies one input. Inputs that do not fit the phase (late tool results after an abort,
    /// news about a confirmation the turn does not wait for, a tick with nothing due, model
    /// output after the response ended) are ignored and return no effects.
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
                self.model_tool_call(id, name, input)
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
            (Phase::Tools, Input::ConfirmationChanged { confirmation_id }) => {
                self.confirmation_changed(&confirmation_id)
            }
            (Phase::Tools, Input::Resync) => self.resync(),
            (Phase::Tools, Input::Confirmation { confirmation_id, outcome }) => {
                self.decided(&confirmation_id, outcome)
            }
            (Phase::Tools, Input::Tick(now)) => self.tick(now),
            _ => vec![],
        }
    }

    fn model_tool_call(&mut self, id: String, name: String, input: Value) -> Vec<Effect> {
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
            wait: None,
        });
        vec![Effect::EmitToolUse { id, name, input }]
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
            effects.push(self.finish(FinishReason::Completed));
            return effects;
        }
        if stop == ModelStop::MaxTokens || !self.tools_offered() {
            // Cut-off arguments must not run; neither may calls to tools that were not offered.
            let (why, reason) = if stop == ModelStop::MaxTokens {
                ("the response was cut off at the output token limit", FinishReason::Completed)
            } else {
                ("the tool-call limit of this turn was reached", FinishReason::MaxIterations)
            };
            let ids: Vec<String> = self.calls.iter().map(|c| c.id.clone()).collect();
            let text = format!("{} {why}.", result_text::NOT_RUN);
            for id in ids {
                effects.extend(self.answer(&id, text.clone(), ToolResultStatus::NotExecuted));
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
    fn answer(&mut self, id: &str, content: String, status: ToolResultStatus) -> Vec<Effect> {
        let max = self.config.max_tool_output_chars;
        let Some(call) = self.calls.iter_mut().find(|c| c.id == id && c.answer.is_none()) else {
            return vec![];
        };
        call.answer = Some(Answer { content: truncate(&content, max), status });
        vec![Effect::EmitToolResult { id: id.to_owned(), content, status }]
    }

    fn tool_finished(&mut self, id: &str, outcome: ToolOutcome) -> Vec<Effect> {
        let mut effects = match outcome {
            ToolOutcome::Ok(out) => self.answer(id, out, ToolResultStatus::Ok),
            ToolOutcome::Error(e) => self.answer(id, e, ToolResultStatus::Error),
            ToolOutcome::Blocked(reason) => {
                self.answer(id, blocked_text(&reason), ToolResultStatus::Blocked)
            }
            ToolOutcome::NeedsConfirmation { confirmation_id, expires_at } => {
                self.await_confirmation(id, confirmation_id, expires_at)
            }
        };
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

    /// The user-side message answering every call, in call order, with each answer's status.
    fn results_message(&self) -> Effect {
        let (blocks, answers) = self
            .calls
            .iter()
            .map(|c| {
                let (content, status) = match &c.answer {
                    Some(a) => (a.content.clone(), a.status),
                    None => (
                        format!("{} the turn ended first.", result_text::NOT_RUN),
                        ToolResultStatus::NotExecuted,
                    ),
                };
                let block = Block::ToolResult {
                    tool_use_id: c.id.clone(),
                    content,
                    is_error: status.is_error(),
                };
                let answered = Answered {
                    tool_use_id: c.id.clone(),
                    status,
                    confirmation_id: c.wait.as_ref().map(|w| w.confirmation_id.clone()),
                };
                (block, answered)
            })
            .unzip();
        Effect::PersistAnswers { message: Message { role: Role::User, blocks }, answers }
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
                effects.extend(self.cancel_waits());
                let open: Vec<String> = self
                    .calls
                    .iter()
                    .filter(|c| c.answer.is_none())
                    .map(|c| c.id.clone())
                    .collect();
                let text = format!(
                    "{} the operator stopped the turn before this finished; its outcome is \
                     unknown to you.",
                    result_text::ABORTED
                );
                for id in open {
                    effects.extend(self.answer(&id, text.clone(), ToolResultStatus::Aborted));
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
        self.wake = None;
        Effect::Finish(reason)
    }
}

/// The answer to a call the safety policy refused.
fn blocked_text(reason: &str) -> String {
    format!("{} {reason} Do not retry this action in another form.", result_text::BLOCKED)
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
