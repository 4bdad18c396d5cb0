//! Redis for the tests of the Redis-backed stores: always a real `redis-server`, never a
//! mock, and a test that needs one fails, never passes, when there is none.
//!
//! Two kinds:
//! - the lab's instance ([`lab_redis_url`]), started by `tests/interop/start-all.sh` on
//!   127.0.0.1:18094 and shared by every test: for tests that only use Redis;
//! - a private one ([`RedisServer`]) a test starts, stops and restarts itself (Redis going
//!   away mid-request, coming back empty) without disturbing the other tests.
//!
//! [`command`] sends one command and reads its reply (RESP2), so a test can look at what a
//! store wrote. Standard library only: this is a few lines of protocol, not a client.

use std::fmt;
use std::fs;
use std::io::{self, BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// The URL of the lab's Redis (`tests/interop/start-redis.sh`).
pub const LAB_REDIS_URL: &str = "redis://127.0.0.1:18094/";

/// The environment variable that names another Redis for [`lab_redis_url`] (for instance a
/// developer's own on 6379): `redis://HOST:PORT[/DB]`, without user or password.
pub const REDIS_URL_ENV: &str = "HTTPDIGEST_REDIS_URL";

/// Where Debian's `redis-server` package puts the server.
pub const REDIS_SERVER_BIN: &str = "/usr/bin/redis-server";

/// How long a connection, a write or a read may take before [`command`] gives up: a bound
/// so that a test never hangs, not a timing assertion.
const IO_TIMEOUT: Duration = Duration::from_secs(5);

/// How long [`RedisServer::start`] waits for a new server to answer PING.
const STARTUP_LIMIT: Duration = Duration::from_secs(10);

/// The URL of the lab's Redis, or of the one [`REDIS_URL_ENV`] names, after checking that
/// it answers PING.
///
/// # Panics
///
/// If it does not answer PING (with `+PONG`), naming what to run: a test never passes
/// because Redis was missing.
pub fn lab_redis_url() -> String {
    match std::env::var(REDIS_URL_ENV) {
        Ok(url) if !url.is_empty() => {
            if let Err(e) = ping(&url) {
                panic!("the Redis that {REDIS_URL_ENV} names ({url}) does not answer PING: {e}");
            }
            url
        }
        _ => {
            if let Err(e) = ping(LAB_REDIS_URL) {
                panic!(
                    "the lab's Redis is not running ({LAB_REDIS_URL} does not answer PING: {e}): \
                     run tests/interop/start-all.sh"
                );
            }
            LAB_REDIS_URL.to_owned()
        }
    }
}

/// Panics unless the Redis at `url` answers PING with `+PONG`.
///
/// # Panics
///
/// As said, naming the URL and what went wrong.
pub fn require(url: &str) {
    if let Err(e) = ping(url) {
        panic!("the Redis at {url} does not answer PING: {e}");
    }
}

/// PING the Redis at `url`: `Ok` only for the reply `+PONG`.
///
/// # Errors
///
/// The connection's error (refused: nothing listens), or `InvalidData` for another reply
/// (something that is not Redis, or `-NOAUTH`, `-LOADING`, ...).
pub fn ping(url: &str) -> io::Result<()> {
    match command(url, &["PING"])? {
        Reply::Simple(s) if s == "PONG" => Ok(()),
        other => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("PING answered {other}, not +PONG"),
        )),
    }
}

/// One reply of Redis (RESP2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    /// `+OK`, `+PONG`: the text after `+`.
    Simple(String),
    /// `-ERR ...`: the text after `-`.
    Error(String),
    /// `:1`.
    Integer(i64),
    /// `$3\r\nabc`; `None` for the null bulk string `$-1` (GET of a missing key).
    Bulk(Option<Vec<u8>>),
    /// `*2\r\n...`; `None` for the null array `*-1`.
    Array(Option<Vec<Reply>>),
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reply::Simple(s) => write!(f, "+{s}"),
            Reply::Error(s) => write!(f, "-{s}"),
            Reply::Integer(n) => write!(f, ":{n}"),
            Reply::Bulk(None) | Reply::Array(None) => f.write_str("(nil)"),
            Reply::Bulk(Some(b)) => write!(f, "{:?}", String::from_utf8_lossy(b)),
            Reply::Array(Some(items)) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
        }
    }
}

