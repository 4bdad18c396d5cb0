//! User names.

use crate::sim::*;

use httpdigest::Algorithm;
use httpdigest::client::{Client, ClientConfig, Credentials, Failure, NameForm};
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
fn non_ascii_name_goes_raw_first_then_in_username_star_with_charset() {
    // A server that announces UTF-8 and reads the raw name: one answer.
    let mut sim = jason_sim(Server {
        charset_utf8: true,
        ..Server::origin("a")
    });
    let out = sim.get("/doe.json");
    assert_ok(&out, 2);
    assert!(
        out.authorization(1)
            .starts_with("Digest username=\"J\u{e4}s\u{f8}n Doe\", "),
        "{out:?}"
    );
    // One that reads header bytes as ISO-8859-1 refuses the raw name: `username*` once more,
    // within the bound, and the space keeps it.
    let mut sim = jason_sim(Server {
        charset_utf8: true,
        reads: Reads::Latin1,
        ..Server::origin("a")
    });
    let out = sim.get("/doe.json");
    assert_ok(&out, 3);
    let h = out.authorization(2);
    assert!(
        h.starts_with("Digest username*=UTF-8''J%C3%A4s%C3%B8n%20Doe, "),
        "{h}"
    );
    assert!(raw_param(h, "username").is_none());
    let ok = &sim.server().oks()[0];
    assert!(ok.extended_username);
    assert_eq!(ok.user, JASON);
    let next = sim.get("/2");
    assert_ok(&next, 1);
    assert!(next.authorization(0).starts_with("Digest username*="));
}

#[test]
fn a_400_to_a_form_of_the_name_tries_the_next_once() {
    // A server that answers a raw non-ASCII name with 400: `username*` once more.
    let mut sim = jason_sim(Server {
        charset_utf8: true,
        refuses_raw_non_ascii: true,
        expect_violations: true,
        ..Server::origin("a")
    });
    let out = sim.get("/doe.json");
    assert_ok(&out, 3);
    assert!(out.authorization(2).starts_with("Digest username*="));
    assert_ok(&sim.get("/2"), 1);
    // A form fixed by the policy is the only one: the 400 is final.
    let mut sim = jason_sim(Server {
        charset_utf8: true,
        refuses_extended: true,
        expect_violations: true,
        ..Server::origin("a")
    });
    sim.client = Client::new(
        Credentials::new(JASON, "Secret, or not?"),
        ClientConfig::default().with_name_form(NameForm::Extended),
    );
    let out = sim.get("/doe.json");
    assert_eq!((out.status, out.exchanges, &out.result), (400, 2, &Ok(())));
    // Both forms refused, by 401 and then 400: the 400 ends it within the bound.
    let mut sim = jason_sim(Server {
        charset_utf8: true,
        refuses_extended: true,
        reads: Reads::Latin1,
        expect_violations: true,
        ..Server::origin("a")
    });
    let out = sim.get("/doe.json");
    assert_eq!((out.status, out.exchanges), (400, 3), "{out:?}");
}

#[test]
fn a_server_reading_latin1_gets_the_latin1_bytes_with_the_utf8_hash() {
    // Tomcat, WSGI and Node servers: no charset, header bytes read as ISO-8859-1.
    let mut sim = jason_sim(Server {
        reads: Reads::Latin1,
        ..Server::origin("a")
    });
    let out = sim.get("/doe.json");
    assert_ok(&out, 3);
    assert!(
        out.authorization(1)
            .starts_with("Digest username=\"J\u{e4}s\u{f8}n Doe\", ")
    );
    let wire = out.authorization_bytes(2);
    assert!(wire.to_str().is_none(), "{wire}");
    assert!(
        wire.as_bytes()
            .starts_with(b"Digest username=\"J\xe4s\xf8n Doe\", ")
    );
    assert_eq!(sim.server().oks()[0].user, JASON);
    // The space keeps the form: the next request goes at once in it.
    let next = sim.get("/2");
    assert_ok(&next, 1);
    assert_eq!(next.authorization_bytes(0).to_str(), None);
}

#[test]
fn latin1_throughout_by_policy() {
    let server = Server {
        reads: Reads::Latin1Throughout,
        ..Server::origin("a")
    };
    let mut sim = jason_sim(server);
    sim.client = Client::new(
        Credentials::new(JASON, "Secret, or n\u{f6}t?"),
        ClientConfig::default().with_name_form(NameForm::Latin1),
    );
    sim.server().users = vec![(JASON.into(), "Secret, or n\u{f6}t?".into())];
    let out = sim.get("/doe.json");
    assert_ok(&out, 2);
    assert!(
        out.authorization_bytes(1)
            .as_bytes()
            .starts_with(b"Digest username=\"J\xe4s\xf8n Doe\", ")
    );
    // By dialect the two forms tried are the UTF-8 hash ones: the server refuses both, and
    // the request ends as a wrong password would, within the bound.
    let mut sim = jason_sim(Server {
        reads: Reads::Latin1Throughout,
        ..Server::origin("a")
    });
    let out = sim.get("/doe.json");
    assert_eq!(
        (out.status, out.exchanges, &out.result),
        (401, 3, &Err(Failure::CredentialsRejected))
    );
}

#[test]
fn a_wrong_password_for_a_non_ascii_name_is_rejected_within_the_bound() {
    for reads in [Reads::Utf8, Reads::Latin1] {
        let mut sim = jason_sim(Server {
            reads,
            ..Server::origin("a")
        });
        sim.client = Client::new(Credentials::new(JASON, "wrong"), ClientConfig::default());
        let out = sim.get("/doe.json");
        assert_eq!(
            (out.status, out.exchanges, &out.result),
            (401, 3, &Err(Failure::CredentialsRejected)),
            "{reads:?}"
        );
        // The space ran out of forms: it is forgotten, and the next request starts over.
        let again = sim.get("/doe.json");
        assert!(again.sent[0].authorization.is_none(), "{reads:?}");
        assert_eq!(again.exchanges, 3);
    }
    // An ASCII name has one form: one answer, as always.
    let mut sim = Sim::new(Server::origin("a"));
    sim.client = Client::new(Credentials::new(USER, "wrong"), ClientConfig::default());
    let out = sim.get("/");
    assert_eq!(
        (out.exchanges, &out.result),
        (2, &Err(Failure::CredentialsRejected))
    );
}

#[test]
fn names_are_sent_in_nfc() {
    let decomposed = "Ja\u{308}s\u{f8}n Doe";
    let credentials = Credentials::new(decomposed, "Secret, or not?");
    assert_eq!(credentials.username(), JASON);
    let mut sim = jason_sim(Server::origin("a"));
    sim.client = Client::new(credentials, ClientConfig::default());
    assert_ok(&sim.get("/doe.json"), 2);
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
