//! Allocation: the lowest free ports of a named range.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Serialize;

use crate::check::Scan;
use crate::{Convention, Error, Location, PortRange};

/// Why a port of a range is not free.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Taken {
    Assigned(String),
    Reserved(String),
    Claimed,
}

fn taken(
    convention: &Convention,
    range: PortRange,
    claims: &BTreeSet<u16>,
    port: u16,
) -> Option<Taken> {
    if let Some((service, _)) = convention.assignments().find(|(_, p)| p.port == port) {
        return Some(Taken::Assigned(service.name.clone()));
    }
    if let Some(reserved) = convention
        .ranges
        .iter()
        .find(|r| r.reserved && r.ports.contains(port) && r.ports.overlaps(&range))
    {
        return Some(Taken::Reserved(reserved.name.clone()));
    }
    claims.contains(&port).then_some(Taken::Claimed)
}

/// The `count` lowest free ports of the range called `range`, ascending.
///
/// A port is free when no service of the convention is assigned it (in any
/// protocol), it lies in no reserved range, and it is not in `claims` (ports
/// already used elsewhere, for instance published by compose files or
/// listening on this machine). The answer depends only on the inputs.
///
/// ```
/// use port_convention::{Convention, allocate};
/// let convention = Convention::from_yaml("ports.yaml", "version: 1.0.0
/// ranges:
///   db:
///     ports: 7000-7009
///     ranges: { spare: { ports: 7005-7009, reserved: true } }
/// services:
///   pg: { range: db, ports: { sql: { port: 7000 } } }
/// ")?;
/// assert_eq!(allocate(&convention, "db", 2, &[7001])?, vec![7002, 7003]);
/// let full = allocate(&convention, "db", 5, &[]).unwrap_err();
/// assert_eq!(full.code(), "range-full");
/// # Ok::<(), port_convention::Error>(())
/// ```
///
/// # Errors
///
/// - [`Error::UnknownRange`] when no range has that name.
/// - [`Error::RangeFull`] when fewer than `count` ports are free; the message
///   says what fills the range.
/// - [`Error::InvalidArgument`] when `count` is 0 or more than 65535.
///
/// Port 0 is never returned (binding port 0 asks the system for any port).
pub fn allocate(
    convention: &Convention,
    range: &str,
    count: usize,
    claims: &[u16],
) -> Result<Vec<u16>, Error> {
    let claims: BTreeSet<u16> = claims.iter().copied().collect();
    allocate_with(convention, range, count, &|port| claims.contains(&port))
}

/// [`allocate`] with the claimed ports given as a predicate, for callers
/// that keep their own index of ports in use (the repository check).
///
/// # Errors
///
/// As [`allocate`].
pub fn allocate_with(
    convention: &Convention,
    range: &str,
    count: usize,
    is_claimed: &dyn Fn(u16) -> bool,
) -> Result<Vec<u16>, Error> {
    let claimed = |port: u16| is_claimed(port).then_some(Skip::InUse);
    allocate_explained(convention, range, count, &claimed).map(|a| a.ports)
}

/// Why [`allocate_explained`] skipped a port of the range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "kebab-case")]
pub enum Skip {
    /// A service of the convention is assigned it.
    Assigned {
        /// The convention service.
        service: String,
    },
    /// It lies in a reserved range.
    Reserved {
        /// The reserved range.
        range: String,
    },
    /// A compose file of the repository publishes it.
    Published {
        /// The compose service.
        service: String,
        /// The mapping.
        location: Location,
    },
    /// It is in use (held on this machine, or given by the caller).
    InUse,
}

impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Skip::Assigned { service } => {
                write!(f, "assigned to service {service} by the convention")
            }
            Skip::Reserved { range } => write!(f, "in reserved range {range}"),
            Skip::Published { service, location } => {
                write!(f, "published by service {service} at {location}")
            }
            Skip::InUse => f.write_str("in use on this machine"),
        }
    }
}

/// A port [`allocate_explained`] passed over, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// The port.
    pub port: u16,
    /// Why.
    #[serde(flatten)]
    pub skip: Skip,
}

/// The ports [`allocate_explained`] hands out, with every port of the range
/// below the last one that it passed over.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Allocation {
    /// The free ports, ascending.
    pub ports: Vec<u16>,
    /// The ports skipped on the way, ascending, each with its reason.
    pub skipped: Vec<Skipped>,
}

/// The host ports the compose files of a scan publish, each with the first
/// mapping (by start port) that publishes it: an index of disjoint
/// intervals, built in O(n log n) and asked in O(log n), however wide the
/// published ranges are.
#[derive(Debug, Clone, Default)]
pub struct PublishedIndex {
    /// start -> (end, compose service, mapping).
    intervals: BTreeMap<u16, (u16, String, Location)>,
}

