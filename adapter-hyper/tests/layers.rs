//! The client layer (`DigestAuthLayer` over hyper-util's client) against the server layer
//! (`RequireDigestLayer` served by hyper, or by axum), in-process. Every test checks what
//! went over the wire: the exchanges the client made (counted below the client layer) and
//! the requests and answers the server recorded (in front of its layer, and behind it).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::print_stderr
)]

mod support_hyper;

use std::collections::HashSet;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{HeaderMap, Request, Response, StatusCode, header};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use httpdigest::client::{ClientConfig, Failure};
use httpdigest::server::{Authenticated, Verifier, VerifierConfig};
use httpdigest::{Algorithm, QopOptions};
use httpdigest_hyper::{DigestAuth, DigestAuthLayer, Error, RequireDigestLayer};
use hyper::body::Incoming;
use support_hyper::{
    Counting, Exchanges, Hyper, PASSWORD, ProxyConnector, REALM, Seen, Spec, TestServer, USER,
    counting_client, counting_over, fnv, key, params, plain_client, test_clock, users,
};
use tower::{Service, ServiceBuilder, ServiceExt};
use tower_http::follow_redirect::FollowRedirectLayer;

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

type ClientError = Error<hyper_util::client::legacy::Error>;
type Svc<B = Full<Bytes>> = DigestAuth<Counting<Hyper<B>>>;

/// A response read to the end.
#[derive(Debug)]
struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }
}

/// Sends `request` through a clone of `service` and reads the whole answer.
async fn send<S, B>(service: &S, request: Request<B>) -> Result<Reply, ClientError>
where
    S: Service<Request<B>, Response = Response<Incoming>, Error = ClientError> + Clone,
{
    let response = service.clone().oneshot(request).await?;
    let (parts, body) = response.into_parts();
    let body = body.collect().await.unwrap().to_bytes();
    Ok(Reply {
        status: parts.status,
        headers: parts.headers,
        body: String::from_utf8(body.to_vec()).unwrap(),
    })
}

fn get(url: &str) -> Request<Full<Bytes>> {
    Request::get(url).body(Full::new(Bytes::new())).unwrap()
}

fn post(url: &str, body: impl Into<Bytes>) -> Request<Full<Bytes>> {
    Request::post(url).body(Full::new(body.into())).unwrap()
}

/// `layer` over a counting hyper-util client for `Full<Bytes>` bodies.
fn digest_client(layer: DigestAuthLayer) -> (Svc, Exchanges) {
    let (inner, exchanges) = counting_client::<Full<Bytes>>();
    (ServiceBuilder::new().layer(layer).service(inner), exchanges)
}

fn alice() -> (Svc, Exchanges) {
    digest_client(DigestAuthLayer::new(USER, PASSWORD))
}

fn statuses(seen: &[Seen]) -> Vec<u16> {
    seen.iter().map(|s| s.status).collect()
}

/// The Digest failure of a client error, or a panic saying what the error was.
fn auth_failure(error: &ClientError) -> (Failure, StatusCode) {
    match error {
        Error::Auth(e) => (e.failure().clone(), e.status()),
        other => panic!("expected Error::Auth, got {other:?}"),
    }
}

