//! The server layer's defences, end to end over loopback TCP (hyper serving
//! `RequireDigestLayer`, each request with its peer's `SocketAddr` in its extensions, as the
//! example server does: the guess limiter's default source):
//!
//! 1. throttled guessing: a source guessing at one user, or spraying many, gets `429` with
//!    `Retry-After` and no verification, while the user logs in from elsewhere; the window
//!    ends on the layer's clock;
//! 2. `auth-int` answers carry `rspauth` over the response body when its size is known and
//!    within the limit, and handlers never see what makes it;
//! 3. `auth-int` requests are checked (nonce, user, count) before the body counts for
//!    anything: a forged nonce is refused before its body has arrived;
//! 4. a store (users, nonce counts, the guess limiter) that does not answer makes the layer
//!    answer `503` with `Retry-After`, and requests succeed again once it recovers.
//!
//! Credentials are made by hand with `httpdigest::digest` (see [`Answer`]), so that every
//! nonce count, qop and password is the test's, and `rspauth` is checked against a value
//! computed apart from the layer.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Extension;
use bytes::Bytes;
use http::{HeaderMap, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full};
use httpdigest::digest::{self, QopParams};
use httpdigest::server::{
    Authenticated, CountEntry, Lookup, MemoryNonceCounts, NonceCountCheck, User, Users, Verifier,
    VerifierConfig,
};
use httpdigest::{
    Algorithm, CredentialsParams, HexDigest, NonceCount, Qop, QopOptions, UsernameParam,
};
use httpdigest_hyper::{
    Admission, AsyncCredentialStore, AsyncNonceCountStore, Attempt, GuessLimiter,
    MemoryGuessLimiter, RequireDigestLayer, StoreError, StoreFuture,
};
use httpdigest_tests::drive::Chunks;
use httpdigest_tests::headers::{fnv, params, payload};
use httpdigest_tests::server::{PASSWORD, REALM, T0, USER, serve_http1_from};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tower::{Layer, service_fn};

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// Where the test's clients connect from: the server's own address...
const HERE: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
/// ... and another loopback address (Linux routes all of 127/8 to `lo`): another source.
const ELSEWHERE: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));

/// Bob, the second user, and his password.
const BOB: (&str, &str) = ("bob", "hunter2");

/// The layer's clock, moved by the test (no test waits for time to pass).
#[derive(Clone)]
struct Clock(Arc<AtomicU64>);

impl Clock {
    fn new() -> Self {
        Self(Arc::new(AtomicU64::new(T0)))
    }

    fn advance(&self, seconds: u64) {
        self.0.fetch_add(seconds, Ordering::SeqCst);
    }

    /// The clock as the layer reads it.
    fn reader(&self) -> impl Fn() -> u64 + Send + Sync + 'static {
        let now = Arc::clone(&self.0);
        move || now.load(Ordering::SeqCst)
    }
}

/// A random 32-byte verifier key.
fn key() -> [u8; 32] {
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).unwrap();
    key
}

/// [`USER`] and [`BOB`] in [`REALM`].
fn users() -> Users {
    let mut users = Users::new(REALM);
    users.insert(USER, PASSWORD);
    users.insert(BOB.0, BOB.1);
    users
}

/// SHA-256 only (one challenge per 401), with `qop`.
fn config(qop: QopOptions) -> VerifierConfig {
    VerifierConfig::new(REALM)
        .with_algorithms([Algorithm::Sha256])
        .with_qop(qop)
}

fn verifier(qop: QopOptions) -> Verifier {
    Verifier::new(config(qop), &key()).unwrap()
}

