//! A request's verification in steps, for servers whose stores answer later (a database, a
//! Redis shared by replicas, anything awaited): [`Verifier::begin`](super::Verifier::begin) checks what needs no
//! store, the caller looks the user up ([`Verification::lookup`]), the secret proves the
//! response ([`Verification::prove`]), the caller records the nonce count
//! ([`Proven::nonce_count`]) and [`Proven::finish`] makes the answer. The core stays
//! synchronous and does no I/O; [`Verifier::verify`](super::Verifier::verify) runs the same steps against
//! synchronous stores.
//!
//! ```
//! use httpdigest::ThreadRng;
//! use httpdigest::server::{
//!     Authenticated, MemoryNonceCounts, NonceCountCheck, NonceCountStore, Rejection,
//!     ServerRequest, Users, Verifier, VerifierConfig,
//! };
//!
//! // Each store call is where an async server awaits its own store.
//! fn verify(
//!     verifier: &Verifier,
//!     users: &Users,
//!     counts: &MemoryNonceCounts,
//!     request: &ServerRequest<'_>,
//!     now: u64,
//! ) -> Result<Authenticated, Rejection> {
//!     let verification = verifier.begin(request, now)?;
//!     let user = verification.lookup().in_store(users, &verifier.config().realm);
//!     let proven = verification.prove(user, request.body)?;
//!     let recorded = match proven.nonce_count() {
//!         Some(count) => counts.record(count.nonce, proven.user(), count.issued_at, count.nc, now),
//!         None => NonceCountCheck::Fresh,
//!     };
//!     proven.finish(recorded, &mut ThreadRng::default())
//! }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let verifier = Verifier::new(VerifierConfig::new("api@example.org"), b"a long random secret key")?;
//! let mut users = Users::new("api@example.org");
//! users.insert("alice", "s3cret");
//! let counts = MemoryNonceCounts::new(10_000, 300);
//! let request = ServerRequest { method: "GET", target: "/", authority: None, authorization: None, body: None };
//! let rejection = verify(&verifier, &users, &counts, &request, 1_700_000_000).unwrap_err();
//! assert_eq!(rejection.status(), 401);
//! # Ok(()) }
//! ```

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use rand_core::TryCryptoRng;
use zeroize::Zeroizing;

use super::authentication_info::{BodyRspauth, InfoParts};
use super::config::VerifierConfig;
use super::nonce::{self, NonceKey, NonceStatus};
use super::store::{CredentialStore, NonceCountCheck, StoredSecret};
use super::verdict::{Authenticated, Reason, Rejection};
use crate::algorithm::Algorithm;
use crate::digest::{self, HexDigest, QopParams};
use crate::error::ParseErrorKind;
use crate::header::credentials::{DigestCredentials, Username};
use crate::nonce_count::NonceCount;
use crate::qop::Qop;

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

/// H(A1) of a user nobody has: unknown users take the same path as wrong passwords.
const DECOY_PASSWORD: &[u8] = b"httpdigest decoy password: no user has this";

/// Whom to look up, as [`Verification::lookup`] asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup<'a> {
    /// By name, in UTF-8 (see [`CredentialStore::lookup`]).
    Name(&'a [u8]),
    /// By userhash (`userhash=true`; see [`CredentialStore::lookup_userhash`]).
    Userhash {
        /// The hex userhash as sent.
        userhash: &'a [u8],
        /// The algorithm whose hash function made it.
        algorithm: Algorithm,
    },
}

impl Lookup<'_> {
    /// Asks a synchronous store: the user found, or `None`.
    pub fn in_store<C: CredentialStore + ?Sized>(&self, store: &C, realm: &str) -> Option<User> {
        match *self {
            Lookup::Name(name) => store.lookup(name, realm).map(|secret| User {
                name: name.to_vec(),
                secret,
            }),
            Lookup::Userhash {
                userhash,
                algorithm,
            } => store
                .lookup_userhash(userhash, realm, algorithm)
                .map(|(name, secret)| User {
                    name: name.into_bytes(),
                    secret,
                }),
        }
    }
}

