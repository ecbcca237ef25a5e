//! The IO of a migration: reading the tree, hashing, backups, the journal,
//! atomic writes, resume, rollback and status. The planning itself is the
//! pure [`crate::migrate`] module.
//!
//! Layout under the scanned root (see `docs/adr/0002-migration-safety.md`):
//!
//! ```text
//! .port-convention/
//!   .gitignore                  "*": keeps backups out of git and out of scans
//!   backups/<id>/               one directory per migration; <id> is a UTC timestamp
//!     plan.json                 the plan being applied
//!     journal.jsonl             one JSON event a line, each fsynced
//!     manifest.json             every file backed up, with SHA-256 before and after
//!     files/<relative path>     byte-identical copies of the files before the migration
//! ```
//!
//! Every file is written atomically (a temporary file in the same directory,
//! fsync, rename over the file, fsync of the directory), so a crash leaves
//! each file entirely old or entirely new. A file's state is known from its
//! hash, so `apply` resumes and `rollback` restores whatever the crash left.
//!
//! Failpoints: in debug builds only, `PORT_CONVENTION_FAILPOINT=<name>[:<n>]`
//! aborts the process at the `n`-th (default first) time the step `<name>`
//! is reached; see [`FAILPOINTS`].

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::check::Scan;
use crate::migrate::{
    self, Plan, PlanOptions, Tree, apply_edits, remaining_drift, sha256_hex, target_conflicts,
};
use crate::{Convention, Error, Finding};

/// The directory (under the scanned root) that holds backups and journals.
pub const STATE_DIR: &str = ".port-convention";

/// The failpoints a debug build honours, in the order `apply` reaches them
/// (the last one is `rollback`'s):
///
/// - `after-begin`: the plan and the journal's first event are written, no backup yet;
/// - `mid-backup`: after the first file is copied into the backup, before the manifest;
/// - `after-backup`: the backup and its manifest are complete, no file written yet;
/// - `before-rename`: a file's new text is in its fsynced temporary file, not yet renamed;
/// - `after-rename`: a file was renamed into place, before the journal records it;
/// - `before-complete`: every file is written, before the re-scan and the `complete` event;
/// - `rollback-after-restore`: `rollback` restored a file, before the journal records it.
pub const FAILPOINTS: &[&str] = &[
    "after-begin",
    "mid-backup",
    "after-backup",
    "before-rename",
    "after-rename",
    "before-complete",
    "rollback-after-restore",
];

fn io_error(path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        path: path.to_owned(),
        source,
    }
}

/// Aborts the process here when the environment asks for it (debug builds only).
fn failpoint(name: &str) {
    if !cfg!(debug_assertions) {
        return;
    }
    use std::sync::Mutex;
    static HITS: Mutex<Vec<(String, usize)>> = Mutex::new(Vec::new());
    let Ok(wanted) = std::env::var("PORT_CONVENTION_FAILPOINT") else {
        return;
    };
    let (wanted_name, nth) = match wanted.split_once(':') {
        Some((n, count)) => (n, count.parse::<usize>().unwrap_or(1)),
        None => (wanted.as_str(), 1),
    };
    if wanted_name != name {
        return;
    }
    let count = match HITS.lock() {
        Ok(mut hits) => match hits.iter_mut().find(|(n, _)| n == name) {
            Some((_, c)) => {
                *c += 1;
                *c
            }
            None => {
                hits.push((name.to_owned(), 1));
                1
            }
        },
        Err(_) => 1,
    };
    if count == nth {
        eprintln!("port-convention: failpoint {name} reached, aborting");
        std::process::abort();
    }
}

// ---------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------

/// Reads every compose and `.env` file under `root` (discovery as in
/// `check`), keeping the exact text each was parsed from.
///
/// # Errors
///
/// As [`crate::io::scan_tree`].
pub fn read_tree(
    root: &Path,
    convention: &Convention,
    env: &BTreeMap<String, String>,
) -> Result<(Scan, BTreeMap<String, String>), Error> {
    let tree = crate::io::read_tree_texts(root, &convention.discovery)?;
    let scan = crate::check::scan_texts(&tree, env, None);
    Ok((scan, tree.texts))
}

