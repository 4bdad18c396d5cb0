//! What can go wrong with a request sent through a [`DigestAgent`](crate::DigestAgent).

use std::fmt;

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
    #[error(transparent)]
    Auth(Box<AuthError>),
    /// The request could not be formed (a header name or value, a URI).
    #[error("invalid request: {0}")]
    Http(#[from] http::Error),
    /// The URI is not an absolute `http` or `https` URI.
    #[error("not an absolute http or https URI: {0}")]
    BadUri(String),
    /// Reading the request body from the caller's reader failed.
    #[error("reading the request body: {0}")]
    Body(#[source] std::io::Error),
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
/// 407, or, when mutual authentication failed, the unproven final response).
pub struct AuthError {
    failure: Failure,
    response: http::Response<ureq::Body>,
}

impl AuthError {
    pub(crate) fn new(failure: Failure, response: http::Response<ureq::Body>) -> Self {
        Self { failure, response }
    }

    /// Why the core gave up.
    pub fn failure(&self) -> &Failure {
        &self.failure
    }

    /// The response's status.
    pub fn status(&self) -> http::StatusCode {
        self.response.status()
    }

    /// The response that ended the exchange, to read its headers or body. After
    /// [`Failure::MutualAuthFailed`] or [`Failure::MutualAuthMissing`] nothing in it is
    /// proven to come from a server that knows the password.
    pub fn into_response(self) -> http::Response<ureq::Body> {
        self.response
    }

    /// The response, borrowed.
    pub fn response(&self) -> &http::Response<ureq::Body> {
        &self.response
    }
}

impl fmt::Debug for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthError")
            .field("failure", &self.failure)
            .field("status", &self.response.status())
            .finish_non_exhaustive()
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "digest authentication failed ({}): {}",
            self.response.status(),
            self.failure
        )
    }
}

impl std::error::Error for AuthError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.failure)
    }
}
