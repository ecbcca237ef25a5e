//! The one error type of the library, with a stable code per variant.

use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

use crate::Finding;

/// A place in a file: path as given, 1-based line and column (in characters).
///
/// ```
/// use port_convention::Location;
/// let at = Location::new("ports.yaml", 3, 7);
/// assert_eq!(at.to_string(), "ports.yaml:3:7");
/// ```
#[derive(
    Debug,
    Clone,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
pub struct Location {
    /// The file, as the caller named it (relative paths stay relative).
    pub file: String,
    /// 1-based line; 0 when unknown.
    pub line: u32,
    /// 1-based column in characters; 0 when unknown.
    pub column: u32,
}

impl Location {
    /// A location in `file` at `line`:`column`.
    pub fn new(file: impl Into<String>, line: u32, column: u32) -> Self {
        Location {
            file: file.into(),
            line,
            column,
        }
    }
}

/// Serde for an optional [`Location`] flattened into the struct that holds
/// it (a finding, a migrate note), keeping the JSON contract of those: no
/// fields for `None`; `line` and `column` left out where unknown (0), or
/// written as 0 in the dense form.
pub(crate) mod optional_location {
    use serde::ser::SerializeMap;
    use serde::{Deserialize, Deserializer, Serializer};

    use super::Location;

    fn write<S: Serializer>(
        location: &Option<Location>,
        serializer: S,
        dense: bool,
    ) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        if let Some(at) = location {
            map.serialize_entry("file", &at.file)?;
        }
        let (line, column) = location.as_ref().map_or((0, 0), |at| (at.line, at.column));
        if dense || line > 0 {
            map.serialize_entry("line", &line)?;
        }
        if dense || column > 0 {
            map.serialize_entry("column", &column)?;
        }
        map.end()
    }

    /// `file`, `line`, `column` where known.
    pub(crate) fn serialize<S: Serializer>(
        location: &Option<Location>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        write(location, serializer, false)
    }

    /// `file` where known, `line` and `column` always (0: unknown).
    pub(crate) fn serialize_dense<S: Serializer>(
        location: &Option<Location>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        write(location, serializer, true)
    }

    #[derive(Deserialize)]
    struct Fields {
        #[serde(default)]
        file: Option<String>,
        #[serde(default)]
        line: u32,
        #[serde(default)]
        column: u32,
    }

    /// Either form back: a location when there is a `file`.
    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Location>, D::Error> {
        let fields = Fields::deserialize(deserializer)?;
        Ok(fields
            .file
            .map(|file| Location::new(file, fields.line, fields.column)))
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (0, _) => write!(f, "{}", self.file),
            (l, 0) => write!(f, "{}:{l}", self.file),
            (l, c) => write!(f, "{}:{l}:{c}", self.file),
        }
    }
}

