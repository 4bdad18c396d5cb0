//! Origins and scope.

use crate::common::TestRng;
use crate::sim::*;

use httpdigest::client::{
    Action, AuthHeaders, Client, ClientConfig, Credentials, Failure, Request, Response,
};
use httpdigest::{Origin, OriginRef, Scheme};

#[test]
fn other_port_scheme_or_host_get_nothing_and_are_not_answered() {
    for other in [
        Origin::new(Scheme::Http, "a.example", 8080),
        Origin::new(Scheme::Https, "a.example", 443),
        Origin::new(Scheme::Https, "a.example", 80),
        b(),
    ] {
        let net = Net::new()
            .serve(&[a()], Server::origin("a"))
            .serve(std::slice::from_ref(&other), Server::origin("o"));
        let mut sim = Sim::with(ClientConfig::default(), net);
        assert_ok(&sim.get("/"), 2);
        let out = sim.run(&Req::get(&other, "/"));
        assert_eq!(
            (out.status, out.exchanges, &out.result),
            (401, 1, &Err(Failure::OutOfScope)),
            "{other:?}"
        );
        assert_eq!(out.sent[0], AuthHeaders::default());
        assert!(out.out_of_scope);
        let o = sim.net.server(1);
        assert_eq!(o.hits.len(), 1);
        assert_eq!(o.hits[0].origin, other);
        assert_eq!(o.hits[0].verdict, Verdict::NoHeader);
        // The origin in scope still works, preemptively.
        let out = sim.get("/again");
        assert_ok(&out, 1);
        assert!(!out.out_of_scope);
        assert_eq!(nc(out.authorization(0)), 2);
    }
}

#[test]
fn host_case_does_not_change_the_origin() {
    let mut sim = Sim::new(Server::origin("a"));
    assert_ok(&sim.get("/"), 2);
    // The network routes by Origin, which lower-cases; the client sees the upper case.
    let upper = Origin::new(Scheme::Http, "A.EXAMPLE", 80);
    let out = sim.run(&Req::get(&upper, "/x"));
    assert_ok(&out, 1);
}

#[test]
fn redirect_target_outside_scope_gets_no_header() {
    let server_a = Server {
        redirects: vec![("/go".into(), "http://b.example/landing".into())],
        ..Server::origin("a")
    };
    let net = Net::new()
        .serve(&[a()], server_a)
        .serve(&[b()], Server::origin("b"));
    let mut sim = Sim::with(ClientConfig::default(), net);
    assert_ok(&sim.get("/"), 2);
    let out = sim.get("/go");
    assert_eq!((out.status, out.exchanges, &out.result), (302, 1, &Ok(())));
    assert!(out.sent[0].authorization.is_some());
    // The adapter follows the redirect itself: a new request, to B.
    let out = sim.run(&Req::get(&b(), "/landing"));
    assert_eq!(
        (out.status, out.exchanges, &out.result),
        (401, 1, &Err(Failure::OutOfScope))
    );
    assert_eq!(out.sent[0], AuthHeaders::default());
    assert!(out.out_of_scope);
    assert_eq!(sim.net.server(1).hits[0].header, None);
}

#[test]
fn a_challenge_from_a_redirect_followed_below_the_client_is_not_answered() {
    let server_a = Server {
        redirects: vec![("/go".into(), "http://b.example/landing".into())],
        ..Server::origin("a")
    };
    // B uses the same realm name as A: nothing but the origin tells them apart.
    let server_b = Server {
        realm: "api@a.example".into(),
        ..Server::origin("b")
    };
    let mut net = Net::new().serve(&[a()], server_a).serve(&[b()], server_b);
    net.follow_redirects = true;
    let mut sim = Sim::with(ClientConfig::default(), net);
    assert_ok(&sim.get("/"), 2);
    let out = sim.get("/go");
    assert_eq!(
        (out.status, out.exchanges, &out.result),
        (401, 1, &Err(Failure::OutOfScope))
    );
    // The request itself was for A, in scope; only the answer came from B.
    assert!(!out.out_of_scope);
    assert!(out.sent[0].authorization.is_some());
    let b_hits = &sim.net.server(1).hits;
    assert_eq!(b_hits.len(), 1);
    assert_eq!(b_hits[0].origin, b());
    assert_eq!(b_hits[0].header, None);
    assert_eq!(b_hits[0].target, "/landing");
    // A's space is intact.
    let out = sim.get("/after");
    assert_ok(&out, 1);
    assert_eq!(nc(out.authorization(0)), 3);
}

