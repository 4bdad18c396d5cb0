//! `fetch`: a Digest-aware command-line client for APIs and picky devices, with curl's flag
//! names where they overlap.
//!
//! ```text
//! cargo run -p httpdigest-ureq --example fetch -- [options] URL...
//! ```
//!
//! Run with `--help` for the options. The body of each final response goes to stdout as it
//! arrives (in bounded memory, whatever its length); `-v` and `--explain` write to stderr,
//! and never a password, nor anything derived from one. The exit status is 0 only when
//! every final response is 2xx.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::{HeaderMap, Method, StatusCode, Uri};
use httpdigest::Algorithm;
use httpdigest::client::netrc::Netrc;
use httpdigest::client::{
    BasicPolicy, Client, ClientConfig, Credentials, Failure, NoProxy, ProxyEnv, SelectionOrder,
    Verdict, strip_userinfo,
};
use httpdigest_ureq::{DigestAgent, Error, Event};

const HELP: &str = "\
fetch: HTTP requests with Digest authentication (RFC 7616), for APIs and devices.

Usage: fetch [options] URL...

Several URLs in one run share the authentication state: a second request to a known
protection space goes out with credentials at once.

Credentials: -u for the first URL's origin; a URL's own userinfo (http://user:pw@host/)
for that origin (it is never sent as Basic); a netrc file's machine entry for its host.
Userinfo in a redirect's Location is dropped. Proxies: http_proxy, https_proxy and
no_proxy (or their upper-case forms) unless -x or --noproxy say otherwise; a proxy URL's
userinfo is the proxy's credentials.

Options (curl's names where they overlap):
  -u, --user USER:PASSWORD        credentials for the server
  -n, --netrc                     take credentials per host from ~/.netrc (or $NETRC)
      --netrc-optional            the same, and no error when the file does not exist
      --netrc-file FILE           take credentials per host from FILE
  -x, --proxy URL                 forward proxy for http:// URLs
                                  (http://[user:password@]host[:port])
  -U, --proxy-user USER:PASSWORD  credentials for the proxy
      --noproxy LIST              hosts that go direct (no_proxy's syntax; '*' for all)
  -m, --max-time SECONDS          give up on a request after this long (exit status 28)
      --connect-timeout SECONDS   give up on connecting after this long
  -X, --request METHOD            method (default GET, or POST with -d)
  -d, --data DATA                 request body; @FILE reads it from FILE
  -H, --header 'NAME: VALUE'      extra request header
  -v, --verbose                   print each request line, the Authorization (and Cookie)
                                  sent, each status and the authentication headers (and
                                  Set-Cookie) received
      --explain                   say which challenges were offered, which was chosen and
                                  why, and why the server refused, in plain words
      --min-algorithm ALG         refuse algorithms weaker than ALG (MD5, SHA-256, ...)
      --server-order              take the first usable challenge, not the strongest
      --basic                     allow Basic over https
      --basic-insecure            allow Basic over plain http too (password in clear)
      --auth-int                  protect the body too (qop=auth-int) when offered
      --require-mutual-auth       fail unless the server proves it knows the password
      --no-preemptive             wait for a challenge on every request
  -h, --help                      this text

Exit status: 0 when every final response is 2xx, 1 otherwise, 2 on a usage error,
28 when a request timed out.";

#[derive(Default)]
struct Options {
    user: Option<(String, String)>,
    netrc: Option<NetrcSource>,
    proxy: Option<String>,
    proxy_user: Option<(String, String)>,
    no_proxy: Option<NoProxy>,
    max_time: Option<Duration>,
    connect_timeout: Option<Duration>,
    method: Option<Method>,
    data: Option<Vec<u8>>,
    headers: Vec<(String, String)>,
    verbose: bool,
    explain: bool,
    config: ClientConfig,
    urls: Vec<String>,
}

enum NetrcSource {
    Default { optional: bool },
    File(String),
}

/// curl's exit status for a timeout.
const TIMED_OUT: u8 = 28;

fn main() -> ExitCode {
    let options = match parse_args(std::env::args().skip(1)) {
        Ok(Some(options)) => options,
        Ok(None) => {
            println!("{HELP}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("fetch: {message}\nTry 'fetch --help'.");
            return ExitCode::from(2);
        }
    };
    match run(options) {
        Ok(Outcome::AllOk) => ExitCode::SUCCESS,
        Ok(Outcome::Failed) => ExitCode::from(1),
        Ok(Outcome::TimedOut) => ExitCode::from(TIMED_OUT),
        Err(message) => {
            eprintln!("fetch: {message}");
            ExitCode::from(2)
        }
    }
}

fn parse_args(args: impl Iterator<Item = String>) -> Result<Option<Options>, String> {
    let mut o = Options::default();
    let mut args = args.peekable();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .ok_or_else(|| format!("option {name} needs a value"))
        };
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "-u" | "--user" => o.user = Some(split_user(&value(&arg)?)?),
            "-n" | "--netrc" => o.netrc = Some(NetrcSource::Default { optional: false }),
            "--netrc-optional" => o.netrc = Some(NetrcSource::Default { optional: true }),
            "--netrc-file" => o.netrc = Some(NetrcSource::File(value(&arg)?)),
            "-x" | "--proxy" => o.proxy = Some(value(&arg)?),
            "-U" | "--proxy-user" => o.proxy_user = Some(split_user(&value(&arg)?)?),
            "--noproxy" => {
                let list = value(&arg)?;
                o.no_proxy = Some(NoProxy::parse(&list).map_err(|e| format!("--noproxy: {e}"))?);
            }
            "-m" | "--max-time" => o.max_time = Some(seconds(&arg, &value(&arg)?)?),
            "--connect-timeout" => o.connect_timeout = Some(seconds(&arg, &value(&arg)?)?),
            "-X" | "--request" => {
                let m = value(&arg)?;
                o.method = Some(
                    Method::from_bytes(m.as_bytes())
                        .map_err(|_| format!("invalid method {m:?}"))?,
                );
            }
            "-d" | "--data" => {
                let d = value(&arg)?;
                o.data = Some(match d.strip_prefix('@') {
                    Some(path) => std::fs::read(path).map_err(|e| format!("{path}: {e}"))?,
                    None => d.into_bytes(),
                });
            }
            "-H" | "--header" => {
                let h = value(&arg)?;
                let (name, v) = h
                    .split_once(':')
                    .ok_or_else(|| format!("header {h:?} is not NAME: VALUE"))?;
                o.headers
                    .push((name.trim().to_owned(), v.trim().to_owned()));
            }
            "-v" | "--verbose" => o.verbose = true,
            "--explain" => o.explain = true,
            "--min-algorithm" => {
                let a = value(&arg)?;
                let algorithm = Algorithm::from_token(a.as_bytes())
                    .ok_or_else(|| format!("unknown algorithm {a:?}"))?;
                o.config = o.config.with_min_algorithm(algorithm);
            }
            "--server-order" => o.config = o.config.with_order(SelectionOrder::ServerOrder),
            "--basic" => o.config = o.config.with_basic(BasicPolicy::HttpsOnly),
            "--basic-insecure" => o.config = o.config.with_basic(BasicPolicy::Always),
            "--auth-int" => o.config = o.config.with_prefer_auth_int(true),
            "--require-mutual-auth" => o.config = o.config.with_require_mutual_auth(true),
            "--no-preemptive" => o.config = o.config.with_preemptive(false),
            s if s.starts_with('-') && s.len() > 1 => return Err(format!("unknown option {s}")),
            _ => o.urls.push(arg),
        }
    }
    if o.urls.is_empty() {
        return Err("no URL given".to_owned());
    }
    Ok(Some(o))
}

fn split_user(s: &str) -> Result<(String, String), String> {
    // Never quote the value: it holds a password.
    let (user, password) = s
        .split_once(':')
        .ok_or_else(|| "credentials are not USER:PASSWORD".to_owned())?;
    Ok((user.to_owned(), password.to_owned()))
}

/// A duration in seconds, as curl takes it (`2`, `0.5`).
fn seconds(option: &str, value: &str) -> Result<Duration, String> {
    value
        .parse::<f64>()
        .ok()
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("{option} needs a positive number of seconds, not {value:?}"))
}

/// How the run ended, for the exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    AllOk,
    Failed,
    TimedOut,
}

