#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! `https` through the lab's Squid, which asks for Digest proxy authentication: the hyper
//! adapter's `ProxyConnector` opens the `CONNECT` tunnel, answers Squid's 407, and hands the
//! tunnel to rustls (the lab's self-signed certificate as the only root; nothing skips
//! verification). Squid's access log counts the 407s.
//!
//! `INTEROP_SQUID` names another Squid started from the same lab scripts (default: the lab's,
//! `http://127.0.0.1:18084`); `INTEROP_RUN_DIR` its run directory, as for every lab test.

use std::error::Error as _;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};
use httpdigest::client::{Client as Core, Credentials, Failure};
use httpdigest_hyper::{ConnectError, DigestAuthLayer, DigestBody, ProxyConnector, TunnelInfo};
use httpdigest_tests::lab;
use hyper_util::client::legacy::{Client, connect::HttpConnector};
use hyper_util::rt::TokioExecutor;
use tower::{ServiceBuilder, ServiceExt};

/// The lab's tests of this file take turns: each counts the 407s Squid logs while it runs.
static SQUID: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn squid() -> String {
    std::env::var("INTEROP_SQUID").unwrap_or_else(|_| lab::SQUID.to_owned())
}

fn tls() -> rustls::ClientConfig {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let path = lab::https_certificate();
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (start the lab: tests/interop/start-all.sh)",
            path.display()
        )
    }) {
        roots.add(cert.unwrap()).unwrap();
    }
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth()
}

type Https = hyper_rustls::HttpsConnector<ProxyConnector<HttpConnector>>;

fn https(proxied: ProxyConnector<HttpConnector>) -> Https {
    hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls())
        .https_only()
        .enable_http1()
        .wrap_connector(proxied)
}

fn connector(password: &str) -> ProxyConnector<HttpConnector> {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    ProxyConnector::with_password(http, &squid(), lab::ALICE.name, password).unwrap()
}

/// A client that opens a new tunnel for every request (no pooled connection).
fn client<B>(connector: ProxyConnector<HttpConnector>) -> Client<Https, B>
where
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(0)
        .build(https(connector))
}

/// Squid's access log, from byte `from` on: the lines about CONNECTs to the https origin.
fn connect_lines(from: u64) -> Vec<String> {
    let path = std::path::Path::new(&lab::run_dir()).join("logs/squid-access.log");
    let log = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let port = lab::HTTPS_ORIGIN.rsplit(':').next().unwrap();
    String::from_utf8_lossy(&log[usize::try_from(from).unwrap().min(log.len())..])
        .lines()
        .filter(|l| l.contains(&format!("CONNECT 127.0.0.1:{port}")))
        .map(str::to_owned)
        .collect()
}

