//! Notifications: the [`Notifier`] trait that every target (SMTP e-mail, ntfy, Gotify, Discord,
//! Slack, plain JSON webhooks) implements, the rendered [`Message`] they send, the typed
//! [`NotifyError`] they fail with, the configured [`Targets`], and the [`Outbox`] that delivers
//! queued notifications with grouping and retries.
//!
//! Producers (the monitor, the test endpoint) never talk to a target directly: they
//! [`Outbox::enqueue`] a draft, which only writes rows, so a slow or dead target can never hold
//! them up. The outbox component sends, retries and records.

mod email;
pub mod outbox;
mod payload;
mod render;
mod webhook;

#[cfg(test)]
mod tests;

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};
pub use jarvis_domain::events::Severity;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use ts_rs::TS;
use utoipa::ToSchema;

use crate::config::notify::NotifyConfig;
use crate::http_client::HttpClient;

pub use email::EmailNotifier;
pub use outbox::{NotificationDraft, Outbox, OutboxSettings, StepReport, TestOutcome};
pub use webhook::WebhookNotifier;

/// Which service a target is: the payload it gets and the `channel` metric label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS, ToSchema)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum Channel {
    /// SMTP e-mail.
    Email,
    /// ntfy (text body, headers).
    Ntfy,
    /// Gotify (`/message` JSON).
    Gotify,
    /// Discord webhook (embeds).
    Discord,
    /// Slack incoming webhook (blocks).
    Slack,
    /// Jarvis's own documented JSON.
    Json,
}

impl Channel {
    /// The wire word (also the metric label).
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Ntfy => "ntfy",
            Channel::Gotify => "gotify",
            Channel::Discord => "discord",
            Channel::Slack => "slack",
            Channel::Json => "json",
        }
    }

    /// The channel for a wire word.
    pub fn parse(word: &str) -> Option<Channel> {
        [
            Channel::Email,
            Channel::Ntfy,
            Channel::Gotify,
            Channel::Discord,
            Channel::Slack,
            Channel::Json,
        ]
        .into_iter()
        .find(|c| c.as_str() == word)
    }
}

/// Why a notification was queued (the `kind` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS, ToSchema)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum NotificationKind {
    /// An incident opened.
    Opened,
    /// A resolved incident came back.
    Reopened,
    /// An incident resolved.
    Resolved,
    /// An incident escalated (worse severity, or a remediation failed).
    Escalated,
    /// An incident is still open.
    Reminder,
    /// `POST /api/notifications/test`.
    Test,
}

impl NotificationKind {
    /// The stored word.
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationKind::Opened => "opened",
            NotificationKind::Reopened => "reopened",
            NotificationKind::Resolved => "resolved",
            NotificationKind::Escalated => "escalated",
            NotificationKind::Reminder => "reminder",
            NotificationKind::Test => "test",
        }
    }

    /// The kind for a stored word.
    pub fn parse(word: &str) -> Option<NotificationKind> {
        use NotificationKind::*;
        [Opened, Reopened, Resolved, Escalated, Reminder, Test]
            .into_iter()
            .find(|k| k.as_str() == word)
    }
}

/// One notification inside a [`Message`] (a message groups one or more).
#[derive(Debug, Clone, PartialEq)]
pub struct MessageItem {
    /// Why it was queued.
    pub kind: NotificationKind,
    /// Its severity.
    pub severity: Severity,
    /// One line.
    pub title: String,
    /// Details (plain text).
    pub body: String,
    /// Dashboard link, if any.
    pub link: Option<String>,
    /// The incident, if any.
    pub incident_id: Option<String>,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
}

/// One rendered message, as a target sends it.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// One line (`3 alerts: …` for a group).
    pub title: String,
    /// Plain-text body (UTF-8).
    pub body: String,
    /// The worst severity of the items.
    pub severity: Severity,
    /// Where to click: the item's link, or the dashboard for a group.
    pub link: Option<String>,
    /// The notifications it carries, oldest first (at least one).
    pub items: Vec<MessageItem>,
}

