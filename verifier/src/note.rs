//! C2SP signed notes (Ed25519) and tlog-checkpoint bodies.
//!
//! Checkpoints must be checkable by tools we did not write (Go's `sumdb/note`, the transparency-dev
//! stack), so keys, key ids and the note layout follow C2SP signed-note exactly and are tested
//! against the Go package's published vectors. Keys live in openssl; the private key is stored in
//! the signed-note `PRIVATE+KEY+…` form.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use openssl::pkey::{Id, PKey, Private, Public};
use sha2::{Digest, Sha256};

use crate::merkle::Hash;

const ALG_ED25519: u8 = 0x01;
const MAX_SIGNATURES: usize = 100;

/// Why a key, a note or a checkpoint was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NoteError {
    /// A key string not in C2SP signed-note form.
    #[error("malformed key string")]
    MalformedKey,
    /// A key of another algorithm than Ed25519.
    #[error("unsupported signature algorithm")]
    UnsupportedAlgorithm,
    /// A key string whose key id does not match its name and public key.
    #[error("key id does not match the key")]
    KeyIdMismatch,
    /// A note that breaks the signed-note layout; says how.
    #[error("malformed note: {0}")]
    Malformed(&'static str),
    /// No signature line with the key's name and id; holds the verifier key.
    #[error("no signature by {0} on the note")]
    NotSignedBy(String),
    /// A signature line of the key that does not verify; holds the verifier key.
    #[error("invalid signature by {0}")]
    BadSignature(String),
    /// A note text that is not a tlog checkpoint; names the bad line.
    #[error("malformed checkpoint: {0}")]
    MalformedCheckpoint(&'static str),
    /// A checkpoint of another log than the one expected.
    #[error("checkpoint origin {found:?} is not the expected {expected:?}")]
    WrongOrigin {
        /// The origin expected.
        expected: String,
        /// The origin the checkpoint names.
        found: String,
    },
    /// An OpenSSL failure.
    #[error("cryptography failure: {0}")]
    Crypto(String),
}

impl From<openssl::error::ErrorStack> for NoteError {
    fn from(e: openssl::error::ErrorStack) -> Self {
        NoteError::Crypto(e.to_string())
    }
}

pub(crate) fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && !name.contains('+')
        && !name.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// C2SP signed-note key id: first 4 bytes of SHA-256(name || 0x0A || alg || public key).
pub fn key_id(name: &str, public_key: &[u8; 32]) -> [u8; 4] {
    typed_key_id(name, ALG_ED25519, public_key)
}

/// The key id of an Ed25519 key of signature type `alg` (0x01 a log's, 0x04 a witness's).
pub(crate) fn typed_key_id(name: &str, alg: u8, public_key: &[u8; 32]) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', alg]);
    h.update(public_key);
    let d = h.finalize();
    [d[0], d[1], d[2], d[3]]
}

/// The 32 bytes of key material of `<name>+<hex id>+<base64(alg || 32 bytes)>`, with its name
/// and stated id, refusing another length or signature type.
fn typed_key_material(s: &str, alg: u8) -> Result<(&str, [u8; 4], [u8; 32]), NoteError> {
    let (name, id, key) = split_key(s)?;
    if key.len() != 33 {
        return Err(NoteError::MalformedKey);
    }
    if key[0] != alg {
        return Err(NoteError::UnsupportedAlgorithm);
    }
    let material: [u8; 32] = key[1..].try_into().map_err(|_| NoteError::MalformedKey)?;
    Ok((name, id, material))
}

/// A C2SP verifier key, parsed (see [`parse_verifier_key`]).
pub(crate) struct ParsedVerifierKey<'a> {
    pub name: &'a str,
    pub id: [u8; 4],
    pub public: [u8; 32],
    pub key: PKey<Public>,
}

