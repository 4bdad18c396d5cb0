//! Forward proxies from the environment, as curl, Python's requests and httpx, and Go take
//! them: `http_proxy` / `HTTP_PROXY` for plain `http` requests, `https_proxy` /
//! `HTTPS_PROXY` for `https` ones (through a `CONNECT` tunnel, which the adapter's HTTP
//! client opens), and `no_proxy` / `NO_PROXY` for the hosts that go direct.
//!
//! Sans-IO: [`ProxyEnv::from_vars`] takes the variables from any lookup;
//! [`ProxyEnv::from_env`] (feature `std`) reads the process environment.
//!
//! # Variables
//!
//! The lower-case name is read first, then the upper-case one; an empty value counts as
//! unset. `HTTP_PROXY` (upper case) is ignored when `REQUEST_METHOD` is set: under CGI, a
//! request's `Proxy:` header arrives as `HTTP_PROXY` ("httpoxy"; Go and curl guard the same
//! way). `all_proxy` is not read.
//!
//! # Proxy URLs
//!
//! `[http://][user[:password]@]host[:port][/]`: a URL without scheme is `http://` (as in
//! curl); the port defaults to 80 (as in Go and Python; curl would take 1080). The userinfo,
//! percent-decoded, is the proxy's [`Credentials`]: it goes only to that proxy and never
//! appears in `Debug` output or errors. Other schemes (`https://`, `socks5://`) are refused:
//! a Digest `407` can only be answered over a plain connection to the proxy.
//!
//! # `no_proxy`
//!
//! curl's rules ([`NoProxy::parse`]): entries separated by commas (spaces around them
//! ignored); `*` alone matches every host; a host name matches itself and every name below
//! it (`example.org` and `.example.org` both match `example.org` and `a.example.org`, not
//! `badexample.org`; a leading `*.` is read as `.`); an IP address (IPv6 with or without
//! brackets) matches that address only, and a CIDR block (`10.0.0.0/8`, `fd00::/8`) every
//! address in it; names are never resolved to match an address. An entry may end with
//! `:port`, and then matches that port only. Matching ignores ASCII case and a trailing
//! dot.
//!
//! ```
//! use httpdigest::client::ProxyEnv;
//! use httpdigest::{OriginRef, Scheme};
//!
//! let vars = [("http_proxy", "http://bob:pw@proxy.local:3128"), ("no_proxy", "localhost,.corp.example")];
//! let env = ProxyEnv::from_vars(|name| vars.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string()))?;
//! let origin = OriginRef { scheme: Scheme::Http, host: "api.example.org", port: 80 };
//! let proxy = env.proxy_for(origin).expect("through the proxy");
//! assert_eq!((proxy.origin().host(), proxy.origin().port()), ("proxy.local", 3128));
//! assert_eq!(proxy.credentials().map(|c| c.username()), Some("bob"));
//! assert!(!format!("{env:?}").contains("pw"));
//!
//! let inside = OriginRef { scheme: Scheme::Http, host: "wiki.corp.example", port: 80 };
//! assert!(env.proxy_for(inside).is_none()); // no_proxy: direct
//! # Ok::<(), httpdigest::client::ProxyEnvError>(())
//! ```

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::net::IpAddr;

use super::credentials::Credentials;
use super::userinfo::{UserinfoError, parse_userinfo};
use crate::origin::{Origin, OriginRef, Scheme};

/// The most entries a `no_proxy` list holds; longer lists are refused.
pub const MAX_NO_PROXY_ENTRIES: usize = 1024;

/// The hosts that go direct, not through a proxy: a `no_proxy` list (see the
/// [module documentation](self) for its rules).
///
/// ```
/// use httpdigest::client::NoProxy;
///
/// let list = NoProxy::parse("example.org, .internal, 10.0.0.0/8, [::1], cache.local:8080")?;
/// assert!(list.matches("www.example.org", 80));
/// assert!(!list.matches("badexample.org", 80));
/// assert!(list.matches("db.internal", 5432));
/// assert!(list.matches("10.1.2.3", 80));
/// assert!(list.matches("[::1]", 80));
/// assert!(list.matches("cache.local", 8080) && !list.matches("cache.local", 80));
/// assert!(NoProxy::parse("*")?.matches("anything", 1));
/// # Ok::<(), httpdigest::client::NoProxyError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NoProxy {
    all: bool,
    entries: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    pattern: Pattern,
    port: Option<u16>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Pattern {
    /// A host name in lower case, without leading or trailing dots.
    Domain(String),
    /// An address and the length of its prefix (the full length for one address).
    Net(IpAddr, u8),
}