#[test]
fn domain_narrows_preemptive_sending_to_its_prefix() {
    let mut sim = Sim::new(Server {
        domain: vec!["/private/".into()],
        protected: vec!["/private/".into()],
        ..Server::origin("a")
    });
    assert_ok(&sim.get("/private/a"), 2);
    let out = sim.get("/public/x");
    assert_ok(&out, 1);
    assert_eq!(out.sent[0], AuthHeaders::default());
    let out = sim.get("/private/b?q=1");
    assert_ok(&out, 1);
    assert_eq!(nc(out.authorization(0)), 2);
    let out = sim.get("/privateer");
    assert!(out.sent[0].authorization.is_none());
    assert_eq!(
        sim.server()
            .hits
            .iter()
            .filter(|h| h.header.is_some())
            .map(|h| h.target.as_str())
            .collect::<Vec<_>>(),
        ["/private/a", "/private/b?q=1"]
    );
}

#[test]
fn domain_as_absolute_uri_on_the_same_origin() {
    let mut sim = Sim::new(Server {
        domain: vec!["http://a.example/private/".into()],
        protected: vec!["/private/".into()],
        ..Server::origin("a")
    });
    assert_ok(&sim.get("/private/a"), 2);
    assert!(sim.get("/public").sent[0].authorization.is_none());
    assert_ok(&sim.get("/private/b"), 1);
}

#[test]
fn domain_naming_another_host_does_not_send_there() {
    for domain in [
        vec!["/".to_owned(), "http://b.example/".to_owned()],
        vec!["http://b.example/".to_owned()],
    ] {
        let server_a = Server {
            domain,
            ..Server::origin("a")
        };
        let net = Net::new()
            .serve(&[a()], server_a)
            .serve(&[b()], Server::origin("b"));
        let mut sim = Sim::with(ClientConfig::default(), net);
        assert_ok(&sim.get("/"), 2);
        let out = sim.run(&Req::get(&b(), "/"));
        assert_eq!(out.sent[0], AuthHeaders::default());
        assert_eq!(out.result, Err(Failure::OutOfScope));
        assert_eq!(sim.net.server(1).hits[0].header, None);
        // A is still covered as a whole.
        assert_ok(&sim.get("/anything"), 1);
    }
}

