//! The three client adapters behind one blocking interface, each recording every exchange
//! it puts on the wire: the ureq agent (through its observer), the reqwest middleware
//! (through a middleware placed after it) and the hyper client layer (through a service
//! placed under it, over hyper-util's client, with tower-http's `FollowRedirect` above it).
//!
//! [`Driver::send`] blocks; the async adapters run on one shared tokio runtime, so many
//! threads may call it at once on one driver (the concurrency tests do).
//!
//! Each adapter is constructed in one place: [`ureq_agent`], [`reqwest_middleware()`],
//! [`hyper_layer`], from a [`Setup`]. The drivers use them, and so do the adapter crates'
//! own tests.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::future::Future;
use std::io::Cursor;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};
use std::thread::ThreadId;

use bytes::Bytes;
use http::{HeaderMap, Method, Request, Response, header};
use http_body::{Body, Frame, SizeHint};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use httpdigest::client::{Client, ClientConfig, Credentials, Failure};
use httpdigest_hyper::{DigestAuthLayer, DigestBody};
use httpdigest_reqwest::DigestAuthMiddleware;
use httpdigest_ureq::{DigestAgent, Event};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::{Connect, HttpConnector};
use hyper_util::rt::TokioExecutor;
use reqwest_middleware::{ClientBuilder, ClientWithMiddleware, Middleware, Next};
use tower::{Service, ServiceBuilder, ServiceExt};
use tower_http::follow_redirect::FollowRedirectLayer;

use crate::proxy::ProxyConnector;

/// The client adapters under test.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Adapter {
    /// `httpdigest-ureq`: `DigestAgent`, blocking.
    Ureq,
    /// `httpdigest-reqwest`: `DigestAuthMiddleware` in reqwest-middleware.
    Reqwest,
    /// `httpdigest-hyper`: `DigestAuthLayer` over hyper-util's client.
    Hyper,
}

impl Adapter {
    /// Every adapter, in the table's order.
    pub const ALL: [Adapter; 3] = [Adapter::Ureq, Adapter::Reqwest, Adapter::Hyper];

    /// Its name in the table.
    pub fn name(self) -> &'static str {
        match self {
            Adapter::Ureq => "ureq",
            Adapter::Reqwest => "reqwest",
            Adapter::Hyper => "hyper",
        }
    }

    /// The adapter of a table name.
    pub fn from_name(name: &str) -> Option<Adapter> {
        Adapter::ALL.into_iter().find(|a| a.name() == name)
    }
}

/// One request on the wire and its answer.
#[derive(Clone, Debug, Default)]
pub struct Exchange {
    /// The method.
    pub method: String,
    /// The request URI (absolute).
    pub uri: String,
    /// `Authorization`, or `Proxy-Authorization`, as sent (lossy UTF-8), if any.
    pub sent: Option<String>,
    /// The response's status; `None` if none came (transport error).
    pub status: Option<u16>,
    /// The response's `WWW-Authenticate` and `Proxy-Authenticate` values.
    pub challenges: Vec<String>,
}

impl Exchange {
    /// Whether the answer is a challenge saying `stale=true`.
    pub fn says_stale(&self) -> bool {
        self.challenges.iter().any(|c| {
            let c = c.to_ascii_lowercase();
            c.contains("stale=true") || c.contains("stale=\"true\"")
        })
    }
}

/// How a request ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A final response with this status (body read).
    Status(u16),
    /// The adapter's Digest failure.
    Failure(Failure),
    /// ureq's adapter refused to send a non-ASCII `Authorization` (`NonAsciiAuthorization`).
    NotSendable,
    /// Any other error, as text.
    Error(String),
}

/// What a driver is built with.
#[derive(Clone, Debug)]
pub struct Setup {
    /// The user name.
    pub user: String,
    /// The password.
    pub password: String,
    /// A forward proxy: requests go through it, and the credentials are the proxy's unless
    /// [`proxy_credentials`](Self::proxy_credentials) are given.
    pub proxy: Option<String>,
    /// The proxy's user name and password when [`user`](Self::user) and
    /// [`password`](Self::password) are the origin's (a Digest origin behind a Digest proxy).
    pub proxy_credentials: Option<(String, String)>,
    /// The core's policy.
    pub config: ClientConfig,
    /// The most body bytes the adapter keeps to send again (ureq and hyper; a streamed
    /// reqwest body is never kept). `None`: the adapter's default.
    pub max_buffered_body: Option<usize>,
    /// reqwest keeps cookies in its own store (`cookie_store(true)`); the other adapters
    /// ignore it.
    pub cookie_store: bool,
}

