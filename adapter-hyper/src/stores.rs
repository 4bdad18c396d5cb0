//! The stores [`RequireDigestLayer`](crate::RequireDigestLayer) awaits: users
//! ([`AsyncCredentialStore`]) and the nonce counts seen ([`AsyncNonceCountStore`]).
//!
//! The core's synchronous stores ([`CredentialStore`], [`NonceCountStore`]: `Users`,
//! `Htdigest`, `MemoryNonceCounts`) are async stores as they are, answering at once. A store
//! behind the network (a database of users, a Redis shared by replicas: the feature
//! `redis`) implements these traits itself; the layer drives the core's verification in
//! steps ([`Verification`](httpdigest::server::Verification)) around the awaits.

use std::future::{Future, ready};
use std::pin::Pin;

use httpdigest::Algorithm;
use httpdigest::server::{
    CountEntry, CredentialStore, Lookup, NonceCountCheck, NonceCountStore, User,
};

use crate::error::BoxError;

/// What a store's call returns: a boxed future, so that stores can be kept as trait objects.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// A store could not answer (the database or Redis is unreachable, a timeout): the layer
/// accepts nothing then, and answers `503 Service Unavailable` with `Retry-After`.
#[derive(Debug, thiserror::Error)]
#[error("the store is unavailable: {source}")]
pub struct StoreError {
    #[source]
    source: BoxError,
}

impl StoreError {
    /// A store error caused by `source`.
    pub fn new(source: impl Into<BoxError>) -> Self {
        Self {
            source: source.into(),
        }
    }
}

/// Where the layer finds users, awaited.
///
/// Take the same time for a user who does not exist as for one who does (the core goes on
/// with a decoy secret for nobody, so that the rest of its work is the same): a store whose
/// answer comes sooner for unknown names tells them apart.
pub trait AsyncCredentialStore: Send + Sync {
    /// The user `lookup` names in `realm` (by name or by userhash, as
    /// [`CredentialStore::lookup`] and [`CredentialStore::lookup_userhash`] say), or `None`.
    fn find<'a>(&'a self, lookup: Lookup<'a>, realm: &'a str) -> StoreFuture<'a, Option<User>>;

    /// Whether the store can check every user's answers under `algorithm`, as
    /// [`CredentialStore::verifies`] says: a store of passwords can (the default), a store
    /// of H(A1)s only for their hash function. The layer offers only the algorithms this
    /// says yes to.
    fn verifies(&self, algorithm: Algorithm) -> bool {
        let _ = algorithm;
        true
    }

    /// Whether the store holds (or may hold) users of `realm`, as
    /// [`CredentialStore::serves_realm`] says; the layer refuses to be built for a realm
    /// its store does not hold. The default says yes.
    fn serves_realm(&self, realm: &str) -> bool {
        let _ = realm;
        true
    }
}

impl<T: CredentialStore + Send + Sync> AsyncCredentialStore for T {
    fn find<'a>(&'a self, lookup: Lookup<'a>, realm: &'a str) -> StoreFuture<'a, Option<User>> {
        Box::pin(ready(Ok(lookup.in_store(self, realm))))
    }

    fn verifies(&self, algorithm: Algorithm) -> bool {
        CredentialStore::verifies(self, algorithm)
    }

    fn serves_realm(&self, realm: &str) -> bool {
        CredentialStore::serves_realm(self, realm)
    }
}

/// Replay protection, awaited: the counts seen per nonce and user (see
/// [`NonceCountStore`]).
pub trait AsyncNonceCountStore: Send + Sync {
    /// Whether `count` was seen with `user` before, without recording it: the layer asks
    /// before work that costs (reading an `auth-int` body), and refuses a count already
    /// used. [`Fresh`](NonceCountCheck::Fresh) when it cannot tell.
    fn seen<'a>(
        &'a self,
        count: CountEntry<'a>,
        user: &'a [u8],
        now: u64,
    ) -> StoreFuture<'a, NonceCountCheck>;

    /// Records `count` for `user` unless it was seen before, checking and recording in one
    /// atomic step (two replicas recording the same count at once: one is `Fresh`, the
    /// other `Replayed`).
    fn record<'a>(
        &'a self,
        count: CountEntry<'a>,
        user: &'a [u8],
        now: u64,
    ) -> StoreFuture<'a, NonceCountCheck>;
}

impl<T: NonceCountStore + Send + Sync> AsyncNonceCountStore for T {
    fn seen<'a>(
        &'a self,
        count: CountEntry<'a>,
        user: &'a [u8],
        now: u64,
    ) -> StoreFuture<'a, NonceCountCheck> {
        Box::pin(ready(Ok(NonceCountStore::seen(
            self,
            count.nonce,
            user,
            count.issued_at,
            count.nc,
            now,
        ))))
    }

    fn record<'a>(
        &'a self,
        count: CountEntry<'a>,
        user: &'a [u8],
        now: u64,
    ) -> StoreFuture<'a, NonceCountCheck> {
        Box::pin(ready(Ok(NonceCountStore::record(
            self,
            count.nonce,
            user,
            count.issued_at,
            count.nc,
            now,
        ))))
    }
}
