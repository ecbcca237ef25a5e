//! The live edge: `/proc` (sockets and their owners) and the Docker Engine
//! API over its unix socket. The parsing and joining are pure
//! ([`crate::live`]); this module only reads.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::live::{Container, Holders, Process, Socket};
use crate::{Error, Protocol};

/// What [`read_holders`] reads.
#[derive(Debug, Clone)]
pub struct LiveOptions {
    /// The proc file system (default `/proc`; tests point elsewhere).
    pub proc_root: PathBuf,
    /// The Docker API socket; default: `DOCKER_HOST` when it is
    /// `unix://...`, else `/var/run/docker.sock`, else podman's socket.
    pub docker_socket: Option<PathBuf>,
    /// Don't ask any container engine.
    pub no_docker: bool,
    /// Only map the owners of sockets on these ports (all when `None`):
    /// a preflight needs only its own ports, and the `/proc/<pid>/fd` walk
    /// is skipped entirely when no socket holds one of them.
    pub ports_of_interest: Option<BTreeSet<(Protocol, u16)>>,
    /// The longest a Docker API exchange may take, from connecting to the
    /// last byte of the answer (a daemon that answers one byte at a time
    /// cannot hold a check longer).
    pub timeout: Duration,
}

impl Default for LiveOptions {
    fn default() -> Self {
        LiveOptions {
            proc_root: PathBuf::from("/proc"),
            docker_socket: None,
            no_docker: false,
            ports_of_interest: None,
            timeout: Duration::from_secs(2),
        }
    }
}

fn io_error(path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        path: path.to_owned(),
        source,
    }
}

/// Every listening TCP and bound UDP socket of the network namespace whose
/// proc file system is at `proc_root` (`/proc`: this process's).
///
/// # Errors
///
/// [`Error::Unsupported`] for `/proc` off Linux; [`Error::Io`] when
/// `net/tcp` cannot be read (the IPv6 tables may be missing: IPv6 disabled).
pub fn read_sockets(proc_root: &Path) -> Result<Vec<Socket>, Error> {
    if !cfg!(target_os = "linux") && proc_root == Path::new("/proc") {
        return Err(unsupported());
    }
    let mut sockets = Vec::new();
    for (name, protocol, v6) in [
        ("tcp", Protocol::Tcp, false),
        ("tcp6", Protocol::Tcp, true),
        ("udp", Protocol::Udp, false),
        ("udp6", Protocol::Udp, true),
    ] {
        let path = proc_root.join("net").join(name);
        match std::fs::read_to_string(&path) {
            Ok(text) => sockets.extend(crate::live::parse_proc_net(&text, protocol, v6)),
            Err(err) if v6 && err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => return Err(io_error(&path, err)),
        }
    }
    Ok(sockets)
}

fn unsupported() -> Error {
    Error::Unsupported {
        what: "reading live sockets".into(),
        platform: std::env::consts::OS.into(),
    }
}

/// Whether `[::]` sockets are IPv6-only by default
/// (`/proc/sys/net/ipv6/bindv6only`; Linux's default is no).
pub fn bindv6only(proc_root: &Path) -> bool {
    std::fs::read_to_string(proc_root.join("sys/net/ipv6/bindv6only"))
        .is_ok_and(|v| v.trim() == "1")
}

/// The processes that have one of `inodes` open, by walking
/// `/proc/<pid>/fd/*`. Processes whose fds cannot be read (another user's,
/// without privileges) are skipped: their sockets keep an unknown owner.
pub fn socket_owners(proc_root: &Path, inodes: &HashSet<u64>) -> HashMap<u64, Vec<Process>> {
    let mut owners: HashMap<u64, Vec<Process>> = HashMap::new();
    if inodes.is_empty() {
        return owners;
    }
    let Ok(entries) = std::fs::read_dir(proc_root) else {
        return owners;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(fds) = std::fs::read_dir(entry.path().join("fd")) else {
            continue;
        };
        let mut command: Option<String> = None;
        for fd in fds.flatten() {
            let Ok(target) = std::fs::read_link(fd.path()) else {
                continue;
            };
            let Some(inode) = target.to_str().and_then(crate::live::socket_inode) else {
                continue;
            };
            if !inodes.contains(&inode) {
                continue;
            }
            let command = command
                .get_or_insert_with(|| read_command(&entry.path()))
                .clone();
            let list = owners.entry(inode).or_default();
            if !list.iter().any(|p| p.pid == pid) {
                list.push(Process { pid, command });
            }
        }
    }
    owners
}