/// Sends one command (`&["SET", "k", "v"]`) to the Redis at `url` on a new connection and
/// reads its reply. An error reply is `Ok(Reply::Error(..))`: it is Redis's answer.
///
/// # Errors
///
/// The URL is not `redis://HOST:PORT[/DB]`, the connection failed, or the reply is not
/// RESP2.
pub fn command(url: &str, args: &[&str]) -> io::Result<Reply> {
    let (addr, db) = parse_url(url)?;
    let stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT)?;
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    if db != 0 {
        writer.write_all(&encode(&["SELECT", &db.to_string()]))?;
        match read_reply(&mut reader)? {
            Reply::Simple(s) if s == "OK" => {}
            other => {
                return Err(io::Error::other(format!("SELECT {db} answered {other}")));
            }
        }
    }
    writer.write_all(&encode(args))?;
    read_reply(&mut reader)
}

/// `redis://HOST:PORT[/DB]` → the first address of HOST:PORT, and DB (0 when absent).
fn parse_url(url: &str) -> io::Result<(SocketAddr, u32)> {
    let bad = |why: &str| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{url:?} is not redis://HOST:PORT[/DB] ({why})"),
        )
    };
    let rest = url.strip_prefix("redis://").ok_or_else(|| bad("scheme"))?;
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    if authority.contains('@') {
        return Err(bad("user or password: not supported"));
    }
    let db = if path.is_empty() {
        0
    } else {
        path.parse().map_err(|_| bad("database number"))?
    };
    let addr = authority
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| bad("host resolves to no address"))?;
    Ok((addr, db))
}

/// A command as a RESP array of bulk strings.
fn encode(args: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out
}

fn read_reply(r: &mut impl BufRead) -> io::Result<Reply> {
    let invalid = |what: String| io::Error::new(io::ErrorKind::InvalidData, what);
    let mut line = Vec::new();
    r.read_until(b'\n', &mut line)?;
    if line.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the connection closed before a reply",
        ));
    }
    let text = String::from_utf8_lossy(&line).into_owned();
    let body = text
        .strip_suffix("\r\n")
        .ok_or_else(|| invalid(format!("reply line without CRLF: {text:?}")))?;
    let mut chars = body.chars();
    let kind = chars.next();
    let rest = chars.as_str();
    let number = || {
        rest.parse::<i64>()
            .map_err(|_| invalid(format!("not a number: {text:?}")))
    };
    Ok(match kind {
        Some('+') => Reply::Simple(rest.to_owned()),
        Some('-') => Reply::Error(rest.to_owned()),
        Some(':') => Reply::Integer(number()?),
        Some('$') => match usize::try_from(number()?) {
            Err(_) => Reply::Bulk(None),
            Ok(len) => {
                let mut data = vec![0; len + 2];
                r.read_exact(&mut data)?;
                if data.split_off(len) != b"\r\n" {
                    return Err(invalid(format!("bulk string of {len} bytes without CRLF")));
                }
                Reply::Bulk(Some(data))
            }
        },
        Some('*') => match usize::try_from(number()?) {
            Err(_) => Reply::Array(None),
            Ok(n) => Reply::Array(Some(
                (0..n)
                    .map(|_| read_reply(r))
                    .collect::<io::Result<Vec<_>>>()?,
            )),
        },
        _ => return Err(invalid(format!("not a RESP2 reply: {text:?}"))),
    })
}

/// A `redis-server` of one test's own: on a free loopback port, no persistence, its working
/// directory and log in a fresh temporary directory. The test can stop it and start it
/// again, empty, on the same port; dropping it kills the server and removes the directory.
///
/// ```no_run
/// let mut redis = httpdigest_tests::redis::RedisServer::start();
/// let url = redis.url(); // redis://127.0.0.1:PORT/
/// redis.stop(); // the store now meets a refused connection
/// redis.restart_empty(); // same URL, no data
/// ```
pub struct RedisServer {
    port: u16,
    dir: PathBuf,
    child: Option<Child>,
    /// How many servers this one has run (their logs are `redis-N.log`).
    runs: u32,
}

