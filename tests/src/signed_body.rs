//! A small hand-rolled Digest origin that signs its response body: `qop=auth-int` only, and
//! an `rspauth` over the response body (RFC 7616 §3.5), computed here from `httpdigest`'s
//! digest functions, not by the project's `Verifier` (which sends no `rspauth` for
//! `auth-int`). The adapters' tests check their clients against it: a body that matches
//! comes through, a body changed on the way (as a man in the middle would) fails.
//!
//! HTTP/1.1 over blocking sockets on a thread per connection, with keep-alive; enough for
//! the adapters' clients, nothing more. One fixed nonce: the point is the body, not nonces.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use httpdigest::digest::{self, QopParams};
use httpdigest::{Algorithm, AuthenticationInfoParams, DigestCredentials, Qop};

/// The realm.
pub const REALM: &str = "signed@example.org";
/// The one user.
pub const USER: &str = "alice";
/// Its password.
pub const PASSWORD: &str = "s3cret";
const NONCE: &str = "dcd98b7102dd2f0e8b11d0f600bfb0c093";

/// What the server does to the body after signing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// The body goes as signed.
    AsSigned,
    /// One byte of the body changes after the `rspauth` is computed: the man in the middle.
    Tampered,
}

/// The server's settings, shared with its connection threads.
#[derive(Debug)]
struct State {
    body: Vec<u8>,
    delivery: Delivery,
    /// The statuses answered, in order.
    statuses: Vec<u16>,
}

/// A running signed-body origin on 127.0.0.1. It runs until the test process ends.
#[derive(Debug, Clone)]
pub struct SignedBodyServer {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
}

impl SignedBodyServer {
    /// Starts a server whose 200 responses carry `body`, delivered as `delivery` says.
    pub fn start(body: impl Into<Vec<u8>>, delivery: Delivery) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State {
            body: body.into(),
            delivery,
            statuses: Vec::new(),
        }));
        let shared = Arc::clone(&state);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let state = Arc::clone(&shared);
                std::thread::spawn(move || serve(stream, &state));
            }
        });
        Self { addr, state }
    }

    /// `http://127.0.0.1:port` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The body its 200 responses carry, as signed.
    pub fn body(&self) -> Vec<u8> {
        self.state.lock().unwrap().body.clone()
    }

    /// The statuses answered since the last call, in order.
    pub fn take_statuses(&self) -> Vec<u16> {
        std::mem::take(&mut self.state.lock().unwrap().statuses)
    }
}

/// One request's head and body.
struct Incoming {
    method: String,
    target: String,
    authorization: Option<String>,
    body: Vec<u8>,
    close: bool,
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Incoming> {
    let mut line = String::new();
    reader.read_line(&mut line).ok().filter(|n| *n > 0)?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let target = parts.next()?.to_owned();
    let (mut authorization, mut length, mut close) = (None, 0usize, false);
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok().filter(|n| *n > 0)?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        let value = value.trim();
        match name.to_ascii_lowercase().as_str() {
            "authorization" => authorization = Some(value.to_owned()),
            "content-length" => length = value.parse().ok()?,
            "connection" => close = value.eq_ignore_ascii_case("close"),
            _ => {}
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Incoming {
        method,
        target,
        authorization,
        body,
        close,
    })
}

fn serve(stream: TcpStream, state: &Mutex<State>) {
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    while let Some(request) = read_request(&mut reader) {
        let (body, delivery) = {
            let state = state.lock().unwrap();
            (state.body.clone(), state.delivery)
        };
        let (status, headers, body) = match signed(&request, &body) {
            Some(info) => {
                let mut sent = body;
                if delivery == Delivery::Tampered
                    && let Some(b) = sent.first_mut()
                {
                    *b ^= 0x20;
                }
                (200, format!("Authentication-Info: {info}\r\n"), sent)
            }
            None => {
                let challenge = format!(
                    "WWW-Authenticate: Digest realm=\"{REALM}\", qop=\"auth-int\", \
                     algorithm=SHA-256, nonce=\"{NONCE}\"\r\n"
                );
                (401, challenge, b"unauthorized".to_vec())
            }
        };
        state.lock().unwrap().statuses.push(status);
        let reason = if status == 200 { "OK" } else { "Unauthorized" };
        let head = format!(
            "HTTP/1.1 {status} {reason}\r\n{headers}Content-Type: application/octet-stream\r\n\
             Content-Length: {}\r\n\r\n",
            body.len()
        );
        if writer.write_all(head.as_bytes()).is_err() || writer.write_all(&body).is_err() {
            return;
        }
        if request.close {
            return;
        }
    }
}

/// The `Authentication-Info` of a request whose credentials are right (SHA-256,
/// `qop=auth-int` over its body, the fixed nonce, `uri` the request-target), with an
/// `rspauth` over `response_body`; `None` otherwise (a 401).
fn signed(request: &Incoming, response_body: &[u8]) -> Option<String> {
    let header = request.authorization.as_deref()?;
    let creds = DigestCredentials::parse(header.as_bytes()).ok()?;
    let algorithm = Algorithm::Sha256;
    let (nonce, uri) = (creds.nonce().to_str().ok()?, creds.uri().to_str().ok()?);
    let (nc, cnonce) = (creds.nc()?, creds.cnonce()?.unescaped());
    if creds.username_bytes().as_ref() != USER.as_bytes()
        || creds.realm().to_str().ok()?.as_ref() != REALM
        || creds.algorithm() != Some(algorithm)
        || creds.qop() != Some(Qop::AuthInt)
        || nonce.as_ref() != NONCE
        || uri.as_ref() != request.target
    {
        return None;
    }
    let ha1 = digest::ha1(
        algorithm,
        USER.as_bytes(),
        REALM.as_bytes(),
        PASSWORD.as_bytes(),
    );
    let qop = QopParams {
        qop: Qop::AuthInt,
        nc,
        cnonce: &cnonce,
    };
    let request_body = digest::hash(algorithm, &request.body);
    let ha2 = digest::ha2(
        algorithm,
        request.method.as_bytes(),
        uri.as_bytes(),
        Some(&request_body),
    );
    let expected = digest::response(algorithm, &ha1, NONCE.as_bytes(), Some(qop), &ha2);
    if !expected.ct_eq(&creds.response().unescaped()) {
        return None;
    }
    // RFC 7616 §3.5: A2 = ":" request-uri ":" H(entity-body), of the response.
    let body_hash = digest::hash(algorithm, response_body);
    let rspauth = digest::rspauth(
        algorithm,
        &ha1,
        NONCE.as_bytes(),
        Some(qop),
        uri.as_bytes(),
        Some(&body_hash),
    );
    let cnonce = std::str::from_utf8(&cnonce).ok()?;
    AuthenticationInfoParams {
        qop: Some(Qop::AuthInt),
        rspauth: Some(rspauth.as_str()),
        cnonce: Some(cnonce),
        nc: Some(nc),
        ..AuthenticationInfoParams::default()
    }
    .to_header_value()
    .ok()
}
