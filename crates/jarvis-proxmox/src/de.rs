//! Lenient serde helpers for PVE's loosely typed JSON.
//!
//! PVE is written in Perl, and its JSON shows it: numbers sometimes arrive as strings
//! (`"vmid": "106"`, `"mhz": "3400.000"`), booleans as `0`/`1`, `"0"`/`"1"` or `true`/`false`,
//! and most fields are optional. This module owns the deserializers that absorb all of that so
//! the models in [`crate::models`] can stay plain.
//!
//! Two families:
//! - strict-ish (`u64_lenient`, `f64_lenient`, `bool_lenient`): accept every spelling, but
//!   reject garbage with an error (use for values that must be there);
//! - optional (`opt_*`): `null`, a missing field (with `#[serde(default)]`) **and unparsable
//!   garbage** all become `None`, so one odd field never fails a whole list.
//!
//! [`lenient_vec`] goes one step further for lists: an element that does not fit the model is
//! skipped (and logged) instead of failing the whole response.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeOwned, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// Any JSON scalar, as PVE might send it. Maps and arrays are consumed and reported as `Other`.
#[derive(Debug, Clone, PartialEq)]
enum Scalar {
    U(u64),
    I(i64),
    F(f64),
    S(String),
    B(bool),
    Null,
    Other,
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number, string, boolean or null")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
        Ok(Scalar::B(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
        Ok(Scalar::U(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
        Ok(Scalar::I(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
        Ok(Scalar::F(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
        Ok(Scalar::S(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Scalar, E> {
        Ok(Scalar::S(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Scalar, E> {
        Ok(Scalar::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Scalar, E> {
        Ok(Scalar::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Scalar, D::Error> {
        d.deserialize_any(ScalarVisitor)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Scalar::Other)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Scalar::Other)
    }
}

fn scalar<'de, D: Deserializer<'de>>(d: D) -> Result<Scalar, D::Error> {
    d.deserialize_any(ScalarVisitor)
}

impl Scalar {
    fn as_u64(&self) -> Option<u64> {
        match self {
            Self::U(v) => Some(*v),
            // Negative counters make no sense in PVE; treat them as absent rather than wrap.
            Self::I(v) => u64::try_from(*v).ok(),
            Self::F(v) => f64_to_u64(*v),
            Self::S(s) => parse_u64_str(s),
            Self::B(b) => Some(u64::from(*b)),
            Self::Null | Self::Other => None,
        }
    }

    fn as_f64(&self) -> Option<f64> {
        let v = match self {
            // u64 → f64 may round for huge values; PVE's floats are loads and fractions.
            #[allow(clippy::cast_precision_loss)]
            Self::U(v) => *v as f64,
            #[allow(clippy::cast_precision_loss)]
            Self::I(v) => *v as f64,
            Self::F(v) => *v,
            Self::S(s) => s.trim().parse::<f64>().ok()?,
            Self::B(b) => f64::from(u8::from(*b)),
            Self::Null | Self::Other => return None,
        };
        v.is_finite().then_some(v)
    }

    fn as_bool(&self) -> Option<bool> {
        match self {
            Self::B(b) => Some(*b),
            Self::U(v) => Some(*v != 0),
            Self::I(v) => Some(*v != 0),
            Self::F(v) => Some(*v != 0.0),
            Self::S(s) => match s.trim().to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" | "on" => Some(true),
                "0" | "false" | "no" | "off" | "" => Some(false),
                _ => None,
            },
            Self::Null | Self::Other => None,
        }
    }

    fn into_string(self) -> Option<String> {
        match self {
            Self::S(s) => Some(s),
            Self::U(v) => Some(v.to_string()),
            Self::I(v) => Some(v.to_string()),
            Self::F(v) => Some(v.to_string()),
            Self::B(b) => Some(if b { "1" } else { "0" }.to_owned()),
            Self::Null | Self::Other => None,
        }
    }

    fn describe(&self) -> String {
        match self {
            Self::S(s) => format!("string {s:?}"),
            Self::Null => "null".to_owned(),
            Self::Other => "an object or array".to_owned(),
            other => format!("{other:?}"),
        }
    }
}

/// Parses `"123"`, `" 123 "`, `"123.0"` (a float string with no fraction) as a u64.
fn parse_u64_str(s: &str) -> Option<u64> {
    let s = s.trim();
    if let Ok(v) = s.parse::<u64>() {
        return Some(v);
    }
    s.parse::<f64>().ok().and_then(f64_to_u64)
}

/// Converts a non-negative finite float to u64, rounding to the nearest integer.
fn f64_to_u64(v: f64) -> Option<u64> {
    // 2^64 as f64; anything at or above cannot be represented.
    const LIMIT: f64 = 18_446_744_073_709_551_616.0;
    if !(0.0..LIMIT).contains(&v) {
        return None;
    }
    // In range and finite, so the cast is exact up to rounding.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    Some(v.round() as u64)
}

fn invalid<E: de::Error>(s: &Scalar, what: &str) -> E {
    E::custom(format_args!("expected {what}, got {}", s.describe()))
}

/// A u64 given as a number or a decimal string. Errors on anything else.
pub fn u64_lenient<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let s = scalar(d)?;
    s.as_u64().ok_or_else(|| invalid(&s, "an unsigned integer"))
}

/// An f64 given as a number or a numeric string. Errors on anything else.
pub fn f64_lenient<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    let s = scalar(d)?;
    s.as_f64().ok_or_else(|| invalid(&s, "a number"))
}

/// A bool given as `true`/`false`, `0`/`1` or a string of either. Errors on anything else.
pub fn bool_lenient<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    let s = scalar(d)?;
    s.as_bool().ok_or_else(|| invalid(&s, "a boolean"))
}

/// Optional u64: null, absent or unparsable → `None`.
pub fn opt_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(scalar(d)?.as_u64())
}

/// Optional u32 (vmids, counts): null, absent, unparsable or out of range → `None`.
pub fn opt_u32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    Ok(scalar(d)?.as_u64().and_then(|v| u32::try_from(v).ok()))
}

/// Optional f64: null, absent, unparsable or non-finite → `None`.
pub fn opt_f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    Ok(scalar(d)?.as_f64())
}

/// Optional bool: null, absent or unparsable → `None`.
pub fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(scalar(d)?.as_bool())
}

/// Optional string that also accepts numbers and booleans (PVE sends ids both ways).
/// Objects and arrays become `None`.
pub fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(scalar(d)?.into_string())
}

/// A list of f64 where each item may be a number or a numeric string (`loadavg` is
/// `["0.15","0.25","0.30"]`). Unparsable items are dropped; a non-list becomes empty.
pub fn vec_f64_lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    Ok(match v {
        serde_json::Value::Array(items) => {
            items.iter().filter_map(|i| Scalar::from_json(i).as_f64()).collect()
        }
        serde_json::Value::Null => Vec::new(),
        other => Scalar::from_json(&other).as_f64().into_iter().collect(),
    })
}

/// An optional nested object: if it does not fit `T` (PVE changed its shape, or sent a
/// string), it becomes `None` instead of failing the enclosing payload.
pub fn opt_object<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    let v = serde_json::Value::deserialize(d)?;
    if v.is_null() {
        return Ok(None);
    }
    Ok(serde_json::from_value(v).ok())
}

/// A list whose elements are deserialized one by one: an element that does not fit `T` is
/// skipped with a warning instead of failing the whole list (one odd resource must never
/// blank the dashboard). `null` becomes an empty list.
pub fn lenient_vec<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    let v = serde_json::Value::deserialize(d)?;
    let items = match v {
        serde_json::Value::Array(items) => items,
        serde_json::Value::Null => return Ok(Vec::new()),
        other => {
            return Err(de::Error::custom(format_args!(
                "expected a list, got {}",
                json_kind(&other)
            )));
        }
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        match serde_json::from_value::<T>(item) {
            Ok(t) => out.push(t),
            Err(e) => {
                tracing::warn!(index = i, error = %e, "skipping a PVE list entry that does not parse")
            }
        }
    }
    Ok(out)
}

fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "a list",
        serde_json::Value::Object(_) => "an object",
    }
}

impl Scalar {
    fn from_json(v: &serde_json::Value) -> Self {
        match v {
            serde_json::Value::Null => Self::Null,
            serde_json::Value::Bool(b) => Self::B(*b),
            serde_json::Value::Number(n) => {
                if let Some(u) = n.as_u64() {
                    Self::U(u)
                } else if let Some(i) = n.as_i64() {
                    Self::I(i)
                } else {
                    n.as_f64().map_or(Self::Other, Self::F)
                }
            }
            serde_json::Value::String(s) => Self::S(s.clone()),
            serde_json::Value::Array(_) | serde_json::Value::Object(_) => Self::Other,
        }
    }
}

/// Splits a PVE tag string. PVE separates tags with `;` (and older versions with `,` or
/// spaces, as `PVE::Tools::split_list` does), so split on all three and drop empties.
/// `+`, `-`, `.` and `_` are valid inside a tag and are kept.
pub fn split_tags(raw: &str) -> Vec<String> {
    raw.split(|c: char| c == ';' || c == ',' || c.is_whitespace())
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Splits a comma-separated PVE list (storage `content`, `nodes`), trimming and dropping empties.
pub fn split_list(raw: &str) -> Vec<String> {
    raw.split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde::Deserialize;

    #[derive(Deserialize, Debug)]
    struct T {
        #[serde(deserialize_with = "u64_lenient")]
        n: u64,
        #[serde(default, deserialize_with = "opt_u64")]
        o: Option<u64>,
        #[serde(default, deserialize_with = "opt_bool")]
        b: Option<bool>,
        #[serde(default, deserialize_with = "opt_f64")]
        f: Option<f64>,
        #[serde(default, deserialize_with = "opt_string")]
        s: Option<String>,
    }

    fn parse(json: &str) -> Result<T, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn accepts_every_spelling() {
        let t = parse(r#"{"n":"42","o":7.0,"b":"1","f":"3400.000","s":12}"#).unwrap();
        assert_eq!(
            (t.n, t.o, t.b, t.f, t.s.as_deref()),
            (42, Some(7), Some(true), Some(3400.0), Some("12"))
        );
        let t = parse(r#"{"n":42,"b":0}"#).unwrap();
        assert_eq!((t.n, t.o, t.b, t.f, t.s), (42, None, Some(false), None, None));
        let t = parse(r#"{"n":1,"b":true,"o":null,"f":null,"s":null}"#).unwrap();
        assert_eq!((t.b, t.o, t.f, t.s), (Some(true), None, None, None));
    }

    #[test]
    fn optional_garbage_is_none_but_required_garbage_errors() {
        let t = parse(r#"{"n":1,"o":"N/A","b":"maybe","f":{},"s":[1]}"#).unwrap();
        assert_eq!((t.o, t.b, t.f, t.s), (None, None, None, None));
        let e = parse(r#"{"n":"lots"}"#).unwrap_err().to_string();
        assert!(e.contains("expected an unsigned integer"), "{e}");
        assert!(parse(r#"{"n":-1}"#).is_err());
    }

    #[test]
    fn tags_and_lists_split() {
        assert_eq!(split_tags("prod;web"), ["prod", "web"]);
        assert_eq!(split_tags("a, b c;;"), ["a", "b", "c"]);
        assert_eq!(split_tags("go-proxmox+cloud-init"), ["go-proxmox+cloud-init"]);
        assert!(split_tags("").is_empty());
        assert_eq!(split_list("images, rootdir,,"), ["images", "rootdir"]);
    }

    #[test]
    fn lenient_vec_skips_bad_entries() {
        #[derive(Deserialize)]
        struct W {
            #[serde(deserialize_with = "lenient_vec")]
            v: Vec<T>,
        }
        let w: W = serde_json::from_str(r#"{"v":[{"n":1},{"n":"x"},"junk",{"n":"3"}]}"#).unwrap();
        assert_eq!(w.v.iter().map(|t| t.n).collect::<Vec<_>>(), [1, 3]);
    }

    proptest! {
        #[test]
        fn any_u64_as_number_or_string(n in any::<u64>()) {
            prop_assert_eq!(parse(&format!(r#"{{"n":{n}}}"#)).unwrap().n, n);
            prop_assert_eq!(parse(&format!(r#"{{"n":"{n}"}}"#)).unwrap().n, n);
            prop_assert_eq!(parse(&format!(r#"{{"n":0,"o":"{n}"}}"#)).unwrap().o, Some(n));
        }

        #[test]
        fn any_bool_spelling(b in any::<bool>()) {
            let i = u8::from(b);
            for spelling in [format!("{b}"), format!("{i}"), format!("\"{i}\""), format!("\"{b}\"")] {
                prop_assert_eq!(parse(&format!(r#"{{"n":0,"b":{spelling}}}"#)).unwrap().b, Some(b));
            }
        }

        #[test]
        fn any_finite_f64_as_number_or_string(f in -1.0e12f64..1.0e12) {
            let t = parse(&format!(r#"{{"n":0,"f":"{f}"}}"#)).unwrap();
            prop_assert_eq!(t.f, Some(f));
            // serde_json's default float parser may be one ULP off; the string path is exact.
            let t = parse(&format!(r#"{{"n":0,"f":{f}}}"#)).unwrap().f.unwrap();
            prop_assert!((t - f).abs() <= f.abs() * 1e-15);
        }

        #[test]
        fn never_panics_on_arbitrary_strings(s in ".*") {
            let json = serde_json::to_string(&s).unwrap();
            let _ = parse(&format!(r#"{{"n":{json},"o":{json},"b":{json},"f":{json},"s":{json}}}"#));
        }
    }
}
