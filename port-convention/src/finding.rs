//! `Finding`: one problem found in a convention, a compose file, a `.env`
//! file or an environment, with its rule, place and suggested fix.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{Location, Protocol};

/// How bad a finding is.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; does not fail a check.
    Warning,
    /// Fails a check (exit code 1).
    Error,
}

impl Severity {
    /// `"warning"` or `"error"`.
    pub const fn as_str(&self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a rule looks at: the part of a repository (or of the machine) its
/// findings are about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Subject {
    /// The convention file (`ports.yaml`) itself.
    Convention,
    /// Compose files checked against the convention.
    Compose,
    /// `.env` files.
    EnvFile,
    /// Environment values programs read their ports from (`load_ports`).
    Environment,
    /// This machine's sockets and containers (`check --live`).
    Live,
    /// Ports written in source code and other configuration files
    /// (`check` scans them: `source:` in `ports.yaml`).
    Source,
}

impl Subject {
    /// Every subject, in the order the docs list them.
    pub const ALL: &'static [Subject] = &[
        Subject::Convention,
        Subject::Compose,
        Subject::EnvFile,
        Subject::Environment,
        Subject::Live,
        Subject::Source,
    ];

    /// The kebab-case name: `convention`, `compose`, `env-file`,
    /// `environment`, `live` or `source`.
    pub const fn as_str(&self) -> &'static str {
        match self {
            Subject::Convention => "convention",
            Subject::Compose => "compose",
            Subject::EnvFile => "env-file",
            Subject::Environment => "environment",
            Subject::Live => "live",
            Subject::Source => "source",
        }
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything documented about a rule, as data: what `port-convention
/// explain`, `docs/rules.md`, SARIF and the bindings show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RuleDoc {
    /// The stable kebab-case id.
    pub id: &'static str,
    /// The severity of its findings.
    pub severity: Severity,
    /// What it looks at.
    pub subject: Subject,
    /// One sentence.
    pub summary: &'static str,
    /// What it finds and why that matters.
    pub explanation: &'static str,
    /// How to fix a finding.
    pub fix: &'static str,
    /// A short snippet that breaks the rule.
    pub example: &'static str,
    /// The version of port-convention that introduced it.
    pub since: &'static str,
}

/// The base of the rules' documentation; each rule's section is at
/// `#` + its id ([`Rule::help_uri`]).
pub const RULES_DOC_URL: &str =
    "https://github.com/port-convention/port-convention/blob/main/docs/rules.md";

/// Declares every rule once: its id, severity, subject, summary (also its
/// doc comment), explanation, fix, example and version. Everything else
/// (`report::rule_description`, SARIF rule metadata, `docs/rules.md`,
/// `port-convention explain`) is derived from these fields.
macro_rules! rules {
    ($(
        $variant:ident {
            id: $id:literal,
            severity: $severity:ident,
            subject: $subject:ident,
            summary: $summary:literal,
            explanation: $explanation:literal,
            fix: $fix:literal,
            example: $example:literal,
            since: $since:literal $(,)?
        }
    )*) => {
        /// The rule a finding breaks. Each has a stable kebab-case id
        /// ([`Rule::id`]) that never changes meaning once released.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[non_exhaustive]
        pub enum Rule {
            $(
                #[doc = $summary]
                #[doc = ""]
                #[doc = $explanation]
                $variant,
            )*
        }

        impl Rule {
            /// Every rule, in declaration order.
            pub const ALL: &'static [Rule] = &[$(Rule::$variant),*];

            /// The stable kebab-case id.
            pub const fn id(&self) -> &'static str {
                match self { $(Rule::$variant => $id,)* }
            }

            /// The severity findings of this rule have.
            pub const fn severity(&self) -> Severity {
                match self { $(Rule::$variant => Severity::$severity,)* }
            }

            /// What the rule looks at.
            pub const fn subject(&self) -> Subject {
                match self { $(Rule::$variant => Subject::$subject,)* }
            }

            /// One sentence saying what the rule finds.
            pub const fn summary(&self) -> &'static str {
                match self { $(Rule::$variant => $summary,)* }
            }

            /// What the rule finds and why that matters.
            pub const fn explanation(&self) -> &'static str {
                match self { $(Rule::$variant => $explanation,)* }
            }

            /// How to fix a finding of the rule.
            pub const fn fix(&self) -> &'static str {
                match self { $(Rule::$variant => $fix,)* }
            }

            /// A short snippet that breaks the rule.
            pub const fn example(&self) -> &'static str {
                match self { $(Rule::$variant => $example,)* }
            }

            /// The version of port-convention that introduced the rule.
            pub const fn since(&self) -> &'static str {
                match self { $(Rule::$variant => $since,)* }
            }

            /// The rule with this id.
            pub fn from_id(id: &str) -> Option<Rule> {
                match id { $($id => Some(Rule::$variant),)* _ => None }
            }
        }
    };
}

