//! The server side: [`RequireDigestLayer`] verifies requests with the core's
//! [`Verifier`] before they reach the service it wraps.

use std::fmt;
use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::{Buf, Bytes, BytesMut};
use http::{HeaderName, HeaderValue, Request, Response, StatusCode, header};
use http_body::Body;

use httpdigest::Side;
use httpdigest::http::{DRAIN_LIMIT, challenge_header, credentials_header, info_header};

use crate::body::drain;
use httpdigest::server::{
    Authenticated, CredentialStore, MemoryNonceCounts, NonceCountStore, Rejection, ServerRequest,
    Verifier,
};
use tower_layer::Layer;
use tower_service::Service;

/// How many nonces the default in-memory nonce-count store remembers (an entry per nonce and
/// user that used it).
pub const DEFAULT_NONCE_CAPACITY: usize = 100_000;

/// A [`Layer`] that lets through only requests with valid Digest credentials, shaped like
/// tower-http's `AsyncRequireAuthorizationLayer`.
///
/// - No credentials, wrong ones, an expired nonce: `401` with one `WWW-Authenticate` field
///   per configured algorithm (`stale=true` when only the nonce was at fault).
/// - Malformed credentials, or a `uri` that is not the request-target: `400`.
/// - Valid: the request goes on with the [`Authenticated`] user in its extensions
///   (`request.extensions().get::<Authenticated>()`, or axum's `Extension<Authenticated>`),
///   and the response gets `Authentication-Info` (`rspauth`, and `nextnonce` when the nonce
///   nears its end).
///
/// ```
/// use httpdigest::server::{Users, Verifier, VerifierConfig};
/// use httpdigest_hyper::RequireDigestLayer;
///
/// let mut users = Users::new("api@example.org");
/// users.insert("alice", "s3cret");
/// let verifier = Verifier::new(VerifierConfig::new("api@example.org"), b"32 random bytes, shared by replicas")?;
/// let layer = RequireDigestLayer::new(verifier, users);
/// // axum: Router::new().route("/", get(handler)).layer(layer)
/// // hyper: ServiceBuilder::new().layer(layer).service(service), then TowerToHyperService
/// # Ok::<(), httpdigest::server::ConfigError>(())
/// ```
///
/// `qop=auth-int` needs the request body before the request goes on; see
/// [`with_auth_int`](Self::with_auth_int). Without it, a client answering with `auth-int`
/// gets a `401`.
pub struct RequireDigestLayer<M = HeadersOnly> {
    shared: Arc<Shared>,
    mode: M,
}

/// The [`RequireDigestLayer`] mode that verifies from the headers alone: `qop=auth` and
/// none. Any request body type passes through untouched.
#[derive(Debug, Clone, Copy, Default)]
pub struct HeadersOnly;

/// The [`RequireDigestLayer`] mode that also verifies `qop=auth-int`: when the credentials
/// say `auth-int`, the body is read (up to a limit; `413` past it) and handed on as a new
/// body built from the bytes, hence the bound `B: From<Bytes>` on the request body (axum's
/// `Body`, `Full<Bytes>`; under hyper directly, map `Incoming` into one of those first).
#[derive(Debug, Clone, Copy)]
pub struct AuthIntBody {
    max: usize,
}

type Clock = dyn Fn() -> u64 + Send + Sync;

#[derive(Clone)]
struct Shared {
    verifier: Verifier,
    credentials: Arc<dyn CredentialStore + Send + Sync>,
    nonce_counts: Arc<dyn NonceCountStore + Send + Sync>,
    clock: Arc<Clock>,
}

impl<M: Clone> Clone for RequireDigestLayer<M> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
            mode: self.mode.clone(),
        }
    }
}

impl<M: fmt::Debug> fmt::Debug for RequireDigestLayer<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequireDigestLayer")
            .field("verifier", &self.shared.verifier)
            .field("side", &self.shared.verifier.config().side)
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

