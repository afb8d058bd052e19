//! Any bytes as a dossier file, verified as `scelle verify` does: no panic, whether against the
//! key the dossier names (so a mutant of a real dossier goes through every check) or against a
//! key that signed no dossier (then nothing verifies).
#![no_main]

use libfuzzer_sys::fuzz_target;
use scelle_verifier::dossier::{self, Dossier};
use scelle_verifier::note::NoteVerifier;

/// The Go `sumdb/note` test vector's public key (`note_test.go`): it signed no dossier.
const PETER_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";

fuzz_target!(|data: &[u8]| {
    if scelle_verifier::strict_json::check(data).is_err() {
        return;
    }
    let Ok(d) = serde_json::from_slice::<Dossier>(data) else {
        return;
    };
    if let Ok(own) = NoteVerifier::from_verifier_key(&d.verifier_key) {
        let report = dossier::verify(&d, &[own], &[]);
        let _ = scelle_verifier::offline::text_report(&report);
        let _ = scelle_verifier::offline::json_report(&report);
    }
    if let Ok(stranger) = NoteVerifier::from_verifier_key(PETER_VKEY) {
        let report = dossier::verify(&d, &[stranger], &[]);
        assert!(!report.ok, "a dossier verified under a key that signed none");
    }
});
