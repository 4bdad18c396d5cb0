//! The sans-IO client: request metadata and response headers in, credentials to sign and
//! decisions out. See [`Client`].
//!
//! | module | what |
//! |---|---|
//! | `io` | what goes in and out: [`Request`], [`Response`], [`BodySource`], [`AuthHeaders`], [`Failure`] |
//! | `body_check` | the `rspauth` of `auth-int`, over the response body: [`ResponseBodyCheck`] |
//! | `cookies` | the cookies a challenge sets, sent back with its answer: [`ChallengeCookies`] |
//! | `config` | the policy, [`ClientConfig`], [`Strict`] |
//! | `call` | one request across its sends, [`Exchange`] |
//! | `ticket` | what one send carries, [`Ticket`]: decided under the lock, signed outside it |
//! | `turns` | who goes when: the requests waiting for a space to be learned or for a nonce |
//! | `protection_space` | what the client remembers of a challenge: its nonces (lanes), shared or ordered |
//! | `selection` | which challenge to answer, [`Verdict`] |
//! | `credentials` | the user's secret, [`Credentials`] |
//! | `username` | how the user name travels, by the server's dialect: [`NameForm`] |
//! | `netrc` | `.netrc` files (feature `std`): credentials per host |
//! | `keys` | which credentials go to which origin: [`CredentialsProvider`] (per host), [`Client::set_origin_credentials`] |
//! | `userinfo` | a URL's userinfo as credentials, and URLs without it: [`split_userinfo`], [`strip_userinfo`] |
//! | `proxy_env` | forward proxies from the environment: [`ProxyEnv`], [`NoProxy`], [`ProxySetting`] |

mod body_check;
mod call;
mod config;
mod cookies;
mod credentials;
mod io;
mod keys;
#[cfg(feature = "std")]
pub mod netrc;
mod protection_space;
pub mod proxy_env;
mod selection;
mod ticket;
mod turns;
mod userinfo;
mod username;

use alloc::borrow::Cow;
use alloc::boxed::Box;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use rand_core::TryCryptoRng;

pub use crate::header::FieldValue;
pub use body_check::ResponseBodyCheck;
pub use call::Exchange;
pub use config::{ClientConfig, Strict};
pub use cookies::{ChallengeCookies, MAX_COOKIE_BYTES, MAX_COOKIES};
pub use credentials::Credentials;
pub use io::{AuthHeaders, BodySource, Failure, Request, Response};
pub use keys::{CredentialsProvider, MAX_ORIGIN_CREDENTIALS, MAX_PROVIDED};
pub use proxy_env::{
    NoProxy, NoProxyError, ProxyEnv, ProxyEnvError, ProxyEnvErrorKind, ProxySetting, ProxyUrlError,
};
pub use selection::{BasicPolicy, Reviewed, SelectionOrder, Unanswerable, Verdict};
pub use ticket::Ticket;
pub use userinfo::{
    SplitUri, UserinfoError, has_userinfo, parse_userinfo, split_userinfo, strip_userinfo,
};
pub use username::NameForm;

use crate::algorithm::Algorithm;
use crate::digest::{self, QopParams};
use crate::error::FormatError;
use crate::fingerprint::fingerprint;
use crate::header::authentication_info::AuthenticationInfo;
use crate::header::challenge::Domain;
use crate::header::grammar::ParamValue;
use crate::origin::{Origin, OriginRef, Scheme};
use crate::qop::Qop;
use crate::side::{Side, Sides};
use body_check::Expected;
use call::Sent;
use keys::{Keys, SharedProvider};
use protection_space::{
    DigestParams, DigestSpace, DomainEntry, ProtectionSpace, SpaceKind, Spaces,
};
use selection::{Chosen, Policy};
use ticket::{issue, request_ha1, uri_param};
use turns::{Learned, Learning, Opens, Plan, Queue};
use username::{Dialect, NameForms};

/// What to do next with a request: after [`Client::begin`], a response, or a wait.
#[must_use = "the action says whether to send, wait, or hand the response over"]
#[derive(Debug)]
#[allow(
    clippy::large_enum_variant,
    reason = "an action lives on the stack for one response; boxing would cost an allocation per request"
)]
pub enum Action {
    /// Send the request (again) with the credentials of this ticket,
    /// [signed](Ticket::sign) outside the client's lock (its headers replace those of the
    /// previous send).
    Send(Ticket),
    /// The request waits for its turn, sending nothing: a request ahead of it is learning
    /// its protection space, or the space's nonces are taken (see [`Client`],
    /// *Concurrency*). When [`Client::poll_ready`] names this exchange, take it up with
    /// [`Client::resume`]; if that does not happen within
    /// [`max_wait`](ClientConfig::max_wait), with [`Client::give_up_waiting`].
    Wait,
    /// The exchange is over: hand the response to the caller.
    Done,
    /// The exchange is over, but the response is proven only by its body: its
    /// `Authentication-Info` (or `Proxy-Authentication-Info`) answers a `qop=auth-int`
    /// request, and such an `rspauth` covers the response body (RFC 7616 §3.5). Read the
    /// body, feeding it to the check ([`ResponseBodyCheck::update`]), and hand the response
    /// to the caller only if [`ResponseBodyCheck::finish`] is `Ok`; on its failure, fail the
    /// request as for [`Action::Fail`]. A body too long to read whole goes to
    /// [`ResponseBodyCheck::skip`], which says whether the policy lets the response go on
    /// unchecked. The client is done with the exchange either way: the check needs nothing
    /// from it.
    CheckBody(ResponseBodyCheck),
    /// The exchange failed: the response cannot be improved on, for this reason.
    Fail(Failure),
}

/// What the client knows of one side: the credentials for it, where they may go, the
/// protection spaces it has learned, and the origins it is learning.
#[derive(Debug, Clone)]
struct Party {
    /// The credentials per origin (for the proxy side: the proxy's, for the proxy only).
    keys: Keys,
    spaces: Spaces,
    learning: Vec<Learning>,
}

impl Party {
    fn new(keys: Keys, capacity: usize) -> Self {
        Self {
            keys,
            spaces: Spaces::new(capacity),
            learning: Vec::new(),
        }
    }

    /// Whether credentials may go to `origin`: the client's own for their scope, those
    /// registered for it, or those the provider gave for it.
    fn in_scope(&self, origin: OriginRef<'_>) -> bool {
        self.keys.get(origin).is_some()
    }
}

