//! What is the hyper adapter's own: the client layer (`DigestAuthLayer` over hyper-util's
//! client) under tower-http's `FollowRedirect` and without it, the server layer
//! (`RequireDigestLayer`) under axum, what the server layer answers to malformed, Basic and
//! missing credentials, and how it leaves a connection after refusing a request with a
//! body. The scenarios every adapter shares (challenge and reuse, every algorithm, stale
//! nonces, rejected credentials, `auth-int`, streamed bodies, concurrency, proxies) are in
//! the end-to-end suite, `tests/e2e/conformance.rs`, which runs them through this adapter
//! too.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{HeaderMap, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full};
use httpdigest::client::{ClientConfig, Failure};
use httpdigest::server::{Authenticated, Users, Verifier, VerifierConfig};
use httpdigest::{Algorithm, QopOptions};
use httpdigest_hyper::{DigestAuthLayer, DigestBody, Error, RequireDigestLayer};
use httpdigest_tests::drive::{self, Setup};
use httpdigest_tests::headers::{fnv, params, payload};
use httpdigest_tests::server::{
    PASSWORD, REALM, Spec, T0, USER, assert_challenged_once_without_credentials,
    redirect_to_another_origin, statuses,
};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tower::{Service, ServiceBuilder, ServiceExt};
use tower_http::follow_redirect::FollowRedirectLayer;

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

type ClientError = Error<hyper_util::client::legacy::Error>;
type Hyper = HyperClient<HttpConnector, DigestBody<Full<Bytes>>>;

/// A response read to the end.
#[derive(Debug)]
struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }
}

/// Sends `request` through a clone of `service` and reads the whole answer.
async fn send<S, B, R>(service: &S, request: Request<B>) -> Result<Reply, ClientError>
where
    S: Service<Request<B>, Response = Response<R>, Error = ClientError> + Clone,
    R: http_body::Body,
    R::Error: std::fmt::Debug,
{
    let response = service.clone().oneshot(request).await?;
    let (parts, body) = response.into_parts();
    let body = body.collect().await.unwrap().to_bytes();
    Ok(Reply {
        status: parts.status,
        headers: parts.headers,
        body: String::from_utf8(body.to_vec()).unwrap(),
    })
}

fn get(url: &str) -> Request<Full<Bytes>> {
    Request::get(url).body(Full::new(Bytes::new())).unwrap()
}

fn post(url: &str, body: impl Into<Bytes>) -> Request<Full<Bytes>> {
    Request::post(url).body(Full::new(body.into())).unwrap()
}

/// How many requests went through to the wrapped client (one per HTTP exchange).
#[derive(Clone, Default)]
struct Exchanges(Arc<AtomicUsize>);

impl Exchanges {
    /// Sends since the last call.
    fn take(&self) -> usize {
        self.0.swap(0, Ordering::SeqCst)
    }
}

/// Counts the requests that go through to the wrapped client.
#[derive(Clone)]
struct Counting {
    inner: Hyper,
    exchanges: Exchanges,
}

impl Service<Request<DigestBody<Full<Bytes>>>> for Counting {
    type Response = Response<Incoming>;
    type Error = hyper_util::client::legacy::Error;
    type Future = <Hyper as Service<Request<DigestBody<Full<Bytes>>>>>::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Service::poll_ready(&mut self.inner, cx)
    }

    fn call(&mut self, request: Request<DigestBody<Full<Bytes>>>) -> Self::Future {
        self.exchanges.0.fetch_add(1, Ordering::SeqCst);
        Service::call(&mut self.inner, request)
    }
}

/// A counting hyper-util client and its count.
fn counting_client() -> (Counting, Exchanges) {
    let exchanges = Exchanges::default();
    let inner = HyperClient::builder(TokioExecutor::new()).build_http();
    let counting = Counting {
        inner,
        exchanges: exchanges.clone(),
    };
    (counting, exchanges)
}

/// The client layer for `setup`.
fn layer(setup: &Setup) -> DigestAuthLayer {
    drive::hyper_layer(setup)
}

/// `alice` with `config`, over a counting client.
fn digest_client(config: ClientConfig) -> (httpdigest_hyper::DigestAuth<Counting>, Exchanges) {
    let (inner, exchanges) = counting_client();
    let setup = Setup::new(USER, PASSWORD).config(config);
    (
        ServiceBuilder::new().layer(layer(&setup)).service(inner),
        exchanges,
    )
}

