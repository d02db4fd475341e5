//! The one typed configuration, built from the parsed command line (flags, env, `.env`) plus
//! `<NAME>_FILE` secrets, and validated as a whole: `serve` fails fast listing *every* problem.
//!
//! Secrets are [`Secret`]s: their `Debug` prints `***`, so a config dump or a log line can never
//! leak them. Nothing here reads global state except through the `env` lookup passed in, which
//! keeps the validation testable.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use jarvis_domain::safety::Protected;
use jarvis_proxmox::{PveConfig, TlsMode};
use jarvis_ssh::{HostKeyPolicy, SshConfig};

use crate::cli::{CommonArgs, DemoArgs, ServeArgs};

mod for_tests;
mod llm;
mod monitor;
pub mod notify;
pub mod retention;

pub use llm::{
    ClaudeSettings, DEFAULT_ANTHROPIC_BASE_URL, DEFAULT_CLAUDE_MAX_TOKENS, DEFAULT_CLAUDE_MODEL,
    DEFAULT_DAILY_COST_LIMIT, DEFAULT_HISTORY_LIMIT, DEFAULT_LOCAL_CONTEXT_WINDOW,
    DEFAULT_LOCAL_MODEL, DEFAULT_MAX_LOOP, DEFAULT_TOOL_TIMEOUT_SECS, LlmSettings, LocalSettings,
    parse_offset,
};
pub use monitor::{DEFAULT_AUTONOMY_LEVEL, DEFAULT_REPEAT_HOURS, MonitorConfig};

/// A value that must never be printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    /// Wraps a secret.
    pub fn new(value: T) -> Self {
        Self(value)
    }
    /// The secret itself; call sites are easy to audit with grep.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Everything the server needs, validated.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address the HTTP server binds.
    pub listen: SocketAddr,
    /// SQLite database file.
    pub db_path: PathBuf,
    /// Login and session tokens.
    pub auth: AuthConfig,
    /// The PVE API client settings.
    pub pve: PveConfig,
    /// Time between cluster polls.
    pub poll_interval: Duration,
    /// Whether X-Forwarded-For names the client (behind a trusted proxy only).
    pub trust_proxy: bool,
    /// Largest accepted request body.
    pub max_body_bytes: usize,
    /// `true` for `jarvis demo`: shown in health and the UI.
    pub demo: bool,
    /// Protected resources and the override passkey.
    pub safety: SafetyConfig,
    /// SSH to the nodes; `None` when not configured (SSH tools and the terminal are then off).
    pub ssh: Option<SshSettings>,
    /// Time between temperature readings; `None` disables them.
    pub temperature_interval: Option<Duration>,
    /// Extra host names `/mcp` accepts (loopback always).
    pub mcp_allowed_hosts: Vec<String>,
    /// Chat: LLM providers, cost cap, prices, loop limits.
    pub llm: LlmSettings,
    /// The monitor: tier intervals, initial autonomy level, reminders.
    pub monitor: MonitorConfig,
    /// Notification targets (e-mail, webhooks), links and outbox timing.
    pub notify: notify::NotifyConfig,
    /// Retention: days per table, run interval (MEM-09).
    pub retention: retention::RetentionConfig,
}

/// Safety settings.
#[derive(Debug, Clone, Default)]
pub struct SafetyConfig {
    /// Resources no tool may act on.
    pub protected: Protected,
    /// The override passkey (`JARVIS_OVERRIDE_KEY`).
    pub override_key: Option<Secret<String>>,
}

/// SSH settings.
#[derive(Debug, Clone)]
pub struct SshSettings {
    /// Client settings for the pool.
    pub client: SshConfig,
    /// sshd port on the nodes.
    pub port: u16,
}

/// Login and session settings.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// HMAC key for session tokens.
    pub jwt_secret: Secret<String>,
    /// Lifetime of a session token.
    pub token_ttl: Duration,
    /// The operator password: a plain password (hashed at start) or an argon2id PHC hash.
    pub password: PasswordSource,
}