/// The Digest client: protection spaces, credentials and policy, shared by every request.
///
/// It does no I/O. Drive each request through it in this order:
///
/// 1. [`begin`](Self::begin) with the request's metadata. It returns the [`Exchange`] for
///    this request and what to do: [`Action::Send`] with the [`Ticket`] of its first send
///    (credentials already, when the request falls in a protection space the client knows:
///    preemptive authentication), or [`Action::Wait`].
/// 2. On [`Action::Send`], [sign](Ticket::sign) the ticket into the request's headers and
///    send it (again: its headers replace those of the previous send). Hand the response's
///    status and authentication headers to [`handle_response`](Self::handle_response), with
///    the same [`Request`], and act on the action it returns.
/// 3. On [`Action::Wait`], send nothing: wait until [`poll_ready`](Self::poll_ready) names
///    the exchange, then act on what [`resume`](Self::resume) returns; or, after
///    [`ClientConfig::max_wait`], on what [`give_up_waiting`](Self::give_up_waiting) returns.
/// 4. On [`Action::Done`] return the response to the caller; on [`Action::Fail`] return the
///    response or an error built from the [`Failure`]. On [`Action::CheckBody`] (the final
///    response of an `auth-int` exchange, whose `rspauth` covers its body) read the body
///    into the [`ResponseBodyCheck`] first, and return the response only if it passes. A
///    request given up on midway (its send failed, the caller dropped it) is
///    [abandoned](Self::abandon).
///
/// The client bounds the sends: a request is sent at most twice more, whatever the server
/// answers (one answer to a fresh challenge and one to `stale=true` with a new nonce, a
/// proxy answer and an origin answer, two answers to `stale=true` from a server that
/// forgot its record of the client, or a fresh handshake after a 403 to reused
/// credentials). A 401 to credentials that answered a fresh challenge is
/// [`Failure::CredentialsRejected`], never another try.
///
/// Concurrency: put the client behind one lock (`Mutex<Client>`) and share it across
/// requests and threads; hold the lock only for the calls above: they only decide (a nonce
/// count, a cnonce, who goes when), and the hashing happens in [`Ticket::sign`], after the
/// lock is released. Nonce counts then increase strictly per nonce across all requests. The
/// client schedules the requests of a protection space:
///
/// - while one request learns a space (the first to an origin, answering its challenge),
///   the others to that origin wait for it and then go with credentials at once: one
///   challenge for all of them;
/// - a server that checks nonce counts strictly ([`ClientConfig::strict`]: learned by
///   default) gets the requests on one nonce one after another, each waiting for the
///   previous answer; the client holds up to [`ClientConfig::max_lanes`] nonces per space
///   to keep several in flight, as many as the server keeps for it.
///
/// After every call drain [`poll_ready`](Self::poll_ready): the exchanges it names may go
/// on. The `http` feature's `httpdigest::http::DigestClient` does all of this for HTTP
/// clients, waiting blocking or async. A refusal that ordering cannot explain away (the
/// server refused credentials it accepted before, while requests overlapped, and the bound
/// on sends is reached) is [`Failure::OutOfOrder`].
///
/// Scope: credentials go only to the origins of the scope ([`ClientConfig::scope`], by
/// default the origin of the first request). A request to another origin gets no header, and
/// a challenge from it is [`Failure::OutOfScope`].
///
/// ```
/// use httpdigest::client::{Action, Client, ClientConfig, Credentials, Request, Response};
/// use httpdigest::{OriginRef, Scheme, ThreadRng};
///
/// let mut rng = ThreadRng::default();
/// let mut client = Client::new(Credentials::new("Mufasa", "Circle of Life"), ClientConfig::default());
/// let origin = OriginRef { scheme: Scheme::Http, host: "www.example.org", port: 80 };
/// let request = Request::new("GET", "/dir/index.html", origin);
///
/// let (mut exchange, Action::Send(ticket)) = client.begin(&request, &mut rng) else {
///     unreachable!("nothing to wait for");
/// };
/// let headers = ticket.sign(&request)?;
/// assert!(headers.authorization.is_none()); // nothing known yet
///
/// // Another request meanwhile waits for what the first one learns.
/// let (mut second, action) = client.begin(&request, &mut rng);
/// assert!(matches!(action, Action::Wait));
///
/// let challenge: &[u8] = br#"Digest realm="http-auth@example.org", qop="auth", algorithm=SHA-256, nonce="7ypf""#;
/// let response = Response { www_authenticate: &[challenge], ..Response::new(401) };
/// let Action::Send(ticket) = client.handle_response(&mut exchange, &request, &response, &mut rng) else {
///     panic!("expected a retry");
/// };
/// let headers = ticket.sign(&request)?; // with the client's lock released, in real use
/// assert!(headers.authorization.unwrap().text().starts_with("Digest username=\"Mufasa\""));
///
/// let action = client.handle_response(&mut exchange, &request, &Response::new(200), &mut rng);
/// assert!(matches!(action, Action::Done));
///
/// // The second request's turn has come: it goes with credentials at once, nc=00000002.
/// assert_eq!(client.poll_ready(), Some(second.id()));
/// let Action::Send(ticket) = client.resume(&mut second, &request, &mut rng) else {
///     panic!("its turn");
/// };
/// assert!(ticket.sign(&request)?.authorization.unwrap().text().contains("nc=00000002"));
/// # Ok::<(), httpdigest::client::Failure>(())
/// ```
#[derive(Debug, Clone)]
pub struct Client {
    config: ClientConfig,
    /// Per side: the proxy's scope is the proxy the client was built for, if any.
    parties: Sides<Party>,
    /// The hosts that go direct, not through the proxy.
    no_proxy: NoProxy,
    queue: Queue,
    /// The id of the last exchange begun.
    last_exchange: u64,
}

impl Client {
    /// A client that authenticates to origins with `credentials`: the short way to
    /// `Client::builder().credentials(credentials).config(config).build()`.
    pub fn new(credentials: Credentials, config: ClientConfig) -> Self {
        Self::from_parts(
            Keys::new(Some(credentials), Vec::new()),
            None,
            None,
            NoProxy::new(),
            config,
        )
    }

    /// A client that authenticates to origins as `username` with `password`, by the default
    /// policy: the strongest algorithm offered, no Basic, preemptive reuse, credentials only
    /// for the first request's origin, strict servers learned.
    pub fn with_password(username: impl Into<String>, password: impl Into<String>) -> Self {
        Self::new(
            Credentials::new(username, password),
            ClientConfig::default(),
        )
    }

    /// A builder, for a forward proxy and its credentials, and the policy.
    pub fn builder() -> Builder {
        Builder::default()
    }

    fn from_parts(
        mut keys: Keys,
        proxy: Option<Origin>,
        proxy_credentials: Option<Credentials>,
        no_proxy: NoProxy,
        config: ClientConfig,
    ) -> Self {
        let capacity = config.max_protection_spaces;
        keys.scope = config.scope.clone().unwrap_or_default();
        let proxy_scope = proxy.into_iter().collect();
        Self {
            parties: Sides {
                origin: Party::new(keys, capacity),
                proxy: Party::new(Keys::new(proxy_credentials, proxy_scope), capacity),
            },
            no_proxy,
            config,
            queue: Queue::default(),
            last_exchange: 0,
        }
    }

    /// The configuration.
    pub const fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// Says whether the HTTP client under the adapter carries only ASCII in `Authorization`
    /// ([`ClientConfig::ascii_only_authorization`]): for adapters over such a client, before
    /// the first request.
    pub const fn set_ascii_only_authorization(&mut self, ascii_only: bool) {
        self.config.ascii_only_authorization = ascii_only;
    }

    /// The forward proxy the client was built for ([`Builder::proxy`]): what an adapter
    /// names as [`Request::proxy`] for the requests it sends through it.
    pub fn proxy(&self) -> Option<&Origin> {
        self.parties.proxy.keys.scope.first()
    }

