//! Redirects followed by the middleware (the reqwest client under it built with
//! `redirect::Policy::none()`): each hop is a request of its own to the core, so a
//! same-origin hop gets credentials for its own `uri` and nonce count, and nothing derived
//! from the credentials goes to an origin out of scope.
//!
//! Against the project's test server (a Digest layer that checks `uri`), hand-made servers
//! on raw sockets (for 303 and 307, a `Location` with userinfo, the caller's own headers),
//! and the lab's Apache (`/digest` answers 301 to `/digest/`, mod_auth_digest checks `uri`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use bytes::Bytes;
use http::StatusCode;
use httpdigest::client::Failure;
use httpdigest_reqwest::{DigestAuthMiddleware, TooManyRedirects, auth_error};
use httpdigest_tests::drive::{Recorder, Wire};
use httpdigest_tests::headers::params;
use httpdigest_tests::server::{
    PASSWORD, Spec, USER, assert_challenged_once_without_credentials, redirect_to_another_origin,
    statuses,
};
use reqwest_middleware::{ClientBuilder, ClientWithMiddleware};
use support::{CHALLENGE, RawServer, respond};

mod support;

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// reqwest as the middleware needs it: no redirects of its own, no proxy from the
/// environment.
fn reqwest_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// `digest` over [`reqwest_client`], with a recorder inside (after) it: one entry per send.
fn client_with(digest: DigestAuthMiddleware) -> (ClientWithMiddleware, Wire) {
    let wire = Wire::default();
    let client = ClientBuilder::new(reqwest_client())
        .with(digest)
        .with(Recorder(wire.clone()))
        .build();
    (client, wire)
}

/// The middleware for [`USER`], routing as the reqwest client does (no proxy).
fn digest() -> DigestAuthMiddleware {
    DigestAuthMiddleware::builder()
        .credentials(USER, PASSWORD)
        .proxy_from_env(false)
        .build()
        .unwrap()
}

fn alice() -> (ClientWithMiddleware, Wire) {
    client_with(digest())
}

/// The method, path and `uri` parameter (if credentials went) of each send.
fn sends(wire: &Wire) -> Vec<(String, String, Option<String>)> {
    wire.take_all()
        .into_iter()
        .map(|e| {
            let path = reqwest::Url::parse(&e.uri).unwrap().path().to_owned();
            let uri = e.sent.map(|s| params(&s)["uri"].clone());
            (e.method, path, uri)
        })
        .collect()
}

fn send(method: &str, path: &str, uri: Option<&str>) -> (String, String, Option<String>) {
    (method.to_owned(), path.to_owned(), uri.map(str::to_owned))
}

fn failure(result: reqwest_middleware::Result<reqwest::Response>) -> (Failure, StatusCode) {
    let error = match result {
        Ok(response) => panic!("expected a Digest failure, got {}", response.status()),
        Err(error) => error,
    };
    let auth = auth_error(&error).unwrap_or_else(|| panic!("not an AuthError: {error:?}"));
    (auth.failure().clone(), auth.status())
}

// ---------------------------------------------------------------------------------------
// 1. Same origin: fresh credentials for each hop
// ---------------------------------------------------------------------------------------

/// Before, reqwest followed the 302 itself with the first URL's `Authorization`
/// (`uri="/start"`), and the server answered 400 (see `middleware.rs`,
/// `same_origin_redirect_replays_the_first_paths_credentials`). Now the hop is a request of
/// its own: `uri="/landing"`, the next nonce count, 200.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_same_origin_redirect_gets_fresh_credentials_for_its_own_uri() {
    let server = Spec::new().redirect("/start", "/landing").start();
    let (client, wire) = alice();

    let response = client.get(server.url("/start")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.url().path(), "/landing");
    assert_eq!(response.text().await.unwrap(), USER);
    assert_eq!(
        sends(&wire),
        [
            send("GET", "/start", None),
            send("GET", "/start", Some("/start")),
            send("GET", "/landing", Some("/landing")),
        ]
    );
    let seen = server.take_seen();
    assert_eq!(statuses(&seen), [401, 302, 200]);
    assert_eq!(seen[1].nc(), Some(1));
    let landing = seen[2].params();
    assert_eq!(
        (landing["uri"].as_str(), landing["nc"].as_str()),
        ("/landing", "00000002")
    );
    assert_ne!(seen[2].credentials, seen[1].credentials);

    // Known now: both hops go with credentials at once.
    let response = client.get(server.url("/start")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let seen = server.take_seen();
    assert_eq!(statuses(&seen), [302, 200]);
    assert_eq!((seen[0].nc(), seen[1].nc()), (Some(3), Some(4)));
    assert_eq!(seen[1].params()["uri"], "/landing");
}

/// `max_redirects(0)` follows nothing: the 302 is the caller's, as with reqwest's
/// `Policy::none()` alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_redirects_zero_hands_the_redirect_over() {
    let server = Spec::new().redirect("/start", "/landing").start();
    let (client, wire) = client_with(digest().max_redirects(0));
    let response = client.get(server.url("/start")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(response.headers()["location"], "/landing");
    assert_eq!(wire.take_all().len(), 2);
    assert_eq!(statuses(&server.take_seen()), [401, 302]);
}

