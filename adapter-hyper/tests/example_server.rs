//! The example server (`examples/server.rs`) as a process, run the way the end-to-end tests
//! run it (`cargo run -p httpdigest-hyper --example server`), under what a server exposed to
//! clients it does not control meets: `accept` failing because the open-files limit is
//! reached, and clients that send a request's head or body slowly or never finish it.
//!
//! Timings here are correctness checks with a wide margin (a connection must be closed
//! within seconds of a timeout of one or two seconds), not speed targets.
//!
//! The open-files test runs the server under `prlimit` (util-linux, Essential on Debian);
//! without it the test fails, it is not skipped.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::print_stderr
)]

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use httpdigest::digest::{QopParams, ha1, ha2, hash, response};
use httpdigest::{Algorithm, NonceCount, Qop};
use httpdigest_tests::example_server::{ExampleServer, cargo_run};
use httpdigest_tests::headers::params;

/// How long any wait here lasts at most: far past every timeout the tests set, so a slow
/// machine does not fail them, and short enough that a server that never closes fails the
/// test instead of hanging it.
const PATIENCE: Duration = Duration::from_secs(20);

/// The example server as a child process; killed on drop.
struct Server(ExampleServer);

impl std::ops::Deref for Server {
    type Target = ExampleServer;

    fn deref(&self) -> &ExampleServer {
        &self.0
    }
}

impl std::ops::DerefMut for Server {
    fn deref_mut(&mut self) -> &mut ExampleServer {
        &mut self.0
    }
}

impl Server {
    /// The server with `args` after `--listen 127.0.0.1:0`.
    fn start(args: &[&str]) -> Self {
        Self(ExampleServer::start(args))
    }

    /// The server with `args`, its open-files limit (soft and hard) set to `limit` by
    /// `prlimit`, which cargo runs it under; cargo itself keeps its own limit.
    fn start_with_open_files(limit: u32, args: &[&str]) -> Self {
        let found = Command::new("prlimit").arg("--version").output();
        assert!(
            found.as_ref().is_ok_and(|o| o.status.success()),
            "prlimit (Debian package util-linux) is needed to run the server under an \
             open-files limit: {found:?}"
        );
        let mut command = cargo_run();
        command.arg("--config").arg(format!(
            "target.'cfg(all())'.runner = [\"prlimit\", \"--nofile={limit}:{limit}\"]"
        ));
        Self(ExampleServer::spawn(command, "server", args))
    }

    fn connect(&self) -> TcpStream {
        TcpStream::connect(self.address())
            .unwrap_or_else(|e| panic!("cannot connect to the server at {}: {e}", self.address()))
    }

    /// A complete request without credentials on a new connection: the server must answer
    /// it with the challenge.
    fn assert_answers(&self) {
        let mut stream = self.connect();
        let answer = exchange(
            &mut stream,
            &format!(
                "GET /still-there HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
                self.address()
            ),
        );
        assert!(
            answer.starts_with("HTTP/1.1 401 "),
            "the server did not answer a request: {answer:?}"
        );
    }
}

/// Sends `request` and reads the answer until the server closes the connection.
fn exchange(stream: &mut TcpStream, request: &str) -> String {
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = Vec::new();
    match stream.read_to_end(&mut answer) {
        Ok(_) => {}
        Err(e) if e.kind() == ErrorKind::ConnectionReset => {}
        Err(e) => panic!(
            "no complete answer within {PATIENCE:?}: {e}; got {:?}",
            String::from_utf8_lossy(&answer)
        ),
    }
    String::from_utf8_lossy(&answer).into_owned()
}

/// Waits until the server closes `stream` (end of stream or reset), reading what it sends
/// before that: how long it took and what it sent. Panics if it is still open after
/// `limit`.
fn wait_closed(stream: &TcpStream, since: Instant, limit: Duration) -> (Duration, String) {
    let mut stream = stream.try_clone().unwrap();
    let deadline = since + limit;
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(
            !left.is_zero(),
            "the connection is still open {limit:?} after it started; received {:?}",
            String::from_utf8_lossy(&received)
        );
        stream.set_read_timeout(Some(left)).unwrap();
        match stream.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => received.extend_from_slice(&buffer[..n]),
            Err(e) if e.kind() == ErrorKind::ConnectionReset => break,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) => panic!("reading: {e}"),
        }
    }
    (
        since.elapsed(),
        String::from_utf8_lossy(&received).into_owned(),
    )
}

/// Writes `bytes` to `stream` one byte every `every`, from a thread, until they are all
/// sent, a write fails (the server closed) or the returned flag is set.
fn trickle(
    stream: &TcpStream,
    bytes: Vec<u8>,
    every: Duration,
) -> (Arc<AtomicBool>, JoinHandle<usize>) {
    let mut stream = stream.try_clone().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let stopped = Arc::clone(&stop);
    let writer = thread::spawn(move || {
        let mut sent = 0;
        for byte in bytes {
            if stopped.load(Ordering::SeqCst) || stream.write_all(&[byte]).is_err() {
                break;
            }
            sent += 1;
            thread::sleep(every);
        }
        sent
    });
    (stop, writer)
}

