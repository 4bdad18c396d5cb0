//! A deterministic pair, after quinn-proto's test `Pair`: the crate's real [`Client`] against
//! its real [`Verifier`], with the clock and both random number generators in the test's
//! hands. It is the one place where a request goes from [`Client::begin`] through the
//! verifier and [`Client::handle_response`] until the client is done, so a change of that
//! API is followed here and nowhere else.
//!
//! - [`Pair::get`] and [`Pair::request`] run one request to its end;
//! - [`Pair::begin`] starts one, [`Pair::step`] carries it through one exchange, and
//!   [`Pair::serve`] and [`Pair::deliver`] through each half of one: for tests that keep
//!   several requests in flight, reaching the server in one order and their answers coming
//!   back in another;
//! - [`Pair::verify`] hands the verifier a request the client did not make (a replay).
//!
//! The server answers a verified request with 200 and `Authentication-Info`, a 401
//! rejection with [`Verifier::challenges`] (`stale` as the rejection says), any other
//! rejection with its status and nothing else. It is always given the request's body.
#![allow(clippy::expect_used, clippy::panic)]

use httpdigest::client::{
    Action, AuthHeaders, BodySource, Client, Exchange, Failure, FieldValue, Request, Response,
};
use httpdigest::{OriginRef, Scheme};

/// The client's word on a request, with each ticket signed as an adapter signs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Next {
    /// Send (again) with these headers.
    Send(AuthHeaders),
    /// Wait for the request's turn ([`Pair::resume`] once [`Pair::ready`] names it).
    Wait,
    /// The request is over.
    Done,
    /// The request failed.
    Fail(Failure),
}

/// What an adapter does with the client's action: signs the ticket of a send, checks an
/// `rspauth` over the response body.
fn signed(action: Action, request: &Request<'_>) -> Next {
    match action {
        Action::Send(ticket) => ticket.sign(request).map_or_else(Next::Fail, Next::Send),
        Action::Wait => Next::Wait,
        Action::Done => Next::Done,
        // The server's responses have no body: an `rspauth` of auth-int covers the empty one.
        Action::CheckBody(check) => check.check(b"").map_or_else(Next::Fail, |()| Next::Done),
        Action::Fail(f) => Next::Fail(f),
    }
}
use httpdigest::server::{
    Authenticated, CredentialStore, MemoryNonceCounts, NonceCountStore, Rejection, ServerRequest,
    Users, Verifier,
};

use super::TestRng;

/// How many times a request may go out: once, and twice more at most (the client's own
/// limit, `Failure::RetriesExhausted`). One more send means the client loops.
pub(crate) const MAX_SENDS: usize = 3;

/// The server's clock when a pair starts, in seconds.
pub(crate) const START: u64 = 1_700_000_000;

/// The client and the server, and what they share: the clock and the origin.
pub(crate) struct Pair<C = Users, N = MemoryNonceCounts> {
    pub(crate) client: Client,
    pub(crate) verifier: Verifier,
    /// The server's users.
    pub(crate) users: C,
    /// The server's nonce counts.
    pub(crate) counts: N,
    /// The server's clock, in seconds ([`START`] unless set).
    pub(crate) now: u64,
    /// The client's generator (cnonces).
    pub(crate) rng: TestRng,
    /// The server's generator (nonce salts).
    pub(crate) server_rng: TestRng,
    /// The origin every request goes to.
    pub(crate) origin: OriginRef<'static>,
}

/// One request through a [`Pair`]: what was sent and answered on each exchange, and where
/// it stands.
#[derive(Debug)]
pub(crate) struct Call {
    method: String,
    target: String,
    body: Vec<u8>,
    exchange: Exchange,
    /// The server's answer to the last send, not yet handed to the client.
    answer: Option<Answer>,
    /// The headers of each send, in order; the last is on its way to the server while
    /// [`action`](Self::action) is `Send` and no answer is pending.
    pub(crate) sends: Vec<AuthHeaders>,
    /// The verifier's verdict on each send that reached it.
    pub(crate) verdicts: Vec<Result<Authenticated, Rejection>>,
    /// The status answered to each send that reached the server.
    pub(crate) statuses: Vec<u16>,
    /// The client's last word: `Send` (from `begin` on) while the request is in flight,
    /// then `Done` or `Fail`.
    pub(crate) action: Next,
}

/// A response on its way back to the client.
#[derive(Debug)]
struct Answer {
    status: u16,
    www_authenticate: Vec<String>,
    authentication_info: Option<String>,
}

/// Nonce counts for 1000 nonces of `verifier`'s lifetime: room for any test.
pub(crate) fn counts_for(verifier: &Verifier) -> MemoryNonceCounts {
    MemoryNonceCounts::new(1000, verifier.config().nonce_lifetime)
}