/// What [`plan_migration`] reads.
#[derive(Debug, Clone, Default)]
pub struct PlanRequest {
    /// The tree; default: the directory of the convention.
    pub root: Option<PathBuf>,
    /// The convention; default: `ports.yaml` found upward from the root (or
    /// the current directory).
    pub convention: Option<PathBuf>,
    /// The environment; default: the process environment.
    pub env: Option<BTreeMap<String, String>>,
    /// What the plan may do.
    pub options: PlanOptions,
}

/// A plan with what it was made from.
#[derive(Debug)]
pub struct Planned {
    /// The plan (root and convention paths absolute).
    pub plan: Plan,
    /// The texts it was planned on (for [`migrate::plan_diff`]).
    pub texts: BTreeMap<String, String>,
    /// The convention.
    pub convention: Convention,
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}

/// Plans a migration of a tree: reads the convention and every file, and
/// returns [`migrate::plan`]'s plan with the root and convention recorded.
/// Writes nothing.
///
/// # Errors
///
/// Convention errors, [`Error::ConventionNotFound`], and errors reading the tree.
pub fn plan_migration(request: &PlanRequest) -> Result<Planned, Error> {
    let convention_path = match (&request.convention, &request.root) {
        (Some(path), _) => path.clone(),
        (None, Some(root)) => crate::io::find_convention(root)?,
        (None, None) => {
            let cwd = std::env::current_dir().map_err(|e| io_error(Path::new("."), e))?;
            crate::io::find_convention(&cwd)?
        }
    };
    let convention_text = crate::io::read_text(&convention_path)?;
    let convention =
        Convention::from_yaml(&convention_path.display().to_string(), &convention_text)?;
    let root = match &request.root {
        Some(root) => root.clone(),
        None => convention_path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_owned),
    };
    let root = absolute(&root);
    let env = request.env.clone().unwrap_or_else(crate::io::process_env);
    let (scan, texts) = read_tree(&root, &convention, &env)?;
    let tree = Tree {
        convention: &convention,
        scan: &scan,
        texts: &texts,
        env: &env,
    };
    let mut plan = migrate::plan(&tree, &request.options);
    plan.root = root.display().to_string();
    plan.convention.path = absolute(&convention_path).display().to_string();
    plan.convention.sha256 = sha256_hex(convention_text.as_bytes());
    Ok(Planned {
        plan,
        texts,
        convention,
    })
}

/// Writes a plan as pretty JSON (atomically).
///
/// # Errors
///
/// [`Error::Io`].
pub fn save_plan(plan: &Plan, path: &Path) -> Result<(), Error> {
    let text =
        serde_json::to_string_pretty(plan).map_err(|e| io_error(path, std::io::Error::other(e)))?;
    write_atomic(path, format!("{text}\n").as_bytes(), false)
}

/// Reads a plan saved by [`save_plan`].
///
/// # Errors
///
/// [`Error::Io`], and [`Error::InvalidArgument`] for a file that is not a
/// plan of this format version.
pub fn load_plan(path: &Path) -> Result<Plan, Error> {
    let text = crate::io::read_text(path)?;
    let plan: Plan = serde_json::from_str(&text).map_err(|err| Error::InvalidArgument {
        message: format!(
            "{}:{}:{}: not a migration plan: {err}",
            path.display(),
            err.line(),
            err.column()
        ),
    })?;
    if plan.format != migrate::PLAN_FORMAT || plan.version != migrate::PLAN_VERSION {
        return Err(Error::InvalidArgument {
            message: format!(
                "{}: a plan of format {} version {}; this tool reads {} version {}",
                path.display(),
                plan.format,
                plan.version,
                migrate::PLAN_FORMAT,
                migrate::PLAN_VERSION
            ),
        });
    }
    Ok(plan)
}

// ---------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------

fn tmp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.port-convention.tmp"))
}

fn sync_dir(dir: &Path) -> Result<(), Error> {
    #[cfg(unix)]
    {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| io_error(dir, e))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// Writes `bytes` to `path` atomically: a temporary file in the same
/// directory (with the old file's permissions), fsync, rename, fsync of the
/// directory.
fn write_atomic(path: &Path, bytes: &[u8], failpoints: bool) -> Result<(), Error> {
    let tmp = tmp_path(path);
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&tmp)
        .map_err(|e| io_error(&tmp, e))?;
    file.write_all(bytes).map_err(|e| io_error(&tmp, e))?;
    file.sync_all().map_err(|e| io_error(&tmp, e))?;
    drop(file);
    if let Ok(meta) = fs::metadata(path) {
        fs::set_permissions(&tmp, meta.permissions()).map_err(|e| io_error(&tmp, e))?;
    }
    if failpoints {
        failpoint("before-rename");
    }
    fs::rename(&tmp, path).map_err(|e| io_error(path, e))?;
    sync_dir(&parent_of(path))
}

