//! Benchmark: the chat server's own share of a turn, with the model taken out of the picture by
//! an in-process [`LlmProvider`] that answers at once. Everything else is real: a `ChatService`
//! over a real SQLite file holding 100,000 stored chat messages (1,000 sessions × 100, a tool
//! exchange every few messages) and 10,000 `llm_usage` rows, a daily cost limit (so the budget
//! query runs on every routed message), the simulator's cluster snapshot in `ClusterState`.
//!
//! Two figures:
//! - **overhead before the first request byte**: from just before `ChatService::send` until the
//!   provider's `stream()` is invoked with the finished `ChatRequest`. This covers validation,
//!   session lookup, the `CHAT_HISTORY_LIMIT` (40) history read and repair, storing the user
//!   message, spawning the turn, the `chat:message`/`chat:route` emits, routing (stored rules,
//!   today's spend summed from `llm_usage`, pending confirmations) and building the request
//!   (system prompt from the cached snapshot, history window, tool specs). Each iteration sends a
//!   new message to one of 50 prepared sessions in rotation (so a session is never busy and its
//!   history stays capped by the limit), and waits for `chat:done` before the next one.
//!   `send() returned` is the same start to the moment `send` answers (the socket's ack).
//! - **added latency per relayed token**: the provider streams 2,000 `TextDelta`s produced on
//!   demand (`futures::stream::unfold`): each item is time-stamped in the poll that yields it, so
//!   no channel or producer wait is counted. The sink stamps each `chat:token` when the driver
//!   hands it over (`ChatSink::emit` entry) and then builds and encodes the wire payload as the
//!   Socket.IO sink does. The figure is therefore: stream item → idle-timeout wrapper → `select!`
//!   → `model_item` → agent state machine (`Turn::handle`) → effect queue → sink. The socket write
//!   itself is not included. `tokens/s` is the driver's throughput over the whole stream (first
//!   yield to last emit), including the sink's encoding.
//!
//! Run with `cargo bench -p jarvis --bench chat`.

mod common;

use common::percentile;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::Utc;
use futures::StreamExt;
use futures::stream::BoxStream;
use jarvis::chat::providers::Providers;
use jarvis::chat::{ChatEvent, ChatService, ChatSink, Sender};
use jarvis_domain::agent::Block;
use jarvis_llm::{ChatRequest, LlmError, LlmEvent, LlmProvider, StopReason};
use parking_lot::Mutex;
use serde_json::json;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

const SESSIONS: usize = 1_000;
const MESSAGES_PER_SESSION: usize = 100;
const USAGE_ROWS: usize = 10_000;
/// Sessions the overhead iterations rotate over.
const ROTATION: usize = 50;
const WARM_UP: usize = 50;
const ITERATIONS: usize = 1_000;
/// Tokens per streamed answer, and answers measured.
const STREAM_TOKENS: usize = 2_000;
const STREAM_TURNS: usize = 5;
const MODEL: &str = "claude-sonnet-4-5";

/// Prints n, p50, p99 and max of `samples` in milliseconds (`micros`: in microseconds).
fn report(name: &str, samples: &mut [Duration], micros: bool) {
    samples.sort();
    let (scale, unit) = if micros { (1e6, "µs") } else { (1e3, "ms") };
    let at = |d: Duration| d.as_secs_f64() * scale;
    println!(
        "{name:<44} n={:<6} p50 {:>7.3} {unit}   p99 {:>7.3} {unit}   max {:>7.3} {unit}",
        samples.len(),
        at(percentile(samples, 0.5)),
        at(percentile(samples, 0.99)),
        at(samples[samples.len() - 1]),
    );
}

fn session_id(i: usize) -> String {
    format!("00000000-0000-4000-8000-{i:012}")
}

/// A provider that answers at once: `MessageStart`, `tokens` text deltas, `Done`.
struct BenchProvider {
    /// When `stream()` was last invoked.
    called: Mutex<Option<Instant>>,
    tokens: AtomicUsize,
    /// When each text delta was yielded, in order.
    yielded: Arc<Mutex<Vec<Instant>>>,
}

