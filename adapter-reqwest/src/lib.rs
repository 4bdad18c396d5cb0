//! HTTP Digest authentication (RFC 7616, RFC 2617) for [reqwest](https://docs.rs/reqwest), as a
//! [reqwest-middleware](https://docs.rs/reqwest-middleware) middleware.
//!
//! [`DigestAuthMiddleware`] drives the sans-IO [`httpdigest`] client: it sends the request on
//! down the chain, hands each response's status and authentication headers to the core, and
//! sends a clone of the request again when the core says so. Every protocol decision is the
//! core's.
//!
//! ```no_run
//! use httpdigest_reqwest::DigestAuthMiddleware;
//! use reqwest_middleware::ClientBuilder;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! // The middleware follows redirects: reqwest must not (see *Redirects*).
//! let http = reqwest::Client::builder()
//!     .redirect(reqwest::redirect::Policy::none())
//!     .build()?;
//! let client = ClientBuilder::new(http)
//!     .with(DigestAuthMiddleware::new("alice", "s3cret"))
//!     .build();
//! let status = client.get("http://camera.local/cgi-bin/status.cgi").send().await?.status();
//! # Ok(()) }
//! ```
//!
//! - **Preemptive reuse** (on by default; `ClientConfig::with_preemptive(false)` on the core
//!   client of [`DigestAuthMiddleware::with_client`] turns it off): after the first challenge, requests to the protection space go out with
//!   credentials and a fresh nonce count, one round trip each. Clones of the client share the
//!   middleware and its state; the lock is never held across an await.
//! - **401 and 407.** Origin challenges, and those of a plain-`http` forward proxy named with
//!   `Client::builder().proxy(..)` (reqwest sends such requests in absolute form and
//!   lets the 407 through). reqwest reaches `https` targets through a `CONNECT` tunnel and
//!   answers the proxy's 407 itself: Digest cannot be answered there.
//! - **Bodies.** A request is sent again as a clone (`Request::try_clone`), and `auth-int`
//!   hashes its bytes. A streamed body (`Body::wrap_stream`) can be sent only once: it goes
//!   out with credentials when the space is known, and a challenge to it is
//!   [`Failure::BodyNotReplayable`].
//! - **Redirects** are followed by the middleware (up to
//!   [`max_redirects`](DigestAuthMiddleware::max_redirects), 10 by default as in reqwest),
//!   each hop a request of its own to the core: a same-origin hop gets credentials for its
//!   own `uri` and the next nonce count; nothing derived from the credentials goes to an
//!   origin outside the scope (by default the first request's origin), and a challenge from
//!   one is [`Failure::OutOfScope`]. A 303 becomes a GET without body (301 and 302 turn only
//!   a POST into a GET), 307 and 308 keep the method and send the body again (a clone, as for
//!   a challenge; a streamed body cannot go again, so such a 307 or 308 is handed over, as
//!   reqwest does). A `Location`'s userinfo is dropped, never sent nor used as credentials;
//!   the `Authorization`, `Proxy-Authorization` and `Cookie` the caller set go with hops to
//!   the same origin only. One redirect over the limit is the error [`TooManyRedirects`]; a
//!   `Location` that is not an `http(s)` URL hands the redirect over. The steps are the
//!   core's ([`httpdigest::http::redirect`]).
//!
//!   **The reqwest client under the middleware must not follow redirects itself**: build it
//!   with `redirect::Policy::none()` (as in the example above). A middleware cannot change
//!   the policy of the client it runs on, and `reqwest::Client::new()` follows up to 10. If
//!   it does, the middleware sees only the last response of reqwest's hops and follows
//!   nothing; this stays safe (reqwest drops `Authorization` on a cross-origin hop, and the
//!   core answers no challenge from an origin out of scope), but on a same-origin redirect
//!   reqwest sends the first URL's `Authorization` again (its `uri` and nonce count), which
//!   servers that check `uri` (Apache, this project's server) refuse with 400. With the
//!   `tracing` feature the middleware warns when reqwest has followed a redirect.
//!   `max_redirects(0)` hands every 3xx over, as `Policy::none()` alone does.
//! - **Timeouts** are reqwest's, and they bound each *send*, not the whole request:
//!   `ClientBuilder::timeout` (or `RequestBuilder::timeout`, per request) from the connect
//!   to the end of that response's body, `read_timeout` each read, `connect_timeout` each
//!   connect. A request through the middleware makes at most three sends per hop (a
//!   challenge, a `stale=true` renewal), each bounded so, and as many hops as
//!   `max_redirects` allows plus one; a request whose space is being learned by another waits
//!   for it up to the core's [`ClientConfig::max_wait`](httpdigest::client::ClientConfig::max_wait)
//!   (5 s by default), and a challenge's body is read (at most
//!   [`DRAIN_LIMIT`] bytes) within its send's timeout. For a
//!   deadline on the whole exchange, put the request under one (`tokio::time::timeout`):
//!   dropping it abandons the request in the core, which hands what it held (a nonce, its
//!   turn) to the next.
//!
//!   ```no_run
//!   use std::time::Duration;
//!
//!   use httpdigest_reqwest::DigestAuthMiddleware;
//!   use reqwest_middleware::ClientBuilder;
//!
//!   # async fn run() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//!   let http = reqwest::Client::builder()
//!       .redirect(reqwest::redirect::Policy::none())
//!       .connect_timeout(Duration::from_secs(5)) // each connect
//!       .read_timeout(Duration::from_secs(10)) // each read: a stalled server
//!       .timeout(Duration::from_secs(30)) // each send, its response body included
//!       .build()?;
//!   let client = ClientBuilder::new(http)
//!       .with(DigestAuthMiddleware::new("alice", "s3cret"))
//!       .build();
//!   // One request's own bound per send, and a deadline on all of its sends together.
//!   let request = client
//!       .get("http://camera.local/cgi-bin/status.cgi")
//!       .timeout(Duration::from_secs(15));
//!   let response = tokio::time::timeout(Duration::from_secs(60), request.send()).await??;
//!   println!("{}", response.status());
//!   # Ok(()) }
//!   ```
//! - **Order in the chain.** Add retry middlewares (reqwest-retry) *before* this one, so each
//!   retried request is authenticated afresh; logging placed *after* it sees every send:
//!
//!   ```no_run
//!   use httpdigest_reqwest::DigestAuthMiddleware;
//!   use reqwest_middleware::ClientBuilder;
//!   use reqwest_retry::{RetryTransientMiddleware, policies::ExponentialBackoff};
//!
//!   let retry = RetryTransientMiddleware::new_with_policy(
//!       ExponentialBackoff::builder().build_with_max_retries(3),
//!   );
//!   let client = ClientBuilder::new(reqwest::Client::new())
//!       .with(retry)
//!       .with(DigestAuthMiddleware::new("alice", "s3cret"))
//!       .build();
//!   ```
//! - **Cookies.** The cookies a 401 or 407 sets go back with the answer to it, joined to the
//!   request's own `Cookie` header (servers that keep the nonce in a session cookie need
//!   it), and are kept nowhere past the request. reqwest's own cookie store
//!   (`ClientBuilder::cookie_store`) adds its cookies only to a request without a `Cookie`
//!   header, and already holds the challenge's: with a store, turn the core's
//!   [`ClientConfig::challenge_cookies`](httpdigest::client::ClientConfig::challenge_cookies)
//!   off, and the store sends them.
//!
//!   ```no_run
//!   use httpdigest::client::{Client, ClientConfig, Credentials};
//!   use httpdigest_reqwest::DigestAuthMiddleware;
//!   use reqwest_middleware::ClientBuilder;
//!
//!   let core = Client::new(
//!       Credentials::new("alice", "s3cret"),
//!       ClientConfig::default().with_challenge_cookies(false),
//!   );
//!   # #[cfg(any())]
//!   let http = reqwest::Client::builder().cookie_store(true).build()?;
//!   # let http = reqwest::Client::new();
//!   let client = ClientBuilder::new(http)
//!       .with(DigestAuthMiddleware::with_client(core))
//!       .build();
//!   # Ok::<(), reqwest::Error>(())
//!   ```
//! - **Mutual authentication over the body.** For `qop=auth-int` the server's `rspauth`
//!   covers the response body (RFC 7616 §3.5). When the final response carries one, the
//!   middleware reads the body before returning (up to
//!   [`max_checked_response_body`](DigestAuthMiddleware::max_checked_response_body)) and
//!   checks it: a body that does not match is an error holding an [`AuthError`] with
//!   [`Failure::MutualAuthFailed`], as a wrong `rspauth` in the headers is; one that
//!   matches comes back in memory (`Response::bytes` and friends read it; the URL, headers
//!   and extensions are kept). A longer body is not checked: with mutual authentication
//!   required it is [`Failure::MutualAuthMissing`], without, the response comes back
//!   unchecked, its body streamed. The body is hashed as reqwest hands it over, after
//!   reqwest's decompression (features `gzip`, `brotli`, ...): a server that signs the
//!   compressed bytes does not match then.
//! - **Per request**, [`NoDigest`] as a request extension (`.with_extension(NoDigest)`) passes
//!   the request through untouched, as aiohttp's `middlewares=()` does.
//!
//! A Digest failure is an error (`reqwest_middleware::Error::Middleware`) holding an
//! [`AuthError`]: find it with [`auth_error`].
//!
//! Features: `tracing` emits `tracing` events for the answers to challenges and the
//! failures (method, host and path; never a password or a header value). The crate turns on
//! no reqwest features: TLS is chosen on your own reqwest dependency.
#![cfg_attr(docsrs, feature(doc_cfg))]

