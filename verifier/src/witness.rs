//! C2SP tlog-witness v1.0.0 `add-checkpoint`: the request a log sends a witness, and what the
//! witness must answer given the checkpoint it last cosigned for that log.
//!
//! Pure: the node keeps the witness's state and makes the check and the update one atomic,
//! durable step (`src/network/witness.rs`); here are the exact body format and the order of
//! the spec's checks, each refusal naming its HTTP status.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use crate::i18n::Message;
use crate::merkle::{Hash, verify_consistency};
use crate::note::{Checkpoint, NoteError, parse_decimal, parse_note};
use crate::policy::Policy;
use crate::t;

/// The most consistency-proof lines a request may carry.
pub const MAX_PROOF_LINES: usize = 63;

/// An `add-checkpoint` request body, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddCheckpoint<'a> {
    /// The size of the checkpoint the log believes this witness last cosigned.
    pub old: u64,
    /// The consistency proof from `old` to the new checkpoint.
    pub proof: Vec<Hash>,
    /// The signed checkpoint note.
    pub note: &'a str,
}

/// What the witness last cosigned for one log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Witnessed {
    /// Its tree size.
    pub size: u64,
    /// Its root hash.
    pub root: Hash,
}

/// The part of an add-checkpoint request that is malformed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MalformedPart {
    /// The body is not UTF-8.
    #[error("not UTF-8")]
    NotUtf8,
    /// The first line is not `old <size>`.
    #[error("old size line")]
    OldSizeLine,
    /// No empty line ends the proof.
    #[error("no empty line before the checkpoint")]
    NoEmptyLine,
    /// More than 63 proof lines.
    #[error("more than 63 proof lines")]
    TooManyProofLines,
    /// A proof line that is not a base64 hash.
    #[error("a proof line is not a base64 hash")]
    ProofLine,
    /// The checkpoint is not a signed note.
    #[error("checkpoint note")]
    CheckpointNote,
    /// The note's text is not a checkpoint.
    #[error("checkpoint body")]
    CheckpointBody,
    /// A tree size the witness cannot store.
    #[error("tree size")]
    TreeSize,
}

impl MalformedPart {
    fn message(self) -> Message {
        match self {
            MalformedPart::NotUtf8 => t!("witness-part-utf8"),
            MalformedPart::OldSizeLine => t!("witness-part-old"),
            MalformedPart::NoEmptyLine => t!("witness-part-empty-line"),
            MalformedPart::TooManyProofLines => t!("witness-part-proof-count"),
            MalformedPart::ProofLine => t!("witness-part-proof-line"),
            MalformedPart::CheckpointNote => t!("witness-part-note"),
            MalformedPart::CheckpointBody => t!("witness-part-body"),
            MalformedPart::TreeSize => t!("witness-part-size"),
        }
    }
}

/// Why a witness does not cosign, as the spec answers it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// 400: a body that is not an add-checkpoint request; says where.
    #[error("malformed request: {0}")]
    Malformed(MalformedPart),
    /// 400: an old size above the checkpoint's.
    #[error("old size {old} is above the checkpoint size {size}")]
    OldAboveNew {
        /// The old size sent.
        old: u64,
        /// The checkpoint's size.
        size: u64,
    },
    /// 404: a log this witness does not know.
    #[error("unknown log origin {0:?}")]
    UnknownOrigin(String),
    /// 403: no signature by a key this witness trusts for the origin.
    #[error("no trusted signature on the checkpoint")]
    Untrusted,
    /// 409: the old size is not what this witness last cosigned (holds that size), or the same
    /// size with another root.
    #[error("conflict: this witness last cosigned size {0}")]
    Conflict(u64),
    /// 422: a consistency proof that does not verify.
    #[error("the consistency proof does not verify")]
    BadProof,
}

impl Refusal {
    /// The HTTP status the spec gives this refusal.
    pub fn status(&self) -> u16 {
        match self {
            Refusal::Malformed(_) | Refusal::OldAboveNew { .. } => 400,
            Refusal::Untrusted => 403,
            Refusal::UnknownOrigin(_) => 404,
            Refusal::Conflict(_) => 409,
            Refusal::BadProof => 422,
        }
    }

    /// The refusal in words, from the catalogue.
    pub fn message(&self) -> Message {
        match self {
            Refusal::Malformed(part) => t!("witness-malformed").nested("reason", part.message()),
            Refusal::OldAboveNew { old, size } => {
                t!("witness-old-above-new", old = old, size = size)
            }
            Refusal::UnknownOrigin(origin) => t!("witness-unknown-origin", origin = origin),
            Refusal::Untrusted => t!("witness-untrusted"),
            Refusal::Conflict(size) => t!("witness-conflict", size = size),
            Refusal::BadProof => t!("witness-bad-proof"),
        }
    }
}

