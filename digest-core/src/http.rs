//! Conversions from the [`http`](https://docs.rs/http) crate's types (feature `http`).

use alloc::borrow::Cow;

use http::{HeaderMap, Method, Uri, header};

/// The request-target as it goes on the wire, for the `uri` parameter (RFC 7616 §3.4,
/// RFC 9112 §3.2): the authority (`host:port`) for `CONNECT`, otherwise the path and query
/// (`/` when the path is empty), percent-encoding untouched.
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
        Some(pq) if !pq.as_str().is_empty() => Cow::Owned(alloc::format!("/{}", pq.as_str())),
        _ => Cow::Borrowed("/"),
    }
}

/// Every `WWW-Authenticate` field (or `Proxy-Authenticate`, when `proxy`), in order, for
/// [`Challenges`](crate::Challenges) or [`DigestChallenges`](crate::DigestChallenges).
pub fn challenge_fields(headers: &HeaderMap, proxy: bool) -> impl Iterator<Item = &[u8]> {
    let name = if proxy {
        header::PROXY_AUTHENTICATE
    } else {
        header::WWW_AUTHENTICATE
    };
    headers
        .get_all(name)
        .into_iter()
        .map(http::HeaderValue::as_bytes)
}
