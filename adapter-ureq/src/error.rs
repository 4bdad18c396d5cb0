//! What can go wrong with a request sent through a [`DigestAgent`](crate::DigestAgent).

use httpdigest::client::Failure;

/// An error from [`DigestAgent`](crate::DigestAgent).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// ureq failed, or answered as ureq answers: [`ureq::Error::StatusCode`] for a final 4xx
    /// or 5xx when the agent's `http_status_as_error` is on (ureq's default),
    /// [`ureq::Error::TooManyRedirects`] past `max_redirects`.
    #[error(transparent)]
    Ureq(#[from] ureq::Error),
    /// Digest authentication failed; the response that ended it is inside.
    #[error("digest authentication failed: {0}")]
    Auth(Box<AuthError>),
    /// The request could not be formed (a header name or value, a URI).
    #[error("invalid request: {0}")]
    Http(#[from] http::Error),
    /// The URI is not an absolute `http` or `https` URI.
    #[error(transparent)]
    BadUri(#[from] httpdigest::http::BadUri),
    /// The environment's proxy variables cannot be used ([`DigestAgent::new`](crate::DigestAgent::new));
    /// the error names the variable, never its value.
    #[error("proxy from the environment: {0}")]
    ProxyEnv(#[from] httpdigest::client::ProxyEnvError),
    /// Reading the request body from the caller's reader failed.
    #[error("reading the request body: {0}")]
    Body(#[source] std::io::Error),
    /// Reading the response body, to check the `rspauth` that covers it (`qop=auth-int`),
    /// failed.
    #[error("reading the response body: {0}")]
    ResponseBody(#[source] std::io::Error),
    /// The `Authorization` value holds bytes outside visible ASCII (a user name in raw
    /// UTF-8, for a server that did not announce `charset=UTF-8`), which ureq refuses to
    /// send. Servers that announce `charset=UTF-8` get the name as `username*` instead.
    #[error(
        "ureq cannot send a non-ASCII Authorization header; the server did not offer \
         charset=UTF-8, so the user name cannot go as username*"
    )]
    NonAsciiAuthorization,
    /// A redirect keeps the method and body (307, 308) but the body was streamed and has
    /// been sent already.
    #[error("redirect to {location} needs the body again, but it was streamed")]
    RedirectBodyNotReplayable {
        /// Where the server redirected to.
        location: String,
    },
}

impl Error {
    /// The Digest failure, when this is one.
    pub fn failure(&self) -> Option<&Failure> {
        match self {
            Error::Auth(e) => Some(e.failure()),
            _ => None,
        }
    }
}

/// Digest authentication failed: why, and the response that ended the exchange (a 401 or
/// 407, or, when mutual authentication failed, the unproven final response), with its body
/// to read.
pub type AuthError = httpdigest::http::AuthError<ureq::Body>;
