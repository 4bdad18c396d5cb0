//! The computations of RFC 7616 §3.4.1–§3.4.4 and §3.5: H(A1), H(A2), the request-digest
//! (`response`), `rspauth` and `userhash`.
//!
//! Every function hashes its inputs joined by `:` without building the joined string, and
//! returns lower-case hex in a [`HexDigest`] on the stack: no heap allocation per hash.
//!
//! The RFC 7616 §3.9.1 example, MD5:
//!
//! ```
//! use httpdigest::{digest, Algorithm, NonceCount, Qop};
//!
//! let alg = Algorithm::Md5;
//! let ha1 = digest::ha1(alg, b"Mufasa", b"http-auth@example.org", b"Circle of Life");
//! assert_eq!(ha1.as_str(), "3d78807defe7de2157e2b0b6573a855f");
//! let ha2 = digest::ha2(alg, b"GET", b"/dir/index.html", None);
//! let qop = digest::QopParams {
//!     qop: Qop::Auth,
//!     nc: NonceCount::FIRST,
//!     cnonce: b"f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
//! };
//! let response = digest::response(
//!     alg,
//!     &ha1,
//!     b"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
//!     Some(qop),
//!     &ha2,
//! );
//! assert_eq!(response.as_str(), "8ca523f5e9506fed4657c9700eebdbec");
//! ```

use core::fmt;

use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512, Sha512_256};

use crate::algorithm::Algorithm;
use crate::nonce_count::NonceCount;
use crate::qop::Qop;

/// Longest hex output: SHA-512, 64 bytes.
const MAX_HEX: usize = 128;

/// A hash value as lower-case hexadecimal digits, held inline (no heap).
///
/// `Debug` does not print the digits: a `HexDigest` may hold an H(A1), which is as good as
/// the password to an attacker. Compare digests with [`HexDigest::ct_eq`], which takes the
/// same time wherever the first difference is.
#[derive(Clone, Copy)]
pub struct HexDigest {
    buf: [u8; MAX_HEX],
    len: u8,
}

impl HexDigest {
    pub(crate) fn from_bytes(bytes: &[u8]) -> HexDigest {
        // Arithmetic rather than a table: no memory access indexed by a secret (an H(A1)).
        fn digit(nibble: u8) -> u8 {
            // 39 = b'a' - b'0' - 10, added when the nibble is over 9.
            nibble + b'0' + (9u8.wrapping_sub(nibble) >> 7) * 39
        }
        let mut buf = [0u8; MAX_HEX];
        let mut len = 0u8;
        for (pair, b) in buf.chunks_exact_mut(2).zip(bytes) {
            if let [hi, lo] = pair {
                *hi = digit(b >> 4);
                *lo = digit(b & 0xf);
                len += 2;
            }
        }
        HexDigest { buf, len }
    }

    /// Parses a hash given as hex (a precomputed H(A1) from an htdigest file, for instance),
    /// normalising it to lower case. `None` unless `hex` is 32, 40, 64 or 128 hex digits.
    pub fn from_hex(hex: &str) -> Option<HexDigest> {
        if !matches!(hex.len(), 32 | 40 | 64 | 128) || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let mut buf = [0u8; MAX_HEX];
        for (dst, src) in buf.iter_mut().zip(hex.bytes()) {
            *dst = src.to_ascii_lowercase();
        }
        Some(HexDigest {
            buf,
            len: u8::try_from(hex.len()).ok()?,
        })
    }

    /// The digits.
    pub fn as_str(&self) -> &str {
        core::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }

