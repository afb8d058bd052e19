//! Backups of a node, and restoring one without forking its log (issue 29, item 8).
//!
//! A backup is a folder (0700) holding a consistent copy of the SQLite database (`VACUUM INTO`,
//! taken while the node serves), the node's secret keys, the newest checkpoint the node had
//! published, and `backup.json`, which names the log and the SHA-256 of every file. A restore
//! checks those digests, audits the copied log, and refuses it when it does not extend the
//! newest checkpoint the node published (the target folder's, if newer than the backup's):
//! starting on an older log would sign a second history. PostgreSQL is backed up with its own
//! tools (`pg_dump`, `pg_basebackup`) beside a copy of the key files (README).
//!
//! A backup holds what the node held when it was taken, erased records and the epoch key that
//! opens them included: backups are kept no longer than the retention rules allow.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};

use scelle_verifier::note::NoteSigner;

use crate::clock::Clock;
use crate::error::{BackupRefusal, ServiceError};
use crate::ledger::audit;
use crate::node::files::{KEY_FILE, load_signer};
use crate::node::published::{self, PUBLISHED_FILE};
use crate::node::vault::{EPOCH_KEYS_FILE, VAULT_KEY_FILE};
use crate::storage::{self, DatabaseUrl, log_store};

/// The manifest of a backup folder.
pub const MANIFEST_FILE: &str = "backup.json";
/// The database's name in a backup folder and in a data folder.
const DATABASE_FILE: &str = "scelle.db";
/// The node's secret files and its identity between nodes, copied as they are (those present).
const SECRET_FILES: [&str; 8] = [
    KEY_FILE,
    crate::node::files::NEXT_KEY_FILE,
    VAULT_KEY_FILE,
    EPOCH_KEYS_FILE,
    crate::network::peers::WITNESS_KEY_FILE,
    crate::network::peers::TLS_KEY_FILE,
    crate::network::peers::TLS_CERT_FILE,
    crate::network::peers::POLICY_FILE,
];

/// What `backup.json` says.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupManifest {
    /// The log's origin (its checkpoints' name).
    pub origin: String,
    /// Entries in the copied log.
    pub log_size: u64,
    /// When the copy was taken (RFC 3339).
    pub taken_at: String,
    /// Every file of the backup but this one, with its SHA-256 (hex).
    pub files: BTreeMap<String, String>,
}

/// What a restore found and did.
#[derive(Debug, Clone)]
pub struct RestoreReport {
    /// Entries in the restored log.
    pub log_size: u64,
    /// The checkpoint size the log was shown to extend (none when the node never published).
    pub extends_published: Option<u64>,
}

fn refused(why: BackupRefusal) -> ServiceError {
    ServiceError::Backup(why)
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> ServiceError + '_ {
    move |e| ServiceError::Internal(format!("{}: {e}", path.display()))
}

fn sha256_hex(path: &Path) -> Result<String, ServiceError> {
    let bytes = std::fs::read(path).map_err(io(path))?;
    Ok(hex::encode(Sha256::digest(&bytes)))
}

/// Copies `from` to `to`, created 0600 (never over an existing file), synced.
fn copy_private(from: &Path, to: &Path) -> Result<(), ServiceError> {
    let mut source = std::fs::File::open(from).map_err(io(from))?;
    let mut target = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(to)
        .map_err(io(to))?;
    std::io::copy(&mut source, &mut target).map_err(io(to))?;
    target.sync_all().map_err(io(to))
}

fn make_private_dir(dir: &Path) -> Result<(), ServiceError> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(io(dir))
}

