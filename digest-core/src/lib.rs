//! HTTP Digest access authentication (RFC 7616, compatible with RFC 2617 and RFC 2069), as a
//! sans-IO core for clients and servers.
//!
//! In scope: the whole protocol on both sides. The client ([`client::Client`]) chooses among
//! challenges, answers them and reuses what it learned (protection spaces, nonces and their
//! counts, `stale=true`, `nextnonce`, `rspauth`), for an origin and a forward proxy at once,
//! keeping credentials on their origins. The server ([`server::Verifier`]) issues stateless
//! challenges and verifies credentials against stores the caller provides. Out of scope: I/O,
//! clocks and randomness of its own: callers hand in header values, request metadata, the
//! time and a random generator, and get header values and decisions back. It is
//! `#![no_std]` with `alloc`; the `http` module (feature `http`) drives it for HTTP
//! clients, and is what the adapter crates (reqwest, hyper and tower, ureq) are made of.
//!
//! A request, from the client's side, against this crate's own verifier as the server:
//!
//! ```
//! use httpdigest::client::{Action, Client, Request, Response};
//! use httpdigest::server::{MemoryNonceCounts, ServerRequest, Users, Verifier, VerifierConfig};
//! use httpdigest::{OriginRef, Scheme, ThreadRng};
//!
//! // The server: a verifier (its key shared by every replica), its users, its nonce counts,
//! // and its answer to one send: 200 with Authentication-Info, or 401 with challenges.
//! let verifier = Verifier::new(VerifierConfig::new("api@example.org"), b"a secret key, 32 bytes or more")?;
//! let mut users = Users::new("api@example.org");
//! users.insert("alice", "s3cret");
//! let counts = MemoryNonceCounts::new(10_000, 300);
//! let now = 1_700_000_000; // seconds, from the caller's clock
//! let serve = |authorization: Option<&[u8]>, rng: &mut ThreadRng| {
//!     let request = ServerRequest { method: "GET", target: "/status", authority: None, authorization, body: None };
//!     match verifier.verify(&request, now, &users, &counts, rng) {
//!         Ok(ok) => (200, Vec::new(), Some(ok.authentication_info)),
//!         Err(refused) => (refused.status(), verifier.challenges(now, refused.stale(), rng).unwrap(), None),
//!     }
//! };
//!
//! // The client: begin, sign, send; hand the response over; send again while it says so.
//! // (A request alone never waits; see `client::Client` for requests that overlap.)
//! let mut rng = ThreadRng::default();
//! let mut client = Client::with_password("alice", "s3cret");
//! let origin = OriginRef { scheme: Scheme::Https, host: "api.example.org", port: 443 };
//! let request = Request::new("GET", "/status", origin);
//! let (mut exchange, Action::Send(ticket)) = client.begin(&request, &mut rng) else { unreachable!() };
//! let mut headers = ticket.sign(&request)?;
//! let status = loop {
//!     // The header's bytes: text, but for a user name sent in ISO-8859-1.
//!     let (status, challenges, info) = serve(headers.authorization.as_ref().map(|v| v.as_bytes()), &mut rng);
//!     let fields: Vec<&[u8]> = challenges.iter().map(|c| c.as_bytes()).collect();
//!     let info = info.as_deref().map(str::as_bytes);
//!     let response = Response { www_authenticate: &fields, authentication_info: info, ..Response::new(status) };
//!     match client.handle_response(&mut exchange, &request, &response, &mut rng) {
//!         Action::Send(ticket) => headers = ticket.sign(&request)?, // at most twice
//!         Action::Wait => unreachable!("nothing else is in flight"),
//!         Action::Done => break status,
//!         // auth-int: the rspauth covers the response body (empty here).
//!         Action::CheckBody(check) => break check.check(b"").map(|()| status)?,
//!         Action::Fail(failure) => return Err(failure.into()),
//!     }
//! };
//! assert_eq!((status, exchange.extra_sends()), (200, 1)); // the 401, then the answer
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The client decides under its caller's lock (`begin`, `handle_response`: a nonce count, a
//! cnonce, who goes when) and hands out a [`client::Ticket`]; [signing](client::Ticket::sign)
//! it (the hashes, the header text) needs no lock. Requests that overlap may be told to wait
//! ([`client::Action::Wait`]): one learns a protection space for all, and a server that
//! checks nonce counts strictly gets the requests on a nonce one after another.
//!
//! What is here, from the bottom up:
//!
//! | where | RFC | what |
//! |---|---|---|
//! | the header types | RFC 9110 §11, RFC 7616 §3.3–§3.5 | [`Challenges`] of every scheme and their [`Params`], [`Limits`]; [`DigestChallenge`] and [`ChallengeParams`], [`DigestCredentials`] and [`CredentialsParams`], [`AuthenticationInfo`] and [`AuthenticationInfoParams`]: each parsed zero-copy and written |
//! | [`Algorithm`], [`Qop`], [`NonceCount`] | RFC 7616 §3.3, §3.4, §6.1 | MD5, SHA-256, SHA-512-256, SHA, SHA-512, each with `-sess`; `auth`, `auth-int`; `nc` |
//! | [`digest`] | RFC 7616 §3.4.1–§3.4.4 | H(A1), H(A2), `response`, `rspauth`, userhash, as [`HexDigest`] |
//! | [`Origin`], [`Side`] | RFC 6454, RFC 9110 §11.6–§11.7 | where credentials may go; origin (401) or proxy (407) |
//! | [`client`] | RFC 7616 §3.4–§3.7 | the sans-IO client, [`client::Client`]; `.netrc` files (`client::netrc`, feature `std`) |
//! | [`server`] | RFC 7616 §3.3–§3.5 | the sans-IO verifier, [`server::Verifier`], its stores and htdigest files |
//! | [`rng`] | — | randomness without `std`: [`rng::FillRng`] over a device's generator |
//! | `http` | — | (feature `http`) the engine adapters drive, `http::DigestClient`, over the `http` crate's types |
//!
//! Reading a server's challenge and answering it by hand, as the RFC 7616 §3.9.1 example does
//! (what [`client::Client`] does for you):
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
//! Randomness: the core asks for a [`rand_core::TryCryptoRng`] wherever it needs random
//! bytes; `ThreadRng` (feature `std`) or, without `std`, a device generator wrapped in
//! [`rng::FillRng`].
//!
//! Features: `std` (default) for the default random generator `ThreadRng`, files and the
//! in-memory stores; `http` for the `http` engine; `tracing` for its events.
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
pub mod rng;
pub mod server;
mod side;

