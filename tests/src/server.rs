//! The in-process Digest test server of every adapter test and of the hermetic end-to-end
//! tests: hyper serving the project's own `RequireDigestLayer` (the core `Verifier` behind
//! it), as an origin (401, `WWW-Authenticate`) or as a forward proxy (407,
//! `Proxy-Authenticate`, absolute-form targets answered by the proxy itself).
//!
//! Every request is recorded in front of the layer as a [`Seen`]: its method, target, every
//! header, the body bytes read before the answer, the answer's status and headers, the user
//! the layer authenticated, and, for a refusal, why the verifier refused it. What the layer
//! let through is recorded again behind it ([`TestServer::take_accepted`]). The clock is
//! the test's ([`TestServer::advance`]); nonce counts are checked strictly unless
//! [`Spec::lenient_nc`] says otherwise.
//!
//! Routes: paths under `/open/` are not protected; a path given a redirect
//! ([`Spec::redirect`], [`TestServer::redirect`]) answers `302 Location: ...` (behind the
//! layer unless under `/open/`); `/open/status/NNN` answers status NNN (body `status NNN`);
//! every other path answers 200 with the user's name, and
//! `x-body-len` and `x-body-fnv` ([`fnv`]) saying what body arrived. The first
//! [`Spec::unavailable_first`] authenticated requests get 503 instead.
//!
//! The server listens on 127.0.0.1 and, on the same port where it can, on `[::1]`, so that
//! `localhost` names it whichever way it resolves. Servers run on a runtime of their own,
//! so blocking tests and `#[tokio::test]`s start them alike.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::{Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{HeaderMap, HeaderName, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full};
use httpdigest::server::{
    Authenticated, NonceCountCheck, NonceCountStore, ServerRequest, Users, Verifier, VerifierConfig,
};
use httpdigest::{Algorithm, NonceCount, Qop, QopOptions};
use httpdigest_hyper::{DigestBody, RequireDigestLayer};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tower::util::BoxCloneSyncService;
use tower::{Layer, ServiceExt, service_fn};

pub use crate::headers::fnv;

/// The user every server knows by default.
pub const USER: &str = "alice";
/// [`USER`]'s password.
pub const PASSWORD: &str = "s3cret";
/// The realm of every server unless its [`Spec`] says otherwise.
pub const REALM: &str = "test@httpdigest";
/// The test clock starts here (seconds; any epoch does, this is late 2023).
pub const T0: u64 = 1_700_000_000;

/// What a test server offers and how its handler answers. [`Spec::new`]: an origin, realm
/// [`REALM`], user [`USER`] / [`PASSWORD`], the verifier's defaults (SHA-256 then MD5,
/// `qop=auth`, nonces valid 300 s), headers only (no `auth-int`), strict nonce counts.
#[derive(Debug, Clone)]
pub struct Spec {
    /// The verifier's configuration.
    pub config: VerifierConfig,
    /// (name, password) pairs.
    pub users: Vec<(String, String)>,
    /// The host name in the server's URLs: `127.0.0.1` or `localhost`.
    pub host: &'static str,
    /// A forward proxy's authentication (407) instead of an origin's (401).
    pub proxy: bool,
    /// Verify `auth-int`, reading bodies of up to this many bytes (`None`: headers only).
    pub auth_int_max: Option<usize>,
    /// Refuse a nonce count not above one already seen with its nonce.
    pub strict_nc: bool,
    /// Paths answering `302 Location: <location>`.
    pub redirects: Vec<(String, String)>,
    /// How many authenticated requests get 503 before the others get 200.
    pub unavailable_first: usize,
}

impl Default for Spec {
    fn default() -> Self {
        Self::new()
    }
}

impl Spec {
    /// The defaults above.
    pub fn new() -> Self {
        Self {
            config: VerifierConfig::new(REALM).with_nonce_lifetime(300),
            users: vec![(USER.to_owned(), PASSWORD.to_owned())],
            host: "127.0.0.1",
            proxy: false,
            auth_int_max: None,
            strict_nc: true,
            redirects: Vec::new(),
            unavailable_first: 0,
        }
    }

    /// The verifier's configuration, whole (its realm is the users' realm).
    pub fn config(mut self, config: VerifierConfig) -> Self {
        self.config = config;
        self
    }

    /// One challenge per algorithm, in this order.
    pub fn algorithms(mut self, algorithms: impl IntoIterator<Item = Algorithm>) -> Self {
        self.config = self.config.with_algorithms(algorithms);
        self
    }

