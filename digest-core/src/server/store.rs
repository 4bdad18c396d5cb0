//! What the verifier looks up: users' secrets ([`CredentialStore`]) and the nonce counts
//! already seen ([`NonceCountStore`]). The caller owns both; the traits leave room for shared
//! stores (a database, Redis) behind several server instances.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use zeroize::Zeroizing;

use crate::algorithm::Algorithm;
use crate::digest::{self, HexDigest};
use crate::nonce_count::NonceCount;

/// A user's secret as a store keeps it.
#[derive(Clone)]
pub enum StoredSecret {
    /// The password itself.
    Password(Zeroizing<String>),
    /// H(username:realm:password), for the hash function of `algorithm` (what an htdigest
    /// file holds for MD5).
    Ha1 {
        /// The algorithm (its hash function) the digest was computed with.
        algorithm: Algorithm,
        /// The digest.
        ha1: HexDigest,
    },
}

impl StoredSecret {
    /// A password (kept in memory that is zeroed when dropped): no `zeroize` import needed.
    ///
    /// ```
    /// use httpdigest::server::StoredSecret;
    ///
    /// let secret = StoredSecret::password("s3cret");
    /// assert_eq!(format!("{secret:?}"), "Password(<redacted>)");
    /// ```
    pub fn password(password: impl Into<String>) -> Self {
        Self::Password(Zeroizing::new(password.into()))
    }

    /// A precomputed H(username:realm:password) under `algorithm`'s hash function, as hex
    /// digits (what an htdigest file holds; either case).
    ///
    /// ```
    /// use httpdigest::Algorithm;
    /// use httpdigest::server::{Ha1Error, StoredSecret};
    ///
    /// // alice:lab@example.org:s3cret, as Apache's htdigest writes it.
    /// let secret = StoredSecret::ha1(Algorithm::Md5, "bff07b5993dbc8c304cad4ef7523937b")?;
    /// assert!(secret.verifies(Algorithm::Md5Sess));
    /// assert!(!secret.verifies(Algorithm::Sha256));
    /// assert_eq!(StoredSecret::ha1(Algorithm::Sha256, "bff07b5993dbc8c304cad4ef7523937b").unwrap_err(),
    ///            Ha1Error { expected: 64 });
    /// # Ok::<(), Ha1Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Ha1Error`] unless `hex` is as many hex digits as the algorithm's hash has.
    pub fn ha1(algorithm: Algorithm, hex: &str) -> Result<Self, Ha1Error> {
        let algorithm = algorithm.without_session();
        let expected = algorithm.hex_len();
        HexDigest::from_hex(hex)
            .filter(|h| h.as_str().len() == expected)
            .map(|ha1| Self::Ha1 { algorithm, ha1 })
            .ok_or(Ha1Error { expected })
    }

    /// Whether the secret can check an answer under `algorithm`: a password answers every
    /// algorithm, an H(A1) only those of its hash function (an MD5 H(A1): `MD5` and
    /// `MD5-sess`).
    pub fn verifies(&self, algorithm: Algorithm) -> bool {
        match self {
            Self::Password(_) => true,
            Self::Ha1 { algorithm: a, .. } => a.without_session() == algorithm.without_session(),
        }
    }
}

/// An H(A1) given as hex that is not a hash of its algorithm ([`StoredSecret::ha1`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an H(A1) for this algorithm is {expected} hexadecimal digits")]
pub struct Ha1Error {
    /// How many hex digits the algorithm's hash has.
    pub expected: usize,
}

impl fmt::Debug for StoredSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoredSecret::Password(_) => f.write_str("Password(<redacted>)"),
            StoredSecret::Ha1 { algorithm, .. } => write!(f, "Ha1({algorithm}, <redacted>)"),
        }
    }
}

/// Where the verifier finds users.
pub trait CredentialStore {
    /// The secret of `username` in `realm`, or `None` for an unknown user. The name is
    /// UTF-8: the bytes the client sent, decoded from `username*` if it used that, or read as
    /// ISO-8859-1 when a quoted name's bytes were not UTF-8 (see
    /// [`Verifier`](super::Verifier)). The verifier asks once per request, known user or not.
    fn lookup(&self, username: &[u8], realm: &str) -> Option<StoredSecret>;

    /// The user whose H(username:realm) under `algorithm` is `userhash` (lower-case hex),
    /// for clients that send `userhash=true`, with the secret. The default finds nobody.
    ///
    /// Find the user through an index of the userhashes, not by hashing every name per
    /// request (time linear in the number of users), and take the same time for a hash that
    /// names nobody as for one that names a user: the verifier goes on with a decoy H(A1)
    /// for nobody, so that the rest of its path is the same, and the store's part should not
    /// tell either.
    fn lookup_userhash(
        &self,
        userhash: &[u8],
        realm: &str,
        algorithm: Algorithm,
    ) -> Option<(String, StoredSecret)> {
        let _ = (userhash, realm, algorithm);
        None
    }

