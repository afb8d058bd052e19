//! Domain vocabulary of the custody registry, made only through validating `parse` functions.
//!
//! Everything that enters a log entry passes through these types, so a malformed hash, an unknown
//! state or a time without zone can never be written. Errors name the field, in a form the error
//! layer turns into French and English.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::i18n::Message;
use crate::t;
use time::format_description::well_known::Rfc3339;

/// A value refused for a field: which field, and what is wrong with it (a catalogue message
/// such as `t!("field-too-long")`).
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("invalid field `{field}`: {}", reason.en())]
pub struct FieldError {
    /// The field's name as the caller sent it (`seal_number`, `to_user`…).
    pub field: &'static str,
    /// What is wrong, in the catalogue's words.
    pub reason: Message,
}

impl FieldError {
    /// `field` is refused for `reason`.
    pub fn new(field: &'static str, reason: Message) -> Self {
        Self { field, reason }
    }

    /// The whole message: "Invalid field `x`: reason."
    pub fn message(&self) -> Message {
        t!("error-invalid-field", field = self.field).nested("reason", self.reason.clone())
    }
}

macro_rules! string_enum {
    ($(#[$doc:meta])* $name:ident, $field:literal, { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name { $(#[doc = concat!("Written `", $text, "`.")] #[serde(rename = $text)] $variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// The value's text, as entries and the API write it.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
            /// The value written `s`; anything else is refused for the field, naming the values
            /// allowed.
            pub fn parse(s: &str) -> Result<Self, FieldError> {
                match s { $($text => Ok($name::$variant),)+ _ => Err(FieldError::new($field, t!("field-one-of", values = concat!($($text, " "),+).trim_end()))) }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(self.as_str()) }
        }
    };
}

string_enum!(
    /// The Conseil de l'Entente member states.
    Jurisdiction, "jurisdiction", { Benin => "BJ", BurkinaFaso => "BF", CoteDIvoire => "CI", Niger => "NE", Togo => "TG" }
);

string_enum!(
    /// What a user does on the node; the access policies decide by it.
    Role, "role", {
    Investigator => "investigator",
    Prosecutor => "prosecutor",
    LabAnalyst => "lab_analyst",
    Auditor => "auditor",
    Admin => "admin",
    Dpo => "dpo",
});

string_enum!(
    /// Why personal data is read (purpose limitation); stated on every such read and logged.
    Purpose, "purpose", {
    Investigation => "investigation",
    Prosecution => "prosecution",
    Prevention => "prevention",
    ForensicAnalysis => "forensic_analysis",
    Oversight => "oversight",
});

string_enum!(
    /// Handling codes a sender attaches to a shared case: H0 crime prevention only, H1 not for
    /// court without consent, H2 no onward sharing, H3 other conditions (stated in text).
    HandlingCode, "handling", { H0 => "H0", H1 => "H1", H2 => "H2", H3 => "H3" }
);

string_enum!(
    /// How a person is linked to a case; part of the sealed value, never in the log in clear.
    PersonRole, "role", {
    Suspect => "suspect",
    Victim => "victim",
    Witness => "witness",
    OfficerContact => "officer_contact",
});

string_enum!(
    /// Data categories of the vault, each with its own retention period per state.
    DataCategory, "category", {
    Suspect => "person.suspect",
    Victim => "person.victim",
    Witness => "person.witness",
    OfficerContact => "person.officer_contact",
    CaseText => "case_text",
});

impl DataCategory {
    /// The vault's data category for a person's data, by their role in the case.
    pub fn of_person(role: PersonRole) -> Self {
        match role {
            PersonRole::Suspect => DataCategory::Suspect,
            PersonRole::Victim => DataCategory::Victim,
            PersonRole::Witness => DataCategory::Witness,
            PersonRole::OfficerContact => DataCategory::OfficerContact,
        }
    }
}

string_enum!(
    /// What an evidence item is.
    EvidenceKind, "kind", {
    Device => "device",
    StorageMedium => "storage_medium",
    ForensicImage => "forensic_image",
    File => "file",
    MemoryCapture => "memory_capture",
    CloudExport => "cloud_export",
    Document => "document",
    Other => "other",
});

