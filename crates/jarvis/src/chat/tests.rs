//! The turn driver with paused Tokio time: a real `ChatService` over a real SQLite file and the
//! real tool pipeline on the simulated cluster, an in-process scripted model (no network in the
//! turn itself), a [`ManualClock`] for "now" and `tokio::time::advance` for the timer. The clock
//! and the runtime's timer are moved together, as the wall clock and the timer move in
//! production.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use futures::stream::BoxStream;
use jarvis_domain::agent::ToolResultStatus;
use jarvis_llm::{ChatRequest, ContentBlock, LlmError, LlmEvent, LlmProvider, StopReason};
use parking_lot::Mutex;
use serde_json::json;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::events::ChannelSink;
use super::providers::Providers;
use super::{ChatEvent, ChatService, Sender};
use crate::clock::{Clock, ManualClock};
use crate::db::Db;
use crate::db::confirmations::ConfirmationStatus;
use crate::guard::Guard;
use crate::tools::{CONFIRMATION_TTL, Pipeline};

/// A model that answers each call with the next scripted response, and keeps the requests.
struct Scripted {
    responses: Mutex<VecDeque<Vec<LlmEvent>>>,
    requests: Mutex<Vec<ChatRequest>>,
}

#[async_trait]
impl LlmProvider for Scripted {
    fn name(&self) -> &'static str {
        "claude"
    }
    fn model(&self) -> &str {
        "claude-sonnet-4-5"
    }
    async fn stream(
        &self,
        req: ChatRequest,
    ) -> Result<BoxStream<'static, Result<LlmEvent, LlmError>>, LlmError> {
        self.requests.lock().push(req);
        let events = self.responses.lock().pop_front().unwrap_or_default();
        Ok(futures::stream::iter(events.into_iter().map(Ok)).boxed())
    }
}

/// "Stop VM 101" (a RED call), then a closing sentence.
fn stop_then_text() -> Arc<Scripted> {
    let stop = vec![
        LlmEvent::TextDelta("Stopping VM 101, sir.".into()),
        LlmEvent::ToolCallEnd {
            index: 0,
            id: "toolu_stop".into(),
            name: "stop_vm".into(),
            input: json!({"node": "pve1", "vmid": 101}),
        },
        LlmEvent::Done { stop_reason: StopReason::ToolUse },
    ];
    let close = vec![
        LlmEvent::TextDelta("Understood.".into()),
        LlmEvent::Done { stop_reason: StopReason::EndTurn },
    ];
    Arc::new(Scripted { responses: Mutex::new([stop, close].into()), requests: Mutex::default() })
}

struct TestChat {
    _sim: jarvis_sim::SimHandle,
    _dir: tempfile::TempDir,
    db: Db,
    chat: ChatService,
    clock: ManualClock,
    model: Arc<Scripted>,
    events: mpsc::UnboundedReceiver<(String, ChatEvent)>,
}

fn sender() -> Sender {
    Sender { actor: "operator".into(), jti: None }
}

impl TestChat {
    async fn start() -> TestChat {
        let sim = jarvis_sim::SimServer::start(jarvis_sim::SimConfig {
            ssh: false,
            tick: Duration::ZERO,
            ..jarvis_sim::SimConfig::default()
        })
        .await
        .unwrap();
        let defaults = jarvis_sim::SimConfig::default();
        let mut pve = jarvis_proxmox::PveConfig::new(
            vec![url::Url::parse(&sim.base_url()).unwrap()],
            defaults.token_id,
            defaults.token_secret,
        );
        pve.tls = jarvis_proxmox::TlsMode::Insecure;
        pve.discover_endpoints = false;
        let client = Arc::new(jarvis_proxmox::PveClient::new(pve).unwrap());
        let api: Arc<dyn jarvis_proxmox::ProxmoxApi> = client.clone();
        let cluster = crate::cluster::ClusterState::new();
        let view = jarvis_proxmox::read_cluster(api.as_ref()).await.unwrap();
        let now = chrono::Utc::now();
        cluster.publish(crate::cluster::apply_poll(&cluster.snapshot(), Ok(view), now, None));
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("chat.db")).await.unwrap();
        let protected = jarvis_domain::safety::Protected::default();
        let guard = Arc::new(Guard::load(db.clone(), protected, None).await.unwrap());
        let bus = crate::bus::Bus::default();
        let pipeline = Pipeline::new(
            db.clone(),
            guard.clone(),
            cluster.clone(),
            crate::PveHandles::new(client),
            None,
            bus.clone(),
        );
        let model = stop_then_text();
        let provider: Arc<dyn LlmProvider> = model.clone();
        // The clock starts at the wall clock: the pipeline stamps its records by it.
        let clock = ManualClock::starting_at(chrono::Utc::now());
        let chat = ChatService::new(
            db.clone(),
            pipeline,
            cluster,
            guard,
            bus,
            crate::config::LlmSettings::default(),
            Providers { claude: Some(provider), local: None },
            None,
            CancellationToken::new(),
        )
        .with_clock(Arc::new(clock.clone()));
        let (tx, events) = mpsc::unbounded_channel();
        chat.set_sink(Arc::new(ChannelSink(tx)));
        TestChat { _sim: sim, _dir: dir, db, chat, clock, model, events }
    }

    /// Moves the clock and the runtime's timer forward together.
    async fn advance(&self, by: Duration) {
        self.clock.advance(chrono::Duration::from_std(by).unwrap());
        tokio::time::advance(by).await;
    }

    /// Events up to and including the next `name`, which must come before the runtime idles
    /// for a (paused, so instant) minute.
    async fn until(&mut self, name: &str) -> Vec<ChatEvent> {
        let mut seen = Vec::new();
        loop {
            let next = tokio::time::timeout(Duration::from_secs(60), self.events.recv()).await;
            let (_, event) = next.unwrap_or_else(|_| panic!("no {name} after {seen:?}")).unwrap();
            let found = event.name() == name;
            seen.push(event);
            if found {
                return seen;
            }
        }
    }

    /// Everything sent once the runtime has nothing left to do: a paused sleep only returns
    /// when every other task waits (the runtime then jumps the timer to it).
    async fn settled(&mut self) -> Vec<ChatEvent> {
        tokio::time::sleep(Duration::from_millis(10)).await;
        let mut seen = Vec::new();
        while let Ok((_, event)) = self.events.try_recv() {
            seen.push(event);
        }
        seen
    }

    /// Sends the message and waits for the confirmation card; returns (session, confirmation).
    async fn ask_to_stop(&mut self) -> (String, String) {
        let session = self.chat.send(None, "please stop vm 101", sender(), |_| {}).await.unwrap();
        let seen = self.until("chat:confirm_needed").await;
        let Some(ChatEvent::ConfirmNeeded(needed)) = seen.last() else { unreachable!() };
        assert_eq!(
            (needed.tool_use_id.as_str(), needed.tool_name.as_str()),
            ("toolu_stop", "stop_vm")
        );
        (session, needed.confirmation_id.clone())
    }

    async fn status(&self, confirmation_id: &str) -> ConfirmationStatus {
        let (c, _) =
            self.db.confirmation_with_result(confirmation_id.into()).await.unwrap().unwrap();
        c.status
    }

    /// The tool result the model got in its second request.
    fn answer_the_model_got(&self) -> (String, bool) {
        let requests = self.model.requests.lock();
        assert_eq!(requests.len(), 2, "the model is called again after the answer");
        requests[1]
            .messages
            .iter()
            .flat_map(|m| &m.content)
            .find_map(|b| match b {
                ContentBlock::ToolResult { tool_use_id, content, is_error }
                    if tool_use_id == "toolu_stop" =>
                {
                    Some((content.clone(), *is_error))
                }
                _ => None,
            })
            .expect("the call is answered")
    }
}

