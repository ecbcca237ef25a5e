//! Issue: the core's CLI commands: schema, parse-ports, allocate, and check
//! of the convention itself.

mod common;

use common::*;
use serde_json::Value;

#[test]
fn schema_is_json_schema_of_the_convention() {
    let out = run(&["schema"]);
    assert_eq!(code(&out), 0);
    let schema: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(schema["title"], "port-convention ports.yaml");
    assert_eq!(schema["type"], "object");
    assert!(
        schema["required"]
            .as_array()
            .unwrap()
            .contains(&Value::from("version"))
    );
    for key in [
        "version",
        "ranges",
        "services",
        "alternatives",
        "requires",
        "discovery",
    ] {
        assert!(schema["properties"][key].is_object(), "{key} missing");
    }
}

#[test]
fn example_convention_is_clean() {
    let out = run(&[
        "check",
        "-c",
        "examples/trading-system/ports.yaml",
        "--convention-only",
    ]);
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    assert!(stdout(&out).contains("0 error(s), 0 warning(s)"));
    let out = run(&[
        "check",
        "-c",
        "examples/trading-system/ports.yaml",
        "--convention-only",
        "--format",
        "json",
    ]);
    let report = json(&out);
    assert_eq!(report["findings"], Value::Array(vec![]));
    assert_eq!(report["summary"]["mappings"], 14);
}

fn rules_and_lines(report: &Value) -> Vec<(String, u64)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_owned(),
                f["line"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

#[test]
fn broken_ranges_exit_1_with_rules_and_locations() {
    let out = run(&[
        "check",
        "-c",
        "tests/conventions/overlapping-ranges.yaml",
        "--convention-only",
        "--format",
        "json",
    ]);
    assert_eq!(code(&out), 1);
    let report = json(&out);
    let mut got = rules_and_lines(&report);
    got.sort();
    assert_eq!(
        got,
        vec![
            ("overlapping-ranges".to_owned(), 7),
            ("overlapping-ranges".to_owned(), 12),
            ("range-outside-parent".to_owned(), 13),
        ]
    );
    for f in report["findings"].as_array().unwrap() {
        assert_eq!(f["file"], "tests/conventions/overlapping-ranges.yaml");
        assert!(f["column"].as_u64().unwrap() > 0);
    }
}

#[test]
fn broken_services_exit_1_with_every_rule() {
    let out = run(&[
        "check",
        "-c",
        "tests/conventions/bad-services.yaml",
        "--convention-only",
        "--format",
        "json",
    ]);
    assert_eq!(code(&out), 1);
    let mut got = rules_and_lines(&json(&out));
    got.sort();
    let mut want: Vec<(String, u64)> = [
        ("duplicate-assignment", 21),
        ("replica-not-adjacent", 26),
        ("port-outside-range", 30),
        ("duplicate-env-var", 30),
        ("port-in-reserved-range", 34),
        ("unknown-range", 36),
        ("unknown-service", 41),
        ("privileged-port", 10),
        ("privileged-port", 47),
        ("ephemeral-port", 12),
        ("ephemeral-port", 51),
    ]
    .iter()
    .map(|(r, l)| ((*r).to_owned(), *l))
    .collect();
    want.sort();
    assert_eq!(got, want);
}

#[test]
fn human_output_shows_source_line_and_caret() {
    let out = run(&[
        "check",
        "-c",
        "tests/conventions/bad-services.yaml",
        "--convention-only",
        "--color",
        "never",
    ]);
    assert_eq!(code(&out), 1);
    let text = stdout(&out);
    assert!(
        text.contains("tests/conventions/bad-services.yaml\n"),
        "{text}"
    );
    assert!(
        text.contains("21:20: error[duplicate-assignment]"),
        "{text}"
    );
    assert!(
        text.contains(
            "  21 |       sql: { port: 7000, env: PG_COPY_PORT }\n     |                    ^"
        ),
        "{text}"
    );
    assert!(!text.contains('\x1b'));
}

#[test]
fn colour_only_when_asked_and_never_with_no_color() {
    let args = [
        "check",
        "-c",
        "tests/conventions/bad-services.yaml",
        "--convention-only",
        "--color",
        "always",
    ];
    assert!(stdout(&run(&args)).contains("\x1b["));
    // An explicit --color always beats NO_COLOR; NO_COLOR turns off auto.
    let with_env = |args: &[&str], name: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_port-convention"))
            .args(args)
            .current_dir(repo())
            .env_remove("NO_COLOR")
            .env_remove("CLICOLOR_FORCE")
            .env(name, "1")
            .output()
            .unwrap()
    };
    assert!(stdout(&with_env(&args, "NO_COLOR")).contains('\x1b'));
    let auto_args = [
        "check",
        "-c",
        "tests/conventions/bad-services.yaml",
        "--convention-only",
    ];
    assert!(!stdout(&with_env(&auto_args, "NO_COLOR")).contains('\x1b'));
    assert!(stdout(&with_env(&auto_args, "CLICOLOR_FORCE")).contains('\x1b'));
    // Piped output (not a terminal) has no colour by default.
    let auto = run(&[
        "check",
        "-c",
        "tests/conventions/bad-services.yaml",
        "--convention-only",
    ]);
    assert!(!stdout(&auto).contains('\x1b'));
}

