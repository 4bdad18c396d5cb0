//! What is the reqwest adapter's own: `DigestAuthMiddleware` in a reqwest-middleware chain,
//! with redirects reqwest follows below it, reqwest-retry above it, a logging middleware
//! after it, and the per-request `NoDigest` opt-out. The scenarios every adapter shares
//! (challenge and reuse, every algorithm, stale nonces, rejected credentials, `auth-int`,
//! streamed bodies, concurrency, proxies) are in the end-to-end suite,
//! `tests/e2e/conformance.rs`, which runs them through this adapter too.
//!
//! Exchanges are counted by the end-to-end suite's recording middleware placed inside
//! (after) the Digest middleware: it sees every send the Digest middleware makes. Redirects reqwest follows happen below it
//! and are seen only by the servers.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stderr
)]

use std::time::Duration;

use http::{StatusCode, header};
use httpdigest::client::Failure;
use httpdigest_reqwest::{AuthError, DigestAuthMiddleware, NoDigest, auth_error};
use httpdigest_tests::drive::{self, Recorder, Setup, Wire};
use httpdigest_tests::headers::params;
use httpdigest_tests::server::{
    PASSWORD, Spec, USER, assert_challenged_once_without_credentials, redirect_to_another_origin,
    statuses,
};
use reqwest_middleware::{ClientBuilder, ClientWithMiddleware};
use reqwest_retry::RetryTransientMiddleware;
use reqwest_retry::policies::ExponentialBackoff;

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

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

fn header_str<'a>(response: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    response.headers().get(name).map(|v| v.to_str().unwrap())
}

/// The middleware for `user` and `password`.
fn digest(user: &str, password: &str) -> DigestAuthMiddleware {
    drive::reqwest_middleware(&Setup::new(user, password))
}

/// The sends a [`Recorder`] inside (after) the Digest middleware saw: one per HTTP
/// exchange the middleware makes (redirects reqwest follows below it are not among them).
#[derive(Clone, Default)]
struct Exchanges(Wire);

impl Exchanges {
    /// Sends since the last call.
    fn take(&self) -> usize {
        self.0.take_all().len()
    }

    /// The recorder.
    fn recorder(&self) -> Recorder {
        Recorder(self.0.clone())
    }
}

/// A reqwest client that ignores proxy settings from the environment.
fn reqwest_client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

/// [`USER`] with the default policy, then a counter inside the middleware.
fn alice() -> (ClientWithMiddleware, Exchanges) {
    let exchanges = Exchanges::default();
    let client = ClientBuilder::new(reqwest_client())
        .with(digest(USER, PASSWORD))
        .with(exchanges.recorder())
        .build();
    (client, exchanges)
}

// ---------------------------------------------------------------------------------------
// 1. Redirects (followed by reqwest, below the middleware)
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_origin_redirect_carries_no_credentials_and_is_out_of_scope() {
    let (a, b, _) = redirect_to_another_origin();
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
    assert_challenged_once_without_credentials(&b);

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
    assert_challenged_once_without_credentials(&b);
}

