//! The server side: [`RequireDigestLayer`] verifies requests with the core's
//! [`Verifier`] before they reach the service it wraps.

use std::fmt;
use std::future::{Future, poll_fn};
use std::net::{IpAddr, SocketAddr};
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::{Buf, Bytes, BytesMut};
use http::{HeaderName, HeaderValue, Method, Request, Response, StatusCode, Uri, header};
use http_body::Body;

use httpdigest::Side;
use httpdigest::http::{
    DEFAULT_MAX_BUFFERED_BODY, DRAIN_LIMIT, challenge_header, credentials_header, info_header,
};

use crate::body::drain;
use crate::limiter::{Admission, Attempt, GuessLimiter, MemoryGuessLimiter};
use crate::stores::{AsyncCredentialStore, AsyncNonceCountStore, StoreError};
use httpdigest::server::{
    Authenticated, BodyRspauth, ConfigError, CredentialStore, Lookup, MemoryNonceCounts,
    NonceCountCheck, Reason, Rejection, ServerRequest, StoredSecret, Verifier,
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
/// - Malformed credentials, or a `uri` that is not the request-target: `400`, its body a
///   line naming the failed check (`bad Digest credentials: uri does not match the
///   request-target`).
/// - Too many failed verifications from the request's source (see [`GuessLimiter`]): `429`
///   with `Retry-After`, before anything is verified.
/// - A store that does not answer ([`StoreError`]): `503` with `Retry-After`; nothing is
///   accepted until it answers again.
/// - Every refusal goes to the operator's hook ([`on_refusal`](Self::on_refusal)) with its
///   typed [`Refusal`] and the request's method, target, source and user name (as sent),
///   and, with the `tracing` feature, into a `tracing` event. The 401 body is one fixed line
///   whatever the reason: an unknown user and a wrong password look the same from outside.
/// - Valid: the request goes on with the [`Authenticated`] user in its extensions
///   (`request.extensions().get::<Authenticated>()`, or axum's `Extension<Authenticated>`),
///   and the response gets `Authentication-Info` (`rspauth`, and `nextnonce` when the nonce
///   nears its end).
///
/// The stores are awaited between the core's verification steps
/// ([`Verification`](httpdigest::server::Verification)): users from an
/// [`AsyncCredentialStore`] (any synchronous `CredentialStore` is one), counts in an
/// [`AsyncNonceCountStore`] ([`nonce_counts`](Self::nonce_counts); in memory by default, in
/// Redis with the `redis` feature), failures in a [`GuessLimiter`]
/// ([`guess_limiter`](Self::guess_limiter); in memory by default).
///
/// ```
/// use httpdigest::server::{Users, Verifier, VerifierConfig};
/// use httpdigest_hyper::RequireDigestLayer;
///
/// let mut users = Users::new("api@example.org");
/// users.insert("alice", "s3cret");
/// let verifier = Verifier::new(VerifierConfig::new(users.realm()), b"32 random bytes, shared by replicas")?;
/// let layer = RequireDigestLayer::new(verifier, users)?;
/// // axum: Router::new().route("/", get(handler)).route_layer(layer)
/// // hyper: ServiceBuilder::new().layer(layer).service(service), then TowerToHyperService
/// # Ok::<(), httpdigest::server::ConfigError>(())
/// ```
///
/// The layer verifies the `uri` of the credentials against the request-target the client
/// sent. Under axum's `Router::nest("/api", ..)` the nested router sees the path without
/// its prefix; axum keeps the original in the `OriginalUri` extension, which the layer
/// reads with the `axum` feature, or through [`with_request_target`](Self::with_request_target)
/// without it.
///
/// `qop=auth-int` needs the request body before the request goes on; see
/// [`with_auth_int`](Self::with_auth_int). Without it, a client answering with `auth-int`
/// gets a `401`.
///
/// The inner service must be `Clone` (axum's `Router` and hyper's `service_fn` are): the
/// ready service goes with each request into the future that verifies it.
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
///
/// The body is read only after the cheap checks: the nonce is authentic, the user was found,
/// and the count is not already used (a read-only look at the count store). For an unknown
/// user, or a used count, it is read and dropped rather than kept, so that the answer still
/// comes after the body, as for a wrong password; on a forged nonce it is not read at all.
///
/// The answer's `rspauth` covers the response body (RFC 7616 §3.5): when the inner
/// service's response body has a known size of at most the limit
/// ([`with_rspauth_body_limit`](RequireDigestLayer::with_rspauth_body_limit), 4 MiB by
/// default), it is read whole and sent on as the same bytes (hence `R: From<Bytes>` on the
/// response body too), with `rspauth` over it. A streamed body, or a larger one, goes on
/// untouched and its `Authentication-Info` has no `rspauth`: a client that requires mutual
/// authentication then refuses it.
#[derive(Debug, Clone, Copy)]
pub struct AuthIntBody {
    max_body: usize,
    rspauth_body_limit: usize,
}

type Clock = dyn Fn() -> u64 + Send + Sync;
type SourceOf = dyn Fn(&http::request::Parts) -> Option<IpAddr> + Send + Sync;
type TargetOf = dyn Fn(&http::request::Parts) -> Option<Uri> + Send + Sync;
type OnRefusal = dyn Fn(&RefusalEvent<'_>) + Send + Sync;

/// The body of every 401 (407): one line, whatever the reason, so that an unknown user and
/// a wrong password look the same.
const CHALLENGE_BODY: &str = "Digest authentication required\n";

/// How long a client is told to wait (`Retry-After`, seconds) when a store is unavailable.
const UNAVAILABLE_RETRY_AFTER: u64 = 2;

#[derive(Clone)]
struct Shared {
    verifier: Verifier,
    credentials: Arc<dyn AsyncCredentialStore>,
    nonce_counts: Arc<dyn AsyncNonceCountStore>,
    limiter: Option<Arc<dyn GuessLimiter>>,
    source: Arc<SourceOf>,
    target: Option<Arc<TargetOf>>,
    on_refusal: Option<Arc<OnRefusal>>,
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
            .field("guess_limiter", &self.shared.limiter.is_some())
            .field("request_target_hook", &self.shared.target.is_some())
            .field("on_refusal", &self.shared.on_refusal.is_some())
            .finish_non_exhaustive()
    }
}

/// The current time in seconds since the Unix epoch (0 if the clock is before it).
fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The default source of a request: the `SocketAddr` in its extensions.
fn peer_address(parts: &http::request::Parts) -> Option<IpAddr> {
    parts.extensions.get::<SocketAddr>().map(SocketAddr::ip)
}

/// The default request-target hook: none without the `axum` feature (the request's own
/// URI is the target); with it, axum's `OriginalUri`, which a `Router::nest` keeps.
fn default_target() -> Option<Arc<TargetOf>> {
    #[cfg(feature = "axum")]
    {
        Some(Arc::new(axum_original_uri))
    }
    #[cfg(not(feature = "axum"))]
    {
        None
    }
}

/// axum's `OriginalUri` extension (feature `axum`): the URI the client sent, before a
/// `Router::nest` stripped its prefix from the request's own. Absent outside axum: the
/// request's URI is used then.
#[cfg(feature = "axum")]
fn axum_original_uri(parts: &http::request::Parts) -> Option<Uri> {
    parts
        .extensions
        .get::<axum::extract::OriginalUri>()
        .map(|original| original.0.clone())
}

/// The [`CredentialStore`] face of an async store, for [`Verifier::for_store`]: what it
/// verifies, never a user.
struct Capabilities<'a>(&'a dyn AsyncCredentialStore);

