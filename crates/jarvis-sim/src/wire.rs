//! The PVE wire format around every answer: the `{"data": …}` envelope, error bodies with
//! `message` (and `errors` for parameter problems), the reason phrase that carries the same
//! text, PVE's response headers, and parsing of query strings and form bodies with PVE's
//! parameter-check messages.
//!
//! Shapes follow pve-http-server's `Formatter/Standard.pm` (json format): success bodies are
//! `{"data": …}` plus `total` when a handler sets it; errors are `{"data": null, "message":
//! "<text>\n"}` with the HTTP reason phrase set to the text, and `errors` for parameter checks.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::http::{HeaderValue, Response, StatusCode, header};
use serde::Serialize;

/// Request parameters (query and body merged, in order; the last value of a key wins).
pub(crate) type Params = Vec<(String, String)>;

/// An error answer.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    pub status: u16,
    /// Body `message`, exactly as sent (PVE messages usually end with a newline).
    pub message: String,
    pub errors: Option<BTreeMap<String, String>>,
    /// False for answers PVE produces outside its formatter (auth, proxy): empty body.
    pub body: bool,
}

impl ApiError {
    /// A handler error: `message` gets PVE's trailing newline.
    pub fn new(status: u16, message: impl Into<String>) -> Self {
        let mut message = message.into();
        if !message.ends_with('\n') {
            message.push('\n');
        }
        Self { status, message, errors: None, body: true }
    }

    /// A parameter verification failure (400) with per-parameter messages.
    pub fn params(errors: BTreeMap<String, String>) -> Self {
        Self {
            status: 400,
            message: "Parameter verification failed.\n".into(),
            errors: Some(errors),
            body: true,
        }
    }

    /// A parameter verification failure for one parameter.
    pub fn param(name: &str, msg: impl Into<String>) -> Self {
        Self::params(BTreeMap::from([(name.to_string(), msg.into())]))
    }

    /// An answer with only a status line and an empty body (authentication, proxy errors).
    pub fn bare(status: u16, reason: impl Into<String>) -> Self {
        Self { status, message: reason.into(), errors: None, body: false }
    }

    /// PVE's answer for a path/method it has no handler for.
    pub fn not_implemented(method: &str, path: &str) -> Self {
        Self {
            status: 501,
            message: format!("Method '{method} {path}' not implemented"),
            errors: None,
            body: true,
        }
    }

    /// The text for the reason phrase (no trailing newline).
    pub fn reason(&self) -> &str {
        self.message.trim_end()
    }

    /// Turns the error into an HTTP response.
    pub fn into_response(self) -> Response<Body> {
        #[derive(Serialize)]
        struct ErrBody<'a> {
            data: (),
            #[serde(skip_serializing_if = "Option::is_none")]
            errors: Option<&'a BTreeMap<String, String>>,
            message: &'a str,
        }
        let body = if self.body {
            serde_json::to_vec(&ErrBody {
                data: (),
                errors: self.errors.as_ref(),
                message: &self.message,
            })
            .unwrap_or_default()
        } else {
            Vec::new()
        };
        response(self.status, body, Some(self.reason()))
    }
}

/// `{"data": data}` as bytes.
pub(crate) fn ok_body<T: Serialize + ?Sized>(data: &T) -> Vec<u8> {
    envelope(data, None)
}

/// `{"data": data, "total": total}` as bytes (task lists and logs carry a total).
pub(crate) fn ok_body_total<T: Serialize + ?Sized>(data: &T, total: u64) -> Vec<u8> {
    envelope(data, Some(total))
}

fn envelope<T: Serialize + ?Sized>(data: &T, total: Option<u64>) -> Vec<u8> {
    #[derive(Serialize)]
    struct Env<'a, T: ?Sized> {
        data: &'a T,
        #[serde(skip_serializing_if = "Option::is_none")]
        total: Option<u64>,
    }
    // Serialising plain data into a Vec cannot fail; fall back to a null envelope regardless.
    serde_json::to_vec(&Env { data, total }).unwrap_or_else(|_| b"{\"data\":null}".to_vec())
}