/// A C2SP verifier key of signature type `alg`, its id checked against its name and key.
pub(crate) fn parse_verifier_key(s: &str, alg: u8) -> Result<ParsedVerifierKey<'_>, NoteError> {
    let (name, id, public) = typed_key_material(s, alg)?;
    if typed_key_id(name, alg, &public) != id {
        return Err(NoteError::KeyIdMismatch);
    }
    Ok(ParsedVerifierKey {
        name,
        id,
        public,
        key: PKey::public_key_from_raw_bytes(&public, Id::ED25519)?,
    })
}

/// A C2SP private key `PRIVATE+KEY+<name>+<hex id>+<base64(alg || seed)>` of signature type
/// `alg`: its name, stated id (the caller checks it against the key) and openssl key.
pub(crate) fn parse_private_key(
    s: &str,
    alg: u8,
) -> Result<(&str, [u8; 4], PKey<Private>), NoteError> {
    let rest = s
        .trim_end()
        .strip_prefix("PRIVATE+KEY+")
        .ok_or(NoteError::MalformedKey)?;
    let (name, id, seed) = typed_key_material(rest, alg)?;
    Ok((
        name,
        id,
        PKey::private_key_from_raw_bytes(&seed, Id::ED25519)?,
    ))
}

/// A node's Ed25519 signing key, named by the log origin; during a key rotation, with the next
/// key beside it, and then every note carries both signatures (a verifier holding either key
/// accepts it).
pub struct NoteSigner {
    name: String,
    key: PKey<Private>,
    public: [u8; 32],
    id: [u8; 4],
    next: Option<Box<NoteSigner>>,
}

impl std::fmt::Debug for NoteSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NoteSigner({}+{})", self.name, hex::encode(self.id))
    }
}

impl NoteSigner {
    /// A fresh Ed25519 key named `name` (a log's origin).
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
            id: key_id(name, &public),
            key,
            public,
            next: None,
        })
    }

    /// This key with `next` signing beside it (a rotation's overlap). The next key must carry
    /// the same name: it signs the same log.
    pub fn with_next(mut self, next: NoteSigner) -> Result<Self, NoteError> {
        if next.name != self.name || next.next.is_some() {
            return Err(NoteError::MalformedKey);
        }
        self.next = Some(Box::new(next));
        Ok(self)
    }

    /// The next key's verifier key, while a rotation is under way.
    pub fn next_verifier_key_string(&self) -> Option<String> {
        self.next.as_ref().map(|n| n.verifier_key_string())
    }

    /// Parses `PRIVATE+KEY+<name>+<hex id>+<base64(0x01 || seed)>`.
    pub fn from_private_key_string(s: &str) -> Result<Self, NoteError> {
        let (name, id, key) = parse_private_key(s, ALG_ED25519)?;
        let signer = Self::from_key(name, key)?;
        if signer.id != id {
            return Err(NoteError::KeyIdMismatch);
        }
        Ok(signer)
    }

    /// The key in C2SP form, `PRIVATE+KEY+<name>+<hex id>+<base64>`: a secret.
    pub fn private_key_string(&self) -> Result<String, NoteError> {
        let mut seed = vec![ALG_ED25519];
        seed.extend(self.key.raw_private_key()?);
        Ok(format!(
            "PRIVATE+KEY+{}+{}+{}",
            self.name,
            hex::encode(self.id),
            B64.encode(seed)
        ))
    }

    /// The public verifier key in C2SP form, `<name>+<hex id>+<base64>`, to publish.
    pub fn verifier_key_string(&self) -> String {
        let mut key = vec![ALG_ED25519];
        key.extend_from_slice(&self.public);
        format!("{}+{}+{}", self.name, hex::encode(self.id), B64.encode(key))
    }

    /// A verifier of this key's signatures.
    pub fn verifier(&self) -> Result<NoteVerifier, NoteError> {
        NoteVerifier::from_verifier_key(&self.verifier_key_string())
    }

    /// The key's name (the log's origin, for a node's checkpoints).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The C2SP key id: the first 4 bytes of SHA-256 over name, algorithm and public key.
    pub fn key_id(&self) -> [u8; 4] {
        self.id
    }

    /// Signs `text` (which must end in a newline) and returns the whole signed note.
    pub fn sign_note(&self, text: &str) -> Result<String, NoteError> {
        self.session()?.sign_note(text)
    }

    /// A signing context kept for many notes: openssl's set-up of an Ed25519 context (looking up
    /// the algorithm, loading the key into it) costs more than a signature itself, so the
    /// sequencer, which signs a checkpoint for every batch, sets it up once.
    pub fn session(&self) -> Result<SigningSession<'_>, NoteError> {
        Ok(SigningSession {
            signer: self,
            context: openssl::sign::Signer::new_without_digest(&self.key)?,
            next: match &self.next {
                Some(next) => Some(openssl::sign::Signer::new_without_digest(&next.key)?),
                None => None,
            },
        })
    }
}