/// With `accept` failing for want of file descriptors (the server's open-files limit is
/// 64, and more connections than that wait), the server says so on stderr once, not once
/// per attempt, waits and tries again; when the idle connections go it accepts again and
/// answers. Before, the accept loop returned on the first error and the server exited.
#[test]
fn survives_accept_failing_at_the_open_files_limit() {
    let mut server = Server::start_with_open_files(64, &["--header-timeout", "60"]);
    // More idle connections than the limit allows: the kernel completes each handshake, the
    // server accepts until it has no descriptor left, then `accept` fails with EMFILE.
    let idle: Vec<TcpStream> = (0..150)
        .map_while(|_| TcpStream::connect(server.address()).ok())
        .collect();
    assert!(
        server.wait_for_stderr("Too many open files", PATIENCE),
        "the server never reported an accept failure; stderr: {:?}",
        server.stderr_lines()
    );
    // Errors go on while the connections stay: the server keeps retrying, quietly.
    thread::sleep(Duration::from_secs(2));
    assert!(
        server.is_running(),
        "the server exited ({} connections made): {:?}",
        idle.len(),
        server.stderr_lines()
    );
    assert_eq!(
        idle.len(),
        150,
        "connections refused: {:?}",
        server.stderr_lines()
    );
    drop(idle);
    server.assert_answers();
    assert!(
        server.is_running(),
        "the server exited: {:?}",
        server.stderr_lines()
    );
    let lines = server.stderr_lines();
    let failures = lines.iter().filter(|l| l.contains("accept failed")).count();
    // One line per burst of failures; the connections closing may start a second burst as
    // the server accepts the queued ones faster than it closes them, but never a flood.
    assert!(
        (1..=5).contains(&failures),
        "{failures} accept-failure lines: {lines:?}"
    );
    assert!(
        server.wait_for_stderr("accepting again", PATIENCE),
        "the end of the failures was not reported: {lines:?}"
    );
}

/// A head that stops half-way (no blank line) is closed after `--header-timeout`.
#[test]
fn half_sent_head_is_closed_after_the_header_timeout() {
    let server = Server::start(&["--header-timeout", "1"]);
    let mut stream = server.connect();
    let start = Instant::now();
    stream
        .write_all(format!("GET / HTTP/1.1\r\nHost: {}\r\n", server.address()).as_bytes())
        .unwrap();
    let (took, received) = wait_closed(&stream, start, PATIENCE);
    assert!(took >= Duration::from_millis(900), "closed after {took:?}");
    assert!(
        received.is_empty() || received.starts_with("HTTP/1.1 408 "),
        "{received:?}"
    );
    // A connection that sends nothing is an idle one: the same timeout closes it.
    let silent = server.connect();
    let (took, _) = wait_closed(&silent, Instant::now(), PATIENCE);
    assert!(took >= Duration::from_millis(900), "closed after {took:?}");
    server.assert_answers();
}

/// A head sent one byte a second, so that no read waits long, is still closed when
/// `--header-timeout` has passed since it began: the timeout bounds the whole head, not the
/// gap between bytes.
#[test]
fn trickled_head_is_closed_after_the_header_timeout() {
    let server = Server::start(&["--header-timeout", "2"]);
    let stream = server.connect();
    let start = Instant::now();
    let head = format!(
        "GET / HTTP/1.1\r\nHost: {}\r\nX-Slow: {}\r\n\r\n",
        server.address(),
        "a".repeat(40)
    );
    let (stop, writer) = trickle(&stream, head.into_bytes(), Duration::from_secs(1));
    let (took, received) = wait_closed(&stream, start, PATIENCE);
    stop.store(true, Ordering::SeqCst);
    let sent = writer.join().unwrap();
    assert!(took >= Duration::from_millis(1900), "closed after {took:?}");
    assert!(
        sent < 40,
        "the whole head went out ({sent} bytes) before the close"
    );
    assert!(
        received.is_empty() || received.starts_with("HTTP/1.1 408 "),
        "{received:?}"
    );
    server.assert_answers();
}

/// A body announced by `Content-Length` and sent one byte a second, without credentials:
/// the layer reads a small refused body to keep the connection (see its docs), and
/// `--body-timeout` stops that read; the answer is `408` and the connection closes.
#[test]
fn trickled_body_without_credentials_gets_408_after_the_body_timeout() {
    let server = Server::start(&["--header-timeout", "30", "--body-timeout", "2"]);
    let mut stream = server.connect();
    let start = Instant::now();
    write!(
        stream,
        "POST / HTTP/1.1\r\nHost: {}\r\nContent-Length: 100\r\n\r\n",
        server.address()
    )
    .unwrap();
    let (stop, writer) = trickle(&stream, vec![b'x'; 100], Duration::from_secs(1));
    let (took, received) = wait_closed(&stream, start, PATIENCE);
    stop.store(true, Ordering::SeqCst);
    writer.join().unwrap();
    assert!(took >= Duration::from_millis(1900), "closed after {took:?}");
    assert_timed_out(&received);
    server.assert_answers();
}

