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

mod apply;
mod failpoint;
mod fs;
mod journal;
mod lock;
mod rollback;

pub use crate::migrate::{
    ApplyOutcome, Event, FileState, Progress, RollbackOutcome, State, Status, is_migration_id,
};
pub use apply::{ApplyOptions, apply, resume};
pub use failpoint::FAILPOINTS;
pub use journal::{Manifest, ManifestEntry, migrations, status};
pub use rollback::rollback;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::check::Scan;
use crate::migrate::{self, Plan, PlanOptions, Tree, sha256_hex};
use crate::{Convention, Error};
use fs::{io_error, write_atomic};
use journal::parse_plan;

/// The directory (under the scanned root) that holds backups and journals.
pub const STATE_DIR: &str = ".port-convention";

/// Reads every compose and `.env` file under `root` (discovery as in
/// `check`), keeping what was read: the exact text each was parsed from
/// and the source files the same walk found.
///
/// # Errors
///
/// As [`crate::io::scan_tree`].
pub fn read_tree(
    root: &Path,
    convention: &Convention,
    env: &BTreeMap<String, String>,
) -> Result<(Scan, crate::check::TreeTexts), Error> {
    let tree = crate::io::read_tree_texts(root, &convention.discovery)?;
    let scan = crate::check::scan_texts(&tree, env, None);
    Ok((scan, tree))
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
    let (scan, tree) = read_tree(&root, &convention, &env)?;
    let (mut texts, candidates) = (tree.texts, tree.source_candidates);
    let tree = Tree {
        convention: &convention,
        scan: &scan,
        texts: &texts,
        env: &env,
    };
    let mut plan = migrate::plan(&tree, &request.options);
    if request.options.source {
        crate::io::source::add_source_edits(
            &root,
            &convention,
            &scan,
            &candidates,
            &mut plan,
            &mut texts,
        )?;
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
/// [`Error::Io`], and [`Error::InvalidPlan`] for a file that is not a
/// plan of this format version.
pub fn load_plan(path: &Path) -> Result<Plan, Error> {
    let bytes = crate::io::read_regular(path)?;
    let plan = parse_plan(&bytes).map_err(|problem| Error::InvalidPlan {
        path: path.display().to_string(),
        problem,
    })?;
    migrate::check_plan_paths(&plan, &path.display().to_string())?;
    Ok(plan)
}
