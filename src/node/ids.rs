//! Fresh ids for cases, items, events and records, and random secrets.

use rand::RngCore as _;

/// `N` bytes from the thread's CSPRNG (rand's `ThreadRng`: ChaCha12 seeded and periodically
/// reseeded from the operating system). Salts, nonces, data keys and token secrets come from
/// here; asking OpenSSL for each of the half-dozen small values an append needs cost about 2 µs
/// of locking per call (docs/PERFORMANCE.md).
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    rand::rng().fill_bytes(&mut out);
    out
}

/// A fresh id: a UUID version 7 (RFC 9562), 48 bits of Unix milliseconds then random bits, in
/// lowercase hyphenated form. Ids made one after the other sort together, so the database
/// indexes grow at their end instead of dirtying a random page per insert.
pub fn new_id() -> String {
    let mut buffer = uuid::Uuid::encode_buffer();
    uuid::Uuid::now_v7()
        .hyphenated()
        .encode_lower(&mut buffer)
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_the_shape_of_uuid_v7_and_sort_by_time() {
        let id = new_id();
        assert_eq!(id.len(), 36);
        // 8-4-4-4-12 lowercase hex digits (RFC 9562 §4).
        for (i, c) in id.chars().enumerate() {
            if matches!(i, 8 | 13 | 18 | 23) {
                assert_eq!(c, '-', "{id}");
            } else {
                assert!(matches!(c, '0'..='9' | 'a'..='f'), "{id}");
            }
        }
        assert_eq!(&id[14..15], "7");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"), "{id}");
        // Version 7: the first 48 bits are the Unix time in milliseconds, so ids sort by time.
        let millis = u64::from_str_radix(&id[..8], 16).unwrap() << 16
            | u64::from_str_radix(&id[9..13], 16).unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        assert!(now.abs_diff(millis) < 60_000, "{id}");
        std::thread::sleep(std::time::Duration::from_millis(2));
        assert!(new_id() > id);
        assert_ne!(new_id(), id);
    }

    #[test]
    fn random_values_do_not_repeat_across_threads() {
        let draw = || (0..4096).map(|_| random_bytes::<16>()).collect::<Vec<_>>();
        let other = std::thread::spawn(draw);
        let mut seen = std::collections::HashSet::new();
        for value in draw().into_iter().chain(other.join().unwrap()) {
            assert!(seen.insert(value), "a 128-bit random value repeated");
        }
        assert_eq!(seen.len(), 2 * 4096);
    }
}
