//! In-process hyper servers behind `RequireDigestLayer`, and client-side middlewares that
//! count and log every send, for `tests/middleware.rs`. Every server records what reached it
//! (before the layer) and what the layer let through (as the handler sees it).

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::{Future, poll_fn};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{HeaderName, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full};
use httpdigest::server::{Authenticated, Users, Verifier, VerifierConfig};
use httpdigest::{Algorithm, QopOptions};
use httpdigest_hyper::{DigestBody, RequireDigestLayer};
use httpdigest_reqwest::DigestAuthMiddleware;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use reqwest_middleware::{ClientBuilder, ClientWithMiddleware, Middleware, Next};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tower::{Layer, Service};

pub(crate) const USER: &str = "alice";
pub(crate) const PASSWORD: &str = "s3cret";
pub(crate) const REALM: &str = "reqwest@test";
/// The fixed test clock starts here (seconds).
pub(crate) const T0: u64 = 1_700_000_000;

/// FNV-1a, 64 bits: what the handler reports of the body it received.
pub(crate) fn fnv(data: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in data {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

// ---------------------------------------------------------------------------------------
// Server
// ---------------------------------------------------------------------------------------

/// One request as it reached the server, before the Digest layer, with the answer.
#[derive(Debug, Clone)]
pub(crate) struct Seen {
    pub(crate) method: String,
    /// The request-target as hyper parsed it (absolute form through a proxy).
    pub(crate) uri: String,
    /// `Authorization` (`Proxy-Authorization` for a proxy server), if any.
    pub(crate) credentials: Option<String>,
    pub(crate) status: u16,
    /// `WWW-Authenticate` (`Proxy-Authenticate`) values of the answer.
    pub(crate) challenges: Vec<String>,
}

impl Seen {
    /// The `nc` of the credentials, if any.
    pub(crate) fn nc(&self) -> Option<u32> {
        self.credentials.as_deref().map(nc_of)
    }
}

/// What a test server offers and how its handler answers.
#[derive(Debug, Clone)]
pub(crate) struct Spec {
    pub(crate) algorithms: Vec<Algorithm>,
    pub(crate) qop: QopOptions,
    pub(crate) nonce_lifetime: u64,
    /// Serve with `.with_auth_int(max)` (`None`: headers only).
    pub(crate) auth_int_max: Option<usize>,
    pub(crate) proxy: bool,
    /// Authenticated requests to this path get `302 Location: <location>`.
    pub(crate) redirects: Vec<(String, String)>,
    /// The first this many authenticated requests get 503.
    pub(crate) unavailable_first: usize,
}

impl Spec {
    /// SHA-256, qop=auth, nonces valid 300 s, headers only.
    pub(crate) fn new() -> Self {
        Self {
            algorithms: vec![Algorithm::Sha256],
            qop: QopOptions::AUTH,
            nonce_lifetime: 300,
            auth_int_max: None,
            proxy: false,
            redirects: Vec::new(),
            unavailable_first: 0,
        }
    }

    pub(crate) fn qop(mut self, qop: QopOptions) -> Self {
        self.qop = qop;
        self
    }

    pub(crate) fn nonce_lifetime(mut self, seconds: u64) -> Self {
        self.nonce_lifetime = seconds;
        self
    }

    pub(crate) fn auth_int(mut self, max: usize) -> Self {
        self.auth_int_max = Some(max);
        self
    }

    pub(crate) fn proxy(mut self) -> Self {
        self.proxy = true;
        self
    }

    pub(crate) fn redirect(mut self, path: &str, location: impl Into<String>) -> Self {
        self.redirects.push((path.to_owned(), location.into()));
        self
    }

    pub(crate) fn unavailable_first(mut self, n: usize) -> Self {
        self.unavailable_first = n;
        self
    }
}

/// A random 32-byte verifier key.
fn key() -> [u8; 32] {
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).unwrap();
    key
}

/// `alice`/`s3cret` in [`REALM`].
fn users() -> Users {
    let mut users = Users::new(REALM);
    users.insert(USER, PASSWORD);
    users
}

/// What the handler shares with the test.
struct HandlerState {
    /// Credentials of every request the layer let through.
    accepted: Mutex<Vec<String>>,
    redirects: Vec<(String, String)>,
    unavailable_left: AtomicUsize,
    credentials: HeaderName,
}

/// The service behind the layer: 200 with the user's name, `x-body-len` and `x-body-fnv`
/// saying what body arrived; 302 or 503 as the [`Spec`] says.
#[derive(Clone)]
struct Handler(Arc<HandlerState>);

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl Service<Request<DigestBody<Incoming>>> for Handler {
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = BoxFuture<Result<Response<Full<Bytes>>, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<DigestBody<Incoming>>) -> Self::Future {
        let state = Arc::clone(&self.0);
        Box::pin(async move {
            let credentials = request
                .headers()
                .get(&state.credentials)
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default();
            state.accepted.lock().unwrap().push(credentials);
            let name = request
                .extensions()
                .get::<Authenticated>()
                .map_or_else(String::new, |user| user.username.clone());
            let path = request.uri().path().to_owned();
            let body = match request.into_body().collect().await {
                Ok(collected) => collected.to_bytes(),
                Err(_) => {
                    let mut response = Response::new(Full::new(Bytes::from_static(b"body broke")));
                    *response.status_mut() = StatusCode::BAD_REQUEST;
                    return Ok(response);
                }
            };
            let unavailable = state
                .unavailable_left
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok();
            let mut response = Response::new(Full::new(Bytes::from(name)));
            let headers = response.headers_mut();
            headers.insert("x-body-len", body.len().into());
            headers.insert("x-body-fnv", fnv(&body).parse().unwrap());
            if unavailable {
                *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
            } else if let Some((_, location)) = state.redirects.iter().find(|(p, _)| *p == path) {
                *response.status_mut() = StatusCode::FOUND;
                response
                    .headers_mut()
                    .insert(header::LOCATION, location.parse().unwrap());
            }
            Ok(response)
        })
    }
}

