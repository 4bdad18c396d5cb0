//! The basic flow: a challenge answered, a wrong password, a refused preemptive header.

use crate::sim::*;

use httpdigest::client::{AuthHeaders, Client, ClientConfig, Credentials, Failure};
use httpdigest::{Algorithm, Qop};

#[test]
fn challenge_then_success_in_two_exchanges() {
    let mut sim = Sim::new(Server::origin("a"));
    let out = sim.get("/dir/index.html?x=1");
    assert_ok(&out, 2);
    assert_eq!(out.sent[0], AuthHeaders::default());
    let h = out.authorization(1);
    assert!(h.starts_with("Digest username=\"Mufasa\", realm=\"api@a.example\", "));
    assert!(h.contains(r#"uri="/dir/index.html?x=1""#), "{h}");
    assert!(h.contains("algorithm=SHA-256, "), "{h}");
    assert!(h.contains(", nc=00000001, "), "{h}");
    assert!(h.contains(", qop=auth, "), "{h}");
    assert!(h.contains(r#"opaque="FQhe/qaU925\"kfnzjCev0\\ciny7QMkPqMAFRtzCUYo5tdS""#));
    let cnonce = creds(h).cnonce().unwrap().to_str().unwrap().into_owned();
    assert_eq!(cnonce.len(), 32);
    assert!(cnonce.bytes().all(|b| b.is_ascii_hexdigit()));
    assert!(out.sent[1].proxy_authorization.is_none());
    let server = sim.server();
    assert_eq!(server.hits.len(), 2);
    assert_eq!(server.hits[0].verdict, Verdict::NoHeader);
    let oks = server.oks();
    assert_eq!(oks.len(), 1);
    assert_eq!(
        (
            oks[0].user.as_str(),
            oks[0].algorithm,
            oks[0].qop,
            oks[0].nc
        ),
        (USER, Algorithm::Sha256, Some(Qop::Auth), Some(1))
    );
}

#[test]
fn wrong_password_is_tried_once_and_never_loops() {
    let mut sim = Sim::with(
        ClientConfig::default(),
        Net::new().serve(&[a()], Server::origin("a")),
    );
    sim.client = Client::new(
        Credentials::new(USER, "Circle Of Life"),
        ClientConfig::default(),
    );
    let out = sim.get("/");
    assert_eq!(
        (out.status, out.exchanges, &out.result),
        (401, 2, &Err(Failure::CredentialsRejected))
    );
    assert!(out.sent[0].authorization.is_none());
    assert_eq!(
        sim.server().last_hit().verdict,
        Verdict::Rejected("wrong response")
    );
    // The space was forgotten: the next request starts afresh and fails the same way.
    let out = sim.get("/");
    assert_eq!(
        (out.status, out.exchanges, &out.result),
        (401, 2, &Err(Failure::CredentialsRejected))
    );
    assert!(out.sent[0].authorization.is_none());
    assert_eq!(sim.server().hits.len(), 4);
    assert!(sim.server().oks().is_empty());
}

#[test]
fn a_rejected_preemptive_header_gets_one_fresh_answer() {
    let mut sim = Sim::new(Server::origin("a"));
    assert_ok(&sim.get("/1"), 2);
    sim.server().users[0].1 = "changed".into();
    let out = sim.get("/2");
    assert_eq!(
        (out.status, out.exchanges, &out.result),
        (401, 2, &Err(Failure::CredentialsRejected))
    );
    // The preemptive header used the old nonce, the answer the new one.
    assert_ne!(nonce(out.authorization(0)), nonce(out.authorization(1)));
    assert_eq!(nc(out.authorization(1)), 1);
    sim.server().users[0].1 = PASS.into();
    let out = sim.get("/3");
    assert!(out.sent[0].authorization.is_none());
    assert_ok(&out, 2);
}