/// Where the operator password comes from.
#[derive(Debug, Clone)]
pub enum PasswordSource {
    /// `JARVIS_PASSWORD`: hashed with argon2id at start, never stored.
    Plain(Secret<String>),
    /// `JARVIS_PASSWORD_HASH`: an argon2id PHC string.
    Hash(String),
}

/// Every problem found in the configuration, so the operator fixes them in one go.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration:\n  - {}", .0.join("\n  - "))]
pub struct ConfigError(pub Vec<String>);

/// Environment lookup, injectable for tests.
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Reads `value`, or the contents of the file named by `<name>_FILE` (Docker secrets style).
fn secret_or_file(
    name: &str,
    value: Option<String>,
    env: EnvLookup<'_>,
    problems: &mut Vec<String>,
) -> Option<String> {
    let file_var = format!("{name}_FILE");
    match (value, env(&file_var)) {
        (Some(_), Some(_)) => {
            problems.push(format!("set either {name} or {file_var}, not both"));
            None
        }
        (Some(v), None) => Some(v),
        (None, Some(path)) => match std::fs::read_to_string(&path) {
            Ok(s) => Some(s.trim_end_matches(['\n', '\r']).to_string()),
            Err(e) => {
                problems.push(format!("{file_var}: cannot read {path}: {e}"));
                None
            }
        },
        (None, None) => None,
    }
}

/// Values an operator might leave in from an example file; never acceptable in `serve`.
const WEAK_SECRETS: &[&str] =
    &["jarvis-dev-secret", "changeme", "change-me", "secret", "your-secret-here", "jarvis"];
const WEAK_PASSWORDS: &[&str] = &["jarvis", "changeme", "change-me", "password", "admin"];

fn check_common(
    c: &CommonArgs,
    env: EnvLookup<'_>,
    problems: &mut Vec<String>,
) -> (Option<String>, Option<PasswordSource>, SafetyConfig) {
    if c.poll_interval_secs == 0 {
        problems.push("CLUSTER_POLL_INTERVAL must be at least 1 second".into());
    }
    if c.jwt_ttl_hours == 0 {
        problems.push("JWT_TTL_HOURS must be at least 1".into());
    }
    if c.max_body_bytes < 1024 {
        problems.push("MAX_BODY_BYTES must be at least 1024".into());
    }
    if !matches!(c.log_format.as_str(), "text" | "json") {
        problems.push(format!("LOG_FORMAT must be `text` or `json`, not `{}`", c.log_format));
    }
    let jwt = secret_or_file("JWT_SECRET", c.jwt_secret.clone(), env, problems);
    if let Some(s) = &jwt {
        if s.len() < 32 {
            problems.push(
                "JWT_SECRET must be at least 32 characters (try `openssl rand -hex 32`)".into(),
            );
        } else if WEAK_SECRETS.contains(&s.as_str()) {
            problems.push("JWT_SECRET is a well-known default; generate a random one".into());
        }
    }
    let plain = secret_or_file("JARVIS_PASSWORD", c.password.clone(), env, problems);
    let hash = secret_or_file("JARVIS_PASSWORD_HASH", c.password_hash.clone(), env, problems);
    let password = match (plain, hash) {
        (Some(_), Some(_)) => {
            problems.push("set either JARVIS_PASSWORD or JARVIS_PASSWORD_HASH, not both".into());
            None
        }
        (Some(p), None) => {
            if p.chars().count() < 8 || WEAK_PASSWORDS.contains(&p.as_str()) {
                problems
                    .push("JARVIS_PASSWORD must be at least 8 characters and not a default".into());
            }
            Some(PasswordSource::Plain(Secret::new(p)))
        }
        (None, Some(h)) => {
            if let Err(e) = crate::auth::password::validate_hash(&h) {
                problems.push(format!("JARVIS_PASSWORD_HASH: {e}"));
            }
            Some(PasswordSource::Hash(h))
        }
        (None, None) => None,
    };
    let protected =
        Protected::from_lists(&c.protected_vmids, &c.protected_nodes, &c.protected_services)
            .unwrap_or_else(|e| {
                problems.push(format!("PROTECTED_*: {e}"));
                Protected::default()
            });
    let override_key = secret_or_file("JARVIS_OVERRIDE_KEY", c.override_key.clone(), env, problems);
    if override_key.as_ref().is_some_and(|k| k.chars().count() < 8) {
        problems.push("JARVIS_OVERRIDE_KEY must be at least 8 characters".into());
    }
    let safety = SafetyConfig { protected, override_key: override_key.map(Secret::new) };
    (jwt, password, safety)
}