fn results(events: &[ChatEvent]) -> Vec<&super::ChatToolResultEvent> {
    events
        .iter()
        .filter_map(|e| match e {
            ChatEvent::ToolResult(r) => Some(r),
            _ => None,
        })
        .collect()
}

#[tokio::test(start_paused = true)]
async fn a_pending_confirmation_expires_after_its_ttl_and_the_turn_answers_the_call_as_expired() {
    let mut t = TestChat::start().await;
    let (session, confirmation) = t.ask_to_stop().await;

    // A second short of the TTL nothing has happened: the turn still waits, the record too.
    t.advance(CONFIRMATION_TTL - Duration::from_secs(1)).await;
    let early = t.settled().await;
    assert!(results(&early).is_empty(), "{early:?}");
    assert_eq!(t.status(&confirmation).await, ConfirmationStatus::Pending);
    assert!(t.chat.is_running(&session));
    assert_eq!(t.chat.join(&session).await.unwrap().pending.unwrap().confirmation_id, confirmation);

    t.advance(Duration::from_secs(2)).await;
    let seen = t.until("chat:done").await;
    let answered = results(&seen);
    assert_eq!(answered.len(), 1, "{seen:?}");
    assert_eq!(answered[0].status, ToolResultStatus::Expired);
    assert!(
        answered[0].is_error && answered[0].result.starts_with("Expired:"),
        "{:?}",
        answered[0]
    );
    assert_eq!(t.status(&confirmation).await, ConfirmationStatus::Expired, "expired in the store");
    let Some(ChatEvent::Done(done)) = seen.last() else { unreachable!() };
    assert_eq!(done.stop_reason.as_str(), "end_turn");
    let (content, is_error) = t.answer_the_model_got();
    assert!(is_error && content.starts_with("Expired:"), "{content}");
    assert!(t.chat.join(&session).await.unwrap().pending.is_none());
    // The replayed history says so too, from the stored status.
    let calls = &t.chat.join(&session).await.unwrap().messages[1].tool_calls;
    assert_eq!(calls[0].status, crate::db::chat::ToolCallStatus::Expired);
}

#[tokio::test(start_paused = true)]
async fn an_approval_arriving_before_expiry_resumes_the_turn() {
    let mut t = TestChat::start().await;
    let (session, confirmation) = t.ask_to_stop().await;
    t.advance(CONFIRMATION_TTL - Duration::from_secs(5)).await;
    assert!(results(&t.settled().await).is_empty());

    // The approval runs stop_vm against the simulator over HTTPS, whose tasks take real time:
    // from here on the runtime's timer runs with the wall clock. The service clock stays
    // before the expiry, so the turn must not expire the record meanwhile.
    tokio::time::resume();
    t.chat.confirm(&session, &confirmation, true, &sender()).await.unwrap();
    let seen = t.until("chat:done").await;
    let answered = results(&seen);
    assert_eq!(answered.len(), 1, "{seen:?}");
    assert_eq!((answered[0].status, answered[0].is_error), (ToolResultStatus::Ok, false));
    assert_eq!(t.status(&confirmation).await, ConfirmationStatus::Executed);
    let (content, is_error) = t.answer_the_model_got();
    assert!(!is_error, "{content}");
    assert!(
        t.clock.now()
            < t.db.confirmation_with_result(confirmation).await.unwrap().unwrap().0.expires_at
    );
}
