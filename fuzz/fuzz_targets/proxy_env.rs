//! The parsers of the client's environment: URL userinfo (`split_userinfo`,
//! `strip_userinfo`), proxy URLs (`ProxySetting::parse`), `no_proxy` lists
//! (`NoProxy::parse`, `matches`) and the whole environment (`ProxyEnv::from_vars`).
//!
//! The input is lines: the first is a URL, the second a proxy URL, the third a `no_proxy`
//! list, the fourth a host and port (`host port`) to match against it.
#![no_main]

use std::borrow::Cow;

use httpdigest::client::{
    NoProxy, ProxyEnv, ProxySetting, has_userinfo, split_userinfo, strip_userinfo,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.split('\n');
    let url = lines.next().unwrap_or_default();
    let proxy = lines.next().unwrap_or_default();
    let list = lines.next().unwrap_or_default();
    let target = lines.next().unwrap_or_default();

    // Userinfo: what is stripped has none left, stripping twice changes nothing, and a URL
    // without any is handed back as it is.
    let stripped = strip_userinfo(url);
    assert!(!has_userinfo(&stripped), "userinfo left in {stripped:?}");
    assert_eq!(strip_userinfo(&stripped), stripped);
    if !has_userinfo(url) {
        assert!(matches!(stripped, Cow::Borrowed(_)));
    }
    if let Ok(split) = split_userinfo(url) {
        assert!(
            !has_userinfo(&split.uri),
            "userinfo left in {:?}",
            split.uri
        );
        if let Some(c) = &split.credentials {
            assert!(!c.username().is_empty());
            assert!(!c.username().chars().any(char::is_control));
        }
    }

    // Proxy URLs: an accepted one is http, and its credentials never show in Debug.
    if let Ok(setting) = ProxySetting::parse(proxy) {
        assert_eq!(setting.origin().scheme(), httpdigest::Scheme::Http);
        let debug = format!("{setting:?}");
        if setting.credentials().is_some() {
            assert!(debug.contains("<redacted>"), "{debug}");
        }
    }

    // no_proxy: a list that parses answers any host without panicking; `*` matches all.
    let (host, port) = target.rsplit_once(' ').unwrap_or((target, "80"));
    let port = port.parse().unwrap_or(80);
    if let Ok(no_proxy) = NoProxy::parse(list) {
        let matched = no_proxy.matches(host, port);
        if list.split(',').any(|e| e.trim() == "*") {
            assert!(matched);
        }
        if no_proxy.is_empty() {
            assert!(!matched);
        }
    }

    // The environment: errors name a variable, never its value.
    let vars = [
        ("http_proxy", proxy),
        ("https_proxy", url),
        ("no_proxy", list),
    ];
    match ProxyEnv::from_vars(|name| {
        vars.iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| (*v).to_owned())
    }) {
        Ok(env) => {
            let _ = format!("{env:?}");
        }
        Err(e) => {
            assert!(["http_proxy", "https_proxy", "no_proxy"].contains(&e.variable));
            let _ = e.to_string();
        }
    }
});
