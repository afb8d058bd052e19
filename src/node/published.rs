//! What this node has already signed and handed out, kept beside its key so that it never
//! signs a second history. The newest published checkpoint is copied to `published.checkpoint`
//! in the data folder (by `serve` every second while it changes, and when it stops); a node
//! whose database is missing, empty, shorter than that checkpoint or different from it at that
//! size refuses to start — a restored backup or a swapped database would otherwise fork the log.

use std::io::Write as _;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use crate::error::{ServiceError, StartRefusal};
use crate::storage::{DbConnection, log_store};

/// The file, in the data folder, holding the newest checkpoint this node published.
pub const PUBLISHED_FILE: &str = "published.checkpoint";

/// The size and root hash a checkpoint note states (its second and third lines).
fn size_and_root(note: &str) -> Option<(u64, Vec<u8>)> {
    let mut lines = note.lines().skip(1);
    let size = lines.next()?.parse().ok()?;
    let root = B64.decode(lines.next()?).ok()?;
    Some((size, root))
}

/// Records `note` as the newest published checkpoint: written to a temporary file (0600),
/// synced, renamed over the old one, and the folder synced, so a crash leaves one or the other.
pub fn record(data_dir: &Path, note: &str) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let path = data_dir.join(PUBLISHED_FILE);
    let temporary = data_dir.join(format!("{PUBLISHED_FILE}.new"));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&temporary)?;
    f.write_all(note.as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&temporary, &path)?;
    std::fs::File::open(data_dir)?.sync_all()
}

/// The newest published checkpoint recorded in the folder, if any.
pub fn recorded(data_dir: &Path) -> Result<Option<String>, ServiceError> {
    match std::fs::read_to_string(data_dir.join(PUBLISHED_FILE)) {
        Ok(note) => Ok(Some(note)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(ServiceError::Internal(format!("{PUBLISHED_FILE}: {e}"))),
    }
}

/// Refuses a database whose log does not extend what this node published: shorter than it, or
/// with another root at its size. A folder with no record (a node from before it existed, or
/// that never served) is checked only for having a log at all.
pub fn check_extends(
    data_dir: &Path,
    c: &mut DbConnection,
    database: &str,
) -> Result<(), ServiceError> {
    match recorded(data_dir)? {
        Some(note) => check_note_extended_by(&note, c, database),
        None => log_size(c, database).map(|_| ()),
    }
}

/// The size of the database's log, refusing one that holds none (a database missing, emptied,
/// or made new under an existing key).
fn log_size(c: &mut DbConnection, database: &str) -> Result<u64, ServiceError> {
    let (size, _) = log_store::head(c)?;
    if size == 0 {
        return Err(ServiceError::StartRefused(StartRefusal::NoDatabase {
            database: database.to_owned(),
        }));
    }
    Ok(size)
}

/// Refuses a database whose log is shorter than the checkpoint `note`, or has another root at
/// its size.
pub fn check_note_extended_by(
    note: &str,
    c: &mut DbConnection,
    database: &str,
) -> Result<(), ServiceError> {
    let size = log_size(c, database)?;
    let Some((published, root)) = size_and_root(note) else {
        return Err(ServiceError::Internal(format!(
            "{PUBLISHED_FILE} does not hold a checkpoint"
        )));
    };
    if size < published {
        return Err(ServiceError::StartRefused(
            StartRefusal::OlderThanPublished { size, published },
        ));
    }
    let at = log_store::latest_checkpoint_within(c, Some(published))?;
    match at {
        Some(row)
            if u64::try_from(row.tree_size).ok() == Some(published) && row.root_hash == root =>
        {
            Ok(())
        }
        _ => Err(ServiceError::StartRefused(
            StartRefusal::DiffersFromPublished { published },
        )),
    }
}

/// Refuses a secret file that others may read or write (mode beyond 0600).
pub fn check_private(path: &Path) -> Result<(), ServiceError> {
    use std::os::unix::fs::PermissionsExt as _;
    let Ok(meta) = std::fs::metadata(path) else {
        return Ok(());
    };
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(ServiceError::StartRefused(StartRefusal::KeyOpenToOthers {
            file: path.display().to_string(),
            mode,
        }));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkpoint_note_gives_its_size_and_root() {
        let note =
            "tg.police.dcpj/scelle\n42\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n\n— sig\n";
        let (size, root) = size_and_root(note).unwrap();
        assert_eq!(size, 42);
        assert_eq!(root, (0u8..32).collect::<Vec<_>>());
        assert!(size_and_root("origin\nnot a number\nAA==\n").is_none());
        assert!(size_and_root("").is_none());
    }
}
