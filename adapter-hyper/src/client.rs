//! The client side: [`DigestAuthLayer`] wraps any `tower::Service` that sends
//! `http::Request`s (hyper-util's client, say) and answers Digest challenges.

use std::fmt;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body::Body;
use httpdigest::client::{BuildError, Client, Failure, ResponseBodyCheck};
use httpdigest::http::{
    DEFAULT_MAX_BUFFERED_BODY, DRAIN_LIMIT, DigestClient, Next, put_auth_headers,
};
use tower_layer::Layer;
use tower_service::Service;

use crate::body::{DigestBody, Prepared, drain};
use crate::error::{BoxError, Error};
use crate::timeout::within;

/// A [`Layer`] that answers HTTP Digest challenges for the service it wraps, shaped like
/// tower-http's `AddAuthorizationLayer`. Cheap to clone; every service it makes shares one
/// authentication state (protection spaces, nonce counts).
///
/// ```no_run
/// use bytes::Bytes;
/// use http_body_util::Full;
/// use httpdigest_hyper::{DigestAuthLayer, DigestBody};
/// use hyper_util::client::legacy::Client;
/// use hyper_util::rt::TokioExecutor;
/// use tower::{ServiceBuilder, ServiceExt};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
/// let client = Client::builder(TokioExecutor::new()).build_http::<DigestBody<Full<Bytes>>>();
/// let service = ServiceBuilder::new()
///     .layer(DigestAuthLayer::new("alice", "s3cret"))
///     .service(client);
///
/// let request = http::Request::get("http://camera.local/snapshot.jpg").body(Full::new(Bytes::new()))?;
/// let response = service.clone().oneshot(request).await?; // 401, then the answer
/// assert_eq!(response.status(), 200);
/// # Ok(()) }
/// ```
///
/// The cookies a 401 or 407 sets go back with the answer to it, joined to the request's own
/// `Cookie` header (servers that keep the nonce in a session cookie need them), and nowhere
/// further; a cookie store of your own above the layer keeps them as it always does (turn
/// the core's [`ClientConfig::challenge_cookies`](httpdigest::client::ClientConfig::challenge_cookies)
/// off if it sits below the layer and adds a `Cookie` field itself).
///
/// # Timeouts
///
/// hyper-util's client has these, each off (or at hyper-util's default) until set; the
/// layer adds the one it lacks, [`response_timeout`](Self::response_timeout):
///
/// | what | where | default |
/// |---|---|---|
/// | connecting (DNS and TCP, split over the addresses tried) | `HttpConnector::set_connect_timeout` | none |
/// | the second address family's start (RFC 6555 happy eyeballs) | `HttpConnector::set_happy_eyeballs_timeout` | 300 ms |
/// | TCP keep-alive probes of idle connections | `HttpConnector::set_keepalive`, `set_keepalive_interval`, `set_keepalive_retries` | off |
/// | unacknowledged data on a connection (Linux `TCP_USER_TIMEOUT`) | `HttpConnector::set_tcp_user_timeout` | off |
/// | pooled idle connections closed after | `Builder::pool_idle_timeout` (needs `Builder::pool_timer`) | 90 s |
/// | HTTP/2 keep-alive pings and their answer | `Builder::http2_keep_alive_interval`, `http2_keep_alive_timeout` (need `Builder::timer`) | off, 20 s |
/// | each send's response head | [`DigestAuthLayer::response_timeout`] (hyper-util has none) | none |
/// | an `https` tunnel through a proxy: its `CONNECT` answered | `ProxyConnector::response_timeout` (feature `connect`) | 30 s |
///
/// A bound on the whole request, every send included, is a `tower::timeout::TimeoutLayer`
/// outside this layer. Reading a response body is the caller's, and so is its bound.
///
/// ```
/// use std::time::Duration;
/// use bytes::Bytes;
/// use http_body_util::Full;
/// use httpdigest_hyper::{DigestAuthLayer, DigestBody};
/// use hyper_util::client::legacy::{Client, connect::HttpConnector};
/// use hyper_util::rt::{TokioExecutor, TokioTimer};
/// use tower::ServiceBuilder;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let mut http = HttpConnector::new();
/// http.set_connect_timeout(Some(Duration::from_secs(5)));
/// http.set_keepalive(Some(Duration::from_secs(60)));
/// let client = Client::builder(TokioExecutor::new())
///     .pool_timer(TokioTimer::new())
///     .pool_idle_timeout(Duration::from_secs(30))
///     .build::<_, DigestBody<Full<Bytes>>>(http);
/// let service = ServiceBuilder::new()
///     .layer(tower::timeout::TimeoutLayer::new(Duration::from_secs(60))) // the whole request
///     .layer(DigestAuthLayer::new("alice", "s3cret").response_timeout(Duration::from_secs(10)))
///     .service(client);
/// # drop(service); }
/// ```
#[derive(Clone, Debug)]
pub struct DigestAuthLayer {
    engine: DigestClient,
    max_buffered_body: usize,
    max_checked_response_body: usize,
    response_timeout: Option<Duration>,
}