fn alice() -> (httpdigest_hyper::DigestAuth<Counting>, Exchanges) {
    digest_client(ClientConfig::default())
}

/// The Digest failure of a client error, or a panic saying what the error was.
fn auth_failure(error: &ClientError) -> (Failure, StatusCode) {
    match error {
        Error::Auth(e) => (e.failure().clone(), e.status()),
        other => panic!("expected Error::Auth, got {other:?}"),
    }
}

/// A plain client (no Digest layer) for hand-made requests.
fn plain_client() -> HyperClient<HttpConnector, Full<Bytes>> {
    HyperClient::builder(TokioExecutor::new()).build_http()
}

/// A random 32-byte verifier key.
fn key() -> [u8; 32] {
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).unwrap();
    key
}

/// [`USER`] in [`REALM`].
fn users() -> Users {
    let mut users = Users::new(REALM);
    users.insert(USER, PASSWORD);
    users
}

// ---------------------------------------------------------------------------------------
// 1. Redirects
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redirects_are_the_callers_and_credentials_do_not_follow_them() {
    let (a, b, b_url) = redirect_to_another_origin();

    // (a) No redirect layer: the 302 is the caller's.
    let (client, exchanges) = alice();
    let reply = send(&client, get(&a.url("/start"))).await.unwrap();
    assert_eq!(reply.status, StatusCode::FOUND);
    assert_eq!(reply.header("location"), Some(b_url.as_str()));
    assert_eq!(exchanges.take(), 2);
    assert_eq!(statuses(&a.take_seen()), [401, 302]);
    assert!(b.take_seen().is_empty());

    // (b) FollowRedirect outside the Digest layer: the hop to B is a new request, out of
    // the credentials' scope.
    let (inner, exchanges) = counting_client();
    let following = ServiceBuilder::new()
        .layer(FollowRedirectLayer::new())
        .layer(layer(&Setup::new(USER, PASSWORD)))
        .service(inner);
    let error = send(&following, get(&a.url("/start"))).await.unwrap_err();
    assert_eq!(
        auth_failure(&error),
        (Failure::OutOfScope, StatusCode::UNAUTHORIZED)
    );
    assert_eq!(exchanges.take(), 3, "A: 401, 302; B: 401");
    assert_eq!(statuses(&a.take_seen()), [401, 302]);
    assert_challenged_once_without_credentials(&b);

    // A itself is still known to this client: one exchange to the redirect.
    let (inner, exchanges) = counting_client();
    let shared = layer(&Setup::new(USER, PASSWORD));
    let plain = ServiceBuilder::new().layer(shared.clone()).service(inner);
    assert_eq!(
        send(&plain, get(&a.url("/start"))).await.unwrap().status,
        StatusCode::FOUND
    );
    assert_eq!(exchanges.take(), 2);
    assert_eq!(
        send(&plain, get(&a.url("/start"))).await.unwrap().status,
        StatusCode::FOUND
    );
    assert_eq!(exchanges.take(), 1);
}

// ---------------------------------------------------------------------------------------
// 2. axum
// ---------------------------------------------------------------------------------------

async fn me(axum::Extension(user): axum::Extension<Authenticated>) -> String {
    user.username
}

async fn upload(axum::Extension(user): axum::Extension<Authenticated>, body: Bytes) -> String {
    format!("{} {} {}", user.username, body.len(), fnv(&body))
}