impl Setup {
    /// Origin credentials, the default policy.
    pub fn new(user: &str, password: &str) -> Self {
        Setup {
            user: user.to_owned(),
            password: password.to_owned(),
            proxy: None,
            proxy_credentials: None,
            cookie_store: false,
            config: ClientConfig::default(),
            max_buffered_body: None,
        }
    }

    /// Proxy credentials for `proxy`.
    pub fn via_proxy(mut self, proxy: &str) -> Self {
        self.proxy = Some(proxy.to_owned());
        self
    }

    /// Through `proxy`, whose credentials are `user` and `password`; the credentials given to
    /// [`new`](Self::new) stay the origin's.
    pub fn via_proxy_as(mut self, proxy: &str, user: &str, password: &str) -> Self {
        self.proxy = Some(proxy.to_owned());
        self.proxy_credentials = Some((user.to_owned(), password.to_owned()));
        self
    }

    /// The core's policy.
    pub fn config(mut self, config: ClientConfig) -> Self {
        self.config = config;
        self
    }

    /// The most body bytes the adapter keeps to send again.
    pub fn max_buffered_body(mut self, bytes: usize) -> Self {
        self.max_buffered_body = Some(bytes);
        self
    }
}

/// A request body.
#[derive(Clone, Debug, Default)]
pub enum Payload {
    /// None.
    #[default]
    Empty,
    /// In memory, its length known.
    Bytes(Vec<u8>),
    /// Streamed in chunks, its length unknown in advance (a reader for ureq, a stream for
    /// reqwest, a body without a size hint for hyper): the adapter keeps it to send again
    /// only if it fits in its buffer.
    Streamed(Vec<u8>),
}

/// One request.
#[derive(Clone, Debug)]
pub struct Call {
    /// The method.
    pub method: Method,
    /// The URL.
    pub url: String,
    /// The body.
    pub body: Payload,
}

impl Call {
    /// GET `url`.
    pub fn get(url: &str) -> Self {
        Call {
            method: Method::GET,
            url: url.to_owned(),
            body: Payload::Empty,
        }
    }

    /// POST `data` to `url`.
    pub fn post(url: &str, data: &[u8]) -> Self {
        Call {
            method: Method::POST,
            url: url.to_owned(),
            body: Payload::Bytes(data.to_vec()),
        }
    }

    /// POST `data` to `url`, streamed.
    pub fn streamed(url: &str, data: &[u8]) -> Self {
        Call {
            method: Method::POST,
            url: url.to_owned(),
            body: Payload::Streamed(data.to_vec()),
        }
    }
}

/// How a request ended, and the answer.
#[derive(Debug)]
pub struct Reply {
    /// How it ended.
    pub outcome: Outcome,
    /// The final response's status, or the one a Digest failure came with.
    pub status: Option<u16>,
    /// The final response's headers, or those a Digest failure came with.
    pub headers: HeaderMap,
    /// The final response's body (lossy UTF-8).
    pub body: String,
    /// The exchanges the adapter made for it (those whose URI is the request's).
    pub exchanges: Vec<Exchange>,
}

impl Reply {
    /// The first value of the header `name`, as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// An adapter ready to send requests.
pub trait Driver: Send + Sync {
    /// Which adapter this is.
    fn adapter(&self) -> Adapter;

    /// Sends `call` (following redirects, as the adapter does): how it ended, and the
    /// exchanges the adapter made for it (those whose URI is the call's, so concurrent calls
    /// with distinct URLs tell theirs apart).
    fn send(&self, call: &Call) -> Reply;

