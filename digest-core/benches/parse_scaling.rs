//! The parsers take time linear in their input, whatever its shape, and refuse oversize input
//! before reading it.
//!
//! Each hostile shape is parsed at sizes from 1 KiB to 1 MiB:
//!
//! - `lifted`: with the size limits lifted (field and value length, parameter count), so the
//!   parser reads every byte: time per byte must stay flat as the input grows;
//! - `default`: with [`Limits::DEFAULT`]: past 16 KiB the field is refused before its first
//!   byte is read, so time stops growing at all.
//!
//! Criterion reports throughput (bytes/s); linear time is a constant throughput across sizes.
//! `cargo bench -p httpdigest --bench parse_scaling`; the figures are in BENCHMARKS.md.
// criterion_group! writes an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use httpdigest::{AuthenticationInfo, Challenges, DigestCredentials, Limits};

const SIZES: [usize; 6] = [1 << 10, 1 << 12, 1 << 14, 1 << 16, 1 << 18, 1 << 20];

const LIFTED: Limits = Limits {
    max_field_len: usize::MAX,
    max_params: usize::MAX,
    max_value_len: usize::MAX,
};

/// How a hostile field is made.
#[derive(Clone, Copy)]
enum Shape {
    /// `head`, then `unit` repeated, then `tail`.
    Repeat {
        head: &'static str,
        unit: &'static str,
        tail: &'static str,
    },
    /// `Digest realm="r", nonce="n", p0=1, p1=1, ...`: every parameter name new, so each one
    /// reaches the check for duplicate unknown names.
    UniqueParams,
}

impl Shape {
    /// The field, of about `size` bytes.
    fn field(self, size: usize) -> Vec<u8> {
        match self {
            Shape::Repeat { head, unit, tail } => {
                let count = size.saturating_sub(head.len() + tail.len()) / unit.len();
                [head, &unit.repeat(count), tail].concat().into_bytes()
            }
            Shape::UniqueParams => {
                let mut field = String::from("Digest realm=\"r\", nonce=\"n\"");
                let mut i = 0usize;
                while field.len() < size {
                    field.push_str(&format!(", p{i}=1"));
                    i += 1;
                }
                field.into_bytes()
            }
        }
    }
}

const fn repeat(head: &'static str, unit: &'static str, tail: &'static str) -> Shape {
    Shape::Repeat { head, unit, tail }
}

/// The shapes. Each is read to its end by a parser that gives up only at the last byte (or
/// accepts).
const SHAPES: [(&str, Shape); 8] = [
    // An empty list element after another, forever (RFC 9110 #rule).
    ("commas", repeat("Digest realm=\"r\"", ",", ", nonce=\"n\"")),
    // A quoted-string of escaped backslashes.
    (
        "backslashes",
        repeat("Digest realm=\"", "\\\\", "\", nonce=\"n\""),
    ),
    // A quoted-string that never ends.
    ("unterminated_quote", repeat("Digest realm=\"", "a", "")),
    // Escaped quotes that look like the end of the string.
    (
        "escaped_quotes",
        repeat("Digest realm=\"", "\\\"", "\", nonce=\"n\""),
    ),
    // Parameter after parameter, each name new.
    ("many_params", Shape::UniqueParams),
    // Whitespace around separators.
    (
        "whitespace",
        repeat("Digest realm=\"r\"", " \t", ", nonce=\"n\""),
    ),
    // Challenge after challenge of another scheme.
    (
        "many_challenges",
        repeat("", "Basic realm=\"x\", ", "Digest realm=\"r\", nonce=\"n\""),
    ),
    // One long token68.
    ("token68", repeat("Negotiate ", "a", "==")),
];

fn bench(c: &mut Criterion) {
    for (name, shape) in SHAPES {
        let mut group = c.benchmark_group(format!("parse/{name}"));
        for size in SIZES {
            let field = shape.field(size);
            group.throughput(Throughput::Bytes(field.len() as u64));
            for (label, limits) in [("lifted", LIFTED), ("default", Limits::DEFAULT)] {
                group.bench_with_input(BenchmarkId::new(label, size), &field, |b, field| {
                    b.iter(|| parse_all(black_box(field), limits));
                });
            }
        }
        group.finish();
    }
}

/// Runs every parser over `field` to its end; returns something of each so that nothing is
/// optimized away.
fn parse_all(field: &[u8], limits: Limits) -> usize {
    let mut n = 0;
    for challenge in Challenges::with_limits(field, limits) {
        match challenge {
            Ok(c) => {
                n += c.params().count();
                if c.is_digest() {
                    n += usize::from(httpdigest::DigestChallenge::from_challenge(&c).is_ok());
                }
            }
            Err(e) => n += e.offset(),
        }
    }
    n += match DigestCredentials::parse_with_limits(field, limits) {
        Ok(c) => c.params().count(),
        Err(e) => e.offset(),
    };
    n += match AuthenticationInfo::parse_with_limits(field, limits) {
        Ok(i) => i.params().count(),
        Err(e) => e.offset(),
    };
    n
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(std::time::Duration::from_millis(300))
        .measurement_time(std::time::Duration::from_secs(1));
    targets = bench
}
criterion_main!(benches);
