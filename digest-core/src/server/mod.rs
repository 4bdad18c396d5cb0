//! The sans-IO server side: issue challenges, verify credentials. See [`Verifier`].

mod authentication_info;
mod config;
#[cfg(feature = "std")]
mod htdigest;
mod nonce;
mod store;
mod verdict;
mod verification;

use alloc::string::String;
use alloc::vec::Vec;

use rand_core::TryCryptoRng;

#[cfg(feature = "std")]
pub use htdigest::{Htdigest, HtdigestError};
#[cfg(feature = "std")]
pub use store::MemoryNonceCounts;
pub use store::{
    CountWindow, CredentialStore, Ha1Error, NonceCountCheck, NonceCountStore, StoredSecret, Users,
};

use crate::header::challenge::ChallengeParams;
use crate::side::Side;
pub use authentication_info::BodyRspauth;
pub use config::{ConfigError, VerifierConfig};
pub use nonce::{NonceStatus, RandomnessFailed};
pub use verdict::{Authenticated, Reason, Rejection};
pub use verification::{CountEntry, Lookup, Proven, ServerRequest, User, Verification};

/// The Digest server verifier: issues challenges and checks credentials, with no I/O, no
/// clock and no randomness of its own.
///
/// Once, fit it to the credential store with [`for_store`](Self::for_store): it then offers
/// only the algorithms the store can verify, and a store of another realm is refused.
///
/// For each request:
///
/// 1. [`verify`](Self::verify) with the method, request-target, `Authorization` value (and
///    the body, for `auth-int`), the current time in seconds, a [`CredentialStore`] and a
///    [`NonceCountStore`].
/// 2. On success, serve the request and send [`Authenticated::authentication_info`] as
///    `Authentication-Info`.
/// 3. On a [`Rejection`] with status 401, answer 401 with one `WWW-Authenticate` field per
///    value of [`challenges`](Self::challenges)`(now, rejection.stale(), rng)`; with 400,
///    answer 400.
///
/// Nonces are stateless (the issue time, a random salt from the caller's generator, and an
/// HMAC-SHA-256 over both and the realm under the secret key), so instances sharing the key
/// verify each other's nonces; only the nonce counts need a shared store for replay
/// protection across instances.
///
/// User names are text, looked up and hashed in UTF-8: a `username*` as decoded (what this
/// crate's client sends after `charset=UTF-8`); a quoted `username` as sent when its bytes
/// are UTF-8 (raw UTF-8: what curl, wget, aiohttp and Chromium send) and, when they are not,
/// read as ISO-8859-1, one character per byte. Many clients (python-requests, Apache HttpClient 5, Node's
/// digest-fetch and urllib) send a non-ASCII name as its ISO-8859-1 bytes while hashing its
/// UTF-8 form, even after `charset=UTF-8`; Tomcat reads names the same way. Bytes that are
/// valid UTF-8 stay UTF-8 (ISO-8859-1 `Ã©` is read as `é`), and a client that hashes the
/// ISO-8859-1 bytes themselves is refused as a wrong password. A userhash is matched as
/// sent. Unknown users and wrong passwords take one path (a decoy secret for the unknown),
/// and the name is read before the store is asked, from the bytes alone, so the answer and
/// the work are the same for both.
///
/// ```
/// use httpdigest::ThreadRng;
/// use httpdigest::server::{
///     ConfigError, MemoryNonceCounts, ServerRequest, Users, Verifier, VerifierConfig,
/// };
///
/// let mut users = Users::new("api@example.org");
/// users.insert("alice", "s3cret");
/// let verifier = Verifier::new(VerifierConfig::new(users.realm()), b"a long random secret key")?
///     .for_store(&users)?;
/// let counts = MemoryNonceCounts::new(10_000, 300);
///
/// let request = ServerRequest { method: "GET", target: "/", authority: None, authorization: None, body: None };
/// let now = 1_700_000_000;
/// let rejection = verifier.verify(&request, now, &users, &counts, &mut ThreadRng::default()).unwrap_err();
/// assert_eq!(rejection.status(), 401);
/// let challenges = verifier.challenges(now, rejection.stale(), &mut ThreadRng::default())?;
/// assert!(challenges[0].starts_with("Digest realm=\"api@example.org\""));
/// assert!(challenges[0].contains("algorithm=SHA-256"));
///
/// // A realm no header can carry is refused when the verifier is built.
/// let broken = Verifier::new(VerifierConfig::new("api\r\nX-Injected: 1"), b"a long random secret key");
/// assert_eq!(broken.unwrap_err(), ConfigError::ControlCharacter("realm"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Verifier {
    config: VerifierConfig,
    key: nonce::NonceKey,
}

impl core::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Verifier")
            .field("config", &self.config)
            .field("key", &"<redacted>")
            .finish()
    }
}

