//! What is the ureq adapter's own: `DigestAgent` following redirects itself (credentials
//! kept on their origin), ureq's statuses as errors and its redirect limits, the observer,
//! and a small reader kept to be sent again. The scenarios every adapter shares (challenge
//! and reuse over one connection, every algorithm, mutual authentication, stale nonces,
//! rejected credentials, `auth-int`, streamed bodies, concurrency, proxies) are in the
//! end-to-end suite, `tests/e2e/conformance.rs`, which runs them through this adapter too.
//! Every test checks what the server recorded on the wire, not only what the agent
//! returned.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::io::Cursor;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use httpdigest::QopOptions;
use httpdigest::client::Failure;
use httpdigest_tests::drive::{self, Observer, Setup};
use httpdigest_tests::server::{PASSWORD, Seen, Spec, TestServer, USER, statuses};
use httpdigest_ureq::{DigestAgent, Error, Event};

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// An agent for `user` and `password`, with `ureq`'s configuration and `observer`.
fn agent(
    user: &str,
    password: &str,
    ureq: Option<ureq::config::Config>,
    observer: Option<Observer>,
) -> DigestAgent {
    drive::ureq_agent(&Setup::new(user, password), ureq, observer)
}

fn alice() -> DigestAgent {
    agent(USER, PASSWORD, None, None)
}

/// GET `url`: status and body (read to the end, so the connection goes back to the pool).
fn get(agent: &DigestAgent, url: &str) -> (u16, String) {
    let mut response = agent.get(url).call().expect("request");
    let status = response.status().as_u16();
    (status, response.body_mut().read_to_string().unwrap())
}

/// A path of `server` answering 302 to `to` (behind Digest unless `open`): its URL.
fn redirect_to(server: &TestServer, open: bool, to: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    let path = format!("{}/redirect/{n}", if open { "/open" } else { "" });
    server.redirect(&path, to);
    server.url(&path)
}

