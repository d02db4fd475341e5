//! TLS against a real HTTPS server on 127.0.0.1 (tokio-rustls, certificates from rcgen):
//! fingerprint pinning, CA-only trust, system trust and explicit insecure mode.

mod common;

use std::time::Duration;

use jarvis_proxmox::tls::cert_fingerprint;
use jarvis_proxmox::{
    ProxmoxApi, PveClient, PveConfig, PveError, TlsMode, format_fingerprint, parse_fingerprint,
};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use url::Url;

fn version_response() -> Vec<u8> {
    common::raw_response(
        200,
        "OK",
        r#"{"data":{"version":"9.1-1","release":"9.1","repoid":"9a1b2c3d"}}"#,
    )
}

fn key_der(key: &KeyPair) -> PrivateKeyDer<'static> {
    PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()))
}

/// A self-signed certificate for `names`, like a fresh PVE node's (without the cluster CA).
fn self_signed(names: &[&str]) -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
    let ck = rcgen::generate_simple_self_signed(
        names.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>(),
    )
    .unwrap();
    (ck.cert.der().clone(), key_der(&ck.signing_key))
}

/// A CA (PEM) and a leaf for `names` signed by it: PVE's pve-root-ca + node certificate.
fn ca_and_leaf(names: &[&str]) -> (String, CertificateDer<'static>, PrivateKeyDer<'static>) {
    ca_named_and_leaf("Proxmox Virtual Environment", names)
}

fn ca_named_and_leaf(
    ca_name: &str,
    names: &[&str],
) -> (String, CertificateDer<'static>, PrivateKeyDer<'static>) {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(DnType::CommonName, ca_name);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let mut leaf_params =
        CertificateParams::new(names.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>()).unwrap();
    leaf_params.distinguished_name.push(DnType::CommonName, "pve1.lan");
    let leaf = leaf_params.signed_by(&leaf_key, &ca).unwrap();
    (ca.pem(), leaf.der().clone(), key_der(&leaf_key))
}

fn tls_client(url: &str, tls: TlsMode) -> PveClient {
    let mut c =
        PveConfig::new(vec![Url::parse(url).unwrap()], common::TOKEN_ID, common::TOKEN_SECRET);
    c.tls = tls;
    c.discover_endpoints = false;
    c.timeout = Duration::from_secs(5);
    PveClient::new(c).unwrap()
}

#[tokio::test]
async fn correct_pin_reads_data_even_when_the_name_does_not_match() {
    // The certificate names another host: pinning ignores names, the pin is the identity.
    let (cert, key) = self_signed(&["pve-elsewhere.example"]);
    let fp = format_fingerprint(&cert_fingerprint(cert.as_ref()));
    let (addr, seen) = common::tls_server(vec![cert], key, version_response()).await;
    // Pins as an operator pastes them from `openssl x509 -fingerprint -sha256`.
    let pin = parse_fingerprint(&format!("sha256 Fingerprint={fp}")).unwrap();
    let c = tls_client(&format!("https://{addr}"), TlsMode::Fingerprints(vec![[0x11; 32], pin]));
    assert_eq!(c.version().await.unwrap().release.as_deref(), Some("9.1"));
    assert_eq!(seen.count(), 1);
    let head = seen.heads.lock()[0].to_ascii_lowercase();
    assert!(head.contains("authorization: pveapitoken=root@pam!jarvis="), "{head}");
}

#[tokio::test]
async fn wrong_pin_fails_the_handshake_before_any_request_and_names_the_seen_fingerprint() {
    let (cert, key) = self_signed(&["localhost", "127.0.0.1"]);
    let actual = format_fingerprint(&cert_fingerprint(cert.as_ref()));
    let (addr, seen) = common::tls_server(vec![cert], key, version_response()).await;
    let endpoint = format!("https://{addr}");
    let c = tls_client(&endpoint, TlsMode::Fingerprints(vec![[0xAB; 32]]));
    let err = c.version().await.unwrap_err();
    let PveError::Tls { endpoint: ep, detail } = &err else {
        panic!("expected a TLS error, got {err:?}")
    };
    assert_eq!(ep, &endpoint);
    assert!(detail.contains("TLS certificate fingerprint mismatch"), "{detail}");
    assert!(
        detail.contains(&actual),
        "the operator must see the fingerprint actually presented: {detail}"
    );
    assert!(!err.to_string().contains(common::TOKEN_SECRET));
    assert!(!err.is_retryable(), "a wrong pin is a configuration problem");
    // Give a stray request a moment to arrive: none may, the handshake must have failed.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(seen.count(), 0, "no HTTP request may pass a failed pin");
    let h = c.endpoints();
    assert!(!h[0].ok && h[0].last_error.as_deref().is_some_and(|e| e.contains("mismatch")));
}

