//! The `algorithm` parameter (RFC 7616 §3.3, §6.1): names, strengths and the `-sess` forms.
//! The hash functions behind them are run by [`digest`](crate::digest).

use core::fmt;

/// A Digest algorithm: a hash function, and whether H(A1) takes the session (`-sess`) form.
///
/// The RFC 7616 registry holds `MD5`, `SHA-256` and `SHA-512-256`, each with `-sess`.
/// `SHA` (SHA-1) and `SHA-512` are not registered, but httpbin, Twisted and the Python clients
/// speak them, so they are supported too. Tokens match case-insensitively
/// ([`Algorithm::from_token`]); callers that echo a server's token should echo the server's
/// spelling, not [`Algorithm::name`].
///
/// Algorithms order by [strength](Algorithm::strength):
/// SHA-512-256 > SHA-512 > SHA-256 > SHA-1 > MD5 (a `-sess` variant ranks with its hash).
///
/// ```
/// use httpdigest::Algorithm;
///
/// assert_eq!(Algorithm::from_token(b"sha-512-256-SESS"), Some(Algorithm::Sha512_256Sess));
/// assert_eq!(Algorithm::from_token(b"md5"), Some(Algorithm::Md5));
/// assert_eq!(Algorithm::from_token(b"SHA-384"), None);
/// assert!(Algorithm::Sha512_256.strength() > Algorithm::Sha256.strength());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Algorithm {
    /// `MD5` (the default when a challenge names no algorithm).
    Md5,
    /// `MD5-sess`.
    Md5Sess,
    /// `SHA`: SHA-1, not registered by RFC 7616 (httpbin, Twisted).
    Sha1,
    /// `SHA-sess`.
    Sha1Sess,
    /// `SHA-256`.
    Sha256,
    /// `SHA-256-sess`.
    Sha256Sess,
    /// `SHA-512`: not registered by RFC 7616 (httpbin's own name, copied by Python clients).
    Sha512,
    /// `SHA-512-sess`.
    Sha512Sess,
    /// `SHA-512-256`: FIPS 180-4 SHA-512/256 (not SHA-512 truncated).
    Sha512_256,
    /// `SHA-512-256-sess`.
    Sha512_256Sess,
}

impl Algorithm {
    /// Every supported algorithm, strongest first, plain before `-sess`.
    pub const ALL: [Algorithm; 10] = [
        Algorithm::Sha512_256,
        Algorithm::Sha512_256Sess,
        Algorithm::Sha512,
        Algorithm::Sha512Sess,
        Algorithm::Sha256,
        Algorithm::Sha256Sess,
        Algorithm::Sha1,
        Algorithm::Sha1Sess,
        Algorithm::Md5,
        Algorithm::Md5Sess,
    ];

    /// Matches an `algorithm` token, ignoring ASCII case. `None` for algorithms this crate
    /// does not implement.
    pub fn from_token(token: &[u8]) -> Option<Algorithm> {
        Self::ALL
            .into_iter()
            .find(|a| a.name().as_bytes().eq_ignore_ascii_case(token))
    }

    /// The canonical spelling (`MD5`, `SHA-256-sess`, ...).
    pub const fn name(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Md5Sess => "MD5-sess",
            Algorithm::Sha1 => "SHA",
            Algorithm::Sha1Sess => "SHA-sess",
            Algorithm::Sha256 => "SHA-256",
            Algorithm::Sha256Sess => "SHA-256-sess",
            Algorithm::Sha512 => "SHA-512",
            Algorithm::Sha512Sess => "SHA-512-sess",
            Algorithm::Sha512_256 => "SHA-512-256",
            Algorithm::Sha512_256Sess => "SHA-512-256-sess",
        }
    }

    /// Whether H(A1) takes the session form `H(H(user:realm:password):nonce:cnonce)`.
    pub const fn is_session(self) -> bool {
        matches!(
            self,
            Algorithm::Md5Sess
                | Algorithm::Sha1Sess
                | Algorithm::Sha256Sess
                | Algorithm::Sha512Sess
                | Algorithm::Sha512_256Sess
        )
    }

    /// The same hash function without `-sess`.
    pub const fn without_session(self) -> Algorithm {
        match self {
            Algorithm::Md5 | Algorithm::Md5Sess => Algorithm::Md5,
            Algorithm::Sha1 | Algorithm::Sha1Sess => Algorithm::Sha1,
            Algorithm::Sha256 | Algorithm::Sha256Sess => Algorithm::Sha256,
            Algorithm::Sha512 | Algorithm::Sha512Sess => Algorithm::Sha512,
            Algorithm::Sha512_256 | Algorithm::Sha512_256Sess => Algorithm::Sha512_256,
        }
    }

    /// Whether RFC 7616 registers the algorithm (MD5, SHA-256, SHA-512-256 and their
    /// `-sess` forms).
    pub const fn is_registered(self) -> bool {
        matches!(
            self.without_session(),
            Algorithm::Md5 | Algorithm::Sha256 | Algorithm::Sha512_256
        )
    }

    /// Rank of the hash function, higher is stronger: MD5 1, SHA-1 2, SHA-256 3, SHA-512 4,
    /// SHA-512-256 5. `-sess` ranks with its hash.
    pub const fn strength(self) -> u8 {
        match self.without_session() {
            Algorithm::Sha1 => 2,
            Algorithm::Sha256 => 3,
            Algorithm::Sha512 => 4,
            Algorithm::Sha512_256 => 5,
            _ => 1,
        }
    }

    /// Length of the hash output in hexadecimal digits (32 for MD5, 64 for SHA-256, ...).
    pub const fn hex_len(self) -> usize {
        match self.without_session() {
            Algorithm::Sha1 => 40,
            Algorithm::Sha256 | Algorithm::Sha512_256 => 64,
            Algorithm::Sha512 => 128,
            _ => 32,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_round_trips_in_any_case() {
        for a in Algorithm::ALL {
            assert_eq!(Algorithm::from_token(a.name().as_bytes()), Some(a));
            assert_eq!(
                Algorithm::from_token(a.name().to_ascii_lowercase().as_bytes()),
                Some(a)
            );
            assert_eq!(
                Algorithm::from_token(a.name().to_ascii_uppercase().as_bytes()),
                Some(a)
            );
        }
        assert_eq!(Algorithm::from_token(b""), None);
        assert_eq!(Algorithm::from_token(b"MD5 "), None);
        assert_eq!(Algorithm::from_token(b"SHA-1"), None);
    }
}
