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
/// (the last ones are `rollback`'s and the pre-flight's):
///
/// - `after-lock`: the migration lock is taken, nothing else done yet (`apply`, `rollback`);
/// - `mid-plan-write`: half of the backup's `plan.json` is in its scratch file;
/// - `after-begin`: the plan and the journal's first event are written, no backup yet;
/// - `mid-backup`: after the first file is copied into the backup, before the manifest;
/// - `after-backup`: the backup and its manifest are complete, no file written yet;
/// - `mid-write`: half of a file's new text is in its scratch file;
/// - `before-rename`: a file's new text is in its fsynced temporary file, not yet renamed;
/// - `after-rename`: a file was renamed into place, before the journal records it;
/// - `before-complete`: every file is written, before the re-scan and the `complete` event;
/// - `rollback-after-restore`: `rollback` restored a file, before the journal records it;
/// - `mid-probe`: the pre-flight created a probe file in a directory, before removing it.
///
/// `<name>:<n>:pause` waits at the step instead of aborting (see `failpoint`).
pub const FAILPOINTS: &[&str] = &[
    "after-lock",
    "mid-plan-write",
    "after-begin",
    "mid-backup",
    "after-backup",
    "mid-write",
    "before-rename",
    "after-rename",
    "before-complete",
    "rollback-after-restore",
    "mid-probe",
];

fn io_error(path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        path: path.to_owned(),
        source,
    }
}

/// The failpoint the environment asks for: `(name, n, pause)`.
fn failpoint_spec() -> Option<(String, usize, bool)> {
    if !cfg!(debug_assertions) {
        return None;
    }
    let wanted = std::env::var("PORT_CONVENTION_FAILPOINT").ok()?;
    let mut parts = wanted.split(':');
    let name = parts.next()?.to_owned();
    let mut nth = 1;
    let mut pause = false;
    for part in parts {
        if part == "pause" {
            pause = true;
        } else if let Ok(n) = part.parse::<usize>() {
            nth = n;
        }
    }
    Some((name, nth, pause))
}

