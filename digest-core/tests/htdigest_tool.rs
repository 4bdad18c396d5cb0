//! The htdigest loader against files written by Apache's own `htdigest` tool (Debian
//! `apache2-utils`). The tool is required: without it this test fails, it never passes
//! silently. `.ci/run` installs it.
#![cfg(feature = "std")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

mod common;
use common::pair::Pair;

use httpdigest::Algorithm;
use httpdigest::client::{Client, ClientConfig, Credentials};
use httpdigest::server::{
    CredentialStore, Htdigest, MemoryNonceCounts, StoredSecret, Verifier, VerifierConfig,
};
use httpdigest::{OriginRef, Scheme};

const REALM: &str = "lab@example.org";
const USERS: [(&str, &str); 3] = [
    ("alice", "s3cret"),
    ("J\u{e4}s\u{f8}n Doe", "Secret, or not?"),
    ("bob", "p\u{e4}ss:word"),
];

/// Runs `htdigest [-c] file realm user`, typing the password twice on stdin.
fn htdigest(file: &Path, create: bool, user: &str, password: &str) {
    let mut cmd = Command::new("htdigest");
    if create {
        cmd.arg("-c");
    }
    let mut child = cmd
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

fn tool_file() -> (tempdir::Dir, std::path::PathBuf) {
    let dir = tempdir::Dir::new();
    let path = dir.0.join("users.htdigest");
    for (i, (user, password)) in USERS.iter().enumerate() {
        htdigest(&path, i == 0, user, password);
    }
    (dir, path)
}

/// A scratch directory removed on drop (no extra dependency for one test).
mod tempdir {
    pub(crate) struct Dir(pub(crate) std::path::PathBuf);
    impl Dir {
        pub(crate) fn new() -> Self {
            static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
            let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let path = std::env::temp_dir()
                .join(format!("httpdigest-htdigest-{}-{n}", std::process::id()));
            std::fs::create_dir_all(&path).unwrap();
            Self(path)
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

#[test]
fn files_written_by_apache_htdigest() {
    let (_dir, path) = tool_file();
    let file = Htdigest::load(&path, Algorithm::Md5).unwrap();
    assert_eq!(file.len(), USERS.len());

    // The tool's hashes are H(user:realm:password) with MD5, byte for byte ours.
    for (user, password) in USERS {
        let expected = httpdigest::digest::ha1(
            Algorithm::Md5,
            user.as_bytes(),
            REALM.as_bytes(),
            password.as_bytes(),
        );
        match file.lookup(user.as_bytes(), REALM) {
            Some(StoredSecret::Ha1 {
                algorithm: Algorithm::Md5,
                ha1,
            }) => {
                assert_eq!(ha1.as_str(), expected.as_str(), "{user}");
            }
            other => panic!("{user}: {other:?}"),
        }
    }
    assert!(file.lookup(b"alice", "other realm").is_none());
    assert!(file.lookup(b"nobody", REALM).is_none());

    // And a client authenticates against a verifier backed by the file, for MD5 and MD5-sess.
    for algorithm in [Algorithm::Md5, Algorithm::Md5Sess] {
        let verifier = Verifier::new(
            VerifierConfig::new(REALM).with_algorithms([algorithm]),
            b"htdigest test key",
        )
        .unwrap();
        let nobody = Client::new(Credentials::new("", ""), ClientConfig::default());
        let counts = MemoryNonceCounts::new(100, 300);
        let mut pair = Pair::new(nobody, verifier, file.clone(), counts);
        pair.origin = OriginRef {
            scheme: Scheme::Http,
            host: "127.0.0.1",
            port: 8080,
        };
        for (user, password) in USERS {
            pair.client = Client::new(Credentials::new(user, password), ClientConfig::default());
            let call = pair.get("/private?x=1");
            if let Some(f) = call.failure() {
                panic!("{user} {algorithm}: {f}");
            }
            assert_eq!(
                (call.status(), call.exchanges()),
                (200, 2),
                "{user} {algorithm}"
            );
        }
    }
}

#[test]
fn a_tool_file_with_a_line_broken_by_hand_names_the_line() {
    let (_dir, path) = tool_file();
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str("mallory:lab@example.org\n");
    std::fs::write(&path, text).unwrap();
    let err = Htdigest::load(&path, Algorithm::Md5).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("line {}: expected user:realm:hash", USERS.len() + 1)
    );
}