/// The current time in seconds since the Unix epoch (0 if the clock is before it).
fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl RequireDigestLayer<HeadersOnly> {
    /// A layer that verifies with `verifier` against the users of `credentials`, with an
    /// in-memory nonce-count store ([`DEFAULT_NONCE_CAPACITY`] nonces) and the system
    /// clock.
    ///
    /// If the verifier offers `auth-int`, use [`with_auth_int`](Self::with_auth_int) too:
    /// this mode cannot see bodies, so an `auth-int` answer gets a 401.
    pub fn new(
        verifier: Verifier,
        credentials: impl CredentialStore + Send + Sync + 'static,
    ) -> Self {
        let lifetime = verifier.config().nonce_lifetime;
        Self {
            shared: Arc::new(Shared {
                verifier,
                credentials: Arc::new(credentials),
                nonce_counts: Arc::new(MemoryNonceCounts::new(DEFAULT_NONCE_CAPACITY, lifetime)),
                clock: Arc::new(unix_now),
            }),
            mode: HeadersOnly,
        }
    }

    /// Verifies `qop=auth-int` too, reading request bodies of up to `max_body` bytes when the
    /// credentials ask for it (see [`AuthIntBody`]).
    pub fn with_auth_int(self, max_body: usize) -> RequireDigestLayer<AuthIntBody> {
        RequireDigestLayer {
            shared: self.shared,
            mode: AuthIntBody { max: max_body },
        }
    }
}

impl<M> RequireDigestLayer<M> {
    fn shared_mut(&mut self) -> &mut Shared {
        Arc::make_mut(&mut self.shared)
    }

    /// Where nonce counts are recorded (replay protection): a shared store lets several
    /// instances with the same verifier key accept each other's nonces safely.
    #[must_use]
    pub fn nonce_counts(mut self, store: impl NonceCountStore + Send + Sync + 'static) -> Self {
        self.shared_mut().nonce_counts = Arc::new(store);
        self
    }

    /// The clock, in seconds (the default is the system clock, seconds since the Unix
    /// epoch). Every instance sharing a verifier key must use the same epoch.
    #[must_use]
    pub fn clock(mut self, now: impl Fn() -> u64 + Send + Sync + 'static) -> Self {
        self.shared_mut().clock = Arc::new(now);
        self
    }

    /// Acts as a forward proxy's authentication: reads `Proxy-Authorization`, answers `407`
    /// with `Proxy-Authenticate`, adds `Proxy-Authentication-Info`.
    #[must_use]
    pub fn for_proxy(mut self) -> Self {
        let shared = self.shared_mut();
        shared.verifier = shared.verifier.clone().with_side(Side::Proxy);
        self
    }

    /// The verifier.
    pub fn verifier(&self) -> &Verifier {
        &self.shared.verifier
    }
}

impl<S, M: Clone> Layer<S> for RequireDigestLayer<M> {
    type Service = RequireDigest<S, M>;

    fn layer(&self, inner: S) -> RequireDigest<S, M> {
        RequireDigest {
            inner,
            shared: Arc::clone(&self.shared),
            mode: self.mode.clone(),
        }
    }
}

/// The service made by [`RequireDigestLayer`].
pub struct RequireDigest<S, M = HeadersOnly> {
    inner: S,
    shared: Arc<Shared>,
    mode: M,
}

impl<S: Clone, M: Clone> Clone for RequireDigest<S, M> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            shared: Arc::clone(&self.shared),
            mode: self.mode.clone(),
        }
    }
}

