//! The test server itself is strict: headers it must refuse.

use crate::sim::*;

fn replay(sim: &mut Sim, header: &str, target: &str) -> (u16, Verdict) {
    let resp = sim.net.send(Wire {
        method: "GET".into(),
        target: target.into(),
        origin: a(),
        via_proxy: false,
        body: Vec::new(),
        authorization: Some(header.to_owned().into()),
        proxy_authorization: None,
        cookie: None,
    });
    (resp.status, sim.server().last_hit().verdict.clone())
}

#[test]
fn the_server_refuses_replays_and_tampering() {
    let mut sim = Sim::new(Server::origin("a"));
    sim.server().expect_violations = true;
    let out = sim.get("/r");
    assert_ok(&out, 2);
    let h = out.authorization(1).to_owned();

    // Replayed: the same nc again.
    let (status, verdict) = replay(&mut sim, &h, "/r");
    assert_eq!(status, 400);
    assert!(matches!(verdict, Verdict::Violation(m) if m.contains("not above")));

    // Another request-target than the `uri`.
    let (status, verdict) = replay(&mut sim, &h, "/other");
    assert_eq!(status, 400);
    assert!(matches!(verdict, Verdict::Violation(m) if m.contains("request-target")));

    // Opaque dropped.
    let cut = h.split(", opaque=").next().unwrap().to_owned();
    let (status, verdict) = replay(&mut sim, &cut, "/r");
    assert_eq!(status, 400);
    assert!(matches!(verdict, Verdict::Violation(m) if m.contains("opaque")));

    // qop quoted.
    let quoted = h.replace("qop=auth", "qop=\"auth\"");
    let (_, verdict) = replay(&mut sim, &quoted, "/r");
    assert!(matches!(verdict, Verdict::Violation(m) if m.contains("qop")));

    // A higher nc with a recomputed response is fine; a tampered response is rejected.
    let tampered = h.replace("nc=00000001", "nc=00000009");
    let (status, verdict) = replay(&mut sim, &tampered, "/r");
    assert_eq!(status, 401);
    assert_eq!(verdict, Verdict::Rejected("wrong response"));

    assert_eq!(sim.server().violations().len(), 4);
}
