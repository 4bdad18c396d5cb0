//! End-to-end throughput: what Digest costs a client on top of the same client without
//! authentication, over keep-alive on loopback.
//!
//! Two servers: the project's hyper server behind `RequireDigestLayer` (started here, on a
//! runtime of its own), and lighttpd from the interop lab (`tests/interop/start-lighttpd.sh`,
//! which must be running; the run fails otherwise). Each has an open path and a protected
//! one; the open path is the no-auth baseline.
//!
//! The clients, each family compared with its own no-auth run:
//!
//! | family | no-auth baseline | with Digest |
//! |---|---|---|
//! | reqwest | `reqwest::Client` | httpdigest-reqwest; diqwest (simple: a 401 per request); diqwest session |
//! | hyper | hyper-util's legacy client | httpdigest-hyper's `DigestAuthLayer` |
//! | ureq | `ureq::Agent` | httpdigest-ureq's `DigestAgent` |
//!
//! Each runs N GETs one after the other and N GETs 16 at a time (tasks on one client for the
//! async ones, threads sharing one agent for ureq), after a warm-up that opens connections
//! and meets the first challenge. The trials of a family interleave (baseline, contender,
//! baseline, ...) so that drift in the machine's speed hits every client alike; the figures
//! are medians. Every response must be a 200 with its body read, or the run fails: the
//! benchmark is a check of every client too.
//!
//! CPU time per request is the whole process's (user and system, all threads) over a run:
//! the client's, and with our server the server's too; lighttpd's own is not in it. Unlike
//! requests per second, it does not depend on how the two sides' wake-ups line up, so the
//! difference to the no-auth run is what Digest costs.
//!
//! HTTP exchanges per request are counted by the server: requests reaching our server (a
//! counter in front of the Digest layer), lines added to lighttpd's access log.
//!
//! ```text
//! cargo bench -p httpdigest-tests --bench throughput                 # the full run
//! cargo bench -p httpdigest-tests --bench throughput -- --quick      # a check: few requests
//! cargo bench -p httpdigest-tests --bench throughput -- --requests 4000 --trials 9
//! cargo bench -p httpdigest-tests --bench throughput -- --server hyper --family ureq
//! ```
//!
//! It prints the table of BENCHMARKS.md. Throughput is never a test assertion.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::indexing_slicing,
    clippy::large_enum_variant,
    missing_docs
)]

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use diqwest::{DigestAuthSession, WithDigestAuth as _};
use http::{Request, Response};
use http_body_util::{BodyExt as _, Full};
use httpdigest::server::{Users, Verifier, VerifierConfig};
use httpdigest_hyper::{DigestAuthLayer, DigestBody, RequireDigestLayer};
use httpdigest_reqwest::DigestAuthMiddleware;
use httpdigest_tests::{drive, lab, server, strict};
use httpdigest_ureq::DigestAgent;
use hyper::body::Incoming;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use reqwest_middleware::ClientWithMiddleware;
use tokio::net::TcpListener;
use tower::{ServiceBuilder, ServiceExt as _, service_fn};

const USER: lab::User = lab::ALICE;
const CONCURRENCY: usize = 16;
/// The strict servers are measured 64 at a time too.
const STRICT_CONCURRENCY: usize = 64;

struct Args {
    requests: usize,
    trials: usize,
    warmup: usize,
    /// Only the servers and families whose name contains these (`--server`, `--family`).
    server: Option<String>,
    family: Option<String>,
}

impl Args {
    fn parse() -> Self {
        let mut args = Args {
            requests: 3200,
            trials: 7,
            warmup: 200,
            server: None,
            family: None,
        };
        let mut it = std::env::args().skip(1);
        while let Some(arg) = it.next() {
            let mut number = || -> usize {
                it.next()
                    .and_then(|n| n.parse().ok())
                    .unwrap_or_else(|| panic!("{arg} takes a number"))
            };
            match arg.as_str() {
                "--quick" => {
                    args.requests = 128;
                    args.trials = 1;
                    args.warmup = 16;
                }
                "--requests" => args.requests = number(),
                "--trials" => args.trials = number(),
                "--server" | "--family" => {
                    let name = it.next().unwrap_or_else(|| panic!("{arg} takes a name"));
                    if arg == "--server" {
                        args.server = Some(name);
                    } else {
                        args.family = Some(name);
                    }
                }
                // cargo bench passes --bench; criterion-style filters are not used.
                _ => {}
            }
        }
        assert!(
            args.requests.is_multiple_of(STRICT_CONCURRENCY),
            "--requests must be a multiple of {STRICT_CONCURRENCY}"
        );
        args
    }
}

