//! A server that forgets its record of the client: Apache's mod_auth_digest keeps a small
//! table of clients, named by `opaque`, and empties it when it is full. A request whose
//! record was collected gets `stale=true` with a new opaque; if the new record is collected
//! too before the answer arrives, the request answers once more, within the bound on sends.
//! A nonce that goes stale twice with the same opaque is answered once only.

use httpdigest::client::{Action, Client, Exchange, Failure, Request};
use httpdigest::{OriginRef, Scheme};

use crate::by_hand::{respond, sent};
use crate::common::TestRng;

const ORIGIN: OriginRef<'static> = OriginRef {
    scheme: Scheme::Http,
    host: "apache.local",
    port: 80,
};

fn challenge(nonce: &str, opaque: &str, stale: bool) -> String {
    let stale = if stale { ", stale=true" } else { "" };
    format!(
        r#"Digest realm="r", nonce="{nonce}", algorithm=MD5, opaque="{opaque}"{stale}, qop="auth""#
    )
}

/// A client whose space was accepted with opaque "1", and a request sent preemptively.
fn preemptive(rng: &mut TestRng) -> (Client, Exchange, Request<'static>) {
    let mut client = Client::with_password("alice", "s3cret");
    let request = Request::new("GET", "/digest-stale/", ORIGIN);
    let (mut exchange, _) = client.begin(&request, rng);
    let www = challenge("n1", "1", false);
    let _ = respond(&mut client, &mut exchange, &request, 401, Some(&www), rng);
    let done = respond(&mut client, &mut exchange, &request, 200, None, rng);
    assert!(matches!(done, Action::Done));
    let (exchange, action) = client.begin(&request, rng);
    assert!(sent(action, &request).unwrap().contains(r#"opaque="1""#));
    (client, exchange, request)
}

#[test]
fn a_record_collected_twice_is_answered_twice_within_the_bound() {
    let mut rng = TestRng::new(8);
    let (mut client, mut exchange, request) = preemptive(&mut rng);
    let www = challenge("n2", "2", true);
    let action = respond(
        &mut client,
        &mut exchange,
        &request,
        401,
        Some(&www),
        &mut rng,
    );
    assert!(sent(action, &request).unwrap().contains(r#"opaque="2""#));
    let www = challenge("n3", "3", true);
    let action = respond(
        &mut client,
        &mut exchange,
        &request,
        401,
        Some(&www),
        &mut rng,
    );
    let answer = sent(action, &request).unwrap();
    assert!(
        answer.contains(r#"opaque="3""#) && answer.contains(r#"nonce="n3""#),
        "{answer}"
    );
    assert_eq!(exchange.extra_sends(), 2);
    // The bound holds: a third stale ends the request.
    let www = challenge("n4", "4", true);
    let action = respond(
        &mut client,
        &mut exchange,
        &request,
        401,
        Some(&www),
        &mut rng,
    );
    assert!(
        matches!(action, Action::Fail(Failure::RetriesExhausted)),
        "{action:?}"
    );
}

#[test]
fn a_nonce_stale_twice_with_the_same_record_is_answered_once() {
    let mut rng = TestRng::new(9);
    let (mut client, mut exchange, request) = preemptive(&mut rng);
    let www = challenge("n2", "1", true);
    let action = respond(
        &mut client,
        &mut exchange,
        &request,
        401,
        Some(&www),
        &mut rng,
    );
    assert!(sent(action, &request).unwrap().contains(r#"nonce="n2""#));
    let www = challenge("n3", "1", true);
    let action = respond(
        &mut client,
        &mut exchange,
        &request,
        401,
        Some(&www),
        &mut rng,
    );
    assert!(
        matches!(action, Action::Fail(Failure::RetriesExhausted)),
        "{action:?}"
    );
}