/// A user a store found: the name (UTF-8) and the secret.
#[derive(Clone, Debug)]
pub struct User {
    /// The name, in UTF-8: for a [`Lookup::Userhash`], the name whose userhash it is (the
    /// verifier hashes and reports it); for a [`Lookup::Name`], the name looked up (the
    /// verifier goes on with the name as sent, whatever this says).
    pub name: Vec<u8>,
    /// The secret.
    pub secret: StoredSecret,
}

/// The nonce count of a request: what a [`NonceCountStore`](super::NonceCountStore)
/// records, with the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CountEntry<'a> {
    /// The nonce.
    pub nonce: &'a [u8],
    /// When the nonce was issued (seconds).
    pub issued_at: u64,
    /// The count.
    pub nc: NonceCount,
}

/// The user's part of the credentials, as sent.
#[derive(Debug)]
enum Named<'r> {
    /// A name, in UTF-8 (a quoted name that was not UTF-8 read as ISO-8859-1).
    Name(Cow<'r, [u8]>),
    /// A hex userhash.
    Userhash(Cow<'r, [u8]>),
}

/// The qop chosen, with its count and client nonce.
#[derive(Debug, Clone)]
struct QopUse<'r> {
    qop: Qop,
    nc: NonceCount,
    cnonce: Cow<'r, [u8]>,
}

impl QopUse<'_> {
    fn params(&self) -> QopParams<'_> {
        QopParams {
            qop: self.qop,
            nc: self.nc,
            cnonce: &self.cnonce,
        }
    }
}

/// Credentials checked as far as they can be without a store: they parse, name this realm,
/// the request's own `uri`, an algorithm and qop offered, the `opaque`, and a nonce this
/// verifier issued (perhaps expired: that is said only once the password is proven). Made by
/// [`Verifier::begin`](super::Verifier::begin).
pub struct Verification<'r> {
    config: &'r VerifierConfig,
    key: &'r NonceKey,
    now: u64,
    method: &'r str,
    uri: Cow<'r, [u8]>,
    algorithm: Algorithm,
    qop: Option<QopUse<'r>>,
    nonce: Cow<'r, [u8]>,
    issued_at: u64,
    expired: bool,
    response: Cow<'r, [u8]>,
    named: Named<'r>,
}

impl fmt::Debug for Verification<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verification")
            .field("method", &self.method)
            .field("algorithm", &self.algorithm)
            .field("qop", &self.qop.as_ref().map(|q| q.qop))
            .field("issued_at", &self.issued_at)
            .field("expired", &self.expired)
            .field("named", &self.named)
            .finish_non_exhaustive()
    }
}

/// [`Verifier::begin_with_nonce_check`](super::Verifier::begin_with_nonce_check): the
/// checks that need no store.
pub(super) fn begin<'r>(
    config: &'r VerifierConfig,
    key: &'r NonceKey,
    request: &ServerRequest<'r>,
    now: u64,
    check_nonce: impl FnOnce(&[u8]) -> NonceStatus,
) -> Result<Verification<'r>, Rejection> {
    begin_inner(config, key, request, now, check_nonce).map_err(|r| r.for_side(config.side))
}

