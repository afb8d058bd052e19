//! C2SP tlog-cosignature v1: a witness's timestamped Ed25519 statement that a checkpoint is the
//! largest consistent tree it has seen of that log.
//!
//! The Entente's nodes cosign each other's checkpoints, and a recipient checks those cosignatures
//! with tools we did not write (Sigsum's, the transparency-dev stack), so the key ids, the signed
//! message and the signature line follow the spec byte for byte; `tests/api/network.rs` checks
//! them with `signed_note` and `ed25519-dalek`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use openssl::pkey::{PKey, Private, Public};

use crate::note::{
    NoteError, ParsedNote, check_note_text, parse_private_key, parse_verifier_key, typed_key_id,
    valid_name,
};

/// The signature type of a v1 cosignature key in a C2SP verifier key.
pub const ALG_COSIGNATURE_V1: u8 = 0x04;
/// The largest timestamp a v1 cosignature may carry (the spec: at most 2^63-1).
const MAX_TIMESTAMP: u64 = i64::MAX as u64;
/// A v1 cosignature after the key id: an 8-byte timestamp and a 64-byte Ed25519 signature.
const TIMESTAMPED_SIGNATURE_LEN: usize = 8 + 64;

/// The key id of a v1 cosignature key: SHA-256(name ‖ 0x0A ‖ 0x04 ‖ public key)[:4].
pub fn cosigner_key_id(name: &str, public_key: &[u8; 32]) -> [u8; 4] {
    typed_key_id(name, ALG_COSIGNATURE_V1, public_key)
}

/// What a v1 cosignature signs: the header, the time and the checkpoint's whole note text.
pub fn cosigned_message(time: u64, checkpoint_text: &str) -> String {
    format!("cosignature/v1\ntime {time}\n{checkpoint_text}")
}

/// A witness's signing key (a node cosigning its peers' checkpoints).
pub struct Cosigner {
    name: String,
    key: PKey<Private>,
    public: [u8; 32],
    id: [u8; 4],
}

impl std::fmt::Debug for Cosigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Cosigner({}+{})", self.name, hex::encode(self.id))
    }
}

impl Cosigner {
    /// A fresh Ed25519 witness key named `name`.
    pub fn generate(name: &str) -> Result<Self, NoteError> {
        if !valid_name(name) {
            return Err(NoteError::MalformedKey);
        }
        Self::from_key(name, PKey::generate_ed25519()?)
    }

    fn from_key(name: &str, key: PKey<Private>) -> Result<Self, NoteError> {
        let public: [u8; 32] = key
            .raw_public_key()?
            .try_into()
            .map_err(|_| NoteError::MalformedKey)?;
        Ok(Self {
            name: name.to_owned(),
            id: cosigner_key_id(name, &public),
            key,
            public,
        })
    }

    /// Parses `PRIVATE+KEY+<name>+<hex id>+<base64(0x04 || seed)>`.
    pub fn from_private_key_string(s: &str) -> Result<Self, NoteError> {
        let (name, id, key) = parse_private_key(s, ALG_COSIGNATURE_V1)?;
        let signer = Self::from_key(name, key)?;
        if signer.id != id {
            return Err(NoteError::KeyIdMismatch);
        }
        Ok(signer)
    }

    /// The key in C2SP form, a secret.
    pub fn private_key_string(&self) -> Result<String, NoteError> {
        let mut seed = vec![ALG_COSIGNATURE_V1];
        seed.extend(self.key.raw_private_key()?);
        Ok(format!(
            "PRIVATE+KEY+{}+{}+{}",
            self.name,
            hex::encode(self.id),
            B64.encode(seed)
        ))
    }

    /// The public verifier key, `<name>+<hex id>+<base64(0x04 || key)>`, for peers' policies.
    pub fn verifier_key_string(&self) -> String {
        let mut key = vec![ALG_COSIGNATURE_V1];
        key.extend_from_slice(&self.public);
        format!("{}+{}+{}", self.name, hex::encode(self.id), B64.encode(key))
    }

    /// The witness's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Cosigns a checkpoint's note text (signature lines excluded) at `time` (Unix seconds) and
    /// returns the signature line, `— <name> base64(key id ‖ time ‖ signature)` and a newline.
    pub fn cosign(&self, checkpoint_text: &str, time: u64) -> Result<String, NoteError> {
        check_note_text(checkpoint_text)?;
        if time > MAX_TIMESTAMP {
            return Err(NoteError::Malformed("timestamp above 2^63-1"));
        }
        let message = cosigned_message(time, checkpoint_text);
        let mut signer = openssl::sign::Signer::new_without_digest(&self.key)?;
        let signature = signer.sign_oneshot_to_vec(message.as_bytes())?;
        let mut blob = Vec::with_capacity(4 + TIMESTAMPED_SIGNATURE_LEN);
        blob.extend_from_slice(&self.id);
        blob.extend_from_slice(&time.to_be_bytes());
        blob.extend(signature);
        Ok(format!("\u{2014} {} {}\n", self.name, B64.encode(blob)))
    }
}

/// A witness's public key, from a C2SP verifier key of type 0x04.
#[derive(Clone)]
pub struct CosignerKey {
    name: String,
    id: [u8; 4],
    public: [u8; 32],
    key: PKey<Public>,
    key_string: String,
}

impl std::fmt::Debug for CosignerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.key_string)
    }
}

