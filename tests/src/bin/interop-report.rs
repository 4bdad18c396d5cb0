//! Prints the adapter × location table of the last test run: every row of the lab matrix,
//! the concurrency run and the cross-origin scenarios, one column per adapter, from the
//! records the tests wrote (see `httpdigest_tests::matrix`). Exits with status 1 if a cell
//! failed or did not run.
//!
//! `cargo run -p httpdigest-tests --bin interop-report` (after the README's test command).
#![allow(clippy::print_stdout)]

use httpdigest_tests::lab::{self, CONCURRENCY_ROW, Server};
use httpdigest_tests::matrix;

fn main() {
    let rows = lab::rows();
    let mut sections: Vec<(String, Vec<String>)> = Server::ALL
        .iter()
        .map(|server| {
            let ids = rows
                .iter()
                .filter(|r| r.server == *server)
                .map(lab::Row::id)
                .collect();
            (format!("-- {}", server.name()), ids)
        })
        .collect();
    sections.push((
        "-- concurrency (strict nonce counts)".to_owned(),
        vec![CONCURRENCY_ROW.to_owned()],
    ));
    sections.push((
        "-- origins (the project's servers)".to_owned(),
        matrix::CROSS_ORIGIN
            .iter()
            .map(|s| (*s).to_owned())
            .collect(),
    ));
    let (table, bad) = matrix::table(&sections, &matrix::read());
    println!(
        "=== interop matrix: adapter x location (records in {})",
        matrix::dir().display()
    );
    println!(
        "200 2+1 = 200 after a challenge (2 exchanges), then 200 at once (1); 3+1 = the \
         non-ASCII name accepted in its second form; 2+2 = every request challenged (the \
         nonce lives in a cookie of the 401); 3+1 behind a proxy = 407, 401, 200; stale 2 = \
         past the nonce lifetime, stale=true then 200; rejected N = CredentialsRejected after \
         N exchanges (3: a non-ASCII name refused in two forms); 400 2 (server) = the \
         server's final 400 to the one form the adapter can send; not sendable = ureq \
         refuses a non-ASCII Authorization"
    );
    print!("{table}");
    if bad > 0 {
        std::process::exit(1);
    }
}
