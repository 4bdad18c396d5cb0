//! Two hermetic *strict* Digest servers, so that CI can test clients against servers that
//! behave like real strict ones without the interop lab (`tests/interop/`):
//! [`ModAuthDigest`] answers like Apache httpd 2.4's mod_auth_digest with
//! `AuthDigestNcCheck On`, [`Camera`] like the Digest servers of embedded IP cameras and NVRs.
//!
//! Neither uses the project's `server` module: the core's parser only reads the
//! `Authorization` header ([`httpdigest::DigestCredentials::parse`]); nonces, counts, digests
//! (MD5, by the `md-5` crate) and every decision are this module's own.
//!
//! Both serve HTTP/1.1 with keep-alive on 127.0.0.1 (an OS-chosen port), in the realm
//! [`REALM`] unless their spec says otherwise, to the user [`USER`] / [`PASSWORD`] unless it
//! names others, with `algorithm=MD5` and `qop="auth"`, and answer 200 with the user's name
//! to the requests they let through, whatever the path; paths under [`OPEN`] are not
//! protected (200 `open`, the no-authentication baseline of the throughput benchmark). They run on the test servers'
//! runtime (so blocking tests and `#[tokio::test]`s start them alike), stop accepting
//! connections when dropped, and count what they answer ([`Counts`]: atomics, readable from
//! the test at any time, zeroed by `reset_counts`). Time is the real clock.
//!
//! # [`ModAuthDigest`]: Apache httpd mod_auth_digest, `AuthDigestNcCheck On`
//!
//! What the lab's Apache 2.4 (`/digest-stale/`: `AuthDigestNonceLifetime 3`,
//! `AuthDigestNcCheck On`) was measured to do, and what `modules/aaa/mod_auth_digest.c` says:
//!
//! - **Client entries.** Each challenge to a request without credentials (or with credentials
//!   lacking `opaque`) makes a new *client entry*: a key from a counter starting at 1, sent as
//!   `opaque` in lower-case hex (`"1"`, …, `"f"`, `"10"`), with a nonce count of 0. The
//!   challenge: `Digest realm="…", nonce="…", algorithm=MD5, opaque="…", qop="auth"`
//!   (`, stale=true` before `qop` when stale).
//! - **Nonces** are bound to their time and to the `opaque`: base64 of the 8-byte time in µs
//!   (12 characters, `+`, `/` and `=` included), then the hex hash of the server's secret,
//!   the realm, that base64 text and the `opaque` (Apache hashes with SHA-1, 40 hex digits;
//!   here MD5, 32). A nonce stays good for the lifetime ([`ModAuthDigestSpec::nonce_lifetime`],
//!   3 s by default) whatever was sent with it since: after a count reset, *any* live nonce of
//!   the entry is accepted with `nc=00000001` again (measured).
//! - **The count is incremented first**: on receipt of credentials (with `nc` and `cnonce`
//!   when `qop` is sent) whose `opaque` names a live entry, that entry's count goes up by one
//!   before anything is checked (Apache's `post_read_request` hook), and moves the entry to
//!   the front of its bucket. The checks run after the body is read, so requests of one
//!   entry in flight together can see each other's increments, as in Apache's threads. They
//!   run in Apache's order, each refusal (but the 400) a 401 with a new nonce:
//!   1. `uri` not the request-target (nor an absolute URI with its path and query) → 400, no
//!      challenge.
//!   2. An `opaque` that is not a hex number, a realm not this one, an algorithm other than
//!      MD5, an unknown user, no `qop` (RFC 2069 form, refused by 2.4.71) or one other than
//!      `auth`, a wrong `response` (password, method or `uri`) → 401.
//!   3. The nonce count: no live entry for `opaque` → 401; `nc` (hex) not the entry's count →
//!      401, counted in [`Counts::nc_mismatches`] (Apache logs "possible replay attack").
//!   4. The nonce, last "so that a stale=true can be generated if the nonce is old": not of
//!      this server for this `opaque` (length, hash) → 401 `stale=true`; older than the
//!      lifetime (or from the future) → 401 `stale=true`.
//!
//!   A refusal's challenge keeps the request's `opaque` and resets its entry's count to 0
//!   when the entry is live; makes a new entry (new `opaque`) and says `stale=true` when the
//!   `opaque` names none (collected, or never made); makes a new entry, not stale, when the
//!   credentials had no `opaque` (or no credentials were sent, or they could not be read).
//!   So an expired nonce sent with the wrong `nc` gets a plain 401, not a stale one (as the
//!   lab measured: "stale=true only when resent with nc=00000001").
//! - **Success**: 200 with `Authentication-Info: rspauth="…", nextnonce="…", cnonce="…",
//!   nc=…, qop=auth` (rspauth as RFC 2617: `H(HA1:nonce:nc:cnonce:qop:H(":" uri))`, nc and
//!   qop as sent). `nextnonce` (a new nonce for the same `opaque`) only when the nonce is
//!   older than the lifetime less Apache's `NEXTNONCE_DELTA` of 30 s
//!   ([`ModAuthDigestSpec::nextnonce_delta`]): with a lifetime under 30 s, on every answer;
//!   with 300 s, not in the nonce's first 270 s. Sending a `nextnonce` resets the entry's count
//!   to 0, so the next request must say `nc=00000001` (with the nextnonce or any live nonce of
//!   the entry); without one, the count must go on exactly: 1, 2, 3, ….
//! - **A small table, collected all at once.** Entries sit in [`BUCKETS`] (15) buckets (key
//!   mod 15), a new one at the front of its bucket's list, a looked-up one moved to the front.
//!   The table holds [`ModAuthDigestSpec::capacity`] entries (6 by default: about what the
//!   lab's default 1000-byte `AuthDigestShmemSize` holds); a new entry needed when it is full
//!   first runs Apache's `gc()`, which removes the last entry of *every* non-empty bucket: with
//!   consecutive keys, that is every entry in the table ([`Counts::evictions`]).
//! - Apache also does what this server does not: one-time nonces (lifetime 0), MD5-sess
//!   sessions, `domain`, proxy authentication.
//!
//! # [`Camera`]: an embedded camera or NVR
//!
//! - **One current nonce per client**, the client being the remote IP address (every
//!   loopback client shares one). A request without credentials (or with credentials that
//!   cannot be read) gets 401 with a new random nonce (16 random bytes, hex), which becomes
//!   the client's current one: the previous nonce is dead from then on (the camera "moves
//!   on"). The challenge: `Digest realm="…", qop="auth", nonce="…", algorithm=MD5`, no
//!   `opaque`, never `stale`.
//! - Credentials with a nonce that is not the client's current one → 403 Forbidden, no
//!   challenge.
//! - When [`CameraSpec::rotate_after`] is set and the current nonce is older than that, the
//!   next request carrying it gets 401 with a new nonce (requests still in flight with the old
//!   one then get 403); so does one carrying it after 1024 nonce counts were seen with it
//!   ([`Counts::rotations`]).
//! - A wrong realm, algorithm (other than MD5), user, `qop` (other than `auth`), `uri` (not
//!   the request-target) or `response` → 401 with a new nonce (the camera moves on).
//! - No nonce-count order, but a (nonce, nc) pair seen before → 403 ([`Counts::replays`]).
//!   The pairs are forgotten with their nonce.
//! - Success: 200, no `Authentication-Info`.

use std::collections::{HashMap, HashSet};
use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Request, Response, StatusCode, Uri, header};
use http_body_util::{BodyExt, Full};
use httpdigest::{DigestCredentials, ParamValue};
use hyper::body::Incoming;
use md5::{Digest, Md5};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tower::service_fn;

pub use crate::server::{PASSWORD, USER};
use crate::server::{runtime, serve_http1_from};

/// The realm of both servers unless their spec says otherwise.
pub const REALM: &str = "strict@httpdigest";

/// How many buckets mod_auth_digest's client table has (its `DEF_NUM_BUCKETS`).
pub const BUCKETS: usize = 15;

