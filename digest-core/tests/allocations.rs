//! Allocation counts (not timings) of the hot paths, with a counting global allocator:
//! parsing a challenge allocates nothing; a request on a known protection space allocates
//! only its header value; writing credentials into a buffer with room allocates nothing.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;
use common::pair::{Pair, counts_for};

use std::alloc::System;

use httpdigest::client::{Action, Client, ClientConfig, Credentials, Request, Response};
use httpdigest::server::{Users, Verifier, VerifierConfig};
use httpdigest::{
    Algorithm, CredentialsParams, DigestChallenge, NonceCount, Qop, QopOptions, UsernameParam,
};
use httpdigest::{OriginRef, Scheme};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Allocations (and reallocations) made while `f` runs. The counter is global: the checks
/// run in one test function so that no other test allocates meanwhile.
fn allocations<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let region = Region::new(GLOBAL);
    let out = f();
    let change = region.change();
    (out, change.allocations + change.reallocations)
}

const RFC7616_391_SHA256: &[u8] = br#"Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#;

fn parsing_a_challenge_allocates_nothing() {
    let (challenge, n) = allocations(|| {
        let c = DigestChallenge::parse(RFC7616_391_SHA256).unwrap();
        (
            c.algorithm(),
            c.qop(),
            c.realm().unescaped().len(),
            c.nonce().unescaped().len(),
        )
    });
    assert_eq!(n, 0, "{challenge:?}");
}

fn writing_credentials_into_a_buffer_with_room_allocates_nothing() {
    let mut out = String::with_capacity(512);
    let params = CredentialsParams {
        algorithm: Some("SHA-256"),
        nc: Some(NonceCount::FIRST),
        cnonce: Some("f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"),
        qop: Some(Qop::Auth),
        opaque: Some("FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"),
        ..CredentialsParams::new(
            UsernameParam::Plain("Mufasa"),
            "http-auth@example.org",
            "/dir/index.html",
            "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
            "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
        )
    };
    let ((), n) = allocations(|| params.write(&mut out).unwrap());
    assert_eq!(n, 0);
    assert!(out.starts_with("Digest username=\"Mufasa\""));
}

fn a_request_on_a_known_space_allocates_only_its_header() {
    // The space becomes known through one request against the RFC 7616 §3.9.1 server
    // (SHA-256, `auth` and `auth-int`, its opaque), outside the count.
    let verifier = Verifier::new(
        VerifierConfig::new("http-auth@example.org")
            .with_algorithms([Algorithm::Sha256])
            .with_qop(QopOptions::BOTH)
            .with_opaque("FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"),
        b"allocations test: a key of more than 32 bytes",
    )
    .unwrap();
    let mut users = Users::new("http-auth@example.org");
    users.insert("Mufasa", "Circle of Life");
    let client = Client::new(
        Credentials::new("Mufasa", "Circle of Life"),
        ClientConfig::default(),
    );
    let counts = counts_for(&verifier);
    let mut pair = Pair::new(client, verifier, users, counts);
    pair.get("/dir/index.html").assert_done(2);

    // Then only the client's own calls are counted.
    let Pair { client, rng, .. } = &mut pair;
    let origin = OriginRef {
        scheme: Scheme::Http,
        host: "www.example.org",
        port: 80,
    };
    let request = Request::new("GET", "/dir/index.html", origin);
    for _ in 0..3 {
        let ((exchange, headers), n) = allocations(|| {
            let (exchange, action) = client.begin(&request, rng);
            let Action::Send(ticket) = action else {
                panic!("nothing to wait for");
            };
            (exchange, ticket.sign(&request).unwrap())
        });
        assert_eq!(
            n, 1,
            "begin and sign on a known space: one allocation, the header value"
        );
        assert!(headers.authorization.is_some());
        let mut exchange = exchange;
        let (action, n) = allocations(|| {
            client.handle_response(&mut exchange, &request, &Response::new(200), rng)
        });
        assert!(matches!(action, Action::Done));
        assert_eq!(n, 0, "a 200 allocates nothing");
    }
}

#[test]
fn hot_paths_allocate_only_their_output() {
    parsing_a_challenge_allocates_nothing();
    writing_credentials_into_a_buffer_with_room_allocates_nothing();
    a_request_on_a_known_space_allocates_only_its_header();
}