    /// GET `url`: how it ended, and the exchanges.
    fn get(&self, url: &str) -> (Outcome, Vec<Exchange>) {
        let reply = self.send(&Call::get(url));
        (reply.outcome, reply.exchanges)
    }
}

/// `requests` GETs through `client` from `at_once` threads, the i-th to `url(i)`: how each
/// ended and its exchanges, in the order they ended.
pub fn hammer(
    client: &dyn Driver,
    requests: usize,
    at_once: usize,
    url: impl Fn(usize) -> String + Sync,
) -> Vec<(Outcome, Vec<Exchange>)> {
    let next = AtomicUsize::new(0);
    let results = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..at_once {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= requests {
                        return;
                    }
                    let result = client.get(&url(i));
                    results.lock().unwrap().push(result);
                }
            });
        }
    });
    results.into_inner().unwrap()
}

/// The outcome of a final response, its status, headers and body read to the end.
fn answered(status: u16, headers: HeaderMap, body: Result<Vec<u8>, String>) -> Reply {
    let (outcome, body) = match body {
        Ok(body) => (
            Outcome::Status(status),
            String::from_utf8_lossy(&body).into_owned(),
        ),
        Err(e) => (
            Outcome::Error(format!("reading the body: {e}")),
            String::new(),
        ),
    };
    Reply {
        outcome,
        status: Some(status),
        headers,
        body,
        exchanges: Vec::new(),
    }
}

/// A Digest failure and the response it came with.
fn failed(failure: &Failure, status: u16, headers: &HeaderMap) -> Reply {
    Reply {
        outcome: Outcome::Failure(failure.clone()),
        status: Some(status),
        headers: headers.clone(),
        body: String::new(),
        exchanges: Vec::new(),
    }
}

/// Any other end.
fn broke(outcome: Outcome) -> Reply {
    Reply {
        outcome,
        status: None,
        headers: HeaderMap::new(),
        body: String::new(),
        exchanges: Vec::new(),
    }
}

/// A driver for `adapter`.
pub fn driver(adapter: Adapter, setup: &Setup) -> Box<dyn Driver> {
    match adapter {
        Adapter::Ureq => Box::new(UreqDriver::new(setup)),
        Adapter::Reqwest => Box::new(ReqwestDriver::new(setup)),
        Adapter::Hyper => match &setup.proxy {
            Some(proxy) => {
                let proxy: SocketAddr = proxy
                    .trim_start_matches("http://")
                    .trim_end_matches('/')
                    .parse()
                    .expect("the proxy is named by IP address and port");
                Box::new(HyperDriver::new(setup, ProxyConnector { proxy }))
            }
            None => Box::new(HyperDriver::new(setup, HttpConnector::new())),
        },
    }
}

/// The shared runtime of the async adapters: two worker threads, like the machines the
/// tests and benchmarks run on.
pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
    })
}

// ---------------------------------------------------------------------------------------
// The record of the wire
// ---------------------------------------------------------------------------------------

/// Exchanges as an adapter makes them, each with a number and the thread that sent it: what
/// the drivers record, and what a [`Recorder`] under a reqwest-middleware chain records.
#[derive(Clone, Default)]
pub struct Wire(Arc<Mutex<WireLog>>);

#[derive(Default)]
struct WireLog {
    next: u64,
    exchanges: Vec<(u64, Option<ThreadId>, Exchange)>,
}

impl Wire {
    /// A request goes out; returns its number.
    fn request(
        &self,
        method: &str,
        uri: String,
        sent: Option<String>,
        thread: Option<ThreadId>,
    ) -> u64 {
        let mut log = self.0.lock().unwrap();
        let number = log.next;
        log.next += 1;
        let exchange = Exchange {
            method: method.to_owned(),
            uri,
            sent,
            ..Exchange::default()
        };
        log.exchanges.push((number, thread, exchange));
        number
    }

    /// The answer to request `number`.
    fn response(&self, number: u64, status: u16, headers: &HeaderMap) {
        let mut log = self.0.lock().unwrap();
        if let Some((_, _, exchange)) = log.exchanges.iter_mut().find(|(n, _, _)| *n == number) {
            exchange.status = Some(status);
            exchange.challenges = challenges(headers);
        }
    }