impl DigestAuthLayer {
    /// A layer that authenticates to origins as `username` with `password`, with the core's
    /// default policy (strongest algorithm, preemptive reuse, the first request's origin as
    /// the only one the credentials go to).
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        Self::with_client(Client::with_password(username, password))
    }

    /// A layer with no credentials of its own: each request URI's userinfo
    /// (`http://user:password@host/`) is the Digest credentials of that origin, and a
    /// challenge from an origin no URI named is [`Failure::NoCredentials`]. Userinfo works
    /// the same way on every layer (the layer's own credentials win in their scope); it is
    /// taken off the URI before the request is sent, and never sent as Basic.
    ///
    /// ```
    /// use httpdigest_hyper::DigestAuthLayer;
    ///
    /// let layer = DigestAuthLayer::userinfo_only()?;
    /// // http::Request::get("http://admin:pw@camera.local/snapshot.jpg") ...
    /// # drop(layer);
    /// # Ok::<(), httpdigest::client::BuildError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// None today: what [`Builder::build`](httpdigest::client::Builder::build) says of
    /// [`Builder::userinfo_only`](httpdigest::client::Builder::userinfo_only), which builds.
    pub fn userinfo_only() -> Result<Self, BuildError> {
        let client = Client::builder().userinfo_only().build()?;
        Ok(Self::with_client(client))
    }

    /// A layer over a core client built with [`Client::builder`]: a forward proxy and its
    /// credentials (or [`Builder::proxy_env`](httpdigest::client::Builder::proxy_env):
    /// `http_proxy`, `no_proxy`), credentials per host (a `.netrc` file, a provider), a
    /// precomputed H(A1), the policy.
    ///
    /// With a proxy, the layer writes the request-target of plain `http` requests in
    /// absolute form (the `uri` parameter of a proxy's Digest) and answers the proxy's 407.
    /// Connecting to the proxy and putting the absolute form on the wire is the wrapped
    /// client's job: with hyper-util's client, a connector that connects to the proxy and
    /// marks its connections with `Connected::proxy(true)`, as
    /// [`ProxyConnector`](crate::ProxyConnector) does. `https` requests go through a
    /// `CONNECT` tunnel that the connector opens and authenticates itself
    /// (`ProxyConnector`, with a core client for the same proxy).
    pub fn with_client(client: Client) -> Self {
        Self {
            engine: DigestClient::new(client),
            max_buffered_body: DEFAULT_MAX_BUFFERED_BODY,
            max_checked_response_body: DEFAULT_MAX_BUFFERED_BODY,
            response_timeout: None,
        }
    }

    /// Each send (the first, and each answer to a challenge) must get its response head
    /// from the wrapped service within `timeout`, or the request fails with
    /// [`Error::Timeout`] (default: no bound, as hyper-util's client has none). The body is
    /// not covered: it is read after the response is handed over.
    #[must_use]
    pub const fn response_timeout(mut self, timeout: Duration) -> Self {
        self.response_timeout = Some(timeout);
        self
    }

    /// Request bodies up to this many bytes are kept in memory to be sent again and hashed
    /// for `auth-int` (default [`DEFAULT_MAX_BUFFERED_BODY`]); longer ones are streamed once.
    #[must_use]
    pub const fn max_buffered_body(mut self, bytes: usize) -> Self {
        self.max_buffered_body = bytes;
        self
    }

    /// Response bodies up to this many bytes are read into memory to check an `rspauth`
    /// that covers them (`qop=auth-int`; default [`DEFAULT_MAX_BUFFERED_BODY`]). A longer
    /// one is not checked: it fails with
    /// [`Failure::MutualAuthMissing`](httpdigest::client::Failure::MutualAuthMissing) when
    /// the policy requires mutual authentication, and is handed on unchecked, streamed,
    /// otherwise. See [`DigestAuth`], *Mutual authentication over the body*.
    #[must_use]
    pub const fn max_checked_response_body(mut self, bytes: usize) -> Self {
        self.max_checked_response_body = bytes;
        self
    }
}

