//! Any text as a signed note, a checkpoint body and a verifier key: no panic, and no note opens
//! under a key that did not sign it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scelle_verifier::note::{self, Checkpoint, NoteVerifier};

/// The Go `sumdb/note` test vector's public key (`note_test.go`).
const PETER_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = note::parse_note(text);
    let _ = Checkpoint::parse_body(text);
    let _ = note::parse_decimal(text);
    let _ = NoteVerifier::from_verifier_key(text);
    let Ok(key) = NoteVerifier::from_verifier_key(PETER_VKEY) else {
        return;
    };
    if let Ok(opened) = key.open(text) {
        // Only the published vector's text is signed by this key.
        assert!(opened.starts_with("If you think cryptography"), "forged: {opened:?}");
    }
    let _ = Checkpoint::open(text, &key, "PeterNeumann");
});
