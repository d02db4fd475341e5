//! TLS: the served certificate is the one `cert_pem()` returns, its fingerprint is
//! `fingerprint()` (and PVE's `ssl_fingerprint`), and a client trusting only that certificate
//! can connect by IP and by name.

use std::sync::Arc;

use jarvis_sim::{SimConfig, sha256_fingerprint};
use parking_lot::Mutex;
use rustls::DigitallySignedStruct;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};

use crate::common::*;

/// Accepts any certificate and remembers the one it saw.
#[derive(Debug)]
struct Recorder {
    seen: Mutex<Option<Vec<u8>>>,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl ServerCertVerifier for Recorder {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        *self.seen.lock() = Some(end_entity.to_vec());
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

#[tokio::test]
async fn fingerprint_is_that_of_the_served_certificate() {
    let sim = start(SimConfig { tls: true, ..test_config() }).await;
    assert!(sim.base_url().starts_with("https://127.0.0.1:"));
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let recorder = Arc::new(Recorder { seen: Mutex::new(None), provider: provider.clone() });
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(recorder.clone())
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let addr = sim.base_url().trim_start_matches("https://").to_string();
    let tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let _tls = connector.connect(ServerName::try_from("localhost").unwrap(), tcp).await.unwrap();
    let served = recorder.seen.lock().clone().expect("a certificate was presented");

    let fp = sim.fingerprint().unwrap();
    assert_eq!(sha256_fingerprint(&served), fp);
    assert_eq!(fp.len(), 95, "32 colon-separated bytes: {fp}");
    assert!(fp.chars().all(|c| c == ':' || c.is_ascii_digit() || c.is_ascii_uppercase()));
    let pem = sim.cert_pem().unwrap();
    let from_pem = CertificateDer::from_pem_slice(pem.as_bytes()).unwrap();
    assert_eq!(from_pem.as_ref(), served.as_slice(), "cert_pem() is the served certificate");

    let nodes = data(&sim, "/nodes").await;
    assert!(nodes.as_array().unwrap().iter().all(|n| n["ssl_fingerprint"] == fp.as_str()));
    assert_entries_shape(
        &nodes.as_array().unwrap().iter().collect::<Vec<_>>(),
        &fixture("nodes.pve8.json").as_array().unwrap().iter().collect::<Vec<_>>(),
        "nodes (tls)",
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn a_client_trusting_only_the_simulator_certificate_connects() {
    let sim = start(SimConfig { tls: true, ..test_config() }).await;
    let cert = reqwest::Certificate::from_pem(sim.cert_pem().unwrap().as_bytes()).unwrap();
    let strict = reqwest::Client::builder().tls_certs_only([cert]).no_proxy().build().unwrap();
    let port = sim.base_url().rsplit(':').next().unwrap().to_string();
    for host in ["127.0.0.1", "localhost"] {
        let res = strict
            .get(format!("https://{host}:{port}/api2/json/version"))
            .header("Authorization", sim.auth_header())
            .send()
            .await
            .unwrap_or_else(|e| panic!("{host}: {e:?}"));
        assert_eq!(res.status(), 200);
    }
    // Another simulator's certificate is not trusted for this one.
    let other = start(SimConfig { tls: true, ..test_config() }).await;
    let res = strict.get(format!("{}/api2/json/version", other.base_url())).send().await;
    assert!(res.is_err(), "a different self-signed certificate must be rejected");
    other.shutdown().await;
    sim.shutdown().await;
}
