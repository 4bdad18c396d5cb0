//! The client side against digest_auth, http-auth and the floor, on the same inputs in the
//! same run (see `common` for the inputs and what each contender does):
//!
//! - `parse`: the RFC 7616 §3.9.1 challenge into a parsed challenge;
//! - `respond`: the `Authorization` value of a request on a known protection space;
//! - `first_response`: a fresh challenge parsed and answered.
//!
//! `cargo bench -p httpdigest --bench client`; `benches/report.py` turns criterion's results
//! into the ratio tables of BENCHMARKS.md.
// criterion_group! writes an undocumented public function; a contender that fails stops the
// benchmark.
#![allow(missing_docs, clippy::unwrap_used)]

mod common;

use std::hint::black_box;

use common::{ALGORITHMS, digest_auth_crate, floor, http_auth_crate, ours};
use criterion::{BatchSize, BenchmarkId, Criterion, criterion_group, criterion_main};

fn parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse");
    for (_, token) in ALGORITHMS {
        let field = common::challenge(token);
        group.bench_function(BenchmarkId::new("httpdigest", token), |b| {
            b.iter(|| ours::parse(black_box(field.as_bytes())));
        });
        group.bench_function(BenchmarkId::new("digest_auth", token), |b| {
            b.iter(|| digest_auth_crate::parse(black_box(&field)));
        });
        group.bench_function(BenchmarkId::new("http-auth", token), |b| {
            b.iter(|| http_auth_crate::parse(black_box(&field)));
        });
    }
    group.finish();
}

fn respond(c: &mut Criterion) {
    let mut group = c.benchmark_group("respond");
    for (algorithm, token) in ALGORITHMS {
        let field = common::challenge(token);
        let mut known = ours::Known::new(&field);
        group.bench_function(BenchmarkId::new("httpdigest", token), |b| {
            b.iter(|| known.respond());
        });
        let context = digest_auth_crate::context();
        let mut prompt = digest_auth_crate::parse(&field);
        group.bench_function(BenchmarkId::new("digest_auth", token), |b| {
            b.iter(|| digest_auth_crate::respond(&mut prompt, &context));
        });
        let mut client = http_auth_crate::parse(&field);
        group.bench_function(BenchmarkId::new("http-auth", token), |b| {
            b.iter(|| http_auth_crate::respond(&mut client));
        });
        let ha1 = floor::ha1(algorithm);
        group.bench_function(BenchmarkId::new("floor", token), |b| {
            b.iter(|| floor::respond(black_box(algorithm), &ha1));
        });
    }
    group.finish();
}

fn first_response(c: &mut Criterion) {
    let mut group = c.benchmark_group("first_response");
    for (algorithm, token) in ALGORITHMS {
        let field = common::challenge(token);
        // A fresh client per answer; making it (and dropping it) is not timed.
        group.bench_function(BenchmarkId::new("httpdigest", token), |b| {
            b.iter_batched_ref(
                ours::fresh_exchange,
                |fresh| ours::first_response(fresh, black_box(&field)),
                BatchSize::SmallInput,
            );
        });
        let context = digest_auth_crate::context();
        group.bench_function(BenchmarkId::new("digest_auth", token), |b| {
            b.iter(|| digest_auth_crate::first_response(black_box(&field), &context));
        });
        group.bench_function(BenchmarkId::new("http-auth", token), |b| {
            b.iter(|| http_auth_crate::first_response(black_box(&field)));
        });
        group.bench_function(BenchmarkId::new("floor", token), |b| {
            b.iter(|| floor::first_response(black_box(algorithm)));
        });
    }
    group.finish();
}

fn checked(c: &mut Criterion) {
    common::check_contenders();
    parse(c);
    respond(c);
    first_response(c);
}

criterion_group!(benches, checked);
criterion_main!(benches);
