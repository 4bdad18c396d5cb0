//! `server`: a hyper server behind [`RequireDigestLayer`], answering `200` with the user's
//! name to every authenticated request.
//!
//! ```text
//! cargo run -p httpdigest-hyper --example server -- [options]
//! ```
//!
//! With no options it listens on 127.0.0.1:8080 for the user `alice` (password `s3cret`),
//! offering SHA-256 and MD5 with `qop=auth`. The first line on stdout is
//! `listening on http://ADDRESS/`; run with `--help` for the options.
//!
//! # What a server must add around the layer
//!
//! [`RequireDigestLayer`] decides who may in; it does not defend the server. A server that
//! clients it does not control can reach needs, around the layer:
//!
//! - **A header timeout.** A client that sends half a request head, or a byte every few
//!   seconds, holds a connection and a file descriptor for as long as it likes. hyper's
//!   `http1::Builder::header_read_timeout` bounds the whole head, once the builder has a
//!   timer (`hyper_util::rt::TokioTimer`); without one it does nothing. Here:
//!   `--header-timeout SECONDS` (default 10), which also ends idle keep-alive connections.
//! - **A body timeout.** The layer reads a refused request's small body (so the connection
//!   can carry the client's answer) and an `auth-int` body whole, as fast as the client
//!   sends it. It takes a deadline for the whole body: a limit on the gap between reads
//!   lets a byte every few seconds through for ever. Here: `--body-timeout SECONDS`
//!   (default 30), counted from the end of the head, then `408` and the connection closed.
//! - **Accept errors handled.** Out of file descriptors (EMFILE), `accept` fails; a server
//!   that returns on that error is down for good, one that retries at once spins. Here: a
//!   line on stderr when failures start and when they end, and a wait of 10 ms doubling to
//!   1 s between tries.
//! - **A connection limit.** This example has none: each connection costs a descriptor
//!   and a task until it closes or times out, and the open-files limit (`ulimit -n`) is the
//!   only cap. A production server caps open connections below that limit (a semaphore
//!   permit taken before `accept` and held by the connection's task; tower's
//!   `ConcurrencyLimit` counts requests in flight, not connections), raises the soft
//!   limit it starts with, and limits connections per client, often in a proxy in front.
//!
//! Nor does it bound the time an answer takes to be written: its answers are small enough
//! for the socket's buffer, but a server sending large ones to a client that does not read
//! them needs a write timeout too.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::convert::Infallible;
use std::fmt::Write as _;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode, header};
use http_body::{Body, Frame, SizeHint};
use http_body_util::Full;
use httpdigest::server::{
    CredentialStore, Htdigest, StoredSecret, Users, Verifier, VerifierConfig,
};
use httpdigest::{Algorithm, Qop, QopOptions};
use httpdigest_hyper::{DigestBody, Limits, MemoryGuessLimiter, RequireDigestLayer};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tower::{Service, ServiceBuilder};

/// The realm without `--realm` or an htdigest file that names one.
const DEFAULT_REALM: &str = "httpdigest example";

const HELP: &str = "\
server: an HTTP server that requires Digest authentication (RFC 7616).

Usage: server [options]

Options:
  --listen ADDRESS          where to listen (default 127.0.0.1:8080; port 0 picks one)
  --user NAME:PASSWORD      a user (repeatable; default alice:s3cret when no --user
                            and no --htdigest is given)
  --htdigest FILE           users from an htdigest file (`user:realm:H(A1)` lines)
  --htdigest-algorithm ALG  the hash of that file's H(A1) (default MD5, as Apache's
                            htdigest writes)
  --realm REALM             the realm (default: the htdigest file's, when it names
                            one; otherwise \"httpdigest example\")
  --algorithms LIST         algorithms offered, strongest first, one challenge each
                            (default SHA-256,MD5; also SHA-512-256, SHA, SHA-512 and the
                            -sess variants). Only those every user's secret can verify
                            are offered: with an MD5 htdigest file, MD5 and MD5-sess
  --qop LIST                auth, auth-int, both, or none (default auth)
  --nonce-lifetime SECONDS  how long a nonce stays valid (default 300)
  --userhash                offer userhash=true
  --max-body BYTES          largest body read for auth-int (default 1048576)
  --key-file FILE           the nonce key: the file's bytes (at least 32; make one with
                            `head -c 32 /dev/urandom > FILE`). Replicas that share it
                            accept each other's nonces. Default: a random key per start
  --redis URL               keep nonce counts and failed-guess counts in this Redis
                            (redis://HOST:PORT/), shared by replicas: a request replayed
                            to another replica is refused. Needs the `redis` feature
                            (cargo run --features redis ...). Default: in memory
  --guess-limits N,M,SECS   failed verifications allowed per user and source (N) and
                            per source (M) within SECS seconds, past which the source
                            gets 429 with Retry-After (default 10,100,300); `off`: no
                            throttling
  --header-timeout SECONDS  how long a request's head (request line and header fields)
                            may take to arrive whole, counted from the connection's
                            start or its last answer; past it the connection is closed,
                            which also ends idle keep-alive connections (default 10)
  --body-timeout SECONDS    how long a request's body may take to arrive whole,
                            counted from the end of its head; past it the request gets
                            408 and the connection is closed (default 30)
  --log-requests            print a line to stdout for every request, before it is
                            verified: `request METHOD TARGET authorization: VALUE`, the
                            value's bytes as received (a backslash as \\\\, bytes outside
                            printable ASCII as \\xNN; `-` when there is none)
  -h, --help                this text

