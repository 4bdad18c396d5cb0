//! The conversions the engine is made of, between the `http` crate's types and the core's:
//! the route of a request, the authentication fields of a response, the header names of a
//! side, and putting the core's headers on a request.

use alloc::borrow::Cow;
use alloc::string::ToString as _;
use alloc::vec::Vec;

use http::header::InvalidHeaderValue;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, header};

use super::error::BadUri;
use crate::client::{AuthHeaders, BodySource, Credentials, Request, Response};
use crate::origin::{OriginRef, Scheme};
use crate::side::Side;

/// The challenge header of `side` (`WWW-Authenticate`, `Proxy-Authenticate`).
pub const fn challenge_header(side: Side) -> HeaderName {
    match side {
        Side::Origin => header::WWW_AUTHENTICATE,
        Side::Proxy => header::PROXY_AUTHENTICATE,
    }
}

/// The credentials header of `side` (`Authorization`, `Proxy-Authorization`).
pub const fn credentials_header(side: Side) -> HeaderName {
    match side {
        Side::Origin => header::AUTHORIZATION,
        Side::Proxy => header::PROXY_AUTHORIZATION,
    }
}

/// The `Authentication-Info` header of `side` (or `Proxy-Authentication-Info`).
pub const fn info_header(side: Side) -> HeaderName {
    match side {
        Side::Origin => AUTHENTICATION_INFO,
        Side::Proxy => PROXY_AUTHENTICATION_INFO,
    }
}

/// `Authentication-Info` (RFC 7615 §3).
pub const AUTHENTICATION_INFO: HeaderName = HeaderName::from_static("authentication-info");
/// `Proxy-Authentication-Info` (RFC 7615 §4).
pub const PROXY_AUTHENTICATION_INFO: HeaderName =
    HeaderName::from_static("proxy-authentication-info");

/// The request-target as it goes on the wire, for the `uri` parameter (RFC 7616 §3.4,
/// RFC 9112 §3.2): the authority (`host:port`) for `CONNECT`, `*` for `OPTIONS *`, otherwise
/// the path and query (`/` when the path is empty), percent-encoding untouched.
///
/// Requests sent to a plain forward proxy use the absolute form (the whole URI) on the wire;
/// pass `uri.to_string()` for those.
///
/// ```
/// use httpdigest::http::request_target;
///
/// let uri: http::Uri = "http://example.org/a%20b?x=1#frag".parse().unwrap();
/// assert_eq!(request_target(&http::Method::GET, &uri), "/a%20b?x=1");
/// let uri: http::Uri = "example.org:443".parse().unwrap();
/// assert_eq!(request_target(&http::Method::CONNECT, &uri), "example.org:443");
/// let uri: http::Uri = "*".parse().unwrap();
/// assert_eq!(request_target(&http::Method::OPTIONS, &uri), "*");
/// ```
pub fn request_target<'a>(method: &Method, uri: &'a Uri) -> Cow<'a, str> {
    if method == Method::CONNECT
        && let Some(authority) = uri.authority()
    {
        return Cow::Borrowed(authority.as_str());
    }
    match uri.path_and_query() {
        Some(pq) if !pq.as_str().is_empty() && pq.as_str().starts_with('/') => {
            Cow::Borrowed(pq.as_str())
        }
        // The asterisk-form of `OPTIONS *` (RFC 9112 §3.2.4), which names no path.
        Some(pq) if method == Method::OPTIONS && pq.as_str() == "*" => Cow::Borrowed("*"),
        Some(pq) if !pq.as_str().is_empty() => Cow::Owned(alloc::format!("/{}", pq.as_str())),
        _ => Cow::Borrowed("/"),
    }
}

/// Every challenge field of `side` (`WWW-Authenticate` or `Proxy-Authenticate`), in order,
/// for [`Challenges`](crate::Challenges) or [`DigestChallenges`](crate::DigestChallenges).
pub fn challenge_fields(headers: &HeaderMap, side: Side) -> impl Iterator<Item = &[u8]> {
    headers
        .get_all(challenge_header(side))
        .into_iter()
        .map(http::HeaderValue::as_bytes)
}

