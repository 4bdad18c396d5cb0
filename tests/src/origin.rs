//! The project's own Digest servers (hyper behind `RequireDigestLayer`), for the runs that
//! need two origins: each records every request that reaches it, before the Digest layer,
//! with all its headers, so a test can prove that nothing derived from the credentials
//! reached it.
//!
//! Paths under `/open/` are not protected. A path given a redirect with
//! [`OriginServer::redirect`] answers 302 to its location (behind the Digest layer unless it
//! is under `/open/`); every other path answers 200 with the authenticated user's name.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{Request, Response, StatusCode, header};
use http_body_util::Full;
use httpdigest::server::{Authenticated, Users, Verifier, VerifierConfig};
use httpdigest_hyper::{DigestBody, RequireDigestLayer};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower::{ServiceBuilder, ServiceExt, service_fn};

/// The cross-origin scenarios, as rows of the interop table (`e2e/cross_origin.rs`).
pub const SCENARIOS: [&str; 4] = [
    "cross-origin: redirect 127.0.0.1 -> localhost",
    "cross-origin: domain= names the other origin",
    "cross-origin: same port, host localhost",
    "cross-origin: redirect back into scope",
];

/// The realm of every origin server.
pub const REALM: &str = "origins@test";

/// One request as it reached a server.
#[derive(Clone, Debug)]
pub struct Seen {
    /// The request-target.
    pub target: String,
    /// Every header, values as lossy UTF-8.
    pub headers: Vec<(String, String)>,
    /// The answer's status.
    pub status: u16,
}

impl Seen {
    /// The `Host` header.
    pub fn host(&self) -> &str {
        self.headers
            .iter()
            .find(|(name, _)| name == "host")
            .map_or("", |(_, value)| value)
    }

    /// What in this request came from the credentials: an `Authorization` or
    /// `Proxy-Authorization` header, or any of `secrets` in the target or a header value.
    pub fn leaks(&self, secrets: &[&str]) -> Vec<String> {
        let mut found = Vec::new();
        for (name, value) in &self.headers {
            if name == "authorization" || name == "proxy-authorization" {
                found.push(format!("{name}: {value}"));
            } else if secrets.iter().any(|s| value.contains(s)) {
                found.push(format!("{name}: {value} (holds a secret)"));
            }
        }
        if secrets.iter().any(|s| self.target.contains(s)) {
            found.push(format!("target {} (holds a secret)", self.target));
        }
        found
    }
}

type Redirects = Arc<Mutex<HashMap<String, String>>>;

/// A Digest server on 127.0.0.1, named in URLs by `host` (`127.0.0.1` or `localhost`).
pub struct OriginServer {
    host: &'static str,
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    redirects: Redirects,
    _runtime: tokio::runtime::Runtime,
}

impl OriginServer {
    /// Starts a server knowing `user`, with `config` (realm [`REALM`]).
    pub fn start(host: &'static str, user: (&str, &str), config: VerifierConfig) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let redirects = Redirects::default();

        let mut key = [0u8; 32];
        getrandom::fill(&mut key).unwrap();
        let mut users = Users::new(REALM);
        users.insert(user.0, user.1);
        let layer = RequireDigestLayer::new(Verifier::new(config, &key), users);
        let routes = Arc::clone(&redirects);
        let protected = ServiceBuilder::new()
            .map_request(|r: Request<Incoming>| r.map(DigestBody::streamed))
            .layer(layer)
            .service(service_fn(move |request: Request<DigestBody<Incoming>>| {
                let routes = Arc::clone(&routes);
                async move { Ok::<_, Infallible>(answer(&request, &routes)) }
            }));
        let log = Arc::clone(&seen);
        let open_routes = Arc::clone(&redirects);
        let service = service_fn(move |request: Request<Incoming>| {
            let protected = protected.clone();
            let log = Arc::clone(&log);
            let open_routes = Arc::clone(&open_routes);
            async move {
                let target = request.uri().to_string();
                let headers = request
                    .headers()
                    .iter()
                    .map(|(n, v)| {
                        let value = String::from_utf8_lossy(v.as_bytes()).into_owned();
                        (n.as_str().to_owned(), value)
                    })
                    .collect();
                let response = if request.uri().path().starts_with("/open/") {
                    answer(&request, &open_routes)
                } else {
                    protected.oneshot(request).await?
                };
                log.lock().unwrap().push(Seen {
                    target,
                    headers,
                    status: response.status().as_u16(),
                });
                Ok::<_, Infallible>(response)
            }
        });
        runtime.spawn(serve_http1(listener, service));
        OriginServer {
            host,
            addr,
            seen,
            redirects,
            _runtime: runtime,
        }
    }

    /// The server's origin: `http://HOST:PORT`.
    pub fn origin(&self) -> String {
        format!("http://{}:{}", self.host, self.addr.port())
    }

    /// The URL of `path` on this server.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.origin())
    }

    /// The URL of `path` on this server, named by another host name (another origin).
    pub fn url_as(&self, host: &str, path: &str) -> String {
        format!("http://{host}:{}{path}", self.addr.port())
    }

    /// `path` answers `302 Location: location` from now on.
    pub fn redirect(&self, path: &str, location: &str) {
        self.redirects
            .lock()
            .unwrap()
            .insert(path.to_owned(), location.to_owned());
    }

    /// Every request so far, in the order answered.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

/// Serves HTTP/1.1 on every connection `listener` accepts, each on a task of its own, until
/// accepting fails.
pub async fn serve_http1<S, B>(listener: TcpListener, service: S)
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
    while let Ok((stream, _)) = listener.accept().await {
        let service = TowerToHyperService::new(service.clone());
        tokio::spawn(async move {
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// 302 to the path's redirect, or 200 with the user's name.
fn answer<B>(request: &Request<B>, redirects: &Redirects) -> Response<Full<Bytes>> {
    if let Some(location) = redirects.lock().unwrap().get(request.uri().path()) {
        let mut response = Response::new(Full::new(Bytes::new()));
        *response.status_mut() = StatusCode::FOUND;
        response
            .headers_mut()
            .insert(header::LOCATION, location.parse().unwrap());
        return response;
    }
    let name = request
        .extensions()
        .get::<Authenticated>()
        .map_or_else(String::new, |user| user.username.clone());
    Response::new(Full::new(Bytes::from(name)))
}
