//! Docker Compose `ports:` entries, parsed the way the Docker Compose binary
//! parses them.
//!
//! Three shapes of entry exist in a compose file:
//!
//! - the **short syntax**, a string `[[HOST_IP:]HOST:]CONTAINER[/PROTOCOL]`
//!   ([`parse_port_spec`]), which compose-go hands to go-connections'
//!   `nat.ParsePortSpec` (v0.6, the version Docker Compose v2.40.3 links)
//!   and then orders with `types.ParsePortConfig`;
//! - a bare YAML **integer** such as `- 80` ([`parse_port_number`]), which
//!   compose-go formats in decimal and parses as short syntax;
//! - the **long syntax**, a mapping with `target`, `published`, `host_ip`,
//!   `protocol`, `mode`, `name`, `app_protocol` and `x-*` keys
//!   ([`parse_long_syntax`], [`parse_long_syntax_json`]).
//!
//! [`parse_port_entry`] and [`parse_port_entry_json`] dispatch on the shape.
//! Every failure is an [`Error::InvalidPortSpec`] (code `invalid-port-spec`)
//! whose reason uses compose's own words. The grammar, its upstream sources
//! and every deliberate divergence are described in `docs/compat-ports.md`.

use std::fmt::Write as _;
use std::net::IpAddr;

use crate::{Error, HostIp, Mode, PortMapping, PortRange, PortSpecReason, Protocol, Published};

/// One scalar value of a YAML (or JSON) node, as a long-syntax field value.
///
/// ```
/// use port_convention::port_spec::Scalar;
/// let published = Scalar::Str("8000-8010".into());
/// assert_ne!(published, Scalar::Int(8000));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    /// `null` / `~` / an empty value.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// An integer.
    Int(i128),
    /// A floating-point number.
    Float(f64),
    /// A string.
    Str(String),
}

/// Parses one short-syntax `ports:` entry (already interpolated).
///
/// The grammar is go-connections v0.6 `nat.ParsePortSpec`, the version the
/// Docker Compose v2.40.3 binary links:
/// `[[HOST_IP:]HOST_PORT:]CONTAINER_PORT[/PROTOCOL]`, where either port may
/// be a range `START-END` (unsigned decimal; a third `-` part is ignored, as
/// v0.6 does), the protocol is `tcp`, `udp` or `sctp` in any case,
/// and the host IP is an IPv4 or IPv6 address, bracketed or not
/// (`[::1]:80:80`, `::1:80:80`). A container range is expanded to one mapping
/// per container port (paired with an equal-length host range), ordered as
/// compose-go orders them: by the *text* of the container port, so `100`
/// comes before `99`. A host range with a single container port stays a range.
///
/// # Errors
///
/// [`Error::InvalidPortSpec`] with compose's message as the reason, for
/// instance `invalid containerPort: x`, `invalid hostPort: x`,
/// `invalid IP address: x`, `invalid proto: x` (also `invalid proto: ` for
/// an empty container port, such as `""` or `80:`),
/// `invalid ranges specified for container and host Ports: a and b`, or
/// `missing a target port` for container port 0.
///
/// # Examples
///
/// ```
/// use port_convention::port_spec::parse_port_spec;
/// use port_convention::{Protocol, Published};
///
/// let m = parse_port_spec("127.0.0.1:8080:80/UDP")?;
/// assert_eq!(m.len(), 1);
/// assert_eq!(m[0].target, 80);
/// assert_eq!(m[0].published, Published::Port(8080));
/// assert_eq!(m[0].protocol, Protocol::Udp);
/// assert_eq!(m[0].host_ip.to_string(), "127.0.0.1");
///
/// // Ranges expand in compose-go's (string) order.
/// let targets: Vec<u16> = parse_port_spec("98-100:98-100")?.iter().map(|m| m.target).collect();
/// assert_eq!(targets, [100, 98, 99]);
///
/// let err = parse_port_spec("localhost:80:80").unwrap_err();
/// assert_eq!(err.code(), "invalid-port-spec");
/// assert!(err.to_string().contains("invalid IP address: localhost"));
///
/// // go-connections v0.6: no sign, and a range reads its first two parts.
/// assert!(parse_port_spec("+80:80").unwrap_err().to_string().contains("invalid hostPort: +80"));
/// assert_eq!(parse_port_spec("80-90-100:80")?[0].published, Published::Range("80-90".parse()?));
/// # Ok::<(), port_convention::Error>(())
/// ```
pub fn parse_port_spec(spec: &str) -> Result<Vec<PortMapping>, Error> {
    Ok(parse_spec_parts(spec)?.expand())
}

/// A short-syntax entry before its ranges are expanded into one mapping per
/// port: what a long range costs to keep.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SpecParts {
    host_ip: HostIp,
    /// The host port range, if a host port is given.
    host: Option<(u16, u16)>,
    /// The container port range.
    container: (u16, u16),
    protocol: Protocol,
}

