//! Throttled guessing: [`GuessLimiter`] counts failed verifications (a wrong password, an
//! unknown user) per user and source, and per source; over a limit the layer answers `429
//! Too Many Requests` with `Retry-After` without verifying.
//!
//! Nothing is counted per user alone: a limit on a user that any source could fill would
//! let an attacker anywhere lock the user out. A source that guesses at one user is stopped
//! by the first limit, one that sprays many users by the second, and the user logs in from
//! anywhere else meanwhile. Sources are IP addresses, IPv6 ones by their /64 (one host's
//! share of a network), so that a host cannot count as many by changing addresses.

use std::collections::{HashMap, VecDeque};
use std::future::ready;
use std::net::IpAddr;
use std::sync::Mutex;

use crate::stores::StoreFuture;

/// A verification attempt, as the limiter keys it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempt<'a> {
    /// The user as the credentials name it (the name, or the userhash, as sent).
    pub user: &'a [u8],
    /// The client's address.
    pub source: IpAddr,
}

/// Whether an attempt may be verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Verify it.
    Admit,
    /// Refuse it unverified: `429` with `Retry-After: retry_after` (seconds).
    Throttle {
        /// When the source may try again, in seconds.
        retry_after: u64,
    },
}

/// How many failures are allowed, in what window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Failures allowed per user and source in a window.
    pub per_user_and_source: u32,
    /// Failures allowed per source in a window, whatever the users.
    pub per_source: u32,
    /// The window, in seconds: a count starts with its first failure and lasts this long.
    pub window: u64,
}

impl Limits {
    /// 10 failures per user and source and 100 per source, per 5 minutes: room for a person
    /// who mistypes, and for an office behind one address, and about 3 guesses a minute for
    /// a guesser at one user.
    pub const DEFAULT: Self = Self {
        per_user_and_source: 10,
        per_source: 100,
        window: 300,
    };

