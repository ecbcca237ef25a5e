//! `migrate`: planning and applying on real files in temporary directories.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use port_convention::io::migrate::{self as mig, ApplyOptions, PlanRequest, Planned};
use port_convention::migrate::{ChangeKind, Code, PlanOptions, PortMap, plan_diff};
use port_convention::{Error, Rule};
use port_convention::{Location, Severity};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/migrate")
        .join(name)
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
            let mut perms = fs::metadata(&target).unwrap().permissions();
            #[allow(clippy::permissions_set_readonly_false)]
            perms.set_readonly(false);
            fs::set_permissions(&target, perms).unwrap();
        }
    }
}

/// Every file under `dir` (but `.port-convention/`), by relative path.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            if entry.file_name() == ".port-convention" {
                continue;
            }
            let path = entry.path();
            if entry.file_type().unwrap().is_dir() {
                walk(root, &path, out);
            } else {
                let name = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.insert(name, fs::read(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn assert_same_tree(actual: &BTreeMap<String, Vec<u8>>, expected: &BTreeMap<String, Vec<u8>>) {
    assert_eq!(
        actual.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>(),
        "file lists differ"
    );
    for (name, bytes) in expected {
        assert!(
            actual.get(name) == Some(bytes),
            "{name} differs:\n--- expected\n{}\n--- actual\n{}",
            String::from_utf8_lossy(bytes),
            String::from_utf8_lossy(actual.get(name).map_or(&[][..], Vec::as_slice))
        );
    }
}

fn plan_tree(root: &Path, convention: &Path, options: PlanOptions) -> Planned {
    mig::plan_migration(&PlanRequest {
        root: Some(root.to_owned()),
        convention: Some(convention.to_owned()),
        env: Some(BTreeMap::new()),
        options,
    })
    .unwrap()
}

fn quiet() -> impl FnMut(mig::Progress<'_>) {
    |_| {}
}

fn apply_options() -> ApplyOptions {
    ApplyOptions {
        skip_port_check: true,
        env: Some(BTreeMap::new()),
    }
}

fn basic_case(expected: &str, options: PlanOptions) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("tree");
    copy_dir(&fixture("basic/tree"), &root);
    let before = snapshot(&root);
    let planned = plan_tree(&root, &fixture("basic/ports.yaml"), options);
    let plan = &planned.plan;
    assert!(plan.problems.is_empty(), "{:#?}", plan.problems);
    assert_eq!(plan.not_found.len(), 1, "{:#?}", plan.not_found);
    assert_eq!(plan.not_found[0].service, "kong-db");
    // Planning writes nothing.
    assert_same_tree(&snapshot(&root), &before);
    assert!(!root.join(".port-convention").exists());
    assert!(
        plan_diff(plan, &planned.texts)
            .unwrap()
            .contains("+++ b/db/docker-compose.yml")
    );

    let outcome = mig::apply(plan, &apply_options(), &mut quiet()).unwrap();
    assert!(outcome.remaining.is_empty(), "{:#?}", outcome.remaining);
    assert_same_tree(
        &snapshot(&root),
        &snapshot(&fixture(&format!("basic/{expected}"))),
    );

    let status = mig::status(&root, None).unwrap().unwrap();
    assert_eq!(status.state, mig::State::Complete);
    assert_eq!(status.verified, Some(true));

    let rolled = mig::rollback(&root, None, false, &mut quiet()).unwrap();
    assert_eq!(rolled.restored.len(), plan.files.len());
    assert_same_tree(&snapshot(&root), &before);
    assert_eq!(
        mig::status(&root, None).unwrap().unwrap().state,
        mig::State::RolledBack
    );
}

/// Whole files: comments, quoting, indentation, anchors, blank lines, CRLF
/// and a missing final newline survive; only port values change.
#[test]
fn fixture_default_options_whole_files() {
    basic_case("expected", PlanOptions::default());
}

/// With `--use-env-vars`: literals become templates, variables are renamed
/// in compose and in the project's `.env` files, `VAR=port` lines are added.
#[test]
fn fixture_use_env_vars_whole_files() {
    basic_case(
        "expected-use-env-vars",
        PlanOptions {
            use_env_vars: true,
            ..PlanOptions::default()
        },
    );
}

fn write(root: &Path, name: &str, text: &str) {
    let path = root.join(name);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

const SMALL_CONVENTION: &str = "version: 1.0.0
services:
  db:
    ports:
      sql: { port: 7000, env: DB_PORT, container: 5432, legacy: 5433 }
";

fn small(
    files: &[(&str, &str)],
    convention: &str,
    options: PlanOptions,
) -> (tempfile::TempDir, Planned) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("tree");
    fs::create_dir_all(&root).unwrap();
    for (name, text) in files {
        write(&root, name, text);
    }
    write(dir.path(), "ports.yaml", convention);
    let planned = plan_tree(&root, &dir.path().join("ports.yaml"), options);
    (dir, planned)
}

#[test]
fn a_concurrent_edit_between_plan_and_apply_writes_nothing() {
    let compose = "services:\n  db:\n    ports:\n      - \"5433:5432\"\n";
    let (dir, planned) = small(
        &[("a/compose.yml", compose)],
        SMALL_CONVENTION,
        PlanOptions::default(),
    );
    let root = dir.path().join("tree");
    // Someone edits the file after the plan was made.
    let edited = "services:\n  db:\n    ports:\n      - \"5433:5432\" # edited\n";
    write(&root, "a/compose.yml", edited);
    let err = mig::apply(&planned.plan, &apply_options(), &mut quiet()).unwrap_err();
    assert_eq!(err.code(), "migration-refused");
    assert!(
        err.to_string()
            .contains("a/compose.yml changed since the plan was made"),
        "{err}"
    );
    assert_eq!(
        fs::read_to_string(root.join("a/compose.yml")).unwrap(),
        edited
    );
    assert!(
        !root.join(".port-convention").exists(),
        "nothing may be written"
    );
}

#[test]
fn ambiguous_service_names_need_a_file_unless_alternatives() {
    let compose = "services:\n  db:\n    ports:\n      - \"5433:5432\"\n";
    let files = [("a/compose.yml", compose), ("b/compose.yml", compose)];
    let (_dir, planned) = small(&files, SMALL_CONVENTION, PlanOptions::default());
    let problem = &planned.plan.problems[0];
    assert!(problem.message.contains("ambiguous"), "{problem}");
    assert!(
        problem.message.contains("a/compose.yml and b/compose.yml"),
        "{problem}"
    );
    assert_eq!(
        problem
            .location
            .as_ref()
            .map(|at| (at.file.as_str(), at.line)),
        Some((planned.convention.file.as_str(), 3))
    );
    assert!(planned.plan.files.is_empty());

    let alternatives =
        format!("{SMALL_CONVENTION}alternatives:\n  flavours: [a/compose.yml, b/compose.yml]\n");
    let (_dir, planned) = small(&files, &alternatives, PlanOptions::default());
    assert!(
        planned.plan.problems.is_empty(),
        "{:#?}",
        planned.plan.problems
    );
    assert_eq!(planned.plan.files.len(), 2, "migrated in each alternative");

    let qualified =
        SMALL_CONVENTION.replace("  db:\n", "  db:\n    compose: { file: b/compose.yml }\n");
    let (_dir, planned) = small(&files, &qualified, PlanOptions::default());
    assert!(planned.plan.problems.is_empty());
    let names: Vec<&str> = planned.plan.files.iter().map(|f| f.file.as_str()).collect();
    assert_eq!(names, ["b/compose.yml"]);
}

/// `--use-env-vars` on a port without `env:`: the literal moves and stays
/// a literal, and the plan says why.
#[test]
fn a_port_without_a_variable_stays_a_literal_with_a_note() {
    let convention = SMALL_CONVENTION.replace(", env: DB_PORT", "");
    let (_dir, planned) = small(
        &[(
            "compose.yml",
            "services:\n  db:\n    ports:\n      - \"5433:5432\"\n",
        )],
        &convention,
        PlanOptions {
            use_env_vars: true,
            ..PlanOptions::default()
        },
    );
    let notes: Vec<_> = planned
        .plan
        .notes
        .iter()
        .filter(|n| n.code == Code::NoConventionVariable)
        .collect();
    assert_eq!(notes.len(), 1, "{:?}", planned.plan.notes);
    let kinds: Vec<ChangeKind> = planned.plan.changes.iter().map(|c| c.kind).collect();
    assert_eq!(kinds, [ChangeKind::Literal]);
    assert_eq!(planned.plan.files[0].edits[0].new, "7000");
    // Without the option there is nothing to say.
    let (_dir, planned) = small(
        &[(
            "compose.yml",
            "services:\n  db:\n    ports:\n      - \"5433:5432\"\n",
        )],
        &convention,
        PlanOptions::default(),
    );
    assert!(
        planned
            .plan
            .notes
            .iter()
            .all(|n| n.code != Code::NoConventionVariable)
    );
    assert_eq!(planned.plan.files[0].edits[0].new, "7000");
}

#[test]
fn aliased_entries_are_refused_with_a_message() {
    let compose = "x-ports: &ports \"5433:5432\"\nservices:\n  db:\n    ports:\n      - *ports\n";
    let (_dir, planned) = small(
        &[("compose.yml", compose)],
        SMALL_CONVENTION,
        PlanOptions::default(),
    );
    let problem = &planned.plan.problems[0];
    assert!(problem.message.contains("YAML alias"), "{problem}");
    assert_eq!(
        problem.location.as_ref().map(|at| (at.line, at.column)),
        Some((5, 9))
    );
    assert!(planned.plan.files.is_empty());
}

#[test]
fn container_ranges_move_as_a_block() {
    let convention = "version: 1.0.0
services:
  db:
    ports:
      a: { port: 7000, container: 5432 }
      b: { port: 7001, container: 5433 }
";
    let compose = "services:\n  db:\n    ports:\n      - \"6000-6001:5432-5433\"\n";
    let (_dir, planned) = small(
        &[("compose.yml", compose)],
        convention,
        PlanOptions::default(),
    );
    assert!(
        planned.plan.problems.is_empty(),
        "{:#?}",
        planned.plan.problems
    );
    let edit = &planned.plan.files[0].edits[0];
    assert_eq!(
        (edit.old.as_str(), edit.new.as_str()),
        ("6000-6001", "7000-7001")
    );

    let swapped = convention.replace("port: 7000", "port: 7002");
    let (_dir, planned) = small(
        &[("compose.yml", compose)],
        &swapped,
        PlanOptions::default(),
    );
    assert!(
        planned.plan.problems[0].message.contains("not consecutive"),
        "{:?}",
        planned.plan.problems
    );
}

#[test]
fn a_target_taken_by_another_service_is_a_problem_and_refused_at_apply() {
    let compose = "services:\n  db:\n    ports:\n      - \"5433:5432\"\n  web:\n    ports:\n      - \"7000:80\"\n";
    let (_dir, planned) = small(
        &[("compose.yml", compose)],
        SMALL_CONVENTION,
        PlanOptions::default(),
    );
    assert!(
        planned.plan.problems[0]
            .message
            .contains("already published by service web")
    );

    // A file added after the plan: the pre-flight re-scan sees it.
    let (dir, planned) = small(
        &[(
            "compose.yml",
            "services:\n  db:\n    ports:\n      - \"5433:5432\"\n",
        )],
        SMALL_CONVENTION,
        PlanOptions::default(),
    );
    assert!(planned.plan.problems.is_empty());
    let root = dir.path().join("tree");
    write(
        &root,
        "other/compose.yml",
        "services:\n  web:\n    ports:\n      - \"7000:80\"\n",
    );
    let err = mig::apply(&planned.plan, &apply_options(), &mut quiet()).unwrap_err();
    assert!(
        err.to_string().contains("already published by service web"),
        "{err}"
    );
    assert!(!root.join(".port-convention").exists());
}

#[test]
fn a_listening_target_port_is_refused_unless_skipped() {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    let convention = SMALL_CONVENTION.replace("port: 7000", &format!("port: {port}"));
    let compose = "services:\n  db:\n    ports:\n      - \"5433:5432\"\n";
    let (dir, planned) = small(
        &[("compose.yml", compose)],
        &convention,
        PlanOptions::default(),
    );
    let options = ApplyOptions {
        skip_port_check: false,
        env: Some(BTreeMap::new()),
    };
    let err = mig::apply(&planned.plan, &options, &mut quiet()).unwrap_err();
    assert!(
        err.to_string().contains(&format!("port {port}/tcp")),
        "{err}"
    );
    assert!(!dir.path().join("tree/.port-convention").exists());
    drop(listener);
    mig::apply(&planned.plan, &apply_options(), &mut quiet()).unwrap();
}

#[test]
fn a_read_only_file_is_refused() {
    let compose = "services:\n  db:\n    ports:\n      - \"5433:5432\"\n";
    let (dir, planned) = small(
        &[("compose.yml", compose)],
        SMALL_CONVENTION,
        PlanOptions::default(),
    );
    let path = dir.path().join("tree/compose.yml");
    let mut perms = fs::metadata(&path).unwrap().permissions();
    perms.set_readonly(true);
    fs::set_permissions(&path, perms).unwrap();
    let err = mig::apply(&planned.plan, &apply_options(), &mut quiet()).unwrap_err();
    assert!(
        err.to_string().contains("compose.yml is read-only"),
        "{err}"
    );
}

#[test]
fn rollback_refuses_a_file_changed_since_unless_forced() {
    let compose = "services:\n  db:\n    ports:\n      - \"5433:5432\"\n";
    let (dir, planned) = small(
        &[("compose.yml", compose)],
        SMALL_CONVENTION,
        PlanOptions::default(),
    );
    let root = dir.path().join("tree");
    mig::apply(&planned.plan, &apply_options(), &mut quiet()).unwrap();
    write(&root, "compose.yml", "services: {}\n");
    let err = mig::rollback(&root, None, false, &mut quiet()).unwrap_err();
    assert!(matches!(err, Error::MigrationRefused { .. }));
    assert!(
        err.to_string()
            .contains("changed since the migration wrote it"),
        "{err}"
    );
    assert_eq!(
        fs::read_to_string(root.join("compose.yml")).unwrap(),
        "services: {}\n"
    );
    mig::rollback(&root, None, true, &mut quiet()).unwrap();
    assert_eq!(
        fs::read_to_string(root.join("compose.yml")).unwrap(),
        compose
    );
}

#[test]
fn a_damaged_backup_is_refused_even_with_force() {
    let compose = "services:\n  db:\n    ports:\n      - \"5433:5432\"\n";
    let (dir, planned) = small(
        &[("compose.yml", compose)],
        SMALL_CONVENTION,
        PlanOptions::default(),
    );
    let root = dir.path().join("tree");
    let outcome = mig::apply(&planned.plan, &apply_options(), &mut quiet()).unwrap();
    fs::write(outcome.backup_dir.join("files/compose.yml"), "tampered").unwrap();
    let err = mig::rollback(&root, None, true, &mut quiet()).unwrap_err();
    assert!(
        err.to_string().contains("does not match its manifest"),
        "{err}"
    );
}

#[test]
fn environment_overrides_are_problems() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("tree");
    write(
        &root,
        "compose.yml",
        "services:\n  db:\n    ports:\n      - \"${DB_PORT:-5433}:5432\"\n",
    );
    write(dir.path(), "ports.yaml", SMALL_CONVENTION);
    let planned = mig::plan_migration(&PlanRequest {
        root: Some(root),
        convention: Some(dir.path().join("ports.yaml")),
        env: Some(BTreeMap::from([("DB_PORT".to_owned(), "5999".to_owned())])),
        options: PlanOptions::default(),
    })
    .unwrap();
    let problem = &planned.plan.problems[0];
    assert!(
        problem
            .message
            .contains("DB_PORT=5999 is set in the environment"),
        "{problem}"
    );
}

#[test]
fn map_moves_env_values_that_are_not_legacy() {
    let files = [
        (
            "compose.yml",
            "services:\n  db:\n    ports:\n      - \"${DB_PORT:-5433}:5432\"\n",
        ),
        ("apps/x/.env.example", "DB_PORT=5432\r\n"),
    ];
    let (_dir, planned) = small(&files, SMALL_CONVENTION, PlanOptions::default());
    let note = &planned.plan.notes[0];
    assert_eq!(
        (note.code, note.severity),
        (Code::EnvValueLeftAlone, Severity::Warning)
    );
    assert_eq!(
        note.location,
        Some(Location::new("apps/x/.env.example", 1, 9))
    );
    assert!(
        note.message.contains("the port map 5432=7000 moves it") && !note.message.contains("--"),
        "{note:?}"
    );
    let options = PlanOptions {
        maps: vec![PortMap {
            old: 5432,
            new: 7000,
        }],
        ..PlanOptions::default()
    };
    let (_dir, planned) = small(&files, SMALL_CONVENTION, options);
    let env_change = planned
        .plan
        .changes
        .iter()
        .find(|c| c.location.file == "apps/x/.env.example")
        .unwrap();
    assert_eq!(
        (
            env_change.kind,
            env_change.from.as_str(),
            env_change.to.as_str()
        ),
        (ChangeKind::EnvValue, "5432", "7000")
    );
    let bad = PlanOptions {
        maps: vec![PortMap { old: 1, new: 2 }],
        ..PlanOptions::default()
    };
    let (_dir, planned) = small(&files, SMALL_CONVENTION, bad);
    let problem = &planned.plan.problems[0];
    assert_eq!(
        (problem.code, problem.severity),
        (Code::MapNotAssigned, Severity::Error)
    );
    assert!(problem.message.contains("port map 1=2"), "{problem:?}");
}

// ---------------------------------------------------------------------------
// The real-world corpus.
// ---------------------------------------------------------------------------

fn corpus() -> Option<PathBuf> {
    let path = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/corpus/trading-system"
    ));
    if path.is_dir() {
        Some(path.to_owned())
    } else {
        let reason = format!(
            "corpus not found at {} (tests against the real corpus did not run)",
            path.display()
        );
        // CI must run these: a missing ../shared is a failure there.
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true and a required component is missing: {reason}"
        );
        // Written to the real stderr so it shows without --nocapture.
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr().lock(), "SKIPPED: {reason}");
        None
    }
}

