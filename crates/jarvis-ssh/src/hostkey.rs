//! Host-key verification: OpenSSH-style fingerprints, and the three [`HostKeyPolicy`] modes
//! applied to the key a server presents during the handshake (before any credential is sent).

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;
use russh::keys::{Algorithm, HashAlg, PublicKey};

use crate::known_hosts::{self, Verdict};
use crate::{HostKeyPolicy, HostTarget, SshError};

/// The key's SHA-256 fingerprint as OpenSSH prints it (`SHA256:` + unpadded base64), the same
/// text `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` shows on the node.
pub fn fingerprint(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

/// Applies one [`HostKeyPolicy`]; shared by every connection of a pool.
#[derive(Debug)]
pub(crate) struct HostKeyVerifier {
    policy: HostKeyPolicy,
    /// Serialises read-modify-write of the TOFU pin file within this process.
    pin_lock: Mutex<()>,
}

impl HostKeyVerifier {
    pub(crate) fn new(policy: HostKeyPolicy) -> Self {
        Self { policy, pin_lock: Mutex::new(()) }
    }

    /// Names a `known_hosts` file may list the target under: its address, then its node name.
    fn names(target: &HostTarget) -> Vec<String> {
        let mut names = vec![known_hosts::lookup_name(&target.host, target.port)];
        if !target.node.is_empty() && !target.node.eq_ignore_ascii_case(&target.host) {
            names.push(known_hosts::lookup_name(&target.node, target.port));
        }
        names
    }

    /// Host-key algorithms already trusted for `target`, most useful first, so the handshake
    /// asks the server for a key we can actually check (as OpenSSH does).
    pub(crate) fn preferred_algorithms(&self, target: &HostTarget) -> Vec<Algorithm> {
        match &self.policy {
            HostKeyPolicy::KnownHosts(path) => match fs::read_to_string(path) {
                Ok(text) => {
                    known_hosts::known_algorithms(&known_hosts::parse(&text), &Self::names(target))
                }
                Err(_) => Vec::new(),
            },
            _ => Vec::new(),
        }
    }

    /// `Ok(())` when `key` may be trusted for `target`; the refusal otherwise.
    pub(crate) fn verify(&self, target: &HostTarget, key: &PublicKey) -> Result<(), SshError> {
        let host = target.to_string();
        let got = fingerprint(key);
        match &self.policy {
            HostKeyPolicy::AcceptAny => {
                tracing::warn!(%host, fingerprint = %got, "host key accepted without verification (AcceptAny)");
                Ok(())
            }
            HostKeyPolicy::KnownHosts(path) => {
                let text = fs::read_to_string(path).map_err(|e| SshError::Connect {
                    host: host.clone(),
                    detail: format!("cannot read known_hosts file {}: {e}", path.display()),
                })?;
                match known_hosts::check(&known_hosts::parse(&text), &Self::names(target), key) {
                    Verdict::Trusted => Ok(()),
                    Verdict::Unknown => Err(SshError::UnknownHostKey { host, fingerprint: got }),
                    Verdict::Mismatch(expected) => Err(SshError::HostKeyMismatch {
                        host,
                        expected: expected.join(" or "),
                        got,
                    }),
                    Verdict::Revoked => Err(SshError::HostKeyMismatch {
                        host,
                        expected: "a key not marked @revoked in known_hosts".into(),
                        got,
                    }),
                }
            }
            HostKeyPolicy::TrustOnFirstUse(path) => self.verify_pinned(path, target, got),
        }
    }

    fn verify_pinned(&self, path: &Path, target: &HostTarget, got: String) -> Result<(), SshError> {
        let host = target.to_string();
        let store_err = |detail: String| SshError::Connect { host: host.clone(), detail };
        let _guard = self.pin_lock.lock();
        let mut pins = read_pins(path).map_err(store_err)?;
        let address = target.address();
        match pins.get(&address) {
            Some(expected) if *expected == got => Ok(()),
            Some(expected) => {
                Err(SshError::HostKeyMismatch { host, expected: expected.clone(), got })
            }
            None => {
                tracing::info!(%host, fingerprint = %got, pin_file = %path.display(), "pinning host key on first use");
                pins.insert(address, got);
                write_pins(path, &pins).map_err(store_err)
            }
        }
    }
}

fn read_pins(path: &Path) -> Result<BTreeMap<String, String>, String> {
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(e) => return Err(format!("cannot read host-key pin file {}: {e}", path.display())),
    };
    if text.trim().is_empty() {
        return Ok(BTreeMap::new());
    }
    serde_json::from_str(&text).map_err(|e| {
        format!(
            "host-key pin file {} is not a JSON object of \"host:port\": \"SHA256:…\" ({e}); fix \
             or remove it",
            path.display()
        )
    })
}

