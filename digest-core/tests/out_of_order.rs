//! `Failure::OutOfOrder`: a server that checks nonce counts strictly refuses requests that
//! overtook each other, even with the right password. The client tells that case from a
//! wrong password by two facts it knows: the space's credentials were accepted before, and
//! the refused request overlapped another one from the same space. A race keeps the space in
//! use; a refusal with nothing overlapping it is `CredentialsRejected`, which retires it.
//!
//! The server is the crate's own `Verifier` with a strict nonce-count store ([`Strict`]; the
//! crate's own store accepts counts that overtook each other). Requests reach it in the
//! order each test sends them, and their answers come back to the client in another order.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

mod common;
use common::TestRng;
use common::pair::{Next, Pair};

use std::cell::Cell;

use httpdigest::NonceCount;
use httpdigest::client::{Client, ClientConfig, Credentials, Failure};
use httpdigest::server::{
    NonceCountCheck, NonceCountStore, Reason, Users, Verifier, VerifierConfig,
};
use httpdigest::{OriginRef, Scheme};

const ORIGIN: OriginRef<'static> = OriginRef {
    scheme: Scheme::Http,
    host: "camera.local",
    port: 80,
};

/// Nonce counts as strict as they come: one counter across all nonces (one client here),
/// and a count not above the highest accepted is refused as a replay. A request overtaken
/// by another is refused, and so is its answer to the fresh challenge that follows, whose
/// count starts again from 1.
#[derive(Default)]
struct Strict(Cell<u32>);

impl NonceCountStore for Strict {
    fn record(&self, _nonce: &[u8], _issued_at: u64, nc: NonceCount, _now: u64) -> NonceCountCheck {
        if nc.get() > self.0.get() {
            self.0.set(nc.get());
            NonceCountCheck::Fresh
        } else {
            NonceCountCheck::Replayed
        }
    }
}

/// A camera with one user, `alice`, offering MD5 with `qop=auth`, and a client with
/// `password`.
fn pair(password: &str, seed: u64) -> Pair<Users, Strict> {
    let verifier = Verifier::new(
        VerifierConfig::new("cam").with_algorithms([httpdigest::Algorithm::Md5]),
        b"out_of_order tests: a key of more than 32 bytes",
    );
    let mut users = Users::new("cam");
    users.insert("alice", "s3cret");
    let client = Client::new(Credentials::new("alice", password), ClientConfig::default());
    let mut pair = Pair::new(client, verifier, users, Strict::default());
    pair.origin = ORIGIN;
    pair.rng = TestRng::new(seed);
    pair
}

/// A pair whose space `cam` was accepted once (challenge, answer, 200).
fn accepted_pair(seed: u64) -> Pair<Users, Strict> {
    let mut pair = pair("s3cret", seed);
    let call = pair.get("/snapshot");
    assert!(call.sends[0].authorization.is_none());
    call.assert_done(2);
    pair
}

#[test]
fn overlapping_requests_refused_after_acceptance_are_out_of_order() {
    let mut pair = accepted_pair(1);
    let mut a = pair.begin("GET", "/snapshot", b"");
    let mut b = pair.begin("GET", "/snapshot", b"");
    assert!(
        a.sends[0].authorization.is_some() && b.sends[0].authorization.is_some(),
        "both go out preemptively"
    );

    // B overtakes A on the way to the server: A is refused (a fresh nonce, not stale),
    // answered, refused again; B's answer comes back last.
    pair.serve(&mut b);
    assert!(matches!(pair.step(&mut a), Next::Send(_)));
    let refused = a.verdicts[0].as_ref().unwrap_err();
    assert_eq!(refused.reason(), &Reason::ReplayedNonceCount);
    assert!(!refused.stale());
    assert_eq!(pair.step(&mut a), &Next::Fail(Failure::OutOfOrder));
    assert_eq!(pair.deliver(&mut b), &Next::Done);

    // The space stays in use.
    let call = pair.begin("GET", "/snapshot", b"");
    assert!(
        call.sends[0].authorization.is_some(),
        "a race does not retire the space"
    );
}

#[test]
fn a_refusal_with_nothing_overlapping_is_a_rejection() {
    let mut pair = accepted_pair(2);
    // The password changed on the server: one request at a time.
    pair.users.insert("alice", "changed");
    let mut c = pair.begin("GET", "/snapshot", b"");
    assert!(c.sends[0].authorization.is_some());
    assert!(matches!(pair.step(&mut c), Next::Send(_)));
    assert_eq!(pair.step(&mut c), &Next::Fail(Failure::CredentialsRejected));
    let call = pair.begin("GET", "/snapshot", b"");
    assert!(
        call.sends[0].authorization.is_none(),
        "a rejection retires the space"
    );
}

#[test]
fn a_space_never_accepted_gives_no_out_of_order() {
    let mut pair = pair("wrong", 3);
    let mut a = pair.begin("GET", "/snapshot", b"");
    let mut b = pair.begin("GET", "/snapshot", b"");
    assert!(matches!(pair.step(&mut a), Next::Send(_)));
    assert!(matches!(pair.step(&mut b), Next::Send(_)));
    for call in [&mut a, &mut b] {
        assert_eq!(pair.step(call), &Next::Fail(Failure::CredentialsRejected));
    }
}