    /// The forward proxy a request to `origin` goes through: the client's
    /// [`proxy`](Self::proxy), for plain `http` requests whose host the client's
    /// [`NoProxy`] list does not name. `https` requests reach their origin through a
    /// `CONNECT` tunnel, which the HTTP client opens: `None` for them.
    ///
    /// ```
    /// use httpdigest::client::{Client, Credentials, NoProxy};
    /// use httpdigest::{OriginRef, Scheme};
    ///
    /// let client = Client::builder()
    ///     .credentials(Credentials::new("alice", "s3cret"))
    ///     .proxy("http://127.0.0.1:3128")
    ///     .no_proxy(NoProxy::parse("intranet.example")?)
    ///     .build()?;
    /// let origin = |host| OriginRef { scheme: Scheme::Http, host, port: 80 };
    /// assert_eq!(client.proxy_for(origin("api.example.org")).map(|p| p.port()), Some(3128));
    /// assert!(client.proxy_for(origin("wiki.intranet.example")).is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn proxy_for(&self, origin: OriginRef<'_>) -> Option<&Origin> {
        if origin.scheme != Scheme::Http || self.no_proxy.matches(origin.host, origin.port) {
            return None;
        }
        self.proxy()
    }

    /// The hosts that go direct, not through the proxy ([`Builder::no_proxy`],
    /// [`Builder::proxy_env`]).
    pub const fn no_proxy(&self) -> &NoProxy {
        &self.no_proxy
    }

    /// Whether the credentials may be sent to `origin`: it is in the scope of the client's
    /// own credentials, or has credentials registered
    /// ([`set_origin_credentials`](Self::set_origin_credentials)) or given by the
    /// [`CredentialsProvider`] (once a request to it has begun). Before the first request
    /// with a default scope, no origin is in the scope of the client's own credentials yet.
    pub fn in_scope(&self, origin: OriginRef<'_>) -> bool {
        self.parties.origin.in_scope(origin)
    }

    /// Registers `credentials` for `origin` alone (a URL's userinfo: see
    /// [`split_userinfo`]). They go to no other origin, and they are used only where the
    /// client's own credentials ([`Builder::credentials`]) do not apply: those win for the
    /// origins of their scope, as an explicit `-u` wins over a URL's userinfo in curl (and
    /// `auth=` in requests and httpx). Registered credentials win over what the
    /// [`CredentialsProvider`] gives. Credentials registered anew for an origin replace its
    /// old ones, and what was learned of the origin with the old ones is forgotten. At most
    /// [`MAX_ORIGIN_CREDENTIALS`] origins are kept, the oldest forgotten first.
    ///
    /// ```
    /// use httpdigest::client::{Action, Client, Credentials, Request, Response};
    /// use httpdigest::{Origin, OriginRef, Scheme, ThreadRng};
    ///
    /// let api = Origin::new(Scheme::Https, "api.example.org", 443);
    /// let mut client = Client::builder()
    ///     .credentials(Credentials::new("alice", "a"))
    ///     .configure(|c| c.with_scope([api]))
    ///     .build()?;
    /// let camera = Origin::new(Scheme::Http, "camera.local", 80);
    /// client.set_origin_credentials(camera.clone(), Credentials::new("admin", "s3cret"));
    /// assert!(client.in_scope(OriginRef::of(&camera)));
    ///
    /// let request = Request::new("GET", "/snap", OriginRef::of(&camera));
    /// let mut rng = ThreadRng::default();
    /// let (mut exchange, _) = client.begin(&request, &mut rng);
    /// let challenge: &[u8] = br#"Digest realm="cam", nonce="1", qop="auth""#;
    /// let response = Response { www_authenticate: &[challenge], ..Response::new(401) };
    /// let Action::Send(ticket) = client.handle_response(&mut exchange, &request, &response, &mut rng) else {
    ///     panic!("an answer");
    /// };
    /// let authorization = ticket.sign(&request)?.authorization.unwrap();
    /// assert!(authorization.text().starts_with("Digest username=\"admin\""));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_origin_credentials(&mut self, origin: Origin, credentials: Credentials) {
        let party = &mut self.parties.origin;
        if party.keys.in_single_scope(&origin) {
            party.keys.register(origin, credentials);
            return;
        }
        if party.keys.register(origin.clone(), credentials) {
            party.spaces.forget_origin(&origin);
        }
    }

    /// Starts a request: returns its [`Exchange`] and what to do: [`Action::Send`] with the
    /// [`Ticket`] of its first send, or [`Action::Wait`] (never `Done` or `Fail`).
    ///
    /// With a default scope, the first request's origin becomes the scope.
    #[must_use = "the action says whether to send now, and with what"]
    pub fn begin<R: TryCryptoRng + ?Sized>(
        &mut self,
        request: &Request<'_>,
        rng: &mut R,
    ) -> (Exchange, Action) {
        let origin = &mut self.parties.origin;
        if self.config.scope.is_none()
            && origin.keys.scope.is_empty()
            && origin.keys.single.is_some()
        {
            origin.keys.scope.push(request.origin.to_origin());
        }
        origin.keys.resolve(request.origin);
        self.last_exchange = self.last_exchange.wrapping_add(1);
        let mut exchange = Exchange {
            id: self.last_exchange,
            out_of_scope: origin.keys.any() && !origin.in_scope(request.origin),
            ..Exchange::default()
        };
        let action = self.start(&mut exchange, request, rng, false);
        (exchange, action)
    }

    /// Takes a response to the last send of `exchange` and says what to do next. An exchange
    /// that is over is left as it is ([`Action::Done`]); one that waits sent nothing to
    /// answer ([`Action::Wait`]).
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
        if exchange.waiting {
            return Action::Wait;
        }
        self.parties.origin.keys.resolve(request.origin);
        let id = exchange.id;
        // The sends this response answers: their lanes are free again (a first count came
        // back), and a lane being opened has its challenge, or will not get one.
        let used = Side::BOTH.map(|side| {
            let state = &mut exchange.sides[side];
            if let Some(space) = state.opening.take()
                && let Some(d) = self.parties[side].spaces.digest_mut(space)
            {
                d.release(id);
            }
            let sent = state.sent.as_ref()?;
            let d = self.parties[side].spaces.digest_mut(sent.space)?;
            if let Some(lane) = d.lane_index(sent.lane).and_then(|i| d.lanes.get_mut(i)) {
                lane.answered();
            }
            d.release(id);
            Some((side, sent.space, sent.lane))
        });
        let challenged = Side::from_challenge_status(response.status);
        // A learner whose side let the request through: nothing to learn, the origin (or
        // proxy) is open. A 407 says nothing yet of the origin.
        for side in Side::BOTH {
            let passed = match side {
                Side::Origin => challenged.is_none(),
                Side::Proxy => challenged != Some(Side::Proxy),
            };
            if passed && core::mem::take(&mut exchange.sides[side].learning) {
                self.end_learning(side, id, Learned::Open);
            }
        }
        if challenged.is_some() && self.config.challenge_cookies && !response.set_cookie.is_empty()
        {
            let path = crate::origin::target_path(request.target).unwrap_or(request.target);
            let secure = request.origin.scheme == Scheme::Https;
            exchange
                .cookies
                .take_from(response.set_cookie, request.origin.host, path, secure);
        }
        let action = match challenged {
            Some(side) => self.on_challenge(side, exchange, request, response, rng),
            None if response.status == 403 => self.on_forbidden(exchange, request, response, rng),
            None if response.status == 400 => self.on_bad_request(exchange, request, response, rng),
            None => self.on_final(exchange, request, response),
        };
        if matches!(
            action,
            Action::Done | Action::CheckBody(_) | Action::Fail(_)
        ) {
            self.finish(exchange);
        }
        // A lane beyond the space's bound closes once it is free.
        // A lane beyond the space's bound closes once it is free, a dead one once its last
        // send is back.
        for (side, space, lane) in used.into_iter().flatten() {
            if let Some(d) = self.parties[side].spaces.digest_mut(space)
                && let Some(i) = d.lane_index(lane)
            {
                d.bury(i);
                if d.over_bound()
                    && let Some(i) = d.lane_index(lane)
                {
                    d.trim(i);
                }
            }
        }
        self.schedule();
        action
    }

    /// Gives up on a request before its exchange is over: its send failed, or the caller
    /// dropped it (waiting or not), or its ticket could not be signed. What it held (the
    /// nonce a challenge was answered with, its place in the queue, its role as the request
    /// learning a space) goes to the requests after it, and its sends stop counting as in
    /// flight, so that requests after it neither wait for it nor take a refusal for a race
    /// with it. An exchange that is over already is left as it is.
    pub fn abandon(&mut self, exchange: &mut Exchange) {
        if exchange.finished {
            return;
        }
        for side in Side::BOTH {
            if let Some(sent) = exchange.sides[side].sent.take()
                && let Some(d) = self.parties[side].spaces.digest_mut(sent.space)
            {
                if let Some(i) = d.lane_index(sent.lane) {
                    if let Some(lane) = d.lanes.get_mut(i) {
                        lane.answered();
                    }
                    d.bury(i);
                }
                // The first count it carried.
                d.release(exchange.id);
            }
        }
        self.finish(exchange);
        self.schedule();
    }

    /// Decides and issues the next send of `exchange` from what the client knows: its first
    /// send, or (with `exchange.resend`) the send again of a request refused on that side,
    /// once its wait is over. Returns [`Action::Wait`] when one side must wait.
    fn start<R: TryCryptoRng + ?Sized>(
        &mut self,
        exchange: &mut Exchange,
        request: &Request<'_>,
        rng: &mut R,
        gave_up: bool,
    ) -> Action {
        let resend = exchange.resend;
        let plans = Side::BOTH.map(|side| (side, self.plan(side, exchange, request, gave_up)));
        if let Some((side, on)) = plans.iter().find_map(|(side, p)| match p {
            Plan::Wait(on) => Some((*side, *on)),
            _ => None,
        }) {
            // What was kept for it on the other side goes to the next in line meanwhile.
            self.release_claims(exchange.id);
            self.queue.remove(exchange.id);
            let opens = match resend {
                None => Opens::Always,
                Some(_) if exchange.extra_sends + 2 <= call::MAX_EXTRA_SENDS => Opens::WithoutLanes,
                Some(_) => Opens::Never,
            };
            self.queue
                .push(exchange.id, side, on, opens, exchange.waiting);
            exchange.waiting = true;
            return Action::Wait;
        }
        if core::mem::take(&mut exchange.waiting) {
            self.queue.remove(exchange.id);
        }
        let mut ticket = Ticket::default();
        let prefer_auth_int = self.config.prefer_auth_int;
        for (side, plan) in plans {
            let state = &mut exchange.sides[side];
            state.gave_up_waiting |= gave_up;
            let party = &mut self.parties[side];
            match plan {
                Plan::Nothing | Plan::Wait(_) => {}
                Plan::Lane(space, lane) => {
                    let to = match side {
                        Side::Origin => Some(request.origin),
                        Side::Proxy => request.proxy,
                    };
                    let (Some(credentials), Some(space)) = (
                        to.and_then(|o| party.keys.get(o)),
                        party.spaces.touch(space),
                    ) else {
                        continue;
                    };
                    match issue(space, lane, credentials, request, rng, prefer_auth_int) {
                        Ok((signer, sent)) => {
                            state.sent = Some(sent);
                            ticket.set(side, signer);
                        }
                        // A failure here means no credentials; the exchange records why.
                        Err(f) => exchange.preemptive_failure = Some(f),
                    }
                }
                Plan::Open(space) => {
                    if let Some(d) = party.spaces.digest_mut(space) {
                        d.opening = Some(exchange.id);
                        state.opening = Some(space);
                    }
                }
                Plan::Learn => {
                    let origin = match side {
                        Side::Origin => Some(request.origin),
                        Side::Proxy => request.proxy,
                    };
                    if let Some(origin) = origin {
                        turns::lead(&mut party.learning, origin, exchange.id);
                        state.learning = true;
                    }
                }
            }
        }
        if resend.is_some() {
            exchange.resend = None;
            exchange.extra_sends += 1;
        }
        ticket.cookies.clone_from(&exchange.cookies);
        Action::Send(ticket)
    }

    /// Decides one side of the next send of `exchange` (see [`turns::plan`]).
    fn plan(&self, side: Side, exchange: &Exchange, request: &Request<'_>, gave_up: bool) -> Plan {
        let resend = exchange.resend == Some(side);
        if !self.config.preemptive && !resend {
            return Plan::Nothing;
        }
        let Some(origin) = self.side_origin(side, request) else {
            return Plan::Nothing;
        };
        let party = &self.parties[side];
        if party.keys.get(origin).is_none() {
            return Plan::Nothing;
        }
        // A proxy space covers every request through the proxy.
        let path = match side {
            Side::Origin => crate::origin::target_path(request.target),
            Side::Proxy => None,
        };
        // Opening a lane takes two sends: the one that fetches the challenge, and the answer.
        let resend = resend.then_some(exchange.extra_sends + 2 <= call::MAX_EXTRA_SENDS);
        turns::plan(
            &party.spaces,
            &party.learning,
            origin,
            path,
            exchange.id,
            resend,
            gave_up,
        )
    }

    /// Takes up a waiting exchange that [`poll_ready`](Self::poll_ready) named: its turn has
    /// come. Returns the send to make ([`Action::Send`]), or [`Action::Wait`] again when the
    /// turn was taken meanwhile. An exchange that is not waiting is left as it is
    /// ([`Action::Done`]).
    pub fn resume<R: TryCryptoRng + ?Sized>(
        &mut self,
        exchange: &mut Exchange,
        request: &Request<'_>,
        rng: &mut R,
    ) -> Action {
        self.after_wait(exchange, request, rng, false)
    }

    /// Ends the wait of an exchange whose wait bound ([`ClientConfig::max_wait`]) passed:
    /// the request goes on as if nothing held it (with credentials from a nonce in use, or
    /// without). Never [`Action::Wait`]. An exchange that is not waiting is left as it is
    /// ([`Action::Done`]).
    pub fn give_up_waiting<R: TryCryptoRng + ?Sized>(
        &mut self,
        exchange: &mut Exchange,
        request: &Request<'_>,
        rng: &mut R,
    ) -> Action {
        self.after_wait(exchange, request, rng, true)
    }

    fn after_wait<R: TryCryptoRng + ?Sized>(
        &mut self,
        exchange: &mut Exchange,
        request: &Request<'_>,
        rng: &mut R,
        gave_up: bool,
    ) -> Action {
        if exchange.finished || !exchange.waiting {
            return Action::Done;
        }
        self.parties.origin.keys.resolve(request.origin);
        let action = self.start(exchange, request, rng, gave_up);
        self.schedule();
        action
    }

    /// The next waiting exchange whose turn has come, by its [`Exchange::id`]: take it up with
    /// [`resume`](Self::resume). Drain this after every call that answers or ends a send
    /// (`handle_response`, `abandon`, `resume`, `give_up_waiting`): each may let others go.
    pub fn poll_ready(&mut self) -> Option<u64> {
        self.queue.pop_ready()
    }

    /// Wakes whom the spaces' state lets go.
    fn schedule(&mut self) {
        for side in Side::BOTH {
            self.queue.schedule(side, &mut self.parties[side].spaces);
        }
    }

    /// Ends the role of `leader`, learning on `side`, and moves its waiters on.
    fn end_learning(&mut self, side: Side, leader: u64, learned: Learned) {
        turns::end_learning(
            &mut self.parties[side].learning,
            &mut self.queue,
            side,
            leader,
            learned,
        );
    }

    /// Gives up what `exchange` holds or has kept for it in every space (a lane kept for it,
    /// a first count, a lane it was opening), for the next in line.
    fn release_claims(&mut self, exchange: u64) {
        for side in Side::BOTH {
            self.parties[side].spaces.release(exchange);
        }
    }

    /// Everything an exchange that is over still holds goes to the next in line: its place
    /// in the queue, its claims, its role as a learner.
    fn finish(&mut self, exchange: &mut Exchange) {
        exchange.finished = true;
        exchange.resend = None;
        let id = exchange.id;
        if core::mem::take(&mut exchange.waiting) {
            // A woken waiter may have a lane kept for it, or be named to open one.
            self.queue.remove(id);
            self.release_claims(id);
        }
        for side in Side::BOTH {
            let state = &mut exchange.sides[side];
            if let Some(space) = state.opening.take()
                && let Some(d) = self.parties[side].spaces.digest_mut(space)
            {
                d.release(id);
            }
            if core::mem::take(&mut state.learning) {
                self.end_learning(side, id, Learned::Nothing);
            }
        }
    }

    /// A request refused on `side` (its credentials there are void) goes again with
    /// credentials from the space, now or when its turn comes.
    fn resend<R: TryCryptoRng + ?Sized>(
        &mut self,
        side: Side,
        exchange: &mut Exchange,
        request: &Request<'_>,
        rng: &mut R,
    ) -> Action {
        exchange.resend = Some(side);
        // The send these records are of was answered: the next send makes its own, on both
        // sides (and an exchange abandoned while it waits has nothing in flight to count).
        for side in Side::BOTH {
            exchange.sides[side].sent = None;
        }
        self.start(exchange, request, rng, false)
    }

    /// What the client makes of each challenge of a 401 or 407 to `request`: the one it
    /// answers and why each other one is not answered. For diagnostics; it changes nothing.
    /// Other statuses have no challenges to review. Whether the origin is in scope is not a
    /// matter of challenges: see [`Failure::OutOfScope`].
    ///
    /// ```
    /// use httpdigest::client::{Client, ClientConfig, Credentials, Request, Response, Verdict};
    /// use httpdigest::{OriginRef, Scheme};
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
        let Some(side) = Side::from_challenge_status(response.status) else {
            return Vec::new();
        };
        let scheme = match side {
            Side::Origin => Some(request.origin.scheme),
            Side::Proxy => request.proxy.map(|p| p.scheme),
        };
        let secure = scheme == Some(Scheme::Https);
        let to = match side {
            Side::Origin => Some(request.origin),
            Side::Proxy => request.proxy,
        };
        let keys = &self.parties[side].keys;
        selection::review(
            response.challenges(side),
            self.policy(),
            secure,
            // Before the first request, the client's own credentials have no scope yet.
            to.and_then(|o| keys.get(o)).or(keys.single.as_ref()),
        )
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
            rfc2069: self.config.rfc2069,
        }
    }

    /// The origin a side authenticates to, if in scope.
    fn side_origin<'r>(&self, side: Side, request: &Request<'r>) -> Option<OriginRef<'r>> {
        let origin = match side {
            Side::Origin => Some(request.origin),
            Side::Proxy => request.proxy,
        };
        origin.filter(|o| self.parties[side].in_scope(*o))
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
            // Out of scope of the client's own credentials; none of their own (a provider
            // with nothing for the host) is no credentials.
            let no_credentials = self.parties[side].keys.single.is_none();
            return Action::Fail(match side {
                Side::Proxy if request.proxy.is_none() => Failure::ProxyChallengeWithoutProxy,
                _ if no_credentials => Failure::NoCredentials,
                _ => Failure::OutOfScope,
            });
        };
        let Some(credentials) = self.parties[side].keys.get(origin) else {
            return Action::Fail(Failure::NoCredentials);
        };
        let chosen = match selection::select(
            response.challenges(side),
            self.policy(),
            origin.scheme == Scheme::Https,
            credentials,
        ) {
            Ok(c) => c,
            Err(why) => return Action::Fail(Failure::NoSupportedChallenge(why)),
        };

        // Classify the challenge against what this side sent.
        let retries_left = exchange.may_send_again();
        let state = &exchange.sides[side];
        let (stale, nonce_fp) = match &chosen {
            Chosen::Digest(d) => (d.stale(), fingerprint(&d.nonce().unescaped())),
            Chosen::Basic { .. } => (false, 0),
        };
        // A stale nonce renewed with another opaque: the server forgot its record of the
        // client (Apache's table of clients is small), and the request may answer again,
        // within the bound on sends.
        let forgotten = match (
            &chosen,
            state.sent.as_ref().and_then(|s| s.opaque.as_deref()),
        ) {
            (Chosen::Digest(d), Some(sent)) => d
                .opaque()
                .is_some_and(|o| o.unescaped().as_ref() != sent.as_bytes()),
            _ => false,
        };
        let sent_nonce = state
            .sent
            .as_ref()
            .and_then(|s| s.nonce.as_ref())
            .map(protection_space::Nonce::fingerprint);
        let is_stale_answer = match &state.sent {
            Some(sent) if stale && sent_nonce == Some(nonce_fp) => {
                // The nonce is dead and the server offers no other: retire the space, so the
                // next request goes without credentials and gets a fresh challenge.
                self.parties[side].spaces.retire(sent.space);
                return Action::Fail(Failure::StaleNonceNotRenewed);
            }
            Some(_) if stale => true,
            _ => false,
        };
        let refused = state.sent.as_ref();
        if is_stale_answer && state.answered_stale && !forgotten {
            return Action::Fail(self.refusal(side, refused, Failure::RetriesExhausted, false));
        }
        // Credentials that answered a fresh challenge, refused: the password is wrong, or
        // the server reads the user name in another form. A name outside ASCII goes once
        // more in the space's next form, within the bound; the space stays while it has a
        // form left to try.
        let renaming = !is_stale_answer && state.answered_fresh;
        if renaming {
            let again = !state.renamed && retries_left;
            let another_form = self.rename(side, refused);
            if !(another_form && again) {
                let failure = Failure::CredentialsRejected;
                return Action::Fail(self.refusal(side, refused, failure, another_form));
            }
        }
        if !retries_left {
            return Action::Fail(self.refusal(side, refused, Failure::RetriesExhausted, false));
        }
        // A fresh challenge to credentials the server accepted before, sent while others
        // were in flight on their nonce, and refused although its count was close to the
        // newest one sent (a server that accepts counts in any order within a window refuses
        // only counts far behind): the server checks counts strictly, and the requests
        // overtook each other. From now on they go one after another.
        let out_of_order = !is_stale_answer
            && self.config.strict == Strict::Learned
            && refused.is_some_and(|sent| {
                self.parties[side]
                    .spaces
                    .get(sent.space)
                    .is_some_and(|space| match &space.kind {
                        SpaceKind::Digest(d) => {
                            d.accepted
                                && !d.forbids
                                && d.overlapped(sent.lane, sent.overlapped, sent.lane_sends)
                                && match (&sent.nonce, &sent.digest) {
                                    (Some(nonce), Some(digest)) => {
                                        d.refused_near_newest(sent.lane, nonce, digest.nc.get())
                                    }
                                    _ => false,
                                }
                        }
                        SpaceKind::Basic => false,
                    })
            });

        // Remember the space: later requests use it even if this one cannot be answered.
        let (space, lane) = match self.learn(side, origin, chosen, exchange, is_stale_answer) {
            Ok(s) => s,
            Err(f) => return Action::Fail(f),
        };
        if core::mem::take(&mut exchange.sides[side].learning) {
            self.end_learning(side, exchange.id, Learned::Space(space));
        }
        let prefer_auth_int = self.config.prefer_auth_int;
        let party = &mut self.parties[side];
        let (Some(credentials), Some(space)) =
            (party.keys.get(origin), party.spaces.get_mut(space))
        else {
            return Action::Fail(Failure::NoCredentials);
        };
        if !request.body.is_replayable() {
            let auth_int_only = matches!(
                &space.kind,
                SpaceKind::Digest(DigestSpace { qop: Some(q), .. }) if !q.contains(Qop::Auth)
            );
            return Action::Fail(if auth_int_only {
                Failure::AuthIntNeedsReplayableBody
            } else {
                Failure::BodyNotReplayable
            });
        }
        let state = &mut exchange.sides[side];
        state.renamed |= renaming;
        if is_stale_answer {
            state.answered_stale = true;
        } else {
            state.answered_fresh = true;
        }
        // In an ordered space the answer waits while other requests are in flight on its
        // lane (as they are when the space has just turned ordered).
        if let SpaceKind::Digest(d) = &mut space.kind {
            d.ordered |= out_of_order;
            if d.ordered && d.lanes.get(lane).is_some_and(|l| l.in_flight() > 0) {
                return self.resend(side, exchange, request, rng);
            }
        }
        let (signer, sent) = match issue(space, lane, credentials, request, rng, prefer_auth_int) {
            Ok(v) => v,
            Err(f) => return Action::Fail(f),
        };
        // The answer to a fresh nonce has the lane to itself until its own answer comes
        // back. Not when this request stopped waiting and went on regardless: while requests
        // overlap, each of those would renew the nonce and take the lane in turn, and none
        // would ever use the nonce (the throughput benchmark measured 1.8 HTTP round trips per
        // request, 16 at a time, against a server with a nonce per challenge).
        if let SpaceKind::Digest(d) = &mut space.kind
            && !state.gave_up_waiting
            && let Some(lane) = d.lanes.get_mut(lane)
        {
            lane.first = Some(exchange.id);
        }
        state.sent = Some(sent);
        exchange.extra_sends += 1;

        // The other side keeps its credentials on the new send, with a fresh count on the
        // same nonce; but not the origin's after a redirect: they would follow the request to
        // the other origin.
        let mut ticket = Ticket::default();
        ticket.set(side, signer);
        ticket.cookies.clone_from(&exchange.cookies);
        let other = side.other();
        let previous = exchange.sides[other].sent.take();
        if !(other == Side::Origin && redirected)
            && let Some(previous) = previous
        {
            let to = match other {
                Side::Origin => Some(request.origin),
                Side::Proxy => request.proxy,
            };
            let party = &mut self.parties[other];
            if let (Some(credentials), Some(space)) = (
                to.and_then(|o| party.keys.get(o)),
                party.spaces.get_mut(previous.space),
            ) {
                let lane = match &space.kind {
                    SpaceKind::Digest(d) => d.lane_index(previous.lane),
                    SpaceKind::Basic => Some(0),
                };
                if let Some(lane) = lane
                    && let Ok((signer, sent)) =
                        issue(space, lane, credentials, request, rng, prefer_auth_int)
                {
                    exchange.sides[other].sent = Some(sent);
                    ticket.set(other, signer);
                }
            }
        }
        Action::Send(ticket)
    }

    /// A 403 to the origin's credentials. Some servers (NVRs, cameras) answer so, instead of
    /// 401 with `stale=true`, to a nonce they no longer accept: credentials sent from a known
    /// space get one more try, from another of its nonces or a fresh challenge, within the
    /// bound on sends; a 403 to credentials that answered a challenge is final.
    fn on_forbidden<R: TryCryptoRng + ?Sized>(
        &mut self,
        exchange: &mut Exchange,
        request: &Request<'_>,
        response: &Response<'_>,
        rng: &mut R,
    ) -> Action {
        // A 403 from another origin (a redirect the HTTP client followed on its own) says
        // nothing of our credentials, and sending them again would follow it there too.
        if response.origin.is_some_and(|o| !o.same_as(request.origin)) {
            return Action::Done;
        }
        let side = Side::Origin;
        let may_send_again = exchange.may_send_again();
        let state = &mut exchange.sides[side];
        let Some(sent) = &state.sent else {
            return Action::Done;
        };
        // Credentials that answered a challenge are refused for good, unless the client
        // fetched another challenge of the space since (to open a lane, or by a request that
        // stopped waiting): a server with one nonce per client moved on to that one.
        let answered = state.answered_fresh || state.answered_stale;
        let moved_on_by_us = self.parties[side]
            .spaces
            .get(sent.space)
            .is_some_and(|space| match &space.kind {
                SpaceKind::Digest(d) => d.fetched != sent.fetched,
                SpaceKind::Basic => false,
            });
        if sent.digest.is_none()
            || (answered && !moved_on_by_us)
            || state.forbidden
            || !may_send_again
        {
            return Action::Done;
        }
        state.forbidden = true;
        // The nonce is dead, unless the lane has moved on since (another request's answer
        // brought a fresh challenge for it).
        if let Some(d) = self.parties[side].spaces.digest_mut(sent.space)
            && let Some(i) = d.lane_index(sent.lane)
            && d.lanes.get(i).map(|l| &l.nonce) == sent.nonce.as_ref()
        {
            d.forgot(i);
            d.kill(i);
        }
        self.resend(side, exchange, request, rng)
    }

    /// Stores the chosen challenge as a protection space of `origin`, or as a new nonce of
    /// the space it continues; returns the space's id and the index of the nonce's lane (0
    /// for Basic).
    fn learn(
        &mut self,
        side: Side,
        origin: OriginRef<'_>,
        chosen: Chosen<'_>,
        exchange: &Exchange,
        stale: bool,
    ) -> Result<(u64, usize), Failure> {
        let origin = origin.to_origin();
        let d = match chosen {
            Chosen::Basic { realm } => {
                let space = ProtectionSpace::new(
                    origin,
                    realm.as_ref().into(),
                    Vec::new(),
                    SpaceKind::Basic,
                );
                return Ok((self.parties[side].spaces.upsert(space), 0));
            }
            Chosen::Digest(d) => d,
        };
        // Values are echoed into a header, so they must be text (the parser has refused
        // control characters in them already).
        fn text<'v>(parameter: &'static str, v: ParamValue<'v>) -> Result<Cow<'v, str>, Failure> {
            v.to_str()
                .map_err(|_| Failure::Format(FormatError::NotUtf8 { parameter }))
        }
        let realm = text("realm", d.realm())?;
        let domain = match side {
            Side::Origin => self.domain_entries(&origin, d.domain()),
            Side::Proxy => Vec::new(),
        };
        let params = DigestParams {
            // Selection only passes challenges with a supported algorithm.
            algorithm: d.algorithm().unwrap_or(Algorithm::Md5),
            algorithm_token: d
                .algorithm_param()
                .map(|v| text("algorithm", v).map(|t| t.as_ref().into()))
                .transpose()?,
            // No qop to choose: RFC 2069 form.
            qop: d.qop().filter(|q| !q.is_empty()),
            userhash: d.userhash(),
            charset_utf8: d.charset_is_utf8(),
        };
        let nonce = text("nonce", d.nonce())?;
        let opaque: Option<Arc<str>> = d
            .opaque()
            .map(|v| text("opaque", v).map(|t| t.as_ref().into()))
            .transpose()?;
        let sent = exchange.sides[side].sent.as_ref();
        let spaces = &mut self.parties[side].spaces;
        if let Some(space) = spaces.find_realm(&origin, &realm)
            && let SpaceKind::Digest(ds) = &mut space.kind
            && ds.continues(&params)
        {
            if sent.is_none() {
                // A challenge the client fetched without credentials.
                ds.fetched = ds.fetched.wrapping_add(1);
            }
            // A new nonce for the lane the refused send went on; or, for a request that went
            // without credentials, a new lane of an ordered space, the one lane of a shared one.
            let lane = match sent
                .filter(|s| s.space == space.id)
                .and_then(|s| ds.lane_index(s.lane))
            {
                Some(i) => {
                    let (i, forgotten) = ds.renew(i, &nonce, opaque);
                    if forgotten && stale {
                        ds.forgot(i);
                    }
                    i
                }
                None if !ds.ordered && !ds.lanes.is_empty() => {
                    let i = ds.shared_lane().unwrap_or(0);
                    ds.renew(i, &nonce, opaque).0
                }
                None => ds.add_lane(&nonce, opaque),
            };
            space.domain = domain;
            let id = space.id;
            spaces.revive(id);
            return Ok((id, lane));
        }
        let names = match self.parties[side].keys.get(OriginRef::of(&origin)) {
            Some(credentials) => NameForms::new(
                Dialect {
                    name: credentials.username(),
                    charset_utf8: params.charset_utf8,
                    userhash: params.userhash,
                    ascii_only: side == Side::Origin && self.config.ascii_only_authorization,
                    latin1_password: credentials.latin1_password(),
                },
                self.config.name_form,
            ),
            None => return Err(Failure::NoCredentials),
        };
        let mut ds = DigestSpace::new(
            params,
            names,
            self.config.max_lanes,
            self.config.strict == Strict::Always,
        );
        let lane = ds.add_lane(&nonce, opaque);
        let space =
            ProtectionSpace::new(origin, realm.as_ref().into(), domain, SpaceKind::Digest(ds));
        Ok((self.parties[side].spaces.upsert(space), lane))
    }

    /// Resolves a `domain` list against the challenging origin, keeping only URIs inside the
    /// scope. An absent or empty list (or one with nothing in scope) means the whole origin.
    fn domain_entries(&self, origin: &Origin, domain: Option<Domain<'_>>) -> Vec<DomainEntry> {
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
                // Another origin only where both take the client's own credentials: a space
                // is signed with the credentials of the origin it was learned from.
                let keys = &self.parties.origin.keys;
                Origin::parse_absolute(uri).filter(|(o, _)| {
                    o == origin || (keys.in_single_scope(origin) && keys.in_single_scope(o))
                })
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

    /// A response that is not a challenge: check `rspauth`, adopt `nextnonce`. An `rspauth`
    /// over the response body (`auth-int`) is checked by the adapter as it reads the body:
    /// [`Action::CheckBody`].
    fn on_final(
        &mut self,
        exchange: &mut Exchange,
        request: &Request<'_>,
        response: &Response<'_>,
    ) -> Action {
        let mut over_body = Vec::new();
        for side in Side::BOTH {
            let Some(sent) = exchange.sides[side].sent.take() else {
                continue;
            };
            match self.check_info(side, &sent, response.info(side), request) {
                Ok(Checked::Proven) => {}
                Ok(Checked::OverBody(expected)) => over_body.push(*expected),
                Err(f) => {
                    self.parties[side].spaces.retire(sent.space);
                    return Action::Fail(f);
                }
            }
            // The credentials were accepted (the user name too, unless the answer is a 400).
            if let Some(d) = self.parties[side].spaces.digest_mut(sent.space) {
                d.accept(d.lane_index(sent.lane));
                if let Some(digest) = sent.digest.as_ref().filter(|_| response.status != 400) {
                    d.names.accepted(digest.form);
                }
            }
        }
        if over_body.is_empty() {
            Action::Done
        } else {
            let required = self.config.require_mutual_auth;
            Action::CheckBody(ResponseBodyCheck::new(over_body, required))
        }
    }

    /// Why an exchange ends whose last credentials (`refused`, if it sent any) the server
    /// refused once more than the client answers: a race between requests if the space was
    /// accepted before and another send from its lane overlapped this one (the space stays
    /// in use), else `otherwise` (after `CredentialsRejected` the space is retired, unless
    /// `another_form` of the user name is left for the next request to try).
    fn refusal(
        &mut self,
        side: Side,
        refused: Option<&Sent>,
        otherwise: Failure,
        another_form: bool,
    ) -> Failure {
        let Some(sent) = refused else {
            return otherwise;
        };
        let spaces = &mut self.parties[side].spaces;
        if let Some(d) = spaces.digest_mut(sent.space)
            && d.refusal_was_race(sent.lane, sent.overlapped, sent.lane_sends)
        {
            return Failure::OutOfOrder;
        }
        if otherwise == Failure::CredentialsRejected && !another_form {
            if let Some(d) = spaces.digest_mut(sent.space) {
                d.names.restart();
            }
            spaces.retire(sent.space);
        }
        otherwise
    }

    /// The server refused the user name as `refused` sent it: the space moves on to its next
    /// form of the name (see [`NameForm`]). Whether a form other than the refused one is
    /// left to answer in.
    fn rename(&mut self, side: Side, refused: Option<&Sent>) -> bool {
        let Some((sent, form)) = refused.and_then(|s| Some((s, s.digest.as_ref()?.form))) else {
            return false;
        };
        self.parties[side]
            .spaces
            .digest_mut(sent.space)
            .is_some_and(|d| d.names.refused(form))
    }

    /// A 400 to the origin's credentials: some servers answer so to a user name in a form
    /// they cannot read (`username*`, say). A name outside ASCII goes once more in the
    /// space's next form, within the bound; otherwise the 400 is final.
    fn on_bad_request<R: TryCryptoRng + ?Sized>(
        &mut self,
        exchange: &mut Exchange,
        request: &Request<'_>,
        response: &Response<'_>,
        rng: &mut R,
    ) -> Action {
        let side = Side::Origin;
        let state = &exchange.sides[side];
        // A 400 from another origin (a redirect the HTTP client followed on its own) says
        // nothing of our credentials, and sending them again would follow it there too.
        let redirected = response.origin.is_some_and(|o| !o.same_as(request.origin));
        if !redirected
            && !state.renamed
            && exchange.may_send_again()
            && self.rename(side, state.sent.as_ref())
        {
            exchange.sides[side].renamed = true;
            return self.resend(side, exchange, request, rng);
        }
        self.on_final(exchange, request, response)
    }

    /// Checks `Authentication-Info` against what was sent and adopts its `nextnonce`. What
    /// is missing or unverifiable fails only when the policy requires mutual authentication.
    /// An `rspauth` of `auth-int` covers the response body: what it is checked against
    /// comes back, for the adapter to check over the body ([`ResponseBodyCheck`]); its
    /// `nextnonce` is adopted meanwhile (a forged one costs at most a fresh challenge).
    fn check_info(
        &mut self,
        side: Side,
        sent: &Sent,
        field: Option<&[u8]>,
        request: &Request<'_>,
    ) -> Result<Checked, Failure> {
        let require = self.config.require_mutual_auth && sent.digest.is_some();
        let unproven = |failure| {
            if require {
                Err(failure)
            } else {
                Ok(Checked::Proven)
            }
        };
        let Some(field) = field else {
            return unproven(Failure::MutualAuthMissing);
        };
        // A malformed Authentication-Info proves nothing.
        let Ok(info) = AuthenticationInfo::parse(field) else {
            return unproven(Failure::MutualAuthFailed);
        };
        let learn_order = self.config.strict == Strict::Learned;
        let Some(space) = self.parties[side].spaces.get_mut(sent.space) else {
            return unproven(Failure::MutualAuthMissing);
        };
        let SpaceKind::Digest(digest_space) = &mut space.kind else {
            return Ok(Checked::Proven);
        };
        let mut checked = Checked::Proven;
        match (info.rspauth(), &sent.digest, &sent.nonce) {
            (Some(rspauth), Some(d), Some(nonce)) => {
                let echoed_cnonce = info.cnonce().map(|c| c.unescaped());
                if echoed_cnonce.is_some_and(|c| c.as_ref() != d.cnonce.as_slice())
                    || info.nc().is_some_and(|nc| nc != d.nc)
                {
                    return Err(Failure::MutualAuthFailed);
                }
                // The space's H(A1) is the one the request used while the algorithm and the
                // form of the user name are the same: a space keeps its H(A1) across
                // challenges of one algorithm.
                let space_ha1 = digest_space
                    .signing
                    .as_ref()
                    .filter(|s| s.algorithm == d.algorithm && s.username.form() == d.form)
                    .map(|s| &s.ha1);
                match space_ha1 {
                    // For auth-int, rspauth covers the response body: the adapter checks it
                    // as it reads the body.
                    Some(ha1) if d.qop == Some(Qop::AuthInt) => {
                        let ha1 = request_ha1(d.algorithm, ha1, nonce.as_bytes(), &d.cnonce);
                        checked = Checked::OverBody(Box::new(Expected {
                            side,
                            algorithm: d.algorithm,
                            ha1: ha1.into_owned(),
                            nonce: nonce.shared(),
                            nc: d.nc,
                            cnonce: d.cnonce,
                            uri: uri_param(side, request).into(),
                            rspauth: rspauth.unescaped().into_owned(),
                            body: digest::BodyHash::new(d.algorithm),
                        }));
                    }
                    Some(ha1) => {
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
                            uri_param(side, request).as_bytes(),
                            None,
                        );
                        if !expected.ct_eq(&rspauth.unescaped()) {
                            return Err(Failure::MutualAuthFailed);
                        }
                    }
                    _ => {
                        unproven(Failure::MutualAuthMissing)?;
                    }
                }
            }
            _ => {
                unproven(Failure::MutualAuthMissing)?;
            }
        }
        if let Some(next) = info.nextnonce().and_then(|n| n.to_str().ok())
            && let Some(i) = digest_space.lane_index(sent.lane)
        {
            // A server that hands a new nonce with the answer to a nonce's first count uses
            // each nonce for one request: the next one on the lane waits for it.
            if learn_order
                && !digest_space.forbids
                && sent.digest.as_ref().is_some_and(|d| d.nc.get() == 1)
            {
                digest_space.ordered = true;
            }
            digest_space.next_nonce(i, &next);
        }
        Ok(checked)
    }
}