impl CredentialStore for Capabilities<'_> {
    fn lookup(&self, _: &[u8], _: &str) -> Option<StoredSecret> {
        None
    }

    fn verifies(&self, algorithm: httpdigest::Algorithm) -> bool {
        self.0.verifies(algorithm)
    }

    fn serves_realm(&self, realm: &str) -> bool {
        self.0.serves_realm(realm)
    }
}

impl RequireDigestLayer<HeadersOnly> {
    /// A layer that verifies with `verifier` against the users of `credentials` (a
    /// synchronous store such as `Users` or `Htdigest`, or an [`AsyncCredentialStore`]), with
    /// an in-memory nonce-count store ([`DEFAULT_NONCE_CAPACITY`] nonces), the in-memory
    /// [`MemoryGuessLimiter`] and the system clock.
    ///
    /// The verifier is fitted to the store ([`Verifier::for_store`]): it offers only the
    /// algorithms the store can verify (an htdigest file of MD5 H(A1)s: MD5 only, so that
    /// curl, which prefers SHA-256, is not challenged with what the file cannot check).
    ///
    /// If the verifier offers `auth-int`, use [`with_auth_int`](Self::with_auth_int) too:
    /// this mode cannot see bodies, so an `auth-int` answer gets a 401.
    ///
    /// # Errors
    ///
    /// [`ConfigError::RealmMismatch`] when the store holds no user of the verifier's realm
    /// (a `Users` or htdigest file of another realm), [`ConfigError::NoAlgorithmForStore`]
    /// when it can verify none of the algorithms configured.
    pub fn new(
        verifier: Verifier,
        credentials: impl AsyncCredentialStore + 'static,
    ) -> Result<Self, ConfigError> {
        let verifier = verifier.for_store(&Capabilities(&credentials))?;
        let lifetime = verifier.config().nonce_lifetime;
        Ok(Self {
            shared: Arc::new(Shared {
                verifier,
                credentials: Arc::new(credentials),
                nonce_counts: Arc::new(MemoryNonceCounts::new(DEFAULT_NONCE_CAPACITY, lifetime)),
                limiter: Some(Arc::new(MemoryGuessLimiter::default())),
                source: Arc::new(peer_address),
                target: default_target(),
                on_refusal: None,
                clock: Arc::new(unix_now),
            }),
            mode: HeadersOnly,
        })
    }

