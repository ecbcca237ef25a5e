//! Env planning: the `.env` values and keys that carry a migrated port
//! (forced by a mapping, renamed with its variable, convention variables,
//! variables carried along), and `VAR=port` lines added by
//! `--use-env-vars`.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use super::edits::{line_column, project_family};
use super::{ChangeKind, Code, Edit, Note, Planner, PortKey, Tree, key_of};
use crate::dotenv::DotenvEntry;
use crate::{PortAssignment, ServiceDef};

/// Byte offsets of references to `name` (`$name`, `${name...`) in `text`.
pub(super) fn references(text: &str, name: &str) -> Vec<usize> {
    let mut found = Vec::new();
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(rel) = text.get(from..).and_then(|t| t.find('$')) {
        let at = from + rel;
        let after = if bytes.get(at + 1) == Some(&b'{') {
            at + 2
        } else {
            at + 1
        };
        if let Some(rest) = text.get(after..)
            && rest.starts_with(name)
            && !rest
                .as_bytes()
                .get(name.len())
                .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
        {
            found.push(at);
        }
        from = at + 1;
    }
    found
}

/// Where a variable is still read after the planned renames, if anywhere.
pub(super) fn still_referenced(tree: &Tree<'_>, p: &Planner, name: &str) -> Option<String> {
    for (file, text) in tree.texts {
        let renamed = p.renamed_spans.get(file);
        for at in references(text, name) {
            let in_rename = renamed.is_some_and(|spans| {
                spans.iter().any(|r| {
                    let braced = text.as_bytes().get(at + 1) == Some(&b'{');
                    let name_start = at + if braced { 2 } else { 1 };
                    r.start == name_start
                })
            });
            if !in_rename {
                let (line, column) = line_column(text, at);
                return Some(format!("{file}:{line}:{column}"));
            }
        }
    }
    None
}

pub(super) fn parse_port(value: &str) -> Option<u16> {
    value.trim().parse::<u16>().ok()
}

/// The byte range of an entry's key on its line.
pub(super) fn key_range(text: &str, entry: &DotenvEntry) -> Option<Range<usize>> {
    let mut line_start = 0usize;
    for _ in 1..entry.line {
        line_start += text.get(line_start..)?.find('\n')? + 1;
    }
    let head = text.get(line_start..entry.raw_value.start)?;
    let rel = head.rfind(&entry.key)?;
    let start = line_start + rel;
    let before_ok = rel == 0
        || head
            .get(..rel)
            .is_some_and(|b| b.ends_with([' ', '\t', '\u{feff}']) || b.trim().is_empty());
    before_ok.then_some(start..start + entry.key.len())
}

#[derive(Debug, Clone)]
struct EnvDecision {
    priority: u8,
    new: String,
    key: PortKey,
    rename_to: Option<String>,
}

