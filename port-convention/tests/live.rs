//! The live parsers and rules on captured `/proc/net` text and a captured
//! Docker API answer (tests/fixtures/live, see its README).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use port_convention::check::{TreeTexts, scan_texts};
use port_convention::io::live::{parse_http_response, read_sockets, socket_owners};
use port_convention::live::{
    Container, HeldPort, Holder, Holders, Process, Standing, annotate, assemble, check_live,
    parse_containers, parse_proc_net,
};
use port_convention::{Convention, Protocol, Rule};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/live")
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

#[cfg(target_endian = "little")]
#[test]
fn proc_net_tables_give_listeners_and_bound_udp_only() {
    let root = fixtures().join("proc");
    let sockets = read_sockets(&root).unwrap();
    let mut seen: Vec<(Protocol, String, u16, u64, bool)> = sockets
        .iter()
        .map(|s| {
            (
                s.protocol,
                s.address.to_string(),
                s.port,
                s.inode,
                s.from_v6_table,
            )
        })
        .collect();
    seen.sort();
    let expected: Vec<(Protocol, String, u16, u64, bool)> = vec![
        (Protocol::Tcp, "0.0.0.0".into(), 8080, 40001, false),
        (Protocol::Tcp, "127.0.0.1".into(), 8081, 40002, false),
        (Protocol::Tcp, "127.0.0.1".into(), 17001, 32305, false),
        (Protocol::Tcp, "::".into(), 8080, 40003, true),
        (Protocol::Tcp, "::".into(), 17004, 32308, true),
        (Protocol::Tcp, "::1".into(), 17002, 32306, true),
        (Protocol::Tcp, "::ffff:127.0.0.1".into(), 17003, 32307, true),
        (Protocol::Udp, "127.0.0.1".into(), 17005, 32309, false),
        (Protocol::Udp, "::1".into(), 17006, 32310, true),
    ];
    let mut expected = expected;
    expected.sort();
    assert_eq!(seen, expected);
    let uid = sockets.iter().find(|s| s.inode == 40001).unwrap().uid;
    assert_eq!(uid, 1000);
}

#[test]
fn a_udp_table_read_as_tcp_finds_no_listener() {
    let text = std::fs::read_to_string(fixtures().join("proc/net/udp")).unwrap();
    assert!(parse_proc_net(&text, Protocol::Tcp, false).is_empty());
    assert_eq!(parse_proc_net(&text, Protocol::Udp, false).len(), 1);
    assert!(parse_proc_net("", Protocol::Udp, false).is_empty());
    assert!(parse_proc_net(&text, Protocol::Sctp, false).is_empty());
}

#[cfg(target_endian = "little")]
#[test]
fn dual_stack_mapped_and_owners_are_joined() {
    let root = fixtures().join("proc");
    let sockets = read_sockets(&root).unwrap();
    let owners: HashMap<u64, Vec<Process>> = HashMap::from([(
        32308,
        vec![Process {
            pid: 7,
            command: "python3 serve.py".into(),
        }],
    )]);
    let held = assemble(&sockets, &owners, &[], false);
    let find = |port: u16| held.iter().find(|h| h.port == port).unwrap();
    // [::]:17004 alone: dual-stack, it holds 17004 on IPv4 too.
    assert!(find(17004).dual_stack);
    assert!(find(17004).overlaps(&"127.0.0.1".parse().unwrap()));
    assert_eq!(
        find(17004).holder,
        Holder::Process(Process {
            pid: 7,
            command: "python3 serve.py".into()
        })
    );
    // [::]:8080 beside 0.0.0.0:8080: IPv6-only.
    let v6 = held
        .iter()
        .find(|h| h.port == 8080 && h.address.is_ipv6())
        .unwrap();
    assert!(!v6.dual_stack);
    assert!(!v6.overlaps(&"127.0.0.1".parse().unwrap()));
    // The IPv4-mapped listener counts as IPv4.
    assert_eq!(find(17003).address, ip("127.0.0.1"));
    assert_eq!(find(17001).holder, Holder::Unknown);
    // bindv6only=1: no dual-stack socket.
    assert!(
        !assemble(&sockets, &owners, &[], true)
            .iter()
            .any(|h| h.dual_stack)
    );
}

