//! The file names a plan or a backup manifest lists (files an attacker may
//! have written): one validation for both.

use std::collections::BTreeSet;

use super::Plan;
use crate::Error;

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
pub fn unsafe_path_reason(entry: &str) -> Option<&'static str> {
    if entry.is_empty() {
        return Some("the file name is empty");
    }
    if entry.starts_with('/') || std::path::Path::new(entry).has_root() {
        return Some("the path is absolute; a plan names files relative to its root");
    }
    if entry.contains('\\') {
        return Some("the path contains a backslash; a plan names files with / separators");
    }
    if entry.chars().any(crate::report::is_unsafe_char) {
        return Some("the path contains control or bidirectional-formatting characters");
    }
    let bytes = entry.as_bytes();
    if bytes.len() >= 2 && bytes[1] == b':' && bytes[0].is_ascii_alphabetic() {
        return Some(
            "the path starts with a drive letter; a plan names files relative to its root",
        );
    }
    for component in entry.split('/') {
        match component {
            "" => return Some("the path has an empty component (// or a trailing /)"),
            "." => return Some("the path has a . component"),
            ".." => return Some("the path goes up with ..; a plan names files inside its root"),
            _ => {}
        }
    }
    let first = entry.split('/').next().unwrap_or("");
    if first == ".port-convention" {
        return Some("the path is inside the migration state directory .port-convention");
    }
    if entry.split('/').any(|c| c == ".git") {
        return Some("the path is inside a .git directory");
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
        Some(reason) => Err(Error::UnsafePath {
            path: entry.to_owned(),
            reason: format!(
                "{reason} ({field} of {}); {consequence}",
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
                reason: format!(
                    "listed twice ({field} of {}); {REFUSED}",
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
