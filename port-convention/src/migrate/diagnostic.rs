//! The diagnostics of a migration: every note, problem and refusal of
//! `migrate` is a [`Note`] with a stable [`Code`], a severity, a place and
//! the service it is about, so that a JSON consumer branches on the code,
//! never on the wording.
//!
//! Codes are declared once, in the `codes!` list below; the table of
//! `docs/migration-guide.md` is generated from it
//! (`UPDATE_DOCS=1 cargo test -p port-convention --test docs_rules`).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{Location, Severity};

/// Declares every diagnostic code once: its id and one sentence.
macro_rules! codes {
    ($( $variant:ident { id: $id:literal, summary: $summary:literal $(,)? } )*) => {
        /// What a migration [`Note`] is about. Each code has a stable
        /// kebab-case id ([`Code::id`]) that never changes meaning once
        /// released.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        #[non_exhaustive]
        pub enum Code {
            /// A note of a plan written before notes had codes.
            #[default]
            Unclassified,
            $(
                #[doc = $summary]
                $variant,
            )*
        }

        impl Code {
            /// Every code, in declaration order (without
            /// [`Code::Unclassified`]).
            pub const ALL: &'static [Code] = &[$(Code::$variant),*];

            /// The stable kebab-case id.
            pub const fn id(&self) -> &'static str {
                match self {
                    Code::Unclassified => "unclassified",
                    $(Code::$variant => $id,)*
                }
            }

            /// One sentence saying what the code means.
            pub const fn summary(&self) -> &'static str {
                match self {
                    Code::Unclassified => "A note of a plan written before notes had codes.",
                    $(Code::$variant => $summary,)*
                }
            }

            /// The code with this id.
            pub fn from_id(id: &str) -> Option<Code> {
                match id {
                    "unclassified" => Some(Code::Unclassified),
                    $($id => Some(Code::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

codes! {
    // --- planning: what stops a plan (problems) or is left alone (notes) ---
    ConventionError {
        id: "convention-error",
        summary: "The convention has an error; migrate plans only with a valid convention.",
    }
    MapNotAssigned {
        id: "map-not-assigned",
        summary: "A port map OLD=NEW names a NEW port no service of the convention is assigned.",
    }
    AmbiguousService {
        id: "ambiguous-service",
        summary: "Several compose files that are not alternatives define the convention service's compose service.",
    }
    UnreadableFile {
        id: "unreadable-file",
        summary: "A file to edit could not be read.",
    }
    EntryNotMovable {
        id: "entry-not-movable",
        summary: "A port entry cannot be moved to its assigned port (a long range, a container range that does not line up).",
    }
    AliasEntry {
        id: "alias-entry",
        summary: "A port entry is reached through a YAML alias or merge key; migrate edits only entries written in place.",
    }
    UnsupportedEntry {
        id: "unsupported-entry",
        summary: "A port entry is written in a way migrate does not rewrite (escapes, a block scalar, text mixed with variables, an alternative value, a nested template).",
    }
    InvalidHostPort {
        id: "invalid-host-port",
        summary: "The host side of a port entry (or its template default) is not a port number or range.",
    }
    NoConventionVariable {
        id: "no-convention-variable",
        summary: "A literal was asked to become a template, but its port has no `env:` in the convention.",
    }
    EnvironmentOverride {
        id: "environment-override",
        summary: "The process environment sets the mapping's variable to another value, and it wins over every file.",
    }
    VariableStillRead {
        id: "variable-still-read",
        summary: "A renamed variable is kept in a .env file because something else still reads it.",
    }
    VariableNoLongerRead {
        id: "variable-no-longer-read",
        summary: "A renamed variable is no longer read and the file sets the new name too; remove it by hand.",
    }
    EnvValueLeftAlone {
        id: "env-value-left-alone",
        summary: "A .env value of a convention variable is neither a legacy nor a current port of its service.",
    }
    SharedVariable {
        id: "shared-variable",
        summary: "One .env variable serves two ports that move to different values.",
    }
    EnvValueNotPlain {
        id: "env-value-not-plain",
        summary: "A .env value to change is quoted with escapes or holds ${...}; set it by hand.",
    }
    EnvKeyNotFound {
        id: "env-key-not-found",
        summary: "The key of a .env entry to rename cannot be found on its line.",
    }
    EditBreaksFile {
        id: "edit-breaks-file",
        summary: "An edit would make a file invalid (a new error when it is read again).",
    }
    SharedValueMovesService {
        id: "shared-value-moves-service",
        summary: "Changing a shared .env value also moves another service's published port.",
    }
    TargetConflict {
        id: "target-conflict",
        summary: "An assigned port is already published by another mapping that runs with the target.",
    }
    TargetTwice {
        id: "target-twice",
        summary: "Two mappings would publish the same assigned port.",
    }
    VerificationFailed {
        id: "verification-failed",
        summary: "The planned edits do not do what the plan says when the files are read again (a bug: please report it).",
    }
    // --- apply, resume, rollback: why nothing was written (refusals) ---
    PlanEmpty {
        id: "plan-empty",
        summary: "The plan changes nothing.",
    }
    ConventionUnrecorded {
        id: "convention-unrecorded",
        summary: "The plan does not record the SHA-256 of its convention.",
    }
    ConventionChanged {
        id: "convention-changed",
        summary: "The convention changed since the plan was made.",
    }
    FileChanged {
        id: "file-changed",
        summary: "A file changed since the plan was made (or since the migration wrote it), or is gone.",
    }
    ChangedSinceMigration {
        id: "changed-since-migration",
        summary: "A file changed (or was deleted) since the migration wrote it; restoring it would lose that change.",
    }
    AlreadyApplied {
        id: "already-applied",
        summary: "A file already has the text the plan writes.",
    }
    PlanDamaged {
        id: "plan-damaged",
        summary: "The plan's edits do not give the planned text.",
    }
    PortInUse {
        id: "port-in-use",
        summary: "A target port is listening on this machine.",
    }
    NotWritable {
        id: "not-writable",
        summary: "A file or directory of the plan cannot be written (read-only, no permission, a link).",
    }
    MigrationInterrupted {
        id: "migration-interrupted",
        summary: "The last migration was interrupted; finish it or roll it back first.",
    }
    RollbackInterrupted {
        id: "rollback-interrupted",
        summary: "The rollback of the last migration was interrupted; run it again first.",
    }
    NothingToResume {
        id: "nothing-to-resume",
        summary: "There is no interrupted migration to resume.",
    }
    NoMigration {
        id: "no-migration",
        summary: "There is no migration to roll back.",
    }
    BackupIncomplete {
        id: "backup-incomplete",
        summary: "The backup of the migration is incomplete while files were changed.",
    }
    BackupDamaged {
        id: "backup-damaged",
        summary: "A backup copy does not match its manifest or cannot be read.",
    }
    ChangedDuringMigration {
        id: "changed-during-migration",
        summary: "A file (or a backup copy) changed while the migration ran; it stopped before writing it.",
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.id())
    }
}

impl<'de> Deserialize<'de> for Code {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let id = String::deserialize(deserializer)?;
        // A code this version does not know (a newer tool's plan) stays readable.
        Ok(Code::from_id(&id).unwrap_or(Code::Unclassified))
    }
}

fn default_severity() -> Severity {
    Severity::Warning
}

/// A diagnostic of a migration, tied to a place: a note of a plan (what
/// was left alone, a warning), a problem of a plan (what stops `apply`, an
/// error) or a reason `apply`, `resume` or `rollback` refused (an error).
///
/// Serialized flat, like a [`crate::Finding`]: `{"code", "severity",
/// "file", "line", "column", "service", "message"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    /// What it is about (stable).
    #[serde(default)]
    pub code: Code,
    /// A warning (a note of a plan) or an error (a problem, a refusal).
    #[serde(default = "default_severity")]
    pub severity: Severity,
    /// Where, if anywhere (JSON: `file` where known; `line` and `column`
    /// always, 0 where unknown).
    #[serde(
        flatten,
        serialize_with = "crate::error::optional_location::serialize_dense",
        deserialize_with = "crate::error::optional_location::deserialize"
    )]
    pub location: Option<Location>,
    /// The convention service, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// What it says.
    pub message: String,
}

