//! RFC 8785 JSON Canonicalization Scheme (JCS).
//!
//! Every log entry is stored and hashed in this exact form, so that anyone with a JCS library can
//! re-derive the bytes we hash. We own this code rather than pull a crate because the bytes are
//! the root of trust: it is tested against the RFC's own examples and number vectors.

use serde::Serialize;
use serde_json::Value;
use std::fmt::Write as _;

mod direct;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JcsError {
    #[error("JSON numbers must be finite (RFC 8785 §3.2.2.3)")]
    NonFiniteNumber,
    #[error("value cannot be represented as JSON: {0}")]
    NotJson(String),
    #[error("input is not valid JSON: {0}")]
    Parse(String),
}

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

fn write_value(out: &mut String, value: &Value) -> Result<(), JcsError> {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => write_number(out, n)?,
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item)?;
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            // RFC 8785 §3.2.3: sort by the UTF-16 code units of the keys.
            entries.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, key);
                out.push(':');
                write_value(out, item)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

fn write_number(out: &mut String, n: &serde_json::Number) -> Result<(), JcsError> {
    const EXACT: u64 = 1 << 53;
    if let Some(u) = n.as_u64()
        && u <= EXACT
    {
        let _ = write!(out, "{u}");
        return Ok(());
    }
    if let Some(i) = n.as_i64()
        && i.unsigned_abs() <= EXACT
    {
        let _ = write!(out, "{i}");
        return Ok(());
    }
    // JCS numbers are IEEE-754 doubles; larger integers are rounded like any JSON parser does.
    let f = n.as_f64().ok_or(JcsError::NonFiniteNumber)?;
    write_double(out, f)
}

/// ECMAScript `Number.prototype.toString` for finite doubles (ECMA-262 §7.1.12.1).
fn write_double(out: &mut String, f: f64) -> Result<(), JcsError> {
    if !f.is_finite() {
        return Err(JcsError::NonFiniteNumber);
    }
    if f == 0.0 {
        out.push('0');
        return Ok(());
    }
    if f < 0.0 {
        out.push('-');
    }
    // Rust's `{:e}` yields the shortest digits that round-trip, as ECMAScript requires.
    let sci = format!("{:e}", f.abs());
    let (mantissa, exponent) = sci.split_once('e').ok_or(JcsError::NonFiniteNumber)?;
    let exponent: i32 = exponent.parse().map_err(|_| JcsError::NonFiniteNumber)?;
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let digits = break_tie_to_even(f.abs(), digits, exponent);
    let k = digits.len() as i32;
    let n = exponent + 1;
    if k <= n && n <= 21 {
        out.push_str(&digits);
        out.extend(std::iter::repeat_n('0', (n - k) as usize));
    } else if 0 < n && n <= 21 {
        out.push_str(&digits[..n as usize]);
        out.push('.');
        out.push_str(&digits[n as usize..]);
    } else if -6 < n && n <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-n) as usize));
        out.push_str(&digits);
    } else {
        out.push_str(&digits[..1]);
        if k > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if n > 0 { '+' } else { '-' });
        let _ = write!(out, "{}", (n - 1).abs());
    }
    Ok(())
}

/// ECMAScript breaks a tie between two equally near shortest candidates towards the even digit;
/// Rust's formatter does not. A tie means the exact value of the double, past the shortest
/// digits, is exactly one half: checked on its full decimal expansion (finite for any double).
fn break_tie_to_even(abs: f64, digits: String, exponent: i32) -> String {
    let exact = format!("{abs:.1100e}");
    let Some((mantissa, exact_exponent)) = exact.split_once('e') else {
        return digits;
    };
    if exact_exponent.parse::<i32>().ok() != Some(exponent) {
        return digits;
    }
    let exact_digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let k = digits.len();
    let rest = exact_digits.get(k..).unwrap_or("");
    let is_half = rest.starts_with('5') && rest[1..].bytes().all(|b| b == b'0');
    if !is_half {
        return digits;
    }
    let truncated = &exact_digits[..k];
    let last_even = |d: &str| {
        d.bytes()
            .last()
            .is_some_and(|b| (b - b'0').is_multiple_of(2))
    };
    if digits != truncated && last_even(truncated) {
        // Rust rounded up to an odd digit; the even candidate below must still round-trip.
        if format!("{truncated}e{}", exponent - k as i32 + 1)
            .parse::<f64>()
            .ok()
            == Some(abs)
        {
            return truncated.to_owned();
        }
    }
    digits
}

fn write_string(out: &mut String, s: &str) {
    // Runs of characters that need no escape are copied whole; only `"`, `\\` and the controls
    // below U+0020 are escaped (RFC 8785 §3.2.2.2, as ECMAScript's `JSON.stringify`). Scanning
    // bytes is exact: every byte of a multi-byte UTF-8 character is 0x80 or above.
    let needs_escape = |byte: u8| byte < 0x20 || byte == b'"' || byte == b'\\';
    out.reserve(s.len() + 2);
    out.push('"');
    // Most strings (ids, hashes, times, keys) need none: one pass with no early exit, which the
    // compiler vectorizes, then a single copy.
    if !s.bytes().fold(false, |any, byte| any | needs_escape(byte)) {
        out.push_str(s);
        out.push('"');
        return;
    }
    let mut run_start = 0;
    for (i, byte) in s.bytes().enumerate() {
        let escape = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            0x08 => "\\b",
            0x09 => "\\t",
            0x0A => "\\n",
            0x0C => "\\f",
            0x0D => "\\r",
            0x00..=0x1F => "",
            _ => continue,
        };
        out.push_str(&s[run_start..i]);
        if escape.is_empty() {
            let _ = write!(out, "\\u{byte:04x}");
        } else {
            out.push_str(escape);
        }
        run_start = i + 1;
    }
    out.push_str(&s[run_start..]);
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
