//! The client's error type, and how a PVE error response becomes one.
//!
//! This module owns [`PveError`] and [`error_from_response`]: the rules for reading PVE's error
//! replies. PVE reports errors in three places and a client must look at all of them:
//! - the HTTP reason phrase: authentication failures are `401 <reason>` with an EMPTY body,
//!   and for handler errors the reason phrase repeats the message;
//! - the JSON body's `message` (PVE ≥ 7, usually ending in `\n`);
//! - the JSON body's `errors` object (`{field: message}`, parameter verification).
//!
//! Older PVE (≤ 6) sends only `{"data":null}`. Messages never contain the token secret: the
//! client never formats headers into errors, and PVE does not echo the secret back.

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Everything that can go wrong talking to PVE, with variants a caller can branch on.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PveError {
    /// 401: the API token was rejected. Carries PVE's reason (e.g. `no such token 'x' for user
    /// 'root@pam'`).
    #[error(
        "PVE rejected the API token (401 {0}); check PVE_TOKEN_ID (user@realm!tokenname) and \
         PVE_TOKEN_SECRET, and that the token exists and has not expired"
    )]
    Unauthorized(String),
    /// 403: the token lacks a privilege. Carries PVE's message
    /// (e.g. `Permission check failed (/vms/100, VM.PowerMgmt)`).
    #[error(
        "PVE denied permission (403 {0}); grant the token's user (and, with privilege \
         separation, the token itself) a role with that privilege on that path"
    )]
    Forbidden(String),
    /// 404: no such API path or object.
    #[error("not found on PVE (404 {0})")]
    NotFound(String),
    /// Any other HTTP error PVE answered with; `message` is PVE's text, field errors included.
    #[error("PVE API error {status}: {message}")]
    Api {
        /// HTTP status code.
        status: u16,
        /// PVE's message (trailing newline trimmed), with `field: error` details appended.
        message: String,
    },
    /// The endpoint did not answer within the configured timeout.
    #[error("PVE endpoint {endpoint} did not answer in time")]
    Timeout {
        /// The endpoint (base URL) that timed out.
        endpoint: String,
    },
    /// The endpoint could not be reached (refused, unreachable, reset, DNS).
    #[error("cannot reach PVE endpoint {endpoint}: {detail}")]
    Connect {
        /// The endpoint (base URL).
        endpoint: String,
        /// What the network stack said.
        detail: String,
    },
    /// The TLS handshake failed: untrusted certificate or fingerprint mismatch.
    #[error("TLS handshake with PVE endpoint {endpoint} failed: {detail}")]
    Tls {
        /// The endpoint (base URL).
        endpoint: String,
        /// Why; for a pin mismatch this includes the fingerprint the server presented.
        detail: String,
    },
    /// A 2xx answer whose body does not fit the expected shape.
    #[error("unexpected PVE response from {path}: {detail}")]
    Decode {
        /// API path, e.g. `/cluster/resources`.
        path: String,
        /// The parser's complaint.
        detail: String,
    },
    /// Every endpoint failed; one `(endpoint, reason)` per endpoint tried.
    #[error("all PVE endpoints failed: {}", join_failures(.0))]
    AllEndpointsFailed(Vec<(String, String)>),
    /// A PVE task finished with an error exit status.
    #[error("PVE task {upid} failed: {exitstatus}")]
    TaskFailed {
        /// The task's UPID.
        upid: String,
        /// PVE's exit status text (anything but `OK`).
        exitstatus: String,
    },
    /// A PVE task did not finish in the time we waited. It may still be running.
    #[error(
        "PVE task {upid} did not finish in time; it may still be running (see the task log in PVE)"
    )]
    TaskTimeout {
        /// The task's UPID.
        upid: String,
    },
    /// The client configuration is unusable.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
}

fn join_failures(list: &[(String, String)]) -> String {
    if list.is_empty() {
        return "no endpoint was tried".to_owned();
    }
    list.iter().map(|(e, why)| format!("{e}: {why}")).collect::<Vec<_>>().join("; ")
}

