//! Adoption: a first `ports.yaml` written from the tree as it is
//! (`port-convention init`), optionally with a protected range whose
//! database-like services get new ports.
//!
//! Pure: [`propose_convention`] takes what the edge read (the tree's texts and
//! their [`Scan`]) and returns the convention's text, a summary row per port
//! and the notes a human should read. The text is checked before it is
//! returned: it loads, and [`validate_convention`] finds no error in it (what
//! `check --convention-only` reports).
//!
//! What it decides, and where it leaves the decision to a human (each such
//! place is a `# decide:` comment in the file):
//!
//! - every service that publishes a single host port gets an entry with its
//!   port names, container ports, the variable the port comes from
//!   (`${VAR:-default}` or `${VAR}`) and its current host port;
//! - a port already assigned to an earlier service (the same port and
//!   protocol) is not assigned twice: the later service is written as a
//!   comment, and files that look like variants of one stack are proposed as
//!   `alternatives` (commented);
//! - a variable is recorded only where no `.env` file of the tree gives it
//!   another value (else `check` would report `env-drift` for a value whose
//!   meaning nobody knows);
//! - one host holds every project whose ports (after the moves) clash with no
//!   project already on it; the others are listed as not placed;
//! - with protected ranges ([`Protect`]): the first one is laid out in
//!   sub-ranges (primary databases, database UIs, exporters, a reserved tail
//!   for replication, the layout of docs/adr/0009-init-and-assign.md), every
//!   database-like service ([`classify`]) moves to the lowest free ports of
//!   its sub-range (allocated with [`crate::allocate_with`] around every port
//!   the tree publishes), its current port kept as `legacy`; a
//!   `NAME-backup`/`-replica`/`-standby` of a database is its `replica_of` at
//!   base + 1; services without a variable get a proposed one.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::str::FromStr;

use serde::Serialize;

use crate::check::{Scan, TreeTexts, project_env_name};
use crate::compose::PortSource;
use crate::interpolation::interpolate;
use crate::{Convention, Error, PortRange, Protocol, Severity, validate_convention};

/// `--protect NAME=RANGE`: a protected range to declare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Protect {
    /// The range's name (`databases`).
    pub name: String,
    /// Its ports (`7000-7999`).
    pub ports: PortRange,
}

impl FromStr for Protect {
    type Err = Error;

    /// Parses `NAME=START-END`.
    ///
    /// ```
    /// use port_convention::adopt::Protect;
    /// let p: Protect = "databases=7000-7999".parse()?;
    /// assert_eq!((p.name.as_str(), p.ports.to_string().as_str()), ("databases", "7000-7999"));
    /// assert!("databases".parse::<Protect>().is_err());
    /// # Ok::<(), port_convention::Error>(())
    /// ```
    fn from_str(text: &str) -> Result<Self, Error> {
        let invalid = |why: &str| Error::InvalidArgument {
            message: format!(
                "protected range {text:?}: {why} (write NAME=START-END, e.g. databases=7000-7999)"
            ),
        };
        let (name, ports) = text.split_once('=').ok_or_else(|| invalid("no `=`"))?;
        if !is_plain_name(name) {
            return Err(invalid(
                "the name must be letters, digits, `-` or `_`, starting with a letter",
            ));
        }
        let ports: PortRange = ports.parse().map_err(|e: Error| invalid(&e.detail()))?;
        if ports.start() == 0 {
            return Err(invalid("port 0 cannot be assigned"));
        }
        Ok(Protect {
            name: name.to_owned(),
            ports,
        })
    }
}

/// What [`propose_convention`] is asked for.
#[derive(Debug, Clone, Default)]
pub struct InitOptions {
    /// Protected ranges; the first one receives the database-like services.
    pub protect: Vec<Protect>,
    /// The convention's `name` (default: the root directory's name).
    pub name: Option<String>,
}

/// What a service is, as far as the protected range cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A database or data service (PostgreSQL, Redis, Qdrant ...).
    Database,
    /// A replica or backup instance of a database of the same file.
    Replica,
    /// A web UI of databases (pgAdmin, Adminer ...).
    DatabaseUi,
    /// A Prometheus exporter of a database.
    Exporter,
    /// Anything else: recorded as it is.
    Other,
}

impl Kind {
    /// The kebab-case name printed in the summary.
    pub fn as_str(&self) -> &'static str {
        match self {
            Kind::Database => "database",
            Kind::Replica => "replica",
            Kind::DatabaseUi => "database-ui",
            Kind::Exporter => "exporter",
            Kind::Other => "other",
        }
    }
}

/// A database engine recognised by its image: the engine's name, the image
/// name fragments that identify it, and its well-known container ports with
/// their names.
struct Engine {
    name: &'static str,
    images: &'static [&'static str],
    ports: &'static [(u16, &'static str)],
}

/// Database-like engines, by image name. Order matters only where fragments
/// overlap (none do).
const ENGINES: &[Engine] = &[
    Engine {
        name: "postgresql",
        images: &[
            "postgres",
            "timescale",
            "postgis",
            "pgvector",
            "supabase/postgres",
        ],
        ports: &[(5432, "postgres")],
    },
    Engine {
        name: "mysql",
        images: &["mysql", "mariadb", "percona"],
        ports: &[(3306, "mysql"), (33060, "mysqlx")],
    },
    Engine {
        name: "redis",
        images: &["redis", "valkey", "keydb", "dragonfly"],
        ports: &[(6379, "redis")],
    },
    Engine {
        name: "mongodb",
        images: &["mongo"],
        ports: &[(27017, "mongodb")],
    },
    Engine {
        name: "qdrant",
        images: &["qdrant"],
        ports: &[(6333, "http"), (6334, "grpc")],
    },
    Engine {
        name: "questdb",
        images: &["questdb"],
        ports: &[
            (9000, "http"),
            (9009, "ilp"),
            (8812, "pg"),
            (9003, "health"),
        ],
    },
    Engine {
        name: "clickhouse",
        images: &["clickhouse"],
        ports: &[(8123, "http"), (9000, "native"), (9009, "interserver")],
    },
    Engine {
        name: "elasticsearch",
        images: &["elasticsearch", "opensearch"],
        ports: &[(9200, "http"), (9300, "transport")],
    },
    Engine {
        name: "cassandra",
        images: &["cassandra", "scylla"],
        ports: &[(9042, "cql")],
    },
    Engine {
        name: "neo4j",
        images: &["neo4j"],
        ports: &[(7474, "http"), (7687, "bolt")],
    },
    Engine {
        name: "influxdb",
        images: &["influxdb"],
        ports: &[(8086, "http")],
    },
    Engine {
        name: "couchdb",
        images: &["couchdb"],
        ports: &[(5984, "http")],
    },
    Engine {
        name: "cockroachdb",
        images: &["cockroach"],
        ports: &[(26257, "sql"), (8080, "http")],
    },
    Engine {
        name: "memcached",
        images: &["memcached"],
        ports: &[(11211, "memcached")],
    },
];

/// Web UIs of databases, by image or service name.
const DATABASE_UIS: &[&str] = &[
    "pgadmin",
    "adminer",
    "pgweb",
    "redis-commander",
    "redisinsight",
    "mongo-express",
    "phpmyadmin",
    "dbgate",
    "cloudbeaver",
    "azimutt",
];

/// Suffixes naming a replica or backup instance of a service.
const REPLICA_SUFFIXES: &[&str] = &[
    "-backup",
    "_backup",
    "-replica",
    "_replica",
    "-standby",
    "-secondary",
    "-slave",
    "-follower",
];

/// The name part of an image reference: no registry, no tag or digest, lower
/// case (`ghcr.io/joeferner/redis-commander:latest` -> `joeferner/redis-commander`).
fn image_name(image: &str) -> String {
    let image = image.trim().to_ascii_lowercase();
    let image = image.split('@').next().unwrap_or("");
    // A tag is after the last `:` that follows the last `/`.
    let name = match image.rfind(':') {
        Some(colon) if image.rfind('/').is_none_or(|slash| colon > slash) => {
            image.get(..colon).unwrap_or(image)
        }
        _ => image,
    };
    let mut parts: Vec<&str> = name.split('/').collect();
    if parts.len() > 1
        && parts
            .first()
            .is_some_and(|p| p.contains('.') || p.contains(':') || *p == "localhost")
    {
        parts.remove(0);
    }
    parts.join("/")
}

/// How a service is classified: by what it runs (its image), then by its
/// name; `None` engine for UIs, exporters and other services.
///
/// ```
/// use port_convention::adopt::{Kind, classify};
/// assert_eq!(classify("db", Some("timescale/timescaledb:latest-pg16")).0, Kind::Database);
/// assert_eq!(classify("db", Some("postgres:15")).1, Some("postgresql"));
/// assert_eq!(classify("ui", Some("dpage/pgadmin4:latest")).0, Kind::DatabaseUi);
/// assert_eq!(classify("m", Some("prometheuscommunity/postgres-exporter")).0, Kind::Exporter);
/// assert_eq!(classify("node-exporter", Some("prom/node-exporter")).0, Kind::Other);
/// assert_eq!(classify("web", Some("nginx:alpine")).0, Kind::Other);
/// assert_eq!(classify("cache", None).0, Kind::Other);
/// ```
pub fn classify(service: &str, image: Option<&str>) -> (Kind, Option<&'static str>) {
    let image = image.map(image_name).unwrap_or_default();
    let service = service.to_ascii_lowercase();
    let engine_of = |text: &str| {
        ENGINES
            .iter()
            .find(|e| e.images.iter().any(|fragment| text.contains(fragment)))
    };
    if DATABASE_UIS
        .iter()
        .any(|ui| image.contains(ui) || service.contains(ui))
    {
        return (Kind::DatabaseUi, None);
    }
    let is_exporter = |text: &str| text.contains("exporter");
    if is_exporter(&image) || is_exporter(&service) {
        // An exporter of a database (postgres-exporter, redis_exporter, a
        // `timescaledb-exporter` service); node-exporter and friends are
        // monitoring, not data.
        let of_database = engine_of(&image).is_some()
            || engine_of(&service).is_some()
            || image.contains("mysqld");
        return if of_database {
            (Kind::Exporter, None)
        } else {
            (Kind::Other, None)
        };
    }
    // Poolers and proxies in front of a database are not databases.
    if ["pgbouncer", "pgpool", "proxysql", "haproxy"]
        .iter()
        .any(|p| image.contains(p))
    {
        return (Kind::Other, None);
    }
    let engine = if image.is_empty() {
        engine_of(&service)
    } else {
        engine_of(&image)
    };
    match engine {
        Some(e) => (Kind::Database, Some(e.name)),
        None => (Kind::Other, None),
    }
}

