//! Concurrency: every request succeeds against servers that check nonce counts strictly, and
//! requests that start together towards a space the client does not know yet fetch one
//! challenge between them. Through each adapter, one fresh client (nothing learned before)
//! sends the requests from many threads at once.
//!
//! The servers:
//!
//! - the hermetic strict servers of `httpdigest_tests::strict`: [`ModAuthDigest`] (Apache's
//!   mod_auth_digest with `AuthDigestNcCheck On`: the exact next count per client entry, a
//!   table of six entries that its collection empties at once, a `nextnonce` on every answer
//!   with the default 3 s lifetime; or none with a 300 s one, when the client learns that the
//!   server is strict from its refusals) and [`Camera`] (one nonce per client, replaced by
//!   every challenge, 403 to the one before): 1,000 GETs, 64 at a time;
//! - the project's own server, 16 first requests at once: one 401 between them;
//! - in the interop lab (`#[ignore]`d, `tests/interop/start-all.sh`): Apache's
//!   `/digest-stale/` itself, 200 GETs 16 at a time, counted in Apache's access log (the
//!   interop report's concurrency row), and lighttpd, 16 first requests at once.
//!
//! What every run requires of every adapter: each request ends in a 200 (never
//! `OutOfOrder`, `CredentialsRejected` or a transport error); no request is sent more than
//! three times; no (nonce, nc) pair is sent twice; and the server saw at most 1.10 HTTP
//! exchanges per request. The counts are printed.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stderr
)]

use std::collections::{BTreeMap, HashSet};
use std::io::Write as _;
use std::time::{Duration, Instant};

use httpdigest::DigestCredentials;
use httpdigest_tests::drive::{self, Adapter, Exchange, Outcome, Setup};
use httpdigest_tests::lab::{self, ALICE, APACHE_STRICT, CONCURRENCY_ROW};
use httpdigest_tests::matrix::{self, Record};
use httpdigest_tests::server::{PASSWORD, Spec, USER, statuses};
use httpdigest_tests::strict::{Camera, CameraSpec, ModAuthDigest, ModAuthDigestSpec};

/// The bound on HTTP exchanges per request.
const MAX_EXCHANGES_PER_REQUEST: f64 = 1.10;

/// `requests` GETs of `url(i)` through a fresh client of `adapter`, `at_once` at a time.
fn hammer(
    adapter: Adapter,
    user: &str,
    password: &str,
    requests: usize,
    at_once: usize,
    url: impl Fn(usize) -> String + Sync,
) -> (Vec<(Outcome, Vec<Exchange>)>, Duration) {
    let client = drive::driver(adapter, &Setup::new(user, password));
    let started = Instant::now();
    let results = drive::hammer(&*client, requests, at_once, url);
    (results, started.elapsed())
}

/// Checks a run, given how many HTTP exchanges the server counted; returns a line for the
/// log and the problems.
fn judge(results: &[(Outcome, Vec<Exchange>)], answered: u64) -> (String, Vec<String>) {
    let mut problems = Vec::new();
    let mut outcomes: BTreeMap<String, usize> = BTreeMap::new();
    let mut sends: BTreeMap<usize, usize> = BTreeMap::new();
    let mut counts = HashSet::new();
    for (outcome, exchanges) in results {
        *outcomes.entry(format!("{outcome:?}")).or_default() += 1;
        *sends.entry(exchanges.len()).or_default() += 1;
        if *outcome != Outcome::Status(200) {
            problems.push(format!("{outcome:?}: {exchanges:?}"));
        }
        if exchanges.len() > 3 || exchanges.is_empty() {
            problems.push(format!("{} sends: {exchanges:?}", exchanges.len()));
        }
        for sent in exchanges.iter().filter_map(|e| e.sent.as_deref()) {
            let credentials = DigestCredentials::parse(sent.as_bytes()).unwrap();
            let pair = (
                credentials.nonce().to_str().unwrap().into_owned(),
                credentials.nc().map(|nc| nc.get()),
            );
            if !counts.insert(pair.clone()) {
                problems.push(format!("nonce and nc sent twice: {pair:?}"));
            }
        }
    }
    let requests = results.len();
    let ok = outcomes.get("Status(200)").copied().unwrap_or(0);
    let per_request = answered as f64 / requests as f64;
    if per_request > MAX_EXCHANGES_PER_REQUEST {
        problems.push(format!(
            "{answered} HTTP exchanges for {requests} requests: {per_request:.3} per request"
        ));
    }
    let line = format!(
        "{ok} of {requests} ok; {per_request:.3} exchanges per request; sends per request {sends:?}; {outcomes:?}"
    );
    (line, problems)
}

