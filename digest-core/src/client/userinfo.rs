//! URL userinfo (`http://user:password@host/`, RFC 3986 §3.2.1): the credentials for that
//! origin, taken out of the URL before it goes anywhere.
//!
//! curl, requests and httpx read a URL's userinfo as the credentials for its origin; here it
//! becomes the Digest [`Credentials`] for that origin, and the URL without it is what is
//! routed, signed and sent. Userinfo is never sent: RFC 9110 §4.2.4 forbids it on the wire,
//! and HTTP clients that find it in a URL send it as Basic, in clear.
//!
//! The user name is what comes before the first `:`, the password what follows it (it may
//! hold more `:`); both are percent-decoded and must then be UTF-8. Userinfo without `:`
//! is a user name with an empty password, as curl reads it. An empty user name is no
//! credentials (`http://:pw@host/`, `http://@host/`).

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;

use zeroize::Zeroizing;

use super::credentials::Credentials;

/// Why a URL's userinfo could not be read as credentials. The message never quotes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UserinfoError {
    /// A `%` not followed by two hexadecimal digits, at this byte offset of the userinfo.
    #[error("bad percent-encoding in the URL's userinfo at byte {offset}")]
    BadPercentEncoding {
        /// The offset of the `%` in the userinfo.
        offset: usize,
    },
    /// The user name or the password, percent-decoded, is not UTF-8.
    #[error("the URL's userinfo is not UTF-8 once percent-decoded")]
    NotUtf8,
    /// A control character (C0, DEL or C1; decoded or not) in the user name or password.
    #[error("a control character in the URL's userinfo")]
    ControlCharacter,
}

/// A URL split from its userinfo: what [`split_userinfo`] returns.
#[derive(Debug, Clone)]
pub struct SplitUri<'a> {
    /// The URL without its userinfo (borrowed when it had none).
    pub uri: Cow<'a, str>,
    /// The credentials the userinfo held, if any (a non-empty user name).
    pub credentials: Option<Credentials>,
}

/// Where the authority of an absolute URL (`scheme://authority...`) or a network-path
/// reference (`//authority...`) lies: its start and end offsets. `None` for anything else.
fn authority_span(uri: &str) -> Option<(usize, usize)> {
    if let Some(rest) = uri.strip_prefix("//") {
        return Some((2, 2 + rest.find(['/', '?', '#']).unwrap_or(rest.len())));
    }
    let colon = uri.find(':')?;
    let scheme = uri.get(..colon)?;
    let valid_scheme = scheme
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic())
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b));
    if !valid_scheme {
        return None;
    }
    let after = uri.get(colon + 1..)?;
    if !after.starts_with("//") {
        return None;
    }
    let start = colon + 3;
    let rest = uri.get(start..)?;
    let end = start + rest.find(['/', '?', '#']).unwrap_or(rest.len());
    Some((start, end))
}

/// The userinfo of an absolute URL and the URL without it; `None` when it has none.
fn userinfo_span(uri: &str) -> Option<(&str, Cow<'_, str>)> {
    let (start, end) = authority_span(uri)?;
    let authority = uri.get(start..end)?;
    // The last `@` ends the userinfo: the host cannot hold one, and a password might
    // (curl and the WHATWG URL parser read it so).
    let at = authority.rfind('@')?;
    let userinfo = authority.get(..at)?;
    let mut stripped = String::with_capacity(uri.len() - at - 1);
    stripped.push_str(uri.get(..start)?);
    stripped.push_str(uri.get(start + at + 1..)?);
    Some((userinfo, Cow::Owned(stripped)))
}

