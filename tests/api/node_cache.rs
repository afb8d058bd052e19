//! The in-memory upper tree levels serve the same proofs as the database alone, on both
//! backends: warmed whole, warmed within a small capacity, and filled by the proofs themselves.

use base64::Engine as _;
use scelle::ledger::proof_cache::ProofCache;
use scelle::ledger::proofs::{consistency_proof, inclusion_proof};
use scelle::storage::log_store::{self, NewEntry, NewNode, node_key};
use scelle_verifier::merkle::{self, CompactRange, Hash};

use crate::helpers::{BACKENDS, TestDb};

fn decode(hashes: &[String]) -> Vec<Hash> {
    hashes
        .iter()
        .map(|h| {
            base64::engine::general_purpose::STANDARD
                .decode(h)
                .unwrap()
                .try_into()
                .unwrap()
        })
        .collect()
}

/// Stores a log of `size` entries (bodies need not be real entries for the tree) in batches
/// of uneven sizes, as the sequencer does; returns the root at each size.
fn build(conn: &mut scelle::storage::DbConnection, size: u64) -> Vec<Hash> {
    let mut range = CompactRange::default();
    let mut roots = vec![[0; 32]];
    let mut seq = 0u64;
    let mut batch = 1u64;
    while seq < size {
        let mut entries = Vec::new();
        let mut nodes = Vec::new();
        for _ in 0..batch.min(size - seq) {
            let body = format!("entry {seq}").into_bytes();
            let leaf = merkle::leaf_hash(&body);
            range.append(leaf, |id, hash| {
                nodes.push(NewNode {
                    node_key: node_key(id),
                    hash: hash.to_vec(),
                })
            });
            entries.push(NewEntry {
                seq: seq as i64,
                leaf_hash: leaf.to_vec(),
                body,
            });
            roots.push(range.root());
            seq += 1;
        }
        log_store::insert_batch(conn, &entries, &nodes).unwrap();
        batch = batch % 37 + 5;
    }
    roots
}

#[test]
fn cached_levels_serve_the_same_verified_proofs() {
    for backend in BACKENDS {
        let db = TestDb::new(backend);
        let mut c = db.raw();
        scelle::storage::run_migrations(&mut c).unwrap();
        let size = 3_000u64;
        let roots = build(&mut c, size);

        let whole = ProofCache::new(1 << 19);
        whole.warm(&mut c, size).unwrap();
        // Levels from 4 up: 187 + 93 + 46 + … nodes.
        let expected: u64 = (4..64).map(|level| size >> level).sum();
        assert_eq!(whole.len() as u64, expected, "{backend:?}");
        let small = ProofCache::new(40);
        small.warm(&mut c, size).unwrap();
        assert!(!small.is_empty() && small.len() <= 40, "{backend:?}");
        let lazy = ProofCache::new(1 << 19);

        let mut rng = 0x2545f4914f6cdd1du64;
        let mut next = || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        for _ in 0..300 {
            let tree = 1 + next() % size;
            let index = next() % tree;
            let from = 1 + next() % tree;
            let mut answers = Vec::new();
            for cache in [&whole, &small, &lazy] {
                let p = inclusion_proof(&mut c, cache, index, tree).unwrap();
                let leaf: Hash = decode(std::slice::from_ref(&p.leaf_hash))[0];
                merkle::verify_inclusion(
                    index,
                    tree,
                    &leaf,
                    &decode(&p.hashes),
                    &roots[tree as usize],
                )
                .unwrap();
                let q = consistency_proof(&mut c, cache, from, tree).unwrap();
                merkle::verify_consistency(
                    from,
                    tree,
                    &roots[from as usize],
                    &roots[tree as usize],
                    &decode(&q.hashes),
                )
                .unwrap();
                answers.push((p.hashes, q.hashes));
            }
            assert!(answers.windows(2).all(|w| w[0] == w[1]), "{backend:?}");
        }
        assert!(
            small.len() <= 40,
            "the capacity is a bound: {}",
            small.len()
        );
        assert!(!lazy.is_empty(), "proofs fill an empty cache");
        assert!(lazy.len() <= whole.len(), "only levels from 4 up are kept");
    }
}
