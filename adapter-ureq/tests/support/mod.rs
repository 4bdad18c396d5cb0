//! An in-process HTTP/1.1 test server with Digest authentication, built on the core's
//! [`Verifier`]: origin mode (401 / `WWW-Authenticate`) or forward-proxy mode (407 /
//! `Proxy-Authenticate`), keep-alive, `Content-Length` and chunked request bodies, a clock the
//! test advances, and a record of every request for assertions.
//!
//! ```ignore
//! mod support;
//! let server = support::ServerConfig::default().start();
//! let url = server.url("/hello"); // 401, then 200 "hello alice" with credentials
//! ```
//!
//! Routes in origin mode (authenticated unless noted):
//!
//! | request | answer |
//! |---|---|
//! | `/open/...` (no authentication) | 200 `open` |
//! | `/redirect-open?to=<url>` (no authentication) | 302, `Location: <url>` |
//! | `/redirect?to=<url>` | 302, `Location: <url>` |
//! | anything with a body (`Content-Length` or chunked) | 200 `<user> sent <n> bytes` |
//! | anything else (GET, HEAD, ...) | 200 `hello <user>` |
//!
//! In proxy mode every request must have an absolute-form target (`GET http://host/x`) and
//! is answered by the proxy itself: 200 `proxied <target>` (nothing is forwarded).
#![allow(dead_code)]

mod wire;

use std::net::{Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::Duration;

use httpdigest::client::OsRng;
use httpdigest::server::{
    Authenticated, MemoryNonceCounts, NonceCountCheck, NonceCountStore, ServerRequest, Users,
    Verifier, VerifierConfig,
};
use httpdigest::{Algorithm, NonceCount, QopOptions};

use wire::{Conn, ReadError, WireRequest, WireResponse};

/// The most bytes a request head (request line and header fields) may take: 431 beyond.
pub(crate) const MAX_HEAD_BYTES: usize = 64 * 1024;
/// The most bytes a request body may take: 413 beyond.
pub(crate) const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// The server clock at offset 0, in seconds (any epoch does; this is late 2023).
pub(crate) const CLOCK_BASE: u64 = 1_700_000_000;

/// The nonce MAC key of every test server.
const KEY: &[u8] = b"httpdigest-ureq test server nonce key (32+ bytes)";

/// How long a connection may sit idle before its thread gives up on it.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// Origin server or forward proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// 401, `WWW-Authenticate`, `Authorization`, `Authentication-Info`.
    Origin,
    /// A forward proxy: absolute-form targets; 407, `Proxy-Authenticate`,
    /// `Proxy-Authorization`, `Proxy-Authentication-Info`; answers 200 `proxied <target>`.
    Proxy,
}

/// What the server offers and accepts. Fields are public; the methods are setters for
/// chaining. [`Default`]: origin mode, realm `test@example.org`, user `alice` / `s3cret`,
/// SHA-256 then MD5, qop `auth`, nonces valid 300 s, strict nonce counts, no userhash.
#[derive(Debug, Clone)]
pub(crate) struct ServerConfig {
    pub(crate) mode: Mode,
    pub(crate) realm: String,
    /// (name, password) pairs.
    pub(crate) users: Vec<(String, String)>,
    /// One challenge per algorithm, in this order.
    pub(crate) algorithms: Vec<Algorithm>,
    /// `QopOptions::AUTH`, `AUTH_INT`, `BOTH` (or `NONE`: RFC 2069 mode).
    pub(crate) qop: QopOptions,
    /// Seconds of server clock a nonce stays valid.
    pub(crate) nonce_lifetime: u64,
    /// Reject a nonce count not higher than one already seen with the nonce
    /// ([`MemoryNonceCounts`]); off: every count is accepted.
    pub(crate) strict_nc: bool,
    /// Offer `userhash=true`.
    pub(crate) userhash: bool,
    /// `opaque` to send (and require echoed).
    pub(crate) opaque: Option<String>,
    /// Send `nextnonce` when a nonce has less than this many seconds left (`None`: the
    /// verifier's default, a tenth of the lifetime).
    pub(crate) nextnonce_within: Option<u64>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            mode: Mode::Origin,
            realm: "test@example.org".to_owned(),
            users: vec![("alice".to_owned(), "s3cret".to_owned())],
            algorithms: vec![Algorithm::Sha256, Algorithm::Md5],
            qop: QopOptions::AUTH,
            nonce_lifetime: 300,
            strict_nc: true,
            userhash: false,
            opaque: None,
            nextnonce_within: None,
        }
    }
}