#[cfg(unix)]
#[test]
fn owners_come_from_fd_links() {
    let dir = tempfile::tempdir().unwrap();
    let pid = dir.path().join("4242");
    std::fs::create_dir_all(pid.join("fd")).unwrap();
    std::fs::write(
        pid.join("cmdline"),
        b"/usr/bin/redis-server\0--port\x007001\0",
    )
    .unwrap();
    std::os::unix::fs::symlink("socket:[32305]", pid.join("fd/3")).unwrap();
    std::os::unix::fs::symlink("pipe:[32305]", pid.join("fd/4")).unwrap();
    std::os::unix::fs::symlink("socket:[99]", pid.join("fd/5")).unwrap();
    let kernel = dir.path().join("2");
    std::fs::create_dir_all(kernel.join("fd")).unwrap();
    std::fs::write(kernel.join("cmdline"), b"").unwrap();
    std::fs::write(kernel.join("comm"), b"kworker\n").unwrap();
    std::os::unix::fs::symlink("socket:[99]", kernel.join("fd/0")).unwrap();
    std::fs::create_dir_all(dir.path().join("self")).unwrap();
    let owners = socket_owners(dir.path(), &HashSet::from([32305, 99]));
    assert_eq!(
        owners[&32305],
        vec![Process {
            pid: 4242,
            command: "/usr/bin/redis-server --port 7001".into()
        }]
    );
    let mut both: Vec<u32> = owners[&99].iter().map(|p| p.pid).collect();
    both.sort();
    assert_eq!(both, vec![2, 4242]);
    assert!(owners[&99].iter().any(|p| p.command == "[kworker]"));
}

fn captured_containers() -> Vec<Container> {
    let body = std::fs::read_to_string(fixtures().join("containers.json")).unwrap();
    parse_containers(&body).unwrap()
}

#[test]
fn docker_api_answer_gives_compose_labels_and_published_ports() {
    let containers = captured_containers();
    assert_eq!(containers.len(), 2);
    let web = &containers[0];
    assert_eq!(web.name, "pcx1-web-1");
    assert_eq!(web.project.as_deref(), Some("pcx1"));
    assert_eq!(web.service.as_deref(), Some("web"));
    assert_eq!(web.config_files, vec!["/tmp/pcx-p1/docker-compose.yml"]);
    assert_eq!(web.working_dir.as_deref(), Some("/tmp/pcx-p1"));
    let ports: Vec<(Option<IpAddr>, u16, u16, Protocol)> = web
        .ports
        .iter()
        .map(|p| (p.host_ip, p.host_port, p.container_port, p.protocol))
        .collect();
    assert_eq!(
        ports,
        vec![
            (Some(ip("0.0.0.0")), 18080, 80, Protocol::Tcp),
            (Some(ip("127.0.0.1")), 18081, 81, Protocol::Udp),
            (Some(ip("::")), 18080, 80, Protocol::Tcp),
        ]
    );
    assert_eq!(containers[1].name, "lonely");
    assert!(containers[1].ports.is_empty() && containers[1].project.is_none());
    assert!(parse_containers("{\"message\":\"nope\"}").is_err());
}

fn proxy(pid: u32, proto: &str, host_ip: &str, port: u16, target: u16) -> Process {
    Process {
        pid,
        command: format!(
            "/usr/sbin/docker-proxy -proto {proto} -host-ip {host_ip} -host-port {port} -container-ip 172.18.0.2 -container-port {target}"
        ),
    }
}

fn socket(
    protocol: Protocol,
    address: &str,
    port: u16,
    inode: u64,
) -> port_convention::live::Socket {
    port_convention::live::Socket {
        protocol,
        address: ip(address),
        port,
        inode,
        uid: 0,
        from_v6_table: address.contains(':'),
    }
}

