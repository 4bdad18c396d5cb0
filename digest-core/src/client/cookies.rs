//! The cookies of a challenge. Some servers keep the nonce in a session cookie that their 401
//! sets (Flask-HTTPAuth's default does), so that an answer without that cookie is challenged
//! again, for ever. The `Set-Cookie` name=value pairs of a 401 or 407 therefore go back with
//! the answer to it, joined to the request's own `Cookie` header, as python-requests does;
//! nothing keeps them past the request. A client with a cookie store of its own (reqwest's,
//! ureq's) keeps cookies as it always does.
//!
//! Of each `Set-Cookie` field only the pair is read (RFC 6265 §5.2) and a few attributes
//! decide whether it applies to the answer at all: `Secure` over plain `http`, a `Path` the
//! request's path is not inside, a `Domain` the host is not inside, or `Max-Age` of zero or
//! less (which deletes the cookie, the request's own of that name too). `Expires` is not read:
//! the core has no clock. A hostile server gets no more than [`MAX_COOKIES`] pairs of
//! [`MAX_COOKIE_BYTES`] in all into an answer; further ones are dropped.

use alloc::string::String;
use alloc::vec::Vec;

use crate::header::FieldValue;

/// The most pairs a request's challenges can add to its answers.
pub const MAX_COOKIES: usize = 16;
/// The most bytes (names and values) a request's challenges can add to its answers.
pub const MAX_COOKIE_BYTES: usize = 4096;

/// The cookies the challenges of one request set, for its answers: see
/// [`AuthHeaders::cookies`](super::AuthHeaders::cookies).
///
/// ```
/// use httpdigest::client::{Action, Client, Credentials, Request, Response};
/// use httpdigest::{OriginRef, Scheme, ThreadRng};
///
/// let mut rng = ThreadRng::default();///
/// let mut client = Client::with_password("alice", "s3cret");
/// let origin = OriginRef { scheme: Scheme::Http, host: "pdu.local", port: 80 };
/// let request = Request::new("GET", "/status", origin);
/// let (mut exchange, _first) = client.begin(&request, &mut rng);
/// let challenge: [&[u8]; 1] = [br#"Digest realm="pdu", nonce="n1", qop="auth""#];
/// let set_cookie: [&[u8]; 1] = [b"session=eyJub25jZSI6Im4xIn0; Path=/; HttpOnly"];
/// let response = Response {
///     www_authenticate: &challenge,
///     set_cookie: &set_cookie,
///     ..Response::new(401)
/// };
/// let Action::Send(ticket) = client.handle_response(&mut exchange, &request, &response, &mut rng)
/// else { unreachable!() };
/// let headers = ticket.sign(&request).unwrap();
/// // The request's own Cookie header, with the challenge's cookie joined to it.
/// let cookie = headers.cookies.join([&b"theme=dark"[..]]).unwrap();
/// assert_eq!(cookie, "theme=dark; session=eyJub25jZSI6Im4xIn0");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChallengeCookies {
    /// In the order set; a name appears once (the latest value). `None`: deleted.
    pairs: Vec<(String, Option<String>)>,
    bytes: usize,
}