#[tokio::test]
async fn ca_mode_trusts_only_that_ca_and_checks_names() {
    let (ca_pem, leaf, key) = ca_and_leaf(&["localhost", "127.0.0.1"]);
    let (addr, seen) = common::tls_server(vec![leaf], key, version_response()).await;
    let port = addr.port();
    for url in [format!("https://127.0.0.1:{port}"), format!("https://localhost:{port}")] {
        let c = tls_client(&url, TlsMode::CaPem(ca_pem.clone().into_bytes()));
        assert_eq!(c.version().await.unwrap().release.as_deref(), Some("9.1"), "{url}");
    }
    assert_eq!(seen.count(), 2);

    // Another cluster's CA (PVE CAs all carry the same name): the signature does not verify.
    let (other_ca, _, _) = ca_and_leaf(&["localhost"]);
    let c = tls_client(&format!("https://127.0.0.1:{port}"), TlsMode::CaPem(other_ca.into_bytes()));
    let err = c.version().await.unwrap_err();
    assert!(
        matches!(err, PveError::Tls { ref detail, .. } if detail.contains("not issued by the configured CA")),
        "{err:?}"
    );
    // An unrelated CA: the issuer is unknown.
    let (unrelated, _, _) = ca_named_and_leaf("Some Other CA", &["localhost"]);
    let c =
        tls_client(&format!("https://127.0.0.1:{port}"), TlsMode::CaPem(unrelated.into_bytes()));
    let err = c.version().await.unwrap_err();
    assert!(
        matches!(err, PveError::Tls { ref detail, .. } if detail.contains("not signed by a trusted CA")),
        "{err:?}"
    );
    assert_eq!(seen.count(), 2);
}

#[tokio::test]
async fn ca_mode_rejects_a_certificate_for_another_name() {
    let (ca_pem, leaf, key) = ca_and_leaf(&["pve1.lan"]);
    let (addr, seen) = common::tls_server(vec![leaf], key, version_response()).await;
    let c = tls_client(
        &format!("https://127.0.0.1:{}", addr.port()),
        TlsMode::CaPem(ca_pem.into_bytes()),
    );
    let err = c.version().await.unwrap_err();
    assert!(
        matches!(err, PveError::Tls { ref detail, .. } if detail.contains("does not name this host")),
        "{err:?}"
    );
    assert_eq!(seen.count(), 0);
}

#[tokio::test]
async fn system_trust_rejects_a_self_signed_node() {
    let (cert, key) = self_signed(&["localhost", "127.0.0.1"]);
    let (addr, seen) = common::tls_server(vec![cert], key, version_response()).await;
    let c = tls_client(&format!("https://127.0.0.1:{}", addr.port()), TlsMode::System);
    let err = c.version().await.unwrap_err();
    assert!(matches!(err, PveError::Tls { .. }), "{err:?}");
    assert!(err.to_string().contains("PVE_TLS_FINGERPRINT"), "the error says how to fix it: {err}");
    assert_eq!(seen.count(), 0);
}

#[tokio::test]
async fn insecure_mode_accepts_anything_when_asked_to() {
    let (cert, key) = self_signed(&["whatever.example"]);
    let (addr, seen) = common::tls_server(vec![cert], key, version_response()).await;
    let c = tls_client(&format!("https://{addr}"), TlsMode::Insecure);
    assert!(c.version().await.is_ok());
    assert_eq!(seen.count(), 1);
}

#[tokio::test]
async fn a_pin_mismatch_on_one_endpoint_fails_over_to_a_pinned_one() {
    let (bad_cert, bad_key) = self_signed(&["localhost"]);
    let (good_cert, good_key) = self_signed(&["localhost"]);
    let pin = cert_fingerprint(good_cert.as_ref());
    let (bad_addr, bad_seen) =
        common::tls_server(vec![bad_cert], bad_key, version_response()).await;
    let (good_addr, good_seen) =
        common::tls_server(vec![good_cert], good_key, version_response()).await;
    let mut cfg = common::config(&[format!("https://{bad_addr}"), format!("https://{good_addr}")]);
    cfg.tls = TlsMode::Fingerprints(vec![pin]);
    let c = PveClient::new(cfg).unwrap();
    assert!(c.version().await.is_ok());
    assert_eq!((bad_seen.count(), good_seen.count()), (0, 1));
    assert_eq!(c.current_endpoint(), Some(format!("https://{good_addr}")));
}
