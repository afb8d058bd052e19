//! C2SP tlog-policy: which logs and witnesses a node (or a recipient of a dossier) trusts, and
//! which set of witnesses' cosignatures makes a checkpoint count — "3 of the 5 states".
//!
//! The same file names a node's peers and tells `scelle verify --policy` what to require, so it
//! follows the grammar Sigsum uses (`log`, `witness`, `group <name> <k|all|any> …`, `quorum`),
//! and `tests/api/network.rs` holds its quorum decisions to Sigsum's own implementation.

use crate::cosignature::CosignerKey;
use crate::i18n::Message;
use crate::note::{Checkpoint, NoteError, NoteVerifier, parse_note};
use crate::t;

/// More entries of one kind than any Entente network needs (the spec asks for at least 32).
const MAX_DEFINITIONS: usize = 256;

/// Why a policy file was refused, or a checkpoint does not satisfy it.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PolicyError {
    /// A line that breaks the grammar: its number (from 1) and why.
    #[error("policy line {line}: {reason}")]
    Line {
        /// The line, counted from 1.
        line: usize,
        /// What is wrong with it.
        reason: LineError,
    },
    /// A policy with no `quorum` line.
    #[error("the policy has no quorum line")]
    NoQuorum,
    /// A checkpoint signed by none of the policy's logs.
    #[error("no log of the policy signed the checkpoint")]
    UnknownLog,
    /// A checkpoint whose body or signatures could not be read.
    #[error("checkpoint: {0}")]
    Checkpoint(NoteError),
    /// A witness of the policy whose cosignature line does not verify.
    #[error("witness {0} has an invalid cosignature on the checkpoint")]
    BadCosignature(String),
    /// Too few witnesses cosigned.
    #[error("quorum not met: cosigned only by [{}]", cosigned.join(", "))]
    QuorumNotMet {
        /// The witnesses whose cosignatures verified.
        cosigned: Vec<String>,
    },
}

/// What is wrong with one line of a policy file.
#[derive(Debug, Clone, Copy, thiserror::Error, PartialEq, Eq)]
pub enum LineError {
    /// A character the grammar does not allow (a control character other than tab).
    #[error("forbidden character")]
    Character,
    /// A first word that is not `log`, `witness`, `group` or `quorum`.
    #[error("unknown keyword")]
    Keyword,
    /// Too few or too many words for the keyword.
    #[error("wrong number of arguments")]
    Arguments,
    /// A key that is not a C2SP verifier key of the right type (0x01 logs, 0x04 witnesses).
    #[error("invalid verifier key")]
    Key,
    /// A key already listed (the same Ed25519 key, whatever its name).
    #[error("duplicate key")]
    DuplicateKey,
    /// A name already defined, or the reserved `none`.
    #[error("name already defined")]
    DuplicateName,
    /// A group member or quorum that names nothing defined on an earlier line.
    #[error("undefined name")]
    UndefinedName,
    /// A member listed twice in one group.
    #[error("member listed twice")]
    RepeatedMember,
    /// A threshold that is not `all`, `any` or 1 ≤ k ≤ members.
    #[error("invalid threshold")]
    Threshold,
    /// A second `quorum` line.
    #[error("second quorum line")]
    SecondQuorum,
    /// More definitions than this implementation takes.
    #[error("too many definitions")]
    TooMany,
}

impl LineError {
    fn message(self) -> Message {
        match self {
            LineError::Character => t!("policy-line-character"),
            LineError::Keyword => t!("policy-line-keyword"),
            LineError::Arguments => t!("policy-line-arguments"),
            LineError::Key => t!("policy-line-key"),
            LineError::DuplicateKey => t!("policy-line-duplicate-key"),
            LineError::DuplicateName => t!("policy-line-duplicate-name"),
            LineError::UndefinedName => t!("policy-line-undefined-name"),
            LineError::RepeatedMember => t!("policy-line-repeated-member"),
            LineError::Threshold => t!("policy-line-threshold"),
            LineError::SecondQuorum => t!("policy-line-second-quorum"),
            LineError::TooMany => t!("policy-line-too-many"),
        }
    }
}

