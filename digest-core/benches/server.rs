//! Server verify against digest_auth (the only compared crate with a server side, of sorts)
//! and the floor, on the same inputs in the same run (see `common`).
//!
//! `cargo bench -p httpdigest --bench server`.
// criterion_group! writes an undocumented public function; a contender that fails stops the
// benchmark.
#![allow(missing_docs, clippy::unwrap_used)]

mod common;

use std::hint::black_box;

use common::{ALGORITHMS, digest_auth_crate, floor, ours};
use criterion::{BatchSize, BenchmarkId, Criterion, criterion_group, criterion_main};

fn verify(c: &mut Criterion) {
    common::check_contenders();
    let mut group = c.benchmark_group("verify");
    for (algorithm, token) in ALGORITHMS {
        let mut server = ours::Server::new(algorithm);
        let mut client = ours::client_of(&mut server);
        // Every request carries the next nonce count, as a replay would be refused; making
        // the header is not timed.
        group.bench_function(BenchmarkId::new("httpdigest", token), |b| {
            b.iter_batched(
                || client.respond(),
                |authorization| server.verify(&authorization).unwrap(),
                BatchSize::SmallInput,
            );
        });
        let authorization = client.respond().to_str().unwrap().to_owned();
        group.bench_function(BenchmarkId::new("digest_auth", token), |b| {
            b.iter(|| assert!(digest_auth_crate::verify(black_box(&authorization))));
        });
        group.bench_function(BenchmarkId::new("floor", token), |b| {
            b.iter(|| floor::verify(black_box(algorithm)));
        });
    }
    group.finish();
}

criterion_group!(benches, verify);
criterion_main!(benches);
