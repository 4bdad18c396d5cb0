//! The sans-IO client: request metadata and response headers in, `Authorization` values and
//! decisions out. See [`Client`].

mod credentials;
pub(crate) mod protection_space;
mod selection;
mod setup;

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;

use rand_core::TryCryptoRng;

pub use crate::origin::{Origin, OriginRef, Scheme};
pub use credentials::Credentials;
pub use selection::{BasicPolicy, Reviewed, SelectionOrder, Unanswerable, Verdict};
pub use setup::{BuildError, ClientSetup};

use crate::algorithm::Algorithm;
use crate::digest::{self, HexDigest, QopParams, SecretDigest};
use crate::error::FormatError;
use crate::fingerprint::fingerprint;
use crate::header::authentication_info::AuthenticationInfo;
use crate::header::credentials::{CredentialsParams, UsernameParam};
use crate::nonce_count::NonceCount;
use crate::qop::Qop;
use protection_space::{DigestSpace, DomainEntry, Nonce, ProtectionSpace, SpaceKind, Spaces};
use selection::{Chosen, Policy};

/// Superseded by [`ThreadRng`](crate::ThreadRng), the crate's one default generator.
#[cfg(feature = "std")]
#[doc(hidden)]
pub use rand::rngs::SysRng as OsRng;

/// Where the body of a request comes from, for `auth-int` (which hashes it) and for deciding
/// whether the request can be sent again at all.
#[derive(Debug, Clone, Copy)]
pub enum BodySource<'a> {
    /// The whole body, in memory (empty for GET and friends). Replayable.
    Bytes(&'a [u8]),
    /// A body the caller can send again and has hashed already with this algorithm's hash
    /// (see [`digest::hash`]). Usable for `auth-int` when the chosen algorithm uses the same
    /// hash function.
    Hashed {
        /// The algorithm (its hash function) the digest was computed with.
        algorithm: Algorithm,
        /// H(body).
        digest: HexDigest,
    },
    /// A streamed body that cannot be sent again. A challenge to such a request is learned
    /// (so the next request goes out with credentials) but not answered.
    NotReplayable,
}

/// What the adapter knows of a request, handed to [`Client::begin`] and again, unchanged, to
/// every [`Client::handle_response`] of the same request.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The method, as sent (`GET`).
    pub method: &'a str,
    /// The request-target exactly as on the wire: path and query for origin-form, the
    /// authority for CONNECT, the absolute URI through a plain forward proxy.
    pub target: &'a str,
    /// The origin the request is for.
    pub origin: OriginRef<'a>,
    /// The forward proxy the request goes through, if any.
    pub proxy: Option<OriginRef<'a>>,
    /// The body.
    pub body: BodySource<'a>,
}

impl<'a> Request<'a> {
    /// A request with an empty body and no proxy.
    pub const fn new(method: &'a str, target: &'a str, origin: OriginRef<'a>) -> Self {
        Self {
            method,
            target,
            origin,
            proxy: None,
            body: BodySource::Bytes(&[]),
        }
    }
}

/// What the adapter received, handed to [`Client::handle_response`].
#[derive(Debug, Clone, Copy)]
pub struct Response<'a> {
    /// The status code.
    pub status: u16,
    /// Every `WWW-Authenticate` field value, in order.
    pub www_authenticate: &'a [&'a [u8]],
    /// Every `Proxy-Authenticate` field value, in order.
    pub proxy_authenticate: &'a [&'a [u8]],
    /// The `Authentication-Info` field value, if any.
    pub authentication_info: Option<&'a [u8]>,
    /// The `Proxy-Authentication-Info` field value, if any.
    pub proxy_authentication_info: Option<&'a [u8]>,
    /// The origin that actually answered, when the HTTP client followed redirects on its own
    /// and it differs from the request's (reqwest does this below middleware). `None`: the
    /// request's origin.
    pub origin: Option<OriginRef<'a>>,
}

impl<'a> Response<'a> {
    /// A response with this status and no authentication headers.
    pub const fn new(status: u16) -> Self {
        Self {
            status,
            www_authenticate: &[],
            proxy_authenticate: &[],
            authentication_info: None,
            proxy_authentication_info: None,
            origin: None,
        }
    }
}

/// The header values to put on the next send of a request. A `None` field means: do not send
/// that header.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthHeaders {
    /// `Authorization`.
    pub authorization: Option<String>,
    /// `Proxy-Authorization`.
    pub proxy_authorization: Option<String>,
}

/// What to do after a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Send the request again with these headers (replacing those of the previous send).
    Send(AuthHeaders),
    /// The exchange is over: hand the response to the caller.
    Done,
    /// The exchange failed: the response cannot be improved on, for this reason.
    Fail(Failure),
}

