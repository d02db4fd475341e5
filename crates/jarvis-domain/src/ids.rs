//! Validated identifiers that tool arguments and the safety policy are built on: node names,
//! guest ids, systemd service names and storage ids.
//!
//! Each is a newtype whose only constructors validate, and whose serde `Deserialize` is that same
//! validation — so a value of these types is always well formed, and "check the protected list"
//! can only ever run on a parsed value, never on a raw string. The original system was bypassed
//! exactly there: a `vmid` sent as a string slipped past its protection check while the HTTP
//! client still routed the request to the protected guest. [`VmId`] therefore accepts a JSON
//! integer and nothing else.
//!
//! Error messages name the field and the rule, because they go back to the caller (often an LLM)
//! that has to fix its arguments.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A rejected identifier: which field, and the rule it broke.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {rule}")]
pub struct IdError {
    /// The argument name as the caller sees it (`node`, `vmid`, `service`, `storage`).
    pub field: &'static str,
    /// What a valid value looks like, and what was received.
    pub rule: String,
}

/// Shows a rejected value safely: quoted, escaped and cut short, because it came from outside
/// and may be long or contain control characters.
fn shown(value: &str) -> String {
    let cut: String = value.chars().take(40).collect();
    if cut.len() < value.len() { format!("{cut:?}…") } else { format!("{cut:?}") }
}

/// Implements `Deserialize` via `FromStr` and `Serialize`/`Display` via `as_str` for a string
/// newtype, so the wire form and the validated form can never disagree.
macro_rules! string_id {
    ($ty:ident) => {
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $ty {
            type Error = IdError;
            fn try_from(value: String) -> Result<Self, IdError> {
                value.parse()
            }
        }

        impl TryFrom<&str> for $ty {
            type Error = IdError;
            fn try_from(value: &str) -> Result<Self, IdError> {
                value.parse()
            }
        }

        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(d)?;
                raw.parse().map_err(de::Error::custom)
            }
        }
    };
}

/// A Proxmox VE node name. PVE node names are host names: 1–63 characters of ASCII letters,
/// digits and `-`, not starting or ending with `-`.
///
/// Case is preserved and `==` is case-sensitive, because PVE's API paths are (`Home` is not
/// `home`). Protection compares case-insensitively instead ([`NodeName::eq_ignore_case`]), so a
/// protected node cannot be reached by changing the case of its name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeName(String);

impl NodeName {
    /// The rule, as shown in error messages.
    pub const RULE: &'static str = "must be a host name: 1-63 ASCII letters, digits or '-', \
        not starting or ending with '-'";

    /// The name exactly as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True when `other` names the same node ignoring ASCII case (host names are
    /// case-insensitive; this is the comparison protection uses).
    pub fn eq_ignore_case(&self, other: &str) -> bool {
        self.0.eq_ignore_ascii_case(other)
    }
}

impl FromStr for NodeName {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        let ok = (1..=63).contains(&s.len())
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !s.starts_with('-')
            && !s.ends_with('-');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(IdError { field: "node", rule: format!("{} (got {})", Self::RULE, shown(s)) })
        }
    }
}

string_id!(NodeName);

impl JsonSchema for NodeName {
    fn schema_name() -> Cow<'static, str> {
        "NodeName".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "minLength": 1,
            "maxLength": 63,
            "pattern": "^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$",
            "description": "Node name exactly as the cluster reports it (case-sensitive), e.g. pve1."
        })
    }
}

/// A guest id (VMID) of a VM or container: an integer from 100 to 999 999 999.
///
/// On the wire it must be a JSON integer. Strings (`"103"`, `"103abc"`) and fractions (`103.5`)
/// are rejected rather than coerced: coercion is how the original's protection was bypassed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VmId(u32);

impl VmId {
    /// The smallest guest id PVE allows.
    pub const MIN: u32 = 100;
    /// The largest guest id PVE allows.
    pub const MAX: u32 = 999_999_999;

    /// Validates a number as a guest id.
    pub fn new(value: u64) -> Result<Self, IdError> {
        match u32::try_from(value) {
            Ok(v) if (Self::MIN..=Self::MAX).contains(&v) => Ok(Self(v)),
            _ => Err(IdError {
                field: "vmid",
                rule: format!(
                    "must be an integer from {} to {} (got {value})",
                    Self::MIN,
                    Self::MAX
                ),
            }),
        }
    }

    /// The number.
    pub fn get(self) -> u32 {
        self.0
    }
}

