//! The node's secret files in its data folder: the signing key and the vault key, written once
//! with mode 0600 and synced, never overwritten.

use std::path::Path;

use scelle_verifier::note::NoteSigner;

use crate::error::ServiceError;

/// The node's Ed25519 signing key, in the C2SP signed-note private-key form.
pub const KEY_FILE: &str = "node.key";

/// The next signing key while a rotation is under way (`scelle key rotate`): until `scelle key
/// retire`, every note the node signs carries both signatures.
pub const NEXT_KEY_FILE: &str = "node.next.key";

/// Reads the node's signing key from its data folder, with the next key beside it during a
/// rotation.
pub fn load_signer(data_dir: &Path) -> Result<NoteSigner, ServiceError> {
    let signer = read_key(&data_dir.join(KEY_FILE))?;
    let next = data_dir.join(NEXT_KEY_FILE);
    if !next.exists() {
        return Ok(signer);
    }
    signer.with_next(read_key(&next)?).map_err(|e| {
        ServiceError::Internal(format!("{} does not sign this log: {e}", next.display()))
    })
}

fn read_key(path: &Path) -> Result<NoteSigner, ServiceError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ServiceError::Internal(format!("cannot read node key {}: {e}", path.display()))
    })?;
    NoteSigner::from_private_key_string(&text)
        .map_err(|e| ServiceError::Internal(format!("node key {} is invalid: {e}", path.display())))
}

/// Creates `path` with mode 0600 and `contents`, synced; refuses to replace an existing file.
pub fn write_private_file(path: &Path, contents: &str) -> Result<(), ServiceError> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| ServiceError::Internal(format!("cannot create {}: {e}", path.display())))?;
    f.write_all(contents.as_bytes())
        .and_then(|_| f.sync_all())
        .map_err(|e| ServiceError::Internal(format!("cannot write {}: {e}", path.display())))
}
