//! The message catalogue covers the node: every key its code and templates name exists in French
//! and English, every command and argument of `scelle` has its help in both, every `forbid`
//! policy shipped has its reason in both, and clap's own errors come out in both languages.

use clap::CommandFactory as _;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use scelle_verifier::i18n::{Lang, text_by_key};

const BIN: &str = env!("CARGO_BIN_EXE_scelle");

fn has_both(key: &str) -> bool {
    Lang::ALL.iter().all(|l| text_by_key(*l, key).is_some())
}

#[test]
fn every_key_the_node_names_is_in_the_catalogue_in_both_languages() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut named = BTreeSet::new();
    scelle_verifier::i18n::keys_named_in(&root.join("src"), &mut named);
    scelle_verifier::i18n::keys_named_in(&root.join("templates"), &mut named);
    assert!(named.len() > 60, "the scan found only {} keys", named.len());
    let missing: Vec<_> = named.iter().filter(|k| !has_both(k)).collect();
    assert!(missing.is_empty(), "keys with no text: {missing:?}");
}

#[test]
fn every_command_and_argument_of_scelle_has_its_help_in_both_languages() {
    let keys = scelle_verifier::cli_text::keys_of(&scelle::cli::Cli::command());
    assert!(keys.len() > 60, "{} keys", keys.len());
    let missing: Vec<_> = keys.iter().filter(|k| !has_both(k)).collect();
    assert!(
        missing.is_empty(),
        "commands or arguments with no help: {missing:?}"
    );
}

#[test]
fn every_shipped_forbid_policy_has_its_reason_in_the_catalogue() {
    let mut forbids = 0;
    for entry in std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("policies")).unwrap()
    {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "cedar") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let mut id = None;
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("@id(\"") {
                id = rest.split('"').next().map(str::to_owned);
            }
            if line.starts_with("forbid") {
                let id = id.clone().unwrap();
                forbids += 1;
                assert!(
                    has_both(&format!("policy-{id}")),
                    "{}: {id}",
                    path.display()
                );
                assert!(
                    !text.contains("@reason_fr"),
                    "{}: reasons belong in the catalogue",
                    path.display()
                );
            }
        }
    }
    assert!(forbids >= 10, "{forbids} forbid policies");
}

#[test]
fn help_and_clap_errors_are_in_french_and_english() {
    let out = Command::new(BIN)
        .args(["verify", "--help"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(
        help.contains("Vérifie un dossier hors ligne") && help.contains("Verify a dossier offline"),
        "{help}"
    );
    assert!(help.contains("Affiche l'aide / Print help"), "{help}");
    let out = Command::new(BIN)
        .args(["dossier", "export", "--no-such-flag"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("Argument inconnu : --no-such-flag")
            && err.contains("Unknown argument: --no-such-flag"),
        "{err}"
    );
    let out = Command::new(BIN).args(["dpo", "report"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("Argument obligatoire manquant") && err.contains("Required argument missing"),
        "{err}"
    );
    let out = Command::new(BIN).arg("no-such-command").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("Commande inconnue") && err.contains("Unknown command"),
        "{err}"
    );
}
