//! The client state machine fed any sequence of requests and responses, interleaved across
//! up to eight open exchanges.
//!
//! Input: lines, one operation each (see `httpdigest_fuzz::Ops`); digits pick among choices.
//!
//! | line | operation |
//! |---|---|
//! | `c` + 14 digits | configuration, before the first request: preemptive off, mutual auth required, auth-int preferred, server order, explicit scope, Basic policy, minimum algorithm, protection-space capacity, origin credentials (password, H(A1), none), proxy credentials (yes, no), strict servers (learned, always, never), lanes per space (1 to 4), the user name and its form (ASCII; non-ASCII by dialect, over an ASCII-only transport, or fixed to each form), RFC 2069 answers refused, credentials per host (none; a provider's for host `b.test`; registered for `http://b.test`) |
//! | `b` + origin, proxy, method, body digits, then the target | begin a request |
//! | `w` / `p` + value | a `WWW-Authenticate` / `Proxy-Authenticate` field for the next response |
//! | `i` / `j` + value | its `Authentication-Info` / `Proxy-Authentication-Info` |
//! | `k` + value | a `Set-Cookie` field for it |
//! | `o` + digit | the origin that answered it (a redirect followed below the client) |
//! | `r` + exchange, status digits, or a status number after them | deliver it |
//! | `v` + exchange | review the pending response (diagnostics) |
//! | `q` | take up the waiting exchanges whose turn has come (`poll_ready`, `resume`) |
//! | `g` + exchange | a waiting exchange's wait bound passes (`give_up_waiting`) |
//! | `a` + exchange | the exchange is abandoned (its send failed, its caller went away) |
//! | `x` | the random number generator starts or stops failing |
//!
//! What must hold, whatever the server sends:
//! - no request is sent more than twice more ([`Exchange::extra_sends`] agrees);
//! - `Authorization` only to origins in the scope, or with credentials of their own (a
//!   provider's for their host, registered for their origin), naming the user of that
//!   origin, and only when the origin that answered has credentials too; `Proxy-Authorization` only to the proxy the proxy credentials were first used
//!   with; Basic only where the policy allows it;
//! - Digest credentials name the right user for their side (in whichever form) and the
//!   request's target (its origin-form in the origin's credentials through a proxy);
//! - the cookies a send carries were set by the responses to that request, none other;
//! - a finished exchange stays finished: no more sends;
//! - a waiting exchange sends nothing until it is taken up; only waiting exchanges are named
//!   ready; giving up a wait never waits;
//! - no panic, no hang.
#![no_main]

use httpdigest::client::{
    Action, AuthHeaders, BasicPolicy, BodySource, Client, ClientConfig, Credentials, Exchange,
    NameForm, Request, Response, SelectionOrder, Strict, Ticket,
};
use httpdigest::{Algorithm, DigestCredentials, FieldValue, digest};
use httpdigest::{Origin, OriginRef, Scheme};
use httpdigest_fuzz::{FuzzRng, Ops};
use libfuzzer_sys::fuzz_target;

const USER: &str = "Mufasa";
/// The non-ASCII user, within ISO-8859-1.
const JASON: &str = "J\u{e4}s\u{f8}n Doe";
const PASSWORD: &str = "Circle of Life";
const PROXY_USER: &str = "proxy-user";
const PROXY_PASSWORD: &str = "proxy password";
/// The user of the credentials per host (`b.test`).
const HOST_USER: &str = "host-user";
const HOST_PASSWORD: &str = "host password";
const BODY: &[u8] = b"{\"a\":1}";

const ORIGINS: [OriginRef<'static>; 5] = [
    OriginRef {
        scheme: Scheme::Http,
        host: "a.test",
        port: 80,
    },
    OriginRef {
        scheme: Scheme::Http,
        host: "b.test",
        port: 80,
    },
    OriginRef {
        scheme: Scheme::Https,
        host: "a.test",
        port: 443,
    },
    // The same origin as the first: hosts compare ignoring ASCII case.
    OriginRef {
        scheme: Scheme::Http,
        host: "A.Test",
        port: 80,
    },
    OriginRef {
        scheme: Scheme::Http,
        host: "a.test",
        port: 8080,
    },
];