/// Splits an absolute URL (or a network-path reference, `//host/path`) into the URL without
/// userinfo and the credentials its userinfo holds. The user name is what comes before the
/// first `:`, the password what follows it; both are percent-decoded and must then be UTF-8.
/// Userinfo without `:` is a user name with an empty password, as curl reads it; an empty
/// user name is no credentials.
///
/// ```
/// use httpdigest::client::split_userinfo;
///
/// let split = split_userinfo("http://bob:hunter%402@camera.local:8080/snap?x=1")?;
/// assert_eq!(split.uri, "http://camera.local:8080/snap?x=1");
/// let credentials = split.credentials.expect("credentials");
/// assert_eq!(credentials.username(), "bob");
/// assert!(!format!("{credentials:?}").contains("hunter"));
///
/// // Nothing to take out: the URL comes back borrowed.
/// let split = split_userinfo("https://api.example.org/v1")?;
/// assert!(matches!(split.uri, std::borrow::Cow::Borrowed(_)) && split.credentials.is_none());
/// # Ok::<(), httpdigest::client::UserinfoError>(())
/// ```
///
/// # Errors
///
/// [`UserinfoError`] for userinfo that is not valid percent-encoded UTF-8 text.
pub fn split_userinfo(uri: &str) -> Result<SplitUri<'_>, UserinfoError> {
    let Some((userinfo, stripped)) = userinfo_span(uri) else {
        return Ok(SplitUri {
            uri: Cow::Borrowed(uri),
            credentials: None,
        });
    };
    Ok(SplitUri {
        uri: stripped,
        credentials: parse_userinfo(userinfo)?,
    })
}

/// The credentials of a userinfo (`user[:password]`, percent-encoded); `None` for an empty
/// user name.
///
/// ```
/// use httpdigest::client::parse_userinfo;
///
/// assert_eq!(parse_userinfo("J%C3%B6rg:a%3Ab")?.unwrap().username(), "Jörg");
/// assert!(parse_userinfo(":only-a-password")?.is_none());
/// assert!(parse_userinfo("bob:%zz").is_err());
/// # Ok::<(), httpdigest::client::UserinfoError>(())
/// ```
///
/// # Errors
///
/// [`UserinfoError`] for userinfo that is not valid percent-encoded UTF-8 text.
pub fn parse_userinfo(userinfo: &str) -> Result<Option<Credentials>, UserinfoError> {
    let (user, password, password_at) = match userinfo.split_once(':') {
        Some((user, password)) => (user, password, user.len() + 1),
        None => (userinfo, "", userinfo.len()),
    };
    let user = Zeroizing::new(percent_decode(user, 0)?);
    let password = Zeroizing::new(percent_decode(password, password_at)?);
    if user.is_empty() {
        return Ok(None);
    }
    Ok(Some(Credentials::new(user.as_str(), password.as_str())))
}

/// A URL without its userinfo, the rest as written: what is left of a redirect's
/// `Location` (credentials a server names there are dropped, never used or sent). A
/// relative reference has no userinfo and comes back as it is.
///
/// ```
/// use httpdigest::client::strip_userinfo;
///
/// assert_eq!(strip_userinfo("http://127.0.0.1:A@127.0.0.1:9/x"), "http://127.0.0.1:9/x");
/// assert_eq!(strip_userinfo("/elsewhere?q"), "/elsewhere?q");
/// assert_eq!(strip_userinfo("//u:p@other.example/x"), "//other.example/x");
/// ```
pub fn strip_userinfo(uri: &str) -> Cow<'_, str> {
    match userinfo_span(uri) {
        Some((_, stripped)) => stripped,
        None => Cow::Borrowed(uri),
    }
}

/// Whether an absolute URL (or network-path reference) carries userinfo.
///
/// ```
/// assert!(httpdigest::client::has_userinfo("http://a:b@host/"));
/// assert!(!httpdigest::client::has_userinfo("http://host/a@b"));
/// ```
pub fn has_userinfo(uri: &str) -> bool {
    matches!(strip_userinfo(uri), Cow::Owned(_))
}

