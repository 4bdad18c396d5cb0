//! The engine every adapter drives: one shared [`Client`] behind one lock, the routing of a
//! request, the reading of a response's authentication fields, the waits the client asks
//! for (blocking or async), and the signing of each send outside the lock. An adapter only
//! moves the request and its body.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};
use std::vec::Vec;

use event_listener::{Event, EventListener, Listener as _};
use http::{HeaderMap, Method, StatusCode, Uri};

use super::convert::{Redacted, ResponseFields, Route, origin_of, split_userinfo};
use super::error::BadUri;
use crate::client::{
    Action, AuthHeaders, BodySource, Client, Credentials, Exchange, Failure, NoProxy, Request,
    ResponseBodyCheck, Reviewed,
};
use crate::origin::{Origin, OriginRef};

/// Request bodies up to this size are kept in memory by default by the adapters that buffer
/// them, to send them again after a challenge and to hash them for `auth-int`.
pub const DEFAULT_MAX_BUFFERED_BODY: usize = 4 * 1024 * 1024;

/// How much of a challenge's body an adapter reads (and drops) before sending the request
/// again, so the connection can carry it; past this the connection is given up.
pub const DRAIN_LIMIT: usize = 64 * 1024;

/// A [`Client`] shared by every request of an HTTP client, and the one loop they all go
/// through. Cheap to clone; clones share the client.
///
/// Per request: [`begin`](Self::begin) gives the first step ([`start`](Self::start) and
/// [`start_blocking`](Self::start_blocking) wait through it to the first send); after each
/// response,
/// [`respond`](Self::respond) (or [`respond_to`](Self::respond_to)) says whether to send
/// again (with which headers), wait, hand the response over, or fail. On [`Next::Wait`] the
/// adapter waits with [`wait_blocking`](Self::wait_blocking) or [`wait`](Self::wait)
/// (async, on any runtime), which return the next step once the request's turn has come
/// (another request has learned its protection space, or a nonce of a strict server is
/// free), or after [`ClientConfig::max_wait`](crate::client::ClientConfig::max_wait), when
/// the request goes on regardless.
///
/// The lock is held only while the client decides (a nonce count, a cnonce, who goes when);
/// the hashing that signs a send happens after it is released, so requests to the same
/// server do not wait on each other's hashes. Randomness comes from
/// [`ThreadRng`](crate::ThreadRng).
///
/// ```
/// use httpdigest::client::{BodySource, Client};
/// use httpdigest::http::{DigestClient, Next};
///
/// let engine = DigestClient::new(Client::with_password("alice", "s3cret"));
/// let (method, uri) = (http::Method::GET, "http://pdu.local/status".parse::<http::Uri>()?);
/// let (mut call, next) = engine.begin(&method, &uri, BodySource::Bytes(b""))?;
/// let Next::Send(headers, ()) = next else { panic!("{next:?}") };
/// assert!(headers.authorization.is_none());
///
/// // A second request to the same origin waits for what the first one learns.
/// let (mut second, next) = engine.begin(&method, &uri, BodySource::Bytes(b""))?;
/// assert!(matches!(next, Next::Wait(())));
///
/// let mut challenge = http::HeaderMap::new();
/// challenge.insert("www-authenticate", r#"Digest realm="pdu", nonce="1", qop="auth""#.parse()?);
/// let next = engine.respond(&mut call, BodySource::Bytes(b""), http::StatusCode::UNAUTHORIZED, &challenge, None);
/// let Next::Send(headers, ()) = next else { panic!("{next:?}") };
/// assert!(headers.authorization.unwrap().text().starts_with("Digest username=\"alice\""));
///
/// let next = engine.respond(&mut call, BodySource::Bytes(b""), http::StatusCode::OK, &http::HeaderMap::new(), None);
/// assert!(matches!(next, Next::Done(())));
/// // Its turn has come: it goes with credentials at once.
/// let Next::Send(headers, ()) = engine.wait_blocking(&mut second, BodySource::Bytes(b"")) else {
///     panic!("its turn");
/// };
/// assert!(headers.authorization.unwrap().text().contains("nc=00000002"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct DigestClient {
    shared: Arc<Shared>,
}

