//! The Merkle tree of an append-only log, as RFC 6962 §2.1 (and RFC 9162) defines it:
//! leaf hash `SHA-256(0x00 ‖ entry)`, node hash `SHA-256(0x01 ‖ left ‖ right)`, the split
//! at the largest power of two below the size. Inclusion and consistency proofs let anyone
//! holding two checkpoints check that the log only grew, without the whole log.

use sha2::{Digest, Sha256};

/// A SHA-256 digest: a leaf, a node or a tree root.
pub type Hash = [u8; 32];

/// The hash of one log entry's bytes, `SHA-256(0x00 ‖ entry)`: the prefix keeps a leaf
/// from passing for an inner node.
pub fn leaf_hash(entry: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0u8]);
    hasher.update(entry);
    hasher.finalize().into()
}

/// The hash of an inner node, `SHA-256(0x01 ‖ left ‖ right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([1u8]);
    hasher.update(left);
    hasher.update(right);
    hasher.finalize().into()
}

/// The largest power of two strictly below `n` (n ≥ 2).
fn split(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// The root of the tree over `leaves` (leaf hashes). The empty tree's root is SHA-256("").
pub fn root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => Sha256::digest([]).into(),
        1 => leaves[0],
        n => {
            let k = split(n);
            node_hash(&root(&leaves[..k]), &root(&leaves[k..]))
        }
    }
}

/// The audit path for leaf `index` (RFC 6962 §2.1.1): what the log serves so that
/// [`verify_inclusion`] can check one entry against a root without the other entries.
/// Empty if `index` is out of range.
pub fn inclusion_proof(leaves: &[Hash], index: usize) -> Vec<Hash> {
    fn path(leaves: &[Hash], index: usize, out: &mut Vec<Hash>) {
        if leaves.len() <= 1 {
            return;
        }
        let k = split(leaves.len());
        if index < k {
            path(&leaves[..k], index, out);
            out.push(root(&leaves[k..]));
        } else {
            path(&leaves[k..], index - k, out);
            out.push(root(&leaves[..k]));
        }
    }
    let mut out = Vec::new();
    if index < leaves.len() {
        path(leaves, index, &mut out);
    }
    out
}

