//! User names.

use crate::sim::*;

use httpdigest::Algorithm;
use httpdigest::client::{Client, ClientConfig, Credentials};
use httpdigest::digest::{self};

const JASON: &str = "J\u{e4}s\u{f8}n Doe";

fn jason_sim(server: Server) -> Sim {
    let mut server = server;
    server.users = vec![(JASON.into(), "Secret, or not?".into())];
    let mut sim = Sim::new(server);
    sim.client = Client::new(
        Credentials::new(JASON, "Secret, or not?"),
        ClientConfig::default(),
    );
    sim
}

#[test]
fn userhash_hides_the_name() {
    let mut sim = Sim::new(Server {
        userhash: true,
        algorithms: vec![Some(Algorithm::Sha512_256)],
        ..Server::origin("a")
    });
    let out = sim.get("/doe.json");
    assert_ok(&out, 2);
    let h = out.authorization(1);
    let expected = digest::userhash(Algorithm::Sha512_256, USER.as_bytes(), b"api@a.example");
    assert_eq!(raw_param(h, "username"), Some(expected.as_bytes()));
    assert!(h.contains("userhash=true"));
    assert!(!h.contains(USER));
    assert_ok(&sim.get("/2"), 1);
    let oks = sim.server().oks();
    assert!(oks.iter().all(|a| a.userhash && a.user == USER));
}

#[test]
fn non_ascii_name_goes_in_username_star_with_charset() {
    let mut sim = jason_sim(Server {
        charset_utf8: true,
        ..Server::origin("a")
    });
    let out = sim.get("/doe.json");
    assert_ok(&out, 2);
    let h = out.authorization(1);
    assert!(
        h.starts_with("Digest username*=UTF-8''J%C3%A4s%C3%B8n%20Doe, "),
        "{h}"
    );
    assert!(raw_param(h, "username").is_none());
    let ok = &sim.server().oks()[0];
    assert!(ok.extended_username);
    assert_eq!(ok.user, JASON);
}

#[test]
fn ascii_name_stays_plain_with_charset() {
    let mut sim = Sim::new(Server {
        charset_utf8: true,
        ..Server::origin("a")
    });
    let out = sim.get("/");
    assert_ok(&out, 2);
    assert!(
        out.authorization(1)
            .starts_with("Digest username=\"Mufasa\", ")
    );
    assert!(!sim.server().oks()[0].extended_username);
}

#[test]
fn non_ascii_name_goes_raw_without_charset() {
    let mut sim = jason_sim(Server::origin("a"));
    let out = sim.get("/doe.json");
    assert_ok(&out, 2);
    let h = out.authorization(1);
    assert!(
        h.starts_with("Digest username=\"J\u{e4}s\u{f8}n Doe\", "),
        "{h}"
    );
    assert!(!h.contains("username*"));
    let ok = &sim.server().oks()[0];
    assert!(!ok.extended_username);
    assert_eq!(ok.user, JASON);
}

#[test]
fn non_ascii_name_with_userhash_and_charset() {
    let mut sim = jason_sim(Server {
        charset_utf8: true,
        userhash: true,
        algorithms: vec![Some(Algorithm::Sha512_256)],
        ..Server::origin("a")
    });
    let out = sim.get("/doe.json");
    assert_ok(&out, 2);
    let h = out.authorization(1);
    assert!(!h.contains("username*"));
    assert!(h.contains("userhash=true"));
    assert_eq!(sim.server().oks()[0].user, JASON);
}
