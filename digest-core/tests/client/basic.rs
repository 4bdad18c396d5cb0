//! Basic.

use crate::sim::*;

use httpdigest::client::{BasicPolicy, Failure};
use httpdigest::{Origin, Scheme};

fn basic_sim(policy: BasicPolicy, origin: &Origin, offer: BasicOffer) -> Sim {
    let server = Server {
        basic: offer,
        ..Server::origin("a")
    };
    Sim::with(
        config(|c| c.basic = policy),
        Net::new().serve(std::slice::from_ref(origin), server),
    )
}

fn https_a() -> Origin {
    Origin::new(Scheme::Https, "a.example", 443)
}

#[test]
fn basic_is_refused_by_default() {
    let mut sim = basic_sim(BasicPolicy::Never, &https_a(), BasicOffer::Only);
    let out = sim.run(&Req::get(&https_a(), "/"));
    assert_eq!((out.status, out.exchanges), (401, 1));
    let Err(Failure::NoSupportedChallenge(why)) = &out.result else {
        panic!("{:?}", out.result);
    };
    assert!(why.basic_refused);
    assert_eq!(why.digest_offered, 0);
}

#[test]
fn basic_over_https_only() {
    let mut sim = basic_sim(BasicPolicy::HttpsOnly, &https_a(), BasicOffer::Only);
    let out = sim.run(&Req::get(&https_a(), "/"));
    assert_ok(&out, 2);
    assert_eq!(out.authorization(1), "Basic TXVmYXNhOkNpcmNsZSBvZiBMaWZl");
    assert_eq!(sim.server().last_hit().verdict, Verdict::Basic(USER.into()));
    // Preemptive from then on.
    let out = sim.run(&Req::get(&https_a(), "/2"));
    assert_ok(&out, 1);

    let mut sim = basic_sim(BasicPolicy::HttpsOnly, &a(), BasicOffer::Only);
    let out = sim.run(&Req::get(&a(), "/"));
    assert_eq!(out.exchanges, 1);
    let Err(Failure::NoSupportedChallenge(why)) = &out.result else {
        panic!("{:?}", out.result);
    };
    assert!(why.basic_refused);
}

#[test]
fn basic_always_works_over_http() {
    let mut sim = basic_sim(BasicPolicy::Always, &a(), BasicOffer::Only);
    let out = sim.run(&Req::get(&a(), "/"));
    assert_ok(&out, 2);
    assert!(out.authorization(1).starts_with("Basic "));
    assert_eq!(sim.server().last_hit().verdict, Verdict::Basic(USER.into()));
}

#[test]
fn digest_is_preferred_over_basic() {
    let mut sim = basic_sim(BasicPolicy::Always, &a(), BasicOffer::AlsoDigest);
    let out = sim.run(&Req::get(&a(), "/"));
    assert_ok(&out, 2);
    assert!(out.authorization(1).starts_with("Digest "));
    assert_eq!(sim.server().oks().len(), 1);
}