/// Takes a backup of the node in `data_dir` into the new folder `to`, while the node may serve.
pub fn backup(
    data_dir: &Path,
    database: &DatabaseUrl,
    to: &Path,
) -> Result<BackupManifest, ServiceError> {
    let DatabaseUrl::Sqlite(db_path) = database else {
        return Err(refused(BackupRefusal::Postgres));
    };
    let signer: NoteSigner = load_signer(data_dir)?;
    if to.exists() && std::fs::read_dir(to).map_err(io(to))?.next().is_some() {
        return Err(refused(BackupRefusal::TargetNotEmpty {
            dir: to.display().to_string(),
        }));
    }
    make_private_dir(to)?;
    // The published checkpoint first: the copy taken after it extends it.
    if data_dir.join(PUBLISHED_FILE).exists() {
        copy_private(&data_dir.join(PUBLISHED_FILE), &to.join(PUBLISHED_FILE))?;
    }
    // An erasure between copying the epoch keys and the database would leave rows under a key
    // the copy does not hold: copy again until the epoch file is the same before and after.
    let mut attempts = 0;
    loop {
        for file in SECRET_FILES {
            let target = to.join(file);
            if target.exists() {
                std::fs::remove_file(&target).map_err(io(&target))?;
            }
            if data_dir.join(file).exists() {
                copy_private(&data_dir.join(file), &target)?;
            }
        }
        let epochs_before = sha256_hex(&to.join(EPOCH_KEYS_FILE)).ok();
        let snapshot = to.join(DATABASE_FILE);
        if snapshot.exists() {
            std::fs::remove_file(&snapshot).map_err(io(&snapshot))?;
        }
        let mut c = DatabaseUrl::Sqlite(db_path.clone()).connect()?;
        storage::snapshot_into(&mut c, &snapshot)?;
        std::fs::set_permissions(
            &snapshot,
            std::os::unix::fs::PermissionsExt::from_mode(0o600),
        )
        .map_err(io(&snapshot))?;
        let epochs_after = sha256_hex(&data_dir.join(EPOCH_KEYS_FILE)).ok();
        attempts += 1;
        if epochs_before == epochs_after || attempts >= 5 {
            break;
        }
    }
    let mut copy = DatabaseUrl::Sqlite(to.join(DATABASE_FILE)).connect()?;
    let (log_size, _) = log_store::head(&mut copy)?;
    drop(copy);
    let mut files = BTreeMap::new();
    for entry in std::fs::read_dir(to).map_err(io(to))? {
        let path = entry.map_err(io(to))?.path();
        if let Some(name) = path.file_name().and_then(|n| n.to_str()) {
            files.insert(name.to_owned(), sha256_hex(&path)?);
        }
    }
    let manifest = BackupManifest {
        origin: signer.name().to_owned(),
        log_size,
        taken_at: Clock::system().now_rfc3339()?,
        files,
    };
    let text = serde_json::to_string_pretty(&manifest)
        .map_err(|e| ServiceError::Internal(e.to_string()))?;
    crate::node::files::write_private_file(&to.join(MANIFEST_FILE), &(text + "\n"))?;
    Ok(manifest)
}

/// Reads a backup folder's manifest and checks every file against it.
fn checked_manifest(from: &Path) -> Result<BackupManifest, ServiceError> {
    let not_a_backup = |detail: String| {
        refused(BackupRefusal::NotABackup {
            dir: from.display().to_string(),
            detail,
        })
    };
    let text = std::fs::read_to_string(from.join(MANIFEST_FILE))
        .map_err(|e| not_a_backup(format!("{MANIFEST_FILE}: {e}")))?;
    let manifest: BackupManifest =
        serde_json::from_str(&text).map_err(|e| not_a_backup(format!("{MANIFEST_FILE}: {e}")))?;
    for required in [DATABASE_FILE, KEY_FILE] {
        if !manifest.files.contains_key(required) {
            return Err(not_a_backup(format!("{required} missing")));
        }
    }
    for (name, digest) in &manifest.files {
        if name.contains('/') || name.starts_with('.') {
            return Err(not_a_backup(format!("{name}: not a file name")));
        }
        let actual =
            sha256_hex(&from.join(name)).map_err(|_| not_a_backup(format!("{name} missing")))?;
        if &actual != digest {
            return Err(refused(BackupRefusal::Corrupt { file: name.clone() }));
        }
    }
    Ok(manifest)
}

