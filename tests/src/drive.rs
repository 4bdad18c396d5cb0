//! The three client adapters behind one blocking interface, each recording every exchange
//! it puts on the wire: the ureq agent (through its observer), the reqwest middleware
//! (through a middleware placed after it) and the hyper client layer (through a service
//! placed under it, over hyper-util's client, with tower-http's `FollowRedirect` above it).
//!
//! [`Driver::get`] blocks; the async adapters run on one shared tokio runtime, so many
//! threads may call `get` at once on one driver (the concurrency tests do).

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};
use std::thread::ThreadId;

use bytes::Bytes;
use http::{HeaderMap, Request, Response, header};
use http_body_util::{BodyExt, Full};
use httpdigest::client::{ClientConfig, Failure};
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
    /// A forward proxy: the credentials are then the proxy's, and requests go through it.
    pub proxy: Option<String>,
    /// The core's policy.
    pub config: ClientConfig,
}

impl Setup {
    /// Origin credentials, the default policy.
    pub fn new(user: &str, password: &str) -> Self {
        Setup {
            user: user.to_owned(),
            password: password.to_owned(),
            proxy: None,
            config: ClientConfig::default(),
        }
    }

    /// Proxy credentials for `proxy`.
    pub fn via_proxy(mut self, proxy: &str) -> Self {
        self.proxy = Some(proxy.to_owned());
        self
    }

    /// The core's policy.
    pub fn config(mut self, config: ClientConfig) -> Self {
        self.config = config;
        self
    }
}

