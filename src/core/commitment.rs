//! Commitments to personal data and free text (DESIGN §4).
//!
//! The log never holds such values in clear: it holds HMAC-SHA256(salt, JCS(value)) under a
//! per-record random salt. Whoever is given the value and the salt can check it against the log;
//! erasing the salt and value leaves the log verifiable and the value unrecoverable.

use openssl::pkey::PKey;
use openssl::sign::Signer;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::jcs;

pub const SALT_LEN: usize = 32;

/// What an entry holds in place of a free-text value: the vault record and the commitment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Commitment {
    pub record: String,
    pub hmac: String,
}

#[derive(Debug, thiserror::Error)]
pub enum CommitmentError {
    #[error("cannot canonicalize the committed value: {0}")]
    Canonical(#[from] jcs::JcsError),
    #[error("cryptography failure: {0}")]
    Crypto(#[from] openssl::error::ErrorStack),
}

pub fn commit(salt: &[u8], value: &Value) -> Result<[u8; 32], CommitmentError> {
    let key = PKey::hmac(salt)?;
    let mut signer = Signer::new(openssl::hash::MessageDigest::sha256(), &key)?;
    signer.update(&jcs::canonicalize(value)?)?;
    let mut out = [0u8; 32];
    signer.sign(&mut out)?;
    Ok(out)
}

/// Checks an opening (value and salt) against a commitment, in constant time.
pub fn verify_opening(commitment_hex: &str, salt: &[u8], value: &Value) -> bool {
    let Ok(expected) = hex::decode(commitment_hex) else {
        return false;
    };
    commit(salt, value).is_ok_and(|c| expected.len() == 32 && openssl::memcmp::eq(&c, &expected))
}

pub fn random_salt() -> Result<[u8; SALT_LEN], CommitmentError> {
    let mut salt = [0u8; SALT_LEN];
    openssl::rand::rand_bytes(&mut salt)?;
    Ok(salt)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4231_case_2_hmac_and_openings() {
        // RFC 4231 test case 2: key "Jefe"; our message is the JCS form of the string value.
        let key = PKey::hmac(b"Jefe").unwrap();
        let mut s = Signer::new(openssl::hash::MessageDigest::sha256(), &key).unwrap();
        s.update(b"what do ya want for nothing?").unwrap();
        assert_eq!(
            hex::encode(s.sign_to_vec().unwrap()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let salt = random_salt().unwrap();
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