    /// The qop options offered; `auth-int` is verified (bodies up to 1 MiB) when offered.
    pub fn qop(mut self, qop: QopOptions) -> Self {
        self.config = self.config.with_qop(qop);
        if qop.contains(Qop::AuthInt) && self.auth_int_max.is_none() {
            self.auth_int_max = Some(1 << 20);
        }
        self
    }

    /// Seconds of server clock a nonce stays valid.
    pub fn nonce_lifetime(mut self, seconds: u64) -> Self {
        self.config = self.config.with_nonce_lifetime(seconds);
        self
    }

    /// The users, replacing [`USER`].
    pub fn users<'a>(mut self, users: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        self.users = users
            .into_iter()
            .map(|(n, p)| (n.to_owned(), p.to_owned()))
            .collect();
        self
    }

    /// The host name in the server's URLs.
    pub fn host(mut self, host: &'static str) -> Self {
        self.host = host;
        self
    }

    /// A forward proxy.
    pub fn proxy(mut self) -> Self {
        self.proxy = true;
        self
    }

    /// Every nonce count is accepted (no replay check).
    pub fn lenient_nc(mut self) -> Self {
        self.strict_nc = false;
        self
    }

    /// `path` answers `302 Location: location`.
    pub fn redirect(mut self, path: &str, location: impl Into<String>) -> Self {
        self.redirects.push((path.to_owned(), location.into()));
        self
    }

    /// The first `n` authenticated requests get 503.
    pub fn unavailable_first(mut self, n: usize) -> Self {
        self.unavailable_first = n;
        self
    }

    /// Starts a server with this spec.
    pub fn start(self) -> TestServer {
        TestServer::start(self)
    }
}

/// One request as it reached the server, in front of the Digest layer, and its answer.
#[derive(Debug, Clone)]
pub struct Seen {
    /// The method.
    pub method: String,
    /// The request-target as hyper parsed it (absolute form through a proxy).
    pub uri: String,
    /// Every header, names in lower case, values as lossy UTF-8, in order.
    pub headers: Vec<(String, String)>,
    /// The body bytes read before the answer (all of them for a body the handler got, or
    /// one the layer drained on refusing it).
    pub body: Vec<u8>,
    /// `Authorization` (`Proxy-Authorization` for a proxy), if any.
    pub credentials: Option<String>,
    /// The answer's status.
    pub status: u16,
    /// The answer's headers, as [`Seen::headers`].
    pub response_headers: Vec<(String, String)>,
    /// The answer's `WWW-Authenticate` (`Proxy-Authenticate`) values.
    pub challenges: Vec<String>,
    /// The user the layer authenticated, if it did.
    pub user: Option<String>,
    /// Why the verifier refused the credentials (its `Reason`, as `Debug`), for a refusal.
    pub rejection: Option<String>,
    /// Which TCP connection carried it: 1 for the first accepted, and so on.
    pub connection: usize,
}

impl Seen {
    /// The first value of the header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The `Host` header.
    pub fn host(&self) -> &str {
        self.header("host").unwrap_or_default()
    }

    /// The first value of the answer's header `name` (lower case).
    pub fn response_header(&self, name: &str) -> Option<&str> {
        self.response_headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The parameters of the credentials (panics without any).
    pub fn params(&self) -> HashMap<String, String> {
        let credentials = self
            .credentials
            .as_deref()
            .unwrap_or_else(|| panic!("no credentials on {self:?}"));
        crate::headers::params(credentials)
    }

    /// The `nc` of the credentials, if any.
    pub fn nc(&self) -> Option<u32> {
        self.credentials.as_deref().map(crate::headers::nc_of)
    }

    /// What in this request came from the credentials: an `Authorization` or
    /// `Proxy-Authorization` header, or any of `secrets` in the target or a header value.
    pub fn leaks(&self, secrets: &[&str]) -> Vec<String> {
        let mut found = Vec::new();
        for (name, value) in &self.headers {
            if name == "authorization" || name == "proxy-authorization" {
                found.push(format!("{name}: {value}"));
            } else if secrets.iter().any(|s| value.contains(s)) {
                found.push(format!("{name}: {value} (holds a secret)"));
            }
        }
        if secrets.iter().any(|s| self.uri.contains(s)) {
            found.push(format!("target {} (holds a secret)", self.uri));
        }
        found
    }
}

/// The statuses of `seen`, in order.
pub fn statuses(seen: &[Seen]) -> Vec<u16> {
    seen.iter().map(|s| s.status).collect()
}

/// Two origins for a redirect out of scope: A, whose `/start` answers (behind the Digest
/// layer) `302` to `/x` on B, and B, named `localhost` in that location. Returns A, B and
/// the location.
pub fn redirect_to_another_origin() -> (TestServer, TestServer, String) {
    let b = Spec::new().start();
    let location = b.url_as("localhost", "/x");
    let a = Spec::new().redirect("/start", location.clone()).start();
    (a, b, location)
}

/// What B of [`redirect_to_another_origin`] saw since the last look: one request, to `/x`,
/// challenged, without credentials.
pub fn assert_challenged_once_without_credentials(b: &TestServer) {
    let at_b = b.take_seen();
    assert_eq!(statuses(&at_b), [401], "{at_b:?}");
    assert_eq!(at_b[0].uri, "/x");
    assert!(
        at_b[0].credentials.is_none(),
        "credentials leaked to B: {at_b:?}"
    );
    assert!(b.take_accepted().is_empty());
}

/// A running test server; stops accepting connections when dropped.
pub struct TestServer {
    addr: SocketAddr,
    host: &'static str,
    clock: Arc<AtomicU64>,
    state: Arc<State>,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl std::fmt::Debug for TestServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestServer")
            .field("addr", &self.addr)
            .field("host", &self.host)
            .finish_non_exhaustive()
    }
}