/// Serves `service` on 127.0.0.1 (an OS-chosen port), HTTP/1.1 with keep-alive, each
/// request with its peer's `SocketAddr` in its extensions, as the example server puts it.
async fn serve<S, B>(service: S) -> SocketAddr
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
    let listener = TcpListener::bind((HERE, 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(serve_http1_from(listener, move |peer: SocketAddr| {
        tower::util::MapRequest::new(service.clone(), move |mut request: Request<Incoming>| {
            request.extensions_mut().insert(peer);
            request
        })
    }));
    addr
}

/// Behind a headers-only layer: 200 with `user from address` (the user the layer put in
/// the extensions, the source the server put there).
async fn hello(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let user = request
        .extensions()
        .get::<Authenticated>()
        .map(|user| user.username.clone())
        .unwrap_or_default();
    let peer = request
        .extensions()
        .get::<SocketAddr>()
        .map(|peer| peer.ip().to_string())
        .unwrap_or_default();
    Ok(Response::new(Full::new(Bytes::from(format!(
        "{user} from {peer}"
    )))))
}

/// A response read to the end.
#[derive(Debug)]
struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    /// The nonce of the challenge (panics without one).
    fn nonce(&self) -> String {
        let challenge = self
            .header("www-authenticate")
            .unwrap_or_else(|| panic!("no challenge in {self:?}"));
        params(challenge)["nonce"].clone()
    }

    /// `Retry-After`, in seconds: an integer (panics otherwise).
    fn retry_after(&self) -> u64 {
        let value = self
            .header("retry-after")
            .unwrap_or_else(|| panic!("no Retry-After in {self:?}"));
        value
            .parse()
            .unwrap_or_else(|_| panic!("Retry-After is not seconds: {value:?}"))
    }

    /// The parameters of `Authentication-Info` (panics without it).
    fn info(&self) -> HashMap<String, String> {
        let info = self
            .header("authentication-info")
            .unwrap_or_else(|| panic!("no Authentication-Info in {self:?}"));
        params(&format!("Digest {info}"))
    }

    fn text(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap()
    }
}

/// One keep-alive HTTP/1.1 connection (hyper's client connection API) from a chosen local
/// address: the source the server sees.
struct Conn {
    send: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    host: String,
}

impl Conn {
    async fn open(server: SocketAddr, from: IpAddr) -> Self {
        let socket = TcpSocket::new_v4().unwrap();
        socket
            .bind(SocketAddr::new(from, 0))
            .unwrap_or_else(|e| panic!("cannot bind a client socket to {from}: {e}"));
        let stream = socket.connect(server).await.unwrap();
        let (send, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .unwrap();
        tokio::spawn(connection);
        Self {
            send,
            host: server.to_string(),
        }
    }

    async fn send(
        &mut self,
        method: &str,
        path: &str,
        authorization: Option<&str>,
        body: &[u8],
    ) -> Reply {
        let mut builder = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, &self.host);
        if let Some(authorization) = authorization {
            builder = builder.header(header::AUTHORIZATION, authorization);
        }
        let request = builder
            .body(Full::new(Bytes::copy_from_slice(body)))
            .unwrap();
        self.send.ready().await.unwrap();
        let response = self.send.send_request(request).await.unwrap();
        let (parts, body) = response.into_parts();
        Reply {
            status: parts.status,
            headers: parts.headers,
            body: body.collect().await.unwrap().to_bytes(),
        }
    }

    async fn get(&mut self, path: &str, authorization: Option<&str>) -> Reply {
        self.send("GET", path, authorization, b"").await
    }

    /// `answer` sent as it says: its method, `uri` and body.
    async fn answer(&mut self, answer: &Answer) -> Reply {
        let method = answer.method.clone();
        let path = answer.uri.clone();
        self.send(&method, &path, Some(&answer.header()), &answer.body)
            .await
    }
}

/// Credentials made by hand (SHA-256) with the core's digest functions: whatever user,
/// password, count and qop the test says, and the `rspauth` an answer must carry, computed
/// apart from the layer.
#[derive(Debug, Clone)]
struct Answer {
    user: String,
    password: String,
    nonce: String,
    nc: u32,
    qop: Qop,
    cnonce: String,
    method: String,
    uri: String,
    body: Vec<u8>,
}