impl PolicyError {
    /// The error in words, from the catalogue.
    pub fn message(&self) -> Message {
        match self {
            PolicyError::Line { line, reason } => {
                t!("policy-line-invalid", line = line).nested("reason", reason.message())
            }
            PolicyError::NoQuorum => t!("policy-no-quorum"),
            PolicyError::UnknownLog => t!("policy-unknown-log"),
            PolicyError::Checkpoint(e) => t!("policy-checkpoint-invalid", reason = e),
            PolicyError::BadCosignature(name) => t!("policy-bad-cosignature", witness = name),
            PolicyError::QuorumNotMet { cosigned } => {
                let names = if cosigned.is_empty() {
                    "—".to_owned()
                } else {
                    cosigned.join(", ")
                };
                t!("policy-quorum-not-met", cosigned = names)
            }
        }
    }
}

/// A log the policy trusts: its checkpoint key (whose name is its origin) and where it is.
#[derive(Debug, Clone)]
pub struct PolicyLog {
    /// The log's checkpoint verifier key.
    pub key: NoteVerifier,
    /// Its URL, if the policy gives one.
    pub url: Option<String>,
}

/// A witness the policy trusts: its name in the policy, its cosigning key and where it is.
#[derive(Debug, Clone)]
pub struct PolicyWitness {
    /// Its name in the policy file.
    pub name: String,
    /// Its cosignature key (type 0x04).
    pub key: CosignerKey,
    /// Its submission prefix, if the policy gives one.
    pub url: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Member {
    Witness(usize),
    Group(usize),
}

#[derive(Debug, Clone)]
struct Group {
    name: String,
    threshold: usize,
    members: Vec<Member>,
}

/// A parsed tlog-policy file.
#[derive(Debug, Clone)]
pub struct Policy {
    logs: Vec<PolicyLog>,
    witnesses: Vec<PolicyWitness>,
    groups: Vec<Group>,
    /// `None` is `quorum none`: no cosignature needed.
    quorum: Option<Member>,
}

/// A checkpoint that a log of the policy signed and a quorum of its witnesses cosigned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CosignedCheckpoint {
    /// The checkpoint.
    pub checkpoint: Checkpoint,
    /// The witnesses (names in the policy) whose cosignatures verified, with their times.
    pub cosigned_by: Vec<(String, u64)>,
}

