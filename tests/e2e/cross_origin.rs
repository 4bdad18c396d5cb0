//! Credentials stay on their origin, through every adapter. Two of the project's own Digest
//! servers run on 127.0.0.1, A named `127.0.0.1` and B named `localhost` (another port, so
//! another origin twice over). Both know the same user, password and realm, so a leaked
//! header would be accepted silently: the servers' logs, not the outcome, are what prove
//! nothing leaked. No request reaching an origin outside the scope (B, or A under the name
//! `localhost`) may carry `Authorization`, `Proxy-Authorization`, the user name or the
//! password.
//!
//! The scenarios (rows of the interop table, see `httpdigest_tests::matrix::CROSS_ORIGIN`):
//! 1. A's protected page redirects to B: the client follows, B challenges, and the result
//!    is `Failure::OutOfScope`; B saw one request, without credentials.
//! 2. A's challenge lists B in `domain`: a later request to B goes without credentials and
//!    its challenge is `OutOfScope` (the scope is the first request's origin, whatever a
//!    server claims).
//! 3. A again, named `localhost`: a different origin; nothing is sent and its challenge is
//!    `OutOfScope`.
//! 4. B's open page redirects to A's protected one, after A is known. ureq, the reqwest
//!    middleware and the hyper layer (under tower-http's `FollowRedirect`) make the hop a
//!    request of its own: 200, the credentials go to A preemptively. B saw no credentials.
//!
//! Hermetic (no lab): part of every `cargo test`.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use httpdigest::client::Failure;
use httpdigest::server::VerifierConfig;
use httpdigest_tests::drive::{self, Adapter, Driver, Outcome, Setup};
use httpdigest_tests::matrix::{self, Record};
use httpdigest_tests::server::{REALM, Seen, Spec, TestServer};

const USER: &str = "origin-user";
const PASSWORD: &str = "origin-pass";
const SECRETS: [&str; 2] = [USER, PASSWORD];

fn server(host: &'static str, config: VerifierConfig) -> TestServer {
    Spec::new()
        .host(host)
        .config(config)
        .users([(USER, PASSWORD)])
        .start()
}

fn client(adapter: Adapter) -> Box<dyn Driver> {
    drive::driver(adapter, &Setup::new(USER, PASSWORD))
}

/// The leaks in `seen` (only the requests `outside` selects).
fn leaks(seen: &[Seen], outside: impl Fn(&Seen) -> bool) -> Vec<String> {
    seen.iter()
        .filter(|s| outside(s))
        .flat_map(|s| s.leaks(&SECRETS))
        .collect()
}

