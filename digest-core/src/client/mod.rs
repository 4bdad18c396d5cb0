//! The sans-IO client: request metadata and response headers in, credentials to sign and
//! decisions out. See [`Client`].
//!
//! | module | what |
//! |---|---|
//! | `io` | what goes in and out: [`Request`], [`Response`], [`BodySource`], [`AuthHeaders`], [`Failure`] |
//! | `config` | the policy, [`ClientConfig`] |
//! | `call` | one request across its sends, [`Exchange`] |
//! | `ticket` | what one send carries, [`Ticket`]: decided under the lock, signed outside it |
//! | `protection_space` | what the client remembers of a challenge, and its rules for overlapping requests |
//! | `selection` | which challenge to answer, [`Verdict`] |
//! | `credentials` | the user's secret, [`Credentials`] |
//! | `netrc` | `.netrc` files (feature `std`): credentials per host |

mod call;
mod config;
mod credentials;
mod io;
#[cfg(feature = "std")]
pub mod netrc;
mod protection_space;
mod selection;
mod ticket;

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;

use rand_core::TryCryptoRng;

pub use call::Exchange;
pub use config::ClientConfig;
pub use credentials::Credentials;
pub use io::{AuthHeaders, BodySource, Failure, Request, Response};
pub use selection::{BasicPolicy, Reviewed, SelectionOrder, Unanswerable, Verdict};
pub use ticket::Ticket;

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
use call::Sent;
use protection_space::{DigestSpace, DomainEntry, Nonce, ProtectionSpace, SpaceKind, Spaces};
use selection::{Chosen, Policy};
use ticket::{Signer, issue, request_ha1};

/// What to do after a response.
#[must_use = "the action says whether to send again, and with what"]
#[derive(Debug)]
#[allow(
    clippy::large_enum_variant,
    reason = "an action lives on the stack for one response; boxing would cost an allocation per request"
)]
pub enum Action {
    /// Send the request again with the credentials of this ticket, [signed](Ticket::sign)
    /// outside the client's lock (its headers replace those of the previous send).
    Send(Ticket),
    /// The exchange is over: hand the response to the caller.
    Done,
    /// The exchange failed: the response cannot be improved on, for this reason.
    Fail(Failure),
}

/// What a known protection space gives a request.
#[allow(clippy::large_enum_variant, reason = "as Action")]
enum Known {
    /// Credentials to send.
    Send(Signer, Sent),
    /// A space covers the request, but its nonce is held for another request's answer.
    Held,
    /// No space covers the request (or no credentials go to it).
    Nothing,
}

/// What the client knows of one side: the credentials for it, where they may go, and the
/// protection spaces it has learned.
#[derive(Debug, Clone)]
struct Party {
    credentials: Option<Credentials>,
    /// The origins (the proxy, for the proxy side) the credentials may go to.
    scope: Vec<Origin>,
    spaces: Spaces,
}

impl Party {
    fn new(credentials: Option<Credentials>, scope: Vec<Origin>, capacity: usize) -> Self {
        Self {
            credentials,
            scope,
            spaces: Spaces::new(capacity),
        }
    }

    fn in_scope(&self, origin: OriginRef<'_>) -> bool {
        self.scope.iter().any(|o| origin.is(o))
    }
}