impl Answer {
    /// `GET /h` with `qop=auth`, `nc=1`.
    fn new(user: &str, password: &str, nonce: &str) -> Self {
        Self {
            user: user.into(),
            password: password.into(),
            nonce: nonce.into(),
            nc: 1,
            qop: Qop::Auth,
            cnonce: "0a4f113b2f8e3c61".into(),
            method: "GET".into(),
            uri: "/h".into(),
            body: Vec::new(),
        }
    }

    fn nc(mut self, nc: u32) -> Self {
        self.nc = nc;
        self
    }

    /// `POST path` with `qop=auth-int` over `body`.
    fn auth_int(mut self, path: &str, body: &[u8]) -> Self {
        self.qop = Qop::AuthInt;
        self.method = "POST".into();
        self.uri = path.into();
        self.body = body.to_vec();
        self
    }

    fn ha1(&self) -> HexDigest {
        digest::ha1(
            Algorithm::Sha256,
            self.user.as_bytes(),
            REALM.as_bytes(),
            self.password.as_bytes(),
        )
    }

    fn qop_params(&self) -> QopParams<'_> {
        QopParams {
            qop: self.qop,
            nc: NonceCount::new(self.nc),
            cnonce: self.cnonce.as_bytes(),
        }
    }

    fn header(&self) -> String {
        let alg = Algorithm::Sha256;
        let body_hash = (self.qop == Qop::AuthInt).then(|| digest::hash(alg, &self.body));
        let ha2 = digest::ha2(
            alg,
            self.method.as_bytes(),
            self.uri.as_bytes(),
            body_hash.as_ref(),
        );
        let response = digest::response(
            alg,
            &self.ha1(),
            self.nonce.as_bytes(),
            Some(self.qop_params()),
            &ha2,
        );
        CredentialsParams {
            algorithm: Some("SHA-256"),
            nc: Some(NonceCount::new(self.nc)),
            cnonce: Some(&self.cnonce),
            qop: Some(self.qop),
            ..CredentialsParams::new(
                UsernameParam::Plain(&self.user),
                REALM,
                &self.uri,
                &self.nonce,
                response.as_str(),
            )
        }
        .to_header_value()
        .unwrap()
    }

    /// The `rspauth` of the answer to this request, if its body is `response_body`
    /// (RFC 7616 §3.5): A2 = ":" uri, and for `auth-int` ":" uri ":" H(response-body).
    fn rspauth(&self, response_body: &[u8]) -> String {
        let alg = Algorithm::Sha256;
        let body_hash = (self.qop == Qop::AuthInt).then(|| digest::hash(alg, response_body));
        let a2 = digest::ha2(alg, b"", self.uri.as_bytes(), body_hash.as_ref());
        digest::response(
            alg,
            &self.ha1(),
            self.nonce.as_bytes(),
            Some(self.qop_params()),
            &a2,
        )
        .as_str()
        .to_owned()
    }
}

/// Users, counting the lookups: a request the layer refuses unverified looks nobody up.
struct CountedUsers {
    users: Users,
    finds: Arc<AtomicUsize>,
}

impl AsyncCredentialStore for CountedUsers {
    fn find<'a>(&'a self, lookup: Lookup<'a>, realm: &'a str) -> StoreFuture<'a, Option<User>> {
        Box::pin(async move {
            self.finds.fetch_add(1, Ordering::SeqCst);
            // An answer that comes later, as a database's does.
            tokio::task::yield_now().await;
            Ok(lookup.in_store(&self.users, realm))
        })
    }
}

// ---------------------------------------------------------------------------------------
// 1. Throttled guessing
// ---------------------------------------------------------------------------------------

