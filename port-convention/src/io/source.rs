//! Reading source and configuration files for the source rules: which files
//! (`source:` of `ports.yaml`, `.gitignore`, discovery), read and scanned
//! in parallel, one at a time in memory per thread.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::check::Scan;
use crate::migrate::{FileKind, FilePlan, Plan, sha256_hex};
use crate::source::{SourceIndex, SourceScan, scan_source};
use crate::{Convention, Error, Finding, SourceKind};

/// What scanning the source files of a tree found.
#[derive(Debug, Default)]
pub struct SourceOutcome {
    /// Every finding, sorted by file and place.
    pub findings: Vec<Finding>,
    /// Findings silenced by `port-convention: ignore[rule]`.
    pub suppressed: usize,
    /// Files scanned.
    pub files: usize,
    /// Files that could not be read, with the reason.
    pub unreadable: Vec<(String, String)>,
}

/// A source file to scan: its name relative to the root, path and kind.
pub type SourceFileRef = (String, PathBuf, SourceKind);

/// The files under `root` the source rules scan: of a kind the convention's
/// `source.kinds` lists, matching `source.include` when given, outside
/// `source.exclude`, `discovery.exclude`, `discovery.skip_dirs` and what the
/// repository's `.gitignore` files ignore; never a compose file, the
/// convention, or a `.env` file a compose project reads (those have their
/// own rules). Symbolic links are followed only to files inside the root.
/// Sorted by name.
///
/// # Errors
///
/// [`Error::InvalidArgument`] for an invalid glob.
pub fn source_files(
    root: &Path,
    convention: &Convention,
    scan: &Scan,
) -> Result<Vec<SourceFileRef>, Error> {
    let mut files = walk_sources(root, convention, scan, &|name, path, kind| {
        Some((name.to_owned(), path.to_owned(), kind))
    })?;
    files.sort();
    Ok(files)
}

/// Walks the source files (see [`source_files`]) on every core and calls
/// `each` on each where it is found; the results in no particular order.
fn walk_sources<T: Send>(
    root: &Path,
    convention: &Convention,
    scan: &Scan,
    each: &(dyn Fn(&str, &Path, SourceKind) -> Option<T> + Sync),
) -> Result<Vec<T>, Error> {
    let settings = &convention.source;
    let discovery = &convention.discovery;
    let include = globs(&settings.include)?;
    let mut excluded = settings.exclude.clone();
    excluded.extend(discovery.exclude.iter().cloned());
    let exclude = globs(&excluded)?;
    let kinds: BTreeSet<SourceKind> = settings.kinds.iter().copied().collect();
    let mut taken: BTreeSet<String> = scan.compose_files.iter().map(|f| f.file.clone()).collect();
    for project in &scan.projects.projects {
        taken.extend(project.reads.iter().cloned());
        taken.extend(project.files.iter().cloned());
        taken.extend(project.env_files.iter().cloned());
        taken.insert(
            crate::check::project_env_name(&format!("{}/x", project.directory))
                .trim_start_matches('/')
                .to_owned(),
        );
    }
    let canonical_root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_owned());
    let skip_dirs = discovery.skip_dirs.clone();
    let walker = ignore::WalkBuilder::new(root)
        .hidden(false)
        .require_git(false)
        .parents(false)
        .ignore(false)
        .git_exclude(false)
        .git_global(false)
        .filter_entry(move |entry| {
            // Git's own files and migrate's backups are not the repository's source.
            if entry.file_name() == ".git" || entry.file_name() == ".port-convention" {
                return false;
            }
            let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
            !(is_dir
                && entry.depth() > 0
                && skip_dirs
                    .iter()
                    .any(|d| entry.file_name().to_string_lossy() == d.as_str()))
        })
        .build_parallel();
    let found: std::sync::Mutex<Vec<T>> = std::sync::Mutex::new(Vec::new());
    let wanted = |entry: &ignore::DirEntry| -> Option<(String, PathBuf, SourceKind)> {
        let file_type = entry.file_type()?;
        let file_name = entry.file_name().to_string_lossy();
        let kind = SourceKind::of_file_name(&file_name)?;
        if !kinds.contains(&kind) || file_name == "ports.yaml" || file_name == "ports.yml" {
            return None;
        }
        let path = if file_type.is_symlink() {
            match std::fs::canonicalize(entry.path()) {
                Ok(target) if target.starts_with(&canonical_root) && target.is_file() => {
                    entry.path().to_owned()
                }
                _ => return None,
            }
        } else if file_type.is_file() {
            entry.path().to_owned()
        } else {
            return None;
        };
        let name = super::relative_name(root, &path);
        // An exclude glob naming a directory (`generated`) excludes what
        // is under it too.
        let excluded = super::is_excluded(&exclude, &name);
        if taken.contains(&name)
            || excluded
            || (!settings.include.is_empty() && !include.is_match(&name))
        {
            return None;
        }
        Some((name, path, kind))
    };
    walker.run(|| {
        let (found, wanted) = (&found, &wanted);
        Box::new(move |entry| {
            if let Ok(entry) = entry
                && let Some((name, path, kind)) = wanted(&entry)
                && let Some(result) = each(&name, &path, kind)
                && let Ok(mut list) = found.lock()
            {
                list.push(result);
            }
            ignore::WalkState::Continue
        })
    });
    Ok(found.into_inner().unwrap_or_default())
}

