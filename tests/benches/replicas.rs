//! Throughput of the example server at scale: three replicas sharing the nonce key
//! (`--key-file`) and one Redis (`--redis`), with nothing in front of them, against one
//! server with the in-memory stores, one with Redis, and one with Redis nonce counts and no
//! guess limiter (`--guess-limits off`: one Redis call per request instead of two)
//! (BENCHMARKS.md, "The server at scale").
//!
//! The servers are `adapter-hyper/examples/server.rs` as processes (started as
//! `httpdigest_tests::example_server` starts them, in the release build; with `--quick`, in
//! the debug build the tests use, which is there already: a quick run is a check, not a
//! measurement). The clients are the project's own, in this process: httpdigest-hyper's
//! `DigestAuthLayer` over hyper-util's client, and httpdigest-reqwest's middleware over
//! reqwest; a client per family and server (credentials stay with the origin they are first
//! used on), N tasks, task `i` sending through server `i mod servers`'s client
//! (round-robin), each task one request after another. Total
//! authenticated requests per second over the run, median of the trials; the trials of the
//! server sets interleave, so drift in the machine's speed hits each alike. Every response
//! must be a 200 with its body (the user's name), or the run fails.
//!
//! CPU per request is the whole machine's (every process: the clients, the servers,
//! Redis; from `/proc/stat`, steal time left out), over the run.
//!
//! Redis is a private `redis-server` of this run (no persistence), since the example server
//! keeps its keys under the default prefix; `--redis URL` names another (the lab's:
//! `redis://127.0.0.1:18094/`).
//!
//! ```text
//! cargo bench -p httpdigest-tests --bench replicas                  # the full run
//! cargo bench -p httpdigest-tests --bench replicas -- --quick       # a check
//! cargo bench -p httpdigest-tests --bench replicas -- --requests 9600 --trials 9 --family hyper
//! cargo bench -p httpdigest-tests --bench replicas -- --servers "3 replicas" --concurrency 48
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
    missing_docs
)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt as _, Full};
use httpdigest_hyper::{DigestAuthLayer, DigestBody};
use httpdigest_reqwest::DigestAuthMiddleware;
use httpdigest_tests::drive;
use httpdigest_tests::example_server::cargo_run;
use httpdigest_tests::redis::RedisServer;
use hyper::body::Incoming;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use reqwest_middleware::ClientWithMiddleware;
use tower::{ServiceBuilder, ServiceExt as _};

const REALM: &str = "replicas@example.org";
const USER: &str = "alice";
const PASSWORD: &str = "s3cret";

struct Args {
    requests: usize,
    trials: usize,
    warmup: usize,
    concurrency: Vec<usize>,
    release: bool,
    redis: Option<String>,
    family: Option<String>,
    /// Only the server sets whose name contains this (`--servers`).
    servers: Option<String>,
}

impl Args {
    fn parse() -> Self {
        let mut args = Args {
            requests: 9600,
            trials: 5,
            warmup: 960,
            concurrency: vec![12, 48],
            release: true,
            redis: None,
            family: None,
            servers: None,
        };
        let mut it = std::env::args().skip(1);
        while let Some(arg) = it.next() {
            let mut value = || it.next().unwrap_or_else(|| panic!("{arg} takes a value"));
            match arg.as_str() {
                "--quick" => {
                    args.requests = 96;
                    args.trials = 1;
                    args.warmup = 48;
                    args.release = false;
                }
                "--requests" => args.requests = value().parse().expect("--requests N"),
                "--trials" => args.trials = value().parse().expect("--trials N"),
                "--concurrency" => {
                    args.concurrency = value()
                        .split(',')
                        .map(|n| n.parse().expect("--concurrency N,M"))
                        .collect();
                }
                "--redis" => args.redis = Some(value()),
                "--family" => args.family = Some(value()),
                "--servers" => args.servers = Some(value()),
                // cargo bench passes --bench.
                _ => {}
            }
        }
        for &c in &args.concurrency {
            assert!(
                args.requests.is_multiple_of(c) && args.warmup.is_multiple_of(c),
                "--requests ({}) and the warm-up ({}) must be multiples of each concurrency ({c})",
                args.requests,
                args.warmup
            );
        }
        args
    }
}

// ---------------------------------------------------------------------------------------
// The servers
// ---------------------------------------------------------------------------------------

/// An example server process (`cargo run` replaces itself with the server), killed on drop;
/// what it prints after its first line goes to stderr with its name.
struct Replica {
    child: Child,
    url: String,
}

