//! A small Socket.IO v5 client over engine.io v4 long-polling, spoken directly so tests see
//! exactly what a browser gets: namespace connect, events, acks. Packets for every namespace
//! are buffered, so a test can wait for one event while others arrive.

use std::collections::VecDeque;
use std::time::Duration;

use parking_lot::Mutex;
use serde_json::{Value, json};

use crate::harness::TestServer;

/// One decoded event: namespace, name, payload.
#[derive(Debug, Clone)]
pub struct SioEvent {
    pub name: String,
    pub data: Value,
}

pub struct SioClient {
    http: reqwest::Client,
    url: String,
    ns: String,
    events: Mutex<VecDeque<SioEvent>>,
    acks: Mutex<Vec<(u64, Value)>>,
    /// The last raw packets, for failure messages.
    trace: Mutex<VecDeque<String>>,
    next_ack: Mutex<u64>,
}

impl SioClient {
    /// Opens an engine.io session and connects `ns` with the bearer token.
    pub async fn connect(s: &TestServer, ns: &str, token: &str) -> SioClient {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(40)).build().unwrap();
        let base = s.url("/socket.io/?EIO=4&transport=polling");
        let body = http.get(&base).send().await.unwrap().text().await.unwrap();
        let open = body.strip_prefix('0').unwrap_or_else(|| panic!("engine.io open: {body}"));
        let sid = serde_json::from_str::<Value>(open).unwrap()["sid"].as_str().unwrap().to_string();
        let c = SioClient {
            http,
            url: format!("{base}&sid={sid}"),
            ns: ns.to_owned(),
            events: Mutex::new(VecDeque::new()),
            acks: Mutex::new(Vec::new()),
            trace: Mutex::new(VecDeque::new()),
            next_ack: Mutex::new(0),
        };
        c.send(format!("40{ns},{}", json!({ "token": token }))).await;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            assert!(tokio::time::Instant::now() < deadline, "no connect reply for {ns}");
            let mut connected = false;
            for p in c.raw_poll().await {
                if p.starts_with(&format!("44{ns},")) {
                    panic!("connect refused: {p}");
                }
                if p.starts_with(&format!("40{ns},")) {
                    connected = true;
                } else {
                    c.absorb(&p).await;
                }
            }
            if connected {
                return c;
            }
        }
    }

    async fn send(&self, packet: String) {
        let r = self.http.post(&self.url).body(packet).send().await.unwrap();
        assert!(r.status().is_success(), "post: {}", r.status());
    }

    async fn raw_poll(&self) -> Vec<String> {
        let started = tokio::time::Instant::now();
        let body = self.http.get(&self.url).send().await.unwrap().text().await.unwrap();
        {
            let mut trace = self.trace.lock();
            let short: String = body.chars().take(120).collect();
            trace.push_back(format!("+{:?} {short}", started.elapsed()));
            if trace.len() > 20 {
                trace.pop_front();
            }
        }
        body.split('\u{1e}').filter(|p| !p.is_empty()).map(str::to_string).collect()
    }

    /// Files one packet: pings are answered, events and acks buffered.
    async fn absorb(&self, p: &str) {
        if p == "2" {
            self.send("3".into()).await;
            return;
        }
        let event_prefix = format!("42{},", self.ns);
        let ack_prefix = format!("43{},", self.ns);
        if let Some(rest) = p.strip_prefix(&event_prefix) {
            let v: Value = serde_json::from_str(rest).unwrap();
            self.events.lock().push_back(SioEvent {
                name: v[0].as_str().unwrap_or_default().to_owned(),
                data: v.get(1).cloned().unwrap_or(Value::Null),
            });
        } else if let Some(rest) = p.strip_prefix(&ack_prefix) {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            let v: Value = serde_json::from_str(&rest[digits.len()..]).unwrap();
            self.acks.lock().push((digits.parse().unwrap(), v[0].clone()));
        }
    }

    async fn poll_once(&self) {
        for p in self.raw_poll().await {
            self.absorb(&p).await;
        }
    }

    /// Emits a raw argument list (for malformed-payload tests) and waits for the ack.
    pub async fn call_raw(&self, args: Value) -> Value {
        let id = {
            let mut n = self.next_ack.lock();
            *n += 1;
            *n
        };
        self.send(format!("42{},{id}{args}", self.ns)).await;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            {
                let mut acks = self.acks.lock();
                if let Some(pos) = acks.iter().position(|(i, _)| *i == id) {
                    return acks.remove(pos).1;
                }
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no ack for {args}; last polls: {:#?}",
                self.trace.lock()
            );
            self.poll_once().await;
        }
    }

    /// Emits an event and waits for its ack.
    pub async fn call(&self, event: &str, data: Value) -> Value {
        self.call_raw(json!([event, data])).await
    }

    /// Waits for the next event named `name` (events before it stay buffered for later waits).
    pub async fn wait_for(&self, name: &str, secs: u64) -> Value {
        self.wait_where(name, secs, |_| true).await
    }

    /// Waits for the next event named `name` whose payload satisfies `pred`.
    pub async fn wait_where(&self, name: &str, secs: u64, pred: impl Fn(&Value) -> bool) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        loop {
            {
                let mut events = self.events.lock();
                if let Some(pos) = events.iter().position(|e| e.name == name && pred(&e.data)) {
                    return events.remove(pos).unwrap().data;
                }
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no `{name}` within {secs}s; buffered: {:?}",
                self.events.lock().iter().map(|e| e.name.clone()).collect::<Vec<_>>()
            );
            self.poll_once().await;
        }
    }

    /// Collects every event until (and including) the first `until` event; returns them in order.
    pub async fn collect_until(&self, until: &str, secs: u64) -> Vec<SioEvent> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        loop {
            {
                let mut events = self.events.lock();
                if let Some(pos) = events.iter().position(|e| e.name == until) {
                    return events.drain(..=pos).collect();
                }
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no `{until}` within {secs}s; buffered: {:?}",
                self.events.lock().iter().map(|e| e.name.clone()).collect::<Vec<_>>()
            );
            self.poll_once().await;
        }
    }
}

/// The events named `name`, in order.
pub fn named<'a>(events: &'a [SioEvent], name: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e.name == name).map(|e| &e.data).collect()
}
