//! The personal-data vault's encryption (DESIGN §4): each record (the commitment's salt and the
//! value) sealed with AES-256-GCM under its own random data key, and that key wrapped under the
//! vault's current *epoch key*. Keys live in files beside the signing key (mode 0600), never in
//! the database.
//!
//! Erasure deletes the sealed record and its wrapped key — but old copies of database pages
//! outlive a `DELETE` (SQLite's write-ahead log and free pages, PostgreSQL's dead tuples and WAL
//! segments). So an erasure also *rotates* the epoch: a new epoch key wraps every data key still
//! in the vault, and the old epoch key is then destroyed (its file replaced and the old file's
//! bytes overwritten). Every copy of the erased record left anywhere on disk is wrapped under a
//! key that no longer exists. Records sealed before epochs existed (a 60-byte wrapped key) were
//! wrapped under `vault.key` itself; the first rotation re-wraps them too, but older copies of
//! those pages stay openable with `vault.key` (docs/FORMAT.md, "Vault").

use openssl::cipher::{Cipher, CipherRef};
use openssl::cipher_ctx::CipherCtx;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use crate::storage::log_store;
use crate::storage::registry::{self, SealedRow};
use crate::storage::{self, DbConnection};
use scelle_verifier::model::DataCategory;

use crate::error::ServiceError;

/// The vault key's file in the data directory, beside the signing key: it derives the node's
/// other secrets (the session-cookie key) and opens records sealed before epoch keys.
pub const VAULT_KEY_FILE: &str = "vault.key";
/// The epoch keys' file: `<epoch> <64 hex digits>` per line, the last the current one; more
/// than one line only while a rotation is under way.
pub const EPOCH_KEYS_FILE: &str = "vault-epochs.key";
const NONCE: usize = 12;
const TAG: usize = 16;
/// A data key wrapped before epochs: `nonce ‖ ciphertext ‖ tag` under the vault key.
const LEGACY_WRAPPED_LEN: usize = NONCE + 32 + TAG;
/// A data key wrapped under an epoch key: `epoch (u32, big-endian) ‖ nonce ‖ ciphertext ‖ tag`.
const EPOCH_WRAPPED_LEN: usize = 4 + LEGACY_WRAPPED_LEN;
/// Rows re-wrapped per transaction during a rotation.
const REWRAP_PAGE: i64 = 1_000;
/// The node setting naming the epoch key the database's records are wrapped under: its epoch
/// and an HMAC of a fixed label under it (which reveals nothing of the key). A process started
/// on another folder's keys is refused, instead of sealing under an "epoch 1" no other has.
const EPOCH_CHECK_SETTING: &str = "vault_epoch_check";
/// How long a rotation waits for records sealed under the old epoch to reach the table.
const HOLD_WAIT: Duration = Duration::from_secs(30);

/// One epoch's key-wrapping key.
struct EpochKey {
    epoch: u32,
    key: [u8; 32],
}

/// The epoch keys in memory: the current one seals, the older ones (only during a rotation)
/// still open what they wrapped.
struct Ring {
    current: Arc<EpochKey>,
    older: Vec<Arc<EpochKey>>,
    /// The epoch file as last read or written: another process sharing the folder rotates by
    /// replacing it.
    seen: Option<FileStamp>,
}

/// What tells one version of the epoch file from another (it is replaced, never edited).
#[derive(Clone, Copy, PartialEq, Eq)]
struct FileStamp {
    inode: u64,
    modified: Option<std::time::SystemTime>,
}

fn file_stamp(path: &Path) -> Option<FileStamp> {
    use std::os::unix::fs::MetadataExt as _;
    let meta = std::fs::metadata(path).ok()?;
    Some(FileStamp {
        inode: meta.ino(),
        modified: meta.modified().ok(),
    })
}

impl Ring {
    /// The ring of the keys an epoch file lists, oldest first: the last is the current one.
    fn of(mut keys: Vec<EpochKey>, seen: Option<FileStamp>) -> Result<Self, ServiceError> {
        let current = Arc::new(keys.pop().ok_or_else(|| crypto("no epoch key"))?);
        Ok(Self {
            current,
            older: keys.into_iter().map(Arc::new).collect(),
            seen,
        })
    }

