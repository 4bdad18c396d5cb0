//! `DigestAgent` against the in-process test server of `tests/support`: every test checks what
//! the server recorded on the wire, not only what the agent returned.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use std::collections::{HashMap, HashSet};
use std::io::Cursor;
use std::sync::{Arc, Mutex};

use httpdigest::client::{ClientConfig, Failure};
use httpdigest::{Algorithm, QopOptions};
use httpdigest_ureq::{DigestAgent, Error, Event};
use support::{Recorded, ServerConfig, TestServer, percent_encode};

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

fn alice() -> DigestAgent {
    DigestAgent::new("alice", "s3cret")
}

/// GET `url`: status and body (read to the end, so the connection goes back to the pool).
fn get(agent: &DigestAgent, url: &str) -> (u16, String) {
    let mut response = agent.get(url).call().expect("request");
    let status = response.status().as_u16();
    (status, response.body_mut().read_to_string().unwrap())
}

/// The parameters of a `Digest ...` credentials or challenge value (quoted strings
/// unescaped), names in lower case.
fn params(value: &str) -> HashMap<String, String> {
    let rest = value
        .strip_prefix("Digest ")
        .unwrap_or_else(|| panic!("not a Digest value: {value}"));
    let mut out = HashMap::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let mut name = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' {
                break;
            }
            name.push(c);
            chars.next();
        }
        if name.is_empty() {
            return out;
        }
        assert_eq!(chars.next(), Some('='), "{value}");
        let mut text = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    Some('\\') => text.push(chars.next().unwrap()),
                    Some('"') => break,
                    Some(c) => text.push(c),
                    None => panic!("unterminated quoted string in {value}"),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' {
                    break;
                }
                text.push(c);
                chars.next();
            }
        }
        out.insert(name.trim().to_ascii_lowercase(), text.trim().to_owned());
    }
}

/// The `Authorization` value of a recorded request (which must have one), parsed.
fn authorization(request: &Recorded) -> HashMap<String, String> {
    params(
        request
            .header("authorization")
            .unwrap_or_else(|| panic!("no Authorization on {request:?}")),
    )
}

fn statuses(requests: &[Recorded]) -> Vec<u16> {
    requests.iter().map(|r| r.status).collect()
}

// ---------------------------------------------------------------------------------------
// 1. Challenge, then preemptive reuse over one connection
// ---------------------------------------------------------------------------------------

#[test]
fn first_request_is_challenged_then_credentials_go_preemptively_on_one_connection() {
    let server = TestServer::origin();
    let agent = alice();

    let (status, body) = get(&agent, &server.url("/a"));
    assert_eq!((status, body.as_str()), (200, "hello alice"));
    let first = server.take_requests();
    assert_eq!(statuses(&first), [401, 200]);
    assert!(first[0].header("authorization").is_none());
    let answer = authorization(&first[1]);
    assert!(
        first[1]
            .header("authorization")
            .unwrap()
            .starts_with("Digest ")
    );
    assert_eq!(answer["username"], "alice");
    assert_eq!(answer["realm"], "test@example.org");
    assert_eq!(answer["uri"], "/a");
    assert_eq!(answer["algorithm"], "SHA-256", "the strongest offered");
    assert_eq!(answer["qop"], "auth");
    assert_eq!(answer["nc"], "00000001");
    assert_eq!(first[1].user.as_deref(), Some("alice"));
    let nonce = answer["nonce"].clone();

    for (i, path) in ["/b", "/c?x=1", "/a"].into_iter().enumerate() {
        let (status, _) = get(&agent, &server.url(path));
        assert_eq!(status, 200);
        let sent = server.take_requests();
        assert_eq!(statuses(&sent), [200], "{path}: one round trip");
        let p = authorization(&sent[0]);
        assert_eq!(p["nc"], format!("{:08x}", i + 2), "{path}");
        assert_eq!(p["nonce"], nonce, "{path}: same nonce");
        assert_eq!(p["uri"], path);
        assert_ne!(p["cnonce"], answer["cnonce"], "fresh cnonce");
    }
    // The 401's body was drained and every response read: one keep-alive connection.
    assert_eq!(server.connections(), 1);

    // rspauth is checked (a mismatch is an error even without mutual auth required): the
    // server sent one with every 200, and no request failed.
    let mut response = agent.get(server.url("/d")).call().unwrap();
    let info = response
        .headers()
        .get("authentication-info")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    response.body_mut().read_to_string().unwrap();
    assert!(info.contains("rspauth="), "{info}");
    assert!(info.contains("nc=00000005"), "{info}");
    assert_eq!(server.connections(), 1);
}