impl Verifier {
    /// A verifier with this configuration and secret key (for the nonce MAC; use at least 32
    /// random bytes, and the same key on every instance that should accept the others'
    /// nonces).
    ///
    /// # Errors
    ///
    /// [`ConfigError`] for a configuration no challenge can be written from.
    pub fn new(config: VerifierConfig, key: &[u8]) -> Result<Self, ConfigError> {
        use crate::header::quoted::check_no_ctl;
        let ctl = |field: &'static str, value: &str| {
            check_no_ctl(field, value).map_err(|_| ConfigError::ControlCharacter(field))
        };
        ctl("realm", &config.realm)?;
        for uri in &config.domain {
            ctl("domain", uri)?;
        }
        if let Some(opaque) = &config.opaque {
            ctl("opaque", opaque)?;
        }
        let verifier = Self {
            config,
            key: nonce::NonceKey::new(key),
        };
        let config = &verifier.config;
        if !config.algorithms.iter().any(|&a| config.offers(a)) {
            return Err(ConfigError::NoAlgorithm);
        }
        Ok(verifier)
    }

    /// The same verifier, offering only what `store` can verify: the configured algorithms
    /// the store [`verifies`](CredentialStore::verifies), in their order (an htdigest file of
    /// MD5 H(A1)s: `MD5` and `MD5-sess` only). A client picks the strongest challenge it
    /// can answer, so a challenge the store cannot check would lock out every user of a
    /// client that prefers it (curl picks `SHA-256` over `MD5`).
    ///
    /// ```
    /// use httpdigest::Algorithm;
    /// use httpdigest::server::{ConfigError, Htdigest, Users, Verifier, VerifierConfig};
    ///
    /// let file = Htdigest::parse("alice:lab:6b6e2e3b3e3a1b2a0f1d2c3b4a596877\n", Algorithm::Md5)?;
    /// let key = b"a long random secret key";
    /// let verifier = Verifier::new(VerifierConfig::new("lab"), key)?.for_store(&file)?;
    /// assert_eq!(verifier.config().algorithms, [Algorithm::Md5]); // SHA-256 dropped
    ///
    /// // A realm the store does not hold is refused here, not answered with "unknown user".
    /// let other = Verifier::new(VerifierConfig::new("api"), key)?.for_store(&file);
    /// assert_eq!(other.unwrap_err(), ConfigError::RealmMismatch { realm: "api".into() });
    ///
    /// // A store of passwords verifies every algorithm.
    /// let users = Users::new("lab");
    /// let verifier = Verifier::new(VerifierConfig::new(users.realm()), key)?.for_store(&users)?;
    /// assert_eq!(verifier.config().algorithms, [Algorithm::Sha256, Algorithm::Md5]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ConfigError::RealmMismatch`] when the store holds no user of the verifier's realm
    /// ([`CredentialStore::serves_realm`]), [`ConfigError::NoAlgorithmForStore`] when the
    /// store verifies none of the algorithms offered.
    pub fn for_store<C: CredentialStore + ?Sized>(
        mut self,
        store: &C,
    ) -> Result<Self, ConfigError> {
        if !store.serves_realm(&self.config.realm) {
            return Err(ConfigError::RealmMismatch {
                realm: self.config.realm.clone(),
            });
        }
        self.config.algorithms.retain(|&a| store.verifies(a));
        let config = &self.config;
        if !config.algorithms.iter().any(|&a| config.offers(a)) {
            return Err(ConfigError::NoAlgorithmForStore);
        }
        Ok(self)
    }

    /// The same verifier (same key), answering for `side`: see [`VerifierConfig::side`].
    #[must_use]
    pub fn with_side(mut self, side: Side) -> Self {
        self.config.side = side;
        self
    }

    /// The configuration.
    pub const fn config(&self) -> &VerifierConfig {
        &self.config
    }

    /// A fresh nonce for time `now`, salted from `rng` so that no two challenges share one.
    ///
    /// # Errors
    ///
    /// [`RandomnessFailed`] when the generator fails.
    pub fn nonce<R: TryCryptoRng + ?Sized>(
        &self,
        now: u64,
        rng: &mut R,
    ) -> Result<String, RandomnessFailed> {
        nonce::fresh(&self.key, &self.config.realm, now, rng)
    }

    /// The `WWW-Authenticate` values to send with a 401: one per configured algorithm, in
    /// order, sharing one fresh nonce. `stale` sets `stale=true` (from
    /// [`Rejection::stale`]).
    ///
    /// # Errors
    ///
    /// [`RandomnessFailed`] when the generator fails (answer 500 then).
    pub fn challenges<R: TryCryptoRng + ?Sized>(
        &self,
        now: u64,
        stale: bool,
        rng: &mut R,
    ) -> Result<Vec<String>, RandomnessFailed> {
        let nonce = self.nonce(now, rng)?;
        let domain: Vec<&str> = self.config.domain.iter().map(String::as_str).collect();
        Ok(self
            .config
            .algorithms
            .iter()
            .filter(|&&algorithm| self.config.offers(algorithm))
            .filter_map(|&algorithm| {
                ChallengeParams {
                    realm: &self.config.realm,
                    domain: &domain,
                    nonce: &nonce,
                    opaque: self.config.opaque.as_deref(),
                    stale,
                    algorithm: Some(algorithm),
                    qop: self.config.qop,
                    charset_utf8: self.config.charset_utf8,
                    userhash: self.config.userhash,
                }
                // `Verifier::new` refused the values that could fail here.
                .to_header_value()
                .ok()
            })
            .collect())
    }

    /// The first step of a verification in steps (see [`Verification`]), for stores that
    /// answer later: the checks that need no store. [`verify`](Self::verify) runs every step
    /// against synchronous stores.
    ///
    /// # Errors
    ///
    /// A [`Rejection`] when the credentials are missing, malformed, or do not fit what was
    /// offered, or the nonce is forged.
    pub fn begin<'r>(
        &'r self,
        request: &ServerRequest<'r>,
        now: u64,
    ) -> Result<Verification<'r>, Rejection> {
        let check = |n: &[u8]| {
            nonce::check(
                &self.key,
                &self.config.realm,
                n,
                now,
                self.config.nonce_lifetime,
            )
        };
        self.begin_with_nonce_check(request, now, check)
    }

    /// [`begin`](Self::begin) with another judge of nonces (see
    /// [`verify_with_nonce_check`](Self::verify_with_nonce_check)).
    ///
    /// # Errors
    ///
    /// As [`begin`](Self::begin).
    pub fn begin_with_nonce_check<'r>(
        &'r self,
        request: &ServerRequest<'r>,
        now: u64,
        check_nonce: impl FnOnce(&[u8]) -> NonceStatus,
    ) -> Result<Verification<'r>, Rejection> {
        verification::begin(&self.config, &self.key, request, now, check_nonce)
    }

    /// Verifies the credentials of a request. See the type's documentation for the flow;
    /// the same steps one by one, for stores that answer later, are [`begin`](Self::begin)
    /// and [`Verification`].
    ///
    /// `now` is the time in seconds (any epoch, the same for every call); `rng` salts the
    /// `nextnonce` sent when the nonce is near its end (if it fails, no `nextnonce` is sent
    /// and the client will see `stale=true` instead).
    ///
    /// # Errors
    ///
    /// A [`Rejection`] saying what to answer and, for logs, why.
    pub fn verify<C, N, R>(
        &self,
        request: &ServerRequest<'_>,
        now: u64,
        credentials: &C,
        nonce_counts: &N,
        rng: &mut R,
    ) -> Result<Authenticated, Rejection>
    where
        C: CredentialStore + ?Sized,
        N: NonceCountStore + ?Sized,
        R: TryCryptoRng + ?Sized,
    {
        let verification = self.begin(request, now)?;
        self.verify_steps(verification, request, now, credentials, nonce_counts, rng)
    }

    /// [`verify`](Self::verify) with another judge of nonces than this verifier's own: for
    /// nonces issued elsewhere (a deployment with its own nonce scheme, or the fixed nonces
    /// of the RFC examples in tests). Everything else is checked as `verify` does.
    ///
    /// # Errors
    ///
    /// As [`verify`](Self::verify).
    pub fn verify_with_nonce_check<C, N, R>(
        &self,
        request: &ServerRequest<'_>,
        now: u64,
        credentials: &C,
        nonce_counts: &N,
        rng: &mut R,
        check_nonce: impl FnOnce(&[u8]) -> NonceStatus,
    ) -> Result<Authenticated, Rejection>
    where
        C: CredentialStore + ?Sized,
        N: NonceCountStore + ?Sized,
        R: TryCryptoRng + ?Sized,
    {
        let verification = self.begin_with_nonce_check(request, now, check_nonce)?;
        self.verify_steps(verification, request, now, credentials, nonce_counts, rng)
    }

    /// The steps after [`begin`](Self::begin), against synchronous stores.
    fn verify_steps<C, N, R>(
        &self,
        verification: Verification<'_>,
        request: &ServerRequest<'_>,
        now: u64,
        credentials: &C,
        nonce_counts: &N,
        rng: &mut R,
    ) -> Result<Authenticated, Rejection>
    where
        C: CredentialStore + ?Sized,
        N: NonceCountStore + ?Sized,
        R: TryCryptoRng + ?Sized,
    {
        // Only credentials on a nonce of ours get their body hashed for `auth-int`: a forged
        // nonce was refused by `begin` (an `auth-int` answer without the body, by `prove`).
        let user = verification
            .lookup()
            .in_store(credentials, &self.config.realm);
        let proven = verification.prove(user, request.body)?;
        let recorded = match proven.nonce_count() {
            Some(count) => {
                nonce_counts.record(count.nonce, proven.user(), count.issued_at, count.nc, now)
            }
            None => NonceCountCheck::Fresh,
        };
        proven.finish(recorded, rng)
    }
}
