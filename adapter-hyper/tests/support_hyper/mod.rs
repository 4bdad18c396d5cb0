//! In-process hyper servers behind `RequireDigestLayer`, and counting hyper-util clients,
//! for `tests/layers.rs`. Every server records what reached it (before the layer) and what
//! the layer let through (as the handler sees it).

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{HeaderName, Request, Response, StatusCode, header};
use http_body::{Body, Frame, SizeHint};
use http_body_util::{BodyExt, Full};
use httpdigest::server::{Authenticated, Users, Verifier, VerifierConfig};
use httpdigest::{Algorithm, QopOptions};
use httpdigest_hyper::{DigestBody, RequireDigestLayer};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tower::{Service, ServiceBuilder, service_fn};

pub(crate) const USER: &str = "alice";
pub(crate) const PASSWORD: &str = "s3cret";
pub(crate) const REALM: &str = "layers@test";
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

/// What a test server offers.
#[derive(Debug, Clone)]
pub(crate) struct Spec {
    pub(crate) algorithms: Vec<Algorithm>,
    pub(crate) qop: QopOptions,
    pub(crate) nonce_lifetime: u64,
    /// Serve with `.with_auth_int(max)` (`None`: headers only).
    pub(crate) auth_int_max: Option<usize>,
    pub(crate) proxy: bool,
    /// Authenticated requests get `302 Location: <this>` instead of 200.
    pub(crate) redirect_to: Option<String>,
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
            redirect_to: None,
        }
    }

    pub(crate) fn algorithms(mut self, algorithms: impl IntoIterator<Item = Algorithm>) -> Self {
        self.algorithms = algorithms.into_iter().collect();
        self
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

    pub(crate) fn redirect_to(mut self, location: impl Into<String>) -> Self {
        self.redirect_to = Some(location.into());
        self
    }
}

/// A random 32-byte verifier key.
pub(crate) fn key() -> [u8; 32] {
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).unwrap();
    key
}

/// `alice`/`s3cret` in [`REALM`].
pub(crate) fn users() -> Users {
    let mut users = Users::new(REALM);
    users.insert(USER, PASSWORD);
    users
}

/// A fixed clock for [`RequireDigestLayer::clock`], starting at [`T0`].
pub(crate) fn test_clock() -> (Arc<AtomicU64>, impl Fn() -> u64 + Send + Sync + 'static) {
    let clock = Arc::new(AtomicU64::new(T0));
    let read = Arc::clone(&clock);
    (clock, move || read.load(Ordering::SeqCst))
}

/// A hyper server on 127.0.0.1:0 behind `RequireDigestLayer`; stops accepting when dropped.
pub(crate) struct TestServer {
    pub(crate) addr: SocketAddr,
    clock: Arc<AtomicU64>,
    seen: Arc<Mutex<Vec<Seen>>>,
    accepted: Arc<Mutex<Vec<String>>>,
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
        let (clock, read_clock) = test_clock();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let accepted = Arc::new(Mutex::new(Vec::new()));
        let credentials_header = if spec.proxy {
            header::PROXY_AUTHORIZATION
        } else {
            header::AUTHORIZATION
        };
        let challenge_header = if spec.proxy {
            header::PROXY_AUTHENTICATE
        } else {
            header::WWW_AUTHENTICATE
        };

        let config = VerifierConfig::new(REALM)
            .with_algorithms(spec.algorithms.iter().copied())
            .with_qop(spec.qop)
            .with_nonce_lifetime(spec.nonce_lifetime);
        let mut layer =
            RequireDigestLayer::new(Verifier::new(config, &key()), users()).clock(read_clock);
        if spec.proxy {
            layer = layer.for_proxy();
        }

        // Behind the layer: record the credentials that got through, then the handler.
        let redirect = spec.redirect_to.clone();
        let accepted_log = Arc::clone(&accepted);
        let accepted_header = credentials_header.clone();
        let inner = ServiceBuilder::new()
            .map_request(move |request: Request<DigestBody<Incoming>>| {
                let value = request
                    .headers()
                    .get(&accepted_header)
                    .map(|v| v.to_str().unwrap().to_owned())
                    .unwrap_or_default();
                accepted_log.lock().unwrap().push(value);
                request
            })
            .service(service_fn(move |request| handle(request, redirect.clone())));

        let record = RecordLayer {
            seen: Arc::clone(&seen),
            credentials: credentials_header,
            challenge: challenge_header,
        };
        let task = match spec.auth_int_max {
            Some(max) => {
                let service = ServiceBuilder::new()
                    .layer(record)
                    .map_request(|r: Request<Incoming>| r.map(DigestBody::streamed))
                    .layer(layer.with_auth_int(max))
                    .service(inner);
                tokio::spawn(serve(listener, service))
            }
            None => {
                let service = ServiceBuilder::new()
                    .layer(record)
                    .map_request(|r: Request<Incoming>| r.map(DigestBody::streamed))
                    .layer(layer)
                    .service(inner);
                tokio::spawn(serve(listener, service))
            }
        };
        Self {
            addr,
            clock,
            seen,
            accepted,
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
        std::mem::take(&mut *self.accepted.lock().unwrap())
    }
}

