//! The file side of `render` and of CI output: writing rendered files
//! atomically, comparing them with what is committed, and naming files
//! relative to the repository root.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write as _;
use std::path::{Component, Path, PathBuf};

use crate::Error;
use crate::render::RenderedFile;

use super::CheckOutcome;

fn io_error(path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        path: path.to_owned(),
        source,
    }
}

/// The directory a file is in (`.` for a bare name).
fn dir_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// Writes `text` to `path` atomically: an exclusively created scratch file
/// beside it, flushed, renamed over `path` (replacing a symbolic link rather
/// than following it). The scratch file is removed on failure.
///
/// # Errors
///
/// [`Error::Io`] when the directory is missing or not writable.
pub fn write_file_atomic(path: &Path, text: &str) -> Result<(), Error> {
    let dir = dir_of(path);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    let mut attempt = 0u32;
    let (tmp, mut file) = loop {
        let tmp = dir.join(format!(".{name}.{}.{attempt}.tmp", std::process::id()));
        match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
        {
            Ok(file) => break (tmp, file),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 100 => {
                attempt += 1;
            }
            Err(e) => return Err(io_error(&tmp, e)),
        }
    };
    let result = file
        .write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| io_error(&tmp, e))
        .and_then(|()| fs::rename(&tmp, path).map_err(|e| io_error(path, e)));
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Where each rendered file goes: beside `target` (the first file is
/// `target` itself).
pub fn rendered_paths(target: &Path, files: &[RenderedFile]) -> Vec<PathBuf> {
    let dir = dir_of(target);
    files
        .iter()
        .enumerate()
        .map(|(i, f)| {
            if i == 0 {
                target.to_owned()
            } else {
                dir.join(&f.name)
            }
        })
        .collect()
}

/// Writes rendered files beside `target`; returns the paths written.
///
/// # Errors
///
/// [`Error::Io`] from [`write_file_atomic`].
pub fn write_rendered(target: &Path, files: &[RenderedFile]) -> Result<Vec<PathBuf>, Error> {
    let paths = rendered_paths(target, files);
    for (path, file) in paths.iter().zip(files) {
        write_file_atomic(path, &file.text)?;
    }
    Ok(paths)
}

/// A stale file and the diff that would refresh it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stale {
    /// The file on disk.
    pub path: PathBuf,
    /// Whether it exists at all.
    pub exists: bool,
    /// From the file as it is to the file as rendered.
    pub diff: String,
}

/// Compares rendered files with the ones beside `target`; returns the
/// stale ones (missing or different) with a unified diff each.
///
/// # Errors
///
/// [`Error::Io`] or [`Error::NotRegularFile`] when a file exists but
/// cannot be read.
pub fn check_rendered(target: &Path, files: &[RenderedFile]) -> Result<Vec<Stale>, Error> {
    let mut stale = Vec::new();
    for (path, file) in rendered_paths(target, files).into_iter().zip(files) {
        let (exists, old) = match fs::symlink_metadata(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (false, String::new()),
            _ => (true, super::read_text(&path)?),
        };
        if !exists || old != file.text {
            let shown = path.display().to_string();
            let diff = crate::render::unified_diff(
                &old,
                &file.text,
                &shown,
                &format!("{shown} (rendered)"),
            );
            stale.push(Stale { path, exists, diff });
        }
    }
    Ok(stale)
}

