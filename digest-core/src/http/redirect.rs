//! Following a redirect above the HTTP client, so that each hop is a request of its own to
//! the engine: [`next_hop`] reads a 3xx response (where it leads, how the method changes),
//! and [`Hop::prepare`] takes off the caller's headers that must not go there.
//!
//! The engine then scopes each hop as any request: credentials, and anything derived from
//! them, go only to the origins of the client's scope; a challenge from another origin is not
//! answered.

use std::string::String;

use http::{HeaderMap, Method, StatusCode, Uri, header};

use super::convert::{origin_of, strip_userinfo};

/// Where a redirect leads and how the request changes on the way.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Hop {
    /// The absolute `http` or `https` URI of the next request: the `Location` resolved
    /// against the current URI, without its fragment and without userinfo (a `Location`
    /// names no credentials: any it carries are dropped, never used nor sent).
    pub uri: Uri,
    /// The method of the next request.
    pub method: Method,
    /// Whether the next request carries the body again: 307 and 308 keep the method and the
    /// body; 301 and 302 keep them except for a POST, which becomes a GET without body (as
    /// browsers do); 303 makes every method but HEAD a GET without body.
    pub keeps_body: bool,
    /// Whether the next request goes to the same origin (scheme, host and port) as the
    /// current one.
    pub same_origin: bool,
}

/// A `Location` that does not resolve to an absolute `http` or `https` URI. It says nothing
/// of the `Location` itself, which may hold a password.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the redirect's Location is not an http or https URI")]
pub struct BadLocation;

/// The next hop, if `status` is a redirect (301, 302, 303, 307, 308) with a `Location`;
/// `None` for any other response, and for a redirect without `Location`.
///
/// ```
/// use http::{Method, StatusCode, Uri};
/// use httpdigest::http::redirect::next_hop;
///
/// let current = Uri::from_static("http://camera.local/cgi-bin/form");
/// let hop = next_hop(StatusCode::SEE_OTHER, Some(b"result?id=4"), &current, &Method::POST)
///     .unwrap()?;
/// assert_eq!(hop.uri, "http://camera.local/cgi-bin/result?id=4");
/// assert_eq!((hop.method, hop.keeps_body, hop.same_origin), (Method::GET, false, true));
///
/// // Credentials in a Location are dropped.
/// let hop = next_hop(StatusCode::TEMPORARY_REDIRECT, Some(b"http://eve:pw@other.example/x"), &current, &Method::PUT)
///     .unwrap()?;
/// assert_eq!(hop.uri, "http://other.example/x");
/// assert_eq!((hop.method, hop.keeps_body, hop.same_origin), (Method::PUT, true, false));
///
/// assert!(next_hop(StatusCode::OK, None, &current, &Method::GET).is_none());
/// # Ok::<(), httpdigest::http::redirect::BadLocation>(())
/// ```
pub fn next_hop(
    status: StatusCode,
    location: Option<&[u8]>,
    current: &Uri,
    method: &Method,
) -> Option<Result<Hop, BadLocation>> {
    let keeps_body = match status.as_u16() {
        301..=303 => false,
        307 | 308 => true,
        _ => return None,
    };
    let location = location?;
    let Some(uri) = core::str::from_utf8(location)
        .ok()
        .and_then(|location| resolve(current, location))
    else {
        return Some(Err(BadLocation));
    };
    let method = if keeps_body || method == Method::HEAD || method == Method::GET {
        method.clone()
    } else if status == StatusCode::SEE_OTHER || method == Method::POST {
        Method::GET
    } else {
        method.clone()
    };
    let keeps_body = keeps_body || method != Method::GET && method != Method::HEAD;
    let same_origin = match (origin_of(current), origin_of(&uri)) {
        (Some(a), Some(b)) => a.same_as(b),
        _ => false,
    };
    Some(Ok(Hop {
        uri,
        method,
        keeps_body,
        same_origin,
    }))
}

