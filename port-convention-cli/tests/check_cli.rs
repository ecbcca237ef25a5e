//! Issue: `check` over a whole repository, and `scan`.

mod common;

use std::collections::BTreeSet;

use common::*;
use serde_json::Value;

fn findings(report: &Value) -> &Vec<Value> {
    report["findings"].as_array().unwrap()
}

fn ports_of(report: &Value, rule: &str) -> BTreeSet<u64> {
    findings(report)
        .iter()
        .filter(|f| f["rule"] == rule)
        .map(|f| f["port"].as_u64().unwrap())
        .collect()
}

fn rules(report: &Value) -> BTreeSet<String> {
    findings(report)
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_owned())
        .collect()
}

const CONVENTION: &str = "version: 1.0.0
ranges:
  web: { ports: 3000-3999 }
  db:
    ports: 7000-7999
    protected: true
    bind: loopback
    ranges:
      primary: { ports: 7000-7099 }
services:
  pg:
    range: primary
    compose: { file: db/compose.yaml }
    ports:
      sql: { port: 7000, env: PG_PORT, container: 5432, legacy: 5433 }
alternatives:
  flavours: [a/docker-compose.yml, b/docker-compose.yml]
";

#[test]
fn clash_across_files_points_at_each_other_with_a_suggestion() {
    // One project: compose merges docker-compose.override.yml into docker-compose.yml.
    let dir = tree(&[
        (
            "a/docker-compose.yml",
            "services:\n  web:\n    image: nginx\n    ports:\n      - \"3000:80\"\n",
        ),
        (
            "a/docker-compose.override.yml",
            "services:\n  grafana:\n    image: grafana/grafana\n    ports:\n      - 3000:3000\n",
        ),
    ]);
    let out = run_in(dir.path(), &["check", ".", "--format", "json"]);
    assert_eq!(code(&out), 1);
    let report = json(&out);
    let clashes: Vec<&Value> = findings(&report)
        .iter()
        .filter(|f| f["rule"] == "duplicate-host-port")
        .collect();
    assert_eq!(clashes.len(), 2, "one finding per claim involved");
    assert_eq!(clashes[0]["file"], "a/docker-compose.override.yml");
    assert_eq!(clashes[1]["file"], "a/docker-compose.yml");
    assert_eq!(
        (clashes[1]["line"].as_u64(), clashes[1]["column"].as_u64()),
        (Some(5), Some(9))
    );
    assert_eq!(clashes[1]["project"], "a");
    assert_eq!(clashes[0]["related"][0]["file"], "a/docker-compose.yml");
    assert_eq!(clashes[0]["related"][0]["project"], "a");
    let clashes = [clashes[1], clashes[0]];
    assert_eq!(
        clashes[0]["related"][0]["file"],
        "a/docker-compose.override.yml"
    );
    assert_eq!(clashes[0]["related"][0]["service"], "grafana");
    assert_eq!(clashes[0]["host_ip"], "");
    assert_eq!(clashes[0]["protocol"], "tcp");
    let suggested = clashes[0]["suggestion"]["port"].as_u64().unwrap();
    assert!(suggested != 3000 && suggested >= 1024);
}

#[test]
fn separate_projects_share_a_port_as_a_warning_until_a_host_declares_them() {
    let files = [
        (
            "a/compose.yaml",
            "services:\n  web:\n    image: nginx\n    ports: [\"3000:80\"]\n",
        ),
        (
            "b/compose.yaml",
            "services:\n  grafana:\n    image: grafana/grafana\n    ports: [\"3000:3000\"]\n",
        ),
        (
            "c/docker-compose.yml",
            "services:\n  app:\n    image: app\n    ports: [\"3000:3000\"]\n",
        ),
    ];
    let dir = tree(&files);
    let out = run_in(dir.path(), &["check", ".", "--format", "json"]);
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    let report = json(&out);
    let shared: Vec<&Value> = findings(&report)
        .iter()
        .filter(|f| f["rule"] == "port-shared-across-projects")
        .collect();
    assert_eq!(shared.len(), 1, "one finding per port: {report:#}");
    assert_eq!(shared[0]["severity"], "warning");
    assert_eq!(shared[0]["port"], 3000);
    assert_eq!(shared[0]["project"], "a");
    let related: Vec<&str> = shared[0]["related"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["project"].as_str().unwrap())
        .collect();
    assert_eq!(related, ["b", "c"]);
    let message = shared[0]["message"].as_str().unwrap();
    assert!(
        message.contains("3 compose projects") && message.contains("hosts:"),
        "{message}"
    );

    // Declared on one host: errors, naming the host.
    let mut declared = files.to_vec();
    declared.push((
        "ports.yaml",
        "version: 1.0.0\nhosts:\n  box:\n    projects: [a, b]\n",
    ));
    let dir = tree(&declared);
    let out = run_in(dir.path(), &["check", ".", "--format", "json"]);
    assert_eq!(code(&out), 1, "{}", stdout(&out));
    let report = json(&out);
    let errors: Vec<&Value> = findings(&report)
        .iter()
        .filter(|f| f["rule"] == "duplicate-host-port")
        .collect();
    assert_eq!(errors.len(), 2, "{report:#}");
    assert!(errors.iter().all(|f| f["host"] == "box"));
    // c is on no host: still only a warning, with every project involved.
    let shared: Vec<&Value> = findings(&report)
        .iter()
        .filter(|f| f["rule"] == "port-shared-across-projects")
        .collect();
    assert_eq!(shared.len(), 1, "{report:#}");
}

