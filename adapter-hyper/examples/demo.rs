//! The httpdigest demonstration: a Digest server and two clients, every exchange printed.
//!
//! ```text
//! cargo run -p httpdigest-hyper --example demo
//! ```
//!
//! It starts a hyper server behind [`RequireDigestLayer`] on a free loopback port, then
//! authenticates to it through the hyper client layer ([`DigestAuthLayer`]), the reqwest
//! middleware and the blocking ureq adapter, printing each request and response on the wire: the challenge, the
//! algorithm the client chose, its answer, and the server's `Authentication-Info`, which the
//! client verifies (`rspauth`). The second request of each client goes out with credentials
//! at once: one round trip. A wrong password ends in a typed error after one answer.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use http::{HeaderMap, Method, Request, Response, StatusCode, Uri};
use http_body_util::{BodyExt, Full};
use httpdigest::client::{Client as DigestClient, ClientConfig, Credentials, Failure};
use httpdigest::server::{Authenticated, Users, Verifier, VerifierConfig};
use httpdigest::{AuthenticationInfo, DigestChallenge, DigestCredentials};
use httpdigest_hyper::{DigestAuthLayer, DigestBody, RequireDigestLayer};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::service::TowerToHyperService;
use tower::{ServiceBuilder, ServiceExt};

const REALM: &str = "demo@httpdigest";

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let address = start_server().await?;
    println!("A Digest server (RequireDigestLayer under hyper) listens on http://{address}/");
    println!("  realm {REALM:?}, algorithms SHA-256 then MD5, qop auth, user alice / s3cret\n");

    println!("== hyper-util client + DigestAuthLayer ==");
    let sends = Arc::new(AtomicUsize::new(0));
    let layer = DigestAuthLayer::with_client(mutual_auth_client());
    let hyper_client = ServiceBuilder::new()
        .layer(layer)
        .service(logged_client(Arc::clone(&sends)));
    for (n, path) in ["/hello", "/hello/again"].into_iter().enumerate() {
        println!("request {}: GET {path}", n + 1);
        let before = sends.load(Ordering::Relaxed);
        let request =
            Request::get(format!("http://{address}{path}")).body(Full::new(Bytes::new()))?;
        let response = hyper_client.clone().oneshot(request).await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        let body = String::from_utf8_lossy(&body);
        let round_trips = sends.load(Ordering::Relaxed) - before;
        println!("  => {status}, body {body:?}; rspauth verified; {round_trips} round trip(s)\n");
        expect(
            status == StatusCode::OK && body == "alice",
            "200 with the user's name",
        )?;
        expect(round_trips == 2 - n, "2 round trips, then 1")?;
    }

    println!("== a wrong password ==");
    let wrong = ServiceBuilder::new()
        .layer(DigestAuthLayer::new("alice", "not the password"))
        .service(logged_client(Arc::new(AtomicUsize::new(0))));
    let request = Request::get(format!("http://{address}/hello")).body(Full::new(Bytes::new()))?;
    let result = wrong.oneshot(request).await;
    match &result {
        Err(error) => println!("  => error: {error} (no third try)\n"),
        Ok(response) => println!("  => {}\n", response.status()),
    }
    let rejected = result
        .err()
        .and_then(|e| e.failure().cloned())
        .is_some_and(|f| f == Failure::CredentialsRejected);
    expect(rejected, "a wrong password ends in CredentialsRejected")?;

    println!("== reqwest + httpdigest-reqwest (reqwest-middleware) ==");
    reqwest_client(&format!("http://{address}")).await?;

    println!("== ureq + httpdigest-ureq (blocking) ==");
    let base = format!("http://{address}");
    tokio::task::spawn_blocking(move || ureq_client(&base)).await??;
    Ok(())
}

