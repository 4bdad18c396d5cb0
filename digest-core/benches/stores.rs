//! The server's stores at scale: a login on a new nonce against a full in-memory nonce-count
//! store, `userhash=true` lookups among thousands of users (BENCHMARKS.md, "The server's
//! stores at scale"), and whole verifications per second with the in-memory stores, empty
//! and full, through `Verifier::verify` and through the steps (BENCHMARKS.md, "The server
//! at scale").
//!
//! `cargo bench -p httpdigest --bench stores`.
// criterion_group! writes an undocumented public function; a refused login stops the
// benchmark.
#![allow(missing_docs, clippy::unwrap_used, clippy::panic)]

use std::cell::{Cell, RefCell};
use std::hint::black_box;

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use httpdigest::digest::{self, QopParams};
use httpdigest::server::{
    CredentialStore, MemoryNonceCounts, NonceCountCheck, NonceCountStore, ServerRequest, Users,
    Verifier, VerifierConfig,
};
use httpdigest::{Algorithm, CredentialsParams, NonceCount, Qop, UsernameParam};
use rand::SeedableRng as _;
use rand::rngs::StdRng;

const REALM: &str = "stores@example.org";
const URI: &str = "/";
const CNONCE: &str = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
const NOW: u64 = 1_700_000_000;
const KEY: &[u8] = b"benchmark nonce key, 32 bytes ok";
/// The verifier's default nonce lifetime, and what `MemoryNonceCounts` is told.
const LIFETIME: u64 = 300;
/// The nonces of the full store: the capacity of the bench's store, every slot taken; the
/// server layer's default (`httpdigest_hyper::DEFAULT_NONCE_CAPACITY`).
const FULL: usize = 100_000;
/// The capacity of the "empty" store of the new-nonce logins: large enough never to fill
/// during a run.
const NEVER_FULL: usize = 1 << 24;
/// The users of the large table.
const USERS: usize = 3_000;
/// New nonces per second of the bench's clock: three times what fills a store of the
/// defaults (100,000 nonces living 300 s), so that a full store stays full of live nonces.
const NEW_NONCES_PER_SECOND: u64 = 1_000;

const ALGORITHM: Algorithm = Algorithm::Sha256;

fn user(i: usize) -> String {
    format!("user{i:05}")
}

fn password(i: usize) -> String {
    format!("password of user {i}")
}

/// The `Authorization` value of `name` (sent as `username`, or hashed with `userhash=true`)
/// on `nonce` with count `nc`.
fn authorization(name: &str, password: &str, hashed: bool, nonce: &str, nc: u32) -> String {
    let ha1 = digest::ha1(
        ALGORITHM,
        name.as_bytes(),
        REALM.as_bytes(),
        password.as_bytes(),
    );
    let ha2 = digest::ha2(ALGORITHM, b"GET", URI.as_bytes(), None);
    let qop = QopParams {
        qop: Qop::Auth,
        nc: NonceCount::new(nc),
        cnonce: CNONCE.as_bytes(),
    };
    let response = digest::response(ALGORITHM, &ha1, nonce.as_bytes(), Some(qop), &ha2);
    let userhash = digest::userhash(ALGORITHM, name.as_bytes(), REALM.as_bytes());
    let username = if hashed {
        UsernameParam::Hashed(userhash.as_str())
    } else {
        UsernameParam::Plain(name)
    };
    CredentialsParams {
        algorithm: Some("SHA-256"),
        nc: Some(NonceCount::new(nc)),
        cnonce: Some(CNONCE),
        qop: Some(Qop::Auth),
        ..CredentialsParams::new(username, REALM, URI, nonce, response.as_str())
    }
    .to_header_value()
    .unwrap()
}

struct Server {
    verifier: Verifier,
    users: Users,
    counts: MemoryNonceCounts,
    rng: RefCell<StdRng>,
    /// Logins on new nonces so far: the clock reads `NOW` plus a second per
    /// `NEW_NONCES_PER_SECOND` of them.
    new_nonces: Cell<u64>,
}

impl Server {
    fn new(users: usize, counts: MemoryNonceCounts) -> Self {
        let config = VerifierConfig::new(REALM)
            .with_algorithms([ALGORITHM])
            .with_userhash(true)
            .with_nonce_lifetime(LIFETIME);
        let mut table = Users::new(REALM);
        for i in 0..users {
            table.insert(user(i), password(i));
        }
        Self {
            verifier: Verifier::new(config, KEY).unwrap(),
            users: table,
            counts,
            rng: RefCell::new(StdRng::seed_from_u64(7)),
            new_nonces: Cell::new(0),
        }
    }

    fn nonce(&self, now: u64) -> String {
        self.verifier
            .nonce(now, &mut *self.rng.borrow_mut())
            .unwrap()
    }

    /// The first login (nc=1) on a new nonce, and the time it is sent at.
    fn new_nonce_login(&self) -> (String, u64) {
        let n = self.new_nonces.get();
        self.new_nonces.set(n + 1);
        let now = NOW + n / NEW_NONCES_PER_SECOND;
        let nonce = self.nonce(now);
        (authorization(&user(0), &password(0), false, &nonce, 1), now)
    }

    fn verify(&self, authorization: &str, now: u64) {
        let request = request(authorization);
        if let Err(rejection) = self.verifier.verify(
            &request,
            now,
            &self.users,
            &self.counts,
            &mut *self.rng.borrow_mut(),
        ) {
            panic!("refused: {:?}", rejection.reason());
        }
    }