string_enum!(
    /// Custody events that can be recorded on an item after its registration (DESIGN §3).
    CustodyEventType, "type", {
    Sealed => "sealed",
    Acquired => "acquired",
    Copied => "copied",
    Transferred => "transferred",
    TransferCancelled => "transfer_cancelled",
    Received => "received",
    Stored => "stored",
    Examined => "examined",
    IntegrityChecked => "integrity_checked",
    SharedExternally => "shared_externally",
    PreservationRequested => "preservation_requested",
    Returned => "returned",
    Destroyed => "destroyed",
    Corrected => "corrected",
});

string_enum!(
    /// Whether an integrity check found the item's registered SHA-256.
    IntegrityResult, "result", { Match => "match", Mismatch => "mismatch" }
);

impl Jurisdiction {
    /// The state an agency id such as `tg.police.dcpj` belongs to.
    pub fn from_agency_id(id: &str) -> Option<Self> {
        let prefix = id.split('.').next()?.to_ascii_uppercase();
        Self::parse(&prefix).ok()
    }
}

/// A lowercase hex digest of a fixed length.
fn parse_hex_digest(field: &'static str, s: &str, len: usize) -> Result<String, FieldError> {
    if s.len() != len {
        return Err(FieldError::new(field, t!("field-digest-length")));
    }
    if !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(FieldError::new(field, t!("field-not-hex")));
    }
    Ok(s.to_ascii_lowercase())
}

/// A SHA-256 digest: 64 hex digits, returned lowercase.
pub fn parse_sha256(field: &'static str, s: &str) -> Result<String, FieldError> {
    parse_hex_digest(field, s, 64)
}

/// A SHA-512 digest: 128 hex digits, returned lowercase.
pub fn parse_sha512(s: &str) -> Result<String, FieldError> {
    parse_hex_digest("sha512", s, 128)
}

/// A SHA-1 digest: 40 hex digits, returned lowercase.
pub fn parse_sha1(s: &str) -> Result<String, FieldError> {
    parse_hex_digest("sha1", s, 40)
}

/// An MD5 digest: 32 hex digits, returned lowercase.
pub fn parse_md5(s: &str) -> Result<String, FieldError> {
    parse_hex_digest("md5", s, 32)
}

/// Identifier-like text (references, exhibit and seal numbers, agency ids): printable, no spaces,
/// in Unicode's compatibility form (NFKC: a fullwidth `Ｐ-1` is `P-1`), in one script (a Cyrillic
/// `Р` among Latin letters reads as a `P` and is refused), with ASCII digits only (Arabic-Indic
/// digits read as others). A label that looks like another of its case is refused by the use
/// case ([`label_skeleton`]).
pub fn parse_label(field: &'static str, s: &str, max: usize) -> Result<String, FieldError> {
    use unicode_normalization::UnicodeNormalization as _;
    use unicode_security::MixedScript as _;
    let normalized: String = s.trim().nfkc().collect();
    let s = normalized.as_str();
    if s.is_empty() {
        return Err(FieldError::new(field, t!("field-empty")));
    }
    if s.chars().count() > max {
        return Err(FieldError::new(field, t!("field-too-long")));
    }
    if !s
        .chars()
        .all(|c| c.is_alphanumeric() || "-_./:#°".contains(c))
    {
        return Err(FieldError::new(field, t!("field-label-characters")));
    }
    if s.chars().any(|c| c.is_numeric() && !c.is_ascii_digit()) {
        return Err(FieldError::new(field, t!("field-label-digits")));
    }
    if !s.is_single_script() {
        return Err(FieldError::new(field, t!("field-label-scripts")));
    }
    Ok(s.to_owned())
}

/// What a label looks like (Unicode TR 39's skeleton, case folded): two labels with the same
/// skeleton read as the same to a person, whatever their code points.
pub fn label_skeleton(label: &str) -> String {
    unicode_security::skeleton(&label.to_lowercase())
        .collect::<String>()
        .to_lowercase()
}

/// Bidirectional controls (U+061C, U+200E–U+200F, U+202A–U+202E, U+2066–U+2069): they make a text
/// display in another order than it is stored, so a reader sees what was not written.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Short human text (offence, legal basis, tool names): no control characters.
pub fn parse_text(field: &'static str, s: &str, max: usize) -> Result<String, FieldError> {
    let s = s.trim();
    if s.is_empty() {
        return Err(FieldError::new(field, t!("field-empty")));
    }
    if s.chars().count() > max {
        return Err(FieldError::new(field, t!("field-too-long")));
    }
    if s.chars().any(|c| c.is_control() && c != '\n') {
        return Err(FieldError::new(field, t!("field-control-characters")));
    }
    if s.chars().any(is_bidi_control) {
        return Err(FieldError::new(field, t!("field-bidi-controls")));
    }
    Ok(s.to_owned())
}