/// A proxy's 407 to a request that the HTTP client redirected, below the client, to another
/// origin: the retry answers the proxy but carries no origin credentials, which would follow
/// the request to that origin. (Found by the `client` fuzz target.)
#[test]
fn a_proxy_challenge_after_a_redirect_below_the_client_drops_the_origin_credentials() {
    let mut client = Client::builder()
        .credentials(Credentials::new("user", "pw"))
        .proxy("http://proxy.example:3128")
        .proxy_credentials(Credentials::new("proxy-user", "proxy-pw"))
        .build()
        .unwrap();
    let origin = |host| OriginRef {
        scheme: Scheme::Http,
        host,
        port: 80,
    };
    let request = Request {
        proxy: Some(OriginRef {
            port: 3128,
            ..origin("proxy.example")
        }),
        ..Request::new("GET", "/go", origin("a.example"))
    };
    let mut rng = TestRng::new(7);
    let (mut exchange, _) = client.begin(&request, &mut rng);
    let www: [&[u8]; 1] = [br#"Digest realm="a", nonce="na", qop="auth""#];
    let challenge = Response {
        www_authenticate: &www,
        ..Response::new(401)
    };
    let action = client.handle_response(&mut exchange, &request, &challenge, &mut rng);
    let Action::Send(ticket) = action else {
        panic!("expected a send, got {action:?}")
    };
    assert!(ticket.sign(&request).unwrap().authorization.is_some());

    // The retry was redirected to b.example on the way, and the proxy challenges that.
    let proxy: [&[u8]; 1] = [br#"Digest realm="p", nonce="np", qop="auth""#];
    let redirected = Response {
        proxy_authenticate: &proxy,
        origin: Some(origin("b.example")),
        ..Response::new(407)
    };
    let action = client.handle_response(&mut exchange, &request, &redirected, &mut rng);
    let Action::Send(ticket) = action else {
        panic!("expected a send, got {action:?}")
    };
    let headers = ticket.sign(&request).unwrap();
    assert!(headers.proxy_authorization.is_some());
    assert_eq!(headers.authorization, None);
}

#[test]
fn scope_naming_two_origins_authenticates_to_both() {
    let net = Net::new()
        .serve(&[a()], Server::origin("a"))
        .serve(&[b()], Server::origin("b"));
    let mut sim = Sim::with(config(|c| c.scope = Some(vec![a(), b()])), net);
    assert_ok(&sim.get("/"), 2);
    let out = sim.run(&Req::get(&b(), "/"));
    assert_ok(&out, 2);
    assert!(out.sent[0].authorization.is_none());
    assert!(out.authorization(1).contains("realm=\"api@b.example\""));
    let out = sim.get("/2");
    assert_ok(&out, 1);
    assert!(out.authorization(0).contains("realm=\"api@a.example\""));
    let out = sim.run(&Req::get(&b(), "/2"));
    assert_ok(&out, 1);
    assert!(out.authorization(0).contains("realm=\"api@b.example\""));
    // A third origin is still outside.
    let net_c = Origin::new(Scheme::Http, "c.example", 80);
    sim.net = std::mem::replace(&mut sim.net, Net::new())
        .serve(std::slice::from_ref(&net_c), Server::origin("c"));
    let out = sim.run(&Req::get(&net_c, "/"));
    assert_eq!(out.result, Err(Failure::OutOfScope));
}

#[test]
fn an_explicit_scope_without_the_first_origin_sends_nothing_there() {
    let net = Net::new()
        .serve(&[a()], Server::origin("a"))
        .serve(&[b()], Server::origin("b"));
    let mut sim = Sim::with(config(|c| c.scope = Some(vec![b()])), net);
    let out = sim.get("/");
    assert!(out.out_of_scope);
    assert_eq!(out.result, Err(Failure::OutOfScope));
    assert_ok(&sim.run(&Req::get(&b(), "/")), 2);
}

#[test]
fn domain_widens_to_another_origin_inside_the_scope() {
    // One server answers for both origins and names both in its domain.
    let server = Server {
        domain: vec!["/".into(), "http://b.example/shared/".into()],
        ..Server::origin("ab")
    };
    let net = Net::new().serve(&[a(), b()], server);
    let mut sim = Sim::with(config(|c| c.scope = Some(vec![a(), b()])), net);
    assert_ok(&sim.get("/"), 2);
    let out = sim.run(&Req::get(&b(), "/shared/x"));
    assert_ok(&out, 1);
    assert_eq!(nc(out.authorization(0)), 2);
    // Outside the named prefix on B: nothing.
    let out = sim.run(&Req::get(&b(), "/elsewhere"));
    assert!(out.sent[0].authorization.is_none());
}

/// A 403 from another origin (a redirect the HTTP client followed below the client) is
/// final, as a 400 from it is: the credentials are not sent again, which would follow the
/// redirect there. Found by the client fuzz target (`regression-redirected-403-is-final`).
#[test]
fn a_403_from_another_origin_is_final() {
    let mut rng = TestRng::new(403);
    let mut client = Client::with_password("alice", "s3cret");
    let a = OriginRef {
        scheme: Scheme::Http,
        host: "a.example",
        port: 80,
    };
    let b = OriginRef {
        scheme: Scheme::Http,
        host: "b.example",
        port: 80,
    };
    let request = Request::new("GET", "/x", a);
    let challenge: &[u8] = br#"Digest realm="r", nonce="n", qop="auth""#;
    let (mut exchange, _) = client.begin(&request, &mut rng);
    let response = Response {
        www_authenticate: &[challenge],
        ..Response::new(401)
    };
    let action = client.handle_response(&mut exchange, &request, &response, &mut rng);
    assert!(matches!(action, Action::Send(_)), "{action:?}");
    let action = client.handle_response(&mut exchange, &request, &Response::new(200), &mut rng);
    assert!(matches!(action, Action::Done), "{action:?}");

    // Preemptive credentials to A; the answer, a 403, comes from B.
    let (mut exchange, action) = client.begin(&request, &mut rng);
    let Action::Send(ticket) = action else {
        panic!("{action:?}")
    };
    assert!(ticket.sign(&request).unwrap().authorization.is_some());
    let response = Response {
        origin: Some(b),
        ..Response::new(403)
    };
    let action = client.handle_response(&mut exchange, &request, &response, &mut rng);
    assert!(matches!(action, Action::Done), "{action:?}");
}