/// One openssl signing context of a [`NoteSigner`], reused note after note (Ed25519 is
/// deterministic: a note signed here is byte for byte the note `NoteSigner::sign_note` gives).
pub struct SigningSession<'a> {
    signer: &'a NoteSigner,
    context: openssl::sign::Signer<'a>,
    next: Option<openssl::sign::Signer<'a>>,
}

impl SigningSession<'_> {
    /// The name of the key (the log's origin, for a node's checkpoints).
    pub fn name(&self) -> &str {
        &self.signer.name
    }

    /// Signs `text` (which must end in a newline) and returns the whole signed note.
    pub fn sign_note(&mut self, text: &str) -> Result<String, NoteError> {
        check_note_text(text)?;
        let signature = self.context.sign_oneshot_to_vec(text.as_bytes())?;
        let mut blob = self.signer.id.to_vec();
        blob.extend(signature);
        let mut note = format!(
            "{text}\n\u{2014} {} {}\n",
            self.signer.name,
            B64.encode(blob)
        );
        if let (Some(context), Some(next)) = (self.next.as_mut(), self.signer.next.as_deref()) {
            let mut blob = next.id.to_vec();
            blob.extend(context.sign_oneshot_to_vec(text.as_bytes())?);
            note.push_str(&format!("\u{2014} {} {}\n", next.name, B64.encode(blob)));
        }
        Ok(note)
    }
}

fn split_key(s: &str) -> Result<(&str, [u8; 4], Vec<u8>), NoteError> {
    let mut parts = s.splitn(3, '+');
    let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(NoteError::MalformedKey);
    };
    if !valid_name(name)
        || id.len() != 8
        || !id
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    {
        return Err(NoteError::MalformedKey);
    }
    let id: [u8; 4] = hex::decode(id)
        .ok()
        .and_then(|v| v.try_into().ok())
        .ok_or(NoteError::MalformedKey)?;
    let key = B64.decode(key).map_err(|_| NoteError::MalformedKey)?;
    Ok((name, id, key))
}

pub(crate) fn check_note_text(text: &str) -> Result<(), NoteError> {
    if !text.ends_with('\n') {
        return Err(NoteError::Malformed("text must end with a newline"));
    }
    if text.contains("\n\n") || text.starts_with('\n') {
        return Err(NoteError::Malformed("text must not contain blank lines"));
    }
    if text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(NoteError::Malformed(
            "text must not contain control characters",
        ));
    }
    Ok(())
}

/// A trusted public key, parsed from a C2SP verifier-key string.
#[derive(Clone)]
pub struct NoteVerifier {
    name: String,
    id: [u8; 4],
    public: [u8; 32],
    key: PKey<Public>,
    key_string: String,
}

impl std::fmt::Debug for NoteVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.key_string)
    }
}