/// Everything that can go wrong, one variant per kind of failure.
///
/// Each variant has a stable code ([`Error::code`]) shared by the CLI's JSON
/// output and the Python and Node bindings; a code never changes meaning.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// A YAML file is not well-formed YAML.
    #[error("{location}: {message}")]
    YamlSyntax {
        /// Where the parser stopped.
        location: Location,
        /// What the parser said.
        message: String,
    },
    /// The convention file is YAML but not a valid convention (unknown key,
    /// wrong type, bad range, bad version ...).
    #[error("{location}: {message}")]
    InvalidConvention {
        /// The offending node.
        location: Location,
        /// What is wrong.
        message: String,
    },
    /// A compose port specification is invalid.
    #[error("invalid port spec {spec:?}: {reason}")]
    InvalidPortSpec {
        /// The spec as written (after interpolation).
        spec: String,
        /// Why (shown in compose's words where it has them).
        reason: crate::PortSpecReason,
    },
    /// A host IP is neither empty nor an IP address.
    #[error("invalid IP address: {value}")]
    InvalidHostIp {
        /// The text given.
        value: String,
    },
    /// A port range such as `7000-7999` is invalid.
    #[error("invalid port range {value:?}: {reason}")]
    InvalidPortRange {
        /// The text given.
        value: String,
        /// Why.
        reason: crate::PortRangeReason,
    },
    /// An interpolation template is malformed (`${`, `${VAR`, `${:-x}` ...).
    #[error(
        "{}invalid interpolation format for {template:?}: {reason}",
        at(location)
    )]
    InvalidTemplate {
        /// The whole value being interpolated.
        template: String,
        /// Why.
        reason: crate::TemplateReason,
        /// Where, when the template comes from a file (a `.env` value).
        location: Option<Location>,
    },
    /// `${VAR:?msg}` or `${VAR?msg}` met an unset (or empty) variable.
    #[error(
        "{}required variable {variable} is missing a value{}",
        at(location),
        colon(message)
    )]
    RequiredVariable {
        /// The variable.
        variable: String,
        /// The message written in the template.
        message: String,
        /// Where, when the template comes from a file (a `.env` value).
        location: Option<Location>,
    },
    /// A `.env` file cannot be parsed.
    #[error("{location}: {reason}")]
    DotenvSyntax {
        /// Where (line of the offending entry).
        location: Location,
        /// Why.
        reason: crate::DotenvReason,
    },
    /// A range name is not declared in the convention.
    #[error("unknown range {name:?}{}", known_list(known))]
    UnknownRange {
        /// The name asked for.
        name: String,
        /// The names that exist.
        known: Vec<String>,
    },
    /// A range has fewer free ports than asked for.
    #[error("range {range} ({ports}) has {free} free port(s), {requested} requested; {occupied}")]
    RangeFull {
        /// The range name.
        range: String,
        /// Its ports.
        ports: String,
        /// How many are free.
        free: u32,
        /// How many were asked for.
        requested: u32,
        /// What fills it.
        occupied: String,
    },
    /// No `ports.yaml` in the start directory or any parent.
    #[error("no ports.yaml found in {} or any parent directory", start.display())]
    ConventionNotFound {
        /// Where the search began.
        start: PathBuf,
    },
    /// The convention requires another version of this tool.
    #[error("{location}: this convention requires port-convention {required}, this is {actual}")]
    ToolVersionMismatch {
        /// The `requires` node.
        location: Location,
        /// The requirement.
        required: String,
        /// This tool's version.
        actual: String,
    },
    /// Values were checked against the convention and some failed; every
    /// problem is listed, not just the first.
    #[error("{}", validation_summary(findings))]
    Validation {
        /// One finding per problem.
        findings: Vec<Finding>,
    },
    /// A caller passed an argument that makes no sense.
    #[error("{message}")]
    InvalidArgument {
        /// What is wrong.
        message: String,
    },
    /// A migration plan (a `plan.json`) cannot be used: not JSON, torn, of
    /// another format or version, or its edits do not fit the text they
    /// were planned on.
    #[error("{}: {problem}", crate::report::escape_text(path))]
    InvalidPlan {
        /// The plan file, or the file whose edits do not fit.
        path: String,
        /// What is wrong.
        problem: crate::PlanProblem,
    },
    /// A directory was expected (the tree to scan, to migrate).
    #[error(
        "{} is not a directory",
        crate::report::escape_text(&path.display().to_string())
    )]
    NotADirectory {
        /// The path given.
        path: PathBuf,
    },
    /// A discovery or source glob of the convention is not a valid glob.
    #[error("invalid glob {glob:?}: {reason}")]
    InvalidGlob {
        /// The glob as written.
        glob: String,
        /// What the glob parser said.
        reason: String,
    },
    /// No migration has this id, or its directory is not a backup.
    #[error("{}: {problem}", crate::report::escape_text(id))]
    UnknownMigration {
        /// The id or directory asked for.
        id: String,
        /// Why it is not one.
        problem: crate::MigrationIdProblem,
    },
    /// No rule has this id (`port-convention explain`).
    #[error("{}", unknown_rule_summary(id, close))]
    UnknownRule {
        /// The id asked for (escaped for a terminal by the CLI).
        id: String,
        /// Rule ids close to it, closest first ([`crate::Rule::close_matches`]).
        close: Vec<String>,
    },
    /// The operation is not available on this platform (reading live
    /// sockets needs Linux's `/proc`).
    #[error("{what} is not supported on {platform}")]
    Unsupported {
        /// What was asked for.
        what: String,
        /// This platform.
        platform: String,
    },
    /// A migration (`migrate apply` / `rollback`) refused to run because a
    /// safety check failed; nothing was written.
    #[error("{}", refusal_summary(reasons))]
    MigrationRefused {
        /// Every check that failed, each with its code and place (a plan's
        /// problems keep theirs).
        reasons: Vec<crate::migrate::Note>,
    },
    /// A path taken from an untrusted file (a plan, a backup manifest, a
    /// found `ports.yaml`) would lead outside the directory it belongs to:
    /// absolute, with `..`, through a symbolic link, or not a plain name.
    /// Nothing was read or written through it.
    #[error("{}: refused: {problem}{context}", crate::report::escape_text(path))]
    UnsafePath {
        /// The path as the file wrote it.
        path: String,
        /// Why it is refused.
        problem: crate::PathProblem,
        /// Where it was met and what was (not) done, as the message goes
        /// on after the problem (`" (files[0].file of plan.json); ..."`).
        context: String,
    },
    /// Another `migrate apply` or `rollback` holds the lock of this tree.
    #[error(
        "another migration is running under {} ({}); wait for it to finish, then run the command again",
        crate::report::escape_text(&root.display().to_string()),
        pid.map_or_else(|| "pid unknown".to_owned(), |p| format!("pid {p}"))
    )]
    MigrationLocked {
        /// The migrated directory.
        root: PathBuf,
        /// The process holding the lock, when it recorded itself.
        pid: Option<u32>,
    },
    /// A migration backup (`.port-convention/backups/<id>/`) cannot be read
    /// as one: a torn or foreign `plan.json`, a damaged manifest. Nothing was
    /// changed; the message says the way out.
    #[error(
        "{}: damaged migration backup: {problem}; {way_out}",
        crate::report::escape_text(&dir.display().to_string())
    )]
    DamagedBackup {
        /// The backup directory.
        dir: PathBuf,
        /// What is wrong.
        problem: crate::BackupProblem,
        /// What to do.
        way_out: String,
    },
    /// `init` was asked to write a convention where one exists, without
    /// being told to replace it.
    #[error(
        "{} exists; init never overwrites a convention unless told to replace it",
        crate::report::escape_text(&path.display().to_string())
    )]
    ConventionExists {
        /// The existing file.
        path: PathBuf,
    },
    /// A file to read is not a regular file (a FIFO, a device, a socket, a
    /// directory): reading it could block forever or never end.
    #[error(
        "{}: not a regular file ({kind}); port-convention reads only regular files",
        crate::report::escape_text(&path.display().to_string())
    )]
    NotRegularFile {
        /// The path.
        path: PathBuf,
        /// What it is instead.
        kind: String,
    },
}

