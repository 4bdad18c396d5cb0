//! Mutual authentication.

use crate::sim::*;

use httpdigest::client::Failure;
use httpdigest::{Algorithm, Qop, QopOptions};

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

fn auth_int_server(info: InfoMode, algorithm: Algorithm) -> Server {
    Server {
        info,
        qop: QopOptions::AUTH_INT,
        algorithms: vec![Some(algorithm)],
        ..Server::origin("a")
    }
}

fn post() -> Req {
    Req::post(&a(), "/p", b"{}", Body::Bytes)
}

/// RFC 7616 §3.5: for auth-int, rspauth covers the response body. The client checks it once
/// the adapter has read the body; required mutual authentication is then met.
#[test]
fn required_mutual_auth_with_auth_int_is_met_by_rspauth_over_the_body() {
    for algorithm in [Algorithm::Md5, Algorithm::Sha256, Algorithm::Sha512_256Sess] {
        let mut sim = Sim::with(
            config(|c| c.require_mutual_auth = true),
            Net::new().serve(&[a()], auth_int_server(InfoMode::Rspauth, algorithm)),
        );
        let out = sim.run(&post());
        assert_ok(&out, 2);
        assert!(out.body_checked, "{algorithm}");
        assert_eq!(sim.server().oks()[0].qop, Some(Qop::AuthInt));
        // Preemptively, with the next nonce count: checked again.
        let out = sim.run(&post());
        assert_ok(&out, 1);
        assert!(out.body_checked, "{algorithm}");
    }
}

#[test]
fn auth_int_rspauth_over_a_changed_body_fails() {
    for required in [false, true] {
        let mut sim = Sim::with(
            config(|c| c.require_mutual_auth = required),
            Net::new().serve(
                &[a()],
                auth_int_server(InfoMode::TamperedBody, Algorithm::Sha256),
            ),
        );
        let out = sim.run(&post());
        assert_eq!(
            (out.status, out.exchanges, &out.result),
            (200, 2, &Err(Failure::MutualAuthFailed)),
            "required {required}"
        );
        assert!(out.body_checked);
    }
}

#[test]
fn auth_int_rspauth_with_another_key_fails_over_the_right_body() {
    let mut sim = Sim::new(auth_int_server(InfoMode::ForgedRspauth, Algorithm::Md5));
    let out = sim.run(&post());
    assert_eq!(out.result, Err(Failure::MutualAuthFailed));
    assert!(out.body_checked);
}

/// The echoes are in the headers: a foreign cnonce fails before any body is read.
#[test]
fn auth_int_rspauth_with_a_foreign_cnonce_fails_at_once() {
    let mut sim = Sim::new(auth_int_server(InfoMode::WrongCnonceEcho, Algorithm::Md5));
    let out = sim.run(&post());
    assert_eq!(out.result, Err(Failure::MutualAuthFailed));
    assert!(!out.body_checked);
}

#[test]
fn auth_int_without_rspauth_needs_no_body_check() {
    let mut sim = Sim::new(auth_int_server(InfoMode::None, Algorithm::Sha256));
    let out = sim.run(&post());
    assert_ok(&out, 2);
    assert!(!out.body_checked);
    let mut sim = Sim::with(
        config(|c| c.require_mutual_auth = true),
        Net::new().serve(&[a()], auth_int_server(InfoMode::None, Algorithm::Sha256)),
    );
    assert_eq!(sim.run(&post()).result, Err(Failure::MutualAuthMissing));
}
