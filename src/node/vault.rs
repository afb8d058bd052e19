//! The personal-data vault's encryption (DESIGN §4): each record (the commitment's salt and the
//! value) sealed with AES-256-GCM under its own random data key, and that key wrapped with the
//! node's vault key, kept in a file beside the signing key (mode 0600), never in the database.
//!
//! Erasure deletes the sealed record and its wrapped key: without them the value cannot be
//! recovered, even by whoever holds the vault key, while the log's commitment still verifies.

use openssl::cipher::{Cipher, CipherRef};
use openssl::cipher_ctx::CipherCtx;
use std::path::Path;
use std::sync::LazyLock;

use crate::storage::registry::SealedRow;
use scelle_verifier::model::DataCategory;

use crate::error::ServiceError;

/// The vault key's file in the data directory, beside the signing key.
pub const VAULT_KEY_FILE: &str = "vault.key";
const NONCE: usize = 12;
const TAG: usize = 16;

/// The node's key-wrapping key.
pub struct VaultKey {
    key: [u8; 32],
}

fn crypto(e: impl std::fmt::Display) -> ServiceError {
    ServiceError::Internal(format!("vault cryptography: {e}"))
}

fn random<const N: usize>() -> [u8; N] {
    super::ids::random_bytes()
}

/// AES-256-GCM, looked up in OpenSSL's provider once: naming the cipher on every call made
/// OpenSSL 3 search its providers (under a global lock) for each record sealed.
fn aes_256_gcm() -> Result<&'static CipherRef, ServiceError> {
    static FETCHED: LazyLock<Result<Cipher, String>> =
        LazyLock::new(|| Cipher::fetch(None, "AES-256-GCM", None).map_err(|e| e.to_string()));
    match &*FETCHED {
        Ok(cipher) => Ok(cipher),
        Err(e) => Err(crypto(e)),
    }
}

/// `nonce ‖ ciphertext ‖ tag` of `plain` under `key`, bound to `aad`.
fn seal_with(key: &[u8; 32], aad: &[u8], plain: &[u8]) -> Result<Vec<u8>, ServiceError> {
    let nonce: [u8; NONCE] = random();
    let mut ctx = CipherCtx::new().map_err(crypto)?;
    ctx.encrypt_init(Some(aes_256_gcm()?), Some(key), Some(&nonce))
        .map_err(crypto)?;
    let mut out = Vec::with_capacity(NONCE + plain.len() + TAG);
    out.extend_from_slice(&nonce);
    ctx.cipher_update(aad, None).map_err(crypto)?;
    ctx.cipher_update_vec(plain, &mut out).map_err(crypto)?;
    ctx.cipher_final_vec(&mut out).map_err(crypto)?;
    let mut tag = [0u8; TAG];
    ctx.tag(&mut tag).map_err(crypto)?;
    out.extend_from_slice(&tag);
    Ok(out)
}

