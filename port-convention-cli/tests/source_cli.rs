//! `check` on source and configuration files (rules hardcoded-port,
//! stale-port, unregistered-port) and `migrate plan --source`, on the
//! fixture tree `tests/source/app` and copies of it.

mod common;

use std::collections::BTreeSet;

use common::*;

fn fixture() -> std::path::PathBuf {
    repo().join("tests/source/app")
}

fn source_findings(report: &serde_json::Value) -> Vec<serde_json::Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            [
                "hardcoded-port",
                "stale-port",
                "unregistered-port",
                "unknown-suppression",
            ]
            .contains(&f["rule"].as_str().unwrap())
        })
        .cloned()
        .collect()
}

fn places(report: &serde_json::Value) -> BTreeSet<(String, u64, String)> {
    source_findings(report)
        .iter()
        .map(|f| {
            (
                f["file"].as_str().unwrap().to_owned(),
                f["line"].as_u64().unwrap(),
                f["rule"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn the_fixture_gives_exactly_the_expected_findings() {
    let out = run_clean(&fixture(), &["check", ".", "--format", "json"], &[]);
    assert_eq!(code(&out), 1, "{}", output_text(&out));
    let report = json(&out);
    let want: BTreeSet<(String, u64, String)> = [
        ("backend/config.js", 4, "stale-port"),
        ("backend/config.js", 6, "stale-port"),
        ("backend/config.js", 7, "stale-port"),
        ("backend/config.js", 10, "hardcoded-port"),
        ("backend/db.ts", 2, "stale-port"),
        // ignore[hardcoded-port] does not silence another rule.
        ("backend/db.ts", 3, "unregistered-port"),
        ("backend/db.ts", 4, "unregistered-port"),
        // `ignore[hardcode-port, *]`: the misspelt id is reported, `*` silences.
        ("backend/db.ts", 5, "unknown-suppression"),
        ("config/.env.local", 1, "stale-port"),
        ("config/app.yaml", 3, "stale-port"),
        ("config/app.yaml", 5, "stale-port"),
        ("config/db.ini", 2, "stale-port"),
        ("config/service.json", 1, "hardcoded-port"),
        ("config/settings.toml", 2, "stale-port"),
        ("gosvc/main.go", 8, "stale-port"),
        ("scripts/wait-for-db.sh", 3, "stale-port"),
        ("scripts/wait-for-db.sh", 5, "hardcoded-port"),
        ("worker/settings.py", 3, "stale-port"),
        ("worker/settings.py", 4, "stale-port"),
        ("worker/settings.py", 8, "hardcoded-port"),
    ]
    .iter()
    .map(|(f, l, r)| ((*f).to_owned(), *l, (*r).to_owned()))
    .collect();
    let got = places(&report);
    assert_eq!(
        got,
        want,
        "missing {:?}, invented {:?}",
        want.difference(&got),
        got.difference(&want)
    );
    // The trap fixtures give nothing; compose's own .env and compose.yaml
    // are not source files.
    assert!(got.iter().all(|(f, _, _)| !f.starts_with("traps/")));
    assert_eq!(report["summary"]["suppressed"], 2);
    assert_eq!(report["summary"]["source_files"], 16);
    // The quoted fallback: line, column, the new port and its variable.
    let f = source_findings(&report)
        .into_iter()
        .find(|f| f["file"] == "backend/config.js" && f["line"] == 4)
        .unwrap();
    assert_eq!(f["rule"], "stale-port");
    assert_eq!(f["severity"], "error");
    assert_eq!(f["column"], 48);
    assert_eq!(f["port"], 5433);
    assert_eq!(f["service"], "timescaledb");
    assert_eq!(f["variable"], "TIMESCALEDB_PORT");
    assert_eq!(f["suggestion"]["port"], 7000);
    let message = f["message"].as_str().unwrap();
    assert!(message.contains("now 7000, TIMESCALEDB_PORT"), "{message}");
    assert!(
        message.contains("services.timescaledb.postgres"),
        "{message}"
    );
}

#[test]
fn in_network_addresses_are_right_and_localhost_is_not() {
    let out = run_clean(&fixture(), &["check", ".", "--format", "json"], &[]);
    let report = json(&out);
    let lines: BTreeSet<u64> = source_findings(&report)
        .iter()
        .filter(|f| f["file"] == "worker/settings.py")
        .map(|f| f["line"].as_u64().unwrap())
        .collect();
    // 6: postgres://app@timescaledb:5432, 7: http://qdrant:6333 (container
    // ports inside the compose network); 8 uses the host port there.
    assert_eq!(lines, [3, 4, 8].into());
}

#[test]
fn human_output_counts_suppressed_findings() {
    let out = run_clean(&fixture(), &["check", ".", "--color", "never"], &[]);
    let text = stdout(&out);
    assert!(text.contains("16 source file(s), 2 suppressed"), "{text}");
    assert!(
        text.contains("4 |   port: Number(process.env.TIMESCALEDB_PORT ?? 5433),"),
        "{text}"
    );
}

#[test]
fn kinds_globs_and_gitignore_decide_what_is_scanned() {
    let convention = std::fs::read_to_string(fixture().join("ports.yaml")).unwrap();
    let files = |extra: &str| {
        let conv = format!("{convention}{extra}");
        tree(&[
            ("ports.yaml", conv.as_str()),
            ("a.js", "const p = process.env.TIMESCALEDB_PORT ?? 5433;\n"),
            ("b.py", "P = os.environ.get('TIMESCALEDB_PORT', '5433')\n"),
            (
                "gen/c.js",
                "const p = process.env.TIMESCALEDB_PORT ?? 5433;\n",
            ),
            (
                "ignored/d.js",
                "const p = process.env.TIMESCALEDB_PORT ?? 5433;\n",
            ),
            (
                "node_modules/e.js",
                "const p = process.env.TIMESCALEDB_PORT ?? 5433;\n",
            ),
            ("x.min.js", "const p=process.env.TIMESCALEDB_PORT??5433;\n"),
            // migrate's own state directory is not the repository's source.
            (
                ".port-convention/f.js",
                "const p = process.env.TIMESCALEDB_PORT ?? 5433;\n",
            ),
            (".gitignore", "ignored/\n"),
        ])
    };
    let scanned = |extra: &str| {
        let dir = files(extra);
        let out = run_clean(dir.path(), &["check", ".", "--format", "json"], &[]);
        assert_ne!(code(&out), 2, "{}", output_text(&out));
        places(&json(&out))
            .into_iter()
            .map(|(f, _, _)| f)
            .collect::<BTreeSet<String>>()
    };
    let all: BTreeSet<String> = ["a.js", "b.py", "gen/c.js"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    assert_eq!(scanned(""), all);
    assert_eq!(
        scanned("source: { kinds: [python] }\n"),
        ["b.py".to_owned()].into()
    );
    assert_eq!(
        scanned("source: { exclude: [\"gen/**\"] }\n"),
        ["a.js".to_owned(), "b.py".to_owned(), "x.min.js".to_owned()].into()
    );
    assert_eq!(
        scanned("source: { include: [\"gen/**\"] }\n"),
        ["gen/c.js".to_owned()].into()
    );
    // A directory in discovery.exclude is not scanned either.
    assert_eq!(
        scanned("discovery: { exclude: [gen] }\n"),
        ["a.js".to_owned(), "b.py".to_owned()].into()
    );
    // `discovery.include` makes the one walk enter node_modules for compose
    // files; its source files are still not scanned.
    assert_eq!(
        scanned("discovery: { include: [\"**/*.compose.yml\"] }\n"),
        all
    );
    assert!(scanned("source: { enabled: false }\n").is_empty());
    // A glob that is not one is a convention error at its place (so
    // `check --convention-only` finds it too).
    let dir = files("source: { include: [\"a/{b\"] }\n");
    for args in [
        &["check", ".", "--format", "json"][..],
        &["check", "--convention-only", "-c", "ports.yaml"],
    ] {
        let out = run_clean(dir.path(), args, &[]);
        assert_eq!(code(&out), 2, "{}", output_text(&out));
        let err = stderr(&out);
        assert!(err.contains("error[invalid-convention]"), "{err}");
        let line = convention.lines().count() + 1;
        assert!(err.contains(&format!("ports.yaml:{line}:")), "{err}");
        assert!(err.contains("invalid glob \"a/{b\""), "{err}");
    }
    let dir = files("discovery: { exclude: [\"gen/[x\"] }\n");
    let out = run_clean(dir.path(), &["check", "."], &[]);
    assert_eq!(code(&out), 2, "{}", output_text(&out));
    assert!(
        stderr(&out).contains("error[invalid-convention]"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("invalid glob \"gen/[x\""),
        "{}",
        stderr(&out)
    );
    // An unknown kind is a convention error with its place.
    let dir = files("source: { kinds: [cobol] }\n");
    let out = run_clean(dir.path(), &["check", "."], &[]);
    assert_eq!(code(&out), 2, "{}", output_text(&out));
    assert!(stderr(&out).contains("ports.yaml:"), "{}", stderr(&out));
}

#[test]
fn migrate_plan_source_proposes_the_edit_and_rollback_restores_it() {
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("app");
    copy_dir(&fixture(), &root);
    let before = std::fs::read_to_string(root.join("backend/config.js")).unwrap();
    // Without --source, source files are left alone.
    let out = run_clean(&root, &["migrate", "plan", ".", "--format", "json"], &[]);
    let plan: serde_json::Value = serde_json::from_str(&ok_stdout(&out)).unwrap();
    assert!(plan["files"].as_array().unwrap().is_empty(), "{plan}");

    let out = run_clean(
        &root,
        &["migrate", "plan", ".", "--source", "--out", "../plan.json"],
        &[],
    );
    let text = ok_stdout(&out);
    assert!(
        text.contains("+  port: Number(process.env.TIMESCALEDB_PORT ?? 7000),"),
        "{text}"
    );
    assert!(
        text.contains("backend/config.js:4:48  \"5433\" -> \"7000\"  (source-literal)"),
        "{text}"
    );
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(work.path().join("plan.json")).unwrap())
            .unwrap();
    assert_eq!(plan["options"]["source"], true);
    let files: Vec<&str> = plan["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["file"].as_str().unwrap())
        .collect();
    assert!(
        files.contains(&"backend/config.js") && files.contains(&"worker/settings.py"),
        "{files:?}"
    );
    assert!(
        plan["files"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["kind"] == "source")
    );
    // The suppressed line and the in-network addresses are not edited.
    assert!(!files.iter().any(|f| f.starts_with("traps/")));

    ok_stdout(&run_clean(
        &root,
        &["migrate", "apply", "../plan.json", "--skip-port-check"],
        &[],
    ));
    let after = std::fs::read_to_string(root.join("backend/config.js")).unwrap();
    assert!(after.contains("TIMESCALEDB_PORT ?? 7000),"), "{after}");
    assert!(after.contains("'http://localhost:7020'"), "{after}");
    // The suppressed line keeps its literal.
    assert!(after.contains("legacyReplica = Number(process.env.TIMESCALEDB_PORT ?? 5433)"));
    let py = std::fs::read_to_string(root.join("worker/settings.py")).unwrap();
    assert!(
        py.contains("postgres://app@timescaledb:5432/trading"),
        "{py}"
    );
    // No stale literal is left.
    let out = run_clean(&root, &["check", ".", "--format", "json"], &[]);
    let left: Vec<_> = source_findings(&json(&out))
        .into_iter()
        .filter(|f| f["rule"] == "stale-port")
        .collect();
    assert!(left.is_empty(), "{left:?}");

    let text = ok_stdout(&run_clean(&root, &["migrate", "rollback"], &[]));
    assert!(text.contains("restored 9 file(s)"), "{text}");
    assert_eq!(
        std::fs::read_to_string(root.join("backend/config.js")).unwrap(),
        before
    );
}

/// The corpus has no programs, but its non-compose YAML and `.env`
/// examples are read: Kong's and Prometheus's in-network addresses give
/// nothing; the `.env.example` fallbacks to old ports are stale.
#[test]
fn corpus_source_findings() {
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
    let report = json(&out);
    let found = source_findings(&report);
    for f in &found {
        let file = f["file"].as_str().unwrap();
        assert!(
            !file.contains("kong-declarative")
                && !file.contains("prometheus")
                && !file.contains("alerts/"),
            "{f}"
        );
    }
    let telegram = found
        .iter()
        .find(|f| f["file"] == "apps/telegram-gateway/.env.example")
        .expect("telegram-gateway's .env.example points at localhost:5433");
    assert_eq!(telegram["rule"], "stale-port");
    // 5433 was the port of two services: both are named, none is guessed.
    assert!(telegram["message"].as_str().unwrap().contains("kong-db"));
    assert!(telegram.get("suggestion").is_none());
    // A convention variable in a .env file is env-drift's, not reported twice.
    let twice: Vec<_> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "env-drift")
        .filter(|e| {
            found
                .iter()
                .any(|s| s["file"] == e["file"] && s["line"] == e["line"])
        })
        .collect();
    assert!(twice.is_empty(), "{twice:?}");
}