/// What [`Client::check_info`] made of one side's `Authentication-Info`.
enum Checked {
    /// Proven, or unproven in a way the policy lets pass.
    Proven,
    /// An `rspauth` over the response body (`auth-int`), to be checked as it is read.
    OverBody(Box<Expected>),
}

/// Builds a [`Client`]: origin credentials (the client's own, per origin, or per host from a
/// provider), a forward proxy and its credentials (or those of the environment), the
/// policy. The one way to make a client with a proxy; adapters take the client it builds.
///
/// ```
/// use httpdigest::client::{BuildError, Client, Credentials};
///
/// let client = Client::builder()
///     .proxy("http://127.0.0.1:3128")
///     .proxy_credentials(Credentials::new("alice", "s3cret"))
///     .build()?;
/// assert_eq!(client.proxy().unwrap().port(), 3128);
///
/// assert_eq!(Client::builder().build().unwrap_err(), BuildError::NoCredentials);
/// # Ok::<(), BuildError>(())
/// ```
#[derive(Debug, Clone, Default)]
#[must_use = "a builder does nothing until it is built"]
pub struct Builder {
    credentials: Option<Credentials>,
    origin_credentials: Vec<(Origin, Credentials)>,
    provider: Option<SharedProvider>,
    proxy: Option<String>,
    proxy_credentials: Option<Credentials>,
    proxy_env: Option<ProxyEnv>,
    no_proxy: Option<NoProxy>,
    /// Built without credentials of its own, for those the request URIs' userinfo names.
    userinfo_only: bool,
    config: ClientConfig,
}