/// What the recorder, the handler and the test share.
struct State {
    seen: Mutex<Vec<Seen>>,
    /// Credentials of every request the layer let through.
    accepted: Mutex<Vec<String>>,
    redirects: Mutex<HashMap<String, String>>,
    unavailable_left: AtomicUsize,
    connections: AtomicUsize,
    credentials: HeaderName,
    challenge: HeaderName,
}

/// The request body as the layer and the handler see it: the bytes read are kept for the
/// record.
type Teed = DigestBody<Tee>;
type Inner = BoxCloneSyncService<Request<Teed>, Response<Full<Bytes>>, Infallible>;

/// The runtime every test server (and every [`crate::strict`] server) runs on.
pub(crate) fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("test-server")
            .enable_all()
            .build()
            .unwrap()
    })
}

impl TestServer {
    /// Starts a server on 127.0.0.1 (an OS-chosen port), and `[::1]` on the same port where
    /// it can.
    pub fn start(spec: Spec) -> Self {
        let clock = Arc::new(AtomicU64::new(T0));
        let (credentials, challenge) = if spec.proxy {
            (header::PROXY_AUTHORIZATION, header::PROXY_AUTHENTICATE)
        } else {
            (header::AUTHORIZATION, header::WWW_AUTHENTICATE)
        };
        let state = Arc::new(State {
            seen: Mutex::new(Vec::new()),
            accepted: Mutex::new(Vec::new()),
            redirects: Mutex::new(spec.redirects.iter().cloned().collect()),
            unavailable_left: AtomicUsize::new(spec.unavailable_first),
            connections: AtomicUsize::new(0),
            credentials,
            challenge,
        });

        let mut key = [0u8; 32];
        getrandom::fill(&mut key).unwrap();
        let realm = spec.config.realm.clone();
        let users = || {
            let mut users = Users::new(realm.clone());
            for (name, password) in &spec.users {
                users.insert(name.clone(), password.clone());
            }
            users
        };
        let read_clock = Arc::clone(&clock);
        let mut layer =
            RequireDigestLayer::new(Verifier::new(spec.config.clone(), &key).unwrap(), users())
                .unwrap()
                .with_clock(move || read_clock.load(Ordering::SeqCst));
        if spec.proxy {
            layer = layer.for_proxy();
        }
        if !spec.strict_nc {
            layer = layer.with_nonce_counts(AnyCount);
        }
        let handler = Inner::new(service_fn({
            let state = Arc::clone(&state);
            move |request| handle(request, Arc::clone(&state))
        }));
        let protected = match spec.auth_int_max {
            Some(max) => Inner::new(layer.clone().with_auth_int(max).layer(handler.clone())),
            None => Inner::new(layer.layer(handler.clone())),
        };
        let diagnosis = Arc::new(Diagnosis {
            verifier: Verifier::new(spec.config.clone(), &key).unwrap(),
            users: users(),
            clock: Arc::clone(&clock),
            credentials: state.credentials.clone(),
        });

        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = std_listener.local_addr().unwrap();
        let mut listeners = vec![std_listener];
        if let Ok(v6) = std::net::TcpListener::bind((Ipv6Addr::LOCALHOST, addr.port())) {
            listeners.push(v6);
        }
        let tasks = listeners
            .into_iter()
            .map(|listener| {
                listener.set_nonblocking(true).unwrap();
                let state = Arc::clone(&state);
                let (open, protected) = (handler.clone(), protected.clone());
                let diagnosis = Arc::clone(&diagnosis);
                runtime().spawn(async move {
                    let listener = TcpListener::from_std(listener).unwrap();
                    serve_http1(listener, move || {
                        let connection = state.connections.fetch_add(1, Ordering::SeqCst) + 1;
                        let (state, open, protected) =
                            (Arc::clone(&state), open.clone(), protected.clone());
                        let diagnosis = Arc::clone(&diagnosis);
                        service_fn(move |request| {
                            record(
                                request,
                                connection,
                                Arc::clone(&state),
                                open.clone(),
                                protected.clone(),
                                Arc::clone(&diagnosis),
                            )
                        })
                    })
                    .await;
                })
            })
            .collect();
        Self {
            addr,
            host: spec.host,
            clock,
            state,
            tasks,
        }
    }