impl<S> Layer<S> for DigestAuthLayer {
    type Service = DigestAuth<S>;

    fn layer(&self, inner: S) -> DigestAuth<S> {
        DigestAuth {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service made by [`DigestAuthLayer`].
///
/// Each request goes through the core: it is sent (with credentials at once when its
/// protection space is known), its response is handed to the core, and it is sent again when
/// the core says so (at most twice more). The final response is returned as it came; a
/// Digest failure is [`Error::Auth`].
///
/// The request body is read into memory first (up to
/// [`max_buffered_body`](DigestAuthLayer::max_buffered_body)) so that it can be sent
/// again and hashed for `auth-int`; the wrapped service receives it as a [`DigestBody`]. A
/// longer body is streamed once: it goes out with credentials when the space is known, and a
/// challenge to it ends in
/// [`Failure::BodyNotReplayable`](httpdigest::client::Failure::BodyNotReplayable).
///
/// The response comes back as it came, its body wrapped in a [`DigestBody`]
/// (`Response<DigestBody<Incoming>>` over hyper-util's client), streamed as it arrives.
///
/// **Mutual authentication over the body.** For `qop=auth-int` the server's `rspauth`
/// covers the response body (RFC 7616 §3.5). When the final response carries one, the layer
/// reads the body before returning (up to
/// [`max_checked_response_body`](DigestAuthLayer::max_checked_response_body)) and checks
/// it: a body that does not match is [`Error::Auth`] with
/// [`Failure::MutualAuthFailed`], as a wrong `rspauth` in the headers is, and the caller
/// never sees it; a body that matches comes back in memory. A longer body is not checked:
/// it is [`Failure::MutualAuthMissing`] when the policy requires mutual authentication,
/// and otherwise comes back unchecked, streamed (what was read first included). The body is
/// checked whole before the response is handed over, rather than as the caller reads it, so
/// that a failure is the layer's typed error and no byte of an unproven body reaches the
/// caller.
///
/// Redirects are the caller's: hyper-util's client does not follow them. A
/// `FollowRedirect` layer belongs *outside* this one, so that each hop is a new request the
/// core scopes: a hop to another origin gets no credentials, and its challenge is
/// [`Failure::OutOfScope`](httpdigest::client::Failure::OutOfScope). Give it the
/// `RedirectPolicy` of this crate (feature `follow-redirect`, on by default), which takes a
/// `Location`'s userinfo off each hop: this layer takes a request URI's userinfo as
/// credentials, and a server must not choose them.
#[derive(Clone)]
pub struct DigestAuth<S> {
    inner: S,
    layer: DigestAuthLayer,
}

impl<S> fmt::Debug for DigestAuth<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DigestAuth").finish_non_exhaustive()
    }
}

impl<S> DigestAuth<S> {
    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, B, R> Service<Request<B>> for DigestAuth<S>
where
    S: Service<Request<DigestBody<B>>, Response = Response<R>> + Clone + Send + 'static,
    S::Future: Send,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
    R: Body<Data = Bytes> + Send + 'static,
    R::Error: Into<BoxError>,
{
    type Response = Response<DigestBody<R>>;
    type Error = Error<S::Error>;
    type Future = BoxFuture<Result<Response<DigestBody<R>>, Error<S::Error>>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Error::Service)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        // The ready service goes with the request; a clone takes its place for the next.
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(authenticate(self.layer.clone(), inner, request))
    }
}

