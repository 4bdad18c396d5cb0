//! HTTP Digest authentication (RFC 7616, RFC 2617) for [ureq](https://docs.rs/ureq) 3, the
//! blocking HTTP client.
//!
//! [`DigestAgent`] wraps a [`ureq::Agent`] and drives the sans-IO [`httpdigest`] client: it
//! sends the request, hands each response's status and authentication headers to the core,
//! and sends again when the core says so. Every protocol decision (which challenge, which
//! algorithm, whether a header may go to this origin, when to give up) is the core's; this
//! crate moves headers and bodies.
//!
//! ```no_run
//! use httpdigest_ureq::DigestAgent;
//!
//! let agent = DigestAgent::new("alice", "s3cret");
//! // 401, then the answer: two round trips for the first request.
//! let mut response = agent.get("http://camera.local/cgi-bin/snapshot.cgi").call()?;
//! let image = response.body_mut().read_to_vec()?;
//! // The protection space is known now: one round trip, credentials sent at once.
//! let status = agent.get("http://camera.local/cgi-bin/status.cgi").call()?.status();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! What it does:
//!
//! - **Preemptive reuse.** After the first challenge, requests to the same protection space go
//!   out with credentials and a fresh nonce count: one round trip. The core state sits
//!   behind one lock, taken only to decide (a nonce count, a cnonce), never during I/O or
//!   hashing; clones of the agent and threads share it.
//! - **401 and 407.** Origin challenges, and challenges of the forward proxy of the core
//!   client given to [`DigestAgentBuilder::client`] (`Client::builder().proxy(..)`): plain
//!   `http://` requests go to the proxy in absolute form (`GET http://host/path`) so its 407
//!   can be answered. (ureq itself reaches proxies with
//!   `CONNECT`, whose 407 it handles alone: `https://` requests through a proxy that demands
//!   Digest cannot be answered. ureq 3's connector chain would allow it: a
//!   `ureq::unversioned::transport::Connector` placed before ureq's `ConnectProxyConnector`
//!   (which passes on a connection it is given) can connect to the proxy, send `CONNECT`,
//!   answer the 407 through the core's engine (`DigestClient::start_blocking`, `respond`,
//!   `wait_blocking`) and hand the tunnel to ureq's TLS connector, as
//!   `httpdigest_hyper::ProxyConnector` does for hyper. Not done here: that API is
//!   ureq's `unversioned` one, outside its semver promise.)
//! - **Bodies.** Bodies are kept in memory so they can be sent again and hashed for
//!   `auth-int`; a reader longer than [`max_buffered_body`](DigestAgentBuilder::max_buffered_body)
//!   is streamed once, and a challenge to it is
//!   [`Failure::BodyNotReplayable`](httpdigest::client::Failure::BodyNotReplayable).
//! - **Redirects** are followed here, not by ureq (up to the agent's `max_redirects`), each
//!   hop a new request to the core: nothing derived from the credentials goes to an origin
//!   outside the scope (by default the first request's origin), and a challenge from such an
//!   origin is not answered.
//! - **Mutual authentication over the body.** For `qop=auth-int` the server's `rspauth`
//!   covers the response body (RFC 7616 §3.5). When the final response carries one, the
//!   agent reads the body before returning (up to
//!   [`max_checked_response_body`](DigestAgentBuilder::max_checked_response_body)) and
//!   checks it: a body that does not match is [`Error::Auth`] with
//!   [`Failure::MutualAuthFailed`](httpdigest::client::Failure::MutualAuthFailed) (the
//!   unproven response and its body inside), one that matches comes back in memory. A longer
//!   body is not checked: with mutual authentication required it is
//!   [`Failure::MutualAuthMissing`](httpdigest::client::Failure::MutualAuthMissing), without,
//!   the response comes back unchecked, its body streamed. The body is hashed as ureq hands
//!   it over, after ureq's decoding (features `gzip`, `brotli`, `charset`): a server that
//!   signs the bytes it sent does not match a body ureq decoded.
//! - **Errors the ureq way.** A final 4xx or 5xx is `Err(ureq::Error::StatusCode)` when the
//!   agent's `http_status_as_error` is on (ureq's default), the response otherwise. A Digest
//!   failure is [`Error::Auth`], with the reason and the response.
//! - **Names outside ASCII.** ureq sends nothing but ASCII in `Authorization`; the agent
//!   tells the core, which then sends such a name to origins as `username*` (servers that
//!   announce `charset=UTF-8`) or `userhash` where offered, and [`Error::NonAsciiAuthorization`]
//!   elsewhere. `Proxy-Authorization` carries every form.
//! - **Cookies.** The cookies a 401 or 407 sets go back with the answer to it, joined to the
//!   request's own `Cookie` header, and nowhere further. With ureq's `cookies` feature its jar
//!   adds a `Cookie` field of its own, which already carries them: turn the core's
//!   [`ClientConfig::challenge_cookies`](httpdigest::client::ClientConfig::challenge_cookies)
//!   off then.
//! - **Host names stay with the proxy.** Through the forward proxy the origin's host name
//!   is never looked up by the agent (the proxy resolves it), and ureq's own proxy setting
//!   (its environment proxy, `CONNECT` for everything) is never used for plain `http`.
//! - **Credentials per host.** [`credentials`](DigestAgentBuilder::credentials) for the
//!   first request's origin; a URL's userinfo (`http://user:pw@host/`) for its origin,
//!   percent-decoded, and never seen by ureq (which would send it as Basic, in clear); a
//!   netrc file ([`netrc`](DigestAgentBuilder::netrc)) or a
//!   [`credentials_provider`](DigestAgentBuilder::credentials_provider), each host its own
//!   scope. Credentials in a redirect's `Location` are dropped.
//! - **Proxies from the environment**, by default: `http_proxy`, `https_proxy`, `no_proxy`
//!   and their upper-case forms (see [`httpdigest::client::ProxyEnv`]); a proxy URL's
//!   userinfo is the proxy's credentials, never printed.
//!   [`no_env_proxies`](DigestAgentBuilder::no_env_proxies) opts out,
//!   [`proxy`](DigestAgentBuilder::proxy) names one. ureq's own proxy setting is not used.
//! - **Timeouts.** [`max_time`](DigestAgentBuilder::max_time) for a whole request,
//!   [`connect_timeout`](DigestAgentBuilder::connect_timeout), and every timeout of ureq's
//!   configuration (see the [builder](DigestAgentBuilder#timeouts)).
#![cfg_attr(docsrs, feature(doc_cfg))]