    /// As [`verify`](Self::verify), through the steps an async server awaits its stores
    /// between (`Verifier::begin`, the lookup, `prove`, the count recorded, `finish`), with
    /// the same synchronous stores.
    fn verify_in_steps(&self, authorization: &str, now: u64) {
        let request = request(authorization);
        let result = self.verifier.begin(&request, now).and_then(|verification| {
            let user = verification
                .lookup()
                .in_store(&self.users, &self.verifier.config().realm);
            let proven = verification.prove(user, request.body)?;
            let recorded = match proven.nonce_count() {
                Some(count) => {
                    self.counts
                        .record(count.nonce, proven.user(), count.issued_at, count.nc, now)
                }
                None => NonceCountCheck::Fresh,
            };
            proven.finish(recorded, &mut *self.rng.borrow_mut())
        });
        if let Err(rejection) = result {
            panic!("refused: {:?}", rejection.reason());
        }
    }
}

/// `GET /` with `authorization`.
fn request(authorization: &str) -> ServerRequest<'_> {
    ServerRequest {
        method: "GET",
        target: URI,
        authority: None,
        authorization: Some(authorization.as_bytes()),
        body: None,
    }
}

/// A nonce-count store of `capacity` slots, with `taken` of them holding live nonces (issued
/// a second before the logins, of the length of the verifier's own).
fn counts(capacity: usize, taken: usize) -> MemoryNonceCounts {
    let counts = MemoryNonceCounts::new(capacity, LIFETIME);
    for i in 0..taken {
        let nonce = format!("{i:0>64}");
        let check = counts.record(
            nonce.as_bytes(),
            b"someone",
            NOW - 1,
            NonceCount::new(1),
            NOW - 1,
        );
        assert_eq!(check, NonceCountCheck::Fresh);
    }
    counts
}

/// A login on a nonce the store has not seen (nc=1): the store records a new entry, and a
/// full store first makes room (its entries are all live: they expire after 300 s, and the
/// clock moves a second per `NEW_NONCES_PER_SECOND` logins).
fn new_nonce_login(c: &mut Criterion) {
    let mut group = c.benchmark_group("new_nonce_login");
    // The empty store is large enough never to fill during a run.
    for (label, capacity, taken) in [("empty", NEVER_FULL, 0), ("full_100k", FULL, FULL)] {
        let server = Server::new(1, counts(capacity, taken));
        group.bench_function(BenchmarkId::new("verify", label), |b| {
            b.iter_batched(
                || server.new_nonce_login(),
                |(authorization, now)| server.verify(&authorization, now),
                BatchSize::SmallInput,
            );
        });
    }
    group.finish();
}

/// `userhash=true`: the store's lookup alone (a known user, the last added, and a hash of
/// nobody), and a whole login, with one user and with `USERS`.
fn userhash(c: &mut Criterion) {
    let mut group = c.benchmark_group("userhash");
    for users in [1, USERS] {
        let server = Server::new(users, MemoryNonceCounts::new(1 << 20, LIFETIME));
        let known = digest::userhash(ALGORITHM, user(users - 1).as_bytes(), REALM.as_bytes());
        let nobody = digest::userhash(ALGORITHM, b"no such user", REALM.as_bytes());
        for (label, hash) in [("lookup_known", known), ("lookup_unknown", nobody)] {
            group.bench_function(BenchmarkId::new(label, users), |b| {
                b.iter(|| {
                    server
                        .users
                        .lookup_userhash(black_box(hash.as_bytes()), REALM, ALGORITHM)
                });
            });
        }
        // One nonce, the next count per login (a repeated count is refused).
        let nonce = server.nonce(NOW);
        let mut nc = 0;
        group.bench_function(BenchmarkId::new("verify", users), |b| {
            b.iter_batched(
                || {
                    nc += 1;
                    authorization(&user(users - 1), &password(users - 1), true, &nonce, nc)
                },
                |authorization| server.verify(&authorization, NOW),
                BatchSize::SmallInput,
            );
        });
    }
    group.finish();
}

/// Whole successful verifications per second (one core: criterion runs them one after
/// another), with `Users` and `MemoryNonceCounts`, empty and full (100,000 live nonces):
/// a login on a new nonce (nc=1; a full store evicts one entry for it), and the next
/// request on a nonce in use (the next count), through `Verifier::verify` and through the
/// steps. Making the `Authorization` value is not timed.
fn verifications(c: &mut Criterion) {
    type Verify = fn(&Server, &str, u64);
    let apis: [(&str, Verify); 2] = [
        ("verify", Server::verify),
        ("steps", Server::verify_in_steps),
    ];
    let mut group = c.benchmark_group("verifications");
    group.throughput(Throughput::Elements(1));
    for (label, capacity, taken) in [("empty", NEVER_FULL, 0), ("full_100k", FULL, FULL)] {
        for (api, verify) in apis {
            let server = Server::new(1, counts(capacity, taken));
            group.bench_function(BenchmarkId::new(format!("{api}_new_nonce"), label), |b| {
                b.iter_batched(
                    || server.new_nonce_login(),
                    |(authorization, now)| verify(&server, &authorization, now),
                    BatchSize::SmallInput,
                );
            });
            // One nonce, the next count per request; the full store's nonces stay live (the
            // clock stands at NOW).
            let server = Server::new(1, counts(capacity, taken));
            let nonce = server.nonce(NOW);
            let mut nc = 0;
            group.bench_function(
                BenchmarkId::new(format!("{api}_reused_nonce"), label),
                |b| {
                    b.iter_batched(
                        || {
                            nc += 1;
                            authorization(&user(0), &password(0), false, &nonce, nc)
                        },
                        |authorization| verify(&server, &authorization, NOW),
                        BatchSize::SmallInput,
                    );
                },
            );
        }
    }
    group.finish();
}

criterion_group!(benches, new_nonce_login, userhash, verifications);
criterion_main!(benches);