/// A payload of `len` bytes that is not all one value.
fn payload(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

// ---------------------------------------------------------------------------------------
// 1. Every algorithm x qop
// ---------------------------------------------------------------------------------------

/// One algorithm and qop: challenge then answer, then preemptive reuse; with mutual
/// authentication required too where our server sends `rspauth`.
async fn algorithm_case(algorithm: Algorithm, qop_name: &'static str, qop: QopOptions) {
    let auth_int = qop == QopOptions::AUTH_INT;
    let mut spec = Spec::new().algorithms([algorithm]).qop(qop);
    if auth_int {
        spec = spec.auth_int(1 << 20);
    }
    let server = TestServer::start(spec).await;
    let url = server.url("/resource?x=1");
    let body = format!("payload for {algorithm} {qop_name}");
    let request = || {
        if auth_int {
            post(&url, body.clone())
        } else {
            get(&url)
        }
    };
    let expected_len = if auth_int { body.len() } else { 0 };

    // -sess needs a cnonce, hence a qop: the verifier offers no such challenge (and the
    // client would refuse one), so the 401 has nothing to answer.
    if algorithm.is_session() && qop.is_empty() {
        let (client, exchanges) = alice();
        let error = send(&client, request()).await.unwrap_err();
        let (Failure::NoSupportedChallenge(why), status) = auth_failure(&error) else {
            panic!("expected NoSupportedChallenge, got {error:?}");
        };
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(why.digest_offered, 0, "{why:?}");
        assert_eq!(exchanges.take(), 1, "nothing to answer");
        assert_eq!(statuses(&server.take_seen()), [401]);
        return;
    }

    // auth-int has no rspauth from our server (it would cover the response body).
    let mutual_modes: &[bool] = if auth_int { &[false] } else { &[false, true] };
    for &mutual in mutual_modes {
        let (client, exchanges) = digest_client(
            DigestAuthLayer::builder()
                .credentials(USER, PASSWORD)
                .client_config(ClientConfig::default().with_mutual_auth_required(mutual))
                .build()
                .unwrap(),
        );
        for (round, expected_exchanges) in [(1u32, 2usize), (2, 1), (3, 1)] {
            let reply = send(&client, request())
                .await
                .unwrap_or_else(|e| panic!("round {round} (mutual {mutual}): {e:?}"));
            assert_eq!(reply.status, StatusCode::OK, "round {round}");
            assert_eq!(reply.body, USER);
            assert_eq!(
                reply.header("x-body-len"),
                Some(expected_len.to_string().as_str())
            );
            assert_eq!(
                exchanges.take(),
                expected_exchanges,
                "round {round} (mutual {mutual})"
            );
            let info = reply.header("authentication-info").unwrap_or_default();
            if auth_int {
                assert!(!info.contains("rspauth"), "{info}");
            } else {
                assert!(info.contains("rspauth="), "no rspauth: {info:?}");
            }

            let seen = server.take_seen();
            let accepted = server.take_accepted();
            assert_eq!(accepted.len(), 1, "round {round}");
            if round == 1 {
                assert_eq!(statuses(&seen), [401, 200]);
                assert_eq!(seen[0].credentials, None);
                assert_eq!(seen[0].challenges.len(), 1);
                assert!(
                    seen[0].challenges[0].contains(&format!("algorithm={algorithm}")),
                    "{}",
                    seen[0].challenges[0]
                );
            } else {
                assert_eq!(statuses(&seen), [200]);
            }
            let p = params(&accepted[0]);
            assert_eq!(p["username"], USER);
            assert_eq!(p["realm"], REALM);
            assert_eq!(p["uri"], "/resource?x=1");
            assert_eq!(p["algorithm"], algorithm.name());
            if qop.is_empty() {
                assert!(!p.contains_key("qop") && !p.contains_key("nc"), "{p:?}");
            } else {
                assert_eq!(p["qop"], qop_name);
                assert_eq!(p["nc"], format!("{round:08x}"));
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_algorithm_and_qop_authenticates_then_reuses_the_space() {
    let mut failures = Vec::new();
    let mut cases = 0;
    for algorithm in Algorithm::ALL {
        for (qop_name, qop) in [
            ("auth", QopOptions::AUTH),
            ("auth-int", QopOptions::AUTH_INT),
            ("none", QopOptions::NONE),
        ] {
            cases += 1;
            // Each case in its own task, so that one failure does not hide the others.
            if let Err(e) = tokio::spawn(algorithm_case(algorithm, qop_name, qop)).await {
                let message = e.into_panic();
                let message = message
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| message.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_default();
                failures.push(format!("{algorithm} qop={qop_name}: {message}"));
            }
        }
    }
    assert_eq!(cases, 30);
    assert!(
        failures.is_empty(),
        "failing cases:\n{}",
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------------------------
// 2. Preemptive reuse
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn known_space_takes_one_exchange_per_request_with_increasing_nonce_counts() {
    let server = TestServer::start(Spec::new()).await;
    let (client, exchanges) = alice();

    let reply = send(&client, get(&server.url("/a"))).await.unwrap();
    assert_eq!((reply.status, reply.body.as_str()), (StatusCode::OK, USER));
    assert_eq!(exchanges.take(), 2);
    for i in 0..6 {
        let reply = send(&client, get(&server.url(&format!("/a/{i}"))))
            .await
            .unwrap();
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(exchanges.take(), 1, "request {i}");
    }

    let seen = server.take_seen();
    assert_eq!(statuses(&seen), [401, 200, 200, 200, 200, 200, 200, 200]);
    assert!(seen[0].credentials.is_none());
    assert!(seen[1..].iter().all(|s| s.credentials.is_some()));
    let accepted: Vec<_> = server.take_accepted().iter().map(|a| params(a)).collect();
    let counts: Vec<&str> = accepted.iter().map(|p| p["nc"].as_str()).collect();
    assert_eq!(
        counts,
        [
            "00000001", "00000002", "00000003", "00000004", "00000005", "00000006", "00000007"
        ]
    );
    let nonces: HashSet<&str> = accepted.iter().map(|p| p["nonce"].as_str()).collect();
    assert_eq!(nonces.len(), 1, "one nonce throughout");
    let cnonces: HashSet<&str> = accepted.iter().map(|p| p["cnonce"].as_str()).collect();
    assert_eq!(cnonces.len(), 7, "a fresh cnonce each time");
}

// ---------------------------------------------------------------------------------------
// 3. Stale nonces
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn expired_nonce_is_answered_once_after_stale_true() {
    let server = TestServer::start(Spec::new().nonce_lifetime(10)).await;
    let (client, exchanges) = alice();

    assert_eq!(
        send(&client, get(&server.url("/s"))).await.unwrap().status,
        StatusCode::OK
    );
    assert_eq!(exchanges.take(), 2);
    let first = server.take_seen();
    let old_nonce = params(first[1].credentials.as_deref().unwrap())["nonce"].clone();
    server.take_accepted();

    server.advance(11);
    let reply = send(&client, get(&server.url("/s"))).await.unwrap();
    assert_eq!((reply.status, reply.body.as_str()), (StatusCode::OK, USER));
    assert_eq!(exchanges.take(), 2, "the stale answer and one retry");

    let seen = server.take_seen();
    assert_eq!(statuses(&seen), [401, 200]);
    let preemptive = params(seen[0].credentials.as_deref().unwrap());
    assert_eq!(preemptive["nonce"], old_nonce, "sent with the old nonce");
    assert!(
        seen[0].challenges.iter().all(|c| c.contains("stale=true")),
        "{:?}",
        seen[0].challenges
    );
    let retry = params(seen[1].credentials.as_deref().unwrap());
    assert_ne!(retry["nonce"], old_nonce);
    assert_eq!(retry["nc"], "00000001");
    assert_eq!(server.take_accepted().len(), 1);

    // And the new nonce is reused from then on.
    assert_eq!(
        send(&client, get(&server.url("/s"))).await.unwrap().status,
        StatusCode::OK
    );
    assert_eq!(exchanges.take(), 1);
}

// ---------------------------------------------------------------------------------------
// 4. Rejected credentials
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn wrong_password_and_unknown_user_end_in_credentials_rejected_after_two_exchanges() {
    let server = TestServer::start(Spec::new()).await;
    for (user, password) in [(USER, "wrong"), ("mallory", PASSWORD)] {
        let (client, exchanges) = digest_client(DigestAuthLayer::new(user, password));
        let error = send(&client, get(&server.url("/p"))).await.unwrap_err();
        let Error::Auth(auth) = &error else {
            panic!("expected Error::Auth for {user}, got {error:?}");
        };
        assert_eq!(auth.failure(), &Failure::CredentialsRejected, "{user}");
        assert_eq!(auth.status(), StatusCode::UNAUTHORIZED);
        assert!(auth.headers().contains_key(header::WWW_AUTHENTICATE));
        assert_eq!(exchanges.take(), 2, "{user}: one challenge, one answer");
        let seen = server.take_seen();
        assert_eq!(statuses(&seen), [401, 401]);
        assert!(seen[0].credentials.is_none());
        assert_eq!(
            params(seen[1].credentials.as_deref().unwrap())["username"],
            user
        );
        assert!(server.take_accepted().is_empty());

        // The rejected space is forgotten: the next request starts over (challenge, answer).
        let error = send(&client, get(&server.url("/p"))).await.unwrap_err();
        assert_eq!(
            auth_failure(&error),
            (Failure::CredentialsRejected, StatusCode::UNAUTHORIZED)
        );
        assert_eq!(exchanges.take(), 2);
        assert_eq!(statuses(&server.take_seen()), [401, 401]);
    }
}

// ---------------------------------------------------------------------------------------
// 5. Bodies: auth-int, and bodies too long to keep
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn auth_int_post_of_10_kib_reaches_the_handler_whole() {
    let server = TestServer::start(Spec::new().qop(QopOptions::AUTH_INT).auth_int(1 << 20)).await;
    let (client, exchanges) = alice();
    let data = payload(10 * 1024);

    for expected_exchanges in [2, 1] {
        let reply = send(&client, post(&server.url("/upload"), data.clone()))
            .await
            .unwrap();
        assert_eq!((reply.status, reply.body.as_str()), (StatusCode::OK, USER));
        assert_eq!(reply.header("x-body-len"), Some("10240"));
        assert_eq!(reply.header("x-body-fnv"), Some(fnv(&data).as_str()));
        assert_eq!(exchanges.take(), expected_exchanges);
        let accepted = server.take_accepted();
        assert_eq!(accepted.len(), 1);
        assert_eq!(params(&accepted[0])["qop"], "auth-int");
    }
    let seen = server.take_seen();
    assert_eq!(statuses(&seen), [401, 200, 200]);
    assert!(seen.iter().all(|s| s.method == "POST"));
}

type Boxed = BoxBody<Bytes, Infallible>;

/// A client for boxed bodies that keeps at most 16 bytes in memory. It pools connections:
/// the server layer leaves no refused body unread on a connection it keeps (see
/// `refusal_of_a_request_with_a_body_keeps_the_connection_usable_or_closes_it`).
fn small_buffer_client() -> (Svc<Boxed>, Exchanges) {
    let (inner, exchanges) = support_hyper::counting_client::<Boxed>();
    let layer = DigestAuthLayer::builder()
        .credentials(USER, PASSWORD)
        .max_buffered_body(16)
        .build()
        .unwrap();
    (ServiceBuilder::new().layer(layer).service(inner), exchanges)
}

/// 1000 bytes in 100-byte chunks, length unknown in advance.
fn streamed(data: &[u8]) -> Request<Boxed> {
    Request::post("http://placeholder/")
        .body(support_hyper::Chunks::new(data, 100).boxed())
        .unwrap()
}

fn with_url<B>(mut request: Request<B>, url: &str) -> Request<B> {
    *request.uri_mut() = url.parse().unwrap();
    request
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn streamed_body_to_an_unknown_space_is_not_replayed_and_the_space_is_learned() {
    let server = TestServer::start(Spec::new()).await;
    let (client, exchanges) = small_buffer_client();
    let data = payload(1000);
    let url = server.url("/stream");

    // Too long to keep: sent once, challenged, not sent again.
    let error = send(&client, with_url(streamed(&data), &url))
        .await
        .unwrap_err();
    assert_eq!(
        auth_failure(&error),
        (Failure::BodyNotReplayable, StatusCode::UNAUTHORIZED)
    );
    assert_eq!(exchanges.take(), 1);
    let seen = server.take_seen();
    assert_eq!(statuses(&seen), [401]);
    assert!(seen[0].credentials.is_none());

    // The challenge was learned: a small request goes out with credentials at once.
    let small = Request::post(&url)
        .body(Full::new(Bytes::from_static(b"tiny")).boxed())
        .unwrap();
    let reply = send(&client, small).await.unwrap();
    assert_eq!((reply.status, reply.body.as_str()), (StatusCode::OK, USER));
    assert_eq!(exchanges.take(), 1);

    // So does a long one now, streamed once (both ways of being too long: no size hint, and
    // a size hint past the limit).
    let reply = send(&client, with_url(streamed(&data), &url))
        .await
        .unwrap();
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("x-body-len"), Some("1000"));
    assert_eq!(reply.header("x-body-fnv"), Some(fnv(&data).as_str()));
    let sized = Request::post(&url)
        .body(Full::new(Bytes::from(data.clone())).boxed())
        .unwrap();
    let reply = send(&client, sized).await.unwrap();
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("x-body-fnv"), Some(fnv(&data).as_str()));
    assert_eq!(exchanges.take(), 2);
    assert_eq!(statuses(&server.take_seen()), [200, 200, 200]);
    assert_eq!(server.take_accepted().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn streamed_body_to_an_auth_int_only_space_cannot_be_hashed() {
    let server = TestServer::start(Spec::new().qop(QopOptions::AUTH_INT).auth_int(1 << 20)).await;
    let (client, exchanges) = small_buffer_client();
    let data = payload(1000);
    let url = server.url("/stream");

    // auth-int is all the server offers: the failure says the body must be replayable.
    let error = send(&client, with_url(streamed(&data), &url))
        .await
        .unwrap_err();
    assert_eq!(
        auth_failure(&error),
        (
            Failure::AuthIntNeedsReplayableBody,
            StatusCode::UNAUTHORIZED
        )
    );
    assert_eq!(exchanges.take(), 1);

    // A body small enough to keep is hashed and goes out with credentials at once.
    let small = Request::post(&url)
        .body(Full::new(Bytes::from_static(b"tiny")).boxed())
        .unwrap();
    let reply = send(&client, small).await.unwrap();
    assert_eq!((reply.status, reply.body.as_str()), (StatusCode::OK, USER));
    assert_eq!(reply.header("x-body-len"), Some("4"));
    assert_eq!(exchanges.take(), 1);
    assert_eq!(params(&server.take_accepted()[0])["qop"], "auth-int");

    // A long body still cannot be hashed: no credentials go with it, same failure.
    let error = send(&client, with_url(streamed(&data), &url))
        .await
        .unwrap_err();
    assert_eq!(
        auth_failure(&error),
        (
            Failure::AuthIntNeedsReplayableBody,
            StatusCode::UNAUTHORIZED
        )
    );
    assert_eq!(exchanges.take(), 1);
    let seen = server.take_seen();
    assert_eq!(statuses(&seen), [401, 200, 401]);
    assert!(seen[2].credentials.is_none());
}

// ---------------------------------------------------------------------------------------
// 6. Concurrency with strict nonce counts
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_concurrent_requests_all_succeed_and_no_nonce_count_is_accepted_twice() {
    const N: usize = 64;
    let server = TestServer::start(Spec::new()).await;
    let (client, exchanges) = alice();

    let reply = send(&client, get(&server.url("/warm-up"))).await.unwrap();
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(exchanges.take(), 2);

    let mut tasks = Vec::new();
    for i in 0..N {
        let client = client.clone();
        let url = server.url(&format!("/c/{i}"));
        tasks.push(tokio::spawn(async move {
            let request = Request::get(&url)
                .header("x-test-id", i.to_string())
                .body(Full::new(Bytes::new()))
                .unwrap();
            send(&client, request).await
        }));
    }
    let mut ok = 0;
    for (i, task) in tasks.into_iter().enumerate() {
        let reply = task
            .await
            .unwrap()
            .unwrap_or_else(|e| panic!("request {i}: {e:?}"));
        assert_eq!((reply.status, reply.body.as_str()), (StatusCode::OK, USER));
        ok += 1;
    }
    assert_eq!(ok, N);

    let total = exchanges.take();
    let per_id = exchanges.per_id();
    let seen = server.take_seen();
    let challenged = seen.iter().filter(|s| s.status == 401).count();
    eprintln!(
        "{N} concurrent requests: {total} exchanges ({} answered 401), \
         at most {} sends for one request",
        challenged - 1,
        per_id.values().max().copied().unwrap_or(0)
    );
    assert_eq!(per_id.len(), N);
    assert!(per_id.values().all(|&n| (1..=3).contains(&n)), "{per_id:?}");
    assert_eq!(total, per_id.values().sum::<usize>());
    // The server's record includes the warm-up (401, 200).
    assert_eq!(seen.len(), total + 2, "every send reached the server");
    assert_eq!(seen.len() - challenged, N + 1, "one 200 per request");

    // As the handler saw them: every accepted (nonce, nc) is new.
    let accepted = server.take_accepted();
    assert_eq!(accepted.len(), N + 1);
    let mut pairs = HashSet::new();
    for value in &accepted {
        let p = params(value);
        assert!(
            pairs.insert((p["nonce"].clone(), p["nc"].clone())),
            "(nonce, nc) accepted twice: {value}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// 7. Redirects
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redirects_are_the_callers_and_credentials_do_not_follow_them() {
    let b = TestServer::start(Spec::new()).await;
    let b_url = format!("http://localhost:{}/x", b.addr.port());
    let a = TestServer::start(Spec::new().redirect_to(b_url.clone())).await;

    // (a) No redirect layer: the 302 is the caller's.
    let (client, exchanges) = alice();
    let reply = send(&client, get(&a.url("/start"))).await.unwrap();
    assert_eq!(reply.status, StatusCode::FOUND);
    assert_eq!(reply.header("location"), Some(b_url.as_str()));
    assert_eq!(exchanges.take(), 2);
    assert_eq!(statuses(&a.take_seen()), [401, 302]);
    assert!(b.take_seen().is_empty());

    // (b) FollowRedirect outside the Digest layer: the hop to B is a new request, out of
    // the credentials' scope.
    let (inner, exchanges) = counting_client::<Full<Bytes>>();
    let following = ServiceBuilder::new()
        .layer(FollowRedirectLayer::new())
        .layer(DigestAuthLayer::new(USER, PASSWORD))
        .service(inner);
    let error = send(&following, get(&a.url("/start"))).await.unwrap_err();
    assert_eq!(
        auth_failure(&error),
        (Failure::OutOfScope, StatusCode::UNAUTHORIZED)
    );
    assert_eq!(exchanges.take(), 3, "A: 401, 302; B: 401");
    assert_eq!(statuses(&a.take_seen()), [401, 302]);
    let at_b = b.take_seen();
    assert_eq!(statuses(&at_b), [401]);
    assert_eq!(at_b[0].uri, "/x");
    assert!(
        at_b.iter().all(|s| s.credentials.is_none()),
        "credentials leaked to B: {at_b:?}"
    );
    assert!(b.take_accepted().is_empty());

    // A itself is still known to this client: one exchange to the redirect.
    let (inner, exchanges) = counting_client::<Full<Bytes>>();
    let shared = DigestAuthLayer::new(USER, PASSWORD);
    let plain = ServiceBuilder::new().layer(shared.clone()).service(inner);
    assert_eq!(
        send(&plain, get(&a.url("/start"))).await.unwrap().status,
        StatusCode::FOUND
    );
    assert_eq!(exchanges.take(), 2);
    assert_eq!(
        send(&plain, get(&a.url("/start"))).await.unwrap().status,
        StatusCode::FOUND
    );
    assert_eq!(exchanges.take(), 1);
}

// ---------------------------------------------------------------------------------------
// 8. axum
// ---------------------------------------------------------------------------------------

async fn me(axum::Extension(user): axum::Extension<Authenticated>) -> String {
    user.username
}

async fn upload(axum::Extension(user): axum::Extension<Authenticated>, body: Bytes) -> String {
    format!("{} {} {}", user.username, body.len(), fnv(&body))
}

/// Serves `router` on 127.0.0.1:0; returns the address.
async fn serve_axum(router: axum::Router) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn axum_route_behind_the_layer() {
    let (_clock, read_clock) = test_clock();
    let layer = RequireDigestLayer::new(Verifier::new(VerifierConfig::new(REALM), &key()), users())
        .clock(read_clock);
    let router = axum::Router::new()
        .route("/me", axum::routing::get(me))
        .layer(layer);
    let addr = serve_axum(router).await;
    let url = format!("http://{addr}/me");

    // Without credentials: 401 with the challenges (SHA-256, MD5).
    let response = plain_client().request(get(&url)).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let challenges: Vec<_> = response
        .headers()
        .get_all(header::WWW_AUTHENTICATE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    assert_eq!(challenges.len(), 2, "{challenges:?}");
    assert!(challenges[0].contains("algorithm=SHA-256"));

    let (client, exchanges) = alice();
    for expected in [2, 1] {
        let reply = send(&client, get(&url)).await.unwrap();
        assert_eq!((reply.status, reply.body.as_str()), (StatusCode::OK, USER));
        let info = reply.header("authentication-info").unwrap();
        assert!(info.contains("rspauth="), "{info}");
        assert_eq!(exchanges.take(), expected);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn axum_route_with_auth_int() {
    let (_clock, read_clock) = test_clock();
    let config = VerifierConfig::new(REALM).with_qop(QopOptions::BOTH);
    let layer = RequireDigestLayer::new(Verifier::new(config, &key()), users())
        .clock(read_clock)
        .with_auth_int(1 << 20);
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let log = Arc::clone(&seen);
    let router = axum::Router::new()
        .route("/upload", axum::routing::post(upload))
        .layer(layer)
        .layer(tower::util::MapRequestLayer::new(
            move |request: axum::extract::Request| {
                let value = request
                    .headers()
                    .get(header::AUTHORIZATION)
                    .map(|v| v.to_str().unwrap().to_owned());
                log.lock().unwrap().extend(value);
                request
            },
        ));
    let addr = serve_axum(router).await;
    let url = format!("http://{addr}/upload");

    let (client, exchanges) = digest_client(
        DigestAuthLayer::builder()
            .credentials(USER, PASSWORD)
            .client_config(ClientConfig::default().with_auth_int_preferred(true))
            .build()
            .unwrap(),
    );
    let data = payload(4096);
    for expected in [2, 1] {
        let reply = send(&client, post(&url, data.clone())).await.unwrap();
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.body, format!("{USER} 4096 {}", fnv(&data)));
        assert_eq!(exchanges.take(), expected);
    }
    let sent = std::mem::take(&mut *seen.lock().unwrap());
    assert_eq!(sent.len(), 2);
    assert!(
        sent.iter().all(|v| params(v)["qop"] == "auth-int"),
        "{sent:?}"
    );
}

// ---------------------------------------------------------------------------------------
// 9. What the server layer answers
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn server_answers_malformed_basic_and_one_challenge_per_algorithm() {
    let algorithms = [Algorithm::Sha512_256, Algorithm::Sha256, Algorithm::Md5];
    let server = TestServer::start(Spec::new().algorithms(algorithms)).await;
    let client = plain_client();
    let with_authorization = |value: &str| {
        Request::get(server.url("/h"))
            .header(header::AUTHORIZATION, value)
            .body(Full::new(Bytes::new()))
            .unwrap()
    };

    let malformed = client
        .request(with_authorization(r#"Digest realm="x", nonce="#))
        .await
        .unwrap();
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    assert!(!malformed.headers().contains_key(header::WWW_AUTHENTICATE));

    let basic = client
        .request(with_authorization("Basic YWxpY2U6czNjcmV0"))
        .await
        .unwrap();
    assert_eq!(basic.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        basic
            .headers()
            .get_all(header::WWW_AUTHENTICATE)
            .iter()
            .count(),
        3
    );

    let none = client.request(get(&server.url("/h"))).await.unwrap();
    assert_eq!(none.status(), StatusCode::UNAUTHORIZED);
    let challenges: Vec<_> = none
        .headers()
        .get_all(header::WWW_AUTHENTICATE)
        .iter()
        .map(|v| params(v.to_str().unwrap()))
        .collect();
    let named: Vec<&str> = challenges.iter().map(|p| p["algorithm"].as_str()).collect();
    assert_eq!(named, ["SHA-512-256", "SHA-256", "MD5"]);
    assert!(
        challenges
            .iter()
            .all(|p| p["realm"] == REALM && p["qop"] == "auth")
    );
    let nonces: HashSet<&str> = challenges.iter().map(|p| p["nonce"].as_str()).collect();
    assert_eq!(nonces.len(), 1, "one nonce shared by the challenges");

    assert_eq!(statuses(&server.take_seen()), [400, 401, 401]);
    assert!(server.take_accepted().is_empty());

    // The client picks the strongest.
    let (digest, _) = alice();
    assert_eq!(
        send(&digest, get(&server.url("/h"))).await.unwrap().status,
        StatusCode::OK
    );
    assert_eq!(
        params(&server.take_accepted()[0])["algorithm"],
        "SHA-512-256"
    );
}

// ---------------------------------------------------------------------------------------
// 10. Forward proxy
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn proxy_407_is_answered_with_proxy_authorization_in_absolute_form() {
    let proxy = TestServer::start(Spec::new().proxy()).await;

    // The layer as a proxy asks with 407 and Proxy-Authenticate.
    let response = plain_client()
        .request(get(&proxy.url("/direct")))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PROXY_AUTHENTICATION_REQUIRED);
    assert!(response.headers().contains_key(header::PROXY_AUTHENTICATE));
    assert!(!response.headers().contains_key(header::WWW_AUTHENTICATE));
    proxy.take_seen();

    let layer = DigestAuthLayer::builder()
        .proxy(format!("http://{}", proxy.addr))
        .proxy_credentials(USER, PASSWORD)
        .build()
        .unwrap();
    let (inner, exchanges) = counting_over::<Full<Bytes>, _>(ProxyConnector { proxy: proxy.addr });
    let client = ServiceBuilder::new().layer(layer).service(inner);

    let reply = send(&client, get("http://origin.test/path?q=1"))
        .await
        .unwrap();
    assert_eq!((reply.status, reply.body.as_str()), (StatusCode::OK, USER));
    assert!(reply.header("proxy-authentication-info").is_some());
    assert_eq!(exchanges.take(), 2);
    let seen = proxy.take_seen();
    assert_eq!(statuses(&seen), [407, 200]);
    assert!(
        seen.iter().all(|s| s.uri == "http://origin.test/path?q=1"),
        "{seen:?}"
    );
    assert!(seen[0].credentials.is_none());
    assert!(!seen[0].challenges.is_empty());
    let answer = params(seen[1].credentials.as_deref().unwrap());
    assert_eq!(answer["uri"], "http://origin.test/path?q=1");
    assert_eq!(answer["username"], USER);

    // Preemptive through the proxy too.
    let reply = send(&client, get("http://origin.test/other"))
        .await
        .unwrap();
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(exchanges.take(), 1);
    assert_eq!(params(&proxy.take_accepted()[1])["nc"], "00000002");
}

// ---------------------------------------------------------------------------------------
// 11. A refused request whose body has not arrived
// ---------------------------------------------------------------------------------------

/// Reads one response head (up to the blank line) from `stream`; `None` at EOF.
async fn read_head(stream: &mut tokio::net::TcpStream) -> Option<String> {
    use tokio::io::AsyncReadExt;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).await.ok()? == 0 {
            return None;
        }
        head.push(byte[0]);
    }
    Some(String::from_utf8(head).unwrap())
}

/// A refused request's body must not be left unread on a connection that stays open: a
/// pooling client (hyper-util) would send its next request into it and fail with
/// `IncompleteMessage`. A small body is read and dropped (the connection stays usable); a
/// large one, or one the client holds back until `100 Continue`, gets `Connection: close`.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn refusal_of_a_request_with_a_body_keeps_the_connection_usable_or_closes_it() {
    use tokio::io::AsyncWriteExt;
    let server = TestServer::start(Spec::new()).await;

    // Small body: read and dropped, and the next request on the connection is answered.
    let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let mut request =
        b"POST /upload HTTP/1.1\r\nhost: test\r\ncontent-length: 1000\r\n\r\n".to_vec();
    request.extend_from_slice(&payload(1000));
    request.extend_from_slice(b"GET /next HTTP/1.1\r\nhost: test\r\n\r\n");
    stream.write_all(&request).await.unwrap();
    let head = read_head(&mut stream).await.unwrap();
    assert!(head.starts_with("HTTP/1.1 401"), "{head}");
    assert!(
        !head.to_ascii_lowercase().contains("connection: close"),
        "{head}"
    );
    let next = read_head(&mut stream)
        .await
        .expect("the connection carries the next request");
    assert!(next.starts_with("HTTP/1.1 401"), "{next}");

    // A body larger than what is drained: the answer says the connection closes.
    let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let size = 200 * 1024;
    let mut request =
        format!("POST /upload HTTP/1.1\r\nhost: test\r\ncontent-length: {size}\r\n\r\n")
            .into_bytes();
    request.extend_from_slice(&payload(size));
    let _ = stream.write_all(&request).await;
    let head = read_head(&mut stream).await.unwrap();
    assert!(head.starts_with("HTTP/1.1 401"), "{head}");
    assert!(
        head.to_ascii_lowercase().contains("connection: close"),
        "{head}"
    );

    // `Expect: 100-continue`: the body is not asked for, and the connection closes.
    let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(b"POST /upload HTTP/1.1\r\nhost: test\r\ncontent-length: 1000\r\nexpect: 100-continue\r\n\r\n")
        .await
        .unwrap();
    let head = read_head(&mut stream).await.unwrap();
    assert!(head.starts_with("HTTP/1.1 401"), "{head}");
    assert!(
        head.to_ascii_lowercase().contains("connection: close"),
        "{head}"
    );
}
