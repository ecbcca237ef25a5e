//! The convention file `ports.yaml`: its shape as written by hand (with a
//! JSON Schema for editors) and the resolved model every rule works on.
//!
//! ```yaml
//! version: 1.0.0                 # the convention's own version (semver)
//! name: trading-system
//! requires: ">=0.1"              # optional: versions of port-convention it needs
//! ranges:
//!   databases:
//!     ports: 7000-7999
//!     protected: true            # only services declared in it may publish here
//!     bind: loopback             # publish on 127.0.0.1 only
//!     ranges:                    # sub-ranges nest
//!       primary: { ports: 7000-7099 }
//!       backups: { ports: 7300-7999, reserved: true }
//! services:
//!   timescaledb:
//!     range: primary
//!     compose: { file: tools/compose/docker-compose.database.yml, service: timescaledb }
//!     ports:
//!       postgres: { port: 7000, env: TIMESCALEDB_PORT, container: 5432, legacy: 5433 }
//! alternatives:                  # compose files that never run together
//!   rag: [tools/compose/docker-compose.rag.yml, tools/compose/docker-compose.rag-gpu.yml]
//! source:                        # optional: which programs and config files `check` scans
//!   kinds: [javascript, typescript, python, shell, go, yaml, json, toml, ini, env]
//!   exclude: ["**/fixtures/**"]
//! ```

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

use crate::{Error, Location, PortRange, Protocol, yaml};

// ---------------------------------------------------------------------------
// The file as written. These types define the YAML shape and the JSON Schema;
// `Convention` below is what the rest of the crate uses.
// ---------------------------------------------------------------------------

/// A port convention: named port ranges and which service owns which host port.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "port-convention ports.yaml")]
struct ConventionFile {
    /// The convention's own version, in semver (e.g. `1.0.0`). Bump it when
    /// assignments change.
    #[schemars(with = "String")]
    version: Spanned<String>,
    /// A short name for the convention (usually the repository's).
    #[serde(default)]
    name: Option<String>,
    /// What the convention is for.
    #[serde(default)]
    description: Option<String>,
    /// A semver requirement on the port-convention tool reading this file,
    /// e.g. `">=0.1, <2"`.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    requires: Option<Spanned<String>>,
    /// Named port ranges. Range names are unique across all nesting levels.
    #[serde(default, deserialize_with = "ordered_map")]
    #[schemars(with = "BTreeMap<String, RangeFile>")]
    ranges: Vec<(Spanned<String>, RangeFile)>,
    /// Services and the host ports assigned to them, by service name.
    #[serde(default, deserialize_with = "ordered_map")]
    #[schemars(with = "BTreeMap<String, ServiceFile>")]
    services: Vec<(Spanned<String>, ServiceFile)>,
    /// Named groups of compose files that are alternatives of each other and
    /// never run together (e.g. the CPU and GPU flavours of one stack): their
    /// ports never clash with each other. Paths are relative to the scanned root.
    #[serde(default, deserialize_with = "ordered_map")]
    #[schemars(with = "BTreeMap<String, Vec<String>>")]
    alternatives: Vec<(Spanned<String>, Vec<Spanned<String>>)>,
    /// Which files `check` reads.
    #[serde(default)]
    discovery: Option<DiscoveryFile>,
    /// Which source and configuration files `check` scans for hardcoded
    /// ports (rules `hardcoded-port`, `stale-port`, `unregistered-port`).
    #[serde(default)]
    source: Option<SourceFile>,
    /// Compose projects made of several files merged in order (what
    /// `docker compose -f base.yml -f prod.yml` loads), by name.
    #[serde(default, deserialize_with = "ordered_map")]
    #[schemars(with = "BTreeMap<String, ProjectFile>")]
    projects: Vec<(Spanned<String>, ProjectFile)>,
    /// Hosts: which compose projects run side by side on one machine. Ports
    /// of projects on one host clash as errors; ports shared by projects that
    /// no host puts together are only warnings.
    #[serde(default, deserialize_with = "ordered_map")]
    #[schemars(with = "BTreeMap<String, HostFile>")]
    hosts: Vec<(Spanned<String>, HostFile)>,
}

/// A compose project declared by the convention.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ProjectFile {
    /// Compose files merged in this order (`-f` each), relative to the
    /// scanned root (the convention's directory by default).
    files: Vec<String>,
    /// Profiles active in this project (as `--profile`); default: the
    /// `COMPOSE_PROFILES` of its environment.
    #[serde(default)]
    profiles: Vec<String>,
    /// Env files for interpolation (as `--env-file`), replacing the project
    /// directory's `.env`.
    #[serde(default)]
    env_files: Vec<String>,
    /// The project directory (as `--project-directory`); default: the
    /// directory of the first file.
    #[serde(default)]
    project_directory: Option<String>,
}

/// A host: the projects that run on it together.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct HostFile {
    /// Projects on this host: names from `projects`, project directories
    /// (their default project), compose files (the project each belongs
    /// to), or globs of those (`tools/compose/*.yml`).
    projects: Vec<String>,
    /// Profiles active on this host, for every project on it.
    #[serde(default)]
    profiles: Vec<String>,
    /// What the host is (free text).
    #[serde(default)]
    description: Option<String>,
    /// Where Prometheus reaches the host (DNS name or IP address) for the
    /// scrape targets of `render prometheus-targets`; default: the host's name.
    #[serde(default)]
    address: Option<String>,
}

