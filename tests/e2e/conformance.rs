//! What every adapter does the same way, written once and run through each of them
//! ([`Adapter::ALL`], over [`drive::Driver`]) against the project's in-process Digest server
//! (`httpdigest_tests::server`): the first request is challenged and the next ones go
//! preemptively; every algorithm and qop; preemptive reuse turned off; a stale nonce is
//! answered once; a wrong password and an unknown user are rejected after two exchanges;
//! `auth-int` bodies; streamed bodies to an unknown space and to an `auth-int`-only one;
//! concurrent requests against strict nonce counts; a camera's 403 to a nonce it moved on
//! from; a forward proxy's 407.
//!
//! Every scenario checks what went over the wire twice: the exchanges the adapter made (as
//! the driver recorded them) and the requests the server recorded in front of its Digest
//! layer. What differs between adapters (redirects, ureq's statuses as errors, reqwest's
//! middleware chain, axum) is tested in each adapter's crate.
//!
//! Hermetic (no lab): part of every `cargo test`.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stderr
)]

use std::collections::{HashMap, HashSet};
use std::panic::{AssertUnwindSafe, catch_unwind};

use httpdigest::client::{ClientConfig, Failure};
use httpdigest::{Algorithm, QopOptions};
use httpdigest_tests::drive::{self, Adapter, Call, Driver, Exchange, Outcome, Reply, Setup};
use httpdigest_tests::headers::{fnv, params, payload};
use httpdigest_tests::server::{PASSWORD, REALM, Spec, USER, statuses};

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// Runs `scenario` for every adapter; fails with every adapter's failure, not the first.
fn every_adapter(scenario: impl Fn(Adapter)) {
    let failures: Vec<String> = Adapter::ALL
        .into_iter()
        .filter_map(|adapter| {
            let result = catch_unwind(AssertUnwindSafe(|| scenario(adapter)));
            result
                .err()
                .map(|panic| format!("{}: {}", adapter.name(), message(&*panic)))
        })
        .collect();
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

fn message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default()
}

fn driver(adapter: Adapter, setup: &Setup) -> Box<dyn Driver> {
    drive::driver(adapter, setup)
}

fn alice(adapter: Adapter) -> Box<dyn Driver> {
    driver(adapter, &Setup::new(USER, PASSWORD))
}

/// `reply` is a 200 with the user's name, after `exchanges` exchanges.
fn ok(reply: &Reply, exchanges: usize, what: &str) {
    assert_eq!(reply.outcome, Outcome::Status(200), "{what}: {reply:?}");
    assert_eq!(reply.body, USER, "{what}");
    assert_eq!(
        reply.exchanges.len(),
        exchanges,
        "{what}: {:?}",
        reply.exchanges
    );
}

/// `reply` is the Digest failure `failure` with the response of status `status`, after
/// `exchanges` exchanges.
fn failed(reply: &Reply, failure: &Failure, status: u16, exchanges: usize, what: &str) {
    assert_eq!(
        reply.outcome,
        Outcome::Failure(failure.clone()),
        "{what}: {reply:?}"
    );
    assert_eq!(reply.status, Some(status), "{what}");
    assert_eq!(
        reply.exchanges.len(),
        exchanges,
        "{what}: {:?}",
        reply.exchanges
    );
}

// ---------------------------------------------------------------------------------------
// 1. Challenge, then preemptive reuse
// ---------------------------------------------------------------------------------------