impl PveError {
    /// True when trying again later (or elsewhere) may succeed: network trouble, timeouts and
    /// PVE's gateway errors. Authentication, permission, validation and decode errors are not.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Timeout { .. } | Self::Connect { .. } | Self::AllEndpointsFailed(_) => true,
            Self::Api { status, .. } => is_failover_status(*status),
            Self::Unauthorized(_)
            | Self::Forbidden(_)
            | Self::NotFound(_)
            | Self::Tls { .. }
            | Self::Decode { .. }
            | Self::TaskFailed { .. }
            | Self::TaskTimeout { .. }
            | Self::Config(_) => false,
        }
    }

    /// The HTTP status PVE answered with, when this error is an HTTP answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Unauthorized(_) => Some(401),
            Self::Forbidden(_) => Some(403),
            Self::NotFound(_) => Some(404),
            Self::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// Statuses that mean "this endpoint cannot serve right now", not "PVE says no":
/// 502/503 from a proxy or a restarting pveproxy, 596 when pveproxy cannot reach the node
/// that owns the resource. These fail over to the next endpoint.
pub fn is_failover_status(status: u16) -> bool {
    matches!(status, 502 | 503 | 596)
}

/// Turns a non-2xx PVE answer into a [`PveError`].
///
/// `reason` is the HTTP reason phrase when it differs from the canonical one (hyper only
/// keeps non-canonical phrases); `body` is the raw body, which may be empty, JSON or text.
pub fn error_from_response(status: u16, reason: Option<&str>, body: &[u8]) -> PveError {
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    let parsed = parse_error_body(body);
    let canonical = http_canonical_reason(status);

    // The body's message is the most complete; then the reason phrase; then raw text.
    let base = parsed
        .message
        .clone()
        .or_else(|| reason.map(str::to_owned))
        .or_else(|| parsed.text.clone())
        .filter(|m| !m.is_empty());
    let mut message = match (&base, parsed.errors.is_empty()) {
        (Some(m), _) => m.clone(),
        (None, false) => String::new(),
        (None, true) => canonical.to_owned(),
    };
    if !parsed.errors.is_empty() {
        let details =
            parsed.errors.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join("; ");
        if message.is_empty() {
            message = details;
        } else {
            let _ = write!(message, " ({details})");
        }
    }

    match status {
        401 => PveError::Unauthorized(message),
        403 => PveError::Forbidden(message),
        404 => PveError::NotFound(message),
        _ => PveError::Api { status, message },
    }
}

#[derive(Default)]
struct ErrorBody {
    message: Option<String>,
    errors: BTreeMap<String, String>,
    text: Option<String>,
}

