//! The agent's credentials per host and proxies from the environment: URL userinfo as
//! Digest credentials (ureq never sees it), a netrc file and a provider (each host its own
//! scope), proxies from a `ProxyEnv` with the proxy's credentials in its URL, `no_proxy`,
//! ureq's own proxy never used for plain `http`, a host name only the proxy knows, and
//! `max_time`. The lab's Squid with Digest proxy auth, from `http_proxy`, with the origin's
//! credentials from a netrc file, is the last test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use httpdigest::OriginRef;
use httpdigest::client::netrc::Netrc;
use httpdigest::client::{Credentials, Failure, ProxyEnv};
use httpdigest_tests::lab;
use httpdigest_tests::server::{PASSWORD, Seen, Spec, USER, statuses};
use httpdigest_ureq::DigestAgent;

/// An environment of these variables only.
fn env(vars: &[(&str, &str)]) -> ProxyEnv {
    let vars: Vec<(String, String)> = vars
        .iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect();
    ProxyEnv::from_vars(|name| vars.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()))
        .unwrap()
}

fn carries(request: &Seen, secret: &str) -> bool {
    request.uri.contains(secret) || request.headers.iter().any(|(_, v)| v.contains(secret))
}

/// A raw server on loopback answering every request with `response`; each request head
/// goes to the channel.
fn raw_server(response: &'static str) -> (String, mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let tx = tx.clone();
            thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut head = String::new();
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    head.push_str(&line);
                    if line == "\r\n" {
                        break;
                    }
                }
                let _ = tx.send(head);
                let _ = stream.write_all(response.as_bytes());
            });
        }
    });
    (address, rx)
}

fn body(mut response: http::Response<ureq::Body>) -> String {
    response.body_mut().read_to_string().unwrap()
}

// ---------------------------------------------------------------------------------------
// Credentials per origin and per host
// ---------------------------------------------------------------------------------------

/// ureq sends a URL's userinfo as Basic; through the agent it is the Digest credentials of
/// the URL's origin, and the request goes out without it.
#[test]
fn url_userinfo_is_the_origins_digest_credentials() {
    let server = Spec::new().start();
    let agent = DigestAgent::builder()
        .credentials_provider(|_: OriginRef<'_>| None)
        .no_env_proxies()
        .build()
        .unwrap();
    let url = server
        .url("/private")
        .replacen("http://", &format!("http://{USER}:{PASSWORD}@"), 1);
    let response = agent.get(url.as_str()).call().unwrap();
    assert_eq!(response.status(), 200);
    let seen = server.take_seen();
    assert_eq!(statuses(&seen), [401, 200]);
    for request in &seen {
        assert!(!carries(request, PASSWORD), "{request:?}");
        let authorization = request.header("authorization").unwrap_or_default();
        assert!(!authorization.starts_with("Basic"), "{authorization}");
    }
    assert_eq!(seen[1].user.as_deref(), Some(USER));
    // The next request to the origin, without userinfo, goes with the credentials at once.
    assert_eq!(
        agent.get(server.url("/private")).call().unwrap().status(),
        200
    );
    assert_eq!(statuses(&server.take_seen()), [200]);
}

/// A netrc file's entries per host: 127.0.0.1 has one, `localhost` (the same server,
/// another host) none: it gets nothing, and its challenge is not answered.
#[test]
fn netrc_entries_go_to_their_host_only() {
    let server = Spec::new().start();
    let netrc = Netrc::parse(&format!(
        "machine 127.0.0.1 login {USER} password {PASSWORD}\ndefault login {USER} password {PASSWORD}\n"
    ))
    .unwrap();
    let agent = DigestAgent::builder()
        .netrc(netrc)
        .no_env_proxies()
        .build()
        .unwrap();
    assert_eq!(
        agent.get(server.url("/private")).call().unwrap().status(),
        200
    );
    assert_eq!(statuses(&server.take_seen()), [401, 200]);

    // `localhost`: no machine entry, and the `default` entry is not used.
    let error = agent
        .get(server.url_as("localhost", "/private"))
        .call()
        .unwrap_err();
    assert_eq!(error.failure(), Some(&Failure::NoCredentials), "{error}");
    let seen = server.take_seen();
    assert_eq!(statuses(&seen), [401]);
    assert!(seen[0].header("authorization").is_none());
}

/// A provider per host, with the agent's own credentials for the first origin.
#[test]
fn a_provider_gives_each_host_its_own() {
    let a = Spec::new().start();
    let b = Spec::new().users([("bob", "b-pass")]).start();
    let b_port = b.port();
    let agent = DigestAgent::builder()
        .credentials(USER, PASSWORD)
        .credentials_provider(move |o: OriginRef<'_>| {
            (o.port == b_port).then(|| Credentials::new("bob", "b-pass"))
        })
        .no_env_proxies()
        .build()
        .unwrap();
    assert_eq!(agent.get(a.url("/private")).call().unwrap().status(), 200);
    assert_eq!(agent.get(b.url("/private")).call().unwrap().status(), 200);
    assert_eq!(a.take_seen()[1].user.as_deref(), Some(USER));
    let at_b = b.take_seen();
    assert_eq!(at_b[1].user.as_deref(), Some("bob"));
    assert!(!carries(&at_b[1], PASSWORD));
}

