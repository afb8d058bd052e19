//! Streaming SHA-256 of evidence files, as fast as the hash itself allows.
//!
//! Evidence images run to hundreds of gigabytes, so memory stays flat (a few 1 MiB buffers) and
//! reading overlaps hashing: a reader thread fills buffers while this thread hashes the previous
//! one, which keeps the one core doing SHA-256 busy instead of waiting on `read`.

use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::Path;
use std::sync::mpsc;

const CHUNK: usize = 1 << 20;
const BUFFERS: usize = 3;

/// Hashes the file at `path`; `on_progress` gets the byte count of each chunk hashed.
pub fn sha256_file(path: &Path, mut on_progress: impl FnMut(u64)) -> std::io::Result<[u8; 32]> {
    let mut file = std::fs::File::open(path)?;
    let (full_tx, full_rx) = mpsc::sync_channel::<std::io::Result<(Vec<u8>, usize)>>(BUFFERS);
    let (empty_tx, empty_rx) = mpsc::sync_channel::<Vec<u8>>(BUFFERS);
    for _ in 0..BUFFERS {
        // The channel holds exactly BUFFERS, so this cannot block or fail.
        let _ = empty_tx.send(vec![0u8; CHUNK]);
    }
    std::thread::scope(|scope| {
        scope.spawn(move || {
            while let Ok(mut buf) = empty_rx.recv() {
                let read = read_full(&mut file, &mut buf);
                let done = !matches!(read, Ok(n) if n > 0);
                if full_tx.send(read.map(|n| (buf, n))).is_err() || done {
                    break;
                }
            }
        });
        let mut hasher = Sha256::new();
        while let Ok(chunk) = full_rx.recv() {
            let (buf, n) = chunk?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            on_progress(n as u64);
            let _ = empty_tx.send(buf);
        }
        Ok(hasher.finalize().into())
    })
}

/// Reads until `buf` is full or the file ends; the count read.
fn read_full(file: &mut std::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn matches_in_memory_hash_across_chunk_boundaries() {
        for size in [0usize, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 17] {
            let data: Vec<u8> = (0..size).map(|i| (i * 31 % 251) as u8).collect();
            let mut file = tempfile::NamedTempFile::new().unwrap();
            file.write_all(&data).unwrap();
            let mut seen = 0u64;
            let digest = sha256_file(file.path(), |n| seen += n).unwrap();
            assert_eq!(
                digest,
                <[u8; 32]>::from(Sha256::digest(&data)),
                "size {size}"
            );
            assert_eq!(seen, size as u64);
        }
    }

    #[test]
    fn missing_file_is_an_error() {
        assert!(sha256_file(Path::new("/nonexistent/scelle-test"), |_| {}).is_err());
    }
}
