//! Property tests: what the formatters write, the parsers read back unchanged; formatting
//! refuses control characters without touching the output; the parsers never panic and
//! report offsets inside the input, whatever the bytes.

use httpdigest::{
    Algorithm, AuthenticationInfo, AuthenticationInfoParams, Challenge, ChallengeParams,
    Challenges, CredentialsParams, DigestChallenge, DigestChallenges, DigestCredentials,
    FormatError, Limits, NonceCount, ParamValue, Qop, QopOptions, Username, UsernameParam,
};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

// The parser oracle, shared with the fuzz targets.
mod oracle;

const CASES: u32 = 512;

// ---------------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------------

/// Pieces that are awkward for a header writer: quotes, backslashes, separators, a scheme name,
/// something that looks like another parameter, non-ASCII text.
const TRICKY: &[&str] = &[
    "\"",
    "\\",
    "\\\"",
    "\\\\",
    ",",
    ", ",
    "=",
    "==",
    "Digest",
    "digest ",
    "Basic",
    ", Digest realm=\"x\", nonce=y",
    "\", nonce=\"evil",
    "realm",
    "nonce=",
    "'",
    "%",
    "%41",
    "UTF-8''",
    " ",
    "\t",
    "é",
    "Jäsøn Doe",
    "日本語",
    "🦀",
    "\u{a0}",
    "\u{2028}",
];

/// Any character but the controls (C0, DEL, C1).
fn non_control() -> impl Strategy<Value = char> {
    any::<char>().prop_filter("no control characters", |c| !c.is_control())
}

/// Text without control characters (HTAB aside, which quoted-strings allow): printable ASCII,
/// the tricky pieces above, any non-control Unicode character.
fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            4 => (0x20u8..0x7f).prop_map(|b| String::from(char::from(b))),
            3 => prop::sample::select(TRICKY).prop_map(str::to_owned),
            2 => non_control().prop_map(String::from),
        ],
        0..16,
    )
    .prop_map(|parts| parts.concat())
}

/// A `domain` URI: non-empty, no whitespace, no control characters (but `"` and `\` may occur).
fn uri() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            4 => (0x21u8..0x7f).prop_map(|b| String::from(char::from(b))),
            1 => prop::sample::select(&["\"", "\\", "/", "é", "🦀", "\u{a0}"][..])
                .prop_map(str::to_owned),
            1 => non_control()
                .prop_filter("no whitespace", |c| !c.is_ascii_whitespace())
                .prop_map(String::from),
        ],
        1..12,
    )
    .prop_map(|parts| parts.concat())
}

/// Any string at all: control characters, NUL, DEL, non-ASCII.
fn any_text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            2 => any::<char>(),
            1 => (0u8..0x20).prop_map(char::from),
            1 => Just('\u{7f}'),
        ],
        0..16,
    )
    .prop_map(|chars| chars.into_iter().collect())
}

/// An RFC 9110 token, for `algorithm` as a server may spell it.
fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(Algorithm::ALL.to_vec()).prop_map(|a| a.name().to_owned()),
        "[-!#$%&'*+.^_`|~0-9A-Za-z]{1,20}",
    ]
}

fn qop_options() -> impl Strategy<Value = QopOptions> {
    prop::sample::select(vec![
        QopOptions::NONE,
        QopOptions::AUTH,
        QopOptions::AUTH_INT,
        QopOptions::BOTH,
    ])
}

fn qop() -> impl Strategy<Value = Qop> {
    prop::sample::select(vec![Qop::Auth, Qop::AuthInt])
}

fn nonce_count() -> impl Strategy<Value = NonceCount> {
    prop_oneof![
        Just(NonceCount::FIRST),
        Just(NonceCount::new(u32::MAX)),
        any::<u32>().prop_map(NonceCount::new),
    ]
}

/// An optional text that is `Some("")` noticeably often (`opaque` must be echoed even empty).
fn opt_text() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        1 => Just(None),
        1 => Just(Some(String::new())),
        3 => text().prop_map(Some),
    ]
}

#[derive(Debug, Clone)]
struct ChallengeInput {
    realm: String,
    domain: Vec<String>,
    nonce: String,
    opaque: Option<String>,
    stale: bool,
    algorithm: Option<Algorithm>,
    qop: QopOptions,
    charset_utf8: bool,
    userhash: bool,
}