/// Whether the step `name` is reached for the `n`-th time the environment
/// names (debug builds only); counts every hit of that step.
fn failpoint_hit(name: &str) -> bool {
    use std::sync::Mutex;
    static HITS: Mutex<Vec<(String, usize)>> = Mutex::new(Vec::new());
    let Some((wanted, nth, _)) = failpoint_spec() else {
        return false;
    };
    if wanted != name {
        return false;
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
    count == nth
}

fn abort_at(name: &str) -> ! {
    eprintln!("port-convention: failpoint {name} reached, aborting");
    std::process::abort();
}

/// Aborts the process here when the environment asks for it (debug builds
/// only). With `:pause` it waits instead, until the file named by
/// `PORT_CONVENTION_FAILPOINT_RELEASE` exists (at most two minutes), so that
/// a test can run a second process meanwhile.
fn failpoint(name: &str) {
    if !failpoint_hit(name) {
        return;
    }
    if failpoint_spec().is_some_and(|(_, _, pause)| pause) {
        eprintln!(
            "port-convention: failpoint {name} reached, pausing (pid {})",
            std::process::id()
        );
        let release = std::env::var_os("PORT_CONVENTION_FAILPOINT_RELEASE").map(PathBuf::from);
        let start = std::time::Instant::now();
        while start.elapsed() < std::time::Duration::from_secs(120) {
            if release.as_deref().is_some_and(Path::exists) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        return;
    }
    abort_at(name);
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
        crate::io::convention_from_text(&convention_path.display().to_string(), &convention_text)?;
    let root = match &request.root {
        Some(root) => root.clone(),
        None => convention_path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_owned),
    };
    let root = absolute(&root);
    let env = request.env.clone().unwrap_or_else(crate::io::process_env);
    let (scan, mut texts) = read_tree(&root, &convention, &env)?;
    let tree = Tree {
        convention: &convention,
        scan: &scan,
        texts: &texts,
        env: &env,
    };
    let mut plan = migrate::plan(&tree, &request.options);
    if request.options.source {
        crate::io::source::add_source_edits(&root, &convention, &scan, &mut plan, &mut texts)?;
    }
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
    write_atomic(path, format!("{text}\n").as_bytes(), None, false)
}

/// Reads a plan saved by [`save_plan`].
///
/// # Errors
///
/// [`Error::Io`], and [`Error::InvalidArgument`] for a file that is not a
/// plan of this format version.
pub fn load_plan(path: &Path) -> Result<Plan, Error> {
    let bytes = crate::io::read_regular(path)?;
    let plan = parse_plan(&bytes).map_err(|reason| Error::InvalidArgument {
        message: format!(
            "{}: {reason}",
            crate::report::escape_text(&path.display().to_string())
        ),
    })?;
    migrate::check_plan_paths(&plan, &path.display().to_string())?;
    Ok(plan)
}

// ---------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------

/// A name no other process or earlier run uses: pid, a per-process
/// counter, the time and a random number.
fn unique_suffix() -> String {
    use std::hash::{BuildHasher as _, Hasher as _};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(n);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    hasher.write_u32(nanos);
    format!(
        "{}-{n}-{:08x}",
        std::process::id(),
        hasher.finish() & 0xffff_ffff
    )
}

/// The suffix of every scratch file `migrate` creates beside a file.
const SCRATCH_SUFFIX: &str = ".port-convention.tmp";
/// The prefix of the probe files of the pre-flight check.
const PROBE_PREFIX: &str = ".port-convention-probe.";

/// Whether `name` is a scratch file of `migrate` for the file `of` (any
/// process, any run, including the fixed names of earlier versions).
fn is_scratch_for(name: &str, of: &str) -> bool {
    name.starts_with(&format!(".{of}.")) && name.ends_with(SCRATCH_SUFFIX)
}

fn is_probe(name: &str) -> bool {
    name.starts_with(PROBE_PREFIX) && name.ends_with(".tmp")
}

/// Options that never follow a symbolic link in the last component and
/// never block on a FIFO.
fn no_follow(options: &mut OpenOptions) -> &mut OpenOptions {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    options
}

/// A scratch file this process created (`O_CREAT|O_EXCL`, so never an
/// existing path and never through a symbolic link), removed when dropped
/// unless it was renamed into place.
struct Scratch {
    path: PathBuf,
    keep: bool,
}

impl Scratch {
    /// Creates `dir/<prefix><unique><suffix>`, retrying on a name clash.
    fn create(dir: &Path, prefix: &str, suffix: &str) -> Result<(Scratch, File), Error> {
        let mut last = None;
        for _ in 0..16 {
            let path = dir.join(format!("{prefix}{}{suffix}", unique_suffix()));
            let mut options = OpenOptions::new();
            options.write(true).create_new(true);
            match no_follow(&mut options).open(&path) {
                Ok(file) => return Ok((Scratch { path, keep: false }, file)),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
                Err(e) => return Err(io_error(&path, e)),
            }
        }
        Err(io_error(
            dir,
            last.unwrap_or_else(|| std::io::Error::other("no unique scratch name")),
        ))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if !self.keep {
            let _ = fs::remove_file(&self.path);
        }
    }
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

/// Writes `bytes` to `path` atomically: a new scratch file in the same
/// directory (unique name, created exclusively, with the old file's
/// permissions), fsync, rename over `path` (which replaces a symbolic link
/// rather than following it), fsync of the directory. The scratch file is
/// removed on every error.
fn write_atomic(
    path: &Path,
    bytes: &[u8],
    mid_failpoint: Option<&str>,
    failpoints: bool,
) -> Result<(), Error> {
    let dir = parent_of(path);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (mut scratch, mut file) = Scratch::create(&dir, &format!(".{name}."), SCRATCH_SUFFIX)?;
    let tmp = scratch.path.clone();
    if let Ok(meta) = fs::symlink_metadata(path)
        && meta.is_file()
    {
        file.set_permissions(meta.permissions())
            .map_err(|e| io_error(&tmp, e))?;
    }
    if let Some(name) = mid_failpoint
        && failpoint_hit(name)
    {
        // A torn scratch file, as a kill or a full disk leaves it.
        let _ = file.write_all(bytes.get(..bytes.len() / 2).unwrap_or_default());
        let _ = file.sync_all();
        abort_at(name);
    }
    file.write_all(bytes).map_err(|e| io_error(&tmp, e))?;
    file.sync_all().map_err(|e| io_error(&tmp, e))?;
    drop(file);
    if failpoints {
        failpoint("before-rename");
    }
    fs::rename(&tmp, path).map_err(|e| io_error(path, e))?;
    scratch.keep = true;
    sync_dir(&dir)
}

/// Creates every directory of `rel` (a checked relative name) under `base`,
/// refusing a component that exists as anything but a real directory (a
/// symbolic link above all).
fn create_dirs_no_follow(base: &Path, rel: &str) -> Result<(), Error> {
    let mut path = base.to_owned();
    for component in rel.split('/').filter(|c| !c.is_empty()) {
        path.push(component);
        match fs::symlink_metadata(&path) {
            Ok(meta) if meta.is_dir() => {}
            Ok(meta) => {
                return Err(Error::UnsafePath {
                    path: path.display().to_string(),
                    reason: format!(
                        "it is {}, not a directory; migrate does not follow links",
                        crate::io::file_kind(meta.file_type())
                    ),
                });
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => match fs::create_dir(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    if !fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir()) {
                        return Err(io_error(&path, e));
                    }
                }
                Err(e) => return Err(io_error(&path, e)),
            },
            Err(e) => return Err(io_error(&path, e)),
        }
    }
    Ok(())
}

/// Reads a regular file without following a symbolic link in its last
/// component and without blocking on a FIFO.
fn read_bytes(path: &Path) -> Result<Vec<u8>, Error> {
    use std::io::Read as _;
    let mut options = OpenOptions::new();
    options.read(true);
    let mut file = no_follow(&mut options)
        .open(path)
        .map_err(|e| io_error(path, e))?;
    let meta = file.metadata().map_err(|e| io_error(path, e))?;
    if !meta.is_file() {
        return Err(Error::NotRegularFile {
            path: path.to_owned(),
            kind: crate::io::file_kind(meta.file_type()).to_owned(),
        });
    }
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)
        .map_err(|e| io_error(path, e))?;
    Ok(bytes)
}

