//! quoted-string (RFC 9110 §5.6.4), both ways.
//!
//! ```text
//! quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE
//! qdtext        = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
//! quoted-pair   = "\" ( HTAB / SP / VCHAR / obs-text )
//! ```
//!
//! Writing escapes `"` and `\` and refuses every control character other than HTAB: a CR or
//! LF reaching a header would end it, and other controls are refused by strict servers and
//! have no business in a Digest value.

use alloc::string::String;
use alloc::vec::Vec;

use super::chars::{all_tchar, is_ctl, plain_qdtext_len};
use crate::error::FormatError;

/// Why [`scan`] failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ScanError {
    /// No closing quote.
    Unterminated,
    /// A control character at `at` (offset from the opening quote).
    Control { at: usize, byte: u8 },
}

/// Scans a quoted-string starting with the `"` at `input[0]`. Returns its length including
/// both quotes, and whether it contains a quoted-pair.
pub(crate) fn scan(input: &[u8]) -> Result<(usize, bool), ScanError> {
    let mut escaped = false;
    let mut i = 1;
    loop {
        i += plain_qdtext_len(input.get(i..).unwrap_or_default());
        match input.get(i) {
            None => return Err(ScanError::Unterminated),
            Some(b'"') => return Ok((i + 1, escaped)),
            Some(b'\\') => {
                let next = *input.get(i + 1).ok_or(ScanError::Unterminated)?;
                if is_ctl(next) {
                    return Err(ScanError::Control {
                        at: i + 1,
                        byte: next,
                    });
                }
                escaped = true;
                i += 2;
            }
            Some(&byte) => return Err(ScanError::Control { at: i, byte }),
        }
    }
}

/// Removes quoted-pair escapes from the inside of a quoted-string.
pub(crate) fn unescape(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut bytes = raw.iter().copied();
    while let Some(b) = bytes.next() {
        if b == b'\\' {
            if let Some(next) = bytes.next() {
                out.push(next);
            }
        } else {
            out.push(b);
        }
    }
    out
}

/// Refuses control characters (anything below 0x20 but HTAB, and DEL) in a value to be
/// echoed into a header.
pub(crate) fn check_no_ctl(parameter: &'static str, value: &str) -> Result<(), FormatError> {
    // The usual case, a value without any, in one branch-free pass the compiler vectorises.
    if !value.bytes().fold(false, |any, b| any | is_ctl(b)) {
        return Ok(());
    }
    match value.bytes().enumerate().find(|&(_, b)| is_ctl(b)) {
        Some((offset, byte)) => Err(FormatError::ControlCharacter {
            parameter,
            byte,
            offset,
        }),
        None => Ok(()),
    }
}

/// Appends `"value"`, escaping `"` and `\`.
///
/// # Errors
///
/// [`FormatError::ControlCharacter`] when the value holds a control character; nothing is
/// written then.
pub(crate) fn write(
    out: &mut String,
    parameter: &'static str,
    value: &str,
) -> Result<(), FormatError> {
    out.push('"');
    if plain_qdtext_len(value.as_bytes()) == value.len() {
        // The common case: nothing to escape or refuse.
        out.push_str(value);
    } else {
        if let Err(e) = check_no_ctl(parameter, value) {
            out.pop();
            return Err(e);
        }
        push_escaped(out, value);
    }
    out.push('"');
    Ok(())
}

/// Appends `value` with `"` and `\` escaped, for the inside of a quoted-string. The caller
/// has checked it for control characters.
pub(crate) fn push_escaped(out: &mut String, value: &str) {
    let mut rest = value;
    while let Some(i) = rest.find(['"', '\\']) {
        let (plain, tail) = rest.split_at(i);
        out.push_str(plain);
        out.push('\\');
        let mut chars = tail.chars();
        if let Some(c) = chars.next() {
            out.push(c);
        }
        rest = chars.as_str();
    }
    out.push_str(rest);
}

/// Runs a writer that appends to `out`; if it fails, `out` is left as it was.
pub(crate) fn all_or_nothing(
    out: &mut String,
    write: impl FnOnce(&mut String) -> Result<(), FormatError>,
) -> Result<(), FormatError> {
    let start = out.len();
    let result = write(out);
    if result.is_err() {
        out.truncate(start);
    }
    result
}

/// Refuses a value that is not a non-empty token, for parameters sent unquoted.
pub(crate) fn check_token(parameter: &'static str, value: &str) -> Result<(), FormatError> {
    if !value.is_empty() && all_tchar(value.as_bytes()) {
        Ok(())
    } else {
        Err(FormatError::NotAToken { parameter })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_finds_end_and_escapes() {
        assert_eq!(scan(br#""abc", x"#), Ok((5, false)));
        assert_eq!(scan(br#""a\"b""#), Ok((6, true)));
        assert_eq!(scan(br#""a\\""#), Ok((5, true)));
        assert_eq!(scan(br#""abc"#), Err(ScanError::Unterminated));
        assert_eq!(scan(br#""abc\"#), Err(ScanError::Unterminated));
        assert_eq!(
            scan(b"\"a\rb\""),
            Err(ScanError::Control { at: 2, byte: b'\r' })
        );
        assert_eq!(
            scan(b"\"a\\\nb\""),
            Err(ScanError::Control { at: 3, byte: b'\n' })
        );
        assert_eq!(scan(b"\"a\tb\""), Ok((5, false)));
    }

    #[test]
    fn escape_round_trip() {
        let mut out = String::new();
        write(&mut out, "realm", r#"a"b\c"#).unwrap();
        assert_eq!(out, r#""a\"b\\c""#);
        let inner = &out.as_bytes()[1..out.len() - 1];
        assert_eq!(unescape(inner), br#"a"b\c"#);
    }

    #[test]
    fn control_characters_refused() {
        let mut out = String::new();
        let err = write(&mut out, "nonce", "ab\r\nX-Injected: 1").unwrap_err();
        assert_eq!(
            err,
            FormatError::ControlCharacter {
                parameter: "nonce",
                byte: b'\r',
                offset: 2
            }
        );
        assert!(out.is_empty());
    }
}