/// mod_auth_digest's `NEXTNONCE_DELTA`: it sends a `nextnonce` once a nonce has less than
/// this left to live.
pub const NEXTNONCE_DELTA: Duration = Duration::from_secs(30);

/// How many nonce counts the [`Camera`] remembers per nonce before it moves on.
const CAMERA_SEEN_CAP: usize = 1024;

// ---------------------------------------------------------------------------------------
// What both servers share: counts, credentials, answers, the listener.

/// What a strict server answered since it started or since its last `reset_counts`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// HTTP exchanges: every request answered.
    pub requests: u64,
    /// 200s.
    pub ok: u64,
    /// 401s.
    pub unauthorized: u64,
    /// 403s ([`Camera`] only).
    pub forbidden: u64,
    /// 400s ([`ModAuthDigest`] only: a `uri` that is not the request-target).
    pub bad_requests: u64,
    /// 401s with `stale=true` ([`ModAuthDigest`] only).
    pub stale: u64,
    /// Client entries made, that is challenges with a new `opaque` ([`ModAuthDigest`] only).
    pub new_clients: u64,
    /// Client entries removed by the garbage collection ([`ModAuthDigest`] only).
    pub evictions: u64,
    /// 401s because `nc` was not the entry's count ([`ModAuthDigest`] only).
    pub nc_mismatches: u64,
    /// 403s because the (nonce, nc) pair was seen before ([`Camera`] only).
    pub replays: u64,
    /// 401s because the nonce was too old or too used: [`CameraSpec::rotate_after`]
    /// ([`Camera`] only).
    pub rotations: u64,
}

/// One of the [`Counts`], as the index of its atomic.
#[derive(Debug, Clone, Copy)]
enum Count {
    Requests,
    Ok,
    Unauthorized,
    Forbidden,
    BadRequests,
    Stale,
    NewClients,
    Evictions,
    NcMismatches,
    Replays,
    Rotations,
}

/// The [`Counts`] as atomics, shared by a server's tasks and the test.
#[derive(Default)]
struct Counters([AtomicU64; 11]);

impl Counters {
    fn add(&self, count: Count, n: u64) {
        self.0[count as usize].fetch_add(n, Ordering::SeqCst);
    }

    fn bump(&self, count: Count) {
        self.add(count, 1);
    }

    fn get(&self, count: Count) -> u64 {
        self.0[count as usize].load(Ordering::SeqCst)
    }

    fn snapshot(&self) -> Counts {
        Counts {
            requests: self.get(Count::Requests),
            ok: self.get(Count::Ok),
            unauthorized: self.get(Count::Unauthorized),
            forbidden: self.get(Count::Forbidden),
            bad_requests: self.get(Count::BadRequests),
            stale: self.get(Count::Stale),
            new_clients: self.get(Count::NewClients),
            evictions: self.get(Count::Evictions),
            nc_mismatches: self.get(Count::NcMismatches),
            replays: self.get(Count::Replays),
            rotations: self.get(Count::Rotations),
        }
    }

    fn reset(&self) {
        for counter in &self.0 {
            counter.store(0, Ordering::SeqCst);
        }
    }
}

/// MD5 of `text`, lower-case hex.
fn md5_hex(text: impl AsRef<[u8]>) -> String {
    format!("{:x}", Md5::digest(text.as_ref()))
}

/// The name → password table of a spec.
fn user_table(users: &[(String, String)]) -> HashMap<String, String> {
    users.iter().cloned().collect()
}

/// `[(USER, PASSWORD)]`.
fn default_users() -> Vec<(String, String)> {
    vec![(USER.to_owned(), PASSWORD.to_owned())]
}

/// Now, in µs since the Unix epoch (Apache's `apr_time_t`).
fn now_micros() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

/// A duration in µs.
fn micros(duration: Duration) -> i64 {
    i64::try_from(duration.as_micros()).unwrap_or(i64::MAX)
}

/// Digest credentials as owned text. The core's parser reads the header; the servers judge
/// what it read.
#[derive(Debug, Clone)]
struct Creds {
    username: String,
    realm: String,
    nonce: String,
    uri: String,
    response: String,
    algorithm: Option<String>,
    cnonce: Option<String>,
    /// As sent (the digests take it as sent).
    nc: Option<String>,
    qop: Option<String>,
    opaque: Option<String>,
}

impl Creds {
    /// The credentials of an `Authorization` value, if it is readable Digest credentials.
    fn read(header: &[u8]) -> Option<Self> {
        let credentials = DigestCredentials::parse(header).ok()?;
        let text = |value: ParamValue<'_>| String::from_utf8_lossy(&value.unescaped()).into_owned();
        let param = |name: &str| {
            credentials
                .params()
                .find(|p| p.name.eq_ignore_ascii_case(name))
                .map(|p| text(p.value))
        };
        Some(Self {
            username: String::from_utf8_lossy(&credentials.username_bytes()).into_owned(),
            realm: text(credentials.realm()),
            nonce: text(credentials.nonce()),
            uri: text(credentials.uri()),
            response: text(credentials.response()),
            algorithm: param("algorithm"),
            cnonce: param("cnonce"),
            nc: param("nc"),
            qop: param("qop"),
            opaque: param("opaque"),
        })
    }

    /// Whether Apache would call the header valid: with `qop`, `nc` and `cnonce` too.
    fn complete(&self) -> bool {
        self.qop.is_none() || (self.nc.is_some() && self.cnonce.is_some())
    }

    /// The algorithm is MD5 (or not named).
    fn md5(&self) -> bool {
        self.algorithm
            .as_deref()
            .is_none_or(|a| a.eq_ignore_ascii_case("MD5"))
    }

    /// The request-digest these credentials should carry for `method` (RFC 2617, qop
    /// present), given H(A1); `None` without qop, nc or cnonce.
    fn expected_response(&self, ha1: &str, method: &str) -> Option<String> {
        let (qop, nc, cnonce) = (
            self.qop.as_deref()?,
            self.nc.as_deref()?,
            self.cnonce.as_deref()?,
        );
        let ha2 = md5_hex(format!("{method}:{}", self.uri));
        Some(md5_hex(format!(
            "{ha1}:{}:{nc}:{cnonce}:{qop}:{ha2}",
            self.nonce
        )))
    }
}

/// H(A1) of `user` in `realm` with `password`.
fn ha1(user: &str, realm: &str, password: &str) -> String {
    md5_hex(format!("{user}:{realm}:{password}"))
}

/// The request's method and target, as the servers check them.
struct Head {
    method: String,
    /// The request-target as sent (`/path?query`, or an absolute URI).
    target: String,
    /// Its path and query.
    path_and_query: String,
}

impl Head {
    fn of<B>(request: &Request<B>) -> Self {
        let uri = request.uri();
        let path_and_query = uri
            .path_and_query()
            .map_or_else(|| "/".to_owned(), |pq| pq.as_str().to_owned());
        let target = if uri.scheme().is_some() {
            uri.to_string()
        } else {
            path_and_query.clone()
        };
        Self {
            method: request.method().as_str().to_owned(),
            target,
            path_and_query,
        }
    }

    /// Whether the credentials' `uri` names this request: the target as sent, or an absolute
    /// URI with its path and query (what Apache's closer match amounts to for an origin).
    fn is_named_by(&self, uri: &str) -> bool {
        uri == self.target
            || uri.parse::<Uri>().is_ok_and(|u| {
                u.scheme().is_some()
                    && u.path_and_query().map(|pq| pq.as_str())
                        == Some(self.path_and_query.as_str())
            })
    }
}

/// A server's decision, made into a response by [`Answer::respond`].
enum Answer {
    /// 200 with the user's name, and `Authentication-Info` if any.
    Ok { user: String, info: Option<String> },
    /// 401 with this `WWW-Authenticate`.
    Unauthorized(String),
    /// 403, no challenge.
    Forbidden,
    /// 400, no challenge.
    BadRequest,
}

