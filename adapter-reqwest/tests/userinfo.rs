//! A URL's userinfo is the Digest credentials of its origin, as curl takes it with
//! `--digest`: reqwest's `RequestBuilder` turns it into `Authorization: Basic` (in clear over
//! plain `http`) before any middleware runs; the middleware takes that field off, and the
//! credentials go as Digest, to that origin only. Seen on a raw socket (every byte the
//! client sent), on the project's server, and through the `get` example as a process
//! (with the lab's Squid as the proxy from `http_proxy`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use http::StatusCode;
use httpdigest::client::Failure;
use httpdigest_reqwest::{DigestAuthMiddleware, auth_error};
use httpdigest_tests::headers::params;
use httpdigest_tests::server::{Spec, statuses};
use reqwest_middleware::{ClientBuilder, ClientWithMiddleware};
use support::{CHALLENGE, RawServer, get_example as get, respond};

mod support;

/// `bob:hunter2` in base64, as a Basic field would carry it.
const BOB_BASIC: &str = "Ym9iOmh1bnRlcjI";

fn client(digest: DigestAuthMiddleware) -> ClientWithMiddleware {
    let http = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    ClientBuilder::new(http).with(digest).build()
}

/// Only URL userinfo: no credentials of the middleware's own.
fn userinfo_only() -> ClientWithMiddleware {
    client(
        DigestAuthMiddleware::builder()
            .proxy_from_env(false)
            .build()
            .unwrap(),
    )
}

/// A raw server that challenges a request without `Authorization` and accepts any other.
fn challenging() -> RawServer {
    RawServer::start(|r| match r.header("authorization") {
        None => respond("401 Unauthorized", &[CHALLENGE.to_owned()]),
        Some(_) => respond("200 OK", &[]),
    })
}

fn assert_no_secret(server: &RawServer) -> Vec<support::RawRequest> {
    let seen = server.take();
    for r in &seen {
        for secret in ["hunter2", BOB_BASIC, "Basic", "bob:", "@"] {
            assert!(
                !r.text.contains(secret),
                "{secret:?} on the wire: {}",
                r.text
            );
        }
    }
    seen
}

/// Before: `Authorization: Basic Ym9iOmh1bnRlcjI=` went out on the first send.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_urls_userinfo_goes_as_digest_and_never_as_basic() {
    let server = challenging();
    let client = userinfo_only();
    let response = client
        .get(server.url("bob:hunter2@127.0.0.1", "/cam?x=1"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.url().as_str(), server.url("127.0.0.1", "/cam?x=1"));
    let seen = assert_no_secret(&server);
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].header("authorization"), None);
    let answer = params(seen[1].header("authorization").unwrap());
    assert_eq!(
        (answer["username"].as_str(), answer["uri"].as_str()),
        ("bob", "/cam?x=1")
    );
    assert!(
        seen[1]
            .header("authorization")
            .unwrap()
            .starts_with("Digest ")
    );

    // Known now: the next request to the origin goes with Digest credentials at once, and
    // without userinfo it is still bob's origin.
    let response = client
        .get(server.url("127.0.0.1", "/other"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let seen = assert_no_secret(&server);
    assert_eq!(seen.len(), 1);
    assert_eq!(
        params(seen[0].header("authorization").unwrap())["nc"],
        "00000002"
    );
}

/// Percent-encoded userinfo is decoded (`%40` is `@`, `%3A` is `:`), and the project's
/// server, which checks the response, accepts it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn percent_encoded_userinfo_authenticates_at_the_projects_server() {
    let server = Spec::new().users([("bob@home", "pa:ss word")]).start();
    let url = server
        .url("/x")
        .replacen("http://", "http://bob%40home:pa%3Ass%20word@", 1);
    let response = userinfo_only().get(&url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.text().await.unwrap(), "bob@home");
    let seen = server.take_seen();
    assert_eq!(statuses(&seen), [401, 200]);
    for s in &seen {
        assert!(
            s.header("authorization")
                .is_none_or(|a| a.starts_with("Digest ")),
            "{s:?}"
        );
        assert!(
            s.leaks(&["pa:ss", "pa%3Ass"])
                .iter()
                .all(|l| l.starts_with("authorization: Digest"))
        );
    }
}