#[test]
fn docker_proxy_sockets_are_the_containers() {
    let containers = captured_containers();
    let sockets = vec![
        socket(Protocol::Tcp, "0.0.0.0", 18080, 1),
        socket(Protocol::Tcp, "::", 18080, 2),
        socket(Protocol::Udp, "127.0.0.1", 18081, 3),
        socket(Protocol::Tcp, "127.0.0.1", 5432, 4),
    ];
    let owners = HashMap::from([
        (1, vec![proxy(11, "tcp", "0.0.0.0", 18080, 80)]),
        (2, vec![proxy(12, "tcp", "::", 18080, 80)]),
        (3, vec![proxy(13, "udp", "127.0.0.1", 18081, 81)]),
        (4, vec![proxy(14, "tcp", "127.0.0.1", 5432, 5432)]),
    ]);
    let held = assemble(&sockets, &owners, &containers, false);
    assert_eq!(held.len(), 4, "{held:#?}");
    for h in held.iter().filter(|h| h.port != 5432) {
        match &h.holder {
            Holder::Container { container, proxy } => {
                assert_eq!(container.name, "pcx1-web-1");
                assert!(proxy.is_some());
            }
            other => panic!("{other:?}"),
        }
        assert!(!h.dual_stack, "[::] beside 0.0.0.0 is IPv6-only");
    }
    // A proxy of a container the daemon did not report (another daemon).
    let orphan = held.iter().find(|h| h.port == 5432).unwrap();
    assert!(
        orphan
            .holder
            .describe()
            .contains("docker-proxy (pid 14) for a container at 172.18.0.2:5432"),
        "{}",
        orphan.holder.describe()
    );
    // No socket at all (rootless, a VM): the API's ports are still held.
    let api_only = assemble(&[], &HashMap::new(), &containers, false);
    assert_eq!(api_only.len(), 3);
    assert!(
        api_only
            .iter()
            .all(|h| matches!(h.holder, Holder::Container { .. }))
    );
}