/// The same with valid `qop=auth-int` credentials, whose body the layer must read whole
/// before it can verify them.
#[test]
fn trickled_auth_int_body_gets_408_after_the_body_timeout() {
    let server = Server::start(&[
        "--user",
        "alice:s3cret",
        "--algorithms",
        "MD5",
        "--qop",
        "auth-int",
        "--header-timeout",
        "30",
        "--body-timeout",
        "2",
    ]);
    let body = vec![b'x'; 100];
    let authorization = auth_int_credentials(&server, "alice", "s3cret", "/upload", &body);
    let mut stream = server.connect();
    let start = Instant::now();
    write!(
        stream,
        "POST /upload HTTP/1.1\r\nHost: {}\r\nAuthorization: {authorization}\r\n\
         Content-Length: {}\r\n\r\n",
        server.address(),
        body.len()
    )
    .unwrap();
    let (stop, writer) = trickle(&stream, body, Duration::from_secs(1));
    let (took, received) = wait_closed(&stream, start, PATIENCE);
    stop.store(true, Ordering::SeqCst);
    writer.join().unwrap();
    assert!(took >= Duration::from_millis(1900), "closed after {took:?}");
    assert_timed_out(&received);
    server.assert_answers();
}

/// The same credentials with the body sent at once are accepted: the timeout does not
/// get in the way of a request that arrives in time.
#[test]
fn auth_int_body_in_time_is_accepted() {
    let server = Server::start(&[
        "--user",
        "alice:s3cret",
        "--algorithms",
        "MD5",
        "--qop",
        "auth-int",
        "--body-timeout",
        "2",
    ]);
    let body = b"hello".to_vec();
    let authorization = auth_int_credentials(&server, "alice", "s3cret", "/upload", &body);
    let mut stream = server.connect();
    let answer = exchange(
        &mut stream,
        &format!(
            "POST /upload HTTP/1.1\r\nHost: {}\r\nAuthorization: {authorization}\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\nhello",
            server.address(),
            body.len()
        ),
    );
    assert!(answer.starts_with("HTTP/1.1 200 "), "{answer:?}");
    assert!(answer.ends_with("\r\n\r\nalice\n"), "{answer:?}");
}

fn assert_timed_out(received: &str) {
    assert!(received.starts_with("HTTP/1.1 408 "), "{received:?}");
    let head = received
        .split("\r\n\r\n")
        .next()
        .unwrap()
        .to_ascii_lowercase();
    assert!(head.contains("\r\nconnection: close"), "{received:?}");
}

/// An `Authorization` value for `POST uri` with `body` under `qop=auth-int`, answering the
/// server's MD5 challenge (computed here with the core's digest functions).
fn auth_int_credentials(
    server: &Server,
    user: &str,
    password: &str,
    uri: &str,
    body: &[u8],
) -> String {
    let mut stream = server.connect();
    let answer = exchange(
        &mut stream,
        &format!(
            "GET {uri} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            server.address()
        ),
    );
    let challenge = answer
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("www-authenticate")
                .then(|| value.trim().to_owned())
        })
        .unwrap_or_else(|| panic!("no challenge: {answer:?}"));
    let challenge = params(&challenge);
    let (realm, nonce) = (&challenge["realm"], &challenge["nonce"]);
    let algorithm = Algorithm::Md5;
    let cnonce = b"0a4f113b";
    let nc = NonceCount::FIRST;
    let secret = ha1(
        algorithm,
        user.as_bytes(),
        realm.as_bytes(),
        password.as_bytes(),
    );
    let body_hash = hash(algorithm, body);
    let a2 = ha2(algorithm, b"POST", uri.as_bytes(), Some(&body_hash));
    let qop = QopParams {
        qop: Qop::AuthInt,
        nc,
        cnonce,
    };
    let digest = response(algorithm, &secret, nonce.as_bytes(), Some(qop), &a2);
    let mut value = format!(
        "Digest username=\"{user}\", realm=\"{realm}\", nonce=\"{nonce}\", uri=\"{uri}\", \
         algorithm=MD5, qop=auth-int, nc={}, cnonce=\"{}\", response=\"{}\"",
        std::str::from_utf8(&nc.to_hex()).unwrap(),
        std::str::from_utf8(cnonce).unwrap(),
        digest.as_str()
    );
    if let Some(opaque) = challenge.get("opaque") {
        value.push_str(&format!(", opaque=\"{opaque}\""));
    }
    value
}
