//! The client layer's errors.

use httpdigest::client::Failure;
use httpdigest::http::{AuthError, BadUri};

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
    #[error("digest authentication failed: {0}")]
    Auth(Box<AuthError>),
    /// The request body could not be read.
    #[error("could not read the request body: {0}")]
    Body(BoxError),
    /// The response body could not be read, to check the `rspauth` that covers it
    /// (`qop=auth-int`).
    #[error("could not read the response body: {0}")]
    ResponseBody(BoxError),
    /// The request URI is not an absolute `http` or `https` URI, which the layer needs to
    /// know the origin (hyper-util's client needs it too).
    #[error(transparent)]
    BadUri(#[from] BadUri),
    /// No response head came from the wrapped service within the layer's
    /// [`response_timeout`](crate::DigestAuthLayer::response_timeout).
    #[error("no response within {0:?}")]
    Timeout(std::time::Duration),
    /// A header value from the core could not go into a header (it never contains control
    /// characters, so this is not expected).
    #[error("invalid header value")]
    InvalidHeader(#[from] http::header::InvalidHeaderValue),
}

impl<E> Error<E> {
    /// The Digest failure `failure`, ending on `response` (whose body is dropped: a 401
    /// page, or a response that failed mutual authentication and is not to be trusted).
    pub(crate) fn auth<R>(failure: Failure, response: http::Response<R>) -> Self {
        Error::Auth(Box::new(AuthError::new(failure, response.map(drop))))
    }

    /// The Digest failure, if that is what this is.
    pub fn failure(&self) -> Option<&Failure> {
        match self {
            Error::Auth(auth) => Some(auth.failure()),
            _ => None,
        }
    }
}