/// [`read_bytes`], `None` when the file does not exist.
fn read_bytes_if_exists(path: &Path) -> Result<Option<Vec<u8>>, Error> {
    match fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        _ => read_bytes(path).map(Some),
    }
}

/// The state of the tree at the root: `.port-convention/` and what is in
/// it must be real directories and files of the tree, never symbolic links
/// (a repository may ship its own `.port-convention/`).
fn check_state_dir(path: &Path, what: &str) -> Result<bool, Error> {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => Ok(true),
        Ok(meta) => Err(Error::UnsafePath {
            path: path.display().to_string(),
            reason: format!(
                "the {what} is {}, not a directory; migrate never follows links in its state \
                 directory (remove it if you did not create it)",
                crate::io::file_kind(meta.file_type())
            ),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(io_error(path, e)),
    }
}

/// Resolves a checked relative name under `root`: every directory between
/// the root and the file must be a real directory (no symbolic link), the
/// file itself must be a regular file or absent, and the canonical parent
/// must be inside the canonical root.
fn resolve_inside(root: &Path, entry: &str, what: &str) -> Result<PathBuf, Error> {
    let unsafe_path = |reason: String| Error::UnsafePath {
        path: entry.to_owned(),
        reason: format!("{reason} ({what}); nothing was read or written"),
    };
    if let Some(reason) = migrate::unsafe_path_reason(entry) {
        return Err(unsafe_path(reason.to_owned()));
    }
    let canonical_root = fs::canonicalize(root).map_err(|e| io_error(root, e))?;
    let parts: Vec<&str> = entry.split('/').collect();
    let mut path = root.to_owned();
    let mut exists = true;
    for (i, part) in parts.iter().enumerate() {
        path.push(part);
        let last = i + 1 == parts.len();
        match fs::symlink_metadata(&path) {
            Ok(meta) if meta.file_type().is_symlink() => {
                return Err(unsafe_path(format!(
                    "{} is a symbolic link; migrate does not follow links",
                    crate::report::escape_text(&parts[..=i].join("/"))
                )));
            }
            Ok(meta) if !last && !meta.is_dir() => {
                return Err(unsafe_path(format!(
                    "{} is not a directory",
                    crate::report::escape_text(&parts[..=i].join("/"))
                )));
            }
            Ok(meta) if last && !meta.is_file() => {
                return Err(unsafe_path(format!(
                    "it is {}, not a regular file",
                    crate::io::file_kind(meta.file_type())
                )));
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                exists = false;
                break;
            }
            Err(e) => return Err(io_error(&path, e)),
        }
    }
    let full = root.join(entry);
    if exists {
        let parent = parent_of(&full);
        let canonical = fs::canonicalize(&parent).map_err(|e| io_error(&parent, e))?;
        if !canonical.starts_with(&canonical_root) {
            return Err(unsafe_path(format!(
                "its directory resolves to {}, outside the root {}",
                crate::report::escape_text(&canonical.display().to_string()),
                crate::report::escape_text(&canonical_root.display().to_string())
            )));
        }
    }
    Ok(full)
}

/// Every file of `plan` resolved under `root` ([`resolve_inside`]).
fn resolve_plan(root: &Path, plan: &Plan, what: &str) -> Result<(), Error> {
    migrate::check_plan_paths(plan, what)?;
    for file in &plan.files {
        resolve_inside(root, &file.file, what)?;
    }
    Ok(())
}

/// Removes the scratch and probe files a killed run left in the
/// directories of `plan`'s files (never a directory, never through a link:
/// a link is removed itself).
fn remove_stale_scratch(root: &Path, plan: &Plan) {
    let mut dirs: BTreeMap<PathBuf, Vec<String>> = BTreeMap::new();
    dirs.entry(root.to_owned()).or_default();
    for file in &plan.files {
        let path = root.join(&file.file);
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        dirs.entry(parent_of(&path)).or_default().push(name);
    }
    for (dir, names) in dirs {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.filter_map(Result::ok) {
            let name = entry.file_name().to_string_lossy().into_owned();
            let stale = is_probe(&name) || names.iter().any(|n| is_scratch_for(&name, n));
            if stale && entry.file_type().is_ok_and(|t| !t.is_dir()) {
                let _ = fs::remove_file(entry.path());
            }
        }
    }
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
                reason: "the journal has other hard links; migrate appends only to its own journal"
                    .into(),
            });
        }
    }
    file.write_all(format!("{line}\n").as_bytes())
        .map_err(|e| io_error(&path, e))?;
    file.sync_all().map_err(|e| io_error(&path, e))
}