use std::fmt;

use bytes::{Bytes, BytesMut};
use http::{Extensions, Uri};
use httpdigest::client::{BodySource, Client, Failure, ResponseBodyCheck};
use httpdigest::http::{
    DEFAULT_MAX_BUFFERED_BODY, DRAIN_LIMIT, DigestClient, Next, put_auth_headers, redirect,
};
use reqwest::{Request, Response, ResponseBuilderExt as _};
use reqwest_middleware::{Middleware, Next as Chain};

pub use httpdigest;
pub use httpdigest::http::AuthError;

/// Put this into a request's extensions to send it without Digest:
/// `client.get(url).with_extension(NoDigest)`.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoDigest;

/// The Digest middleware. Cheap to clone; clones share the authentication state.
#[derive(Clone)]
pub struct DigestAuthMiddleware {
    engine: DigestClient,
    max_checked_response_body: usize,
    max_redirects: usize,
}

/// How many redirects the middleware follows by default: reqwest's own default
/// (`redirect::Policy::default()`).
pub const DEFAULT_MAX_REDIRECTS: usize = 10;

/// A request was redirected more than [`DigestAuthMiddleware::max_redirects`] times, as
/// reqwest's own policy fails (`Error::Middleware` holds it; find it with
/// `error.chain()` or `downcast_ref`).
///
/// ```
/// # fn show(error: &reqwest_middleware::Error) {
/// use httpdigest_reqwest::TooManyRedirects;
///
/// if let reqwest_middleware::Error::Middleware(e) = error {
///     if let Some(e) = e.downcast_ref::<TooManyRedirects>() {
///         eprintln!("gave up after {} redirects", e.limit());
///     }
/// }
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many redirects (more than {limit})")]
pub struct TooManyRedirects {
    limit: usize,
}

