//! The configured LLM providers, built once from [`LlmSettings`].

use std::sync::Arc;
use std::time::Duration;

use jarvis_llm::{AnthropicClient, LlmProvider, OpenAiClient};

use crate::config::LlmSettings;

/// Claude and the local model, whichever are configured.
#[derive(Clone, Default)]
pub struct Providers {
    /// Claude (Anthropic Messages API).
    pub claude: Option<Arc<dyn LlmProvider>>,
    /// The local OpenAI-compatible server.
    pub local: Option<Arc<dyn LlmProvider>>,
}

impl std::fmt::Debug for Providers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Providers")
            .field("claude", &self.claude.as_ref().map(|p| p.model().to_owned()))
            .field("local", &self.local.as_ref().map(|p| p.model().to_owned()))
            .finish()
    }
}

impl Providers {
    /// The clients for the configured providers.
    pub fn from_settings(settings: &LlmSettings) -> Providers {
        // Streams are long, so no overall timeout; the turn bounds the wait for each event.
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_default();
        let claude = settings.claude.as_ref().map(|c| {
            let mut client = AnthropicClient::new(c.api_key.expose().clone(), c.model.clone())
                .with_base_url(c.base_url.clone());
            client.max_tokens = c.max_tokens;
            client.http = http.clone();
            Arc::new(client) as Arc<dyn LlmProvider>
        });
        let local = settings.local.as_ref().map(|l| {
            let mut client = OpenAiClient::new(l.endpoint.clone(), l.model.clone());
            client.http = http.clone();
            if let Some(key) = &l.api_key {
                client = client.with_api_key(key.expose().clone());
            }
            Arc::new(client) as Arc<dyn LlmProvider>
        });
        Providers { claude, local }
    }
}