// ---------------------------------------------------------------------------------------
// 2. Every algorithm
// ---------------------------------------------------------------------------------------

#[test]
fn every_algorithm_the_server_offers_with_qop_auth() {
    for algorithm in Algorithm::ALL {
        let server = ServerConfig::default()
            .algorithms([algorithm])
            .qop(QopOptions::AUTH)
            .start();
        // Mutual authentication required: the rspauth of each algorithm is verified.
        let agent = DigestAgent::builder()
            .credentials("alice", "s3cret")
            .client_config(ClientConfig::default().with_mutual_auth_required(true))
            .build()
            .unwrap();
        let (status, body) = get(&agent, &server.url("/x"));
        assert_eq!((status, body.as_str()), (200, "hello alice"), "{algorithm}");
        let (status, _) = get(&agent, &server.url("/y"));
        assert_eq!(status, 200, "{algorithm}");

        let sent = server.requests();
        assert_eq!(statuses(&sent), [401, 200, 200], "{algorithm}");
        assert!(sent[0].header("authorization").is_none());
        for request in &sent[1..] {
            let p = authorization(request);
            assert_eq!(p["algorithm"], algorithm.to_string());
            assert_eq!(p["qop"], "auth");
            assert_eq!(request.user.as_deref(), Some("alice"), "{algorithm}");
        }
        assert_eq!(authorization(&sent[2])["nc"], "00000002", "{algorithm}");
    }
}

// ---------------------------------------------------------------------------------------
// 3. auth-int with bodies
// ---------------------------------------------------------------------------------------

#[test]
fn post_and_put_bodies_with_auth_int_only() {
    let server = ServerConfig::default().qop(QopOptions::AUTH_INT).start();
    let agent = alice();
    let body = "name=value&other=thing";
    let mut response = agent.post(server.url("/upload")).send(body).unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.body_mut().read_to_string().unwrap(),
        format!("alice sent {} bytes", body.len())
    );
    let sent = server.take_requests();
    assert_eq!(statuses(&sent), [401, 200]);
    for request in &sent {
        assert_eq!(request.method, "POST");
        assert_eq!(request.body, body.as_bytes(), "the body goes both times");
    }
    let p = authorization(&sent[1]);
    assert_eq!(p["qop"], "auth-int");
    assert_eq!(p["uri"], "/upload");

    // A fresh agent and a small reader: buffered, so it is sent again after the 401.
    let agent = alice();
    let data = b"0123456789abcdef-put-body".to_vec();
    let mut response = agent
        .put(server.url("/file"))
        .send_reader(Cursor::new(data.clone()))
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.body_mut().read_to_string().unwrap(),
        format!("alice sent {} bytes", data.len())
    );
    let sent = server.take_requests();
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
    assert_eq!(authorization(&sent[1])["qop"], "auth-int");

    // Preemptive auth-int: the body is hashed before the first send.
    let mut response = agent
        .put(server.url("/file"))
        .send_reader(Cursor::new(b"again".to_vec()))
        .unwrap();
    response.body_mut().read_to_string().unwrap();
    let sent = server.take_requests();
    assert_eq!(statuses(&sent), [200]);
    let p = authorization(&sent[0]);
    assert_eq!(
        (p["qop"].as_str(), p["nc"].as_str()),
        ("auth-int", "00000002")
    );
}