Authenticated requests get 200 with the user's name and a newline as the body.";

struct Options {
    listen: SocketAddr,
    users: Vec<(String, String)>,
    htdigest: Option<String>,
    htdigest_algorithm: Algorithm,
    realm: Option<String>,
    algorithms: Vec<Algorithm>,
    qop: QopOptions,
    nonce_lifetime: u64,
    userhash: bool,
    max_body: usize,
    log_requests: bool,
    header_timeout: Duration,
    body_timeout: Duration,
    key_file: Option<String>,
    redis: Option<String>,
    guess_limits: Option<Limits>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            users: Vec::new(),
            htdigest: None,
            htdigest_algorithm: Algorithm::Md5,
            realm: None,
            algorithms: vec![Algorithm::Sha256, Algorithm::Md5],
            qop: QopOptions::AUTH,
            nonce_lifetime: 300,
            userhash: false,
            max_body: 1 << 20,
            log_requests: false,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            key_file: None,
            redis: None,
            guess_limits: Some(Limits::DEFAULT),
        }
    }
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Option<Options>, String> {
    let mut o = Options::default();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--listen" => {
                let v = value(&arg)?;
                o.listen = v
                    .parse()
                    .map_err(|_| format!("--listen: not an address: {v}"))?;
            }
            "--user" => {
                let v = value(&arg)?;
                let (name, password) = v
                    .split_once(':')
                    .ok_or(format!("--user: expected NAME:PASSWORD, got {v:?}"))?;
                o.users.push((name.into(), password.into()));
            }
            "--htdigest" => o.htdigest = Some(value(&arg)?),
            "--htdigest-algorithm" => o.htdigest_algorithm = algorithm(&value(&arg)?)?,
            "--realm" => o.realm = Some(value(&arg)?),
            "--algorithms" => {
                o.algorithms = value(&arg)?
                    .split(',')
                    .map(|a| algorithm(a.trim()))
                    .collect::<Result<_, _>>()?;
                if o.algorithms.is_empty() {
                    return Err("--algorithms: name at least one".into());
                }
            }
            "--qop" => {
                let v = value(&arg)?;
                o.qop = match v.as_str() {
                    "none" => QopOptions::NONE,
                    "both" => QopOptions::BOTH,
                    list => QopOptions::parse(list.as_bytes())
                        .filter(|q| !q.is_empty())
                        .ok_or(format!(
                            "--qop: expected auth, auth-int, both or none, got {v:?}"
                        ))?,
                };
            }
            "--nonce-lifetime" => {
                let v = value(&arg)?;
                o.nonce_lifetime = v
                    .parse()
                    .map_err(|_| format!("--nonce-lifetime: not a number of seconds: {v}"))?;
            }
            "--userhash" => o.userhash = true,
            "--log-requests" => o.log_requests = true,
            "--header-timeout" => o.header_timeout = seconds(&arg, &value(&arg)?)?,
            "--body-timeout" => o.body_timeout = seconds(&arg, &value(&arg)?)?,
            "--key-file" => o.key_file = Some(value(&arg)?),
            "--redis" => o.redis = Some(value(&arg)?),
            "--guess-limits" => o.guess_limits = guess_limits(&value(&arg)?)?,
            "--max-body" => {
                let v = value(&arg)?;
                o.max_body = v
                    .parse()
                    .map_err(|_| format!("--max-body: not a number of bytes: {v}"))?;
            }
            other => return Err(format!("unknown option {other:?} (see --help)")),
        }
    }
    if o.qop.is_empty()
        && let Some(sess) = o.algorithms.iter().find(|a| a.is_session())
    {
        return Err(format!(
            "{sess} needs a qop: its H(A1) hashes the client's cnonce, sent only with a qop"
        ));
    }
    if o.users.is_empty() && o.htdigest.is_none() {
        o.users.push(("alice".into(), "s3cret".into()));
    }
    Ok(Some(o))
}

