//! `https` through a forward proxy that asks for Digest: [`ProxyConnector`], a connector for
//! hyper-util's client that opens a `CONNECT` tunnel, answers the proxy's `407` through the
//! core, and hands the tunnel on to TLS.
//!
//! The `407` to a `CONNECT` is the connector's to answer: the request layer above the
//! client never sees it (the tunnel is opened before the request is sent), which is why no
//! request layer can authenticate an `https` request to a proxy.

use std::fmt;
use std::future::{Future, poll_fn};
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use httpdigest::client::{
    AuthHeaders, BodySource, BuildError, Client, ClientConfig, Credentials, Failure, NoProxy,
    ProxyEnv, ProxyEnvError, ProxySetting,
};
use httpdigest::http::{BadUri, DRAIN_LIMIT, DigestClient, Next};
use httpdigest::{Origin, OriginRef};
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_util::client::legacy::connect::{Connected, Connection};
use tower_service::Service;

use crate::error::BoxError;
use crate::timeout::within;

/// The default bound on the proxy's response head to a `CONNECT` (status line and
/// header fields): 16 KiB.
pub const DEFAULT_MAX_RESPONSE_HEAD: usize = 16 * 1024;

/// The default time the proxy has to answer a `CONNECT` (from the request written to the
/// response head read, and the body of a `407` drained): 30 s.
pub const DEFAULT_RESPONSE_TIMEOUT: Duration = Duration::from_secs(30);

/// Header fields read from a response head at most (more is [`ConnectError::Malformed`]).
const MAX_HEADERS: usize = 64;

/// A connector for hyper-util's legacy `Client` that reaches `https` origins through a
/// forward proxy that asks for Digest (or, by policy, Basic) authentication, as curl and
/// Apache HttpClient 5 do.
///
/// For an `https` URI it connects to the proxy with the connector it wraps (hyper-util's
/// `HttpConnector`, say), sends `CONNECT host:port HTTP/1.1`, answers a `407` through the
/// sans-IO core (the challenge chosen by the core's policy: Digest, never Basic unless
/// [`ClientConfig::with_basic`](httpdigest::client::ClientConfig::with_basic) allows it,
/// and then only [`BasicPolicy::Always`](httpdigest::client::BasicPolicy::Always), as the
/// proxy is reached over plain `http`), and returns the tunnel: a connection that a TLS
/// connector such as hyper-rustls' `HttpsConnector` wraps. What the core learns of the
/// proxy is kept, shared by every clone: the next tunnel goes with `Proxy-Authorization`
/// at once, with the next nonce count, and costs no `407`.
///
/// For a plain `http` URI it returns a connection to the proxy marked
/// [`Connected::proxy`], so that hyper-util's client sends the request in absolute form
/// (`GET http://host/path`); a `407` to such a request reaches the layer above the client,
/// which answers it when it is built with the same proxy
/// ([`DigestAuthLayer::with_client`](crate::DigestAuthLayer::with_client)). Hosts of the
/// `no_proxy` list, and URIs for which [`bypass`](Self::bypass) says so, go straight to
/// the origin through the wrapped connector. [`from_env`](Self::from_env) takes the
/// proxies and `no_proxy` from the environment (`https_proxy`, `http_proxy`, `no_proxy`).
/// A URI's userinfo plays no part here: the layer above takes it off, as the origin's
/// credentials.
///
/// Bounded: the proxy's response head may be at most
/// [`max_response_head`](Self::max_response_head) bytes, must arrive within
/// [`response_timeout`](Self::response_timeout), and the body of a `407` is read (to keep
/// the connection for the answer) only up to [`max_drained_body`](Self::max_drained_body)
/// bytes; past that, or when the proxy closes the connection, the answer goes on a new
/// connection. A proxy that refuses is a typed [`ConnectError`], which never holds the
/// password nor the proxy's userinfo. How long connecting to the proxy may take is the
/// wrapped connector's setting (`HttpConnector::set_connect_timeout`).
///
/// Each connection it returns carries a [`TunnelInfo`] in hyper-util's connection extras:
/// every response over it has the info in its extensions (how many `407`s opening the
/// tunnel cost).
///
/// ```no_run
/// use bytes::Bytes;
/// use http_body_util::Empty;
/// use httpdigest_hyper::ProxyConnector;
/// use hyper_util::client::legacy::{Client, connect::HttpConnector};
/// use hyper_util::rt::TokioExecutor;
///
/// # async fn run(tls: rustls::ClientConfig) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
/// let mut http = HttpConnector::new();
/// http.enforce_http(false);
/// http.set_connect_timeout(Some(std::time::Duration::from_secs(10)));
/// let proxied = ProxyConnector::with_password(http, "http://proxy.local:3128", "alice", "s3cret")?;
/// let https = hyper_rustls::HttpsConnectorBuilder::new()
///     .with_tls_config(tls)
///     .https_or_http()
///     .enable_http1()
///     .wrap_connector(proxied);
/// let client = Client::builder(TokioExecutor::new()).build::<_, Empty<Bytes>>(https);
/// let response = client.get("https://api.example.org/v1".parse()?).await?; // 407, then 200
/// assert_eq!(response.status(), 200);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct ProxyConnector<C> {
    inner: C,
    engine: DigestClient,
    /// `http://host:port/` of the proxy `https` goes through with `CONNECT` (no userinfo);
    /// `None`: straight to the origin.
    proxy: Option<Uri>,
    /// The proxy plain `http` goes to in absolute form; `None`: straight to the origin.
    http_proxy: Option<Uri>,
    /// The hosts that go straight to their origin (`no_proxy`).
    no_proxy: NoProxy,
    max_head: usize,
    timeout: Duration,
    drain_limit: usize,
    bypass: Option<Bypass>,
}

