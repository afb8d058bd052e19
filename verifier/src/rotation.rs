//! A node's key rotation, as its peers are told of it: a signed statement naming the old and the
//! new checkpoint key of one log, signed by both (the old key vouches for the new one, the new
//! one proves it is held). Peers that trust the old key add the new one beside it; past
//! checkpoints, receipts and dossiers keep verifying under the old key.
//!
//! The statement is a C2SP signed note whose text is
//! `scelle-key-rotation/v1\n<origin>\nold <old vkey>\nnew <new vkey>\n`.

use crate::note::{NoteError, NoteSigner, NoteVerifier, parse_note};

const HEADER: &str = "scelle-key-rotation/v1";

/// Why a rotation statement was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RotationError {
    /// Not a statement of this form.
    #[error("not a key rotation statement: {0}")]
    Malformed(&'static str),
    /// The old key named is not one the reader trusts for that log.
    #[error("the statement's old key is not a key trusted for {0}")]
    OldKeyNotTrusted(String),
    /// A signature (by the old key or the new one) is missing or does not verify.
    #[error("signature: {0}")]
    Signature(NoteError),
}

/// The statement `signer` (the current key, with the next one beside it) publishes.
pub fn statement(signer: &NoteSigner) -> Result<String, NoteError> {
    let new = signer
        .next_verifier_key_string()
        .ok_or(NoteError::MalformedKey)?;
    let text = format!(
        "{HEADER}\n{}\nold {}\nnew {new}\n",
        signer.name(),
        signer.verifier_key_string()
    );
    // The signer holds both keys: the note carries both signatures.
    signer.sign_note(&text)
}

/// Checks a statement against the keys the reader trusts for logs (`trusted`): the old key it
/// names is one of them, and both the old and the new key signed it. Answers the new key.
pub fn open(note: &str, trusted: &[NoteVerifier]) -> Result<NoteVerifier, RotationError> {
    let text = parse_note(note).map_err(RotationError::Signature)?.text;
    let mut lines = text.split('\n');
    let (Some(HEADER), Some(origin), Some(old), Some(new), Some(""), None) = (
        lines.next(),
        lines.next(),
        lines.next(),
        lines.next(),
        lines.next(),
        lines.next(),
    ) else {
        return Err(RotationError::Malformed("lines"));
    };
    let old = old
        .strip_prefix("old ")
        .ok_or(RotationError::Malformed("old key"))?;
    let new = new
        .strip_prefix("new ")
        .ok_or(RotationError::Malformed("new key"))?;
    let old = NoteVerifier::from_verifier_key(old).map_err(RotationError::Signature)?;
    let new = NoteVerifier::from_verifier_key(new).map_err(RotationError::Signature)?;
    if old.name() != origin || new.name() != origin || old.public_key() == new.public_key() {
        return Err(RotationError::Malformed("keys"));
    }
    if !trusted
        .iter()
        .any(|k| k.name() == origin && k.public_key() == old.public_key())
    {
        return Err(RotationError::OldKeyNotTrusted(origin.to_owned()));
    }
    old.open(note).map_err(RotationError::Signature)?;
    new.open(note).map_err(RotationError::Signature)?;
    Ok(new)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rotating() -> (NoteSigner, NoteVerifier, NoteVerifier) {
        let old = NoteSigner::generate("bj.police.ocrc/scelle").unwrap();
        let next = NoteSigner::generate("bj.police.ocrc/scelle").unwrap();
        let (old_v, next_v) = (old.verifier().unwrap(), next.verifier().unwrap());
        (old.with_next(next).unwrap(), old_v, next_v)
    }

    #[test]
    fn a_statement_signed_by_both_keys_gives_the_new_one_to_who_trusts_the_old() {
        let (signer, old, new) = rotating();
        let note = statement(&signer).unwrap();
        assert_eq!(
            open(&note, std::slice::from_ref(&old))
                .unwrap()
                .key_string(),
            new.key_string()
        );
        // Someone who does not trust the old key learns nothing from it.
        let stranger = NoteSigner::generate("bj.police.ocrc/scelle").unwrap();
        assert!(matches!(
            open(&note, &[stranger.verifier().unwrap()]),
            Err(RotationError::OldKeyNotTrusted(_))
        ));
        // During the overlap every note carries both signatures: either key opens it.
        let checkpoint = signer
            .sign_note("bj.police.ocrc/scelle\n3\nAAAA\n")
            .unwrap();
        assert!(old.open(&checkpoint).is_ok() && new.open(&checkpoint).is_ok());
    }

    #[test]
    fn a_statement_missing_the_new_keys_signature_or_altered_is_refused() {
        let (signer, old, _) = rotating();
        let note = statement(&signer).unwrap();
        // Only the old key's line: the new key is not shown to be held.
        let only_old: String = note.lines().take(6).map(|l| format!("{l}\n")).collect();
        assert!(matches!(
            open(&only_old, std::slice::from_ref(&old)),
            Err(RotationError::Signature(NoteError::NotSignedBy(_)))
        ));
        // Another new key written in: no signature of it holds.
        let other = NoteSigner::generate("bj.police.ocrc/scelle").unwrap();
        let new_line = format!("new {}", signer.next_verifier_key_string().unwrap());
        let swapped = note.replace(&new_line, &format!("new {}", other.verifier_key_string()));
        assert!(open(&swapped, std::slice::from_ref(&old)).is_err());
        // A signer without a next key has nothing to state.
        assert!(statement(&other).is_err());
    }
}