/// The origin (scheme, host, port) of an absolute `http` or `https` URI, for
/// [`client::Request`](crate::client::Request); `None` for another scheme or a URI without
/// host. The port is the explicit one or the scheme's default.
///
/// ```
/// use httpdigest::Scheme;
/// use httpdigest::http::origin_of;
///
/// let uri: http::Uri = "http://camera.local:8080/cgi-bin/snapshot".parse().unwrap();
/// let origin = origin_of(&uri).unwrap();
/// assert_eq!((origin.scheme, origin.host, origin.port), (Scheme::Http, "camera.local", 8080));
/// let uri: http::Uri = "https://API.example.org/v1".parse().unwrap();
/// assert_eq!(origin_of(&uri).unwrap().port, 443);
/// assert!(origin_of(&"/relative".parse().unwrap()).is_none());
/// ```
pub fn origin_of(uri: &Uri) -> Option<OriginRef<'_>> {
    let scheme = match uri.scheme_str()? {
        s if s.eq_ignore_ascii_case("http") => Scheme::Http,
        s if s.eq_ignore_ascii_case("https") => Scheme::Https,
        _ => return None,
    };
    Some(OriginRef {
        scheme,
        host: uri.host()?,
        port: uri.port_u16().unwrap_or(scheme.default_port()),
    })
}

/// The absolute form of a request-target (RFC 9112 §3.2.2): what a client sends to a plain
/// forward proxy, and the `uri` parameter of such a request; never with userinfo (RFC 9110
/// §4.2.4). `None` without scheme or authority.
///
/// ```
/// use httpdigest::http::absolute_target;
///
/// let uri: http::Uri = "http://127.0.0.1:8085/hello.txt?x=1".parse().unwrap();
/// assert_eq!(absolute_target(&uri).unwrap(), "http://127.0.0.1:8085/hello.txt?x=1");
/// let uri: http::Uri = "http://example.org".parse().unwrap();
/// assert_eq!(absolute_target(&uri).unwrap(), "http://example.org/");
/// let uri: http::Uri = "http://bob:pw@example.org/x".parse().unwrap();
/// assert_eq!(absolute_target(&uri).unwrap(), "http://example.org/x");
/// ```
pub fn absolute_target(uri: &Uri) -> Option<alloc::string::String> {
    let scheme = uri.scheme_str()?;
    let authority = uri.authority()?.as_str();
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    let path = uri
        .path_and_query()
        .map(http::uri::PathAndQuery::as_str)
        .filter(|p| p.starts_with('/'))
        .unwrap_or("/");
    Some(alloc::format!("{scheme}://{authority}{path}"))
}

/// Splits `uri` into the URI without userinfo and the credentials its userinfo held
/// (percent-decoded, see [`client::split_userinfo`](crate::client::split_userinfo)): for
/// adapters that register them themselves
/// ([`DigestClient::set_origin_credentials`](super::DigestClient::set_origin_credentials));
/// [`DigestClient::begin`](super::DigestClient::begin) does it for them.
///
/// ```
/// use httpdigest::http::split_userinfo;
///
/// let uri: http::Uri = "http://bob:hunter2@camera.local:8080/snap".parse()?;
/// let (uri, credentials) = split_userinfo(&uri)?;
/// assert_eq!(uri, "http://camera.local:8080/snap");
/// assert_eq!(credentials.unwrap().username(), "bob");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`BadUri`] when the userinfo is not percent-encoded UTF-8 (the message does not quote it).
pub fn split_userinfo(uri: &Uri) -> Result<(Uri, Option<Credentials>), BadUri> {
    let Some(authority) = uri.authority().filter(|a| a.as_str().contains('@')) else {
        return Ok((uri.clone(), None));
    };
    let redacted = || Redacted(uri).to_string();
    let (userinfo, _) = authority.as_str().rsplit_once('@').unwrap_or_default();
    let credentials = crate::client::parse_userinfo(userinfo)
        .map_err(|e| BadUri(alloc::format!("{}: {e}", redacted())))?;
    let stripped = strip_userinfo(uri).ok_or_else(|| BadUri(redacted()))?;
    Ok((stripped, credentials))
}