impl SpecParts {
    /// How many mappings the entry expands to.
    pub(crate) fn len(&self) -> usize {
        usize::from(self.container.1 - self.container.0) + 1
    }

    /// Whether the expansion is a run: host and container ports count up
    /// together (or there is no host port).
    pub(crate) fn is_run(&self) -> bool {
        match self.host {
            None => true,
            Some((host_start, host_end)) => {
                self.len() > 1 && host_end - host_start == self.container.1 - self.container.0
            }
        }
    }

    /// The mapping of the lowest container port.
    pub(crate) fn first(&self) -> PortMapping {
        PortMapping {
            host_ip: self.host_ip,
            published: match self.host {
                None => Published::None,
                Some((start, end)) if self.len() == 1 && start != end => {
                    PortRange::new(start, end).map_or(Published::Port(start), Published::Range)
                }
                Some((start, _)) => Published::Port(start),
            },
            target: self.container.0,
            protocol: self.protocol,
            mode: Mode::Ingress,
            name: None,
            app_protocol: None,
        }
    }

    /// One mapping per container port, in compose-go's (string) order.
    pub(crate) fn expand(&self) -> Vec<PortMapping> {
        let (start, end) = self.container;
        let mut mappings = Vec::with_capacity(self.len());
        for (offset, target) in (start..=end).enumerate() {
            let mut mapping = self.first();
            mapping.target = target;
            if let (Some((host_start, _)), Published::Port(_)) = (self.host, &mapping.published) {
                // Equal-length ranges (checked when parsed): this stays <= the end.
                let offset = u16::try_from(offset).unwrap_or(u16::MAX);
                mapping.published = Published::Port(host_start.saturating_add(offset));
            }
            mappings.push(mapping);
        }
        // compose-go sorts the `port/proto` keys as strings.
        mappings.sort_by_cached_key(|m| m.target.to_string());
        mappings
    }
}

/// Parses a short-syntax entry without expanding its ranges ([`parse_port_spec`]).
pub(crate) fn parse_spec_parts(spec: &str) -> Result<SpecParts, Error> {
    let invalid = |reason: PortSpecReason| Error::InvalidPortSpec {
        spec: spec.to_owned(),
        reason,
    };

    let (raw_ip, host_port, container) = split_parts(spec);
    let (proto, container_port) = split_proto_port(container);
    // v0.6 checks the protocol first: an empty container port comes with an
    // empty protocol, so `""`, `/udp` and `80:` fail with `invalid proto: `.
    let proto = proto.to_lowercase();
    let protocol = match proto.as_str() {
        "tcp" => Protocol::Tcp,
        "udp" => Protocol::Udp,
        "sctp" => Protocol::Sctp,
        _ => return Err(invalid(PortSpecReason::InvalidProtocol { protocol: proto })),
    };

    // Strip the brackets of `[addr]` with Go's net.SplitHostPort(ip + ":").
    let stripped: String;
    let ip = if raw_ip.starts_with('[') {
        let hostport = format!("{raw_ip}:");
        match go_split_host_port(&hostport) {
            Ok(host) => {
                stripped = host.to_owned();
                stripped.as_str()
            }
            Err(why) => {
                return Err(invalid(PortSpecReason::InvalidBracketedHostIp {
                    ip: raw_ip.to_owned(),
                    address: hostport,
                    why: why.to_string(),
                }));
            }
        }
    } else {
        raw_ip
    };
    let host_ip = if ip.is_empty() {
        HostIp::Unspecified
    } else {
        match ip.parse::<IpAddr>() {
            Ok(addr) => HostIp::Addr(addr),
            Err(_) => {
                return Err(invalid(PortSpecReason::InvalidHostIp { ip: ip.to_owned() }));
            }
        }
    };

    let (start, end) = go_parse_port_range(container_port).ok_or_else(|| {
        invalid(PortSpecReason::InvalidContainerPort {
            value: container_port.to_owned(),
        })
    })?;
    let host = if host_port.is_empty() {
        None
    } else {
        let (host_start, host_end) = go_parse_port_range(host_port).ok_or_else(|| {
            invalid(PortSpecReason::InvalidHostPort {
                value: host_port.to_owned(),
            })
        })?;
        if end - start != host_end - host_start && end != start {
            return Err(invalid(PortSpecReason::RangeLengthMismatch {
                container: container_port.to_owned(),
                host: host_port.to_owned(),
            }));
        }
        Some((host_start, host_end))
    };

    // Expanded, a range whose ports include 0 has a mapping without target.
    if start == 0 {
        return Err(invalid(PortSpecReason::MissingTarget));
    }
    Ok(SpecParts {
        host_ip,
        host,
        container: (start, end),
        protocol,
    })
}
/// Parses a bare YAML integer `ports:` entry such as `- 80`.
///
/// Compose formats the integer in decimal and parses it as the short syntax,
/// so `80` is container port 80 (TCP, no host port), and `0`, negative values
/// and values above 65535 are rejected with compose's messages.
///
/// A floating-point entry (`- 80.0`) is not an integer entry: compose rejects
/// it (`invalid type float64 for port`), and so does [`parse_port_entry`] for
/// [`Scalar::Float`].
///
/// # Errors
///
/// [`Error::InvalidPortSpec`]: `invalid containerPort: N` for values outside
/// 0-65535, `missing a target port` for 0.
///
/// # Examples
///
/// ```
/// use port_convention::port_spec::parse_port_number;
///
/// let m = parse_port_number(5432)?;
/// assert_eq!(m[0].target, 5432);
/// assert_eq!(m[0].to_string(), "5432/tcp");
/// assert!(parse_port_number(65536).is_err());
/// assert!(parse_port_number(0).is_err());
/// # Ok::<(), port_convention::Error>(())
/// ```
pub fn parse_port_number(value: i128) -> Result<Vec<PortMapping>, Error> {
    parse_port_spec(&value.to_string())
}