impl fmt::Display for VmId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for VmId {
    type Err = IdError;
    /// Parses plain decimal digits (for configuration lists such as `PROTECTED_VMIDS`, never for
    /// tool arguments, which must be JSON integers).
    fn from_str(s: &str) -> Result<Self, IdError> {
        if s.is_empty() || s.len() > 10 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(IdError {
                field: "vmid",
                rule: format!("must be decimal digits (got {})", shown(s)),
            });
        }
        // At most 10 digits always fits in u64.
        Self::new(s.parse::<u64>().unwrap_or(u64::MAX))
    }
}

impl Serialize for VmId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u32(self.0)
    }
}

impl<'de> Deserialize<'de> for VmId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = VmId;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "vmid as a JSON integer from {} to {}", VmId::MIN, VmId::MAX)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<VmId, E> {
                VmId::new(v).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<VmId, E> {
                let v = u64::try_from(v).map_err(|_| {
                    E::custom(format!("vmid: must be an integer from 100 to 999999999 (got {v})"))
                })?;
                VmId::new(v).map_err(E::custom)
            }
            // Every other JSON type (string, float, bool, null, array, object) falls through to
            // serde's "invalid type … expected vmid as a JSON integer" error on purpose.
        }
        d.deserialize_u64(V)
    }
}

impl JsonSchema for VmId {
    fn schema_name() -> Cow<'static, str> {
        "VmId".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "integer",
            "minimum": VmId::MIN,
            "maximum": VmId::MAX,
            "description": "Guest id (VMID) as a JSON integer, e.g. 101."
        })
    }
}

/// systemd unit type suffixes; a name ending in one of these is already a full unit name.
const UNIT_SUFFIXES: &[&str] = &[
    "service",
    "socket",
    "target",
    "device",
    "mount",
    "automount",
    "swap",
    "timer",
    "path",
    "slice",
    "scope",
];

/// A systemd unit name: 1–200 characters of ASCII letters, digits and `@ . _ : -`, not starting
/// with `-` (so it can never be read as an option).
///
/// [`ServiceName::canonical`] is the form protection compares: `docker`, `Docker` and
/// `docker.service` are the same protected service.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServiceName(String);

impl ServiceName {
    /// The rule, as shown in error messages.
    pub const RULE: &'static str = "must be a systemd unit name: 1-200 ASCII letters, digits or \
        '@._:-', not starting with '-'";

    /// The name exactly as given (systemd unit names are case-sensitive, so this is what runs).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Lower-cased, with `.service` appended when the name has no unit suffix. Used for
    /// protection only, where near-variants of a protected name must still match.
    pub fn canonical(&self) -> String {
        let lower = self.0.to_ascii_lowercase();
        if self.unit_suffix().is_some() { lower } else { format!("{lower}.service") }
    }

    /// The unit type suffix (`service`, `timer`, …) when the name has one, lower-cased.
    pub fn unit_suffix(&self) -> Option<&'static str> {
        let (_, ext) = self.0.rsplit_once('.')?;
        UNIT_SUFFIXES.iter().copied().find(|s| s.eq_ignore_ascii_case(ext))
    }

    /// True for a `.service` unit or a bare name (which systemd reads as `.service`).
    pub fn is_service_unit(&self) -> bool {
        matches!(self.unit_suffix(), None | Some("service"))
    }
}

impl FromStr for ServiceName {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        let ok = (1..=200).contains(&s.len())
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"@._:-".contains(&b))
            && !s.starts_with('-');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(IdError { field: "service", rule: format!("{} (got {})", Self::RULE, shown(s)) })
        }
    }
}

string_id!(ServiceName);

impl JsonSchema for ServiceName {
    fn schema_name() -> Cow<'static, str> {
        "ServiceName".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "minLength": 1,
            "maxLength": 200,
            "pattern": "^[A-Za-z0-9@._:][A-Za-z0-9@._:-]{0,199}$",
            "description": "systemd service name, e.g. pveproxy or pveproxy.service."
        })
    }
}

/// A PVE storage id (`local`, `local-lvm`, `nfs-backup`): 1–100 characters of ASCII letters,
/// digits and `. _ -`, starting with a letter. It becomes a URL path segment, so `/`, `..` at the
/// start and anything else structural are excluded.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StorageId(String);

impl StorageId {
    /// The rule, as shown in error messages.
    pub const RULE: &'static str =
        "must be a storage id: 1-100 ASCII letters, digits or '._-', starting with a letter";

