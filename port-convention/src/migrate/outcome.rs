//! What `apply`, `resume`, `rollback` and `status` report: plain data, made
//! by `io::migrate` and rendered by `report::migrate`.

use std::path::PathBuf;

use serde::Serialize;

use super::{Event, FileState, Plan, State};
use crate::Finding;

/// Progress of a long step, for an indicator.
#[derive(Debug, Clone, Copy)]
pub enum Progress<'a> {
    /// Copying files into the backup.
    Backup {
        /// Files done.
        done: usize,
        /// Files in all.
        total: usize,
        /// The file being copied.
        file: &'a str,
    },
    /// Writing files.
    Write {
        /// Files done.
        done: usize,
        /// Files in all.
        total: usize,
        /// The file being written.
        file: &'a str,
    },
    /// Restoring files.
    Restore {
        /// Files done.
        done: usize,
        /// Files in all.
        total: usize,
        /// The file being restored.
        file: &'a str,
    },
}

/// What `apply` did.
#[derive(Debug, Clone)]
pub struct ApplyOutcome {
    /// The migration's id.
    pub id: String,
    /// Its backup directory.
    pub backup_dir: PathBuf,
    /// Whether an interrupted migration was resumed.
    pub resumed: bool,
    /// Files written now.
    pub written: Vec<String>,
    /// Files that already had their new text (resume).
    pub already: Vec<String>,
    /// Drift left for the migrated services after the re-scan (empty: verified).
    pub remaining: Vec<Finding>,
    /// The plan applied.
    pub plan: Plan,
}

/// What `rollback` did.
#[derive(Debug, Clone)]
pub struct RollbackOutcome {
    /// The migration rolled back.
    pub id: String,
    /// Its backup directory.
    pub backup_dir: PathBuf,
    /// Files restored now.
    pub restored: Vec<String>,
    /// Files that were already as before.
    pub unchanged: Vec<String>,
    /// Whether it had already been rolled back (nothing done).
    pub already_rolled_back: bool,
    /// Compose files whose published ports go back (restart these stacks).
    pub stacks: Vec<String>,
}

/// A migration's status.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    /// Its id.
    pub id: String,
    /// Its backup directory.
    pub dir: PathBuf,
    /// Where it stands.
    pub state: State,
    /// Whether the re-scan after writing found no drift (`None`: not run).
    pub verified: Option<bool>,
    /// Each file of the plan with its state on disk.
    pub files: Vec<(String, FileState)>,
    /// The journal.
    pub events: Vec<Event>,
}
