//! `get`: GET one or more URLs with reqwest and Digest authentication, retrying transient
//! failures, and print each status and body.
//!
//! ```text
//! cargo run -p httpdigest-reqwest --example get -- [-u USER:PASSWORD] [--netrc | --netrc-file FILE]
//!     [-m SECONDS] [--connect-timeout SECONDS] URL...
//! cargo run -p httpdigest-reqwest --example get -- USER PASSWORD URL...
//! ```
//!
//! Each body is written to stdout as it arrives, in bounded memory. `-m`/`--max-time` bounds
//! each URL's whole request (its retries and redirects included) and `--connect-timeout`
//! each connection, as curl's options do; a timeout ends with exit status 28, curl's. Without
//! them, as with curl, nothing is bounded in time.
//!
//! Credentials, as curl takes them with `--digest`: `-u` (or the two leading words) for the
//! first URL's origin; a URL's userinfo (`http://alice:s3cret@host/`) for its origin, never
//! sent as Basic nor in the URL; `--netrc` (`$NETRC` or `~/.netrc`) or `--netrc-file` per
//! host. A plain-`http` proxy from `http_proxy`/`HTTP_PROXY` (with its credentials in its
//! URL) is answered too, `no_proxy` as reqwest reads it.
//!
//! Try it against the example server of httpdigest-hyper:
//!
//! ```text
//! cargo run -p httpdigest-hyper --example server &
//! cargo run -p httpdigest-reqwest --example get -- http://alice:s3cret@127.0.0.1:8080/a http://127.0.0.1:8080/b
//! ```
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use httpdigest::client::netrc::Netrc;
use httpdigest_reqwest::{DigestAuthMiddleware, auth_error};
use reqwest_middleware::ClientBuilder;
use reqwest_retry::{RetryTransientMiddleware, policies::ExponentialBackoff};

const USAGE: &str = "usage: get [-u USER:PASSWORD] [--netrc | --netrc-file FILE] [-m SECONDS] [--connect-timeout SECONDS] URL...\n       get USER PASSWORD URL...";

/// curl's exit status for a timeout.
const TIMED_OUT: u8 = 28;

/// What the command line asks for.
struct Args {
    user: Option<(String, String)>,
    netrc: Option<PathBuf>,
    max_time: Option<Duration>,
    connect_timeout: Option<Duration>,
    urls: Vec<String>,
}

/// A number of seconds, as curl takes it (fractions allowed).
fn seconds(option: &str, value: Option<String>) -> Result<Duration, String> {
    let value = value.ok_or_else(|| format!("{option} needs SECONDS"))?;
    value
        .parse::<f64>()
        .ok()
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .ok_or_else(|| format!("{option}: not a number of seconds: {value}"))
}

