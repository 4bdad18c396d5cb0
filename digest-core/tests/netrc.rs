//! The `.netrc` parser: the grammar curl and Python's `netrc` read, errors with their lines,
//! bounds, and that passwords stay out of `Debug`.
#![cfg(feature = "std")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use httpdigest::client::netrc::{MAX_LEN, Netrc, NetrcError, NetrcErrorKind};
use proptest::prelude::*;

fn err(text: &str) -> NetrcError {
    Netrc::parse(text).expect_err("should not parse")
}

/// (login, password, account) of the entry `find` returns for `host`.
fn creds(netrc: &Netrc, host: &str) -> (Option<String>, Option<String>, Option<String>) {
    let e = netrc.find(host).expect("an entry");
    (
        e.login().map(String::from),
        e.password().map(String::from),
        e.account().map(String::from),
    )
}

fn some(s: &str) -> Option<String> {
    Some(s.to_owned())
}

#[test]
fn typical_multi_machine_file() {
    let netrc = Netrc::parse(
        "machine api.example.org\n\
         \tlogin alice\n\
         \tpassword s3cret\n\
         \n\
         machine ftp.example.org\n\
         \tlogin bob\n\
         \tpassword hunter2\n\
         \taccount acct-7\n\
         \n\
         machine nologin.example.org password only\n",
    )
    .unwrap();
    assert_eq!(netrc.entries().len(), 3);
    assert_eq!(
        creds(&netrc, "api.example.org"),
        (some("alice"), some("s3cret"), None)
    );
    assert_eq!(
        creds(&netrc, "ftp.example.org"),
        (some("bob"), some("hunter2"), some("acct-7"))
    );
    assert_eq!(
        creds(&netrc, "nologin.example.org"),
        (None, some("only"), None)
    );
    assert!(netrc.find("other.example.org").is_none());
    assert_eq!(
        netrc
            .entries()
            .iter()
            .map(|e| e.machine().unwrap())
            .collect::<Vec<_>>(),
        ["api.example.org", "ftp.example.org", "nologin.example.org"]
    );
}

#[test]
fn one_line_form_and_crlf() {
    let netrc = Netrc::parse("machine a login b password c").unwrap();
    assert_eq!(creds(&netrc, "a"), (some("b"), some("c"), None));
    let netrc = Netrc::parse("machine a\r\n  login b\r\n  password c\r\n").unwrap();
    assert_eq!(creds(&netrc, "a"), (some("b"), some("c"), None));
    let netrc = Netrc::parse("machine a login b password c machine d login e password f").unwrap();
    assert_eq!(creds(&netrc, "d"), (some("e"), some("f"), None));
}

#[test]
fn empty_and_comment_only_files() {
    assert!(Netrc::parse("").unwrap().entries().is_empty());
    assert!(Netrc::parse(" \n\t\r\n").unwrap().entries().is_empty());
    assert!(Netrc::parse("# nothing\n#").unwrap().entries().is_empty());
    assert!(Netrc::parse("").unwrap().find("a").is_none());
}

#[test]
fn default_entry_is_the_fallback() {
    let netrc = Netrc::parse(
        "machine a login la password pa\n\
         default login anonymous password guest\n\
         machine b login lb password pb\n",
    )
    .unwrap();
    assert_eq!(creds(&netrc, "a"), (some("la"), some("pa"), None));
    // Entries after `default` are still found before falling back to it.
    assert_eq!(creds(&netrc, "b"), (some("lb"), some("pb"), None));
    assert_eq!(creds(&netrc, "c"), (some("anonymous"), some("guest"), None));
    let default = netrc.find("c").unwrap();
    assert!(default.is_default());
    assert_eq!(default.machine(), None);
    // The first default wins.
    let netrc = Netrc::parse("default login x default login y").unwrap();
    assert_eq!(netrc.find("z").unwrap().login(), Some("x"));
}

#[test]
fn host_and_keywords_ignore_ascii_case() {
    let netrc = Netrc::parse("MACHINE Example.ORG Login alice PASSWORD pw").unwrap();
    assert_eq!(
        creds(&netrc, "example.org"),
        (some("alice"), some("pw"), None)
    );
    assert_eq!(
        creds(&netrc, "EXAMPLE.org"),
        (some("alice"), some("pw"), None)
    );
    // Values keep their case.
    assert_eq!(netrc.entries()[0].machine(), Some("Example.ORG"));
    // Python's `user` alias for `login`.
    let netrc = Netrc::parse("machine a user bob password pw").unwrap();
    assert_eq!(creds(&netrc, "a"), (some("bob"), some("pw"), None));
}