/// Restores the backup in `from` into the data folder `data_dir`: the folder must hold no
/// database (move a damaged one away first) and, if it holds a node key, the same one. The
/// copied log must audit clean and extend the newest checkpoint the node published.
pub fn restore(from: &Path, data_dir: &Path) -> Result<RestoreReport, ServiceError> {
    let manifest = checked_manifest(from)?;
    let target_db = data_dir.join(DATABASE_FILE);
    if target_db.exists() {
        return Err(refused(BackupRefusal::TargetHoldsDatabase {
            database: target_db.display().to_string(),
        }));
    }
    let backup_key = std::fs::read(from.join(KEY_FILE)).map_err(io(from))?;
    if let Ok(key) = std::fs::read(data_dir.join(KEY_FILE))
        && key != backup_key
    {
        return Err(refused(BackupRefusal::OtherNode));
    }
    make_private_dir(data_dir)?;
    // The newest published checkpoint either knows: the folder's own, if it has one and it is
    // newer, else the backup's.
    let published_here = published::recorded(data_dir)?;
    let published_there = std::fs::read_to_string(from.join(PUBLISHED_FILE)).ok();
    let size_of = |note: &Option<String>| {
        note.as_deref()
            .and_then(|n| n.lines().nth(1))
            .and_then(|s| s.parse::<u64>().ok())
    };
    let newest = match (size_of(&published_here), size_of(&published_there)) {
        (Some(here), Some(there)) if there > here => published_there.clone(),
        (Some(_), _) => published_here.clone(),
        (None, _) => published_there.clone(),
    };

    // Checked on a copy beside the target before anything of the folder changes.
    let staging: PathBuf = data_dir.join(format!("{DATABASE_FILE}.restoring"));
    if staging.exists() {
        std::fs::remove_file(&staging).map_err(io(&staging))?;
    }
    copy_private(&from.join(DATABASE_FILE), &staging)?;
    let checked = (|| {
        let url = DatabaseUrl::Sqlite(staging.clone());
        let pool = storage::open_pool(&url, 2)?;
        let key_text =
            std::str::from_utf8(&backup_key).map_err(|e| ServiceError::Internal(e.to_string()))?;
        let verifier = NoteSigner::from_private_key_string(key_text)
            .map_err(|e| ServiceError::Internal(e.to_string()))?
            .verifier()
            .map_err(|e| ServiceError::Internal(e.to_string()))?;
        audit::audit(&pool, &verifier).map_err(|e| {
            refused(BackupRefusal::AuditFailed {
                detail: e.to_string(),
            })
        })?;
        let mut c = storage::get_conn(&pool)?;
        if let Some(note) = &newest {
            published::check_note_extended_by(note, &mut c, &url.to_string())?;
        }
        let (size, _) = log_store::head(&mut c)?;
        if size != manifest.log_size {
            return Err(refused(BackupRefusal::Corrupt {
                file: DATABASE_FILE.into(),
            }));
        }
        Ok::<u64, ServiceError>(size)
    })();
    let log_size = match checked {
        Ok(size) => size,
        Err(e) => {
            let _ = std::fs::remove_file(&staging);
            for side in ["-wal", "-shm"] {
                let _ =
                    std::fs::remove_file(data_dir.join(format!("{DATABASE_FILE}.restoring{side}")));
            }
            return Err(e);
        }
    };
    for file in SECRET_FILES {
        let (source, target) = (from.join(file), data_dir.join(file));
        if source.exists() {
            if target.exists() {
                std::fs::remove_file(&target).map_err(io(&target))?;
            }
            copy_private(&source, &target)?;
        }
    }
    if let Some(note) = &newest {
        published::record(data_dir, note).map_err(io(data_dir))?;
    }
    for side in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(data_dir.join(format!("{DATABASE_FILE}.restoring{side}")));
    }
    std::fs::rename(&staging, &target_db).map_err(io(&target_db))?;
    Ok(RestoreReport {
        log_size,
        extends_published: size_of(&newest),
    })
}