#[allow(clippy::too_many_lines)]
pub(super) fn plan_env_files(tree: &Tree<'_>, p: &mut Planner) {
    let c = tree.convention;
    let convention_vars: BTreeMap<&str, (&ServiceDef, &PortAssignment)> = c
        .assignments()
        .filter_map(|(s, a)| a.env.as_deref().map(|v| (v, (s, a))))
        .collect();
    let mut rename_safety: BTreeMap<String, Option<String>> = BTreeMap::new();
    for rename in &p.renames {
        if !rename_safety.contains_key(&rename.from) {
            let verdict = still_referenced(tree, p, &rename.from);
            rename_safety.insert(rename.from.clone(), verdict);
        }
    }
    let mut keys_after: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for env_file in &tree.scan.env_files {
        let Ok(dotenv) = &env_file.parsed else {
            continue;
        };
        let Some(text) = tree.texts.get(&env_file.file) else {
            continue;
        };
        let file = env_file.file.as_str();
        let keys: BTreeSet<&str> = dotenv.entries.iter().map(|e| e.key.as_str()).collect();
        let mut after: BTreeSet<String> = keys.iter().map(|k| (*k).to_owned()).collect();
        let mut noted: BTreeSet<String> = BTreeSet::new();
        for entry in &dotenv.entries {
            if entry.inherited {
                continue;
            }
            let mut decisions: Vec<EnvDecision> = Vec::new();
            if let Some(forced) = p.forced.get(&(file.to_owned(), entry.key.clone())) {
                decisions.push(EnvDecision {
                    priority: 3,
                    new: forced.new.clone(),
                    key: forced.key.clone(),
                    rename_to: None,
                });
            }
            for rename in p.renames.iter().filter(|r| r.from == entry.key) {
                if !project_family(&rename.compose_file)
                    .iter()
                    .any(|f| f == file)
                {
                    continue;
                }
                let blocker = rename_safety.get(&rename.from).cloned().flatten();
                if let Some(at) = blocker {
                    if noted.insert(format!("ref:{}", rename.from)) {
                        p.notes.push(
                            Note::new(
                                Code::VariableStillRead,
                                format!(
                                    "{} is kept here: it is still read at {at} ({} now reads {})",
                                    rename.from, rename.compose_file, rename.to
                                ),
                            )
                            .at(file, entry.line, entry.column)
                            .about(&rename.key.0),
                        );
                    }
                } else if keys.contains(rename.to.as_str()) {
                    if noted.insert(format!("dup:{}", rename.from)) {
                        p.notes.push(
                            Note::new(Code::VariableNoLongerRead, format!(
                                "{} is no longer read by {} (it reads {}, which this file sets too); \
                                 remove it by hand",
                                rename.from, rename.compose_file, rename.to
                            ))
                            .at(file, entry.line, entry.column)
                            .about(&rename.key.0),
                        );
                    }
                } else {
                    decisions.push(EnvDecision {
                        priority: 2,
                        new: rename.new.clone(),
                        key: rename.key.clone(),
                        rename_to: Some(rename.to.clone()),
                    });
                }
            }
            let value = parse_port(&entry.value);
            if let Some((service, assignment)) = convention_vars.get(entry.key.as_str()) {
                let key = key_of(service, assignment);
                let old = p.old_ports.get(&key);
                match value {
                    Some(v) if old.is_some_and(|o| o.contains(&v)) => decisions.push(EnvDecision {
                        priority: 1,
                        new: assignment.port.to_string(),
                        key,
                        rename_to: None,
                    }),
                    Some(v) if v == assignment.port => {}
                    _ if decisions.is_empty() => p.notes.push(
                        Note::new(Code::EnvValueLeftAlone, format!(
                            "{}={} is left alone: it is neither the legacy nor a current port of {} ({}); \
                             the port map {}={} moves it",
                            entry.key,
                            entry.value,
                            service.name,
                            assignment.name,
                            entry.value.trim(),
                            assignment.port
                        ))
                        .at(file, entry.line, entry.column)
                        .about(&service.name),
                    ),
                    _ => {}
                }
            } else if let (Some(uses), Some(v)) = (p.carried.get(&entry.key), value) {
                for u in uses {
                    if p.old_ports.get(&u.key).is_some_and(|o| o.contains(&v)) {
                        decisions.push(EnvDecision {
                            priority: 0,
                            new: u.new.clone(),
                            key: u.key.clone(),
                            rename_to: None,
                        });
                    }
                }
            }
            decisions.sort_by_key(|d| std::cmp::Reverse(d.priority));
            let Some(decision) = decisions.first().cloned() else {
                continue;
            };
            if let Some(other) = decisions.iter().find(|d| d.new != decision.new) {
                p.notes.push(
                    Note::new(
                        Code::SharedVariable,
                        format!(
                            "{} serves {}/{} and {}/{}; it is set to {} for {}/{}",
                            entry.key,
                            decision.key.0,
                            decision.key.1,
                            other.key.0,
                            other.key.1,
                            decision.new,
                            decision.key.0,
                            decision.key.1
                        ),
                    )
                    .at(file, entry.line, entry.column)
                    .about(&decision.key.0),
                );
            }
            let raw = text.get(entry.raw_value.clone()).unwrap_or("");
            if raw != entry.value {
                let message = format!(
                    "{}={raw} is not a plain value (quoted escapes or ${{...}}); set it to {} by hand",
                    entry.key, decision.new
                );
                let note = Note::new(Code::EnvValueNotPlain, message)
                    .at(file, entry.line, entry.column)
                    .about(&decision.key.0);
                if decision.priority >= 3 {
                    p.problems.push(note);
                } else {
                    p.notes.push(note);
                }
                continue;
            }
            if let Some(to) = &decision.rename_to {
                match key_range(text, entry) {
                    Some(range) => {
                        p.edit(file, text, range.clone(), to);
                        p.change(
                            &decision.key,
                            file,
                            text,
                            range.start,
                            ChangeKind::RenameEnvKey,
                            Some(to),
                            &entry.key,
                            to,
                        );
                        after.remove(&entry.key);
                        after.insert(to.clone());
                    }
                    None => {
                        p.problems.push(
                            Note::new(
                                Code::EnvKeyNotFound,
                                format!("cannot find the key {} on its line", entry.key),
                            )
                            .at(file, entry.line, entry.column),
                        );
                        continue;
                    }
                }
            }
            p.edit(file, text, entry.raw_value.clone(), &decision.new);
            let variable = decision.rename_to.as_deref().unwrap_or(&entry.key);
            p.change(
                &decision.key,
                file,
                text,
                entry.raw_value.start,
                ChangeKind::EnvValue,
                Some(variable),
                raw,
                &decision.new,
            );
        }
        keys_after.insert(file.to_owned(), after);
    }
    // `--use-env-vars`: add `VAR=port` where the project's files lack it.
    let mut added: BTreeSet<(String, String)> = BTreeSet::new();
    for (file, var, value, key) in std::mem::take(&mut p.inserts) {
        if keys_after.get(&file).is_some_and(|k| k.contains(&var))
            || !added.insert((file.clone(), var.clone()))
        {
            continue;
        }
        let Some(text) = tree.texts.get(&file) else {
            continue;
        };
        let eol = if text.contains("\r\n") { "\r\n" } else { "\n" };
        let line = if text.is_empty() || text.ends_with('\n') {
            format!("{var}={value}{eol}")
        } else {
            format!("{eol}{var}={value}")
        };
        let end = text.len();
        let (l, col) = line_column(text, end);
        let edits = p.edits.entry(file.clone()).or_default();
        match edits.iter_mut().find(|e| e.start == end && e.end == end) {
            Some(existing) => existing.new.push_str(line.trim_start_matches(['\r', '\n'])),
            None => edits.push(Edit {
                start: end,
                end,
                old: String::new(),
                new: line,
                line: l,
                column: col,
            }),
        }
        p.change(
            &key,
            &file,
            text,
            end,
            ChangeKind::AddEnvVar,
            Some(&var),
            "",
            &format!("{var}={value}"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_respect_name_boundaries() {
        assert_eq!(references("${A}:$AB ${A:-1} $A", "A"), [0, 9, 17]);
    }

    #[test]
    fn key_range_finds_exported_keys() {
        let text = "X=1\nexport  KEY = 5\n";
        let env = crate::dotenv::parse_dotenv(".env", text, &|_| None).unwrap();
        let range = key_range(text, &env.entries[1]).unwrap();
        assert_eq!(&text[range], "KEY");
    }
}