impl Note {
    /// A note with this code and message, an error until it is filed as a
    /// plan's note ([`Note::warning`]).
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Note {
            code,
            severity: Severity::Error,
            location: None,
            service: None,
            message: message.into(),
        }
    }

    /// The same note at `file:line:column`.
    pub fn at(mut self, file: &str, line: u32, column: u32) -> Self {
        self.location = Some(Location::new(file, line, column));
        self
    }

    /// The same note about the convention service `service`.
    pub fn about(mut self, service: &str) -> Self {
        self.service = Some(service.to_owned());
        self
    }

    /// The same note as a warning.
    pub fn warning(mut self) -> Self {
        self.severity = Severity::Warning;
        self
    }
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(at) = &self.location {
            write!(f, "{at}: ")?;
        }
        f.write_str(&self.message)
    }
}

/// The table of every code, for `docs/migration-guide.md`.
pub fn codes_markdown() -> String {
    let mut out = String::from("| code | meaning |\n|---|---|\n");
    for code in Code::ALL {
        out.push_str(&format!("| `{}` | {} |\n", code.id(), code.summary()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_unique() {
        let mut seen = std::collections::BTreeSet::new();
        for code in Code::ALL {
            assert!(seen.insert(code.id()), "{code} twice");
            assert_eq!(Code::from_id(code.id()), Some(*code));
            let json = serde_json::to_string(code).unwrap();
            assert_eq!(serde_json::from_str::<Code>(&json).unwrap(), *code);
        }
        assert_eq!(
            serde_json::from_str::<Code>("\"from-the-future\"").unwrap(),
            Code::Unclassified
        );
    }

    #[test]
    fn a_note_without_a_code_still_reads() {
        let note: Note = serde_json::from_str(r#"{"message": "old", "line": 3}"#).unwrap();
        assert_eq!(note.code, Code::Unclassified);
        assert_eq!(note.severity, Severity::Warning);
        assert_eq!(note.location, None);
    }
}
