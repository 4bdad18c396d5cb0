//! The `fetch` example as a process, against hostile servers: URL userinfo (never Basic,
//! never on the wire), a redirect whose `Location` carries credentials (dropped), a host
//! name only the proxy knows (never looked up by fetch), an endless body (streamed in
//! bounded memory), a body that stalls, a server that never answers and a 401 whose body
//! never comes (all ended by `--max-time`, exit status 28), and `-v` (nothing secret).
//! Then the download CI runs through the lab's Squid: the proxy and its credentials from
//! `http_proxy`, the origin's credentials from a netrc file.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    // What fetch said, shown when a test fails.
    clippy::print_stderr
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::thread;

use httpdigest_tests::lab;
use httpdigest_tests::server::{PASSWORD, Seen, Spec, USER, statuses};

/// The workspace root, where `cargo run` is started.
const REPO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

/// `cargo run` of fetch, with `args`, in an environment without proxy variables (the
/// test's own are not inherited) plus `env`.
fn fetch(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO"));
    command
        .current_dir(REPO)
        .args([
            "run",
            "-q",
            "-p",
            "httpdigest-ureq",
            "--example",
            "fetch",
            "--",
        ])
        .args(args);
    for name in [
        "http_proxy",
        "HTTP_PROXY",
        "https_proxy",
        "HTTPS_PROXY",
        "no_proxy",
        "NO_PROXY",
        "all_proxy",
        "ALL_PROXY",
        "NETRC",
    ] {
        command.env_remove(name);
    }
    for (name, value) in env {
        command.env(name, value);
    }
    command
}

fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    let output = fetch(args, env).output().expect("cargo run fetch");
    eprintln!(
        "fetch {args:?}: {:?}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A raw server on loopback: each connection's request head goes to the channel, then
/// `answer` gets the stream (to answer, stall or stream forever).
fn raw_server(
    answer: impl Fn(TcpStream) + Send + Sync + 'static,
) -> (String, mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let (tx, rx) = mpsc::channel();
    let answer = std::sync::Arc::new(answer);
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let (tx, answer) = (tx.clone(), answer.clone());
            thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut head = String::new();
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    head.push_str(&line);
                    if line == "\r\n" {
                        break;
                    }
                }
                let _ = tx.send(head);
                answer(stream);
            });
        }
    });
    (address, rx)
}

/// Whether `secret` is anywhere in the request as the server saw it (target or a header).
fn carries(request: &Seen, secret: &str) -> bool {
    request.uri.contains(secret) || request.headers.iter().any(|(_, v)| v.contains(secret))
}

fn respond(mut stream: TcpStream, response: &str) {
    let _ = stream.write_all(response.as_bytes());
    let _ = stream.flush();
}

/// Holds a connection open without writing, until the peer goes.
fn hold(mut stream: TcpStream) {
    let mut buf = [0u8; 64];
    while stream.read(&mut buf).is_ok_and(|n| n > 0) {}
}

// ---------------------------------------------------------------------------------------
// Credentials in URLs
// ---------------------------------------------------------------------------------------

