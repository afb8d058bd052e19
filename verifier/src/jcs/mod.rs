//! RFC 8785 JSON Canonicalization Scheme (JCS).
//!
//! Every log entry is stored and hashed in this exact form, so that anyone with a JCS library can
//! re-derive the bytes we hash. We own this code rather than pull a crate because the bytes are
//! the root of trust: it is tested against the RFC's own examples and number vectors.

use serde::Serialize;
use serde_json::Value;
use std::fmt::Write as _;

mod direct;
mod value;

pub use value::JcsError;
use value::{write_double, write_string, write_value};

/// Serializes any serde value to its canonical bytes.
pub fn to_canonical_bytes<T: Serialize>(value: &T) -> Result<Vec<u8>, JcsError> {
    let value = serde_json::to_value(value).map_err(|e| JcsError::NotJson(e.to_string()))?;
    canonicalize(&value)
}

/// Canonical bytes of a parsed JSON value.
pub fn canonicalize(value: &Value) -> Result<Vec<u8>, JcsError> {
    let mut out = String::with_capacity(256);
    write_value(&mut out, value)?;
    Ok(out.into_bytes())
}

/// Parses arbitrary JSON text and returns its canonical form.
pub fn canonicalize_text(text: &[u8]) -> Result<Vec<u8>, JcsError> {
    let value: Value = serde_json::from_slice(text).map_err(|e| JcsError::Parse(e.to_string()))?;
    canonicalize(&value)
}

/// True when `bytes` are exactly the canonical form of the JSON they hold.
pub fn is_canonical(bytes: &[u8]) -> bool {
    canonicalize_text(bytes).is_ok_and(|c| c == bytes)
}

/// Appends the canonical form of `value` to `out` (for callers that assemble an object from
/// members canonicalized at different times, such as `entry::PreparedEntry`).
pub fn push_value(out: &mut String, value: &Value) -> Result<(), JcsError> {
    write_value(out, value)
}

/// Appends the canonical form of any serde value, as `serde_json::to_value` then `push_value`
/// would, in one pass (see `direct`). Map keys must be strings, chars or integers.
pub fn push_serialized<T: Serialize + ?Sized>(out: &mut String, value: &T) -> Result<(), JcsError> {
    direct::push(out, value)
}

/// Appends a JSON string in canonical form (RFC 8785 §3.2.2.2).
pub fn push_string(out: &mut String, s: &str) {
    write_string(out, s)
}

/// Appends an unsigned integer in canonical form: its digits up to 2^53, beyond which JCS
/// numbers are IEEE-754 doubles.
pub fn push_u64(out: &mut String, u: u64) {
    const EXACT: u64 = 1 << 53;
    if u <= EXACT {
        let _ = write!(out, "{u}");
    } else {
        // A u64 converts to a finite double, so this cannot fail.
        let _ = write_double(out, u as f64);
    }
}

