#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! `ProxyConnector` against scripted proxies on loopback: the 407 answered (on the same
//! connection when the proxy keeps it, on a new one when it does not), the next tunnel
//! preemptive, and every bound: head size, timeout, drained body, closed and malformed
//! answers, refusals. The Digest proxy of the lab (Squid) is `tests/e2e/https_proxy.rs`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use httpdigest::client::{Client, Credentials, Failure};
use httpdigest_hyper::{ConnectError, ProxyConnector, ProxyStream, TunnelInfo};
use hyper_util::client::legacy::connect::{Connection, HttpConnector};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceExt;

const CHALLENGE: &str = "HTTP/1.1 407 Proxy Authentication Required\r\n\
    Proxy-Authenticate: Digest realm=\"proxy\", nonce=\"n1\", qop=\"auth\"\r\n";

/// What a scripted proxy answers to one request head on a connection: the bytes, and
/// whether it closes the connection after them.
type Script = dyn Fn(usize, &str) -> (Vec<u8>, bool) + Send + Sync;

/// A proxy on loopback that answers each request head (the n-th over all connections) by
/// `script`; the heads it got, in order, and the number of connections.
struct Proxy {
    addr: std::net::SocketAddr,
    heads: Arc<Mutex<Vec<String>>>,
    connections: Arc<Mutex<usize>>,
}

async fn proxy(script: Arc<Script>) -> Proxy {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let heads = Arc::new(Mutex::new(Vec::new()));
    let connections = Arc::new(Mutex::new(0));
    let (h, c) = (Arc::clone(&heads), Arc::clone(&connections));
    tokio::spawn(async move {
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            *c.lock().unwrap() += 1;
            let (script, heads) = (Arc::clone(&script), Arc::clone(&h));
            tokio::spawn(async move {
                let mut buf = Vec::new();
                loop {
                    let mut chunk = [0u8; 1024];
                    let n = match socket.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    buf.extend_from_slice(&chunk[..n]);
                    while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&buf[..end + 4]).into_owned();
                        buf.drain(..end + 4);
                        let index = {
                            let mut heads = heads.lock().unwrap();
                            heads.push(head.clone());
                            heads.len() - 1
                        };
                        let (answer, close) = script(index, &head);
                        if socket.write_all(&answer).await.is_err() {
                            return;
                        }
                        if close {
                            return;
                        }
                    }
                }
            });
        }
    });
    Proxy {
        addr,
        heads,
        connections,
    }
}

impl Proxy {
    fn uri(&self) -> String {
        format!("http://{}", self.addr)
    }
    fn heads(&self) -> Vec<String> {
        self.heads.lock().unwrap().clone()
    }
    fn connections(&self) -> usize {
        *self.connections.lock().unwrap()
    }
}

fn http() -> HttpConnector {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http
}

fn connector(proxy: &Proxy) -> ProxyConnector<HttpConnector> {
    ProxyConnector::with_password(http(), &proxy.uri(), "alice", "s3cret").unwrap()
}

async fn open(
    connector: &ProxyConnector<HttpConnector>,
    uri: &str,
) -> Result<ProxyStream<TokioIo<TcpStream>>, ConnectError> {
    connector.clone().oneshot(uri.parse().unwrap()).await
}