    /// The digits as bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.buf.get(..usize::from(self.len)).unwrap_or_default()
    }

    /// Compares with `other` in time that depends only on the lengths, never on where the
    /// contents differ. Upper-case hex in `other` does not match.
    pub fn ct_eq(&self, other: &[u8]) -> bool {
        use subtle::ConstantTimeEq as _;
        let mine = self.as_bytes();
        // Lengths are public (per algorithm): a mismatch answers at once.
        if mine.len() != other.len() {
            return false;
        }
        // The differences of every byte, folded eight bytes at a time with no branch on the
        // data; subtle compares the fold with zero (one barrier rather than one per byte).
        let word = |chunk: &[u8]| {
            let mut w = [0u8; 8];
            w.get_mut(..chunk.len())
                .unwrap_or_default()
                .copy_from_slice(chunk);
            u64::from_ne_bytes(w)
        };
        let diff = mine
            .chunks(8)
            .zip(other.chunks(8))
            .fold(0u64, |acc, (a, b)| acc | (word(a) ^ word(b)));
        diff.ct_eq(&0).into()
    }
}

impl zeroize::Zeroize for HexDigest {
    fn zeroize(&mut self) {
        // Only the digits were ever written: the rest of the buffer is zero already.
        if let Some(digits) = self.buf.get_mut(..usize::from(self.len)) {
            digits.zeroize();
        }
        self.len = 0;
    }
}

/// A [`HexDigest`] that is secret (an H(A1)): wiped when dropped.
#[derive(Clone)]
pub(crate) struct SecretDigest(pub(crate) HexDigest);

impl Drop for SecretDigest {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

impl fmt::Debug for SecretDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretDigest(..)")
    }
}

impl fmt::Debug for HexDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HexDigest({} hex digits)", self.len)
    }
}

/// H(`parts` joined by `:`) with `algorithm`'s hash function, as lower-case hex on the
/// stack. One monomorphic function per hash: the hash state is never moved around as an enum
/// of every state (the largest, SHA-512's, is over 200 bytes).
pub(crate) fn hash_joined(algorithm: Algorithm, parts: &[&[u8]]) -> HexDigest {
    match algorithm.without_session() {
        Algorithm::Sha1 => joined::<Sha1>(parts),
        Algorithm::Sha256 => joined::<Sha256>(parts),
        Algorithm::Sha512 => joined::<Sha512>(parts),
        Algorithm::Sha512_256 => joined::<Sha512_256>(parts),
        _ => joined::<Md5>(parts),
    }
}

fn joined<D: Digest>(parts: &[&[u8]]) -> HexDigest {
    /// Inputs up to this long (every request-digest and H(A2) of an ordinary request) are
    /// joined on the stack and hashed in one update: a dozen small updates cost more than
    /// the copy.
    const JOIN_LIMIT: usize = 320;
    let len = parts.iter().map(|p| p.len()).sum::<usize>() + parts.len().saturating_sub(1);
    let mut h = D::new();
    if len <= JOIN_LIMIT {
        let mut buf = [0u8; JOIN_LIMIT];
        let mut at = 0;
        for (i, part) in parts.iter().enumerate() {
            if i > 0 {
                if let Some(b) = buf.get_mut(at) {
                    *b = b':';
                }
                at += 1;
            }
            if let Some(dst) = buf.get_mut(at..at + part.len()) {
                dst.copy_from_slice(part);
            }
            at += part.len();
        }
        let joined = buf.get_mut(..len).unwrap_or_default();
        h.update(&*joined);
        // The input may hold a password or an H(A1).
        zeroize::Zeroize::zeroize(joined);
    } else {
        for (i, part) in parts.iter().enumerate() {
            if i > 0 {
                h.update(b":");
            }
            h.update(part);
        }
    }
    HexDigest::from_bytes(&h.finalize())
}

/// H(data): the hash of a body for `auth-int`, for instance.
pub fn hash(algorithm: Algorithm, data: &[u8]) -> HexDigest {
    hash_joined(algorithm, &[data])
}

/// H(data) computed as the data comes, for a body too long to hold in memory: a request body
/// streamed from a file for `auth-int` ([`Ticket::sign_with`](crate::client::Ticket::sign_with)
/// asks for its hash), or the response body whose hash `rspauth` covers
/// ([`ResponseBodyCheck`](crate::client::ResponseBodyCheck) uses one). The same value as
/// [`hash`] over the whole data.
///
/// ```
/// use httpdigest::{digest, Algorithm};
///
/// let mut h = digest::BodyHash::new(Algorithm::Sha256);
/// h.update(b"Hello, ");
/// h.update(b"world");
/// assert_eq!(h.finish().as_str(), digest::hash(Algorithm::Sha256, b"Hello, world").as_str());
/// ```
#[derive(Clone)]
pub struct BodyHash(BodyHashState);

