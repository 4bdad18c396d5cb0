//! Nonce counts and failed-guess counts in Redis (feature `redis`), shared by every replica
//! of a server: [`RedisNonceCounts`] and [`RedisGuessLimiter`].
//!
//! Each check and update is one Lua script, so it is atomic in Redis: two replicas that
//! receive the same count at once record it once. Keys expire with what they count (a
//! nonce's lifetime, a limiter's window). Both go through redis' [`ConnectionManager`],
//! made lazily: a server starts while Redis is down, a call while it is down fails at once
//! (the layer answers `503` with `Retry-After`), and the manager reconnects by itself.
//!
//! Run Redis with `maxmemory-policy noeviction` (its default): a count that Redis evicts
//! to make room would be accepted again. A Redis that lost its data (restarted without
//! persistence, flushed) is noticed by its epoch key, which is gone or new: nonces issued
//! before the epoch the store then sets, and when a replica had seen the old epoch, those
//! issued in the new epoch's second too, are answered `stale=true`. No count seen before the
//! loss is accepted again, and clients move to new nonces at once (in the second after a
//! loss, new nonces are stale too: a client may see one failed request). Replicas' clocks
//! must agree (NTP), as the nonces already require.
//!
//! ```no_run
//! use httpdigest::server::{Users, Verifier, VerifierConfig};
//! use httpdigest_hyper::{RedisGuessLimiter, RedisNonceCounts, RequireDigestLayer};
//!
//! # fn layer(users: Users) -> Result<RequireDigestLayer, Box<dyn std::error::Error>> {
//! let verifier = Verifier::new(VerifierConfig::new("api@example.org"), b"the replicas' shared key")?;
//! let lifetime = verifier.config().nonce_lifetime;
//! let redis = redis::Client::open("redis://127.0.0.1:6379/")?;
//! let layer = RequireDigestLayer::new(verifier, users)?
//!     .with_nonce_counts(RedisNonceCounts::new(&redis, lifetime)?)
//!     .with_guess_limiter(RedisGuessLimiter::new(&redis, Default::default())?);
//! # Ok(layer) }
//! ```

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use httpdigest::server::{CountEntry, CountWindow, NonceCountCheck};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, Script};

use crate::limiter::{Admission, Attempt, GuessLimiter, Limits, source_key};
use crate::stores::{AsyncNonceCountStore, StoreError, StoreFuture};

/// The key prefix of both stores, unless told another.
pub const DEFAULT_PREFIX: &str = "httpdigest:";

/// How long a connection attempt or a command may take before the call fails (and the layer
/// answers `503`).
const TIMEOUT: Duration = Duration::from_secs(1);

/// How far in the future a replica's clock may be: count keys live this much longer.
const SKEW: u64 = 5;

/// The connection manager both stores use: lazy, so a server starts while Redis is down; one
/// reconnection try per failed call, so a call fails within about a second.
fn manager(client: &Client) -> Result<ConnectionManager, StoreError> {
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(TIMEOUT))
        .set_response_timeout(Some(TIMEOUT))
        .set_number_of_retries(1)
        .set_max_delay(TIMEOUT);
    ConnectionManager::new_lazy_with_config(client.clone(), config).map_err(StoreError::new)
}

/// A token no other call of any process sends: the process, the time in nanoseconds and a
/// count.
fn unique_token() -> String {
    static CALLS: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let call = CALLS.fetch_add(1, Ordering::Relaxed);
    format!("{}-{nanos}-{call}", std::process::id())
}

/// The count window of one (nonce, user), in a sorted set of the counts seen (at most
/// `span` of them). KEYS: the window, the epoch (when this store's memory began), the loss
/// mark (the epoch's second, when an instance saw Redis lose its data). ARGV: nc, issued
/// at, now, ttl, span, record (`1`) or only look (`0`), the epoch the calling instance saw
/// last (empty: none), the nonce lifetime, a token no other call sends (an epoch is its time
/// and the token of the call that made it, so that one made again in the same second
/// differs). Returns `{answer, epoch}`, the answer `0` fresh, `1`
/// replayed, `2` forgotten: the nonce is older than the epoch, or of the second Redis was
/// found to have lost its data in, when counts on it may have been recorded before the loss.
const COUNT_SCRIPT: &str = r"
local nc = tonumber(ARGV[1])
local issued = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local span = tonumber(ARGV[5])
local record = ARGV[6] == '1'
local seen = ARGV[7]
local epoch = redis.call('GET', KEYS[2])
if not epoch then
  if not record then return {0, ''} end
  epoch = ARGV[3] .. ':' .. ARGV[9]
  redis.call('SET', KEYS[2], epoch)