/// A named range of host ports.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RangeFile {
    /// The ports, `START-END` inclusive (e.g. `7000-7999`).
    #[schemars(with = "PortRange")]
    ports: Spanned<PortRange>,
    /// What the range is for.
    #[serde(default)]
    description: Option<String>,
    /// Only services declared in this range (or its sub-ranges) may publish
    /// a port inside it.
    #[serde(default)]
    protected: bool,
    /// Nobody may be assigned a port here (kept free for later use).
    #[serde(default)]
    reserved: bool,
    /// Where ports of this range may be published; inherited by sub-ranges.
    #[serde(default)]
    bind: Option<BindPolicy>,
    /// Sub-ranges, which must lie inside this range and not overlap each other.
    #[serde(default, deserialize_with = "ordered_map")]
    #[schemars(with = "BTreeMap<String, RangeFile>")]
    ranges: Vec<(Spanned<String>, RangeFile)>,
}

/// A service of the convention.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ServiceFile {
    /// The range (by name) the service's ports belong to.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    range: Option<Spanned<String>>,
    /// What the service is.
    #[serde(default)]
    description: Option<String>,
    /// How to find the service in compose files. Defaults to a compose service
    /// with the same name in any file.
    #[serde(default)]
    compose: Option<ComposeRefFile>,
    /// This service is a replica (backup instance) of another one: each of its
    /// ports is the base service's port of the same name + 1.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    replica_of: Option<Spanned<String>>,
    /// Named ports (e.g. `http`, `grpc`, `postgres`).
    #[serde(default, deserialize_with = "ordered_map")]
    #[schemars(with = "BTreeMap<String, PortFile>")]
    ports: Vec<(Spanned<String>, PortFile)>,
}

/// Where a convention service lives in compose files.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ComposeRefFile {
    /// The compose service name, when it differs from the convention's name.
    #[serde(default)]
    service: Option<String>,
    /// The compose file (relative to the scanned root) that defines it; needed
    /// when several files define a service of that name.
    #[serde(default)]
    file: Option<String>,
}

/// One host port assignment.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct PortFile {
    /// The host port assigned.
    #[schemars(with = "u16")]
    port: Spanned<u16>,
    /// The environment variable that carries it (e.g. `TIMESCALEDB_PORT`).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    env: Option<Spanned<String>>,
    /// The container port it maps to.
    #[serde(default)]
    container: Option<u16>,
    /// The host port it moves away from (used by `migrate`).
    #[serde(default)]
    #[schemars(with = "Option<u16>")]
    legacy: Option<Spanned<u16>>,
    /// `tcp` (default), `udp` or `sctp`.
    #[serde(default)]
    protocol: Protocol,
    /// Prometheus scrapes this port (`render prometheus-targets`).
    #[serde(default)]
    scrape: bool,
    /// The HTTP path of the metrics when `scrape` is set; default `/metrics`.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    metrics_path: Option<Spanned<String>>,
    /// A connection URL template with `{host}` and `{port}`, e.g.
    /// `postgres://{host}:{port}/trading`: `render env` writes it for
    /// programs on the host (`localhost` and the host port) and for
    /// containers in the compose network (the compose service name and the
    /// container port).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    url: Option<Spanned<String>>,
}

/// Which files `check` reads, as globs relative to the scanned root.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct DiscoveryFile {
    /// Extra compose files to read (beyond Docker Compose's file names).
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    include: Vec<Spanned<String>>,
    /// Files or directories to skip.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    exclude: Vec<Spanned<String>>,
    /// Names of directories whose compose files are not deployments
    /// (dependencies, test data); default: `node_modules`, `vendor`,
    /// `third_party`, `testdata`, `bower_components`, `.venv`, `venv`,
    /// `site-packages`. `include` globs still reach into them.
    #[serde(default)]
    skip_dirs: Option<Vec<String>>,
}

/// Which source and configuration files `check` scans for port literals.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct SourceFile {
    /// Scan source files at all (default: true).
    #[serde(default)]
    enabled: Option<bool>,
    /// The kinds of files scanned; default: every kind.
    #[serde(default)]
    kinds: Option<Vec<SourceKind>>,
    /// When given, only files matching one of these globs (relative to the
    /// scanned root) are scanned.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    include: Vec<Spanned<String>>,
    /// Files or directories not scanned, as globs (beyond `.gitignore`,
    /// `discovery.exclude` and `discovery.skip_dirs`); default: minified
    /// JavaScript and npm lock files.
    #[serde(default)]
    #[schemars(with = "Option<Vec<String>>")]
    exclude: Option<Vec<Spanned<String>>>,
}

/// A kind of source or configuration file, by its name.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum SourceKind {
    /// `.js`, `.mjs`, `.cjs`, `.jsx`.
    Javascript,
    /// `.ts`, `.mts`, `.cts`, `.tsx`.
    Typescript,
    /// `.py`.
    Python,
    /// `.sh`, `.bash`, `.zsh`.
    Shell,
    /// `.go`.
    Go,
    /// `.yml`, `.yaml` that are not compose files nor the convention.
    Yaml,
    /// `.json`.
    Json,
    /// `.toml`.
    Toml,
    /// `.ini`, `.cfg`, `.conf`, `.properties`.
    Ini,
    /// `.env*` files that no compose project reads.
    Env,
}

