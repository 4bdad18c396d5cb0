//! The core's module layout, read from its sources: no two modules import each other (no
//! circle of any length), and the server imports nothing of the client. Both would make the
//! code harder to read one floor at a time: what a module uses must be readable without
//! what uses it.
//!
//! A module's imports are the paths it names: `use` declarations (with their brace groups)
//! and paths written inline (`crate::a::b(..)`), starting at `crate`, `super`, `self` or at
//! one of the module's own child modules. Each path leads to the longest module it names.
//! Comments and the `#[cfg(test)] mod tests` at the end of a file are not read.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

type ModPath = Vec<String>;

struct Module {
    file: String,
    /// The code, without comments or the trailing test module.
    code: String,
    children: BTreeSet<String>,
}

fn read_modules() -> BTreeMap<ModPath, Module> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = BTreeMap::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = path.strip_prefix(&src).unwrap();
            let mut segments: ModPath = rel
                .iter()
                .map(|s| s.to_string_lossy().trim_end_matches(".rs").to_owned())
                .collect();
            if matches!(segments.last().map(String::as_str), Some("mod" | "lib")) {
                segments.pop();
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let code = strip(&text);
            let children = child_modules(&code);
            out.insert(
                segments,
                Module {
                    file: rel.display().to_string(),
                    code,
                    children,
                },
            );
        }
    }
    out
}

/// The code without line comments and without the test module that ends a file.
fn strip(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests {") {
        Some(at) => &text[..at],
        None => text,
    };
    text.lines()
        .map(|line| {
            let trimmed = line.trim_start();
            if trimmed.starts_with("//") {
                return "";
            }
            // A comment after code; `://` (a URL in a string) is not one.
            let mut cut = line.len();
            let bytes = line.as_bytes();
            for i in 0..bytes.len().saturating_sub(1) {
                if bytes[i] == b'/' && bytes[i + 1] == b'/' && (i == 0 || bytes[i - 1] != b':') {
                    cut = i;
                    break;
                }
            }
            &line[..cut]
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// `mod x;` declarations (any visibility, any attributes).
fn child_modules(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in code.lines() {
        let line = line.trim();
        let rest = line
            .strip_prefix("pub(crate) mod ")
            .or_else(|| line.strip_prefix("pub mod "))
            .or_else(|| line.strip_prefix("mod "));
        if let Some(name) = rest.and_then(|r| r.strip_suffix(';')) {
            out.insert(name.trim().to_owned());
        }
    }
    out
}

/// Expands one `use` tree (`a::{b, c::{d, e as f}}`) into its paths.
fn expand(tree: &str) -> Vec<Vec<String>> {
    let tree: String = tree.chars().filter(|c| !c.is_whitespace()).collect();
    let mut out = Vec::new();
    expand_into(&tree, &mut Vec::new(), &mut out);
    out
}

fn expand_into(tree: &str, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    if let Some(open) = tree.find('{') {
        let head = tree[..open].trim_end_matches("::");
        let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
        let pushed: Vec<String> = head
            .split("::")
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        let n = pushed.len();
        prefix.extend(pushed);
        let mut depth = 0;
        let mut start = 0;
        for (i, c) in inner.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    expand_into(&inner[start..i], prefix, out);
                    start = i + 1;
                }
                _ => {}
            }
        }
        expand_into(&inner[start..], prefix, out);
        prefix.truncate(prefix.len() - n);
    } else if !tree.is_empty() {
        let path = tree.split("as").next().unwrap_or(tree);
        let mut full = prefix.clone();
        full.extend(
            path.split("::")
                .filter(|s| !s.is_empty() && *s != "*")
                .map(str::to_owned),
        );
        out.push(full);
    }
}