fn no_credentials(requests: &[Seen]) {
    for request in requests {
        assert!(request.header("authorization").is_none(), "{request:?}");
        assert!(
            request.header("proxy-authorization").is_none(),
            "{request:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// 1. Redirects
// ---------------------------------------------------------------------------------------

#[test]
fn redirect_to_another_origin_carries_no_credentials_and_is_not_answered() {
    let a = Spec::new().start();
    let b = Spec::new().start();
    let agent = alice();

    // A (authenticated) sends the agent to B's open path: followed, without credentials.
    let (status, body) = get(&agent, &redirect_to(&a, false, &b.url("/open/x")));
    assert_eq!((status, body.as_str()), (200, ""));
    let at_a = a.take_seen();
    assert_eq!(statuses(&at_a), [401, 302]);
    assert!(at_a[1].header("authorization").is_some());
    let at_b = b.take_seen();
    assert_eq!(statuses(&at_b), [200]);
    assert_eq!(at_b[0].uri, "/open/x");
    assert_eq!(at_b[0].user, None);
    no_credentials(&at_b);

    // B challenges: not answered.
    let error = agent
        .get(redirect_to(&a, false, &b.url("/private")))
        .call()
        .unwrap_err();
    assert_eq!(error.failure(), Some(&Failure::OutOfScope), "{error}");
    let Error::Auth(auth) = error else {
        panic!("not an auth error")
    };
    assert_eq!(auth.status(), 401);
    assert_eq!(statuses(&a.take_seen()), [302], "A: preemptive");
    let at_b = b.take_seen();
    assert_eq!(statuses(&at_b), [401], "exactly one request at B");
    assert_eq!(at_b[0].uri, "/private");
    no_credentials(&at_b);

    // The same server under another name is another origin.
    let elsewhere = a.url_as("localhost", "/private");
    let error = agent
        .get(redirect_to(&a, false, &elsewhere))
        .call()
        .unwrap_err();
    assert_eq!(error.failure(), Some(&Failure::OutOfScope), "{error}");
    let at_a = a.take_seen();
    assert_eq!(statuses(&at_a), [302, 401]);
    assert!(at_a[0].header("authorization").is_some());
    no_credentials(&at_a[1..]);
    assert_eq!(at_a[1].host(), format!("localhost:{}", a.port()));
}

#[test]
fn same_origin_redirect_is_followed_and_authenticated() {
    let a = Spec::new().start();
    let agent = alice();
    let (status, body) = get(&agent, &redirect_to(&a, false, &a.url("/other")));
    assert_eq!((status, body.as_str()), (200, USER));
    let sent = a.take_seen();
    assert_eq!(statuses(&sent), [401, 302, 200]);
    assert_eq!(sent[2].uri, "/other");
    let p = sent[2].params();
    assert_eq!(
        (p["uri"].as_str(), p["nc"].as_str()),
        ("/other", "00000002")
    );
    assert_eq!(sent[2].user.as_deref(), Some(USER));

    // An open redirect first: the followed request is challenged and answered.
    let agent = alice();
    let (status, _) = get(&agent, &redirect_to(&a, true, &a.url("/target")));
    assert_eq!(status, 200);
    let sent = a.take_seen();
    assert_eq!(statuses(&sent), [302, 401, 200]);
    assert_eq!(sent[2].params()["uri"], "/target");
}

// ---------------------------------------------------------------------------------------
// 2. ureq semantics
// ---------------------------------------------------------------------------------------

#[test]
fn statuses_as_errors_the_ureq_way() {
    let server = Spec::new().start();
    // An open path answering 400, without authentication.
    let agent = alice();
    let error = agent
        .get(server.url("/open/status/400"))
        .call()
        .unwrap_err();
    assert!(
        matches!(error, Error::Ureq(ureq::Error::StatusCode(400))),
        "{error:?}"
    );
    assert_eq!(error.failure(), None);
    let sent = server.take_seen();
    assert_eq!(statuses(&sent), [400]);
    no_credentials(&sent);

    // Statuses as responses.
    let lenient = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build();
    let agent = self::agent(USER, "wrong", Some(lenient), None);
    let mut response = agent.get(server.url("/open/status/400")).call().unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(response.body_mut().read_to_string().unwrap(), "status 400");
    server.take_seen();

    // A Digest failure is Error::Auth either way, with the refusing response.
    let error = agent.get(server.url("/private")).call().unwrap_err();
    assert_eq!(error.failure(), Some(&Failure::CredentialsRejected));
    let Error::Auth(auth) = error else {
        panic!("not an auth error: {error:?}")
    };
    assert_eq!(auth.status(), 401);
    let mut response = auth.into_response();
    assert_eq!(response.status(), 401);
    assert!(response.headers().contains_key("www-authenticate"));
    // The final 401 comes back whole, its body included.
    assert_eq!(
        response.body_mut().read_to_string().unwrap(),
        "Digest authentication required\n"
    );
    assert_eq!(statuses(&server.take_seen()), [401, 401]);

    // max_redirects(0): the 302 itself.
    let once = ureq::Agent::config_builder().max_redirects(0).build();
    let agent = self::agent(USER, PASSWORD, Some(once), None);
    let target = server.url("/open/next");
    let mut response = agent
        .get(redirect_to(&server, false, &target))
        .call()
        .unwrap();
    assert_eq!(response.status(), 302);
    assert_eq!(
        response
            .headers()
            .get("location")
            .unwrap()
            .to_str()
            .unwrap(),
        target
    );
    response.body_mut().read_to_string().unwrap();
    let sent = server.take_seen();
    assert_eq!(statuses(&sent), [401, 302], "not followed");
    assert!(sent[1].header("authorization").is_some());

    // Past max_redirects (with max_redirects_will_error, ureq's default): TooManyRedirects.
    let one = ureq::Agent::config_builder().max_redirects(1).build();
    let agent = self::agent(USER, PASSWORD, Some(one), None);
    let twice = redirect_to(&server, true, &redirect_to(&server, true, &target));
    let error = agent.get(twice).call().unwrap_err();
    assert!(
        matches!(error, Error::Ureq(ureq::Error::TooManyRedirects)),
        "{error:?}"
    );
    assert_eq!(statuses(&server.take_seen()), [302, 302]);
}

// ---------------------------------------------------------------------------------------
// 3. A small reader is kept
// ---------------------------------------------------------------------------------------

/// A reader within the agent's buffer is read whole before the first send: it goes sized
/// (not chunked), again after the 401, and can be hashed for `auth-int` preemptively.
#[test]
fn a_small_reader_is_buffered_and_sent_sized_both_times() {
    let server = Spec::new().qop(QopOptions::AUTH_INT).start();
    let agent = alice();
    let data = b"0123456789abcdef-put-body".to_vec();
    let mut response = agent
        .put(server.url("/file"))
        .send_reader(Cursor::new(data.clone()))
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response
            .headers()
            .get("x-body-len")
            .unwrap()
            .to_str()
            .unwrap(),
        data.len().to_string()
    );
    assert_eq!(response.body_mut().read_to_string().unwrap(), USER);
    let sent = server.take_seen();
    assert_eq!(statuses(&sent), [401, 200]);
    for request in &sent {
        assert_eq!(request.method, "PUT");
        assert_eq!(request.body, data);
        assert_eq!(
            request.header("content-length"),
            Some(data.len().to_string().as_str()),
            "buffered: sized, not chunked"
        );
    }
    assert_eq!(sent[1].params()["qop"], "auth-int");

    // Preemptive auth-int: the body is hashed before the first send.
    let mut response = agent
        .put(server.url("/file"))
        .send_reader(Cursor::new(b"again".to_vec()))
        .unwrap();
    response.body_mut().read_to_string().unwrap();
    let sent = server.take_seen();
    assert_eq!(statuses(&sent), [200]);
    let p = sent[0].params();
    assert_eq!(
        (p["qop"].as_str(), p["nc"].as_str()),
        ("auth-int", "00000002")
    );
}

// ---------------------------------------------------------------------------------------
// 4. Observer
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq)]
enum Observed {
    Request {
        method: String,
        uri: String,
        authorization: Option<String>,
        proxy_authorization: Option<String>,
    },
    Response {
        status: u16,
        challenged: bool,
        info: Option<String>,
    },
}