#[test]
fn http_answers_with_length_chunks_or_close() {
    let fixed =
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n[]trailing";
    assert_eq!(parse_http_response(fixed).unwrap(), "[]");
    let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n[{}\r\n1;ext=1\r\n]\r\n0\r\n\r\n";
    assert_eq!(parse_http_response(chunked).unwrap(), "[{}]");
    assert_eq!(
        parse_http_response(b"HTTP/1.0 200 OK\r\n\r\n[1]").unwrap(),
        "[1]"
    );
    let err = parse_http_response(
        b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 15\r\n\r\n{\"message\":\"x\"}",
    )
    .unwrap_err();
    assert!(err.contains("500") && err.contains("message"), "{err}");
    assert!(parse_http_response(b"garbage").is_err());
    assert!(
        parse_http_response(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
            .is_err()
    );
}

const CONVENTION: &str = "version: 1.0.0
ranges:
  databases:
    ports: 7000-7999
    protected: true
services:
  pg:
    range: databases
    ports: { sql: { port: 7000, container: 5432 } }
";

fn scan_of(files: &[(&str, &str)]) -> port_convention::check::Scan {
    // The root directory is `/r` (its default project is `r`).
    let mut tree = TreeTexts {
        root_name: "r".into(),
        ..TreeTexts::default()
    };
    for (name, text) in files {
        tree.compose.push((*name).to_owned());
        tree.texts.insert((*name).to_owned(), (*text).to_owned());
    }
    scan_texts(&tree, &BTreeMap::new(), None)
}

fn container(project: &str, service: &str, file: &str, ports: &[(u16, u16)]) -> Container {
    Container {
        id: format!("{project}-{service}"),
        name: format!("{project}-{service}-1"),
        project: Some(project.into()),
        service: Some(service.into()),
        config_files: vec![file.into()],
        ports: ports
            .iter()
            .map(|(host, target)| port_convention::live::ContainerPort {
                host_ip: Some(ip("0.0.0.0")),
                host_port: *host,
                container_port: *target,
                protocol: Protocol::Tcp,
            })
            .collect(),
        ..Container::default()
    }
}

fn held_by(port: u16, address: &str, holder: Holder) -> port_convention::live::HeldPort {
    port_convention::live::HeldPort {
        protocol: Protocol::Tcp,
        address: ip(address),
        port,
        dual_stack: address == "::",
        holder,
        processes: Vec::new(),
        inode: None,
    }
}

#[test]
fn live_rules() {
    let convention = Convention::from_yaml("ports.yaml", CONVENTION).unwrap();
    let scan = scan_of(&[
        (
            "db/compose.yaml",
            "services:\n  pg:\n    image: pg\n    ports: [\"127.0.0.1:7000:5432\"]\n  cache:\n    image: redis\n    ports: [\"6379:6379\"]\n",
        ),
        (
            "web/compose.yaml",
            "services:\n  web:\n    image: web\n    ports: [\"8080:80\", \"9000-9001:9000\"]\n",
        ),
    ]);
    let absolute = |f: &str| format!("/repo/{f}");
    let mut own_pg = container("db", "pg", "/repo/db/compose.yaml", &[(7000, 5432)]);
    own_pg.ports[0].host_ip = Some(ip("127.0.0.1"));
    let stale_web = container("web", "web", "/repo/web/compose.yaml", &[(8081, 80)]);
    let other_checkout = container("web2", "web", "/other/web/compose.yaml", &[(8080, 80)]);
    let holders = Holders {
        ports: vec![
            // pg's own container: fine.
            held_by(
                7000,
                "127.0.0.1",
                Holder::Container {
                    container: own_pg.clone(),
                    proxy: None,
                },
            ),
            // pg's container on a port it is not assigned, in its own
            // protected range: allowed, as in the repository rules.
            held_by(
                7100,
                "127.0.0.1",
                Holder::Container {
                    container: own_pg.clone(),
                    proxy: None,
                },
            ),
            // A stray process in the protected range.
            held_by(
                7500,
                "127.0.0.1",
                Holder::Process(Process {
                    pid: 99,
                    command: "nc -l 7500".into(),
                }),
            ),
            // A dual-stack [::] process holds 6379 on IPv4 too.
            held_by(
                6379,
                "::",
                Holder::Process(Process {
                    pid: 100,
                    command: "redis-server".into(),
                }),
            ),
            // Another checkout's web container holds 8080.
            held_by(
                8080,
                "0.0.0.0",
                Holder::Container {
                    container: other_checkout.clone(),
                    proxy: None,
                },
            ),
            // One port of web's 9000-9001 range: Docker takes the other.
            held_by(9000, "0.0.0.0", Holder::Unknown),
        ],
        containers: vec![own_pg, stale_web, other_checkout],
        notes: Vec::new(),
    };
    let findings = check_live(Some(&convention), &scan, &holders, &absolute);
    let mut summary: Vec<(Rule, Option<&str>, Option<u16>)> = findings
        .iter()
        .map(|f| (f.rule, f.service.as_deref(), f.port))
        .collect();
    summary.sort();
    assert_eq!(
        summary,
        vec![
            (Rule::LiveUndeclaredListener, None, Some(7500)),
            (Rule::LivePortTaken, Some("cache"), Some(6379)),
            (Rule::LivePortTaken, Some("web"), Some(8080)),
            (Rule::LiveStaleContainer, Some("web"), Some(8081)),
        ],
        "{findings:#?}"
    );
    let message = |rule: Rule| {
        findings
            .iter()
            .find(|f| f.rule == rule)
            .map(|f| f.message.clone())
            .unwrap()
    };
    assert_eq!(
        message(Rule::LivePortTaken),
        "cache (project db) publishes 6379/tcp, but [::]:6379/tcp is held by process 100 (redis-server)"
    );
    assert!(
        findings.iter().any(|f| f.message
            == "web (project web) publishes 8080/tcp, but 0.0.0.0:8080/tcp is held by container web2-web-1 (compose project web2, service web)"),
        "{findings:#?}"
    );
    assert_eq!(
        message(Rule::LiveStaleContainer),
        "container web-web-1 (compose project web, service web) publishes 8081:80/tcp, but web/compose.yaml now says 8080:80/tcp, 9000-9001:9000/tcp: recreate it (docker compose up -d web)"
    );
    assert!(
        findings
            .iter()
            .filter(|f| f.rule != Rule::LiveUndeclaredListener)
            .all(|f| f.project.is_some()),
        "{findings:#?}"
    );
    assert_eq!(
        message(Rule::LiveUndeclaredListener),
        "127.0.0.1:7500/tcp is held by process 99 (nc -l 7500), inside protected range databases, but the convention assigns it to no service"
    );
    // Without a convention: no protected ranges, the other two stay.
    let bare = check_live(None, &scan, &holders, &absolute);
    assert!(bare.iter().all(|f| f.rule != Rule::LiveUndeclaredListener));
    assert_eq!(bare.len(), 3);
}

#[test]
fn a_removed_service_makes_its_container_stale() {
    let scan = scan_of(&[("compose.yaml", "services:\n  api:\n    image: x\n")]);
    let holders = Holders {
        containers: vec![
            container("r", "gone", "/r/compose.yaml", &[]),
            // Another project's container from the same file: not ours.
            container("q", "gone", "/r/compose.yaml", &[]),
        ],
        ..Holders::default()
    };
    let findings = check_live(None, &scan, &holders, &|f| format!("/r/./{f}"));
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(
        findings[0].message,
        "container r-gone-1 (compose project r, service gone) runs, but project r (compose.yaml) no longer runs service gone: remove it (docker compose up -d --remove-orphans)"
    );
}

#[test]
fn standing_of_a_port() {
    let convention = Convention::from_yaml("ports.yaml", CONVENTION).unwrap();
    assert_eq!(
        annotate(&convention, Protocol::Tcp, 7000).describe(),
        "pg.sql (range databases)"
    );
    assert_eq!(
        annotate(&convention, Protocol::Tcp, 7001),
        Standing::ProtectedUndeclared {
            range: "databases".into()
        }
    );
    assert_eq!(
        annotate(&convention, Protocol::Udp, 7000).describe(),
        "inside protected range databases, undeclared"
    );
    assert_eq!(
        annotate(&convention, Protocol::Tcp, 80).describe(),
        "undeclared"
    );
}

#[test]
fn a_container_is_compared_with_its_project_merged() {
    // compose.yaml + compose.override.yaml: one default project, `r`.
    let scan = scan_of(&[
        (
            "compose.yaml",
            "services:\n  api:\n    image: x\n    ports: [\"8080:80\"]\n",
        ),
        (
            "compose.override.yaml",
            "services:\n  api:\n    ports: [\"9090:90\"]\n",
        ),
    ]);
    let absolute = |f: &str| format!("/r/{f}");
    let mut both = container("r", "api", "/r/compose.yaml", &[(8080, 80), (9090, 90)]);
    both.config_files.push("/r/compose.override.yaml".into());
    let holders = Holders {
        containers: vec![both.clone()],
        ..Holders::default()
    };
    assert!(check_live(None, &scan, &holders, &absolute).is_empty());
    // Started from the base file alone: the override's port is missing.
    let base_only = container("r", "api", "/r/compose.yaml", &[(8080, 80)]);
    let holders = Holders {
        containers: vec![base_only],
        ..Holders::default()
    };
    let findings = check_live(None, &scan, &holders, &absolute);
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].rule, Rule::LiveStaleContainer);
    assert!(
        findings[0]
            .message
            .contains("but compose.yaml + compose.override.yaml now says 8080:80/tcp, 9090:90/tcp"),
        "{}",
        findings[0].message
    );
}