impl Hop {
    /// Takes off `headers` (the caller's headers of the current request) what must not go
    /// with the next one: the body's headers (`Content-Type`, `Content-Length`,
    /// `Content-Encoding`, `Transfer-Encoding`) when the body is not sent again, and, to
    /// another origin, the credentials and cookies the caller set (`Authorization`,
    /// `Proxy-Authorization`, `Cookie`, `Cookie2`), as reqwest and curl do. The engine adds
    /// its own headers to each hop.
    ///
    /// ```
    /// use http::{HeaderMap, Method, StatusCode, Uri};
    /// use httpdigest::http::redirect::next_hop;
    ///
    /// let mut headers = HeaderMap::new();
    /// headers.insert("authorization", "Bearer t0ken".parse()?);
    /// headers.insert("content-type", "text/plain".parse()?);
    /// let current = Uri::from_static("https://api.example/v1/upload");
    /// let hop = next_hop(StatusCode::FOUND, Some(b"https://cdn.example/x"), &current, &Method::POST)
    ///     .unwrap()?;
    /// hop.prepare(&mut headers);
    /// assert!(headers.is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn prepare(&self, headers: &mut HeaderMap) {
        if !self.keeps_body {
            for name in [
                header::CONTENT_TYPE,
                header::CONTENT_LENGTH,
                header::CONTENT_ENCODING,
                header::TRANSFER_ENCODING,
            ] {
                headers.remove(name);
            }
        }
        if !self.same_origin {
            for name in [
                header::AUTHORIZATION,
                header::PROXY_AUTHORIZATION,
                header::COOKIE,
            ] {
                headers.remove(name);
            }
            headers.remove("cookie2");
        }
    }
}