    /// Whether the store can check every user's answers under `algorithm`. A store of
    /// passwords can (the default); a store of precomputed H(A1)s only for their hash
    /// functions: an htdigest file of MD5 H(A1)s answers `MD5` and `MD5-sess`, never
    /// `SHA-256`. [`Verifier::for_store`](super::Verifier::for_store) (and the hyper layer,
    /// which calls it) offers only the algorithms this says yes to, so that no client picks
    /// a challenge the store cannot verify; a store of H(A1)s must say so here.
    fn verifies(&self, algorithm: Algorithm) -> bool {
        let _ = algorithm;
        true
    }

    /// Whether the store holds (or may hold) users of `realm`. The default says yes;
    /// [`Users`] and [`Htdigest`](super::Htdigest) say whether they know the realm, so that
    /// a verifier set up with another realm than its store's is refused
    /// ([`ConfigError::RealmMismatch`](super::ConfigError::RealmMismatch)) instead of calling
    /// every user unknown.
    fn serves_realm(&self, realm: &str) -> bool {
        let _ = realm;
        true
    }
}

/// The hash functions of the algorithms, in the order of [`Users`]' userhash indexes.
const HASH_FUNCTIONS: [Algorithm; 5] = [
    Algorithm::Md5,
    Algorithm::Sha1,
    Algorithm::Sha256,
    Algorithm::Sha512,
    Algorithm::Sha512_256,
];

/// How many hex digits of a userhash an index keeps: 128 bits, the whole of an MD5 one.
const USERHASH_PREFIX: usize = 32;

/// The name whose userhash is computed when a userhash names nobody in an empty table
/// (otherwise a user's is, so that both answers cost one hash of a name of the table).
const DECOY_NAME: &[u8] = b"nobody";

/// Userhash prefix -> index of the user: a hash map (expected constant time, SipHash keyed
/// at random, so no set of names can make it slow) with `std`, an ordered map without.
#[cfg(feature = "std")]
type UserhashIndex = std::collections::HashMap<[u8; USERHASH_PREFIX], usize>;
#[cfg(not(feature = "std"))]
type UserhashIndex = BTreeMap<[u8; USERHASH_PREFIX], usize>;

/// Users and passwords in memory, one realm.
///
/// A `userhash=true` lookup takes the same time whatever the number of users: each user's
/// H(username:realm) is computed when the user is added, for each hash function (five
/// hashes per [`insert`](Self::insert)), and indexed by its first 128 bits; a lookup finds
/// the candidate in the index (a hash map with feature `std`, an ordered map without) and
/// compares the whole userhash in constant time. A hash that names nobody costs the same: one
/// hash, of another user's name, and the copies of that user's name and password, dropped.
///
/// ```
/// use httpdigest::server::{CredentialStore, Users};
///
/// let mut users = Users::new("api@example.org");
/// users.insert("alice", "s3cret");
/// assert!(users.lookup(b"alice", "api@example.org").is_some());
/// assert!(users.lookup(b"alice", "other realm").is_none());
/// ```
#[derive(Clone, Default)]
pub struct Users {
    realm: String,
    /// Every user, in the order added: name and password.
    users: Vec<(Vec<u8>, Zeroizing<String>)>,
    /// Name -> index in `users`.
    by_name: BTreeMap<Vec<u8>, usize>,
    /// Per hash function ([`HASH_FUNCTIONS`]): the first [`USERHASH_PREFIX`] hex digits of
    /// H(name:realm) -> index in `users`.
    by_userhash: [UserhashIndex; HASH_FUNCTIONS.len()],
}

/// The index key of a userhash: its first [`USERHASH_PREFIX`] hex digits (`None` if shorter).
fn userhash_prefix(userhash: &[u8]) -> Option<[u8; USERHASH_PREFIX]> {
    userhash.get(..USERHASH_PREFIX)?.try_into().ok()
}

impl Users {
    /// An empty table for `realm`.
    pub fn new(realm: impl Into<String>) -> Self {
        Self {
            realm: realm.into(),
            ..Self::default()
        }
    }

    /// The realm, to give the verifier the same one:
    /// `VerifierConfig::new(users.realm())`.
    pub fn realm(&self) -> &str {
        &self.realm
    }

    /// How many users the table holds.
    pub fn len(&self) -> usize {
        self.users.len()
    }