#[test]
fn a_host_entry_that_matches_nothing_is_reported() {
    let dir = tree(&[
        (
            "a/compose.yaml",
            "services:\n  web:\n    image: nginx\n    ports: [\"3000:80\"]\n",
        ),
        (
            "ports.yaml",
            "version: 1.0.0\nhosts:\n  box:\n    projects: [a, nothing/here]\n",
        ),
    ]);
    let report = json(&run_in(dir.path(), &["check", ".", "--format", "json"]));
    let unknown: Vec<&Value> = findings(&report)
        .iter()
        .filter(|f| f["rule"] == "unknown-host-project")
        .collect();
    assert_eq!(unknown.len(), 1, "{report:#}");
    assert!(
        unknown[0]["message"]
            .as_str()
            .unwrap()
            .contains("nothing/here")
    );
    assert_eq!(unknown[0]["file"], "ports.yaml");
}

#[test]
fn what_does_not_clash() {
    let dir = tree(&[
        (
            "one/compose.yaml",
            "services:\n  a:\n    ports: [\"127.0.0.1:8080:80\", \"9000:9000/udp\", \"5000-5001:5000-5001\"]\n",
        ),
        (
            "two/compose.yaml",
            "services:\n  b:\n    ports: [\"127.0.0.2:8080:80\", \"9000:9000/tcp\", \"5002:5000\", \"80\"]\n  c:\n    ports: [\"80\"]\n",
        ),
    ]);
    let out = run_in(dir.path(), &["check", ".", "--format", "json"]);
    assert_eq!(code(&out), 0, "{}", stdout(&out));
}

#[test]
fn what_does_clash() {
    let dir = tree(&[
        (
            "one/compose.yaml",
            "services:\n  a:\n    ports: [\"0.0.0.0:8080:80\", \"5000-5005:5000\"]\n  b:\n    ports: [\"127.0.0.1:8080:81\", \"5003:5003\"]\n",
        ),
        (
            "two/compose.yaml",
            "services:\n  c:\n    ports: [\"[::]:9090:9090\"]\n  d:\n    ports: [\"9090:9090\"]\n",
        ),
    ]);
    let report = json(&run_in(dir.path(), &["check", ".", "--format", "json"]));
    // all-interfaces vs loopback, a host range vs a port inside it, :: vs unspecified.
    assert_eq!(
        ports_of(&report, "duplicate-host-port"),
        BTreeSet::from([5000, 5003, 8080, 9090])
    );
}