#[derive(Clone)]
enum BodyHashState {
    Md5(Md5),
    Sha1(Sha1),
    Sha256(Sha256),
    Sha512(Sha512),
    Sha512_256(Sha512_256),
}

impl BodyHash {
    /// A hash with `algorithm`'s function (the same for its `-sess` form), over nothing yet.
    pub fn new(algorithm: Algorithm) -> Self {
        Self(match algorithm.without_session() {
            Algorithm::Sha1 => BodyHashState::Sha1(Sha1::new()),
            Algorithm::Sha256 => BodyHashState::Sha256(Sha256::new()),
            Algorithm::Sha512 => BodyHashState::Sha512(Sha512::new()),
            Algorithm::Sha512_256 => BodyHashState::Sha512_256(Sha512_256::new()),
            _ => BodyHashState::Md5(Md5::new()),
        })
    }

    /// Hashes the next part of the data.
    pub fn update(&mut self, data: &[u8]) {
        match &mut self.0 {
            BodyHashState::Md5(h) => h.update(data),
            BodyHashState::Sha1(h) => h.update(data),
            BodyHashState::Sha256(h) => h.update(data),
            BodyHashState::Sha512(h) => h.update(data),
            BodyHashState::Sha512_256(h) => h.update(data),
        }
    }

    /// H(all the data), as lower-case hex.
    pub fn finish(self) -> HexDigest {
        match self.0 {
            BodyHashState::Md5(h) => HexDigest::from_bytes(&h.finalize()),
            BodyHashState::Sha1(h) => HexDigest::from_bytes(&h.finalize()),
            BodyHashState::Sha256(h) => HexDigest::from_bytes(&h.finalize()),
            BodyHashState::Sha512(h) => HexDigest::from_bytes(&h.finalize()),
            BodyHashState::Sha512_256(h) => HexDigest::from_bytes(&h.finalize()),
        }
    }
}

impl fmt::Debug for BodyHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self.0 {
            BodyHashState::Md5(_) => "MD5",
            BodyHashState::Sha1(_) => "SHA",
            BodyHashState::Sha256(_) => "SHA-256",
            BodyHashState::Sha512(_) => "SHA-512",
            BodyHashState::Sha512_256(_) => "SHA-512-256",
        };
        write!(f, "BodyHash({name})")
    }
}

/// H(A1) = H(username ":" realm ":" password) (RFC 7616 §3.4.2), what an htdigest file
/// stores. For a `-sess` algorithm pass the result through [`session_ha1`].
///
/// `username` is always the plain user name, also when the request sends a userhash
/// (RFC 7616 erratum 4897; curl, lighttpd and Go agree).
pub fn ha1(algorithm: Algorithm, username: &[u8], realm: &[u8], password: &[u8]) -> HexDigest {
    hash_joined(algorithm, &[username, realm, password])
}

/// The session H(A1) of the `-sess` algorithms: H(H(username:realm:password) ":" nonce ":"
/// cnonce) (RFC 7616 §3.4.2).
pub fn session_ha1(
    algorithm: Algorithm,
    ha1: &HexDigest,
    nonce: &[u8],
    cnonce: &[u8],
) -> HexDigest {
    hash_joined(algorithm, &[ha1.as_bytes(), nonce, cnonce])
}

/// H(A2) (RFC 7616 §3.4.3): H(method ":" uri) for `auth` and RFC 2069, or
/// H(method ":" uri ":" H(body)) for `auth-int` (pass the body's hash from [`hash`]).
///
/// For `rspauth` the method is empty (see [`rspauth`]).
pub fn ha2(
    algorithm: Algorithm,
    method: &[u8],
    uri: &[u8],
    body_hash: Option<&HexDigest>,
) -> HexDigest {
    match body_hash {
        Some(b) => hash_joined(algorithm, &[method, uri, b.as_bytes()]),
        None => hash_joined(algorithm, &[method, uri]),
    }
}