const PROXIES: [OriginRef<'static>; 2] = [
    OriginRef {
        scheme: Scheme::Http,
        host: "proxy.test",
        port: 3128,
    },
    OriginRef {
        scheme: Scheme::Http,
        host: "proxy2.test",
        port: 3128,
    },
];

const METHODS: [&str; 4] = ["GET", "POST", "PUT", "CONNECT"];

/// The configuration a `c` line picks.
#[derive(Debug, Clone, Copy, Default)]
struct Setup {
    preemptive_off: bool,
    mutual: bool,
    auth_int: bool,
    server_order: bool,
    explicit_scope: bool,
    basic: usize,
    min_algorithm: usize,
    capacity: usize,
    origin_credentials: usize,
    no_proxy_credentials: bool,
    /// Index into learned, always, never.
    strict: usize,
    /// Lanes per space, less one.
    lanes: usize,
    /// 0: the ASCII user; 1: the non-ASCII one by dialect; 2: the same over an ASCII-only
    /// transport; 3 to 7: the non-ASCII one with the form fixed.
    name: usize,
    no_rfc2069: bool,
    /// 0: no credentials per host; 1: a provider's for host `b.test` (any port and scheme);
    /// 2: registered for `http://b.test`.
    per_host: usize,
}

impl Setup {
    fn basic(&self) -> BasicPolicy {
        [
            BasicPolicy::Never,
            BasicPolicy::HttpsOnly,
            BasicPolicy::Always,
        ][self.basic]
    }

    fn user(&self) -> &'static str {
        if self.name == 0 { USER } else { JASON }
    }

    /// Whether the client has proxy credentials: a proxy-only client always does.
    fn proxy_credentials(&self) -> bool {
        self.origin_credentials == 2 || !self.no_proxy_credentials
    }

    fn client(&self) -> Client {
        let mut config = ClientConfig::default()
            .with_preemptive(!self.preemptive_off)
            .with_require_mutual_auth(self.mutual)
            .with_prefer_auth_int(self.auth_int)
            .with_basic(self.basic())
            .with_order(if self.server_order {
                SelectionOrder::ServerOrder
            } else {
                SelectionOrder::Strongest
            })
            .with_strict([Strict::Learned, Strict::Always, Strict::Never][self.strict])
            .with_max_lanes(self.lanes + 1)
            .with_rfc2069(!self.no_rfc2069);
        let forms = [
            NameForm::Utf8,
            NameForm::Extended,
            NameForm::Latin1OnWire,
            NameForm::Latin1,
            NameForm::Userhash,
        ];
        if let Some(&form) = self.name.checked_sub(3).and_then(|i| forms.get(i)) {
            config = config.with_name_form(form);
        }
        if let Some(&min) = [None, Some(Algorithm::Md5), Some(Algorithm::Sha256)]
            .get(self.min_algorithm)
            .and_then(Option::as_ref)
        {
            config = config.with_min_algorithm(min);
        }
        if self.explicit_scope {
            config = config.with_scope([
                Origin::new(Scheme::Http, "a.test", 80),
                Origin::new(Scheme::Http, "a.test", 8080),
            ]);
        }
        if self.capacity > 0 {
            config = config.with_max_protection_spaces(self.capacity);
        }
        let mut builder = Client::builder().config(config);
        let user = self.user();
        builder = match self.origin_credentials {
            0 => builder.credentials(Credentials::new(user, PASSWORD)),
            1 => {
                let ha1 = digest::ha1(Algorithm::Md5, user.as_bytes(), b"r", PASSWORD.as_bytes());
                builder.credentials(Credentials::with_ha1(user, "r", Algorithm::Md5, ha1))
            }
            _ => builder,
        };
        builder = match self.per_host {
            1 => builder.credentials_provider(|o: OriginRef<'_>| {
                o.host
                    .eq_ignore_ascii_case("b.test")
                    .then(|| Credentials::new(HOST_USER, HOST_PASSWORD))
            }),
            2 => builder.origin_credentials(
                Origin::new(Scheme::Http, "b.test", 80),
                Credentials::new(HOST_USER, HOST_PASSWORD),
            ),
            _ => builder,
        };
        if self.proxy_credentials() {
            // The proxy the credentials are for: requests name it, the other one, or none.
            let proxy = PROXIES[0];
            builder = builder
                .proxy(format!("http://{}:{}", proxy.host, proxy.port))
                .proxy_credentials(Credentials::new(PROXY_USER, PROXY_PASSWORD));
        }
        let mut client = builder.build().expect("a setup with credentials builds");
        client.set_ascii_only_authorization(self.name == 2);
        client
    }
}

