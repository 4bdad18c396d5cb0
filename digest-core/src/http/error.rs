//! The errors of the HTTP engine, shared by every adapter.

use core::fmt;

use http::{HeaderMap, StatusCode};

use crate::client::Failure;

/// Digest authentication failed: why, and the response it ended on. `B` is what the adapter
/// keeps of the body: nothing (`()`, a 401 page is not worth keeping), or the body itself
/// where its HTTP client hands it out (ureq's).
///
/// After [`Failure::MutualAuthFailed`] or [`Failure::MutualAuthMissing`] the response is the
/// final one (a 200, say), and nothing in it is proven to come from a server that knows the
/// password.
///
/// ```
/// use httpdigest::client::Failure;
/// use httpdigest::http::AuthError;
///
/// let response = http::Response::builder().status(401).body(()).unwrap();
/// let error = AuthError::new(Failure::CredentialsRejected, response);
/// assert_eq!(error.status(), 401);
/// assert_eq!(error.to_string(), "401 Unauthorized: the server rejected the credentials");
/// ```
pub struct AuthError<B = ()> {
    failure: Failure,
    response: http::Response<B>,
}

impl<B> AuthError<B> {
    /// The failure and the response it ended on.
    pub const fn new(failure: Failure, response: http::Response<B>) -> Self {
        Self { failure, response }
    }

    /// Why the core gave up.
    pub const fn failure(&self) -> &Failure {
        &self.failure
    }

    /// The status of the last response.
    pub fn status(&self) -> StatusCode {
        self.response.status()
    }

    /// The headers of the last response (its challenges, say).
    pub fn headers(&self) -> &HeaderMap {
        self.response.headers()
    }

    /// The last response, borrowed.
    pub const fn response(&self) -> &http::Response<B> {
        &self.response
    }

    /// The last response.
    pub fn into_response(self) -> http::Response<B> {
        self.response
    }
}

impl<B> fmt::Debug for AuthError<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthError")
            .field("failure", &self.failure)
            .field("status", &self.response.status())
            .finish_non_exhaustive()
    }
}

/// The status and the failure; the adapters' errors say that it is Digest authentication
/// that failed. The message names the failure, so it is not also the error's source: a chain
/// of errors names it once.
impl<B> fmt::Display for AuthError<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.response.status(), self.failure)
    }
}

impl<B> std::error::Error for AuthError<B> {}

/// A request URI the engine cannot route: not an absolute `http` or `https` URI, which it
/// needs to know the origin, or one whose userinfo cannot be read as credentials. The text
/// it holds (the URI and why) has no userinfo (it may hold a password).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad request URI {0}")]
pub struct BadUri(pub std::string::String);
