//! [`WebhookNotifier`]: ntfy, Gotify, Discord, Slack and plain JSON webhooks, all through the
//! one guarded [`HttpClient`] (no link-local or metadata targets, no cross-host redirects,
//! timeouts, capped reads). The payload of each service is built in `payload.rs`.
//!
//! The URL is a secret (ntfy topics, Gotify tokens and Discord/Slack webhook paths all
//! authenticate), so the notifier shows only `ntfy https://ntfy.lan/***`, and whatever a target
//! answers is scrubbed of the URL's path, query and password before it is stored or logged.

use url::Url;

use super::{Channel, Message, Notifier, NotifyError, payload, sanitize_detail, target_id};
use crate::config::notify::{WebhookSettings, redacted_url};
use crate::http_client::{HttpClient, HttpError};

/// One webhook target.
pub struct WebhookNotifier {
    id: String,
    name: String,
    channel: Channel,
    /// Where to POST, without user info (that becomes an `Authorization` header).
    url: Url,
    /// ntfy: `user:pass@` → Basic, `:token@` → Bearer.
    auth: Option<(String, String)>,
    http: HttpClient,
    /// Parts of the URL scrubbed from whatever the target answers.
    secrets: Vec<String>,
}

impl std::fmt::Debug for WebhookNotifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookNotifier").field("name", &self.name).finish_non_exhaustive()
    }
}

impl WebhookNotifier {
    /// A notifier for one parsed `ALERT_WEBHOOK_URL` entry.
    pub fn new(settings: &WebhookSettings, http: HttpClient) -> WebhookNotifier {
        let full = settings.url.expose().clone();
        let channel = settings.channel;
        let name = format!("{} {}", channel.as_str(), redacted_url(&full));
        let id = target_id(&name, full.as_str());
        let mut secrets: Vec<String> = vec![full.as_str().to_string()];
        if full.path().len() > 1 {
            secrets.push(full.path().to_string());
        }
        secrets.extend(full.path_segments().into_iter().flatten().map(str::to_string));
        secrets.extend(full.query_pairs().map(|(_, v)| v.into_owned()));
        secrets.extend(full.password().map(str::to_string));
        let auth = match (full.username(), full.password()) {
            ("", None) => None,
            (user, pass) => Some((user.to_string(), pass.unwrap_or_default().to_string())),
        };
        let mut url = full;
        let _ = url.set_username("");
        let _ = url.set_password(None);
        if channel == Channel::Gotify && !url.path().ends_with("/message") {
            let path = format!("{}/message", url.path().trim_end_matches('/'));
            url.set_path(&path);
        }
        WebhookNotifier { id, name, channel, url, auth, http, secrets }
    }

    fn rejected(&self, status: u16, body: &[u8]) -> NotifyError {
        let secrets: Vec<&str> = self.secrets.iter().map(String::as_str).collect();
        let detail = sanitize_detail(&String::from_utf8_lossy(body), &secrets);
        // 408 and 429 say "later"; other 4xx say "never like this".
        let permanent = (400..500).contains(&status) && status != 408 && status != 429;
        NotifyError::Rejected { code: status, detail, permanent }
    }
}

fn map_http(e: HttpError) -> NotifyError {
    match e {
        HttpError::Blocked(d) | HttpError::InvalidUrl(d) => NotifyError::Config(d),
        HttpError::Timeout => NotifyError::Timeout,
        HttpError::Unreachable(d) | HttpError::Other(d) => NotifyError::Unreachable(d),
    }
}

#[async_trait::async_trait]
impl Notifier for WebhookNotifier {
    fn id(&self) -> &str {
        &self.id
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn channel(&self) -> Channel {
        self.channel
    }

    async fn send(&self, msg: &Message) -> Result<(), NotifyError> {
        let mut req = self.http.post(&self.url).map_err(map_http)?;
        req = match self.channel {
            Channel::Ntfy => {
                let (headers, body) = payload::ntfy(msg);
                for (name, value) in headers {
                    req = req.header(name, value);
                }
                match &self.auth {
                    Some((user, token)) if user.is_empty() => req.bearer_auth(token),
                    Some((user, pass)) => req.basic_auth(user, Some(pass)),
                    None => req,
                }
                .header("Content-Type", "text/plain; charset=utf-8")
                .body(body)
            }
            Channel::Gotify => req.json(&payload::gotify(msg)),
            Channel::Discord => req.json(&payload::discord(msg)),
            Channel::Slack => req.json(&payload::slack(msg)),
            Channel::Json | Channel::Email => req.json(&payload::json_payload(msg)),
        };
        let resp = self.http.send(req).await.map_err(map_http)?;
        if resp.status.is_success() {
            Ok(())
        } else {
            Err(self.rejected(resp.status.as_u16(), &resp.body))
        }
    }
}
