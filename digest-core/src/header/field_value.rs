//! A header field value as the client puts it on the wire (RFC 9110 §5.5): bytes, which are
//! text but for an ISO-8859-1 user name.

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// A header field value the client wrote: text, except that a user name sent in
/// ISO-8859-1 ([`NameForm::Latin1OnWire`](crate::client::NameForm::Latin1OnWire),
/// [`NameForm::Latin1`](crate::client::NameForm::Latin1)) puts bytes on the wire that are
/// not UTF-8.
/// The value never holds a control character (but HTAB).
///
/// ```
/// use httpdigest::client::FieldValue;
///
/// let v = FieldValue::from("Basic YTo=".to_owned());
/// assert_eq!(v, "Basic YTo=");
/// assert_eq!(v.as_bytes(), b"Basic YTo=");
/// assert_eq!(v.to_str(), Some("Basic YTo="));
/// ```
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct FieldValue(Vec<u8>);

impl FieldValue {
    /// The bytes to put on the wire.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The value as text, when its bytes are UTF-8 (every value but one with an ISO-8859-1
    /// user name outside ASCII).
    pub fn to_str(&self) -> Option<&str> {
        core::str::from_utf8(&self.0).ok()
    }

    /// The value as the server reads it: the text of UTF-8 bytes, otherwise each byte as the
    /// ISO-8859-1 character it is.
    pub fn text(&self) -> Cow<'_, str> {
        match core::str::from_utf8(&self.0) {
            Ok(s) => Cow::Borrowed(s),
            Err(_) => Cow::Owned(self.0.iter().map(|&b| char::from(b)).collect()),
        }
    }

    /// Whether every byte is ASCII (what HTTP clients that refuse other bytes in a header
    /// can send).
    pub fn is_ascii(&self) -> bool {
        self.0.is_ascii()
    }

    /// The bytes, without a copy.
    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }

    /// A value of bytes the client assembled (no control character but HTAB in them).
    pub(crate) const fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }
}

impl From<String> for FieldValue {
    fn from(s: String) -> Self {
        Self(s.into_bytes())
    }
}

impl AsRef<[u8]> for FieldValue {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl PartialEq<str> for FieldValue {
    fn eq(&self, other: &str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl PartialEq<&str> for FieldValue {
    fn eq(&self, other: &&str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl fmt::Debug for FieldValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.text(), f)
    }
}

impl fmt::Display for FieldValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text())
    }
}
