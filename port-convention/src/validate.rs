//! The convention's own rules: what `check` reports about `ports.yaml` itself.

use std::collections::BTreeMap;

use crate::{Convention, Finding, PortRange, Rule, allocate};

/// Linux's default ephemeral port range (`net.ipv4.ip_local_port_range`).
pub const EPHEMERAL_PORTS: PortRange = PortRange::spanning(32768, 60999);

/// Checks a convention against its own rules and returns every finding, in
/// file order. An empty list means the convention is sound.
///
/// Rules: `overlapping-ranges`, `range-outside-parent`, `duplicate-assignment`,
/// `port-outside-range`, `port-in-reserved-range`, `replica-not-adjacent`,
/// `duplicate-env-var`, `unknown-range`, `unknown-service` (errors);
/// `privileged-port`, `ephemeral-port` (warnings).
///
/// ```
/// use port_convention::{Convention, validate_convention};
/// let convention = Convention::from_yaml("ports.yaml", "version: 1.0.0
/// ranges: { db: { ports: 7000-7099 } }
/// services:
///   a: { range: db, ports: { sql: { port: 7000 } } }
///   b: { range: db, ports: { sql: { port: 7000 } } }
/// ")?;
/// let findings = validate_convention(&convention);
/// assert_eq!(findings[0].rule.id(), "duplicate-assignment");
/// assert_eq!(findings[0].suggestion.as_ref().unwrap().port, 7001);
/// # Ok::<(), port_convention::Error>(())
/// ```
pub fn validate_convention(convention: &Convention) -> Vec<Finding> {
    let mut findings = Vec::new();
    check_ranges(convention, &mut findings);
    check_services(convention, &mut findings);
    findings.sort_by(|a, b| {
        (a.line(), a.column(), a.rule.id()).cmp(&(b.line(), b.column(), b.rule.id()))
    });
    findings
}

/// How many other places one finding lists; the rest are counted.
const MAX_RELATED: usize = 10;

/// How many earlier owners of a duplicated port are looked at for one
/// finding (they are filtered for alternatives before [`MAX_RELATED`] apply).
const EARLIER_SCANNED: usize = 1_000;

/// Sibling ranges that overlap: one finding per range that overlaps a
/// sibling starting before it (or at the same port and declared earlier),
/// listing at most [`MAX_RELATED`] of them. A sweep over the siblings sorted
/// by their first port keeps the ranges still open in a heap by last port,
/// so that every open range overlaps the current one: O(n log n) for any
/// number of ranges, however they overlap.
fn overlapping_siblings(convention: &Convention, findings: &mut Vec<Finding>) {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;

    let mut by_parent: BTreeMap<Option<usize>, Vec<usize>> = BTreeMap::new();
    for (i, range) in convention.ranges.iter().enumerate() {
        by_parent.entry(range.parent).or_default().push(i);
    }
    for siblings in by_parent.values_mut() {
        siblings.sort_by_key(|&i| {
            convention
                .ranges
                .get(i)
                .map(|r| (r.ports.start(), i))
                .unwrap_or((0, i))
        });
        // Open ranges: (Reverse(last port), index).
        let mut open: BinaryHeap<(Reverse<u16>, usize)> = BinaryHeap::new();
        for &i in siblings.iter() {
            let Some(range) = convention.ranges.get(i) else {
                continue;
            };
            while open
                .peek()
                .is_some_and(|(Reverse(end), _)| *end < range.ports.start())
            {
                open.pop();
            }
            if !open.is_empty() {
                let mut earlier: Vec<usize> = open.iter().map(|&(_, j)| j).collect();
                earlier.sort_unstable();
                let named: Vec<&crate::RangeDef> = earlier
                    .iter()
                    .filter_map(|&j| convention.ranges.get(j))
                    .collect();
                let mut list: Vec<String> = named
                    .iter()
                    .take(MAX_RELATED)
                    .map(|r| format!("{} ({})", r.name, r.ports))
                    .collect();
                if named.len() > MAX_RELATED {
                    list.push(format!("and {} more", named.len() - MAX_RELATED));
                }
                let first_shared = named
                    .iter()
                    .map(|r| r.ports.start())
                    .max()
                    .unwrap_or(0)
                    .max(range.ports.start());
                let mut f = Finding::new(
                    Rule::OverlappingRanges,
                    format!(
                        "range {} ({}) overlaps range {}",
                        range.name,
                        range.ports,
                        list.join(", ")
                    ),
                )
                .at(&range.location)
                .with_port(first_shared);
                for other in named.iter().take(MAX_RELATED) {
                    f = f.with_related(&other.location, None);
                }
                findings.push(f);
            }
            open.push((Reverse(range.ports.end()), i));
        }
    }
}

