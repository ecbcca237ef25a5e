//! Migration planning: which characters of which compose and `.env` files
//! must change so that every service of the convention publishes its
//! assigned host port.
//!
//! Pure: text in, edits out. [`plan`] reads a [`Tree`] (the convention, the
//! parsed files and their exact text, the process environment) and returns a
//! [`Plan`]: byte-exact [`Edit`]s per file, the SHA-256 of every file before
//! and after, what changed and why, and what could not be done. The IO of a
//! migration (hashes on disk, backups, journal, atomic writes, rollback) is
//! `io::migrate`'s.
//!
//! How mappings are found: by what the files say. A convention service is
//! matched to compose services by name (and by file where `ports.yaml` names
//! one, see [`crate::check::declared_service`]); each of its mappings is
//! matched to a port assignment by container port
//! ([`crate::check::assignment_for`]). Whatever host port the mapping has now
//! moves to the assignment, whether it is written as a literal
//! (`"5433:5432"`), a template default (`${TIMESCALEDB_PORT:-5433}`), a
//! long-syntax `published:` value, a host range, or the `.env` value of the
//! variable in force.
//!
//! Edits are minimal: only the characters of a port value change (or of a
//! variable name, or a literal becomes a template, when the options ask for
//! it). Entries reached through a YAML alias or merge key are refused with a
//! message (editing the anchor would also move every other user of it).
//!
//! ```
//! use std::collections::BTreeMap;
//! use port_convention::Convention;
//! use port_convention::check::{TreeTexts, scan_texts};
//! use port_convention::migrate::{PlanOptions, Tree, plan};
//!
//! let convention = Convention::from_yaml("ports.yaml", "version: 1.0.0
//! services:
//!   db:
//!     ports: { sql: { port: 7000, env: DB_PORT, container: 5432, legacy: 5433 } }
//! ")?;
//! let texts = BTreeMap::from([
//!     ("compose.yml".to_string(), "services:\n  db:\n    ports:\n      - \"5433:5432\" # db\n".to_string()),
//! ]);
//! let env = BTreeMap::new();
//! let read = TreeTexts { compose: vec!["compose.yml".into()], texts: texts.clone(), ..Default::default() };
//! let scan = scan_texts(&read, &env, None);
//! let tree = Tree { convention: &convention, scan: &scan, texts: &texts, env: &env };
//! let plan = plan(&tree, &PlanOptions::default());
//! assert!(plan.problems.is_empty());
//! let edit = &plan.files[0].edits[0];
//! assert_eq!((edit.old.as_str(), edit.new.as_str()), ("5433", "7000"));
//! # Ok::<(), port_convention::Error>(())
//! ```

mod compose;
mod diagnostic;
mod edits;
mod env;
pub mod journal;
mod outcome;
mod paths;
mod types;
mod verify;

pub use diagnostic::{Code, Note, codes_markdown};
pub use edits::{apply_edits, line_column, plan_diff, sha256_hex, unified_diff};
pub use journal::{Event, FileState, State, is_migration_id, state_of};
pub use outcome::{ApplyOutcome, Progress, RollbackOutcome, Status};
pub use paths::{check_entry, check_plan_paths, unsafe_path_reason};
pub use types::*;
pub use verify::{remaining_drift, target_conflicts};

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use crate::{PortAssignment, ServiceDef, Severity};

// ---------------------------------------------------------------------------
// Planning: the state shared by compose and env planning
// ---------------------------------------------------------------------------

pub(super) type PortKey = (String, String);

/// A variable that carries the host port of a migrated mapping.
#[derive(Debug, Clone)]
pub(super) struct VarUse {
    pub(super) key: PortKey,
    pub(super) new: String,
}

#[derive(Debug, Clone)]
pub(super) struct Rename {
    pub(super) compose_file: String,
    pub(super) from: String,
    pub(super) to: String,
    pub(super) new: String,
    pub(super) key: PortKey,
}