/// One request in flight and what the fuzzer has seen of it.
struct Open<'a> {
    exchange: Exchange,
    origin: OriginRef<'static>,
    proxy: Option<OriginRef<'static>>,
    method: &'static str,
    target: &'a str,
    body: usize,
    sends: u8,
    /// The client said wait: nothing is in flight until it is taken up.
    waiting: bool,
    /// The `Set-Cookie` fields of every response delivered to it.
    set_cookie: Vec<&'a [u8]>,
}

impl<'a> Open<'a> {
    /// What an adapter does with a ticket: signs it, hashing a body not in memory (bodies 2
    /// and 3) with the function each side asks for. Signing never fails: what could make it
    /// fail (a target that cannot go into a header) is refused before a ticket is issued.
    fn sign(&self, ticket: Ticket) -> AuthHeaders {
        let request = self.request();
        ticket
            .sign_with(&request, |algorithm| digest::hash(algorithm, BODY))
            .unwrap_or_else(|failure| panic!("a ticket did not sign: {failure}"))
    }

    fn request(&self) -> Request<'a> {
        Request {
            method: self.method,
            target: self.target,
            origin: self.origin,
            proxy: self.proxy,
            body: match self.body {
                0 => BodySource::Bytes(&[]),
                1 => BodySource::Bytes(BODY),
                2 | 3 => BodySource::Replayable,
                _ => BodySource::NotReplayable,
            },
        }
    }
}

/// The response being assembled by `w`, `p`, `i`, `j`, `o` lines.
#[derive(Default)]
struct Pending<'a> {
    www: Vec<&'a [u8]>,
    proxy: Vec<&'a [u8]>,
    info: Option<&'a [u8]>,
    proxy_info: Option<&'a [u8]>,
    set_cookie: Vec<&'a [u8]>,
    origin: Option<OriginRef<'static>>,
}

impl<'a> Pending<'a> {
    fn response(&self, status: u16) -> Response<'_> {
        Response {
            status,
            www_authenticate: &self.www,
            proxy_authenticate: &self.proxy,
            authentication_info: self.info,
            proxy_authentication_info: self.proxy_info,
            set_cookie: &self.set_cookie,
            origin: self.origin,
        }
    }
}

/// What the fuzzer knows independently of the client: where credentials may go.
struct Oracle {
    setup: Setup,
    /// The origins credentials may go to (fixed, or the first request's).
    scope: Vec<OriginRef<'static>>,
    /// The proxy the proxy credentials went with first.
    proxy_scope: Option<OriginRef<'static>>,
}

impl Oracle {
    fn in_scope(&self, origin: OriginRef<'_>) -> bool {
        self.scope.iter().any(|o| o.same_as(origin))
    }

