//! The journal, the manifest and the status of a migration as stored under
//! `.port-convention/backups/<id>/`; what they mean is the pure
//! [`crate::migrate::journal`].

use std::fs::{self, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

#[allow(unused_imports)]
use super::{apply::*, failpoint::*, fs::*, lock::*};
use crate::migrate::{self, Event, FileState, Plan, Status, is_migration_id, sha256_hex, state_of};
use crate::{BackupProblem, Error, PlanProblem};

use super::STATE_DIR;

pub(super) fn append_event(dir: &Path, event: &Event) -> Result<(), Error> {
    let path = dir.join("journal.jsonl");
    let line =
        serde_json::to_string(event).map_err(|e| io_error(&path, std::io::Error::other(e)))?;
    let mut options = OpenOptions::new();
    options.create(true).append(true);
    let mut file = no_follow(&mut options)
        .open(&path)
        .map_err(|e| io_error(&path, e))?;
    let meta = file.metadata().map_err(|e| io_error(&path, e))?;
    if !meta.is_file() {
        return Err(Error::NotRegularFile {
            path,
            kind: crate::io::file_kind(meta.file_type()).to_owned(),
        });
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        if meta.nlink() > 1 {
            return Err(Error::UnsafePath {
                path: path.display().to_string(),
                problem: crate::PathProblem::HardLinked,
                context: " (the journal); migrate appends only to its own journal".into(),
            });
        }
    }
    file.write_all(format!("{line}\n").as_bytes())
        .map_err(|e| io_error(&path, e))?;
    file.sync_all().map_err(|e| io_error(&path, e))
}

/// Reads a journal; a torn last line (a crash while appending) is ignored.
pub(super) fn read_journal(dir: &Path) -> Result<Vec<Event>, Error> {
    let path = dir.join("journal.jsonl");
    match fs::symlink_metadata(&path) {
        Ok(meta) if !meta.is_file() => {
            return Err(damaged(
                dir,
                BackupProblem::NotARegularFile {
                    file: "journal.jsonl".into(),
                    kind: crate::io::file_kind(meta.file_type()).to_owned(),
                },
            ));
        }
        _ => {}
    }
    let Some(bytes) = read_bytes_if_exists(&path)? else {
        return Ok(Vec::new());
    };
    let text = String::from_utf8_lossy(&bytes);
    Ok(text
        .lines()
        .filter_map(|line| serde_json::from_str::<Event>(line).ok())
        .collect())
}

/// One file of a backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestEntry {
    /// The file, relative to the root.
    pub file: String,
    /// SHA-256 of the file before the migration (and of its backup copy).
    pub sha256: String,
    /// SHA-256 the migration gives it.
    pub new_sha256: String,
    /// Its size in bytes before the migration.
    pub size: u64,
}

/// The manifest of a backup (`manifest.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// The migration's id (its directory name).
    pub id: String,
    /// The root the files are relative to.
    pub root: String,
    /// UTC time of the backup.
    pub created: String,
    /// Every file.
    pub files: Vec<ManifestEntry>,
}

pub(super) fn read_manifest(dir: &Path) -> Result<Option<Manifest>, Error> {
    let path = dir.join("manifest.json");
    let Some(bytes) = read_bytes_if_exists(&path)? else {
        return Ok(None);
    };
    serde_json::from_slice(&bytes).map(Some).map_err(|err| {
        damaged(
            dir,
            BackupProblem::UnreadableManifest {
                message: crate::error::user_terms(&err.to_string()),
            },
        )
    })
}

/// The way out of a damaged backup, in the error itself.
pub(super) fn damaged(dir: &Path, problem: BackupProblem) -> Error {
    let shown = crate::report::escape_text(&dir.display().to_string());
    Error::DamagedBackup {
        dir: dir.to_owned(),
        problem,
        way_out: format!(
            "nothing was changed. migrate cannot tell from it which files it wrote: check the tree \
             with `git status` / `git diff` (the copies taken before the migration, if any, are in \
             {shown}/files/), then move the backup aside, for example `mv {shown} {shown}.damaged` \
             (a directory whose name is not a migration id is ignored), and run the command again"
        ),
    }
}

pub(super) fn now_secs() -> i64 {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    i64::try_from(secs).unwrap_or(0)
}

/// Now, as `(20251102T101530Z, 2025-11-02T10:15:30Z)`.
pub(super) fn now_utc() -> (String, String) {
    migrate::journal::utc_of(now_secs())
}

pub(super) fn backups_dir(root: &Path) -> PathBuf {
    root.join(STATE_DIR).join("backups")
}

/// The ids of every migration under `root`, oldest first: the directories
/// of `.port-convention/backups/` named like a migration id that hold a
/// `plan.json` (a directory without one is a start that never wrote it).
///
/// # Errors
///
/// [`Error::Io`] when the backups directory exists but cannot be read,
/// [`Error::UnsafePath`] when `.port-convention` or its `backups` is a
/// symbolic link or not a directory.
pub fn migrations(root: &Path) -> Result<Vec<String>, Error> {
    if !check_state_dir(&root.join(STATE_DIR), "state directory .port-convention")? {
        return Ok(Vec::new());
    }
    let dir = backups_dir(root);
    if !check_state_dir(&dir, "backups directory .port-convention/backups")? {
        return Ok(Vec::new());
    }
    let entries = fs::read_dir(&dir).map_err(|e| io_error(&dir, e))?;
    let mut ids: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter(|e| fs::symlink_metadata(e.path().join("plan.json")).is_ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| is_migration_id(name))
        .collect();
    ids.sort();
    Ok(ids)
}

