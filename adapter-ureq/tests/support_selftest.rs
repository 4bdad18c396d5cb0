//! The test server of `tests/support`, driven over raw TCP by the core's sans-IO client.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use httpdigest::QopOptions;
use httpdigest::client::{
    Action, AuthHeaders, BodySource, Client, ClientConfig, Credentials, Exchange, OriginRef, OsRng,
    Request, Response, Scheme,
};
use support::{Mode, ServerConfig, TestServer, percent_encode};

/// A response as read off the wire.
#[derive(Debug)]
struct RawResponse {
    status: u16,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
}

impl RawResponse {
    fn all(&self, name: &str) -> Vec<&[u8]> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
            .collect()
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.all(name)
            .first()
            .map(|v| std::str::from_utf8(v).unwrap())
    }

    fn text(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap()
    }

    /// For the core client.
    fn handle(
        &self,
        client: &mut Client,
        exchange: &mut Exchange,
        request: &Request<'_>,
    ) -> Action {
        let www = self.all("www-authenticate");
        let proxy = self.all("proxy-authenticate");
        let response = Response {
            www_authenticate: &www,
            proxy_authenticate: &proxy,
            authentication_info: self.all("authentication-info").first().copied(),
            proxy_authentication_info: self.all("proxy-authentication-info").first().copied(),
            ..Response::new(self.status)
        };
        client.handle_response(exchange, request, &response, &mut OsRng)
    }
}

/// One client connection, written to by hand.
struct Raw {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Raw {
    fn connect(server: &TestServer) -> Self {
        let stream = TcpStream::connect(server.addr()).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        Self {
            stream,
            buf: Vec::new(),
        }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).unwrap();
    }

    /// Sends a request with these extra header lines and a `Content-Length` body (none for
    /// an empty body), and reads the response.
    fn request(
        &mut self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> RawResponse {
        let mut head = format!("{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        if !body.is_empty() {
            head.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        head.push_str("\r\n");
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(body);
        self.send(&bytes);
        self.read_response(method == "HEAD")
    }

    fn fill(&mut self) -> usize {
        let mut chunk = [0u8; 4096];
        let n = self.stream.read(&mut chunk).unwrap();
        self.buf.extend_from_slice(&chunk[..n]);
        n
    }

    fn read_response(&mut self, head_only: bool) -> RawResponse {
        loop {
            let mut headers = [httparse::EMPTY_HEADER; 64];
            let mut parsed = httparse::Response::new(&mut headers);
            if let httparse::Status::Complete(len) = parsed.parse(&self.buf).unwrap() {
                let status = parsed.code.unwrap();
                let headers: Vec<(String, Vec<u8>)> = parsed
                    .headers
                    .iter()
                    .map(|h| (h.name.to_ascii_lowercase(), h.value.to_vec()))
                    .collect();
                self.buf.drain(..len);
                let length: usize = headers
                    .iter()
                    .find(|(n, _)| n == "content-length")
                    .map(|(_, v)| std::str::from_utf8(v).unwrap().parse().unwrap())
                    .unwrap();
                let length = if head_only { 0 } else { length };
                while self.buf.len() < length {
                    assert!(self.fill() > 0, "closed in the body");
                }
                let body = self.buf.drain(..length).collect();
                return RawResponse {
                    status,
                    headers,
                    body,
                };
            }
            assert!(self.fill() > 0, "closed before a response");
        }
    }

    /// Whether the server closed the connection (reads end of stream).
    fn closed_by_server(&mut self) -> bool {
        self.buf.is_empty() && self.fill() == 0
    }
}

fn origin_of(server: &TestServer) -> OriginRef<'static> {
    OriginRef {
        scheme: Scheme::Http,
        host: "127.0.0.1",
        port: server.port(),
    }
}

fn alice() -> Client {
    Client::new(Credentials::new("alice", "s3cret"), ClientConfig::default())
}

fn header_pairs(headers: &AuthHeaders) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    if let Some(v) = &headers.authorization {
        out.push(("Authorization", v.as_str()));
    }
    if let Some(v) = &headers.proxy_authorization {
        out.push(("Proxy-Authorization", v.as_str()));
    }
    out
}

/// Runs a request through the client until it is done: every response, and the last action.
fn run(client: &mut Client, raw: &mut Raw, request: &Request<'_>) -> (Vec<RawResponse>, Action) {
    let body: &[u8] = match request.body {
        BodySource::Bytes(b) => b,
        _ => panic!("only in-memory bodies here"),
    };
    let (mut exchange, mut headers) = client.begin(request, &mut OsRng);
    let mut responses = Vec::new();
    loop {
        let response = raw.request(
            request.method,
            request.target,
            &header_pairs(&headers),
            body,
        );
        let action = response.handle(client, &mut exchange, request);
        responses.push(response);
        match action {
            Action::Send(next) => headers = next,
            other => return (responses, other),
        }
    }
}