fn check_ranges(convention: &Convention, findings: &mut Vec<Finding>) {
    overlapping_siblings(convention, findings);
    for range in &convention.ranges {
        if let Some(parent) = range.parent.and_then(|p| convention.ranges.get(p))
            && !parent.ports.contains_range(&range.ports)
        {
            findings.push(
                Finding::new(
                    Rule::RangeOutsideParent,
                    format!(
                        "range {} ({}) is not inside its parent {} ({})",
                        range.name, range.ports, parent.name, parent.ports
                    ),
                )
                .at(&range.location)
                .with_port(range.ports.start())
                .with_related(&parent.location, None),
            );
        }
        if range.parent.is_none() && range.ports.start() < 1024 {
            findings.push(
                Finding::new(
                    Rule::PrivilegedPort,
                    format!(
                        "range {} ({}) includes privileged ports (below 1024), which need root or CAP_NET_BIND_SERVICE to bind",
                        range.name, range.ports
                    ),
                )
                .at(&range.location)
                .with_port(range.ports.start()),
            );
        }
        if range.parent.is_none() && range.ports.overlaps(&EPHEMERAL_PORTS) {
            findings.push(
                Finding::new(
                    Rule::EphemeralPort,
                    format!(
                        "range {} ({}) overlaps Linux's ephemeral range {EPHEMERAL_PORTS}, where outgoing connections take ports at random",
                        range.name, range.ports
                    ),
                )
                .at(&range.location)
                .with_port(range.ports.start().max(EPHEMERAL_PORTS.start())),
            );
        }
    }
}

/// A free port to suggest for `service`: in its range if it has a known one.
fn suggest(convention: &Convention, range: Option<&str>) -> Option<u16> {
    let range = range?;
    allocate(convention, range, 1, &[])
        .ok()
        .and_then(|p| p.first().copied())
}