/// Checks that `leaf` is entry `index` of the tree of `size` leaves with root `root`
/// (RFC 9162 §2.1.3.2).
///
/// A log of three entries, the path of its second entry checked against its root; a
/// changed entry, a wrong position or another root is refused:
///
/// ```
/// use pli_proto::merkle::{inclusion_proof, leaf_hash, root, verify_inclusion};
/// let leaves: Vec<_> = [&b"entry 0"[..], b"entry 1", b"entry 2"]
///     .iter()
///     .map(|entry| leaf_hash(entry))
///     .collect();
/// let tree_root = root(&leaves);
/// let proof = inclusion_proof(&leaves, 1);
/// assert!(verify_inclusion(&leaves[1], 1, 3, &proof, &tree_root));
///
/// assert!(!verify_inclusion(&leaf_hash(b"entry 1, edited"), 1, 3, &proof, &tree_root));
/// assert!(!verify_inclusion(&leaves[1], 2, 3, &proof, &tree_root));
/// assert!(!verify_inclusion(&leaves[1], 1, 3, &proof, &root(&leaves[..2])));
/// assert!(!verify_inclusion(&leaves[1], 3, 3, &proof, &tree_root), "past the end");
/// ```
pub fn verify_inclusion(leaf: &Hash, index: u64, size: u64, proof: &[Hash], root: &Hash) -> bool {
    if index >= size {
        return false;
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if sn == 0 {
            return false;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    sn == 0 && r == *root
}

/// The consistency proof from the tree's first `old_size` leaves to all of them
/// (RFC 6962 §2.1.2), for [`verify_consistency`]. Empty when there is nothing to prove
/// (`old_size` 0 or not below the tree's size).
pub fn consistency_proof(leaves: &[Hash], old_size: usize) -> Vec<Hash> {
    fn subproof(m: usize, leaves: &[Hash], complete: bool, out: &mut Vec<Hash>) {
        let n = leaves.len();
        if m == n {
            if !complete {
                out.push(root(leaves));
            }
            return;
        }
        let k = split(n);
        if m <= k {
            subproof(m, &leaves[..k], complete, out);
            out.push(root(&leaves[k..]));
        } else {
            subproof(m - k, &leaves[k..], false, out);
            out.push(root(&leaves[..k]));
        }
    }
    let mut out = Vec::new();
    if old_size > 0 && old_size < leaves.len() {
        subproof(old_size, leaves, true, &mut out);
    }
    out
}

/// Checks that the tree of `new_size` leaves with `new_root` extends the tree of
/// `old_size` leaves with `old_root` (RFC 9162 §2.1.4.2): the log only grew, nothing in
/// its first `old_size` entries changed.
///
/// A log of three entries grown to five verifies against its earlier root; a history
/// rewritten under the old checkpoint, or a log cut back, does not:
///
/// ```
/// use pli_proto::merkle::{consistency_proof, leaf_hash, root, verify_consistency};
/// let leaves: Vec<_> = (0..5).map(|i| leaf_hash(format!("entry {i}").as_bytes())).collect();
/// let (old_root, new_root) = (root(&leaves[..3]), root(&leaves));
/// let proof = consistency_proof(&leaves, 3);
/// assert!(verify_consistency(3, 5, &old_root, &new_root, &proof));
///
/// // Entry 1 rewritten: the new tree no longer extends the one the old checkpoint signed.
/// let mut rewritten = leaves.clone();
/// rewritten[1] = leaf_hash(b"entry 1, rewritten");
/// let forged = consistency_proof(&rewritten, 3);
/// assert!(!verify_consistency(3, 5, &old_root, &root(&rewritten), &forged));
/// // Nor can the same proof vouch for another size, or for a log that shrank.
/// assert!(!verify_consistency(2, 5, &root(&leaves[..2]), &new_root, &proof));
/// assert!(!verify_consistency(5, 3, &new_root, &old_root, &proof));
/// ```
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> bool {
    if old_size > new_size {
        return false;
    }
    if old_size == new_size {
        return proof.is_empty() && old_root == new_root;
    }
    if old_size == 0 {
        return proof.is_empty();
    }
    let mut path: Vec<Hash> = proof.to_vec();
    if old_size.is_power_of_two() {
        path.insert(0, *old_root);
    }
    let Some((first, rest)) = path.split_first() else {
        return false;
    };
    let (mut fn_, mut sn) = (old_size - 1, new_size - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if sn == 0 {
            return false;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    sn == 0 && fr == *old_root && sr == *new_root
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn leaves(n: usize) -> Vec<Hash> {
        (0..n)
            .map(|i| leaf_hash(format!("entry {i}").as_bytes()))
            .collect()
    }

    #[test]
    fn matches_rfc_6962_shapes() {
        let l = leaves(3);
        assert_eq!(root(&l), node_hash(&node_hash(&l[0], &l[1]), &l[2]));
        assert_eq!(root(&l[..1]), l[0]);
        assert_eq!(
            hex::encode(root(&[])),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    proptest! {
        #[test]
        fn every_inclusion_proof_verifies_and_a_wrong_leaf_does_not(n in 1usize..70, seed in any::<usize>()) {
            let l = leaves(n);
            let index = seed % n;
            let r = root(&l);
            let proof = inclusion_proof(&l, index);
            prop_assert!(verify_inclusion(&l[index], index as u64, n as u64, &proof, &r));
            prop_assert!(!verify_inclusion(&leaf_hash(b"forged"), index as u64, n as u64, &proof, &r));
            if n > 1 {
                let other = (index + 1) % n;
                prop_assert!(!verify_inclusion(&l[index], other as u64, n as u64, &proof, &r));
            }
        }

        #[test]
        fn every_consistency_proof_verifies_and_a_rewritten_history_does_not(n in 1usize..70, seed in any::<usize>()) {
            let l = leaves(n);
            let m = 1 + seed % n;
            let proof = consistency_proof(&l, m);
            prop_assert!(verify_consistency(m as u64, n as u64, &root(&l[..m]), &root(&l), &proof));
            let mut rewritten = l.clone();
            rewritten[seed % m] = leaf_hash(b"rewritten");
            prop_assert!(m == n || !verify_consistency(m as u64, n as u64, &root(&rewritten[..m]), &root(&l), &proof));
        }
    }
}
