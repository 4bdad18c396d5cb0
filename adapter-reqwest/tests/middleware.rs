//! `DigestAuthMiddleware` over reqwest against in-process `RequireDigestLayer` servers.
//!
//! Exchanges are counted by a middleware placed inside (after) the Digest middleware: it
//! sees every send the Digest middleware makes. Redirects reqwest follows happen below it
//! and are seen only by the servers.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::print_stderr
)]

mod support_reqwest;

use std::collections::HashSet;
use std::time::Duration;

use bytes::Bytes;
use http::{StatusCode, header};
use httpdigest::QopOptions;
use httpdigest::client::{ClientConfig, Failure};
use httpdigest_reqwest::{AuthError, DigestAuthMiddleware, NoDigest, auth_error};
use reqwest_middleware::ClientBuilder;
use reqwest_retry::RetryTransientMiddleware;
use reqwest_retry::policies::ExponentialBackoff;

use support_reqwest::{
    Counting, Exchanges, Logger, PASSWORD, Sent, Spec, TestServer, USER, alice, client_with, fnv,
    nc_of, params, reqwest_client, statuses,
};

/// The [`AuthError`] of a failed send (panics on success or on another error).
fn auth_failure(result: reqwest_middleware::Result<reqwest::Response>) -> (Failure, StatusCode) {
    let error = match result {
        Ok(response) => panic!("expected a Digest failure, got {}", response.status()),
        Err(error) => error,
    };
    let auth: &AuthError =
        auth_error(&error).unwrap_or_else(|| panic!("not an AuthError: {error:?}"));
    (auth.failure().clone(), auth.status())
}

/// A body of `len` bytes with some structure.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 251) as u8).collect()
}

/// `data` as a streamed body of 1000-byte chunks (not replayable: `try_clone` gives `None`).
fn streamed(data: &[u8]) -> reqwest::Body {
    let chunks: Vec<Result<Bytes, std::io::Error>> = data
        .chunks(1000)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    reqwest::Body::wrap_stream(futures_util::stream::iter(chunks))
}

fn header_str<'a>(response: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    response.headers().get(name).map(|v| v.to_str().unwrap())
}

// ---------------------------------------------------------------------------------------
// 1. 401 → 200, then one round trip per request
// ---------------------------------------------------------------------------------------

