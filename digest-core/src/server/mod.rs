//! The sans-IO server side: issue challenges, verify credentials. See [`Verifier`].

#[cfg(feature = "std")]
mod htdigest;
mod nonce;
mod store;

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;

use rand_core::TryCryptoRng;
use zeroize::Zeroizing;

#[cfg(feature = "std")]
pub use htdigest::{Htdigest, HtdigestError};
#[cfg(feature = "std")]
pub use store::MemoryNonceCounts;
pub use store::{
    CountWindow, CredentialStore, NonceCountCheck, NonceCountStore, StoredSecret, Users,
};

use crate::algorithm::Algorithm;
use crate::digest::{self, HexDigest, QopParams};
use crate::error::{ParseError, ParseErrorKind};
use crate::header::authentication_info::AuthenticationInfoParams;
use crate::header::challenge::ChallengeParams;
use crate::header::credentials::DigestCredentials;
use crate::header::grammar::Limits;
use crate::qop::{Qop, QopOptions};
use crate::side::Side;
pub use nonce::NonceStatus;

/// What a [`Verifier`] offers and accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifierConfig {
    /// The realm.
    pub realm: String,
    /// The algorithms offered, in order of preference: one challenge each, in this order.
    /// A `-sess` algorithm needs a qop (its H(A1) hashes the client's `cnonce`, which is
    /// sent only with a qop): with [`qop`](Self::qop) empty it is neither offered nor
    /// accepted.
    pub algorithms: Vec<Algorithm>,
    /// The qop values offered; empty offers none (RFC 2069 mode, no replay protection).
    pub qop: QopOptions,
    /// Offer `userhash=true`.
    pub userhash: bool,
    /// Send `charset=UTF-8` (user names are UTF-8, `username*` accepted). Either way, a
    /// quoted `username` that is not UTF-8 is read as ISO-8859-1 (see [`Verifier`]).
    pub charset_utf8: bool,
    /// `domain`: the URIs of the protection space; empty sends none (the whole origin).
    pub domain: Vec<String>,
    /// `opaque`, which clients must echo unchanged.
    pub opaque: Option<String>,
    /// How long a nonce is valid, in seconds.
    pub nonce_lifetime: u64,
    /// Send `nextnonce` when a nonce has less than this many seconds left; `None`: a tenth
    /// of the lifetime.
    pub nextnonce_within: Option<u64>,
    /// Parser limits for `Authorization`.
    pub limits: Limits,
    /// Whom the verifier speaks for: an origin (`Authorization`, 401), the default, or a
    /// forward proxy (`Proxy-Authorization`, 407).
    pub side: Side,
}

impl VerifierConfig {
    /// SHA-256 then MD5, qop `auth`, `charset=UTF-8`, nonces valid 300 s (`nextnonce` in
    /// their last tenth): what every client in the field can answer, strongest first.
    pub fn new(realm: impl Into<String>) -> Self {
        Self {
            realm: realm.into(),
            algorithms: alloc::vec![Algorithm::Sha256, Algorithm::Md5],
            qop: QopOptions::AUTH,
            userhash: false,
            charset_utf8: true,
            domain: Vec::new(),
            opaque: None,
            nonce_lifetime: 300,
            nextnonce_within: None,
            limits: Limits::DEFAULT,
            side: Side::Origin,
        }
    }

    /// Sets [`side`](Self::side) to [`Side::Proxy`]: the verifier answers for a forward
    /// proxy, and its refusals that challenge are 407.
    #[must_use]
    pub const fn for_proxy(mut self) -> Self {
        self.side = Side::Proxy;
        self
    }

    /// Sets [`algorithms`](Self::algorithms).
    #[must_use]
    pub fn with_algorithms(mut self, algorithms: impl IntoIterator<Item = Algorithm>) -> Self {
        self.algorithms = algorithms.into_iter().collect();
        self
    }

