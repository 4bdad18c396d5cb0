//! Property tests of the client state machine: whatever the server answers (cookies, 400s,
//! refusals of a non-ASCII name in any of its forms included), a request is sent at most
//! twice more; nonce counts increase strictly per nonce across any interleaving of requests;
//! nothing derived from the credentials goes to an origin outside the scope, and the cookies
//! of one request's challenges go with that request's answers only.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;
use common::TestRng;

use std::collections::HashMap;

use httpdigest::DigestCredentials;
use httpdigest::client::{
    Action, AuthHeaders, BasicPolicy, Client, ClientConfig, Credentials, Exchange, FieldValue,
    NameForm, Request, Response,
};
use httpdigest::{OriginRef, Scheme};
use proptest::prelude::*;

const ORIGIN: OriginRef<'static> = OriginRef {
    scheme: Scheme::Http,
    host: "a.test",
    port: 80,
};
const OTHER: OriginRef<'static> = OriginRef {
    scheme: Scheme::Http,
    host: "b.test",
    port: 80,
};
const PROXY: OriginRef<'static> = OriginRef {
    scheme: Scheme::Http,
    host: "proxy.test",
    port: 3128,
};

/// Challenge fields a server (honest, broken or hostile) might send.
fn challenge_field() -> impl Strategy<Value = String> {
    let digest = (
        prop::sample::select(vec![
            "",
            "MD5",
            "SHA-256",
            "SHA-512-256",
            "MD5-sess",
            "SHA-384",
            "sha",
        ]),
        prop::sample::select(vec!["", "auth", "auth-int", "auth, auth-int", "auth-conf"]),
        0u8..4,
        prop::bool::ANY,
        prop::sample::select(vec!["r", "other realm"]),
        prop::bool::ANY,
        prop::option::of("/[a-z]{0,3}"),
    )
        .prop_map(|(alg, qop, nonce, stale, realm, userhash, domain)| {
            let mut s = format!(r#"Digest realm="{realm}", nonce="n{nonce}""#);
            if !alg.is_empty() {
                s += &format!(", algorithm={alg}");
            }
            if !qop.is_empty() {
                s += &format!(r#", qop="{qop}""#);
            }
            if stale {
                s += ", stale=true";
            }
            if userhash {
                s += ", userhash=true, charset=UTF-8";
            }
            if let Some(d) = domain {
                s += &format!(r#", domain="{d} http://b.test/""#);
            }
            s
        });
    prop_oneof![
        6 => digest,
        1 => Just(r#"Basic realm="b""#.to_owned()),
        1 => Just(r#"Digest realm="unterminated"#.to_owned()),
        1 => "[ -~]{0,40}",
    ]
}

#[derive(Debug, Clone)]
struct ServerReply {
    status: u16,
    www: Vec<String>,
    proxy: Vec<String>,
    info: Option<String>,
    set_cookie: Vec<String>,
    from_other_origin: bool,
}

fn server_reply() -> impl Strategy<Value = ServerReply> {
    (
        prop::sample::select(vec![200u16, 401, 401, 401, 407, 407, 500, 302, 400, 403]),
        prop::collection::vec(challenge_field(), 0..3),
        prop::collection::vec(challenge_field(), 0..3),
        prop::option::of(prop_oneof![
            Just(r#"rspauth="00", nextnonce="n9""#.to_owned()),
            Just(r#"nextnonce="n3""#.to_owned()),
            "[ -~]{0,30}",
        ]),
        prop::collection::vec(set_cookie(), 0..3),
        prop::bool::weighted(0.1),
    )
        .prop_map(
            |(status, www, proxy, info, set_cookie, from_other_origin)| ServerReply {
                status,
                www,
                proxy,
                info,
                set_cookie,
                from_other_origin,
            },
        )
}

/// `Set-Cookie` fields, well-formed or not.
fn set_cookie() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => ("[a-c]", "[a-z0-9]{0,8}", prop::sample::select(vec![
            "", "; Path=/", "; Path=/x", "; Secure", "; Max-Age=0", "; Domain=b.test",
            "; HttpOnly; SameSite=Lax",
        ]))
            .prop_map(|(n, v, a)| format!("{n}={v}{a}")),
        1 => "[ -~]{0,20}",
    ]
}

fn config() -> impl Strategy<Value = ClientConfig> {
    (
        prop::bool::ANY,
        prop::bool::ANY,
        prop::sample::select(vec![BasicPolicy::Never, BasicPolicy::Always]),
        prop::sample::select(vec![
            None,
            Some(NameForm::Utf8),
            Some(NameForm::Extended),
            Some(NameForm::Latin1OnWire),
            Some(NameForm::Latin1),
            Some(NameForm::Userhash),
        ]),
        prop::bool::ANY,
        prop::bool::ANY,
    )
        .prop_map(
            |(preemptive, mutual, basic, name_form, ascii_only, rfc2069)| {
                let mut c = ClientConfig::default();
                c.preemptive = preemptive;
                c.require_mutual_auth = mutual;
                c.basic = basic;
                c.name_form = name_form;
                c.ascii_only_authorization = ascii_only;
                c.rfc2069 = rfc2069;
                c
            },
        )
}

/// Drives one request through `replies`, returning the number of extra sends and every
/// header set sent (the first included).
fn drive(
    client: &mut Client,
    request: &Request<'_>,
    replies: &[ServerReply],
    rng: &mut TestRng,
) -> (usize, Vec<AuthHeaders>) {
    let (mut exchange, mut action): (Exchange, _) = client.begin(request, rng);
    if matches!(action, Action::Wait) {
        // Alone, nothing holds it for long: an adapter's wait would end at its bound.
        action = client.give_up_waiting(&mut exchange, request, rng);
    }
    let Action::Send(ticket) = action else {
        panic!("begin sends or waits: {action:?}");
    };
    let mut sent = vec![ticket.sign(request).expect("a ticket signs")];
    let mut extra = 0;
    for reply in replies {
        let www: Vec<&[u8]> = reply.www.iter().map(|s| s.as_bytes()).collect();
        let proxy: Vec<&[u8]> = reply.proxy.iter().map(|s| s.as_bytes()).collect();
        let set_cookie: Vec<&[u8]> = reply.set_cookie.iter().map(|s| s.as_bytes()).collect();
        let response = Response {
            status: reply.status,
            www_authenticate: &www,
            proxy_authenticate: &proxy,
            authentication_info: reply.info.as_deref().map(str::as_bytes),
            proxy_authentication_info: None,
            set_cookie: &set_cookie,
            origin: reply.from_other_origin.then_some(OTHER),
        };
        let mut action = client.handle_response(&mut exchange, request, &response, rng);
        if matches!(action, Action::Wait) {
            action = client.give_up_waiting(&mut exchange, request, rng);
        }
        match action {
            Action::Send(ticket) => {
                extra += 1;
                sent.push(ticket.sign(request).expect("a ticket signs"));
            }
            Action::Wait => panic!("giving up a wait never waits"),
            Action::Done | Action::CheckBody(_) | Action::Fail(_) => break,
        }
    }
    // The replies ran out midway: the request is given up, as an adapter drops it.
    client.abandon(&mut exchange);
    (extra, sent)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    /// Whatever the server answers, a request causes at most two extra sends; a request to an
    /// origin outside the scope carries nothing derived from the credentials; without a proxy
    /// no Proxy-Authorization is ever sent.
    #[test]
    fn bounded_extra_sends_and_scope(
        config in config(),
        seed in 1u64..,
        warmup in prop::collection::vec(server_reply(), 0..4),
        replies in prop::collection::vec(server_reply(), 0..8),
        use_proxy in prop::bool::ANY,
        to_other in prop::bool::ANY,
        body in prop::option::of(prop::collection::vec(any::<u8>(), 0..16)),
        name in prop::sample::select(vec!["user", "J\u{e4}s\u{f8}n Doe", "\u{5f20}\u{4f1f}"]),
    ) {
        let mut rng = TestRng::new(seed);
        let mut client = Client::builder()
            .credentials(Credentials::new(name, "pw"))
            .proxy("http://proxy.test:3128")
            .proxy_credentials(Credentials::new("puser", "ppw"))
            .config(config)
            .build()
            .unwrap();
        let proxy = use_proxy.then_some(PROXY);
        // A first request establishes the scope (ORIGIN) and maybe some spaces.
        let mut first = Request::new("GET", "/a", ORIGIN);
        first.proxy = proxy;
        let (extra, _) = drive(&mut client, &first, &warmup, &mut rng);
        prop_assert!(extra <= 2);

        let origin = if to_other { OTHER } else { ORIGIN };
        let mut request = Request::new("POST", "/a/b?c", origin);
        request.proxy = proxy;
        request.body = match &body {
            Some(b) => httpdigest::client::BodySource::Bytes(b),
            None => httpdigest::client::BodySource::NotReplayable,
        };
        let (extra, sent) = drive(&mut client, &request, &replies, &mut rng);
        prop_assert!(extra <= 2, "{} extra sends", extra);
        // The cookies a send carries were set by this request's challenges (none before
        // its first answer), never by another request's.
        let set: Vec<String> = replies.iter().flat_map(|r| r.set_cookie.clone()).collect();
        prop_assert!(sent[0].cookies.is_empty());
        for headers in &sent {
            if to_other {
                prop_assert!(headers.authorization.is_none(), "credentials sent out of scope");
            }
            if !use_proxy {
                prop_assert!(headers.proxy_authorization.is_none());
            }
            for (name, value) in headers.cookies.iter() {
                let pair = format!("{name}={value}");
                prop_assert!(
                    set.iter().any(|s| s.starts_with(&pair)),
                    "cookie {} was not set by this request's challenges", pair
                );
            }
            // No value carries a control character.
            for value in [&headers.authorization, &headers.proxy_authorization].into_iter().flatten() {
                prop_assert!(!value.as_bytes().iter().any(|&b| (b < 0x20 && b != b'\t') || b == 0x7f));
            }
        }
    }
}

#[derive(Debug, Clone)]
enum Op {
    /// Start a request (it goes out preemptively once a space is known).
    Begin,
    /// The server answers the oldest open request: 200, with an optional nextnonce.
    Ok { nextnonce: Option<u8> },
    /// The server answers the oldest open request: 401 stale with a new nonce.
    Stale { nonce: u8 },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => Just(Op::Begin),
        3 => prop::option::of(0u8..4).prop_map(|nextnonce| Op::Ok { nextnonce }),
        1 => (0u8..4).prop_map(|nonce| Op::Stale { nonce }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Across any interleaving of concurrent requests (begun before earlier ones finish,
    /// nonces renewed by nextnonce or stale), the nonce counts sent with one nonce strictly
    /// increase in the order the headers were produced.
    #[test]
    fn nc_strictly_increases_per_nonce(ops in prop::collection::vec(op(), 1..60), seed in 1u64..) {
        let mut rng = TestRng::new(seed);
        let mut client = Client::new(Credentials::new("user", "pw"), ClientConfig::default());
        let request = Request::new("GET", "/", ORIGIN);
        // Learn the space.
        let (mut ex, _) = client.begin(&request, &mut rng);
        let challenge: &[u8] = br#"Digest realm="r", nonce="start", qop="auth", algorithm=SHA-256"#;
        let first = client.handle_response(
            &mut ex,
            &request,
            &Response { www_authenticate: &[challenge], ..Response::new(401) },
            &mut rng,
        );
        let Action::Send(t) = first else { panic!("expected a send, got {first:?}") };
        let mut produced: Vec<FieldValue> = vec![t.sign(&request).unwrap().authorization.unwrap()];
        let mut open: std::collections::VecDeque<Exchange> = std::collections::VecDeque::new();
        open.push_back(ex);
        let mut waiting: Vec<Exchange> = Vec::new();

        for op in ops {
            match op {
                Op::Begin => {
                    // No header once a stale-with-the-same-nonce answer made the client forget
                    // the space.
                    let (ex, action) = client.begin(&request, &mut rng);
                    match action {
                        Action::Send(t) => {
                            produced.extend(t.sign(&request).unwrap().authorization);
                            open.push_back(ex);
                        }
                        Action::Wait => waiting.push(ex),
                        other => panic!("begin sends or waits: {other:?}"),
                    }
                }
                Op::Ok { nextnonce } => {
                    let Some(mut ex) = open.pop_front() else { continue };
                    let info = nextnonce.map(|n| format!(r#"nextnonce="next{n}""#));
                    let response = Response {
                        authentication_info: info.as_deref().map(str::as_bytes),
                        ..Response::new(200)
                    };
                    let _ = client.handle_response(&mut ex, &request, &response, &mut rng);
                }
                Op::Stale { nonce } => {
                    let Some(mut ex) = open.pop_front() else { continue };
                    let field = format!(
                        r#"Digest realm="r", nonce="stale{nonce}", qop="auth", algorithm=SHA-256, stale=true"#
                    );
                    let fields = [field.as_bytes()];
                    let response = Response { www_authenticate: &fields, ..Response::new(401) };
                    match client.handle_response(&mut ex, &request, &response, &mut rng) {
                        Action::Send(t) => {
                            produced.extend(t.sign(&request).unwrap().authorization);
                            open.push_back(ex);
                        }
                        Action::Wait => waiting.push(ex),
                        _ => {}
                    }
                }
            }
            // The requests whose turn has come go.
            while let Some(id) = client.poll_ready() {
                let Some(i) = waiting.iter().position(|w| w.id() == id) else { continue };
                let mut ex = waiting.swap_remove(i);
                match client.resume(&mut ex, &request, &mut rng) {
                    Action::Send(t) => {
                        produced.extend(t.sign(&request).unwrap().authorization);
                        open.push_back(ex);
                    }
                    Action::Wait => waiting.push(ex),
                    other => panic!("a resumed request sends or waits: {other:?}"),
                }
            }
        }

        let mut last: HashMap<String, u32> = HashMap::new();
        for header in &produced {
            let creds = DigestCredentials::parse(header.as_bytes()).unwrap();
            let nonce = creds.nonce().to_str().unwrap().into_owned();
            let nc = creds.nc().unwrap().get();
            if let Some(prev) = last.get(&nonce) {
                prop_assert!(nc > *prev, "nonce {nonce}: nc {nc} after {prev}");
            } else {
                prop_assert_eq!(nc, 1, "the first count for nonce {} must be 1", nonce);
            }
            last.insert(nonce, nc);
        }
    }
}