fn parse(args: Vec<String>) -> Result<Args, String> {
    let mut parsed = Args {
        user: None,
        netrc: None,
        max_time: None,
        connect_timeout: None,
        urls: Vec::new(),
    };
    let mut args = args.into_iter().peekable();
    // The older form: USER PASSWORD URL...
    if let Some(first) = args.peek()
        && !first.starts_with('-')
        && !first.contains("://")
    {
        let user = args.next().unwrap_or_default();
        let password = args.next().ok_or("a password after the user name")?;
        parsed.user = Some((user, password));
    }
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-u" | "--user" => {
                let value = args.next().ok_or("-u needs USER:PASSWORD")?;
                let (user, password) = value.split_once(':').ok_or("-u needs USER:PASSWORD")?;
                parsed.user = Some((user.to_owned(), password.to_owned()));
            }
            "--netrc" => {
                let path = std::env::var_os("NETRC")
                    .map(PathBuf::from)
                    .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".netrc")))
                    .ok_or("--netrc: neither NETRC nor HOME is set")?;
                parsed.netrc = Some(path);
            }
            "-m" | "--max-time" => parsed.max_time = Some(seconds(&arg, args.next())?),
            "--connect-timeout" => parsed.connect_timeout = Some(seconds(&arg, args.next())?),
            "--netrc-file" => {
                let path = args.next().ok_or("--netrc-file needs a FILE")?;
                parsed.netrc = Some(PathBuf::from(path));
            }
            other if other.starts_with('-') => return Err(format!("unknown option {other}")),
            _ => parsed.urls.push(arg),
        }
    }
    if parsed.urls.is_empty() {
        return Err("no URL".to_owned());
    }
    Ok(parsed)
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1).collect()) {
        Ok(args) => args,
        Err(why) => {
            eprintln!("get: {why}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let mut digest = DigestAuthMiddleware::builder();
    if let Some((user, password)) = args.user {
        digest = digest.credentials(user, password);
    }
    if let Some(path) = &args.netrc {
        match Netrc::load(path) {
            Ok(netrc) => digest = digest.netrc(netrc),
            Err(error) => {
                eprintln!("get: {}: {error}", path.display());
                return ExitCode::from(2);
            }
        }
    }
    let digest = match digest.build() {
        Ok(digest) => digest,
        Err(error) => {
            eprintln!("get: {error}");
            return ExitCode::from(2);
        }
    };
    // The middleware follows redirects (each hop authenticated for its own URI): reqwest
    // must not.
    let mut http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none());
    if let Some(connect) = args.connect_timeout {
        http = http.connect_timeout(connect);
    }
    let http = match http.build() {
        Ok(http) => http,
        Err(error) => {
            eprintln!("get: {error}");
            return ExitCode::FAILURE;
        }
    };
    let retry = RetryTransientMiddleware::new_with_policy(
        ExponentialBackoff::builder().build_with_max_retries(2),
    );
    // Retry outside, Digest inside: a retried request is authenticated afresh.
    let client = ClientBuilder::new(http).with(retry).with(digest).build();
    let mut status = ExitCode::SUCCESS;
    for url in &args.urls {
        // What is printed of a URL has no userinfo.
        let shown = shown(url);
        let request = get(&client, url, &shown);
        let outcome = match args.max_time {
            Some(max) => tokio::time::timeout(max, request)
                .await
                .unwrap_or(Outcome::TimedOut),
            None => request.await,
        };
        match outcome {
            Outcome::Ok => {}
            Outcome::Failed => status = ExitCode::FAILURE,
            Outcome::TimedOut => {
                eprintln!("{shown}: timed out");
                return ExitCode::from(TIMED_OUT);
            }
        }
    }
    status
}

/// How one URL went.
enum Outcome {
    Ok,
    Failed,
    TimedOut,
}

/// GETs `url`: its status on stdout, then its body as it arrives.
async fn get(client: &reqwest_middleware::ClientWithMiddleware, url: &str, shown: &str) -> Outcome {
    let mut response = match client.get(url).send().await {
        Ok(response) => response,
        Err(error) => {
            match auth_error(&error) {
                Some(auth) => eprintln!("{shown}: {} ({})", auth.failure(), auth.status()),
                None if is_timeout(&error) => return Outcome::TimedOut,
                None => eprintln!("{shown}: {error:#}"),
            }
            return Outcome::Failed;
        }
    };
    let status = response.status();
    let mut stdout = std::io::stdout().lock();
    if writeln!(stdout, "{shown}: {status}").is_err() {
        return Outcome::Failed;
    }
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if stdout.write_all(&chunk).is_err() {
                    return Outcome::Failed;
                }
            }
            Ok(None) => break,
            Err(error) if error.is_timeout() => return Outcome::TimedOut,
            Err(error) => {
                eprintln!("{shown}: reading the body: {error:#}");
                return Outcome::Failed;
            }
        }
    }
    if writeln!(stdout).and_then(|()| stdout.flush()).is_err() || !status.is_success() {
        return Outcome::Failed;
    }
    Outcome::Ok
}

/// Whether a request failed on one of reqwest's timeouts (`--connect-timeout`).
fn is_timeout(error: &reqwest_middleware::Error) -> bool {
    matches!(error, reqwest_middleware::Error::Reqwest(e) if e.is_timeout())
}

/// `url` without its userinfo, for messages.
fn shown(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut url) => {
            let _ = url.set_username("");
            let _ = url.set_password(None);
            url.to_string()
        }
        Err(_) => url
            .rsplit_once('@')
            .map_or_else(|| url.to_owned(), |(_, rest)| format!("…@{rest}")),
    }
}