impl Answer {
    /// The response, counted.
    fn respond(self, counters: &Counters) -> Response<Full<Bytes>> {
        let (status, body, header): (_, String, Option<(HeaderName, String)>) = match self {
            Answer::Ok { user, info } => {
                counters.bump(Count::Ok);
                let info = info.map(|info| (HeaderName::from_static("authentication-info"), info));
                (StatusCode::OK, user, info)
            }
            Answer::Unauthorized(challenge) => {
                counters.bump(Count::Unauthorized);
                let challenge = (header::WWW_AUTHENTICATE, challenge);
                (
                    StatusCode::UNAUTHORIZED,
                    "401 Unauthorized\n".into(),
                    Some(challenge),
                )
            }
            Answer::Forbidden => {
                counters.bump(Count::Forbidden);
                (StatusCode::FORBIDDEN, "403 Forbidden\n".into(), None)
            }
            Answer::BadRequest => {
                counters.bump(Count::BadRequests);
                (StatusCode::BAD_REQUEST, "400 Bad Request\n".into(), None)
            }
        };
        let mut response = Response::new(Full::new(Bytes::from(body)));
        *response.status_mut() = status;
        if let Some((name, value)) = header
            && let Ok(value) = HeaderValue::from_str(&value)
        {
            response.headers_mut().insert(name, value);
        }
        response
    }
}

/// Listens on 127.0.0.1 (an OS-chosen port) and serves HTTP/1.1 on the test servers'
/// runtime, each request answered by `handle` (told the peer's address).
fn listen<H, F>(handle: H) -> (SocketAddr, JoinHandle<()>)
where
    H: Fn(Request<Incoming>, SocketAddr) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Response<Full<Bytes>>> + Send + 'static,
{
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    listener.set_nonblocking(true).unwrap();
    let task = runtime().spawn(async move {
        let listener = TcpListener::from_std(listener).unwrap();
        serve_http1_from(listener, move |peer| {
            let handle = handle.clone();
            service_fn(move |request| {
                let answer = handle(request, peer);
                async move { Ok::<_, Infallible>(answer.await) }
            })
        })
        .await;
    });
    (addr, task)
}

/// Reads the rest of a request body (so that the connection stays usable) and drops it.
async fn drain(body: Incoming) {
    let _ = body.collect().await;
}

// ---------------------------------------------------------------------------------------
// ModAuthDigest

/// How a [`ModAuthDigest`] is set up. [`ModAuthDigestSpec::new`]: realm [`REALM`], user
/// [`USER`] / [`PASSWORD`], nonces living 3 s, `nextnonce` when less than 30 s are left (so
/// on every answer), 6 client entries.
#[derive(Debug, Clone)]
pub struct ModAuthDigestSpec {
    /// The realm (`AuthName`).
    pub realm: String,
    /// (name, password) pairs.
    pub users: Vec<(String, String)>,
    /// How long a nonce is good for (`AuthDigestNonceLifetime`).
    pub nonce_lifetime: Duration,
    /// A `nextnonce` is sent once a nonce has less than this left (Apache: 30 s, fixed).
    pub nextnonce_delta: Duration,
    /// How many client entries the table holds before it collects (at least 1).
    pub capacity: usize,
}

impl Default for ModAuthDigestSpec {
    fn default() -> Self {
        Self::new()
    }
}

impl ModAuthDigestSpec {
    /// The defaults above: the lab's `/digest-stale/`.
    pub fn new() -> Self {
        Self {
            realm: REALM.to_owned(),
            users: default_users(),
            nonce_lifetime: Duration::from_secs(3),
            nextnonce_delta: NEXTNONCE_DELTA,
            capacity: 6,
        }
    }

    /// The realm.
    pub fn realm(mut self, realm: impl Into<String>) -> Self {
        self.realm = realm.into();
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

    /// How long a nonce is good for.
    pub fn nonce_lifetime(mut self, lifetime: Duration) -> Self {
        self.nonce_lifetime = lifetime;
        self
    }

    /// How little life left in a nonce makes the server send a `nextnonce` (and reset the
    /// count). With a lifetime of 300 s and the default 30 s: no `nextnonce` for 270 s.
    pub fn nextnonce_delta(mut self, delta: Duration) -> Self {
        self.nextnonce_delta = delta;
        self
    }

    /// How many client entries the table holds.
    pub fn capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity;
        self
    }

    /// Starts a server with this spec.
    pub fn start(self) -> ModAuthDigest {
        ModAuthDigest::start(self)
    }
}

/// A running mod_auth_digest-like server (see the [module docs](self)); stops accepting
/// connections when dropped.
pub struct ModAuthDigest {
    addr: SocketAddr,
    state: Arc<Apache>,
    task: JoinHandle<()>,
}

impl Drop for ModAuthDigest {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl fmt::Debug for ModAuthDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ModAuthDigest")
            .field("addr", &self.addr)
            .field("counts", &self.counts())
            .finish_non_exhaustive()
    }
}

impl ModAuthDigest {
    /// Starts a server on 127.0.0.1 (an OS-chosen port).
    pub fn start(spec: ModAuthDigestSpec) -> Self {
        let mut secret = [0u8; 20];
        getrandom::fill(&mut secret).unwrap();
        let state = Arc::new(Apache {
            realm: spec.realm,
            users: user_table(&spec.users),
            lifetime: micros(spec.nonce_lifetime),
            nextnonce_delta: micros(spec.nextnonce_delta),
            secret,
            table: Mutex::new(ClientTable::new(spec.capacity)),
            counters: Counters::default(),
        });
        let (addr, task) = listen({
            let state = Arc::clone(&state);
            move |request, _| Arc::clone(&state).handle(request)
        });
        Self { addr, state, task }
    }

    /// The address (127.0.0.1 and the port).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The server's origin: `http://127.0.0.1:PORT`.
    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The URL of `path` on this server.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.origin())
    }

    /// Everything counted so far.
    pub fn counts(&self) -> Counts {
        self.state.counters.snapshot()
    }

    /// Requests answered.
    pub fn requests(&self) -> u64 {
        self.state.counters.get(Count::Requests)
    }

    /// 401s sent.
    pub fn unauthorized(&self) -> u64 {
        self.state.counters.get(Count::Unauthorized)
    }

    /// 403s sent (this server sends none).
    pub fn forbidden(&self) -> u64 {
        self.state.counters.get(Count::Forbidden)
    }

    /// 401s with `stale=true` sent.
    pub fn stale(&self) -> u64 {
        self.state.counters.get(Count::Stale)
    }

    /// Client entries the garbage collection removed.
    pub fn evictions(&self) -> u64 {
        self.state.counters.get(Count::Evictions)
    }

    /// 401s because `nc` was not the entry's count.
    pub fn nc_mismatches(&self) -> u64 {
        self.state.counters.get(Count::NcMismatches)
    }

    /// How many client entries the table holds now.
    pub fn entries(&self) -> usize {
        self.state.table.lock().unwrap().len
    }

    /// Zeroes the counts (the client table stays as it is).
    pub fn reset_counts(&self) {
        self.state.counters.reset();
    }
}

/// The length of a nonce's time part: base64 of 8 bytes.
const NONCE_TIME_LEN: usize = 12;
/// The length of a nonce: the time part and 32 hex digits of MD5.
const NONCE_LEN: usize = NONCE_TIME_LEN + 32;

/// What a [`ModAuthDigest`]'s tasks share.
struct Apache {
    realm: String,
    users: HashMap<String, String>,
    /// µs.
    lifetime: i64,
    /// µs.
    nextnonce_delta: i64,
    secret: [u8; 20],
    table: Mutex<ClientTable>,
    counters: Counters,
}

/// Paths under this prefix are not protected.
pub const OPEN: &str = "/open/";

/// The answer to a request for a path under [`OPEN`].
fn open() -> Response<Full<Bytes>> {
    Response::new(Full::new(Bytes::from_static(b"open")))
}

