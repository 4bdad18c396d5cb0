//! Every adapter (ureq, reqwest, the hyper client layer) against every location and user of
//! the interop lab's real servers: Apache mod_auth_digest, lighttpd, httpbin, Squid as a
//! Digest proxy, Tomcat, Twisted, Flask-HTTPAuth, npm http-auth and abbot/go-http-auth (each
//! also as a Digest proxy) and CherryPy (the rows of [`lab::rows`]).
//!
//! Each cell is one adapter on one row, with a fresh client:
//! - `Authenticates`: 200 after a challenge (two exchanges, the first without credentials),
//!   then 200 at once (one exchange, credentials sent preemptively). The credentials sent
//!   say the algorithm, qop and userhash the row names (the strongest of several challenges).
//!   Behind a proxy that asks first, with origin and proxy credentials, the first request
//!   takes one exchange more (407, then 401, then 200).
//! - `AuthenticatesInSecondForm`: the same, the first request one exchange longer still (the
//!   non-ASCII name refused as sent first, accepted in the next form).
//! - `ChallengesEachRequest`: as `Authenticates`, but the second request is challenged too
//!   (the nonce lives in a cookie of the 401, which goes back with the answer only).
//! - `RenewsStaleNonce`: the same, then past the location's 3 s nonce lifetime: 401
//!   `stale=true` to the preemptive credentials and 200 to the new nonce (two exchanges).
//! - `Rejected`: `Failure::CredentialsRejected` after the challenge and one answer, or two
//!   for a non-ASCII name the adapter can send in a second form (`Row::answers`).
//! - `NotSendable`: ureq's `Error::NonAsciiAuthorization` after the challenge.
//! - `Answered(status)`: that final status after the challenge and one answer.
//!
//! Every cell is recorded for `interop-report` (see `httpdigest_tests::matrix`). The tests
//! need the lab (`tests/interop/start-all.sh`): they are ignored by a plain `cargo test`, and
//! fail, never skip, when `--include-ignored` runs them with the lab down.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use std::sync::Mutex;
use std::time::Duration;

use httpdigest::DigestCredentials;
use httpdigest::client::Failure;
use httpdigest_tests::drive::{self, Adapter, Exchange, Outcome, Setup};
use httpdigest_tests::lab::{self, Expect, Row, Server};
use httpdigest_tests::matrix::{self, Record};

/// Held while a cell uses Apache's `/digest-stale/`. There (`AuthDigestNcCheck On`) each
/// challenge takes a client entry, named by `opaque`, in mod_auth_digest's shared memory,
/// which holds about six by default; when it is full, the next challenge collects the
/// oldest entries, possibly one just handed out, and an answer naming it gets 401
/// `stale=true`: one more exchange, caused by a concurrent cell. Those cells take turns.
static APACHE_STRICT: Mutex<()> = Mutex::new(());

/// Held while a cell goes through Squid. Squid keeps one credentials record per user name,
/// shared by every client: in one run, a client's correct answer for `alice` was refused
/// (407 with a new nonce) while another adapter's cell was sending `alice` with the wrong
/// password at the same moment. The Squid cells take turns.
static SQUID: Mutex<()> = Mutex::new(());

/// The lock a row's cells take turns on, if any.
fn turns(row: &Row) -> Option<&'static Mutex<()>> {
    if row.uses_apache_strict() {
        Some(&APACHE_STRICT)
    } else if row.proxy == Some(lab::SQUID) {
        Some(&SQUID)
    } else {
        None
    }
}

/// A cell's verdict: the table's text, and what went wrong.
struct Verdict {
    text: String,
    problems: Vec<String>,
}

impl Verdict {
    fn new() -> Self {
        Verdict {
            text: String::new(),
            problems: Vec::new(),
        }
    }

    fn check(&mut self, ok: bool, what: impl FnOnce() -> String) {
        if !ok {
            self.problems.push(what());
        }
    }
}

fn describe(exchanges: &[Exchange]) -> String {
    exchanges
        .iter()
        .map(|e| {
            format!(
                "\n    {} credentials={:?} -> {:?} {:?}",
                e.uri, e.sent, e.status, e.challenges
            )
        })
        .collect()
}