    /// Verifies `qop=auth-int` too, reading request bodies of up to `max_body` bytes when the
    /// credentials ask for it (see [`AuthIntBody`]).
    pub fn with_auth_int(self, max_body: usize) -> RequireDigestLayer<AuthIntBody> {
        RequireDigestLayer {
            shared: self.shared,
            mode: AuthIntBody {
                max_body,
                rspauth_body_limit: DEFAULT_MAX_BUFFERED_BODY,
            },
        }
    }
}

impl RequireDigestLayer<AuthIntBody> {
    /// The largest response body that gets `rspauth` after an `auth-int` request (4 MiB by
    /// default): see [`AuthIntBody`].
    #[must_use]
    pub fn with_rspauth_body_limit(mut self, max: usize) -> Self {
        self.mode.rspauth_body_limit = max;
        self
    }
}

impl<M> RequireDigestLayer<M> {
    fn shared_mut(&mut self) -> &mut Shared {
        Arc::make_mut(&mut self.shared)
    }

    /// Where nonce counts are recorded (replay protection): a shared store (the `redis`
    /// feature's, say) lets several instances with the same verifier key accept each other's
    /// nonces safely. Synchronous stores (`MemoryNonceCounts`) are async stores as well.
    #[must_use]
    pub fn with_nonce_counts(mut self, store: impl AsyncNonceCountStore + 'static) -> Self {
        self.shared_mut().nonce_counts = Arc::new(store);
        self
    }

    /// Counts failed verifications with `limiter` instead of the in-memory default (a shared
    /// one across replicas: the `redis` feature's).
    #[must_use]
    pub fn with_guess_limiter(mut self, limiter: impl GuessLimiter + 'static) -> Self {
        self.shared_mut().limiter = Some(Arc::new(limiter));
        self
    }

    /// Turns throttled guessing off (when something in front of the server limits it).
    #[must_use]
    pub fn without_guess_limiter(mut self) -> Self {
        self.shared_mut().limiter = None;
        self
    }

    /// How the layer learns a request's source, for the [`GuessLimiter`] and the
    /// [`RefusalEvent`]: by default the `SocketAddr` in the request's extensions, which the
    /// server puts there (the example server does; axum puts `ConnectInfo<SocketAddr>`
    /// instead, when served `into_make_service_with_connect_info`: read that here). Behind a
    /// reverse proxy, read the address it forwards, from a header only that proxy can set. A
    /// request without a source is not throttled: a limit shared by every unknown source
    /// would let one of them lock the others out.
    #[must_use]
    pub fn with_source(
        mut self,
        source: impl Fn(&http::request::Parts) -> Option<IpAddr> + Send + Sync + 'static,
    ) -> Self {
        self.shared_mut().source = Arc::new(source);
        self
    }

    /// Where the layer finds the request-target the client sent, which the credentials'
    /// `uri` must name: the URI `target` returns, or the request's own when it returns
    /// `None` (the default; with the `axum` feature the default reads axum's `OriginalUri`).
    ///
    /// A router that strips a prefix before the layer sees the request (axum's
    /// `Router::nest`, a path-rewriting layer) makes the request's URI differ from what the
    /// client hashed: every answer would be `400` (`uri does not match the
    /// request-target`). Hand the layer the original here; for axum without the feature:
    ///
    /// ```
    /// # use httpdigest::server::{Users, Verifier, VerifierConfig};
    /// # use httpdigest_hyper::RequireDigestLayer;
    /// # let users = Users::new("api");
    /// # let verifier = Verifier::new(VerifierConfig::new("api"), &[7; 32])?;
    /// use axum::extract::OriginalUri;
    ///
    /// let layer = RequireDigestLayer::new(verifier, users)?.with_request_target(|parts| {
    ///     parts.extensions.get::<OriginalUri>().map(|original| original.0.clone())
    /// });
    /// # Ok::<(), httpdigest::server::ConfigError>(())
    /// ```
    #[must_use]
    pub fn with_request_target(
        mut self,
        target: impl Fn(&http::request::Parts) -> Option<Uri> + Send + Sync + 'static,
    ) -> Self {
        self.shared_mut().target = Some(Arc::new(target));
        self
    }