impl ChallengeCookies {
    /// Whether no challenge set (or deleted) a cookie.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// The pairs set, in order (deleted ones left out).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs
            .iter()
            .filter_map(|(n, v)| v.as_deref().map(|v| (n.as_str(), v)))
    }

    /// The one `Cookie` field to send in place of the request's own (`own`: every `Cookie`
    /// field of the request, in order): their pairs, without those the challenges set or
    /// deleted, then the challenges' pairs. `None` when no cookie is left: send no `Cookie`
    /// field. When [`is_empty`](Self::is_empty), leave the request's own fields as they are.
    pub fn join<'a>(&self, own: impl IntoIterator<Item = &'a [u8]>) -> Option<FieldValue> {
        let mut out: Vec<u8> = Vec::new();
        let push = |out: &mut Vec<u8>, pair: &[u8]| {
            if !out.is_empty() {
                out.extend_from_slice(b"; ");
            }
            out.extend_from_slice(pair);
        };
        for field in own {
            for pair in field.split(|&b| b == b';') {
                let pair = pair.trim_ascii();
                let name = pair.split(|&b| b == b'=').next().unwrap_or_default();
                let ours = self.pairs.iter().any(|(n, _)| n.as_bytes() == name);
                // Control characters cannot go in a header value; such a pair is dropped.
                if !pair.is_empty() && !ours && !pair.iter().any(|&b| b < 0x20 || b == 0x7f) {
                    push(&mut out, pair);
                }
            }
        }
        for (name, value) in self.iter() {
            let mut pair = Vec::with_capacity(name.len() + 1 + value.len());
            pair.extend_from_slice(name.as_bytes());
            pair.push(b'=');
            pair.extend_from_slice(value.as_bytes());
            push(&mut out, &pair);
        }
        (!out.is_empty()).then(|| FieldValue::from_bytes(out))
    }

    /// Reads the `Set-Cookie` fields of a challenge to a request for `path` on `host`.
    pub(crate) fn take_from(&mut self, fields: &[&[u8]], host: &str, path: &str, secure: bool) {
        for field in fields {
            if let Some((name, value)) = applies(field, host, path, secure) {
                self.set(name, value);
            }
        }
    }

    fn set(&mut self, name: &str, value: Option<&str>) {
        let len = name.len() + value.map_or(0, str::len);
        if let Some(i) = self.pairs.iter().position(|(n, _)| n == name) {
            let old = self.pairs.remove(i);
            self.bytes -= old.0.len() + old.1.as_deref().map_or(0, str::len);
        }
        if self.pairs.len() >= MAX_COOKIES || self.bytes + len > MAX_COOKIE_BYTES {
            return;
        }
        self.bytes += len;
        self.pairs.push((name.into(), value.map(Into::into)));
    }
}

/// The pair of a `Set-Cookie` field and whether it applies to the answer: `None` when it is
/// malformed or its attributes keep it from this request; `Some((name, None))` when it
/// deletes the cookie.
fn applies<'f>(
    field: &'f [u8],
    host: &str,
    path: &str,
    secure: bool,
) -> Option<(&'f str, Option<&'f str>)> {
    let field = core::str::from_utf8(field).ok()?;
    let mut parts = field.split(';');
    let (name, value) = parts.next()?.split_once('=')?;
    // RFC 6265 §5.2: without the spaces and tabs around them (not other white space).
    let wsp = |s: &'f str| s.trim_matches([' ', '\t']);
    let (name, value) = (wsp(name), wsp(value));
    let token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b))
    };
    // RFC 6265 §4.1.1 cookie-octets, and the quotes around them.
    let octets = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b',' | b';' | b'\\'))
    };
    if !token(name) || !octets(value) {
        return None;
    }
    let mut deleted = false;
    for attribute in parts {
        let (key, val) = match attribute.split_once('=') {
            Some((k, v)) => (wsp(k), wsp(v)),
            None => (wsp(attribute), ""),
        };
        if key.eq_ignore_ascii_case("secure") && !secure {
            return None;
        }
        if key.eq_ignore_ascii_case("path") && val.starts_with('/') && !path_matches(path, val) {
            return None;
        }
        if key.eq_ignore_ascii_case("domain") && !val.is_empty() && !domain_matches(host, val) {
            return None;
        }
        if key.eq_ignore_ascii_case("max-age")
            && let Some(digits) = val.strip_prefix('-').or(Some(val))
            && !digits.is_empty()
            && digits.bytes().all(|b| b.is_ascii_digit())
            && (val.starts_with('-') || digits.bytes().all(|b| b == b'0'))
        {
            deleted = true;
        }
    }
    Some((name, (!deleted).then_some(value)))
}

/// RFC 6265 §5.1.4: `path` is `cookie_path`, or below it.
fn path_matches(path: &str, cookie_path: &str) -> bool {
    path == cookie_path
        || path
            .strip_prefix(cookie_path)
            .is_some_and(|rest| cookie_path.ends_with('/') || rest.starts_with('/'))
}