impl Apache {
    async fn handle(self: Arc<Self>, request: Request<Incoming>) -> Response<Full<Bytes>> {
        self.counters.bump(Count::Requests);
        if request.uri().path().starts_with(OPEN) {
            return open();
        }
        let now = now_micros();
        let head = Head::of(&request);
        let creds = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|value| Creds::read(value.as_bytes()));
        let client = self.post_read_request(creds.as_ref());
        // Apache counts when it has read the request head, and checks later, after other
        // work: concurrent requests of one entry interleave there.
        drain(request.into_body()).await;
        tokio::task::yield_now().await;
        self.authenticate(&head, creds, client, now)
            .respond(&self.counters)
    }

    /// `parse_hdr_and_update_nc`: finds the entry the credentials' `opaque` names (moving it
    /// to the front of its bucket) and, for complete credentials, increments its count.
    /// Returns the entry's key.
    fn post_read_request(&self, creds: Option<&Creds>) -> Option<u64> {
        // Apache reads no opaque number from an incomplete header.
        let creds = creds.filter(|c| c.complete())?;
        let key = opaque_number(creds.opaque.as_deref()?);
        let mut table = self.table.lock().unwrap();
        table.get(key)?.count += 1;
        Some(key)
    }

    /// `authenticate_digest_user` and `add_auth_info`: the checks, in Apache's order.
    fn authenticate(
        &self,
        head: &Head,
        creds: Option<Creds>,
        client: Option<u64>,
        now: i64,
    ) -> Answer {
        let mut table = self.table.lock().unwrap();
        // The entry found on receipt, unless collected since.
        let client = client.filter(|&key| table.find(key).is_some());
        let Some(creds) = creds else {
            return self.refuse(&mut table, None, None, false, now);
        };
        let opaque = creds.opaque.as_deref();
        if !creds.complete() {
            // Apache reads no opaque number from an invalid header: no entry.
            return self.refuse(&mut table, opaque, None, false, now);
        }
        if !head.is_named_by(&creds.uri) {
            return Answer::BadRequest;
        }
        let refuse =
            |table: &mut ClientTable, stale| self.refuse(table, opaque, client, stale, now);
        if opaque.is_some_and(|o| opaque_number(o) == 0)
            || creds.realm != self.realm
            || !creds.md5()
            || !creds
                .qop
                .as_deref()
                .is_some_and(|q| q.eq_ignore_ascii_case("auth"))
        {
            return refuse(&mut table, false);
        }
        let Some(password) = self.users.get(&creds.username) else {
            return refuse(&mut table, false);
        };
        let ha1 = ha1(&creds.username, &self.realm, password);
        if creds.expected_response(&ha1, &head.method).as_deref() != Some(creds.response.as_str()) {
            return refuse(&mut table, false);
        }

        // check_nc
        let Some(key) = client else {
            return refuse(&mut table, false);
        };
        let count = table.find(key).map_or(0, |c| c.count);
        let nc = creds
            .nc
            .as_deref()
            .and_then(|nc| u64::from_str_radix(nc.trim(), 16).ok());
        if nc != Some(count) {
            self.counters.bump(Count::NcMismatches);
            return refuse(&mut table, false);
        }

        // check_nonce, last
        let Some(made) = self.nonce_time(&creds.nonce, opaque) else {
            return refuse(&mut table, true);
        };
        let age = now.saturating_sub(made);
        if age < 0 || age > self.lifetime {
            return refuse(&mut table, true);
        }

        // add_auth_info
        let mut nextnonce = String::new();
        if age > self.lifetime.saturating_sub(self.nextnonce_delta) {
            nextnonce = format!(", nextnonce=\"{}\"", self.nonce(now, opaque));
            if let Some(client) = table.find(key) {
                client.count = 0;
            }
        }
        let (nc, cnonce, qop) = (
            creds.nc.as_deref().unwrap_or_default(),
            creds.cnonce.as_deref().unwrap_or_default(),
            creds.qop.as_deref().unwrap_or_default(),
        );
        let ha2 = md5_hex(format!(":{}", creds.uri));
        let rspauth = md5_hex(format!("{ha1}:{}:{nc}:{cnonce}:{qop}:{ha2}", creds.nonce));
        let cnonce = cnonce.replace('"', "\\\"");
        Answer::Ok {
            info: Some(format!(
                "rspauth=\"{rspauth}\"{nextnonce}, cnonce=\"{cnonce}\", nc={nc}, qop={qop}"
            )),
            user: creds.username,
        }
    }

    /// `note_digest_auth_failure`: a 401 with a new nonce. Keeps the request's `opaque` and
    /// resets its entry's count when `client` is live; makes a new entry, and says stale,
    /// when the `opaque` names none; makes a new entry when there was no `opaque`.
    fn refuse(
        &self,
        table: &mut ClientTable,
        opaque: Option<&str>,
        client: Option<u64>,
        mut stale: bool,
        now: i64,
    ) -> Answer {
        let opaque = match (opaque, client) {
            (None, _) => self.new_client(table),
            (Some(_), None) => {
                stale = true;
                self.new_client(table)
            }
            (Some(sent), Some(key)) => {
                if let Some(client) = table.find(key) {
                    client.count = 0;
                }
                sent.to_owned()
            }
        };
        if stale {
            self.counters.bump(Count::Stale);
        }
        let nonce = self.nonce(now, Some(&opaque));
        let stale = if stale { ", stale=true" } else { "" };
        Answer::Unauthorized(format!(
            "Digest realm=\"{}\", nonce=\"{nonce}\", algorithm=MD5, opaque=\"{opaque}\"{stale}, qop=\"auth\"",
            self.realm
        ))
    }

    /// `gen_client`: a new entry; its `opaque`.
    fn new_client(&self, table: &mut ClientTable) -> String {
        let (key, evicted) = table.add();
        self.counters.bump(Count::NewClients);
        self.counters.add(Count::Evictions, evicted);
        format!("{key:x}")
    }

    /// `gen_nonce`: base64 of the time, then the hash binding it to this server and `opaque`.
    fn nonce(&self, time: i64, opaque: Option<&str>) -> String {
        let time = base64_8(time.to_le_bytes());
        let hash = self.nonce_hash(&time, opaque);
        format!("{time}{hash}")
    }

    /// `gen_nonce_hash`: H(secret, realm, time text, opaque), hex.
    fn nonce_hash(&self, time: &str, opaque: Option<&str>) -> String {
        let mut hash = Md5::new();
        hash.update(self.secret);
        hash.update(self.realm.as_bytes());
        hash.update(time.as_bytes());
        if let Some(opaque) = opaque {
            hash.update(opaque.as_bytes());
        }
        format!("{:x}", hash.finalize())
    }

    /// The first half of `check_nonce`: when `nonce` was made, if it is this server's nonce
    /// for `opaque`.
    fn nonce_time(&self, nonce: &str, opaque: Option<&str>) -> Option<i64> {
        if nonce.len() != NONCE_LEN || !nonce.is_char_boundary(NONCE_TIME_LEN) {
            return None;
        }
        let (time, hash) = nonce.split_at(NONCE_TIME_LEN);
        if hash != self.nonce_hash(time, opaque) {
            return None;
        }
        unbase64_8(time).map(i64::from_le_bytes)
    }
}

/// `strtol(opaque, NULL, 16)` as far as Apache uses it: the leading hex digits (after
/// spaces and an optional `0x`); 0 when there are none.
fn opaque_number(opaque: &str) -> u64 {
    let digits = opaque.trim_start();
    let digits = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
        .unwrap_or(digits);
    digits
        .chars()
        .map_while(|c| c.to_digit(16))
        .fold(0u64, |n, d| {
            n.saturating_mul(16).saturating_add(u64::from(d))
        })
}

/// One client entry of the table.
#[derive(Debug, Clone, Copy)]
struct Client {
    key: u64,
    count: u64,
}