/// Parses one `ports:` list item of any shape given as a scalar: a string
/// (short syntax), an integer, or anything else (rejected as compose does).
///
/// # Errors
///
/// [`Error::InvalidPortSpec`], from [`parse_port_spec`] or
/// [`parse_port_number`], or `invalid type float64 for port` for a float, or
/// `must be a number, string or mapping` for `null` and booleans.
///
/// # Examples
///
/// ```
/// use port_convention::port_spec::{parse_port_entry, Scalar};
///
/// assert_eq!(parse_port_entry(&Scalar::Int(80))?[0].target, 80);
/// assert_eq!(parse_port_entry(&Scalar::Str("8080:80".into()))?[0].to_string(), "8080:80/tcp");
/// assert!(parse_port_entry(&Scalar::Float(80.0)).is_err());
/// # Ok::<(), port_convention::Error>(())
/// ```
pub fn parse_port_entry(entry: &Scalar) -> Result<Vec<PortMapping>, Error> {
    match entry {
        Scalar::Str(spec) => parse_port_spec(spec),
        Scalar::Int(value) => parse_port_number(*value),
        Scalar::Float(value) => Err(Error::InvalidPortSpec {
            spec: render_float(*value),
            reason: PortSpecReason::FloatPort,
        }),
        Scalar::Bool(value) => Err(Error::InvalidPortSpec {
            spec: value.to_string(),
            reason: PortSpecReason::EntryType,
        }),
        Scalar::Null => Err(Error::InvalidPortSpec {
            spec: "null".to_owned(),
            reason: PortSpecReason::EntryType,
        }),
    }
}

/// Parses one `ports:` list item given as JSON: a string, an integer, or an
/// object (long syntax). Used by the CLI and the bindings.
///
/// # Errors
///
/// [`Error::InvalidPortSpec`], as [`parse_port_entry`] and
/// [`parse_long_syntax_json`] report it.
///
/// # Examples
///
/// ```
/// use port_convention::port_spec::parse_port_entry_json;
///
/// let long = serde_json::json!({"target": 80, "published": "8080", "host_ip": "::1"});
/// assert_eq!(parse_port_entry_json(&long)?[0].to_string(), "[::1]:8080:80/tcp");
/// assert_eq!(parse_port_entry_json(&serde_json::json!("9000-9001"))?.len(), 2);
/// # Ok::<(), port_convention::Error>(())
/// ```
pub fn parse_port_entry_json(entry: &serde_json::Value) -> Result<Vec<PortMapping>, Error> {
    match entry {
        serde_json::Value::Object(obj) => parse_long_syntax_json(obj).map(|m| vec![m]),
        serde_json::Value::Array(_) => Err(Error::InvalidPortSpec {
            spec: entry.to_string(),
            reason: PortSpecReason::EntryType,
        }),
        other => parse_port_entry(&json_scalar(other)),
    }
}

