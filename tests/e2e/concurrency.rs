//! Concurrency against a server that checks nonce counts strictly: Apache mod_auth_digest's
//! `/digest-stale/` (`AuthDigestNcCheck On`, 3 s nonce lifetime, `nextnonce` on every
//! answer). Through each adapter, one shared client sends 200 GETs, 16 at a time, after one
//! request has learned the protection space (the steady state of an application).
//!
//! mod_auth_digest keeps one counter per client entry (`opaque`), checks that each request's
//! `nc` is exactly the next value, resets it with every `nextnonce`, and keeps only a few
//! entries in its default shared memory, collecting all of them when it is full. Concurrent
//! requests therefore reach it out of order however the client counts, and some are
//! refused. What the suite requires of every adapter: each request succeeds, or fails with
//! the documented reason `Failure::OutOfOrder` (never `CredentialsRejected`, never a
//! transport error); no request is sent more than three times; no (nonce, nc) pair is sent
//! twice. The counts are printed and recorded for `interop-report`.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stderr
)]

use std::collections::{BTreeMap, HashSet};
use std::io::Write as _;
use std::time::Instant;

use httpdigest::DigestCredentials;
use httpdigest::client::Failure;
use httpdigest_tests::drive::{self, Adapter, Exchange, Outcome, Setup};
use httpdigest_tests::lab::{ALICE, APACHE_STRICT, CONCURRENCY_ROW};
use httpdigest_tests::matrix::{self, Record};

const REQUESTS: usize = 200;
const AT_ONCE: usize = 16;

/// One learning request, then the requests, `AT_ONCE` threads sharing one client.
fn run(adapter: Adapter) -> Vec<(Outcome, Vec<Exchange>)> {
    let client = drive::driver(adapter, &Setup::new(ALICE.name, ALICE.password));
    let learn = client.get(APACHE_STRICT);
    assert_eq!(
        learn.0,
        Outcome::Status(200),
        "{}: {:?}",
        adapter.name(),
        learn.1
    );
    drive::hammer(&*client, REQUESTS, AT_ONCE, |i| {
        format!("{APACHE_STRICT}?request={i}")
    })
}

/// Checks one adapter's run; returns the table's text and the problems.
fn judge(results: &[(Outcome, Vec<Exchange>)]) -> (String, Vec<String>) {
    let mut problems = Vec::new();
    let mut outcomes: BTreeMap<String, usize> = BTreeMap::new();
    let mut sends: BTreeMap<usize, usize> = BTreeMap::new();
    let mut counts = HashSet::new();
    for (outcome, exchanges) in results {
        *outcomes.entry(format!("{outcome:?}")).or_default() += 1;
        *sends.entry(exchanges.len()).or_default() += 1;
        if !matches!(
            outcome,
            Outcome::Status(200) | Outcome::Failure(Failure::OutOfOrder)
        ) {
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
    let ok = outcomes.get("Status(200)").copied().unwrap_or(0);
    let out_of_order = outcomes.get("Failure(OutOfOrder)").copied().unwrap_or(0);
    let exchanges: usize = results.iter().map(|(_, e)| e.len()).sum();
    let text = format!("{ok} ok + {out_of_order} OutOfOrder");
    let detail = format!("{text}; {exchanges} exchanges; sends per request {sends:?}");
    (detail, problems)
}

#[test]
#[ignore = "needs the interop lab: tests/interop/start-all.sh"]
fn strict_nonce_counts_200_requests_16_at_a_time() {
    let mut failures = Vec::new();
    for adapter in Adapter::ALL {
        let started = Instant::now();
        let results = run(adapter);
        let seconds = started.elapsed().as_secs_f64();
        assert_eq!(results.len(), REQUESTS);
        let (detail, problems) = judge(&results);
        let line = format!(
            "concurrency, {}: {REQUESTS} GETs {AT_ONCE} at a time in {seconds:.2} s: {detail}\n",
            adapter.name()
        );
        std::io::stderr().lock().write_all(line.as_bytes()).unwrap();
        matrix::record(&Record {
            adapter,
            row: CONCURRENCY_ROW.to_owned(),
            ok: problems.is_empty(),
            text: detail.split(';').next().unwrap_or_default().to_owned(),
        });
        if !problems.is_empty() {
            failures.push(format!("{}:\n  {}", adapter.name(), problems.join("\n  ")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