/// A timeout given in whole seconds, at least one.
fn seconds(option: &str, value: &str) -> Result<Duration, String> {
    match value.parse::<u64>() {
        Ok(n) if n > 0 => Ok(Duration::from_secs(n)),
        _ => Err(format!(
            "{option}: not a number of seconds above 0: {value}"
        )),
    }
}

/// `--guess-limits`: `N,M,SECONDS`, or `off`.
fn guess_limits(value: &str) -> Result<Option<Limits>, String> {
    if value == "off" {
        return Ok(None);
    }
    let bad = || format!("--guess-limits: expected N,M,SECONDS or off, got {value:?}");
    let mut numbers = value.split(',').map(|n| n.trim().parse::<u64>());
    match (
        numbers.next(),
        numbers.next(),
        numbers.next(),
        numbers.next(),
    ) {
        (Some(Ok(n)), Some(Ok(m)), Some(Ok(window)), None) if window > 0 => Ok(Some(Limits::new(
            u32::try_from(n).map_err(|_| bad())?,
            u32::try_from(m).map_err(|_| bad())?,
            window,
        ))),
        _ => Err(bad()),
    }
}

/// The nonce key: `--key-file`'s bytes, or 32 random ones.
fn nonce_key(file: Option<&str>) -> Result<Vec<u8>, String> {
    let Some(path) = file else {
        let mut key = vec![0u8; 32];
        getrandom::fill(&mut key).map_err(|e| format!("no randomness for the nonce key: {e}"))?;
        return Ok(key);
    };
    let key = std::fs::read(path).map_err(|e| format!("--key-file {path}: {e}"))?;
    if key.len() < 32 {
        return Err(format!(
            "--key-file {path}: {} bytes; a nonce key needs at least 32 (head -c 32 /dev/urandom > {path})",
            key.len()
        ));
    }
    Ok(key)
}

/// The layer's nonce counts and guess limiter: in Redis with `--redis`, else in memory.
fn with_stores(
    layer: RequireDigestLayer,
    o: &Options,
) -> Result<(RequireDigestLayer, &'static str), String> {
    let layer = match o.guess_limits {
        Some(limits) => layer.with_guess_limiter(MemoryGuessLimiter::new(
            limits,
            MemoryGuessLimiter::DEFAULT_CAPACITY,
        )),
        None => layer.without_guess_limiter(),
    };
    let Some(url) = &o.redis else {
        return Ok((layer, "in memory"));
    };
    redis_stores(layer, url, o)
}

#[cfg(feature = "redis")]
fn redis_stores(
    layer: RequireDigestLayer,
    url: &str,
    o: &Options,
) -> Result<(RequireDigestLayer, &'static str), String> {
    use httpdigest_hyper::{RedisGuessLimiter, RedisNonceCounts};
    let client = redis::Client::open(url).map_err(|e| format!("--redis {url}: {e}"))?;
    let counts = RedisNonceCounts::new(&client, o.nonce_lifetime).map_err(|e| e.to_string())?;
    let layer = layer.with_nonce_counts(counts);
    let layer = match o.guess_limits {
        Some(limits) => layer.with_guess_limiter(
            RedisGuessLimiter::new(&client, limits).map_err(|e| e.to_string())?,
        ),
        None => layer,
    };
    Ok((layer, "in Redis"))
}

#[cfg(not(feature = "redis"))]
fn redis_stores(
    _: RequireDigestLayer,
    _: &str,
    _: &Options,
) -> Result<(RequireDigestLayer, &'static str), String> {
    Err("--redis: this server was built without the `redis` feature (cargo run -p httpdigest-hyper --features redis --example server)".into())
}

fn algorithm(name: &str) -> Result<Algorithm, String> {
    Algorithm::from_token(name.as_bytes()).ok_or(format!("unknown algorithm {name:?}"))
}

/// Users from `--user`, then from `--htdigest`.
struct Store {
    users: Users,
    htdigest: Option<Htdigest>,
}

