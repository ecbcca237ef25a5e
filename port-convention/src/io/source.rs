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

/// The files under `root` the source rules scan, chosen from the
/// discovery walk's [`crate::check::TreeTexts::source_candidates`]: of a
/// kind the convention's `source.kinds` lists, matching `source.include`
/// when given, outside `source.exclude` (and, as the walk already saw to,
/// `discovery.exclude`, `discovery.skip_dirs` and what the repository's
/// `.gitignore` files ignore); never a compose file, the convention, or a
/// `.env` file a compose project reads (those have their own rules).
/// Symbolic links were followed only to files inside the root. Sorted by
/// name.
///
/// # Errors
///
/// [`Error::InvalidGlob`] for an invalid glob.
pub fn source_files(
    root: &Path,
    convention: &Convention,
    scan: &Scan,
    candidates: &[String],
) -> Result<Vec<SourceFileRef>, Error> {
    let settings = &convention.source;
    let set = "(the source globs of ports.yaml)";
    let include = super::build_globs(&settings.include, set)?;
    let exclude = super::build_globs(&settings.exclude, set)?;
    let kinds: BTreeSet<SourceKind> = settings.kinds.iter().copied().collect();
    let mut taken: BTreeSet<&str> = scan.compose_files.iter().map(|f| f.file.as_str()).collect();
    let project_envs: Vec<String> = scan
        .projects
        .projects
        .iter()
        .map(|project| {
            crate::check::project_env_name(&format!("{}/x", project.directory))
                .trim_start_matches('/')
                .to_owned()
        })
        .collect();
    for project in &scan.projects.projects {
        taken.extend(project.reads.iter().map(String::as_str));
        taken.extend(project.files.iter().map(String::as_str));
        taken.extend(project.env_files.iter().map(String::as_str));
    }
    taken.extend(project_envs.iter().map(String::as_str));
    let mut files: Vec<SourceFileRef> = candidates
        .iter()
        .filter_map(|name| {
            let file_name = name.rsplit('/').next().unwrap_or(name);
            let kind = SourceKind::of_file_name(file_name)?;
            let wanted = kinds.contains(&kind)
                && file_name != "ports.yaml"
                && file_name != "ports.yml"
                && !taken.contains(name.as_str())
                // An exclude glob naming a directory (`generated`)
                // excludes what is under it too.
                && !super::is_excluded(&exclude, name)
                && (settings.include.is_empty() || include.is_match(name));
            wanted.then(|| (name.clone(), root.join(name), kind))
        })
        .collect();
    files.sort();
    Ok(files)
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

/// Scans the source files of the tree at `root` (already read into `scan`;
/// `candidates` from the same walk) against `convention`: the files are
/// read and scanned in parallel, one file per thread in memory.
///
/// # Errors
///
/// [`Error::InvalidGlob`] for an invalid glob of `source:`.
pub fn scan_sources(
    root: &Path,
    convention: &Convention,
    scan: &Scan,
    candidates: &[String],
) -> Result<SourceOutcome, Error> {
    if !convention.source.enabled {
        return Ok(SourceOutcome::default());
    }
    // The files first: a tree without source files never pays for the
    // automaton (a convention of 10,000 services has 20,000 patterns).
    let files = source_files(root, convention, scan, candidates)?;
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
    candidates: &[String],
    plan: &mut Plan,
    texts: &mut std::collections::BTreeMap<String, String>,
) -> Result<(), Error> {
    let Some(index) = SourceIndex::new(convention, &scan.projects.projects) else {
        return Ok(());
    };
    let files = source_files(root, convention, scan, candidates)?;
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
    crate::migrate::sort_changes(&mut plan.changes);
    Ok(())
}
