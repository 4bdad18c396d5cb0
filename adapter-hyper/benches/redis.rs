//! The server with its stores in Redis on loopback, against the same with the in-memory
//! stores (BENCHMARKS.md, "The server at scale"): `RedisNonceCounts::record`,
//! `RedisGuessLimiter` (admit, and admit then failed), and a whole successful verification,
//! through `RequireDigestLayer` as a tower service (called in-process with `oneshot`, a
//! hand-made `Authorization`, the client's address in the request's extensions as the
//! example server puts it) and through the core's steps with the count recorded by
//! `AsyncNonceCountStore::record`; and the floor, a `PING` on the same connection manager.
//!
//! Criterion on a multi-threaded tokio runtime of 2 workers (what `#[tokio::main]` makes on
//! this machine). Each iteration is awaited before the next: these are one caller's
//! latencies, as verifications per second of one request at a time; the `16_at_once` rows
//! run 16 verifications at once (on one connection to Redis, which the connection manager
//! multiplexes).
//!
//! Redis is the lab's (`httpdigest_tests::redis::lab_redis_url()`: 127.0.0.1:18094, or
//! `HTTPDIGEST_REDIS_URL`), under a key prefix of this run's own; a Redis that does not answer
//! fails the run. Every verification must succeed (a 200), every count be fresh.
//!
//! ```text
//! tests/interop/start-all.sh   # or only the lab's Redis: tests/interop/start-redis.sh
//! cargo bench -p httpdigest-hyper --features redis --bench redis
//! cargo bench -p httpdigest-hyper --features redis --bench redis -- --test   # a check
//! ```
// criterion_group! writes an undocumented public function; a refused verification stops
// the benchmark.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use http::{Request, Response, StatusCode, header};
use http_body_util::Full;
use httpdigest::digest::{self, QopParams};
use httpdigest::server::MemoryNonceCounts;
use httpdigest::server::{
    CountEntry, NonceCountCheck, ServerRequest, Users, Verifier, VerifierConfig,
};
use httpdigest::{Algorithm, CredentialsParams, NonceCount, Qop, ThreadRng, UsernameParam};
use httpdigest_hyper::{
    Admission, AsyncCredentialStore, AsyncNonceCountStore, Attempt, DEFAULT_NONCE_CAPACITY,
    GuessLimiter, Limits, MemoryGuessLimiter, RedisGuessLimiter, RedisNonceCounts,
    RequireDigestLayer,
};
use tokio::runtime::Runtime;
use tower::{Layer as _, ServiceExt as _, service_fn};

const REALM: &str = "bench@httpdigest";
const USER: &str = "alice";
const PASSWORD: &str = "s3cret";
const URI: &str = "/";
const CNONCE: &str = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
const KEY: &[u8] = b"benchmark nonce key, 32 bytes ok";
const ALGORITHM: Algorithm = Algorithm::Sha256;
/// The verifier's default nonce lifetime.
const LIFETIME: u64 = 300;
/// The lifetime the Redis store of the new-nonce row is told: its keys expire 15 s after
/// the run instead of 305 s, so a run leaves little behind in the lab's Redis.
const SHORT_LIFETIME: u64 = 10;
/// How many verifications the `16_at_once` rows run at once.
const AT_ONCE: usize = 16;
/// The client's address, for the guess limiter.
const SOURCE: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A key prefix no other run shares.
fn prefix() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("bench:{}:{nanos}:", std::process::id())
}

/// What `#[tokio::main]` makes on this machine: a multi-threaded runtime, here fixed at 2
/// workers.
fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn redis_client() -> redis::Client {
    redis::Client::open(httpdigest_tests::redis::lab_redis_url()).unwrap()
}

fn verifier() -> Verifier {
    let config = VerifierConfig::new(REALM)
        .with_algorithms([ALGORITHM])
        .with_nonce_lifetime(LIFETIME);
    Verifier::new(config, KEY).unwrap()
}

fn users() -> Users {
    let mut users = Users::new(REALM);
    users.insert(USER, PASSWORD);
    users
}

fn nonce(verifier: &Verifier) -> String {
    verifier
        .nonce(unix_now(), &mut ThreadRng::default())
        .unwrap()
}