mod body;
mod error;
mod forward_proxy;

use std::fmt;
use std::io::Read;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use httpdigest::client::{
    AuthHeaders, BuildError, Client, ClientConfig, Credentials, CredentialsProvider, FieldValue,
    NoProxy, ProxyEnv, ProxyEnvError, ResponseBodyCheck, Reviewed,
};
use httpdigest::http::{DRAIN_LIMIT, DigestClient, Next, put_auth_headers};
use ureq::RequestExt;
use ureq::unversioned::resolver::DefaultResolver;
use ureq::unversioned::transport::DefaultConnector;

pub use body::Body;
pub use error::{AuthError, Error};
pub use httpdigest;
pub use httpdigest::http::DEFAULT_MAX_BUFFERED_BODY;
pub use ureq;

use body::Prepared;
use forward_proxy::{ForwardResolver, ProxyConnector};

/// Something the agent did, for logging and diagnostics (see
/// [`DigestAgentBuilder::observer`]).
#[derive(Debug)]
#[non_exhaustive]
pub enum Event<'a> {
    /// A request is about to be sent, with these authentication headers.
    Request {
        /// The method.
        method: &'a Method,
        /// The URI.
        uri: &'a Uri,
        /// The `Authorization` value sent, if any.
        authorization: Option<&'a FieldValue>,
        /// The `Proxy-Authorization` value sent, if any (its bytes are not UTF-8 when the
        /// user name goes in ISO-8859-1: see `FieldValue::text`).
        proxy_authorization: Option<&'a FieldValue>,
        /// The `Cookie` value sent, if any: the request's own, with the cookies its
        /// challenges set joined to it.
        cookie: Option<&'a HeaderValue>,
    },
    /// A response arrived.
    Response {
        /// Its status.
        status: StatusCode,
        /// Its headers (`WWW-Authenticate`, `Authentication-Info` and the rest).
        headers: &'a HeaderMap,
    },
}

type Observer = dyn Fn(&Event<'_>) + Send + Sync;

/// A [`ureq::Agent`] that answers HTTP Digest challenges. Cheap to clone; clones share the
/// connection pool and the authentication state.
///
/// Build one with [`DigestAgent::new`] or [`DigestAgent::builder`]; send with the
/// method shortcuts ([`get`](Self::get), [`post`](Self::post), ...) or with
/// [`run`](Self::run) and an [`http::Request`].
#[derive(Clone)]
pub struct DigestAgent {
    inner: Arc<Inner>,
}

struct Inner {
    agent: ureq::Agent,
    engine: DigestClient,
    /// The core client's forward proxy, for plain `http` requests.
    proxy: Option<Arc<Uri>>,
    /// The proxy `https` requests are tunnelled through (ureq's `CONNECT`), and the hosts
    /// that go direct instead.
    tunnel: Option<Tunnel>,
    /// Why the proxy environment could not be read ([`DigestAgent::new`]): every request
    /// fails with it rather than going direct.
    env_error: Option<ProxyEnvError>,
    limits: Limits,
    observer: Option<Box<Observer>>,
}

/// The agent's proxies: the forward proxy of plain `http` requests (the core client's), and
/// the tunnel of `https` ones.
#[derive(Default)]
struct Proxies {
    forward: Option<Arc<Uri>>,
    tunnel: Option<Tunnel>,
}

/// The proxy of `https` requests, as ureq takes it (without credentials: ureq would send
/// them as Basic to the proxy), and the hosts that bypass it.
struct Tunnel {
    proxy: ureq::Proxy,
    no_proxy: NoProxy,
}

impl fmt::Debug for DigestAgent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DigestAgent")
            .field("proxy", &self.inner.proxy)
            .field("max_buffered_body", &self.inner.limits.buffered_body)
            .field(
                "max_checked_response_body",
                &self.inner.limits.checked_response_body,
            )
            .field("max_time", &self.inner.limits.max_time)
            .finish_non_exhaustive()
    }
}

