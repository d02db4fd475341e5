//! The failover list: which PVE endpoints exist, which one is preferred, which ones are
//! failing and for how long to avoid them.
//!
//! Pure bookkeeping with no IO, driven by the client in [`crate::client`]:
//! - the order to try for the next request (`EndpointSet::attempt_order`): the preferred
//!   (last working) endpoint first, then the others in configured order; endpoints inside
//!   their backoff go last — still tried when nothing else works, so a blip never locks
//!   Jarvis out for the whole backoff;
//! - success makes an endpoint preferred; failure starts a backoff (10 s, doubling to 30 s);
//! - discovered endpoints (node IPs from `/cluster/status`) are merged in and dropped again
//!   when a node leaves the cluster; configured endpoints are never dropped.

use std::time::{Duration, Instant};

use serde::Serialize;
use url::Url;

const BACKOFF_BASE: Duration = Duration::from_secs(10);
const BACKOFF_MAX: Duration = Duration::from_secs(30);

/// Health of one endpoint, as shown to operators (`jarvis doctor`, the freshness marker).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointHealth {
    /// Base URL, e.g. `https://pve1:8006`.
    pub url: String,
    /// False when the last attempt on this endpoint failed; untried endpoints count as ok.
    pub ok: bool,
    /// Why the last attempt failed, if it did.
    pub last_error: Option<String>,
    /// Learned from `/cluster/status` rather than configured.
    pub discovered: bool,
    /// This is the endpoint requests go to first.
    pub preferred: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    /// What operators see and errors name: `https://pve1:8006` (no trailing slash).
    pub display: String,
    /// The API root: display + `/api2/json`.
    pub api_base: String,
    pub discovered: bool,
    ok: bool,
    last_error: Option<String>,
    failures: u32,
    retry_after: Option<Instant>,
}

impl Endpoint {
    pub(crate) fn from_url(url: &Url, discovered: bool) -> Self {
        let mut u = url.clone();
        u.set_query(None);
        u.set_fragment(None);
        let s = u.as_str().trim_end_matches('/').to_owned();
        let display = s.strip_suffix("/api2/json").unwrap_or(&s).to_owned();
        let api_base = format!("{display}/api2/json");
        Self {
            display,
            api_base,
            discovered,
            ok: true,
            last_error: None,
            failures: 0,
            retry_after: None,
        }
    }

    fn in_backoff(&self, now: Instant) -> bool {
        self.retry_after.is_some_and(|t| now < t)
    }
}

/// A snapshot of one endpoint to try, detached from the lock.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub display: String,
    pub api_base: String,
}

#[derive(Debug)]
pub(crate) struct EndpointSet {
    list: Vec<Endpoint>,
    /// Display string of the last endpoint that answered.
    preferred: Option<String>,
    /// Template for discovered endpoints: scheme, port and path prefix of the first endpoint.
    template: Option<Url>,
}

impl EndpointSet {
    pub(crate) fn new(configured: &[Url]) -> Self {
        let mut list: Vec<Endpoint> = Vec::new();
        for u in configured {
            let e = Endpoint::from_url(u, false);
            if !list.iter().any(|x| x.display == e.display) {
                list.push(e);
            }
        }
        Self { list, preferred: None, template: configured.first().cloned() }
    }

    /// Endpoints in the order the next request should try them.
    pub(crate) fn attempt_order(&self, now: Instant) -> Vec<Target> {
        let start = self
            .preferred
            .as_ref()
            .and_then(|p| self.list.iter().position(|e| &e.display == p))
            .unwrap_or(0);
        let n = self.list.len();
        let rotated = (0..n).map(|i| &self.list[(start + i) % n]);
        let (ready, waiting): (Vec<&Endpoint>, Vec<&Endpoint>) =
            rotated.partition(|e| !e.in_backoff(now));
        ready
            .into_iter()
            .chain(waiting)
            .map(|e| Target { display: e.display.clone(), api_base: e.api_base.clone() })
            .collect()
    }

    pub(crate) fn mark_ok(&mut self, display: &str) {
        if let Some(e) = self.list.iter_mut().find(|e| e.display == display) {
            e.ok = true;
            e.last_error = None;
            e.failures = 0;
            e.retry_after = None;
            self.preferred = Some(display.to_owned());
        }
    }

    pub(crate) fn mark_failed(&mut self, display: &str, why: &str, now: Instant) {
        if let Some(e) = self.list.iter_mut().find(|e| e.display == display) {
            e.ok = false;
            e.last_error = Some(why.to_owned());
            e.failures = e.failures.saturating_add(1);
            let factor = 1u32 << (e.failures - 1).min(4);
            e.retry_after = Some(now + (BACKOFF_BASE * factor).min(BACKOFF_MAX));
        }
    }

    pub(crate) fn preferred(&self) -> Option<String> {
        self.preferred.clone()
    }

    pub(crate) fn health(&self) -> Vec<EndpointHealth> {
        self.list
            .iter()
            .map(|e| EndpointHealth {
                url: e.display.clone(),
                ok: e.ok,
                last_error: e.last_error.clone(),
                discovered: e.discovered,
                preferred: self.preferred.as_deref() == Some(e.display.as_str()),
            })
            .collect()
    }