/// The credentials sent say what the row expects.
fn check_wire(verdict: &mut Verdict, row: &Row, sent: &str) {
    let credentials = match DigestCredentials::parse(sent.as_bytes()) {
        Ok(c) => c,
        Err(e) => {
            verdict
                .problems
                .push(format!("the credentials sent do not parse ({e}): {sent}"));
            return;
        }
    };
    if let Some(algorithm) = row.wire.algorithm {
        let sent_algorithm = credentials
            .algorithm_param()
            .map(|a| a.to_str().unwrap().into_owned());
        verdict.check(
            sent_algorithm
                .as_deref()
                .is_some_and(|a| a.eq_ignore_ascii_case(algorithm)),
            || format!("algorithm {sent_algorithm:?} sent, {algorithm} expected"),
        );
    }
    if let Some(qop) = row.wire.qop {
        let sent_qop = credentials.qop().map(|q| q.as_str());
        verdict.check(sent_qop == Some(qop), || {
            format!("qop {sent_qop:?} sent, {qop} expected")
        });
    }
    verdict.check(credentials.userhash() == row.wire.userhash, || {
        format!("userhash={} sent", credentials.userhash())
    });
    if row.wire.rfc2069 {
        verdict.check(
            credentials.qop().is_none()
                && credentials.nc().is_none()
                && credentials.cnonce().is_none(),
            || format!("RFC 2069 form expected (no qop, nc, cnonce): {sent}"),
        );
    }
}

/// One request expected to give 200 in `exchanges` exchanges, the last with credentials.
fn expect_ok(
    verdict: &mut Verdict,
    row: &Row,
    what: &str,
    got: (Outcome, Vec<Exchange>),
    n: usize,
) {
    let (outcome, exchanges) = got;
    verdict.check(outcome == Outcome::Status(200), || {
        format!("{what}: {outcome:?}, 200 expected{}", describe(&exchanges))
    });
    verdict.check(exchanges.len() == n, || {
        format!(
            "{what}: {} exchanges, {n} expected{}",
            exchanges.len(),
            describe(&exchanges)
        )
    });
    match exchanges.last().and_then(|e| e.sent.as_deref()) {
        Some(sent) => check_wire(verdict, row, sent),
        None => verdict.problems.push(format!(
            "{what}: the last exchange carried no credentials{}",
            describe(&exchanges)
        )),
    }
}

fn run_cell(adapter: Adapter, row: &Row) -> Verdict {
    let mut setup = Setup::new(row.user.name, row.user.password);
    match (row.proxy, row.proxy_user) {
        (Some(proxy), None) => setup = setup.via_proxy(proxy),
        (Some(proxy), Some(user)) => setup = setup.via_proxy_as(proxy, user.name, user.password),
        (None, _) => {}
    }
    let client = drive::driver(adapter, &setup);
    let mut verdict = Verdict::new();
    match row.expect(adapter) {
        expect @ (Expect::Authenticates
        | Expect::AuthenticatesInSecondForm
        | Expect::ChallengesEachRequest { .. }
        | Expect::RenewsStaleNonce) => {
            let first = client.get(&row.url);
            verdict.check(first.1.first().is_some_and(|e| e.sent.is_none()), || {
                format!(
                    "the first request went out with credentials{}",
                    describe(&first.1)
                )
            });
            let n = row.first_exchanges(adapter);
            expect_ok(&mut verdict, row, "first request", first, n);
            let again = if matches!(expect, Expect::ChallengesEachRequest { .. }) {
                2
            } else {
                1
            };
            expect_ok(
                &mut verdict,
                row,
                "second request",
                client.get(&row.url),
                again,
            );
            verdict.text = format!("200 {n}+{again}");
            if expect == Expect::RenewsStaleNonce {
                std::thread::sleep(Duration::from_secs(4));
                let (outcome, exchanges) = client.get(&row.url);
                verdict.check(
                    exchanges.first().is_some_and(|e| {
                        e.sent.is_some() && e.status == Some(401) && e.says_stale()
                    }),
                    || {
                        format!(
                            "after 4 s: no 401 stale=true to the credentials{}",
                            describe(&exchanges)
                        )
                    },
                );
                expect_ok(&mut verdict, row, "after 4 s", (outcome, exchanges), 2);
                verdict.text.push_str(", stale 2");
            }
        }
        Expect::Rejected(why) => {
            let (outcome, exchanges) = client.get(&row.url);
            verdict.check(
                outcome == Outcome::Failure(Failure::CredentialsRejected),
                || {
                    format!(
                        "{outcome:?}, CredentialsRejected expected ({why}){}",
                        describe(&exchanges)
                    )
                },
            );
            let n = 1 + row.answers(adapter);
            verdict.check(
                exchanges.len() == n
                    && exchanges[0].sent.is_none()
                    && exchanges[1..].iter().all(|e| e.sent.is_some()),
                || {
                    format!(
                        "the challenge and {} answer(s) expected{}",
                        n - 1,
                        describe(&exchanges)
                    )
                },
            );
            verdict.text = if why == "wrong password" {
                format!("rejected {n}")
            } else {
                format!("rejected {n} (server)")
            };
        }
        Expect::NotSendable => {
            let (outcome, exchanges) = client.get(&row.url);
            verdict.check(outcome == Outcome::NotSendable, || {
                format!(
                    "{outcome:?}, NonAsciiAuthorization expected{}",
                    describe(&exchanges)
                )
            });
            verdict.check(exchanges.len() == 1 && exchanges[0].sent.is_none(), || {
                format!("only the challenge expected{}", describe(&exchanges))
            });
            verdict.text = "not sendable".to_owned();
        }
        Expect::Answered(status, why) => {
            let (outcome, exchanges) = client.get(&row.url);
            verdict.check(outcome == Outcome::Status(status), || {
                format!(
                    "{outcome:?}, {status} expected ({why}){}",
                    describe(&exchanges)
                )
            });
            verdict.check(
                exchanges.len() == 2 && exchanges[0].sent.is_none() && exchanges[1].sent.is_some(),
                || format!("challenge and one answer expected{}", describe(&exchanges)),
            );
            verdict.text = format!("{status} 2 (server)");
        }
    }
    verdict
}

