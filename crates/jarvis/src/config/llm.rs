//! The chat settings: the two LLM providers, the cost cap, the price table, the operator's
//! cost time zone and the agent loop limits.
//!
//! A provider is configured when its key setting is present: Claude when `ANTHROPIC_API_KEY`
//! (or `ANTHROPIC_API_KEY_FILE`) is set, the local model when `LOCAL_LLM_ENDPOINT` is set. With
//! neither, the chat still answers slash commands. Problems are collected with the rest of the
//! configuration so the operator sees them all at once.

use std::path::Path;
use std::time::Duration;

use chrono::FixedOffset;
use jarvis_domain::cost::PriceTable;
use jarvis_domain::prompt::{ContextBudgets, SectionBudgets};

use super::{EnvLookup, Secret, secret_or_file};
use crate::cli::CommonArgs;

/// Default Claude API base URL (the same as `jarvis_llm`'s; `jarvis` does not link that crate
/// yet, so it is spelled here).
pub const DEFAULT_ANTHROPIC_BASE_URL: &str = "https://api.anthropic.com";
/// Default Claude model.
pub const DEFAULT_CLAUDE_MODEL: &str = "claude-sonnet-4-5";
/// Default `CLAUDE_MAX_TOKENS`.
pub const DEFAULT_CLAUDE_MAX_TOKENS: u32 = 4096;
/// Default `LOCAL_LLM_MODEL`.
pub const DEFAULT_LOCAL_MODEL: &str = "local";
/// Default `LOCAL_LLM_CONTEXT_WINDOW`.
pub const DEFAULT_LOCAL_CONTEXT_WINDOW: u32 = 8192;
/// Default `DAILY_COST_LIMIT` in USD.
pub const DEFAULT_DAILY_COST_LIMIT: f64 = 5.0;
/// Default `CHAT_HISTORY_LIMIT` (messages sent to the model).
pub const DEFAULT_HISTORY_LIMIT: usize = 40;
/// Default `CHAT_MAX_LOOP` (model calls per turn).
pub const DEFAULT_MAX_LOOP: u32 = 10;
/// Default `CHAT_TOOL_TIMEOUT` in seconds.
pub const DEFAULT_TOOL_TIMEOUT_SECS: u64 = 60;

/// Chat and cost settings.
#[derive(Debug, Clone)]
pub struct LlmSettings {
    /// Anthropic Claude; `None` without `ANTHROPIC_API_KEY`.
    pub claude: Option<ClaudeSettings>,
    /// The local OpenAI-compatible server; `None` without `LOCAL_LLM_ENDPOINT`.
    pub local: Option<LocalSettings>,
    /// `DAILY_COST_LIMIT` in USD per operator day; 0 disables the cap. The stored routing
    /// settings (`PUT /api/routing`) override it.
    pub daily_cost_limit_usd: f64,
    /// `CHAT_HISTORY_LIMIT`: stored messages loaded as the model's history.
    pub history_limit: usize,
    /// `CHAT_MAX_LOOP`: model calls per turn before the turn stops with `max_iterations`.
    pub max_loop: u32,
    /// `CHAT_TOOL_TIMEOUT`: longest a tool call may run inside a turn.
    pub tool_timeout: Duration,
    /// The built-in price table, extended/overridden by `LLM_PRICES_FILE`; validated.
    pub prices: PriceTable,
    /// `COST_TIMEZONE`: the operator's fixed offset for days, weeks and months of spend.
    pub cost_timezone: FixedOffset,
    /// `jarvis demo --scripted-llm`: the providers are the simulator's scripted servers.
    pub scripted: bool,
    /// `CONTEXT_BUDGET_CLAUDE` / `CONTEXT_BUDGET_LOCAL`: the system prompt's context sections.
    pub context_budgets: ContextBudgets,
}

impl Default for LlmSettings {
    /// No provider, every limit at its documented default, UTC.
    fn default() -> Self {
        LlmSettings {
            claude: None,
            local: None,
            daily_cost_limit_usd: DEFAULT_DAILY_COST_LIMIT,
            history_limit: DEFAULT_HISTORY_LIMIT,
            max_loop: DEFAULT_MAX_LOOP,
            tool_timeout: Duration::from_secs(DEFAULT_TOOL_TIMEOUT_SECS),
            prices: PriceTable::default(),
            cost_timezone: utc(),
            scripted: false,
            context_budgets: ContextBudgets::default(),
        }
    }
}

