//! Origins (RFC 6454: scheme, host, port) and what a request-target says about the path.
//!
//! Credentials, nonces and nonce counts belong to origins: nothing derived from them is sent
//! to an origin outside the client's scope, and a challenge from such an origin is not
//! answered.

use alloc::string::String;
use core::fmt;

/// `http` or `https`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// `http`, port 80 by default.
    Http,
    /// `https`, port 443 by default.
    Https,
}

impl Scheme {
    /// The port used when a URI names none.
    pub const fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }

    /// `http` or `https`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

/// A web origin: scheme, host (ASCII lower case; IPv6 literals in brackets) and port.
///
/// Two requests share credentials only when their origins are equal: `http` and `https`
/// differ, other ports differ, `localhost` and `127.0.0.1` differ.
///
/// ```
/// use httpdigest::{Origin, Scheme};
///
/// let o = Origin::new(Scheme::Https, "API.Example.org", 443);
/// assert_eq!(o.to_string(), "https://api.example.org");
/// let (parsed, path) = Origin::parse_absolute("https://api.example.org:443/a?b").unwrap();
/// assert_eq!(parsed, o);
/// assert_eq!(path, "/a?b");
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Origin {
    scheme: Scheme,
    host: String,
    port: u16,
}

impl Origin {
    /// An origin; the host is lower-cased.
    pub fn new(scheme: Scheme, host: &str, port: u16) -> Self {
        Self {
            scheme,
            host: host.to_ascii_lowercase(),
            port,
        }
    }

    /// The scheme.
    pub const fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The host, lower case.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port (explicit or the scheme's default).
    pub const fn port(&self) -> u16 {
        self.port
    }

    /// Whether this is the same origin as `scheme://host:port` (host compared ignoring
    /// ASCII case), without allocating.
    pub fn matches(&self, scheme: Scheme, host: &str, port: u16) -> bool {
        // Hosts are usually spelled the same way each time: compare the bytes first.
        self.scheme == scheme
            && self.port == port
            && (self.host == host || self.host.eq_ignore_ascii_case(host))
    }

    /// Splits an absolute `http` or `https` URI into its origin and the rest: the path and
    /// query as written (a fragment is dropped). The path may be empty (`http://h` or
    /// `http://h?q`), which stands for `/` (RFC 9112 §3.2.1). `None` for other schemes,
    /// userinfo (refused: it is a classic way to disguise the real host), or a malformed
    /// authority.
    pub fn parse_absolute(uri: &str) -> Option<(Origin, &str)> {
        let (scheme, rest) = if let Some(r) = strip_prefix_ignore_case(uri, "http://") {
            (Scheme::Http, r)
        } else {
            (Scheme::Https, strip_prefix_ignore_case(uri, "https://")?)
        };
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(end);
        if authority.is_empty() || authority.contains('@') {
            return None;
        }
        let (host, port) = split_host_port(authority)?;
        let port = match port {
            None => scheme.default_port(),
            Some(p) => p.parse().ok()?,
        };
        let path = tail.split('#').next().unwrap_or_default();
        Some((Origin::new(scheme, host, port), path))
    }

    /// The origin of a forward proxy written `http://host[:port]` (a trailing `/` allowed):
    /// what adapters take as their proxy setting. `None` for anything else: another scheme,
    /// a path, userinfo.
    ///
    /// ```
    /// use httpdigest::Origin;
    ///
    /// assert_eq!(Origin::parse_proxy("http://127.0.0.1:3128").unwrap().port(), 3128);
    /// assert_eq!(Origin::parse_proxy("http://proxy.local/").unwrap().port(), 80);
    /// assert!(Origin::parse_proxy("https://proxy.local").is_none());
    /// assert!(Origin::parse_proxy("http://proxy.local/path").is_none());
    /// assert!(Origin::parse_proxy("http://user:pw@proxy.local").is_none());
    /// ```
    pub fn parse_proxy(uri: &str) -> Option<Origin> {
        Origin::parse_absolute(uri)
            .filter(|(origin, rest)| origin.scheme == Scheme::Http && matches!(*rest, "" | "/"))
            .map(|(origin, _)| origin)
    }
}

/// An origin named without allocating: scheme, host, port of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OriginRef<'a> {
    /// `http` or `https`.
    pub scheme: Scheme,
    /// The host, as in the URL (compared ignoring ASCII case).
    pub host: &'a str,
    /// The port, explicit or the scheme's default.
    pub port: u16,
}

impl<'a> OriginRef<'a> {
    /// Borrows an [`Origin`].
    pub fn of(origin: &'a Origin) -> Self {
        Self {
            scheme: origin.scheme(),
            host: origin.host(),
            port: origin.port(),
        }
    }

    pub(crate) fn is(&self, origin: &Origin) -> bool {
        origin.matches(self.scheme, self.host, self.port)
    }

