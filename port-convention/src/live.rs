//! Live: what holds each port on this machine.
//!
//! Pure: parsers over the text of `/proc/net/{tcp,tcp6,udp,udp6}`, process
//! command lines and the Docker Engine API's `GET /containers/json` answer;
//! [`assemble`] joins sockets, their owners and containers into
//! [`HeldPort`]s; [`annotate`] says what the convention makes of each; and
//! [`check_live`] gives the `live-*` findings. `io::live` does the reading.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::Serialize;

use crate::check::{Scan, declared_service};
use crate::compose::Claim;
use crate::project::Project;
use crate::{Convention, Finding, HostIp, Location, Protocol, Rule};

/// One socket of `/proc/net/*` that holds a local port.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Socket {
    /// `tcp` or `udp`.
    pub protocol: Protocol,
    /// The local address (IPv4-mapped IPv6 addresses are kept as read).
    pub address: IpAddr,
    /// The local port.
    pub port: u16,
    /// The socket inode (links `/proc/<pid>/fd/*` to it).
    pub inode: u64,
    /// The owning user id.
    pub uid: u32,
    /// Whether the line came from `tcp6`/`udp6`.
    pub from_v6_table: bool,
}

/// The kernel's TCP state `LISTEN`.
const TCP_LISTEN: u8 = 0x0A;
/// The kernel's state `CLOSE`: for UDP, a bound socket that is not connected.
const UDP_UNCONNECTED: u8 = 0x07;

fn hex_word(text: &str) -> Option<[u8; 4]> {
    // The kernel prints each 32-bit word of the address as the hex of the
    // word in host byte order; the native bytes of that number are the
    // address bytes in network order.
    u32::from_str_radix(text, 16).ok().map(u32::to_ne_bytes)
}

/// Parses `ADDR:PORT` as written in `/proc/net/*` (hex, IPv4 or IPv6).
fn parse_endpoint(text: &str) -> Option<(IpAddr, u16)> {
    let (addr, port) = text.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let ip = match addr.len() {
        8 => IpAddr::V4(Ipv4Addr::from(hex_word(addr)?)),
        32 => {
            let mut bytes = [0u8; 16];
            for (i, chunk) in bytes.chunks_mut(4).enumerate() {
                let word = addr.get(i * 8..i * 8 + 8)?;
                chunk.copy_from_slice(&hex_word(word)?);
            }
            IpAddr::V6(Ipv6Addr::from(bytes))
        }
        _ => return None,
    };
    Some((ip, port))
}

/// The sockets of one `/proc/net/{tcp,tcp6,udp,udp6}` text that hold a port:
/// TCP sockets in state LISTEN (`0A`), UDP sockets bound and unconnected
/// (`07`). Connected, closing and malformed lines are skipped.
///
/// ```
/// use port_convention::{Protocol, live::parse_proc_net};
/// let text = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 4242 1 0 100 0 0 10 0\n";
/// let sockets = parse_proc_net(text, Protocol::Tcp, false);
/// # #[cfg(target_endian = "little")] {
/// assert_eq!(sockets[0].address.to_string(), "127.0.0.1");
/// # }
/// assert_eq!((sockets[0].port, sockets[0].inode, sockets[0].uid), (8080, 4242, 1000));
/// ```
pub fn parse_proc_net(text: &str, protocol: Protocol, from_v6_table: bool) -> Vec<Socket> {
    let wanted = match protocol {
        Protocol::Tcp => TCP_LISTEN,
        Protocol::Udp => UDP_UNCONNECTED,
        Protocol::Sctp => return Vec::new(),
    };
    text.lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let slot = fields.next()?;
            if !slot.ends_with(':') {
                return None; // the header
            }
            let (address, port) = parse_endpoint(fields.next()?)?;
            let _remote = fields.next()?;
            let state = u8::from_str_radix(fields.next()?, 16).ok()?;
            if state != wanted || port == 0 {
                return None;
            }
            // tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
            let mut rest = fields.skip(3);
            let uid = rest.next()?.parse().ok()?;
            let inode = rest.nth(1)?.parse().ok()?;
            Some(Socket {
                protocol,
                address,
                port,
                inode,
                uid,
                from_v6_table,
            })
        })
        .collect()
}