/// The `Authorization` value of `GET /` on `nonce` with count `nc`.
fn authorization(nonce: &str, nc: u32) -> String {
    let ha1 = digest::ha1(
        ALGORITHM,
        USER.as_bytes(),
        REALM.as_bytes(),
        PASSWORD.as_bytes(),
    );
    let ha2 = digest::ha2(ALGORITHM, b"GET", URI.as_bytes(), None);
    let qop = QopParams {
        qop: Qop::Auth,
        nc: NonceCount::new(nc),
        cnonce: CNONCE.as_bytes(),
    };
    let response = digest::response(ALGORITHM, &ha1, nonce.as_bytes(), Some(qop), &ha2);
    CredentialsParams {
        algorithm: Some("SHA-256"),
        nc: Some(NonceCount::new(nc)),
        cnonce: Some(CNONCE),
        qop: Some(Qop::Auth),
        ..CredentialsParams::new(
            UsernameParam::Plain(USER),
            REALM,
            URI,
            nonce,
            response.as_str(),
        )
    }
    .to_header_value()
    .unwrap()
}

/// A client's next requests on one nonce (counts 1, 2, ...), made before they are timed.
struct Counts {
    nonce: String,
    next: AtomicU64,
}

impl Counts {
    fn new(verifier: &Verifier) -> Self {
        Self {
            nonce: nonce(verifier),
            next: AtomicU64::new(1),
        }
    }

    fn next(&self) -> String {
        let nc = self.next.fetch_add(1, Ordering::Relaxed);
        authorization(&self.nonce, u32::try_from(nc).unwrap())
    }
}

/// `GET /` with `authorization`, from `SOURCE`, as hyper hands it to the layer in the
/// example server.
fn request(authorization: &str) -> Request<Full<Bytes>> {
    let mut request = Request::get(URI)
        .header(header::HOST, "127.0.0.1")
        .header(header::AUTHORIZATION, authorization)
        .body(Full::default())
        .unwrap();
    request
        .extensions_mut()
        .insert(SocketAddr::new(SOURCE, 50_000));
    request
}

type Protected =
    tower::util::BoxCloneSyncService<Request<Full<Bytes>>, Response<Full<Bytes>>, Infallible>;

/// `RequireDigestLayer` over a handler that answers `200 ok`.
fn protected(layer: RequireDigestLayer) -> Protected {
    Protected::new(layer.layer(service_fn(|_: Request<Full<Bytes>>| async {
        Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"ok\n"))))
    })))
}

async fn call(service: Protected, authorization: String) {
    let response = service.oneshot(request(&authorization)).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{response:?}");
}

/// The core's steps with the stores awaited between them, as the layer does (without the
/// guess limiter and the HTTP types).
async fn steps(
    verifier: &Verifier,
    users: &Users,
    counts: &dyn AsyncNonceCountStore,
    authorization: &str,
) {
    let request = ServerRequest {
        method: "GET",
        target: URI,
        authority: None,
        authorization: Some(authorization.as_bytes()),
        body: None,
    };
    let now = unix_now();
    let verification = verifier.begin(&request, now).unwrap();
    let user = users
        .find(verification.lookup(), &verifier.config().realm)
        .await
        .unwrap();
    let proven = verification.prove(user, None).unwrap();
    let count = proven.nonce_count().unwrap();
    let recorded = counts.record(count, proven.user(), now).await.unwrap();
    proven
        .finish(recorded, &mut ThreadRng::default())
        .unwrap_or_else(|r| panic!("refused: {:?}", r.reason()));
}