/// Writes a new file and fsyncs it and its directory.
fn write_new(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let dir = parent_of(path);
    fs::create_dir_all(&dir).map_err(|e| io_error(&dir, e))?;
    let mut file = File::create(path).map_err(|e| io_error(path, e))?;
    file.write_all(bytes).map_err(|e| io_error(path, e))?;
    file.sync_all().map_err(|e| io_error(path, e))?;
    sync_dir(&dir)
}

fn read_bytes(path: &Path) -> Result<Vec<u8>, Error> {
    fs::read(path).map_err(|e| io_error(path, e))
}

// ---------------------------------------------------------------------------
// Journal and manifest
// ---------------------------------------------------------------------------

/// One event of a migration's journal (`journal.jsonl`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Event {
    /// `apply` started (the plan is saved next to the journal).
    Begin {
        /// UTC time.
        time: String,
        /// SHA-256 of `plan.json`.
        plan_sha256: String,
    },
    /// An interrupted `apply` was resumed.
    Resume {
        /// UTC time.
        time: String,
    },
    /// Every file is copied and the manifest written.
    BackedUp {
        /// How many files.
        files: usize,
    },
    /// A file now has its new text.
    Written {
        /// The file, relative to the root.
        file: String,
    },
    /// The re-scan after writing.
    Verified {
        /// Whether no drift remained for the migrated services.
        ok: bool,
        /// How many drift findings remained.
        remaining: usize,
    },
    /// `apply` finished.
    Complete {
        /// UTC time.
        time: String,
    },
    /// `rollback` started.
    RollbackBegin {
        /// UTC time.
        time: String,
        /// Whether `--force` was given.
        force: bool,
    },
    /// A file was restored from the backup.
    Restored {
        /// The file, relative to the root.
        file: String,
    },
    /// `rollback` finished.
    RolledBack {
        /// UTC time.
        time: String,
    },
}

fn append_event(dir: &Path, event: &Event) -> Result<(), Error> {
    let path = dir.join("journal.jsonl");
    let line =
        serde_json::to_string(event).map_err(|e| io_error(&path, std::io::Error::other(e)))?;
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|e| io_error(&path, e))?;
    file.write_all(format!("{line}\n").as_bytes())
        .map_err(|e| io_error(&path, e))?;
    file.sync_all().map_err(|e| io_error(&path, e))
}

/// Reads a journal; a torn last line (a crash while appending) is ignored.
fn read_journal(dir: &Path) -> Result<Vec<Event>, Error> {
    let path = dir.join("journal.jsonl");
    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_error(&path, e)),
    };
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

fn read_manifest(dir: &Path) -> Result<Option<Manifest>, Error> {
    let path = dir.join("manifest.json");
    match fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|err| Error::InvalidArgument {
                message: format!(
                    "{}:{}:{}: damaged manifest: {err}",
                    path.display(),
                    err.line(),
                    err.column()
                ),
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_error(&path, e)),
    }
}

/// Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        year,
        u32::try_from(month).unwrap_or(1),
        u32::try_from(day).unwrap_or(1),
    )
}

/// Now, as `(20251102T101530Z, 2025-11-02T10:15:30Z)`.
fn now_utc() -> (String, String) {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let secs = i64::try_from(secs).unwrap_or(0);
    let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
    let rest = secs.rem_euclid(86_400);
    let (h, mi, s) = (rest / 3600, rest % 3600 / 60, rest % 60);
    (
        format!("{y:04}{mo:02}{d:02}T{h:02}{mi:02}{s:02}Z"),
        format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z"),
    )
}

fn backups_dir(root: &Path) -> PathBuf {
    root.join(STATE_DIR).join("backups")
}

/// The ids of every migration under `root`, oldest first.
///
/// # Errors
///
/// [`Error::Io`] when the backups directory exists but cannot be read.
pub fn migrations(root: &Path) -> Result<Vec<String>, Error> {
    let dir = backups_dir(root);
    let entries = match fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_error(&dir, e)),
    };
    let mut ids: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().join("plan.json").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    ids.sort();
    Ok(ids)
}