/// The must-show: 1,000 wrong passwords for alice from one source end in `429`
/// with `Retry-After` once past the default limit (10 failures per user and source per
/// 300 s), each later attempt unverified, a right password there included; alice logs in
/// from another source meanwhile, and from the first once the window is over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guessing_at_a_user_is_throttled_at_its_source_only() {
    let clock = Clock::new();
    let finds = Arc::new(AtomicUsize::new(0));
    let store = CountedUsers {
        users: users(),
        finds: Arc::clone(&finds),
    };
    let layer = RequireDigestLayer::new(verifier(QopOptions::AUTH), store)
        .unwrap()
        .with_clock(clock.reader());
    let addr = serve(layer.layer(service_fn(hello))).await;

    let mut guesser = Conn::open(addr, HERE).await;
    let challenge = guesser.get("/h", None).await;
    assert_eq!(challenge.status, StatusCode::UNAUTHORIZED);
    let mut nonce = challenge.nonce();
    let mut statuses = Vec::new();
    for nc in 1..=1000u32 {
        let wrong = Answer::new(USER, &format!("guess {nc}"), &nonce).nc(nc);
        let reply = guesser.get("/h", Some(&wrong.header())).await;
        match reply.status {
            StatusCode::UNAUTHORIZED => {
                // A wrong password's answer: a fresh challenge, not stale.
                let challenge = params(reply.header("www-authenticate").unwrap());
                assert!(!challenge.contains_key("stale"), "{reply:?}");
                nonce = reply.nonce();
            }
            StatusCode::TOO_MANY_REQUESTS => {
                // The window started with the first failure, at this clock's time.
                assert_eq!(reply.retry_after(), 300, "{reply:?}");
                assert!(reply.header("www-authenticate").is_none(), "{reply:?}");
            }
            other => panic!("attempt {nc}: {other} {reply:?}"),
        }
        statuses.push(reply.status.as_u16());
    }
    let expected: Vec<u16> = [401; 10].into_iter().chain([429; 990]).collect();
    assert_eq!(statuses, expected);
    // Only the ten admitted guesses were verified (one user lookup each).
    assert_eq!(finds.load(Ordering::SeqCst), 10);

    // The right password from the throttled source is throttled too, unverified: a guesser
    // who hits it cannot tell.
    let right = Answer::new(USER, PASSWORD, &nonce).nc(1001);
    let reply = guesser.get("/h", Some(&right.header())).await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(finds.load(Ordering::SeqCst), 10);

    // Alice from another source logs in meanwhile.
    let mut alice = Conn::open(addr, ELSEWHERE).await;
    let challenge = alice.get("/h", None).await;
    assert_eq!(challenge.status, StatusCode::UNAUTHORIZED);
    let login = Answer::new(USER, PASSWORD, &challenge.nonce());
    let reply = alice.get("/h", Some(&login.header())).await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(reply.text(), "alice from 127.0.0.2");

    // Time passes on the layer's clock: Retry-After says what is left of the window...
    clock.advance(100);
    let reply = guesser
        .get("/h", Some(&right.clone().nc(1002).header()))
        .await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(reply.retry_after(), 200);
    // ... and once it is over, the source may try again.
    clock.advance(200);
    let challenge = guesser.get("/h", None).await;
    let again = Answer::new(USER, PASSWORD, &challenge.nonce());
    let reply = guesser.get("/h", Some(&again.header())).await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(reply.text(), "alice from 127.0.0.1");
}