impl<'a> AddCheckpoint<'a> {
    /// Parses `old <N>\n`, up to 63 base64 hash lines, an empty line, then the checkpoint.
    pub fn parse(body: &'a str) -> Result<Self, Refusal> {
        let (first, mut rest) = body
            .split_once('\n')
            .ok_or(Refusal::Malformed(MalformedPart::OldSizeLine))?;
        let old = first
            .strip_prefix("old ")
            .and_then(parse_decimal)
            .ok_or(Refusal::Malformed(MalformedPart::OldSizeLine))?;
        let mut proof = Vec::new();
        loop {
            let (line, after) = rest
                .split_once('\n')
                .ok_or(Refusal::Malformed(MalformedPart::NoEmptyLine))?;
            rest = after;
            if line.is_empty() {
                break;
            }
            if proof.len() == MAX_PROOF_LINES {
                return Err(Refusal::Malformed(MalformedPart::TooManyProofLines));
            }
            let hash: Hash = B64
                .decode(line)
                .ok()
                .and_then(|h| h.try_into().ok())
                .ok_or(Refusal::Malformed(MalformedPart::ProofLine))?;
            proof.push(hash);
        }
        Ok(Self {
            old,
            proof,
            note: rest,
        })
    }

    /// The body of this request, as a log sends it.
    pub fn body(&self) -> String {
        let mut out = format!("old {}\n", self.old);
        for hash in &self.proof {
            out.push_str(&B64.encode(hash));
            out.push('\n');
        }
        out.push('\n');
        out.push_str(self.note);
        out
    }

    /// Runs the spec's checks, in its order, against what this witness last cosigned for the
    /// checkpoint's log (`None`: never). Answers the checkpoint and its note text (what a
    /// cosignature covers) when the witness must cosign it and record it as its new state.
    pub fn check(
        &self,
        trusted: &Policy,
        last: impl FnOnce(&str) -> Option<Witnessed>,
    ) -> Result<(Checkpoint, &'a str), Refusal> {
        let (checkpoint, text) = self.open(trusted)?;
        self.extends(&checkpoint, last(&checkpoint.origin))?;
        Ok((checkpoint, text))
    }

    /// The first checks, which need no state: a known origin (404), a trusted signature (403),
    /// an old size not above the new (400). Answers the checkpoint and its note text.
    pub fn open(&self, trusted: &Policy) -> Result<(Checkpoint, &'a str), Refusal> {
        let parsed =
            parse_note(self.note).map_err(|_| Refusal::Malformed(MalformedPart::CheckpointNote))?;
        let checkpoint = Checkpoint::parse_body(parsed.text)
            .map_err(|_| Refusal::Malformed(MalformedPart::CheckpointBody))?;
        match trusted.open_log_note(&checkpoint.origin, self.note) {
            None => return Err(Refusal::UnknownOrigin(checkpoint.origin.clone())),
            Some(Ok(())) => {}
            Some(Err(NoteError::NotSignedBy(_) | NoteError::BadSignature(_))) => {
                return Err(Refusal::Untrusted);
            }
            Some(Err(_)) => return Err(Refusal::Malformed(MalformedPart::CheckpointNote)),
        }
        if self.old > checkpoint.size {
            return Err(Refusal::OldAboveNew {
                old: self.old,
                size: checkpoint.size,
            });
        }
        Ok((checkpoint, parsed.text))
    }