/// Which URIs go straight to their origin.
type Bypass = std::sync::Arc<dyn Fn(&Uri) -> bool + Send + Sync>;

impl<C> fmt::Debug for ProxyConnector<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProxyConnector")
            .field("proxy", &self.proxy)
            .field("http_proxy", &self.http_proxy)
            .field("max_response_head", &self.max_head)
            .field("response_timeout", &self.timeout)
            .field("max_drained_body", &self.drain_limit)
            .finish_non_exhaustive()
    }
}

impl<C> ProxyConnector<C> {
    /// A connector through the proxy `proxy` (`http://host[:port]`) that authenticates to
    /// it as `username` with `password`, by the core's default policy (Digest only).
    ///
    /// # Errors
    ///
    /// [`BuildError::InvalidProxy`] when `proxy` is not `http://host[:port]`.
    pub fn with_password(
        inner: C,
        proxy: &str,
        username: impl Into<String>,
        password: impl Into<String>,
    ) -> Result<Self, BuildError> {
        let client = Client::builder()
            .proxy(proxy)
            .proxy_credentials(Credentials::new(username, password))
            .build()?;
        Self::new(inner, client)
    }

    /// A connector over a core client built with a proxy and its credentials
    /// ([`Client::builder`]`.proxy(..).proxy_credentials(..)`, or the credentials in the
    /// proxy URL), with its policy (Basic, algorithms, nonce reuse) and its `no_proxy` list
    /// (those hosts go straight to their origin). `https` and plain `http` both go through
    /// that proxy; nothing is read from the environment. Its origin credentials, if any, are never used: the tunnel
    /// carries none, and what goes inside it is the TLS connection's.
    ///
    /// # Errors
    ///
    /// [`BuildError::InvalidProxy`] when the client has no proxy.
    pub fn new(inner: C, client: Client) -> Result<Self, BuildError> {
        let proxy = client
            .proxy()
            .and_then(proxy_uri)
            .ok_or(BuildError::InvalidProxy)?;
        let no_proxy = client.no_proxy().clone();
        Ok(Self::from_parts(
            inner,
            client,
            Some(proxy.clone()),
            Some(proxy),
            no_proxy,
        ))
    }