impl<C: CredentialStore, N: NonceCountStore> Pair<C, N> {
    /// `client` against `verifier` with these stores (see [`counts_for`]), at [`START`],
    /// generators seeded 1 (client) and `0x5eed` (server), all requests to
    /// `http://www.example.org`.
    pub(crate) fn new(client: Client, verifier: Verifier, users: C, counts: N) -> Self {
        Self {
            client,
            verifier,
            users,
            counts,
            now: START,
            rng: TestRng::new(1),
            server_rng: TestRng::new(0x5eed),
            origin: OriginRef {
                scheme: Scheme::Http,
                host: "www.example.org",
                port: 80,
            },
        }
    }

    /// Moves the server's clock on by `seconds`.
    pub(crate) fn advance(&mut self, seconds: u64) {
        self.now += seconds;
    }

    /// A `GET` of `target` with no body, run to its end.
    pub(crate) fn get(&mut self, target: &str) -> Call {
        self.request("GET", target, b"")
    }

    /// A request run to its end: [`begin`](Self::begin), then [`drive`](Self::drive).
    pub(crate) fn request(&mut self, method: &str, target: &str, body: &[u8]) -> Call {
        let mut call = self.begin(method, target, body);
        self.drive(&mut call);
        call
    }

    /// The client begins a request; its first send is on its way to the server, or it
    /// waits for its turn.
    pub(crate) fn begin(&mut self, method: &str, target: &str, body: &[u8]) -> Call {
        let mut call = Call {
            method: method.to_owned(),
            target: target.to_owned(),
            body: body.to_vec(),
            exchange: Exchange::default(),
            answer: None,
            sends: Vec::new(),
            verdicts: Vec::new(),
            statuses: Vec::new(),
            action: Next::Done,
        };
        let request = request(&call.method, &call.target, &call.body, self.origin);
        let (exchange, action) = self.client.begin(&request, &mut self.rng);
        let next = signed(action, &request);
        call.exchange = exchange;
        call.record(next);
        assert!(
            !matches!(call.action, Next::Done | Next::Fail(_)),
            "begin only sends or waits: {call:#?}"
        );
        call
    }

    /// The ids of the waiting exchanges whose turn has come ([`Client::poll_ready`]).
    pub(crate) fn ready(&mut self) -> Vec<u64> {
        core::iter::from_fn(|| self.client.poll_ready()).collect()
    }

