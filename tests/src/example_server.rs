//! The example server (`adapter-hyper/examples/server.rs`) as a process, as the end-to-end
//! tests run it: [`cargo_run`] is the one build every test uses (with the `redis` feature,
//! so `--redis` works), and [`ExampleServer`] a running one, killed on drop.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// The lines a server printed on stderr, and a signal for each new one.
type Lines = Arc<(Mutex<Vec<String>>, Condvar)>;

/// The workspace root, where `cargo run` is started.
const REPO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

/// `cargo run` of the example server, up to (not including) the `--` before its options.
pub fn cargo_run() -> Command {
    cargo_run_example("server")
}

/// `cargo run` of the hyper adapter's example `name` (same features as [`cargo_run`], so
/// they share one build of the library), up to the `--` before its options.
pub fn cargo_run_example(name: &str) -> Command {
    let mut command = Command::new(env!("CARGO"));
    command.current_dir(REPO).args([
        "run",
        "-q",
        "-p",
        "httpdigest-hyper",
        "--features",
        "redis",
        "--example",
        name,
    ]);
    command
}

/// A running example server (`cargo run` replaces itself with the server, so the child is
/// the server); killed on drop. Its stderr is kept ([`stderr_lines`](Self::stderr_lines))
/// and printed with a prefix, its stdout after the first line printed too, so a failing
/// test shows what the server said.
pub struct ExampleServer {
    child: Child,
    address: String,
    stderr: Lines,
}

impl ExampleServer {
    /// The server with `--listen 127.0.0.1:0` and `args`.
    ///
    /// # Panics
    ///
    /// When it does not start (its first line is not `listening on …`).
    pub fn start(args: &[&str]) -> Self {
        Self::spawn(cargo_run(), "server", args)
    }

    /// As [`start`](Self::start), its output prefixed with `name`.
    ///
    /// # Panics
    ///
    /// When it does not start.
    pub fn start_named(name: &str, args: &[&str]) -> Self {
        Self::spawn(cargo_run(), name, args)
    }

    /// The server run by `command` (a [`cargo_run`], perhaps with more cargo options) with
    /// `--listen 127.0.0.1:0` and `args`, its output prefixed with `name`.
    ///
    /// # Panics
    ///
    /// When it does not start.
    pub fn spawn(mut command: Command, name: &str, args: &[&str]) -> Self {
        let child = command
            .args(["--", "--listen", "127.0.0.1:0"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cannot run cargo for the example server");
        // The guard exists before anything can fail, so the process is always killed.
        let mut server = Self {
            child,
            address: String::new(),
            stderr: Lines::default(),
        };
        let stderr = BufReader::new(server.child.stderr.take().expect("piped stderr"));
        let (lines, prefix) = (Arc::clone(&server.stderr), format!("{name} stderr: "));
        thread::spawn(move || {
            for line in stderr.lines() {
                let Ok(line) = line else { break };
                eprintln!("{prefix}{line}");
                let (all, signal) = &*lines;
                if let Ok(mut all) = all.lock() {
                    all.push(line);
                }
                signal.notify_all();
            }
        });
        let mut stdout = BufReader::new(server.child.stdout.take().expect("piped stdout"));
        let mut line = String::new();
        let _ = stdout.read_line(&mut line);
        let Some(url) = line.trim().strip_prefix("listening on ") else {
            panic!("the example server did not start ({args:?}): first line {line:?}");
        };
        server.address = url
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        // The rest of stdout is printed, so the server never blocks on a full pipe.
        let prefix = format!("{name} stdout: ");
        thread::spawn(move || {
            for line in stdout.lines() {
                let Ok(line) = line else { break };
                eprintln!("{prefix}{line}");
            }
        });
        server
    }

    /// `127.0.0.1:port`.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// `http://127.0.0.1:port{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// Waits until a line on stderr contains `needle`; false if none did within `limit`.
    pub fn wait_for_stderr(&self, needle: &str, limit: Duration) -> bool {
        let (lines, signal) = &*self.stderr;
        let deadline = Instant::now() + limit;
        let Ok(mut all) = lines.lock() else {
            return false;
        };
        loop {
            if all.iter().any(|l| l.contains(needle)) {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            all = match signal.wait_timeout(all, left) {
                Ok((all, _)) => all,
                Err(_) => return false,
            };
        }
    }

    /// What the server printed on stderr so far.
    pub fn stderr_lines(&self) -> Vec<String> {
        self.stderr.0.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Still running (it has not exited).
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for ExampleServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