    /// The answer to the last request of `thread` not yet answered (ureq's observer names no
    /// request; a blocking request's events come on its thread).
    fn response_on(&self, thread: ThreadId, status: u16, headers: &HeaderMap) {
        let mut log = self.0.lock().unwrap();
        if let Some((_, _, exchange)) = log
            .exchanges
            .iter_mut()
            .rev()
            .find(|(_, t, e)| *t == Some(thread) && e.status.is_none())
        {
            exchange.status = Some(status);
            exchange.challenges = challenges(headers);
        }
    }

    /// Removes and returns the exchanges with this URI, in order.
    fn take(&self, uri: &str) -> Vec<Exchange> {
        let mut log = self.0.lock().unwrap();
        let (taken, kept) = std::mem::take(&mut log.exchanges)
            .into_iter()
            .partition(|(_, _, e)| e.uri == uri);
        log.exchanges = kept;
        taken.into_iter().map(|(_, _, e)| e).collect()
    }

    /// Removes and returns every exchange, in order.
    pub fn take_all(&self) -> Vec<Exchange> {
        let mut log = self.0.lock().unwrap();
        std::mem::take(&mut log.exchanges)
            .into_iter()
            .map(|(_, _, e)| e)
            .collect()
    }
}

fn challenges(headers: &HeaderMap) -> Vec<String> {
    [header::WWW_AUTHENTICATE, header::PROXY_AUTHENTICATE]
        .iter()
        .flat_map(|name| headers.get_all(name))
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .collect()
}

fn credentials(headers: &HeaderMap) -> Option<String> {
    [header::AUTHORIZATION, header::PROXY_AUTHORIZATION]
        .iter()
        .find_map(|name| headers.get(name))
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
}

// ---------------------------------------------------------------------------------------
// ureq
// ---------------------------------------------------------------------------------------

struct UreqDriver {
    agent: DigestAgent,
    wire: Wire,
}

impl Setup {
    /// The core client every adapter is built over: `setup`'s credentials (the proxy's, with
    /// the proxy, or the origin's, or both) and policy.
    pub fn client(&self) -> Client {
        let credentials = Credentials::new(self.user.clone(), self.password.clone());
        let builder = Client::builder().config(self.config.clone());
        match (&self.proxy, &self.proxy_credentials) {
            (Some(proxy), Some((user, password))) => builder
                .credentials(credentials)
                .proxy(proxy.clone())
                .proxy_credentials(Credentials::new(user.clone(), password.clone())),
            (Some(proxy), None) => builder.proxy(proxy.clone()).proxy_credentials(credentials),
            (None, _) => builder.credentials(credentials),
        }
        .build()
        .unwrap()
    }
}

/// What watches a `DigestAgent`'s sends and answers.
pub type Observer = Box<dyn Fn(&Event<'_>) + Send + Sync>;

/// A `DigestAgent` for `setup`, with `ureq`'s configuration (ureq's default without) and
/// `observer` (none without).
pub fn ureq_agent(
    setup: &Setup,
    ureq: Option<ureq::config::Config>,
    observer: Option<Observer>,
) -> DigestAgent {
    let mut builder = DigestAgent::builder().client(setup.client());
    if let Some(config) = ureq {
        builder = builder.ureq_config(config);
    }
    if let Some(observer) = observer {
        builder = builder.observer(observer);
    }
    if let Some(bytes) = setup.max_buffered_body {
        builder = builder.max_buffered_body(bytes);
    }
    builder.build().unwrap()
}

impl UreqDriver {
    fn new(setup: &Setup) -> Self {
        let wire = Wire::default();
        let log = wire.clone();
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build();
        let observer = move |event: &Event<'_>| {
            let thread = std::thread::current().id();
            match event {
                Event::Request {
                    method,
                    uri,
                    authorization,
                    proxy_authorization,
                    ..
                } => {
                    let sent = authorization
                        .or(*proxy_authorization)
                        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
                    log.request(method.as_str(), uri.to_string(), sent, Some(thread));
                }
                Event::Response {
                    status, headers, ..
                } => log.response_on(thread, status.as_u16(), headers),
                _ => {}
            }
        };
        UreqDriver {
            agent: ureq_agent(setup, Some(config), Some(Box::new(observer))),
            wire,
        }
    }
}

