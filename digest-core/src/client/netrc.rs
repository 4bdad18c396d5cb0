//! `.netrc` files (feature `std`): credentials per host, as curl's `--netrc` and Python's
//! `netrc` module (used by httpx's `NetRCAuth` and requests) read them.
//!
//! ```
//! use httpdigest::client::netrc::Netrc;
//!
//! let netrc = Netrc::parse(
//!     "machine api.example.org login alice password s3cret\n\
//!      default login anonymous password guest\n",
//! )?;
//! let entry = netrc.find("API.example.org").expect("an entry");
//! assert_eq!(entry.login(), Some("alice"));
//! assert_eq!(entry.password(), Some("s3cret"));
//! assert_eq!(netrc.find("elsewhere.example").and_then(|e| e.login()), Some("anonymous"));
//! # Ok::<(), httpdigest::client::netrc::NetrcError>(())
//! ```
//!
//! # Grammar
//!
//! Tokens are separated by spaces, tabs, carriage returns and newlines, so an entry may sit
//! on one line or spread over several. The keywords (matched ignoring ASCII case, as curl
//! does) are:
//!
//! - `machine NAME` starts an entry for host `NAME`; `default` starts the entry used for
//!   every host without one of its own.
//! - `login NAME` (or `user NAME`, as Python accepts), `password PW` and `account ACCT` set
//!   a field of the current entry; the last one of each kind in an entry wins. An entry may
//!   lack any of them.
//! - `macdef NAME` defines an FTP macro; it ends the current entry and its body (every line
//!   after the `macdef` line, up to and including the next empty line, or to the end of the
//!   file) is skipped unread. A line holding only spaces does not end the body, as in curl
//!   and ftp(1).
//!
//! A value is the next token, whatever it is: `machine login` names the host `login`, and
//! `password #x` sets the password `#x`. A value may be double-quoted to hold whitespace;
//! inside quotes `\"`, `\\`, `\n`, `\r` and `\t` are escapes (as in curl), a backslash before
//! any other character stands for that character, and the value ends at the closing quote.
//! A quoted value cannot span lines. Outside quotes a backslash is an ordinary character.
//!
//! Where a keyword is expected, a token starting with `#` (unquoted) begins a comment that
//! runs to the end of the line. Anything else there is an error
//! ([`NetrcErrorKind::UnexpectedToken`]); so is `login`, `password` or `account` before any
//! `machine` or `default`.
//!
//! [`Netrc::find`] returns the first `machine` entry for the host (the first of duplicates
//! wins, as in curl), wherever it sits in the file, then the first `default` entry. Entries
//! after a `default` are accepted, as Python does.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::string::String;
use std::vec::Vec;

use alloc::borrow::Cow;
use zeroize::Zeroizing;

/// The largest file [`Netrc::parse`] and [`Netrc::load`] accept: 1 MiB.
pub const MAX_LEN: usize = 1 << 20;

/// The entries of a `.netrc` file, in file order.
///
/// Its `Debug` output shows machine names and logins only, never a password or account.
#[derive(Debug, Clone, Default)]
pub struct Netrc {
    entries: Vec<Entry>,
}

/// One `machine` or `default` entry of a `.netrc` file.
///
/// The password and account are zeroized on drop and left out of the `Debug` output.
#[derive(Clone)]
pub struct Entry {
    machine: Option<String>,
    login: Option<String>,
    password: Option<Zeroizing<String>>,
    account: Option<Zeroizing<String>>,
}

impl Entry {
    const fn new(machine: Option<String>) -> Self {
        Self {
            machine,
            login: None,
            password: None,
            account: None,
        }
    }

    /// The host name of a `machine` entry; `None` for the `default` entry.
    pub fn machine(&self) -> Option<&str> {
        self.machine.as_deref()
    }

    /// Whether this is the `default` entry.
    pub const fn is_default(&self) -> bool {
        self.machine.is_none()
    }