impl ServerConfig {
    /// The default configuration in proxy mode.
    pub(crate) fn proxy() -> Self {
        Self::default().mode(Mode::Proxy)
    }

    pub(crate) fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    pub(crate) fn realm(mut self, realm: impl Into<String>) -> Self {
        self.realm = realm.into();
        self
    }

    /// Adds a user.
    pub(crate) fn user(mut self, name: impl Into<String>, password: impl Into<String>) -> Self {
        self.users.push((name.into(), password.into()));
        self
    }

    /// Replaces the users.
    pub(crate) fn users<N: Into<String>, P: Into<String>>(
        mut self,
        users: impl IntoIterator<Item = (N, P)>,
    ) -> Self {
        self.users = users
            .into_iter()
            .map(|(n, p)| (n.into(), p.into()))
            .collect();
        self
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

    pub(crate) fn strict_nc(mut self, strict: bool) -> Self {
        self.strict_nc = strict;
        self
    }

    pub(crate) fn userhash(mut self, userhash: bool) -> Self {
        self.userhash = userhash;
        self
    }

    pub(crate) fn opaque(mut self, opaque: impl Into<String>) -> Self {
        self.opaque = Some(opaque.into());
        self
    }

    pub(crate) fn nextnonce_within(mut self, seconds: u64) -> Self {
        self.nextnonce_within = Some(seconds);
        self
    }

    /// Starts a server with this configuration.
    pub(crate) fn start(self) -> TestServer {
        TestServer::start(self)
    }
}

/// One request the server answered, for assertions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Recorded {
    pub(crate) method: String,
    /// The request-target as received.
    pub(crate) target: String,
    /// Field names in lower case, values (lossily) as text, in order, repeats kept.
    pub(crate) headers: Vec<(String, String)>,
    /// The body, de-chunked.
    pub(crate) body: Vec<u8>,
    /// The status answered.
    pub(crate) status: u16,
    /// The authenticated user, if the request was authenticated.
    pub(crate) user: Option<String>,
    /// Why the verifier refused the request (its `Reason`, `Debug`-formatted), if it did.
    pub(crate) rejection: Option<String>,
    /// Which TCP connection carried it: 1 for the first accepted, and so on.
    pub(crate) connection: usize,
}

impl Recorded {
    /// The first value of the field `name` (any case).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of the field `name` (any case), in order.
    pub(crate) fn header_all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// A running test server. Dropping it stops accepting connections (threads serving open
/// connections end when their client closes or after an idle minute).
pub(crate) struct TestServer {
    addr: SocketAddr,
    /// Every address listened on (127.0.0.1, and [::1] on the same port when available, so
    /// that `localhost` works whichever way it resolves).
    listening: Vec<SocketAddr>,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for TestServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestServer")
            .field("addr", &self.addr)
            .field("mode", &self.shared.mode)
            .finish_non_exhaustive()
    }
}

