//! Stateless server nonces: the time of issue, a random salt, and a keyed MAC (HMAC-SHA-256)
//! over both and the realm, so any server instance holding the key can check a nonce without
//! shared state.
//!
//! The salt makes every challenge's nonce unique: without it, clients challenged in the same
//! second would share a nonce, and their nonce counts (each starting at 1) would collide as
//! replays.
//!
//! Wire form: 16 hex digits of the issue time (seconds), 16 of the salt, then 32 of the MAC
//! truncated to 128 bits. Only lower-case hex digits: nothing to quote or escape.

use alloc::string::String;

use hmac::{Hmac, KeyInit, Mac};
use rand_core::TryCryptoRng;
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::digest::HexDigest;

/// What a nonce says when checked (see [`Verifier::verify_with_nonce_check`]).
///
/// [`Verifier::verify_with_nonce_check`]: super::Verifier::verify_with_nonce_check
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonceStatus {
    /// Authentic, issued at `issued_at` (seconds), still within its lifetime.
    Valid {
        /// When the nonce was issued.
        issued_at: u64,
    },
    /// Authentic but past its lifetime (or issued in the future beyond clock skew): answered
    /// with `stale=true` once the password is proven.
    Expired {
        /// When the nonce was issued.
        issued_at: u64,
    },
    /// Not an authentic nonce.
    Forged,
}

const TIME_BYTES: usize = 8;
/// Bytes of random salt per nonce.
pub(crate) const SALT_BYTES: usize = 8;
const MAC_BYTES: usize = 16;
const HEAD_DIGITS: usize = 2 * (TIME_BYTES + SALT_BYTES);
#[cfg(test)]
const NONCE_LEN: usize = HEAD_DIGITS + 2 * MAC_BYTES;

/// How far in the future an issue time may lie (clock skew between instances).
const SKEW: u64 = 5;

/// The verifier's nonce key, as an HMAC-SHA-256 state with the key already absorbed: each
/// nonce then costs the MAC of its own bytes, not the key schedule again. Wiped when dropped
/// (hmac's `zeroize`).
#[derive(Clone)]
pub(crate) struct NonceKey(Option<Hmac<Sha256>>);

impl NonceKey {
    pub(crate) fn new(key: &[u8]) -> Self {
        // HMAC takes keys of any length, so this cannot fail; if it did, no nonce would
        // carry a MAC and every nonce would be refused as forged.
        Self(<Hmac<Sha256> as KeyInit>::new_from_slice(key).ok())
    }

    fn mac(&self, realm: &str, issued_at: u64, salt: &[u8; SALT_BYTES]) -> Option<[u8; MAC_BYTES]> {
        let mut mac = self.0.clone()?;
        mac.update(b"httpdigest nonce v2\0");
        mac.update(&issued_at.to_be_bytes());
        mac.update(salt);
        mac.update(realm.as_bytes());
        let full = mac.finalize().into_bytes();
        let mut out = [0u8; MAC_BYTES];
        out.copy_from_slice(full.get(..MAC_BYTES)?);
        Some(out)
    }
}

/// The random number generator failed while making a nonce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the random number generator failed")]
pub struct RandomnessFailed;

/// A fresh nonce for `realm` at time `now`, salted from `rng`.
pub(crate) fn fresh<R: TryCryptoRng + ?Sized>(
    key: &NonceKey,
    realm: &str,
    now: u64,
    rng: &mut R,
) -> Result<String, RandomnessFailed> {
    let mut salt = [0u8; SALT_BYTES];
    rng.try_fill_bytes(&mut salt)
        .map_err(|_| RandomnessFailed)?;
    Ok(issue(key, realm, now, &salt))
}

/// Issues a nonce for `realm` at time `now`, with a random `salt`.
pub(crate) fn issue(key: &NonceKey, realm: &str, now: u64, salt: &[u8; SALT_BYTES]) -> String {
    let mut out = String::with_capacity(HEAD_DIGITS + 2 * MAC_BYTES);
    out.push_str(HexDigest::from_bytes(&now.to_be_bytes()).as_str());
    out.push_str(HexDigest::from_bytes(salt).as_str());
    // Without a MAC (see `NonceKey::new`) the nonce fails its own check.
    if let Some(m) = key.mac(realm, now, salt) {
        out.push_str(HexDigest::from_bytes(&m).as_str());
    }
    out
}