impl Driver for UreqDriver {
    fn adapter(&self) -> Adapter {
        Adapter::Ureq
    }

    fn send(&self, call: &Call) -> Reply {
        let request = self.agent.request(call.method.clone(), &call.url);
        let result = match &call.body {
            Payload::Empty => request.call(),
            Payload::Bytes(data) => request.send(data.as_slice()),
            Payload::Streamed(data) => request.send_reader(Cursor::new(data.clone())),
        };
        let mut reply = match result {
            Ok(mut response) => {
                let status = response.status().as_u16();
                let body = response.body_mut().read_to_vec().map_err(|e| e.to_string());
                answered(status, response.headers().clone(), body)
            }
            Err(httpdigest_ureq::Error::NonAsciiAuthorization) => broke(Outcome::NotSendable),
            Err(httpdigest_ureq::Error::Auth(auth)) => failed(
                auth.failure(),
                auth.status().as_u16(),
                auth.response().headers(),
            ),
            Err(e) => broke(Outcome::Error(e.to_string())),
        };
        reply.exchanges = self.wire.take(&call.url);
        reply
    }
}

// ---------------------------------------------------------------------------------------
// reqwest
// ---------------------------------------------------------------------------------------

struct ReqwestDriver {
    client: ClientWithMiddleware,
    wire: Wire,
}

/// A reqwest middleware that records each send passing it; placed after the Digest
/// middleware, it sees each send that one makes.
pub struct Recorder(pub Wire);

#[async_trait::async_trait]
impl Middleware for Recorder {
    async fn handle(
        &self,
        request: reqwest::Request,
        extensions: &mut http::Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        let index = self.0.request(
            request.method().as_str(),
            request.url().to_string(),
            credentials(request.headers()),
            None,
        );
        let result = next.run(request, extensions).await;
        if let Ok(response) = &result {
            self.0
                .response(index, response.status().as_u16(), response.headers());
        }
        result
    }
}

/// A `DigestAuthMiddleware` for `setup`.
pub fn reqwest_middleware(setup: &Setup) -> DigestAuthMiddleware {
    DigestAuthMiddleware::with_client(setup.client())
}

impl ReqwestDriver {
    fn new(setup: &Setup) -> Self {
        let _context = runtime().enter();
        let wire = Wire::default();
        // The middleware follows redirects, each hop a request of its own; reqwest must not.
        let mut http = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_store(setup.cookie_store);
        if let Some(proxy) = &setup.proxy {
            http = http.proxy(reqwest::Proxy::http(proxy).unwrap());
        }
        let client = ClientBuilder::new(http.build().unwrap())
            .with(reqwest_middleware(setup))
            .with(Recorder(wire.clone()))
            .build();
        ReqwestDriver { client, wire }
    }
}

impl Driver for ReqwestDriver {
    fn adapter(&self) -> Adapter {
        Adapter::Reqwest
    }

    fn send(&self, call: &Call) -> Reply {
        let mut request = self.client.request(call.method.clone(), &call.url);
        match &call.body {
            Payload::Empty => {}
            Payload::Bytes(data) => request = request.body(data.clone()),
            Payload::Streamed(data) => {
                let chunks: Vec<Result<Bytes, std::io::Error>> = data
                    .chunks(1000)
                    .map(|c| Ok(Bytes::copy_from_slice(c)))
                    .collect();
                let stream = futures_util::stream::iter(chunks);
                request = request.body(reqwest::Body::wrap_stream(stream));
            }
        }
        let mut reply = runtime().block_on(async {
            match request.send().await {
                Ok(response) => {
                    let status = response.status().as_u16();
                    let headers = response.headers().clone();
                    let body = response.bytes().await.map(|b| b.to_vec());
                    answered(status, headers, body.map_err(|e| e.to_string()))
                }
                Err(e) => match httpdigest_reqwest::auth_error(&e) {
                    Some(auth) => failed(auth.failure(), auth.status().as_u16(), auth.headers()),
                    None => broke(Outcome::Error(format!("{e:#}"))),
                },
            }
        });
        reply.exchanges = self.wire.take(&call.url);
        reply
    }
}