    /// Calls `hook` for every refused request, with its typed [`Refusal`] and the
    /// request's metadata ([`RefusalEvent`]: method, target, source, the user name as sent),
    /// never a secret: no password, no `response`, no header value. The place for an
    /// operator's log line or metrics; it runs before the answer is sent, so keep it short.
    ///
    /// ```
    /// # use httpdigest::server::{Users, Verifier, VerifierConfig};
    /// use httpdigest_hyper::RequireDigestLayer;
    ///
    /// # let users = Users::new("api");
    /// # let verifier = Verifier::new(VerifierConfig::new("api"), &[7; 32])?;
    /// let layer = RequireDigestLayer::new(verifier, users)?.on_refusal(|event| {
    ///     eprintln!(
    ///         "{} {} {} from {:?} user {:?}: {}",
    ///         event.status, event.method, event.target, event.source, event.username, event.refusal
    ///     );
    /// });
    /// # Ok::<(), httpdigest::server::ConfigError>(())
    /// ```
    #[must_use]
    pub fn on_refusal(mut self, hook: impl Fn(&RefusalEvent<'_>) + Send + Sync + 'static) -> Self {
        self.shared_mut().on_refusal = Some(Arc::new(hook));
        self
    }

    /// The clock, in seconds (the default is the system clock, seconds since the Unix
    /// epoch). Every instance sharing a verifier key must use the same epoch.
    #[must_use]
    pub fn with_clock(mut self, now: impl Fn() -> u64 + Send + Sync + 'static) -> Self {
        self.shared_mut().clock = Arc::new(now);
        self
    }

    /// Renamed [`with_nonce_counts`](Self::with_nonce_counts).
    #[deprecated(note = "renamed with_nonce_counts")]
    #[must_use]
    pub fn nonce_counts(self, store: impl AsyncNonceCountStore + 'static) -> Self {
        self.with_nonce_counts(store)
    }

    /// Renamed [`with_guess_limiter`](Self::with_guess_limiter).
    #[deprecated(note = "renamed with_guess_limiter")]
    #[must_use]
    pub fn guess_limiter(self, limiter: impl GuessLimiter + 'static) -> Self {
        self.with_guess_limiter(limiter)
    }

    /// Renamed [`with_source`](Self::with_source).
    #[deprecated(note = "renamed with_source")]
    #[must_use]
    pub fn source(
        self,
        source: impl Fn(&http::request::Parts) -> Option<IpAddr> + Send + Sync + 'static,
    ) -> Self {
        self.with_source(source)
    }

    /// Renamed [`with_clock`](Self::with_clock).
    #[deprecated(note = "renamed with_clock")]
    #[must_use]
    pub fn clock(self, now: impl Fn() -> u64 + Send + Sync + 'static) -> Self {
        self.with_clock(now)
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

/// Why the layer did not let a request through: what the operator's hook
/// ([`RequireDigestLayer::on_refusal`]) and the `tracing` events are told.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// The verifier refused the credentials: its [`Rejection`] holds the typed
    /// [`Reason`] (unknown user and wrong password differ there, and only there).
    #[error("{0}")]
    Rejected(Rejection),
    /// Too many failures from the source (see [`GuessLimiter`]): `429` with `Retry-After`.
    #[error("too many failed verifications from the source")]
    Throttled {
        /// The seconds the source is told to wait.
        retry_after: u64,
    },
    /// A store did not answer: `503` with `Retry-After`.
    #[error("{0}")]
    StoreUnavailable(StoreError),
    /// An `auth-int` request body over the layer's limit: `413`.
    #[error("the request body is over the auth-int limit")]
    BodyTooLarge,
    /// An `auth-int` request body that broke while it was read: `400`.
    #[error("the request body could not be read")]
    BodyUnreadable,
}

impl Refusal {
    /// The status of the answer: the rejection's (400, 401, 407), 429, 503, 413, 400.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Rejected(rejection) => {
                StatusCode::from_u16(rejection.status()).unwrap_or(StatusCode::BAD_REQUEST)
            }
            Self::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::StoreUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::BodyUnreadable => StatusCode::BAD_REQUEST,
        }
    }

    /// The verifier's reason, for a [`Rejected`](Self::Rejected) request.
    pub fn reason(&self) -> Option<&Reason> {
        match self {
            Self::Rejected(rejection) => Some(rejection.reason()),
            _ => None,
        }
    }
}

impl From<Rejection> for Refusal {
    fn from(rejection: Rejection) -> Self {
        Self::Rejected(rejection)
    }
}

impl From<StoreError> for Refusal {
    fn from(error: StoreError) -> Self {
        Self::StoreUnavailable(error)
    }
}

