//! Heap allocations per operation, for httpdigest, digest_auth, http-auth and the floor, on
//! the inputs of the timing benchmarks (see `common`): a counting global allocator around
//! each call. Counts, not times: the same on every machine.
//!
//! `cargo bench -p httpdigest --bench allocations` prints the table of BENCHMARKS.md.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

mod common;

use std::alloc::System;

use common::{ALGORITHMS, digest_auth_crate, floor, http_auth_crate, ours};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Calls per measurement: the count printed is the mean per call.
const CALLS: usize = 100;

/// Allocations (reallocations count as allocations) and bytes asked for, per call of `f`.
fn per_call<T>(mut f: impl FnMut() -> T) -> (f64, f64) {
    per_call_with(|| (), |()| f())
}

/// Allocations and bytes per call of `f` on inputs `setup` makes outside the count. The
/// first call is not counted: lazily made state (rand's thread generator, say) is not the
/// operation's cost. Outputs are kept until the count is read.
fn per_call_with<S, T>(mut setup: impl FnMut() -> S, mut f: impl FnMut(&mut S) -> T) -> (f64, f64) {
    // In the order made: each verify takes the next nonce count.
    let mut inputs: Vec<S> = (0..=CALLS).map(|_| setup()).collect();
    let (first, rest) = inputs.split_first_mut().unwrap();
    let mut outputs = Vec::with_capacity(CALLS + 1);
    outputs.push(f(first));
    let region = Region::new(GLOBAL);
    for input in rest {
        outputs.push(f(input));
    }
    let change = region.change();
    let calls = CALLS as f64;
    (
        (change.allocations + change.reallocations) as f64 / calls,
        change.bytes_allocated as f64 / calls,
    )
}

fn cell((allocations, bytes): (f64, f64)) -> String {
    format!("{allocations} ({bytes:.0} B)")
}

fn main() {
    common::check_contenders();
    println!("| operation | algorithm | httpdigest | digest_auth | http-auth | floor |");
    println!("|---|---|---:|---:|---:|---:|");
    for (algorithm, token) in ALGORITHMS {
        let field = common::challenge(token);
        let row = |operation: &str, cells: [String; 4]| {
            println!("| {operation} | {token} | {} |", cells.join(" | "));
        };

        row(
            "parse",
            [
                cell(per_call(|| ours::parse(field.as_bytes()))),
                cell(per_call(|| digest_auth_crate::parse(&field))),
                cell(per_call(|| http_auth_crate::parse(&field))),
                "—".into(),
            ],
        );

        let mut known = ours::Known::new(&field);
        let context = digest_auth_crate::context();
        let mut prompt = digest_auth_crate::parse(&field);
        let mut client = http_auth_crate::parse(&field);
        let ha1 = floor::ha1(algorithm);
        row(
            "respond",
            [
                cell(per_call(|| known.respond())),
                cell(per_call(|| {
                    digest_auth_crate::respond(&mut prompt, &context)
                })),
                cell(per_call(|| http_auth_crate::respond(&mut client))),
                cell(per_call(|| floor::respond(algorithm, &ha1))),
            ],
        );

        row(
            "first response",
            [
                cell(per_call_with(ours::fresh_exchange, |fresh| {
                    ours::first_response(fresh, &field)
                })),
                cell(per_call(|| {
                    digest_auth_crate::first_response(&field, &context)
                })),
                cell(per_call(|| http_auth_crate::first_response(&field))),
                cell(per_call(|| floor::first_response(algorithm))),
            ],
        );

        let mut server = ours::Server::new(algorithm);
        let mut client = ours::client_of(&mut server);
        let authorization = client.respond().to_str().unwrap().to_owned();
        row(
            "verify",
            [
                cell(per_call_with(
                    || client.respond(),
                    |authorization| server.verify(authorization).unwrap(),
                )),
                cell(per_call(|| digest_auth_crate::verify(&authorization))),
                "— (no server side)".into(),
                cell(per_call(|| floor::verify(algorithm))),
            ],
        );
    }
}
