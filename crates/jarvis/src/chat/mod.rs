//! The chat assistant (CHAT-01…06, ROUTE-02…10): [`ChatService`] owns the providers, the running
//! turns and their sessions; `realtime/chat.rs` is only the Socket.IO face of it.
//!
//! One message becomes one turn: the override passkey is stripped (and elevates the session), the
//! message is stored, slash commands are answered by [`slash::SlashProvider`] without any model,
//! everything else is routed (`jarvis_domain::routing`) and answered by Claude or the local
//! model, with a fallback to the other one when the first fails before answering. The turn itself
//! is the pure state machine in `jarvis_domain::agent`, driven by `turn.rs`; every tool call goes
//! through [`crate::tools::Pipeline::submit`] with [`Source::Chat`], so RED calls become the same
//! confirmation records the dashboard and `POST /api/confirmations/{id}` decide. A decision made
//! anywhere resumes the turn.

mod activity;
pub mod context;
pub mod events;
mod model;
pub mod providers;
pub mod slash;
#[cfg(test)]
mod tests;
mod tooling;
mod turn;

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use chrono::Utc;
use jarvis_domain::agent::{Message, TurnConfig, repair};
use jarvis_domain::routing::Provider;
use jarvis_llm::LlmProvider;
use parking_lot::Mutex;
use tokio_util::sync::CancellationToken;

use crate::bus::Bus;
use crate::clock::Clock;
use crate::cluster::ClusterState;
use crate::config::LlmSettings;
use crate::db::chat::{ChatMessageView, NewChatMessage, chat_message_views};
use crate::db::{Db, DbError};
use crate::guard::Guard;
use crate::metrics::Metrics;
use crate::tools::{Pipeline, Source};

pub use events::{
    ChatBlockedEvent, ChatDoneEvent, ChatErrorEvent, ChatEvent, ChatMessageEvent, ChatRouteEvent,
    ChatSink, ChatTokenEvent, ChatToolResultEvent, ChatToolUseEvent, ConfirmNeeded,
};

/// Longest accepted message, in characters.
pub const MAX_MESSAGE_CHARS: usize = 16_000;

/// Errors answered to a chat client (`{error: {code, message}}` in acks).
#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    /// Bad payload, empty or oversized message.
    #[error("{0}")]
    Invalid(String),
    /// Unknown session.
    #[error("no such chat session")]
    NotFound,
    /// A turn is already running in that session.
    #[error("a reply is still running in this session; wait or abort it")]
    Busy,
    /// The confirmation could not be decided.
    #[error("{0}")]
    Confirmation(String),
    /// Storage failed.
    #[error("internal error")]
    Internal(#[from] DbError),
}

impl ChatError {
    /// The wire code.
    pub fn code(&self) -> &'static str {
        match self {
            ChatError::Invalid(_) => "invalid_request",
            ChatError::NotFound => "not_found",
            ChatError::Busy => "busy",
            ChatError::Confirmation(_) => "confirmation_failed",
            ChatError::Internal(_) => "internal",
        }
    }
}

/// A turn in progress, as `chat:join` and `chat:confirm` see it.
struct Running {
    cancel: CancellationToken,
    /// What the turn announced it waits for (added on `AwaitConfirmation`, removed when the call
    /// is answered): published for other tasks, not the turn's own bookkeeping (that is in the
    /// machine).
    pending: Vec<ConfirmNeeded>,
}

pub(crate) struct Inner {
    db: Db,
    pipeline: Pipeline,
    cluster: ClusterState,
    guard: Arc<Guard>,
    bus: Bus,
    settings: LlmSettings,
    claude: Option<Arc<dyn LlmProvider>>,
    local: Option<Arc<dyn LlmProvider>>,
    override_key: Option<String>,
    running: Mutex<HashMap<String, Running>>,
    sink: OnceLock<Arc<dyn ChatSink>>,
    shutdown: CancellationToken,
    metrics: Metrics,
    /// Where turns read "now" (confirmation expiry, timestamps).
    clock: Arc<dyn Clock>,
    /// Per provider: when its last call ended, and how.
    outcomes: Mutex<HashMap<&'static str, ProviderOutcome>>,
    /// The monitor's open incidents, for the live context (none without a monitor).
    monitor: Option<crate::monitor::MonitorService>,
}

/// How a provider's last call ended (for `/api/health`).
#[derive(Debug, Clone, PartialEq)]
pub enum ProviderOutcome {
    /// It answered.
    Ok(chrono::DateTime<Utc>),
    /// It failed with this error.
    Failed(chrono::DateTime<Utc>, String),
}

/// The chat assistant; cheap to clone.
#[derive(Clone)]
pub struct ChatService {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for ChatService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatService").finish_non_exhaustive()
    }
}