/// The message of the YAML or serde library in the user's terms: advice
/// aimed at the programmer of this tool ("set DuplicateKeyPolicy in
/// Options", "use Option<String>") is rewritten or dropped, and every quoted
/// excerpt of the file (`` `...` ``) is cut to a short, escaped prefix, so
/// that a file which is not a convention at all (a symbolic link to a secret)
/// is not echoed back.
///
/// Call it on every message produced by `serde-saphyr` or `serde` before it
/// goes into an [`Error`].
pub fn user_terms(message: &str) -> String {
    const REWRITES: &[(&str, &str)] = &[
        (
            ", set DuplicateKeyPolicy in Options if acceptable",
            " (each key may appear once in a mapping)",
        ),
        (
            " set DuplicateKeyPolicy in Options if acceptable",
            " (each key may appear once in a mapping)",
        ),
        (
            "cannot deserialize null into string; use Option<String>",
            "expected a text value, found nothing (null)",
        ),
        (
            "invalid char: cannot deserialize null; use Option<char>",
            "expected a single character, found nothing (null)",
        ),
        (
            ". If you just use !!binary for documentation/annotation, set ignore_binary_tag_for_string in Options",
            "",
        ),
        (
            "rejected by the configured policy",
            "is not allowed (only finite numbers are)",
        ),
        (
            "are not allowed by configured policy",
            "are not allowed here",
        ),
        ("is not allowed by configured policy", "is not allowed here"),
        ("duplicate mapping key", "duplicate key"),
        (
            "cannot deserialize tagged scalar into string",
            "a tagged value cannot be text here",
        ),
    ];
    let mut text = message.to_owned();
    for (from, to) in REWRITES {
        text = text.replace(from, to);
    }
    // Serde quotes the offending key or value between backticks.
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(open) = rest.find('`') {
        out.push_str(&rest[..=open]);
        rest = &rest[open + 1..];
        let close = rest.find('`').unwrap_or(rest.len());
        out.push_str(&excerpt(&rest[..close], 16));
        rest = &rest[close..];
        if let Some(after) = rest.strip_prefix('`') {
            out.push('`');
            rest = after;
        }
    }
    out.push_str(rest);
    crate::report::escape_text(&out)
}

/// At most `max` characters of `text`, escaped, with `...` when cut.
pub fn excerpt(text: &str, max: usize) -> String {
    let mut short: String = text.chars().take(max).collect();
    if text.chars().nth(max).is_some() {
        short.push_str("...");
    }
    crate::report::escape_text(&short)
}

fn at(location: &Option<Location>) -> String {
    location
        .as_ref()
        .map(|l| format!("{l}: "))
        .unwrap_or_default()
}