/// A refused request, as the operator's hook sees it ([`RequireDigestLayer::on_refusal`]):
/// the typed refusal and the request's metadata, never a secret (no password, no
/// `response`, no `cnonce`, no header value).
#[derive(Debug)]
#[non_exhaustive]
pub struct RefusalEvent<'a> {
    /// Why.
    pub refusal: &'a Refusal,
    /// The status answered.
    pub status: StatusCode,
    /// The request's method.
    pub method: &'a Method,
    /// The request-target the credentials were checked against: what the client sent
    /// (see [`RequireDigestLayer::with_request_target`]).
    pub target: &'a str,
    /// The source the [`GuessLimiter`] counts (see [`RequireDigestLayer::with_source`]).
    pub source: Option<IpAddr>,
    /// The peer's address, when the server put its `SocketAddr` into the request's
    /// extensions (the example server does).
    pub peer: Option<SocketAddr>,
    /// The user name as the credentials carry it (`username`, decoded `username*`, or the
    /// hex userhash; bytes that are not UTF-8 read as ISO-8859-1), or `None` without
    /// Digest credentials that parse.
    pub username: Option<&'a str>,
}

/// What became of the request body while verifying.
enum Passed<B> {
    /// Not touched: it goes on (or is drained) as it came.
    Untouched(B),
    /// Read whole, for `auth-int`.
    Read(Bytes),
    /// Read and dropped (an `auth-int` request refused before its body was worth keeping).
    Consumed,
}

/// The authority the request names: the absolute target's, else its `Host`.
fn authority<'p>(parts: &'p http::request::Parts, uri: &'p Uri) -> Option<&'p str> {
    match uri.authority() {
        Some(authority) => Some(authority.as_str()),
        None => parts
            .headers
            .get(http::header::HOST)
            .and_then(|h| h.to_str().ok()),
    }
}

impl Shared {
    /// The side the verifier answers for: origin or proxy.
    fn side(&self) -> Side {
        self.verifier.config().side
    }

    /// Verifies the request's credentials: the core's steps, with the stores awaited in
    /// between. With `read_body` (the `auth-int` mode's limit), an `auth-int` body is read
    /// after the cheap checks, and kept only for a known user on a count not seen before.
    async fn verify<B: Body>(
        &self,
        parts: &http::request::Parts,
        body: B,
        read_body: Option<usize>,
    ) -> (Result<Authenticated, Refusal>, Passed<B>) {
        let mut passed = Passed::Untouched(body);
        let original = self.target.as_ref().and_then(|target| target(parts));
        let uri = original.as_ref().unwrap_or(&parts.uri);
        let target = match uri.scheme() {
            Some(_) => httpdigest::http::absolute_target(uri).map(std::borrow::Cow::Owned),
            None => Some(httpdigest::http::request_target(&parts.method, uri)),
        }
        .unwrap_or_default();
        let result = self
            .verify_steps(parts, uri, &target, &mut passed, read_body)
            .await;
        if let Err(refusal) = &result {
            self.report(parts, &target, refusal);
        }
        (result, passed)
    }

    /// Tells the operator's hook and `tracing` (feature) of a refusal.
    fn report(&self, parts: &http::request::Parts, target: &str, refusal: &Refusal) {
        if self.on_refusal.is_none() && !cfg!(feature = "tracing") {
            return;
        }
        let username = self
            .credentials_field(parts)
            .0
            .and_then(|a| httpdigest::DigestCredentials::parse(a).ok())
            .map(|c| latin1_or_utf8(&c.username_bytes()));
        let event = RefusalEvent {
            refusal,
            status: refusal.status(),
            method: &parts.method,
            target,
            source: (self.source)(parts),
            peer: parts.extensions.get::<SocketAddr>().copied(),
            username: username.as_deref(),
        };
        if let Some(hook) = &self.on_refusal {
            hook(&event);
        }
        #[cfg(feature = "tracing")]
        refused_event(&event);
    }