/// URL userinfo is the Digest credentials of its origin: the server sees Digest for that
/// user, never Basic, and never the URL's password.
#[test]
fn url_userinfo_is_digest_never_basic() {
    let server = Spec::new().start();
    let url = server
        .url("/private")
        .replacen("http://", &format!("http://{USER}:{PASSWORD}@"), 1);
    let output = run(&[&url], &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let seen = server.take_seen();
    assert_eq!(statuses(&seen), [401, 200]);
    for request in &seen {
        let authorization = request.header("authorization").unwrap_or_default();
        assert!(!authorization.starts_with("Basic"), "{authorization}");
        assert!(!carries(request, PASSWORD), "{request:?}");
    }
    assert_eq!(seen[1].user.as_deref(), Some(USER));
    assert!(!stderr(&output).contains(PASSWORD));
}

/// With `-u` too, `-u` wins for the URL's origin (as in curl), and the URL's own password
/// goes nowhere: not as Basic, not in any header, not in fetch's messages.
#[test]
fn with_user_option_the_urls_password_goes_nowhere() {
    let server = Spec::new().start();
    let url = server
        .url("/private")
        .replacen("http://", "http://bob:hunter2@", 1);
    let user = format!("{USER}:{PASSWORD}");
    let output = run(&["-v", "-u", &user, &url], &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let seen = server.take_seen();
    assert_eq!(statuses(&seen), [401, 200]);
    for request in &seen {
        assert!(
            !carries(request, "hunter2") && !carries(request, PASSWORD),
            "{request:?}"
        );
        let authorization = request.header("authorization").unwrap_or_default();
        assert!(!authorization.starts_with("Basic"), "{authorization}");
    }
    let log = stderr(&output);
    assert!(!log.contains("hunter2") && !log.contains(PASSWORD), "{log}");
}

/// A redirect to `http://127.0.0.1:A@127.0.0.1:B/x`: fetch follows it to B without the
/// Location's "credentials" and without any of its own.
#[test]
fn credentials_in_a_redirect_location_are_dropped() {
    let (b, heads) = raw_server(|s| {
        respond(
            s,
            "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
        );
    });
    let a = Spec::new().start();
    let port_a = a.port();
    a.redirect("/go", &format!("http://127.0.0.1:{port_a}@{b}/x"));
    let user = format!("{USER}:{PASSWORD}");
    let output = run(&["-u", &user, &a.url("/go")], &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(output.stdout, b"ok");
    let head = heads.recv().unwrap();
    assert!(head.starts_with("GET /x HTTP/1.1\r\n"), "{head}");
    let lower = head.to_ascii_lowercase();
    assert!(!lower.contains("authorization"), "{head}");
    assert!(!lower.contains(&format!("127.0.0.1:{port_a}@")), "{head}");
}

// ---------------------------------------------------------------------------------------
// Proxies
// ---------------------------------------------------------------------------------------

/// A name only the proxy knows: fetch hands it to the proxy without looking it up, with
/// `-x` and with `http_proxy`; a `no_proxy` host goes direct.
#[test]
fn a_name_only_the_proxy_knows_reaches_the_proxy() {
    let (proxy, heads) = raw_server(|s| {
        respond(
            s,
            "HTTP/1.1 200 OK\r\ncontent-length: 9\r\nconnection: close\r\n\r\nvia proxy",
        );
    });
    let url = "http://only-the-proxy-knows.invalid/x?y=1";
    let proxy_url = format!("http://{proxy}");
    for (args, env) in [
        (vec!["-x", proxy_url.as_str(), url], vec![]),
        (vec![url], vec![("http_proxy", proxy_url.as_str())]),
        (vec![url], vec![("HTTP_PROXY", proxy_url.as_str())]),
    ] {
        let output = run(&args, &env);
        assert!(output.status.success(), "{}", stderr(&output));
        assert_eq!(output.stdout, b"via proxy");
        let head = heads.recv().unwrap();
        assert!(
            head.starts_with("GET http://only-the-proxy-knows.invalid/x?y=1 HTTP/1.1\r\n"),
            "{head}"
        );
    }

    // no_proxy (and --noproxy): direct.
    let (direct, direct_heads) = raw_server(|s| {
        respond(
            s,
            "HTTP/1.1 200 OK\r\ncontent-length: 6\r\nconnection: close\r\n\r\ndirect",
        );
    });
    let direct_url = format!("http://{direct}/d");
    for (args, env) in [
        (
            vec![direct_url.as_str()],
            vec![
                ("http_proxy", proxy_url.as_str()),
                ("no_proxy", "127.0.0.1"),
            ],
        ),
        (
            vec!["--noproxy", "127.0.0.1", direct_url.as_str()],
            vec![("http_proxy", proxy_url.as_str())],
        ),
    ] {
        let output = run(&args, &env);
        assert!(output.status.success(), "{}", stderr(&output));
        assert_eq!(output.stdout, b"direct");
        assert!(
            direct_heads
                .recv()
                .unwrap()
                .starts_with("GET /d HTTP/1.1\r\n")
        );
    }
    assert!(
        heads.try_recv().is_err(),
        "the proxy saw a bypassed request"
    );
}

/// A proxy URL the client cannot use: the error names the variable, never the password.
#[test]
fn a_bad_proxy_variable_is_named_and_its_password_not_printed() {
    for value in [
        "https://bob:pw-secret@127.0.0.1:1",
        "http://bob:pw-secret@127.0.0.1:1/path",
    ] {
        let output = run(&["http://127.0.0.1:1/"], &[("http_proxy", value)]);
        assert_eq!(output.status.code(), Some(2));
        let log = stderr(&output);
        assert!(log.contains("http_proxy"), "{log}");
        assert!(!log.contains("pw-secret"), "{log}");
    }
    // -x with credentials that cannot be reached: the password is not in the error either.
    let output = run(
        &[
            "-x",
            "http://bob:pw-secret@127.0.0.1:1",
            "http://a.invalid/",
        ],
        &[],
    );
    assert!(!output.status.success());
    assert!(
        !stderr(&output).contains("pw-secret"),
        "{}",
        stderr(&output)
    );
}

// ---------------------------------------------------------------------------------------
// Bodies and time
// ---------------------------------------------------------------------------------------

/// An endless body streams through in bounded memory: after 128 MiB have come out, fetch's
/// peak resident memory is still small. Then `--max-time` ends it: exit status 28.
#[test]
fn an_endless_body_streams_in_bounded_memory() {
    let (server, _heads) = raw_server(|mut s| {
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n");
        let chunk = vec![b'x'; 64 * 1024];
        while s.write_all(&chunk).is_ok() {}
    });
    let url = format!("http://{server}/endless");
    let mut child = fetch(&[&url], &[])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    const STREAMED: usize = 128 << 20;
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0;
    while total < STREAMED {
        let n = stdout.read(&mut buf).unwrap();
        assert!(n > 0, "fetch stopped after {total} bytes");
        total += n;
    }
    // `cargo run` replaced itself with fetch: the child is fetch.
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap();
    let peak_kib: usize = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    child.kill().unwrap();
    let _ = child.wait();
    eprintln!(
        "fetch's peak RSS after {} MiB: {peak_kib} KiB",
        STREAMED >> 20
    );
    assert!(peak_kib < 48 * 1024, "peak RSS {peak_kib} KiB");

    let output = run(&["--max-time", "1", &url], &[]);
    assert_eq!(output.status.code(), Some(28), "{}", stderr(&output));
}

/// A body that stops midway, a server that never answers, a 401 whose body never comes:
/// each ends at `--max-time` with exit status 28, instead of waiting forever.
#[test]
fn stalls_end_at_max_time() {
    let (stalled, _h1) = raw_server(|mut s| {
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\nonly this");
        hold(s);
    });
    let (silent, _h2) = raw_server(hold);
    let (challenge, _h3) = raw_server(|mut s| {
        let _ = s.write_all(
            b"HTTP/1.1 401 Unauthorized\r\nwww-authenticate: Digest realm=\"r\", nonce=\"n\", qop=\"auth\"\r\ncontent-length: 1000\r\n\r\n",
        );
        hold(s);
    });
    for (server, user) in [(stalled, None), (silent, None), (challenge, Some("a:b"))] {
        let url = format!("http://{server}/");
        let mut args = vec!["--max-time", "1"];
        if let Some(user) = user {
            args.extend(["-u", user]);
        }
        args.push(&url);
        let output = run(&args, &[]);
        assert_eq!(
            output.status.code(),
            Some(28),
            "{server}: {}",
            stderr(&output)
        );
    }
}

/// `--connect-timeout` is taken (a refused connection fails at once, exit status 1).
#[test]
fn connect_timeout_is_an_option() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let output = run(
        &["--connect-timeout", "2", &format!("http://{address}/")],
        &[],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
}

/// `-v` shows the exchange but not the password, nor Digest's `response` (a hash of it).
#[test]
fn verbose_shows_nothing_secret() {
    let server = Spec::new().start();
    let user = format!("{USER}:{PASSWORD}");
    let output = run(&["-v", "-u", &user, &server.url("/private")], &[]);
    assert!(output.status.success());
    let seen = server.take_seen();
    let sent = seen[1].params();
    let response = &sent["response"];
    let log = stderr(&output);
    assert!(
        log.contains("> Authorization: Digest username=\"alice\""),
        "{log}"
    );
    assert!(log.contains("response=<redacted>"), "{log}");
    assert!(!log.contains(response.as_str()), "{log}");
    assert!(!log.contains(PASSWORD), "{log}");
}

// ---------------------------------------------------------------------------------------
// The lab: through Squid, from the environment and a netrc file
// ---------------------------------------------------------------------------------------

/// The download CI runs: `http_proxy` names the lab's Squid with the proxy's credentials
/// in its URL (Digest, 407), a netrc file holds the origin's (Apache, Digest, 401).
#[test]
fn through_squid_from_http_proxy_with_netrc_credentials() {
    let dir = std::env::temp_dir().join(format!("httpdigest-fetch-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let netrc = dir.join("netrc");
    std::fs::write(
        &netrc,
        format!(
            "machine 127.0.0.1 login {} password {}\n",
            lab::ALICE.name,
            lab::ALICE.password
        ),
    )
    .unwrap();
    let proxy = lab::SQUID.replacen(
        "http://",
        &format!("http://{}:{}@", lab::ALICE.name, lab::ALICE.password),
        1,
    );
    let url = format!("{}/digest/", lab::APACHE);
    let output = run(
        &["-v", "-n", &url],
        &[("http_proxy", &proxy), ("NETRC", netrc.to_str().unwrap())],
    );
    let _ = std::fs::remove_dir_all(&dir);
    let log = stderr(&output);
    assert!(output.status.success(), "{log}");
    assert!(log.contains("< 407"), "Squid asked: {log}");
    assert!(log.contains("> Proxy-Authorization: Digest"), "{log}");
    assert!(log.contains("< 401"), "Apache asked: {log}");
    assert!(
        log.contains("> Authorization: Digest username=\"alice\""),
        "{log}"
    );
    assert!(log.contains("< 200"), "{log}");
    assert!(!log.contains(lab::ALICE.password), "{log}");
}

/// `--netrc-optional` takes a missing file as no entries; `-n` reports it; `--netrc-file`
/// gives each host its entry only (the `default` entry is not used).
#[test]
fn netrc_options() {
    let server = Spec::new().start();
    let missing = std::env::temp_dir().join("httpdigest-fetch-no-such-netrc");
    let missing = missing.to_str().unwrap();
    let open = server.url("/open/x");
    let output = run(&["--netrc-optional", &open], &[("NETRC", missing)]);
    assert!(output.status.success(), "{}", stderr(&output));
    let output = run(&["-n", &open], &[("NETRC", missing)]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));

    let file = std::env::temp_dir().join(format!("httpdigest-netrc-{}", std::process::id()));
    std::fs::write(
        &file,
        format!("machine 127.0.0.1 login {USER} password {PASSWORD}\ndefault login {USER} password {PASSWORD}\n"),
    )
    .unwrap();
    let file_arg = file.to_str().unwrap().to_owned();
    let output = run(&["--netrc-file", &file_arg, &server.url("/private")], &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(statuses(&server.take_seen()), [200, 401, 200]);
    // `localhost`: no machine entry; the challenge is not answered.
    let output = run(
        &[
            "--netrc-file",
            &file_arg,
            &server.url_as("localhost", "/private"),
        ],
        &[],
    );
    let _ = std::fs::remove_file(&file);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let seen = server.take_seen();
    assert_eq!(statuses(&seen), [401]);
    assert!(seen[0].header("authorization").is_none());
}