/// A hyper server on 127.0.0.1:0 behind `RequireDigestLayer`; stops accepting when dropped.
pub(crate) struct TestServer {
    pub(crate) addr: SocketAddr,
    clock: Arc<AtomicU64>,
    seen: Arc<Mutex<Vec<Seen>>>,
    handler: Arc<HandlerState>,
    task: JoinHandle<()>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TestServer {
    pub(crate) async fn start(spec: Spec) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let clock = Arc::new(AtomicU64::new(T0));
        let read_clock = Arc::clone(&clock);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (credentials, challenge) = if spec.proxy {
            (header::PROXY_AUTHORIZATION, header::PROXY_AUTHENTICATE)
        } else {
            (header::AUTHORIZATION, header::WWW_AUTHENTICATE)
        };
        let handler = Arc::new(HandlerState {
            accepted: Mutex::new(Vec::new()),
            redirects: spec.redirects.clone(),
            unavailable_left: AtomicUsize::new(spec.unavailable_first),
            credentials: credentials.clone(),
        });

        let config = VerifierConfig::new(REALM)
            .with_algorithms(spec.algorithms.iter().copied())
            .with_qop(spec.qop)
            .with_nonce_lifetime(spec.nonce_lifetime);
        let mut layer = RequireDigestLayer::new(Verifier::new(config, &key()), users())
            .clock(move || read_clock.load(Ordering::SeqCst));
        if spec.proxy {
            layer = layer.for_proxy();
        }
        let record = Record {
            seen: Arc::clone(&seen),
            credentials,
            challenge,
        };
        let inner = Handler(Arc::clone(&handler));
        let task = match spec.auth_int_max {
            Some(max) => tokio::spawn(serve(
                listener,
                layer.with_auth_int(max).layer(inner),
                record,
            )),
            None => tokio::spawn(serve(listener, layer.layer(inner), record)),
        };
        Self {
            addr,
            clock,
            seen,
            handler,
            task,
        }
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Moves the server's clock forward.
    pub(crate) fn advance(&self, seconds: u64) {
        self.clock.fetch_add(seconds, Ordering::SeqCst);
    }

    /// Every request that reached the server since the last call, in order of answer.
    pub(crate) fn take_seen(&self) -> Vec<Seen> {
        std::mem::take(&mut *self.seen.lock().unwrap())
    }

    /// The credentials of every request the layer let through since the last call.
    pub(crate) fn take_accepted(&self) -> Vec<String> {
        std::mem::take(&mut *self.handler.accepted.lock().unwrap())
    }
}

/// What reaches the server, recorded before the layer.
#[derive(Clone)]
struct Record {
    seen: Arc<Mutex<Vec<Seen>>>,
    credentials: HeaderName,
    challenge: HeaderName,
}

/// Accepts connections and serves each (HTTP/1.1, keep-alive): the request body becomes a
/// `DigestBody` (as the example server does), the request is recorded, then `service`.
async fn serve<S>(listener: TcpListener, service: S, record: Record)
where
    S: Service<Request<DigestBody<Incoming>>, Response = Response<Full<Bytes>>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            return;
        };
        let service = service.clone();
        let record = record.clone();
        let hyper_service = hyper::service::service_fn(move |request: Request<Incoming>| {
            let mut service = service.clone();
            let record = record.clone();
            async move {
                let method = request.method().to_string();
                let uri = request.uri().to_string();
                let credentials = request
                    .headers()
                    .get(&record.credentials)
                    .map(|v| v.to_str().unwrap().to_owned());
                poll_fn(|cx| service.poll_ready(cx)).await?;
                let response = service.call(request.map(DigestBody::streamed)).await?;
                let challenges = response
                    .headers()
                    .get_all(&record.challenge)
                    .iter()
                    .map(|v| v.to_str().unwrap().to_owned())
                    .collect();
                record.seen.lock().unwrap().push(Seen {
                    method,
                    uri,
                    credentials,
                    status: response.status().as_u16(),
                    challenges,
                });
                Ok::<_, Infallible>(response)
            }
        });
        tokio::spawn(async move {
            // A connection that breaks ends here; the server goes on.
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), hyper_service)
                .await;
        });
    }
}