/// Extracts `message` and `errors` from a JSON error body, or keeps a short plain-text body.
fn parse_error_body(body: &[u8]) -> ErrorBody {
    let mut out = ErrorBody::default();
    let trimmed = String::from_utf8_lossy(body);
    let trimmed = trimmed.trim();
    if trimmed.is_empty() {
        return out;
    }
    match serde_json::from_str::<serde_json::Value>(trimmed) {
        Ok(serde_json::Value::Object(map)) => {
            if let Some(m) = map.get("message").and_then(value_text) {
                out.message = Some(m);
            }
            match map.get("errors") {
                Some(serde_json::Value::Object(errs)) => {
                    for (k, v) in errs {
                        if let Some(t) = value_text(v) {
                            out.errors.insert(k.clone(), t);
                        }
                    }
                }
                Some(serde_json::Value::Array(errs)) => {
                    for (i, v) in errs.iter().enumerate() {
                        if let Some(t) = value_text(v) {
                            out.errors.insert(i.to_string(), t);
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(serde_json::Value::String(s)) => out.text = Some(clip(s.trim())),
        Ok(_) => {}
        // Not JSON: PVE sometimes answers with plain text ("storage 'x' does not exist").
        // HTML error pages from a proxy are clipped so they stay readable in a log line.
        Err(_) => out.text = Some(clip(trimmed)),
    }
    out
}

fn value_text(v: &serde_json::Value) -> Option<String> {
    let s = match v {
        serde_json::Value::String(s) => s.trim().to_owned(),
        serde_json::Value::Null => return None,
        other => other.to_string(),
    };
    (!s.is_empty()).then_some(s)
}

fn clip(s: &str) -> String {
    const MAX: usize = 300;
    if s.chars().count() <= MAX {
        return s.to_owned();
    }
    let mut c: String = s.chars().take(MAX).collect();
    c.push('…');
    c
}

fn http_canonical_reason(status: u16) -> &'static str {
    match status {
        // PVE's own code for "proxy could not reach the node".
        596 => "Broken pipe (PVE could not reach the target node)",
        _ => reqwest::StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("HTTP error"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reason_phrase_only_401() {
        let e = error_from_response(401, Some("no such token 'x' for user 'root@pam'"), b"");
        assert_eq!(e, PveError::Unauthorized("no such token 'x' for user 'root@pam'".into()));
        assert!(e.to_string().contains("no such token 'x'"));
        let e = error_from_response(401, None, b"");
        assert_eq!(e, PveError::Unauthorized("Unauthorized".into()));
    }

    #[test]
    fn body_message_is_trimmed_and_field_errors_are_kept() {
        let e = error_from_response(
            403,
            Some("Permission check failed (/vms/100, VM.PowerMgmt)"),
            b"{\"data\":null,\"message\":\"Permission check failed (/vms/100, VM.PowerMgmt)\\n\"}",
        );
        assert_eq!(
            e,
            PveError::Forbidden("Permission check failed (/vms/100, VM.PowerMgmt)".into())
        );
        let e = error_from_response(
            400,
            None,
            br#"{"errors":{"vmid":"VM 200 already exists"},"data":null}"#,
        );
        assert_eq!(e, PveError::Api { status: 400, message: "vmid: VM 200 already exists".into() });
        let e = error_from_response(
            400,
            Some("Parameter verification failed."),
            br#"{"errors":{"vmid":"VM 200 already exists\n"},"data":null,"message":"Parameter verification failed.\n"}"#,
        );
        assert_eq!(
            e,
            PveError::Api {
                status: 400,
                message: "Parameter verification failed. (vmid: VM 200 already exists)".into()
            }
        );
    }

    #[test]
    fn bare_and_plain_bodies() {
        assert_eq!(
            error_from_response(500, None, br#"{"data":null}"#),
            PveError::Api { status: 500, message: "Internal Server Error".into() }
        );
        assert_eq!(
            error_from_response(500, None, b"storage 'missing' does not exist"),
            PveError::Api { status: 500, message: "storage 'missing' does not exist".into() }
        );
        let long = "x".repeat(5000);
        let PveError::Api { message, .. } = error_from_response(502, None, long.as_bytes()) else {
            panic!()
        };
        assert!(message.chars().count() <= 301);
        assert!(matches!(error_from_response(404, None, b""), PveError::NotFound(_)));
    }

    #[test]
    fn retryability() {
        assert!(PveError::Api { status: 596, message: String::new() }.is_retryable());
        assert!(!PveError::Api { status: 500, message: String::new() }.is_retryable());
        assert!(PveError::Timeout { endpoint: "e".into() }.is_retryable());
        assert!(!PveError::Unauthorized(String::new()).is_retryable());
        assert!(!PveError::Tls { endpoint: "e".into(), detail: String::new() }.is_retryable());
        let all = PveError::AllEndpointsFailed(vec![
            ("a".into(), "down".into()),
            ("b".into(), "tls".into()),
        ]);
        assert_eq!(all.to_string(), "all PVE endpoints failed: a: down; b: tls");
    }
}
