//! RFC 8187 ext-values, for `username*` (RFC 7616 §3.4.4): `UTF-8''J%C3%A4s%C3%B8n%20Doe`.
//!
//! ```text
//! ext-value   = charset  "'" [ language ] "'" value-chars
//! value-chars = *( pct-encoded / attr-char )
//! attr-char   = ALPHA / DIGIT / "!" / "#" / "$" / "&" / "+" / "-" / "."
//!             / "^" / "_" / "`" / "|" / "~"
//! ```

use alloc::string::String;
use alloc::vec::Vec;

const fn is_attr_char(b: u8) -> bool {
    matches!(b,
        b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'!' | b'#' | b'$' | b'&' | b'+' |
        b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~')
}

/// Appends `UTF-8''` and `value` percent-encoded.
pub(crate) fn write_utf8(out: &mut String, value: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.push_str("UTF-8''");
    for b in value.bytes() {
        if is_attr_char(b) {
            out.push(char::from(b));
        } else {
            out.push('%');
            for nibble in [b >> 4, b & 0xf] {
                out.push(char::from(
                    HEX.get(usize::from(nibble)).copied().unwrap_or(b'0'),
                ));
            }
        }
    }
}

/// Why an ext-value could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DecodeError {
    /// Not `charset'language'value`.
    Syntax,
    /// A charset other than UTF-8 and ISO-8859-1.
    Charset,
    /// The decoded bytes are not valid in the charset.
    Encoding,
}

/// Decodes an ext-value into text. UTF-8 and ISO-8859-1 are accepted (RFC 8187 §3.2.1
/// requires the former and allows the latter).
pub(crate) fn decode(raw: &[u8]) -> Result<String, DecodeError> {
    let mut parts = raw.splitn(3, |&b| b == b'\'');
    let (Some(charset), Some(_language), Some(value)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(DecodeError::Syntax);
    };
    let mut bytes = Vec::with_capacity(value.len());
    let mut it = value.iter().copied();
    while let Some(b) = it.next() {
        if b == b'%' {
            let hi = it.next().and_then(|c| char::from(c).to_digit(16));
            let lo = it.next().and_then(|c| char::from(c).to_digit(16));
            match (hi, lo) {
                (Some(hi), Some(lo)) => {
                    bytes.push(u8::try_from(hi << 4 | lo).map_err(|_| DecodeError::Syntax)?)
                }
                _ => return Err(DecodeError::Syntax),
            }
        } else if is_attr_char(b) {
            bytes.push(b);
        } else {
            return Err(DecodeError::Syntax);
        }
    }
    if charset.eq_ignore_ascii_case(b"UTF-8") {
        String::from_utf8(bytes).map_err(|_| DecodeError::Encoding)
    } else if charset.eq_ignore_ascii_case(b"ISO-8859-1") {
        Ok(bytes.into_iter().map(char::from).collect())
    } else {
        Err(DecodeError::Charset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7616_example() {
        let mut out = String::new();
        write_utf8(&mut out, "J\u{e4}s\u{f8}n Doe");
        assert_eq!(out, "UTF-8''J%C3%A4s%C3%B8n%20Doe");
        assert_eq!(decode(out.as_bytes()).unwrap(), "J\u{e4}s\u{f8}n Doe");
    }

    #[test]
    fn charsets_and_errors() {
        assert_eq!(decode(b"iso-8859-1'en'%E4").unwrap(), "\u{e4}");
        assert_eq!(decode(b"utf-8''%e4"), Err(DecodeError::Encoding));
        assert_eq!(decode(b"UTF-8''a%2"), Err(DecodeError::Syntax));
        assert_eq!(decode(b"UTF-8''a b"), Err(DecodeError::Syntax));
        assert_eq!(decode(b"UTF-8'a"), Err(DecodeError::Syntax));
        assert_eq!(decode(b"KOI8-R''a"), Err(DecodeError::Charset));
        assert_eq!(decode(b"UTF-8''"), Ok(String::new()));
    }
}