/// Parses one `ports:` entry given as JSON the way compose reads a file:
/// every string (the entry itself, or each string value of a long-syntax
/// object) is interpolated with `env` first, then parsed. The one function
/// behind `parse-ports` and the bindings' `parsePortSpec` / `parse_port_spec`.
///
/// # Errors
///
/// Interpolation errors ([`Error::InvalidTemplate`], [`Error::RequiredVariable`])
/// and [`Error::InvalidPortSpec`].
///
/// # Examples
///
/// ```
/// use std::collections::BTreeMap;
/// use port_convention::port_spec::parse_port_entry_with_env;
///
/// let env = BTreeMap::from([("PG_PORT".to_string(), "7000".to_string())]);
/// let spec = serde_json::json!("127.0.0.1:${PG_PORT:-5433}:5432");
/// assert_eq!(parse_port_entry_with_env(&spec, &env)?[0].to_string(), "127.0.0.1:7000:5432/tcp");
/// # Ok::<(), port_convention::Error>(())
/// ```
pub fn parse_port_entry_with_env(
    entry: &serde_json::Value,
    env: &std::collections::BTreeMap<String, String>,
) -> Result<Vec<PortMapping>, Error> {
    use crate::interpolation::interpolate_map;
    match entry {
        serde_json::Value::String(text) => {
            let value = interpolate_map(text, env)?.value;
            parse_port_spec(&value)
        }
        serde_json::Value::Object(object) => {
            let mut object = object.clone();
            for value in object.values_mut() {
                if let serde_json::Value::String(text) = value {
                    *text = interpolate_map(text, env)?.value;
                }
            }
            parse_long_syntax_json(&object).map(|m| vec![m])
        }
        other => parse_port_entry_json(other),
    }
}

