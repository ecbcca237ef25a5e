//! The exclusive lock of a tree's migrations.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

#[allow(unused_imports)]
use super::{apply::*, failpoint::*, fs::*, journal::*};
use crate::Error;

use super::STATE_DIR;

/// The name of the file under `.port-convention/` that records the pid of
/// the process holding the migration lock.
pub(super) const LOCK_FILE: &str = "lock";

/// The exclusive lock of a tree's migrations, held by `apply`, `resume`
/// and `rollback` from start to end.
///
/// It is an advisory `flock` (`File::try_lock`) on the root directory
/// itself: the kernel releases it when the process dies, however it dies,
/// so a killed migration never leaves a stale lock, and taking it creates
/// no file (a refused pre-flight still writes nothing). The holder's pid is
/// recorded in `.port-convention/lock` as soon as that directory exists, for
/// the message of a second process; that file is only informative.
pub(super) struct MigrationLock {
    root: PathBuf,
    recorded: bool,
    _file: File,
}

impl MigrationLock {
    pub(super) fn take(root: &Path) -> Result<MigrationLock, Error> {
        let file = Self::lock_target(root)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                return Err(Error::MigrationLocked {
                    root: root.to_owned(),
                    pid: read_lock_pid(root),
                });
            }
            Err(fs::TryLockError::Error(e)) => return Err(io_error(root, e)),
        }
        let mut lock = MigrationLock {
            root: root.to_owned(),
            recorded: false,
            _file: file,
        };
        lock.record()?;
        failpoint("after-lock");
        Ok(lock)
    }

    #[cfg(unix)]
    pub(super) fn lock_target(root: &Path) -> Result<File, Error> {
        File::open(root).map_err(|e| io_error(root, e))
    }

    #[cfg(not(unix))]
    pub(super) fn lock_target(root: &Path) -> Result<File, Error> {
        // Directories cannot be opened as files here: lock a file of the
        // state directory instead.
        create_dirs_no_follow(root, STATE_DIR)?;
        let path = root.join(STATE_DIR).join("lock.flock");
        OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| io_error(&path, e))
    }

    /// Records this process's pid once the state directory exists.
    pub(super) fn record(&mut self) -> Result<(), Error> {
        if self.recorded || !check_state_dir(&self.root.join(STATE_DIR), "state directory")? {
            return Ok(());
        }
        write_atomic(
            &self.root.join(STATE_DIR).join(LOCK_FILE),
            format!("{}\n", std::process::id()).as_bytes(),
            None,
            false,
        )?;
        self.recorded = true;
        Ok(())
    }
}

impl Drop for MigrationLock {
    fn drop(&mut self) {
        // Still holding the lock here (the file closes after this body).
        if self.recorded && read_lock_pid(&self.root) == Some(std::process::id()) {
            let _ = fs::remove_file(self.root.join(STATE_DIR).join(LOCK_FILE));
        }
    }
}

/// The pid recorded in `.port-convention/lock`, if any.
pub(super) fn read_lock_pid(root: &Path) -> Option<u32> {
    let bytes = read_bytes_if_exists(&root.join(STATE_DIR).join(LOCK_FILE)).ok()??;
    if bytes.len() > 20 {
        return None;
    }
    String::from_utf8_lossy(&bytes).trim().parse().ok()
}

/// Writes `.port-convention/.gitignore` unless it already holds exactly
/// `*` (a full disk can leave it empty, a repository can ship another one;
/// without it `check` would scan the backups).
pub(super) fn ensure_gitignore(root: &Path) -> Result<(), Error> {
    let path = root.join(STATE_DIR).join(".gitignore");
    if matches!(read_bytes_if_exists(&path), Ok(Some(bytes)) if bytes == b"*\n") {
        return Ok(());
    }
    write_atomic(&path, b"*\n", None, false)
}