end
local since = tonumber(string.match(epoch, '^%d+'))
if seen ~= '' and seen ~= epoch then
  redis.call('SET', KEYS[3], since, 'EX', ARGV[8])
end
local lost = tonumber(redis.call('GET', KEYS[3]) or '0')
if issued < since or issued <= lost then return {2, epoch} end
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then return {1, epoch} end
local top = redis.call('ZREVRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local highest = tonumber(top[2])
if highest and highest - nc >= span then return {1, epoch} end
if not record then return {0, epoch} end
redis.call('ZADD', KEYS[1], nc, ARGV[1])
if highest == nil or nc > highest then highest = nc end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. string.format('%d', highest - span + 1))
redis.call('EXPIRE', KEYS[1], ARGV[4])
return {0, epoch}
";

/// Nonce counts in Redis, per nonce and user, shared by replicas (see the module docs).
///
/// The same window as the core's [`CountWindow`]: each count once, in any order, within
/// [`CountWindow::SPAN`] of the highest seen.
#[derive(Clone)]
pub struct RedisNonceCounts {
    connection: ConnectionManager,
    script: Script,
    prefix: String,
    lifetime: u64,
    /// The epoch this store saw last (empty: none yet): one that changed tells a loss.
    epoch: Arc<Mutex<String>>,
}

impl std::fmt::Debug for RedisNonceCounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisNonceCounts")
            .field("prefix", &self.prefix)
            .field("lifetime", &self.lifetime)
            .finish_non_exhaustive()
    }
}

impl RedisNonceCounts {
    /// A store in the Redis of `client`, for nonces valid `lifetime` seconds (the
    /// verifier's nonce lifetime), under [`DEFAULT_PREFIX`]. Connects lazily.
    ///
    /// # Errors
    ///
    /// A [`StoreError`] when no connection manager can be made (no Tokio runtime).
    pub fn new(client: &Client, lifetime: u64) -> Result<Self, StoreError> {
        Ok(Self {
            connection: manager(client)?,
            script: Script::new(COUNT_SCRIPT),
            prefix: DEFAULT_PREFIX.to_owned(),
            lifetime,
            epoch: Arc::default(),
        })
    }

    /// Keys under `prefix` instead (several services in one Redis).
    #[must_use]
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The key of (nonce, user): the nonce's length keeps the pairs apart.
    fn key(&self, nonce: &[u8], user: &[u8]) -> Vec<u8> {
        let mut key = Vec::with_capacity(self.prefix.len() + nonce.len() + user.len() + 16);
        key.extend_from_slice(self.prefix.as_bytes());
        key.extend_from_slice(format!("nc:{}:", nonce.len()).as_bytes());
        key.extend_from_slice(nonce);
        key.extend_from_slice(user);
        key
    }

    async fn run(
        &self,
        count: CountEntry<'_>,
        user: &[u8],
        now: u64,
        record: bool,
    ) -> Result<NonceCountCheck, StoreError> {
        let age = now.saturating_sub(count.issued_at);
        let ttl = self
            .lifetime
            .saturating_sub(age)
            .saturating_add(SKEW)
            .max(1);
        let mut connection = self.connection.clone();
        let seen = self.epoch.lock().map(|e| e.clone()).unwrap_or_default();
        let (answer, epoch): (i64, String) = self
            .script
            .key(self.key(count.nonce, user))
            .key(format!("{}epoch", self.prefix))
            .key(format!("{}lost", self.prefix))
            .arg(count.nc.get())
            .arg(count.issued_at)
            .arg(now)
            .arg(ttl)
            .arg(CountWindow::SPAN)
            .arg(u8::from(record))
            .arg(seen)
            .arg(self.lifetime.saturating_add(SKEW).max(1))
            .arg(unique_token())
            .invoke_async(&mut connection)
            .await
            .map_err(StoreError::new)?;
        if !epoch.is_empty()
            && let Ok(mut seen) = self.epoch.lock()
        {
            *seen = epoch;
        }
        Ok(match answer {
            0 => NonceCountCheck::Fresh,
            1 => NonceCountCheck::Replayed,
            _ => NonceCountCheck::Forgotten,
        })
    }
}