// ---------------------------------------------------------------------------------------
// 4. Streamed bodies
// ---------------------------------------------------------------------------------------

fn streaming_agent() -> DigestAgent {
    DigestAgent::builder()
        .credentials("alice", "s3cret")
        .max_buffered_body(16)
        .build()
        .unwrap()
}

#[test]
fn streamed_body_is_not_replayed_but_goes_preemptively_once_the_space_is_known() {
    let server = TestServer::origin();
    let large: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();

    let agent = streaming_agent();
    let error = agent
        .post(server.url("/upload"))
        .send_reader(Cursor::new(large.clone()))
        .unwrap_err();
    assert_eq!(
        error.failure(),
        Some(&Failure::BodyNotReplayable),
        "{error}"
    );
    let Error::Auth(auth) = error else {
        panic!("not an auth error")
    };
    assert_eq!(auth.status(), 401);
    let sent = server.take_requests();
    assert_eq!(statuses(&sent), [401], "not sent again");
    assert_eq!(sent[0].body, large, "streamed whole, once");
    assert_eq!(sent[0].header("transfer-encoding"), Some("chunked"));
    assert!(sent[0].header("authorization").is_none());

    let (status, _) = get(&agent, &server.url("/learn"));
    assert_eq!(status, 200);
    let sent = server.take_requests();
    assert_eq!(
        statuses(&sent),
        [200],
        "the failed POST already taught the space"
    );

    let mut response = agent
        .post(server.url("/upload"))
        .send_reader(Cursor::new(large.clone()))
        .unwrap();
    assert_eq!(
        response.body_mut().read_to_string().unwrap(),
        "alice sent 1000 bytes"
    );
    let sent = server.take_requests();
    assert_eq!(statuses(&sent), [200], "one round trip");
    assert_eq!(sent[0].body, large);
    let p = authorization(&sent[0]);
    assert_eq!((p["qop"].as_str(), p["uri"].as_str()), ("auth", "/upload"));

    // Another fresh agent, taught by a GET before any streamed request.
    let agent = streaming_agent();
    assert_eq!(get(&agent, &server.url("/learn")).0, 200);
    server.take_requests();
    let mut response = agent
        .post(server.url("/upload"))
        .send_reader(Cursor::new(large.clone()))
        .unwrap();
    response.body_mut().read_to_string().unwrap();
    let sent = server.take_requests();
    assert_eq!(statuses(&sent), [200]);
    assert_eq!(authorization(&sent[0])["nc"], "00000002");
}

#[test]
fn streamed_body_to_an_auth_int_only_space() {
    let server = ServerConfig::default().qop(QopOptions::AUTH_INT).start();
    let agent = streaming_agent();
    assert_eq!(get(&agent, &server.url("/learn")).0, 200);
    server.take_requests();
    // Preemptive credentials are impossible (the body cannot be hashed): sent without, the
    // challenge cannot be answered.
    let error = agent
        .post(server.url("/upload"))
        .send_reader(Cursor::new(vec![7u8; 100]))
        .unwrap_err();
    assert_eq!(
        error.failure(),
        Some(&Failure::AuthIntNeedsReplayableBody),
        "{error}"
    );
    let sent = server.take_requests();
    assert_eq!(statuses(&sent), [401]);
    assert!(sent[0].header("authorization").is_none());
}

// ---------------------------------------------------------------------------------------
// 5. Stale nonce
// ---------------------------------------------------------------------------------------

