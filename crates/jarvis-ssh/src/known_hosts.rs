//! OpenSSH `known_hosts` parsing and lookup, as `ssh` itself does it: plain and hashed (`|1|`)
//! host fields, `[host]:port` for ports other than 22, `*`/`?` wildcards, `!` negation, and the
//! `@revoked` / `@cert-authority` markers. Malformed lines are skipped (with a warning), like
//! OpenSSH does, rather than making the whole file unusable.

use data_encoding::BASE64;
use hmac::{Hmac, KeyInit, Mac};
use russh::keys::{Algorithm, PublicKey};
use sha1::Sha1;

/// One usable line of the file.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    marker: Option<Marker>,
    hosts: HostField,
    key: PublicKey,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Marker {
    Revoked,
    CertAuthority,
}

#[derive(Debug, Clone)]
enum HostField {
    Hashed { salt: Vec<u8>, hash: Vec<u8> },
    Patterns(Vec<String>),
}

/// What the file says about a presented key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// A matching entry has exactly this key.
    Trusted,
    /// The key is listed as `@revoked` for this host.
    Revoked,
    /// The host is known, with other keys (their fingerprints).
    Mismatch(Vec<String>),
    /// No entry names this host.
    Unknown,
}

/// The name OpenSSH looks up for `host` on `port`: `host` for 22, `[host]:port` otherwise.
pub(crate) fn lookup_name(host: &str, port: u16) -> String {
    let host = host.to_ascii_lowercase();
    if port == 22 { host } else { format!("[{host}]:{port}") }
}

/// Parses a whole file; unusable lines are skipped.
pub(crate) fn parse(text: &str) -> Vec<Entry> {
    text.lines()
        .enumerate()
        .filter_map(|(i, line)| match parse_line(line) {
            Ok(entry) => entry,
            Err(why) => {
                tracing::warn!(line = i + 1, "skipping malformed known_hosts line: {why}");
                None
            }
        })
        .collect()
}

fn parse_line(line: &str) -> Result<Option<Entry>, String> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return Ok(None);
    }
    let mut fields = line.split_whitespace();
    let mut first = fields.next().ok_or("empty line")?;
    let marker = match first {
        "@revoked" => Some(Marker::Revoked),
        "@cert-authority" => Some(Marker::CertAuthority),
        m if m.starts_with('@') => return Err(format!("unknown marker {m}")),
        _ => None,
    };
    if marker.is_some() {
        first = fields.next().ok_or("marker without hosts")?;
    }
    let _key_type = fields.next().ok_or("missing key type")?;
    let blob = fields.next().ok_or("missing key")?;
    let key = russh::keys::parse_public_key_base64(blob).map_err(|e| format!("bad key: {e}"))?;
    Ok(Some(Entry { marker, hosts: parse_hosts(first)?, key }))
}

fn parse_hosts(field: &str) -> Result<HostField, String> {
    if let Some(rest) = field.strip_prefix("|1|") {
        let (salt, hash) = rest.split_once('|').ok_or("bad hashed host")?;
        let salt = BASE64.decode(salt.as_bytes()).map_err(|e| format!("bad salt: {e}"))?;
        let hash = BASE64.decode(hash.as_bytes()).map_err(|e| format!("bad hash: {e}"))?;
        return Ok(HostField::Hashed { salt, hash });
    }
    Ok(HostField::Patterns(
        field.split(',').filter(|p| !p.is_empty()).map(str::to_ascii_lowercase).collect(),
    ))
}

impl Entry {
    fn matches_any(&self, names: &[String]) -> bool {
        names.iter().any(|n| self.matches(n))
    }

    fn matches(&self, name: &str) -> bool {
        match &self.hosts {
            HostField::Hashed { salt, hash } => {
                let Ok(mac) = Hmac::<Sha1>::new_from_slice(salt) else {
                    return false;
                };
                mac.chain_update(name.as_bytes()).verify_slice(hash).is_ok()
            }
            HostField::Patterns(patterns) => {
                let mut positive = false;
                for p in patterns {
                    if let Some(neg) = p.strip_prefix('!') {
                        if glob(neg.as_bytes(), name.as_bytes()) {
                            return false;
                        }
                    } else if glob(p.as_bytes(), name.as_bytes()) {
                        positive = true;
                    }
                }
                positive
            }
        }
    }
}

