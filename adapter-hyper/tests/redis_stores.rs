//! The Redis-backed stores against a real Redis (the lab's for the shared cases, a private
//! `redis-server` of the test's own where Redis is stopped and restarted).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![cfg(feature = "redis")]

use std::net::{IpAddr, Ipv4Addr};

use httpdigest::NonceCount;
use httpdigest::server::{CountEntry, NonceCountCheck};
use httpdigest_hyper::{
    Admission, AsyncNonceCountStore, Attempt, GuessLimiter, Limits, RedisGuessLimiter,
    RedisNonceCounts,
};
use httpdigest_tests::redis::{RedisServer, lab_redis_url};

/// A prefix no other test run shares, so runs against the lab's Redis do not meet.
fn prefix(test: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("test:{test}:{}:{nanos}:", std::process::id())
}

fn entry(nonce: &[u8], issued_at: u64, nc: u32) -> CountEntry<'_> {
    CountEntry {
        nonce,
        issued_at,
        nc: NonceCount::new(nc),
    }
}

const NOW: u64 = 1_700_000_000;

#[tokio::test]
#[ignore = "needs the interop lab (tests/interop/start-all.sh)"]
async fn counts_are_accepted_once_across_replicas_in_any_order() {
    let client = redis::Client::open(lab_redis_url()).unwrap();
    let prefix = prefix("once");
    // Two replicas: two stores on the same Redis.
    let a = RedisNonceCounts::new(&client, 300)
        .unwrap()
        .with_prefix(&prefix);
    let b = RedisNonceCounts::new(&client, 300)
        .unwrap()
        .with_prefix(&prefix);
    let n = b"nonce-1";
    assert_eq!(
        a.record(entry(n, NOW, 1), b"alice", NOW).await.unwrap(),
        NonceCountCheck::Fresh
    );
    assert_eq!(
        b.record(entry(n, NOW, 1), b"alice", NOW).await.unwrap(),
        NonceCountCheck::Replayed
    );
    // 3 overtakes 2: each is accepted once, on whichever replica.
    assert_eq!(
        b.record(entry(n, NOW, 3), b"alice", NOW).await.unwrap(),
        NonceCountCheck::Fresh
    );
    assert_eq!(
        a.seen(entry(n, NOW, 2), b"alice", NOW).await.unwrap(),
        NonceCountCheck::Fresh
    );
    assert_eq!(
        a.record(entry(n, NOW, 2), b"alice", NOW).await.unwrap(),
        NonceCountCheck::Fresh
    );
    assert_eq!(
        b.seen(entry(n, NOW, 2), b"alice", NOW).await.unwrap(),
        NonceCountCheck::Replayed
    );
    assert_eq!(
        b.record(entry(n, NOW, 2), b"alice", NOW).await.unwrap(),
        NonceCountCheck::Replayed
    );
    assert_eq!(
        a.record(entry(n, NOW, 3), b"alice", NOW).await.unwrap(),
        NonceCountCheck::Replayed
    );
    // Per nonce and user: bob's nc=ffffffff on alice's nonce is his alone.
    assert_eq!(
        a.record(entry(n, NOW, u32::MAX), b"bob", NOW)
            .await
            .unwrap(),
        NonceCountCheck::Fresh
    );
    assert_eq!(
        a.record(entry(n, NOW, 4), b"alice", NOW).await.unwrap(),
        NonceCountCheck::Fresh
    );
    // The window: a count SPAN or more below the highest is refused.
    assert_eq!(
        a.record(entry(n, NOW, 100), b"alice", NOW).await.unwrap(),
        NonceCountCheck::Fresh
    );
    assert_eq!(
        a.record(entry(n, NOW, 36), b"alice", NOW).await.unwrap(),
        NonceCountCheck::Replayed
    );
    assert_eq!(
        a.record(entry(n, NOW, 37), b"alice", NOW).await.unwrap(),
        NonceCountCheck::Fresh
    );
    // Where the nonce ends and the user begins is part of the key.
    assert_eq!(
        a.record(entry(b"ab", NOW, 1), b"c", NOW).await.unwrap(),
        NonceCountCheck::Fresh
    );
    assert_eq!(
        a.record(entry(b"a", NOW, 1), b"bc", NOW).await.unwrap(),
        NonceCountCheck::Fresh
    );
}

#[tokio::test]
#[ignore = "needs the interop lab (tests/interop/start-all.sh)"]
async fn concurrent_records_of_one_count_accept_it_once() {
    let client = redis::Client::open(lab_redis_url()).unwrap();
    let prefix = prefix("race");
    let stores: Vec<_> = (0..3)
        .map(|_| {
            RedisNonceCounts::new(&client, 300)
                .unwrap()
                .with_prefix(&prefix)
        })
        .collect();
    for nc in 1..=50u32 {
        let tries = stores.iter().flat_map(|s| {
            (0..4).map(move |_| async move { s.record(entry(b"n", NOW, nc), b"alice", NOW).await })
        });
        let results = futures_join_all(tries).await;
        let fresh = results
            .iter()
            .filter(|r| matches!(r, Ok(NonceCountCheck::Fresh)))
            .count();
        assert_eq!(fresh, 1, "nc {nc}: {results:?}");
    }
}