fn example_convention() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/trading-system/ports.yaml")
}

#[test]
fn corpus_before_migration_plan_apply_check_rollback() {
    let Some(corpus) = corpus() else { return };
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("before");
    copy_dir(&corpus.join("2025-11-02-before-migration"), &root);
    let before = snapshot(&root);
    let maps = [
        "5432=7000",
        "8082=7101",
        "9002=7010",
        "9010=7011",
        "6379=7030",
    ]
    .iter()
    .map(|m| m.parse().unwrap())
    .collect();
    let options = PlanOptions {
        use_env_vars: true,
        rename_vars: false,
        maps,
        source: false,
    };
    let planned = plan_tree(&root, &example_convention(), options);
    let plan = &planned.plan;
    assert!(plan.problems.is_empty(), "{:#?}", plan.problems);

    // Every database port of the convention present in the snapshot.
    let mut covered: Vec<(String, String, u16, u16, String)> = plan
        .targets
        .iter()
        .map(|t| {
            (
                t.service.clone(),
                t.port_name.clone(),
                t.from.start(),
                t.port,
                t.location.file.clone(),
            )
        })
        .collect();
    covered.sort();
    let db = "tools/compose/docker-compose.database.yml";
    let expect = |s: &str, p: &str, from: u16, to: u16, f: &str| {
        (s.to_owned(), p.to_owned(), from, to, f.to_owned())
    };
    assert_eq!(
        covered,
        [
            expect("postgres-langgraph", "postgres", 5435, 7002, db),
            expect("qdrant", "grpc", 6334, 7021, db),
            expect("qdrant", "http", 6333, 7020, db),
            expect("questdb", "http", 9000, 7010, db),
            expect("questdb", "ilp", 9009, 7011, db),
            expect("questdb", "influx", 8812, 7012, db),
            expect(
                "rag-redis",
                "redis",
                6380,
                7030,
                "tools/compose/docker-compose.rag.yml"
            ),
            expect("timescaledb", "postgres", 5433, 7000, db),
            expect("timescaledb-adminer", "http", 8080, 7101, db),
            expect("timescaledb-backup", "postgres", 5434, 7001, db),
            expect("timescaledb-exporter", "metrics", 9187, 7200, db),
            expect("timescaledb-pgadmin", "http", 5050, 7100, db),
            expect("timescaledb-pgweb", "http", 8081, 7102, db),
        ]
    );
    // The second `timescaledb` (docker-compose.timescale.yml) is not the
    // convention's: its file is named in ports.yaml.
    assert!(
        plan.files
            .iter()
            .all(|f| !f.file.ends_with("docker-compose.timescale.yml"))
    );
    assert_eq!(
        plan.not_found
            .iter()
            .map(|n| n.service.as_str())
            .collect::<Vec<_>>(),
        ["kong-db"]
    );
    // Literal and template forms alike, and the renamed variables.
    let has = |kind: ChangeKind, from: &str, to: &str| {
        plan.changes
            .iter()
            .any(|c| c.kind == kind && c.from == from && c.to == to)
    };
    assert!(has(
        ChangeKind::UseEnvVar,
        "5433",
        "${TIMESCALEDB_PORT:-7000}"
    ));
    assert!(has(ChangeKind::TemplateDefault, "9187", "7200"));
    assert!(has(
        ChangeKind::RenameVariable,
        "QUESTDB_HTTP_PORT_NEW",
        "QUESTDB_HTTP_PORT"
    ));
    assert!(has(
        ChangeKind::RenameVariable,
        "QUESTDB_PG_PORT_NEW",
        "QUESTDB_ILP_PORT"
    ));
    assert!(has(
        ChangeKind::RenameVariable,
        "QUESTDB_ILP_PORT",
        "QUESTDB_INFLUX_PORT"
    ));
    assert!(has(
        ChangeKind::RenameVariable,
        "PGADMIN_HOST_PORT",
        "PGADMIN_PORT"
    ));

    let outcome = mig::apply(plan, &apply_options(), &mut quiet()).unwrap();
    assert!(outcome.remaining.is_empty(), "{:#?}", outcome.remaining);
    assert_eq!(
        outcome.plan.stacks,
        [db, "tools/compose/docker-compose.rag.yml"]
    );

    // `check` finds no drift and no env drift for the declared services.
    let check = port_convention::io::check(&port_convention::io::CheckOptions {
        paths: vec![root.clone()],
        convention: Some(example_convention()),
        env: Some(BTreeMap::new()),
        ..Default::default()
    })
    .unwrap();
    let drift: Vec<String> = check
        .report
        .findings
        .iter()
        .filter(|f| matches!(f.rule, Rule::Drift | Rule::EnvDrift))
        .map(ToString::to_string)
        .collect();
    assert!(drift.is_empty(), "{drift:#?}");

    mig::rollback(&root, None, false, &mut quiet()).unwrap();
    assert_same_tree(&snapshot(&root), &before);
}

#[test]
fn corpus_before_migration_default_options() {
    let Some(corpus) = corpus() else { return };
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("before");
    copy_dir(&corpus.join("2025-11-02-before-migration"), &root);
    let planned = plan_tree(&root, &example_convention(), PlanOptions::default());
    let plan = &planned.plan;
    assert!(plan.problems.is_empty(), "{:#?}", plan.problems);
    assert_eq!(plan.targets.len(), 13);
    // No variable is renamed without the option; values not tied to a
    // mapping and not legacy are reported, not changed.
    assert!(
        plan.changes
            .iter()
            .all(|c| c.kind != ChangeKind::RenameVariable)
    );
    assert!(
        plan.notes
            .iter()
            .any(|n| n.message.contains("TIMESCALEDB_PORT=5432 is left alone"))
    );
    let outcome = mig::apply(plan, &apply_options(), &mut quiet()).unwrap();
    assert!(outcome.remaining.is_empty(), "{:#?}", outcome.remaining);
}
