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
//! - **Preemptive reuse** (on by default, [`DigestAuthMiddlewareBuilder::preemptive`] turns it
//!   off): after the first challenge, requests to the protection space go out with
//!   credentials and a fresh nonce count, one round trip each. Clones of the client share the
//!   middleware and its state; the lock is never held across an await.
//! - **401 and 407.** Origin challenges, and those of a plain-`http` forward proxy named with
//!   [`DigestAuthMiddlewareBuilder::proxy`] (reqwest sends such requests in absolute form and
//!   lets the 407 through). reqwest reaches `https` targets through a `CONNECT` tunnel and
//!   answers the proxy's 407 itself: Digest cannot be answered there.
//! - **Bodies.** A request is sent again as a clone (`Request::try_clone`), and `auth-int`
//!   hashes its bytes. A streamed body (`Body::wrap_stream`) can be sent only once: it goes
//!   out with credentials when the space is known, and a challenge to it is
//!   [`Failure::BodyNotReplayable`].
//! - **Origins.** reqwest follows redirects below the middleware, so a 401 can come from
//!   another origin than the request's (`Response::url`); the core does not answer it
//!   ([`Failure::OutOfScope`]), and reqwest itself drops `Authorization` on a cross-origin
//!   redirect. Credentials go to the first request's origin only, unless the
//!   [`ClientConfig::scope`] names others. On a *same-origin* redirect reqwest sends the
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
use std::sync::{Arc, Mutex, MutexGuard};

use http::{Extensions, HeaderMap, StatusCode, Uri};
use httpdigest::client::{
    Action, BodySource, Client, ClientConfig, ClientSetup, Credentials, Failure, Origin, OriginRef,
};
use httpdigest::http::{ResponseFields, Route, put_auth_headers};
use reqwest::{Request, Response};
use reqwest_middleware::{Middleware, Next};

pub use httpdigest;
pub use httpdigest::client::BuildError;

/// How much of a challenge's body is read (and dropped) before the request is sent again, so
/// the connection can carry it; past this the connection is given up.
const DRAIN_LIMIT: usize = 64 * 1024;

/// Put this into a request's extensions to send it without Digest:
/// `client.get(url).with_extension(NoDigest)`.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoDigest;

/// The Digest middleware. Cheap to clone; clones share the authentication state.
#[derive(Clone)]
pub struct DigestAuthMiddleware {
    shared: Arc<Shared>,
}

struct Shared {
    client: Mutex<Client>,
    proxy: Option<Origin>,
}

impl fmt::Debug for DigestAuthMiddleware {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DigestAuthMiddleware")
            .field("proxy", &self.shared.proxy)
            .finish_non_exhaustive()
    }
}

