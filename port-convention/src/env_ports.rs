//! Ports for programs: the convention's assignments, overridden by
//! environment values that are checked as strictly as the convention itself.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::{Convention, Error, Finding, Rule, Severity, validate_convention};

/// The convention a set of ports came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConventionInfo {
    /// The convention's `name`.
    pub name: Option<String>,
    /// The convention's `version`.
    pub version: String,
}

/// Validated ports, ready for a program's configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoadedPorts {
    /// Which convention.
    pub convention: ConventionInfo,
    /// Port by environment variable name, for every port that has one.
    pub ports: BTreeMap<String, u16>,
    /// Port by service name, then by port name.
    pub services: BTreeMap<String, BTreeMap<String, u16>>,
    /// Where the program loading the ports runs: on the host, or inside
    /// the compose network (see [`Network`]).
    pub network: Network,
    /// The address to connect to, by service name, then by port name:
    /// `localhost` and the host port for programs on the host; the compose
    /// service name and the container port inside the compose network
    /// (ports without a `container` in the convention are left out there).
    pub addresses: BTreeMap<String, BTreeMap<String, Address>>,
}

/// Where a program runs, which decides which address of a port is right.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Network {
    /// On the host: `localhost` and the host port.
    #[default]
    Host,
    /// Inside the compose network: the service name and the container port.
    Compose,
}

impl std::str::FromStr for Network {
    type Err = Error;

    /// `host` or `compose`.
    fn from_str(text: &str) -> Result<Network, Error> {
        match text {
            "host" => Ok(Network::Host),
            "compose" => Ok(Network::Compose),
            other => Err(Error::InvalidArgument {
                message: format!("network must be `host` or `compose`, not {other:?}"),
            }),
        }
    }
}

/// Where to connect to one port.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Address {
    /// `localhost`, or the compose service name.
    pub host: String,
    /// The host port, or the container port.
    pub port: u16,
}

impl LoadedPorts {
    /// The same ports with the addresses of `network`: `localhost` and the
    /// (validated, possibly overridden) host port, or the compose service
    /// name and the convention's container port.
    ///
    /// ```
    /// use port_convention::{Convention, Network, resolve_ports};
    /// let c = Convention::from_yaml("ports.yaml", "version: 1.0.0
    /// services:
    ///   timescaledb: { ports: { postgres: { port: 7000, env: TIMESCALEDB_PORT, container: 5432 } } }
    /// ")?;
    /// let ports = resolve_ports(&c, &|_| None)?;
    /// assert_eq!(ports.addresses["timescaledb"]["postgres"].host, "localhost");
    /// let inside = ports.for_network(&c, Network::Compose);
    /// let a = &inside.addresses["timescaledb"]["postgres"];
    /// assert_eq!((a.host.as_str(), a.port), ("timescaledb", 5432));
    /// # Ok::<(), port_convention::Error>(())
    /// ```
    pub fn for_network(mut self, convention: &Convention, network: Network) -> LoadedPorts {
        self.network = network;
        self.addresses = addresses(convention, &self.services, network);
        self
    }
}

fn addresses(
    convention: &Convention,
    services: &BTreeMap<String, BTreeMap<String, u16>>,
    network: Network,
) -> BTreeMap<String, BTreeMap<String, Address>> {
    let mut out: BTreeMap<String, BTreeMap<String, Address>> = BTreeMap::new();
    for (service, assignment) in convention.assignments() {
        let address = match network {
            Network::Host => services
                .get(&service.name)
                .and_then(|ports| ports.get(&assignment.name))
                .map(|port| Address {
                    host: "localhost".to_owned(),
                    port: *port,
                }),
            Network::Compose => assignment.container.map(|port| Address {
                host: service.compose_service.clone(),
                port,
            }),
        };
        if let Some(address) = address {
            out.entry(service.name.clone())
                .or_default()
                .insert(assignment.name.clone(), address);
        }
    }
    out
}

/// Parses a port from an environment value strictly: ASCII digits only, no
/// sign, no leading zero, no whitespace, 1 to 65535.
///
/// Stricter than `parseInt` or `int()`: `" 7000"`, `"7000abc"`, `"07000"`,
/// `"+7000"`, `"7e3"` and `"0"` are all rejected.
///
/// ```
/// use port_convention::parse_env_port;
/// assert_eq!(parse_env_port("7000"), Ok(7000));
/// assert!(parse_env_port("07000").is_err());
/// assert!(parse_env_port("70000").is_err());
/// ```
///
/// # Errors
///
/// A sentence saying what is wrong with the value.
pub fn parse_env_port(value: &str) -> Result<u16, String> {
    if value.is_empty() {
        return Err("is empty".into());
    }
    if !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err("is not a port number (digits only, no sign or spaces)".into());
    }
    if value.len() > 1 && value.starts_with('0') {
        return Err("has a leading zero".into());
    }
    match value.parse::<u32>() {
        Ok(0) => Err("is 0, which is not a port that can be published".into()),
        Ok(port) => u16::try_from(port).map_err(|_| "is above 65535".into()),
        Err(_) => Err("is above 65535".into()),
    }
}