fn begin_inner<'r>(
    config: &'r VerifierConfig,
    key: &'r NonceKey,
    request: &ServerRequest<'r>,
    now: u64,
    check_nonce: impl FnOnce(&[u8]) -> NonceStatus,
) -> Result<Verification<'r>, Rejection> {
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
        .filter(|&a| config.offers(a))
        .ok_or(Rejection::unauthorized(Reason::AlgorithmNotOffered))?;
    // A qop token this crate does not implement was not offered either.
    if creds.qop_param().is_some() && creds.qop().is_none() {
        return Err(Rejection::unauthorized(Reason::QopNotOffered));
    }
    let qop = match (creds.qop(), config.qop.is_empty()) {
        (None, true) => None,
        (Some(qop), false) if config.qop.contains(qop) => {
            let (Some(nc), Some(cnonce)) = (creds.nc(), creds.cnonce()) else {
                return Err(Rejection::bad_request(Reason::MissingNonceCountOrCnonce));
            };
            if nc.get() == 0 {
                return Err(Rejection::bad_request(Reason::ZeroNonceCount));
            }
            Some(QopUse {
                qop,
                nc,
                cnonce: cnonce.unescaped(),
            })
        }
        _ => return Err(Rejection::unauthorized(Reason::QopNotOffered)),
    };
    if let Some(opaque) = &config.opaque {
        let echoed = creds.opaque().map(|o| o.unescaped());
        if echoed.as_deref() != Some(opaque.as_bytes()) {
            return Err(Rejection::unauthorized(Reason::OpaqueMismatch));
        }
    }
    if creds.userhash() && !config.userhash {
        return Err(Rejection::unauthorized(Reason::UserhashNotOffered));
    }
    let nonce = creds.nonce().unescaped();
    let (issued_at, expired) = match check_nonce(&nonce) {
        NonceStatus::Valid { issued_at } => (issued_at, false),
        NonceStatus::Expired { issued_at } => (issued_at, true),
        NonceStatus::Forged => return Err(Rejection::unauthorized(Reason::ForgedNonce)),
    };

    // Who: by name, username* or userhash. A quoted name that is not UTF-8 is read as
    // ISO-8859-1 before the lookup, whoever it names: the reading depends on the bytes
    // sent alone, never on what the store holds.
    let sent = match creds.username() {
        Username::Quoted(value) => value.unescaped(),
        Username::Extended(name) => Cow::Owned(name.as_bytes().to_vec()),
    };
    let named = if creds.userhash() {
        Named::Userhash(sent)
    } else {
        Named::Name(utf8_name(sent))
    };
    Ok(Verification {
        config,
        key,
        now,
        method: request.method,
        uri,
        algorithm,
        qop,
        nonce,
        issued_at,
        expired,
        response: creds.response().unescaped(),
        named,
    })
}