#[test]
fn observer_sees_what_goes_on_the_wire_in_order() {
    let server = Spec::new().start();
    let events = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&events);
    let observer = move |event: &Event<'_>| {
        let seen = match event {
            Event::Request {
                method,
                uri,
                authorization,
                proxy_authorization,
                ..
            } => Observed::Request {
                method: method.to_string(),
                uri: uri.to_string(),
                authorization: authorization.map(|v| v.text().into_owned()),
                proxy_authorization: proxy_authorization.map(|v| v.text().into_owned()),
            },
            Event::Response {
                status, headers, ..
            } => Observed::Response {
                status: status.as_u16(),
                challenged: headers.contains_key("www-authenticate"),
                info: headers
                    .get("authentication-info")
                    .map(|v| v.to_str().unwrap().to_owned()),
            },
            _ => return,
        };
        log.lock().unwrap().push(seen);
    };
    let agent = agent(USER, PASSWORD, None, Some(Box::new(observer)));

    let first = server.url("/first");
    let second = server.url("/second");
    assert_eq!(get(&agent, &first).0, 200);
    assert_eq!(get(&agent, &second).0, 200);

    let sent = server.seen();
    assert_eq!(statuses(&sent), [401, 200, 200]);
    let events = events.lock().unwrap().clone();
    assert_eq!(events.len(), 6, "{events:#?}");
    let wire = |i: usize| sent[i].credentials.clone();
    let expected_requests = [(0, &first), (2, &first), (4, &second)];
    for ((at, uri), recorded) in expected_requests.into_iter().zip(0..) {
        assert_eq!(
            events[at],
            Observed::Request {
                method: "GET".to_owned(),
                uri: uri.clone(),
                authorization: wire(recorded),
                proxy_authorization: None,
            },
            "event {at}"
        );
    }
    assert!(matches!(
        events[0],
        Observed::Request {
            authorization: None,
            ..
        }
    ));
    assert!(matches!(
        &events[1],
        Observed::Response {
            status: 401,
            challenged: true,
            info: None
        }
    ));
    for at in [3, 5] {
        let Observed::Response {
            status: 200,
            challenged: false,
            info: Some(info),
        } = &events[at]
        else {
            panic!("event {at}: {:?}", events[at])
        };
        assert!(info.contains("rspauth="), "{info}");
    }
}