    /// The user whose credentials may go to `origin`: the client's own in their scope,
    /// else those per host.
    fn user_for(&self, origin: OriginRef<'_>) -> Option<&'static str> {
        if self.setup.origin_credentials < 2 && self.in_scope(origin) {
            return Some(self.setup.user());
        }
        let b = origin.host.eq_ignore_ascii_case("b.test");
        match self.setup.per_host {
            1 if b => Some(HOST_USER),
            2 if b && origin.scheme == Scheme::Http && origin.port == 80 => Some(HOST_USER),
            _ => None,
        }
    }

    fn basic_allowed(&self, scheme: Scheme) -> bool {
        match self.setup.basic() {
            BasicPolicy::Never => false,
            BasicPolicy::HttpsOnly => scheme == Scheme::Https,
            BasicPolicy::Always => true,
        }
    }

    /// Checks the headers of one send of `open`; `answered` is the origin that answered the
    /// previous send, when it was not the request's.
    fn check(&self, open: &Open<'_>, headers: &AuthHeaders, answered: Option<OriginRef<'_>>) {
        if let Some(value) = &headers.authorization {
            let user = self.user_for(open.origin).unwrap_or_else(|| {
                panic!(
                    "Authorization to {:?}, outside the scope {:?} and without credentials of its own: {value}",
                    open.origin, self.scope
                )
            });
            if let Some(answered) = answered {
                assert!(
                    self.user_for(answered).is_some(),
                    "Authorization after an answer from {answered:?}, which has no credentials"
                );
            }
            // Through a proxy the origin's `uri` is the origin-form target.
            let uri = match open.proxy {
                Some(_) => origin_form(open.target),
                None => open.target,
            };
            self.check_value(value, uri, open.origin.scheme, user);
        }
        if let Some(value) = &headers.proxy_authorization {
            assert!(
                self.setup.proxy_credentials(),
                "Proxy-Authorization without proxy credentials: {value}"
            );
            let proxy = open
                .proxy
                .unwrap_or_else(|| panic!("Proxy-Authorization without a proxy: {value}"));
            assert!(
                self.proxy_scope.is_some_and(|p| p.same_as(proxy)),
                "Proxy-Authorization to {proxy:?}, not the proxy of the credentials {:?}",
                self.proxy_scope
            );
            self.check_value(value, open.target, proxy.scheme, PROXY_USER);
        }
        for (name, value) in headers.cookies.iter() {
            assert!(
                open.set_cookie
                    .iter()
                    .any(|f| cookie_pair(f) == Some((name.as_bytes(), value.as_bytes()))),
                "cookie {name}={value} was not set by a response to this request"
            );
        }
    }

    fn check_value(&self, value: &FieldValue, uri: &str, scheme: Scheme, user: &str) {
        let bytes = value.as_bytes();
        assert!(
            !bytes.iter().any(|&b| (b < 0x20 && b != b'\t') || b == 0x7f),
            "a control character in {value}"
        );
        if bytes.starts_with(b"Basic ") {
            assert!(
                self.basic_allowed(scheme),
                "Basic over {scheme:?} under {:?}",
                self.setup.basic()
            );
            return;
        }
        let creds = DigestCredentials::parse(bytes).unwrap_or_else(|e| {
            panic!("the client wrote credentials it cannot parse: {e}: {value}")
        });
        if !creds.userhash() {
            // The name's UTF-8 bytes, or its ISO-8859-1 ones.
            let name = creds.username_bytes();
            let latin1: String = name.iter().map(|&b| char::from(b)).collect();
            assert!(
                &*name == user.as_bytes() || latin1 == user,
                "the user is not named in any form: {value}"
            );
        }
        assert_eq!(&*creds.uri().unescaped(), uri.as_bytes(), "{value}");
    }
}

/// The origin-form of an absolute target (what a proxy forwards), as the client computes it.
fn origin_form(target: &str) -> &str {
    match target.split_once("://") {
        Some((scheme, rest))
            if !scheme.is_empty()
                && scheme
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b)) =>
        {
            match rest.find(['/', '?']) {
                Some(i) if rest.as_bytes()[i] == b'/' => &rest[i..],
                Some(_) => target,
                None => "/",
            }
        }
        _ => target,
    }
}

fn status(op: &httpdigest_fuzz::Op<'_>) -> u16 {
    if let Some(n) = std::str::from_utf8(op.rest(2))
        .ok()
        .and_then(|s| s.trim().parse::<u16>().ok())
    {
        return n;
    }
    [401, 407, 200, 302, 500, 403, 100, 204, 401, 407][op.choice(1, 10)]
}

