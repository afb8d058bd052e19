//! The RFC 9162 §2.1 Merkle tree: hashes, appends, inclusion and consistency proofs.
//!
//! Proof generation is written once, against [`NodeSource`], so that the database (which keeps
//! every complete subtree hash) and the sequencer's in-memory view of a batch produce proofs with
//! the same code. [`needed_nodes_for_inclusion`] and friends list the nodes a proof reads, so a
//! store can fetch them in one query: a proof costs O(log n) reads whatever the log's size.
//! Verification follows the RFC's algorithms step by step and is what external verifiers do.

use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::hash::BuildHasher;

/// A SHA-256 hash: of a leaf, an interior node or a root.
pub type Hash = [u8; 32];

/// MTH of the empty tree: SHA-256 of the empty string.
pub const EMPTY_ROOT: Hash = [
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
];

/// RFC 9162 leaf hash: SHA-256(0x00 || entry).
pub fn leaf_hash(entry: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(entry);
    h.finalize().into()
}

/// RFC 9162 interior node hash: SHA-256(0x01 || left || right).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// A complete subtree: the `2^level` leaves starting at `index << level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId {
    /// Height of the subtree: it has `2^level` leaves.
    pub level: u8,
    /// Position among the subtrees of that height, from the left, 0-based.
    pub index: u64,
}

impl NodeId {
    /// The subtree at `level` whose leaves start at `index << level`.
    pub const fn new(level: u8, index: u64) -> Self {
        Self { level, index }
    }
}

/// Why a proof could not be made, or does not verify.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProofError {
    /// A leaf index at or past the tree size.
    #[error("leaf index {index} is not below tree size {size}")]
    IndexOutOfRange {
        /// The 0-based leaf index asked for.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// Consistency asked between sizes that are not 0 < from <= to.
    #[error("consistency needs 0 < from <= to, got from {from}, to {to}")]
    BadSizes {
        /// The earlier tree size.
        from: u64,
        /// The later tree size.
        to: u64,
    },
    /// A subtree hash the node source does not have.
    #[error("tree node {0:?} is missing from storage")]
    MissingNode(NodeId),
    /// The proof does not lead to the expected root.
    #[error("proof does not verify")]
    Mismatch,
    /// The proof has more or fewer hashes than the sizes call for.
    #[error("proof has the wrong number of hashes")]
    WrongLength,
}

/// Where proof generation reads complete subtree hashes from.
pub trait NodeSource {
    /// The hash of the complete subtree `id`.
    fn node(&self, id: NodeId) -> Result<Hash, ProofError>;
}

impl<S: BuildHasher> NodeSource for HashMap<NodeId, Hash, S> {
    fn node(&self, id: NodeId) -> Result<Hash, ProofError> {
        self.get(&id).copied().ok_or(ProofError::MissingNode(id))
    }
}

/// Node hashes by position, in a map hashed with rustc's Fx hash: the sequencer's view of a
/// batch, from which every writer's receipt takes its inclusion proof. The positions are the
/// tree's own, never chosen by a client, so a keyed hash's resistance to chosen collisions buys
/// nothing here, and SipHash cost a receipt's proof more than its lookups did.
pub type NodeMap = HashMap<NodeId, Hash, rustc_hash::FxBuildHasher>;

/// Records which nodes a computation asks for, answering with zeros.
#[derive(Default)]
struct NodeRecorder(std::cell::RefCell<Vec<NodeId>>);

impl NodeSource for NodeRecorder {
    fn node(&self, id: NodeId) -> Result<Hash, ProofError> {
        self.0.borrow_mut().push(id);
        Ok([0; 32])
    }
}

impl NodeRecorder {
    fn into_ids(self) -> Vec<NodeId> {
        let mut ids = self.0.into_inner();
        ids.sort_unstable();
        ids.dedup();
        ids
    }
}

/// Largest power of two strictly below `n` (n >= 2).
fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1u64 << (63 - (n - 1).leading_zeros())
}

