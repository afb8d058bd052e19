//! Random bytes for ids, salts, nonces and data keys, from OpenSSL's CSPRNG drawn a block at a
//! time.
//!
//! Each append needs half a dozen small random values; asking OpenSSL for each one cost about
//! 2 µs of locking and bookkeeping per call, more than the AES-GCM sealing they serve. A
//! thread keeps one block of CSPRNG output and hands it out in order; every byte is served once
//! and wiped from the block as it is served, and large requests go to OpenSSL directly.

use std::cell::RefCell;

const BLOCK: usize = 4096;

struct Block {
    bytes: Box<[u8; BLOCK]>,
    /// Bytes before this offset were served (and wiped).
    served: usize,
}

thread_local! {
    static BLOCK_OF_THREAD: RefCell<Block> = RefCell::new(Block {
        bytes: Box::new([0u8; BLOCK]),
        served: BLOCK,
    });
}

/// Fills `out` with cryptographically secure random bytes.
pub fn fill(out: &mut [u8]) -> Result<(), openssl::error::ErrorStack> {
    if out.len() > BLOCK / 8 {
        return openssl::rand::rand_bytes(out);
    }
    BLOCK_OF_THREAD.with_borrow_mut(|block| {
        if BLOCK - block.served < out.len() {
            openssl::rand::rand_bytes(&mut block.bytes[..])?;
            block.served = 0;
        }
        let range = block.served..block.served + out.len();
        out.copy_from_slice(&block.bytes[range.clone()]);
        block.bytes[range].fill(0);
        block.served += out.len();
        Ok(())
    })
}

/// `N` random bytes.
pub fn bytes<const N: usize>() -> Result<[u8; N], openssl::error::ErrorStack> {
    let mut out = [0u8; N];
    fill(&mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn values_never_repeat_across_blocks_and_threads() {
        let draw = || {
            (0..3 * BLOCK / 16)
                .map(|_| bytes::<16>().map_err(|e| e.to_string()))
                .collect::<Result<Vec<_>, _>>()
        };
        let other = std::thread::spawn(draw);
        let mut seen = HashSet::new();
        for value in draw()
            .unwrap()
            .into_iter()
            .chain(other.join().unwrap().unwrap())
        {
            assert_ne!(value, [0u8; 16], "a served value was a wiped (zero) slot");
            assert!(seen.insert(value), "a 128-bit random value repeated");
        }
        assert_eq!(seen.len(), 2 * 3 * BLOCK / 16);
    }

    #[test]
    fn served_bytes_are_wiped_and_large_requests_bypass_the_block() {
        let first: [u8; 32] = bytes().unwrap();
        BLOCK_OF_THREAD.with_borrow(|block| {
            assert!(block.bytes[..block.served].iter().all(|&b| b == 0));
            assert!(block.served >= 32);
        });
        let served_before = BLOCK_OF_THREAD.with_borrow(|block| block.served);
        let mut large = vec![0u8; BLOCK];
        fill(&mut large).unwrap();
        assert_eq!(
            BLOCK_OF_THREAD.with_borrow(|block| block.served),
            served_before
        );
        assert!(large.iter().any(|&b| b != 0));
        assert_ne!(&large[..32], &first[..]);
    }
}