/// The convention's ports with environment overrides applied and checked.
///
/// For each assigned port that has an `env` variable: if `lookup` gives a
/// non-empty value, that value is used, else the convention's port. (An empty
/// value counts as unset, as `${VAR:-default}` does in compose files, so
/// programs and compose agree.) Every value used must be a strict port
/// ([`parse_env_port`]), lie in the service's range, lie in no reserved range,
/// and not collide with another port in use (rules `invalid-env-port`,
/// `env-port-out-of-range`, `env-port-in-reserved-range`,
/// `env-port-duplicate-assignment`). Error findings of the convention's own
/// rules are reported too.
///
/// ```
/// use port_convention::{Convention, resolve_ports};
/// let convention = Convention::from_yaml("ports.yaml", "version: 1.0.0
/// ranges: { db: { ports: 7000-7099 } }
/// services:
///   pg: { range: db, ports: { sql: { port: 7000, env: PG_PORT } } }
/// ")?;
/// let env = |name: &str| (name == "PG_PORT").then(|| "7005".to_string());
/// let ports = resolve_ports(&convention, &env)?;
/// assert_eq!(ports.ports["PG_PORT"], 7005);
/// assert_eq!(ports.services["pg"]["sql"], 7005);
///
/// let bad = |name: &str| (name == "PG_PORT").then(|| "80".to_string());
/// let err = resolve_ports(&convention, &bad).unwrap_err();
/// assert_eq!(err.code(), "validation-failed");
/// assert_eq!(err.findings()[0].rule.id(), "env-port-out-of-range");
/// # Ok::<(), port_convention::Error>(())
/// ```
///
/// # Errors
///
/// [`Error::Validation`] listing every problem at once.
pub fn resolve_ports(
    convention: &Convention,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<LoadedPorts, Error> {
    let mut findings: Vec<Finding> = validate_convention(convention)
        .into_iter()
        .filter(|f| f.severity == Severity::Error)
        .collect();
    let mut ports = BTreeMap::new();
    let mut services: BTreeMap<String, BTreeMap<String, u16>> = BTreeMap::new();
    // (port, protocol) -> (service, port name, variable) of the first user.
    // Collisions the convention itself has are reported by its own rules; here
    // only those an environment value brings in count.
    let mut used: BTreeMap<(u16, crate::Protocol), (String, String, bool)> = BTreeMap::new();

    for (service, assignment) in convention.assignments() {
        let mut port = assignment.port;
        let mut from_env = None;
        if let Some(var) = &assignment.env
            && let Some(value) = lookup(var).filter(|v| !v.is_empty())
        {
            match parse_env_port(&value) {
                Ok(p) => {
                    port = p;
                    from_env = Some((var.clone(), value));
                }
                Err(reason) => {
                    findings.push(
                        Finding::new(
                            Rule::InvalidEnvPort,
                            format!(
                                "{var}={value:?} (service {} port {}) {reason}",
                                service.name, assignment.name
                            ),
                        )
                        .with_service(&service.name)
                        .with_variable(var, Some(value)),
                    );
                    continue;
                }
            }
        }
        if let Some((var, value)) = &from_env {
            let described = format!(
                "{var}={value} (service {} port {})",
                service.name, assignment.name
            );
            let range = service.range.as_deref().and_then(|r| convention.range(r));
            if let Some(range) = range
                && !range.ports.contains(port)
            {
                findings.push(
                    Finding::new(
                        Rule::EnvPortOutOfRange,
                        format!(
                            "{described} is outside range {} ({})",
                            range.name, range.ports
                        ),
                    )
                    .with_service(&service.name)
                    .with_port(port)
                    .with_variable(var, Some(value.clone()))
                    .with_suggestion(assignment.port),
                );
            }
            if let Some(reserved) = convention
                .ranges
                .iter()
                .find(|r| r.reserved && r.ports.contains(port))
            {
                findings.push(
                    Finding::new(
                        Rule::EnvPortInReservedRange,
                        format!(
                            "{described} is inside reserved range {} ({})",
                            reserved.name, reserved.ports
                        ),
                    )
                    .with_service(&service.name)
                    .with_port(port)
                    .with_variable(var, Some(value.clone()))
                    .with_suggestion(assignment.port),
                );
            }
        }
        let key = (port, assignment.protocol);
        match used.get(&key) {
            Some((other_service, other_port, other_from_env))
                if from_env.is_some() || *other_from_env =>
            {
                let mut f = Finding::new(
                    Rule::EnvPortDuplicateAssignment,
                    format!(
                        "{port}/{} would be used by {} ({}) and by {} ({})",
                        assignment.protocol,
                        other_service,
                        other_port,
                        service.name,
                        assignment.name
                    ),
                )
                .with_service(&service.name)
                .with_port(port);
                if let Some((var, value)) = &from_env {
                    f = f.with_variable(var, Some(value.clone()));
                } else if let Some(var) = &assignment.env {
                    f = f.with_variable(var, None);
                }
                findings.push(f);
            }
            Some(_) => {}
            None => {
                used.insert(
                    key,
                    (
                        service.name.clone(),
                        assignment.name.clone(),
                        from_env.is_some(),
                    ),
                );
            }
        }
        if let Some(var) = &assignment.env {
            ports.insert(var.clone(), port);
        }
        services
            .entry(service.name.clone())
            .or_default()
            .insert(assignment.name.clone(), port);
    }
    if !findings.is_empty() {
        return Err(Error::Validation { findings });
    }
    let addresses = addresses(convention, &services, Network::Host);
    Ok(LoadedPorts {
        convention: ConventionInfo {
            name: convention.name.clone(),
            version: convention.version.to_string(),
        },
        ports,
        services,
        network: Network::Host,
        addresses,
    })
}