/// Parses one long-syntax `ports:` entry, given as its keys and scalar values
/// in document order.
///
/// Keys: `target` (required; integer, or a string holding one), `published`
/// (integer or string; a port or a range `8000-8010`; empty means none),
/// `host_ip` (an IP address without brackets), `protocol`, `mode`, `name`,
/// `app_protocol` (strings). Keys starting with `x-` are ignored; any other
/// key is rejected, as compose's schema does.
///
/// Compose itself keeps `published` and `protocol` as written and leaves
/// their checking to the Docker engine; this function checks them with the
/// short syntax's rules and normalizes them (see `docs/compat-ports.md`).
///
/// # Errors
///
/// [`Error::InvalidPortSpec`], for instance `additional properties 'foo' not
/// allowed`, `host_ip must be a string`, `missing a target port`,
/// `invalid ip address: localhost`, `invalid hostPort: abc`,
/// `invalid proto: xyz`.
///
/// # Examples
///
/// ```
/// use port_convention::port_spec::{parse_long_syntax, Scalar};
/// use port_convention::{Mode, Published};
///
/// let m = parse_long_syntax(&[
///     ("target".into(), Scalar::Int(80)),
///     ("published".into(), Scalar::Str("8000-8010".into())),
///     ("mode".into(), Scalar::Str("host".into())),
///     ("x-note".into(), Scalar::Bool(true)),
/// ])?;
/// assert_eq!(m.target, 80);
/// assert_eq!(m.published, Published::Range("8000-8010".parse()?));
/// assert_eq!(m.mode, Mode::Host);
///
/// let err = parse_long_syntax(&[("published".into(), Scalar::Int(80))]).unwrap_err();
/// assert!(err.to_string().contains("missing a target port"));
/// # Ok::<(), port_convention::Error>(())
/// ```
pub fn parse_long_syntax(fields: &[(String, Scalar)]) -> Result<PortMapping, Error> {
    let values: Vec<(&str, Value<'_>)> = fields
        .iter()
        .map(|(key, value)| (key.as_str(), Value::Scalar(value)))
        .collect();
    long_syntax(&values)
}

/// Parses one long-syntax `ports:` entry given as a JSON object, with the
/// rules of [`parse_long_syntax`]. JSON has no duplicate keys here, and
/// nested arrays or objects are allowed only under `x-*` keys.
///
/// # Errors
///
/// [`Error::InvalidPortSpec`], as for [`parse_long_syntax`].
///
/// # Examples
///
/// ```
/// use port_convention::port_spec::parse_long_syntax_json;
///
/// let obj = serde_json::json!({"target": "5432", "published": 7000, "protocol": "TCP"});
/// let m = parse_long_syntax_json(obj.as_object().unwrap())?;
/// assert_eq!(m.to_string(), "7000:5432/tcp");
///
/// let bad = serde_json::json!({"target": 80, "foo": 1});
/// assert!(parse_long_syntax_json(bad.as_object().unwrap()).is_err());
/// # Ok::<(), port_convention::Error>(())
/// ```
pub fn parse_long_syntax_json(
    obj: &serde_json::Map<String, serde_json::Value>,
) -> Result<PortMapping, Error> {
    // (key, scalar value, or whether the nested node is a list)
    let converted: Vec<(&str, Option<Scalar>, bool)> = obj
        .iter()
        .map(|(key, value)| match value {
            serde_json::Value::Array(_) => (key.as_str(), None, true),
            serde_json::Value::Object(_) => (key.as_str(), None, false),
            other => (key.as_str(), Some(json_scalar(other)), false),
        })
        .collect();
    let values: Vec<(&str, Value<'_>)> = converted
        .iter()
        .map(|(key, scalar, is_list)| {
            let value = match scalar {
                Some(s) => Value::Scalar(s),
                None if *is_list => Value::List,
                None => Value::Mapping,
            };
            (*key, value)
        })
        .collect();
    long_syntax(&values)
}

// ---------------------------------------------------------------------------
// Short syntax: go-connections v0.6 nat/nat.go / nat/parse.go, as linked
// into Docker Compose v2.40.3.

/// `nat.splitParts`: the container part after the last `:`, the host port
/// before it, and everything before that as the host IP (which may itself
/// contain `:`, so legacy unbracketed IPv6 addresses work).
fn split_parts(raw: &str) -> (&str, &str, &str) {
    let mut parts = raw.rsplitn(3, ':');
    let container = parts.next().unwrap_or_default();
    match (parts.next(), parts.next()) {
        (None, _) => ("", "", container),
        (Some(host), None) => ("", host, container),
        (Some(host), Some(ip)) => (ip, host, container),
    }
}

/// `nat.SplitProtoPort`: `(proto, port)`; both empty when the port is empty,
/// `tcp` when only the protocol is missing. No validation.
fn split_proto_port(raw: &str) -> (&str, &str) {
    let (port, proto) = raw.split_once('/').unwrap_or((raw, ""));
    if port.is_empty() {
        return ("", "");
    }
    if proto.is_empty() {
        return ("tcp", port);
    }
    (proto, port)
}

/// `nat.ParsePortRange` (v0.6): `N`, or `N-M` read from the first two parts
/// of `strings.Split(text, "-")` (anything after a second `-` is ignored, so
/// `80-90-100` is `80-90` and `80-90-x` too), with `M >= N`.
fn go_parse_port_range(text: &str) -> Option<(u16, u16)> {
    if text.is_empty() {
        return None;
    }
    let mut parts = text.split('-');
    let start_port = go_parse_port_number(parts.next().unwrap_or_default())?;
    match parts.next() {
        None => Some((start_port, start_port)),
        Some(end) => {
            let end_port = go_parse_port_number(end)?;
            (end_port >= start_port).then_some((start_port, end_port))
        }
    }
}

/// A port as Go's `strconv.ParseUint(s, 10, 16)` reads it (v0.6): ASCII
/// digits only (no `+` or `-` sign, no spaces, `_`, hex or `.`), leading
/// zeros allowed, value 0-65535.
fn go_parse_port_number(text: &str) -> Option<u16> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.bytes().try_fold(0u16, |acc, b| {
        acc.checked_mul(10)?.checked_add(u16::from(b - b'0'))
    })
}

/// Go's `net.SplitHostPort`, returning the host or the reason it failed.
fn go_split_host_port(hostport: &str) -> Result<&str, &'static str> {
    const MISSING_PORT: &str = "missing port in address";
    const TOO_MANY_COLONS: &str = "too many colons in address";
    let bytes = hostport.as_bytes();
    let Some(last_colon) = hostport.rfind(':') else {
        return Err(MISSING_PORT);
    };
    let (host, j, k) = if bytes.first() == Some(&b'[') {
        let Some(close) = hostport.find(']') else {
            return Err("missing ']' in address");
        };
        if close + 1 == hostport.len() {
            return Err(MISSING_PORT);
        }
        if close + 1 != last_colon {
            return Err(if bytes.get(close + 1) == Some(&b':') {
                TOO_MANY_COLONS
            } else {
                MISSING_PORT
            });
        }
        (hostport.get(1..close).unwrap_or_default(), 1, close + 1)
    } else {
        let host = hostport.get(..last_colon).unwrap_or_default();
        if host.contains(':') {
            return Err(TOO_MANY_COLONS);
        }
        (host, 0, 0)
    };
    if hostport.get(j..).is_some_and(|rest| rest.contains('[')) {
        return Err("unexpected '[' in address");
    }
    if hostport.get(k..).is_some_and(|rest| rest.contains(']')) {
        return Err("unexpected ']' in address");
    }
    Ok(host)
}

// ---------------------------------------------------------------------------
// Long syntax: the compose-spec schema, compose-go's interpolation casts,
// decoding into ServicePortConfig and the loader's validation.

/// A long-syntax field value: a scalar, or a nested node (only legal under
/// `x-*` keys).
enum Value<'a> {
    Scalar(&'a Scalar),
    List,
    Mapping,
}

/// The keys the compose-spec schema allows in a long-syntax port.
const LONG_KEYS: &[&str] = &[
    "name",
    "mode",
    "host_ip",
    "target",
    "published",
    "protocol",
    "app_protocol",
];

