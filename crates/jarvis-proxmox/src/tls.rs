//! TLS trust for PVE endpoints: builds the `rustls::ClientConfig` for each [`TlsMode`] and
//! owns the certificate verifiers (fingerprint pinning, accept-any for explicit insecure mode).
//!
//! Every config is built with an explicit aws-lc-rs provider, never the process default, and
//! nothing here installs a process-wide TLS setting. The config goes to reqwest through
//! `tls_backend_preconfigured`, so it must be this crate's rustls 0.23 (the same as reqwest's).
//!
//! It also turns a failed handshake back into words: [`describe_tls_error`] finds the rustls
//! error inside reqwest's error chain and, for a pin mismatch, reports the fingerprint the
//! server actually presented so the operator can compare it with the PVE GUI.

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, OtherError, RootCertStore,
    SignatureScheme,
};
use sha2::{Digest, Sha256};

use crate::config::{ConfigError, TlsMode, format_fingerprint};

/// The crypto provider every PVE connection uses: aws-lc-rs, chosen explicitly.
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// SHA-256 of a DER certificate: the fingerprint PVE shows for a node certificate.
pub fn cert_fingerprint(der: &[u8]) -> [u8; 32] {
    let digest = Sha256::digest(der);
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_slice());
    out
}

/// Builds the rustls client config for `mode`.
pub fn client_config(mode: &TlsMode) -> Result<ClientConfig, ConfigError> {
    let provider = provider();
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| ConfigError::Client(format!("TLS protocol versions: {e}")))?;
    let mut config = match mode {
        TlsMode::System => {
            let verifier = rustls_platform_verifier::Verifier::new(provider).map_err(|e| {
                ConfigError::Client(format!("cannot load the system trust store: {e}"))
            })?;
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(verifier))
                .with_no_client_auth()
        }
        TlsMode::CaPem(pem) => builder.with_root_certificates(ca_store(pem)?).with_no_client_auth(),
        TlsMode::Fingerprints(pins) => {
            if pins.is_empty() {
                return Err(ConfigError::InvalidFingerprint("no fingerprint given".into()));
            }
            let verifier = PinnedCertVerifier::new(pins.clone(), &provider);
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(verifier))
                .with_no_client_auth()
        }
        TlsMode::Insecure => {
            warn_insecure_once();
            let verifier = AcceptAnyCert { algs: provider.signature_verification_algorithms };
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(verifier))
                .with_no_client_auth()
        }
    };
    // pveproxy speaks HTTP/1.1; offering only that keeps reason phrases (401 texts) readable.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// Parses a CA bundle (PEM with one or more certificates, or a single DER certificate).
fn ca_store(bytes: &[u8]) -> Result<RootCertStore, ConfigError> {
    let mut certs = Vec::new();
    for item in CertificateDer::pem_slice_iter(bytes) {
        certs.push(item.map_err(|e| ConfigError::InvalidCa(format!("cannot read PEM: {e:?}")))?);
    }
    if certs.is_empty() && !bytes.is_empty() && !bytes.starts_with(b"-----") {
        certs.push(CertificateDer::from(bytes.to_vec()));
    }
    if certs.is_empty() {
        return Err(ConfigError::InvalidCa(
            "no certificate found; expected the PEM of /etc/pve/pve-root-ca.pem".into(),
        ));
    }
    let mut store = RootCertStore::empty();
    let (added, ignored) = store.add_parsable_certificates(certs);
    if added == 0 {
        return Err(ConfigError::InvalidCa(format!(
            "none of the {ignored} certificate(s) could be parsed"
        )));
    }
    Ok(store)
}

static INSECURE_WARNED: AtomicBool = AtomicBool::new(false);

fn warn_insecure_once() {
    if !INSECURE_WARNED.swap(true, Ordering::Relaxed) {
        tracing::warn!(
            "PVE TLS verification is DISABLED (PVE_TLS_INSECURE): anyone on the network path can \
             impersonate the cluster and read the API token. Pin the fingerprint \
             (PVE_TLS_FINGERPRINT) or trust the cluster CA (PVE_CA_FILE) instead."
        );
    }
}

/// The server presented a certificate whose SHA-256 matches none of the pins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FingerprintMismatch {
    /// The fingerprint of the certificate the server actually presented.
    pub seen: [u8; 32],
}

impl fmt::Display for FingerprintMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "TLS certificate fingerprint mismatch: the server presented {}, which is not a configured \
             fingerprint (compare with Datacenter → node → System → Certificates in the PVE GUI, \
             or `pvenode cert info`)",
            format_fingerprint(&self.seen)
        )
    }
}

impl StdError for FingerprintMismatch {}

/// Accepts exactly the pinned end-entity certificates. The hostname is deliberately not
/// checked (the pin is stronger, and discovered endpoints are bare IPs); handshake signatures
/// are still verified so the peer must hold the certificate's private key.
#[derive(Debug)]
struct PinnedCertVerifier {
    pins: Vec<[u8; 32]>,
    algs: WebPkiSupportedAlgorithms,
}