/// `path` made absolute against the working directory, with `.` and `..`
/// resolved lexically (symbolic links are not followed).
fn absolute(path: &Path, cwd: &Path) -> PathBuf {
    let joined = if path.is_absolute() {
        path.to_owned()
    } else {
        cwd.join(path)
    };
    let mut out = PathBuf::new();
    for component in joined.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// The repository root for CI output: the git top level (the nearest
/// directory with a `.git` entry) above `start`, else the working
/// directory. Absolute.
///
/// # Errors
///
/// [`Error::Io`] when the working directory cannot be read.
pub fn repository_root(start: &Path) -> Result<PathBuf, Error> {
    let cwd = std::env::current_dir().map_err(|e| io_error(Path::new("."), e))?;
    let start = absolute(start, &cwd);
    Ok(start
        .ancestors()
        .find(|dir| fs::symlink_metadata(dir.join(".git")).is_ok())
        .map(Path::to_owned)
        .unwrap_or(cwd))
}

/// Renames every file a finding names (its own and its related places) to
/// its path relative to the repository root of the first scanned root
/// ([`repository_root`]), as GitHub annotations, SARIF and GitLab code
/// quality expect: `check examples/trading-system` names
/// `examples/trading-system/.env`, not `.env`. Files outside the repository
/// keep an absolute path.
///
/// # Errors
///
/// [`Error::Io`] when the working directory cannot be read.
pub fn rebase_to_repository(outcome: &mut CheckOutcome) -> Result<PathBuf, Error> {
    let cwd = std::env::current_dir().map_err(|e| io_error(Path::new("."), e))?;
    let first = outcome
        .roots
        .first()
        .cloned()
        .unwrap_or_else(|| PathBuf::from("."));
    let root = repository_root(&first)?;
    let mut cache: BTreeMap<String, String> = BTreeMap::new();
    let mut rebase = |file: &mut String, outcome_paths: &dyn Fn(&str) -> PathBuf| {
        if let Some(done) = cache.get(file.as_str()) {
            file.clone_from(done);
            return;
        }
        let shown = repository_path(&root, &absolute(&outcome_paths(file), &cwd));
        cache.insert(file.clone(), shown.clone());
        *file = shown;
    };
    let paths = {
        let probe = CheckOutcome {
            report: crate::report::Report::new(Vec::new(), Default::default()),
            scan: None,
            convention: outcome.convention.clone(),
            roots: outcome.roots.clone(),
        };
        move |file: &str| probe.path_of(file)
    };
    for finding in &mut outcome.report.findings {
        if let Some(at) = finding.location.as_mut() {
            rebase(&mut at.file, &paths);
        }
        for related in &mut finding.related {
            rebase(&mut related.location.file, &paths);
        }
    }
    Ok(root)
}

/// `path` as CI output names it: relative to `root` (from
/// [`rebase_to_repository`]) with `/` separators, else absolute.
pub fn repository_path(root: &Path, path: &Path) -> String {
    let cwd = std::env::current_dir().unwrap_or_default();
    let full = absolute(path, &cwd);
    match full.strip_prefix(root) {
        Ok(rel) => rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/"),
        Err(_) => full.to_string_lossy().into_owned(),
    }
}

/// Now, in Unix seconds (for the OpenMetrics last-run timestamp).
pub fn now_unix_seconds() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_rendered_reports_missing_and_changed_files_then_nothing_after_writing() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("DOC.md");
        let files = vec![
            RenderedFile {
                name: "DOC.md".into(),
                text: "a\nb\n".into(),
            },
            RenderedFile {
                name: "DOC.svg".into(),
                text: "<svg/>\n".into(),
            },
        ];
        let stale = check_rendered(&target, &files).unwrap();
        assert_eq!(stale.len(), 2);
        assert!(!stale[0].exists);
        write_rendered(&target, &files).unwrap();
        assert!(check_rendered(&target, &files).unwrap().is_empty());
        fs::write(&target, "a\nc\n").unwrap();
        let stale = check_rendered(&target, &files).unwrap();
        assert_eq!(stale.len(), 1);
        assert!(stale[0].diff.contains("\n-c\n+b\n"), "{}", stale[0].diff);
        // No scratch file is left.
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_is_replaced_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let outside = dir.path().join("outside.txt");
        fs::write(&outside, "keep\n").unwrap();
        let link = dir.path().join("link.md");
        std::os::unix::fs::symlink(&outside, &link).unwrap();
        write_file_atomic(&link, "new\n").unwrap();
        assert_eq!(fs::read_to_string(&outside).unwrap(), "keep\n");
        assert_eq!(fs::read_to_string(&link).unwrap(), "new\n");
        assert!(
            !fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
    }

    #[test]
    fn absolute_resolves_dots_lexically() {
        assert_eq!(
            absolute(Path::new("a/./b/../c"), Path::new("/w")),
            PathBuf::from("/w/a/c")
        );
    }
}