/// Why a `no_proxy` list could not be read: which entry (0-based, empty ones counted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NoProxyError {
    /// The entry is neither a host name, an IP address nor a CIDR block, with an optional
    /// port.
    #[error("no_proxy entry {index} is not a host name, IP address or CIDR block")]
    BadEntry {
        /// Its index in the list.
        index: usize,
    },
    /// More than [`MAX_NO_PROXY_ENTRIES`] entries.
    #[error("the no_proxy list has more than {limit} entries")]
    TooLong {
        /// [`MAX_NO_PROXY_ENTRIES`].
        limit: usize,
    },
}

impl NoProxy {
    /// An empty list: every host goes through the proxy.
    pub const fn new() -> Self {
        Self {
            all: false,
            entries: Vec::new(),
        }
    }

    /// Reads a `no_proxy` list; empty entries (`a,,b`, a trailing comma) are skipped.
    ///
    /// # Errors
    ///
    /// [`NoProxyError`] for an entry that is not a host name, address or block, or a list
    /// longer than [`MAX_NO_PROXY_ENTRIES`].
    pub fn parse(list: &str) -> Result<Self, NoProxyError> {
        let mut parsed = Self::new();
        for (index, raw) in list.split(',').enumerate() {
            if index >= MAX_NO_PROXY_ENTRIES {
                return Err(NoProxyError::TooLong {
                    limit: MAX_NO_PROXY_ENTRIES,
                });
            }
            let entry = raw.trim_matches([' ', '\t', '\r', '\n']);
            if entry.is_empty() {
                continue;
            }
            if entry == "*" {
                parsed.all = true;
                continue;
            }
            let entry = parse_entry(entry).ok_or(NoProxyError::BadEntry { index })?;
            parsed.entries.push(entry);
        }
        Ok(parsed)
    }

    /// Whether no entry is set (every host goes through the proxy).
    pub fn is_empty(&self) -> bool {
        !self.all && self.entries.is_empty()
    }

    /// Whether requests to `host` (a name or an IP literal, IPv6 in brackets or not) on
    /// `port` go direct.
    pub fn matches(&self, host: &str, port: u16) -> bool {
        if self.all {
            return true;
        }
        let host = host.strip_suffix('.').unwrap_or(host);
        let unbracketed = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        let address: Option<IpAddr> = unbracketed.parse().ok();
        self.entries.iter().any(|e| {
            e.port.is_none_or(|p| p == port)
                && match (&e.pattern, address) {
                    (Pattern::Domain(d), None) => domain_matches(host, d),
                    (Pattern::Net(net, bits), Some(a)) => in_net(a, *net, *bits),
                    _ => false,
                }
        })
    }
}

/// `host` is `domain` or a name below it, ignoring ASCII case.
fn domain_matches(host: &str, domain: &str) -> bool {
    if host.len() == domain.len() {
        return host.eq_ignore_ascii_case(domain);
    }
    let Some(cut) = host.len().checked_sub(domain.len() + 1) else {
        return false;
    };
    host.as_bytes().get(cut) == Some(&b'.')
        && host
            .get(cut + 1..)
            .is_some_and(|tail| tail.eq_ignore_ascii_case(domain))
}

fn in_net(address: IpAddr, net: IpAddr, bits: u8) -> bool {
    let (a, n, width) = match (address, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => (u128::from(a.to_bits()), u128::from(n.to_bits()), 32),
        (IpAddr::V6(a), IpAddr::V6(n)) => (a.to_bits(), n.to_bits(), 128),
        // An IPv4-mapped address is compared as IPv4.
        (IpAddr::V6(a), IpAddr::V4(n)) => match a.to_ipv4_mapped() {
            Some(a) => (u128::from(a.to_bits()), u128::from(n.to_bits()), 32),
            None => return false,
        },
        (IpAddr::V4(_), IpAddr::V6(_)) => return false,
    };
    let bits = u32::from(bits.min(width));
    if bits == 0 {
        return true;
    }
    let shift = u32::from(width) - bits;
    a.checked_shr(shift) == n.checked_shr(shift)
}