/// Percent-decodes `s` (offsets in errors count from `base`), refusing control characters.
fn percent_decode(s: &str, base: usize) -> Result<String, UserinfoError> {
    let bytes = s.as_bytes();
    let mut out = Zeroizing::new(Vec::with_capacity(bytes.len()));
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = |j: usize| bytes.get(j).and_then(|&h| char::from(h).to_digit(16));
            let (Some(hi), Some(lo)) = (hex(i + 1), hex(i + 2)) else {
                return Err(UserinfoError::BadPercentEncoding { offset: base + i });
            };
            // Two hex digits: at most 0xff.
            out.push(u8::try_from(hi * 16 + lo).unwrap_or(u8::MAX));
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    let text = core::str::from_utf8(&out).map_err(|_| UserinfoError::NotUtf8)?;
    // C0, DEL and C1 (U+0080 to U+009F): none belongs in a name or password.
    if text.chars().any(char::is_control) {
        return Err(UserinfoError::ControlCharacter);
    }
    Ok(String::from(text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_last_at_ends_the_userinfo() {
        let split = split_userinfo("http://a:b@c@host.example/p").unwrap();
        assert_eq!(split.uri, "http://host.example/p");
        assert_eq!(split.credentials.unwrap().password(), Some("b@c"));
    }

    #[test]
    fn an_at_in_the_path_or_query_is_not_userinfo() {
        for uri in ["http://host/a@b", "http://host?a@b", "http://host#a@b"] {
            let split = split_userinfo(uri).unwrap();
            assert_eq!(split.uri, uri);
            assert!(split.credentials.is_none());
        }
    }

    #[test]
    fn a_user_without_password_has_an_empty_one() {
        let c = split_userinfo("http://bob@host/")
            .unwrap()
            .credentials
            .unwrap();
        assert_eq!((c.username(), c.password()), ("bob", Some("")));
    }

    #[test]
    fn empty_userinfo_is_taken_out_and_gives_nothing() {
        let split = split_userinfo("http://@host/").unwrap();
        assert_eq!(split.uri, "http://host/");
        assert!(split.credentials.is_none());
    }

    #[test]
    fn bad_input_is_a_typed_error() {
        assert_eq!(
            parse_userinfo("bob:pw%4").unwrap_err(),
            UserinfoError::BadPercentEncoding { offset: 6 }
        );
        assert_eq!(
            parse_userinfo("bob:%ff").unwrap_err(),
            UserinfoError::NotUtf8
        );
        assert_eq!(
            parse_userinfo("bob:a%0d%0aX-Evil: 1").unwrap_err(),
            UserinfoError::ControlCharacter
        );
        // C1 controls too, raw or percent-encoded (found by the proxy_env fuzz target).
        for userinfo in ["bo\u{88}b:pw", "bo%C2%88b:pw", "bob:p%C2%9Bw"] {
            assert_eq!(
                parse_userinfo(userinfo).unwrap_err(),
                UserinfoError::ControlCharacter,
                "{userinfo}"
            );
        }
    }

    #[test]
    fn errors_never_quote_the_userinfo() {
        let e = parse_userinfo("bob:s3cret%zz").unwrap_err();
        assert!(!e.to_string().contains("s3cret"));
        assert!(!std::format!("{e:?}").contains("s3cret"));
    }

    fn encode(s: &str) -> String {
        let mut out = String::new();
        for b in s.bytes() {
            if b.is_ascii_alphanumeric() {
                out.push(char::from(b));
            } else {
                out.push_str(&std::format!("%{b:02X}"));
            }
        }
        out
    }

    proptest! {
        /// Any user name and password (without control characters), percent-encoded into a
        /// URL, come back as they were, and the URL comes back without them.
        #[test]
        fn round_trip(user in "\\PC{1,16}", password in "\\PC{0,16}", path in "(/[a-z@:]{0,8}){0,3}") {
            let uri = std::format!("http://{}:{}@host.example:8080{path}", encode(&user), encode(&password));
            let split = split_userinfo(&uri).unwrap();
            prop_assert_eq!(split.uri, std::format!("http://host.example:8080{path}"));
            let c = split.credentials.unwrap();
            prop_assert_eq!(c.username(), unicode_normalization::UnicodeNormalization::nfc(user.as_str()).collect::<String>());
            prop_assert_eq!(c.password(), Some(password.as_str()));
            prop_assert!(!has_userinfo(&strip_userinfo(&uri)));
        }

        /// Any text: no panic, and what is stripped has no userinfo left.
        #[test]
        fn never_panics(uri in ".{0,64}") {
            let _ = split_userinfo(&uri);
            let stripped = strip_userinfo(&uri);
            prop_assert!(!has_userinfo(&stripped));
        }
    }
}