pub(super) fn file_state(root: &Path, file: &migrate::FilePlan) -> FileState {
    let sha = read_bytes(&root.join(&file.file))
        .ok()
        .map(|bytes| sha256_hex(&bytes));
    FileState::of(file, sha.as_deref())
}

/// Parses the text of a plan; `None` with the reason when it is not one.
pub(super) fn parse_plan(bytes: &[u8]) -> Result<Plan, PlanProblem> {
    let plan: Plan = serde_json::from_slice(bytes).map_err(|err| {
        if err.is_eof() {
            PlanProblem::Torn {
                line: err.line(),
                column: err.column(),
            }
        } else {
            PlanProblem::NotAPlan {
                line: err.line(),
                column: err.column(),
                message: crate::error::user_terms(&err.to_string()),
            }
        }
    })?;
    if plan.format != migrate::PLAN_FORMAT || plan.version != migrate::PLAN_VERSION {
        return Err(PlanProblem::OtherFormat {
            format: crate::error::excerpt(&plan.format, 40),
            version: plan.version,
        });
    }
    Ok(plan)
}

/// The plan of a backup directory, its file names checked.
///
/// # Errors
///
/// [`Error::DamagedBackup`] when `plan.json` is torn, foreign or not a
/// regular file; [`Error::UnsafePath`] when it names a file outside the root.
pub(super) fn load_backup_plan(dir: &Path) -> Result<Plan, Error> {
    let path = dir.join("plan.json");
    match fs::symlink_metadata(&path) {
        Ok(meta) if meta.is_file() => {}
        Ok(meta) => {
            return Err(damaged(
                dir,
                BackupProblem::NotARegularFile {
                    file: "plan.json".into(),
                    kind: crate::io::file_kind(meta.file_type()).to_owned(),
                },
            ));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(damaged(
                dir,
                BackupProblem::Missing {
                    what: "plan.json".into(),
                },
            ));
        }
        Err(e) => return Err(io_error(&path, e)),
    }
    let bytes = read_bytes(&path)?;
    let plan = parse_plan(&bytes)
        .map_err(|problem| damaged(dir, BackupProblem::Plan(Box::new(problem))))?;
    migrate::check_plan_paths(&plan, &path.display().to_string()).map_err(|err| match err {
        Error::UnsafePath {
            path,
            problem,
            context,
        } => Error::UnsafePath {
            path,
            problem,
            context: format!(
                "{context}. This backup was not made by migrate in this tree (a repository can ship \
                 its own .port-convention/): if you did not run this migration, delete {}",
                crate::report::escape_text(&dir.display().to_string())
            ),
        },
        other => other,
    })?;
    Ok(plan)
}

/// Whether a backup directory shows no sign that its migration wrote
/// anything: no journal event, no manifest, no copies. A torn `plan.json`
/// there is a start that stopped while writing it (files are written only
/// after the manifest).
pub(super) fn never_started(dir: &Path) -> Result<bool, Error> {
    Ok(read_journal(dir)?.is_empty()
        && fs::symlink_metadata(dir.join("manifest.json")).is_err()
        && fs::symlink_metadata(dir.join("files")).is_err())
}

/// The migration `id` (default: the last one whose backup can be read)
/// with its directory and plan. A last backup that never started (torn
/// `plan.json`, nothing else) is passed over.
pub(super) fn find_migration(
    root: &Path,
    id: Option<&str>,
) -> Result<Option<(String, PathBuf, Plan)>, Error> {
    let Some(id) = id else {
        let tomorrow = migrate::journal::utc_of(now_secs() + 86_400).0;
        for id in migrations(root)?.into_iter().rev() {
            let dir = backups_dir(root).join(&id);
            if id.get(..16).is_some_and(|stamp| stamp > tomorrow.as_str()) {
                // It would be "the last migration" for ever, hiding the real
                // ones from `status` and `rollback`.
                return Err(damaged(&dir, BackupProblem::DatedInTheFuture));
            }
            match load_backup_plan(&dir) {
                Ok(plan) => return Ok(Some((id, dir, plan))),
                Err(Error::DamagedBackup { .. }) if never_started(&dir)? => {}
                Err(err) => return Err(err),
            }
        }
        return Ok(None);
    };
    if !is_migration_id(id) {
        return Err(Error::UnknownMigration {
            id: id.to_owned(),
            problem: crate::MigrationIdProblem::NotAnId,
        });
    }
    let dir = backups_dir(root).join(id);
    let exists = check_state_dir(&root.join(STATE_DIR), "state directory .port-convention")?
        && check_state_dir(
            &backups_dir(root),
            "backups directory .port-convention/backups",
        )?
        && check_state_dir(&dir, "backup directory")?;
    if !exists || fs::symlink_metadata(dir.join("plan.json")).is_err() {
        return Err(Error::UnknownMigration {
            id: dir.display().to_string(),
            problem: crate::MigrationIdProblem::NoBackup,
        });
    }
    let plan = load_backup_plan(&dir)?;
    Ok(Some((id.to_owned(), dir, plan)))
}

