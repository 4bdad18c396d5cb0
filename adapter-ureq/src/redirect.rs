//! Following redirects here rather than in ureq, so that every hop starts a new exchange
//! with the core: the core decides, per origin, whether anything derived from the
//! credentials goes with it.
//!
//! Userinfo in a `Location` (`http://user:pw@host/`) is dropped: credentials of the
//! server's choosing are never used, nor sent (ureq would send them as Basic).

use http::{Method, StatusCode, Uri};

/// Where a redirect leads and how the request changes on the way.
#[derive(Debug)]
pub(crate) struct Hop {
    pub(crate) uri: Uri,
    pub(crate) method: Method,
    /// 307 and 308 keep the method and the body; the others become a GET without body.
    pub(crate) keeps_body: bool,
}

/// The next hop, if `status` is a redirect with a usable `Location`. `Err` carries a
/// `Location` that does not resolve to an absolute http(s) URI.
pub(crate) fn next_hop(
    status: StatusCode,
    location: Option<&[u8]>,
    current: &Uri,
    method: &Method,
) -> Option<Result<Hop, String>> {
    let keeps_body = match status.as_u16() {
        301..=303 => false,
        307 | 308 => true,
        _ => return None,
    };
    let location = location?;
    let Ok(location) = std::str::from_utf8(location) else {
        return Some(Err(String::from_utf8_lossy(location).into_owned()));
    };
    let Some(uri) = resolve(current, location) else {
        return Some(Err(location.to_owned()));
    };
    // 301 and 302 turn a POST into a GET (as browsers and ureq do); 303 turns every method
    // but HEAD into a GET.
    let method = if keeps_body || method == Method::HEAD || method == Method::GET {
        method.clone()
    } else if status == StatusCode::SEE_OTHER || method == Method::POST {
        Method::GET
    } else {
        method.clone()
    };
    let keeps_body = keeps_body || method != Method::GET;
    Some(Ok(Hop {
        uri,
        method,
        keeps_body,
    }))
}

/// Resolves a `Location` against the current URI (RFC 3986 §5.2, without dot-segment
/// removal, which servers do not rely on in redirects). The fragment and any userinfo (of
/// the `Location` or of the base) are dropped.
fn resolve(base: &Uri, location: &str) -> Option<Uri> {
    let location = location.trim();
    let location = location.split('#').next().unwrap_or_default();
    let location = httpdigest::client::strip_userinfo(location);
    let location = location.as_ref();
    let scheme = base.scheme_str()?;
    let authority = base.authority()?.as_str();
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    let absolute = if has_scheme(location) {
        location.to_owned()
    } else if location.starts_with("//") {
        format!("{scheme}:{location}")
    } else if location.starts_with('/') {
        format!("{scheme}://{authority}{location}")
    } else if location.starts_with('?') {
        format!("{scheme}://{authority}{}{location}", base.path())
    } else {
        let path = base.path();
        let dir = path
            .rfind('/')
            .map_or("/", |i| path.get(..=i).unwrap_or("/"));
        format!("{scheme}://{authority}{dir}{location}")
    };
    // Built from a base and a `Location` both without userinfo: the URI has none.
    let uri: Uri = absolute.parse().ok()?;
    let scheme = uri.scheme_str()?;
    (scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https"))
        .then_some(uri)
        .filter(|u| u.host().is_some())
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

    /// Credentials of the server's choosing in a `Location` are dropped, never followed.
    #[test]
    fn userinfo_in_a_location_is_dropped() {
        let cases = [
            ("http://127.0.0.1:A@127.0.0.1:9/x", "http://127.0.0.1:9/x"),
            ("http://bob:hunter2@b.example/y?z", "http://b.example/y?z"),
            ("//u:p@b.example/x", "http://b.example/x"),
            ("HTTP://u@b.example", "http://b.example/"),
        ];
        for (location, want) in cases {
            let uri = hop(302, location, Method::GET).uri;
            assert_eq!(uri.to_string(), want, "{location}");
            assert!(!uri.authority().unwrap().as_str().contains('@'));
        }
    }

    #[test]
    fn methods_change_as_browsers_do() {
        assert_eq!(hop(302, "/x", Method::POST).method, Method::GET);
        assert!(!hop(302, "/x", Method::POST).keeps_body);
        assert_eq!(hop(303, "/x", Method::PUT).method, Method::GET);
        assert_eq!(hop(303, "/x", Method::HEAD).method, Method::HEAD);
        assert_eq!(hop(307, "/x", Method::POST).method, Method::POST);
        assert!(hop(307, "/x", Method::POST).keeps_body);
        assert!(hop(301, "/x", Method::PUT).keeps_body);
    }

    #[test]
    fn unusable_locations_are_errors_and_non_redirects_are_none() {
        let base: Uri = "http://a.example/".parse().unwrap();
        let status = StatusCode::FOUND;
        assert!(
            next_hop(status, Some(b"ftp://x/"), &base, &Method::GET)
                .unwrap()
                .is_err()
        );
        assert!(
            next_hop(status, Some(b"http://"), &base, &Method::GET)
                .unwrap()
                .is_err()
        );
        assert!(next_hop(status, None, &base, &Method::GET).is_none());
        assert!(next_hop(StatusCode::OK, Some(b"/x"), &base, &Method::GET).is_none());
    }
}