/// Why an exchange failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Failure {
    /// The server refused the credentials after they answered its fresh challenge.
    #[error("the server rejected the credentials")]
    CredentialsRejected,
    /// `stale=true` came back with the nonce that was just used: the server gives no way
    /// forward.
    #[error("the server reported a stale nonce but sent no new one")]
    StaleNonceNotRenewed,
    /// No challenge could be answered; the value says what was offered.
    #[error("no supported challenge")]
    NoSupportedChallenge(Unanswerable),
    /// A challenge came from an origin outside the credentials' scope; it was not answered.
    #[error("challenge from an origin outside the credentials' scope")]
    OutOfScope,
    /// A challenge came but no credentials are configured for it (origin or proxy).
    #[error("no credentials for this challenge")]
    NoCredentials,
    /// A 407 came for a request that names no proxy.
    #[error("proxy challenge for a request sent without a proxy")]
    ProxyChallengeWithoutProxy,
    /// The challenge needs `auth-int` but the body cannot be hashed (not replayable, or
    /// hashed with another hash function).
    #[error("auth-int needs a replayable body")]
    AuthIntNeedsReplayableBody,
    /// The body is streamed and cannot be sent again. The challenge is remembered: the next
    /// request to this space goes out with credentials.
    #[error("the request body cannot be sent again")]
    BodyNotReplayable,
    /// The server's `rspauth` (or the `cnonce`/`nc` it echoed) does not match: the response
    /// did not come from a server that knows the password. It arrives with the final
    /// response (a 200, say): adapters must not hand that response to the caller as
    /// authenticated.
    #[error("mutual authentication failed: rspauth does not match")]
    MutualAuthFailed,
    /// The policy requires mutual authentication and the server sent no `rspauth`, or sent
    /// it for an `auth-int` exchange (its `rspauth` covers the response body, which the core
    /// does not see). As with [`MutualAuthFailed`](Self::MutualAuthFailed), the final
    /// response is not to be trusted.
    #[error("mutual authentication required but not provided")]
    MutualAuthMissing,
    /// The request was already sent twice more; the server keeps challenging.
    #[error("too many authentication retries")]
    RetriesExhausted,
    /// The server refused credentials from a protection space where it had accepted the
    /// same credentials before: a server that checks nonce counts strictly (Apache's
    /// `AuthDigestNcCheck`, many embedded servers) does this when concurrent requests reach
    /// it out of order, or when it forgets clients under load (`stale=true` to a nonce just
    /// handed out). Sending the request again usually succeeds; the space stays in use.
    /// Where every request must succeed at once, send to such a server one request at a
    /// time.
    ///
    /// A refusal counts as this only when the space's credentials were accepted before and
    /// another request used them while the refused one waited for its answer. A refusal
    /// with no request overlapping it is [`CredentialsRejected`](Self::CredentialsRejected)
    /// (or [`RetriesExhausted`](Self::RetriesExhausted)) as usual, so a changed password
    /// shows as soon as requests stop overlapping.
    #[error("the server refused credentials it had accepted: requests reached it out of order")]
    OutOfOrder,
    /// A header could not be formed (a value the server sent is unusable in a header).
    #[error("could not form the header: {0}")]
    Format(FormatError),
    /// The random number generator failed.
    #[error("the random number generator failed")]
    Randomness,
}

/// What a [`Client`] does beyond the defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientConfig {
    /// How to choose among Digest challenges.
    pub order: SelectionOrder,
    /// Refuse algorithms weaker than this one (compared by [`Algorithm::strength`]).
    pub min_algorithm: Option<Algorithm>,
    /// When Basic may be used.
    pub basic: BasicPolicy,
    /// Fail unless the server proves it knows the password (`rspauth`). Basic is never used
    /// then.
    pub require_mutual_auth: bool,
    /// Use `auth-int` whenever offered (and the body can be hashed), not only when it is the
    /// only qop offered.
    pub prefer_auth_int: bool,
    /// Send credentials with the first request to a known protection space (the default),
    /// rather than waiting for a challenge each time.
    pub preemptive: bool,
    /// The origins the credentials may be sent to. `None` (the default): the origin of the
    /// first request.
    pub scope: Option<Vec<Origin>>,
    /// How many protection spaces to remember, per side (origin, proxy).
    pub max_protection_spaces: usize,
}

impl ClientConfig {
    /// Sets [`order`](Self::order).
    #[must_use]
    pub const fn with_order(mut self, order: SelectionOrder) -> Self {
        self.order = order;
        self
    }

    /// Sets [`min_algorithm`](Self::min_algorithm).
    #[must_use]
    pub const fn with_min_algorithm(mut self, min: Algorithm) -> Self {
        self.min_algorithm = Some(min);
        self
    }

    /// Sets [`basic`](Self::basic).
    #[must_use]
    pub const fn with_basic(mut self, basic: BasicPolicy) -> Self {
        self.basic = basic;
        self
    }

    /// Sets [`require_mutual_auth`](Self::require_mutual_auth).
    #[must_use]
    pub const fn with_mutual_auth_required(mut self, required: bool) -> Self {
        self.require_mutual_auth = required;
        self
    }

    /// Sets [`prefer_auth_int`](Self::prefer_auth_int).
    #[must_use]
    pub const fn with_auth_int_preferred(mut self, preferred: bool) -> Self {
        self.prefer_auth_int = preferred;
        self
    }

    /// Sets [`preemptive`](Self::preemptive).
    #[must_use]
    pub const fn with_preemptive(mut self, preemptive: bool) -> Self {
        self.preemptive = preemptive;
        self
    }

    /// Sets [`scope`](Self::scope): the origins the credentials may go to.
    #[must_use]
    pub fn with_scope(mut self, origins: impl IntoIterator<Item = Origin>) -> Self {
        self.scope = Some(origins.into_iter().collect());
        self
    }

    /// Sets [`max_protection_spaces`](Self::max_protection_spaces).
    #[must_use]
    pub const fn with_max_protection_spaces(mut self, max: usize) -> Self {
        self.max_protection_spaces = max;
        self
    }
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            order: SelectionOrder::Strongest,
            min_algorithm: None,
            basic: BasicPolicy::Never,
            require_mutual_auth: false,
            prefer_auth_int: false,
            preemptive: true,
            scope: None,
            max_protection_spaces: 32,
        }
    }
}

/// What was sent on one side (origin or proxy) of the last send of a request.
#[derive(Debug, Clone)]
struct Sent {
    space: u64,
    /// Fingerprint of the nonce used, to tell a renewed nonce from the same one.
    nonce: u64,
    /// The space's send count with this send (see `DigestSpace::sends`).
    space_sends: u64,
    /// Whether other sends from the space were in flight when this one went out.
    overlapped: bool,
    digest: Option<SentDigest>,
}

/// What `rspauth` is checked against, with the space's H(A1) (which is why a send does not
/// carry a copy of the secret).
#[derive(Debug, Clone)]
struct SentDigest {
    algorithm: Algorithm,
    nc: NonceCount,
    cnonce: [u8; 32],
    qop: Option<Qop>,
}