/// The statuses of `seen`, in order.
pub(crate) fn statuses(seen: &[Seen]) -> Vec<u16> {
    seen.iter().map(|s| s.status).collect()
}

// ---------------------------------------------------------------------------------------
// Client side
// ---------------------------------------------------------------------------------------

/// One send as a middleware below the Digest middleware saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Sent {
    pub(crate) method: String,
    pub(crate) url: String,
    pub(crate) authorization: bool,
    pub(crate) proxy_authorization: bool,
}

/// What a [`Counting`] middleware saw: every send, and the `x-test-id` of each.
#[derive(Clone, Default)]
pub(crate) struct Exchanges {
    count: Arc<AtomicUsize>,
    ids: Arc<Mutex<Vec<String>>>,
}

impl Exchanges {
    /// Sends since the last call.
    pub(crate) fn take(&self) -> usize {
        self.count.swap(0, Ordering::SeqCst)
    }

    /// How many times each `x-test-id` was sent.
    pub(crate) fn per_id(&self) -> HashMap<String, usize> {
        let mut map = HashMap::new();
        for id in self.ids.lock().unwrap().iter() {
            *map.entry(id.clone()).or_insert(0) += 1;
        }
        map
    }
}

/// Counts every send that passes it (placed inside the Digest middleware: one per HTTP
/// exchange the middleware makes; redirects reqwest follows below are not counted).
#[derive(Clone)]
pub(crate) struct Counting(pub(crate) Exchanges);

#[async_trait::async_trait]
impl Middleware for Counting {
    async fn handle(
        &self,
        request: reqwest::Request,
        extensions: &mut http::Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        self.0.count.fetch_add(1, Ordering::SeqCst);
        if let Some(id) = request.headers().get("x-test-id") {
            self.0
                .ids
                .lock()
                .unwrap()
                .push(id.to_str().unwrap().to_owned());
        }
        next.run(request, extensions).await
    }
}

/// A logging middleware: method, URL and the credentials' presence of every send.
#[derive(Clone, Default)]
pub(crate) struct Logger(pub(crate) Arc<Mutex<Vec<Sent>>>);

impl Logger {
    pub(crate) fn take(&self) -> Vec<Sent> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

#[async_trait::async_trait]
impl Middleware for Logger {
    async fn handle(
        &self,
        request: reqwest::Request,
        extensions: &mut http::Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        self.0.lock().unwrap().push(Sent {
            method: request.method().to_string(),
            url: request.url().to_string(),
            authorization: request.headers().contains_key(header::AUTHORIZATION),
            proxy_authorization: request.headers().contains_key(header::PROXY_AUTHORIZATION),
        });
        next.run(request, extensions).await
    }
}

/// A reqwest client that ignores proxy settings from the environment.
pub(crate) fn reqwest_client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

/// `reqwest_client()` with `middleware`, then a counter inside it.
pub(crate) fn client_with(middleware: DigestAuthMiddleware) -> (ClientWithMiddleware, Exchanges) {
    let exchanges = Exchanges::default();
    let client = ClientBuilder::new(reqwest_client())
        .with(middleware)
        .with(Counting(exchanges.clone()))
        .build();
    (client, exchanges)
}

/// `alice`/`s3cret` with the default policy.
pub(crate) fn alice() -> (ClientWithMiddleware, Exchanges) {
    client_with(DigestAuthMiddleware::new(USER, PASSWORD))
}

// ---------------------------------------------------------------------------------------
// Header parsing
// ---------------------------------------------------------------------------------------

/// The parameters of a `Digest ...` value (quoted strings unescaped), names in lower case.
pub(crate) fn params(value: &str) -> HashMap<String, String> {
    let rest = value
        .strip_prefix("Digest ")
        .unwrap_or_else(|| panic!("not a Digest value: {value}"));
    let mut out = HashMap::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let mut name = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' {
                break;
            }
            name.push(c);
            chars.next();
        }
        if name.is_empty() {
            return out;
        }
        assert_eq!(chars.next(), Some('='), "{value}");
        let mut text = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    Some('\\') => text.push(chars.next().unwrap()),
                    Some('"') => break,
                    Some(c) => text.push(c),
                    None => panic!("unterminated quoted string in {value}"),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' {
                    break;
                }
                text.push(c);
                chars.next();
            }
        }
        out.insert(name.trim().to_ascii_lowercase(), text.trim().to_owned());
    }
}

/// The `nc` of a `Digest ...` credentials value, as a number.
pub(crate) fn nc_of(value: &str) -> u32 {
    u32::from_str_radix(&params(value)["nc"], 16).unwrap()
}