#[test]
fn stale_nonce_is_renewed_in_one_extra_round_trip() {
    let server = ServerConfig::default().nonce_lifetime(60).start();
    let agent = alice();
    assert_eq!(get(&agent, &server.url("/")).0, 200);
    let old = authorization(&server.take_requests()[1])["nonce"].clone();

    server.advance_clock(61);
    let (status, body) = get(&agent, &server.url("/later"));
    assert_eq!((status, body.as_str()), (200, "hello alice"));
    let sent = server.take_requests();
    assert_eq!(statuses(&sent), [401, 200]);
    assert_eq!(sent[0].rejection.as_deref(), Some("ExpiredNonce"));
    let stale = authorization(&sent[0]);
    assert_eq!(
        (stale["nonce"].as_str(), stale["nc"].as_str()),
        (old.as_str(), "00000002")
    );
    let renewed = authorization(&sent[1]);
    assert_ne!(renewed["nonce"], old);
    assert_eq!(renewed["nc"], "00000001");
    assert_eq!(sent[1].user.as_deref(), Some("alice"));

    // The new nonce is used from then on.
    assert_eq!(get(&agent, &server.url("/again")).0, 200);
    let sent = server.take_requests();
    assert_eq!(statuses(&sent), [200]);
    let p = authorization(&sent[0]);
    assert_eq!(
        (p["nonce"].as_str(), p["nc"].as_str()),
        (renewed["nonce"].as_str(), "00000002")
    );
}

// ---------------------------------------------------------------------------------------
// 6. Wrong password
// ---------------------------------------------------------------------------------------

#[test]
fn wrong_password_is_tried_once_then_rejected() {
    let server = TestServer::origin();
    let agent = DigestAgent::new("alice", "wrong");
    let error = agent.get(server.url("/private")).call().unwrap_err();
    assert_eq!(error.failure(), Some(&Failure::CredentialsRejected));
    let Error::Auth(auth) = error else {
        panic!("not an auth error: {error:?}")
    };
    assert_eq!(auth.status(), 401);
    let mut response = auth.into_response();
    assert_eq!(response.status(), 401);
    assert!(response.headers().contains_key("www-authenticate"));
    assert_eq!(
        response.body_mut().read_to_string().unwrap(),
        "authentication required"
    );

    let sent = server.take_requests();
    assert_eq!(statuses(&sent), [401, 401], "exactly one retry");
    assert!(sent[0].header("authorization").is_none());
    assert_eq!(authorization(&sent[1])["username"], "alice");
    assert_eq!(sent[1].rejection.as_deref(), Some("WrongPassword"));

    // The rejected space is not used preemptively: the next request starts over.
    let error = agent.get(server.url("/private")).call().unwrap_err();
    assert_eq!(error.failure(), Some(&Failure::CredentialsRejected));
    let sent = server.take_requests();
    assert_eq!(statuses(&sent), [401, 401]);
    assert!(sent[0].header("authorization").is_none());
}

// ---------------------------------------------------------------------------------------
// 7. Forward proxy
// ---------------------------------------------------------------------------------------

const BEHIND_PROXY: &str = "http://127.0.0.1:9/some/path";

fn proxied_agent(proxy: &TestServer, password: &str) -> DigestAgent {
    DigestAgent::builder()
        .proxy(proxy.url(""))
        .proxy_credentials("alice", password)
        .build()
        .unwrap()
}

#[test]
fn proxy_challenge_is_answered_in_absolute_form() {
    let proxy = TestServer::proxy();
    let agent = proxied_agent(&proxy, "s3cret");

    let (status, body) = get(&agent, BEHIND_PROXY);
    assert_eq!(
        (status, body.as_str()),
        (200, format!("proxied {BEHIND_PROXY}").as_str())
    );
    let sent = proxy.take_requests();
    assert_eq!(statuses(&sent), [407, 200]);
    for request in &sent {
        assert_eq!(request.target, BEHIND_PROXY, "absolute form");
        assert_eq!(request.header("host"), Some("127.0.0.1:9"));
        assert!(request.header("authorization").is_none());
    }
    assert!(sent[0].header("proxy-authorization").is_none());
    let p = params(sent[1].header("proxy-authorization").unwrap());
    assert_eq!(p["uri"], BEHIND_PROXY);
    assert_eq!(p["nc"], "00000001");
    assert_eq!(sent[1].user.as_deref(), Some("alice"));

    let (status, _) = get(&agent, "http://127.0.0.1:9/other?q=1");
    assert_eq!(status, 200);
    let sent = proxy.take_requests();
    assert_eq!(statuses(&sent), [200], "preemptive");
    assert_eq!(sent[0].target, "http://127.0.0.1:9/other?q=1");
    let p = params(sent[0].header("proxy-authorization").unwrap());
    assert_eq!(
        (p["uri"].as_str(), p["nc"].as_str()),
        ("http://127.0.0.1:9/other?q=1", "00000002")
    );
    assert_eq!(proxy.connections(), 1);
}

