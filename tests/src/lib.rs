//! The end-to-end suite of httpdigest: every adapter (ureq, reqwest, the hyper client layer)
//! against the real Digest servers of the interop lab (`tests/interop/`), the reference
//! clients (curl, wget, Python's, Java's, Node's and Chromium) against the project's example
//! server, credentials kept on their origin across redirects and `domain` lists, concurrency
//! against a server that checks nonce counts strictly, and the scenarios every adapter shares
//! (`e2e/conformance.rs`) against the project's own in-process server.
//!
//! This library is the suite's support code, and the adapter crates' tests use it too (they
//! dev-depend on it): the test server ([`server`]), the Digest-params reader ([`headers`]),
//! and the one constructor of each adapter ([`drive`]); and two hermetic strict servers
//! ([`strict`]), written apart from the project's server code, that answer like Apache's
//! mod_auth_digest with nonce-count checking and like an embedded camera; a small origin
//! that signs its response bodies for `qop=auth-int` ([`signed_body`]); and a real Redis
//! ([`redis`]: the lab's, or a private `redis-server` a test stops and restarts) for the
//! Redis-backed stores. The tests are in `e2e/`, and the
//! `interop-report` binary prints the adapter × location table the lab tests recorded. Tests
//! that need the lab, the reference clients or `redis-server` are `#[ignore]`d: `cargo test --workspace`
//! runs the hermetic ones, `cargo test --workspace -- --include-ignored` (with the lab up:
//! `tests/interop/start-all.sh`) runs them all, and a lab that is down fails them.
// Test support: a broken expectation is a test failure, so panicking is the point.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stderr
)]

pub mod drive;
pub mod example_server;
pub mod headers;
pub mod lab;
pub mod matrix;
pub mod proxy;
pub mod raw;
pub mod redis;
pub mod server;
pub mod signed_body;
pub mod strict;

/// The examples of the repository's README, compiled (and run, where they do not need a
/// server) as doc-tests, so that none of them goes stale.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct Readme;