#[async_trait]
impl LlmProvider for BenchProvider {
    fn name(&self) -> &'static str {
        "claude"
    }
    fn model(&self) -> &str {
        MODEL
    }
    async fn stream(
        &self,
        req: ChatRequest,
    ) -> Result<BoxStream<'static, Result<LlmEvent, LlmError>>, LlmError> {
        *self.called.lock() = Some(Instant::now());
        std::hint::black_box(&req);
        let n = self.tokens.load(Ordering::Relaxed);
        let yielded = self.yielded.clone();
        let stream = futures::stream::unfold(0usize, move |i| {
            let yielded = yielded.clone();
            async move {
                let event = if i == 0 {
                    // Small reported usage keeps the bench's own spend far below the limit.
                    LlmEvent::MessageStart { model: MODEL.into(), input_tokens: Some(1_000) }
                } else if i <= n {
                    let e = LlmEvent::TextDelta("tok ".into());
                    yielded.lock().push(Instant::now());
                    e
                } else if i == n + 1 {
                    LlmEvent::Done { stop_reason: StopReason::EndTurn }
                } else {
                    return None;
                };
                Some((Ok(event), i + 1))
            }
        });
        Ok(stream.boxed())
    }
}

/// Stamps each `chat:token` on arrival, encodes every payload as the Socket.IO sink does, and
/// forwards everything but tokens to the bench.
struct BenchSink {
    tx: mpsc::UnboundedSender<(String, ChatEvent)>,
    received: Arc<Mutex<Vec<Instant>>>,
}

#[async_trait]
impl ChatSink for BenchSink {
    async fn emit(&self, session_id: &str, event: ChatEvent) {
        let token = matches!(event, ChatEvent::Token(_));
        if token {
            self.received.lock().push(Instant::now());
        }
        let frame = serde_json::to_string(&event.payload()).unwrap_or_default();
        std::hint::black_box((event.name(), frame));
        if !token {
            let _ = self.tx.send((session_id.to_owned(), event));
        }
    }
}

/// Waits for the session's `chat:done`; returns the provider `chat:route` named.
async fn wait_done(rx: &mut mpsc::UnboundedReceiver<(String, ChatEvent)>, sid: &str) -> String {
    let mut routed = String::new();
    loop {
        let (s, event) = tokio::time::timeout(Duration::from_secs(60), rx.recv())
            .await
            .expect("the turn finishes within a minute")
            .expect("the sink stays open");
        if s != sid {
            continue;
        }
        match event {
            ChatEvent::Route(r) => routed = r.provider,
            ChatEvent::Done(d) => {
                assert_eq!(d.stop_reason.as_str(), "end_turn", "the turn ends normally");
                return routed;
            }
            ChatEvent::Error(e) => panic!("turn failed: {}: {}", e.code, e.message),
            _ => {}
        }
    }
}

