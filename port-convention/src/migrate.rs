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

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::Range;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::check::{
    Scan, TreeTexts, assignment_for, declared_service, project_env_name, scan_texts,
};
use crate::compose::Claim;
use crate::convention::normalize_path;
use crate::dotenv::DotenvEntry;
use crate::interpolation::{Interpolated, interpolate};
use crate::{
    Convention, Error, HostIp, PortAssignment, PortRange, Protocol, Published, ServiceDef, Severity,
};

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
            message: format!("--map {text:?}: {why} (expected OLD=NEW, e.g. 5432=7000)"),
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
    /// `--source`: also move stale port literals of source and configuration
    /// files (rule `stale-port`) to their new ports.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub source: bool,
}

impl PlanOptions {
    fn renames(&self) -> bool {
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
    /// The file changed.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
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

/// A message tied to a place, about a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    /// The file, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// 1-based line (0: unknown).
    #[serde(default)]
    pub line: u32,
    /// 1-based column (0: unknown).
    #[serde(default)]
    pub column: u32,
    /// The convention service, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// What it says.
    pub message: String,
}

impl Note {
    fn new(message: impl Into<String>) -> Self {
        Note {
            file: None,
            line: 0,
            column: 0,
            service: None,
            message: message.into(),
        }
    }

    fn at(mut self, file: &str, line: u32, column: u32) -> Self {
        self.file = Some(file.to_owned());
        self.line = line;
        self.column = column;
        self
    }

    fn about(mut self, service: &str) -> Self {
        self.service = Some(service.to_owned());
        self
    }
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            let at = crate::Location::new(file.clone(), self.line, self.column);
            write!(f, "{at}: ")?;
        }
        f.write_str(&self.message)
    }
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
    /// The compose file.
    pub file: String,
    /// Line of the mapping.
    pub line: u32,
    /// Column of the mapping.
    pub column: u32,
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

/// What [`plan`] reads.
#[derive(Debug, Clone, Copy)]
pub struct Tree<'a> {
    /// The convention.
    pub convention: &'a Convention,
    /// The files as parsed from [`Tree::texts`] (see [`scan_texts`]).
    pub scan: &'a Scan,
    /// The exact text of every file of the scan, by name.
    pub texts: &'a BTreeMap<String, String>,
    /// The process environment (it wins over `.env` for interpolation).
    pub env: &'a BTreeMap<String, String>,
}

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

/// Checks the file names of a plan read from `source` (a plan file or a
/// backup): every `files[].file` and `stacks[]` entry must pass
/// [`unsafe_path_reason`], and no file may be listed twice.
///
/// # Errors
///
/// [`Error::UnsafePath`] naming the first bad entry; the plan is refused as
/// a whole.
pub fn check_plan_paths(plan: &Plan, source: &str) -> Result<(), Error> {
    let mut seen = BTreeSet::new();
    for (i, file) in plan.files.iter().enumerate() {
        if let Some(reason) = unsafe_path_reason(&file.file) {
            return Err(Error::UnsafePath {
                path: file.file.clone(),
                reason: format!(
                    "{reason} (files[{i}].file of {}); the whole plan is refused, nothing was read or written",
                    crate::report::escape_text(source)
                ),
            });
        }
        if !seen.insert(file.file.as_str()) {
            return Err(Error::UnsafePath {
                path: file.file.clone(),
                reason: format!(
                    "listed twice (files[{i}].file of {}); the whole plan is refused, nothing was read or written",
                    crate::report::escape_text(source)
                ),
            });
        }
    }
    for (i, stack) in plan.stacks.iter().enumerate() {
        if let Some(reason) = unsafe_path_reason(stack) {
            return Err(Error::UnsafePath {
                path: stack.clone(),
                reason: format!(
                    "{reason} (stacks[{i}] of {}); the whole plan is refused, nothing was read or written",
                    crate::report::escape_text(source)
                ),
            });
        }
    }
    Ok(())
}

/// The directory part of a relative file name (`""` at the root).
fn dir_of(file: &str) -> &str {
    file.rsplit_once('/').map_or("", |(dir, _)| dir)
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_owned()
    } else {
        format!("{dir}/{name}")
    }
}