impl DigestAgent {
    /// An agent with ureq's default configuration that authenticates with this user name
    /// and password, by the core's defaults (the strongest algorithm offered, no Basic,
    /// preemptive reuse, credentials only for the first request's origin), through the
    /// proxies of the environment (see [`DigestAgentBuilder::proxy_env`]).
    ///
    /// If the environment's proxy variables cannot be read, every request fails with
    /// [`Error::ProxyEnv`] (nothing goes direct when a proxy was meant);
    /// [`DigestAgent::builder`] reports it at [`build`](DigestAgentBuilder::build).
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        let (username, password) = (username.into(), password.into());
        match Self::builder()
            .credentials(username.clone(), password.clone())
            .build()
        {
            Ok(agent) => agent,
            Err(error) => {
                // Only the environment can fail here: credentials are set, no proxy named.
                let env_error = match error {
                    BuildError::ProxyEnv(e) => Some(e),
                    _ => None,
                };
                Self::from_parts(
                    ureq::Agent::new_with_defaults(),
                    Client::with_password(username, password),
                    Proxies::default(),
                    Limits::default(),
                    None,
                )
                .with_env_error(env_error)
            }
        }
    }

    fn with_env_error(mut self, error: Option<ProxyEnvError>) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.env_error = error;
        }
        self
    }

    /// A builder, for the core client (a proxy, the policy), ureq's configuration and the
    /// rest.
    pub fn builder() -> DigestAgentBuilder {
        DigestAgentBuilder::default()
    }

    fn from_parts(
        agent: ureq::Agent,
        mut client: Client,
        proxies: Proxies,
        limits: Limits,
        observer: Option<Box<Observer>>,
    ) -> Self {
        // ureq puts nothing but visible ASCII in `Authorization`: a name outside ASCII goes
        // to origins as `username*` or `userhash` where the challenge allows.
        client.set_ascii_only_authorization(true);
        Self {
            inner: Arc::new(Inner {
                agent,
                engine: DigestClient::new(client),
                proxy: proxies.forward,
                tunnel: proxies.tunnel,
                env_error: None,
                limits,
                observer,
            }),
        }
    }

    /// The wrapped ureq agent.
    pub fn agent(&self) -> &ureq::Agent {
        &self.inner.agent
    }

    /// A GET request.
    pub fn get<T>(&self, uri: T) -> RequestBuilder<'_>
    where
        Uri: TryFrom<T>,
        <Uri as TryFrom<T>>::Error: Into<http::Error>,
    {
        self.request(Method::GET, uri)
    }

    /// A HEAD request.
    pub fn head<T>(&self, uri: T) -> RequestBuilder<'_>
    where
        Uri: TryFrom<T>,
        <Uri as TryFrom<T>>::Error: Into<http::Error>,
    {
        self.request(Method::HEAD, uri)
    }

    /// A DELETE request.
    pub fn delete<T>(&self, uri: T) -> RequestBuilder<'_>
    where
        Uri: TryFrom<T>,
        <Uri as TryFrom<T>>::Error: Into<http::Error>,
    {
        self.request(Method::DELETE, uri)
    }

    /// A POST request.
    pub fn post<T>(&self, uri: T) -> RequestBuilder<'_>
    where
        Uri: TryFrom<T>,
        <Uri as TryFrom<T>>::Error: Into<http::Error>,
    {
        self.request(Method::POST, uri)
    }

    /// A PUT request.
    pub fn put<T>(&self, uri: T) -> RequestBuilder<'_>
    where
        Uri: TryFrom<T>,
        <Uri as TryFrom<T>>::Error: Into<http::Error>,
    {
        self.request(Method::PUT, uri)
    }

    /// A PATCH request.
    pub fn patch<T>(&self, uri: T) -> RequestBuilder<'_>
    where
        Uri: TryFrom<T>,
        <Uri as TryFrom<T>>::Error: Into<http::Error>,
    {
        self.request(Method::PATCH, uri)
    }

    /// A request with any method.
    pub fn request<T>(&self, method: Method, uri: T) -> RequestBuilder<'_>
    where
        Uri: TryFrom<T>,
        <Uri as TryFrom<T>>::Error: Into<http::Error>,
    {
        RequestBuilder {
            agent: self,
            builder: http::Request::builder().method(method).uri(uri),
        }
    }

    /// Sends `request`, answering Digest challenges and following redirects.
    ///
    /// The final response is returned as ureq returns it: a 4xx or 5xx is
    /// `Err(Error::Ureq(ureq::Error::StatusCode))` when the agent's `http_status_as_error`
    /// is on (ureq's default). A Digest failure is [`Error::Auth`].
    pub fn run(
        &self,
        request: http::Request<impl Into<Body>>,
    ) -> Result<http::Response<ureq::Body>, Error> {
        if let Some(error) = self.inner.env_error {
            return Err(Error::ProxyEnv(error));
        }
        let deadline = self.inner.limits.max_time.map(|t| Instant::now() + t);
        let (parts, body) = request.into_parts();
        // A URL's userinfo is the Digest credentials of its origin; ureq never sees it (it
        // would send it as Basic, in clear).
        let (uri, userinfo) = httpdigest::http::split_userinfo(&parts.uri)?;
        if let (Some(credentials), Some(origin)) = (userinfo, httpdigest::http::origin_of(&uri)) {
            let origin = httpdigest::Origin::new(origin.scheme, origin.host, origin.port);
            self.inner
                .engine
                .set_origin_credentials(origin, credentials);
        }
        let mut body = body
            .into()
            .prepare(self.inner.limits.buffered_body)
            .map_err(Error::Body)?;
        let mut method = parts.method;
        let mut uri = uri;
        let mut headers = parts.headers;
        let config = self.inner.agent.config();
        let mut redirects = 0;
        loop {
            let response = self.authenticate(&method, &uri, &headers, &mut body, deadline)?;
            let location = response.headers().get(header::LOCATION);
            let hop = httpdigest::http::redirect::next_hop(
                response.status(),
                location.map(HeaderValue::as_bytes),
                &uri,
                &method,
            );
            let Some(hop) = hop else {
                return finish(response, config.http_status_as_error());
            };
            if redirects >= config.max_redirects() {
                if config.max_redirects() > 0 && config.max_redirects_will_error() {
                    return Err(ureq::Error::TooManyRedirects.into());
                }
                return finish(response, config.http_status_as_error());
            }
            redirects += 1;
            let hop = hop.map_err(|_| ureq::Error::RedirectFailed)?;
            if hop.keeps_body && !body.is_available() {
                return Err(Error::RedirectBodyNotReplayable {
                    location: hop.uri.to_string(),
                });
            }
            if !hop.keeps_body {
                body = Prepared::Bytes(Vec::new());
            }
            // Credentials the caller put on the request itself stay with the first hop, as
            // ureq's default `RedirectAuthHeaders::Never` does; the body's headers go with
            // the body, cookies stay with the origin (`Hop::prepare`).
            headers.remove(header::AUTHORIZATION);
            headers.remove(header::PROXY_AUTHORIZATION);
            hop.prepare(&mut headers);
            method = hop.method;
            uri = hop.uri;
        }
    }

    /// One hop: the request, and as many sends as the engine asks for.
    fn authenticate(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        body: &mut Prepared,
        deadline: Option<Instant>,
    ) -> Result<http::Response<ureq::Body>, Error> {
        let engine = &self.inner.engine;
        let via_proxy = engine.route(method, uri)?.proxy.is_some();
        let mut exchange_headers = std::borrow::Cow::Borrowed(headers);
        if via_proxy {
            // See forward_proxy::AbsoluteForm: no read between a request's head and body.
            exchange_headers.to_mut().remove(header::EXPECT);
        }
        let (mut call, mut auth) = engine.start_blocking(method, uri, body.source())?;
        // The URI without userinfo (there is none left here: `run` took it out).
        let uri = &call.uri().clone();
        loop {
            let send = SendPlan {
                via_proxy,
                deadline,
            };
            let response = self.send(method, uri, &exchange_headers, auth, body, send)?;
            let mut next = engine.respond_to(&mut call, body.source(), response);
            // The request waits for its turn on the server's nonces, then goes on.
            while let Next::Wait(response) = next {
                next = engine
                    .wait_blocking(&mut call, body.source())
                    .with(response);
            }
            match next {
                Next::Send(next, mut response) => {
                    drain(&mut response);
                    auth = next;
                }
                Next::Done(response) | Next::Wait(response) => return Ok(response),
                Next::CheckBody(check, response) => return self.checked(check, response),
                Next::Fail(failure, response) => {
                    return Err(Error::Auth(Box::new(AuthError::new(failure, response))));
                }
            }
        }
    }

    /// The final response of an `auth-int` exchange whose `rspauth` covers its body: the body
    /// is read (up to the agent's limit) and checked before the response is handed over, in
    /// memory; past the limit, what the policy makes of an unchecked body. A response that
    /// fails comes inside [`Error::Auth`], with its body to read (unproven).
    fn checked(
        &self,
        check: ResponseBodyCheck,
        response: http::Response<ureq::Body>,
    ) -> Result<http::Response<ureq::Body>, Error> {
        let limit = self.inner.limits.checked_response_body;
        let (parts, body) = response.into_parts();
        // The bytes read are decoded already (content encoding, charset): the new body keeps
        // the mime type only, so that it does not decode them again.
        let mut builder = ureq::Body::builder();
        if let Some(mime) = body.mime_type() {
            builder = builder.mime_type(mime);
        }
        let mut reader = body.into_reader();
        let mut data = Vec::new();
        (&mut reader)
            .take(u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1))
            .read_to_end(&mut data)
            .map_err(Error::ResponseBody)?;
        let (verdict, body) = if data.len() <= limit {
            (check.check(&data), builder.data(data))
        } else {
            // Not read whole: what was read, then the rest as it comes.
            let body = builder.reader(std::io::Cursor::new(data).chain(reader));
            (check.skip(), body)
        };
        let response = http::Response::from_parts(parts, body);
        match verdict {
            Ok(()) => Ok(response),
            Err(failure) => Err(Error::Auth(Box::new(AuthError::new(failure, response)))),
        }
    }

    /// One send of a request, through ureq, with the authentication headers of this send.
    fn send(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        auth: AuthHeaders,
        body: &mut Prepared,
        send: SendPlan,
    ) -> Result<http::Response<ureq::Body>, Error> {
        let mut request = http::Request::builder()
            .method(method.clone())
            .uri(uri.clone())
            .body(())?;
        *request.headers_mut() = headers.clone();
        // ureq checks `Authorization` (only) for visible ASCII; say why plainly.
        if auth.authorization.as_ref().is_some_and(|v| !v.is_ascii()) {
            return Err(Error::NonAsciiAuthorization);
        }
        // What the observer is shown (copied only for one): the values as they go out.
        let observed = self
            .inner
            .observer
            .is_some()
            .then(|| (auth.authorization.clone(), auth.proxy_authorization.clone()));
        put_auth_headers(request.headers_mut(), auth).map_err(http::Error::from)?;
        if let Some((authorization, proxy_authorization)) = &observed {
            self.observe(&Event::Request {
                method,
                uri,
                authorization: authorization.as_ref(),
                proxy_authorization: proxy_authorization.as_ref(),
                cookie: request.headers().get(header::COOKIE),
            });
        }
        let response = match body {
            Prepared::Bytes(bytes) if bytes.is_empty() && !sends_empty_body(method) => {
                self.run_ureq(request, send)
            }
            Prepared::Bytes(bytes) => self.run_ureq(with_body(request, bytes.as_slice()), send),
            Prepared::Stream(reader) => match reader.take() {
                Some(reader) => self.run_ureq(
                    with_body(request, ureq::SendBody::from_owned_reader(reader)),
                    send,
                ),
                None => self.run_ureq(request, send),
            },
        }?;
        self.observe(&Event::Response {
            status: response.status(),
            headers: response.headers(),
        });
        Ok(response)
    }

    /// Hands one request to ureq: no redirects (they are followed above), statuses as
    /// responses (the core reads 401 and 407), the time left before the agent's
    /// [`max_time`](DigestAgentBuilder::max_time), and the agent's choice of proxy, never
    /// ureq's own: none for plain `http` (the connector sends a request for the forward
    /// proxy to it in absolute form, and the others direct), the tunnel's for `https`
    /// unless `no_proxy` names the host.
    fn run_ureq<B: ureq::AsSendBody>(
        &self,
        request: http::Request<B>,
        send: SendPlan,
    ) -> Result<http::Response<ureq::Body>, Error> {
        let tunnel = self.inner.tunnel.as_ref().filter(|t| {
            let uri = request.uri();
            uri.scheme() == Some(&http::uri::Scheme::HTTPS)
                && uri
                    .host()
                    .is_some_and(|h| !t.no_proxy.matches(h, uri.port_u16().unwrap_or(443)))
        });
        let tunnel = tunnel.map(|t| t.proxy.clone());
        debug_assert!(!send.via_proxy || tunnel.is_none());
        let mut config = request
            .with_agent(&self.inner.agent)
            .configure()
            .http_status_as_error(false)
            .max_redirects(0)
            .proxy(tunnel);
        if let Some(connect) = self.inner.limits.connect_timeout {
            config = config
                .timeout_resolve(Some(connect))
                .timeout_connect(Some(connect));
        }
        if let Some(deadline) = send.deadline {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(ureq::Error::Timeout(ureq::Timeout::Global).into());
            }
            config = config.timeout_global(Some(left));
        }
        Ok(config.build().run()?)
    }

    /// What the agent makes of each challenge of a 401 or 407 it received for
    /// `method` `uri` (from an [`Event::Response`]): which one it answers, and why each
    /// other one is not answered. For diagnostics; it changes nothing.
    pub fn review(
        &self,
        method: &Method,
        uri: &Uri,
        status: StatusCode,
        headers: &HeaderMap,
    ) -> Vec<Reviewed<'static>> {
        self.inner.engine.review(method, uri, status, headers)
    }

    fn observe(&self, event: &Event<'_>) {
        if let Some(observer) = &self.inner.observer {
            observer(event);
        }
    }
}

