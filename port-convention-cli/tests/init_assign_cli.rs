//! `port-convention init` and `assign` on small trees, as child processes:
//! what they write, where they refuse to write, and that `assign` changes
//! only the bytes it must.

use std::fs;

mod common;
use common::{code, json, output_text as text, run_in, stderr, stdout, tree};

const COMPOSE: &str = "services:
  db:
    image: postgres:16
    ports:
      - \"5432:5432\"
  db-replica:
    image: postgres:16
    ports:
      - \"${DB_REPLICA_PORT:-5433}:5432\"
  cache:
    image: redis:7
    ports: [\"6379:6379\"]
  pgadmin:
    image: dpage/pgadmin4
    ports: [\"5050:80\"]
  pg-exporter:
    image: prometheuscommunity/postgres-exporter
    ports: [\"9187:9187\"]
  web:
    image: nginx
    ports: [\"8080:80\"]
";

#[test]
fn init_protect_classifies_allocates_and_passes_convention_only() {
    let dir = tree(&[
        ("compose.yaml", COMPOSE),
        (".env", "DB_REPLICA_PORT=5433\n"),
    ]);
    let out = run_in(dir.path(), &["init", "--protect", "data=7000-7999"]);
    assert_eq!(code(&out), 0, "{}", text(&out));
    let table = stdout(&out);
    for expected in [
        "db           postgres  database (postgresql)  5432 -> 7000",
        "db-replica   postgres  replica (postgresql)   5433 -> 7001  DB_REPLICA_PORT",
        "cache        redis     database (redis)       6379 -> 7010",
        "pgadmin      http      database-ui            5050 -> 7100",
        "pg-exporter  metrics   exporter               9187 -> 7200",
        "web          http      other                  8080",
    ] {
        assert!(table.contains(expected), "{expected:?} in\n{table}");
    }
    let written = fs::read_to_string(dir.path().join("ports.yaml")).unwrap();
    assert!(written.contains("replica_of: db"), "{written}");
    assert!(written.contains("legacy: 5432"), "{written}");
    assert!(
        written.contains("env: DB_PORT"),
        "a proposed variable: {written}"
    );
    assert!(written.contains("reserved: true"), "{written}");
    let only = run_in(
        dir.path(),
        &["check", "--convention-only", "-c", "ports.yaml"],
    );
    assert_eq!(code(&only), 0, "{}", text(&only));
    // Before the migration the databases drift; web does not.
    let check = json(&run_in(dir.path(), &["check", ".", "--format", "json"]));
    let drifting: Vec<&str> = check["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "drift")
        .filter_map(|f| f["service"].as_str())
        .collect();
    assert_eq!(
        drifting,
        ["db", "db-replica", "cache", "pgadmin", "pg-exporter"]
    );
}

#[test]
fn init_keeps_a_database_already_in_its_sub_range() {
    let compose = "services:
  db: { image: postgres, ports: [\"7005:5432\"] }
  db-backup: { image: postgres, ports: [\"7006:5432\"] }
  cache: { image: redis, ports: [\"6379:6379\"] }
";
    let dir = tree(&[("compose.yaml", compose)]);
    let out = run_in(
        dir.path(),
        &[
            "init",
            "--protect",
            "data=7000-7999",
            "--stdout",
            "--format",
            "json",
        ],
    );
    assert_eq!(code(&out), 0, "{}", text(&out));
    let report = json(&out);
    let moves: Vec<(String, u64, u64)> = report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["service"].as_str().unwrap().to_owned(),
                r["old"].as_u64().unwrap(),
                r["new"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        moves,
        [
            ("db".to_owned(), 7005, 7005),
            ("db-backup".to_owned(), 7006, 7006),
            ("cache".to_owned(), 6379, 7000)
        ]
    );
}

#[test]
fn init_refuses_to_overwrite_to_leave_the_root_or_to_follow_a_link() {
    let dir = tree(&[
        ("compose.yaml", COMPOSE),
        ("ports.yaml", "version: 1.0.0\n"),
    ]);
    let out = run_in(dir.path(), &["init"]);
    assert_eq!(code(&out), 2, "{}", text(&out));
    assert!(
        stderr(&out).contains("error[convention-exists]"),
        "{}",
        text(&out)
    );
    // The library's message names no flag; the CLI's hint does.
    let err = stderr(&out);
    let (message, hint) = err.split_once("\n  hint: ").expect("a hint");
    assert!(!message.contains("--"), "{err}");
    assert!(hint.contains("--force"), "{err}");
    assert_eq!(
        fs::read_to_string(dir.path().join("ports.yaml")).unwrap(),
        "version: 1.0.0\n"
    );
    let out = run_in(dir.path(), &["init", "--force"]);
    assert_eq!(code(&out), 0, "{}", text(&out));
    assert!(
        fs::read_to_string(dir.path().join("ports.yaml"))
            .unwrap()
            .contains("services:")
    );

    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("ports.yaml");
    let out = run_in(
        dir.path(),
        &["init", "--out", target.to_str().unwrap(), "--force"],
    );
    assert_eq!(code(&out), 2, "{}", text(&out));
    assert!(
        stderr(&out).contains("error[unsafe-path]"),
        "{}",
        text(&out)
    );
    assert!(!target.exists());

    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(&target, dir.path().join("link.yaml")).unwrap();
        let out = run_in(dir.path(), &["init", "--out", "link.yaml", "--force"]);
        assert_eq!(code(&out), 2, "{}", text(&out));
        assert!(stderr(&out).contains("symbolic link"), "{}", text(&out));
        assert!(!target.exists(), "nothing written through the link");
    }
    fs::create_dir(dir.path().join(".git")).unwrap();
    let out = run_in(dir.path(), &["init", "--out", ".git/ports.yaml"]);
    assert_eq!(code(&out), 2, "{}", text(&out));
    // No scratch file is left behind.
    let leftovers: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn init_errors_are_clear() {
    let dir = tree(&[("compose.yaml", COMPOSE)]);
    for (args, needle) in [
        (vec!["init", "--protect", "data"], "NAME=START-END"),
        (
            vec!["init", "--protect", "data=7999-7000"],
            "below its start",
        ),
        (
            vec![
                "init",
                "--protect",
                "a=7000-7999",
                "--protect",
                "b=7500-7600",
            ],
            "overlap",
        ),
    ] {
        let out = run_in(dir.path(), &args);
        assert_eq!(code(&out), 2, "{args:?}: {}", text(&out));
        assert!(stderr(&out).contains(needle), "{args:?}: {}", text(&out));
    }
    // Three databases do not fit in a range of two ports.
    let out = run_in(
        dir.path(),
        &["init", "--protect", "tiny=7000-7001", "--stdout"],
    );
    assert_eq!(code(&out), 2, "{}", text(&out));
    assert!(stderr(&out).contains("error[range-full]"), "{}", text(&out));
    assert!(!dir.path().join("ports.yaml").exists());
}

#[test]
fn init_quotes_what_the_tree_names() {
    // Service names and images a YAML writer must quote; a comment-like image.
    let compose = "services:
  \"true\":
    image: \"postgres:16 # not a comment\"
    ports: [\"5432:5432\"]
  \"7\":
    image: redis
    ports: [\"6379:6379\"]
  \"we:ird\":
    image: nginx
    ports: [\"8080:80\"]
";
    let dir = tree(&[("compose.yaml", compose)]);
    let out = run_in(dir.path(), &["init", "--protect", "data=7000-7999"]);
    assert_eq!(code(&out), 0, "{}", text(&out));
    let only = run_in(
        dir.path(),
        &["check", "--convention-only", "-c", "ports.yaml"],
    );
    assert_eq!(code(&only), 0, "{}", text(&only));
    let check = run_in(dir.path(), &["check", ".", "--format", "json"]);
    let report = json(&check);
    let services: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "drift")
        .filter_map(|f| f["service"].as_str())
        .collect();
    assert_eq!(services, ["true", "7"], "{report:#}");
}

const CONVENTION: &str = "# The convention, hand-written.
version: 1.0.0
ranges:
  web:   { ports: 3000-3099 }   # front ends
  tools:
    ports: 8000-8099
    ranges:
      spare: { ports: 8090-8099, reserved: true }
services:
  web:
    # the web server, by hand
    compose: { file: compose.yaml }
    ports:
      http: { port: 8080, container: 80 }  # keep this comment
  api:
    range: tools
    ports:
      http:   { port: 8001, container: 3000 }
      admin:  { port: \"8002\", container: 3001 }
hosts:
  one: { projects: [\".\"] }
";

const ASSIGN_COMPOSE: &str = "services:
  web:
    image: nginx
    ports: [\"8080:80\"]
  api:
    image: node
    ports: [\"8001:3000\", \"8002:3001\"]
  other:
    image: busybox
    ports: [\"3000:3000\"]
  worker:
    image: node
    ports:
      - \"${WORKER_PORT:-9100}:9100\"
";

#[test]
fn assign_edits_only_the_values_and_skips_every_claim() {
    let dir = tree(&[("ports.yaml", CONVENTION), ("compose.yaml", ASSIGN_COMPOSE)]);
    // 3000 is published by `other`: web gets 3001.
    let out = run_in(
        dir.path(),
        &["assign", "web", "--range", "web", "--port-name", "http"],
    );
    assert_eq!(code(&out), 0, "{}", text(&out));
    assert!(
        stdout(&out).contains("web http: 8080 -> 3001"),
        "{}",
        text(&out)
    );
    let after = fs::read_to_string(dir.path().join("ports.yaml")).unwrap();
    let expected = CONVENTION
        .replace(
            "    # the web server, by hand\n",
            "    # the web server, by hand\n    range: web\n",
        )
        .replace(
            "{ port: 8080, container: 80 }",
            "{ port: 3001, container: 80 }",
        );
    assert_eq!(after, expected, "every other byte kept");

    // Already in its range: nothing changes.
    let out = run_in(dir.path(), &["assign", "api", "--range", "tools"]);
    assert_eq!(code(&out), 0, "{}", text(&out));
    assert!(stdout(&out).contains("already in range"), "{}", text(&out));
    assert_eq!(
        fs::read_to_string(dir.path().join("ports.yaml")).unwrap(),
        expected
    );

    // One port of api into web would leave its other port outside its
    // range: refused, nothing written.
    let out = run_in(
        dir.path(),
        &["assign", "api", "--range", "web", "--port-name", "admin"],
    );
    assert_eq!(code(&out), 2, "{}", text(&out));
    assert!(
        stderr(&out).contains("port-outside-range"),
        "{}",
        text(&out)
    );
    assert_eq!(
        fs::read_to_string(dir.path().join("ports.yaml")).unwrap(),
        expected
    );
    // Both ports: 3000 (other) and 3001 (web) are taken; the quoted value
    // is replaced by a number.
    let out = run_in(dir.path(), &["assign", "api", "--range", "web"]);
    assert_eq!(code(&out), 0, "{}", text(&out));
    assert!(
        stdout(&out).contains("api http: 8001 -> 3002"),
        "{}",
        text(&out)
    );
    assert!(
        stdout(&out).contains("api admin: 8002 -> 3003"),
        "{}",
        text(&out)
    );
    let after = fs::read_to_string(dir.path().join("ports.yaml")).unwrap();
    assert_eq!(
        after,
        expected
            .replace("range: tools", "range: web")
            .replace("port: 8001,", "port: 3002,")
            .replace("port: \"8002\"", "port: 3003")
    );
    let only = run_in(
        dir.path(),
        &["check", "--convention-only", "-c", "ports.yaml"],
    );
    assert_eq!(code(&only), 0, "{}", text(&only));
}

#[test]
fn assign_adds_a_service_of_the_tree() {
    let dir = tree(&[("ports.yaml", CONVENTION), ("compose.yaml", ASSIGN_COMPOSE)]);
    let out = run_in(dir.path(), &["assign", "worker", "--range", "tools"]);
    assert_eq!(code(&out), 0, "{}", text(&out));
    let after = fs::read_to_string(dir.path().join("ports.yaml")).unwrap();
    assert!(after.starts_with(&CONVENTION[..CONVENTION.find("hosts:").unwrap()]));
    assert!(
        after.contains(
            "  worker:\n    range: tools\n    compose: { file: compose.yaml }\n    ports:\n      port-9100: { port: 8000, env: WORKER_PORT, container: 9100 }\nhosts:\n"
        ),
        "{after}"
    );
    let only = run_in(
        dir.path(),
        &["check", "--convention-only", "-c", "ports.yaml"],
    );
    assert_eq!(code(&only), 0, "{}", text(&only));
}

#[test]
fn assign_errors_write_nothing() {
    let dir = tree(&[("ports.yaml", CONVENTION), ("compose.yaml", ASSIGN_COMPOSE)]);
    for (args, needle) in [
        (
            vec!["assign", "web", "--range", "nope"],
            "error[unknown-range]",
        ),
        (vec!["assign", "web", "--range", "spare"], "reserved"),
        (
            vec!["assign", "ghost", "--range", "web"],
            "no service ghost",
        ),
        (
            vec!["assign", "api", "--range", "web", "--port-name", "grpc"],
            "no port named grpc",
        ),
    ] {
        let out = run_in(dir.path(), &args);
        assert_eq!(code(&out), 2, "{args:?}: {}", text(&out));
        assert!(stderr(&out).contains(needle), "{args:?}: {}", text(&out));
        assert_eq!(
            fs::read_to_string(dir.path().join("ports.yaml")).unwrap(),
            CONVENTION
        );
    }
    #[cfg(unix)]
    {
        let real = dir.path().join("real.yaml");
        fs::write(&real, CONVENTION).unwrap();
        fs::remove_file(dir.path().join("ports.yaml")).unwrap();
        std::os::unix::fs::symlink(&real, dir.path().join("ports.yaml")).unwrap();
        let out = run_in(dir.path(), &["assign", "web", "--range", "web"]);
        assert_eq!(code(&out), 2, "{}", text(&out));
        assert!(
            stderr(&out).contains("error[unsafe-path]"),
            "{}",
            text(&out)
        );
        assert_eq!(fs::read_to_string(&real).unwrap(), CONVENTION);
    }
}

#[test]
fn init_declares_other_services_inside_the_protected_range_and_spares_the_reserved_tail() {
    let compose = "services:
  metabase: { image: metabase/metabase, ports: [\"7050:3000\"] }
  relay: { image: busybox, ports: [\"7500:80\"] }
";
    let dir = tree(&[("compose.yaml", compose)]);
    let out = run_in(dir.path(), &["init", "--protect", "data=7000-7999"]);
    assert_eq!(code(&out), 0, "{}", text(&out));
    assert!(
        stderr(&out).contains("metabase is no database init knows"),
        "{}",
        text(&out)
    );
    assert!(stderr(&out).contains("relay publishes 7500 inside reserved range replication"));
    let written = fs::read_to_string(dir.path().join("ports.yaml")).unwrap();
    assert!(
        written.contains("  metabase:\n    range: primary-databases\n"),
        "{written}"
    );
    assert!(
        written.contains("# decide: 7500 is in reserved range replication"),
        "{written}"
    );
    let only = run_in(
        dir.path(),
        &["check", "--convention-only", "-c", "ports.yaml"],
    );
    assert_eq!(code(&only), 0, "{}", text(&only));
    // metabase is declared where it publishes; relay is the one finding left.
    let report = json(&run_in(dir.path(), &["check", ".", "--format", "json"]));
    let errors: Vec<(&str, &str)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "error")
        .map(|f| {
            (
                f["rule"].as_str().unwrap(),
                f["service"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(errors, [("protected-range-violation", "relay")]);
}

#[test]
fn assign_keeps_crlf_line_endings() {
    let crlf = CONVENTION.replace('\n', "\r\n");
    let dir = tree(&[("ports.yaml", &crlf), ("compose.yaml", ASSIGN_COMPOSE)]);
    let out = run_in(dir.path(), &["assign", "web", "--range", "web"]);
    assert_eq!(code(&out), 0, "{}", text(&out));
    let out = run_in(dir.path(), &["assign", "worker", "--range", "tools"]);
    assert_eq!(code(&out), 0, "{}", text(&out));
    let after = fs::read_to_string(dir.path().join("ports.yaml")).unwrap();
    assert!(after.contains("    range: web\r\n"), "{after:?}");
    assert!(
        after.contains("  worker:\r\n    range: tools\r\n"),
        "{after:?}"
    );
    assert_eq!(
        after.matches('\n').count(),
        after.matches("\r\n").count(),
        "{after:?}"
    );
}