/// The byte ranges of inline modules (`mod memory { .. }`): a `super` inside one names the
/// file's own module.
fn inline_modules(code: &str) -> Vec<(usize, usize)> {
    let bytes = code.as_bytes();
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(found) = code[at..].find("mod ") {
        let start = at + found;
        at = start + 4;
        if start > 0 && is_ident(bytes[start - 1]) {
            continue;
        }
        let name_end = code[at..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .map_or(code.len(), |e| at + e);
        if !code[name_end..].trim_start().starts_with('{') {
            continue;
        }
        let open = name_end + code[name_end..].find('{').unwrap_or(0);
        let mut depth = 0usize;
        for (i, b) in bytes.iter().enumerate().skip(open) {
            match b {
                b'{' => depth += 1,
                b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        out.push((open, i));
                        break;
                    }
                }
                _ => {}
            }
        }
    }
    out
}

/// Every path the code names that may lead into the crate, each with the number of inline
/// modules it sits in.
fn paths(code: &str, children: &BTreeSet<String>) -> Vec<(Vec<String>, usize)> {
    let inline = inline_modules(code);
    let depth = |at: usize| inline.iter().filter(|(s, e)| *s <= at && at <= *e).count();
    let mut out = Vec::new();
    let bytes = code.as_bytes();
    // `use` declarations.
    let mut at = 0;
    while let Some(found) = code[at..].find("use ") {
        let start = at + found;
        at = start + 4;
        if start > 0 && is_ident(bytes[start - 1]) {
            continue;
        }
        let Some(end) = code[at..].find(';') else {
            break;
        };
        let d = depth(start);
        out.extend(expand(&code[at..at + end]).into_iter().map(|p| (p, d)));
        at += end;
    }
    // Paths inline: `crate::`, `super::`, `self::`, `child::`.
    let roots = ["crate", "super", "self"]
        .into_iter()
        .map(str::to_owned)
        .chain(children.iter().cloned())
        .map(|r| r + "::");
    for root in roots {
        let root = root.as_str();
        let mut at = 0;
        while let Some(found) = code[at..].find(root) {
            let start = at + found;
            at = start + root.len();
            if start > 0 && (is_ident(bytes[start - 1]) || bytes[start - 1] == b':') {
                continue;
            }
            let end = code[start..]
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
                .map_or(code.len(), |e| start + e);
            out.push((
                code[start..end]
                    .split("::")
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect(),
                depth(start),
            ));
        }
    }
    out
}

/// The module a path from `from` leads to, if it leads into the crate.
fn resolve(
    from: &ModPath,
    path: &[String],
    inline_depth: usize,
    modules: &BTreeMap<ModPath, Module>,
) -> Option<ModPath> {
    // A `super` inside an inline module leads back to the file's own module first.
    let mut path = path;
    let mut inline_depth = inline_depth;
    while inline_depth > 0 && path.first().map(String::as_str) == Some("super") {
        path = &path[1..];
        inline_depth -= 1;
    }
    let (mut base, rest) = match path.first().map(String::as_str) {
        Some("crate") => (Vec::new(), &path[1..]),
        Some("self") => (from.clone(), &path[1..]),
        Some("super") => {
            let mut base = from.clone();
            let mut rest = path;
            while rest.first().map(String::as_str) == Some("super") {
                base.pop()?;
                rest = &rest[1..];
            }
            (base, rest)
        }
        Some(first) if modules[from].children.contains(first) => (from.clone(), path),
        _ => return None,
    };
    let mut best = base.clone();
    for segment in rest {
        base.push(segment.clone());
        if modules.contains_key(&base) {
            best = base.clone();
        } else {
            break;
        }
    }
    Some(best)
}

/// Module -> the modules it imports, each with one path that shows it.
fn graph(modules: &BTreeMap<ModPath, Module>) -> BTreeMap<ModPath, BTreeMap<ModPath, String>> {
    let mut edges: BTreeMap<ModPath, BTreeMap<ModPath, String>> = BTreeMap::new();
    for (from, module) in modules {
        let entry = edges.entry(from.clone()).or_default();
        for (path, inline_depth) in paths(&module.code, &module.children) {
            if let Some(to) = resolve(from, &path, inline_depth, modules)
                && &to != from
            {
                entry.entry(to).or_insert_with(|| path.join("::"));
            }
        }
    }
    edges
}

