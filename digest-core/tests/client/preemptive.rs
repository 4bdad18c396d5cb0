//! Preemptive credentials on a known space, and their nonce counts.

use crate::sim::*;

#[test]
fn preemptive_reuse_counts_up_on_one_nonce() {
    let mut sim = Sim::new(Server::origin("a"));
    let first = sim.get("/one");
    assert_ok(&first, 2);
    let n = nonce(first.authorization(1));
    for (i, target) in ["/two", "/three", "/four"].into_iter().enumerate() {
        let out = sim.get(target);
        assert_ok(&out, 1);
        let h = out.authorization(0);
        assert_eq!(nonce(h), n);
        assert_eq!(nc(h), u32::try_from(i).unwrap() + 2);
        let expected = format!("nc={:08x}", i + 2);
        assert!(h.contains(&expected), "{h}");
        assert!(h.contains(&format!(r#"uri="{target}""#)));
    }
    let ncs: Vec<_> = sim.server().oks().iter().map(|a| a.nc.unwrap()).collect();
    assert_eq!(ncs, [1, 2, 3, 4]);
    assert_eq!(sim.server().hits.len(), 5);
}

#[test]
fn preemptive_can_be_turned_off() {
    let mut sim = Sim::with(
        config(|c| c.preemptive = false),
        Net::new().serve(&[a()], Server::origin("a")),
    );
    assert_ok(&sim.get("/one"), 2);
    let out = sim.get("/two");
    assert_ok(&out, 2);
    assert!(out.sent[0].authorization.is_none());
    // The second challenge carries a new nonce: the count starts again.
    assert_eq!(nc(out.authorization(1)), 1);
}

#[test]
fn nonce_count_restarts_on_a_new_nonce_after_a_server_restart() {
    let mut sim = Sim::new(Server::origin("a"));
    assert_ok(&sim.get("/1"), 2);
    let out = sim.get("/2");
    assert_ok(&out, 1);
    let old = nonce(out.authorization(0));
    assert_eq!(nc(out.authorization(0)), 2);

    sim.server().restart();
    let out = sim.get("/3");
    assert_ok(&out, 2);
    assert_eq!(nonce(out.authorization(0)), old);
    assert_eq!(
        sim.server().hits[3].verdict,
        Verdict::Rejected("unknown nonce")
    );
    let h = out.authorization(1);
    assert_ne!(nonce(h), old);
    assert_eq!(nc(h), 1);
    assert!(h.contains("nc=00000001"));

    let out = sim.get("/4");
    assert_ok(&out, 1);
    assert_eq!(nc(out.authorization(0)), 2);
    assert_eq!(nonce(out.authorization(0)), nonce(h));
}

/// A request given up after its challenge was answered (its send failed, its caller went
/// away) held the new nonce for its answer; abandoning it releases the nonce, so the next
/// request, waiting for it, goes preemptively instead of waiting for an answer that never
/// comes.
#[test]
fn an_abandoned_request_releases_the_nonce_it_held() {
    use httpdigest::OriginRef;
    use httpdigest::client::{Action, Client, Request, Response};

    let mut rng = crate::common::TestRng::new(7);
    let mut client = Client::with_password(USER, PASS);
    let origin = OriginRef {
        scheme: httpdigest::Scheme::Http,
        host: "a.example",
        port: 80,
    };
    let request = Request::new("GET", "/x", origin);
    let (mut first, _) = client.begin(&request, &mut rng);
    let www: [&[u8]; 1] = [br#"Digest realm="a", nonce="n1", qop="auth""#];
    let challenge = Response {
        www_authenticate: &www,
        ..Response::new(401)
    };
    let action = client.handle_response(&mut first, &request, &challenge, &mut rng);
    assert!(matches!(action, Action::Send(_)), "{action:?}");
    drop(action); // never sent

    // Held for the first request's answer: the next one waits for it.
    let (mut second, action) = client.begin(&request, &mut rng);
    assert!(matches!(action, Action::Wait), "{action:?}");
    assert_eq!(client.poll_ready(), None);

    client.abandon(&mut first);
    assert!(first.finished());
    assert_eq!(client.poll_ready(), Some(second.id()));
    let Action::Send(ticket) = client.resume(&mut second, &request, &mut rng) else {
        panic!("its turn");
    };
    let header = ticket.sign(&request).unwrap().authorization.unwrap();
    // The abandoned ticket spent nc=1: the count is skipped, never repeated.
    assert!(header.text().contains("nc=00000002"), "{header}");
    // An exchange that is over stays as it is.
    let done = client.handle_response(&mut second, &request, &Response::new(200), &mut rng);
    assert!(matches!(done, Action::Done));
    client.abandon(&mut second);
    let (_, Action::Send(ticket)) = client.begin(&request, &mut rng) else {
        panic!("nothing to wait for");
    };
    assert!(
        ticket
            .sign(&request)
            .unwrap()
            .authorization
            .unwrap()
            .text()
            .contains("nc=00000003")
    );
}
