//! The edge of adoption: reading the tree for `init`, and writing a
//! convention file atomically inside the root (`init`, `assign`).

use std::collections::BTreeSet;
use std::fs::{self, File, OpenOptions};
use std::io::Write as _;
use std::path::{Component, Path, PathBuf};

use crate::Error;
use crate::adopt::{InitOptions, Proposal, propose_convention};

fn io_error(path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        path: path.to_owned(),
        source,
    }
}

/// Reads the tree under `root` (every compose project, claim and `.env`
/// file, as `check` reads it without a convention) and proposes a convention
/// for it ([`propose_convention`]).
///
/// # Errors
///
/// What reading the tree can fail with ([`crate::io::scan_tree`]) and what
/// [`propose_convention`] can.
pub fn propose_for_tree(
    root: &Path,
    options: &InitOptions,
    scan: &crate::io::ScanOptions,
) -> Result<Proposal, Error> {
    let (tree, scanned) = crate::io::scan_tree_texts(root, scan, None)?;
    let env = scan.env.clone().unwrap_or_else(crate::io::process_env);
    propose_convention(&tree, &scanned, &env, options)
}

/// Where a convention file may be written: `out` (default `root/ports.yaml`)
/// when its directory exists and lies inside `root` (links resolved), its
/// name is a plain file name, and it is not under `.git/` or
/// `.port-convention/`. An existing symbolic link or non-file there is
/// refused; an existing file is refused unless `overwrite`.
///
/// # Errors
///
/// [`Error::UnsafePath`] for a place outside the root or a link;
/// [`Error::InvalidArgument`] for an existing file without `overwrite`;
/// [`Error::Io`] when the directories cannot be resolved.
pub fn output_path(root: &Path, out: Option<&Path>, overwrite: bool) -> Result<PathBuf, Error> {
    let path = match out {
        Some(p) => p.to_owned(),
        None => root.join(crate::io::CONVENTION_FILE_NAME),
    };
    let unsafe_path = |problem: crate::PathProblem, context: &str| Error::UnsafePath {
        path: path.display().to_string(),
        problem,
        context: context.to_owned(),
    };
    let Some(Component::Normal(name)) = path.components().next_back() else {
        return Err(unsafe_path(crate::PathProblem::NoFileName, ""));
    };
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    let canonical_root = fs::canonicalize(root).map_err(|e| io_error(root, e))?;
    let canonical_parent = fs::canonicalize(&parent).map_err(|e| io_error(&parent, e))?;
    let Ok(inside) = canonical_parent.strip_prefix(&canonical_root) else {
        return Err(unsafe_path(
            crate::PathProblem::DirectoryOutsideRoot {
                resolved: canonical_parent.display().to_string(),
                root: canonical_root.display().to_string(),
            },
            "; init and assign write only inside it",
        ));
    };
    if inside
        .components()
        .any(|c| matches!(c, Component::Normal(n) if n == ".git" || n == ".port-convention"))
    {
        return Err(unsafe_path(crate::PathProblem::InGitOrStateDirectory, ""));
    }
    let target = canonical_parent.join(name);
    match fs::symlink_metadata(&target) {
        Ok(meta) if meta.file_type().is_symlink() => Err(unsafe_path(
            crate::PathProblem::SymbolicLink,
            "; links are not followed",
        )),
        Ok(meta) if !meta.is_file() => Err(unsafe_path(
            crate::PathProblem::NotARegularFile {
                kind: crate::io::file_kind(meta.file_type()).to_owned(),
            },
            "",
        )),
        Ok(_) if !overwrite => Err(Error::ConventionExists { path }),
        Ok(_) => Ok(target),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(target),
        Err(e) => Err(io_error(&target, e)),
    }
}

fn no_follow(options: &mut OpenOptions) -> &mut OpenOptions {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.custom_flags(libc::O_NOFOLLOW);
    }
    options
}

/// Writes `text` to `path` atomically: a scratch file created exclusively in
/// the same directory, synced, then linked to `path` when it must not exist
/// (`replace` false: an existing file, even one created meanwhile, is never
/// replaced) or renamed over it (`replace` true: the old file's permissions
/// kept). The directory is synced; the scratch file never survives an error.
///
/// # Errors
///
/// [`Error::Io`]; [`Error::InvalidArgument`] when `path` appeared meanwhile
/// and `replace` is false.
pub fn write_convention_file(path: &Path, text: &str, replace: bool) -> Result<(), Error> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut scratch = None;
    for n in 0..16u32 {
        let candidate = dir.join(format!(".{name}.init.{}-{n}.tmp", std::process::id()));
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        match no_follow(&mut options).open(&candidate) {
            Ok(file) => {
                scratch = Some((candidate, file));
                break;
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(io_error(&candidate, e)),
        }
    }
    let Some((tmp, mut file)) = scratch else {
        return Err(io_error(
            &dir,
            std::io::Error::other("no unique scratch file name"),
        ));
    };
    let result = (|| {
        if replace
            && let Ok(meta) = fs::symlink_metadata(path)
            && meta.is_file()
        {
            file.set_permissions(meta.permissions())
                .map_err(|e| io_error(&tmp, e))?;
        }
        file.write_all(text.as_bytes())
            .map_err(|e| io_error(&tmp, e))?;
        file.sync_all().map_err(|e| io_error(&tmp, e))?;
        if replace {
            fs::rename(&tmp, path).map_err(|e| io_error(path, e))
        } else {
            match fs::hard_link(&tmp, path) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    Err(Error::InvalidArgument {
                        message: format!(
                            "{} appeared while init ran; it was not replaced",
                            path.display()
                        ),
                    })
                }
                // A file system without hard links: the name is checked
                // free and the scratch file renamed (a file created in
                // between would be replaced; no such file system is atomic
                // without links).
                Err(e)
                    if fs::symlink_metadata(path).is_err()
                        && e.kind() != std::io::ErrorKind::NotFound =>
                {
                    fs::rename(&tmp, path).map_err(|e| io_error(path, e))
                }
                Err(e) => Err(io_error(path, e)),
            }
        }
    })();
    // After a rename the scratch name is gone; after a link (or an error) it
    // is removed here.
    let _ = fs::remove_file(&tmp);
    result?;
    #[cfg(unix)]
    File::open(&dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_error(&dir, e))?;
    Ok(())
}