/// The nonce-count stores alone: a new nonce per call (nc=1) and the next count of one
/// nonce. The in-memory store is the layer's default, of `DEFAULT_NONCE_CAPACITY`; its
/// new-nonce row runs on a clock that moves a second per 1,000 calls, so that it fills and
/// then evicts an entry per call (BENCHMARKS.md, "The server's stores at scale").
fn nonce_counts(c: &mut Criterion) {
    let rt = runtime();
    let client = redis_client();
    let _context = rt.enter();
    let redis = RedisNonceCounts::new(&client, LIFETIME)
        .unwrap()
        .with_prefix(prefix());
    let redis_new = RedisNonceCounts::new(&client, SHORT_LIFETIME)
        .unwrap()
        .with_prefix(prefix());
    let memory = MemoryNonceCounts::new(DEFAULT_NONCE_CAPACITY, LIFETIME);
    let memory_new = MemoryNonceCounts::new(DEFAULT_NONCE_CAPACITY, LIFETIME);
    // (name, the store of the new nonces, the store of the next counts, whether the new
    // nonces' clock is the fake one)
    let stores: [(
        &str,
        &dyn AsyncNonceCountStore,
        &dyn AsyncNonceCountStore,
        bool,
    ); 2] = [
        ("memory", &memory_new, &memory, true),
        ("redis", &redis_new, &redis, false),
    ];
    let mut group = c.benchmark_group("nonce_counts");
    group.throughput(Throughput::Elements(1));
    for (name, new, store, fake_clock) in stores {
        let start = unix_now();
        let calls = AtomicU64::new(0);
        group.bench_function(BenchmarkId::new("record_new_nonce", name), |b| {
            b.to_async(&rt).iter_batched(
                || {
                    let n = calls.fetch_add(1, Ordering::Relaxed);
                    let now = if fake_clock {
                        start + n / 1_000
                    } else {
                        unix_now()
                    };
                    (format!("{n:0>64}").into_bytes(), now)
                },
                |(nonce, now)| async move {
                    let count = CountEntry {
                        nonce: &nonce,
                        issued_at: now,
                        nc: NonceCount::new(1),
                    };
                    let check = new.record(count, USER.as_bytes(), now).await.unwrap();
                    assert_eq!(check, NonceCountCheck::Fresh);
                },
                BatchSize::SmallInput,
            );
        });
        let issued = unix_now();
        let nonce = format!("{issued:0>64}").into_bytes();
        let next = AtomicU64::new(1);
        group.bench_function(BenchmarkId::new("record_next_count", name), |b| {
            b.to_async(&rt).iter(|| async {
                let nc = u32::try_from(next.fetch_add(1, Ordering::Relaxed)).unwrap();
                let count = CountEntry {
                    nonce: &nonce,
                    issued_at: issued,
                    nc: NonceCount::new(nc),
                };
                let check = store.record(count, USER.as_bytes(), issued).await.unwrap();
                assert_eq!(check, NonceCountCheck::Fresh);
            });
        });
    }
    group.finish();
}

/// The guess limiter: `admit` (asked before every verification from a known source, a
/// successful one too) and `admit` then `failed` (a wrong password), with limits that never
/// throttle, so that every call takes the path of an admitted source.
fn guess_limiter(c: &mut Criterion) {
    let rt = runtime();
    let client = redis_client();
    let _context = rt.enter();
    let limits = Limits::new(u32::MAX, u32::MAX, 60);
    let redis = RedisGuessLimiter::new(&client, limits)
        .unwrap()
        .with_prefix(prefix());
    let memory = MemoryGuessLimiter::new(limits, MemoryGuessLimiter::DEFAULT_CAPACITY);
    let limiters: [(&str, &dyn GuessLimiter); 2] = [("memory", &memory), ("redis", &redis)];
    let attempt = Attempt {
        user: USER.as_bytes(),
        source: SOURCE,
    };
    let mut group = c.benchmark_group("guess_limiter");
    group.throughput(Throughput::Elements(1));
    for (name, limiter) in limiters {
        group.bench_function(BenchmarkId::new("admit", name), |b| {
            b.to_async(&rt).iter(|| async {
                let admission = limiter.admit(attempt, unix_now()).await.unwrap();
                assert_eq!(admission, Admission::Admit);
            });
        });
        group.bench_function(BenchmarkId::new("admit_then_failed", name), |b| {
            b.to_async(&rt).iter(|| async {
                let now = unix_now();
                let admission = limiter.admit(attempt, now).await.unwrap();
                assert_eq!(admission, Admission::Admit);
                limiter.failed(attempt, now).await.unwrap();
            });
        });
    }
    group.finish();
}

