//! The nonce count (`nc`, RFC 7616 §3.4): how many requests the client has sent with one
//! nonce, as 8 lower-case hexadecimal digits.

use core::fmt;

/// A nonce count: 1 for the first request with a nonce, then 2, 3, ...
///
/// ```
/// use httpdigest::NonceCount;
///
/// let nc = NonceCount::FIRST;
/// assert_eq!(nc.to_string(), "00000001");
/// assert_eq!(nc.next().unwrap().to_string(), "00000002");
/// assert_eq!(NonceCount::parse(b"0000002a"), Some(NonceCount::new(42)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NonceCount(u32);

impl NonceCount {
    /// The count of the first request with a nonce.
    pub const FIRST: NonceCount = NonceCount(1);

    /// A nonce count with this value.
    pub const fn new(value: u32) -> Self {
        Self(value)
    }

    /// The value.
    pub const fn get(self) -> u32 {
        self.0
    }

    /// The following count, or `None` once the 8 hex digits are exhausted.
    pub const fn next(self) -> Option<NonceCount> {
        match self.0.checked_add(1) {
            Some(v) => Some(NonceCount(v)),
            None => None,
        }
    }

    /// The 8 lower-case hex digits, on the stack.
    pub fn to_hex(self) -> [u8; 8] {
        let mut out = [0u8; 8];
        for (i, digit) in (0u32..).zip(out.iter_mut()) {
            let nibble = (self.0 >> (28 - 4 * i)) & 0xf;
            *digit = char::from_digit(nibble, 16).map_or(b'0', |c| c as u8);
        }
        out
    }

    /// Appends the 8 lower-case hex digits.
    pub(crate) fn push_to(self, out: &mut alloc::string::String) {
        out.extend(self.to_hex().into_iter().map(char::from));
    }

    /// Parses exactly 8 hexadecimal digits (either case, as some clients send upper case).
    pub fn parse(hex: &[u8]) -> Option<NonceCount> {
        if hex.len() != 8 {
            return None;
        }
        let mut v = 0u32;
        for &b in hex {
            let d = char::from(b).to_digit(16)?;
            v = (v << 4) | d;
        }
        Some(NonceCount(v))
    }
}

impl fmt::Display for NonceCount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:08x}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_forms() {
        assert_eq!(&NonceCount::new(0xdead_beef).to_hex(), b"deadbeef");
        assert_eq!(
            NonceCount::parse(b"DEADBEEF"),
            Some(NonceCount::new(0xdead_beef))
        );
        assert_eq!(NonceCount::parse(b"1"), None);
        assert_eq!(NonceCount::parse(b"0000000g"), None);
        assert_eq!(NonceCount::parse(b"+0000001"), None);
        assert_eq!(NonceCount::new(u32::MAX).next(), None);
    }
}