/// A source that guesses at many users, once each (never near the limit per user), is
/// stopped by the limit per source (100 failures per 300 s): for every user there, a right
/// password included, while the same users log in from another source.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_spraying_users_is_throttled_for_all_of_them_there_only() {
    let clock = Clock::new();
    let finds = Arc::new(AtomicUsize::new(0));
    let store = CountedUsers {
        users: users(),
        finds: Arc::clone(&finds),
    };
    let layer = RequireDigestLayer::new(verifier(QopOptions::AUTH), store)
        .unwrap()
        .with_clock(clock.reader());
    let addr = serve(layer.layer(service_fn(hello))).await;

    let mut sprayer = Conn::open(addr, HERE).await;
    let nonce = sprayer.get("/h", None).await.nonce();
    let mut statuses = Vec::new();
    for i in 0..101u32 {
        let guess = Answer::new(&format!("user{i}"), "password1", &nonce).nc(i + 1);
        let reply = sprayer.get("/h", Some(&guess.header())).await;
        statuses.push(reply.status.as_u16());
        if reply.status == StatusCode::TOO_MANY_REQUESTS {
            let retry_after = reply.retry_after();
            assert!((1..=300).contains(&retry_after), "{reply:?}");
        }
    }
    let expected: Vec<u16> = [401; 100].into_iter().chain([429]).collect();
    assert_eq!(statuses, expected);
    assert_eq!(finds.load(Ordering::SeqCst), 100);

    // Bob, never guessed at, with his right password: throttled there, unverified.
    let bob = Answer::new(BOB.0, BOB.1, &nonce).nc(200);
    let reply = sprayer.get("/h", Some(&bob.header())).await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(reply.retry_after() > 0);
    assert_eq!(finds.load(Ordering::SeqCst), 100);

    // Bob elsewhere is not.
    let mut elsewhere = Conn::open(addr, ELSEWHERE).await;
    let nonce_elsewhere = elsewhere.get("/h", None).await.nonce();
    let reply = elsewhere
        .get(
            "/h",
            Some(&Answer::new(BOB.0, BOB.1, &nonce_elsewhere).header()),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(reply.text(), "bob from 127.0.0.2");

    // The window over, the source may try again.
    clock.advance(300);
    let nonce = sprayer.get("/h", None).await.nonce();
    let reply = sprayer
        .get("/h", Some(&Answer::new(BOB.0, BOB.1, &nonce).header()))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(reply.text(), "bob from 127.0.0.1");
}

// ---------------------------------------------------------------------------------------
// 2. auth-int: rspauth over the response body
// ---------------------------------------------------------------------------------------

/// What the handlers of the auth-int routes saw: for each request, whether its
/// `Authenticated` carried `body_rspauth` (the session H(A1) behind it).
type Saw = Arc<Mutex<Vec<bool>>>;