/// The socket inode a `/proc/<pid>/fd/*` link target names (`socket:[N]`).
///
/// ```
/// use port_convention::live::socket_inode;
/// assert_eq!(socket_inode("socket:[12345]"), Some(12345));
/// assert_eq!(socket_inode("pipe:[12345]"), None);
/// ```
pub fn socket_inode(link: &str) -> Option<u64> {
    link.strip_prefix("socket:[")?
        .strip_suffix(']')?
        .parse()
        .ok()
}

/// A process that owns a socket.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Process {
    /// The process id.
    pub pid: u32,
    /// The command line, arguments joined by spaces (the command name in
    /// brackets when the command line is empty, as `ps` shows kernel threads).
    pub command: String,
}

/// A command line from the NUL-separated text of `/proc/<pid>/cmdline`.
pub fn command_line(raw: &[u8]) -> Vec<String> {
    raw.split(|b| *b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect()
}

/// What a `docker-proxy` process forwards, from its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DockerProxy {
    /// `-proto`.
    pub protocol: Protocol,
    /// `-host-ip`.
    pub host_ip: IpAddr,
    /// `-host-port`.
    pub host_port: u16,
    /// `-container-ip`.
    pub container_ip: Option<IpAddr>,
    /// `-container-port`.
    pub container_port: Option<u16>,
}

/// Recognises `docker-proxy -proto tcp -host-ip X -host-port N
/// -container-ip Y -container-port M` (one or two dashes, `-flag=value` too).
///
/// ```
/// use port_convention::live::docker_proxy;
/// let args: Vec<String> = "/usr/sbin/docker-proxy -proto tcp -host-ip :: -host-port 8080 -container-ip 172.18.0.2 -container-port 80"
///     .split(' ').map(String::from).collect();
/// let proxy = docker_proxy(&args).unwrap();
/// assert_eq!((proxy.host_ip.to_string(), proxy.host_port, proxy.container_port), ("::".into(), 8080, Some(80)));
/// ```
pub fn docker_proxy(args: &[String]) -> Option<DockerProxy> {
    let program = args.first()?;
    if program.rsplit('/').next() != Some("docker-proxy") {
        return None;
    }
    let mut flags: HashMap<&str, &str> = HashMap::new();
    let mut iter = args.iter().skip(1);
    while let Some(arg) = iter.next() {
        let name = arg.trim_start_matches('-');
        if let Some((name, value)) = name.split_once('=') {
            flags.insert(name, value);
        } else if let Some(value) = iter.next() {
            flags.insert(name, value);
        }
    }
    Some(DockerProxy {
        protocol: flags.get("proto")?.parse().ok()?,
        host_ip: flags.get("host-ip")?.parse().ok()?,
        host_port: flags.get("host-port")?.parse().ok()?,
        container_ip: flags.get("container-ip").and_then(|v| v.parse().ok()),
        container_port: flags.get("container-port").and_then(|v| v.parse().ok()),
    })
}

/// A port a container publishes, as the Docker API reports it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ContainerPort {
    /// The host address (`0.0.0.0`, `::`, `127.0.0.1` ...).
    pub host_ip: Option<IpAddr>,
    /// The host port.
    pub host_port: u16,
    /// The container port.
    pub container_port: u16,
    /// The protocol.
    pub protocol: Protocol,
}

/// A running container, from `GET /containers/json`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Container {
    /// The full id.
    pub id: String,
    /// The name, without the leading `/`.
    pub name: String,
    /// The image.
    pub image: String,
    /// Published ports (container-only ports are left out).
    pub ports: Vec<ContainerPort>,
    /// `com.docker.compose.project`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// `com.docker.compose.service`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// `com.docker.compose.project.config_files`, split on commas.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub config_files: Vec<String>,
    /// `com.docker.compose.project.working_dir`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
}

