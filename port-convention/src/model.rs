//! Port values: single ports, inclusive ranges, protocols, host IPs and the
//! normalized port mapping of a compose service.
//!
//! These are plain values with a text grammar each (`FromStr` / `Display`), so
//! that every other module, the CLI and both bindings speak the same language.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{Error, PortRangeReason};

/// An inclusive range of ports, written `7000-7999` (or `7000` for one port).
///
/// # Examples
///
/// ```
/// use port_convention::PortRange;
///
/// let databases: PortRange = "7000-7999".parse()?;
/// assert_eq!(databases.start(), 7000);
/// assert_eq!(databases.end(), 7999);
/// assert_eq!(databases.len(), 1000);
/// assert!(databases.contains(7010));
/// assert_eq!(databases.to_string(), "7000-7999");
/// # Ok::<(), port_convention::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PortRange {
    start: u16,
    end: u16,
}

impl PortRange {
    /// A range from `start` to `end`, both included.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidPortRange`] when `end < start`.
    pub fn new(start: u16, end: u16) -> Result<Self, Error> {
        if end < start {
            return Err(Error::InvalidPortRange {
                value: format!("{start}-{end}"),
                reason: PortRangeReason::EndBelowStart,
            });
        }
        Ok(PortRange { start, end })
    }

    /// The smallest range holding both ports, whatever their order.
    ///
    /// ```
    /// # use port_convention::PortRange;
    /// assert_eq!(PortRange::spanning(9, 3).to_string(), "3-9");
    /// ```
    pub const fn spanning(a: u16, b: u16) -> Self {
        if a <= b {
            PortRange { start: a, end: b }
        } else {
            PortRange { start: b, end: a }
        }
    }

    /// The range holding exactly one port.
    ///
    /// ```
    /// # use port_convention::PortRange;
    /// assert_eq!(PortRange::single(80).to_string(), "80");
    /// ```
    pub const fn single(port: u16) -> Self {
        PortRange {
            start: port,
            end: port,
        }
    }

    /// The first port.
    pub const fn start(&self) -> u16 {
        self.start
    }

    /// The last port (included).
    pub const fn end(&self) -> u16 {
        self.end
    }

    /// How many ports the range holds (at least 1).
    #[allow(clippy::len_without_is_empty)]
    pub const fn len(&self) -> u32 {
        self.end as u32 - self.start as u32 + 1
    }

    /// Whether `port` lies in the range.
    pub const fn contains(&self, port: u16) -> bool {
        self.start <= port && port <= self.end
    }

    /// Whether every port of `other` lies in this range.
    ///
    /// ```
    /// # use port_convention::PortRange;
    /// let db = PortRange::new(7000, 7999).unwrap();
    /// assert!(db.contains_range(&PortRange::new(7000, 7099).unwrap()));
    /// assert!(!db.contains_range(&PortRange::new(6990, 7010).unwrap()));
    /// ```
    pub const fn contains_range(&self, other: &PortRange) -> bool {
        self.start <= other.start && other.end <= self.end
    }

    /// Whether the two ranges share at least one port.
    pub const fn overlaps(&self, other: &PortRange) -> bool {
        self.start <= other.end && other.start <= self.end
    }

    /// The ports of the range, in order.
    pub fn iter(&self) -> impl Iterator<Item = u16> + use<> {
        self.start..=self.end
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.start == self.end {
            write!(f, "{}", self.start)
        } else {
            write!(f, "{}-{}", self.start, self.end)
        }
    }
}

impl FromStr for PortRange {
    type Err = Error;

    /// Parses `N` or `N-M` with decimal ports 0-65535 and `N <= M`, the grammar
    /// of go-connections' `ParsePortRange`.
    fn from_str(text: &str) -> Result<Self, Error> {
        let invalid = |reason: PortRangeReason| Error::InvalidPortRange {
            value: text.to_owned(),
            reason,
        };
        if text.is_empty() {
            return Err(invalid(PortRangeReason::Empty));
        }
        match text.split_once('-') {
            None => parse_decimal_port(text)
                .map(PortRange::single)
                .map_err(invalid),
            Some((start, end)) => {
                let start = parse_decimal_port(start).map_err(invalid)?;
                let end = parse_decimal_port(end).map_err(invalid)?;
                PortRange::new(start, end).map_err(|_| invalid(PortRangeReason::EndBelowStart))
            }
        }
    }
}

/// Parses a port the way Go's `strconv.ParseUint(s, 10, 16)` does: ASCII
/// digits only (leading zeros allowed), value at most 65535.
pub(crate) fn parse_decimal_port(text: &str) -> Result<u16, PortRangeReason> {
    if text.is_empty() {
        return Err(PortRangeReason::EmptyPort);
    }
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(PortRangeReason::NotDecimal {
            port: text.to_owned(),
        });
    }
    // Digits only, so the only failure left is overflow.
    text.parse::<u16>()
        .map_err(|_| PortRangeReason::OutOfRange {
            port: text.to_owned(),
        })
}