impl Builder {
    /// A client whose origin credentials are only those the request URIs' userinfo names
    /// (`http://user:password@host/`, registered for their origin by
    /// [`Client::set_origin_credentials`], as the `http` engine does): it builds without
    /// credentials of its own, and an origin no URI named gets nothing
    /// ([`Failure::NoCredentials`]).
    ///
    /// ```
    /// use httpdigest::client::Client;
    ///
    /// let client = Client::builder().userinfo_only().build()?;
    /// # Ok::<(), httpdigest::client::BuildError>(())
    /// ```
    pub const fn userinfo_only(mut self) -> Self {
        self.userinfo_only = true;
        self
    }

    /// The client's own credentials for origins: a password, or a precomputed H(A1). They
    /// go to the origins of the scope ([`ClientConfig::scope`], by default the first
    /// request's origin), and win there over any other source.
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// Credentials for `origin` alone, as
    /// [`Client::set_origin_credentials`] registers them (a URL's userinfo).
    pub fn origin_credentials(mut self, origin: Origin, credentials: Credentials) -> Self {
        self.origin_credentials.push((origin, credentials));
        self
    }

    /// Credentials per host, from a provider: what it gives for an origin goes to that
    /// origin only, and an origin it has nothing for gets nothing. Asked once per origin
    /// (up to [`MAX_PROVIDED`] answers are kept). The client's own credentials
    /// ([`credentials`](Self::credentials)) and those registered for an origin win over it.
    pub fn credentials_provider(mut self, provider: impl CredentialsProvider + 'static) -> Self {
        self.provider = Some(SharedProvider(Arc::new(provider)));
        self
    }