/// What [`assign`] is asked for.
#[derive(Debug, Clone, Default)]
pub struct AssignRequest {
    /// The convention file (default: ports.yaml here or in a parent).
    pub convention: Option<PathBuf>,
    /// The tree whose claims count (default: the convention's directory).
    pub root: Option<PathBuf>,
    /// The service (the convention's name, or a compose service to add).
    pub service: String,
    /// The range to take the port from.
    pub range: String,
    /// Only this port of the service.
    pub port_name: Option<String>,
}

/// `port-convention assign`: reads the convention and the tree, gives the
/// service the lowest free ports of the range
/// ([`crate::adopt::assign_in_text`], free of every port the tree publishes
/// and the convention assigns), checks that the edited convention loads and
/// has no error it did not have, and writes it back atomically. Returns the
/// file and what changed (nothing written when nothing changed).
///
/// # Errors
///
/// Reading and scanning errors; [`crate::adopt::assign_in_text`]'s;
/// [`Error::InvalidArgument`] when the edit would add an error to the
/// convention or the file changed meanwhile; [`Error::UnsafePath`] for a
/// convention that is a symbolic link.
pub fn assign(request: &AssignRequest) -> Result<(PathBuf, crate::adopt::AssignOutcome), Error> {
    let (path, convention) = crate::io::load_convention_or_find(request.convention.as_deref())?;
    if fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(Error::UnsafePath {
            path: path.display().to_string(),
            problem: crate::PathProblem::SymbolicLink,
            context: "; assign does not write through links".into(),
        });
    }
    let text = crate::io::read_text(&path)?;
    let root = match &request.root {
        Some(r) => r.clone(),
        None => match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
            _ => PathBuf::from("."),
        },
    };
    let options = crate::io::ScanOptions {
        discovery: convention.discovery.clone(),
        ..Default::default()
    };
    let scan = crate::io::scan_tree_with(&root, &options, Some(&convention))?;
    let declared = convention.service(&request.service);
    let is_own = |claim: &crate::compose::Claim| match declared {
        Some(_) => crate::check::declared_service(&convention, claim)
            .is_some_and(|s| s.name == request.service),
        None => claim.service == request.service,
    };
    let mut taken = vec![false; usize::from(u16::MAX) + 2];
    let mut delta = vec![0i64; usize::from(u16::MAX) + 2];
    let mut tree_ports = Vec::new();
    for (claim, range) in scan.published() {
        if is_own(claim) {
            if declared.is_none() && range.len() == 1 && range.start() != 0 {
                tree_ports.push(crate::adopt::TreePort {
                    file: claim.location.file.clone(),
                    container: claim.mapping.target,
                    protocol: claim.mapping.protocol,
                    variable: match &claim.source {
                        crate::compose::PortSource::Variable { name }
                        | crate::compose::PortSource::TemplateDefault { name } => {
                            Some(name.clone())
                        }
                        crate::compose::PortSource::Literal => None,
                    },
                });
            }
            continue;
        }
        if let Some(d) = delta.get_mut(usize::from(range.start())) {
            *d += 1;
        }
        if let Some(d) = delta.get_mut(usize::from(range.end()) + 1) {
            *d -= 1;
        }
    }
    let mut depth = 0;
    for (slot, d) in taken.iter_mut().zip(&delta) {
        depth += d;
        *slot = depth > 0;
    }
    let is_claimed = |port: u16| taken.get(usize::from(port)).copied().unwrap_or(true);
    let outcome = crate::adopt::assign_in_text(
        &text,
        &convention,
        &request.service,
        &request.range,
        request.port_name.as_deref(),
        &tree_ports,
        &is_claimed,
    )?;
    if outcome.text == text {
        return Ok((path, outcome));
    }
    let name = path.display().to_string();
    let edited = crate::Convention::from_yaml(&name, &outcome.text).map_err(|err| {
        Error::InvalidArgument {
            message: format!("the edited convention would not load ({err}); nothing was written"),
        }
    })?;
    let errors = |c: &crate::Convention| -> BTreeSet<(String, String)> {
        crate::validate_convention(c)
            .into_iter()
            .filter(|f| f.severity == crate::Severity::Error)
            .map(|f| (f.rule.id().to_owned(), f.message))
            .collect()
    };
    let before = errors(&convention);
    let new: Vec<String> = errors(&edited)
        .difference(&before)
        .map(|(rule, message)| format!("{rule}: {message}"))
        .collect();
    if !new.is_empty() {
        return Err(Error::InvalidArgument {
            message: format!(
                "the edit would add errors to the convention ({}); nothing was written",
                new.join("; ")
            ),
        });
    }
    if crate::io::read_text(&path)? != text {
        return Err(Error::InvalidArgument {
            message: format!(
                "{} changed while assign ran; nothing was written",
                path.display()
            ),
        });
    }
    write_convention_file(&path, &outcome.text, true)?;
    Ok((path, outcome))
}