/// One side's retry accounting.
#[derive(Debug, Clone, Default)]
struct SideState {
    sent: Option<Sent>,
    answered_fresh: bool,
    answered_stale: bool,
    /// The first send went without credentials because another request held the space's
    /// nonce (see `DigestSpace::held`).
    waited_on_hold: bool,
}

/// What a known protection space gives a request.
enum Known {
    /// Credentials to send.
    Send(String, Sent),
    /// A space covers the request, but its nonce is held for another request's answer.
    Held,
    /// No space covers the request (or no credentials go to it).
    Nothing,
}

/// The state of one request across its sends. Created by [`Client::begin`]; owned by the
/// adapter; holds no reference into the client and allocates nothing.
#[derive(Debug, Clone, Default)]
pub struct Exchange {
    origin: SideState,
    proxy: SideState,
    extra_sends: u8,
    finished: bool,
    out_of_scope: bool,
    preemptive_failure: Option<Failure>,
}

impl Exchange {
    fn side_mut(&mut self, side: Side) -> &mut SideState {
        match side {
            Side::Origin => &mut self.origin,
            Side::Proxy => &mut self.proxy,
        }
    }

    /// Whether the request's origin is outside the credentials' scope: nothing derived from
    /// the credentials goes with it, and a 401 from it is [`Failure::OutOfScope`].
    pub const fn out_of_scope(&self) -> bool {
        self.out_of_scope
    }

    /// Why `begin` sent no credentials although a protection space covers the request (an
    /// `auth-int` space and a streamed body, for instance); `None` when it sent them or knew
    /// no space.
    pub const fn preemptive_failure(&self) -> Option<&Failure> {
        self.preemptive_failure.as_ref()
    }

    /// How many times the request has been sent again so far (at most 2).
    pub const fn extra_sends(&self) -> u8 {
        self.extra_sends
    }
}

/// Which header pair a challenge belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Origin,
    Proxy,
}

impl Side {
    const fn other(self) -> Side {
        match self {
            Side::Origin => Side::Proxy,
            Side::Proxy => Side::Origin,
        }
    }
}

/// The most extra sends one request may cause: one answer to a fresh challenge and one to a
/// stale nonce, or one proxy and one origin answer.
const MAX_EXTRA_SENDS: u8 = 2;

/// The Digest client: protection spaces, credentials and policy, shared by every request.
///
/// It does no I/O. Drive each request through it in this order:
///
/// 1. [`begin`](Self::begin) with the request's metadata. It returns the [`Exchange`] for
///    this request and the [`AuthHeaders`] to send with it: credentials already, when the
///    request falls in a protection space the client knows (preemptive authentication).
/// 2. Send the request. Hand the response's status and authentication headers to
///    [`handle_response`](Self::handle_response), with the same [`Request`].
/// 3. On [`Action::Send`], send the request again with the new headers (they replace the
///    previous ones) and go to 2. On [`Action::Done`] return the response to the caller; on
///    [`Action::Fail`] return the response or an error built from the [`Failure`].
///
/// The client bounds step 3: a request is sent at most twice more, whatever the server
/// answers (one answer to a fresh challenge and one to `stale=true` with a new nonce, or a
/// proxy answer and an origin answer). A 401 to credentials that answered a fresh challenge
/// is [`Failure::CredentialsRejected`], never another try.
///
/// Concurrency: put the client behind one lock (`Mutex<Client>`) and share it across
/// requests and threads; hold the lock only for `begin` and `handle_response`, never while
/// sending. Nonce counts then increase strictly per nonce across all requests. Servers that
/// check counts strictly may still see them out of order, as concurrent requests overtake
/// each other on the network, and refuse some: such a refusal of credentials the server
/// accepted before is [`Failure::OutOfOrder`], and sending the request again is the remedy.
///
/// Scope: credentials go only to the origins of the scope ([`ClientConfig::scope`], by
/// default the origin of the first request). A request to another origin gets no header, and
/// a challenge from it is [`Failure::OutOfScope`].
///
/// ```
/// use httpdigest::client::{Action, Client, ClientConfig, Credentials, OriginRef, Request, Response, Scheme};
/// # use rand_core::{TryRng, TryCryptoRng};
/// # struct Rng(u8);
/// # impl TryRng for Rng {
/// #     type Error = core::convert::Infallible;
/// #     fn try_next_u32(&mut self) -> Result<u32, Self::Error> { Ok(7) }
/// #     fn try_next_u64(&mut self) -> Result<u64, Self::Error> { Ok(7) }
/// #     fn try_fill_bytes(&mut self, d: &mut [u8]) -> Result<(), Self::Error> { d.fill(self.0); Ok(()) }
/// # }
/// # impl TryCryptoRng for Rng {}
/// # let mut rng = Rng(1);
///
/// let mut client = Client::new(Credentials::new("Mufasa", "Circle of Life"), ClientConfig::default());
/// let origin = OriginRef { scheme: Scheme::Http, host: "www.example.org", port: 80 };
/// let request = Request::new("GET", "/dir/index.html", origin);
///
/// let (mut exchange, headers) = client.begin(&request, &mut rng);
/// assert!(headers.authorization.is_none()); // nothing known yet
///
/// let challenge: &[u8] = br#"Digest realm="http-auth@example.org", qop="auth", algorithm=SHA-256, nonce="7ypf""#;
/// let response = Response { www_authenticate: &[challenge], ..Response::new(401) };
/// let Action::Send(headers) = client.handle_response(&mut exchange, &request, &response, &mut rng) else {
///     panic!("expected a retry");
/// };
/// assert!(headers.authorization.unwrap().starts_with("Digest username=\"Mufasa\""));
///
/// let action = client.handle_response(&mut exchange, &request, &Response::new(200), &mut rng);
/// assert_eq!(action, Action::Done);
///
/// // The next request to the space goes out with credentials at once, nc=00000002.
/// let (_, headers) = client.begin(&request, &mut rng);
/// assert!(headers.authorization.unwrap().contains("nc=00000002"));
/// ```
#[derive(Debug, Clone)]
pub struct Client {
    config: ClientConfig,
    credentials: Option<Credentials>,
    proxy_credentials: Option<Credentials>,
    scope: Vec<Origin>,
    proxy_scope: Vec<Origin>,
    spaces: Spaces,
    proxy_spaces: Spaces,
}