    /// A connector for the proxies of the environment ([`ProxyEnv::from_env`]): `https`
    /// through `https_proxy` (with `CONNECT`; the credentials in its URL answer its `407`
    /// with Digest, never Basic unless the policy allows it), plain `http` to `http_proxy`
    /// in absolute form (the layer above answers its `407`: build it with
    /// [`Builder::proxy_env`](httpdigest::client::Builder::proxy_env) of the same
    /// environment), and the hosts of `no_proxy` straight to their origin, as is every
    /// request of a scheme whose variable is unset.
    ///
    /// To opt out of the environment, build the connector with [`new`](Self::new) or
    /// [`with_password`](Self::with_password) (an explicit proxy; nothing read from the
    /// environment), or give [`with_env`](Self::with_env) a [`ProxyEnv`] of your own.
    ///
    /// ```
    /// use httpdigest_hyper::ProxyConnector;
    /// use hyper_util::client::legacy::connect::HttpConnector;
    ///
    /// let mut http = HttpConnector::new();
    /// http.enforce_http(false);
    /// let connector = ProxyConnector::from_env(http)?;
    /// # Ok::<(), httpdigest_hyper::EnvError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`EnvError::Env`](crate::EnvError::Env) when a variable is set but unusable (it names the variable, never
    /// its value).
    pub fn from_env(inner: C) -> Result<Self, EnvError> {
        let env = ProxyEnv::from_env()?;
        Self::with_env(inner, &env, ClientConfig::default())
    }