impl TestServer {
    /// Starts a server on 127.0.0.1 (an OS-chosen port).
    pub(crate) fn start(config: ServerConfig) -> Self {
        let mut verifier_config = VerifierConfig::new(config.realm.clone())
            .with_algorithms(config.algorithms.iter().copied())
            .with_qop(config.qop)
            .with_userhash(config.userhash)
            .with_nonce_lifetime(config.nonce_lifetime);
        if let Some(opaque) = &config.opaque {
            verifier_config = verifier_config.with_opaque(opaque.clone());
        }
        if let Some(within) = config.nextnonce_within {
            verifier_config = verifier_config.with_nextnonce_within(within);
        }
        let mut users = Users::new(config.realm.clone());
        for (name, password) in &config.users {
            users.insert(name.clone(), password.clone());
        }
        let counts: Box<dyn NonceCountStore + Send + Sync> = if config.strict_nc {
            Box::new(MemoryNonceCounts::new(10_000, config.nonce_lifetime))
        } else {
            Box::new(AnyCount)
        };
        let shared = Arc::new(Shared {
            mode: config.mode,
            verifier: Verifier::new(verifier_config, KEY),
            users,
            counts,
            clock_offset: AtomicU64::new(0),
            requests: Mutex::new(Vec::new()),
            connections: AtomicUsize::new(0),
            stopped: AtomicBool::new(false),
        });

        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let mut listening = vec![addr];
        let mut listeners = vec![listener];
        if let Ok(v6) = TcpListener::bind((Ipv6Addr::LOCALHOST, addr.port())) {
            listening.push(SocketAddr::from((Ipv6Addr::LOCALHOST, addr.port())));
            listeners.push(v6);
        }
        for listener in listeners {
            let shared = Arc::clone(&shared);
            thread::spawn(move || accept_loop(&listener, &shared));
        }
        Self {
            addr,
            listening,
            shared,
        }
    }

    /// An origin server with the default configuration.
    pub(crate) fn origin() -> Self {
        ServerConfig::default().start()
    }

    /// A forward proxy with the default configuration.
    pub(crate) fn proxy() -> Self {
        ServerConfig::proxy().start()
    }

    /// The address (127.0.0.1 and the port).
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub(crate) fn port(&self) -> u16 {
        self.addr.port()
    }

    pub(crate) fn mode(&self) -> Mode {
        self.shared.mode
    }

    /// `http://127.0.0.1:<port><path>`.
    pub(crate) fn url(&self, path: &str) -> String {
        self.url_with_host("127.0.0.1", path)
    }

    /// `http://<host>:<port><path>`: `localhost` names the same server as another origin.
    pub(crate) fn url_with_host(&self, host: &str, path: &str) -> String {
        format!("http://{host}:{}{path}", self.port())
    }

    /// The server clock: [`CLOCK_BASE`] plus every [`advance_clock`](Self::advance_clock).
    pub(crate) fn now(&self) -> u64 {
        self.shared.now()
    }

    /// Moves the server clock forward (to make nonces stale without sleeping).
    pub(crate) fn advance_clock(&self, seconds: u64) {
        self.shared
            .clock_offset
            .fetch_add(seconds, Ordering::SeqCst);
    }

    /// Every request answered so far, in order of answer.
    pub(crate) fn requests(&self) -> Vec<Recorded> {
        self.shared.recorded().clone()
    }

    /// Every request answered so far, forgetting them.
    pub(crate) fn take_requests(&self) -> Vec<Recorded> {
        std::mem::take(&mut *self.shared.recorded())
    }

    /// How many TCP connections were accepted.
    pub(crate) fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// A fresh set of challenge values as the server would send them now (one per
    /// algorithm, sharing one nonce), for tests that build headers by hand.
    pub(crate) fn challenges(&self, stale: bool) -> Vec<String> {
        self.shared
            .verifier
            .challenges(self.now(), stale, &mut OsRng)
            .expect("randomness")
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shared.stopped.store(true, Ordering::SeqCst);
        // Wake the accept loops so that they see the flag.
        for addr in &self.listening {
            let _ = TcpStream::connect_timeout(addr, Duration::from_secs(1));
        }
    }
}

/// Accepts every nonce count (strict checking off).
struct AnyCount;

impl NonceCountStore for AnyCount {
    fn record(&self, _: &[u8], _: u64, _: NonceCount, _: u64) -> NonceCountCheck {
        NonceCountCheck::Fresh
    }
}

struct Shared {
    mode: Mode,
    verifier: Verifier,
    users: Users,
    counts: Box<dyn NonceCountStore + Send + Sync>,
    clock_offset: AtomicU64,
    requests: Mutex<Vec<Recorded>>,
    connections: AtomicUsize,
    stopped: AtomicBool,
}

