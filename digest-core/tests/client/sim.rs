//! The strict test server, the network and the driver the client tests run on.
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
//! The driver [`run`] plays the adapter: `begin`, sign, send, `handle_response`, re-send with
//! the signed ticket of `Action::Send` (its headers replacing the previous ones), and asserts
//! that the client never asks for more than two extra sends nor re-sends a streamed body.

use crate::common::TestRng;

use std::collections::HashMap;

use httpdigest::client::{
    Action, AuthHeaders, BodySource, Client, ClientConfig, Credentials, Failure, FieldValue,
    Request, Response, Ticket,
};
use httpdigest::digest::{self, QopParams};
use httpdigest::{
    Algorithm, AuthenticationInfoParams, ChallengeParams, DigestCredentials, HexDigest, NonceCount,
    Qop, QopOptions, Side, Username,
};
use httpdigest::{Origin, OriginRef, Scheme};

// ---------------------------------------------------------------------------------------------
// Deterministic randomness for the client.
// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// The wire.
// ---------------------------------------------------------------------------------------------

/// A request as it travels: what the adapter put on it.
#[derive(Debug, Clone)]
pub(crate) struct Wire {
    pub(crate) method: String,
    pub(crate) target: String,
    pub(crate) origin: Origin,
    pub(crate) via_proxy: bool,
    pub(crate) body: Vec<u8>,
    pub(crate) authorization: Option<FieldValue>,
    pub(crate) proxy_authorization: Option<FieldValue>,
    /// `Cookie`.
    pub(crate) cookie: Option<FieldValue>,
}

/// A response as it comes back.
#[derive(Debug, Clone)]
pub(crate) struct WireResponse {
    pub(crate) status: u16,
    pub(crate) www_authenticate: Vec<String>,
    pub(crate) proxy_authenticate: Vec<String>,
    pub(crate) authentication_info: Option<String>,
    pub(crate) proxy_authentication_info: Option<String>,
    pub(crate) location: Option<String>,
    pub(crate) set_cookie: Vec<String>,
    /// Set when the HTTP client below the adapter followed a redirect to another origin.
    pub(crate) answered_by: Option<Origin>,
    /// The body, as it arrives.
    pub(crate) body: Vec<u8>,
}

