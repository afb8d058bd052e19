//! The canonical writer of RFC 8785 for a parsed JSON value: members sorted by their UTF-16
//! code units, numbers in ECMAScript's shortest form (§3.2.2.3), strings with the minimal escapes
//! (§3.2.2.2). The serde path (`direct`) shares its number and string writers.

use serde_json::Value;
use std::fmt::Write as _;

/// A value that has no canonical form.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JcsError {
    /// A number that is not a finite IEEE 754 double.
    #[error("JSON numbers must be finite (RFC 8785 §3.2.2.3)")]
    NonFiniteNumber,
    /// A value serde cannot write as JSON (e.g. a map key that is not a string).
    #[error("value cannot be represented as JSON: {0}")]
    NotJson(String),
    /// Input that does not parse as JSON.
    #[error("input is not valid JSON: {0}")]
    Parse(String),
}

pub(super) fn write_value(out: &mut String, value: &Value) -> Result<(), JcsError> {
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

pub(super) fn write_number(out: &mut String, n: &serde_json::Number) -> Result<(), JcsError> {
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
pub(super) fn write_double(out: &mut String, f: f64) -> Result<(), JcsError> {
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

pub(super) fn write_string(out: &mut String, s: &str) {
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