/// `uri` without userinfo (a redirect's `Location`, resolved: credentials a server names
/// there are dropped, never used or sent). A URI without userinfo comes back as it is.
///
/// ```
/// use httpdigest::http::strip_userinfo;
///
/// let location: http::Uri = "http://127.0.0.1:A@127.0.0.1:9/x?y".parse().unwrap();
/// assert_eq!(strip_userinfo(&location).unwrap(), "http://127.0.0.1:9/x?y");
/// ```
///
/// `None` only if what is left is not a URI, which cannot happen for a URI `http` parsed;
/// a caller then goes nowhere rather than keep the userinfo.
#[must_use]
pub fn strip_userinfo(uri: &Uri) -> Option<Uri> {
    let Some(authority) = uri.authority() else {
        return Some(uri.clone());
    };
    let Some((_, host)) = authority.as_str().rsplit_once('@') else {
        return Some(uri.clone());
    };
    let mut parts = uri.clone().into_parts();
    parts.authority = Some(host.parse().ok()?);
    Uri::from_parts(parts).ok()
}

/// Where a request goes, as the client core needs it: the origin, the forward proxy it passes
/// through, and the request-target as it goes on the wire.
///
/// A proxy applies to plain `http` requests, which go to the proxy in absolute form
/// (`GET http://host/path`), where a `407` can be answered, and to `CONNECT`, which opens
/// a tunnel through it to an `https` origin (its target is the authority, `host:port`).
/// Other `https` requests go inside such a tunnel, where the proxy sees none of them.
///
/// ```
/// use httpdigest::{OriginRef, Scheme};
/// use httpdigest::http::Route;
///
/// let proxy = OriginRef { scheme: Scheme::Http, host: "proxy.local", port: 3128 };
/// let uri: http::Uri = "http://camera.local/snapshot?q=1".parse().unwrap();
/// let route = Route::of(&http::Method::GET, &uri, Some(proxy)).unwrap();
/// assert_eq!(route.target, "http://camera.local/snapshot?q=1");
/// assert_eq!(route.proxy, Some(proxy));
///
/// let uri: http::Uri = "https://api.example.org/v1".parse().unwrap();
/// let route = Route::of(&http::Method::GET, &uri, Some(proxy)).unwrap();
/// assert_eq!((route.target.as_ref(), route.proxy), ("/v1", None));
///
/// // The tunnel to it: CONNECT, to the proxy, in authority form.
/// let uri: http::Uri = "https://api.example.org:443".parse().unwrap();
/// let route = Route::of(&http::Method::CONNECT, &uri, Some(proxy)).unwrap();
/// assert_eq!((route.target.as_ref(), route.proxy), ("api.example.org:443", Some(proxy)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route<'a> {
    /// The origin of the request.
    pub origin: OriginRef<'a>,
    /// The forward proxy, for plain `http` requests when one is configured.
    pub proxy: Option<OriginRef<'a>>,
    /// The request-target on the wire (and the `uri` parameter).
    pub target: Cow<'a, str>,
}

impl<'a> Route<'a> {
    /// The route of `method` `uri` (an absolute `http` or `https` URI), through `proxy` if
    /// one is configured. `None` for a URI without scheme or host.
    pub fn of(method: &Method, uri: &'a Uri, proxy: Option<OriginRef<'a>>) -> Option<Self> {
        let origin = origin_of(uri)?;
        let connect = method == Method::CONNECT;
        let proxy = proxy.filter(|_| origin.scheme == Scheme::Http || connect);
        let target = match proxy {
            Some(_) if !connect => Cow::Owned(absolute_target(uri)?),
            _ => request_target(method, uri),
        };
        Some(Self {
            origin,
            proxy,
            target,
        })
    }