impl CredentialStore for Store {
    // Both stores are asked every time, whoever answers: a name found in the first must not
    // be answered sooner than one found in the second, or than nobody.
    fn lookup(&self, username: &[u8], realm: &str) -> Option<StoredSecret> {
        let from_users = self.users.lookup(username, realm);
        let from_file = self
            .htdigest
            .as_ref()
            .and_then(|h| h.lookup(username, realm));
        from_users.or(from_file)
    }

    // An algorithm is offered only if every user's secret can verify it: an MD5 htdigest
    // file's users cannot answer SHA-256.
    fn verifies(&self, algorithm: Algorithm) -> bool {
        self.users.verifies(algorithm)
            && self.htdigest.as_ref().is_none_or(|h| h.verifies(algorithm))
    }

    fn serves_realm(&self, realm: &str) -> bool {
        self.users.serves_realm(realm)
            && self.htdigest.as_ref().is_none_or(|h| h.serves_realm(realm))
    }

    fn lookup_userhash(
        &self,
        userhash: &[u8],
        realm: &str,
        algorithm: Algorithm,
    ) -> Option<(String, StoredSecret)> {
        let from_users = self.users.lookup_userhash(userhash, realm, algorithm);
        let from_file = self
            .htdigest
            .as_ref()
            .and_then(|h| h.lookup_userhash(userhash, realm, algorithm));
        from_users.or(from_file)
    }
}

/// With `--log-requests`, prints the request line and its `Authorization` as received, bytes
/// outside printable ASCII escaped: what a client really put on the wire (a non-ASCII name as
/// UTF-8, as ISO-8859-1, as `username*` or hashed).
fn log_request<B>(request: Request<B>, enabled: bool) -> Request<B> {
    if enabled {
        let authorization = request
            .headers()
            .get(http::header::AUTHORIZATION)
            .map_or_else(|| "-".to_owned(), |v| escape(v.as_bytes()));
        println!(
            "request {} {} authorization: {authorization}",
            request.method(),
            request.uri()
        );
    }
    request
}

