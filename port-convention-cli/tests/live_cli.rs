//! `ports --live`, `check --live` and `allocate --live` against real sockets
//! this test binds (TCP and UDP, 127.0.0.1 and ::1), owned by this process.

#![cfg(target_os = "linux")]

mod common;

use std::net::{TcpListener, UdpSocket};
use std::path::Path;
use std::process::{Command, Output};

use common::{code, json, stderr, stdout};

/// The sockets of one test: four ports inside a protected range.
struct Held {
    tcp4: TcpListener,
    udp4: UdpSocket,
    tcp6: Option<TcpListener>,
    udp6: Option<UdpSocket>,
    base: u16,
}

/// Binds 127.0.0.1 TCP and UDP (and ::1 where IPv6 works) on base+1..=base+4
/// of the first block of ten free ports from `from`.
fn hold(from: u16) -> Held {
    for base in (from..from + 900).step_by(10) {
        let Ok(tcp4) = TcpListener::bind(("127.0.0.1", base + 1)) else {
            continue;
        };
        let Ok(udp4) = UdpSocket::bind(("127.0.0.1", base + 2)) else {
            continue;
        };
        let tcp6 = TcpListener::bind(("::1", base + 3)).ok();
        let udp6 = UdpSocket::bind(("::1", base + 4)).ok();
        if tcp6.is_none() || udp6.is_none() {
            common::skipped("IPv6 loopback not available, ::1 sockets not tested");
        }
        return Held {
            tcp4,
            udp4,
            tcp6,
            udp6,
            base,
        };
    }
    panic!("no free block of ports from {from}");
}

fn convention(base: u16) -> String {
    format!(
        "version: 1.0.0
ranges:
  testing:
    ports: {}-{}
    protected: true
services:
  api:
    range: testing
    ports: {{ http: {{ port: {}, container: 80 }} }}
",
        base,
        base + 9,
        base + 1
    )
}

/// Runs the binary in `dir` without any Docker daemon (a socket path that
/// does not exist), so the result depends only on the sockets.
fn run_live(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_port-convention"))
        .args(args)
        .current_dir(dir)
        .env(
            "DOCKER_HOST",
            "unix:///nonexistent/port-convention-test.sock",
        )
        .env_remove("NO_COLOR")
        .output()
        .expect("the binary runs")
}