    /// The address (127.0.0.1 and the port).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The server's origin: `http://HOST:PORT`.
    pub fn origin(&self) -> String {
        format!("http://{}:{}", self.host, self.port())
    }

    /// The URL of `path` on this server.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.origin())
    }

    /// The URL of `path` on this server named by another host name (another origin).
    pub fn url_as(&self, host: &str, path: &str) -> String {
        format!("http://{host}:{}{path}", self.port())
    }

    /// Moves the server's clock forward (to make nonces stale without sleeping).
    pub fn advance(&self, seconds: u64) {
        self.clock.fetch_add(seconds, Ordering::SeqCst);
    }

    /// `path` answers `302 Location: location` from now on.
    pub fn redirect(&self, path: &str, location: &str) {
        self.state
            .redirects
            .lock()
            .unwrap()
            .insert(path.to_owned(), location.to_owned());
    }

    /// Every request so far, in the order answered.
    pub fn seen(&self) -> Vec<Seen> {
        self.state.seen.lock().unwrap().clone()
    }

    /// Every request since the last call, in the order answered.
    pub fn take_seen(&self) -> Vec<Seen> {
        std::mem::take(&mut *self.state.seen.lock().unwrap())
    }

    /// The credentials of every request the layer let through since the last call.
    pub fn take_accepted(&self) -> Vec<String> {
        std::mem::take(&mut *self.state.accepted.lock().unwrap())
    }

    /// How many TCP connections were accepted.
    pub fn connections(&self) -> usize {
        self.state.connections.load(Ordering::SeqCst)
    }
}

/// Accepts every nonce count (strict checking off).
struct AnyCount;

impl NonceCountStore for AnyCount {
    fn record(&self, _: &[u8], _: &[u8], _: u64, _: NonceCount, _: u64) -> NonceCountCheck {
        NonceCountCheck::Fresh
    }
}

/// Says why a refused request was refused: the layer answers the client and keeps the
/// reason to itself, so the recorder asks a verifier with the same key, users and clock,
/// and no nonce-count store. What that verifier accepts, the strict store refused.
struct Diagnosis {
    verifier: Verifier,
    users: Users,
    clock: Arc<AtomicU64>,
    credentials: HeaderName,
}

impl Diagnosis {
    fn reason<B>(&self, request: &Request<B>, body: &[u8]) -> String {
        // As the layer: several credentials fields are refused before any is read.
        if request.headers().get_all(&self.credentials).iter().count() > 1 {
            return format!("{:?}", httpdigest::server::Reason::SeveralCredentials);
        }
        let uri = request.uri();
        let target = match uri.scheme() {
            Some(_) => httpdigest::http::absolute_target(uri).unwrap_or_default(),
            None => httpdigest::http::request_target(request.method(), uri).into_owned(),
        };
        let server_request = ServerRequest {
            method: request.method().as_str(),
            target: &target,
            authority: uri
                .authority()
                .map(http::uri::Authority::as_str)
                .or_else(|| {
                    request
                        .headers()
                        .get(http::header::HOST)
                        .and_then(|h| h.to_str().ok())
                }),
            authorization: request
                .headers()
                .get(&self.credentials)
                .map(http::HeaderValue::as_bytes),
            body: Some(body),
        };
        let now = self.clock.load(Ordering::SeqCst);
        match self.verifier.verify(
            &server_request,
            now,
            &self.users,
            &AnyCount,
            &mut httpdigest::ThreadRng::default(),
        ) {
            Err(rejection) => format!("{:?}", rejection.reason()),
            Ok(_) => "ReplayedNonceCount".to_owned(),
        }
    }
}