/// `bytes` with `\` as `\\` and every byte outside printable ASCII as `\xNN`.
fn escape(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        match b {
            b'\\' => out.push_str("\\\\"),
            b' '..=b'~' => out.push(char::from(b)),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
    out
}

/// 200 with the user's name (the layer put it into the request's extensions).
async fn hello<B>(request: Request<B>) -> Result<Response<Full<Bytes>>, Infallible> {
    let name = request
        .extensions()
        .get::<httpdigest::server::Authenticated>()
        .map_or_else(String::new, |user| user.username.clone());
    let mut response = Response::new(Full::new(Bytes::from(format!("{name}\n"))));
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    Ok(response)
}

#[tokio::main]
async fn main() -> ExitCode {
    let options = match parse_args(std::env::args().skip(1)) {
        Ok(Some(options)) => options,
        Ok(None) => {
            println!("{HELP}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("server: {message}");
            return ExitCode::from(2);
        }
    };
    match run(options).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("server: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(o: Options) -> Result<(), String> {
    let htdigest = match &o.htdigest {
        Some(path) => {
            Some(Htdigest::load(path, o.htdigest_algorithm).map_err(|e| format!("{path}: {e}"))?)
        }
        None => None,
    };
    // The realm: --realm, else the htdigest file's when it names one.
    let realm = match (&o.realm, &htdigest) {
        (Some(realm), _) => realm.clone(),
        (None, Some(file)) => {
            let mut realms = file.realms();
            match (realms.next(), realms.next()) {
                (Some(realm), None) => realm.to_owned(),
                (None, _) => DEFAULT_REALM.to_owned(),
                (Some(_), Some(_)) => {
                    return Err(format!(
                        "the htdigest file names several realms ({}): choose one with --realm",
                        file.realms().collect::<Vec<_>>().join(", ")
                    ));
                }
            }
        }
        (None, None) => DEFAULT_REALM.to_owned(),
    };
    let mut users = Users::new(realm.clone());
    for (name, password) in &o.users {
        users.insert(name.clone(), password.clone());
    }
    let config = VerifierConfig::new(realm.clone())
        .with_algorithms(o.algorithms.iter().copied())
        .with_qop(o.qop)
        .with_nonce_lifetime(o.nonce_lifetime)
        .with_userhash(o.userhash);
    let key = nonce_key(o.key_file.as_deref())?;
    let layer = RequireDigestLayer::new(
        Verifier::new(config, &key).map_err(|e| e.to_string())?,
        Store { users, htdigest },
    )
    .map_err(|e| match &o.htdigest {
        Some(path) => format!("{path}: {e}"),
        None => e.to_string(),
    })?;
    let (layer, stores) = with_stores(layer, &o)?;

    let listener = tokio::net::TcpListener::bind(o.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", o.listen))?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    // What the layer offers: the configured algorithms its users' secrets can verify.
    let offered = &layer.verifier().config().algorithms;
    let names: Vec<&str> = offered.iter().map(|a| a.name()).collect();
    let qop: Vec<&str> = o.qop.iter().map(Qop::as_str).collect();
    println!("listening on http://{address}/");
    println!(
        "realm {:?}, algorithms {}, qop {}, nonce lifetime {} s, userhash {}, {} user(s) from --user{}",
        realm,
        names.join(","),
        if qop.is_empty() {
            "none".into()
        } else {
            qop.join(",")
        },
        o.nonce_lifetime,
        o.userhash,
        o.users.len(),
        if o.htdigest.is_some() {
            " and an htdigest file"
        } else {
            ""
        },
    );
    println!(
        "header timeout {} s, body timeout {} s",
        o.header_timeout.as_secs(),
        o.body_timeout.as_secs()
    );
    let limits = o.guess_limits.map_or_else(
        || "off".to_owned(),
        |l| {
            format!(
                "{} per user and source, {} per source, per {} s",
                l.per_user_and_source, l.per_source, l.window
            )
        },
    );
    println!(
        "nonce key {}, nonce counts and guess counts {stores}, guess limits {limits}",
        if o.key_file.is_some() {
            "from --key-file"
        } else {
            "random"
        },
    );

    // auth-int needs the body before the request goes on, so the layer gets a body type it
    // can rebuild from bytes; qop=auth verifies from the headers alone.
    // Outermost, the body deadline: whoever reads the body (the layer, for auth-int or to
    // drain a refused request's body; a handler) is cut off by it.
    let log = o.log_requests;
    let body_timeout = o.body_timeout;
    if o.qop.contains(Qop::AuthInt) {
        let service = ServiceBuilder::new()
            .layer_fn(|inner| BodyTimeout {
                inner,
                timeout: body_timeout,
            })
            .map_request(move |r: Request<DeadlineBody>| {
                log_request(r, log).map(DigestBody::streamed)
            })
            .layer(layer.with_auth_int(o.max_body))
            .service_fn(hello);
        serve(listener, service, &o).await
    } else {
        let service = ServiceBuilder::new()
            .layer_fn(|inner| BodyTimeout {
                inner,
                timeout: body_timeout,
            })
            .map_request(move |r: Request<DeadlineBody>| log_request(r, log))
            .layer(layer)
            .service_fn(hello);
        serve(listener, service, &o).await
    }
}

/// `--body-timeout`: the service under it gets each request's body as a [`DeadlineBody`]
/// that must end within `timeout` of the request's head; when a read of it met the
/// deadline, whatever the service answered (a 400 for a body that broke, a challenge) is
/// replaced by `408 Request Timeout` with `Connection: close`, as RFC 9110 §15.5.9 says.
///
/// It is one deadline for the whole body, not a limit on the gap between two reads (what
/// tower-http's `RequestBodyTimeoutLayer` gives): a client sending a byte every few seconds
/// would pass such a limit for ever. A body nobody reads holds nothing: hyper closes the
/// connection after the answer rather than wait for the rest.
#[derive(Clone)]
struct BodyTimeout<S> {
    inner: S,
    timeout: Duration,
}

impl<S> Service<Request<Incoming>> for BodyTimeout<S>
where
    S: Service<Request<DeadlineBody>, Response = Response<Full<Bytes>>, Error = Infallible>,
    S::Future: Send + 'static,
{
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Incoming>) -> Self::Future {
        let expired = Arc::new(AtomicBool::new(false));
        let request = request.map(|body| DeadlineBody {
            inner: body,
            deadline: Box::pin(tokio::time::sleep(self.timeout)),
            expired: Arc::clone(&expired),
        });
        let answer = self.inner.call(request);
        Box::pin(async move {
            let response = answer.await?;
            if !expired.load(Ordering::Relaxed) {
                return Ok(response);
            }
            let mut response = Response::new(Full::new(Bytes::from_static(
                b"the request body did not arrive in time\n",
            )));
            *response.status_mut() = StatusCode::REQUEST_TIMEOUT;
            let headers = response.headers_mut();
            headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            Ok(response)
        })
    }
}

/// A request body that must end by a deadline: a read that would wait past it fails
/// instead, and marks the request as timed out for [`BodyTimeout`].
struct DeadlineBody {
    inner: Incoming,
    deadline: Pin<Box<tokio::time::Sleep>>,
    expired: Arc<AtomicBool>,
}

/// Why a [`DeadlineBody`] read failed.
#[derive(Debug)]
enum BodyError {
    /// The connection broke or the body was malformed.
    Read(hyper::Error),
    /// `--body-timeout` passed before the body ended.
    TimedOut,
}

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Read(e) => write!(f, "reading the request body: {e}"),
            Self::TimedOut => f.write_str("the request body did not arrive in time"),
        }
    }
}