impl Config {
    /// Builds the `serve` configuration; every problem is reported at once.
    pub fn from_serve(args: &ServeArgs, env: EnvLookup<'_>) -> Result<Config, ConfigError> {
        let mut problems = Vec::new();
        let (jwt, password, safety) = check_common(&args.common, env, &mut problems);
        let llm = llm::llm_from_args(&args.common, env, &mut problems);
        let monitor = monitor::monitor_from_args(&args.common, &mut problems);
        let notify = notify::notify_from_args(&args.common, env, &mut problems);
        if jwt.is_none() {
            problems.push("JWT_SECRET is required (at least 32 random characters)".into());
        }
        if password.is_none() {
            problems.push("JARVIS_PASSWORD or JARVIS_PASSWORD_HASH is required".into());
        }
        let pve = pve_from_args(args, env, &mut problems);
        let ssh = ssh_from_args(args, env, &mut problems);
        if !problems.is_empty() {
            return Err(ConfigError(problems));
        }
        let (Some(jwt), Some(password), Some(pve)) = (jwt, password, pve) else {
            return Err(ConfigError(vec!["incomplete configuration".into()]));
        };
        let c = &args.common;
        let db_path = c.db_path.clone().unwrap_or_else(|| PathBuf::from("data/jarvis.db"));
        let ssh = ssh.map(|mut s| {
            if let HostKeyPolicy::TrustOnFirstUse(p) = &mut s.client.host_keys
                && p.as_os_str().is_empty()
            {
                // Pins live next to the database, with the rest of Jarvis's state.
                *p = db_path.with_file_name("ssh_host_pins.json");
            }
            s
        });
        let mut config = assemble(c, Ipv4Addr::UNSPECIFIED, db_path, jwt, password, pve, false);
        config.safety = safety;
        config.ssh = ssh;
        config.llm = llm;
        config.monitor = monitor;
        config.notify = notify;
        Ok(config)
    }

    /// Builds the `demo` configuration around a running simulator: whatever the operator did not
    /// set (password, JWT secret, database) is generated. Returns the config and, when the
    /// password was generated, that password so it can be printed once.
    pub fn for_demo(
        args: &DemoArgs,
        env: EnvLookup<'_>,
        pve: PveConfig,
    ) -> Result<(Config, Option<String>), ConfigError> {
        let mut problems = Vec::new();
        let (jwt, password, safety) = check_common(&args.common, env, &mut problems);
        let mut llm = llm::llm_from_args(&args.common, env, &mut problems);
        let monitor = monitor::monitor_from_args(&args.common, &mut problems);
        let notify = notify::notify_from_args(&args.common, env, &mut problems);
        if !problems.is_empty() {
            return Err(ConfigError(problems));
        }
        // The demo command starts the scripted servers and fills in the providers.
        llm.scripted = args.scripted_llm;
        let (password, generated) = match password {
            Some(p) => (p, None),
            None => {
                let p = random_password();
                (PasswordSource::Plain(Secret::new(p.clone())), Some(p))
            }
        };
        let c = &args.common;
        let db_path = c.db_path.clone().unwrap_or_else(|| {
            std::env::temp_dir()
                .join(format!("jarvis-demo-{}", uuid::Uuid::new_v4().simple()))
                .join("jarvis.db")
        });
        let jwt = jwt.unwrap_or_else(random_secret);
        let mut config = assemble(c, Ipv4Addr::LOCALHOST, db_path, jwt, password, pve, true);
        config.safety = safety;
        config.llm = llm;
        config.monitor = monitor;
        config.notify = notify;
        // Links in the demo's notifications point at the demo itself unless PUBLIC_URL says otherwise.
        if config.notify.public_url.is_none() {
            config.notify.public_url = Some(format!("http://{}", config.listen));
        }
        Ok((config, generated))
    }
}

