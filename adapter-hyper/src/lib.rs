//! HTTP Digest authentication (RFC 7616, RFC 2617) as [tower](https://docs.rs/tower) layers,
//! for hyper clients and servers and everything built on tower (axum, hyper-util's client).
//!
//! - **Client:** [`DigestAuthLayer`] wraps a service that sends `http::Request`s (such as
//!   `hyper_util::client::legacy::Client`) and answers `401` and `407` challenges, reusing
//!   a known protection space preemptively (one round trip per request after the first).
//! - **Server:** [`RequireDigestLayer`] verifies requests before they reach the service it
//!   wraps, answers `401` with challenges (`400` for malformed credentials), adds
//!   `Authentication-Info`, and puts the [`Authenticated`](httpdigest::server::Authenticated)
//!   user into the request's extensions.
//!
//! Every protocol decision is the sans-IO [`httpdigest`] core's; these layers move headers
//! and bodies.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod body;
mod client;
mod error;
mod server;

pub use body::DigestBody;
pub use client::{
    BuildError, DEFAULT_MAX_BUFFERED_BODY, DigestAuth, DigestAuthLayer, DigestAuthLayerBuilder,
};
pub use error::{AuthError, BoxError, Error};
pub use httpdigest;
pub use server::{
    AuthIntBody, DEFAULT_NONCE_CAPACITY, HeadersOnly, RequireDigest, RequireDigestLayer,
};