impl PublishedIndex {
    /// The index of everything `scan` publishes.
    pub fn of(scan: &Scan) -> Self {
        let mut all: Vec<(u16, u16, &crate::compose::Claim)> = scan
            .published()
            .map(|(claim, range)| (range.start(), range.end(), claim))
            .collect();
        all.sort_by(|a, b| {
            (
                a.0,
                a.1,
                &a.2.location.file,
                a.2.location.line,
                a.2.location.column,
            )
                .cmp(&(
                    b.0,
                    b.1,
                    &b.2.location.file,
                    b.2.location.line,
                    b.2.location.column,
                ))
        });
        let mut intervals = BTreeMap::new();
        let mut covered: Option<u16> = None;
        for (start, end, claim) in all {
            let from = match covered {
                Some(c) if c >= end => continue,
                Some(c) => start.max(c + 1),
                None => start,
            };
            intervals.insert(
                from,
                (
                    end,
                    claim.service.clone(),
                    Location::new(
                        claim.location.file.clone(),
                        claim.location.line,
                        claim.location.column,
                    ),
                ),
            );
            covered = Some(end);
        }
        PublishedIndex { intervals }
    }

    /// Who publishes `port`, if anyone.
    pub fn get(&self, port: u16) -> Option<Skip> {
        let (_, (end, service, location)) = self.intervals.range(..=port).next_back()?;
        (port <= *end).then(|| Skip::Published {
            service: service.clone(),
            location: location.clone(),
        })
    }
}

/// [`allocate`], saying why each port below the last one handed out was
/// skipped: assigned by the convention, in a reserved range, or what
/// `claimed` says (published by a compose file, see [`PublishedIndex`],
/// or in use).
///
/// ```
/// use port_convention::{Convention, allocate_explained, Skip};
/// let convention = Convention::from_yaml("ports.yaml", "version: 1.0.0
/// ranges: { db: { ports: 7000-7009 } }
/// services:
///   pg: { range: db, ports: { sql: { port: 7000 } } }
/// ")?;
/// let got = allocate_explained(&convention, "db", 1, &|p| (p == 7001).then_some(Skip::InUse))?;
/// assert_eq!(got.ports, vec![7002]);
/// assert_eq!(got.skipped[0].port, 7000);
/// assert_eq!(got.skipped[0].skip.to_string(), "assigned to service pg by the convention");
/// assert_eq!(got.skipped[1].skip, Skip::InUse);
/// # Ok::<(), port_convention::Error>(())
/// ```
///
/// # Errors
///
/// As [`allocate`].
pub fn allocate_explained(
    convention: &Convention,
    range: &str,
    count: usize,
    claimed: &dyn Fn(u16) -> Option<Skip>,
) -> Result<Allocation, Error> {
    if count == 0 {
        return Err(Error::InvalidArgument {
            message: "count must be at least 1".into(),
        });
    }
    if count > usize::from(u16::MAX) {
        return Err(Error::InvalidArgument {
            message: format!(
                "count {count} is more than the 65535 ports that exist (1-65535); ask for at most 65535"
            ),
        });
    }
    let def = convention.range(range).ok_or_else(|| Error::UnknownRange {
        name: range.to_owned(),
        known: convention.range_names(),
    })?;
    let assigned: BTreeMap<u16, &str> = convention
        .assignments()
        .map(|(s, p)| (p.port, s.name.as_str()))
        .collect();
    let reserved: Vec<&crate::RangeDef> = convention
        .ranges
        .iter()
        .filter(|r| r.reserved && r.ports.overlaps(&def.ports))
        .collect();
    let mut free = Vec::with_capacity(count.min(def.ports.len() as usize));
    let mut skipped = Vec::new();
    // Port 0 is never allocated: binding it asks the system for any port.
    for port in def.ports.iter().filter(|p| *p != 0) {
        let skip = if let Some(service) = assigned.get(&port) {
            Some(Skip::Assigned {
                service: (*service).to_owned(),
            })
        } else if let Some(r) = reserved.iter().find(|r| r.ports.contains(port)) {
            Some(Skip::Reserved {
                range: r.name.clone(),
            })
        } else {
            claimed(port)
        };
        match skip {
            Some(skip) => skipped.push(Skipped { port, skip }),
            None => {
                free.push(port);
                if free.len() == count {
                    return Ok(Allocation {
                        ports: free,
                        skipped,
                    });
                }
            }
        }
    }
    // Not enough: say what fills the range.
    let in_range: Vec<String> = assigned
        .range(def.ports.start()..=def.ports.end())
        .map(|(port, service)| format!("{service} {port}"))
        .collect();
    let claimed = def
        .ports
        .iter()
        .filter(|p| *p != 0)
        .filter(|p| !assigned.contains_key(p) && !reserved.iter().any(|r| r.ports.contains(*p)))
        .filter(|p| claimed(*p).is_some())
        .count();
    let mut occupied = Vec::new();
    if !in_range.is_empty() {
        occupied.push(format!(
            "{} assigned to services ({})",
            in_range.len(),
            in_range.join(", ")
        ));
    }
    for r in &reserved {
        occupied.push(format!("reserved range {} ({})", r.name, r.ports));
    }
    if claimed > 0 {
        occupied.push(format!("{claimed} already in use"));
    }
    if def.ports.contains(0) {
        occupied.push("port 0 (never allocated: it means any port)".into());
    }
    Err(Error::RangeFull {
        range: range.to_owned(),
        ports: def.ports.to_string(),
        free: u32::try_from(free.len()).unwrap_or(u32::MAX),
        requested: u32::try_from(count).unwrap_or(u32::MAX),
        occupied: if occupied.is_empty() {
            "nothing else is free".into()
        } else {
            format!("taken: {}", occupied.join("; "))
        },
    })
}

