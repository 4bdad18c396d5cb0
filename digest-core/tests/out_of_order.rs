//! `Failure::OutOfOrder`: a server that checks nonce counts strictly refuses requests that
//! overtook each other, even with the right password. The client tells that case from a
//! wrong password by two facts it knows: the space's credentials were accepted before, and
//! the refused request overlapped another one from the same space. A race keeps the space in
//! use; a refusal with nothing overlapping it is `CredentialsRejected`, which retires it.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

mod common;
use common::TestRng;

use httpdigest::client::{
    Action, Client, ClientConfig, Credentials, Exchange, Failure, OriginRef, Request, Response,
    Scheme,
};

const ORIGIN: OriginRef<'static> = OriginRef {
    scheme: Scheme::Http,
    host: "camera.local",
    port: 80,
};

fn challenge(nonce: &str) -> String {
    format!(r#"Digest realm="cam", nonce="{nonce}", qop="auth", algorithm=MD5"#)
}

/// Hands `status` (with a challenge of `nonce` for a 401) to the client.
fn answer(
    client: &mut Client,
    exchange: &mut Exchange,
    status: u16,
    nonce: &str,
    rng: &mut TestRng,
) -> Action {
    let request = Request::new("GET", "/snapshot", ORIGIN);
    let field = challenge(nonce);
    let fields: [&[u8]; 1] = [field.as_bytes()];
    let response = match status {
        401 => Response {
            www_authenticate: &fields,
            ..Response::new(401)
        },
        _ => Response::new(status),
    };
    client.handle_response(exchange, &request, &response, rng)
}

/// A client whose space `cam` was accepted once (challenge, answer, 200).
fn accepted_client(rng: &mut TestRng) -> Client {
    let mut client = Client::new(Credentials::new("alice", "s3cret"), ClientConfig::default());
    let request = Request::new("GET", "/snapshot", ORIGIN);
    let (mut exchange, headers) = client.begin(&request, rng);
    assert!(headers.authorization.is_none());
    assert!(matches!(
        answer(&mut client, &mut exchange, 401, "n1", rng),
        Action::Send(_)
    ));
    assert!(matches!(
        answer(&mut client, &mut exchange, 200, "", rng),
        Action::Done
    ));
    client
}

fn begin(client: &mut Client, rng: &mut TestRng) -> (Exchange, bool) {
    let (exchange, headers) = client.begin(&Request::new("GET", "/snapshot", ORIGIN), rng);
    (exchange, headers.authorization.is_some())
}

#[test]
fn overlapping_requests_refused_after_acceptance_are_out_of_order() {
    let rng = &mut TestRng::new(1);
    let mut client = accepted_client(rng);
    let (mut a, a_sent) = begin(&mut client, rng);
    let (mut b, b_sent) = begin(&mut client, rng);
    assert!(a_sent && b_sent, "both go out preemptively");

    // A overtaken: refused (a fresh nonce, not stale), answered, refused again.
    assert!(matches!(
        answer(&mut client, &mut a, 401, "n2", rng),
        Action::Send(_)
    ));
    assert_eq!(
        answer(&mut client, &mut a, 401, "n3", rng),
        Action::Fail(Failure::OutOfOrder)
    );
    assert!(matches!(
        answer(&mut client, &mut b, 200, "", rng),
        Action::Done
    ));

    // The space stays in use.
    let (_, sent) = begin(&mut client, rng);
    assert!(sent, "a race does not retire the space");
}

#[test]
fn a_refusal_with_nothing_overlapping_is_a_rejection() {
    let rng = &mut TestRng::new(2);
    let mut client = accepted_client(rng);
    // The password changed on the server: one request at a time.
    let (mut c, sent) = begin(&mut client, rng);
    assert!(sent);
    assert!(matches!(
        answer(&mut client, &mut c, 401, "n2", rng),
        Action::Send(_)
    ));
    assert_eq!(
        answer(&mut client, &mut c, 401, "n3", rng),
        Action::Fail(Failure::CredentialsRejected)
    );
    let (_, sent) = begin(&mut client, rng);
    assert!(!sent, "a rejection retires the space");
}

#[test]
fn a_space_never_accepted_gives_no_out_of_order() {
    let rng = &mut TestRng::new(3);
    let mut client = Client::new(Credentials::new("alice", "wrong"), ClientConfig::default());
    let (mut a, _) = begin(&mut client, rng);
    let (mut b, _) = begin(&mut client, rng);
    assert!(matches!(
        answer(&mut client, &mut a, 401, "n1", rng),
        Action::Send(_)
    ));
    assert!(matches!(
        answer(&mut client, &mut b, 401, "n2", rng),
        Action::Send(_)
    ));
    for exchange in [&mut a, &mut b] {
        assert_eq!(
            answer(&mut client, exchange, 401, "n3", rng),
            Action::Fail(Failure::CredentialsRejected)
        );
    }
}