    fn key_of(&self, epoch: u32) -> Option<&EpochKey> {
        std::iter::once(&self.current)
            .chain(&self.older)
            .find(|k| k.epoch == epoch)
            .map(|k| &**k)
    }

    fn file_text(&self) -> String {
        let mut keys: Vec<&Arc<EpochKey>> = self.older.iter().collect();
        keys.push(&self.current);
        keys.iter()
            .map(|k| format!("{} {}\n", k.epoch, hex::encode(k.key)))
            .collect()
    }
}

/// The node's vault: the vault key and the epoch keys.
pub struct Vault {
    master: [u8; 32],
    epochs_path: PathBuf,
    ring: RwLock<Ring>,
    rotation: Mutex<()>,
}

/// The current epoch key, held while records sealed under it are on their way to the table: a
/// rotation destroys an old epoch only once no hold on it remains. Keep it until the append
/// that writes the rows has returned.
#[derive(Clone)]
pub struct KeyHold {
    key: Arc<EpochKey>,
}

/// What a rotation did on disk, for the officer who erased.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Rotation {
    /// The epoch that now wraps every record.
    pub key_epoch: u32,
    /// Records re-wrapped under it.
    pub rewrapped: u64,
    /// SQLite: whether the write-ahead log could be emptied (a reader may hold it; the old
    /// pages it keeps are wrapped under destroyed keys either way). `None` on PostgreSQL.
    pub wal_emptied: Option<bool>,
}

fn crypto(e: impl std::fmt::Display) -> ServiceError {
    ServiceError::Internal(format!("vault cryptography: {e}"))
}

fn random<const N: usize>() -> [u8; N] {
    super::ids::random_bytes()
}

/// AES-256-GCM, looked up in OpenSSL's provider once: naming the cipher on every call made
/// OpenSSL 3 search its providers (under a global lock) for each record sealed.
fn aes_256_gcm() -> Result<&'static CipherRef, ServiceError> {
    static FETCHED: LazyLock<Result<Cipher, String>> =
        LazyLock::new(|| Cipher::fetch(None, "AES-256-GCM", None).map_err(|e| e.to_string()));
    match &*FETCHED {
        Ok(cipher) => Ok(cipher),
        Err(e) => Err(crypto(e)),
    }
}

/// `nonce ‖ ciphertext ‖ tag` of `plain` under `key`, bound to `aad`.
fn seal_with(key: &[u8; 32], aad: &[u8], plain: &[u8]) -> Result<Vec<u8>, ServiceError> {
    let nonce: [u8; NONCE] = random();
    let mut ctx = CipherCtx::new().map_err(crypto)?;
    ctx.encrypt_init(Some(aes_256_gcm()?), Some(key), Some(&nonce))
        .map_err(crypto)?;
    let mut out = Vec::with_capacity(NONCE + plain.len() + TAG);
    out.extend_from_slice(&nonce);
    ctx.cipher_update(aad, None).map_err(crypto)?;
    ctx.cipher_update_vec(plain, &mut out).map_err(crypto)?;
    ctx.cipher_final_vec(&mut out).map_err(crypto)?;
    let mut tag = [0u8; TAG];
    ctx.tag(&mut tag).map_err(crypto)?;
    out.extend_from_slice(&tag);
    Ok(out)
}