/// Polls every future to completion, concurrently, on this task.
async fn futures_join_all<F: std::future::Future>(
    futures: impl IntoIterator<Item = F>,
) -> Vec<F::Output> {
    let handles: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut out = Vec::new();
    let mut pending: Vec<_> = handles.into_iter().map(Some).collect();
    let mut results: Vec<Option<F::Output>> = (0..pending.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut left = false;
        for (slot, result) in pending.iter_mut().zip(results.iter_mut()) {
            if let Some(future) = slot {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(value) => {
                        *result = Some(value);
                        *slot = None;
                    }
                    std::task::Poll::Pending => left = true,
                }
            }
        }
        if left {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.extend(results.into_iter().flatten());
    out
}

#[tokio::test]
#[ignore = "needs redis-server (Debian's redis-server): tests/interop/start-all.sh installs it"]
async fn redis_down_fails_every_call_and_back_empty_forgets_earlier_nonces() {
    let mut server = RedisServer::start();
    let client = redis::Client::open(server.url()).unwrap();
    let counts = RedisNonceCounts::new(&client, 300).unwrap();
    let limiter = RedisGuessLimiter::new(&client, Limits::new(2, 10, 60)).unwrap();
    let old = b"issued-before-the-loss";
    assert_eq!(
        counts
            .record(entry(old, NOW, 1), b"alice", NOW)
            .await
            .unwrap(),
        NonceCountCheck::Fresh
    );

    server.stop();
    assert!(
        counts
            .record(entry(old, NOW, 2), b"alice", NOW + 1)
            .await
            .is_err()
    );
    assert!(
        counts
            .seen(entry(old, NOW, 2), b"alice", NOW + 1)
            .await
            .is_err()
    );
    let attempt = Attempt {
        user: b"alice",
        source: IpAddr::V4(Ipv4Addr::LOCALHOST),
    };
    assert!(limiter.admit(attempt, NOW).await.is_err());
    assert!(limiter.failed(attempt, NOW).await.is_err());

    // Back, empty: the store notices, and no count of a nonce issued before is accepted
    // again (the client is told stale=true); a nonce issued since is counted as usual.
    server.restart_empty();
    let mut answer = Err(());
    for _ in 0..50 {
        // The manager reconnects by itself, on a later call.
        answer = counts
            .record(entry(old, NOW, 1), b"alice", NOW + 10)
            .await
            .map_err(|_| ());
        if answer.is_ok() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(answer, Ok(NonceCountCheck::Forgotten));
    assert_eq!(
        counts
            .record(entry(old, NOW, 2), b"alice", NOW + 10)
            .await
            .unwrap(),
        NonceCountCheck::Forgotten
    );
    let record = |store: &RedisNonceCounts, nonce: &'static [u8], issued, nc, now| {
        let store = store.clone();
        async move {
            store
                .record(entry(nonce, issued, nc), b"alice", now)
                .await
                .unwrap()
        }
    };
    // The second the loss was found in is suspect too: a count on a nonce of that second
    // may have been recorded just before the loss.
    let same_second: &[u8] = b"issued-in-the-second-of-the-loss";
    assert_eq!(
        record(&counts, same_second, NOW + 10, 1, NOW + 10).await,
        NonceCountCheck::Forgotten
    );
    let new: &[u8] = b"issued-after";
    assert_eq!(
        record(&counts, new, NOW + 11, 1, NOW + 11).await,
        NonceCountCheck::Fresh
    );
    assert_eq!(
        record(&counts, new, NOW + 11, 1, NOW + 11).await,
        NonceCountCheck::Replayed
    );
    // A store that never saw the old epoch (a replica started after the loss) keeps to the
    // same rule: the mark is in Redis.
    let late = RedisNonceCounts::new(&client, 300).unwrap();
    assert_eq!(
        record(&late, same_second, NOW + 10, 2, NOW + 12).await,
        NonceCountCheck::Forgotten
    );
    assert_eq!(
        record(&late, new, NOW + 11, 2, NOW + 12).await,
        NonceCountCheck::Fresh
    );
    assert_eq!(limiter.admit(attempt, NOW).await.unwrap(), Admission::Admit);
}

#[tokio::test]
#[ignore = "needs the interop lab (tests/interop/start-all.sh)"]
async fn the_limiter_throttles_a_user_at_one_source_and_a_spraying_source() {
    let client = redis::Client::open(lab_redis_url()).unwrap();
    let prefix = prefix("limits");
    let a = RedisGuessLimiter::new(&client, Limits::new(3, 5, 60))
        .unwrap()
        .with_prefix(&prefix);
    let b = RedisGuessLimiter::new(&client, Limits::new(3, 5, 60))
        .unwrap()
        .with_prefix(&prefix);
    let here = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
    let there = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 7));
    let alice_here = Attempt {
        user: b"alice",
        source: here,
    };
    for _ in 0..3 {
        assert_eq!(a.admit(alice_here, NOW).await.unwrap(), Admission::Admit);
        // Failures on either replica count together.
        b.failed(alice_here, NOW).await.unwrap();
    }
    let Admission::Throttle { retry_after } = a.admit(alice_here, NOW).await.unwrap() else {
        panic!("alice at one source is not throttled after 3 failures");
    };
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    // Alice from elsewhere, and bob here, go on.
    let alice_there = Attempt {
        user: b"alice",
        source: there,
    };
    assert_eq!(b.admit(alice_there, NOW).await.unwrap(), Admission::Admit);
    let bob_here = Attempt {
        user: b"bob",
        source: here,
    };
    assert_eq!(b.admit(bob_here, NOW).await.unwrap(), Admission::Admit);
    // Spraying: two more users' failures reach the per-source limit of 5.
    b.failed(bob_here, NOW).await.unwrap();
    b.failed(
        Attempt {
            user: b"carol",
            source: here,
        },
        NOW,
    )
    .await
    .unwrap();
    assert!(matches!(
        a.admit(
            Attempt {
                user: b"dave",
                source: here
            },
            NOW
        )
        .await
        .unwrap(),
        Admission::Throttle { .. }
    ));
    assert_eq!(
        a.admit(
            Attempt {
                user: b"dave",
                source: there
            },
            NOW
        )
        .await
        .unwrap(),
        Admission::Admit
    );
}