    /// Whether the table holds no user.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    /// Adds (or replaces) a user.
    pub fn insert(&mut self, username: impl Into<String>, password: impl Into<String>) {
        let name = username.into().into_bytes();
        let password = Zeroizing::new(password.into());
        if let Some(user) = self.by_name.get(&name).and_then(|&i| self.users.get_mut(i)) {
            user.1 = password;
            return;
        }
        let index = self.users.len();
        for (by_userhash, algorithm) in self.by_userhash.iter_mut().zip(HASH_FUNCTIONS) {
            let userhash = digest::userhash(algorithm, &name, self.realm.as_bytes());
            // Two names sharing 128 bits of a userhash: the first is no longer found by it
            // (refused as unknown, never taken for the other).
            if let Some(prefix) = userhash_prefix(userhash.as_bytes()) {
                by_userhash.insert(prefix, index);
            }
        }
        self.by_name.insert(name.clone(), index);
        self.users.push((name, password));
    }
}

impl fmt::Debug for Users {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Users")
            .field("realm", &self.realm)
            .field("users", &self.users.len())
            .finish()
    }
}

impl CredentialStore for Users {
    fn lookup(&self, username: &[u8], realm: &str) -> Option<StoredSecret> {
        (realm == self.realm)
            .then(|| self.by_name.get(username))
            .flatten()
            .and_then(|&i| self.users.get(i))
            .map(|(_, p)| StoredSecret::Password(p.clone()))
    }

    fn serves_realm(&self, realm: &str) -> bool {
        realm == self.realm
    }

    fn lookup_userhash(
        &self,
        userhash: &[u8],
        realm: &str,
        algorithm: Algorithm,
    ) -> Option<(String, StoredSecret)> {
        let hash_function = algorithm.without_session();
        let index = HASH_FUNCTIONS
            .iter()
            .position(|&a| a == hash_function)
            .and_then(|slot| self.by_userhash.get(slot));
        let candidate = index
            .zip(userhash_prefix(userhash))
            .and_then(|(index, prefix)| index.get(&prefix))
            .and_then(|&i| self.users.get(i))
            .filter(|_| realm == self.realm);
        // The same work either way: for nobody, the first user (a name of the table's
        // lengths) is hashed and copied out, and the copy dropped.
        let Some((name, password)) = candidate.or(self.users.first()) else {
            core::hint::black_box(digest::userhash(algorithm, DECOY_NAME, realm.as_bytes()));
            return None;
        };
        let matches = digest::userhash(algorithm, name, realm.as_bytes()).ct_eq(userhash);
        let found = (
            String::from_utf8_lossy(name).into_owned(),
            StoredSecret::Password(password.clone()),
        );
        (candidate.is_some() & matches).then_some(found)
    }
}

/// What a [`NonceCountStore`] says about a nonce count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonceCountCheck {
    /// Not seen before with the nonce: recorded.
    Fresh,
    /// Seen before with the nonce (a replay), or too far below the highest count seen to
    /// tell ([`CountWindow`]).
    Replayed,
    /// The store no longer knows this nonce's history (it was evicted to bound memory):
    /// the verifier answers `stale=true` so the client moves to a new nonce.
    Forgotten,
}

/// Replay protection: the counts seen per nonce and user.
///
/// The verifier calls [`record`](Self::record) only after the response proved the password,
/// so a forged request cannot burn a client's counts. Implementations must check and record
/// atomically; [`CountWindow`] holds what to record per nonce and user.
///
/// Counts are kept per nonce **and user**: the pair (`nonce`, `user`) is the key. A nonce is
/// no secret (every challenge and request carries it), so another valid user could
/// otherwise send a victim's nonce with `nc=ffffffff`, a response right for his own
/// password, and have each of the victim's next counts on it refused as a replay.
pub trait NonceCountStore {
    /// Records `nc` for `nonce` (issued at `issued_at`) and `user` unless it was seen with
    /// them before.
    ///
    /// `user` is the name the [`CredentialStore`] matched, in UTF-8: what
    /// [`Authenticated::username_bytes`](super::Authenticated::username_bytes) will hold,
    /// the same whichever form the client sent it in (`username`, `username*`, a userhash).
    /// A store may key by another identity of the user instead, if it is stable and the same
    /// for every form of the name.
    fn record(
        &self,
        nonce: &[u8],
        user: &[u8],
        issued_at: u64,
        nc: NonceCount,
        now: u64,
    ) -> NonceCountCheck;

    /// Whether `nc` was seen with `nonce` and `user` before, without recording it: a
    /// server asks before work that costs (reading an `auth-int` body) and refuses a count
    /// already used there. The default cannot tell, and says
    /// [`Fresh`](NonceCountCheck::Fresh); [`record`](Self::record) decides either way.
    fn seen(
        &self,
        nonce: &[u8],
        user: &[u8],
        issued_at: u64,
        nc: NonceCount,
        now: u64,
    ) -> NonceCountCheck {
        let _ = (nonce, user, issued_at, nc, now);
        NonceCountCheck::Fresh
    }
}