// ---------------------------------------------------------------------------------------
// hyper
// ---------------------------------------------------------------------------------------

/// Every request body the hyper driver sends.
type Boxed = BoxBody<Bytes, Infallible>;
type HyperBody = DigestBody<Boxed>;
type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;
type HyperError = httpdigest_hyper::Error<hyper_util::client::legacy::Error>;
type HyperService = tower::util::BoxCloneSyncService<
    Request<Boxed>,
    Response<DigestBody<hyper::body::Incoming>>,
    HyperError,
>;

struct HyperDriver {
    service: HyperService,
    wire: Wire,
}

/// Placed under the Digest layer: sees each send it makes.
#[derive(Clone)]
struct Recorded<C: Clone> {
    client: HyperClient<C, HyperBody>,
    wire: Wire,
}

impl<C> Service<Request<HyperBody>> for Recorded<C>
where
    C: Connect + Clone + Send + Sync + 'static,
{
    type Response = Response<hyper::body::Incoming>;
    type Error = hyper_util::client::legacy::Error;
    type Future = BoxFuture<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<HyperBody>) -> Self::Future {
        let index = self.wire.request(
            request.method().as_str(),
            request.uri().to_string(),
            credentials(request.headers()),
            None,
        );
        let wire = self.wire.clone();
        let future = self.client.request(request);
        Box::pin(async move {
            let response = future.await?;
            wire.response(index, response.status().as_u16(), response.headers());
            Ok(response)
        })
    }
}

/// A `DigestAuthLayer` for `setup`.
pub fn hyper_layer(setup: &Setup) -> DigestAuthLayer {
    let digest = DigestAuthLayer::with_client(setup.client());
    match setup.max_buffered_body {
        Some(bytes) => digest.max_buffered_body(bytes),
        None => digest,
    }
}

impl HyperDriver {
    fn new<C>(setup: &Setup, connector: C) -> Self
    where
        C: Connect + Clone + Send + Sync + 'static,
    {
        let _context = runtime().enter();
        let wire = Wire::default();
        let client = HyperClient::builder(TokioExecutor::new()).build(connector);
        let service = ServiceBuilder::new()
            .layer(FollowRedirectLayer::new())
            .layer(hyper_layer(setup))
            .service(Recorded {
                client,
                wire: wire.clone(),
            });
        HyperDriver {
            service: HyperService::new(service),
            wire,
        }
    }
}

impl Driver for HyperDriver {
    fn adapter(&self) -> Adapter {
        Adapter::Hyper
    }

    fn send(&self, call: &Call) -> Reply {
        let body = match &call.body {
            Payload::Empty => Full::new(Bytes::new()).boxed(),
            Payload::Bytes(data) => Full::new(Bytes::from(data.clone())).boxed(),
            Payload::Streamed(data) => Chunks::new(data, 100).boxed(),
        };
        let request = Request::builder()
            .method(call.method.clone())
            .uri(&call.url)
            .body(body)
            .unwrap();
        let service = self.service.clone();
        let mut reply = runtime().block_on(async move {
            match service.oneshot(request).await {
                Ok(response) => {
                    let (parts, body) = response.into_parts();
                    let body = body.collect().await.map(|c| c.to_bytes().to_vec());
                    answered(
                        parts.status.as_u16(),
                        parts.headers,
                        body.map_err(|e| e.to_string()),
                    )
                }
                Err(httpdigest_hyper::Error::Auth(auth)) => {
                    failed(auth.failure(), auth.status().as_u16(), auth.headers())
                }
                Err(e) => broke(Outcome::Error(e.to_string())),
            }
        });
        reply.exchanges = self.wire.take(&call.url);
        reply
    }
}

/// A body of several chunks with no size hint: the client layer can only learn its length
/// by reading it.
pub struct Chunks(VecDeque<Bytes>);

impl Chunks {
    /// `data` in chunks of `chunk` bytes.
    pub fn new(data: &[u8], chunk: usize) -> Self {
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