// ---------------------------------------------------------------------------------------
// The servers
// ---------------------------------------------------------------------------------------

/// A server under test: where its open and protected paths are, and how many HTTP
/// exchanges it has answered so far.
struct Server {
    open: String,
    protected: String,
    answered: Box<dyn Fn() -> u64>,
    /// How many requests at once it is measured with, besides one at a time.
    concurrency: &'static [usize],
    /// What keeps it running (its runtime, its handle).
    _keep: Option<Box<dyn std::any::Any>>,
}

/// The project's server: hyper, `RequireDigestLayer` (default verifier: SHA-256 and MD5,
/// qop=auth, in-memory nonce counts) on every path but `/open/`.
fn our_server() -> Server {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let listener = runtime.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).unwrap();
    let mut users = Users::new("bench@httpdigest");
    users.insert(USER.name, USER.password);
    let verifier = Verifier::new(VerifierConfig::new("bench@httpdigest"), &key).unwrap();
    let protected = ServiceBuilder::new()
        .map_request(|r: Request<Incoming>| r.map(DigestBody::streamed))
        .layer(RequireDigestLayer::new(verifier, users).unwrap())
        .service(service_fn(|_: Request<DigestBody<Incoming>>| async {
            Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"ok\n"))))
        }));
    let count = Arc::new(AtomicU64::new(0));
    let counted = Arc::clone(&count);
    let service = service_fn(move |request: Request<Incoming>| {
        counted.fetch_add(1, Ordering::Relaxed);
        let protected = protected.clone();
        async move {
            if request.uri().path().starts_with("/open/") {
                Ok(Response::new(Full::new(Bytes::from_static(b"ok\n"))))
            } else {
                protected.oneshot(request).await
            }
        }
    });
    runtime.spawn(server::serve_http1(listener, move || service.clone()));
    Server {
        open: format!("http://{addr}/open/index.html"),
        protected: format!("http://{addr}/protected/index.html"),
        answered: Box::new(move || count.load(Ordering::Relaxed)),
        concurrency: &[CONCURRENCY],
        _keep: Some(Box::new(runtime)),
    }
}

/// The hermetic mod_auth_digest (`httpdigest_tests::strict`): exact next nonce count per
/// client entry, six entries, a `nextnonce` on every answer (3 s nonces).
fn strict_mod_auth_digest() -> Server {
    let server = strict::ModAuthDigestSpec::new().start();
    hermetic(server.url(""), server, strict::ModAuthDigest::requests)
}

/// The hermetic camera (`httpdigest_tests::strict`): one nonce per client, 403 to the one
/// before.
fn strict_camera() -> Server {
    let server = strict::CameraSpec::new().start();
    hermetic(server.url(""), server, strict::Camera::requests)
}

/// A hermetic strict server at `origin`, its requests counted by `requests`: its open path
/// and a protected one, measured 16 and 64 at a time.
fn hermetic<S: Send + Sync + 'static>(
    origin: String,
    server: S,
    requests: fn(&S) -> u64,
) -> Server {
    let server = Arc::new(server);
    let counted = Arc::clone(&server);
    Server {
        open: format!("{origin}{}index.html", strict::OPEN),
        protected: format!("{origin}/snapshot"),
        answered: Box::new(move || requests(&counted)),
        concurrency: &[CONCURRENCY, STRICT_CONCURRENCY],
        _keep: Some(Box::new(server)),
    }
}

/// Apache's `/digest-stale/` from the lab (3 s nonces, `AuthDigestNcCheck On`); its root is
/// open. Requests are counted in its access log, a line each. It must be running.
fn apache_strict() -> Server {
    let open = format!("{}/", lab::APACHE);
    let status = ureq::get(&open)
        .call()
        .unwrap_or_else(|e| {
            panic!(
                "Apache at {}: {e}; start tests/interop/start-apache.sh",
                lab::APACHE
            )
        })
        .status();
    assert_eq!(status, 200, "Apache's open page");
    let log = std::path::Path::new(&lab::run_dir()).join("logs/apache-access.log");
    let answered = move || {
        let text =
            std::fs::read_to_string(&log).unwrap_or_else(|e| panic!("{}: {e}", log.display()));
        text.lines().count() as u64
    };
    Server {
        open,
        protected: lab::APACHE_STRICT.to_owned(),
        answered: Box::new(answered),
        concurrency: &[CONCURRENCY],
        _keep: None,
    }
}