fn globs(globs: &[String]) -> Result<globset::GlobSet, Error> {
    let mut builder = globset::GlobSetBuilder::new();
    for glob in globs {
        let parsed = globset::GlobBuilder::new(glob)
            .literal_separator(false)
            .build()
            .map_err(|err| Error::InvalidArgument {
                message: format!("invalid source glob {glob:?} in ports.yaml: {err}"),
            })?;
        builder.add(parsed);
    }
    builder.build().map_err(|err| Error::InvalidArgument {
        message: format!("invalid source globs in ports.yaml: {err}"),
    })
}

/// Reads and scans `files` in parallel.
pub fn scan_files(
    files: &[SourceFileRef],
    index: &SourceIndex,
) -> Vec<(String, Result<SourceScan, String>)> {
    use rayon::prelude::*;
    files
        .par_iter()
        .map(|(name, path, kind)| {
            let scanned = super::read_regular(path)
                .map(|bytes| scan_source(name, *kind, &bytes, index))
                .map_err(|err| err.to_string());
            (name.clone(), scanned)
        })
        .collect()
}

/// Scans the source files of the tree at `root` (already read into `scan`)
/// against `convention`: the walk runs on every core, then the files are
/// read and scanned in parallel, one file per thread in memory.
///
/// # Errors
///
/// [`Error::InvalidArgument`] for an invalid glob of `source:`.
pub fn scan_sources(
    root: &Path,
    convention: &Convention,
    scan: &Scan,
) -> Result<SourceOutcome, Error> {
    if !convention.source.enabled {
        return Ok(SourceOutcome::default());
    }
    // The walk first: a tree without source files never pays for the
    // automaton (a convention of 10,000 services has 20,000 patterns).
    let files = source_files(root, convention, scan)?;
    if files.is_empty() {
        return Ok(SourceOutcome::default());
    }
    let Some(index) = SourceIndex::new(convention, &scan.projects.projects) else {
        return Ok(SourceOutcome::default());
    };
    let mut outcome = SourceOutcome {
        files: files.len(),
        ..SourceOutcome::default()
    };
    for (name, result) in scan_files(&files, &index) {
        match result {
            Ok(s) => {
                outcome.suppressed += s.suppressed;
                outcome.findings.extend(s.findings);
            }
            Err(reason) => outcome.unreadable.push((name, reason)),
        }
    }
    Ok(outcome)
}

/// Adds to `plan` the edits that move every stale port literal of the
/// tree's source files to its new port (`migrate plan --source`), and the
/// planned texts of those files to `texts`.
///
/// # Errors
///
/// As [`scan_sources`].
pub fn add_source_edits(
    root: &Path,
    convention: &Convention,
    scan: &Scan,
    plan: &mut Plan,
    texts: &mut std::collections::BTreeMap<String, String>,
) -> Result<(), Error> {
    let Some(index) = SourceIndex::new(convention, &scan.projects.projects) else {
        return Ok(());
    };
    let files = source_files(root, convention, scan)?;
    for ((name, scanned), (_, path, _)) in scan_files(&files, &index).into_iter().zip(&files) {
        let Ok(scanned) = scanned else { continue };
        if scanned.fixes.is_empty() {
            continue;
        }
        // Edits are applied to the exact text planned on: UTF-8 only.
        let Ok(text) = super::read_text(path) else {
            continue;
        };
        let (edits, changes): (Vec<_>, Vec<_>) = scanned.fixes.into_iter().unzip();
        let Ok(new_text) = crate::migrate::apply_edits(&name, &text, &edits) else {
            continue;
        };
        plan.files.push(FilePlan {
            file: name.clone(),
            kind: FileKind::Source,
            sha256: sha256_hex(text.as_bytes()),
            new_sha256: sha256_hex(new_text.as_bytes()),
            edits,
        });
        plan.changes.extend(changes);
        texts.insert(name, text);
    }
    plan.files.sort_by(|a, b| a.file.cmp(&b.file));
    plan.changes.sort_by(|a, b| {
        (&a.service, &a.port_name, &a.file, a.line, a.column).cmp(&(
            &b.service,
            &b.port_name,
            &b.file,
            b.line,
            b.column,
        ))
    });
    Ok(())
}