impl<'r> Verification<'r> {
    /// Whom the store must find. Ask it for every request, known user or not: an unknown
    /// user is refused only by [`prove`](Self::prove), along the path of a wrong password.
    pub fn lookup(&self) -> Lookup<'_> {
        match &self.named {
            Named::Name(name) => Lookup::Name(name),
            Named::Userhash(userhash) => Lookup::Userhash {
                userhash,
                algorithm: self.algorithm,
            },
        }
    }

    /// Whether [`prove`](Self::prove) needs the request body: the credentials answer with
    /// `qop=auth-int`. Read it only after the cheap checks: this verification exists (the
    /// nonce is authentic), the user was found, and the count is not already known to be
    /// used ([`nonce_count`](Self::nonce_count), checked read-only).
    pub fn needs_body(&self) -> bool {
        matches!(&self.qop, Some(q) if q.qop == Qop::AuthInt)
    }

    /// The nonce count the request claims (none without a qop), for a read-only look at the
    /// store before work that costs (reading an `auth-int` body): a count already seen can
    /// be refused there. Record it only after [`prove`](Self::prove).
    pub fn nonce_count(&self) -> Option<CountEntry<'_>> {
        self.qop.as_ref().map(|q| CountEntry {
            nonce: &self.nonce,
            issued_at: self.issued_at,
            nc: q.nc,
        })
    }

    /// The name `user` (what the store found) goes by in the nonce counts: what
    /// [`Proven::user`] will say. For a name lookup, the name as sent; for a userhash, the
    /// name the store resolved it to. Key a read-only look at the count store by it.
    pub fn counted_name<'a>(&'a self, user: &'a User) -> &'a [u8] {
        match &self.named {
            Named::Name(name) => name,
            Named::Userhash(_) => &user.name,
        }
    }

    /// The refusal of a count the nonce-count store already saw
    /// ([`NonceCountCheck::Replayed`] from a read-only look at it, before the body was read):
    /// 401 (407 for a proxy), [`Reason::ReplayedNonceCount`].
    pub fn replayed(&self) -> Rejection {
        Rejection::unauthorized(Reason::ReplayedNonceCount).for_side(self.config.side)
    }

    /// Checks the response with the user the store found (`None`: unknown, which takes the
    /// same path and time as a wrong password, with a decoy secret) and, for `auth-int`, the
    /// request body.
    ///
    /// # Errors
    ///
    /// A [`Rejection`]: a wrong password or an unknown user (401), an `auth-int` answer
    /// without the body ([`Rejection::needs_body`]), or a right password on an expired
    /// nonce (401 with `stale=true`).
    pub fn prove(self, user: Option<User>, body: Option<&[u8]>) -> Result<Proven<'r>, Rejection> {
        let side = self.config.side;
        self.prove_inner(user, body).map_err(|r| r.for_side(side))
    }

    fn prove_inner(self, user: Option<User>, body: Option<&[u8]>) -> Result<Proven<'r>, Rejection> {
        let realm = self.config.realm.as_bytes();
        let algorithm = self.algorithm;
        let body_hash = if self.needs_body() {
            let body = body.ok_or(Rejection::unauthorized(Reason::BodyUnavailable))?;
            Some(digest::hash(algorithm, body))
        } else {
            None
        };
        // H(A1) hashes the name the client hashed: for a name lookup, the name as sent
        // (whatever form a store keeps it in), known or not, so that an unknown name costs
        // the same hash; for a userhash, the name the store resolved it to.
        let known = user.is_some();
        let (username, secret) = match (&self.named, user) {
            (Named::Name(name), user) => (name.to_vec(), user.map(|u| u.secret)),
            (Named::Userhash(_), Some(User { name, secret })) => (name, Some(secret)),
            (Named::Userhash(_), None) => (Vec::new(), None),
        };
        let ha1_of = |password: &[u8]| digest::ha1(algorithm, &username, realm, password);
        let mismatch = match &secret {
            Some(stored @ StoredSecret::Ha1 { algorithm: a, .. })
                if !stored.verifies(algorithm) =>
            {
                Some(*a)
            }
            _ => None,
        };
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
        let ha1 = if algorithm.is_session() {
            let cnonce = self.qop.as_ref().map_or(&[][..], |q| &q.cnonce);
            Zeroizing::new(digest::session_ha1(algorithm, &ha1, &self.nonce, cnonce))
        } else {
            ha1
        };
        let ha2 = digest::ha2(
            algorithm,
            self.method.as_bytes(),
            &self.uri,
            body_hash.as_ref(),
        );
        let qop = self.qop.as_ref().map(QopUse::params);
        let expected = digest::response(algorithm, &ha1, &self.nonce, qop, &ha2);
        if !expected.ct_eq(&self.response) || !known || mismatch.is_some() {
            return Err(Rejection::unauthorized(match (known, mismatch) {
                (false, _) => Reason::UnknownUser,
                (true, Some(stored)) => Reason::StoredHashMismatch {
                    stored,
                    used: algorithm,
                },
                (true, None) => Reason::WrongPassword,
            }));
        }
        // The password is proven: only now may the nonce be called stale.
        if self.expired {
            return Err(Rejection::stale_nonce(Reason::ExpiredNonce));
        }
        Ok(Proven {
            config: self.config,
            key: self.key,
            now: self.now,
            uri: self.uri,
            algorithm,
            qop: self.qop,
            nonce: self.nonce,
            issued_at: self.issued_at,
            ha1,
            username,
        })
    }
}