fn open_with(key: &[u8; 32], aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, ServiceError> {
    if sealed.len() < NONCE + TAG {
        return Err(crypto("sealed record too short"));
    }
    let (nonce, rest) = sealed.split_at(NONCE);
    let (ct, tag) = rest.split_at(rest.len() - TAG);
    let mut ctx = CipherCtx::new().map_err(crypto)?;
    ctx.decrypt_init(Some(aes_256_gcm()?), Some(key), Some(nonce))
        .map_err(crypto)?;
    ctx.set_tag(tag).map_err(crypto)?;
    ctx.cipher_update(aad, None).map_err(crypto)?;
    let mut out = Vec::with_capacity(ct.len() + TAG);
    ctx.cipher_update_vec(ct, &mut out).map_err(crypto)?;
    // The tag is checked here: a changed byte, another key or another record's id fails.
    ctx.cipher_final_vec(&mut out).map_err(crypto)?;
    Ok(out)
}

fn lock_error<T>(_: PoisonError<T>) -> ServiceError {
    ServiceError::Internal("vault key ring lock poisoned".into())
}

fn epoch_aad(id: &str, epoch: u32) -> Vec<u8> {
    let mut aad = Vec::with_capacity(id.len() + 5);
    aad.extend_from_slice(id.as_bytes());
    aad.push(0);
    aad.extend_from_slice(&epoch.to_be_bytes());
    aad
}

fn wrap(key: &EpochKey, id: &str, data_key: &[u8; 32]) -> Result<Vec<u8>, ServiceError> {
    let mut out = Vec::with_capacity(EPOCH_WRAPPED_LEN);
    out.extend_from_slice(&key.epoch.to_be_bytes());
    out.extend(seal_with(&key.key, &epoch_aad(id, key.epoch), data_key)?);
    Ok(out)
}

/// The epoch a wrapped key names; `None` for one wrapped before epochs.
fn epoch_of(wrapped: &[u8]) -> Result<Option<u32>, ServiceError> {
    match wrapped.len() {
        LEGACY_WRAPPED_LEN => Ok(None),
        EPOCH_WRAPPED_LEN => {
            let mut epoch = [0u8; 4];
            epoch.copy_from_slice(&wrapped[..4]);
            Ok(Some(u32::from_be_bytes(epoch)))
        }
        _ => Err(crypto("wrapped key has the wrong length")),
    }
}

/// `<epoch> <hex HMAC-SHA256(epoch key, label)>`: what [`EPOCH_CHECK_SETTING`] records.
fn key_check(key: &EpochKey) -> Result<String, ServiceError> {
    let mac = scelle_verifier::commitment::hmac_sha256(&key.key, &[b"scelle vault epoch check v1"])
        .map_err(crypto)?;
    Ok(format!("{} {}", key.epoch, hex::encode(mac)))
}

fn read_key_hex(text: &str) -> Option<[u8; 32]> {
    hex::decode(text.trim()).ok()?.try_into().ok()
}

fn parse_epochs(path: &Path, text: &str) -> Result<Vec<EpochKey>, ServiceError> {
    let bad = || ServiceError::Internal(format!("epoch key file {} is malformed", path.display()));
    let mut keys: Vec<EpochKey> = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let (epoch, key) = line.trim().split_once(' ').ok_or_else(bad)?;
        let epoch: u32 = epoch.parse().map_err(|_| bad())?;
        if keys.last().is_some_and(|k| k.epoch >= epoch) {
            return Err(bad());
        }
        keys.push(EpochKey {
            epoch,
            key: read_key_hex(key).ok_or_else(bad)?,
        });
    }
    if keys.is_empty() {
        return Err(bad());
    }
    Ok(keys)
}

/// Replaces `path` with `text` (mode 0600) so that a crash leaves the old file or the new one,
/// then overwrites the old file's bytes: an epoch key removed from the file is gone from the
/// disk's files, not only unlinked.
fn replace_key_file(path: &Path, text: &str) -> Result<(), ServiceError> {
    use std::io::{Seek as _, Write as _};
    let io = |e: std::io::Error| {
        ServiceError::Internal(format!("cannot replace {}: {e}", path.display()))
    };
    let staged = path.with_extension("key.new");
    match std::fs::remove_file(&staged) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io(e)),
    }
    super::files::write_private_file(&staged, text)?;
    let old = std::fs::OpenOptions::new().write(true).open(path);
    std::fs::rename(&staged, path).map_err(io)?;
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io)?;
    }
    if let Ok(mut old) = old {
        let len = old.metadata().map_err(io)?.len();
        let zeros = vec![0u8; usize::try_from(len).unwrap_or(0)];
        old.rewind()
            .and_then(|_| old.write_all(&zeros))
            .and_then(|_| old.sync_all())
            .map_err(io)?;
    }
    Ok(())
}

/// Whether any record in the vault is wrapped under an epoch key (so the epoch file must exist).
pub fn any_epoch_wrapped(c: &mut DbConnection) -> Result<bool, ServiceError> {
    let mut after = String::new();
    loop {
        let page = registry::wrapped_keys_after(c, &after, REWRAP_PAGE)?;
        let Some((last, _)) = page.last() else {
            return Ok(false);
        };
        if page.iter().any(|(_, w)| w.len() != LEGACY_WRAPPED_LEN) {
            return Ok(true);
        }
        after = last.clone();
    }
}