impl Serialize for PortRange {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PortRange {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct RangeVisitor;
        impl serde::de::Visitor<'_> for RangeVisitor {
            type Value = PortRange;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a port range such as 7000-7999, or a single port")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<PortRange, E> {
                u16::try_from(v)
                    .map(PortRange::single)
                    .map_err(|_| E::custom(format!("port {v} is out of range (0-65535)")))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<PortRange, E> {
                u16::try_from(v)
                    .map(PortRange::single)
                    .map_err(|_| E::custom(format!("port {v} is out of range (0-65535)")))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<PortRange, E> {
                v.parse().map_err(E::custom)
            }
        }
        deserializer.deserialize_any(RangeVisitor)
    }
}

impl schemars::JsonSchema for PortRange {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "PortRange".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "An inclusive port range `START-END` such as `7000-7999`, or one port.",
            "oneOf": [
                { "type": "string", "pattern": "^[0-9]{1,5}(-[0-9]{1,5})?$" },
                { "type": "integer", "minimum": 0, "maximum": 65535 }
            ]
        })
    }
}

/// A transport protocol of a published port.
///
/// Parsed case-insensitively, printed lower case, as compose does.
///
/// ```
/// use port_convention::Protocol;
/// assert_eq!("UDP".parse::<Protocol>()?, Protocol::Udp);
/// assert_eq!(Protocol::Sctp.to_string(), "sctp");
/// # Ok::<(), port_convention::Error>(())
/// ```
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// TCP, the default.
    #[default]
    Tcp,
    /// UDP.
    Udp,
    /// SCTP.
    Sctp,
}

impl Protocol {
    /// The lower-case name.
    pub const fn as_str(&self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
            Protocol::Sctp => "sctp",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Protocol {
    type Err = Error;
    fn from_str(text: &str) -> Result<Self, Error> {
        match text.to_ascii_lowercase().as_str() {
            "tcp" => Ok(Protocol::Tcp),
            "udp" => Ok(Protocol::Udp),
            "sctp" => Ok(Protocol::Sctp),
            _ => Err(Error::InvalidPortSpec {
                spec: text.to_owned(),
                reason: crate::PortSpecReason::InvalidProtocol {
                    protocol: text.to_owned(),
                },
            }),
        }
    }
}

/// The host address a port is published on.
///
/// Semantics for overlap (see [`HostIp::overlaps`]):
///
/// - [`HostIp::Unspecified`] (no address written): Docker binds both
///   `0.0.0.0` and `::`, so it overlaps every address of both families
///   (dual stack).
/// - `0.0.0.0` overlaps every IPv4 address; `::` overlaps every IPv6 address.
///   `0.0.0.0` and `::` do not overlap each other: for a port published
///   without an address Docker opens `0.0.0.0:P` and `[::]:P` as two separate
///   listeners, the `::` one IPv6-only (docs/adr/0003-check-semantics.md).
/// - An IPv4-mapped IPv6 address (`::ffff:127.0.0.1`) is its IPv4 address.
/// - Two specific addresses overlap only when equal (`127.0.0.1` and
///   `127.0.0.2` do not).
///
/// ```
/// use port_convention::HostIp;
/// let any: HostIp = "".parse()?;
/// let v4_any: HostIp = "0.0.0.0".parse()?;
/// let lo: HostIp = "127.0.0.1".parse()?;
/// assert!(any.overlaps(&lo) && v4_any.overlaps(&lo));
/// assert!(!lo.overlaps(&"127.0.0.2".parse()?));
/// assert!(!v4_any.overlaps(&"::1".parse()?));
/// # Ok::<(), port_convention::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum HostIp {
    /// No address given: every interface of both families.
    #[default]
    Unspecified,
    /// One IP address (possibly a wildcard such as `0.0.0.0` or `::`).
    Addr(IpAddr),
}

impl HostIp {
    /// The address family view used for overlap: mapped IPv6 becomes IPv4.
    fn canonical(&self) -> Option<IpAddr> {
        match self {
            HostIp::Unspecified => None,
            HostIp::Addr(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
                Some(v4) => Some(IpAddr::V4(v4)),
                None => Some(IpAddr::V6(*v6)),
            },
            HostIp::Addr(ip) => Some(*ip),
        }
    }

    /// Whether a port bound here is reachable from every interface of some
    /// family: no address, `0.0.0.0` or `::`.
    pub fn is_all_interfaces(&self) -> bool {
        match self.canonical() {
            None => true,
            Some(ip) => ip.is_unspecified(),
        }
    }

    /// Whether the address is a loopback address (`127.0.0.0/8`, `::1`).
    pub fn is_loopback(&self) -> bool {
        self.canonical().is_some_and(|ip| ip.is_loopback())
    }

