//! The client side: [`DigestAuthLayer`] wraps any `tower::Service` that sends
//! `http::Request`s (hyper-util's client, say) and answers Digest challenges.

use std::fmt;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use http_body::Body;
use httpdigest::client::{
    Action, BuildError, Client, ClientConfig, ClientSetup, Credentials, Failure, Origin, OriginRef,
};
use httpdigest::http::{ResponseFields, Route, put_auth_headers};
use tower_layer::Layer;
use tower_service::Service;

use crate::body::{DRAIN_LIMIT, DigestBody, Prepared, drain};
use crate::error::{AuthError, BoxError, Error};

/// Bodies up to this size are kept in memory by default (see
/// [`DigestAuthLayerBuilder::max_buffered_body`]).
pub const DEFAULT_MAX_BUFFERED_BODY: usize = 4 * 1024 * 1024;

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
#[derive(Clone)]
pub struct DigestAuthLayer {
    shared: Arc<Shared>,
}

struct Shared {
    client: Mutex<Client>,
    proxy: Option<Origin>,
    max_buffered_body: usize,
}

impl Shared {
    /// The core client. A panic while it was locked cannot leave it half-updated in a way
    /// that matters for safety (the worst is a nonce count skipped), so a poisoned lock is
    /// taken over rather than propagated.
    fn client(&self) -> MutexGuard<'_, Client> {
        self.client
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl fmt::Debug for DigestAuthLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DigestAuthLayer")
            .field("proxy", &self.shared.proxy)
            .field("max_buffered_body", &self.shared.max_buffered_body)
            .finish_non_exhaustive()
    }
}

impl DigestAuthLayer {
    /// A layer that authenticates to origins as `username` with `password`, with the core's
    /// default policy (strongest algorithm, preemptive reuse, the first request's origin as
    /// the only one the credentials go to).
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        Self::from_parts(
            Client::new(
                Credentials::new(username, password),
                ClientConfig::default(),
            ),
            None,
            DEFAULT_MAX_BUFFERED_BODY,
        )
    }

    /// A builder for proxies, policy and limits.
    pub fn builder() -> DigestAuthLayerBuilder {
        DigestAuthLayerBuilder::default()
    }

    fn from_parts(client: Client, proxy: Option<Origin>, max_buffered_body: usize) -> Self {
        Self {
            shared: Arc::new(Shared {
                client: Mutex::new(client),
                proxy,
                max_buffered_body,
            }),
        }
    }
}

impl<S> Layer<S> for DigestAuthLayer {
    type Service = DigestAuth<S>;

