//! The client layer's errors.

use std::fmt;

use http::{HeaderMap, StatusCode};
use httpdigest::client::Failure;

/// A boxed error, as tower and hyper pass them around.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why a request through [`DigestAuth`](crate::DigestAuth) failed. `E` is the wrapped
/// service's error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error<E> {
    /// The wrapped service (the HTTP client) failed.
    #[error(transparent)]
    Service(E),
    /// Digest authentication failed: see [`AuthError::failure`].
    #[error(transparent)]
    Auth(Box<AuthError>),
    /// The request body could not be read.
    #[error("could not read the request body: {0}")]
    Body(BoxError),
    /// The request URI is not an absolute `http` or `https` URI, which the layer needs to
    /// know the origin (hyper-util's client needs it too).
    #[error("not an absolute http or https URI: {0}")]
    BadUri(String),
    /// A header value from the core could not go into a header (it never contains control
    /// characters, so this is not expected).
    #[error("invalid header value")]
    InvalidHeader(#[from] http::header::InvalidHeaderValue),
}

impl<E> Error<E> {
    /// The Digest failure, if that is what this is.
    pub fn failure(&self) -> Option<&Failure> {
        match self {
            Error::Auth(auth) => Some(auth.failure()),
            _ => None,
        }
    }
}

/// A Digest failure, with the head of the response it ended on (the body is dropped: a 401
/// page, or a response that failed mutual authentication and is not to be trusted).
pub struct AuthError {
    failure: Failure,
    head: http::response::Parts,
}

impl AuthError {
    pub(crate) fn new(failure: Failure, head: http::response::Parts) -> Self {
        Self { failure, head }
    }

    /// Why the core gave up.
    pub fn failure(&self) -> &Failure {
        &self.failure
    }

    /// The status of the last response.
    pub fn status(&self) -> StatusCode {
        self.head.status
    }

    /// The headers of the last response (its challenges, say).
    pub fn headers(&self) -> &HeaderMap {
        &self.head.headers
    }

    /// The head of the last response.
    pub fn into_parts(self) -> http::response::Parts {
        self.head
    }
}

impl fmt::Debug for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthError")
            .field("failure", &self.failure)
            .field("status", &self.head.status)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "digest authentication failed ({}): {}",
            self.head.status, self.failure
        )
    }
}

impl std::error::Error for AuthError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.failure)
    }
}