impl RedisServer {
    /// Starts a private `redis-server` and returns once it answers PING.
    ///
    /// # Panics
    ///
    /// If `redis-server` is not installed, or does not answer PING within 10 s (the panic
    /// shows the end of its log).
    pub fn start() -> RedisServer {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let bin = redis_server_bin();
        // The port is free when chosen, but another process can take it before the server
        // binds it: then the server exits at once, and a new port is tried.
        for _ in 0..5 {
            let port = free_port();
            let dir = std::env::temp_dir().join(format!(
                "httpdigest-redis-{}-{}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed)
            ));
            let mut server = RedisServer {
                port,
                dir,
                child: None,
                runs: 0,
            };
            match server.spawn(&bin) {
                Ok(()) => return server,
                Err(Exited { log }) if log.contains("Address already in use") => continue,
                Err(Exited { log }) => panic!(
                    "redis-server on 127.0.0.1:{port} exited during startup; its log:\n{log}"
                ),
            }
        }
        panic!("redis-server found no free loopback port in 5 tries");
    }

    /// `redis://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// The port it listens on (the same after [`restart_empty`](Self::restart_empty)).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Kills the server and waits until it is gone: when this returns, the port refuses
    /// connections. Does nothing if it is already stopped.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops the server if it runs, then starts a new one on the same port with no data,
    /// and returns once it answers PING.
    ///
    /// # Panics
    ///
    /// If the new server does not answer PING within 10 s (for instance because another
    /// process took the port meanwhile).
    pub fn restart_empty(&mut self) {
        self.stop();
        if let Err(Exited { log }) = self.spawn(&redis_server_bin()) {
            panic!(
                "redis-server, restarted on 127.0.0.1:{}, exited during startup; its log:\n{log}",
                self.port
            );
        }
    }

    /// Starts the server in a fresh, empty `data` directory and waits for PING. `Err` when
    /// it exited first (with its log); panics when it neither exits nor answers in time.
    fn spawn(&mut self, bin: &Path) -> Result<(), Exited> {
        let data = self.dir.join("data");
        let _ = fs::remove_dir_all(&data);
        fs::create_dir_all(&data)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", data.display()));
        self.runs += 1;
        let log_path = self.dir.join(format!("redis-{}.log", self.runs));
        let log = fs::File::create(&log_path)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", log_path.display()));
        let log_err = log
            .try_clone()
            .unwrap_or_else(|e| panic!("cannot duplicate {}: {e}", log_path.display()));
        let port = self.port.to_string();
        let child = Command::new(bin)
            .args([
                "--port",
                &port,
                "--bind",
                "127.0.0.1",
                "--protected-mode",
                "no",
            ])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(&data)
            .args(["--daemonize", "no", "--logfile", ""])
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let url = self.url();
        let child = self.child.insert(child);
        let started = Instant::now();
        loop {
            if let Ok(Some(_)) = child.try_wait() {
                self.child = None;
                return Err(Exited {
                    log: fs::read_to_string(&log_path).unwrap_or_default(),
                });
            }
            if ping(&url).is_ok() {
                return Ok(());
            }
            if started.elapsed() > STARTUP_LIMIT {
                self.stop();
                panic!(
                    "redis-server on 127.0.0.1:{} did not answer PING within {STARTUP_LIMIT:?}; \
                     its log:\n{}",
                    self.port,
                    fs::read_to_string(&log_path).unwrap_or_default()
                );
            }
            thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// A server that exited during startup, with its log.
struct Exited {
    log: String,
}

/// `/usr/bin/redis-server`, else the first `redis-server` on the PATH.
///
/// # Panics
///
/// If there is none, naming what installs it.
fn redis_server_bin() -> PathBuf {
    let debian = PathBuf::from(REDIS_SERVER_BIN);
    if debian.is_file() {
        return debian;
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join("redis-server"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "redis-server is not installed ({REDIS_SERVER_BIN}, nor on the PATH): \
                 run tests/interop/start-all.sh (it installs Debian's redis-server), \
                 or apt-get install redis-server"
            )
        })
}

/// A loopback port nothing listens on at this moment.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("cannot bind a loopback port: {e}"))
}
