//! The example server (`adapter-hyper/examples/server.rs`) as a process, as the end-to-end
//! tests run it: [`cargo_run`] is the one build every test uses (with the `redis` feature,
//! so `--redis` works), and [`ExampleServer`] a running one, killed on drop.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::thread;

/// The workspace root, where `cargo run` is started.
const REPO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

/// `cargo run` of the example server, up to (not including) the `--` before its options.
pub fn cargo_run() -> Command {
    let mut command = Command::new(env!("CARGO"));
    command.current_dir(REPO).args([
        "run",
        "-q",
        "-p",
        "httpdigest-hyper",
        "--features",
        "redis",
        "--example",
        "server",
    ]);
    command
}

/// A running example server (`cargo run` replaces itself with the server, so the child is
/// the server); killed on drop. Its stdout after the first line and its stderr are printed
/// with a prefix, so a failing test shows what the server said.
pub struct ExampleServer {
    child: Child,
    address: String,
}

impl ExampleServer {
    /// The server with `--listen 127.0.0.1:0` and `args`.
    ///
    /// # Panics
    ///
    /// When it does not start (its first line is not `listening on …`).
    pub fn start(args: &[&str]) -> Self {
        Self::start_named("server", args)
    }

    /// As [`start`](Self::start), its output prefixed with `name`.
    ///
    /// # Panics
    ///
    /// When it does not start.
    pub fn start_named(name: &str, args: &[&str]) -> Self {
        let child = cargo_run()
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
        };
        let mut stdout = BufReader::new(server.child.stdout.take().expect("piped stdout"));
        let stderr = BufReader::new(server.child.stderr.take().expect("piped stderr"));
        let mut line = String::new();
        let _ = stdout.read_line(&mut line);
        let Some(url) = line.trim().strip_prefix("listening on ") else {
            panic!("the example server did not start ({args:?}): first line {line:?}");
        };
        server.address = url
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        for (reader, stream) in [
            (Box::new(stdout) as Box<dyn BufRead + Send>, "stdout"),
            (Box::new(stderr), "stderr"),
        ] {
            let prefix = format!("{name} {stream}: ");
            thread::spawn(move || {
                for line in reader.lines() {
                    let Ok(line) = line else { break };
                    eprintln!("{prefix}{line}");
                }
            });
        }
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
}

impl Drop for ExampleServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