/// Resolves a `Location` against the current URI (RFC 3986 §5.2, without dot-segment
/// removal, which servers do not rely on in redirects). The fragment and any userinfo are
/// dropped ([`strip_userinfo`]).
fn resolve(base: &Uri, location: &str) -> Option<Uri> {
    let location = location.trim();
    let location = location.split('#').next().unwrap_or_default();
    let base = strip_userinfo(base)?;
    let scheme = base.scheme_str()?;
    let authority = base.authority()?;
    let absolute = if has_scheme(location) {
        String::from(location)
    } else if location.starts_with("//") {
        std::format!("{scheme}:{location}")
    } else if location.starts_with('/') {
        std::format!("{scheme}://{authority}{location}")
    } else if location.starts_with('?') {
        std::format!("{scheme}://{authority}{}{location}", base.path())
    } else {
        let path = base.path();
        let dir = path
            .rfind('/')
            .map_or("/", |i| path.get(..=i).unwrap_or("/"));
        std::format!("{scheme}://{authority}{dir}{location}")
    };
    let uri = strip_userinfo(&absolute.parse().ok()?)?;
    let scheme = uri.scheme_str()?;
    ((scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https"))
        && uri.host().is_some_and(|h| !h.is_empty()))
    .then_some(uri)
}

/// `scheme ":"` at the start (RFC 3986 §3.1).
fn has_scheme(s: &str) -> bool {
    let Some((scheme, _)) = s.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hop(status: u16, location: &str, method: Method) -> Hop {
        let base: Uri = "http://a.example:8080/dir/page?q=1".parse().unwrap();
        next_hop(
            StatusCode::from_u16(status).unwrap(),
            Some(location.as_bytes()),
            &base,
            &method,
        )
        .unwrap()
        .unwrap()
    }

    #[test]
    fn locations_resolve_against_the_current_uri() {
        let cases = [
            ("http://b.example/x", "http://b.example/x"),
            ("//b.example/x", "http://b.example/x"),
            ("/x?y=2", "http://a.example:8080/x?y=2"),
            ("other", "http://a.example:8080/dir/other"),
            ("?z=3", "http://a.example:8080/dir/page?z=3"),
            ("/x#frag", "http://a.example:8080/x"),
            ("HTTPS://b.example/", "https://b.example/"),
        ];
        for (location, want) in cases {
            assert_eq!(
                hop(302, location, Method::GET).uri.to_string(),
                want,
                "{location}"
            );
        }
    }

    #[test]
    fn userinfo_in_a_location_or_the_base_is_dropped() {
        let cases = [
            ("http://eve:pw@b.example/x", "http://b.example/x"),
            ("//eve@b.example:81/x", "http://b.example:81/x"),
            ("http://127.0.0.1:1@127.0.0.1:2/x", "http://127.0.0.1:2/x"),
            ("http://a:b@c@d.example/", "http://d.example/"),
        ];
        for (location, want) in cases {
            let hop = hop(302, location, Method::GET);
            assert_eq!(hop.uri.to_string(), want, "{location}");
            assert!(!hop.same_origin, "{location}");
        }
        let base: Uri = "http://bob:pw@a.example/dir/".parse().unwrap();
        let hop = next_hop(StatusCode::FOUND, Some(b"x"), &base, &Method::GET)
            .unwrap()
            .unwrap();
        assert_eq!(hop.uri.to_string(), "http://a.example/dir/x");
        assert!(hop.same_origin);
    }

    #[test]
    fn methods_change_as_browsers_do() {
        assert_eq!(hop(302, "/x", Method::POST).method, Method::GET);
        assert!(!hop(302, "/x", Method::POST).keeps_body);
        assert_eq!(hop(303, "/x", Method::PUT).method, Method::GET);
        assert_eq!(hop(303, "/x", Method::HEAD).method, Method::HEAD);
        assert!(!hop(303, "/x", Method::HEAD).keeps_body);
        assert_eq!(hop(307, "/x", Method::POST).method, Method::POST);
        assert!(hop(307, "/x", Method::POST).keeps_body);
        assert!(hop(308, "/x", Method::PUT).keeps_body);
        assert!(hop(301, "/x", Method::PUT).keeps_body);
    }

    #[test]
    fn origins_compare_by_scheme_host_and_port() {
        assert!(hop(302, "http://A.example:8080/y", Method::GET).same_origin);
        assert!(!hop(302, "https://a.example:8080/y", Method::GET).same_origin);
        assert!(!hop(302, "http://a.example/y", Method::GET).same_origin);
        assert!(hop(302, "/y", Method::GET).same_origin);
    }

    #[test]
    fn headers_are_kept_within_an_origin_and_dropped_across() {
        let mut headers = HeaderMap::new();
        for (name, value) in [
            ("authorization", "Bearer x"),
            ("proxy-authorization", "Basic eA=="),
            ("cookie", "a=b"),
            ("cookie2", "c=d"),
            ("content-type", "text/plain"),
            ("content-length", "4"),
            ("accept", "*/*"),
        ] {
            headers.insert(name, value.parse().unwrap());
        }
        let mut same = headers.clone();
        hop(307, "/y", Method::PUT).prepare(&mut same);
        assert_eq!(same, headers);
        hop(303, "/y", Method::PUT).prepare(&mut same);
        assert_eq!(same.len(), 5);
        assert!(same.get("content-type").is_none());
        hop(307, "http://b.example/", Method::PUT).prepare(&mut same);
        assert_eq!(
            same.keys().map(|k| k.as_str()).collect::<Vec<_>>(),
            ["accept"]
        );
    }

    #[test]
    fn unusable_locations_are_errors_and_non_redirects_are_none() {
        let base: Uri = "http://a.example/".parse().unwrap();
        let status = StatusCode::FOUND;
        for location in [&b"ftp://x/"[..], b"http://", b"http://u:p@/x", b"\xff"] {
            assert_eq!(
                next_hop(status, Some(location), &base, &Method::GET),
                Some(Err(BadLocation)),
                "{location:?}"
            );
        }
        assert!(next_hop(status, None, &base, &Method::GET).is_none());
        assert!(next_hop(StatusCode::OK, Some(b"/x"), &base, &Method::GET).is_none());
        assert!(next_hop(StatusCode::NOT_MODIFIED, Some(b"/x"), &base, &Method::GET).is_none());
    }
}