impl SourceKind {
    /// Every kind.
    pub const ALL: &'static [SourceKind] = &[
        SourceKind::Javascript,
        SourceKind::Typescript,
        SourceKind::Python,
        SourceKind::Shell,
        SourceKind::Go,
        SourceKind::Yaml,
        SourceKind::Json,
        SourceKind::Toml,
        SourceKind::Ini,
        SourceKind::Env,
    ];

    /// The kind of a file, by its name (not its path).
    ///
    /// ```
    /// use port_convention::SourceKind;
    /// assert_eq!(SourceKind::of_file_name("config.mjs"), Some(SourceKind::Javascript));
    /// assert_eq!(SourceKind::of_file_name(".env.local"), Some(SourceKind::Env));
    /// assert_eq!(SourceKind::of_file_name("README.md"), None);
    /// ```
    pub fn of_file_name(name: &str) -> Option<SourceKind> {
        if name == ".env" || name.starts_with(".env.") || name.ends_with(".env") {
            return Some(SourceKind::Env);
        }
        let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
        Some(match ext.as_str() {
            "js" | "mjs" | "cjs" | "jsx" => SourceKind::Javascript,
            "ts" | "mts" | "cts" | "tsx" => SourceKind::Typescript,
            "py" => SourceKind::Python,
            "sh" | "bash" | "zsh" => SourceKind::Shell,
            "go" => SourceKind::Go,
            "yml" | "yaml" => SourceKind::Yaml,
            "json" => SourceKind::Json,
            "toml" => SourceKind::Toml,
            "ini" | "cfg" | "conf" | "properties" => SourceKind::Ini,
            "example" if name.contains(".env") => SourceKind::Env,
            _ => return None,
        })
    }
}

/// Which source and configuration files `check` scans for port literals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceSettings {
    /// Whether source files are scanned at all.
    pub enabled: bool,
    /// The kinds scanned.
    pub kinds: Vec<SourceKind>,
    /// When not empty, only files matching one of these globs are scanned.
    pub include: Vec<String>,
    /// Files not scanned.
    pub exclude: Vec<String>,
}

/// Files not scanned for ports unless `source.exclude` says otherwise:
/// generated, not written by the team.
pub const DEFAULT_SOURCE_EXCLUDE: &[&str] = &[
    "**/*.min.js",
    "**/*.min.mjs",
    "**/package-lock.json",
    "**/npm-shrinkwrap.json",
];

impl Default for SourceSettings {
    fn default() -> Self {
        SourceSettings {
            enabled: true,
            kinds: SourceKind::ALL.to_vec(),
            include: Vec::new(),
            exclude: DEFAULT_SOURCE_EXCLUDE
                .iter()
                .map(|g| (*g).to_owned())
                .collect(),
        }
    }
}

/// Reads a YAML mapping into a `Vec` of pairs, keeping document order and
/// the position of every key.
fn ordered_map<'de, D, T>(deserializer: D) -> Result<Vec<(Spanned<String>, T)>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    struct OrderedVisitor<T>(std::marker::PhantomData<T>);
    impl<'de, T: Deserialize<'de>> Visitor<'de> for OrderedVisitor<T> {
        type Value = Vec<(Spanned<String>, T)>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a mapping")
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut entries = Vec::new();
            while let Some(key) = map.next_key::<Spanned<String>>()? {
                let value = map.next_value::<T>()?;
                entries.push((key, value));
            }
            Ok(entries)
        }
    }
    deserializer.deserialize_map(OrderedVisitor(std::marker::PhantomData))
}

/// The JSON Schema of `ports.yaml`, for editors (`port-convention schema`).
///
/// ```
/// let schema = port_convention::convention_schema();
/// assert_eq!(schema["title"], "port-convention ports.yaml");
/// assert!(schema["properties"]["ranges"].is_object());
/// ```
pub fn convention_schema() -> serde_json::Value {
    let schema = schemars::schema_for!(ConventionFile);
    schema.to_value()
}

// ---------------------------------------------------------------------------
// The resolved model.
// ---------------------------------------------------------------------------

/// Where ports of a range may be published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum BindPolicy {
    /// Any host address (the default).
    #[default]
    Any,
    /// Loopback addresses only (`127.0.0.1`, `::1`): nothing reachable from
    /// the network.
    Loopback,
}

/// A named port range, flattened out of its nesting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeDef {
    /// Its name, unique in the convention.
    pub name: String,
    /// Its ports.
    pub ports: PortRange,
    /// Index of the enclosing range in [`Convention::ranges`].
    pub parent: Option<usize>,
    /// The text after `description:`.
    pub description: Option<String>,
    /// Only services declared in it may publish inside it.
    pub protected: bool,
    /// Nobody may be assigned a port inside it.
    pub reserved: bool,
    /// The bind policy in force (its own, else its parent's, else `any`).
    pub bind: BindPolicy,
    /// Where the range's `ports:` value is.
    pub location: Location,
}

/// One named host port of a service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortAssignment {
    /// The port's name within the service (`http`, `postgres` ...).
    pub name: String,
    /// The assigned host port.
    pub port: u16,
    /// The protocol.
    pub protocol: Protocol,
    /// The environment variable carrying the port.
    pub env: Option<String>,
    /// The container port it maps to.
    pub container: Option<u16>,
    /// The host port it moves away from.
    pub legacy: Option<u16>,
    /// Where the `port:` value is.
    pub location: Location,
    /// Where the `env:` value is.
    pub env_location: Option<Location>,
    /// Prometheus scrapes this port.
    pub scrape: bool,
    /// The metrics path when scraped (`/metrics` unless set).
    pub metrics_path: Option<String>,
    /// The connection URL template (`{host}`, `{port}`).
    pub url: Option<String>,
}

