//! The client state machine against a strict test server, in one process, deterministically.
//!
//! The server is built only from the crate's public primitives (`ChallengeParams`,
//! `DigestCredentials`, `digest::*`, `AuthenticationInfoParams`) and checks every header the
//! client produces: realm, nonce (known, not expired, not superseded by `nextnonce`), `uri`
//! against the request-target, algorithm and its spelling, qop, opaque, nonce count strictly
//! increasing per nonce, cnonce never reused, userhash, `username*`, quoting of every
//! parameter, the request-digest (with the body for `auth-int`). A protocol violation is
//! answered with 400 and recorded; a network dropped with unexpected violations fails the
//! test.
//!
//! The driver [`run`] plays the adapter: `begin`, send, `handle_response`, re-send with the
//! headers of `Action::Send` (replacing the previous ones), and asserts that the client never
//! asks for more than two extra sends nor re-sends a streamed body.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;
use common::TestRng;

use std::collections::HashMap;

use httpdigest::client::{
    Action, AuthHeaders, BasicPolicy, BodySource, Client, ClientConfig, Credentials, Failure,
    Origin, OriginRef, Request, Response, Scheme, SelectionOrder,
};
use httpdigest::digest::{self, QopParams};
use httpdigest::{
    Algorithm, AuthenticationInfoParams, ChallengeParams, DigestCredentials, HexDigest, NonceCount,
    Qop, QopOptions, Username,
};

// ---------------------------------------------------------------------------------------------
// Deterministic randomness for the client.
// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// The wire.
// ---------------------------------------------------------------------------------------------

/// A request as it travels: what the adapter put on it.
#[derive(Debug, Clone)]
struct Wire {
    method: String,
    target: String,
    origin: Origin,
    via_proxy: bool,
    body: Vec<u8>,
    authorization: Option<String>,
    proxy_authorization: Option<String>,
}

/// A response as it comes back.
#[derive(Debug, Clone)]
struct WireResponse {
    status: u16,
    www_authenticate: Vec<String>,
    proxy_authenticate: Vec<String>,
    authentication_info: Option<String>,
    proxy_authentication_info: Option<String>,
    location: Option<String>,
    /// Set when the HTTP client below the adapter followed a redirect to another origin.
    answered_by: Option<Origin>,
}

