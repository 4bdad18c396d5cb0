//! A strict conformance probe of the project's server (the example server over
//! `RequireDigestLayer`), run twice: with the in-memory stores, and with `--redis` on a
//! private `redis-server` (where two replicas sharing the nonce key are probed too).
//!
//! Every request is made by hand (raw HTTP/1.1, credentials from `httpdigest_tests::raw`),
//! every check is a named step, and what is expected is what RFC 7616 (with RFC 2617 and
//! 2069 compatibility) asks of a server, not what this server happens to do.
//!
//! Waits (for a nonce to expire, or to near its end) poll the server's answers; nothing
//! here measures time.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::time::Duration;

use httpdigest::{Algorithm, Qop};
use httpdigest_tests::example_server::ExampleServer;
use httpdigest_tests::headers::params;
use httpdigest_tests::raw::{Answer, Login, get, request};
use httpdigest_tests::redis::RedisServer;

const REALM: &str = "probe@example.org";
const ALICE: (&str, &str) = ("alice", "s3cret");
const BOB: (&str, &str) = ("bob", "hunter2");
/// RFC 7616 §3.9.2's user.
const JASON: (&str, &str) = ("J\u{e4}s\u{f8}n Doe", "Secret, or not?");
/// Every registered algorithm, strongest first.
const ALGORITHMS: [Algorithm; 6] = [
    Algorithm::Sha512_256,
    Algorithm::Sha512_256Sess,
    Algorithm::Sha256,
    Algorithm::Sha256Sess,
    Algorithm::Md5,
    Algorithm::Md5Sess,
];

/// How the probe's servers are started: with in-memory stores, or all on one Redis.
struct Probe {
    mode: &'static str,
    redis: Option<RedisServer>,
    dir: PathBuf,
}

