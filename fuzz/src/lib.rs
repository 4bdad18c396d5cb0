//! What the fuzz targets share: the parser oracle (the same file the property tests use),
//! a deterministic random number generator, and the line format of the state-machine
//! targets.

use core::fmt;

use rand_core::{TryCryptoRng, TryRng};

/// The parser oracle of `digest-core/tests/oracle`: one set of invariants for the property
/// tests and the fuzzer.
#[path = "../../digest-core/tests/oracle/mod.rs"]
pub mod oracle;

/// The tests' seeded generator (`digest-core/tests/common`).
#[path = "../../digest-core/tests/common/mod.rs"]
mod common;

/// A generator the fuzz input controls: deterministic (so a crash replays), and able to fail
/// (so the paths that handle a failing generator are reached).
pub struct FuzzRng {
    inner: common::TestRng,
    /// When set, every draw fails.
    pub failing: bool,
}

/// The failure of a [`FuzzRng`].
#[derive(Debug)]
pub struct RngFailed;

impl fmt::Display for RngFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the fuzz input made the generator fail")
    }
}

impl core::error::Error for RngFailed {}

impl FuzzRng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            inner: common::TestRng::new(seed),
            failing: false,
        }
    }

    fn check(&self) -> Result<(), RngFailed> {
        if self.failing { Err(RngFailed) } else { Ok(()) }
    }
}

impl TryRng for FuzzRng {
    type Error = RngFailed;

    fn try_next_u32(&mut self) -> Result<u32, RngFailed> {
        self.check()?;
        let Ok(v) = self.inner.try_next_u32();
        Ok(v)
    }

    fn try_next_u64(&mut self) -> Result<u64, RngFailed> {
        self.check()?;
        let Ok(v) = self.inner.try_next_u64();
        Ok(v)
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), RngFailed> {
        self.check()?;
        let Ok(()) = self.inner.try_fill_bytes(dst);
        Ok(())
    }
}

impl TryCryptoRng for FuzzRng {}

/// The input of a state-machine target: lines, each an operation named by its first byte,
/// with arguments after it. A line format (rather than `arbitrary`'s) keeps the seeds
/// readable and writable by hand: real header values, one per line.
#[derive(Debug, Clone)]
pub struct Ops<'a> {
    lines: core::slice::Split<'a, u8, fn(&u8) -> bool>,
}

impl<'a> Ops<'a> {
    /// The operations of `data`, at most `max` of them (so one input stays cheap).
    pub fn new(data: &'a [u8], max: usize) -> core::iter::Take<Self> {
        let newline: fn(&u8) -> bool = |b| *b == b'\n';
        Self {
            lines: data.split(newline),
        }
        .take(max)
    }
}

impl<'a> Iterator for Ops<'a> {
    type Item = Op<'a>;

    fn next(&mut self) -> Option<Op<'a>> {
        let line = self.lines.next()?;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        Some(match line.split_first() {
            None => Op { code: 0, args: &[] },
            Some((&code, args)) => Op { code, args },
        })
    }
}

/// One operation: its code and its arguments.
#[derive(Debug, Clone, Copy)]
pub struct Op<'a> {
    /// The first byte of the line.
    pub code: u8,
    /// The rest of the line.
    pub args: &'a [u8],
}

impl<'a> Op<'a> {
    /// The `i`-th argument byte read as a choice among `n` (a digit `0`–`9` picks directly;
    /// any other byte is taken modulo `n`), or 0 when absent.
    pub fn choice(&self, i: usize, n: usize) -> usize {
        let b = self.args.get(i).copied().unwrap_or(b'0');
        let v = if b.is_ascii_digit() {
            usize::from(b - b'0')
        } else {
            usize::from(b)
        };
        if n == 0 { 0 } else { v % n }
    }

    /// The arguments after the first `skip` bytes (and one space, if there is one).
    pub fn rest(&self, skip: usize) -> &'a [u8] {
        let rest = self.args.get(skip..).unwrap_or(&[]);
        rest.strip_prefix(b" ").unwrap_or(rest)
    }
}