impl Vault {
    /// A key for another purpose (e.g. signing session cookies), derived from the vault key
    /// with HMAC-SHA256 under a label, so the node keeps one secret file for its data.
    pub fn derive(&self, label: &[u8]) -> Result<[u8; 32], ServiceError> {
        scelle_verifier::commitment::hmac_sha256(&self.master, &[label]).map_err(crypto)
    }

    /// Reads the vault key and the epoch keys of `data_dir`, creating them (mode 0600) if there
    /// are none yet. The caller checks that a missing file is not a lost one.
    pub fn load_or_create(data_dir: &Path) -> Result<Self, ServiceError> {
        let path = data_dir.join(VAULT_KEY_FILE);
        let master = match std::fs::read_to_string(&path) {
            Ok(text) => read_key_hex(&text).ok_or_else(|| {
                ServiceError::Internal(format!("vault key {} is not 64 hex digits", path.display()))
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key: [u8; 32] = random();
                super::files::write_private_file(&path, &(hex::encode(key) + "\n"))?;
                key
            }
            Err(e) => {
                return Err(ServiceError::Internal(format!(
                    "cannot read vault key {}: {e}",
                    path.display()
                )));
            }
        };
        let epochs_path = data_dir.join(EPOCH_KEYS_FILE);
        let keys = match std::fs::read_to_string(&epochs_path) {
            Ok(text) => parse_epochs(&epochs_path, &text)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let first = EpochKey {
                    epoch: 1,
                    key: random(),
                };
                super::files::write_private_file(
                    &epochs_path,
                    &format!("1 {}\n", hex::encode(first.key)),
                )?;
                vec![first]
            }
            Err(e) => {
                return Err(ServiceError::Internal(format!(
                    "cannot read epoch keys {}: {e}",
                    epochs_path.display()
                )));
            }
        };
        let ring = Ring::of(keys, file_stamp(&epochs_path))?;
        Ok(Self {
            master,
            epochs_path,
            ring: RwLock::new(ring),
            rotation: Mutex::new(()),
        })
    }

    /// Holds the current epoch key to seal records under it (see [`KeyHold`]).
    pub fn hold(&self) -> Result<KeyHold, ServiceError> {
        self.reload_if_changed()?;
        let ring = self.ring.read().map_err(lock_error)?;
        Ok(KeyHold {
            key: Arc::clone(&ring.current),
        })
    }

    /// Checks this folder's epoch keys against the database's record of the one its records are
    /// wrapped under, recording it on a database that has none yet.
    pub fn check_against(&self, c: &mut DbConnection) -> Result<(), ServiceError> {
        let (mine, current) = {
            let ring = self.ring.read().map_err(lock_error)?;
            let mine = std::iter::once(&ring.current)
                .chain(&ring.older)
                .map(|k| key_check(k))
                .collect::<Result<Vec<_>, _>>()?;
            (mine, key_check(&ring.current)?)
        };
        match log_store::setting(c, EPOCH_CHECK_SETTING)? {
            None => Ok(log_store::set_setting(c, EPOCH_CHECK_SETTING, &current)?),
            Some(recorded) if mine.contains(&recorded) => Ok(()),
            Some(recorded) => Err(ServiceError::Internal(format!(
                "the epoch keys in {} are not the ones this database's vault records are wrapped under (epoch {}): start on the node's own data folder, or copy its {EPOCH_KEYS_FILE}",
                self.epochs_path.display(),
                recorded.split(' ').next().unwrap_or("?")
            ))),
        }
    }

    /// Whether older epoch keys still exist (a rotation was interrupted).
    pub fn rotation_unfinished(&self) -> Result<bool, ServiceError> {
        Ok(!self.ring.read().map_err(lock_error)?.older.is_empty())
    }