fn open_with(key: &[u8; 32], aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, ServiceError> {
    if sealed.len() < NONCE + TAG {
        return Err(crypto("sealed record too short"));
    }
    let (nonce, rest) = sealed.split_at(NONCE);
    let (ct, tag) = rest.split_at(rest.len() - TAG);
    let mut ctx = CipherCtx::new().map_err(crypto)?;
    ctx.decrypt_init(Some(aes_256_gcm()?), Some(key), Some(nonce))
        .map_err(crypto)?;
    ctx.set_tag(tag).map_err(crypto)?;
    ctx.cipher_update(aad, None).map_err(crypto)?;
    let mut out = Vec::with_capacity(ct.len() + TAG);
    ctx.cipher_update_vec(ct, &mut out).map_err(crypto)?;
    // The tag is checked here: a changed byte, another key or another record's id fails.
    ctx.cipher_final_vec(&mut out).map_err(crypto)?;
    Ok(out)
}

impl VaultKey {
    fn new(key: [u8; 32]) -> Self {
        Self { key }
    }

    /// A key for another purpose (e.g. signing session cookies), derived from the vault key
    /// with HMAC-SHA256 under a label, so the node keeps one secret file for its data.
    pub fn derive(&self, label: &[u8]) -> Result<[u8; 32], ServiceError> {
        scelle_verifier::commitment::hmac_sha256(&self.key, &[label]).map_err(crypto)
    }

    /// Reads the vault key of `data_dir`, creating it (mode 0600) if there is none yet.
    pub fn load_or_create(data_dir: &Path) -> Result<Self, ServiceError> {
        let path = data_dir.join(VAULT_KEY_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let key: [u8; 32] = hex::decode(text.trim())
                    .ok()
                    .and_then(|k| k.try_into().ok())
                    .ok_or_else(|| {
                        ServiceError::Internal(format!(
                            "vault key {} is not 64 hex digits",
                            path.display()
                        ))
                    })?;
                Ok(Self::new(key))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key: [u8; 32] = random();
                super::files::write_private_file(&path, &(hex::encode(key) + "\n"))?;
                Ok(Self::new(key))
            }
            Err(e) => Err(ServiceError::Internal(format!(
                "cannot read vault key {}: {e}",
                path.display()
            ))),
        }
    }

    /// Seals a record: a fresh data key encrypts salt and value; the vault key wraps the data key.
    pub fn seal(
        &self,
        id: &str,
        salt: &[u8],
        value: &str,
        created_at: String,
        case_id: Option<String>,
        category: DataCategory,
    ) -> Result<SealedRow, ServiceError> {
        let data_key: [u8; 32] = random();
        let mut plain = Vec::with_capacity(salt.len() + value.len() + 1);
        plain.push(salt.len() as u8);
        plain.extend_from_slice(salt);
        plain.extend_from_slice(value.as_bytes());
        let sealed = seal_with(&data_key, id.as_bytes(), &plain)?;
        let wrapped_key = seal_with(&self.key, id.as_bytes(), &data_key)?;
        Ok(SealedRow {
            id: id.to_owned(),
            sealed,
            wrapped_key,
            created_at,
            case_id,
            category: category.as_str().to_owned(),
        })
    }

    /// The salt and value of a sealed record.
    pub fn open(&self, row: &SealedRow) -> Result<(Vec<u8>, String), ServiceError> {
        let data_key: [u8; 32] = open_with(&self.key, row.id.as_bytes(), &row.wrapped_key)?
            .try_into()
            .map_err(|_| crypto("wrapped key has the wrong length"))?;
        let plain = open_with(&data_key, row.id.as_bytes(), &row.sealed)?;
        let (&salt_len, rest) = plain.split_first().ok_or_else(|| crypto("empty record"))?;
        if rest.len() < salt_len as usize {
            return Err(crypto("record shorter than its salt"));
        }
        let (salt, value) = rest.split_at(salt_len as usize);
        let value = String::from_utf8(value.to_vec()).map_err(crypto)?;
        Ok((salt.to_vec(), value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_opens_and_refuses_tampering_or_another_record() {
        let dir = tempfile::tempdir().unwrap();
        let key = VaultKey::load_or_create(dir.path()).unwrap();
        let again = VaultKey::load_or_create(dir.path()).unwrap();
        assert_eq!(key.key, again.key);
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(dir.path().join(VAULT_KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let row = key
            .seal(
                "r1",
                &[7; 32],
                "Kossi A., Lomé",
                "t".into(),
                None,
                DataCategory::CaseText,
            )
            .unwrap();
        assert!(!row.sealed.windows(5).any(|w| w == b"Kossi"));
        assert_eq!(
            key.open(&row).unwrap(),
            (vec![7; 32], "Kossi A., Lomé".into())
        );
        // The format is plain AES-256-GCM, `nonce ‖ ciphertext ‖ tag`, bound to the record id:
        // OpenSSL's one-shot API, used independently here, opens the wrapped key.
        let (nonce, rest) = row.wrapped_key.split_at(NONCE);
        let (ct, tag) = rest.split_at(rest.len() - TAG);
        let data_key = openssl::symm::decrypt_aead(
            openssl::symm::Cipher::aes_256_gcm(),
            &key.key,
            Some(nonce),
            b"r1",
            ct,
            tag,
        )
        .unwrap();
        assert_eq!(data_key.len(), 32);
        let mut moved = row.clone();
        moved.id = "r2".into();
        assert!(key.open(&moved).is_err(), "a record is bound to its id");
        let mut flipped = row.clone();
        flipped.sealed[NONCE] ^= 1;
        assert!(key.open(&flipped).is_err());
        let other = VaultKey::load_or_create(tempfile::tempdir().unwrap().path()).unwrap();
        assert!(other.open(&row).is_err());
    }

    /// Records sealed in turn under two vault keys: each is sealed under its own data key and
    /// wrapped under its own vault key.
    #[test]
    fn a_thread_sealing_under_two_vault_keys_wraps_each_record_under_its_own() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let first = VaultKey::load_or_create(a.path()).unwrap();
        let second = VaultKey::load_or_create(b.path()).unwrap();
        let mut sealed = Vec::new();
        for i in 0..40u8 {
            // Runs of each key, and switches on every record, in turn.
            let key = if (i / 4) % 2 == 0 || i >= 24 && i % 2 == 0 {
                &first
            } else {
                &second
            };
            let value = format!("valeur {i}");
            let row = key
                .seal(
                    &format!("r{i}"),
                    &[i; 32],
                    &value,
                    "t".into(),
                    None,
                    DataCategory::CaseText,
                )
                .unwrap();
            sealed.push((std::ptr::eq(key, &first), row, value));
        }
        let mut data_keys = std::collections::HashSet::new();
        for (under_first, row, value) in &sealed {
            let (own, foreign) = if *under_first {
                (&first, &second)
            } else {
                (&second, &first)
            };
            let (salt, opened) = own.open(row).unwrap();
            assert_eq!((&opened, salt.len()), (value, 32));
            assert!(
                foreign.open(row).is_err(),
                "{} opened by the other key",
                row.id
            );
            let data_key = open_with(&own.key, row.id.as_bytes(), &row.wrapped_key).unwrap();
            assert!(data_keys.insert(data_key), "a data key used twice");
        }
        // The same record sealed twice gets fresh nonces and keys: nothing repeats.
        let again = first
            .seal(
                "r0",
                &[0; 32],
                "valeur 0",
                "t".into(),
                None,
                DataCategory::CaseText,
            )
            .unwrap();
        assert_ne!(again.sealed, sealed[0].1.sealed);
        assert_ne!(again.wrapped_key, sealed[0].1.wrapped_key);
    }
}
