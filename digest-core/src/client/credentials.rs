//! The user's secret: a password, or a precomputed H(A1).

use alloc::string::String;
use alloc::sync::Arc;
use core::fmt;

use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};
use zeroize::Zeroizing;

use super::username::{NameForm, latin1_bytes};
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
/// A user name outside ASCII is kept in Unicode Normalization Form C (RFC 7616 §4), the form
/// servers store names in; passwords are used as given. How a server reads such a name
/// varies: see [`NameForm`](super::NameForm).
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
            username: nfc(username.into()),
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
            username: nfc(username.into()),
            secret: Secret::Ha1 {
                realm: realm.into(),
                algorithm: algorithm.without_session(),
                ha1: SecretDigest(ha1),
            },
        }
    }

    /// The user name (in NFC).
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

    /// H(A1) (the non-session form) for this algorithm and realm, the name and password
    /// hashed as `form` says, or `None` when a precomputed H(A1) does not fit them.
    pub(crate) fn ha1(
        &self,
        algorithm: Algorithm,
        realm: &str,
        form: NameForm,
    ) -> Option<SecretDigest> {
        match &self.secret {
            Secret::Password(p) if form == NameForm::Latin1 => {
                let password = Zeroizing::new(latin1_bytes(p).into_owned());
                Some(SecretDigest(digest::ha1(
                    algorithm,
                    &latin1_bytes(&self.username),
                    realm.as_bytes(),
                    &password,
                )))
            }
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

    /// Whether the secret is a password within ISO-8859-1 (what [`NameForm::Latin1`]
    /// hashes).
    pub(crate) fn latin1_password(&self) -> bool {
        match &self.secret {
            Secret::Password(p) => p.chars().all(|c| u32::from(c) <= 0xff),
            Secret::Ha1 { .. } => false,
        }
    }

    /// Whether these are the same credentials (same user name and secret), the secrets
    /// compared in constant time.
    pub(crate) fn same_as(&self, other: &Self) -> bool {
        use subtle::ConstantTimeEq as _;
        self.username == other.username
            && match (&self.secret, &other.secret) {
                (Secret::Password(a), Secret::Password(b)) => {
                    bool::from(a.as_bytes().ct_eq(b.as_bytes()))
                }
                (
                    Secret::Ha1 {
                        realm: ra,
                        algorithm: aa,
                        ha1: ha,
                    },
                    Secret::Ha1 {
                        realm: rb,
                        algorithm: ab,
                        ha1: hb,
                    },
                ) => ra == rb && aa == ab && ha.0.ct_eq(hb.0.as_str().as_bytes()),
                _ => false,
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

/// `name` in NFC; an ASCII name (or one already in NFC) without a copy.
fn nfc(name: String) -> Arc<str> {
    if name.is_ascii() || is_nfc_quick(name.chars()) == IsNormalized::Yes {
        return Arc::from(name);
    }
    Arc::from(name.nfc().collect::<String>())
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