/// Anthropic Claude settings.
#[derive(Debug, Clone)]
pub struct ClaudeSettings {
    /// `ANTHROPIC_API_KEY`.
    pub api_key: Secret<String>,
    /// `ANTHROPIC_BASE_URL` (no trailing slash), default [`DEFAULT_ANTHROPIC_BASE_URL`].
    pub base_url: String,
    /// `CLAUDE_MODEL`.
    pub model: String,
    /// `CLAUDE_MAX_TOKENS`: answer budget per call.
    pub max_tokens: u32,
}

/// Local OpenAI-compatible server settings.
#[derive(Debug, Clone)]
pub struct LocalSettings {
    /// `LOCAL_LLM_ENDPOINT` (no trailing slash), e.g. `http://127.0.0.1:8080/v1`.
    pub endpoint: String,
    /// `LOCAL_LLM_MODEL`.
    pub model: String,
    /// `LOCAL_LLM_CONTEXT_WINDOW` in tokens.
    pub context_window: u32,
    /// `LOCAL_LLM_API_KEY`, for servers that want one.
    pub api_key: Option<Secret<String>>,
}

fn utc() -> FixedOffset {
    FixedOffset::east_opt(0).unwrap_or_else(|| unreachable!("0 is a valid offset"))
}

/// Builds the LLM settings from the shared arguments, adding every problem to `problems`.
pub(super) fn llm_from_args(
    c: &CommonArgs,
    env: EnvLookup<'_>,
    problems: &mut Vec<String>,
) -> LlmSettings {
    let defaults = LlmSettings::default();
    let claude = claude_from_args(c, env, problems);
    let local = local_from_args(c, env, problems);
    if !c.daily_cost_limit.is_finite() || c.daily_cost_limit < 0.0 {
        problems.push(format!(
            "DAILY_COST_LIMIT must be a number >= 0 (0 = no limit), not {}",
            c.daily_cost_limit
        ));
    }
    if !(1..=1000).contains(&c.chat_history_limit) {
        problems.push("CHAT_HISTORY_LIMIT must be between 1 and 1000".into());
    }
    if !(1..=50).contains(&c.chat_max_loop) {
        problems.push("CHAT_MAX_LOOP must be between 1 and 50".into());
    }
    if !(1..=3600).contains(&c.chat_tool_timeout_secs) {
        problems.push("CHAT_TOOL_TIMEOUT must be between 1 and 3600 seconds".into());
    }
    let prices = match &c.llm_prices_file {
        Some(path) => load_prices(path).unwrap_or_else(|e| {
            problems.extend(e);
            defaults.prices.clone()
        }),
        None => defaults.prices.clone(),
    };
    let cost_timezone = parse_offset(&c.cost_timezone).unwrap_or_else(|| {
        problems.push(format!(
            "COST_TIMEZONE `{}` must be UTC or an offset like +02:00 or -05:30",
            c.cost_timezone
        ));
        utc()
    });
    LlmSettings {
        claude,
        local,
        daily_cost_limit_usd: c.daily_cost_limit,
        history_limit: c.chat_history_limit,
        max_loop: c.chat_max_loop,
        tool_timeout: Duration::from_secs(c.chat_tool_timeout_secs),
        prices,
        cost_timezone,
        scripted: false,
        context_budgets: ContextBudgets {
            claude: budget(
                "CONTEXT_BUDGET_CLAUDE",
                c.context_budget_claude.as_deref(),
                SectionBudgets::CLAUDE,
                problems,
            ),
            local: budget(
                "CONTEXT_BUDGET_LOCAL",
                c.context_budget_local.as_deref(),
                SectionBudgets::LOCAL,
                problems,
            ),
        },
    }
}

/// A context budget setting, or `defaults` when unset (or invalid, with a problem recorded).
fn budget(
    name: &str,
    raw: Option<&str>,
    defaults: SectionBudgets,
    problems: &mut Vec<String>,
) -> SectionBudgets {
    match raw.filter(|r| !r.trim().is_empty()) {
        None => defaults,
        Some(raw) => SectionBudgets::parse(raw, defaults).unwrap_or_else(|e| {
            problems.push(format!("{name}: {e}"));
            defaults
        }),
    }
}