/// Appends `bytes` as a JSON string of lowercase hexadecimal: digits and `a`–`f` need no
/// escaping, so this is its canonical form.
pub fn push_hex_string(out: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    out.reserve(bytes.len() * 2 + 2);
    out.push('"');
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn number(bits: u64) -> Result<String, JcsError> {
        let mut s = String::new();
        write_double(&mut s, f64::from_bits(bits)).map(|_| s)
    }

    /// The direct writers give what canonicalizing the same `Value` gives.
    #[test]
    fn direct_writers_agree_with_values() {
        let through_value = |value: Value| {
            let mut out = String::new();
            push_value(&mut out, &value).unwrap();
            out
        };
        for u in [
            0,
            1,
            9,
            10,
            12_345,
            (1 << 53) - 1,
            1 << 53,
            (1 << 53) + 1,
            u64::MAX,
        ] {
            let mut out = String::new();
            push_u64(&mut out, u);
            assert_eq!(out, through_value(Value::from(u)), "{u}");
        }
        let bytes: Vec<u8> = (0..=255).collect();
        let mut out = String::new();
        push_hex_string(&mut out, &bytes);
        assert_eq!(out, through_value(Value::from(hex::encode(&bytes))));
        for text in ["2026-12-03T09:00:00.123456Z", "", "é\"\\\u{1}\u{7f}"] {
            let mut out = String::new();
            push_string(&mut out, text);
            assert_eq!(out, through_value(Value::from(text)), "{text:?}");
        }
    }

    /// RFC 8785 Appendix B: IEEE-754 bit patterns and their canonical text.
    #[test]
    fn rfc8785_appendix_b_numbers() {
        let vectors: &[(u64, &str)] = &[
            (0x0000000000000000, "0"),
            (0x8000000000000000, "0"),
            (0x0000000000000001, "5e-324"),
            (0x8000000000000001, "-5e-324"),
            (0x7fefffffffffffff, "1.7976931348623157e+308"),
            (0xffefffffffffffff, "-1.7976931348623157e+308"),
            (0x4340000000000000, "9007199254740992"),
            (0xc340000000000000, "-9007199254740992"),
            (0x4430000000000000, "295147905179352830000"),
            (0x44b52d02c7e14af5, "9.999999999999997e+22"),
            (0x44b52d02c7e14af6, "1e+23"),
            (0x44b52d02c7e14af7, "1.0000000000000001e+23"),
            (0x444b1ae4d6e2ef4e, "999999999999999700000"),
            (0x444b1ae4d6e2ef4f, "999999999999999900000"),
            (0x444b1ae4d6e2ef50, "1e+21"),
            (0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"),
            (0x3eb0c6f7a0b5ed8d, "0.000001"),
            (0x41b3de4355555553, "333333333.3333332"),
            (0x41b3de4355555554, "333333333.33333325"),
            (0x41b3de4355555555, "333333333.3333333"),
            (0x41b3de4355555556, "333333333.3333334"),
            (0x41b3de4355555557, "333333333.33333343"),
            (0xbecbf647612f3696, "-0.0000033333333333333333"),
            (0x43143ff3c1cb0959, "1424953923781206.2"),
        ];
        for (bits, want) in vectors {
            assert_eq!(number(*bits).as_deref(), Ok(*want), "bits {bits:#018x}");
        }
        assert_eq!(number(0x7fffffffffffffff), Err(JcsError::NonFiniteNumber));
        assert_eq!(number(0x7ff0000000000000), Err(JcsError::NonFiniteNumber));
    }

    /// RFC 8785 §3.2.2: the worked example of the whole transformation.
    #[test]
    fn rfc8785_section_3_2_2_example() {
        let input = br#"{
  "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
  "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
  "literals": [null, true, false]
}"#;
        let want = "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,4.5,0.002,1e-27],\"string\":\"\u{20ac}$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}";
        let got = canonicalize_text(input).unwrap();
        assert_eq!(String::from_utf8(got).unwrap(), want);
    }

    /// RFC 8785 §3.2.3: property sorting by UTF-16 code units, not by code points or bytes.
    #[test]
    fn rfc8785_section_3_2_3_sorting() {
        let input = r#"{
  "\u20ac": "Euro Sign",
  "\r": "Carriage Return",
  "\ufb33": "Hebrew Letter Dalet With Dagesh",
  "1": "One",
  "\ud83d\ude00": "Emoji: Grinning Face",
  "\u0080": "Control",
  "\u00f6": "Latin Small Letter O With Diaeresis"
}"#;
        let got = String::from_utf8(canonicalize_text(input.as_bytes()).unwrap()).unwrap();
        let order = [
            "Carriage",
            "One",
            "Control",
            "Diaeresis",
            "Euro",
            "Emoji",
            "Hebrew",
        ];
        let positions: Vec<usize> = order.iter().map(|w| got.find(w).unwrap()).collect();
        assert!(positions.windows(2).all(|p| p[0] < p[1]), "{got}");
    }

    #[test]
    fn canonical_detection_and_integers() {
        assert!(is_canonical(br#"{"a":1,"b":[true,"x"]}"#));
        assert!(!is_canonical(br#"{"b":1,"a":2}"#));
        assert!(!is_canonical(br#"{"a": 1}"#));
        assert!(!is_canonical(br#"{"a":1.0}"#));
        assert!(!is_canonical(b"not json"));
        let big = canonicalize_text(b"[18446744073709551615, -9007199254740993]").unwrap();
        assert_eq!(big, b"[18446744073709552000,-9007199254740992]");
        let control = canonicalize(&Value::String("\u{1f}\u{7f}\u{2028}".into())).unwrap();
        assert_eq!(control, "\"\\u001f\u{7f}\u{2028}\"".as_bytes());
    }

    /// Strings of every kind of character: controls, quotes, backslashes, and characters of
    /// one to four UTF-8 bytes, drawn by a fixed xorshift so a failure can be replayed.
    fn mixed_strings() -> Vec<String> {
        const ALPHABET: [char; 16] = [
            'a', 'Z', '0', ' ', '"', '\\', '/', '\u{0}', '\u{8}', '\n', '\u{1f}', '\u{7f}', 'é',
            '€', '\u{fb33}', '😀',
        ];
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut strings: Vec<String> = (0u8..0x20).map(|b| char::from(b).to_string()).collect();
        for _ in 0..2_000 {
            let len = (next() % 12) as usize;
            strings.push(
                (0..len)
                    .map(|_| ALPHABET[(next() % ALPHABET.len() as u64) as usize])
                    .collect(),
            );
        }
        strings
    }

    /// serde_json escapes strings exactly as RFC 8785 §3.2.2.2 asks (the five short forms,
    /// other controls as lower-case `\\u00xx`, nothing else): an independent oracle.
    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        for s in mixed_strings() {
            let mut ours = String::new();
            write_string(&mut ours, &s);
            let theirs = serde_json::to_string(&s).unwrap_or_default();
            assert_eq!(ours, theirs, "{s:?}");
        }
    }
}