/// Reads a journal; a torn last line (a crash while appending) is ignored.
fn read_journal(dir: &Path) -> Result<Vec<Event>, Error> {
    let path = dir.join("journal.jsonl");
    match fs::symlink_metadata(&path) {
        Ok(meta) if !meta.is_file() => {
            return Err(damaged(
                dir,
                format!(
                    "journal.jsonl is {}, not a regular file",
                    crate::io::file_kind(meta.file_type())
                ),
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

fn read_manifest(dir: &Path) -> Result<Option<Manifest>, Error> {
    let path = dir.join("manifest.json");
    let Some(bytes) = read_bytes_if_exists(&path)? else {
        return Ok(None);
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|err| damaged(dir, format!("manifest.json cannot be read ({err})")))
}

/// The way out of a damaged backup, in the error itself.
fn damaged(dir: &Path, reason: String) -> Error {
    let shown = crate::report::escape_text(&dir.display().to_string());
    Error::DamagedBackup {
        dir: dir.to_owned(),
        reason,
        way_out: format!(
            "nothing was changed. migrate cannot tell from it which files it wrote: check the tree \
             with `git status` / `git diff` (the copies taken before the migration, if any, are in \
             {shown}/files/), then move the backup aside, for example `mv {shown} {shown}.damaged` \
             (a directory whose name is not a migration id is ignored), and run the command again"
        ),
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

fn now_secs() -> i64 {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    i64::try_from(secs).unwrap_or(0)
}

/// The id stamp of a time, `20251102T101530Z`.
fn stamp_of(secs: i64) -> String {
    let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
    let rest = secs.rem_euclid(86_400);
    let (h, mi, s) = (rest / 3600, rest % 3600 / 60, rest % 60);
    format!("{y:04}{mo:02}{d:02}T{h:02}{mi:02}{s:02}Z")
}

/// Now, as `(20251102T101530Z, 2025-11-02T10:15:30Z)`.
fn now_utc() -> (String, String) {
    let secs = now_secs();
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

/// Whether `name` is a migration id: a UTC timestamp `20261127T210244Z`,
/// with `-NN` when several migrations started in the same second.
pub fn is_migration_id(name: &str) -> bool {
    let bytes = name.as_bytes();
    let stamp_ok = bytes.len() >= 16
        && bytes[..8].iter().all(u8::is_ascii_digit)
        && bytes[8] == b'T'
        && bytes[9..15].iter().all(u8::is_ascii_digit)
        && bytes[15] == b'Z';
    if !stamp_ok {
        return false;
    }
    match &name[16..] {
        "" => true,
        rest => rest
            .strip_prefix('-')
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())),
    }
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
    match read_bytes(&root.join(&file.file)) {
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

/// Parses the text of a plan; `None` with the reason when it is not one.
fn parse_plan(bytes: &[u8]) -> Result<Plan, String> {
    let plan: Plan = serde_json::from_slice(bytes).map_err(|err| {
        if err.is_eof() {
            format!(
                "torn: it ends early, at line {} column {} (an interrupted write or a full disk)",
                err.line(),
                err.column()
            )
        } else {
            format!(
                "not a migration plan (line {}, column {}: {})",
                err.line(),
                err.column(),
                crate::error::user_terms(&err.to_string())
            )
        }
    })?;
    if plan.format != migrate::PLAN_FORMAT || plan.version != migrate::PLAN_VERSION {
        return Err(format!(
            "a plan of format {} version {}; this tool reads {} version {}",
            crate::error::excerpt(&plan.format, 40),
            plan.version,
            migrate::PLAN_FORMAT,
            migrate::PLAN_VERSION
        ));
    }
    Ok(plan)
}

/// The plan of a backup directory, its file names checked.
///
/// # Errors
///
/// [`Error::DamagedBackup`] when `plan.json` is torn, foreign or not a
/// regular file; [`Error::UnsafePath`] when it names a file outside the root.
fn load_backup_plan(dir: &Path) -> Result<Plan, Error> {
    let path = dir.join("plan.json");
    match fs::symlink_metadata(&path) {
        Ok(meta) if meta.is_file() => {}
        Ok(meta) => {
            return Err(damaged(
                dir,
                format!(
                    "plan.json is {}, not a regular file",
                    crate::io::file_kind(meta.file_type())
                ),
            ));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(damaged(dir, "plan.json is missing".into()));
        }
        Err(e) => return Err(io_error(&path, e)),
    }
    let bytes = read_bytes(&path)?;
    let plan =
        parse_plan(&bytes).map_err(|reason| damaged(dir, format!("plan.json is {reason}")))?;
    migrate::check_plan_paths(&plan, &path.display().to_string()).map_err(|err| match err {
        Error::UnsafePath { path, reason } => Error::UnsafePath {
            path,
            reason: format!(
                "{reason}. This backup was not made by migrate in this tree (a repository can ship \
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
fn never_started(dir: &Path) -> Result<bool, Error> {
    Ok(read_journal(dir)?.is_empty()
        && fs::symlink_metadata(dir.join("manifest.json")).is_err()
        && fs::symlink_metadata(dir.join("files")).is_err())
}

/// The migration `id` (default: the last one whose backup can be read)
/// with its directory and plan. A last backup that never started (torn
/// `plan.json`, nothing else) is passed over.
fn find_migration(root: &Path, id: Option<&str>) -> Result<Option<(String, PathBuf, Plan)>, Error> {
    let Some(id) = id else {
        let tomorrow = stamp_of(now_secs() + 86_400);
        for id in migrations(root)?.into_iter().rev() {
            let dir = backups_dir(root).join(&id);
            if id.get(..16).is_some_and(|stamp| stamp > tomorrow.as_str()) {
                // It would be "the last migration" for ever, hiding the real
                // ones from `status` and `rollback`.
                return Err(damaged(
                    &dir,
                    "it is dated in the future; a migration made here is named by the time it \
                     starts, so this one was not (a repository can ship its own .port-convention/)"
                        .into(),
                ));
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
        return Err(Error::InvalidArgument {
            message: format!(
                "{} is not a migration id (a UTC timestamp such as 20261127T210244Z)",
                crate::report::escape_text(id)
            ),
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
        return Err(Error::InvalidArgument {
            message: format!(
                "{} is not a migration backup (no plan.json)",
                crate::report::escape_text(&dir.display().to_string())
            ),
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
/// [`Error::Io`], [`Error::InvalidArgument`] for an unknown id,
/// [`Error::DamagedBackup`] for a backup that cannot be read (with the way
/// out), [`Error::UnsafePath`] for a plan naming files outside the root.
pub fn status(root: &Path, id: Option<&str>) -> Result<Option<Status>, Error> {
    Ok(status_and_plan(root, id)?.map(|(status, _)| status))
}

/// [`status`] with the plan of the migration.
fn status_and_plan(root: &Path, id: Option<&str>) -> Result<Option<(Status, Plan)>, Error> {
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
        let name = crate::report::escape_text(&file.file);
        // Checked again here: the tree may have changed since the plan was
        // resolved, and the probe below writes beside this file.
        let path = match resolve_inside(root, &file.file, "the plan") {
            Ok(path) => path,
            Err(err) => {
                reasons.push(err.to_string());
                continue;
            }
        };
        match fs::symlink_metadata(&path) {
            Ok(meta) if meta.permissions().readonly() => {
                reasons.push(format!("{name} is read-only"));
            }
            Ok(_) => {
                let mut options = OpenOptions::new();
                options.append(true);
                if let Err(e) = no_follow(&mut options).open(&path) {
                    reasons.push(format!("{name} cannot be written: {e}"));
                }
            }
            Err(e) => reasons.push(format!("{name}: {e}")),
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
            Err(e) => reasons.push(format!(
                "cannot create files in {} (needed for atomic writes): {e}",
                crate::report::escape_text(&dir.display().to_string())
            )),
        }
    }
    reasons
}

fn load_checked_convention(plan: &Plan) -> Result<Convention, Error> {
    let path = PathBuf::from(&plan.convention.path);
    if plan.convention.sha256.is_empty() {
        return Err(refuse(vec![
            "the plan does not record the SHA-256 of its convention; make it with `migrate plan`"
                .into(),
        ]));
    }
    let text = crate::io::read_text(&path)?;
    if sha256_hex(text.as_bytes()) != plan.convention.sha256 {
        return Err(refuse(vec![format!(
            "{} changed since the plan was made; plan again",
            crate::report::escape_text(&path.display().to_string())
        )]));
    }
    crate::io::convention_from_text(&path.display().to_string(), &text)
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
        let bytes = match read_bytes(&path) {
            Ok(b) => b,
            Err(e) => {
                reasons.push(e.to_string());
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

// ---------------------------------------------------------------------------
// Lock
// ---------------------------------------------------------------------------

/// The name of the file under `.port-convention/` that records the pid of
/// the process holding the migration lock.
const LOCK_FILE: &str = "lock";

/// The exclusive lock of a tree's migrations, held by `apply`, `resume`
/// and `rollback` from start to end.
///
/// It is an advisory `flock` (`File::try_lock`) on the root directory
/// itself: the kernel releases it when the process dies, however it dies,
/// so a killed migration never leaves a stale lock, and taking it creates
/// no file (a refused pre-flight still writes nothing). The holder's pid is
/// recorded in `.port-convention/lock` as soon as that directory exists, for
/// the message of a second process; that file is only informative.
struct MigrationLock {
    root: PathBuf,
    recorded: bool,
    _file: File,
}

impl MigrationLock {
    fn take(root: &Path) -> Result<MigrationLock, Error> {
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
    fn lock_target(root: &Path) -> Result<File, Error> {
        File::open(root).map_err(|e| io_error(root, e))
    }

    #[cfg(not(unix))]
    fn lock_target(root: &Path) -> Result<File, Error> {
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
    fn record(&mut self) -> Result<(), Error> {
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
fn read_lock_pid(root: &Path) -> Option<u32> {
    let bytes = read_bytes_if_exists(&root.join(STATE_DIR).join(LOCK_FILE)).ok()??;
    if bytes.len() > 20 {
        return None;
    }
    String::from_utf8_lossy(&bytes).trim().parse().ok()
}

/// Writes `.port-convention/.gitignore` unless it already holds exactly
/// `*` (a full disk can leave it empty, a repository can ship another one;
/// without it `check` would scan the backups).
fn ensure_gitignore(root: &Path) -> Result<(), Error> {
    let path = root.join(STATE_DIR).join(".gitignore");
    if matches!(read_bytes_if_exists(&path), Ok(Some(bytes)) if bytes == b"*\n") {
        return Ok(());
    }
    write_atomic(&path, b"*\n", None, false)
}

// ---------------------------------------------------------------------------
// Apply
// ---------------------------------------------------------------------------

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

fn apply_locked(
    root: &Path,
    plan: &Plan,
    options: &ApplyOptions,
    progress: &mut dyn FnMut(Progress<'_>),
    lock: &mut MigrationLock,
) -> Result<ApplyOutcome, Error> {
    resolve_plan(root, plan, "the plan")?;
    if let Some((last, pending)) = status_and_plan(root, None)? {
        match last.state {
            State::Interrupted => {
                if pending.files == plan.files {
                    return resume_locked(root, options, progress, lock);
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
                .map(|p| {
                    format!(
                        "the plan has a problem: {}",
                        crate::report::escape_text(&p.to_string())
                    )
                })
                .collect(),
        ));
    }
    if plan.files.is_empty() {
        return Err(refuse(vec!["the plan changes nothing".into()]));
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
    reasons.extend(
        target_conflicts(&convention, &scan, &plan.targets)
            .iter()
            .map(|n| crate::report::escape_text(&n.to_string())),
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
        let bytes = read_bytes(&resolve_inside(root, &file.file, "the plan")?)?;
        let sha = sha256_hex(&bytes);
        if sha != file.sha256 {
            return Err(refuse(vec![format!(
                "{} changed while it was being backed up; nothing was written to it",
                file.file
            )]));
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
        // Checked again right before writing (names, links and the hash):
        // the window for a concurrent edit is this read to the rename.
        let path = resolve_inside(root, &name, "the plan")?;
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

/// The path of the backup copy of `entry`, checked: `files/` and every
/// directory below it are real directories of the backup, the copy is a
/// regular file.
fn backup_copy(dir: &Path, entry: &str) -> Result<PathBuf, Error> {
    if !check_state_dir(&dir.join("files"), "backup's files directory")? {
        return Err(damaged(dir, "its files/ directory is missing".into()));
    }
    resolve_inside(&dir.join("files"), entry, "a backup copy")
}

fn verify_backup(dir: &Path, manifest: &Manifest) -> Vec<String> {
    let mut reasons = Vec::new();
    for entry in &manifest.files {
        let bytes = backup_copy(dir, &entry.file).and_then(|path| read_bytes(&path));
        match bytes {
            Ok(bytes) if sha256_hex(&bytes) == entry.sha256 => {}
            Ok(_) => reasons.push(format!(
                "the backup copy of {} does not match its manifest (SHA-256 {}); the backup is damaged",
                entry.file,
                short(&entry.sha256)
            )),
            Err(e) => reasons.push(format!(
                "the backup copy of {} cannot be read: {e}",
                entry.file
            )),
        }
    }
    reasons
}

/// Checks a backup's manifest against its plan and the root: every entry
/// is a file of the plan (with the plan's hashes), listed once, and
/// resolves inside the root; otherwise the rollback is refused as a whole.
fn check_manifest(root: &Path, dir: &Path, manifest: &Manifest, plan: &Plan) -> Result<(), Error> {
    let what = format!("{}", dir.join("manifest.json").display());
    let mut seen = std::collections::BTreeSet::new();
    for (i, entry) in manifest.files.iter().enumerate() {
        if let Some(reason) = migrate::unsafe_path_reason(&entry.file) {
            return Err(Error::UnsafePath {
                path: entry.file.clone(),
                reason: format!(
                    "{reason} (files[{i}].file of {}); nothing was restored",
                    crate::report::escape_text(&what)
                ),
            });
        }
        let Some(planned) = plan.files.iter().find(|f| f.file == entry.file) else {
            return Err(damaged(
                dir,
                format!(
                    "its manifest lists {}, which its plan does not; nothing was restored",
                    entry.file
                ),
            ));
        };
        if planned.sha256 != entry.sha256 || planned.new_sha256 != entry.new_sha256 {
            return Err(damaged(
                dir,
                format!(
                    "its manifest and its plan disagree about the hashes of {}; nothing was restored",
                    entry.file
                ),
            ));
        }
        if !seen.insert(entry.file.as_str()) {
            return Err(damaged(
                dir,
                format!(
                    "its manifest lists {} twice; nothing was restored",
                    entry.file
                ),
            ));
        }
        resolve_inside(root, &entry.file, &what)?;
    }
    Ok(())
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

fn resume_locked(
    root: &Path,
    options: &ApplyOptions,
    progress: &mut dyn FnMut(Progress<'_>),
    lock: &mut MigrationLock,
) -> Result<ApplyOutcome, Error> {
    let Some((last, plan)) = status_and_plan(root, None)? else {
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
        return Err(refuse(vec![format!(
            "there is no migration under {} to roll back",
            crate::report::escape_text(&root.display().to_string())
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
                reasons.push(format!(
                    "{file} changed, but the backup of this migration is incomplete: restore it by hand"
                ));
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
            return Err(refuse(vec![format!(
                "the backup copy of {} changed during the rollback",
                entry.file
            )]));
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
    fn migration_ids_are_timestamps_only() {
        for id in [
            "20261127T210244Z",
            "20261127T210244Z-02",
            "20261127T210244Z-100",
        ] {
            assert!(is_migration_id(id), "{id}");
        }
        for id in [
            "",
            "..",
            "../../etc",
            "20261127T210244Z.damaged",
            "20261127T210244Z-",
            "20261127T210244",
            "2026112xT210244Z",
            "20261127T210244Z/..",
        ] {
            assert!(!is_migration_id(id), "{id}");
        }
    }

    #[test]
    fn a_failed_atomic_write_leaves_no_scratch_file() {
        let dir = tempfile::tempdir().unwrap();
        // Renaming over a non-empty directory fails after the scratch file
        // is written.
        let target = dir.path().join("target");
        fs::create_dir_all(target.join("inside")).unwrap();
        assert!(write_atomic(&target, b"new", None, false).is_err());
        let names: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec!["target".to_owned()]);
        // And a successful one leaves only the file.
        write_atomic(&dir.path().join("f"), b"x", None, false).unwrap();
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 2);
    }

    #[test]
    fn scratch_names_are_unique_and_never_reuse_a_path() {
        let dir = tempfile::tempdir().unwrap();
        let (a, _fa) = Scratch::create(dir.path(), ".x.", SCRATCH_SUFFIX).unwrap();
        let (b, _fb) = Scratch::create(dir.path(), ".x.", SCRATCH_SUFFIX).unwrap();
        assert_ne!(a.path, b.path);
        assert!(is_scratch_for(
            &a.path.file_name().unwrap().to_string_lossy(),
            "x"
        ));
        drop(a);
        drop(b);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[cfg(unix)]
    #[test]
    fn resolve_inside_refuses_links_and_escapes() {
        let outside = tempfile::tempdir().unwrap();
        fs::write(outside.path().join("v"), "v").unwrap();
        let root = tempfile::tempdir().unwrap();
        fs::create_dir_all(root.path().join("d")).unwrap();
        fs::write(root.path().join("d/f"), "f").unwrap();
        std::os::unix::fs::symlink(outside.path(), root.path().join("out")).unwrap();
        std::os::unix::fs::symlink(outside.path().join("v"), root.path().join("l")).unwrap();
        std::os::unix::fs::symlink("d", root.path().join("inner")).unwrap();
        assert!(resolve_inside(root.path(), "d/f", "t").is_ok());
        assert!(resolve_inside(root.path(), "d/missing/f", "t").is_ok());
        for bad in [
            "out/v",
            "l",
            "inner/f",
            "../v",
            "/etc/passwd",
            "d/../../v",
            "d/f/x",
        ] {
            let err = resolve_inside(root.path(), bad, "t").unwrap_err();
            assert_eq!(err.code(), "unsafe-path", "{bad}: {err}");
        }
    }

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