// ---------------------------------------------------------------------------------------
// auth-int: rspauth over the response body
// ---------------------------------------------------------------------------------------

mod signed_body {
    use httpdigest::client::{Client, ClientConfig, Credentials, Failure};
    use httpdigest_tests::signed_body::{Delivery, PASSWORD, SignedBodyServer, USER};
    use httpdigest_ureq::{DigestAgent, Error};

    fn agent(required: bool, limit: Option<usize>) -> DigestAgent {
        let client = Client::new(
            Credentials::new(USER, PASSWORD),
            ClientConfig::default().with_require_mutual_auth(required),
        );
        let builder = DigestAgent::builder().client(client);
        let builder = match limit {
            Some(limit) => builder.max_checked_response_body(limit),
            None => builder,
        };
        builder.build().unwrap()
    }

    fn failure(result: Result<http::Response<ureq::Body>, Error>) -> Failure {
        match result {
            Ok(response) => panic!("expected a Digest failure, got {}", response.status()),
            Err(error) => error
                .failure()
                .cloned()
                .unwrap_or_else(|| panic!("not a Digest failure: {error:?}")),
        }
    }

    #[test]
    fn a_body_that_matches_rspauth_comes_through_even_when_mutual_auth_is_required() {
        let server = SignedBodyServer::start(&b"the signed body"[..], Delivery::AsSigned);
        let agent = agent(true, None);
        for exchanges in [vec![401, 200], vec![200]] {
            let mut response = agent.post(server.url("/upload")).send("ping").unwrap();
            assert_eq!(response.status(), 200);
            assert_eq!(response.body_mut().read_to_vec().unwrap(), server.body());
            assert_eq!(server.take_statuses(), exchanges);
        }
    }

    #[test]
    fn a_body_changed_on_the_way_fails_with_mutual_auth_failed() {
        let server = SignedBodyServer::start(&b"the signed body"[..], Delivery::Tampered);
        for required in [false, true] {
            let result = agent(required, None)
                .post(server.url("/upload"))
                .send("ping");
            let Err(Error::Auth(auth)) = result else {
                panic!("expected Error::Auth: {result:?}");
            };
            assert_eq!(auth.failure(), &Failure::MutualAuthFailed);
            assert_eq!(auth.status(), 200);
            // The unproven body is inside, to read: the one that arrived.
            let mut unproven = auth.into_response();
            let arrived = unproven.body_mut().read_to_vec().unwrap();
            assert_eq!(arrived, b"The signed body");
        }
    }

    #[test]
    fn a_body_past_the_limit_is_unchecked_or_fails_as_the_policy_says() {
        let body = b"a body longer than the limit".repeat(40);
        let server = SignedBodyServer::start(body.clone(), Delivery::Tampered);
        // Not required: handed on unchecked, whole (what was read first included).
        let mut response = agent(false, Some(100))
            .post(server.url("/upload"))
            .send("ping")
            .unwrap();
        let mut tampered = body.clone();
        tampered[0] ^= 0x20;
        assert_eq!(response.body_mut().read_to_vec().unwrap(), tampered);
        // Required: not proven.
        let result = agent(true, Some(100))
            .post(server.url("/upload"))
            .send("ping");
        assert_eq!(failure(result), Failure::MutualAuthMissing);
    }
}