    /// The id exactly as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for StorageId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        let ok = (1..=100).contains(&s.len())
            && s.starts_with(|c: char| c.is_ascii_alphabetic())
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(IdError { field: "storage", rule: format!("{} (got {})", Self::RULE, shown(s)) })
        }
    }
}

string_id!(StorageId);

impl JsonSchema for StorageId {
    fn schema_name() -> Cow<'static, str> {
        "StorageId".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "minLength": 1,
            "maxLength": 100,
            "pattern": "^[A-Za-z][A-Za-z0-9._-]{0,99}$",
            "description": "Storage id as configured in PVE, e.g. local or nfs-backup."
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn node_names_follow_host_name_rules() {
        for ok in ["pve1", "Home", "a", "node-2", &"x".repeat(63)] {
            assert_eq!(ok.parse::<NodeName>().unwrap().as_str(), ok);
        }
        for bad in
            ["", "-pve", "pve-", "pve 1", "pve_1", "pve.lan", "pve/..", "pvé", &"x".repeat(64)]
        {
            let e = bad.parse::<NodeName>().unwrap_err();
            assert_eq!(e.field, "node", "{bad}");
        }
    }

    #[test]
    fn node_names_compare_case_sensitively_but_protect_case_insensitively() {
        let home: NodeName = "Home".parse().unwrap();
        assert_ne!(home, "home".parse().unwrap());
        assert!(home.eq_ignore_case("HOME"));
    }

    #[test]
    fn vmid_must_be_a_json_integer_in_range() {
        assert_eq!(serde_json::from_value::<VmId>(json!(103)).unwrap().get(), 103);
        assert_eq!(serde_json::from_value::<VmId>(json!(999_999_999)).unwrap().get(), 999_999_999);
        for bad in [
            json!("103"),
            json!("103abc"),
            json!(103.5),
            json!(103.0),
            json!(99),
            json!(-103),
            json!(1_000_000_000u64),
            json!(u64::MAX),
            json!(null),
            json!(true),
            json!([103]),
            json!({"vmid": 103}),
        ] {
            let e = serde_json::from_value::<VmId>(bad.clone()).unwrap_err().to_string();
            assert!(e.contains("vmid"), "{bad} -> {e}");
        }
    }

    #[test]
    fn vmid_from_str_is_digits_only() {
        assert_eq!("100".parse::<VmId>().unwrap().get(), 100);
        for bad in ["", "+100", "100 ", "0x64", "1e3", "99", "99999999999"] {
            assert!(bad.parse::<VmId>().is_err(), "{bad}");
        }
    }

    #[test]
    fn service_canonical_form_merges_near_variants() {
        let c = |s: &str| s.parse::<ServiceName>().unwrap().canonical();
        assert_eq!(c("docker"), "docker.service");
        assert_eq!(c("Docker"), "docker.service");
        assert_eq!(c("docker.service"), "docker.service");
        assert_eq!(c("DOCKER.SERVICE"), "docker.service");
        assert_eq!(c("docker.socket"), "docker.socket");
        assert_eq!(c("getty@tty1"), "getty@tty1.service");
        assert_eq!(c("pve.foo"), "pve.foo.service");
    }

    #[test]
    fn service_names_reject_options_and_shell_syntax() {
        for bad in ["", "-docker", "docker;id", "a b", "a/b", "dock$er", &"x".repeat(201)] {
            assert_eq!(bad.parse::<ServiceName>().unwrap_err().field, "service", "{bad}");
        }
        let t: ServiceName = "reboot.target".parse().unwrap();
        assert!(!t.is_service_unit());
        assert!("pveproxy".parse::<ServiceName>().unwrap().is_service_unit());
    }

    #[test]
    fn deserialize_reports_field_and_rule() {
        let e = serde_json::from_value::<NodeName>(json!("bad node")).unwrap_err().to_string();
        assert!(e.starts_with("node: must be a host name"), "{e}");
        let e = serde_json::from_value::<StorageId>(json!("../x")).unwrap_err().to_string();
        assert!(e.starts_with("storage: "), "{e}");
    }

    #[test]
    fn storage_ids() {
        for ok in ["local", "local-lvm", "nfs_backup.1"] {
            assert!(ok.parse::<StorageId>().is_ok(), "{ok}");
        }
        for bad in ["", "1local", "-x", "a/b", ".."] {
            assert!(bad.parse::<StorageId>().is_err(), "{bad}");
        }
    }
}