#[derive(Debug, Default)]
pub(super) struct Planner {
    pub(super) edits: BTreeMap<String, Vec<Edit>>,
    pub(super) changes: Vec<Change>,
    pub(super) targets: Vec<Target>,
    pub(super) stacks: BTreeSet<String>,
    pub(super) not_found: Vec<NotFound>,
    pub(super) notes: Vec<Note>,
    pub(super) problems: Vec<Note>,
    /// Old host ports of each assignment (legacy, current, `--map`).
    pub(super) old_ports: BTreeMap<PortKey, BTreeSet<u16>>,
    /// `(env file, variable)` whose every entry must become the value.
    pub(super) forced: BTreeMap<(String, String), VarUse>,
    /// Variables (other than the convention's) that carry a migrated port.
    pub(super) carried: BTreeMap<String, Vec<VarUse>>,
    pub(super) renames: Vec<Rename>,
    /// `(env file, variable, value, key)` lines to add.
    pub(super) inserts: Vec<(String, String, String, PortKey)>,
    /// Byte ranges (per compose file) of variable names being renamed.
    pub(super) renamed_spans: BTreeMap<String, Vec<Range<usize>>>,
}

impl Planner {
    pub(super) fn edit(&mut self, file: &str, text: &str, range: Range<usize>, new: &str) {
        let old = text.get(range.clone()).unwrap_or("").to_owned();
        if old == new {
            return;
        }
        let (line, column) = line_column(text, range.start);
        self.edits.entry(file.to_owned()).or_default().push(Edit {
            start: range.start,
            end: range.end,
            old,
            new: new.to_owned(),
            line,
            column,
        });
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn change(
        &mut self,
        key: &PortKey,
        file: &str,
        text: &str,
        at: usize,
        kind: ChangeKind,
        variable: Option<&str>,
        from: &str,
        to: &str,
    ) {
        if from == to {
            return;
        }
        let (line, column) = line_column(text, at);
        self.changes.push(Change {
            service: key.0.clone(),
            port_name: key.1.clone(),
            location: crate::Location::new(file, line, column),
            kind,
            variable: variable.map(str::to_owned),
            from: from.to_owned(),
            to: to.to_owned(),
        });
    }
}

/// Plans the migration of every service of the convention found in the tree.
///
/// Never fails: what cannot be done is a [`Plan::problems`] entry (and
/// `apply` refuses while there is one); what is left alone on purpose is a
/// [`Plan::notes`] entry. The plan is checked before it is returned: the
/// edited texts are parsed again and every migrated mapping must publish its
/// assigned port, every other mapping what it published before.
pub fn plan(tree: &Tree<'_>, options: &PlanOptions) -> Plan {
    let c = tree.convention;
    let mut p = Planner::default();

    for finding in crate::validate_convention(c) {
        if finding.severity == Severity::Error {
            p.problems.push(
                Note::new(
                    Code::ConventionError,
                    format!(
                        "the convention has an error, fix it first: {}",
                        finding.message
                    ),
                )
                .at(
                    finding.file().unwrap_or(&c.file),
                    finding.line().unwrap_or(0),
                    finding.column().unwrap_or(0),
                ),
            );
        }
    }
    for map in &options.maps {
        if !c.assignments().any(|(_, a)| a.port == map.new) {
            p.problems.push(Note::new(
                Code::MapNotAssigned,
                format!(
                    "port map {map}: {} is not assigned to any service in the convention",
                    map.new
                ),
            ));
        }
    }
    for (service, assignment) in c.assignments() {
        let mut old = BTreeSet::new();
        old.extend(assignment.legacy);
        old.extend(
            options
                .maps
                .iter()
                .filter(|m| m.new == assignment.port)
                .map(|m| m.old),
        );
        p.old_ports.insert(key_of(service, assignment), old);
    }

    for service in &c.services {
        compose::plan_service(tree, options, service, &mut p);
    }
    env::plan_env_files(tree, &mut p);
    // Further planners (source files, say) go here: after compose (which
    // decides the targets and the variables they carry) and env planning,
    // before `verify::finish`, pushing edits through `Planner::edit` /
    // `Planner::change` and their diagnostics as `Note`s with their own
    // `Code`s.
    verify::finish(tree, options, p)
}

pub(super) fn key_of(service: &ServiceDef, assignment: &PortAssignment) -> PortKey {
    (service.name.clone(), assignment.name.clone())
}

#[cfg(test)]
#[cfg(test)]
mod tests {
    use super::*;
    use crate::Convention;
    use crate::check::{TreeTexts, scan_texts};

