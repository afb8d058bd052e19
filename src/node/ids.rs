//! Fresh ids for cases, items, events and records, and random secrets.

use crate::error::ServiceError;

/// `N` bytes from the CSPRNG.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], ServiceError> {
    super::random::bytes().map_err(|e| ServiceError::Internal(e.to_string()))
}

/// A fresh id for cases, items, events and records: a UUID version 7 (RFC 9562), 48 bits of
/// Unix milliseconds then 74 random bits. Ids made one after the other sort together, so the
/// database indexes grow at their end instead of dirtying a random page per insert.
pub fn new_id() -> Result<String, ServiceError> {
    let mut b: [u8; 16] = random_bytes()?;
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    b[..6].copy_from_slice(&millis.to_be_bytes()[2..]);
    b[6] = (b[6] & 0x0f) | 0x70;
    b[8] = (b[8] & 0x3f) | 0x80;
    // 8-4-4-4-12 lowercase hex digits, written in place (every write builds ids: `format!`
    // over `hex::encode` cost as much as sealing the record they name).
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut id = String::with_capacity(36);
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            id.push('-');
        }
        id.push(char::from(DIGITS[usize::from(byte >> 4)]));
        id.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::new_id;

    #[test]
    fn ids_have_the_shape_of_uuid_v7() {
        let id = new_id().unwrap();
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
        assert!(new_id().unwrap() > id);
        assert_ne!(new_id().unwrap(), id);
    }
}