/// What the server answers to a request, and what it learned.
struct Outcome {
    response: WireResponse,
    user: Option<String>,
    rejection: Option<String>,
}

impl Outcome {
    fn plain(response: WireResponse) -> Self {
        Self {
            response,
            user: None,
            rejection: None,
        }
    }
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    for stream in listener.incoming() {
        if shared.stopped.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else {
            continue;
        };
        let id = shared.connections.fetch_add(1, Ordering::SeqCst) + 1;
        let shared = Arc::clone(shared);
        thread::spawn(move || serve_connection(stream, id, &shared));
    }
}

fn serve_connection(stream: TcpStream, id: usize, shared: &Shared) {
    let _ = stream.set_read_timeout(Some(IDLE_TIMEOUT));
    let _ = stream.set_nodelay(true);
    let mut conn = Conn::new(stream);
    loop {
        match conn.read_request() {
            Ok(None) | Err(ReadError::Closed) => break,
            Err(ReadError::Bad(status, why)) => {
                let response = WireResponse::text(status, why);
                let _ = conn.write_response(&response, false, true);
                break;
            }
            Ok(Some(request)) => {
                let close = request.wants_close() || shared.stopped.load(Ordering::SeqCst);
                let outcome = shared.handle(&request);
                // Recorded before the answer goes out: a client that has the response sees
                // the record.
                shared.recorded().push(Recorded {
                    method: request.method.clone(),
                    target: request.target.clone(),
                    headers: request
                        .headers
                        .iter()
                        .map(|(n, v)| (n.clone(), String::from_utf8_lossy(v).into_owned()))
                        .collect(),
                    body: request.body.clone(),
                    status: outcome.response.status,
                    user: outcome.user,
                    rejection: outcome.rejection,
                    connection: id,
                });
                let head_only = request.method == "HEAD";
                if conn
                    .write_response(&outcome.response, head_only, close)
                    .is_err()
                    || close
                {
                    break;
                }
            }
        }
    }
    conn.close();
}

impl Shared {
    fn now(&self) -> u64 {
        CLOCK_BASE.saturating_add(self.clock_offset.load(Ordering::SeqCst))
    }

    fn recorded(&self) -> std::sync::MutexGuard<'_, Vec<Recorded>> {
        self.requests.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn handle(&self, request: &WireRequest) -> Outcome {
        match self.mode {
            Mode::Origin => self.handle_origin(request),
            Mode::Proxy => self.handle_proxy(request),
        }
    }

    fn handle_origin(&self, request: &WireRequest) -> Outcome {
        let (path, query) = split_target(&request.target);
        if path.starts_with("/open/") {
            return Outcome::plain(WireResponse::text(200, "open"));
        }
        if path == "/redirect-open" {
            return Outcome::plain(redirect(query));
        }
        let authenticated = match self.authenticate(request) {
            Ok(a) => a,
            Err(refused) => return refused,
        };
        let response = if path == "/redirect" {
            redirect(query)
        } else if request.has_body {
            WireResponse::text(
                200,
                format!(
                    "{} sent {} bytes",
                    authenticated.username,
                    request.body.len()
                ),
            )
        } else {
            WireResponse::text(200, format!("hello {}", authenticated.username))
        };
        self.success(response, authenticated)
    }

    fn handle_proxy(&self, request: &WireRequest) -> Outcome {
        let target = request.target.as_bytes();
        let absolute = target
            .get(..7)
            .is_some_and(|s| s.eq_ignore_ascii_case(b"http://"))
            || target
                .get(..8)
                .is_some_and(|s| s.eq_ignore_ascii_case(b"https://"));
        if !absolute {
            return Outcome::plain(WireResponse::text(
                400,
                "a forward proxy needs an absolute-form request-target",
            ));
        }
        match self.authenticate(request) {
            Ok(authenticated) => self.success(
                WireResponse::text(200, format!("proxied {}", request.target)),
                authenticated,
            ),
            Err(refused) => refused,
        }
    }