fn parse_entry(entry: &str) -> Option<Entry> {
    // `[v6]`, `[v6]:port`, `v6`, `v6/bits`, `v4[/bits][:port]`, `name[:port]`.
    let (host, port) = if let Some(rest) = entry.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':')?),
        };
        (inside, port)
    } else if entry.matches(':').count() > 1 {
        // An IPv6 literal without brackets takes no port.
        (entry, None)
    } else {
        match entry.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (entry, None),
        }
    };
    let port = match port {
        None => None,
        Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => Some(p.parse().ok()?),
        Some(_) => return None,
    };
    let (address, bits) = match host.split_once('/') {
        Some((a, b)) if b.bytes().all(|c| c.is_ascii_digit()) && !b.is_empty() => {
            (a, Some(b.parse::<u8>().ok()?))
        }
        Some(_) => return None,
        None => (host, None),
    };
    if let Ok(ip) = address.parse::<IpAddr>() {
        let width = if ip.is_ipv4() { 32 } else { 128 };
        let bits = bits.unwrap_or(width);
        if bits > width {
            return None;
        }
        return Some(Entry {
            pattern: Pattern::Net(ip, bits),
            port,
        });
    }
    if bits.is_some() {
        return None;
    }
    let name = host.strip_prefix("*.").unwrap_or(host);
    let name = name.trim_start_matches('.');
    let name = name.strip_suffix('.').unwrap_or(name);
    let valid = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_');
    valid.then(|| Entry {
        pattern: Pattern::Domain(name.to_ascii_lowercase()),
        port,
    })
}

/// A forward proxy: where it is, and the credentials its URL held.
///
/// `Debug` shows the proxy's origin only; the credentials never appear.
///
/// ```
/// use httpdigest::client::ProxySetting;
///
/// let proxy = ProxySetting::parse("http://alice:s%40cret@127.0.0.1:3128/")?;
/// assert_eq!(proxy.origin().to_string(), "http://127.0.0.1:3128");
/// assert_eq!(proxy.credentials().unwrap().username(), "alice");
/// assert_eq!(format!("{proxy:?}"), "ProxySetting { origin: Origin(http://127.0.0.1:3128), credentials: \"<redacted>\" }");
///
/// assert_eq!(ProxySetting::parse("proxy.local")?.origin().to_string(), "http://proxy.local");
/// assert!(ProxySetting::parse("socks5://proxy.local:1080").is_err());
/// # Ok::<(), httpdigest::client::ProxyUrlError>(())
/// ```
#[derive(Clone)]
pub struct ProxySetting {
    origin: Origin,
    credentials: Option<Credentials>,
}

/// Why a proxy URL could not be read. The message never quotes the URL (it may hold a
/// password).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProxyUrlError {
    /// A scheme other than `http`.
    #[error("unsupported proxy scheme: only http:// proxies are supported")]
    UnsupportedScheme,
    /// Not `[http://][userinfo@]host[:port][/]`: a path, a query, a bad host or port.
    #[error("invalid proxy URL: expected http://[user:password@]host[:port]")]
    Malformed,
    /// The userinfo could not be read.
    #[error("invalid proxy URL: {0}")]
    Userinfo(#[from] UserinfoError),
}

impl ProxySetting {
    /// A proxy without credentials.
    pub const fn new(origin: Origin) -> Self {
        Self {
            origin,
            credentials: None,
        }
    }