impl Replica {
    fn start(name: &str, release: bool, args: &[&str]) -> Self {
        let mut command = cargo_run();
        if release {
            command.arg("--release");
        }
        let child = command
            .args(["--", "--listen", "127.0.0.1:0"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cannot run cargo for the example server");
        let mut replica = Self {
            child,
            url: String::new(),
        };
        let mut stdout = BufReader::new(replica.child.stdout.take().unwrap());
        let stderr = BufReader::new(replica.child.stderr.take().unwrap());
        let mut line = String::new();
        let _ = stdout.read_line(&mut line);
        let Some(url) = line.trim().strip_prefix("listening on ") else {
            panic!("{name} did not start ({args:?}): first line {line:?}");
        };
        replica.url = format!("{url}index.html");
        for (reader, stream) in [
            (Box::new(stdout) as Box<dyn BufRead + Send>, "stdout"),
            (Box::new(stderr), "stderr"),
        ] {
            let prefix = format!("{name} {stream}: ");
            std::thread::spawn(move || {
                for line in reader.lines() {
                    let Ok(line) = line else { break };
                    eprintln!("{prefix}{line}");
                }
            });
        }
        replica
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A set of servers the clients spread over.
struct ServerSet {
    name: &'static str,
    servers: Vec<Replica>,
}

impl ServerSet {
    fn urls(&self) -> Vec<String> {
        self.servers.iter().map(|s| s.url.clone()).collect()
    }
}

// ---------------------------------------------------------------------------------------
// The clients
// ---------------------------------------------------------------------------------------

type HyperDigest = tower::util::BoxCloneSyncService<
    Request<Full<Bytes>>,
    Response<DigestBody<Incoming>>,
    httpdigest_hyper::Error<hyper_util::client::legacy::Error>,
>;

#[derive(Clone)]
enum Client {
    Hyper(HyperDigest),
    Reqwest(ClientWithMiddleware),
}

impl Client {
    const FAMILIES: [&str; 2] = [
        "hyper client + httpdigest-hyper",
        "reqwest + httpdigest-reqwest",
    ];

    fn new(family: &str) -> Self {
        let _context = drive::runtime().enter();
        if family.starts_with("hyper") {
            let client = HyperClient::builder(TokioExecutor::new()).build(HttpConnector::new());
            Client::Hyper(HyperDigest::new(
                ServiceBuilder::new()
                    .layer(DigestAuthLayer::new(USER, PASSWORD))
                    .service(client),
            ))
        } else {
            let reqwest = reqwest::Client::builder().no_proxy().build().unwrap();
            Client::Reqwest(
                reqwest_middleware::ClientBuilder::new(reqwest)
                    .with(DigestAuthMiddleware::new(USER, PASSWORD))
                    .build(),
            )
        }
    }

    /// GET `url`: `Err` unless a 200 whose body is the user's name.
    async fn get(&self, url: &str) -> Result<(), String> {
        let (status, body) = match self {
            Client::Hyper(service) => {
                let request = Request::get(url).body(Full::new(Bytes::new())).unwrap();
                let response = service
                    .clone()
                    .oneshot(request)
                    .await
                    .map_err(|e| e.to_string())?;
                let status = response.status().as_u16();
                let body = response
                    .into_body()
                    .collect()
                    .await
                    .map_err(|e| e.to_string())?
                    .to_bytes();
                (status, body)
            }
            Client::Reqwest(client) => {
                let response = client.get(url).send().await.map_err(|e| e.to_string())?;
                let status = response.status().as_u16();
                (status, response.bytes().await.map_err(|e| e.to_string())?)
            }
        };
        if status == 200 && body.trim_ascii() == USER.as_bytes() {
            Ok(())
        } else {
            Err(format!(
                "status {status}, body {:?}",
                String::from_utf8_lossy(&body)
            ))
        }
    }
}

// ---------------------------------------------------------------------------------------
// The measurement
// ---------------------------------------------------------------------------------------

/// The whole machine's busy CPU time so far (user, nice, system, irq, softirq; not steal),
/// from the first line of `/proc/stat`, in USER_HZ ticks of 10 ms.
fn machine_busy() -> Duration {
    let stat = std::fs::read_to_string("/proc/stat").expect("/proc/stat");
    let fields: Vec<u64> = stat
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("cpu "))
        .expect("the cpu line of /proc/stat")
        .split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect();
    // user nice system idle iowait irq softirq steal ...
    let busy = fields[0] + fields[1] + fields[2] + fields[5] + fields[6];
    Duration::from_millis(busy * 10)
}

struct Run {
    took: Duration,
    cpu: Duration,
    failed: usize,
    error: Option<String>,
}

/// `requests` GETs, `concurrency` tasks at once, task `i` to `urls[i % urls.len()]` with
/// `clients[i % urls.len()]`.
fn run(clients: &[Client], urls: &[String], requests: usize, concurrency: usize) -> Run {
    let each = requests / concurrency;
    let start = Instant::now();
    let cpu_start = machine_busy();
    let results = drive::runtime().block_on(async {
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..concurrency {
            let (client, url) = (
                clients[i % urls.len()].clone(),
                urls[i % urls.len()].clone(),
            );
            tasks.spawn(async move {
                let mut results = Vec::with_capacity(each);
                for _ in 0..each {
                    results.push(client.get(&url).await);
                }
                results
            });
        }
        let mut all = Vec::with_capacity(requests);
        while let Some(results) = tasks.join_next().await {
            all.extend(results.unwrap());
        }
        all
    });
    let took = start.elapsed();
    let cpu = machine_busy().saturating_sub(cpu_start);
    let mut errors = results.into_iter().filter_map(Result::err);
    let error = errors.next();
    let failed = usize::from(error.is_some()) + errors.count();
    Run {
        took,
        cpu,
        failed,
        error,
    }
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() / 2]
}

fn main() {
    let args = Args::parse();
    let _redis_server;
    let redis = match &args.redis {
        Some(url) => {
            httpdigest_tests::redis::require(url);
            url.clone()
        }
        None => {
            let server = RedisServer::start();
            let url = server.url();
            _redis_server = server;
            url
        }
    };
    let dir =
        std::env::temp_dir().join(format!("httpdigest-bench-replicas-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let key_file = dir.join("nonce.key");
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).unwrap();
    std::fs::write(&key_file, key).unwrap();
    let key_file = key_file.to_str().unwrap().to_owned();
    let user = format!("{USER}:{PASSWORD}");
    let base = ["--realm", REALM, "--user", &user, "--key-file", &key_file];
    let with_redis = [&base[..], &["--redis", &redis]].concat();
    let redis_no_limiter = [&with_redis[..], &["--guess-limits", "off"]].concat();
    // (name, server names, their options)
    let wanted: [(&'static str, Vec<String>, &[&str]); 4] = [
        ("1 server, in memory", vec!["memory".into()], &base),
        ("1 server, Redis", vec!["redis".into()], &with_redis),
        (
            "1 server, Redis, no guess limiter",
            vec!["redis-no-limiter".into()],
            &redis_no_limiter,
        ),
        (
            "3 replicas, Redis",
            (0..3).map(|i| format!("replica {i}")).collect(),
            &with_redis,
        ),
    ];
    let sets: Vec<ServerSet> = wanted
        .into_iter()
        .filter(|(name, ..)| {
            args.servers
                .as_ref()
                .is_none_or(|f| name.contains(f.as_str()))
        })
        .map(|(name, names, options)| ServerSet {
            name,
            servers: names
                .iter()
                .map(|n| Replica::start(n, args.release, options))
                .collect(),
        })
        .collect();

    println!(
        "{} requests per run, {} trials, median requests/s; {} build of the servers; machine: {} logical CPUs",
        args.requests,
        args.trials,
        if args.release { "release" } else { "debug" },
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!();
    println!(
        "| servers | client | tasks at once | requests/s | ÷ 1 server, in memory | machine CPU µs per request |"
    );
    println!("|---|---|---:|---:|---:|---:|");
    let mut broken = Vec::new();
    for family in Client::FAMILIES {
        if args
            .family
            .as_ref()
            .is_some_and(|f| !family.contains(f.as_str()))
        {
            continue;
        }
        // A client per server: each learns its server's challenge in the warm-up.
        let clients: Vec<Vec<Client>> = sets
            .iter()
            .map(|set| set.servers.iter().map(|_| Client::new(family)).collect())
            .collect();
        for &concurrency in &args.concurrency {
            for (set, client) in sets.iter().zip(&clients) {
                let r = run(client, &set.urls(), args.warmup, concurrency);
                if let Some(e) = r.error {
                    broken.push(format!("{family}, warm-up against {}: {e}", set.name));
                }
            }
            let mut rps = vec![Vec::new(); sets.len()];
            let mut cpu = vec![Vec::new(); sets.len()];
            for _ in 0..args.trials {
                for (i, (set, client)) in sets.iter().zip(&clients).enumerate() {
                    let r = run(client, &set.urls(), args.requests, concurrency);
                    rps[i].push(args.requests as f64 / r.took.as_secs_f64());
                    cpu[i].push(r.cpu.as_secs_f64() * 1e6 / args.requests as f64);
                    if let Some(e) = r.error {
                        broken.push(format!(
                            "{family}, {concurrency} at once against {}: {} of {} failed: {e}",
                            set.name, r.failed, args.requests
                        ));
                    }
                }
            }
            // The ratio to the in-memory server, when it ran.
            let baseline = (sets[0].name == "1 server, in memory").then(|| median(&rps[0]));
            for (i, set) in sets.iter().enumerate() {
                let r = median(&rps[i]);
                let ratio = baseline.map_or("—".to_owned(), |b| format!("{:.2}", r / b));
                println!(
                    "| {} | {family} | {concurrency} | {r:.0} | {ratio} | {:.1} |",
                    set.name,
                    median(&cpu[i]),
                );
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(broken.is_empty(), "failed requests:\n{}", broken.join("\n"));
}