impl TooManyRedirects {
    /// The limit that was reached.
    pub const fn limit(&self) -> usize {
        self.limit
    }
}

impl fmt::Debug for DigestAuthMiddleware {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DigestAuthMiddleware")
            .field("max_checked_response_body", &self.max_checked_response_body)
            .field("max_redirects", &self.max_redirects)
            .finish_non_exhaustive()
    }
}

impl DigestAuthMiddleware {
    /// Authenticates to origins as `username` with `password`, with the core's default
    /// policy: strongest algorithm, preemptive reuse, credentials for the first request's
    /// origin only.
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        Self::with_client(Client::with_password(username, password))
    }

    /// The middleware over a core client built with [`Client::builder`]: the policy
    /// (preemptive reuse, scope, `auth-int`), a precomputed H(A1), and the forward proxy
    /// that the reqwest client sends plain `http` requests through (`reqwest::Proxy::http`)
    /// with its credentials: the middleware then writes their `uri` in absolute form, as
    /// reqwest puts them on the wire, and answers the proxy's 407.
    pub fn with_client(client: Client) -> Self {
        Self {
            engine: DigestClient::new(client),
            max_checked_response_body: DEFAULT_MAX_BUFFERED_BODY,
            max_redirects: DEFAULT_MAX_REDIRECTS,
        }
    }

    /// Follows up to `hops` redirects per request (default [`DEFAULT_MAX_REDIRECTS`]), each
    /// a request of its own to the core; one more is [`TooManyRedirects`]. `0` follows none:
    /// the 3xx is handed over, as with reqwest's `redirect::Policy::none()`. See the crate's
    /// *Redirects*: the reqwest client under the middleware must not follow them itself.
    #[must_use]
    pub const fn max_redirects(mut self, hops: usize) -> Self {
        self.max_redirects = hops;
        self
    }

    /// Response bodies up to this many bytes are read into memory to check an `rspauth`
    /// that covers them (`qop=auth-int`; default [`DEFAULT_MAX_BUFFERED_BODY`]). A longer
    /// one is not checked: it fails with [`Failure::MutualAuthMissing`] when the policy
    /// requires mutual authentication, and is handed on unchecked otherwise. See the crate's
    /// *Mutual authentication over the body*.
    #[must_use]
    pub const fn max_checked_response_body(mut self, bytes: usize) -> Self {
        self.max_checked_response_body = bytes;
        self
    }
}

