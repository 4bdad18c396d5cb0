//! Apache htdigest files (feature `std`): `user:realm:H(A1)` per line, as written by
//! Apache's `htdigest` tool; lighttpd adds a fourth field, H(user:realm), for userhash.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::string::{String, ToString};
use std::vec::Vec;

use super::store::{CredentialStore, StoredSecret};
use crate::algorithm::Algorithm;
use crate::digest::{self, HexDigest};

/// What was wrong with an htdigest file, and on which line (1-based).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HtdigestError {
    /// The file could not be read.
    #[error("cannot read the htdigest file: {0}")]
    Io(#[from] std::io::Error),
    /// A line is not `user:realm:hash`.
    #[error("line {line}: expected user:realm:hash")]
    Syntax {
        /// The line number.
        line: usize,
    },
    /// The hash is not hexadecimal of the algorithm's length.
    #[error("line {line}: the hash is not {expected} hexadecimal digits")]
    BadHash {
        /// The line number.
        line: usize,
        /// How many digits the algorithm's hash has.
        expected: usize,
    },
    /// The same user and realm appear twice.
    #[error("line {line}: duplicate entry for this user and realm")]
    Duplicate {
        /// The line number.
        line: usize,
    },
    /// The file is not UTF-8.
    #[error("line {line}: not valid UTF-8")]
    NotUtf8 {
        /// The line number.
        line: usize,
    },
}

/// The users of an htdigest file, for one hash function.
///
/// ```
/// use httpdigest::Algorithm;
/// use httpdigest::server::{CredentialStore, Htdigest};
///
/// // As written by `htdigest -c file 'lab@example.org' alice` with password s3cret.
/// let file = Htdigest::parse("alice:lab@example.org:bff07b5993dbc8c304cad4ef7523937b\n", Algorithm::Md5)?;
/// assert!(file.lookup(b"alice", "lab@example.org").is_some());
/// assert!(file.lookup(b"alice", "other").is_none());
/// # Ok::<(), httpdigest::server::HtdigestError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Htdigest {
    algorithm: Algorithm,
    entries: HashMap<(Vec<u8>, String), HexDigest>,
    /// (H(user:realm), realm) -> (user, H(A1)), for userhash lookups: one map lookup
    /// whether the hash names a user or nobody, whatever the number of users.
    userhashes: HashMap<(String, String), (Vec<u8>, HexDigest)>,
    /// The realms of the entries.
    realms: BTreeSet<String>,
}

impl Htdigest {
    /// Reads a file whose hashes were made with `algorithm`'s hash function (MD5 for
    /// Apache's tool).
    ///
    /// # Errors
    ///
    /// [`HtdigestError`] with the line number of the first bad line.
    pub fn load(path: impl AsRef<Path>, algorithm: Algorithm) -> Result<Self, HtdigestError> {
        let bytes = std::fs::read(path)?;
        Self::parse_bytes(&bytes, algorithm)
    }

    /// Parses the text of a file.
    ///
    /// # Errors
    ///
    /// As [`load`](Self::load).
    pub fn parse(text: &str, algorithm: Algorithm) -> Result<Self, HtdigestError> {
        Self::parse_bytes(text.as_bytes(), algorithm)
    }

    fn parse_bytes(bytes: &[u8], algorithm: Algorithm) -> Result<Self, HtdigestError> {
        let algorithm = algorithm.without_session();
        let mut entries = HashMap::new();
        let mut userhashes = HashMap::new();
        let mut realms = BTreeSet::new();
        for (i, raw) in bytes.split(|&b| b == b'\n').enumerate() {
            let line = i + 1;
            let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
            if raw.trim_ascii().is_empty() || raw.first() == Some(&b'#') {
                continue;
            }
            let text = std::str::from_utf8(raw).map_err(|_| HtdigestError::NotUtf8 { line })?;
            // user:realm:hash[:userhash]; user and realm cannot contain ':' in this format.
            let mut fields = text.split(':');
            let (Some(user), Some(realm), Some(hash)) =
                (fields.next(), fields.next(), fields.next())
            else {
                return Err(HtdigestError::Syntax { line });
            };
            let _lighttpd_userhash = fields.next();
            if user.is_empty() || fields.next().is_some() {
                return Err(HtdigestError::Syntax { line });
            }
            let bad_hash = HtdigestError::BadHash {
                line,
                expected: algorithm.hex_len(),
            };
            let hash = HexDigest::from_hex(hash)
                .filter(|h| h.as_str().len() == algorithm.hex_len())
                .ok_or(bad_hash)?;
            let key = (user.as_bytes().to_vec(), realm.to_string());
            if entries.insert(key, hash).is_some() {
                return Err(HtdigestError::Duplicate { line });
            }
            if !realms.contains(realm) {
                realms.insert(realm.to_string());
            }
            let userhash = digest::userhash(algorithm, user.as_bytes(), realm.as_bytes());
            userhashes.insert(
                (userhash.as_str().to_string(), realm.to_string()),
                (user.as_bytes().to_vec(), hash),
            );
        }
        Ok(Self {
            algorithm,
            entries,
            userhashes,
            realms,
        })
    }