/// Credentials whose response proved the password, on a live nonce: what is left is the
/// nonce count (record [`nonce_count`](Self::nonce_count) for [`user`](Self::user)) and the
/// answer ([`finish`](Self::finish)).
pub struct Proven<'r> {
    config: &'r VerifierConfig,
    key: &'r NonceKey,
    now: u64,
    uri: Cow<'r, [u8]>,
    algorithm: Algorithm,
    qop: Option<QopUse<'r>>,
    nonce: Cow<'r, [u8]>,
    issued_at: u64,
    ha1: Zeroizing<HexDigest>,
    username: Vec<u8>,
}

impl fmt::Debug for Proven<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Proven")
            .field("user", &String::from_utf8_lossy(&self.username))
            .field("algorithm", &self.algorithm)
            .field("qop", &self.qop.as_ref().map(|q| q.qop))
            .finish_non_exhaustive()
    }
}

impl Proven<'_> {
    /// The user, in UTF-8: the name a [`NonceCountStore`](super::NonceCountStore) keys the
    /// counts by, with the nonce.
    pub fn user(&self) -> &[u8] {
        &self.username
    }

    /// The nonce count to record (atomically: check and record in one step) before
    /// [`finish`](Self::finish); `None` without a qop (RFC 2069: nothing to record).
    pub fn nonce_count(&self) -> Option<CountEntry<'_>> {
        self.qop.as_ref().map(|q| CountEntry {
            nonce: &self.nonce,
            issued_at: self.issued_at,
            nc: q.nc,
        })
    }

    /// The answer, given what recording [`nonce_count`](Self::nonce_count) said (without
    /// a count, pass [`NonceCountCheck::Fresh`]). `rng` salts the `nextnonce` sent when the
    /// nonce nears its end (if it fails, none is sent; the client gets `stale=true` later).
    ///
    /// # Errors
    ///
    /// A [`Rejection`] for a replayed count (401), or one the store forgot (401 with
    /// `stale=true`).
    pub fn finish<R: TryCryptoRng + ?Sized>(
        self,
        recorded: NonceCountCheck,
        rng: &mut R,
    ) -> Result<Authenticated, Rejection> {
        let side = self.config.side;
        self.finish_inner(recorded, rng)
            .map_err(|r| r.for_side(side))
    }

    fn finish_inner<R: TryCryptoRng + ?Sized>(
        self,
        recorded: NonceCountCheck,
        rng: &mut R,
    ) -> Result<Authenticated, Rejection> {
        if self.qop.is_some() {
            match recorded {
                NonceCountCheck::Fresh => {}
                NonceCountCheck::Replayed => {
                    return Err(Rejection::unauthorized(Reason::ReplayedNonceCount));
                }
                NonceCountCheck::Forgotten => {
                    return Err(Rejection::stale_nonce(Reason::NonceCountForgotten));
                }
            }
        }
        let config = self.config;
        let within = config
            .nextnonce_within
            .unwrap_or(config.nonce_lifetime / 10);
        let near_end = self
            .now
            .saturating_sub(self.issued_at)
            .saturating_add(within)
            >= config.nonce_lifetime;
        // Without randomness there is no nextnonce; the client gets stale=true later instead.
        let nextnonce = near_end
            .then(|| nonce::fresh(self.key, &config.realm, self.now, rng).ok())
            .flatten();
        let info = InfoParts {
            algorithm: self.algorithm,
            ha1: self.ha1,
            nonce: self.nonce.into_owned(),
            uri: self.uri.into_owned(),
            qop: self.qop.map(|q| (q.qop, q.nc, q.cnonce.into_owned())),
            nextnonce,
        };
        // For auth-int, rspauth covers the response body (RFC 7616 §3.5), which the server
        // has not written yet: the field goes without it, and `BodyRspauth` makes the full
        // one from the body.
        let (authentication_info, body_rspauth) = match info.qop {
            Some((Qop::AuthInt, ..)) => (info.header_value(None), Some(BodyRspauth(info))),
            _ => (info.header_value(Some(&[])), None),
        };
        Ok(Authenticated {
            username: String::from_utf8_lossy(&self.username).into_owned(),
            username_bytes: self.username,
            authentication_info,
            body_rspauth,
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