/// An adapter ready to send GETs.
pub trait Driver: Send + Sync {
    /// Which adapter this is.
    fn adapter(&self) -> Adapter;
    /// GET `url` (following redirects, as the adapter does): how it ended, and the exchanges
    /// the adapter made for it (those whose URI is `url`, so concurrent calls with distinct
    /// URLs tell theirs apart).
    fn get(&self, url: &str) -> (Outcome, Vec<Exchange>);
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

/// Exchanges as the adapters make them, each with a number and the thread that sent it.
#[derive(Clone, Default)]
struct Wire(Arc<Mutex<WireLog>>);

#[derive(Default)]
struct WireLog {
    next: u64,
    exchanges: Vec<(u64, Option<ThreadId>, Exchange)>,
}

impl Wire {
    /// A request goes out; returns its number.
    fn request(&self, uri: String, sent: Option<String>, thread: Option<ThreadId>) -> u64 {
        let mut log = self.0.lock().unwrap();
        let number = log.next;
        log.next += 1;
        let exchange = Exchange {
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

impl UreqDriver {
    fn new(setup: &Setup) -> Self {
        let wire = Wire::default();
        let log = wire.clone();
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build();
        let mut builder = DigestAgent::builder()
            .ureq_config(config)
            .client_config(setup.config.clone())
            .observer(move |event| {
                let thread = std::thread::current().id();
                match event {
                    Event::Request {
                        uri,
                        authorization,
                        proxy_authorization,
                        ..
                    } => {
                        let sent = authorization.or(*proxy_authorization).map(str::to_owned);
                        log.request(uri.to_string(), sent, Some(thread));
                    }
                    Event::Response {
                        status, headers, ..
                    } => log.response_on(thread, status.as_u16(), headers),
                    _ => {}
                }
            });
        builder = match &setup.proxy {
            Some(proxy) => builder
                .proxy(proxy.clone())
                .proxy_credentials(setup.user.clone(), setup.password.clone()),
            None => builder.credentials(setup.user.clone(), setup.password.clone()),
        };
        UreqDriver {
            agent: builder.build().unwrap(),
            wire,
        }
    }
}

impl Driver for UreqDriver {
    fn adapter(&self) -> Adapter {
        Adapter::Ureq
    }

    fn get(&self, url: &str) -> (Outcome, Vec<Exchange>) {
        let outcome = match self.agent.get(url).call() {
            Ok(mut response) => match response.body_mut().read_to_vec() {
                Ok(_) => Outcome::Status(response.status().as_u16()),
                Err(e) => Outcome::Error(format!("reading the body: {e}")),
            },
            Err(httpdigest_ureq::Error::NonAsciiAuthorization) => Outcome::NotSendable,
            Err(e) => match e.failure() {
                Some(failure) => Outcome::Failure(failure.clone()),
                None => Outcome::Error(e.to_string()),
            },
        };
        (outcome, self.wire.take(url))
    }
}

// ---------------------------------------------------------------------------------------
// reqwest
// ---------------------------------------------------------------------------------------

struct ReqwestDriver {
    client: ClientWithMiddleware,
    wire: Wire,
}

/// Placed after the Digest middleware: sees each send it makes.
struct Recorder(Wire);

#[async_trait::async_trait]
impl Middleware for Recorder {
    async fn handle(
        &self,
        request: reqwest::Request,
        extensions: &mut http::Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        let index = self.0.request(
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

impl ReqwestDriver {
    fn new(setup: &Setup) -> Self {
        let _context = runtime().enter();
        let wire = Wire::default();
        let mut http = reqwest::Client::builder().no_proxy();
        let mut digest = DigestAuthMiddleware::builder().client_config(setup.config.clone());
        digest = match &setup.proxy {
            Some(proxy) => {
                http = http.proxy(reqwest::Proxy::http(proxy).unwrap());
                digest
                    .proxy(proxy.clone())
                    .proxy_credentials(setup.user.clone(), setup.password.clone())
            }
            None => digest.credentials(setup.user.clone(), setup.password.clone()),
        };
        let client = ClientBuilder::new(http.build().unwrap())
            .with(digest.build().unwrap())
            .with(Recorder(wire.clone()))
            .build();
        ReqwestDriver { client, wire }
    }
}

impl Driver for ReqwestDriver {
    fn adapter(&self) -> Adapter {
        Adapter::Reqwest
    }

    fn get(&self, url: &str) -> (Outcome, Vec<Exchange>) {
        let outcome = runtime().block_on(async {
            match self.client.get(url).send().await {
                Ok(response) => {
                    let status = response.status().as_u16();
                    match response.bytes().await {
                        Ok(_) => Outcome::Status(status),
                        Err(e) => Outcome::Error(format!("reading the body: {e}")),
                    }
                }
                Err(e) => match httpdigest_reqwest::auth_error(&e) {
                    Some(auth) => Outcome::Failure(auth.failure().clone()),
                    None => Outcome::Error(format!("{e:#}")),
                },
            }
        });
        (outcome, self.wire.take(url))
    }
}

// ---------------------------------------------------------------------------------------
// hyper
// ---------------------------------------------------------------------------------------

type HyperBody = DigestBody<Full<Bytes>>;
type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;
type HyperError = httpdigest_hyper::Error<hyper_util::client::legacy::Error>;
type HyperService = tower::util::BoxCloneSyncService<
    Request<Full<Bytes>>,
    Response<hyper::body::Incoming>,
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

impl HyperDriver {
    fn new<C>(setup: &Setup, connector: C) -> Self
    where
        C: Connect + Clone + Send + Sync + 'static,
    {
        let _context = runtime().enter();
        let wire = Wire::default();
        let client = HyperClient::builder(TokioExecutor::new()).build(connector);
        let mut digest = DigestAuthLayer::builder().client_config(setup.config.clone());
        digest = match &setup.proxy {
            Some(proxy) => digest
                .proxy(proxy.clone())
                .proxy_credentials(setup.user.clone(), setup.password.clone()),
            None => digest.credentials(setup.user.clone(), setup.password.clone()),
        };
        let service = ServiceBuilder::new()
            .layer(FollowRedirectLayer::new())
            .layer(digest.build().unwrap())
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

    fn get(&self, url: &str) -> (Outcome, Vec<Exchange>) {
        let request = Request::get(url).body(Full::new(Bytes::new())).unwrap();
        let service = self.service.clone();
        let outcome = runtime().block_on(async move {
            match service.oneshot(request).await {
                Ok(response) => {
                    let status = response.status().as_u16();
                    match response.into_body().collect().await {
                        Ok(_) => Outcome::Status(status),
                        Err(e) => Outcome::Error(format!("reading the body: {e}")),
                    }
                }
                Err(e) => match e.failure() {
                    Some(failure) => Outcome::Failure(failure.clone()),
                    None => Outcome::Error(e.to_string()),
                },
            }
        });
        (outcome, self.wire.take(url))
    }
}