/// Serves `router` on 127.0.0.1:0; returns the address.
async fn serve_axum(router: axum::Router) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn axum_route_behind_the_layer() {
    let read_clock = || T0;
    let layer = RequireDigestLayer::new(
        Verifier::new(VerifierConfig::new(REALM), &key()).unwrap(),
        users(),
    )
    .unwrap()
    .with_clock(read_clock);
    let router = axum::Router::new()
        .route("/me", axum::routing::get(me))
        .layer(layer);
    let addr = serve_axum(router).await;
    let url = format!("http://{addr}/me");

    // Without credentials: 401 with the challenges (SHA-256, MD5).
    let response = plain_client().request(get(&url)).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let challenges: Vec<_> = response
        .headers()
        .get_all(header::WWW_AUTHENTICATE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    assert_eq!(challenges.len(), 2, "{challenges:?}");
    assert!(challenges[0].contains("algorithm=SHA-256"));

    let (client, exchanges) = alice();
    for expected in [2, 1] {
        let reply = send(&client, get(&url)).await.unwrap();
        assert_eq!((reply.status, reply.body.as_str()), (StatusCode::OK, USER));
        let info = reply.header("authentication-info").unwrap();
        assert!(info.contains("rspauth="), "{info}");
        assert_eq!(exchanges.take(), expected);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn axum_route_with_auth_int() {
    let read_clock = || T0;
    let config = VerifierConfig::new(REALM).with_qop(QopOptions::BOTH);
    let layer = RequireDigestLayer::new(Verifier::new(config, &key()).unwrap(), users())
        .unwrap()
        .with_clock(read_clock)
        .with_auth_int(1 << 20);
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let log = Arc::clone(&seen);
    let router = axum::Router::new()
        .route("/upload", axum::routing::post(upload))
        .layer(layer)
        .layer(tower::util::MapRequestLayer::new(
            move |request: axum::extract::Request| {
                let value = request
                    .headers()
                    .get(header::AUTHORIZATION)
                    .map(|v| v.to_str().unwrap().to_owned());
                log.lock().unwrap().extend(value);
                request
            },
        ));
    let addr = serve_axum(router).await;
    let url = format!("http://{addr}/upload");

    let (client, exchanges) = digest_client(ClientConfig::default().with_prefer_auth_int(true));
    let data = payload(4096);
    for expected in [2, 1] {
        let reply = send(&client, post(&url, data.clone())).await.unwrap();
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.body, format!("{USER} 4096 {}", fnv(&data)));
        assert_eq!(exchanges.take(), expected);
    }
    let sent = std::mem::take(&mut *seen.lock().unwrap());
    assert_eq!(sent.len(), 2);
    assert!(
        sent.iter().all(|v| params(v)["qop"] == "auth-int"),
        "{sent:?}"
    );
}

// ---------------------------------------------------------------------------------------
// 3. What the server layer answers
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn server_answers_malformed_basic_and_one_challenge_per_algorithm() {
    let algorithms = [Algorithm::Sha512_256, Algorithm::Sha256, Algorithm::Md5];
    let server = Spec::new().algorithms(algorithms).start();
    let client = plain_client();
    let with_authorization = |value: &str| {
        Request::get(server.url("/h"))
            .header(header::AUTHORIZATION, value)
            .body(Full::new(Bytes::new()))
            .unwrap()
    };

    let malformed = client
        .request(with_authorization(r#"Digest realm="x", nonce="#))
        .await
        .unwrap();
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    assert!(!malformed.headers().contains_key(header::WWW_AUTHENTICATE));

    let basic = client
        .request(with_authorization("Basic YWxpY2U6czNjcmV0"))
        .await
        .unwrap();
    assert_eq!(basic.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        basic
            .headers()
            .get_all(header::WWW_AUTHENTICATE)
            .iter()
            .count(),
        3
    );

    let none = client.request(get(&server.url("/h"))).await.unwrap();
    assert_eq!(none.status(), StatusCode::UNAUTHORIZED);
    let challenges: Vec<_> = none
        .headers()
        .get_all(header::WWW_AUTHENTICATE)
        .iter()
        .map(|v| params(v.to_str().unwrap()))
        .collect();
    let named: Vec<&str> = challenges.iter().map(|p| p["algorithm"].as_str()).collect();
    assert_eq!(named, ["SHA-512-256", "SHA-256", "MD5"]);
    assert!(
        challenges
            .iter()
            .all(|p| p["realm"] == REALM && p["qop"] == "auth")
    );
    let nonces: HashSet<&str> = challenges.iter().map(|p| p["nonce"].as_str()).collect();
    assert_eq!(nonces.len(), 1, "one nonce shared by the challenges");

    assert_eq!(statuses(&server.take_seen()), [400, 401, 401]);
    assert!(server.take_accepted().is_empty());

    // The client picks the strongest.
    let (digest, _) = alice();
    assert_eq!(
        send(&digest, get(&server.url("/h"))).await.unwrap().status,
        StatusCode::OK
    );
    assert_eq!(
        params(&server.take_accepted()[0])["algorithm"],
        "SHA-512-256"
    );
}

// ---------------------------------------------------------------------------------------
// 4. A refused request whose body has not arrived
// ---------------------------------------------------------------------------------------

/// A refused request's body must not be left unread on a connection that stays open: a
/// pooling client (hyper-util) would send its next request into it and fail with
/// `IncompleteMessage`. A small body is read and dropped (the connection stays usable); a
/// large one, or one the client holds back until `100 Continue`, gets `Connection: close`.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn refusal_of_a_request_with_a_body_keeps_the_connection_usable_or_closes_it() {
    use tokio::io::AsyncWriteExt;
    let server = Spec::new().start();

    // Small body: read and dropped, and the next request on the connection is answered.
    let mut stream = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    let mut request =
        b"POST /upload HTTP/1.1\r\nhost: test\r\ncontent-length: 1000\r\n\r\n".to_vec();
    request.extend_from_slice(&payload(1000));
    request.extend_from_slice(b"GET /next HTTP/1.1\r\nhost: test\r\n\r\n");
    stream.write_all(&request).await.unwrap();
    let head = httpdigest_tests::raw::read_head_async(&mut stream)
        .await
        .unwrap();
    assert!(head.starts_with("HTTP/1.1 401"), "{head}");
    assert!(
        !head.to_ascii_lowercase().contains("connection: close"),
        "{head}"
    );
    httpdigest_tests::raw::read_body_async(&mut stream, &head)
        .await
        .expect("the 401's body");
    let next = httpdigest_tests::raw::read_head_async(&mut stream)
        .await
        .expect("the connection carries the next request");
    assert!(next.starts_with("HTTP/1.1 401"), "{next}");

    // A body larger than what is drained: the answer says the connection closes.
    let mut stream = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    let size = 200 * 1024;
    let mut request =
        format!("POST /upload HTTP/1.1\r\nhost: test\r\ncontent-length: {size}\r\n\r\n")
            .into_bytes();
    request.extend_from_slice(&payload(size));
    let _ = stream.write_all(&request).await;
    let head = httpdigest_tests::raw::read_head_async(&mut stream)
        .await
        .unwrap();
    assert!(head.starts_with("HTTP/1.1 401"), "{head}");
    assert!(
        head.to_ascii_lowercase().contains("connection: close"),
        "{head}"
    );

    // `Expect: 100-continue`: the body is not asked for, and the connection closes.
    let mut stream = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    stream
        .write_all(b"POST /upload HTTP/1.1\r\nhost: test\r\ncontent-length: 1000\r\nexpect: 100-continue\r\n\r\n")
        .await
        .unwrap();
    let head = httpdigest_tests::raw::read_head_async(&mut stream)
        .await
        .unwrap();
    assert!(head.starts_with("HTTP/1.1 401"), "{head}");
    assert!(
        head.to_ascii_lowercase().contains("connection: close"),
        "{head}"
    );
}

// ---------------------------------------------------------------------------------------
// 5. Requests an attacker shapes
// ---------------------------------------------------------------------------------------

/// Sends `head` (a request without a body) on a new connection and returns the response
/// head.
async fn exchange_raw(addr: std::net::SocketAddr, head: &str) -> String {
    use tokio::io::AsyncWriteExt;
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    httpdigest_tests::raw::read_head_async(&mut stream)
        .await
        .unwrap_or_default()
}

/// The `Authorization` the core client writes for `method` on `target` (its `uri`), in
/// answer to the challenges of `response_head`.
fn answer(response_head: &str, method: &str, target: &str) -> String {
    use httpdigest::client::{
        Action, Client, Credentials, Request as CoreRequest, Response as CoreResponse,
    };
    use httpdigest::{OriginRef, Scheme, ThreadRng};
    let challenges: Vec<&[u8]> = response_head
        .lines()
        .filter_map(|l| l.strip_prefix("www-authenticate: "))
        .map(str::as_bytes)
        .collect();
    let origin = OriginRef {
        scheme: Scheme::Http,
        host: "127.0.0.1",
        port: 80,
    };
    let request = CoreRequest::new(method, target, origin);
    let mut client = Client::new(Credentials::new(USER, PASSWORD), ClientConfig::default());
    let mut rng = ThreadRng::default();
    let (mut exchange, _) = client.begin(&request, &mut rng);
    let response = CoreResponse {
        www_authenticate: &challenges,
        ..CoreResponse::new(401)
    };
    let Action::Send(ticket) = client.handle_response(&mut exchange, &request, &response, &mut rng)
    else {
        panic!("no answer to {response_head}");
    };
    ticket
        .sign(&request)
        .unwrap()
        .authorization
        .unwrap()
        .text()
        .into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_layer_refuses_what_an_attacker_shapes_and_verifies_options_asterisk() {
    let server = Spec::new().start();
    let addr = server.addr();
    let host = format!("127.0.0.1:{}", addr.port());

    // `OPTIONS *` is verified with `*` as its target, not `/*`.
    let options = format!("OPTIONS * HTTP/1.1\r\nhost: {host}\r\n\r\n");
    let challenge = exchange_raw(addr, &options).await;
    assert!(challenge.starts_with("HTTP/1.1 401"), "{challenge}");
    let authorization = answer(&challenge, "OPTIONS", "*");
    let head =
        format!("OPTIONS * HTTP/1.1\r\nhost: {host}\r\nauthorization: {authorization}\r\n\r\n");
    let ok = exchange_raw(addr, &head).await;
    assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");

    // Two `Authorization` fields: 400, whichever is right.
    let challenge = exchange_raw(addr, &format!("GET /h HTTP/1.1\r\nhost: {host}\r\n\r\n")).await;
    let authorization = answer(&challenge, "GET", "/h");
    let two = format!(
        "GET /h HTTP/1.1\r\nhost: {host}\r\nauthorization: {authorization}\r\nauthorization: Digest username=\"x\"\r\n\r\n"
    );
    let refused = exchange_raw(addr, &two).await;
    assert!(refused.starts_with("HTTP/1.1 400"), "{refused}");

    // An absolute-form `uri` naming another host, for this request's path: 400.
    let challenge = exchange_raw(addr, &format!("GET /h HTTP/1.1\r\nhost: {host}\r\n\r\n")).await;
    let elsewhere = answer(&challenge, "GET", "http://other.example/h");
    let head = format!("GET /h HTTP/1.1\r\nhost: {host}\r\nauthorization: {elsewhere}\r\n\r\n");
    let refused = exchange_raw(addr, &head).await;
    assert!(refused.starts_with("HTTP/1.1 400"), "{refused}");
    // The same, naming this server: accepted.
    let challenge = exchange_raw(addr, &format!("GET /h HTTP/1.1\r\nhost: {host}\r\n\r\n")).await;
    let here = answer(&challenge, "GET", &format!("http://{host}/h"));
    let head = format!("GET /h HTTP/1.1\r\nhost: {host}\r\nauthorization: {here}\r\n\r\n");
    let ok = exchange_raw(addr, &head).await;
    assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");

    let reasons: Vec<Option<String>> = server
        .take_seen()
        .into_iter()
        .map(|s| s.rejection)
        .collect();
    assert!(
        reasons.iter().flatten().any(|r| r == "SeveralCredentials"),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().flatten().any(|r| r == "UriMismatch"),
        "{reasons:?}"
    );
}

/// What a `tracing` event said: its level, and each field as `Debug` text.
#[cfg(feature = "tracing")]
#[derive(Debug, Clone)]
struct Said {
    level: tracing::Level,
    fields: Vec<(String, String)>,
}

#[cfg(feature = "tracing")]
impl Said {
    fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A subscriber that keeps every event.
#[cfg(feature = "tracing")]
struct Collect(Arc<Mutex<Vec<Said>>>);

#[cfg(feature = "tracing")]
impl tracing::Subscriber for Collect {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        struct Fields(Vec<(String, String)>);
        impl tracing::field::Visit for Fields {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                self.0.push((field.name().to_owned(), format!("{value:?}")));
            }
            fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
                self.0.push((field.name().to_owned(), value.to_owned()));
            }
        }
        let mut fields = Fields(Vec::new());
        event.record(&mut fields);
        self.0.lock().unwrap().push(Said {
            level: *event.metadata().level(),
            fields: fields.0,
        });
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

/// Every refusal is one event with its typed reason, the user and the source, and never a
/// secret; a request without credentials is only `debug`.
#[cfg(feature = "tracing")]
#[test]
fn each_refusal_is_one_event_with_reason_user_and_source_and_no_secret() {
    let said = Arc::new(Mutex::new(Vec::new()));
    let subscriber = Collect(Arc::clone(&said));
    let layer = RequireDigestLayer::new(
        Verifier::new(VerifierConfig::new(REALM), &key()).unwrap(),
        users(),
    )
    .unwrap();
    let service = tower::Layer::layer(
        &layer,
        tower::service_fn(|_request: Request<Full<Bytes>>| async {
            Ok::<_, std::convert::Infallible>(Response::new(Full::new(Bytes::new())))
        }),
    );
    let peer: std::net::SocketAddr = "192.0.2.7:4711".parse().unwrap();
    let request = |authorization: Option<&str>| {
        let mut builder = Request::get("http://127.0.0.1/h").header(header::HOST, "127.0.0.1");
        if let Some(a) = authorization {
            builder = builder.header(header::AUTHORIZATION, a);
        }
        let mut request = builder.body(Full::new(Bytes::new())).unwrap();
        request.extensions_mut().insert(peer);
        request
    };
    tracing::subscriber::with_default(subscriber, || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let challenged = service.clone().oneshot(request(None)).await.unwrap();
            assert_eq!(challenged.status(), StatusCode::UNAUTHORIZED);
            let challenge = challenged.headers()[header::WWW_AUTHENTICATE]
                .to_str()
                .unwrap()
                .to_owned();
            let head = format!("HTTP/1.1 401 Unauthorized\r\nwww-authenticate: {challenge}\r\n");
            let mut wrong = answer(&head, "GET", "/h");
            // The same credentials with another response: a wrong password.
            let at = wrong.find("response=\"").unwrap() + 10;
            wrong.replace_range(at..at + 8, "00000000");
            let refused = service
                .clone()
                .oneshot(request(Some(&wrong)))
                .await
                .unwrap();
            assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
        });
    });
    let said = said.lock().unwrap().clone();
    let refusals: Vec<&Said> = said
        .iter()
        .filter(|s| s.field("message") == Some("digest credentials refused"))
        .collect();
    assert_eq!(refusals.len(), 2, "{said:?}");
    assert_eq!(refusals[0].level, tracing::Level::DEBUG);
    assert_eq!(refusals[0].field("reason"), Some("MissingCredentials"));
    assert_eq!(refusals[1].level, tracing::Level::INFO);
    assert_eq!(refusals[1].field("reason"), Some("WrongPassword"));
    assert_eq!(refusals[1].field("user"), Some(USER));
    assert_eq!(refusals[1].field("source"), Some("192.0.2.7:4711"));
    let everything = format!("{said:?}");
    assert!(
        !everything.contains(PASSWORD) && !everything.contains("response="),
        "{everything}"
    );
}

// ---------------------------------------------------------------------------------------
// auth-int: rspauth over the response body
// ---------------------------------------------------------------------------------------

mod signed_body {
    use super::{auth_failure, counting_client, post, send};
    use http::StatusCode;
    use httpdigest::client::{Client, ClientConfig, Credentials, Failure};
    use httpdigest_hyper::{DigestAuth, DigestAuthLayer};
    use httpdigest_tests::signed_body::{Delivery, PASSWORD, SignedBodyServer, USER};
    use tower::ServiceBuilder;

    fn client(required: bool, limit: Option<usize>) -> DigestAuth<super::Counting> {
        let core = Client::new(
            Credentials::new(USER, PASSWORD),
            ClientConfig::default().with_require_mutual_auth(required),
        );
        let layer = DigestAuthLayer::with_client(core);
        let layer = match limit {
            Some(limit) => layer.max_checked_response_body(limit),
            None => layer,
        };
        ServiceBuilder::new()
            .layer(layer)
            .service(counting_client().0)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_body_that_matches_rspauth_comes_through_even_when_mutual_auth_is_required() {
        let server = SignedBodyServer::start(&b"the signed body"[..], Delivery::AsSigned);
        let client = client(true, None);
        for exchanges in [vec![401, 200], vec![200]] {
            let reply = send(&client, post(&server.url("/upload"), "ping"))
                .await
                .unwrap();
            assert_eq!(reply.status, StatusCode::OK);
            assert_eq!(reply.body.as_bytes(), server.body());
            assert_eq!(server.take_statuses(), exchanges);
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_body_changed_on_the_way_fails_with_mutual_auth_failed() {
        let server = SignedBodyServer::start(&b"the signed body"[..], Delivery::Tampered);
        for required in [false, true] {
            let error = send(
                &client(required, None),
                post(&server.url("/upload"), "ping"),
            )
            .await
            .unwrap_err();
            assert_eq!(
                auth_failure(&error),
                (Failure::MutualAuthFailed, StatusCode::OK)
            );
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_body_past_the_limit_is_unchecked_or_fails_as_the_policy_says() {
        let body = "a body longer than the limit".repeat(40);
        let server = SignedBodyServer::start(body.clone(), Delivery::Tampered);
        let url = server.url("/upload");
        // Not required: handed on unchecked, whole.
        let reply = send(&client(false, Some(100)), post(&url, "ping"))
            .await
            .unwrap();
        assert_eq!(reply.body, format!("A{}", &body[1..]));
        // Required: not proven.
        let error = send(&client(true, Some(100)), post(&url, "ping"))
            .await
            .unwrap_err();
        assert_eq!(
            auth_failure(&error),
            (Failure::MutualAuthMissing, StatusCode::OK)
        );
    }
}

/// `response_timeout` bounds each send: here the answer to the challenge gets no response
/// head, and the request fails with the layer's `Error::Timeout` instead of waiting forever.
#[tokio::test]
async fn a_send_without_response_within_the_timeout_is_error_timeout() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&calls);
    let inner = tower::service_fn(move |_request: Request<DigestBody<Full<Bytes>>>| {
        let call = counted.fetch_add(1, Ordering::SeqCst);
        async move {
            if call > 0 {
                std::future::pending::<()>().await;
            }
            let response = Response::builder()
                .status(StatusCode::UNAUTHORIZED)
                .header(
                    header::WWW_AUTHENTICATE,
                    r#"Digest realm="r", nonce="n", qop="auth""#,
                )
                .body(Full::new(Bytes::new()))
                .unwrap();
            Ok::<_, std::convert::Infallible>(response)
        }
    });
    let timeout = std::time::Duration::from_millis(50);
    let service = ServiceBuilder::new()
        .layer(DigestAuthLayer::new(USER, PASSWORD).response_timeout(timeout))
        .service(inner);
    let request = Request::get("http://127.0.0.1:9/h")
        .body(Full::new(Bytes::new()))
        .unwrap();
    let error = service.oneshot(request).await.unwrap_err();
    assert!(
        matches!(error, Error::Timeout(t) if t == timeout),
        "{error:?}"
    );
    assert_eq!(
        calls.load(Ordering::SeqCst),
        2,
        "the challenge was answered"
    );
}

/// What a [`recording`] service was sent: each request's URI and `Authorization`.
type Sent = Arc<Mutex<Vec<(String, Option<String>)>>>;

/// A service in place of the HTTP client that records each request's URI and
/// `Authorization` in `seen`, and answers what `respond` makes of them.
fn recording(
    seen: Sent,
    respond: impl Fn(&str, Option<&str>) -> http::response::Builder + Clone + Send + 'static,
) -> impl Service<
    Request<DigestBody<Full<Bytes>>>,
    Response = Response<Full<Bytes>>,
    Error = std::convert::Infallible,
    Future = impl Send,
> + Clone
+ Send {
    tower::service_fn(move |request: Request<DigestBody<Full<Bytes>>>| {
        let uri = request.uri().to_string();
        let authorization = request
            .headers()
            .get(header::AUTHORIZATION)
            .map(|v| v.to_str().unwrap().to_owned());
        let response = respond(&uri, authorization.as_deref());
        seen.lock().unwrap().push((uri, authorization));
        async move { Ok(response.body(Full::new(Bytes::new())).unwrap()) }
    })
}

/// A URI's userinfo is the Digest credentials of its origin: taken off the URI before the
/// first send (the wrapped client never sees it), never sent as Basic, and the answer to
/// the challenge is Digest as that user.
#[tokio::test]
async fn userinfo_is_digest_credentials_and_never_reaches_the_wire() {
    let seen = Sent::default();
    let inner = recording(Arc::clone(&seen), |_, authorization| {
        let mut response = Response::builder();
        if authorization.is_none() {
            response = response.status(StatusCode::UNAUTHORIZED).header(
                header::WWW_AUTHENTICATE,
                r#"Digest realm="cam", nonce="n", qop="auth", Basic realm="cam""#,
            );
        }
        response
    });
    let service = ServiceBuilder::new()
        .layer(DigestAuthLayer::userinfo_only().unwrap())
        .service(inner);
    let request = Request::get("http://bob:hunter%32@127.0.0.1:9/snap?x=1")
        .body(Full::new(Bytes::new()))
        .unwrap();
    let response = service.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "{seen:?}");
    for (uri, _) in &seen {
        assert_eq!(uri, "http://127.0.0.1:9/snap?x=1");
    }
    assert_eq!(seen[0].1, None);
    let answer = seen[1].1.as_deref().unwrap();
    assert!(answer.starts_with("Digest username=\"bob\""), "{answer}");
    assert!(answer.contains("uri=\"/snap?x=1\""), "{answer}");
    assert!(!answer.contains("hunter"), "{answer}");

    // Another origin, named by no URI: its challenge is not answered.
    let request = Request::get("http://127.0.0.2:9/")
        .body(Full::new(Bytes::new()))
        .unwrap();
    let error = service.oneshot(request).await.unwrap_err();
    assert_eq!(error.failure(), Some(&Failure::NoCredentials), "{error:?}");
}

/// Under `FollowRedirect` with this crate's `RedirectPolicy`, a `Location`'s userinfo is
/// dropped: the hop goes without it, so a server cannot choose credentials for the layer to
/// log in elsewhere with; a relative hop on the same origin is still answered with the
/// credentials the caller's URI named.
#[tokio::test]
async fn a_locations_userinfo_is_dropped_on_every_hop() {
    let seen = Sent::default();
    let inner = recording(Arc::clone(&seen), |uri, authorization| {
        match (uri, authorization) {
            // A redirects to another origin, naming credentials there.
            ("http://127.0.0.1:9/away", _) => Response::builder()
                .status(StatusCode::FOUND)
                .header(header::LOCATION, "http://mallory:chosen@127.0.0.2:9/x"),
            // ... and within itself, relative.
            ("http://127.0.0.1:9/start", _) => Response::builder()
                .status(StatusCode::FOUND)
                .header(header::LOCATION, "/next"),
            (_, None) => Response::builder().status(StatusCode::UNAUTHORIZED).header(
                header::WWW_AUTHENTICATE,
                r#"Digest realm="cam", nonce="n", qop="auth""#,
            ),
            (_, Some(_)) => Response::builder(),
        }
    });
    let service = ServiceBuilder::new()
        .layer(FollowRedirectLayer::with_policy(
            httpdigest_hyper::RedirectPolicy::default(),
        ))
        .layer(DigestAuthLayer::userinfo_only().unwrap())
        .service(inner);

    // The hop to B carries neither the Location's userinfo nor anything made from it.
    let request = Request::get("http://bob:pw@127.0.0.1:9/away")
        .body(Full::new(Bytes::new()))
        .unwrap();
    let error = service.clone().oneshot(request).await.unwrap_err();
    assert_eq!(error.failure(), Some(&Failure::NoCredentials), "{error:?}");
    let hops = std::mem::take(&mut *seen.lock().unwrap());
    assert_eq!(
        hops,
        [
            ("http://127.0.0.1:9/away".to_owned(), None),
            ("http://127.0.0.2:9/x".to_owned(), None),
        ]
    );

    // A relative hop on the same origin: answered as bob, the caller's user.
    let request = Request::get("http://bob:pw@127.0.0.1:9/start")
        .body(Full::new(Bytes::new()))
        .unwrap();
    let response = service.oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let hops = std::mem::take(&mut *seen.lock().unwrap());
    assert_eq!(hops.len(), 3, "{hops:?}");
    assert_eq!(hops[1], ("http://127.0.0.1:9/next".to_owned(), None));
    let answer = hops[2].1.as_deref().unwrap();
    assert!(answer.starts_with("Digest username=\"bob\""), "{answer}");
    assert!(answer.contains("uri=\"/next\""), "{answer}");
}