    fn data_key(&self, id: &str, wrapped: &[u8]) -> Result<[u8; 32], ServiceError> {
        let opened = match epoch_of(wrapped)? {
            None => open_with(&self.master, id.as_bytes(), wrapped)?,
            Some(epoch) => {
                if self
                    .ring
                    .read()
                    .map_err(lock_error)?
                    .key_of(epoch)
                    .is_none()
                {
                    // Another process sharing the folder may have rotated.
                    self.reload_if_changed()?;
                }
                let ring = self.ring.read().map_err(lock_error)?;
                let key = ring
                    .key_of(epoch)
                    .ok_or_else(|| crypto(format!("epoch {epoch} key is destroyed")))?;
                open_with(&key.key, &epoch_aad(id, epoch), &wrapped[4..])?
            }
        };
        opened
            .try_into()
            .map_err(|_| crypto("wrapped key has the wrong length"))
    }

    /// The salt and value of a sealed record.
    pub fn open(&self, row: &SealedRow) -> Result<(Vec<u8>, String), ServiceError> {
        let data_key = self.data_key(&row.id, &row.wrapped_key)?;
        let plain = open_with(&data_key, row.id.as_bytes(), &row.sealed)?;
        let (&salt_len, rest) = plain.split_first().ok_or_else(|| crypto("empty record"))?;
        if rest.len() < salt_len as usize {
            return Err(crypto("record shorter than its salt"));
        }
        let (salt, value) = rest.split_at(salt_len as usize);
        let value = String::from_utf8(value.to_vec()).map_err(crypto)?;
        Ok((salt.to_vec(), value))
    }

    /// Starts a new epoch, re-wraps every data key in the vault under it, destroys the older
    /// epoch keys, then empties SQLite's write-ahead log. Called after an erasure (or a start
    /// that finds a rotation unfinished); one at a time in a process.
    ///
    /// Order: the new key is on disk first; this process's requests still sealing under an old
    /// key are waited for (their rows then reach the table before the pass); the database's
    /// floor is raised, so any later row under an old key — another process's, or one that
    /// waited too long — is refused rather than stored unreadable; one pass re-wraps what is
    /// in the table; only then are the old keys destroyed.
    pub fn rotate(&self, c: &mut DbConnection) -> Result<Rotation, ServiceError> {
        let _one_at_a_time = self.rotation.lock().map_err(lock_error)?;
        self.reload_if_changed()?;
        let current = {
            let mut ring = self.ring.write().map_err(lock_error)?;
            let next = EpochKey {
                epoch: ring
                    .current
                    .epoch
                    .checked_add(1)
                    .ok_or_else(|| crypto("epoch numbers exhausted"))?,
                key: random(),
            };
            let mut staged = Ring {
                current: Arc::new(next),
                older: ring.older.clone(),
                seen: None,
            };
            staged.older.push(Arc::clone(&ring.current));
            replace_key_file(&self.epochs_path, &staged.file_text())?;
            staged.seen = file_stamp(&self.epochs_path);
            log_store::set_setting(c, EPOCH_CHECK_SETTING, &key_check(&staged.current)?)?;
            *ring = staged;
            ring.current.epoch
        };
        if !self.wait_for_old_holds() {
            tracing::warn!(
                epoch = current,
                "a request still sealing under the old vault key after 30 s will be refused"
            );
        }
        registry::raise_vault_epoch_floor(c, current)?;
        let rewrapped = self.rewrap_all(c)?;
        {
            let mut ring = self.ring.write().map_err(lock_error)?;
            let mut destroyed = Ring {
                current: Arc::clone(&ring.current),
                older: Vec::new(),
                seen: None,
            };
            replace_key_file(&self.epochs_path, &destroyed.file_text())?;
            destroyed.seen = file_stamp(&self.epochs_path);
            *ring = destroyed;
        }
        tracing::info!(
            epoch = current,
            rewrapped,
            "vault epoch rotated, older keys destroyed"
        );
        let wal_emptied = storage::empty_wal(c)?;
        if wal_emptied == Some(false) {
            tracing::warn!("SQLite's write-ahead log is held by a reader and was not emptied");
        }
        Ok(Rotation {
            key_epoch: current,
            rewrapped,
            wal_emptied,
        })
    }