/// A service of the convention.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceDef {
    /// The convention's name for it.
    pub name: String,
    /// The range it belongs to, by name.
    pub range: Option<String>,
    /// Where `range:` is.
    pub range_location: Option<Location>,
    /// The text after `description:`.
    pub description: Option<String>,
    /// Its compose service name (defaults to `name`).
    pub compose_service: String,
    /// The compose file that defines it, relative to the scanned root.
    pub compose_file: Option<String>,
    /// The service it is a replica of.
    pub replica_of: Option<String>,
    /// Where `replica_of:` is.
    pub replica_location: Option<Location>,
    /// Its ports.
    pub ports: Vec<PortAssignment>,
    /// Where the service's key is.
    pub location: Location,
}

/// Compose files that never run together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlternativeGroup {
    /// The group's name.
    pub name: String,
    /// The files, relative to the scanned root, as written.
    pub files: Vec<String>,
    /// Where the group is.
    pub location: Location,
}

/// Include and exclude globs for repository discovery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovery {
    /// Extra compose files to read.
    pub include: Vec<String>,
    /// Files or directories to skip.
    pub exclude: Vec<String>,
    /// Names of directories that hold no deployments (see [`DEFAULT_SKIP_DIRS`]).
    pub skip_dirs: Vec<String>,
}

/// Directories whose compose files are dependencies' or test data, not
/// deployments of the repository.
pub const DEFAULT_SKIP_DIRS: &[&str] = &[
    "node_modules",
    "vendor",
    "third_party",
    "testdata",
    "bower_components",
    ".venv",
    "venv",
    "site-packages",
];

impl Default for Discovery {
    fn default() -> Self {
        Discovery {
            include: Vec::new(),
            exclude: Vec::new(),
            skip_dirs: DEFAULT_SKIP_DIRS.iter().map(|d| (*d).to_owned()).collect(),
        }
    }
}

/// A compose project the convention declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectDecl {
    /// Its name (the key in `projects`).
    pub name: String,
    /// Compose files in merge order, relative to the scanned root.
    pub files: Vec<String>,
    /// Profiles declared active.
    pub profiles: Vec<String>,
    /// Env files for interpolation.
    pub env_files: Vec<String>,
    /// The project directory, if not the first file's.
    pub project_directory: Option<String>,
    /// Where it is declared.
    pub location: Location,
}

/// A host and the projects that run on it together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostDef {
    /// Its name.
    pub name: String,
    /// Project names, directories, files or globs, as written.
    pub projects: Vec<String>,
    /// Profiles active on it.
    pub profiles: Vec<String>,
    /// What it is.
    pub description: Option<String>,
    /// Where Prometheus reaches it (default: its name).
    pub address: Option<String>,
    /// Where it is declared.
    pub location: Location,
}

/// A loaded convention: ranges flattened (parents before children), services
/// in file order, every value with its place in the file.
///
/// Loading checks the shape (types, unknown keys, semver, range names);
/// the rules about the values are [`crate::validate_convention`]'s.
///
/// ```
/// use port_convention::Convention;
/// let text = "version: 1.0.0
/// ranges:
///   databases: { ports: 7000-7999, protected: true }
/// services:
///   postgres:
///     range: databases
///     ports: { sql: { port: 7000, env: POSTGRES_PORT, container: 5432 } }
/// ";
/// let convention = Convention::from_yaml("ports.yaml", text)?;
/// assert_eq!(convention.range("databases").unwrap().ports.to_string(), "7000-7999");
/// assert_eq!(convention.services[0].ports[0].port, 7000);
/// # Ok::<(), port_convention::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Convention {
    /// The file it was read from, as named by the caller.
    pub file: String,
    /// The convention's version.
    pub version: semver::Version,
    /// Its name.
    pub name: Option<String>,
    /// Its description.
    pub description: Option<String>,
    /// The tool versions it accepts.
    pub requires: Option<semver::VersionReq>,
    /// All ranges, parents before their children.
    pub ranges: Vec<RangeDef>,
    /// All services.
    pub services: Vec<ServiceDef>,
    /// Groups of alternative compose files.
    pub alternatives: Vec<AlternativeGroup>,
    /// Discovery globs.
    pub discovery: Discovery,
    /// Which source files `check` scans for port literals.
    pub source: SourceSettings,
    /// Declared compose projects.
    pub projects: Vec<ProjectDecl>,
    /// Hosts.
    pub hosts: Vec<HostDef>,
    /// Lookups built once, so that no rule costs O(ranges) per claim.
    index: ConventionIndex,
}

/// Lookups over a [`Convention`], built when it is loaded.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct ConventionIndex {
    /// Range index by name.
    range_by_name: BTreeMap<String, usize>,
    /// Service indexes by compose service name.
    services_by_compose: BTreeMap<String, Vec<usize>>,
    /// Service indexes by the hash of (compose service name, normalized
    /// compose file), or of the name alone for services that name no file
    /// (they match that service in any file). Hashes, not strings: a
    /// convention of 10,000 services should not hold its names twice more.
    services_by_claim: BTreeMap<u64, Vec<usize>>,
    /// (service, port) indexes by environment variable.
    assignment_by_env: BTreeMap<String, (usize, usize)>,
    /// Elementary port segments: (first port, innermost range covering it),
    /// sorted by first port.
    segments: Vec<(u16, Option<usize>)>,
}