// ---------------------------------------------------------------------------------------
// Proxies
// ---------------------------------------------------------------------------------------

/// The environment's `http_proxy`, credentials in its URL: a proxy asking Digest (407)
/// gets them, and the URL's password is in no message.
#[test]
fn http_proxy_credentials_answer_the_proxys_digest() {
    let proxy = Spec::new().proxy().start();
    let proxy_url = proxy
        .origin()
        .replacen("http://", &format!("http://{USER}:{PASSWORD}@"), 1);
    let agent = DigestAgent::builder()
        .credentials_provider(|_: OriginRef<'_>| None)
        .proxy_env(env(&[("http_proxy", &proxy_url)]))
        .build()
        .unwrap();
    assert!(!format!("{agent:?}").contains(PASSWORD));
    let response = agent
        .get("http://only-the-proxy-knows.invalid/x")
        .call()
        .unwrap();
    assert_eq!(response.status(), 200);
    let seen = proxy.take_seen();
    assert_eq!(statuses(&seen), [407, 200]);
    assert_eq!(seen[1].uri, "http://only-the-proxy-knows.invalid/x");
    assert!(
        seen[1]
            .header("proxy-authorization")
            .unwrap()
            .starts_with("Digest")
    );
    assert_eq!(seen[1].user.as_deref(), Some(USER));
}

/// A name only the proxy can resolve is not looked up by the agent: the request reaches
/// the proxy in absolute form. (It failed with "failed to lookup address information".)
#[test]
fn a_name_only_the_proxy_knows_is_not_resolved() {
    let (proxy, heads) =
        raw_server("HTTP/1.1 200 OK\r\ncontent-length: 9\r\nconnection: close\r\n\r\nvia proxy");
    let agent = DigestAgent::builder()
        .credentials(USER, PASSWORD)
        .proxy(format!("http://{proxy}"))
        .no_env_proxies()
        .build()
        .unwrap();
    let response = agent
        .get("http://no-such-host.invalid:8080/p")
        .call()
        .unwrap();
    assert_eq!(body(response), "via proxy");
    let head = heads.recv().unwrap();
    assert!(
        head.starts_with("GET http://no-such-host.invalid:8080/p HTTP/1.1\r\n"),
        "{head}"
    );
}

/// `no_proxy` hosts go direct; the others through the proxy.
#[test]
fn no_proxy_hosts_go_direct() {
    let (proxy, proxy_heads) =
        raw_server("HTTP/1.1 200 OK\r\ncontent-length: 5\r\nconnection: close\r\n\r\nproxy");
    let (direct, direct_heads) =
        raw_server("HTTP/1.1 200 OK\r\ncontent-length: 6\r\nconnection: close\r\n\r\ndirect");
    let agent = DigestAgent::builder()
        .credentials(USER, PASSWORD)
        .proxy_env(env(&[
            ("HTTP_PROXY", &format!("http://{proxy}")),
            ("NO_PROXY", "127.0.0.1"),
        ]))
        .build()
        .unwrap();
    let response = agent.get(format!("http://{direct}/d")).call().unwrap();
    assert_eq!(body(response), "direct");
    assert!(
        direct_heads
            .recv()
            .unwrap()
            .starts_with("GET /d HTTP/1.1\r\n")
    );
    let response = agent.get("http://elsewhere.invalid/e").call().unwrap();
    assert_eq!(body(response), "proxy");
    assert!(
        proxy_heads
            .recv()
            .unwrap()
            .starts_with("GET http://elsewhere.invalid/e HTTP/1.1\r\n")
    );
    assert!(proxy_heads.try_recv().is_err());
}

/// ureq's own proxy setting (what it reads from the environment by default) is never used
/// for plain `http`: without a proxy of the agent's, the request goes direct, not through
/// a `CONNECT` tunnel where a Digest 407 could not be answered.
#[test]
fn ureqs_own_proxy_is_never_used_for_plain_http() {
    let (ureq_proxy, ureq_proxy_heads) = raw_server(
        "HTTP/1.1 407 Proxy Authentication Required\r\nproxy-authenticate: Digest realm=\"r\", nonce=\"n\"\r\ncontent-length: 0\r\n\r\n",
    );
    let server = Spec::new().start();
    let agent = DigestAgent::builder()
        .credentials(USER, PASSWORD)
        .no_env_proxies()
        .ureq_config(
            ureq::Agent::config_builder()
                .proxy(Some(
                    ureq::Proxy::new(&format!("http://{ureq_proxy}")).unwrap(),
                ))
                .build(),
        )
        .build()
        .unwrap();
    assert_eq!(
        agent.get(server.url("/private")).call().unwrap().status(),
        200
    );
    assert_eq!(statuses(&server.take_seen()), [401, 200]);
    assert!(ureq_proxy_heads.try_recv().is_err());
}

/// A proxy URL the agent cannot use: a typed error naming the variable, not the password.
#[test]
fn a_bad_proxy_variable_fails_the_build_without_its_password() {
    let bad = ProxyEnv::from_vars(|name| {
        (name == "http_proxy").then(|| "socks5://bob:pw-secret@127.0.0.1:1080".to_owned())
    })
    .unwrap_err();
    let text = format!("{bad} {bad:?}");
    assert!(
        text.contains("http_proxy") && !text.contains("pw-secret"),
        "{text}"
    );
    // A proxy URL with credentials: accepted, and not printed.
    let agent = DigestAgent::builder()
        .credentials(USER, PASSWORD)
        .proxy("http://bob:pw-secret@127.0.0.1:3128")
        .build()
        .unwrap();
    assert!(!format!("{agent:?}").contains("pw-secret"));
}

// ---------------------------------------------------------------------------------------
// Time
// ---------------------------------------------------------------------------------------

/// `max_time` bounds a request whose server never answers, and one whose body stalls.
#[test]
fn max_time_bounds_silence_and_stalled_bodies() {
    fn serve(listener: TcpListener, head_only: bool) {
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                thread::spawn(move || {
                    let mut buf = [0u8; 1024];
                    let _ = stream.read(&mut buf);
                    if head_only {
                        let _ =
                            stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nabc");
                    }
                    hold(stream);
                });
            }
        });
    }
    fn hold(mut stream: TcpStream) {
        let mut buf = [0u8; 64];
        while stream.read(&mut buf).is_ok_and(|n| n > 0) {}
    }
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let stalled = TcpListener::bind("127.0.0.1:0").unwrap();
    let (silent_addr, stalled_addr) = (silent.local_addr().unwrap(), stalled.local_addr().unwrap());
    serve(silent, false);
    serve(stalled, true);
    let agent = DigestAgent::builder()
        .credentials(USER, PASSWORD)
        .no_env_proxies()
        .max_time(Duration::from_millis(500))
        .build()
        .unwrap();
    let error = agent
        .get(format!("http://{silent_addr}/"))
        .call()
        .unwrap_err();
    assert!(
        matches!(error, httpdigest_ureq::Error::Ureq(ureq::Error::Timeout(_))),
        "{error:?}"
    );
    let mut response = agent.get(format!("http://{stalled_addr}/")).call().unwrap();
    let error = response.body_mut().read_to_string().unwrap_err();
    assert!(matches!(error, ureq::Error::Timeout(_)), "{error:?}");
}