impl NoteVerifier {
    /// Parses a C2SP verifier key, `<name>+<hex id>+<base64(0x01 || public key)>`.
    pub fn from_verifier_key(s: &str) -> Result<Self, NoteError> {
        let s = s.trim();
        let parsed = parse_verifier_key(s, ALG_ED25519)?;
        Ok(Self {
            name: parsed.name.to_owned(),
            id: parsed.id,
            public: parsed.public,
            key: parsed.key,
            key_string: s.to_owned(),
        })
    }

    /// The key's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The raw Ed25519 public key (two verifier keys wrapping it are the same log).
    pub fn public_key(&self) -> &[u8; 32] {
        &self.public
    }

    /// The key id, 8 lowercase hex digits.
    pub fn key_id_hex(&self) -> String {
        hex::encode(self.id)
    }

    /// The verifier key string, as given (trimmed).
    pub fn key_string(&self) -> &str {
        &self.key_string
    }

    /// Opens a signed note and returns its text if it carries a valid signature by this key.
    pub fn open<'a>(&self, note: &'a str) -> Result<&'a str, NoteError> {
        let parsed = parse_note(note)?;
        // Every line of this key must verify (signed-note: a bad one fails the note, even
        // beside a good one).
        let mut found = false;
        for sig in &parsed.signatures {
            if sig.name != self.name || sig.key_id != self.id {
                continue;
            }
            found = true;
            let mut v = openssl::sign::Verifier::new_without_digest(&self.key)?;
            if !v.verify_oneshot(&sig.signature, parsed.text.as_bytes())? {
                return Err(NoteError::BadSignature(self.key_string.clone()));
            }
        }
        if found {
            Ok(parsed.text)
        } else {
            Err(NoteError::NotSignedBy(self.key_string.clone()))
        }
    }
}

/// One signature line of a note, not yet verified.
#[derive(Debug, PartialEq, Eq)]
pub struct NoteSignature {
    /// The signer's key name.
    pub name: String,
    /// The signer's key id.
    pub key_id: [u8; 4],
    /// The Ed25519 signature.
    pub signature: Vec<u8>,
}

/// A signed note split into its text and its signature lines.
#[derive(Debug)]
pub struct ParsedNote<'a> {
    /// The signed text, ending in a newline.
    pub text: &'a str,
    /// Its signatures, in order.
    pub signatures: Vec<NoteSignature>,
}

/// Splits a signed note into its text and signature lines (no verification).
pub fn parse_note(note: &str) -> Result<ParsedNote<'_>, NoteError> {
    let split = note
        .rfind("\n\n")
        .ok_or(NoteError::Malformed("no signature block"))?;
    let text = &note[..=split];
    check_note_text(text)?;
    let block = &note[split + 2..];
    if !block.ends_with('\n') {
        return Err(NoteError::Malformed(
            "signature block must end with a newline",
        ));
    }
    let mut signatures = Vec::new();
    for line in block[..block.len() - 1].split('\n') {
        let rest = line
            .strip_prefix("\u{2014} ")
            .ok_or(NoteError::Malformed("bad signature line"))?;
        let (name, b64) = rest
            .split_once(' ')
            .ok_or(NoteError::Malformed("bad signature line"))?;
        if !valid_name(name) {
            return Err(NoteError::Malformed("bad signer name"));
        }
        let blob = B64
            .decode(b64)
            .map_err(|_| NoteError::Malformed("bad signature encoding"))?;
        if blob.len() < 5 {
            return Err(NoteError::Malformed("signature too short"));
        }
        signatures.push(NoteSignature {
            name: name.to_owned(),
            key_id: [blob[0], blob[1], blob[2], blob[3]],
            signature: blob[4..].to_vec(),
        });
        if signatures.len() > MAX_SIGNATURES {
            return Err(NoteError::Malformed("too many signatures"));
        }
    }
    if signatures.is_empty() {
        return Err(NoteError::Malformed("no signatures"));
    }
    Ok(ParsedNote { text, signatures })
}

