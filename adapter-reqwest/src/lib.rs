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
//! - **Credentials.** The middleware's own ([`DigestAuthMiddleware::new`],
//!   [`Builder::credentials`]) go to their scope, by default the first request's origin. A
//!   request URL's userinfo (`http://bob:pw@cam.local/`) is the Digest credentials of that
//!   origin, as curl takes it with `--digest`: reqwest's `RequestBuilder` turns it into
//!   `Authorization: Basic` before any middleware runs (and `basic_auth` makes the same
//!   field), so the middleware takes every Basic field off the request, registers what it
//!   holds with the core for the request's origin, and sends Digest only, never Basic (the
//!   middleware's own credentials win in their scope, as curl's `-u` does). A `.netrc` file
//!   ([`Builder::netrc`]) or a provider ([`Builder::credentials_provider`]) gives
//!   credentials per host, each for its host alone. A request with [`NoDigest`] goes as it
//!   is, Basic field included.
//! - **401 and 407.** Origin challenges, and those of a plain-`http` forward proxy (reqwest
//!   sends such requests in absolute form and lets the 407 through): by default the one
//!   reqwest takes from the environment, read as reqwest reads it ([`proxy_env_as_reqwest`]:
//!   `HTTP_PROXY`, `NO_PROXY`, the credentials in the proxy URL), or one named with
//!   `Client::builder().proxy(..)` for [`DigestAuthMiddleware::with_client`]. A reqwest
//!   client built with `.no_proxy()` or its own `.proxy(..)` wants the middleware told the
//!   same ([`Builder::proxy_from_env`]`(false)`, [`Builder::core`]). reqwest reaches `https`
//!   targets through a `CONNECT` tunnel and answers the proxy's 407 itself: Digest cannot be
//!   answered there, and no hook of reqwest's lets it be. Its tunnel (hyper-util's) turns a
//!   407 into the error "proxy authorization required" and drops the response,
//!   `Proxy-Authenticate` included; `Proxy::basic_auth`, `custom_http_auth` and `headers`
//!   put one fixed value on every `CONNECT`, where a Digest answer needs the proxy's nonce
//!   first and a new nonce count each time; and `ClientBuilder::connector_layer` wraps
//!   reqwest's whole connector (tunnel included) as a `Service<Unnameable, Response = Conn>`,
//!   whose request hides its URI and whose response only reqwest can build, so a layer can
//!   time or limit connections but cannot open a tunnel of its own. For `https` through a
//!   Digest proxy, use `httpdigest_hyper::ProxyConnector` under hyper-util's client.
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

mod environment;

use std::fmt;