impl Client {
    /// A client that authenticates to origins with `credentials`.
    pub fn new(credentials: Credentials, config: ClientConfig) -> Self {
        Self::build(Some(credentials), None, config)
    }

    /// A client that authenticates only to a forward proxy.
    pub fn proxy_only(proxy_credentials: Credentials, config: ClientConfig) -> Self {
        Self::build(None, Some(proxy_credentials), config)
    }

    fn build(
        credentials: Option<Credentials>,
        proxy_credentials: Option<Credentials>,
        config: ClientConfig,
    ) -> Self {
        let capacity = config.max_protection_spaces;
        Self {
            scope: config.scope.clone().unwrap_or_default(),
            proxy_scope: Vec::new(),
            spaces: Spaces::new(capacity),
            proxy_spaces: Spaces::new(capacity),
            credentials,
            proxy_credentials,
            config,
        }
    }

    /// Adds credentials for the forward proxy requests go through ([`Request::proxy`]). They
    /// go only to the first proxy they are used with.
    #[must_use]
    pub fn with_proxy_credentials(mut self, proxy_credentials: Credentials) -> Self {
        self.proxy_credentials = Some(proxy_credentials);
        self
    }

    /// The configuration.
    pub const fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// Whether the credentials may be sent to `origin`. Before the first request with a
    /// default scope, no origin is in scope yet.
    pub fn in_scope(&self, origin: OriginRef<'_>) -> bool {
        self.scope.iter().any(|o| origin.is(o))
    }

    /// Starts a request: returns its [`Exchange`] and the headers to send with it.
    ///
    /// With a default scope, the first request's origin becomes the scope.
    pub fn begin<R: TryCryptoRng + ?Sized>(
        &mut self,
        request: &Request<'_>,
        rng: &mut R,
    ) -> (Exchange, AuthHeaders) {
        if self.config.scope.is_none() && self.scope.is_empty() && self.credentials.is_some() {
            self.scope.push(request.origin.to_origin());
        }
        if let Some(proxy) = request.proxy
            && self.proxy_scope.is_empty()
            && self.proxy_credentials.is_some()
        {
            self.proxy_scope.push(proxy.to_origin());
        }
        let mut exchange = Exchange {
            out_of_scope: self.credentials.is_some() && !self.in_scope(request.origin),
            ..Exchange::default()
        };
        let headers = self.preemptive_headers(&mut exchange, request, rng);
        (exchange, headers)
    }

    /// Takes a response to the last send of `exchange` and says what to do next.
    pub fn handle_response<R: TryCryptoRng + ?Sized>(
        &mut self,
        exchange: &mut Exchange,
        request: &Request<'_>,
        response: &Response<'_>,
        rng: &mut R,
    ) -> Action {
        if exchange.finished {
            return Action::Done;
        }
        // The nonces this send used: a hold on one ends with the exchange, or when the next
        // send moves on to another nonce.
        let used = [Side::Origin, Side::Proxy].map(|side| {
            exchange
                .side_mut(side)
                .sent
                .as_ref()
                .map(|sent| (side, sent.space, sent.nonce))
        });
        // Counted before the response is handled: a send it leads to must not take this
        // one for a send still in flight.
        for (side, space, _) in used.iter().flatten() {
            if let Some(d) = self.spaces_mut(*side).digest_mut(*space) {
                d.answers = d.answers.wrapping_add(1);
            }
        }
        let action = match response.status {
            401 => self.on_challenge(Side::Origin, exchange, request, response, rng),
            407 => self.on_challenge(Side::Proxy, exchange, request, response, rng),
            _ => self.on_final(exchange, request, response),
        };
        if !matches!(action, Action::Send(_)) {
            exchange.finished = true;
        }
        for (side, space, nonce) in used.into_iter().flatten() {
            let still_used = matches!(&action, Action::Send(_))
                && exchange.side_mut(side).sent.as_ref().map(|s| s.nonce) == Some(nonce);
            if !still_used {
                self.release(side, space, nonce);
            }
        }
        action
    }

    /// What the client makes of each challenge of a 401 or 407 to `request`: the one it
    /// answers and why each other one is not answered. For diagnostics; it changes nothing.
    /// Other statuses have no challenges to review. Whether the origin is in scope is not a
    /// matter of challenges: see [`Failure::OutOfScope`].
    ///
    /// ```
    /// use httpdigest::client::{Client, ClientConfig, Credentials, OriginRef, Request, Response, Scheme, Verdict};
    ///
    /// let client = Client::new(Credentials::new("alice", "s3cret"), ClientConfig::default());
    /// let origin = OriginRef { scheme: Scheme::Http, host: "pdu.local", port: 80 };
    /// let request = Request::new("GET", "/status", origin);
    /// let fields: [&[u8]; 2] = [
    ///     br#"Digest realm="pdu", nonce="a", algorithm=MD5, qop="auth""#,
    ///     br#"Digest realm="pdu", nonce="b", algorithm=SHA-256, qop="auth""#,
    /// ];
    /// let response = Response { www_authenticate: &fields, ..Response::new(401) };
    /// let verdicts: Vec<Verdict> = client.review(&request, &response).into_iter().map(|r| r.verdict).collect();
    /// assert_eq!(verdicts, [Verdict::NotChosen, Verdict::Chosen]);
    /// ```
    pub fn review<'a>(&self, request: &Request<'_>, response: &Response<'a>) -> Vec<Reviewed<'a>> {
        let (side, fields, scheme) = match response.status {
            401 => (
                Side::Origin,
                response.www_authenticate,
                Some(request.origin.scheme),
            ),
            407 => (
                Side::Proxy,
                response.proxy_authenticate,
                request.proxy.map(|p| p.scheme),
            ),
            _ => return Vec::new(),
        };
        let secure = scheme == Some(Scheme::Https);
        selection::review(fields, self.policy(), secure, self.credentials_for(side))
    }