    /// Sets [`qop`](Self::qop).
    #[must_use]
    pub const fn with_qop(mut self, qop: QopOptions) -> Self {
        self.qop = qop;
        self
    }

    /// Sets [`userhash`](Self::userhash).
    #[must_use]
    pub const fn with_userhash(mut self, userhash: bool) -> Self {
        self.userhash = userhash;
        self
    }

    /// Sets [`opaque`](Self::opaque).
    #[must_use]
    pub fn with_opaque(mut self, opaque: impl Into<String>) -> Self {
        self.opaque = Some(opaque.into());
        self
    }

    /// Sets [`domain`](Self::domain).
    #[must_use]
    pub fn with_domain(mut self, uris: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.domain = uris.into_iter().map(Into::into).collect();
        self
    }

    /// Sets [`nonce_lifetime`](Self::nonce_lifetime).
    #[must_use]
    pub const fn with_nonce_lifetime(mut self, seconds: u64) -> Self {
        self.nonce_lifetime = seconds;
        self
    }

    /// Sets [`nextnonce_within`](Self::nextnonce_within).
    #[must_use]
    pub const fn with_nextnonce_within(mut self, seconds: u64) -> Self {
        self.nextnonce_within = Some(seconds);
        self
    }

    /// Sets [`charset_utf8`](Self::charset_utf8).
    #[must_use]
    pub const fn with_charset_utf8(mut self, charset_utf8: bool) -> Self {
        self.charset_utf8 = charset_utf8;
        self
    }
}

/// What the verifier was handed about a request.
#[derive(Debug, Clone, Copy)]
pub struct ServerRequest<'a> {
    /// The method.
    pub method: &'a str,
    /// The request-target as received (path and query, the absolute form, or `*` for
    /// `OPTIONS *`).
    pub target: &'a str,
    /// The authority the request names (its `Host` header; for an absolute-form target, its
    /// authority): an absolute-form `uri` in the credentials must name it (RFC 7616 §3.4:
    /// the `uri` is the request's own). `None`: an absolute-form `uri` to an origin-form
    /// target is refused, as its authority cannot be checked.
    pub authority: Option<&'a str>,
    /// The `Authorization` field value, if any.
    pub authorization: Option<&'a [u8]>,
    /// The body, when the server buffered it (needed for `auth-int`).
    pub body: Option<&'a [u8]>,
}

/// A verified request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticated {
    /// The user (for userhash requests, the name the store resolved), as text. A quoted
    /// `username` whose bytes are not UTF-8 was read as ISO-8859-1 (see [`Verifier`]): this is
    /// that name, in UTF-8.
    pub username: String,
    /// The user name as the store matched it: the UTF-8 form of [`username`](Self::username)
    /// (for a store's userhash lookup, the bytes of the name it resolved).
    pub username_bytes: Vec<u8>,
    /// The `Authentication-Info` value to send: `rspauth` (not for `auth-int`, whose
    /// `rspauth` would cover the response body), `qop`, `nc`, `cnonce`, and `nextnonce` when
    /// the nonce is near its end.
    pub authentication_info: String,
}