#[test]
fn wrong_proxy_password_is_rejected_with_407() {
    let proxy = TestServer::proxy();
    let agent = proxied_agent(&proxy, "wrong");
    let error = agent.get(BEHIND_PROXY).call().unwrap_err();
    assert_eq!(error.failure(), Some(&Failure::CredentialsRejected));
    let Error::Auth(auth) = error else {
        panic!("not an auth error")
    };
    assert_eq!(auth.status(), 407);
    assert!(auth.response().headers().contains_key("proxy-authenticate"));
    let sent = proxy.take_requests();
    assert_eq!(statuses(&sent), [407, 407]);
    assert!(sent[1].header("proxy-authorization").is_some());
    assert_eq!(sent[1].rejection.as_deref(), Some("WrongPassword"));
}

// ---------------------------------------------------------------------------------------
// 8. Redirects
// ---------------------------------------------------------------------------------------

fn redirect_to(server: &TestServer, route: &str, to: &str) -> String {
    server.url(&format!("{route}?to={}", percent_encode(to)))
}

fn no_credentials(requests: &[Recorded]) {
    for request in requests {
        assert!(request.header("authorization").is_none(), "{request:?}");
        assert!(
            request.header("proxy-authorization").is_none(),
            "{request:?}"
        );
    }
}

#[test]
fn redirect_to_another_origin_carries_no_credentials_and_is_not_answered() {
    let a = TestServer::origin();
    let b = TestServer::origin();
    let agent = alice();

    // A (authenticated) sends the agent to B's open path: followed, without credentials.
    let (status, body) = get(&agent, &redirect_to(&a, "/redirect", &b.url("/open/x")));
    assert_eq!((status, body.as_str()), (200, "open"));
    let at_a = a.take_requests();
    assert_eq!(statuses(&at_a), [401, 302]);
    assert!(at_a[1].header("authorization").is_some());
    let at_b = b.take_requests();
    assert_eq!(statuses(&at_b), [200]);
    assert_eq!(at_b[0].target, "/open/x");
    no_credentials(&at_b);

    // B challenges: not answered.
    let error = agent
        .get(redirect_to(&a, "/redirect", &b.url("/private")))
        .call()
        .unwrap_err();
    assert_eq!(error.failure(), Some(&Failure::OutOfScope), "{error}");
    let Error::Auth(auth) = error else {
        panic!("not an auth error")
    };
    assert_eq!(auth.status(), 401);
    assert_eq!(statuses(&a.take_requests()), [302], "A: preemptive");
    let at_b = b.take_requests();
    assert_eq!(statuses(&at_b), [401], "exactly one request at B");
    assert_eq!(at_b[0].target, "/private");
    no_credentials(&at_b);

    // The same server under another name is another origin.
    let elsewhere = a.url_with_host("localhost", "/private");
    let error = agent
        .get(redirect_to(&a, "/redirect", &elsewhere))
        .call()
        .unwrap_err();
    assert_eq!(error.failure(), Some(&Failure::OutOfScope), "{error}");
    let at_a = a.take_requests();
    assert_eq!(statuses(&at_a), [302, 401]);
    assert!(at_a[0].header("authorization").is_some());
    no_credentials(&at_a[1..]);
    assert_eq!(
        at_a[1].header("host"),
        Some(format!("localhost:{}", a.port()).as_str())
    );
}