    /// Runs the verifier; `Err` is the complete answer to a refused request.
    fn authenticate(&self, request: &WireRequest) -> Result<Authenticated, Outcome> {
        let (credentials_field, challenge_field, challenge_status) = match self.mode {
            Mode::Origin => ("authorization", "WWW-Authenticate", 401),
            Mode::Proxy => ("proxy-authorization", "Proxy-Authenticate", 407),
        };
        let fields = request.header_values(credentials_field);
        if fields.len() > 1 {
            return Err(Outcome {
                rejection: Some("repeated credentials field".to_owned()),
                ..Outcome::plain(WireResponse::text(400, "repeated credentials field"))
            });
        }
        let now = self.now();
        let server_request = ServerRequest {
            method: &request.method,
            target: &request.target,
            authorization: fields.first().copied(),
            body: Some(&request.body),
        };
        let rejection =
            match self
                .verifier
                .verify(&server_request, now, &self.users, &*self.counts, &mut OsRng)
            {
                Ok(authenticated) => return Ok(authenticated),
                Err(rejection) => rejection,
            };
        let reason = Some(format!("{:?}", rejection.reason()));
        if rejection.status() != 401 {
            return Err(Outcome {
                rejection: reason,
                ..Outcome::plain(WireResponse::text(rejection.status(), "bad credentials"))
            });
        }
        let Ok(challenges) = self.verifier.challenges(now, rejection.stale(), &mut OsRng) else {
            return Err(Outcome {
                rejection: reason,
                ..Outcome::plain(WireResponse::text(500, "randomness failed"))
            });
        };
        let mut response = WireResponse::text(challenge_status, "authentication required");
        for challenge in challenges {
            response = response.with_header(challenge_field, challenge);
        }
        Err(Outcome {
            rejection: reason,
            ..Outcome::plain(response)
        })
    }

    /// `response` with the `Authentication-Info` (or proxy) field of a verified request.
    fn success(&self, response: WireResponse, authenticated: Authenticated) -> Outcome {
        let field = match self.mode {
            Mode::Origin => "Authentication-Info",
            Mode::Proxy => "Proxy-Authentication-Info",
        };
        let response = if authenticated.authentication_info.is_empty() {
            response
        } else {
            response.with_header(field, authenticated.authentication_info)
        };
        Outcome {
            response,
            user: Some(authenticated.username),
            rejection: None,
        }
    }
}

/// A 302 to the percent-decoded `to` query parameter (400 without one, or with one that
/// cannot go in a header field).
fn redirect(query: Option<&str>) -> WireResponse {
    let to = query
        .into_iter()
        .flat_map(|q| q.split('&'))
        .find_map(|pair| pair.strip_prefix("to="))
        .map(percent_decode);
    match to {
        Some(url) if !url.is_empty() && !url.chars().any(char::is_control) => {
            WireResponse::text(302, "redirecting").with_header("Location", url)
        }
        _ => WireResponse::text(400, "redirect needs ?to=<url-encoded URL>"),
    }
}

/// The path and query of a request-target (origin or absolute form).
fn split_target(target: &str) -> (&str, Option<&str>) {
    let path_and_query = match target.find("://") {
        Some(scheme_end) => {
            let after = target.get(scheme_end + 3..).unwrap_or_default();
            after.find('/').and_then(|i| after.get(i..)).unwrap_or("/")
        }
        None => target,
    };
    match path_and_query.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (path_and_query, None),
    }
}

/// Decodes `%XX` escapes (anything else, including a broken escape, is kept as is).
pub(crate) fn percent_decode(s: &str) -> String {
    let hex = |b: Option<&u8>| b.and_then(|b| char::from(*b).to_digit(16));
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%'
            && let (Some(hi), Some(lo)) = (hex(bytes.get(i + 1)), hex(bytes.get(i + 2)))
            && let Ok(decoded) = u8::try_from(hi << 4 | lo)
        {
            out.push(decoded);
            i += 3;
            continue;
        }
        out.push(b);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Encodes everything but unreserved characters as `%XX`: for building `?to=` values.
pub(crate) fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