fn long_syntax(fields: &[(&str, Value<'_>)]) -> Result<PortMapping, Error> {
    let spec = render_fields(fields);
    let invalid = |reason: PortSpecReason| Error::InvalidPortSpec {
        spec: spec.clone(),
        reason,
    };

    // YAML decoding: a key may appear once.
    for (index, (key, _)) in fields.iter().enumerate() {
        if fields.iter().take(index).any(|(earlier, _)| earlier == key) {
            return Err(invalid(PortSpecReason::DuplicateKey {
                key: (*key).to_owned(),
            }));
        }
    }
    // Schema: additionalProperties false, patternProperties ^x-.
    let unknown: Vec<String> = fields
        .iter()
        .map(|(key, _)| *key)
        .filter(|key| !key.starts_with("x-") && !LONG_KEYS.contains(key))
        .map(str::to_owned)
        .collect();
    if !unknown.is_empty() {
        return Err(invalid(PortSpecReason::UnknownKeys { keys: unknown }));
    }
    let get = |name: &str| {
        fields
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value)
    };

    // Schema types.
    let string_field = |name: &str| -> Result<Option<&str>, Error> {
        match get(name) {
            None => Ok(None),
            Some(Value::Scalar(Scalar::Str(s))) => Ok(Some(s.as_str())),
            Some(_) => Err(invalid(PortSpecReason::NotText {
                field: name.to_owned(),
            })),
        }
    };
    let name = string_field("name")?;
    let mode = string_field("mode")?;
    let host_ip = string_field("host_ip")?;
    let protocol = string_field("protocol")?;
    let app_protocol = string_field("app_protocol")?;
    let target = match get("target") {
        None => None,
        Some(Value::Scalar(Scalar::Int(n))) => Some(*n),
        Some(Value::Scalar(Scalar::Float(f))) if is_integral(*f) => Some(float_to_int(*f)),
        Some(Value::Scalar(Scalar::Str(s))) => Some(go_atoi(s).map_err(|why| {
            invalid(PortSpecReason::TargetNotInteger {
                value: s.clone(),
                why: why.to_string(),
            })
        })?),
        Some(_) => return Err(invalid(PortSpecReason::TargetWrongType)),
    };
    let published = match get("published") {
        None => None,
        Some(Value::Scalar(Scalar::Int(n))) => Some(n.to_string()),
        Some(Value::Scalar(Scalar::Str(s))) => Some(s.clone()),
        Some(Value::Scalar(Scalar::Float(f))) if is_integral(*f) => {
            return Err(invalid(PortSpecReason::PublishedFloat));
        }
        Some(_) => return Err(invalid(PortSpecReason::PublishedWrongType)),
    };

    // Loader checks and decoding.
    let host_ip = match host_ip {
        None => HostIp::Unspecified,
        Some(text) => HostIp::Addr(text.parse::<IpAddr>().map_err(|_| {
            invalid(PortSpecReason::InvalidLongSyntaxHostIp {
                ip: text.to_owned(),
            })
        })?),
    };
    let target = match target {
        None | Some(0) => return Err(invalid(PortSpecReason::MissingTarget)),
        Some(n) if n < 0 => {
            return Err(invalid(PortSpecReason::NegativeTarget { value: n }));
        }
        Some(n) => {
            u16::try_from(n).map_err(|_| invalid(PortSpecReason::TargetTooLarge { value: n }))?
        }
    };
    let published = match published.as_deref() {
        None | Some("") => Published::None,
        Some(text) => match go_parse_port_range(text) {
            None => {
                return Err(invalid(PortSpecReason::InvalidHostPort {
                    value: text.to_owned(),
                }));
            }
            Some((start, end)) if start == end => Published::Port(start),
            Some((start, end)) => Published::Range(PortRange::new(start, end).map_err(|_| {
                invalid(PortSpecReason::InvalidHostPort {
                    value: text.to_owned(),
                })
            })?),
        },
    };
    let protocol = match protocol.map(str::to_lowercase).as_deref() {
        None | Some("" | "tcp") => Protocol::Tcp,
        Some("udp") => Protocol::Udp,
        Some("sctp") => Protocol::Sctp,
        Some(other) => {
            return Err(invalid(PortSpecReason::InvalidProtocol {
                protocol: other.to_owned(),
            }));
        }
    };
    Ok(PortMapping {
        host_ip,
        published,
        target,
        protocol,
        mode: mode.map_or(Mode::Ingress, Mode::from),
        name: name.filter(|s| !s.is_empty()).map(str::to_owned),
        app_protocol: app_protocol.filter(|s| !s.is_empty()).map(str::to_owned),
    })
}

/// Go's `strconv.Atoi` on 64-bit: optional sign, ASCII digits, i64 range.
fn go_atoi(text: &str) -> Result<i128, &'static str> {
    let digits = text
        .strip_prefix('+')
        .or_else(|| text.strip_prefix('-'))
        .unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err("invalid syntax");
    }
    text.parse::<i64>()
        .map(i128::from)
        .map_err(|_| "value out of range")
}