#[test]
fn same_origin_redirect_is_followed_and_authenticated() {
    let a = TestServer::origin();
    let agent = alice();
    let (status, body) = get(&agent, &redirect_to(&a, "/redirect", &a.url("/other")));
    assert_eq!((status, body.as_str()), (200, "hello alice"));
    let sent = a.take_requests();
    assert_eq!(statuses(&sent), [401, 302, 200]);
    assert_eq!(sent[2].target, "/other");
    let p = authorization(&sent[2]);
    assert_eq!(
        (p["uri"].as_str(), p["nc"].as_str()),
        ("/other", "00000002")
    );
    assert_eq!(sent[2].user.as_deref(), Some("alice"));

    // An open redirect first: the followed request is challenged and answered.
    let agent = alice();
    let (status, _) = get(
        &agent,
        &redirect_to(&a, "/redirect-open", &a.url("/target")),
    );
    assert_eq!(status, 200);
    let sent = a.take_requests();
    assert_eq!(statuses(&sent), [302, 401, 200]);
    assert_eq!(authorization(&sent[2])["uri"], "/target");
}

// ---------------------------------------------------------------------------------------
// 9. Concurrency and nonce counts
// ---------------------------------------------------------------------------------------

const THREADS: usize = 16;
const REQUESTS: usize = 200;

/// What [`hammer`] saw.
struct Hammered {
    /// Requests the server answered during the threaded phase.
    sent: Vec<Recorded>,
    /// The requests that did not end 200: index and the error's Digest failure.
    failures: Vec<(usize, Option<Failure>)>,
}

/// One agent (after a warm-up request), cloned into [`THREADS`] threads sending
/// [`REQUESTS`] GETs in total. Asserts that no (nonce, nc) pair was ever sent twice.
fn hammer(server: &TestServer) -> Hammered {
    let agent = alice();
    assert_eq!(get(&agent, &server.url("/warm-up")).0, 200);
    let warm_up = server.take_requests();

    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let agent = agent.clone();
            let base = server.url("");
            std::thread::spawn(move || {
                let mut failures = Vec::new();
                for i in (t..REQUESTS).step_by(THREADS) {
                    match agent.get(format!("{base}/t{t}/{i}")).call() {
                        Ok(mut response) => {
                            response.body_mut().read_to_string().unwrap();
                            if response.status() != 200 {
                                failures.push((i, None));
                            }
                        }
                        Err(e) => failures.push((i, e.failure().cloned())),
                    }
                }
                failures
            })
        })
        .collect();
    let failures = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();

    let sent = server.requests();
    let mut seen: HashMap<String, HashSet<String>> = HashMap::new();
    for request in warm_up.iter().chain(&sent) {
        if request.header("authorization").is_none() {
            continue;
        }
        let p = authorization(request);
        assert!(
            seen.entry(p["nonce"].clone())
                .or_default()
                .insert(p["nc"].clone()),
            "nc {} sent twice with nonce {}",
            p["nc"],
            p["nonce"]
        );
    }
    Hammered { sent, failures }
}

#[test]
#[allow(clippy::print_stdout)]
fn sixteen_threads_never_repeat_a_nonce_count_against_a_strict_server() {
    let server = ServerConfig::default().strict_nc(true).start();
    let Hammered { sent, failures } = hammer(&server);

    let mut reasons: HashMap<&str, usize> = HashMap::new();
    for request in sent.iter().filter(|r| r.status != 200) {
        *reasons
            .entry(request.rejection.as_deref().unwrap_or("-"))
            .or_default() += 1;
    }
    // Every refusal is an overtaken count, or a request sent without credentials after one
    // (the rejected space is retired): the password is never wrong.
    for reason in reasons.keys() {
        assert!(
            ["ReplayedNonceCount", "MissingCredentials"].contains(reason),
            "{reasons:?}"
        );
    }
    // What does not end 200 ends in CredentialsRejected (see the ignored test below).
    for (i, failure) in &failures {
        assert_eq!(failure.as_ref(), Some(&Failure::CredentialsRejected), "{i}");
    }
    let answered = sent.iter().filter(|r| r.status == 200).count();
    assert_eq!(answered + failures.len(), REQUESTS);
    println!(
        "{REQUESTS} GETs from {THREADS} threads, strict nc: {} sent ({} extra sends), \
         {} refused ({reasons:?}), {} ended CredentialsRejected, {} connections",
        sent.len(),
        sent.len() - REQUESTS,
        sent.len() - answered,
        failures.len(),
        server.connections(),
    );
}

