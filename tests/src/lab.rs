//! The interop lab (`tests/interop/`): its servers, users and protected locations, and what
//! each adapter is expected to get at each location. The catalogue here is the matrix the
//! lab tests run and `interop-report` prints: one row per location and user, one column per
//! adapter.

use crate::drive::Adapter;

/// A user name and password.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct User {
    /// The name.
    pub name: &'static str,
    /// The password.
    pub password: &'static str,
}

/// The ASCII lab user, known to every server.
pub const ALICE: User = User {
    name: "alice",
    password: "s3cret",
};
/// The non-ASCII lab user (the pair of RFC 7616 §3.9.2), known to every server but httpbin.
pub const JASON: User = User {
    name: "Jäsøn Doe",
    password: "Secret, or not?",
};
/// The password the wrong-password rows send.
pub const WRONG_PASSWORD: &str = "wrong password";

/// Apache httpd, mod_auth_digest.
pub const APACHE: &str = "http://127.0.0.1:18081";
/// lighttpd, mod_auth.
pub const LIGHTTPD: &str = "http://127.0.0.1:18082";
/// httpbin under gunicorn.
pub const HTTPBIN: &str = "http://127.0.0.1:18083";
/// Squid as a forward proxy that asks for Digest (407).
pub const SQUID: &str = "http://127.0.0.1:18084";
/// The unprotected origin behind Squid.
pub const SQUID_ORIGIN: &str = "http://127.0.0.1:18085/hello.txt";
/// The https origin (Apache with mod_ssl; `start-https.sh`), reached through [`SQUID`] by
/// `CONNECT`: `/hello.txt` unprotected, `/digest/` Digest (MD5, qop=auth).
pub const HTTPS_ORIGIN: &str = "https://127.0.0.1:18095";
/// Apache Tomcat, DigestAuthenticator.
pub const TOMCAT: &str = "http://127.0.0.1:18086";
/// Twisted Web, twisted.web.guard.
pub const TWISTED: &str = "http://127.0.0.1:18087";
/// Flask-HTTPAuth's HTTPDigestAuth under gunicorn.
pub const FLASK_HTTPAUTH: &str = "http://127.0.0.1:18088";
/// The npm package http-auth on Node.js.
pub const HTTP_AUTH: &str = "http://127.0.0.1:18089";
/// http-auth with its proxy option in front of the npm package http-proxy: a forward proxy
/// that asks for Digest (407).
pub const HTTP_AUTH_PROXY: &str = "http://127.0.0.1:18090";
/// abbot/go-http-auth (Debian's package) on Go's net/http.
pub const GO_HTTP_AUTH: &str = "http://127.0.0.1:18091";
/// go-http-auth with `ProxyHeaders` in front of net/http/httputil: a forward proxy that asks
/// for Digest (407).
pub const GO_HTTP_AUTH_PROXY: &str = "http://127.0.0.1:18092";
/// CherryPy, cherrypy.lib.auth_digest.
pub const CHERRYPY: &str = "http://127.0.0.1:18093";

/// Apache's location with a 3 s nonce lifetime and the strict nonce-count check.
pub const APACHE_STRICT: &str = "http://127.0.0.1:18081/digest-stale/";

/// The lab's run directory (`tests/interop/lib/common.sh`): `$INTEROP_RUN_DIR`, else
/// `$TMPDIR/digest-interop-lab`, else `/tmp/digest-interop-lab`. Its `logs/` holds the
/// servers' access logs.
pub fn run_dir() -> String {
    std::env::var("INTEROP_RUN_DIR").unwrap_or_else(|_| {
        let tmp = std::env::var("TMPDIR").unwrap_or_else(|_| "/tmp".to_owned());
        format!("{tmp}/digest-interop-lab")
    })
}

/// The root certificate of the https origin (self-signed, made by `start-https.sh` at
/// start; it signs the origin's certificate): the only root a client of [`HTTPS_ORIGIN`]
/// trusts.
pub fn https_certificate() -> std::path::PathBuf {
    std::path::Path::new(&run_dir())
        .join("https")
        .join("ca.pem")
}

/// The row of the concurrency run against [`APACHE_STRICT`] (`e2e/concurrency.rs`).
pub const CONCURRENCY_ROW: &str = "apache /digest-stale/ 200 GETs, 16 at a time";