// ---------------------------------------------------------------------------
// Status
// ---------------------------------------------------------------------------

/// Where a migration stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    /// `apply` finished.
    Complete,
    /// `apply` stopped before finishing: run `apply` again to resume, or `rollback`.
    Interrupted,
    /// `rollback` stopped before finishing: run `rollback` again.
    RollbackInterrupted,
    /// `rollback` finished.
    RolledBack,
}

impl State {
    /// The state as `status` prints it.
    pub const fn as_str(&self) -> &'static str {
        match self {
            State::Complete => "complete",
            State::Interrupted => "interrupted",
            State::RollbackInterrupted => "rollback interrupted",
            State::RolledBack => "rolled back",
        }
    }
}

/// Where one file of a migration stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FileState {
    /// As before the migration.
    Old,
    /// As the migration writes it.
    New,
    /// Neither: changed by someone else.
    Changed,
    /// Gone.
    Missing,
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

fn state_of(events: &[Event]) -> State {
    let mut state = State::Interrupted;
    for event in events {
        state = match event {
            Event::Begin { .. } | Event::Resume { .. } => State::Interrupted,
            Event::Complete { .. } => State::Complete,
            Event::RollbackBegin { .. } => State::RollbackInterrupted,
            Event::RolledBack { .. } => State::RolledBack,
            _ => state,
        };
    }
    state
}

fn file_state(root: &Path, file: &migrate::FilePlan) -> FileState {
    match fs::read(root.join(&file.file)) {
        Ok(bytes) => {
            let sha = sha256_hex(&bytes);
            if sha == file.sha256 {
                FileState::Old
            } else if sha == file.new_sha256 {
                FileState::New
            } else {
                FileState::Changed
            }
        }
        Err(_) => FileState::Missing,
    }
}

fn migration_dir(root: &Path, id: Option<&str>) -> Result<Option<(String, PathBuf)>, Error> {
    let id = match id {
        Some(id) => id.to_owned(),
        None => match migrations(root)?.pop() {
            Some(id) => id,
            None => return Ok(None),
        },
    };
    let dir = backups_dir(root).join(&id);
    if !dir.join("plan.json").is_file() {
        return Err(Error::InvalidArgument {
            message: format!("{} is not a migration backup (no plan.json)", dir.display()),
        });
    }
    Ok(Some((id, dir)))
}

/// The status of migration `id` (default: the last one) under `root`;
/// `None` when there is none.
///
/// # Errors
///
/// [`Error::Io`], and [`Error::InvalidArgument`] for an unknown id or a
/// damaged plan.
pub fn status(root: &Path, id: Option<&str>) -> Result<Option<Status>, Error> {
    let Some((id, dir)) = migration_dir(root, id)? else {
        return Ok(None);
    };
    let plan = load_plan(&dir.join("plan.json"))?;
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
    Ok(Some(Status {
        id,
        dir,
        state: state_of(&events),
        verified,
        files,
        events,
    }))
}

// ---------------------------------------------------------------------------
// Apply
// ---------------------------------------------------------------------------

/// How `apply` and `rollback` run.
#[derive(Debug, Clone, Default)]
pub struct ApplyOptions {
    /// Skip the check that no target port is listening on this machine (for
    /// tests and CI, where the ports may be in use by unrelated processes).
    pub skip_port_check: bool,
    /// The environment for the re-scan; default: the process environment.
    pub env: Option<BTreeMap<String, String>>,
}

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

fn refuse(reasons: Vec<String>) -> Error {
    Error::MigrationRefused { reasons }
}

/// Whether something listens on `port` of this machine: binding 127.0.0.1
/// and 0.0.0.0 fails with "address in use".
fn port_in_use(port: u16, protocol: crate::Protocol) -> bool {
    let in_use = |addr: &str| -> bool {
        let result = match protocol {
            crate::Protocol::Udp => std::net::UdpSocket::bind((addr, port)).map(drop),
            _ => std::net::TcpListener::bind((addr, port)).map(drop),
        };
        matches!(result, Err(e) if e.kind() == std::io::ErrorKind::AddrInUse)
    };
    in_use("127.0.0.1") || in_use("0.0.0.0")
}