/// A loop ends at the limit with `TooManyRedirects`, as reqwest's own policy does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_loop_ends_at_the_limit() {
    let server = Spec::new().redirect("/loop", "/loop").start();
    let (client, _) = client_with(digest().max_redirects(3));
    let error = client.get(server.url("/loop")).send().await.unwrap_err();
    let reqwest_middleware::Error::Middleware(inner) = &error else {
        panic!("{error:?}")
    };
    assert_eq!(
        inner
            .downcast_ref::<TooManyRedirects>()
            .map(TooManyRedirects::limit),
        Some(3),
        "{error:?}"
    );
    assert_eq!(error.to_string(), "too many redirects (more than 3)");
    // The challenge, then the first request and three hops, each answered 302.
    assert_eq!(statuses(&server.take_seen()), [401, 302, 302, 302, 302]);
}

// ---------------------------------------------------------------------------------------
// 2. Another origin: nothing derived from the credentials goes there
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cross_origin_redirect_sends_nothing_there_and_its_challenge_is_out_of_scope() {
    let (a, b, location) = redirect_to_another_origin();
    let (client, wire) = alice();

    let result = client.get(a.url("/start")).send().await;
    assert_eq!(
        failure(result),
        (Failure::OutOfScope, StatusCode::UNAUTHORIZED)
    );
    let sent = wire.take_all();
    assert_eq!(sent.len(), 3, "A twice, then B once: {sent:?}");
    assert_eq!(sent[2].uri, location);
    assert!(sent[2].sent.is_none());
    assert_eq!(statuses(&a.take_seen()), [401, 302]);
    assert_challenged_once_without_credentials(&b);

    // A is known: one send there, preemptive; B still gets nothing.
    let result = client.get(a.url("/start")).send().await;
    assert_eq!(
        failure(result),
        (Failure::OutOfScope, StatusCode::UNAUTHORIZED)
    );
    let at_a = a.take_seen();
    assert_eq!(statuses(&at_a), [302]);
    assert_eq!(at_a[0].nc(), Some(2));
    assert_challenged_once_without_credentials(&b);
}

/// The caller's own `Authorization`, `Proxy-Authorization` and cookies stay on their origin
/// (another header goes on); within the origin they go with the hop.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_callers_credentials_and_cookies_do_not_follow_to_another_origin() {
    let b = RawServer::start(|_| respond("200 OK", &[]));
    let to_b = b.url("localhost", "/x");
    let a = RawServer::start(move |r| match r.target.as_str() {
        "/start" => respond("302 Found", &["Location: /again".to_owned()]),
        _ => respond("307 Temporary Redirect", &[format!("Location: {to_b}")]),
    });
    let (client, _) = alice();
    let response = client
        .get(a.url("127.0.0.1", "/start"))
        .header("authorization", "Bearer t0ken")
        .header("proxy-authorization", "Basic cHJveHk6cHc=")
        .header("cookie", "session=s1")
        .header("x-trace", "42")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let at_a = a.take();
    assert_eq!(at_a.len(), 2);
    for r in &at_a {
        assert_eq!(r.header("authorization"), Some("Bearer t0ken"), "{r:?}");
        assert_eq!(r.header("cookie"), Some("session=s1"), "{r:?}");
    }
    let at_b = b.take();
    assert_eq!(at_b.len(), 1);
    let r = &at_b[0];
    assert_eq!(r.target, "/x");
    assert_eq!(r.header("x-trace"), Some("42"));
    for name in ["authorization", "proxy-authorization", "cookie"] {
        assert_eq!(r.header(name), None, "{name} went to B: {r:?}");
    }
    assert!(!r.text.contains("t0ken") && !r.text.contains("s1"), "{r:?}");
}

// ---------------------------------------------------------------------------------------
// 3. A Location with userinfo
// ---------------------------------------------------------------------------------------

/// `http://eve:pw@localhost:B/x`: the userinfo is dropped, not sent (as Basic or in the
/// request line) nor used as credentials; B's challenge is out of scope.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locations_userinfo_is_neither_sent_nor_used() {
    let b = RawServer::start(|_| respond("401 Unauthorized", &[CHALLENGE.to_owned()]));
    let location = b.url("eve:pw@localhost", "/x");
    let a = RawServer::start(move |_| respond("302 Found", &[format!("Location: {location}")]));
    let (client, wire) = alice();

    let result = client.get(a.url("127.0.0.1", "/start")).send().await;
    assert_eq!(
        failure(result),
        (Failure::OutOfScope, StatusCode::UNAUTHORIZED)
    );
    let at_b = b.take();
    assert_eq!(at_b.len(), 1, "{at_b:?}");
    assert_eq!(at_b[0].target, "/x");
    assert_eq!(at_b[0].header("authorization"), None);
    for secret in ["eve", "pw", "ZXZl"] {
        assert!(!at_b[0].text.contains(secret), "{secret}: {:?}", at_b[0]);
    }
    let sent = wire.take_all();
    assert!(sent.iter().all(|e| !e.uri.contains('@')), "{sent:?}");
}

