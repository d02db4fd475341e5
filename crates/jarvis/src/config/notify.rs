//! The notification settings: the SMTP relay and recipients, the webhook targets, the
//! dashboard's public address used in links, and the outbox's grouping window and send timeout.
//!
//! Everything is parsed and checked here, with every problem added to the shared list so
//! `serve` reports them together with the rest. Problems never quote a secret: an SMTP URL
//! carries a password and a webhook URL a token, so messages name them only in redacted form.

use std::time::Duration;

use url::Url;

use super::{EnvLookup, Secret, secret_or_file};
use crate::cli::CommonArgs;
use crate::http_client;
use crate::notify::Channel;

/// Default `NOTIFY_GROUP_WINDOW` in seconds.
pub const DEFAULT_GROUP_WINDOW_SECS: u64 = 20;
/// Default `NOTIFY_TIMEOUT` in seconds.
pub const DEFAULT_NOTIFY_TIMEOUT_SECS: u64 = 10;

/// Where and how notifications go.
#[derive(Debug, Clone)]
pub struct NotifyConfig {
    /// E-mail through an SMTP relay; `None` without `SMTP_URL`.
    pub email: Option<EmailSettings>,
    /// `ALERT_WEBHOOK_URL`, one entry per target.
    pub webhooks: Vec<WebhookSettings>,
    /// `PUBLIC_URL` without a trailing slash: the dashboard address used in links.
    pub public_url: Option<String>,
    /// `NOTIFY_GROUP_WINDOW`: notifications for one target created this close together go out
    /// as one message (zero sends each on its own).
    pub group_window: Duration,
    /// `NOTIFY_TIMEOUT`: the longest one delivery to one target may take.
    pub send_timeout: Duration,
}

impl Default for NotifyConfig {
    /// No target, no public URL, the documented window and timeout.
    fn default() -> Self {
        NotifyConfig {
            email: None,
            webhooks: Vec::new(),
            public_url: None,
            group_window: Duration::from_secs(DEFAULT_GROUP_WINDOW_SECS),
            send_timeout: Duration::from_secs(DEFAULT_NOTIFY_TIMEOUT_SECS),
        }
    }
}

impl NotifyConfig {
    /// The dashboard link to an incident, `{PUBLIC_URL}/incidents/{id}`, when `PUBLIC_URL` is set.
    pub fn incident_link(&self, incident_id: &str) -> Option<String> {
        self.public_url.as_ref().map(|base| format!("{base}/incidents/{incident_id}"))
    }
}

/// E-mail settings.
#[derive(Debug, Clone)]
pub struct EmailSettings {
    /// The relay.
    pub smtp: SmtpSettings,
    /// `ALERT_EMAIL_FROM` (default `jarvis@<hostname>`), a valid mailbox.
    pub from: String,
    /// `ALERT_EMAIL_TO`: at least one valid mailbox.
    pub to: Vec<String>,
}

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// `smtp://` (default port 587): plain connect, then STARTTLS, which is required.
    StartTls,
    /// `smtps://` (default port 465): TLS from the first byte.
    Implicit,
    /// `smtp://…?tls=none` (default port 25): no TLS at all, for a trusted LAN relay.
    None,
}

/// A parsed `SMTP_URL`.
#[derive(Debug, Clone)]
pub struct SmtpSettings {
    /// Relay host name or address.
    pub host: String,
    /// Relay port.
    pub port: u16,
    /// STARTTLS, implicit TLS or none.
    pub security: SmtpSecurity,
    /// `?tls=insecure`: accept any certificate (a self-signed relay). Off unless asked for.
    pub accept_invalid_certs: bool,
    /// User and password from the URL, percent-decoded.
    pub credentials: Option<(String, Secret<String>)>,
}