/// Why a delivery failed; the outbox branches on it to retry or give up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotifyError {
    /// The target could not be reached (DNS, refused, reset, TLS handshake). Retried.
    #[error("unreachable: {0}")]
    Unreachable(String),
    /// The target answered no: an SMTP reply code or an HTTP status. Retried unless `permanent`.
    #[error("rejected ({code}): {detail}")]
    Rejected {
        /// SMTP reply code or HTTP status.
        code: u16,
        /// What the target said (short, secrets removed).
        detail: String,
        /// Whether trying again cannot help (SMTP 5xx, HTTP 4xx other than 408/429).
        permanent: bool,
    },
    /// No answer in time. Retried.
    #[error("timed out")]
    Timeout,
    /// The target is misconfigured (refused address, bad sender). Not retried.
    #[error("configuration: {0}")]
    Config(String),
}

impl NotifyError {
    /// Whether a later attempt may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            NotifyError::Unreachable(_) | NotifyError::Timeout => true,
            NotifyError::Rejected { permanent, .. } => !permanent,
            NotifyError::Config(_) => false,
        }
    }
}

/// A notification target.
#[async_trait::async_trait]
pub trait Notifier: Send + Sync + fmt::Debug {
    /// Stable identity stored with each queued row: the redacted name plus a short hash of the
    /// full target (so two topics on one ntfy server differ). Never contains a secret.
    fn id(&self) -> &str;
    /// What to show an operator, e.g. `ntfy https://ntfy.lan/***`.
    fn name(&self) -> &str;
    /// Which service.
    fn channel(&self) -> Channel;
    /// Delivers one message. Implementations bound their own IO with timeouts; the outbox adds
    /// an outer one.
    async fn send(&self, msg: &Message) -> Result<(), NotifyError>;
}

/// `"{name} #{8 hex of sha256(full spec)}"`: see [`Notifier::id`].
pub(crate) fn target_id(name: &str, full_spec: &str) -> String {
    let digest = Sha256::digest(full_spec.as_bytes());
    format!("{name} #{}", &hex::encode(digest)[..8])
}

/// The channel word a stored target id starts with.
pub fn channel_of_target(id: &str) -> Option<Channel> {
    id.split_whitespace().next().and_then(Channel::parse)
}

/// The configured targets, in configuration order.
#[derive(Debug, Clone, Default)]
pub struct Targets {
    list: Vec<Arc<dyn Notifier>>,
}

impl Targets {
    /// Targets from a list (tests, or callers with their own notifiers).
    pub fn new(list: Vec<Arc<dyn Notifier>>) -> Targets {
        Targets { list }
    }

    /// The e-mail target and every webhook of `config`.
    pub fn from_config(config: &NotifyConfig) -> Result<Targets, NotifyError> {
        let mut list: Vec<Arc<dyn Notifier>> = Vec::new();
        if let Some(email) = &config.email {
            list.push(Arc::new(EmailNotifier::new(email, config.send_timeout)?));
        }
        if !config.webhooks.is_empty() {
            let http = HttpClient::new(config.send_timeout)
                .map_err(|e| NotifyError::Config(e.to_string()))?;
            for hook in &config.webhooks {
                list.push(Arc::new(WebhookNotifier::new(hook, http.clone())));
            }
        }
        Ok(Targets { list })
    }

    /// Every target.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<dyn Notifier>> {
        self.list.iter()
    }

    /// The target with this id.
    pub fn get(&self, id: &str) -> Option<&Arc<dyn Notifier>> {
        self.list.iter().find(|t| t.id() == id)
    }

    /// How many.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// True when nothing is configured (enqueueing is then a no-op).
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

/// Removes every occurrence of `secrets` (8+ characters) from `text`, then cuts it to 300
/// characters of printable text: what a target says back goes into logs and the UI.
pub(crate) fn sanitize_detail(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_string();
    for s in secrets.iter().filter(|s| s.len() >= 8) {
        out = out.replace(s, "***");
    }
    let cleaned: String =
        out.chars().map(|c| if c.is_control() { ' ' } else { c }).take(300).collect();
    cleaned.split_whitespace().collect::<Vec<_>>().join(" ")
}
