//! The plan and what it is made of: the types of `plan.json` (see
//! `docs/migration-guide.md`), and what [`super::plan`] reads.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::Note;
use crate::check::Scan;
use crate::{Convention, Error, PortRange, Protocol};

/// The `format` of a saved plan.
pub const PLAN_FORMAT: &str = "port-convention-migration-plan";
/// The version of the plan format this library writes and reads.
pub const PLAN_VERSION: u32 = 1;

/// A `--map OLD=NEW` pair: `.env` values equal to `OLD` of the variables of
/// the service assigned `NEW` move to `NEW`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PortMap {
    /// The value to move away from.
    pub old: u16,
    /// The assigned port to move to.
    pub new: u16,
}

impl FromStr for PortMap {
    type Err = Error;

    /// Parses `OLD=NEW`.
    ///
    /// ```
    /// use port_convention::migrate::PortMap;
    /// let m: PortMap = "5432=7000".parse()?;
    /// assert_eq!((m.old, m.new), (5432, 7000));
    /// assert!("5432".parse::<PortMap>().is_err());
    /// # Ok::<(), port_convention::Error>(())
    /// ```
    fn from_str(text: &str) -> Result<Self, Error> {
        let invalid = |why: &str| Error::InvalidArgument {
            message: format!("port map {text:?}: {why} (expected OLD=NEW, e.g. 5432=7000)"),
        };
        let (old, new) = text.split_once('=').ok_or_else(|| invalid("no `=`"))?;
        let port = |s: &str| s.trim().parse::<u16>().ok().filter(|p| *p != 0);
        match (port(old), port(new)) {
            (Some(old), Some(new)) => Ok(PortMap { old, new }),
            _ => Err(invalid("both sides must be ports 1-65535")),
        }
    }
}

impl fmt::Display for PortMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.old, self.new)
    }
}

/// What a plan may do beyond moving port values.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanOptions {
    /// Turn literal mappings into `${VAR:-port}:container` with the
    /// convention's variable, add `VAR=port` to the project's `.env` and
    /// `.env.example`, and rename variables (implies
    /// [`PlanOptions::rename_vars`]).
    pub use_env_vars: bool,
    /// Rename a mapping's variable to the convention's where they differ, in
    /// compose and in the project's `.env` files alike.
    pub rename_vars: bool,
    /// `--map OLD=NEW` pairs.
    pub maps: Vec<PortMap>,
    /// Also move stale port literals of source and configuration files
    /// (rule `stale-port`) to their new ports (`io::source::add_source_edits`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub source: bool,
}

impl PlanOptions {
    pub(crate) fn renames(&self) -> bool {
        self.rename_vars || self.use_env_vars
    }
}

/// What kind of file a [`FilePlan`] edits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileKind {
    /// A compose file.
    Compose,
    /// A `.env`-style file.
    Env,
    /// A source or configuration file (`migrate plan --source`).
    Source,
}

/// One replacement of bytes `start..end` (of the file as planned) by `new`.
/// An insertion has `start == end`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Edit {
    /// First byte replaced.
    pub start: usize,
    /// End of the bytes replaced (exclusive).
    pub end: usize,
    /// The text replaced (checked before writing).
    pub old: String,
    /// The replacement.
    pub new: String,
    /// 1-based line of `start`.
    pub line: u32,
    /// 1-based column (characters) of `start`.
    pub column: u32,
}

/// Every edit of one file, with the file's hash before and after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilePlan {
    /// The file, relative to the scanned root, with `/` separators.
    pub file: String,
    /// Compose or env.
    pub kind: FileKind,
    /// SHA-256 (lower-case hex) of the file as planned.
    pub sha256: String,
    /// SHA-256 of the file after the edits.
    pub new_sha256: String,
    /// The edits, sorted, not overlapping.
    pub edits: Vec<Edit>,
}

