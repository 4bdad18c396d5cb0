//! The engine every adapter drives: one shared [`Client`] behind one lock, the routing of a
//! request, the reading of a response's authentication fields, and the signing of each send
//! outside the lock. An adapter only moves the request and its body.

use std::string::{String, ToString};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::vec::Vec;

use http::{HeaderMap, Method, StatusCode, Uri};

use super::convert::{ResponseFields, Route, origin_of};
use super::error::BadUri;
use crate::client::{Action, AuthHeaders, BodySource, Client, Exchange, Failure, Reviewed};
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
/// Per request: [`begin`](Self::begin) gives the headers of the first send; after each
/// response, [`respond`](Self::respond) (or [`respond_to`](Self::respond_to)) says whether
/// to send again (with which headers), hand the response over, or fail. The lock is held
/// only while the client decides (a nonce count, a cnonce); the hashing that signs a send
/// happens after it is released, so requests to the same server do not wait on each
/// other's hashes. Randomness comes from [`ThreadRng`](crate::ThreadRng).
///
/// ```
/// use httpdigest::client::{BodySource, Client};
/// use httpdigest::http::{DigestClient, Next};
///
/// let engine = DigestClient::new(Client::with_password("alice", "s3cret"));
/// let (method, uri) = (http::Method::GET, "http://pdu.local/status".parse::<http::Uri>()?);
/// let (mut call, headers) = engine.begin(&method, &uri, BodySource::Bytes(b""))?;
/// assert!(headers.authorization.is_none());
///
/// let mut challenge = http::HeaderMap::new();
/// challenge.insert("www-authenticate", r#"Digest realm="pdu", nonce="1", qop="auth""#.parse()?);
/// let next = engine.respond(&mut call, BodySource::Bytes(b""), http::StatusCode::UNAUTHORIZED, &challenge, None);
/// let Next::Send(headers, ()) = next else { panic!("{next:?}") };
/// assert!(headers.authorization.unwrap().starts_with("Digest username=\"alice\""));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct DigestClient {
    shared: Arc<Shared>,
}

struct Shared {
    client: Mutex<Client>,
    /// The client's proxy, read once: it does not change.
    proxy: Option<Origin>,
}

impl core::fmt::Debug for DigestClient {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DigestClient").finish_non_exhaustive()
    }
}

/// One request's state in the engine, from [`DigestClient::begin`] to the end of its sends.
///
/// Dropping a call whose request is not over (its send failed, its future was dropped)
/// [abandons](Client::abandon) it: the nonce it held is released for the requests after it.
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
            lock(&self.shared).abandon(&mut self.exchange);
        }
    }
}

/// The core client. A panic while it was locked cannot leave it half-updated in a way that
/// matters for safety (the worst is a nonce count skipped), so a poisoned lock is taken over
/// rather than propagated.
fn lock(shared: &Shared) -> MutexGuard<'_, Client> {
    shared.client.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A URI for messages: without its userinfo, which may hold a password.
struct Redacted<'a>(&'a Uri);

impl core::fmt::Display for Redacted<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let uri = self.0;
        match uri.authority().map(http::uri::Authority::as_str) {
            Some(authority) if authority.contains('@') => {
                let host = authority.rsplit('@').next().unwrap_or_default();
                let scheme = uri
                    .scheme_str()
                    .map_or(String::new(), |s| std::format!("{s}://"));
                let path = uri
                    .path_and_query()
                    .map_or("", http::uri::PathAndQuery::as_str);
                write!(f, "{scheme}…@{host}{path}")
            }
            _ => write!(f, "{uri}"),
        }
    }
}

impl core::fmt::Debug for Redacted<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{self}")
    }
}

impl Call {
    /// The core's state of the request.
    pub const fn exchange(&self) -> &Exchange {
        &self.exchange
    }
}

/// What to do after a response, from [`DigestClient::respond`], with what the adapter keeps
/// of the response (`R`: nothing from `respond`, the whole response from
/// [`respond_to`](DigestClient::respond_to)).
#[must_use = "the request is to be sent again, handed over, or failed"]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next<R = ()> {
    /// Send the request again with these headers (they replace the previous ones; read a
    /// small challenge body first, up to [`DRAIN_LIMIT`], so the connection can carry it).
    Send(AuthHeaders, R),
    /// Hand the response to the caller.
    Done(R),
    /// The request failed for this reason; the response is the one it ended on.
    Fail(Failure, R),
}

impl Next {
    /// The same step, carrying `response`.
    pub fn with<R>(self, response: R) -> Next<R> {
        match self {
            Next::Send(headers, ()) => Next::Send(headers, response),
            Next::Done(()) => Next::Done(response),
            Next::Fail(failure, ()) => Next::Fail(failure, response),
        }
    }
}

