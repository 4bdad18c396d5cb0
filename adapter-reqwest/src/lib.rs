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
//! let client = ClientBuilder::new(reqwest::Client::new())
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
//!   answers the proxy's 407 itself: Digest cannot be answered there, and no hook of
//!   reqwest's lets it be. Its tunnel (hyper-util's) turns a 407 into the error "proxy
//!   authorization required" and drops the response, `Proxy-Authenticate` included;
//!   `Proxy::basic_auth`, `custom_http_auth` and `headers` put one fixed value on every
//!   `CONNECT`, where a Digest answer needs the proxy's nonce first and a new nonce count
//!   each time; and `ClientBuilder::connector_layer` wraps reqwest's whole connector
//!   (tunnel included) as a `Service<Unnameable, Response = Conn>`, whose request hides
//!   its URI and whose response only reqwest can build, so a layer can time or limit
//!   connections but cannot open a tunnel of its own. For `https` through a Digest proxy,
//!   use `httpdigest_hyper::ProxyConnector` under hyper-util's client.
//! - **Bodies.** A request is sent again as a clone (`Request::try_clone`), and `auth-int`
//!   hashes its bytes. A streamed body (`Body::wrap_stream`) can be sent only once: it goes
//!   out with credentials when the space is known, and a challenge to it is
//!   [`Failure::BodyNotReplayable`].
//! - **Origins.** reqwest follows redirects below the middleware, so a 401 can come from
//!   another origin than the request's (`Response::url`); the core does not answer it
//!   ([`Failure::OutOfScope`]), and reqwest itself drops `Authorization` on a cross-origin
//!   redirect. Credentials go to the first request's origin only, unless the
//!   [`ClientConfig::scope`](httpdigest::client::ClientConfig::scope) names others. On a *same-origin* redirect reqwest sends the
//!   same `Authorization` again (the first URL's `uri` and nonce count), which servers that
//!   check `uri` refuse (400, returned as the response). Where a Digest endpoint redirects,
//!   build reqwest with `redirect::Policy::none()` and follow redirects above the
//!   middleware: each hop is then a request of its own, authenticated for its own URI.
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
    DEFAULT_MAX_BUFFERED_BODY, DRAIN_LIMIT, DigestClient, Next, put_auth_headers,
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
}

impl fmt::Debug for DigestAuthMiddleware {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DigestAuthMiddleware")
            .field("max_checked_response_body", &self.max_checked_response_body)
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
        }
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
            // reqwest follows redirects below: the response may come from elsewhere.
            let answered_by = match response.url() == &url {
                true => None,
                false => Some(uri_of(response.url())?),
            };
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
