//! What a verification comes to: the [`Authenticated`] user, or a [`Rejection`] with its
//! [`Reason`].

use alloc::string::String;
use alloc::vec::Vec;

use super::authentication_info::BodyRspauth;
use crate::algorithm::Algorithm;
use crate::error::ParseError;
use crate::side::Side;

/// A verified request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticated {
    /// The user (for userhash requests, the name the store resolved), as text. A quoted
    /// `username` whose bytes are not UTF-8 was read as ISO-8859-1 (see [`Verifier`](super::Verifier)): this is
    /// that name, in UTF-8.
    pub username: String,
    /// The user name as the store matched it: the UTF-8 form of [`username`](Self::username)
    /// (for a store's userhash lookup, the bytes of the name it resolved).
    pub username_bytes: Vec<u8>,
    /// The `Authentication-Info` value to send: `rspauth`, `qop`, `nc`, `cnonce`, and
    /// `nextnonce` when the nonce is near its end. For `auth-int`, without `rspauth`, which
    /// covers the response body: [`body_rspauth`](Self::body_rspauth) makes the value with
    /// it.
    pub authentication_info: String,
    /// For `auth-int`: the `Authentication-Info` value with `rspauth` over the response
    /// body, once the server has it (see [`BodyRspauth`]). `None` for other answers.
    pub body_rspauth: Option<BodyRspauth>,
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
    /// The store holds the user's H(A1) for another hash function than the algorithm the
    /// credentials use (an MD5 htdigest entry, a `SHA-256` answer): the password could not
    /// be checked. The client is answered as for a wrong password; a verifier fitted to
    /// its store ([`Verifier::for_store`](super::Verifier::for_store)) does not offer such
    /// an algorithm.
    #[error("the stored H(A1) is for {stored}, not for the credentials' {used}")]
    StoredHashMismatch {
        /// The hash function of the stored H(A1).
        stored: Algorithm,
        /// The algorithm of the credentials.
        used: Algorithm,
    },
    /// A nonce count equal to or lower than one already seen.
    #[error("replayed nonce count")]
    ReplayedNonceCount,
    /// The nonce-count store no longer knows the nonce; the client is told it is stale.
    #[error("nonce count history forgotten")]
    NonceCountForgotten,
}

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
    pub(super) const fn unauthorized(reason: Reason) -> Self {
        Self {
            status: 401,
            stale: false,
            reason,
        }
    }

    pub(super) const fn bad_request(reason: Reason) -> Self {
        Self {
            status: 400,
            stale: false,
            reason,
        }
    }

    /// The answer to a request with more than one `Authorization` (`Proxy-Authorization`)
    /// field, which a [`ServerRequest`](super::ServerRequest) cannot carry: 400, [`Reason::SeveralCredentials`].
    /// For the integration that reads the fields.
    pub const fn several_credentials() -> Self {
        Self::bad_request(Reason::SeveralCredentials)
    }

    /// 401, or 407 for a proxy's verifier (send [`Verifier::challenges`](super::Verifier::challenges)), or 400
    /// (malformed credentials, a `uri` that is not the request-target).
    pub const fn status(&self) -> u16 {
        self.status
    }

    /// Whether the answer is a challenge (401 or 407): send [`Verifier::challenges`](super::Verifier::challenges) with it.
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

    /// A 401 refusal that says `stale=true`: the password was right, the nonce is not
    /// usable.
    pub(super) const fn stale_nonce(reason: Reason) -> Self {
        Self {
            status: 401,
            stale: true,
            reason,
        }
    }

    /// A 401 becomes the challenge status of `side` (407 for a proxy).
    pub(super) const fn for_side(mut self, side: Side) -> Self {
        if self.status == 401 {
            self.status = side.challenge_status();
        }
        self
    }
}