// ---------------------------------------------------------------------------------------
// The lab
// ---------------------------------------------------------------------------------------

/// A download through the lab's Squid (Digest proxy auth, 407) named by `http_proxy` with
/// its credentials in the URL, from Apache (Digest, 401) with the credentials of a netrc
/// file.
#[test]
fn squid_from_http_proxy_and_apache_from_netrc() {
    let proxy = lab::SQUID.replacen(
        "http://",
        &format!("http://{}:{}@", lab::ALICE.name, lab::ALICE.password),
        1,
    );
    let netrc = Netrc::parse(&format!(
        "machine 127.0.0.1 login {} password {}\n",
        lab::ALICE.name,
        lab::ALICE.password
    ))
    .unwrap();
    let statuses = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let record = statuses.clone();
    let agent = DigestAgent::builder()
        .netrc(netrc)
        .proxy_env(env(&[("http_proxy", &proxy)]))
        .observer(move |event| {
            if let httpdigest_ureq::Event::Response { status, .. } = event {
                record.lock().unwrap().push(status.as_u16());
            }
        })
        .build()
        .unwrap();
    let response = agent
        .get(format!("{}/digest/", lab::APACHE))
        .call()
        .unwrap();
    assert_eq!(response.status(), 200);
    let seen = statuses.lock().unwrap().clone();
    assert!(seen.contains(&407) && seen.contains(&401), "{seen:?}");
    assert_eq!(seen.last(), Some(&200));
    // Both spaces are known now: one round trip.
    statuses.lock().unwrap().clear();
    assert_eq!(
        agent
            .get(format!("{}/digest/", lab::APACHE))
            .call()
            .unwrap()
            .status(),
        200
    );
    assert_eq!(*statuses.lock().unwrap(), [200]);
}