    /// The parts of the configuration that choose a challenge.
    const fn policy(&self) -> Policy {
        Policy {
            order: self.config.order,
            min_algorithm: self.config.min_algorithm,
            // Basic cannot prove the server knows the password.
            basic: if self.config.require_mutual_auth {
                BasicPolicy::Never
            } else {
                self.config.basic
            },
        }
    }

    /// The headers for a send from the spaces already known (for `begin`, and for the side
    /// that was not challenged when the other side was).
    fn preemptive_headers<R: TryCryptoRng + ?Sized>(
        &mut self,
        exchange: &mut Exchange,
        request: &Request<'_>,
        rng: &mut R,
    ) -> AuthHeaders {
        let mut headers = AuthHeaders::default();
        if self.config.preemptive {
            for side in [Side::Origin, Side::Proxy] {
                // A failure here means no preemptive header; the exchange records why.
                match self.authorize_known(side, request, None, rng) {
                    Ok(Known::Send(value, sent)) => {
                        exchange.side_mut(side).sent = Some(sent);
                        *header_mut(&mut headers, side) = Some(value);
                    }
                    Ok(Known::Held) => exchange.side_mut(side).waited_on_hold = true,
                    Ok(Known::Nothing) => {}
                    Err(f) => exchange.preemptive_failure = Some(f),
                }
            }
        }
        headers
    }

