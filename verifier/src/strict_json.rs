//! The JSON a verifier accepts in a dossier (docs/FORMAT.md §4), the same in `scelle verify` and
//! in `tools/verify_dossier.py`: two readers of one file must never see two different dossiers.
//! serde_json alone keeps the last of duplicate members, reads `12000.0` and integers beyond 64
//! bits as floating point, and accepts a byte order mark's absence and presence alike; so before
//! the dossier is read, this pass refuses all of that.

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use std::collections::HashSet;
use std::fmt;

/// Objects and arrays nest at most this deep.
pub const MAX_DEPTH: usize = 64;

/// Checks that `bytes` is one JSON value in UTF-8 without a byte order mark, with no duplicate
/// member in any object, no number but an integer in [-2^63, 2^64-1] (`-0` is not one), no lone
/// surrogate, and no
/// nesting deeper than [`MAX_DEPTH`]; the reason otherwise.
pub fn check(bytes: &[u8]) -> Result<(), String> {
    if bytes.starts_with(&[0xef, 0xbb, 0xbf]) {
        return Err("byte order mark".into());
    }
    let mut reader = serde_json::Deserializer::from_slice(bytes);
    Strict { depth: 1 }
        .deserialize(&mut reader)
        .and_then(|()| reader.end())
        .map_err(|e| e.to_string())
}

/// Visits one value at `depth`, refusing what [`check`] refuses.
struct Strict {
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for Strict {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl Strict {
    fn inner<E: de::Error>(&self) -> Result<Strict, E> {
        if self.depth > MAX_DEPTH {
            return Err(E::custom(format!("nested deeper than {MAX_DEPTH}")));
        }
        Ok(Strict {
            depth: self.depth + 1,
        })
    }
}

impl<'de> Visitor<'de> for Strict {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("strict JSON")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, n: f64) -> Result<(), E> {
        Err(E::custom(format!(
            "{n} is not an integer in [-2^63, 2^64-1]"
        )))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(self.inner()?)?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut names = HashSet::new();
        while let Some(name) = map.next_key::<String>()? {
            if !names.insert(name.clone()) {
                return Err(de::Error::custom(format!("duplicate member `{name}`")));
            }
            map.next_value_seed(self.inner()?)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_two_readers_could_read_differently_is_refused() {
        for ok in [
            &b"{\"a\":[1,-2,18446744073709551615,-9223372036854775808,\"x\\u00e9\",null,true]}"[..],
            b" {\"a\":{\"b\":{}}} \n",
        ] {
            assert_eq!(check(ok), Ok(()), "{}", String::from_utf8_lossy(ok));
        }
        for bad in [
            &b"{\"a\":1,\"a\":1}"[..],
            b"{\"a\":{\"b\":1,\"b\":2}}",
            b"[12000.0]",
            b"[1e2]",
            b"[18446744073709551616]",
            b"[-9223372036854775809]",
            b"[NaN]",
            b"[-0]",
            b"\xef\xbb\xbf{}",
            b"[\"\\ud800\"]",
            b"{} x",
            b"{}{}",
            b"[\"\xff\"]",
        ] {
            assert!(check(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
        let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert_eq!(check(deep(MAX_DEPTH).as_bytes()), Ok(()));
        assert!(check(deep(MAX_DEPTH + 1).as_bytes()).is_err());
        assert!(check(deep(100_000).as_bytes()).is_err());
    }
}