#[test]
fn alternatives_never_clash_and_rules_of_the_convention_fire() {
    let dir = tree(&[
        ("ports.yaml", CONVENTION),
        (
            "a/docker-compose.yml",
            "services:\n  ollama:\n    ports: [\"11434:11434\"]\n",
        ),
        (
            "b/docker-compose.yml",
            "services:\n  ollama:\n    ports: [\"11434:11434\"]\n",
        ),
        (
            "db/compose.yaml",
            "services:\n  pg:\n    ports:\n      - \"${PG_PORT:-5433}:5432\"\n  squatter:\n    ports:\n      - \"127.0.0.1:7050:80\"\n  open:\n    ports: [\"3500:80\"]\n",
        ),
        ("db/.env", "PG_PORT=5433\n"),
        (".env", "PG_PORT=7001\nX=1\nX=2\n"),
        (
            "other/compose.yaml",
            "services:\n  pg:\n    ports: [\"7000:5432\"]\n",
        ),
    ]);
    let out = run_in(dir.path(), &["check", "--format", "json"]);
    assert_eq!(code(&out), 1);
    let report = json(&out);
    assert!(
        ports_of(&report, "duplicate-host-port").is_empty(),
        "{report:#}"
    );
    let drift: Vec<&Value> = findings(&report)
        .iter()
        .filter(|f| f["rule"] == "drift")
        .collect();
    assert_eq!(drift.len(), 1);
    assert_eq!(drift[0]["file"], "db/compose.yaml");
    assert_eq!(drift[0]["suggestion"]["port"], 7000);
    assert!(drift[0]["message"].as_str().unwrap().contains("PG_PORT"));
    // pg in other/compose.yaml is not the declared pg (the convention names db/compose.yaml).
    let violations: Vec<&Value> = findings(&report)
        .iter()
        .filter(|f| f["rule"] == "protected-range-violation")
        .collect();
    let who: BTreeSet<&str> = violations
        .iter()
        .map(|f| f["service"].as_str().unwrap())
        .collect();
    assert_eq!(who, BTreeSet::from(["pg", "squatter"]));
    let exposed: Vec<&Value> = findings(&report)
        .iter()
        .filter(|f| f["rule"] == "exposed-on-all-interfaces")
        .collect();
    assert_eq!(exposed.len(), 1);
    assert_eq!(exposed[0]["file"], "other/compose.yaml");
    assert_eq!(exposed[0]["suggestion"]["host_ip"], "127.0.0.1");
    let env_drift: Vec<(String, u64)> = findings(&report)
        .iter()
        .filter(|f| f["rule"] == "env-drift")
        .map(|f| {
            (
                f["file"].as_str().unwrap().to_owned(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        env_drift,
        [(".env".to_owned(), 1), ("db/.env".to_owned(), 1)]
    );
    let dup = findings(&report)
        .iter()
        .find(|f| f["rule"] == "duplicate-env-key")
        .unwrap();
    assert_eq!(
        (dup["file"].as_str(), dup["line"].as_u64()),
        (Some(".env"), Some(3))
    );
    assert_eq!(dup["related"][0]["line"], 2);
    assert_eq!(dup["severity"], "warning");
}

#[test]
fn interpolation_follows_compose_precedence() {
    let files = [
        (
            "svc/compose.yaml",
            "services:\n  a:\n    ports: [\"${A_PORT:-1111}:80\"]\n  b:\n    ports: [\"${B_PORT:-2222}:80\"]\n",
        ),
        ("svc/.env", "A_PORT=3333\nB_PORT=3333\n"),
        ("alt.env", "A_PORT=4444\n"),
    ];
    let dir = tree(&files);
    // The project's .env: both 3333: a clash.
    let report = json(&run_in(dir.path(), &["check", ".", "--format", "json"]));
    assert_eq!(
        ports_of(&report, "duplicate-host-port"),
        BTreeSet::from([3333])
    );
    // The process environment wins over .env.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_port-convention"))
        .args(["check", ".", "--format", "json"])
        .current_dir(dir.path())
        .env("B_PORT", "5555")
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    // --env-file replaces the project's .env: A=4444, B falls back to its default.
    let out = run_in(
        dir.path(),
        &["check", ".", "--env-file", "alt.env", "--format", "json"],
    );
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    let scan = run_in(
        dir.path(),
        &["scan", ".", "--env-file", "alt.env", "--format", "json"],
    );
    let doc: Value = serde_json::from_slice(&scan.stdout).unwrap();
    assert_eq!(doc["version"], 1);
    let rows = &doc["ports"];
    let ports: Vec<u64> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["host_port"].as_u64().unwrap())
        .collect();
    assert_eq!(ports, [2222, 4444]);
    assert_eq!(rows[0]["source"]["kind"], "template-default");
    assert_eq!(rows[1]["source"]["kind"], "variable");
}

#[test]
fn env_file_of_a_service_is_not_interpolation_input() {
    let dir = tree(&[
        (
            "s/compose.yaml",
            "services:\n  a:\n    env_file: [app.env]\n    ports: [\"${A_PORT:-1111}:80\"]\n  b:\n    ports: [\"1111:80\"]\n",
        ),
        ("s/app.env", "A_PORT=9999\n"),
    ]);
    let report = json(&run_in(dir.path(), &["check", ".", "--format", "json"]));
    assert_eq!(
        ports_of(&report, "duplicate-host-port"),
        BTreeSet::from([1111])
    );
}

#[test]
fn discovery_respects_gitignore_names_and_globs() {
    let dir = tree(&[
        (".gitignore", "ignored/\n"),
        (
            "ignored/compose.yaml",
            "services:\n  x:\n    ports: [\"1:1\"]\n",
        ),
        ("k/kong.yml", "services:\n  - name: api\n"),
        (
            "k/docker-compose.kong.yml",
            "_format_version: \"3.0\"\nservices:\n  - name: api\n",
        ),
        ("p/prometheus.yml", "scrape_configs: []\n"),
        (
            "m/stack.compose.yaml",
            "services:\n  m:\n    ports: [\"2000:1\"]\n",
        ),
        (
            "m/compose.override.yml",
            "services:\n  n:\n    ports: [\"2001:1\"]\n",
        ),
        (
            "m/custom-stack.yml",
            "services:\n  o:\n    ports: [\"2002:1\"]\n",
        ),
        (
            "m/docker-compose.skip.yml",
            "services:\n  p:\n    ports: [\"2003:1\"]\n",
        ),
        (
            "ports.yaml",
            "version: 1.0.0\ndiscovery:\n  include: [\"m/custom-*.yml\"]\n  exclude: [\"**/*.skip.yml\"]\n",
        ),
    ]);
    let out = run_in(dir.path(), &["scan", "--format", "csv"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "project,host_port,protocol,host_ip,target,service,file,line,column,source"
    );
    let mut files: Vec<&str> = lines[1..]
        .iter()
        .map(|l| l.split(',').nth(6).unwrap())
        .collect();
    files.sort_unstable();
    assert_eq!(
        files,
        [
            "m/compose.override.yml",
            "m/custom-stack.yml",
            "m/stack.compose.yaml",
        ]
    );
    let report = json(&run_in(dir.path(), &["check", "--format", "json"]));
    assert!(
        findings(&report).is_empty(),
        "non-compose YAML is skipped quietly: {report:#}"
    );
}

#[test]
fn an_excluded_directory_is_not_read_at_all() {
    // `discovery.exclude: [generated]` names a directory: neither its
    // compose files nor its `.env` files are read (the example's rendered
    // `generated/.env` was read as an env file before).
    let dir = tree(&[
        (
            "app/docker-compose.yml",
            "services:\n  web:\n    image: nginx\n    ports: [\"3000:80\"]\n",
        ),
        (
            "generated/docker-compose.yml",
            "services:\n  copy:\n    image: nginx\n    ports: [\"3000:80\"]\n",
        ),
        ("generated/.env", "BROKEN LINE WITHOUT EQUALS\n"),
        (
            "ports.yaml",
            "version: 1.0.0\ndiscovery:\n  exclude: [generated]\n",
        ),
    ]);
    let out = run_in(dir.path(), &["scan", "--format", "csv"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(!stdout(&out).contains("generated/"), "{}", stdout(&out));
    let report = json(&run_in(dir.path(), &["check", "--format", "json"]));
    assert!(findings(&report).is_empty(), "{report:#}");
    // Without the exclude, both are read: a shared port and a broken .env.
    std::fs::write(dir.path().join("ports.yaml"), "version: 1.0.0\n").unwrap();
    let report = json(&run_in(dir.path(), &["check", "--format", "json"]));
    let seen = rules(&report);
    assert!(seen.contains("port-shared-across-projects"), "{report:#}");
    assert!(
        findings(&report)
            .iter()
            .any(|f| f["file"] == "generated/.env"),
        "{report:#}"
    );
}

#[test]
fn broken_files_are_findings_and_the_scan_goes_on() {
    let dir = tree(&[
        (
            "a/compose.yaml",
            "services:\n  a:\n    ports:\n      - \"1000:1\"\n  b: [\n",
        ),
        (
            "b/compose.yaml",
            "services:\n  b:\n    ports:\n      - \"${X:?X is required}:1\"\n      - \"${Y}:2\"\n      - \"host.example:1:1\"\n      - \"70000:1\"\n",
        ),
        (
            "c/compose.yaml",
            "services:\n  c:\n    ports: [\"1000:1\"]\n",
        ),
        ("d/.env", "GOOD=1\nBAD=\"open\n"),
    ]);
    let out = run_in(dir.path(), &["check", ".", "--format", "json"]);
    assert_eq!(code(&out), 1);
    let report = json(&out);
    let got: Vec<(String, String, u64)> = findings(&report)
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().into(),
                f["file"].as_str().unwrap().into(),
                f["line"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("invalid-compose-file".into(), "a/compose.yaml".into(), 5),
            ("interpolation-error".into(), "b/compose.yaml".into(), 4),
            ("unset-variable".into(), "b/compose.yaml".into(), 5),
            ("invalid-port-spec".into(), "b/compose.yaml".into(), 6),
            ("invalid-port-spec".into(), "b/compose.yaml".into(), 7),
            ("invalid-env-file".into(), "d/.env".into(), 2),
        ]
    );
}

#[test]
fn scan_lists_every_published_port_sorted() {
    let out = run(&["scan", "examples/trading-system", "--format", "json"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["version"], 1, "versioned: docs/json-output.md");
    let rows = doc["ports"].as_array().unwrap();
    // Grouped by project, sorted by port within each.
    let keys: Vec<(String, u64)> = rows
        .iter()
        .map(|r| {
            (
                r["project"].as_str().unwrap().to_owned(),
                r["host_port"].as_u64().unwrap(),
            )
        })
        .collect();
    // Numbers for ports (host and container alike); every interface is null
    // (the table's `*`).
    for r in rows {
        assert!(r["target"].is_u64() && r["host_port_end"].is_u64(), "{r}");
        assert!(
            r["host_ip"].is_null() || r["host_ip"].as_str().is_some_and(|ip| !ip.is_empty()),
            "{r}"
        );
    }
    let backup = rows
        .iter()
        .find(|r| r["service"] == "timescaledb-backup")
        .unwrap();
    assert!(backup["host_ip"].is_null(), "{backup}");
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    assert!(
        keys.iter()
            .any(|(p, _)| p == "tools/compose/docker-compose.database.yml")
    );
    let timescale = rows.iter().find(|r| r["service"] == "timescaledb").unwrap();
    assert_eq!(timescale["host_ip"], "127.0.0.1");
    assert_eq!(
        timescale["source"],
        serde_json::json!({"kind": "template-default", "name": "TIMESCALEDB_PORT"})
    );
    let table = stdout(&run(&["scan", "examples/trading-system"]));
    assert!(table.starts_with("PROJECT  "), "{table}");
    assert!(table.contains("default of ${TIMESCALEDB_PORT}"), "{table}");
}

/// The README's main command: every kind of finding at once.
#[test]
fn the_example_shows_every_kind_of_finding() {
    let out = run(&["check", "examples/trading-system", "--format", "json"]);
    assert_eq!(code(&out), 1);
    let report = json(&out);
    let want: BTreeSet<String> = [
        "duplicate-host-port",
        "protected-range-violation",
        "out-of-range",
        "drift",
        "env-drift",
        "exposed-on-all-interfaces",
        "invalid-port-spec",
        "interpolation-error",
        "unset-variable",
        "invalid-compose-file",
        "duplicate-env-key",
        "invalid-env-file",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    assert_eq!(rules(&report), want);
    // rag and rag-gpu are alternatives: their identical ports do not clash.
    assert!(!ports_of(&report, "duplicate-host-port").contains(&11434));
    for f in findings(&report) {
        assert!(
            f["file"].is_string() && f["line"].as_u64().unwrap() > 0,
            "{f}"
        );
        if f["rule"] != "invalid-port-spec"
            && f["severity"] == "error"
            && ![
                "invalid-compose-file",
                "interpolation-error",
                "invalid-env-file",
            ]
            .contains(&f["rule"].as_str().unwrap())
        {
            assert!(
                f["suggestion"]["port"].is_u64(),
                "every conflict and violation suggests a port: {f}"
            );
        }
    }
    let human = stdout(&run(&[
        "check",
        "examples/trading-system",
        "--color",
        "never",
    ]));
    assert!(human.contains("tools/compose/docker-compose.database.yml\n"));
    assert!(
        human.contains("suggestion: publish on 127.0.0.1:7020"),
        "{human}"
    );
}

// ----- acceptance tests on the real corpus ---------------------------------

/// Clashing host ports of each snapshot, worked out by hand (docs/corpus-analysis.md).
const SNAPSHOTS: &[(&str, &[u64], usize)] = &[
    (
        "2025-11-02-before-migration",
        &[
            3000, 3200, 4005, 5050, 5433, 6333, 6334, 6379, 8080, 8081, 9090, 9093, 9187,
        ],
        60,
    ),
    (
        "2025-11-04-migrated",
        &[
            // 8081 is not among them: redis-commander publishes it only with
            // `--profile dev`, a profile nothing activates.
            3200, 3402, 4005, 5433, 6333, 6334, 6335, 6336, 6337, 6338, 6379, 6380, 6400, 7676,
            8202, 9090, 9187, 11434,
        ],
        101,
    ),
    (
        "2025-11-05-reverted",
        &[
            3000, 3200, 3402, 4005, 5433, 5435, 5450, 5454, 6333, 6335, 6336, 6337, 6338, 6379,
            6380, 6381, 6382, 6400, 6435, 7676, 8202, 9090, 9898, 11434,
        ],
        103,
    ),
];

#[test]
fn corpus_clashes_are_exactly_the_ones_found_by_hand() {
    let Some(corpus) = corpus() else { return };
    for (snapshot, clashes, mappings) in SNAPSHOTS {
        let dir = corpus.join(snapshot);
        // No convention: run from a directory without ports.yaml above it.
        // Every compose file of tools/compose is a project of its own, and no
        // host says they run together: clashes between them are warnings.
        let out = run_in(&dir, &["check", ".", "--format", "json"]);
        assert_ne!(code(&out), 2, "{snapshot}: {}", stderr(&out));
        let report = json(&out);
        let mut got = ports_of(&report, "duplicate-host-port");
        got.extend(ports_of(&report, "port-shared-across-projects"));
        let want: BTreeSet<u64> = clashes.iter().copied().collect();
        assert_eq!(
            got,
            want,
            "{snapshot}: missing {:?}, invented {:?}",
            want.difference(&got),
            got.difference(&want)
        );
        assert_eq!(
            report["summary"]["mappings"], *mappings as u64,
            "{snapshot}"
        );
        // Nothing is reported on non-compose YAML (Kong, Prometheus, alerts ...).
        for f in findings(&report) {
            let file = f["file"].as_str().unwrap_or("");
            assert!(
                !file.contains("kong-declarative")
                    && !file.contains("prometheus.yml")
                    && !file.contains("alerts/"),
                "{f}"
            );
        }
    }
}

#[test]
fn corpus_with_the_example_convention() {
    let Some(corpus) = corpus() else { return };
    let convention = repo().join("examples/trading-system/ports.yaml");
    let out = run_in(
        &corpus.join("2025-11-04-migrated"),
        &[
            "check",
            "-c",
            convention.to_str().unwrap(),
            ".",
            "--format",
            "json",
        ],
    );
    assert_eq!(code(&out), 1);
    let report = json(&out);
    let got = ports_of(&report, "duplicate-host-port");
    // The example convention puts every stack on host trading-host: each clash
    // is an error that names the host and the projects.
    for f in findings(&report)
        .iter()
        .filter(|f| f["rule"] == "duplicate-host-port")
    {
        assert!(f["project"].is_string(), "{f}");
        if f["related"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["project"] != f["project"])
        {
            assert_eq!(f["host"], "trading-host", "{f}");
        }
    }
    assert!(ports_of(&report, "port-shared-across-projects").is_empty());
    // rag / rag-gpu are alternatives: 3402, 8202 and 11434 stop clashing; 6380
    // still clashes with telegram-redis-replica.
    let want: BTreeSet<u64> = [
        3200, 4005, 5433, 6333, 6334, 6335, 6336, 6337, 6338, 6379, 6380, 6400, 7676, 9090, 9187,
    ]
    .into();
    assert_eq!(got, want);
    let r = rules(&report);
    assert!(r.contains("protected-range-violation"), "{r:?}");
    assert!(r.contains("drift"), "{r:?}");
    assert!(r.contains("exposed-on-all-interfaces"), "{r:?}");

    // Before the migration, every declared database drifts from its assignment.
    let out = run_in(
        &corpus.join("2025-11-02-before-migration"),
        &[
            "check",
            "-c",
            convention.to_str().unwrap(),
            ".",
            "--format",
            "json",
        ],
    );
    let report = json(&out);
    let drifted: BTreeSet<String> = findings(&report)
        .iter()
        .filter(|f| f["rule"] == "drift")
        .map(|f| format!("{} {}", f["service"].as_str().unwrap(), f["port"]))
        .collect();
    for expected in [
        "timescaledb 5433",
        "timescaledb-backup 5434",
        "postgress-langgraph 5435",
        "qdrant 6333",
        "qdrant 6334",
        "questdb 9000",
        "questdb 9009",
        "questdb 8812",
        "timescaledb-pgadmin 5050",
        "timescaledb-pgweb 8081",
        "timescaledb-adminer 8080",
        "timescaledb-exporter 9187",
        "rag-redis 6380",
    ] {
        assert!(
            drifted.contains(expected),
            "missing drift {expected}: {drifted:?}"
        );
    }
}

// ----- clashes that only the compose project model sees ----------------------

/// The `duplicate-host-port` errors of a tree: (file, line, port), sorted.
fn clash_places(dir: &std::path::Path) -> Vec<(String, u64, u64)> {
    let report = json(&run_in(dir, &["check", ".", "--format", "json"]));
    let mut got: Vec<(String, u64, u64)> = findings(&report)
        .iter()
        .filter(|f| f["rule"] == "duplicate-host-port")
        .map(|f| {
            (
                f["file"].as_str().unwrap().to_owned(),
                f["line"].as_u64().unwrap(),
                f["port"].as_u64().unwrap(),
            )
        })
        .collect();
    got.sort();
    got
}

/// (what, the tree's files, the expected clashes as (file, line, port)).
type ClashCase<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a [(&'a str, u64, u64)]);

#[test]
fn clashes_through_every_compose_mechanism_are_errors() {
    let cases: &[ClashCase<'_>] = &[
        (
            "extends inherits a port from another file",
            &[
                (
                    "app/compose.yaml",
                    "services:\n  api:\n    extends: { file: lib/base.yml, service: base }\n  admin:\n    image: a\n    ports: [\"8080:80\"]\n",
                ),
                (
                    "app/lib/base.yml",
                    "services:\n  base:\n    image: b\n    ports: [\"8080:80\"]\n",
                ),
            ],
            &[("app/compose.yaml", 6, 8080), ("app/lib/base.yml", 4, 8080)],
        ),
        (
            "include imports a service with the same port",
            &[
                (
                    "compose.yaml",
                    "include: [db/compose.yaml]\nservices:\n  app:\n    image: a\n    ports: [\"5432:80\"]\n",
                ),
                (
                    "db/compose.yaml",
                    "services:\n  db:\n    image: pg\n    ports: [\"${DB_PORT:-5432}:5432\"]\n",
                ),
            ],
            &[("compose.yaml", 5, 5432), ("db/compose.yaml", 4, 5432)],
        ),
        (
            "the override file adds a clashing service",
            &[
                (
                    "docker-compose.yml",
                    "services:\n  web:\n    image: n\n    ports: [\"80:80\"]\n",
                ),
                (
                    "docker-compose.override.yml",
                    "services:\n  proxy:\n    image: p\n    ports: [\"80:8080\"]\n",
                ),
            ],
            &[
                ("docker-compose.override.yml", 4, 80),
                ("docker-compose.yml", 4, 80),
            ],
        ),
        (
            "COMPOSE_FILE merges files that are not default names",
            &[
                (
                    "base.yml",
                    "services:\n  a:\n    image: a\n    ports: [\"3000:3000\"]\n",
                ),
                (
                    "extra.yml",
                    "services:\n  b:\n    image: b\n    ports: [\"3000:3001\"]\n",
                ),
                (".env", "COMPOSE_FILE=base.yml:extra.yml\n"),
            ],
            &[("base.yml", 4, 3000), ("extra.yml", 4, 3000)],
        ),
        (
            "an active profile",
            &[
                (
                    "compose.yaml",
                    "services:\n  a:\n    image: a\n    ports: [\"9000:9000\"]\n  b:\n    image: b\n    profiles: [debug]\n    ports: [\"9000:9001\"]\n",
                ),
                (".env", "COMPOSE_PROFILES=debug\n"),
            ],
            &[("compose.yaml", 4, 9000), ("compose.yaml", 8, 9000)],
        ),
        (
            "a gitignored .env sets the port",
            &[
                (".gitignore", ".env\n"),
                (
                    "compose.yaml",
                    "services:\n  a:\n    image: a\n    ports: [\"${A_PORT:-1}:80\"]\n  b:\n    image: b\n    ports: [\"7777:80\"]\n",
                ),
                (".env", "A_PORT=7777\n"),
            ],
            &[("compose.yaml", 4, 7777), ("compose.yaml", 7, 7777)],
        ),
    ];
    for (what, files, want) in cases {
        let dir = tree(files);
        let want: Vec<(String, u64, u64)> = want
            .iter()
            .map(|(f, l, p)| ((*f).to_owned(), *l, *p))
            .collect();
        assert_eq!(clash_places(dir.path()), want, "{what}");
    }
}

#[test]
fn what_never_runs_together_never_clashes() {
    let cases: &[(&str, &[(&str, &str)])] = &[
        (
            "variant files of one stack",
            &[
                (
                    "docker-compose.yml",
                    "services:\n  db:\n    image: mysql\n    ports: [\"3306:3306\"]\n",
                ),
                (
                    "docker-compose.mariadb.yml",
                    "services:\n  db:\n    image: mariadb\n    ports: [\"3306:3306\"]\n",
                ),
            ],
        ),
        (
            "separate example stacks",
            &[
                (
                    "examples/es7/docker-compose.yml",
                    "services:\n  es:\n    image: es:7\n    ports: [\"9200:9200\"]\n",
                ),
                (
                    "examples/es8/docker-compose.yml",
                    "services:\n  es:\n    image: es:8\n    ports: [\"9200:9200\"]\n",
                ),
            ],
        ),
        (
            "an override that changes the service's own port",
            &[
                (
                    "compose.yaml",
                    "services:\n  web:\n    image: n\n    ports: [\"8080:80\"]\n",
                ),
                (
                    "compose.override.yaml",
                    "services:\n  web:\n    ports: !override [\"8081:80\"]\n",
                ),
            ],
        ),
        (
            "disjoint profiles",
            &[(
                "compose.yaml",
                "services:\n  a:\n    image: a\n    profiles: [cpu]\n    ports: [\"11434:11434\"]\n  b:\n    image: b\n    profiles: [gpu]\n    ports: [\"11434:11434\"]\n",
            )],
        ),
        (
            "a port removed with !reset",
            &[
                (
                    "compose.yaml",
                    "services:\n  a:\n    image: a\n    ports: [\"5000:5000\"]\n  b:\n    image: b\n    ports: [\"5000:5001\"]\n",
                ),
                (
                    "compose.override.yaml",
                    "services:\n  b:\n    ports: !reset []\n",
                ),
            ],
        ),
        (
            "dependencies and test data",
            &[
                (
                    "compose.yaml",
                    "services:\n  a:\n    image: a\n    ports: [\"6000:6000\"]\n",
                ),
                (
                    "node_modules/x/compose.yaml",
                    "services:\n  x:\n    image: x\n    ports: [\"6000:6000\"]\n",
                ),
                (
                    "testdata/docker-compose.yml",
                    "services:\n  t:\n    image: t\n    ports: [\"6000:6000\"]\n",
                ),
            ],
        ),
    ];
    for (what, files) in cases {
        let dir = tree(files);
        let out = run_in(dir.path(), &["check", ".", "--format", "json"]);
        assert_eq!(code(&out), 0, "{what}: {}", stdout(&out));
        assert!(clash_places(dir.path()).is_empty(), "{what}");
    }
}

#[test]
fn long_ranges_clash_as_ranges_and_stay_cheap() {
    let mut compose = String::from("services:\n");
    for s in 0..40 {
        compose.push_str(&format!(
            "  s{s}:\n    image: x\n    ports: [\"1-65535:1-65535\", \"1-65535:1-65535/udp\"]\n"
        ));
    }
    compose.push_str("  web:\n    image: n\n    ports: [\"127.0.0.1:8080:80\"]\n");
    let dir = tree(&[("compose.yaml", &compose)]);
    let out = run_in(dir.path(), &["check", ".", "--format", "json"]);
    assert_eq!(code(&out), 1);
    let report = json(&out);
    let clashes: Vec<&Value> = findings(&report)
        .iter()
        .filter(|f| f["rule"] == "duplicate-host-port")
        .collect();
    // Every service clashes with every other: one finding each (and per
    // protocol), each listing at most 10 others and counting the rest.
    assert_eq!(clashes.len(), 40 * 2 + 1, "{report:#}");
    for f in &clashes {
        assert!(f["related"].as_array().unwrap().len() <= 10, "{f}");
    }
    let web = clashes.iter().find(|f| f["service"] == "web").unwrap();
    assert!(
        web["message"].as_str().unwrap().contains("and 30 more"),
        "{web}"
    );
    assert_eq!(report["summary"]["mappings"], 81);
}

#[test]
fn ignore_files_outside_the_repository_hide_nothing() {
    // The scanned root is `repo/`; the `.gitignore` above it, a `.ignore`
    // file and `.git/info/exclude` are not the repository's own rules.
    let dir = tree(&[
        (".gitignore", "compose.yaml\n"),
        (
            "repo/compose.yaml",
            "services:\n  a:\n    image: a\n    ports: [\"1:1\", \"1:2\"]\n",
        ),
        (".ignore", "docker-compose.yml\n"),
        (
            "repo/x/docker-compose.yml",
            "services:\n  b:\n    image: b\n    ports: [\"2:1\", \"2:2\"]\n",
        ),
        ("repo/.git/info/exclude", "y/\n"),
        (
            "repo/y/compose.yaml",
            "services:\n  c:\n    image: c\n    ports: [\"3:1\", \"3:2\"]\n",
        ),
    ]);
    let report = json(&run_in(
        &dir.path().join("repo"),
        &["check", ".", "--format", "json"],
    ));
    assert_eq!(
        ports_of(&report, "duplicate-host-port"),
        BTreeSet::from([1, 2, 3]),
        "{report:#}"
    );
}

#[test]
fn with_two_paths_env_file_findings_keep_their_root() {
    let dir = tree(&[
        ("one/.env", "GOOD=1\nBAD=\"open\n"),
        ("two/compose.yaml", "services:\n  a:\n    image: a\n"),
    ]);
    let report = json(&run_in(
        dir.path(),
        &["check", "one", "two", "--format", "json"],
    ));
    let bad: Vec<&Value> = findings(&report)
        .iter()
        .filter(|f| f["rule"] == "invalid-env-file")
        .collect();
    assert_eq!(bad.len(), 1, "{report:#}");
    assert_eq!(bad[0]["file"], "one/.env");
    assert_eq!(bad[0]["line"], 2);
}

#[test]
fn without_a_convention_the_summary_says_where_it_looked() {
    let dir = tree(&[(
        "app/compose.yaml",
        "services:\n  a:\n    image: a\n    ports: [\"80:80\"]\n",
    )]);
    let out = run_in(dir.path(), &["check", "app"]);
    assert_eq!(code(&out), 0);
    let text = stdout(&out);
    assert!(
        text.contains("no convention: no ports.yaml in app or a parent directory"),
        "{text}"
    );
    // With one, no such line.
    let dir = tree(&[
        ("ports.yaml", "version: 1.0.0\n"),
        ("compose.yaml", "services:\n  a:\n    image: a\n"),
    ]);
    assert!(!stdout(&run_in(dir.path(), &["check"])).contains("no convention"));
}

#[test]
fn a_tracked_compose_file_is_read_although_gitignore_lists_it() {
    let git = |dir: &std::path::Path, args: &[&str]| {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .output();
        out.is_ok_and(|o| o.status.success())
    };
    for version in ["2", "4"] {
        let dir = tree(&[
            (".gitignore", "docker-compose.yml\n"),
            (
                "app/docker-compose.yml",
                "services:\n  a:\n    image: a\n    ports: [\"5000:5000\", \"5000:5001\"]\n",
            ),
        ]);
        if !git(dir.path(), &["init", "-q"]) {
            skip_or_fail_in_ci("git is not installed");
            return;
        }
        assert!(git(dir.path(), &["add", "-f", "app/docker-compose.yml"]));
        assert!(git(
            dir.path(),
            &["update-index", "--index-version", version]
        ));
        let report = json(&run_in(dir.path(), &["check", ".", "--format", "json"]));
        assert_eq!(
            ports_of(&report, "duplicate-host-port"),
            BTreeSet::from([5000]),
            "index version {version}: {report:#}"
        );
        // Scanning a subdirectory of the repository finds it too.
        let report = json(&run_in(dir.path(), &["check", "app", "--format", "json"]));
        assert_eq!(
            ports_of(&report, "duplicate-host-port"),
            BTreeSet::from([5000])
        );
        // Untracked and ignored: not read.
        assert!(git(
            dir.path(),
            &["rm", "-q", "--cached", "app/docker-compose.yml"]
        ));
        let report = json(&run_in(dir.path(), &["check", ".", "--format", "json"]));
        assert!(ports_of(&report, "duplicate-host-port").is_empty());
    }
}

#[cfg(unix)]
#[test]
fn symlinked_compose_files_are_read_inside_the_root_only() {
    let outside = tree(&[(
        "compose.yaml",
        "services:\n  x:\n    image: x\n    ports: [\"7100:1\", \"7100:2\"]\n",
    )]);
    let dir = tree(&[(
        "real/stack.yml",
        "services:\n  a:\n    image: a\n    ports: [\"7000:1\", \"7000:2\"]\n",
    )]);
    std::fs::create_dir_all(dir.path().join("app")).unwrap();
    std::os::unix::fs::symlink("../real/stack.yml", dir.path().join("app/compose.yaml")).unwrap();
    std::fs::create_dir_all(dir.path().join("evil")).unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("compose.yaml"),
        dir.path().join("evil/compose.yaml"),
    )
    .unwrap();
    let report = json(&run_in(dir.path(), &["check", ".", "--format", "json"]));
    // The link inside the root is read (as app/compose.yaml); the one
    // leading out of it is not followed.
    assert_eq!(
        ports_of(&report, "duplicate-host-port"),
        BTreeSet::from([7000]),
        "{report:#}"
    );
    assert!(findings(&report).iter().all(|f| {
        f["file"]
            .as_str()
            .is_none_or(|file| !file.starts_with("evil"))
    }));
}

#[test]
fn port_zero_asks_docker_for_a_free_port_and_never_clashes() {
    let dir = tree(&[(
        "compose.yaml",
        "services:\n  a:\n    image: a\n    ports: [\"0:80\"]\n  b:\n    image: b\n    ports: [\"0:80\"]\n",
    )]);
    let out = run_in(dir.path(), &["check", ".", "--format", "json"]);
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    assert!(ports_of(&json(&out), "duplicate-host-port").is_empty());
}
