//! Raw HTTP/1.1 requests and hand-made Digest credentials, for tests that decide every
//! byte a server gets: each count, a replay, a parameter left out, two `Authorization`
//! fields. The response is computed with the crate's `digest` functions, the header written
//! here by hand, and the answer read without any HTTP client in between.
//!
//! ```no_run
//! use httpdigest::{Algorithm, Qop};
//! use httpdigest_tests::raw::{Login, get, nonce_of};
//!
//! let address = "127.0.0.1:8080";
//! let nonce = nonce_of(&get(address, "/", None));
//! let login = Login::new(Algorithm::Sha256, "alice", "realm", "s3cret", &nonce);
//! let answer = get(address, "/", Some(&login.authorization()));
//! assert_eq!(answer.status, 200);
//! ```

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use httpdigest::digest::{self, HexDigest, QopParams};
use httpdigest::{Algorithm, NonceCount, Qop};

use crate::headers::params;

/// An answer: the status, the header fields (names in lower case, in order) and the body.
#[derive(Debug)]
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// Every field, names in lower case, values trimmed.
    pub headers: Vec<(String, String)>,
    /// The body (the connection is closed after the answer, so all of it).
    pub body: Vec<u8>,
}

impl Answer {
    /// The first field called `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every field called `name` (lower case), in order.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// Whether any `WWW-Authenticate` field says `stale=true` (in any case).
    pub fn stale(&self) -> bool {
        self.all("www-authenticate").iter().any(|c| {
            params(c)
                .get("stale")
                .is_some_and(|s| s.eq_ignore_ascii_case("true"))
        })
    }
}