/// One stored row: role, blocks, joined text.
fn row(role: &str, blocks: Vec<Block>) -> (String, String, String) {
    let text = blocks
        .iter()
        .filter_map(|b| match b {
            Block::Text { text } => Some(text.as_str()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("");
    (role.to_owned(), serde_json::to_string(&blocks).unwrap(), text)
}

/// A realistic transcript of `MESSAGES_PER_SESSION` rows: questions, answers of a few hundred
/// characters, and every fourth exchange a tool call with a ~1.5 kB result.
fn transcript(s: usize) -> Vec<(String, String, String)> {
    let mut rows = Vec::with_capacity(MESSAGES_PER_SESSION);
    let mut exchange = 0;
    while rows.len() < MESSAGES_PER_SESSION {
        let vmid = 100 + (s * 7 + exchange) % 400;
        rows.push(row(
            "user",
            vec![Block::text(format!(
                "How is VM {vmid} on pve{} doing? Check memory, disk and the last backup.",
                exchange % 5 + 1
            ))],
        ));
        if exchange % 4 == 3 && MESSAGES_PER_SESSION - rows.len() >= 3 {
            let id = format!("toolu_{s}_{exchange}");
            rows.push(row(
                "assistant",
                vec![
                    Block::text("Let me look at the cluster first."),
                    Block::ToolUse {
                        id: id.clone(),
                        name: "get_cluster_status".into(),
                        input: json!({}),
                    },
                ],
            ));
            let result = (0..20)
                .map(|k| format!("{{\"vmid\":{},\"status\":\"running\",\"mem\":0.{k}}}", vmid + k))
                .collect::<Vec<_>>()
                .join(",");
            rows.push(row(
                "user",
                vec![Block::ToolResult {
                    tool_use_id: id,
                    content: format!("[{result}]").repeat(2),
                    is_error: false,
                }],
            ));
        }
        rows.push(row(
            "assistant",
            vec![Block::text(format!(
                "VM {vmid} is running with 62% of its 8 GiB memory in use; the root disk is 41% \
                 full and grows about 1 GiB a week. The last backup finished last night without \
                 errors and took 7 minutes. Nothing needs attention right now, but the disk \
                 will want a look within a few months if the trend holds. {}",
                "Details follow. ".repeat(exchange % 6)
            ))],
        ));
        exchange += 1;
    }
    rows.truncate(MESSAGES_PER_SESSION);
    rows
}

/// 100,000 chat messages and 10,000 usage rows in one transaction.
async fn seed(db: &jarvis::db::Db) {
    let now = Utc::now();
    db.call(move |c| {
        let tx = c.transaction()?;
        {
            let mut session = tx.prepare(
                "INSERT INTO chat_sessions (id, title, actor, created_at, updated_at)
                 VALUES (?1, ?2, 'operator', ?3, ?4)",
            )?;
            let mut message = tx.prepare(
                "INSERT INTO chat_messages (session_id, role, blocks, content, provider, model,
                    input_tokens, output_tokens, cost_usd, meta, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, NULL, ?10)",
            )?;
            for s in 0..SESSIONS {
                let id = session_id(s);
                // Sessions spread over the last 60 days; the rotation ones are the newest.
                let start = now - chrono::Duration::minutes((s as i64 + 1) * 86);
                let rows = transcript(s);
                let end = start + chrono::Duration::seconds(rows.len() as i64 * 20);
                session.execute((
                    &id,
                    format!("Session {s}"),
                    jarvis::db::timestamp(start),
                    jarvis::db::timestamp(end),
                ))?;
                for (k, (role, blocks, content)) in rows.iter().enumerate() {
                    let at =
                        jarvis::db::timestamp(start + chrono::Duration::seconds(k as i64 * 20));
                    let answer = role == "assistant";
                    message.execute(rusqlite::params![
                        id,
                        role,
                        blocks,
                        content,
                        answer.then_some("claude"),
                        answer.then_some(MODEL),
                        if answer { 3_000 } else { 0 },
                        if answer { 150 } else { 0 },
                        if answer { 0.011 } else { 0.0 },
                        at,
                    ])?;
                }
            }
            let mut usage = tx.prepare(
                "INSERT INTO llm_usage (session_id, at, provider, model, input_tokens,
                    output_tokens, cost_usd, estimated)
                 VALUES (?1, ?2, ?3, ?4, 3000, 150, ?5, 0)",
            )?;
            for u in 0..USAGE_ROWS {
                // Ten thousand calls over the last 30 days; a few hundred of them today.
                let at = now - chrono::Duration::seconds((u as i64) * 259);
                let local = u % 3 == 0;
                usage.execute(rusqlite::params![
                    session_id(u % SESSIONS),
                    jarvis::db::timestamp(at),
                    if local { "local" } else { "claude" },
                    if local { "local" } else { MODEL },
                    if local { 0.0 } else { 0.011 },
                ])?;
            }
        }
        tx.commit()
    })
    .await
    .unwrap();
}

fn main() {
    jarvis::auth::install_crypto();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let db = jarvis::db::Db::open(&dir.path().join("bench.db")).await.unwrap();
        let seeding = Instant::now();
        seed(&db).await;
        let seeded = seeding.elapsed();
        let bench = common::pipeline_on_simulator(db.clone()).await;
        let pipeline = bench.pipeline.clone();
        let (guard, cluster, bus) =
            (pipeline.guard.clone(), pipeline.cluster.clone(), pipeline.bus.clone());
        let settings = jarvis::config::LlmSettings {
            daily_cost_limit_usd: 100.0,
            ..jarvis::config::LlmSettings::default()
        };
        let yielded = Arc::new(Mutex::new(Vec::new()));
        let provider = Arc::new(BenchProvider {
            called: Mutex::new(None),
            tokens: AtomicUsize::new(1),
            yielded: yielded.clone(),
        });
        let chat = ChatService::new(
            db.clone(),
            pipeline,
            cluster.clone(),
            guard,
            bus,
            settings,
            Providers { claude: Some(provider.clone()), local: None },
            None,
            CancellationToken::new(),
        );
        let (tx, mut rx) = mpsc::unbounded_channel();
        let received = Arc::new(Mutex::new(Vec::new()));
        chat.set_sink(Arc::new(BenchSink { tx, received: received.clone() }));
        let sender = || Sender { actor: "operator".into(), jti: None };
        let (spent, messages): (f64, i64) = db
            .call(|c| {
                c.query_row(
                    "SELECT (SELECT COALESCE(SUM(cost_usd), 0) FROM llm_usage
                             WHERE at >= strftime('%Y-%m-%dT00:00:00.000Z', 'now')),
                            (SELECT COUNT(*) FROM chat_messages)",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
            })
            .await
            .unwrap();

        println!("chat benchmark: {} chat messages in {SESSIONS} sessions, {USAGE_ROWS} usage rows (seeded in {:.1} s), today's spend ${spent:.2} of a $100 limit, history limit {}",
            messages, seeded.as_secs_f64(), chat.settings().history_limit);
        println!("  first-byte overhead: send() start → provider.stream() invoked with the built request (router, budget, history, prompt)");
        println!("  send() returned:     send() start → send() answers (what the socket's ack waits for)");
        println!("  per token:           provider stream yields a TextDelta → ChatSink::emit receives chat:token");
        println!();

        // 1. Overhead before the first request byte.
        let mut first_byte = Vec::with_capacity(ITERATIONS);
        let mut acked = Vec::with_capacity(ITERATIONS);
        let mut routes: HashMap<String, usize> = HashMap::new();
        for i in 0..WARM_UP + ITERATIONS {
            let sid = session_id(i % ROTATION);
            let message = format!("What is the memory use of VM {} right now?", 100 + i % 300);
            *provider.called.lock() = None;
            let t = Instant::now();
            let returned = chat.send(Some(sid.clone()), &message, sender(), |_| {}).await;
            let ack = t.elapsed();
            assert_eq!(returned.expect("send accepted"), sid);
            let routed = wait_done(&mut rx, &sid).await;
            let called = provider.called.lock().take().expect("the provider was called");
            if i >= WARM_UP {
                first_byte.push(called - t);
                acked.push(ack);
                *routes.entry(routed).or_default() += 1;
            }
        }
        assert_eq!(routes.get("claude"), Some(&ITERATIONS), "every turn went to Claude: {routes:?}");
        report("first-byte overhead (100k stored messages)", &mut first_byte, false);
        report("send() returned", &mut acked, false);

        // 2. Added latency per relayed token.
        provider.tokens.store(STREAM_TOKENS, Ordering::Relaxed);
        let mut per_token = Vec::with_capacity(STREAM_TOKENS * STREAM_TURNS);
        let mut rates = Vec::new();
        for turn in 0..=STREAM_TURNS {
            let sid = session_id(ROTATION + turn);
            yielded.lock().clear();
            received.lock().clear();
            chat.send(Some(sid.clone()), "Tell me a long story about the cluster.", sender(), |_| {})
                .await
                .expect("send accepted");
            wait_done(&mut rx, &sid).await;
            let yielded = std::mem::take(&mut *yielded.lock());
            let received = std::mem::take(&mut *received.lock());
            assert_eq!(yielded.len(), STREAM_TOKENS);
            assert_eq!(received.len(), STREAM_TOKENS, "every delta was relayed as one token");
            if turn == 0 {
                continue; // warm-up
            }
            per_token.extend(yielded.iter().zip(&received).map(|(y, r)| *r - *y));
            let span = received[STREAM_TOKENS - 1] - yielded[0];
            rates.push(STREAM_TOKENS as f64 / span.as_secs_f64());
        }
        report(&format!("per token ({STREAM_TURNS} streams × {STREAM_TOKENS} tokens)"), &mut per_token, true);
        rates.sort_by(f64::total_cmp);
        println!(
            "{:<44} median {:.0} tokens/s (min {:.0})",
            "driver throughput",
            rates[rates.len() / 2],
            rates[0]
        );
    });
}