impl CosignerKey {
    /// Parses `<name>+<hex id>+<base64(0x04 || public key)>`.
    pub fn from_verifier_key(s: &str) -> Result<Self, NoteError> {
        let s = s.trim();
        let parsed = parse_verifier_key(s, ALG_COSIGNATURE_V1)?;
        Ok(Self {
            name: parsed.name.to_owned(),
            id: parsed.id,
            public: parsed.public,
            key: parsed.key,
            key_string: s.to_owned(),
        })
    }

    /// The witness's key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The raw Ed25519 public key (two verifier keys wrapping it are the same witness).
    pub fn public_key(&self) -> &[u8; 32] {
        &self.public
    }

    /// The verifier key string, as given (trimmed).
    pub fn key_string(&self) -> &str {
        &self.key_string
    }

    /// Finds this witness's cosignature among a note's signature lines and checks it; answers
    /// the time it was made. Lines of other keys are ignored, as the spec requires.
    pub fn verify_in(&self, note: &ParsedNote<'_>) -> Result<u64, NoteError> {
        // Every line of this key must verify (signed-note: a bad one fails the note, even
        // beside a good one); the newest time is the cosignature's.
        let mut newest = None;
        for sig in &note.signatures {
            if sig.name != self.name || sig.key_id != self.id {
                continue;
            }
            let time = self
                .verify_one(note.text, &sig.signature)?
                .ok_or_else(|| NoteError::BadSignature(self.key_string.clone()))?;
            newest = newest.max(Some(time));
        }
        newest.ok_or_else(|| NoteError::NotSignedBy(self.key_string.clone()))
    }

    /// Checks one timestamped signature (the signature line's bytes after the key id).
    fn verify_one(&self, text: &str, timestamped: &[u8]) -> Result<Option<u64>, NoteError> {
        if timestamped.len() != TIMESTAMPED_SIGNATURE_LEN {
            return Ok(None);
        }
        let (time, signature) = timestamped.split_at(8);
        let time = u64::from_be_bytes(time.try_into().map_err(|_| NoteError::MalformedKey)?);
        if time > MAX_TIMESTAMP {
            return Ok(None);
        }
        let message = cosigned_message(time, text);
        let mut verifier = openssl::sign::Verifier::new_without_digest(&self.key)?;
        Ok(verifier
            .verify_oneshot(signature, message.as_bytes())?
            .then_some(time))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::note::{NoteSigner, parse_note};
    use sha2::{Digest, Sha256};

    fn signed_checkpoint() -> (NoteSigner, String) {
        let log = NoteSigner::generate("bj.police.ocrc").unwrap();
        let note = log
            .sign_note("bj.police.ocrc\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n")
            .unwrap();
        (log, note)
    }

    #[test]
    fn a_cosignature_verifies_with_its_time_and_its_key_round_trips() {
        let (_, note) = signed_checkpoint();
        let witness = Cosigner::generate("tg.police.dcpj/witness").unwrap();
        let parsed = parse_note(&note).unwrap();
        let line = witness.cosign(parsed.text, 1_765_000_000).unwrap();
        let cosigned = format!("{note}{line}");
        let key = CosignerKey::from_verifier_key(&witness.verifier_key_string()).unwrap();
        assert_eq!(
            key.verify_in(&parse_note(&cosigned).unwrap()).unwrap(),
            1_765_000_000
        );
        let again =
            Cosigner::from_private_key_string(&witness.private_key_string().unwrap()).unwrap();
        assert_eq!(again.verifier_key_string(), witness.verifier_key_string());
    }

    #[test]
    fn another_time_another_text_or_a_log_key_do_not_verify() {
        let (log, note) = signed_checkpoint();
        let witness = Cosigner::generate("w").unwrap();
        let key = CosignerKey::from_verifier_key(&witness.verifier_key_string()).unwrap();
        let text = parse_note(&note).unwrap().text;
        let line = witness.cosign(text, 7).unwrap();
        // The time is signed: change it in the blob and the signature fails.
        let (head, b64) = line.trim_end().rsplit_once(' ').unwrap();
        let mut blob = B64.decode(b64).unwrap();
        blob[11] ^= 1;
        let forged = format!("{note}{head} {}\n", B64.encode(&blob));
        assert!(matches!(
            key.verify_in(&parse_note(&forged).unwrap()),
            Err(NoteError::BadSignature(_))
        ));
        // Another checkpoint's text.
        let other = log
            .sign_note("bj.police.ocrc\n6\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n")
            .unwrap();
        assert!(
            key.verify_in(&parse_note(&format!("{other}{line}")).unwrap())
                .is_err()
        );
        // A log key (type 0x01) is not a cosigner key, and the other way round.
        assert_eq!(
            CosignerKey::from_verifier_key(&log.verifier_key_string()).unwrap_err(),
            NoteError::UnsupportedAlgorithm
        );
        assert!(
            crate::note::NoteVerifier::from_verifier_key(&witness.verifier_key_string()).is_err()
        );
        // The log's own signature line is not a cosignature by this witness.
        assert!(matches!(
            key.verify_in(&parse_note(&note).unwrap()),
            Err(NoteError::NotSignedBy(_))
        ));
    }

    #[test]
    fn the_key_id_is_the_spec_hash_with_type_four() {
        let public = [7u8; 32];
        let mut h = Sha256::new();
        h.update(b"w\n\x04");
        h.update(public);
        assert_eq!(cosigner_key_id("w", &public), h.finalize()[..4]);
        assert_ne!(
            cosigner_key_id("w", &public),
            crate::note::key_id("w", &public)
        );
    }
}
