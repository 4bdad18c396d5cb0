//! What a [`Verifier`](super::Verifier) offers and accepts ([`VerifierConfig`]), and the
//! configurations it refuses ([`ConfigError`]).

use alloc::string::String;
use alloc::vec::Vec;

use crate::algorithm::Algorithm;
use crate::header::grammar::Limits;
use crate::qop::QopOptions;
use crate::side::Side;

/// What a [`Verifier`](super::Verifier) offers and accepts.
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
    /// quoted `username` that is not UTF-8 is read as ISO-8859-1 (see [`Verifier`](super::Verifier)).
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

    /// Sets [`limits`](Self::limits).
    #[must_use]
    pub const fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Sets [`side`](Self::side) ([`for_proxy`](Self::for_proxy) sets [`Side::Proxy`]).
    #[must_use]
    pub const fn with_side(mut self, side: Side) -> Self {
        self.side = side;
        self
    }

    /// Sets [`charset_utf8`](Self::charset_utf8).
    #[must_use]
    pub const fn with_charset_utf8(mut self, charset_utf8: bool) -> Self {
        self.charset_utf8 = charset_utf8;
        self
    }
}

impl VerifierConfig {
    /// Whether `algorithm` is offered: configured, and not `-sess` without a qop.
    pub(crate) fn offers(&self, algorithm: Algorithm) -> bool {
        self.algorithms.contains(&algorithm) && !(algorithm.is_session() && self.qop.is_empty())
    }
}

/// A configuration a [`Verifier`](super::Verifier) cannot serve: refused when it is built, rather than
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
    /// The credential store holds no user of the verifier's realm
    /// ([`Verifier::for_store`](super::Verifier::for_store)): every user would be unknown.
    #[error("the credential store holds no user of the realm {realm:?}")]
    RealmMismatch {
        /// The verifier's realm.
        realm: String,
    },
    /// The credential store verifies none of the algorithms offered
    /// ([`Verifier::for_store`](super::Verifier::for_store)): an htdigest file of MD5
    /// H(A1)s answers `MD5` and `MD5-sess` only.
    #[error(
        "the credential store can verify none of the algorithms offered (its H(A1)s are of another hash)"
    )]
    NoAlgorithmForStore,
}