impl Container {
    /// `project/service (name)` for compose containers, else the name.
    pub fn describe(&self) -> String {
        match (&self.project, &self.service) {
            (Some(p), Some(s)) => {
                format!("container {} (compose project {p}, service {s})", self.name)
            }
            _ => format!("container {}", self.name),
        }
    }
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ApiContainer {
    #[serde(default)]
    id: String,
    #[serde(default)]
    names: Vec<String>,
    #[serde(default)]
    image: String,
    #[serde(default)]
    ports: Option<Vec<ApiPort>>,
    #[serde(default)]
    labels: Option<BTreeMap<String, String>>,
}

#[derive(serde::Deserialize)]
struct ApiPort {
    #[serde(rename = "IP", default)]
    ip: Option<String>,
    #[serde(rename = "PrivatePort", default)]
    private_port: u16,
    #[serde(rename = "PublicPort", default)]
    public_port: Option<u16>,
    #[serde(rename = "Type", default)]
    kind: Option<String>,
}

/// Parses the body of `GET /containers/json` (Docker Engine API; podman's
/// compatible API gives the same shape).
///
/// # Errors
///
/// The JSON error, as text, when the body is not the expected JSON array.
pub fn parse_containers(body: &str) -> Result<Vec<Container>, String> {
    let list: Vec<ApiContainer> =
        serde_json::from_str(body).map_err(|e| format!("unexpected answer: {e}"))?;
    Ok(list
        .into_iter()
        .map(|c| {
            let labels = c.labels.unwrap_or_default();
            let label = |k: &str| labels.get(k).filter(|v| !v.is_empty()).cloned();
            let mut ports: Vec<ContainerPort> = c
                .ports
                .unwrap_or_default()
                .into_iter()
                .filter_map(|p| {
                    Some(ContainerPort {
                        host_ip: p.ip.as_deref().and_then(|ip| ip.parse().ok()),
                        host_port: p.public_port.filter(|p| *p != 0)?,
                        container_port: p.private_port,
                        protocol: p.kind.as_deref().unwrap_or("tcp").parse().ok()?,
                    })
                })
                .collect();
            ports.sort();
            ports.dedup();
            Container {
                name: c
                    .names
                    .first()
                    .map(|n| n.trim_start_matches('/').to_owned())
                    .unwrap_or_else(|| c.id.chars().take(12).collect()),
                id: c.id,
                image: c.image,
                ports,
                project: label("com.docker.compose.project"),
                service: label("com.docker.compose.service"),
                config_files: label("com.docker.compose.project.config_files")
                    .map(|v| v.split(',').map(str::to_owned).collect())
                    .unwrap_or_default(),
                working_dir: label("com.docker.compose.project.working_dir"),
            }
        })
        .collect())
}

/// Who holds a port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Holder {
    /// A container (through its `docker-proxy`, or as the Docker API
    /// reports it when no socket of this namespace shows the port).
    Container {
        /// The container.
        #[serde(flatten)]
        container: Container,
        /// The engine process holding the socket for the container
        /// (`docker-proxy`, `rootlessport` ...), when a socket shows the port.
        #[serde(skip_serializing_if = "Option::is_none")]
        proxy: Option<Process>,
    },
    /// A host process.
    Process(Process),
    /// A socket whose owner could not be read (another user's process
    /// without the rights to read its fds, or a socket held by the kernel).
    Unknown,
}

impl Holder {
    /// One line naming the holder.
    pub fn describe(&self) -> String {
        match self {
            Holder::Container { container, .. } => container.describe(),
            Holder::Process(p) => match docker_proxy(&split_command(&p.command)) {
                Some(proxy) => format!(
                    "docker-proxy (pid {}) for a container at {}",
                    p.pid,
                    match (proxy.container_ip, proxy.container_port) {
                        (Some(ip), Some(port)) => format!("{ip}:{port}"),
                        _ => "an unknown address".into(),
                    }
                ),
                None => format!("process {} ({})", p.pid, one_line(&p.command, 80)),
            },
            Holder::Unknown => "unknown owner".into(),
        }
    }
}

/// Whether a command is a container engine's process that holds published
/// ports for containers: `docker-proxy` (any arguments), the daemons
/// themselves (Docker 28 holds ports in `dockerd` without the userland
/// proxy), rootless Docker's `rootlesskit`, podman's `rootlessport`,
/// `conmon`, `pasta`, `slirp4netns`, `gvproxy`.
pub fn is_engine_port_holder(command: &str) -> bool {
    let program = command.split(' ').next().unwrap_or_default();
    let name = program.rsplit('/').next().unwrap_or_default();
    matches!(
        name,
        "docker-proxy"
            | "dockerd"
            | "rootlesskit"
            | "rootlessport"
            | "conmon"
            | "pasta"
            | "pasta.avx2"
            | "slirp4netns"
            | "gvproxy"
            | "podman"
    )
}

/// `text` on one line (whitespace runs as one space), at most `max`
/// characters (an ellipsis marks a cut).
fn one_line(text: &str, max: usize) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        flat
    } else {
        flat.chars().take(max.saturating_sub(1)).collect::<String>() + "…"
    }
}

fn split_command(command: &str) -> Vec<String> {
    command.split(' ').map(str::to_owned).collect()
}