/// MTH(D[start:end]) where the range is a subtree of the RFC's recursive split.
pub fn subtree_hash(src: &impl NodeSource, start: u64, end: u64) -> Result<Hash, ProofError> {
    let width = end - start;
    if width.is_power_of_two() && start.is_multiple_of(width) {
        return src.node(NodeId::new(
            width.trailing_zeros() as u8,
            start >> width.trailing_zeros(),
        ));
    }
    let k = split_point(width);
    Ok(node_hash(
        &subtree_hash(src, start, start + k)?,
        &subtree_hash(src, start + k, end)?,
    ))
}

/// MTH of the first `size` leaves: the root hash of the tree of that size.
pub fn root(src: &impl NodeSource, size: u64) -> Result<Hash, ProofError> {
    if size == 0 {
        return Ok(EMPTY_ROOT);
    }
    subtree_hash(src, 0, size)
}

/// RFC 9162 §2.1.3.1 PATH(m, D[n]).
pub fn inclusion_proof(
    src: &impl NodeSource,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let mut path = Vec::with_capacity(path_capacity(size));
    inclusion_path(src, index, 0, size, &mut path)?;
    Ok(path)
}

fn inclusion_path(
    src: &impl NodeSource,
    m: u64,
    start: u64,
    end: u64,
    path: &mut Vec<Hash>,
) -> Result<(), ProofError> {
    let n = end - start;
    if n == 1 {
        return Ok(());
    }
    let k = split_point(n);
    if m < k {
        inclusion_path(src, m, start, start + k, path)?;
        path.push(subtree_hash(src, start + k, end)?);
    } else {
        inclusion_path(src, m - k, start + k, end, path)?;
        path.push(subtree_hash(src, start, start + k)?);
    }
    Ok(())
}

/// Room for a proof in a tree of `size` leaves: at most one hash per level, plus one for a
/// consistency proof's first node. Sized exactly rather than for the largest tree, because a
/// request of 1 KiB or more makes glibc's allocator consolidate its free lists first, which the
/// receipts of 64 concurrent writers turned into 6% of all CPU.
fn path_capacity(size: u64) -> usize {
    (u64::BITS - size.saturating_sub(1).leading_zeros()) as usize + 1
}

/// RFC 9162 §2.1.4.1 PROOF(m, D[n]); empty when m == n.
pub fn consistency_proof(
    src: &impl NodeSource,
    from: u64,
    to: u64,
) -> Result<Vec<Hash>, ProofError> {
    if from == 0 || from > to {
        return Err(ProofError::BadSizes { from, to });
    }
    let mut path = Vec::with_capacity(path_capacity(to));
    if from < to {
        subproof(src, from, 0, to, true, &mut path)?;
    }
    Ok(path)
}

fn subproof(
    src: &impl NodeSource,
    m: u64,
    start: u64,
    end: u64,
    whole: bool,
    path: &mut Vec<Hash>,
) -> Result<(), ProofError> {
    let n = end - start;
    if m == n {
        if !whole {
            path.push(subtree_hash(src, start, end)?);
        }
        return Ok(());
    }
    let k = split_point(n);
    if m <= k {
        subproof(src, m, start, start + k, whole, path)?;
        path.push(subtree_hash(src, start + k, end)?);
    } else {
        subproof(src, m - k, start + k, end, false, path)?;
        path.push(subtree_hash(src, start, start + k)?);
    }
    Ok(())
}

/// The complete subtrees an inclusion proof reads (for one batched fetch).
pub fn needed_nodes_for_inclusion(index: u64, size: u64) -> Result<Vec<NodeId>, ProofError> {
    let recorder = NodeRecorder::default();
    inclusion_proof(&recorder, index, size)?;
    Ok(recorder.into_ids())
}

/// The complete subtrees a consistency proof reads (for one batched fetch).
pub fn needed_nodes_for_consistency(from: u64, to: u64) -> Result<Vec<NodeId>, ProofError> {
    let recorder = NodeRecorder::default();
    consistency_proof(&recorder, from, to)?;
    Ok(recorder.into_ids())
}

