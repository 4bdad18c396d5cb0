//! Stateless server nonces: the time of issue and a keyed MAC (HMAC-SHA-256) over it and the
//! realm, so any server instance holding the key can check a nonce without shared state.
//!
//! Wire form: 16 hex digits of the issue time (seconds), then 32 hex digits of the MAC
//! truncated to 128 bits. Only hex digits: nothing to quote or escape.

use alloc::string::String;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// What a nonce says when checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NonceCheck {
    /// Issued by a holder of the key at `issued_at`, still within its lifetime.
    Valid { issued_at: u64 },
    /// Authentic but older than the lifetime (or issued in the future beyond tolerance).
    Expired { issued_at: u64 },
    /// Not issued with this key and realm.
    Forged,
}

const TIME_DIGITS: usize = 16;
const MAC_BYTES: usize = 16;
pub(crate) const NONCE_LEN: usize = TIME_DIGITS + 2 * MAC_BYTES;

fn mac(key: &[u8], realm: &str, issued_at: u64) -> Option<[u8; MAC_BYTES]> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).ok()?;
    mac.update(b"httpdigest nonce v1\0");
    mac.update(&issued_at.to_be_bytes());
    mac.update(realm.as_bytes());
    let full = mac.finalize().into_bytes();
    let mut out = [0u8; MAC_BYTES];
    out.copy_from_slice(full.get(..MAC_BYTES)?);
    Some(out)
}

/// Issues a nonce for `realm` at time `now`.
pub(crate) fn issue(key: &[u8], realm: &str, now: u64) -> String {
    let mut out = String::with_capacity(NONCE_LEN);
    push_hex(&mut out, &now.to_be_bytes());
    // HMAC accepts keys of any length, so `mac` cannot fail; an empty MAC would only make the
    // nonce fail its own check.
    if let Some(m) = mac(key, realm, now) {
        push_hex(&mut out, &m);
    }
    out
}

/// Checks a nonce against the key, the realm and the clock.
pub(crate) fn check(key: &[u8], realm: &str, nonce: &[u8], now: u64, lifetime: u64) -> NonceCheck {
    let (Some(time), Some(tag)) = (nonce.get(..TIME_DIGITS), nonce.get(TIME_DIGITS..)) else {
        return NonceCheck::Forged;
    };
    let (Some(issued_at), Some(tag)) = (
        parse_hex::<8>(time).map(u64::from_be_bytes),
        parse_hex::<MAC_BYTES>(tag),
    ) else {
        return NonceCheck::Forged;
    };
    let Some(expected) = mac(key, realm, issued_at) else {
        return NonceCheck::Forged;
    };
    if !bool::from(expected.ct_eq(&tag)) {
        return NonceCheck::Forged;
    }
    // A nonce "from the future" beyond a small clock skew between instances is not trusted.
    let skew = 5;
    if issued_at > now.saturating_add(skew) || now.saturating_sub(issued_at) > lifetime {
        NonceCheck::Expired { issued_at }
    } else {
        NonceCheck::Valid { issued_at }
    }
}

fn push_hex(out: &mut String, bytes: &[u8]) {
    for b in bytes {
        for nibble in [b >> 4, b & 0xf] {
            out.push(char::from_digit(u32::from(nibble), 16).unwrap_or('0'));
        }
    }
}

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

    #[test]
    fn issued_nonces_check_until_they_expire() {
        let n = issue(b"key", "realm", 1000);
        assert_eq!(n.len(), NONCE_LEN);
        assert!(
            n.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        assert_eq!(
            check(b"key", "realm", n.as_bytes(), 1000, 60),
            NonceCheck::Valid { issued_at: 1000 }
        );
        assert_eq!(
            check(b"key", "realm", n.as_bytes(), 1060, 60),
            NonceCheck::Valid { issued_at: 1000 }
        );
        assert_eq!(
            check(b"key", "realm", n.as_bytes(), 1061, 60),
            NonceCheck::Expired { issued_at: 1000 }
        );
        // Another instance with the same key agrees; another key or realm does not.
        assert_eq!(
            check(b"other", "realm", n.as_bytes(), 1000, 60),
            NonceCheck::Forged
        );
        assert_eq!(
            check(b"key", "other", n.as_bytes(), 1000, 60),
            NonceCheck::Forged
        );
        // From the future (beyond skew): not trusted as valid.
        assert_eq!(
            check(b"key", "realm", n.as_bytes(), 900, 60),
            NonceCheck::Expired { issued_at: 1000 }
        );
    }

    #[test]
    fn tampering_is_forgery() {
        let n = issue(b"key", "realm", 1000);
        let mut later = n.clone().into_bytes();
        later[15] = b'9'; // claim another issue time
        assert_eq!(check(b"key", "realm", &later, 1000, 60), NonceCheck::Forged);
        assert_eq!(
            check(b"key", "realm", &n.as_bytes()[..40], 1000, 60),
            NonceCheck::Forged
        );
        assert_eq!(
            check(b"key", "realm", n.to_uppercase().as_bytes(), 1000, 60),
            NonceCheck::Forged
        );
        assert_eq!(check(b"key", "realm", b"", 1000, 60), NonceCheck::Forged);
    }
}