fn claude_from_args(
    c: &CommonArgs,
    env: EnvLookup<'_>,
    problems: &mut Vec<String>,
) -> Option<ClaudeSettings> {
    let key = secret_or_file("ANTHROPIC_API_KEY", c.anthropic_api_key.clone(), env, problems)
        .filter(|k| !k.trim().is_empty());
    let base_url = match &c.anthropic_base_url {
        Some(raw) => check_url("ANTHROPIC_BASE_URL", raw, problems),
        None => DEFAULT_ANTHROPIC_BASE_URL.to_string(),
    };
    if c.claude_model.trim().is_empty() {
        problems.push("CLAUDE_MODEL must not be blank".into());
    }
    if !(1..=128_000).contains(&c.claude_max_tokens) {
        problems.push("CLAUDE_MAX_TOKENS must be between 1 and 128000".into());
    }
    Some(ClaudeSettings {
        api_key: Secret::new(key?.trim().to_string()),
        base_url,
        model: c.claude_model.trim().to_string(),
        max_tokens: c.claude_max_tokens,
    })
}

fn local_from_args(
    c: &CommonArgs,
    env: EnvLookup<'_>,
    problems: &mut Vec<String>,
) -> Option<LocalSettings> {
    let api_key = secret_or_file("LOCAL_LLM_API_KEY", c.local_llm_api_key.clone(), env, problems)
        .filter(|k| !k.trim().is_empty())
        .map(|k| Secret::new(k.trim().to_string()));
    if c.local_llm_model.trim().is_empty() {
        problems.push("LOCAL_LLM_MODEL must not be blank".into());
    }
    if !(256..=1_000_000).contains(&c.local_llm_context_window) {
        problems.push("LOCAL_LLM_CONTEXT_WINDOW must be between 256 and 1000000 tokens".into());
    }
    let raw = c.local_llm_endpoint.as_deref().filter(|e| !e.trim().is_empty())?;
    Some(LocalSettings {
        endpoint: check_url("LOCAL_LLM_ENDPOINT", raw, problems),
        model: c.local_llm_model.trim().to_string(),
        context_window: c.local_llm_context_window,
        api_key,
    })
}

/// Checks an http(s) URL with a host; returns it without a trailing slash.
fn check_url(name: &str, raw: &str, problems: &mut Vec<String>) -> String {
    let trimmed = raw.trim();
    match url::Url::parse(trimmed) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {}
        Ok(_) => problems.push(format!("{name} `{raw}` must be an http:// or https:// URL")),
        Err(e) => problems.push(format!("{name} `{raw}` is not a URL: {e}")),
    }
    trimmed.trim_end_matches('/').to_string()
}

/// Reads `LLM_PRICES_FILE` (`{"models": {"<model>": {"inputPerMtok", "outputPerMtok"}}}`) and
/// lays it over the built-in table; the merged table is validated.
fn load_prices(path: &Path) -> Result<PriceTable, Vec<String>> {
    let shown = path.display();
    let text = std::fs::read_to_string(path)
        .map_err(|e| vec![format!("LLM_PRICES_FILE: cannot read {shown}: {e}")])?;
    let extra: PriceTable = serde_json::from_str(&text)
        .map_err(|e| vec![format!("LLM_PRICES_FILE: {shown} is not a valid price table: {e}")])?;
    let mut table = PriceTable::default();
    table.models.extend(extra.models);
    table.validate().map_err(|errors| {
        errors.into_iter().map(|e| format!("LLM_PRICES_FILE: {e}")).collect::<Vec<_>>()
    })?;
    Ok(table)
}