fn challenged_then_preemptive(adapter: Adapter, mutual: bool) {
    let server = Spec::new().start();
    let config = ClientConfig::default().with_require_mutual_auth(mutual);
    let client = driver(adapter, &Setup::new(USER, PASSWORD).config(config));

    let reply = client.send(&Call::get(&server.url("/a")));
    ok(&reply, 2, "first");
    assert!(reply.exchanges[0].sent.is_none());
    let info = reply.header("authentication-info").unwrap_or_default();
    assert!(info.contains("rspauth="), "{info}");
    let first = server.take_seen();
    assert_eq!(statuses(&first), [401, 200]);
    assert!(first[0].credentials.is_none());
    assert_eq!(first[0].challenges.len(), 2, "SHA-256 and MD5 offered");
    assert!(
        first[1]
            .credentials
            .as_deref()
            .unwrap()
            .starts_with("Digest ")
    );
    let answer = first[1].params();
    assert_eq!(answer["username"], USER);
    assert_eq!(answer["realm"], REALM);
    assert_eq!(answer["uri"], "/a");
    assert_eq!(answer["algorithm"], "SHA-256", "the strongest offered");
    assert_eq!(answer["qop"], "auth");
    assert_eq!(answer["nc"], "00000001");
    assert_eq!(first[1].user.as_deref(), Some(USER));

    let mut cnonces = HashSet::from([answer["cnonce"].clone()]);
    for (i, path) in ["/b", "/c?x=1", "/a", "/a/0", "/next/1?q=x", "/a/2"]
        .into_iter()
        .enumerate()
    {
        let nc = format!("{:08x}", i + 2);
        let reply = client.send(&Call::get(&server.url(path)));
        ok(&reply, 1, path);
        let info = reply.header("authentication-info").unwrap_or_default();
        assert!(
            info.contains("rspauth=") && info.contains(&format!("nc={nc}")),
            "{info}"
        );
        let seen = server.take_seen();
        assert_eq!(statuses(&seen), [200], "{path}: one round trip");
        let p = seen[0].params();
        assert_eq!(p["nc"], nc, "{path}");
        assert_eq!(p["nonce"], answer["nonce"], "{path}: same nonce");
        assert_eq!(p["uri"], path);
        assert!(
            cnonces.insert(p["cnonce"].clone()),
            "{path}: a fresh cnonce"
        );
    }
    assert_eq!(server.take_accepted().len(), 7);
    // The 401's body was read and every response too: one keep-alive connection. (ureq's
    // blocking agent pools the connection before the call returns; the async clients pool
    // it from a task, which the next request may overtake.)
    if adapter == Adapter::Ureq {
        assert_eq!(server.connections(), 1);
    }

    // The credentials' scope is the first request's origin: another server is not answered.
    let other = Spec::new().start();
    let reply = client.send(&Call::get(&other.url("/a")));
    failed(&reply, &Failure::OutOfScope, 401, 1, "another origin");
    let at_other = other.take_seen();
    assert_eq!(statuses(&at_other), [401]);
    assert!(at_other[0].credentials.is_none());
}

#[test]
fn first_request_is_challenged_then_each_goes_preemptively_with_the_next_nc() {
    every_adapter(|adapter| challenged_then_preemptive(adapter, false));
}

#[test]
fn mutual_auth_required_succeeds_with_rspauth_in_one_round_trip_per_request() {
    every_adapter(|adapter| challenged_then_preemptive(adapter, true));
}

#[test]
fn without_preemptive_reuse_every_request_takes_two_exchanges() {
    every_adapter(|adapter| {
        let server = Spec::new().start();
        let config = ClientConfig::default().with_preemptive(false);
        let client = driver(adapter, &Setup::new(USER, PASSWORD).config(config));
        for i in 0..3 {
            let reply = client.send(&Call::get(&server.url(&format!("/p/{i}"))));
            ok(&reply, 2, &format!("request {i}"));
            let seen = server.take_seen();
            assert_eq!(statuses(&seen), [401, 200]);
            assert!(
                seen[0].credentials.is_none(),
                "request {i} went with credentials"
            );
            assert!(seen[1].credentials.is_some());
        }
    });
}

// ---------------------------------------------------------------------------------------
// 2. Every algorithm × qop
// ---------------------------------------------------------------------------------------