/// Why a request was refused, for logs. Never send it to the client: unknown user and wrong
/// password must look the same from outside (see [`Rejection`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Reason {
    /// No `Authorization` header.
    #[error("no credentials")]
    MissingCredentials,
    /// Credentials of another scheme.
    #[error("not Digest credentials")]
    NotDigest,
    /// The header does not parse.
    #[error("malformed credentials: {0}")]
    Malformed(ParseError),
    /// `realm` is not ours.
    #[error("wrong realm")]
    WrongRealm,
    /// `uri` is not the request-target (or names another authority than the request's).
    #[error("uri does not match the request-target")]
    UriMismatch,
    /// More than one `Authorization` (`Proxy-Authorization`) field: which one the client
    /// meant is not for the server to guess.
    #[error("several credentials fields")]
    SeveralCredentials,
    /// `nc=00000000`: counts start at 1 (RFC 7616 §3.4).
    #[error("nonce count zero")]
    ZeroNonceCount,
    /// An algorithm not offered.
    #[error("algorithm not offered")]
    AlgorithmNotOffered,
    /// A qop not offered (or qop missing when one was required, or sent when none was
    /// offered).
    #[error("qop not offered")]
    QopNotOffered,
    /// qop without `nc` or `cnonce`.
    #[error("nc or cnonce missing")]
    MissingNonceCountOrCnonce,
    /// `auth-int` but the server was not given the body.
    #[error("auth-int without the body")]
    BodyUnavailable,
    /// `opaque` missing or changed.
    #[error("opaque does not match")]
    OpaqueMismatch,
    /// A nonce this server (or its key) did not issue.
    #[error("forged nonce")]
    ForgedNonce,
    /// An authentic nonce past its lifetime; the response was right (hence `stale=true`).
    #[error("expired nonce")]
    ExpiredNonce,
    /// `userhash=true` although not offered.
    #[error("userhash not offered")]
    UserhashNotOffered,
    /// No such user.
    #[error("unknown user")]
    UnknownUser,
    /// The response does not match.
    #[error("wrong password")]
    WrongPassword,
    /// A nonce count equal to or lower than one already seen.
    #[error("replayed nonce count")]
    ReplayedNonceCount,
    /// The nonce-count store no longer knows the nonce; the client is told it is stale.
    #[error("nonce count history forgotten")]
    NonceCountForgotten,
}

/// A configuration a [`Verifier`] cannot serve: refused when it is built, rather than
/// answering every request with a challenge no client can use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A configured value that goes into challenges (the realm, a `domain` URI, the
    /// `opaque`) holds a control character, which no header can carry.
    #[error("the configured {0} holds a control character")]
    ControlCharacter(&'static str),
    /// No algorithm is offered: none is configured, or only `-sess` ones without a qop.
    #[error("no algorithm is offered")]
    NoAlgorithm,
}

/// The random number generator failed while making a nonce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the random number generator failed")]
pub struct RandomnessFailed;

/// A refused request: what to answer (status, whether the new challenges say `stale=true`)
/// and, for logs only, the [`Reason`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct Rejection {
    status: u16,
    stale: bool,
    reason: Reason,
}

impl Rejection {
    const fn unauthorized(reason: Reason) -> Self {
        Self {
            status: 401,
            stale: false,
            reason,
        }
    }

    const fn bad_request(reason: Reason) -> Self {
        Self {
            status: 400,
            stale: false,
            reason,
        }
    }

    /// The answer to a request with more than one `Authorization` (`Proxy-Authorization`)
    /// field, which a [`ServerRequest`] cannot carry: 400, [`Reason::SeveralCredentials`].
    /// For the integration that reads the fields.
    pub const fn several_credentials() -> Self {
        Self::bad_request(Reason::SeveralCredentials)
    }

    /// 401, or 407 for a proxy's verifier (send [`Verifier::challenges`]), or 400
    /// (malformed credentials, a `uri` that is not the request-target).
    pub const fn status(&self) -> u16 {
        self.status
    }

    /// Whether the answer is a challenge (401 or 407): send [`Verifier::challenges`] with it.
    pub const fn challenges(&self) -> bool {
        Side::from_challenge_status(self.status).is_some()
    }

    /// Whether the request is to be verified again with its body: the credentials answer
    /// with `qop=auth-int`, and the body was not given.
    pub const fn needs_body(&self) -> bool {
        matches!(self.reason, Reason::BodyUnavailable)
    }

    /// Whether the challenges to send should carry `stale=true`: the password was right but
    /// the nonce is no longer usable.
    pub const fn stale(&self) -> bool {
        self.stale
    }

    /// The internal reason, for logging. Unknown user and wrong password differ here and
    /// nowhere else.
    pub const fn reason(&self) -> &Reason {
        &self.reason
    }
}