impl DigestClient {
    /// The engine over `client`.
    pub fn new(client: Client) -> Self {
        let proxy = client.proxy().cloned();
        Self {
            shared: Arc::new(Shared {
                client: Mutex::new(client),
                proxy,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Client> {
        lock(&self.shared)
    }

    /// Where `method` `uri` goes: its origin, the client's forward proxy for plain `http`,
    /// the request-target on the wire. The proxy is the client's ([`Client::proxy`]).
    ///
    /// # Errors
    ///
    /// [`BadUri`] for a URI that is not absolute `http` or `https`.
    pub fn route<'u>(&'u self, method: &Method, uri: &'u Uri) -> Result<Route<'u>, BadUri> {
        let proxy = self.shared.proxy.as_ref().map(OriginRef::of);
        Route::of(method, uri, proxy).ok_or_else(|| BadUri(Redacted(uri).to_string()))
    }

    /// Starts a request: its [`Call`] and the headers of its first send (credentials at once
    /// when its protection space is known).
    ///
    /// # Errors
    ///
    /// [`BadUri`] for a URI that is not absolute `http` or `https`.
    #[must_use = "the headers are those of the first send"]
    pub fn begin(
        &self,
        method: &Method,
        uri: &Uri,
        body: BodySource<'_>,
    ) -> Result<(Call, AuthHeaders), BadUri> {
        let route = self.route(method, uri)?;
        let request = route.request(method, body);
        let (exchange, ticket) = self
            .lock()
            .begin(&request, &mut rand::rngs::ThreadRng::default());
        // Signing cannot fail for the bodies the adapters pass (in memory, or streamed): a
        // target that cannot go into a header was refused before the ticket was issued.
        // Should it fail (a `Replayable` body, which only `Ticket::sign_with` can hash), the
        // request goes without credentials and ends with why.
        let (headers, unsigned) = match ticket.sign(&request) {
            Ok(headers) => (headers, None),
            Err(failure) => (AuthHeaders::default(), Some(failure)),
        };
        let call = Call {
            shared: Arc::clone(&self.shared),
            method: method.clone(),
            uri: uri.clone(),
            exchange,
            unsigned,
        };
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
        let next = self.decide(call, body, status, headers, answered_by);
        #[cfg(feature = "tracing")]
        let (method, uri) = (&call.method, &call.uri);
        #[cfg(feature = "tracing")]
        match &next {
            Next::Send(..) => tracing::debug!(
                %method, host = uri.host(), path = uri.path(), %status,
                "answering a digest challenge"
            ),
            Next::Fail(failure, ()) => tracing::debug!(
                %method, host = uri.host(), path = uri.path(), %status, %failure,
                "digest authentication failed"
            ),
            Next::Done(()) => {}
        }
        next
    }

    fn decide(
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
        let action = self.lock().handle_response(
            &mut call.exchange,
            &request,
            &response,
            &mut rand::rngs::ThreadRng::default(),
        );
        match action {
            Action::Send(ticket) => match ticket.sign(&request) {
                Ok(headers) => Next::Send(headers, ()),
                Err(failure) => Next::Fail(failure, ()),
            },
            Action::Done => Next::Done(()),
            Action::Fail(failure) => Next::Fail(failure, ()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A call dropped after its challenge was answered, before its answer came back (a
    /// failed send, a dropped future), does not keep the next request waiting.
    #[test]
    fn a_dropped_call_releases_the_nonce_it_held() {
        let engine = DigestClient::new(Client::with_password("alice", "s3cret"));
        let (method, uri) = (Method::GET, Uri::from_static("http://pdu.local/status"));
        let (mut call, _) = engine.begin(&method, &uri, BodySource::Bytes(b"")).unwrap();
        let mut challenge = HeaderMap::new();
        challenge.insert(
            http::header::WWW_AUTHENTICATE,
            http::HeaderValue::from_static(r#"Digest realm="pdu", nonce="1", qop="auth""#),
        );
        let next = engine.respond(
            &mut call,
            BodySource::Bytes(b""),
            StatusCode::UNAUTHORIZED,
            &challenge,
            None,
        );
        assert!(matches!(next, Next::Send(..)), "{next:?}");
        // While the first request's answer is awaited, its nonce is held for it.
        let (_held, headers) = engine.begin(&method, &uri, BodySource::Bytes(b"")).unwrap();
        assert!(headers.authorization.is_none());
        drop(_held);
        drop(call);
        let (_, headers) = engine.begin(&method, &uri, BodySource::Bytes(b"")).unwrap();
        let authorization = headers.authorization.unwrap();
        assert!(authorization.contains(r#"nonce="1""#), "{authorization}");
    }
}