fn challenge(body: &str, extra: &str) -> Vec<u8> {
    format!(
        "{CHALLENGE}{extra}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// The proxy a good client meets: 407 to a CONNECT without credentials, 200 with them.
fn digest_proxy(extra: &'static str, body: &'static str) -> Arc<Script> {
    Arc::new(move |_, head: &str| {
        if head.contains("Proxy-Authorization: Digest ") {
            (
                b"HTTP/1.1 200 Connection established\r\n\r\ntunnel".to_vec(),
                false,
            )
        } else {
            (challenge(body, extra), extra.contains("close"))
        }
    })
}

#[tokio::test]
async fn the_407_is_answered_on_the_same_connection_and_the_next_tunnel_is_preemptive() {
    let proxy = proxy(digest_proxy("", "<html>407</html>")).await;
    let connector = connector(&proxy);
    let stream = open(&connector, "https://origin.test:8443/path")
        .await
        .unwrap();
    let info: TunnelInfo = stream.info();
    assert_eq!(
        (info.tunnel, info.proxy_challenges, info.connections),
        (true, 1, 1)
    );
    assert!(!stream.connected().is_proxied());
    // What the proxy sent past its head comes first through the tunnel.
    let mut io = TokioIo::new(stream);
    let mut first = [0u8; 6];
    io.read_exact(&mut first).await.unwrap();
    assert_eq!(&first, b"tunnel");

    let heads = proxy.heads();
    assert_eq!(heads.len(), 2, "{heads:#?}");
    assert!(
        heads[0].starts_with("CONNECT origin.test:8443 HTTP/1.1\r\nHost: origin.test:8443\r\n")
    );
    assert!(!heads[0].contains("Proxy-Authorization"));
    assert!(
        heads[1].contains("uri=\"origin.test:8443\""),
        "{}",
        heads[1]
    );
    assert!(heads[1].contains("nc=00000001"), "{}", heads[1]);
    assert_eq!(proxy.connections(), 1);

    // A clone shares what was learned: no 407 for the next tunnel.
    let stream = open(&connector.clone(), "https://origin.test:8443/")
        .await
        .unwrap();
    assert_eq!(stream.info().proxy_challenges, 0);
    let heads = proxy.heads();
    assert!(
        heads[2].contains("Proxy-Authorization: Digest "),
        "{}",
        heads[2]
    );
    assert!(heads[2].contains("nc=00000002"), "{}", heads[2]);
}

#[tokio::test]
async fn a_proxy_that_closes_after_its_407_gets_the_answer_on_a_new_connection() {
    let proxy = proxy(digest_proxy("Connection: close\r\n", "")).await;
    let stream = open(&connector(&proxy), "https://origin.test/")
        .await
        .unwrap();
    assert_eq!(
        (stream.info().proxy_challenges, stream.info().connections),
        (1, 2)
    );
    assert_eq!(proxy.connections(), 2);
    // The default port of https goes on the wire.
    assert!(proxy.heads()[0].starts_with("CONNECT origin.test:443 HTTP/1.1\r\n"));
}

#[tokio::test]
async fn a_407_body_past_the_drain_limit_is_not_read_the_answer_goes_on_a_new_connection() {
    let proxy = proxy(digest_proxy("", "0123456789abcdef")).await;
    let connector = connector(&proxy).max_drained_body(8);
    let stream = open(&connector, "https://origin.test/").await.unwrap();
    assert_eq!(stream.info().connections, 2);
}

#[tokio::test]
async fn rejected_credentials_are_a_typed_error_without_the_password() {
    // Always a fresh challenge: the credentials that answered it are not taken.
    let proxy = proxy(Arc::new(|_, _: &str| (challenge("", ""), false))).await;
    let error = open(&connector(&proxy), "https://origin.test/")
        .await
        .unwrap_err();
    assert!(
        matches!(&error, ConnectError::Auth { failure: Failure::CredentialsRejected, status } if *status == 407),
        "{error:?}"
    );
    assert_eq!(proxy.heads().len(), 2, "one answer, no more");
    for text in [error.to_string(), format!("{error:?}")] {
        assert!(!text.contains("s3cret"), "{text}");
    }
}

#[tokio::test]
async fn a_refusal_is_the_proxys_status() {
    let proxy = proxy(Arc::new(|_, _: &str| {
        (
            b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n".to_vec(),
            false,
        )
    }))
    .await;
    let error = open(&connector(&proxy), "https://origin.test/")
        .await
        .unwrap_err();
    assert!(
        matches!(error, ConnectError::Refused { status } if status == 403),
        "{error:?}"
    );
}

#[tokio::test]
async fn basic_is_not_answered_unless_the_policy_allows_it() {
    let basic = || -> Arc<Script> {
        Arc::new(|_, head: &str| {
            if head.contains("Proxy-Authorization: Basic ") {
                (b"HTTP/1.1 200 OK\r\n\r\n".to_vec(), false)
            } else {
                (
                    b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"p\"\r\nContent-Length: 0\r\n\r\n".to_vec(),
                    false,
                )
            }
        })
    };
    let refused = proxy(basic()).await;
    let error = open(&connector(&refused), "https://origin.test/")
        .await
        .unwrap_err();
    assert!(
        matches!(
            &error,
            ConnectError::Auth {
                failure: Failure::NoSupportedChallenge(_),
                ..
            }
        ),
        "{error:?}"
    );

    let allowed = proxy(basic()).await;
    let client = Client::builder()
        .proxy(allowed.uri())
        .proxy_credentials(Credentials::new("alice", "s3cret"))
        .configure(|c| c.with_basic(httpdigest::client::BasicPolicy::Always))
        .build()
        .unwrap();
    let connector = ProxyConnector::new(http(), client).unwrap();
    let stream = open(&connector, "https://origin.test/").await.unwrap();
    assert_eq!(stream.info().proxy_challenges, 1);
}

#[tokio::test]
async fn origin_credentials_of_the_core_client_never_go_on_a_connect() {
    let proxy = proxy(digest_proxy("", "")).await;
    let client = Client::builder()
        .credentials(Credentials::new("origin-user", "origin-password"))
        .proxy(proxy.uri())
        .proxy_credentials(Credentials::new("alice", "s3cret"))
        .build()
        .unwrap();
    let connector = ProxyConnector::new(http(), client).unwrap();
    for _ in 0..2 {
        open(&connector, "https://origin.test/").await.unwrap();
    }
    for head in proxy.heads() {
        assert!(!head.contains("\r\nAuthorization:"), "{head}");
        assert!(!head.contains("origin-user"), "{head}");
    }
}

#[tokio::test]
async fn a_response_head_past_the_limit_is_refused() {
    let proxy = proxy(Arc::new(|_, _: &str| {
        let mut answer = b"HTTP/1.1 200 OK\r\n".to_vec();
        answer.extend(std::iter::repeat_n(b'x', 4096));
        (answer, false)
    }))
    .await;
    let connector = connector(&proxy).max_response_head(1024);
    let error = open(&connector, "https://origin.test/").await.unwrap_err();
    assert!(
        matches!(error, ConnectError::HeadTooLarge { limit: 1024 }),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_proxy_that_does_not_answer_times_out() {
    let proxy = proxy(Arc::new(|_, _: &str| (Vec::new(), false))).await;
    let connector = connector(&proxy).response_timeout(Duration::from_millis(100));
    let error = open(&connector, "https://origin.test/").await.unwrap_err();
    assert!(matches!(error, ConnectError::Timeout(_)), "{error:?}");
}

#[tokio::test]
async fn a_proxy_that_closes_without_answering_or_answers_garbage() {
    let closing = proxy(Arc::new(|_, _: &str| (Vec::new(), true))).await;
    let error = open(&connector(&closing), "https://origin.test/")
        .await
        .unwrap_err();
    assert!(matches!(error, ConnectError::Closed), "{error:?}");

    let garbage = proxy(Arc::new(|_, _: &str| {
        (b"SSH-2.0-OpenSSH\r\n\r\n".to_vec(), false)
    }))
    .await;
    let error = open(&connector(&garbage), "https://origin.test/")
        .await
        .unwrap_err();
    assert!(matches!(error, ConnectError::Malformed(_)), "{error:?}");
}

#[tokio::test]
async fn plain_http_goes_to_the_proxy_in_absolute_form_and_bypassed_hosts_go_direct() {
    let proxy = proxy(digest_proxy("", "")).await;
    let stream = open(&connector(&proxy), "http://origin.test/")
        .await
        .unwrap();
    assert!(stream.connected().is_proxied());
    assert!(!stream.info().tunnel);
    assert!(proxy.heads().is_empty(), "no CONNECT for plain http");

    // A bypassed origin: straight there (here: the scripted server itself, as an origin).
    let origin = format!("https://{}/", proxy.addr);
    let direct = connector(&proxy).bypass(|uri| uri.host() == Some("127.0.0.1"));
    let stream = open(&direct, &origin).await.unwrap();
    assert!(!stream.info().tunnel && !stream.connected().is_proxied());
    assert!(proxy.heads().is_empty());
}

#[tokio::test]
async fn a_uri_without_host_is_a_typed_error() {
    let proxy = proxy(digest_proxy("", "")).await;
    let error = open(&connector(&proxy), "/relative").await.unwrap_err();
    assert!(matches!(error, ConnectError::BadUri(_)), "{error:?}");
}

#[test]
fn the_proxy_must_be_http_host_port() {
    for bad in [
        "https://proxy.test",
        "http://proxy.test/path",
        "socks5://proxy.test",
    ] {
        let error = ProxyConnector::with_password(http(), bad, "alice", "s3cret").unwrap_err();
        assert_eq!(error, httpdigest::client::BuildError::InvalidProxy, "{bad}");
    }
    let no_proxy = Client::with_password("alice", "s3cret");
    assert!(ProxyConnector::new(http(), no_proxy).is_err());
}

/// Tunnels opened at once by a connector that knows nothing yet: one learns the proxy's
/// challenge, the others wait for it and go with `Proxy-Authorization` at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_tunnels_cost_one_407() {
    let proxy = proxy(digest_proxy("", "")).await;
    let connector = connector(&proxy);
    let tunnels: Vec<_> = (0..4)
        .map(|_| {
            let connector = connector.clone();
            tokio::spawn(async move { open(&connector, "https://origin.test/").await })
        })
        .collect();
    let mut challenges = 0;
    for tunnel in tunnels {
        challenges += tunnel.await.unwrap().unwrap().info().proxy_challenges;
    }
    assert_eq!(challenges, 1);
    let denied = proxy
        .heads()
        .iter()
        .filter(|h| !h.contains("Proxy-Authorization"))
        .count();
    assert_eq!(denied, 1, "{:#?}", proxy.heads());
}

fn env(vars: &[(&str, String)]) -> httpdigest::client::ProxyEnv {
    let vars: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    httpdigest::client::ProxyEnv::from_vars(|name| {
        vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    })
    .unwrap()
}

fn with_env(env: &httpdigest::client::ProxyEnv) -> ProxyConnector<HttpConnector> {
    ProxyConnector::with_env(http(), env, httpdigest::client::ClientConfig::default()).unwrap()
}

/// `https_proxy` with credentials in its URL: the tunnel goes through it and its 407 is
/// answered with them (Digest); the connector's Debug does not show them.
#[tokio::test]
async fn https_proxy_from_the_environment_with_its_credentials() {
    let proxy = proxy(digest_proxy("", "")).await;
    let url = format!("http://alice:s%33cret@{}", proxy.addr);
    let connector = with_env(&env(&[("https_proxy", url)]));
    assert!(
        !format!("{connector:?}").contains("s3cret"),
        "{connector:?}"
    );
    let stream = open(&connector, "https://origin.test/").await.unwrap();
    assert_eq!(stream.info().proxy_challenges, 1);
    let heads = proxy.heads();
    assert!(
        heads[1].contains("Proxy-Authorization: Digest username=\"alice\""),
        "{}",
        heads[1]
    );
    // No http_proxy: plain http goes straight to the origin, not to the https proxy.
    let origin = format!("http://{}/", proxy.addr);
    let stream = open(&connector, &origin).await.unwrap();
    assert!(!stream.connected().is_proxied());
}

/// `no_proxy` sends its hosts straight to the origin; an empty environment sends everything
/// there; `http_proxy` takes plain http in absolute form.
#[tokio::test]
async fn no_proxy_and_http_proxy_from_the_environment() {
    let proxy = proxy(digest_proxy("", "")).await;
    let vars = [
        ("https_proxy", format!("http://alice:s3cret@{}", proxy.addr)),
        ("http_proxy", format!("http://{}", proxy.addr)),
        ("no_proxy", "localhost,127.0.0.1".to_owned()),
    ];
    let connector = with_env(&env(&vars));
    let stream = open(&connector, &format!("https://{}/", proxy.addr))
        .await
        .unwrap();
    assert!(!stream.info().tunnel && !stream.connected().is_proxied());
    let stream = open(&connector, "http://origin.test/").await.unwrap();
    assert!(stream.connected().is_proxied());
    assert!(proxy.heads().is_empty(), "{:#?}", proxy.heads());

    let none = with_env(&httpdigest::client::ProxyEnv::none());
    let stream = open(&none, &format!("https://{}/", proxy.addr))
        .await
        .unwrap();
    assert!(!stream.info().tunnel);
    assert!(proxy.heads().is_empty());

    // A core client's own no_proxy list applies to the connector built over it.
    let client = Client::builder()
        .proxy(proxy.uri())
        .proxy_credentials(Credentials::new("alice", "s3cret"))
        .no_proxy(httpdigest::client::NoProxy::parse("127.0.0.1").unwrap())
        .build()
        .unwrap();
    let connector = ProxyConnector::new(http(), client).unwrap();
    let stream = open(&connector, &format!("https://{}/", proxy.addr))
        .await
        .unwrap();
    assert!(!stream.info().tunnel);
    assert!(proxy.heads().is_empty());
}

/// An `https_proxy` without credentials: its 407 cannot be answered, which the core says.
#[tokio::test]
async fn an_https_proxy_without_credentials_is_no_credentials() {
    let proxy = proxy(digest_proxy("", "")).await;
    let connector = with_env(&env(&[("https_proxy", proxy.uri())]));
    let error = open(&connector, "https://origin.test/").await.unwrap_err();
    assert!(
        matches!(
            &error,
            ConnectError::Auth {
                failure: Failure::NoCredentials,
                ..
            }
        ),
        "{error:?}"
    );
}