/// The error the middleware returns, with the [`AuthError`] as its source. A middleware
/// that wraps the errors below it in its own (reqwest-retry's `RetryError`, transparent)
/// shows its error's *source* in the chain, not the error itself: one level down, the
/// `AuthError` stays in reach of [`auth_error`].
#[derive(Debug)]
struct DigestFailed(AuthError);

impl fmt::Display for DigestFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("digest authentication failed")
    }
}

impl std::error::Error for DigestFailed {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

/// The [`AuthError`] inside a middleware error, if that is what it is; also through
/// middlewares that wrap errors (reqwest-retry).
///
/// ```
/// # fn show(error: &reqwest_middleware::Error) {
/// if let Some(auth) = httpdigest_reqwest::auth_error(error) {
///     eprintln!("{}: {}", auth.status(), auth.failure());
/// }
/// # }
/// ```
pub fn auth_error(error: &reqwest_middleware::Error) -> Option<&AuthError> {
    match error {
        reqwest_middleware::Error::Middleware(e) => {
            e.chain().find_map(|e| e.downcast_ref::<AuthError>())
        }
        reqwest_middleware::Error::Reqwest(_) => None,
    }
}

/// A request URL as the core needs it (an `http::Uri`; reqwest's URLs always convert).
fn uri_of(url: &reqwest::Url) -> reqwest_middleware::Result<Uri> {
    url.as_str()
        .parse()
        .map_err(|e: http::uri::InvalidUri| reqwest_middleware::Error::middleware(e))
}

#[async_trait::async_trait]
impl Middleware for DigestAuthMiddleware {
    async fn handle(
        &self,
        request: Request,
        extensions: &mut Extensions,
        next: Chain<'_>,
    ) -> reqwest_middleware::Result<Response> {
        if extensions.get::<NoDigest>().is_some() {
            return next.run(request, extensions).await;
        }
        let mut request = request;
        let mut hops = 0;
        loop {
            // What the next hop needs of this request, kept before it goes.
            let kept = (self.max_redirects > 0).then(|| Kept::of(&request));
            let response = self.authenticate(request, extensions, next.clone()).await?;
            let Some(kept) = kept else {
                return Ok(response);
            };
            let uri = uri_of(kept.request.url())?;
            let location = response.headers().get(http::header::LOCATION);
            let hop = redirect::next_hop(
                response.status(),
                location.map(http::HeaderValue::as_bytes),
                &uri,
                kept.request.method(),
            );
            // Not a redirect, or one that leads nowhere an HTTP client can go: the caller's.
            let Some(Ok(hop)) = hop else {
                return Ok(response);
            };
            if hops >= self.max_redirects {
                return Err(reqwest_middleware::Error::middleware(TooManyRedirects {
                    limit: self.max_redirects,
                }));
            }
            hops += 1;
            let Some(next_request) = kept.hop(&hop) else {
                // 307 or 308 with a body that was streamed: it cannot go again (as reqwest
                // does, the redirect is handed over).
                return Ok(response);
            };
            drain(response).await;
            request = next_request;
        }
    }
}

/// A request as the next hop needs it: a clone, or, when its body is streamed and cannot
/// be cloned, its head (and the knowledge that the body is gone).
struct Kept {
    request: Request,
    body_lost: bool,
}

impl Kept {
    fn of(request: &Request) -> Self {
        if let Some(clone) = request.try_clone() {
            return Self {
                request: clone,
                body_lost: false,
            };
        }
        let mut head = Request::new(request.method().clone(), request.url().clone());
        *head.headers_mut() = request.headers().clone();
        *head.timeout_mut() = request.timeout().copied();
        *head.version_mut() = request.version();
        Self {
            request: head,
            body_lost: true,
        }
    }