/// How one send goes: to the forward proxy or not, and before when.
#[derive(Debug, Clone, Copy)]
struct SendPlan {
    via_proxy: bool,
    deadline: Option<Instant>,
}

fn with_body<B>(request: http::Request<()>, body: B) -> http::Request<B> {
    let (parts, ()) = request.into_parts();
    http::Request::from_parts(parts, body)
}

/// Methods for which an empty body is still sent (`Content-Length: 0`).
fn sends_empty_body(method: &Method) -> bool {
    matches!(*method, Method::POST | Method::PUT | Method::PATCH)
}

/// Reads and drops a small body so the connection can carry the next send.
fn drain(response: &mut http::Response<ureq::Body>) {
    let limit = u64::try_from(DRAIN_LIMIT).unwrap_or(u64::MAX);
    let mut reader = response.body_mut().as_reader().take(limit);
    // An error here only costs the connection.
    let _ = std::io::copy(&mut reader, &mut std::io::sink());
}

fn finish(
    response: http::Response<ureq::Body>,
    status_as_error: bool,
) -> Result<http::Response<ureq::Body>, Error> {
    let status = response.status();
    if status_as_error && (status.is_client_error() || status.is_server_error()) {
        return Err(ureq::Error::StatusCode(status.as_u16()).into());
    }
    Ok(response)
}