/// `*` matches any run, `?` one byte; everything else literally (names are lower-cased).
fn glob(pattern: &[u8], name: &[u8]) -> bool {
    let (mut p, mut n) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while n < name.len() {
        match pattern.get(p) {
            Some(b'*') => {
                backtrack = Some((p, n));
                p += 1;
            }
            Some(&c) if c == b'?' || c == name[n] => {
                p += 1;
                n += 1;
            }
            _ => match backtrack {
                Some((bp, bn)) => {
                    p = bp + 1;
                    n = bn + 1;
                    backtrack = Some((bp, bn + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p.min(pattern.len())..].iter().all(|&c| c == b'*')
}

/// Checks `key` for a host known under any of `names` (see [`lookup_name`]).
pub(crate) fn check(entries: &[Entry], names: &[String], key: &PublicKey) -> Verdict {
    let relevant: Vec<&Entry> = entries
        .iter()
        .filter(|e| e.marker != Some(Marker::CertAuthority) && e.matches_any(names))
        .collect();
    if relevant
        .iter()
        .any(|e| e.marker == Some(Marker::Revoked) && e.key.key_data() == key.key_data())
    {
        return Verdict::Revoked;
    }
    let known: Vec<&&Entry> = relevant.iter().filter(|e| e.marker.is_none()).collect();
    if known.iter().any(|e| e.key.key_data() == key.key_data()) {
        return Verdict::Trusted;
    }
    if known.is_empty() {
        return Verdict::Unknown;
    }
    Verdict::Mismatch(known.iter().map(|e| crate::hostkey::fingerprint(&e.key)).collect())
}

/// Key algorithms recorded for the host, so the handshake can ask for one of them first.
pub(crate) fn known_algorithms(entries: &[Entry], names: &[String]) -> Vec<Algorithm> {
    let mut out: Vec<Algorithm> = Vec::new();
    for e in entries {
        if e.marker.is_none() && e.matches_any(names) {
            let alg = e.key.algorithm();
            if !out.contains(&alg) {
                out.push(alg);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const ED_A: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIJdD7y3aLq454yWBdwLWbieU1ebz9/cu7/QEXn9OIeZJ";
    const ED_B: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIA6rWI3G1sz07DnfFlrouTcysQlj2P+jpNSOEWD9OJ3X";

    fn key(b64: &str) -> PublicKey {
        russh::keys::parse_public_key_base64(b64).unwrap()
    }

    fn hashed(name: &str, salt: &[u8]) -> String {
        let mac = Hmac::<Sha1>::new_from_slice(salt)
            .unwrap()
            .chain_update(name.as_bytes())
            .finalize()
            .into_bytes();
        format!("|1|{}|{}", BASE64.encode(salt), BASE64.encode(&mac))
    }

    fn names(host: &str, port: u16) -> Vec<String> {
        vec![lookup_name(host, port)]
    }

    #[test]
    fn lookup_name_uses_brackets_for_non_default_ports() {
        assert_eq!(lookup_name("PVE1", 22), "pve1");
        assert_eq!(lookup_name("10.0.0.1", 2222), "[10.0.0.1]:2222");
    }

    #[test]
    fn plain_entry_with_port_is_trusted_and_other_key_is_mismatch() {
        let file = format!("# comment\n[10.0.0.1]:2222,pve1 ssh-ed25519 {ED_A} root@pve1\n");
        let entries = parse(&file);
        assert_eq!(check(&entries, &names("10.0.0.1", 2222), &key(ED_A)), Verdict::Trusted);
        assert_eq!(check(&entries, &names("pve1", 22), &key(ED_A)), Verdict::Trusted);
        match check(&entries, &names("10.0.0.1", 2222), &key(ED_B)) {
            Verdict::Mismatch(fps) => assert_eq!(fps, vec![crate::fingerprint(&key(ED_A))]),
            other => panic!("{other:?}"),
        }
        // Same address on the default port is another host for OpenSSH.
        assert_eq!(check(&entries, &names("10.0.0.1", 22), &key(ED_A)), Verdict::Unknown);
    }

    #[test]
    fn hashed_entries_match_only_their_host() {
        let file =
            format!("{} ssh-ed25519 {ED_A}\n", hashed("[10.0.0.1]:2222", b"0123456789abcdefghij"));
        let entries = parse(&file);
        assert_eq!(check(&entries, &names("10.0.0.1", 2222), &key(ED_A)), Verdict::Trusted);
        assert_eq!(check(&entries, &names("10.0.0.2", 2222), &key(ED_A)), Verdict::Unknown);
    }

    #[test]
    fn wildcards_negation_and_markers() {
        let file = format!(
            "10.0.0.*,!10.0.0.9 ssh-ed25519 {ED_A}\n@revoked 10.0.0.5 ssh-ed25519 {ED_A}\n\
             @cert-authority * ssh-ed25519 {ED_B}\n"
        );
        let entries = parse(&file);
        assert_eq!(check(&entries, &names("10.0.0.7", 22), &key(ED_A)), Verdict::Trusted);
        assert_eq!(check(&entries, &names("10.0.0.9", 22), &key(ED_A)), Verdict::Unknown);
        assert_eq!(check(&entries, &names("10.0.0.5", 22), &key(ED_A)), Verdict::Revoked);
        // A CA line is not a host key.
        assert_eq!(check(&entries, &names("other", 22), &key(ED_B)), Verdict::Unknown);
    }

    #[test]
    fn malformed_lines_are_skipped_and_tabs_are_separators() {
        let file = format!(
            "garbage\n@weird x y z\nhost ssh-ed25519 notbase64!!\nhost\tssh-ed25519\t{ED_A}\n"
        );
        let entries = parse(&file);
        assert_eq!(entries.len(), 1);
        assert_eq!(check(&entries, &names("host", 22), &key(ED_A)), Verdict::Trusted);
    }

    #[test]
    fn glob_semantics() {
        assert!(glob(b"*", b"anything"));
        assert!(glob(b"pve?", b"pve1"));
        assert!(!glob(b"pve?", b"pve12"));
        assert!(glob(b"*.lan", b"pve1.lan"));
        assert!(glob(b"p*e*1", b"pve-node-1"));
        assert!(!glob(b"p*e*1", b"pve-node-2"));
        assert!(glob(b"", b"") && !glob(b"", b"a"));
    }

    #[test]
    fn known_algorithms_lists_recorded_types_for_the_host() {
        let file = format!("pve1 ssh-ed25519 {ED_A}\nother ssh-ed25519 {ED_B}\n");
        let entries = parse(&file);
        assert_eq!(known_algorithms(&entries, &names("pve1", 22)), vec![Algorithm::Ed25519]);
        assert!(known_algorithms(&entries, &names("nope", 22)).is_empty());
    }
}