/// One algorithm and qop: challenge then answer, then preemptive reuse, with mutual
/// authentication required and not.
fn algorithm_case(adapter: Adapter, algorithm: Algorithm, qop_name: &str, qop: QopOptions) {
    let auth_int = qop == QopOptions::AUTH_INT;
    // -sess needs a cnonce, hence a qop: a verifier offering only that has no challenge to
    // send, and is refused when built.
    if algorithm.is_session() && qop.is_empty() {
        let config = Spec::new().algorithms([algorithm]).qop(qop).config;
        let built = httpdigest::server::Verifier::new(config, &[7; 32]).map(|_| ());
        assert_eq!(built, Err(httpdigest::server::ConfigError::NoAlgorithm));
        let _ = adapter;
        return;
    }
    let server = Spec::new().algorithms([algorithm]).qop(qop).start();
    let url = server.url("/resource?x=1");
    let body = format!("payload for {algorithm} {qop_name}");
    let call = if auth_int {
        Call::post(&url, body.as_bytes())
    } else {
        Call::get(&url)
    };
    let expected_len = if auth_int { body.len() } else { 0 };

    for mutual in [false, true] {
        let config = ClientConfig::default().with_require_mutual_auth(mutual);
        let client = driver(adapter, &Setup::new(USER, PASSWORD).config(config));
        for (round, expected_exchanges) in [(1u32, 2usize), (2, 1), (3, 1)] {
            let what = format!("round {round}, mutual {mutual}");
            let reply = client.send(&call);
            ok(&reply, expected_exchanges, &what);
            assert_eq!(
                reply.header("x-body-len"),
                Some(expected_len.to_string().as_str())
            );
            // For auth-int too: the layer signs the response body (its size is known), and
            // the client checks it.
            let info = reply.header("authentication-info").unwrap_or_default();
            assert!(info.contains("rspauth="), "no rspauth: {info:?}");

            let seen = server.take_seen();
            let accepted = server.take_accepted();
            assert_eq!(accepted.len(), 1, "{what}");
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
            assert_eq!(seen.last().unwrap().user.as_deref(), Some(USER));
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

#[test]
fn every_algorithm_and_qop_authenticates_then_reuses_the_space() {
    every_adapter(|adapter| {
        let mut failures = Vec::new();
        let mut cases = 0;
        for algorithm in Algorithm::ALL {
            for (qop_name, qop) in [
                ("auth", QopOptions::AUTH),
                ("auth-int", QopOptions::AUTH_INT),
                ("none", QopOptions::NONE),
            ] {
                cases += 1;
                // Each case on its own, so that one failure does not hide the others.
                let case = || algorithm_case(adapter, algorithm, qop_name, qop);
                if let Err(panic) = catch_unwind(AssertUnwindSafe(case)) {
                    failures.push(format!("{algorithm} qop={qop_name}: {}", message(&*panic)));
                }
            }
        }
        assert_eq!(cases, 30);
        assert!(
            failures.is_empty(),
            "failing cases:\n{}",
            failures.join("\n")
        );
    });
}

// ---------------------------------------------------------------------------------------
// 3. Stale nonces
// ---------------------------------------------------------------------------------------

#[test]
fn expired_nonce_is_answered_once_after_stale_true() {
    every_adapter(|adapter| {
        let server = Spec::new().nonce_lifetime(60).start();
        let client = alice(adapter);
        ok(&client.send(&Call::get(&server.url("/"))), 2, "first");
        let old = server.take_seen()[1].params()["nonce"].clone();
        server.take_accepted();

        server.advance(61);
        let reply = client.send(&Call::get(&server.url("/later")));
        ok(&reply, 2, "the stale answer and one retry");
        assert!(reply.exchanges[0].says_stale(), "{:?}", reply.exchanges);
        let seen = server.take_seen();
        assert_eq!(statuses(&seen), [401, 200]);
        assert_eq!(seen[0].rejection.as_deref(), Some("ExpiredNonce"));
        let stale = seen[0].params();
        assert_eq!(
            (stale["nonce"].as_str(), stale["nc"].as_str()),
            (old.as_str(), "00000002"),
            "sent with the old nonce"
        );
        assert!(
            seen[0]
                .challenges
                .iter()
                .all(|c| params(c).get("stale").map(String::as_str) == Some("true")),
            "{:?}",
            seen[0].challenges
        );
        let renewed = seen[1].params();
        assert_ne!(renewed["nonce"], old);
        assert_eq!(renewed["nc"], "00000001");
        assert_eq!(seen[1].user.as_deref(), Some(USER));
        assert_eq!(server.take_accepted().len(), 1);

        // The new nonce is used from then on.
        ok(&client.send(&Call::get(&server.url("/again"))), 1, "after");
        let seen = server.take_seen();
        assert_eq!(statuses(&seen), [200]);
        let p = seen[0].params();
        assert_eq!(
            (p["nonce"].as_str(), p["nc"].as_str()),
            (renewed["nonce"].as_str(), "00000002")
        );
    });
}

// ---------------------------------------------------------------------------------------
// 4. Rejected credentials
// ---------------------------------------------------------------------------------------

#[test]
fn wrong_password_and_unknown_user_end_in_credentials_rejected_after_two_exchanges() {
    every_adapter(|adapter| {
        let server = Spec::new().start();
        for (user, password, reason) in [
            (USER, "wrong", "WrongPassword"),
            ("mallory", PASSWORD, "UnknownUser"),
        ] {
            let client = driver(adapter, &Setup::new(user, password));
            let reply = client.send(&Call::get(&server.url("/private")));
            failed(&reply, &Failure::CredentialsRejected, 401, 2, user);
            assert!(reply.header("www-authenticate").is_some(), "{user}");
            let seen = server.take_seen();
            assert_eq!(statuses(&seen), [401, 401], "{user}: exactly one retry");
            assert!(seen[0].credentials.is_none());
            assert_eq!(seen[1].params()["username"], user);
            assert_eq!(seen[1].rejection.as_deref(), Some(reason));
            assert!(server.take_accepted().is_empty());

            // The rejected space is forgotten: the next request starts over.
            let reply = client.send(&Call::get(&server.url("/private")));
            failed(&reply, &Failure::CredentialsRejected, 401, 2, user);
            let seen = server.take_seen();
            assert_eq!(statuses(&seen), [401, 401]);
            assert!(seen[0].credentials.is_none());
        }
    });
}

// ---------------------------------------------------------------------------------------
// 5. Bodies: auth-int, and bodies too long to keep
// ---------------------------------------------------------------------------------------

#[test]
fn auth_int_post_of_10_kib_reaches_the_handler_whole() {
    every_adapter(|adapter| {
        let server = Spec::new().qop(QopOptions::AUTH_INT).start();
        let client = alice(adapter);
        let data = payload(10 * 1024);
        for (round, expected_exchanges) in [(1u32, 2usize), (2, 1)] {
            let reply = client.send(&Call::post(&server.url("/upload"), &data));
            ok(&reply, expected_exchanges, &format!("round {round}"));
            assert_eq!(reply.header("x-body-len"), Some("10240"));
            assert_eq!(reply.header("x-body-fnv"), Some(fnv(&data).as_str()));
            let accepted = server.take_accepted();
            assert_eq!(accepted.len(), 1);
            let p = params(&accepted[0]);
            assert_eq!(p["qop"], "auth-int");
            assert_eq!(p["uri"], "/upload");
            assert_eq!(p["nc"], format!("{round:08x}"));
        }
        let seen = server.take_seen();
        assert_eq!(statuses(&seen), [401, 200, 200]);
        for s in &seen {
            assert_eq!(s.method, "POST");
            assert_eq!(s.body, data, "the body goes every time, whole");
        }
    });
}

#[test]
fn auth_int_is_used_when_preferred_and_both_qops_are_offered() {
    every_adapter(|adapter| {
        let body = payload(3000);
        for (preferred, qop) in [(true, "auth-int"), (false, "auth")] {
            let server = Spec::new().qop(QopOptions::BOTH).start();
            let config = ClientConfig::default().with_prefer_auth_int(preferred);
            let client = driver(adapter, &Setup::new(USER, PASSWORD).config(config));
            let reply = client.send(&Call::post(&server.url("/both"), &body));
            ok(&reply, 2, qop);
            assert_eq!(reply.header("x-body-len"), Some("3000"));
            let seen = server.take_seen();
            assert_eq!(statuses(&seen), [401, 200]);
            assert_eq!(seen[1].params()["qop"], qop, "preferred {preferred}");
        }
    });
}

/// Keeps at most 16 body bytes to send again.
fn small_buffer(adapter: Adapter) -> Box<dyn Driver> {
    driver(adapter, &Setup::new(USER, PASSWORD).max_buffered_body(16))
}

#[test]
fn streamed_body_to_an_unknown_space_is_not_replayed_and_the_space_is_learned() {
    every_adapter(|adapter| {
        let server = Spec::new().start();
        let client = small_buffer(adapter);
        let data = payload(5000);
        let url = server.url("/stream");

        // Too long to keep: sent once, challenged, not sent again.
        let reply = client.send(&Call::streamed(&url, &data));
        failed(&reply, &Failure::BodyNotReplayable, 401, 1, "unknown space");
        let seen = server.take_seen();
        assert_eq!(statuses(&seen), [401], "not sent again");
        assert!(seen[0].credentials.is_none());
        assert_eq!(seen[0].body, data, "streamed whole, once");
        assert_eq!(seen[0].header("transfer-encoding"), Some("chunked"));

        // The challenge was learned: a GET and a small POST go out with credentials at once.
        ok(&client.send(&Call::get(&server.url("/learn"))), 1, "learn");
        let reply = client.send(&Call::post(&url, b"tiny"));
        ok(&reply, 1, "tiny");
        assert_eq!(reply.header("x-body-len"), Some("4"));
        let seen = server.take_seen();
        assert_eq!(statuses(&seen), [200, 200]);
        assert!(seen.iter().all(|s| s.credentials.is_some()));

        // So does a long body now, sent once: streamed, and in memory past the limit.
        for (what, call) in [
            ("streamed", Call::streamed(&url, &data)),
            ("in memory", Call::post(&url, &data)),
        ] {
            let reply = client.send(&call);
            ok(&reply, 1, what);
            assert_eq!(reply.header("x-body-len"), Some("5000"));
            assert_eq!(reply.header("x-body-fnv"), Some(fnv(&data).as_str()));
            let seen = server.take_seen();
            assert_eq!(statuses(&seen), [200], "one round trip");
            assert_eq!(seen[0].method, "POST");
            assert_eq!(seen[0].body, data);
            let p = seen[0].params();
            assert_eq!((p["qop"].as_str(), p["uri"].as_str()), ("auth", "/stream"));
        }
        assert_eq!(server.take_accepted().len(), 4);

        // Another client, taught by a GET before any streamed request.
        let client = small_buffer(adapter);
        ok(&client.send(&Call::get(&server.url("/learn"))), 2, "fresh");
        server.take_seen();
        ok(&client.send(&Call::streamed(&url, &data)), 1, "taught");
        let seen = server.take_seen();
        assert_eq!(statuses(&seen), [200]);
        assert_eq!(seen[0].params()["nc"], "00000002");
    });
}

#[test]
fn streamed_body_to_an_auth_int_only_space_cannot_be_hashed() {
    every_adapter(|adapter| {
        let server = Spec::new().qop(QopOptions::AUTH_INT).start();
        let client = small_buffer(adapter);
        let data = payload(1000);
        let url = server.url("/stream");

        // auth-int is all the server offers: the failure says the body must be replayable.
        let reply = client.send(&Call::streamed(&url, &data));
        failed(
            &reply,
            &Failure::AuthIntNeedsReplayableBody,
            401,
            1,
            "unknown space",
        );

        // A body small enough to keep is hashed and goes out with credentials at once.
        let reply = client.send(&Call::post(&url, b"tiny"));
        ok(&reply, 1, "tiny");
        assert_eq!(reply.header("x-body-len"), Some("4"));
        assert_eq!(params(&server.take_accepted()[0])["qop"], "auth-int");

        // A long body still cannot be hashed: no credentials go with it, same failure.
        let reply = client.send(&Call::streamed(&url, &data));
        failed(
            &reply,
            &Failure::AuthIntNeedsReplayableBody,
            401,
            1,
            "known space",
        );
        let seen = server.take_seen();
        assert_eq!(statuses(&seen), [401, 200, 401]);
        assert!(seen[2].credentials.is_none(), "{seen:?}");
    });
}

// ---------------------------------------------------------------------------------------
// 6. Concurrency
// ---------------------------------------------------------------------------------------

const REQUESTS: usize = 200;
const AT_ONCE: usize = 64;

/// One client (after a warm-up request) sending [`REQUESTS`] GETs from [`AT_ONCE`] threads:
/// every outcome with its exchanges, and what reached the server meanwhile.
fn hammer(
    adapter: Adapter,
    server: &httpdigest_tests::server::TestServer,
) -> Vec<(Outcome, Vec<Exchange>)> {
    let client = alice(adapter);
    ok(
        &client.send(&Call::get(&server.url("/warm-up"))),
        2,
        "warm-up",
    );
    server.take_seen();
    server.take_accepted();
    drive::hammer(&*client, REQUESTS, AT_ONCE, |i| {
        server.url(&format!("/c/{i}"))
    })
}

#[test]
fn many_concurrent_requests_all_succeed_and_no_nonce_count_is_sent_twice() {
    every_adapter(|adapter| {
        let server = Spec::new().start();
        let results = hammer(adapter, &server);
        assert_eq!(results.len(), REQUESTS);
        let mut per_request = Vec::new();
        for (outcome, exchanges) in &results {
            assert_eq!(outcome, &Outcome::Status(200), "{exchanges:?}");
            assert!((1..=3).contains(&exchanges.len()), "{exchanges:?}");
            per_request.push(exchanges.len());
        }
        let total: usize = per_request.iter().sum();

        let seen = server.take_seen();
        assert_eq!(seen.len(), total, "every send reached the server");
        let challenged = seen.iter().filter(|s| s.status != 200).count();
        assert_eq!(seen.len() - challenged, REQUESTS, "one 200 per request");
        let mut reasons: HashMap<&str, usize> = HashMap::new();
        for s in seen.iter().filter(|s| s.status != 200) {
            *reasons
                .entry(s.rejection.as_deref().unwrap_or("-"))
                .or_default() += 1;
        }
        // Every refusal is an overtaken count, or a request sent without credentials after
        // one: the password is never wrong.
        for reason in reasons.keys() {
            assert!(
                ["ReplayedNonceCount", "MissingCredentials"].contains(reason),
                "{reasons:?}"
            );
        }
        eprintln!(
            "{}: {REQUESTS} GETs, {AT_ONCE} at a time, strict nc: {total} exchanges \
             ({challenged} refused: {reasons:?}), at most {} sends for one request, {} connections",
            adapter.name(),
            per_request.iter().max().unwrap(),
            server.connections(),
        );

        // No (nonce, nc) is sent twice, and every accepted one is new.
        let mut pairs = HashSet::new();
        for s in seen.iter().filter(|s| s.credentials.is_some()) {
            let p = s.params();
            assert!(
                pairs.insert((p["nonce"].clone(), p["nc"].clone())),
                "(nonce, nc) sent twice: {:?}",
                s.credentials
            );
        }
        assert_eq!(server.take_accepted().len(), REQUESTS);
    });
}

#[test]
fn many_concurrent_requests_without_nonce_count_checks_need_no_extra_round_trip() {
    every_adapter(|adapter| {
        let server = Spec::new().lenient_nc().start();
        let results = hammer(adapter, &server);
        for (outcome, exchanges) in &results {
            assert_eq!(outcome, &Outcome::Status(200), "{exchanges:?}");
            assert_eq!(exchanges.len(), 1, "{exchanges:?}");
        }
        let seen = server.take_seen();
        assert_eq!(seen.len(), REQUESTS, "every request preemptive");
        assert!(seen.iter().all(|s| s.status == 200));
    });
}

/// A camera that moved on to another nonce (another client's request fetched a challenge)
/// answers the old one with 403: the request makes one fresh handshake, within the bound,
/// and the next goes preemptively with the new nonce.
#[test]
fn a_camera_that_moved_on_answers_403_and_the_request_makes_one_fresh_handshake() {
    use httpdigest_tests::strict::CameraSpec;
    every_adapter(|adapter| {
        let camera = CameraSpec::new().start();
        let client = alice(adapter);
        let url = camera.url("/snapshot");
        ok(&client.send(&Call::get(&url)), 2, "the first request");
        // Another client on the same address fetches a challenge: the camera moves on.
        let other = ureq::get(&url)
            .config()
            .http_status_as_error(false)
            .build()
            .call();
        assert_eq!(other.unwrap().status(), 401);
        let reply = client.send(&Call::get(&url));
        ok(&reply, 3, "403, a request without credentials, the answer");
        assert_eq!(reply.exchanges[0].status, Some(403));
        assert!(reply.exchanges[1].sent.is_none(), "{:?}", reply.exchanges);
        assert_eq!(camera.forbidden(), 1);
        ok(&client.send(&Call::get(&url)), 1, "the next one");
    });
}

// ---------------------------------------------------------------------------------------
// 7. Forward proxy
// ---------------------------------------------------------------------------------------

/// An origin behind the proxy (nothing listens there: the proxy answers itself; ureq
/// resolves the host name even through a proxy, hence an address).
const BEHIND_PROXY: &str = "http://127.0.0.1:9/path?q=1";

fn proxied(
    adapter: Adapter,
    proxy: &httpdigest_tests::server::TestServer,
    password: &str,
) -> Box<dyn Driver> {
    let setup = Setup::new(USER, password).via_proxy(&format!("http://{}", proxy.addr()));
    driver(adapter, &setup)
}

#[test]
fn proxy_407_is_answered_with_proxy_authorization_in_absolute_form() {
    every_adapter(|adapter| {
        let proxy = Spec::new().proxy().start();
        let client = proxied(adapter, &proxy, PASSWORD);

        let reply = client.send(&Call::get(BEHIND_PROXY));
        ok(&reply, 2, "first");
        assert!(reply.header("proxy-authentication-info").is_some());
        let seen = proxy.take_seen();
        assert_eq!(statuses(&seen), [407, 200]);
        for s in &seen {
            assert_eq!(s.uri, BEHIND_PROXY, "absolute form");
            assert_eq!(s.host(), "127.0.0.1:9");
            assert!(s.header("authorization").is_none());
        }
        assert!(seen[0].credentials.is_none());
        assert!(!seen[0].challenges.is_empty());
        assert!(seen[0].response_header("www-authenticate").is_none());
        let answer = seen[1].params();
        assert_eq!(answer["uri"], BEHIND_PROXY);
        assert_eq!(answer["username"], USER);
        assert_eq!(answer["nc"], "00000001");
        assert_eq!(seen[1].user.as_deref(), Some(USER));

        // Preemptive through the proxy too.
        ok(
            &client.send(&Call::get("http://127.0.0.1:9/other?q=1")),
            1,
            "preemptive",
        );
        let seen = proxy.take_seen();
        assert_eq!(statuses(&seen), [200]);
        assert_eq!(seen[0].uri, "http://127.0.0.1:9/other?q=1");
        let p = seen[0].params();
        assert_eq!(
            (p["uri"].as_str(), p["nc"].as_str()),
            ("http://127.0.0.1:9/other?q=1", "00000002")
        );
        if adapter == Adapter::Ureq {
            assert_eq!(proxy.connections(), 1);
        }
    });
}

#[test]
fn wrong_proxy_password_is_rejected_with_407() {
    every_adapter(|adapter| {
        let proxy = Spec::new().proxy().start();
        let reply = proxied(adapter, &proxy, "wrong").send(&Call::get(BEHIND_PROXY));
        failed(
            &reply,
            &Failure::CredentialsRejected,
            407,
            2,
            "wrong password",
        );
        assert!(reply.header("proxy-authenticate").is_some());
        let seen = proxy.take_seen();
        assert_eq!(statuses(&seen), [407, 407]);
        assert!(seen[1].header("proxy-authorization").is_some());
        assert_eq!(seen[1].rejection.as_deref(), Some("WrongPassword"));
    });
}