#[test]
fn malformed_yaml_exits_2_with_location() {
    let out = run(&[
        "check",
        "-c",
        "tests/conventions/malformed.yaml",
        "--convention-only",
    ]);
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    assert!(
        err.contains("error[yaml-syntax]: tests/conventions/malformed.yaml:6:9: illegal placement"),
        "{err}"
    );
    assert!(!err.contains("panicked"));
}

#[test]
fn wrong_shape_exits_2_with_location() {
    let out = run(&[
        "check",
        "-c",
        "tests/conventions/wrong-shape.yaml",
        "--convention-only",
    ]);
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    assert!(
        err.contains("error[invalid-convention]: tests/conventions/wrong-shape.yaml:5:5"),
        "{err}"
    );
    assert!(err.contains("protect"), "{err}");
}

#[test]
fn missing_convention_file_exits_2() {
    let out = run(&[
        "check",
        "-c",
        "tests/conventions/nope.yaml",
        "--convention-only",
    ]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("error[io]: tests/conventions/nope.yaml"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn convention_is_found_upward() {
    let dir = tree(&[
        (
            "ports.yaml",
            "version: 1.0.0\nranges:\n  db: { ports: 7000-7009 }\nservices:\n  pg: { range: db, ports: { sql: { port: 7000 } } }\n",
        ),
        ("deep/er/.keep", ""),
    ]);
    let out = run_in(
        &dir.path().join("deep/er"),
        &["allocate", "db", "--count", "3"],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), "7001\n7002\n7003\n");
    let empty = tempfile::tempdir().unwrap();
    let out = run_in(empty.path(), &["allocate", "db"]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("convention-not-found"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn allocate_skips_reserved_assigned_and_reports_what_fills_a_range() {
    let out = run(&[
        "allocate",
        "primary-databases",
        "--count",
        "3",
        "-c",
        "examples/trading-system/ports.yaml",
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), "7004\n7005\n7006\n");
    let out = run(&[
        "allocate",
        "replication",
        "-c",
        "examples/trading-system/ports.yaml",
    ]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("range-full"), "{}", stderr(&out));
    assert!(stderr(&out).contains("reserved"), "{}", stderr(&out));
    let out = run(&[
        "allocate",
        "nowhere",
        "-c",
        "examples/trading-system/ports.yaml",
    ]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("unknown-range"));
    assert!(
        stderr(&out).contains("primary-databases"),
        "lists the known ranges"
    );
}

/// `allocate` skips what the repository's compose files publish (a range
/// too), takes a PATH like `check`, and says why with `--explain`.
#[test]
fn allocate_skips_published_ports_and_explains_why() {
    let dir = tree(&[
        (
            "repo/ports.yaml",
            "version: 1.0.0\nranges:\n  db: { ports: 7000-7009, ranges: { spare: { ports: 7008-7009, reserved: true } } }\nservices:\n  pg: { range: db, ports: { sql: { port: 7000 } } }\n",
        ),
        (
            "repo/compose.yml",
            "services:\n  cache:\n    ports:\n      - \"7001:6379\"\n  bus:\n    ports:\n      - \"7003-7004:9000-9001\"\n",
        ),
        ("elsewhere/.keep", ""),
    ]);
    // From another directory, the repository given as PATH.
    let out = run_in(
        &dir.path().join("elsewhere"),
        &["allocate", "db", "../repo", "--count", "3", "--explain"],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), "7002\n7005\n7006\n");
    let err = stderr(&out);
    for line in [
        "skipped 7000: assigned to service pg by the convention",
        "skipped 7001: published by service cache at compose.yml:4:9",
        "skipped 7003: published by service bus at compose.yml:7:9",
        "skipped 7004: published by service bus at compose.yml:7:9",
    ] {
        assert!(err.contains(line), "{line}\n{err}");
    }
    assert_eq!(err.lines().count(), 4, "{err}");
    // Without --explain, nothing on stderr; the reserved range stays skipped.
    let out = run_in(
        &dir.path().join("repo"),
        &["allocate", "db", "--count", "5"],
    );
    assert_eq!(code(&out), 2, "{}", stdout(&out));
    assert!(stderr(&out).contains("range-full"), "{}", stderr(&out));
    let out = run_in(
        &dir.path().join("repo"),
        &["allocate", "db", "--count", "4"],
    );
    assert_eq!(stdout(&out), "7002\n7005\n7006\n7007\n");
    assert_eq!(stderr(&out), "");
}

#[test]
fn parse_ports_prints_one_json_line_per_spec() {
    let out = run(&[
        "parse-ports",
        "127.0.0.1:8080:80",
        "--env",
        "P=7000",
        "${P:-1}:5432",
        "80-81:80-81/udp",
        "nope:1:2",
    ]);
    assert_eq!(code(&out), 1, "one spec failed");
    let lines: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines[0],
        serde_json::json!({"spec":"127.0.0.1:8080:80","mappings":[{"host_ip":"127.0.0.1","published":"8080","target":80,"protocol":"tcp","mode":"ingress"}]})
    );
    assert_eq!(lines[1]["mappings"][0]["published"], "7000");
    assert_eq!(lines[2]["mappings"].as_array().unwrap().len(), 2);
    assert_eq!(lines[3]["error"]["code"], "invalid-port-spec");
    let ok = run(&[
        "parse-ports",
        r#"{"target": 80, "published": "8080", "host_ip": "127.0.0.1"}"#,
    ]);
    assert_eq!(code(&ok), 0, "{}", stdout(&ok));
    let line: Value = serde_json::from_str(stdout(&ok).trim()).unwrap();
    assert_eq!(line["mappings"][0]["published"], "8080");
}

/// The whole case table (tests/vectors/port_specs.json) through the binary:
/// `parse-ports` agrees with compose-go on every case.
#[test]
fn parse_ports_agrees_with_the_case_table() {
    let text = std::fs::read_to_string(repo().join("tests/vectors/port_specs.json")).unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    let mut failures = Vec::new();
    let cases = doc["cases"].as_array().unwrap();
    assert!(cases.len() >= 60);
    for case in cases {
        let spec = match &case["input"] {
            Value::String(s) => s.clone(),
            other if other.is_object() => other.to_string(),
            // Integer entries have no CLI form distinct from their string.
            _ => continue,
        };
        if spec.is_empty() || spec.starts_with('-') {
            continue; // not expressible as a CLI argument without `--`
        }
        let out = run(&["parse-ports", "--", &spec]);
        let line: Value = match serde_json::from_str(stdout(&out).trim()) {
            Ok(v) => v,
            Err(e) => {
                failures.push(format!("{spec}: bad output ({e}): {}", stdout(&out)));
                continue;
            }
        };
        let expect = &case["expect"];
        if let Some(mappings) = expect.get("mappings") {
            if &line["mappings"] != mappings || code(&out) != 0 {
                failures.push(format!("{spec}: got {line}"));
            }
        } else if line["error"]["code"] != expect["error"]["code"] || code(&out) != 1 {
            failures.push(format!("{spec}: got {line}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) disagree:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