/// mod_auth_digest's client table: [`BUCKETS`] lists (key mod [`BUCKETS`]), most recently
/// added or looked up first.
struct ClientTable {
    buckets: Vec<Vec<Client>>,
    len: usize,
    capacity: usize,
    /// The next key (`opaque_cntr`, from 1).
    next_key: u64,
}

impl ClientTable {
    fn new(capacity: usize) -> Self {
        Self {
            buckets: vec![Vec::new(); BUCKETS],
            len: 0,
            capacity: capacity.max(1),
            next_key: 1,
        }
    }

    fn bucket(&mut self, key: u64) -> &mut Vec<Client> {
        let index = usize::try_from(key % BUCKETS as u64).unwrap_or_default();
        &mut self.buckets[index]
    }

    /// `get_client`: the entry, moved to the front of its bucket.
    fn get(&mut self, key: u64) -> Option<&mut Client> {
        let bucket = self.bucket(key);
        let at = bucket.iter().position(|c| c.key == key)?;
        let client = bucket.remove(at);
        bucket.insert(0, client);
        bucket.first_mut()
    }

    /// The entry, left where it is.
    fn find(&mut self, key: u64) -> Option<&mut Client> {
        self.bucket(key).iter_mut().find(|c| c.key == key)
    }

    /// `add_client`: a new entry at the front of its bucket, after a collection if the table
    /// is full. Returns its key and how many entries the collection removed.
    fn add(&mut self) -> (u64, u64) {
        let key = self.next_key;
        self.next_key += 1;
        let evicted = if self.len >= self.capacity {
            self.gc()
        } else {
            0
        };
        self.bucket(key).insert(0, Client { key, count: 0 });
        self.len += 1;
        (key, evicted)
    }

    /// `gc`: removes the last entry of every bucket. Returns how many it removed.
    fn gc(&mut self) -> u64 {
        let removed = self
            .buckets
            .iter_mut()
            .filter_map(|bucket| bucket.pop())
            .count();
        self.len -= removed;
        removed as u64
    }
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 of 8 bytes: 12 characters, the last `=`.
fn base64_8(bytes: [u8; 8]) -> String {
    let bits = u128::from(u64::from_be_bytes(bytes)) << 2; // 66 bits: 11 sextets
    let mut out: String = (0..11)
        .rev()
        .map(|i| char::from(BASE64[((bits >> (6 * i)) & 63) as usize]))
        .collect();
    out.push('=');
    out
}

/// The 8 bytes of [`base64_8`]'s text, if it is that.
fn unbase64_8(text: &str) -> Option<[u8; 8]> {
    let sextets = text.strip_suffix('=')?;
    if sextets.len() != 11 {
        return None;
    }
    let mut bits = 0u128;
    for c in sextets.bytes() {
        let value = BASE64.iter().position(|&b| b == c)?;
        bits = (bits << 6) | value as u128;
    }
    if bits & 3 != 0 {
        return None;
    }
    u64::try_from(bits >> 2).ok().map(u64::to_be_bytes)
}

// ---------------------------------------------------------------------------------------
// Camera

/// How a [`Camera`] is set up. [`CameraSpec::new`]: realm [`REALM`], user [`USER`] /
/// [`PASSWORD`], no nonce rotation.
#[derive(Debug, Clone)]
pub struct CameraSpec {
    /// The realm.
    pub realm: String,
    /// (name, password) pairs.
    pub users: Vec<(String, String)>,
    /// Move on from a nonce older than this (`None`: keep it until something else does).
    pub rotate_after: Option<Duration>,
}

impl Default for CameraSpec {
    fn default() -> Self {
        Self::new()
    }
}

impl CameraSpec {
    /// The defaults above.
    pub fn new() -> Self {
        Self {
            realm: REALM.to_owned(),
            users: default_users(),
            rotate_after: None,
        }
    }

    /// The realm.
    pub fn realm(mut self, realm: impl Into<String>) -> Self {
        self.realm = realm.into();
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

    /// The first request carrying a nonce older than `age` gets 401 with a new one.
    pub fn rotate_after(mut self, age: Duration) -> Self {
        self.rotate_after = Some(age);
        self
    }

    /// Starts a camera with this spec.
    pub fn start(self) -> Camera {
        Camera::start(self)
    }
}

/// A running camera-like server (see the [module docs](self)); stops accepting connections
/// when dropped.
pub struct Camera {
    addr: SocketAddr,
    state: Arc<CameraState>,
    task: JoinHandle<()>,
}

impl Drop for Camera {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl fmt::Debug for Camera {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Camera")
            .field("addr", &self.addr)
            .field("counts", &self.counts())
            .finish_non_exhaustive()
    }
}

impl Camera {
    /// Starts a camera on 127.0.0.1 (an OS-chosen port).
    pub fn start(spec: CameraSpec) -> Self {
        let state = Arc::new(CameraState {
            realm: spec.realm,
            users: user_table(&spec.users),
            rotate_after: spec.rotate_after,
            clients: Mutex::new(HashMap::new()),
            counters: Counters::default(),
        });
        let (addr, task) = listen({
            let state = Arc::clone(&state);
            move |request, peer: SocketAddr| Arc::clone(&state).handle(request, peer.ip())
        });
        Self { addr, state, task }
    }

    /// The address (127.0.0.1 and the port).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The camera's origin: `http://127.0.0.1:PORT`.
    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The URL of `path` on this camera.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.origin())
    }

    /// Everything counted so far.
    pub fn counts(&self) -> Counts {
        self.state.counters.snapshot()
    }

    /// Requests answered.
    pub fn requests(&self) -> u64 {
        self.state.counters.get(Count::Requests)
    }

    /// 401s sent.
    pub fn unauthorized(&self) -> u64 {
        self.state.counters.get(Count::Unauthorized)
    }

    /// 403s sent: nonces not current, and replays.
    pub fn forbidden(&self) -> u64 {
        self.state.counters.get(Count::Forbidden)
    }

    /// 403s for a (nonce, nc) pair seen before.
    pub fn replays(&self) -> u64 {
        self.state.counters.get(Count::Replays)
    }

    /// 401s because the nonce was older than [`CameraSpec::rotate_after`] (or worn out).
    pub fn rotations(&self) -> u64 {
        self.state.counters.get(Count::Rotations)
    }

    /// Zeroes the counts (the current nonces stay).
    pub fn reset_counts(&self) {
        self.state.counters.reset();
    }
}

/// What a [`Camera`]'s tasks share.
struct CameraState {
    realm: String,
    users: HashMap<String, String>,
    rotate_after: Option<Duration>,
    /// The current nonce of each client address.
    clients: Mutex<HashMap<IpAddr, Current>>,
    counters: Counters,
}

/// A client's current nonce.
struct Current {
    nonce: String,
    issued: Instant,
    /// The nonce counts seen with it.
    seen: HashSet<u64>,
}