/// The nonce counts seen with one nonce (and user): the highest, and which of the
/// [`CountWindow::SPAN`] counts below it.
///
/// RFC 7616 §3.4 calls a request a replay when "the same nc-value is seen twice". Counts need
/// not arrive in order: a client sending requests at the same time over several connections
/// numbers them in order, but they overtake each other on the way. A window accepts each
/// count once, in any order, as IPsec's anti-replay window does (RFC 4303 §3.4.3); a count
/// more than `SPAN` below the highest is refused, since whether it was seen is no longer
/// known. Sixteen bytes per nonce.
///
/// ```
/// use httpdigest::NonceCount;
/// use httpdigest::server::{CountWindow, NonceCountCheck};
///
/// let mut seen = CountWindow::new(NonceCount::new(2));
/// assert_eq!(seen.record(NonceCount::new(4)), NonceCountCheck::Fresh);
/// assert_eq!(seen.record(NonceCount::new(3)), NonceCountCheck::Fresh); // overtaken, not seen
/// assert_eq!(seen.record(NonceCount::new(3)), NonceCountCheck::Replayed);
/// assert_eq!(seen.record(NonceCount::new(2)), NonceCountCheck::Replayed);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CountWindow {
    highest: u32,
    /// Bit `i`: count `highest - i` was seen.
    seen: u64,
}

impl CountWindow {
    /// How far below the highest count seen a count is still accepted (if not seen).
    pub const SPAN: u32 = 64;

    /// The window after the nonce's first count.
    pub const fn new(first: NonceCount) -> Self {
        Self {
            highest: first.get(),
            seen: 1,
        }
    }

    /// What [`record`](Self::record) would say, without recording.
    pub fn peek(&self, nc: NonceCount) -> NonceCountCheck {
        let mut copy = *self;
        copy.record(nc)
    }

    /// Records `nc`: [`Fresh`](NonceCountCheck::Fresh) when not seen before and within the
    /// window, [`Replayed`](NonceCountCheck::Replayed) otherwise.
    pub fn record(&mut self, nc: NonceCount) -> NonceCountCheck {
        let nc = nc.get();
        if nc > self.highest {
            let shift = nc - self.highest;
            self.seen = self.seen.checked_shl(shift).unwrap_or(0) | 1;
            self.highest = nc;
            return NonceCountCheck::Fresh;
        }
        let below = self.highest - nc;
        match 1u64.checked_shl(below) {
            Some(bit) if self.seen & bit == 0 => {
                self.seen |= bit;
                NonceCountCheck::Fresh
            }
            _ => NonceCountCheck::Replayed,
        }
    }
}

#[cfg(feature = "std")]
pub use memory::MemoryNonceCounts;

#[cfg(feature = "std")]
mod memory {
    use std::collections::hash_map::Entry;
    use std::collections::{HashMap, VecDeque};
    use std::sync::{Arc, Mutex};

    use super::{CountWindow, NonceCountCheck, NonceCountStore};
    use crate::fingerprint::fingerprint;
    use crate::nonce_count::NonceCount;

    /// How many evicted nonces are remembered by fingerprint, per entry of capacity.
    const FORGOTTEN_PER_ENTRY: usize = 4;

    /// In-memory nonce counts for one server instance (feature `std`), bounded, per nonce and
    /// user.
    ///
    /// Every call takes constant time (amortized), however full the store: entries are
    /// queued in the order they were first recorded, and room is made at the front of the
    /// queue, never by a search. When full, it drops the entries at the front whose nonce has
    /// expired (the verifier refuses an expired nonce before it asks the store). If the front
    /// entry is still live, it evicts that one, the entry recorded first, and keeps only a
    /// 64-bit fingerprint of its key (up to four per entry of capacity): that nonce is then
    /// refused for that user as [`Forgotten`](NonceCountCheck::Forgotten), so the client is
    /// told `stale=true` and moves to a new nonce. When the fingerprints overflow too, the
    /// oldest one is dropped if its nonce was issued before the current second, and every
    /// nonce issued in or before that second counts as forgotten. Memory stays bounded and a
    /// replay is never accepted; only if a single second's nonces fill all of it is a
    /// newcomer refused until the second passes.
    ///
    /// The queue goes by the time an entry was first recorded, not by its nonce's issue time:
    /// an expired entry behind a live one waits for its turn at the front.
    #[derive(Debug)]
    pub struct MemoryNonceCounts {
        inner: Mutex<Inner>,
    }

    #[derive(Debug)]
    struct Inner {
        /// Key of nonce and user ([`with_key`]) -> (issue time, counts seen).
        counts: HashMap<Arc<[u8]>, (u64, CountWindow)>,
        /// The keys of `counts`, each once, in the order first recorded.
        order: VecDeque<Arc<[u8]>>,
        /// Fingerprints of evicted keys -> the latest issue time among the keys of that
        /// fingerprint.
        forgotten: HashMap<u64, u64>,
        /// The fingerprints of `forgotten`, each once, in the order evicted.
        forgotten_order: VecDeque<u64>,
        capacity: usize,
        lifetime: u64,
        /// Nonces issued at or before this time have no trustworthy history.
        forgotten_until: Option<u64>,
    }