/// A response with PVE's headers; `reason` replaces the canonical reason phrase.
pub(crate) fn response(status: u16, body: Vec<u8>, reason: Option<&str>) -> Response<Body> {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut res = Response::new(Body::from(body));
    *res.status_mut() = code;
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json;charset=UTF-8"));
    h.insert(header::SERVER, HeaderValue::from_static("pve-api-daemon/3.0"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("max-age=0"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    if let Some(reason) = reason
        && let Ok(phrase) = hyper::ext::ReasonPhrase::try_from(sanitize_reason(reason))
    {
        res.extensions_mut().insert(phrase);
    }
    res
}

/// Keeps a reason phrase to bytes HTTP allows (no CR/LF or other controls) and a sane length.
fn sanitize_reason(reason: &str) -> Vec<u8> {
    let mut out: Vec<u8> = reason
        .bytes()
        .map(|b| if b == b'\t' || (0x20..0x7f).contains(&b) || b >= 0x80 { b } else { b' ' })
        .collect();
    out.truncate(512);
    out
}

/// The value of `key` (the last one when repeated).
pub(crate) fn get<'a>(params: &'a Params, key: &str) -> Option<&'a str> {
    params.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// PVE's boolean spellings.
pub(crate) fn parse_bool(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// Type of one declared parameter.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    Int { min: Option<i64>, max: Option<i64> },
    Bool,
    Str,
    Enum(&'static [&'static str]),
}

/// `Kind::Int` with a minimum.
pub(crate) const fn int_min(min: i64) -> Kind {
    Kind::Int { min: Some(min), max: None }
}

/// An integer without bounds.
pub(crate) const INT: Kind = Kind::Int { min: None, max: None };

/// The vmid parameter type.
pub(crate) const VMID: Kind = Kind::Int { min: Some(100), max: Some(999_999_999) };

/// Checks parameters against a declaration like PVE's JSON schema with
/// `additionalProperties => 0`: unknown names and ill-typed values are all reported at once.
pub(crate) fn check(params: &Params, spec: &[(&str, Kind)]) -> Result<(), ApiError> {
    let mut errors = BTreeMap::new();
    for (k, v) in params {
        match spec.iter().find(|(name, _)| name == k) {
            None => {
                errors.insert(
                    k.clone(),
                    "property is not defined in schema and the schema does not allow additional properties"
                        .to_string(),
                );
            }
            Some((_, kind)) => {
                if let Err(e) = check_value(v, *kind) {
                    errors.insert(k.clone(), e);
                }
            }
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(ApiError::params(errors)) }
}

/// Checks one value; the error text is PVE's.
pub(crate) fn check_value(v: &str, kind: Kind) -> Result<(), String> {
    match kind {
        Kind::Int { min, max } => {
            let n: i64 = v
                .trim()
                .parse()
                .map_err(|_| format!("type check ('integer') failed - got '{v}'"))?;
            if let Some(min) = min
                && n < min
            {
                return Err(format!("value must have a minimum value of {min}"));
            }
            if let Some(max) = max
                && n > max
            {
                return Err(format!("value must have a maximum value of {max}"));
            }
            Ok(())
        }
        Kind::Bool => parse_bool(v)
            .map(|_| ())
            .ok_or_else(|| format!("type check ('boolean') failed - got '{v}'")),
        Kind::Str => Ok(()),
        Kind::Enum(values) => {
            if values.contains(&v) {
                Ok(())
            } else {
                Err(format!(
                    "value '{v}' does not have a value in the enumeration '{}'",
                    values.join(", ")
                ))
            }
        }
    }
}

/// Parses a vmid path parameter with PVE's messages.
pub(crate) fn parse_vmid(s: &str) -> Result<u32, ApiError> {
    check_value(s, VMID).map_err(|e| ApiError::param("vmid", e))?;
    s.trim()
        .parse()
        .map_err(|_| ApiError::param("vmid", format!("type check ('integer') failed - got '{s}'")))
}

/// Reads an integer parameter that `check` already validated.
pub(crate) fn get_int(params: &Params, key: &str) -> Option<i64> {
    get(params, key).and_then(|v| v.trim().parse().ok())
}

/// Reads a boolean parameter that `check` already validated.
pub(crate) fn get_bool(params: &Params, key: &str) -> Option<bool> {
    get(params, key).and_then(parse_bool)
}

/// Parses a query string (`a=1&b=x%20y`).
pub(crate) fn parse_query(q: Option<&str>) -> Result<Params, ApiError> {
    match q {
        None | Some("") => Ok(Vec::new()),
        Some(q) => serde_urlencoded::from_str(q)
            .map_err(|_| ApiError::new(400, "unable to parse query string")),
    }
}

/// Parses a request body: form-encoded like PVE clients send, or a JSON object.
pub(crate) fn parse_body(content_type: Option<&str>, body: &[u8]) -> Result<Params, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Vec::new());
    }
    let is_json = content_type.is_some_and(|c| c.trim_start().starts_with("application/json"));
    if is_json {
        let v: serde_json::Value = serde_json::from_slice(body)
            .map_err(|e| ApiError::new(400, format!("unable to parse JSON body - {e}")))?;
        let obj = v.as_object().ok_or_else(|| ApiError::new(400, "JSON body is not an object"))?;
        return Ok(obj
            .iter()
            .map(|(k, v)| {
                let s = match v {
                    serde_json::Value::String(s) => s.clone(),
                    serde_json::Value::Bool(b) => u8::from(*b).to_string(),
                    other => other.to_string(),
                };
                (k.clone(), s)
            })
            .collect());
    }
    serde_urlencoded::from_bytes(body)
        .map_err(|_| ApiError::new(400, "unable to parse form-encoded body"))
}