/// The lab's servers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Server {
    /// Apache httpd 2.4, mod_auth_digest.
    Apache,
    /// lighttpd 1.4, mod_auth.
    Lighttpd,
    /// httpbin.
    Httpbin,
    /// Squid 5, digest_file_auth, as a forward proxy.
    Squid,
    /// Tomcat 10.1, DigestAuthenticator.
    Tomcat,
    /// Twisted Web, twisted.web.guard.
    Twisted,
    /// Flask-HTTPAuth, HTTPDigestAuth.
    FlaskHttpauth,
    /// npm http-auth, as an origin and as a forward proxy.
    HttpAuth,
    /// abbot/go-http-auth, as an origin and as a forward proxy.
    GoHttpAuth,
    /// CherryPy, auth_digest.
    Cherrypy,
}

impl Server {
    /// Every lab server, in the table's order.
    pub const ALL: [Server; 10] = [
        Server::Apache,
        Server::Lighttpd,
        Server::Httpbin,
        Server::Squid,
        Server::Tomcat,
        Server::Twisted,
        Server::FlaskHttpauth,
        Server::HttpAuth,
        Server::GoHttpAuth,
        Server::Cherrypy,
    ];

    /// Its name in the table.
    pub fn name(self) -> &'static str {
        match self {
            Server::Apache => "apache",
            Server::Lighttpd => "lighttpd",
            Server::Httpbin => "httpbin",
            Server::Squid => "squid",
            Server::Tomcat => "tomcat",
            Server::Twisted => "twisted",
            Server::FlaskHttpauth => "flask-httpauth",
            Server::HttpAuth => "http-auth",
            Server::GoHttpAuth => "go-http-auth",
            Server::Cherrypy => "cherrypy",
        }
    }
}

/// What a row expects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// 200 after a challenge (two exchanges), then 200 at once with the same client (one).
    Authenticates,
    /// As [`Authenticates`](Self::Authenticates), but the first request takes one answer
    /// more: the server refuses the non-ASCII name in the first form sent (raw UTF-8) and
    /// accepts the next (ISO-8859-1 bytes, the hash over UTF-8), which the client then keeps
    /// for the protection space (three exchanges, then one).
    AuthenticatesInSecondForm,
    /// As [`Authenticates`](Self::Authenticates); then, past the location's 3 s nonce
    /// lifetime, a request whose credentials get 401 `stale=true` and is answered again
    /// without the caller (two exchanges).
    RenewsStaleNonce,
    /// As [`Authenticates`](Self::Authenticates), but every request is challenged: the
    /// server keeps the nonce in a cookie its 401 sets, which the client sends back with
    /// the answer and keeps no further (a client with a cookie store of its own would
    /// keep it): two exchanges each time, the first one more with `second_form` (as in
    /// [`AuthenticatesInSecondForm`](Self::AuthenticatesInSecondForm)).
    ChallengesEachRequest {
        /// The name is accepted in its second form.
        second_form: bool,
    },
    /// `Failure::CredentialsRejected` after the challenge and the answers the client gives
    /// (see [`Row::answers`]): a wrong password, or a server that cannot read the user name
    /// in any form sent (the reason says how).
    Rejected(&'static str),
    /// ureq refuses to put bytes outside ASCII in `Authorization`, and the server announces
    /// no `charset=UTF-8` that would allow `username*`: `Error::NonAsciiAuthorization` after
    /// the challenge, nothing sent.
    NotSendable,
    /// The final response has this status after the challenge and one answer: the server
    /// refuses the only form of the name the adapter can send with a status other than 401
    /// (the reason says which).
    Answered(u16, &'static str),
}

/// What the credentials sent must say.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Wire {
    /// `algorithm` (compared ignoring case); `None`: not checked (Squid sends none).
    pub algorithm: Option<&'static str>,
    /// `qop`.
    pub qop: Option<&'static str>,
    /// `userhash=true`.
    pub userhash: bool,
    /// RFC 2069 form: neither `qop` nor `nc` nor `cnonce` (the challenge offered no qop, or
    /// `qop=""`).
    pub rfc2069: bool,
}