/// lighttpd from the lab: `/index.html` is open, `/digest-sha256/` asks for SHA-256 Digest.
/// It must be running: a missing server fails the run.
///
/// Its requests are counted by mod_status ("Total Accesses"), which lighttpd updates once a
/// second: each reading waits for the count to settle, and leaves out the readings before
/// it (each of which the count includes).
fn lighttpd() -> Server {
    let open = format!("{}/index.html", lab::LIGHTTPD);
    let status = ureq::get(&open)
        .call()
        .unwrap_or_else(|e| {
            panic!(
                "lighttpd at {}: {e}; start tests/interop/start-lighttpd.sh",
                lab::LIGHTTPD
            )
        })
        .status();
    assert_eq!(status, 200, "lighttpd's open page");
    let readings = AtomicU64::new(0);
    let answered = move || {
        std::thread::sleep(Duration::from_millis(1100));
        let url = format!("{}/server-status?auto", lab::LIGHTTPD);
        let text = ureq::get(&url)
            .call()
            .and_then(|mut r| r.body_mut().read_to_string())
            .unwrap_or_else(|e| panic!("{url}: {e}"));
        let total: u64 = text
            .lines()
            .find_map(|l| l.strip_prefix("Total Accesses: "))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or_else(|| panic!("{url}: no Total Accesses in {text:?}"));
        total - readings.fetch_add(1, Ordering::Relaxed)
    };
    Server {
        open,
        protected: format!("{}/digest-sha256/index.html", lab::LIGHTTPD),
        answered: Box::new(answered),
        concurrency: &[CONCURRENCY],
        _keep: None,
    }
}

// ---------------------------------------------------------------------------------------
// The clients
// ---------------------------------------------------------------------------------------

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
type HyperDigest = tower::util::BoxCloneSyncService<
    Request<Full<Bytes>>,
    Response<DigestBody<Incoming>>,
    httpdigest_hyper::Error<hyper_util::client::legacy::Error>,
>;

/// One client, able to GET a URL and read the whole body; `Err` for anything but a 200.
#[derive(Clone)]
enum Client {
    Reqwest(reqwest::Client),
    ReqwestDigest(ClientWithMiddleware),
    Diqwest(reqwest::Client),
    DiqwestSession(reqwest::Client, Arc<DigestAuthSession>),
    Hyper(HyperClient<HttpConnector, Full<Bytes>>),
    HyperDigest(HyperDigest),
    Ureq(ureq::Agent),
    UreqDigest(DigestAgent),
}

fn ok(status: u16, body: Result<Bytes, String>) -> Result<(), String> {
    let body = body?;
    if status == 200 && !body.is_empty() {
        Ok(())
    } else {
        Err(format!("status {status}, {} body bytes", body.len()))
    }
}

impl Client {
    fn name(&self) -> &'static str {
        match self {
            Client::Reqwest(_) => "reqwest, no auth",
            Client::ReqwestDigest(_) => "reqwest + httpdigest-reqwest",
            Client::Diqwest(_) => "reqwest + diqwest (simple)",
            Client::DiqwestSession(..) => "reqwest + diqwest (session)",
            Client::Hyper(_) => "hyper client, no auth",
            Client::HyperDigest(_) => "hyper client + httpdigest-hyper",
            Client::Ureq(_) => "ureq, no auth",
            Client::UreqDigest(_) => "ureq + httpdigest-ureq",
        }
    }

    /// Whether the run must not fail: the baselines and httpdigest's adapters. Failures of
    /// the other crates are reported in the table.
    fn is_ours(&self) -> bool {
        !matches!(self, Client::Diqwest(_) | Client::DiqwestSession(..))
    }

    fn is_blocking(&self) -> bool {
        matches!(self, Client::Ureq(_) | Client::UreqDigest(_))
    }

    fn get_async<'a>(&'a self, url: &'a str) -> BoxFuture<'a, Result<(), String>> {
        let e = |e: &dyn std::fmt::Display| e.to_string();
        Box::pin(async move {
            let response = match self {
                Client::Reqwest(c) => c.get(url).send().await.map_err(|x| e(&x))?,
                Client::ReqwestDigest(c) => c.get(url).send().await.map_err(|x| {
                    match httpdigest_reqwest::auth_error(&x) {
                        Some(auth) => format!("{x}: {} (status {})", auth.failure(), auth.status()),
                        None => e(&x),
                    }
                })?,
                Client::Diqwest(c) => c
                    .get(url)
                    .send_digest_auth((USER.name, USER.password))
                    .await
                    .map_err(|x| e(&x))?,
                Client::DiqwestSession(c, session) => c
                    .get(url)
                    .send_digest_auth(session.as_ref())
                    .await
                    .map_err(|x| e(&x))?,
                Client::Hyper(c) => {
                    let response = c.get(url.parse().unwrap()).await.map_err(|x| e(&x))?;
                    return hyper_body(response).await;
                }
                Client::HyperDigest(s) => {
                    let request = Request::get(url).body(Full::new(Bytes::new())).unwrap();
                    let response = s.clone().oneshot(request).await.map_err(|x| e(&x))?;
                    return hyper_body(response).await;
                }
                Client::Ureq(_) | Client::UreqDigest(_) => unreachable!("blocking"),
            };
            let status = response.status().as_u16();
            ok(status, response.bytes().await.map_err(|x| e(&x)))
        })
    }

    fn get_blocking(&self, url: &str) -> Result<(), String> {
        let mut response = match self {
            Client::Ureq(agent) => agent.get(url).call().map_err(|e| e.to_string())?,
            Client::UreqDigest(agent) => agent.get(url).call().map_err(|e| e.to_string())?,
            _ => unreachable!("async"),
        };
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .read_to_vec()
            .map(Bytes::from)
            .map_err(|e| e.to_string());
        ok(status, body)
    }
}