struct Shared {
    inner: Mutex<Inner>,
    /// The client's proxy, read once: it does not change.
    proxy: Option<Origin>,
    /// The hosts that go direct, read once.
    no_proxy: NoProxy,
    /// The client's wait bound, read once.
    max_wait: Duration,
}

/// What the lock guards: the client, and how to wake the calls it keeps waiting.
struct Inner {
    client: Client,
    /// Per waiting exchange (by id): the event its call listens on, and whether the client
    /// has named it ready. Kept from the moment the client says wait, under the same lock,
    /// so that no wake-up is lost.
    parked: HashMap<u64, Parked>,
}

#[derive(Default)]
struct Parked {
    event: Event,
    ready: bool,
}

impl Inner {
    /// Marks the exchanges the client let go as ready; returns the events to notify, once
    /// the lock is released.
    fn drain_ready(&mut self) -> Vec<Event> {
        let mut woken = Vec::new();
        while let Some(id) = self.client.poll_ready() {
            if let Some(parked) = self.parked.get_mut(&id) {
                parked.ready = true;
                woken.push(core::mem::take(&mut parked.event));
            }
        }
        woken
    }
}

fn notify(woken: Vec<Event>) {
    for event in woken {
        event.notify(1);
    }
}

impl core::fmt::Debug for DigestClient {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DigestClient").finish_non_exhaustive()
    }
}

/// One request's state in the engine, from [`DigestClient::begin`] to the end of its sends.
///
/// Dropping a call whose request is not over (its send failed, its future was dropped,
/// waiting or not) [abandons](Client::abandon) it: what it held (the nonce it answered a
/// challenge with, its place in the queue) goes to the requests after it.
pub struct Call {
    shared: Arc<Shared>,
    method: Method,
    uri: Uri,
    exchange: Exchange,
    /// Why the first send's credentials could not be signed: the request ends with it.
    unsigned: Option<Failure>,
}

impl core::fmt::Debug for Call {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Call")
            .field("method", &self.method)
            .field("uri", &Redacted(&self.uri))
            .field("exchange", &self.exchange)
            .finish_non_exhaustive()
    }
}

impl Drop for Call {
    fn drop(&mut self) {
        if !self.exchange.finished() {
            let mut inner = lock(&self.shared);
            inner.parked.remove(&self.exchange.id());
            inner.client.abandon(&mut self.exchange);
            let woken = inner.drain_ready();
            drop(inner);
            notify(woken);
        }
    }
}

/// The core client. A panic while it was locked cannot leave it half-updated in a way that
/// matters for safety (the worst is a nonce count skipped), so a poisoned lock is taken over
/// rather than propagated.
fn lock(shared: &Shared) -> MutexGuard<'_, Inner> {
    shared.inner.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Call {
    /// The URI to send: the one [`DigestClient::begin`] was given, without its userinfo
    /// (which became the origin's credentials). Adapters send this one, never the URI they
    /// were given, so that the userinfo goes nowhere (HTTP clients send it as Basic).
    pub const fn uri(&self) -> &Uri {
        &self.uri
    }

    /// The core's state of the request.
    pub const fn exchange(&self) -> &Exchange {
        &self.exchange
    }

    /// The step of a first send as the adapters take it. Signing cannot fail for the bodies
    /// they pass (in memory, or streamed): a target that cannot go into a header was refused
    /// before the ticket was issued. Should it fail (a `Replayable` body, which only
    /// `Ticket::sign_with` can hash), the request goes without credentials and ends with why.
    fn first(&mut self, next: Next) -> Next {
        match next {
            Next::Fail(failure, ()) => {
                self.unsigned = Some(failure);
                Next::Send(AuthHeaders::default(), ())
            }
            next => next,
        }
    }

    /// The headers of a first send, once its wait is over.
    fn first_headers(&mut self, next: Next) -> AuthHeaders {
        match self.first(next) {
            Next::Send(headers, ()) => headers,
            Next::Wait(()) | Next::Done(()) | Next::CheckBody(..) | Next::Fail(..) => {
                AuthHeaders::default()
            }
        }
    }
}