/// A hyper-util client that prints every request and response on the wire and counts the
/// requests. It goes below the Digest layer, which then sends through it.
fn logged_client(
    sends: Arc<AtomicUsize>,
) -> impl tower::Service<
    Request<DigestBody<Full<Bytes>>>,
    Response = Response<hyper::body::Incoming>,
    Error = hyper_util::client::legacy::Error,
    Future: Send,
> + Clone
+ Send
+ 'static {
    let client = Client::builder(TokioExecutor::new()).build_http::<DigestBody<Full<Bytes>>>();
    ServiceBuilder::new()
        .map_request(move |request: Request<DigestBody<Full<Bytes>>>| {
            sends.fetch_add(1, Ordering::Relaxed);
            show_request(request.method(), request.uri(), request.headers());
            request
        })
        .map_response(|response: Response<hyper::body::Incoming>| {
            show_response(response.status(), response.headers());
            response
        })
        .service(client)
}

/// The server: a hyper service behind the Digest layer, answering with the user's name.
async fn start_server() -> Result<std::net::SocketAddr, BoxError> {
    let mut users = Users::new(REALM);
    users.insert("alice", "s3cret");
    let mut key = [0u8; 32];
    getrandom::fill(&mut key)?;
    let verifier = Verifier::new(VerifierConfig::new(REALM), &key)?;
    let service = ServiceBuilder::new()
        .layer(RequireDigestLayer::new(verifier, users)?)
        .service_fn(|request: Request<hyper::body::Incoming>| async move {
            let name = request
                .extensions()
                .get::<Authenticated>()
                .map_or_else(String::new, |user| user.username.clone());
            Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(name))))
        });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let service = TowerToHyperService::new(service.clone());
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Ok(address)
}

/// Prints every send below the Digest middleware, as the hyper client's log does.
struct WireLog {
    sends: Arc<AtomicUsize>,
}

#[async_trait::async_trait]
impl reqwest_middleware::Middleware for WireLog {
    async fn handle(
        &self,
        request: reqwest::Request,
        extensions: &mut http::Extensions,
        next: reqwest_middleware::Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        self.sends.fetch_add(1, Ordering::Relaxed);
        let uri: Uri = request
            .url()
            .as_str()
            .parse()
            .map_err(reqwest_middleware::Error::middleware)?;
        show_request(request.method(), &uri, request.headers());
        let response = next.run(request, extensions).await?;
        show_response(response.status(), response.headers());
        Ok(response)
    }
}

async fn reqwest_client(base: &str) -> Result<(), BoxError> {
    let sends = Arc::new(AtomicUsize::new(0));
    let digest = httpdigest_reqwest::DigestAuthMiddleware::with_client(mutual_auth_client());
    let client =
        reqwest_middleware::ClientBuilder::new(reqwest::Client::builder().no_proxy().build()?)
            .with(digest)
            .with(WireLog {
                sends: Arc::clone(&sends),
            })
            .build();
    for (n, path) in ["/hello", "/hello/again"].into_iter().enumerate() {
        println!("request {}: GET {path}", n + 1);
        let before = sends.load(Ordering::Relaxed);
        let response = client.get(format!("{base}{path}")).send().await?;
        let status = response.status();
        let body = response.text().await?;
        let round_trips = sends.load(Ordering::Relaxed) - before;
        println!("  => {status}, body {body:?}; rspauth verified; {round_trips} round trip(s)\n");
        expect(
            status == StatusCode::OK && body == "alice",
            "200 with the user's name",
        )?;
        expect(round_trips == 2 - n, "2 round trips, then 1")?;
    }
    Ok(())
}

/// Alice's client, which requires the server to prove it knows her password (`rspauth`).
fn mutual_auth_client() -> DigestClient {
    DigestClient::new(
        Credentials::new("alice", "s3cret"),
        ClientConfig::default().with_require_mutual_auth(true),
    )
}