fn log_len() -> u64 {
    let path = std::path::Path::new(&lab::run_dir()).join("logs/squid-access.log");
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

/// Squid writes its access log line when a tunnel closes: the lines of the tunnels just
/// closed, once they are all there (bounded: a few seconds of polling).
async fn wait_for_lines(from: u64, count: usize) -> Vec<String> {
    for _ in 0..100 {
        let lines = connect_lines(from);
        if lines.len() >= count {
            return lines;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    connect_lines(from)
}

/// Two requests, two tunnels: the first CONNECT costs one 407, answered with Digest through
/// the core; the second goes with `Proxy-Authorization` at once. The origin answers 200 over
/// TLS verified against the lab's certificate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the interop lab: tests/interop/start-all.sh"]
async fn https_through_squid_answers_one_407_for_two_tunnels() {
    let _turn = SQUID.lock().await;
    let from = log_len();
    let client = client::<Empty<Bytes>>(connector(lab::ALICE.password));
    let uri: http::Uri = format!("{}/hello.txt", lab::HTTPS_ORIGIN).parse().unwrap();
    let mut infos = Vec::new();
    for _ in 0..2 {
        let response = client.get(uri.clone()).await.unwrap();
        assert_eq!(response.status(), 200);
        infos.push(*response.extensions().get::<TunnelInfo>().unwrap());
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(&body[..], b"https origin ok\n");
    }
    assert!(infos.iter().all(|i| i.tunnel), "{infos:?}");
    assert_eq!(infos[0].proxy_challenges, 1, "{infos:?}");
    // Squid keeps the connection after its 407 (keep-alive, a 3 KiB page with its length):
    // the page is drained and the answer goes on the same connection.
    assert_eq!(infos[0].connections, 1, "{infos:?}");
    assert_eq!(infos[1].proxy_challenges, 0, "{infos:?}");
    drop(client);
    // What Squid saw: one 407, two tunnels as alice.
    let lines = wait_for_lines(from, 3).await;
    let denied = lines
        .iter()
        .filter(|l| l.contains("TCP_DENIED/407"))
        .count();
    let tunnels = lines
        .iter()
        .filter(|l| l.contains("TCP_TUNNEL/200") && l.contains(" alice "))
        .count();
    assert_eq!((denied, tunnels), (1, 2), "{lines:#?}");
}

/// Through the tunnel, the origin's own Digest (Apache, `/digest/`) is the request layer's:
/// both 407 (connector) and 401 (layer) are answered, each by its side of the core.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the interop lab: tests/interop/start-all.sh"]
async fn digest_origin_inside_the_tunnel() {
    let _turn = SQUID.lock().await;
    let client = client::<DigestBody<Full<Bytes>>>(connector(lab::ALICE.password));
    let service = ServiceBuilder::new()
        .layer(DigestAuthLayer::new(lab::ALICE.name, lab::ALICE.password))
        .service(client);
    for _ in 0..2 {
        let request = http::Request::get(format!("{}/digest/", lab::HTTPS_ORIGIN))
            .body(Full::new(Bytes::new()))
            .unwrap();
        let response = service.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status(), 200);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(&body[..], b"https digest ok\n");
    }
}

/// The connector's error, under hyper-util's.
fn connect_error(error: &hyper_util::client::legacy::Error) -> &ConnectError {
    let mut source = error.source();
    while let Some(e) = source {
        if let Some(connect) = e.downcast_ref::<ConnectError>() {
            return connect;
        }
        source = e.source();
    }
    panic!("no ConnectError in {error:?}");
}

/// A wrong proxy password is the core's `CredentialsRejected`, after one answer; the error
/// says so without the password. A CONNECT to a port Squid does not tunnel to is refused
/// (403), not answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the interop lab: tests/interop/start-all.sh"]
async fn a_refusing_proxy_is_a_typed_error() {
    let _turn = SQUID.lock().await;
    let rejected = client::<Empty<Bytes>>(connector(lab::WRONG_PASSWORD));
    let uri: http::Uri = format!("{}/hello.txt", lab::HTTPS_ORIGIN).parse().unwrap();
    let error = rejected.get(uri).await.unwrap_err();
    let connect = connect_error(&error);
    assert!(
        matches!(
            connect,
            ConnectError::Auth { failure: Failure::CredentialsRejected, status } if *status == 407
        ),
        "{connect:?}"
    );
    for text in [
        format!("{connect}"),
        format!("{connect:?}"),
        format!("{error:?}"),
    ] {
        assert!(!text.contains(lab::WRONG_PASSWORD), "{text}");
    }

    // Squid lets CONNECT through to the https origin's port only.
    let other = client::<Empty<Bytes>>(connector(lab::ALICE.password));
    let error = other
        .get(format!("https://127.0.0.1:{}/", 18081).parse().unwrap())
        .await
        .unwrap_err();
    let connect = connect_error(&error);
    assert!(
        matches!(connect, ConnectError::Refused { status } if *status == 403),
        "{connect:?}"
    );
}

/// The connector over a core client built with origin credentials too (as the request
/// layer's would be): the tunnel opens with the proxy's credentials alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the interop lab: tests/interop/start-all.sh"]
async fn a_core_client_with_origin_credentials_too() {
    let _turn = SQUID.lock().await;
    let core = Core::builder()
        .credentials(Credentials::new("origin-user", "origin-password"))
        .proxy(squid())
        .proxy_credentials(Credentials::new(lab::ALICE.name, lab::ALICE.password))
        .build()
        .unwrap();
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    let client = client::<Empty<Bytes>>(ProxyConnector::new(http, core).unwrap());
    let response = client
        .get(format!("{}/hello.txt", lab::HTTPS_ORIGIN).parse().unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

/// The wiring a program gets from its environment: `https_proxy` with the proxy's
/// credentials in its URL (the connector answers Squid's 407 with them), and the origin's
/// credentials in the request URI's userinfo (the layer takes them off and answers Apache's
/// 401 with Digest). Variables come from a closure, as `ProxyEnv::from_env` reads them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the interop lab: tests/interop/start-all.sh"]
async fn https_proxy_and_userinfo_from_the_environment() {
    let _turn = SQUID.lock().await;
    let proxy = squid().replacen(
        "http://",
        &format!("http://{}:{}@", lab::ALICE.name, lab::ALICE.password),
        1,
    );
    let env = httpdigest::client::ProxyEnv::from_vars(|name| {
        (name == "https_proxy").then(|| proxy.clone())
    })
    .unwrap();
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    let connector =
        ProxyConnector::with_env(http, &env, httpdigest::client::ClientConfig::default()).unwrap();
    let service = ServiceBuilder::new()
        .layer(DigestAuthLayer::userinfo_only().unwrap())
        .service(client::<DigestBody<Full<Bytes>>>(connector));
    let origin = lab::HTTPS_ORIGIN.replacen(
        "https://",
        &format!("https://{}:{}@", lab::ALICE.name, lab::ALICE.password),
        1,
    );
    let request = http::Request::get(format!("{origin}/digest/"))
        .body(Full::new(Bytes::new()))
        .unwrap();
    let response = service.oneshot(request).await.unwrap();
    assert_eq!(response.status(), 200);
    let info = *response.extensions().get::<TunnelInfo>().unwrap();
    assert!(info.tunnel, "{info:?}");
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&body[..], b"https digest ok\n");
}