/// The `.env` files of a compose file's project that `migrate` keeps in
/// step: `.env` and `.env.example` in its directory.
fn project_family(file: &str) -> [String; 2] {
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
/// [`Error::InvalidArgument`] when an edit is out of order, out of bounds,
/// not on a character boundary, or finds other text than [`Edit::old`].
pub fn apply_edits(file: &str, text: &str, edits: &[Edit]) -> Result<String, Error> {
    let mut out = String::with_capacity(text.len() + 64);
    let mut at = 0usize;
    for edit in edits {
        let found = text.get(edit.start..edit.end);
        if edit.start < at || found != Some(edit.old.as_str()) {
            let (line, column) = line_column(text, edit.start);
            return Err(Error::InvalidArgument {
                message: format!(
                    "{file}:{line}:{column}: expected {:?} at bytes {}..{}, found {:?}",
                    edit.old,
                    edit.start,
                    edit.end,
                    found.unwrap_or("<out of bounds>")
                ),
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
/// As [`apply_edits`], and [`Error::InvalidArgument`] when a text is missing.
pub fn plan_diff(plan: &Plan, texts: &BTreeMap<String, String>) -> Result<String, Error> {
    let mut out = String::new();
    for file in &plan.files {
        let old = texts
            .get(&file.file)
            .ok_or_else(|| Error::InvalidArgument {
                message: format!("{}: text not available for the diff", file.file),
            })?;
        let new = apply_edits(&file.file, old, &file.edits)?;
        out.push_str(&unified_diff(&file.file, old, &new));
    }
    Ok(out)
}

// ---------------------------------------------------------------------------
// Planning
// ---------------------------------------------------------------------------

type PortKey = (String, String);

/// A variable that carries the host port of a migrated mapping.
#[derive(Debug, Clone)]
struct VarUse {
    key: PortKey,
    new: String,
}

#[derive(Debug, Clone)]
struct Rename {
    compose_file: String,
    from: String,
    to: String,
    new: String,
    key: PortKey,
}

#[derive(Debug, Default)]
struct Planner {
    edits: BTreeMap<String, Vec<Edit>>,
    changes: Vec<Change>,
    targets: Vec<Target>,
    stacks: BTreeSet<String>,
    not_found: Vec<NotFound>,
    notes: Vec<Note>,
    problems: Vec<Note>,
    /// Old host ports of each assignment (legacy, current, `--map`).
    old_ports: BTreeMap<PortKey, BTreeSet<u16>>,
    /// `(env file, variable)` whose every entry must become the value.
    forced: BTreeMap<(String, String), VarUse>,
    /// Variables (other than the convention's) that carry a migrated port.
    carried: BTreeMap<String, Vec<VarUse>>,
    renames: Vec<Rename>,
    /// `(env file, variable, value, key)` lines to add.
    inserts: Vec<(String, String, String, PortKey)>,
    /// Byte ranges (per compose file) of variable names being renamed.
    renamed_spans: BTreeMap<String, Vec<Range<usize>>>,
}

impl Planner {
    fn edit(&mut self, file: &str, text: &str, range: Range<usize>, new: &str) {
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
    fn change(
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
            file: file.to_owned(),
            line,
            column,
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
                Note::new(format!(
                    "the convention has an error, fix it first: {}",
                    finding.message
                ))
                .at(
                    finding.file.as_deref().unwrap_or(&c.file),
                    finding.line.unwrap_or(0),
                    finding.column.unwrap_or(0),
                ),
            );
        }
    }
    for map in &options.maps {
        if !c.assignments().any(|(_, a)| a.port == map.new) {
            p.problems.push(Note::new(format!(
                "--map {map}: {} is not assigned to any service in the convention",
                map.new
            )));
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
        plan_service(tree, options, service, &mut p);
    }
    plan_env_files(tree, &mut p);
    finish(tree, options, p)
}

fn key_of(service: &ServiceDef, assignment: &PortAssignment) -> PortKey {
    (service.name.clone(), assignment.name.clone())
}

fn plan_service(tree: &Tree<'_>, options: &PlanOptions, service: &ServiceDef, p: &mut Planner) {
    let c = tree.convention;
    let name = &service.compose_service;
    let defining: Vec<&crate::compose::ComposeFile> = tree
        .scan
        .compose_files
        .iter()
        .filter(|f| f.services.iter().any(|(s, _)| s == name))
        .filter(|f| {
            service
                .compose_file
                .as_deref()
                .is_none_or(|want| normalize_path(want) == normalize_path(&f.file))
        })
        .collect();
    if defining.is_empty() {
        let reason = match &service.compose_file {
            Some(file) => format!("{file} does not define a compose service named {name}"),
            None => format!("no compose file defines a service named {name}"),
        };
        p.not_found.push(NotFound {
            service: service.name.clone(),
            port_name: None,
            reason,
        });
        return;
    }
    if service.compose_file.is_none() && defining.len() > 1 {
        let all_alternatives = defining.iter().enumerate().all(|(i, a)| {
            defining
                .iter()
                .skip(i + 1)
                .all(|b| c.are_alternatives(&a.file, &b.file))
        });
        if !all_alternatives {
            let files: Vec<&str> = defining.iter().map(|f| f.file.as_str()).collect();
            p.problems.push(
                Note::new(format!(
                    "service {} is ambiguous: compose service {name} is defined in {}; name the file in {} \
                     (compose: {{ file: {} }}) or declare the files as alternatives",
                    service.name,
                    files.join(" and "),
                    c.file,
                    files.first().copied().unwrap_or_default()
                ))
                .at(&c.file, service.location.line, service.location.column)
                .about(&service.name),
            );
            return;
        }
    }
    for file in defining {
        let Some(text) = tree.texts.get(&file.file) else {
            p.problems
                .push(Note::new(format!("{}: could not be read", file.file)).about(&service.name));
            continue;
        };
        let claims: Vec<&Claim> = file
            .claims
            .iter()
            .filter(|claim| {
                claim.service == *name
                    && declared_service(c, claim).is_some_and(|d| d.name == service.name)
            })
            .collect();
        for assignment in &service.ports {
            let found = claims.iter().any(|claim| {
                assignment_for(service, claim).is_some_and(|a| a.name == assignment.name)
                    && claim.mapping.published.range().is_some()
            });
            if !found {
                let what = match assignment.container {
                    Some(port) => format!("container port {port}/{}", assignment.protocol),
                    None => format!("a {} port", assignment.protocol),
                };
                p.not_found.push(NotFound {
                    service: service.name.clone(),
                    port_name: Some(assignment.name.clone()),
                    reason: format!(
                        "{} service {name} publishes no host port for {what}; migrate does not add mappings",
                        file.file
                    ),
                });
            }
        }
        // One entry may expand into several claims (a container range).
        let mut groups: Vec<Vec<&Claim>> = Vec::new();
        for claim in claims {
            match groups
                .iter_mut()
                .find(|g| g.first().is_some_and(|first| first.span == claim.span))
            {
                Some(group) => group.push(claim),
                None => groups.push(vec![claim]),
            }
        }
        for group in groups {
            plan_entry(tree, options, service, &file.file, text, &group, p);
        }
    }
}

/// The new host value of an entry and the old host ports, or why not.
fn new_host_value(service: &ServiceDef, group: &[&Claim]) -> Result<Option<String>, String> {
    if group.iter().any(|claim| claim.run > 1) {
        return Err(format!(
            "a range of more than {} ports is not moved; edit it by hand",
            crate::compose::RUN_THRESHOLD
        ));
    }
    let assigned: Vec<(&Claim, &PortAssignment)> = group
        .iter()
        .filter_map(|claim| assignment_for(service, claim).map(|a| (*claim, a)))
        .collect();
    if assigned.is_empty() {
        return Ok(None);
    }
    if let [claim] = group {
        return match claim.mapping.published {
            Published::None => Ok(None),
            Published::Port(_) | Published::Range(_) => {
                let port = assigned.first().map(|(_, a)| a.port).unwrap_or(0);
                Ok(Some(port.to_string()))
            }
        };
    }
    // A container range: host ports follow container ports one to one.
    let mut first_target = u16::MAX;
    let mut host_ports = Vec::new();
    for claim in group {
        match claim.mapping.published {
            Published::Port(p) => host_ports.push((claim.mapping.target, p)),
            _ => return Err("a container range whose host side is not one port each".into()),
        }
        first_target = first_target.min(claim.mapping.target);
    }
    let mut start: Option<u32> = None;
    for (claim, assignment) in &assigned {
        let offset = u32::from(claim.mapping.target - first_target);
        let candidate = u32::from(assignment.port).checked_sub(offset);
        match (start, candidate) {
            (_, None) => {
                return Err(format!(
                    "port {} cannot start a range here",
                    assignment.port
                ));
            }
            (None, Some(s)) => start = Some(s),
            (Some(s), Some(other)) if s != other => {
                return Err(
                    "the assigned ports of this container range are not consecutive in the same order".into(),
                );
            }
            _ => {}
        }
    }
    let Some(start) = start else { return Ok(None) };
    let len = u32::try_from(group.len()).unwrap_or(u32::MAX);
    let end = start + len - 1;
    if end > u32::from(u16::MAX) || start == 0 {
        return Err("the moved range would leave 1-65535".into());
    }
    Ok(Some(format!("{start}-{end}")))
}

/// How a YAML scalar is written: where its content starts and whether the
/// content is exactly its value.
fn scalar_content(raw: &str) -> Option<(usize, &str)> {
    if raw.contains('\n') || raw.contains('\r') {
        return None;
    }
    if let Some(inner) = raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        return (!inner.contains('\\')).then_some((1, inner));
    }
    if let Some(inner) = raw.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')) {
        return (!inner.contains('\'')).then_some((1, inner));
    }
    if raw.starts_with(['"', '\'', '|', '>', '&', '*', '!']) {
        return None;
    }
    Some((0, raw))
}

fn lookup_for<'t>(tree: &'t Tree<'_>, compose_file: &str) -> impl Fn(&str) -> Option<String> + 't {
    let project = project_env_name(compose_file);
    let project_env = tree
        .scan
        .env_files
        .iter()
        .find(|e| e.file == project)
        .and_then(|e| e.parsed.as_ref().ok());
    move |var: &str| {
        tree.env
            .get(var)
            .cloned()
            .or_else(|| project_env.and_then(|d| d.get(var)).map(str::to_owned))
    }
}

#[allow(clippy::too_many_lines)]
fn plan_entry(
    tree: &Tree<'_>,
    options: &PlanOptions,
    service: &ServiceDef,
    file: &str,
    text: &str,
    group: &[&Claim],
    p: &mut Planner,
) {
    let Some(first) = group.first() else { return };
    let problem = |message: String| {
        Note::new(message)
            .at(file, first.line, first.column)
            .about(&service.name)
    };
    let new_value = match new_host_value(service, group) {
        Ok(Some(v)) => v,
        Ok(None) => return,
        Err(why) => {
            p.problems.push(problem(format!(
                "cannot move {:?} of service {}: {why}; edit it by hand",
                first.raw, first.service
            )));
            return;
        }
    };
    let Some(assignment) = group
        .iter()
        .find_map(|claim| assignment_for(service, claim))
    else {
        return;
    };
    let key = key_of(service, assignment);
    let single_assignment = group.len() == 1;
    if group.iter().any(|claim| claim.via_alias) {
        p.problems.push(problem(format!(
            "the port entry {:?} of service {} is reached through a YAML alias or merge key; migrate only \
             edits entries written in place (editing the anchor would move every service that uses it): \
             write the entry out in the service, or edit the anchor by hand, and plan again",
            first.raw, first.service
        )));
        return;
    }
    let Some(raw) = text.get(first.span.clone()) else {
        p.problems
            .push(problem("the entry's position is outside the file".into()));
        return;
    };
    let is_long = raw != first.raw;
    let Some((content_offset, inner)) = scalar_content(raw) else {
        p.problems.push(problem(format!(
            "the port entry {raw} uses YAML escapes, line folding or a block scalar; write it on one line \
             without escapes, or edit it by hand"
        )));
        return;
    };
    let base = first.span.start + content_offset;
    let lookup = lookup_for(tree, file);
    let interpolated: Interpolated = match interpolate(inner, &lookup) {
        Ok(i) => i,
        Err(err) => {
            p.problems
                .push(problem(format!("cannot read the entry {raw}: {err}")));
            return;
        }
    };
    let host: Range<usize> = if is_long {
        0..inner.len()
    } else {
        let parts = crate::compose::top_level_parts(inner);
        match parts.len().checked_sub(2).and_then(|i| parts.get(i)) {
            Some(part) => part.clone(),
            None => {
                p.problems
                    .push(problem(format!("cannot find the host port in {raw}")));
                return;
            }
        }
    };
    let uses: Vec<_> = interpolated
        .uses
        .iter()
        .filter(|u| u.span.start >= host.start && u.span.end <= host.end)
        .collect();
    let old_ports: Vec<u16> = group
        .iter()
        .filter_map(|claim| claim.mapping.published.range())
        .map(|r| r.start())
        .collect();
    let mut post_var: Option<String> = None;

    if uses.is_empty() {
        let host_text = inner.get(host.clone()).unwrap_or("");
        if host_text.parse::<PortRange>().is_err() {
            p.problems.push(problem(format!(
                "the host port {host_text:?} of {raw} is not a port number or range"
            )));
            return;
        }
        let range = base + host.start..base + host.end;
        match (&assignment.env, options.use_env_vars && single_assignment) {
            (Some(var), true) => {
                let template = format!("${{{var}:-{new_value}}}");
                p.edit(file, text, range.clone(), &template);
                p.change(
                    &key,
                    file,
                    text,
                    range.start,
                    ChangeKind::UseEnvVar,
                    Some(var),
                    host_text,
                    &template,
                );
                post_var = Some(var.clone());
                for env_file in project_family(file) {
                    if tree.scan.env_files.iter().any(|e| e.file == env_file) {
                        p.inserts
                            .push((env_file, var.clone(), new_value.clone(), key.clone()));
                    }
                }
            }
            (None, true) => {
                p.notes.push(problem(format!(
                    "--use-env-vars: {}/{} has no `env:` in the convention; the literal stays a literal",
                    service.name, assignment.name
                )));
                p.edit(file, text, range.clone(), &new_value);
                p.change(
                    &key,
                    file,
                    text,
                    range.start,
                    ChangeKind::Literal,
                    None,
                    host_text,
                    &new_value,
                );
            }
            _ => {
                p.edit(file, text, range.clone(), &new_value);
                p.change(
                    &key,
                    file,
                    text,
                    range.start,
                    ChangeKind::Literal,
                    None,
                    host_text,
                    &new_value,
                );
            }
        }
    } else {
        let Some(u) = uses.first().copied() else {
            return;
        };
        let nested_only = uses.iter().skip(1).all(|other| {
            u.default
                .as_ref()
                .is_some_and(|d| other.span.start >= d.span.start && other.span.end <= d.span.end)
        });
        if u.span != host || !nested_only {
            p.problems.push(problem(format!(
                "the host port of {raw} mixes text and variables; migrate rewrites only a literal or a single \
                 ${{VAR:-port}}; edit it by hand"
            )));
            return;
        }
        if u.operator.is_alternative() {
            p.problems.push(problem(format!(
                "the host port of {raw} uses ${{{}{}...}} (an alternative value); edit it by hand",
                u.name,
                u.operator.symbol()
            )));
            return;
        }
        if let Some(default) = u.default.as_ref().filter(|_| u.operator.is_default()) {
            if default.text.contains('$') {
                p.problems.push(problem(format!(
                    "the default of {} in {raw} is itself a template; edit it by hand",
                    u.name
                )));
                return;
            }
            if !default.text.is_empty() {
                if default.text.parse::<PortRange>().is_err() {
                    p.problems.push(problem(format!(
                        "the default {:?} of {} in {raw} is not a port number or range",
                        default.text, u.name
                    )));
                    return;
                }
                let range = base + default.span.start..base + default.span.end;
                p.edit(file, text, range.clone(), &new_value);
                p.change(
                    &key,
                    file,
                    text,
                    range.start,
                    ChangeKind::TemplateDefault,
                    Some(&u.name),
                    &default.text,
                    &new_value,
                );
            }
        }
        let mut name = u.name.clone();
        if options.renames()
            && single_assignment
            && let Some(var) = &assignment.env
            && *var != u.name
        {
            let offset = if inner
                .get(u.span.start..)
                .is_some_and(|s| s.starts_with("${"))
            {
                2
            } else {
                1
            };
            let start = base + u.span.start + offset;
            let range = start..start + u.name.len();
            if text.get(range.clone()) == Some(u.name.as_str()) {
                p.edit(file, text, range.clone(), var);
                p.change(
                    &key,
                    file,
                    text,
                    range.start,
                    ChangeKind::RenameVariable,
                    Some(var),
                    &u.name,
                    var,
                );
                p.renamed_spans
                    .entry(file.to_owned())
                    .or_default()
                    .push(range);
                p.renames.push(Rename {
                    compose_file: file.to_owned(),
                    from: u.name.clone(),
                    to: var.clone(),
                    new: new_value.clone(),
                    key: key.clone(),
                });
                name = var.clone();
            }
        }
        if name != u.name {
            // The old variable still carries the old port for whoever reads it.
            p.carried.entry(u.name.clone()).or_default().push(VarUse {
                key: key.clone(),
                new: new_value.clone(),
            });
        }
        post_var = Some(name);
    }

    if let Some(var) = &post_var {
        if let Some(value) = tree.env.get(var)
            && *value != new_value
        {
            p.problems.push(problem(format!(
                "{var}={value} is set in the environment and wins over every file; unset it (or set it to \
                 {new_value}) and plan again"
            )));
        }
        let project = project_env_name(file);
        if tree.scan.env_files.iter().any(|e| e.file == project) {
            p.forced.insert(
                (project, var.clone()),
                VarUse {
                    key: key.clone(),
                    new: new_value.clone(),
                },
            );
        }
        if assignment.env.as_deref() != Some(var.as_str()) {
            p.carried.entry(var.clone()).or_default().push(VarUse {
                key: key.clone(),
                new: new_value.clone(),
            });
        }
    }

    if let Some(old) = p.old_ports.get_mut(&key) {
        old.extend(old_ports.iter().copied());
    }
    let new_range = new_value.parse::<PortRange>().ok();
    let mut moved = false;
    for claim in group {
        let Some(from) = claim.mapping.published.range() else {
            continue;
        };
        let Some(a) = assignment_for(service, claim) else {
            continue;
        };
        let ports = match (new_range, group.len()) {
            (Some(r), 1) => r,
            (Some(r), _) => {
                let offset = claim
                    .mapping
                    .target
                    .saturating_sub(group.iter().map(|c| c.mapping.target).min().unwrap_or(0));
                PortRange::single(r.start().saturating_add(offset))
            }
            (None, _) => PortRange::single(a.port),
        };
        moved |= ports != from;
        p.targets.push(Target {
            service: service.name.clone(),
            port_name: a.name.clone(),
            port: ports.start(),
            ports,
            protocol: claim.mapping.protocol,
            host_ip: claim.mapping.host_ip.to_string(),
            file: file.to_owned(),
            line: claim.line,
            column: claim.column,
            from,
        });
    }
    if moved || p.edits.contains_key(file) {
        p.stacks.insert(file.to_owned());
    }
}

/// Byte offsets of references to `name` (`$name`, `${name...`) in `text`.
fn references(text: &str, name: &str) -> Vec<usize> {
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
fn still_referenced(tree: &Tree<'_>, p: &Planner, name: &str) -> Option<String> {
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

fn parse_port(value: &str) -> Option<u16> {
    value.trim().parse::<u16>().ok()
}

/// The byte range of an entry's key on its line.
fn key_range(text: &str, entry: &DotenvEntry) -> Option<Range<usize>> {
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
fn plan_env_files(tree: &Tree<'_>, p: &mut Planner) {
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
                            Note::new(format!(
                                "{} is kept here: it is still read at {at} ({} now reads {})",
                                rename.from, rename.compose_file, rename.to
                            ))
                            .at(file, entry.line, entry.column)
                            .about(&rename.key.0),
                        );
                    }
                } else if keys.contains(rename.to.as_str()) {
                    if noted.insert(format!("dup:{}", rename.from)) {
                        p.notes.push(
                            Note::new(format!(
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
                        Note::new(format!(
                            "{}={} is left alone: it is neither the legacy nor a current port of {} ({}); \
                             pass --map {}={} to move it",
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
                    Note::new(format!(
                        "{} serves {}/{} and {}/{}; it is set to {} for {}/{}",
                        entry.key,
                        decision.key.0,
                        decision.key.1,
                        other.key.0,
                        other.key.1,
                        decision.new,
                        decision.key.0,
                        decision.key.1
                    ))
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
                let note = Note::new(message)
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
                            Note::new(format!("cannot find the key {} on its line", entry.key)).at(
                                file,
                                entry.line,
                                entry.column,
                            ),
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

#[allow(clippy::too_many_lines)]
fn finish(tree: &Tree<'_>, options: &PlanOptions, mut p: Planner) -> Plan {
    let mut files = Vec::new();
    let mut new_texts = tree.texts.clone();
    for (file, mut edits) in std::mem::take(&mut p.edits) {
        edits.sort_by_key(|e| (e.start, e.end));
        edits.dedup();
        let overlapping = edits.windows(2).any(|w| match w {
            [a, b] => {
                b.start < a.end || (a.start == b.start && a.start == a.end && b.start == b.end)
            }
            _ => false,
        });
        let Some(text) = tree.texts.get(&file) else {
            continue;
        };
        if overlapping {
            p.problems.push(
                Note::new("two changes overlap in this file; please report this").at(&file, 0, 0),
            );
            continue;
        }
        let new_text = match apply_edits(&file, text, &edits) {
            Ok(t) => t,
            Err(err) => {
                p.problems.push(Note::new(err.to_string()).at(&file, 0, 0));
                continue;
            }
        };
        let kind = if tree.scan.compose_files.iter().any(|f| f.file == file) {
            FileKind::Compose
        } else {
            FileKind::Env
        };
        files.push(FilePlan {
            file: file.clone(),
            kind,
            sha256: sha256_hex(text.as_bytes()),
            new_sha256: sha256_hex(new_text.as_bytes()),
            edits,
        });
        new_texts.insert(file, new_text);
    }
    p.changes.sort_by(|a, b| {
        (&a.service, &a.port_name, &a.file, a.line, a.column).cmp(&(
            &b.service,
            &b.port_name,
            &b.file,
            b.line,
            b.column,
        ))
    });
    p.targets.sort_by(|a, b| {
        (&a.file, a.line, a.column, a.port).cmp(&(&b.file, b.line, b.column, b.port))
    });

    // Read the edited texts again: the plan must do what it says.
    if !files.is_empty() {
        let compose_names: Vec<String> = tree
            .scan
            .compose_files
            .iter()
            .map(|f| f.file.clone())
            .collect();
        let env_names: Vec<String> = tree.scan.env_files.iter().map(|f| f.file.clone()).collect();
        let edited = TreeTexts {
            compose: compose_names,
            env: env_names,
            texts: new_texts.clone(),
            unreadable: BTreeMap::new(),
            ..TreeTexts::default()
        };
        let after = scan_texts(&edited, tree.env, None);
        verify(tree, &after, &files, &mut p);
        for conflict in target_conflicts(tree.convention, &after, &p.targets) {
            p.problems.push(conflict);
        }
    }
    let mut stacks: Vec<String> = p.stacks.into_iter().collect();
    stacks.retain(|f| {
        p.targets.iter().any(|t| t.file == *f && t.ports != t.from)
            || files.iter().any(|fp| fp.file == *f)
    });
    Plan {
        format: PLAN_FORMAT.to_owned(),
        version: PLAN_VERSION,
        tool_version: crate::TOOL_VERSION.to_owned(),
        root: String::new(),
        convention: ConventionRef {
            path: tree.convention.file.clone(),
            version: tree.convention.version.to_string(),
            sha256: String::new(),
        },
        options: options.clone(),
        files,
        changes: p.changes,
        targets: p.targets,
        stacks,
        not_found: p.not_found,
        notes: p.notes,
        problems: p.problems,
    }
}

fn verify(tree: &Tree<'_>, after: &Scan, files: &[FilePlan], p: &mut Planner) {
    let touched: BTreeSet<&str> = files.iter().map(|f| f.file.as_str()).collect();
    for before in &tree.scan.compose_files {
        let env_touched = touched.contains(project_env_name(&before.file).as_str());
        if !touched.contains(before.file.as_str()) && !env_touched {
            continue;
        }
        let Some(now) = after.compose_files.iter().find(|f| f.file == before.file) else {
            p.problems.push(
                Note::new("the edited file is no longer a compose file; please report this").at(
                    &before.file,
                    0,
                    0,
                ),
            );
            continue;
        };
        let old_rules: BTreeSet<_> = before.findings.iter().map(|f| (f.rule, f.line)).collect();
        for finding in &now.findings {
            if finding.severity == Severity::Error
                && !old_rules.contains(&(finding.rule, finding.line))
            {
                p.problems.push(
                    Note::new(format!(
                        "the edit would break the file: {}",
                        finding.message
                    ))
                    .at(
                        &before.file,
                        finding.line.unwrap_or(0),
                        finding.column.unwrap_or(0),
                    ),
                );
            }
        }
        if now.claims.len() != before.claims.len() {
            p.problems.push(
                Note::new(
                    "the edited file publishes a different number of ports; please report this",
                )
                .at(&before.file, 0, 0),
            );
            continue;
        }
        for (old, new) in before.claims.iter().zip(&now.claims) {
            let target = p
                .targets
                .iter()
                .filter(|t| t.file == old.file && t.line == old.line && t.column == old.column)
                .find(|t| {
                    old.mapping.published.range() == Some(t.from)
                        && old.mapping.protocol == t.protocol
                        && (t.ports.len() == 1 || old.mapping.published.range() == Some(t.from))
                });
            let expected = match target {
                Some(t) => match old.mapping.published {
                    Published::Port(_) => Published::Port(t.ports.start()),
                    _ if t.ports.len() == 1 => Published::Port(t.ports.start()),
                    _ => Published::Range(t.ports),
                },
                None => old.mapping.published,
            };
            let same_rest = old.mapping.target == new.mapping.target
                && old.mapping.protocol == new.mapping.protocol
                && old.mapping.host_ip == new.mapping.host_ip;
            if !same_rest || new.mapping.published != expected {
                let (kind, message) = if target.is_some() {
                    (
                        true,
                        format!(
                            "after the edit, {} would publish {} instead of {}; please report this",
                            new.service, new.mapping, expected
                        ),
                    )
                } else {
                    (
                        false,
                        format!(
                            "changing a shared .env value also moves service {} from {} to {}",
                            new.service, old.mapping, new.mapping
                        ),
                    )
                };
                let note = Note::new(message)
                    .at(&old.file, old.line, old.column)
                    .about(&new.service);
                if kind {
                    p.problems.push(note);
                } else {
                    p.notes.push(note);
                }
            }
        }
    }
    for env in &after.env_files {
        if touched.contains(env.file.as_str())
            && let Err(err) = &env.parsed
        {
            p.problems.push(
                Note::new(format!("the edit would break the file: {err}")).at(&env.file, 0, 0),
            );
        }
    }
}

/// Mappings of `scan` that publish a target's port while not being a target
/// themselves (a target is known by its file, line and column), and not in a
/// file that is an alternative of the target's. Run on the tree before a
/// migration (by `apply`) and on the planned tree (by [`plan`]).
pub fn target_conflicts(convention: &Convention, scan: &Scan, targets: &[Target]) -> Vec<Note> {
    let mut out = Vec::new();
    let is_target = |claim: &Claim| {
        targets
            .iter()
            .any(|t| t.file == claim.file && t.line == claim.line && t.column == claim.column)
    };
    for target in targets {
        let ip: HostIp = target.host_ip.parse().unwrap_or_default();
        for (claim, range) in scan.published() {
            if is_target(claim)
                || claim.mapping.protocol != target.protocol
                || !range.overlaps(&target.ports)
                || !claim.mapping.host_ip.overlaps(&ip)
                || convention.are_alternatives(&claim.file, &target.file)
            {
                continue;
            }
            out.push(
                Note::new(format!(
                    "target port {}/{} of {} ({}) is already published by service {} at {}:{}:{}",
                    target.ports,
                    target.protocol,
                    target.service,
                    target.port_name,
                    claim.service,
                    claim.file,
                    claim.line,
                    claim.column
                ))
                .at(&target.file, target.line, target.column)
                .about(&target.service),
            );
        }
    }
    // Two targets on one port (the convention's own duplicates are caught by
    // its validation; this catches two copies of a service in files that run
    // together).
    for (i, a) in targets.iter().enumerate() {
        for b in targets.iter().skip(i + 1) {
            let (ia, ib): (HostIp, HostIp) = (
                a.host_ip.parse().unwrap_or_default(),
                b.host_ip.parse().unwrap_or_default(),
            );
            if a.protocol == b.protocol
                && a.ports.overlaps(&b.ports)
                && ia.overlaps(&ib)
                && !(a.file == b.file && a.line == b.line && a.column == b.column)
                && !convention.are_alternatives(&a.file, &b.file)
            {
                out.push(
                    Note::new(format!(
                        "target port {}/{} would be published twice: by {} here and by {} at {}:{}:{}",
                        a.ports, a.protocol, a.service, b.service, b.file, b.line, b.column
                    ))
                    .at(&a.file, a.line, a.column)
                    .about(&a.service),
                );
            }
        }
    }
    out
}

/// The `drift` and `env-drift` findings left for the services of a plan, in
/// a tree read after the migration.
pub fn remaining_drift(convention: &Convention, scan: &Scan, plan: &Plan) -> Vec<crate::Finding> {
    let services = plan.services();
    crate::check::check_repository(Some(convention), scan)
        .into_iter()
        .filter(|f| matches!(f.rule, crate::Rule::Drift | crate::Rule::EnvDrift))
        .filter(|f| match f.rule {
            crate::Rule::Drift => {
                // A drift finding names the compose service; map it back.
                f.file.as_deref().is_some_and(|file| {
                    plan.targets.iter().any(|t| {
                        t.file == file && Some(t.line) == f.line && Some(t.column) == f.column
                    })
                })
            }
            _ => {
                // Env drift: only the entries the plan edited.
                f.service.as_ref().is_some_and(|s| services.contains(s))
                    && f.file.as_deref().is_some_and(|file| {
                        plan.files.iter().any(|fp| {
                            fp.file == file && fp.edits.iter().any(|e| Some(e.line) == f.line)
                        })
                    })
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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