/// One row of the matrix: a location, a user, and what to expect.
#[derive(Clone, Debug)]
pub struct Row {
    /// The server.
    pub server: Server,
    /// The location as the table shows it.
    pub location: String,
    /// The URL requested.
    pub url: String,
    /// The credentials the client is given: the origin's, or the proxy's when
    /// [`proxy`](Self::proxy) is set and [`proxy_user`](Self::proxy_user) is not.
    pub user: User,
    /// Through this forward proxy (Squid, or one of the 407 proxies).
    pub proxy: Option<&'static str>,
    /// The proxy's credentials when [`user`](Self::user) holds the origin's (a Digest
    /// origin behind a Digest proxy).
    pub proxy_user: Option<User>,
    /// The origin announces `charset=UTF-8`: ureq can send a non-ASCII name as `username*`.
    pub charset_utf8: bool,
    /// What the credentials sent must say (the origin's, where there are both).
    pub wire: Wire,
    expect: Expect,
    /// What ureq gets instead, where that differs from what [`expect`](Self::expect) works
    /// out.
    ureq: Option<Expect>,
}

impl Row {
    /// The row's name in the table: server, location, user.
    pub fn id(&self) -> String {
        let user = if self.user.password == WRONG_PASSWORD {
            format!("{} (wrong password)", self.user.name)
        } else {
            self.user.name.to_owned()
        };
        match self.proxy_user {
            Some(proxy) => format!(
                "{} {} {user} (proxy {})",
                self.server.name(),
                self.location,
                proxy.name
            ),
            None => format!("{} {} {}", self.server.name(), self.location, user),
        }
    }

    /// What `adapter` is expected to get.
    pub fn expect(&self, adapter: Adapter) -> Expect {
        if adapter == Adapter::Ureq {
            if let Some(expect) = self.ureq {
                return expect;
            }
            // A non-ASCII name in `Authorization`: only as `username*`. (In
            // `Proxy-Authorization`, which ureq's adapter writes itself, it goes as it is.)
            let proxy_name = self.proxy.is_some() && self.proxy_user.is_none();
            if !self.user.name.is_ascii() && !proxy_name && !self.charset_utf8 {
                return Expect::NotSendable;
            }
        }
        self.expect
    }

    /// How many answers a server that refuses the user gets: two for a name outside ASCII
    /// that the adapter can send in a second form (not in ureq's `Authorization`, which
    /// carries only `username*`), one otherwise.
    pub fn answers(&self, adapter: Adapter) -> usize {
        let origin_user = self.proxy.is_none() || self.proxy_user.is_some();
        let one_form = self.user.name.is_ascii() || (adapter == Adapter::Ureq && origin_user);
        if one_form { 1 } else { 2 }
    }

    /// How many exchanges the first request of an `Authenticates` row takes: the challenge
    /// and the answer, one more for the origin's challenge behind a proxy that asked first,
    /// one more for a name accepted in its second form.
    pub fn first_exchanges(&self, adapter: Adapter) -> usize {
        let second_form = matches!(
            self.expect(adapter),
            Expect::AuthenticatesInSecondForm | Expect::ChallengesEachRequest { second_form: true }
        );
        2 + usize::from(self.proxy_user.is_some()) + usize::from(second_form)
    }

    /// Whether the row uses Apache's strict nonce-count location, which keeps few clients
    /// in shared memory: such rows take turns (see [`APACHE_STRICT`]).
    pub fn uses_apache_strict(&self) -> bool {
        self.url.starts_with(APACHE_STRICT)
    }
}