    /// The core's view of the request.
    pub fn request<'r>(&'r self, method: &'r Method, body: BodySource<'r>) -> Request<'r> {
        Request {
            method: method.as_str(),
            target: &self.target,
            origin: self.origin,
            proxy: self.proxy,
            body,
        }
    }
}

/// The authentication fields of a response, gathered from its headers for the core's
/// [`Response`].
///
/// ```
/// use httpdigest::http::ResponseFields;
///
/// let mut headers = http::HeaderMap::new();
/// headers.append("www-authenticate", r#"Digest realm="a", nonce="1""#.parse().unwrap());
/// headers.append("www-authenticate", r#"Basic realm="a""#.parse().unwrap());
/// let fields = ResponseFields::of(&headers);
/// let response = fields.response(http::StatusCode::UNAUTHORIZED);
/// assert_eq!((response.status, response.www_authenticate.len()), (401, 2));
/// ```
#[derive(Debug, Clone)]
pub struct ResponseFields<'h> {
    www: Vec<&'h [u8]>,
    proxy: Vec<&'h [u8]>,
    info: Option<&'h [u8]>,
    proxy_info: Option<&'h [u8]>,
    set_cookie: Vec<&'h [u8]>,
}

impl<'h> ResponseFields<'h> {
    /// Every `WWW-Authenticate` and `Proxy-Authenticate` field, the
    /// `Authentication-Info` and `Proxy-Authentication-Info` fields, and every `Set-Cookie`
    /// field of `headers`.
    pub fn of(headers: &'h HeaderMap) -> Self {
        let info = |name: &HeaderName| headers.get(name).map(HeaderValue::as_bytes);
        Self {
            www: challenge_fields(headers, Side::Origin).collect(),
            proxy: challenge_fields(headers, Side::Proxy).collect(),
            info: info(&info_header(Side::Origin)),
            proxy_info: info(&info_header(Side::Proxy)),
            set_cookie: headers
                .get_all(header::SET_COOKIE)
                .into_iter()
                .map(HeaderValue::as_bytes)
                .collect(),
        }
    }

    /// The core's view of a response with this status and these fields.
    pub fn response(&self, status: StatusCode) -> Response<'_> {
        Response {
            status: status.as_u16(),
            www_authenticate: &self.www,
            proxy_authenticate: &self.proxy,
            authentication_info: self.info,
            proxy_authentication_info: self.proxy_info,
            set_cookie: &self.set_cookie,
            origin: None,
        }
    }
}

/// Puts the core's headers on a send: each credentials header the core gives replaces the
/// request's own value of it; a header it does not give is left as it is. The cookies the
/// request's challenges set join the request's own `Cookie` header, in one field (see
/// [`ChallengeCookies::join`](crate::client::ChallengeCookies::join)). The values become
/// the header values without a copy.
///
/// # Errors
///
/// A value `http` does not take as a header value (the core writes none such: its values are
/// checked for control characters as they are written).
///
/// ```
/// use httpdigest::client::AuthHeaders;
/// use httpdigest::http::put_auth_headers;
///
/// let mut headers = http::HeaderMap::new();
/// headers.insert("authorization", "Basic old".parse().unwrap());
/// let auth = AuthHeaders {
///     authorization: Some(r#"Digest username="u", realm="r""#.to_owned().into()),
///     ..AuthHeaders::default()
/// };
/// put_auth_headers(&mut headers, auth).unwrap();
/// assert_eq!(headers["authorization"], r#"Digest username="u", realm="r""#);
/// assert!(!headers.contains_key("proxy-authorization"));
/// ```
pub fn put_auth_headers(
    headers: &mut HeaderMap,
    auth: AuthHeaders,
) -> Result<(), InvalidHeaderValue> {
    let AuthHeaders {
        authorization,
        proxy_authorization,
        cookies,
    } = auth;
    for (side, value) in [
        (Side::Origin, authorization),
        (Side::Proxy, proxy_authorization),
    ] {
        if let Some(value) = value {
            headers.insert(
                credentials_header(side),
                HeaderValue::from_maybe_shared(bytes_of(value))?,
            );
        }
    }
    if !cookies.is_empty() {
        let own = headers
            .get_all(header::COOKIE)
            .into_iter()
            .map(HeaderValue::as_bytes);
        match cookies.join(own) {
            Some(value) => {
                headers.insert(
                    header::COOKIE,
                    HeaderValue::from_maybe_shared(bytes_of(value))?,
                );
            }
            None => {
                headers.remove(header::COOKIE);
            }
        }
    }
    Ok(())
}

