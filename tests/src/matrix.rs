//! The adapter × location matrix: each lab test records the result of its cell in a file,
//! and `interop-report` prints the table of every cell at the end of a run, marking the
//! cells that did not run.
//!
//! Records go to `target/interop-matrix/` in the workspace (`HTTPDIGEST_MATRIX_DIR`
//! overrides it), one line per cell: `adapter TAB row TAB ok|FAIL TAB text`. A later record
//! of the same cell replaces an earlier one; `.ci/run` empties the folder before the tests.

use std::fs::{self, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::drive::Adapter;

/// The cross-origin scenarios, as rows of the table (`e2e/cross_origin.rs`).
pub const CROSS_ORIGIN: [&str; 4] = [
    "cross-origin: redirect 127.0.0.1 -> localhost",
    "cross-origin: domain= names the other origin",
    "cross-origin: same port, host localhost",
    "cross-origin: redirect back into scope",
];

/// Where the records go.
pub fn dir() -> PathBuf {
    match std::env::var_os("HTTPDIGEST_MATRIX_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => {
            let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
            manifest
                .parent()
                .unwrap_or(manifest)
                .join("target/interop-matrix")
        }
    }
}

/// One cell's result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// The column.
    pub adapter: Adapter,
    /// The row's id.
    pub row: String,
    /// Whether the cell got what it expects.
    pub ok: bool,
    /// What happened, briefly (`200 2+1`, `rejected 2`, ...).
    pub text: String,
}

/// Appends `record` (one `write` of one line: records from parallel tests do not mix).
pub fn record(record: &Record) {
    let dir = dir();
    fs::create_dir_all(&dir).unwrap();
    let line = format!(
        "{}\t{}\t{}\t{}\n",
        record.adapter.name(),
        record.row.replace(['\t', '\n'], " "),
        if record.ok { "ok" } else { "FAIL" },
        record.text.replace(['\t', '\n'], " ")
    );
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("cells.tsv"))
        .unwrap();
    file.write_all(line.as_bytes()).unwrap();
}

/// Every record written so far (the last one of each cell wins when the table is built).
pub fn read() -> Vec<Record> {
    let Ok(text) = fs::read_to_string(dir().join("cells.tsv")) else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|line| {
            let mut fields = line.splitn(4, '\t');
            let adapter = Adapter::from_name(fields.next()?)?;
            let row = fields.next()?.to_owned();
            let ok = fields.next()? == "ok";
            let text = fields.next().unwrap_or_default().to_owned();
            Some(Record {
                adapter,
                row,
                ok,
                text,
            })
        })
        .collect()
}

/// The table: `rows` in order (each a section title and its row ids), one column per
/// adapter. Returns the text and the number of cells that failed or are missing.
pub fn table(sections: &[(String, Vec<String>)], records: &[Record]) -> (String, usize) {
    let cell = |adapter: Adapter, row: &str| {
        records
            .iter()
            .rev()
            .find(|r| r.adapter == adapter && r.row == row)
    };
    let width = sections
        .iter()
        .flat_map(|(_, rows)| rows.iter().map(|r| r.chars().count()))
        .max()
        .unwrap_or(0)
        .max(8)
        + 2;
    let column = 26;
    let mut out = String::new();
    let mut bad = 0;
    let mut cells = 0;
    let header: String = Adapter::ALL
        .iter()
        .map(|a| format!("{:<column$}", a.name()))
        .collect();
    for (title, rows) in sections {
        out.push_str(&format!("\n{title}\n{:<width$}{}\n", "", header.trim_end()));
        for row in rows {
            let mut line = pad(row, width);
            for adapter in Adapter::ALL {
                cells += 1;
                let text = match cell(adapter, row) {
                    Some(r) if r.ok => r.text.clone(),
                    Some(r) => {
                        bad += 1;
                        format!("FAIL {}", r.text)
                    }
                    None => {
                        bad += 1;
                        "MISSING (did not run)".to_owned()
                    }
                };
                line.push_str(&pad(&text, column));
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
    }
    out.push_str(&format!(
        "\n{cells} cells: {} as expected, {bad} failed or missing\n",
        cells - bad
    ));
    (out, bad)
}

/// `text` padded with spaces to `width` characters (not bytes), at least one space after.
fn pad(text: &str, width: usize) -> String {
    let count = text.chars().count();
    let mut out = text.to_owned();
    out.push_str(&" ".repeat(width.saturating_sub(count).max(1)));
    out
}