/// 200 with the user's name; `x-body-len` and `x-body-fnv` say what body arrived. With a
/// redirect, 302 to it instead.
async fn handle(
    request: Request<DigestBody<Incoming>>,
    redirect: Option<String>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let name = request
        .extensions()
        .get::<Authenticated>()
        .map_or_else(String::new, |user| user.username.clone());
    let body = match request.into_body().collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            let mut response = Response::new(Full::new(Bytes::from_static(b"body broke")));
            *response.status_mut() = StatusCode::BAD_REQUEST;
            return Ok(response);
        }
    };
    let mut response = Response::new(Full::new(Bytes::from(name)));
    let headers = response.headers_mut();
    headers.insert("x-body-len", body.len().into());
    headers.insert("x-body-fnv", fnv(&body).parse().unwrap());
    if let Some(location) = redirect {
        *response.status_mut() = StatusCode::FOUND;
        response
            .headers_mut()
            .insert(header::LOCATION, location.parse().unwrap());
    }
    Ok(response)
}

/// Records every request (credentials header) and its answer (status, challenges).
#[derive(Clone)]
struct RecordLayer {
    seen: Arc<Mutex<Vec<Seen>>>,
    credentials: HeaderName,
    challenge: HeaderName,
}

impl<S> tower::Layer<S> for RecordLayer {
    type Service = Record<S>;

    fn layer(&self, inner: S) -> Record<S> {
        Record {
            inner,
            layer: self.clone(),
        }
    }
}

#[derive(Clone)]
struct Record<S> {
    inner: S,
    layer: RecordLayer,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, B, R> Service<Request<B>> for Record<S>
where
    S: Service<Request<B>, Response = Response<R>>,
    S::Future: Send + 'static,
    S::Error: 'static,
    R: 'static,
{
    type Response = Response<R>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Response<R>, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let method = request.method().to_string();
        let uri = request.uri().to_string();
        let credentials = request
            .headers()
            .get(&self.layer.credentials)
            .map(|v| v.to_str().unwrap().to_owned());
        let layer = self.layer.clone();
        let future = self.inner.call(request);
        Box::pin(async move {
            let response = future.await?;
            let challenges = response
                .headers()
                .get_all(&layer.challenge)
                .iter()
                .map(|v| v.to_str().unwrap().to_owned())
                .collect();
            layer.seen.lock().unwrap().push(Seen {
                method,
                uri,
                credentials,
                status: response.status().as_u16(),
                challenges,
            });
            Ok(response)
        })
    }
}

/// Accepts connections and serves each with a clone of `service` (HTTP/1.1, keep-alive).
pub(crate) async fn serve<S, R>(listener: TcpListener, service: S)
where
    S: Service<Request<Incoming>, Response = Response<R>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    R: Body<Data = Bytes> + Send + 'static,
    R::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            return;
        };
        let service = TowerToHyperService::new(service.clone());
        tokio::spawn(async move {
            // A connection that breaks ends here; the server goes on.
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

// ---------------------------------------------------------------------------------------
// Clients
// ---------------------------------------------------------------------------------------

/// hyper-util's client for the bodies `DigestAuth` hands on.
pub(crate) type Hyper<B, C = HttpConnector> = HyperClient<C, DigestBody<B>>;

/// What a [`Counting`] service saw: every send, and the `x-test-id` of each.
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

/// Counts the requests that go through to the wrapped client (one per HTTP exchange).
#[derive(Clone)]
pub(crate) struct Counting<S> {
    inner: S,
    exchanges: Exchanges,
}

impl<S, B> Service<Request<B>> for Counting<S>
where
    S: Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> S::Future {
        self.exchanges.count.fetch_add(1, Ordering::SeqCst);
        if let Some(id) = request.headers().get("x-test-id") {
            self.exchanges
                .ids
                .lock()
                .unwrap()
                .push(id.to_str().unwrap().to_owned());
        }
        self.inner.call(request)
    }
}

/// A counting hyper-util client for `DigestBody<B>`, over plain TCP.
pub(crate) fn counting_client<B>() -> (Counting<Hyper<B>>, Exchanges)
where
    B: Body<Data = Bytes> + Send + 'static,
{
    counting_over(HttpConnector::new())
}

/// A counting hyper-util client for `DigestBody<B>` over `connector`.
pub(crate) fn counting_over<B, C>(connector: C) -> (Counting<Hyper<B, C>>, Exchanges)
where
    B: Body<Data = Bytes> + Send + 'static,
    C: hyper_util::client::legacy::connect::Connect + Clone,
{
    let exchanges = Exchanges::default();
    let inner = HyperClient::builder(TokioExecutor::new()).build(connector);
    (
        Counting {
            inner,
            exchanges: exchanges.clone(),
        },
        exchanges,
    )
}

/// A plain client (no Digest layer) for hand-made requests.
pub(crate) fn plain_client() -> HyperClient<HttpConnector, Full<Bytes>> {
    HyperClient::builder(TokioExecutor::new()).build_http()
}

// ---------------------------------------------------------------------------------------
// A streamed body of unknown length
// ---------------------------------------------------------------------------------------

/// A body of several chunks with no size hint: the client layer can only learn its length
/// by reading it.
pub(crate) struct Chunks(std::collections::VecDeque<Bytes>);

impl Chunks {
    pub(crate) fn new(data: &[u8], chunk: usize) -> Self {
        Self(data.chunks(chunk).map(Bytes::copy_from_slice).collect())
    }
}

impl Body for Chunks {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(self.get_mut().0.pop_front().map(|b| Ok(Frame::data(b))))
    }

    fn is_end_stream(&self) -> bool {
        self.0.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::new()
    }
}

// ---------------------------------------------------------------------------------------
// A connector to a forward proxy: the one of the end-to-end suite
// ---------------------------------------------------------------------------------------

#[allow(unreachable_pub)]
#[path = "../../../tests/src/proxy.rs"]
mod proxy;
pub(crate) use proxy::ProxyConnector;

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