/// What to do after a response, from [`DigestClient::respond`], with what the adapter keeps
/// of the response (`R`: nothing from `respond`, the whole response from
/// [`respond_to`](DigestClient::respond_to)).
///
/// An adapter hands the response over on [`Done`](Self::Done) only; on
/// [`CheckBody`](Self::CheckBody) it reads the body into the check first (the final response
/// of a `qop=auth-int` exchange, whose `rspauth` covers its body).
#[must_use = "the request is to be sent again, wait, be handed over, or failed"]
#[derive(Debug, Clone)]
pub enum Next<R = ()> {
    /// Send the request again with these headers (they replace the previous ones; read a
    /// small challenge body first, up to [`DRAIN_LIMIT`], so the connection can carry it).
    Send(AuthHeaders, R),
    /// Wait for the request's turn with [`DigestClient::wait_blocking`] or
    /// [`DigestClient::wait`], and act on the step it returns (after a response, read its
    /// small body first, as for `Send`).
    Wait(R),
    /// Hand the response to the caller.
    Done(R),
    /// Hand the response to the caller once its body passes the check: read the body (up to
    /// a limit: [`DEFAULT_MAX_BUFFERED_BODY`] by default) into
    /// [`ResponseBodyCheck::update`], then [`ResponseBodyCheck::finish`]; on its failure
    /// (`MutualAuthFailed`) fail the request as on [`Fail`](Self::Fail), with the response
    /// and without its body. Past the limit, [`ResponseBodyCheck::skip`] says whether the
    /// response goes on unchecked (its body as it comes, what was read first included) or
    /// fails (`MutualAuthMissing`, when mutual authentication is required).
    CheckBody(ResponseBodyCheck, R),
    /// The request failed for this reason; the response is the one it ended on.
    Fail(Failure, R),
}

impl Next {
    /// The same step, carrying `response`.
    pub fn with<R>(self, response: R) -> Next<R> {
        match self {
            Next::Send(headers, ()) => Next::Send(headers, response),
            Next::Wait(()) => Next::Wait(response),
            Next::Done(()) => Next::Done(response),
            Next::CheckBody(check, ()) => Next::CheckBody(check, response),
            Next::Fail(failure, ()) => Next::Fail(failure, response),
        }
    }
}

/// The future of [`DigestClient::wait`].
pub type Wait<'a> =
    core::pin::Pin<std::boxed::Box<dyn core::future::Future<Output = Next> + Send + 'a>>;

/// Waits for whichever comes first; `true` for the listener.
async fn notified_before(listener: &mut EventListener, delay: &mut futures_timer::Delay) -> bool {
    use core::future::Future as _;
    use core::pin::Pin;
    use core::task::Poll;
    core::future::poll_fn(|cx| {
        if Pin::new(&mut *listener).poll(cx).is_ready() {
            return Poll::Ready(true);
        }
        if Pin::new(&mut *delay).poll(cx).is_ready() {
            return Poll::Ready(false);
        }
        Poll::Pending
    })
    .await
}