/// One port of the summary: what `init` recorded or moved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AdoptionRow {
    /// The convention's name for the service.
    pub service: String,
    /// The compose service.
    pub compose_service: String,
    /// The compose file.
    pub file: String,
    /// What the service is.
    pub kind: Kind,
    /// The engine, for a database.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub engine: Option<String>,
    /// The port's name.
    pub port_name: String,
    /// The host port it publishes now.
    pub old: u16,
    /// The port the convention assigns (`old` when it does not move).
    pub new: u16,
    /// The range it is in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub range: Option<String>,
    /// The variable carrying it, if the convention records one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variable: Option<String>,
    /// Whether `variable` is a proposed new name (no file uses it yet).
    pub proposed_variable: bool,
    /// Whether it is assigned in the convention (`false`: written as a
    /// comment, a human decides).
    pub assigned: bool,
}

/// What [`propose_convention`] returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Proposal {
    /// The text of `ports.yaml`.
    pub text: String,
    /// One row per published port, in file order.
    pub rows: Vec<AdoptionRow>,
    /// What a human should read (the `# decide:` places, projects not placed
    /// on the host, ports not recorded).
    pub notes: Vec<String>,
}

/// One published single-port mapping of a compose service, as recorded.
#[derive(Debug, Clone)]
struct PortEntry {
    name: String,
    old: u16,
    new: u16,
    container: u16,
    protocol: Protocol,
    /// The variable the file reads the port from.
    file_variable: Option<String>,
    /// The variable the convention records (kept, proposed, or none).
    env: Option<String>,
    proposed: bool,
    /// Written as a comment: the port is already assigned to `owner`.
    duplicate_of: Option<String>,
    /// Not assigned either: the port lies in this reserved range.
    reserved_in: Option<String>,
    comments: Vec<String>,
    /// Where the entry is (file, line, column).
    place: (String, u32, u32),
}

#[derive(Debug, Clone)]
struct ServiceEntry {
    name: String,
    compose_service: String,
    file: String,
    kind: Kind,
    engine: Option<&'static str>,
    image: Option<String>,
    range: Option<String>,
    replica_of: Option<String>,
    ports: Vec<PortEntry>,
    comments: Vec<String>,
}

/// The sub-ranges of a protected range: the layout the TradingSystem team
/// intended for 7000-7999 (a tenth each for primary databases, database UIs
/// and exporters, the rest reserved for replication and backups), scaled to
/// the range. A range of fewer than 10 ports gets no sub-ranges.
fn layout(protect: &Protect) -> Vec<(String, PortRange, &'static str, bool)> {
    let start = u32::from(protect.ports.start());
    let len = protect.ports.len();
    let tenth = len / 10;
    if tenth == 0 {
        return Vec::new();
    }
    let part = |from: u32, to: u32| {
        PortRange::new(
            u16::try_from(from).unwrap_or(u16::MAX),
            u16::try_from(to).unwrap_or(u16::MAX),
        )
        .unwrap_or(protect.ports)
    };
    vec![
        (
            "primary-databases".to_owned(),
            part(start, start + tenth - 1),
            "Primary databases and data services",
            false,
        ),
        (
            "database-uis".to_owned(),
            part(start + tenth, start + 2 * tenth - 1),
            "Web UIs of the databases",
            false,
        ),
        (
            "exporters".to_owned(),
            part(start + 2 * tenth, start + 3 * tenth - 1),
            "Prometheus exporters of the databases",
            false,
        ),
        (
            "replication".to_owned(),
            part(start + 3 * tenth, u32::from(protect.ports.end())),
            "Kept free for replication and backup instances",
            true,
        ),
    ]
}

/// Letters, digits, `-`, `_`, `.`, starting with a letter or digit: written
/// as is in YAML; anything else is quoted.
fn is_plain_name(text: &str) -> bool {
    text.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// A YAML scalar for `text`: plain when that is unambiguous, else a
/// double-quoted string (JSON's escapes are YAML's).
fn scalar(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
        && text
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && !matches!(
            text.to_ascii_lowercase().as_str(),
            "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "y" | "n"
        )
        && text.parse::<f64>().is_err();
    if plain {
        text.to_owned()
    } else {
        serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_owned())
    }
}

/// Text safe inside a `#` comment: one line, no control characters.
fn comment_text(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// `UPPER_SNAKE` of a name.
fn upper_snake(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_uppercase());
        } else if !out.ends_with('_') && !out.is_empty() {
            out.push('_');
        }
    }
    while out.ends_with('_') {
        out.pop();
    }
    if out.chars().next().is_some_and(|c| c.is_ascii_digit()) {
        out.insert(0, 'P');
    }
    out
}

/// A short name for a compose file, to tell apart services of the same name:
/// `tools/compose/docker-compose.apps.prod.yml` -> `apps-prod`,
/// `apps/tp-capital/docker-compose.yml` -> `tp-capital`.
fn file_stem(file: &str) -> String {
    let (dir, name) = file.rsplit_once('/').unwrap_or(("", file));
    let mut stem = name;
    for suffix in [".yml", ".yaml"] {
        if let Some(rest) = stem.strip_suffix(suffix) {
            stem = rest;
        }
    }
    for prefix in ["docker-compose.", "docker-compose-", "compose."] {
        if let Some(rest) = stem.strip_prefix(prefix) {
            stem = rest;
        }
    }
    let stem = if matches!(stem, "" | "docker-compose" | "compose") {
        dir.rsplit('/').next().unwrap_or("")
    } else {
        stem
    };
    let cleaned: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let cleaned = cleaned.trim_matches('-').to_owned();
    if cleaned.is_empty() {
        "root".to_owned()
    } else {
        cleaned
    }
}

/// The name of a published port: the long syntax's `name`, the engine's
/// well-known name of its container port, or a name from the container port.
fn port_name(engine: Option<&str>, kind: Kind, container: u16, long_name: Option<&str>) -> String {
    if let Some(name) = long_name.filter(|n| is_plain_name(n)) {
        return name.to_owned();
    }
    if let Some(known) = engine
        .and_then(|e| ENGINES.iter().find(|x| x.name == e))
        .and_then(|e| e.ports.iter().find(|(p, _)| *p == container))
    {
        return known.1.to_owned();
    }
    match kind {
        Kind::Exporter => return "metrics".to_owned(),
        Kind::DatabaseUi => return "http".to_owned(),
        _ => {}
    }
    match container {
        80 | 8080 => "http".to_owned(),
        443 | 8443 => "https".to_owned(),
        _ => format!("port-{container}"),
    }
}

/// The image of every service of every compose file, interpolated as the file
/// is on its own (the process environment over its directory's `.env`).
fn images(
    tree: &TreeTexts,
    scan: &Scan,
    env: &BTreeMap<String, String>,
) -> BTreeMap<(String, String), String> {
    let env_maps: BTreeMap<&str, BTreeMap<String, String>> = scan
        .env_files
        .iter()
        .filter_map(|e| Some((e.file.as_str(), e.parsed.as_ref().ok()?.to_map())))
        .collect();
    let mut out = BTreeMap::new();
    for file in &scan.compose_files {
        let Some(text) = tree.texts.get(&file.file) else {
            continue;
        };
        // The kept compose model has no image text: the file's full tree.
        let Ok(document) = crate::yaml::parse(&file.file, text) else {
            continue;
        };
        let Some(services) = document.get("services").and_then(|s| s.as_map()) else {
            continue;
        };
        let project_env = env_maps.get(project_env_name(&file.file).as_str());
        let lookup = |var: &str| {
            env.get(var)
                .or_else(|| project_env.and_then(|m| m.get(var)))
                .cloned()
        };
        for (key, service) in services {
            let (Some(service), Some(raw)) = (
                key.scalar_text(),
                service.get("image").and_then(|n| match &n.kind {
                    crate::yaml::NodeKind::Str(s) => Some(s.clone()),
                    _ => None,
                }),
            ) else {
                continue;
            };
            let image = interpolate(&raw, &lookup).map_or(raw, |i| i.value);
            out.insert((file.file.clone(), service), image);
        }
    }
    out
}

/// Every port index of the tree: what is published where, for allocation.
fn published_bitmap(scan: &Scan) -> Vec<bool> {
    let mut taken = vec![false; usize::from(u16::MAX) + 1];
    for (_, range) in scan.published() {
        for port in range.iter() {
            if let Some(slot) = taken.get_mut(usize::from(port)) {
                *slot = true;
            }
        }
    }
    taken
}

/// The free ports of range `name` of `convention`, ascending, apart from
/// `taken` ports: [`crate::allocate_with`] asked for all of them (a second
/// call with the count its `range-full` error gives).
fn free_ports(convention: &Convention, name: &str, taken: &[bool]) -> Result<Vec<u16>, Error> {
    let Some(range) = convention.range(name) else {
        return Ok(Vec::new());
    };
    let is_claimed = |port: u16| taken.get(usize::from(port)).copied().unwrap_or(true);
    let all = usize::try_from(range.ports.len()).unwrap_or(usize::MAX);
    match crate::allocate_with(convention, name, all, &is_claimed) {
        Ok(ports) => Ok(ports),
        Err(Error::RangeFull { free: 0, .. }) => Ok(Vec::new()),
        Err(Error::RangeFull { free, .. }) => crate::allocate_with(
            convention,
            name,
            usize::try_from(free).unwrap_or(usize::MAX),
            &is_claimed,
        ),
        Err(err) => Err(err),
    }
}