/// What `chat:join` answers.
#[derive(Debug, Clone, serde::Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export, rename = "ChatJoinAck")]
pub struct JoinView {
    /// Session.
    pub session_id: String,
    /// Title.
    pub title: String,
    /// Stored messages.
    pub messages: Vec<ChatMessageView>,
    /// The confirmation the running turn waits for, if any.
    pub pending: Option<ConfirmNeeded>,
    /// Whether a turn is running.
    pub running: bool,
}

/// Who sends a message.
#[derive(Debug, Clone)]
pub struct Sender {
    /// Actor for the audit log.
    pub actor: String,
    /// Session token id (elevation is per session).
    pub jti: Option<String>,
}

impl ChatService {
    /// Builds the service. `shutdown` aborts running turns.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        db: Db,
        pipeline: Pipeline,
        cluster: ClusterState,
        guard: Arc<Guard>,
        bus: Bus,
        settings: LlmSettings,
        providers: providers::Providers,
        override_key: Option<String>,
        shutdown: CancellationToken,
    ) -> ChatService {
        ChatService {
            inner: Arc::new(Inner {
                db,
                pipeline,
                cluster,
                guard,
                bus,
                settings,
                claude: providers.claude,
                local: providers.local,
                override_key,
                running: Mutex::new(HashMap::new()),
                sink: OnceLock::new(),
                shutdown,
                metrics: Metrics::default(),
                clock: crate::clock::system(),
                outcomes: Mutex::new(HashMap::new()),
                monitor: None,
            }),
        }
    }

    /// Counts LLM usage into these metrics (call right after [`ChatService::new`]).
    pub fn with_metrics(mut self, metrics: Metrics) -> ChatService {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.metrics = metrics;
        }
        self
    }

    /// Reads time from `clock` instead of the system clock (tests; call right after
    /// [`ChatService::new`]).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> ChatService {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.clock = clock;
        }
        self
    }

    /// Puts the monitor's open incidents into every prompt (call right after
    /// [`ChatService::new`]).
    pub fn with_monitor(mut self, monitor: crate::monitor::MonitorService) -> ChatService {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.monitor = Some(monitor);
        }
        self
    }

    /// The monitor's unresolved incidents, as the driver last published them.
    pub(crate) fn live_incidents(&self) -> Vec<jarvis_domain::monitor::Incident> {
        self.inner.monitor.as_ref().map(|m| m.live_incidents()).unwrap_or_default()
    }

    /// The time now, by the service's clock.
    pub(crate) fn now(&self) -> chrono::DateTime<Utc> {
        self.inner.clock.now()
    }

    /// The last outcome of `provider` (`claude` or `local`), if it was called.
    pub fn last_outcome(&self, provider: &str) -> Option<ProviderOutcome> {
        self.inner.outcomes.lock().get(provider).cloned()
    }

    pub(crate) fn record_outcome(&self, provider: &'static str, outcome: ProviderOutcome) {
        self.inner.outcomes.lock().insert(provider, outcome);
    }

    /// Attaches where events go (once; the Socket.IO layer is built after the state).
    pub fn set_sink(&self, sink: Arc<dyn ChatSink>) {
        let _ = self.inner.sink.set(sink);
    }

    pub(crate) fn sink(&self) -> Arc<dyn ChatSink> {
        self.inner.sink.get().cloned().unwrap_or_else(|| Arc::new(events::NullSink))
    }

    /// The LLM settings in force.
    pub fn settings(&self) -> &LlmSettings {
        &self.inner.settings
    }

    /// The configured provider of `kind`.
    pub fn provider(&self, kind: Provider) -> Option<Arc<dyn LlmProvider>> {
        match kind {
            Provider::Claude => self.inner.claude.clone(),
            Provider::Local => self.inner.local.clone(),
        }
    }

    fn turn_config(&self) -> TurnConfig {
        TurnConfig { max_iterations: self.inner.settings.max_loop, max_tool_output_chars: 8_000 }
    }

    /// Whether a turn is running in `session_id`.
    pub fn is_running(&self, session_id: &str) -> bool {
        self.inner.running.lock().contains_key(session_id)
    }

    /// Starts a turn for `message` (in a new session when `session_id` is `None`) and returns
    /// the session id at once; the reply streams through the sink. `follow` is called with the session id before anything is emitted (the socket joins the
    /// session's room there, so it misses nothing).
    pub async fn send(
        &self,
        session_id: Option<String>,
        message: &str,
        sender: Sender,
        follow: impl FnOnce(&str),
    ) -> Result<String, ChatError> {
        let trimmed = message.trim();
        if trimmed.is_empty() {
            return Err(ChatError::Invalid("the message is empty".into()));
        }
        if trimmed.chars().count() > MAX_MESSAGE_CHARS {
            return Err(ChatError::Invalid(format!(
                "the message is longer than {MAX_MESSAGE_CHARS} characters"
            )));
        }
        // The passkey never reaches the model, the transcript or the logs.
        let (text, override_active) =
            context::strip_override(trimmed, self.inner.override_key.as_deref());
        if override_active && let (Some(jti), Some(key)) = (&sender.jti, &self.inner.override_key) {
            self.inner.guard.elevate(jti, key);
        }
        if text.is_empty() {
            return Err(ChatError::Invalid("the message only contained the passkey".into()));
        }
        let now = self.now();
        let session_id = match session_id {
            Some(id) => {
                if self.inner.db.chat_session(id.clone()).await?.is_none() {
                    return Err(ChatError::NotFound);
                }
                id
            }
            None => {
                let id = uuid::Uuid::new_v4().to_string();
                let title: String = text.chars().take(60).collect();
                self.inner
                    .db
                    .create_chat_session(id.clone(), title, sender.actor.clone(), now)
                    .await?;
                id
            }
        };
        let cancel = self.inner.shutdown.child_token();
        {
            let mut running = self.inner.running.lock();
            if running.contains_key(&session_id) {
                return Err(ChatError::Busy);
            }
            running.insert(session_id.clone(), Running { cancel: cancel.clone(), pending: vec![] });
        }
        let history = match self.history(&session_id).await {
            Ok(h) => h,
            Err(e) => {
                self.finish_running(&session_id);
                return Err(e);
            }
        };
        let user = Message::user(text.clone());
        let stored = self
            .inner
            .db
            .append_chat_message(NewChatMessage {
                session_id: session_id.clone(),
                message: user.clone(),
                provider: None,
                model: None,
                input_tokens: 0,
                output_tokens: 0,
                cost_usd: 0.0,
                at: now,
                meta: Default::default(),
            })
            .await;
        let user_id = match stored {
            Ok(id) => id,
            Err(e) => {
                self.finish_running(&session_id);
                return Err(e.into());
            }
        };
        follow(&session_id);
        let svc = self.clone();
        let sid = session_id.clone();
        tokio::spawn(async move {
            svc.run_turn(sid, text, override_active, sender, history, (user_id, user), cancel)
                .await;
        });
        Ok(session_id)
    }

    /// The stored transcript of a session, repaired for a provider.
    async fn history(&self, session_id: &str) -> Result<Vec<Message>, ChatError> {
        let stored = self
            .inner
            .db
            .recent_chat_messages(session_id.to_owned(), self.inner.settings.history_limit)
            .await?;
        Ok(repair(stored.into_iter().map(|m| m.message).collect()))
    }

    pub(crate) fn finish_running(&self, session_id: &str) {
        self.inner.running.lock().remove(session_id);
    }

    /// Publishes a confirmation the session's turn now waits for.
    pub(crate) fn add_pending(&self, session_id: &str, needed: ConfirmNeeded) {
        if let Some(r) = self.inner.running.lock().get_mut(session_id) {
            r.pending.push(needed);
        }
    }

    /// The call `tool_use_id` was answered: whatever it waited for is no longer pending.
    pub(crate) fn settle_pending(&self, session_id: &str, tool_use_id: &str) {
        if let Some(r) = self.inner.running.lock().get_mut(session_id) {
            r.pending.retain(|p| p.tool_use_id != tool_use_id);
        }
    }

    /// Replays a session: stored messages, the pending confirmation, whether a turn runs.
    pub async fn join(&self, session_id: &str) -> Result<JoinView, ChatError> {
        let session =
            self.inner.db.chat_session(session_id.to_owned()).await?.ok_or(ChatError::NotFound)?;
        let stored = self.inner.db.recent_chat_messages(session_id.to_owned(), 1_000).await?;
        let messages = chat_message_views(&stored, |name| Some(jarvis_domain::tier_of(name)));
        let (running, pending) = match self.inner.running.lock().get(session_id) {
            Some(r) => (true, r.pending.first().cloned()),
            None => (false, None),
        };
        Ok(JoinView { session_id: session.id, title: session.title, messages, pending, running })
    }

    /// Decides a confirmation the session's turn waits for (the turn resumes through the bus).
    pub async fn confirm(
        &self,
        session_id: &str,
        confirmation_id: &str,
        approve: bool,
        sender: &Sender,
    ) -> Result<(), ChatError> {
        let waits = self
            .inner
            .running
            .lock()
            .get(session_id)
            .is_some_and(|r| r.pending.iter().any(|p| p.confirmation_id == confirmation_id));
        if !waits {
            return Err(ChatError::NotFound);
        }
        self.inner
            .pipeline
            .decide(confirmation_id, approve, &sender.actor, Source::Chat, sender.jti.clone())
            .await
            .map(|_| ())
            .map_err(|e| ChatError::Confirmation(e.to_string()))
    }

    /// Aborts the running turn of `session_id`; `false` when none runs.
    pub fn abort(&self, session_id: &str) -> bool {
        match self.inner.running.lock().get(session_id) {
            Some(r) => {
                r.cancel.cancel();
                true
            }
            None => false,
        }
    }
}
