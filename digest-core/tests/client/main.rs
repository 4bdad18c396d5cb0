//! The client state machine against a strict test server, in one process, deterministically.
//!
//! The server is built only from the crate's public primitives (`ChallengeParams`,
//! `DigestCredentials`, `digest::*`, `AuthenticationInfoParams`) and checks every header the
//! client produces: realm, nonce (known, not expired, not superseded by `nextnonce`), `uri`
//! against the request-target, algorithm and its spelling, qop, opaque, nonce count strictly
//! increasing per nonce, cnonce never reused, userhash, `username*`, quoting of every
//! parameter, the request-digest (with the body for `auth-int`). A protocol violation is
//! answered with 400 and recorded; a network dropped with unexpected violations fails the
//! test.
//!
//! The driver [`sim::run`] plays the adapter: `begin`, sign, send, `handle_response`, re-send
//! with the signed ticket of `Action::Send` (its headers replacing the previous ones), and
//! asserts that the client never asks for more than two extra sends nor re-sends a streamed
//! body.
//!
//! One module per subject; `sim` holds the server, the network and the driver.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

#[path = "../common/mod.rs"]
mod common;

mod auth_int;
mod basic;
mod by_hand;
mod dialects;
mod flow;
mod forbidden;
mod forgotten;
mod mutual_auth;
mod preemptive;
mod proxy;
mod scope;
mod selection;
mod sim;
mod stale;
mod strict_server;
mod usernames;