/// The complete subtrees the root of a tree of `size` reads.
pub fn needed_nodes_for_root(size: u64) -> Vec<NodeId> {
    let recorder = NodeRecorder::default();
    let _ = root(&recorder, size);
    recorder.into_ids()
}

/// RFC 9162 §2.1.3.2: verify that `leaf` is at `index` in the tree of `size` with `root`.
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf: &Hash,
    proof: &[Hash],
    expected_root: &Hash,
) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let (mut fnode, mut snode) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if snode == 0 {
            return Err(ProofError::WrongLength);
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node_hash(p, &r);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(ProofError::WrongLength);
    }
    if &r != expected_root {
        return Err(ProofError::Mismatch);
    }
    Ok(())
}

/// RFC 9162 §2.1.4.2: verify that the tree (`to`, `new_root`) extends (`from`, `old_root`).
pub fn verify_consistency(
    from: u64,
    to: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    if from > to {
        return Err(ProofError::BadSizes { from, to });
    }
    if from == to {
        if !proof.is_empty() {
            return Err(ProofError::WrongLength);
        }
        return if old_root == new_root {
            Ok(())
        } else {
            Err(ProofError::Mismatch)
        };
    }
    if from == 0 {
        return Err(ProofError::BadSizes { from, to });
    }
    if proof.is_empty() {
        return Err(ProofError::WrongLength);
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if from.is_power_of_two() {
        path.push(*old_root);
    }
    path.extend_from_slice(proof);
    let (mut fnode, mut snode) = (from - 1, to - 1);
    while fnode & 1 == 1 {
        fnode >>= 1;
        snode >>= 1;
    }
    let (mut fr, mut sr) = (path[0], path[0]);
    for c in &path[1..] {
        if snode == 0 {
            return Err(ProofError::WrongLength);
        }
        if fnode & 1 == 1 || fnode == snode {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(ProofError::WrongLength);
    }
    if &fr != old_root || &sr != new_root {
        return Err(ProofError::Mismatch);
    }
    Ok(())
}

/// The maximal complete subtrees ("peaks") of a tree: all an appender needs to keep.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompactRange {
    size: u64,
    peaks: Vec<(NodeId, Hash)>,
}

impl CompactRange {
    /// Node ids of the peaks of a tree of `size` leaves, left to right.
    pub fn peak_ids(size: u64) -> Vec<NodeId> {
        let mut ids = Vec::new();
        let mut start = 0u64;
        for level in (0..64u8).rev() {
            if size & (1u64 << level) != 0 {
                ids.push(NodeId::new(level, start >> level));
                start += 1u64 << level;
            }
        }
        ids
    }

    /// Rebuilds the range from stored peak hashes.
    pub fn from_source(size: u64, src: &impl NodeSource) -> Result<Self, ProofError> {
        let peaks = Self::peak_ids(size)
            .into_iter()
            .map(|id| src.node(id).map(|h| (id, h)))
            .collect::<Result<_, _>>()?;
        Ok(Self { size, peaks })
    }

    /// Leaves appended so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The peaks, left to right, with their hashes.
    pub fn peaks(&self) -> &[(NodeId, Hash)] {
        &self.peaks
    }

    /// Appends a leaf hash; calls `completed` for every interior node this completes.
    pub fn append(&mut self, leaf: Hash, mut completed: impl FnMut(NodeId, Hash)) {
        self.peaks.push((NodeId::new(0, self.size), leaf));
        self.size += 1;
        while self.peaks.len() >= 2 {
            let n = self.peaks.len();
            let (left_id, left) = self.peaks[n - 2];
            let (right_id, right) = self.peaks[n - 1];
            if left_id.level != right_id.level {
                break;
            }
            let id = NodeId::new(left_id.level + 1, left_id.index >> 1);
            let hash = node_hash(&left, &right);
            self.peaks.truncate(n - 2);
            self.peaks.push((id, hash));
            completed(id, hash);
        }
    }

    /// The root hash (MTH) of the tree, folded from its peaks.
    pub fn root(&self) -> Hash {
        let mut iter = self.peaks.iter().rev();
        let Some((_, last)) = iter.next() else {
            return EMPTY_ROOT;
        };
        iter.fold(*last, |acc, (_, peak)| node_hash(peak, &acc))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hx(s: &str) -> Hash {
        let v = hex::decode(s).unwrap();
        v.try_into().unwrap()
    }

    /// RFC 6962 reference leaves, as carried by transparency-dev/merkle testonly.
    fn reference_leaves() -> Vec<Vec<u8>> {
        [
            "",
            "00",
            "10",
            "2021",
            "3031",
            "40414243",
            "5051525354555657",
            "606162636465666768696a6b6c6d6e6f",
        ]
        .iter()
        .map(|s| hex::decode(s).unwrap())
        .collect()
    }

    const REFERENCE_ROOTS: [&str; 8] = [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];

    fn build(leaves: &[Vec<u8>]) -> (CompactRange, HashMap<NodeId, Hash>) {
        let mut nodes = HashMap::new();
        let mut range = CompactRange::default();
        for (i, leaf) in leaves.iter().enumerate() {
            let h = leaf_hash(leaf);
            nodes.insert(NodeId::new(0, i as u64), h);
            range.append(h, |id, hash| {
                nodes.insert(id, hash);
            });
        }
        (range, nodes)
    }

    /// The sequencer's `NodeMap` answers proofs as the default map does, and its hasher spreads
    /// a tree's positions: no more than a few of a 1,000-leaf tree's nodes share a bucket.
    #[test]
    fn node_map_gives_the_same_proofs_and_spreads_positions() {
        use std::hash::BuildHasher as _;
        let leaves: Vec<Vec<u8>> = (0..1000u32).map(|i| i.to_be_bytes().to_vec()).collect();
        let (range, nodes) = build(&leaves);
        let fast: NodeMap = nodes.iter().map(|(id, h)| (*id, *h)).collect();
        for size in [1, 2, 3, 7, 64, 999, 1000] {
            for index in (0..size).step_by(37) {
                assert_eq!(
                    inclusion_proof(&fast, index, size).unwrap(),
                    inclusion_proof(&nodes, index, size).unwrap()
                );
            }
        }
        assert_eq!(root(&fast, 1000).unwrap(), range.root());
        let hasher = rustc_hash::FxBuildHasher;
        let buckets = (nodes.len() * 2).next_power_of_two() as u64;
        let mut load = HashMap::new();
        for id in nodes.keys() {
            *load
                .entry(hasher.hash_one(id) & (buckets - 1))
                .or_insert(0u32) += 1;
        }
        assert!(load.values().all(|&n| n <= 8), "{:?}", load.values().max());
    }

    #[test]
    fn reference_roots_and_empty_tree() {
        assert_eq!(
            hex::encode(EMPTY_ROOT),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        let leaves = reference_leaves();
        for size in 1..=8 {
            let (range, nodes) = build(&leaves[..size]);
            assert_eq!(
                hex::encode(range.root()),
                REFERENCE_ROOTS[size - 1],
                "size {size}"
            );
            assert_eq!(
                hex::encode(root(&nodes, size as u64).unwrap()),
                REFERENCE_ROOTS[size - 1]
            );
        }
    }

    #[test]
    fn reference_inclusion_vectors() {
        // (1-based leaf, size, proof) from transparency-dev/merkle's RFC 6962 vectors.
        let vectors: Vec<(u64, u64, Vec<&str>)> = vec![
            (1, 1, vec![]),
            (
                1,
                8,
                vec![
                    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
                ],
            ),
            (
                6,
                8,
                vec![
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                ],
            ),
            (
                3,
                3,
                vec!["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
            ),
            (
                2,
                5,
                vec![
                    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                ],
            ),
        ];
        let leaves = reference_leaves();
        let (_, nodes) = build(&leaves);
        for (leaf, size, want) in vectors {
            let want: Vec<Hash> = want.iter().map(|h| hx(h)).collect();
            let got = inclusion_proof(&nodes, leaf - 1, size).unwrap();
            assert_eq!(got, want, "leaf {leaf} size {size}");
            let root = hx(REFERENCE_ROOTS[size as usize - 1]);
            let lh = leaf_hash(&leaves[leaf as usize - 1]);
            verify_inclusion(leaf - 1, size, &lh, &got, &root).unwrap();
            // The corruptions the reference probes apply must all fail.
            assert!(verify_inclusion(leaf, size, &lh, &got, &root).is_err() || size == 1);
            assert!(verify_inclusion(leaf - 1, size * 2, &lh, &got, &root).is_err());
            assert!(verify_inclusion(leaf - 1, size, &lh, &got, &EMPTY_ROOT).is_err());
            let mut longer = got.clone();
            longer.push(root);
            assert!(verify_inclusion(leaf - 1, size, &lh, &longer, &root).is_err());
            for i in 0..got.len() {
                let mut bad = got.clone();
                bad[i][0] ^= 8;
                assert!(verify_inclusion(leaf - 1, size, &lh, &bad, &root).is_err());
            }
            if !got.is_empty() {
                assert!(
                    verify_inclusion(leaf - 1, size, &lh, &got[..got.len() - 1], &root).is_err()
                );
            }
        }
    }

    #[test]
    fn reference_consistency_vectors() {
        let vectors: Vec<(u64, u64, Vec<&str>)> = vec![
            (1, 1, vec![]),
            (
                1,
                8,
                vec![
                    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
                ],
            ),
            (
                6,
                8,
                vec![
                    "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                ],
            ),
            (
                2,
                5,
                vec![
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                ],
            ),
            (
                6,
                7,
                vec![
                    "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                    "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                ],
            ),
        ];
        let (_, nodes) = build(&reference_leaves());
        for (from, to, want) in vectors {
            let want: Vec<Hash> = want.iter().map(|h| hx(h)).collect();
            let got = consistency_proof(&nodes, from, to).unwrap();
            assert_eq!(got, want, "{from} -> {to}");
            let r1 = hx(REFERENCE_ROOTS[from as usize - 1]);
            let r2 = hx(REFERENCE_ROOTS[to as usize - 1]);
            verify_consistency(from, to, &r1, &r2, &got).unwrap();
            if !got.is_empty() {
                assert!(
                    verify_consistency(from, to, &r2, &r1, &got).is_err(),
                    "swapped roots"
                );
                assert!(verify_consistency(from + 1, to, &r1, &r2, &got).is_err());
                assert!(verify_consistency(from, to, &r1, &r2, &[]).is_err());
                assert!(verify_consistency(from, to, &r1, &r2, &got[..got.len() - 1]).is_err());
                for i in 0..got.len() {
                    let mut bad = got.clone();
                    bad[i][0] ^= 16;
                    assert!(verify_consistency(from, to, &r1, &r2, &bad).is_err());
                }
            }
        }
        // The reference "additional" probes.
        assert!(verify_consistency(0, 0, &EMPTY_ROOT, &EMPTY_ROOT, &[]).is_ok());
        assert!(verify_consistency(0, 1, &EMPTY_ROOT, &EMPTY_ROOT, &[EMPTY_ROOT]).is_err());
        assert!(verify_consistency(1, 1, &EMPTY_ROOT, &EMPTY_ROOT, &[EMPTY_ROOT]).is_err());
        assert!(verify_consistency(2, 1, &EMPTY_ROOT, &EMPTY_ROOT, &[]).is_err());
        assert!(verify_consistency(1, 2, &EMPTY_ROOT, &[1; 32], &[]).is_err());
    }

    #[test]
    fn needed_nodes_stay_logarithmic() {
        for size in [1u64, 2, 3, 1000, 1 << 20, 10_000_000, (1 << 40) + 12345] {
            let n = needed_nodes_for_inclusion(size / 3, size).unwrap();
            assert!(n.len() <= 2 * 64, "size {size}: {} nodes", n.len());
            let peaks = CompactRange::peak_ids(size);
            assert_eq!(peaks.len() as u32, size.count_ones());
        }
        let c = needed_nodes_for_consistency(9_999_999, 10_000_000).unwrap();
        assert!(c.len() <= 2 * 64);
    }
}