/// Every adapter on every row of `server`, one thread per adapter; records every cell and
/// fails with every problem found.
fn run(server: Server) {
    let rows: Vec<Row> = lab::rows()
        .into_iter()
        .filter(|r| r.server == server)
        .collect();
    let problems: Vec<String> = std::thread::scope(|scope| {
        let threads: Vec<_> = Adapter::ALL
            .into_iter()
            .map(|adapter| {
                let rows = &rows;
                scope.spawn(move || {
                    let mut problems = Vec::new();
                    for row in rows {
                        let _turn =
                            turns(row).map(|lock| lock.lock().unwrap_or_else(|e| e.into_inner()));
                        let verdict = run_cell(adapter, row);
                        let ok = verdict.problems.is_empty();
                        matrix::record(&Record {
                            adapter,
                            row: row.id(),
                            ok,
                            text: verdict.text.clone(),
                        });
                        if !ok {
                            problems.push(format!(
                                "{} on {} ({}):\n  {}",
                                adapter.name(),
                                row.id(),
                                row.url,
                                verdict.problems.join("\n  ")
                            ));
                        }
                    }
                    problems
                })
            })
            .collect();
        threads
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect()
    });
    assert!(
        problems.is_empty(),
        "{} cell(s) failed:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// A client with a cookie store of its own keeps the session cookie Flask-HTTPAuth's 401
/// sets, so that its nonce goes on being accepted: with the core's `challenge_cookies` off,
/// reqwest's store carries the cookie, and every request after the first goes at once (the
/// core alone sends the cookie with the answer only: `ChallengesEachRequest`).
#[test]
#[ignore = "needs the interop lab: tests/interop/start-all.sh"]
fn flask_session_with_reqwest_cookie_store() {
    let url = format!("{}/session/", lab::FLASK_HTTPAUTH);
    let mut setup = Setup::new(lab::ALICE.name, lab::ALICE.password);
    setup.cookie_store = true;
    setup.config = setup.config.with_challenge_cookies(false);
    let client = drive::driver(Adapter::Reqwest, &setup);
    for (request, n) in [("first", 2), ("second", 1), ("third", 1)] {
        let (outcome, exchanges) = client.get(&url);
        assert_eq!(
            outcome,
            Outcome::Status(200),
            "{request}{}",
            describe(&exchanges)
        );
        assert_eq!(exchanges.len(), n, "{request}{}", describe(&exchanges));
    }
}

#[test]
#[ignore = "needs the interop lab: tests/interop/start-all.sh"]
fn apache() {
    run(Server::Apache);
}

#[test]
#[ignore = "needs the interop lab: tests/interop/start-all.sh"]
fn lighttpd() {
    run(Server::Lighttpd);
}

#[test]
#[ignore = "needs the interop lab: tests/interop/start-all.sh"]
fn httpbin() {
    run(Server::Httpbin);
}

#[test]
#[ignore = "needs the interop lab: tests/interop/start-all.sh"]
fn squid_proxy() {
    run(Server::Squid);
}

#[test]
#[ignore = "needs the interop lab: tests/interop/start-all.sh"]
fn tomcat() {
    run(Server::Tomcat);
}

#[test]
#[ignore = "needs the interop lab: tests/interop/start-all.sh"]
fn twisted() {
    run(Server::Twisted);
}

#[test]
#[ignore = "needs the interop lab: tests/interop/start-all.sh"]
fn flask_httpauth() {
    run(Server::FlaskHttpauth);
}

#[test]
#[ignore = "needs the interop lab: tests/interop/start-all.sh"]
fn http_auth() {
    run(Server::HttpAuth);
}

#[test]
#[ignore = "needs the interop lab: tests/interop/start-all.sh"]
fn go_http_auth() {
    run(Server::GoHttpAuth);
}

#[test]
#[ignore = "needs the interop lab: tests/interop/start-all.sh"]
fn cherrypy() {
    run(Server::Cherrypy);
}