fn name(m: &ModPath) -> String {
    if m.is_empty() {
        "crate".to_owned()
    } else {
        m.join("::")
    }
}

#[test]
fn no_module_imports_a_module_that_imports_it() {
    let modules = read_modules();
    let edges = graph(&modules);
    // The crate root only declares and re-exports: it is the facade, not a floor. A module
    // that names a root re-export (`crate::Algorithm`) is told to name the module instead.
    let mut through_root = Vec::new();
    for (from, to) in &edges {
        if let Some(path) = to.get(&Vec::new())
            && !from.is_empty()
        {
            through_root.push(format!(
                "{} ({}) names `{path}`",
                name(from),
                modules[from].file
            ));
        }
    }
    assert!(
        through_root.is_empty(),
        "name the module that defines an item, not the root's re-export:\n{}",
        through_root.join("\n")
    );

    // A circle: a module that reaches itself through the imports of others.
    let mut circles = Vec::new();
    for start in edges.keys().filter(|m| !m.is_empty()) {
        // Depth-first, remembering the way, over modules other than the root.
        let mut stack = vec![(start.clone(), vec![start.clone()])];
        let mut seen = BTreeSet::new();
        while let Some((at, way)) = stack.pop() {
            for next in edges[&at].keys().filter(|m| !m.is_empty()) {
                if next == start {
                    let mut shown: Vec<String> = way
                        .windows(2)
                        .map(|w| {
                            format!(
                                "{} -> {} (`{}`)",
                                name(&w[0]),
                                name(&w[1]),
                                edges[&w[0]][&w[1]]
                            )
                        })
                        .collect();
                    shown.push(format!(
                        "{} -> {} (`{}`)",
                        name(&at),
                        name(start),
                        edges[&at][start]
                    ));
                    circles.push(shown.join(", "));
                } else if seen.insert(next.clone()) {
                    let mut way = way.clone();
                    way.push(next.clone());
                    stack.push((next.clone(), way));
                }
            }
        }
    }
    circles.sort();
    circles.dedup();
    assert!(
        circles.is_empty(),
        "modules that import each other:\n{}",
        circles.join("\n")
    );
}

#[test]
fn the_server_imports_nothing_of_the_client() {
    let modules = read_modules();
    let edges = graph(&modules);
    let client = vec!["client".to_owned()];
    let server = vec!["server".to_owned()];
    let found: Vec<String> = edges
        .iter()
        .filter(|(from, _)| from.starts_with(&server))
        .flat_map(|(from, to)| {
            let file = &modules[from].file;
            to.iter()
                .filter(|(to, _)| to.starts_with(&client))
                .map(move |(_, path)| format!("{file} names `{path}`"))
        })
        .collect();
    assert!(
        found.is_empty(),
        "the server reaches into the client:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_reader_sees_imports() {
    // The reader itself, on a known shape: a brace group, `super`, a child module, a path
    // inline, a comment.
    let code = strip(
        "mod child;\nuse crate::{a::B, c::{d::E, F as G}};\nuse super::x::Y; // crate::zz\nfn f() { crate::h::i(); child::k(); }\n",
    );
    let found: Vec<_> = paths(&code, &child_modules(&code))
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    let want = [
        "crate::a::B",
        "crate::c::d::E",
        "crate::c::F",
        "super::x::Y",
        "crate::h::i",
        "child::k",
    ];
    for w in want {
        assert!(
            found.iter().any(|p| p.join("::") == w),
            "{w} not found in {found:?}"
        );
    }
    assert!(!found.iter().any(|p| p.join("::").contains("zz")));
}