#[test]
fn challenge_then_success_with_authentication_info() {
    let server = TestServer::origin();
    let mut client = alice();
    let mut raw = Raw::connect(&server);
    let request = Request::new("GET", "/hello", origin_of(&server));
    let (responses, action) = run(&mut client, &mut raw, &request);

    assert_eq!(action, Action::Done, "rspauth checked by the client");
    assert_eq!(responses.len(), 2);
    let challenges = responses[0].all("www-authenticate");
    assert_eq!(responses[0].status, 401);
    assert_eq!(challenges.len(), 2, "one per algorithm");
    let first = std::str::from_utf8(challenges[0]).unwrap();
    let second = std::str::from_utf8(challenges[1]).unwrap();
    assert!(first.starts_with("Digest realm=\"test@example.org\""));
    assert!(first.contains("algorithm=SHA-256"), "{first}");
    assert!(second.contains("algorithm=MD5"), "{second}");
    assert!(!first.contains("stale"));

    assert_eq!(responses[1].status, 200);
    assert_eq!(responses[1].text(), "hello alice");
    let info = responses[1].header("authentication-info").unwrap();
    assert!(info.contains("rspauth="), "{info}");

    let recorded = server.requests();
    assert_eq!(recorded.len(), 2);
    assert_eq!((recorded[0].status, recorded[1].status), (401, 200));
    assert_eq!(recorded[0].rejection.as_deref(), Some("MissingCredentials"));
    assert_eq!(recorded[1].user.as_deref(), Some("alice"));
    let authorization = recorded[1].header("authorization").unwrap();
    assert!(authorization.contains("algorithm=SHA-256"));
    assert_eq!(recorded[1].header("host"), Some("127.0.0.1"));
    assert_eq!(recorded[1].method, "GET");
    assert_eq!(recorded[1].target, "/hello");
}

#[test]
fn keep_alive_serves_several_requests_on_one_connection() {
    let server = TestServer::origin();
    let mut client = alice();
    let mut raw = Raw::connect(&server);
    let request = Request::new("GET", "/a", origin_of(&server));
    let (_, action) = run(&mut client, &mut raw, &request);
    assert_eq!(action, Action::Done);
    // Preemptive: one request, on the same connection.
    let request = Request::new("GET", "/b", origin_of(&server));
    let (responses, action) = run(&mut client, &mut raw, &request);
    assert_eq!(action, Action::Done);
    assert_eq!(responses.len(), 1);
    assert_eq!(responses[0].header("connection"), Some("keep-alive"));
    // HEAD: the length of the GET body, no body.
    let head = raw.request("HEAD", "/open/x", &[("Connection", "keep-alive")], b"");
    assert_eq!(head.status, 200);
    assert_eq!(head.header("content-length"), Some("4"));

    assert_eq!(server.connections(), 1);
    let recorded = server.requests();
    assert_eq!(recorded.len(), 4);
    assert!(recorded.iter().all(|r| r.connection == 1));

    // Connection: close is honoured.
    let last = raw.request("GET", "/open/y", &[("Connection", "close")], b"");
    assert_eq!(last.header("connection"), Some("close"));
    assert!(raw.closed_by_server());
    let mut second = Raw::connect(&server);
    assert_eq!(second.request("GET", "/open/z", &[], b"").status, 200);
    assert_eq!(server.connections(), 2);
    assert_eq!(server.requests().last().unwrap().connection, 2);
}