fn writable_problems(root: &Path, plan: &Plan) -> Vec<String> {
    let mut reasons = Vec::new();
    let mut dirs: Vec<PathBuf> = vec![root.to_owned()];
    for file in &plan.files {
        let path = root.join(&file.file);
        match fs::metadata(&path) {
            Ok(meta) if meta.permissions().readonly() => {
                reasons.push(format!("{} is read-only", file.file));
            }
            Ok(_) => {
                if let Err(e) = OpenOptions::new().append(true).open(&path) {
                    reasons.push(format!("{} cannot be written: {e}", file.file));
                }
            }
            Err(e) => reasons.push(format!("{}: {e}", file.file)),
        }
        let dir = parent_of(&path);
        if !dirs.contains(&dir) {
            dirs.push(dir);
        }
    }
    for dir in dirs {
        let probe = dir.join(".port-convention-probe.tmp");
        match File::create(&probe) {
            Ok(_) => {
                let _ = fs::remove_file(&probe);
            }
            Err(e) => reasons.push(format!(
                "cannot create files in {} (needed for atomic writes): {e}",
                dir.display()
            )),
        }
    }
    reasons
}

fn load_checked_convention(plan: &Plan) -> Result<Convention, Error> {
    let path = PathBuf::from(&plan.convention.path);
    let text = crate::io::read_text(&path)?;
    if !plan.convention.sha256.is_empty() && sha256_hex(text.as_bytes()) != plan.convention.sha256 {
        return Err(refuse(vec![format!(
            "{} changed since the plan was made; plan again",
            path.display()
        )]));
    }
    Convention::from_yaml(&path.display().to_string(), &text)
}

/// The new text of every file, after checking that each file is as planned.
fn new_texts(
    root: &Path,
    plan: &Plan,
    allow_new: bool,
) -> Result<Vec<(String, Vec<u8>)>, Vec<String>> {
    let mut out = Vec::new();
    let mut reasons = Vec::new();
    for file in &plan.files {
        let path = root.join(&file.file);
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) => {
                reasons.push(format!("{}: {e}", file.file));
                continue;
            }
        };
        let sha = sha256_hex(&bytes);
        if allow_new && sha == file.new_sha256 {
            out.push((file.file.clone(), bytes));
            continue;
        }
        if sha == file.new_sha256 {
            reasons.push(format!(
                "{} already has the text this plan writes (was the plan applied already? see `migrate status`)",
                file.file
            ));
            continue;
        }
        if sha != file.sha256 {
            reasons.push(format!(
                "{} changed since the plan was made (SHA-256 {} expected, {} found); plan again",
                file.file,
                short(&file.sha256),
                short(&sha)
            ));
            continue;
        }
        let text = String::from_utf8_lossy(&bytes);
        match apply_edits(&file.file, &text, &file.edits) {
            Ok(new) if sha256_hex(new.as_bytes()) == file.new_sha256 => {
                out.push((file.file.clone(), new.into_bytes()))
            }
            Ok(_) => reasons.push(format!(
                "{}: the plan's edits do not give the planned SHA-256 (plan damaged?)",
                file.file
            )),
            Err(err) => reasons.push(err.to_string()),
        }
    }
    if reasons.is_empty() {
        Ok(out)
    } else {
        Err(reasons)
    }
}

fn short(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}

fn check_ports(plan: &Plan, skip: bool, reasons: &mut Vec<String>) {
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
                reasons.push(format!(
                    "port {port}/{} (target of {} {}) is in use on this machine; stop what listens there \
                     (or pass --skip-port-check)",
                    target.protocol, target.service, target.port_name
                ));
            }
        }
    }
}

fn plan_root(plan: &Plan) -> PathBuf {
    PathBuf::from(&plan.root)
}