/// Writes a convention describing the tree as it is, with `options.protect`
/// declared and its database-like services moved into it.
///
/// `tree` and `scan` are what [`crate::io::scan_tree`] read for the root
/// (`scan` from [`crate::check::scan_texts`] of `tree`, without a
/// convention); `env` is the process environment.
///
/// # Errors
///
/// - [`Error::RangeFull`] when a sub-range has fewer free ports than its
///   services need.
/// - [`Error::InvalidArgument`] when protected ranges overlap each other, or
///   when the text would not be a sound convention (a bug: nothing is
///   written).
pub fn propose_convention(
    tree: &TreeTexts,
    scan: &Scan,
    env: &BTreeMap<String, String>,
    options: &InitOptions,
) -> Result<Proposal, Error> {
    for (i, a) in options.protect.iter().enumerate() {
        if let Some(b) = options
            .protect
            .iter()
            .skip(i + 1)
            .find(|b| b.name == a.name || b.ports.overlaps(&a.ports))
        {
            return Err(Error::InvalidArgument {
                message: format!(
                    "protected ranges {}={} and {}={} overlap or share a name",
                    a.name, a.ports, b.name, b.ports
                ),
            });
        }
    }
    let mut notes = Vec::new();
    let images = images(tree, scan, env);
    let protecting = !options.protect.is_empty();

    // Variables in use anywhere: never proposed as new names.
    let mut used_variables: BTreeSet<String> = BTreeSet::new();
    // Values of every variable in the tree's .env files: (file, line, value).
    let mut env_values: BTreeMap<&str, Vec<(&str, u32, &str)>> = BTreeMap::new();
    for file in &scan.env_files {
        if let Ok(dotenv) = &file.parsed {
            for entry in &dotenv.entries {
                used_variables.insert(entry.key.clone());
                env_values.entry(entry.key.as_str()).or_default().push((
                    file.file.as_str(),
                    entry.line,
                    entry.value.as_str(),
                ));
            }
        }
    }
    for claim in scan.claims() {
        if let PortSource::Variable { name } | PortSource::TemplateDefault { name } = &claim.source
        {
            used_variables.insert(name.clone());
        }
    }

    // 1. Services in file order, each with its single published ports.
    let mut services: Vec<ServiceEntry> = Vec::new();
    let mut names: BTreeSet<String> = BTreeSet::new();
    let mut skipped: Vec<String> = Vec::new();
    for file in &scan.compose_files {
        let mut by_service: BTreeMap<&str, Vec<&crate::compose::Claim>> = BTreeMap::new();
        for claim in &file.claims {
            let Some(range) = claim.host_range() else {
                continue;
            };
            if range.start() == 0 {
                continue;
            }
            if range.len() > 1 {
                skipped.push(format!(
                    "{}:{}: {} publishes the range {range}: not recorded (a convention assigns single ports)",
                    claim.location.file, claim.location.line, claim.service
                ));
                continue;
            }
            by_service
                .entry(claim.service.as_str())
                .or_default()
                .push(claim);
        }
        let order: Vec<&str> = file
            .services
            .iter()
            .map(|(name, _)| name.as_str())
            .chain(by_service.keys().copied())
            .collect();
        let mut done: BTreeSet<&str> = BTreeSet::new();
        for compose_service in order {
            if !done.insert(compose_service) {
                continue;
            }
            let Some(claims) = by_service.get(compose_service) else {
                continue;
            };
            let image = images
                .get(&(file.file.clone(), compose_service.to_owned()))
                .cloned();
            let (kind, engine) = classify(compose_service, image.as_deref());
            let mut name = compose_service.to_owned();
            if names.contains(&name) || !is_plain_name(&name) {
                let base = format!("{}-{}", sanitize(compose_service), file_stem(&file.file));
                name = base.clone();
                let mut n = 2;
                while names.contains(&name) {
                    name = format!("{base}-{n}");
                    n += 1;
                }
            }
            names.insert(name.clone());
            let mut ports: Vec<PortEntry> = Vec::new();
            for claim in claims {
                let Some(old) = claim.host_range().map(|r| r.start()) else {
                    continue;
                };
                let mut port_name = port_name(
                    engine,
                    kind,
                    claim.mapping.target,
                    claim.mapping.name.as_deref(),
                );
                if claim.mapping.protocol != Protocol::Tcp {
                    port_name = format!("{port_name}-{}", claim.mapping.protocol);
                }
                let base_name = port_name.clone();
                let mut n = 2;
                while ports.iter().any(|p| p.name == port_name) {
                    port_name = format!("{base_name}-{n}");
                    n += 1;
                }
                let file_variable = match &claim.source {
                    PortSource::Variable { name } | PortSource::TemplateDefault { name } => {
                        Some(name.clone())
                    }
                    PortSource::Literal => None,
                };
                let mut comments = Vec::new();
                if claim.via_alias {
                    comments.push(format!(
                        "decide: {}:{} is reached through a YAML alias; migrate will not edit it",
                        claim.location.file, claim.location.line
                    ));
                }
                ports.push(PortEntry {
                    name: port_name,
                    old,
                    new: old,
                    container: claim.mapping.target,
                    protocol: claim.mapping.protocol,
                    env: None,
                    file_variable,
                    proposed: false,
                    duplicate_of: None,
                    reserved_in: None,
                    comments,
                    place: (
                        claim.location.file.clone(),
                        claim.location.line,
                        claim.location.column,
                    ),
                });
            }
            let mut comments = Vec::new();
            if let (Some(engine_name), Some(e)) =
                (engine, ENGINES.iter().find(|e| Some(e.name) == engine))
                && !ports
                    .iter()
                    .any(|p| e.ports.iter().any(|(known, _)| *known == p.container))
            {
                comments.push(format!(
                    "decide: runs {} ({engine_name}), but publishes none of {engine_name}'s ports ({}): is it a database?",
                    image.as_deref().map(image_name).unwrap_or_default(),
                    e.ports
                        .iter()
                        .map(|(p, _)| p.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            services.push(ServiceEntry {
                name,
                compose_service: compose_service.to_owned(),
                file: file.file.clone(),
                kind,
                engine,
                image,
                range: None,
                replica_of: None,
                ports,
                comments,
            });
        }
    }

    // 2. Replicas: NAME-backup of a database NAME of the same file, every
    //    port named as one of the base's.
    if protecting {
        let mut base_taken: BTreeSet<usize> = BTreeSet::new();
        // Databases by (file, lower-case compose service): one lookup per candidate.
        let mut databases: BTreeMap<(String, String), usize> = BTreeMap::new();
        for (i, s) in services.iter().enumerate() {
            if s.kind == Kind::Database {
                databases
                    .entry((s.file.clone(), s.compose_service.to_ascii_lowercase()))
                    .or_insert(i);
            }
        }
        for i in 0..services.len() {
            let Some(candidate) = services.get(i) else {
                continue;
            };
            if !matches!(candidate.kind, Kind::Database) {
                continue;
            }
            let base_name = REPLICA_SUFFIXES.iter().find_map(|suffix| {
                let lower = candidate.compose_service.to_ascii_lowercase();
                let cut = lower.strip_suffix(suffix).or_else(|| {
                    // `-backup-2`, `-replica1`
                    let trimmed = lower.trim_end_matches(|c: char| c.is_ascii_digit());
                    trimmed.trim_end_matches('-').strip_suffix(suffix)
                })?;
                Some(cut.to_owned())
            });
            let Some(base_name) = base_name else {
                continue;
            };
            let base = databases
                .get(&(candidate.file.clone(), base_name.clone()))
                .copied();
            let Some(base) = base else {
                continue;
            };
            let names_match = candidate.ports.iter().all(|p| {
                services
                    .get(base)
                    .is_some_and(|b| b.ports.iter().any(|bp| bp.name == p.name))
            });
            if !names_match || !base_taken.insert(base) {
                continue;
            }
            let base_service_name = services.get(base).map(|b| b.name.clone());
            if let Some(s) = services.get_mut(i) {
                s.kind = Kind::Replica;
                s.replica_of = base_service_name;
            }
        }
    }

    // 3. Ranges, and the new ports of the protected services.
    let mut ranges_yaml = String::new();
    let mut range_names: Vec<(String, PortRange, bool)> = Vec::new();
    for (i, protect) in options.protect.iter().enumerate() {
        let subs = if i == 0 { layout(protect) } else { Vec::new() };
        for (name, _, _, _) in &subs {
            if options.protect.iter().any(|p| &p.name == name) {
                return Err(Error::InvalidArgument {
                    message: format!(
                        "protected range {}: the name is used for a sub-range of {}; choose another",
                        name, protect.name
                    ),
                });
            }
        }
        let _ = writeln!(ranges_yaml, "  {}:", scalar(&protect.name));
        let _ = writeln!(ranges_yaml, "    ports: {}", protect.ports);
        let _ = writeln!(
            ranges_yaml,
            "    description: {}",
            scalar(if i == 0 {
                "Databases and data services"
            } else {
                "Protected range"
            })
        );
        let _ = writeln!(
            ranges_yaml,
            "    protected: true          # only services declared in it may publish here"
        );
        let _ = writeln!(
            ranges_yaml,
            "    # decide: `bind: loopback` publishes these on 127.0.0.1 only; `check` then asks for \"127.0.0.1:PORT:TARGET\""
        );
        let _ = writeln!(ranges_yaml, "    # bind: loopback");
        range_names.push((protect.name.clone(), protect.ports, false));
        if !subs.is_empty() {
            let _ = writeln!(ranges_yaml, "    ranges:");
            for (name, ports, description, reserved) in &subs {
                let _ = writeln!(ranges_yaml, "      {name}:");
                let _ = writeln!(ranges_yaml, "        ports: {ports}");
                let _ = writeln!(ranges_yaml, "        description: {}", scalar(description));
                if *reserved {
                    let _ = writeln!(ranges_yaml, "        reserved: true");
                }
                range_names.push((name.clone(), *ports, *reserved));
            }
        }
    }
    if protecting {
        let skeleton = format!("version: 1.0.0\nranges:\n{ranges_yaml}");
        let skeleton = Convention::from_yaml("ports.yaml", &skeleton)?;
        let taken = published_bitmap(scan);
        let first = options.protect.first();
        let sub_for = |kind: Kind| -> Option<String> {
            let first = first?;
            let wanted = match kind {
                Kind::Database | Kind::Replica => "primary-databases",
                Kind::DatabaseUi => "database-uis",
                Kind::Exporter => "exporters",
                Kind::Other => return None,
            };
            if skeleton.range(wanted).is_some() {
                Some(wanted.to_owned())
            } else {
                Some(first.name.clone())
            }
        };
        let mut free: BTreeMap<String, BTreeSet<u16>> = BTreeMap::new();
        for name in skeleton.range_names() {
            let ports = free_ports(&skeleton, &name, &taken)?;
            free.insert(name, ports.into_iter().collect());
        }
        let mut need: BTreeMap<String, u32> = BTreeMap::new();
        for s in &services {
            if let Some(sub) = sub_for(s.kind) {
                *need.entry(sub).or_default() += u32::try_from(s.ports.len()).unwrap_or(u32::MAX);
            }
        }
        for (sub, count) in &need {
            let have = free.get(sub).map_or(0, BTreeSet::len);
            if usize::try_from(*count).unwrap_or(usize::MAX) > have {
                let ports = skeleton
                    .range(sub)
                    .map(|r| r.ports.to_string())
                    .unwrap_or_default();
                return Err(Error::RangeFull {
                    range: sub.clone(),
                    ports,
                    free: u32::try_from(have).unwrap_or(u32::MAX),
                    requested: *count,
                    occupied: "the rest is published by the tree already".into(),
                });
            }
        }
        let mut moved: BTreeMap<(String, String), u16> = BTreeMap::new();
        // Each base's replica, by base name.
        let replica_of: BTreeMap<String, usize> = services
            .iter()
            .enumerate()
            .filter_map(|(i, r)| Some((r.replica_of.clone()?, i)))
            .collect();
        // Databases by engine, engines in order of first appearance, each
        // family from the next multiple of ten (PostgreSQL 7000-, the next
        // engine 7010- ...): room for a family to grow, as the team whose
        // layout this is did. UIs and exporters take the lowest free ports.
        let mut engines: Vec<&'static str> = Vec::new();
        for s in &services {
            if s.kind == Kind::Database
                && let Some(e) = s.engine
                && !engines.contains(&e)
            {
                engines.push(e);
            }
        }
        let mut order: Vec<usize> = Vec::new();
        for e in &engines {
            order.extend(
                services
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| s.kind == Kind::Database && s.engine == Some(*e))
                    .map(|(i, _)| i),
            );
        }
        order.extend(
            services
                .iter()
                .enumerate()
                .filter(|(_, s)| {
                    matches!(s.kind, Kind::DatabaseUi | Kind::Exporter)
                        || (s.kind == Kind::Database && s.engine.is_none())
                })
                .map(|(i, _)| i),
        );
        // Where each sub-range's next engine family starts; the free pairs
        // (p and p + 1 free) of each pool, kept as ports are taken, so that
        // every pick costs O(log n) however fragmented the pool is.
        let mut cursor: BTreeMap<String, u16> = BTreeMap::new();
        let mut pairs: BTreeMap<String, BTreeSet<u16>> = free
            .iter()
            .map(|(name, pool)| {
                let set = pool
                    .iter()
                    .copied()
                    .filter(|p| p.checked_add(1).is_some_and(|n| pool.contains(&n)))
                    .collect();
                (name.clone(), set)
            })
            .collect();
        let take = |pool: &mut BTreeSet<u16>, pairs: &mut BTreeSet<u16>, port: u16| {
            pool.remove(&port);
            pairs.remove(&port);
            if let Some(below) = port.checked_sub(1) {
                pairs.remove(&below);
            }
        };
        let mut last_engine: Option<&'static str> = None;
        for i in order {
            let Some(service) = services.get(i) else {
                continue;
            };
            let Some(sub) = sub_for(service.kind) else {
                continue;
            };
            let sub_ports = skeleton.range(&sub).map(|r| r.ports);
            let sub_start = sub_ports.map_or(0, |r| r.start());
            // Already where it belongs (every port in the sub-range, its
            // replica's at + 1): it stays.
            let replica = replica_of.get(&service.name).copied();
            let in_place = |s: &ServiceEntry| {
                s.ports
                    .iter()
                    .all(|p| sub_ports.is_some_and(|r| r.contains(p.old)))
            };
            let replica_in_place = replica.and_then(|r| services.get(r)).is_none_or(|r| {
                in_place(r)
                    && r.ports.iter().all(|rp| {
                        service
                            .ports
                            .iter()
                            .any(|bp| bp.name == rp.name && bp.old.checked_add(1) == Some(rp.old))
                    })
            });
            if in_place(service) && replica_in_place {
                if let Some(s) = services.get_mut(i) {
                    s.range = Some(sub.clone());
                }
                if let Some(r) = replica.and_then(|r| services.get_mut(r)) {
                    r.range = Some(sub.clone());
                }
                continue;
            }
            if service.kind == Kind::Database && service.engine != last_engine {
                // A new family: the next multiple of ten past the last one.
                let at = cursor.get(&sub).copied().unwrap_or(sub_start);
                let offset = u32::from(at - sub_start.min(at));
                let aligned = u32::from(sub_start) + offset.div_ceil(10) * 10;
                cursor.insert(sub.clone(), u16::try_from(aligned).unwrap_or(u16::MAX));
                last_engine = service.engine;
            }
            let replica_names: Vec<String> = replica
                .and_then(|r| services.get(r))
                .map(|r| r.ports.iter().map(|p| p.name.clone()).collect())
                .unwrap_or_default();
            let from = if service.kind == Kind::Database {
                cursor.get(&sub).copied().unwrap_or(sub_start)
            } else {
                sub_start
            };
            let pool = free.entry(sub.clone()).or_default();
            let pair_set = pairs.entry(sub.clone()).or_default();
            let mut assigned: Vec<u16> = Vec::new();
            let mut top: Option<u16> = None;
            for port in &service.ports {
                let needs_pair = replica_names.contains(&port.name);
                let pick = if needs_pair {
                    pair_set
                        .range(from..)
                        .next()
                        .or_else(|| pair_set.iter().next())
                        .copied()
                } else {
                    pool.range(from..)
                        .next()
                        .copied()
                        .or_else(|| pool.iter().next().copied())
                };
                let Some(pick) = pick else {
                    return Err(Error::RangeFull {
                        range: sub.clone(),
                        ports: skeleton
                            .range(&sub)
                            .map(|r| r.ports.to_string())
                            .unwrap_or_default(),
                        free: u32::try_from(pool.len()).unwrap_or(u32::MAX),
                        requested: 1,
                        occupied: format!(
                            "no free port{} left for {} {}",
                            if needs_pair { " pair" } else { "" },
                            service.name,
                            port.name
                        ),
                    });
                };
                take(pool, pair_set, pick);
                let mut highest = pick;
                if needs_pair && let Some(next) = pick.checked_add(1) {
                    take(pool, pair_set, next);
                    highest = next;
                    moved.insert(
                        (
                            replica
                                .and_then(|r| services.get(r))
                                .map(|r| r.name.clone())
                                .unwrap_or_default(),
                            port.name.clone(),
                        ),
                        next,
                    );
                }
                if highest >= from {
                    top = Some(top.map_or(highest, |t: u16| t.max(highest)));
                }
                assigned.push(pick);
            }
            if service.kind == Kind::Database
                && let Some(top) = top
            {
                let next = top.saturating_add(1);
                let entry = cursor.entry(sub.clone()).or_insert(next);
                *entry = (*entry).max(next);
            }
            if let Some(s) = services.get_mut(i) {
                s.range = Some(sub.clone());
                for (port, new) in s.ports.iter_mut().zip(assigned) {
                    port.new = new;
                }
            }
            if let Some(r) = replica.and_then(|r| services.get_mut(r)) {
                r.range = Some(sub.clone());
                for port in &mut r.ports {
                    if let Some(new) = moved.get(&(r.name.clone(), port.name.clone())) {
                        port.new = *new;
                    }
                }
            }
        }
        // Other services publishing inside a protected range: declared in
        // the (non-reserved) range they are in, so that check does not call
        // them intruders, or, in a reserved range, not assigned at all.
        for s in &mut services {
            if s.range.is_some() {
                continue;
            }
            let mut inside: BTreeSet<String> = BTreeSet::new();
            let mut outside = false;
            for port in &mut s.ports {
                let Some(p) = options.protect.iter().find(|p| p.ports.contains(port.old)) else {
                    outside = true;
                    continue;
                };
                let innermost = skeleton.innermost_range(port.old);
                if let Some(r) = innermost.filter(|r| r.reserved) {
                    let text = format!(
                        "decide: {} publishes {} inside reserved range {} ({}): not assigned; move it (`port-convention assign {} --range RANGE`)",
                        s.name, port.old, r.name, r.ports, s.name
                    );
                    port.reserved_in = Some(r.name.clone());
                    notes.push(text.clone());
                    port.comments.push(text);
                    continue;
                }
                inside.insert(innermost.map_or_else(|| p.name.clone(), |r| r.name.clone()));
            }
            if inside.is_empty() {
                continue;
            }
            let text = if !outside && inside.len() == 1 {
                let range = inside.first().cloned().unwrap_or_default();
                let text = format!(
                    "decide: {} is no database init knows, but publishes inside protected range {}: declared in {range}; move it out (`port-convention assign {} --range RANGE`) if it does not belong there",
                    s.name,
                    options
                        .protect
                        .first()
                        .map(|p| p.name.as_str())
                        .unwrap_or(""),
                    s.name
                );
                s.range = Some(range);
                text
            } else {
                format!(
                    "decide: {} publishes ports inside and outside the protected ranges; check reports the ones inside as protected-range-violation until it moves (`port-convention assign {} --range RANGE`)",
                    s.name, s.name
                )
            };
            notes.push(text.clone());
            s.comments.push(text);
        }
    }

    // 4. Variables: kept where every .env value agrees with the port,
    //    proposed for moved services that have none.
    let mut convention_vars: BTreeMap<String, String> = BTreeMap::new();
    for s in &mut services {
        let service_name = s.name.clone();
        let port_count = s.ports.len();
        let moving = s.range.is_some();
        for port in &mut s.ports {
            if let Some(var) = port.file_variable.clone() {
                let disagree: Vec<String> = env_values
                    .get(var.as_str())
                    .into_iter()
                    .flatten()
                    .filter(|(_, _, value)| *value != port.old.to_string())
                    .map(|(file, line, value)| format!("{file}:{line} sets {value}"))
                    .collect();
                let mut propose = true;
                if let Some(owner) = convention_vars.get(&var) {
                    port.comments.push(format!(
                        "decide: reads ${{{var}}}, which {owner} carries already: one variable cannot hold two ports; give it its own"
                    ));
                } else if !disagree.is_empty() {
                    let shown: Vec<&str> = disagree.iter().take(3).map(String::as_str).collect();
                    let more = disagree.len().saturating_sub(3);
                    port.comments.push(format!(
                        "decide: reads ${{{var}}}, but {}{}, not {}: `env: {var}` left out (check would report env-drift); add it once the .env files agree",
                        shown.join(", "),
                        if more > 0 { format!(" and {more} more") } else { String::new() },
                        port.old
                    ));
                    propose = false;
                } else {
                    port.env = Some(var.clone());
                    convention_vars.insert(var, service_name.clone());
                    continue;
                }
                if !propose {
                    continue;
                }
            }
            if moving && port.env.is_none() {
                let base = if port_count > 1 {
                    format!(
                        "{}_{}_PORT",
                        upper_snake(&service_name),
                        upper_snake(&port.name)
                    )
                } else {
                    format!("{}_PORT", upper_snake(&service_name))
                };
                let mut candidate = base.clone();
                let mut n = 2;
                while used_variables.contains(&candidate)
                    || convention_vars.contains_key(&candidate)
                {
                    candidate = format!("{base}_{n}");
                    n += 1;
                }
                port.env = Some(candidate.clone());
                port.proposed = true;
                convention_vars.insert(candidate, service_name.clone());
            }
        }
    }

    // 5. A port published by more than one entry of the tree (at the final
    //    ports) is assigned to none of them: which one owns it is a human's
    //    call, and migrate would refuse a target another service publishes.
    let mut publishers: BTreeMap<(u16, Protocol), Vec<String>> = BTreeMap::new();
    for s in &services {
        for port in &s.ports {
            publishers
                .entry((port.new, port.protocol))
                .or_default()
                .push(s.name.clone());
        }
    }
    // Ranges (not recorded) cover ports too: counted per port through a
    // difference array, whatever their number.
    let mut covered: BTreeMap<Protocol, Vec<i64>> = BTreeMap::new();
    for (claim, range) in scan.published() {
        if range.len() > 1 {
            let delta = covered
                .entry(claim.mapping.protocol)
                .or_insert_with(|| vec![0; usize::from(u16::MAX) + 2]);
            if let Some(d) = delta.get_mut(usize::from(range.start())) {
                *d += 1;
            }
            if let Some(d) = delta.get_mut(usize::from(range.end()) + 1) {
                *d -= 1;
            }
        }
    }
    for delta in covered.values_mut() {
        let mut depth = 0;
        for d in delta.iter_mut() {
            depth += *d;
            *d = depth;
        }
    }
    for s in &mut services {
        for port in &mut s.ports {
            let others: Vec<&String> = publishers
                .get(&(port.new, port.protocol))
                .into_iter()
                .flatten()
                .filter(|n| **n != s.name)
                .collect();
            let in_range = covered
                .get(&port.protocol)
                .and_then(|d| d.get(usize::from(port.new)))
                .is_some_and(|n| *n > 0);
            if others.is_empty() && !in_range {
                continue;
            }
            let mut names: Vec<String> = others.iter().take(5).map(|n| (*n).clone()).collect();
            if others.len() > 5 {
                names.push(format!("{} more", others.len() - 5));
            }
            if in_range {
                names.push("a published port range".to_owned());
            }
            port.duplicate_of = Some(names.join(", "));
            if let Some(env) = port.env.take()
                && convention_vars.get(&env) == Some(&s.name)
            {
                convention_vars.remove(&env);
            }
        }
    }

    // 6. Alternatives: files of one compose project name defining the same
    //    services, which clash (proposed, commented).
    let mut alternatives: Vec<(String, Vec<String>)> = Vec::new();
    {
        let mut by_name: BTreeMap<&str, Vec<&crate::project::Project>> = BTreeMap::new();
        for p in &scan.projects.projects {
            if p.kind == crate::project::ProjectKind::File {
                by_name.entry(p.name.as_str()).or_default().push(p);
            }
        }
        for (name, projects) in by_name {
            let [first, rest @ ..] = projects.as_slice() else {
                continue;
            };
            let first_services: BTreeSet<&str> =
                first.services.iter().map(|s| s.name.as_str()).collect();
            let mut group: Vec<String> = first.files.clone();
            for other in rest {
                let shared = other
                    .services
                    .iter()
                    .filter(|s| first_services.contains(s.name.as_str()))
                    .count();
                if shared * 2 >= other.services.len().max(1) {
                    group.extend(other.files.iter().cloned());
                }
            }
            if group.len() > 1 {
                alternatives.push((name.to_owned(), group));
            }
        }
    }

    // 7. One host: every project whose ports clash with none already on it.
    let final_port: BTreeMap<(&str, u32, u32), u16> = services
        .iter()
        .flat_map(|s| s.ports.iter())
        .map(|p| ((p.place.0.as_str(), p.place.1, p.place.2), p.new))
        .collect();
    let mut host_projects: Vec<String> = Vec::new();
    let mut not_placed: Vec<String> = Vec::new();
    {
        // What the host holds: single ports indexed, ranges (rare) listed.
        type Place = (String, u32, u32);
        type Holders = Vec<(crate::HostIp, Place, String)>;
        let mut singles: BTreeMap<(Protocol, u16), Holders> = BTreeMap::new();
        let mut spans: Vec<(Protocol, PortRange, crate::HostIp, Place, String)> = Vec::new();
        for project in &scan.projects.projects {
            if let Some(err) = &project.error {
                not_placed.push(format!(
                    "{}: cannot be loaded ({})",
                    project.id, err.message
                ));
                continue;
            }
            let mut mine: Vec<(Protocol, PortRange, crate::HostIp, Place)> = Vec::new();
            for service in project.active_services() {
                for claim in &service.claims {
                    let Some(range) = claim.host_range() else {
                        continue;
                    };
                    if range.start() == 0 {
                        continue;
                    }
                    let range = match final_port.get(&(
                        claim.location.file.as_str(),
                        claim.location.line,
                        claim.location.column,
                    )) {
                        Some(&new) if range.len() == 1 => PortRange::single(new),
                        _ => range,
                    };
                    let place = (
                        claim.location.file.clone(),
                        claim.location.line,
                        claim.location.column,
                    );
                    mine.push((claim.mapping.protocol, range, claim.mapping.host_ip, place));
                }
            }
            let clash = mine.iter().find_map(|(protocol, range, ip, place)| {
                let single = singles
                    .range((*protocol, range.start())..=(*protocol, range.end()))
                    .find_map(|((_, port), list)| {
                        list.iter()
                            .find(|(oip, oplace, _)| oip.overlaps(ip) && oplace != place)
                            .map(|(_, _, other)| (*port, other.clone()))
                    });
                single
                    .or_else(|| {
                        spans
                            .iter()
                            .find(|(p, r, oip, oplace, _)| {
                                p == protocol
                                    && r.overlaps(range)
                                    && oip.overlaps(ip)
                                    && oplace != place
                            })
                            .map(|(_, r, _, _, other)| {
                                (r.start().max(range.start()), other.clone())
                            })
                    })
                    .map(|(port, other)| (port, *protocol, other))
            });
            match clash {
                Some((port, protocol, other)) => not_placed.push(format!(
                    "{}: {port}/{protocol} clashes with {other}",
                    project.id
                )),
                None => {
                    for (protocol, range, ip, place) in mine {
                        if range.len() == 1 {
                            singles.entry((protocol, range.start())).or_default().push((
                                ip,
                                place,
                                project.id.clone(),
                            ));
                        } else {
                            spans.push((protocol, range, ip, place, project.id.clone()));
                        }
                    }
                    host_projects.push(project.id.clone());
                }
            }
        }
    }

    // 8. The text.
    let root_name = options
        .name
        .clone()
        .unwrap_or_else(|| tree.root_name.clone());
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# The host-port convention of this repository, written by `port-convention init`"
    );
    let _ = writeln!(
        out,
        "# from the tree as it was. Read every `# decide:` comment, then:"
    );
    let _ = writeln!(
        out,
        "#   port-convention check --convention-only -c ports.yaml"
    );
    if protecting {
        let _ = writeln!(
            out,
            "#   port-convention migrate plan -c ports.yaml .   # move the services given new ports"
        );
    }
    let _ = writeln!(out, "version: 1.0.0");
    if !root_name.is_empty() {
        let _ = writeln!(out, "name: {}", scalar(&root_name));
    }
    let _ = writeln!(out, "requires: \">={}\"", crate::TOOL_VERSION);
    if !ranges_yaml.is_empty() {
        let _ = writeln!(out, "\nranges:");
        out.push_str(&ranges_yaml);
    }
    let _ = writeln!(out, "\nservices:");
    let mut rows = Vec::new();
    let mut any_service = false;
    for s in &services {
        let assigned: Vec<&PortEntry> = s
            .ports
            .iter()
            .filter(|p| p.duplicate_of.is_none() && p.reserved_in.is_none())
            .collect();
        for p in &s.ports {
            rows.push(AdoptionRow {
                service: s.name.clone(),
                compose_service: s.compose_service.clone(),
                file: s.file.clone(),
                kind: s.kind,
                engine: s.engine.map(str::to_owned),
                port_name: p.name.clone(),
                old: p.old,
                new: p.new,
                range: s.range.clone(),
                variable: p.env.clone(),
                proposed_variable: p.proposed,
                assigned: p.duplicate_of.is_none() && p.reserved_in.is_none(),
            });
        }
        for p in s.ports.iter().filter(|p| p.duplicate_of.is_some()) {
            let owner = p.duplicate_of.as_deref().unwrap_or("");
            let text = format!(
                "decide: {} ({}) publishes {}/{}, and so does {owner}: assigned to none of them; if they never run together, declare their files `alternatives`, else move all but one (`port-convention assign {} --range RANGE`), then assign the port",
                s.name, s.file, p.old, p.protocol, s.name
            );
            notes.push(text);
        }
        let header_comments: Vec<String> = s.comments.iter().map(|c| comment_text(c)).collect();
        if assigned.is_empty() {
            let _ = writeln!(
                out,
                "  # {} ({}, service {}): none of its ports can be assigned",
                comment_text(&s.name),
                comment_text(&s.file),
                comment_text(&s.compose_service)
            );
            for p in &s.ports {
                let why = match (&p.reserved_in, &p.duplicate_of) {
                    (Some(range), _) => format!("{} is in reserved range {range}", p.old),
                    (None, owner) => format!(
                        "{} is also published by {}",
                        p.old,
                        owner.as_deref().unwrap_or("")
                    ),
                };
                let _ = writeln!(
                    out,
                    "  #   {}: {{ port: {}, container: {} }}   # decide: {}",
                    comment_text(&p.name),
                    p.old,
                    p.container,
                    comment_text(&why)
                );
            }
            continue;
        }
        any_service = true;
        for c in &header_comments {
            let _ = writeln!(out, "  # {c}");
        }
        let _ = writeln!(out, "  {}:", scalar(&s.name));
        if let Some(range) = &s.range {
            let _ = writeln!(out, "    range: {}", scalar(range));
        }
        let mut what = Vec::new();
        if s.kind != Kind::Other {
            what.push(s.kind.as_str().to_owned());
        }
        if let Some(e) = s.engine {
            what.push(e.to_owned());
        }
        if let Some(image) = &s.image {
            what.push(format!("image {}", image_name(image)));
        }
        if !what.is_empty() {
            let _ = writeln!(out, "    description: {}", scalar(&what.join(", ")));
        }
        if let Some(base) = &s.replica_of {
            let _ = writeln!(out, "    replica_of: {}", scalar(base));
        }
        if s.name == s.compose_service {
            let _ = writeln!(out, "    compose: {{ file: {} }}", scalar(&s.file));
        } else {
            let _ = writeln!(
                out,
                "    compose: {{ service: {}, file: {} }}",
                scalar(&s.compose_service),
                scalar(&s.file)
            );
        }
        let _ = writeln!(out, "    ports:");
        for p in &s.ports {
            for c in &p.comments {
                let _ = writeln!(out, "      # {}", comment_text(c));
            }
            if let Some(range) = &p.reserved_in {
                let _ = writeln!(
                    out,
                    "      # {}: {{ port: {}, container: {} }}   # decide: {} is in reserved range {}",
                    comment_text(&p.name),
                    p.old,
                    p.container,
                    p.old,
                    comment_text(range)
                );
                continue;
            }
            if let Some(owner) = &p.duplicate_of {
                let _ = writeln!(
                    out,
                    "      # {}: {{ port: {}, container: {} }}   # decide: {} is also published by {}",
                    comment_text(&p.name),
                    p.old,
                    p.container,
                    p.old,
                    comment_text(owner)
                );
                continue;
            }
            let mut fields = vec![format!("port: {}", p.new)];
            if let Some(env) = &p.env {
                fields.push(format!("env: {}", scalar(env)));
            }
            fields.push(format!("container: {}", p.container));
            if p.new != p.old {
                fields.push(format!("legacy: {}", p.old));
            }
            if p.protocol != Protocol::Tcp {
                fields.push(format!("protocol: {}", p.protocol));
            }
            let trailer = if p.proposed {
                "   # proposed variable: no file uses it yet (`migrate plan --use-env-vars` writes it)"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "      {}: {{ {} }}{trailer}",
                scalar(&p.name),
                fields.join(", ")
            );
        }
    }
    if !any_service {
        out.push_str("  {}\n");
    }
    if !host_projects.is_empty() {
        let _ = writeln!(out, "\nhosts:");
        let _ = writeln!(
            out,
            "  # decide: one machine running every project listed; ports of projects on one"
        );
        let _ = writeln!(
            out,
            "  # host clash as errors. init put here each project whose ports clash with none"
        );
        let _ = writeln!(
            out,
            "  # already listed; split or rename as your machines really are."
        );
        let _ = writeln!(out, "  main:");
        let _ = writeln!(out, "    projects:");
        for p in &host_projects {
            let _ = writeln!(out, "      - {}", scalar(p));
        }
        if !not_placed.is_empty() {
            let _ = writeln!(
                out,
                "    # not placed (its ports clash with a project above):"
            );
            for n in &not_placed {
                let _ = writeln!(out, "    #   {}", comment_text(n));
            }
        }
    }
    for n in &not_placed {
        notes.push(format!("not placed on host main: {n}"));
    }
    if !alternatives.is_empty() {
        let _ = writeln!(
            out,
            "\n# decide: these files load one compose project name each and define the same"
        );
        let _ = writeln!(
            out,
            "# services; if they are variants that never run together, uncomment:"
        );
        let _ = writeln!(out, "# alternatives:");
        for (name, files) in &alternatives {
            let list: Vec<String> = files.iter().map(|f| scalar(f)).collect();
            let _ = writeln!(
                out,
                "#   {}: [{}]",
                comment_text(&scalar(name)),
                comment_text(&list.join(", "))
            );
            notes.push(format!(
                "decide: {} look like variants of one stack (project name {name}); declare them `alternatives` if they never run together",
                files.join(", ")
            ));
        }
    }
    notes.extend(skipped);
    for s in &services {
        for c in s
            .comments
            .iter()
            .chain(s.ports.iter().flat_map(|p| p.comments.iter()))
        {
            if c.starts_with("decide:") && !notes.contains(c) {
                notes.push(format!("{}: {c}", s.name));
            }
        }
    }

    // 9. The text must be a sound convention.
    let convention =
        Convention::from_yaml("ports.yaml", &out).map_err(|err| Error::InvalidArgument {
            message: format!(
                "init wrote a convention that does not load ({err}); please report this"
            ),
        })?;
    let errors: Vec<String> = validate_convention(&convention)
        .into_iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| format!("{}: {}", f.rule.id(), f.message))
        .collect();
    if !errors.is_empty() {
        return Err(Error::InvalidArgument {
            message: format!(
                "init wrote a convention with errors ({}); please report this",
                errors.join("; ")
            ),
        });
    }
    Ok(Proposal {
        text: out,
        rows,
        notes,
    })
}

/// A compose service name made safe for a convention key.
fn sanitize(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let cleaned = cleaned.trim_matches('-');
    if cleaned
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic())
    {
        cleaned.to_owned()
    } else {
        format!("service-{cleaned}")
    }
}