impl PinnedCertVerifier {
    fn new(pins: Vec<[u8; 32]>, provider: &CryptoProvider) -> Self {
        Self { pins, algs: provider.signature_verification_algorithms }
    }
}

/// Compares without an early exit, so timing does not reveal how many bytes matched.
fn ct_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b.iter()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl ServerCertVerifier for PinnedCertVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let seen = cert_fingerprint(end_entity.as_ref());
        // Check every pin (no short-circuit) to keep the comparison time independent of order.
        let matched = self.pins.iter().fold(false, |m, pin| m | ct_eq(pin, &seen));
        if matched {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(
                FingerprintMismatch { seen },
            )))))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algs)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algs)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algs.supported_schemes()
    }
}

/// Explicit insecure mode: any certificate is accepted, but the handshake signatures are
/// still checked (cheap, and it keeps the TLS session itself sound).
#[derive(Debug)]
struct AcceptAnyCert {
    algs: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for AcceptAnyCert {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algs)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algs)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algs.supported_schemes()
    }
}

/// Finds a rustls error in an error chain. tokio-rustls wraps it in an `io::Error`, whose
/// `source()` skips the wrapped error, so look inside `io::Error::get_ref` as well.
fn find_rustls_error<'a>(err: &'a (dyn StdError + 'static)) -> Option<&'a rustls::Error> {
    let mut cur: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(r) = e.downcast_ref::<rustls::Error>() {
            return Some(r);
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && let Some(inner) = io.get_ref()
            && let Some(r) = find_rustls_error(inner)
        {
            return Some(r);
        }
        cur = e.source();
    }
    None
}

/// If `err` (typically a reqwest error) failed in the TLS handshake, an operator-facing
/// description of why; `None` when TLS was not the problem.
pub fn describe_tls_error(err: &(dyn StdError + 'static)) -> Option<String> {
    let r = find_rustls_error(err)?;
    Some(match r {
        rustls::Error::InvalidCertificate(CertificateError::Other(other)) => {
            match other.0.downcast_ref::<FingerprintMismatch>() {
                Some(m) => m.to_string(),
                None => format!("invalid certificate: {}", other.0),
            }
        }
        rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer) => {
            "the certificate is not signed by a trusted CA (PVE uses a self-signed cluster CA by \
             default: set PVE_CA_FILE to /etc/pve/pve-root-ca.pem or pin PVE_TLS_FINGERPRINT)"
                .to_owned()
        }
        rustls::Error::InvalidCertificate(CertificateError::BadSignature) => {
            "the certificate was not issued by the configured CA (its signature does not verify; \
             every PVE cluster CA has the same name, so this is likely another cluster's \
             pve-root-ca.pem)"
                .to_owned()
        }
        rustls::Error::InvalidCertificate(
            e @ (CertificateError::NotValidForName
            | CertificateError::NotValidForNameContext { .. }),
        ) => format!(
            "the certificate does not name this host ({e}); use the name or IP the node certificate \
             was issued for, or pin PVE_TLS_FINGERPRINT"
        ),
        other => other.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mode_builds_with_the_explicit_provider() {
        for mode in [TlsMode::System, TlsMode::Fingerprints(vec![[7; 32]]), TlsMode::Insecure] {
            let c = client_config(&mode).unwrap();
            assert_eq!(c.alpn_protocols, vec![b"http/1.1".to_vec()]);
        }
        assert!(client_config(&TlsMode::Fingerprints(vec![])).is_err());
    }

    #[test]
    fn bad_ca_is_a_clear_config_error() {
        let e = client_config(&TlsMode::CaPem(Vec::new())).unwrap_err().to_string();
        assert!(e.contains("pve-root-ca.pem"), "{e}");
        let e = client_config(&TlsMode::CaPem(b"-----BEGIN CERTIFICATE-----\nnope\n".to_vec()));
        assert!(e.is_err());
    }

    #[test]
    fn mismatch_message_carries_the_seen_fingerprint() {
        let m = FingerprintMismatch { seen: [0xAB; 32] };
        let s = m.to_string();
        assert!(s.contains("TLS certificate fingerprint mismatch"));
        assert!(s.contains(&format_fingerprint(&[0xAB; 32])));
        let wrapped = std::io::Error::other(rustls::Error::InvalidCertificate(
            CertificateError::Other(OtherError(Arc::new(m))),
        ));
        assert_eq!(describe_tls_error(&wrapped).as_deref(), Some(s.as_str()));
    }

    #[test]
    fn constant_time_compare() {
        assert!(ct_eq(&[1; 32], &[1; 32]));
        let mut b = [1; 32];
        b[31] = 2;
        assert!(!ct_eq(&[1; 32], &b));
    }
}
