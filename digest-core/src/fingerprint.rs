//! Nonce fingerprints: telling nonces apart without keeping a copy of each (the client's
//! protection spaces, the server's forgotten-nonce check).

/// FNV-1a, 64 bits: tells nonces apart without keeping a copy of each.
pub(crate) fn fingerprint(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}
