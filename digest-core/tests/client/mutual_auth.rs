//! Mutual authentication.

use crate::sim::*;

use httpdigest::client::Failure;
use httpdigest::{Qop, QopOptions};

#[test]
fn good_rspauth_is_accepted_even_when_required() {
    let server = Server {
        info: InfoMode::Rspauth,
        ..Server::origin("a")
    };
    let mut sim = Sim::with(
        config(|c| c.require_mutual_auth = true),
        Net::new().serve(&[a()], server),
    );
    assert_ok(&sim.get("/1"), 2);
    assert_ok(&sim.get("/2"), 1);
}

#[test]
fn forged_rspauth_fails_and_the_space_is_forgotten() {
    let mut sim = Sim::new(Server {
        info: InfoMode::ForgedRspauth,
        ..Server::origin("a")
    });
    let out = sim.get("/1");
    assert_eq!(
        (out.status, out.exchanges, &out.result),
        (200, 2, &Err(Failure::MutualAuthFailed))
    );
    // Nothing more goes to a server that could not prove it knows the password.
    let out = sim.get("/2");
    assert!(out.sent[0].authorization.is_none());
    assert_eq!(out.result, Err(Failure::MutualAuthFailed));
}

#[test]
fn rspauth_with_a_foreign_cnonce_fails() {
    let mut sim = Sim::new(Server {
        info: InfoMode::WrongCnonceEcho,
        ..Server::origin("a")
    });
    let out = sim.get("/1");
    assert_eq!(
        (out.status, out.exchanges, &out.result),
        (200, 2, &Err(Failure::MutualAuthFailed))
    );
}

#[test]
fn required_mutual_auth_without_rspauth_fails() {
    let mut sim = Sim::with(
        config(|c| c.require_mutual_auth = true),
        Net::new().serve(&[a()], Server::origin("a")),
    );
    let out = sim.get("/1");
    assert_eq!(
        (out.status, out.exchanges, &out.result),
        (200, 2, &Err(Failure::MutualAuthMissing))
    );
    assert_eq!(sim.server().oks().len(), 1);
}

#[test]
fn required_mutual_auth_with_auth_int_cannot_be_checked() {
    let server = Server {
        info: InfoMode::Rspauth,
        qop: QopOptions::AUTH_INT,
        ..Server::origin("a")
    };
    let mut sim = Sim::with(
        config(|c| c.require_mutual_auth = true),
        Net::new().serve(&[a()], server),
    );
    let out = sim.run(&Req::post(&a(), "/p", b"{}", Body::Bytes));
    assert_eq!(out.result, Err(Failure::MutualAuthMissing));
    assert_eq!(sim.server().oks()[0].qop, Some(Qop::AuthInt));
}