    const CONVENTION: &str = "version: 1.0.0
ranges:
  db: { ports: 7000-7999 }
services:
  pg:
    range: db
    ports:
      sql: { port: 7000, env: PG_PORT, container: 5432, legacy: 5433 }
  q:
    range: db
    ports:
      http: { port: 7010, env: Q_HTTP_PORT, container: 9000 }
      ilp: { port: 7011, env: Q_ILP_PORT, container: 9009 }
";

    fn run(files: &[(&str, &str)], options: &PlanOptions) -> (Plan, BTreeMap<String, String>) {
        let convention = Convention::from_yaml("ports.yaml", CONVENTION).unwrap();
        let texts: BTreeMap<String, String> = files
            .iter()
            .map(|(n, t)| ((*n).to_owned(), (*t).to_owned()))
            .collect();
        let compose: Vec<String> = texts
            .keys()
            .filter(|n| n.ends_with(".yml"))
            .cloned()
            .collect();
        let envs: Vec<String> = texts
            .keys()
            .filter(|n| !n.ends_with(".yml"))
            .cloned()
            .collect();
        let env = BTreeMap::new();
        let read = TreeTexts {
            compose,
            env: envs,
            texts: texts.clone(),
            unreadable: BTreeMap::new(),
            ..TreeTexts::default()
        };
        let scan = scan_texts(&read, &env, None);
        let tree = Tree {
            convention: &convention,
            scan: &scan,
            texts: &texts,
            env: &env,
        };
        let plan = plan(&tree, options);
        let mut out = BTreeMap::new();
        for f in &plan.files {
            out.insert(
                f.file.clone(),
                apply_edits(&f.file, &texts[&f.file], &f.edits).unwrap(),
            );
        }
        (plan, out)
    }

    #[test]
    fn literal_template_and_env() {
        let compose = "services:\n  pg:\n    ports:\n      - '5433:5432' # db\n  q:\n    ports:\n      - \"${Q_HTTP:-9000}:9000\"\n      - published: 9009\n        target: 9009\n";
        let (plan, out) = run(
            &[
                ("c.yml", compose),
                (".env", "Q_HTTP=9001\r\nPG_PORT=5433\r\n"),
            ],
            &PlanOptions::default(),
        );
        assert!(plan.problems.is_empty(), "{:?}", plan.problems);
        assert_eq!(
            out["c.yml"],
            "services:\n  pg:\n    ports:\n      - '7000:5432' # db\n  q:\n    ports:\n      - \"${Q_HTTP:-7010}:9000\"\n      - published: 7011\n        target: 9009\n"
        );
        assert_eq!(out[".env"], "Q_HTTP=7010\r\nPG_PORT=7000\r\n");
    }

    #[test]
    fn use_env_vars_and_rename() {
        let compose = "services:\n  pg:\n    ports:\n      - 5433:5432\n  q:\n    ports:\n      - \"${Q_HTTP:-9000}:9000\"\n";
        let options = PlanOptions {
            use_env_vars: true,
            ..PlanOptions::default()
        };
        let (plan, out) = run(
            &[("c.yml", compose), (".env.example", "Q_HTTP=9000")],
            &options,
        );
        assert!(plan.problems.is_empty(), "{:?}", plan.problems);
        assert_eq!(
            out["c.yml"],
            "services:\n  pg:\n    ports:\n      - ${PG_PORT:-7000}:5432\n  q:\n    ports:\n      - \"${Q_HTTP_PORT:-7010}:9000\"\n"
        );
        assert_eq!(out[".env.example"], "Q_HTTP_PORT=7010\nPG_PORT=7000");
    }
}