#[test]
fn chunked_and_sized_bodies_reach_the_verifier() {
    // auth-int: the response digest covers the body, so the server must have read it whole.
    let server = ServerConfig::default().qop(QopOptions::AUTH_INT).start();
    let mut client = alice();
    let mut raw = Raw::connect(&server);
    let body = b"hello world, in three chunks";
    let request = Request {
        body: BodySource::Bytes(body),
        ..Request::new("POST", "/upload", origin_of(&server))
    };
    // Learn the space (sized body), then send a chunked one preemptively.
    let (responses, action) = run(&mut client, &mut raw, &request);
    assert_eq!(action, Action::Done);
    assert_eq!(responses.last().unwrap().text(), "alice sent 28 bytes");

    let (mut exchange, headers) = client.begin(&request, &mut OsRng);
    let authorization = headers.authorization.clone().unwrap();
    assert!(authorization.contains("qop=auth-int"));
    raw.send(
        format!(
            "POST /upload HTTP/1.1\r\nHost: x\r\nAuthorization: {authorization}\r\n\
             Transfer-Encoding: chunked\r\n\r\n\
             6\r\nhello \r\n6;ext=1\r\nworld,\r\n10\r\n in three chunks\r\n0\r\nX-Trailer: t\r\n\r\n"
        )
        .as_bytes(),
    );
    let response = raw.read_response(false);
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(response.text(), "alice sent 28 bytes");
    assert_eq!(
        response.handle(&mut client, &mut exchange, &request),
        Action::Done
    );
    let recorded = server.requests();
    let last = recorded.last().unwrap();
    assert_eq!(last.body, body);
    assert_eq!(last.header("transfer-encoding"), Some("chunked"));

    // An empty chunked body still counts as a body.
    raw.send(b"POST /open/x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    assert_eq!(raw.read_response(false).status, 200);
    assert_eq!(server.connections(), 1);
}

#[test]
fn stale_nonce_after_the_clock_moves() {
    let server = ServerConfig::default().nonce_lifetime(60).start();
    let mut client = alice();
    let mut raw = Raw::connect(&server);
    let request = Request::new("GET", "/", origin_of(&server));
    assert_eq!(run(&mut client, &mut raw, &request).1, Action::Done);

    server.advance_clock(61);
    assert_eq!(server.now(), support::CLOCK_BASE + 61);
    let (responses, action) = run(&mut client, &mut raw, &request);
    assert_eq!(action, Action::Done, "the client moves to the new nonce");
    assert_eq!(responses.len(), 2);
    assert_eq!(responses[0].status, 401);
    let challenges = responses[0].all("www-authenticate");
    assert_eq!(challenges.len(), 2);
    for challenge in challenges {
        assert!(
            std::str::from_utf8(challenge)
                .unwrap()
                .contains("stale=true")
        );
    }
    assert_eq!(responses[1].status, 200);
    let recorded = server.requests();
    assert_eq!(recorded[2].rejection.as_deref(), Some("ExpiredNonce"));
}

#[test]
fn strict_nonce_counts_reject_a_replay() {
    for strict in [true, false] {
        let server = ServerConfig::default().strict_nc(strict).start();
        let mut client = alice();
        let mut raw = Raw::connect(&server);
        let request = Request::new("GET", "/", origin_of(&server));
        assert_eq!(run(&mut client, &mut raw, &request).1, Action::Done);
        let sent = server.requests()[1]
            .header("authorization")
            .unwrap()
            .to_owned();
        assert!(sent.contains("nc=00000001"));

        let replay = raw.request("GET", "/", &[("Authorization", &sent)], b"");
        if strict {
            assert_eq!(replay.status, 401);
            assert!(!replay.header("www-authenticate").unwrap().contains("stale"));
            let last = server.requests().pop().unwrap();
            assert_eq!(last.rejection.as_deref(), Some("ReplayedNonceCount"));
        } else {
            assert_eq!(replay.status, 200);
        }
        // The next count is fine either way.
        let (responses, action) = run(&mut client, &mut raw, &request);
        assert_eq!(action, Action::Done);
        assert_eq!(responses.len(), 1);
        assert!(
            server
                .requests()
                .pop()
                .unwrap()
                .header("authorization")
                .unwrap()
                .contains("nc=00000002")
        );
    }
}

#[test]
fn proxy_mode_challenges_with_407() {
    let server = ServerConfig::proxy().start();
    assert_eq!(server.mode(), Mode::Proxy);
    let mut client =
        Client::proxy_only(Credentials::new("alice", "s3cret"), ClientConfig::default());
    let mut raw = Raw::connect(&server);
    let target = "http://127.0.0.1:9/x?y=1";
    let request = Request {
        proxy: Some(origin_of(&server)),
        ..Request::new(
            "GET",
            target,
            OriginRef {
                scheme: Scheme::Http,
                host: "127.0.0.1",
                port: 9,
            },
        )
    };
    let (responses, action) = run(&mut client, &mut raw, &request);
    assert_eq!(action, Action::Done);
    assert_eq!(responses.len(), 2);
    assert_eq!(responses[0].status, 407);
    assert_eq!(responses[0].all("proxy-authenticate").len(), 2);
    assert!(responses[0].all("www-authenticate").is_empty());
    assert_eq!(responses[1].status, 200);
    assert_eq!(responses[1].text(), format!("proxied {target}"));
    assert!(
        responses[1]
            .header("proxy-authentication-info")
            .unwrap()
            .contains("rspauth=")
    );
    assert!(responses[1].header("authentication-info").is_none());
    let recorded = server.requests();
    assert_eq!(recorded[1].target, target);
    assert!(recorded[1].header("proxy-authorization").is_some());

    // Origin-form is not for a forward proxy.
    assert_eq!(raw.request("GET", "/x", &[], b"").status, 400);
}

#[test]
fn malformed_input_gets_400() {
    let server = TestServer::origin();
    let mut raw = Raw::connect(&server);
    for bad in [
        r#"Digest username="alice"#,
        r#"Digest username="alice", realm="test@example.org""#,
    ] {
        let response = raw.request("GET", "/", &[("Authorization", bad)], b"");
        assert_eq!(response.status, 400, "{bad}");
        let last = server.requests().pop().unwrap();
        assert!(last.rejection.unwrap().starts_with("Malformed"));
    }
    // Another scheme is a plain 401 with challenges.
    let basic = raw.request(
        "GET",
        "/",
        &[("Authorization", "Basic YWxpY2U6czNjcmV0")],
        b"",
    );
    assert_eq!(basic.status, 401);
    assert_eq!(basic.all("www-authenticate").len(), 2);

    // Broken HTTP: 400 and the connection closes; the server keeps serving others.
    raw.send(b"GET / HTTP/1.1\r\nBad Header\r\n\r\n");
    let response = raw.read_response(false);
    assert_eq!(response.status, 400);
    assert_eq!(response.header("connection"), Some("close"));
    assert!(raw.closed_by_server());

    let mut raw = Raw::connect(&server);
    raw.send(b"POST /open/ HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n");
    assert_eq!(raw.read_response(false).status, 400);

    let mut raw = Raw::connect(&server);
    raw.send(b"POST /open/ HTTP/1.1\r\nContent-Length: 12abc\r\n\r\n");
    assert_eq!(raw.read_response(false).status, 400);

    let mut raw = Raw::connect(&server);
    raw.send(b"POST /open/ HTTP/1.1\r\nContent-Length: 999999999\r\n\r\n");
    assert_eq!(raw.read_response(false).status, 413);

    let mut raw = Raw::connect(&server);
    let huge = "a".repeat(support::MAX_HEAD_BYTES);
    raw.send(format!("GET /open/ HTTP/1.1\r\nX-Big: {huge}\r\n\r\n").as_bytes());
    assert_eq!(raw.read_response(false).status, 431);

    let mut raw = Raw::connect(&server);
    assert_eq!(raw.request("GET", "/open/ok", &[], b"").status, 200);
}

#[test]
fn open_paths_and_redirects() {
    let server = TestServer::origin();
    let mut raw = Raw::connect(&server);
    let open = raw.request("GET", "/open/anything", &[], b"");
    assert_eq!((open.status, open.text()), (200, "open"));

    let elsewhere = server.url_with_host("localhost", "/next?a=1&b=2");
    assert_eq!(
        elsewhere,
        format!("http://localhost:{}/next?a=1&b=2", server.port())
    );
    let to = percent_encode(&elsewhere);
    let redirect = raw.request("GET", &format!("/redirect-open?to={to}"), &[], b"");
    assert_eq!(redirect.status, 302);
    assert_eq!(redirect.header("location"), Some(elsewhere.as_str()));

    // /redirect wants credentials.
    let mut client = alice();
    let target = format!("/redirect?x=1&to={to}");
    let request = Request::new("GET", &target, origin_of(&server));
    let (responses, action) = run(&mut client, &mut raw, &request);
    assert_eq!(action, Action::Done);
    assert_eq!(responses[0].status, 401);
    assert_eq!(responses[1].status, 302);
    assert_eq!(responses[1].header("location"), Some(elsewhere.as_str()));
    assert!(responses[1].header("authentication-info").is_some());

    assert_eq!(
        server.url("/x"),
        format!("http://127.0.0.1:{}/x", server.port())
    );
    assert_eq!(server.addr().ip().to_string(), "127.0.0.1");
    // The second origin reaches the same server.
    let mut other = TcpStream::connect(("localhost", server.port())).unwrap();
    other
        .write_all(b"GET /open/ HTTP/1.1\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    other.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
}

#[test]
fn drop_stops_accepting() {
    let server = TestServer::origin();
    let addr = server.addr();
    drop(server);
    // The listener is gone once the accept loop has seen the flag.
    let mut refused = false;
    for _ in 0..50 {
        if TcpStream::connect(addr).is_err() {
            refused = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(refused);
}