/// A port held on this machine, with its holder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeldPort {
    /// The protocol.
    pub protocol: Protocol,
    /// The local address (IPv4-mapped addresses shown as IPv4).
    pub address: IpAddr,
    /// The port.
    pub port: u16,
    /// A `[::]` socket that also holds the port on every IPv4 address
    /// (Linux's `bindv6only=0` default, and no IPv4 socket beside it).
    pub dual_stack: bool,
    /// Who holds it.
    pub holder: Holder,
    /// Every process with the socket open (after a fork, several).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub processes: Vec<Process>,
    /// The socket inode; absent for ports only the Docker API reports.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inode: Option<u64>,
}

impl HeldPort {
    /// Whether binding `ip` on the same port and protocol would clash.
    pub fn overlaps(&self, ip: &HostIp) -> bool {
        let here = HostIp::Addr(self.address);
        here.overlaps(ip)
            || (self.dual_stack && HostIp::Addr(IpAddr::V4(Ipv4Addr::UNSPECIFIED)).overlaps(ip))
    }

    /// `address:port/protocol`, IPv6 in brackets.
    pub fn endpoint(&self) -> String {
        match self.address {
            IpAddr::V6(v6) => format!("[{v6}]:{}/{}", self.port, self.protocol),
            IpAddr::V4(v4) => format!("{v4}:{}/{}", self.port, self.protocol),
        }
    }
}

/// What the machine holds: the result of reading `/proc` and the Docker API.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Holders {
    /// Every held port, sorted by port, protocol, address.
    pub ports: Vec<HeldPort>,
    /// Every running container the Docker API reported.
    pub containers: Vec<Container>,
    /// What could not be read (no Docker daemon ...), one sentence each.
    pub notes: Vec<String>,
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

/// Whether an API port's host IP (none: unknown, as podman may report) is
/// the socket's address.
fn same_host_ip(api: Option<IpAddr>, socket: IpAddr) -> bool {
    api.is_none_or(|a| canonical(a) == canonical(socket))
}

/// Joins what was read into held ports.
///
/// - `owners`: socket inode to the processes with it open.
/// - A `[::]` socket is dual-stack when `bindv6only` is false and no IPv4
///   socket holds the same port and protocol (the kernel would have refused
///   that IPv4 bind unless the `[::]` one is IPv6-only, as Docker's are).
/// - A socket owned by `docker-proxy` (or another engine process, see
///   [`is_engine_port_holder`]) is attributed to the container that
///   publishes that host IP, port and protocol.
/// - A container port with no socket here (rootless Docker, a VM, a
///   daemon without the userland proxy) is listed from the API alone.
pub fn assemble(
    sockets: &[Socket],
    owners: &HashMap<u64, Vec<Process>>,
    containers: &[Container],
    bindv6only: bool,
) -> Vec<HeldPort> {
    let v4_ports: BTreeSet<(Protocol, u16)> = sockets
        .iter()
        .filter(|s| canonical(s.address).is_ipv4())
        .map(|s| (s.protocol, s.port))
        .collect();
    let container_for = |protocol: Protocol, ip: IpAddr, port: u16| {
        containers.iter().find(|c| {
            c.ports.iter().any(|p| {
                p.protocol == protocol && p.host_port == port && same_host_ip(p.host_ip, ip)
            })
        })
    };
    let mut seen_container_ports: BTreeSet<(String, Protocol, u16, Option<IpAddr>)> =
        BTreeSet::new();
    let mut held: Vec<HeldPort> = sockets
        .iter()
        .map(|s| {
            let address = canonical(s.address);
            let dual_stack = !bindv6only
                && address == IpAddr::V6(Ipv6Addr::UNSPECIFIED)
                && !v4_ports.contains(&(s.protocol, s.port));
            let mut processes = owners.get(&s.inode).cloned().unwrap_or_default();
            processes.sort();
            processes.dedup();
            let proxy = processes
                .iter()
                .find(|p| docker_proxy(&split_command(&p.command)).is_some())
                .or_else(|| processes.iter().find(|p| is_engine_port_holder(&p.command)));
            let holder = match (proxy, container_for(s.protocol, address, s.port)) {
                (Some(proxy), Some(container)) => {
                    for p in &container.ports {
                        if p.protocol == s.protocol
                            && p.host_port == s.port
                            && same_host_ip(p.host_ip, address)
                        {
                            seen_container_ports.insert((
                                container.id.clone(),
                                p.protocol,
                                p.host_port,
                                p.host_ip,
                            ));
                        }
                    }
                    Holder::Container {
                        container: container.clone(),
                        proxy: Some(proxy.clone()),
                    }
                }
                _ => match processes.first() {
                    Some(p) => Holder::Process(p.clone()),
                    None => Holder::Unknown,
                },
            };
            HeldPort {
                protocol: s.protocol,
                address,
                port: s.port,
                dual_stack,
                holder,
                processes,
                inode: Some(s.inode),
            }
        })
        .collect();
    for container in containers {
        for p in &container.ports {
            let key = (container.id.clone(), p.protocol, p.host_port, p.host_ip);
            if seen_container_ports.contains(&key) {
                continue;
            }
            let address = p
                .host_ip
                .map(canonical)
                .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
            // A socket of this namespace already shows the port (a proxy
            // not recognised, a host process): keep that one.
            if held
                .iter()
                .any(|h| h.protocol == p.protocol && h.port == p.host_port && h.address == address)
            {
                continue;
            }
            held.push(HeldPort {
                protocol: p.protocol,
                address,
                port: p.host_port,
                dual_stack: false,
                holder: Holder::Container {
                    container: container.clone(),
                    proxy: None,
                },
                processes: Vec::new(),
                inode: None,
            });
        }
    }
    held.sort_by(|a, b| {
        (a.port, a.protocol, a.address, a.inode).cmp(&(b.port, b.protocol, b.address, b.inode))
    });
    held
}