async fn hyper_body<B>(response: Response<B>) -> Result<(), String>
where
    B: hyper::body::Body,
    B::Error: std::fmt::Display,
{
    let status = response.status().as_u16();
    let body = response
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .map_err(|e| e.to_string());
    ok(status, body)
}

/// The clients, by family: the no-auth baseline first.
fn families() -> Vec<Vec<Client>> {
    let (user, password) = (USER.name, USER.password);
    let reqwest = || reqwest::Client::builder().no_proxy().build().unwrap();
    let ureq_config = || ureq::Agent::config_builder().max_idle_connections_per_host(CONCURRENCY);
    let hyper_digest = {
        let _context = drive::runtime().enter();
        let client = HyperClient::builder(TokioExecutor::new()).build(HttpConnector::new());
        HyperDigest::new(
            ServiceBuilder::new()
                .layer(DigestAuthLayer::new(user, password))
                .service(client),
        )
    };
    let _context = drive::runtime().enter();
    vec![
        vec![
            Client::Reqwest(reqwest()),
            Client::ReqwestDigest(
                reqwest_middleware::ClientBuilder::new(reqwest())
                    .with(DigestAuthMiddleware::new(user, password))
                    .build(),
            ),
            Client::Diqwest(reqwest()),
            Client::DiqwestSession(reqwest(), Arc::new(DigestAuthSession::new(user, password))),
        ],
        vec![
            Client::Hyper(HyperClient::builder(TokioExecutor::new()).build(HttpConnector::new())),
            Client::HyperDigest(hyper_digest),
        ],
        vec![
            Client::Ureq(ureq_config().build().new_agent()),
            Client::UreqDigest(
                DigestAgent::builder()
                    .ureq_config(ureq_config().build())
                    .credentials(user, password)
                    .build()
                    .unwrap(),
            ),
        ],
    ]
}

/// What a run of requests came to.
struct Run {
    took: Duration,
    /// CPU time the whole process used meanwhile: the client, and our server when it is the
    /// server under test.
    cpu: Duration,
    /// Requests that did not end in a 200 with a body, and the first one's error.
    failed: usize,
    error: Option<String>,
}

/// `requests` GETs of `url`, `concurrency` at a time.
fn run(client: &Client, url: &str, requests: usize, concurrency: usize) -> Run {
    let each = requests / concurrency;
    let failures = std::sync::Mutex::new((0usize, None::<String>));
    let record = |result: Result<(), String>| {
        if let Err(e) = result {
            let mut f = failures.lock().unwrap();
            f.0 += 1;
            f.1.get_or_insert(e);
        }
    };
    let start = Instant::now();
    let cpu_start = cpu_time::ProcessTime::now();
    if client.is_blocking() {
        std::thread::scope(|scope| {
            for _ in 0..concurrency {
                scope.spawn(|| {
                    for _ in 0..each {
                        record(client.get_blocking(url));
                    }
                });
            }
        });
    } else {
        drive::runtime().block_on(async {
            let mut tasks = tokio::task::JoinSet::new();
            for _ in 0..concurrency {
                let (client, url) = (client.clone(), url.to_owned());
                tasks.spawn(async move {
                    let mut results = Vec::with_capacity(each);
                    for _ in 0..each {
                        results.push(client.get_async(&url).await);
                    }
                    results
                });
            }
            while let Some(results) = tasks.join_next().await {
                results.unwrap().into_iter().for_each(&record);
            }
        });
    }
    let took = start.elapsed();
    let cpu = cpu_start.elapsed();
    let (failed, error) = failures.into_inner().unwrap();
    Run {
        took,
        cpu,
        failed,
        error,
    }
}