    /// Whether the same port bound on both addresses would clash.
    pub fn overlaps(&self, other: &HostIp) -> bool {
        match (self.canonical(), other.canonical()) {
            (None, _) | (_, None) => true,
            (Some(IpAddr::V4(a)), Some(IpAddr::V4(b))) => {
                a == b || a == Ipv4Addr::UNSPECIFIED || b == Ipv4Addr::UNSPECIFIED
            }
            (Some(IpAddr::V6(a)), Some(IpAddr::V6(b))) => {
                a == b || a == Ipv6Addr::UNSPECIFIED || b == Ipv6Addr::UNSPECIFIED
            }
            _ => false,
        }
    }
}

impl fmt::Display for HostIp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostIp::Unspecified => Ok(()),
            HostIp::Addr(ip) => write!(f, "{ip}"),
        }
    }
}

impl FromStr for HostIp {
    type Err = Error;

    /// Parses an empty string (no address), an IPv4 address, or an IPv6
    /// address with or without brackets. Host names are rejected, as compose
    /// does.
    fn from_str(text: &str) -> Result<Self, Error> {
        if text.is_empty() {
            return Ok(HostIp::Unspecified);
        }
        let bare = text
            .strip_prefix('[')
            .and_then(|t| t.strip_suffix(']'))
            .unwrap_or(text);
        bare.parse::<IpAddr>()
            .map(HostIp::Addr)
            .map_err(|_| Error::InvalidHostIp {
                value: text.to_owned(),
            })
    }
}

impl Serialize for HostIp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// The host side of a mapping: nothing (an ephemeral port chosen by Docker),
/// one port, or a range Docker picks one port from.
///
/// Serialized as compose-go's `published` string: `""`, `"8080"`, `"80-90"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Published {
    /// No host port: Docker picks an ephemeral one.
    #[default]
    None,
    /// One host port.
    Port(u16),
    /// A host range (only with a single container port).
    Range(PortRange),
}

impl Published {
    /// The host ports this can occupy, if any.
    pub fn range(&self) -> Option<PortRange> {
        match self {
            Published::None => None,
            Published::Port(p) => Some(PortRange::single(*p)),
            Published::Range(r) => Some(*r),
        }
    }
}

impl fmt::Display for Published {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Published::None => Ok(()),
            Published::Port(p) => write!(f, "{p}"),
            Published::Range(r) => write!(f, "{r}"),
        }
    }
}

impl Serialize for Published {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// How a port is published (compose's `mode`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Routing-mesh publishing, compose's default.
    #[default]
    Ingress,
    /// Publish on the host of the container only.
    Host,
    /// Any other mode string, kept as written (compose does not validate it).
    #[serde(untagged)]
    Other(String),
}

impl Mode {
    /// The mode as compose writes it.
    pub fn as_str(&self) -> &str {
        match self {
            Mode::Ingress => "ingress",
            Mode::Host => "host",
            Mode::Other(s) => s,
        }
    }
}

impl From<&str> for Mode {
    fn from(text: &str) -> Self {
        match text {
            "ingress" => Mode::Ingress,
            "host" => Mode::Host,
            other => Mode::Other(other.to_owned()),
        }
    }
}

/// One container port and how it is published: the shape of compose-go's
/// `ServicePortConfig`.
///
/// ```
/// use port_convention::{PortMapping, Published, Protocol};
/// let m = PortMapping::new(5432).published(Published::Port(7000));
/// assert_eq!(m.to_string(), "7000:5432/tcp");
/// assert_eq!(m.protocol, Protocol::Tcp);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct PortMapping {
    /// The host address (empty when none is given).
    pub host_ip: HostIp,
    /// The host port or range.
    pub published: Published,
    /// The container port.
    pub target: u16,
    /// The transport protocol.
    pub protocol: Protocol,
    /// Publishing mode.
    pub mode: Mode,
    /// A human-readable name (long syntax only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The application protocol (long syntax only), e.g. `http`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_protocol: Option<String>,
}

impl PortMapping {
    /// A container-only TCP mapping in ingress mode.
    pub fn new(target: u16) -> Self {
        PortMapping {
            host_ip: HostIp::Unspecified,
            published: Published::None,
            target,
            protocol: Protocol::Tcp,
            mode: Mode::Ingress,
            name: None,
            app_protocol: None,
        }
    }

    /// The same mapping published on `published`.
    pub fn published(mut self, published: Published) -> Self {
        self.published = published;
        self
    }
}

impl fmt::Display for PortMapping {
    /// Prints the short syntax that parses back to this mapping (name, mode
    /// and app_protocol have no short syntax and are not printed).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.host_ip {
            HostIp::Unspecified => {}
            HostIp::Addr(IpAddr::V6(ip)) => write!(f, "[{ip}]:")?,
            HostIp::Addr(ip) => write!(f, "{ip}:")?,
        }
        match self.published {
            Published::None if self.host_ip != HostIp::Unspecified => f.write_str(":")?,
            Published::None => {}
            p => write!(f, "{p}:")?,
        }
        write!(f, "{}/{}", self.target, self.protocol)
    }
}