/// The summary table: service, kind, old port -> new port, variable.
pub fn summary_table(rows: &[AdoptionRow]) -> String {
    let cells: Vec<[String; 5]> = rows
        .iter()
        .map(|r| {
            let kind = match &r.engine {
                Some(e) => format!("{} ({e})", r.kind.as_str()),
                None => r.kind.as_str().to_owned(),
            };
            let change = if !r.assigned {
                format!("{} (not assigned: decide)", r.old)
            } else if r.old == r.new {
                r.old.to_string()
            } else {
                format!("{} -> {}", r.old, r.new)
            };
            let variable = match (&r.variable, r.proposed_variable) {
                (Some(v), true) => format!("{v} (proposed)"),
                (Some(v), false) => v.clone(),
                (None, _) => "-".to_owned(),
            };
            [
                crate::report::escape_text(&r.service),
                crate::report::escape_text(&r.port_name),
                kind,
                change,
                crate::report::escape_text(&variable),
            ]
        })
        .collect();
    crate::report::render_table(
        &["SERVICE", "PORT", "KIND", "OLD -> NEW", "VARIABLE"],
        &cells,
    )
}

/// One port `assign` gave a new value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reassigned {
    /// The port's name.
    pub port_name: String,
    /// Its port before (`None`: the port or the service is new).
    pub old: Option<u16>,
    /// Its port now.
    pub new: u16,
}

