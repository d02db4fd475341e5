//! Client configuration: endpoints, API token, TLS trust mode and timeouts.
//!
//! This module owns [`PveConfig`] and [`TlsMode`] and the parsers an operator's settings go
//! through (`PVE_URL`, `PVE_TLS_FINGERPRINT`): [`parse_endpoint`], [`parse_endpoints`],
//! [`parse_fingerprint`] and [`parse_fingerprints`]. It does no IO.

use std::fmt;
use std::time::Duration;

use url::Url;

/// The PVE API port, used when an endpoint is given without one.
pub const DEFAULT_PORT: u16 = 8006;

/// A configuration mistake, in words that tell the operator what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// No PVE endpoint was configured.
    #[error("no PVE endpoint configured: set PVE_URL to one or more URLs like https://pve1:8006")]
    NoEndpoints,
    /// An endpoint URL could not be parsed or has an unsupported scheme.
    #[error("invalid PVE endpoint {0}")]
    InvalidEndpoint(String),
    /// The token id is not of the form `user@realm!tokenname`, or the secret is unusable.
    #[error("invalid PVE API token: {0}")]
    InvalidToken(String),
    /// A TLS fingerprint could not be parsed.
    #[error("invalid TLS fingerprint: {0}")]
    InvalidFingerprint(String),
    /// The CA bundle holds no usable certificate.
    #[error("invalid PVE CA certificate: {0}")]
    InvalidCa(String),
    /// The TLS or HTTP client could not be built.
    #[error("cannot build the PVE HTTP client: {0}")]
    Client(String),
}

/// How the client decides to trust a PVE node's TLS certificate.
#[derive(Clone, PartialEq, Eq)]
pub enum TlsMode {
    /// The operating system's trust store (for clusters with publicly trusted certificates,
    /// for example from ACME). Hostnames are verified.
    System,
    /// Trust only this CA (PEM, possibly several certificates; DER is accepted too), typically
    /// `/etc/pve/pve-root-ca.pem`. Hostnames (or IP SANs) are verified.
    CaPem(Vec<u8>),
    /// Trust exactly these SHA-256 certificate fingerprints (of the end-entity certificate).
    /// Hostnames are not checked: the pin identifies the certificate itself.
    Fingerprints(Vec<[u8; 32]>),
    /// Accept any certificate. Only when explicitly configured; a warning is logged.
    Insecure,
}

impl fmt::Debug for TlsMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::System => f.write_str("System"),
            Self::CaPem(pem) => write!(f, "CaPem({} bytes)", pem.len()),
            Self::Fingerprints(fps) => f
                .debug_tuple("Fingerprints")
                .field(&fps.iter().map(format_fingerprint).collect::<Vec<_>>())
                .finish(),
            Self::Insecure => f.write_str("Insecure"),
        }
    }
}

/// Everything the PVE client needs to connect.
#[derive(Clone)]
pub struct PveConfig {
    /// One or more base URLs, e.g. `https://pve1:8006`. The first one that answers wins; the
    /// others are failover targets. A path ending in `/api2/json` is accepted too.
    pub endpoints: Vec<Url>,
    /// API token id: `user@realm!tokenname`.
    pub token_id: String,
    /// API token secret (a UUID). Never logged or shown in errors.
    pub token_secret: String,
    /// Certificate trust mode.
    pub tls: TlsMode,
    /// Whole-request timeout (connect, send, read the body).
    pub timeout: Duration,
    /// TCP + TLS connect timeout, kept short so a dead node fails over quickly.
    pub connect_timeout: Duration,
    /// Add the cluster's node IPs (from `/cluster/status`) as further failover endpoints.
    pub discover_endpoints: bool,
}

impl PveConfig {
    /// A config with the default timeouts (10 s, connect 3 s), system trust and discovery on.
    pub fn new(
        endpoints: Vec<Url>,
        token_id: impl Into<String>,
        token_secret: impl Into<String>,
    ) -> Self {
        Self {
            endpoints,
            token_id: token_id.into(),
            token_secret: token_secret.into(),
            tls: TlsMode::System,
            timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(3),
            discover_endpoints: true,
        }
    }

