//! `apply` and `resume`: pre-flight checks, backup, journal, atomic writes,
//! re-scan.

use std::collections::BTreeMap;
use std::fs::{self, OpenOptions};
use std::path::{Path, PathBuf};

#[allow(unused_imports)]
use super::{failpoint::*, fs::*, journal::*, lock::*};
use crate::migrate::{
    self, ApplyOutcome, Code, Event, FileState, Note, Plan, Progress, State, apply_edits,
    remaining_drift, sha256_hex, target_conflicts,
};
use crate::{Convention, Error};

use super::{STATE_DIR, read_tree};

/// How `apply` and `rollback` run.
#[derive(Debug, Clone, Default)]
pub struct ApplyOptions {
    /// Skip the check that no target port is listening on this machine (for
    /// tests and CI, where the ports may be in use by unrelated processes).
    pub skip_port_check: bool,
    /// The environment for the re-scan; default: the process environment.
    pub env: Option<BTreeMap<String, String>>,
}

pub(super) fn refuse(reasons: Vec<Note>) -> Error {
    Error::MigrationRefused { reasons }
}

/// Whether something listens on `port` of this machine: binding 127.0.0.1
/// and 0.0.0.0 fails with "address in use".
pub(super) fn port_in_use(port: u16, protocol: crate::Protocol) -> bool {
    let in_use = |addr: &str| -> bool {
        let result = match protocol {
            crate::Protocol::Udp => std::net::UdpSocket::bind((addr, port)).map(drop),
            _ => std::net::TcpListener::bind((addr, port)).map(drop),
        };
        matches!(result, Err(e) if e.kind() == std::io::ErrorKind::AddrInUse)
    };
    in_use("127.0.0.1") || in_use("0.0.0.0")
}

pub(super) fn writable_problems(root: &Path, plan: &Plan) -> Vec<Note> {
    let mut reasons = Vec::new();
    let mut dirs: Vec<PathBuf> = vec![root.to_owned()];
    for file in &plan.files {
        let name = crate::report::escape_text(&file.file);
        // Checked again here: the tree may have changed since the plan was
        // resolved, and the probe below writes beside this file.
        let path = match resolve_inside(root, &file.file, "the plan") {
            Ok(path) => path,
            Err(err) => {
                reasons.push(Note::new(Code::NotWritable, err.to_string()).at(&file.file, 0, 0));
                continue;
            }
        };
        match fs::symlink_metadata(&path) {
            Ok(meta) if meta.permissions().readonly() => {
                reasons.push(
                    Note::new(Code::NotWritable, format!("{name} is read-only"))
                        .at(&file.file, 0, 0),
                );
            }
            Ok(_) => {
                let mut options = OpenOptions::new();
                options.append(true);
                if let Err(e) = no_follow(&mut options).open(&path) {
                    reasons.push(
                        Note::new(Code::NotWritable, format!("{name} cannot be written: {e}"))
                            .at(&file.file, 0, 0),
                    );
                }
            }
            Err(e) => reasons
                .push(Note::new(Code::NotWritable, format!("{name}: {e}")).at(&file.file, 0, 0)),
        }
        let dir = parent_of(&path);
        if !dirs.contains(&dir) {
            dirs.push(dir);
        }
    }
    for dir in dirs {
        // A new, uniquely named probe (never an existing path, never
        // through a link), removed at once; a kill in between leaves it to
        // the clean-up of the next run.
        match Scratch::create(&dir, PROBE_PREFIX, ".tmp") {
            Ok((probe, file)) => {
                drop(file);
                failpoint("mid-probe");
                drop(probe);
            }
            Err(e) => reasons.push(Note::new(
                Code::NotWritable,
                format!(
                    "cannot create files in {} (needed for atomic writes): {e}",
                    crate::report::escape_text(&dir.display().to_string())
                ),
            )),
        }
    }
    reasons
}