/// What the convention says about a held port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum Standing {
    /// The convention assigns the port to a service.
    Assigned {
        /// The convention service.
        service: String,
        /// The port's name in the service.
        name: String,
        /// The service's range.
        #[serde(skip_serializing_if = "Option::is_none")]
        range: Option<String>,
    },
    /// Nobody is assigned the port; it lies in no protected range.
    Undeclared {
        /// The innermost range around the port, if any.
        #[serde(skip_serializing_if = "Option::is_none")]
        range: Option<String>,
    },
    /// Nobody is assigned the port, and it lies inside a protected range.
    ProtectedUndeclared {
        /// The protected range (the outermost protected one around it).
        range: String,
    },
}

impl Standing {
    /// One line for tables.
    pub fn describe(&self) -> String {
        match self {
            Standing::Assigned {
                service,
                name,
                range,
            } => match range {
                Some(r) => format!("{service}.{name} (range {r})"),
                None => format!("{service}.{name}"),
            },
            Standing::Undeclared { range: Some(r) } => format!("undeclared (range {r})"),
            Standing::Undeclared { range: None } => "undeclared".into(),
            Standing::ProtectedUndeclared { range } => {
                format!("inside protected range {range}, undeclared")
            }
        }
    }
}

/// What the convention says about `port`/`protocol`.
pub fn annotate(convention: &Convention, protocol: Protocol, port: u16) -> Standing {
    if let Some((service, assignment)) = convention
        .assignments()
        .find(|(_, p)| p.port == port && p.protocol == protocol)
    {
        return Standing::Assigned {
            service: service.name.clone(),
            name: assignment.name.clone(),
            range: service.range.clone(),
        };
    }
    if let Some(protected) = convention
        .ranges
        .iter()
        .find(|r| r.protected && r.ports.contains(port))
    {
        return Standing::ProtectedUndeclared {
            range: protected.name.clone(),
        };
    }
    Standing::Undeclared {
        range: convention.innermost_range(port).map(|r| r.name.clone()),
    }
}

/// Whether the holder is a container of a service the convention declares
/// inside protected range `range` (which may publish there, as in the
/// repository rule `protected-range-violation`).
fn declared_in_range(convention: &Convention, holder: &Holder, range: &str) -> bool {
    let Holder::Container { container, .. } = holder else {
        return false;
    };
    let Some(outer) = convention.range_index(range) else {
        return false;
    };
    convention.services.iter().any(|s| {
        Some(s.compose_service.as_str()) == container.service.as_deref()
            && s.range
                .as_deref()
                .and_then(|r| convention.range_index(r))
                .is_some_and(|inner| convention.is_within(inner, outer))
    })
}

/// How a container stands to a service of a project of the repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kinship {
    /// The service's own container: same compose project name and service,
    /// started from (one of) the project's files. `docker compose up`
    /// reuses or recreates it.
    Own,
    /// Same project name and service, from other files: another checkout
    /// (or a copy) of the repository.
    OtherCheckout,
    /// The service started from the project's files under another project
    /// name (`docker compose -p NAME`).
    Renamed,
    /// Anything else.
    Stranger,
}

