//! The renderings of `migrate`: a plan (changes, diagnostics with their
//! codes, the diff, the summary), what `apply` and `rollback` did, and
//! `status`. Every untrusted string (file and service names, messages
//! quoting files) is escaped here; colours come from [`super::style`].

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::{Color, escape_source_line, escape_text as esc, style};
use crate::migrate::{ApplyOutcome, Code, FileState, Note, Plan, RollbackOutcome, State, Status};

/// The command-line way out of a diagnostic, by its code (the library's
/// messages name no flag: the caller knows its own).
pub type Hint<'a> = &'a dyn Fn(Code) -> Option<&'static str>;

/// A plan as a person reads it: per service and port every change with its
/// place, what was not found, what was left alone (warnings) and the
/// problems (errors), each with its code and the caller's `hint`.
pub fn render_plan(plan: &Plan, hint: Hint<'_>) -> String {
    let mut text = String::new();
    let _ = writeln!(
        text,
        "Migration plan for {} (convention {} {})",
        esc(&plan.root),
        esc(&plan.convention.path),
        esc(&plan.convention.version)
    );
    let mut last: Option<(&str, &str)> = None;
    for change in &plan.changes {
        if last != Some((change.service.as_str(), change.port_name.as_str())) {
            let port = plan
                .targets
                .iter()
                .find(|t| t.service == change.service && t.port_name == change.port_name)
                .map(|t| t.port.to_string())
                .or_else(|| change.to.parse::<u16>().ok().map(|p| p.to_string()));
            match port {
                Some(port) => {
                    let _ = writeln!(
                        text,
                        "  {} {} -> {port}",
                        esc(&change.service),
                        esc(&change.port_name)
                    );
                }
                None => {
                    let _ = writeln!(
                        text,
                        "  {} {}",
                        esc(&change.service),
                        esc(&change.port_name)
                    );
                }
            }
            last = Some((&change.service, &change.port_name));
        }
        let var = change
            .variable
            .as_deref()
            .map(|v| format!(" [{}]", esc(v)))
            .unwrap_or_default();
        let kind = serde_json::to_value(change.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let _ = writeln!(
            text,
            "    {}:{}:{}  {} -> {}  ({kind}){var}",
            esc(&change.location.file),
            change.location.line,
            change.location.column,
            esc(&format!("{:?}", change.from)),
            esc(&format!("{:?}", change.to))
        );
    }
    if !plan.not_found.is_empty() {
        text.push_str("Not found (nothing to do for them):\n");
        for n in &plan.not_found {
            let port = n
                .port_name
                .as_deref()
                .map(|p| format!(" {}", esc(p)))
                .unwrap_or_default();
            let _ = writeln!(text, "  {}{port}: {}", esc(&n.service), esc(&n.reason));
        }
    }
    if !plan.notes.is_empty() {
        text.push_str("Left alone:\n");
        for note in &plan.notes {
            push_note(&mut text, note, hint);
        }
    }
    if !plan.problems.is_empty() {
        text.push_str("Problems (apply refuses until they are fixed):\n");
        for problem in &plan.problems {
            push_note(&mut text, problem, hint);
        }
    }
    if plan.files.is_empty() {
        text.push_str(
            "Nothing to change: every service found already publishes its assigned port.\n",
        );
    }
    text
}

/// One diagnostic: `  warning[code]: file:line:column: message`, and the
/// command-line way out of it, when there is one.
fn push_note(text: &mut String, note: &Note, hint: Hint<'_>) {
    let _ = writeln!(
        text,
        "  {}[{}]: {}",
        note.severity,
        note.code,
        esc(&note.to_string())
    );
    if let Some(hint) = hint(note.code) {
        let _ = writeln!(text, "    hint: {hint}");
    }
}

/// The last line of a plan's rendering: how many edits, files, mappings,
/// services and problems.
pub fn render_plan_summary(plan: &Plan) -> String {
    let edits: usize = plan.files.iter().map(|f| f.edits.len()).sum();
    let mut text = format!(
        "{edits} edit(s) in {} file(s); {} mapping(s) of {} service(s) reach their assigned port",
        plan.files.len(),
        plan.targets.len(),
        plan.services().len()
    );
    if !plan.problems.is_empty() {
        let _ = write!(
            text,
            "; {} problem(s): apply refuses until they are fixed",
            plan.problems.len()
        );
    }
    text.push('\n');
    text
}

/// The diff, with the files' text made safe to print (a compose file may
/// hold terminal escapes or workflow commands), coloured when asked.
pub fn render_diff(diff: &str, color: Color) -> String {
    diff.split_inclusive('\n')
        .map(|line| {
            let end = if line.ends_with('\n') { "\n" } else { "" };
            let raw = line.trim_end_matches('\n');
            let (raw, cr) = match raw.strip_suffix('\r') {
                Some(r) => (r, "\r"),
                None => (raw, ""),
            };
            let body = escape_source_line(raw);
            let line_style = if line.starts_with("+++") || line.starts_with("---") {
                style::HEADER
            } else if line.starts_with('+') {
                style::GOOD
            } else if line.starts_with('-') {
                style::BAD
            } else if line.starts_with("@@") {
                style::HUNK
            } else {
                return format!("{body}{cr}{end}");
            };
            format!("{}{cr}{end}", color.paint(line_style, &body))
        })
        .collect()
}

fn shown(root: &Path, path: &Path) -> String {
    esc(&path
        .strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string())
}

/// A file name as a shell word for the commands we print (a name from the
/// tree may hold spaces or `;`).
fn shell_word(text: &str) -> String {
    let text = esc(text);
    if !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-/+@%=:,".contains(&b))
    {
        text
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

/// What `apply` did: the files written, the re-scan, the stacks to restart
/// and how to undo.
pub fn render_apply_outcome(outcome: &ApplyOutcome) -> String {
    let plan = &outcome.plan;
    let root = PathBuf::from(&plan.root);
    let mut text = String::new();
    if outcome.resumed {
        let _ = writeln!(text, "Resumed the interrupted migration {}.", outcome.id);
    }
    let _ = writeln!(
        text,
        "Wrote {} file(s){}; backup in {}",
        outcome.written.len(),
        if outcome.already.is_empty() {
            String::new()
        } else {
            format!(" ({} already written before)", outcome.already.len())
        },
        shown(&root, &outcome.backup_dir)
    );
    for file in &outcome.written {
        let _ = writeln!(text, "  {}", esc(file));
    }
    if outcome.remaining.is_empty() {
        let services: Vec<String> = plan.services().into_iter().collect();
        let _ = writeln!(
            text,
            "Verified: no drift remains for {}.",
            if services.is_empty() {
                "the migrated services".to_owned()
            } else {
                services.join(", ")
            }
        );
    } else {
        text.push_str("Drift remains after the migration (roll back with `port-convention migrate rollback`):\n");
        for finding in &outcome.remaining {
            let _ = writeln!(text, "  {}", esc(&finding.to_string()));
        }
    }
    if !plan.stacks.is_empty() {
        text.push_str(
            "\nBefore restarting anything, back up the data volumes of these stacks with the databases' own \
             tools (pg_dump, redis-cli --rdb, snapshot APIs ...). migrate never runs docker and never touches \
             volumes.\nThen restart the stacks whose ports changed",
        );
        let _ = writeln!(text, " (from {}):", esc(&root.display().to_string()));
        for stack in &plan.stacks {
            let _ = writeln!(text, "  docker compose -f {} up -d", shell_word(stack));
        }
    }
    let _ = writeln!(
        text,
        "Undo with: port-convention migrate rollback {}",
        shown(&root, &outcome.backup_dir)
    );
    text
}

/// What `rollback` did, with the commands that restart the stacks (run
/// from `root`).
pub fn render_rollback_outcome(outcome: &RollbackOutcome, root: &Path) -> String {
    let mut text = String::new();
    if outcome.already_rolled_back {
        let _ = writeln!(
            text,
            "Migration {} was already rolled back; nothing to do.",
            outcome.id
        );
    } else {
        let _ = writeln!(
            text,
            "Rolled back migration {}: restored {} file(s) byte for byte from {}",
            outcome.id,
            outcome.restored.len(),
            shown(root, &outcome.backup_dir)
        );
        for file in &outcome.restored {
            let _ = writeln!(text, "  {}", esc(file));
        }
        if !outcome.stacks.is_empty() && !outcome.restored.is_empty() {
            let _ = writeln!(
                text,
                "Restart the stacks to publish the old ports again (from {}):",
                esc(&root.display().to_string())
            );
            for stack in &outcome.stacks {
                let _ = writeln!(text, "  docker compose -f {} up -d", shell_word(stack));
            }
        }
    }
    text
}

/// Where the last migration under `root` stands, and what to do next.
pub fn render_status(status: &Status, root: &Path) -> String {
    let mut text = String::new();
    let count = |s: FileState| status.files.iter().filter(|(_, f)| *f == s).count();
    let _ = writeln!(
        text,
        "Last migration: {} ({})\nState: {}",
        status.id,
        shown(root, &status.dir),
        status.state.as_str()
    );
    let _ = writeln!(
        text,
        "Files: {} new, {} old, {} changed since, {} missing (of {})",
        count(FileState::New),
        count(FileState::Old),
        count(FileState::Changed),
        count(FileState::Missing),
        status.files.len()
    );
    for (file, state) in &status.files {
        let _ = writeln!(text, "  {state:?}  {}", esc(file));
    }
    if let Some(ok) = status.verified {
        let _ = writeln!(
            text,
            "Re-scan after writing: {}",
            if ok { "no drift left" } else { "drift left" }
        );
    }
    let next = match status.state {
        State::Complete => "Undo with `port-convention migrate rollback`.",
        State::Interrupted => {
            "Run `port-convention migrate apply` to finish it, or `port-convention migrate rollback` to undo it."
        }
        State::RollbackInterrupted => {
            "Run `port-convention migrate rollback` again to finish the rollback."
        }
        State::RolledBack => "Every file is back as before the migration.",
    };
    let _ = writeln!(text, "{next}");
    text
}

/// `status` when `root` has no migration.
pub fn render_no_migration(root: &Path) -> String {
    format!(
        "No migration under {}: nothing to resume or roll back.\n",
        esc(&root.display().to_string())
    )
}
