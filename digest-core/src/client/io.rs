//! What goes between an adapter and the [`Client`](super::Client): the request's metadata, the
//! response's authentication fields, the headers to send, and why an exchange failed.

use core::ops::{Index, IndexMut};

use super::cookies::ChallengeCookies;
use super::selection::Unanswerable;
use crate::error::FormatError;
use crate::header::FieldValue;
use crate::origin::OriginRef;
use crate::side::Side;

/// Where the body of a request comes from, for `auth-int` (which hashes it) and for deciding
/// whether the request can be sent again at all.
#[derive(Debug, Clone, Copy)]
pub enum BodySource<'a> {
    /// The whole body, in memory (empty for GET and friends). Replayable.
    Bytes(&'a [u8]),
    /// A body the caller can send again but does not hold in memory (a file, say). An
    /// `auth-int` answer needs its hash, with the function the challenge's algorithm names:
    /// [`Ticket::sign_with`](super::Ticket::sign_with) asks for it.
    Replayable,
    /// A streamed body that cannot be sent again. A challenge to such a request is learned
    /// (so the next request goes out with credentials) but not answered.
    NotReplayable,
}

impl BodySource<'_> {
    /// Whether the request can be sent again.
    pub const fn is_replayable(&self) -> bool {
        !matches!(self, BodySource::NotReplayable)
    }
}

/// What the adapter knows of a request, handed to [`Client::begin`](super::Client::begin) and again, unchanged, to
/// every [`Client::handle_response`](super::Client::handle_response) of the same request.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The method, as sent (`GET`).
    pub method: &'a str,
    /// The request-target exactly as on the wire: path and query for origin-form, the
    /// authority for CONNECT, the absolute URI through a plain forward proxy.
    pub target: &'a str,
    /// The origin the request is for.
    pub origin: OriginRef<'a>,
    /// The forward proxy the request goes through, if any.
    pub proxy: Option<OriginRef<'a>>,
    /// The body.
    pub body: BodySource<'a>,
}

impl<'a> Request<'a> {
    /// A request with an empty body and no proxy.
    pub const fn new(method: &'a str, target: &'a str, origin: OriginRef<'a>) -> Self {
        Self {
            method,
            target,
            origin,
            proxy: None,
            body: BodySource::Bytes(&[]),
        }
    }
}

/// What the adapter received, handed to [`Client::handle_response`](super::Client::handle_response).
#[derive(Debug, Clone, Copy)]
pub struct Response<'a> {
    /// The status code.
    pub status: u16,
    /// Every `WWW-Authenticate` field value, in order.
    pub www_authenticate: &'a [&'a [u8]],
    /// Every `Proxy-Authenticate` field value, in order.
    pub proxy_authenticate: &'a [&'a [u8]],
    /// The `Authentication-Info` field value, if any.
    pub authentication_info: Option<&'a [u8]>,
    /// The `Proxy-Authentication-Info` field value, if any.
    pub proxy_authentication_info: Option<&'a [u8]>,
    /// Every `Set-Cookie` field value, in order: the cookies of a 401 or 407 go back with
    /// the answer to it (see [`ChallengeCookies`]). Other responses' are not read.
    pub set_cookie: &'a [&'a [u8]],
    /// The origin that actually answered, when the HTTP client followed redirects on its own
    /// and it differs from the request's (reqwest does this below middleware). `None`: the
    /// request's origin.
    pub origin: Option<OriginRef<'a>>,
}

impl<'a> Response<'a> {
    /// Every challenge field of `side`: `WWW-Authenticate` or `Proxy-Authenticate`.
    pub const fn challenges(&self, side: Side) -> &'a [&'a [u8]] {
        match side {
            Side::Origin => self.www_authenticate,
            Side::Proxy => self.proxy_authenticate,
        }
    }

    /// The `Authentication-Info` (or `Proxy-Authentication-Info`) field of `side`.
    pub const fn info(&self, side: Side) -> Option<&'a [u8]> {
        match side {
            Side::Origin => self.authentication_info,
            Side::Proxy => self.proxy_authentication_info,
        }
    }

    /// A response with this status and no authentication headers.
    pub const fn new(status: u16) -> Self {
        Self {
            status,
            www_authenticate: &[],
            proxy_authenticate: &[],
            authentication_info: None,
            proxy_authentication_info: None,
            set_cookie: &[],
            origin: None,
        }
    }
}

/// The header values to put on the next send of a request. A `None` field means: do not send
/// that header.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthHeaders {
    /// `Authorization`.
    pub authorization: Option<FieldValue>,
    /// `Proxy-Authorization`.
    pub proxy_authorization: Option<FieldValue>,
    /// The cookies the request's challenges set (the `Set-Cookie` fields of its 401 or 407),
    /// to go back with the answer joined to the request's own `Cookie` header: see
    /// [`ChallengeCookies::join`]. Empty on a first send, and kept by nothing past the
    /// request.
    pub cookies: ChallengeCookies,
}