impl SmtpSettings {
    /// Parses `smtp://user:pass@host:587`, `smtps://user:pass@host:465`,
    /// `smtp://host:25?tls=none` or `smtp(s)://…?tls=insecure`. The error never repeats the URL.
    pub fn parse(raw: &str) -> Result<SmtpSettings, String> {
        let url = Url::parse(raw.trim()).map_err(|e| match e {
            url::ParseError::EmptyHost => {
                "SMTP_URL has no host (e.g. smtp://user:pass@mail.lan:587)".to_string()
            }
            e => format!("SMTP_URL is not a URL: {e}"),
        })?;
        let implicit = match url.scheme() {
            "smtp" => false,
            "smtps" => true,
            other => return Err(format!("SMTP_URL scheme must be smtp or smtps, not `{other}`")),
        };
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or("SMTP_URL has no host (e.g. smtp://user:pass@mail.lan:587)")?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let mut tls = None;
        for (k, v) in url.query_pairs() {
            match k.as_ref() {
                "tls" => tls = Some(v.into_owned()),
                other => return Err(format!("SMTP_URL: unknown parameter `{other}` (only tls=)")),
            }
        }
        let (security, accept_invalid_certs) = match (tls.as_deref(), implicit) {
            (None | Some("required"), false) => (SmtpSecurity::StartTls, false),
            (None | Some("required"), true) => (SmtpSecurity::Implicit, false),
            (Some("insecure"), false) => (SmtpSecurity::StartTls, true),
            (Some("insecure"), true) => (SmtpSecurity::Implicit, true),
            (Some("none"), false) => (SmtpSecurity::None, false),
            (Some("none"), true) => {
                return Err("SMTP_URL: smtps:// with tls=none makes no sense".into());
            }
            (Some(other), _) => {
                return Err(format!(
                    "SMTP_URL: tls must be `required`, `insecure` (accept any certificate) or \
                     `none` (plain text), not `{other}`"
                ));
            }
        };
        let port = url.port().unwrap_or(match security {
            SmtpSecurity::StartTls => 587,
            SmtpSecurity::Implicit => 465,
            SmtpSecurity::None => 25,
        });
        let decode =
            |s: &str| percent_decode(s).ok_or("SMTP_URL: user or password is not valid UTF-8");
        let credentials = match (url.username(), url.password()) {
            ("", None) => None,
            ("", Some(_)) => return Err("SMTP_URL has a password but no user".into()),
            (_, None) => return Err("SMTP_URL has a user but no password".into()),
            (user, Some(pass)) => Some((decode(user)?, Secret::new(decode(pass)?))),
        };
        if credentials.is_some() && security == SmtpSecurity::None {
            return Err("SMTP_URL: a password over tls=none would cross the network in clear; \
                        use STARTTLS (smtp://) or smtps://"
                .into());
        }
        Ok(SmtpSettings { host, port, security, accept_invalid_certs, credentials })
    }
}

/// A parsed webhook target.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// Which service's payload.
    pub channel: Channel,
    /// The URL (it may carry a token: never printed).
    pub url: Secret<Url>,
}

impl WebhookSettings {
    /// Parses `ntfy:https://…`, `gotify:…`, `discord:…`, `slack:…`, `json:…` or a bare URL
    /// that names its service (ntfy in the host, `discord.com/api/webhooks`, `hooks.slack.com`,
    /// gotify in the host or a `/message?token=` path).
    pub fn parse(raw: &str) -> Result<WebhookSettings, String> {
        let raw = raw.trim();
        let (prefix, rest) = match raw.split_once(':') {
            Some((p, rest)) if !matches!(p, "http" | "https") => (Some(p), rest),
            _ => (None, raw),
        };
        let url =
            Url::parse(rest).map_err(|e| format!("ALERT_WEBHOOK_URL entry is not a URL: {e}"))?;
        let shown = redacted_url(&url);
        http_client::check_url(&url).map_err(|e| format!("ALERT_WEBHOOK_URL {shown}: {e}"))?;
        let channel = match prefix {
            Some("ntfy") => Channel::Ntfy,
            Some("gotify") => Channel::Gotify,
            Some("discord") => Channel::Discord,
            Some("slack") => Channel::Slack,
            Some("json") => Channel::Json,
            Some(other) => {
                return Err(format!(
                    "ALERT_WEBHOOK_URL: unknown prefix `{other}:` (ntfy, gotify, discord, slack, json)"
                ));
            }
            None => guess_channel(&url).ok_or_else(|| {
                format!(
                    "ALERT_WEBHOOK_URL {shown}: cannot tell the service from the URL; prefix it \
                     with ntfy:, gotify:, discord:, slack: or json:"
                )
            })?,
        };
        if channel == Channel::Gotify && !url.query_pairs().any(|(k, _)| k == "token") {
            return Err(format!("ALERT_WEBHOOK_URL {shown}: Gotify needs ?token=<app token>"));
        }
        Ok(WebhookSettings { channel, url: Secret::new(url) })
    }
}

