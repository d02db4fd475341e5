//! Failed-login rate limit: at most N failed attempts per client IP in a sliding window.
//!
//! Only *failures* count, so an operator who types the password right is never slowed, while a
//! brute force gets 429 with `Retry-After` after N misses — and while limited, even the right
//! password is refused, or the limit would only slow guessing instead of stopping it. A success
//! clears the IP's record. The table is pruned as it is used, so it cannot grow without bound.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

/// Sliding-window counter of failed logins per IP.
#[derive(Debug)]
pub struct LoginLimiter {
    max_failures: usize,
    window: Duration,
    failures: Mutex<HashMap<IpAddr, VecDeque<Instant>>>,
}

impl LoginLimiter {
    /// `max_failures` failed attempts per `window` per IP.
    pub fn new(max_failures: usize, window: Duration) -> Self {
        Self { max_failures, window, failures: Mutex::new(HashMap::new()) }
    }

    /// `Err(retry_after)` while the IP is limited.
    pub fn check(&self, ip: IpAddr, now: Instant) -> Result<(), Duration> {
        let mut map = self.failures.lock();
        let Some(times) = map.get_mut(&ip) else { return Ok(()) };
        while times.front().is_some_and(|t| now.duration_since(*t) >= self.window) {
            times.pop_front();
        }
        if times.is_empty() {
            map.remove(&ip);
            return Ok(());
        }
        if times.len() >= self.max_failures {
            let oldest = times[0];
            return Err(self.window.saturating_sub(now.duration_since(oldest)));
        }
        Ok(())
    }

    /// Records a failed attempt.
    pub fn record_failure(&self, ip: IpAddr, now: Instant) {
        let mut map = self.failures.lock();
        // Prune stale IPs on the way so a scan over many addresses cannot grow the map forever.
        if map.len() > 10_000 {
            let window = self.window;
            map.retain(|_, t| t.back().is_some_and(|last| now.duration_since(*last) < window));
        }
        let times = map.entry(ip).or_default();
        times.push_back(now);
        while times.len() > self.max_failures {
            times.pop_front();
        }
    }

    /// Clears the IP after a successful login.
    pub fn record_success(&self, ip: IpAddr) {
        self.failures.lock().remove(&ip);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 2));

    #[test]
    fn limits_after_max_failures_and_reports_retry_after() {
        let l = LoginLimiter::new(5, Duration::from_secs(60));
        let t0 = Instant::now();
        for i in 0..5 {
            assert!(l.check(A, t0).is_ok(), "attempt {i} must be allowed");
            l.record_failure(A, t0 + Duration::from_secs(i));
        }
        let retry = l.check(A, t0 + Duration::from_secs(10)).unwrap_err();
        assert_eq!(retry, Duration::from_secs(50));
        assert!(l.check(B, t0).is_ok(), "other clients are unaffected");
        // Once the oldest failure leaves the window, one more attempt is allowed.
        assert!(l.check(A, t0 + Duration::from_secs(60)).is_ok());
    }

    #[test]
    fn success_clears_and_window_expires() {
        let l = LoginLimiter::new(2, Duration::from_secs(60));
        let t0 = Instant::now();
        l.record_failure(A, t0);
        l.record_success(A);
        l.record_failure(A, t0);
        assert!(l.check(A, t0).is_ok());
        l.record_failure(A, t0);
        assert!(l.check(A, t0).is_err());
        assert!(l.check(A, t0 + Duration::from_secs(61)).is_ok());
        assert!(l.failures.lock().is_empty(), "expired entries are removed");
    }
}