    /// The request's credentials field, and whether there are several.
    fn credentials_field<'p>(&self, parts: &'p http::request::Parts) -> (Option<&'p [u8]>, bool) {
        let mut fields = parts
            .headers
            .get_all(credentials_header(self.side()))
            .iter();
        let first = fields.next().map(HeaderValue::as_bytes);
        (first, fields.next().is_some())
    }

    async fn verify_steps<B: Body>(
        &self,
        parts: &http::request::Parts,
        uri: &Uri,
        target: &str,
        passed: &mut Passed<B>,
        read_body: Option<usize>,
    ) -> Result<Authenticated, Refusal> {
        let (authorization, several) = self.credentials_field(parts);
        if several {
            return Err(Rejection::several_credentials().into());
        }
        let request = ServerRequest {
            method: parts.method.as_str(),
            target,
            authority: authority(parts, uri),
            authorization,
            body: None,
        };
        let now = (self.clock)();
        let verification = self.verifier.begin(&request, now)?;

        // Throttled guessing: a source over its limits is refused before any work.
        let guesser =
            (self.limiter.as_deref())
                .zip((self.source)(parts))
                .map(|(limiter, source)| {
                    let user = match verification.lookup() {
                        Lookup::Name(name) => name.to_vec(),
                        Lookup::Userhash { userhash, .. } => userhash.to_vec(),
                    };
                    (limiter, user, source)
                });
        if let Some((limiter, user, source)) = &guesser {
            let attempt = Attempt {
                user,
                source: *source,
            };
            if let Admission::Throttle { retry_after } = limiter.admit(attempt, now).await? {
                return Err(Refusal::Throttled { retry_after });
            }
        }

        let realm = &self.verifier.config().realm;
        let user = self.credentials.find(verification.lookup(), realm).await?;
        let mut body = None;
        if let (true, Some(max)) = (verification.needs_body(), read_body) {
            // Cheap checks first: for an unknown user, or a count already used, the body is
            // read and dropped, never kept, and the answer still comes after it, as for a
            // wrong password.
            let used = match (&user, verification.nonce_count()) {
                (Some(user), Some(count)) => {
                    let name = verification.counted_name(user);
                    self.nonce_counts.seen(count, name, now).await? == NonceCountCheck::Replayed
                }
                _ => false,
            };
            let keep = user.is_some() && !used;
            let Passed::Untouched(unread) = std::mem::replace(passed, Passed::Consumed) else {
                // The body is read once, here: it cannot have been taken before.
                return Err(Refusal::BodyUnreadable);
            };
            let bytes = read_whole(unread, max, keep)
                .await
                .map_err(|status| match status {
                    StatusCode::PAYLOAD_TOO_LARGE => Refusal::BodyTooLarge,
                    _ => Refusal::BodyUnreadable,
                })?;
            if used {
                return Err(verification.replayed().into());
            }
            if keep {
                *passed = Passed::Read(bytes.clone());
            }
            body = Some(bytes);
        }
        let proven = match verification.prove(user, body.as_deref()) {
            Ok(proven) => proven,
            Err(rejection) => {
                // A stored H(A1) of another hash (`StoredHashMismatch`) is the server's
                // configuration, not a guess: a client stuck on it is not throttled.
                let guess = matches!(
                    rejection.reason(),
                    Reason::WrongPassword | Reason::UnknownUser
                );
                if let (true, Some((limiter, user, source))) = (guess, &guesser) {
                    let attempt = Attempt {
                        user,
                        source: *source,
                    };
                    limiter.failed(attempt, now).await?;
                }
                return Err(rejection.into());
            }
        };
        let recorded = match proven.nonce_count() {
            Some(count) => self.nonce_counts.record(count, proven.user(), now).await?,
            None => NonceCountCheck::Fresh,
        };
        Ok(proven.finish(recorded, &mut httpdigest::ThreadRng::default())?)
    }

    /// The answer to a refused request: challenges for a 401 (407), `429` or `503` with
    /// `Retry-After`, a 400 whose body names the failed check, a 413. Every body is one line
    /// of text; a 401's is the same whatever the reason.
    fn refuse<R: From<Bytes>>(&self, refusal: &Refusal) -> Response<R> {
        let status = refusal.status();
        let rejection = match refusal {
            Refusal::Rejected(rejection) => rejection,
            Refusal::Throttled {
                retry_after: seconds,
            } => {
                return retry_after(
                    status,
                    *seconds,
                    "too many failed attempts; try again later\n",
                );
            }
            Refusal::StoreUnavailable(_) => {
                return retry_after(
                    status,
                    UNAVAILABLE_RETRY_AFTER,
                    "authentication is unavailable; try again later\n",
                );
            }
            Refusal::BodyTooLarge => {
                return closing(text(status, "the request body is too large for auth-int\n"));
            }
            Refusal::BodyUnreadable => {
                return closing(text(status, "the request body could not be read\n"));
            }
        };
        if !rejection.challenges() {
            // A 400 says which check failed: the client's (or its integrator's) bug, nothing
            // about the user or the password.
            return text(
                status,
                format!("bad Digest credentials: {}\n", rejection.reason()),
            );
        }
        let Ok(challenges) = self.verifier.challenges(
            (self.clock)(),
            rejection.stale(),
            &mut httpdigest::ThreadRng::default(),
        ) else {
            return internal_error();
        };
        let mut response = text(status, CHALLENGE_BODY);
        let name = challenge_header(self.side());
        for challenge in challenges {
            if let Ok(value) = HeaderValue::try_from(challenge) {
                response.headers_mut().append(name.clone(), value);
            }
        }
        response
    }

    /// The request to pass on, with the user in its extensions, and the
    /// `Authentication-Info` field for the response (for `auth-int`, what makes it from
    /// the response body).
    fn accept<B>(
        &self,
        parts: http::request::Parts,
        body: B,
        mut user: Authenticated,
    ) -> (Request<B>, Info) {
        // H(A1) stays out of the handlers' reach.
        let body_rspauth = user.body_rspauth.take();
        let field = (!user.authentication_info.is_empty())
            .then(|| HeaderValue::try_from(user.authentication_info.as_str()).ok())
            .flatten();
        let info = Info {
            name: info_header(self.side()),
            field,
            body_rspauth,
        };
        let mut request = Request::from_parts(parts, body);
        request.extensions_mut().insert(user);
        (request, info)
    }
}

