//! HTTP Digest access authentication (RFC 7616, compatible with RFC 2617 and RFC 2069), as a
//! sans-IO core for clients and servers.
//!
//! This crate does no I/O, reads no clock and draws no randomness of its own: callers hand it
//! header values and request metadata and get header values and decisions back. It is
//! `#![no_std]` with `alloc`.
//!
//! What is here:
//!
//! | module | RFC | what |
//! |---|---|---|
//! | [`grammar`] | RFC 9110 §11 | the auth header grammar: [`Challenges`] of every scheme, auth-params, [`Limits`] |
//! | [`challenge`] | RFC 7616 §3.3 | [`DigestChallenge`] (parse), [`ChallengeParams`] (write) |
//! | [`credentials`] | RFC 7616 §3.4 | [`DigestCredentials`] (parse), [`CredentialsParams`] (write) |
//! | [`authentication_info`] | RFC 7616 §3.5 | [`AuthenticationInfo`] (parse), [`AuthenticationInfoParams`] (write) |
//! | [`algorithm`] | RFC 7616 §3.3, §6.1 | [`Algorithm`]: MD5, SHA-256, SHA-512-256, SHA, SHA-512, each with `-sess` |
//! | [`digest`] | RFC 7616 §3.4.1–§3.4.4 | H(A1), H(A2), `response`, `rspauth`, userhash, as [`HexDigest`] |
//! | [`qop`], [`nonce_count`] | RFC 7616 §3.3, §3.4 | [`Qop`], [`QopOptions`], [`NonceCount`] |
//! | [`client`] | RFC 7616 §3.4–§3.7 | the sans-IO client state machine, [`client::Client`] |
//! | [`server`] | RFC 7616 §3.3–§3.5 | the sans-IO server verifier, [`server::Verifier`] |
//! | [`client::netrc`] | — | `.netrc` files (feature `std`): credentials per host, [`client::netrc::Netrc`] |
//!
//! Reading a server's challenge and answering it, by hand (the RFC 7616 §3.9.1 example):
//!
//! ```
//! use httpdigest::{digest, CredentialsParams, DigestChallenge, NonceCount, Qop, UsernameParam};
//!
//! let field = br#"Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=MD5,
//!     nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
//!     opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#;
//! let challenge = DigestChallenge::parse(field)?;
//! let algorithm = challenge.algorithm().expect("supported");
//! let realm = challenge.realm().to_str()?;
//! let nonce = challenge.nonce().to_str()?;
//! let cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"; // 16 random bytes, in practice
//!
//! let ha1 = digest::ha1(algorithm, b"Mufasa", realm.as_bytes(), b"Circle of Life");
//! let ha2 = digest::ha2(algorithm, b"GET", b"/dir/index.html", None);
//! let qop = digest::QopParams { qop: Qop::Auth, nc: NonceCount::FIRST, cnonce: cnonce.as_bytes() };
//! let response = digest::response(algorithm, &ha1, nonce.as_bytes(), Some(qop), &ha2);
//!
//! let opaque = challenge.opaque().map(|o| o.to_str()).transpose()?;
//! let algorithm_token = challenge.algorithm_param().map(|a| a.to_str()).transpose()?;
//! let authorization = CredentialsParams {
//!     algorithm: algorithm_token.as_deref(),
//!     nc: Some(NonceCount::FIRST),
//!     cnonce: Some(cnonce),
//!     qop: Some(Qop::Auth),
//!     opaque: opaque.as_deref(),
//!     ..CredentialsParams::new(
//!         UsernameParam::Plain("Mufasa"),
//!         &realm,
//!         "/dir/index.html",
//!         &nonce,
//!         response.as_str(),
//!     )
//! }
//! .to_header_value()?;
//! assert!(authorization.contains(r#"response="8ca523f5e9506fed4657c9700eebdbec""#));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Features: `std` (default) for what needs the standard library; `http` for conversions
//! from the [`http`](https://docs.rs/http) crate's types.
#![cfg_attr(not(test), no_std)]
#![cfg_attr(docsrs, feature(doc_cfg))]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod algorithm;
pub mod client;
pub mod digest;
mod error;
mod fingerprint;
mod header;
#[cfg(feature = "http")]
pub mod http;
mod nonce_count;
mod origin;
mod qop;
pub mod server;
mod side;

pub use algorithm::Algorithm;
pub use digest::HexDigest;
pub use error::{FormatError, Found, ParseError, ParseErrorKind};
pub use header::{
    AuthenticationInfo, AuthenticationInfoParams, Challenge, ChallengeParams, Challenges,
    CredentialsParams, DigestChallenge, DigestChallenges, DigestCredentials, Domain, Limits, Param,
    ParamValue, Params, Username, UsernameParam,
};
pub use nonce_count::NonceCount;
pub use origin::{Origin, OriginRef, Scheme};
pub use side::{Side, Sides};

/// The random-number traits the core takes its randomness through (client nonces, the
/// server's nonce salts): implement [`rand_core::TryCryptoRng`] over a device's generator, or
/// pass [`ThreadRng`] where `std` is available.
pub use rand_core;

pub use qop::{Qop, QopOptions};
/// The default random generator (feature `std`): rand's thread-local CSPRNG, seeded from the
/// operating system. What the `http` engine, the adapters and the examples pass in; any
/// [`rand_core::TryCryptoRng`] will do.
///
/// ```
/// use httpdigest::client::{Client, ClientConfig, Credentials, Request};
/// use httpdigest::{OriginRef, Scheme, ThreadRng};
///
/// let mut client = Client::new(Credentials::new("alice", "s3cret"), ClientConfig::default());
/// let origin = OriginRef { scheme: Scheme::Https, host: "api.example.org", port: 443 };
/// let request = Request::new("GET", "/", origin);
/// let (_exchange, ticket) = client.begin(&request, &mut ThreadRng::default());
/// assert!(ticket.sign(&request)?.authorization.is_none()); // nothing known of the server yet
/// # Ok::<(), httpdigest::client::Failure>(())
/// ```
#[cfg(feature = "std")]
pub use rand::rngs::ThreadRng;