    /// The `login` (user name), if the entry has one.
    pub fn login(&self) -> Option<&str> {
        self.login.as_deref()
    }

    /// The `password`, if the entry has one.
    pub fn password(&self) -> Option<&str> {
        self.password.as_ref().map(|p| p.as_str())
    }

    /// The `account` (an FTP `ACCT` string), if the entry has one.
    pub fn account(&self) -> Option<&str> {
        self.account.as_ref().map(|a| a.as_str())
    }
}

impl fmt::Debug for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Entry")
            .field("machine", &self.machine)
            .field("login", &self.login)
            .finish_non_exhaustive()
    }
}

/// What was wrong with a `.netrc` file, and on which line.
///
/// Messages never quote a value from the file, which could be (part of) a password.
#[derive(Debug, thiserror::Error)]
#[error("{}{kind}", LinePrefix(*.line))]
pub struct NetrcError {
    line: Option<usize>,
    kind: NetrcErrorKind,
}

impl NetrcError {
    const fn at(line: usize, kind: NetrcErrorKind) -> Self {
        Self {
            line: Some(line),
            kind,
        }
    }

    const fn whole_file(kind: NetrcErrorKind) -> Self {
        Self { line: None, kind }
    }

    /// The line (1-based) where the problem was found; `None` for errors about the whole
    /// file ([`Io`](NetrcErrorKind::Io), [`TooLarge`](NetrcErrorKind::TooLarge)).
    pub const fn line(&self) -> Option<usize> {
        self.line
    }

    /// What was wrong.
    pub const fn kind(&self) -> &NetrcErrorKind {
        &self.kind
    }
}

struct LinePrefix(Option<usize>);

impl fmt::Display for LinePrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(line) => write!(f, "line {line}: "),
            None => Ok(()),
        }
    }
}

/// The kinds of [`NetrcError`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NetrcErrorKind {
    /// The file could not be read.
    #[error("cannot read {}: {error}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// The file is larger than [`MAX_LEN`].
    #[error("the file is larger than {limit} bytes")]
    TooLarge {
        /// The limit, [`MAX_LEN`].
        limit: usize,
    },
    /// The file is not UTF-8.
    #[error("not valid UTF-8")]
    NotUtf8,
    /// A keyword that takes a value ends the file.
    #[error("`{keyword}` has no value")]
    MissingValue {
        /// The keyword, in lower case.
        keyword: &'static str,
    },
    /// `login`, `password` or `account` before any `machine` or `default`.
    #[error("`{keyword}` before any `machine` or `default`")]
    MisplacedKeyword {
        /// The keyword, in lower case.
        keyword: &'static str,
    },
    /// A token that is not a keyword where a keyword was expected. The token is not kept:
    /// it is often a password that lacks its `password` keyword or its quotes.
    #[error(
        "column {column}: expected machine, default, login, password, account or macdef \
         (the word found is not shown: it may be part of a password)"
    )]
    UnexpectedToken {
        /// Where the token starts on its line, in characters (1-based).
        column: usize,
    },
    /// A double-quoted value has no closing quote on its line; the line is that of the
    /// opening quote.
    #[error("unterminated quoted value")]
    UnterminatedQuote,
}

impl Netrc {
    /// Parses the text of a `.netrc` file.
    ///
    /// ```
    /// use httpdigest::client::netrc::{Netrc, NetrcErrorKind};
    ///
    /// let netrc = Netrc::parse(
    ///     "# work\n\
    ///      machine git.example.org\n  login \"J. Doe\"\n  password \"with \\\"quotes\\\"\"\n",
    /// )?;
    /// let entry = netrc.find("git.example.org").expect("an entry");
    /// assert_eq!(entry.login(), Some("J. Doe"));
    /// assert_eq!(entry.password(), Some("with \"quotes\""));
    ///
    /// let err = Netrc::parse("machine a\nlogin b\npasword c\n").unwrap_err();
    /// assert_eq!(err.line(), Some(3));
    /// assert!(matches!(err.kind(), NetrcErrorKind::UnexpectedToken { column: 1 }));
    /// # Ok::<(), httpdigest::client::netrc::NetrcError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`NetrcError`] for the first problem found, with its line; see the
    /// [module documentation](self) for the grammar.
    pub fn parse(text: &str) -> Result<Self, NetrcError> {
        if text.len() > MAX_LEN {
            return Err(NetrcError::whole_file(NetrcErrorKind::TooLarge {
                limit: MAX_LEN,
            }));
        }
        Parser::new(text).run()
    }

