//! E-mail against a real SMTP server: plain, STARTTLS with AUTH (self-signed certificate,
//! accepted only with the explicit opt-in), implicit TLS, refused recipients, unicode.

use std::time::Duration;

use chrono::Utc;

use super::support::{Smtp, SmtpOptions, body, header, refused_addr, self_signed, tls_terminator};
use crate::config::notify::{EmailSettings, SmtpSettings};
use crate::notify::render::render;
use crate::notify::{
    EmailNotifier, Message, MessageItem, NotificationKind, Notifier, NotifyError, Severity,
};

fn notifier(url: &str, to: &[&str]) -> EmailNotifier {
    let settings = EmailSettings {
        smtp: SmtpSettings::parse(url).unwrap(),
        from: "Jarvis <jarvis@jarvis.test>".into(),
        to: to.iter().map(|s| s.to_string()).collect(),
    };
    EmailNotifier::new(&settings, Duration::from_secs(10)).unwrap()
}

fn message(title: &str, body: &str, severity: Severity) -> Message {
    render(
        vec![MessageItem {
            kind: NotificationKind::Opened,
            severity,
            title: title.into(),
            body: body.into(),
            link: Some("https://jarvis.lan/incidents/inc-1".into()),
            incident_id: Some("inc-1".into()),
            created_at: Utc::now(),
        }],
        None,
    )
}

#[tokio::test]
async fn plain_relay_delivers_a_utf8_mail_with_subject_severity_and_link() {
    let smtp = Smtp::start(SmtpOptions::default());
    let n = notifier(
        &format!("smtp://{}?tls=none", smtp.addr),
        &["ops@example.org", "Root <root@example.org>"],
    );
    let msg = message(
        "Température élevée sur pve1 🔥",
        "CPU à 92 °C\nVentilateur: ok",
        Severity::Critical,
    );
    n.send(&msg).await.unwrap();

    let mails = smtp.mails();
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert_eq!(mail.from, "jarvis@jarvis.test");
    assert_eq!(mail.to, ["ops@example.org", "root@example.org"]);
    let raw = String::from_utf8(mail.data.clone()).unwrap();
    assert_eq!(
        header(&raw, "Subject").unwrap(),
        "[Jarvis] CRITICAL: Température élevée sur pve1 🔥"
    );
    assert!(
        header(&raw, "Content-Type").unwrap().starts_with("text/plain; charset=utf-8"),
        "{raw}"
    );
    let text = body(&raw);
    assert!(text.starts_with("CPU à 92 °C\nVentilateur: ok"), "{text}");
    assert!(text.contains("Open in Jarvis: https://jarvis.lan/incidents/inc-1"), "{text}");
    assert!(n.name().contains("ops@example.org") && n.id().starts_with("email smtp://127.0.0.1:"));
}

#[tokio::test]
async fn starttls_with_auth_works_with_the_insecure_opt_in_and_is_refused_without_it() {
    let (cert, key) = self_signed();
    let smtp = Smtp::start(SmtpOptions {
        tls: Some((cert, key)),
        auth: Some(("alice@example.org".into(), "p@ss word".into())),
        ..SmtpOptions::default()
    });
    let msg = message("vm 101 stopped", "it was running", Severity::Error);

    // Without the opt-in the self-signed certificate is refused and nothing is sent.
    let strict = notifier(
        &format!("smtp://alice%40example.org:p%40ss%20word@{}", smtp.addr),
        &["ops@example.org"],
    );
    let err = strict.send(&msg).await.unwrap_err();
    assert!(matches!(err, NotifyError::Unreachable(ref d) if d.contains("TLS")), "{err}");
    assert!(err.is_retryable());
    assert!(smtp.mails().is_empty());
    assert!(smtp.auth_attempts().is_empty(), "credentials must never precede a trusted TLS");

    let opted_in = notifier(
        &format!("smtp://alice%40example.org:p%40ss%20word@{}?tls=insecure", smtp.addr),
        &["ops@example.org"],
    );
    opted_in.send(&msg).await.unwrap();
    assert_eq!(smtp.auth_attempts(), ["alice@example.org"]);
    assert_eq!(smtp.mails().len(), 1);

    let wrong = notifier(
        &format!("smtp://alice%40example.org:nope@{}?tls=insecure", smtp.addr),
        &["ops@example.org"],
    );
    let err = wrong.send(&msg).await.unwrap_err();
    assert!(matches!(err, NotifyError::Rejected { code: 535, permanent: true, .. }), "{err}");
    assert!(!err.to_string().contains("nope"), "{err}");
}

#[tokio::test]
async fn starttls_is_required_never_silently_skipped() {
    // A relay that offers no STARTTLS: smtp:// without tls=none must not send in clear.
    let smtp = Smtp::start(SmtpOptions::default());
    let n = notifier(&format!("smtp://{}", smtp.addr), &["ops@example.org"]);
    let err = n.send(&message("t", "b", Severity::Info)).await.unwrap_err();
    assert!(matches!(err, NotifyError::Unreachable(_)), "{err}");
    assert!(smtp.mails().is_empty());
}

#[tokio::test]
async fn implicit_tls_relay_delivers() {
    let (cert, key) = self_signed();
    let smtp = Smtp::start(SmtpOptions::default());
    let tls_port = tls_terminator(smtp.addr, &cert, &key).await;
    let n = notifier(&format!("smtps://{tls_port}?tls=insecure"), &["ops@example.org"]);
    n.send(&message("backup failed", "vzdump exit 1", Severity::Warning)).await.unwrap();
    let mails = smtp.mails();
    assert_eq!(mails.len(), 1);
    let raw = String::from_utf8(mails[0].data.clone()).unwrap();
    assert_eq!(header(&raw, "Subject").unwrap(), "[Jarvis] WARNING: backup failed");
}

#[tokio::test]
async fn refused_recipients_are_permanent_or_transient_by_reply_code() {
    let smtp = Smtp::start(SmtpOptions {
        reject_rcpt: Some(("nobody".into(), 550)),
        ..SmtpOptions::default()
    });
    let n = notifier(&format!("smtp://{}?tls=none", smtp.addr), &["nobody@example.org"]);
    let err = n.send(&message("t", "b", Severity::Info)).await.unwrap_err();
    assert!(matches!(err, NotifyError::Rejected { code: 550, permanent: true, .. }), "{err}");
    assert!(!err.is_retryable());

    let busy = Smtp::start(SmtpOptions {
        reject_rcpt: Some(("later".into(), 451)),
        ..SmtpOptions::default()
    });
    let n = notifier(&format!("smtp://{}?tls=none", busy.addr), &["later@example.org"]);
    let err = n.send(&message("t", "b", Severity::Info)).await.unwrap_err();
    assert!(matches!(err, NotifyError::Rejected { code: 451, permanent: false, .. }), "{err}");
    assert!(err.is_retryable());
    assert!(smtp.mails().is_empty() && busy.mails().is_empty());
}

#[tokio::test]
async fn a_relay_that_is_down_is_unreachable_and_retryable() {
    let n = notifier(&format!("smtp://{}?tls=none", refused_addr()), &["ops@example.org"]);
    let err = n.send(&message("t", "b", Severity::Info)).await.unwrap_err();
    assert!(matches!(err, NotifyError::Unreachable(_)), "{err}");
    assert!(err.is_retryable());
}