/// A request being built, from [`DigestAgent::get`] and friends.
#[derive(Debug)]
pub struct RequestBuilder<'a> {
    agent: &'a DigestAgent,
    builder: http::request::Builder,
}

impl RequestBuilder<'_> {
    /// Adds a header.
    #[must_use]
    pub fn header<K, V>(mut self, name: K, value: V) -> Self
    where
        http::HeaderName: TryFrom<K>,
        <http::HeaderName as TryFrom<K>>::Error: Into<http::Error>,
        HeaderValue: TryFrom<V>,
        <HeaderValue as TryFrom<V>>::Error: Into<http::Error>,
    {
        self.builder = self.builder.header(name, value);
        self
    }

    /// Sends the request without a body.
    pub fn call(self) -> Result<http::Response<ureq::Body>, Error> {
        self.send(Body::empty())
    }

    /// Sends the request with this body.
    pub fn send(self, body: impl Into<Body>) -> Result<http::Response<ureq::Body>, Error> {
        let request = self.builder.body(body.into())?;
        self.agent.run(request)
    }

    /// Sends the request with a body read from `reader` (see [`Body::from_reader`]).
    pub fn send_reader(
        self,
        reader: impl Read + Send + 'static,
    ) -> Result<http::Response<ureq::Body>, Error> {
        self.send(Body::from_reader(reader))
    }
}