/// Into the same origin, such a Location's hop is answered with the client's credentials,
/// never with the Location's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_same_origin_location_with_userinfo_gets_the_clients_credentials() {
    let server = Spec::new().start();
    server.redirect(
        "/start",
        &format!("http://eve:pw@127.0.0.1:{}/landing", server.port()),
    );
    let (client, _) = alice();
    let response = client.get(server.url("/start")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.url().as_str(), server.url("/landing"));
    let seen = server.take_seen();
    assert_eq!(statuses(&seen), [401, 302, 200]);
    let landing = seen[2].params();
    assert_eq!(
        (landing["username"].as_str(), landing["uri"].as_str()),
        (USER, "/landing")
    );
    assert!(
        seen.iter()
            .all(|s| s.leaks(&["eve", "pw@"]).iter().all(|l| !l.contains("eve")))
    );
}

// ---------------------------------------------------------------------------------------
// 4. Methods and bodies
// ---------------------------------------------------------------------------------------

/// 303 makes a POST a GET without body (and without its body's headers); 307 and 308 keep
/// the method and send the body again (the middleware's clone of the request).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn see_other_becomes_a_get_and_temporary_redirects_keep_method_and_body() {
    let server = RawServer::start(|r| match r.target.as_str() {
        "/form" => respond("303 See Other", &["Location: /result".to_owned()]),
        "/upload" => respond("307 Temporary Redirect", &["Location: /moved".to_owned()]),
        "/moved" => respond("308 Permanent Redirect", &["Location: /stored".to_owned()]),
        _ => respond("200 OK", &[]),
    });
    let (client, _) = alice();

    let response = client
        .post(server.url("127.0.0.1", "/form"))
        .header("content-type", "text/plain")
        .body("name=alice")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let seen = server.take();
    assert_eq!(
        seen.iter()
            .map(|r| (r.method.as_str(), r.target.as_str(), r.body.as_slice()))
            .collect::<Vec<_>>(),
        [
            ("POST", "/form", &b"name=alice"[..]),
            ("GET", "/result", b"")
        ]
    );
    assert_eq!(seen[1].header("content-type"), None);
    assert_eq!(seen[1].header("content-length"), None);

    let response = client
        .put(server.url("127.0.0.1", "/upload"))
        .header("content-type", "text/plain")
        .body("the data")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let seen = server.take();
    assert_eq!(seen.len(), 3);
    for (r, target) in seen.iter().zip(["/upload", "/moved", "/stored"]) {
        assert_eq!((r.method.as_str(), r.target.as_str()), ("PUT", target));
        assert_eq!(r.body, b"the data");
        assert_eq!(r.header("content-type"), Some("text/plain"));
    }
}

/// A streamed body went once and cannot go again: the 307 is handed over, as reqwest does
/// with such a body.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamed_body_is_not_sent_again_the_307_is_handed_over() {
    let server = RawServer::start(|r| match r.target.as_str() {
        "/upload" => respond("307 Temporary Redirect", &["Location: /moved".to_owned()]),
        _ => respond("200 OK", &[]),
    });
    let (client, _) = alice();
    let chunks: Vec<Result<Bytes, std::io::Error>> = vec![Ok(Bytes::from_static(b"streamed"))];
    let response = client
        .put(server.url("127.0.0.1", "/upload"))
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TEMPORARY_REDIRECT);
    let seen = server.take();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].target, "/upload");
}

// ---------------------------------------------------------------------------------------
// 5. The lab's Apache
// ---------------------------------------------------------------------------------------

/// Apache answers `/digest` with 301 to `/digest/` (mod_dir), which mod_auth_digest
/// protects and where it compares `uri` with the request-target. Followed by the middleware,
/// the challenge of `/digest/` is answered for `/digest/`: 200. Before, with reqwest
/// following itself (its default policy), the middleware took the 401 of `/digest/` for the
/// answer to `/digest`, answered it with `uri="/digest"`, and reqwest replayed that to
/// `/digest/`: 400.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the interop lab (tests/interop/start-all.sh)"]
async fn apache_directory_redirect_is_answered_for_the_uri_it_leads_to() {
    let apache = httpdigest_tests::lab::APACHE;
    let alice = httpdigest_tests::lab::ALICE;
    let digest = DigestAuthMiddleware::builder()
        .credentials(alice.name, alice.password)
        .proxy_from_env(false)
        .build()
        .unwrap();
    let (client, wire) = client_with(digest);
    let response = client.get(format!("{apache}/digest")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.url().as_str(), format!("{apache}/digest/"));
    assert_eq!(response.text().await.unwrap().trim(), "apache digest ok");
    assert_eq!(
        sends(&wire),
        [
            send("GET", "/digest", None),
            send("GET", "/digest/", None),
            send("GET", "/digest/", Some("/digest/")),
        ]
    );
    // Known now (Apache's domain is /digest/): the hop goes with credentials at once.
    let response = client.get(format!("{apache}/digest")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        sends(&wire),
        [
            send("GET", "/digest", None),
            send("GET", "/digest/", Some("/digest/"))
        ]
    );
}
