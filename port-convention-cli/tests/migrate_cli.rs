//! `port-convention migrate` run as a child process on temporary copies of a
//! fixture: plan, apply, status, rollback, refusals, and a crash at every
//! failpoint of `apply` (debug builds honour `PORT_CONVENTION_FAILPOINT`).

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;

mod common;
use common::{
    copy_dir, migrate_fixture as fixture, ok_stdout as ok, output_text as text, run_clean as run,
    snapshot,
};

/// A temporary copy of the fixture tree, with its convention beside it.
struct Case {
    _dir: tempfile::TempDir,
    root: PathBuf,
    convention: PathBuf,
}

fn case() -> Case {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("tree");
    copy_dir(&fixture("basic/tree"), &root);
    let convention = dir.path().join("ports.yaml");
    fs::copy(fixture("basic/ports.yaml"), &convention).unwrap();
    Case {
        _dir: dir,
        root,
        convention,
    }
}

fn old_tree() -> BTreeMap<String, Vec<u8>> {
    snapshot(&fixture("basic/tree"))
}

fn new_tree() -> BTreeMap<String, Vec<u8>> {
    snapshot(&fixture("basic/expected"))
}

fn assert_tree(
    actual: &BTreeMap<String, Vec<u8>>,
    expected: &BTreeMap<String, Vec<u8>>,
    what: &str,
) {
    assert_eq!(
        actual.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>(),
        "{what}"
    );
    for (name, bytes) in expected {
        assert!(actual.get(name) == Some(bytes), "{what}: {name} differs");
    }
}

/// Each file entirely old or entirely new, byte for byte (a temporary file
/// that a crash left beside it is not the file).
fn assert_each_old_or_new(actual: &BTreeMap<String, Vec<u8>>, what: &str) {
    let (old, new) = (old_tree(), new_tree());
    let actual: BTreeMap<String, Vec<u8>> = actual
        .iter()
        .filter(|(name, _)| !name.ends_with(".port-convention.tmp"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    assert_eq!(
        actual.keys().collect::<Vec<_>>(),
        old.keys().collect::<Vec<_>>(),
        "{what}"
    );
    for (name, bytes) in &actual {
        assert!(
            old.get(name) == Some(bytes) || new.get(name) == Some(bytes),
            "{what}: {name} is neither old nor new:\n{}",
            String::from_utf8_lossy(bytes)
        );
    }
}

fn plan_file(c: &Case) -> PathBuf {
    let plan = c.root.parent().unwrap().join("plan.json");
    let out = run(
        &c.root,
        &[
            "migrate",
            "plan",
            "-c",
            c.convention.to_str().unwrap(),
            ".",
            "--out",
            plan.to_str().unwrap(),
        ],
        &[],
    );
    ok(&out);
    plan
}

#[test]
fn plan_apply_status_rollback() {
    let c = case();
    let conv = c.convention.to_str().unwrap();
    let out = run(
        &c.root,
        &["migrate", "plan", "-c", conv, ".", "--out", "../plan.json"],
        &[],
    );
    let stdout = ok(&out);
    assert!(
        stdout.contains("-      - \"5433:5432\"    # host:container"),
        "{stdout}"
    );
    assert!(
        stdout.contains("+      - \"7000:5432\"    # host:container"),
        "{stdout}"
    );
    assert!(
        stdout.contains("kong-db: no compose file defines a service named kong-db"),
        "{stdout}"
    );
    assert!(
        stdout.contains("warning[env-value-left-alone]: ")
            && stdout.contains("the port map 9002=7010 moves it")
            && stdout.contains("hint: `migrate plan --map OLD=NEW`"),
        "{stdout}"
    );
    assert_tree(&snapshot(&c.root), &old_tree(), "plan writes nothing");

    let plan: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(c.root.join("../plan.json")).unwrap()).unwrap();
    assert_eq!(plan["format"], "port-convention-migration-plan");
    let files = plan["files"].as_array().unwrap();
    assert_eq!(files.len(), 5);
    for file in files {
        assert_eq!(file["sha256"].as_str().unwrap().len(), 64);
        assert_eq!(file["new_sha256"].as_str().unwrap().len(), 64);
    }

    let stdout = ok(&run(
        &c.root,
        &["migrate", "apply", "../plan.json", "--skip-port-check"],
        &[],
    ));
    assert!(stdout.contains("Verified: no drift remains"), "{stdout}");
    assert!(
        stdout.contains("docker compose -f cache/compose.yaml up -d"),
        "{stdout}"
    );
    assert!(
        stdout.contains("docker compose -f db/docker-compose.yml up -d"),
        "{stdout}"
    );
    assert!(stdout.contains("back up the data volumes"), "{stdout}");
    assert_tree(&snapshot(&c.root), &new_tree(), "after apply");

    // `check` agrees: no drift left.
    let out = run(
        &c.root,
        &["check", "-c", conv, ".", "--format", "json"],
        &[],
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let drift: Vec<&serde_json::Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            f["rule"] == "drift" || (f["rule"] == "env-drift" && f["file"] != "app.env.example")
        })
        .collect();
    assert!(drift.is_empty(), "{drift:#?}");

    let stdout = ok(&run(&c.root, &["migrate", "status"], &[]));
    assert!(stdout.contains("State: complete"), "{stdout}");
    // Applying the same plan twice is refused, with the reason.
    let out = run(
        &c.root,
        &["migrate", "apply", "../plan.json", "--skip-port-check"],
        &[],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("already has the text this plan writes"),
        "{stderr}"
    );
    assert!(stderr.contains("hint: `migrate status`"), "{stderr}");
    let stdout = ok(&run(&c.root, &["migrate", "rollback"], &[]));
    assert!(stdout.contains("restored 5 file(s)"), "{stdout}");
    assert_tree(&snapshot(&c.root), &old_tree(), "after rollback");
    let stdout = ok(&run(&c.root, &["migrate", "status"], &[]));
    assert!(stdout.contains("State: rolled back"), "{stdout}");
    let stdout = ok(&run(&c.root, &["migrate", "rollback"], &[]));
    assert!(stdout.contains("already rolled back"), "{stdout}");
}