/// The value's bytes, for `HeaderValue::from_maybe_shared` (which takes them without a copy).
fn bytes_of(value: crate::client::FieldValue) -> bytes::Bytes {
    bytes::Bytes::from(value.into_bytes())
}

/// A URI for messages: without its userinfo, which may hold a password.
pub(super) struct Redacted<'a>(pub(super) &'a Uri);

impl core::fmt::Display for Redacted<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let uri = self.0;
        match uri.authority().map(http::uri::Authority::as_str) {
            Some(authority) if authority.contains('@') => {
                let host = authority.rsplit('@').next().unwrap_or_default();
                let scheme = uri
                    .scheme_str()
                    .map_or(alloc::string::String::new(), |s| alloc::format!("{s}://"));
                let path = uri
                    .path_and_query()
                    .map_or("", http::uri::PathAndQuery::as_str);
                write!(f, "{scheme}…@{host}{path}")
            }
            _ => write!(f, "{uri}"),
        }
    }
}

impl core::fmt::Debug for Redacted<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{self}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cookies of a challenge join the request's own `Cookie` fields in one field; a
    /// challenge's cookie replaces the request's of the same name; none left, no field.
    #[test]
    fn challenge_cookies_join_the_requests_own() {
        use crate::client::ChallengeCookies;

        let challenge = |fields: &[&[u8]]| {
            let mut cookies = ChallengeCookies::default();
            cookies.take_from(fields, "h", "/", false);
            cookies
        };
        let mut headers = HeaderMap::new();
        headers.append(
            header::COOKIE,
            HeaderValue::from_static("theme=dark; session=old"),
        );
        headers.append(header::COOKIE, HeaderValue::from_static("lang=de"));
        let auth = AuthHeaders {
            cookies: challenge(&[b"session=new; Path=/; HttpOnly"]),
            ..AuthHeaders::default()
        };
        put_auth_headers(&mut headers, auth).unwrap();
        let cookies: Vec<_> = headers.get_all(header::COOKIE).iter().collect();
        assert_eq!(cookies, ["theme=dark; lang=de; session=new"]);
        // Sent again, the same headers give the same field.
        let auth = AuthHeaders {
            cookies: challenge(&[b"session=new"]),
            ..AuthHeaders::default()
        };
        put_auth_headers(&mut headers, auth).unwrap();
        assert_eq!(headers[header::COOKIE], "theme=dark; lang=de; session=new");
        // Deleted, and nothing else: no field at all.
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_static("session=old"));
        let auth = AuthHeaders {
            cookies: challenge(&[b"session=; Max-Age=0"]),
            ..AuthHeaders::default()
        };
        put_auth_headers(&mut headers, auth).unwrap();
        assert!(!headers.contains_key(header::COOKIE));
        // No challenge cookies: the request's own fields stay as they are.
        let mut headers = HeaderMap::new();
        headers.append(header::COOKIE, HeaderValue::from_static("a=1"));
        headers.append(header::COOKIE, HeaderValue::from_static("b=2"));
        put_auth_headers(&mut headers, AuthHeaders::default()).unwrap();
        assert_eq!(headers.get_all(header::COOKIE).iter().count(), 2);
    }

    /// The `http` names of each side are the core's own names of them.
    #[test]
    fn header_names_are_the_sides_names() {
        for side in Side::BOTH {
            assert_eq!(challenge_header(side).as_str(), side.challenge_header());
            assert_eq!(credentials_header(side).as_str(), side.credentials_header());
            assert_eq!(info_header(side).as_str(), side.info_header());
        }
    }
}