/// A count overtaken by a later one is refused by the strict server with a new nonce; the
/// answer to it holds that nonce (no other request uses it) until it ends, so it cannot be
/// overtaken in turn and taken for a wrong password.
#[test]
fn sixteen_threads_all_succeed_against_a_strict_server() {
    let server = ServerConfig::default().strict_nc(true).start();
    let Hammered { failures, .. } = hammer(&server);
    assert!(
        failures.is_empty(),
        "{} failed: {failures:?}",
        failures.len()
    );
}

#[test]
fn sixteen_threads_without_nonce_count_checks_need_no_extra_round_trip() {
    let server = ServerConfig::default().strict_nc(false).start();
    let Hammered { sent, failures } = hammer(&server);
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!(sent.len(), REQUESTS, "every request preemptive");
    assert!(sent.iter().all(|r| r.status == 200));
}

// ---------------------------------------------------------------------------------------
// 10. ureq semantics
// ---------------------------------------------------------------------------------------

#[test]
fn statuses_as_errors_the_ureq_way() {
    let server = TestServer::origin();
    // /open/ answers 200 to any path; /redirect-open without ?to= is a 400 without
    // authentication.
    let agent = alice();
    let error = agent.get(server.url("/redirect-open")).call().unwrap_err();
    assert!(
        matches!(error, Error::Ureq(ureq::Error::StatusCode(400))),
        "{error:?}"
    );
    assert_eq!(error.failure(), None);
    let sent = server.take_requests();
    assert_eq!(statuses(&sent), [400]);
    no_credentials(&sent);

    // Statuses as responses.
    let lenient = || {
        DigestAgent::builder()
            .credentials("alice", "wrong")
            .ureq_config(
                ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .build(),
            )
    };
    let agent = lenient().build().unwrap();
    let mut response = agent.get(server.url("/redirect-open")).call().unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(
        response.body_mut().read_to_string().unwrap(),
        "redirect needs ?to=<url-encoded URL>"
    );
    server.take_requests();

    // A Digest failure is Error::Auth either way.
    let error = agent.get(server.url("/private")).call().unwrap_err();
    assert_eq!(error.failure(), Some(&Failure::CredentialsRejected));
    assert!(matches!(&error, Error::Auth(e) if e.status() == 401));
    assert_eq!(statuses(&server.take_requests()), [401, 401]);

    // max_redirects(0): the 302 itself.
    let agent = DigestAgent::builder()
        .credentials("alice", "s3cret")
        .ureq_config(ureq::Agent::config_builder().max_redirects(0).build())
        .build()
        .unwrap();
    let target = server.url("/open/next");
    let mut response = agent
        .get(redirect_to(&server, "/redirect", &target))
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
    let sent = server.take_requests();
    assert_eq!(statuses(&sent), [401, 302], "not followed");
    assert!(sent[1].header("authorization").is_some());

    // Past max_redirects (with max_redirects_will_error, ureq's default): TooManyRedirects.
    let agent = DigestAgent::builder()
        .credentials("alice", "s3cret")
        .ureq_config(ureq::Agent::config_builder().max_redirects(1).build())
        .build()
        .unwrap();
    let twice = redirect_to(
        &server,
        "/redirect-open",
        &redirect_to(&server, "/redirect-open", &target),
    );
    let error = agent.get(twice).call().unwrap_err();
    assert!(
        matches!(error, Error::Ureq(ureq::Error::TooManyRedirects)),
        "{error:?}"
    );
    assert_eq!(statuses(&server.take_requests()), [302, 302]);
}

