//! The file names a plan or a backup manifest lists (files an attacker may
//! have written): one validation for both.

use std::collections::BTreeSet;

use super::Plan;
use crate::{Error, PathProblem};

/// Why `entry`, a file name read from a plan or a backup manifest (files an
/// attacker may have written), is not a plain relative name inside the root;
/// `None` when it is one: `/`-separated normal components, no `..`, no `.`,
/// no empty component, not absolute, no backslash, no NUL or control
/// character, not inside `.git` or the state directory `.port-convention`.
///
/// ```
/// use port_convention::migrate::unsafe_path_reason;
/// assert_eq!(unsafe_path_reason("db/docker-compose.yml"), None);
/// assert!(unsafe_path_reason("../x").is_some());
/// assert!(unsafe_path_reason("a/../../x").is_some());
/// assert!(unsafe_path_reason("/etc/passwd").is_some());
/// ```
pub fn unsafe_path_reason(entry: &str) -> Option<PathProblem> {
    if entry.is_empty() {
        return Some(PathProblem::EmptyName);
    }
    if entry.starts_with('/') || std::path::Path::new(entry).has_root() {
        return Some(PathProblem::Absolute);
    }
    if entry.contains('\\') {
        return Some(PathProblem::Backslash);
    }
    if entry.chars().any(crate::report::is_unsafe_char) {
        return Some(PathProblem::UnsafeCharacters);
    }
    let bytes = entry.as_bytes();
    if bytes.len() >= 2 && bytes[1] == b':' && bytes[0].is_ascii_alphabetic() {
        return Some(PathProblem::DriveLetter);
    }
    for component in entry.split('/') {
        match component {
            "" => return Some(PathProblem::EmptyComponent),
            "." => return Some(PathProblem::DotComponent),
            ".." => return Some(PathProblem::ParentComponent),
            _ => {}
        }
    }
    let first = entry.split('/').next().unwrap_or("");
    if first == ".port-convention" {
        return Some(PathProblem::InStateDirectory);
    }
    if entry.split('/').any(|c| c == ".git") {
        return Some(PathProblem::InGitDirectory);
    }
    None
}

/// Checks one file name of a file an attacker may have written: `entry` is
/// `field` (`files[3].file`) of `source`; `consequence` says what was not
/// done (`nothing was restored`). The one check behind the plans' and the
/// backup manifests' names.
///
/// # Errors
///
/// [`Error::UnsafePath`] with the reason of [`unsafe_path_reason`].
pub fn check_entry(entry: &str, field: &str, source: &str, consequence: &str) -> Result<(), Error> {
    match unsafe_path_reason(entry) {
        None => Ok(()),
        Some(problem) => Err(Error::UnsafePath {
            path: entry.to_owned(),
            problem,
            context: format!(
                " ({field} of {}); {consequence}",
                crate::report::escape_text(source)
            ),
        }),
    }
}

/// Checks the file names of a plan read from `source` (a plan file or a
/// backup): every `files[].file` and `stacks[]` entry must pass
/// [`unsafe_path_reason`], and no file may be listed twice.
///
/// # Errors
///
/// [`Error::UnsafePath`] naming the first bad entry; the plan is refused as
/// a whole.
pub fn check_plan_paths(plan: &Plan, source: &str) -> Result<(), Error> {
    const REFUSED: &str = "the whole plan is refused, nothing was read or written";
    let mut seen = BTreeSet::new();
    for (i, file) in plan.files.iter().enumerate() {
        let field = format!("files[{i}].file");
        check_entry(&file.file, &field, source, REFUSED)?;
        if !seen.insert(file.file.as_str()) {
            return Err(Error::UnsafePath {
                path: file.file.clone(),
                problem: PathProblem::ListedTwice,
                context: format!(
                    " ({field} of {}); {REFUSED}",
                    crate::report::escape_text(source)
                ),
            });
        }
    }
    for (i, stack) in plan.stacks.iter().enumerate() {
        check_entry(stack, &format!("stacks[{i}]"), source, REFUSED)?;
    }
    Ok(())
}
