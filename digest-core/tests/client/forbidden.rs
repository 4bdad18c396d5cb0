//! 403 to reused credentials. Some NVRs and cameras answer 403, not 401 with `stale=true`,
//! to a nonce they no longer accept (they moved on to another one). Credentials sent from a
//! known space get one fresh handshake within the bound on sends (the request goes without
//! credentials, and answers the challenge that comes); a 403 to credentials that answered a
//! challenge is final, and so is a 403 to a request that sent none.

use httpdigest::client::{Action, Client, Request};
use httpdigest::{DigestCredentials, OriginRef, Scheme};

use crate::by_hand::{respond, sent};
use crate::common::TestRng;

const ORIGIN: OriginRef<'static> = OriginRef {
    scheme: Scheme::Http,
    host: "nvr.local",
    port: 80,
};

fn challenge(nonce: &str) -> String {
    format!(r#"Digest realm="nvr", nonce="{nonce}", qop="auth", algorithm=MD5"#)
}

/// A client that learned the space with nonce `n1`.
fn learned(rng: &mut TestRng) -> Client {
    let mut client = Client::with_password("admin", "12345");
    let request = Request::new("GET", "/ISAPI/status", ORIGIN);
    let (mut exchange, action) = client.begin(&request, rng);
    assert_eq!(sent(action, &request), None);
    let www = challenge("n1");
    let action = respond(&mut client, &mut exchange, &request, 401, Some(&www), rng);
    assert!(sent(action, &request).is_some());
    let done = respond(&mut client, &mut exchange, &request, 200, None, rng);
    assert!(matches!(done, Action::Done));
    client
}

#[test]
fn a_403_to_reused_credentials_gets_one_fresh_handshake() {
    let mut rng = TestRng::new(3);
    let mut client = learned(&mut rng);
    let request = Request::new("GET", "/ISAPI/status", ORIGIN);
    let (mut exchange, action) = client.begin(&request, &mut rng);
    let first = sent(action, &request).expect("preemptive credentials");
    assert!(first.contains(r#"nonce="n1""#), "{first}");

    // The NVR moved on: 403. The request goes again without credentials...
    let action = respond(&mut client, &mut exchange, &request, 403, None, &mut rng);
    assert_eq!(sent(action, &request), None, "a fresh handshake");
    // ... and answers the challenge that comes.
    let www = challenge("n2");
    let action = respond(
        &mut client,
        &mut exchange,
        &request,
        401,
        Some(&www),
        &mut rng,
    );
    let answer = sent(action, &request).expect("the answer");
    let creds = DigestCredentials::parse(answer.as_bytes()).unwrap();
    assert_eq!(creds.nonce().to_str().unwrap(), "n2");
    assert_eq!(exchange.extra_sends(), 2, "within the bound");
    let done = respond(&mut client, &mut exchange, &request, 200, None, &mut rng);
    assert!(matches!(done, Action::Done));

    // The next request uses the new nonce at once.
    let (_, action) = client.begin(&request, &mut rng);
    let next = sent(action, &request).unwrap();
    assert!(
        next.contains(r#"nonce="n2""#) && next.contains("nc=00000002"),
        "{next}"
    );
}

#[test]
fn a_403_to_freshly_answered_credentials_is_final() {
    let mut rng = TestRng::new(4);
    let mut client = learned(&mut rng);
    let request = Request::new("GET", "/ISAPI/status", ORIGIN);
    let (mut exchange, action) = client.begin(&request, &mut rng);
    assert!(sent(action, &request).is_some());
    let action = respond(&mut client, &mut exchange, &request, 403, None, &mut rng);
    assert_eq!(sent(action, &request), None);
    let www = challenge("n2");
    let action = respond(
        &mut client,
        &mut exchange,
        &request,
        401,
        Some(&www),
        &mut rng,
    );
    assert!(sent(action, &request).is_some());
    // Forbidden to the answer of a fresh challenge: the user may not see this page.
    let action = respond(&mut client, &mut exchange, &request, 403, None, &mut rng);
    assert!(matches!(action, Action::Done), "{action:?}");
    assert!(exchange.finished());

    // A 403 to the answer of the very first challenge is final too.
    let mut fresh = Client::with_password("admin", "12345");
    let (mut exchange, action) = fresh.begin(&request, &mut rng);
    assert_eq!(sent(action, &request), None);
    let action = respond(
        &mut fresh,
        &mut exchange,
        &request,
        401,
        Some(&www),
        &mut rng,
    );
    assert!(sent(action, &request).is_some());
    let action = respond(&mut fresh, &mut exchange, &request, 403, None, &mut rng);
    assert!(matches!(action, Action::Done), "{action:?}");
}

#[test]
fn a_403_without_credentials_is_final() {
    let mut rng = TestRng::new(5);
    let mut client = Client::with_password("admin", "12345");
    let request = Request::new("GET", "/forbidden", ORIGIN);
    let (mut exchange, action) = client.begin(&request, &mut rng);
    assert_eq!(sent(action, &request), None);
    let action = respond(&mut client, &mut exchange, &request, 403, None, &mut rng);
    assert!(matches!(action, Action::Done), "{action:?}");
}

/// While one request makes the fresh handshake, the others refused with 403 wait for it and
/// then go with the new nonce: one challenge for all of them. None starts it while another
/// is still in flight with the dead nonce: its answer may bring the fresh challenge (a server
/// that moved on challenges one request and refuses the others).
#[test]
fn requests_refused_together_share_one_handshake() {
    let mut rng = TestRng::new(6);
    let mut client = learned(&mut rng);
    let request = Request::new("GET", "/ISAPI/status", ORIGIN);
    let (mut a, action) = client.begin(&request, &mut rng);
    assert!(sent(action, &request).is_some());
    let (mut b, action) = client.begin(&request, &mut rng);
    assert!(sent(action, &request).is_some());

    let action = respond(&mut client, &mut a, &request, 403, None, &mut rng);
    assert!(
        matches!(action, Action::Wait),
        "b is still in flight: {action:?}"
    );
    let action = respond(&mut client, &mut b, &request, 403, None, &mut rng);
    assert_eq!(sent(action, &request), None, "b makes the handshake");
    assert_eq!(client.poll_ready(), None, "a waits for it");

    let www = challenge("n2");
    let action = respond(&mut client, &mut b, &request, 401, Some(&www), &mut rng);
    assert!(sent(action, &request).is_some());
    assert_eq!(client.poll_ready(), None, "n2's first count is in flight");
    let done = respond(&mut client, &mut b, &request, 200, None, &mut rng);
    assert!(matches!(done, Action::Done));
    assert_eq!(client.poll_ready(), Some(a.id()));
    let header = sent(client.resume(&mut a, &request, &mut rng), &request).unwrap();
    assert!(
        header.contains(r#"nonce="n2""#) && header.contains("nc=00000002"),
        "{header}"
    );
    assert_eq!(a.extra_sends(), 1);
}

/// The request that the server challenged while it moved on (the others get 403) answers
/// its challenge; the ones refused with 403 meanwhile wait for that answer instead of
/// fetching another challenge, which would make the server move on again.
#[test]
fn a_challenge_that_comes_with_the_403s_is_the_handshake() {
    let mut rng = TestRng::new(10);
    let mut client = learned(&mut rng);
    let request = Request::new("GET", "/ISAPI/status", ORIGIN);
    let (mut a, action) = client.begin(&request, &mut rng);
    assert!(sent(action, &request).is_some());
    let (mut b, action) = client.begin(&request, &mut rng);
    assert!(sent(action, &request).is_some());
    let (mut c, action) = client.begin(&request, &mut rng);
    assert!(sent(action, &request).is_some());

    // a's 403 comes back first, then the challenge b got, then c's 403.
    let action = respond(&mut client, &mut a, &request, 403, None, &mut rng);
    assert!(matches!(action, Action::Wait), "{action:?}");
    let www = challenge("n2");
    let action = respond(&mut client, &mut b, &request, 401, Some(&www), &mut rng);
    assert!(sent(action, &request).unwrap().contains(r#"nonce="n2""#));
    let action = respond(&mut client, &mut c, &request, 403, None, &mut rng);
    assert!(matches!(action, Action::Wait), "{action:?}");
    assert_eq!(client.poll_ready(), None);
    let done = respond(&mut client, &mut b, &request, 200, None, &mut rng);
    assert!(matches!(done, Action::Done));
    let mut ready: Vec<u64> = core::iter::from_fn(|| client.poll_ready()).collect();
    ready.sort_unstable();
    assert_eq!(ready, [a.id(), c.id()]);
    for exchange in [&mut a, &mut c] {
        let header = sent(client.resume(exchange, &request, &mut rng), &request).unwrap();
        assert!(header.contains(r#"nonce="n2""#), "{header}");
    }
}

/// The request making the fresh handshake is abandoned: the next one refused with 403 takes
/// the handshake over, instead of waiting for its bound.
#[test]
fn an_abandoned_handshake_is_taken_over() {
    let mut rng = TestRng::new(7);
    let mut client = learned(&mut rng);
    let request = Request::new("GET", "/ISAPI/status", ORIGIN);
    let (mut a, action) = client.begin(&request, &mut rng);
    assert!(sent(action, &request).is_some());
    let (mut b, action) = client.begin(&request, &mut rng);
    assert!(sent(action, &request).is_some());
    let action = respond(&mut client, &mut a, &request, 403, None, &mut rng);
    assert!(matches!(action, Action::Wait), "{action:?}");
    let action = respond(&mut client, &mut b, &request, 403, None, &mut rng);
    assert_eq!(sent(action, &request), None, "b makes the handshake");
    client.abandon(&mut b);
    assert_eq!(client.poll_ready(), Some(a.id()));
    let action = client.resume(&mut a, &request, &mut rng);
    assert_eq!(
        sent(action, &request),
        None,
        "a fetches the challenge itself"
    );
    let www = challenge("n2");
    let action = respond(&mut client, &mut a, &request, 401, Some(&www), &mut rng);
    assert!(sent(action, &request).unwrap().contains(r#"nonce="n2""#));
    assert_eq!(a.extra_sends(), 2);
}

/// A 403 to an answer is not final when the client itself fetched another challenge of the
/// space since: a server with one nonce per client moved on to that one. The request goes
/// again with it, within the bound.
#[test]
fn a_403_to_an_answer_after_the_client_fetched_another_challenge_goes_again() {
    let mut rng = TestRng::new(11);
    let mut client = learned(&mut rng);
    let request = Request::new("GET", "/ISAPI/status", ORIGIN);
    let (mut a, action) = client.begin(&request, &mut rng);
    assert!(sent(action, &request).is_some());
    // The server moved on by itself: a fresh challenge, answered.
    let www = challenge("n2");
    let action = respond(&mut client, &mut a, &request, 401, Some(&www), &mut rng);
    assert!(sent(action, &request).unwrap().contains(r#"nonce="n2""#));
    // Another request, tired of waiting for a's answer, fetches a challenge of its own.
    let (mut b, action) = client.begin(&request, &mut rng);
    assert!(matches!(action, Action::Wait));
    let action = client.give_up_waiting(&mut b, &request, &mut rng);
    assert_eq!(sent(action, &request), None);
    let www = challenge("n3");
    let action = respond(&mut client, &mut b, &request, 401, Some(&www), &mut rng);
    assert!(sent(action, &request).unwrap().contains(r#"nonce="n3""#));
    // The server moved on to n3: a's answer with n2 is refused. It goes again, with n3.
    let action = respond(&mut client, &mut a, &request, 403, None, &mut rng);
    let header = sent(action, &request).expect("a goes again");
    assert!(header.contains(r#"nonce="n3""#), "{header}");
    assert_eq!(a.extra_sends(), 2);
    // Refused once more: that is final.
    let action = respond(&mut client, &mut a, &request, 403, None, &mut rng);
    assert!(matches!(action, Action::Done), "{action:?}");
}