async fn one_round_trip_after_the_first(config: ClientConfig, mutual: bool) {
    let server = TestServer::start(Spec::new()).await;
    let (client, exchanges) = client_with(
        DigestAuthMiddleware::builder()
            .credentials(USER, PASSWORD)
            .client_config(config)
            .build()
            .unwrap(),
    );

    let response = client.get(server.url("/first")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    if mutual {
        let info = header_str(&response, "authentication-info").unwrap();
        assert!(info.contains("rspauth="), "{info}");
    }
    assert_eq!(response.text().await.unwrap(), USER);
    assert_eq!(exchanges.take(), 2);
    let seen = server.take_seen();
    assert_eq!(statuses(&seen), [401, 200]);
    assert!(seen[0].credentials.is_none());
    assert!(!seen[0].challenges.is_empty());
    assert_eq!(seen[1].nc(), Some(1));
    let first = params(seen[1].credentials.as_deref().unwrap());
    assert_eq!(first["uri"], "/first");
    assert_eq!(first["username"], USER);

    for nc in 2..=6u32 {
        let path = format!("/next/{nc}?q=x");
        let response = client.get(server.url(&path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        if mutual {
            assert!(
                header_str(&response, "authentication-info")
                    .unwrap()
                    .contains("rspauth=")
            );
        }
        assert_eq!(response.text().await.unwrap(), USER);
        assert_eq!(exchanges.take(), 1, "request with nc {nc}");
        let seen = server.take_seen();
        assert_eq!(statuses(&seen), [200]);
        let p = params(seen[0].credentials.as_deref().unwrap());
        assert_eq!(p["uri"], path);
        assert_eq!(p["nonce"], first["nonce"]);
        assert_eq!(nc_of(seen[0].credentials.as_deref().unwrap()), nc);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_request_takes_two_exchanges_then_one_each_with_increasing_nc() {
    one_round_trip_after_the_first(ClientConfig::default(), false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_auth_required_succeeds_with_rspauth_in_one_round_trip_per_request() {
    one_round_trip_after_the_first(
        ClientConfig::default().with_mutual_auth_required(true),
        true,
    )
    .await;
}

// ---------------------------------------------------------------------------------------
// 2. preemptive(false)
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_preemptive_reuse_every_request_takes_two_exchanges() {
    let server = TestServer::start(Spec::new()).await;
    let (client, exchanges) = client_with(
        DigestAuthMiddleware::builder()
            .credentials(USER, PASSWORD)
            .preemptive(false)
            .build()
            .unwrap(),
    );
    for i in 0..3 {
        let response = client
            .get(server.url(&format!("/p/{i}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.text().await.unwrap(), USER);
        assert_eq!(exchanges.take(), 2, "request {i}");
        let seen = server.take_seen();
        assert_eq!(statuses(&seen), [401, 200]);
        assert!(
            seen[0].credentials.is_none(),
            "request {i} went out with credentials"
        );
        assert!(seen[1].credentials.is_some());
    }
}

// ---------------------------------------------------------------------------------------
// 3. Concurrency with strict nonce counts
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_concurrent_requests_all_succeed_and_no_nonce_count_is_accepted_twice() {
    const N: usize = 64;
    let server = TestServer::start(Spec::new()).await;
    let (client, exchanges) = alice();

    let response = client.get(server.url("/warm-up")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(exchanges.take(), 2);

    let mut tasks = Vec::new();
    for i in 0..N {
        let client = client.clone();
        let url = server.url(&format!("/c/{i}"));
        tasks.push(tokio::spawn(async move {
            let response = client
                .get(url)
                .header("x-test-id", i.to_string())
                .send()
                .await?;
            let status = response.status();
            let body = response.text().await?;
            Ok::<_, reqwest_middleware::Error>((status, body))
        }));
    }
    for (i, task) in tasks.into_iter().enumerate() {
        let (status, body) = task
            .await
            .unwrap()
            .unwrap_or_else(|e| panic!("request {i}: {e:?}"));
        assert_eq!(
            (status, body.as_str()),
            (StatusCode::OK, USER),
            "request {i}"
        );
    }

    let total = exchanges.take();
    let per_id = exchanges.per_id();
    let seen = server.take_seen();
    let challenged = seen.iter().filter(|s| s.status == 401).count();
    eprintln!(
        "{N} concurrent requests: {total} exchanges ({} answered 401), at most {} sends for one request",
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
// 4. Bodies and auth-int
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_int_post_of_10_kib_reaches_the_handler_whole() {
    let server = TestServer::start(Spec::new().qop(QopOptions::AUTH_INT).auth_int(1 << 20)).await;
    let (client, exchanges) = alice();
    let body = pattern(10 * 1024);

    for (round, expected_exchanges) in [(1, 2), (2, 1)] {
        let response = client
            .post(server.url("/upload"))
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "round {round}");
        assert_eq!(header_str(&response, "x-body-len"), Some("10240"));
        let hash = fnv(&body);
        assert_eq!(header_str(&response, "x-body-fnv"), Some(hash.as_str()));
        assert_eq!(response.text().await.unwrap(), USER);
        assert_eq!(exchanges.take(), expected_exchanges, "round {round}");
        let seen = server.take_seen();
        let last = seen.last().unwrap();
        assert_eq!((last.method.as_str(), last.status), ("POST", 200));
        let p = params(last.credentials.as_deref().unwrap());
        assert_eq!(p["qop"], "auth-int");
        assert_eq!(nc_of(last.credentials.as_deref().unwrap()), round);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_int_is_used_when_preferred_and_both_qops_are_offered() {
    let body = pattern(3000);
    for (preferred, qop) in [(true, "auth-int"), (false, "auth")] {
        let server = TestServer::start(Spec::new().qop(QopOptions::BOTH).auth_int(1 << 20)).await;
        let (client, exchanges) = client_with(
            DigestAuthMiddleware::builder()
                .credentials(USER, PASSWORD)
                .client_config(ClientConfig::default().with_auth_int_preferred(preferred))
                .build()
                .unwrap(),
        );
        let response = client
            .post(server.url("/both"))
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(header_str(&response, "x-body-len"), Some("3000"));
        assert_eq!(exchanges.take(), 2);
        let seen = server.take_seen();
        assert_eq!(statuses(&seen), [401, 200]);
        assert_eq!(
            params(seen[1].credentials.as_deref().unwrap())["qop"],
            qop,
            "preferred {preferred}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// 5. Streamed bodies
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streamed_body_to_an_unknown_space_fails_then_goes_out_with_credentials() {
    let server = TestServer::start(Spec::new()).await;
    let (client, exchanges) = alice();
    let data = pattern(5000);

    let result = client
        .post(server.url("/stream"))
        .body(streamed(&data))
        .send()
        .await;
    assert_eq!(
        auth_failure(result),
        (Failure::BodyNotReplayable, StatusCode::UNAUTHORIZED)
    );
    assert_eq!(exchanges.take(), 1);
    let seen = server.take_seen();
    assert_eq!(statuses(&seen), [401]);
    assert!(seen[0].credentials.is_none());

    // The challenge was remembered: the GET goes out with credentials at once.
    let response = client.get(server.url("/learn")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let get_exchanges = exchanges.take();
    let seen = server.take_seen();
    assert!(seen.last().unwrap().credentials.is_some());
    assert_eq!(get_exchanges, 1, "GET after the refused stream: {seen:?}");

    // The space is known: a streamed POST goes once, with credentials, and succeeds.
    let response = client
        .post(server.url("/stream"))
        .body(streamed(&data))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header_str(&response, "x-body-len"), Some("5000"));
    let hash = fnv(&data);
    assert_eq!(header_str(&response, "x-body-fnv"), Some(hash.as_str()));
    assert_eq!(exchanges.take(), 1);
    let seen = server.take_seen();
    assert_eq!(statuses(&seen), [200]);
    assert_eq!(seen[0].method, "POST");
    assert!(seen[0].credentials.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streamed_body_to_an_auth_int_only_space_cannot_be_hashed() {
    let server = TestServer::start(Spec::new().qop(QopOptions::AUTH_INT).auth_int(1 << 20)).await;
    let (client, exchanges) = alice();
    // Learn the space with a replayable body.
    let response = client
        .post(server.url("/x"))
        .body(pattern(100))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(exchanges.take(), 2);
    server.take_seen();

    let result = client
        .post(server.url("/x"))
        .body(streamed(&pattern(100)))
        .send()
        .await;
    let (failure, status) = auth_failure(result);
    let seen = server.take_seen();
    eprintln!(
        "streamed body to an auth-int-only space: {failure:?}, {status}, server saw {seen:?}"
    );
    assert_eq!(failure, Failure::AuthIntNeedsReplayableBody);
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(exchanges.take(), 1);
    assert_eq!(statuses(&seen), [401]);
    assert!(
        seen[0].credentials.is_none(),
        "the stream cannot be hashed, so it goes without credentials: {seen:?}"
    );
}

// ---------------------------------------------------------------------------------------
// 6. Stale nonce
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_nonce_is_answered_once_after_stale_true() {
    let server = TestServer::start(Spec::new().nonce_lifetime(10)).await;
    let (client, exchanges) = alice();

    assert_eq!(
        client.get(server.url("/a")).send().await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(exchanges.take(), 2);
    let first = server.take_seen();
    let old_nonce = params(first[1].credentials.as_deref().unwrap())["nonce"].clone();

    server.advance(11);
    let response = client.get(server.url("/b")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.text().await.unwrap(), USER);
    assert_eq!(exchanges.take(), 2);
    let seen = server.take_seen();
    assert_eq!(statuses(&seen), [401, 200]);
    let stale = params(seen[0].credentials.as_deref().unwrap());
    assert_eq!(stale["nonce"], old_nonce);
    assert_eq!(stale["nc"], "00000002");
    assert!(
        seen[0]
            .challenges
            .iter()
            .all(|c| params(c).get("stale").map(String::as_str) == Some("true")),
        "{:?}",
        seen[0].challenges
    );
    let fresh = params(seen[1].credentials.as_deref().unwrap());
    assert_ne!(fresh["nonce"], old_nonce);
    assert_eq!(fresh["nc"], "00000001");

    // And the new nonce is reused.
    assert_eq!(
        client.get(server.url("/c")).send().await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(exchanges.take(), 1);
}

// ---------------------------------------------------------------------------------------
// 7. Wrong credentials
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_and_unknown_user_end_in_credentials_rejected_after_two_exchanges() {
    let server = TestServer::start(Spec::new()).await;
    for (user, password) in [(USER, "wrong"), ("mallory", PASSWORD)] {
        let (client, exchanges) = client_with(DigestAuthMiddleware::new(user, password));
        let result = client.get(server.url("/secret")).send().await;
        assert_eq!(
            auth_failure(result),
            (Failure::CredentialsRejected, StatusCode::UNAUTHORIZED),
            "{user}:{password}"
        );
        assert_eq!(exchanges.take(), 2, "{user}:{password}");
        let seen = server.take_seen();
        assert_eq!(statuses(&seen), [401, 401]);
        assert!(seen[0].credentials.is_none());
        assert_eq!(
            params(seen[1].credentials.as_deref().unwrap())["username"],
            user
        );
        assert!(server.take_accepted().is_empty());
    }
}

// ---------------------------------------------------------------------------------------
// 8. Redirects (followed by reqwest, below the middleware)
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_origin_redirect_carries_no_credentials_and_is_out_of_scope() {
    let b = TestServer::start(Spec::new()).await;
    let b_url = format!("http://localhost:{}/x", b.addr.port());
    let a = TestServer::start(Spec::new().redirect("/start", b_url.clone())).await;
    let (client, exchanges) = alice();

    let result = client.get(a.url("/start")).send().await;
    let error = result.as_ref().err().map(|e| format!("{e:?}"));
    assert_eq!(
        auth_failure(result),
        (Failure::OutOfScope, StatusCode::UNAUTHORIZED),
        "{error:?}"
    );
    assert_eq!(
        exchanges.take(),
        2,
        "the middleware sent twice; reqwest followed to B"
    );
    let at_a = a.take_seen();
    assert_eq!(statuses(&at_a), [401, 302]);
    assert!(at_a[0].credentials.is_none());
    assert_eq!(at_a[1].nc(), Some(1));
    let at_b = b.take_seen();
    assert_eq!(statuses(&at_b), [401]);
    assert_eq!(at_b[0].uri, "/x");
    assert!(
        at_b.iter().all(|s| s.credentials.is_none()),
        "credentials leaked to B: {at_b:?}"
    );

    // A is known now: one send, A answers 302 at once, B's challenge is again not answered.
    let result = client.get(a.url("/start")).send().await;
    assert_eq!(
        auth_failure(result),
        (Failure::OutOfScope, StatusCode::UNAUTHORIZED)
    );
    assert_eq!(exchanges.take(), 1);
    let at_a = a.take_seen();
    assert_eq!(statuses(&at_a), [302]);
    assert_eq!(at_a[0].nc(), Some(2));
    let at_b = b.take_seen();
    assert_eq!(statuses(&at_b), [401]);
    assert!(
        at_b.iter().all(|s| s.credentials.is_none()),
        "credentials leaked to B: {at_b:?}"
    );
    assert!(b.take_accepted().is_empty());
}

/// reqwest keeps `Authorization` on a same-origin redirect, so the credentials computed for
/// `/start` (its `uri`, nonce and nc) are replayed to `/landing`. The layer refuses them:
/// the `uri` is not the request-target (400). The middleware only sees the final 400.
/// With `redirect::Policy::none()` the caller follows, and each hop is authenticated.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_origin_redirect_replays_the_first_paths_credentials() {
    // A relative Location: reqwest resolves it against A's URL (same origin).
    let a = TestServer::start(Spec::new().redirect("/start", "/landing")).await;
    let (client, exchanges) = alice();

    let result = client.get(a.url("/start")).send().await;
    let seen = a.take_seen();
    eprintln!(
        "same-origin redirect: result {:?}, server saw {:?}",
        result
            .as_ref()
            .map(reqwest::Response::status)
            .map_err(ToString::to_string),
        seen.iter()
            .map(|s| (
                s.uri.as_str(),
                s.status,
                s.credentials.as_deref().map(|c| params(c)["uri"].clone())
            ))
            .collect::<Vec<_>>()
    );
    let response = result.unwrap();
    assert_eq!(exchanges.take(), 2);
    // What happens: 401, 302 (credentials for /start), then /landing with the same
    // Authorization header (uri="/start") → 400 Bad Request, handed to the caller.
    assert_eq!(statuses(&seen), [401, 302, 400]);
    assert_eq!(seen[2].uri, "/landing");
    assert_eq!(
        seen[2].credentials, seen[1].credentials,
        "reqwest replayed the header"
    );
    assert_eq!(
        params(seen[2].credentials.as_deref().unwrap())["uri"],
        "/start"
    );
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(response.url().path(), "/landing");

    // The way around it: reqwest does not follow, the caller does (above the middleware),
    // and each hop is authenticated afresh, one exchange each.
    let exchanges = Exchanges::default();
    let client = ClientBuilder::new(
        reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
    )
    .with(DigestAuthMiddleware::new(USER, PASSWORD))
    .with(Counting(exchanges.clone()))
    .build();
    let response = client.get(a.url("/start")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(exchanges.take(), 2);
    let location = header_str(&response, "location").unwrap().to_owned();
    let next = response.url().join(&location).unwrap();
    let response = client.get(next).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.text().await.unwrap(), USER);
    assert_eq!(exchanges.take(), 1);
    let seen = a.take_seen();
    assert_eq!(statuses(&seen), [401, 302, 200]);
    let landing = params(seen[2].credentials.as_deref().unwrap());
    assert_eq!(
        (landing["uri"].as_str(), landing["nc"].as_str()),
        ("/landing", "00000002")
    );
}

// ---------------------------------------------------------------------------------------
// 9. reqwest-retry outside the Digest middleware
// ---------------------------------------------------------------------------------------

fn short_backoff(max_retries: u32) -> RetryTransientMiddleware<ExponentialBackoff> {
    RetryTransientMiddleware::new_with_policy(
        ExponentialBackoff::builder()
            .retry_bounds(Duration::from_millis(1), Duration::from_millis(20))
            .build_with_max_retries(max_retries),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retried_request_goes_out_authenticated_with_a_new_nc() {
    let server = TestServer::start(Spec::new().unavailable_first(1)).await;
    let exchanges = Exchanges::default();
    let client = ClientBuilder::new(reqwest_client())
        .with(short_backoff(2))
        .with(DigestAuthMiddleware::new(USER, PASSWORD))
        .with(Counting(exchanges.clone()))
        .build();

    let response = client.get(server.url("/flaky")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.text().await.unwrap(), USER);
    assert_eq!(exchanges.take(), 3);
    let seen: Vec<_> = server
        .take_seen()
        .iter()
        .map(|s| (s.status, s.credentials.is_some(), s.nc()))
        .collect();
    assert_eq!(
        seen,
        [
            (401, false, None),
            (503, true, Some(1)),
            (200, true, Some(2))
        ]
    );
}

/// reqwest-retry wraps every error of the chain below it (`RetryError`); `auth_error` still
/// finds the Digest failure, which is not retried.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_error_is_found_through_reqwest_retry() {
    let server = TestServer::start(Spec::new()).await;
    let exchanges = Exchanges::default();
    let client = ClientBuilder::new(reqwest_client())
        .with(short_backoff(2))
        .with(DigestAuthMiddleware::new(USER, "wrong"))
        .with(Counting(exchanges.clone()))
        .build();

    let error = client.get(server.url("/x")).send().await.unwrap_err();
    assert_eq!(
        exchanges.take(),
        2,
        "a Digest failure is not retried (fatal)"
    );
    let reqwest_middleware::Error::Middleware(outer) = &error else {
        panic!("{error:?}")
    };
    assert!(
        outer.downcast_ref::<reqwest_retry::RetryError>().is_some(),
        "{error:?}"
    );
    let auth = auth_error(&error).unwrap();
    assert_eq!(auth.failure(), &Failure::CredentialsRejected);
    assert_eq!(auth.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        format!("{error:#}"),
        "digest authentication failed: 401 Unauthorized: the server rejected the credentials"
    );
}

// ---------------------------------------------------------------------------------------
// 10. A logging middleware after the Digest middleware
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logging_after_the_digest_middleware_sees_every_send() {
    let server = TestServer::start(Spec::new().nonce_lifetime(10).unavailable_first(1)).await;
    let logger = Logger::default();
    let client = ClientBuilder::new(reqwest_client())
        .with(short_backoff(2))
        .with(DigestAuthMiddleware::new(USER, PASSWORD))
        .with(logger.clone())
        .build();
    let sent = |path: &str, authorization: bool| Sent {
        method: "GET".into(),
        url: server.url(path),
        authorization,
        proxy_authorization: false,
    };

    // Unauthenticated first send, the answer to the challenge (503), reqwest-retry's retry.
    let response = client.get(server.url("/one")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        logger.take(),
        [sent("/one", false), sent("/one", true), sent("/one", true)]
    );
    assert_eq!(statuses(&server.take_seen()), [401, 503, 200]);

    // One send for a known space.
    let response = client.get(server.url("/two")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(logger.take(), [sent("/two", true)]);

    // The Digest middleware's own resend after stale=true.
    server.advance(11);
    let response = client.get(server.url("/three")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(logger.take(), [sent("/three", true), sent("/three", true)]);
    assert_eq!(statuses(&server.take_seen()), [200, 401, 200]);
}

// ---------------------------------------------------------------------------------------
// 11. Per-request opt-out
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_digest_extension_sends_without_credentials_and_passes_the_401_through() {
    let server = TestServer::start(Spec::new()).await;
    let (client, exchanges) = alice();
    assert_eq!(
        client.get(server.url("/a")).send().await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(exchanges.take(), 2);
    server.take_seen();

    let response = client
        .get(server.url("/a"))
        .with_extension(NoDigest)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(response.headers().contains_key(header::WWW_AUTHENTICATE));
    assert_eq!(exchanges.take(), 1);
    let seen = server.take_seen();
    assert_eq!(statuses(&seen), [401]);
    assert!(seen[0].credentials.is_none());

    // The space is still known to the client: nc goes on from 2.
    assert_eq!(
        client.get(server.url("/a")).send().await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(exchanges.take(), 1);
    assert_eq!(server.take_seen()[0].nc(), Some(2));
}

// ---------------------------------------------------------------------------------------
// 12. Forward proxy
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_407_is_answered_with_proxy_authorization_in_absolute_form() {
    let proxy = TestServer::start(Spec::new().proxy()).await;
    let proxy_uri = format!("http://{}", proxy.addr);
    let inner = reqwest::Client::builder()
        .proxy(reqwest::Proxy::http(&proxy_uri).unwrap())
        .build()
        .unwrap();
    let middleware = DigestAuthMiddleware::builder()
        .proxy(&proxy_uri)
        .proxy_credentials(USER, PASSWORD)
        .build()
        .unwrap();
    let exchanges = Exchanges::default();
    let logger = Logger::default();
    let client = ClientBuilder::new(inner)
        .with(middleware)
        .with(Counting(exchanges.clone()))
        .with(logger.clone())
        .build();

    let response = client
        .get("http://origin.test/path?q=1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers().contains_key("proxy-authentication-info"));
    assert_eq!(response.text().await.unwrap(), USER);
    assert_eq!(exchanges.take(), 2);
    let log = logger.take();
    assert_eq!(
        log.iter()
            .map(|s| s.proxy_authorization)
            .collect::<Vec<_>>(),
        [false, true]
    );
    assert!(log.iter().all(|s| !s.authorization));
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
    let response = client.get("http://origin.test/other").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(exchanges.take(), 1);
    let seen = proxy.take_seen();
    assert_eq!(statuses(&seen), [200]);
    assert_eq!(seen[0].uri, "http://origin.test/other");
    let answer = params(seen[0].credentials.as_deref().unwrap());
    assert_eq!(answer["uri"], "http://origin.test/other");
    assert_eq!(answer["nc"], "00000002");
}