impl CameraState {
    async fn handle(
        self: Arc<Self>,
        request: Request<Incoming>,
        peer: IpAddr,
    ) -> Response<Full<Bytes>> {
        self.counters.bump(Count::Requests);
        if request.uri().path().starts_with(OPEN) {
            return open();
        }
        let head = Head::of(&request);
        let creds = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|value| Creds::read(value.as_bytes()));
        drain(request.into_body()).await;
        self.answer(peer, &head, creds).respond(&self.counters)
    }

    fn answer(&self, peer: IpAddr, head: &Head, creds: Option<Creds>) -> Answer {
        let mut clients = self.clients.lock().unwrap();
        let Some(creds) = creds else {
            return self.move_on(&mut clients, peer);
        };
        let Some(current) = clients.get_mut(&peer).filter(|c| c.nonce == creds.nonce) else {
            return Answer::Forbidden;
        };
        let too_old = self
            .rotate_after
            .is_some_and(|age| current.issued.elapsed() > age);
        if too_old || current.seen.len() >= CAMERA_SEEN_CAP {
            self.counters.bump(Count::Rotations);
            return self.move_on(&mut clients, peer);
        }
        let nc = creds
            .nc
            .as_deref()
            .and_then(|nc| u64::from_str_radix(nc, 16).ok());
        let (true, Some(nc)) = (self.digest_ok(head, &creds), nc) else {
            return self.move_on(&mut clients, peer);
        };
        if !current.seen.insert(nc) {
            self.counters.bump(Count::Replays);
            return Answer::Forbidden;
        }
        Answer::Ok {
            user: creds.username,
            info: None,
        }
    }

    /// Whether the credentials are right: realm, algorithm, user, qop, uri and response.
    fn digest_ok(&self, head: &Head, creds: &Creds) -> bool {
        let Some(password) = self.users.get(&creds.username) else {
            return false;
        };
        let ha1 = ha1(&creds.username, &self.realm, password);
        creds.realm == self.realm
            && creds.md5()
            && creds
                .qop
                .as_deref()
                .is_some_and(|q| q.eq_ignore_ascii_case("auth"))
            && head.is_named_by(&creds.uri)
            && creds.expected_response(&ha1, &head.method).as_deref()
                == Some(creds.response.as_str())
    }

    /// A 401 with a new nonce, now the client's current one.
    fn move_on(&self, clients: &mut HashMap<IpAddr, Current>, peer: IpAddr) -> Answer {
        let mut random = [0u8; 16];
        getrandom::fill(&mut random).unwrap();
        let nonce: String = random.iter().map(|b| format!("{b:02x}")).collect();
        let challenge = format!(
            "Digest realm=\"{}\", qop=\"auth\", nonce=\"{nonce}\", algorithm=MD5",
            self.realm
        );
        clients.insert(
            peer,
            Current {
                nonce,
                issued: Instant::now(),
                seen: HashSet::new(),
            },
        );
        Answer::Unauthorized(challenge)
    }
}

#[cfg(test)]
mod tests {
    //! The servers driven by hand: HTTP/1.1 written on a `TcpStream`, digests computed here
    //! (MD5 of the RFC 2617 strings), headers read by [`crate::headers::params`].

    use std::collections::HashMap;
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpStream;
    use std::thread::sleep;
    use std::time::Duration;

    use md5::{Digest, Md5};

    use super::{Camera, CameraSpec, Counts, ModAuthDigestSpec, PASSWORD, REALM, USER};
    use crate::headers::params;

    fn md5(text: &str) -> String {
        format!("{:x}", Md5::digest(text.as_bytes()))
    }

    /// A response, read by hand.
    #[derive(Debug)]
    struct Reply {
        status: u16,
        /// Names in lower case.
        headers: Vec<(String, String)>,
        body: String,
    }

    impl Reply {
        fn header(&self, name: &str) -> Option<&str> {
            self.headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        }

        fn challenge_text(&self) -> &str {
            self.header("www-authenticate")
                .unwrap_or_else(|| panic!("no challenge in {self:?}"))
        }

        fn challenge(&self) -> HashMap<String, String> {
            params(self.challenge_text())
        }

        fn stale(&self) -> bool {
            self.challenge().get("stale").is_some_and(|s| s == "true")
        }

        fn opaque(&self) -> String {
            self.challenge()["opaque"].clone()
        }

        fn info(&self) -> HashMap<String, String> {
            let info = self
                .header("authentication-info")
                .unwrap_or_else(|| panic!("no Authentication-Info in {self:?}"));
            params(&format!("Digest {info}"))
        }
    }

    /// One keep-alive connection, HTTP/1.1 by hand.
    struct Connection(BufReader<TcpStream>);

    impl Connection {
        fn open(port: u16) -> Self {
            let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
            stream
                .set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            Self(BufReader::new(stream))
        }

        fn get(&mut self, path: &str, authorization: Option<&str>) -> Reply {
            let mut request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
            if let Some(authorization) = authorization {
                request.push_str(&format!("Authorization: {authorization}\r\n"));
            }
            request.push_str("\r\n");
            self.0.get_mut().write_all(request.as_bytes()).unwrap();
            let mut line = String::new();
            self.0.read_line(&mut line).unwrap();
            let status = line
                .split(' ')
                .nth(1)
                .and_then(|s| s.parse().ok())
                .unwrap_or_else(|| panic!("status line {line:?}"));
            let mut headers = Vec::new();
            loop {
                line.clear();
                self.0.read_line(&mut line).unwrap();
                let field = line.trim_end();
                if field.is_empty() {
                    break;
                }
                let (name, value) = field.split_once(':').unwrap();
                headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
            }
            let len = headers
                .iter()
                .find(|(n, _)| n == "content-length")
                .map_or(0, |(_, v)| v.parse().unwrap());
            let mut body = vec![0; len];
            self.0.read_exact(&mut body).unwrap();
            Reply {
                status,
                headers,
                body: String::from_utf8(body).unwrap(),
            }
        }
    }

    /// What a client keeps of a challenge.
    #[derive(Debug, Clone)]
    struct Space {
        realm: String,
        nonce: String,
        opaque: Option<String>,
    }

    impl Space {
        fn of(reply: &Reply) -> Self {
            let challenge = reply.challenge();
            Self {
                realm: challenge["realm"].clone(),
                nonce: challenge["nonce"].clone(),
                opaque: challenge.get("opaque").cloned(),
            }
        }

        fn nonce(&self, nonce: &str) -> Self {
            Self {
                nonce: nonce.to_owned(),
                ..self.clone()
            }
        }

        fn opaque(&self, opaque: Option<&str>) -> Self {
            Self {
                opaque: opaque.map(str::to_owned),
                ..self.clone()
            }
        }
    }

    fn cnonce(nc: u32) -> String {
        format!("c\"n{nc}")
    }

    /// `Authorization` for GET with `uri`, count `nc`, computed by hand (RFC 2617,
    /// qop=auth).
    fn authorization(space: &Space, uri: &str, nc: u32, password: &str) -> String {
        let (cnonce, nc) = (cnonce(nc), format!("{nc:08x}"));
        let ha1 = md5(&format!("{USER}:{}:{password}", space.realm));
        let ha2 = md5(&format!("GET:{uri}"));
        let response = md5(&format!("{ha1}:{}:{nc}:{cnonce}:auth:{ha2}", space.nonce));
        let mut value = format!(
            "Digest username=\"{USER}\", realm=\"{}\", nonce=\"{}\", uri=\"{uri}\", \
             algorithm=MD5, response=\"{response}\", qop=auth, nc={nc}, cnonce=\"{}\"",
            space.realm,
            space.nonce,
            cnonce.replace('"', "\\\""),
        );
        if let Some(opaque) = &space.opaque {
            value.push_str(&format!(", opaque=\"{opaque}\""));
        }
        value
    }

    /// GET `path` with right credentials.
    fn answer(connection: &mut Connection, space: &Space, path: &str, nc: u32) -> Reply {
        connection.get(path, Some(&authorization(space, path, nc, PASSWORD)))
    }

    /// The `rspauth` mod_auth_digest owes a GET of `uri` (RFC 2617: A2 is ":" uri).
    fn rspauth(space: &Space, uri: &str, nc: u32) -> String {
        let ha1 = md5(&format!("{USER}:{}:{PASSWORD}", space.realm));
        let ha2 = md5(&format!(":{uri}"));
        md5(&format!(
            "{ha1}:{}:{nc:08x}:{}:auth:{ha2}",
            space.nonce,
            cnonce(nc)
        ))
    }

    // -- ModAuthDigest --------------------------------------------------------------------