/// Whether a JSON-schema validator counts the float as an integer.
fn is_integral(value: f64) -> bool {
    value.is_finite() && value.fract() == 0.0
}

/// An integral float as an integer (`as` saturates far outside the port
/// range, where the caller rejects the value anyway).
fn float_to_int(value: f64) -> i128 {
    value as i128
}

fn json_scalar(value: &serde_json::Value) -> Scalar {
    match value {
        serde_json::Value::Null => Scalar::Null,
        serde_json::Value::Bool(b) => Scalar::Bool(*b),
        serde_json::Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => Scalar::Int(i128::from(i)),
            (None, Some(u)) => Scalar::Int(i128::from(u)),
            (None, None) => Scalar::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        serde_json::Value::String(s) => Scalar::Str(s.clone()),
        // Callers pass arrays and objects as Value::List / Value::Mapping.
        serde_json::Value::Array(_) | serde_json::Value::Object(_) => Scalar::Null,
    }
}

fn render_float(value: f64) -> String {
    serde_json::Number::from_f64(value).map_or_else(|| value.to_string(), |n| n.to_string())
}

/// The entry as compact JSON, keys in the order given, for error messages.
fn render_fields(fields: &[(&str, Value<'_>)]) -> String {
    let mut out = String::from("{");
    for (index, (key, value)) in fields.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        let key = serde_json::Value::String((*key).to_owned());
        let value = match value {
            Value::Scalar(Scalar::Null) => "null".to_owned(),
            Value::Scalar(Scalar::Bool(b)) => b.to_string(),
            Value::Scalar(Scalar::Int(n)) => n.to_string(),
            Value::Scalar(Scalar::Float(f)) => render_float(*f),
            Value::Scalar(Scalar::Str(s)) => serde_json::Value::String(s.clone()).to_string(),
            Value::List => "[...]".to_owned(),
            Value::Mapping => "{...}".to_owned(),
        };
        let _ = write!(out, "{key}:{value}");
    }
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_parts_follows_nat() {
        assert_eq!(split_parts("80"), ("", "", "80"));
        assert_eq!(split_parts("8080:80"), ("", "8080", "80"));
        assert_eq!(split_parts("1.2.3.4:8080:80"), ("1.2.3.4", "8080", "80"));
        assert_eq!(split_parts("::1:6000:6000"), ("::1", "6000", "6000"));
        assert_eq!(split_parts("::::80"), ("::", "", "80"));
        assert_eq!(split_parts(""), ("", "", ""));
    }

    #[test]
    fn split_proto_port_follows_nat() {
        assert_eq!(split_proto_port(""), ("", ""));
        assert_eq!(split_proto_port("/udp"), ("", ""));
        assert_eq!(split_proto_port("1234/"), ("tcp", "1234"));
        assert_eq!(split_proto_port("1234/UDP"), ("UDP", "1234"));
        assert_eq!(split_proto_port("a/b/c"), ("b/c", "a"));
    }

    #[test]
    fn port_range_follows_nat_v06() {
        // Measured with Docker Compose v2.40.3 (go-connections v0.6).
        assert_eq!(go_parse_port_range("1234"), Some((1234, 1234)));
        assert_eq!(go_parse_port_range("1234-1234"), Some((1234, 1234)));
        assert_eq!(go_parse_port_range("8000-9000"), Some((8000, 9000)));
        assert_eq!(go_parse_port_range("0-0"), Some((0, 0)));
        assert_eq!(go_parse_port_range("0123"), Some((123, 123)));
        assert_eq!(go_parse_port_range("80-0080"), Some((80, 80)));
        // Only the first two parts of strings.Split(s, "-") are read.
        assert_eq!(go_parse_port_range("1-2-3"), Some((1, 2)));
        assert_eq!(go_parse_port_range("80-90-100"), Some((80, 90)));
        assert_eq!(go_parse_port_range("80-90-abc"), Some((80, 90)));
        assert_eq!(go_parse_port_range("80-90-"), Some((80, 90)));
        assert_eq!(go_parse_port_range("80-90--"), Some((80, 90)));
        assert_eq!(go_parse_port_range("80-80-x"), Some((80, 80)));
        for bad in [
            "",
            "asdf",
            "9000-8000",
            "90-80-100",
            "8000-",
            "-9000",
            "8000-a",
            "8000-9000a",
            "a-9000",
            "8000a-9000",
            "-8000-",
            "-",
            "--",
            "80--90",
            "80---",
            "65536",
            "65535-65536",
            " 42 ",
            // strconv.ParseUint takes no sign.
            "+80",
            "+0",
            "-0",
            "0--0",
            "+80-90",
            "80-+90",
            "0-+0",
        ] {
            assert_eq!(go_parse_port_range(bad), None, "{bad:?}");
        }
        assert_eq!(
            go_parse_port_number("00000000000000000000065535"),
            Some(65535)
        );
        assert_eq!(go_parse_port_number("065536"), None);
        assert_eq!(go_parse_port_number("99999999999999999999999999"), None);
    }

    #[test]
    fn empty_container_port_is_an_invalid_proto() {
        // v0.6 validates the protocol before it looks at the container port.
        for spec in [
            "",
            "/",
            "/udp",
            ":",
            "80:",
            "::",
            "1.2.3.4::",
            "80:/tcp",
            "[]:80:",
        ] {
            let err = parse_port_spec(spec).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("invalid port spec {spec:?}: invalid proto: "),
                "{spec:?}"
            );
        }
        // ... and before the host IP, the host port and the container port.
        let err = parse_port_spec("localhost:abc:def/XYZ").unwrap_err();
        assert!(err.to_string().ends_with("invalid proto: xyz"), "{err}");
    }

    #[test]
    fn split_host_port_follows_go() {
        assert_eq!(go_split_host_port("[::1]:"), Ok("::1"));
        assert_eq!(go_split_host_port("[]:"), Ok(""));
        assert_eq!(go_split_host_port("[::1:"), Err("missing ']' in address"));
        assert_eq!(
            go_split_host_port("[::1]x:"),
            Err("missing port in address")
        );
        assert_eq!(
            go_split_host_port("[::1]::"),
            Err("too many colons in address")
        );
        assert_eq!(
            go_split_host_port("[[::1]:"),
            Err("unexpected '[' in address")
        );
        assert_eq!(
            go_split_host_port("[::1]]:"),
            Err("missing port in address")
        );
        assert_eq!(go_split_host_port("a:"), Ok("a"));
        assert_eq!(go_split_host_port("a"), Err("missing port in address"));
    }

    #[test]
    fn atoi_follows_go() {
        assert_eq!(go_atoi("+80"), Ok(80));
        assert_eq!(go_atoi("-1"), Ok(-1));
        assert_eq!(go_atoi("080"), Ok(80));
        assert_eq!(go_atoi(""), Err("invalid syntax"));
        assert_eq!(go_atoi(" 80"), Err("invalid syntax"));
        assert_eq!(go_atoi("99999999999999999999"), Err("value out of range"));
    }

    #[test]
    fn bracket_errors_quote_go() {
        let err = parse_port_spec("[::1]:80").unwrap_err();
        assert!(
            err.to_string()
                .contains("invalid IP address [:: address [::: missing ']' in address"),
            "{err}"
        );
    }

    #[test]
    fn entries_of_other_types() {
        assert_eq!(
            parse_port_entry(&Scalar::Float(80.5))
                .unwrap_err()
                .to_string(),
            "invalid port spec \"80.5\": invalid type float64 for port"
        );
        assert!(parse_port_entry(&Scalar::Null).is_err());
        assert!(parse_port_entry(&Scalar::Bool(true)).is_err());
        assert!(parse_port_entry_json(&serde_json::json!([80])).is_err());
    }

    #[test]
    fn long_syntax_rejects_duplicates_and_nested_known_keys() {
        let err = parse_long_syntax(&[
            ("target".into(), Scalar::Int(80)),
            ("target".into(), Scalar::Int(81)),
        ])
        .unwrap_err();
        assert!(err.to_string().contains("already defined"), "{err}");

        let obj = serde_json::json!({"target": [80]});
        let err = parse_long_syntax_json(obj.as_object().unwrap()).unwrap_err();
        assert!(
            err.to_string()
                .contains("target must be a integer or string"),
            "{err}"
        );

        let obj = serde_json::json!({"target": 80, "x-meta": {"a": [1]}});
        assert_eq!(
            parse_long_syntax_json(obj.as_object().unwrap())
                .unwrap()
                .target,
            80
        );
    }

    /// Not in the shared vectors: JavaScript cannot tell `8080.0` from `8080`.
    #[test]
    fn long_syntax_integral_float_published() {
        let err = parse_long_syntax(&[
            ("target".into(), Scalar::Int(80)),
            ("published".into(), Scalar::Float(8080.0)),
        ])
        .unwrap_err();
        assert!(
            err.to_string().contains("unconvertible type 'float64'"),
            "{err}"
        );
    }

    #[test]
    fn long_syntax_float_targets() {
        let m = parse_long_syntax(&[("target".into(), Scalar::Float(1e3))]).unwrap();
        assert_eq!(m.target, 1000);
        assert!(parse_long_syntax(&[("target".into(), Scalar::Float(1e300))]).is_err());
        assert!(parse_long_syntax(&[("target".into(), Scalar::Float(f64::NAN))]).is_err());
    }
}
