//! Servers that check nonce counts strictly refuse requests that overtook each other, even
//! with the right password. The client tells that case from a wrong password by two facts it
//! knows: the space's credentials were accepted before, and the refused request overlapped
//! another one from the same nonce. With the default policy (`Strict::Learned`) it then takes
//! the server as strict: the refused request waits for the nonce to be free and goes again,
//! and the requests after it go one after another. With `Strict::Never` such a refusal, when
//! it comes again, is `Failure::OutOfOrder`. A race keeps the space in use; a refusal with
//! nothing overlapping it is `CredentialsRejected`, which retires it.
//!
//! The server is the crate's own `Verifier` with a strict nonce-count store ([`PerNonce`] or
//! the harsher [`Strict`]; the crate's own store accepts counts that overtook each other).
//! Requests reach it in the order each test sends them, and their answers come back to the
//! client in another order.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

mod common;
use common::TestRng;
use common::pair::{Next, Pair};

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use httpdigest::NonceCount;
use httpdigest::client::{Client, ClientConfig, Credentials, Failure, Strict as Policy};
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
    fn record(
        &self,
        _nonce: &[u8],
        _user: &[u8],
        _issued_at: u64,
        nc: NonceCount,
        _now: u64,
    ) -> NonceCountCheck {
        if nc.get() > self.0.get() {
            self.0.set(nc.get());
            NonceCountCheck::Fresh
        } else {
            NonceCountCheck::Replayed
        }
    }
}

/// Nonce counts strict per nonce: a count not above the highest accepted with its nonce is
/// refused as a replay (whoever sends it: these tests have one user).
#[derive(Default)]
struct PerNonce(RefCell<HashMap<Vec<u8>, u32>>);

impl NonceCountStore for PerNonce {
    fn record(
        &self,
        nonce: &[u8],
        _user: &[u8],
        _issued_at: u64,
        nc: NonceCount,
        _now: u64,
    ) -> NonceCountCheck {
        let mut seen = self.0.borrow_mut();
        let last = seen.entry(nonce.to_vec()).or_default();
        if nc.get() > *last {
            *last = nc.get();
            NonceCountCheck::Fresh
        } else {
            NonceCountCheck::Replayed
        }
    }
}

/// A camera with one user, `alice`, offering MD5 with `qop=auth`, a client with `password`
/// and `policy`, and the store `N`.
fn pair_with<N: NonceCountStore + Default>(
    password: &str,
    seed: u64,
    policy: Policy,
) -> Pair<Users, N> {
    let verifier = Verifier::new(
        VerifierConfig::new("cam").with_algorithms([httpdigest::Algorithm::Md5]),
        b"out_of_order tests: a key of more than 32 bytes",
    )
    .unwrap();
    let mut users = Users::new("cam");
    users.insert("alice", "s3cret");
    let config = ClientConfig::default().with_strict(policy);
    let client = Client::new(Credentials::new("alice", password), config);
    let mut pair = Pair::new(client, verifier, users, N::default());
    pair.origin = ORIGIN;
    pair.rng = TestRng::new(seed);
    pair
}

/// A pair whose space `cam` was accepted once (challenge, answer, 200).
fn accepted_pair<N: NonceCountStore + Default>(seed: u64, policy: Policy) -> Pair<Users, N> {
    let mut pair = pair_with("s3cret", seed, policy);
    let call = pair.get("/snapshot");
    assert!(call.sends[0].authorization.is_none());
    call.assert_done(2);
    pair
}

#[test]
fn a_refused_overlapping_request_waits_for_its_nonce_and_goes_in_order() {
    let mut pair: Pair<Users, PerNonce> = accepted_pair(1, Policy::Learned);
    let mut a = pair.begin("GET", "/snapshot", b"");
    let mut b = pair.begin("GET", "/snapshot", b"");
    assert!(
        a.sends[0].authorization.is_some() && b.sends[0].authorization.is_some(),
        "both go out preemptively, sharing the nonce"
    );

    // B overtakes A on the way to the server: A is refused (a fresh nonce, not stale). The
    // server checks counts strictly: A waits until B's answer is back.
    pair.serve(&mut b);
    assert_eq!(pair.step(&mut a), &Next::Wait);
    let refused = a.verdicts[0].as_ref().unwrap_err();
    assert_eq!(refused.reason(), &Reason::ReplayedNonceCount);
    assert!(!refused.stale());
    assert!(pair.ready().is_empty());
    assert_eq!(pair.deliver(&mut b), &Next::Done);
    assert_eq!(pair.ready(), [a.id()]);
    assert!(matches!(pair.resume(&mut a), Next::Send(_)));
    pair.drive(&mut a);
    assert_eq!(a.action, Next::Done);
    assert_eq!(a.exchanges(), 2, "one send again, within the bound");

    // From now on the nonce carries one request at a time: a second request meanwhile goes
    // without credentials, to fetch the challenge of another nonce.
    let mut c = pair.begin("GET", "/snapshot", b"");
    let mut d = pair.begin("GET", "/snapshot", b"");
    assert!(c.sends[0].authorization.is_some());
    assert!(
        d.sends[0].authorization.is_none(),
        "it opens a second nonce"
    );
    pair.drive(&mut d);
    pair.drive(&mut c);
    assert_eq!((&c.action, &d.action), (&Next::Done, &Next::Done));
    // The next two go at once, each on its own nonce.
    let mut e = pair.begin("GET", "/snapshot", b"");
    let mut f = pair.begin("GET", "/snapshot", b"");
    let nonce = |call: &common::pair::Call| {
        let header = call.sends[0].authorization.clone().unwrap();
        httpdigest::DigestCredentials::parse(header.as_bytes())
            .unwrap()
            .nonce()
            .to_str()
            .unwrap()
            .into_owned()
    };
    assert_ne!(nonce(&e), nonce(&f));
    pair.serve(&mut f);
    pair.serve(&mut e);
    assert_eq!(pair.deliver(&mut e), &Next::Done);
    assert_eq!(pair.deliver(&mut f), &Next::Done);
}

#[test]
fn with_strictness_never_learned_a_refusal_that_comes_again_is_out_of_order() {
    let mut pair: Pair<Users, Strict> = accepted_pair(1, Policy::Never);
    let mut a = pair.begin("GET", "/snapshot", b"");
    let mut b = pair.begin("GET", "/snapshot", b"");
    assert!(
        a.sends[0].authorization.is_some() && b.sends[0].authorization.is_some(),
        "both go out preemptively"
    );

    // B overtakes A on the way to the server: A is refused (a fresh nonce, not stale),
    // answered at once, refused again; B's answer comes back last.
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
    let mut pair: Pair<Users, PerNonce> = accepted_pair(2, Policy::Learned);
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
    let mut pair: Pair<Users, PerNonce> = pair_with("wrong", 3, Policy::Learned);
    let mut a = pair.begin("GET", "/snapshot", b"");
    // B waits for what A learns of the origin.
    let mut b = pair.begin("GET", "/snapshot", b"");
    assert_eq!(b.action, Next::Wait);
    assert!(matches!(pair.step(&mut a), Next::Send(_)));
    assert_eq!(pair.step(&mut a), &Next::Fail(Failure::CredentialsRejected));
    // A failed: B takes its role over, and fails the same way, on its own.
    assert_eq!(pair.ready(), [b.id()]);
    assert!(matches!(pair.resume(&mut b), Next::Send(_)));
    assert!(b.sends[0].authorization.is_none());
    assert!(matches!(pair.step(&mut b), Next::Send(_)));
    assert_eq!(pair.step(&mut b), &Next::Fail(Failure::CredentialsRejected));
}