    /// Limits of `per_user_and_source` and `per_source` failures per `window` seconds.
    pub const fn new(per_user_and_source: u32, per_source: u32, window: u64) -> Self {
        Self {
            per_user_and_source,
            per_source,
            window,
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Counts failed verifications and says which attempts to refuse unverified. The layer asks
/// [`admit`](Self::admit) before it verifies and tells [`failed`](Self::failed) after a wrong
/// password or an unknown user; other refusals (a stale nonce, a replay) are no guesses.
pub trait GuessLimiter: Send + Sync {
    /// Whether `attempt` may be verified now (`now`: the layer's clock, seconds).
    fn admit<'a>(&'a self, attempt: Attempt<'a>, now: u64) -> StoreFuture<'a, Admission>;

    /// Counts a failed verification of `attempt`.
    fn failed<'a>(&'a self, attempt: Attempt<'a>, now: u64) -> StoreFuture<'a, ()>;
}

/// The source's key: an IPv4 address, or the /64 of an IPv6 one (an IPv4-mapped IPv6
/// address is its IPv4 address).
pub(crate) fn source_key(source: IpAddr) -> [u8; 9] {
    let mut key = [0u8; 9];
    match source {
        IpAddr::V4(v4) => key[1..5].copy_from_slice(&v4.octets()),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => key[1..5].copy_from_slice(&v4.octets()),
            None => {
                key[0] = 6;
                key[1..].copy_from_slice(&v6.octets()[..8]);
            }
        },
    }
    key
}

/// The in-memory [`GuessLimiter`] of one server instance, bounded: the default.
///
/// Counts live for their window; when `capacity` counts are live, the oldest is dropped to
/// make room (its key may guess again sooner), so memory stays bounded whatever the number of
/// users and sources. Every call takes constant time (amortized).
#[derive(Debug)]
pub struct MemoryGuessLimiter {
    limits: Limits,
    inner: Mutex<Counts>,
}

#[derive(Debug, Default)]
struct Counts {
    /// Key -> (window start, failures).
    by_key: HashMap<Vec<u8>, (u64, u32)>,
    /// The keys of `by_key` with their window start, in the order their windows started.
    order: VecDeque<(Vec<u8>, u64)>,
    capacity: usize,
}

/// The key of a source alone, and of a user at a source.
fn keys(attempt: &Attempt<'_>) -> (Vec<u8>, Vec<u8>) {
    let source = source_key(attempt.source);
    // A source's key is 9 bytes and a pair's at least 9: a leading tag keeps them apart.
    let alone = [&b"s"[..], &source].concat();
    let pair = [&b"u"[..], &source, attempt.user].concat();
    (alone, pair)
}

impl MemoryGuessLimiter {
    /// How many counts are kept by default.
    pub const DEFAULT_CAPACITY: usize = 100_000;

    /// A limiter with these limits, keeping up to `capacity` counts.
    pub fn new(limits: Limits, capacity: usize) -> Self {
        Self {
            limits,
            inner: Mutex::new(Counts {
                capacity: capacity.max(1),
                ..Counts::default()
            }),
        }
    }

    /// The failures counted for `key` in its current window, and when that window ends.
    fn current(counts: &Counts, key: &[u8], now: u64, window: u64) -> Option<(u32, u64)> {
        let &(start, failures) = counts.by_key.get(key)?;
        let end = start.saturating_add(window);
        (now < end).then_some((failures, end))
    }

    fn admit_now(&self, attempt: &Attempt<'_>, now: u64) -> Admission {
        let Ok(counts) = self.inner.lock() else {
            // A panic elsewhere poisoned the lock: refuse rather than guess.
            return Admission::Throttle {
                retry_after: self.limits.window,
            };
        };
        let (alone, pair) = keys(attempt);
        let window = self.limits.window;
        let over = |key: &[u8], limit: u32| {
            Self::current(&counts, key, now, window)
                .filter(|&(failures, _)| failures >= limit)
                .map(|(_, end)| end - now)
        };
        match over(&pair, self.limits.per_user_and_source).max(over(&alone, self.limits.per_source))
        {
            Some(retry_after) => Admission::Throttle {
                retry_after: retry_after.max(1),
            },
            None => Admission::Admit,
        }
    }

    fn count_failure(&self, attempt: &Attempt<'_>, now: u64) {
        let Ok(mut counts) = self.inner.lock() else {
            return;
        };
        let (alone, pair) = keys(attempt);
        let window = self.limits.window;
        for key in [alone, pair] {
            counts.count(key, now, window);
        }
    }
}

impl Counts {
    fn count(&mut self, key: Vec<u8>, now: u64, window: u64) {
        // Drop the counts whose window is over, from the front (in the order windows
        // started, so the front is the first to end), and the queue entries of windows a
        // key has since started again.
        while let Some((front, start)) = self.order.front() {
            let current = self.by_key.get(front).is_some_and(|&(s, _)| s == *start);
            if current && now < start.saturating_add(window) {
                break;
            }
            if let Some((front, _)) = self.order.pop_front()
                && current
            {
                self.by_key.remove(&front);
            }
        }
        match self.by_key.get_mut(&key) {
            Some((start, failures)) if now < start.saturating_add(window) => {
                *failures = failures.saturating_add(1);
            }
            _ => {
                if self.by_key.len() >= self.capacity
                    && let Some((oldest, _)) = self.order.pop_front()
                {
                    self.by_key.remove(&oldest);
                }
                self.by_key.insert(key.clone(), (now, 1));
                self.order.push_back((key, now));
            }
        }
    }
}

impl Default for MemoryGuessLimiter {
    fn default() -> Self {
        Self::new(Limits::DEFAULT, Self::DEFAULT_CAPACITY)
    }
}

impl GuessLimiter for MemoryGuessLimiter {
    fn admit<'a>(&'a self, attempt: Attempt<'a>, now: u64) -> StoreFuture<'a, Admission> {
        Box::pin(ready(Ok(self.admit_now(&attempt, now))))
    }

    fn failed<'a>(&'a self, attempt: Attempt<'a>, now: u64) -> StoreFuture<'a, ()> {
        self.count_failure(&attempt, now);
        Box::pin(ready(Ok(())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn admit(l: &MemoryGuessLimiter, user: &[u8], source: IpAddr, now: u64) -> Admission {
        l.admit_now(&Attempt { user, source }, now)
    }

    fn fail(l: &MemoryGuessLimiter, user: &[u8], source: IpAddr, now: u64) {
        l.count_failure(&Attempt { user, source }, now);
    }

    const A: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
    const B: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 7));

    #[test]
    fn a_user_guessed_at_from_one_source_is_throttled_there_only() {
        let l = MemoryGuessLimiter::new(Limits::new(3, 100, 60), 100);
        for _ in 0..3 {
            assert_eq!(admit(&l, b"alice", A, 10), Admission::Admit);
            fail(&l, b"alice", A, 10);
        }
        assert_eq!(
            admit(&l, b"alice", A, 10),
            Admission::Throttle { retry_after: 60 }
        );
        assert_eq!(
            admit(&l, b"alice", A, 69),
            Admission::Throttle { retry_after: 1 }
        );
        // Alice elsewhere, and bob at A, are not locked out.
        assert_eq!(admit(&l, b"alice", B, 10), Admission::Admit);
        assert_eq!(admit(&l, b"bob", A, 10), Admission::Admit);
        // The window ends.
        assert_eq!(admit(&l, b"alice", A, 70), Admission::Admit);
    }

    #[test]
    fn a_source_spraying_users_is_throttled_for_all_of_them() {
        let l = MemoryGuessLimiter::new(Limits::new(3, 5, 60), 100);
        for i in 0..5u8 {
            fail(&l, &[b'u', i], A, 0);
        }
        assert!(matches!(
            admit(&l, b"someone", A, 1),
            Admission::Throttle { .. }
        ));
        assert_eq!(admit(&l, b"someone", B, 1), Admission::Admit);
    }

    #[test]
    fn ipv6_sources_count_by_their_64() {
        let l = MemoryGuessLimiter::new(Limits::new(2, 100, 60), 100);
        let host = |last: u16| IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 2, 0, 0, 0, last));
        fail(&l, b"alice", host(1), 0);
        fail(&l, b"alice", host(2), 0);
        assert!(matches!(
            admit(&l, b"alice", host(3), 0),
            Admission::Throttle { .. }
        ));
        let other = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 3, 0, 0, 0, 1));
        assert_eq!(admit(&l, b"alice", other, 0), Admission::Admit);
        // An IPv4-mapped address is its IPv4 address.
        let mapped = IpAddr::V6(Ipv4Addr::new(192, 0, 2, 1).to_ipv6_mapped());
        fail(&l, b"bob", mapped, 0);
        fail(&l, b"bob", A, 0);
        assert!(matches!(
            admit(&l, b"bob", A, 0),
            Admission::Throttle { .. }
        ));
    }

    #[test]
    fn memory_stays_bounded() {
        let l = MemoryGuessLimiter::new(Limits::new(1, 1000, 60), 8);
        for i in 0..1000u32 {
            fail(&l, &i.to_le_bytes(), A, u64::from(i / 100));
        }
        let counts = l.inner.lock().unwrap();
        assert!(counts.by_key.len() <= 8);
        assert!(counts.order.len() <= 2 * 8 + 2, "{}", counts.order.len());
    }
}