/// The qop-dependent inputs of the request-digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QopParams<'a> {
    /// The qop chosen.
    pub qop: Qop,
    /// The nonce count of this request.
    pub nc: NonceCount,
    /// The client nonce.
    pub cnonce: &'a [u8],
}

/// The request-digest sent as `response` (RFC 7616 §3.4.1):
/// H(H(A1) ":" nonce ":" nc ":" cnonce ":" qop ":" H(A2)), or, without qop (RFC 2069),
/// H(H(A1) ":" nonce ":" H(A2)).
///
/// `ha1` is the session H(A1) for `-sess` algorithms.
pub fn response(
    algorithm: Algorithm,
    ha1: &HexDigest,
    nonce: &[u8],
    qop: Option<QopParams<'_>>,
    ha2: &HexDigest,
) -> HexDigest {
    match qop {
        Some(q) => hash_joined(
            algorithm,
            &[
                ha1.as_bytes(),
                nonce,
                &q.nc.to_hex(),
                q.cnonce,
                q.qop.as_str().as_bytes(),
                ha2.as_bytes(),
            ],
        ),
        None => hash_joined(algorithm, &[ha1.as_bytes(), nonce, ha2.as_bytes()]),
    }
}

/// The `rspauth` of `Authentication-Info` (RFC 7616 §3.5): the request-digest with
/// A2 = ":" uri (`auth`), or ":" uri ":" H(response body) (`auth-int`).
pub fn rspauth(
    algorithm: Algorithm,
    ha1: &HexDigest,
    nonce: &[u8],
    qop: Option<QopParams<'_>>,
    uri: &[u8],
    response_body_hash: Option<&HexDigest>,
) -> HexDigest {
    let a2 = ha2(algorithm, b"", uri, response_body_hash);
    response(algorithm, ha1, nonce, qop, &a2)
}

/// The userhash sent as `username` when `userhash=true` (RFC 7616 §3.4.4):
/// H(username ":" realm).
pub fn userhash(algorithm: Algorithm, username: &[u8], realm: &[u8]) -> HexDigest {
    hash_joined(algorithm, &[username, realm])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_len_matches_output() {
        for a in Algorithm::ALL {
            assert_eq!(hash_joined(a, &[b"x"]).as_str().len(), a.hex_len(), "{a}");
        }
    }

    #[test]
    fn from_hex_normalises_and_validates() {
        let h = HexDigest::from_hex("3D78807DEFE7DE2157E2B0B6573A855F").unwrap();
        assert_eq!(h.as_str(), "3d78807defe7de2157e2b0b6573a855f");
        assert!(HexDigest::from_hex("3d78").is_none());
        assert!(HexDigest::from_hex(&"g".repeat(32)).is_none());
    }

    #[test]
    fn ct_eq_compares_whole_value() {
        let h = hash(Algorithm::Md5, b"x");
        assert!(h.ct_eq(h.as_bytes()));
        assert!(!h.ct_eq(&h.as_bytes()[..31]));
        let mut other = h.as_bytes().to_vec();
        other[31] ^= 1;
        assert!(!h.ct_eq(&other));
    }

    #[test]
    fn body_hash_in_parts_is_the_hash_of_the_whole() {
        let data = b"the response body, in three parts";
        for a in Algorithm::ALL {
            let mut h = BodyHash::new(a);
            for part in data.chunks(11) {
                h.update(part);
            }
            assert_eq!(h.finish().as_str(), hash(a, data).as_str(), "{a}");
        }
    }

    #[test]
    fn debug_hides_digits() {
        let h = ha1(Algorithm::Md5, b"u", b"r", b"p");
        assert!(!format!("{h:?}").contains(h.as_str()));
    }
}