    /// Reads a proxy URL (see the [module documentation](self)).
    ///
    /// # Errors
    ///
    /// [`ProxyUrlError`] for another scheme, a malformed URL or bad userinfo.
    pub fn parse(url: &str) -> Result<Self, ProxyUrlError> {
        let url = url.trim();
        let rest = match url.find("://") {
            Some(i) => {
                let scheme = url.get(..i).ok_or(ProxyUrlError::Malformed)?;
                if !scheme.eq_ignore_ascii_case("http") {
                    return Err(ProxyUrlError::UnsupportedScheme);
                }
                url.get(i + 3..).ok_or(ProxyUrlError::Malformed)?
            }
            None => url,
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        let (userinfo, authority) = match rest.rfind('@') {
            Some(at) => (rest.get(..at), rest.get(at + 1..).unwrap_or_default()),
            None => (None, rest),
        };
        if authority.contains(['/', '?', '#']) {
            return Err(ProxyUrlError::Malformed);
        }
        let plain = alloc::format!("http://{authority}");
        let origin = Origin::parse_proxy(&plain).ok_or(ProxyUrlError::Malformed)?;
        let credentials = match userinfo {
            Some(u) => parse_userinfo(u)?,
            None => None,
        };
        Ok(Self {
            origin,
            credentials,
        })
    }

    /// The proxy's origin (`http://host:port`).
    pub const fn origin(&self) -> &Origin {
        &self.origin
    }

    /// The credentials its URL held, for the proxy only.
    pub const fn credentials(&self) -> Option<&Credentials> {
        self.credentials.as_ref()
    }

    /// The same proxy with these credentials.
    #[must_use]
    pub fn with_credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }
}

impl fmt::Debug for ProxySetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let credentials = if self.credentials.is_some() {
            "<redacted>"
        } else {
            "none"
        };
        f.debug_struct("ProxySetting")
            .field("origin", &self.origin)
            .field("credentials", &credentials)
            .finish()
    }
}

/// The proxies of the environment: for `http`, for `https`, and the hosts that go direct.
/// See the [module documentation](self).
#[derive(Debug, Clone, Default)]
pub struct ProxyEnv {
    http: Option<ProxySetting>,
    https: Option<ProxySetting>,
    no_proxy: NoProxy,
}

/// Why the proxy environment could not be read: which variable, and what was wrong (never
/// its value).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{variable}: {kind}")]
pub struct ProxyEnvError {
    /// The variable, as named in the environment (`http_proxy`, `NO_PROXY`, ...).
    pub variable: &'static str,
    /// What was wrong with it.
    pub kind: ProxyEnvErrorKind,
}