    #[test]
    fn mod_auth_digest_challenges_each_new_client_with_a_new_opaque() {
        let server = ModAuthDigestSpec::new().start();
        let mut connection = Connection::open(server.port());
        let first = connection.get("/a", None);
        assert_eq!(first.status, 401, "{first:?}");
        let text = first.challenge_text();
        let prefix = format!("Digest realm=\"{REALM}\", nonce=\"");
        assert!(text.starts_with(&prefix), "{text}");
        assert!(
            text.ends_with("\", algorithm=MD5, opaque=\"1\", qop=\"auth\""),
            "{text}"
        );
        // base64 of the time (12 characters, the last '='), then 32 hex digits.
        let nonce = &first.challenge()["nonce"];
        assert_eq!(nonce.len(), 44, "{nonce}");
        assert_eq!(&nonce[11..12], "=", "{nonce}");
        assert!(
            nonce[12..].bytes().all(|b| b.is_ascii_hexdigit()),
            "{nonce}"
        );

        let second = connection.get("/a", None);
        assert_eq!(second.status, 401);
        assert_eq!(second.opaque(), "2");
        assert!(!second.stale());
        assert_eq!(server.entries(), 2);
        let counts = server.counts();
        assert_eq!(
            counts,
            Counts {
                requests: 2,
                unauthorized: 2,
                new_clients: 2,
                ..Counts::default()
            }
        );
        assert_eq!((server.requests(), server.unauthorized()), (2, 2));
        server.reset_counts();
        assert_eq!(server.counts(), Counts::default());
    }

    #[test]
    fn mod_auth_digest_nextnonce_resets_the_count() {
        // The lab's /digest-stale/: lifetime 3 s, so a nextnonce on every answer.
        let server = ModAuthDigestSpec::new().start();
        let url = server.url("/x");
        assert!(url.ends_with(&format!(":{}/x", server.port())), "{url}");
        let mut connection = Connection::open(server.port());
        let space = Space::of(&connection.get("/x", None));
        assert_eq!(space.opaque.as_deref(), Some("1"));

        let ok = answer(&mut connection, &space, "/x", 1);
        assert_eq!(ok.status, 200, "{ok:?}");
        assert_eq!(ok.body, USER);
        let info = ok.info();
        let next = info["nextnonce"].clone();
        assert_ne!(next, space.nonce);
        assert_eq!(
            ok.header("authentication-info").unwrap(),
            format!(
                "rspauth=\"{}\", nextnonce=\"{next}\", cnonce=\"c\\\"n1\", nc=00000001, qop=auth",
                rspauth(&space, "/x", 1)
            )
        );

        // Counting on after the nextnonce: the count was reset, nc=2 is refused (plain 401,
        // the same opaque).
        let refused = answer(&mut connection, &space.nonce(&next), "/x", 2);
        assert_eq!(refused.status, 401, "{refused:?}");
        assert!(!refused.stale());
        assert_eq!(refused.opaque(), "1");
        assert_eq!(server.nc_mismatches(), 1);

        // nc=1 with the new nonce; then nc=1 again with the very first nonce, still alive
        // after the reset the nextnonce made.
        let renewed = Space::of(&refused);
        let ok = answer(&mut connection, &renewed, "/x", 1);
        assert_eq!(ok.status, 200, "{ok:?}");
        assert!(ok.info().contains_key("nextnonce"));
        let ok = answer(&mut connection, &space, "/x", 1);
        assert_eq!(ok.status, 200, "{ok:?}");

        let counts = server.counts();
        assert_eq!((counts.requests, counts.ok, counts.unauthorized), (5, 3, 2));
        assert_eq!(
            (counts.stale, counts.new_clients, counts.evictions),
            (0, 1, 0)
        );
    }

    #[test]
    fn mod_auth_digest_long_lived_nonces_count_exactly() {
        // 300 s: no nextnonce for the first 270 s, so the count goes on.
        let server = ModAuthDigestSpec::new()
            .nonce_lifetime(Duration::from_secs(300))
            .start();
        let mut connection = Connection::open(server.port());
        let space = Space::of(&connection.get("/x", None));
        for nc in 1..=3 {
            let ok = answer(&mut connection, &space, "/x", nc);
            assert_eq!(ok.status, 200, "nc {nc}: {ok:?}");
            assert!(!ok.info().contains_key("nextnonce"), "{ok:?}");
            assert_eq!(ok.info()["nc"], format!("{nc:08x}"));
        }
        // A replayed nc (the count is 4 on receipt): refused, and the count reset.
        let replay = answer(&mut connection, &space, "/x", 3);
        assert_eq!(replay.status, 401);
        assert!(!replay.stale());
        assert_eq!(replay.opaque(), "1");
        // After the reset only nc=1 passes, with any live nonce of the entry.
        assert_eq!(answer(&mut connection, &space, "/x", 2).status, 401);
        assert_eq!(answer(&mut connection, &space, "/x", 1).status, 200);
        assert_eq!(answer(&mut connection, &space, "/x", 2).status, 200);
        // A skipped count: refused.
        assert_eq!(answer(&mut connection, &space, "/x", 4).status, 401);
        assert_eq!(server.nc_mismatches(), 3);
        assert_eq!(server.stale(), 0);
    }

    #[test]
    fn mod_auth_digest_gc_evicts_a_full_table_and_renews_with_stale() {
        let server = ModAuthDigestSpec::new().start(); // 6 entries
        let mut a = Connection::open(server.port());
        let space_a = Space::of(&a.get("/x", None));
        assert_eq!(answer(&mut a, &space_a, "/x", 1).status, 200);

        let mut others = Connection::open(server.port());
        for opaque in 2..=6 {
            assert_eq!(others.get("/x", None).opaque(), opaque.to_string());
        }
        assert_eq!((server.entries(), server.evictions()), (6, 0));
        // A's entry is still there (its count reset by the nextnonce).
        assert_eq!(answer(&mut a, &space_a, "/x", 1).status, 200);

        // One more client: the table is full, the gc removes the tail of every bucket, and
        // with consecutive keys each bucket holds one entry: all six go.
        assert_eq!(others.get("/x", None).opaque(), "7");
        assert_eq!((server.entries(), server.evictions()), (1, 6));

        // A's next request names a collected entry: 401 stale=true with a new opaque.
        let renewed = answer(&mut a, &space_a, "/x", 1);
        assert_eq!(renewed.status, 401, "{renewed:?}");
        assert!(renewed.stale(), "{renewed:?}");
        assert_eq!(renewed.opaque(), "8");
        assert_eq!(server.stale(), 1);
        assert_eq!(answer(&mut a, &Space::of(&renewed), "/x", 1).status, 200);
        assert_eq!(server.counts().new_clients, 8);
    }

    #[test]
    fn mod_auth_digest_gc_takes_each_buckets_least_recently_used_entry() {
        // 16 entries: keys 1 and 16 share bucket 1 (16 in front, the newer).
        let server = ModAuthDigestSpec::new().capacity(16).start();
        let mut connection = Connection::open(server.port());
        let spaces: Vec<Space> = (0..16)
            .map(|_| Space::of(&connection.get("/x", None)))
            .collect();
        let (one, sixteen) = (&spaces[0], &spaces[15]);
        assert_eq!(sixteen.opaque.as_deref(), Some("10"));
        // Looking entry 1 up moves it to the front of its bucket.
        assert_eq!(answer(&mut connection, one, "/x", 1).status, 200);
        connection.get("/x", None); // the 17th: gc
        assert_eq!(server.evictions(), 15);
        assert_eq!(server.entries(), 2);
        assert_eq!(answer(&mut connection, one, "/x", 1).status, 200);
        let gone = answer(&mut connection, sixteen, "/x", 1);
        assert_eq!(gone.status, 401);
        assert!(gone.stale());
        assert_eq!(gone.opaque(), "12");
    }

    #[test]
    fn mod_auth_digest_expired_nonce_is_stale_when_the_count_is_right() {
        let server = ModAuthDigestSpec::new()
            .nonce_lifetime(Duration::from_secs(1))
            .start();
        let mut connection = Connection::open(server.port());
        let space = Space::of(&connection.get("/x", None));
        sleep(Duration::from_millis(1300));
        // The count is checked before the nonce: a wrong nc gets a plain 401...
        let plain = answer(&mut connection, &space, "/x", 2);
        assert_eq!(plain.status, 401);
        assert!(!plain.stale(), "{plain:?}");
        // ...the right one gets stale=true, the same opaque.
        let stale = answer(&mut connection, &space, "/x", 1);
        assert_eq!(stale.status, 401);
        assert!(stale.stale(), "{stale:?}");
        assert_eq!(stale.opaque(), "1");
        assert_eq!(server.stale(), 1);
        let renewed = Space::of(&stale);
        assert_eq!(answer(&mut connection, &renewed, "/x", 1).status, 200);
    }