    impl MemoryNonceCounts {
        /// A store for up to `capacity` entries (one per nonce and user that used it), each
        /// nonce valid for `lifetime` seconds (the verifier's nonce lifetime).
        pub fn new(capacity: usize, lifetime: u64) -> Self {
            Self {
                inner: Mutex::new(Inner {
                    counts: HashMap::new(),
                    order: VecDeque::new(),
                    forgotten: HashMap::new(),
                    forgotten_order: VecDeque::new(),
                    capacity: capacity.max(1),
                    lifetime,
                    forgotten_until: None,
                }),
            }
        }
    }

    impl NonceCountStore for MemoryNonceCounts {
        fn record(
            &self,
            nonce: &[u8],
            user: &[u8],
            issued_at: u64,
            nc: NonceCount,
            now: u64,
        ) -> NonceCountCheck {
            with_key(nonce, user, |key| self.record_key(key, issued_at, nc, now))
        }

        fn seen(
            &self,
            nonce: &[u8],
            user: &[u8],
            _issued_at: u64,
            nc: NonceCount,
            _now: u64,
        ) -> NonceCountCheck {
            with_key(nonce, user, |key| {
                let Ok(inner) = self.inner.lock() else {
                    return NonceCountCheck::Forgotten;
                };
                inner
                    .counts
                    .get(key)
                    .map_or(NonceCountCheck::Fresh, |(_, seen)| seen.peek(nc))
            })
        }
    }

    /// How long a key may be and still be made on the stack (a nonce of the verifier's is 64
    /// bytes).
    const KEY_ON_STACK: usize = 256;

    /// Calls `f` with the key of `nonce` and `user`: the nonce's length, the nonce and the
    /// user, so that no two pairs share a key. No allocation unless it is long.
    fn with_key<T>(nonce: &[u8], user: &[u8], f: impl FnOnce(&[u8]) -> T) -> T {
        let head = u64::try_from(nonce.len()).unwrap_or(u64::MAX).to_le_bytes();
        let parts = [&head[..], nonce, user];
        let len = parts.iter().map(|p| p.len()).sum::<usize>();
        let mut stack = [0u8; KEY_ON_STACK];
        let Some(key) = stack.get_mut(..len) else {
            return f(&parts.concat());
        };
        let mut rest = &mut *key;
        for part in parts {
            let (into, after) = rest.split_at_mut(part.len());
            into.copy_from_slice(part);
            rest = after;
        }
        f(key)
    }

    impl MemoryNonceCounts {
        fn record_key(
            &self,
            key: &[u8],
            issued_at: u64,
            nc: NonceCount,
            now: u64,
        ) -> NonceCountCheck {
            let Ok(mut inner) = self.inner.lock() else {
                // A panic elsewhere poisoned the lock: refuse rather than guess.
                return NonceCountCheck::Forgotten;
            };
            if let Some((_, seen)) = inner.counts.get_mut(key) {
                return seen.record(nc);
            }
            if inner.forgotten_until.is_some_and(|t| issued_at <= t)
                || inner.forgotten.contains_key(&fingerprint(key))
            {
                return NonceCountCheck::Forgotten;
            }
            if inner.counts.len() >= inner.capacity && !inner.make_room(now) {
                return NonceCountCheck::Forgotten;
            }
            let key: Arc<[u8]> = Arc::from(key);
            inner
                .counts
                .insert(Arc::clone(&key), (issued_at, CountWindow::new(nc)));
            inner.order.push_back(key);
            NonceCountCheck::Fresh
        }
    }