pub(super) fn load_checked_convention(plan: &Plan) -> Result<Convention, Error> {
    let path = PathBuf::from(&plan.convention.path);
    if plan.convention.sha256.is_empty() {
        return Err(refuse(vec![Note::new(
            Code::ConventionUnrecorded,
            "the plan does not record the SHA-256 of its convention; make it with `migrate plan`",
        )]));
    }
    let text = crate::io::read_text(&path)?;
    if sha256_hex(text.as_bytes()) != plan.convention.sha256 {
        return Err(refuse(vec![Note::new(
            Code::ConventionChanged,
            format!(
                "{} changed since the plan was made; plan again",
                crate::report::escape_text(&path.display().to_string())
            ),
        )]));
    }
    crate::io::convention_from_text(&path.display().to_string(), &text)
}

/// The new text of every file, after checking that each file is as planned.
pub(super) fn new_texts(
    root: &Path,
    plan: &Plan,
    allow_new: bool,
) -> Result<Vec<(String, Vec<u8>)>, Vec<Note>> {
    let mut out = Vec::new();
    let mut reasons = Vec::new();
    for file in &plan.files {
        let path = root.join(&file.file);
        let bytes = match read_bytes(&path) {
            Ok(b) => b,
            Err(e) => {
                reasons.push(Note::new(Code::FileChanged, e.to_string()).at(&file.file, 0, 0));
                continue;
            }
        };
        let sha = sha256_hex(&bytes);
        match FileState::of(file, Some(&sha)) {
            FileState::New if allow_new => {
                out.push((file.file.clone(), bytes));
                continue;
            }
            FileState::New => {
                reasons.push(Note::new(Code::AlreadyApplied, format!(
                    "{} already has the text this plan writes (was the plan applied already? see `migrate status`)",
                    file.file
                )).at(&file.file, 0, 0));
                continue;
            }
            FileState::Changed | FileState::Missing => {
                reasons.push(Note::new(Code::FileChanged, format!(
                    "{} changed since the plan was made (SHA-256 {} expected, {} found); plan again",
                    file.file,
                    short(&file.sha256),
                    short(&sha)
                )).at(&file.file, 0, 0));
                continue;
            }
            FileState::Old => {}
        }
        let text = String::from_utf8_lossy(&bytes);
        match apply_edits(&file.file, &text, &file.edits) {
            Ok(new) if sha256_hex(new.as_bytes()) == file.new_sha256 => {
                out.push((file.file.clone(), new.into_bytes()))
            }
            Ok(_) => reasons.push(
                Note::new(
                    Code::PlanDamaged,
                    format!(
                        "{}: the plan's edits do not give the planned SHA-256 (plan damaged?)",
                        file.file
                    ),
                )
                .at(&file.file, 0, 0),
            ),
            Err(err) => {
                reasons.push(Note::new(Code::PlanDamaged, err.to_string()).at(&file.file, 0, 0))
            }
        }
    }
    if reasons.is_empty() {
        Ok(out)
    } else {
        Err(reasons)
    }
}

pub(super) fn short(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}

pub(super) fn check_ports(plan: &Plan, skip: bool, reasons: &mut Vec<Note>) {
    if skip {
        return;
    }
    let mut seen = Vec::new();
    for target in plan.targets.iter().filter(|t| t.ports != t.from) {
        for port in target.ports.iter() {
            if seen.contains(&(port, target.protocol)) {
                continue;
            }
            seen.push((port, target.protocol));
            if port_in_use(port, target.protocol) {
                reasons.push(Note::new(Code::PortInUse, format!(
                    "port {port}/{} (target of {} {}) is in use on this machine; stop what listens there \
                     (or skip the port check)",
                    target.protocol, target.service, target.port_name
                )).at(&target.location.file, target.location.line, target.location.column).about(&target.service));
            }
        }
    }
}

pub(super) fn plan_root(plan: &Plan) -> PathBuf {
    PathBuf::from(&plan.root)
}