fn kinship(
    container: &Container,
    project: &Project,
    files: &BTreeSet<String>,
    service: &str,
) -> Kinship {
    if container.service.as_deref() != Some(service) {
        return Kinship::Stranger;
    }
    let same_files = container
        .config_files
        .iter()
        .any(|f| files.contains(&normalize_abs(f)));
    let same_name = container.project.as_deref() == Some(project.name.as_str());
    match (same_name, same_files) {
        (true, true) => Kinship::Own,
        (true, false) => Kinship::OtherCheckout,
        (false, true) => Kinship::Renamed,
        (false, false) => Kinship::Stranger,
    }
}

fn normalize_abs(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    format!("/{}", parts.join("/"))
}

fn host_ip_key(ip: Option<IpAddr>) -> String {
    match ip.map(canonical) {
        None => String::new(),
        Some(ip) if ip.is_unspecified() => String::new(),
        Some(ip) => ip.to_string(),
    }
}

/// The `live-*` findings: what the machine holds against the repository.
///
/// - `live-undeclared-listener`: a held port inside a protected range that
///   the convention does not assign.
/// - `live-port-taken`: a port an active service of a project of `scan`
///   publishes is held by something other than that service's own
///   container (same compose project name and service, started from one of
///   the project's files).
/// - `live-stale-container`: a running container of a project of `scan`
///   publishes other ports than the project's merged service now says.
///
/// `absolute` maps a file name of `scan` (relative to its root) to its
/// absolute path, to compare with the containers' `config_files` labels.
pub fn check_live(
    convention: Option<&Convention>,
    scan: &Scan,
    holders: &Holders,
    absolute: &dyn Fn(&str) -> String,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    if let Some(c) = convention {
        let mut reported = BTreeSet::new();
        for held in &holders.ports {
            if let Standing::ProtectedUndeclared { range } = annotate(c, held.protocol, held.port)
                && !declared_in_range(c, &held.holder, &range)
                && reported.insert((
                    held.protocol,
                    held.port,
                    held.address,
                    held.holder.describe(),
                ))
            {
                let location = c.range(&range).map(|r| r.location.clone());
                let mut f = Finding::new(
                    Rule::LiveUndeclaredListener,
                    format!(
                        "{} is held by {}, inside protected range {range}, but the convention assigns it to no service",
                        held.endpoint(),
                        held.holder.describe()
                    ),
                )
                .with_port(held.port);
                f.protocol = Some(held.protocol);
                f.host_ip = Some(held.address.to_string());
                if let Some(location) = location {
                    f = f.at(&location);
                }
                findings.push(f);
            }
        }
    }
    let projects: Vec<(&Project, BTreeSet<String>)> = scan
        .projects
        .projects
        .iter()
        .filter(|p| p.error.is_none())
        .map(|p| {
            let files = p
                .files
                .iter()
                .map(|f| normalize_abs(&absolute(f)))
                .collect();
            (p, files)
        })
        .collect();
    for (project, files) in &projects {
        for service in project.active_services() {
            for claim in &service.claims {
                let Some(range) = claim.mapping.published.range() else {
                    continue;
                };
                port_taken(
                    convention,
                    project,
                    files,
                    &service.name,
                    claim,
                    range,
                    holders,
                    &mut findings,
                );
            }
        }
    }
    for container in &holders.containers {
        if let Some(f) = stale(container, &projects) {
            findings.push(f);
        }
    }
    crate::report::sort_findings(&mut findings);
    findings
}

/// The host ports `services` (compose service names; all when empty)
/// publish in `scan`, as its projects load them and as each file reads on
/// its own: the ports a preflight needs the holders of.
pub fn ports_of(scan: &Scan, services: &[String]) -> BTreeSet<(Protocol, u16)> {
    let wanted = |name: &str| services.is_empty() || services.iter().any(|s| s == name);
    let from_projects = scan.projects.projects.iter().flat_map(|p| {
        p.services
            .iter()
            .filter(|s| wanted(&s.name))
            .flat_map(|s| s.claims.iter())
    });
    from_projects
        .chain(scan.claims().filter(|c| wanted(&c.service)))
        .filter_map(|c| Some((c.mapping.protocol, c.mapping.published.range()?)))
        .flat_map(|(protocol, r)| r.iter().map(move |p| (protocol, p)))
        .collect()
}