    /// The request of the next hop; `None` when it needs the body and the body is gone.
    fn hop(self, hop: &redirect::Hop) -> Option<Request> {
        let Self {
            mut request,
            body_lost,
        } = self;
        if hop.keeps_body {
            if body_lost {
                return None;
            }
        } else {
            *request.body_mut() = None;
        }
        // The core's URIs are reqwest's URLs; a `Uri` always parses as a `Url`.
        *request.url_mut() = reqwest::Url::parse(&hop.uri.to_string()).ok()?;
        *request.method_mut() = hop.method.clone();
        hop.prepare(request.headers_mut());
        Some(request)
    }
}

impl DigestAuthMiddleware {
    /// One hop: the request, and as many sends as the engine asks for.
    async fn authenticate(
        &self,
        request: Request,
        extensions: &mut Extensions,
        next: Chain<'_>,
    ) -> reqwest_middleware::Result<Response> {
        let url = request.url().clone();
        let uri = uri_of(&url)?;
        let method = request.method().clone();
        let Ok((mut call, mut auth)) = self
            .engine
            .start(&method, &uri, body_source(&request))
            .await
        else {
            // Not http(s): nothing to authenticate.
            return next.run(request, extensions).await;
        };
        // The caller's request stays as it came; each send is a clone with the core's headers.
        // A streamed body cannot be cloned: the request itself goes, once.
        let mut original = request;
        loop {
            let (mut send, again) = match original.try_clone() {
                Some(clone) => (clone, Some(original)),
                None => (original, None),
            };
            put_auth_headers(send.headers_mut(), auth)
                .map_err(reqwest_middleware::Error::middleware)?;
            let response = next.clone().run(send, extensions).await?;
            // A reqwest client that follows redirects itself (one built without
            // `redirect::Policy::none()`) hands over the last response of its hops.
            let answered_by = match response.url() == &url {
                true => None,
                false => Some(uri_of(response.url())?),
            };
            #[cfg(feature = "tracing")]
            if answered_by.is_some() {
                tracing::warn!(
                    host = uri.host(),
                    path = uri.path(),
                    "the reqwest client followed a redirect itself: build it with \
                     redirect::Policy::none() so that each hop is authenticated"
                );
            }
            let body = again
                .as_ref()
                .map_or(BodySource::NotReplayable, body_source);
            let mut next_step = self.engine.respond(
                &mut call,
                body,
                response.status(),
                response.headers(),
                answered_by.as_ref(),
            );
            // The request waits for its turn on the server's nonces, then goes on.
            while let Next::Wait(()) = next_step {
                next_step = self.engine.wait(&mut call, body).await;
            }
            match next_step {
                Next::Send(next_auth, ()) => {
                    // The engine answers no challenge to a body it was told cannot be sent
                    // again.
                    let Some(again) = again else {
                        return Err(failed(Failure::BodyNotReplayable, response));
                    };
                    drain(response).await;
                    original = again;
                    auth = next_auth;
                }
                Next::Done(()) | Next::Wait(()) => return Ok(response),
                Next::CheckBody(check, ()) => {
                    return checked(check, response, self.max_checked_response_body).await;
                }
                Next::Fail(failure, ()) => return Err(failed(failure, response)),
            }
        }
    }
}

/// What the core needs to know of a request's body.
fn body_source(request: &Request) -> BodySource<'_> {
    match request.body() {
        None => BodySource::Bytes(&[]),
        Some(body) => body
            .as_bytes()
            .map_or(BodySource::NotReplayable, BodySource::Bytes),
    }
}