/// The parts of [`Config`] that `serve` and `demo` build the same way.
fn assemble(
    c: &CommonArgs,
    default_host: Ipv4Addr,
    db_path: PathBuf,
    jwt: String,
    password: PasswordSource,
    pve: PveConfig,
    demo: bool,
) -> Config {
    Config {
        listen: SocketAddr::new(c.host.unwrap_or(IpAddr::V4(default_host)), c.port),
        db_path,
        auth: AuthConfig {
            jwt_secret: Secret::new(jwt),
            token_ttl: Duration::from_secs(u64::from(c.jwt_ttl_hours) * 3600),
            password,
        },
        pve,
        poll_interval: Duration::from_secs(c.poll_interval_secs),
        trust_proxy: c.trust_proxy,
        max_body_bytes: c.max_body_bytes,
        demo,
        safety: SafetyConfig::default(),
        ssh: None,
        temperature_interval: (c.temperature_interval_secs > 0)
            .then(|| Duration::from_secs(c.temperature_interval_secs)),
        mcp_allowed_hosts: c
            .mcp_allowed_hosts
            .iter()
            .map(|h| h.trim().to_string())
            .filter(|h| !h.is_empty())
            .collect(),
        llm: LlmSettings::default(),
        monitor: MonitorConfig::default(),
        notify: notify::NotifyConfig::default(),
        retention: retention::retention_from_args(&c.retention),
    }
}

fn ssh_from_args(
    args: &ServeArgs,
    env: EnvLookup<'_>,
    problems: &mut Vec<String>,
) -> Option<SshSettings> {
    let key = args.ssh_key_path.clone()?;
    if !key.is_file() {
        problems.push(format!("SSH_KEY_PATH: {} is not a readable file", key.display()));
        return None;
    }
    let host_keys = match &args.ssh_known_hosts {
        Some(path) if !path.is_file() => {
            problems.push(format!("SSH_KNOWN_HOSTS: {} is not a readable file", path.display()));
            return None;
        }
        Some(path) => HostKeyPolicy::KnownHosts(path.clone()),
        // Filled in next to the database by the caller.
        None => HostKeyPolicy::TrustOnFirstUse(PathBuf::new()),
    };
    let mut client = SshConfig::new(key, host_keys);
    client.user = args.ssh_user.clone();
    client.key_passphrase =
        secret_or_file("SSH_KEY_PASSPHRASE", args.ssh_key_passphrase.clone(), env, problems);
    Some(SshSettings { client, port: args.ssh_port })
}