#[test]
fn own_container_other_checkout_and_other_project() {
    let scan = scan_of(&[(
        "compose.yaml",
        "services:\n  api:\n    image: x\n    ports: [\"8080:80\"]\n",
    )]);
    let absolute = |f: &str| format!("/r/{f}");
    let held = |c: Container| HeldPort {
        protocol: Protocol::Tcp,
        address: ip("0.0.0.0"),
        port: 8080,
        dual_stack: false,
        holder: Holder::Container {
            container: c.clone(),
            proxy: None,
        },
        processes: Vec::new(),
        inode: None,
    };
    let taken = |c: Container| {
        let holders = Holders {
            ports: vec![held(c.clone())],
            containers: vec![c],
            notes: Vec::new(),
        };
        check_live(None, &scan, &holders, &absolute)
            .into_iter()
            .filter(|f| f.rule == Rule::LivePortTaken)
            .map(|f| f.message)
            .collect::<Vec<_>>()
    };
    assert!(taken(container("r", "api", "/r/compose.yaml", &[(8080, 80)])).is_empty());
    let mut elsewhere = container("r", "api", "/home/b/r/compose.yaml", &[(8080, 80)]);
    elsewhere.working_dir = Some("/home/b/r".into());
    assert_eq!(
        taken(elsewhere),
        vec![
            "api (project r) publishes 8080/tcp, but 0.0.0.0:8080/tcp is held by container r-api-1 (compose project r, service api) of another checkout (/home/b/r)"
        ]
    );
    assert_eq!(
        taken(container("other", "api", "/r/compose.yaml", &[(8080, 80)])),
        vec![
            "api (project r) publishes 8080/tcp, but 0.0.0.0:8080/tcp is held by container other-api-1 (compose project other, service api), started from these files as project other (`docker compose -p other up` reuses it)"
        ]
    );
    assert_eq!(
        taken(container("other", "api", "/x/compose.yaml", &[(8080, 80)])),
        vec![
            "api (project r) publishes 8080/tcp, but 0.0.0.0:8080/tcp is held by container other-api-1 (compose project other, service api)"
        ]
    );
}