    /// The origin a side authenticates to, if in scope.
    fn side_origin<'r>(&self, side: Side, request: &Request<'r>) -> Option<OriginRef<'r>> {
        match side {
            Side::Origin => Some(request.origin).filter(|o| self.in_scope(*o)),
            Side::Proxy => request
                .proxy
                .filter(|p| self.proxy_scope.iter().any(|o| p.is(o))),
        }
    }

    /// An `Authorization` (or `Proxy-Authorization`) from the space covering the request, if
    /// one is known.
    ///
    /// A nonce held for another request's answer is not used; `own_hold` names the nonce this
    /// request holds itself, if any.
    fn authorize_known<R: TryCryptoRng + ?Sized>(
        &mut self,
        side: Side,
        request: &Request<'_>,
        own_hold: Option<u64>,
        rng: &mut R,
    ) -> Result<Known, Failure> {
        let Some(origin) = self.side_origin(side, request) else {
            return Ok(Known::Nothing);
        };
        let prefer_auth_int = self.config.prefer_auth_int;
        let (spaces, Some(credentials)) = self.side_parts(side) else {
            return Ok(Known::Nothing);
        };
        // A proxy space covers every request through the proxy.
        let path = match side {
            Side::Origin => crate::origin::target_path(request.target),
            Side::Proxy => None,
        };
        let Some(space) = spaces.find(origin.scheme, origin.host, origin.port, path) else {
            return Ok(Known::Nothing);
        };
        if matches!(&space.kind, SpaceKind::Digest(d) if d.is_held() && d.held != own_hold) {
            return Ok(Known::Held);
        }
        let (value, sent) = authorize(space, credentials, request, rng, prefer_auth_int)?;
        Ok(Known::Send(value, sent))
    }

    fn on_challenge<R: TryCryptoRng + ?Sized>(
        &mut self,
        side: Side,
        exchange: &mut Exchange,
        request: &Request<'_>,
        response: &Response<'_>,
        rng: &mut R,
    ) -> Action {
        // Whether the answer came from an origin other than the one the request was for (a
        // redirect the HTTP client followed on its own). Such an origin's challenge is never
        // answered.
        let redirected = response.origin.is_some_and(|o| !o.same_as(request.origin));
        if side == Side::Origin && redirected {
            return Action::Fail(Failure::OutOfScope);
        }
        let Some(origin) = self.side_origin(side, request) else {
            return Action::Fail(match side {
                Side::Origin if self.credentials.is_none() => Failure::NoCredentials,
                Side::Origin => Failure::OutOfScope,
                Side::Proxy if request.proxy.is_none() => Failure::ProxyChallengeWithoutProxy,
                Side::Proxy if self.proxy_credentials.is_none() => Failure::NoCredentials,
                Side::Proxy => Failure::OutOfScope,
            });
        };
        let fields = match side {
            Side::Origin => response.www_authenticate,
            Side::Proxy => response.proxy_authenticate,
        };
        let Some(credentials) = self.credentials_for(side) else {
            return Action::Fail(Failure::NoCredentials);
        };
        let chosen = match selection::select(
            fields,
            self.policy(),
            origin.scheme == Scheme::Https,
            credentials,
        ) {
            Ok(c) => c,
            Err(why) => return Action::Fail(Failure::NoSupportedChallenge(why)),
        };

        // Classify the challenge against what this side sent.
        let retries_left = exchange.extra_sends < MAX_EXTRA_SENDS;
        let state = exchange.side_mut(side);
        let (stale, nonce_fp) = match &chosen {
            Chosen::Digest(d) => (d.stale(), fingerprint(&d.nonce().unescaped())),
            Chosen::Basic { .. } => (false, 0),
        };
        let is_stale_answer = match &state.sent {
            Some(sent) if stale && sent.nonce == nonce_fp => {
                // The nonce is dead and the server offers no other: retire the space, so the
                // next request goes without credentials and gets a fresh challenge.
                let id = sent.space;
                self.spaces_mut(side).retire(id);
                return Action::Fail(Failure::StaleNonceNotRenewed);
            }
            Some(_) if stale => true,
            _ => false,
        };
        let refused = state.sent.as_ref();
        if is_stale_answer && state.answered_stale {
            return Action::Fail(self.refusal(side, refused, Failure::RetriesExhausted));
        }
        if !is_stale_answer && state.answered_fresh {
            return Action::Fail(self.refusal(side, refused, Failure::CredentialsRejected));
        }
        if !retries_left {
            return Action::Fail(self.refusal(side, refused, Failure::RetriesExhausted));
        }

        // Remember the space: later requests use it even if this one cannot be answered.
        let space = match self.learn(side, origin, chosen) {
            Ok(s) => s,
            Err(f) => return Action::Fail(f),
        };
        if matches!(request.body, BodySource::NotReplayable) {
            let auth_int_only = matches!(
                self.spaces_mut(side).get_mut(space).map(|s| &s.kind),
                Some(SpaceKind::Digest(DigestSpace { qop: Some(q), .. }))
                    if !q.contains(Qop::Auth)
            );
            return Action::Fail(if auth_int_only {
                Failure::AuthIntNeedsReplayableBody
            } else {
                Failure::BodyNotReplayable
            });
        }
        let prefer_auth_int = self.config.prefer_auth_int;
        let (spaces, credentials) = self.side_parts(side);
        let (Some(credentials), Some(space)) = (credentials, spaces.get_mut(space)) else {
            return Action::Fail(Failure::NoCredentials);
        };
        let (value, sent) = match authorize(space, credentials, request, rng, prefer_auth_int) {
            Ok(v) => v,
            Err(f) => return Action::Fail(f),
        };
        // The answer to a fresh nonce holds it until its own answer comes back. Not when this
        // request went without credentials because another one held the space's nonce:
        // while requests overlap, each of those would renew the nonce and the hold in turn,
        // and none would ever use the nonce (the throughput benchmark measured 1.8 HTTP
        // exchanges per request, 16 at a time, against a server with a nonce per challenge).
        let state = exchange.side_mut(side);
        if let SpaceKind::Digest(d) = &mut space.kind
            && !state.waited_on_hold
        {
            d.held = Some(sent.nonce);
        }
        if is_stale_answer {
            state.answered_stale = true;
        } else {
            state.answered_fresh = true;
        }
        state.sent = Some(sent);
        exchange.extra_sends += 1;

        // The other side keeps its credentials on the new send, with a fresh count; but not
        // the origin's after a redirect: they would follow the request to the other origin.
        let mut headers = AuthHeaders::default();
        *header_mut(&mut headers, side) = Some(value);
        let other = side.other();
        if other == Side::Origin && redirected {
            exchange.origin.sent = None;
        } else {
            let own_hold = exchange.side_mut(other).sent.as_ref().map(|s| s.nonce);
            if let Ok(Known::Send(value, sent)) =
                self.authorize_known(other, request, own_hold, rng)
            {
                exchange.side_mut(other).sent = Some(sent);
                *header_mut(&mut headers, other) = Some(value);
            }
        }
        Action::Send(headers)
    }

    /// Ends the hold of the request that answered `nonce`'s challenge, if it is held.
    fn release(&mut self, side: Side, space: u64, nonce: u64) {
        if let Some(d) = self.spaces_mut(side).digest_mut(space)
            && d.held == Some(nonce)
        {
            d.held = None;
        }
    }

    /// One side's protection spaces and credentials, borrowed together.
    fn side_parts(&mut self, side: Side) -> (&mut Spaces, Option<&Credentials>) {
        match side {
            Side::Origin => (&mut self.spaces, self.credentials.as_ref()),
            Side::Proxy => (&mut self.proxy_spaces, self.proxy_credentials.as_ref()),
        }
    }

    fn credentials_for(&self, side: Side) -> Option<&Credentials> {
        match side {
            Side::Origin => self.credentials.as_ref(),
            Side::Proxy => self.proxy_credentials.as_ref(),
        }
    }

    fn spaces_mut(&mut self, side: Side) -> &mut Spaces {
        self.side_parts(side).0
    }

    /// Stores the chosen challenge as a protection space of `origin`; returns its id.
    fn learn(
        &mut self,
        side: Side,
        origin: OriginRef<'_>,
        chosen: Chosen<'_>,
    ) -> Result<u64, Failure> {
        let origin = origin.to_origin();
        let space = match chosen {
            Chosen::Basic { realm } => {
                ProtectionSpace::new(origin, realm.into_owned(), Vec::new(), SpaceKind::Basic)
            }
            Chosen::Digest(d) => {
                // Values are echoed into a header string, so they must be text.
                let text = |parameter, v: crate::header::ParamValue<'_>| {
                    v.to_str()
                        .map(Cow::into_owned)
                        .map_err(|_| Failure::Format(FormatError::NotUtf8 { parameter }))
                };
                let realm = text("realm", d.realm())?;
                let domain = match side {
                    Side::Origin => self.domain_entries(&origin, d.domain()),
                    Side::Proxy => Vec::new(),
                };
                let digest = DigestSpace {
                    // Selection only passes challenges with a supported algorithm.
                    algorithm: d.algorithm().unwrap_or(Algorithm::Md5),
                    algorithm_token: d
                        .algorithm_param()
                        .map(|v| text("algorithm", v))
                        .transpose()?,
                    nonce: Nonce::new(text("nonce", d.nonce())?),
                    previous_nonce: None,
                    opaque: d.opaque().map(|v| text("opaque", v)).transpose()?,
                    qop: d.qop(),
                    userhash: d.userhash(),
                    charset_utf8: d.charset_is_utf8(),
                    nc: 0,
                    history: Vec::new(),
                    held: None,
                    accepted: false,
                    sends: 0,
                    answers: 0,
                    ha1: None,
                    username_hash: None,
                };
                ProtectionSpace::new(origin, realm, domain, SpaceKind::Digest(digest))
            }
        };
        Ok(self.spaces_mut(side).upsert(space))
    }

    /// Resolves a `domain` list against the challenging origin, keeping only URIs inside the
    /// scope. An absent or empty list (or one with nothing in scope) means the whole origin.
    fn domain_entries(
        &self,
        origin: &Origin,
        domain: Option<crate::header::Domain<'_>>,
    ) -> Vec<DomainEntry> {
        let Some(domain) = domain else {
            return Vec::new();
        };
        let mut entries = Vec::new();
        for uri in domain.uris() {
            let Ok(uri) = core::str::from_utf8(uri) else {
                continue;
            };
            let entry = if uri.starts_with('/') {
                Some((origin.clone(), uri))
            } else {
                Origin::parse_absolute(uri).filter(|(o, _)| self.scope.contains(o))
            };
            if let Some((origin, path)) = entry {
                let path = path.split('?').next().unwrap_or(path);
                entries.push(DomainEntry {
                    origin,
                    path_prefix: path.into(),
                });
            }
        }
        entries
    }

    /// A response that is not a challenge: check `rspauth`, adopt `nextnonce`.
    fn on_final(
        &mut self,
        exchange: &mut Exchange,
        request: &Request<'_>,
        response: &Response<'_>,
    ) -> Action {
        for (side, field) in [
            (Side::Origin, response.authentication_info),
            (Side::Proxy, response.proxy_authentication_info),
        ] {
            let Some(sent) = exchange.side_mut(side).sent.take() else {
                continue;
            };
            if let Err(f) = self.check_info(side, &sent, field, request) {
                self.spaces_mut(side).retire(sent.space);
                return Action::Fail(f);
            }
            // The credentials were accepted.
            if let Some(d) = self.spaces_mut(side).digest_mut(sent.space) {
                d.accepted = true;
            }
        }
        Action::Done
    }

    /// Why an exchange ends whose last credentials (`refused`, if it sent any) the server
    /// refused once more than the client answers: a race between requests if the space was
    /// accepted before and another send from it overlapped this one (the space stays in
    /// use), else `otherwise` (after `CredentialsRejected` the space is retired).
    fn refusal(&mut self, side: Side, refused: Option<&Sent>, otherwise: Failure) -> Failure {
        let Some(sent) = refused else {
            return otherwise;
        };
        if let Some(d) = self.spaces_mut(side).digest_mut(sent.space) {
            if d.accepted && (sent.overlapped || d.sends != sent.space_sends) {
                return Failure::OutOfOrder;
            }
            d.accepted = false;
        }
        if otherwise == Failure::CredentialsRejected {
            self.spaces_mut(side).retire(sent.space);
        }
        otherwise
    }

    /// Checks `Authentication-Info` against what was sent and adopts its `nextnonce`. What
    /// is missing or unverifiable fails only when the policy requires mutual authentication.
    fn check_info(
        &mut self,
        side: Side,
        sent: &Sent,
        field: Option<&[u8]>,
        request: &Request<'_>,
    ) -> Result<(), Failure> {
        let require = self.config.require_mutual_auth && sent.digest.is_some();
        let unproven = |failure| if require { Err(failure) } else { Ok(()) };
        let Some(field) = field else {
            return unproven(Failure::MutualAuthMissing);
        };
        // A malformed Authentication-Info proves nothing.
        let Ok(info) = AuthenticationInfo::parse(field) else {
            return unproven(Failure::MutualAuthFailed);
        };
        let Some(space) = self.spaces_mut(side).get_mut(sent.space) else {
            return unproven(Failure::MutualAuthMissing);
        };
        let SpaceKind::Digest(digest_space) = &mut space.kind else {
            return Ok(());
        };
        match (info.rspauth(), &sent.digest) {
            (Some(rspauth), Some(d)) => {
                let echoed_cnonce = info.cnonce().map(|c| c.unescaped());
                if echoed_cnonce.is_some_and(|c| c.as_ref() != d.cnonce.as_slice())
                    || info.nc().is_some_and(|nc| nc != d.nc)
                {
                    return Err(Failure::MutualAuthFailed);
                }
                // For auth-int, rspauth covers the response body, which the core does not see.
                let nonce = [
                    Some(&digest_space.nonce),
                    digest_space.previous_nonce.as_ref(),
                ]
                .into_iter()
                .flatten()
                .find(|n| n.fingerprint() == sent.nonce);
                // The space's H(A1) is the one the request used while the algorithm is the
                // same: a space keeps its H(A1) across challenges of one algorithm.
                let space_ha1 = digest_space
                    .ha1
                    .as_ref()
                    .filter(|_| digest_space.algorithm == d.algorithm);
                match (nonce, space_ha1) {
                    (Some(nonce), Some(ha1)) if d.qop != Some(Qop::AuthInt) => {
                        let qop = d.qop.map(|qop| QopParams {
                            qop,
                            nc: d.nc,
                            cnonce: &d.cnonce,
                        });
                        let ha1 = request_ha1(d.algorithm, ha1, nonce.as_bytes(), &d.cnonce);
                        let expected = digest::rspauth(
                            d.algorithm,
                            &ha1.0,
                            nonce.as_bytes(),
                            qop,
                            request.target.as_bytes(),
                            None,
                        );
                        if !expected.ct_eq(&rspauth.unescaped()) {
                            return Err(Failure::MutualAuthFailed);
                        }
                    }
                    _ => unproven(Failure::MutualAuthMissing)?,
                }
            }
            _ => unproven(Failure::MutualAuthMissing)?,
        }
        if let Some(next) = info.nextnonce().and_then(|n| n.to_str().ok()) {
            digest_space.set_nonce(next.into_owned());
        }
        Ok(())
    }
}

