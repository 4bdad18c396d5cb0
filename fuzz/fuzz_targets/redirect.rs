//! The redirect steps of the `http` engine (`httpdigest::http::redirect`): a `Location`
//! resolved against the current URI, and the caller's headers a hop keeps.
//!
//! The input is lines: the first is the current URI, the second the `Location` (any bytes),
//! the third a status (`301`, `302`, `303`, `307`, `308`, anything else) and a method.
#![no_main]

use http::{HeaderMap, Method, StatusCode, Uri};
use httpdigest::http::redirect::next_hop;
use httpdigest::http::{origin_of, strip_userinfo};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut lines = data.split(|&b| b == b'\n');
    let current = lines.next().unwrap_or_default();
    let location = lines.next();
    let last = String::from_utf8_lossy(lines.next().unwrap_or_default()).into_owned();
    let (status, method) = last.split_once(' ').unwrap_or((&last, "GET"));
    let Ok(current) = std::str::from_utf8(current)
        .unwrap_or_default()
        .parse::<Uri>()
    else {
        return;
    };
    let status = status
        .parse::<u16>()
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::FOUND);
    let method = Method::from_bytes(method.as_bytes()).unwrap_or(Method::GET);
    let Some(Ok(hop)) = next_hop(status, location, &current, &method) else {
        return;
    };
    // Where a hop leads: an absolute http(s) URI with a host, without userinfo or fragment.
    let origin = origin_of(&hop.uri).expect("a hop has an http(s) origin");
    assert!(!origin.host.is_empty());
    assert!(
        hop.uri
            .authority()
            .is_some_and(|a| !a.as_str().contains('@')),
        "userinfo kept in {:?}",
        hop.uri
    );
    assert_eq!(strip_userinfo(&hop.uri).as_ref(), Some(&hop.uri));
    assert!(!hop.uri.to_string().contains('#'));
    // 307 and 308 keep the method and the body; a GET never carries one on.
    if matches!(status.as_u16(), 307 | 308) {
        assert_eq!(hop.method, method);
        assert!(hop.keeps_body);
    }
    if hop.method == Method::GET || hop.method == Method::HEAD {
        assert!(!hop.keeps_body || matches!(status.as_u16(), 307 | 308));
    }
    // Across origins, the caller's credentials and cookies stay behind.
    let same = origin_of(&current).is_some_and(|o| o.same_as(origin));
    assert_eq!(hop.same_origin, same);
    let mut headers = HeaderMap::new();
    for name in [
        "authorization",
        "proxy-authorization",
        "cookie",
        "cookie2",
        "accept",
    ] {
        headers.insert(name, "x".parse().expect("a header value"));
    }
    hop.prepare(&mut headers);
    assert!(headers.contains_key("accept"));
    assert_eq!(headers.contains_key("authorization"), same);
    assert_eq!(headers.contains_key("cookie"), same);
});
