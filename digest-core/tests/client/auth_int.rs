//! Auth-int and bodies.

use crate::sim::*;

use httpdigest::client::Failure;
use httpdigest::{Algorithm, Qop, QopOptions};

const BODY: &[u8] = b"{\"lion\": \"king\", \"sum\": 42}\r\n";

#[test]
fn auth_int_with_the_body_in_memory() {
    let mut sim = Sim::new(Server {
        qop: QopOptions::AUTH_INT,
        info: InfoMode::Rspauth,
        ..Server::origin("a")
    });
    let out = sim.run(&Req::post(&a(), "/upload", BODY, Body::Bytes));
    assert_ok(&out, 2);
    assert!(out.authorization(1).contains("qop=auth-int"));
    let out = sim.run(&Req::post(&a(), "/upload", b"other body", Body::Bytes));
    assert_ok(&out, 1);
    let quals: Vec<_> = sim.server().oks().iter().map(|a| a.qop).collect();
    assert_eq!(quals, [Some(Qop::AuthInt), Some(Qop::AuthInt)]);
}

#[test]
fn auth_int_with_a_prehashed_body() {
    let mut sim = Sim::new(Server {
        qop: QopOptions::AUTH_INT,
        ..Server::origin("a")
    });
    let out = sim.run(&Req::post(
        &a(),
        "/upload",
        BODY,
        Body::Hashed(Algorithm::Sha256),
    ));
    assert_ok(&out, 2);
    assert!(out.authorization(1).contains("qop=auth-int"));
    // SHA-256-sess uses the same hash: the digest fits.
    let out = sim.run(&Req::post(
        &a(),
        "/upload",
        BODY,
        Body::Hashed(Algorithm::Sha256Sess),
    ));
    assert_ok(&out, 1);
}

#[test]
fn auth_int_with_a_body_hashed_by_another_function() {
    let mut sim = Sim::new(Server {
        qop: QopOptions::AUTH_INT,
        ..Server::origin("a")
    });
    let out = sim.run(&Req::post(
        &a(),
        "/upload",
        BODY,
        Body::Hashed(Algorithm::Md5),
    ));
    assert_eq!(
        (out.status, out.exchanges, &out.result),
        (401, 1, &Err(Failure::AuthIntNeedsReplayableBody))
    );
}

#[test]
fn auth_int_falls_back_to_auth_without_a_usable_body_hash() {
    // auth-int preferred, both offered, body hashed with the wrong function: auth.
    let server = Server {
        qop: QopOptions::BOTH,
        ..Server::origin("a")
    };
    let mut sim = Sim::with(
        config(|c| c.prefer_auth_int = true),
        Net::new().serve(&[a()], server),
    );
    let out = sim.run(&Req::post(&a(), "/u", BODY, Body::Hashed(Algorithm::Md5)));
    assert_ok(&out, 2);
    assert_eq!(sim.server().oks()[0].qop, Some(Qop::Auth));
    let out = sim.run(&Req::post(&a(), "/u", BODY, Body::Bytes));
    assert_ok(&out, 1);
    assert_eq!(sim.server().oks()[1].qop, Some(Qop::AuthInt));
}

#[test]
fn auth_is_chosen_over_auth_int_by_default() {
    let mut sim = Sim::new(Server {
        qop: QopOptions::BOTH,
        ..Server::origin("a")
    });
    let out = sim.run(&Req::post(&a(), "/u", BODY, Body::Bytes));
    assert_ok(&out, 2);
    assert!(out.authorization(1).contains("qop=auth,"));
}

#[test]
fn auth_int_only_with_a_streamed_body() {
    let mut sim = Sim::new(Server {
        qop: QopOptions::AUTH_INT,
        ..Server::origin("a")
    });
    let out = sim.run(&Req::post(&a(), "/upload", BODY, Body::Streamed));
    assert_eq!(out.exchanges, 1);
    assert_eq!(out.result, Err(Failure::AuthIntNeedsReplayableBody));
    // Even with the space known, a streamed body cannot go out with auth-int credentials.
    assert_ok(&sim.run(&Req::post(&a(), "/upload", BODY, Body::Bytes)), 1);
    let out = sim.run(&Req::post(&a(), "/upload", BODY, Body::Streamed));
    assert!(out.sent[0].authorization.is_none());
    assert_eq!(out.result, Err(Failure::AuthIntNeedsReplayableBody));
}

#[test]
fn auth_int_only_with_a_streamed_body_is_refused_without_a_resend() {
    // What the client does today (see the ignored test above for what it should report).
    let mut sim = Sim::new(Server {
        qop: QopOptions::AUTH_INT,
        ..Server::origin("a")
    });
    let out = sim.run(&Req::post(&a(), "/upload", BODY, Body::Streamed));
    assert_eq!(out.exchanges, 1);
    assert!(matches!(
        out.result,
        Err(Failure::BodyNotReplayable | Failure::AuthIntNeedsReplayableBody)
    ));
    assert_ok(&sim.run(&Req::post(&a(), "/upload", BODY, Body::Bytes)), 1);
    let out = sim.run(&Req::post(&a(), "/upload", BODY, Body::Streamed));
    assert!(out.sent[0].authorization.is_none());
    assert_eq!(out.exchanges, 1);
}

#[test]
fn a_streamed_body_learns_the_challenge_for_the_next_request() {
    let mut sim = Sim::new(Server::origin("a"));
    let out = sim.run(&Req::post(&a(), "/stream", BODY, Body::Streamed));
    assert_eq!(
        (out.status, out.exchanges, &out.result),
        (401, 1, &Err(Failure::BodyNotReplayable))
    );
    let out = sim.run(&Req::post(&a(), "/upload", BODY, Body::Bytes));
    assert_ok(&out, 1);
    assert_eq!(nc(out.authorization(0)), 1);
    // A streamed body to a known space needs no re-send with qop=auth.
    let out = sim.run(&Req::post(&a(), "/stream", BODY, Body::Streamed));
    assert_ok(&out, 1);
    assert_eq!(nc(out.authorization(0)), 2);
}