use bytes::{Bytes, BytesMut};
use http::{Extensions, Uri};
use httpdigest::Origin;
use httpdigest::client::{
    BodySource, Client, ClientConfig, Credentials, Failure, ProxyEnv, ResponseBodyCheck,
};
use httpdigest::http::{
    DEFAULT_MAX_BUFFERED_BODY, DRAIN_LIMIT, DigestClient, Next, origin_of, put_auth_headers,
    redirect, split_userinfo,
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

/// The environment's proxies as reqwest reads them by default (its system proxy):
/// `HTTP_PROXY` before `http_proxy`, then `ALL_PROXY`/`all_proxy`; `NO_PROXY` before
/// `no_proxy`; none under CGI (`REQUEST_METHOD` set). Only a plain `http://` proxy is kept:
/// reqwest sends plain `http` requests to it in absolute form, so its 407 reaches the
/// middleware, which answers it with the credentials of the proxy URL's userinfo. reqwest
/// reaches `https` targets through a `CONNECT` tunnel it authenticates itself; a `socks5://`
/// or `https://` proxy is not the core's either. A value the core cannot read (reqwest skips
/// it too) leaves the proxy out, and a `no_proxy` list it cannot read leaves every proxy out,
/// so that no host reqwest reaches directly is taken for one behind the proxy.
///
/// ```
/// use httpdigest::client::{Client, Credentials};
///
/// let core = Client::builder()
///     .credentials(Credentials::new("alice", "s3cret"))
///     .proxy_env(httpdigest_reqwest::proxy_env_as_reqwest())
///     .build()?;
/// let digest = httpdigest_reqwest::DigestAuthMiddleware::with_client(core);
/// # Ok::<(), httpdigest::client::BuildError>(())
/// ```
pub fn proxy_env_as_reqwest() -> ProxyEnv {
    environment::reqwest_proxy_env(|name| std::env::var(name).ok())
}

/// Builds a [`DigestAuthMiddleware`]: whose credentials go where, the proxy, the core's
/// policy, and the middleware's own limits.
///
/// Credentials, per origin: those of [`credentials`](Self::credentials) in their scope (by
/// default the first request's origin), then a request URL's userinfo for its origin, then
/// what the [`netrc`](Self::netrc) file or the [provider](Self::credentials_provider) has for
/// the host; an origin with none of these gets nothing. With no credentials given at all,
/// only URL userinfo authenticates.
///
/// ```no_run
/// use httpdigest::client::netrc::Netrc;
/// use httpdigest_reqwest::DigestAuthMiddleware;
///
/// # fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let digest = DigestAuthMiddleware::builder()
///     .netrc(Netrc::load("/home/alice/.netrc")?) // per host; `default` is not used
///     .core(|core| core.configure(|c| c.with_preemptive(false)))
///     .max_redirects(5)
///     .build()?;
/// # Ok(()) }
/// ```
#[must_use = "a builder does nothing until it is built"]
pub struct Builder {
    core: httpdigest::client::Builder,
    proxy_from_env: bool,
    max_redirects: usize,
    max_checked_response_body: usize,
}

impl Default for Builder {
    fn default() -> Self {
        Self {
            // Only URL userinfo, until credentials or a provider are given.
            core: Client::builder().userinfo_only(),
            proxy_from_env: true,
            max_redirects: DEFAULT_MAX_REDIRECTS,
            max_checked_response_body: DEFAULT_MAX_BUFFERED_BODY,
        }
    }
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("proxy_from_env", &self.proxy_from_env)
            .field("max_redirects", &self.max_redirects)
            .field("max_checked_response_body", &self.max_checked_response_body)
            .finish_non_exhaustive()
    }
}

impl Builder {
    /// The middleware's own credentials, for the origins of its scope (by default the
    /// first request's origin); they win there over a URL's userinfo, as curl's `-u` does.
    pub fn credentials(mut self, username: impl Into<String>, password: impl Into<String>) -> Self {
        self.core = self.core.credentials(Credentials::new(username, password));
        self
    }

    /// Credentials per host from a `.netrc` file: its `machine` entries, each for its host
    /// alone (not its `default` entry, which would go to any host a redirect names).
    pub fn netrc(mut self, netrc: httpdigest::client::netrc::Netrc) -> Self {
        self.core = self.core.netrc(netrc);
        self
    }

    /// Credentials per host from `provider` (a closure
    /// `Fn(OriginRef) -> Option<Credentials>` will do): what it gives for an origin goes to
    /// that origin only; asked once per origin.
    pub fn credentials_provider(
        mut self,
        provider: impl httpdigest::client::CredentialsProvider + 'static,
    ) -> Self {
        self.core = self.core.credentials_provider(provider);
        self
    }

    /// Whether the core takes the proxy reqwest takes from the environment
    /// ([`proxy_env_as_reqwest`]; on by default, as reqwest's own default). Turn it off
    /// when the reqwest client is built with `.no_proxy()` or a proxy of its own (give the
    /// core that one with [`core`](Self::core) and `proxy`): the core must route as reqwest
    /// does, or it would answer a 407 from an origin reqwest reached directly with the
    /// proxy's credentials.
    pub fn proxy_from_env(mut self, on: bool) -> Self {
        self.proxy_from_env = on;
        self
    }

