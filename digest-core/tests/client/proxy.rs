//! Proxies.

use crate::sim::*;

use httpdigest::Algorithm;
use httpdigest::client::{AuthHeaders, Client, ClientConfig, Credentials, Failure};
use httpdigest::{Origin, QopOptions, Scheme};

const BODY: &[u8] = b"a body kept on disk";

fn proxy_origin() -> Origin {
    Origin::new(Scheme::Http, "proxy.example", 3128)
}

fn proxied(target: &str) -> Req {
    Req {
        proxy: Some(proxy_origin()),
        ..Req::get(&a(), target)
    }
}

fn proxy_sim(origin_server: Server) -> Sim {
    let mut net = Net::new().serve(&[a()], origin_server);
    net.proxy = Some(Server {
        info: InfoMode::Rspauth,
        algorithms: vec![Some(Algorithm::Md5)],
        ..Server::proxy("p")
    });
    let mut sim = Sim::with(ClientConfig::default(), net);
    sim.client = Client::builder()
        .credentials(Credentials::new(USER, PASS))
        .proxy("http://proxy.example:3128")
        .proxy_credentials(Credentials::new("proxyuser", "proxy secret"))
        .build()
        .unwrap();
    sim
}

#[test]
fn proxy_then_origin_on_one_request_then_both_preemptive() {
    let mut sim = proxy_sim(Server {
        info: InfoMode::Rspauth,
        ..Server::origin("a")
    });
    let out = sim.run(&proxied("http://a.example/res"));
    assert_ok(&out, 3);
    assert_eq!(out.sent[0], AuthHeaders::default());
    assert!(out.sent[1].authorization.is_none());
    let p1 = out.proxy_authorization(1);
    assert!(p1.starts_with("Digest username=\"proxyuser\", realm=\"proxy@p.example\""));
    assert_eq!(nc(p1), 1);
    assert_eq!(nc(out.proxy_authorization(2)), 2);
    assert_eq!(nonce(out.proxy_authorization(2)), nonce(p1));
    // The proxy checks its own `uri`, the absolute form it receives; the origin gets the
    // origin-form the proxy forwards (the sim's proxy forwards that, as Squid does, and the
    // origin compares `uri` with its request-target).
    assert!(p1.contains(r#"uri="http://a.example/res""#));
    let o = out.authorization(2);
    assert!(o.contains(r#"uri="/res""#), "{o}");
    assert_eq!(nc(o), 1);

    let out = sim.run(&proxied("http://a.example/res2"));
    assert_ok(&out, 1);
    assert_eq!(nc(out.proxy_authorization(0)), 3);
    assert_eq!(nc(out.authorization(0)), 2);

    let proxy = sim.net.proxy.as_ref().unwrap();
    let proxy_ncs: Vec<_> = proxy.oks().iter().map(|a| a.nc.unwrap()).collect();
    assert_eq!(proxy_ncs, [1, 2, 3]);
    assert!(proxy.oks().iter().all(|a| a.user == "proxyuser"));
    let origin_ncs: Vec<_> = sim.server().oks().iter().map(|a| a.nc.unwrap()).collect();
    assert_eq!(origin_ncs, [1, 2]);
    // The origin saw the request only once the proxy let it through.
    assert_eq!(sim.server().hits.len(), 3);
}

#[test]
fn forged_proxy_rspauth_fails() {
    let mut sim = proxy_sim(Server::origin("a"));
    sim.net.proxy.as_mut().unwrap().info = InfoMode::ForgedRspauth;
    let out = sim.run(&proxied("http://a.example/res"));
    assert_eq!(out.exchanges, 3);
    assert_eq!(out.result, Err(Failure::MutualAuthFailed));
}

#[test]
fn proxy_challenge_without_a_proxy() {
    let mut sim = Sim::new(Server {
        role: Role::Proxy,
        ..Server::origin("a")
    });
    let out = sim.get("/");
    assert_eq!(
        (out.status, out.exchanges, &out.result),
        (407, 1, &Err(Failure::ProxyChallengeWithoutProxy))
    );
}

#[test]
fn proxy_credentials_never_reach_an_origin_directly() {
    let mut sim = proxy_sim(Server::origin("a"));
    assert_ok(&sim.run(&proxied("http://a.example/res")), 3);
    // The same origin without the proxy: origin credentials, no proxy credentials.
    let out = sim.get("/direct");
    assert_ok(&out, 1);
    assert!(out.sent[0].proxy_authorization.is_none());
    assert!(out.sent[0].authorization.is_some());
}

#[test]
fn proxy_credentials_still_go_with_a_request_to_an_origin_out_of_scope() {
    let mut sim = proxy_sim(Server::origin("a"));
    sim.net = std::mem::replace(&mut sim.net, Net::new()).serve(&[b()], Server::origin("b"));
    assert_ok(&sim.get("/"), 2);
    let out = sim.run(&Req {
        proxy: Some(proxy_origin()),
        ..Req::get(&b(), "http://b.example/x")
    });
    assert!(out.out_of_scope);
    assert_eq!(
        (out.status, out.exchanges, &out.result),
        (401, 2, &Err(Failure::OutOfScope))
    );
    assert!(out.sent.iter().all(|h| h.authorization.is_none()));
    assert_eq!(nc(out.proxy_authorization(1)), 1);
    assert_eq!(sim.net.proxy.as_ref().unwrap().oks().len(), 1);
    assert_eq!(sim.net.server(1).hits[0].header, None);
}

#[test]
fn a_body_not_in_memory_is_hashed_for_each_side_that_answers_with_auth_int() {
    // The origin takes SHA-256, the proxy MD5, both auth-int only: the adapter is asked for
    // the body's hash once per side, each with its own function.
    let origin_server = Server {
        qop: QopOptions::AUTH_INT,
        ..Server::origin("a")
    };
    let mut sim = proxy_sim(origin_server);
    if let Some(proxy) = &mut sim.net.proxy {
        proxy.qop = QopOptions::AUTH_INT;
    }
    let req = Req {
        proxy: Some(proxy_origin()),
        ..Req::post(&a(), "http://a.example/upload", BODY, Body::Replayable)
    };
    let out = sim.run(&req);
    assert_ok(&out, 3);
    assert!(out.proxy_authorization(2).contains("qop=auth-int"));
    assert!(out.authorization(2).contains("qop=auth-int"));
    // The proxy's answer (MD5), then the origin's (SHA-256) with the proxy's again.
    assert_eq!(
        out.body_hashes,
        [Algorithm::Md5, Algorithm::Sha256, Algorithm::Md5]
    );
}

/// Both sides answered with `auth-int` and both `rspauth`s cover the one response body (the
/// proxy forwards the origin's): one check of the body proves both.
#[test]
fn auth_int_rspauth_of_proxy_and_origin_are_both_checked_over_the_body() {
    let auth_int = |server: Server| Server {
        info: InfoMode::Rspauth,
        qop: QopOptions::AUTH_INT,
        ..server
    };
    let mut net = Net::new().serve(&[a()], auth_int(Server::origin("a")));
    let mut proxy = auth_int(Server::proxy("p"));
    proxy.response_body = net.server(0).response_body.clone();
    net.proxy = Some(proxy);
    let mut sim = proxy_sim(Server::origin("unused"));
    sim.net = net;
    sim.client = Client::builder()
        .credentials(Credentials::new(USER, PASS))
        .proxy("http://proxy.example:3128")
        .proxy_credentials(Credentials::new("proxyuser", "proxy secret"))
        .configure(|c| c.with_require_mutual_auth(true))
        .build()
        .unwrap();
    let out = sim.run(&Req {
        proxy: Some(proxy_origin()),
        ..Req::post(&a(), "http://a.example/res", BODY, Body::Bytes)
    });
    assert_ok(&out, 3);
    assert!(out.body_checked);
    // A proxy whose body differs from the one that arrives (the origin's): the proxy's
    // rspauth fails, the origin's alone does not make up for it.
    sim.net.proxy.as_mut().unwrap().response_body = b"another body".to_vec();
    let out = sim.run(&Req {
        proxy: Some(proxy_origin()),
        ..Req::post(&a(), "http://a.example/res", BODY, Body::Bytes)
    });
    assert_eq!(out.result, Err(Failure::MutualAuthFailed));
}