/// One row of [`LiveReport`]: a held port with the convention's view.
#[derive(Debug, Clone, Serialize)]
pub struct LiveRow<'a> {
    /// The protocol.
    pub protocol: Protocol,
    /// The local address.
    pub address: String,
    /// The port.
    pub port: u16,
    /// See [`HeldPort::dual_stack`].
    pub dual_stack: bool,
    /// Who holds it.
    pub holder: &'a Holder,
    /// Every process with the socket open.
    pub processes: &'a [Process],
    /// The socket inode (none for ports only the Docker API reports).
    pub inode: Option<u64>,
    /// What the convention says (none without a convention).
    pub convention: Option<Standing>,
}

/// The JSON contract of `ports --live --format json` (docs/live.md).
#[derive(Debug, Clone, Serialize)]
pub struct LiveReport<'a> {
    /// Always [`LiveReport::SCHEMA`].
    pub schema: &'static str,
    /// Always [`LiveReport::VERSION`].
    pub version: u32,
    /// The convention file used, if any.
    pub convention: Option<String>,
    /// Every held port, sorted by port, protocol, address.
    pub ports: Vec<LiveRow<'a>>,
    /// Every running container the engine reported.
    pub containers: &'a [Container],
    /// What could not be read.
    pub notes: &'a [String],
}

impl<'a> LiveReport<'a> {
    /// The name of this JSON shape.
    pub const SCHEMA: &'static str = "port-convention/live-ports";
    /// Changes only when a field changes meaning.
    pub const VERSION: u32 = 1;

    /// The report over `holders`, annotated with `convention` (its path as
    /// shown, and the convention).
    pub fn new(holders: &'a Holders, convention: Option<(String, &Convention)>) -> Self {
        let ports = holders
            .ports
            .iter()
            .map(|h| LiveRow {
                protocol: h.protocol,
                address: h.address.to_string(),
                port: h.port,
                dual_stack: h.dual_stack,
                holder: &h.holder,
                processes: &h.processes,
                inode: h.inode,
                convention: convention
                    .as_ref()
                    .map(|(_, c)| annotate(c, h.protocol, h.port)),
            })
            .collect();
        LiveReport {
            schema: Self::SCHEMA,
            version: Self::VERSION,
            convention: convention.map(|(p, _)| p),
            ports,
            containers: &holders.containers,
            notes: &holders.notes,
        }
    }