pub use algorithm::Algorithm;
pub use digest::HexDigest;
pub use error::{FormatError, Found, ParseError, ParseErrorKind};
pub use header::{
    AuthenticationInfo, AuthenticationInfoParams, Challenge, ChallengeParams, Challenges,
    CredentialsParams, DigestChallenge, DigestChallenges, DigestCredentials, Domain, FieldValue,
    Limits, Param, ParamValue, Params, Username, UsernameParam,
};
pub use nonce_count::NonceCount;
pub use origin::{Origin, OriginRef, Scheme};
pub use side::{Side, Sides};

/// The random-number traits the core takes its randomness through (client nonces, the
/// server's nonce salts), in the version the core uses: pass `ThreadRng` where `std` is
/// available; on a device, wrap its generator's fill in a [`rng::FillRng`] (which also takes
/// a generator of another `rand_core` version), or implement [`rand_core::TryRng`] and
/// [`rand_core::TryCryptoRng`] over it through this re-export.
pub use rand_core;

pub use qop::{Qop, QopOptions};
/// The default random generator (feature `std`): rand's thread-local CSPRNG, seeded from the
/// operating system. What the `http` engine, the adapters and the examples pass in; any
/// [`rand_core::TryCryptoRng`] will do.
///
/// ```
/// use httpdigest::client::{Action, Client, ClientConfig, Credentials, Request};
/// use httpdigest::{OriginRef, Scheme, ThreadRng};
///
/// let mut client = Client::new(Credentials::new("alice", "s3cret"), ClientConfig::default());
/// let origin = OriginRef { scheme: Scheme::Https, host: "api.example.org", port: 443 };
/// let request = Request::new("GET", "/", origin);
/// let (_exchange, Action::Send(ticket)) = client.begin(&request, &mut ThreadRng::default()) else {
///     unreachable!("nothing to wait for");
/// };
/// assert!(ticket.sign(&request)?.authorization.is_none()); // nothing known of the server yet
/// # Ok::<(), httpdigest::client::Failure>(())
/// ```
#[cfg(feature = "std")]
pub use rand::rngs::ThreadRng;