    #[test]
    fn mod_auth_digest_refusals() {
        // Room for the eight entries and the two renewals, no gc.
        let server = ModAuthDigestSpec::new().capacity(10).start();
        let mut connection = Connection::open(server.port());
        let mut fresh = || Space::of(&connection.get("/x", None));
        let (wrong_password, forged, foreign, other) = (fresh(), fresh(), fresh(), fresh());
        let (bad_uri, absolute, no_opaque, unknown) = (fresh(), fresh(), fresh(), fresh());
        let mut c = Connection::open(server.port());

        // A wrong password: a plain 401, the same opaque, and the count reset.
        let r = c.get("/x", Some(&authorization(&wrong_password, "/x", 1, "nope")));
        assert_eq!((r.status, r.stale(), r.opaque()), (401, false, "1".into()));
        assert_eq!(answer(&mut c, &Space::of(&r), "/x", 1).status, 200);

        // A nonce that is not this server's for the opaque (its hash changed, or another
        // entry's nonce): stale=true, the same opaque.
        let last = if forged.nonce.ends_with('0') {
            "1"
        } else {
            "0"
        };
        let tampered = format!("{}{last}", &forged.nonce[..forged.nonce.len() - 1]);
        let r = answer(&mut c, &forged.nonce(&tampered), "/x", 1);
        assert_eq!((r.status, r.stale(), r.opaque()), (401, true, "2".into()));
        let r = answer(&mut c, &foreign.nonce(&other.nonce), "/x", 1);
        assert_eq!((r.status, r.stale(), r.opaque()), (401, true, "3".into()));

        // A uri that is not the request-target: 400, no challenge; an absolute URI of it is.
        let r = c.get("/x", Some(&authorization(&bad_uri, "/y", 1, PASSWORD)));
        assert_eq!(r.status, 400);
        assert!(r.header("www-authenticate").is_none());
        let uri = server.url("/x");
        let r = c.get("/x", Some(&authorization(&absolute, &uri, 1, PASSWORD)));
        assert_eq!(r.status, 200, "{r:?}");

        // No opaque: a new entry, not stale. An opaque naming no entry: a new one, stale.
        let r = answer(&mut c, &no_opaque.opaque(None), "/x", 1);
        assert_eq!((r.status, r.stale(), r.opaque()), (401, false, "9".into()));
        let r = answer(&mut c, &unknown.opaque(Some("ff")), "/x", 1);
        assert_eq!((r.status, r.stale(), r.opaque()), (401, true, "a".into()));

        let counts = server.counts();
        assert_eq!(
            (counts.bad_requests, counts.stale, counts.forbidden),
            (1, 3, 0)
        );
    }

    #[test]
    fn nonce_time_is_laid_out_as_apaches() {
        // The time parts of two nonces the lab's Apache sent (tests/interop/README.md):
        // base64 of apr_time_t, µs, little-endian.
        for time in ["FkRuwsJgBgA=", "+mZuwsJgBgA="] {
            let micros = super::unbase64_8(time).map(i64::from_le_bytes).unwrap();
            let year = 1970 + micros / 1_000_000 / 31_556_952;
            assert!((2024..2030).contains(&year), "{time}: {micros}");
            assert_eq!(super::base64_8(micros.to_le_bytes()), time);
        }
        assert_eq!(super::unbase64_8("FkRuwsJgBgB="), None); // bits past the 8 bytes
        assert_eq!(super::unbase64_8("FkRuwsJgBg=="), None);
    }

    // -- Camera ---------------------------------------------------------------------------

    #[test]
    fn camera_challenges_then_accepts_any_new_count() {
        let camera = CameraSpec::new().start();
        let mut connection = Connection::open(camera.port());
        let challenge = connection.get("/cam", None);
        assert_eq!(challenge.status, 401);
        let text = challenge.challenge_text();
        let space = Space::of(&challenge);
        assert_eq!(
            text,
            format!(
                "Digest realm=\"{REALM}\", qop=\"auth\", nonce=\"{}\", algorithm=MD5",
                space.nonce
            )
        );
        assert_eq!(space.nonce.len(), 32);
        assert!(space.nonce.bytes().all(|b| b.is_ascii_hexdigit()));

        let ok = answer(&mut connection, &space, "/cam", 1);
        assert_eq!(ok.status, 200, "{ok:?}");
        assert_eq!(ok.body, USER);
        assert!(ok.header("authentication-info").is_none());
        // No order, but no pair twice.
        assert_eq!(answer(&mut connection, &space, "/cam", 3).status, 200);
        assert_eq!(answer(&mut connection, &space, "/cam", 2).status, 200);
        let replay = answer(&mut connection, &space, "/cam", 3);
        assert_eq!(replay.status, 403);
        assert!(replay.header("www-authenticate").is_none());
        assert_eq!(
            camera.counts(),
            Counts {
                requests: 5,
                ok: 3,
                unauthorized: 1,
                forbidden: 1,
                replays: 1,
                ..Counts::default()
            }
        );
        camera.reset_counts();
        assert_eq!(camera.counts(), Counts::default());
        // The nonce outlives the reset of the counts.
        assert_eq!(answer(&mut connection, &space, "/cam", 4).status, 200);
    }

    #[test]
    fn camera_second_challenge_kills_the_first_nonce() {
        let camera = Camera::start(CameraSpec::new());
        let (mut one, mut two) = (
            Connection::open(camera.port()),
            Connection::open(camera.port()),
        );
        let first = Space::of(&one.get("/cam", None));
        let second = Space::of(&two.get("/cam", None));
        assert_ne!(first.nonce, second.nonce);
        // Both connections come from 127.0.0.1: one client, one current nonce.
        assert_eq!(answer(&mut one, &first, "/cam", 1).status, 403);
        assert_eq!(answer(&mut two, &second, "/cam", 1).status, 200);
        assert_eq!(answer(&mut one, &second, "/cam", 2).status, 200);
        assert_eq!(camera.forbidden(), 1);
        assert_eq!(camera.replays(), 0);
    }

    #[test]
    fn camera_wrong_password_moves_on() {
        let camera = CameraSpec::new().start();
        let mut connection = Connection::open(camera.port());
        let first = Space::of(&connection.get("/cam", None));
        let wrong = connection.get("/cam", Some(&authorization(&first, "/cam", 1, "nope")));
        assert_eq!(wrong.status, 401);
        let second = Space::of(&wrong);
        assert_ne!(second.nonce, first.nonce);
        assert_eq!(answer(&mut connection, &first, "/cam", 2).status, 403);
        assert_eq!(answer(&mut connection, &second, "/cam", 1).status, 200);
        assert_eq!((camera.unauthorized(), camera.forbidden()), (2, 1));
    }

    #[test]
    fn camera_rotates_an_old_nonce() {
        let camera = CameraSpec::new()
            .rotate_after(Duration::from_millis(400))
            .start();
        let mut connection = Connection::open(camera.port());
        let first = Space::of(&connection.get("/cam", None));
        assert_eq!(answer(&mut connection, &first, "/cam", 1).status, 200);
        sleep(Duration::from_millis(600));
        let rotated = answer(&mut connection, &first, "/cam", 2);
        assert_eq!(rotated.status, 401);
        assert!(!rotated.challenge().contains_key("stale"));
        let second = Space::of(&rotated);
        assert_ne!(second.nonce, first.nonce);
        assert_eq!(camera.rotations(), 1);
        // A request still carrying the old nonce: 403.
        assert_eq!(answer(&mut connection, &first, "/cam", 3).status, 403);
        assert_eq!(answer(&mut connection, &second, "/cam", 1).status, 200);
        assert_eq!(camera.requests(), 5);
    }
}
