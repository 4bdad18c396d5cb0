//! Three replicas of the example server sharing the nonce key (`--key-file`) and one Redis
//! (`--redis`): nonces and replay protection hold across replicas, a Redis outage refuses
//! everything without taking a replica down, and a Redis that comes back empty accepts no
//! count it saw before.
//!
//! The requests are made by hand (raw HTTP/1.1, the response computed with the crate's
//! digest functions), so that the test decides each count and can send a request twice.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use httpdigest::digest::{self, QopParams};
use httpdigest::{Algorithm, NonceCount, Qop};
use httpdigest_tests::example_server::ExampleServer;
use httpdigest_tests::headers::params;
use httpdigest_tests::redis::RedisServer;

const REALM: &str = "replicas@example.org";
const USER: &str = "alice";
const PASSWORD: &str = "s3cret";

/// An answer: the status and the header fields (names in lower case).
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// `GET path` to `address`, with `authorization` if given, on a connection of its own.
fn get(address: &str, path: &str, authorization: Option<&str>) -> Answer {
    let mut stream = TcpStream::connect(address).expect("connect to a replica");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut head = format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n");
    if let Some(value) = authorization {
        head.push_str(&format!("Authorization: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read the answer");
    let text = String::from_utf8_lossy(&raw);
    let (head, _) = text.split_once("\r\n\r\n").expect("a complete head");
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Answer { status, headers }
}

/// The nonce of a 401's challenge (the SHA-256 one, offered first).
fn nonce_of(answer: &Answer) -> String {
    assert_eq!(answer.status, 401, "expected a challenge");
    let challenge = answer
        .header("www-authenticate")
        .expect("a WWW-Authenticate field");
    params(challenge)["nonce"].clone()
}

/// The `Authorization` value for `GET path` on `nonce` with count `nc`.
fn authorization(nonce: &str, path: &str, nc: u32) -> String {
    let algorithm = Algorithm::Sha256;
    let nc = NonceCount::new(nc);
    let cnonce = format!("cnonce{}", nc.get());
    let ha1 = digest::ha1(
        algorithm,
        USER.as_bytes(),
        REALM.as_bytes(),
        PASSWORD.as_bytes(),
    );
    let ha2 = digest::ha2(algorithm, b"GET", path.as_bytes(), None);
    let qop = QopParams {
        qop: Qop::Auth,
        nc,
        cnonce: cnonce.as_bytes(),
    };
    let response = digest::response(algorithm, &ha1, nonce.as_bytes(), Some(qop), &ha2);
    format!(
        "Digest username=\"{USER}\", realm=\"{REALM}\", uri=\"{path}\", algorithm=SHA-256, \
         nonce=\"{nonce}\", nc={}, cnonce=\"{cnonce}\", qop=auth, response=\"{}\"",
        String::from_utf8_lossy(&nc.to_hex()),
        response.as_str()
    )
}

/// Three replicas with one key file and one Redis.
fn replicas(redis: &RedisServer, key_file: &std::path::Path) -> Vec<ExampleServer> {
    let key = key_file.to_str().unwrap();
    let url = redis.url();
    (0..3)
        .map(|i| {
            ExampleServer::start_named(
                &format!("replica {i}"),
                &[
                    "--realm",
                    REALM,
                    "--user",
                    &format!("{USER}:{PASSWORD}"),
                    "--key-file",
                    key,
                    "--redis",
                    &url,
                ],
            )
        })
        .collect()
}

#[test]
#[ignore = "needs redis-server (Debian's redis-server): tests/interop/start-all.sh installs it"]
fn three_replicas_share_nonces_and_replay_protection_through_redis() {
    let mut redis = RedisServer::start();
    let dir = std::env::temp_dir().join(format!("httpdigest-replicas-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let key_file = dir.join("nonce.key");
    std::fs::write(&key_file, [0x5a; 32]).unwrap();
    let servers = replicas(&redis, &key_file);
    let at = |i: usize| servers[i].address().to_owned();

    // A nonce from replica 0 is accepted by 1 and 2.
    let nonce = nonce_of(&get(&at(0), "/", None));
    for (i, nc) in [(1, 1), (2, 2), (0, 3)] {
        let answer = get(&at(i), "/", Some(&authorization(&nonce, "/", nc)));
        assert_eq!(answer.status, 200, "replica {i}, nc {nc}");
        assert!(
            answer
                .header("authentication-info")
                .is_some_and(|v| v.contains("rspauth="))
        );
    }
    // The same request replayed to another replica (or the same) is refused.
    let first = authorization(&nonce, "/", 1);
    for i in 0..3 {
        let answer = get(&at(i), "/", Some(&first));
        assert_eq!(answer.status, 401, "replay of nc 1 to replica {i}");
        assert!(
            !answer
                .header("www-authenticate")
                .unwrap_or("")
                .contains("stale=true")
        );
    }

    // Counts that overtake each other across replicas: each accepted once, never twice.
    let sent: Vec<u32> = vec![10, 5, 7, 6, 4, 9, 8];
    let mut accepted: HashMap<u32, usize> = HashMap::new();
    for round in 0..2 {
        for (k, &nc) in sent.iter().enumerate() {
            let replica = (k + round) % 3;
            let answer = get(&at(replica), "/", Some(&authorization(&nonce, "/", nc)));
            if answer.status == 200 {
                *accepted.entry(nc).or_default() += 1;
            } else {
                assert_eq!(answer.status, 401, "nc {nc} at replica {replica}");
            }
        }
    }
    for nc in &sent {
        assert_eq!(accepted.get(nc), Some(&1), "nc {nc}: {accepted:?}");
    }

    // The same count sent to the three replicas at once: one of them accepts it.
    for nc in 30..40u32 {
        let value = authorization(&nonce, "/", nc);
        let statuses: Vec<u16> = std::thread::scope(|scope| {
            let tries: Vec<_> = (0..3)
                .map(|i| {
                    let (address, value) = (at(i), value.clone());
                    scope.spawn(move || get(&address, "/", Some(&value)).status)
                })
                .collect();
            tries.into_iter().map(|t| t.join().unwrap()).collect()
        });
        assert_eq!(
            statuses.iter().filter(|&&s| s == 200).count(),
            1,
            "nc {nc}: {statuses:?}"
        );
        assert!(
            statuses.iter().all(|&s| s == 200 || s == 401),
            "nc {nc}: {statuses:?}"
        );
    }

    // Redis stopped mid-run: nothing is accepted (503 with Retry-After), and every replica
    // stays up.
    redis.stop();
    for i in 0..3 {
        let answer = get(
            &at(i),
            "/",
            Some(&authorization(&nonce, "/", 20 + i as u32)),
        );
        assert_eq!(answer.status, 503, "replica {i} with Redis down");
        assert!(answer.header("retry-after").is_some());
    }
    // Still serving: a request without credentials is challenged as ever.
    for i in 0..3 {
        assert_eq!(get(&at(i), "/", None).status, 401, "replica {i} is down");
    }

    // Redis back, empty: no count seen before is accepted again (the earlier nonce is
    // answered stale=true, so clients move on), and fresh logins succeed.
    redis.restart_empty();
    // Each replica reconnects by itself, on a later request: until then it answers 503.
    let after_recovery = |i: usize, value: &str| {
        let mut answer = get(&at(i), "/", Some(value));
        for _ in 0..100 {
            if answer.status != 503 {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
            answer = get(&at(i), "/", Some(value));
        }
        answer
    };
    for i in [1, 0, 2] {
        // A count seen before the loss: refused, and the nonce called stale so the client
        // moves on.
        let answer = after_recovery(i, &first);
        assert_eq!(
            answer.status, 401,
            "replica {i}: a count seen before the loss"
        );
        let challenge = answer.header("www-authenticate").unwrap_or("");
        assert!(challenge.contains("stale=true"), "replica {i}: {challenge}");
        let old = get(&at(i), "/", Some(&authorization(&nonce, "/", 3)));
        assert_eq!(old.status, 401, "replica {i} took an old count");
    }
    // A nonce issued after the second in which a replica found Redis empty is counted as
    // usual (that second's own nonces are stale too: counts on them may predate the loss).
    std::thread::sleep(Duration::from_millis(1100));
    let fresh = nonce_of(&get(&at(2), "/", None));
    for (i, nc) in [(0, 1), (1, 2), (2, 3)] {
        let answer = get(&at(i), "/", Some(&authorization(&fresh, "/", nc)));
        assert_eq!(answer.status, 200, "fresh login at replica {i}, nc {nc}");
    }
    let replay = get(&at(0), "/", Some(&authorization(&fresh, "/", 2)));
    assert_eq!(replay.status, 401);
    drop(servers);
    let _ = std::fs::remove_dir_all(&dir);
}