impl WireResponse {
    pub(crate) fn new(status: u16) -> Self {
        Self {
            status,
            www_authenticate: Vec::new(),
            proxy_authenticate: Vec::new(),
            authentication_info: None,
            proxy_authentication_info: None,
            location: None,
            set_cookie: Vec::new(),
            answered_by: None,
            body: Vec::new(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The strict server.
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// 401, `WWW-Authenticate`, `Authorization`, `Authentication-Info`.
    Origin,
    /// 407, `Proxy-Authenticate`, `Proxy-Authorization`, `Proxy-Authentication-Info`.
    Proxy,
}

/// What the server does when a valid request comes with an expired nonce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StaleMode {
    /// 401 with `stale=true` and a new nonce (RFC 7616 §3.3).
    Renew,
    /// Misbehaving: `stale=true` with the very nonce that just expired.
    SameNonce,
}

/// What the server puts in `Authentication-Info` on success.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InfoMode {
    None,
    Rspauth,
    /// An `rspauth` computed with a key that is not the user's H(A1).
    ForgedRspauth,
    /// A correct `rspauth`, but a `cnonce` echo that is not the client's.
    WrongCnonceEcho,
    /// A correct `rspauth`, but the body changed on the way (a man in the middle): for
    /// `auth-int` the `rspauth` covers the body the server sent, not this one.
    TamperedBody,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BasicOffer {
    No,
    Only,
    /// `Basic` first, then the Digest challenges.
    AlsoDigest,
}

/// A successful Digest verification, as recorded by the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Auth {
    pub(crate) user: String,
    pub(crate) algorithm: Algorithm,
    pub(crate) qop: Option<Qop>,
    pub(crate) nc: Option<u32>,
    pub(crate) nonce: String,
    pub(crate) userhash: bool,
    pub(crate) extended_username: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
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
pub(crate) struct Hit {
    pub(crate) origin: Origin,
    pub(crate) target: String,
    pub(crate) header: Option<FieldValue>,
    pub(crate) verdict: Verdict,
}

pub(crate) struct NonceState {
    pub(crate) issued_at: u64,
    pub(crate) last_nc: u32,
    pub(crate) cnonces: Vec<Vec<u8>>,
    pub(crate) superseded: bool,
}

/// What `check` accepted, for the expiry check and `Authentication-Info`.
pub(crate) struct Accepted {
    pub(crate) user: String,
    pub(crate) algorithm: Algorithm,
    pub(crate) qop: Option<Qop>,
    pub(crate) nc: Option<NonceCount>,
    pub(crate) cnonce: Vec<u8>,
    pub(crate) nonce: String,
    /// Session H(A1) for `-sess`.
    pub(crate) ha1: HexDigest,
    pub(crate) uri: Vec<u8>,
    pub(crate) userhash: bool,
    pub(crate) extended_username: bool,
}

pub(crate) enum Checked {
    Basic(String),
    Digest(Box<Accepted>),
}

pub(crate) struct Server {
    pub(crate) name: &'static str,
    pub(crate) role: Role,
    pub(crate) realm: String,
    pub(crate) users: Vec<(String, String)>,
    /// One challenge per entry, in this order; `None` sends no `algorithm` (MD5 implied).
    pub(crate) algorithms: Vec<Option<Algorithm>>,
    /// Spell the `algorithm` tokens in lower case (the client must echo that spelling).
    pub(crate) lowercase_algorithm: bool,
    /// Every challenge in one field instead of one field each.
    pub(crate) one_field: bool,
    pub(crate) qop: QopOptions,
    pub(crate) userhash: bool,
    pub(crate) charset_utf8: bool,
    pub(crate) opaque: Option<String>,
    pub(crate) domain: Vec<String>,
    pub(crate) stale: StaleMode,
    pub(crate) info: InfoMode,
    pub(crate) nextnonce: bool,
    pub(crate) basic: BasicOffer,
    /// Path prefixes that need authentication (origin role).
    pub(crate) protected: Vec<String>,
    /// target -> Location, answered with 302 after authentication.
    pub(crate) redirects: Vec<(String, String)>,
    pub(crate) lifetime: u64,
    pub(crate) now: u64,
    pub(crate) seq: u32,
    pub(crate) nonces: HashMap<String, NonceState>,
    /// After a restart, an unknown nonce is an ordinary rejection, not a client error.
    pub(crate) forgot_nonces: bool,
    pub(crate) hits: Vec<Hit>,
    pub(crate) expect_violations: bool,
    /// How the server reads the bytes of `username="…"`.
    pub(crate) reads: Reads,
    /// Answers `username*` with 400, as a server that reads `username` only.
    pub(crate) refuses_extended: bool,
    /// Answers a `username` with bytes outside ASCII with 400.
    pub(crate) refuses_raw_non_ascii: bool,
    /// Keeps each nonce in a cookie its challenge sets: an answer without the cookie of its
    /// nonce is challenged again (Flask-HTTPAuth's default).
    pub(crate) nonce_cookie: bool,
    /// Writes `qop=""` in its challenges (with `qop` empty), as a Node server's "no qop"
    /// mode does.
    pub(crate) empty_qop: bool,
    /// The body of its final responses, which an `auth-int` `rspauth` covers.
    pub(crate) response_body: Vec<u8>,
}

/// How a server reads the bytes of `username="…"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reads {
    /// As UTF-8 (Apache, lighttpd, Squid, Twisted).
    Utf8,
    /// As ISO-8859-1, the name then hashed in UTF-8 (Tomcat, WSGI and Node servers).
    Latin1,
    /// As ISO-8859-1, name and password hashed in ISO-8859-1 (RFC 2617's default).
    Latin1Throughout,
}

pub(crate) const USER: &str = "Mufasa";
pub(crate) const PASS: &str = "Circle of Life";
/// An opaque with a quote and a backslash: it must come back byte for byte.
pub(crate) const OPAQUE: &str = r#"FQhe/qaU925"kfnzjCev0\ciny7QMkPqMAFRtzCUYo5tdS"#;

impl Server {
    pub(crate) fn origin(name: &'static str) -> Self {
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
            reads: Reads::Utf8,
            refuses_extended: false,
            refuses_raw_non_ascii: false,
            nonce_cookie: false,
            empty_qop: false,
            response_body: br#"{"outlets": [1, 2, 3]}"#.to_vec(),
        }
    }