#[test]
fn concurrent_edit_is_detected_and_nothing_is_written() {
    let c = case();
    let plan = plan_file(&c);
    let compose = c.root.join("db/docker-compose.yml");
    let mut edited = fs::read_to_string(&compose).unwrap();
    edited.push_str("# edited after planning\n");
    fs::write(&compose, &edited).unwrap();
    let before = snapshot(&c.root);
    let out = run(
        &c.root,
        &[
            "migrate",
            "apply",
            plan.to_str().unwrap(),
            "--skip-port-check",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("error[migration-refused]"), "{stderr}");
    assert!(
        stderr.contains("db/docker-compose.yml changed since the plan was made"),
        "{stderr}"
    );
    assert_tree(&snapshot(&c.root), &before, "nothing written");
    assert!(!c.root.join(".port-convention").exists());
}

#[test]
fn apply_without_a_plan_plans_and_applies() {
    let c = case();
    let conv = c.convention.to_str().unwrap();
    let stdout = ok(&run(
        &c.root,
        &[
            "migrate",
            "apply",
            "-c",
            conv,
            "--root",
            ".",
            "--skip-port-check",
        ],
        &[],
    ));
    assert!(stdout.contains("Wrote 5 file(s)"), "{stdout}");
    assert_tree(&snapshot(&c.root), &new_tree(), "after apply");
    let stdout = ok(&run(
        &c.root,
        &[
            "migrate",
            "apply",
            "-c",
            conv,
            "--root",
            ".",
            "--skip-port-check",
        ],
        &[],
    ));
    assert!(stdout.contains("Nothing to change"), "{stdout}");
}

/// Crashes `apply` at `failpoint`, checks every file is old or new, then
/// finishes with `apply` (resume) on one copy and `rollback` on another.
fn crash_then_recover(failpoint: &str) {
    for recover_with_rollback in [false, true] {
        let c = case();
        let plan = plan_file(&c);
        let plan = plan.to_str().unwrap();
        let out = run(
            &c.root,
            &["migrate", "apply", plan, "--skip-port-check"],
            &[("PORT_CONVENTION_FAILPOINT", failpoint)],
        );
        assert!(
            !out.status.success(),
            "{failpoint}: the process should have aborted\n{}",
            text(&out)
        );
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(&format!(
                "failpoint {}",
                failpoint.split(':').next().unwrap_or("")
            )),
            "{failpoint}: {}",
            text(&out)
        );
        assert_each_old_or_new(
            &snapshot(&c.root),
            &format!("{failpoint}: right after the crash"),
        );
        let status = run(&c.root, &["migrate", "status"], &[]);
        assert_eq!(
            status.status.code(),
            Some(1),
            "{failpoint}: {}",
            text(&status)
        );
        assert!(String::from_utf8_lossy(&status.stdout).contains("State: interrupted"));

        if recover_with_rollback {
            ok(&run(&c.root, &["migrate", "rollback"], &[]));
            assert_tree(
                &snapshot(&c.root),
                &old_tree(),
                &format!("{failpoint}: after rollback"),
            );
        } else {
            // `apply` again, with the same plan file or none: it resumes.
            let stdout = ok(&run(
                &c.root,
                &["migrate", "apply", plan, "--skip-port-check"],
                &[],
            ));
            assert!(
                stdout.contains("Resumed the interrupted migration"),
                "{stdout}"
            );
            assert_tree(
                &snapshot(&c.root),
                &new_tree(),
                &format!("{failpoint}: after resume"),
            );
            let stdout = ok(&run(&c.root, &["migrate", "status"], &[]));
            assert!(stdout.contains("State: complete"), "{stdout}");
            // And the resumed migration still rolls back to the original.
            ok(&run(&c.root, &["migrate", "rollback"], &[]));
            assert_tree(
                &snapshot(&c.root),
                &old_tree(),
                &format!("{failpoint}: rollback after resume"),
            );
        }
    }
}

