//! The `get` example against servers that misbehave, as a process: one that never answers,
//! a body that stops, a body without end. `--max-time` ends each with curl's exit status 28,
//! and the body is written as it arrives (what came before the stop is on stdout), never held
//! whole in memory.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread;

use support::get_example;

mod support;

/// How the hostile server behaves once it has read a request head.
#[derive(Clone, Copy)]
enum Hostile {
    /// Never answers.
    Silent,
    /// Sends a head for a million bytes, then 3 of them, then nothing.
    Stalled,
    /// Sends chunks for ever (until the client goes).
    Endless,
}

/// A server on 127.0.0.1 that misbehaves so on every connection.
fn hostile(how: Hostile) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            thread::spawn(move || serve(stream, how));
        }
    });
    addr
}

fn serve(mut stream: TcpStream, how: Hostile) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).unwrap_or(0) == 0 {
            return;
        }
        head.push(byte[0]);
    }
    match how {
        // Hold the connection open until the client closes it.
        Hostile::Silent => {
            let _ = stream.read(&mut byte);
        }
        Hostile::Stalled => {
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\nabc");
            let _ = stream.read(&mut byte);
        }
        Hostile::Endless => {
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
            let chunk = [b"10000\r\n".as_slice(), &[b'x'; 0x10000], b"\r\n"].concat();
            while stream.write_all(&chunk).is_ok() {}
        }
    }
}

/// `get -m 1 http://addr/`: its exit status and stdout.
fn get_within_a_second(addr: SocketAddr) -> (Option<i32>, Vec<u8>, String) {
    let url = format!("http://{addr}/");
    let output = get_example(&["-m", "1", &url], &[]);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output.status.code(), output.stdout, stderr)
}

#[test]
fn a_server_that_never_answers_is_a_timeout() {
    let (code, stdout, stderr) = get_within_a_second(hostile(Hostile::Silent));
    assert_eq!(code, Some(28), "{stderr}");
    assert!(stdout.is_empty());
    assert!(stderr.contains("timed out"), "{stderr}");
}

#[test]
fn a_body_that_stops_is_a_timeout_after_what_came() {
    let (code, stdout, stderr) = get_within_a_second(hostile(Hostile::Stalled));
    assert_eq!(code, Some(28), "{stderr}");
    let stdout = String::from_utf8_lossy(&stdout);
    assert!(stdout.ends_with("200 OK\nabc"), "{stdout}");
}

#[test]
fn a_body_without_end_is_streamed_until_the_timeout() {
    let (code, stdout, stderr) = get_within_a_second(hostile(Hostile::Endless));
    assert_eq!(code, Some(28), "{stderr}");
    // Written as it came: a client that held the body until its end would have written
    // nothing of it.
    assert!(stdout.len() > 1 << 16, "{} bytes", stdout.len());
}
