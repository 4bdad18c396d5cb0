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
use std::time::Duration;

use httpdigest::Algorithm;
use httpdigest_tests::example_server::ExampleServer;
use httpdigest_tests::raw::{Login, get, nonce_of};
use httpdigest_tests::redis::RedisServer;

const REALM: &str = "replicas@example.org";
const USER: &str = "alice";
const PASSWORD: &str = "s3cret";

/// The `Authorization` value for `GET path` on `nonce` with count `nc` (SHA-256, the
/// algorithm offered first).
fn authorization(nonce: &str, path: &str, nc: u32) -> String {
    let login = Login {
        uri: path,
        ..Login::new(Algorithm::Sha256, USER, REALM, PASSWORD, nonce).nc(nc)
    };
    login.authorization()
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