    /// Pretty JSON text.
    pub fn to_json_pretty(&self) -> String {
        // Serializing plain data into a String cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

/// `live-port-taken` for one published claim of an active service.
#[allow(clippy::too_many_arguments)]
fn port_taken(
    convention: Option<&Convention>,
    project: &Project,
    files: &BTreeSet<String>,
    service: &str,
    claim: &Claim,
    range: crate::PortRange,
    holders: &Holders,
    findings: &mut Vec<Finding>,
) {
    let mut named = BTreeSet::new();
    let mut taken: Vec<(&HeldPort, String)> = Vec::new();
    for held in &holders.ports {
        if held.protocol != claim.mapping.protocol
            || !range.contains(held.port)
            || !held.overlaps(&claim.mapping.host_ip)
        {
            continue;
        }
        let mut who = held.holder.describe();
        if let Holder::Container { container, .. } = &held.holder {
            match kinship(container, project, files, service) {
                Kinship::Own => continue,
                Kinship::OtherCheckout => {
                    let from = container
                        .working_dir
                        .clone()
                        .or_else(|| container.config_files.first().cloned())
                        .unwrap_or_default();
                    who = format!("{who} of another checkout ({from})");
                }
                Kinship::Renamed => {
                    let name = container.project.as_deref().unwrap_or_default();
                    who = format!(
                        "{who}, started from these files as project {name} (`docker compose -p {name} up` reuses it)"
                    );
                }
                Kinship::Stranger => {}
            }
        }
        if named.insert((held.port, who.clone())) {
            taken.push((held, who));
        }
    }
    // A host range needs one free port of it: taken only when all are.
    let distinct: BTreeSet<u16> = taken.iter().map(|(h, _)| h.port).collect();
    if range.len() > 1 && u32::try_from(distinct.len()).unwrap_or(0) < range.len() {
        return;
    }
    for (held, who) in taken {
        let mut f = Finding::new(
            Rule::LivePortTaken,
            format!(
                "{service} (project {}) publishes {}/{}, but {} is held by {who}",
                project.name,
                held.port,
                claim.mapping.protocol,
                held.endpoint(),
            ),
        )
        .at(&claim.location)
        .with_service(service)
        .with_port(held.port);
        f.protocol = Some(claim.mapping.protocol);
        f.host_ip = Some(claim.mapping.host_ip.to_string());
        f.project = Some(project.id.clone());
        if let Some(c) = convention
            && let Some(declared) = declared_service(c, claim)
        {
            f.related.push(crate::Related {
                location: declared.location.clone(),
                service: Some(declared.name.clone()),
                project: None,
            });
        }
        findings.push(f);
    }
}

/// `live-stale-container` for a container that is one of the repository's:
/// its project name and one of its files are a project's of the scan.
fn stale(container: &Container, projects: &[(&Project, BTreeSet<String>)]) -> Option<Finding> {
    let service = container.service.as_deref()?;
    let (project, _) = projects.iter().find(|(p, files)| {
        container.project.as_deref() == Some(p.name.as_str())
            && container
                .config_files
                .iter()
                .any(|f| files.contains(&normalize_abs(f)))
    })?;
    type Key = (Protocol, u16, u16, String);
    let mut now: BTreeSet<Key> = BTreeSet::new();
    // A host range with one container port: Docker binds one port of it.
    let mut ranges: Vec<(Protocol, crate::PortRange, u16, String)> = Vec::new();
    let current = project
        .services
        .iter()
        .find(|s| s.name == service && s.active);
    for c in current.iter().flat_map(|s| s.claims.iter()) {
        let Some(range) = c.mapping.published.range() else {
            continue;
        };
        let ip = match c.mapping.host_ip {
            HostIp::Unspecified => None,
            HostIp::Addr(ip) => Some(ip),
        };
        if range.len() == 1 {
            now.insert((
                c.mapping.protocol,
                range.start(),
                c.mapping.target,
                host_ip_key(ip),
            ));
        } else {
            ranges.push((c.mapping.protocol, range, c.mapping.target, host_ip_key(ip)));
        }
    }
    let running: BTreeSet<Key> = container
        .ports
        .iter()
        .map(|p| {
            (
                p.protocol,
                p.host_port,
                p.container_port,
                host_ip_key(p.host_ip),
            )
        })
        .collect();
    let in_a_range = |k: &Key| {
        ranges.iter().any(|(proto, r, target, ip)| {
            *proto == k.0 && r.contains(k.1) && *target == k.2 && *ip == k.3
        })
    };
    let same = now.iter().all(|k| running.contains(k))
        && running.iter().all(|k| now.contains(k) || in_a_range(k))
        && ranges.iter().all(|(proto, r, target, ip)| {
            running
                .iter()
                .any(|k| k.0 == *proto && r.contains(k.1) && k.2 == *target && k.3 == *ip)
        });
    if current.is_some() && same {
        return None;
    }
    let entry = |proto: &Protocol, host: String, target: &u16, ip: &String| {
        let ip = if ip.is_empty() {
            String::new()
        } else {
            format!("{ip}:")
        };
        format!("{ip}{host}:{target}/{proto}")
    };
    let list = |items: Vec<String>| {
        if items.is_empty() {
            "nothing".to_owned()
        } else {
            items.join(", ")
        }
    };
    let running_text = list(
        running
            .iter()
            .map(|(proto, host, target, ip)| entry(proto, host.to_string(), target, ip))
            .collect(),
    );
    let now_text = list(
        now.iter()
            .map(|(proto, host, target, ip)| entry(proto, host.to_string(), target, ip))
            .chain(
                ranges
                    .iter()
                    .map(|(proto, r, target, ip)| entry(proto, r.to_string(), target, ip)),
            )
            .collect(),
    );
    let files = project.files.join(" + ");
    let message = match current {
        Some(_) => format!(
            "{} publishes {running_text}, but {files} now says {now_text}: recreate it (docker compose up -d {service})",
            container.describe(),
        ),
        None => format!(
            "{} runs, but project {} ({files}) no longer runs service {service}: remove it (docker compose up -d --remove-orphans)",
            container.describe(),
            project.name,
        ),
    };
    let location = current.map(|s| s.location.clone()).or_else(|| {
        project
            .files
            .first()
            .map(|f| Location::new(f.clone(), 0, 0))
    })?;
    let mut f = Finding::new(Rule::LiveStaleContainer, message)
        .at(&location)
        .with_service(service);
    f.project = Some(project.id.clone());
    if let Some(first) = running.iter().next() {
        f = f.with_port(first.1);
    }
    Some(f)
}