    /// Takes up a waiting `call` ([`Client::resume`]): it sends, or waits again.
    pub(crate) fn resume<'c>(&mut self, call: &'c mut Call) -> &'c Next {
        let request = request(&call.method, &call.target, &call.body, self.origin);
        let action = self
            .client
            .resume(&mut call.exchange, &request, &mut self.rng);
        let next = signed(action, &request);
        call.record(next);
        &call.action
    }

    /// Ends the wait of `call` at its bound ([`Client::give_up_waiting`]).
    pub(crate) fn give_up<'c>(&mut self, call: &'c mut Call) -> &'c Next {
        let request = request(&call.method, &call.target, &call.body, self.origin);
        let action = self
            .client
            .give_up_waiting(&mut call.exchange, &request, &mut self.rng);
        let next = signed(action, &request);
        call.record(next);
        &call.action
    }

    /// The client abandons `call` ([`Client::abandon`]).
    pub(crate) fn abandon(&mut self, call: &mut Call) {
        self.client.abandon(&mut call.exchange);
    }

    /// Sends and answers until the client is done with `call` (`Done` or `Fail`).
    ///
    /// # Panics
    ///
    /// When the request would go out more than [`MAX_SENDS`] times: the client loops.
    pub(crate) fn drive(&mut self, call: &mut Call) {
        while call.in_flight() {
            assert!(
                call.action != Next::Wait,
                "a request run alone waits for nothing: {call:#?}"
            );
            self.step(call);
        }
    }

    /// One exchange: [`serve`](Self::serve), then [`deliver`](Self::deliver).
    pub(crate) fn step<'c>(&mut self, call: &'c mut Call) -> &'c Next {
        self.serve(call);
        self.deliver(call)
    }

    /// The last send of `call` reaches the server, which verifies it and answers; the
    /// answer waits in `call` for [`deliver`](Self::deliver).
    ///
    /// # Panics
    ///
    /// When `call` has nothing on its way to the server (finished, or its answer not yet
    /// handed to the client), or when this send is one more than [`MAX_SENDS`].
    pub(crate) fn serve(&mut self, call: &mut Call) {
        assert!(
            call.in_flight() && call.answer.is_none(),
            "nothing of this request is on its way to the server: {call:#?}"
        );
        assert!(
            call.verdicts.len() < MAX_SENDS,
            "the client sent the request more than {MAX_SENDS} times: it loops: {call:#?}"
        );
        let headers = call
            .sends
            .last()
            .expect("a call in flight has sent something");
        let request = ServerRequest {
            method: &call.method,
            target: &call.target,
            authority: None,
            authorization: headers.authorization.as_ref().map(FieldValue::as_bytes),
            body: Some(&call.body),
        };
        let verdict = self.verifier.verify(
            &request,
            self.now,
            &self.users,
            &self.counts,
            &mut self.server_rng,
        );
        let answer = match &verdict {
            Ok(ok) => Answer {
                status: 200,
                www_authenticate: Vec::new(),
                authentication_info: Some(ok.authentication_info.clone()),
            },
            Err(r) if r.status() == 401 => Answer {
                status: 401,
                www_authenticate: self
                    .verifier
                    .challenges(self.now, r.stale(), &mut self.server_rng)
                    .expect("the test generator never fails"),
                authentication_info: None,
            },
            Err(r) => Answer {
                status: r.status(),
                www_authenticate: Vec::new(),
                authentication_info: None,
            },
        };
        call.statuses.push(answer.status);
        call.verdicts.push(verdict);
        call.answer = Some(answer);
    }

    /// The server's answer to the last send of `call` reaches the client, which says what
    /// comes next (a `Send` is on its way to the server at once).
    ///
    /// # Panics
    ///
    /// When no answer is waiting in `call`.
    pub(crate) fn deliver<'c>(&mut self, call: &'c mut Call) -> &'c Next {
        let Some(answer) = call.answer.take() else {
            panic!("no answer of the server is on its way to the client: {call:#?}");
        };
        let www: Vec<&[u8]> = answer
            .www_authenticate
            .iter()
            .map(String::as_bytes)
            .collect();
        let response = Response {
            www_authenticate: &www,
            authentication_info: answer.authentication_info.as_deref().map(str::as_bytes),
            ..Response::new(answer.status)
        };
        let request = request(&call.method, &call.target, &call.body, self.origin);
        let action =
            self.client
                .handle_response(&mut call.exchange, &request, &response, &mut self.rng);
        let next = signed(action, &request);
        call.record(next);
        &call.action
    }

    /// The verifier's verdict on a request the client did not make (a replay, a hand-made
    /// header), with the pair's stores and clock; nothing goes to the client.
    pub(crate) fn verify(
        &mut self,
        method: &str,
        target: &str,
        authorization: Option<&str>,
        body: Option<&[u8]>,
    ) -> Result<Authenticated, Rejection> {
        let request = ServerRequest {
            method,
            target,
            authority: None,
            authorization: authorization.map(str::as_bytes),
            body,
        };
        self.verifier.verify(
            &request,
            self.now,
            &self.users,
            &self.counts,
            &mut self.server_rng,
        )
    }
}

/// What the client is told of a request, on each of its sends.
fn request<'a>(
    method: &'a str,
    target: &'a str,
    body: &'a [u8],
    origin: OriginRef<'a>,
) -> Request<'a> {
    Request {
        body: BodySource::Bytes(body),
        ..Request::new(method, target, origin)
    }
}

impl Call {
    /// Records the client's word on the request (a send's headers among its sends).
    fn record(&mut self, next: Next) {
        if let Next::Send(headers) = &next {
            self.sends.push(headers.clone());
        }
        self.action = next;
    }

    /// Whether the client still has something to do with this request (send it, or let it
    /// wait).
    pub(crate) fn in_flight(&self) -> bool {
        matches!(self.action, Next::Send(_) | Next::Wait)
    }

    /// The exchange's id, as [`Pair::ready`] names it.
    pub(crate) fn id(&self) -> u64 {
        self.exchange.id()
    }

    /// How many times the request reached the server.
    pub(crate) fn exchanges(&self) -> usize {
        self.verdicts.len()
    }

    /// The status of the last answer (panics before the first).
    pub(crate) fn status(&self) -> u16 {
        *self
            .statuses
            .last()
            .expect("the request never reached the server")
    }

    /// Why the client gave up, if it did.
    pub(crate) fn failure(&self) -> Option<&Failure> {
        match &self.action {
            Next::Fail(f) => Some(f),
            _ => None,
        }
    }

    /// What the verifier made of the last send (panics unless it was accepted).
    pub(crate) fn authenticated(&self) -> &Authenticated {
        match self.verdicts.last() {
            Some(Ok(ok)) => ok,
            other => panic!("the last send was not accepted: {other:?}"),
        }
    }

    /// Asserts that the client is done after `sends` exchanges, the last one accepted.
    #[track_caller]
    pub(crate) fn assert_done(&self, sends: usize) {
        assert_eq!(self.action, Next::Done, "{self:#?}");
        assert_eq!(self.verdicts.len(), sends, "{self:#?}");
        assert!(matches!(self.verdicts.last(), Some(Ok(_))), "{self:#?}");
    }
}