    /// How many users the file holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the file holds no user.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The realms the file's entries name, in sorted order (most files have one: give it to
    /// `VerifierConfig::new`).
    ///
    /// ```
    /// use httpdigest::Algorithm;
    /// use httpdigest::server::Htdigest;
    ///
    /// let file = Htdigest::parse("alice:lab@example.org:bff07b5993dbc8c304cad4ef7523937b\n", Algorithm::Md5)?;
    /// assert_eq!(file.realms().collect::<Vec<_>>(), ["lab@example.org"]);
    /// # Ok::<(), httpdigest::server::HtdigestError>(())
    /// ```
    pub fn realms(&self) -> impl Iterator<Item = &str> {
        self.realms.iter().map(String::as_str)
    }

    /// The hash function of the file's H(A1)s (`MD5` for Apache's tool).
    pub const fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    fn secret(&self, user: &[u8], realm: &str) -> Option<StoredSecret> {
        self.entries
            .get(&(user.to_vec(), realm.to_string()))
            .map(|ha1| StoredSecret::Ha1 {
                algorithm: self.algorithm,
                ha1: *ha1,
            })
    }
}

impl CredentialStore for Htdigest {
    fn lookup(&self, username: &[u8], realm: &str) -> Option<StoredSecret> {
        self.secret(username, realm)
    }

    /// Only the file's hash function (and its `-sess` variant): an MD5 file cannot verify a
    /// `SHA-256` answer.
    fn verifies(&self, algorithm: Algorithm) -> bool {
        algorithm.without_session() == self.algorithm
    }

    /// A realm of the file's entries (any realm, for an empty file).
    fn serves_realm(&self, realm: &str) -> bool {
        self.realms.is_empty() || self.realms.contains(realm)
    }

    fn lookup_userhash(
        &self,
        userhash: &[u8],
        realm: &str,
        algorithm: Algorithm,
    ) -> Option<(String, StoredSecret)> {
        if algorithm.without_session() != self.algorithm {
            return None;
        }
        let hash = std::str::from_utf8(userhash).ok()?;
        let (user, ha1) = self
            .userhashes
            .get(&(hash.to_string(), realm.to_string()))?;
        Some((
            String::from_utf8_lossy(user).into_owned(),
            StoredSecret::Ha1 {
                algorithm: self.algorithm,
                ha1: *ha1,
            },
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_line() {
        let ok = "alice:r:bff07b5993dbc8c304cad4ef7523937b\n";
        assert!(matches!(
            Htdigest::parse(&format!("{ok}bob:r\n"), Algorithm::Md5),
            Err(HtdigestError::Syntax { line: 2 })
        ));
        assert!(matches!(
            Htdigest::parse(&format!("# comment\n\n{ok}bob:r:xyz\n"), Algorithm::Md5),
            Err(HtdigestError::BadHash {
                line: 4,
                expected: 32
            })
        ));
        assert!(matches!(
            Htdigest::parse(&format!("{ok}{ok}"), Algorithm::Md5),
            Err(HtdigestError::Duplicate { line: 2 })
        ));
        assert!(matches!(
            Htdigest::parse(ok, Algorithm::Sha256),
            Err(HtdigestError::BadHash {
                line: 1,
                expected: 64
            })
        ));
        assert!(matches!(
            Htdigest::parse(":r:bff07b5993dbc8c304cad4ef7523937b", Algorithm::Md5),
            Err(HtdigestError::Syntax { line: 1 })
        ));
        assert!(matches!(
            Htdigest::parse_bytes(b"\xff:r:bff07b5993dbc8c304cad4ef7523937b", Algorithm::Md5),
            Err(HtdigestError::NotUtf8 { line: 1 })
        ));
    }

    #[test]
    fn userhash_lookup() {
        let ha1 = digest::ha1(Algorithm::Sha256, b"alice", b"r", b"pw");
        let file =
            Htdigest::parse(&format!("alice:r:{}\r\n", ha1.as_str()), Algorithm::Sha256).unwrap();
        let uh = digest::userhash(Algorithm::Sha256, b"alice", b"r");
        let (name, _) = file
            .lookup_userhash(uh.as_bytes(), "r", Algorithm::Sha256)
            .unwrap();
        assert_eq!(name, "alice");
        assert!(
            file.lookup_userhash(uh.as_bytes(), "r", Algorithm::Md5)
                .is_none()
        );
        assert!(
            file.lookup_userhash(uh.as_bytes(), "other", Algorithm::Sha256)
                .is_none()
        );
    }
}