impl Policy {
    /// Parses a policy file, strictly: any line the grammar does not allow is refused, naming it.
    pub fn parse(text: &str) -> Result<Self, PolicyError> {
        let mut policy = Policy {
            logs: Vec::new(),
            witnesses: Vec::new(),
            groups: Vec::new(),
            quorum: None,
        };
        let mut quorum_seen = false;
        for (index, raw) in text.split('\n').enumerate() {
            let line = index + 1;
            let fail = |reason| PolicyError::Line { line, reason };
            if raw.chars().any(|c| c.is_ascii_control() && c != '\t') {
                return Err(fail(LineError::Character));
            }
            let words: Vec<&str> = raw.split([' ', '\t']).filter(|w| !w.is_empty()).collect();
            match words.as_slice() {
                [] => {}
                [first, ..] if first.starts_with('#') => {}
                ["log", key, rest @ ..] if rest.len() <= 1 => {
                    let key =
                        NoteVerifier::from_verifier_key(key).map_err(|_| fail(LineError::Key))?;
                    if policy
                        .logs
                        .iter()
                        .any(|l| l.key.public_key() == key.public_key())
                    {
                        return Err(fail(LineError::DuplicateKey));
                    }
                    if policy.logs.len() >= MAX_DEFINITIONS {
                        return Err(fail(LineError::TooMany));
                    }
                    policy.logs.push(PolicyLog {
                        key,
                        url: rest.first().map(|u| (*u).to_owned()),
                    });
                }
                ["witness", name, key, rest @ ..] if rest.len() <= 1 => {
                    if policy.defines(name) {
                        return Err(fail(LineError::DuplicateName));
                    }
                    let key =
                        CosignerKey::from_verifier_key(key).map_err(|_| fail(LineError::Key))?;
                    if policy
                        .witnesses
                        .iter()
                        .any(|w| w.key.public_key() == key.public_key())
                    {
                        return Err(fail(LineError::DuplicateKey));
                    }
                    if policy.witnesses.len() >= MAX_DEFINITIONS {
                        return Err(fail(LineError::TooMany));
                    }
                    policy.witnesses.push(PolicyWitness {
                        name: (*name).to_owned(),
                        key,
                        url: rest.first().map(|u| (*u).to_owned()),
                    });
                }
                ["group", name, threshold, members @ ..] if !members.is_empty() => {
                    if policy.defines(name) {
                        return Err(fail(LineError::DuplicateName));
                    }
                    let mut resolved = Vec::with_capacity(members.len());
                    for member in members {
                        let found = policy
                            .member(member)
                            .ok_or(fail(LineError::UndefinedName))?;
                        if resolved.contains(&found) {
                            return Err(fail(LineError::RepeatedMember));
                        }
                        resolved.push(found);
                    }
                    let threshold = match *threshold {
                        "all" => resolved.len(),
                        "any" => 1,
                        // Decimal, as Sigsum reads it (a leading zero is still decimal).
                        k => Some(k)
                            .filter(|k| !k.is_empty() && k.bytes().all(|b| b.is_ascii_digit()))
                            .and_then(|k| k.parse::<usize>().ok())
                            .filter(|k| (1..=resolved.len()).contains(k))
                            .ok_or(fail(LineError::Threshold))?,
                    };
                    if policy.groups.len() >= MAX_DEFINITIONS {
                        return Err(fail(LineError::TooMany));
                    }
                    policy.groups.push(Group {
                        name: (*name).to_owned(),
                        threshold,
                        members: resolved,
                    });
                }
                ["quorum", name] => {
                    if quorum_seen {
                        return Err(fail(LineError::SecondQuorum));
                    }
                    quorum_seen = true;
                    policy.quorum = match *name {
                        "none" => None,
                        name => Some(policy.member(name).ok_or(fail(LineError::UndefinedName))?),
                    };
                }
                ["log" | "witness" | "group" | "quorum", ..] => {
                    return Err(fail(LineError::Arguments));
                }
                _ => return Err(fail(LineError::Keyword)),
            }
        }
        if !quorum_seen {
            return Err(PolicyError::NoQuorum);
        }
        Ok(policy)
    }

    fn defines(&self, name: &str) -> bool {
        name == "none" || self.member(name).is_some()
    }

    fn member(&self, name: &str) -> Option<Member> {
        if let Some(i) = self.witnesses.iter().position(|w| w.name == name) {
            return Some(Member::Witness(i));
        }
        self.groups
            .iter()
            .position(|g| g.name == name)
            .map(Member::Group)
    }

    /// The logs the policy trusts.
    pub fn logs(&self) -> &[PolicyLog] {
        &self.logs
    }

    /// The witnesses the policy names.
    pub fn witnesses(&self) -> &[PolicyWitness] {
        &self.witnesses
    }