/// Applies a plan: pre-flight checks, backup, journal, atomic writes,
/// re-scan. If the last migration under the plan's root was interrupted,
/// it is resumed instead when it is the same plan, and refused otherwise.
///
/// Every file name of the plan is checked first: a name that is absolute,
/// goes up with `..`, passes through a symbolic link or resolves outside
/// the root refuses the whole plan ([`Error::UnsafePath`]). Only one
/// `apply` or `rollback` runs in a tree at a time.
///
/// # Errors
///
/// [`Error::MigrationRefused`] when a pre-flight check fails (nothing is
/// written then) or a file changes while writing; [`Error::UnsafePath`];
/// [`Error::MigrationLocked`] when another migration is running;
/// [`Error::DamagedBackup`] when the last backup cannot be read;
/// [`Error::Io`] when a write fails (the journal then says `interrupted`:
/// run `apply` again, or `rollback`).
pub fn apply(
    plan: &Plan,
    options: &ApplyOptions,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<ApplyOutcome, Error> {
    let root = plan_root(plan);
    migrate::check_plan_paths(plan, "the plan")?;
    let mut lock = MigrationLock::take(&root)?;
    apply_locked(&root, plan, options, progress, &mut lock)
}

pub(super) fn apply_locked(
    root: &Path,
    plan: &Plan,
    options: &ApplyOptions,
    progress: &mut dyn FnMut(Progress<'_>),
    lock: &mut MigrationLock,
) -> Result<ApplyOutcome, Error> {
    resolve_plan(root, plan, "the plan")?;
    if let Some((last, pending)) = status_and_plan(root, None)? {
        match migrate::journal::apply_start(last.state, pending.files == plan.files) {
            migrate::journal::Start::Fresh => {}
            migrate::journal::Start::Resume => {
                return resume_locked(root, options, progress, lock);
            }
            migrate::journal::Start::Refuse(code @ Code::RollbackInterrupted) => {
                return Err(refuse(vec![Note::new(
                    code,
                    format!(
                        "the rollback of migration {} was interrupted; run `migrate rollback` again first",
                        last.id
                    ),
                )]));
            }
            migrate::journal::Start::Refuse(code) => {
                return Err(refuse(vec![Note::new(
                    code,
                    format!(
                        "migration {} was interrupted; finish it with `migrate apply` (no plan) or undo it with \
                     `migrate rollback` first",
                        last.id
                    ),
                )]));
            }
        }
    }
    if !plan.problems.is_empty() {
        // Each problem keeps its code and place.
        return Err(refuse(
            plan.problems
                .iter()
                .map(|p| Note {
                    severity: crate::Severity::Error,
                    message: format!("the plan has a problem: {p}"),
                    ..p.clone()
                })
                .collect(),
        ));
    }
    if plan.files.is_empty() {
        return Err(refuse(vec![Note::new(
            Code::PlanEmpty,
            "the plan changes nothing",
        )]));
    }
    // Pre-flight: nothing is written before every check has passed.
    let convention = load_checked_convention(plan)?;
    let mut reasons = Vec::new();
    let texts = match new_texts(root, plan, false) {
        Ok(t) => t,
        Err(r) => {
            reasons.extend(r);
            Vec::new()
        }
    };
    let env = options.env.clone().unwrap_or_else(crate::io::process_env);
    let (scan, _) = read_tree(root, &convention, &env)?;
    // A refusal's message says where (its place is in the note too).
    reasons.extend(
        target_conflicts(&convention, &scan, &plan.targets)
            .into_iter()
            .map(|n| Note {
                message: n.to_string(),
                ..n
            }),
    );
    check_ports(plan, options.skip_port_check, &mut reasons);
    reasons.extend(writable_problems(root, plan));
    if !reasons.is_empty() {
        return Err(refuse(reasons));
    }

    // State directory, backup directory, plan, journal.
    create_dirs_no_follow(root, &format!("{STATE_DIR}/backups"))?;
    lock.record()?;
    ensure_gitignore(root)?;
    remove_stale_scratch(root, plan);
    let backups = backups_dir(root);
    let (stamp, time) = now_utc();
    let (id, dir) = {
        let mut n = 1;
        loop {
            let id = if n == 1 {
                stamp.clone()
            } else {
                format!("{stamp}-{n:02}")
            };
            let dir = backups.join(&id);
            match fs::create_dir(&dir) {
                Ok(()) => break (id, dir),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 100 => n += 1,
                Err(e) => return Err(io_error(&dir, e)),
            }
        }
    };
    sync_dir(&backups)?;
    let plan_text =
        serde_json::to_string_pretty(plan).map_err(|e| io_error(&dir, std::io::Error::other(e)))?;
    let plan_text = format!("{plan_text}\n");
    // Atomically: a kill or a full disk leaves no torn plan.json.
    write_atomic(
        &dir.join("plan.json"),
        plan_text.as_bytes(),
        Some("mid-plan-write"),
        false,
    )?;
    append_event(
        &dir,
        &Event::Begin {
            time: time.clone(),
            plan_sha256: sha256_hex(plan_text.as_bytes()),
        },
    )?;
    failpoint("after-begin");
    backup(root, &dir, &id, &time, plan, progress)?;
    write_files(
        root,
        &dir,
        plan,
        texts,
        Vec::new(),
        &id,
        false,
        &convention,
        &env,
        progress,
    )
}

pub(super) fn backup(
    root: &Path,
    dir: &Path,
    id: &str,
    time: &str,
    plan: &Plan,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<(), Error> {
    let total = plan.files.len();
    let mut entries = Vec::new();
    for (done, file) in plan.files.iter().enumerate() {
        progress(Progress::Backup {
            done,
            total,
            file: &file.file,
        });
        let bytes = read_bytes(&resolve_inside(root, &file.file, "the plan")?)?;
        let sha = sha256_hex(&bytes);
        if FileState::of(file, Some(&sha)) != FileState::Old {
            return Err(refuse(vec![
                Note::new(
                    Code::ChangedDuringMigration,
                    format!(
                        "{} changed while it was being backed up; nothing was written to it",
                        file.file
                    ),
                )
                .at(&file.file, 0, 0),
            ]));
        }
        let copy_dir = match file.file.rsplit_once('/') {
            Some((parent, _)) => format!("files/{parent}"),
            None => "files".to_owned(),
        };
        create_dirs_no_follow(dir, &copy_dir)?;
        write_atomic(&dir.join("files").join(&file.file), &bytes, None, false)?;
        entries.push(ManifestEntry {
            file: file.file.clone(),
            sha256: sha,
            new_sha256: file.new_sha256.clone(),
            size: u64::try_from(bytes.len()).unwrap_or(u64::MAX),
        });
        if done == 0 {
            failpoint("mid-backup");
        }
    }
    let manifest = Manifest {
        id: id.to_owned(),
        root: root.display().to_string(),
        created: time.to_owned(),
        files: entries,
    };
    let text = serde_json::to_string_pretty(&manifest)
        .map_err(|e| io_error(dir, std::io::Error::other(e)))?;
    write_atomic(
        &dir.join("manifest.json"),
        format!("{text}\n").as_bytes(),
        None,
        false,
    )?;
    append_event(dir, &Event::BackedUp { files: total })?;
    failpoint("after-backup");
    Ok(())
}

#[allow(clippy::too_many_arguments)]
pub(super) fn write_files(
    root: &Path,
    dir: &Path,
    plan: &Plan,
    texts: Vec<(String, Vec<u8>)>,
    mut already: Vec<String>,
    id: &str,
    resumed: bool,
    convention: &Convention,
    env: &BTreeMap<String, String>,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<ApplyOutcome, Error> {
    let total = texts.len();
    let mut written = Vec::new();
    for (done, (name, bytes)) in texts.into_iter().enumerate() {
        progress(Progress::Write {
            done,
            total,
            file: &name,
        });
        let Some(file) = plan.files.iter().find(|f| f.file == name) else {
            continue;
        };
        // Checked again right before writing (names, links and the hash):
        // the window for a concurrent edit is this read to the rename.
        let path = resolve_inside(root, &name, "the plan")?;
        let current = sha256_hex(&read_bytes(&path)?);
        let state = FileState::of(file, Some(&current));
        if state == FileState::New {
            if !already.contains(&name) {
                already.push(name.clone());
            }
            continue;
        }
        if state != FileState::Old {
            return Err(refuse(vec![Note::new(Code::ChangedDuringMigration, format!(
                "{name} changed during the migration; stopped before writing it. Files written so far: {}. \
                 Run `migrate rollback` to restore them",
                if written.is_empty() {
                    "none".to_owned()
                } else {
                    written.join(", ")
                }
            )).at(&name, 0, 0)]));
        }
        write_atomic(&path, &bytes, Some("mid-write"), true)?;
        failpoint("after-rename");
        append_event(dir, &Event::Written { file: name.clone() })?;
        written.push(name);
    }
    failpoint("before-complete");
    let (scan, _) = read_tree(root, convention, env)?;
    let remaining = remaining_drift(convention, &scan, plan);
    append_event(
        dir,
        &Event::Verified {
            ok: remaining.is_empty(),
            remaining: remaining.len(),
        },
    )?;
    append_event(dir, &Event::Complete { time: now_utc().1 })?;
    Ok(ApplyOutcome {
        id: id.to_owned(),
        backup_dir: dir.to_owned(),
        resumed,
        written,
        already,
        remaining,
        plan: plan.clone(),
    })
}
/// Resumes the last migration under `root`, which must be interrupted:
/// files that already have their new text are kept, the others written.
///
/// # Errors
///
/// [`Error::MigrationRefused`] when there is nothing to resume or a file is
/// neither old nor new; otherwise as [`apply`].
pub fn resume(
    root: &Path,
    options: &ApplyOptions,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<ApplyOutcome, Error> {
    let mut lock = MigrationLock::take(root)?;
    resume_locked(root, options, progress, &mut lock)
}

pub(super) fn resume_locked(
    root: &Path,
    options: &ApplyOptions,
    progress: &mut dyn FnMut(Progress<'_>),
    lock: &mut MigrationLock,
) -> Result<ApplyOutcome, Error> {
    let Some((last, plan)) = status_and_plan(root, None)? else {
        return Err(refuse(vec![Note::new(
            Code::NothingToResume,
            "there is no migration to resume",
        )]));
    };
    if last.state != State::Interrupted {
        return Err(refuse(vec![Note::new(
            Code::NothingToResume,
            format!(
                "migration {} is {}, not interrupted: nothing to resume",
                last.id,
                last.state.as_str()
            ),
        )]));
    }
    let dir = last.dir.clone();
    let convention = load_checked_convention(&plan)?;
    let mut reasons = Vec::new();
    for (file, state) in &last.files {
        if matches!(state, FileState::Changed | FileState::Missing) {
            reasons.push(Note::new(Code::ChangedSinceMigration, format!(
                "{file} is neither as before the migration nor as the migration writes it (changed by \
                 someone else?); fix it by hand or force the rollback"
            )).at(file, 0, 0));
        }
    }
    let manifest = read_manifest(&dir)?;
    if manifest.is_none() && last.files.iter().any(|(_, s)| *s != FileState::Old) {
        reasons.push(Note::new(
            Code::BackupIncomplete,
            "the backup is incomplete but files were changed; restore them by hand",
        ));
    }
    if let Some(m) = &manifest {
        check_manifest(root, &dir, m, &plan)?;
        reasons.extend(verify_backup(&dir, m));
    }
    check_ports(&plan, options.skip_port_check, &mut reasons);
    reasons.extend(writable_problems(root, &plan));
    let texts = match new_texts(root, &plan, true) {
        Ok(t) => t,
        Err(r) => {
            reasons.extend(r);
            Vec::new()
        }
    };
    if !reasons.is_empty() {
        return Err(refuse(reasons));
    }
    lock.record()?;
    ensure_gitignore(root)?;
    remove_stale_scratch(root, &plan);
    let time = now_utc().1;
    append_event(&dir, &Event::Resume { time: time.clone() })?;
    if manifest.is_none() {
        backup(root, &dir, &last.id, &time, &plan, progress)?;
    }
    let already: Vec<String> = last
        .files
        .iter()
        .filter(|(_, s)| *s == FileState::New)
        .map(|(f, _)| f.clone())
        .collect();
    let env = options.env.clone().unwrap_or_else(crate::io::process_env);
    write_files(
        root,
        &dir,
        &plan,
        texts,
        already,
        &last.id,
        true,
        &convention,
        &env,
        progress,
    )
}