fn read_command(pid_dir: &Path) -> String {
    let args = std::fs::read(pid_dir.join("cmdline"))
        .map(|raw| crate::live::command_line(&raw))
        .unwrap_or_default();
    if args.is_empty() {
        let comm = std::fs::read_to_string(pid_dir.join("comm")).unwrap_or_default();
        format!("[{}]", comm.trim())
    } else {
        args.join(" ")
    }
}

/// The Docker API sockets to try, in order: `DOCKER_HOST` (when it is a
/// unix socket), `/var/run/docker.sock`, podman's rootless and rootful
/// sockets. `Err` when `DOCKER_HOST` names something this client cannot
/// reach (`tcp://`, `ssh://`).
pub fn docker_sockets() -> Result<Vec<PathBuf>, String> {
    if let Ok(host) = std::env::var("DOCKER_HOST")
        && !host.is_empty()
    {
        return match host.strip_prefix("unix://") {
            Some(path) => Ok(vec![PathBuf::from(path)]),
            None => Err(format!(
                "DOCKER_HOST={host} is not a unix socket; only unix:// is supported, containers not read"
            )),
        };
    }
    let mut list = vec![PathBuf::from("/var/run/docker.sock")];
    if let Ok(runtime) = std::env::var("XDG_RUNTIME_DIR") {
        list.push(Path::new(&runtime).join("podman/podman.sock"));
    }
    list.push(PathBuf::from("/run/podman/podman.sock"));
    Ok(list)
}

/// `GET path` over the unix socket at `socket`, HTTP/1.1 with
/// `Connection: close`; returns the body of a 200 answer.
///
/// # Errors
///
/// A sentence saying what failed (connect, timeout, status, framing).
#[cfg(unix)]
pub fn http_get_unix(socket: &Path, path: &str, timeout: Duration) -> Result<String, String> {
    use std::io::{Read, Write};
    use std::os::unix::net::UnixStream;

    let deadline = std::time::Instant::now() + timeout;
    let mut stream =
        UnixStream::connect(socket).map_err(|e| format!("{}: {e}", socket.display()))?;
    stream
        .set_read_timeout(Some(timeout))
        .and_then(|()| stream.set_write_timeout(Some(timeout)))
        .map_err(|e| e.to_string())?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: docker\r\nUser-Agent: port-convention/{}\r\nAccept: application/json\r\nConnection: close\r\n\r\n",
        crate::TOOL_VERSION
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|e| format!("{}: {e}", socket.display()))?;
    // Bounded in size (a container list is kilobytes; 64 MiB is far beyond
    // any host) and in time: each read may wait only for what is left of
    // the deadline.
    const MAX_ANSWER: usize = 64 << 20;
    let mut raw = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        let too_slow = || {
            format!(
                "{}: no complete answer within {} ms",
                socket.display(),
                timeout.as_millis()
            )
        };
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            return Err(too_slow());
        }
        stream
            .set_read_timeout(Some(left))
            .map_err(|e| e.to_string())?;
        match stream.read(&mut chunk) {
            // The read waited for the rest of the deadline.
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return Err(too_slow());
            }
            Ok(0) => break,
            Ok(n) => {
                raw.extend_from_slice(chunk.get(..n).unwrap_or_default());
                if raw.len() > MAX_ANSWER {
                    return Err(format!(
                        "{}: the answer is larger than {MAX_ANSWER} bytes",
                        socket.display()
                    ));
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("{}: reading the answer: {e}", socket.display())),
        }
    }
    parse_http_response(&raw).map_err(|e| format!("{}: {e}", socket.display()))
}