    /// Reads the epoch file again if another process sharing the folder replaced it.
    fn reload_if_changed(&self) -> Result<(), ServiceError> {
        let stamp = file_stamp(&self.epochs_path);
        if self.ring.read().map_err(lock_error)?.seen == stamp {
            return Ok(());
        }
        let text = std::fs::read_to_string(&self.epochs_path).map_err(|e| {
            ServiceError::Internal(format!(
                "cannot read epoch keys {}: {e}",
                self.epochs_path.display()
            ))
        })?;
        let read = Ring::of(parse_epochs(&self.epochs_path, &text)?, stamp)?;
        let mut ring = self.ring.write().map_err(lock_error)?;
        if read.current.epoch < ring.current.epoch {
            return Err(crypto(format!(
                "the epoch file {} went back from epoch {} to {}",
                self.epochs_path.display(),
                ring.current.epoch,
                read.current.epoch
            )));
        }
        *ring = read;
        Ok(())
    }

    /// Waits until no [`KeyHold`] on an older epoch remains; false after [`HOLD_WAIT`].
    fn wait_for_old_holds(&self) -> bool {
        let started = Instant::now();
        loop {
            let held = match self.ring.read() {
                Ok(ring) => ring.older.iter().any(|k| Arc::strong_count(k) > 1),
                Err(_) => return false,
            };
            if !held {
                return true;
            }
            if started.elapsed() > HOLD_WAIT {
                return false;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// Re-wraps under the current epoch every data key wrapped under another, a page at a time.
    fn rewrap_all(&self, c: &mut DbConnection) -> Result<u64, ServiceError> {
        let current = Arc::clone(&self.ring.read().map_err(lock_error)?.current);
        let mut after = String::new();
        let mut rewrapped = 0u64;
        loop {
            let page = registry::wrapped_keys_after(c, &after, REWRAP_PAGE)?;
            let Some((last, _)) = page.last() else { break };
            after = last.clone();
            let mut changes = Vec::new();
            for (id, wrapped) in &page {
                if epoch_of(wrapped)? == Some(current.epoch) {
                    continue;
                }
                let data_key = self.data_key(id, wrapped)?;
                changes.push((id.clone(), wrapped.clone(), wrap(&current, id, &data_key)?));
            }
            rewrapped += registry::replace_wrapped_keys(c, &changes)?;
        }
        Ok(rewrapped)
    }
}

impl KeyHold {
    /// Seals a record: a fresh data key encrypts salt and value; the held epoch key wraps it.
    pub fn seal(
        &self,
        id: &str,
        salt: &[u8],
        value: &str,
        created_at: String,
        case_id: Option<String>,
        category: DataCategory,
    ) -> Result<SealedRow, ServiceError> {
        let data_key: [u8; 32] = random();
        let mut plain = Vec::with_capacity(salt.len() + value.len() + 1);
        plain.push(u8::try_from(salt.len()).map_err(crypto)?);
        plain.extend_from_slice(salt);
        plain.extend_from_slice(value.as_bytes());
        let sealed = seal_with(&data_key, id.as_bytes(), &plain)?;
        let wrapped_key = wrap(&self.key, id, &data_key)?;
        Ok(SealedRow {
            id: id.to_owned(),
            sealed,
            wrapped_key,
            created_at,
            case_id,
            category: category.as_str().to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seal(hold: &KeyHold, id: &str, value: &str) -> SealedRow {
        hold.seal(
            id,
            &[7; 32],
            value,
            "t".into(),
            None,
            DataCategory::CaseText,
        )
        .unwrap()
    }

    #[test]
    fn seals_opens_and_refuses_tampering_or_another_record() {
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::load_or_create(dir.path()).unwrap();
        let again = Vault::load_or_create(dir.path()).unwrap();
        assert_eq!(vault.master, again.master);
        use std::os::unix::fs::PermissionsExt as _;
        for file in [VAULT_KEY_FILE, EPOCH_KEYS_FILE] {
            let mode = std::fs::metadata(dir.path().join(file))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{file}");
        }
        let row = seal(&vault.hold().unwrap(), "r1", "Kossi A., Lomé");
        assert!(!row.sealed.windows(5).any(|w| w == b"Kossi"));
        assert_eq!(
            again.open(&row).unwrap(),
            (vec![7; 32], "Kossi A., Lomé".into())
        );
        // The format is plain AES-256-GCM, `epoch ‖ nonce ‖ ciphertext ‖ tag`, bound to the
        // record id and the epoch: OpenSSL's one-shot API, used independently here, opens it.
        assert_eq!(row.wrapped_key.len(), EPOCH_WRAPPED_LEN);
        assert_eq!(row.wrapped_key[..4], 1u32.to_be_bytes());
        let (nonce, rest) = row.wrapped_key[4..].split_at(NONCE);
        let (ct, tag) = rest.split_at(rest.len() - TAG);
        let epoch_key = vault.ring.read().unwrap().current.key;
        let data_key = openssl::symm::decrypt_aead(
            openssl::symm::Cipher::aes_256_gcm(),
            &epoch_key,
            Some(nonce),
            b"r1\0\0\0\0\x01",
            ct,
            tag,
        )
        .unwrap();
        assert_eq!(data_key.len(), 32);
        let mut moved = row.clone();
        moved.id = "r2".into();
        assert!(vault.open(&moved).is_err(), "a record is bound to its id");
        let mut flipped = row.clone();
        flipped.sealed[NONCE] ^= 1;
        assert!(vault.open(&flipped).is_err());
        let mut other_epoch = row.clone();
        other_epoch.wrapped_key[3] = 2;
        assert!(vault.open(&other_epoch).is_err(), "no key for epoch 2");
        let other_dir = tempfile::tempdir().unwrap();
        let other = Vault::load_or_create(other_dir.path()).unwrap();
        assert!(other.open(&row).is_err());
    }

    /// A record wrapped before epochs (60 bytes, under the vault key) still opens.
    #[test]
    fn a_record_wrapped_before_epochs_opens_with_the_vault_key() {
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::load_or_create(dir.path()).unwrap();
        let mut row = seal(&vault.hold().unwrap(), "r1", "valeur");
        let data_key = vault.data_key("r1", &row.wrapped_key).unwrap();
        row.wrapped_key = seal_with(&vault.master, b"r1", &data_key).unwrap();
        assert_eq!(row.wrapped_key.len(), LEGACY_WRAPPED_LEN);
        assert_eq!(vault.open(&row).unwrap().1, "valeur");
    }

    /// Replacing the epoch file leaves no copy of the removed key in the old file's bytes.
    #[test]
    fn a_replaced_key_file_keeps_no_copy_of_the_old_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(EPOCH_KEYS_FILE);
        let old_key = "1 ".to_owned() + &"ab".repeat(32) + "\n";
        std::fs::write(&path, &old_key).unwrap();
        let old_inode = std::fs::File::open(&path).unwrap();
        let new_key = "2 ".to_owned() + &"cd".repeat(32) + "\n";
        replace_key_file(&path, &new_key).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), new_key);
        let mut left = Vec::new();
        use std::io::Read as _;
        (&old_inode).read_to_end(&mut left).unwrap();
        assert_eq!(left.len(), old_key.len());
        assert!(
            left.iter().all(|b| *b == 0),
            "the old file's bytes are overwritten"
        );
        assert!(parse_epochs(&path, "2 zz\n").is_err());
        assert!(parse_epochs(&path, "").is_err());
        assert!(
            parse_epochs(&path, &(new_key.clone() + &old_key)).is_err(),
            "epochs ascend"
        );
    }

    /// Records sealed under two vaults: each is sealed under its own data key and wrapped under
    /// its own vault's epoch key; nothing repeats.
    #[test]
    fn records_of_two_vaults_open_only_in_their_own() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let first = Vault::load_or_create(a.path()).unwrap();
        let second = Vault::load_or_create(b.path()).unwrap();
        let mut data_keys = std::collections::HashSet::new();
        for i in 0..40u8 {
            let (own, foreign) = if (i / 4) % 2 == 0 {
                (&first, &second)
            } else {
                (&second, &first)
            };
            let value = format!("valeur {i}");
            let row = seal(&own.hold().unwrap(), &format!("r{i}"), &value);
            assert_eq!(own.open(&row).unwrap().1, value);
            assert!(
                foreign.open(&row).is_err(),
                "{} opened by the other vault",
                row.id
            );
            assert!(data_keys.insert(own.data_key(&row.id, &row.wrapped_key).unwrap()));
        }
        let hold = first.hold().unwrap();
        let (one, two) = (seal(&hold, "r0", "v"), seal(&hold, "r0", "v"));
        assert_ne!(one.sealed, two.sealed);
        assert_ne!(one.wrapped_key, two.wrapped_key);
    }
}