/// The Digest client: protection spaces, credentials and policy, shared by every request.
///
/// It does no I/O. Drive each request through it in this order:
///
/// 1. [`begin`](Self::begin) with the request's metadata. It returns the [`Exchange`] for
///    this request and the [`Ticket`] of its first send: credentials already, when the
///    request falls in a protection space the client knows (preemptive authentication).
/// 2. [Sign](Ticket::sign) the ticket into the request's headers and send it. Hand the
///    response's status and authentication headers to
///    [`handle_response`](Self::handle_response), with the same [`Request`].
/// 3. On [`Action::Send`], sign its ticket, send the request again with those headers (they
///    replace the previous ones) and go to 2. On [`Action::Done`] return the response to the
///    caller; on [`Action::Fail`] return the response or an error built from the
///    [`Failure`].
///
/// The client bounds step 3: a request is sent at most twice more, whatever the server
/// answers (one answer to a fresh challenge and one to `stale=true` with a new nonce, or a
/// proxy answer and an origin answer). A 401 to credentials that answered a fresh challenge
/// is [`Failure::CredentialsRejected`], never another try.
///
/// Concurrency: put the client behind one lock (`Mutex<Client>`) and share it across
/// requests and threads; hold the lock only for `begin` and `handle_response`: they only
/// decide (a nonce count, a cnonce), and the hashing happens in [`Ticket::sign`], after the
/// lock is released. Nonce counts then increase strictly per nonce across all requests. The
/// `http` feature's `httpdigest::http::DigestClient` does all of this for HTTP clients. Servers that
/// check counts strictly may still see them out of order, as concurrent requests overtake
/// each other on the network, and refuse some: such a refusal of credentials the server
/// accepted before is [`Failure::OutOfOrder`], and sending the request again is the remedy.
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
/// let (mut exchange, ticket) = client.begin(&request, &mut rng);
/// let headers = ticket.sign(&request)?;
/// assert!(headers.authorization.is_none()); // nothing known yet
///
/// let challenge: &[u8] = br#"Digest realm="http-auth@example.org", qop="auth", algorithm=SHA-256, nonce="7ypf""#;
/// let response = Response { www_authenticate: &[challenge], ..Response::new(401) };
/// let Action::Send(ticket) = client.handle_response(&mut exchange, &request, &response, &mut rng) else {
///     panic!("expected a retry");
/// };
/// let headers = ticket.sign(&request)?; // with the client's lock released, in real use
/// assert!(headers.authorization.unwrap().starts_with("Digest username=\"Mufasa\""));
///
/// let action = client.handle_response(&mut exchange, &request, &Response::new(200), &mut rng);
/// assert!(matches!(action, Action::Done));
///
/// // The next request to the space goes out with credentials at once, nc=00000002.
/// let (_, ticket) = client.begin(&request, &mut rng);
/// assert!(ticket.sign(&request)?.authorization.unwrap().contains("nc=00000002"));
/// # Ok::<(), httpdigest::client::Failure>(())
/// ```
#[derive(Debug, Clone)]
pub struct Client {
    config: ClientConfig,
    /// Per side: the proxy's scope is the proxy the client was built for, if any.
    parties: Sides<Party>,
}

impl Client {
    /// A client that authenticates to origins with `credentials`: the short way to
    /// `Client::builder().credentials(credentials).config(config).build()`.
    pub fn new(credentials: Credentials, config: ClientConfig) -> Self {
        Self::from_parts(Some(credentials), None, None, config)
    }