// ---------------------------------------------------------------------------------------
// The measurement
// ---------------------------------------------------------------------------------------

/// A client's figures in one mode: requests per second of each trial, exchanges, failures.
#[derive(Default)]
struct Figures {
    rps: Vec<f64>,
    /// CPU microseconds per request of each trial.
    cpu: Vec<f64>,
    /// HTTP exchanges per request, in the counted run.
    exchanges: f64,
    requests: usize,
    failed: usize,
    error: Option<String>,
}

impl Figures {
    /// Takes the failures of a run of `requests`.
    fn count(&mut self, run: &Run, requests: usize) {
        self.requests += requests;
        self.failed += run.failed;
        if self.error.is_none() {
            self.error.clone_from(&run.error);
        }
    }
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() / 2]
}

fn main() {
    let args = Args::parse();
    println!(
        "{} requests per run, {} trials, median requests/s; machine: {} logical CPUs",
        args.requests,
        args.trials,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!();
    println!(
        "| server | client | mode | requests/s | ÷ same client, no auth | CPU µs per request | + over no auth | HTTP exchanges per request |"
    );
    println!("|---|---|---|---:|---:|---:|---:|---:|");
    // Failures of the baselines or of httpdigest's adapters: the run fails after the table.
    let mut broken = Vec::new();
    let chosen = |name: &str, filter: &Option<String>| {
        filter.as_ref().is_none_or(|f| name.contains(f.as_str()))
    };
    type Start = fn() -> Server;
    let servers: [(&str, Start); 5] = [
        ("httpdigest-hyper server", our_server),
        ("lighttpd (lab)", lighttpd),
        ("strict: mod_auth_digest (hermetic)", strict_mod_auth_digest),
        ("strict: camera (hermetic)", strict_camera),
        ("strict: Apache /digest-stale/ (lab)", apache_strict),
    ];
    for (name, server) in servers
        .iter()
        .filter(|(name, _)| chosen(name, &args.server))
    {
        let server = server();
        // New clients per server: credentials stay with the first origin they are used on.
        for family in families() {
            if !chosen(family[0].name(), &args.family) {
                continue;
            }
            for &concurrency in std::iter::once(&1).chain(server.concurrency) {
                let mode = if concurrency == 1 {
                    "sequential".to_owned()
                } else if family[0].is_blocking() {
                    format!("{concurrency} threads")
                } else {
                    format!("{concurrency} concurrent")
                };
                let url = |i: usize| {
                    if i == 0 {
                        &server.open
                    } else {
                        &server.protected
                    }
                };
                // Warm-up: connections open, the first challenge met.
                for (i, client) in family.iter().enumerate() {
                    run(client, url(i), args.warmup.max(concurrency), concurrency);
                }
                let mut figures: Vec<Figures> = family.iter().map(|_| Figures::default()).collect();
                for _ in 0..args.trials {
                    for (i, client) in family.iter().enumerate() {
                        let r = run(client, url(i), args.requests, concurrency);
                        let f = &mut figures[i];
                        f.rps.push(args.requests as f64 / r.took.as_secs_f64());
                        f.cpu.push(r.cpu.as_secs_f64() * 1e6 / args.requests as f64);
                        f.count(&r, args.requests);
                    }
                }
                // One more run per client, untimed, counted by the server.
                for (i, client) in family.iter().enumerate() {
                    let before = (server.answered)();
                    let r = run(client, url(i), args.requests, concurrency);
                    figures[i].exchanges =
                        ((server.answered)() - before) as f64 / args.requests as f64;
                    figures[i].count(&r, args.requests);
                }
                let baseline = median(&figures[0].rps);
                let baseline_cpu = median(&figures[0].cpu);
                for (client, f) in family.iter().zip(&figures) {
                    let rps = median(&f.rps);
                    let cpu = median(&f.cpu);
                    let failed = match &f.error {
                        Some(e) => {
                            if client.is_ours() {
                                broken.push(format!("{} against {}: {e}", client.name(), name));
                            }
                            format!(" ({} of {} failed: {e})", f.failed, f.requests)
                        }
                        None => String::new(),
                    };
                    println!(
                        "| {} | {} | {mode} | {rps:.0} | {:.3} | {cpu:.1} | {:+.1} | {:.2}{failed} |",
                        name,
                        client.name(),
                        rps / baseline,
                        cpu - baseline_cpu,
                        f.exchanges,
                    );
                }
            }
        }
    }
    assert!(broken.is_empty(), "failed requests:\n{}", broken.join("\n"));
}