/// Runs one scenario; returns the table's text and the problems.
fn scenario(adapter: Adapter, index: usize) -> (String, Vec<String>) {
    let mut problems = Vec::new();
    let mut expect = |ok: bool, what: String| {
        if !ok {
            problems.push(what);
        }
    };
    let out_of_scope = Outcome::Failure(Failure::OutOfScope);
    let text;
    match index {
        0 => {
            let a = server("127.0.0.1", VerifierConfig::new(REALM));
            let b = server("localhost", VerifierConfig::new(REALM));
            a.redirect("/start", &b.url("/landing"));
            let client = client(adapter);
            let (outcome, _) = client.get(&a.url("/start"));
            expect(
                outcome == out_of_scope,
                format!("{outcome:?}, OutOfScope expected"),
            );
            let at_b = b.seen();
            expect(
                at_b.len() == 1,
                format!("B saw {at_b:?}, one request expected"),
            );
            expect(
                a.seen().iter().any(|s| s.status == 302),
                "A never redirected".to_owned(),
            );
            let leaked = leaks(&at_b, |_| true);
            expect(leaked.is_empty(), format!("leaked to B: {leaked:?}"));
            text = "OutOfScope, 0 leaked".to_owned();
        }
        1 => {
            let b = server("localhost", VerifierConfig::new(REALM));
            let domain = ["/".to_owned(), format!("{}/", b.origin())];
            let a = server("127.0.0.1", VerifierConfig::new(REALM).with_domain(domain));
            let client = client(adapter);
            let (first, _) = client.get(&a.url("/page"));
            expect(first == Outcome::Status(200), format!("A: {first:?}"));
            let challenge = a
                .seen()
                .iter()
                .flat_map(|s| s.headers.clone())
                .find(|(n, _)| n == "authorization");
            expect(challenge.is_some(), "A never got credentials".to_owned());
            let (outcome, _) = client.get(&b.url("/page"));
            expect(
                outcome == out_of_scope,
                format!("B: {outcome:?}, OutOfScope expected"),
            );
            let at_b = b.seen();
            let leaked = leaks(&at_b, |_| true);
            expect(leaked.is_empty(), format!("leaked to B: {leaked:?}"));
            text = "OutOfScope, 0 leaked".to_owned();
        }
        2 => {
            let a = server("127.0.0.1", VerifierConfig::new(REALM));
            let client = client(adapter);
            let (first, _) = client.get(&a.url("/page"));
            expect(first == Outcome::Status(200), format!("A: {first:?}"));
            let (outcome, _) = client.get(&a.url_as("localhost", "/page"));
            expect(
                outcome == out_of_scope,
                format!("{outcome:?}, OutOfScope expected"),
            );
            let seen = a.seen();
            let as_localhost = seen
                .iter()
                .filter(|s| s.host().starts_with("localhost"))
                .count();
            expect(
                as_localhost == 1,
                format!("{as_localhost} requests as localhost, 1 expected"),
            );
            let leaked = leaks(&seen, |s| s.host().starts_with("localhost"));
            expect(
                leaked.is_empty(),
                format!("leaked to localhost: {leaked:?}"),
            );
            text = "OutOfScope, 0 leaked".to_owned();
        }
        _ => {
            let a = server("127.0.0.1", VerifierConfig::new(REALM));
            let b = server("localhost", VerifierConfig::new(REALM));
            b.redirect("/open/to-a", &a.url("/page"));
            let client = client(adapter);
            let (first, _) = client.get(&a.url("/page"));
            expect(first == Outcome::Status(200), format!("A: {first:?}"));
            let before = a.seen().len();
            let (outcome, _) = client.get(&b.url("/open/to-a"));
            let at_a: Vec<Seen> = a.seen().into_iter().skip(before).collect();
            let credentials_to_a = at_a.iter().filter(|s| !s.leaks(&[]).is_empty()).count();
            expect(
                outcome == Outcome::Status(200),
                format!("{outcome:?}, 200 expected"),
            );
            expect(
                at_a.len() == 1 && at_a[0].status == 200 && credentials_to_a == 1,
                format!("A after the redirect: {at_a:?}, one preemptive 200 expected"),
            );
            text = "200, preemptive to A".to_owned();
            let at_b = b.seen();
            let leaked = leaks(&at_b, |_| true);
            expect(leaked.is_empty(), format!("leaked to B: {leaked:?}"));
        }
    }
    (text, problems)
}

#[test]
fn nothing_derived_from_the_credentials_leaves_the_scope() {
    let mut failures = Vec::new();
    for adapter in Adapter::ALL {
        for (index, row) in matrix::CROSS_ORIGIN.iter().enumerate() {
            let (text, problems) = scenario(adapter, index);
            matrix::record(&Record {
                adapter,
                row: (*row).to_owned(),
                ok: problems.is_empty(),
                text,
            });
            if !problems.is_empty() {
                failures.push(format!(
                    "{} / {row}:\n  {}",
                    adapter.name(),
                    problems.join("\n  ")
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The control: a request carrying credentials shows up in the server's log as a leak.
#[test]
fn the_servers_log_shows_credentials_that_reach_it() {
    use std::io::{Read as _, Write as _};
    let b = server("localhost", VerifierConfig::new(REALM));
    let port = b
        .origin()
        .rsplit(':')
        .next()
        .unwrap()
        .parse::<u16>()
        .unwrap();
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        stream,
        "GET /page HTTP/1.1\r\nHost: localhost:{port}\r\nAuthorization: Digest username=\"{USER}\"\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(
        answer.starts_with("HTTP/1.1 400") || answer.starts_with("HTTP/1.1 401"),
        "{answer}"
    );
    let leaked = leaks(&b.seen(), |_| true);
    assert_eq!(leaked.len(), 1, "{leaked:?}");
}