/// One request: as many sends as the engine asks for.
async fn authenticate<S, B, R>(
    layer: DigestAuthLayer,
    mut inner: S,
    request: Request<B>,
) -> Result<Response<DigestBody<R>>, Error<S::Error>>
where
    S: Service<Request<DigestBody<B>>, Response = Response<R>>,
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
    R: Body<Data = Bytes>,
    R::Error: Into<BoxError>,
{
    let (mut parts, body) = request.into_parts();
    let engine = &layer.engine;
    // The URI is checked before the body is read.
    engine.route(&parts.method, &parts.uri)?;
    let mut body = Prepared::read(body, layer.max_buffered_body)
        .await
        .map_err(|e| Error::Body(e.into()))?;
    let (mut call, mut auth) = engine
        .start(&parts.method, &parts.uri, body.source())
        .await?;
    // A URI's userinfo became the Digest credentials of its origin (never Basic); what goes
    // on the wire, and to the wrapped client, is the URI without it.
    parts.uri = call.uri().clone();
    let Some(mut send_body) = body.next_send() else {
        return Err(Error::Body("the request body was already sent".into()));
    };
    let mut first = true;
    loop {
        let mut request = Request::from_parts(parts.clone(), send_body);
        put_auth_headers(request.headers_mut(), auth)?;
        if !first {
            poll_fn(|cx| inner.poll_ready(cx))
                .await
                .map_err(Error::Service)?;
        }
        first = false;
        let response = match layer.response_timeout {
            Some(timeout) => within(timeout, inner.call(request))
                .await
                .ok_or(Error::Timeout(timeout))?,
            None => inner.call(request).await,
        }
        .map_err(Error::Service)?;
        let mut next = engine.respond_to(&mut call, body.source(), response);
        // The request waits for its turn on the server's nonces, then goes on.
        while let Next::Wait(response) = next {
            next = engine.wait(&mut call, body.source()).await.with(response);
        }
        match next {
            Next::Send(next, response) => {
                // The engine answers no challenge to a body it was told cannot be sent again.
                let Some(again) = body.next_send() else {
                    return Err(Error::auth(Failure::BodyNotReplayable, response));
                };
                // A small challenge body is read so the connection can carry the next send.
                drain(response.into_body(), DRAIN_LIMIT).await;
                auth = next;
                send_body = again;
            }
            Next::Done(response) | Next::Wait(response) => {
                return Ok(response.map(DigestBody::streamed));
            }
            Next::CheckBody(check, response) => {
                return checked(check, response, layer.max_checked_response_body).await;
            }
            Next::Fail(failure, response) => return Err(Error::auth(failure, response)),
        }
    }
}

/// The final response of an `auth-int` exchange whose `rspauth` covers its body: the body
/// is read (up to `limit`) and checked before the response is handed over, in memory; past
/// the limit, what the policy makes of an unchecked body.
async fn checked<R, E>(
    check: ResponseBodyCheck,
    response: Response<R>,
    limit: usize,
) -> Result<Response<DigestBody<R>>, Error<E>>
where
    R: Body<Data = Bytes>,
    R::Error: Into<BoxError>,
{
    let (parts, body) = response.into_parts();
    let mut body = Prepared::read(body, limit)
        .await
        .map_err(|e| Error::ResponseBody(e.into()))?;
    let verdict = match body.buffered() {
        Some(data) => check.check(data),
        None => check.skip(),
    };
    if let Err(failure) = verdict {
        return Err(Error::auth(failure, Response::from_parts(parts, ())));
    }
    match body.next_send() {
        Some(body) => Ok(Response::from_parts(parts, body)),
        // Read just now, not sent.
        None => Err(Error::ResponseBody("the response body was taken".into())),
    }
}