    /// Anything else of the core client: the policy (`configure`), a precomputed H(A1),
    /// the scope, a proxy named by hand and its credentials (which win over the
    /// environment's).
    pub fn core(
        mut self,
        change: impl FnOnce(httpdigest::client::Builder) -> httpdigest::client::Builder,
    ) -> Self {
        self.core = change(self.core);
        self
    }

    /// See [`DigestAuthMiddleware::max_redirects`].
    pub const fn max_redirects(mut self, hops: usize) -> Self {
        self.max_redirects = hops;
        self
    }

    /// See [`DigestAuthMiddleware::max_checked_response_body`].
    pub const fn max_checked_response_body(mut self, bytes: usize) -> Self {
        self.max_checked_response_body = bytes;
        self
    }

    /// The middleware.
    ///
    /// # Errors
    ///
    /// The core's [`BuildError`](httpdigest::client::BuildError): a proxy named by hand that
    /// is not `http://[user:password@]host[:port]`, proxy credentials without a proxy.
    pub fn build(self) -> Result<DigestAuthMiddleware, httpdigest::client::BuildError> {
        let core = match self.proxy_from_env {
            true => self.core.proxy_env(proxy_env_as_reqwest()),
            false => self.core,
        };
        Ok(DigestAuthMiddleware::with_client(core.build()?)
            .max_redirects(self.max_redirects)
            .max_checked_response_body(self.max_checked_response_body))
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
    /// origin only; and answers the 407 of the proxy reqwest takes from the environment
    /// ([`proxy_env_as_reqwest`]). The short way to
    /// `DigestAuthMiddleware::builder().credentials(username, password).build()`.
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        let credentials = Credentials::new(username, password);
        let client = Client::builder()
            .credentials(credentials.clone())
            .proxy_env(proxy_env_as_reqwest())
            .build()
            // It cannot fail with credentials and no proxy URL to parse.
            .unwrap_or_else(|_| Client::new(credentials, ClientConfig::default()));
        Self::with_client(client)
    }

    /// A [`Builder`]: credentials for origins, per host from a `.netrc` file or a provider,
    /// the proxy, the policy.
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// The middleware over a core client built with [`Client::builder`]: the policy
    /// (preemptive reuse, scope, `auth-int`), a precomputed H(A1), credentials per host, and
    /// the forward proxy that the reqwest client sends plain `http` requests through
    /// (`reqwest::Proxy::http`) with its credentials, whose 407 the middleware answers. The
    /// client is taken as it is: nothing is read from the environment (for reqwest's
    /// environment proxy, give the core [`proxy_env_as_reqwest`]).
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
        self.take_credentials(&mut request)?;
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
    /// A URL's userinfo, or the `Authorization: Basic` reqwest's `RequestBuilder` made of it
    /// (or `basic_auth`), becomes the Digest credentials of the request's origin, registered
    /// with the core; the request goes without either.
    fn take_credentials(&self, request: &mut Request) -> reqwest_middleware::Result<()> {
        let uri = uri_of(request.url())?;
        let Some(origin) = origin_of(&uri).map(|o| Origin::new(o.scheme, o.host, o.port)) else {
            // Not http(s): nothing to authenticate.
            return Ok(());
        };
        let from_header = environment::take_basic(request.headers_mut());
        let url = request.url();
        let from_url = if url.username().is_empty() && url.password().is_none() {
            None
        } else {
            let (stripped, credentials) =
                split_userinfo(&uri).map_err(reqwest_middleware::Error::middleware)?;
            *request.url_mut() = reqwest::Url::parse(&stripped.to_string())
                .map_err(reqwest_middleware::Error::middleware)?;
            credentials
        };
        if let Some(credentials) = from_url.or(from_header) {
            self.engine.set_origin_credentials(origin, credentials);
        }
        Ok(())
    }

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