/// An unsigned decimal as C2SP writes numbers: ASCII digits, no sign, no leading zero, 64 bits.
pub fn parse_decimal(text: &str) -> Option<u64> {
    if text.is_empty()
        || (text.len() > 1 && text.starts_with('0'))
        || !text.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    text.parse().ok()
}

/// A C2SP tlog-checkpoint body: origin, tree size, root hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's origin.
    pub origin: String,
    /// Entries the tree covers.
    pub size: u64,
    /// The RFC 9162 root hash.
    pub root: Hash,
}

impl Checkpoint {
    /// The checkpoint's note text: origin, size and base64 root, one per line.
    pub fn body(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            B64.encode(self.root)
        )
    }

    /// Parses a checkpoint's note text, strictly (a size without leading zeros, a 32-byte root).
    pub fn parse_body(text: &str) -> Result<Self, NoteError> {
        let mut lines = text.split('\n');
        let origin = lines
            .next()
            .filter(|o| !o.is_empty())
            .ok_or(NoteError::MalformedCheckpoint("origin"))?;
        let size = lines
            .next()
            .and_then(parse_decimal)
            .ok_or(NoteError::MalformedCheckpoint("size"))?;
        let root = lines.next().ok_or(NoteError::MalformedCheckpoint("root"))?;
        let root: Hash = B64
            .decode(root)
            .ok()
            .and_then(|r| r.try_into().ok())
            .ok_or(NoteError::MalformedCheckpoint("root"))?;
        Ok(Self {
            origin: origin.to_owned(),
            size,
            root,
        })
    }

    /// The checkpoint signed as a C2SP note by `signer`.
    pub fn sign(&self, signer: &NoteSigner) -> Result<String, NoteError> {
        signer.sign_note(&self.body())
    }

    /// Signs with a context kept for many checkpoints (see [`NoteSigner::session`]).
    pub fn sign_in(&self, session: &mut SigningSession<'_>) -> Result<String, NoteError> {
        session.sign_note(&self.body())
    }

    /// Verifies a signed checkpoint note against a trusted key and the expected origin.
    pub fn open(note: &str, verifier: &NoteVerifier, origin: &str) -> Result<Self, NoteError> {
        let cp = Self::parse_body(verifier.open(note)?)?;
        if cp.origin != origin {
            return Err(NoteError::WrongOrigin {
                expected: origin.to_owned(),
                found: cp.origin,
            });
        }
        Ok(cp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Published vectors of golang.org/x/mod/sumdb/note (note_test.go).
    const PETER_SKEY: &str =
        "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
    const PETER_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    const ENOCH_VKEY: &str = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
    const TEXT: &str = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
    const PETER_SIG: &str = "\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
    const ENOCH_SIG: &str = "\u{2014} EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

    #[test]
    fn go_note_vectors_sign_and_verify() {
        let signer = NoteSigner::from_private_key_string(PETER_SKEY).unwrap();
        assert_eq!(signer.verifier_key_string(), PETER_VKEY);
        assert_eq!(signer.private_key_string().unwrap(), PETER_SKEY);
        let signed = signer.sign_note(TEXT).unwrap();
        assert_eq!(signed, format!("{TEXT}\n{PETER_SIG}"));

        let peter = NoteVerifier::from_verifier_key(PETER_VKEY).unwrap();
        let enoch = NoteVerifier::from_verifier_key(ENOCH_VKEY).unwrap();
        let both = format!("{TEXT}\n{PETER_SIG}{ENOCH_SIG}");
        assert_eq!(peter.open(&both).unwrap(), TEXT);
        assert_eq!(enoch.open(&both).unwrap(), TEXT);
        let tampered = both.replacen("problem,", "problem;", 1);
        assert!(matches!(
            peter.open(&tampered),
            Err(NoteError::BadSignature(_))
        ));
        let only_enoch = format!("{TEXT}\n{ENOCH_SIG}");
        assert!(matches!(
            peter.open(&only_enoch),
            Err(NoteError::NotSignedBy(_))
        ));
    }

    #[test]
    fn go_note_vectors_reject_mangled_keys() {
        assert!(
            NoteVerifier::from_verifier_key(
                "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY=="
            )
            .is_err()
        );
        assert!(
            NoteVerifier::from_verifier_key(
                "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
            )
            .is_err()
        );
        let mut bytes = PETER_VKEY.as_bytes().to_vec();
        for i in 0..bytes.len() {
            bytes[i] = bytes[i].wrapping_add(1);
            let s = String::from_utf8_lossy(&bytes).into_owned();
            assert!(NoteVerifier::from_verifier_key(&s).is_err(), "{s}");
            bytes[i] = bytes[i].wrapping_sub(1);
        }
        for cut in 1..PETER_SKEY.len() {
            assert!(NoteSigner::from_private_key_string(&PETER_SKEY[..cut]).is_err());
        }
    }

    #[test]
    fn go_note_vectors_malformed_notes() {
        let peter = NoteVerifier::from_verifier_key(PETER_VKEY).unwrap();
        let bad = [
            TEXT.to_string(),
            format!("{TEXT}\n"),
            format!("{TEXT}\n{}", &PETER_SIG[..PETER_SIG.len() - 1]),
            format!("\x01{TEXT}\n{PETER_SIG}"),
            format!(
                "{TEXT}\n\u{2014} Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="
            ),
            format!("{TEXT}\n{PETER_SIG}Unexpected line.\n"),
            format!("{TEXT}\n{}", PETER_SIG.repeat(101)),
        ];
        for note in bad {
            assert!(peter.open(&note).is_err(), "{note:?}");
        }
    }

    #[test]
    fn a_session_signs_note_after_note_as_a_fresh_context_does() {
        let signer = NoteSigner::generate("bj.police.ocrc/scelle").unwrap();
        let verifier = signer.verifier().unwrap();
        let mut session = signer.session().unwrap();
        for size in [1u64, 2, 3, 1_000_000] {
            let cp = Checkpoint {
                origin: "bj.police.ocrc/scelle".into(),
                size,
                root: [size as u8; 32],
            };
            let kept = cp.sign_in(&mut session).unwrap();
            assert_eq!(kept, cp.sign(&signer).unwrap());
            assert_eq!(
                Checkpoint::open(&kept, &verifier, "bj.police.ocrc/scelle").unwrap(),
                cp
            );
        }
        assert!(session.sign_note("no final newline").is_err());
        let after_refusal = session.sign_note("still signs\n").unwrap();
        assert_eq!(verifier.open(&after_refusal).unwrap(), "still signs\n");
    }

    #[test]
    fn checkpoint_round_trip() {
        let signer = NoteSigner::generate("tg.police.dcpj/scelle").unwrap();
        let cp = Checkpoint {
            origin: "tg.police.dcpj/scelle".into(),
            size: 42,
            root: [7; 32],
        };
        let note = cp.sign(&signer).unwrap();
        assert!(note.starts_with(
            "tg.police.dcpj/scelle\n42\nBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=\n\n\u{2014} "
        ));
        let verifier = signer.verifier().unwrap();
        assert_eq!(
            Checkpoint::open(&note, &verifier, "tg.police.dcpj/scelle").unwrap(),
            cp
        );
        assert!(matches!(
            Checkpoint::open(&note, &verifier, "other"),
            Err(NoteError::WrongOrigin { .. })
        ));
        let other = NoteSigner::generate("tg.police.dcpj/scelle")
            .unwrap()
            .verifier()
            .unwrap();
        assert!(Checkpoint::open(&note, &other, "tg.police.dcpj/scelle").is_err());
        for bad in ["o\n01\nAAAA\n", "o\nx\n", "o\n1\nnotbase64!\n", "\n1\n"] {
            assert!(Checkpoint::parse_body(bad).is_err(), "{bad:?}");
        }
    }
}