fn pve_from_args(
    args: &ServeArgs,
    env: EnvLookup<'_>,
    problems: &mut Vec<String>,
) -> Option<PveConfig> {
    let mut endpoints = Vec::new();
    let urls: Vec<&String> = args.pve_url.iter().filter(|u| !u.trim().is_empty()).collect();
    if urls.is_empty() {
        problems.push("PVE_URL is required (e.g. https://pve1.lan:8006)".into());
    }
    for raw in urls {
        match url::Url::parse(raw.trim()) {
            Ok(u) if matches!(u.scheme(), "https" | "http") && u.host().is_some() => {
                endpoints.push(u)
            }
            Ok(_) => problems.push(format!("PVE_URL `{raw}` must be an https:// URL with a host")),
            Err(e) => problems.push(format!("PVE_URL `{raw}` is not a URL: {e}")),
        }
    }
    let token_id = args.pve_token_id.clone().unwrap_or_default();
    if token_id.is_empty() {
        problems.push("PVE_TOKEN_ID is required (e.g. jarvis@pve!dashboard)".into());
    } else if !token_id.contains('@') || !token_id.contains('!') {
        problems.push(format!("PVE_TOKEN_ID `{token_id}` must look like user@realm!tokenname"));
    }
    let secret = secret_or_file("PVE_TOKEN_SECRET", args.pve_token_secret.clone(), env, problems);
    if secret.is_none() {
        problems.push("PVE_TOKEN_SECRET is required".into());
    }
    let tls = match (&args.pve_tls_fingerprint, &args.pve_ca_file, args.pve_tls_insecure) {
        (Some(fp), None, false) => match jarvis_proxmox::parse_fingerprints(fp) {
            Ok(fps) => Some(TlsMode::Fingerprints(fps)),
            Err(e) => {
                problems.push(format!("PVE_TLS_FINGERPRINT: {e}"));
                None
            }
        },
        (None, Some(path), false) => match std::fs::read(path) {
            Ok(pem) => Some(TlsMode::CaPem(pem)),
            Err(e) => {
                problems.push(format!("PVE_CA_FILE: cannot read {}: {e}", path.display()));
                None
            }
        },
        (None, None, true) => Some(TlsMode::Insecure),
        (None, None, false) => Some(TlsMode::System),
        _ => {
            problems.push(
                "set only one of PVE_TLS_FINGERPRINT, PVE_CA_FILE and PVE_TLS_INSECURE".into(),
            );
            None
        }
    };
    let mut pve = PveConfig::new(endpoints, token_id, secret?);
    pve.tls = tls?;
    pve.discover_endpoints = args.pve_discover_endpoints;
    Some(pve)
}

fn random_string(len: usize, alphabet: &[u8]) -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..len).map(|_| alphabet[rng.random_range(0..alphabet.len())] as char).collect()
}