fn check_services(convention: &Convention, findings: &mut Vec<Finding>) {
    let mut by_port: BTreeMap<(u16, crate::Protocol), Vec<(usize, usize)>> = BTreeMap::new();
    let mut by_env: BTreeMap<&str, Vec<(usize, usize)>> = BTreeMap::new();
    for (si, service) in convention.services.iter().enumerate() {
        let range = match (&service.range, &service.range_location) {
            (Some(name), Some(location)) => match convention.range(name) {
                Some(r) => Some(r),
                None => {
                    let mut f = Finding::new(
                        Rule::UnknownRange,
                        format!(
                            "service {} names range {name:?}, which is not declared (ranges: {})",
                            service.name,
                            convention.range_names().join(", ")
                        ),
                    )
                    .at(location)
                    .with_service(&service.name);
                    f.value = Some(name.clone());
                    findings.push(f);
                    None
                }
            },
            _ => None,
        };
        if let (Some(base_name), Some(location)) = (&service.replica_of, &service.replica_location)
        {
            match convention.service(base_name) {
                None => findings.push(
                    Finding::new(
                        Rule::UnknownService,
                        format!(
                            "service {} is a replica of {base_name:?}, which is not declared",
                            service.name
                        ),
                    )
                    .at(location)
                    .with_service(&service.name),
                ),
                Some(base) => {
                    for port in &service.ports {
                        let base_port = base.ports.iter().find(|b| b.name == port.name);
                        let expected = base_port.and_then(|b| b.port.checked_add(1));
                        if expected != Some(port.port) {
                            let message = match (base_port, expected) {
                                (Some(b), Some(e)) => format!(
                                    "replica {} has {} on {}, but a replica takes its base's port + 1: {} {} is {}, so {e}",
                                    service.name,
                                    port.name,
                                    port.port,
                                    base.name,
                                    port.name,
                                    b.port
                                ),
                                _ => format!(
                                    "replica {} has port {} but its base {} has no port of that name",
                                    service.name, port.name, base.name
                                ),
                            };
                            let mut f = Finding::new(Rule::ReplicaNotAdjacent, message)
                                .at(&port.location)
                                .with_service(&service.name)
                                .with_port(port.port);
                            if let Some(b) = base_port {
                                f = f.with_related(&b.location, Some(base.name.clone()));
                            }
                            if let Some(e) = expected {
                                f = f.with_suggestion(e);
                            }
                            findings.push(f);
                        }
                    }
                }
            }
        }
        for (pi, port) in service.ports.iter().enumerate() {
            by_port
                .entry((port.port, port.protocol))
                .or_default()
                .push((si, pi));
            if let Some(env) = &port.env {
                by_env.entry(env).or_default().push((si, pi));
            }
            if let Some(range) = range
                && !range.ports.contains(port.port)
            {
                findings.push(
                    Finding::new(
                        Rule::PortOutsideRange,
                        format!(
                            "service {} port {} ({}) is outside its range {} ({})",
                            service.name, port.name, port.port, range.name, range.ports
                        ),
                    )
                    .at(&port.location)
                    .with_service(&service.name)
                    .with_port(port.port)
                    .with_related(&range.location, None),
                );
                if let Some(s) = suggest(convention, service.range.as_deref())
                    && let Some(last) = findings.last_mut()
                {
                    last.suggestion = Some(crate::Suggestion {
                        port: s,
                        host_ip: None,
                    });
                }
            }
            if let Some(reserved) = convention
                .ranges
                .iter()
                .find(|r| r.reserved && r.ports.contains(port.port))
            {
                let mut f = Finding::new(
                    Rule::PortInReservedRange,
                    format!(
                        "service {} port {} ({}) is inside reserved range {} ({})",
                        service.name, port.name, port.port, reserved.name, reserved.ports
                    ),
                )
                .at(&port.location)
                .with_service(&service.name)
                .with_port(port.port)
                .with_related(&reserved.location, None);
                if let Some(s) = suggest(convention, service.range.as_deref()) {
                    f = f.with_suggestion(s);
                }
                findings.push(f);
            }
            let about = format!(
                "service {} port {} ({})",
                service.name, port.name, port.port
            );
            let warning = |rule: Rule, why: &str| {
                Finding::new(rule, format!("{about} {why}"))
                    .at(&port.location)
                    .with_service(&service.name)
                    .with_port(port.port)
            };
            if port.port < 1024 {
                findings.push(warning(
                    Rule::PrivilegedPort,
                    "is privileged (below 1024): binding it needs root or CAP_NET_BIND_SERVICE",
                ));
            }
            if EPHEMERAL_PORTS.contains(port.port) {
                findings.push(warning(
                    Rule::EphemeralPort,
                    &format!(
                        "is in Linux's ephemeral range {EPHEMERAL_PORTS}: an outgoing connection may hold it when the service starts"
                    ),
                ));
            }
        }
    }
    // The lowest free port of a range is the same for every duplicate in it.
    let mut suggestions: BTreeMap<Option<String>, Option<u16>> = BTreeMap::new();
    for ((port, protocol), owners) in &by_port {
        for (n, &(si, pi)) in owners.iter().enumerate().skip(1) {
            let (Some(service), Some(assignment)) = (
                convention.services.get(si),
                convention.services.get(si).and_then(|s| s.ports.get(pi)),
            ) else {
                continue;
            };
            // Bounded: a port assigned thousands of times lists the first
            // few owners, not all of them each time.
            let earlier: Vec<_> = owners
                .iter()
                .take(n)
                .take(EARLIER_SCANNED)
                .filter_map(|&(osi, opi)| {
                    let other = convention.services.get(osi)?;
                    // Services living in alternative compose files never run together.
                    let alternatives = match (&service.compose_file, &other.compose_file) {
                        (Some(a), Some(b)) => convention.are_alternatives(a, b),
                        _ => false,
                    };
                    (!alternatives || osi == si)
                        .then(|| Some((other, other.ports.get(opi)?)))
                        .flatten()
                })
                .take(MAX_RELATED)
                .collect();
            let Some((first, first_port)) = earlier.first() else {
                continue;
            };
            let mut f = Finding::new(
                Rule::DuplicateAssignment,
                format!(
                    "{port}/{protocol} is assigned to {} ({}) and to {} ({})",
                    first.name, first_port.name, service.name, assignment.name
                ),
            )
            .at(&assignment.location)
            .with_service(&service.name)
            .with_port(*port);
            f.protocol = Some(*protocol);
            for (other, other_port) in &earlier {
                f = f.with_related(&other_port.location, Some(other.name.clone()));
            }
            let suggestion = *suggestions
                .entry(service.range.clone())
                .or_insert_with(|| suggest(convention, service.range.as_deref()));
            if let Some(s) = suggestion {
                f = f.with_suggestion(s);
            }
            findings.push(f);
        }
    }
    for (env, owners) in &by_env {
        for (n, &(si, pi)) in owners.iter().enumerate().skip(1) {
            let (Some(service), Some(assignment)) = (
                convention.services.get(si),
                convention.services.get(si).and_then(|s| s.ports.get(pi)),
            ) else {
                continue;
            };
            let mut f = Finding::new(
                Rule::DuplicateEnvVar,
                format!(
                    "environment variable {env} carries more than one port ({} {} here)",
                    service.name, assignment.name
                ),
            )
            .at(assignment
                .env_location
                .as_ref()
                .unwrap_or(&assignment.location))
            .with_service(&service.name)
            .with_port(assignment.port)
            .with_variable(*env, None);
            for &(osi, opi) in owners.iter().take(n).take(MAX_RELATED) {
                if let Some((other, op)) = convention
                    .services
                    .get(osi)
                    .and_then(|o| Some((o, o.ports.get(opi)?)))
                {
                    f = f.with_related(
                        op.env_location.as_ref().unwrap_or(&op.location),
                        Some(other.name.clone()),
                    );
                }
            }
            findings.push(f);
        }
    }
}

