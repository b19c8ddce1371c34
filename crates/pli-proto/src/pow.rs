//! Registration proof of work: `SHA-256("pli-pow-v1" ‖ len(challenge) ‖ challenge ‖
//! username ‖ nonce_le)` must start with `difficulty` zero bits. Binding the username means
//! every account costs its own work even if a challenge is reused; challenges expire within
//! minutes so work cannot be stockpiled. It slows bulk sign-ups without asking anyone who
//! they are.

use sha2::{Digest, Sha256};

const DOMAIN: &[u8] = b"pli-pow-v1";

fn digest(challenge: &str, username: &str, nonce: u64) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(DOMAIN);
    hasher.update((challenge.len() as u64).to_le_bytes());
    hasher.update(challenge.as_bytes());
    hasher.update(username.as_bytes());
    hasher.update(nonce.to_le_bytes());
    hasher.finalize().into()
}

fn leading_zero_bits(hash: &[u8; 32]) -> u32 {
    let mut bits = 0;
    for byte in hash {
        if *byte == 0 {
            bits += 8;
        } else {
            bits += byte.leading_zeros();
            break;
        }
    }
    bits
}

/// True when `nonce` solves the puzzle.
pub fn verify(challenge: &str, username: &str, nonce: u64, difficulty: u8) -> bool {
    leading_zero_bits(&digest(challenge, username, nonce)) >= u32::from(difficulty)
}

/// Finds a solution by counting up from zero. Expected cost: 2^difficulty hashes.
pub fn solve(challenge: &str, username: &str, difficulty: u8) -> u64 {
    (0..=u64::MAX)
        .find(|nonce| verify(challenge, username, *nonce, difficulty))
        .expect("a 64-bit nonce space holds a solution for any difficulty up to 64 bits")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_solution_verifies_only_for_its_username_and_challenge() {
        let nonce = solve("challenge", "alice", 12);
        assert!(verify("challenge", "alice", nonce, 12));
        // A solution found for one name is, with overwhelming odds, useless for another.
        let others = ["bob", "carol", "dave", "erin"];
        assert!(
            others
                .iter()
                .any(|name| !verify("challenge", name, nonce, 12))
        );
        assert!(!verify("other", "alice", nonce, 12) || !verify("other2", "alice", nonce, 12));
    }

    #[test]
    fn zero_difficulty_accepts_anything() {
        assert!(verify("c", "u", 0, 0));
    }
}