impl<S, M: fmt::Debug> fmt::Debug for RequireDigest<S, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequireDigest")
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl Shared {
    /// The side the verifier answers for: origin or proxy.
    fn side(&self) -> Side {
        self.verifier.config().side
    }

    /// Verifies the request's credentials (with its body, when given).
    fn verify(
        &self,
        parts: &http::request::Parts,
        body: Option<&[u8]>,
    ) -> Result<Authenticated, Rejection> {
        let target = match parts.uri.scheme() {
            Some(_) => httpdigest::http::absolute_target(&parts.uri).map(std::borrow::Cow::Owned),
            None => Some(httpdigest::http::request_target(&parts.method, &parts.uri)),
        }
        .unwrap_or_default();
        let mut fields = parts
            .headers
            .get_all(credentials_header(self.side()))
            .iter();
        let authorization = fields.next().map(HeaderValue::as_bytes);
        let several = fields.next().is_some();
        // The authority the request names: the absolute target's, else its `Host`.
        let authority = match parts.uri.authority() {
            Some(authority) => Some(authority.as_str()),
            None => parts
                .headers
                .get(http::header::HOST)
                .and_then(|h| h.to_str().ok()),
        };
        let request = ServerRequest {
            method: parts.method.as_str(),
            target: &target,
            authority,
            authorization,
            body,
        };
        let result = if several {
            Err(Rejection::several_credentials())
        } else {
            self.verifier.verify(
                &request,
                (self.clock)(),
                &*self.credentials,
                &*self.nonce_counts,
                &mut httpdigest::ThreadRng::default(),
            )
        };
        #[cfg(feature = "tracing")]
        if let Err(rejection) = &result {
            refused_event(parts, authorization, rejection);
        }
        result
    }

    /// The answer to a refused request: challenges for a 401 (407), a bare 400 otherwise.
    fn refuse<R: Default>(&self, rejection: &Rejection) -> Response<R> {
        let status = StatusCode::from_u16(rejection.status()).unwrap_or(StatusCode::BAD_REQUEST);
        if !rejection.challenges() {
            return bare(status);
        }
        let Ok(challenges) = self.verifier.challenges(
            (self.clock)(),
            rejection.stale(),
            &mut httpdigest::ThreadRng::default(),
        ) else {
            return bare(StatusCode::INTERNAL_SERVER_ERROR);
        };
        let mut response = bare(status);
        let name = challenge_header(self.side());
        for challenge in challenges {
            if let Ok(value) = HeaderValue::try_from(challenge) {
                response.headers_mut().append(name.clone(), value);
            }
        }
        response
    }

    /// The request to pass on, with the user in its extensions, and the
    /// `Authentication-Info` field for the response.
    fn accept<B>(
        &self,
        parts: http::request::Parts,
        body: B,
        user: Authenticated,
    ) -> (Request<B>, Option<(HeaderName, HeaderValue)>) {
        let info = (!user.authentication_info.is_empty())
            .then(|| HeaderValue::try_from(user.authentication_info.as_str()).ok())
            .flatten()
            .map(|value| (info_header(self.side()), value));
        let mut request = Request::from_parts(parts, body);
        request.extensions_mut().insert(user);
        (request, info)
    }
}

/// One `tracing` event per refusal: its typed reason, the user the credentials name, the
/// source (a `SocketAddr` in the request's extensions, which the server puts there, as the
/// example server does), the method and the target; never a password, a digest or the
/// header. A request without credentials (every client's first) is `debug`, any other
/// refusal `info`.
#[cfg(feature = "tracing")]
fn refused_event(
    parts: &http::request::Parts,
    authorization: Option<&[u8]>,
    rejection: &Rejection,
) {
    use httpdigest::server::Reason;
    let user = authorization
        .and_then(|a| httpdigest::DigestCredentials::parse(a).ok())
        .map(|c| String::from_utf8_lossy(&c.username_bytes()).into_owned());
    let source = parts.extensions.get::<std::net::SocketAddr>();
    let (user, source) = (
        user.as_deref().unwrap_or(""),
        source.map(ToString::to_string),
    );
    let source = source.as_deref().unwrap_or("");
    let reason = rejection.reason();
    if matches!(reason, Reason::MissingCredentials) {
        tracing::debug!(method = %parts.method, uri = %parts.uri, source, reason = ?reason, "digest credentials refused");
    } else {
        tracing::info!(method = %parts.method, uri = %parts.uri, user, source, reason = ?reason, status = rejection.status(), "digest credentials refused");
    }
}

/// The inner service's response, with `Authentication-Info` added.
async fn with_info<F, R, E>(
    future: F,
    info: Option<(HeaderName, HeaderValue)>,
) -> Result<Response<R>, E>
where
    F: Future<Output = Result<Response<R>, E>>,
{
    let mut response = future.await?;
    if let Some((name, value)) = info {
        response.headers_mut().insert(name, value);
    }
    Ok(response)
}