/// The ports a new replica of `base` gets: each of the base service's ports + 1,
/// by port name.
///
/// ```
/// use port_convention::{Convention, allocate_replica};
/// let convention = Convention::from_yaml("ports.yaml", "version: 1.0.0
/// ranges: { db: { ports: 7000-7099 } }
/// services:
///   pg: { range: db, ports: { sql: { port: 7000 } } }
/// ")?;
/// assert_eq!(allocate_replica(&convention, "pg", &[])?, vec![("sql".to_string(), 7001)]);
/// # Ok::<(), port_convention::Error>(())
/// ```
///
/// # Errors
///
/// [`Error::InvalidArgument`] when `base` is not a service, and
/// [`Error::RangeFull`] when a base port + 1 is taken or past 65535.
pub fn allocate_replica(
    convention: &Convention,
    base: &str,
    claims: &[u16],
) -> Result<Vec<(String, u16)>, Error> {
    let service = convention
        .service(base)
        .ok_or_else(|| Error::InvalidArgument {
            message: format!("no service named {base:?} in the convention"),
        })?;
    let claims: BTreeSet<u16> = claims.iter().copied().collect();
    let mut ports = Vec::new();
    for assignment in &service.ports {
        let range_name = service.range.clone().unwrap_or_default();
        let full = |occupied: String| Error::RangeFull {
            range: range_name.clone(),
            ports: assignment.port.to_string(),
            free: 0,
            requested: 1,
            occupied,
        };
        let port = assignment
            .port
            .checked_add(1)
            .ok_or_else(|| full(format!("{} + 1 is past 65535", assignment.port)))?;
        let range = PortRange::single(port);
        if let Some(reason) = taken(convention, range, &claims, port) {
            let why = match reason {
                Taken::Assigned(s) => format!("{port} is assigned to {s}"),
                Taken::Reserved(r) => format!("{port} is in reserved range {r}"),
                Taken::Claimed => format!("{port} is already in use"),
            };
            return Err(full(why));
        }
        ports.push((assignment.name.clone(), port));
    }
    Ok(ports)
}

#[cfg(test)]
mod published_tests {
    use super::*;
    use crate::check::{TreeTexts, scan_texts};

    fn index(compose: &str) -> PublishedIndex {
        let read = TreeTexts {
            compose: vec!["c.yml".into()],
            texts: BTreeMap::from([("c.yml".to_owned(), compose.to_owned())]),
            ..TreeTexts::default()
        };
        PublishedIndex::of(&scan_texts(&read, &BTreeMap::new(), None))
    }

    #[test]
    fn overlapping_and_nested_ranges_are_indexed_once() {
        let idx = index(
            "services:\n  a:\n    ports:\n      - \"7000-7010:7000-7010\"\n  b:\n    ports:\n      - \"7005:80\"\n      - \"7008-7020:7008-7020\"\n  c:\n    ports:\n      - \"65535:1\"\n",
        );
        let who = |p: u16| match idx.get(p) {
            Some(Skip::Published { service, .. }) => Some(service),
            _ => None,
        };
        assert_eq!(who(6999), None);
        assert_eq!(who(7000).as_deref(), Some("a"));
        assert_eq!(who(7005).as_deref(), Some("a"));
        assert_eq!(who(7010).as_deref(), Some("a"));
        assert_eq!(who(7011).as_deref(), Some("b"));
        assert_eq!(who(7020).as_deref(), Some("b"));
        assert_eq!(who(7021), None);
        assert_eq!(who(65535).as_deref(), Some("c"));
    }
}
