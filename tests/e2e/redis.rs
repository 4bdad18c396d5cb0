//! The Redis helpers of `httpdigest_tests::redis`: the lab's instance is there and configured
//! as documented, a private `redis-server` stops and comes back empty on the same port, and
//! a Redis that does not answer fails the test instead of letting it pass.
//!
//! The tests that need `redis-server` (the lab's, or the binary for a private one) are
//! ignored by a plain `cargo test`; `--include-ignored` runs them, and they fail, never
//! skip, when it is missing (`tests/interop/start-all.sh` installs and starts it).
#![allow(clippy::unwrap_used, clippy::panic)]

use std::net::TcpListener;

use httpdigest_tests::redis::{self, RedisServer, Reply};

fn bulk(s: &str) -> Reply {
    Reply::Bulk(Some(s.as_bytes().to_vec()))
}

fn ok() -> Reply {
    Reply::Simple("OK".to_owned())
}

#[test]
#[ignore = "needs the interop lab: tests/interop/start-all.sh"]
fn lab_redis_answers_and_keeps_nothing_on_disk() {
    let url = redis::lab_redis_url();
    redis::require(&url);
    // As start-redis.sh configures it: nothing persisted, so a restart of the lab is empty.
    assert_eq!(
        redis::command(&url, &["CONFIG", "GET", "save"]).unwrap(),
        Reply::Array(Some(vec![bulk("save"), bulk("")]))
    );
    assert_eq!(
        redis::command(&url, &["CONFIG", "GET", "appendonly"]).unwrap(),
        Reply::Array(Some(vec![bulk("appendonly"), bulk("no")]))
    );
    // It is shared: a key of this test's own, removed again.
    let key = format!("httpdigest-tests:lab-check:{}", std::process::id());
    assert_eq!(redis::command(&url, &["SET", &key, "v"]).unwrap(), ok());
    assert_eq!(redis::command(&url, &["GET", &key]).unwrap(), bulk("v"));
    assert_eq!(
        redis::command(&url, &["DEL", &key]).unwrap(),
        Reply::Integer(1)
    );
}

#[test]
#[ignore = "needs redis-server (Debian's redis-server): tests/interop/start-all.sh installs it"]
fn private_server_stops_and_restarts_empty() {
    let mut server = RedisServer::start();
    let url = server.url();
    assert_eq!(url, format!("redis://127.0.0.1:{}/", server.port()));
    redis::ping(&url).unwrap();
    assert_eq!(redis::command(&url, &["SET", "k", "v"]).unwrap(), ok());
    assert_eq!(redis::command(&url, &["GET", "k"]).unwrap(), bulk("v"));

    server.stop();
    let refused = redis::ping(&url).unwrap_err();
    assert_eq!(
        refused.kind(),
        std::io::ErrorKind::ConnectionRefused,
        "{refused}"
    );
    // Stopping twice is harmless.
    server.stop();

    server.restart_empty();
    assert_eq!(server.url(), url, "the same port after a restart");
    redis::ping(&url).unwrap();
    assert_eq!(
        redis::command(&url, &["GET", "k"]).unwrap(),
        Reply::Bulk(None)
    );
    assert_eq!(
        redis::command(&url, &["DBSIZE"]).unwrap(),
        Reply::Integer(0)
    );

    // A restart of a running server is as good as one of a stopped server.
    assert_eq!(redis::command(&url, &["SET", "k", "v"]).unwrap(), ok());
    server.restart_empty();
    assert_eq!(
        redis::command(&url, &["GET", "k"]).unwrap(),
        Reply::Bulk(None)
    );
}

#[test]
#[ignore = "needs redis-server (Debian's redis-server): tests/interop/start-all.sh installs it"]
fn private_servers_are_independent() {
    let mut a = RedisServer::start();
    let b = RedisServer::start();
    assert_ne!(a.port(), b.port());
    assert_eq!(redis::command(&a.url(), &["SET", "k", "a"]).unwrap(), ok());
    assert_eq!(
        redis::command(&b.url(), &["GET", "k"]).unwrap(),
        Reply::Bulk(None)
    );
    a.stop();
    redis::ping(&b.url()).unwrap();
    let url_b = b.url();
    drop(b);
    assert!(redis::ping(&url_b).is_err(), "dropping a server stops it");
}

#[test]
fn urls_the_helper_cannot_use_are_refused() {
    // Hermetic: what the URL parser refuses needs no server.
    for url in [
        "http://127.0.0.1:6379/",
        "redis://user:pw@127.0.0.1:6379/",
        "redis://127.0.0.1:6379/x",
    ] {
        let e = redis::command(url, &["PING"]).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput, "{url}: {e}");
    }
}

#[test]
#[ignore = "needs redis-server (Debian's redis-server): tests/interop/start-all.sh installs it"]
fn database_numbers_and_error_replies() {
    let server = RedisServer::start();
    let db0 = server.url();
    let db3 = format!("{db0}3");
    assert_eq!(redis::command(&db3, &["SET", "k", "3"]).unwrap(), ok());
    assert_eq!(
        redis::command(&db0, &["GET", "k"]).unwrap(),
        Reply::Bulk(None)
    );
    assert_eq!(redis::command(&db3, &["GET", "k"]).unwrap(), bulk("3"));
    match redis::command(&db0, &["NO-SUCH-COMMAND"]).unwrap() {
        Reply::Error(e) => assert!(e.starts_with("ERR"), "{e}"),
        other => panic!("expected an error reply, got {other}"),
    }
}

#[test]
#[should_panic(expected = "does not answer PING")]
fn a_redis_that_is_not_there_fails_the_test() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    redis::require(&format!("redis://127.0.0.1:{port}/"));
}