/// A point in time with its zone, as the officer recorded it (RFC 3339), not before 1970. The
/// offset is kept.
pub fn parse_zoned_time(field: &'static str, s: &str) -> Result<String, FieldError> {
    let t = OffsetDateTime::parse(s, &Rfc3339)
        .map_err(|_| FieldError::new(field, t!("field-not-rfc3339")))?;
    if t.unix_timestamp() < 0 {
        return Err(FieldError::new(field, t!("field-before-1970")));
    }
    t.format(&Rfc3339)
        .map_err(|_| FieldError::new(field, t!("field-unrepresentable")))
}

/// Largest size we accept: JCS numbers are doubles, so stay exact.
pub const MAX_SIZE_BYTES: u64 = (1 << 53) - 1;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_parse_and_reject() {
        assert_eq!(Jurisdiction::parse("TG"), Ok(Jurisdiction::Togo));
        assert!(Jurisdiction::parse("FR").is_err());
        assert_eq!(
            Jurisdiction::from_agency_id("ci.lab.regional"),
            Some(Jurisdiction::CoteDIvoire)
        );
        assert_eq!(Jurisdiction::from_agency_id("fr.police"), None);
        assert_eq!(
            CustodyEventType::parse("integrity_checked"),
            Ok(CustodyEventType::IntegrityChecked)
        );
        assert!(Role::parse("root").is_err());
    }

    #[test]
    fn digests_and_labels() {
        let h = "AB".repeat(32);
        assert_eq!(parse_sha256("sha256", &h).unwrap(), "ab".repeat(32));
        assert!(parse_sha256("sha256", "zz").is_err());
        assert!(parse_sha256("sha256", &"g".repeat(64)).is_err());
        assert!(parse_md5(&"0".repeat(31)).is_err());
        assert_eq!(
            parse_label("seal_number", " S-2026/001 ", 64).unwrap(),
            "S-2026/001"
        );
        assert!(parse_label("seal_number", "a b", 64).is_err());
        assert!(parse_label("seal_number", "", 64).is_err());
        assert!(parse_text("offence", "x\u{0}", 10).is_err());
    }

    #[test]
    fn zoned_times_keep_their_offset() {
        assert_eq!(
            parse_zoned_time("at", "2026-03-01T14:05:00+01:00").unwrap(),
            "2026-03-01T14:05:00+01:00"
        );
        assert!(parse_zoned_time("at", "2026-03-01 14:05").is_err());
        assert!(parse_zoned_time("at", "2026-03-01T14:05:00").is_err());
    }

    #[test]
    fn labels_are_normalized_and_refused_when_they_mislead() {
        assert_eq!(parse_label("seal", "Ｐ-１", 64).unwrap(), "P-1");
        assert_eq!(parse_label("seal", "PIÈCE-1", 64).unwrap(), "PIÈCE-1");
        // A Cyrillic Р among Latin letters, Arabic-Indic digits: refused.
        assert!(parse_label("reference", "TG-DCPJ-\u{0420}-1", 64).is_err());
        assert!(parse_label("seal", "S-\u{0662}\u{0660}\u{0662}\u{0666}", 64).is_err());
        // A label wholly in Cyrillic is one script; it reads as its Latin twin.
        let cyrillic = parse_label("exhibit", "\u{0420}-1", 64).unwrap();
        assert_eq!(label_skeleton(&cyrillic), label_skeleton("P-1"));
        assert_ne!(label_skeleton("P-1"), label_skeleton("P-2"));
    }

    #[test]
    fn texts_refuse_bidirectional_controls() {
        assert!(parse_text("reason", "saisie \u{202E}ecnatsissa", 100).is_err());
        assert!(parse_text("reason", "\u{2067}x", 100).is_err());
        assert_eq!(
            parse_text("reason", "à Lomé, n° 3", 100).unwrap(),
            "à Lomé, n° 3"
        );
    }
}