/// Prints a run's line.
fn log(what: &str, adapter: Adapter, took: Duration, line: &str) {
    let text = format!(
        "concurrency, {what}, {}: {:.2} s: {line}\n",
        adapter.name(),
        took.as_secs_f64()
    );
    std::io::stderr().lock().write_all(text.as_bytes()).unwrap();
}

/// 1,000 GETs 64 at a time against a fresh strict server of each kind `start` makes,
/// through a fresh client of each adapter.
fn against_hermetic<S>(
    what: &str,
    start: impl Fn() -> S,
    url: impl Fn(&S, usize) -> String + Sync,
    answered: impl Fn(&S) -> u64,
) where
    S: Sync,
{
    const REQUESTS: usize = 1000;
    const AT_ONCE: usize = 64;
    let mut failures = Vec::new();
    for adapter in Adapter::ALL {
        let server = start();
        let (results, took) = hammer(adapter, USER, PASSWORD, REQUESTS, AT_ONCE, |i| {
            url(&server, i)
        });
        assert_eq!(results.len(), REQUESTS);
        let (line, problems) = judge(&results, answered(&server));
        log(what, adapter, took, &line);
        if !problems.is_empty() {
            failures.push(format!("{}:\n  {}", adapter.name(), problems.join("\n  ")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn mod_auth_digest_with_a_nextnonce_on_every_answer_1000_requests_64_at_a_time() {
    against_hermetic(
        "mod_auth_digest, nextnonce on every answer",
        || ModAuthDigestSpec::new().start(),
        |s, i| s.url(&format!("/snapshot?request={i}")),
        ModAuthDigest::requests,
    );
}

#[test]
fn mod_auth_digest_with_long_lived_nonces_1000_requests_64_at_a_time() {
    against_hermetic(
        "mod_auth_digest, 300 s nonces",
        || {
            ModAuthDigestSpec::new()
                .nonce_lifetime(Duration::from_secs(300))
                .start()
        },
        |s, i| s.url(&format!("/snapshot?request={i}")),
        ModAuthDigest::requests,
    );
}

#[test]
fn camera_with_one_nonce_per_client_1000_requests_64_at_a_time() {
    against_hermetic(
        "camera, one nonce per client",
        || CameraSpec::new().start(),
        |s, i| s.url(&format!("/snapshot?request={i}")),
        Camera::requests,
    );
}

/// 16 requests that start together towards a space the client does not know: the first
/// learns it, the others wait and then go with credentials at once: one 401 in all.
#[test]
fn sixteen_first_requests_fetch_one_challenge_from_our_server() {
    for adapter in Adapter::ALL {
        let server = Spec::new().start();
        let (results, took) = hammer(adapter, USER, PASSWORD, 16, 16, |i| {
            server.url(&format!("/first?request={i}"))
        });
        let seen = server.seen();
        let challenges = statuses(&seen).iter().filter(|s| **s == 401).count();
        let (line, problems) = judge(&results, seen.len() as u64);
        log("16 first requests, our server", adapter, took, &line);
        assert!(problems.is_empty(), "{}: {problems:?}", adapter.name());
        assert_eq!(challenges, 1, "{}: {:?}", adapter.name(), statuses(&seen));
    }
}

/// The lines of a lab server's access log that name `tag`: at least `at_least` of them (one
/// per request), once the count stops growing, as servers write their logs in batches
/// (lighttpd does), for at most 15 s.
fn logged(log: &str, tag: &str, at_least: usize) -> Vec<String> {
    let path = std::path::Path::new(&lab::run_dir()).join("logs").join(log);
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut last = None;
    loop {
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let lines: Vec<String> = text
            .lines()
            .filter(|l| l.contains(tag))
            .map(str::to_owned)
            .collect();
        if (lines.len() >= at_least && last == Some(lines.len())) || Instant::now() > deadline {
            return lines;
        }
        last = Some(lines.len());
        std::thread::sleep(Duration::from_millis(1200));
    }
}

/// A tag no earlier run put in the lab's logs.
fn tag(what: &str, adapter: Adapter) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{what}-{}-{now}", adapter.name())
}

#[test]
#[ignore = "needs the interop lab: tests/interop/start-all.sh"]
fn apache_strict_nonce_counts_200_requests_16_at_a_time() {
    const REQUESTS: usize = 200;
    const AT_ONCE: usize = 16;
    let mut failures = Vec::new();
    for adapter in Adapter::ALL {
        let tag = tag("concurrency", adapter);
        let (results, took) = hammer(
            adapter,
            ALICE.name,
            ALICE.password,
            REQUESTS,
            AT_ONCE,
            |i| format!("{APACHE_STRICT}?{tag}&request={i}"),
        );
        assert_eq!(results.len(), REQUESTS);
        let answered = logged("apache-access.log", &tag, REQUESTS).len() as u64;
        let (line, problems) = judge(&results, answered);
        log("apache /digest-stale/", adapter, took, &line);
        let ok = results
            .iter()
            .filter(|(o, _)| *o == Outcome::Status(200))
            .count();
        matrix::record(&Record {
            adapter,
            row: CONCURRENCY_ROW.to_owned(),
            ok: problems.is_empty(),
            text: format!(
                "{ok} of {REQUESTS} ok, {:.2}/request",
                answered as f64 / REQUESTS as f64
            ),
        });
        if !problems.is_empty() {
            failures.push(format!("{}:\n  {}", adapter.name(), problems.join("\n  ")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
#[ignore = "needs the interop lab: tests/interop/start-all.sh"]
fn sixteen_first_requests_fetch_one_challenge_from_lighttpd() {
    for adapter in Adapter::ALL {
        let tag = tag("first", adapter);
        let (results, took) = hammer(adapter, ALICE.name, ALICE.password, 16, 16, |i| {
            format!(
                "{}/digest-sha256/index.html?{tag}&request={i}",
                lab::LIGHTTPD
            )
        });
        let lines = logged("lighttpd-access.log", &tag, 16);
        let challenges = lines.iter().filter(|l| l.contains("\" 401 ")).count();
        let (line, problems) = judge(&results, lines.len() as u64);
        log("16 first requests, lighttpd", adapter, took, &line);
        assert!(problems.is_empty(), "{}: {problems:?}", adapter.name());
        assert_eq!(challenges, 1, "{}: {lines:#?}", adapter.name());
    }
}

/// The engine's async wait: woken when the request ahead of it is answered, on any runtime
/// (here tokio's); dropped midway (a caller's timeout), it leaves the call waiting, and
/// dropping the call gives its place up.
#[test]
fn an_async_wait_is_woken_by_the_answer_ahead_and_can_be_dropped() {
    use httpdigest::client::{BodySource, Client};
    use httpdigest::http::{DigestClient, Next};

    let engine = DigestClient::new(Client::with_password("alice", "s3cret"));
    let (method, uri) = (
        http::Method::GET,
        "http://pdu.local/status".parse().unwrap(),
    );
    let body = BodySource::Bytes(b"");
    let (mut first, next) = engine.begin(&method, &uri, body).unwrap();
    assert!(matches!(next, Next::Send(..)));
    let (mut second, next) = engine.begin(&method, &uri, body).unwrap();
    assert!(matches!(next, Next::Wait(())), "{next:?}");
    let (mut third, next) = engine.begin(&method, &uri, body).unwrap();
    assert!(matches!(next, Next::Wait(())), "{next:?}");

    drive::runtime().block_on(async {
        // A caller's timeout drops the third one's wait; the call still waits.
        let dropped =
            tokio::time::timeout(Duration::from_millis(20), engine.wait(&mut third, body)).await;
        assert!(dropped.is_err(), "nothing answered yet");
        drop(third);

        let engine2 = engine.clone();
        let waiter = tokio::spawn(async move {
            let next = engine2.wait(&mut second, body).await;
            (next, second)
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiter.is_finished(), "it waits for the first request");
        let mut challenge = http::HeaderMap::new();
        challenge.insert(
            http::header::WWW_AUTHENTICATE,
            http::HeaderValue::from_static(r#"Digest realm="pdu", nonce="1", qop="auth""#),
        );
        let status = http::StatusCode::UNAUTHORIZED;
        let next = engine.respond(&mut first, body, status, &challenge, None);
        assert!(matches!(next, Next::Send(..)), "{next:?}");
        let ok = http::StatusCode::OK;
        let next = engine.respond(&mut first, body, ok, &http::HeaderMap::new(), None);
        assert!(matches!(next, Next::Done(())), "{next:?}");
        let (next, _second) = tokio::time::timeout(Duration::from_secs(5), waiter)
            .await
            .expect("woken at once")
            .unwrap();
        let Next::Send(headers, ()) = next else {
            panic!("{next:?}")
        };
        assert!(
            headers
                .authorization
                .unwrap()
                .text()
                .contains("nc=00000002")
        );
    });
}