/// `method target` to `address` with the extra header fields `fields` (name, value; several
/// of one name are sent as several fields) and `body` (with its `Content-Length` when not
/// empty), on a connection of its own.
///
/// # Panics
///
/// When the server cannot be reached or its answer is not HTTP/1.1.
pub fn request(
    address: &str,
    method: &str,
    target: &str,
    fields: &[(&str, &str)],
    body: &[u8],
) -> Answer {
    let mut stream = TcpStream::connect(address).expect("connect to the server");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut head =
        format!("{method} {target} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n");
    for (name, value) in fields {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if !body.is_empty() {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read the answer");
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no complete head in {:?}", String::from_utf8_lossy(&raw)));
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let body = raw[end + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Answer {
        status,
        headers,
        body,
    }
}

/// `GET path` to `address`, with `authorization` if given.
pub fn get(address: &str, path: &str, authorization: Option<&str>) -> Answer {
    let fields: Vec<(&str, &str)> = authorization
        .map(|a| ("Authorization", a))
        .into_iter()
        .collect();
    request(address, "GET", path, &fields, b"")
}

/// The nonce of a 401's first challenge.
///
/// # Panics
///
/// When the answer is not a 401 with a `WWW-Authenticate` field.
pub fn nonce_of(answer: &Answer) -> String {
    assert_eq!(answer.status, 401, "expected a challenge: {answer:?}");
    let challenge = answer
        .header("www-authenticate")
        .expect("a WWW-Authenticate field");
    params(challenge)["nonce"].clone()
}

/// One request's Digest credentials, made by hand: what the response and `rspauth` are
/// computed from, and the `Authorization` value ([`fields`](Self::fields), which a test can
/// change before it [renders](Fields::render) them).
#[derive(Debug, Clone)]
pub struct Login<'a> {
    /// The algorithm (named as [`Algorithm::name`] spells it).
    pub algorithm: Algorithm,
    /// The user name H(A1) covers (for `userhash`, the plain name).
    pub username: &'a str,
    /// The realm.
    pub realm: &'a str,
    /// The password.
    pub password: &'a str,
    /// The method.
    pub method: &'a str,
    /// The `uri` parameter.
    pub uri: &'a str,
    /// The server's nonce.
    pub nonce: &'a str,
    /// The qop; `None`: RFC 2069 (no `qop`, `nc` or `cnonce`).
    pub qop: Option<Qop>,
    /// The nonce count.
    pub nc: u32,
    /// The client nonce.
    pub cnonce: String,
    /// The request body (hashed for `auth-int`).
    pub body: &'a [u8],
    /// Send `username` as H(username ":" realm) with `userhash=true`.
    pub userhash: bool,
}

impl<'a> Login<'a> {
    /// `GET /`, `qop=auth`, `nc=1`, for `username` with `password` on `nonce`.
    pub fn new(
        algorithm: Algorithm,
        username: &'a str,
        realm: &'a str,
        password: &'a str,
        nonce: &'a str,
    ) -> Self {
        Self {
            algorithm,
            username,
            realm,
            password,
            method: "GET",
            uri: "/",
            nonce,
            qop: Some(Qop::Auth),
            nc: 1,
            cnonce: "0a4f113b".to_owned(),
            body: b"",
            userhash: false,
        }
    }

    /// With nonce count `nc` (and a client nonce of its own).
    #[must_use]
    pub fn nc(mut self, nc: u32) -> Self {
        self.nc = nc;
        self.cnonce = format!("cnonce{nc:08x}");
        self
    }

    /// H(A1), the session one for `-sess` algorithms.
    pub fn ha1(&self) -> HexDigest {
        let ha1 = digest::ha1(
            self.algorithm,
            self.username.as_bytes(),
            self.realm.as_bytes(),
            self.password.as_bytes(),
        );
        if self.algorithm.is_session() {
            digest::session_ha1(
                self.algorithm,
                &ha1,
                self.nonce.as_bytes(),
                self.cnonce.as_bytes(),
            )
        } else {
            ha1
        }
    }

    fn qop_params(&self) -> Option<QopParams<'_>> {
        self.qop.map(|qop| QopParams {
            qop,
            nc: NonceCount::new(self.nc),
            cnonce: self.cnonce.as_bytes(),
        })
    }

    /// The request-digest (`response`).
    pub fn response(&self) -> HexDigest {
        let body_hash =
            (self.qop == Some(Qop::AuthInt)).then(|| digest::hash(self.algorithm, self.body));
        let ha2 = digest::ha2(
            self.algorithm,
            self.method.as_bytes(),
            self.uri.as_bytes(),
            body_hash.as_ref(),
        );
        digest::response(
            self.algorithm,
            &self.ha1(),
            self.nonce.as_bytes(),
            self.qop_params(),
            &ha2,
        )
    }

    /// The `rspauth` the server must send for this request and `response_body` (RFC 7616
    /// §3.5: A2 = ":" uri, or ":" uri ":" H(response body) for `auth-int`), computed here
    /// step by step rather than with [`digest::rspauth`].
    pub fn rspauth(&self, response_body: &[u8]) -> HexDigest {
        let body_hash =
            (self.qop == Some(Qop::AuthInt)).then(|| digest::hash(self.algorithm, response_body));
        let a2 = match &body_hash {
            Some(h) => format!(":{}:{}", self.uri, h.as_str()),
            None => format!(":{}", self.uri),
        };
        let ha2 = digest::hash(self.algorithm, a2.as_bytes());
        let ha1 = self.ha1();
        let kd = match self.qop_params() {
            Some(q) => format!(
                "{}:{}:{}:{}:{}:{}",
                ha1.as_str(),
                self.nonce,
                String::from_utf8_lossy(&q.nc.to_hex()),
                self.cnonce,
                q.qop.as_str(),
                ha2.as_str()
            ),
            None => format!("{}:{}:{}", ha1.as_str(), self.nonce, ha2.as_str()),
        };
        digest::hash(self.algorithm, kd.as_bytes())
    }

    /// The credentials' parameters, in the order of RFC 7616 §3.9.1.
    pub fn fields(&self) -> Fields {
        let username = if self.userhash {
            digest::userhash(
                self.algorithm,
                self.username.as_bytes(),
                self.realm.as_bytes(),
            )
            .as_str()
            .to_owned()
        } else {
            self.username.to_owned()
        };
        let mut fields = Fields(Vec::new())
            .set("username", &username, true)
            .set("realm", self.realm, true)
            .set("uri", self.uri, true)
            .set("algorithm", self.algorithm.name(), false)
            .set("nonce", self.nonce, true);
        if let Some(q) = self.qop_params() {
            fields = fields
                .set("nc", &String::from_utf8_lossy(&q.nc.to_hex()), false)
                .set("cnonce", &self.cnonce, true)
                .set("qop", q.qop.as_str(), false);
        }
        fields = fields.set("response", self.response().as_str(), true);
        if self.userhash {
            fields = fields.set("userhash", "true", false);
        }
        fields
    }

    /// The `Authorization` value.
    pub fn authorization(&self) -> String {
        self.fields().render()
    }
}

/// A Digest credentials value as a list of parameters, to change before rendering.
#[derive(Debug, Clone)]
pub struct Fields(Vec<(String, String, bool)>);

impl Fields {
    /// `name` set to `value` (quoted or not): in its place if present, else at the end.
    #[must_use]
    pub fn set(mut self, name: &str, value: &str, quoted: bool) -> Self {
        let param = (name.to_owned(), value.to_owned(), quoted);
        match self.0.iter_mut().find(|(n, ..)| n == name) {
            Some(slot) => *slot = param,
            None => self.0.push(param),
        }
        self
    }

    /// Without `name`.
    #[must_use]
    pub fn remove(mut self, name: &str) -> Self {
        self.0.retain(|(n, ..)| n != name);
        self
    }

    /// `Digest name=value, ...`, quoted values with `"` and `\` escaped.
    pub fn render(&self) -> String {
        let params: Vec<String> = self
            .0
            .iter()
            .map(|(name, value, quoted)| {
                if *quoted {
                    let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
                    format!("{name}=\"{escaped}\"")
                } else {
                    format!("{name}={value}")
                }
            })
            .collect();
        format!("Digest {}", params.join(", "))
    }
}

/// Reads one response head (up to the blank line) from an async `stream`, byte by byte so
/// that nothing after it is consumed; `None` at EOF or when it is not UTF-8.
pub async fn read_head_async(stream: &mut tokio::net::TcpStream) -> Option<String> {
    use tokio::io::AsyncReadExt;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).await.ok()? == 0 {
            return None;
        }
        head.extend_from_slice(&byte);
    }
    String::from_utf8(head).ok()
}

/// Reads the body of the response whose `head` [`read_head_async`] returned: its
/// `Content-Length` bytes (none without the field), so that the next response on the
/// connection can be read. `None` at EOF before the end or without a valid length.
pub async fn read_body_async(stream: &mut tokio::net::TcpStream, head: &str) -> Option<Vec<u8>> {
    use tokio::io::AsyncReadExt;
    let length = head
        .lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .map_or(Some(0), |(_, value)| value.trim().parse::<usize>().ok())?;
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).await.ok()?;
    Some(body)
}