/// The Digest server verifier: issues challenges and checks credentials, with no I/O, no
/// clock and no randomness of its own.
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
/// let verifier = Verifier::new(VerifierConfig::new("api@example.org"), b"a long random secret key")?;
/// let mut users = Users::new("api@example.org");
/// users.insert("alice", "s3cret");
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

/// H(A1) of a user nobody has: unknown users take the same path as wrong passwords.
const DECOY_PASSWORD: &[u8] = b"httpdigest decoy password: no user has this";

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
        if !verifier
            .config
            .algorithms
            .iter()
            .any(|&a| verifier.offers(a))
        {
            return Err(ConfigError::NoAlgorithm);
        }
        Ok(verifier)
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

    /// Whether `algorithm` is offered: configured, and not `-sess` without a qop.
    fn offers(&self, algorithm: Algorithm) -> bool {
        self.config.algorithms.contains(&algorithm)
            && !(algorithm.is_session() && self.config.qop.is_empty())
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
        let mut salt = [0u8; nonce::SALT_BYTES];
        rng.try_fill_bytes(&mut salt)
            .map_err(|_| RandomnessFailed)?;
        Ok(nonce::issue(&self.key, &self.config.realm, now, &salt))
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
            .filter(|&&algorithm| self.offers(algorithm))
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

    /// Verifies the credentials of a request. See the type's documentation for the flow.
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
        let check = |n: &[u8]| {
            nonce::check(
                &self.key,
                &self.config.realm,
                n,
                now,
                self.config.nonce_lifetime,
            )
        };
        self.verify_with_nonce_check(request, now, credentials, nonce_counts, rng, check)
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
        self.verify_inner(request, now, credentials, nonce_counts, rng, check_nonce)
            .map_err(|mut rejection| {
                if rejection.status == 401 {
                    rejection.status = self.config.side.challenge_status();
                }
                rejection
            })
    }

    fn verify_inner<C, N, R>(
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
        let config = &self.config;
        let field = request
            .authorization
            .ok_or(Rejection::unauthorized(Reason::MissingCredentials))?;
        let creds = match DigestCredentials::parse_with_limits(field, config.limits) {
            Ok(c) => c,
            Err(e) if matches!(e.kind(), ParseErrorKind::NotDigest) => {
                return Err(Rejection::unauthorized(Reason::NotDigest));
            }
            Err(e) => return Err(Rejection::bad_request(Reason::Malformed(e))),
        };

        // What the request claims, checked against what was offered.
        if creds.realm().unescaped().as_ref() != config.realm.as_bytes() {
            return Err(Rejection::unauthorized(Reason::WrongRealm));
        }
        let uri = creds.uri().unescaped();
        if !uri_matches(&uri, request.target, request.authority) {
            return Err(Rejection::bad_request(Reason::UriMismatch));
        }
        let algorithm = creds
            .algorithm()
            .filter(|&a| self.offers(a))
            .ok_or(Rejection::unauthorized(Reason::AlgorithmNotOffered))?;
        let qop = match (creds.qop(), config.qop.is_empty()) {
            (None, true) => None,
            (Some(q), false) if config.qop.contains(q) => {
                let (Some(nc), Some(cnonce)) = (creds.nc(), creds.cnonce()) else {
                    return Err(Rejection::bad_request(Reason::MissingNonceCountOrCnonce));
                };
                if nc.get() == 0 {
                    return Err(Rejection::bad_request(Reason::ZeroNonceCount));
                }
                Some((q, nc, cnonce.unescaped()))
            }
            _ => return Err(Rejection::unauthorized(Reason::QopNotOffered)),
        };
        if let Some(opaque) = &config.opaque {
            let echoed = creds.opaque().map(|o| o.unescaped());
            if echoed.as_deref() != Some(opaque.as_bytes()) {
                return Err(Rejection::unauthorized(Reason::OpaqueMismatch));
            }
        }
        let nonce = creds.nonce().unescaped();
        let (issued_at, expired) = match check_nonce(&nonce) {
            NonceStatus::Valid { issued_at } => (issued_at, false),
            NonceStatus::Expired { issued_at } => (issued_at, true),
            NonceStatus::Forged => return Err(Rejection::unauthorized(Reason::ForgedNonce)),
        };
        // Only credentials on a nonce of ours get their body read for `auth-int`: a forged
        // nonce costs the server no upload. (An expired one does: only the body's digest
        // can prove the password, without which `stale=true` is not said; nor is an unknown
        // user told apart from a wrong password by an answer that comes before the body.)
        let body_hash = match qop {
            Some((Qop::AuthInt, ..)) => Some(digest::hash(
                algorithm,
                request
                    .body
                    .ok_or(Rejection::unauthorized(Reason::BodyUnavailable))?,
            )),
            _ => None,
        };

        // Who: by name, username* or userhash. Unknown users go on with a decoy secret, so
        // that they take the same path and time as a wrong password. A quoted name that is
        // not UTF-8 is read as ISO-8859-1 before the lookup, whoever it names: the reading
        // depends on the bytes sent alone, never on what the store holds.
        let (username, secret) = if creds.userhash() {
            if !config.userhash {
                return Err(Rejection::unauthorized(Reason::UserhashNotOffered));
            }
            match credentials.lookup_userhash(&creds.username_bytes(), &config.realm, algorithm) {
                Some((name, secret)) => (Cow::Owned(name.into_bytes()), Some(secret)),
                None => (Cow::Borrowed(&b""[..]), None),
            }
        } else {
            let name = utf8_name(creds.username_bytes());
            let secret = credentials.lookup(&name, &config.realm);
            (name, secret)
        };
        let known = secret.is_some();
        let ha1_of =
            |password: &[u8]| digest::ha1(algorithm, &username, config.realm.as_bytes(), password);
        let ha1 = match secret {
            Some(StoredSecret::Password(p)) => ha1_of(p.as_bytes()),
            Some(StoredSecret::Ha1 { algorithm: a, ha1 })
                if a.without_session() == algorithm.without_session() =>
            {
                // Every other path computes one H(A1); so does this one, into nothing, or a
                // store of H(A1)s would answer known users faster than unknown ones.
                core::hint::black_box(ha1_of(DECOY_PASSWORD));
                ha1
            }
            // A stored H(A1) for another hash cannot answer this algorithm; nor can nobody.
            Some(StoredSecret::Ha1 { .. }) | None => ha1_of(DECOY_PASSWORD),
        };
        let ha1 = Zeroizing::new(ha1);
        let cnonce: &[u8] = qop.as_ref().map_or(&[], |(_, _, c)| c);
        let ha1 = if algorithm.is_session() {
            Zeroizing::new(digest::session_ha1(algorithm, &ha1, &nonce, cnonce))
        } else {
            ha1
        };
        let qop_params = qop
            .as_ref()
            .map(|&(qop, nc, ref c)| QopParams { qop, nc, cnonce: c });
        let ha2 = digest::ha2(
            algorithm,
            request.method.as_bytes(),
            &uri,
            body_hash.as_ref(),
        );
        let expected = digest::response(algorithm, &ha1, &nonce, qop_params, &ha2);
        if !expected.ct_eq(&creds.response().unescaped()) || !known {
            return Err(Rejection::unauthorized(if known {
                Reason::WrongPassword
            } else {
                Reason::UnknownUser
            }));
        }

        // The password is proven: only now may the nonce be called stale, and the count be
        // recorded.
        if expired {
            return Err(Rejection {
                status: 401,
                stale: true,
                reason: Reason::ExpiredNonce,
            });
        }
        if let Some((_, nc, _)) = &qop {
            match nonce_counts.record(&nonce, &username, issued_at, *nc, now) {
                NonceCountCheck::Fresh => {}
                NonceCountCheck::Replayed => {
                    return Err(Rejection::unauthorized(Reason::ReplayedNonceCount));
                }
                NonceCountCheck::Forgotten => {
                    return Err(Rejection {
                        status: 401,
                        stale: true,
                        reason: Reason::NonceCountForgotten,
                    });
                }
            }
        }

        // For auth-int, rspauth covers the response body (RFC 7616 §3.5), which does not exist
        // yet: none is sent rather than a wrong one.
        let rspauth = match qop {
            Some((Qop::AuthInt, ..)) => None,
            _ => Some(digest::rspauth(
                algorithm, &ha1, &nonce, qop_params, &uri, None,
            )),
        };
        let within = config
            .nextnonce_within
            .unwrap_or(config.nonce_lifetime / 10);
        let near_end =
            now.saturating_sub(issued_at).saturating_add(within) >= config.nonce_lifetime;
        // Without randomness there is no nextnonce; the client gets stale=true later instead.
        let nextnonce = near_end.then(|| self.nonce(now, rng).ok()).flatten();
        let cnonce_text = qop
            .as_ref()
            .and_then(|(_, _, c)| core::str::from_utf8(c).ok());
        let info = AuthenticationInfoParams {
            nextnonce: nextnonce.as_deref(),
            qop: qop.as_ref().map(|(q, ..)| *q),
            rspauth: rspauth.as_ref().map(HexDigest::as_str),
            cnonce: cnonce_text,
            nc: qop.as_ref().map(|(_, nc, _)| *nc),
        };
        let authentication_info = info
            .to_header_value()
            // A cnonce with control characters cannot have parsed; leave it out if it did.
            .or_else(|_| {
                AuthenticationInfoParams {
                    cnonce: None,
                    ..info
                }
                .to_header_value()
            })
            .unwrap_or_default();
        Ok(Authenticated {
            username: String::from_utf8_lossy(&username).into_owned(),
            username_bytes: username.into_owned(),
            authentication_info,
        })
    }
}