fn ureq_client(base: &str) -> Result<(), BoxError> {
    let sends = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&sends);
    let agent = httpdigest_ureq::DigestAgent::builder()
        .client(mutual_auth_client())
        .observer(move |event| match event {
            httpdigest_ureq::Event::Request {
                method,
                uri,
                authorization,
                ..
            } => {
                counted.fetch_add(1, Ordering::Relaxed);
                let mut headers = HeaderMap::new();
                if let Some(value) = authorization.and_then(|a| a.as_bytes().try_into().ok()) {
                    headers.insert(http::header::AUTHORIZATION, value);
                }
                show_request(method, uri, &headers);
            }
            httpdigest_ureq::Event::Response { status, headers } => show_response(*status, headers),
            _ => {}
        })
        .build()?;
    for (n, path) in ["/hello", "/hello/again"].into_iter().enumerate() {
        println!("request {}: GET {path}", n + 1);
        let before = sends.load(Ordering::Relaxed);
        let body = agent
            .get(format!("{base}{path}"))
            .call()?
            .body_mut()
            .read_to_string()?;
        let round_trips = sends.load(Ordering::Relaxed) - before;
        println!("  => 200 OK, body {body:?}; rspauth verified; {round_trips} round trip(s)\n");
        expect(body == "alice", "the user's name")?;
        expect(round_trips == 2 - n, "2 round trips, then 1")?;
    }
    Ok(())
}

/// The demo fails (exit status 1) when something did not go as it says.
fn expect(ok: bool, what: &str) -> Result<(), BoxError> {
    if ok {
        Ok(())
    } else {
        Err(format!("demo: expected {what}").into())
    }
}

fn show_request(method: &Method, uri: &Uri, headers: &HeaderMap) {
    let target = uri.path_and_query().map_or("/", |p| p.as_str());
    match headers.get(http::header::AUTHORIZATION) {
        None => {
            println!("  -> {method} {target}   (no credentials: no protection space known yet)")
        }
        Some(value) => {
            println!("  -> {method} {target}");
            println!(
                "     Authorization: {}",
                abbreviate(&String::from_utf8_lossy(value.as_bytes()))
            );
            if let Ok(credentials) = DigestCredentials::parse(value.as_bytes()) {
                println!(
                    "     (algorithm {}, qop {}, nc {})",
                    credentials
                        .algorithm()
                        .map_or("MD5 (implied)", |a| a.name()),
                    credentials.qop().map_or("none", |q| q.as_str()),
                    credentials
                        .nc()
                        .map_or_else(|| "-".into(), |nc| nc.to_string()),
                );
            }
        }
    }
}

fn show_response(status: StatusCode, headers: &HeaderMap) {
    println!("  <- {status}");
    let challenges = headers.get_all(http::header::WWW_AUTHENTICATE);
    let mut offered = Vec::new();
    for value in challenges {
        println!(
            "     WWW-Authenticate: {}",
            abbreviate(&String::from_utf8_lossy(value.as_bytes()))
        );
        if let Ok(challenge) = DigestChallenge::parse(value.as_bytes()) {
            offered.push(challenge.algorithm().map_or("MD5", |a| a.name()));
        }
    }
    if !offered.is_empty() {
        println!(
            "     (offered {}: the client answers the strongest)",
            offered.join(", ")
        );
    }
    if let Some(value) = headers.get("authentication-info") {
        println!(
            "     Authentication-Info: {}",
            abbreviate(&String::from_utf8_lossy(value.as_bytes()))
        );
        if let Ok(info) = AuthenticationInfo::parse(value.as_bytes()) {
            println!(
                "     (rspauth {}: proves the server knows the password; the client checks it)",
                if info.rspauth().is_some() {
                    "present"
                } else {
                    "absent"
                }
            );
        }
    }
}

/// Shortens long quoted values (nonces, digests) to keep lines readable.
fn abbreviate(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for (i, part) in value.split('"').enumerate() {
        if i > 0 {
            out.push('"');
        }
        if i % 2 == 1 && part.chars().count() > 20 {
            out.extend(part.chars().take(12));
            out.push('…');
        } else {
            out.push_str(part);
        }
    }
    out
}