/// An axum app behind `layer` (auth-int mode): `POST /known` answers a body of known size
/// (3000 bytes), `/streamed` the same bytes streamed (size unknown), `/large` 5000 bytes
/// of known size, `/upload` the request body's length and FNV hash; each records in `saw`
/// whether it could see `body_rspauth`.
fn auth_int_app(
    layer: RequireDigestLayer<httpdigest_hyper::AuthIntBody>,
    saw: &Saw,
) -> axum::Router {
    use axum::body::Body;
    use axum::routing::post;
    let record = |saw: &Saw| {
        let saw = Arc::clone(saw);
        move |user: &Authenticated| saw.lock().unwrap().push(user.body_rspauth.is_some())
    };
    let known = record(saw);
    let streamed = record(saw);
    let large = record(saw);
    let upload = record(saw);
    axum::Router::new()
        .route(
            "/known",
            post(
                move |Extension(user): Extension<Authenticated>| async move {
                    known(&user);
                    Body::from(payload(3000))
                },
            ),
        )
        .route(
            "/streamed",
            post(
                move |Extension(user): Extension<Authenticated>| async move {
                    streamed(&user);
                    Body::new(Chunks::new(&payload(3000), 1000))
                },
            ),
        )
        .route(
            "/large",
            post(
                move |Extension(user): Extension<Authenticated>| async move {
                    large(&user);
                    Body::from(payload(5000))
                },
            ),
        )
        .route(
            "/upload",
            post(
                move |Extension(user): Extension<Authenticated>, body: Bytes| async move {
                    upload(&user);
                    format!("{} {}", body.len(), fnv(&body))
                },
            ),
        )
        .layer(layer)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_int_answers_prove_the_response_body_when_its_size_is_known_and_within_the_limit() {
    let clock = Clock::new();
    let layer = RequireDigestLayer::new(verifier(QopOptions::BOTH), users())
        .unwrap()
        .with_clock(clock.reader())
        .with_auth_int(1 << 20)
        .with_rspauth_body_limit(4096);
    let saw = Saw::default();
    let addr = serve(auth_int_app(layer, &saw)).await;

    let mut conn = Conn::open(addr, HERE).await;
    let nonce = conn.send("POST", "/known", None, b"").await.nonce();
    let request_body = payload(700);
    let cases = [
        // (nc, path, the response body, whether rspauth covers it)
        (1, "/known", payload(3000), true),
        (2, "/streamed", payload(3000), false),
        (3, "/large", payload(5000), false),
    ];
    for (nc, path, response_body, proven) in cases {
        let answer = Answer::new(USER, PASSWORD, &nonce)
            .nc(nc)
            .auth_int(path, &request_body);
        let reply = conn.answer(&answer).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {reply:?}");
        // The body arrives intact, whether the layer read it for rspauth or not.
        assert_eq!(reply.body, response_body, "{path}");
        let info = reply.info();
        assert_eq!(info["qop"], "auth-int", "{path}: {info:?}");
        assert_eq!(info["nc"], format!("{nc:08x}"), "{path}: {info:?}");
        assert_eq!(info["cnonce"], answer.cnonce, "{path}: {info:?}");
        if proven {
            assert_eq!(
                info.get("rspauth"),
                Some(&answer.rspauth(&response_body)),
                "{path}: rspauth over the response body"
            );
            // Not over the request body, nor without a body hash.
            assert_ne!(info["rspauth"], answer.rspauth(&request_body));
            let mut as_auth = answer.clone();
            as_auth.qop = Qop::Auth;
            assert_ne!(info["rspauth"], as_auth.rspauth(b""));
        } else {
            assert!(!info.contains_key("rspauth"), "{path}: {info:?}");
        }
    }
    // Handlers never saw what makes rspauth (the session H(A1)).
    assert_eq!(*saw.lock().unwrap(), [false, false, false]);
}

// ---------------------------------------------------------------------------------------
// 3. auth-int: the cheap checks first
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_int_checks_the_nonce_the_user_and_the_count_before_the_body() {
    let clock = Clock::new();
    let finds = Arc::new(AtomicUsize::new(0));
    let store = CountedUsers {
        users: users(),
        finds: Arc::clone(&finds),
    };
    let layer = RequireDigestLayer::new(verifier(QopOptions::BOTH), store)
        .unwrap()
        .with_clock(clock.reader())
        .with_auth_int(2 << 20);
    let saw = Saw::default();
    let addr = serve(auth_int_app(layer, &saw)).await;

    // A forged nonce (another key's), the right password, auth-int over a 1 MiB body of
    // which only 16 KiB are sent before the client stalls: refused before the body.
    let foreign = Verifier::new(config(QopOptions::BOTH), &key())
        .unwrap()
        .nonce(T0, &mut httpdigest::ThreadRng::default())
        .unwrap();
    let size = 1 << 20;
    let body = payload(size);
    let forged = Answer::new(USER, PASSWORD, &foreign).auth_int("/upload", &body);
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /upload HTTP/1.1\r\nhost: {addr}\r\ncontent-length: {size}\r\nauthorization: {}\r\n\r\n",
        forged.header()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body[..16 * 1024]).await.unwrap();
    // The body never completes, so any answer at all came before it. The timeout only
    // turns a layer waiting for the rest into a failure rather than a hang; it measures
    // nothing.
    let answer = tokio::time::timeout(
        Duration::from_secs(60),
        httpdigest_tests::raw::read_head_async(&mut stream),
    )
    .await
    .expect("no answer while the body was incomplete: the layer waited for it")
    .expect("the connection closed without an answer");
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    let lower = answer.to_ascii_lowercase();
    assert!(lower.contains("www-authenticate: digest"), "{answer}");
    // The body is left unread: the connection cannot carry another request.
    assert!(lower.contains("connection: close"), "{answer}");
    // Nobody was looked up for it.
    assert_eq!(finds.load(Ordering::SeqCst), 0);
    drop(stream);

    // An unknown user with a whole body is refused as a wrong password is.
    let mut conn = Conn::open(addr, HERE).await;
    let nonce = conn.send("POST", "/upload", None, b"").await.nonce();
    let small = payload(1000);
    let unknown = Answer::new("mallory", "anything", &nonce)
        .nc(1)
        .auth_int("/upload", &small);
    let wrong = Answer::new(USER, "not the password", &nonce)
        .nc(2)
        .auth_int("/upload", &small);
    let unknown = conn.answer(&unknown).await;
    let wrong = conn.answer(&wrong).await;
    for reply in [&unknown, &wrong] {
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{reply:?}");
        let challenge = params(reply.header("www-authenticate").unwrap());
        assert!(!challenge.contains_key("stale"), "{reply:?}");
        // The same line whoever is refused: the body tells no user from a password.
        assert_eq!(
            reply.body,
            &b"Digest authentication required\n"[..],
            "{reply:?}"
        );
    }
    let names = |reply: &Reply| {
        let mut names: Vec<String> = reply.headers.keys().map(|n| n.to_string()).collect();
        names.sort_unstable();
        names
    };
    assert_eq!(names(&unknown), names(&wrong));

    // A count used once, then again: accepted, then refused; the next count is fine.
    let once = Answer::new(USER, PASSWORD, &nonce)
        .nc(3)
        .auth_int("/upload", &small);
    let reply = conn.answer(&once).await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(reply.text(), format!("1000 {}", fnv(&small)));
    let replayed = conn.answer(&once).await;
    assert_eq!(replayed.status, StatusCode::UNAUTHORIZED, "{replayed:?}");
    assert!(replayed.header("authentication-info").is_none());
    let next = conn.answer(&once.clone().nc(4)).await;
    assert_eq!(next.status, StatusCode::OK, "{next:?}");
    // Only the two accepted requests reached the handler.
    assert_eq!(saw.lock().unwrap().len(), 2);
}