impl Probe {
    fn new(mode: &'static str, redis: Option<RedisServer>) -> Self {
        let dir =
            std::env::temp_dir().join(format!("httpdigest-probe-{mode}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Self { mode, redis, dir }
    }

    /// An example server for `REALM` with `args`, on this probe's stores (with Redis, its
    /// database 0, which every server but the throttled one shares).
    fn server(&self, name: &str, args: &[&str]) -> ExampleServer {
        self.server_on_db(name, args, 0)
    }

    /// [`server`](Self::server) on Redis database `db`: servers on one database share guess
    /// counts (as replicas should), so the throttling steps get a database of their own,
    /// where the other steps' wrong passwords do not count.
    fn server_on_db(&self, name: &str, args: &[&str], db: u32) -> ExampleServer {
        let mut all: Vec<String> = ["--realm", REALM].map(String::from).to_vec();
        all.extend(args.iter().map(|a| (*a).to_owned()));
        if let Some(redis) = &self.redis {
            all.extend(["--redis".to_owned(), format!("{}{db}", redis.url())]);
        }
        let all: Vec<&str> = all.iter().map(String::as_str).collect();
        ExampleServer::start_named(&format!("{} {name}", self.mode), &all)
    }

    /// Announces a step (a failing assertion's output shows the steps before it).
    #[allow(clippy::print_stderr)]
    fn step(&self, name: &str) {
        eprintln!("[{}] step: {name}", self.mode);
    }

    fn expect(&self, step: &str, answer: &Answer, status: u16) {
        assert_eq!(
            answer.status,
            status,
            "[{}] {step}: expected {status}, got {} ({:?}, body {:?})",
            self.mode,
            answer.status,
            answer.headers,
            String::from_utf8_lossy(&answer.body)
        );
    }

    /// A 401 whose challenges do not say `stale=true`.
    fn expect_refused(&self, step: &str, answer: &Answer) {
        self.expect(step, answer, 401);
        assert!(
            !answer.all("www-authenticate").is_empty(),
            "[{}] {step}: a 401 without WWW-Authenticate",
            self.mode
        );
        assert!(
            !answer.stale(),
            "[{}] {step}: stale=true, but the credentials were not valid: {:?}",
            self.mode,
            answer.all("www-authenticate")
        );
    }

    /// A 200 whose body is `user` and whose `Authentication-Info` is right for `login` (the
    /// `rspauth` recomputed here, `qop`, `nc`, `cnonce` echoed). Returns its parameters.
    fn expect_accepted(
        &self,
        step: &str,
        answer: &Answer,
        login: &Login<'_>,
        user: &str,
    ) -> HashMap<String, String> {
        self.expect(step, answer, 200);
        assert_eq!(
            String::from_utf8_lossy(&answer.body),
            format!("{user}\n"),
            "[{}] {step}: the handler saw another user",
            self.mode
        );
        let info = answer
            .header("authentication-info")
            .unwrap_or_else(|| panic!("[{}] {step}: no Authentication-Info on a 200", self.mode));
        let info = params(&format!("Digest {info}"));
        assert_eq!(
            info.get("rspauth").map(String::as_str),
            Some(login.rspauth(&answer.body).as_str()),
            "[{}] {step}: rspauth (RFC 7616 §3.5) in {info:?}",
            self.mode
        );
        match login.qop {
            Some(qop) => {
                let nc = format!("{:08x}", login.nc);
                for (name, value) in [
                    ("qop", qop.as_str()),
                    ("nc", &nc),
                    ("cnonce", &login.cnonce),
                ] {
                    assert_eq!(
                        info.get(name).map(String::as_str),
                        Some(value),
                        "[{}] {step}: Authentication-Info must echo {name}: {info:?}",
                        self.mode
                    );
                }
            }
            None => {
                for name in ["qop", "nc", "cnonce"] {
                    assert!(
                        !info.contains_key(name),
                        "[{}] {step}: {name} in an RFC 2069 answer: {info:?}",
                        self.mode
                    );
                }
            }
        }
        info
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The challenge (of a 401) for `algorithm`, and its parameters.
fn challenge_for(answer: &Answer, algorithm: Algorithm) -> HashMap<String, String> {
    answer
        .all("www-authenticate")
        .into_iter()
        .map(params)
        .find(|p| p.get("algorithm").is_some_and(|a| a == algorithm.name()))
        .unwrap_or_else(|| panic!("no {algorithm} challenge in {:?}", answer.headers))
}

/// A fresh nonce for `algorithm` from `server`.
fn fresh_nonce(server: &ExampleServer, algorithm: Algorithm) -> String {
    challenge_for(&get(server.address(), "/", None), algorithm)["nonce"].clone()
}

/// `login` sent to `server` (its method, `uri` as the target, its body).
fn send(server: &ExampleServer, login: &Login<'_>) -> Answer {
    send_value(server, login, &login.authorization())
}

/// `login`'s request with `authorization` as its credentials.
fn send_value(server: &ExampleServer, login: &Login<'_>, authorization: &str) -> Answer {
    request(
        server.address(),
        login.method,
        login.uri,
        &[("Authorization", authorization)],
        login.body,
    )
}

/// The qop list of a challenge, as a set.
fn qop_set(challenge: &HashMap<String, String>) -> BTreeSet<String> {
    challenge
        .get("qop")
        .map(|q| {
            q.split(',')
                .map(|t| t.trim().to_ascii_lowercase())
                .collect()
        })
        .unwrap_or_default()
}

/// The shape of a refusal: the status, the field names, and each challenge's parameter
/// names.
fn shape(answer: &Answer) -> (u16, BTreeSet<String>, Vec<BTreeSet<String>>) {
    let names = answer
        .headers
        .iter()
        .map(|(n, _)| n.clone())
        .filter(|n| n != "date")
        .collect();
    let challenges = answer
        .all("www-authenticate")
        .into_iter()
        .map(|c| params(c).into_keys().collect())
        .collect();
    (answer.status, names, challenges)
}

/// Alice's `GET /` with SHA-256 and `qop=auth`, `nc=1`, on `nonce`.
fn alice(nonce: &str) -> Login<'_> {
    Login::new(Algorithm::Sha256, ALICE.0, REALM, ALICE.1, nonce)
}

fn probe(p: &Probe) {
    let names: Vec<&str> = ALGORITHMS.iter().map(|a| a.name()).collect();
    let key_file = p.dir.join("nonce.key");
    std::fs::write(&key_file, [0x42; 32]).unwrap();
    let key = key_file.to_str().unwrap();
    let users = [ALICE, BOB, JASON].map(|(u, pw)| format!("{u}:{pw}"));
    let mut main_args = vec![
        "--algorithms".to_owned(),
        names.join(","),
        "--qop".to_owned(),
        "both".to_owned(),
        "--key-file".to_owned(),
        key.to_owned(),
        // Several steps send wrong passwords on purpose: throttling is probed apart.
        "--guess-limits".to_owned(),
        "1000,1000,300".to_owned(),
    ];
    for user in &users {
        main_args.extend(["--user".to_owned(), user.clone()]);
    }
    let main_args: Vec<&str> = main_args.iter().map(String::as_str).collect();
    let main = p.server("main", &main_args);
    let at = main.address().to_owned();

    // ---- The challenge.
    let s = "challenge form: 401, one WWW-Authenticate: Digest per algorithm offered";
    p.step(s);
    let first = get(&at, "/", None);
    p.expect(s, &first, 401);
    let challenges = first.all("www-authenticate");
    assert_eq!(
        challenges.len(),
        ALGORITHMS.len(),
        "[{}] {s}: {challenges:?}",
        p.mode
    );
    let mut nonces = BTreeSet::new();
    for (raw, algorithm) in challenges.iter().zip(ALGORITHMS) {
        let s = format!("challenge form: the {algorithm} challenge {raw}");
        p.step(&s);
        assert!(raw.starts_with("Digest "), "[{}] {s}: not Digest", p.mode);
        let c = params(raw);
        assert_eq!(
            c.get("realm").map(String::as_str),
            Some(REALM),
            "[{}] {s}: realm",
            p.mode
        );
        assert!(
            raw.contains(&format!("realm=\"{REALM}\"")),
            "[{}] {s}: realm quoted",
            p.mode
        );
        assert_eq!(
            c.get("algorithm").map(String::as_str),
            Some(algorithm.name()),
            "[{}] {s}: algorithm, in the order configured (strongest first)",
            p.mode
        );
        assert!(
            raw.contains(&format!("algorithm={}", algorithm.name())),
            "[{}] {s}: algorithm is a token, unquoted",
            p.mode
        );
        assert!(
            raw.contains("qop=\""),
            "[{}] {s}: qop is a quoted list (RFC 7616 §3.3)",
            p.mode
        );
        assert_eq!(
            qop_set(&c),
            BTreeSet::from(["auth".to_owned(), "auth-int".to_owned()]),
            "[{}] {s}: qop",
            p.mode
        );
        assert!(
            c.get("charset")
                .is_some_and(|v| v.eq_ignore_ascii_case("UTF-8")),
            "[{}] {s}: charset=UTF-8",
            p.mode
        );
        let nonce = c
            .get("nonce")
            .unwrap_or_else(|| panic!("[{}] {s}: no nonce", p.mode));
        assert!(
            raw.contains(&format!("nonce=\"{nonce}\"")),
            "[{}] {s}: nonce quoted",
            p.mode
        );
        assert!(!nonce.is_empty(), "[{}] {s}: empty nonce", p.mode);
        assert!(
            !c.contains_key("stale"),
            "[{}] {s}: stale on a first challenge",
            p.mode
        );
        assert!(
            !c.get("userhash")
                .is_some_and(|v| v.eq_ignore_ascii_case("true")),
            "[{}] {s}: userhash not configured",
            p.mode
        );
        nonces.insert(nonce.clone());
    }
    let s = "challenge form: every 401 brings nonces no earlier 401 had";
    p.step(s);
    for _ in 0..5 {
        let again = get(&at, "/", None);
        let these: BTreeSet<String> = again
            .all("www-authenticate")
            .into_iter()
            .map(|c| params(c)["nonce"].clone())
            .collect();
        assert!(
            these.is_disjoint(&nonces),
            "[{}] {s}: {these:?} issued before",
            p.mode
        );
        nonces.extend(these);
    }

    // ---- Success: every algorithm, both qops, rspauth verified here.
    for algorithm in ALGORITHMS {
        for qop in [Qop::Auth, Qop::AuthInt] {
            let s = format!("success: {algorithm}, qop={}", qop.as_str());
            p.step(&s);
            let nonce = fresh_nonce(&main, algorithm);
            let mut login = Login::new(algorithm, ALICE.0, REALM, ALICE.1, &nonce);
            login.qop = Some(qop);
            if qop == Qop::AuthInt {
                login.method = "POST";
                login.uri = "/upload?x=1";
                login.body = b"the body auth-int covers";
            }
            p.expect_accepted(&s, &send(&main, &login), &login, ALICE.0);
            let s = format!("{s}: the next count on the same nonce");
            let login = login.nc(2);
            p.expect_accepted(&s, &send(&main, &login), &login, ALICE.0);
        }
    }
    let s = "success: algorithm token in another case (tokens match case-insensitively)";
    p.step(s);
    let nonce = fresh_nonce(&main, Algorithm::Sha256);
    let login = alice(&nonce);
    let value = login.fields().set("algorithm", "sha-256", false).render();
    p.expect_accepted(s, &send_value(&main, &login, &value), &login, ALICE.0);

    // ---- Nonce counts.
    let nonce = fresh_nonce(&main, Algorithm::Sha256);
    let s = "refusal: nc=00000000 is 400";
    p.step(s);
    let login = alice(&nonce).nc(0);
    p.expect(s, &send(&main, &login), 400);
    let s = "nonce count: nc=1 accepted";
    p.step(s);
    let login = alice(&nonce).nc(1);
    p.expect_accepted(s, &send(&main, &login), &login, ALICE.0);
    let s = "refusal: a replayed nc is 401 without stale";
    p.step(s);
    p.expect_refused(s, &send(&main, &login));
    let s = "nonce count: nc=5 after 1 accepted";
    p.step(s);
    let login = alice(&nonce).nc(5);
    p.expect_accepted(s, &send(&main, &login), &login, ALICE.0);
    let s = "nonce count: nc=3, below the highest but unseen, accepted (window)";
    p.step(s);
    let login = alice(&nonce).nc(3);
    p.expect_accepted(s, &send(&main, &login), &login, ALICE.0);
    let s = "refusal: nc=3 again is a replay";
    p.step(s);
    p.expect_refused(s, &send(&main, &login));
    let s = "refusal: nc=5 again is a replay";
    p.step(s);
    p.expect_refused(s, &send(&main, &alice(&nonce).nc(5)));
    let s = "nonce count: nc=4, unseen, accepted";
    p.step(s);
    let login = alice(&nonce).nc(4);
    p.expect_accepted(s, &send(&main, &login), &login, ALICE.0);

    // ---- Per nonce and user.
    let s = "counts per nonce and user: bob on alice's nonce with nc=ffffffff";
    p.step(s);
    let nonce = fresh_nonce(&main, Algorithm::Sha256);
    let login = alice(&nonce);
    p.expect_accepted(s, &send(&main, &login), &login, ALICE.0);
    let bob = Login::new(Algorithm::Sha256, BOB.0, REALM, BOB.1, &nonce).nc(0xffff_ffff);
    p.expect_accepted(s, &send(&main, &bob), &bob, BOB.0);
    let s = "counts per nonce and user: alice's next count still accepted after bob's";
    p.step(s);
    let login = alice(&nonce).nc(2);
    p.expect_accepted(s, &send(&main, &login), &login, ALICE.0);

    // ---- Refusals.
    let nonce = fresh_nonce(&main, Algorithm::Sha256);
    let mut nc = 100;
    let mut next = || {
        nc += 1;
        alice(&nonce).nc(nc)
    };
    let s = "refusal: wrong password is 401";
    p.step(s);
    let wrong = Login {
        password: "not it",
        ..next()
    };
    let wrong_answer = send(&main, &wrong);
    p.expect_refused(s, &wrong_answer);
    let s = "refusal: unknown user is 401, shaped as a wrong password";
    p.step(s);
    let unknown = Login {
        username: "mallory",
        ..next()
    };
    let unknown_answer = send(&main, &unknown);
    p.expect_refused(s, &unknown_answer);
    assert_eq!(
        shape(&unknown_answer),
        shape(&wrong_answer),
        "[{}] {s}",
        p.mode
    );
    let s = "refusal: the wrong password did not burn its count (the request proved nothing)";
    p.step(s);
    let retry = Login {
        nc: wrong.nc,
        cnonce: wrong.cnonce.clone(),
        ..alice(&nonce)
    };
    p.expect_accepted(s, &send(&main, &retry), &retry, ALICE.0);
    let s = "refusal: wrong realm is 401";
    p.step(s);
    p.expect_refused(
        s,
        &send(
            &main,
            &Login {
                realm: "other@example.org",
                ..next()
            },
        ),
    );
    let s = "refusal: uri other than the request-target is 400";
    p.step(s);
    let login = Login {
        uri: "/other",
        ..next()
    };
    let answer = request(
        &at,
        "GET",
        "/",
        &[("Authorization", &login.authorization())],
        b"",
    );
    p.expect(s, &answer, 400);
    let s = "refusal: uri with another query than the request-target is 400";
    p.step(s);
    let login = Login {
        uri: "/q?a=1",
        ..next()
    };
    let answer = request(
        &at,
        "GET",
        "/q?a=2",
        &[("Authorization", &login.authorization())],
        b"",
    );
    p.expect(s, &answer, 400);
    let s = "refusal: absolute-form uri naming another host is 400";
    p.step(s);
    let login = Login {
        uri: "http://elsewhere.example/",
        ..next()
    };
    let answer = request(
        &at,
        "GET",
        "/",
        &[("Authorization", &login.authorization())],
        b"",
    );
    p.expect(s, &answer, 400);
    let s = "success: absolute-form uri naming this host (the effective request URI)";
    p.step(s);
    let absolute = format!("http://{at}/");
    let login = Login {
        uri: &absolute,
        ..next()
    };
    let answer = request(
        &at,
        "GET",
        "/",
        &[("Authorization", &login.authorization())],
        b"",
    );
    p.expect_accepted(s, &answer, &login, ALICE.0);
    let s = "refusal: an algorithm not offered (SHA, SHA-1) is 401";
    p.step(s);
    p.expect_refused(
        s,
        &send(
            &main,
            &Login {
                algorithm: Algorithm::Sha1,
                ..next()
            },
        ),
    );
    let s = "refusal: an unknown algorithm token is 401";
    p.step(s);
    let login = next();
    let value = login.fields().set("algorithm", "SHA-384", false).render();
    p.expect_refused(s, &send_value(&main, &login, &value));
    let s = "refusal: qop missing when offered is 401";
    p.step(s);
    p.expect_refused(
        s,
        &send(
            &main,
            &Login {
                qop: None,
                ..next()
            },
        ),
    );
    let s = "refusal: qop with a value not offered (a token, qop=auth-conf) is 401";
    p.step(s);
    let login = next();
    let value = login.fields().set("qop", "auth-conf", false).render();
    p.expect_refused(s, &send_value(&main, &login, &value));
    let s = "refusal: qop without cnonce is 400";
    p.step(s);
    let login = next();
    p.expect(
        s,
        &send_value(&main, &login, &login.fields().remove("cnonce").render()),
        400,
    );
    let s = "refusal: qop without nc is 400";
    p.step(s);
    let login = next();
    p.expect(
        s,
        &send_value(&main, &login, &login.fields().remove("nc").render()),
        400,
    );
    let s = "opaque: not configured by the example server (no opaque in its challenges); skipped";
    p.step(s);
    assert!(
        first
            .all("www-authenticate")
            .iter()
            .all(|c| !params(c).contains_key("opaque")),
        "[{}] the example server sends opaque now: probe its mismatch",
        p.mode
    );
    let s = "refusal: a forged nonce (a hex digit flipped) is 401 without stale";
    p.step(s);
    let mut forged: Vec<char> = nonce.chars().collect();
    let last = forged.len() - 1;
    forged[last] = if forged[last] == '0' { '1' } else { '0' };
    let forged: String = forged.into_iter().collect();
    p.expect_refused(s, &send(&main, &alice(&forged)));
    let s = "refusal: two Authorization fields are 400";
    p.step(s);
    let (one, two) = (next(), next());
    let answer = request(
        &at,
        "GET",
        "/",
        &[
            ("Authorization", &one.authorization()),
            ("Authorization", &two.authorization()),
        ],
        b"",
    );
    p.expect(s, &answer, 400);
    let s = "refusal: malformed credentials (an unterminated quoted string) are 400";
    p.step(s);
    let login = next();
    let value = login.authorization();
    let cut = &value[..value.len() - 1];
    p.expect(s, &send_value(&main, &login, cut), 400);
    let s = "refusal: malformed credentials (a parameter twice) are 400";
    p.step(s);
    let login = next();
    let value = format!("{}, nonce=\"{nonce}\"", login.authorization());
    p.expect(s, &send_value(&main, &login, &value), 400);
    let s = "refusal: userhash=true when not offered is 401";
    p.step(s);
    p.expect_refused(
        s,
        &send(
            &main,
            &Login {
                userhash: true,
                ..next()
            },
        ),
    );
    let s = "refusal: after all these, alice's next count on the nonce is accepted";
    p.step(s);
    let login = next();
    p.expect_accepted(s, &send(&main, &login), &login, ALICE.0);

    // ---- OPTIONS *.
    let s = "OPTIONS * with uri=\"*\" is accepted";
    p.step(s);
    let nonce = fresh_nonce(&main, Algorithm::Sha256);
    let login = Login {
        method: "OPTIONS",
        uri: "*",
        ..alice(&nonce)
    };
    p.expect_accepted(s, &send(&main, &login), &login, ALICE.0);

    // ---- A non-ASCII user.
    let s = "non-ASCII user by username*=UTF-8''...";
    p.step(s);
    let nonce = fresh_nonce(&main, Algorithm::Sha512_256);
    let jason = Login::new(Algorithm::Sha512_256, JASON.0, REALM, JASON.1, &nonce);
    let value = jason
        .fields()
        .remove("username")
        .set("username*", "UTF-8''J%C3%A4s%C3%B8n%20Doe", false)
        .render();
    p.expect_accepted(s, &send_value(&main, &jason, &value), &jason, JASON.0);
    let s = "non-ASCII user by raw UTF-8 in the quoted username";
    p.step(s);
    let jason = jason.nc(2);
    p.expect_accepted(s, &send(&main, &jason), &jason, JASON.0);

    // ---- RFC 2069.
    let s = "RFC 2069 (--qop none): the challenge has no qop";
    p.step(s);
    let legacy = p.server("rfc2069", &["--qop", "none", "--user", &users[0]]);
    let answer = get(legacy.address(), "/", None);
    p.expect(s, &answer, 401);
    let c = challenge_for(&answer, Algorithm::Sha256);
    assert!(!c.contains_key("qop"), "[{}] {s}: {c:?}", p.mode);
    let s = "RFC 2069: success, with rspauth";
    p.step(s);
    let login = Login {
        qop: None,
        ..alice(&c["nonce"])
    };
    p.expect_accepted(s, &send(&legacy, &login), &login, ALICE.0);
    let s = "RFC 2069: qop sent though none was offered is 401";
    p.step(s);
    p.expect_refused(s, &send(&legacy, &alice(&c["nonce"]).nc(2)));
    drop(legacy);

    // ---- userhash, and qop not offered, on a server offering userhash and qop=auth.
    let hashed = p.server(
        "userhash",
        &["--userhash", "--user", &users[0], "--user", &users[2]],
    );
    let s = "userhash (--userhash): the challenges say userhash=true";
    p.step(s);
    let answer = get(hashed.address(), "/", None);
    let c = challenge_for(&answer, Algorithm::Sha256);
    assert!(
        c.get("userhash")
            .is_some_and(|v| v.eq_ignore_ascii_case("true")),
        "[{}] {s}: {c:?}",
        p.mode
    );
    let s = "userhash: a correct userhash login works";
    p.step(s);
    let login = Login {
        userhash: true,
        ..alice(&c["nonce"])
    };
    p.expect_accepted(s, &send(&hashed, &login), &login, ALICE.0);
    let s = "userhash: the non-ASCII user by userhash";
    p.step(s);
    let jason = Login {
        userhash: true,
        ..Login::new(Algorithm::Sha256, JASON.0, REALM, JASON.1, &c["nonce"])
    };
    p.expect_accepted(s, &send(&hashed, &jason), &jason, JASON.0);
    let s = "userhash: the plain name still works";
    p.step(s);
    let login = alice(&c["nonce"]).nc(2);
    p.expect_accepted(s, &send(&hashed, &login), &login, ALICE.0);
    let s = "refusal: qop=auth-int to a server offering only auth is 401";
    p.step(s);
    let login = Login {
        qop: Some(Qop::AuthInt),
        ..alice(&c["nonce"]).nc(3)
    };
    p.expect_refused(s, &send(&hashed, &login));
    drop(hashed);

    // ---- Expiry and nextnonce, on a nonce lifetime of one second.
    let short = p.server(
        "short-lived",
        &["--nonce-lifetime", "1", "--user", &users[0]],
    );
    let s = "nextnonce: a request near the nonce's end gets Authentication-Info with nextnonce";
    p.step(s);
    let nonce = fresh_nonce(&short, Algorithm::Sha256);
    let mut nextnonce = None;
    for nc in 1..=100 {
        let login = alice(&nonce).nc(nc);
        let answer = send(&short, &login);
        if answer.status == 401 {
            break;
        }
        let info = p.expect_accepted(s, &answer, &login, ALICE.0);
        if let Some(next) = info.get("nextnonce") {
            nextnonce = Some(next.clone());
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let nextnonce = nextnonce.unwrap_or_else(|| {
        panic!(
            "[{}] {s}: the nonce was accepted until it expired, never with a nextnonce",
            p.mode
        )
    });
    let s = "nextnonce: the nonce it gives then works";
    p.step(s);
    let login = alice(&nextnonce);
    p.expect_accepted(s, &send(&short, &login), &login, ALICE.0);
    let s = "expired nonce, wrong password: 401 without stale";
    p.step(s);
    let nonce = fresh_nonce(&short, Algorithm::Sha256);
    std::thread::sleep(Duration::from_millis(2500));
    p.expect_refused(
        s,
        &send(
            &short,
            &Login {
                password: "not it",
                ..alice(&nonce)
            },
        ),
    );
    let s = "expired nonce, right password: 401 with stale=true on every challenge";
    p.step(s);
    let answer = send(&short, &alice(&nonce));
    p.expect(s, &answer, 401);
    let challenges = answer.all("www-authenticate");
    assert!(
        !challenges.is_empty()
            && challenges.iter().all(|c| params(c)
                .get("stale")
                .is_some_and(|v| v.eq_ignore_ascii_case("true"))),
        "[{}] {s}: {challenges:?}",
        p.mode
    );
    let s = "expired nonce: the stale challenge's new nonce works";
    p.step(s);
    let renewed = challenge_for(&answer, Algorithm::Sha256)["nonce"].clone();
    assert_ne!(renewed, nonce, "[{}] {s}: the same nonce again", p.mode);
    let login = alice(&renewed);
    let answer = send(&short, &login);
    // A second may pass between the 401 and this request: the new nonce may be near its end
    // (accepted with a nextnonce) but not expired, as it was issued at most a second ago.
    p.expect_accepted(s, &answer, &login, ALICE.0);
    drop(short);

    // ---- Throttling.
    let throttled = p.server_on_db(
        "throttled",
        &[
            "--guess-limits",
            "3,100,300",
            "--user",
            &users[0],
            "--user",
            &users[1],
        ],
        1,
    );
    let nonce = fresh_nonce(&throttled, Algorithm::Sha256);
    for nc in 1..=3 {
        let s = format!("throttling (--guess-limits 3,100,300): wrong password {nc} of 3 is 401");
        p.step(&s);
        let login = Login {
            password: "guess",
            ..alice(&nonce).nc(nc)
        };
        p.expect_refused(&s, &send(&throttled, &login));
    }
    let s = "throttling: the next guess from the same source is 429 with Retry-After";
    p.step(s);
    let answer = send(
        &throttled,
        &Login {
            password: "guess",
            ..alice(&nonce).nc(4)
        },
    );
    p.expect(s, &answer, 429);
    let retry_after = answer
        .header("retry-after")
        .unwrap_or_else(|| panic!("[{}] {s}: no Retry-After", p.mode));
    assert!(
        retry_after.parse::<u64>().is_ok_and(|n| n > 0),
        "[{}] {s}: Retry-After {retry_after:?} is not a number of seconds",
        p.mode
    );
    let s = "throttling: another user's right password from the same source is accepted (per-source limit 100)";
    p.step(s);
    let bob = Login::new(Algorithm::Sha256, BOB.0, REALM, BOB.1, &nonce);
    p.expect_accepted(s, &send(&throttled, &bob), &bob, BOB.0);
    drop(throttled);

    // ---- Replicas (Redis only).
    if p.redis.is_some() {
        let replica = p.server("replica", &main_args);
        let s = "replicas (same --key-file, one Redis): a nonce from one works at the other";
        p.step(s);
        let nonce = fresh_nonce(&main, Algorithm::Sha256);
        let login = alice(&nonce);
        p.expect_accepted(s, &send(&replica, &login), &login, ALICE.0);
        let s = "replicas: the same request replayed to the first is refused";
        p.step(s);
        p.expect_refused(s, &send(&main, &login));
        let s = "replicas: and to the second again";
        p.step(s);
        p.expect_refused(s, &send(&replica, &login));
        let s = "replicas: the next count at the first is accepted";
        p.step(s);
        let login = alice(&nonce).nc(2);
        p.expect_accepted(s, &send(&main, &login), &login, ALICE.0);
        drop(replica);
    }
}

#[test]
fn strict_probe_with_memory_stores() {
    probe(&Probe::new("memory", None));
}

#[test]
#[ignore = "needs redis-server (Debian's redis-server): tests/interop/start-all.sh installs it"]
fn strict_probe_with_redis() {
    probe(&Probe::new("redis", Some(RedisServer::start())));
}