fn colon(message: &str) -> String {
    if message.is_empty() {
        String::new()
    } else {
        format!(": {message}")
    }
}

fn known_list(known: &[String]) -> String {
    if known.is_empty() {
        String::new()
    } else {
        format!(" (known ranges: {})", known.join(", "))
    }
}

fn unknown_rule_summary(id: &str, close: &[String]) -> String {
    if close.is_empty() {
        format!("no rule `{id}` (`port-convention explain` lists every rule)")
    } else {
        format!("no rule `{id}`; did you mean {}?", close.join(", "))
    }
}

fn refusal_summary(reasons: &[crate::migrate::Note]) -> String {
    let mut text = String::from("refused, nothing was written:");
    for reason in reasons {
        text.push_str("\n  - ");
        // The message names its file where it has one; the reasons quote
        // files and plans: escaped here, once for all.
        text.push_str(&crate::report::escape_text(&reason.message));
    }
    text
}

fn validation_summary(findings: &[Finding]) -> String {
    let mut text = format!("{} problem(s) with port values:", findings.len());
    for finding in findings {
        text.push_str("\n  - ");
        text.push_str(&finding.message);
    }
    text
}

/// Declares every error code once: the variant and its stable code. Both
/// [`Error::code`] and [`Error::CODES`] (the list docs and bindings are
/// tested against) are generated from it.
macro_rules! error_codes {
    ($($variant:ident => $code:literal,)*) => {
        impl Error {
            /// The stable, kebab-case code of this kind of error.
            ///
            /// ```
            /// use port_convention::Error;
            /// let e: Error = "99999".parse::<port_convention::PortRange>().unwrap_err();
            /// assert_eq!(e.code(), "invalid-port-range");
            /// ```
            pub fn code(&self) -> &'static str {
                match self {
                    $(Error::$variant { .. } => $code,)*
                }
            }

            /// Every code, in declaration order, for documentation and
            /// cross-language tests.
            pub const CODES: &'static [&'static str] = &[$($code),*];
        }
    };
}

error_codes! {
    Io => "io",
    YamlSyntax => "yaml-syntax",
    InvalidConvention => "invalid-convention",
    InvalidPortSpec => "invalid-port-spec",
    InvalidHostIp => "invalid-host-ip",
    InvalidPortRange => "invalid-port-range",
    InvalidTemplate => "invalid-template",
    RequiredVariable => "required-variable",
    DotenvSyntax => "dotenv-syntax",
    UnknownRange => "unknown-range",
    RangeFull => "range-full",
    ConventionNotFound => "convention-not-found",
    ToolVersionMismatch => "tool-version-mismatch",
    Validation => "validation-failed",
    InvalidArgument => "invalid-argument",
    MigrationRefused => "migration-refused",
    UnsafePath => "unsafe-path",
    MigrationLocked => "migration-locked",
    DamagedBackup => "damaged-backup",
    NotRegularFile => "not-a-regular-file",
    Unsupported => "unsupported",
    UnknownRule => "unknown-rule",
    InvalidPlan => "invalid-plan",
    NotADirectory => "not-a-directory",
    InvalidGlob => "invalid-glob",
    UnknownMigration => "unknown-migration",
    ConventionExists => "convention-exists",
}

impl Error {
    /// Where in a file the error is, when it is tied to one.
    pub fn location(&self) -> Option<&Location> {
        match self {
            Error::YamlSyntax { location, .. }
            | Error::InvalidConvention { location, .. }
            | Error::DotenvSyntax { location, .. }
            | Error::ToolVersionMismatch { location, .. } => Some(location),
            Error::InvalidTemplate { location, .. } | Error::RequiredVariable { location, .. } => {
                location.as_ref()
            }
            _ => None,
        }
    }

    /// The same error placed at `location`, for errors that carry an optional
    /// place (a template read from a file); others are returned unchanged.
    pub fn located(self, location: Location) -> Self {
        match self {
            Error::InvalidTemplate {
                template,
                reason,
                location: None,
            } => Error::InvalidTemplate {
                template,
                reason,
                location: Some(location),
            },
            Error::RequiredVariable {
                variable,
                message,
                location: None,
            } => Error::RequiredVariable {
                variable,
                message,
                location: Some(location),
            },
            other => other,
        }
    }

    /// The message without the `file:line:column: ` prefix of located errors
    /// (for reports that show the location separately).
    pub fn detail(&self) -> String {
        let text = self.to_string();
        match self.location() {
            Some(location) => text
                .strip_prefix(&format!("{location}: "))
                .map(str::to_owned)
                .unwrap_or(text),
            None => text,
        }
    }