impl ChallengeInput {
    fn params<'a>(&'a self, domain: &'a [&'a str]) -> ChallengeParams<'a> {
        ChallengeParams {
            realm: &self.realm,
            domain,
            nonce: &self.nonce,
            opaque: self.opaque.as_deref(),
            stale: self.stale,
            algorithm: self.algorithm,
            qop: self.qop,
            charset_utf8: self.charset_utf8,
            userhash: self.userhash,
        }
    }

    fn domain_refs(&self) -> Vec<&str> {
        self.domain.iter().map(String::as_str).collect()
    }
}

fn challenge_input() -> impl Strategy<Value = ChallengeInput> {
    (
        text(),
        prop::collection::vec(uri(), 0..4),
        text(),
        opt_text(),
        any::<bool>(),
        prop::option::of(prop::sample::select(Algorithm::ALL.to_vec())),
        qop_options(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(realm, domain, nonce, opaque, stale, algorithm, qop, charset_utf8, userhash)| {
                ChallengeInput {
                    realm,
                    domain,
                    nonce,
                    opaque,
                    stale,
                    algorithm,
                    qop,
                    charset_utf8,
                    userhash,
                }
            },
        )
}

#[derive(Debug, Clone)]
enum UserInput {
    Plain(String),
    Hashed(String),
    Extended(String),
}

impl UserInput {
    fn param(&self) -> UsernameParam<'_> {
        match self {
            UserInput::Plain(s) => UsernameParam::Plain(s),
            UserInput::Hashed(s) => UsernameParam::Hashed(s),
            UserInput::Extended(s) => UsernameParam::Extended(s),
        }
    }

    fn name(&self) -> &str {
        match self {
            UserInput::Plain(s) | UserInput::Hashed(s) | UserInput::Extended(s) => s,
        }
    }
}

#[derive(Debug, Clone)]
struct CredentialsInput {
    username: UserInput,
    realm: String,
    uri: String,
    algorithm: Option<String>,
    nonce: String,
    nc: Option<NonceCount>,
    cnonce: Option<String>,
    qop: Option<Qop>,
    response: String,
    opaque: Option<String>,
}

impl CredentialsInput {
    fn params(&self) -> CredentialsParams<'_> {
        CredentialsParams {
            username: self.username.param(),
            realm: &self.realm,
            uri: &self.uri,
            algorithm: self.algorithm.as_deref(),
            nonce: &self.nonce,
            nc: self.nc,
            cnonce: self.cnonce.as_deref(),
            qop: self.qop,
            response: &self.response,
            opaque: self.opaque.as_deref(),
        }
    }
}

fn user_input() -> impl Strategy<Value = UserInput> {
    prop_oneof![
        text().prop_map(UserInput::Plain),
        "[0-9a-f]{0,64}".prop_map(UserInput::Hashed),
        any_text().prop_map(UserInput::Extended),
        text().prop_map(UserInput::Extended),
    ]
}

fn credentials_input() -> impl Strategy<Value = CredentialsInput> {
    (
        user_input(),
        text(),
        text(),
        prop::option::of(token()),
        text(),
        prop::option::of(nonce_count()),
        prop::option::of(text()),
        prop::option::of(qop()),
        text(),
        opt_text(),
    )
        .prop_map(
            |(username, realm, uri, algorithm, nonce, nc, cnonce, qop, response, opaque)| {
                CredentialsInput {
                    username,
                    realm,
                    uri,
                    algorithm,
                    nonce,
                    nc,
                    cnonce,
                    qop,
                    response,
                    opaque,
                }
            },
        )
}

#[derive(Debug, Clone)]
struct InfoInput {
    nextnonce: Option<String>,
    qop: Option<Qop>,
    rspauth: Option<String>,
    cnonce: Option<String>,
    nc: Option<NonceCount>,
}

impl InfoInput {
    fn params(&self) -> AuthenticationInfoParams<'_> {
        AuthenticationInfoParams {
            nextnonce: self.nextnonce.as_deref(),
            qop: self.qop,
            rspauth: self.rspauth.as_deref(),
            cnonce: self.cnonce.as_deref(),
            nc: self.nc,
        }
    }
}

fn info_input() -> impl Strategy<Value = InfoInput> {
    (
        opt_text(),
        prop::option::of(qop()),
        opt_text(),
        opt_text(),
        prop::option::of(nonce_count()),
    )
        .prop_map(|(nextnonce, qop, rspauth, cnonce, nc)| InfoInput {
            nextnonce,
            qop,
            rspauth,
            cnonce,
            nc,
        })
}