/// A whole successful verification, a client's next request on its nonce (the next count):
/// through the layer with the in-memory stores (its defaults), with Redis nonce counts and
/// the Redis guess limiter (the example server's `--redis`), and with Redis nonce counts and
/// no limiter; and through the core's steps with each nonce-count store.
fn verification(c: &mut Criterion) {
    let rt = runtime();
    let client = redis_client();
    let _context = rt.enter();
    let redis_counts = || {
        RedisNonceCounts::new(&client, LIFETIME)
            .unwrap()
            .with_prefix(prefix())
    };
    let layers: [(&str, RequireDigestLayer); 3] = [
        (
            "memory",
            RequireDigestLayer::new(verifier(), users()).unwrap(),
        ),
        (
            "redis",
            RequireDigestLayer::new(verifier(), users())
                .unwrap()
                .with_nonce_counts(redis_counts())
                .with_guess_limiter(
                    RedisGuessLimiter::new(&client, Limits::DEFAULT)
                        .unwrap()
                        .with_prefix(prefix()),
                ),
        ),
        (
            "redis_counts_no_limiter",
            RequireDigestLayer::new(verifier(), users())
                .unwrap()
                .with_nonce_counts(redis_counts())
                .without_guess_limiter(),
        ),
    ];
    let mut group = c.benchmark_group("verification");
    for (name, layer) in layers {
        let service = protected(layer);
        group.throughput(Throughput::Elements(1));
        let counts = Counts::new(&verifier());
        group.bench_function(BenchmarkId::new("layer", name), |b| {
            b.to_async(&rt).iter_batched(
                || (service.clone(), counts.next()),
                |(service, authorization)| call(service, authorization),
                BatchSize::SmallInput,
            );
        });
        // AT_ONCE requests of one client, on one nonce with consecutive counts (within the
        // window of 64 a count may overtake another).
        group.throughput(Throughput::Elements(AT_ONCE as u64));
        let counts = Counts::new(&verifier());
        group.bench_function(BenchmarkId::new("layer_16_at_once", name), |b| {
            b.to_async(&rt).iter_batched(
                || {
                    (0..AT_ONCE)
                        .map(|_| (service.clone(), counts.next()))
                        .collect::<Vec<_>>()
                },
                |calls| async move {
                    let mut tasks = tokio::task::JoinSet::new();
                    for (service, authorization) in calls {
                        tasks.spawn(call(service, authorization));
                    }
                    while let Some(done) = tasks.join_next().await {
                        done.unwrap();
                    }
                },
                BatchSize::SmallInput,
            );
        });
    }
    let verifier = verifier();
    let users = users();
    let memory = MemoryNonceCounts::new(DEFAULT_NONCE_CAPACITY, LIFETIME);
    let redis = redis_counts();
    let stores: [(&str, &dyn AsyncNonceCountStore); 2] = [("memory", &memory), ("redis", &redis)];
    group.throughput(Throughput::Elements(1));
    for (name, store) in stores {
        let counts = Counts::new(&verifier);
        group.bench_function(BenchmarkId::new("steps", name), |b| {
            b.to_async(&rt).iter_batched(
                || counts.next(),
                |authorization| {
                    let (verifier, users) = (&verifier, &users);
                    async move { steps(verifier, users, store, &authorization).await }
                },
                BatchSize::SmallInput,
            );
        });
    }
    group.finish();
}

/// The floor: one `PING` through redis' connection manager on the same runtime, the round
/// trip every store call pays before its script runs.
fn floor(c: &mut Criterion) {
    let rt = runtime();
    let client = redis_client();
    let connection = rt
        .block_on(client.get_connection_manager())
        .expect("a connection to Redis");
    let mut group = c.benchmark_group("redis_floor");
    group.throughput(Throughput::Elements(1));
    group.bench_function("ping", |b| {
        b.to_async(&rt).iter(|| {
            let mut connection = connection.clone();
            async move {
                let pong: String = redis::cmd("PING")
                    .query_async(&mut connection)
                    .await
                    .unwrap();
                assert_eq!(pong, "PONG");
            }
        });
    });
    group.finish();
}

criterion_group!(benches, floor, nonce_counts, guess_limiter, verification);
criterion_main!(benches);