    /// The error as JSON: `{"code", "message", "findings", "location"}`, the one
    /// shape the CLI, the Node and the Python bindings report errors in.
    ///
    /// ```
    /// let err = "9-1".parse::<port_convention::PortRange>().unwrap_err();
    /// let json = err.to_json();
    /// assert_eq!(json["code"], "invalid-port-range");
    /// assert!(json["location"].is_null());
    /// ```
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "code": self.code(),
            "message": self.to_string(),
            "findings": self.findings(),
            "location": self.location(),
        })
    }

    /// The findings of a [`Error::Validation`], empty for other kinds.
    pub fn findings(&self) -> &[Finding] {
        match self {
            Error::Validation { findings } => findings,
            _ => &[],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The JSON a finding and a migrate note had before they held a
    /// [`Location`]: the contract of `check --format json` and `plan.json`.
    #[test]
    fn an_optional_location_keeps_the_json_of_findings_and_notes() {
        use crate::migrate::{Code, Note};
        use crate::{Finding, Rule};
        let finding = |at: Option<Location>| {
            let f = Finding::new(Rule::Drift, "m");
            let f = match at {
                Some(at) => f.at(&at),
                None => f,
            };
            serde_json::to_value(f).unwrap()
        };
        let keys = |v: &serde_json::Value| {
            ["file", "line", "column"]
                .iter()
                .map(|k| v.get(*k).cloned())
                .collect::<Vec<_>>()
        };
        assert_eq!(keys(&finding(None)), vec![None, None, None]);
        assert_eq!(
            keys(&finding(Some(Location::new("a.yml", 0, 0)))),
            vec![Some(serde_json::json!("a.yml")), None, None]
        );
        assert_eq!(
            keys(&finding(Some(Location::new("a.yml", 3, 7)))),
            vec![
                Some(serde_json::json!("a.yml")),
                Some(serde_json::json!(3)),
                Some(serde_json::json!(7))
            ]
        );
        // Notes write line and column always (0: unknown), and read back
        // from either form.
        let bare = Note::new(Code::UnreadableFile, "m");
        let bare_json = serde_json::to_value(&bare).unwrap();
        assert_eq!(
            keys(&bare_json),
            vec![None, Some(serde_json::json!(0)), Some(serde_json::json!(0))]
        );
        let placed = bare.clone().at("b/.env", 2, 5);
        let placed_json = serde_json::to_value(&placed).unwrap();
        assert_eq!(
            keys(&placed_json),
            vec![
                Some(serde_json::json!("b/.env")),
                Some(serde_json::json!(2)),
                Some(serde_json::json!(5))
            ]
        );
        for (json, note) in [(bare_json, bare), (placed_json, placed)] {
            assert_eq!(serde_json::from_value::<Note>(json).unwrap(), note);
        }
        let sparse: Note =
            serde_json::from_value(serde_json::json!({"code": "unreadable-file", "message": "m"}))
                .unwrap();
        assert_eq!(sparse.location, None);
    }

    #[test]
    fn library_advice_is_rewritten_in_user_terms() {
        assert_eq!(
            user_terms(
                "duplicate mapping key: db, set DuplicateKeyPolicy in Options if acceptable"
            ),
            "duplicate key: db (each key may appear once in a mapping)"
        );
        assert_eq!(
            user_terms("cannot deserialize null into string; use Option<String>"),
            "expected a text value, found nothing (null)"
        );
        for leaky in ["DuplicateKeyPolicy", "Option<", "Options"] {
            assert!(
                !user_terms(
                    "duplicate mapping key, set DuplicateKeyPolicy in Options if acceptable"
                )
                .contains(leaky)
            );
            assert!(
                !user_terms("invalid char: cannot deserialize null; use Option<char>")
                    .contains(leaky)
            );
        }
    }

    #[test]
    fn quoted_excerpts_are_short_and_escaped() {
        let secret = "root:$6$abcdefghijklmnopqrstuvwxyz0123456789:19000:0:99999:7:::";
        let text = user_terms(&format!(
            "unknown field `{secret}`, expected one of version, name"
        ));
        assert_eq!(
            text,
            "unknown field `root:$6$abcdefgh...`, expected one of version, name"
        );
        assert!(!text.contains("ijklmnop"));
        assert_eq!(
            user_terms("unknown field `a\u{1b}]0;x`"),
            "unknown field `a\\u{1b}]0;x`"
        );
        assert_eq!(user_terms("unclosed `tick"), "unclosed `tick");
    }
}