    /// Checks what can be checked without the network.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.endpoints.is_empty() {
            return Err(ConfigError::NoEndpoints);
        }
        for e in &self.endpoints {
            if !matches!(e.scheme(), "https" | "http") || e.host_str().is_none() {
                return Err(ConfigError::InvalidEndpoint(format!(
                    "{e}: expected https://host:8006 (http only for local testing)"
                )));
            }
        }
        let (user, token) = self.token_id.split_once('!').ok_or_else(|| {
            ConfigError::InvalidToken(format!(
                "token id {:?} must look like user@realm!tokenname (PVE_TOKEN_ID)",
                self.token_id
            ))
        })?;
        if !user.contains('@')
            || token.is_empty()
            || self.token_id.chars().any(|c| c.is_whitespace() || c == '=')
        {
            return Err(ConfigError::InvalidToken(format!(
                "token id {:?} must look like user@realm!tokenname (PVE_TOKEN_ID)",
                self.token_id
            )));
        }
        // Never echo the secret: say what is wrong with it, not what it is.
        if self.token_secret.trim().is_empty() {
            return Err(ConfigError::InvalidToken(
                "the token secret is empty (PVE_TOKEN_SECRET)".into(),
            ));
        }
        if self.token_secret.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(ConfigError::InvalidToken(
                "the token secret contains whitespace or control characters (PVE_TOKEN_SECRET)"
                    .into(),
            ));
        }
        if let TlsMode::Fingerprints(f) = &self.tls
            && f.is_empty()
        {
            return Err(ConfigError::InvalidFingerprint("no fingerprint given".into()));
        }
        Ok(())
    }
}

impl fmt::Debug for PveConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PveConfig")
            .field("endpoints", &self.endpoints.iter().map(Url::as_str).collect::<Vec<_>>())
            .field("token_id", &self.token_id)
            .field("token_secret", &"***")
            .field("tls", &self.tls)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("discover_endpoints", &self.discover_endpoints)
            .finish()
    }
}

/// Parses one endpoint as an operator writes it: `https://pve1:8006`, `pve1:8006`, `pve1`,
/// `10.0.0.5`, `[fd00::5]:8006`. A missing scheme means https, a missing port 8006.
pub fn parse_endpoint(raw: &str) -> Result<Url, ConfigError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(ConfigError::NoEndpoints);
    }
    let with_scheme = if raw.contains("://") { raw.to_owned() } else { format!("https://{raw}") };
    let mut url = Url::parse(&with_scheme).map_err(|e| {
        ConfigError::InvalidEndpoint(format!("{raw:?}: {e} (expected https://host:8006)"))
    })?;
    if !matches!(url.scheme(), "https" | "http") || url.host_str().is_none() {
        return Err(ConfigError::InvalidEndpoint(format!("{raw:?}: expected https://host:8006")));
    }
    if !raw.contains("://") && url.port().is_none() {
        // Only for scheme-less input: an explicit `https://host` may sit behind a proxy on 443.
        let _ = url.set_port(Some(DEFAULT_PORT));
    }
    Ok(url)
}

/// Parses a comma- (or whitespace-) separated list of endpoints (`PVE_URL`).
pub fn parse_endpoints(raw: &str) -> Result<Vec<Url>, ConfigError> {
    let list: Vec<Url> = raw
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(parse_endpoint)
        .collect::<Result<_, _>>()?;
    if list.is_empty() {
        return Err(ConfigError::NoEndpoints);
    }
    Ok(list)
}