impl<S, B, R> Service<Request<B>> for RequireDigest<S, HeadersOnly>
where
    S: Service<Request<B>, Response = Response<R>>,
    S::Future: Send + 'static,
    S::Error: 'static,
    B: Body + Send + 'static,
    B::Data: Send,
    R: Default + Send + 'static,
{
    type Response = Response<R>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Response<R>, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let (parts, body) = request.into_parts();
        match self.shared.verify(&parts, None) {
            Ok(user) => {
                let (request, info) = self.shared.accept(parts, body, user);
                Box::pin(with_info(self.inner.call(request), info))
            }
            Err(rejection) => {
                let response = self.shared.refuse(&rejection);
                Box::pin(async move { Ok(after_unread_body(response, &parts, body).await) })
            }
        }
    }
}

impl<S, B, R> Service<Request<B>> for RequireDigest<S, AuthIntBody>
where
    S: Service<Request<B>, Response = Response<R>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: 'static,
    B: Body + From<Bytes> + Send + 'static,
    B::Data: Send,
    R: Default + Send + 'static,
{
    type Response = Response<R>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Response<R>, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let (parts, body) = request.into_parts();
        match self.shared.verify(&parts, None) {
            Ok(user) => {
                let (request, info) = self.shared.accept(parts, body, user);
                Box::pin(with_info(self.inner.call(request), info))
            }
            // The core needs the body: read it, then verify again.
            Err(rejection) if rejection.needs_body() => {
                // The ready service goes with the request; a clone takes its place.
                let clone = self.inner.clone();
                let mut inner = std::mem::replace(&mut self.inner, clone);
                let shared = Arc::clone(&self.shared);
                let max = self.mode.max;
                Box::pin(async move {
                    let bytes = match read_body(body, max).await {
                        Ok(bytes) => bytes,
                        Err(status) => return Ok(closing(bare(status))),
                    };
                    match shared.verify(&parts, Some(&bytes)) {
                        Ok(user) => {
                            let (request, info) = shared.accept(parts, B::from(bytes), user);
                            with_info(inner.call(request), info).await
                        }
                        Err(rejection) => Ok(shared.refuse(&rejection)),
                    }
                })
            }
            Err(rejection) => {
                let response = self.shared.refuse(&rejection);
                Box::pin(async move { Ok(after_unread_body(response, &parts, body).await) })
            }
        }
    }
}

/// A refusal sent before the request's body was read. A small body is read and dropped so
/// the connection can carry the client's next request (its answer to the challenge); past
/// [`DRAIN_LIMIT`], or when the client waits for `100 Continue` before sending it, the
/// response says `Connection: close`, so no client reuses a connection whose body is unread.
async fn after_unread_body<B: Body, R>(
    response: Response<R>,
    parts: &http::request::Parts,
    body: B,
) -> Response<R> {
    if body.is_end_stream() {
        return response;
    }
    let expects_continue = parts.headers.contains_key(header::EXPECT);
    if !expects_continue && drain(body, DRAIN_LIMIT).await {
        return response;
    }
    closing(response)
}

fn closing<R>(mut response: Response<R>) -> Response<R> {
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// Reads a whole request body of at most `max` bytes: `413` past that, `400` if it breaks.
async fn read_body<B: Body>(body: B, max: usize) -> Result<Bytes, StatusCode> {
    if body.size_hint().lower() > max as u64 {
        return Err(StatusCode::PAYLOAD_TOO_LARGE);
    }
    let mut body = pin!(body);
    let mut bytes = BytesMut::new();
    while let Some(frame) = poll_fn(|cx| body.as_mut().poll_frame(cx)).await {
        let frame = frame.map_err(|_| StatusCode::BAD_REQUEST)?;
        if let Ok(mut data) = frame.into_data() {
            if bytes.len().saturating_add(data.remaining()) > max {
                return Err(StatusCode::PAYLOAD_TOO_LARGE);
            }
            while data.has_remaining() {
                let chunk = data.chunk();
                bytes.extend_from_slice(chunk);
                let n = chunk.len();
                data.advance(n);
            }
        }
    }
    Ok(bytes.freeze())
}

fn bare<R: Default>(status: StatusCode) -> Response<R> {
    let mut response = Response::new(R::default());
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
    response
}