/// Decodes `%XX` escapes of one path segment; `None` when they do not form UTF-8.
pub(crate) fn percent_decode(seg: &str) -> Option<String> {
    let bytes = seg.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else if bytes[i] == b'%' {
            return None;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_render_like_pve() {
        let e = ApiError::new(
            500,
            "Configuration file 'nodes/pve9/qemu-server/999.conf' does not exist",
        );
        assert_eq!(
            e.reason(),
            "Configuration file 'nodes/pve9/qemu-server/999.conf' does not exist"
        );
        let res = e.into_response();
        assert_eq!(res.status(), 500);
        assert!(res.extensions().get::<hyper::ext::ReasonPhrase>().is_some());
    }

    #[test]
    fn params_are_checked_with_pve_messages() {
        let p: Params = vec![("vmid".into(), "abc".into()), ("bogus".into(), "1".into())];
        let err = check(&p, &[("vmid", VMID)]).unwrap_err();
        let errors = err.errors.unwrap();
        assert_eq!(errors["vmid"], "type check ('integer') failed - got 'abc'");
        assert!(errors["bogus"].starts_with("property is not defined in schema"));
        assert_eq!(check_value("99", VMID).unwrap_err(), "value must have a minimum value of 100");
        assert!(check_value("x", Kind::Enum(&["vm", "node"])).unwrap_err().contains("'vm, node'"));
        assert!(check(&vec![("t".into(), "yes".into())], &[("t", Kind::Bool)]).is_ok());
    }

    #[test]
    fn bodies_parse_as_form_or_json_and_garbage_is_rejected() {
        assert_eq!(parse_body(None, b"").unwrap(), Vec::<(String, String)>::new());
        assert_eq!(parse_body(None, b"timeout=30&forceStop=1").unwrap().len(), 2);
        let j =
            parse_body(Some("application/json"), br#"{"timeout":30,"forceStop":true}"#).unwrap();
        assert_eq!(get(&j, "forceStop"), Some("1"));
        assert_eq!(get(&j, "timeout"), Some("30"));
        assert!(parse_body(Some("application/json"), b"[1]").is_err());
        assert!(parse_body(Some("application/json"), b"{nope").is_err());
    }

    #[test]
    fn percent_decoding_handles_upids_and_rejects_broken_escapes() {
        assert_eq!(percent_decode("UPID%3Apve1%3A0001").as_deref(), Some("UPID:pve1:0001"));
        assert_eq!(percent_decode("plain").as_deref(), Some("plain"));
        assert_eq!(percent_decode("bad%2"), None);
        assert_eq!(percent_decode("bad%zz"), None);
        assert_eq!(percent_decode("%ff"), None);
    }

    #[test]
    fn reason_phrases_never_carry_line_breaks() {
        assert_eq!(sanitize_reason("a\nb\r"), b"a b ".to_vec());
    }
}