/// reqwest keeps `Authorization` on a same-origin redirect, so the credentials computed for
/// `/start` (its `uri`, nonce and nc) are replayed to `/landing`. The layer refuses them:
/// the `uri` is not the request-target (400). The middleware only sees the final 400.
/// With `redirect::Policy::none()` the caller follows, and each hop is authenticated.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_origin_redirect_replays_the_first_paths_credentials() {
    // A relative Location: reqwest resolves it against A's URL (same origin).
    let a = Spec::new().redirect("/start", "/landing").start();
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
    .with(digest(USER, PASSWORD))
    .with(exchanges.recorder())
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
// 2. reqwest-retry outside the Digest middleware
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
    let server = Spec::new().unavailable_first(1).start();
    let exchanges = Exchanges::default();
    let client = ClientBuilder::new(reqwest_client())
        .with(short_backoff(2))
        .with(digest(USER, PASSWORD))
        .with(exchanges.recorder())
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
    let server = Spec::new().start();
    let exchanges = Exchanges::default();
    let client = ClientBuilder::new(reqwest_client())
        .with(short_backoff(2))
        .with(digest(USER, "wrong"))
        .with(exchanges.recorder())
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
// 3. A logging middleware after the Digest middleware
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logging_after_the_digest_middleware_sees_every_send() {
    let server = Spec::new().nonce_lifetime(10).unavailable_first(1).start();
    let logger = Wire::default();
    let client = ClientBuilder::new(reqwest_client())
        .with(short_backoff(2))
        .with(digest(USER, PASSWORD))
        .with(Recorder(logger.clone()))
        .build();
    let sent =
        |path: &str, authorization: bool| ("GET".to_owned(), server.url(path), authorization);
    let logged = || -> Vec<(String, String, bool)> {
        let sends = logger.take_all();
        sends
            .into_iter()
            .map(|e| (e.method, e.uri, e.sent.is_some()))
            .collect()
    };

    // Unauthenticated first send, the answer to the challenge (503), reqwest-retry's retry.
    let response = client.get(server.url("/one")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        logged(),
        [sent("/one", false), sent("/one", true), sent("/one", true)]
    );
    let seen = server.take_seen();
    assert_eq!(statuses(&seen), [401, 503, 200]);
    assert!(
        seen.iter()
            .all(|s| s.header("proxy-authorization").is_none())
    );

    // One send for a known space.
    let response = client.get(server.url("/two")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(logged(), [sent("/two", true)]);

    // The Digest middleware's own resend after stale=true.
    server.advance(11);
    let response = client.get(server.url("/three")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(logged(), [sent("/three", true), sent("/three", true)]);
    let seen = server.take_seen();
    assert_eq!(statuses(&seen), [200, 401, 200]);
    assert!(
        seen.iter()
            .all(|s| s.header("proxy-authorization").is_none())
    );
}

// ---------------------------------------------------------------------------------------
// 4. Per-request opt-out
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_digest_extension_sends_without_credentials_and_passes_the_401_through() {
    let server = Spec::new().start();
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
// auth-int: rspauth over the response body
// ---------------------------------------------------------------------------------------

mod signed_body {
    use super::{auth_failure, reqwest_client};
    use httpdigest::client::{Client, ClientConfig, Credentials, Failure};
    use httpdigest_reqwest::DigestAuthMiddleware;
    use httpdigest_tests::signed_body::{Delivery, PASSWORD, SignedBodyServer, USER};
    use reqwest_middleware::{ClientBuilder, ClientWithMiddleware};

    fn client(required: bool, limit: Option<usize>) -> ClientWithMiddleware {
        let core = Client::new(
            Credentials::new(USER, PASSWORD),
            ClientConfig::default().with_require_mutual_auth(required),
        );
        let digest = DigestAuthMiddleware::with_client(core);
        let digest = match limit {
            Some(limit) => digest.max_checked_response_body(limit),
            None => digest,
        };
        ClientBuilder::new(reqwest_client()).with(digest).build()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_body_that_matches_rspauth_comes_through_even_when_mutual_auth_is_required() {
        let server = SignedBodyServer::start(&b"the signed body"[..], Delivery::AsSigned);
        let client = client(true, None);
        let url = server.url("/upload?x=1");
        for exchanges in [vec![401, 200], vec![200]] {
            let response = client.post(&url).body("ping").send().await.unwrap();
            assert_eq!(response.status(), 200);
            // Rebuilt from the checked bytes, the response keeps its URL and headers.
            assert_eq!(response.url().as_str(), url);
            assert!(response.headers().contains_key("authentication-info"));
            assert_eq!(response.bytes().await.unwrap(), server.body());
            assert_eq!(server.take_statuses(), exchanges);
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_body_changed_on_the_way_fails_with_mutual_auth_failed() {
        let server = SignedBodyServer::start(&b"the signed body"[..], Delivery::Tampered);
        for required in [false, true] {
            let result = client(required, None)
                .post(server.url("/upload"))
                .body("ping")
                .send()
                .await;
            assert_eq!(
                auth_failure(result),
                (Failure::MutualAuthFailed, http::StatusCode::OK)
            );
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_body_past_the_limit_is_unchecked_or_fails_as_the_policy_says() {
        let body = b"a body longer than the limit".repeat(40);
        let server = SignedBodyServer::start(body.clone(), Delivery::Tampered);
        let url = server.url("/upload");
        // Not required: handed on unchecked, whole.
        let response = client(false, Some(100))
            .post(&url)
            .body("ping")
            .send()
            .await
            .unwrap();
        let mut tampered = body.clone();
        tampered[0] ^= 0x20;
        assert_eq!(response.bytes().await.unwrap(), tampered);
        // Required: not proven.
        let result = client(true, Some(100)).post(&url).body("ping").send().await;
        assert_eq!(
            auth_failure(result),
            (Failure::MutualAuthMissing, http::StatusCode::OK)
        );
    }
}