    fn layer(&self, inner: S) -> DigestAuth<S> {
        DigestAuth {
            inner,
            shared: Arc::clone(&self.shared),
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
/// [`max_buffered_body`](DigestAuthLayerBuilder::max_buffered_body)) so that it can be sent
/// again and hashed for `auth-int`; the wrapped service receives it as a [`DigestBody`]. A
/// longer body is streamed once: it goes out with credentials when the space is known, and a
/// challenge to it ends in
/// [`Failure::BodyNotReplayable`](httpdigest::client::Failure::BodyNotReplayable).
///
/// Redirects are the caller's: hyper-util's client does not follow them. A
/// `FollowRedirect` layer belongs *outside* this one, so that each hop is a new request the
/// core scopes: a hop to another origin gets no credentials, and its challenge is
/// [`Failure::OutOfScope`](httpdigest::client::Failure::OutOfScope).
#[derive(Clone)]
pub struct DigestAuth<S> {
    inner: S,
    shared: Arc<Shared>,
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
    R: Body + Send + 'static,
    R::Data: Send,
{
    type Response = Response<R>;
    type Error = Error<S::Error>;
    type Future = BoxFuture<Result<Response<R>, Error<S::Error>>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Error::Service)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        // The ready service goes with the request; a clone takes its place for the next.
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(authenticate(Arc::clone(&self.shared), inner, request))
    }
}

/// One request: as many sends as the core asks for.
async fn authenticate<S, B, R>(
    shared: Arc<Shared>,
    mut inner: S,
    request: Request<B>,
) -> Result<Response<R>, Error<S::Error>>
where
    S: Service<Request<DigestBody<B>>, Response = Response<R>>,
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
    R: Body,
{
    let (parts, body) = request.into_parts();
    let proxy = shared.proxy.as_ref().map(OriginRef::of);
    let route = Route::of(&parts.method, &parts.uri, proxy)
        .ok_or_else(|| Error::BadUri(parts.uri.to_string()))?;
    let mut body = Prepared::read(body, shared.max_buffered_body)
        .await
        .map_err(|e| Error::Body(e.into()))?;
    let (mut exchange, mut auth) = shared.client().begin(
        &route.request(&parts.method, body.source()),
        &mut rand::rng(),
    );
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
        let response = inner.call(request).await.map_err(Error::Service)?;
        let action = {
            let fields = ResponseFields::of(response.headers());
            shared.client().handle_response(
                &mut exchange,
                &route.request(&parts.method, body.source()),
                &fields.response(response.status()),
                &mut rand::rng(),
            )
        };
        #[cfg(feature = "tracing")]
        match &action {
            Action::Send(_) => tracing::debug!(
                method = %parts.method, host = parts.uri.host(), path = parts.uri.path(),
                status = %response.status(),
                "answering a digest challenge"
            ),
            Action::Fail(failure) => tracing::debug!(
                method = %parts.method, host = parts.uri.host(), path = parts.uri.path(),
                status = %response.status(),
                %failure, "digest authentication failed"
            ),
            Action::Done => {}
        }
        match action {
            Action::Send(next) => {
                // The core answers no challenge to a body it was told cannot be sent again;
                // should it ever, the streamed body says no here.
                let Some(again) = body.next_send() else {
                    let (head, _) = response.into_parts();
                    let failure = Failure::BodyNotReplayable;
                    return Err(Error::Auth(Box::new(AuthError::new(failure, head))));
                };
                // A small challenge body is read so the connection can carry the next send.
                drain(response.into_body(), DRAIN_LIMIT).await;
                auth = next;
                send_body = again;
            }
            Action::Done => return Ok(response),
            Action::Fail(failure) => {
                let (head, _) = response.into_parts();
                return Err(Error::Auth(Box::new(AuthError::new(failure, head))));
            }
        }
    }
}

/// Builds a [`DigestAuthLayer`].
#[derive(Default)]
pub struct DigestAuthLayerBuilder {
    setup: ClientSetup,
    max_buffered_body: Option<usize>,
}

impl fmt::Debug for DigestAuthLayerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DigestAuthLayerBuilder")
            .field("setup", &self.setup)
            .field("max_buffered_body", &self.max_buffered_body)
            .finish()
    }
}

impl DigestAuthLayerBuilder {
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

    /// The forward proxy (`http://host:port`) that plain `http` requests go through.
    ///
    /// The layer then writes the request-target of those requests in absolute form (the
    /// `uri` parameter of a proxy's Digest) and answers the proxy's 407. Connecting to the
    /// proxy and putting the absolute form on the wire is the wrapped client's job: with
    /// hyper-util's client, a connector that connects to the proxy and marks its connections
    /// with `Connected::proxy(true)`. `https` requests go through a `CONNECT` tunnel that
    /// the connector opens and authenticates itself.
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

    /// The core's policy: algorithms, mutual authentication, preemptive reuse, scope.
    #[must_use]
    pub fn client_config(mut self, config: ClientConfig) -> Self {
        self.setup.config = config;
        self
    }

    /// Request bodies up to this many bytes are kept in memory to be sent again and hashed
    /// for `auth-int` (default [`DEFAULT_MAX_BUFFERED_BODY`]); longer ones are streamed once.
    #[must_use]
    pub fn max_buffered_body(mut self, bytes: usize) -> Self {
        self.max_buffered_body = Some(bytes);
        self
    }

    /// Builds the layer.
    ///
    /// # Errors
    ///
    /// [`BuildError`] when no credentials are set, or the proxy is not `http://host[:port]`.
    pub fn build(self) -> Result<DigestAuthLayer, BuildError> {
        let (client, proxy) = self.setup.build()?;
        Ok(DigestAuthLayer::from_parts(
            client,
            proxy,
            self.max_buffered_body.unwrap_or(DEFAULT_MAX_BUFFERED_BODY),
        ))
    }
}