    impl Inner {
        /// Frees at least one entry, from the front of the queues only; `false` when nothing
        /// may be dropped.
        fn make_room(&mut self, now: u64) -> bool {
            let lifetime = self.lifetime;
            let live = |issued: u64| now.saturating_sub(issued) <= lifetime;
            // Expired nonces are refused before their counts are consulted: their entries
            // go without a trace. Each entry leaves the queue once: amortized constant time.
            while let Some(front) = self.order.front() {
                match self.counts.get(front) {
                    Some(&(issued, _)) if live(issued) => break,
                    _ => {
                        if let Some(key) = self.order.pop_front() {
                            self.counts.remove(&key);
                        }
                    }
                }
            }
            // So do the fingerprints of expired nonces, and those the watermark covers.
            let watermark = self.forgotten_until;
            let needed = |issued: u64| live(issued) && watermark.is_none_or(|t| issued > t);
            while let Some(front) = self.forgotten_order.front() {
                match self.forgotten.get(front) {
                    Some(&issued) if needed(issued) => break,
                    _ => {
                        if let Some(fp) = self.forgotten_order.pop_front() {
                            self.forgotten.remove(&fp);
                        }
                    }
                }
            }
            if self.counts.len() < self.capacity {
                return true;
            }
            if self.forgotten.len() >= FORGOTTEN_PER_ENTRY * self.capacity {
                // Trade the oldest fingerprint for a watermark, unless its nonce is of this
                // second: that would refuse this second's fresh nonces too.
                let oldest = self.forgotten_order.front().copied();
                let Some((fp, issued)) =
                    oldest.and_then(|fp| Some((fp, *self.forgotten.get(&fp)?)))
                else {
                    return false;
                };
                if issued >= now {
                    return false;
                }
                self.forgotten_order.pop_front();
                self.forgotten.remove(&fp);
                self.forgotten_until = Some(self.forgotten_until.map_or(issued, |t| t.max(issued)));
            }
            // Evict the entry recorded first; its fingerprint keeps its nonce refused.
            if let Some(key) = self.order.pop_front()
                && let Some((issued, _)) = self.counts.remove(&key)
            {
                match self.forgotten.entry(fingerprint(&key)) {
                    // Two keys of one fingerprint: the later issue time covers both.
                    Entry::Occupied(mut known) => {
                        let latest = (*known.get()).max(issued);
                        known.insert(latest);
                    }
                    Entry::Vacant(slot) => {
                        self.forgotten_order.push_back(*slot.key());
                        slot.insert(issued);
                    }
                }
            }
            true
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn each_count_is_accepted_once_in_any_order() {
            let s = MemoryNonceCounts::new(10, 60);
            let record = |nonce: &[u8], nc| s.record(nonce, b"u", 0, NonceCount::new(nc), 0);
            assert_eq!(record(b"n", 1), NonceCountCheck::Fresh);
            assert_eq!(record(b"n", 1), NonceCountCheck::Replayed);
            assert_eq!(record(b"n", 3), NonceCountCheck::Fresh);
            // 2 was overtaken by 3: not seen, so fresh, once.
            assert_eq!(record(b"n", 2), NonceCountCheck::Fresh);
            assert_eq!(record(b"n", 2), NonceCountCheck::Replayed);
            assert_eq!(record(b"m", 1), NonceCountCheck::Fresh);
        }

        #[test]
        fn seen_tells_a_used_count_without_recording() {
            let s = MemoryNonceCounts::new(10, 60);
            let nc = NonceCount::new;
            assert_eq!(s.seen(b"n", b"u", 0, nc(1), 0), NonceCountCheck::Fresh);
            assert_eq!(s.record(b"n", b"u", 0, nc(1), 0), NonceCountCheck::Fresh);
            assert_eq!(s.seen(b"n", b"u", 0, nc(1), 0), NonceCountCheck::Replayed);
            assert_eq!(s.seen(b"n", b"u", 0, nc(2), 0), NonceCountCheck::Fresh);
            // Looking did not record 2.
            assert_eq!(s.record(b"n", b"u", 0, nc(2), 0), NonceCountCheck::Fresh);
            assert_eq!(s.seen(b"n", b"v", 0, nc(1), 0), NonceCountCheck::Fresh);
        }

        #[test]
        fn counts_are_per_nonce_and_user() {
            let s = MemoryNonceCounts::new(10, 60);
            let record =
                |nonce: &[u8], user: &[u8], nc| s.record(nonce, user, 0, NonceCount::new(nc), 0);
            assert_eq!(record(b"n", b"alice", 1), NonceCountCheck::Fresh);
            // Bob's highest count on alice's nonce is his alone.
            assert_eq!(record(b"n", b"bob", u32::MAX), NonceCountCheck::Fresh);
            assert_eq!(record(b"n", b"alice", 2), NonceCountCheck::Fresh);
            assert_eq!(record(b"n", b"alice", 2), NonceCountCheck::Replayed);
            assert_eq!(record(b"n", b"bob", 2), NonceCountCheck::Replayed);
            // Where the nonce ends and the name begins is part of the key.
            assert_eq!(record(b"ab", b"c", 1), NonceCountCheck::Fresh);
            assert_eq!(record(b"a", b"bc", 1), NonceCountCheck::Fresh);
            assert_eq!(record(b"ab", b"c", 1), NonceCountCheck::Replayed);
            // A key too long for the stack.
            let long = [b'x'; KEY_ON_STACK];
            assert_eq!(record(&long, b"alice", 1), NonceCountCheck::Fresh);
            assert_eq!(record(&long, b"alice", 1), NonceCountCheck::Replayed);
            assert_eq!(record(&long[1..], b"xalice", 1), NonceCountCheck::Fresh);
        }

        #[test]
        fn the_window_spans_64_counts_below_the_highest() {
            let mut seen = CountWindow::new(NonceCount::new(1));
            assert_eq!(seen.record(NonceCount::new(100)), NonceCountCheck::Fresh);
            // 36 is exactly SPAN below 100: out of the window, whether seen or not.
            assert_eq!(seen.record(NonceCount::new(36)), NonceCountCheck::Replayed);
            assert_eq!(seen.record(NonceCount::new(37)), NonceCountCheck::Fresh);
            assert_eq!(seen.record(NonceCount::new(37)), NonceCountCheck::Replayed);
            // A jump beyond the span forgets every earlier count.
            assert_eq!(seen.record(NonceCount::new(500)), NonceCountCheck::Fresh);
            assert_eq!(seen.record(NonceCount::new(499)), NonceCountCheck::Fresh);
            assert_eq!(seen.record(NonceCount::new(100)), NonceCountCheck::Replayed);
            // The top of the range.
            assert_eq!(
                seen.record(NonceCount::new(u32::MAX)),
                NonceCountCheck::Fresh
            );
            assert_eq!(
                seen.record(NonceCount::new(u32::MAX)),
                NonceCountCheck::Replayed
            );
            assert_eq!(
                seen.record(NonceCount::new(u32::MAX - 63)),
                NonceCountCheck::Fresh
            );
        }

        #[test]
        fn bounded_without_accepting_replays() {
            let s = MemoryNonceCounts::new(2, 1000);
            assert_eq!(
                s.record(b"a", b"u", 1, NonceCount::new(1), 10),
                NonceCountCheck::Fresh
            );
            assert_eq!(
                s.record(b"b", b"u", 2, NonceCount::new(1), 10),
                NonceCountCheck::Fresh
            );
            // Full: "a" (oldest) is evicted to make room for "c".
            assert_eq!(
                s.record(b"c", b"u", 3, NonceCount::new(1), 10),
                NonceCountCheck::Fresh
            );
            // "a" cannot be replayed: its history is gone, so it is forgotten, not fresh.
            assert_eq!(
                s.record(b"a", b"u", 1, NonceCount::new(1), 10),
                NonceCountCheck::Forgotten
            );
            assert_eq!(
                s.record(b"b", b"u", 2, NonceCount::new(2), 10),
                NonceCountCheck::Fresh
            );
        }

        #[test]
        fn many_nonces_in_one_second_do_not_lock_out_newcomers() {
            let s = MemoryNonceCounts::new(2, 1000);
            for n in 0u8..8 {
                let got = s.record(&[n], b"u", 10, NonceCount::new(1), 10);
                assert_eq!(got, NonceCountCheck::Fresh, "{n}");
            }
            // Replaying any of them is refused: as a replay while its entry is kept, as
            // forgotten once it was evicted (which ones is arbitrary within one second).
            let replays: Vec<_> = (0u8..8)
                .map(|n| s.record(&[n], b"u", 10, NonceCount::new(1), 10))
                .collect();
            assert!(!replays.contains(&NonceCountCheck::Fresh), "{replays:?}");
            assert_eq!(
                replays
                    .iter()
                    .filter(|c| **c == NonceCountCheck::Forgotten)
                    .count(),
                6
            );
            // Once the fingerprints too are full of this second's nonces, newcomers wait...
            let waited = (8u8..=40).any(|n| {
                s.record(&[n], b"u", 10, NonceCount::new(1), 10) == NonceCountCheck::Forgotten
            });
            assert!(waited);
            // ...until the next second, when the oldest second gives way to a watermark.
            assert_eq!(
                s.record(b"later", b"u", 11, NonceCount::new(1), 11),
                NonceCountCheck::Fresh
            );
            // Its fingerprints are gone, yet an evicted nonce stays refused (watermark), and
            // no nonce of that second is ever fresh for a repeated count.
            let evicted = (0u8..8)
                .find(|n| replays[usize::from(*n)] == NonceCountCheck::Forgotten)
                .unwrap();
            assert_eq!(
                s.record(&[evicted], b"u", 10, NonceCount::new(5), 11),
                NonceCountCheck::Forgotten
            );
            for n in 0u8..=40 {
                assert_ne!(
                    s.record(&[n], b"u", 10, NonceCount::new(1), 11),
                    NonceCountCheck::Fresh,
                    "{n}"
                );
            }
        }

        /// The best time of five rounds of `f`, each `calls` calls.
        /// A full store takes new nonces: making room evicts from the front of its queue
        /// (no scan of the entries; what that costs is measured in `benches/stores.rs`,
        /// speed being a benchmark's matter, not a test's).
        #[test]
        fn a_full_store_takes_new_nonces() {
            let s = MemoryNonceCounts::new(1_000, 300);
            let nonce = |i: usize| format!("{i:0>64}").into_bytes();
            for i in 0..1_000 {
                let check = s.record(&nonce(i), b"u", 1, NonceCount::new(1), 1);
                assert_eq!(check, NonceCountCheck::Fresh);
            }
            for i in 1_000..1_200 {
                let check = s.record(&nonce(i), b"u", 2, NonceCount::new(1), 2);
                assert_eq!(check, NonceCountCheck::Fresh, "{i}");
            }
            // The newest are all known: a replay of each is refused.
            for i in 1_000..1_200 {
                let check = s.record(&nonce(i), b"u", 2, NonceCount::new(1), 2);
                assert_eq!(check, NonceCountCheck::Replayed, "{i}");
            }
        }

        /// Under a load the store can hold (fewer new nonces per lifetime than its capacity),
        /// expired entries make the room and no live nonce is forgotten; past it, memory
        /// stays bounded and nothing recorded is ever fresh again.
        #[test]
        fn expired_nonces_make_room_and_memory_stays_bounded() {
            let s = MemoryNonceCounts::new(100, 10);
            let nonce = |i: u64| i.to_le_bytes();
            // 9 new nonces a second, each living 10 s: at most 99 live at once.
            for now in 0..200u64 {
                for i in now * 9..now * 9 + 9 {
                    let check = s.record(&nonce(i), b"u", now, NonceCount::new(1), now);
                    assert_eq!(check, NonceCountCheck::Fresh, "{i} at {now}");
                }
                let first_live = now.saturating_sub(10) * 9;
                let replay = s.record(&nonce(first_live), b"u", 0, NonceCount::new(1), now);
                assert_eq!(replay, NonceCountCheck::Replayed, "{first_live} at {now}");
            }
            assert!(s.inner.lock().unwrap().forgotten.is_empty());

            // Then 50 new nonces a second.
            for now in 200..400u64 {
                for i in 0..50 {
                    let i = now * 50 + i;
                    s.record(&nonce(i), b"u", now, NonceCount::new(1), now);
                    let inner = s.inner.lock().unwrap();
                    assert!(inner.counts.len() <= 100 && inner.order.len() == inner.counts.len());
                    assert!(inner.forgotten.len() <= 400);
                    assert_eq!(inner.forgotten_order.len(), inner.forgotten.len());
                }
            }
            // No live nonce recorded is fresh again (the verifier refuses the expired ones).
            for i in 389 * 50..400 * 50 {
                let check = s.record(&nonce(i), b"u", i / 50, NonceCount::new(1), 399);
                assert_ne!(check, NonceCountCheck::Fresh, "{i}");
            }
        }

        #[test]
        fn expired_entries_go_first() {
            let s = MemoryNonceCounts::new(2, 5);
            assert_eq!(
                s.record(b"a", b"u", 1, NonceCount::new(1), 1),
                NonceCountCheck::Fresh
            );
            assert_eq!(
                s.record(b"b", b"u", 9, NonceCount::new(1), 9),
                NonceCountCheck::Fresh
            );
            assert_eq!(
                s.record(b"c", b"u", 10, NonceCount::new(1), 10),
                NonceCountCheck::Fresh
            );
            assert_eq!(
                s.record(b"b", b"u", 9, NonceCount::new(2), 10),
                NonceCountCheck::Fresh
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// With and without `std` (a hash map or an ordered map behind the index): every user
    /// is found by the userhash of each hash function, replaced passwords are the new ones,
    /// and a hash of nobody, another realm's or a truncated one finds nobody.
    #[test]
    fn users_are_found_by_userhash() {
        let mut users = Users::new("r");
        assert!(
            users
                .lookup_userhash(b"00000000000000000000000000000000", "r", Algorithm::Md5)
                .is_none()
        );
        users.insert("alice", "old");
        users.insert("bob", "hunter2");
        users.insert("alice", "s3cret");
        for algorithm in Algorithm::ALL {
            for (name, password) in [("alice", "s3cret"), ("bob", "hunter2")] {
                let hash = digest::userhash(algorithm, name.as_bytes(), b"r");
                let Some((found, StoredSecret::Password(p))) =
                    users.lookup_userhash(hash.as_bytes(), "r", algorithm)
                else {
                    panic!("{name} {algorithm}");
                };
                assert_eq!((found.as_str(), p.as_str()), (name, password));
                assert!(
                    users
                        .lookup_userhash(hash.as_bytes(), "s", algorithm)
                        .is_none()
                );
                let short = hash.as_bytes().get(..hash.as_bytes().len() - 1).unwrap();
                assert!(users.lookup_userhash(short, "r", algorithm).is_none());
                let mut longer = hash.as_bytes().to_vec();
                longer.push(b'0');
                assert!(users.lookup_userhash(&longer, "r", algorithm).is_none());
            }
            let nobody = digest::userhash(algorithm, b"carol", b"r");
            assert!(
                users
                    .lookup_userhash(nobody.as_bytes(), "r", algorithm)
                    .is_none()
            );
        }
    }
}