    /// Credentials per host from a `.netrc` file (feature `std`): its `machine` entries,
    /// not its `default` one (see the [`CredentialsProvider`] implementation of
    /// [`netrc::Netrc`] for why).
    ///
    /// ```
    /// use httpdigest::client::Client;
    /// use httpdigest::client::netrc::Netrc;
    /// use httpdigest::{OriginRef, Scheme};
    ///
    /// let netrc = Netrc::parse("machine pdu.local login admin password s3cret\n")?;
    /// let mut client = Client::builder().netrc(netrc).build()?;
    /// # let _ = &mut client;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "std")]
    pub fn netrc(self, netrc: netrc::Netrc) -> Self {
        self.credentials_provider(netrc)
    }

    /// The forward proxy requests go through, `http://[user:password@]host[:port]`
    /// ([`ProxySetting::parse`]): the userinfo, if any, is the proxy's credentials (unless
    /// [`proxy_credentials`](Self::proxy_credentials) are set). Wins over
    /// [`proxy_env`](Self::proxy_env)'s proxy.
    pub fn proxy(mut self, uri: impl Into<String>) -> Self {
        self.proxy = Some(uri.into());
        self
    }

    /// Credentials for the proxy. They go only to it.
    pub fn proxy_credentials(mut self, credentials: Credentials) -> Self {
        self.proxy_credentials = Some(credentials);
        self
    }

