//! A hand-made HTTP/1.1 server on a raw socket, for what the project's test server does not
//! answer (303, 307, a `Location` with userinfo) and to see every byte a client sent.
#![allow(dead_code, unreachable_pub)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One request as a hand-made server read it.
#[derive(Debug, Clone)]
pub struct RawRequest {
    pub method: String,
    pub target: String,
    /// Names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The whole request, head and body, as lossy UTF-8.
    pub text: String,
}

impl RawRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A hand-made HTTP/1.1 server on a raw socket: one request per connection, answered with
/// what `answer` writes (a whole response, head and body), every request kept.
#[derive(Clone)]
pub struct RawServer {
    pub port: u16,
    seen: Arc<Mutex<Vec<RawRequest>>>,
}

impl RawServer {
    pub fn start(answer: impl Fn(&RawRequest) -> String + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let server = RawServer {
            port,
            seen: Arc::clone(&seen),
        };
        let answer = Arc::new(answer);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (seen, answer) = (Arc::clone(&seen), Arc::clone(&answer));
                std::thread::spawn(move || serve(stream, &seen, &*answer));
            }
        });
        server
    }

    pub fn url(&self, host: &str, path: &str) -> String {
        format!("http://{host}:{}{path}", self.port)
    }

    pub fn take(&self) -> Vec<RawRequest> {
        std::mem::take(&mut self.seen.lock().unwrap())
    }
}

fn serve(
    mut stream: TcpStream,
    seen: &Mutex<Vec<RawRequest>>,
    answer: &dyn Fn(&RawRequest) -> String,
) {
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    let end = loop {
        if let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break end;
        }
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
        }
    };
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap().split(' ');
    let (method, target) = (
        first.next().unwrap().to_owned(),
        first.next().unwrap().to_owned(),
    );
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: Option<usize> = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .map(|(_, v)| v.parse().unwrap());
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.contains("chunked"));
    let mut body = raw[end + 4..].to_vec();
    let complete = |body: &[u8]| match (length, chunked) {
        (Some(length), _) => body.len() >= length,
        (None, true) => body.ends_with(b"0\r\n\r\n"),
        (None, false) => true,
    };
    while !complete(&body) {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => body.extend_from_slice(&buf[..n]),
        }
    }
    let request = RawRequest {
        text: format!("{head}\r\n\r\n{}", String::from_utf8_lossy(&body)),
        method,
        target,
        headers,
        body,
    };
    let response = answer(&request);
    seen.lock().unwrap().push(request);
    let _ = stream.write_all(response.as_bytes());
}

/// A response with `status`, extra header lines and an empty body, closing the connection.
pub fn respond(status: &str, headers: &[String]) -> String {
    let mut text = format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n");
    for header in headers {
        text.push_str(header);
        text.push_str("\r\n");
    }
    text.push_str("\r\n");
    text
}

pub const CHALLENGE: &str = r#"WWW-Authenticate: Digest realm="raw", nonce="abc", qop="auth""#;

/// `cargo run` of the `get` example with `args`, without proxy variables unless `env` sets
/// some.
pub fn get_example(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut command = std::process::Command::new(env!("CARGO"));
    command
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .args([
            "run",
            "-q",
            "-p",
            "httpdigest-reqwest",
            "--example",
            "get",
            "--",
        ])
        .args(args);
    for name in [
        "http_proxy",
        "HTTP_PROXY",
        "https_proxy",
        "HTTPS_PROXY",
        "all_proxy",
        "ALL_PROXY",
        "no_proxy",
        "NO_PROXY",
    ] {
        command.env_remove(name);
    }
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().unwrap()
}