fn header_mut(headers: &mut AuthHeaders, side: Side) -> &mut Option<String> {
    match side {
        Side::Origin => &mut headers.authorization,
        Side::Proxy => &mut headers.proxy_authorization,
    }
}

/// Builds the header value for a request in `space`, taking the next nonce count.
fn authorize<R: TryCryptoRng + ?Sized>(
    space: &mut ProtectionSpace,
    credentials: &Credentials,
    request: &Request<'_>,
    rng: &mut R,
    prefer_auth_int: bool,
) -> Result<(String, Sent), Failure> {
    let id = space.id;
    let SpaceKind::Digest(d) = &mut space.kind else {
        let password = credentials.password().ok_or(Failure::NoCredentials)?;
        let value = basic_header(credentials.username(), password);
        return Ok((
            value,
            Sent {
                space: id,
                nonce: 0,
                space_sends: 0,
                overlapped: false,
                digest: None,
            },
        ));
    };
    let algorithm = d.algorithm;

    // qop: auth when offered, auth-int when it is the only one (or preferred and possible).
    let body_hash = |alg: Algorithm| match request.body {
        BodySource::Bytes(b) => Some(digest::hash(alg, b)),
        BodySource::Hashed {
            algorithm: a,
            digest,
        } => (a.without_session() == alg.without_session()).then_some(digest),
        BodySource::NotReplayable => None,
    };
    let (qop, body) = match d.qop {
        None => (None, None),
        Some(offered) => {
            let auth_int =
                offered.contains(Qop::AuthInt) && (prefer_auth_int || !offered.contains(Qop::Auth));
            if auth_int {
                match body_hash(algorithm) {
                    Some(h) => (Some(Qop::AuthInt), Some(h)),
                    None if offered.contains(Qop::Auth) => (Some(Qop::Auth), None),
                    None => return Err(Failure::AuthIntNeedsReplayableBody),
                }
            } else {
                (Some(Qop::Auth), None)
            }
        }
    };

    if d.ha1.is_none() {
        d.ha1 = Some(
            credentials
                .ha1(algorithm, &space.realm)
                .ok_or(Failure::NoCredentials)?,
        );
    }
    let nc = d.next_nc().ok_or(Failure::RetriesExhausted)?;
    let overlapped = d.sends != d.answers;
    d.sends = d.sends.wrapping_add(1);
    let mut cnonce = [0u8; 32];
    if qop.is_some() {
        let mut raw = [0u8; 16];
        rng.try_fill_bytes(&mut raw)
            .map_err(|_| Failure::Randomness)?;
        let hex = HexDigest::from_bytes(&raw);
        cnonce.copy_from_slice(hex.as_bytes().get(..32).unwrap_or(&[0; 32]));
    }
    let cnonce_str = core::str::from_utf8(&cnonce).unwrap_or_default();
    let Some(ha1) = &d.ha1 else {
        return Err(Failure::NoCredentials);
    };
    let ha1 = request_ha1(algorithm, ha1, d.nonce.as_bytes(), &cnonce);
    let ha2 = digest::ha2(
        algorithm,
        request.method.as_bytes(),
        request.target.as_bytes(),
        body.as_ref(),
    );
    let qop_params = qop.map(|qop| QopParams {
        qop,
        nc,
        cnonce: &cnonce,
    });
    let response = digest::response(algorithm, &ha1.0, d.nonce.as_bytes(), qop_params, &ha2);

    let username_hash;
    let username = if d.userhash {
        username_hash = *d.username_hash.get_or_insert_with(|| {
            digest::userhash(
                algorithm,
                credentials.username().as_bytes(),
                space.realm.as_bytes(),
            )
        });
        UsernameParam::Hashed(username_hash.as_str())
    } else {
        UsernameParam::for_name(credentials.username(), d.charset_utf8)
    };
    let params = CredentialsParams {
        username,
        realm: &space.realm,
        uri: request.target,
        algorithm: d.algorithm_token.as_deref(),
        nonce: &d.nonce,
        nc: qop.map(|_| nc),
        cnonce: qop.map(|_| cnonce_str),
        qop,
        response: response.as_str(),
        opaque: d.opaque.as_deref(),
    };
    let value = params.to_header_value().map_err(Failure::Format)?;
    let sent = Sent {
        space: id,
        nonce: d.nonce.fingerprint(),
        space_sends: d.sends,
        overlapped,
        digest: Some(SentDigest {
            algorithm,
            nc,
            cnonce,
            qop,
        }),
    };
    Ok((value, sent))
}