/// The `Authentication-Info` of an accepted request.
struct Info {
    name: HeaderName,
    /// The field as the core made it (for `auth-int`, without `rspauth`).
    field: Option<HeaderValue>,
    /// For `auth-int`: the field with `rspauth` over the response body.
    body_rspauth: Option<BodyRspauth>,
}

/// One `tracing` event per refusal: its typed reason, the user the credentials name, the
/// source (what the layer's `with_source` hook says, the address the guess limiter counts;
/// with the port when it is the peer's `SocketAddr` in the request's extensions, which the
/// server puts there, as the example server does), the method and the target; never a
/// password, a digest or the header. A request without credentials (every client's first)
/// is `debug`, a store that did not answer `warn`, any other refusal `info`.
#[cfg(feature = "tracing")]
fn refused_event(event: &RefusalEvent<'_>) {
    let source = match (event.source, event.peer) {
        (Some(ip), Some(peer)) if peer.ip() == ip => Some(peer.to_string()),
        (Some(ip), _) => Some(ip.to_string()),
        (None, peer) => peer.map(|p| p.to_string()),
    };
    let user = event.username.unwrap_or("");
    let source = source.as_deref().unwrap_or("");
    let (method, uri, status) = (event.method, event.target, event.status.as_u16());
    match event.refusal {
        Refusal::Rejected(rejection)
            if matches!(rejection.reason(), Reason::MissingCredentials) =>
        {
            tracing::debug!(%method, %uri, source, reason = ?rejection.reason(), "digest credentials refused");
        }
        Refusal::Rejected(rejection) => {
            tracing::info!(%method, %uri, user, source, reason = ?rejection.reason(), status, "digest credentials refused");
        }
        Refusal::Throttled { retry_after } => {
            tracing::info!(%method, %uri, user, source, reason = "TooManyFailures", retry_after, status, "digest credentials refused");
        }
        Refusal::StoreUnavailable(error) => {
            tracing::warn!(%method, %uri, user, source, reason = "StoreUnavailable", %error, status, "digest credentials refused");
        }
        Refusal::BodyTooLarge | Refusal::BodyUnreadable => {
            tracing::info!(%method, %uri, user, source, reason = "Body", status, "digest credentials refused");
        }
    }
}

/// A user name's bytes as text: UTF-8, or else ISO-8859-1 (as the verifier reads it).
fn latin1_or_utf8(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => bytes.iter().map(|&b| char::from(b)).collect(),
    }
}

/// The inner service's response, with `Authentication-Info` added.
async fn with_info<F, R, E>(future: F, info: Info) -> Result<Response<R>, E>
where
    F: Future<Output = Result<Response<R>, E>>,
{
    Ok(add_info(future.await?, info))
}

/// `response` with the `Authentication-Info` field the core made.
fn add_info<R>(mut response: Response<R>, info: Info) -> Response<R> {
    if let Some(value) = info.field {
        response.headers_mut().insert(info.name, value);
    }
    response
}

/// The inner service's response to an `auth-int` request, with `Authentication-Info`: with
/// `rspauth` over the body when the body's size is known and at most `max` (it is read
/// whole then, and handed on as the same bytes), without it otherwise (a streamed body goes
/// on untouched).
async fn with_body_info<F, R, E>(future: F, info: Info, max: usize) -> Result<Response<R>, E>
where
    F: Future<Output = Result<Response<R>, E>>,
    R: Body + From<Bytes>,
{
    let response = future.await?;
    let Some(body_rspauth) = &info.body_rspauth else {
        return Ok(add_info(response, info));
    };
    let known_size = response.body().size_hint().exact();
    if known_size.is_none_or(|size| size > max as u64) {
        return Ok(add_info(response, info));
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = read_whole(body, max, true).await else {
        // The handler's body broke: nothing to prove, nothing to send.
        return Ok(internal_error());
    };
    if let Ok(value) = HeaderValue::try_from(body_rspauth.authentication_info(&bytes)) {
        parts.headers.insert(info.name, value);
    }
    Ok(Response::from_parts(parts, R::from(bytes)))
}

impl<S, B, R> Service<Request<B>> for RequireDigest<S, HeadersOnly>
where
    S: Service<Request<B>, Response = Response<R>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: 'static,
    B: Body + Send + 'static,
    B::Data: Send,
    R: From<Bytes> + Send + 'static,
{
    type Response = Response<R>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Response<R>, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        // The ready service goes with the request; a clone takes its place.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let shared = Arc::clone(&self.shared);
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let (result, passed) = shared.verify(&parts, body, None).await;
            let Passed::Untouched(body) = passed else {
                // Without a body limit the core's steps never read the body.
                return Ok(internal_error());
            };
            match result {
                Ok(user) => {
                    let (request, info) = shared.accept(parts, body, user);
                    with_info(inner.call(request), info).await
                }
                Err(refusal) => {
                    let response = shared.refuse(&refusal);
                    Ok(after_unread_body(response, &parts, body).await)
                }
            }
        })
    }
}

