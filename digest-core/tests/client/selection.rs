//! Choosing among challenges.

use crate::sim::*;

use httpdigest::client::{Failure, SelectionOrder};
use httpdigest::{Algorithm, QopOptions};

const THREE: [Option<Algorithm>; 3] = [
    Some(Algorithm::Md5),
    Some(Algorithm::Sha256),
    Some(Algorithm::Sha512_256),
];

#[test]
fn strongest_of_several_challenges_in_several_fields() {
    for (one_field, order) in [(false, [0, 1, 2]), (true, [2, 0, 1]), (false, [1, 2, 0])] {
        let mut sim = Sim::new(Server {
            algorithms: order.iter().map(|&i| THREE[i]).collect(),
            one_field,
            ..Server::origin("a")
        });
        let out = sim.get("/");
        assert_ok(&out, 2);
        assert!(out.authorization(1).contains("algorithm=SHA-512-256,"));
        assert_eq!(sim.server().oks()[0].algorithm, Algorithm::Sha512_256);
    }
}

#[test]
fn strongest_prefers_sha256_over_md5() {
    let mut sim = Sim::new(Server {
        algorithms: vec![Some(Algorithm::Md5), Some(Algorithm::Sha256)],
        ..Server::origin("a")
    });
    assert_ok(&sim.get("/"), 2);
    assert_eq!(sim.server().oks()[0].algorithm, Algorithm::Sha256);
}

#[test]
fn server_order_picks_the_first() {
    let server = Server {
        algorithms: THREE.to_vec(),
        ..Server::origin("a")
    };
    let mut sim = Sim::with(
        config(|c| c.order = SelectionOrder::ServerOrder),
        Net::new().serve(&[a()], server),
    );
    let out = sim.get("/");
    assert_ok(&out, 2);
    assert!(out.authorization(1).contains("algorithm=MD5,"));
    assert_eq!(sim.server().oks()[0].algorithm, Algorithm::Md5);
}

#[test]
fn minimum_algorithm_refuses_an_md5_only_server() {
    let server = Server {
        algorithms: vec![Some(Algorithm::Md5)],
        ..Server::origin("a")
    };
    let mut sim = Sim::with(
        config(|c| c.min_algorithm = Some(Algorithm::Sha256)),
        Net::new().serve(&[a()], server),
    );
    let out = sim.get("/");
    assert_eq!((out.status, out.exchanges), (401, 1));
    let Err(Failure::NoSupportedChallenge(why)) = &out.result else {
        panic!("{:?}", out.result);
    };
    assert_eq!(why.below_minimum, 1);
    assert_eq!(why.digest_offered, 1);
    assert!(!why.basic_refused);
}

#[test]
fn minimum_algorithm_takes_the_strong_one_of_a_mixed_offer() {
    let server = Server {
        algorithms: vec![Some(Algorithm::Md5), Some(Algorithm::Sha256)],
        ..Server::origin("a")
    };
    let mut sim = Sim::with(
        config(|c| {
            c.min_algorithm = Some(Algorithm::Sha256);
            c.order = SelectionOrder::ServerOrder;
        }),
        Net::new().serve(&[a()], server),
    );
    assert_ok(&sim.get("/"), 2);
    assert_eq!(sim.server().oks()[0].algorithm, Algorithm::Sha256);
}

#[test]
fn algorithm_is_echoed_in_the_server_spelling() {
    let mut sim = Sim::new(Server {
        lowercase_algorithm: true,
        algorithms: vec![Some(Algorithm::Sha512_256Sess)],
        ..Server::origin("a")
    });
    let out = sim.get("/");
    assert_ok(&out, 2);
    assert!(out.authorization(1).contains("algorithm=sha-512-256-sess,"));
}

#[test]
fn session_algorithms() {
    for alg in [
        Algorithm::Md5Sess,
        Algorithm::Sha256Sess,
        Algorithm::Sha512_256Sess,
        Algorithm::Sha1Sess,
        Algorithm::Sha512Sess,
    ] {
        let mut sim = Sim::new(Server {
            algorithms: vec![Some(alg)],
            info: InfoMode::Rspauth,
            ..Server::origin("a")
        });
        let out = sim.get("/s");
        assert_ok(&out, 2);
        assert!(
            out.authorization(1)
                .contains(&format!("algorithm={},", alg.name()))
        );
        let out = sim.get("/s2");
        assert_ok(&out, 1);
        assert_eq!(nc(out.authorization(0)), 2);
        let oks: Vec<_> = sim.server().oks().iter().map(|a| a.algorithm).collect();
        assert_eq!(oks, [alg, alg]);
    }
}

#[test]
fn rfc2069_mode_sends_no_qop_nc_or_cnonce() {
    let mut sim = Sim::new(Server {
        algorithms: vec![None],
        qop: QopOptions::NONE,
        opaque: None,
        info: InfoMode::Rspauth,
        ..Server::origin("a")
    });
    let out = sim.get("/dir/index.html");
    assert_ok(&out, 2);
    let h = out.authorization(1);
    for absent in ["qop", "nc", "cnonce", "algorithm", "opaque"] {
        assert!(raw_param(h, absent).is_none(), "{absent} in {h}");
    }
    assert_ok(&sim.get("/again"), 1);
    let oks = sim.server().oks();
    assert_eq!(oks.len(), 2);
    assert!(
        oks.iter()
            .all(|a| a.qop.is_none() && a.algorithm == Algorithm::Md5)
    );
}
