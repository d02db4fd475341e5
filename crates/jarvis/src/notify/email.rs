//! [`EmailNotifier`]: plain-text e-mail through an SMTP relay with lettre (tokio, rustls on
//! aws-lc-rs). STARTTLS is *required* on `smtp://` (never silently downgraded), `smtps://` is TLS
//! from the first byte, `?tls=none` is plain text for a trusted LAN relay (no password allowed
//! there), and `?tls=insecure` accepts a self-signed relay certificate — an explicit opt-in.
//!
//! Subject `[Jarvis] <SEVERITY>: <title>`; the body is UTF-8 text with the dashboard link. The
//! original system's mails never left the box (an inline `node -e` over SSH with broken
//! quoting); every path here is tested against a real SMTP server.

use std::time::Duration;

use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::transport::smtp::PoolConfig;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use super::render::label;
use super::{Channel, Message, Notifier, NotifyError, sanitize_detail, target_id};
use crate::config::notify::{EmailSettings, SmtpSecurity};

/// One SMTP relay and its recipients.
pub struct EmailNotifier {
    id: String,
    name: String,
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    to: Vec<Mailbox>,
    /// Scrubbed from relay answers (relays rarely echo it, but logs must never hold it).
    password: Option<String>,
}

impl std::fmt::Debug for EmailNotifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailNotifier").field("name", &self.name).finish_non_exhaustive()
    }
}

impl EmailNotifier {
    /// A notifier for `settings`; `timeout` bounds connecting and every SMTP command.
    pub fn new(settings: &EmailSettings, timeout: Duration) -> Result<EmailNotifier, NotifyError> {
        let smtp = &settings.smtp;
        let config = |e: &dyn std::fmt::Display| NotifyError::Config(e.to_string());
        let from: Mailbox = settings.from.parse().map_err(|e| config(&e))?;
        let to = settings
            .to
            .iter()
            .map(|t| t.parse::<Mailbox>().map_err(|e| config(&e)))
            .collect::<Result<Vec<_>, _>>()?;
        let tls = || {
            TlsParameters::builder(smtp.host.clone())
                .dangerous_accept_invalid_certs(smtp.accept_invalid_certs)
                .build_rustls()
                .map_err(|e| config(&e))
        };
        let tls = match smtp.security {
            SmtpSecurity::StartTls => Tls::Required(tls()?),
            SmtpSecurity::Implicit => Tls::Wrapper(tls()?),
            SmtpSecurity::None => Tls::None,
        };
        let mut builder =
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(smtp.host.clone())
                .port(smtp.port)
                .tls(tls)
                .timeout(Some(timeout))
                // Alerts are rare: one connection, closed soon after the last message.
                .pool_config(PoolConfig::new().max_size(1).idle_timeout(Duration::from_secs(30)));
        if let Some((user, pass)) = &smtp.credentials {
            builder = builder.credentials(Credentials::new(user.clone(), pass.expose().clone()));
        }
        let scheme = match smtp.security {
            SmtpSecurity::Implicit => "smtps",
            _ => "smtp",
        };
        let recipients = settings.to.join(", ");
        let name = format!("email {scheme}://{}:{} → {recipients}", smtp.host, smtp.port);
        let spec = format!(
            "{name}|{:?}|{}|{}|{}",
            smtp.security,
            smtp.accept_invalid_certs,
            smtp.credentials.as_ref().map(|c| c.0.as_str()).unwrap_or_default(),
            settings.from
        );
        Ok(EmailNotifier {
            id: target_id(&name, &spec),
            name,
            transport: builder.build(),
            from,
            to,
            password: smtp.credentials.as_ref().map(|c| c.1.expose().clone()),
        })
    }

    fn map_error(&self, e: &lettre::transport::smtp::Error) -> NotifyError {
        let secrets: Vec<&str> = self.password.iter().map(String::as_str).collect();
        let detail = sanitize_detail(&error_chain(e), &secrets);
        if let Some(code) = e.status() {
            return NotifyError::Rejected {
                code: u16::from(code),
                detail,
                permanent: e.is_permanent(),
            };
        }
        if e.is_timeout() {
            return NotifyError::Timeout;
        }
        if e.is_tls() || has_tls_cause(e) {
            return NotifyError::Unreachable(format!(
                "TLS failed ({detail}); a relay with a self-signed certificate needs ?tls=insecure"
            ));
        }
        NotifyError::Unreachable(detail)
    }
}

/// Whether a rustls error (a refused certificate, a failed handshake) is among the causes.
/// lettre reports those as connection errors; `io::Error` hides its payload from `source()`,
/// so it is unwrapped by hand.
fn has_tls_cause(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = next {
        if err.is::<rustls::Error>() {
            return true;
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && let Some(inner) = io.get_ref()
            && has_tls_cause(inner)
        {
            return true;
        }
        next = err.source();
    }
    false
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    text
}

/// The plain-text body: the message, its link, and a signature saying it is automatic.
pub(crate) fn email_body(msg: &Message) -> String {
    let mut body = msg.body.trim_end().to_string();
    if let Some(link) = &msg.link {
        body.push_str(&format!("\n\nOpen in Jarvis: {link}"));
    }
    body.push_str("\n\n-- \nSent automatically by Jarvis.\n");
    body
}

#[async_trait::async_trait]
impl Notifier for EmailNotifier {
    fn id(&self) -> &str {
        &self.id
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn channel(&self) -> Channel {
        Channel::Email
    }

    async fn send(&self, msg: &Message) -> Result<(), NotifyError> {
        let subject: String = format!("[Jarvis] {}: {}", label(msg.severity), msg.title)
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let mut builder = lettre::Message::builder().from(self.from.clone()).subject(subject);
        for to in &self.to {
            builder = builder.to(to.clone());
        }
        let email = builder
            .header(ContentType::TEXT_PLAIN)
            .body(email_body(msg))
            .map_err(|e| NotifyError::Config(e.to_string()))?;
        self.transport.send(email).await.map(|_| ()).map_err(|e| self.map_error(&e))
    }
}