/// A token68 (RFC 9110 §11.2), as a Bearer or Negotiate challenge carries.
fn token68() -> impl Strategy<Value = String> {
    "[-._~+/0-9A-Za-z]{1,24}={0,2}"
}

/// List separators between challenges: commas with optional whitespace, empty elements,
/// obs-fold.
fn separator() -> impl Strategy<Value = &'static str> {
    prop::sample::select(&[", ", ",", " , ", ",\t", ", ,", ",, ", ",\r\n ", "\r\n\t, "][..])
}

/// A control character that quoted-strings refuse: 0x00-0x1F but HTAB, and DEL.
fn ctl_byte() -> impl Strategy<Value = u8> {
    prop_oneof![(0u8..0x09), (0x0au8..0x20), Just(0x7f_u8),]
}

/// Bytes for the parsers: pieces of the grammar in any order, hostile bytes among them.
const HOSTILE: &[&[u8]] = &[
    b"Digest",
    b"digest",
    b"DIGEST",
    b"Basic",
    b"Bearer",
    b"realm",
    b"nonce",
    b"opaque",
    b"domain",
    b"stale",
    b"algorithm",
    b"qop",
    b"charset",
    b"userhash",
    b"username",
    b"username*",
    b"uri",
    b"response",
    b"cnonce",
    b"nc",
    b"nextnonce",
    b"rspauth",
    b"=",
    b"==",
    b"\"",
    b"\\",
    b"\\\"",
    b",",
    b", ",
    b" ",
    b"  ",
    b"\t",
    b"\r",
    b"\n",
    b"\r\n",
    b"\r\n ",
    b"\n\t",
    b"true",
    b"TRUE",
    b"false",
    b"auth",
    b"auth-int",
    b"auth, auth-int",
    b"MD5",
    b"SHA-256-sess",
    b"UTF-8",
    b"UTF-8''",
    b"ISO-8859-1'en'",
    b"'",
    b"%",
    b"%C3%A4",
    b"%E4",
    b"%zz",
    b"00000001",
    b"ffffffff",
    b"abc",
    b"/dir/index.html",
    b"x",
    b"\xc3\xa4",
    b"\xe6\x97\xa5",
    b"\xff",
    b"\x80",
    b"\xc3",
    b"\x00",
    b"\x7f",
    b"\x0b",
];

fn hostile_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![
            6 => prop::sample::select(HOSTILE).prop_map(<[u8]>::to_vec),
            1 => any::<u8>().prop_map(|b| vec![b]),
        ],
        0..96,
    )
    .prop_map(|parts| parts.concat())
}

/// A valid header value with a few bytes changed, inserted or cut: close to what the parsers
/// accept, so mutations reach the Digest-level checks.
fn mutated_header() -> impl Strategy<Value = Vec<u8>> {
    let valid = prop_oneof![
        challenge_input().prop_map(|c| {
            let domain = c.domain_refs();
            c.params(&domain)
                .to_header_value()
                .unwrap_or_default()
                .into_bytes()
        }),
        credentials_input().prop_map(|c| c
            .params()
            .to_header_value()
            .unwrap_or_default()
            .into_bytes()),
        info_input().prop_map(|i| i
            .params()
            .to_header_value()
            .unwrap_or_default()
            .into_bytes()),
    ];
    let edit = (
        any::<prop::sample::Index>(),
        0u8..4,
        prop_oneof![
            prop::sample::select(HOSTILE).prop_map(<[u8]>::to_vec),
            any::<u8>().prop_map(|b| vec![b]),
        ],
    );
    (valid, prop::collection::vec(edit, 0..4)).prop_map(|(mut bytes, edits)| {
        for (at, op, piece) in edits {
            let i = if bytes.is_empty() {
                0
            } else {
                at.index(bytes.len())
            };
            match op {
                0 => bytes.truncate(i),
                1 => {
                    if i < bytes.len() {
                        bytes.remove(i);
                    }
                }
                2 => {
                    if let (Some(slot), Some(&b)) = (bytes.get_mut(i), piece.first()) {
                        *slot = b;
                    }
                }
                _ => {
                    bytes.splice(i..i, piece);
                }
            }
        }
        bytes
    })
}

fn parser_input() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        1 => prop::collection::vec(any::<u8>(), 0..2048),
        1 => hostile_bytes(),
        2 => mutated_header(),
    ]
}