// ---------------------------------------------------------------------------------------
// 11. Mutual authentication
// ---------------------------------------------------------------------------------------

#[test]
fn mutual_authentication_required() {
    let server = TestServer::origin();
    let agent = DigestAgent::builder()
        .credentials("alice", "s3cret")
        .client_config(ClientConfig::default().with_mutual_auth_required(true))
        .build()
        .unwrap();
    assert_eq!(get(&agent, &server.url("/one")).0, 200);
    assert_eq!(get(&agent, &server.url("/two")).0, 200);
    assert_eq!(statuses(&server.take_requests()), [401, 200, 200]);

    // auth-int: the server sends no rspauth (it would cover the response body), so the
    // requirement cannot be met.
    let server = ServerConfig::default().qop(QopOptions::AUTH_INT).start();
    let error = agent.post(server.url("/upload")).send("abc").unwrap_err();
    assert_eq!(
        error.failure(),
        Some(&Failure::OutOfScope),
        "another origin"
    );
    let agent = DigestAgent::builder()
        .credentials("alice", "s3cret")
        .client_config(ClientConfig::default().with_mutual_auth_required(true))
        .build()
        .unwrap();
    server.take_requests();
    let error = agent.post(server.url("/upload")).send("abc").unwrap_err();
    assert_eq!(
        error.failure(),
        Some(&Failure::MutualAuthMissing),
        "{error}"
    );
    let Error::Auth(auth) = error else {
        panic!("not an auth error")
    };
    assert_eq!(auth.status(), 200, "the unproven response");
    let sent = server.take_requests();
    assert_eq!(statuses(&sent), [401, 200]);
    assert_eq!(authorization(&sent[1])["qop"], "auth-int");
}

// ---------------------------------------------------------------------------------------
// 12. Observer
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq)]
enum Seen {
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
    let server = TestServer::origin();
    let events = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&events);
    let agent = DigestAgent::builder()
        .credentials("alice", "s3cret")
        .observer(move |event| {
            let seen = match event {
                Event::Request {
                    method,
                    uri,
                    authorization,
                    proxy_authorization,
                    ..
                } => Seen::Request {
                    method: method.to_string(),
                    uri: uri.to_string(),
                    authorization: authorization.map(str::to_owned),
                    proxy_authorization: proxy_authorization.map(str::to_owned),
                },
                Event::Response {
                    status, headers, ..
                } => Seen::Response {
                    status: status.as_u16(),
                    challenged: headers.contains_key("www-authenticate"),
                    info: headers
                        .get("authentication-info")
                        .map(|v| v.to_str().unwrap().to_owned()),
                },
                _ => return,
            };
            log.lock().unwrap().push(seen);
        })
        .build()
        .unwrap();

    let first = server.url("/first");
    let second = server.url("/second");
    assert_eq!(get(&agent, &first).0, 200);
    assert_eq!(get(&agent, &second).0, 200);

    let sent = server.requests();
    assert_eq!(statuses(&sent), [401, 200, 200]);
    let events = events.lock().unwrap().clone();
    assert_eq!(events.len(), 6, "{events:#?}");
    let wire = |i: usize| sent[i].header("authorization").map(str::to_owned);
    let expected_requests = [(0, &first), (2, &first), (4, &second)];
    for ((at, uri), recorded) in expected_requests.into_iter().zip(0..) {
        assert_eq!(
            events[at],
            Seen::Request {
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
        Seen::Request {
            authorization: None,
            ..
        }
    ));
    assert!(matches!(
        &events[1],
        Seen::Response {
            status: 401,
            challenged: true,
            info: None
        }
    ));
    for at in [3, 5] {
        let Seen::Response {
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