/// A random password that is easy to type: no look-alike characters.
pub fn random_password() -> String {
    random_string(16, b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
}

/// A random 64-character signing secret.
pub fn random_secret() -> String {
    random_string(64, b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    fn serve(args: &[&str]) -> ServeArgs {
        let mut full = vec!["jarvis", "serve"];
        full.extend_from_slice(args);
        match Cli::try_parse_from(full).unwrap().command {
            Command::Serve(a) => a,
            _ => unreachable!(),
        }
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    const GOOD: &[&str] = &[
        "--jwt-secret",
        "0123456789abcdef0123456789abcdef-long",
        "--password",
        "correct horse battery",
        "--pve-url",
        "https://pve1:8006",
        "--pve-token-id",
        "jarvis@pve!dash",
        "--pve-token-secret",
        "00000000-0000-0000-0000-000000000000",
    ];

    #[test]
    fn good_serve_config_builds() {
        let cfg = Config::from_serve(&serve(GOOD), &no_env).unwrap();
        assert_eq!(cfg.listen.port(), 4000);
        assert!(matches!(cfg.pve.tls, TlsMode::System));
        let dump = format!("{cfg:?}");
        assert!(!dump.contains("correct horse"), "secret leaked: {dump}");
        assert!(!dump.contains("0123456789abcdef0123"), "secret leaked: {dump}");
    }

    #[test]
    fn serve_lists_every_problem_at_once() {
        let err = Config::from_serve(&serve(&["--password", "jarvis"]), &no_env).unwrap_err();
        let text = err.to_string();
        for needle in
            ["JWT_SECRET", "JARVIS_PASSWORD", "PVE_URL", "PVE_TOKEN_ID", "PVE_TOKEN_SECRET"]
        {
            assert!(text.contains(needle), "missing {needle} in {text}");
        }
        assert!(err.0.len() >= 5, "{text}");
    }

    #[test]
    fn weak_or_short_secrets_are_refused() {
        let mut args: Vec<&str> = GOOD.to_vec();
        args[1] = "short";
        let err = Config::from_serve(&serve(&args), &no_env).unwrap_err();
        assert!(err.to_string().contains("at least 32"), "{err}");
    }

    #[test]
    fn secrets_can_come_from_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        std::fs::write(&path, "file-secret-value\n").unwrap();
        let p = path.to_string_lossy().to_string();
        let env = move |k: &str| (k == "PVE_TOKEN_SECRET_FILE").then(|| p.clone());
        let args: Vec<&str> = GOOD[..8].to_vec();
        let cfg = Config::from_serve(&serve(&args), &env).unwrap();
        assert_eq!(cfg.pve.token_secret, "file-secret-value");
    }

    #[test]
    fn secret_and_file_together_is_an_error() {
        let env = |k: &str| (k == "PVE_TOKEN_SECRET_FILE").then(|| "/nonexistent".to_string());
        let err = Config::from_serve(&serve(GOOD), &env).unwrap_err();
        assert!(err.to_string().contains("not both"), "{err}");
    }

    #[test]
    fn fingerprint_and_ca_are_exclusive_and_fingerprint_is_parsed() {
        let mut args: Vec<&str> = GOOD.to_vec();
        args.extend(["--pve-tls-fingerprint", "zz"]);
        let err = Config::from_serve(&serve(&args), &no_env).unwrap_err();
        assert!(err.to_string().contains("PVE_TLS_FINGERPRINT"), "{err}");

        let fp = ["AB"; 32].join(":");
        let mut args: Vec<&str> = GOOD.to_vec();
        args.extend(["--pve-tls-fingerprint", &fp]);
        let cfg = Config::from_serve(&serve(&args), &no_env).unwrap();
        assert!(
            matches!(&cfg.pve.tls, TlsMode::Fingerprints(f) if f.len() == 1 && f[0] == [0xAB; 32])
        );

        args.extend(["--pve-tls-insecure"]);
        let err = Config::from_serve(&serve(&args), &no_env).unwrap_err();
        assert!(err.to_string().contains("only one of"), "{err}");
    }

    #[test]
    fn llm_settings_are_part_of_the_config_and_its_problems() {
        let cfg = Config::from_serve(&serve(GOOD), &no_env).unwrap();
        assert!(cfg.llm.claude.is_none() && !cfg.llm.scripted);
        let mut args: Vec<&str> = GOOD.to_vec();
        args.extend(["--anthropic-api-key", "sk-secret-key", "--chat-max-loop", "0"]);
        let err = Config::from_serve(&serve(&args), &no_env).unwrap_err();
        assert!(err.to_string().contains("CHAT_MAX_LOOP"), "{err}");
        args.truncate(args.len() - 2);
        let cfg = Config::from_serve(&serve(&args), &no_env).unwrap();
        assert!(!format!("{cfg:?}").contains("sk-secret-key"), "API key leaked");
    }

    #[test]
    fn demo_scripted_llm_flag_sets_scripted() {
        let demo = |extra: &[&str]| {
            let mut full = vec!["jarvis", "demo"];
            full.extend_from_slice(extra);
            match Cli::try_parse_from(full).unwrap().command {
                Command::Demo(a) => a,
                _ => unreachable!(),
            }
        };
        let pve = || PveConfig::new(Vec::new(), "a@pve!b", "s");
        let (cfg, _) = Config::for_demo(&demo(&["--scripted-llm"]), &no_env, pve()).unwrap();
        assert!(cfg.llm.scripted);
        let (cfg, _) = Config::for_demo(&demo(&[]), &no_env, pve()).unwrap();
        assert!(!cfg.llm.scripted);
        let err = Config::for_demo(&demo(&["--cost-timezone", "CET"]), &no_env, pve()).unwrap_err();
        assert!(err.to_string().contains("COST_TIMEZONE"), "{err}");
    }

    #[test]
    fn random_credentials_are_random_and_readable() {
        let a = random_password();
        assert_eq!(a.len(), 16);
        assert_ne!(a, random_password());
        assert!(!a.contains(['0', 'O', 'l', '1', 'I']));
        assert_eq!(random_secret().len(), 64);
    }
}