/// The failure and the head of the response it ended on (the body is dropped).
fn failed(failure: Failure, response: Response) -> reqwest_middleware::Error {
    let mut head = http::Response::new(());
    *head.status_mut() = response.status();
    *head.headers_mut() = response.headers().clone();
    reqwest_middleware::Error::middleware(DigestFailed(AuthError::new(failure, head)))
}

/// The final response of an `auth-int` exchange whose `rspauth` covers its body: the body
/// is read (up to `limit`) and checked before the response is handed over, in memory; past
/// the limit, what the policy makes of an unchecked body.
async fn checked(
    check: ResponseBodyCheck,
    mut response: Response,
    limit: usize,
) -> reqwest_middleware::Result<Response> {
    let mut data = BytesMut::new();
    // A body announced longer than the limit is not read at all.
    let mut whole = response
        .content_length()
        .is_none_or(|len| len <= limit as u64);
    while whole {
        match response.chunk().await? {
            Some(chunk) => {
                data.extend_from_slice(&chunk);
                whole = data.len() <= limit;
            }
            None => break,
        }
    }
    let data = data.freeze();
    let verdict = if whole {
        check.check(&data)
    } else {
        check.skip()
    };
    if let Err(failure) = verdict {
        return Err(failed(failure, response));
    }
    let url = response.url().clone();
    let (mut parts, rest) = http::Response::<reqwest::Body>::from(response).into_parts();
    let body = if whole {
        reqwest::Body::from(data)
    } else {
        // Unchecked: what was read, then the rest as it comes.
        reqwest::Body::wrap(Prefixed {
            prefix: (!data.is_empty()).then_some(data),
            rest,
        })
    };
    // reqwest keeps a response's URL in an extension only its own builder sets.
    let (head, ()) = http::Response::builder()
        .url(url)
        .body(())
        .map_err(reqwest_middleware::Error::middleware)?
        .into_parts();
    parts.extensions.extend(head.extensions);
    Ok(Response::from(http::Response::from_parts(parts, body)))
}

/// A body read in part (`prefix`), then the rest of it.
struct Prefixed {
    prefix: Option<Bytes>,
    rest: reqwest::Body,
}

impl http_body::Body for Prefixed {
    type Data = Bytes;
    type Error = reqwest::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, reqwest::Error>>> {
        match self.prefix.take() {
            Some(prefix) => std::task::Poll::Ready(Some(Ok(http_body::Frame::data(prefix)))),
            None => std::pin::Pin::new(&mut self.rest).poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.prefix.is_none() && self.rest.is_end_stream()
    }
}

/// Reads and drops a small challenge body so the connection can carry the next send.
async fn drain(mut response: Response) {
    let mut read = 0usize;
    while let Ok(Some(chunk)) = response.chunk().await {
        read = read.saturating_add(chunk.len());
        if read > DRAIN_LIMIT {
            return;
        }
    }
}