/// The matrix, in the table's order.
pub fn rows() -> Vec<Row> {
    let mut rows = Vec::new();
    let mut add = |server, location: &str, url: String, user, wire, expect| {
        let mut row = Row::new(server, location, url, user, wire, expect);
        if server == Server::Squid {
            row = row.via(SQUID, None);
        }
        if server == Server::Lighttpd {
            row = row.charset_utf8();
        }
        rows.push(row);
    };
    let wrong = |user: User| User {
        password: WRONG_PASSWORD,
        ..user
    };
    let md5 = Wire {
        algorithm: Some("MD5"),
        qop: Some("auth"),
        userhash: false,
        rfc2069: false,
    };
    let with = |algorithm| Wire {
        algorithm: Some(algorithm),
        ..md5
    };
    let rejected = Expect::Rejected("wrong password");

    // Apache: MD5 and qop=auth only; /digest-stale/ has nonce-count checks and a 3 s lifetime.
    for (location, expect) in [
        ("/digest/", Expect::Authenticates),
        ("/digest-stale/", Expect::RenewsStaleNonce),
    ] {
        for user in [ALICE, JASON] {
            add(
                Server::Apache,
                location,
                format!("{APACHE}{location}"),
                user,
                md5,
                expect,
            );
        }
    }
    for user in [ALICE, JASON] {
        let url = format!("{APACHE}/digest/");
        add(Server::Apache, "/digest/", url, wrong(user), md5, rejected);
    }

    // lighttpd: charset=UTF-8 (a non-ASCII name goes as username*), SHA-512-256, userhash,
    // three challenges on /digest-multi/ (the strongest is chosen).
    for (location, wire) in [
        ("/digest-md5/", md5),
        ("/digest-sha256/", with("SHA-256")),
        ("/digest-sha512-256/", with("SHA-512-256")),
        (
            "/digest-userhash/",
            Wire {
                userhash: true,
                ..with("SHA-256")
            },
        ),
        ("/digest-multi/", with("SHA-512-256")),
    ] {
        for user in [ALICE, JASON] {
            let url = format!("{LIGHTTPD}{location}");
            add(
                Server::Lighttpd,
                location,
                url,
                user,
                wire,
                Expect::Authenticates,
            );
        }
    }
    for user in [ALICE, JASON] {
        let url = format!("{LIGHTTPD}/digest-sha256/");
        add(
            Server::Lighttpd,
            "/digest-sha256/",
            url,
            wrong(user),
            with("SHA-256"),
            rejected,
        );
    }

    // httpbin: the password is in the URL; SHA-512 (not in RFC 7616) and qop=auth-int (GET
    // only: the empty body is hashed).
    for qop in ["auth", "auth-int"] {
        for algorithm in ["MD5", "SHA-256", "SHA-512"] {
            let location = format!("/{qop}/{algorithm}");
            let url = format!("{HTTPBIN}/digest-auth/{qop}/alice/s3cret/{algorithm}/never");
            let wire = Wire {
                algorithm: Some(algorithm),
                qop: Some(qop),
                ..md5
            };
            add(
                Server::Httpbin,
                &location,
                url,
                ALICE,
                wire,
                Expect::Authenticates,
            );
        }
    }
    // Both qops offered: auth is the client's default choice.
    let url = format!("{HTTPBIN}/digest-auth/both/alice/s3cret/MD5/never");
    add(
        Server::Httpbin,
        "/both/MD5",
        url,
        ALICE,
        md5,
        Expect::Authenticates,
    );
    let url = format!("{HTTPBIN}/digest-auth/auth/alice/s3cret/SHA-256/never");
    add(
        Server::Httpbin,
        "/auth/SHA-256",
        url,
        wrong(ALICE),
        with("SHA-256"),
        rejected,
    );
    // The right password for a non-ASCII name: httpbin reads it as ISO-8859-1 (and compares
    // it with no name of its own), so the second form passes.
    let url = format!("{HTTPBIN}/digest-auth/auth/jason/s3cret/MD5/never");
    let jason = User {
        name: JASON.name,
        password: "s3cret",
    };
    add(
        Server::Httpbin,
        "/auth/MD5",
        url,
        jason,
        md5,
        Expect::AuthenticatesInSecondForm,
    );

    // Squid: a forward proxy asking for Digest with 407, no algorithm parameter.
    let proxy = Wire {
        algorithm: None,
        ..md5
    };
    for user in [ALICE, JASON] {
        let url = SQUID_ORIGIN.to_owned();
        add(
            Server::Squid,
            "proxy",
            url,
            user,
            proxy,
            Expect::Authenticates,
        );
    }
    for user in [ALICE, JASON] {
        let url = SQUID_ORIGIN.to_owned();
        add(Server::Squid, "proxy", url, wrong(user), proxy, rejected);
    }

    // Tomcat: opaque always, several challenges sharing one nonce on /multi/, 3 s nonces on
    // /stale/; user names read as ISO-8859-1 (hashed as UTF-8): the second form.
    for (location, wire, expect) in [
        ("/md5/", md5, Expect::Authenticates),
        ("/sha256/", with("SHA-256"), Expect::Authenticates),
        ("/sha512-256/", with("SHA-512-256"), Expect::Authenticates),
        ("/multi/", with("SHA-512-256"), Expect::Authenticates),
        ("/stale/", md5, Expect::RenewsStaleNonce),
    ] {
        let url = format!("{TOMCAT}{location}");
        add(Server::Tomcat, location, url.clone(), ALICE, wire, expect);
        add(
            Server::Tomcat,
            location,
            url,
            JASON,
            wire,
            // (/stale/ renews alice's stale nonce; this row checks the name.)
            Expect::AuthenticatesInSecondForm,
        );
    }
    let url = format!("{TOMCAT}/md5/");
    add(Server::Tomcat, "/md5/", url, wrong(ALICE), md5, rejected);

    // Twisted: lower-case `digest` and algorithm names, `sha` for SHA-1.
    for (location, algorithm) in [
        ("/md5/", "md5"),
        ("/md5-sess/", "md5-sess"),
        ("/sha/", "sha"),
    ] {
        for user in [ALICE, JASON] {
            let url = format!("{TWISTED}{location}");
            add(
                Server::Twisted,
                location,
                url,
                user,
                with(algorithm),
                Expect::Authenticates,
            );
        }
    }
    for user in [ALICE, JASON] {
        let url = format!("{TWISTED}/md5/");
        add(Server::Twisted, "/md5/", url, wrong(user), md5, rejected);
    }

    new_servers(&mut rows, md5, rejected);
    rows
}