/// Writes the pins to a temp file beside `path`, syncs it, then renames it over `path`, so a
/// crash leaves either the old or the new file, never a torn one.
fn write_pins(path: &Path, pins: &BTreeMap<String, String>) -> Result<(), String> {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let fail =
        |e: std::io::Error| format!("cannot write host-key pin file {}: {e}", path.display());
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).map_err(fail)?;
    }
    let mut tmp_name = path.file_name().unwrap_or_default().to_os_string();
    tmp_name.push(format!(".tmp-{}-{}", std::process::id(), SEQ.fetch_add(1, Ordering::Relaxed)));
    let tmp: PathBuf = path.with_file_name(tmp_name);
    let body = serde_json::to_string_pretty(pins).map_err(|e| e.to_string())?;
    let result = (|| {
        let mut file = fs::File::create(&tmp)?;
        file.write_all(body.as_bytes())?;
        file.write_all(b"\n")?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ED_A: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIJdD7y3aLq454yWBdwLWbieU1ebz9/cu7/QEXn9OIeZJ";
    const ED_B: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIA6rWI3G1sz07DnfFlrouTcysQlj2P+jpNSOEWD9OJ3X";

    fn key(b64: &str) -> PublicKey {
        russh::keys::parse_public_key_base64(b64).unwrap()
    }

    #[test]
    fn fingerprint_is_openssh_style() {
        let fp = fingerprint(&key(ED_A));
        assert!(fp.starts_with("SHA256:"), "{fp}");
        assert_eq!(fp.len(), "SHA256:".len() + 43, "unpadded base64 of 32 bytes: {fp}");
        assert_ne!(fp, fingerprint(&key(ED_B)));
    }

    #[test]
    fn tofu_pins_first_key_and_refuses_a_different_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/pins.json");
        let v = HostKeyVerifier::new(HostKeyPolicy::TrustOnFirstUse(path.clone()));
        let t = HostTarget::new("pve1", "10.0.0.1", 22);
        v.verify(&t, &key(ED_A)).unwrap();
        let pins: BTreeMap<String, String> =
            serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(pins.get("10.0.0.1:22"), Some(&fingerprint(&key(ED_A))));
        v.verify(&t, &key(ED_A)).unwrap();
        match v.verify(&t, &key(ED_B)) {
            Err(SshError::HostKeyMismatch { expected, got, .. }) => {
                assert_eq!(expected, fingerprint(&key(ED_A)));
                assert_eq!(got, fingerprint(&key(ED_B)));
            }
            other => panic!("{other:?}"),
        }
        // Another host gets its own pin; the first one is kept.
        v.verify(&HostTarget::new("pve2", "10.0.0.2", 22), &key(ED_B)).unwrap();
        let pins: BTreeMap<String, String> =
            serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(pins.len(), 2);
        // No temp files are left behind.
        assert_eq!(fs::read_dir(path.parent().unwrap()).unwrap().count(), 1);
    }

    #[test]
    fn corrupt_pin_file_refuses_instead_of_overwriting() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pins.json");
        fs::write(&path, "not json").unwrap();
        let v = HostKeyVerifier::new(HostKeyPolicy::TrustOnFirstUse(path.clone()));
        let err = v.verify(&HostTarget::new("pve1", "10.0.0.1", 22), &key(ED_A)).unwrap_err();
        assert!(matches!(err, SshError::Connect { .. }), "{err:?}");
        assert_eq!(fs::read_to_string(&path).unwrap(), "not json");
    }

    #[test]
    fn known_hosts_missing_file_refuses() {
        let v = HostKeyVerifier::new(HostKeyPolicy::KnownHosts("/nonexistent/known_hosts".into()));
        let err = v.verify(&HostTarget::new("pve1", "10.0.0.1", 22), &key(ED_A)).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/known_hosts"), "{err}");
    }

    #[test]
    fn known_hosts_matches_by_node_name_too() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("known_hosts");
        fs::write(&path, format!("pve1 ssh-ed25519 {ED_A}\n")).unwrap();
        let v = HostKeyVerifier::new(HostKeyPolicy::KnownHosts(path));
        let t = HostTarget::new("pve1", "10.0.0.1", 22);
        v.verify(&t, &key(ED_A)).unwrap();
        assert_eq!(v.preferred_algorithms(&t), vec![Algorithm::Ed25519]);
        let err = v.verify(&t, &key(ED_B)).unwrap_err();
        assert!(matches!(err, SshError::HostKeyMismatch { .. }), "{err:?}");
        let err = v.verify(&HostTarget::new("pve2", "10.0.0.2", 22), &key(ED_A)).unwrap_err();
        match err {
            SshError::UnknownHostKey { fingerprint: fp, .. } => {
                assert_eq!(fp, fingerprint(&key(ED_A)))
            }
            other => panic!("{other:?}"),
        }
    }
}