/// Parses a SHA-256 certificate fingerprint as the PVE GUI, `pvenode cert info` or
/// `openssl x509 -noout -fingerprint -sha256` print it: `AB:CD:…` (32 colon-separated bytes),
/// optionally prefixed `sha256 Fingerprint=` / `SHA256 Fingerprint=`, in any case, or as 64
/// plain hex digits.
pub fn parse_fingerprint(raw: &str) -> Result<[u8; 32], ConfigError> {
    let mut s = raw.trim();
    if let Some((prefix, rest)) = s.split_once('=') {
        let p = prefix.trim().to_ascii_lowercase();
        if !(p.starts_with("sha256") || p.contains("fingerprint")) {
            return Err(ConfigError::InvalidFingerprint(format!(
                "{raw:?}: unexpected prefix {prefix:?}; paste the SHA-256 fingerprint shown by the PVE GUI"
            )));
        }
        s = rest.trim();
    }
    let hex_digits: String =
        s.chars().filter(|c| *c != ':' && *c != '-' && !c.is_whitespace()).collect();
    if let Some(bad) = hex_digits.chars().find(|c| !c.is_ascii_hexdigit()) {
        return Err(ConfigError::InvalidFingerprint(format!(
            "{raw:?}: {bad:?} is not a hex digit; expected 32 bytes like AB:CD:…"
        )));
    }
    if hex_digits.len() != 64 {
        return Err(ConfigError::InvalidFingerprint(format!(
            "{raw:?}: a SHA-256 fingerprint has 32 bytes (64 hex digits), this one has {} hex digits{}",
            hex_digits.len(),
            if hex_digits.len() == 40 {
                " (that looks like SHA-1; use the SHA-256 one)"
            } else {
                ""
            }
        )));
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(&hex_digits, &mut out)
        .map_err(|e| ConfigError::InvalidFingerprint(format!("{raw:?}: {e}")))?;
    Ok(out)
}

/// Parses a comma- or semicolon-separated list of fingerprints (`PVE_TLS_FINGERPRINT`), so one
/// setting can pin every node of a cluster.
pub fn parse_fingerprints(raw: &str) -> Result<Vec<[u8; 32]>, ConfigError> {
    let list: Vec<[u8; 32]> = raw
        .split([',', ';'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(parse_fingerprint)
        .collect::<Result<_, _>>()?;
    if list.is_empty() {
        return Err(ConfigError::InvalidFingerprint("no fingerprint given".into()));
    }
    Ok(list)
}

/// Formats a fingerprint the way PVE shows it: upper-case colon-separated hex.
pub fn format_fingerprint(fp: &[u8; 32]) -> String {
    let mut s = String::with_capacity(95);
    for (i, b) in fp.iter().enumerate() {
        if i > 0 {
            s.push(':');
        }
        s.push_str(&format!("{b:02X}"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const FP: &str = "80:D4:F2:DF:64:95:CD:8D:A0:82:82:AC:48:BA:C0:7A:1B:6B:87:8B:FE:B9:83:1C:95:4E:79:58:77:99:69:F5";

    #[test]
    fn fingerprint_accepts_gui_openssl_lowercase_and_plain_hex() {
        let want = parse_fingerprint(FP).unwrap();
        assert_eq!(want[0], 0x80);
        assert_eq!(want[31], 0xF5);
        assert_eq!(format_fingerprint(&want), FP);
        for variant in [
            format!("sha256 Fingerprint={FP}"),
            format!("SHA256 Fingerprint={FP}"),
            FP.to_lowercase(),
            FP.replace(':', ""),
            format!("  {FP}\n"),
        ] {
            assert_eq!(parse_fingerprint(&variant).unwrap(), want, "{variant}");
        }
    }

    #[test]
    fn fingerprint_rejects_wrong_length_and_garbage_clearly() {
        let e = parse_fingerprint(&FP[..FP.len() - 3]).unwrap_err().to_string();
        assert!(e.contains("32 bytes") && e.contains("62 hex digits"), "{e}");
        let sha1 = "AB:".repeat(19) + "AB";
        assert!(parse_fingerprint(&sha1).unwrap_err().to_string().contains("SHA-1"));
        assert!(parse_fingerprint(&FP.replace('D', "Z")).unwrap_err().to_string().contains("'Z'"));
        assert!(parse_fingerprint("md5=00").is_err());
        assert!(parse_fingerprints(" , ").is_err());
    }

    #[test]
    fn fingerprint_lists() {
        let two =
            parse_fingerprints(&format!("{FP}, {}", FP.to_lowercase().replace(':', ""))).unwrap();
        assert_eq!(two.len(), 2);
        assert_eq!(two[0], two[1]);
    }

    #[test]
    fn endpoints_get_scheme_and_port_defaults() {
        let l =
            parse_endpoints("pve1, https://pve2:8006,10.0.0.3:9000 http://127.0.0.1:1234").unwrap();
        let s: Vec<&str> = l.iter().map(Url::as_str).collect();
        assert_eq!(
            s,
            [
                "https://pve1:8006/",
                "https://pve2:8006/",
                "https://10.0.0.3:9000/",
                "http://127.0.0.1:1234/"
            ]
        );
        assert!(parse_endpoints("").is_err());
        assert!(parse_endpoint("ftp://x").is_err());
    }

    #[test]
    fn validate_checks_token_shape_without_leaking_the_secret() {
        let url = parse_endpoint("pve1").unwrap();
        let ok = PveConfig::new(vec![url.clone()], "root@pam!jarvis", "0b0e-secret");
        assert!(ok.validate().is_ok());
        let bad = PveConfig::new(vec![url.clone()], "root@pam", "0b0e-secret");
        assert!(bad.validate().unwrap_err().to_string().contains("user@realm!tokenname"));
        let bad = PveConfig::new(vec![url], "root@pam!j", "bad secret");
        let e = bad.validate().unwrap_err().to_string();
        assert!(!e.contains("bad secret"), "{e}");
        assert!(!format!("{ok:?}").contains("0b0e-secret"));
        assert!(PveConfig::new(vec![], "root@pam!j", "s").validate().is_err());
    }
}