impl Rule {
    /// Every documented field at once.
    pub const fn doc(&self) -> RuleDoc {
        RuleDoc {
            id: self.id(),
            severity: self.severity(),
            subject: self.subject(),
            summary: self.summary(),
            explanation: self.explanation(),
            fix: self.fix(),
            example: self.example(),
            since: self.since(),
        }
    }

    /// The rule's section of `docs/rules.md` (its anchor is its id).
    pub fn help_uri(&self) -> String {
        format!("{RULES_DOC_URL}#{}", self.id())
    }

    /// The language of [`Rule::example`], for a fenced code block: `yaml`
    /// for convention and compose snippets, `sh` for `.env` files,
    /// environments and live state, `js` for source code.
    pub const fn example_language(&self) -> &'static str {
        match self.subject() {
            Subject::EnvFile | Subject::Environment | Subject::Live => "sh",
            Subject::Convention | Subject::Compose => "yaml",
            Subject::Source => "js",
        }
    }

    /// Rule ids close to `id` (a typo, a missing or extra word), closest
    /// first, for "did you mean" messages.
    ///
    /// ```
    /// use port_convention::Rule;
    /// assert_eq!(Rule::close_matches("drfit"), vec!["drift"]);
    /// assert!(Rule::close_matches("out-of-range")[0] == "out-of-range");
    /// ```
    pub fn close_matches(id: &str) -> Vec<&'static str> {
        let id = id.to_ascii_lowercase();
        let mut scored: Vec<(usize, &'static str)> = Rule::ALL
            .iter()
            .filter_map(|rule| {
                let candidate = rule.id();
                let distance = edit_distance(&id, candidate);
                let limit = (candidate.len().max(id.len()) / 3).max(2);
                let contains = id.len() >= 3 && (candidate.contains(&id) || id.contains(candidate));
                (distance <= limit || contains).then_some((distance, candidate))
            })
            .collect();
        scored.sort();
        scored.into_iter().take(5).map(|(_, id)| id).collect()
    }
}

/// Levenshtein distance over bytes (rule ids are ASCII).
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