#[test]
fn first_duplicate_machine_wins() {
    let netrc = Netrc::parse(
        "machine a login first password one\n\
         machine A login second password two\n",
    )
    .unwrap();
    assert_eq!(creds(&netrc, "a"), (some("first"), some("one"), None));
    assert_eq!(netrc.entries().len(), 2);
    // Within an entry the last of a field wins.
    let netrc = Netrc::parse("machine a login x login y password p").unwrap();
    assert_eq!(netrc.find("a").unwrap().login(), Some("y"));
}

#[test]
fn quoted_values() {
    let netrc = Netrc::parse(
        r#"machine "a host" login "J. Doe" password "pa ss\"wo\\rd\n\r\t\x" account """#,
    )
    .unwrap();
    assert_eq!(
        creds(&netrc, "a host"),
        (some("J. Doe"), some("pa ss\"wo\\rd\n\r\tx"), some(""))
    );
    // A quoted `#` is a value, a bare backslash outside quotes is literal, and a quote
    // inside an unquoted token is literal.
    let netrc = Netrc::parse(r##"machine a login "#x" password C:\pw"q"##).unwrap();
    assert_eq!(creds(&netrc, "a"), (some("#x"), some(r#"C:\pw"q"#), None));
    // Non-ASCII values, quoted or not.
    let netrc = Netrc::parse("machine a login Jäsøn password \"ü ß\"").unwrap();
    assert_eq!(creds(&netrc, "a"), (some("Jäsøn"), some("ü ß"), None));
    // The value ends at the closing quote.
    let netrc = Netrc::parse(r#"machine a password "x"login y"#).unwrap();
    assert_eq!(creds(&netrc, "a"), (some("y"), some("x"), None));
}

#[test]
fn comments() {
    let netrc = Netrc::parse(
        "# leading comment machine nope login nope\n\
         machine a # trailing comment password nope\n\
         \x20 #indented comment\n\
         login b #\n\
         password #notacomment\n\
         #machine c login c password c\n",
    )
    .unwrap();
    assert_eq!(netrc.entries().len(), 1);
    assert_eq!(creds(&netrc, "a"), (some("b"), some("#notacomment"), None));
    assert!(netrc.find("c").is_none());
    assert!(netrc.find("nope").is_none());
}

#[test]
fn macdef_bodies_are_skipped() {
    let netrc = Netrc::parse(
        "machine a login la password pa\n\
         macdef init\n\
         cd /pub\n\
         machine evil login evil password evil\n\
         \x20 \n\
         binary\n\
         \n\
         machine b login lb password pb\n\
         macdef empty\n\
         \n\
         default login d\n\
         macdef last\n\
         machine also-skipped\n",
    )
    .unwrap();
    assert_eq!(creds(&netrc, "a"), (some("la"), some("pa"), None));
    assert_eq!(creds(&netrc, "b"), (some("lb"), some("pb"), None));
    assert_eq!(netrc.find("evil").unwrap().login(), Some("d"));
    assert_eq!(netrc.find("also-skipped").unwrap().login(), Some("d"));
    assert_eq!(netrc.entries().len(), 3);
    // A CRLF empty line ends a body too; the rest of the macdef line is ignored.
    let netrc = Netrc::parse("macdef m ignored words\r\nls\r\n\r\nmachine a login b").unwrap();
    assert_eq!(netrc.find("a").unwrap().login(), Some("b"));
    // A macdef ends the entry: `login` after the body has no entry.
    let e = err("machine a\nmacdef m\nls\n\nlogin b\n");
    assert_eq!(e.line(), Some(5));
    assert!(matches!(
        e.kind(),
        NetrcErrorKind::MisplacedKeyword { keyword: "login" }
    ));
}

#[test]
fn errors_name_their_line() {
    type Case = (&'static str, usize, fn(&NetrcErrorKind) -> bool);
    let cases: &[Case] = &[
        ("machine a\n\n  machine", 3, |k| {
            matches!(k, NetrcErrorKind::MissingValue { keyword: "machine" })
        }),
        ("machine a login b\npassword\n\n", 2, |k| {
            matches!(
                k,
                NetrcErrorKind::MissingValue {
                    keyword: "password"
                }
            )
        }),
        ("default\nACCOUNT", 2, |k| {
            matches!(k, NetrcErrorKind::MissingValue { keyword: "account" })
        }),
        ("default\nuser   \n", 2, |k| {
            matches!(k, NetrcErrorKind::MissingValue { keyword: "login" })
        }),
        ("# c\nmacdef", 2, |k| {
            matches!(k, NetrcErrorKind::MissingValue { keyword: "macdef" })
        }),
        ("\n\nlogin b password c", 3, |k| {
            matches!(k, NetrcErrorKind::MisplacedKeyword { keyword: "login" })
        }),
        ("password c", 1, |k| {
            matches!(
                k,
                NetrcErrorKind::MisplacedKeyword {
                    keyword: "password"
                }
            )
        }),
        ("# x\naccount c", 2, |k| {
            matches!(k, NetrcErrorKind::MisplacedKeyword { keyword: "account" })
        }),
        ("machine a\nlogin b\n  password my secret\n", 3, |k| {
            matches!(k, NetrcErrorKind::UnexpectedToken { column: 15 })
        }),
        ("garbage", 1, |k| {
            matches!(k, NetrcErrorKind::UnexpectedToken { column: 1 })
        }),
        ("machine \"ä\" ü", 1, |k| {
            matches!(k, NetrcErrorKind::UnexpectedToken { column: 13 })
        }),
        ("machine a\n\"#quoted\"", 2, |k| {
            matches!(k, NetrcErrorKind::UnexpectedToken { column: 1 })
        }),
        ("machine a\nlogin \"b\npassword c\"\n", 2, |k| {
            matches!(k, NetrcErrorKind::UnterminatedQuote)
        }),
        ("machine a\n\n\nlogin b password \"c", 4, |k| {
            matches!(k, NetrcErrorKind::UnterminatedQuote)
        }),
        ("machine a password \"c\\", 1, |k| {
            matches!(k, NetrcErrorKind::UnterminatedQuote)
        }),
        ("machine a password \"c\\\nd\"", 1, |k| {
            matches!(k, NetrcErrorKind::UnterminatedQuote)
        }),
    ];
    for (text, line, is_kind) in cases {
        let e = err(text);
        assert_eq!(e.line(), Some(*line), "{text:?}: {e}");
        assert!(is_kind(e.kind()), "{text:?}: {e:?}");
        assert!(e.to_string().starts_with(&format!("line {line}: ")), "{e}");
    }
}

#[test]
fn error_messages_do_not_quote_the_file() {
    let e = err("machine a login b password my topsecret\n");
    let shown = format!("{e} {e:?}");
    assert!(!shown.contains("topsecret"), "{shown}");
    assert_eq!(
        e.to_string(),
        "line 1: column 31: expected machine, default, login, password, account or macdef \
         (the word found is not shown: it may be part of a password)"
    );
    assert_eq!(
        err("login x").to_string(),
        "line 1: `login` before any `machine` or `default`"
    );
    assert_eq!(err("machine").to_string(), "line 1: `machine` has no value");
    assert_eq!(
        err("machine \"a").to_string(),
        "line 1: unterminated quoted value"
    );
}

#[test]
fn oversize_input_is_refused() {
    let big = format!("machine a login b password c\n{}", " ".repeat(MAX_LEN));
    let e = err(&big);
    assert_eq!(e.line(), None);
    assert!(matches!(
        e.kind(),
        NetrcErrorKind::TooLarge { limit } if *limit == MAX_LEN
    ));
    assert_eq!(e.to_string(), "the file is larger than 1048576 bytes");
    // Exactly the limit is fine.
    let fits = format!("machine a{}", " ".repeat(MAX_LEN - 9));
    assert_eq!(fits.len(), MAX_LEN);
    assert!(Netrc::parse(&fits).unwrap().find("a").is_some());
}

/// A file in the temp directory, removed on drop.
struct TempFile(std::path::PathBuf);

impl TempFile {
    fn new(name: &str, contents: &[u8]) -> Self {
        let path = std::env::temp_dir().join(format!(
            "httpdigest-netrc-test-{}-{name}",
            std::process::id()
        ));
        std::fs::write(&path, contents).unwrap();
        Self(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn load_from_a_file() {
    let file = TempFile::new(
        "ok",
        b"machine example.org\n  login alice\n  password \"s3 cret\"\n",
    );
    let netrc = Netrc::load(&file.0).unwrap();
    assert_eq!(
        creds(&netrc, "example.org"),
        (some("alice"), some("s3 cret"), None)
    );

    let bad = TempFile::new("bad", b"machine a\n\nlogin b\nlogin\n");
    let e = Netrc::load(&bad.0).unwrap_err();
    assert_eq!(e.line(), Some(4));
    assert!(matches!(
        e.kind(),
        NetrcErrorKind::MissingValue { keyword: "login" }
    ));

    let latin1 = TempFile::new("latin1", b"machine a\nlogin b\npassword p\xe4ss\n");
    let e = Netrc::load(&latin1.0).unwrap_err();
    assert_eq!(e.line(), Some(3));
    assert!(matches!(e.kind(), NetrcErrorKind::NotUtf8));

    let mut big = b"machine a login b password c\n".to_vec();
    big.resize(MAX_LEN + 1, b' ');
    let big = TempFile::new("big", &big);
    let e = Netrc::load(&big.0).unwrap_err();
    assert_eq!(e.line(), None);
    assert!(matches!(e.kind(), NetrcErrorKind::TooLarge { .. }));

    let missing = std::env::temp_dir().join(format!(
        "httpdigest-netrc-test-{}-missing",
        std::process::id()
    ));
    let e = Netrc::load(&missing).unwrap_err();
    assert_eq!(e.line(), None);
    match e.kind() {
        NetrcErrorKind::Io { path, error } => {
            assert_eq!(path, &missing);
            assert_eq!(error.kind(), std::io::ErrorKind::NotFound);
        }
        other => panic!("{other:?}"),
    }
    assert!(e.to_string().contains(&*missing.to_string_lossy()), "{e}");
}

#[test]
fn default_path_follows_the_environment() {
    let nonempty = |name| std::env::var_os(name).filter(|v| !v.is_empty());
    let expected = nonempty("NETRC").map(Into::into).or_else(|| {
        if cfg!(windows) {
            nonempty("USERPROFILE").map(|h| std::path::PathBuf::from(h).join("_netrc"))
        } else {
            nonempty("HOME").map(|h| std::path::PathBuf::from(h).join(".netrc"))
        }
    });
    assert_eq!(Netrc::default_path(), expected);
}

#[test]
fn debug_shows_no_password_or_account() {
    let netrc = Netrc::parse(
        "machine a login alice password topsecret account acctsecret\n\
         default login anon password \"also secret\"",
    )
    .unwrap();
    let shown = format!("{netrc:?} {netrc:#?} {:?}", netrc.find("a").unwrap());
    for secret in ["topsecret", "acctsecret", "also secret"] {
        assert!(!shown.contains(secret), "{shown}");
    }
    assert!(shown.contains("alice") && shown.contains("anon") && shown.contains("\"a\""));
}

fn line_count(text: &str) -> usize {
    text.bytes().filter(|&b| b == b'\n').count() + 1
}

fn check_never_panics(text: &str) {
    match Netrc::parse(text) {
        Ok(netrc) => {
            for entry in netrc.entries() {
                let _ = (entry.login(), entry.password(), entry.account());
                if let Some(machine) = entry.machine() {
                    let found = netrc.find(machine).unwrap();
                    assert!(found.machine().unwrap().eq_ignore_ascii_case(machine));
                }
            }
            let _ = format!("{netrc:?}");
        }
        Err(e) => {
            let line = e.line().expect("parse errors have a line");
            assert!(
                (1..=line_count(text) + 1).contains(&line),
                "{line} {text:?}"
            );
            let _ = e.to_string();
        }
    }
}

proptest! {
    #[test]
    fn arbitrary_input_never_panics(text in any::<String>()) {
        check_never_panics(&text);
    }

    #[test]
    fn netrc_like_input_never_panics(
        words in proptest::collection::vec(
            prop_oneof![
                Just("machine"), Just("default"), Just("login"), Just("user"),
                Just("password"), Just("account"), Just("macdef"), Just("#"), Just("\"a b\""),
                Just("\"x\\"), Just("\""), Just("\\"), Just("h"), Just("ä"), Just("\n"),
                Just("\n\n"), Just("\r\n"), Just(" "), Just("\t"),
            ],
            0..40,
        ),
    ) {
        check_never_panics(&words.concat());
        check_never_panics(&words.join(" "));
    }
}