/// Builds a [`DigestAgent`].
///
/// The credentials: [`credentials`](Self::credentials) (for the first request's origin),
/// a URL's userinfo (for its origin, always), [`netrc`](Self::netrc) or a
/// [`credentials_provider`](Self::credentials_provider) (per host, each host its own
/// scope), or a whole core [`client`](Self::client).
///
/// The proxies: those of the environment by default (`http_proxy`, `https_proxy`,
/// `no_proxy` and their upper-case forms, see [`ProxyEnv`]), [`proxy`](Self::proxy) to
/// name one, [`no_env_proxies`](Self::no_env_proxies) to ignore the environment. ureq's own
/// proxy setting is never used: plain `http` requests go to the proxy in absolute form,
/// where its Digest `407` is answered; `https` requests are tunnelled by ureq with
/// `CONNECT` to the `https` proxy (or, without one, the `http` proxy), without credentials
/// (ureq could only send them as Basic, and cannot answer Digest there).
///
/// # Timeouts
///
/// [`max_time`](Self::max_time) bounds a whole request (every send of it, its redirects
/// and the response body, as curl's `--max-time`); [`connect_timeout`](Self::connect_timeout)
/// the name lookup and the connection of each send (curl's `--connect-timeout`). Every
/// timeout of ureq's transport is set in its configuration, given to
/// [`ureq_config`](Self::ureq_config): `timeout_global` and `timeout_per_call` (each send),
/// `timeout_resolve`, `timeout_connect`, `timeout_send_request`, `timeout_await_100`,
/// `timeout_send_body`, `timeout_recv_response`, `timeout_recv_body`, `timeout_per_read`,
/// `timeout_per_write`. A timeout is [`Error::Ureq`] with [`ureq::Error::Timeout`].
///
/// ```no_run
/// use std::time::Duration;
/// use httpdigest_ureq::DigestAgent;
/// use httpdigest_ureq::httpdigest::client::netrc::Netrc;
///
/// let netrc = Netrc::load(Netrc::default_path().expect("a home directory"))?;
/// let agent = DigestAgent::builder()
///     .netrc(netrc)
///     .max_time(Duration::from_secs(30))
///     .connect_timeout(Duration::from_secs(5))
///     .ureq_config(
///         ureq::Agent::config_builder()
///             .timeout_recv_response(Some(Duration::from_secs(10)))
///             .timeout_per_read(Some(Duration::from_secs(10)))
///             .build(),
///     )
///     .build()?;
/// let text = agent.get("http://pdu.local/status").call()?.body_mut().read_to_string()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Default)]
pub struct DigestAgentBuilder {
    client: Option<Client>,
    core: httpdigest::client::Builder,
    env: EnvChoice,
    ureq_config: Option<ureq::config::Config>,
    max_buffered_body: Option<usize>,
    max_checked_response_body: Option<usize>,
    max_time: Option<Duration>,
    connect_timeout: Option<Duration>,
    observer: Option<Box<Observer>>,
}