impl ConventionIndex {
    fn build(ranges: &[RangeDef], services: &[ServiceDef]) -> Self {
        let mut index = ConventionIndex::default();
        for (i, r) in ranges.iter().enumerate() {
            index.range_by_name.entry(r.name.clone()).or_insert(i);
        }
        for (si, s) in services.iter().enumerate() {
            index
                .services_by_compose
                .entry(s.compose_service.clone())
                .or_default()
                .push(si);
            let file = s.compose_file.as_deref().map(normalize_path);
            index
                .services_by_claim
                .entry(claim_key(&s.compose_service, file.as_deref()))
                .or_default()
                .push(si);
            for (pi, p) in s.ports.iter().enumerate() {
                if let Some(env) = &p.env {
                    index
                        .assignment_by_env
                        .entry(env.clone())
                        .or_insert((si, pi));
                }
            }
        }
        // Innermost range per elementary segment: a sweep over range starts
        // and ends, the open ranges ordered by (depth, index).
        let depth = |mut i: usize| {
            let mut d = 0usize;
            while let Some(parent) = ranges.get(i).and_then(|r| r.parent) {
                d += 1;
                i = parent;
                if d > ranges.len() {
                    break;
                }
            }
            d
        };
        let mut events: Vec<(u32, bool, usize)> = Vec::with_capacity(ranges.len() * 2);
        for (i, r) in ranges.iter().enumerate() {
            events.push((u32::from(r.ports.start()), true, i));
            events.push((u32::from(r.ports.end()) + 1, false, i));
        }
        events.sort_unstable();
        let depths: Vec<usize> = (0..ranges.len()).map(depth).collect();
        let mut open: std::collections::BTreeSet<(usize, usize)> =
            std::collections::BTreeSet::new();
        let mut k = 0;
        while let Some(&(at, _, _)) = events.get(k) {
            while let Some(&(point, starts, i)) = events.get(k) {
                if point != at {
                    break;
                }
                let key = (depths.get(i).copied().unwrap_or(0), i);
                if starts {
                    open.insert(key);
                } else {
                    open.remove(&key);
                }
                k += 1;
            }
            if let Ok(port) = u16::try_from(at) {
                index.segments.push((port, open.last().map(|&(_, i)| i)));
            }
        }
        index
    }
}

/// The version of this library, which conventions' `requires` is checked against.
pub const TOOL_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The globs of `discovery` or `source`, each checked where it is written:
/// a glob that is not one is an error at its place, not later during the walk.
fn checked_globs(file: &str, globs: Vec<Spanned<String>>) -> Result<Vec<String>, Error> {
    globs
        .into_iter()
        .map(|glob| {
            match globset::GlobBuilder::new(&glob.value)
                .literal_separator(false)
                .build()
            {
                Ok(_) => Ok(glob.value),
                Err(err) => Err(Error::InvalidConvention {
                    location: location_of(file, &glob.referenced),
                    message: format!(
                        "invalid glob {:?}: {}",
                        crate::error::excerpt(&glob.value, 80),
                        crate::report::escape_text(&err.kind().to_string())
                    ),
                }),
            }
        })
        .collect()
}

fn location_of(file: &str, location: &serde_saphyr::Location) -> Location {
    Location::new(
        file,
        u32::try_from(location.line()).unwrap_or(u32::MAX),
        u32::try_from(location.column()).unwrap_or(u32::MAX),
    )
}

impl Convention {
    /// Reads a convention from YAML text. `file` only names it in locations.
    ///
    /// # Errors
    ///
    /// - [`Error::YamlSyntax`]: not well-formed YAML.
    /// - [`Error::InvalidConvention`]: an unknown key, a value of the wrong
    ///   type, a port range such as `7999-7000`, a version that is not semver,
    ///   a range name used twice, an empty file.
    /// - [`Error::ToolVersionMismatch`]: `requires` excludes this version.
    pub fn from_yaml(file: &str, text: &str) -> Result<Convention, Error> {
        match serde_saphyr::from_str_with_options::<ConventionFile>(text, yaml::compose_options()) {
            Ok(raw) => resolve(file, raw),
            // Only a failed read pays for a second pass, which tells malformed
            // YAML (its own error code) from YAML of the wrong shape.
            Err(err) => {
                let document = yaml::parse(file, text)?;
                if document.as_map().is_none() {
                    return Err(Error::InvalidConvention {
                        location: document.place.location(file),
                        message: format!(
                            "a convention is a mapping with `version`, `ranges` and `services`, found {}",
                            document.kind_name()
                        ),
                    });
                }
                let (line, column) = yaml::error_position(&err);
                Err(Error::InvalidConvention {
                    location: Location::new(file, line, column),
                    message: yaml::error_message(&err),
                })
            }
        }
    }

    /// The range called `name`.
    pub fn range(&self, name: &str) -> Option<&RangeDef> {
        self.ranges.get(self.range_index(name)?)
    }

    /// The index of the range called `name`.
    pub fn range_index(&self, name: &str) -> Option<usize> {
        self.index.range_by_name.get(name).copied()
    }

    /// The services declared for compose service `name` (any file).
    pub fn services_for_compose(&self, name: &str) -> impl Iterator<Item = &ServiceDef> {
        self.index
            .services_by_compose
            .get(name)
            .into_iter()
            .flatten()
            .filter_map(|&i| self.services.get(i))
    }