impl Index<Side> for AuthHeaders {
    type Output = Option<FieldValue>;

    fn index(&self, side: Side) -> &Option<FieldValue> {
        match side {
            Side::Origin => &self.authorization,
            Side::Proxy => &self.proxy_authorization,
        }
    }
}

impl IndexMut<Side> for AuthHeaders {
    fn index_mut(&mut self, side: Side) -> &mut Option<FieldValue> {
        match side {
            Side::Origin => &mut self.authorization,
            Side::Proxy => &mut self.proxy_authorization,
        }
    }
}

/// Why an exchange failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Failure {
    /// The server refused the credentials after they answered its fresh challenge.
    #[error("the server rejected the credentials")]
    CredentialsRejected,
    /// `stale=true` came back with the nonce that was just used: the server gives no way
    /// forward.
    #[error("the server reported a stale nonce but sent no new one")]
    StaleNonceNotRenewed,
    /// No challenge could be answered; the value says what was offered.
    #[error("no supported challenge")]
    NoSupportedChallenge(Unanswerable),
    /// A challenge came from an origin outside the credentials' scope; it was not answered.
    #[error("challenge from an origin outside the credentials' scope")]
    OutOfScope,
    /// A challenge came but no credentials are configured for it (origin or proxy).
    #[error("no credentials for this challenge")]
    NoCredentials,
    /// A 407 came for a request that names no proxy.
    #[error("proxy challenge for a request sent without a proxy")]
    ProxyChallengeWithoutProxy,
    /// The challenge needs `auth-int` but the body cannot be hashed (not replayable, or
    /// hashed with another hash function).
    #[error("auth-int needs a replayable body")]
    AuthIntNeedsReplayableBody,
    /// The body is streamed and cannot be sent again. The challenge is remembered: the next
    /// request to this space goes out with credentials.
    #[error("the request body cannot be sent again")]
    BodyNotReplayable,
    /// The server's `rspauth` (or the `cnonce`/`nc` it echoed) does not match: the response
    /// did not come from a server that knows the password. It arrives with the final
    /// response (a 200, say): adapters must not hand that response to the caller as
    /// authenticated. For `auth-int`, whose `rspauth` covers the response body, it comes
    /// from [`ResponseBodyCheck::finish`](super::ResponseBodyCheck::finish) once the body
    /// is read: the body is not the one the server signed, or the server does not know the
    /// password.
    #[error("mutual authentication failed: rspauth does not match")]
    MutualAuthFailed,
    /// The policy requires mutual authentication and the server sent no `rspauth`; or, for
    /// an `auth-int` exchange (whose `rspauth` covers the response body), the body was not
    /// checked because it is longer than the adapter reads to check it
    /// ([`ResponseBodyCheck::skip`](super::ResponseBodyCheck::skip); the limit is the
    /// adapter's, 4 MiB by default). As with [`MutualAuthFailed`](Self::MutualAuthFailed),
    /// the final response is not to be trusted. Without the requirement, such a response is
    /// handed on unchecked.
    #[error("mutual authentication required but not provided")]
    MutualAuthMissing,
    /// The request was already sent twice more; the server keeps challenging.
    #[error("too many authentication retries")]
    RetriesExhausted,
    /// The server refused credentials from a protection space where it had accepted the
    /// same credentials before, while requests overlapped, and the bound on sends is
    /// reached: a server that checks nonce counts strictly (Apache's `AuthDigestNcCheck`,
    /// many embedded servers) does this when concurrent requests reach it out of order. The
    /// client learns such a server at its first refusal of that kind
    /// ([`Strict::Learned`](super::Strict::Learned)) and sends its requests on a nonce one
    /// after another from then on, sending the refused request again in order, so this
    /// reaches a caller only under [`Strict::Never`](super::Strict::Never), or when the
    /// server keeps refusing in order too. Sending the request again usually succeeds; the
    /// space stays in use.
    ///
    /// A refusal counts as this only when the space's credentials were accepted before and
    /// another request used them while the refused one waited for its answer. A refusal
    /// with no request overlapping it is [`CredentialsRejected`](Self::CredentialsRejected)
    /// (or [`RetriesExhausted`](Self::RetriesExhausted)) as usual, so a changed password
    /// shows as soon as requests stop overlapping.
    #[error("the server refused credentials it had accepted: requests reached it out of order")]
    OutOfOrder,
    /// A header could not be formed (a value the server sent is unusable in a header).
    #[error("could not form the header: {0}")]
    Format(FormatError),
    /// The random number generator failed.
    #[error("the random number generator failed")]
    Randomness,
}