/// The kinds of [`ProxyEnvError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProxyEnvErrorKind {
    /// A proxy URL that cannot be used.
    #[error(transparent)]
    ProxyUrl(#[from] ProxyUrlError),
    /// A `no_proxy` list that cannot be read.
    #[error(transparent)]
    NoProxy(#[from] NoProxyError),
}

impl ProxyEnv {
    /// No proxy at all.
    pub const fn none() -> Self {
        Self {
            http: None,
            https: None,
            no_proxy: NoProxy::new(),
        }
    }

    /// Proxies set by hand: for `http`, for `https`, and the hosts that go direct.
    pub const fn new(
        http: Option<ProxySetting>,
        https: Option<ProxySetting>,
        no_proxy: NoProxy,
    ) -> Self {
        Self {
            http,
            https,
            no_proxy,
        }
    }

    /// Reads the variables through `var` (the value of a variable by name, `None` when
    /// unset): see the [module documentation](self) for which and how.
    ///
    /// # Errors
    ///
    /// [`ProxyEnvError`] naming the first variable that cannot be used.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, ProxyEnvError> {
        let set = |name: &'static str| {
            var(name)
                .filter(|v| !v.trim().is_empty())
                .map(|v| (name, v))
        };
        let cgi = var("REQUEST_METHOD").is_some_and(|v| !v.is_empty());
        let http = set("http_proxy").or_else(|| if cgi { None } else { set("HTTP_PROXY") });
        let https = set("https_proxy").or_else(|| set("HTTPS_PROXY"));
        let no_proxy = set("no_proxy").or_else(|| set("NO_PROXY"));
        let proxy = |found: Option<(&'static str, String)>| {
            found
                .map(|(variable, url)| {
                    ProxySetting::parse(&url).map_err(|e| ProxyEnvError {
                        variable,
                        kind: e.into(),
                    })
                })
                .transpose()
        };
        let no_proxy = match no_proxy {
            Some((variable, list)) => NoProxy::parse(&list).map_err(|e| ProxyEnvError {
                variable,
                kind: e.into(),
            })?,
            None => NoProxy::new(),
        };
        Ok(Self {
            http: proxy(http)?,
            https: proxy(https)?,
            no_proxy,
        })
    }

    /// Reads the process environment (feature `std`); a variable that is not Unicode
    /// counts as unset.
    ///
    /// ```
    /// let env = httpdigest::client::ProxyEnv::from_env()?;
    /// println!("{env:?}"); // never a password
    /// # Ok::<(), httpdigest::client::ProxyEnvError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`from_vars`](Self::from_vars).
    #[cfg(feature = "std")]
    pub fn from_env() -> Result<Self, ProxyEnvError> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// The proxy for plain `http` requests.
    pub const fn http(&self) -> Option<&ProxySetting> {
        self.http.as_ref()
    }

    /// The proxy for `https` requests (through a `CONNECT` tunnel).
    pub const fn https(&self) -> Option<&ProxySetting> {
        self.https.as_ref()
    }

    /// The hosts that go direct.
    pub const fn no_proxy(&self) -> &NoProxy {
        &self.no_proxy
    }

    /// The same environment with another `no_proxy` list (a command line's `--noproxy`).
    #[must_use]
    pub fn with_no_proxy(mut self, no_proxy: NoProxy) -> Self {
        self.no_proxy = no_proxy;
        self
    }

    /// The proxy a request to `origin` goes through: by its scheme, unless `no_proxy`
    /// names its host.
    pub fn proxy_for(&self, origin: OriginRef<'_>) -> Option<&ProxySetting> {
        let proxy = match origin.scheme {
            Scheme::Http => self.http.as_ref(),
            Scheme::Https => self.https.as_ref(),
        }?;
        (!self.no_proxy.matches(origin.host, origin.port)).then_some(proxy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn env(vars: &[(&str, &str)]) -> Result<ProxyEnv, ProxyEnvError> {
        ProxyEnv::from_vars(|name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| String::from(*v))
        })
    }

    #[test]
    fn lower_case_first_then_upper_case() {
        let e = env(&[("http_proxy", "a.example:1"), ("HTTP_PROXY", "b.example:2")]).unwrap();
        assert_eq!(e.http().unwrap().origin().host(), "a.example");
        let e = env(&[("HTTP_PROXY", "b.example:2"), ("NO_PROXY", "x")]).unwrap();
        assert_eq!(e.http().unwrap().origin().host(), "b.example");
        assert!(e.no_proxy().matches("x", 1));
        let e = env(&[("HTTPS_PROXY", "c.example:3")]).unwrap();
        assert_eq!(e.https().unwrap().origin().port(), 3);
        assert!(e.http().is_none());
    }

    #[test]
    fn upper_case_http_proxy_is_ignored_under_cgi() {
        let e = env(&[("HTTP_PROXY", "evil.example"), ("REQUEST_METHOD", "GET")]).unwrap();
        assert!(e.http().is_none());
    }

    #[test]
    fn an_empty_variable_is_unset() {
        let e = env(&[("http_proxy", ""), ("HTTP_PROXY", "b.example")]).unwrap();
        assert_eq!(e.http().unwrap().origin().host(), "b.example");
    }

    #[test]
    fn errors_name_the_variable_never_the_value() {
        let e = env(&[("http_proxy", "https://bob:hunter2@p.example")]).unwrap_err();
        assert_eq!(e.variable, "http_proxy");
        assert!(!std::format!("{e} {e:?}").contains("hunter2"));
        let e = env(&[("http_proxy", "http://bob:hunter2@p.example/path")]).unwrap_err();
        assert_eq!(
            e.kind,
            ProxyEnvErrorKind::ProxyUrl(ProxyUrlError::Malformed)
        );
        assert!(!std::format!("{e} {e:?}").contains("hunter2"));
        let e = env(&[("no_proxy", "ok, bad/entry")]).unwrap_err();
        assert_eq!(
            e.kind,
            ProxyEnvErrorKind::NoProxy(NoProxyError::BadEntry { index: 1 })
        );
    }

    #[test]
    fn proxy_credentials_are_percent_decoded_and_redacted() {
        let p = ProxySetting::parse("http://proxy%20user:p%3Aw%40d@127.0.0.1:3128").unwrap();
        let c = p.credentials().unwrap();
        assert_eq!((c.username(), c.password()), ("proxy user", Some("p:w@d")));
        assert!(!std::format!("{p:?}").contains("p:w@d"));
    }

    #[test]
    fn no_proxy_rules() {
        let l = NoProxy::parse(
            " Example.ORG ,.corp, *.wild.example,192.168.0.0/16,::1,[fe80::1]:8080,host:81,",
        )
        .unwrap();
        assert!(l.matches("example.org", 80));
        assert!(l.matches("a.b.EXAMPLE.org.", 80));
        assert!(!l.matches("notexample.org", 80));
        assert!(l.matches("corp", 80) && l.matches("x.corp", 80));
        assert!(l.matches("a.wild.example", 80) && l.matches("wild.example", 80));
        assert!(l.matches("192.168.7.9", 80) && !l.matches("192.169.0.1", 80));
        assert!(l.matches("[::1]", 443) && l.matches("::1", 443));
        assert!(l.matches("[fe80::1]", 8080) && !l.matches("[fe80::1]", 80));
        assert!(l.matches("host", 81) && !l.matches("host", 80));
        // Names are not resolved to match an address, nor an address to match a name.
        assert!(
            !NoProxy::parse("127.0.0.1")
                .unwrap()
                .matches("localhost", 80)
        );
        assert!(
            !NoProxy::parse("localhost")
                .unwrap()
                .matches("127.0.0.1", 80)
        );
        assert!(NoProxy::parse("").unwrap().is_empty());
    }

    #[test]
    fn no_proxy_refuses_what_it_cannot_read() {
        for bad in [
            "a b",
            "1.2.3.4/33",
            "host:",
            "host:99999",
            "[::1",
            "name/8",
            "a@b",
        ] {
            assert!(NoProxy::parse(bad).is_err(), "{bad}");
        }
        let long = "a,".repeat(MAX_NO_PROXY_ENTRIES + 1);
        assert_eq!(
            NoProxy::parse(&long),
            Err(NoProxyError::TooLong {
                limit: MAX_NO_PROXY_ENTRIES
            })
        );
    }

    #[test]
    fn a_bypassed_host_has_no_proxy() {
        let e = env(&[
            ("http_proxy", "p.example:3128"),
            ("no_proxy", "direct.example"),
        ])
        .unwrap();
        let direct = OriginRef {
            scheme: Scheme::Http,
            host: "direct.example",
            port: 80,
        };
        assert!(e.proxy_for(direct).is_none());
        let https = OriginRef {
            scheme: Scheme::Https,
            host: "other.example",
            port: 443,
        };
        assert!(e.proxy_for(https).is_none(), "no https_proxy set");
    }

    proptest! {
        /// Any list: no panic; a name entry matches itself and names below it, never a name
        /// that merely ends with it.
        #[test]
        fn never_panics(list in ".{0,64}", host in ".{0,32}", port: u16) {
            if let Ok(l) = NoProxy::parse(&list) {
                let _ = l.matches(&host, port);
            }
            let _ = ProxySetting::parse(&list);
        }

        #[test]
        fn suffix_at_label_boundary(domain in "[a-z]{1,8}(\\.[a-z]{1,8}){0,2}", label in "[a-z]{1,8}") {
            let l = NoProxy::parse(&domain).unwrap();
            let below = std::format!("{label}.{domain}");
            let glued = std::format!("{label}{domain}");
            prop_assert!(l.matches(&domain, 80));
            prop_assert!(l.matches(&below, 80));
            prop_assert!(!l.matches(&glued, 80));
        }

        #[test]
        fn cidr_contains_its_addresses(a: u32, bits in 0u8..=32, b: u32) {
            let net = core::net::Ipv4Addr::from_bits(a);
            let l = NoProxy::parse(&std::format!("{net}/{bits}")).unwrap();
            let mask = if bits == 0 { 0 } else { u32::MAX << (32 - u32::from(bits)) };
            let other = core::net::Ipv4Addr::from_bits((a & mask) | (b & !mask));
            let other = other.to_string();
            prop_assert!(l.matches(&other, 80));
            let outside = core::net::Ipv4Addr::from_bits(b);
            let outside = outside.to_string();
            prop_assert_eq!(l.matches(&outside, 80), (b & mask) == (a & mask));
        }
    }
}