/// What [`assign_in_text`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AssignOutcome {
    /// The convention's new text: the old one with only the edited values
    /// changed (or one service block appended).
    pub text: String,
    /// Every port that changed (empty: already in the range, nothing to do).
    pub changes: Vec<Reassigned>,
    /// Whether `range:` was set or changed.
    pub range_changed: bool,
    /// Whether the service was added to the convention.
    pub added: bool,
}

impl AssignOutcome {
    /// Whether the convention's text changed.
    pub fn text_changed(&self) -> bool {
        !self.changes.is_empty() || self.range_changed
    }
}

/// A published port of the tree for a service the convention does not
/// declare yet: what [`assign_in_text`] writes for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreePort {
    /// The compose file.
    pub file: String,
    /// The container port.
    pub container: u16,
    /// The protocol.
    pub protocol: Protocol,
    /// The variable the file reads the port from.
    pub variable: Option<String>,
}

/// Gives `service` the lowest free ports of `range` by editing the
/// convention's `text` in place: only the `port:` values (and `range:`) of
/// the service change, every other byte is kept (comments, order, quoting).
/// A port already inside the range keeps its value. `port_name` limits the
/// change to one port. A service the convention does not declare, but the
/// tree publishes (`tree_ports`), is appended to `services:` (block style
/// only). `is_claimed` says which ports the tree already publishes (besides
/// this service); allocation is [`crate::allocate_with`]'s.
///
/// ```
/// use port_convention::{Convention, adopt::assign_in_text};
/// let text = "version: 1.0.0
/// ranges:
///   web: { ports: 3000-3099 }
/// services:
///   api:   # the API
///     ports:
///       http: { port: 8080, container: 80 }   # keep me
/// ";
/// let convention = Convention::from_yaml("ports.yaml", text)?;
/// let out = assign_in_text(text, &convention, "api", "web", None, &[], &|p| p == 3000)?;
/// assert_eq!(out.changes[0].new, 3001);
/// assert_eq!(out.text, text.replace("    ports:", "    range: web\n    ports:").replace("8080", "3001"));
/// # Ok::<(), port_convention::Error>(())
/// ```
///
/// # Errors
///
/// - [`Error::UnknownRange`], [`Error::RangeFull`] from allocation;
/// - [`Error::InvalidArgument`]: no such service (in the convention or the
///   tree), no such port name, a value reached through a YAML alias, a
///   layout it cannot edit without rewriting the file;
/// - [`Error::YamlSyntax`] / [`Error::InvalidConvention`] for a broken text.
pub fn assign_in_text(
    text: &str,
    convention: &Convention,
    service: &str,
    range: &str,
    port_name: Option<&str>,
    tree_ports: &[TreePort],
    is_claimed: &dyn Fn(u16) -> bool,
) -> Result<AssignOutcome, Error> {
    let invalid = |message: String| Error::InvalidArgument { message };
    let def = convention.range(range).ok_or_else(|| Error::UnknownRange {
        name: range.to_owned(),
        known: convention.range_names(),
    })?;
    if def.reserved {
        return Err(invalid(format!(
            "range {range} is reserved: nobody may be assigned a port there"
        )));
    }
    let document = crate::yaml::parse(&convention.file, text)?;
    let services = document.get("services");
    let Some(declared) = convention.service(service) else {
        return append_service(
            text, convention, services, service, range, port_name, tree_ports, is_claimed,
        );
    };
    let node = services
        .and_then(|s| s.as_map())
        .and_then(|m| {
            m.iter()
                .find(|(k, _)| k.scalar_text().as_deref() == Some(service))
        })
        .map(|(_, v)| v)
        .ok_or_else(|| invalid(format!("service {service} is not a key of `services:`")))?;
    if !node.place.is_literal() {
        return Err(invalid(format!(
            "service {service} is reached through a YAML alias; edit the anchor by hand"
        )));
    }
    let wanted: Vec<&crate::PortAssignment> = declared
        .ports
        .iter()
        .filter(|p| port_name.is_none_or(|n| n == p.name))
        .collect();
    if wanted.is_empty() {
        return Err(invalid(match port_name {
            Some(n) => format!(
                "service {service} has no port named {n} (it has: {})",
                declared
                    .ports
                    .iter()
                    .map(|p| p.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            None => format!("service {service} has no ports to assign"),
        }));
    }
    // The service's own ports are not "in use" for it; those it keeps
    // (already in the range, or not asked for) are.
    let keep: BTreeSet<u16> = declared
        .ports
        .iter()
        .filter(|p| port_name.is_some_and(|n| n != p.name) || def.ports.contains(p.port))
        .map(|p| p.port)
        .collect();
    let moving: Vec<&&crate::PortAssignment> = wanted
        .iter()
        .filter(|p| !def.ports.contains(p.port))
        .collect();
    let own: BTreeSet<u16> = declared.ports.iter().map(|p| p.port).collect();
    let mut edits: Vec<(std::ops::Range<usize>, String)> = Vec::new();
    let mut changes = Vec::new();
    if !moving.is_empty() {
        let count = moving.len();
        // Its own moving ports are assigned in the convention: allocation
        // would skip them, which is right (they are about to be freed, but a
        // migration needs old and new apart).
        let claimed = |p: u16| keep.contains(&p) || (!own.contains(&p) && is_claimed(p));
        let ports = crate::allocate_with(convention, range, count, &claimed)?;
        let ports_node = node
            .get("ports")
            .ok_or_else(|| invalid(format!("service {service} has no `ports:`")))?;
        for (assignment, new) in moving.iter().zip(ports) {
            let value = ports_node
                .as_map()
                .and_then(|m| {
                    m.iter()
                        .find(|(k, _)| k.scalar_text().as_deref() == Some(assignment.name.as_str()))
                })
                .and_then(|(_, v)| v.get("port"))
                .ok_or_else(|| {
                    invalid(format!(
                        "port {} of {service} has no `port:` value to edit",
                        assignment.name
                    ))
                })?;
            if !value.place.is_literal() {
                return Err(invalid(format!(
                    "port {} of {service} is reached through a YAML alias; edit the anchor by hand",
                    assignment.name
                )));
            }
            let span = value.place.span.clone();
            let written = text.get(span.clone()).unwrap_or("");
            let bare = written.trim_matches(|c| c == '"' || c == '\'');
            if bare.parse::<u16>().ok() != Some(assignment.port) {
                return Err(invalid(format!(
                    "port {} of {service} is written as {written:?}; edit it by hand",
                    assignment.name
                )));
            }
            edits.push((span, new.to_string()));
            changes.push(Reassigned {
                port_name: assignment.name.clone(),
                old: Some(assignment.port),
                new,
            });
        }
    }
    let mut range_changed = false;
    if declared.range.as_deref() != Some(range) {
        range_changed = true;
        match node.get("range") {
            Some(value) if value.place.is_literal() => {
                edits.push((value.place.span.clone(), scalar(range)));
            }
            Some(_) => {
                return Err(invalid(format!(
                    "range of {service} is reached through a YAML alias; edit it by hand"
                )));
            }
            None => edits.push(insert_key(
                text,
                node,
                &format!("range: {}", scalar(range)),
            )?),
        }
    }
    edits.sort_by_key(|(span, _)| std::cmp::Reverse(span.start));
    let mut out = text.to_owned();
    for (span, replacement) in edits {
        if out.get(span.clone()).is_none() {
            return Err(invalid(
                "a span of the convention is not on a character boundary".into(),
            ));
        }
        out.replace_range(span, &replacement);
    }
    Ok(AssignOutcome {
        text: out,
        changes,
        range_changed,
        added: false,
    })
}

/// Where to insert `key: value` as the first key of the mapping `node`:
/// before its first key, with its indentation (block style) or `, `
/// (flow style).
fn insert_key(
    text: &str,
    node: &crate::yaml::Node,
    entry: &str,
) -> Result<(std::ops::Range<usize>, String), Error> {
    let invalid = |message: &str| Error::InvalidArgument {
        message: message.to_owned(),
    };
    let first = node
        .as_map()
        .and_then(|m| m.first())
        .map(|(k, _)| k)
        .ok_or_else(|| invalid("the service is not a mapping with keys; edit it by hand"))?;
    let at = first.place.span.start;
    let line_start = text
        .get(..at)
        .and_then(|t| t.rfind('\n'))
        .map_or(0, |i| i + 1);
    let before = text.get(line_start..at).unwrap_or("");
    let flow = text
        .get(node.place.span.start..)
        .is_some_and(|t| t.starts_with('{'));
    if flow {
        Ok((at..at, format!("{entry}, ")))
    } else if before.chars().all(|c| c == ' ') {
        Ok((at..at, format!("{entry}{}{before}", line_ending(text))))
    } else {
        Err(invalid(
            "the service's first key does not start its line; edit it by hand",
        ))
    }
}

/// [`assign_in_text`] for a service the convention does not declare: a
/// block appended at the end of `services:`.
#[allow(clippy::too_many_arguments)]
fn append_service(
    text: &str,
    convention: &Convention,
    services: Option<&crate::yaml::Node>,
    service: &str,
    range: &str,
    port_name: Option<&str>,
    tree_ports: &[TreePort],
    is_claimed: &dyn Fn(u16) -> bool,
) -> Result<AssignOutcome, Error> {
    let invalid = |message: String| Error::InvalidArgument { message };
    if tree_ports.is_empty() {
        return Err(invalid(format!(
            "no service {service} in the convention, and no compose service of that name publishes a port in the tree"
        )));
    }
    let files: BTreeSet<&str> = tree_ports.iter().map(|p| p.file.as_str()).collect();
    if files.len() > 1 {
        return Err(invalid(format!(
            "compose service {service} is defined in {}; declare it in ports.yaml with `compose: {{ file: ... }}` first",
            files.into_iter().collect::<Vec<_>>().join(", ")
        )));
    }
    let wanted: Vec<(String, &TreePort)> = {
        let mut named: Vec<(String, &TreePort)> = Vec::new();
        for p in tree_ports {
            let mut name = port_name
                .map(str::to_owned)
                .unwrap_or_else(|| port_name_for(p.container));
            if p.protocol != Protocol::Tcp {
                name = format!("{name}-{}", p.protocol);
            }
            let base = name.clone();
            let mut n = 2;
            while named.iter().any(|(x, _)| *x == name) {
                name = format!("{base}-{n}");
                n += 1;
            }
            named.push((name, p));
        }
        if port_name.is_some() && named.len() > 1 {
            return Err(invalid(format!(
                "{service} publishes {} ports; a port name names one, so add the service to ports.yaml by hand",
                named.len()
            )));
        }
        named
    };
    let ports = crate::allocate_with(convention, range, wanted.len(), is_claimed)?;
    // The end of `services:`: the end of the file's last line of it, when
    // it is a block mapping that ends the document or is followed by
    // another top-level key.
    let Some(services) = services.filter(|s| s.as_map().is_some_and(|m| !m.is_empty())) else {
        return Err(invalid(
            "`services:` is missing or empty; add the service by hand".into(),
        ));
    };
    let flow = text
        .get(services.place.span.start..)
        .is_some_and(|t| t.starts_with('{'));
    if flow {
        return Err(invalid(
            "`services:` is written in flow style ({ ... }); add the service by hand".into(),
        ));
    }
    let indent = services
        .as_map()
        .and_then(|m| m.first())
        .map(|(k, _)| {
            let at = k.place.span.start;
            let line_start = text
                .get(..at)
                .and_then(|t| t.rfind('\n'))
                .map_or(0, |i| i + 1);
            at - line_start
        })
        .unwrap_or(2);
    let end = last_end(text, services);
    // Insert after the line the mapping ends on.
    let insert_at = text
        .get(end..)
        .and_then(|t| t.find('\n'))
        .map_or(text.len(), |i| end + i + 1);
    let pad = " ".repeat(indent);
    let file = tree_ports
        .first()
        .map(|p| p.file.clone())
        .unwrap_or_default();
    let mut block = String::new();
    if insert_at == text.len() && !text.ends_with('\n') {
        block.push('\n');
    }
    let _ = writeln!(block, "{pad}{}:", scalar(service));
    let _ = writeln!(block, "{pad}  range: {}", scalar(range));
    let _ = writeln!(block, "{pad}  compose: {{ file: {} }}", scalar(&file));
    let _ = writeln!(block, "{pad}  ports:");
    let mut changes = Vec::new();
    for ((name, p), new) in wanted.iter().zip(ports) {
        let mut fields = vec![format!("port: {new}")];
        if let Some(v) = &p.variable {
            fields.push(format!("env: {}", scalar(v)));
        }
        fields.push(format!("container: {}", p.container));
        if p.protocol != Protocol::Tcp {
            fields.push(format!("protocol: {}", p.protocol));
        }
        let _ = writeln!(
            block,
            "{pad}    {}: {{ {} }}",
            scalar(name),
            fields.join(", ")
        );
        changes.push(Reassigned {
            port_name: name.clone(),
            old: None,
            new,
        });
    }
    let mut out = text.to_owned();
    // The file's own line endings.
    let block = if line_ending(text) == "\r\n" {
        block.replace('\n', "\r\n")
    } else {
        block
    };
    out.insert_str(insert_at, &block);
    Ok(AssignOutcome {
        text: out,
        changes,
        range_changed: true,
        added: true,
    })
}

/// Where the text of a block node ends: the end of its last descendant (a
/// block mapping's own span may reach into what follows it), or of the
/// whole node for a scalar or a flow collection.
fn last_end(text: &str, node: &crate::yaml::Node) -> usize {
    let flow = text
        .get(node.place.span.start..)
        .is_some_and(|t| t.starts_with('{') || t.starts_with('['));
    if flow {
        return node.place.span.end;
    }
    // Iterative: nesting is bounded by the parser, but no recursion is needed.
    let mut current = node;
    loop {
        let next = match &current.kind {
            crate::yaml::NodeKind::Map(m) => m.last().map(|(_, v)| v),
            crate::yaml::NodeKind::Seq(items) => items.last(),
            _ => None,
        };
        match next {
            Some(child)
                if !text
                    .get(child.place.span.start..)
                    .is_some_and(|t| t.starts_with('{') || t.starts_with('[')) =>
            {
                current = child;
            }
            Some(child) => return child.place.span.end,
            None => return current.place.span.end,
        }
    }
}

/// The line ending a text uses (CRLF when its first line ends so).
fn line_ending(text: &str) -> &'static str {
    match text.find('\n') {
        Some(i) if i > 0 && text.as_bytes().get(i - 1) == Some(&b'\r') => "\r\n",
        _ => "\n",
    }
}

/// A port name from a container port alone (no engine known).
fn port_name_for(container: u16) -> String {
    port_name(None, Kind::Other, container, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_named_without_registry_or_tag() {
        assert_eq!(
            image_name("ghcr.io/joeferner/redis-commander:latest"),
            "joeferner/redis-commander"
        );
        assert_eq!(image_name("localhost:5000/pg:15"), "pg");
        assert_eq!(image_name("Postgres@sha256:abc"), "postgres");
        assert_eq!(
            image_name("timescale/timescaledb:latest-pg16"),
            "timescale/timescaledb"
        );
    }

    #[test]
    fn classification_by_image_then_name() {
        let cases: &[(&str, Option<&str>, Kind, Option<&str>)] = &[
            ("x", Some("mariadb:11"), Kind::Database, Some("mysql")),
            ("x", Some("mongo:7"), Kind::Database, Some("mongodb")),
            ("x", Some("qdrant/qdrant"), Kind::Database, Some("qdrant")),
            (
                "x",
                Some("questdb/questdb"),
                Kind::Database,
                Some("questdb"),
            ),
            (
                "x",
                Some("clickhouse/clickhouse-server"),
                Kind::Database,
                Some("clickhouse"),
            ),
            (
                "x",
                Some("opensearchproject/opensearch:2"),
                Kind::Database,
                Some("elasticsearch"),
            ),
            ("x", Some("valkey/valkey"), Kind::Database, Some("redis")),
            ("x", Some("adminer"), Kind::DatabaseUi, None),
            ("x", Some("sosedoff/pgweb"), Kind::DatabaseUi, None),
            ("redis-commander", None, Kind::DatabaseUi, None),
            ("x", Some("oliver006/redis_exporter"), Kind::Exporter, None),
            ("x", Some("prom/mysqld-exporter"), Kind::Exporter, None),
            ("x", Some("prom/node-exporter"), Kind::Other, None),
            ("x", Some("edoburu/pgbouncer"), Kind::Other, None),
            ("postgres", None, Kind::Database, Some("postgresql")),
            ("postgres", Some("nginx"), Kind::Other, None),
        ];
        for (service, image, kind, engine) in cases {
            assert_eq!(
                classify(service, *image),
                (*kind, *engine),
                "{service} {image:?}"
            );
        }
    }

    #[test]
    fn the_layout_scales_the_intended_one() {
        let p: Protect = "db=7000-7999".parse().unwrap();
        let l: Vec<String> = layout(&p)
            .iter()
            .map(|(n, r, _, reserved)| format!("{n} {r} {reserved}"))
            .collect();
        assert_eq!(
            l,
            [
                "primary-databases 7000-7099 false",
                "database-uis 7100-7199 false",
                "exporters 7200-7299 false",
                "replication 7300-7999 true"
            ]
        );
        let small: Protect = "db=100-119".parse().unwrap();
        assert_eq!(layout(&small).len(), 4);
        assert_eq!(layout(&"db=1-9".parse().unwrap()).len(), 0);
        assert!("db=0-10".parse::<Protect>().is_err());
        assert!("9db=1-10".parse::<Protect>().is_err());
    }

    #[test]
    fn names_and_scalars() {
        assert_eq!(
            file_stem("tools/compose/docker-compose.apps.prod.yml"),
            "apps-prod"
        );
        assert_eq!(
            file_stem("apps/tp-capital/docker-compose.yml"),
            "tp-capital"
        );
        assert_eq!(file_stem("compose.yaml"), "root");
        assert_eq!(upper_snake("postgress-langgraph"), "POSTGRESS_LANGGRAPH");
        assert_eq!(upper_snake("7up"), "P7UP");
        for text in ["plain", "true", "7", "a: b", "#x", "x\ny", "", "é", "\"q\""] {
            let yaml = format!("k: {}\n", scalar(text));
            let node = crate::yaml::parse("t", &yaml).unwrap();
            let value = node.get("k").unwrap();
            assert!(
                matches!(&value.kind, crate::yaml::NodeKind::Str(s) if s == text)
                    || (text == "plain"),
                "{text:?} -> {yaml:?}"
            );
        }
        assert_eq!(comment_text("a\nb\u{1b}c"), "a b c");
    }

    proptest::proptest! {
        /// Whatever the comments, quoting and style around it, `assign`
        /// changes the port value and the range and not one other byte.
        #[test]
        fn assign_changes_only_the_values(
            c1 in "[a-zA-Z #:!{}-]{0,20}",
            c2 in "[a-zA-Z #:!{}-]{0,20}",
            c3 in "[a-zA-Z #:!{}-]{0,20}",
            c4 in "[a-zA-Z #:!{}-]{0,20}",
            flow in proptest::bool::ANY,
            quote in 0usize..3,
            has_range in proptest::bool::ANY,
            crlf in proptest::bool::ANY,
        ) {
            let q = ["", "\"", "'"][quote];
            let template = |port: &str, range: Option<&str>| {
                let range_line = range.map(|r| format!("    range: {r}\n")).unwrap_or_default();
                let entry = if flow {
                    format!("      http: {{ port: {port}, container: 80 }}  # {c4}\n")
                } else {
                    format!("      http:\n        port: {port}   # {c4}\n        container: 80\n")
                };
                let text = format!(
                    "# {c1}\nversion: 1.0.0\nranges:\n  web: {{ ports: 3000-3099 }}  # {c2}\n  other: {{ ports: 8000-8099 }}\nservices:\n  svc:   # {c3}\n{range_line}    ports:\n{entry}"
                );
                if crlf { text.replace('\n', "\r\n") } else { text }
            };
            let input = template(&format!("{q}8080{q}"), has_range.then_some("other"));
            let convention = Convention::from_yaml("ports.yaml", &input).unwrap();
            let out = assign_in_text(&input, &convention, "svc", "web", None, &[], &|_| false).unwrap();
            proptest::prop_assert_eq!(out.text, template("3000", Some("web")));
        }
    }
}