/// The default limits, or small ones that the inputs above hit.
fn limits() -> impl Strategy<Value = Limits> {
    prop_oneof![
        2 => Just(Limits::DEFAULT),
        1 => (0usize..400, 0usize..12, 0usize..64).prop_map(
            |(max_field_len, max_params, max_value_len)| Limits {
                max_field_len,
                max_params,
                max_value_len,
            }
        ),
    ]
}

// ---------------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------------

/// `value` escaped as a quoted-string's inside: `"` and `\` behind a backslash.
fn escaped(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if matches!(c, '"' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn assert_str(value: ParamValue<'_>, expected: &str) -> Result<(), TestCaseError> {
    prop_assert!(value.is_quoted());
    prop_assert_eq!(&*value.to_str()?, expected);
    prop_assert_eq!(&*value.unescaped(), expected.as_bytes());
    let expected_raw = escaped(expected);
    prop_assert_eq!(value.raw(), expected_raw.as_bytes());
    Ok(())
}

fn assert_opt_str(
    value: Option<ParamValue<'_>>,
    expected: Option<&str>,
) -> Result<(), TestCaseError> {
    match (value, expected) {
        (None, None) => Ok(()),
        (Some(v), Some(e)) => assert_str(v, e),
        (got, expected) => {
            prop_assert!(false, "got {got:?}, expected {expected:?}");
            Ok(())
        }
    }
}

fn assert_challenge_matches(
    c: &DigestChallenge<'_>,
    p: &ChallengeParams<'_>,
) -> Result<(), TestCaseError> {
    prop_assert!(c.challenge().is_digest());
    prop_assert_eq!(c.challenge().scheme(), "Digest");
    assert_str(c.realm(), p.realm)?;
    assert_str(c.nonce(), p.nonce)?;
    assert_opt_str(c.opaque(), p.opaque)?;
    let domain: Option<Vec<Vec<u8>>> = c.domain().map(|d| d.uris().map(<[u8]>::to_vec).collect());
    let expected_domain =
        (!p.domain.is_empty()).then(|| p.domain.iter().map(|u| u.as_bytes().to_vec()).collect());
    prop_assert_eq!(domain, expected_domain);
    prop_assert_eq!(c.algorithm(), Some(p.algorithm.unwrap_or(Algorithm::Md5)));
    prop_assert_eq!(
        c.algorithm_param().map(|v| v.raw()),
        p.algorithm.map(|a| a.name().as_bytes())
    );
    prop_assert_eq!(c.qop(), (!p.qop.is_empty()).then_some(p.qop));
    prop_assert_eq!(c.stale(), p.stale);
    prop_assert_eq!(c.userhash(), p.userhash);
    prop_assert_eq!(c.charset_is_utf8(), p.charset_utf8);
    prop_assert_eq!(c.charset().is_some(), p.charset_utf8);
    prop_assert_eq!(c.unknown_params().count(), 0);
    let expected_params = 2
        + usize::from(!p.domain.is_empty())
        + usize::from(!p.qop.is_empty())
        + usize::from(p.algorithm.is_some())
        + usize::from(p.opaque.is_some())
        + usize::from(p.stale)
        + usize::from(p.charset_utf8)
        + usize::from(p.userhash);
    prop_assert_eq!(c.params().count(), expected_params);
    Ok(())
}

/// Which value of which formatter gets the control character.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    ChallengeRealm,
    ChallengeNonce,
    ChallengeOpaque,
    CredentialsPlainUsername,
    CredentialsHashedUsername,
    CredentialsRealm,
    CredentialsUri,
    CredentialsNonce,
    CredentialsCnonce,
    CredentialsResponse,
    CredentialsOpaque,
    InfoNextnonce,
    InfoRspauth,
    InfoCnonce,
}

const TARGETS: [Target; 14] = [
    Target::ChallengeRealm,
    Target::ChallengeNonce,
    Target::ChallengeOpaque,
    Target::CredentialsPlainUsername,
    Target::CredentialsHashedUsername,
    Target::CredentialsRealm,
    Target::CredentialsUri,
    Target::CredentialsNonce,
    Target::CredentialsCnonce,
    Target::CredentialsResponse,
    Target::CredentialsOpaque,
    Target::InfoNextnonce,
    Target::InfoRspauth,
    Target::InfoCnonce,
];

/// Writes into `out` with `bad` in the `target` value and `clean` in every other value;
/// returns the name of the parameter `bad` went into, and the result.
fn write_with_bad(
    target: Target,
    bad: &str,
    clean: &str,
    out: &mut String,
) -> (&'static str, Result<(), FormatError>) {
    let pick = |t: Target| if t == target { bad } else { clean };
    match target {
        Target::ChallengeRealm | Target::ChallengeNonce | Target::ChallengeOpaque => {
            let params = ChallengeParams {
                opaque: Some(pick(Target::ChallengeOpaque)),
                qop: QopOptions::BOTH,
                algorithm: Some(Algorithm::Sha256),
                domain: &["/a", "/b"],
                ..ChallengeParams::new(pick(Target::ChallengeRealm), pick(Target::ChallengeNonce))
            };
            let name = match target {
                Target::ChallengeRealm => "realm",
                Target::ChallengeNonce => "nonce",
                _ => "opaque",
            };
            (name, params.write(out))
        }
        Target::InfoNextnonce | Target::InfoRspauth | Target::InfoCnonce => {
            let params = AuthenticationInfoParams {
                nextnonce: Some(pick(Target::InfoNextnonce)),
                qop: Some(Qop::Auth),
                rspauth: Some(pick(Target::InfoRspauth)),
                cnonce: Some(pick(Target::InfoCnonce)),
                nc: Some(NonceCount::FIRST),
            };
            let name = match target {
                Target::InfoNextnonce => "nextnonce",
                Target::InfoRspauth => "rspauth",
                _ => "cnonce",
            };
            (name, params.write(out))
        }
        _ => {
            let username = match target {
                Target::CredentialsPlainUsername => UsernameParam::Plain(bad),
                Target::CredentialsHashedUsername => UsernameParam::Hashed(bad),
                _ => UsernameParam::Plain(clean),
            };
            let params = CredentialsParams {
                algorithm: Some("MD5"),
                nc: Some(NonceCount::FIRST),
                cnonce: Some(pick(Target::CredentialsCnonce)),
                qop: Some(Qop::Auth),
                opaque: Some(pick(Target::CredentialsOpaque)),
                ..CredentialsParams::new(
                    username,
                    pick(Target::CredentialsRealm),
                    pick(Target::CredentialsUri),
                    pick(Target::CredentialsNonce),
                    pick(Target::CredentialsResponse),
                )
            };
            let name = match target {
                Target::CredentialsPlainUsername | Target::CredentialsHashedUsername => "username",
                Target::CredentialsRealm => "realm",
                Target::CredentialsUri => "uri",
                Target::CredentialsNonce => "nonce",
                Target::CredentialsCnonce => "cnonce",
                Target::CredentialsResponse => "response",
                _ => "opaque",
            };
            (name, params.write(out))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    /// 1. What `ChallengeParams` writes, `DigestChallenge::parse` reads back unchanged.
    #[test]
    fn challenge_round_trip(input in challenge_input()) {
        let domain = input.domain_refs();
        let params = input.params(&domain);
        let value = params.to_header_value()?;
        let parsed = DigestChallenge::parse(value.as_bytes())?;
        assert_challenge_matches(&parsed, &params)?;

        // `write` appends the same text to a non-empty buffer.
        let mut out = String::from("WWW-Authenticate: ");
        params.write(&mut out)?;
        prop_assert_eq!(out.strip_prefix("WWW-Authenticate: "), Some(value.as_str()));
    }

    /// 1b. Between a Basic challenge and a Bearer token68 in one field, the Digest challenge is
    /// found, alone and unchanged.
    #[test]
    fn challenge_among_other_schemes(
        input in challenge_input(),
        negotiate in prop::option::of(token68()),
        basic_realm in text(),
        bearer in token68(),
        sep0 in separator(),
        sep1 in separator(),
        sep2 in separator(),
    ) {
        let domain = input.domain_refs();
        let params = input.params(&domain);
        let digest = params.to_header_value()?;
        // Optionally a token68 challenge before everything, to exercise that path too.
        let lead = negotiate
            .as_ref()
            .map(|t| format!("Negotiate {t}{sep0}"))
            .unwrap_or_default();
        let field = format!(
            "{lead}Basic realm=\"{}\"{sep1}{digest}{sep2}Bearer {bearer}",
            escaped(&basic_realm)
        );

        let digests: Vec<_> = DigestChallenges::new(field.as_bytes()).collect();
        prop_assert_eq!(digests.len(), 1, "{:?}", digests);
        let Some(Ok(parsed)) = digests.first() else {
            return Err(TestCaseError::fail(format!("{digests:?}")));
        };
        assert_challenge_matches(parsed, &params)?;

        let mut all: Vec<_> = Challenges::new(field.as_bytes()).collect::<Result<_, _>>()?;
        if let Some(t) = &negotiate {
            prop_assert_eq!(all[0].scheme(), "Negotiate");
            prop_assert_eq!(all[0].token68(), Some(t.as_bytes()));
            all.remove(0);
        }
        let schemes: Vec<_> = all.iter().map(Challenge::scheme).collect();
        prop_assert_eq!(schemes, ["Basic", "Digest", "Bearer"]);
        prop_assert_eq!(all[2].token68(), Some(bearer.as_bytes()));
        let basic: Vec<_> = all[0].params().collect();
        prop_assert_eq!(basic.len(), 1);
        prop_assert_eq!(&*basic[0].value.unescaped(), basic_realm.as_bytes());
    }

    /// 2. What `CredentialsParams` writes, `DigestCredentials::parse` reads back unchanged.
    #[test]
    fn credentials_round_trip(input in credentials_input()) {
        let params = input.params();
        let value = params.to_header_value()?;
        let parsed = DigestCredentials::parse(value.as_bytes())?;

        prop_assert_eq!(&*parsed.username_bytes(), input.username.name().as_bytes());
        prop_assert_eq!(parsed.userhash(), matches!(input.username, UserInput::Hashed(_)));
        match (&input.username, parsed.username()) {
            (UserInput::Plain(name) | UserInput::Hashed(name), Username::Quoted(v)) => {
                assert_str(*v, name)?;
            }
            (UserInput::Extended(name), Username::Extended(got)) => prop_assert_eq!(got, name),
            (sent, got) => prop_assert!(false, "sent {:?}, got {:?}", sent, got),
        }
        assert_str(parsed.realm(), &input.realm)?;
        assert_str(parsed.uri(), &input.uri)?;
        assert_str(parsed.nonce(), &input.nonce)?;
        assert_str(parsed.response(), &input.response)?;
        assert_opt_str(parsed.cnonce(), input.cnonce.as_deref())?;
        assert_opt_str(parsed.opaque(), input.opaque.as_deref())?;
        prop_assert_eq!(parsed.nc(), input.nc);
        prop_assert_eq!(parsed.qop(), input.qop);
        let algorithm = parsed.algorithm_param();
        prop_assert_eq!(algorithm.map(|v| v.raw()), input.algorithm.as_deref().map(str::as_bytes));
        prop_assert!(!algorithm.is_some_and(|v| v.is_quoted()));
        prop_assert_eq!(
            parsed.algorithm(),
            match &input.algorithm {
                None => Some(Algorithm::Md5),
                Some(a) => Algorithm::from_token(a.as_bytes()),
            }
        );
        prop_assert_eq!(parsed.unknown_params().count(), 0);

        let mut out = String::from("Authorization: ");
        params.write(&mut out)?;
        prop_assert_eq!(out.strip_prefix("Authorization: "), Some(value.as_str()));
    }

    /// 3. What `AuthenticationInfoParams` writes, `AuthenticationInfo::parse` reads back
    /// unchanged. All-`None` writes an empty value, which parses as all-`None`.
    #[test]
    fn authentication_info_round_trip(input in info_input()) {
        let params = input.params();
        let value = params.to_header_value()?;
        let all_none = params == AuthenticationInfoParams::default();
        prop_assert_eq!(value.is_empty(), all_none);
        let parsed = AuthenticationInfo::parse(value.as_bytes())?;

        assert_opt_str(parsed.nextnonce(), input.nextnonce.as_deref())?;
        assert_opt_str(parsed.rspauth(), input.rspauth.as_deref())?;
        assert_opt_str(parsed.cnonce(), input.cnonce.as_deref())?;
        prop_assert_eq!(parsed.qop(), input.qop);
        prop_assert_eq!(parsed.nc(), input.nc);
        prop_assert_eq!(parsed.unknown_params().count(), 0);
        let expected_params = usize::from(input.nextnonce.is_some())
            + usize::from(input.qop.is_some())
            + usize::from(input.rspauth.is_some())
            + usize::from(input.cnonce.is_some())
            + usize::from(input.nc.is_some());
        prop_assert_eq!(parsed.params().count(), expected_params);

        let mut out = String::from("Authentication-Info: ");
        params.write(&mut out)?;
        prop_assert_eq!(out.strip_prefix("Authentication-Info: "), Some(value.as_str()));
    }

    /// 4. A control character in a value is refused with its parameter, byte and offset, and
    /// the output buffer is left as it was.
    #[test]
    fn formatting_refuses_control_characters(
        target in prop::sample::select(TARGETS.to_vec()),
        before in text(),
        ctl in ctl_byte(),
        after in any_text(),
        clean in text(),
    ) {
        let bad = format!("{before}{}{after}", char::from(ctl));
        let mut out = String::from("X-Already-There: 1\r\n");
        let (parameter, result) = write_with_bad(target, &bad, &clean, &mut out);
        prop_assert_eq!(
            result,
            Err(FormatError::ControlCharacter { parameter, byte: ctl, offset: before.len() })
        );
        prop_assert_eq!(&out, "X-Already-There: 1\r\n");
    }

    /// 4b. The same for a `domain` URI (control characters that are not whitespace; URIs with
    /// whitespace are `InvalidDomain`).
    #[test]
    fn formatting_refuses_control_characters_in_domain(
        before in uri(),
        ctl in ctl_byte().prop_filter("not whitespace", |b| !b.is_ascii_whitespace()),
        after in uri(),
        index in 0usize..3,
    ) {
        let bad = format!("{before}{}{after}", char::from(ctl));
        let mut domain = vec!["/first", "https://example.org/x"];
        domain.insert(index, &bad);
        let params = ChallengeParams { domain: &domain, ..ChallengeParams::new("r", "n") };
        let mut out = String::from("prefix");
        prop_assert_eq!(
            params.write(&mut out),
            Err(FormatError::ControlCharacter { parameter: "domain", byte: ctl, offset: before.len() })
        );
        prop_assert_eq!(&out, "prefix");

        let with_space = format!("{before} {after}");
        domain[index] = &with_space;
        let params = ChallengeParams { domain: &domain, ..ChallengeParams::new("r", "n") };
        prop_assert_eq!(params.write(&mut out), Err(FormatError::InvalidDomain));
        prop_assert_eq!(&out, "prefix");
    }

    /// 5. The parsers never panic, whatever the bytes, and point errors inside the input.
    #[test]
    fn parsers_never_panic(input in parser_input(), limits in limits()) {
        oracle::check_parsers(&input, limits).map_err(TestCaseError::fail)?;
    }

    /// 5b. Whatever parses and can be written again (text values, a known algorithm) is
    /// written, parsed again to the same values, and written again to the same text.
    #[test]
    fn parsed_headers_round_trip(input in parser_input()) {
        oracle::round_trip(&input).map_err(TestCaseError::fail)?;
    }

    /// 6. A value written by a formatter unescapes to exactly its bytes, and its raw form has
    /// every `"` escaped.
    #[test]
    fn escaping_is_symmetric(realm in text(), nonce in text(), opaque in text()) {
        let value = ChallengeParams {
            opaque: Some(&opaque),
            ..ChallengeParams::new(&realm, &nonce)
        }
        .to_header_value()?;
        let parsed = DigestChallenge::parse(value.as_bytes())?;
        for (got, sent) in [(parsed.realm(), &realm), (parsed.nonce(), &nonce)]
            .into_iter()
            .chain(parsed.opaque().map(|o| (o, &opaque)))
        {
            prop_assert_eq!(&*got.unescaped(), sent.as_bytes());
            oracle::check_no_unescaped_quote(got.raw()).map_err(TestCaseError::fail)?;
            let expected_raw = escaped(sent);
            prop_assert_eq!(got.raw(), expected_raw.as_bytes());
        }
    }
}

/// The empty `Authentication-Info` (all parameters `None`) is written as an empty string and
/// read back as an `AuthenticationInfo` with nothing in it.
#[test]
fn empty_authentication_info() {
    let value = AuthenticationInfoParams::default()
        .to_header_value()
        .unwrap();
    assert_eq!(value, "");
    let info = AuthenticationInfo::parse(b"").unwrap();
    assert!(info.nextnonce().is_none());
    assert!(info.qop().is_none());
    assert!(info.rspauth().is_none());
    assert!(info.cnonce().is_none());
    assert!(info.nc().is_none());
    assert_eq!(info.params().count(), 0);
}