const CHERRYPY_USERNAME_STAR: &str =
    "CherryPy answers username* with 400, and ureq cannot send the name otherwise";

/// The rows of Flask-HTTPAuth, http-auth, go-http-auth and CherryPy, and of the Digest
/// origins behind the three proxies.
fn new_servers(rows: &mut Vec<Row>, md5: Wire, rejected: Expect) {
    let with = |algorithm| Wire {
        algorithm: Some(algorithm),
        ..md5
    };
    let rfc2069 = Wire {
        qop: None,
        rfc2069: true,
        ..md5
    };
    let wrong = |user: User| User {
        password: WRONG_PASSWORD,
        ..user
    };
    let second = Expect::AuthenticatesInSecondForm;
    let ok = Expect::Authenticates;

    // Flask-HTTPAuth: opaque; the default keeps nonce and opaque in the session cookie its
    // 401 sets; the name is read as ISO-8859-1 (hashed as UTF-8), or from username*.
    for (location, wire) in [
        ("/session/", md5),
        ("/server-nonce/", md5),
        ("/ha1/", md5),
        ("/md5-sess/", with("MD5-Sess")),
        // No algorithm parameter there either.
        (
            "/no-qop/",
            Wire {
                algorithm: None,
                ..rfc2069
            },
        ),
        ("/qop-empty/", rfc2069),
    ] {
        let url = format!("{FLASK_HTTPAUTH}{location}");
        let server = Server::FlaskHttpauth;
        // The session cookie goes back with the answer to its 401 only: each request there
        // is challenged (a client with a cookie store keeps it).
        let (ok, second) = if location == "/session/" {
            (
                Expect::ChallengesEachRequest { second_form: false },
                Expect::ChallengesEachRequest { second_form: true },
            )
        } else {
            (ok, second)
        };
        rows.push(Row::new(server, location, url.clone(), ALICE, wire, ok));
        rows.push(Row::new(server, location, url, JASON, wire, second));
    }
    for location in ["/session/", "/server-nonce/"] {
        let url = format!("{FLASK_HTTPAUTH}{location}");
        let row = Row::new(
            Server::FlaskHttpauth,
            location,
            url,
            wrong(ALICE),
            md5,
            rejected,
        );
        rows.push(row);
    }

    // http-auth: strict nonce counts, qop="" on /qop-none/, the name read as ISO-8859-1;
    // its 407 proxy in front of the plain origin and of lighttpd (which compares uri with
    // the request-target, origin-form after the proxy).
    let server = Server::HttpAuth;
    for (location, wire) in [
        ("/digest/", md5),
        ("/qop-none/", rfc2069),
        ("/md5-sess/", with("MD5-sess")),
    ] {
        let url = format!("{HTTP_AUTH}{location}");
        rows.push(Row::new(server, location, url.clone(), ALICE, wire, ok));
        rows.push(Row::new(server, location, url, JASON, wire, second));
    }
    let url = format!("{HTTP_AUTH}/digest/");
    rows.push(Row::new(
        server,
        "/digest/",
        url,
        wrong(ALICE),
        md5,
        rejected,
    ));
    let proxy = Wire {
        algorithm: Some("MD5"),
        ..md5
    };
    for (user, expect) in [(ALICE, ok), (JASON, second), (wrong(ALICE), rejected)] {
        let url = SQUID_ORIGIN.to_owned();
        let row = Row::new(server, "proxy", url, user, proxy, expect);
        rows.push(row.via(HTTP_AUTH_PROXY, None));
    }
    let url = format!("{LIGHTTPD}/digest-md5/");
    let row = Row::new(
        server,
        "proxy -> lighttpd /digest-md5/",
        url,
        ALICE,
        md5,
        ok,
    );
    rows.push(row.via(HTTP_AUTH_PROXY, Some(ALICE)).charset_utf8());
    let url = format!("{GO_HTTP_AUTH}/digest/");
    let row = Row::new(
        server,
        "proxy -> go-http-auth /digest/",
        url,
        ALICE,
        md5,
        ok,
    );
    rows.push(row.via(HTTP_AUTH_PROXY, Some(ALICE)));

    // go-http-auth: opaque, strict nonce counts, uri compared with the request-target (a
    // prefix of its path passes), raw UTF-8 names; its 407 proxy likewise.
    let server = Server::GoHttpAuth;
    for (location, url) in [
        ("/digest/", format!("{GO_HTTP_AUTH}/digest/")),
        ("/digest/?page=1", format!("{GO_HTTP_AUTH}/digest/?page=1")),
    ] {
        rows.push(Row::new(server, location, url.clone(), ALICE, md5, ok));
        rows.push(Row::new(server, location, url, JASON, md5, ok));
    }
    let url = format!("{GO_HTTP_AUTH}/digest/");
    rows.push(Row::new(
        server,
        "/digest/",
        url,
        wrong(ALICE),
        md5,
        rejected,
    ));
    for (user, expect) in [(ALICE, ok), (JASON, ok), (wrong(ALICE), rejected)] {
        let url = SQUID_ORIGIN.to_owned();
        let row = Row::new(server, "proxy", url, user, proxy, expect);
        rows.push(row.via(GO_HTTP_AUTH_PROXY, None));
    }
    let url = format!("{LIGHTTPD}/digest-md5/");
    let row = Row::new(
        server,
        "proxy -> lighttpd /digest-md5/",
        url,
        ALICE,
        md5,
        ok,
    );
    rows.push(row.via(GO_HTTP_AUTH_PROXY, Some(ALICE)).charset_utf8());

    // CherryPy: charset="UTF-8" on /digest/ (raw UTF-8 and ISO-8859-1 bytes read, username*
    // answered 400), none on /latin1/ (ISO-8859-1 bytes only).
    let server = Server::Cherrypy;
    let url = format!("{CHERRYPY}/digest/");
    rows.push(Row::new(server, "/digest/", url.clone(), ALICE, md5, ok));
    let row = Row::new(server, "/digest/", url.clone(), JASON, md5, ok).charset_utf8();
    rows.push(row.ureq(Expect::Answered(400, CHERRYPY_USERNAME_STAR)));
    rows.push(Row::new(server, "/digest/", url, wrong(ALICE), md5, rejected).charset_utf8());
    let url = format!("{CHERRYPY}/latin1/");
    rows.push(Row::new(server, "/latin1/", url.clone(), ALICE, md5, ok));
    rows.push(Row::new(server, "/latin1/", url, JASON, md5, second));

    // Squid in front of Digest origins: lighttpd answers 400 to a uri other than its
    // request-target, which Squid sends in origin-form.
    let server = Server::Squid;
    for (location, url, charset_utf8) in [
        (
            "proxy -> lighttpd /digest-md5/",
            format!("{LIGHTTPD}/digest-md5/"),
            true,
        ),
        (
            "proxy -> go-http-auth /digest/",
            format!("{GO_HTTP_AUTH}/digest/"),
            false,
        ),
    ] {
        for user in [ALICE, JASON] {
            if user == JASON && !charset_utf8 {
                continue;
            }
            let mut row = Row::new(server, location, url.clone(), user, md5, ok);
            row = row.via(SQUID, Some(ALICE));
            if charset_utf8 {
                row = row.charset_utf8();
            }
            rows.push(row);
        }
    }
}

impl Row {
    fn new(
        server: Server,
        location: &str,
        url: String,
        user: User,
        wire: Wire,
        expect: Expect,
    ) -> Self {
        Row {
            server,
            location: location.to_owned(),
            url,
            user,
            proxy: None,
            proxy_user: None,
            charset_utf8: false,
            wire,
            expect,
            ureq: None,
        }
    }

    /// Through `proxy`; with `proxy_user`, `user` is the origin's.
    fn via(mut self, proxy: &'static str, proxy_user: Option<User>) -> Self {
        self.proxy = Some(proxy);
        self.proxy_user = proxy_user;
        self
    }

    fn charset_utf8(mut self) -> Self {
        self.charset_utf8 = true;
        self
    }

    fn ureq(mut self, expect: Expect) -> Self {
        self.ureq = Some(expect);
        self
    }
}
