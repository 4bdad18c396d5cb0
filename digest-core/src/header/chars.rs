//! The byte classes of the header grammar (RFC 9110 §5.6): what the parsers, the
//! quoted-string writer and the qop list read bytes by. One table, looked up per byte.

/// The character classes the parsers scan by, one bit each, looked up per byte in
/// [`CLASSES`]: a table lookup per byte instead of a chain of comparisons.
pub(crate) mod class {
    pub(crate) const TCHAR: u8 = 1;
    pub(crate) const TOKEN68: u8 = 1 << 1;
    pub(crate) const BARE_VALUE: u8 = 1 << 2;
    /// qdtext other than `"` and `\`: a byte a quoted-string holds as is.
    pub(crate) const PLAIN_QDTEXT: u8 = 1 << 3;
}

pub(crate) const CLASSES: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        // `i < 256`: the cast and the index are exact.
        #[allow(clippy::cast_possible_truncation)]
        let b = i as u8;
        let mut c = 0;
        if is_tchar(b) {
            c |= class::TCHAR;
        }
        if is_token68_char(b) {
            c |= class::TOKEN68;
        }
        if is_bare_value_byte(b) {
            c |= class::BARE_VALUE;
        }
        if !is_ctl(b) && b != b'"' && b != b'\\' {
            c |= class::PLAIN_QDTEXT;
        }
        #[allow(clippy::indexing_slicing)]
        {
            table[i] = c;
        }
        i += 1;
    }
    table
};

/// Whether `b` is in any of the classes of `mask`.
#[inline]
pub(crate) fn is(mask: u8, b: u8) -> bool {
    CLASSES.get(usize::from(b)).is_some_and(|c| c & mask != 0)
}

/// Whether `bytes` is a token (RFC 9110 §5.6.2), possibly empty.
#[inline]
pub(crate) fn all_tchar(bytes: &[u8]) -> bool {
    span(class::TCHAR, bytes) == bytes.len()
}

/// The length of the longest prefix of `bytes` in the classes of `mask`.
#[inline]
pub(crate) fn span(mask: u8, bytes: &[u8]) -> usize {
    bytes
        .iter()
        .position(|&b| !is(mask, b))
        .unwrap_or(bytes.len())
}

/// The length of the longest prefix of `bytes` that stands for itself inside a
/// quoted-string: no `"`, `\`, nor a control.
///
/// Quoted-strings are most of a Digest header's bytes (nonce, opaque, realm, response), so
/// this reads eight bytes at a time while none of them needs a closer look (SWAR: a word
/// holds a byte below 0x20, a `"`, a `\` or DEL exactly when the carry tricks below set its
/// high bit; HTAB, a control allowed in qdtext, sends its word to the byte loop).
#[inline]
pub(crate) fn plain_qdtext_len(bytes: &[u8]) -> usize {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    let has_zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    let mut done = 0;
    for chunk in bytes.chunks_exact(8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_ne_bytes(word);
        // Bytes below 0x20 (high bit clear, and borrow from subtracting 0x20).
        let below_space = x.wrapping_sub(ONES * 0x20) & !x & HIGH;
        let special = below_space
            | has_zero(x ^ (ONES * u64::from(b'"')))
            | has_zero(x ^ (ONES * u64::from(b'\\')))
            | has_zero(x ^ (ONES * 0x7f));
        if special != 0 {
            break;
        }
        done += 8;
    }
    let rest = bytes.get(done..).unwrap_or_default();
    done + span(class::PLAIN_QDTEXT, rest)
}

/// `tchar` of RFC 9110 §5.6.2.
pub(crate) const fn is_tchar(b: u8) -> bool {
    matches!(b,
        b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-' | b'.' |
        b'^' | b'_' | b'`' | b'|' | b'~' | b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z')
}

/// The characters of a token68 (RFC 9110 §11.2), before its trailing `=` padding.
pub(crate) const fn is_token68_char(b: u8) -> bool {
    matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/' | b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z')
}

pub(crate) const fn is_ows(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// A byte allowed in an unquoted parameter value: visible ASCII except `"` and `,`, or
/// obs-text. (RFC 9110 allows only `token` here; servers send base64 too.)
pub(crate) const fn is_bare_value_byte(b: u8) -> bool {
    (b > 0x20 && b != 0x7f && b != b'"' && b != b',') || b >= 0x80
}

/// A control character other than HTAB (RFC 9110 §5.5): never in a header value.
pub(crate) const fn is_ctl(b: u8) -> bool {
    (b < 0x20 && b != b'\t') || b == 0x7f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_qdtext_len_agrees_with_the_byte_table_for_every_byte_at_every_offset() {
        for b in 0..=255u8 {
            let plain = is(class::PLAIN_QDTEXT, b);
            for at in 0..24 {
                let mut bytes = [b'a'; 24];
                bytes[at] = b;
                let expected = if plain { 24 } else { at };
                assert_eq!(plain_qdtext_len(&bytes), expected, "byte {b:#04x} at {at}");
            }
        }
        assert_eq!(plain_qdtext_len(b""), 0);
        assert!(is(class::PLAIN_QDTEXT, b'\t') && is(class::PLAIN_QDTEXT, 0x80));
    }
}