    pub(crate) fn proxy(name: &'static str) -> Self {
        Self {
            role: Role::Proxy,
            realm: format!("proxy@{name}.example"),
            users: vec![("proxyuser".into(), "proxy secret".into())],
            opaque: Some(format!("{name}-opaque")),
            ..Self::origin(name)
        }
    }

    /// The body of a final response as it reaches the client.
    pub(crate) fn body_on_the_wire(&self) -> Vec<u8> {
        let mut body = self.response_body.clone();
        if self.info == InfoMode::TamperedBody {
            body.extend_from_slice(b" (changed on the way)");
        }
        body
    }

    pub(crate) fn new_nonce(&mut self) -> String {
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
    pub(crate) fn restart(&mut self) {
        self.nonces.clear();
        self.forgot_nonces = true;
    }

    pub(crate) fn challenge_status(&self) -> u16 {
        match self.role {
            Role::Origin => 401,
            Role::Proxy => 407,
        }
    }

    pub(crate) fn algorithm_spelling(&self, a: Algorithm) -> String {
        if self.lowercase_algorithm {
            a.name().to_ascii_lowercase()
        } else {
            a.name().to_owned()
        }
    }

    /// A 401 (407) with one challenge per configured algorithm.
    pub(crate) fn challenge(&mut self, stale: bool, same_nonce: Option<String>) -> WireResponse {
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
                if self.empty_qop {
                    value.push_str(", qop=\"\"");
                }
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
        if self.nonce_cookie {
            r.set_cookie = vec![
                format!("session={}; Path=/; HttpOnly", cookie_of(&nonce)),
                "theme=light; Path=/".into(),
            ];
        }
        r
    }

    pub(crate) fn is_protected(&self, target: &str) -> bool {
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
    pub(crate) fn gate(&mut self, req: &Wire) -> Result<Option<String>, Box<WireResponse>> {
        let header = match self.role {
            Role::Origin => req.authorization.clone(),
            Role::Proxy => req.proxy_authorization.clone(),
        };
        let protected = self.is_protected(&req.target);
        let (verdict, info) = match &header {
            None => (Verdict::NoHeader, None),
            Some(h) => self.verify(req, h.as_bytes()),
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

    pub(crate) fn verify(&mut self, req: &Wire, header: &[u8]) -> (Verdict, Option<String>) {
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

    pub(crate) fn info_for(&mut self, a: &Accepted) -> Option<String> {
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
        // For auth-int, rspauth covers the response body (RFC 7616 §3.5).
        let body =
            (a.qop == Some(Qop::AuthInt)).then(|| digest::hash(a.algorithm, &self.response_body));
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
            InfoMode::Rspauth
            | InfoMode::ForgedRspauth
            | InfoMode::WrongCnonceEcho
            | InfoMode::TamperedBody => AuthenticationInfoParams {
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
            },
        };
        if params == AuthenticationInfoParams::default() {
            return None;
        }
        Some(params.to_header_value().unwrap())
    }

    pub(crate) fn check(&mut self, req: &Wire, header: &[u8]) -> Result<Checked, Verdict> {
        let bad = |m: String| Verdict::Violation(m);
        if header.len() >= 6 && header[..6].eq_ignore_ascii_case(b"Basic ") {
            if self.basic == BasicOffer::No {
                return Err(bad("Basic credentials to a server that offered none".into()));
            }
            for (user, password) in &self.users {
                if header == basic_value(user, password).as_bytes() {
                    return Ok(Checked::Basic(user.clone()));
                }
            }
            return Err(Verdict::Rejected("wrong Basic credentials"));
        }
        let creds = DigestCredentials::parse(header)
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
        if self.nonce_cookie {
            let sent = req
                .cookie
                .as_ref()
                .map(FieldValue::text)
                .unwrap_or_default();
            let expected = format!("session={}", cookie_of(&nonce));
            if !sent.split("; ").any(|pair| pair == expected) {
                return Err(Verdict::Rejected("no session cookie for the nonce"));
            }
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
        if extended && self.refuses_extended {
            return Err(bad("username* to a server that reads username only".into()));
        }
        if !extended && self.refuses_raw_non_ascii && !creds.username_bytes().is_ascii() {
            return Err(bad("username outside ASCII".into()));
        }
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
            // The name as this server reads the bytes.
            let read: String = match (self.reads, extended) {
                (Reads::Utf8, _) | (_, true) => String::from_utf8_lossy(&name).into_owned(),
                (Reads::Latin1 | Reads::Latin1Throughout, false) => {
                    name.iter().map(|&b| char::from(b)).collect()
                }
            };
            self.users.iter().find(|(u, _)| *u == read)
        };
        let Some((user, password)) = user.cloned() else {
            return Err(Verdict::Rejected("unknown user"));
        };
        let latin1 = |s: &str| -> Vec<u8> { s.chars().map(|c| c as u8).collect() };
        let (hashed_name, hashed_password) = match self.reads {
            Reads::Latin1Throughout if !extended => (latin1(&user), latin1(&password)),
            _ => (user.clone().into_bytes(), password.clone().into_bytes()),
        };
        let ha1 = digest::ha1(
            algorithm,
            &hashed_name,
            self.realm.as_bytes(),
            &hashed_password,
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

    pub(crate) fn violations(&self) -> Vec<&Verdict> {
        self.hits
            .iter()
            .map(|h| &h.verdict)
            .filter(|v| matches!(v, Verdict::Violation(_)))
            .collect()
    }

    pub(crate) fn last_hit(&self) -> &Hit {
        self.hits.last().expect("the server saw no request")
    }

    /// The successful Digest verifications, in order.
    pub(crate) fn oks(&self) -> Vec<&Auth> {
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
pub(crate) fn target_path(target: &str) -> &str {
    let path = if target.starts_with('/') {
        target
    } else {
        Origin::parse_absolute(target).map_or("", |(_, p)| p)
    };
    path.split('?').next().unwrap_or(path)
}

/// The session cookie that carries `nonce` (Flask-HTTPAuth signs it; here it is only
/// encoded).
pub(crate) fn cookie_of(nonce: &str) -> String {
    nonce
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                char::from(b)
            } else {
                '_'
            }
        })
        .collect()
}

pub(crate) fn basic_value(user: &str, password: &str) -> String {
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

pub(crate) struct Net {
    /// Each server answers for these origins.
    pub(crate) servers: Vec<(Vec<Origin>, Server)>,
    pub(crate) proxy: Option<Server>,
    pub(crate) follow_redirects: bool,
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
    pub(crate) fn new() -> Self {
        Self {
            servers: Vec::new(),
            proxy: None,
            follow_redirects: false,
        }
    }

    pub(crate) fn serve(mut self, origins: &[Origin], server: Server) -> Self {
        self.servers.push((origins.to_vec(), server));
        self
    }

    pub(crate) fn server(&mut self, i: usize) -> &mut Server {
        &mut self.servers[i].1
    }

    pub(crate) fn send(&mut self, req: Wire) -> WireResponse {
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
        // The proxy consumes Proxy-Authorization; an origin must never see it. It forwards
        // the request-target in origin-form, as Squid does.
        let target = if req.via_proxy {
            Origin::parse_absolute(&req.target).map_or(req.target.clone(), |(_, p)| p.to_owned())
        } else {
            req.target.clone()
        };
        let req = Wire {
            proxy_authorization: None,
            target,
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

    pub(crate) fn deliver(&mut self, req: &Wire) -> WireResponse {
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
                    r.body = server.body_on_the_wire();
                    return r;
                }
                let mut r = WireResponse::new(200);
                r.authentication_info = info;
                r.body = server.body_on_the_wire();
                r
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The driver: what an adapter does.
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy)]
pub(crate) enum Body {
    Bytes,
    /// A replayable body not in memory: hashed when the ticket asks, with the function it
    /// names (`Ticket::sign_with`).
    Replayable,
    Streamed,
}

#[derive(Debug, Clone)]
pub(crate) struct Req {
    pub(crate) method: &'static str,
    pub(crate) target: String,
    pub(crate) origin: Origin,
    pub(crate) proxy: Option<Origin>,
    pub(crate) body: Vec<u8>,
    pub(crate) body_kind: Body,
    /// The request's own `Cookie` header.
    pub(crate) cookie: Option<String>,
}

impl Req {
    pub(crate) fn get(origin: &Origin, target: &str) -> Self {
        Self {
            method: "GET",
            target: target.into(),
            origin: origin.clone(),
            proxy: None,
            body: Vec::new(),
            body_kind: Body::Bytes,
            cookie: None,
        }
    }

    pub(crate) fn post(origin: &Origin, target: &str, body: &[u8], kind: Body) -> Self {
        Self {
            method: "POST",
            body: body.to_vec(),
            body_kind: kind,
            ..Self::get(origin, target)
        }
    }
}

#[derive(Debug)]
pub(crate) struct Outcome {
    pub(crate) status: u16,
    pub(crate) exchanges: usize,
    pub(crate) result: Result<(), Failure>,
    /// The auth headers of every send, in order.
    pub(crate) sent: Vec<AuthHeaders>,
    /// `Exchange::out_of_scope` after `begin`.
    pub(crate) out_of_scope: bool,
    /// The hash functions the body was asked to be hashed with (`Body::Replayable`), in order.
    pub(crate) body_hashes: Vec<Algorithm>,
    /// The client asked for the response body to be checked (`Action::CheckBody`).
    pub(crate) body_checked: bool,
}

impl Outcome {
    /// The `Authorization` of a send, as text (the ISO-8859-1 name forms: see
    /// [`authorization_bytes`](Self::authorization_bytes)).
    pub(crate) fn authorization(&self, send: usize) -> &str {
        self.authorization_bytes(send)
            .to_str()
            .unwrap_or_else(|| panic!("send {send}'s Authorization is not UTF-8"))
    }

    pub(crate) fn authorization_bytes(&self, send: usize) -> &FieldValue {
        self.sent[send]
            .authorization
            .as_ref()
            .unwrap_or_else(|| panic!("send {send} had no Authorization: {:?}", self.sent))
    }

    pub(crate) fn proxy_authorization(&self, send: usize) -> &str {
        self.sent[send]
            .proxy_authorization
            .as_ref()
            .and_then(FieldValue::to_str)
            .unwrap_or_else(|| panic!("send {send} had no Proxy-Authorization: {:?}", self.sent))
    }
}

/// Plays one request through the network as an adapter would.
pub(crate) fn run(client: &mut Client, rng: &mut TestRng, net: &mut Net, req: &Req) -> Outcome {
    let body = match req.body_kind {
        Body::Bytes => BodySource::Bytes(&req.body),
        Body::Replayable => BodySource::Replayable,
        Body::Streamed => BodySource::NotReplayable,
    };
    let request = Request {
        method: req.method,
        target: &req.target,
        origin: OriginRef::of(&req.origin),
        proxy: req.proxy.as_ref().map(OriginRef::of),
        body,
    };
    let mut body_hashes = Vec::new();
    // What an adapter does with a ticket: sign it, hashing a body not in memory when asked.
    let mut sign = |ticket: Ticket| match req.body_kind {
        Body::Replayable => ticket.sign_with(&request, |algorithm| {
            body_hashes.push(algorithm);
            digest::hash(algorithm, &req.body)
        }),
        Body::Bytes | Body::Streamed => ticket.sign(&request),
    };
    let (mut exchange, action) = client.begin(&request, rng);
    let Action::Send(ticket) = action else {
        panic!("a request run alone waits for nothing: {action:?}");
    };
    let mut headers = sign(ticket).expect("the first send's ticket signs");
    let out_of_scope = exchange.out_of_scope();
    if out_of_scope {
        assert_eq!(
            headers.authorization, None,
            "credentials to an origin out of scope"
        );
    }
    let mut sent = Vec::new();
    let mut body_checked = false;
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
            // What an adapter does: the challenges' cookies join the request's own.
            cookie: if headers.cookies.is_empty() {
                req.cookie.clone().map(FieldValue::from)
            } else {
                headers
                    .cookies
                    .join(req.cookie.as_deref().map(str::as_bytes))
            },
        });
        let www: Vec<&[u8]> = resp.www_authenticate.iter().map(|s| s.as_bytes()).collect();
        let proxy: Vec<&[u8]> = resp
            .proxy_authenticate
            .iter()
            .map(|s| s.as_bytes())
            .collect();
        let set_cookie: Vec<&[u8]> = resp.set_cookie.iter().map(|s| s.as_bytes()).collect();
        let response = Response {
            status: resp.status,
            www_authenticate: &www,
            proxy_authenticate: &proxy,
            authentication_info: resp.authentication_info.as_deref().map(str::as_bytes),
            proxy_authentication_info: resp.proxy_authentication_info.as_deref().map(str::as_bytes),
            set_cookie: &set_cookie,
            origin: resp.answered_by.as_ref().map(OriginRef::of),
        };
        let result = match client.handle_response(&mut exchange, &request, &response, rng) {
            Action::Wait => panic!("a request run alone waits for nothing"),
            Action::Send(ticket) => {
                assert!(
                    sent.len() < 3,
                    "the client asked for a third extra send: {sent:?}"
                );
                assert!(
                    !matches!(req.body_kind, Body::Streamed),
                    "the client asked to re-send a streamed body"
                );
                // But after a 403 to reused credentials: it fetches a fresh challenge.
                assert!(
                    ticket.has(Side::Origin) || ticket.has(Side::Proxy) || resp.status == 403,
                    "a re-send without credentials cannot do better"
                );
                match sign(ticket) {
                    Ok(next) => {
                        headers = next;
                        continue;
                    }
                    // The adapter cannot sign: the request ends on this response.
                    Err(f) => {
                        return Outcome {
                            status: resp.status,
                            exchanges: sent.len(),
                            result: Err(f),
                            sent,
                            out_of_scope,
                            body_hashes,
                            body_checked,
                        };
                    }
                }
            }
            Action::Done => Ok(()),
            // What an adapter does: the body goes into the check as it arrives, in parts.
            Action::CheckBody(mut check) => {
                body_checked = true;
                for part in resp.body.chunks(5) {
                    check.update(part);
                }
                check.finish()
            }
            Action::Fail(f) => Err(f),
        };
        assert_eq!(usize::from(exchange.extra_sends()) + 1, sent.len());
        // A finished exchange stays finished.
        assert!(matches!(
            client.handle_response(&mut exchange, &request, &response, rng),
            Action::Done
        ));
        return Outcome {
            status: resp.status,
            exchanges: sent.len(),
            result,
            sent,
            out_of_scope,
            body_hashes,
            body_checked,
        };
    }
}

pub(crate) struct Sim {
    pub(crate) client: Client,
    pub(crate) rng: TestRng,
    pub(crate) net: Net,
}

impl Sim {
    pub(crate) fn new(server: Server) -> Self {
        Self::with(ClientConfig::default(), Net::new().serve(&[a()], server))
    }

    pub(crate) fn with(config: ClientConfig, net: Net) -> Self {
        Self {
            client: Client::new(Credentials::new(USER, PASS), config),
            rng: TestRng::new(7),
            net,
        }
    }

    pub(crate) fn run(&mut self, req: &Req) -> Outcome {
        run(&mut self.client, &mut self.rng, &mut self.net, req)
    }

    pub(crate) fn get(&mut self, target: &str) -> Outcome {
        self.run(&Req::get(&a(), target))
    }

    pub(crate) fn server(&mut self) -> &mut Server {
        self.net.server(0)
    }
}

pub(crate) fn a() -> Origin {
    Origin::new(Scheme::Http, "a.example", 80)
}

pub(crate) fn b() -> Origin {
    Origin::new(Scheme::Http, "b.example", 80)
}

pub(crate) fn config(f: impl FnOnce(&mut ClientConfig)) -> ClientConfig {
    let mut c = ClientConfig::default();
    f(&mut c);
    c
}

pub(crate) fn creds(header: &str) -> DigestCredentials<'_> {
    DigestCredentials::parse(header.as_bytes()).unwrap()
}

/// The raw (still escaped) value of a parameter of an `Authorization` value.
pub(crate) fn raw_param<'h>(header: &'h str, name: &str) -> Option<&'h [u8]> {
    creds(header)
        .params()
        .find(|p| p.name.eq_ignore_ascii_case(name))
        .map(|p| p.value.raw())
}

pub(crate) fn nc(header: &str) -> u32 {
    creds(header).nc().expect("no nc").get()
}

pub(crate) fn nonce(header: &str) -> String {
    creds(header).nonce().to_str().unwrap().into_owned()
}

pub(crate) fn assert_ok(out: &Outcome, exchanges: usize) {
    assert_eq!(
        (out.status, out.exchanges, &out.result),
        (200, exchanges, &Ok(())),
        "{out:?}"
    );
}
