//! Login throttling: failed attempts are counted per email and per client IP in a sliding
//! window. Counts live in this process; with several instances each applies the limit on its
//! own, which still bounds guessing to a small multiple of the limit.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Limits for one kind of key.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub max_failures: usize,
    pub window: Duration,
}

/// Failed-login counters.
#[derive(Debug)]
pub struct LoginThrottle {
    per_email: Limit,
    per_ip: Limit,
    failures: Mutex<HashMap<Key, VecDeque<Instant>>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Email(String),
    Ip(IpAddr),
}

/// Above this many tracked keys, expired ones are swept on the next failure.
const SWEEP_ABOVE: usize = 10_000;

impl Default for LoginThrottle {
    fn default() -> Self {
        Self::new(
            Limit {
                max_failures: 5,
                window: Duration::from_secs(15 * 60),
            },
            Limit {
                max_failures: 30,
                window: Duration::from_secs(15 * 60),
            },
        )
    }
}

impl LoginThrottle {
    pub fn new(per_email: Limit, per_ip: Limit) -> Self {
        Self {
            per_email,
            per_ip,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(seconds)` when either the email or the IP has used up its failures.
    pub fn check(&self, email: &str, ip: Option<IpAddr>) -> Result<(), u64> {
        let now = Instant::now();
        let mut map = self.lock();
        let mut wait = 0u64;
        for (key, limit) in self.keys(email, ip) {
            if let Some(times) = map.get_mut(&key) {
                prune(times, now, limit.window);
                if times.len() >= limit.max_failures {
                    let oldest = times.front().copied().unwrap_or(now);
                    let until = (oldest + limit.window).saturating_duration_since(now);
                    wait = wait.max(until.as_secs().max(1));
                }
            }
        }
        if wait > 0 { Err(wait) } else { Ok(()) }
    }

    /// Records a failed attempt for the email and the IP.
    pub fn record_failure(&self, email: &str, ip: Option<IpAddr>) {
        let now = Instant::now();
        let mut map = self.lock();
        if map.len() > SWEEP_ABOVE {
            let longest = self.per_email.window.max(self.per_ip.window);
            map.retain(|_, times| {
                prune(times, now, longest);
                !times.is_empty()
            });
        }
        for (key, limit) in self.keys(email, ip) {
            let times = map.entry(key).or_default();
            prune(times, now, limit.window);
            times.push_back(now);
        }
    }

    /// Clears the email's failures after a successful login (the IP's stay counted).
    pub fn record_success(&self, email: &str) {
        self.lock().remove(&Key::Email(email.to_owned()));
    }

    fn keys(&self, email: &str, ip: Option<IpAddr>) -> Vec<(Key, Limit)> {
        let mut keys = vec![(Key::Email(email.to_owned()), self.per_email)];
        if let Some(ip) = ip {
            keys.push((Key::Ip(ip), self.per_ip));
        }
        keys
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, VecDeque<Instant>>> {
        // A poisoned lock only means another thread panicked mid-update of counters; the
        // counters are still usable.
        self.failures
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn prune(times: &mut VecDeque<Instant>, now: Instant, window: Duration) {
    while times
        .front()
        .is_some_and(|t| now.duration_since(*t) >= window)
    {
        times.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle() -> LoginThrottle {
        LoginThrottle::new(
            Limit {
                max_failures: 3,
                window: Duration::from_secs(60),
            },
            Limit {
                max_failures: 5,
                window: Duration::from_secs(60),
            },
        )
    }

    #[test]
    fn blocks_an_email_after_its_failures_and_frees_it_on_success() {
        let t = throttle();
        for _ in 0..3 {
            assert!(t.check("a@x.fi", None).is_ok());
            t.record_failure("a@x.fi", None);
        }
        assert!(t.check("a@x.fi", None).is_err());
        assert!(t.check("b@x.fi", None).is_ok());
        t.record_success("a@x.fi");
        assert!(t.check("a@x.fi", None).is_ok());
    }

    #[test]
    fn blocks_an_ip_that_tries_many_emails() {
        let t = throttle();
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        for i in 0..5 {
            t.record_failure(&format!("user{i}@x.fi"), Some(ip));
        }
        assert!(t.check("fresh@x.fi", Some(ip)).is_err());
        assert!(t.check("fresh@x.fi", None).is_ok());
    }
}