/// One table-driven case per rule of this module: a convention in, the
/// exact (rule, line) of every finding out, in order.
#[cfg(test)]
mod rule_tests {
    use crate::{Convention, Rule};

    /// `(name, ports.yaml, expected (rule, line) of every finding)`.
    type Case = (&'static str, &'static str, &'static [(Rule, u32)]);

    const CASES: &[Case] = &[
        (
            "a clean convention",
            "version: 1.0.0\nranges:\n  db: { ports: 7000-7099 }\nservices:\n  pg: { range: db, ports: { sql: { port: 7000, env: PG_PORT } } }\n",
            &[],
        ),
        (
            "overlapping-ranges",
            "version: 1.0.0\nranges:\n  a: { ports: 7000-7099 }\n  b: { ports: 7050-7149 }\n",
            &[(Rule::OverlappingRanges, 4)],
        ),
        (
            "range-outside-parent",
            "version: 1.0.0\nranges:\n  db:\n    ports: 7000-7099\n    ranges:\n      primary: { ports: 7050-7149 }\n",
            &[(Rule::RangeOutsideParent, 6)],
        ),
        (
            "duplicate-assignment",
            "version: 1.0.0\nranges:\n  db: { ports: 7000-7099 }\nservices:\n  a: { range: db, ports: { p: { port: 7000 } } }\n  b: { range: db, ports: { p: { port: 7000 } } }\n",
            &[(Rule::DuplicateAssignment, 6)],
        ),
        (
            "port-outside-range",
            "version: 1.0.0\nranges:\n  db: { ports: 7000-7099 }\nservices:\n  a: { range: db, ports: { p: { port: 8000 } } }\n",
            &[(Rule::PortOutsideRange, 5)],
        ),
        (
            "port-in-reserved-range",
            "version: 1.0.0\nranges:\n  db:\n    ports: 7000-7099\n    ranges:\n      spare: { ports: 7090-7099, reserved: true }\nservices:\n  a: { range: db, ports: { p: { port: 7095 } } }\n",
            &[(Rule::PortInReservedRange, 8)],
        ),
        (
            "unknown-range",
            "version: 1.0.0\nranges:\n  db: { ports: 7000-7099 }\nservices:\n  a: { range: nope, ports: { p: { port: 7000 } } }\n",
            &[(Rule::UnknownRange, 5)],
        ),
        (
            "privileged-port (a top-level range, and an assignment)",
            "version: 1.0.0\nranges:\n  low: { ports: 80-90 }\nservices:\n  web: { range: low, ports: { http: { port: 80 } } }\n",
            &[(Rule::PrivilegedPort, 3), (Rule::PrivilegedPort, 5)],
        ),
        (
            "ephemeral-port",
            "version: 1.0.0\nranges:\n  hi: { ports: 40000-40099 }\nservices:\n  x: { range: hi, ports: { p: { port: 40000 } } }\n",
            &[(Rule::EphemeralPort, 3), (Rule::EphemeralPort, 5)],
        ),
        (
            "duplicate-env-var",
            "version: 1.0.0\nranges:\n  db: { ports: 7000-7099 }\nservices:\n  a: { range: db, ports: { p: { port: 7000, env: SAME } } }\n  b: { range: db, ports: { p: { port: 7001, env: SAME } } }\n",
            &[(Rule::DuplicateEnvVar, 6)],
        ),
        (
            "unknown-service (replica of nothing)",
            "version: 1.0.0\nranges:\n  db: { ports: 7000-7099 }\nservices:\n  a: { range: db, replica_of: ghost, ports: { p: { port: 7001 } } }\n",
            &[(Rule::UnknownService, 5)],
        ),
        (
            "replica-not-adjacent",
            "version: 1.0.0\nranges:\n  db: { ports: 7000-7099 }\nservices:\n  pg: { range: db, ports: { sql: { port: 7000 } } }\n  pg2: { range: db, replica_of: pg, ports: { sql: { port: 7005 } } }\n",
            &[(Rule::ReplicaNotAdjacent, 6)],
        ),
    ];

    fn findings(yaml: &str) -> Vec<(Rule, u32)> {
        let convention = Convention::from_yaml("ports.yaml", yaml).unwrap();
        super::validate_convention(&convention)
            .into_iter()
            .map(|f| (f.rule, f.line().unwrap_or(0)))
            .collect()
    }

    #[test]
    fn every_rule_of_the_convention() {
        let mut failures = Vec::new();
        for (name, yaml, expected) in CASES {
            let got = findings(yaml);
            if got != *expected {
                failures.push(format!("{name}: got {got:?}, expected {expected:?}"));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    /// Every rule this module produces has a case.
    #[test]
    fn every_rule_has_a_case() {
        let covered: std::collections::BTreeSet<Rule> = CASES
            .iter()
            .flat_map(|(_, _, expected)| expected.iter().map(|(rule, _)| *rule))
            .collect();
        let source = include_str!("validate.rs");
        for rule in Rule::ALL {
            let variant = format!("Rule::{rule:?}");
            if source
                .split("mod rule_tests")
                .next()
                .unwrap_or("")
                .contains(&variant)
            {
                assert!(covered.contains(rule), "no case for {}", rule.id());
            }
        }
    }
}