impl AsyncNonceCountStore for RedisNonceCounts {
    fn seen<'a>(
        &'a self,
        count: CountEntry<'a>,
        user: &'a [u8],
        now: u64,
    ) -> StoreFuture<'a, NonceCountCheck> {
        Box::pin(self.run(count, user, now, false))
    }

    fn record<'a>(
        &'a self,
        count: CountEntry<'a>,
        user: &'a [u8],
        now: u64,
    ) -> StoreFuture<'a, NonceCountCheck> {
        Box::pin(self.run(count, user, now, true))
    }
}

/// How long until the limits of KEYS (user at source, source) let the source try again: `0`
/// when under both. ARGV: the two limits.
const ADMIT_SCRIPT: &str = r"
local wait = 0
for i = 1, 2 do
  local failures = tonumber(redis.call('GET', KEYS[i]) or '0')
  if failures >= tonumber(ARGV[i]) then
    local ttl = redis.call('TTL', KEYS[i])
    if ttl < 1 then ttl = 1 end
    if ttl > wait then wait = ttl end
  end
end
return wait
";

/// Counts a failure on both KEYS, each starting its window (ARGV[1] seconds) with its first.
const FAILED_SCRIPT: &str = r"
for i = 1, 2 do
  if redis.call('INCR', KEYS[i]) == 1 then redis.call('EXPIRE', KEYS[i], ARGV[1]) end
end
return 0
";

/// Failed verifications counted in Redis, shared by replicas: the same limits as
/// [`MemoryGuessLimiter`](crate::MemoryGuessLimiter) (per user and source, per source), each
/// count a key that expires with its window.
#[derive(Clone)]
pub struct RedisGuessLimiter {
    connection: ConnectionManager,
    admit: Script,
    failed: Script,
    prefix: String,
    limits: Limits,
}

impl std::fmt::Debug for RedisGuessLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisGuessLimiter")
            .field("prefix", &self.prefix)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl RedisGuessLimiter {
    /// A limiter in the Redis of `client`, under [`DEFAULT_PREFIX`]. Connects lazily.
    ///
    /// # Errors
    ///
    /// A [`StoreError`] when no connection manager can be made (no Tokio runtime).
    pub fn new(client: &Client, limits: Limits) -> Result<Self, StoreError> {
        Ok(Self {
            connection: manager(client)?,
            admit: Script::new(ADMIT_SCRIPT),
            failed: Script::new(FAILED_SCRIPT),
            prefix: DEFAULT_PREFIX.to_owned(),
            limits,
        })
    }

    /// Keys under `prefix` instead (several services in one Redis).
    #[must_use]
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The keys of the attempt's user at its source, and of its source.
    fn keys(&self, attempt: &Attempt<'_>) -> (Vec<u8>, Vec<u8>) {
        let source: String = source_key(attempt.source)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let alone = format!("{}guess:s:{source}", self.prefix).into_bytes();
        let mut pair = format!("{}guess:u:{source}:", self.prefix).into_bytes();
        pair.extend_from_slice(attempt.user);
        (pair, alone)
    }

    async fn admit_now(&self, attempt: Attempt<'_>) -> Result<Admission, StoreError> {
        let (pair, alone) = self.keys(&attempt);
        let mut connection = self.connection.clone();
        let wait: u64 = self
            .admit
            .key(pair)
            .key(alone)
            .arg(self.limits.per_user_and_source)
            .arg(self.limits.per_source)
            .invoke_async(&mut connection)
            .await
            .map_err(StoreError::new)?;
        Ok(match wait {
            0 => Admission::Admit,
            retry_after => Admission::Throttle { retry_after },
        })
    }

    async fn count_failure(&self, attempt: Attempt<'_>) -> Result<(), StoreError> {
        let (pair, alone) = self.keys(&attempt);
        let mut connection = self.connection.clone();
        let _: i64 = self
            .failed
            .key(pair)
            .key(alone)
            .arg(self.limits.window.max(1))
            .invoke_async(&mut connection)
            .await
            .map_err(StoreError::new)?;
        Ok(())
    }
}

impl GuessLimiter for RedisGuessLimiter {
    fn admit<'a>(&'a self, attempt: Attempt<'a>, _now: u64) -> StoreFuture<'a, Admission> {
        Box::pin(self.admit_now(attempt))
    }

    fn failed<'a>(&'a self, attempt: Attempt<'a>, _now: u64) -> StoreFuture<'a, ()> {
        Box::pin(self.count_failure(attempt))
    }
}
