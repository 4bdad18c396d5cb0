//! Typed errors for parsing and formatting header values.
//!
//! Parse errors carry the byte offset (from the start of the header field value) where the
//! problem was found, so a log line can point at the offending byte of a hostile or broken
//! header. Nothing here ever holds a password or a hash derived from one.

use core::fmt;

/// A header field value could not be parsed.
///
/// `offset` is the byte offset in the field value where the problem was detected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} at byte {offset}")]
pub struct ParseError {
    kind: ParseErrorKind,
    offset: usize,
}

impl ParseError {
    pub(crate) const fn new(kind: ParseErrorKind, offset: usize) -> Self {
        Self { kind, offset }
    }

    /// What was wrong.
    pub const fn kind(&self) -> &ParseErrorKind {
        &self.kind
    }

    /// Byte offset in the field value where the problem was detected.
    pub const fn offset(&self) -> usize {
        self.offset
    }
}

/// What was found where the grammar expected something else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    /// This byte.
    Byte(u8),
    /// The end of the field value.
    End,
}

impl fmt::Display for Found {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Found::Byte(b) if b.is_ascii_graphic() => write!(f, "'{}'", char::from(b)),
            Found::Byte(b' ') => f.write_str("a space"),
            Found::Byte(b) => write!(f, "byte 0x{b:02x}"),
            Found::End => f.write_str("the end of the value"),
        }
    }
}

/// The kinds of [`ParseError`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// The grammar expected something else here.
    #[error("expected {expected}, found {found}")]
    Unexpected {
        /// What the grammar allows at this point.
        expected: &'static str,
        /// What was there instead.
        found: Found,
    },
    /// A quoted-string has no closing `"`; the offset is that of the opening quote.
    #[error("unterminated quoted-string")]
    UnterminatedQuotedString,
    /// A control character (CR, LF, NUL, ...) inside a quoted-string.
    #[error("control character 0x{byte:02x} in a quoted-string")]
    ControlCharacter {
        /// The offending byte.
        byte: u8,
    },
    /// The same parameter appears twice in one challenge or credentials (RFC 9110 §11.2).
    #[error("duplicate parameter")]
    DuplicateParameter,
    /// A parameter the Digest scheme requires is missing.
    #[error("missing required parameter `{0}`")]
    MissingParameter(&'static str),
    /// A parameter value does not have the form its definition requires.
    #[error("invalid value for parameter `{0}`")]
    InvalidValue(&'static str),
    /// Both `username` and `username*` were sent (RFC 7616 §3.4).
    #[error("both `username` and `username*` are present")]
    AmbiguousUsername,
    /// The credentials or challenge is not of the Digest scheme.
    #[error("the authentication scheme is not Digest")]
    NotDigest,
    /// Digest challenges and credentials use parameters, never a token68.
    #[error("Digest uses auth-params, not a token68")]
    Token68,
    /// An `Authorization` field holds exactly one credentials; something followed it.
    #[error("more than one credentials in the field")]
    TrailingCredentials,
    /// The field value is longer than [`Limits::max_field_len`](crate::Limits).
    #[error("field value longer than the limit of {limit} bytes")]
    FieldTooLong {
        /// The configured limit.
        limit: usize,
    },
    /// More parameters than [`Limits::max_params`](crate::Limits) in one challenge or
    /// credentials.
    #[error("more than {limit} parameters")]
    TooManyParameters {
        /// The configured limit.
        limit: usize,
    },
    /// A parameter value longer than [`Limits::max_value_len`](crate::Limits).
    #[error("parameter value longer than the limit of {limit} bytes")]
    ValueTooLong {
        /// The configured limit.
        limit: usize,
    },
    /// A value that must be text is not valid UTF-8.
    #[error("value is not valid UTF-8")]
    NotUtf8,
}

/// A value could not be written into a header.
///
/// Header values produced by this crate never contain a byte that could end the header line
/// or smuggle a second parameter: values with control characters are refused, not escaped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FormatError {
    /// A control character (CR, LF, NUL, DEL, ...) in a value that would be echoed.
    #[error("control character 0x{byte:02x} at byte {offset} of `{parameter}`")]
    ControlCharacter {
        /// The parameter whose value was refused.
        parameter: &'static str,
        /// The offending byte.
        byte: u8,
        /// Its offset inside the value.
        offset: usize,
    },
    /// A value that is sent as a bare token (`algorithm`, for instance) is not a token.
    #[error("`{parameter}` must be a token (RFC 9110 §5.6.2)")]
    NotAToken {
        /// The parameter whose value was refused.
        parameter: &'static str,
    },
    /// A value to be echoed is not valid UTF-8 (a server sent obs-text bytes), so it cannot
    /// be written into a header string.
    #[error("`{parameter}` is not valid UTF-8")]
    NotUtf8 {
        /// The parameter whose value was refused.
        parameter: &'static str,
    },
    /// A URI in the `domain` list is empty or contains a space.
    #[error("`domain` entries must be non-empty and contain no whitespace")]
    InvalidDomain,
}
