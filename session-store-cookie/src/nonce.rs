//! Random 96-bit nonces, drawn from the OS CSPRNG in batches.
//!
//! Each seal takes a fresh random nonce. One `getrandom` system call costs
//! about as much as sealing a small session, so the bytes are drawn
//! [`BATCH`] nonces at a time into a per-thread buffer and handed out once
//! each; a used nonce is wiped from the buffer. The nonces are exactly as
//! random as drawing them one by one: only the system call is shared.
//!
//! With random nonces, a key may seal about 2^32 cookies before the chance
//! of a repeated nonce reaches 2^-32 (NIST SP 800-38D); rotate the key well
//! before that.
//!
//! Fork: a process that forks copies this buffer. If both parent and child
//! then seal, they could reuse nonces. A pre-forking server must therefore
//! not seal in the parent before it forks (the usual case: the parent serves
//! no requests).

use std::cell::RefCell;

use ring::aead::NONCE_LEN;
use ring::rand::{SecureRandom, SystemRandom};

/// Nonces drawn per system call.
pub(crate) const BATCH: usize = 64;

struct Batch {
    bytes: [u8; NONCE_LEN * BATCH],
    /// Offset of the next unused nonce; `bytes.len()` when empty.
    next: usize,
}

thread_local! {
    static NONCES: RefCell<Batch> = const {
        RefCell::new(Batch { bytes: [0; NONCE_LEN * BATCH], next: NONCE_LEN * BATCH })
    };
}

/// A fresh random nonce, or `None` when the OS generator fails.
pub(crate) fn next(rng: &SystemRandom) -> Option<[u8; NONCE_LEN]> {
    NONCES.with(|cell| {
        let mut batch = cell.borrow_mut();
        if batch.next >= batch.bytes.len() {
            rng.fill(&mut batch.bytes).ok()?;
            batch.next = 0;
        }
        let at = batch.next;
        let mut nonce = [0u8; NONCE_LEN];
        let used = &mut batch.bytes[at..at + NONCE_LEN];
        nonce.copy_from_slice(used);
        used.fill(0);
        batch.next = at + NONCE_LEN;
        Some(nonce)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn nonces_are_distinct_across_batches() {
        let rng = SystemRandom::new();
        let seen: HashSet<[u8; NONCE_LEN]> = (0..BATCH * 5 + 3)
            .map(|_| next(&rng).expect("rng"))
            .collect();
        assert_eq!(seen.len(), BATCH * 5 + 3);
        assert!(!seen.contains(&[0u8; NONCE_LEN]));
    }

    #[test]
    fn threads_get_their_own_nonces() {
        let rng = SystemRandom::new();
        let here = next(&rng).expect("rng");
        let there = std::thread::spawn(|| next(&SystemRandom::new()).expect("rng"))
            .join()
            .expect("thread");
        assert_ne!(here, there);
    }
}