/// Where the builder takes proxies from.
#[derive(Debug, Default)]
enum EnvChoice {
    /// The process environment, read at `build`.
    #[default]
    Process,
    /// This environment.
    Given(Box<ProxyEnv>),
    /// None.
    Ignored,
}

/// The agent's bounds on what it holds in memory and how long it waits.
#[derive(Debug, Clone, Copy)]
struct Limits {
    buffered_body: usize,
    checked_response_body: usize,
    max_time: Option<Duration>,
    connect_timeout: Option<Duration>,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            buffered_body: DEFAULT_MAX_BUFFERED_BODY,
            checked_response_body: DEFAULT_MAX_BUFFERED_BODY,
            max_time: None,
            connect_timeout: None,
        }
    }
}

impl fmt::Debug for DigestAgentBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DigestAgentBuilder")
            .field("client", &self.client)
            .field("core", &self.core)
            .field("env", &self.env)
            .field("max_buffered_body", &self.max_buffered_body)
            .field("max_checked_response_body", &self.max_checked_response_body)
            .field("max_time", &self.max_time)
            .field("connect_timeout", &self.connect_timeout)
            .finish_non_exhaustive()
    }
}

impl DigestAgentBuilder {
    /// The user name and password for origins (the first request's origin, by the core's
    /// default scope).
    #[must_use]
    pub fn credentials(mut self, username: impl Into<String>, password: impl Into<String>) -> Self {
        self.core = self.core.credentials(Credentials::new(username, password));
        self
    }

    /// Credentials per host from a `.netrc` file: each `machine` entry for its host only
    /// (never its `default` entry). Load it with
    /// [`Netrc::load`](httpdigest::client::netrc::Netrc::load), the user's own at
    /// [`Netrc::default_path`](httpdigest::client::netrc::Netrc::default_path) (`$NETRC`
    /// or `~/.netrc`).
    #[must_use]
    pub fn netrc(mut self, netrc: httpdigest::client::netrc::Netrc) -> Self {
        self.core = self.core.netrc(netrc);
        self
    }

    /// Credentials per host from a provider (a closure `Fn(OriginRef) ->
    /// Option<Credentials>`, a keyring): what it gives for an origin goes to that origin
    /// only; a host it has nothing for gets nothing.
    #[must_use]
    pub fn credentials_provider(mut self, provider: impl CredentialsProvider + 'static) -> Self {
        self.core = self.core.credentials_provider(provider);
        self
    }

    /// A forward proxy, `http://[user:password@]host[:port]` (the userinfo is the proxy's
    /// credentials), instead of the environment's `http` proxy.
    #[must_use]
    pub fn proxy(mut self, uri: impl Into<String>) -> Self {
        self.core = self.core.proxy(uri);
        self
    }

    /// Credentials for the proxy.
    #[must_use]
    pub fn proxy_credentials(
        mut self,
        username: impl Into<String>,
        password: impl Into<String>,
    ) -> Self {
        self.core = self
            .core
            .proxy_credentials(Credentials::new(username, password));
        self
    }

    /// The hosts that go direct, instead of the environment's `no_proxy` (curl's
    /// `--noproxy`).
    #[must_use]
    pub fn no_proxy(mut self, no_proxy: NoProxy) -> Self {
        self.core = self.core.no_proxy(no_proxy);
        self
    }

    /// Proxies from this environment instead of the process's (read with
    /// [`ProxyEnv::from_env`] at [`build`](Self::build) by default).
    #[must_use]
    pub fn proxy_env(mut self, env: ProxyEnv) -> Self {
        self.env = EnvChoice::Given(Box::new(env));
        self
    }

    /// No proxies from the environment: only [`proxy`](Self::proxy) (or the
    /// [`client`](Self::client)'s proxy).
    #[must_use]
    pub fn no_env_proxies(mut self) -> Self {
        self.env = EnvChoice::Ignored;
        self
    }

    /// The core's policy ([`ClientConfig`]) for the client the builder makes.
    #[must_use]
    pub fn config(mut self, config: ClientConfig) -> Self {
        self.core = self.core.config(config);
        self
    }

    /// The core client, built with [`Client::builder`], instead of the one the builder
    /// makes from [`credentials`](Self::credentials), [`netrc`](Self::netrc),
    /// [`proxy`](Self::proxy) and the rest (which are then ignored): its policy, a
    /// precomputed H(A1), a forward proxy for `http://` requests whose Digest challenges
    /// (407) are answered with its proxy credentials. The environment's `https` proxy is
    /// still used for `https://` requests (unless [`no_env_proxies`](Self::no_env_proxies)).
    #[must_use]
    pub fn client(mut self, client: Client) -> Self {
        self.client = Some(client);
        self
    }

    /// ureq's configuration (timeouts, TLS, user agent, `http_status_as_error`,
    /// `max_redirects`, ...). Its redirects are followed by this crate, and its proxy is
    /// not used (see the [builder](Self)'s proxies).
    #[must_use]
    pub fn ureq_config(mut self, config: ureq::config::Config) -> Self {
        self.ureq_config = Some(config);
        self
    }