impl DigestAuthMiddleware {
    /// Authenticates to origins as `username` with `password`, with the core's default
    /// policy: strongest algorithm, preemptive reuse, credentials for the first request's
    /// origin only.
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        Self::from_parts(
            Client::new(
                Credentials::new(username, password),
                ClientConfig::default(),
            ),
            None,
        )
    }

    /// A builder for the policy, proxies and preemptive reuse.
    pub fn builder() -> DigestAuthMiddlewareBuilder {
        DigestAuthMiddlewareBuilder::default()
    }

    fn from_parts(client: Client, proxy: Option<Origin>) -> Self {
        Self {
            shared: Arc::new(Shared {
                client: Mutex::new(client),
                proxy,
            }),
        }
    }

    /// The core client. A panic while it was locked cannot leave it half-updated in a way
    /// that matters for safety (the worst is a nonce count skipped), so a poisoned lock is
    /// taken over rather than propagated.
    fn client(&self) -> MutexGuard<'_, Client> {
        self.shared
            .client
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A Digest failure: why, and the status and headers of the response it ended on (its body
/// is dropped: a 401 page, or a response that failed mutual authentication).
#[derive(Debug)]
pub struct AuthError {
    failure: Failure,
    status: StatusCode,
    headers: HeaderMap,
}

impl AuthError {
    /// Why the core gave up.
    pub fn failure(&self) -> &Failure {
        &self.failure
    }

    /// The status of the last response.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The headers of the last response (its challenges, say).
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.status, self.failure)
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

/// The [`Failure`] is part of the message, not a source, so an error chain names it once.
impl std::error::Error for AuthError {}

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
        next: Next<'_>,
    ) -> reqwest_middleware::Result<Response> {
        if extensions.get::<NoDigest>().is_some() {
            return next.run(request, extensions).await;
        }
        let url = request.url().clone();
        let uri = uri_of(&url)?;
        let proxy = self.shared.proxy.as_ref().map(OriginRef::of);
        let Some(route) = Route::of(request.method(), &uri, proxy) else {
            // Not http(s): nothing to authenticate.
            return next.run(request, extensions).await;
        };
        let method = request.method().clone();
        let (mut exchange, mut auth) = {
            let body = body_source(&request);
            self.client()
                .begin(&route.request(&method, body), &mut rand::rng())
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
            let action = {
                let fields = ResponseFields::of(response.headers());
                let mut core_response = fields.response(response.status());
                if let Some(uri) = &answered_by {
                    // An answer from no origin the core can name is answered by nobody.
                    let Some(origin) = httpdigest::http::origin_of(uri) else {
                        return Err(failed(Failure::OutOfScope, response));
                    };
                    core_response.origin = Some(origin);
                }
                let body = again
                    .as_ref()
                    .map_or(BodySource::NotReplayable, body_source);
                self.client().handle_response(
                    &mut exchange,
                    &route.request(&method, body),
                    &core_response,
                    &mut rand::rng(),
                )
            };
            #[cfg(feature = "tracing")]
            match &action {
                Action::Send(_) => tracing::debug!(
                    method = %method, host = url.host_str(), path = url.path(),
                    status = %response.status(), "answering a digest challenge"
                ),
                Action::Fail(failure) => tracing::debug!(
                    method = %method, host = url.host_str(), path = url.path(),
                    status = %response.status(), %failure, "digest authentication failed"
                ),
                Action::Done => {}
            }
            match action {
                Action::Send(next_auth) => {
                    let Some(again) = again else {
                        return Err(failed(Failure::BodyNotReplayable, response));
                    };
                    drain(response).await;
                    original = again;
                    auth = next_auth;
                }
                Action::Done => return Ok(response),
                Action::Fail(failure) => return Err(failed(failure, response)),
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

fn failed(failure: Failure, response: Response) -> reqwest_middleware::Error {
    reqwest_middleware::Error::middleware(DigestFailed(AuthError {
        failure,
        status: response.status(),
        headers: response.headers().clone(),
    }))
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

/// Builds a [`DigestAuthMiddleware`].
#[derive(Default)]
pub struct DigestAuthMiddlewareBuilder {
    setup: ClientSetup,
    preemptive: Option<bool>,
}

impl fmt::Debug for DigestAuthMiddlewareBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DigestAuthMiddlewareBuilder")
            .field("setup", &self.setup)
            .field("preemptive", &self.preemptive)
            .finish()
    }
}

impl DigestAuthMiddlewareBuilder {
    /// The user name and password for origins.
    #[must_use]
    pub fn credentials(mut self, username: impl Into<String>, password: impl Into<String>) -> Self {
        self.setup.credentials = Some(Credentials::new(username, password));
        self
    }

    /// Origin credentials in any form the core takes (a precomputed H(A1), say).
    #[must_use]
    pub fn core_credentials(mut self, credentials: Credentials) -> Self {
        self.setup.credentials = Some(credentials);
        self
    }

    /// The forward proxy (`http://host:port`) that the reqwest client sends plain `http`
    /// requests through (`reqwest::Proxy::http`): the middleware then writes their `uri` in
    /// absolute form, as reqwest puts them on the wire, and answers the proxy's 407.
    #[must_use]
    pub fn proxy(mut self, uri: impl Into<String>) -> Self {
        self.setup.proxy = Some(uri.into());
        self
    }

    /// The user name and password for the proxy.
    #[must_use]
    pub fn proxy_credentials(
        mut self,
        username: impl Into<String>,
        password: impl Into<String>,
    ) -> Self {
        self.setup.proxy_credentials = Some(Credentials::new(username, password));
        self
    }

    /// The core's policy: algorithms, mutual authentication, scope, `auth-int`.
    #[must_use]
    pub fn client_config(mut self, config: ClientConfig) -> Self {
        self.setup.config = config;
        self
    }

    /// Whether requests to a known protection space go out with credentials at once (the
    /// default), rather than waiting for a challenge each time (aiohttp's `preemptive`).
    #[must_use]
    pub fn preemptive(mut self, preemptive: bool) -> Self {
        self.preemptive = Some(preemptive);
        self
    }

    /// Builds the middleware.
    ///
    /// # Errors
    ///
    /// [`BuildError`] when no credentials are set, or the proxy is not `http://host[:port]`.
    pub fn build(self) -> Result<DigestAuthMiddleware, BuildError> {
        let mut setup = self.setup;
        if let Some(preemptive) = self.preemptive {
            setup.config = setup.config.with_preemptive(preemptive);
        }
        let (client, proxy) = setup.build()?;
        Ok(DigestAuthMiddleware::from_parts(client, proxy))
    }
}