    /// Reads and parses a `.netrc` file, refusing one larger than [`MAX_LEN`] without
    /// reading it all. File permissions are not checked.
    ///
    /// ```
    /// use httpdigest::client::netrc::Netrc;
    ///
    /// let path = std::env::temp_dir().join(format!("httpdigest-doctest-{}.netrc", std::process::id()));
    /// std::fs::write(&path, "machine example.org login alice password s3cret\n")?;
    /// let netrc = Netrc::load(&path);
    /// std::fs::remove_file(&path)?;
    /// assert_eq!(netrc?.find("example.org").and_then(|e| e.password()), Some("s3cret"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`NetrcErrorKind::Io`] naming the path if it cannot be read, else as
    /// [`parse`](Self::parse) (and [`NetrcErrorKind::NotUtf8`]).
    pub fn load(path: impl AsRef<Path>) -> Result<Self, NetrcError> {
        let path = path.as_ref();
        let io = |error| {
            NetrcError::whole_file(NetrcErrorKind::Io {
                path: path.to_path_buf(),
                error,
            })
        };
        let too_large = || NetrcError::whole_file(NetrcErrorKind::TooLarge { limit: MAX_LEN });
        let file = std::fs::File::open(path).map_err(io)?;
        let size = file.metadata().map_err(io)?.len();
        if size > MAX_LEN as u64 {
            return Err(too_large());
        }
        // Sized up front so the buffer is not reallocated (leaving copies of the passwords
        // behind) unless the file grows while being read.
        let capacity = usize::try_from(size).map_or(MAX_LEN, |s| s.min(MAX_LEN)) + 1;
        let mut bytes = Zeroizing::new(Vec::with_capacity(capacity));
        file.take(MAX_LEN as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(io)?;
        if bytes.len() > MAX_LEN {
            return Err(too_large());
        }
        match std::str::from_utf8(&bytes) {
            Ok(text) => Parser::new(text).run(),
            Err(e) => {
                let valid = bytes.get(..e.valid_up_to()).unwrap_or_default();
                let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
                Err(NetrcError::at(line, NetrcErrorKind::NotUtf8))
            }
        }
    }

    /// Where the user's `.netrc` file is: `$NETRC` if set and not empty, else
    /// `$HOME/.netrc` (on Windows `%USERPROFILE%\_netrc`); `None` without a home directory.
    /// The file may not exist.
    ///
    /// ```
    /// if let Some(path) = httpdigest::client::netrc::Netrc::default_path() {
    ///     println!("credentials from {}", path.display());
    /// }
    /// ```
    pub fn default_path() -> Option<PathBuf> {
        let nonempty = |name| std::env::var_os(name).filter(|v| !v.is_empty());
        if let Some(path) = nonempty("NETRC") {
            return Some(PathBuf::from(path));
        }
        #[cfg(windows)]
        let (home, file) = (nonempty("USERPROFILE")?, "_netrc");
        #[cfg(not(windows))]
        let (home, file) = (nonempty("HOME")?, ".netrc");
        Some(PathBuf::from(home).join(file))
    }

    /// The user's own `.netrc` file ([`default_path`](Self::default_path): `$NETRC`, else
    /// `~/.netrc`), read; `None` without a home directory or when the file does not exist,
    /// as curl's `--netrc-optional` and Python's requests take it.
    ///
    /// ```
    /// use httpdigest::client::netrc::Netrc;
    ///
    /// if let Some(netrc) = Netrc::load_default()? {
    ///     println!("{} entries", netrc.entries().len());
    /// }
    /// # Ok::<(), httpdigest::client::netrc::NetrcError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`load`](Self::load), but for a file that does not exist.
    pub fn load_default() -> Result<Option<Self>, NetrcError> {
        let Some(path) = Self::default_path() else {
            return Ok(None);
        };
        match Self::load(&path) {
            Ok(netrc) => Ok(Some(netrc)),
            Err(NetrcError {
                kind: NetrcErrorKind::Io { error, .. },
                ..
            }) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The entry for `host` (a host name, without port): the first `machine` entry whose
    /// name equals it ignoring ASCII case, else the first `default` entry.
    pub fn find(&self, host: &str) -> Option<&Entry> {
        self.entries
            .iter()
            .find(|e| e.machine().is_some_and(|m| m.eq_ignore_ascii_case(host)))
            .or_else(|| self.entries.iter().find(|e| e.is_default()))
    }

    /// The first `machine` entry for `host`, ignoring ASCII case; never the `default` entry
    /// (what the client's [`CredentialsProvider`](super::CredentialsProvider) for a netrc
    /// file gives).
    ///
    /// ```
    /// use httpdigest::client::netrc::Netrc;
    ///
    /// let netrc = Netrc::parse("default login anonymous password guest\n")?;
    /// assert!(netrc.find_machine("example.org").is_none());
    /// assert!(netrc.find("example.org").is_some());
    /// # Ok::<(), httpdigest::client::netrc::NetrcError>(())
    /// ```
    pub fn find_machine(&self, host: &str) -> Option<&Entry> {
        self.entries
            .iter()
            .find(|e| e.machine().is_some_and(|m| m.eq_ignore_ascii_case(host)))
    }

    /// Every entry, in file order, duplicates and `default` included.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Keyword {
    Machine,
    Default,
    Login,
    Password,
    Account,
    Macdef,
}

impl Keyword {
    fn of(token: &str) -> Option<Self> {
        const ALL: [(&str, Keyword); 7] = [
            ("machine", Keyword::Machine),
            ("default", Keyword::Default),
            ("login", Keyword::Login),
            ("user", Keyword::Login),
            ("password", Keyword::Password),
            ("account", Keyword::Account),
            ("macdef", Keyword::Macdef),
        ];
        ALL.iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(token))
            .map(|&(_, k)| k)
    }

    const fn name(self) -> &'static str {
        match self {
            Self::Machine => "machine",
            Self::Default => "default",
            Self::Login => "login",
            Self::Password => "password",
            Self::Account => "account",
            Self::Macdef => "macdef",
        }
    }
}

struct Token<'a> {
    text: Cow<'a, str>,
    quoted: bool,
    line: usize,
    column: usize,
}

const fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
    line: usize,
    line_start: usize,
}

impl<'a> Parser<'a> {
    const fn new(text: &'a str) -> Self {
        Self {
            text,
            pos: 0,
            line: 1,
            line_start: 0,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn bump(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.pos += 1;
        if b == b'\n' {
            self.line += 1;
            self.line_start = self.pos;
        }
        Some(b)
    }

    /// Skips the rest of the line, its newline included.
    fn skip_line(&mut self) {
        while let Some(b) = self.bump() {
            if b == b'\n' {
                break;
            }
        }
    }

    /// Skips a macro body: lines up to and including the next empty one.
    fn skip_macro_body(&mut self) {
        while self.peek().is_some() {
            let start = self.pos;
            self.skip_line();
            let line = self.text.get(start..self.pos).unwrap_or_default();
            let line = line.strip_suffix('\n').unwrap_or(line);
            if line.strip_suffix('\r').unwrap_or(line).is_empty() {
                break;
            }
        }
    }

    fn token(&mut self) -> Result<Option<Token<'a>>, NetrcError> {
        while self.peek().is_some_and(is_space) {
            self.bump();
        }
        let line = self.line;
        let column = self
            .text
            .get(self.line_start..self.pos)
            .map_or(0, |s| s.chars().count())
            + 1;
        let start = self.pos;
        match self.peek() {
            None => Ok(None),
            Some(b'"') => {
                let text = self.quoted(line)?;
                Ok(Some(Token {
                    text: Cow::Owned(text),
                    quoted: true,
                    line,
                    column,
                }))
            }
            Some(_) => {
                while self.peek().is_some_and(|b| !is_space(b)) {
                    self.bump();
                }
                let text = self.text.get(start..self.pos).unwrap_or_default();
                Ok(Some(Token {
                    text: Cow::Borrowed(text),
                    quoted: false,
                    line,
                    column,
                }))
            }
        }
    }

    /// A quoted value, from its opening quote; it never crosses a newline.
    fn quoted(&mut self, line: usize) -> Result<String, NetrcError> {
        let unterminated = || NetrcError::at(line, NetrcErrorKind::UnterminatedQuote);
        let start = self.pos + 1;
        let rest = self.text.get(start..).unwrap_or_default();
        let mut out = String::with_capacity(rest.find('\n').unwrap_or(rest.len()));
        let mut chars = rest.char_indices();
        loop {
            match chars.next() {
                None | Some((_, '\n')) => return Err(unterminated()),
                Some((i, '"')) => {
                    // No newline was crossed: the line count stands.
                    self.pos = start + i + 1;
                    return Ok(out);
                }
                Some((_, '\\')) => match chars.next() {
                    None | Some((_, '\n')) => return Err(unterminated()),
                    Some((_, 'n')) => out.push('\n'),
                    Some((_, 'r')) => out.push('\r'),
                    Some((_, 't')) => out.push('\t'),
                    Some((_, c)) => out.push(c),
                },
                Some((_, c)) => out.push(c),
            }
        }
    }

    fn value(&mut self, keyword: &Token<'_>, which: Keyword) -> Result<String, NetrcError> {
        match self.token()? {
            Some(token) => Ok(token.text.into_owned()),
            None => Err(NetrcError::at(
                keyword.line,
                NetrcErrorKind::MissingValue {
                    keyword: which.name(),
                },
            )),
        }
    }

    fn run(mut self) -> Result<Netrc, NetrcError> {
        let mut entries = Vec::new();
        let mut current: Option<Entry> = None;
        while let Some(token) = self.token()? {
            if !token.quoted && token.text.starts_with('#') {
                self.skip_line();
                continue;
            }
            let Some(keyword) = Keyword::of(&token.text) else {
                return Err(NetrcError::at(
                    token.line,
                    NetrcErrorKind::UnexpectedToken {
                        column: token.column,
                    },
                ));
            };
            match keyword {
                Keyword::Machine => {
                    let name = self.value(&token, keyword)?;
                    entries.extend(current.replace(Entry::new(Some(name))));
                }
                Keyword::Default => {
                    entries.extend(current.replace(Entry::new(None)));
                }
                Keyword::Macdef => {
                    let _name = self.value(&token, keyword)?;
                    self.skip_line();
                    self.skip_macro_body();
                    entries.extend(current.take());
                }
                Keyword::Login | Keyword::Password | Keyword::Account => {
                    let Some(entry) = current.as_mut() else {
                        return Err(NetrcError::at(
                            token.line,
                            NetrcErrorKind::MisplacedKeyword {
                                keyword: keyword.name(),
                            },
                        ));
                    };
                    let value = self.value(&token, keyword)?;
                    match keyword {
                        Keyword::Login => entry.login = Some(value),
                        Keyword::Password => entry.password = Some(Zeroizing::new(value)),
                        _ => entry.account = Some(Zeroizing::new(value)),
                    }
                }
            }
        }
        entries.extend(current);
        Ok(Netrc { entries })
    }
}