// ---------------------------------------------------------------------------------------
// 4. A store that does not answer
// ---------------------------------------------------------------------------------------

/// Whether the test's stores are down (their calls fail), switched by the test.
#[derive(Clone, Default)]
struct Outage(Arc<AtomicBool>);

impl Outage {
    fn set(&self, down: bool) {
        self.0.store(down, Ordering::SeqCst);
    }

    /// The error of a store that did not answer, while down.
    fn check(&self) -> Result<(), StoreError> {
        if self.0.load(Ordering::SeqCst) {
            Err(StoreError::new(
                "the store did not answer (a test's outage)",
            ))
        } else {
            Ok(())
        }
    }
}

/// Users, unreachable during an outage.
struct FlakyUsers(Users, Outage);

impl AsyncCredentialStore for FlakyUsers {
    fn find<'a>(&'a self, lookup: Lookup<'a>, realm: &'a str) -> StoreFuture<'a, Option<User>> {
        Box::pin(async move {
            self.1.check()?;
            Ok(lookup.in_store(&self.0, realm))
        })
    }
}

/// Nonce counts, unreachable during an outage.
struct FlakyCounts(MemoryNonceCounts, Outage);

impl AsyncNonceCountStore for FlakyCounts {
    fn seen<'a>(
        &'a self,
        count: CountEntry<'a>,
        user: &'a [u8],
        now: u64,
    ) -> StoreFuture<'a, NonceCountCheck> {
        Box::pin(async move {
            self.1.check()?;
            AsyncNonceCountStore::seen(&self.0, count, user, now).await
        })
    }

    fn record<'a>(
        &'a self,
        count: CountEntry<'a>,
        user: &'a [u8],
        now: u64,
    ) -> StoreFuture<'a, NonceCountCheck> {
        Box::pin(async move {
            self.1.check()?;
            AsyncNonceCountStore::record(&self.0, count, user, now).await
        })
    }
}

