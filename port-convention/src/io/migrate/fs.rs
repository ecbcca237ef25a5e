//! The file system of a migration: atomic writes through unique scratch
//! files, reads that never follow a link or block on a FIFO, names resolved
//! inside the root.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};

#[allow(unused_imports)]
use super::{apply::*, failpoint::*, journal::*, lock::*};
use crate::Error;
use crate::migrate::{self, Plan};

pub(super) fn io_error(path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        path: path.to_owned(),
        source,
    }
}

/// A name no other process or earlier run uses: pid, a per-process
/// counter, the time and a random number.
pub(super) fn unique_suffix() -> String {
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
pub(super) const SCRATCH_SUFFIX: &str = ".port-convention.tmp";
/// The prefix of the probe files of the pre-flight check.
pub(super) const PROBE_PREFIX: &str = ".port-convention-probe.";

/// Whether `name` is a scratch file of `migrate` for the file `of` (any
/// process, any run, including the fixed names of earlier versions).
pub(super) fn is_scratch_for(name: &str, of: &str) -> bool {
    name.starts_with(&format!(".{of}.")) && name.ends_with(SCRATCH_SUFFIX)
}

pub(super) fn is_probe(name: &str) -> bool {
    name.starts_with(PROBE_PREFIX) && name.ends_with(".tmp")
}

/// Options that never follow a symbolic link in the last component and
/// never block on a FIFO.
pub(super) fn no_follow(options: &mut OpenOptions) -> &mut OpenOptions {
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
pub(super) struct Scratch {
    pub(super) path: PathBuf,
    keep: bool,
}

impl Scratch {
    /// Creates `dir/<prefix><unique><suffix>`, retrying on a name clash.
    pub(super) fn create(dir: &Path, prefix: &str, suffix: &str) -> Result<(Scratch, File), Error> {
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

pub(super) fn sync_dir(dir: &Path) -> Result<(), Error> {
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

pub(super) fn parent_of(path: &Path) -> PathBuf {
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
pub(super) fn write_atomic(
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
pub(super) fn create_dirs_no_follow(base: &Path, rel: &str) -> Result<(), Error> {
    let mut path = base.to_owned();
    for component in rel.split('/').filter(|c| !c.is_empty()) {
        path.push(component);
        match fs::symlink_metadata(&path) {
            Ok(meta) if meta.is_dir() => {}
            Ok(meta) => {
                return Err(Error::UnsafePath {
                    path: path.display().to_string(),
                    problem: crate::PathProblem::NotADirectory {
                        kind: crate::io::file_kind(meta.file_type()).to_owned(),
                    },
                    context: "; migrate does not follow links".into(),
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
pub(super) fn read_bytes(path: &Path) -> Result<Vec<u8>, Error> {
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
pub(super) fn read_bytes_if_exists(path: &Path) -> Result<Option<Vec<u8>>, Error> {
    match fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        _ => read_bytes(path).map(Some),
    }
}

/// The state of the tree at the root: `.port-convention/` and what is in
/// it must be real directories and files of the tree, never symbolic links
/// (a repository may ship its own `.port-convention/`).
pub(super) fn check_state_dir(path: &Path, what: &str) -> Result<bool, Error> {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => Ok(true),
        Ok(meta) => Err(Error::UnsafePath {
            path: path.display().to_string(),
            problem: crate::PathProblem::NotADirectory {
                kind: crate::io::file_kind(meta.file_type()).to_owned(),
            },
            context: format!(
                " (the {what}); migrate never follows links in its state directory (remove it \
                 if you did not create it)"
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
pub(super) fn resolve_inside(root: &Path, entry: &str, what: &str) -> Result<PathBuf, Error> {
    let unsafe_path = |problem: crate::PathProblem, advice: &str| Error::UnsafePath {
        path: entry.to_owned(),
        problem,
        context: format!(
            "{advice} ({}); nothing was read or written",
            crate::report::escape_text(what)
        ),
    };
    if let Some(problem) = migrate::unsafe_path_reason(entry) {
        return Err(unsafe_path(problem, ""));
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
                return Err(unsafe_path(
                    crate::PathProblem::LinkOnTheWay {
                        directory: parts[..=i].join("/"),
                    },
                    "; migrate does not follow links",
                ));
            }
            Ok(meta) if !last && !meta.is_dir() => {
                return Err(unsafe_path(
                    crate::PathProblem::NotADirectoryOnTheWay {
                        directory: parts[..=i].join("/"),
                    },
                    "",
                ));
            }
            Ok(meta) if last && !meta.is_file() => {
                return Err(unsafe_path(
                    crate::PathProblem::NotARegularFile {
                        kind: crate::io::file_kind(meta.file_type()).to_owned(),
                    },
                    "",
                ));
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
            return Err(unsafe_path(
                crate::PathProblem::DirectoryOutsideRoot {
                    resolved: canonical.display().to_string(),
                    root: canonical_root.display().to_string(),
                },
                "",
            ));
        }
    }
    Ok(full)
}

/// Every file of `plan` resolved under `root` ([`resolve_inside`]).
pub(super) fn resolve_plan(root: &Path, plan: &Plan, what: &str) -> Result<(), Error> {
    migrate::check_plan_paths(plan, what)?;
    for file in &plan.files {
        resolve_inside(root, &file.file, what)?;
    }
    Ok(())
}

/// Removes the scratch and probe files a killed run left in the
/// directories of `plan`'s files (never a directory, never through a link:
/// a link is removed itself).
pub(super) fn remove_stale_scratch(root: &Path, plan: &Plan) {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