    /// The first service (in declaration order) that compose service
    /// `name` of compose file `file` belongs to: one naming that file, or one
    /// naming no file. Two lookups, whatever the number of services.
    pub(crate) fn service_for_claim(&self, name: &str, file: &str) -> Option<&ServiceDef> {
        let file = normalized(file);
        let candidates = |key: Option<&str>| {
            self.index
                .services_by_claim
                .get(&claim_key(name, key))
                .into_iter()
                .flatten()
                .copied()
                .find(|&i| {
                    self.services.get(i).is_some_and(|s| {
                        s.compose_service == name
                            && s.compose_file.as_deref().map(normalized).as_deref() == key
                    })
                })
        };
        let first = match (candidates(Some(&file)), candidates(None)) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => return None,
        };
        self.services.get(first)
    }

    /// The service and port carried by environment variable `env`.
    pub fn assignment_for_env(&self, env: &str) -> Option<(&ServiceDef, &PortAssignment)> {
        let &(si, pi) = self.index.assignment_by_env.get(env)?;
        let service = self.services.get(si)?;
        Some((service, service.ports.get(pi)?))
    }

    /// The service called `name`.
    pub fn service(&self, name: &str) -> Option<&ServiceDef> {
        self.services.iter().find(|s| s.name == name)
    }

    /// The names of all ranges, in file order.
    pub fn range_names(&self) -> Vec<String> {
        self.ranges.iter().map(|r| r.name.clone()).collect()
    }

    /// The innermost range that contains `port`, if any.
    pub fn innermost_range(&self, port: u16) -> Option<&RangeDef> {
        let segments = &self.index.segments;
        let at = segments.partition_point(|&(start, _)| start <= port);
        let (_, range) = segments.get(at.checked_sub(1)?)?;
        self.ranges.get((*range)?)
    }

    /// How deep range `index` is nested (0 for top-level ranges).
    pub fn depth(&self, index: usize) -> usize {
        let mut depth = 0;
        let mut current = self.ranges.get(index).and_then(|r| r.parent);
        while let Some(parent) = current {
            depth += 1;
            current = self.ranges.get(parent).and_then(|r| r.parent);
        }
        depth
    }

    /// Whether range `index` or one of its ancestors is protected.
    pub fn is_protected(&self, index: usize) -> bool {
        let mut current = Some(index);
        while let Some(i) = current {
            match self.ranges.get(i) {
                Some(r) if r.protected => return true,
                Some(r) => current = r.parent,
                None => return false,
            }
        }
        false
    }

    /// Whether range `inner` is `outer` or nested inside it.
    pub fn is_within(&self, inner: usize, outer: usize) -> bool {
        let mut current = Some(inner);
        while let Some(index) = current {
            if index == outer {
                return true;
            }
            current = self.ranges.get(index).and_then(|r| r.parent);
        }
        false
    }

    /// Every assigned port with its service.
    pub fn assignments(&self) -> impl Iterator<Item = (&ServiceDef, &PortAssignment)> {
        self.services
            .iter()
            .flat_map(|s| s.ports.iter().map(move |p| (s, p)))
    }

    /// The alternative group that holds `file`, if any.
    pub fn alternative_group_of(&self, file: &str) -> Option<&AlternativeGroup> {
        let file = normalize_path(file);
        self.alternatives
            .iter()
            .find(|g| g.files.iter().any(|f| normalize_path(f) == file))
    }

    /// Whether two compose files are alternatives of each other (in one group).
    pub fn are_alternatives(&self, a: &str, b: &str) -> bool {
        let (a, b) = (normalize_path(a), normalize_path(b));
        a != b
            && self.alternatives.iter().any(|g| {
                g.files.iter().any(|f| normalize_path(f) == a)
                    && g.files.iter().any(|f| normalize_path(f) == b)
            })
    }
}

/// Compares relative paths written in different ways (`./a/b`, `a//b`, `a\b`).
/// The key of [`ConventionIndex::services_by_claim`].
fn claim_key(service: &str, file: Option<&str>) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::hash::DefaultHasher::new();
    (service, file).hash(&mut hasher);
    hasher.finish()
}

pub(crate) fn normalize_path(path: &str) -> String {
    normalized(path).into_owned()
}

/// [`normalize_path`], borrowing the common case, already normal.
pub(crate) fn normalized(path: &str) -> std::borrow::Cow<'_, str> {
    let plain = !path.contains('\\')
        && !path.contains("//")
        && !path.starts_with("./")
        && !path.starts_with('/')
        && !path.contains("/./")
        && !path.ends_with('/')
        && !path.ends_with("/.")
        && path != ".";
    if plain {
        return std::borrow::Cow::Borrowed(path);
    }
    let path = path.replace('\\', "/");
    std::borrow::Cow::Owned(
        path.split('/')
            .filter(|part| !part.is_empty() && *part != ".")
            .collect::<Vec<_>>()
            .join("/"),
    )
}

