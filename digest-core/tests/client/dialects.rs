//! What real servers do beside the RFC, and how the client meets it: the nonce kept in a
//! cookie its challenge sets, `qop=""` for "no qop", an origin behind a plain proxy that
//! compares `uri` with the origin-form target it receives.

use crate::sim::*;

use httpdigest::QopOptions;
use httpdigest::client::{ClientConfig, Failure};

#[test]
fn the_challenges_cookies_go_back_with_the_answer_and_no_further() {
    let mut sim = Sim::new(Server {
        nonce_cookie: true,
        ..Server::origin("a")
    });
    let mut req = Req::get(&a(), "/cam");
    req.cookie = Some("theme=dark; lang=de".into());
    let out = sim.run(&req);
    assert_ok(&out, 2);
    assert!(out.sent[0].cookies.is_empty());
    let cookies: Vec<_> = out.sent[1].cookies.iter().collect();
    assert_eq!(cookies.len(), 2, "{cookies:?}");
    // The request's own `theme` gave way to the challenge's; its `lang` stayed.
    let joined = out.sent[1]
        .cookies
        .join([&b"theme=dark; lang=de"[..]])
        .unwrap();
    assert!(joined.text().starts_with("lang=de; session="), "{joined}");
    assert!(joined.text().ends_with("; theme=light"), "{joined}");
    // Nothing is kept past the exchange: the next request, preemptive on the same nonce,
    // carries no cookie of the last challenge, and this server challenges it again.
    let next = sim.get("/cam");
    assert!(next.sent[0].cookies.is_empty());
    assert_ok(&next, 2);
    assert!(!next.sent[1].cookies.is_empty());
}

#[test]
fn an_empty_or_unknown_qop_is_answered_in_rfc2069_form() {
    for (qop, empty) in [(QopOptions::NONE, true), (QopOptions::NONE, false)] {
        let mut sim = Sim::new(Server {
            qop,
            empty_qop: empty,
            ..Server::origin("a")
        });
        let out = sim.get("/");
        assert_ok(&out, 2);
        let h = out.authorization(1);
        assert!(
            !h.contains("qop=") && !h.contains("nc=") && !h.contains("cnonce="),
            "{h}"
        );
        assert_eq!(sim.server().oks()[0].qop, None);
    }
    // A policy that refuses RFC 2069 answers sends none.
    let mut sim = Sim::with(
        ClientConfig::default().with_rfc2069(false),
        Net::new().serve(
            &[a()],
            Server {
                qop: QopOptions::NONE,
                empty_qop: true,
                ..Server::origin("a")
            },
        ),
    );
    let out = sim.get("/");
    assert_eq!(out.exchanges, 1);
    let Err(Failure::NoSupportedChallenge(why)) = &out.result else {
        panic!("{out:?}");
    };
    assert_eq!((why.digest_offered, why.unsupported_qop), (1, 1), "{why:?}");
}