/// Parses `UTC`, `Z`, `+HH:MM`, `-HH:MM`, `+HHMM` or `+HH` (at most ±14:00).
pub fn parse_offset(raw: &str) -> Option<FixedOffset> {
    let s = raw.trim();
    if s.eq_ignore_ascii_case("utc") || s.eq_ignore_ascii_case("z") {
        return Some(utc());
    }
    let sign = match s.chars().next()? {
        '+' => 1,
        '-' => -1,
        _ => return None,
    };
    let digits: String = s[1..].chars().filter(|ch| *ch != ':').collect();
    let colons = s[1..].matches(':').count();
    if !digits.chars().all(|ch| ch.is_ascii_digit()) || colons > 1 {
        return None;
    }
    let (hours, minutes) = match (digits.len(), colons) {
        (2, 0) => (digits.parse::<i32>().ok()?, 0),
        (4, _) if colons == 0 || s[1..].find(':') == Some(2) => {
            (digits[..2].parse::<i32>().ok()?, digits[2..].parse::<i32>().ok()?)
        }
        _ => return None,
    };
    if minutes >= 60 || hours * 60 + minutes > 14 * 60 {
        return None;
    }
    FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    fn common(args: &[&str]) -> CommonArgs {
        let mut full = vec!["jarvis", "demo"];
        full.extend_from_slice(args);
        match Cli::try_parse_from(full).unwrap().command {
            Command::Demo(a) => a.common,
            _ => unreachable!(),
        }
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn build(c: &CommonArgs) -> (LlmSettings, Vec<String>) {
        let mut problems = Vec::new();
        let s = llm_from_args(c, &no_env, &mut problems);
        (s, problems)
    }

    #[test]
    fn defaults_have_no_provider_and_documented_limits() {
        let (s, problems) = build(&common(&[]));
        assert!(problems.is_empty(), "{problems:?}");
        assert!(s.claude.is_none() && s.local.is_none() && !s.scripted);
        assert_eq!(s.daily_cost_limit_usd, 5.0);
        assert_eq!((s.history_limit, s.max_loop), (40, 10));
        assert_eq!(s.tool_timeout, Duration::from_secs(60));
        assert_eq!(s.cost_timezone.local_minus_utc(), 0);
        assert_eq!(s.prices, PriceTable::default());
        assert_eq!(s.context_budgets, ContextBudgets::default());
    }

    #[test]
    fn claude_is_configured_by_its_key_with_defaults_and_overrides() {
        let (s, p) = build(&common(&["--anthropic-api-key", "sk-ant-xyz"]));
        assert!(p.is_empty(), "{p:?}");
        let claude = s.claude.unwrap();
        assert_eq!(claude.api_key.expose(), "sk-ant-xyz");
        assert_eq!(claude.base_url, "https://api.anthropic.com");
        assert_eq!((claude.model.as_str(), claude.max_tokens), ("claude-sonnet-4-5", 4096));
        assert!(!format!("{claude:?}").contains("sk-ant-xyz"), "key leaked");

        let (s, p) = build(&common(&[
            "--anthropic-api-key",
            "k",
            "--anthropic-base-url",
            "http://127.0.0.1:9000/",
            "--claude-model",
            "claude-haiku-4-5",
            "--claude-max-tokens",
            "1000",
        ]));
        assert!(p.is_empty(), "{p:?}");
        let claude = s.claude.unwrap();
        assert_eq!(claude.base_url, "http://127.0.0.1:9000");
        assert_eq!((claude.model.as_str(), claude.max_tokens), ("claude-haiku-4-5", 1000));
    }

    #[test]
    fn claude_key_can_come_from_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        std::fs::write(&path, "sk-from-file\n").unwrap();
        let p = path.to_string_lossy().to_string();
        let env = move |k: &str| (k == "ANTHROPIC_API_KEY_FILE").then(|| p.clone());
        let mut problems = Vec::new();
        let s = llm_from_args(&common(&[]), &env, &mut problems);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(s.claude.unwrap().api_key.expose(), "sk-from-file");
    }

    #[test]
    fn local_is_configured_by_its_endpoint() {
        let (s, p) = build(&common(&[
            "--local-llm-endpoint",
            "http://127.0.0.1:8080/v1/",
            "--local-llm-model",
            "qwen",
            "--local-llm-context-window",
            "4096",
            "--local-llm-api-key",
            "lk",
        ]));
        assert!(p.is_empty(), "{p:?}");
        let local = s.local.unwrap();
        assert_eq!(local.endpoint, "http://127.0.0.1:8080/v1");
        assert_eq!((local.model.as_str(), local.context_window), ("qwen", 4096));
        assert_eq!(local.api_key.unwrap().expose(), "lk");
        let (s, _) = build(&common(&["--local-llm-endpoint", "http://h:1"]));
        let local = s.local.unwrap();
        assert_eq!((local.model.as_str(), local.context_window), ("local", 8192));
        assert!(local.api_key.is_none());
    }

    #[test]
    fn limits_and_timezone_are_read() {
        let (s, p) = build(&common(&[
            "--daily-cost-limit",
            "0",
            "--chat-history-limit",
            "100",
            "--chat-max-loop",
            "3",
            "--chat-tool-timeout",
            "5",
            "--cost-timezone",
            "-05:30",
            "--context-budget-claude",
            "2000/3000/1000",
            "--context-budget-local",
            "3000",
        ]));
        assert!(p.is_empty(), "{p:?}");
        assert_eq!(
            s.context_budgets.claude,
            SectionBudgets { live: 2000, recent: 3000, knowledge: 1000 }
        );
        assert_eq!(
            s.context_budgets.local,
            SectionBudgets { live: 1600, recent: 1000, knowledge: 400 }
        );
        assert_eq!(s.daily_cost_limit_usd, 0.0);
        assert_eq!((s.history_limit, s.max_loop), (100, 3));
        assert_eq!(s.tool_timeout, Duration::from_secs(5));
        assert_eq!(s.cost_timezone.local_minus_utc(), -(5 * 3600 + 1800));
    }

    #[test]
    fn offsets_parse_strictly() {
        let secs = |s: &str| parse_offset(s).map(|o| o.local_minus_utc());
        assert_eq!(secs("UTC"), Some(0));
        assert_eq!(secs("z"), Some(0));
        assert_eq!(secs("+02:00"), Some(7200));
        assert_eq!(secs("+0530"), Some(19800));
        assert_eq!(secs("-03"), Some(-10800));
        assert_eq!(secs("+14:00"), Some(50400));
        for bad in ["", "02:00", "+2", "+15:00", "+02:60", "Europe/Berlin", "+02:0:0", "+0:200"] {
            assert_eq!(secs(bad), None, "{bad}");
        }
    }

    #[test]
    fn prices_file_extends_and_overrides_the_table() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("prices.json");
        std::fs::write(
            &path,
            r#"{"models": {"my-model": {"inputPerMtok": 1, "outputPerMtok": 2},
                           "claude-sonnet-4": {"inputPerMtok": 9, "outputPerMtok": 9}}}"#,
        )
        .unwrap();
        let p = path.to_string_lossy().to_string();
        let (s, problems) = build(&common(&["--llm-prices-file", &p]));
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(s.prices.models["my-model"].output_per_mtok, 2.0);
        assert_eq!(s.prices.models["claude-sonnet-4"].input_per_mtok, 9.0);
        assert!(s.prices.models.contains_key("claude-haiku-4-5"), "built-ins stay");
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let prices = dir.path().join("prices.json");
        std::fs::write(&prices, r#"{"models": {"m": {"inputPerMtok": -1, "outputPerMtok": 0}}}"#)
            .unwrap();
        let mut c = common(&[
            "--anthropic-api-key",
            "k",
            "--anthropic-base-url",
            "ftp://x",
            "--claude-model",
            " ",
            "--claude-max-tokens",
            "0",
            "--local-llm-endpoint",
            "not a url",
            "--local-llm-context-window",
            "10",
            "--chat-history-limit",
            "0",
            "--chat-max-loop",
            "51",
            "--chat-tool-timeout",
            "0",
            "--cost-timezone",
            "Mars/Olympus",
            "--context-budget-local",
            "1/2",
        ]);
        c.llm_prices_file = Some(prices);
        c.daily_cost_limit = f64::NAN;
        let (_, problems) = build(&c);
        let text = problems.join("\n");
        for needle in [
            "ANTHROPIC_BASE_URL",
            "CLAUDE_MODEL",
            "CLAUDE_MAX_TOKENS",
            "LOCAL_LLM_ENDPOINT",
            "LOCAL_LLM_CONTEXT_WINDOW",
            "DAILY_COST_LIMIT",
            "CHAT_HISTORY_LIMIT",
            "CHAT_MAX_LOOP",
            "CHAT_TOOL_TIMEOUT",
            "COST_TIMEZONE",
            "CONTEXT_BUDGET_LOCAL",
            "LLM_PRICES_FILE: models.m",
        ] {
            assert!(text.contains(needle), "missing {needle} in\n{text}");
        }
        c.daily_cost_limit = -1.0;
        c.llm_prices_file = Some(dir.path().join("missing.json"));
        let (_, problems) = build(&c);
        let text = problems.join("\n");
        assert!(text.contains("DAILY_COST_LIMIT must be a number >= 0"), "{text}");
        assert!(text.contains("LLM_PRICES_FILE: cannot read"), "{text}");
    }
}