/// The user name as text for the lookup and H(A1): UTF-8 as sent or, for bytes that are not
/// UTF-8, each byte read as the ISO-8859-1 character of that code point, in UTF-8. Only a
/// quoted `username` can be other than UTF-8 (a decoded `username*` is text):
/// python-requests, Apache HttpClient and Node's digest clients put `Jäsøn` on the wire as
/// `J\xe4s\xf8n` while they hash its UTF-8 form, so this is the name they mean and the one
/// their H(A1) covers. The work depends on the bytes sent alone, not on the store.
fn utf8_name(name: Cow<'_, [u8]>) -> Cow<'_, [u8]> {
    if core::str::from_utf8(&name).is_ok() {
        return name;
    }
    Cow::Owned(
        name.iter()
            .map(|&byte| char::from(byte))
            .collect::<String>()
            .into_bytes(),
    )
}

/// Whether the `uri` parameter names the request-target: equal, or one the absolute form of
/// the other's path and query. Some clients send the absolute form to an origin (Apache,
/// Squid and Tomcat accept it); curl sends the path to a proxy, which receives the absolute
/// form (Squid accepts it). An absolute-form `uri` sent with an origin-form target must name
/// the request's `authority`, or it could be a request for another host replayed here.
fn uri_matches(uri: &[u8], target: &str, authority: Option<&str>) -> bool {
    if uri == target.as_bytes() {
        return true;
    }
    let Ok(uri) = core::str::from_utf8(uri) else {
        return false;
    };
    // The origin of `absolute` when its path and query are `path`.
    let path_of = |absolute: &str, path: &str| {
        if !path.starts_with('/') {
            return None;
        }
        crate::origin::Origin::parse_absolute(absolute)
            .filter(|(_, rest)| crate::origin::same_path_and_query(rest, path))
            .map(|(origin, _)| origin)
    };
    // A path-form `uri` with an absolute target (to a proxy): the target names the host.
    if path_of(target, uri).is_some() {
        return true;
    }
    path_of(uri, target)
        .is_some_and(|origin| authority.is_some_and(|a| crate::origin::names_authority(&origin, a)))
}
