//! The examples as a new user runs them: users in a file written by Apache's own `htdigest`
//! tool (Debian `apache2-utils`), the real `curl --digest` as the client, nothing else
//! configured:
//!
//! - `examples/axum_nest.rs`, an axum application whose protected routes are nested under
//!   `/api` with `route_layer`;
//! - `examples/server.rs` with `--htdigest`.
//!
//! Both tools are required: without them these tests fail, they are never skipped
//! (`.ci/run` installs both).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use httpdigest_tests::example_server::{ExampleServer, cargo_run, cargo_run_example};

const REALM: &str = "api@example.org";
const ALICE: (&str, &str) = ("alice", "s3cret");
/// A password with a colon and a non-ASCII letter: curl splits `-u` at the first colon.
const BOB: (&str, &str) = ("bob", "p\u{e4}ss:word");

/// How long a line the server prints may take to appear at most (it comes at once; this
/// only turns a missing line into a failure instead of a hang).
const PATIENCE: Duration = Duration::from_secs(20);

/// A scratch directory removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let path = std::env::temp_dir().join(format!("httpdigest-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `htdigest [-c] file realm user`, typing the password twice on stdin.
fn htdigest(file: &Path, create: bool, (user, password): (&str, &str)) {
    let mut command = Command::new("htdigest");
    if create {
        command.arg("-c");
    }
    let mut child = command
        .arg(file)
        .arg(REALM)
        .arg(user)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot run Apache's `htdigest` ({e}): install it with `apt-get install apache2-utils`")
        });
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{password}\n{password}\n").as_bytes())
        .unwrap();
    assert!(
        child.wait().unwrap().success(),
        "htdigest failed for {user}"
    );
}

/// The file `htdigest` writes for [`ALICE`] and [`BOB`].
fn users_file(scratch: &Scratch) -> String {
    let path = scratch.0.join("users.htdigest");
    htdigest(&path, true, ALICE);
    htdigest(&path, false, BOB);
    path.to_str().unwrap().to_owned()
}

/// What curl got: the status, the body, and the `Authorization` it sent last.
#[derive(Debug)]
struct Curl {
    status: u16,
    body: String,
    authorization: Option<String>,
}

/// `curl --digest -u USER:PASSWORD -v URL` (no credentials when `login` is `None`).
fn curl(url: &str, login: Option<(&str, &str)>) -> Curl {
    let mut command = Command::new("curl");
    command.args(["-sS", "-v", "-w", "\n%{http_code}"]);
    if let Some((user, password)) = login {
        command.args(["--digest", "-u", &format!("{user}:{password}")]);
    }
    let output = command.arg(url).output().unwrap_or_else(|e| {
        panic!("cannot run curl ({e}): install it with `apt-get install curl`")
    });
    assert!(output.status.success(), "curl failed: {output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let (body, status) = stdout.rsplit_once('\n').unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let authorization = stderr
        .lines()
        .filter_map(|l| l.strip_prefix("> Authorization: "))
        .next_back()
        .map(str::to_owned);
    Curl {
        status: status.parse().unwrap(),
        body: body.to_owned(),
        authorization,
    }
}

/// curl's answer with the right password: 200 with `body`, over MD5 (the only algorithm
/// the file can verify, and so the only one offered, though SHA-256 is configured first).
fn assert_logs_in(url: &str, login: (&str, &str), body: &str) {
    let got = curl(url, Some(login));
    assert_eq!(
        (got.status, got.body.as_str()),
        (200, body),
        "{url}: {got:?}"
    );
    let authorization = got.authorization.unwrap();
    assert!(
        authorization.contains("algorithm=MD5") && authorization.contains("qop=auth"),
        "{authorization}"
    );
}

#[test]
fn axum_app_under_nest_with_an_htdigest_file_answers_curl() {
    let scratch = Scratch::new("axum-nest");
    let file = users_file(&scratch);
    let server = ExampleServer::spawn(
        cargo_run_example("axum_nest"),
        "axum_nest",
        &["--htdigest", &file],
    );

    assert_logs_in(&server.url("/api/me"), ALICE, "alice\n");
    assert_logs_in(&server.url("/api/me?verbose=1"), BOB, "bob\n");
    let time = curl(&server.url("/api/time"), Some(ALICE));
    assert_eq!(time.status, 200, "{time:?}");

    // Public and unknown routes are not challenged (`route_layer`).
    let public = curl(&server.url("/"), None);
    assert_eq!(public.status, 200, "{public:?}");
    assert_eq!(curl(&server.url("/api/nothing"), Some(ALICE)).status, 404);

    // A wrong password and an unknown user: the same 401 for curl, each with its reason
    // in the operator's log.
    let wrong = curl(&server.url("/api/me"), Some((ALICE.0, "not it")));
    let unknown = curl(&server.url("/api/me"), Some(("mallory", ALICE.1)));
    assert_eq!(
        (wrong.status, wrong.body.as_str()),
        (401, "Digest authentication required\n")
    );
    assert_eq!((unknown.status, &unknown.body), (wrong.status, &wrong.body));
    assert!(server.wait_for_stderr(
        "refused 401 GET /api/me from 127.0.0.1 user \"alice\": wrong password",
        PATIENCE
    ));
    assert!(server.wait_for_stderr(
        "refused 401 GET /api/me from 127.0.0.1 user \"mallory\": unknown user",
        PATIENCE
    ));
    let log = server.stderr_lines().join("\n");
    assert!(!log.contains(ALICE.1) && !log.contains("response"), "{log}");
}

#[test]
fn axum_app_refuses_a_realm_its_file_does_not_hold() {
    let scratch = Scratch::new("axum-nest-realm");
    let file = users_file(&scratch);
    let output = cargo_run_example("axum_nest")
        .args([
            "--",
            "--listen",
            "127.0.0.1:0",
            "--htdigest",
            &file,
            "--realm",
            "other",
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!output.status.success(), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("the credential store holds no user of the realm \"other\""),
        "{stderr}"
    );
}

/// The example server with `--htdigest` and nothing else: it used to offer SHA-256 first,
/// which curl picks and an MD5 file cannot verify, so every login failed.
#[test]
fn example_server_with_an_htdigest_file_answers_curl() {
    let scratch = Scratch::new("server-htdigest");
    let file = users_file(&scratch);
    let server = ExampleServer::spawn(cargo_run(), "server", &["--htdigest", &file]);
    assert_logs_in(&server.url("/"), ALICE, "alice\n");
    assert_logs_in(&server.url("/x?y=z"), BOB, "bob\n");
    let wrong = curl(&server.url("/"), Some((ALICE.0, "not it")));
    assert_eq!(wrong.status, 401, "{wrong:?}");
}
