//! HTTP Digest authentication (RFC 7616, RFC 2617) as [tower](https://docs.rs/tower) layers,
//! for hyper clients and servers and everything built on tower (axum, hyper-util's client).
//!
//! - **Client:** [`DigestAuthLayer`] wraps a service that sends `http::Request`s (such as
//!   `hyper_util::client::legacy::Client`) and answers `401` and `407` challenges, reusing
//!   a known protection space preemptively (one round trip per request after the first).
//!   Its timeouts, and hyper-util's, are listed under [`DigestAuthLayer`], *Timeouts*.
//! - **https through a Digest proxy:** [`ProxyConnector`] (feature `connect`, on by
//!   default), a connector for hyper-util's client that opens the `CONNECT` tunnel,
//!   answers the proxy's `407` and hands the tunnel to TLS (hyper-rustls, say).
//! - **Server:** [`RequireDigestLayer`] verifies requests before they reach the service it
//!   wraps, answers `401` with challenges (`400` for malformed credentials), adds
//!   `Authentication-Info`, and puts the [`Authenticated`](httpdigest::server::Authenticated)
//!   user into the request's extensions.
//!
//! Every protocol decision is the sans-IO [`httpdigest`] core's; these layers move headers
//! and bodies.
//!
//! A client over hyper-util (see [`DigestAuth`] for bodies, redirects and errors):
//!
//! ```no_run
//! use bytes::Bytes;
//! use http_body_util::Full;
//! use httpdigest_hyper::{DigestAuthLayer, DigestBody};
//! use hyper_util::{client::legacy::Client, rt::TokioExecutor};
//! use tower::{ServiceBuilder, ServiceExt};
//!
//! # async fn fetch() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! let client = Client::builder(TokioExecutor::new()).build_http::<DigestBody<Full<Bytes>>>();
//! let service = ServiceBuilder::new()
//!     .layer(DigestAuthLayer::new("alice", "s3cret"))
//!     .service(client);
//! let request = http::Request::get("http://pdu.local/status.xml").body(Full::new(Bytes::new()))?;
//! let response = service.clone().oneshot(request).await?; // 401, then the answer
//! assert!(response.status().is_success());
//! # Ok(()) }
//! ```
//!
//! An axum application that requires Digest (under hyper directly, the layer wraps a
//! `service_fn` the same way; see the `server` example):
//!
//! ```
//! use axum::{Extension, Router, routing::get};
//! use httpdigest::server::{Authenticated, ConfigError, Users, Verifier, VerifierConfig};
//! use httpdigest_hyper::RequireDigestLayer;
//!
//! fn app(key: &[u8; 32]) -> Result<Router, ConfigError> {
//!     let mut users = Users::new("api@example.org");
//!     users.insert("alice", "s3cret");
//!     let verifier = Verifier::new(VerifierConfig::new(users.realm()), key)?;
//!     let api = Router::new()
//!         .route("/me", get(|Extension(user): Extension<Authenticated>| async move { user.username }))
//!         .route_layer(RequireDigestLayer::new(verifier, users)?);
//!     Ok(Router::new().nest("/api", api))
//! }
//! # let _ = app(&[7; 32]);
//! ```
//!
//! Under `nest`, the layer must see the request-target the client sent, which axum keeps as
//! `OriginalUri`: enable the `axum` feature, or see
//! [`RequireDigestLayer::with_request_target`]. The layer offers only the algorithms its
//! store can verify (an MD5 htdigest file: MD5), and refuses a store of another realm.
//!
//! Features: `connect` (default) adds [`ProxyConnector`]. `follow-redirect` (default) adds
//! [`RedirectPolicy`], for tower-http's `FollowRedirect` above the client layer. `axum` reads axum's `OriginalUri`
//! as the request-target (see above). `tracing` emits `tracing` events (the server's refusal
//! reasons, the client's
//! answers to challenges and its failures); never a password or a full header value.
//! `redis` adds [`RedisNonceCounts`] and [`RedisGuessLimiter`]: replay protection and
//! throttled guessing shared by the replicas of a server.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod body;
mod client;
#[cfg(feature = "connect")]
mod connect;
mod error;
mod limiter;
#[cfg(feature = "follow-redirect")]
mod redirect;
#[cfg(feature = "redis")]
mod redis_stores;
mod server;
mod stores;
mod timeout;

pub use body::DigestBody;
pub use client::{DigestAuth, DigestAuthLayer};
#[cfg(feature = "connect")]
pub use connect::{
    ConnectError, DEFAULT_MAX_RESPONSE_HEAD, DEFAULT_RESPONSE_TIMEOUT, EnvError, ProxyConnector,
    ProxyStream, TunnelInfo,
};
pub use error::{BoxError, Error};
pub use httpdigest;
pub use httpdigest::client::BuildError;
pub use httpdigest::http::{AuthError, DEFAULT_MAX_BUFFERED_BODY};
pub use limiter::{Admission, Attempt, GuessLimiter, Limits, MemoryGuessLimiter};
#[cfg(feature = "follow-redirect")]
pub use redirect::RedirectPolicy;
#[cfg(feature = "redis")]
pub use redis_stores::{
    DEFAULT_PREFIX as REDIS_DEFAULT_PREFIX, RedisGuessLimiter, RedisNonceCounts,
};
pub use server::{
    AuthIntBody, DEFAULT_NONCE_CAPACITY, HeadersOnly, Refusal, RefusalEvent, RequireDigest,
    RequireDigestLayer,
};
pub use stores::{AsyncCredentialStore, AsyncNonceCountStore, StoreError, StoreFuture};