/// Checks what the client said of `entry` and records it; returns whether the exchange is
/// over (a finished exchange is checked to stay finished).
fn take(
    entry: &mut Open<'_>,
    action: Action,
    oracle: &Oracle,
    client: &mut Client,
    request: &Request<'_>,
    rng: &mut FuzzRng,
    answered: Option<OriginRef<'static>>,
) -> bool {
    match action {
        Action::Send(ticket) => {
            entry.waiting = false;
            entry.sends = entry.exchange.extra_sends();
            assert!(
                entry.sends <= 2,
                "a request sent {} times more",
                entry.sends
            );
            let headers = entry.sign(ticket);
            oracle.check(entry, &headers, answered);
            false
        }
        Action::Wait => {
            entry.waiting = true;
            assert!(entry.exchange.waiting());
            false
        }
        Action::Done | Action::CheckBody(_) | Action::Fail(_) => {
            if let Action::CheckBody(check) = &action {
                // An rspauth over the response body: any body, whole or in parts, is
                // checked without a panic; a body that is not read fails only as the
                // policy says.
                let mut parts = check.clone();
                for part in request.target.as_bytes().chunks(3) {
                    parts.update(part);
                }
                let whole = check.clone().check(request.target.as_bytes());
                assert_eq!(parts.finish(), whole, "the same body, in parts or whole");
                let required = check.required();
                let skipped = check.clone().skip();
                assert_eq!(skipped.is_err(), required);
            }
            assert!(entry.exchange.extra_sends() <= 2);
            // Finished for good: another response changes nothing.
            let again =
                client.handle_response(&mut entry.exchange, request, &Response::new(401), rng);
            assert!(
                matches!(again, Action::Done),
                "an exchange came back after {action:?}: {again:?}"
            );
            true
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut rng = FuzzRng::new(0x5eed);
    let mut setup = Setup::default();
    let mut client: Option<Client> = None;
    let mut oracle: Option<Oracle> = None;
    let mut open: Vec<Open<'_>> = Vec::new();
    let mut pending = Pending::default();

    for op in Ops::new(data, 64) {
        match op.code {
            b'c' if client.is_none() => {
                setup = Setup {
                    preemptive_off: op.choice(0, 2) == 1,
                    mutual: op.choice(1, 2) == 1,
                    auth_int: op.choice(2, 2) == 1,
                    server_order: op.choice(3, 2) == 1,
                    explicit_scope: op.choice(4, 2) == 1,
                    basic: op.choice(5, 3),
                    min_algorithm: op.choice(6, 3),
                    capacity: op.choice(7, 4),
                    origin_credentials: op.choice(8, 3),
                    no_proxy_credentials: op.choice(9, 2) == 1,
                    strict: op.choice(10, 3),
                    lanes: op.choice(11, 4),
                    name: op.choice(12, 8),
                    no_rfc2069: op.choice(13, 2) == 1,
                    per_host: op.choice(14, 3),
                };
            }
            b'b' if open.len() < 8 => {
                let client = client.get_or_insert_with(|| setup.client());
                let oracle = oracle.get_or_insert_with(|| Oracle {
                    setup,
                    scope: if setup.explicit_scope {
                        vec![ORIGINS[0], ORIGINS[4]]
                    } else {
                        Vec::new()
                    },
                    proxy_scope: None,
                });
                let origin = ORIGINS[op.choice(0, ORIGINS.len())];
                let proxy = match op.choice(1, 3) {
                    0 => None,
                    i => Some(PROXIES[i - 1]),
                };
                if oracle.scope.is_empty() && setup.origin_credentials < 2 {
                    oracle.scope.push(origin);
                }
                if setup.proxy_credentials() {
                    oracle.proxy_scope = Some(PROXIES[0]);
                }
                let body = op.choice(3, 5);
                let target = std::str::from_utf8(op.rest(4)).unwrap_or("/");
                let mut entry = Open {
                    exchange: Exchange::default(),
                    origin,
                    proxy,
                    method: METHODS[op.choice(2, METHODS.len())],
                    target: if target.is_empty() { "/" } else { target },
                    body,
                    sends: 0,
                    waiting: false,
                    set_cookie: Vec::new(),
                };
                let (exchange, action) = client.begin(&entry.request(), &mut rng);
                entry.exchange = exchange;
                assert_eq!(entry.exchange.extra_sends(), 0);
                match action {
                    Action::Send(ticket) => {
                        let headers = entry.sign(ticket);
                        oracle.check(&entry, &headers, None);
                    }
                    Action::Wait => entry.waiting = true,
                    Action::Done | Action::CheckBody(_) | Action::Fail(_) => {
                        panic!("begin ended a request: {action:?}")
                    }
                }
                open.push(entry);
            }
            b'q' => {
                let (Some(client), Some(oracle)) = (&mut client, &oracle) else {
                    continue;
                };
                while let Some(id) = client.poll_ready() {
                    // A request abandoned since is not named; one named is waiting.
                    let index = open
                        .iter()
                        .position(|e| e.exchange.id() == id)
                        .unwrap_or_else(|| panic!("exchange {id} named ready, not open"));
                    let entry = &mut open[index];
                    assert!(entry.waiting, "exchange {id} named ready, not waiting");
                    let request = entry.request();
                    let action = client.resume(&mut entry.exchange, &request, &mut rng);
                    take(entry, action, oracle, client, &request, &mut rng, None);
                }
            }
            b'g' => {
                let (Some(client), Some(oracle)) = (&mut client, &oracle) else {
                    continue;
                };
                let Some(entry) = open.get_mut(op.choice(0, 8)).filter(|e| e.waiting) else {
                    continue;
                };
                let request = entry.request();
                let action = client.give_up_waiting(&mut entry.exchange, &request, &mut rng);
                assert!(!matches!(action, Action::Wait), "giving up a wait waited");
                take(entry, action, oracle, client, &request, &mut rng, None);
            }
            b'a' => {
                let Some(client) = &mut client else {
                    continue;
                };
                let index = op.choice(0, 8);
                if index < open.len() {
                    let mut entry = open.swap_remove(index);
                    client.abandon(&mut entry.exchange);
                    assert!(entry.exchange.finished());
                }
            }
            b'w' if pending.www.len() < 8 => pending.www.push(op.args),
            b'p' if pending.proxy.len() < 8 => pending.proxy.push(op.args),
            b'i' => pending.info = Some(op.args),
            b'j' => pending.proxy_info = Some(op.args),
            b'k' if pending.set_cookie.len() < 8 => pending.set_cookie.push(op.args),
            b'o' => pending.origin = ORIGINS.get(op.choice(0, ORIGINS.len() + 1)).copied(),
            b'x' => rng.failing = !rng.failing,
            b'v' => {
                let (Some(client), Some(entry)) = (&client, open.get(op.choice(0, 8))) else {
                    continue;
                };
                let response = pending.response(status(&op));
                for reviewed in client.review(&entry.request(), &response) {
                    let _ = reviewed.into_owned();
                }
            }
            b'r' => {
                let (Some(client), Some(oracle)) = (&mut client, &oracle) else {
                    continue;
                };
                let index = op.choice(0, 8);
                let Some(entry) = open.get_mut(index) else {
                    continue;
                };
                let response = pending.response(status(&op));
                entry.set_cookie.extend(pending.set_cookie.iter().copied());
                let request = entry.request();
                let waiting = entry.waiting;
                let action =
                    client.handle_response(&mut entry.exchange, &request, &response, &mut rng);
                if waiting {
                    assert!(
                        matches!(action, Action::Wait),
                        "a waiting exchange took a response: {action:?}"
                    );
                }
                if take(
                    entry,
                    action,
                    oracle,
                    client,
                    &request,
                    &mut rng,
                    pending.origin,
                ) {
                    open.swap_remove(index);
                }
                pending = Pending::default();
            }
            _ => {}
        }
    }
});

/// The name and value a `Set-Cookie` field sets: its first `;`-part split at the first `=`,
/// each without surrounding spaces and tabs (RFC 6265 §5.2).
fn cookie_pair(field: &[u8]) -> Option<(&[u8], &[u8])> {
    let pair = field.split(|&b| b == b';').next()?;
    let at = pair.iter().position(|&b| b == b'=')?;
    let (name, value) = (&pair[..at], &pair[at + 1..]);
    Some((wsp(name), wsp(value)))
}

/// `s` without the spaces and tabs around it.
fn wsp(s: &[u8]) -> &[u8] {
    let start = s
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t'))
        .unwrap_or(s.len());
    let end = s
        .iter()
        .rposition(|b| !matches!(b, b' ' | b'\t'))
        .map_or(start, |e| e + 1);
    s.get(start..end).unwrap_or_default()
}