/// Records the request, passes it to the layer (or, under `/open/`, to the handler), and
/// records the answer.
async fn record(
    request: Request<Incoming>,
    connection: usize,
    state: Arc<State>,
    open: Inner,
    protected: Inner,
    diagnosis: Arc<Diagnosis>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let method = request.method().to_string();
    let uri = request.uri().to_string();
    let headers = pairs(request.headers());
    let credentials = request
        .headers()
        .get(&state.credentials)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let body = Arc::new(Mutex::new(Vec::new()));
    let (parts, incoming) = request.into_parts();
    let head = Request::from_parts(parts.clone(), ());
    let request = Request::from_parts(
        parts,
        DigestBody::streamed(Tee {
            inner: incoming,
            into: Arc::clone(&body),
        }),
    );
    let is_open = request.uri().path().starts_with("/open/");
    let service = if is_open { open } else { protected };
    let response = service.oneshot(request).await?;
    let body = body.lock().unwrap().clone();
    let status = response.status().as_u16();
    let user = response.extensions().get::<User>().map(|u| u.0.clone());
    let refused = !is_open && user.is_none() && [400, 401, 407].contains(&status);
    let seen = Seen {
        method,
        uri,
        headers,
        credentials,
        status,
        response_headers: pairs(response.headers()),
        challenges: response
            .headers()
            .get_all(&state.challenge)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect(),
        user,
        rejection: refused.then(|| diagnosis.reason(&head, &body)),
        body,
        connection,
    };
    state.seen.lock().unwrap().push(seen);
    Ok(response)
}

fn pairs(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(n, v)| {
            let value = String::from_utf8_lossy(v.as_bytes()).into_owned();
            (n.as_str().to_owned(), value)
        })
        .collect()
}

/// The authenticated user, from the handler to the recorder.
#[derive(Clone)]
struct User(String);

/// Behind the layer: 200 with the user's name and what body arrived; 302 or 503 as the
/// [`Spec`] says.
async fn handle(
    request: Request<Teed>,
    state: Arc<State>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let user = request
        .extensions()
        .get::<Authenticated>()
        .map(|user| user.username.clone());
    if user.is_some() {
        let credentials = request
            .headers()
            .get(&state.credentials)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .unwrap_or_default();
        state.accepted.lock().unwrap().push(credentials);
    }
    let path = request.uri().path().to_owned();
    let body = match request.into_body().collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            let mut response = Response::new(Full::new(Bytes::from_static(b"body broke")));
            *response.status_mut() = StatusCode::BAD_REQUEST;
            return Ok(response);
        }
    };
    let unavailable = user.is_some()
        && state
            .unavailable_left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
    let name = user.clone().unwrap_or_default();
    let mut response = Response::new(Full::new(Bytes::from(name)));
    let headers = response.headers_mut();
    headers.insert("x-body-len", body.len().into());
    headers.insert("x-body-fnv", fnv(&body).parse().unwrap());
    let asked = path
        .strip_prefix("/open/status/")
        .and_then(|code| StatusCode::from_bytes(code.as_bytes()).ok());
    if let Some(status) = asked {
        *response.status_mut() = status;
        *response.body_mut() = Full::new(Bytes::from(format!("status {}", status.as_u16())));
    } else if unavailable {
        *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    } else if let Some(location) = state.redirects.lock().unwrap().get(&path) {
        *response.status_mut() = StatusCode::FOUND;
        response
            .headers_mut()
            .insert(header::LOCATION, location.parse().unwrap());
    }
    if let Some(user) = user {
        response.extensions_mut().insert(User(user));
    }
    Ok(response)
}

/// A request body that keeps a copy of every byte read from it.
struct Tee {
    inner: Incoming,
    into: Arc<Mutex<Vec<u8>>>,
}

impl Body for Tee {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let this = self.get_mut();
        let frame = Pin::new(&mut this.inner).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &frame
            && let Some(data) = frame.data_ref()
        {
            this.into.lock().unwrap().extend_from_slice(data);
        }
        frame
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Serves HTTP/1.1 (keep-alive) on every connection `listener` accepts, each on a task of
/// its own with the service `per_connection` makes for it, until accepting fails.
pub async fn serve_http1<S, B>(listener: TcpListener, mut per_connection: impl FnMut() -> S)
where
    S: tower::Service<Request<Incoming>, Response = Response<B>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    serve_http1_from(listener, move |_| per_connection()).await;
}

/// [`serve_http1`], `per_connection` told the peer's address (for a server that keeps state
/// per client address).
pub async fn serve_http1_from<S, B>(
    listener: TcpListener,
    mut per_connection: impl FnMut(SocketAddr) -> S,
) where
    S: tower::Service<Request<Incoming>, Response = Response<B>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    while let Ok((stream, peer)) = listener.accept().await {
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(per_connection(peer));
        tokio::spawn(async move {
            // A connection that breaks ends here; the server goes on.
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