/// What one change does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeKind {
    /// A literal host port (`"5433:5432"`, `published: 5433`).
    Literal,
    /// The default of a template (`${VAR:-5433}`).
    TemplateDefault,
    /// A literal host port became `${VAR:-port}` (`--use-env-vars`).
    UseEnvVar,
    /// A variable of a template was renamed to the convention's.
    RenameVariable,
    /// A `.env` value.
    EnvValue,
    /// A `.env` key renamed to the convention's variable (value set too).
    RenameEnvKey,
    /// A `VAR=port` line added to a `.env` file (`--use-env-vars`).
    AddEnvVar,
    /// A stale port literal of a source file (`--source`).
    SourceLiteral,
}

/// One change, as a person reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// The convention service.
    pub service: String,
    /// The name of its port (`postgres`, `http` ...).
    pub port_name: String,
    /// Where: the file changed, 1-based line and column.
    #[serde(flatten)]
    pub location: crate::Location,
    /// What kind of change.
    pub kind: ChangeKind,
    /// The variable involved, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variable: Option<String>,
    /// The text before.
    pub from: String,
    /// The text after.
    pub to: String,
}

/// Orders changes as a plan lists them: by service, port name and place.
pub fn sort_changes(changes: &mut [Change]) {
    changes.sort_by(|a, b| {
        (&a.service, &a.port_name, &a.location).cmp(&(&b.service, &b.port_name, &b.location))
    });
}

/// A convention service (or one of its ports) the tree does not have.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotFound {
    /// The convention service.
    pub service: String,
    /// The port name, when the service exists but this port is not published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port_name: Option<String>,
    /// Why.
    pub reason: String,
}

/// A mapping that will publish an assigned port after the migration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    /// The convention service.
    pub service: String,
    /// Its port name.
    pub port_name: String,
    /// The assigned port (first port of [`Target::ports`]).
    pub port: u16,
    /// The host ports the mapping publishes after the migration.
    pub ports: PortRange,
    /// The protocol.
    pub protocol: Protocol,
    /// The host IP of the mapping (empty: all interfaces).
    pub host_ip: String,
    /// Where the mapping is: the compose file, line and column.
    #[serde(flatten)]
    pub location: crate::Location,
    /// The host port(s) before the migration.
    pub from: PortRange,
}

/// The convention a plan was made with.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConventionRef {
    /// Its path (absolute when the plan was made by `io::migrate`).
    pub path: String,
    /// Its version.
    pub version: String,
    /// SHA-256 of its text.
    pub sha256: String,
}

/// A migration plan: every edit, and everything known about it.
///
/// Serialized as the `plan.json` of `migrate plan --out` (see
/// `docs/migration-guide.md`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// Always [`PLAN_FORMAT`].
    pub format: String,
    /// Always [`PLAN_VERSION`].
    pub version: u32,
    /// The version of port-convention that made it.
    pub tool_version: String,
    /// The scanned root (absolute when made by `io::migrate`).
    #[serde(default)]
    pub root: String,
    /// The convention.
    #[serde(default)]
    pub convention: ConventionRef,
    /// The options used.
    pub options: PlanOptions,
    /// The files to write, in path order.
    pub files: Vec<FilePlan>,
    /// What changes, as a person reads it.
    pub changes: Vec<Change>,
    /// Mappings that publish an assigned port afterwards.
    pub targets: Vec<Target>,
    /// Compose files whose published ports change (restart these stacks).
    pub stacks: Vec<String>,
    /// Convention services or ports the tree does not have.
    pub not_found: Vec<NotFound>,
    /// Warnings: what was left alone and why.
    pub notes: Vec<Note>,
    /// Errors: while any is here, `apply` refuses.
    pub problems: Vec<Note>,
}

impl Plan {
    /// Whether the plan changes nothing.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// The names of the convention services with a mapping in the plan.
    pub fn services(&self) -> BTreeSet<String> {
        self.targets.iter().map(|t| t.service.clone()).collect()
    }
}

/// What [`super::plan`] reads.
#[derive(Debug, Clone, Copy)]
pub struct Tree<'a> {
    /// The convention.
    pub convention: &'a Convention,
    /// The files as parsed from [`Tree::texts`] (see [`crate::check::scan_texts`]).
    pub scan: &'a Scan,
    /// The exact text of every file of the scan, by name.
    pub texts: &'a BTreeMap<String, String>,
    /// The process environment (it wins over `.env` for interpolation).
    pub env: &'a BTreeMap<String, String>,
}