    /// The checks against the witness's state for the log (`None`: never cosigned): the old
    /// size is the one it holds (409 with its size), the proof leads from its tree to the new
    /// one (422), a tree of the same size has the same root (409).
    pub fn extends(&self, checkpoint: &Checkpoint, last: Option<Witnessed>) -> Result<(), Refusal> {
        let last_size = last.map_or(0, |w| w.size);
        if self.old != last_size {
            return Err(Refusal::Conflict(last_size));
        }
        match last {
            Some(last) if last.size == checkpoint.size => {
                if !self.proof.is_empty() {
                    return Err(Refusal::BadProof);
                }
                if last.root != checkpoint.root {
                    return Err(Refusal::Conflict(last.size));
                }
                Ok(())
            }
            Some(last) if last.size > 0 => verify_consistency(
                last.size,
                checkpoint.size,
                &last.root,
                &checkpoint.root,
                &self.proof,
            )
            .map_err(|_| Refusal::BadProof),
            // Never cosigned (or an empty tree): nothing to be consistent with, no proof.
            _ if self.proof.is_empty() => Ok(()),
            _ => Err(Refusal::BadProof),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cosignature::Cosigner;
    use crate::merkle::{NodeMap, consistency_proof, leaf_hash, root};
    use crate::note::NoteSigner;

    struct Log {
        signer: NoteSigner,
        nodes: NodeMap,
        size: u64,
    }

    impl Log {
        fn new() -> Self {
            Self {
                signer: NoteSigner::generate("bj.police.ocrc").unwrap(),
                nodes: NodeMap::default(),
                size: 0,
            }
        }
        fn grow(&mut self, n: u64) {
            let mut range =
                crate::merkle::CompactRange::from_source(self.size, &self.nodes).unwrap();
            for i in self.size..self.size + n {
                let nodes = &mut self.nodes;
                let leaf = leaf_hash(format!("entry {i}").as_bytes());
                nodes.insert(crate::merkle::NodeId::new(0, i), leaf);
                range.append(leaf, |id, h| {
                    nodes.insert(id, h);
                });
            }
            self.size += n;
        }
        fn checkpoint(&self) -> (Checkpoint, String) {
            let cp = Checkpoint {
                origin: "bj.police.ocrc".into(),
                size: self.size,
                root: root(&self.nodes, self.size).unwrap(),
            };
            let note = cp.sign(&self.signer).unwrap();
            (cp, note)
        }
        fn request(&self, old: u64) -> String {
            let (_, note) = self.checkpoint();
            let proof = if old == 0 || old == self.size {
                Vec::new()
            } else {
                consistency_proof(&self.nodes, old, self.size).unwrap()
            };
            AddCheckpoint {
                old,
                proof,
                note: &note,
            }
            .body()
        }
    }

    fn policy_for(log: &Log) -> Policy {
        Policy::parse(&format!(
            "log {}\nquorum none\n",
            log.signer.verifier_key_string()
        ))
        .unwrap()
    }

    #[test]
    fn a_witness_follows_a_growing_log_and_refuses_what_the_spec_refuses() {
        let mut log = Log::new();
        let policy = policy_for(&log);
        log.grow(5);
        let body = log.request(0);
        let req = AddCheckpoint::parse(&body).unwrap();
        let (cp, text) = req.check(&policy, |_| None).unwrap();
        assert_eq!(cp.size, 5);
        let state = Witnessed {
            size: 5,
            root: cp.root,
        };
        // It can cosign the text it was handed.
        Cosigner::generate("w").unwrap().cosign(text, 1).unwrap();

        log.grow(8);
        // The right old size and proof: cosign.
        let body = log.request(5);
        let (cp13, _) = AddCheckpoint::parse(&body)
            .unwrap()
            .check(&policy, |_| Some(state))
            .unwrap();
        assert_eq!(cp13.size, 13);
        // A log that thinks the witness is elsewhere: 409 with what the witness holds.
        let body = log.request(3);
        assert_eq!(
            AddCheckpoint::parse(&body)
                .unwrap()
                .check(&policy, |_| Some(state))
                .unwrap_err(),
            Refusal::Conflict(5)
        );
        // A proof that is not the tree's: 422.
        let mut req = AddCheckpoint::parse(&body).unwrap();
        req.old = 5;
        assert_eq!(
            req.check(&policy, |_| Some(state)).unwrap_err(),
            Refusal::BadProof
        );
        // The same size as the witness's state with another root (a fork): 409.
        let (_, note) = log.checkpoint();
        let same_size = AddCheckpoint {
            old: 13,
            proof: vec![],
            note: &note,
        };
        let fork = Witnessed {
            size: 13,
            root: [9; 32],
        };
        assert_eq!(
            same_size.check(&policy, |_| Some(fork)).unwrap_err(),
            Refusal::Conflict(13)
        );
        assert!(
            same_size
                .check(&policy, |_| Some(Witnessed {
                    size: 13,
                    root: cp13.root
                }))
                .is_ok()
        );
        // Old above new: 400.
        let req = AddCheckpoint {
            old: 99,
            proof: vec![],
            note: &note,
        };
        assert_eq!(req.check(&policy, |_| None).unwrap_err().status(), 400);
        // Another log: 404; the right origin signed by another key: 403.
        let stranger = Log::new();
        let other_policy = Policy::parse(&format!(
            "log {}\nquorum none\n",
            NoteSigner::generate("tg.police.dcpj")
                .unwrap()
                .verifier_key_string()
        ))
        .unwrap();
        let req = AddCheckpoint::parse(&body).unwrap();
        assert_eq!(
            req.check(&other_policy, |_| None).unwrap_err().status(),
            404
        );
        assert_eq!(
            req.check(&policy_for(&stranger), |_| None).unwrap_err(),
            Refusal::Untrusted
        );
        // A first request (old 0) carrying a proof: 422.
        let req = AddCheckpoint {
            old: 0,
            proof: vec![[1; 32]],
            note: &note,
        };
        assert_eq!(req.check(&policy, |_| None).unwrap_err(), Refusal::BadProof);
    }

    #[test]
    fn the_body_grammar_is_strict() {
        let log = {
            let mut l = Log::new();
            l.grow(3);
            l
        };
        let (_, note) = log.checkpoint();
        for bad in [
            format!("old 03\n\n{note}"),
            format!("old -1\n\n{note}"),
            format!("Old 0\n\n{note}"),
            format!("old 0\nnot base64\n\n{note}"),
            format!("old 0\nAAAA\n\n{note}"),
            format!("old 0\n{note}"),
            "old 0".to_owned(),
            format!(
                "old 0\n{}\n{note}",
                "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n".repeat(64)
            ),
        ] {
            let parsed = AddCheckpoint::parse(&bad);
            let refused = match parsed {
                Err(e) => e,
                Ok(req) => req.check(&policy_for(&log), |_| None).unwrap_err(),
            };
            assert_eq!(refused.status(), 400, "{bad:?}");
        }
        let good = format!("old 0\n\n{note}");
        assert_eq!(AddCheckpoint::parse(&good).unwrap().body(), good);
    }
}