impl std::error::Error for BodyError {}

impl Body for DeadlineBody {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        let this = self.get_mut();
        if this.expired.load(Ordering::Relaxed) {
            return Poll::Ready(Some(Err(BodyError::TimedOut)));
        }
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|f| f.map_err(BodyError::Read)));
        }
        if this.deadline.as_mut().poll(cx).is_ready() {
            this.expired.store(true, Ordering::Relaxed);
            return Poll::Ready(Some(Err(BodyError::TimedOut)));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The first wait after `accept` fails; doubled while it keeps failing, up to
/// [`ACCEPT_BACKOFF_MAX`].
const ACCEPT_BACKOFF_MIN: Duration = Duration::from_millis(10);
/// The longest wait between two tries of a failing `accept`.
const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(1);

/// Accepts connections and serves each with a clone of `service` (HTTP/1.1, keep-alive).
///
/// `accept` failing does not end the server: out of file descriptors (EMFILE, ENFILE),
/// memory or buffers, the server waits and tries again (10 ms, doubled while the failures
/// last, up to 1 s, as hyper's and tokio's servers do), printing one line on stderr when a
/// run of failures begins and one when it ends, not one per try. Retrying at once would
/// spin: the connection that could not be accepted is still queued, so `accept` fails again
/// straight away until a descriptor is freed. A connection that failed before it was
/// accepted (reset or aborted by the client) is the client's loss: skipped, no wait.
///
/// A request head must arrive whole within `--header-timeout` (hyper's
/// `header_read_timeout`, which needs a timer): one deadline for the whole head, not a
/// limit on the gap between two reads, so a client sending a byte a second is cut off as
/// surely as one that stops half-way. hyper arms it whenever the connection waits for a
/// head, so it bounds how long an idle keep-alive connection stays open too.
async fn serve<S>(listener: tokio::net::TcpListener, service: S, o: &Options) -> Result<(), String>
where
    S: Service<Request<Incoming>, Response = Response<Full<Bytes>>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(o.header_timeout);
    // The run of failures in progress: when it began, how many, the next wait.
    let mut failing: Option<(Instant, u64, Duration)> = None;
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) if is_connection_error(&e) => continue,
            Err(e) => {
                let (_, count, wait) = failing.get_or_insert_with(|| {
                    eprintln!(
                        "server: accept failed: {e}; trying again after {} ms, doubling to {} s, \
                         until it works (new connections wait in the listen queue)",
                        ACCEPT_BACKOFF_MIN.as_millis(),
                        ACCEPT_BACKOFF_MAX.as_secs()
                    );
                    (Instant::now(), 0, ACCEPT_BACKOFF_MIN)
                });
                *count += 1;
                let this_wait = *wait;
                *wait = (*wait * 2).min(ACCEPT_BACKOFF_MAX);
                tokio::time::sleep(this_wait).await;
                continue;
            }
        };
        if let Some((since, count, _)) = failing.take() {
            eprintln!(
                "server: accepting again after {count} failed accept(s) over {:.1} s",
                since.elapsed().as_secs_f64()
            );
        }
        // The peer's address, for the layer's refusal events (feature `tracing`).
        let peer = stream.peer_addr().ok();
        let service = TowerToHyperService::new(tower::util::MapRequest::new(
            service.clone(),
            move |mut request: Request<Incoming>| {
                if let Some(peer) = peer {
                    request.extensions_mut().insert(peer);
                }
                request
            },
        ));
        let http = http.clone();
        tokio::spawn(async move {
            // A connection that breaks or times out ends here; the server goes on.
            let _ = http.serve_connection(TokioIo::new(stream), service).await;
        });
    }
}

/// An `accept` error that concerns one connection, not the listener: that connection went
/// before it was accepted.
fn is_connection_error(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::ConnectionRefused
            | std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::ConnectionReset
    )
}