/// A guess limiter, unreachable during an outage.
struct FlakyLimiter(MemoryGuessLimiter, Outage);

impl GuessLimiter for FlakyLimiter {
    fn admit<'a>(&'a self, attempt: Attempt<'a>, now: u64) -> StoreFuture<'a, Admission> {
        Box::pin(async move {
            self.1.check()?;
            self.0.admit(attempt, now).await
        })
    }

    fn failed<'a>(&'a self, attempt: Attempt<'a>, now: u64) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            self.1.check()?;
            self.0.failed(attempt, now).await
        })
    }
}

/// Serves `layer` (auth and auth-int), takes its store down, and checks that a right
/// password is answered `503` with `Retry-After` (no challenge, nothing accepted), with
/// `auth` and with `auth-int`, and that both succeed once the store is back.
async fn unavailable_then_recovered(
    layer: RequireDigestLayer<httpdigest_hyper::AuthIntBody>,
    outage: &Outage,
    store: &str,
) {
    let saw = Saw::default();
    let addr = serve(auth_int_app(layer, &saw)).await;
    let mut conn = Conn::open(addr, HERE).await;
    let body = payload(500);

    outage.set(true);
    // A challenge needs no store.
    let challenge = conn.send("POST", "/upload", None, b"").await;
    assert_eq!(challenge.status, StatusCode::UNAUTHORIZED, "{store}");
    let nonce = challenge.nonce();
    let mut auth = Answer::new(USER, PASSWORD, &nonce).auth_int("/upload", &body);
    auth.qop = Qop::Auth;
    let int = Answer::new(USER, PASSWORD, &nonce)
        .nc(2)
        .auth_int("/upload", &body);
    for answer in [&auth, &int] {
        let reply = conn.answer(answer).await;
        assert_eq!(
            reply.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{store} down, {}: {reply:?}",
            answer.qop
        );
        assert!(reply.retry_after() > 0, "{store}: {reply:?}");
        assert!(reply.header("www-authenticate").is_none(), "{reply:?}");
        assert!(reply.header("authentication-info").is_none(), "{reply:?}");
    }
    assert!(saw.lock().unwrap().is_empty(), "{store}: nothing accepted");

    outage.set(false);
    for answer in [auth.nc(3), int.nc(4)] {
        let reply = conn.answer(&answer).await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "{store} back, {}: {reply:?}",
            answer.qop
        );
        assert_eq!(reply.text(), format!("500 {}", fnv(&body)));
    }
    assert_eq!(saw.lock().unwrap().len(), 2);
}

fn auth_int_layer(
    users: impl AsyncCredentialStore + 'static,
) -> RequireDigestLayer<httpdigest_hyper::AuthIntBody> {
    RequireDigestLayer::new(verifier(QopOptions::BOTH), users)
        .unwrap()
        .with_clock(Clock::new().reader())
        .with_auth_int(1 << 20)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_credential_store_that_does_not_answer_is_503_until_it_recovers() {
    let outage = Outage::default();
    let layer = auth_int_layer(FlakyUsers(users(), outage.clone()));
    unavailable_then_recovered(layer, &outage, "credential store").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nonce_count_store_that_does_not_answer_is_503_until_it_recovers() {
    let outage = Outage::default();
    let counts = FlakyCounts(MemoryNonceCounts::new(1000, 300), outage.clone());
    let layer = auth_int_layer(users()).with_nonce_counts(counts);
    unavailable_then_recovered(layer, &outage, "nonce-count store").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guess_limiter_that_does_not_answer_is_503_until_it_recovers() {
    let outage = Outage::default();
    let limiter = FlakyLimiter(MemoryGuessLimiter::default(), outage.clone());
    let layer = auth_int_layer(users()).with_guess_limiter(limiter);
    unavailable_then_recovered(layer, &outage, "guess limiter").await;
}