    /// The logs whose key name is `origin` (more than one while a key is being rotated).
    pub fn logs_of<'a>(&'a self, origin: &'a str) -> impl Iterator<Item = &'a PolicyLog> + 'a {
        self.logs.iter().filter(move |l| l.key.name() == origin)
    }

    /// Opens a note signed by one of the policy's keys for `origin`: `None` if it names none
    /// of them, else the result of the first key whose signature line it carries.
    pub fn open_log_note(&self, origin: &str, note: &str) -> Option<Result<(), NoteError>> {
        let mut outcome = None;
        for log in self.logs_of(origin) {
            match log.key.open(note) {
                Ok(_) => return Some(Ok(())),
                Err(NoteError::NotSignedBy(_)) => {
                    outcome.get_or_insert(Err(NoteError::NotSignedBy(origin.to_owned())));
                }
                Err(e) => outcome = Some(Err(e)),
            }
        }
        outcome
    }

    /// The note with only the signature lines of this policy's keys for `origin` (what a
    /// witness keeps and shows as evidence: lines of other keys are anyone's padding).
    pub fn log_signed_only(&self, origin: &str, note: &str) -> Option<String> {
        let parsed = parse_note(note).ok()?;
        let mut kept = format!("{}\n", parsed.text);
        let block = note.get(parsed.text.len() + 1..)?;
        for (line, sig) in block.lines().zip(&parsed.signatures) {
            if sig.name == origin
                && self
                    .logs_of(origin)
                    .any(|l| crate::note::key_id(origin, l.key.public_key()) == sig.key_id)
            {
                kept.push_str(line);
                kept.push('\n');
            }
        }
        Some(kept)
    }

    /// Whether a checkpoint needs any cosignature (not `quorum none`).
    pub fn requires_cosignatures(&self) -> bool {
        self.quorum.is_some()
    }

    /// Whether cosignatures by the witnesses marked `true` (indexed as [`Policy::witnesses`])
    /// satisfy the quorum.
    pub fn quorum_met(&self, cosigned: &[bool]) -> bool {
        // Groups name only earlier definitions: one pass in order decides each once (a group
        // shared by many is not decided again for each, so no policy makes this exponential).
        let mut group_met = Vec::with_capacity(self.groups.len());
        let met = |member: Member, group_met: &[bool]| match member {
            Member::Witness(i) => cosigned.get(i).copied().unwrap_or(false),
            Member::Group(g) => group_met.get(g).copied().unwrap_or(false),
        };
        for group in &self.groups {
            let count = group
                .members
                .iter()
                .filter(|m| met(**m, &group_met))
                .count();
            group_met.push(count >= group.threshold);
        }
        match self.quorum {
            None => true,
            Some(member) => met(member, &group_met),
        }
    }

    /// Checks a signed checkpoint note: signed by one of the policy's logs (its origin is the
    /// log key's name), and cosigned by a quorum of its witnesses. Lines of unknown keys are
    /// ignored; an invalid cosignature by a known witness fails the whole note (as Sigsum's
    /// verifier does: it is forged or damaged, not merely absent).
    pub fn verify(&self, note: &str) -> Result<CosignedCheckpoint, PolicyError> {
        let parsed = parse_note(note).map_err(PolicyError::Checkpoint)?;
        let checkpoint = Checkpoint::parse_body(parsed.text).map_err(PolicyError::Checkpoint)?;
        match self.open_log_note(&checkpoint.origin, note) {
            Some(Ok(())) => {}
            None | Some(Err(NoteError::NotSignedBy(_))) => return Err(PolicyError::UnknownLog),
            Some(Err(e)) => return Err(PolicyError::Checkpoint(e)),
        }
        let mut cosigned = vec![false; self.witnesses.len()];
        let mut cosigned_by = Vec::new();
        for (i, witness) in self.witnesses.iter().enumerate() {
            match witness.key.verify_in(&parsed) {
                Ok(time) => {
                    cosigned[i] = true;
                    cosigned_by.push((witness.name.clone(), time));
                }
                Err(NoteError::NotSignedBy(_)) => {}
                Err(_) => return Err(PolicyError::BadCosignature(witness.name.clone())),
            }
        }
        if !self.quorum_met(&cosigned) {
            return Err(PolicyError::QuorumNotMet {
                cosigned: cosigned_by.into_iter().map(|(name, _)| name).collect(),
            });
        }
        Ok(CosignedCheckpoint {
            checkpoint,
            cosigned_by,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cosignature::Cosigner;
    use crate::note::NoteSigner;

    struct Network {
        log: NoteSigner,
        witnesses: Vec<Cosigner>,
    }

    fn network(n: usize) -> Network {
        Network {
            log: NoteSigner::generate("bj.police.ocrc").unwrap(),
            witnesses: (0..n)
                .map(|i| Cosigner::generate(&format!("w{i}.entente")).unwrap())
                .collect(),
        }
    }

    fn policy_text(net: &Network, tail: &str) -> String {
        let mut text = format!(
            "# Entente\nlog {} https://bj.example\n",
            net.log.verifier_key_string()
        );
        for (i, w) in net.witnesses.iter().enumerate() {
            text.push_str(&format!("witness W{i}\t{}\n", w.verifier_key_string()));
        }
        text.push_str(tail);
        text
    }

    fn cosigned_by(net: &Network, who: &[usize]) -> String {
        let note = net
            .log
            .sign_note("bj.police.ocrc\n9\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n")
            .unwrap();
        let text = parse_note(&note).unwrap().text.to_owned();
        let mut out = note;
        for &i in who {
            out.push_str(
                &net.witnesses[i]
                    .cosign(&text, 1_700_000_000 + i as u64)
                    .unwrap(),
            );
        }
        out
    }

    #[test]
    fn three_of_five_states_is_met_by_three_and_not_by_two() {
        let net = network(5);
        let policy = Policy::parse(&policy_text(
            &net,
            "group states 3 W0 W1 W2 W3 W4\nquorum states\n",
        ))
        .unwrap();
        let ok = policy.verify(&cosigned_by(&net, &[0, 2, 4])).unwrap();
        assert_eq!(ok.checkpoint.size, 9);
        assert_eq!(
            ok.cosigned_by
                .iter()
                .map(|(n, _)| n.as_str())
                .collect::<Vec<_>>(),
            ["W0", "W2", "W4"]
        );
        assert_eq!(ok.cosigned_by[1].1, 1_700_000_002);
        assert_eq!(
            policy.verify(&cosigned_by(&net, &[1, 3])).unwrap_err(),
            PolicyError::QuorumNotMet {
                cosigned: vec!["W1".into(), "W3".into()]
            }
        );
    }

    #[test]
    fn nested_groups_all_any_and_none() {
        let net = network(4);
        let tail = "group X any W0 W1\ngroup Y all W2 W3\ngroup XY all X Y\nquorum XY\n";
        let policy = Policy::parse(&policy_text(&net, tail)).unwrap();
        assert!(policy.verify(&cosigned_by(&net, &[1, 2, 3])).is_ok());
        assert!(policy.verify(&cosigned_by(&net, &[0, 1, 2])).is_err());
        let none = Policy::parse(&policy_text(&net, "quorum none\n")).unwrap();
        assert!(none.verify(&cosigned_by(&net, &[])).is_ok());
        let single = Policy::parse(&policy_text(&net, "quorum W3\n")).unwrap();
        assert!(single.verify(&cosigned_by(&net, &[3])).is_ok());
        assert!(single.verify(&cosigned_by(&net, &[0, 1, 2])).is_err());
    }

    #[test]
    fn an_unknown_log_or_a_forged_cosignature_fails() {
        let net = network(2);
        let other = network(2);
        let policy = Policy::parse(&policy_text(&net, "quorum none\n")).unwrap();
        assert_eq!(
            policy.verify(&cosigned_by(&other, &[])).unwrap_err(),
            PolicyError::UnknownLog
        );
        let policy = Policy::parse(&policy_text(&net, "group g any W0 W1\nquorum g\n")).unwrap();
        let good = cosigned_by(&net, &[0]);
        // Flip a bit of the cosignature (the last line): a known witness's forged line fails.
        let mut lines: Vec<String> = good.lines().map(str::to_owned).collect();
        let last = lines.pop().unwrap();
        let (head, b64) = last.rsplit_once(' ').unwrap();
        use base64::Engine as _;
        let mut blob = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        blob[40] ^= 0x10;
        let forged = format!(
            "{}\n{head} {}\n",
            lines.join("\n"),
            base64::engine::general_purpose::STANDARD.encode(&blob)
        );
        assert_eq!(
            policy.verify(&forged).unwrap_err(),
            PolicyError::BadCosignature("W0".into())
        );
        // A stranger's cosignature is ignored, not counted.
        let stranger = Cosigner::generate("w0.entente").unwrap();
        let text = parse_note(&good).unwrap().text.to_owned();
        let note = net.log.sign_note(&text).unwrap();
        let with_stranger = format!("{note}{}", stranger.cosign(&text, 5).unwrap());
        assert!(matches!(
            policy.verify(&with_stranger).unwrap_err(),
            PolicyError::QuorumNotMet { .. }
        ));
    }

    #[test]
    fn every_grammar_error_names_its_line() {
        let net = network(3);
        let w0 = net.witnesses[0].verifier_key_string();
        let log = net.log.verifier_key_string();
        let cases: &[(String, usize, LineError)] = &[
            (
                format!("log {log}\nlog {log}\nquorum none"),
                2,
                LineError::DuplicateKey,
            ),
            (format!("log {w0}\nquorum none"), 1, LineError::Key),
            (format!("witness a {log}\nquorum none"), 1, LineError::Key),
            (
                format!("witness a {w0}\nwitness b {w0}\nquorum a"),
                2,
                LineError::DuplicateKey,
            ),
            (
                format!("witness none {w0}\nquorum none"),
                1,
                LineError::DuplicateName,
            ),
            (
                format!("witness a {w0}\ngroup g 2 a\nquorum g"),
                2,
                LineError::Threshold,
            ),
            (
                format!("witness a {w0}\ngroup g 0 a\nquorum g"),
                2,
                LineError::Threshold,
            ),
            (
                format!("witness a {w0}\ngroup g +1 a\nquorum g"),
                2,
                LineError::Threshold,
            ),
            (
                format!("witness a {w0}\ngroup g any a a\nquorum g"),
                2,
                LineError::RepeatedMember,
            ),
            (
                "group g any b\nquorum g".to_owned(),
                1,
                LineError::UndefinedName,
            ),
            ("quorum g".to_owned(), 1, LineError::UndefinedName),
            (
                "quorum none\nquorum none".to_owned(),
                2,
                LineError::SecondQuorum,
            ),
            ("quorum none\r".to_owned(), 1, LineError::Character),
            ("logs x\nquorum none".to_owned(), 1, LineError::Keyword),
            (
                format!("log {log} url extra\nquorum none"),
                1,
                LineError::Arguments,
            ),
            (
                "group g any\nquorum none".to_owned(),
                1,
                LineError::Arguments,
            ),
        ];
        for (text, line, reason) in cases {
            assert_eq!(
                Policy::parse(text).unwrap_err(),
                PolicyError::Line {
                    line: *line,
                    reason: *reason
                },
                "{text}"
            );
        }
        assert_eq!(
            Policy::parse("# nothing\n").unwrap_err(),
            PolicyError::NoQuorum
        );
        // Leading and trailing blanks, tabs and comments are fine.
        assert!(Policy::parse(&format!("  \t# c\n\tlog  {log}\t\n  quorum none  \n")).is_ok());
    }

    #[test]
    fn a_deep_policy_of_shared_groups_is_decided_in_one_pass() {
        // Each level shares the one below twice: deciding it afresh for each would double per
        // level (2^80 steps here), so this test would never end.
        let net = network(3);
        let mut tail = "group g0 any W0 W1\n".to_owned();
        for i in 1..=80 {
            let p = i - 1;
            tail.push_str(&format!(
                "group a{i} any g{p} W2\ngroup b{i} any g{p} W2\ngroup g{i} all a{i} b{i}\n"
            ));
        }
        tail.push_str("quorum g80\n");
        let policy = Policy::parse(&policy_text(&net, &tail)).unwrap();
        assert!(policy.quorum_met(&[true, false, false]));
        assert!(policy.quorum_met(&[false, false, true]));
        assert!(!policy.quorum_met(&[false, false, false]));
    }

    #[test]
    fn a_log_with_two_keys_during_a_rotation_verifies_under_either() {
        let net = network(1);
        let next = NoteSigner::generate("bj.police.ocrc").unwrap();
        let text = format!(
            "{}log {}\ngroup g any W0\nquorum g\n",
            policy_text(&net, ""),
            next.verifier_key_string()
        );
        let policy = Policy::parse(&text).unwrap();
        assert!(policy.verify(&cosigned_by(&net, &[0])).is_ok());
        let body = "bj.police.ocrc\n9\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
        let by_next = format!(
            "{}{}",
            next.sign_note(body).unwrap(),
            net.witnesses[0].cosign(body, 3).unwrap()
        );
        assert!(policy.verify(&by_next).is_ok());
    }
}
