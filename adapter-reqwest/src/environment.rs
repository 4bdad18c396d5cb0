//! What reqwest takes from the request and the environment on its own, read the way reqwest
//! reads it so that the core knows it too: a URL's userinfo (which reqwest's
//! `RequestBuilder` turns into `Authorization: Basic`), and the proxy reqwest uses for plain
//! `http` (its system proxy, from `HTTP_PROXY` and `NO_PROXY`). reqwest tunnels `https`
//! through `HTTPS_PROXY` with `CONNECT` and answers that proxy itself: the core is not told.

use base64::Engine as _;
use http::{HeaderMap, HeaderValue, header};
use httpdigest::client::{Credentials, NoProxy, ProxyEnv, ProxySetting};
use zeroize::Zeroizing;

/// Takes every `Authorization: Basic` field off `headers` (reqwest's form of a URL's
/// userinfo, and of `RequestBuilder::basic_auth`), and returns the credentials of the
/// first, if it decodes (`base64(user ":" password)`, UTF-8). None of them is sent.
pub(crate) fn take_basic(headers: &mut HeaderMap) -> Option<Credentials> {
    if !headers.get_all(header::AUTHORIZATION).iter().any(is_basic) {
        return None;
    }
    let fields: Vec<HeaderValue> = match headers.entry(header::AUTHORIZATION) {
        header::Entry::Occupied(entry) => entry.remove_entry_mult().1.collect(),
        header::Entry::Vacant(_) => Vec::new(),
    };
    let mut credentials = None;
    for field in fields {
        if is_basic(&field) {
            credentials = credentials.or_else(|| decode_basic(field.as_bytes()));
        } else {
            headers.append(header::AUTHORIZATION, field);
        }
    }
    credentials
}

fn is_basic(field: &HeaderValue) -> bool {
    field
        .as_bytes()
        .get(..6)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case(b"basic "))
}

/// `Basic base64(user ":" password)` (RFC 7617): the user name is what comes before the
/// first colon.
fn decode_basic(field: &[u8]) -> Option<Credentials> {
    let token = field.get(6..)?.trim_ascii();
    let decoded = Zeroizing::new(
        base64::engine::general_purpose::STANDARD
            .decode(token)
            .ok()?,
    );
    let text = core::str::from_utf8(&decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some(Credentials::new(user, password))
}

/// The proxies of the environment as reqwest reads them (hyper-util's system proxy
/// matcher): `HTTP_PROXY` before `http_proxy`, `ALL_PROXY`/`all_proxy` when neither is set,
/// `NO_PROXY` before `no_proxy`, and none at all under CGI (`REQUEST_METHOD` set). A proxy
/// that is not plain `http` (`socks5://`, `https://`) is left out: the core answers 407s
/// only from a plain `http` proxy, and reqwest tunnels or speaks SOCKS there itself.
pub(crate) fn reqwest_proxy_env(var: impl Fn(&str) -> Option<String>) -> ProxyEnv {
    if var("REQUEST_METHOD").is_some() {
        return ProxyEnv::none();
    }
    let first = |names: [&str; 2]| names.into_iter().find_map(&var);
    let http = first(["HTTP_PROXY", "http_proxy"])
        .filter(|v| !v.trim().is_empty())
        .or_else(|| first(["ALL_PROXY", "all_proxy"]))
        .filter(|v| is_plain_http(v))
        .and_then(|v| ProxySetting::parse(v.trim()).ok());
    // A list the core cannot read could send a host direct that the core takes for proxied
    // (and answer an origin's 407 with the proxy's credentials): no proxy then.
    let no_proxy = match first(["NO_PROXY", "no_proxy"]) {
        None => NoProxy::new(),
        Some(list) => match NoProxy::parse(&list) {
            Ok(list) => list,
            Err(_) => return ProxyEnv::none(),
        },
    };
    ProxyEnv::new(http, None, no_proxy)
}

/// `http://…` or no scheme at all (reqwest takes such a value as `http`).
fn is_plain_http(value: &str) -> bool {
    match value.trim().split_once("://") {
        Some((scheme, _)) => scheme.eq_ignore_ascii_case("http"),
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_fields_are_taken_off_and_the_first_is_read() {
        let mut headers = HeaderMap::new();
        // What reqwest makes of http://b%40b:p%3Aw@host/: user "b@b", password "p:w".
        headers.append(header::AUTHORIZATION, "Basic YkBiOnA6dw==".parse().unwrap());
        headers.append(header::AUTHORIZATION, "Bearer t0ken".parse().unwrap());
        headers.append(header::AUTHORIZATION, "basic bm90OnRoaXM=".parse().unwrap());
        let credentials = take_basic(&mut headers).unwrap();
        assert_eq!(credentials.username(), "b@b");
        let left: Vec<_> = headers.get_all(header::AUTHORIZATION).iter().collect();
        assert_eq!(left, ["Bearer t0ken"]);
    }

    #[test]
    fn a_basic_field_that_does_not_decode_is_dropped_all_the_same() {
        for field in ["Basic !!!", "Basic bm9jb2xvbg==", "Basic /w==", "Basic"] {
            let mut headers = HeaderMap::new();
            headers.insert(header::AUTHORIZATION, field.parse().unwrap());
            assert!(take_basic(&mut headers).is_none(), "{field}");
            assert!(headers.is_empty() || field == "Basic", "{field}");
        }
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            "Digest username=\"a\"".parse().unwrap(),
        );
        assert!(take_basic(&mut headers).is_none());
        assert_eq!(headers.len(), 1);
    }

    fn env(vars: &[(&str, &str)]) -> ProxyEnv {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect();
        reqwest_proxy_env(|name| vars.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()))
    }

    fn http_proxy(env: &ProxyEnv) -> Option<String> {
        env.http().map(|p| p.origin().to_string())
    }

    #[test]
    fn the_environment_is_read_as_reqwest_reads_it() {
        let both = env(&[
            ("HTTP_PROXY", "http://upper:1"),
            ("http_proxy", "http://lower:2"),
        ]);
        assert_eq!(http_proxy(&both).as_deref(), Some("http://upper:1"));
        let all = env(&[("all_proxy", "http://all:3")]);
        assert_eq!(http_proxy(&all).as_deref(), Some("http://all:3"));
        let bare = env(&[("http_proxy", "bare:4")]);
        assert_eq!(http_proxy(&bare).as_deref(), Some("http://bare:4"));
        let socks = env(&[("ALL_PROXY", "socks5://s:5")]);
        assert_eq!(http_proxy(&socks), None);
        let cgi = env(&[("REQUEST_METHOD", "GET"), ("HTTP_PROXY", "http://evil:6")]);
        assert_eq!(http_proxy(&cgi), None);
        let with_userinfo = env(&[("http_proxy", "http://bob:pw@p:7")]);
        let setting = with_userinfo.http().unwrap();
        assert_eq!(setting.credentials().unwrap().username(), "bob");
        assert!(!format!("{with_userinfo:?}").contains("pw"));
    }

    #[test]
    fn no_proxy_is_read_upper_case_first() {
        let env = env(&[
            ("http_proxy", "http://p:1"),
            ("NO_PROXY", "direct.example"),
            ("no_proxy", "other.example"),
        ]);
        assert!(env.no_proxy().matches("www.direct.example", 80));
        assert!(!env.no_proxy().matches("other.example", 80));
    }
}
