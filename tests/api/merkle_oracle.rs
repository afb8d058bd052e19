//! Our RFC 9162 proofs against an independent implementation (ct-merkle) on random trees.

use ct_merkle::mem_backed_tree::MemoryBackedTree;
use scelle_verifier::merkle::{self, CompactRange, Hash, NodeId};
use sha2::Sha256;
use std::collections::HashMap;

#[test]
fn proofs_match_ct_merkle_on_random_trees() {
    let mut rng = 0x2545f4914f6cdd1du64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut oracle = MemoryBackedTree::<Sha256, Vec<u8>>::new();
    let mut nodes: HashMap<NodeId, Hash> = HashMap::new();
    let mut range = CompactRange::default();
    let mut roots = vec![merkle::EMPTY_ROOT];
    let mut checked = 0;
    for size in 1..=10_000u64 {
        let leaf: Vec<u8> = (0..(next() % 64)).map(|_| next() as u8).collect();
        let h = merkle::leaf_hash(&leaf);
        nodes.insert(NodeId::new(0, size - 1), h);
        range.append(h, |id, hash| {
            nodes.insert(id, hash);
        });
        oracle.push(leaf);
        roots.push(range.root());
        // Check every size up to 70, then a random sample of sizes (and the last).
        if size > 70 && next() % 97 != 0 && size != 10_000 {
            continue;
        }
        checked += 1;
        assert_eq!(
            oracle.root().as_bytes().as_slice(),
            range.root(),
            "root at {size}"
        );
        assert_eq!(merkle::root(&nodes, size).unwrap(), range.root());
        for _ in 0..4 {
            let i = next() % size;
            let ours = merkle::inclusion_proof(&nodes, i, size).unwrap().concat();
            assert_eq!(
                oracle.prove_inclusion(i as usize).as_bytes(),
                ours.as_slice(),
                "inclusion {i} in {size}"
            );
            let from = 1 + next() % size;
            let ours = merkle::consistency_proof(&nodes, from, size).unwrap();
            if from < size {
                assert_eq!(
                    oracle.prove_consistency((size - from) as usize).as_bytes(),
                    ours.concat().as_slice(),
                    "consistency {from} -> {size}"
                );
            }
            merkle::verify_consistency(from, size, &roots[from as usize], &range.root(), &ours)
                .unwrap();
        }
    }
    assert!(checked > 150, "{checked}");
}