/// The H(A1) a request's digests take (RFC 7616 §3.4.2): the space's, or for a `-sess`
/// algorithm H(H(A1):nonce:cnonce) with the request's nonce and cnonce.
fn request_ha1<'a>(
    algorithm: Algorithm,
    ha1: &'a SecretDigest,
    nonce: &[u8],
    cnonce: &[u8],
) -> Cow<'a, SecretDigest> {
    if algorithm.is_session() {
        Cow::Owned(SecretDigest(digest::session_ha1(
            algorithm, &ha1.0, nonce, cnonce,
        )))
    } else {
        Cow::Borrowed(ha1)
    }
}

/// `Basic base64(user:password)` (RFC 7617).
fn basic_header(username: &str, password: &str) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut input =
        zeroize::Zeroizing::new(Vec::with_capacity(username.len() + 1 + password.len()));
    input.extend_from_slice(username.as_bytes());
    input.push(b':');
    input.extend_from_slice(password.as_bytes());
    let mut out = String::with_capacity(6 + input.len().div_ceil(3) * 4);
    out.push_str("Basic ");
    for chunk in input.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18u32, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                let idx = usize::try_from((n >> shift) & 63).unwrap_or(0);
                out.push(char::from(TABLE.get(idx).copied().unwrap_or(b'A')));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_header_rfc7617_example() {
        assert_eq!(
            basic_header("Aladdin", "open sesame"),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
        assert_eq!(basic_header("a", ""), "Basic YTo=");
        assert_eq!(basic_header("ab", "c"), "Basic YWI6Yw==");
    }
}
