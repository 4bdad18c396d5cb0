//! Stale nonces and `nextnonce`.

use crate::sim::*;

use httpdigest::client::Failure;

#[test]
fn stale_nonce_with_a_new_nonce_is_retried_once() {
    let mut sim = Sim::new(Server {
        lifetime: 60,
        ..Server::origin("a")
    });
    assert_ok(&sim.get("/1"), 2);
    assert_ok(&sim.get("/2"), 1);
    sim.server().now += 61;
    let out = sim.get("/3");
    assert_ok(&out, 2);
    let (h0, h1) = (out.authorization(0), out.authorization(1));
    assert_eq!(nc(h0), 3);
    assert!(matches!(sim.server().hits[3].verdict, Verdict::Stale(_)));
    assert_ne!(nonce(h0), nonce(h1));
    assert_eq!(nc(h1), 1);
    // The new nonce goes on counting.
    let out = sim.get("/4");
    assert_ok(&out, 1);
    assert_eq!(nc(out.authorization(0)), 2);
    assert_eq!(nonce(out.authorization(0)), nonce(h1));
}

#[test]
fn stale_with_the_same_nonce_is_not_retried() {
    let mut sim = Sim::new(Server {
        lifetime: 60,
        stale: StaleMode::SameNonce,
        ..Server::origin("a")
    });
    assert_ok(&sim.get("/1"), 2);
    sim.server().now += 61;
    let out = sim.get("/2");
    assert_eq!(out.status, 401);
    assert_eq!(out.exchanges, 1);
    assert_eq!(out.result, Err(Failure::StaleNonceNotRenewed));
    assert!(matches!(sim.server().last_hit().verdict, Verdict::Stale(_)));
}

#[test]
fn stale_with_the_same_nonce_does_not_poison_later_requests() {
    let mut sim = Sim::new(Server {
        lifetime: 60,
        stale: StaleMode::SameNonce,
        ..Server::origin("a")
    });
    assert_ok(&sim.get("/1"), 2);
    sim.server().now += 61;
    let out = sim.get("/2");
    assert_eq!(out.result, Err(Failure::StaleNonceNotRenewed));
    let dead = nonce(out.authorization(0));
    // The server hands a fresh nonce to any request without credentials: the next request
    // must not go out with the nonce the server declared dead.
    let out = sim.get("/3");
    assert!(
        out.sent[0]
            .authorization
            .as_ref()
            .is_none_or(|h| nonce(&h.text()) != dead),
        "{out:?}"
    );
    assert_ok(&out, 2);
}

#[test]
fn a_server_that_is_always_stale_cannot_make_the_client_loop() {
    // Every nonce expires at once: fresh challenge, answer, stale, answer, stale.
    let mut sim = Sim::new(Server {
        lifetime: 0,
        ..Server::origin("a")
    });
    let out = sim.get("/");
    assert_eq!(out.status, 401);
    assert_eq!(out.exchanges, 3);
    assert_eq!(out.result, Err(Failure::RetriesExhausted));
    let nonces: Vec<_> = out.sent[1..]
        .iter()
        .map(|h| nonce(&h.authorization.as_ref().unwrap().text()))
        .collect();
    assert_ne!(nonces[0], nonces[1]);
    assert_eq!((nc(out.authorization(1)), nc(out.authorization(2))), (1, 1));
    assert_eq!(
        sim.server()
            .hits
            .iter()
            .filter(|h| matches!(h.verdict, Verdict::Stale(_)))
            .count(),
        2
    );
}

#[test]
fn nextnonce_is_adopted() {
    // With and without rspauth next to it.
    for info in [InfoMode::Rspauth, InfoMode::None] {
        let mut sim = Sim::new(Server {
            nextnonce: true,
            info,
            ..Server::origin("a")
        });
        let first = sim.get("/1");
        assert_ok(&first, 2);
        let mut previous = nonce(first.authorization(1));
        for target in ["/2", "/3"] {
            let out = sim.get(target);
            assert_ok(&out, 1);
            let h = out.authorization(0);
            assert_ne!(nonce(h), previous);
            assert_eq!(nc(h), 1);
            assert!(h.contains("nc=00000001"));
            previous = nonce(h);
        }
        assert_eq!(sim.server().oks().len(), 3);
    }
}