impl<S, B, R> Service<Request<B>> for RequireDigest<S, AuthIntBody>
where
    S: Service<Request<B>, Response = Response<R>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: 'static,
    B: Body + From<Bytes> + Send + 'static,
    B::Data: Send,
    R: Body + From<Bytes> + Send + 'static,
{
    type Response = Response<R>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Response<R>, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        // The ready service goes with the request; a clone takes its place.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let shared = Arc::clone(&self.shared);
        let AuthIntBody {
            max_body: max,
            rspauth_body_limit: max_response,
        } = self.mode;
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let (result, passed) = shared.verify(&parts, body, Some(max)).await;
            match (result, passed) {
                (Ok(user), Passed::Untouched(body)) => {
                    let (request, info) = shared.accept(parts, body, user);
                    with_info(inner.call(request), info).await
                }
                (Ok(user), Passed::Read(bytes)) => {
                    let (request, info) = shared.accept(parts, B::from(bytes), user);
                    with_body_info(inner.call(request), info, max_response).await
                }
                (Ok(_), Passed::Consumed) => Ok(internal_error()),
                (Err(refusal), Passed::Untouched(body)) => {
                    let response = shared.refuse(&refusal);
                    Ok(after_unread_body(response, &parts, body).await)
                }
                (Err(refusal), _) => Ok(shared.refuse(&refusal)),
            }
        })
    }
}

/// A response with `Retry-After` and a line of text.
fn retry_after<R: From<Bytes>>(
    status: StatusCode,
    seconds: u64,
    line: &'static str,
) -> Response<R> {
    let mut response = text(status, line);
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    response
}

/// A refusal sent before the request's body was read. A small body is read and dropped so
/// the connection can carry the client's next request (its answer to the challenge); past
/// [`DRAIN_LIMIT`], or when the client waits for `100 Continue` before sending it, the
/// response says `Connection: close`, so no client reuses a connection whose body is unread.
/// A body declared larger than that (its `Content-Length`) is not read at all: the refusal
/// goes at once, not after whatever of the body the client chooses to send (an attacker's
/// upload on a forged nonce, stalled half-way, would hold the answer for ever).
async fn after_unread_body<B: Body, R>(
    response: Response<R>,
    parts: &http::request::Parts,
    body: B,
) -> Response<R> {
    if body.is_end_stream() {
        return response;
    }
    let expects_continue = parts.headers.contains_key(header::EXPECT);
    let too_large = body.size_hint().lower() > DRAIN_LIMIT as u64;
    if !expects_continue && !too_large && drain(body, DRAIN_LIMIT).await {
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

/// Reads a whole body of at most `max` bytes, keeping it or not: `413` past that, `400` if
/// it breaks.
async fn read_whole<B: Body>(body: B, max: usize, keep: bool) -> Result<Bytes, StatusCode> {
    if body.size_hint().lower() > max as u64 {
        return Err(StatusCode::PAYLOAD_TOO_LARGE);
    }
    let mut body = pin!(body);
    let mut bytes = BytesMut::new();
    let mut read = 0usize;
    while let Some(frame) = poll_fn(|cx| body.as_mut().poll_frame(cx)).await {
        let frame = frame.map_err(|_| StatusCode::BAD_REQUEST)?;
        if let Ok(mut data) = frame.into_data() {
            read = read.saturating_add(data.remaining());
            if read > max {
                return Err(StatusCode::PAYLOAD_TOO_LARGE);
            }
            while data.has_remaining() {
                let chunk = data.chunk();
                if keep {
                    bytes.extend_from_slice(chunk);
                }
                let n = chunk.len();
                data.advance(n);
            }
        }
    }
    Ok(bytes.freeze())
}

/// A response whose body is `line` (plain text).
fn text<R: From<Bytes>>(status: StatusCode, line: impl Into<Bytes>) -> Response<R> {
    let line = line.into();
    let length = HeaderValue::from(line.len());
    let mut response = Response::new(R::from(line));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_LENGTH, length);
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// The answer when the layer itself failed (a state its steps cannot reach).
fn internal_error<R: From<Bytes>>() -> Response<R> {
    text(StatusCode::INTERNAL_SERVER_ERROR, "internal error\n")
}