    /// A client that authenticates to origins as `username` with `password`, by the default
    /// policy: the strongest algorithm offered, no Basic, preemptive reuse, credentials only
    /// for the first request's origin.
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
        credentials: Option<Credentials>,
        proxy: Option<Origin>,
        proxy_credentials: Option<Credentials>,
        config: ClientConfig,
    ) -> Self {
        let capacity = config.max_protection_spaces;
        let origin_scope = config.scope.clone().unwrap_or_default();
        let proxy_scope = proxy.into_iter().collect();
        Self {
            parties: Sides {
                origin: Party::new(credentials, origin_scope, capacity),
                proxy: Party::new(proxy_credentials, proxy_scope, capacity),
            },
            config,
        }
    }

    /// The configuration.
    pub const fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The forward proxy the client was built for ([`Builder::proxy`]): what an adapter
    /// names as [`Request::proxy`] for the requests it sends through it.
    pub fn proxy(&self) -> Option<&Origin> {
        self.parties.proxy.scope.first()
    }

    /// Whether the credentials may be sent to `origin`. Before the first request with a
    /// default scope, no origin is in scope yet.
    pub fn in_scope(&self, origin: OriginRef<'_>) -> bool {
        self.parties.origin.in_scope(origin)
    }

    /// Starts a request: returns its [`Exchange`] and the [`Ticket`] of its first send.
    ///
    /// With a default scope, the first request's origin becomes the scope.
    #[must_use = "the ticket holds the credentials of the first send"]
    pub fn begin<R: TryCryptoRng + ?Sized>(
        &mut self,
        request: &Request<'_>,
        rng: &mut R,
    ) -> (Exchange, Ticket) {
        let origin = &mut self.parties.origin;
        if self.config.scope.is_none() && origin.scope.is_empty() && origin.credentials.is_some() {
            origin.scope.push(request.origin.to_origin());
        }
        let mut exchange = Exchange {
            out_of_scope: origin.credentials.is_some() && !origin.in_scope(request.origin),
            ..Exchange::default()
        };
        let mut ticket = Ticket::default();
        if self.config.preemptive {
            for side in Side::BOTH {
                // A failure here means no preemptive credentials; the exchange records why.
                match self.authorize_known(side, request, None, rng) {
                    Ok(Known::Send(signer, sent)) => {
                        exchange.sides[side].sent = Some(sent);
                        ticket.set(side, signer);
                    }
                    Ok(Known::Held) => exchange.sides[side].waited_on_hold = true,
                    Ok(Known::Nothing) => {}
                    Err(f) => exchange.preemptive_failure = Some(f),
                }
            }
        }
        (exchange, ticket)
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
        let used = Side::BOTH.map(|side| {
            exchange.sides[side]
                .sent
                .as_ref()
                .map(|sent| (side, sent.space, sent.nonce))
        });
        for (side, space, _) in used.iter().flatten() {
            if let Some(d) = self.parties[*side].spaces.digest_mut(*space) {
                d.answered();
            }
        }
        let action = match Side::from_challenge_status(response.status) {
            Some(side) => self.on_challenge(side, exchange, request, response, rng),
            None => self.on_final(exchange, request, response),
        };
        if !matches!(action, Action::Send(_)) {
            exchange.finished = true;
        }
        for (side, space, nonce) in used.into_iter().flatten() {
            let still_used = matches!(&action, Action::Send(_))
                && exchange.sides[side].sent.as_ref().map(|s| s.nonce) == Some(nonce);
            if !still_used && let Some(d) = self.parties[side].spaces.digest_mut(space) {
                d.release(nonce);
            }
        }
        action
    }

    /// Gives up on a request before its exchange is over: its send failed, or the caller
    /// dropped it, or its ticket could not be signed. What its sends still held (the nonce
    /// a challenge was answered with) is released, and its sends stop counting as in
    /// flight, so that requests after it neither wait for it nor take a refusal for a race
    /// with it. An exchange that is over already is left as it is.
    pub fn abandon(&mut self, exchange: &mut Exchange) {
        if exchange.finished {
            return;
        }
        exchange.finished = true;
        for side in Side::BOTH {
            if let Some(sent) = exchange.sides[side].sent.take()
                && let Some(d) = self.parties[side].spaces.digest_mut(sent.space)
            {
                d.answered();
                d.release(sent.nonce);
            }
        }
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
        selection::review(
            response.challenges(side),
            self.policy(),
            secure,
            self.parties[side].credentials.as_ref(),
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

    /// Credentials from the space covering the request, if one is known.
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
        let party = &mut self.parties[side];
        let Some(credentials) = &party.credentials else {
            return Ok(Known::Nothing);
        };
        // A proxy space covers every request through the proxy.
        let path = match side {
            Side::Origin => crate::origin::target_path(request.target),
            Side::Proxy => None,
        };
        let Some(space) = party
            .spaces
            .find(origin.scheme, origin.host, origin.port, path)
        else {
            return Ok(Known::Nothing);
        };
        if matches!(&space.kind, SpaceKind::Digest(d) if d.held_for_other(own_hold)) {
            return Ok(Known::Held);
        }
        let (signer, sent) = issue(space, credentials, request, rng, prefer_auth_int)?;
        Ok(Known::Send(signer, sent))
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
            let no_credentials = self.parties[side].credentials.is_none();
            return Action::Fail(match side {
                Side::Proxy if request.proxy.is_none() => Failure::ProxyChallengeWithoutProxy,
                _ if no_credentials => Failure::NoCredentials,
                _ => Failure::OutOfScope,
            });
        };
        let Some(credentials) = self.parties[side].credentials.as_ref() else {
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
        let is_stale_answer = match &state.sent {
            Some(sent) if stale && sent.nonce == nonce_fp => {
                // The nonce is dead and the server offers no other: retire the space, so the
                // next request goes without credentials and gets a fresh challenge.
                self.parties[side].spaces.retire(sent.space);
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
        let prefer_auth_int = self.config.prefer_auth_int;
        let party = &mut self.parties[side];
        let (Some(credentials), Some(space)) = (&party.credentials, party.spaces.get_mut(space))
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
        let (signer, sent) = match issue(space, credentials, request, rng, prefer_auth_int) {
            Ok(v) => v,
            Err(f) => return Action::Fail(f),
        };
        // The answer to a fresh nonce holds it until its own answer comes back. Not when this
        // request went without credentials because another one held the space's nonce:
        // while requests overlap, each of those would renew the nonce and the hold in turn,
        // and none would ever use the nonce (the throughput benchmark measured 1.8 HTTP
        // round trips per request, 16 at a time, against a server with a nonce per challenge).
        let state = &mut exchange.sides[side];
        if let SpaceKind::Digest(d) = &mut space.kind
            && !state.waited_on_hold
        {
            d.hold(sent.nonce);
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
        let mut ticket = Ticket::default();
        ticket.set(side, signer);
        let other = side.other();
        if other == Side::Origin && redirected {
            exchange.sides.origin.sent = None;
        } else {
            let own_hold = exchange.sides[other].sent.as_ref().map(|s| s.nonce);
            if let Ok(Known::Send(signer, sent)) =
                self.authorize_known(other, request, own_hold, rng)
            {
                exchange.sides[other].sent = Some(sent);
                ticket.set(other, signer);
            }
        }
        Action::Send(ticket)
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
                ProtectionSpace::new(origin, realm.as_ref().into(), Vec::new(), SpaceKind::Basic)
            }
            Chosen::Digest(d) => {
                // Values are echoed into a header, so they must be text (the parser has
                // refused control characters in them already).
                fn text<'v>(
                    parameter: &'static str,
                    v: ParamValue<'v>,
                ) -> Result<Cow<'v, str>, Failure> {
                    v.to_str()
                        .map_err(|_| Failure::Format(FormatError::NotUtf8 { parameter }))
                }
                let realm = text("realm", d.realm())?;
                let domain = match side {
                    Side::Origin => self.domain_entries(&origin, d.domain()),
                    Side::Proxy => Vec::new(),
                };
                let algorithm_token = d
                    .algorithm_param()
                    .map(|v| text("algorithm", v).map(|t| t.as_ref().into()))
                    .transpose()?;
                let digest = DigestSpace {
                    // Selection only passes challenges with a supported algorithm.
                    algorithm: d.algorithm().unwrap_or(Algorithm::Md5),
                    algorithm_token,
                    nonce: Nonce::new(&text("nonce", d.nonce())?),
                    previous_nonce: None,
                    opaque: d
                        .opaque()
                        .map(|v| text("opaque", v).map(|t| t.as_ref().into()))
                        .transpose()?,
                    qop: d.qop(),
                    userhash: d.userhash(),
                    charset_utf8: d.charset_is_utf8(),
                    nc: 0,
                    history: Vec::new(),
                    held: None,
                    accepted: false,
                    sends: 0,
                    answers: 0,
                    signing: None,
                };
                ProtectionSpace::new(
                    origin,
                    realm.as_ref().into(),
                    domain,
                    SpaceKind::Digest(digest),
                )
            }
        };
        Ok(self.parties[side].spaces.upsert(space))
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
                Origin::parse_absolute(uri).filter(|(o, _)| self.parties.origin.scope.contains(o))
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
        for side in Side::BOTH {
            let Some(sent) = exchange.sides[side].sent.take() else {
                continue;
            };
            if let Err(f) = self.check_info(side, &sent, response.info(side), request) {
                self.parties[side].spaces.retire(sent.space);
                return Action::Fail(f);
            }
            // The credentials were accepted.
            if let Some(d) = self.parties[side].spaces.digest_mut(sent.space) {
                d.accept();
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
        let spaces = &mut self.parties[side].spaces;
        if let Some(d) = spaces.digest_mut(sent.space)
            && d.refusal_was_race(sent.overlapped, sent.space_sends)
        {
            return Failure::OutOfOrder;
        }
        if otherwise == Failure::CredentialsRejected {
            spaces.retire(sent.space);
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
        let Some(space) = self.parties[side].spaces.get_mut(sent.space) else {
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
                    .signing
                    .as_ref()
                    .filter(|s| s.algorithm == d.algorithm)
                    .map(|s| &s.ha1);
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
            digest_space.set_nonce(&next);
        }
        Ok(())
    }
}

/// Builds a [`Client`]: origin credentials, a forward proxy and its credentials, the policy.
/// The one way to make a client with a proxy; adapters take the client it builds.
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
    proxy: Option<String>,
    proxy_credentials: Option<Credentials>,
    config: ClientConfig,
}

impl Builder {
    /// Credentials for origins: a password, or a precomputed H(A1).
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// The forward proxy requests go through, `http://host[:port]` ([`Origin::parse_proxy`]).
    pub fn proxy(mut self, uri: impl Into<String>) -> Self {
        self.proxy = Some(uri.into());
        self
    }

    /// Credentials for the proxy. They go only to it.
    pub fn proxy_credentials(mut self, credentials: Credentials) -> Self {
        self.proxy_credentials = Some(credentials);
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
    /// [`BuildError`] when no credentials are set, proxy credentials come without a proxy,
    /// or the proxy is not `http://host[:port]`.
    pub fn build(self) -> Result<Client, BuildError> {
        let proxy = match &self.proxy {
            Some(uri) => Some(Origin::parse_proxy(uri).ok_or(BuildError::InvalidProxy)?),
            None if self.proxy_credentials.is_some() => {
                return Err(BuildError::ProxyCredentialsWithoutProxy);
            }
            None => None,
        };
        if self.credentials.is_none() && self.proxy_credentials.is_none() {
            return Err(BuildError::NoCredentials);
        }
        Ok(Client::from_parts(
            self.credentials,
            proxy,
            self.proxy_credentials,
            self.config,
        ))
    }
}

/// Why a [`Builder`] could not build.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// Neither origin nor proxy credentials were given.
    #[error("no credentials: set origin credentials, proxy credentials or both")]
    NoCredentials,
    /// Proxy credentials without a proxy.
    #[error("proxy credentials given but no proxy")]
    ProxyCredentialsWithoutProxy,
    /// The proxy is not an `http://host[:port]` URI (it is not repeated here: it may carry
    /// a password).
    #[error("invalid proxy URI: expected http://host[:port]")]
    InvalidProxy,
}