    /// [`from_env`](Self::from_env) with proxies read elsewhere
    /// ([`ProxyEnv::from_vars`], [`ProxyEnv::new`]; [`ProxyEnv::none`]: every request
    /// straight to its origin) and the core's policy for the proxy's challenges.
    ///
    /// ```
    /// use httpdigest::client::{ClientConfig, ProxyEnv};
    /// use httpdigest_hyper::ProxyConnector;
    /// use hyper_util::client::legacy::connect::HttpConnector;
    ///
    /// let vars = |name: &str| match name {
    ///     "https_proxy" => Some("http://alice:s3cret@proxy.local:3128".to_owned()),
    ///     "no_proxy" => Some("localhost,.internal".to_owned()),
    ///     _ => None,
    /// };
    /// let env = ProxyEnv::from_vars(vars)?;
    /// let connector = ProxyConnector::with_env(HttpConnector::new(), &env, ClientConfig::default())?;
    /// assert!(!format!("{connector:?}").contains("s3cret"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`EnvError::Build`](crate::EnvError::Build) when the `https` proxy's setting cannot make a core client (not
    /// expected: [`ProxyEnv`] checked it).
    pub fn with_env(inner: C, env: &ProxyEnv, config: ClientConfig) -> Result<Self, EnvError> {
        // The tunnel carries no origin credentials: a provider that has none.
        let mut builder = Client::builder()
            .config(config)
            .credentials_provider(|_: OriginRef<'_>| None)
            .no_proxy(env.no_proxy().clone());
        let https = env.https();
        if let Some(setting) = https {
            builder = builder.proxy(setting.origin().to_string());
            if let Some(credentials) = setting.credentials() {
                builder = builder.proxy_credentials(credentials.clone());
            }
        }
        let client = builder.build()?;
        let uri_of = |setting: Option<&ProxySetting>| setting.and_then(|s| proxy_uri(s.origin()));
        let (proxy, http_proxy) = (uri_of(https), uri_of(env.http()));
        if https.is_some() && proxy.is_none() || env.http().is_some() && http_proxy.is_none() {
            return Err(EnvError::Build(BuildError::InvalidProxy));
        }
        Ok(Self::from_parts(
            inner,
            client,
            proxy,
            http_proxy,
            env.no_proxy().clone(),
        ))
    }

    fn from_parts(
        inner: C,
        client: Client,
        proxy: Option<Uri>,
        http_proxy: Option<Uri>,
        no_proxy: NoProxy,
    ) -> Self {
        Self {
            inner,
            engine: DigestClient::new(client),
            proxy,
            http_proxy,
            no_proxy,
            max_head: DEFAULT_MAX_RESPONSE_HEAD,
            timeout: DEFAULT_RESPONSE_TIMEOUT,
            drain_limit: DRAIN_LIMIT,
            bypass: None,
        }
    }

    /// The proxy's response head to a `CONNECT` may be at most this many bytes (default
    /// [`DEFAULT_MAX_RESPONSE_HEAD`]); a longer one is [`ConnectError::HeadTooLarge`].
    #[must_use]
    pub const fn max_response_head(mut self, bytes: usize) -> Self {
        self.max_head = bytes;
        self
    }

    /// The proxy must answer each `CONNECT` within this time (default
    /// [`DEFAULT_RESPONSE_TIMEOUT`]): from the request written to the response head read,
    /// and a `407`'s body drained. Past it: [`ConnectError::Timeout`].
    #[must_use]
    pub const fn response_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The body of a `407` is read and dropped up to this many bytes (default
    /// [`DRAIN_LIMIT`]), so that the answer goes on the same connection; a longer one, or
    /// one without a length, makes the connector open a new connection for the answer.
    #[must_use]
    pub const fn max_drained_body(mut self, bytes: usize) -> Self {
        self.drain_limit = bytes;
        self
    }

    /// URIs for which `bypass` is true go straight to their origin through the wrapped
    /// connector, not through the proxy (a `no_proxy` list, say).
    #[must_use]
    pub fn bypass(mut self, bypass: impl Fn(&Uri) -> bool + Send + Sync + 'static) -> Self {
        self.bypass = Some(std::sync::Arc::new(bypass));
        self
    }

    /// The engine that holds what the connector learned of the proxy.
    pub const fn engine(&self) -> &DigestClient {
        &self.engine
    }

    /// The wrapped connector.
    pub const fn get_ref(&self) -> &C {
        &self.inner
    }
}

/// What opening a connection through the proxy took, in hyper-util's connection extras:
/// every response over the connection carries it in its extensions.
///
/// ```
/// use httpdigest_hyper::TunnelInfo;
///
/// let response = http::Response::new(());
/// // Over a ProxyConnector's connection, `Some(&TunnelInfo { .. })`.
/// assert!(response.extensions().get::<TunnelInfo>().is_none());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct TunnelInfo {
    /// Whether the connection is a `CONNECT` tunnel (`false`: a connection to the proxy for
    /// plain `http`, or straight to the origin).
    pub tunnel: bool,
    /// The proxy's `407`s that opening the tunnel answered (0 when the connector knew the
    /// proxy's challenge and sent `Proxy-Authorization` at once).
    pub proxy_challenges: u8,
    /// Connections opened to the proxy for the tunnel (more than 1 when the proxy closed one
    /// after its `407`).
    pub connections: u8,
}

/// Why the connector could not open a connection through the proxy. Never holds a password,
/// a credentials header or a URI's userinfo.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The URI has no host, or its authority cannot be a `CONNECT` target.
    #[error(transparent)]
    BadUri(#[from] BadUri),
    /// The wrapped connector could not connect (to the proxy, or to a bypassed origin).
    #[error("could not connect: {0}")]
    Connect(BoxError),
    /// Reading from or writing to the proxy failed.
    #[error("proxy connection failed: {0}")]
    Io(#[from] io::Error),
    /// The proxy closed the connection before its response head was complete.
    #[error("the proxy closed the connection before answering CONNECT")]
    Closed,
    /// The proxy's response head did not arrive (or a `407`'s body was not drained) within
    /// the [`response_timeout`](ProxyConnector::response_timeout).
    #[error("the proxy did not answer CONNECT within {0:?}")]
    Timeout(Duration),
    /// The proxy's response head is longer than
    /// [`max_response_head`](ProxyConnector::max_response_head).
    #[error("the proxy's response head to CONNECT is longer than {limit} bytes")]
    HeadTooLarge {
        /// The limit.
        limit: usize,
    },
    /// The proxy's response head is not HTTP/1.x.
    #[error("malformed response to CONNECT: {0}")]
    Malformed(String),
    /// The proxy refused the tunnel with this status (a `403`, a `502`, ...).
    #[error("the proxy refused CONNECT: {status}")]
    Refused {
        /// The proxy's status.
        status: StatusCode,
    },
    /// Digest (or Basic) authentication to the proxy failed: the credentials were
    /// rejected, no challenge could be answered, the proxy kept asking past the core's
    /// bound, ... The status is the proxy's last.
    #[error("proxy authentication failed ({status}): {failure}")]
    Auth {
        /// Why, as the core says.
        failure: Failure,
        /// The proxy's status.
        status: StatusCode,
    },
    /// A header value from the core could not go on the wire (not expected: the core
    /// refuses control characters).
    #[error("invalid header value")]
    InvalidHeader,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<C> Service<Uri> for ProxyConnector<C>
where
    C: Service<Uri> + Clone + Send + 'static,
    C::Response: Read + Write + Connection + Unpin + Send + 'static,
    C::Future: Send,
    C::Error: Into<BoxError>,
{
    type Response = ProxyStream<C::Response>;
    type Error = ConnectError;
    type Future = BoxFuture<Result<ProxyStream<C::Response>, ConnectError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), ConnectError>> {
        self.inner
            .poll_ready(cx)
            .map_err(|e| ConnectError::Connect(e.into()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        let this = Self {
            inner,
            engine: self.engine.clone(),
            proxy: self.proxy.clone(),
            http_proxy: self.http_proxy.clone(),
            no_proxy: self.no_proxy.clone(),
            max_head: self.max_head,
            timeout: self.timeout,
            drain_limit: self.drain_limit,
            bypass: self.bypass.clone(),
        };
        Box::pin(this.open(uri))
    }
}

/// `http://host:port/` of a proxy.
fn proxy_uri(origin: &Origin) -> Option<Uri> {
    format!("{origin}/").parse().ok()
}

/// Why [`ProxyConnector::from_env`] or [`ProxyConnector::with_env`] could not make a
/// connector. Never holds a variable's value (it may hold a password).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EnvError {
    /// A proxy variable is set but unusable: which one, and why.
    #[error(transparent)]
    Env(#[from] ProxyEnvError),
    /// The core client for the proxy could not be built.
    #[error(transparent)]
    Build(#[from] BuildError),
}

/// The `https://host:port` URI of a `CONNECT` to `uri`'s origin (explicit port, no
/// userinfo, no path), for the core's route.
fn connect_uri(uri: &Uri) -> Result<Uri, BadUri> {
    let bad = || {
        BadUri(format!(
            "{}://…{}",
            uri.scheme_str().unwrap_or(""),
            uri.path()
        ))
    };
    let host = uri.host().ok_or_else(bad)?;
    let port = uri.port_u16().unwrap_or(443);
    format!("https://{host}:{port}").parse().map_err(|_| bad())
}

impl<C> ProxyConnector<C>
where
    C: Service<Uri> + Clone + Send + 'static,
    C::Response: Read + Write + Connection + Unpin + Send + 'static,
    C::Future: Send,
    C::Error: Into<BoxError>,
{
    async fn connect(&mut self, uri: Uri) -> Result<C::Response, ConnectError> {
        poll_fn(|cx| self.inner.poll_ready(cx))
            .await
            .map_err(|e| ConnectError::Connect(e.into()))?;
        self.inner
            .call(uri)
            .await
            .map_err(|e| ConnectError::Connect(e.into()))
    }

    async fn open(mut self, uri: Uri) -> Result<ProxyStream<C::Response>, ConnectError> {
        let info = TunnelInfo {
            tunnel: false,
            proxy_challenges: 0,
            connections: 1,
        };
        if uri.host().is_none() {
            return Err(BadUri(format!("{} (no host)", uri.path())).into());
        }
        let https = uri
            .scheme_str()
            .is_some_and(|s| s.eq_ignore_ascii_case("https"));
        let through = if https { &self.proxy } else { &self.http_proxy };
        let proxy = match through {
            Some(proxy) if !self.direct(&uri, https) => proxy.clone(),
            _ => {
                let io = self.connect(uri).await?;
                return Ok(ProxyStream::new(io, Bytes::new(), false, info));
            }
        };
        if !https {
            let io = self.connect(proxy).await?;
            return Ok(ProxyStream::new(io, Bytes::new(), true, info));
        }
        self.tunnel(uri, proxy).await
    }

    /// Whether `uri` goes straight to its origin: [`bypass`](Self::bypass) says so, or the
    /// `no_proxy` list (the environment's, or the core client's for a tunnel) names its host.
    fn direct(&self, uri: &Uri, https: bool) -> bool {
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        self.bypass.as_ref().is_some_and(|bypass| bypass(uri))
            || uri
                .host()
                .is_some_and(|host| self.no_proxy.matches(host, port))
            || (https && connect_uri(uri).is_ok_and(|t| self.engine.bypasses_proxy(&t)))
    }

    /// `CONNECT` through the proxy to the origin of `uri`, as many times as the core says.
    async fn tunnel(
        mut self,
        uri: Uri,
        proxy: Uri,
    ) -> Result<ProxyStream<C::Response>, ConnectError> {
        let target = connect_uri(&uri)?;
        let engine = self.engine.clone();
        let body = BodySource::Bytes(&[]);
        let (mut call, mut auth) = engine.start(&Method::CONNECT, &target, body).await?;
        let authority = target
            .authority()
            .map(|a| a.as_str().to_owned())
            .unwrap_or_default();
        let mut info = TunnelInfo {
            tunnel: true,
            proxy_challenges: 0,
            connections: 0,
        };
        let mut io: Option<C::Response> = None;
        loop {
            let request = connect_request(&authority, &auth)?;
            let reused = io.is_some();
            let mut stream = match io.take() {
                Some(stream) => stream,
                None => {
                    info.connections = info.connections.saturating_add(1);
                    self.connect(proxy.clone()).await?
                }
            };
            let exchange = async {
                write_all(&mut stream, &request).await?;
                read_head(&mut stream, self.max_head).await
            };
            let head = match within(self.timeout, exchange).await {
                // A kept connection the proxy closed after all: the same answer goes on a
                // new one (the proxy never saw it).
                Some(Err(ConnectError::Closed | ConnectError::Io(_))) if reused => continue,
                Some(head) => head?,
                None => return Err(ConnectError::Timeout(self.timeout)),
            };
            let status = head.response.status();
            let mut next = engine.respond_to(&mut call, body, head.response);
            // Another CONNECT is learning the proxy's challenge: this one goes on after it.
            while let Next::Wait(response) = next {
                next = engine.wait(&mut call, body).await.with(response);
            }
            match next {
                Next::Send(next, response) => {
                    info.proxy_challenges = info.proxy_challenges.saturating_add(1);
                    #[cfg(feature = "tracing")]
                    tracing::debug!(target = %authority, %status, "answering the proxy's challenge to CONNECT");
                    auth = next;
                    let keep = keeps_connection(&response, head.version);
                    if !keep {
                        continue;
                    }
                    let drained = match within(
                        self.timeout,
                        drain(&mut stream, response.headers(), head.rest, self.drain_limit),
                    )
                    .await
                    {
                        Some(drained) => drained?,
                        None => return Err(ConnectError::Timeout(self.timeout)),
                    };
                    if drained {
                        io = Some(stream);
                    }
                }
                Next::Done(response) if response.status().is_success() => {
                    drop(call);
                    return Ok(ProxyStream::new(stream, head.rest, false, info));
                }
                Next::CheckBody(check, response) if response.status().is_success() => {
                    // A tunnel's 2xx has no body: the check is over the empty one.
                    check
                        .check(&[])
                        .map_err(|failure| ConnectError::Auth { failure, status })?;
                    return Ok(ProxyStream::new(stream, head.rest, false, info));
                }
                Next::Done(_) | Next::CheckBody(..) | Next::Wait(_) => {
                    #[cfg(feature = "tracing")]
                    tracing::debug!(target = %authority, %status, "the proxy refused CONNECT");
                    return Err(ConnectError::Refused { status });
                }
                Next::Fail(failure, _) => {
                    #[cfg(feature = "tracing")]
                    tracing::debug!(target = %authority, %status, %failure, "proxy authentication failed");
                    return Err(ConnectError::Auth { failure, status });
                }
            }
        }
    }
}

/// The `CONNECT` request for `authority`, with the core's `Proxy-Authorization` (and the
/// cookies its challenge set), never an origin's `Authorization`.
fn connect_request(authority: &str, auth: &AuthHeaders) -> Result<Vec<u8>, ConnectError> {
    let mut request = Vec::with_capacity(256);
    request.extend_from_slice(b"CONNECT ");
    request.extend_from_slice(authority.as_bytes());
    request.extend_from_slice(b" HTTP/1.1\r\nHost: ");
    request.extend_from_slice(authority.as_bytes());
    request.extend_from_slice(b"\r\n");
    let mut field = |name: &[u8], value: &[u8]| -> Result<(), ConnectError> {
        if value.iter().any(|&b| b == b'\r' || b == b'\n' || b == 0) {
            return Err(ConnectError::InvalidHeader);
        }
        request.extend_from_slice(name);
        request.extend_from_slice(b": ");
        request.extend_from_slice(value);
        request.extend_from_slice(b"\r\n");
        Ok(())
    };
    if let Some(value) = &auth.proxy_authorization {
        field(b"Proxy-Authorization", value.as_bytes())?;
    }
    if let Some(cookie) = auth.cookies.join(std::iter::empty()) {
        field(b"Cookie", cookie.as_bytes())?;
    }
    request.extend_from_slice(b"\r\n");
    Ok(request)
}

/// Whether the proxy keeps the connection after this response (HTTP/1.1 without
/// `Connection: close`, or HTTP/1.0 with `keep-alive`).
fn keeps_connection(response: &http::Response<()>, version: u8) -> bool {
    let tokens = |name: HeaderName| {
        response
            .headers()
            .get_all(name)
            .iter()
            .flat_map(|v| v.as_bytes().split(|&b| b == b','))
            .map(|t| t.trim_ascii().to_ascii_lowercase())
            .collect::<Vec<_>>()
    };
    let connection = tokens(http::header::CONNECTION);
    let mut tokens = connection
        .into_iter()
        .chain(tokens(HeaderName::from_static("proxy-connection")));
    if version >= 1 {
        !tokens.any(|t| t == b"close")
    } else {
        tokens.any(|t| t == b"keep-alive")
    }
}

/// A response head read from the proxy: the response (status and headers), the minor
/// HTTP version, and the bytes read past the head.
struct Head {
    response: http::Response<()>,
    version: u8,
    rest: Bytes,
}

/// Reads a response head of at most `limit` bytes.
async fn read_head<T: Read + Unpin>(io: &mut T, limit: usize) -> Result<Head, ConnectError> {
    let mut buf = BytesMut::with_capacity(1024);
    loop {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut parsed = httparse::Response::new(&mut headers);
        match parsed.parse(&buf) {
            Ok(httparse::Status::Complete(len)) => {
                let mut response = http::Response::new(());
                *response.status_mut() = parsed
                    .code
                    .and_then(|c| StatusCode::from_u16(c).ok())
                    .ok_or_else(|| ConnectError::Malformed("status code".to_owned()))?;
                let version = parsed.version.unwrap_or(1);
                let mut map = HeaderMap::new();
                for header in parsed.headers.iter() {
                    let name = HeaderName::from_bytes(header.name.as_bytes())
                        .map_err(|_| ConnectError::Malformed("header name".to_owned()))?;
                    let value = HeaderValue::from_bytes(header.value)
                        .map_err(|_| ConnectError::Malformed("header value".to_owned()))?;
                    map.append(name, value);
                }
                *response.headers_mut() = map;
                let rest = buf.split_off(len).freeze();
                return Ok(Head {
                    response,
                    version,
                    rest,
                });
            }
            Ok(httparse::Status::Partial) => {}
            Err(e) => return Err(ConnectError::Malformed(e.to_string())),
        }
        if buf.len() >= limit {
            return Err(ConnectError::HeadTooLarge { limit });
        }
        let want = limit.saturating_sub(buf.len()).min(4096);
        let read = read_some(io, &mut buf, want).await?;
        if read == 0 {
            return Err(ConnectError::Closed);
        }
    }
}

/// Reads once, at most `max` bytes, onto `buf`: how many were read (0 at the end).
async fn read_some<T: Read + Unpin>(
    io: &mut T,
    buf: &mut BytesMut,
    max: usize,
) -> io::Result<usize> {
    let mut chunk = vec![0u8; max.max(1)];
    let mut read_buf = hyper::rt::ReadBuf::new(&mut chunk);
    poll_fn(|cx| Pin::new(&mut *io).poll_read(cx, read_buf.unfilled())).await?;
    let filled = read_buf.filled();
    buf.extend_from_slice(filled);
    Ok(filled.len())
}

async fn write_all<T: Write + Unpin>(io: &mut T, data: &[u8]) -> io::Result<()> {
    let mut rest = data;
    while !rest.is_empty() {
        let n = poll_fn(|cx| Pin::new(&mut *io).poll_write(cx, rest)).await?;
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        rest = rest.get(n..).unwrap_or_default();
    }
    poll_fn(|cx| Pin::new(&mut *io).poll_flush(cx)).await
}

/// Reads and drops a `407`'s body framed by `Content-Length`, up to `limit` bytes
/// (`already` read with the head): whether the connection is ready for the next request.
/// A body without a length (chunked, or to the end) is not read: the connection is not
/// reused.
async fn drain<T: Read + Unpin>(
    io: &mut T,
    headers: &HeaderMap,
    already: Bytes,
    limit: usize,
) -> Result<bool, ConnectError> {
    if headers.contains_key(http::header::TRANSFER_ENCODING) {
        return Ok(false);
    }
    let length = match headers.get(http::header::CONTENT_LENGTH) {
        None => return Ok(false),
        Some(value) => match value
            .to_str()
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
        {
            Some(length) => length,
            None => return Ok(false),
        },
    };
    if length > limit as u64 {
        return Ok(false);
    }
    let mut left = length.saturating_sub(already.len() as u64);
    if (already.len() as u64) > length {
        // More than the body: the proxy sent something else; do not reuse.
        return Ok(false);
    }
    let mut buf = BytesMut::new();
    while left > 0 {
        buf.clear();
        let want = usize::try_from(left).unwrap_or(usize::MAX).min(4096);
        let read = read_some(io, &mut buf, want).await?;
        if read == 0 {
            return Ok(false);
        }
        left = left.saturating_sub(read as u64);
    }
    Ok(true)
}

/// A connection the [`ProxyConnector`] opened: a `CONNECT` tunnel through the proxy (hand it
/// to TLS), a connection to the proxy for plain `http`, or one straight to a bypassed
/// origin. Reads first what the proxy sent past its response head, if anything.
pub struct ProxyStream<T> {
    io: T,
    prefix: Bytes,
    proxied: bool,
    info: TunnelInfo,
}

impl<T> ProxyStream<T> {
    const fn new(io: T, prefix: Bytes, proxied: bool, info: TunnelInfo) -> Self {
        Self {
            io,
            prefix,
            proxied,
            info,
        }
    }

    /// What opening the connection took.
    pub const fn info(&self) -> TunnelInfo {
        self.info
    }

    /// The connection under it.
    pub const fn get_ref(&self) -> &T {
        &self.io
    }
}

impl<T> fmt::Debug for ProxyStream<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProxyStream")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

impl<T: Read + Unpin> Read for ProxyStream<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.prefix.is_empty() {
            let n = this.prefix.len().min(buf.remaining());
            if let Some(chunk) = this.prefix.get(..n) {
                buf.put_slice(chunk);
            }
            this.prefix.advance(n);
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.io).poll_read(cx, buf)
    }
}

impl<T: Write + Unpin> Write for ProxyStream<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }
}

impl<T: Connection> Connection for ProxyStream<T> {
    fn connected(&self) -> Connected {
        self.io.connected().proxy(self.proxied).extra(self.info)
    }
}
