//! Edits of a file's text: hashes, positions, applying edits, diffs.

use std::collections::BTreeMap;

use super::{Edit, Plan};
use crate::Error;

/// SHA-256 of `bytes`, as lower-case hex.
///
/// ```
/// assert_eq!(
///     port_convention::migrate::sha256_hex(b"abc"),
///     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
/// );
/// ```
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(64);
    for byte in digest.iter() {
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0xf)]));
    }
    out
}

const HEX: &[u8; 16] = b"0123456789abcdef";
/// The directory part of a relative file name (`""` at the root).
pub(super) fn dir_of(file: &str) -> &str {
    file.rsplit_once('/').map_or("", |(dir, _)| dir)
}

pub(super) fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_owned()
    } else {
        format!("{dir}/{name}")
    }
}

/// The `.env` files of a compose file's project that `migrate` keeps in
/// step: `.env` and `.env.example` in its directory.
pub(super) fn project_family(file: &str) -> [String; 2] {
    let dir = dir_of(file);
    [join(dir, ".env"), join(dir, ".env.example")]
}

/// 1-based line and column (in characters) of byte `offset` of `text`.
pub fn line_column(text: &str, offset: usize) -> (u32, u32) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or("");
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (
        u32::try_from(line).unwrap_or(u32::MAX),
        u32::try_from(column).unwrap_or(u32::MAX),
    )
}

/// Applies sorted, non-overlapping edits to `text`, checking that each
/// replaces the text it expects.
///
/// # Errors
///
/// [`Error::InvalidPlan`] when an edit is out of order, out of bounds,
/// not on a character boundary, or finds other text than [`Edit::old`].
pub fn apply_edits(file: &str, text: &str, edits: &[Edit]) -> Result<String, Error> {
    let mut out = String::with_capacity(text.len() + 64);
    let mut at = 0usize;
    for edit in edits {
        let found = text.get(edit.start..edit.end);
        if edit.start < at || found != Some(edit.old.as_str()) {
            let (line, column) = line_column(text, edit.start);
            return Err(Error::InvalidPlan {
                path: format!("{file}:{line}:{column}"),
                problem: crate::PlanProblem::EditDoesNotFit {
                    expected: edit.old.clone(),
                    start: edit.start,
                    end: edit.end,
                    found: found.map(str::to_owned),
                },
            });
        }
        out.push_str(text.get(at..edit.start).unwrap_or(""));
        out.push_str(&edit.new);
        at = edit.end;
    }
    out.push_str(text.get(at..).unwrap_or(""));
    Ok(out)
}

/// A unified diff of one file (`a/FILE`, `b/FILE` headers, 3 lines of context).
pub fn unified_diff(file: &str, old: &str, new: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{file}"), &format!("b/{file}"))
        .to_string()
}

/// The unified diff of every file of a plan, from the texts it was planned on.
///
/// # Errors
///
/// As [`apply_edits`], and [`Error::InvalidPlan`] when a text is missing.
pub fn plan_diff(plan: &Plan, texts: &BTreeMap<String, String>) -> Result<String, Error> {
    let mut out = String::new();
    for file in &plan.files {
        let old = texts.get(&file.file).ok_or_else(|| Error::InvalidPlan {
            path: file.file.clone(),
            problem: crate::PlanProblem::TextUnavailable,
        })?;
        let new = apply_edits(&file.file, old, &file.edits)?;
        out.push_str(&unified_diff(&file.file, old, &new));
    }
    Ok(out)
}