#[test]
fn engine_processes_other_than_docker_proxy_hold_for_their_containers() {
    let containers = captured_containers();
    let sockets = vec![
        socket(Protocol::Tcp, "0.0.0.0", 18080, 1),
        socket(Protocol::Tcp, "::", 18080, 2),
    ];
    let owners = HashMap::from([
        (
            1,
            vec![Process {
                pid: 20,
                command: "rootlessport".into(),
            }],
        ),
        // A host process on the container's port (a daemon without any
        // proxy): the process, not the container.
        (
            2,
            vec![Process {
                pid: 21,
                command: "nginx: master process".into(),
            }],
        ),
    ]);
    let held = assemble(&sockets, &owners, &containers, false);
    assert!(
        matches!(
            &held[0].holder,
            Holder::Container { proxy: Some(p), .. } if p.pid == 20
        ),
        "{held:#?}"
    );
    assert!(
        matches!(&held[1].holder, Holder::Process(p) if p.pid == 21),
        "{held:#?}"
    );
}

/// A Docker API that answers one byte at a time cannot hold a check past
/// the deadline; one that answers at once is read whole. A real unix socket.
#[cfg(unix)]
#[test]
fn the_docker_api_exchange_has_one_deadline() {
    use std::io::{Read, Write};
    use std::os::unix::net::UnixListener;
    use std::time::{Duration, Instant};

    let dir = tempfile::tempdir().unwrap();
    let serve = |name: &str, drip: bool| {
        let path = dir.path().join(name);
        let listener = UnixListener::bind(&path).unwrap();
        std::thread::spawn(move || {
            let (mut conn, _) = listener.accept().unwrap();
            let mut request = [0u8; 1024];
            let _ = conn.read(&mut request);
            let answer = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n[]";
            if drip {
                // Each byte well inside a per-read timeout, the whole far past it.
                for b in answer.bytes().chain(std::iter::repeat_n(b' ', 200)) {
                    if conn.write_all(&[b]).is_err() {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
            } else {
                let _ = conn.write_all(answer.as_bytes());
            }
        });
        path
    };
    let quick = serve("quick.sock", false);
    let body = port_convention::io::live::http_get_unix(
        &quick,
        "/containers/json",
        Duration::from_millis(2000),
    )
    .unwrap();
    assert_eq!(body, "[]");
    let slow = serve("slow.sock", true);
    let started = Instant::now();
    let err = port_convention::io::live::http_get_unix(
        &slow,
        "/containers/json",
        Duration::from_millis(400),
    )
    .unwrap_err();
    let took = started.elapsed();
    assert!(err.contains("no complete answer within 400 ms"), "{err}");
    // The drip would take 12 s; the deadline ends it (generous bound for a
    // loaded machine, far below the drip).
    assert!(took < Duration::from_secs(5), "took {took:?}");
}