/// The userinfo's credentials belong to its origin: another origin's challenge gets
/// nothing, as a host without credentials.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn userinfo_credentials_go_to_their_origin_only() {
    let a = challenging();
    let b = challenging();
    let client = userinfo_only();
    let response = client
        .get(a.url("bob:hunter2@127.0.0.1", "/"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    a.take();
    let error = client
        .get(b.url("localhost", "/"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        auth_error(&error).map(|e| (e.failure().clone(), e.status())),
        Some((Failure::NoCredentials, StatusCode::UNAUTHORIZED))
    );
    let at_b = b.take();
    assert_eq!(at_b.len(), 1);
    assert_eq!(at_b[0].header("authorization"), None);
}

/// `RequestBuilder::basic_auth` is the same field: Digest credentials for the origin.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_auth_on_a_request_becomes_digest_credentials() {
    let server = challenging();
    let response = userinfo_only()
        .get(server.url("127.0.0.1", "/"))
        .basic_auth("bob", Some("hunter2"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let seen = assert_no_secret(&server);
    assert_eq!(seen.len(), 2);
    assert_eq!(
        params(seen[1].header("authorization").unwrap())["username"],
        "bob"
    );
}

/// The middleware's own credentials win in their scope over a URL's userinfo, as curl's
/// `-u` does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_middlewares_own_credentials_win_over_userinfo() {
    let server = challenging();
    let client = client(
        DigestAuthMiddleware::builder()
            .credentials("alice", "s3cret")
            .proxy_from_env(false)
            .build()
            .unwrap(),
    );
    let response = client
        .get(server.url("bob:hunter2@127.0.0.1", "/"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let seen = assert_no_secret(&server);
    assert_eq!(
        params(seen[1].header("authorization").unwrap())["username"],
        "alice"
    );
}

// ---------------------------------------------------------------------------------------
// The `get` example, as a process
// ---------------------------------------------------------------------------------------

/// `get http://bob:hunter2@host/`: Digest for bob, no Basic, and the URL it prints has no
/// userinfo.
#[test]
fn the_get_example_sends_userinfo_as_digest() {
    let server = challenging();
    let url = server.url("bob:hunter2@127.0.0.1", "/snap");
    let output = get(&[&url], &[]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.starts_with(&format!("{}: 200 OK", server.url("127.0.0.1", "/snap"))),
        "{stdout}"
    );
    assert!(!stdout.contains("hunter2") && !stderr.contains("hunter2"));
    let seen = assert_no_secret(&server);
    assert_eq!(seen.len(), 2);
    assert_eq!(
        params(seen[1].header("authorization").unwrap())["username"],
        "bob"
    );
}

/// `get --netrc-file`: credentials per host, each for its host alone.
#[test]
fn the_get_example_takes_credentials_per_host_from_a_netrc_file() {
    let server = challenging();
    let netrc = std::env::temp_dir().join(format!(
        "httpdigest-get-{}-{}.netrc",
        std::process::id(),
        server.port
    ));
    std::fs::write(&netrc, "machine 127.0.0.1 login carol password n3trc\n").unwrap();
    let netrc_arg = netrc.to_str().unwrap();
    let output = get(
        &["--netrc-file", netrc_arg, &server.url("127.0.0.1", "/a")],
        &[],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let seen = server.take();
    assert_eq!(seen.len(), 2);
    assert_eq!(
        params(seen[1].header("authorization").unwrap())["username"],
        "carol"
    );
    // localhost has no entry: nothing is sent there, and get fails.
    let output = get(
        &["--netrc-file", netrc_arg, &server.url("localhost", "/a")],
        &[],
    );
    std::fs::remove_file(&netrc).unwrap();
    assert!(!output.status.success());
    let seen = server.take();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].header("authorization"), None);
    assert!(!String::from_utf8_lossy(&output.stderr).contains("n3trc"));
}

/// `get` through the proxy of `http_proxy` (the lab's Squid, which asks for Digest), its
/// credentials in the proxy URL.
#[test]
#[ignore = "needs the interop lab (tests/interop/start-all.sh)"]
fn the_get_example_answers_the_environment_proxy() {
    let alice = httpdigest_tests::lab::ALICE;
    let proxy = httpdigest_tests::lab::SQUID.replacen(
        "http://",
        &format!("http://{}:{}@", alice.name, alice.password),
        1,
    );
    let output = get(
        &[httpdigest_tests::lab::SQUID_ORIGIN],
        &[("http_proxy", &proxy)],
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains(": 200 OK"), "{stdout}");
    assert!(!stdout.contains(alice.password) && !stderr.contains(alice.password));

    // Under no_proxy the origin is reached directly (it asks for nothing).
    let output = get(
        &[httpdigest_tests::lab::SQUID_ORIGIN],
        &[
            ("http_proxy", "http://127.0.0.1:9"),
            ("NO_PROXY", "127.0.0.1"),
        ],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
