//! The user's secret: a password, or a precomputed H(A1).

use alloc::string::String;
use alloc::sync::Arc;
use core::fmt;

use zeroize::Zeroizing;

use crate::algorithm::Algorithm;
use crate::digest::{self, HexDigest, SecretDigest};

/// A user name and its secret, for one origin scope (or one proxy).
///
/// The password (or H(A1)) is wiped from memory when the value is dropped and never appears in
/// `Debug` output, logs or errors.
///
/// ```
/// use httpdigest::client::Credentials;
///
/// let c = Credentials::new("alice", "s3cret");
/// assert_eq!(c.username(), "alice");
/// assert!(!format!("{c:?}").contains("s3cret"));
/// ```
///
/// User names are used as given: NFC normalisation, if wanted, is the caller's (RFC 7616
/// §4 recommends it for names that go through `username*`).
#[derive(Clone)]
pub struct Credentials {
    /// Shared with the tickets that send it, and not wiped on drop: a user name goes out in
    /// every header (the password never does, and is wiped).
    username: Arc<str>,
    secret: Secret,
}

#[derive(Clone)]
enum Secret {
    Password(Zeroizing<String>),
    Ha1 {
        realm: String,
        algorithm: Algorithm,
        ha1: SecretDigest,
    },
}

impl Credentials {
    /// A user name and password.
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        Self {
            username: Arc::from(username.into()),
            secret: Secret::Password(Zeroizing::new(password.into())),
        }
    }

    /// A user name and a precomputed H(A1) = H(username:realm:password), as an htdigest file
    /// holds it. It answers only challenges of that realm whose algorithm uses the same hash
    /// function (`MD5` and `MD5-sess` share one), and never Basic.
    pub fn with_ha1(
        username: impl Into<String>,
        realm: impl Into<String>,
        algorithm: Algorithm,
        ha1: HexDigest,
    ) -> Self {
        Self {
            username: Arc::from(username.into()),
            secret: Secret::Ha1 {
                realm: realm.into(),
                algorithm: algorithm.without_session(),
                ha1: SecretDigest(ha1),
            },
        }
    }

    /// The user name.
    pub fn username(&self) -> &str {
        &self.username
    }

    pub(crate) fn shared_username(&self) -> Arc<str> {
        Arc::clone(&self.username)
    }

    /// The password, for Basic; `None` for H(A1) credentials.
    pub(crate) fn password(&self) -> Option<&str> {
        match &self.secret {
            Secret::Password(p) => Some(p),
            Secret::Ha1 { .. } => None,
        }
    }

    /// H(A1) (the non-session form) for this algorithm and realm, or `None` when a
    /// precomputed H(A1) does not fit them.
    pub(crate) fn ha1(&self, algorithm: Algorithm, realm: &str) -> Option<SecretDigest> {
        match &self.secret {
            Secret::Password(p) => Some(SecretDigest(digest::ha1(
                algorithm,
                self.username.as_bytes(),
                realm.as_bytes(),
                p.as_bytes(),
            ))),
            Secret::Ha1 {
                realm: r,
                algorithm: a,
                ha1,
            } => (*a == algorithm.without_session() && r == realm).then(|| ha1.clone()),
        }
    }

    /// Whether these credentials can answer a Digest challenge with this algorithm and realm.
    pub(crate) fn fits(&self, algorithm: Algorithm, realm: &str) -> bool {
        match &self.secret {
            Secret::Password(_) => true,
            Secret::Ha1 {
                realm: r,
                algorithm: a,
                ..
            } => *a == algorithm.without_session() && r == realm,
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.secret {
            Secret::Password(_) => "password",
            Secret::Ha1 { .. } => "H(A1)",
        };
        f.debug_struct("Credentials")
            .field("username", &&*self.username)
            .field("secret", &format_args!("<{kind} redacted>"))
            .finish()
    }
}