    /// Proxies from the environment ([`ProxyEnv::from_env`]): its `http` proxy and the
    /// credentials in its URL, unless [`proxy`](Self::proxy) is set, and its `no_proxy`
    /// list, unless [`no_proxy`](Self::no_proxy) is set. Its `https` proxy is the HTTP
    /// client's business (a `CONNECT` tunnel), not the core's: adapters read it from the
    /// [`ProxyEnv`] they pass here.
    ///
    /// ```
    /// use httpdigest::client::{Client, Credentials, ProxyEnv, ProxySetting, NoProxy};
    /// use httpdigest::{OriginRef, Scheme};
    ///
    /// let env = ProxyEnv::new(Some(ProxySetting::parse("http://bob:pw@proxy.local:3128")?), None, NoProxy::parse("localhost")?);
    /// let client = Client::builder().credentials(Credentials::new("alice", "s3cret")).proxy_env(env).build()?;
    /// assert_eq!(client.proxy().unwrap().host(), "proxy.local");
    /// let local = OriginRef { scheme: Scheme::Http, host: "localhost", port: 8080 };
    /// assert!(client.proxy_for(local).is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn proxy_env(mut self, env: ProxyEnv) -> Self {
        self.proxy_env = Some(env);
        self
    }

    /// The hosts that go direct, not through the proxy (a `no_proxy` list; a command
    /// line's `--noproxy`). Wins over [`proxy_env`](Self::proxy_env)'s list.
    pub fn no_proxy(mut self, no_proxy: NoProxy) -> Self {
        self.no_proxy = Some(no_proxy);
        self
    }

    /// The policy.
    pub fn config(mut self, config: ClientConfig) -> Self {
        self.config = config;
        self
    }

    /// The policy, changed in place (`.configure(|c| c.with_preemptive(false))`).
    pub fn configure(mut self, change: impl FnOnce(ClientConfig) -> ClientConfig) -> Self {
        self.config = change(self.config);
        self
    }

    /// The client.
    ///
    /// # Errors
    ///
    /// [`BuildError`] when no credentials of any kind are set (the client's own, per
    /// origin, a provider, the proxy's), proxy credentials come without a proxy, or the
    /// proxy is not `http://[user:password@]host[:port]`.
    pub fn build(self) -> Result<Client, BuildError> {
        let env_proxy = self.proxy_env.as_ref().and_then(ProxyEnv::http).cloned();
        let setting = match &self.proxy {
            Some(uri) => Some(ProxySetting::parse(uri).map_err(|_| BuildError::InvalidProxy)?),
            None => env_proxy,
        };
        let (proxy, proxy_credentials) = match setting {
            Some(setting) => {
                let credentials = self
                    .proxy_credentials
                    .or_else(|| setting.credentials().cloned());
                (Some(setting.origin().clone()), credentials)
            }
            None if self.proxy_credentials.is_some() => {
                return Err(BuildError::ProxyCredentialsWithoutProxy);
            }
            None => (None, None),
        };
        if self.credentials.is_none()
            && self.origin_credentials.is_empty()
            && self.provider.is_none()
            && proxy_credentials.is_none()
            && !self.userinfo_only
        {
            return Err(BuildError::NoCredentials);
        }
        let no_proxy = match (self.no_proxy, self.proxy_env) {
            (Some(list), _) => list,
            (None, Some(env)) => env.no_proxy().clone(),
            (None, None) => NoProxy::new(),
        };
        let keys = Keys::new(self.credentials, Vec::new()).with_provider(self.provider);
        let mut client = Client::from_parts(keys, proxy, proxy_credentials, no_proxy, self.config);
        for (origin, credentials) in self.origin_credentials {
            client.set_origin_credentials(origin, credentials);
        }
        Ok(client)
    }
}

/// Why a [`Builder`] could not build.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// No credentials of any kind were given: neither the client's own, nor per origin, nor
    /// a provider, nor the proxy's.
    #[error(
        "no credentials: set origin credentials, a credentials provider, proxy credentials or several"
    )]
    NoCredentials,
    /// Proxy credentials without a proxy.
    #[error("proxy credentials given but no proxy")]
    ProxyCredentialsWithoutProxy,
    /// The proxy is not an `http://[user:password@]host[:port]` URI (it is not repeated
    /// here: it may carry a password).
    #[error("invalid proxy URI: expected http://[user:password@]host[:port]")]
    InvalidProxy,
    /// The environment's proxy variables cannot be used (for builders that read them, as
    /// the adapters' do): which variable and why, never its value.
    #[error("proxy from the environment: {0}")]
    ProxyEnv(ProxyEnvError),
}