#[test]
fn ports_live_names_this_process_for_each_socket() {
    let held = hold(41000);
    let base = held.base;
    let dir = common::tree(&[("ports.yaml", &convention(base))]);
    let out = run_live(dir.path(), &["ports", "--live", "--format", "json"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let value = json(&out);
    assert_eq!(value["schema"], "port-convention/live-ports");
    assert_eq!(value["version"], 1);
    let pid = std::process::id();
    let rows = value["ports"].as_array().unwrap();
    let row = |protocol: &str, address: &str, port: u16| {
        rows.iter()
            .find(|r| r["protocol"] == protocol && r["address"] == address && r["port"] == port)
            .unwrap_or_else(|| panic!("{protocol} {address}:{port} not in {rows:#?}"))
    };
    let mut expected = vec![
        ("tcp", "127.0.0.1", base + 1),
        ("udp", "127.0.0.1", base + 2),
    ];
    if held.tcp6.is_some() {
        expected.push(("tcp", "::1", base + 3));
    }
    if held.udp6.is_some() {
        expected.push(("udp", "::1", base + 4));
    }
    for (protocol, address, port) in &expected {
        let r = row(protocol, address, *port);
        assert_eq!(r["holder"]["kind"], "process", "{r:#}");
        assert_eq!(r["holder"]["pid"], pid, "{r:#}");
        assert!(
            r["holder"]["command"]
                .as_str()
                .unwrap()
                .contains("live_cli"),
            "{r:#}"
        );
    }
    assert_eq!(
        row("tcp", "127.0.0.1", base + 1)["convention"]["status"],
        "assigned"
    );
    assert_eq!(
        row("tcp", "127.0.0.1", base + 1)["convention"]["service"],
        "api"
    );
    assert_eq!(
        row("udp", "127.0.0.1", base + 2)["convention"],
        serde_json::json!({"status": "protected-undeclared", "range": "testing"})
    );
    let notes = value["notes"].as_array().unwrap();
    assert_eq!(
        notes
            .iter()
            .filter(|n| n.as_str().unwrap().contains("no Docker daemon reachable"))
            .count(),
        1,
        "{notes:#?}"
    );

    let table = run_live(dir.path(), &["ports", "--live"]);
    assert_eq!(code(&table), 0);
    let text = stdout(&table);
    let line = text
        .lines()
        .find(|l| l.starts_with(&format!("{}/udp ", base + 2)))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(line.contains(&format!("process {pid} (")), "{line}");
    assert!(
        line.ends_with("inside protected range testing, undeclared"),
        "{line}"
    );
    assert!(text.contains("api.http (range testing)"), "{text}");
    assert_eq!(
        stderr(&table).matches("no Docker daemon reachable").count(),
        1,
        "{}",
        stderr(&table)
    );
    drop(held.tcp4);
    drop(held.udp4);
}

#[test]
fn check_live_flags_held_ports_and_preflight_names_the_holder() {
    let held = hold(42000);
    let base = held.base;
    let compose = format!(
        "services:\n  api:\n    image: x\n    ports: [\"127.0.0.1:{}:80\"]\n  web:\n    image: x\n    ports: [\"127.0.0.1:{}:8080\"]\n",
        base + 1,
        base + 8,
    );
    let dir = common::tree(&[
        ("ports.yaml", &convention(base)),
        ("compose.yaml", &compose),
    ]);
    // Without --live: web publishes inside the protected range undeclared;
    // nothing about the sockets.
    let plain = run_live(dir.path(), &["check", "--format", "json"]);
    let rules: Vec<String> = json(&plain)["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_owned())
        .collect();
    assert!(!rules.iter().any(|r| r.starts_with("live-")), "{rules:?}");

    let out = run_live(dir.path(), &["check", "--live", "--format", "json"]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let findings = json(&out)["findings"].as_array().unwrap().clone();
    let pid = std::process::id();
    let taken: Vec<&serde_json::Value> = findings
        .iter()
        .filter(|f| f["rule"] == "live-port-taken")
        .collect();
    assert_eq!(taken.len(), 1, "{findings:#?}");
    assert_eq!(taken[0]["service"], "api");
    assert_eq!(taken[0]["file"], "compose.yaml");
    assert!(
        taken[0]["message"].as_str().unwrap().contains(&format!(
            "127.0.0.1:{}/tcp is held by process {pid} (",
            base + 1
        )),
        "{:#}",
        taken[0]
    );
    let undeclared: Vec<u64> = findings
        .iter()
        .filter(|f| f["rule"] == "live-undeclared-listener")
        .map(|f| f["port"].as_u64().unwrap())
        .collect();
    let mut expected = vec![u64::from(base + 2)];
    if held.tcp6.is_some() {
        expected.push(u64::from(base + 3));
    }
    if held.udp6.is_some() {
        expected.push(u64::from(base + 4));
    }
    let mut undeclared_sorted = undeclared.clone();
    undeclared_sorted.sort();
    assert_eq!(undeclared_sorted, expected, "{findings:#?}");

    // Preflight of api: fails, names this process, and nothing else.
    let pre = run_live(dir.path(), &["check", "--live", "--only", "api"]);
    assert_eq!(code(&pre), 1, "{}", stderr(&pre));
    let text = stdout(&pre);
    assert!(text.contains("error[live-port-taken]"), "{text}");
    assert!(text.contains(&format!("held by process {pid} (")), "{text}");
    assert!(!text.contains("live-undeclared-listener"), "{text}");
    assert!(!text.contains("web"), "{text}");
    // Preflight of web: its port is free; its own repository finding
    // (undeclared in a protected range) stays, and so do repository
    // findings that name no service (the convention's warning about the
    // ephemeral range); no live finding.
    let web = run_live(
        dir.path(),
        &["check", "--live", "--only", "web", "--format", "json"],
    );
    let rules: Vec<String> = json(&web)["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(rules, vec!["protected-range-violation", "ephemeral-port"]);
    // --only needs --live.
    assert_eq!(code(&run_live(dir.path(), &["check", "--only", "api"])), 2);
    drop(held);
}

#[test]
fn allocate_live_skips_held_ports() {
    let held = hold(43000);
    let base = held.base;
    let text = format!(
        "version: 1.0.0\nranges:\n  pool: {{ ports: {}-{} }}\n",
        base + 1,
        base + 9
    );
    let dir = common::tree(&[("ports.yaml", &text)]);
    let plain = run_live(dir.path(), &["allocate", "pool", "--count", "2"]);
    assert_eq!(stdout(&plain), format!("{}\n{}\n", base + 1, base + 2));
    let live = run_live(dir.path(), &["allocate", "pool", "--count", "2", "--live"]);
    assert_eq!(code(&live), 0, "{}", stderr(&live));
    let got: Vec<u16> = stdout(&live).lines().map(|l| l.parse().unwrap()).collect();
    assert_eq!(got.len(), 2);
    for p in &got {
        assert!(*p > base + 2, "{got:?} includes a held port");
        assert!(held.tcp6.is_none() || *p != base + 3, "{got:?}");
        assert!(held.udp6.is_none() || *p != base + 4, "{got:?}");
    }
    drop(held);
}

#[test]
fn ports_needs_live() {
    let dir = common::tree(&[]);
    let out = run_live(dir.path(), &["ports"]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("error[invalid-argument]"),
        "{}",
        stderr(&out)
    );
}

/// The preflight keeps repository problems that name no service: a broken
/// compose file still fails `check --live --only SERVICE`.
#[test]
fn a_preflight_still_fails_on_a_broken_repository() {
    let dir = common::tree(&[
        (
            "compose.yaml",
            "services:\n  api:\n    image: a\n    ports: [\"127.0.0.1:1:1\"]\n",
        ),
        ("other/compose.yaml", "services: [\n"),
    ]);
    let out = run_live(
        dir.path(),
        &["check", "--live", "--only", "api", "--format", "json"],
    );
    let rules: Vec<String> = common::json(&out)["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        rules.contains(&"invalid-compose-file".to_owned()),
        "{rules:?}"
    );
    assert_eq!(common::code(&out), 1);
}
