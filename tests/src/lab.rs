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
/// The non-ASCII lab user (the pair of RFC 7616 §3.9.2), known to Apache, lighttpd, Squid,
/// Tomcat and Twisted.
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
/// Apache Tomcat, DigestAuthenticator.
pub const TOMCAT: &str = "http://127.0.0.1:18086";
/// Twisted Web, twisted.web.guard.
pub const TWISTED: &str = "http://127.0.0.1:18087";

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
}

impl Server {
    /// Every lab server, in the table's order.
    pub const ALL: [Server; 6] = [
        Server::Apache,
        Server::Lighttpd,
        Server::Httpbin,
        Server::Squid,
        Server::Tomcat,
        Server::Twisted,
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
        }
    }

    /// Whether it announces `charset=UTF-8`, or reads `Proxy-Authorization` (Squid): where
    /// ureq can send a non-ASCII name (as `username*`, or raw in a header ureq does not
    /// check).
    fn takes_non_ascii_from_ureq(self) -> bool {
        matches!(self, Server::Lighttpd | Server::Squid)
    }
}

/// What a row expects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// 200 after a challenge (two exchanges), then 200 at once with the same client (one).
    Authenticates,
    /// As [`Authenticates`](Self::Authenticates); then, past the location's 3 s nonce
    /// lifetime, a request whose credentials get 401 `stale=true` and is answered again
    /// without the caller (two exchanges).
    RenewsStaleNonce,
    /// `Failure::CredentialsRejected` after two exchanges (challenge, one answer): a wrong
    /// password, or a server that cannot read the user name as sent (the reason says how).
    Rejected(&'static str),
    /// ureq refuses to put bytes outside ASCII in `Authorization`, and the server announces
    /// no `charset=UTF-8` that would allow `username*`: `Error::NonAsciiAuthorization` after
    /// the challenge, nothing sent.
    NotSendable,
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
    /// The credentials the client is given (origin credentials, or proxy credentials when
    /// [`proxy`](Self::proxy) is set).
    pub user: User,
    /// Through Squid, with proxy credentials.
    pub proxy: bool,
    /// What the credentials sent must say.
    pub wire: Wire,
    expect: Expect,
}

impl Row {
    /// The row's name in the table: server, location, user.
    pub fn id(&self) -> String {
        let user = if self.user.password == WRONG_PASSWORD {
            format!("{} (wrong password)", self.user.name)
        } else {
            self.user.name.to_owned()
        };
        format!("{} {} {}", self.server.name(), self.location, user)
    }

    /// What `adapter` is expected to get.
    pub fn expect(&self, adapter: Adapter) -> Expect {
        if adapter == Adapter::Ureq
            && !self.user.name.is_ascii()
            && !self.server.takes_non_ascii_from_ureq()
        {
            return Expect::NotSendable;
        }
        self.expect
    }

    /// Whether the row uses Apache's strict nonce-count location, which keeps few clients
    /// in shared memory: such rows take turns (see [`APACHE_STRICT`]).
    pub fn uses_apache_strict(&self) -> bool {
        self.url.starts_with(APACHE_STRICT)
    }
}

const TOMCAT_LATIN1: &str = "Tomcat decodes user names as ISO-8859-1 and looks up \"JÃ¤sÃ¸n Doe\"";
const HTTPBIN_LATIN1: &str =
    "httpbin hashes the name decoded as ISO-8859-1, and compares it with none";

/// The matrix, in the table's order.
pub fn rows() -> Vec<Row> {
    let mut rows = Vec::new();
    let mut add = |server, location: &str, url: String, user, wire, expect| {
        rows.push(Row {
            server,
            location: location.to_owned(),
            url,
            user,
            proxy: server == Server::Squid,
            wire,
            expect,
        });
    };
    let wrong = |user: User| User {
        password: WRONG_PASSWORD,
        ..user
    };
    let md5 = Wire {
        algorithm: Some("MD5"),
        qop: Some("auth"),
        userhash: false,
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
                userhash: false,
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
    // The right password for a non-ASCII name: httpbin cannot read it.
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
        Expect::Rejected(HTTPBIN_LATIN1),
    );

    // Squid: a forward proxy asking for Digest with 407, no algorithm parameter.
    let proxy = Wire {
        algorithm: None,
        qop: Some("auth"),
        userhash: false,
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
    // /stale/; user names read as ISO-8859-1.
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
            Expect::Rejected(TOMCAT_LATIN1),
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
    rows
}