/// The status of migration `id` (default: the last one) under `root`;
/// `None` when there is none.
///
/// # Errors
///
/// [`Error::Io`], [`Error::UnknownMigration`] for an unknown id,
/// [`Error::DamagedBackup`] for a backup that cannot be read (with the way
/// out), [`Error::UnsafePath`] for a plan naming files outside the root.
pub fn status(root: &Path, id: Option<&str>) -> Result<Option<Status>, Error> {
    Ok(status_and_plan(root, id)?.map(|(status, _)| status))
}

/// [`status`] with the plan of the migration.
pub(super) fn status_and_plan(
    root: &Path,
    id: Option<&str>,
) -> Result<Option<(Status, Plan)>, Error> {
    let Some((id, dir, plan)) = find_migration(root, id)? else {
        return Ok(None);
    };
    resolve_plan(root, &plan, &dir.join("plan.json").display().to_string())?;
    if let Some(manifest) = read_manifest(&dir)? {
        check_manifest(root, &dir, &manifest, &plan)?;
    }
    let events = read_journal(&dir)?;
    let verified = events.iter().rev().find_map(|e| match e {
        Event::Verified { ok, .. } => Some(*ok),
        _ => None,
    });
    let files = plan
        .files
        .iter()
        .map(|f| (f.file.clone(), file_state(root, f)))
        .collect();
    Ok(Some((
        Status {
            id,
            dir,
            state: state_of(&events),
            verified,
            files,
            events,
        },
        plan,
    )))
}

/// The path of the backup copy of `entry`, checked: `files/` and every
/// directory below it are real directories of the backup, the copy is a
/// regular file.
pub(super) fn backup_copy(dir: &Path, entry: &str) -> Result<PathBuf, Error> {
    if !check_state_dir(&dir.join("files"), "backup's files directory")? {
        return Err(damaged(
            dir,
            BackupProblem::Missing {
                what: "its files/ directory".into(),
            },
        ));
    }
    resolve_inside(&dir.join("files"), entry, "a backup copy")
}

pub(super) fn verify_backup(dir: &Path, manifest: &Manifest) -> Vec<migrate::Note> {
    let mut reasons = Vec::new();
    for entry in &manifest.files {
        let bytes = backup_copy(dir, &entry.file).and_then(|path| read_bytes(&path));
        match bytes {
            Ok(bytes) if sha256_hex(&bytes) == entry.sha256 => {}
            Ok(_) => reasons.push(migrate::Note::new(migrate::Code::BackupDamaged, format!(
                "the backup copy of {} does not match its manifest (SHA-256 {}); the backup is damaged",
                entry.file,
                short(&entry.sha256)
            )).at(&entry.file, 0, 0)),
            Err(e) => reasons.push(migrate::Note::new(migrate::Code::BackupDamaged, format!(
                "the backup copy of {} cannot be read: {e}",
                entry.file
            )).at(&entry.file, 0, 0)),
        }
    }
    reasons
}

/// Checks a backup's manifest against its plan and the root: every entry
/// is a file of the plan (with the plan's hashes), listed once, and
/// resolves inside the root; otherwise the rollback is refused as a whole.
pub(super) fn check_manifest(
    root: &Path,
    dir: &Path,
    manifest: &Manifest,
    plan: &Plan,
) -> Result<(), Error> {
    let what = format!("{}", dir.join("manifest.json").display());
    let mut seen = std::collections::BTreeSet::new();
    for (i, entry) in manifest.files.iter().enumerate() {
        migrate::check_entry(
            &entry.file,
            &format!("files[{i}].file"),
            &what,
            "nothing was restored",
        )?;
        let Some(planned) = plan.files.iter().find(|f| f.file == entry.file) else {
            return Err(damaged(
                dir,
                BackupProblem::NotInPlan {
                    file: entry.file.clone(),
                },
            ));
        };
        if planned.sha256 != entry.sha256 || planned.new_sha256 != entry.new_sha256 {
            return Err(damaged(
                dir,
                BackupProblem::HashesDisagree {
                    file: entry.file.clone(),
                },
            ));
        }
        if !seen.insert(entry.file.as_str()) {
            return Err(damaged(
                dir,
                BackupProblem::ListedTwice {
                    file: entry.file.clone(),
                },
            ));
        }
        resolve_inside(root, &entry.file, &what)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_backup_dated_in_the_future_is_reported() {
        let root = tempfile::tempdir().unwrap();
        let dir = root
            .path()
            .join(".port-convention/backups/99991231T235959Z");
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("plan.json"), "{}").unwrap();
        let err = status(root.path(), None).unwrap_err();
        assert_eq!(err.code(), "damaged-backup");
        assert!(err.to_string().contains("dated in the future"), "{err}");
    }
}