#[test]
fn failpoint_after_begin() {
    crash_then_recover("after-begin");
}

#[test]
fn failpoint_mid_backup() {
    crash_then_recover("mid-backup");
}

#[test]
fn failpoint_after_backup() {
    crash_then_recover("after-backup");
}

#[test]
fn failpoint_before_rename_first_file() {
    crash_then_recover("before-rename");
}

#[test]
fn failpoint_before_rename_third_file() {
    crash_then_recover("before-rename:3");
}

#[test]
fn failpoint_after_rename_first_file() {
    crash_then_recover("after-rename");
}

#[test]
fn failpoint_after_rename_last_file() {
    crash_then_recover("after-rename:5");
}

#[test]
fn failpoint_before_complete() {
    crash_then_recover("before-complete");
}

#[test]
fn failpoint_in_rollback() {
    let c = case();
    let plan = plan_file(&c);
    ok(&run(
        &c.root,
        &[
            "migrate",
            "apply",
            plan.to_str().unwrap(),
            "--skip-port-check",
        ],
        &[],
    ));
    let out = run(
        &c.root,
        &["migrate", "rollback"],
        &[("PORT_CONVENTION_FAILPOINT", "rollback-after-restore:2")],
    );
    assert!(!out.status.success(), "{}", text(&out));
    assert_each_old_or_new(&snapshot(&c.root), "right after the crash in rollback");
    let status = run(&c.root, &["migrate", "status"], &[]);
    assert!(
        String::from_utf8_lossy(&status.stdout).contains("State: rollback interrupted"),
        "{}",
        text(&status)
    );
    // `apply` refuses while a rollback is half done.
    let out = run(
        &c.root,
        &[
            "migrate",
            "apply",
            plan.to_str().unwrap(),
            "--skip-port-check",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    ok(&run(&c.root, &["migrate", "rollback"], &[]));
    assert_tree(&snapshot(&c.root), &old_tree(), "after the second rollback");
}

/// `migrate plan --format json`: every note and problem carries a stable
/// code, a severity and a place, so that a program branches on the code.
#[test]
fn plan_json_diagnostics_carry_codes_and_locations() {
    let c = case();
    let conv = c.convention.to_str().unwrap();
    let out = run(
        &c.root,
        &["migrate", "plan", "-c", conv, ".", "--format", "json"],
        &[],
    );
    let plan: serde_json::Value = serde_json::from_str(&ok(&out)).unwrap();
    let notes = plan["notes"].as_array().unwrap();
    assert!(!notes.is_empty(), "{plan:#}");
    for note in notes {
        assert_eq!(note["severity"], "warning", "{note}");
        let code = note["code"].as_str().unwrap();
        assert!(
            port_convention::migrate::Code::from_id(code).is_some() && code != "unclassified",
            "{note}"
        );
    }
    let left_alone = notes
        .iter()
        .find(|n| n["code"] == "env-value-left-alone")
        .unwrap_or_else(|| panic!("{plan:#}"));
    assert_eq!(left_alone["file"], "app.env.example", "{left_alone}");
    assert!(left_alone["line"].as_u64().unwrap() > 0, "{left_alone}");
    assert!(left_alone["column"].as_u64().unwrap() > 0, "{left_alone}");
    assert!(
        !left_alone["message"].as_str().unwrap().contains("--"),
        "{left_alone}"
    );
}

/// A refusal lists its reasons with their codes and names the way out on
/// the command line (the library's message names no flag).
#[test]
fn refusals_are_coded_and_the_cli_adds_the_flag() {
    let c = case();
    let plan = plan_file(&c);
    let compose = c.root.join("db/docker-compose.yml");
    let mut edited = fs::read_to_string(&compose).unwrap();
    edited.push_str("# edited after planning\n");
    fs::write(&compose, &edited).unwrap();
    let loaded = port_convention::io::migrate::load_plan(&plan).unwrap();
    let options = port_convention::io::migrate::ApplyOptions {
        skip_port_check: true,
        env: Some(BTreeMap::new()),
    };
    let err = port_convention::io::migrate::apply(&loaded, &options, &mut |_| {}).unwrap_err();
    let port_convention::Error::MigrationRefused { reasons } = &err else {
        panic!("{err}");
    };
    let reason = reasons
        .iter()
        .find(|r| r.code == port_convention::migrate::Code::FileChanged)
        .unwrap_or_else(|| panic!("{reasons:?}"));
    assert_eq!(
        reason.location.as_ref().map(|at| at.file.as_str()),
        Some("db/docker-compose.yml")
    );
    assert_eq!(reason.severity, port_convention::Severity::Error);
    for reason in reasons {
        assert!(!reason.message.contains("--"), "{reason:?}");
    }
}

/// Every migrate command takes the directory the same way, as its PATH:
/// `plan PATH`, `apply PATH` (plan and apply), `status PATH`,
/// `rollback PATH`; `plan` refuses two directories at parse time; `status`
/// in `.` names the directory.
#[test]
fn migrate_commands_take_the_directory_as_path() {
    let c = case();
    let conv = c.convention.to_str().unwrap();
    let outside = c.root.parent().unwrap();
    let tree = c.root.to_str().unwrap();
    // Two directories: a usage error, nothing planned.
    let out = run(outside, &["migrate", "plan", "-c", conv, tree, tree], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("unexpected argument"),
        "{}",
        text(&out)
    );
    // status of `.` before any migration: the directory by name.
    let stdout = ok(&run(&c.root, &["migrate", "status", "."], &[]));
    let shown = std::fs::canonicalize(&c.root).unwrap();
    assert!(
        stdout.contains(&format!("No migration under {}:", shown.display()))
            || stdout.contains(&format!("No migration under {}:", c.root.display())),
        "{stdout}"
    );
    // apply PATH plans and applies there, from outside it; no progress bar
    // when stderr is not a terminal.
    let out = run(
        outside,
        &["migrate", "apply", "-c", conv, tree, "--skip-port-check"],
        &[],
    );
    let stdout = ok(&out);
    assert!(stdout.contains("Wrote 5 file(s)"), "{stdout}");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    assert_tree(&snapshot(&c.root), &new_tree(), "after apply PATH");
    let stdout = ok(&run(outside, &["migrate", "status", tree], &[]));
    assert!(stdout.contains("State: complete"), "{stdout}");
    let stdout = ok(&run(outside, &["migrate", "rollback", tree], &[]));
    assert!(stdout.contains("restored 5 file(s)"), "{stdout}");
    assert_tree(&snapshot(&c.root), &old_tree(), "after rollback PATH");
    let stdout = ok(&run(outside, &["migrate", "status", tree], &[]));
    assert!(stdout.contains("State: rolled back"), "{stdout}");
}