fn resolve(file: &str, raw: ConventionFile) -> Result<Convention, Error> {
    let version = semver::Version::parse(raw.version.value.trim()).map_err(|err| {
        Error::InvalidConvention {
            location: location_of(file, &raw.version.referenced),
            message: format!(
                "version {:?} is not a semantic version (like 1.0.0): {err}",
                raw.version.value
            ),
        }
    })?;
    let requires = match &raw.requires {
        None => None,
        Some(req) => {
            let location = location_of(file, &req.referenced);
            let parsed = semver::VersionReq::parse(req.value.trim()).map_err(|err| {
                Error::InvalidConvention {
                    location: location.clone(),
                    message: format!(
                        "requires {:?} is not a semver requirement (like \">=0.1, <2\"): {err}",
                        req.value
                    ),
                }
            })?;
            let tool =
                semver::Version::parse(TOOL_VERSION).map_err(|err| Error::InvalidArgument {
                    message: format!("tool version {TOOL_VERSION} is not semver: {err}"),
                })?;
            if !parsed.matches(&tool) {
                return Err(Error::ToolVersionMismatch {
                    location,
                    required: req.value.clone(),
                    actual: TOOL_VERSION.to_owned(),
                });
            }
            Some(parsed)
        }
    };

    let mut ranges = Vec::new();
    flatten_ranges(file, &raw.ranges, None, BindPolicy::Any, &mut ranges)?;

    let services = raw
        .services
        .iter()
        .map(|(name, service)| resolve_service(file, name, service))
        .collect::<Result<Vec<_>, Error>>()?;

    let alternatives = raw
        .alternatives
        .iter()
        .map(|(name, files)| AlternativeGroup {
            name: name.value.clone(),
            files: files.iter().map(|f| f.value.clone()).collect(),
            location: location_of(file, &name.referenced),
        })
        .collect();

    let discovery = match raw.discovery {
        Some(d) => Discovery {
            include: checked_globs(file, d.include)?,
            exclude: checked_globs(file, d.exclude)?,
            skip_dirs: d
                .skip_dirs
                .unwrap_or_else(|| Discovery::default().skip_dirs),
        },
        None => Discovery::default(),
    };
    let source = match raw.source {
        Some(s) => {
            let defaults = SourceSettings::default();
            SourceSettings {
                enabled: s.enabled.unwrap_or(true),
                kinds: s.kinds.unwrap_or(defaults.kinds),
                include: checked_globs(file, s.include)?,
                exclude: match s.exclude {
                    Some(globs) => checked_globs(file, globs)?,
                    None => defaults.exclude,
                },
            }
        }
        None => SourceSettings::default(),
    };

    let projects = raw
        .projects
        .into_iter()
        .map(|(name, p)| {
            let location = location_of(file, &name.referenced);
            if p.files.is_empty() {
                return Err(Error::InvalidConvention {
                    location,
                    message: format!("project {} names no compose files", name.value),
                });
            }
            Ok(ProjectDecl {
                name: name.value,
                files: p.files.iter().map(|f| normalize_path(f)).collect(),
                profiles: p.profiles,
                env_files: p.env_files.iter().map(|f| normalize_path(f)).collect(),
                project_directory: p.project_directory.map(|d| normalize_path(&d)),
                location,
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    let hosts = raw
        .hosts
        .into_iter()
        .map(|(name, h)| HostDef {
            location: location_of(file, &name.referenced),
            name: name.value,
            projects: h.projects,
            profiles: h.profiles,
            description: h.description,
            address: h.address,
        })
        .collect();

    let index = ConventionIndex::build(&ranges, &services);
    Ok(Convention {
        index,
        file: file.to_owned(),
        version,
        name: raw.name,
        description: raw.description,
        requires,
        ranges,
        services,
        alternatives,
        discovery,
        source,
        projects,
        hosts,
    })
}

fn flatten_ranges(
    file: &str,
    raw: &[(Spanned<String>, RangeFile)],
    parent: Option<usize>,
    inherited_bind: BindPolicy,
    out: &mut Vec<RangeDef>,
) -> Result<(), Error> {
    for (name, range) in raw {
        if let Some(existing) = out.iter().find(|r| r.name == name.value) {
            return Err(Error::InvalidConvention {
                location: location_of(file, &name.referenced),
                message: format!(
                    "range name {:?} is already used at {}; range names must be unique",
                    name.value, existing.location
                ),
            });
        }
        let bind = range.bind.unwrap_or(inherited_bind);
        out.push(RangeDef {
            name: name.value.clone(),
            ports: range.ports.value,
            parent,
            description: range.description.clone(),
            protected: range.protected,
            reserved: range.reserved,
            bind,
            location: location_of(file, &range.ports.referenced),
        });
        let index = out.len() - 1;
        flatten_ranges(file, &range.ranges, Some(index), bind, out)?;
    }
    Ok(())
}

/// Characters a URL template or metrics path may hold: printable ASCII
/// without spaces, quotes, backslashes, `$`, `#` and backticks, so that
/// `.env` files, YAML and JSON carry them unquoted and unchanged.
fn is_url_char(c: char) -> bool {
    c.is_ascii_graphic() && !matches!(c, '"' | '\'' | '\\' | '$' | '#' | '`')
}

/// A `url:` template: `{host}` and `{port}` once each, no other braces,
/// only [`is_url_char`] characters.
fn check_url_template(file: &str, url: &Spanned<String>) -> Result<(), Error> {
    let text = &url.value;
    let problem = if text.chars().any(|c| !is_url_char(c)) {
        Some("holds a space, quote, `$`, `#`, backslash or control character")
    } else if text.matches("{host}").count() != 1 || text.matches("{port}").count() != 1 {
        Some("must hold `{host}` and `{port}` once each")
    } else if text
        .replace("{host}", "")
        .replace("{port}", "")
        .contains(['{', '}'])
    {
        Some("has a brace other than `{host}` and `{port}`")
    } else {
        None
    };
    match problem {
        Some(problem) => Err(Error::InvalidConvention {
            location: location_of(file, &url.referenced),
            message: format!("url template {text:?} {problem}"),
        }),
        None => Ok(()),
    }
}

fn resolve_service(
    file: &str,
    name: &Spanned<String>,
    raw: &ServiceFile,
) -> Result<ServiceDef, Error> {
    let ports = raw
        .ports
        .iter()
        .map(|(port_name, port)| PortAssignment {
            name: port_name.value.clone(),
            port: port.port.value,
            protocol: port.protocol,
            env: port.env.as_ref().map(|e| e.value.clone()),
            container: port.container,
            legacy: port.legacy.as_ref().map(|l| l.value),
            location: location_of(file, &port.port.referenced),
            env_location: port.env.as_ref().map(|e| location_of(file, &e.referenced)),
            scrape: port.scrape,
            metrics_path: port.metrics_path.as_ref().map(|m| m.value.clone()),
            url: port.url.as_ref().map(|u| u.value.clone()),
        })
        .collect::<Vec<_>>();
    for (_, port) in &raw.ports {
        if let Some(url) = &port.url {
            check_url_template(file, url)?;
        }
        if let Some(path) = &port.metrics_path
            && (!path.value.starts_with('/') || path.value.chars().any(|c| !is_url_char(c)))
        {
            return Err(Error::InvalidConvention {
                location: location_of(file, &path.referenced),
                message: format!(
                    "metrics_path {:?} must start with / and hold no spaces, quotes or control characters",
                    path.value
                ),
            });
        }
    }
    if let Some(bad) = ports.iter().find(|p| p.port == 0) {
        return Err(Error::InvalidConvention {
            location: bad.location.clone(),
            message: "port 0 cannot be assigned (it means \"any free port\")".into(),
        });
    }
    let compose = raw.compose.as_ref();
    Ok(ServiceDef {
        name: name.value.clone(),
        range: raw.range.as_ref().map(|r| r.value.clone()),
        range_location: raw.range.as_ref().map(|r| location_of(file, &r.referenced)),
        description: raw.description.clone(),
        compose_service: compose
            .and_then(|c| c.service.clone())
            .unwrap_or_else(|| name.value.clone()),
        compose_file: compose.and_then(|c| c.file.clone()),
        replica_of: raw.replica_of.as_ref().map(|r| r.value.clone()),
        replica_location: raw
            .replica_of
            .as_ref()
            .map(|r| location_of(file, &r.referenced)),
        ports,
        location: location_of(file, &name.referenced),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: &str = "version: 1.2.0
name: demo
ranges:
  db:
    ports: 7000-7999
    protected: true
    bind: loopback
    ranges:
      primary: { ports: 7000-7099 }
      spare: { ports: 7300-7999, reserved: true, bind: any }
services:
  pg:
    range: primary
    ports:
      sql: { port: 7000, env: PG_PORT, container: 5432, legacy: 5433 }
";

    #[test]
    fn ranges_are_flattened_with_inherited_bind_policy() {
        let c = Convention::from_yaml("ports.yaml", SMALL).unwrap();
        assert_eq!(c.range_names(), ["db", "primary", "spare"]);
        assert_eq!(c.range("primary").unwrap().parent, Some(0));
        assert_eq!(c.range("primary").unwrap().bind, BindPolicy::Loopback);
        assert_eq!(c.range("spare").unwrap().bind, BindPolicy::Any);
        assert_eq!(c.innermost_range(7001).unwrap().name, "primary");
        assert_eq!(c.innermost_range(7200).unwrap().name, "db");
        let p = &c.services[0].ports[0];
        assert_eq!(
            (p.port, p.legacy, p.container),
            (7000, Some(5433), Some(5432))
        );
        assert_eq!(p.location.to_string(), "ports.yaml:15:20");
    }

    #[test]
    fn unknown_keys_are_errors_with_locations() {
        let err = Convention::from_yaml("p.yaml", "version: 1.0.0\nrangez: {}\n").unwrap_err();
        assert_eq!(err.code(), "invalid-convention");
        assert_eq!(err.location().unwrap().line, 2);
        assert!(err.to_string().contains("rangez"), "{err}");
    }

    #[test]
    fn bad_version_and_requirement() {
        let err = Convention::from_yaml("p.yaml", "version: one\n").unwrap_err();
        assert_eq!(err.code(), "invalid-convention");
        assert_eq!(err.location().unwrap().to_string(), "p.yaml:1:10");
        let err =
            Convention::from_yaml("p.yaml", "version: 1.0.0\nrequires: \">=99\"\n").unwrap_err();
        assert_eq!(err.code(), "tool-version-mismatch");
        assert_eq!(err.location().unwrap().to_string(), "p.yaml:2:11");
    }

    #[test]
    fn inverted_range_is_an_error_at_its_value() {
        let err = Convention::from_yaml(
            "p.yaml",
            "version: 1.0.0\nranges:\n  a:\n    ports: 7999-7000\n",
        )
        .unwrap_err();
        assert_eq!(err.code(), "invalid-convention");
        assert_eq!(err.location().unwrap().line, 4);
    }

    #[test]
    fn duplicate_range_names_across_levels_are_errors() {
        let text = "version: 1.0.0\nranges:\n  a:\n    ports: 1-100\n    ranges:\n      a: { ports: 1-10 }\n";
        let err = Convention::from_yaml("p.yaml", text).unwrap_err();
        assert_eq!(err.code(), "invalid-convention");
        assert_eq!(err.location().unwrap().line, 6);
    }

    #[test]
    fn not_a_mapping() {
        let err = Convention::from_yaml("p.yaml", "- a\n").unwrap_err();
        assert_eq!(err.code(), "invalid-convention");
        let err = Convention::from_yaml("p.yaml", "").unwrap_err();
        assert_eq!(err.code(), "invalid-convention");
    }

    #[test]
    fn schema_describes_the_file() {
        let schema = convention_schema();
        let text = schema.to_string();
        assert!(text.contains("replica_of"));
        assert!(text.contains("loopback"));
    }
}
