//! Reading Digest header values in tests, by hand: the parser here is deliberately not the
//! core's, so that a test does not judge the core's output with the core's own reading.

use std::collections::HashMap;

/// The parameters of a `Digest ...` challenge or credentials value (quoted strings
/// unescaped), names in lower case. Panics on a value that is not `Digest` or whose quoted
/// string does not end.
pub fn params(value: &str) -> HashMap<String, String> {
    let rest = value
        .strip_prefix("Digest ")
        .unwrap_or_else(|| panic!("not a Digest value: {value}"));
    let mut out = HashMap::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let mut name = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' {
                break;
            }
            name.push(c);
            chars.next();
        }
        if name.is_empty() {
            return out;
        }
        assert_eq!(chars.next(), Some('='), "{value}");
        let mut text = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    Some('\\') => text.push(chars.next().unwrap()),
                    Some('"') => break,
                    Some(c) => text.push(c),
                    None => panic!("unterminated quoted string in {value}"),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' {
                    break;
                }
                text.push(c);
                chars.next();
            }
        }
        out.insert(name.trim().to_ascii_lowercase(), text.trim().to_owned());
    }
}

/// The `nc` of a `Digest ...` credentials value, as a number (panics without one).
pub fn nc_of(value: &str) -> u32 {
    u32::from_str_radix(&params(value)["nc"], 16).unwrap()
}

/// FNV-1a, 64 bits, in hex: how the test server reports the body it received.
pub fn fnv(data: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in data {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// `len` bytes that are not all one value.
pub fn payload(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}