/// Applies a plan: pre-flight checks, backup, journal, atomic writes,
/// re-scan. If the last migration under the plan's root was interrupted,
/// it is resumed instead when it is the same plan, and refused otherwise.
///
/// # Errors
///
/// [`Error::MigrationRefused`] when a pre-flight check fails (nothing is
/// written then) or a file changes while writing; [`Error::Io`] when a
/// write fails (the journal then says `interrupted`: run `apply` again, or
/// `rollback`).
pub fn apply(
    plan: &Plan,
    options: &ApplyOptions,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<ApplyOutcome, Error> {
    let root = plan_root(plan);
    if let Some(last) = status(&root, None)? {
        match last.state {
            State::Interrupted => {
                let pending = load_plan(&last.dir.join("plan.json"))?;
                if pending.files == plan.files {
                    return resume(&root, options, progress);
                }
                return Err(refuse(vec![format!(
                    "migration {} was interrupted; finish it with `migrate apply` (no plan) or undo it with \
                     `migrate rollback` first",
                    last.id
                )]));
            }
            State::RollbackInterrupted => {
                return Err(refuse(vec![format!(
                    "the rollback of migration {} was interrupted; run `migrate rollback` again first",
                    last.id
                )]));
            }
            State::Complete | State::RolledBack => {}
        }
    }
    if !plan.problems.is_empty() {
        return Err(refuse(
            plan.problems
                .iter()
                .map(|p| format!("the plan has a problem: {p}"))
                .collect(),
        ));
    }
    if plan.files.is_empty() {
        return Err(refuse(vec!["the plan changes nothing".into()]));
    }
    // Pre-flight: nothing is written before every check has passed.
    let convention = load_checked_convention(plan)?;
    let mut reasons = Vec::new();
    let texts = match new_texts(&root, plan, false) {
        Ok(t) => t,
        Err(r) => {
            reasons.extend(r);
            Vec::new()
        }
    };
    let env = options.env.clone().unwrap_or_else(crate::io::process_env);
    let (scan, _) = read_tree(&root, &convention, &env)?;
    reasons.extend(
        target_conflicts(&convention, &scan, &plan.targets)
            .iter()
            .map(ToString::to_string),
    );
    check_ports(plan, options.skip_port_check, &mut reasons);
    reasons.extend(writable_problems(&root, plan));
    if !reasons.is_empty() {
        return Err(refuse(reasons));
    }

    // Backup directory, plan, journal.
    let backups = backups_dir(&root);
    fs::create_dir_all(&backups).map_err(|e| io_error(&backups, e))?;
    let ignore = root.join(STATE_DIR).join(".gitignore");
    if !ignore.exists() {
        write_new(&ignore, b"*\n")?;
    }
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
    write_new(&dir.join("plan.json"), format!("{plan_text}\n").as_bytes())?;
    append_event(
        &dir,
        &Event::Begin {
            time: time.clone(),
            plan_sha256: sha256_hex(format!("{plan_text}\n").as_bytes()),
        },
    )?;
    failpoint("after-begin");
    backup(&root, &dir, &id, &time, plan, progress)?;
    write_files(
        &root,
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

fn backup(
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
        let bytes = read_bytes(&root.join(&file.file))?;
        let sha = sha256_hex(&bytes);
        if sha != file.sha256 {
            return Err(refuse(vec![format!(
                "{} changed while it was being backed up; nothing was written to it",
                file.file
            )]));
        }
        write_new(&dir.join("files").join(&file.file), &bytes)?;
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
        false,
    )?;
    append_event(dir, &Event::BackedUp { files: total })?;
    failpoint("after-backup");
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn write_files(
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
        let path = root.join(&name);
        // Checked again right before writing: the window for a concurrent
        // edit is this read to the rename.
        let current = sha256_hex(&read_bytes(&path)?);
        if current == file.new_sha256 {
            if !already.contains(&name) {
                already.push(name.clone());
            }
            continue;
        }
        if current != file.sha256 {
            return Err(refuse(vec![format!(
                "{name} changed during the migration; stopped before writing it. Files written so far: {}. \
                 Run `migrate rollback` to restore them",
                if written.is_empty() {
                    "none".to_owned()
                } else {
                    written.join(", ")
                }
            )]));
        }
        write_atomic(&path, &bytes, true)?;
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

fn remove_stale_temps(root: &Path, plan: &Plan) {
    for file in &plan.files {
        let tmp = tmp_path(&root.join(&file.file));
        if tmp.exists() {
            let _ = fs::remove_file(&tmp);
        }
    }
}

fn verify_backup(dir: &Path, manifest: &Manifest) -> Vec<String> {
    let mut reasons = Vec::new();
    for entry in &manifest.files {
        let path = dir.join("files").join(&entry.file);
        match fs::read(&path) {
            Ok(bytes) if sha256_hex(&bytes) == entry.sha256 => {}
            Ok(_) => reasons.push(format!(
                "the backup copy of {} does not match its manifest (SHA-256 {}); the backup is damaged",
                entry.file,
                short(&entry.sha256)
            )),
            Err(e) => reasons.push(format!("the backup copy of {} cannot be read: {e}", entry.file)),
        }
    }
    reasons
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
    let Some(last) = status(root, None)? else {
        return Err(refuse(vec!["there is no migration to resume".into()]));
    };
    if last.state != State::Interrupted {
        return Err(refuse(vec![format!(
            "migration {} is {}, not interrupted: nothing to resume",
            last.id,
            last.state.as_str()
        )]));
    }
    let dir = last.dir.clone();
    let plan = load_plan(&dir.join("plan.json"))?;
    let convention = load_checked_convention(&plan)?;
    let mut reasons = Vec::new();
    for (file, state) in &last.files {
        if matches!(state, FileState::Changed | FileState::Missing) {
            reasons.push(format!(
                "{file} is neither as before the migration nor as the migration writes it (changed by \
                 someone else?); fix it by hand or run `migrate rollback --force`"
            ));
        }
    }
    let manifest = read_manifest(&dir)?;
    if manifest.is_none() && last.files.iter().any(|(_, s)| *s != FileState::Old) {
        reasons
            .push("the backup is incomplete but files were changed; restore them by hand".into());
    }
    if let Some(m) = &manifest {
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
    remove_stale_temps(root, &plan);
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

// ---------------------------------------------------------------------------
// Rollback
// ---------------------------------------------------------------------------

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

/// Restores every file of migration `id` (default: the last one) under
/// `root` from its backup, byte for byte, after verifying the backup against
/// its manifest. Refuses, unless `force`, when a file changed since the
/// migration wrote it.
///
/// # Errors
///
/// [`Error::MigrationRefused`] with every reason; [`Error::Io`] when a write
/// fails (run `rollback` again).
pub fn rollback(
    root: &Path,
    id: Option<&str>,
    force: bool,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<RollbackOutcome, Error> {
    let Some(status) = status(root, id)? else {
        return Err(refuse(vec![format!(
            "there is no migration under {} to roll back",
            root.display()
        )]));
    };
    let dir = status.dir.clone();
    let plan = load_plan(&dir.join("plan.json"))?;
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
                reasons.push(format!(
                    "{file} changed, but the backup of this migration is incomplete: restore it by hand"
                ));
            }
        }
        if !reasons.is_empty() {
            return Err(refuse(reasons));
        }
        remove_stale_temps(root, &plan);
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
    reasons.extend(verify_backup(&dir, &manifest));
    for (file, state) in &status.files {
        match state {
            FileState::Changed if !force => reasons.push(format!(
                "{file} changed since the migration wrote it; rolling back would lose that change \
                 (pass --force to restore it anyway)"
            )),
            FileState::Missing if !force => reasons.push(format!(
                "{file} was deleted since the migration; pass --force to restore it"
            )),
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
    let dirs_ok: Vec<String> = writable_problems(
        root,
        &Plan {
            files: plan
                .files
                .iter()
                .filter(|f| {
                    to_restore.iter().any(|e| e.file == f.file) && root.join(&f.file).exists()
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
    remove_stale_temps(root, &plan);
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
        let bytes = read_bytes(&dir.join("files").join(&entry.file))?;
        if sha256_hex(&bytes) != entry.sha256 {
            return Err(refuse(vec![format!(
                "the backup copy of {} changed during the rollback",
                entry.file
            )]));
        }
        let path = root.join(&entry.file);
        let parent = parent_of(&path);
        fs::create_dir_all(&parent).map_err(|e| io_error(&parent, e))?;
        write_atomic(&path, &bytes, false)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_394), (2025, 11, 2));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }

    #[test]
    fn states_follow_the_last_event() {
        let t = String::new();
        let begin = Event::Begin {
            time: t.clone(),
            plan_sha256: t.clone(),
        };
        assert_eq!(state_of(std::slice::from_ref(&begin)), State::Interrupted);
        let done = [begin.clone(), Event::Complete { time: t.clone() }];
        assert_eq!(state_of(&done), State::Complete);
        let rb = [
            begin,
            Event::Complete { time: t.clone() },
            Event::RollbackBegin {
                time: t.clone(),
                force: false,
            },
        ];
        assert_eq!(state_of(&rb), State::RollbackInterrupted);
    }
}
