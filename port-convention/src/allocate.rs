//! Allocation: the lowest free ports of a named range.

use std::collections::{BTreeMap, BTreeSet};

use crate::{Convention, Error, PortRange};

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
    // Port 0 is never allocated: binding it asks the system for any port.
    for port in def.ports.iter().filter(|p| *p != 0) {
        if !assigned.contains_key(&port)
            && !reserved.iter().any(|r| r.ports.contains(port))
            && !is_claimed(port)
        {
            free.push(port);
            if free.len() == count {
                return Ok(free);
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
        .filter(|p| is_claimed(*p))
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
