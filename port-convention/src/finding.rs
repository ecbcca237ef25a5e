//! `Finding`: one problem found in a convention, a compose file, a `.env`
//! file or an environment, with its rule, place and suggested fix.

use std::fmt;

use serde::Serialize;

use crate::{Location, Protocol};

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
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

macro_rules! rules {
    ($( $(#[$doc:meta])* $variant:ident = $id:literal, $severity:ident; )*) => {
        /// The rule a finding breaks. Each has a stable kebab-case id
        /// ([`Rule::id`]) that never changes meaning once released.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[non_exhaustive]
        pub enum Rule {
            $( $(#[$doc])* $variant, )*
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

            /// The rule with this id.
            pub fn from_id(id: &str) -> Option<Rule> {
                match id { $($id => Some(Rule::$variant),)* _ => None }
            }
        }
    };
}

rules! {
    // --- the convention's own rules (ports.yaml self-validation) ---
    /// Two sibling ranges share ports.
    OverlappingRanges = "overlapping-ranges", Error;
    /// A nested range is not inside its parent.
    RangeOutsideParent = "range-outside-parent", Error;
    /// Two services are assigned the same port and protocol.
    DuplicateAssignment = "duplicate-assignment", Error;
    /// A service's port lies outside the service's range.
    PortOutsideRange = "port-outside-range", Error;
    /// A service's port lies inside a reserved range.
    PortInReservedRange = "port-in-reserved-range", Error;
    /// A replica's port is not its base service's port + 1.
    ReplicaNotAdjacent = "replica-not-adjacent", Error;
    /// Two ports are bound to the same environment variable.
    DuplicateEnvVar = "duplicate-env-var", Error;
    /// A service names a range that does not exist.
    UnknownRange = "unknown-range", Error;
    /// A service names a `replica_of` service that does not exist.
    UnknownService = "unknown-service", Error;
    /// A port below 1024 needs privileges to bind.
    PrivilegedPort = "privileged-port", Warning;
    /// A port in Linux's ephemeral range (32768-60999) can be taken by any
    /// outgoing connection.
    EphemeralPort = "ephemeral-port", Warning;
    // --- environment values checked against the convention ---
    /// An environment value for a port variable is not a valid port.
    InvalidEnvPort = "invalid-env-port", Error;
    // --- repository checks (compose files, .env files) ---
    /// Two services of one compose project, or of projects declared on one
    /// host, publish overlapping host ports on overlapping interfaces.
    DuplicateHostPort = "duplicate-host-port", Error;
    /// Services of different compose projects publish the same host port,
    /// and no host in the convention says whether those projects run together.
    PortSharedAcrossProjects = "port-shared-across-projects", Warning;
    /// A compose project cannot be loaded (an `extends` or `include` cycle,
    /// a missing file, a service name imported twice).
    InvalidProject = "invalid-project", Error;
    /// A host of the convention names a project that matches nothing.
    UnknownHostProject = "unknown-host-project", Warning;
    /// A service not declared in a protected range publishes inside it.
    ProtectedRangeViolation = "protected-range-violation", Error;
    /// A declared service publishes outside its range.
    OutOfRange = "out-of-range", Error;
    /// A declared service publishes a port other than its assignment.
    Drift = "drift", Error;
    /// A `.env` value of a convention variable differs from the assignment.
    EnvDrift = "env-drift", Error;
    /// A port of a loopback-only range is published on all interfaces.
    ExposedOnAllInterfaces = "exposed-on-all-interfaces", Error;
    /// A compose port specification is invalid.
    InvalidPortSpec = "invalid-port-spec", Error;
    /// An interpolation template in a compose file is invalid or a required
    /// variable is missing.
    InterpolationError = "interpolation-error", Error;
    /// A variable used without a default has no value.
    UnsetVariable = "unset-variable", Warning;
    /// A compose file is not valid YAML or not a valid compose file.
    InvalidComposeFile = "invalid-compose-file", Error;
    /// A `.env` file sets the same key twice.
    DuplicateEnvKey = "duplicate-env-key", Warning;
    /// A `.env` file cannot be parsed.
    InvalidEnvFile = "invalid-env-file", Error;
    // --- live checks (`check --live`: this machine's sockets and containers) ---
    /// A port held on this machine lies inside a protected range, but the
    /// convention assigns it to no service.
    LiveUndeclaredListener = "live-undeclared-listener", Error;
    /// A port a compose file publishes is held by something other than that
    /// service's own container: `docker compose up` would fail.
    LivePortTaken = "live-port-taken", Error;
    /// A running container started from a compose file of the repository
    /// publishes other ports than the file now says.
    LiveStaleContainer = "live-stale-container", Warning;
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl Serialize for Rule {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.id())
    }
}

/// Another place a finding involves (the other side of a clash, say).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Related {
    /// File (relative to the scanned root where there is one).
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
    /// The service there, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// The compose project of that service (its id), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
}

/// A concrete fix to offer.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Suggestion {
    /// A free port in the right range.
    pub port: u16,
    /// The host IP to publish on, where that is the fix.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_ip: Option<String>,
}

/// See [`Finding::identity`].
pub(crate) type FindingIdentity = (Rule, Option<String>, Option<u32>, Option<u32>, String);

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
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Finding {
    /// The rule broken.
    pub rule: Rule,
    /// How bad.
    pub severity: Severity,
    /// What is wrong, in one sentence.
    pub message: String,
    /// The file, if the finding is tied to one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// 1-based line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// 1-based column.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
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
            file: None,
            line: None,
            column: None,
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
        self.file = Some(location.file.clone());
        self.line = (location.line > 0).then_some(location.line);
        self.column = (location.column > 0).then_some(location.column);
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
            file: location.file.clone(),
            line: location.line,
            column: location.column,
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
        (
            self.rule,
            self.file.clone(),
            self.line,
            self.column,
            self.message.clone(),
        )
    }

    /// Where the finding is, if it has a file.
    pub fn location(&self) -> Option<Location> {
        self.file.as_ref().map(|file| {
            Location::new(
                file.clone(),
                self.line.unwrap_or(0),
                self.column.unwrap_or(0),
            )
        })
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(location) = self.location() {
            write!(f, "{location}: ")?;
        }
        write!(f, "{} [{}]: {}", self.severity, self.rule, self.message)
    }
}