/// Off unix there is no unix socket to ask.
///
/// # Errors
///
/// Always.
#[cfg(not(unix))]
pub fn http_get_unix(_socket: &Path, _path: &str, _timeout: Duration) -> Result<String, String> {
    Err("unix sockets are not available on this platform".into())
}

/// The body of an HTTP/1.1 answer (`Content-Length`, chunked, or up to the
/// close), when its status is 200.
///
/// ```
/// use port_convention::io::live::parse_http_response;
/// let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n[]\r\n0\r\n\r\n";
/// assert_eq!(parse_http_response(raw).unwrap(), "[]");
/// assert!(parse_http_response(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n").is_err());
/// ```
///
/// # Errors
///
/// A sentence for a status other than 200 or a malformed answer.
pub fn parse_http_response(raw: &[u8]) -> Result<String, String> {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("no HTTP header in the answer")?;
    let head = String::from_utf8_lossy(raw.get(..split).unwrap_or_default());
    let body = raw.get(split + 4..).unwrap_or_default();
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap_or_default();
    let code = status.split_whitespace().nth(1).unwrap_or_default();
    let mut chunked = false;
    let mut length: Option<usize> = None;
    for line in lines {
        if let Some((name, value)) = line.split_once(':') {
            let value = value.trim();
            if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value.eq_ignore_ascii_case("chunked");
            } else if name.eq_ignore_ascii_case("content-length") {
                length = value.parse().ok();
            }
        }
    }
    let body: Vec<u8> = if chunked {
        let mut out = Vec::new();
        let mut rest = body;
        loop {
            let end = rest
                .windows(2)
                .position(|w| w == b"\r\n")
                .ok_or("truncated chunked body")?;
            let size_text = String::from_utf8_lossy(rest.get(..end).unwrap_or_default());
            let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| "malformed chunk size")?;
            rest = rest.get(end + 2..).unwrap_or_default();
            if size == 0 {
                break;
            }
            out.extend_from_slice(rest.get(..size).ok_or("truncated chunk")?);
            rest = rest.get(size + 2..).unwrap_or_default();
        }
        out
    } else {
        match length {
            Some(n) => body.get(..n).ok_or("truncated body")?.to_vec(),
            None => body.to_vec(),
        }
    };
    let text = String::from_utf8_lossy(&body).into_owned();
    if code != "200" {
        return Err(format!("{status}: {}", text.trim()));
    }
    Ok(text)
}

/// The running containers, from the first container engine socket that
/// answers; `Err` with one sentence when none does.
///
/// # Errors
///
/// Why no engine could be asked.
pub fn read_containers(options: &LiveOptions) -> Result<Vec<Container>, String> {
    let sockets = match &options.docker_socket {
        Some(s) => vec![s.clone()],
        None => docker_sockets()?,
    };
    let mut tried = Vec::new();
    for socket in &sockets {
        if options.docker_socket.is_none() && !socket.exists() {
            tried.push(format!("{}: no such socket", socket.display()));
            continue;
        }
        match http_get_unix(socket, "/containers/json", options.timeout) {
            Ok(body) => {
                return crate::live::parse_containers(&body)
                    .map_err(|e| format!("{}: {e}", socket.display()));
            }
            Err(e) => tried.push(e),
        }
    }
    Err(format!(
        "no Docker daemon reachable, containers not read ({})",
        tried.join("; ")
    ))
}

