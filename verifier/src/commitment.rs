//! Commitments to personal data and free text (DESIGN §4).
//!
//! The log never holds such values in clear: it holds HMAC-SHA256(salt, JCS(value)) under a
//! per-record random salt. Whoever is given the value and the salt can check it against the log;
//! erasing the salt and value leaves the log verifiable and the value unrecoverable.

use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::Sha256;

use crate::jcs;

/// Bytes of a commitment's random salt.
pub const SALT_LEN: usize = 32;

/// What an entry holds in place of a free-text value: the vault record and the commitment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Commitment {
    /// The vault record's id: where the value and its salt are kept.
    pub record: String,
    /// HMAC-SHA256(salt, JCS(value)), lowercase hex.
    pub hmac: String,
}

/// Why a commitment could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum CommitmentError {
    /// The value has no RFC 8785 canonical form.
    #[error("cannot canonicalize the committed value: {0}")]
    Canonical(#[from] jcs::JcsError),
    /// An OpenSSL failure.
    #[error("cryptography failure: {0}")]
    Crypto(#[from] openssl::error::ErrorStack),
    /// The HMAC refused the salt as its key.
    #[error("HMAC key refused: {0}")]
    Key(String),
}

/// HMAC-SHA256 (RFC 2104) of the concatenated `parts` under `key`. Pure Rust on `sha2`: through
/// OpenSSL 3 each MAC paid for a key object and a provider lookup, which cost more than the MAC.
pub fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> Result<[u8; 32], CommitmentError> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key)
        .map_err(|e| CommitmentError::Key(e.to_string()))?;
    for part in parts {
        mac.update(part);
    }
    Ok(mac.finalize().into_bytes().into())
}

/// The commitment to `value`: HMAC-SHA256 of its JCS form (RFC 8785) under `salt`.
pub fn commit(salt: &[u8], value: &Value) -> Result<[u8; 32], CommitmentError> {
    hmac_sha256(salt, &[&jcs::canonicalize(value)?])
}

/// Checks an opening (value and salt) against a commitment, in constant time.
pub fn verify_opening(commitment_hex: &str, salt: &[u8], value: &Value) -> bool {
    let Ok(expected) = hex::decode(commitment_hex) else {
        return false;
    };
    commit(salt, value).is_ok_and(|c| expected.len() == 32 && openssl::memcmp::eq(&c, &expected))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4231_hmac_and_openings() {
        // RFC 4231 test case 2 (key "Jefe"), split in parts; our message is the JCS form.
        assert_eq!(
            hex::encode(hmac_sha256(b"Jefe", &[b"what do ya ", b"want for nothing?"]).unwrap()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // Test case 6: a key longer than the block (hashed first).
        assert_eq!(
            hex::encode(
                hmac_sha256(
                    &[0xaa; 131],
                    &[b"Test Using Larger Than Block-Size Key - Hash Key First"]
                )
                .unwrap()
            ),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
        // And OpenSSL, independently, agrees on a commitment.
        let salt = [0x5a; 32];
        let value = Value::String("Kossi A., Lomé".into());
        let key = openssl::pkey::PKey::hmac(&salt).unwrap();
        let mut s =
            openssl::sign::Signer::new(openssl::hash::MessageDigest::sha256(), &key).unwrap();
        s.update(&jcs::canonicalize(&value).unwrap()).unwrap();
        assert_eq!(s.sign_to_vec().unwrap(), commit(&salt, &value).unwrap());
        let mut salt = [0u8; SALT_LEN];
        openssl::rand::rand_bytes(&mut salt).unwrap();
        let value = Value::String("Kossi A., Lomé".into());
        let c = hex::encode(commit(&salt, &value).unwrap());
        assert!(verify_opening(&c, &salt, &value));
        assert!(!verify_opening(
            &c,
            &salt,
            &Value::String("Kossi B., Lomé".into())
        ));
        assert!(!verify_opening(&c, &[0; 32], &value));
        assert!(!verify_opening("zz", &salt, &value));
    }
}