impl DigestClient {
    /// The engine over `client`.
    pub fn new(client: Client) -> Self {
        let proxy = client.proxy().cloned();
        let no_proxy = client.no_proxy().clone();
        let max_wait = client.config().max_wait;
        Self {
            shared: Arc::new(Shared {
                inner: Mutex::new(Inner {
                    client,
                    parked: HashMap::new(),
                }),
                proxy,
                no_proxy,
                max_wait,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        lock(&self.shared)
    }

    /// Where `method` `uri` goes: its origin, the client's forward proxy for plain `http`
    /// (unless the client's `no_proxy` list names the host: [`Client::proxy_for`]), the
    /// request-target on the wire (never with userinfo). The proxy is the client's
    /// ([`Client::proxy`]).
    ///
    /// # Errors
    ///
    /// [`BadUri`] for a URI that is not absolute `http` or `https`.
    pub fn route<'u>(&'u self, method: &Method, uri: &'u Uri) -> Result<Route<'u>, BadUri> {
        let bad = || {
            BadUri(std::format!(
                "{}: not an absolute http or https URI",
                Redacted(uri)
            ))
        };
        let origin = origin_of(uri).ok_or_else(bad)?;
        let proxy = self
            .shared
            .proxy
            .as_ref()
            .filter(|_| !self.shared.no_proxy.matches(origin.host, origin.port))
            .map(OriginRef::of);
        Route::of(method, uri, proxy).ok_or_else(bad)
    }

    /// Whether requests to `uri` go direct, not through the client's proxy: its host is in
    /// the client's `no_proxy` list, or there is no proxy. For adapters whose HTTP client
    /// picks the connection (a proxy for `http`, a `CONNECT` tunnel for `https`).
    pub fn bypasses_proxy(&self, uri: &Uri) -> bool {
        self.shared.proxy.is_none()
            || origin_of(uri).is_none_or(|o| self.shared.no_proxy.matches(o.host, o.port))
    }

    /// Registers `credentials` for `origin` alone ([`Client::set_origin_credentials`]):
    /// for adapters that take a URL's userinfo apart themselves
    /// ([`split_userinfo`](super::split_userinfo)) before [`begin`](Self::begin).
    pub fn set_origin_credentials(&self, origin: Origin, credentials: Credentials) {
        self.lock()
            .client
            .set_origin_credentials(origin, credentials);
    }

    /// Runs one decision of the client for `exchange` under the lock, keeps a waiting
    /// exchange's wake-up, wakes the exchanges it let go once the lock is released, and
    /// signs a send's ticket outside the lock.
    fn decide(
        &self,
        exchange: &mut Exchange,
        request: &Request<'_>,
        step: impl FnOnce(&mut Client, &mut Exchange, &Request<'_>) -> Action,
    ) -> Next {
        let mut inner = self.lock();
        let action = step(&mut inner.client, exchange, request);
        if matches!(action, Action::Wait) {
            inner.parked.entry(exchange.id()).or_default().ready = false;
        } else if !inner.parked.is_empty() {
            inner.parked.remove(&exchange.id());
        }
        let woken = inner.drain_ready();
        drop(inner);
        if !woken.is_empty() {
            notify(woken);
        }
        match action {
            Action::Send(ticket) => match ticket.sign(request) {
                Ok(headers) => Next::Send(headers, ()),
                Err(failure) => Next::Fail(failure, ()),
            },
            Action::Wait => Next::Wait(()),
            Action::Done => Next::Done(()),
            Action::CheckBody(check) => Next::CheckBody(check, ()),
            Action::Fail(failure) => Next::Fail(failure, ()),
        }
    }

    /// Starts a request: its [`Call`] and its first step: [`Next::Send`] with the headers of
    /// its first send (credentials at once when its protection space is known), or
    /// [`Next::Wait`].
    ///
    /// A URI with userinfo (`http://user:password@host/`) gives the credentials for its
    /// origin ([`Client::set_origin_credentials`]), percent-decoded; the request is routed
    /// and signed without it, and the adapter sends [`Call::uri`], which has none.
    ///
    /// ```
    /// use httpdigest::client::{BodySource, Client};
    /// use httpdigest::http::{DigestClient, Next};
    ///
    /// let engine = DigestClient::new(Client::builder().userinfo_only().build()?);
    /// let uri: http::Uri = "http://bob:hunter%32@camera.local/snap".parse()?;
    /// let (mut call, _) = engine.begin(&http::Method::GET, &uri, BodySource::Bytes(b""))?;
    /// assert_eq!(call.uri(), "http://camera.local/snap"); // what goes on the wire
    ///
    /// let mut challenge = http::HeaderMap::new();
    /// challenge.insert("www-authenticate", r#"Digest realm="cam", nonce="1", qop="auth""#.parse()?);
    /// let next = engine.respond(&mut call, BodySource::Bytes(b""), http::StatusCode::UNAUTHORIZED, &challenge, None);
    /// let Next::Send(headers, ()) = next else { panic!("{next:?}") };
    /// assert!(headers.authorization.unwrap().text().starts_with("Digest username=\"bob\""));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`BadUri`] for a URI that is not absolute `http` or `https`, or whose userinfo is not
    /// percent-encoded UTF-8.
    #[must_use = "the step says what to send, or to wait"]
    pub fn begin(
        &self,
        method: &Method,
        uri: &Uri,
        body: BodySource<'_>,
    ) -> Result<(Call, Next), BadUri> {
        let (uri, credentials) = split_userinfo(uri)?;
        let uri = &uri;
        let route = self.route(method, uri)?;
        let request = route.request(method, body);
        let mut exchange = Exchange::default();
        let next = self.decide(&mut exchange, &request, |client, exchange, request| {
            if let Some(credentials) = credentials {
                client.set_origin_credentials(request.origin.to_origin(), credentials);
            }
            let (begun, action) = client.begin(request, &mut rand::rngs::ThreadRng::default());
            *exchange = begun;
            action
        });
        let mut call = Call {
            shared: Arc::clone(&self.shared),
            method: method.clone(),
            uri: uri.clone(),
            exchange,
            unsigned: None,
        };
        let next = call.first(next);
        Ok((call, next))
    }

    /// [`begin`](Self::begin), and the wait it may ask for, blocking the thread: the call and
    /// the headers of its first send.
    ///
    /// # Errors
    ///
    /// [`BadUri`] for a URI that is not absolute `http` or `https`.
    pub fn start_blocking(
        &self,
        method: &Method,
        uri: &Uri,
        body: BodySource<'_>,
    ) -> Result<(Call, AuthHeaders), BadUri> {
        let (mut call, mut next) = self.begin(method, uri, body)?;
        while let Next::Wait(()) = next {
            next = self.wait_blocking(&mut call, body);
        }
        let headers = call.first_headers(next);
        Ok((call, headers))
    }

    /// [`begin`](Self::begin), and the wait it may ask for (async, on any runtime): the call
    /// and the headers of its first send.
    ///
    /// # Errors
    ///
    /// [`BadUri`] for a URI that is not absolute `http` or `https`.
    pub async fn start(
        &self,
        method: &Method,
        uri: &Uri,
        body: BodySource<'_>,
    ) -> Result<(Call, AuthHeaders), BadUri> {
        let (mut call, mut next) = self.begin(method, uri, body)?;
        while let Next::Wait(()) = next {
            next = self.wait(&mut call, body).await;
        }
        let headers = call.first_headers(next);
        Ok((call, headers))
    }

    /// What the client makes of each challenge of a 401 or 407 to `method` `uri`: the one it
    /// answers and why each other one is not answered ([`Client::review`]). For
    /// diagnostics; it changes nothing.
    pub fn review(
        &self,
        method: &Method,
        uri: &Uri,
        status: StatusCode,
        headers: &HeaderMap,
    ) -> Vec<Reviewed<'static>> {
        let Ok(route) = self.route(method, uri) else {
            return Vec::new();
        };
        let request = route.request(method, BodySource::Bytes(&[]));
        let fields = ResponseFields::of(headers);
        let response = fields.response(status);
        self.lock()
            .client
            .review(&request, &response)
            .into_iter()
            .map(Reviewed::into_owned)
            .collect()
    }

    /// [`respond`](Self::respond) for an HTTP client that hands out `http::Response`s, which
    /// follows no redirects on its own: the step carries the response.
    pub fn respond_to<B>(
        &self,
        call: &mut Call,
        body: BodySource<'_>,
        response: http::Response<B>,
    ) -> Next<http::Response<B>> {
        self.respond(call, body, response.status(), response.headers(), None)
            .with(response)
    }

    /// Takes the response to the last send of `call` and says what to do next. `body` is
    /// what [`begin`](Self::begin) was told, unless the body has become unavailable since (a
    /// stream sent once).
    ///
    /// `answered_by` is the URI that actually answered when the HTTP client followed
    /// redirects on its own (reqwest does, below middleware) and it is not the request's: a
    /// challenge from another origin, or from a URI without one, is never answered
    /// ([`Failure::OutOfScope`]).
    pub fn respond(
        &self,
        call: &mut Call,
        body: BodySource<'_>,
        status: StatusCode,
        headers: &HeaderMap,
        answered_by: Option<&Uri>,
    ) -> Next {
        let next = self.decide_response(call, body, status, headers, answered_by);
        #[cfg(feature = "tracing")]
        let (method, uri) = (&call.method, &call.uri);
        #[cfg(feature = "tracing")]
        match &next {
            Next::Send(..) => tracing::debug!(
                %method, host = uri.host(), path = uri.path(), %status,
                "answering a digest challenge"
            ),
            Next::Wait(()) => tracing::debug!(
                %method, host = uri.host(), path = uri.path(), %status,
                "waiting for a turn on the server's nonces"
            ),
            Next::Fail(failure, ()) => tracing::debug!(
                %method, host = uri.host(), path = uri.path(), %status, %failure,
                "digest authentication failed"
            ),
            Next::CheckBody(..) => tracing::debug!(
                %method, host = uri.host(), path = uri.path(), %status,
                "rspauth covers the response body: checking it as it is read"
            ),
            Next::Done(()) => {}
        }
        next
    }

    fn decide_response(
        &self,
        call: &mut Call,
        body: BodySource<'_>,
        status: StatusCode,
        headers: &HeaderMap,
        answered_by: Option<&Uri>,
    ) -> Next {
        let answering = match answered_by.filter(|a| *a != &call.uri) {
            None => None,
            Some(other) => match origin_of(other) {
                Some(origin) => Some(origin),
                // An answer from no origin the core can name is answered by nobody.
                None => return Next::Fail(Failure::OutOfScope, ()),
            },
        };
        if let Some(failure) = call.unsigned.take() {
            return Next::Fail(failure, ());
        }
        let Ok(route) = self.route(&call.method, &call.uri) else {
            // `begin` took the same URI: it cannot fail here.
            return Next::Fail(Failure::OutOfScope, ());
        };
        let request = route.request(&call.method, body);
        let fields = ResponseFields::of(headers);
        let mut response = fields.response(status);
        response.origin = answering;
        self.decide(&mut call.exchange, &request, |client, exchange, request| {
            client.handle_response(
                exchange,
                request,
                &response,
                &mut rand::rngs::ThreadRng::default(),
            )
        })
    }

    /// Takes up `call` if its turn has come (or its wait is over); otherwise the listener to
    /// wait on, registered under the lock so that no wake-up is lost.
    fn turn(&self, call: &mut Call, body: BodySource<'_>) -> Result<Next, EventListener> {
        let Ok(route) = self.route(&call.method, &call.uri) else {
            return Ok(Next::Fail(Failure::OutOfScope, ()));
        };
        let request = route.request(&call.method, body);
        let id = call.exchange.id();
        {
            let mut inner = self.lock();
            match inner.parked.get_mut(&id) {
                Some(parked) if !parked.ready => return Err(parked.event.listen()),
                _ => {}
            }
        }
        Ok(
            self.decide(&mut call.exchange, &request, |client, exchange, request| {
                client.resume(exchange, request, &mut rand::rngs::ThreadRng::default())
            }),
        )
    }

    /// Ends the wait of `call`, whose bound passed: it goes on regardless.
    fn give_up(&self, call: &mut Call, body: BodySource<'_>) -> Next {
        let Ok(route) = self.route(&call.method, &call.uri) else {
            return Next::Fail(Failure::OutOfScope, ());
        };
        let request = route.request(&call.method, body);
        self.decide(&mut call.exchange, &request, |client, exchange, request| {
            client.give_up_waiting(exchange, request, &mut rand::rngs::ThreadRng::default())
        })
    }

    /// After [`Next::Wait`]: blocks the thread until the request's turn has come, or for at
    /// most [`max_wait`](crate::client::ClientConfig::max_wait), and returns the next step
    /// (never `Wait`). `body` as for [`respond`](Self::respond).
    pub fn wait_blocking(&self, call: &mut Call, body: BodySource<'_>) -> Next {
        let deadline = Instant::now() + self.shared.max_wait;
        loop {
            match self.turn(call, body) {
                Ok(Next::Wait(())) => {}
                Ok(next) => return next,
                Err(listener) => {
                    if listener.wait_deadline(deadline).is_none() {
                        return self.give_up(call, body);
                    }
                }
            }
        }
    }

    /// After [`Next::Wait`]: waits (async, on any runtime) until the request's turn has come,
    /// or for at most [`max_wait`](crate::client::ClientConfig::max_wait), and returns the
    /// next step (never `Wait`). `body` as for [`respond`](Self::respond). Dropping the
    /// future leaves the call waiting; dropping the call abandons it.
    ///
    /// The future is boxed, so that the adapters' own futures stay small on the path that
    /// does not wait.
    pub fn wait<'a>(&'a self, call: &'a mut Call, body: BodySource<'a>) -> Wait<'a> {
        std::boxed::Box::pin(self.wait_unboxed(call, body))
    }

    async fn wait_unboxed(&self, call: &mut Call, body: BodySource<'_>) -> Next {
        let mut delay: Option<futures_timer::Delay> = None;
        loop {
            match self.turn(call, body) {
                Ok(Next::Wait(())) => {}
                Ok(next) => return next,
                Err(mut listener) => {
                    let delay = delay
                        .get_or_insert_with(|| futures_timer::Delay::new(self.shared.max_wait));
                    if !notified_before(&mut listener, delay).await {
                        return self.give_up(call, body);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn challenge() -> HeaderMap {
        let mut challenge = HeaderMap::new();
        challenge.insert(
            http::header::WWW_AUTHENTICATE,
            http::HeaderValue::from_static(r#"Digest realm="pdu", nonce="1", qop="auth""#),
        );
        challenge
    }

    /// A call dropped after its challenge was answered, before its answer came back (a
    /// failed send, a dropped future), does not keep the next request waiting; nor does a
    /// dropped waiting call keep its place.
    #[test]
    fn a_dropped_call_releases_the_nonce_it_held_and_its_place() {
        let engine = DigestClient::new(Client::with_password("alice", "s3cret"));
        let (method, uri) = (Method::GET, Uri::from_static("http://pdu.local/status"));
        let body = BodySource::Bytes(b"");
        let (mut call, _) = engine.begin(&method, &uri, body).unwrap();
        let next = engine.respond(
            &mut call,
            body,
            StatusCode::UNAUTHORIZED,
            &challenge(),
            None,
        );
        assert!(matches!(next, Next::Send(..)), "{next:?}");
        // While the first request's answer is awaited, the others wait for it.
        let (held, next) = engine.begin(&method, &uri, body).unwrap();
        assert!(matches!(next, Next::Wait(())), "{next:?}");
        let (mut after, next) = engine.begin(&method, &uri, body).unwrap();
        assert!(matches!(next, Next::Wait(())), "{next:?}");
        drop(held);
        drop(call);
        let Next::Send(headers, ()) = engine.wait_blocking(&mut after, body) else {
            panic!("its turn");
        };
        let authorization = headers.authorization.unwrap();
        assert!(
            authorization.text().contains(r#"nonce="1""#),
            "{authorization}"
        );
    }

    /// The wait is bounded: past `max_wait` the request goes on regardless, here without
    /// credentials, as the learner never came back.
    #[test]
    fn a_wait_ends_at_its_bound() {
        let client = Client::builder()
            .credentials(crate::client::Credentials::new("alice", "s3cret"))
            .configure(|c| c.with_max_wait(Duration::from_millis(50)))
            .build()
            .unwrap();
        let engine = DigestClient::new(client);
        let (method, uri) = (Method::GET, Uri::from_static("http://pdu.local/status"));
        let body = BodySource::Bytes(b"");
        let (_learner, _) = engine.begin(&method, &uri, body).unwrap();
        let (mut waiting, next) = engine.begin(&method, &uri, body).unwrap();
        assert!(matches!(next, Next::Wait(())), "{next:?}");
        let started = Instant::now();
        let next = engine.wait_blocking(&mut waiting, body);
        assert!(started.elapsed() >= Duration::from_millis(50));
        assert!(
            matches!(&next, Next::Send(headers, ()) if *headers == AuthHeaders::default()),
            "{next:?}"
        );
    }

    /// URL userinfo is the origin's credentials: the call's URI (what the adapter sends)
    /// has none, through a proxy the absolute-form target has none, and the credentials go
    /// to that origin only.
    #[test]
    fn userinfo_is_the_origins_credentials_and_is_never_sent() {
        let client = Client::builder()
            .proxy("http://127.0.0.1:3128")
            .proxy_credentials(crate::client::Credentials::new("p", "q"))
            .build()
            .unwrap();
        let engine = DigestClient::new(client);
        let uri = Uri::from_static("http://bob:hunter2@cam.example/snap");
        let body = BodySource::Bytes(b"");
        let (mut call, _) = engine.begin(&Method::GET, &uri, body).unwrap();
        assert_eq!(call.uri(), "http://cam.example/snap");
        let route = engine.route(&Method::GET, call.uri()).unwrap();
        assert_eq!(route.target, "http://cam.example/snap");
        // Even a URI with userinfo routed directly never puts it into the target.
        let route = engine.route(&Method::GET, &uri).unwrap();
        assert_eq!(route.target, "http://cam.example/snap");
        let Next::Send(headers, ()) = engine.respond(
            &mut call,
            body,
            StatusCode::UNAUTHORIZED,
            &challenge(),
            None,
        ) else {
            panic!("an answer");
        };
        let authorization = headers.authorization.unwrap();
        assert!(authorization.text().starts_with(r#"Digest username="bob""#));
        assert!(!std::format!("{call:?}").contains("hunter2"));
        drop(call);
        // Another origin gets nothing of bob's.
        let other = Uri::from_static("http://other.example/");
        let (mut call, _) = engine.begin(&Method::GET, &other, body).unwrap();
        let next = engine.respond(
            &mut call,
            body,
            StatusCode::UNAUTHORIZED,
            &challenge(),
            None,
        );
        assert!(
            matches!(next, Next::Fail(Failure::NoCredentials, ())),
            "{next:?}"
        );
    }

    #[test]
    fn bad_userinfo_is_a_bad_uri_that_does_not_quote_it() {
        let engine = DigestClient::new(Client::with_password("a", "b"));
        let uri = Uri::from_static("http://bob:hunter2%zz@cam.example/");
        let error = engine
            .begin(&Method::GET, &uri, BodySource::Bytes(b""))
            .unwrap_err();
        assert!(!error.to_string().contains("hunter2"), "{error}");
    }

    /// A host in the client's no_proxy list goes direct: no proxy, origin-form target.
    #[test]
    fn a_host_in_no_proxy_goes_direct() {
        let client = Client::builder()
            .credentials(crate::client::Credentials::new("a", "b"))
            .proxy("http://127.0.0.1:3128")
            .no_proxy(crate::client::NoProxy::parse("direct.example").unwrap())
            .build()
            .unwrap();
        let engine = DigestClient::new(client);
        let direct = Uri::from_static("http://www.direct.example/x");
        let route = engine.route(&Method::GET, &direct).unwrap();
        assert_eq!((route.proxy, route.target.as_ref()), (None, "/x"));
        assert!(engine.bypasses_proxy(&direct));
        let proxied = Uri::from_static("http://elsewhere.example/x");
        let route = engine.route(&Method::GET, &proxied).unwrap();
        assert!(route.proxy.is_some());
        assert_eq!(route.target, "http://elsewhere.example/x");
        assert!(!engine.bypasses_proxy(&proxied));
    }
}