fn guess_channel(url: &Url) -> Option<Channel> {
    let host = url.host_str()?.to_ascii_lowercase();
    let path = url.path();
    if matches!(
        host.as_str(),
        "discord.com" | "discordapp.com" | "ptb.discord.com" | "canary.discord.com"
    ) && path.starts_with("/api/webhooks/")
    {
        Some(Channel::Discord)
    } else if host == "hooks.slack.com" {
        Some(Channel::Slack)
    } else if host.contains("ntfy") {
        Some(Channel::Ntfy)
    } else if host.contains("gotify")
        || (path.ends_with("/message") && url.query_pairs().any(|(k, _)| k == "token"))
    {
        Some(Channel::Gotify)
    } else {
        None
    }
}

/// `scheme://host[:port]/***`: enough to recognise a target, nothing that authenticates.
pub fn redacted_url(url: &Url) -> String {
    let host = match url.host() {
        Some(url::Host::Ipv6(ip)) => format!("[{ip}]"),
        Some(h) => h.to_string(),
        None => String::new(),
    };
    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    format!("{}://{host}{port}/***", url.scheme())
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = s.get(i + 1..i + 3)
            && let Ok(b) = u8::from_str_radix(hex, 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// The default sender, `jarvis@<this host's name>` (`jarvis@localhost` when the name is not
/// usable in an address).
fn default_from() -> String {
    let host = lettre::transport::smtp::extension::ClientId::default().to_string();
    let candidate = format!("jarvis@{host}");
    if candidate.parse::<lettre::Address>().is_ok() { candidate } else { "jarvis@localhost".into() }
}

/// Builds the notification settings from the shared arguments, adding every problem to `problems`.
pub(super) fn notify_from_args(
    c: &CommonArgs,
    env: EnvLookup<'_>,
    problems: &mut Vec<String>,
) -> NotifyConfig {
    let mut cfg = NotifyConfig::default();
    let smtp_url = secret_or_file("SMTP_URL", c.smtp_url.clone(), env, problems)
        .filter(|s| !s.trim().is_empty());
    let to: Vec<String> = split_list(c.alert_email_to.as_deref());
    let from = c.alert_email_from.as_deref().map(str::trim).filter(|s| !s.is_empty());
    match (smtp_url, to.is_empty()) {
        (Some(raw), false) => {
            let smtp = SmtpSettings::parse(&raw).map_err(|e| problems.push(e)).ok();
            for addr in &to {
                if addr.parse::<lettre::message::Mailbox>().is_err() {
                    problems.push(format!("ALERT_EMAIL_TO: `{addr}` is not an e-mail address"));
                }
            }
            let from = from.map(str::to_string).unwrap_or_else(default_from);
            if from.parse::<lettre::message::Mailbox>().is_err() {
                problems.push(format!("ALERT_EMAIL_FROM: `{from}` is not an e-mail address"));
            }
            cfg.email = smtp.map(|smtp| EmailSettings { smtp, from, to });
        }
        (Some(_), true) => problems.push("SMTP_URL is set but ALERT_EMAIL_TO is empty".into()),
        (None, false) => problems.push("ALERT_EMAIL_TO is set but SMTP_URL is not".into()),
        (None, true) => {
            if from.is_some() {
                problems.push("ALERT_EMAIL_FROM is set but SMTP_URL is not".into());
            }
        }
    }
    let hooks = secret_or_file("ALERT_WEBHOOK_URL", c.alert_webhook_url.clone(), env, problems);
    for entry in split_list(hooks.as_deref()) {
        match WebhookSettings::parse(&entry) {
            Ok(w) => cfg.webhooks.push(w),
            Err(e) => problems.push(e),
        }
    }
    if let Some(raw) = c.public_url.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        match Url::parse(raw) {
            Ok(u)
                if matches!(u.scheme(), "http" | "https")
                    && u.host().is_some()
                    && u.query().is_none()
                    && u.fragment().is_none() =>
            {
                cfg.public_url = Some(u.as_str().trim_end_matches('/').to_string());
            }
            _ => problems.push(format!(
                "PUBLIC_URL `{raw}` must be an http(s) URL without query, e.g. https://jarvis.lan"
            )),
        }
    }
    if c.notify_group_window_secs > 600 {
        problems.push("NOTIFY_GROUP_WINDOW must be between 0 and 600 seconds".into());
    }
    cfg.group_window = Duration::from_secs(c.notify_group_window_secs);
    if !(1..=120).contains(&c.notify_timeout_secs) {
        problems.push("NOTIFY_TIMEOUT must be between 1 and 120 seconds".into());
    }
    cfg.send_timeout = Duration::from_secs(c.notify_timeout_secs.clamp(1, 120));
    cfg
}

fn split_list(raw: Option<&str>) -> Vec<String> {
    raw.unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use crate::config::Config;
    use clap::Parser;

    /// Everything `serve` requires besides notifications.
    const REQUIRED: &[&str] = &[
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

    fn serve(args: &[&str]) -> crate::cli::ServeArgs {
        let mut full = vec!["jarvis", "serve"];
        full.extend_from_slice(args);
        match Cli::try_parse_from(full).unwrap().command {
            Command::Serve(a) => a,
            _ => unreachable!(),
        }
    }

    #[test]
    fn notification_settings_are_validated_with_everything_else() {
        let mut args: Vec<&str> = REQUIRED.to_vec();
        args.extend([
            "--smtp-url",
            "smtp://bob:s3cret-pass@mail.lan:587",
            "--alert-email-to",
            "ops@example.org, root@example.org",
            "--alert-webhook-url",
            "https://ntfy.lan/alerts,discord:https://discord.com/api/webhooks/1/zz-hook-secret",
            "--public-url",
            "https://jarvis.lan/",
        ]);
        let cfg = Config::from_serve(&serve(&args), &|_| None).unwrap();
        let email = cfg.notify.email.as_ref().unwrap();
        assert_eq!(email.to, ["ops@example.org", "root@example.org"]);
        assert!(email.from.starts_with("jarvis@"));
        assert_eq!(cfg.notify.webhooks.len(), 2);
        assert_eq!(cfg.notify.public_url.as_deref(), Some("https://jarvis.lan"));
        let dump = format!("{cfg:?}");
        assert!(
            !dump.contains("s3cret-pass") && !dump.contains("zz-hook-secret"),
            "secret leaked: {dump}"
        );

        let mut args: Vec<&str> = REQUIRED.to_vec();
        args.extend([
            "--smtp-url",
            "smtp://:2525",
            "--alert-email-to",
            "not-an-address",
            "--alert-webhook-url",
            "https://example.org/x",
            "--notify-timeout",
            "0",
        ]);
        let text = Config::from_serve(&serve(&args), &|_| None).unwrap_err().to_string();
        for needle in
            ["SMTP_URL has no host", "ALERT_EMAIL_TO", "ALERT_WEBHOOK_URL", "NOTIFY_TIMEOUT"]
        {
            assert!(text.contains(needle), "missing {needle} in {text}");
        }
        let mut args: Vec<&str> = REQUIRED.to_vec();
        args.extend(["--alert-email-to", "ops@example.org"]);
        let text = Config::from_serve(&serve(&args), &|_| None).unwrap_err().to_string();
        assert!(text.contains("ALERT_EMAIL_TO is set but SMTP_URL is not"), "{text}");
    }

    #[test]
    fn smtp_urls_parse_with_defaults_and_decoded_credentials() {
        let s = SmtpSettings::parse("smtp://al%40ice:p%3Ass%20w@mail.lan").unwrap();
        assert_eq!(
            (s.host.as_str(), s.port, s.security),
            ("mail.lan", 587, SmtpSecurity::StartTls)
        );
        let (user, pass) = s.credentials.unwrap();
        assert_eq!((user.as_str(), pass.expose().as_str()), ("al@ice", "p:ss w"));
        assert!(!s.accept_invalid_certs);

        let s = SmtpSettings::parse("smtps://u:p@mail.example.org").unwrap();
        assert_eq!((s.port, s.security), (465, SmtpSecurity::Implicit));
        let s = SmtpSettings::parse("smtp://relay.lan?tls=none").unwrap();
        assert_eq!((s.port, s.security, s.credentials.is_none()), (25, SmtpSecurity::None, true));
        let s = SmtpSettings::parse("smtp://u:p@10.0.0.2:2525?tls=insecure").unwrap();
        assert_eq!(
            (s.port, s.security, s.accept_invalid_certs),
            (2525, SmtpSecurity::StartTls, true)
        );
    }

    #[test]
    fn bad_smtp_urls_are_clear_errors_that_never_echo_the_password() {
        for (raw, needle) in [
            ("smtp://", "no host"),
            ("http://mail.lan", "scheme"),
            ("smtp://u:hunter2@mail.lan?tls=maybe", "tls must be"),
            ("smtp://u:hunter2@mail.lan?tls=none", "in clear"),
            ("smtp://u@mail.lan", "no password"),
            ("smtp://mail.lan?port=2", "unknown parameter"),
            ("not a url", "not a URL"),
        ] {
            let err = SmtpSettings::parse(raw).unwrap_err();
            assert!(err.contains(needle), "{raw}: {err}");
            assert!(!err.contains("hunter2"), "{raw}: {err}");
        }
    }

    #[test]
    fn webhook_entries_pick_their_service_by_prefix_or_url() {
        let kind = |raw: &str| WebhookSettings::parse(raw).map(|w| w.channel);
        assert_eq!(kind("https://ntfy.sh/my-topic"), Ok(Channel::Ntfy));
        assert_eq!(kind("ntfy:http://192.168.1.5:8080/alerts"), Ok(Channel::Ntfy));
        assert_eq!(kind("https://gotify.lan/message?token=abc"), Ok(Channel::Gotify));
        assert_eq!(kind("gotify:http://10.0.0.3?token=abc"), Ok(Channel::Gotify));
        assert_eq!(kind("https://discord.com/api/webhooks/1/tok"), Ok(Channel::Discord));
        assert_eq!(kind("https://hooks.slack.com/services/T/B/X"), Ok(Channel::Slack));
        assert_eq!(kind("json:http://127.0.0.1:9000/hook"), Ok(Channel::Json));

        let err = kind("https://push.example.org/secret-topic").unwrap_err();
        assert!(err.contains("prefix it") && !err.contains("secret-topic"), "{err}");
        assert!(kind("gotify:https://g.lan/message").unwrap_err().contains("token"));
        assert!(kind("pager:https://x.lan/").unwrap_err().contains("unknown prefix"));
        let err = kind("json:http://169.254.169.254/latest").unwrap_err();
        assert!(err.contains("refused target"), "{err}");
    }

    #[test]
    fn redacted_urls_keep_only_scheme_host_and_port() {
        let u = Url::parse("https://user:pw@ntfy.lan:8443/topic?auth=tok").unwrap();
        assert_eq!(redacted_url(&u), "https://ntfy.lan:8443/***");
        let u = Url::parse("http://[::1]:9/x").unwrap();
        assert_eq!(redacted_url(&u), "http://[::1]:9/***");
    }

    #[test]
    fn incident_links_use_the_public_url() {
        let mut c = NotifyConfig::default();
        assert_eq!(c.incident_link("i1"), None);
        c.public_url = Some("https://jarvis.lan".into());
        assert_eq!(c.incident_link("i1").as_deref(), Some("https://jarvis.lan/incidents/i1"));
    }
}