    /// The same origin (hosts compared ignoring ASCII case).
    pub fn same_as(&self, other: OriginRef<'_>) -> bool {
        self.scheme == other.scheme
            && self.port == other.port
            && self.host.eq_ignore_ascii_case(other.host)
    }

    pub(crate) fn to_origin(self) -> Origin {
        Origin::new(self.scheme, self.host, self.port)
    }
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| s.get(prefix.len()..))
        .flatten()
}

/// Splits `host[:port]`, with IPv6 literals in brackets. The port, when present, must be
/// digits.
fn split_host_port(authority: &str) -> Option<(&str, Option<&str>)> {
    let (host, port) = if authority.starts_with('[') {
        let close = authority.find(']')?;
        let host = authority.get(..=close)?;
        match authority.get(close + 1..)? {
            "" => (host, None),
            p => (host, Some(p.strip_prefix(':')?)),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    let valid_host = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~[]:%!$&'()*+,;=".contains(&b));
    let valid_port = port.is_none_or(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    (valid_host && valid_port).then_some((host, port))
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme.as_str(), self.host)?;
        if self.port != self.scheme.default_port() {
            write!(f, ":{}", self.port)?;
        }
        Ok(())
    }
}

impl fmt::Debug for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Origin({self})")
    }
}

/// The path of a request-target, for matching protection-space `domain` prefixes: the
/// origin-form's path (query dropped), the absolute-form's path, nothing for the
/// authority-form (CONNECT) or `*`.
pub(crate) fn target_path(target: &str) -> Option<&str> {
    let path = if target.starts_with('/') {
        target
    } else {
        Origin::parse_absolute(target)?.1
    };
    match path.split('?').next() {
        Some("") | None => Some("/"),
        path => path,
    }
}

/// Whether an absolute URI's path and query (from [`Origin::parse_absolute`]) is the
/// origin-form request-target `target`: equal, with an empty path standing for `/`.
/// Whether the authority of `origin` (an absolute URI's scheme, host and port) is `authority`
/// as a request names itself (its `Host` header, or the absolute target's): hosts equal
/// ignoring ASCII case, and ports equal, a port left out being the default of the URI's
/// scheme.
pub(crate) fn names_authority(origin: &Origin, authority: &str) -> bool {
    let Some((host, port)) = split_host_port(authority) else {
        return false;
    };
    let port = match port {
        None => Some(origin.scheme.default_port()),
        Some(p) => p.parse::<u16>().ok(),
    };
    origin.host.eq_ignore_ascii_case(host) && port == Some(origin.port)
}

pub(crate) fn same_path_and_query(rest: &str, target: &str) -> bool {
    if rest.is_empty() || rest.starts_with('?') {
        target.strip_prefix('/') == Some(rest)
    } else {
        rest == target
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_absolute_forms() {
        let (o, p) = Origin::parse_absolute("HTTP://Example.ORG").unwrap();
        assert_eq!(
            (o.scheme(), o.host(), o.port(), p),
            (Scheme::Http, "example.org", 80, "")
        );
        let (o, p) = Origin::parse_absolute("http://[::1]:8080/x#f").unwrap();
        assert_eq!((o.host(), o.port(), p), ("[::1]", 8080, "/x"));
        let (_, p) = Origin::parse_absolute("http://h?q=1").unwrap();
        assert_eq!(p, "?q=1");
        assert!(same_path_and_query(p, "/?q=1"));
        assert!(same_path_and_query("", "/"));
        assert!(same_path_and_query("/a?b", "/a?b"));
        assert!(!same_path_and_query("?q=1", "?q=1"));
        assert!(!same_path_and_query("/a", "/a?b"));
        assert!(Origin::parse_absolute("ftp://h/").is_none());
        assert!(Origin::parse_absolute("http://user@h/").is_none());
        assert!(Origin::parse_absolute("http://h:x/").is_none());
        assert!(Origin::parse_absolute("http://h:/").is_none());
        assert!(Origin::parse_absolute("http:///x").is_none());
        assert!(Origin::parse_absolute("http://[::1/").is_none());
        assert!(Origin::parse_absolute("http://h:99999/").is_none());
    }

    #[test]
    fn origins_differ_by_scheme_host_and_port() {
        let a = Origin::new(Scheme::Http, "127.0.0.1", 8080);
        assert!(a.matches(Scheme::Http, "127.0.0.1", 8080));
        assert!(!a.matches(Scheme::Https, "127.0.0.1", 8080));
        assert!(!a.matches(Scheme::Http, "127.0.0.1", 8081));
        assert!(!a.matches(Scheme::Http, "localhost", 8080));
    }

    #[test]
    fn target_paths() {
        assert_eq!(target_path("/a/b?c"), Some("/a/b"));
        assert_eq!(target_path("http://h/a?c"), Some("/a"));
        assert_eq!(target_path("http://h?c"), Some("/"));
        assert_eq!(target_path("h:443"), None);
        assert_eq!(target_path("*"), None);
    }
}