impl WireResponse {
    fn new(status: u16) -> Self {
        Self {
            status,
            www_authenticate: Vec::new(),
            proxy_authenticate: Vec::new(),
            authentication_info: None,
            proxy_authentication_info: None,
            location: None,
            answered_by: None,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The strict server.
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// 401, `WWW-Authenticate`, `Authorization`, `Authentication-Info`.
    Origin,
    /// 407, `Proxy-Authenticate`, `Proxy-Authorization`, `Proxy-Authentication-Info`.
    Proxy,
}

/// What the server does when a valid request comes with an expired nonce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StaleMode {
    /// 401 with `stale=true` and a new nonce (RFC 7616 §3.3).
    Renew,
    /// Misbehaving: `stale=true` with the very nonce that just expired.
    SameNonce,
}

/// What the server puts in `Authentication-Info` on success.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum InfoMode {
    None,
    Rspauth,
    /// An `rspauth` computed with a key that is not the user's H(A1).
    ForgedRspauth,
    /// A correct `rspauth`, but a `cnonce` echo that is not the client's.
    WrongCnonceEcho,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BasicOffer {
    No,
    Only,
    /// `Basic` first, then the Digest challenges.
    AlsoDigest,
}

/// A successful Digest verification, as recorded by the server.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Auth {
    user: String,
    algorithm: Algorithm,
    qop: Option<Qop>,
    nc: Option<u32>,
    nonce: String,
    userhash: bool,
    extended_username: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Verdict {
    NoHeader,
    Ok(Auth),
    Basic(String),
    /// Wrong password, unknown user, unknown nonce after a restart: a fresh challenge.
    Rejected(&'static str),
    /// Valid, but the nonce has expired.
    Stale(String),
    /// The client broke the protocol.
    Violation(String),
}

#[derive(Debug, Clone)]
struct Hit {
    origin: Origin,
    target: String,
    header: Option<String>,
    verdict: Verdict,
}

struct NonceState {
    issued_at: u64,
    last_nc: u32,
    cnonces: Vec<Vec<u8>>,
    superseded: bool,
}

/// What `check` accepted, for the expiry check and `Authentication-Info`.
struct Accepted {
    user: String,
    algorithm: Algorithm,
    qop: Option<Qop>,
    nc: Option<NonceCount>,
    cnonce: Vec<u8>,
    nonce: String,
    /// Session H(A1) for `-sess`.
    ha1: HexDigest,
    uri: Vec<u8>,
    userhash: bool,
    extended_username: bool,
}

enum Checked {
    Basic(String),
    Digest(Box<Accepted>),
}

struct Server {
    name: &'static str,
    role: Role,
    realm: String,
    users: Vec<(String, String)>,
    /// One challenge per entry, in this order; `None` sends no `algorithm` (MD5 implied).
    algorithms: Vec<Option<Algorithm>>,
    /// Spell the `algorithm` tokens in lower case (the client must echo that spelling).
    lowercase_algorithm: bool,
    /// Every challenge in one field instead of one field each.
    one_field: bool,
    qop: QopOptions,
    userhash: bool,
    charset_utf8: bool,
    opaque: Option<String>,
    domain: Vec<String>,
    stale: StaleMode,
    info: InfoMode,
    nextnonce: bool,
    basic: BasicOffer,
    /// Path prefixes that need authentication (origin role).
    protected: Vec<String>,
    /// target -> Location, answered with 302 after authentication.
    redirects: Vec<(String, String)>,
    lifetime: u64,
    now: u64,
    seq: u32,
    nonces: HashMap<String, NonceState>,
    /// After a restart, an unknown nonce is an ordinary rejection, not a client error.
    forgot_nonces: bool,
    hits: Vec<Hit>,
    expect_violations: bool,
}

const USER: &str = "Mufasa";
const PASS: &str = "Circle of Life";
/// An opaque with a quote and a backslash: it must come back byte for byte.
const OPAQUE: &str = r#"FQhe/qaU925"kfnzjCev0\ciny7QMkPqMAFRtzCUYo5tdS"#;

impl Server {
    fn origin(name: &'static str) -> Self {
        Self {
            name,
            role: Role::Origin,
            realm: format!("api@{name}.example"),
            users: vec![(USER.into(), PASS.into())],
            algorithms: vec![Some(Algorithm::Sha256)],
            lowercase_algorithm: false,
            one_field: false,
            qop: QopOptions::AUTH,
            userhash: false,
            charset_utf8: false,
            opaque: Some(OPAQUE.into()),
            domain: Vec::new(),
            stale: StaleMode::Renew,
            info: InfoMode::None,
            nextnonce: false,
            basic: BasicOffer::No,
            protected: vec!["/".into()],
            redirects: Vec::new(),
            lifetime: 300,
            now: 1_000,
            seq: 0,
            nonces: HashMap::new(),
            forgot_nonces: false,
            hits: Vec::new(),
            expect_violations: false,
        }
    }

    fn proxy(name: &'static str) -> Self {
        Self {
            role: Role::Proxy,
            realm: format!("proxy@{name}.example"),
            users: vec![("proxyuser".into(), "proxy secret".into())],
            opaque: Some(format!("{name}-opaque")),
            ..Self::origin(name)
        }
    }

    fn new_nonce(&mut self) -> String {
        self.seq += 1;
        let nonce = format!("{}-{:04}-7ypf/xlj+9XXw=", self.name, self.seq);
        self.nonces.insert(
            nonce.clone(),
            NonceState {
                issued_at: self.now,
                last_nc: 0,
                cnonces: Vec::new(),
                superseded: false,
            },
        );
        nonce
    }

    /// Forgets every nonce, as a restarted server would.
    fn restart(&mut self) {
        self.nonces.clear();
        self.forgot_nonces = true;
    }

    fn challenge_status(&self) -> u16 {
        match self.role {
            Role::Origin => 401,
            Role::Proxy => 407,
        }
    }

    fn algorithm_spelling(&self, a: Algorithm) -> String {
        if self.lowercase_algorithm {
            a.name().to_ascii_lowercase()
        } else {
            a.name().to_owned()
        }
    }

    /// A 401 (407) with one challenge per configured algorithm.
    fn challenge(&mut self, stale: bool, same_nonce: Option<String>) -> WireResponse {
        let nonce = match same_nonce {
            Some(n) => n,
            None => self.new_nonce(),
        };
        let domain: Vec<&str> = self.domain.iter().map(String::as_str).collect();
        let mut values = Vec::new();
        if self.basic != BasicOffer::No {
            values.push(format!("Basic realm=\"{}\"", self.realm));
        }
        if self.basic != BasicOffer::Only {
            for alg in &self.algorithms {
                let mut value = ChallengeParams {
                    realm: &self.realm,
                    domain: &domain,
                    nonce: &nonce,
                    opaque: self.opaque.as_deref(),
                    stale,
                    algorithm: *alg,
                    qop: self.qop,
                    charset_utf8: self.charset_utf8,
                    userhash: self.userhash,
                }
                .to_header_value()
                .unwrap();
                if let Some(a) = alg {
                    value = value.replace(
                        &format!("algorithm={}", a.name()),
                        &format!("algorithm={}", self.algorithm_spelling(*a)),
                    );
                }
                values.push(value);
            }
        }
        let values = if self.one_field {
            vec![values.join(", ")]
        } else {
            values
        };
        let mut r = WireResponse::new(self.challenge_status());
        match self.role {
            Role::Origin => r.www_authenticate = values,
            Role::Proxy => r.proxy_authenticate = values,
        }
        r
    }

    fn is_protected(&self, target: &str) -> bool {
        match self.role {
            Role::Proxy => true,
            Role::Origin => {
                let path = target_path(target);
                self.protected.iter().any(|p| path.starts_with(p.as_str()))
            }
        }
    }

    /// Checks the request's credentials. `Ok(info)`: let it through, with this
    /// `(Proxy-)Authentication-Info`; `Err(response)`: answer with it.
    fn gate(&mut self, req: &Wire) -> Result<Option<String>, Box<WireResponse>> {
        let header = match self.role {
            Role::Origin => req.authorization.clone(),
            Role::Proxy => req.proxy_authorization.clone(),
        };
        let protected = self.is_protected(&req.target);
        let (verdict, info) = match &header {
            None => (Verdict::NoHeader, None),
            Some(h) => self.verify(req, h),
        };
        self.hits.push(Hit {
            origin: req.origin.clone(),
            target: req.target.clone(),
            header,
            verdict: verdict.clone(),
        });
        let challenge = match verdict {
            Verdict::Violation(_) => WireResponse::new(400),
            _ if !protected => return Ok(None),
            Verdict::Ok(_) => return Ok(info),
            Verdict::Basic(_) => return Ok(None),
            Verdict::NoHeader | Verdict::Rejected(_) => self.challenge(false, None),
            Verdict::Stale(nonce) => match self.stale {
                StaleMode::Renew => self.challenge(true, None),
                StaleMode::SameNonce => self.challenge(true, Some(nonce)),
            },
        };
        Err(Box::new(challenge))
    }

    fn verify(&mut self, req: &Wire, header: &str) -> (Verdict, Option<String>) {
        let accepted = match self.check(req, header) {
            Err(v) => return (v, None),
            Ok(Checked::Basic(user)) => return (Verdict::Basic(user), None),
            Ok(Checked::Digest(a)) => a,
        };
        let issued_at = self.nonces[&accepted.nonce].issued_at;
        if self.now >= issued_at.saturating_add(self.lifetime) {
            return (Verdict::Stale(accepted.nonce.clone()), None);
        }
        let info = self.info_for(&accepted);
        let verdict = Verdict::Ok(Auth {
            user: accepted.user.clone(),
            algorithm: accepted.algorithm,
            qop: accepted.qop,
            nc: accepted.nc.map(NonceCount::get),
            nonce: accepted.nonce.clone(),
            userhash: accepted.userhash,
            extended_username: accepted.extended_username,
        });
        (verdict, info)
    }

    fn info_for(&mut self, a: &Accepted) -> Option<String> {
        let next = if self.nextnonce {
            self.nonces.get_mut(&a.nonce).unwrap().superseded = true;
            Some(self.new_nonce())
        } else {
            None
        };
        let qp = a.qop.map(|qop| QopParams {
            qop,
            nc: a.nc.unwrap(),
            cnonce: &a.cnonce,
        });
        // Our responses have an empty body.
        let body = (a.qop == Some(Qop::AuthInt)).then(|| digest::hash(a.algorithm, b""));
        let key = match self.info {
            InfoMode::ForgedRspauth => digest::hash(a.algorithm, b"not the user's H(A1)"),
            _ => a.ha1,
        };
        let rspauth = digest::rspauth(
            a.algorithm,
            &key,
            a.nonce.as_bytes(),
            qp,
            &a.uri,
            body.as_ref(),
        );
        let cnonce = String::from_utf8(a.cnonce.clone()).unwrap();
        let wrong_cnonce = "0123456789abcdef0123456789abcdef".to_owned();
        let params = match self.info {
            InfoMode::None => AuthenticationInfoParams {
                nextnonce: next.as_deref(),
                ..AuthenticationInfoParams::default()
            },
            InfoMode::Rspauth | InfoMode::ForgedRspauth | InfoMode::WrongCnonceEcho => {
                AuthenticationInfoParams {
                    nextnonce: next.as_deref(),
                    qop: a.qop,
                    rspauth: Some(rspauth.as_str()),
                    cnonce: a.qop.map(|_| {
                        if self.info == InfoMode::WrongCnonceEcho {
                            wrong_cnonce.as_str()
                        } else {
                            cnonce.as_str()
                        }
                    }),
                    nc: a.nc,
                }
            }
        };
        if params == AuthenticationInfoParams::default() {
            return None;
        }
        Some(params.to_header_value().unwrap())
    }

    fn check(&mut self, req: &Wire, header: &str) -> Result<Checked, Verdict> {
        let bad = |m: String| Verdict::Violation(m);
        if header.len() >= 6 && header[..6].eq_ignore_ascii_case("Basic ") {
            if self.basic == BasicOffer::No {
                return Err(bad("Basic credentials to a server that offered none".into()));
            }
            for (user, password) in &self.users {
                if header == basic_value(user, password) {
                    return Ok(Checked::Basic(user.clone()));
                }
            }
            return Err(Verdict::Rejected("wrong Basic credentials"));
        }
        let creds = DigestCredentials::parse(header.as_bytes())
            .map_err(|e| bad(format!("unparsable credentials: {e}")))?;

        // Wire form: what is quoted and what is not (RFC 7616 §3.4).
        for p in creds.params() {
            let quoted = [
                "username", "realm", "uri", "nonce", "cnonce", "response", "opaque",
            ];
            let bare = ["username*", "algorithm", "qop", "nc", "userhash"];
            if quoted.iter().any(|n| p.name.eq_ignore_ascii_case(n)) && !p.value.is_quoted() {
                return Err(bad(format!("`{}` must be quoted", p.name)));
            }
            if bare.iter().any(|n| p.name.eq_ignore_ascii_case(n)) && p.value.is_quoted() {
                return Err(bad(format!("`{}` must not be quoted", p.name)));
            }
            if p.name.eq_ignore_ascii_case("nc")
                && !p
                    .value
                    .raw()
                    .iter()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
            {
                return Err(bad("nc must be lower-case hex".into()));
            }
        }
        if let Some(p) = creds.unknown_params().next() {
            return Err(bad(format!("unknown parameter `{}`", p.name)));
        }

        if creds.realm().unescaped().as_ref() != self.realm.as_bytes() {
            return Err(bad(format!("wrong realm {:?}", creds.realm())));
        }
        let nonce = String::from_utf8(creds.nonce().unescaped().into_owned())
            .map_err(|_| bad("nonce is not UTF-8".into()))?;
        let Some(state) = self.nonces.get(&nonce) else {
            return Err(if self.forgot_nonces {
                Verdict::Rejected("unknown nonce")
            } else {
                bad(format!("nonce {nonce:?} was never issued by {}", self.name))
            });
        };
        if state.superseded {
            return Err(bad("a nonce replaced by nextnonce was used again".into()));
        }
        if creds.uri().unescaped().as_ref() != req.target.as_bytes() {
            return Err(bad(format!(
                "uri {:?} is not the request-target {:?}",
                creds.uri(),
                req.target
            )));
        }

        let algorithm = match creds.algorithm_param() {
            None => {
                if !self.algorithms.contains(&None) {
                    return Err(bad("no algorithm, but every challenge named one".into()));
                }
                Algorithm::Md5
            }
            Some(p) => {
                let a = Algorithm::from_token(&p.unescaped())
                    .ok_or_else(|| bad("unknown algorithm".into()))?;
                if !self.algorithms.contains(&Some(a)) {
                    return Err(bad(format!("algorithm {a} was not offered")));
                }
                if p.raw() != self.algorithm_spelling(a).as_bytes() {
                    return Err(bad("algorithm not echoed as the server spelled it".into()));
                }
                a
            }
        };

        let qop = creds.qop();
        let cnonce = creds.cnonce().map(|c| c.unescaped().into_owned());
        if self.qop.is_empty() {
            if qop.is_some() || creds.nc().is_some() || cnonce.is_some() {
                return Err(bad("qop, nc or cnonce sent but no qop was offered".into()));
            }
            if algorithm.is_session() {
                return Err(bad("-sess without qop".into()));
            }
        } else {
            let Some(q) = qop else {
                return Err(bad("qop missing though offered".into()));
            };
            if !self.qop.contains(q) {
                return Err(bad(format!("qop {q} was not offered")));
            }
            if creds.nc().is_none() {
                return Err(bad("nc missing with qop".into()));
            }
            if cnonce.as_ref().is_none_or(Vec::is_empty) {
                return Err(bad("cnonce missing with qop".into()));
            }
        }
        let cnonce = cnonce.unwrap_or_default();

        match (&self.opaque, creds.opaque()) {
            (None, None) => {}
            (Some(o), Some(v)) if v.unescaped().as_ref() == o.as_bytes() => {}
            (o, v) => return Err(bad(format!("opaque {v:?} does not echo {o:?}"))),
        }

        let extended = matches!(creds.username(), Username::Extended(_));
        if extended && !self.charset_utf8 {
            return Err(bad(
                "username* to a server that did not send charset=UTF-8".into()
            ));
        }
        let name = creds.username_bytes();
        let user = if creds.userhash() {
            if !self.userhash {
                return Err(bad("userhash to a server that did not offer it".into()));
            }
            if extended {
                return Err(bad("userhash in username*".into()));
            }
            self.users.iter().find(|(u, _)| {
                digest::userhash(algorithm, u.as_bytes(), self.realm.as_bytes()).ct_eq(&name)
            })
        } else {
            self.users
                .iter()
                .find(|(u, _)| u.as_bytes() == name.as_ref())
        };
        let Some((user, password)) = user.cloned() else {
            return Err(Verdict::Rejected("unknown user"));
        };

        let ha1 = digest::ha1(
            algorithm,
            user.as_bytes(),
            self.realm.as_bytes(),
            password.as_bytes(),
        );
        let ha1 = if algorithm.is_session() {
            digest::session_ha1(algorithm, &ha1, nonce.as_bytes(), &cnonce)
        } else {
            ha1
        };
        let body = (qop == Some(Qop::AuthInt)).then(|| digest::hash(algorithm, &req.body));
        let uri = creds.uri().unescaped().into_owned();
        let ha2 = digest::ha2(algorithm, req.method.as_bytes(), &uri, body.as_ref());
        let nc = creds.nc();
        let qp = qop.map(|qop| QopParams {
            qop,
            nc: nc.unwrap(),
            cnonce: &cnonce,
        });
        let expected = digest::response(algorithm, &ha1, nonce.as_bytes(), qp, &ha2);
        if !expected.ct_eq(&creds.response().unescaped()) {
            return Err(Verdict::Rejected("wrong response"));
        }

        // Only a request that proves the password moves the nonce count.
        let state = self.nonces.get_mut(&nonce).unwrap();
        if let Some(nc) = nc {
            if nc.get() <= state.last_nc {
                return Err(bad(format!(
                    "nc {nc} not above the last one, {:08x}",
                    state.last_nc
                )));
            }
            if state.cnonces.contains(&cnonce) {
                return Err(bad("cnonce reused with the same nonce".into()));
            }
            state.last_nc = nc.get();
            state.cnonces.push(cnonce.clone());
        }
        Ok(Checked::Digest(Box::new(Accepted {
            user,
            algorithm,
            qop,
            nc,
            cnonce,
            nonce,
            ha1,
            uri,
            userhash: creds.userhash(),
            extended_username: extended,
        })))
    }

    fn violations(&self) -> Vec<&Verdict> {
        self.hits
            .iter()
            .map(|h| &h.verdict)
            .filter(|v| matches!(v, Verdict::Violation(_)))
            .collect()
    }

    fn last_hit(&self) -> &Hit {
        self.hits.last().expect("the server saw no request")
    }

    /// The successful Digest verifications, in order.
    fn oks(&self) -> Vec<&Auth> {
        self.hits
            .iter()
            .filter_map(|h| match &h.verdict {
                Verdict::Ok(a) => Some(a),
                _ => None,
            })
            .collect()
    }
}

/// The path of an origin-form or absolute-form target, query dropped.
fn target_path(target: &str) -> &str {
    let path = if target.starts_with('/') {
        target
    } else {
        Origin::parse_absolute(target).map_or("", |(_, p)| p)
    };
    path.split('?').next().unwrap_or(path)
}

fn basic_value(user: &str, password: &str) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let input = format!("{user}:{password}").into_bytes();
    let mut out = String::from("Basic ");
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(TABLE[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The network: origin servers, an optional forward proxy, an HTTP client that may follow
// redirects below the adapter.
// ---------------------------------------------------------------------------------------------

struct Net {
    /// Each server answers for these origins.
    servers: Vec<(Vec<Origin>, Server)>,
    proxy: Option<Server>,
    follow_redirects: bool,
}

/// A network dropped with violations its servers did not expect fails the test.
impl Drop for Net {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        let servers = self
            .servers
            .iter()
            .map(|(_, s)| s)
            .chain(self.proxy.as_ref());
        for server in servers.filter(|s| !s.expect_violations) {
            let v = server.violations();
            assert!(v.is_empty(), "server {} saw violations: {v:?}", server.name);
        }
    }
}

impl Net {
    fn new() -> Self {
        Self {
            servers: Vec::new(),
            proxy: None,
            follow_redirects: false,
        }
    }

    fn serve(mut self, origins: &[Origin], server: Server) -> Self {
        self.servers.push((origins.to_vec(), server));
        self
    }

    fn server(&mut self, i: usize) -> &mut Server {
        &mut self.servers[i].1
    }

    fn send(&mut self, req: Wire) -> WireResponse {
        let mut proxy_info = None;
        if req.via_proxy {
            let proxy = self
                .proxy
                .as_mut()
                .expect("a request through a proxy, but the network has none");
            match proxy.gate(&req) {
                Err(r) => return *r,
                Ok(info) => proxy_info = info,
            }
        }
        // The proxy consumes Proxy-Authorization; an origin must never see it.
        let req = Wire {
            proxy_authorization: None,
            ..req
        };
        let mut resp = self.deliver(&req);
        let mut hops = 0;
        while self.follow_redirects && resp.status == 302 && hops < 5 {
            hops += 1;
            let location = resp.location.clone().unwrap();
            let (origin, path) = Origin::parse_absolute(&location).unwrap();
            // As reqwest does: credentials do not follow a redirect to another origin.
            let authorization = if origin == req.origin {
                req.authorization.clone()
            } else {
                None
            };
            let next = Wire {
                target: path.to_owned(),
                origin: origin.clone(),
                authorization,
                ..req.clone()
            };
            resp = self.deliver(&next);
            resp.answered_by = Some(origin);
        }
        resp.proxy_authentication_info = proxy_info;
        resp
    }

    fn deliver(&mut self, req: &Wire) -> WireResponse {
        let server = self
            .servers
            .iter_mut()
            .find(|(origins, _)| origins.contains(&req.origin))
            .map(|(_, s)| s)
            .unwrap_or_else(|| panic!("no server for {:?}", req.origin));
        match server.gate(req) {
            Err(r) => *r,
            Ok(info) => {
                if let Some((_, location)) = server.redirects.iter().find(|(t, _)| *t == req.target)
                {
                    let mut r = WireResponse::new(302);
                    r.location = Some(location.clone());
                    r.authentication_info = info;
                    return r;
                }
                let mut r = WireResponse::new(200);
                r.authentication_info = info;
                r
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The driver: what an adapter does.
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy)]
enum Body {
    Bytes,
    /// The caller hashed the body with this algorithm's hash.
    Hashed(Algorithm),
    Streamed,
}

#[derive(Debug, Clone)]
struct Req {
    method: &'static str,
    target: String,
    origin: Origin,
    proxy: Option<Origin>,
    body: Vec<u8>,
    body_kind: Body,
}

impl Req {
    fn get(origin: &Origin, target: &str) -> Self {
        Self {
            method: "GET",
            target: target.into(),
            origin: origin.clone(),
            proxy: None,
            body: Vec::new(),
            body_kind: Body::Bytes,
        }
    }

    fn post(origin: &Origin, target: &str, body: &[u8], kind: Body) -> Self {
        Self {
            method: "POST",
            body: body.to_vec(),
            body_kind: kind,
            ..Self::get(origin, target)
        }
    }
}

#[derive(Debug)]
struct Outcome {
    status: u16,
    exchanges: usize,
    result: Result<(), Failure>,
    /// The auth headers of every send, in order.
    sent: Vec<AuthHeaders>,
    /// `Exchange::out_of_scope` after `begin`.
    out_of_scope: bool,
}

impl Outcome {
    fn authorization(&self, send: usize) -> &str {
        self.sent[send]
            .authorization
            .as_deref()
            .unwrap_or_else(|| panic!("send {send} had no Authorization: {:?}", self.sent))
    }

    fn proxy_authorization(&self, send: usize) -> &str {
        self.sent[send]
            .proxy_authorization
            .as_deref()
            .unwrap_or_else(|| panic!("send {send} had no Proxy-Authorization: {:?}", self.sent))
    }
}

/// Plays one request through the network as an adapter would.
fn run(client: &mut Client, rng: &mut TestRng, net: &mut Net, req: &Req) -> Outcome {
    let body = match req.body_kind {
        Body::Bytes => BodySource::Bytes(&req.body),
        Body::Hashed(algorithm) => BodySource::Hashed {
            algorithm,
            digest: digest::hash(algorithm, &req.body),
        },
        Body::Streamed => BodySource::NotReplayable,
    };
    let request = Request {
        method: req.method,
        target: &req.target,
        origin: OriginRef::of(&req.origin),
        proxy: req.proxy.as_ref().map(OriginRef::of),
        body,
    };
    let (mut exchange, mut headers) = client.begin(&request, rng);
    let out_of_scope = exchange.out_of_scope();
    if out_of_scope {
        assert_eq!(
            headers.authorization, None,
            "credentials to an origin out of scope"
        );
    }
    let mut sent = Vec::new();
    loop {
        sent.push(headers.clone());
        let resp = net.send(Wire {
            method: req.method.into(),
            target: req.target.clone(),
            origin: req.origin.clone(),
            via_proxy: req.proxy.is_some(),
            body: req.body.clone(),
            authorization: headers.authorization.clone(),
            proxy_authorization: headers.proxy_authorization.clone(),
        });
        let www: Vec<&[u8]> = resp.www_authenticate.iter().map(|s| s.as_bytes()).collect();
        let proxy: Vec<&[u8]> = resp
            .proxy_authenticate
            .iter()
            .map(|s| s.as_bytes())
            .collect();
        let response = Response {
            status: resp.status,
            www_authenticate: &www,
            proxy_authenticate: &proxy,
            authentication_info: resp.authentication_info.as_deref().map(str::as_bytes),
            proxy_authentication_info: resp.proxy_authentication_info.as_deref().map(str::as_bytes),
            origin: resp.answered_by.as_ref().map(OriginRef::of),
        };
        let result = match client.handle_response(&mut exchange, &request, &response, rng) {
            Action::Send(next) => {
                assert!(
                    sent.len() < 3,
                    "the client asked for a third extra send: {sent:?}"
                );
                assert!(
                    !matches!(req.body_kind, Body::Streamed),
                    "the client asked to re-send a streamed body"
                );
                assert!(
                    next.authorization.is_some() || next.proxy_authorization.is_some(),
                    "a re-send without credentials cannot do better"
                );
                headers = next;
                continue;
            }
            Action::Done => Ok(()),
            Action::Fail(f) => Err(f),
        };
        assert_eq!(usize::from(exchange.extra_sends()) + 1, sent.len());
        // A finished exchange stays finished.
        assert_eq!(
            client.handle_response(&mut exchange, &request, &response, rng),
            Action::Done
        );
        return Outcome {
            status: resp.status,
            exchanges: sent.len(),
            result,
            sent,
            out_of_scope,
        };
    }
}

struct Sim {
    client: Client,
    rng: TestRng,
    net: Net,
}

impl Sim {
    fn new(server: Server) -> Self {
        Self::with(ClientConfig::default(), Net::new().serve(&[a()], server))
    }

    fn with(config: ClientConfig, net: Net) -> Self {
        Self {
            client: Client::new(Credentials::new(USER, PASS), config),
            rng: TestRng::new(7),
            net,
        }
    }

    fn run(&mut self, req: &Req) -> Outcome {
        run(&mut self.client, &mut self.rng, &mut self.net, req)
    }

    fn get(&mut self, target: &str) -> Outcome {
        self.run(&Req::get(&a(), target))
    }

    fn server(&mut self) -> &mut Server {
        self.net.server(0)
    }
}

fn a() -> Origin {
    Origin::new(Scheme::Http, "a.example", 80)
}

fn b() -> Origin {
    Origin::new(Scheme::Http, "b.example", 80)
}

fn config(f: impl FnOnce(&mut ClientConfig)) -> ClientConfig {
    let mut c = ClientConfig::default();
    f(&mut c);
    c
}

fn creds(header: &str) -> DigestCredentials<'_> {
    DigestCredentials::parse(header.as_bytes()).unwrap()
}

/// The raw (still escaped) value of a parameter of an `Authorization` value.
fn raw_param<'h>(header: &'h str, name: &str) -> Option<&'h [u8]> {
    creds(header)
        .params()
        .find(|p| p.name.eq_ignore_ascii_case(name))
        .map(|p| p.value.raw())
}

fn nc(header: &str) -> u32 {
    creds(header).nc().expect("no nc").get()
}

fn nonce(header: &str) -> String {
    creds(header).nonce().to_str().unwrap().into_owned()
}

fn assert_ok(out: &Outcome, exchanges: usize) {
    assert_eq!(
        (out.status, out.exchanges, &out.result),
        (200, exchanges, &Ok(())),
        "{out:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// The basic flow, nonce counts, stale nonces, rejection.
// ---------------------------------------------------------------------------------------------

#[test]
fn challenge_then_success_in_two_exchanges() {
    let mut sim = Sim::new(Server::origin("a"));
    let out = sim.get("/dir/index.html?x=1");
    assert_ok(&out, 2);
    assert_eq!(out.sent[0], AuthHeaders::default());
    let h = out.authorization(1);
    assert!(h.starts_with("Digest username=\"Mufasa\", realm=\"api@a.example\", "));
    assert!(h.contains(r#"uri="/dir/index.html?x=1""#), "{h}");
    assert!(h.contains("algorithm=SHA-256, "), "{h}");
    assert!(h.contains(", nc=00000001, "), "{h}");
    assert!(h.contains(", qop=auth, "), "{h}");
    assert!(h.contains(r#"opaque="FQhe/qaU925\"kfnzjCev0\\ciny7QMkPqMAFRtzCUYo5tdS""#));
    let cnonce = creds(h).cnonce().unwrap().to_str().unwrap().into_owned();
    assert_eq!(cnonce.len(), 32);
    assert!(cnonce.bytes().all(|b| b.is_ascii_hexdigit()));
    assert!(out.sent[1].proxy_authorization.is_none());
    let server = sim.server();
    assert_eq!(server.hits.len(), 2);
    assert_eq!(server.hits[0].verdict, Verdict::NoHeader);
    let oks = server.oks();
    assert_eq!(oks.len(), 1);
    assert_eq!(
        (
            oks[0].user.as_str(),
            oks[0].algorithm,
            oks[0].qop,
            oks[0].nc
        ),
        (USER, Algorithm::Sha256, Some(Qop::Auth), Some(1))
    );
}

#[test]
fn preemptive_reuse_counts_up_on_one_nonce() {
    let mut sim = Sim::new(Server::origin("a"));
    let first = sim.get("/one");
    assert_ok(&first, 2);
    let n = nonce(first.authorization(1));
    for (i, target) in ["/two", "/three", "/four"].into_iter().enumerate() {
        let out = sim.get(target);
        assert_ok(&out, 1);
        let h = out.authorization(0);
        assert_eq!(nonce(h), n);
        assert_eq!(nc(h), u32::try_from(i).unwrap() + 2);
        let expected = format!("nc={:08x}", i + 2);
        assert!(h.contains(&expected), "{h}");
        assert!(h.contains(&format!(r#"uri="{target}""#)));
    }
    let ncs: Vec<_> = sim.server().oks().iter().map(|a| a.nc.unwrap()).collect();
    assert_eq!(ncs, [1, 2, 3, 4]);
    assert_eq!(sim.server().hits.len(), 5);
}

#[test]
fn preemptive_can_be_turned_off() {
    let mut sim = Sim::with(
        config(|c| c.preemptive = false),
        Net::new().serve(&[a()], Server::origin("a")),
    );
    assert_ok(&sim.get("/one"), 2);
    let out = sim.get("/two");
    assert_ok(&out, 2);
    assert!(out.sent[0].authorization.is_none());
    // The second challenge carries a new nonce: the count starts again.
    assert_eq!(nc(out.authorization(1)), 1);
}

#[test]
fn nonce_count_restarts_on_a_new_nonce_after_a_server_restart() {
    let mut sim = Sim::new(Server::origin("a"));
    assert_ok(&sim.get("/1"), 2);
    let out = sim.get("/2");
    assert_ok(&out, 1);
    let old = nonce(out.authorization(0));
    assert_eq!(nc(out.authorization(0)), 2);

    sim.server().restart();
    let out = sim.get("/3");
    assert_ok(&out, 2);
    assert_eq!(nonce(out.authorization(0)), old);
    assert_eq!(
        sim.server().hits[3].verdict,
        Verdict::Rejected("unknown nonce")
    );
    let h = out.authorization(1);
    assert_ne!(nonce(h), old);
    assert_eq!(nc(h), 1);
    assert!(h.contains("nc=00000001"));

    let out = sim.get("/4");
    assert_ok(&out, 1);
    assert_eq!(nc(out.authorization(0)), 2);
    assert_eq!(nonce(out.authorization(0)), nonce(h));
}

#[test]
fn stale_nonce_with_a_new_nonce_is_retried_once() {
    let mut sim = Sim::new(Server {
        lifetime: 60,
        ..Server::origin("a")
    });
    assert_ok(&sim.get("/1"), 2);
    assert_ok(&sim.get("/2"), 1);
    sim.server().now += 61;
    let out = sim.get("/3");
    assert_ok(&out, 2);
    let (h0, h1) = (out.authorization(0), out.authorization(1));
    assert_eq!(nc(h0), 3);
    assert!(matches!(sim.server().hits[3].verdict, Verdict::Stale(_)));
    assert_ne!(nonce(h0), nonce(h1));
    assert_eq!(nc(h1), 1);
    // The new nonce goes on counting.
    let out = sim.get("/4");
    assert_ok(&out, 1);
    assert_eq!(nc(out.authorization(0)), 2);
    assert_eq!(nonce(out.authorization(0)), nonce(h1));
}

#[test]
fn stale_with_the_same_nonce_is_not_retried() {
    let mut sim = Sim::new(Server {
        lifetime: 60,
        stale: StaleMode::SameNonce,
        ..Server::origin("a")
    });
    assert_ok(&sim.get("/1"), 2);
    sim.server().now += 61;
    let out = sim.get("/2");
    assert_eq!(out.status, 401);
    assert_eq!(out.exchanges, 1);
    assert_eq!(out.result, Err(Failure::StaleNonceNotRenewed));
    assert!(matches!(sim.server().last_hit().verdict, Verdict::Stale(_)));
}

#[test]
fn stale_with_the_same_nonce_does_not_poison_later_requests() {
    let mut sim = Sim::new(Server {
        lifetime: 60,
        stale: StaleMode::SameNonce,
        ..Server::origin("a")
    });
    assert_ok(&sim.get("/1"), 2);
    sim.server().now += 61;
    let out = sim.get("/2");
    assert_eq!(out.result, Err(Failure::StaleNonceNotRenewed));
    let dead = nonce(out.authorization(0));
    // The server hands a fresh nonce to any request without credentials: the next request
    // must not go out with the nonce the server declared dead.
    let out = sim.get("/3");
    assert!(
        out.sent[0]
            .authorization
            .as_deref()
            .is_none_or(|h| nonce(h) != dead),
        "{out:?}"
    );
    assert_ok(&out, 2);
}

#[test]
fn a_server_that_is_always_stale_cannot_make_the_client_loop() {
    // Every nonce expires at once: fresh challenge, answer, stale, answer, stale.
    let mut sim = Sim::new(Server {
        lifetime: 0,
        ..Server::origin("a")
    });
    let out = sim.get("/");
    assert_eq!(out.status, 401);
    assert_eq!(out.exchanges, 3);
    assert_eq!(out.result, Err(Failure::RetriesExhausted));
    let nonces: Vec<_> = out.sent[1..]
        .iter()
        .map(|h| nonce(h.authorization.as_deref().unwrap()))
        .collect();
    assert_ne!(nonces[0], nonces[1]);
    assert_eq!((nc(out.authorization(1)), nc(out.authorization(2))), (1, 1));
    assert_eq!(
        sim.server()
            .hits
            .iter()
            .filter(|h| matches!(h.verdict, Verdict::Stale(_)))
            .count(),
        2
    );
}

#[test]
fn wrong_password_is_tried_once_and_never_loops() {
    let mut sim = Sim::with(
        ClientConfig::default(),
        Net::new().serve(&[a()], Server::origin("a")),
    );
    sim.client = Client::new(
        Credentials::new(USER, "Circle Of Life"),
        ClientConfig::default(),
    );
    let out = sim.get("/");
    assert_eq!(
        (out.status, out.exchanges, &out.result),
        (401, 2, &Err(Failure::CredentialsRejected))
    );
    assert!(out.sent[0].authorization.is_none());
    assert_eq!(
        sim.server().last_hit().verdict,
        Verdict::Rejected("wrong response")
    );
    // The space was forgotten: the next request starts afresh and fails the same way.
    let out = sim.get("/");
    assert_eq!(
        (out.status, out.exchanges, &out.result),
        (401, 2, &Err(Failure::CredentialsRejected))
    );
    assert!(out.sent[0].authorization.is_none());
    assert_eq!(sim.server().hits.len(), 4);
    assert!(sim.server().oks().is_empty());
}

#[test]
fn a_rejected_preemptive_header_gets_one_fresh_answer() {
    let mut sim = Sim::new(Server::origin("a"));
    assert_ok(&sim.get("/1"), 2);
    sim.server().users[0].1 = "changed".into();
    let out = sim.get("/2");
    assert_eq!(
        (out.status, out.exchanges, &out.result),
        (401, 2, &Err(Failure::CredentialsRejected))
    );
    // The preemptive header used the old nonce, the answer the new one.
    assert_ne!(nonce(out.authorization(0)), nonce(out.authorization(1)));
    assert_eq!(nc(out.authorization(1)), 1);
    sim.server().users[0].1 = PASS.into();
    let out = sim.get("/3");
    assert!(out.sent[0].authorization.is_none());
    assert_ok(&out, 2);
}

#[test]
fn nextnonce_is_adopted() {
    // With and without rspauth next to it.
    for info in [InfoMode::Rspauth, InfoMode::None] {
        let mut sim = Sim::new(Server {
            nextnonce: true,
            info,
            ..Server::origin("a")
        });
        let first = sim.get("/1");
        assert_ok(&first, 2);
        let mut previous = nonce(first.authorization(1));
        for target in ["/2", "/3"] {
            let out = sim.get(target);
            assert_ok(&out, 1);
            let h = out.authorization(0);
            assert_ne!(nonce(h), previous);
            assert_eq!(nc(h), 1);
            assert!(h.contains("nc=00000001"));
            previous = nonce(h);
        }
        assert_eq!(sim.server().oks().len(), 3);
    }
}

// ---------------------------------------------------------------------------------------------
// Mutual authentication.
// ---------------------------------------------------------------------------------------------

#[test]
fn good_rspauth_is_accepted_even_when_required() {
    let server = Server {
        info: InfoMode::Rspauth,
        ..Server::origin("a")
    };
    let mut sim = Sim::with(
        config(|c| c.require_mutual_auth = true),
        Net::new().serve(&[a()], server),
    );
    assert_ok(&sim.get("/1"), 2);
    assert_ok(&sim.get("/2"), 1);
}

#[test]
fn forged_rspauth_fails_and_the_space_is_forgotten() {
    let mut sim = Sim::new(Server {
        info: InfoMode::ForgedRspauth,
        ..Server::origin("a")
    });
    let out = sim.get("/1");
    assert_eq!(
        (out.status, out.exchanges, &out.result),
        (200, 2, &Err(Failure::MutualAuthFailed))
    );
    // Nothing more goes to a server that could not prove it knows the password.
    let out = sim.get("/2");
    assert!(out.sent[0].authorization.is_none());
    assert_eq!(out.result, Err(Failure::MutualAuthFailed));
}

#[test]
fn rspauth_with_a_foreign_cnonce_fails() {
    let mut sim = Sim::new(Server {
        info: InfoMode::WrongCnonceEcho,
        ..Server::origin("a")
    });
    let out = sim.get("/1");
    assert_eq!(
        (out.status, out.exchanges, &out.result),
        (200, 2, &Err(Failure::MutualAuthFailed))
    );
}

#[test]
fn required_mutual_auth_without_rspauth_fails() {
    let mut sim = Sim::with(
        config(|c| c.require_mutual_auth = true),
        Net::new().serve(&[a()], Server::origin("a")),
    );
    let out = sim.get("/1");
    assert_eq!(
        (out.status, out.exchanges, &out.result),
        (200, 2, &Err(Failure::MutualAuthMissing))
    );
    assert_eq!(sim.server().oks().len(), 1);
}

#[test]
fn required_mutual_auth_with_auth_int_cannot_be_checked() {
    let server = Server {
        info: InfoMode::Rspauth,
        qop: QopOptions::AUTH_INT,
        ..Server::origin("a")
    };
    let mut sim = Sim::with(
        config(|c| c.require_mutual_auth = true),
        Net::new().serve(&[a()], server),
    );
    let out = sim.run(&Req::post(&a(), "/p", b"{}", Body::Bytes));
    assert_eq!(out.result, Err(Failure::MutualAuthMissing));
    assert_eq!(sim.server().oks()[0].qop, Some(Qop::AuthInt));
}

// ---------------------------------------------------------------------------------------------
// auth-int and bodies.
// ---------------------------------------------------------------------------------------------

const BODY: &[u8] = b"{\"lion\": \"king\", \"sum\": 42}\r\n";

#[test]
fn auth_int_with_the_body_in_memory() {
    let mut sim = Sim::new(Server {
        qop: QopOptions::AUTH_INT,
        info: InfoMode::Rspauth,
        ..Server::origin("a")
    });
    let out = sim.run(&Req::post(&a(), "/upload", BODY, Body::Bytes));
    assert_ok(&out, 2);
    assert!(out.authorization(1).contains("qop=auth-int"));
    let out = sim.run(&Req::post(&a(), "/upload", b"other body", Body::Bytes));
    assert_ok(&out, 1);
    let quals: Vec<_> = sim.server().oks().iter().map(|a| a.qop).collect();
    assert_eq!(quals, [Some(Qop::AuthInt), Some(Qop::AuthInt)]);
}

#[test]
fn auth_int_with_a_prehashed_body() {
    let mut sim = Sim::new(Server {
        qop: QopOptions::AUTH_INT,
        ..Server::origin("a")
    });
    let out = sim.run(&Req::post(
        &a(),
        "/upload",
        BODY,
        Body::Hashed(Algorithm::Sha256),
    ));
    assert_ok(&out, 2);
    assert!(out.authorization(1).contains("qop=auth-int"));
    // SHA-256-sess uses the same hash: the digest fits.
    let out = sim.run(&Req::post(
        &a(),
        "/upload",
        BODY,
        Body::Hashed(Algorithm::Sha256Sess),
    ));
    assert_ok(&out, 1);
}

#[test]
fn auth_int_with_a_body_hashed_by_another_function() {
    let mut sim = Sim::new(Server {
        qop: QopOptions::AUTH_INT,
        ..Server::origin("a")
    });
    let out = sim.run(&Req::post(
        &a(),
        "/upload",
        BODY,
        Body::Hashed(Algorithm::Md5),
    ));
    assert_eq!(
        (out.status, out.exchanges, &out.result),
        (401, 1, &Err(Failure::AuthIntNeedsReplayableBody))
    );
}

#[test]
fn auth_int_falls_back_to_auth_without_a_usable_body_hash() {
    // auth-int preferred, both offered, body hashed with the wrong function: auth.
    let server = Server {
        qop: QopOptions::BOTH,
        ..Server::origin("a")
    };
    let mut sim = Sim::with(
        config(|c| c.prefer_auth_int = true),
        Net::new().serve(&[a()], server),
    );
    let out = sim.run(&Req::post(&a(), "/u", BODY, Body::Hashed(Algorithm::Md5)));
    assert_ok(&out, 2);
    assert_eq!(sim.server().oks()[0].qop, Some(Qop::Auth));
    let out = sim.run(&Req::post(&a(), "/u", BODY, Body::Bytes));
    assert_ok(&out, 1);
    assert_eq!(sim.server().oks()[1].qop, Some(Qop::AuthInt));
}

#[test]
fn auth_is_chosen_over_auth_int_by_default() {
    let mut sim = Sim::new(Server {
        qop: QopOptions::BOTH,
        ..Server::origin("a")
    });
    let out = sim.run(&Req::post(&a(), "/u", BODY, Body::Bytes));
    assert_ok(&out, 2);
    assert!(out.authorization(1).contains("qop=auth,"));
}

#[test]
fn auth_int_only_with_a_streamed_body() {
    let mut sim = Sim::new(Server {
        qop: QopOptions::AUTH_INT,
        ..Server::origin("a")
    });
    let out = sim.run(&Req::post(&a(), "/upload", BODY, Body::Streamed));
    assert_eq!(out.exchanges, 1);
    assert_eq!(out.result, Err(Failure::AuthIntNeedsReplayableBody));
    // Even with the space known, a streamed body cannot go out with auth-int credentials.
    assert_ok(&sim.run(&Req::post(&a(), "/upload", BODY, Body::Bytes)), 1);
    let out = sim.run(&Req::post(&a(), "/upload", BODY, Body::Streamed));
    assert!(out.sent[0].authorization.is_none());
    assert_eq!(out.result, Err(Failure::AuthIntNeedsReplayableBody));
}

#[test]
fn auth_int_only_with_a_streamed_body_is_refused_without_a_resend() {
    // What the client does today (see the ignored test above for what it should report).
    let mut sim = Sim::new(Server {
        qop: QopOptions::AUTH_INT,
        ..Server::origin("a")
    });
    let out = sim.run(&Req::post(&a(), "/upload", BODY, Body::Streamed));
    assert_eq!(out.exchanges, 1);
    assert!(matches!(
        out.result,
        Err(Failure::BodyNotReplayable | Failure::AuthIntNeedsReplayableBody)
    ));
    assert_ok(&sim.run(&Req::post(&a(), "/upload", BODY, Body::Bytes)), 1);
    let out = sim.run(&Req::post(&a(), "/upload", BODY, Body::Streamed));
    assert!(out.sent[0].authorization.is_none());
    assert_eq!(out.exchanges, 1);
}

#[test]
fn a_streamed_body_learns_the_challenge_for_the_next_request() {
    let mut sim = Sim::new(Server::origin("a"));
    let out = sim.run(&Req::post(&a(), "/stream", BODY, Body::Streamed));
    assert_eq!(
        (out.status, out.exchanges, &out.result),
        (401, 1, &Err(Failure::BodyNotReplayable))
    );
    let out = sim.run(&Req::post(&a(), "/upload", BODY, Body::Bytes));
    assert_ok(&out, 1);
    assert_eq!(nc(out.authorization(0)), 1);
    // A streamed body to a known space needs no re-send with qop=auth.
    let out = sim.run(&Req::post(&a(), "/stream", BODY, Body::Streamed));
    assert_ok(&out, 1);
    assert_eq!(nc(out.authorization(0)), 2);
}

// ---------------------------------------------------------------------------------------------
// User names.
// ---------------------------------------------------------------------------------------------

const JASON: &str = "J\u{e4}s\u{f8}n Doe";

fn jason_sim(server: Server) -> Sim {
    let mut server = server;
    server.users = vec![(JASON.into(), "Secret, or not?".into())];
    let mut sim = Sim::new(server);
    sim.client = Client::new(
        Credentials::new(JASON, "Secret, or not?"),
        ClientConfig::default(),
    );
    sim
}

#[test]
fn userhash_hides_the_name() {
    let mut sim = Sim::new(Server {
        userhash: true,
        algorithms: vec![Some(Algorithm::Sha512_256)],
        ..Server::origin("a")
    });
    let out = sim.get("/doe.json");
    assert_ok(&out, 2);
    let h = out.authorization(1);
    let expected = digest::userhash(Algorithm::Sha512_256, USER.as_bytes(), b"api@a.example");
    assert_eq!(raw_param(h, "username"), Some(expected.as_bytes()));
    assert!(h.contains("userhash=true"));
    assert!(!h.contains(USER));
    assert_ok(&sim.get("/2"), 1);
    let oks = sim.server().oks();
    assert!(oks.iter().all(|a| a.userhash && a.user == USER));
}

#[test]
fn non_ascii_name_goes_in_username_star_with_charset() {
    let mut sim = jason_sim(Server {
        charset_utf8: true,
        ..Server::origin("a")
    });
    let out = sim.get("/doe.json");
    assert_ok(&out, 2);
    let h = out.authorization(1);
    assert!(
        h.starts_with("Digest username*=UTF-8''J%C3%A4s%C3%B8n%20Doe, "),
        "{h}"
    );
    assert!(raw_param(h, "username").is_none());
    let ok = &sim.server().oks()[0];
    assert!(ok.extended_username);
    assert_eq!(ok.user, JASON);
}

#[test]
fn ascii_name_stays_plain_with_charset() {
    let mut sim = Sim::new(Server {
        charset_utf8: true,
        ..Server::origin("a")
    });
    let out = sim.get("/");
    assert_ok(&out, 2);
    assert!(
        out.authorization(1)
            .starts_with("Digest username=\"Mufasa\", ")
    );
    assert!(!sim.server().oks()[0].extended_username);
}

#[test]
fn non_ascii_name_goes_raw_without_charset() {
    let mut sim = jason_sim(Server::origin("a"));
    let out = sim.get("/doe.json");
    assert_ok(&out, 2);
    let h = out.authorization(1);
    assert!(
        h.starts_with("Digest username=\"J\u{e4}s\u{f8}n Doe\", "),
        "{h}"
    );
    assert!(!h.contains("username*"));
    let ok = &sim.server().oks()[0];
    assert!(!ok.extended_username);
    assert_eq!(ok.user, JASON);
}

#[test]
fn non_ascii_name_with_userhash_and_charset() {
    let mut sim = jason_sim(Server {
        charset_utf8: true,
        userhash: true,
        algorithms: vec![Some(Algorithm::Sha512_256)],
        ..Server::origin("a")
    });
    let out = sim.get("/doe.json");
    assert_ok(&out, 2);
    let h = out.authorization(1);
    assert!(!h.contains("username*"));
    assert!(h.contains("userhash=true"));
    assert_eq!(sim.server().oks()[0].user, JASON);
}

// ---------------------------------------------------------------------------------------------
// Choosing among challenges.
// ---------------------------------------------------------------------------------------------

const THREE: [Option<Algorithm>; 3] = [
    Some(Algorithm::Md5),
    Some(Algorithm::Sha256),
    Some(Algorithm::Sha512_256),
];

#[test]
fn strongest_of_several_challenges_in_several_fields() {
    for (one_field, order) in [(false, [0, 1, 2]), (true, [2, 0, 1]), (false, [1, 2, 0])] {
        let mut sim = Sim::new(Server {
            algorithms: order.iter().map(|&i| THREE[i]).collect(),
            one_field,
            ..Server::origin("a")
        });
        let out = sim.get("/");
        assert_ok(&out, 2);
        assert!(out.authorization(1).contains("algorithm=SHA-512-256,"));
        assert_eq!(sim.server().oks()[0].algorithm, Algorithm::Sha512_256);
    }
}

#[test]
fn strongest_prefers_sha256_over_md5() {
    let mut sim = Sim::new(Server {
        algorithms: vec![Some(Algorithm::Md5), Some(Algorithm::Sha256)],
        ..Server::origin("a")
    });
    assert_ok(&sim.get("/"), 2);
    assert_eq!(sim.server().oks()[0].algorithm, Algorithm::Sha256);
}

#[test]
fn server_order_picks_the_first() {
    let server = Server {
        algorithms: THREE.to_vec(),
        ..Server::origin("a")
    };
    let mut sim = Sim::with(
        config(|c| c.order = SelectionOrder::ServerOrder),
        Net::new().serve(&[a()], server),
    );
    let out = sim.get("/");
    assert_ok(&out, 2);
    assert!(out.authorization(1).contains("algorithm=MD5,"));
    assert_eq!(sim.server().oks()[0].algorithm, Algorithm::Md5);
}

#[test]
fn minimum_algorithm_refuses_an_md5_only_server() {
    let server = Server {
        algorithms: vec![Some(Algorithm::Md5)],
        ..Server::origin("a")
    };
    let mut sim = Sim::with(
        config(|c| c.min_algorithm = Some(Algorithm::Sha256)),
        Net::new().serve(&[a()], server),
    );
    let out = sim.get("/");
    assert_eq!((out.status, out.exchanges), (401, 1));
    let Err(Failure::NoSupportedChallenge(why)) = &out.result else {
        panic!("{:?}", out.result);
    };
    assert_eq!(why.below_minimum, 1);
    assert_eq!(why.digest_offered, 1);
    assert!(!why.basic_refused);
}

#[test]
fn minimum_algorithm_takes_the_strong_one_of_a_mixed_offer() {
    let server = Server {
        algorithms: vec![Some(Algorithm::Md5), Some(Algorithm::Sha256)],
        ..Server::origin("a")
    };
    let mut sim = Sim::with(
        config(|c| {
            c.min_algorithm = Some(Algorithm::Sha256);
            c.order = SelectionOrder::ServerOrder;
        }),
        Net::new().serve(&[a()], server),
    );
    assert_ok(&sim.get("/"), 2);
    assert_eq!(sim.server().oks()[0].algorithm, Algorithm::Sha256);
}

#[test]
fn algorithm_is_echoed_in_the_server_spelling() {
    let mut sim = Sim::new(Server {
        lowercase_algorithm: true,
        algorithms: vec![Some(Algorithm::Sha512_256Sess)],
        ..Server::origin("a")
    });
    let out = sim.get("/");
    assert_ok(&out, 2);
    assert!(out.authorization(1).contains("algorithm=sha-512-256-sess,"));
}

#[test]
fn session_algorithms() {
    for alg in [
        Algorithm::Md5Sess,
        Algorithm::Sha256Sess,
        Algorithm::Sha512_256Sess,
        Algorithm::Sha1Sess,
        Algorithm::Sha512Sess,
    ] {
        let mut sim = Sim::new(Server {
            algorithms: vec![Some(alg)],
            info: InfoMode::Rspauth,
            ..Server::origin("a")
        });
        let out = sim.get("/s");
        assert_ok(&out, 2);
        assert!(
            out.authorization(1)
                .contains(&format!("algorithm={},", alg.name()))
        );
        let out = sim.get("/s2");
        assert_ok(&out, 1);
        assert_eq!(nc(out.authorization(0)), 2);
        let oks: Vec<_> = sim.server().oks().iter().map(|a| a.algorithm).collect();
        assert_eq!(oks, [alg, alg]);
    }
}

#[test]
fn rfc2069_mode_sends_no_qop_nc_or_cnonce() {
    let mut sim = Sim::new(Server {
        algorithms: vec![None],
        qop: QopOptions::NONE,
        opaque: None,
        info: InfoMode::Rspauth,
        ..Server::origin("a")
    });
    let out = sim.get("/dir/index.html");
    assert_ok(&out, 2);
    let h = out.authorization(1);
    for absent in ["qop", "nc", "cnonce", "algorithm", "opaque"] {
        assert!(raw_param(h, absent).is_none(), "{absent} in {h}");
    }
    assert_ok(&sim.get("/again"), 1);
    let oks = sim.server().oks();
    assert_eq!(oks.len(), 2);
    assert!(
        oks.iter()
            .all(|a| a.qop.is_none() && a.algorithm == Algorithm::Md5)
    );
}

// ---------------------------------------------------------------------------------------------
// Basic.
// ---------------------------------------------------------------------------------------------

fn basic_sim(policy: BasicPolicy, origin: &Origin, offer: BasicOffer) -> Sim {
    let server = Server {
        basic: offer,
        ..Server::origin("a")
    };
    Sim::with(
        config(|c| c.basic = policy),
        Net::new().serve(std::slice::from_ref(origin), server),
    )
}

fn https_a() -> Origin {
    Origin::new(Scheme::Https, "a.example", 443)
}

#[test]
fn basic_is_refused_by_default() {
    let mut sim = basic_sim(BasicPolicy::Never, &https_a(), BasicOffer::Only);
    let out = sim.run(&Req::get(&https_a(), "/"));
    assert_eq!((out.status, out.exchanges), (401, 1));
    let Err(Failure::NoSupportedChallenge(why)) = &out.result else {
        panic!("{:?}", out.result);
    };
    assert!(why.basic_refused);
    assert_eq!(why.digest_offered, 0);
}

#[test]
fn basic_over_https_only() {
    let mut sim = basic_sim(BasicPolicy::HttpsOnly, &https_a(), BasicOffer::Only);
    let out = sim.run(&Req::get(&https_a(), "/"));
    assert_ok(&out, 2);
    assert_eq!(out.authorization(1), "Basic TXVmYXNhOkNpcmNsZSBvZiBMaWZl");
    assert_eq!(sim.server().last_hit().verdict, Verdict::Basic(USER.into()));
    // Preemptive from then on.
    let out = sim.run(&Req::get(&https_a(), "/2"));
    assert_ok(&out, 1);

    let mut sim = basic_sim(BasicPolicy::HttpsOnly, &a(), BasicOffer::Only);
    let out = sim.run(&Req::get(&a(), "/"));
    assert_eq!(out.exchanges, 1);
    let Err(Failure::NoSupportedChallenge(why)) = &out.result else {
        panic!("{:?}", out.result);
    };
    assert!(why.basic_refused);
}

#[test]
fn basic_always_works_over_http() {
    let mut sim = basic_sim(BasicPolicy::Always, &a(), BasicOffer::Only);
    let out = sim.run(&Req::get(&a(), "/"));
    assert_ok(&out, 2);
    assert!(out.authorization(1).starts_with("Basic "));
    assert_eq!(sim.server().last_hit().verdict, Verdict::Basic(USER.into()));
}

#[test]
fn digest_is_preferred_over_basic() {
    let mut sim = basic_sim(BasicPolicy::Always, &a(), BasicOffer::AlsoDigest);
    let out = sim.run(&Req::get(&a(), "/"));
    assert_ok(&out, 2);
    assert!(out.authorization(1).starts_with("Digest "));
    assert_eq!(sim.server().oks().len(), 1);
}

// ---------------------------------------------------------------------------------------------
// Proxies.
// ---------------------------------------------------------------------------------------------

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
    sim.client = Client::new(Credentials::new(USER, PASS), ClientConfig::default())
        .with_proxy_credentials(Credentials::new("proxyuser", "proxy secret"));
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
    let o = out.authorization(2);
    assert!(o.contains(r#"uri="http://a.example/res""#));
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

// ---------------------------------------------------------------------------------------------
// Origins and scope.
// ---------------------------------------------------------------------------------------------

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
    let mut client = Client::new(Credentials::new("user", "pw"), ClientConfig::default())
        .with_proxy_credentials(Credentials::new("proxy-user", "proxy-pw"));
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
    let Action::Send(headers) = action else {
        panic!("expected a send, got {action:?}")
    };
    assert!(headers.authorization.is_some());

    // The retry was redirected to b.example on the way, and the proxy challenges that.
    let proxy: [&[u8]; 1] = [br#"Digest realm="p", nonce="np", qop="auth""#];
    let redirected = Response {
        proxy_authenticate: &proxy,
        origin: Some(origin("b.example")),
        ..Response::new(407)
    };
    let action = client.handle_response(&mut exchange, &request, &redirected, &mut rng);
    let Action::Send(headers) = action else {
        panic!("expected a send, got {action:?}")
    };
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

// ---------------------------------------------------------------------------------------------
// The test server itself is strict: headers it must refuse.
// ---------------------------------------------------------------------------------------------

fn replay(sim: &mut Sim, header: &str, target: &str) -> (u16, Verdict) {
    let resp = sim.net.send(Wire {
        method: "GET".into(),
        target: target.into(),
        origin: a(),
        via_proxy: false,
        body: Vec::new(),
        authorization: Some(header.into()),
        proxy_authorization: None,
    });
    (resp.status, sim.server().last_hit().verdict.clone())
}

#[test]
fn the_server_refuses_replays_and_tampering() {
    let mut sim = Sim::new(Server::origin("a"));
    sim.server().expect_violations = true;
    let out = sim.get("/r");
    assert_ok(&out, 2);
    let h = out.authorization(1).to_owned();

    // Replayed: the same nc again.
    let (status, verdict) = replay(&mut sim, &h, "/r");
    assert_eq!(status, 400);
    assert!(matches!(verdict, Verdict::Violation(m) if m.contains("not above")));

    // Another request-target than the `uri`.
    let (status, verdict) = replay(&mut sim, &h, "/other");
    assert_eq!(status, 400);
    assert!(matches!(verdict, Verdict::Violation(m) if m.contains("request-target")));

    // Opaque dropped.
    let cut = h.split(", opaque=").next().unwrap().to_owned();
    let (status, verdict) = replay(&mut sim, &cut, "/r");
    assert_eq!(status, 400);
    assert!(matches!(verdict, Verdict::Violation(m) if m.contains("opaque")));

    // qop quoted.
    let quoted = h.replace("qop=auth", "qop=\"auth\"");
    let (_, verdict) = replay(&mut sim, &quoted, "/r");
    assert!(matches!(verdict, Verdict::Violation(m) if m.contains("qop")));

    // A higher nc with a recomputed response is fine; a tampered response is rejected.
    let tampered = h.replace("nc=00000001", "nc=00000009");
    let (status, verdict) = replay(&mut sim, &tampered, "/r");
    assert_eq!(status, 401);
    assert_eq!(verdict, Verdict::Rejected("wrong response"));

    assert_eq!(sim.server().violations().len(), 4);
}