/// The last request sent: method, URI, whether it carried `Authorization`, and
/// `Proxy-Authorization`.
type Sent = (Method, Uri, bool, bool);

/// One response seen by the observer, kept for `--explain`.
struct Seen {
    method: Method,
    uri: Uri,
    status: StatusCode,
    headers: HeaderMap,
    /// Whether the request carried credentials for the side that answered.
    answered: bool,
}

fn run(options: Options) -> Result<Outcome, String> {
    let verbose = options.verbose;
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let record = seen.clone();
    let last_request: Arc<Mutex<Option<Sent>>> = Arc::default();
    let mut client = Client::builder().config(options.config.clone());
    if let Some((u, p)) = &options.user {
        client = client.credentials(Credentials::new(u.clone(), p.clone()));
    }
    client = match load_netrc(options.netrc.as_ref())? {
        Some(netrc) => client.netrc(netrc),
        // No credentials per host; but a URL's userinfo brings its own, so the client is
        // built even without -u.
        None => client.credentials_provider(|_: httpdigest::OriginRef<'_>| None),
    };
    // Proxies: the environment's, then -x and --noproxy over it.
    let env = ProxyEnv::from_env().map_err(|e| e.to_string())?;
    let env = match &options.no_proxy {
        Some(list) => env.with_no_proxy(list.clone()),
        None => env,
    };
    client = client.proxy_env(env.clone());
    if let Some(proxy) = &options.proxy {
        client = client.proxy(proxy.clone());
    }
    if let Some((u, p)) = &options.proxy_user {
        client = client.proxy_credentials(Credentials::new(u.clone(), p.clone()));
    }
    let client = client.build().map_err(|e| e.to_string())?;
    let mut agent = DigestAgent::builder()
        .client(client)
        .proxy_env(env)
        .ureq_config(
            ureq::Agent::config_builder()
                .http_status_as_error(false)
                .build(),
        )
        .observer(move |event| observe(event, verbose, &record, &last_request));
    if let Some(max) = options.max_time {
        agent = agent.max_time(max);
    }
    if let Some(max) = options.connect_timeout {
        agent = agent.connect_timeout(max);
    }
    let agent = agent.build().map_err(|e| e.to_string())?;

    let mut outcome = Outcome::AllOk;
    let stdout = std::io::stdout();
    for url in &options.urls {
        // What may be printed of the URL: without its userinfo.
        let shown = strip_userinfo(url);
        let method = options.method.clone().unwrap_or(if options.data.is_some() {
            Method::POST
        } else {
            Method::GET
        });
        let mut request = agent.request(method, url.as_str());
        for (name, value) in &options.headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let result = match &options.data {
            Some(data) => request.send(data.clone()),
            None => request.call(),
        };
        if options.explain {
            explain_challenges(
                &agent,
                &seen.lock().unwrap_or_else(|e| e.into_inner()),
                options.config.order == SelectionOrder::ServerOrder,
            );
        }
        seen.lock().unwrap_or_else(|e| e.into_inner()).clear();
        match result {
            Ok(mut response) => {
                let status = response.status();
                if options.explain {
                    explain_success(status, response.headers());
                }
                if !status.is_success() && outcome == Outcome::AllOk {
                    outcome = Outcome::Failed;
                }
                // Streamed: a fixed buffer, whatever the body's length.
                let mut reader = response.body_mut().with_config().limit(u64::MAX).reader();
                let mut out = stdout.lock();
                if let Err(e) = std::io::copy(&mut reader, &mut out) {
                    if is_timeout(&e) {
                        eprintln!("fetch: {shown}: reading the body: timed out");
                        return Ok(Outcome::TimedOut);
                    }
                    return Err(format!("{shown}: reading the body: {e}"));
                }
                out.flush().map_err(|e| format!("writing to stdout: {e}"))?;
            }
            Err(error) => {
                if matches!(error, Error::Ureq(ureq::Error::Timeout(_))) {
                    eprintln!("fetch: {shown}: {error}");
                    return Ok(Outcome::TimedOut);
                }
                outcome = Outcome::Failed;
                eprintln!("fetch: {shown}: {error}");
                if options.explain {
                    explain_error(&error, options.user.is_some() || options.netrc.is_some());
                }
            }
        }
    }
    Ok(outcome)
}

/// Whether a read of the body failed on one of ureq's timeouts.
fn is_timeout(error: &std::io::Error) -> bool {
    error.kind() == std::io::ErrorKind::TimedOut
        || error
            .get_ref()
            .and_then(|e| e.downcast_ref::<ureq::Error>())
            .is_some_and(|e| matches!(e, ureq::Error::Timeout(_)))
}

/// The netrc file `-n`, `--netrc-optional` or `--netrc-file` name, read.
fn load_netrc(source: Option<&NetrcSource>) -> Result<Option<Netrc>, String> {
    match source {
        None => Ok(None),
        Some(NetrcSource::File(path)) => Netrc::load(path)
            .map(Some)
            .map_err(|e| format!("{path}: {e}")),
        // As curl: the file need not exist.
        Some(NetrcSource::Default { optional: true }) => {
            Netrc::load_default().map_err(|e| format!("netrc: {e}"))
        }
        Some(NetrcSource::Default { optional: false }) => {
            let path = Netrc::default_path().ok_or("no home directory for ~/.netrc")?;
            Netrc::load(&path)
                .map(Some)
                .map_err(|e| format!("{}: {e}", path.display()))
        }
    }
}

fn observe(
    event: &Event<'_>,
    verbose: bool,
    seen: &Mutex<Vec<Seen>>,
    last_request: &Mutex<Option<Sent>>,
) {
    match event {
        Event::Request {
            method,
            uri,
            authorization,
            proxy_authorization,
            cookie,
            ..
        } => {
            if verbose {
                eprintln!("> {method} {uri}");
                if let Some(value) = authorization {
                    eprintln!("> Authorization: {}", redacted(&value.text()));
                }
                if let Some(value) = proxy_authorization {
                    eprintln!("> Proxy-Authorization: {}", redacted(&value.text()));
                }
                if let Some(value) = cookie {
                    eprintln!("> Cookie: {}", String::from_utf8_lossy(value.as_bytes()));
                }
            }
            *last_request.lock().unwrap_or_else(|e| e.into_inner()) = Some((
                (*method).clone(),
                (*uri).clone(),
                authorization.is_some(),
                proxy_authorization.is_some(),
            ));
        }
        Event::Response { status, headers } => {
            if verbose {
                eprintln!("< {status}");
                for name in [
                    "www-authenticate",
                    "proxy-authenticate",
                    "authentication-info",
                    "proxy-authentication-info",
                    "set-cookie",
                    "location",
                ] {
                    for value in headers.get_all(name) {
                        eprintln!("< {name}: {}", String::from_utf8_lossy(value.as_bytes()));
                    }
                }
            }
            if let Some((method, uri, www, proxy)) = last_request
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone()
            {
                seen.lock().unwrap_or_else(|e| e.into_inner()).push(Seen {
                    method,
                    uri,
                    status: *status,
                    headers: (*headers).clone(),
                    answered: if *status == 407 { proxy } else { www },
                });
            }
        }
        _ => {}
    }
}

/// An `Authorization` value as `-v` shows it: Basic's whole value (the password in
/// base64) and Digest's `response` (a hash of the password, open to offline guessing) are
/// left out; the rest (user name, realm, nonce, uri, qop, nc) is shown.
fn redacted(value: &str) -> String {
    let Some((scheme, params)) = value.split_once(' ') else {
        return "<redacted>".to_owned();
    };
    if !scheme.eq_ignore_ascii_case("Digest") {
        return format!("{scheme} <redacted>");
    }
    let mut out = String::from(scheme);
    out.push(' ');
    let mut rest = params;
    // `response="hex"` holds no quote or comma: cut it out by its name.
    while let Some(at) = find_param(rest, "response") {
        let (before, after) = rest.split_at(at);
        out.push_str(before);
        out.push_str("response=<redacted>");
        let end = after.find(',').unwrap_or(after.len());
        rest = after.get(end..).unwrap_or_default();
    }
    out.push_str(rest);
    out
}

/// Where parameter `name` starts in a list of `name=value` parameters (at the start or
/// after a comma and spaces).
fn find_param(params: &str, name: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = params.get(from..)?.find(name) {
        let at = from + i;
        let before = params.get(..at)?.trim_end_matches([' ', '\t']);
        let after = params.get(at + name.len()..)?.trim_start();
        if (before.is_empty() || before.ends_with(',')) && after.starts_with('=') {
            return Some(at);
        }
        from = at + name.len();
    }
    None
}

/// For each 401 and 407 of the request: what was offered and the client's verdict on each.
fn explain_challenges(agent: &DigestAgent, seen: &[Seen], server_order: bool) {
    for s in seen {
        let who = match s.status.as_u16() {
            401 => "the server",
            407 => "the proxy",
            _ => continue,
        };
        let field = if s.status == 407 {
            "proxy-authenticate"
        } else {
            "www-authenticate"
        };
        let stale = s.headers.get_all(field).iter().any(|v| {
            String::from_utf8_lossy(v.as_bytes())
                .to_ascii_lowercase()
                .contains("stale=true")
        });
        if s.answered && !stale {
            eprintln!(
                "* {} {}: {who} answered {}: it refused the credentials sent",
                s.method, s.uri, s.status
            );
            continue;
        }
        let reviewed = agent.review(&s.method, &s.uri, s.status, &s.headers);
        eprintln!(
            "* {} {}: {who} answered {} and offered {} challenge(s):",
            s.method,
            s.uri,
            s.status,
            reviewed.len()
        );
        for r in &reviewed {
            let name = match (&r.algorithm, r.scheme.eq_ignore_ascii_case("Digest")) {
                (Some(a), true) => format!("{} {a}", r.scheme),
                (None, true) => format!("{} (no algorithm: MD5)", r.scheme),
                _ => r.scheme.to_string(),
            };
            let realm = r
                .realm
                .as_deref()
                .map(|realm| format!(" realm=\"{realm}\""))
                .unwrap_or_default();
            eprintln!(
                "*   {name}{realm}: {}",
                verdict_words(&r.verdict, server_order)
            );
        }
        if stale {
            eprintln!(
                "*   stale=true: the nonce expired, the password was right; answering the new nonce"
            );
        }
    }
}

fn verdict_words(verdict: &Verdict, server_order: bool) -> String {
    match verdict {
        Verdict::Chosen if server_order => {
            "CHOSEN: the first usable one (--server-order)".to_owned()
        }
        Verdict::Chosen => "CHOSEN: the strongest usable one".to_owned(),
        Verdict::NotChosen if server_order => "usable, but an earlier one was chosen".to_owned(),
        Verdict::NotChosen => "usable, but a stronger or earlier equal one was chosen".to_owned(),
        Verdict::UnsupportedAlgorithm => "skipped: algorithm not implemented".to_owned(),
        Verdict::BelowMinimum => "skipped: weaker than --min-algorithm".to_owned(),
        Verdict::UnsupportedQop => {
            "skipped: no qop to choose (neither auth nor auth-int), and a -sess algorithm needs one"
                .to_owned()
        }
        Verdict::CredentialsDoNotFit => "skipped: the credentials do not fit this realm".to_owned(),
        Verdict::BasicRefused => {
            "skipped: Basic sends the password in clear (allow with --basic over https)".to_owned()
        }
        Verdict::OtherScheme => "skipped: not a scheme this client speaks".to_owned(),
        Verdict::Malformed(e) => format!("unreadable ({e}); the rest of that header was ignored"),
        _ => format!("{verdict:?}"),
    }
}

fn explain_success(status: StatusCode, headers: &HeaderMap) {
    let proven = headers
        .get("authentication-info")
        .is_some_and(|v| String::from_utf8_lossy(v.as_bytes()).contains("rspauth"));
    let how = if proven {
        "the server proved it knows the password (rspauth checked)"
    } else {
        "the server sent no rspauth, so it did not prove it knows the password"
    };
    eprintln!("* final status {status}; {how}");
}

/// The most likely reason for a failure, in plain words.
fn explain_error(error: &Error, had_credentials: bool) {
    let words = match error {
        Error::Auth(auth) => match auth.failure() {
            Failure::CredentialsRejected => {
                "the server refused the answer to its own fresh challenge. Most likely the user \
                 name or password is wrong. Otherwise: the password is stored for another realm \
                 than the one in the challenge, or the user name is not ASCII and the server \
                 decodes it differently (Tomcat reads ISO-8859-1), or the server wants the \
                 uri written another way (absolute vs path)."
            }
            Failure::NoSupportedChallenge(_) => {
                "none of the challenges could be answered (see the list above): the server \
                 offers only algorithms or schemes this policy refuses."
            }
            Failure::StaleNonceNotRenewed => {
                "the server calls the nonce stale but offers the same one again: a server bug, \
                 or its clock is wrong."
            }
            Failure::OutOfScope => {
                "the challenge came from an origin the credentials are not for (after a \
                 redirect): the password is not sent there."
            }
            Failure::NoCredentials => {
                if had_credentials {
                    "the challenge came from a side (server or proxy) with no credentials: use \
                     -u for the server, -U for the proxy."
                } else {
                    "the server asks for credentials and none were given: use -u USER:PASSWORD \
                     or -n."
                }
            }
            Failure::ProxyChallengeWithoutProxy => {
                "a 407 came although no proxy was set: something between you and the server \
                 intercepts traffic; set it with -x and -U."
            }
            Failure::AuthIntNeedsReplayableBody | Failure::BodyNotReplayable => {
                "the body could not be sent again or hashed for auth-int."
            }
            Failure::MutualAuthFailed => {
                "the server's rspauth is wrong: it does not know the password, or something \
                 between you changed the response. Do not trust it."
            }
            Failure::MutualAuthMissing => {
                "--require-mutual-auth is set and the server sent no rspauth (many servers \
                 never do: Tomcat, Twisted, httpbin, lighttpd), or, for auth-int, the \
                 response body was too long to check."
            }
            Failure::RetriesExhausted => {
                "the server kept challenging after two answers (stale, then refused)."
            }
            _ => "the exchange failed (see the error above).",
        },
        Error::NonAsciiAuthorization => {
            "the user name is not ASCII and the server did not offer charset=UTF-8, so it \
             would have to go as raw bytes, which ureq refuses to send."
        }
        Error::Ureq(ureq::Error::ConnectionFailed) | Error::Ureq(ureq::Error::Io(_)) => {
            "the server could not be reached."
        }
        _ => return,
    };
    eprintln!("* why: {words}");
}
