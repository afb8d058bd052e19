//! Any bytes through the strict reader and the RFC 8785 canonicalizer: no panic; what the
//! canonicalizer writes is canonical and canonicalizes to itself; what the strict reader accepts
//! serde_json reads.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scelle_verifier::{jcs, strict_json};

fuzz_target!(|data: &[u8]| {
    if strict_json::check(data).is_ok() {
        assert!(serde_json::from_slice::<serde_json::Value>(data).is_ok());
    }
    if let Ok(canonical) = jcs::canonicalize_text(data) {
        assert!(jcs::is_canonical(&canonical), "canonical form is not canonical");
        assert_eq!(jcs::canonicalize_text(&canonical).ok().as_deref(), Some(&canonical[..]));
    }
    let _ = scelle_verifier::entry::Entry::parse(data);
});
