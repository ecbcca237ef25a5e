//! `rollback`: restore every file of a migration from its backup, byte for
//! byte.

use std::fs::{self};
use std::path::Path;

#[allow(unused_imports)]
use super::{apply::*, failpoint::*, fs::*, journal::*, lock::*};
use crate::Error;
use crate::migrate::{
    Code, Event, FileState, Note, Plan, Progress, RollbackOutcome, State, sha256_hex,
};

/// Restores every file of migration `id` (default: the last one) under
/// `root` from its backup, byte for byte, after verifying the backup against
/// its manifest. Refuses, unless `force`, when a file changed since the
/// migration wrote it.
///
/// The backup is not trusted (a repository can ship its own
/// `.port-convention/`): only entries of the manifest that are files of the
/// plan, with the plan's hashes, inside the root and not behind a symbolic
/// link are restored; anything else refuses the whole rollback.
///
/// # Errors
///
/// [`Error::MigrationRefused`] with every reason; [`Error::UnsafePath`] and
/// [`Error::DamagedBackup`] for a backup that names files outside the root
/// or disagrees with its plan; [`Error::MigrationLocked`]; [`Error::Io`]
/// when a write fails (run `rollback` again).
pub fn rollback(
    root: &Path,
    id: Option<&str>,
    force: bool,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<RollbackOutcome, Error> {
    let mut lock = MigrationLock::take(root)?;
    let Some((status, plan)) = status_and_plan(root, id)? else {
        return Err(refuse(vec![Note::new(
            Code::NoMigration,
            format!(
                "there is no migration under {} to roll back",
                crate::report::escape_text(&root.display().to_string())
            ),
        )]));
    };
    let dir = status.dir.clone();
    let mut outcome = RollbackOutcome {
        id: status.id.clone(),
        backup_dir: dir.clone(),
        restored: Vec::new(),
        unchanged: Vec::new(),
        already_rolled_back: false,
        stacks: plan.stacks.clone(),
    };
    if status.state == State::RolledBack {
        outcome.already_rolled_back = true;
        return Ok(outcome);
    }
    let manifest = read_manifest(&dir)?;
    let mut reasons = Vec::new();
    let Some(manifest) = manifest else {
        // The backup never finished, so no file was written (files are
        // written only after the manifest).
        for (file, state) in &status.files {
            if *state != FileState::Old {
                reasons.push(Note::new(Code::BackupIncomplete, format!(
                    "{file} changed, but the backup of this migration is incomplete: restore it by hand"
                )).at(file, 0, 0));
            }
        }
        if !reasons.is_empty() {
            return Err(refuse(reasons));
        }
        lock.record()?;
        remove_stale_scratch(root, &plan);
        append_event(
            &dir,
            &Event::RollbackBegin {
                time: now_utc().1,
                force,
            },
        )?;
        append_event(&dir, &Event::RolledBack { time: now_utc().1 })?;
        outcome.unchanged = status.files.iter().map(|(f, _)| f.clone()).collect();
        outcome.stacks.clear();
        return Ok(outcome);
    };
    check_manifest(root, &dir, &manifest, &plan)?;
    reasons.extend(verify_backup(&dir, &manifest));
    for (file, state) in &status.files {
        match state {
            FileState::Changed if !force => {
                let message = format!(
                    "{file} changed since the migration wrote it; rolling back would lose that \
                     change (force the rollback to restore it anyway)"
                );
                reasons.push(Note::new(Code::ChangedSinceMigration, message).at(file, 0, 0));
            }
            FileState::Missing if !force => {
                let message = format!(
                    "{file} was deleted since the migration; force the rollback to restore it"
                );
                reasons.push(Note::new(Code::ChangedSinceMigration, message).at(file, 0, 0));
            }
            _ => {}
        }
    }
    let mut to_restore = Vec::new();
    for entry in &manifest.files {
        let state = status
            .files
            .iter()
            .find(|(f, _)| *f == entry.file)
            .map_or(FileState::Missing, |(_, s)| *s);
        if state == FileState::Old {
            outcome.unchanged.push(entry.file.clone());
        } else {
            to_restore.push(entry.clone());
        }
    }
    let dirs_ok: Vec<Note> = writable_problems(
        root,
        &Plan {
            files: plan
                .files
                .iter()
                .filter(|f| {
                    to_restore.iter().any(|e| e.file == f.file)
                        && fs::symlink_metadata(root.join(&f.file)).is_ok()
                })
                .cloned()
                .collect(),
            ..plan.clone()
        },
    );
    reasons.extend(dirs_ok);
    if !reasons.is_empty() {
        return Err(refuse(reasons));
    }
    lock.record()?;
    remove_stale_scratch(root, &plan);
    append_event(
        &dir,
        &Event::RollbackBegin {
            time: now_utc().1,
            force,
        },
    )?;
    let total = to_restore.len();
    for (done, entry) in to_restore.iter().enumerate() {
        progress(Progress::Restore {
            done,
            total,
            file: &entry.file,
        });
        let bytes = read_bytes(&backup_copy(&dir, &entry.file)?)?;
        if sha256_hex(&bytes) != entry.sha256 {
            return Err(refuse(vec![
                Note::new(
                    Code::ChangedDuringMigration,
                    format!(
                        "the backup copy of {} changed during the rollback",
                        entry.file
                    ),
                )
                .at(&entry.file, 0, 0),
            ]));
        }
        if let Some((parent, _)) = entry.file.rsplit_once('/') {
            create_dirs_no_follow(root, parent)?;
        }
        let path = resolve_inside(root, &entry.file, "the backup's manifest")?;
        write_atomic(&path, &bytes, None, false)?;
        failpoint("rollback-after-restore");
        append_event(
            &dir,
            &Event::Restored {
                file: entry.file.clone(),
            },
        )?;
        outcome.restored.push(entry.file.clone());
    }
    append_event(&dir, &Event::RolledBack { time: now_utc().1 })?;
    Ok(outcome)
}