/// Checks a nonce against the key, the realm and the clock.
pub(crate) fn check(
    key: &NonceKey,
    realm: &str,
    nonce: &[u8],
    now: u64,
    lifetime: u64,
) -> NonceStatus {
    let (Some(time), Some(salt), Some(tag)) = (
        nonce
            .get(..2 * TIME_BYTES)
            .and_then(parse_hex::<TIME_BYTES>),
        nonce
            .get(2 * TIME_BYTES..HEAD_DIGITS)
            .and_then(parse_hex::<SALT_BYTES>),
        nonce.get(HEAD_DIGITS..).and_then(parse_hex::<MAC_BYTES>),
    ) else {
        return NonceStatus::Forged;
    };
    let issued_at = u64::from_be_bytes(time);
    match key.mac(realm, issued_at, &salt) {
        Some(expected) if bool::from(expected.ct_eq(&tag)) => {}
        _ => return NonceStatus::Forged,
    }
    if issued_at > now.saturating_add(SKEW) || now.saturating_sub(issued_at) > lifetime {
        NonceStatus::Expired { issued_at }
    } else {
        NonceStatus::Valid { issued_at }
    }
}

/// Exactly `2 * N` lower-case hex digits.
fn parse_hex<const N: usize>(hex: &[u8]) -> Option<[u8; N]> {
    if hex.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    for (byte, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
        let digit = |b: &u8| {
            char::from(*b)
                .to_digit(16)
                .filter(|_| !b.is_ascii_uppercase())
        };
        let (hi, lo) = (digit(pair.first()?)?, digit(pair.get(1)?)?);
        *byte = u8::try_from(hi << 4 | lo).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SALT: [u8; SALT_BYTES] = [7; SALT_BYTES];

    #[test]
    fn issued_nonces_check_until_they_expire() {
        let key = NonceKey::new(b"key");
        let n = issue(&key, "realm", 1000, &SALT);
        assert_eq!(n.len(), NONCE_LEN);
        assert!(
            n.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        let check_at =
            |key: &[u8], realm, now| check(&NonceKey::new(key), realm, n.as_bytes(), now, 60);
        assert_eq!(
            check_at(b"key", "realm", 1000),
            NonceStatus::Valid { issued_at: 1000 }
        );
        assert_eq!(
            check_at(b"key", "realm", 1060),
            NonceStatus::Valid { issued_at: 1000 }
        );
        assert_eq!(
            check_at(b"key", "realm", 1061),
            NonceStatus::Expired { issued_at: 1000 }
        );
        // Another instance with the same key agrees; another key or realm does not.
        assert_eq!(check_at(b"other", "realm", 1000), NonceStatus::Forged);
        assert_eq!(check_at(b"key", "other", 1000), NonceStatus::Forged);
        // From the future (beyond the skew): not trusted as valid.
        assert_eq!(
            check_at(b"key", "realm", 900),
            NonceStatus::Expired { issued_at: 1000 }
        );
        // Another salt, another nonce; it checks too.
        let m = issue(&key, "realm", 1000, &[8; SALT_BYTES]);
        assert_ne!(n, m);
        assert_eq!(
            check(&key, "realm", m.as_bytes(), 1000, 60),
            NonceStatus::Valid { issued_at: 1000 }
        );
    }

    #[test]
    fn tampering_is_forgery() {
        let key = NonceKey::new(b"key");
        let n = issue(&key, "realm", 1000, &SALT);
        let forged = |bytes: &[u8]| check(&key, "realm", bytes, 1000, 60) == NonceStatus::Forged;
        let mut later = n.clone().into_bytes();
        later[15] = b'9'; // claims another issue time
        assert!(forged(&later));
        let mut salted = n.clone().into_bytes();
        salted[20] = if salted[20] == b'0' { b'1' } else { b'0' };
        assert!(forged(&salted));
        assert!(forged(&n.as_bytes()[..40]));
        assert!(forged(n.to_uppercase().as_bytes()));
        assert!(forged(b""));
    }
}