rules! {
    // --- the convention's own rules (ports.yaml self-validation) ---
    OverlappingRanges {
        id: "overlapping-ranges",
        severity: Error,
        subject: Convention,
        summary: "Two sibling ranges share ports.",
        explanation: "Ranges split the host's ports between teams or kinds of services. When two \
            ranges at the same level share ports, a port in the overlap belongs to both: the \
            convention no longer says who owns it, and `allocate` can hand it out twice.",
        fix: "Shrink or move one of the ranges so that siblings are disjoint, or nest one inside \
            the other if it is meant to be a part of it.",
        example: "ranges:
  db: { ports: 7000-7099 }
  cache: { ports: 7050-7149 }",
        since: "0.1.0",
    }
    RangeOutsideParent {
        id: "range-outside-parent",
        severity: Error,
        subject: Convention,
        summary: "A nested range is not inside its parent.",
        explanation: "A nested range is a part of its parent, and its services are under the \
            parent's rules (protected, loopback binding). A child reaching outside the parent \
            claims ports the parent never owned, and those ports escape the parent's rules.",
        fix: "Make the nested range a subset of its parent, widen the parent, or move the range \
            to the top level.",
        example: "ranges:
  db:
    ports: 7000-7099
    ranges:
      primary: { ports: 7050-7149 }",
        since: "0.1.0",
    }
    DuplicateAssignment {
        id: "duplicate-assignment",
        severity: Error,
        subject: Convention,
        summary: "Two services are assigned the same port and protocol.",
        explanation: "Only one process can bind a host port per protocol. Two services of the \
            convention assigned the same port cannot run on one host: whichever starts second \
            fails.",
        fix: "Give one of the services another free port of its range (`port-convention \
            allocate RANGE` prints the lowest free ones).",
        example: "services:
  pg: { range: db, ports: { sql: { port: 7000 } } }
  mysql: { range: db, ports: { sql: { port: 7000 } } }",
        since: "0.1.0",
    }
    PortOutsideRange {
        id: "port-outside-range",
        severity: Error,
        subject: Convention,
        summary: "A service's port lies outside the service's range.",
        explanation: "A service's range says which part of the port space it belongs to. An \
            assignment outside it defeats the split: the port may belong to another range, and \
            the rules of the service's own range (protected, loopback binding) do not cover it.",
        fix: "Assign a port inside the service's range, or put the service in the range that \
            holds its port.",
        example: "ranges:
  db: { ports: 7000-7099 }
services:
  pg: { range: db, ports: { sql: { port: 8000 } } }",
        since: "0.1.0",
    }
    PortInReservedRange {
        id: "port-in-reserved-range",
        severity: Error,
        subject: Convention,
        summary: "A service's port lies inside a reserved range.",
        explanation: "A reserved range is kept free on purpose (for backups, future services or \
            another tool). An assignment inside it takes a port the convention promised to leave \
            alone.",
        fix: "Assign a port outside every reserved range (`allocate` never hands one out), or \
            drop `reserved: true` if the range is no longer held back.",
        example: "ranges:
  db:
    ports: 7000-7999
    ranges:
      spare: { ports: 7300-7999, reserved: true }
services:
  pg: { range: db, ports: { sql: { port: 7301 } } }",
        since: "0.1.0",
    }
    ReplicaNotAdjacent {
        id: "replica-not-adjacent",
        severity: Error,
        subject: Convention,
        summary: "A replica's port is not its base service's port + 1.",
        explanation: "A replica (`replica_of`) sits right after the service it replicates, so a \
            service and its replicas read as one block and one port can be derived from the \
            other. A replica elsewhere hides which service it belongs to.",
        fix: "Assign the replica the port right after its base service's port.",
        example: "services:
  pg: { range: db, ports: { sql: { port: 7000 } } }
  pg-backup: { range: db, replica_of: pg, ports: { sql: { port: 7005 } } }",
        since: "0.1.0",
    }
    DuplicateEnvVar {
        id: "duplicate-env-var",
        severity: Error,
        subject: Convention,
        summary: "Two ports are bound to the same environment variable.",
        explanation: "A port's `env` is the variable compose files and programs read it from. \
            With one variable for two ports, setting it moves both, and `load_ports` cannot say \
            which port the variable stands for.",
        fix: "Give each port its own variable.",
        example: "services:
  pg: { range: db, ports: { sql: { port: 7000, env: PG_PORT } } }
  mysql: { range: db, ports: { sql: { port: 7001, env: PG_PORT } } }",
        since: "0.1.0",
    }
    UnknownRange {
        id: "unknown-range",
        severity: Error,
        subject: Convention,
        summary: "A service names a range that does not exist.",
        explanation: "Without its range a service's port cannot be checked against a range, a \
            protected range or a loopback binding. It is usually a typo, or a range renamed \
            without its services.",
        fix: "Name a declared range, or declare the range.",
        example: "ranges:
  db: { ports: 7000-7099 }
services:
  pg: { range: dbs, ports: { sql: { port: 7000 } } }",
        since: "0.1.0",
    }
    UnknownService {
        id: "unknown-service",
        severity: Error,
        subject: Convention,
        summary: "A service names a `replica_of` service that does not exist.",
        explanation: "A replica's port is checked against its base service's port; with no such \
            service the replica cannot be checked, usually after a rename.",
        fix: "Name a declared service in `replica_of`, or drop `replica_of`.",
        example: "services:
  pg-backup: { range: db, replica_of: postgres, ports: { sql: { port: 7001 } } }",
        since: "0.1.0",
    }
    PrivilegedPort {
        id: "privileged-port",
        severity: Warning,
        subject: Convention,
        summary: "A port below 1024 needs privileges to bind.",
        explanation: "On Linux, binding a port below 1024 needs root or `CAP_NET_BIND_SERVICE` \
            (unless `net.ipv4.ip_unprivileged_port_start` is lowered): rootless Docker and \
            Podman cannot publish it, and a developer's machine often runs a system service \
            there already.",
        fix: "Use a port of 1024 or above.",
        example: "ranges:
  web: { ports: 80-8099 }
services:
  web: { range: web, ports: { http: { port: 80 } } }",
        since: "0.1.0",
    }
    EphemeralPort {
        id: "ephemeral-port",
        severity: Warning,
        subject: Convention,
        summary: "A port in Linux's ephemeral range (32768-60999) can be taken by any outgoing \
            connection.",
        explanation: "Linux picks the source ports of outgoing connections from 32768-60999 \
            (`net.ipv4.ip_local_port_range`). A service published there can find its port taken \
            by a client connection when it starts, and fail at random.",
        fix: "Move the service (or its range) below 32768, or reserve the ports with \
            `net.ipv4.ip_local_reserved_ports`.",
        example: "ranges:
  high: { ports: 40000-40100 }
services:
  api: { range: high, ports: { http: { port: 40000 } } }",
        since: "0.1.0",
    }
    // --- environment values checked against the convention ---
    InvalidEnvPort {
        id: "invalid-env-port",
        severity: Error,
        subject: Environment,
        summary: "An environment value for a port variable is not a valid port.",
        explanation: "Programs read their port from the variable (`load_ports`) and compose \
            interpolates it into `ports:`. Values are parsed strictly (digits only, no sign, \
            spaces or leading zero, 1 to 65535) because lenient parsers disagree: \
            `parseInt(\"7000abc\")` is 7000 where compose fails, and the program and the stack \
            end up on different ports.",
        fix: "Set the variable to a plain port number, or unset it to use the convention's port.",
        example: "PG_PORT=07000",
        since: "0.1.0",
    }
    EnvPortOutOfRange {
        id: "env-port-out-of-range",
        severity: Error,
        subject: Environment,
        summary: "An environment value moves a port outside its service's range.",
        explanation: "An override is held to the convention too: a value outside the service's \
            range puts the program on a port the convention gives to another range (or to no \
            one), where it can clash with other services.",
        fix: "Set a port inside the service's range (the finding suggests the assigned one), or \
            unset the variable.",
        example: "# ports.yaml: cache is in range primary (7000-7099)
CACHE_PORT=80",
        since: "0.1.0",
    }
    EnvPortInReservedRange {
        id: "env-port-in-reserved-range",
        severity: Error,
        subject: Environment,
        summary: "An environment value moves a port into a reserved range.",
        explanation: "A reserved range is kept free on purpose; an override into it takes a port \
            the convention promised to leave alone.",
        fix: "Set a port outside every reserved range (the finding suggests the assigned one), \
            or unset the variable.",
        example: "# ports.yaml: spare (7300-7999) is reserved
CACHE_PORT=7301",
        since: "0.1.0",
    }
    EnvPortDuplicateAssignment {
        id: "env-port-duplicate-assignment",
        severity: Error,
        subject: Environment,
        summary: "An environment value moves a port onto a port another service uses.",
        explanation: "Two services on one port and protocol cannot both run: with the override, \
            the program and another service of the convention would fight over the port.",
        fix: "Set a free port of the service's range (`port-convention allocate RANGE`), or \
            unset the variable.",
        example: "# ports.yaml: pg is assigned 7000
CACHE_PORT=7000",
        since: "0.1.0",
    }
    // --- repository checks (compose files, .env files) ---
    DuplicateHostPort {
        id: "duplicate-host-port",
        severity: Error,
        subject: Compose,
        summary: "Two services of one compose project, or of projects declared on one host, \
            publish overlapping host ports on overlapping interfaces.",
        explanation: "Publishing a port binds it on the host. Two services that run together and \
            publish the same port and protocol on overlapping interfaces (all interfaces overlap \
            every address) cannot both start: `docker compose up` fails on the second with \
            \"port is already allocated\".",
        fix: "Publish one of them on another port (the convention's assignment, if it has one; \
            the finding suggests a free port), or on a disjoint host IP.",
        example: "services:
  api: { image: api, ports: [\"8080:80\"] }
  web: { image: web, ports: [\"8080:80\"] }",
        since: "0.1.0",
    }
    PortSharedAcrossProjects {
        id: "port-shared-across-projects",
        severity: Warning,
        subject: Compose,
        summary: "Services of different compose projects publish the same host port, and no \
            host in the convention says whether those projects run together.",
        explanation: "Two projects publishing the same port clash only if they run on one \
            machine at the same time. Without `hosts` in the convention that cannot be told, so \
            the finding is a warning rather than an error.",
        fix: "Declare in the convention's `hosts` which projects run together (a clash between \
            them is then a `duplicate-host-port` error), or move one service to another port.",
        example: "# shop/compose.yaml
services:
  api: { image: shop, ports: [\"8080:80\"] }
# blog/compose.yaml
services:
  api: { image: blog, ports: [\"8080:80\"] }",
        since: "0.1.0",
    }
    InvalidProject {
        id: "invalid-project",
        severity: Error,
        subject: Compose,
        summary: "A compose project cannot be loaded (an `extends` or `include` cycle, a missing \
            file, a service name imported twice).",
        explanation: "Compose refuses to load such a project, so `docker compose up` fails, and \
            none of the project's ports can be checked.",
        fix: "Break the cycle, fix the path of the missing file, or rename one of the imported \
            services.",
        example: "# compose.yaml
include:
  - other.yaml # and other.yaml includes compose.yaml",
        since: "0.1.0",
    }
    UnknownHostProject {
        id: "unknown-host-project",
        severity: Warning,
        subject: Convention,
        summary: "A host of the convention names a project that matches nothing.",
        explanation: "A host lists the projects that run together on it. A project that matches \
            nothing (a typo, a moved directory) silently drops out of the host's clash checks.",
        fix: "Use a project id as `port-convention projects` prints it, or remove the entry.",
        example: "hosts:
  laptop: { projects: [shop, blgo] }",
        since: "0.1.0",
    }
    AmbiguousProjectName {
        id: "ambiguous-project-name",
        severity: Warning,
        subject: Convention,
        summary: "A declared project has the id of another project of the tree.",
        explanation: "Projects are named by id in findings and in `projects`. A declared project \
            whose name is also the directory of a default project (or the file of a file project) \
            makes both show under one name, so the project a finding names cannot be told apart. \
            A host entry with that name means the declared project only.",
        fix: "Rename the declared project (`api-prod` rather than `api`).",
        example: "# api/compose.yml exists: the default project of api/ has the id `api`
projects:
  api: { files: [api/compose.yml, api/compose.prod.yml] }",
        since: "0.1.0",
    }
    ProtectedRangeViolation {
        id: "protected-range-violation",
        severity: Error,
        subject: Compose,
        summary: "A service not declared in a protected range publishes inside it.",
        explanation: "Only services the convention declares may publish in a protected range. \
            An undeclared service there takes a port the convention may assign to another \
            service, and the clash shows only when both run.",
        fix: "Declare the service in the convention with its port, or publish it outside the \
            protected range.",
        example: "# ports.yaml: databases (7000-7999) is protected; no service `scratch`
services:
  scratch: { image: postgres, ports: [\"7050:5432\"] }",
        since: "0.1.0",
    }
    OutOfRange {
        id: "out-of-range",
        severity: Error,
        subject: Compose,
        summary: "A declared service publishes outside its range.",
        explanation: "A compose file publishes a service of the convention, on a port that \
            stands for none of its assignments, outside the service's range: onto ports that \
            belong to another range. (A mapping standing for an assigned port on another port \
            is `drift`.)",
        fix: "Publish the port inside the service's range (the finding suggests a free one), or \
            declare it in the convention.",
        example: "# ports.yaml: pg is in range primary (7000-7099), assigned sql 7000 (container 5432)
services:
  pg: { image: postgres, ports: [\"7000:5432\", \"9187:9187\"] }",
        since: "0.1.0",
    }
    Drift {
        id: "drift",
        severity: Error,
        subject: Compose,
        summary: "A declared service publishes a port other than its assignment.",
        explanation: "The convention is the single record of which service uses which port; a \
            compose file that publishes an assigned port elsewhere makes the record wrong, and \
            programs reading the convention connect to the wrong port.",
        fix: "Publish the assigned port (`port-convention migrate` moves services to their \
            assignments across compose and .env files), or change the assignment.",
        example: "# ports.yaml: pg is assigned 7000 (container 5432)
services:
  pg: { image: postgres, ports: [\"5432:5432\"] }",
        since: "0.1.0",
    }
    EnvDrift {
        id: "env-drift",
        severity: Error,
        subject: EnvFile,
        summary: "A `.env` value of a convention variable differs from the assignment.",
        explanation: "Compose interpolates `.env` values into `ports:`, so a stale value moves \
            the service off its assigned port even when the compose file is right.",
        fix: "Set the value to the assignment, or remove the line to use the compose file's \
            default.",
        example: "# ports.yaml: PG_PORT is assigned 7000
PG_PORT=5432",
        since: "0.1.0",
    }
    ExposedOnAllInterfaces {
        id: "exposed-on-all-interfaces",
        severity: Error,
        subject: Compose,
        summary: "A port of a loopback-only range is published on all interfaces.",
        explanation: "A range with `bind: loopback` holds services that must not be reachable \
            from the network (databases, admin UIs). A mapping without a host IP publishes on \
            every interface, and Docker's own firewall rules bypass most host firewalls.",
        fix: "Publish on 127.0.0.1 (`127.0.0.1:7000:5432`).",
        example: "# ports.yaml: databases has bind: loopback
services:
  pg: { image: postgres, ports: [\"7000:5432\"] }",
        since: "0.1.0",
    }
    InvalidPortSpec {
        id: "invalid-port-spec",
        severity: Error,
        subject: Compose,
        summary: "A compose port specification is invalid.",
        explanation: "Compose rejects the mapping (and with it the whole file), so the service \
            does not start and its ports cannot be checked.",
        fix: "Write the mapping as `[HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL]`, or in long \
            syntax.",
        example: "services:
  web: { image: nginx, ports: [\"8080:80/tpc\"] }",
        since: "0.1.0",
    }
    InterpolationError {
        id: "interpolation-error",
        severity: Error,
        subject: Compose,
        summary: "An interpolation template in a compose file is invalid or a required variable \
            is missing.",
        explanation: "Compose refuses to load a file with a broken `${...}` template or with \
            `${VAR:?message}` for an unset variable, so the ports behind it are unknown.",
        fix: "Fix the template, or set the required variable (in the environment or a `.env` \
            file).",
        example: "services:
  pg: { image: postgres, ports: [\"${PG_PORT:?set PG_PORT}:5432\"] }",
        since: "0.1.0",
    }
    UnsetVariable {
        id: "unset-variable",
        severity: Warning,
        subject: Compose,
        summary: "A variable used without a default has no value.",
        explanation: "Compose replaces an unset `${VAR}` by an empty string, so the published \
            port silently changes (an empty host port is a random one).",
        fix: "Set the variable, or give it a default (`${PG_PORT:-7000}`).",
        example: "services:
  pg: { image: postgres, ports: [\"${PG_PORT}:5432\"] }",
        since: "0.1.0",
    }
    InvalidComposeFile {
        id: "invalid-compose-file",
        severity: Error,
        subject: Compose,
        summary: "A compose file is not valid YAML or not a valid compose file.",
        explanation: "Compose cannot load the file, so its services do not start and their ports \
            cannot be checked.",
        fix: "Fix the syntax or the shape the finding points at (`docker compose config` shows \
            compose's own view).",
        example: "services:
  web:
    ports: 8080:80",
        since: "0.1.0",
    }
    ClashCheckLimit {
        id: "clash-check-limit",
        severity: Error,
        subject: Compose,
        summary: "More host-port mappings overlap than the clash check compares one by one; it \
            stopped, and clashes past that point are not reported.",
        explanation: "Mappings of one port are compared in groups where their projects allow \
            it; what is left is compared pair by pair, which takes time growing with the square of \
            their number. Real trees need a few thousand comparisons; a tree that needs ten \
            million (thousands of projects on one port, some on hosts and some not) is stopped \
            there rather than holding a CI job for minutes, and says so instead of passing.",
        fix: "Check why so many compose files publish one port. If they are real, declare the \
            projects that run together under one host (or none under any) so that they are \
            compared as a group.",
        example: "# 5,000 compose projects publish 8080, one of them on a host",
        since: "0.1.0",
    }
    DuplicateEnvKey {
        id: "duplicate-env-key",
        severity: Warning,
        subject: EnvFile,
        summary: "A `.env` file sets the same key twice.",
        explanation: "The last value wins, so the first line is dead and misleads whoever reads \
            it, and edits to it (including `migrate`'s) do nothing.",
        fix: "Remove one of the lines.",
        example: "PG_PORT=7000
PG_PORT=5432",
        since: "0.1.0",
    }
    InvalidEnvFile {
        id: "invalid-env-file",
        severity: Error,
        subject: EnvFile,
        summary: "A `.env` file cannot be parsed.",
        explanation: "Compose refuses to load a project whose `.env` file it cannot parse, and \
            the values it holds cannot be checked.",
        fix: "Fix the line the finding points at (an unclosed quote, a key that is not a \
            name).",
        example: "PG_PORT=\"7000",
        since: "0.1.0",
    }
    // --- source and configuration files (ports written in programs) ---
    HardcodedPort {
        id: "hardcoded-port",
        severity: Warning,
        subject: Source,
        summary: "A source or configuration file hardcodes a port the convention assigns.",
        explanation: "The convention says programs read their ports from the environment (or \
            from `loadPorts()` / `load_ports()`), never from a literal. A literal equal to \
            today's assignment works until the next migration moves the port, and then points \
            at the old one, silently.",
        fix: "Read the port's variable (the finding names it) without a numeric fallback, or \
            take the port from the binding (`loadPorts().services.SERVICE.PORT` in Node, \
            `load_ports()[\"services\"][SERVICE][PORT]` in Python; for an address, \
            `addresses.SERVICE.PORT` gives host and port for where the program runs: `localhost` \
            and the host port, or the service name and container port inside the compose \
            network). Silence one line that must \
            stay with `port-convention: ignore[hardcoded-port]` on it or on the line above.",
        example: "// ports.yaml: timescaledb postgres is assigned 7000 (TIMESCALEDB_PORT)
const port = Number(process.env.TIMESCALEDB_PORT ?? 7000);",
        since: "0.1.0",
    }
    StalePort {
        id: "stale-port",
        severity: Error,
        subject: Source,
        summary: "A source or configuration file still uses a port the convention moved away \
            from (a legacy port).",
        explanation: "After a migration, compose publishes the new port, but fallbacks such as \
            `process.env.X ?? 5433` or `localhost:5433` in programs still point at the old one: \
            whenever the variable is unset the program connects to nothing, or to whatever now \
            holds the old port.",
        fix: "Use the new port through its variable or the binding (the finding names both); \
            `port-convention migrate plan --source` proposes the replacement of each stale \
            literal as an edit of the migration plan.",
        example: "// ports.yaml: timescaledb moved from 5433 to 7000 (TIMESCALEDB_PORT)
const port = Number(process.env.TIMESCALEDB_PORT ?? 5433);",
        since: "0.1.0",
    }
    UnregisteredPort {
        id: "unregistered-port",
        severity: Warning,
        subject: Source,
        summary: "A host:port address names a port inside a protected range that the \
            convention assigns to no service.",
        explanation: "Only declared services may publish in a protected range, so a program \
            connecting to an unassigned port there connects to nothing the convention knows: a \
            typo, a service nobody declared, or one that was removed.",
        fix: "Declare the service in the convention (then read its variable), or correct the \
            address.",
        example: "// ports.yaml: databases (7000-7999) is protected; 7050 is assigned to no one
const url = 'http://localhost:7050';",
        since: "0.1.0",
    }
    // --- live checks (`check --live`: this machine's sockets and containers) ---
    UnknownSuppression {
        id: "unknown-suppression",
        severity: Warning,
        subject: Source,
        summary: "A `port-convention: ignore[...]` comment names a rule that does not exist.",
        explanation: "A misspelt rule id in a suppression silences nothing: the finding it was \
            meant for is still reported, and once the finding goes away the comment stays behind \
            unexplained.",
        fix: "Write the rule id as `port-convention explain` lists it (the finding names the \
            closest ones), or `*` for every rule.",
        example: "const port = 5433; // port-convention: ignore[hardcode-port]",
        since: "0.1.0",
    }
    LiveUndeclaredListener {
        id: "live-undeclared-listener",
        severity: Error,
        subject: Live,
        summary: "A port held on this machine lies inside a protected range, but the convention \
            assigns it to no service.",
        explanation: "Something runs where only declared services may: it blocks a future \
            assignment, and whatever it is escapes the convention.",
        fix: "Stop the process or container, or declare it in the convention.",
        example: "# ports.yaml: databases (7000-7999) is protected, 7050 assigned to no one
$ nc -l 127.0.0.1 7050",
        since: "0.1.0",
    }
    LivePortTaken {
        id: "live-port-taken",
        severity: Error,
        subject: Live,
        summary: "A port a compose file publishes is held by something other than that \
            service's own container: `docker compose up` would fail.",
        explanation: "Another process or container already holds the port, so the service \
            cannot publish it and compose fails with \"port is already allocated\" or \
            \"address already in use\".",
        fix: "Stop what holds the port (`port-convention ports --live` names it), or move one of \
            them to another port.",
        example: "# compose.yaml publishes 7000:5432 for pg
$ python3 -m http.server 7000",
        since: "0.1.0",
    }
    LiveStaleContainer {
        id: "live-stale-container",
        severity: Warning,
        subject: Live,
        summary: "A running container started from a compose file of the repository publishes \
            other ports than the file now says.",
        explanation: "The file changed after the container started: the running stack is not \
            what the repository describes, and it may hold ports the file gave up.",
        fix: "Recreate the container (`docker compose up -d`).",
        example: "# compose.yaml now says 7000:5432; the container was started with 5432:5432
$ docker compose up -d pg",
        since: "0.1.0",
    }
}

impl std::str::FromStr for Rule {
    type Err = crate::Error;

    /// The rule with this id, or [`crate::Error::UnknownRule`] naming the
    /// closest ids.
    ///
    /// ```
    /// use port_convention::Rule;
    /// assert_eq!("drift".parse::<Rule>().unwrap(), Rule::Drift);
    /// let err = "drfit".parse::<Rule>().unwrap_err();
    /// assert_eq!(err.code(), "unknown-rule");
    /// assert_eq!(err.to_string(), "no rule `drfit`; did you mean drift?");
    /// ```
    fn from_str(id: &str) -> Result<Rule, crate::Error> {
        Rule::from_id(id).ok_or_else(|| crate::Error::UnknownRule {
            id: id.to_owned(),
            close: Rule::close_matches(id)
                .into_iter()
                .map(String::from)
                .collect(),
        })
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl schemars::JsonSchema for Rule {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Rule".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let ids: Vec<&str> = Rule::ALL.iter().map(Rule::id).collect();
        schemars::json_schema!({ "type": "string", "enum": ids })
    }
}

impl Serialize for Rule {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.id())
    }
}

/// Another place a finding involves (the other side of a clash, say).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, schemars::JsonSchema)]
pub struct Related {
    /// Where: the file relative to the scanned root where there is one.
    #[serde(flatten)]
    pub location: Location,
    /// The service there, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// The compose project of that service (its id), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
}

/// A concrete fix to offer.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, schemars::JsonSchema)]
pub struct Suggestion {
    /// A free port in the right range.
    pub port: u16,
    /// The host IP to publish on, where that is the fix.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_ip: Option<String>,
}

/// See [`Finding::identity`].
pub(crate) type FindingIdentity = (Rule, Option<Location>, String);

/// One problem, with everything needed to show and fix it.
///
/// The JSON form (field names, rule ids) is a public contract.
///
/// ```
/// use port_convention::{Finding, Rule, Severity};
/// let f = Finding::new(Rule::PrivilegedPort, "port 80 is privileged").with_port(80);
/// assert_eq!(f.severity, Severity::Warning);
/// assert_eq!(f.rule.id(), "privileged-port");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, schemars::JsonSchema)]
pub struct Finding {
    /// The rule broken.
    pub rule: Rule,
    /// How bad.
    pub severity: Severity,
    /// What is wrong, in one sentence.
    pub message: String,
    /// Where, if the finding is tied to a file (JSON: `file`, and `line`
    /// and `column` where known).
    #[serde(flatten, serialize_with = "crate::error::optional_location::serialize")]
    pub location: Option<Location>,
    /// The service involved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// The port involved (the first one of a range).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// The protocol of the port.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<Protocol>,
    /// The host IP of the mapping (empty string: all interfaces).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_ip: Option<String>,
    /// The environment variable involved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variable: Option<String>,
    /// The offending value as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Other places involved.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<Related>,
    /// A concrete fix.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<Suggestion>,
    /// The compose project the finding is about (its id: see
    /// [`crate::project::Project::id`]), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// The host (from the convention's `hosts`) the finding is about, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
}

impl Finding {
    /// A finding of `rule` with the rule's severity and no location.
    pub fn new(rule: Rule, message: impl Into<String>) -> Self {
        Finding {
            rule,
            severity: rule.severity(),
            message: message.into(),
            location: None,
            service: None,
            port: None,
            protocol: None,
            host_ip: None,
            variable: None,
            value: None,
            related: Vec::new(),
            suggestion: None,
            project: None,
            host: None,
        }
    }

    /// The same finding about compose project `project` (its id).
    pub fn with_project(mut self, project: impl Into<String>) -> Self {
        self.project = Some(project.into());
        self
    }

    /// The same finding placed at `location`.
    pub fn at(mut self, location: &Location) -> Self {
        self.location = Some(location.clone());
        self
    }

    /// The same finding about `service`.
    pub fn with_service(mut self, service: impl Into<String>) -> Self {
        self.service = Some(service.into());
        self
    }

    /// The same finding about `port`.
    pub fn with_port(mut self, port: u16) -> Self {
        self.port = Some(port);
        self
    }

    /// The same finding about environment variable `variable` holding `value`.
    pub fn with_variable(mut self, variable: impl Into<String>, value: Option<String>) -> Self {
        self.variable = Some(variable.into());
        self.value = value;
        self
    }

    /// The same finding with another place involved.
    pub fn with_related(mut self, location: &Location, service: Option<String>) -> Self {
        self.related.push(Related {
            location: location.clone(),
            service,
            project: None,
        });
        self
    }

    /// The same finding suggesting `port` as the fix.
    pub fn with_suggestion(mut self, port: u16) -> Self {
        self.suggestion = Some(Suggestion {
            port,
            host_ip: None,
        });
        self
    }

    /// What makes two findings the same report (rule, place, message), so
    /// that a problem met through several projects is reported once.
    pub(crate) fn identity(&self) -> FindingIdentity {
        (self.rule, self.location.clone(), self.message.clone())
    }

    /// The file the finding is in, if any.
    pub fn file(&self) -> Option<&str> {
        self.location.as_ref().map(|at| at.file.as_str())
    }

    /// The 1-based line, where known.
    pub fn line(&self) -> Option<u32> {
        self.location
            .as_ref()
            .map(|at| at.line)
            .filter(|&line| line > 0)
    }

    /// The 1-based column, where known.
    pub fn column(&self) -> Option<u32> {
        self.location
            .as_ref()
            .map(|at| at.column)
            .filter(|&column| column > 0)
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(location) = &self.location {
            write!(f, "{location}: ")?;
        }
        write!(f, "{} [{}]: {}", self.severity, self.rule, self.message)
    }
}