    /// The longest a request may take, all its sends, redirects and the reading of its
    /// response body included (curl's `--max-time`); past it, [`ureq::Error::Timeout`].
    #[must_use]
    pub fn max_time(mut self, max: Duration) -> Self {
        self.max_time = Some(max);
        self
    }

    /// The longest the name lookup and the connection of each send may take (curl's
    /// `--connect-timeout`).
    #[must_use]
    pub fn connect_timeout(mut self, max: Duration) -> Self {
        self.connect_timeout = Some(max);
        self
    }

    /// Readers up to this many bytes are read into memory so the request can be sent again;
    /// longer ones are streamed once. Default [`DEFAULT_MAX_BUFFERED_BODY`].
    #[must_use]
    pub fn max_buffered_body(mut self, bytes: usize) -> Self {
        self.max_buffered_body = Some(bytes);
        self
    }

    /// Response bodies up to this many bytes are read into memory to check an `rspauth`
    /// that covers them (`qop=auth-int`; default [`DEFAULT_MAX_BUFFERED_BODY`]). A longer
    /// one is not checked: it fails with
    /// [`Failure::MutualAuthMissing`](httpdigest::client::Failure::MutualAuthMissing) when
    /// the policy requires mutual authentication, and is handed on unchecked otherwise (what
    /// was read first, then the rest as it comes). See the crate's *Mutual authentication
    /// over the body*.
    #[must_use]
    pub fn max_checked_response_body(mut self, bytes: usize) -> Self {
        self.max_checked_response_body = Some(bytes);
        self
    }

    /// A function told of every request sent and response received (for `-v` style logs).
    #[must_use]
    pub fn observer(mut self, observer: impl Fn(&Event<'_>) + Send + Sync + 'static) -> Self {
        self.observer = Some(Box::new(observer));
        self
    }

    /// Builds the agent.
    ///
    /// # Errors
    ///
    /// [`BuildError::NoCredentials`] without credentials of any kind;
    /// [`BuildError::InvalidProxy`] for a proxy that is not
    /// `http://[user:password@]host[:port]`; [`BuildError::ProxyEnv`] when the
    /// environment's proxy variables cannot be used (the error names the variable, never
    /// its value).
    pub fn build(self) -> Result<DigestAgent, BuildError> {
        let env = match self.env {
            EnvChoice::Process => Some(ProxyEnv::from_env().map_err(BuildError::ProxyEnv)?),
            EnvChoice::Given(env) => Some(*env),
            EnvChoice::Ignored => None,
        };
        let client = match self.client {
            Some(client) => client,
            None => match &env {
                Some(env) => self.core.proxy_env(env.clone()).build()?,
                None => self.core.build()?,
            },
        };
        // `https` requests: the environment's `https` proxy and its `no_proxy`, else the
        // client's proxy and its `no_proxy`.
        let tunnel = match env
            .as_ref()
            .and_then(|e| e.https().map(|p| (p, e.no_proxy())))
        {
            Some((setting, no_proxy)) => Some(Tunnel {
                proxy: ureq_tunnel(setting.origin())?,
                no_proxy: no_proxy.clone(),
            }),
            None => client
                .proxy()
                .map(|origin| {
                    Ok::<_, BuildError>(Tunnel {
                        proxy: ureq_tunnel(origin)?,
                        no_proxy: client.no_proxy().clone(),
                    })
                })
                .transpose()?,
        };
        let config = self.ureq_config.unwrap_or_default();
        let forward = client.proxy().map(proxy_uri).transpose()?;
        let agent = match &forward {
            Some(proxy) => {
                let proxy = proxy.clone();
                ureq::Agent::with_parts(
                    config,
                    ProxyConnector {
                        proxy: proxy.clone(),
                        no_proxy: client.no_proxy().clone(),
                        inner: DefaultConnector::new(),
                    },
                    ForwardResolver {
                        proxy,
                        no_proxy: client.no_proxy().clone(),
                        inner: DefaultResolver::default(),
                    },
                )
            }
            None => ureq::Agent::new_with_config(config),
        };
        Ok(DigestAgent::from_parts(
            agent,
            client,
            Proxies { forward, tunnel },
            Limits {
                buffered_body: self.max_buffered_body.unwrap_or(DEFAULT_MAX_BUFFERED_BODY),
                checked_response_body: self
                    .max_checked_response_body
                    .unwrap_or(DEFAULT_MAX_BUFFERED_BODY),
                max_time: self.max_time,
                connect_timeout: self.connect_timeout,
            },
            self.observer,
        ))
    }
}

/// The proxy's URI for the connector, from its origin.
fn proxy_uri(origin: &httpdigest::Origin) -> Result<Arc<Uri>, BuildError> {
    let uri: Uri = origin
        .to_string()
        .parse()
        .map_err(|_| BuildError::InvalidProxy)?;
    Ok(Arc::new(uri))
}

/// ureq's form of a proxy for `CONNECT` tunnels, from its origin only (no credentials).
fn ureq_tunnel(origin: &httpdigest::Origin) -> Result<ureq::Proxy, BuildError> {
    ureq::Proxy::new(&origin.to_string()).map_err(|_| BuildError::InvalidProxy)
}