/// What holds each port on this machine: sockets from `/proc/net`, their
/// owning processes, containers from the Docker API. No daemon reachable
/// is a note, not an error.
///
/// # Errors
///
/// As [`read_sockets`].
pub fn read_holders(options: &LiveOptions) -> Result<Holders, Error> {
    let mut sockets = read_sockets(&options.proc_root)?;
    if let Some(interest) = &options.ports_of_interest {
        sockets.retain(|s| interest.contains(&(s.protocol, s.port)));
    }
    let inodes: HashSet<u64> = sockets.iter().map(|s| s.inode).collect();
    let owners = socket_owners(&options.proc_root, &inodes);
    let mut notes = Vec::new();
    let containers = if options.no_docker {
        Vec::new()
    } else {
        match read_containers(options) {
            Ok(list) => list,
            Err(note) => {
                notes.push(note);
                Vec::new()
            }
        }
    };
    let mut containers = containers;
    containers.sort_by(|a, b| a.name.cmp(&b.name));
    let bindv6only = bindv6only(&options.proc_root);
    let ports = crate::live::assemble(&sockets, &owners, &containers, bindv6only);
    let unknown = ports
        .iter()
        .filter(|p| matches!(p.holder, crate::live::Holder::Unknown))
        .count();
    if unknown > 0 {
        notes.push(format!(
            "{unknown} socket(s) with an unknown owner (no readable /proc/<pid>/fd links to them: another user's processes, another PID namespace, or the kernel)"
        ));
    }
    Ok(Holders {
        ports,
        containers,
        notes,
    })
}

/// The absolute, symlink-free path of a compose file a finding names, as
/// Docker Compose writes it into `com.docker.compose.project.config_files`.
fn absolute_path(outcome: &super::CheckOutcome, file: &str) -> String {
    let path = outcome.path_of(file);
    let path = std::fs::canonicalize(&path)
        .or_else(|_| std::path::absolute(&path))
        .unwrap_or(path);
    path.display().to_string()
}

/// What `check --live` adds to a check.
#[derive(Debug, Clone, Default)]
pub struct LiveCheck {
    /// Compose service names (or convention service names) to restrict the
    /// report to (a preflight before `docker compose up SERVICE...`); empty:
    /// everything.
    pub only: Vec<String>,
    /// How to read the machine (`ports_of_interest` is computed here).
    pub options: LiveOptions,
}

/// Reads what holds each port and adds the `live-*` findings
/// ([`crate::live::check_live`]) to `outcome`'s report; with `only`, keeps
/// only findings about those services. Returns the notes (no daemon ...).
///
/// # Errors
///
/// As [`read_holders`].
pub fn add_live_findings(
    outcome: &mut super::CheckOutcome,
    live: &LiveCheck,
) -> Result<Vec<String>, Error> {
    let empty = crate::check::Scan::default();
    let convention = outcome.convention.as_ref().map(|(_, c)| c);
    // Convention service names stand for their compose services.
    let only: Vec<String> = live
        .only
        .iter()
        .flat_map(|name| {
            let mut names = vec![name.clone()];
            if let Some(s) = convention.and_then(|c| c.service(name)) {
                names.push(s.compose_service.clone());
            }
            names
        })
        .collect();
    let scan = outcome.scan.as_ref().unwrap_or(&empty);
    let mut options = live.options.clone();
    if !only.is_empty() && options.ports_of_interest.is_none() {
        options.ports_of_interest = Some(crate::live::ports_of(scan, &only));
    }
    let holders = read_holders(&options)?;
    let absolute = |file: &str| absolute_path(outcome, file);
    let live_findings = crate::live::check_live(convention, scan, &holders, &absolute);
    let mut findings = std::mem::take(&mut outcome.report.findings);
    findings.extend(live_findings);
    if !only.is_empty() {
        // The preflight keeps what concerns the named services, and every
        // repository problem that names no service (a broken ports.yaml or
        // compose file must still fail it); live findings about other
        // holders are dropped.
        findings.retain(|f| match &f.service {
            Some(s) => only.contains(s),
            None => !f.rule.id().starts_with("live-"),
        });
    }
    let projects = std::mem::take(&mut outcome.report.projects);
    let mut report = crate::report::Report::new(findings, outcome.report.summary.clone());
    report.projects = projects;
    outcome.report = report;
    Ok(holders.notes)
}
