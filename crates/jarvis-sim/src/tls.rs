//! The simulator's TLS: a fresh self-signed certificate per start (rcgen), a rustls server
//! config on the aws-lc-rs provider (never ring), and the certificate's SHA-256 fingerprint in
//! the colon-separated upper-case hex PVE's GUI shows.

use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use sha2::{Digest, Sha256};
use tokio_rustls::TlsAcceptor;

use crate::config::SimError;

/// Everything TLS the server needs.
pub(crate) struct TlsMaterial {
    pub acceptor: TlsAcceptor,
    pub cert_pem: String,
    pub fingerprint: String,
}

/// SHA-256 of a DER certificate as `AB:CD:…` (32 colon-separated upper-case hex bytes), the
/// format of PVE's `ssl_fingerprint` and its GUI.
pub fn sha256_fingerprint(der: &[u8]) -> String {
    let digest = Sha256::digest(der);
    let hex = hex::encode_upper(digest);
    hex.as_bytes()
        .chunks(2)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(":")
}

/// Makes a self-signed certificate for `names` (DNS names and IP addresses) and a TLS acceptor
/// serving it over HTTP/1.1 only, as pveproxy does.
pub(crate) fn make(names: Vec<String>) -> Result<TlsMaterial, SimError> {
    let tls_err = |e: &dyn std::fmt::Display| SimError::Tls(e.to_string());
    let mut params = rcgen::CertificateParams::new(names).map_err(|e| tls_err(&e))?;
    let mut dn = rcgen::DistinguishedName::new();
    dn.push(rcgen::DnType::OrganizationName, "PVE Cluster Node");
    dn.push(rcgen::DnType::OrganizationalUnitName, "PVE Cluster Node");
    dn.push(rcgen::DnType::CommonName, "pve-sim.localhost");
    params.distinguished_name = dn;
    let key = rcgen::KeyPair::generate().map_err(|e| tls_err(&e))?;
    let cert = params.self_signed(&key).map_err(|e| tls_err(&e))?;
    let der: CertificateDer<'static> = cert.der().clone();
    let fingerprint = sha256_fingerprint(&der);
    let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));

    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_err(&e))?
        .with_no_client_auth()
        .with_single_cert(vec![der], key_der)
        .map_err(|e| tls_err(&e))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsMaterial {
        acceptor: TlsAcceptor::from(Arc::new(config)),
        cert_pem: cert.pem(),
        fingerprint,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_look_like_pves() {
        let fp = sha256_fingerprint(b"hello");
        assert_eq!(fp.len(), 32 * 3 - 1);
        assert!(fp.starts_with("2C:F2:4D:BA"));
        assert!(fp.chars().all(|c| c == ':' || c.is_ascii_hexdigit() && !c.is_ascii_lowercase()));
    }

    #[test]
    fn certificates_are_made_for_names_and_ips() {
        let m = make(vec!["localhost".into(), "127.0.0.1".into(), "pve1".into()]).unwrap();
        assert!(m.cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert_eq!(m.fingerprint.len(), 95);
    }
}