    /// Replaces the discovered endpoints with those formed from `hosts` (node IPs): same
    /// scheme, port and path as the first configured endpoint. Health of endpoints that stay
    /// is kept; configured endpoints are never removed.
    pub(crate) fn set_discovered(&mut self, hosts: &[String]) {
        let Some(template) = &self.template else { return };
        let mut wanted: Vec<Endpoint> = Vec::new();
        for h in hosts {
            let Some(url) = url_for_host(template, h) else {
                tracing::debug!(host = %h, "ignoring a discovered node address that does not form a URL");
                continue;
            };
            let e = Endpoint::from_url(&url, true);
            if !wanted.iter().any(|w| w.display == e.display) {
                wanted.push(e);
            }
        }
        // Drop discovered endpoints that are gone (unless preferred: it is answering now).
        let preferred = self.preferred.clone();
        self.list.retain(|e| {
            !e.discovered
                || preferred.as_deref() == Some(e.display.as_str())
                || wanted.iter().any(|w| w.display == e.display)
        });
        for w in wanted {
            if !self.list.iter().any(|e| e.display == w.display) {
                tracing::info!(endpoint = %w.display, "discovered PVE endpoint added to the failover list");
                self.list.push(w);
            }
        }
    }
}

/// `template` with its host replaced by `host` (an IPv4/IPv6 address or a name).
fn url_for_host(template: &Url, host: &str) -> Option<Url> {
    let host = host.trim().trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return None;
    }
    let mut u = template.clone();
    match host.parse::<std::net::IpAddr>() {
        Ok(ip) => u.set_ip_host(ip).ok()?,
        Err(_) => u.set_host(Some(host)).ok()?,
    }
    Some(u)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls(list: &[&str]) -> Vec<Url> {
        list.iter().map(|s| Url::parse(s).unwrap()).collect()
    }

    fn order(set: &EndpointSet, now: Instant) -> Vec<String> {
        set.attempt_order(now).into_iter().map(|t| t.display).collect()
    }

    #[test]
    fn display_and_api_base() {
        let e = Endpoint::from_url(&Url::parse("https://pve1:8006/").unwrap(), false);
        assert_eq!(
            (e.display.as_str(), e.api_base.as_str()),
            ("https://pve1:8006", "https://pve1:8006/api2/json")
        );
        let e = Endpoint::from_url(&Url::parse("https://proxy/pve/api2/json?x=1").unwrap(), false);
        assert_eq!(e.api_base, "https://proxy/pve/api2/json");
    }

    #[test]
    fn preferred_first_and_backoff_last() {
        let mut s =
            EndpointSet::new(&urls(&["https://a:8006", "https://b:8006", "https://c:8006"]));
        let now = Instant::now();
        assert_eq!(order(&s, now), ["https://a:8006", "https://b:8006", "https://c:8006"]);
        s.mark_failed("https://a:8006", "refused", now);
        s.mark_ok("https://b:8006");
        assert_eq!(order(&s, now), ["https://b:8006", "https://c:8006", "https://a:8006"]);
        // After the backoff, a is back in rotation (still after the preferred one).
        assert_eq!(
            order(&s, now + Duration::from_secs(11)),
            ["https://b:8006", "https://c:8006", "https://a:8006"]
        );
        s.mark_failed("https://b:8006", "timeout", now);
        assert_eq!(
            order(&s, now + Duration::from_secs(1)),
            ["https://c:8006", "https://b:8006", "https://a:8006"]
        );
        let h = s.health();
        assert!(!h[0].ok && h[0].last_error.as_deref() == Some("refused"));
        assert!(h[1].preferred && !h[1].ok);
        assert_eq!(s.preferred().as_deref(), Some("https://b:8006"));
    }

    #[test]
    fn backoff_grows_to_the_cap() {
        let mut s = EndpointSet::new(&urls(&["https://a:8006", "https://b:8006"]));
        let now = Instant::now();
        for _ in 0..5 {
            s.mark_failed("https://a:8006", "x", now);
        }
        let a = &s.list[0];
        assert_eq!(a.retry_after, Some(now + BACKOFF_MAX));
        assert!(
            a.in_backoff(now + Duration::from_secs(29))
                && !a.in_backoff(now + Duration::from_secs(30))
        );
    }

    #[test]
    fn discovery_uses_scheme_and_port_and_is_merged() {
        let mut s = EndpointSet::new(&urls(&["https://pve1.lan:8006"]));
        s.set_discovered(&[
            "192.168.1.2".into(),
            "fd00::3".into(),
            "192.168.1.2".into(),
            "".into(),
        ]);
        let h: Vec<String> = s.health().into_iter().map(|h| h.url).collect();
        assert_eq!(
            h,
            ["https://pve1.lan:8006", "https://192.168.1.2:8006", "https://[fd00::3]:8006"]
        );
        s.mark_failed("https://192.168.1.2:8006", "down", Instant::now());
        s.set_discovered(&["192.168.1.2".into()]);
        let h = s.health();
        assert_eq!(h.len(), 2);
        assert!(!h[1].ok && h[1].discovered, "health of a kept endpoint survives a refresh");
    }
}