/// RFC 6265 §5.1.3: `host` is `domain` (a leading dot ignored), or a name below it.
fn domain_matches(host: &str, domain: &str) -> bool {
    let domain = domain.strip_prefix('.').unwrap_or(domain);
    host.eq_ignore_ascii_case(domain)
        || (host.len() > domain.len()
            && host
                .get(host.len() - domain.len()..)
                .is_some_and(|tail| tail.eq_ignore_ascii_case(domain))
            && host.as_bytes().get(host.len() - domain.len() - 1) == Some(&b'.')
            && host.parse::<core::net::IpAddr>().is_err())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn taken(fields: &[&str], host: &str, path: &str, secure: bool) -> ChallengeCookies {
        let fields: Vec<&[u8]> = fields.iter().map(|f| f.as_bytes()).collect();
        let mut c = ChallengeCookies::default();
        c.take_from(&fields, host, path, secure);
        c
    }

    fn joined(c: &ChallengeCookies, own: &[&str]) -> Option<String> {
        c.join(own.iter().map(|o| o.as_bytes()))
            .map(|v| v.to_str().unwrap_or_default().into())
    }

    #[test]
    fn pairs_join_the_requests_own_and_replace_theirs() {
        let c = taken(
            &["session=abc; Path=/; HttpOnly", "b=2", "session=xyz"],
            "h.example",
            "/dir/x",
            false,
        );
        assert_eq!(
            c.iter().collect::<Vec<_>>(),
            [("b", "2"), ("session", "xyz")]
        );
        assert_eq!(
            joined(&c, &["theme=dark; session=old", "x=1"]).as_deref(),
            Some("theme=dark; x=1; b=2; session=xyz")
        );
        assert_eq!(joined(&c, &[]).as_deref(), Some("b=2; session=xyz"));
    }

    #[test]
    fn attributes_keep_a_cookie_from_the_answer() {
        let none = |field: &str, host: &str, path: &str, secure: bool| {
            taken(&[field], host, path, secure).is_empty()
        };
        assert!(none("s=1; Secure", "h", "/", false));
        assert!(!none("s=1; Secure", "h", "/", true));
        assert!(none("s=1; Path=/api", "h", "/apix", false));
        assert!(!none("s=1; Path=/api", "h", "/api/v1", false));
        assert!(!none("s=1; Path=/api/", "h", "/api/v1", false));
        assert!(none("s=1; Domain=other.example", "h.example", "/", false));
        assert!(!none("s=1; Domain=.example", "h.example", "/", false));
        assert!(!none("s=1; Domain=H.Example", "h.example", "/", false));
        assert!(none("s=1; Domain=0.1", "127.0.0.1", "/", false));
        // Malformed pairs.
        for bad in ["noequals", "=v", "a b=1", "a=x,y", "a=\u{e4}", "a=\x01"] {
            assert!(none(bad, "h", "/", false), "{bad:?}");
        }
    }

    #[test]
    fn max_age_zero_deletes_the_requests_own_too() {
        let c = taken(
            &["s=1; Max-Age=0", "t=2; Max-Age=-1", "u=3; Max-Age=60"],
            "h",
            "/",
            false,
        );
        assert_eq!(c.iter().collect::<Vec<_>>(), [("u", "3")]);
        assert_eq!(
            joined(&c, &["s=old; t=old; v=4"]).as_deref(),
            Some("v=4; u=3")
        );
        let only_deleted = taken(&["s=; Max-Age=0"], "h", "/", false);
        assert_eq!(joined(&only_deleted, &["s=old"]), None);
    }

    #[test]
    fn a_hostile_server_adds_a_bounded_amount() {
        let many: Vec<String> = (0..1000).map(|i| format!("c{i}=v")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        assert_eq!(taken(&many, "h", "/", false).iter().count(), MAX_COOKIES);
        let big = format!("big={}", "x".repeat(MAX_COOKIE_BYTES));
        assert!(taken(&[&big], "h", "/", false).is_empty());
        // Setting the same name again and again stays within the bound.
        let again: Vec<String> = (0..1000).map(|i| format!("s={i}")).collect();
        let again: Vec<&str> = again.iter().map(String::as_str).collect();
        assert_eq!(
            taken(&again, "h", "/", false).iter().collect::<Vec<_>>(),
            [("s", "999")]
        );
    }
}
