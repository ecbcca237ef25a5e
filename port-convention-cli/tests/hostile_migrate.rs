//! Issue #10: a hostile repository must not get out, slow us down, or lie
//! through us. Each test performs the attack for real, with the real binary
//! as a child process, real files, real symbolic links and real second
//! processes, and checks that nothing outside the tree changed, byte for
//! byte.
#![cfg(unix)]

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead as _, BufReader};
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_port-convention");

mod common;
use common::{
    copy_dir, migrate_fixture as fixture, ok_stdout as ok, output_text as text, run_clean as run,
    snapshot,
};

/// A temporary copy of the fixture: `<tmp>/tree` (the root), its convention
/// at `<tmp>/ports.yaml`, and `<tmp>/outside/` for victims.
struct Case {
    dir: tempfile::TempDir,
    root: PathBuf,
    convention: PathBuf,
    outside: PathBuf,
}

fn case() -> Case {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("tree");
    copy_dir(&fixture("basic/tree"), &root);
    let convention = dir.path().join("ports.yaml");
    fs::copy(fixture("basic/ports.yaml"), &convention).unwrap();
    let outside = dir.path().join("outside");
    fs::create_dir_all(&outside).unwrap();
    Case {
        dir,
        root,
        convention,
        outside,
    }
}

/// Asserts exit code 2 with `error[code]` on stderr; returns stderr.
#[track_caller]
fn refused(out: &Output, code: &str) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{}", text(out));
    assert!(
        stderr.contains(&format!("error[{code}]")),
        "expected error[{code}]\n{}",
        text(out)
    );
    stderr
}

fn plan_file(c: &Case) -> PathBuf {
    let plan = c.dir.path().join("plan.json");
    ok(&run(
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
    ));
    plan
}

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&fs::read(path).unwrap()).unwrap()
}

fn write_json(path: &Path, value: &serde_json::Value) {
    fs::write(path, serde_json::to_string_pretty(value).unwrap()).unwrap();
}

fn apply(c: &Case, plan: &Path) -> Output {
    run(
        &c.root,
        &[
            "migrate",
            "apply",
            plan.to_str().unwrap(),
            "--skip-port-check",
        ],
        &[],
    )
}

fn old_tree() -> BTreeMap<String, Vec<u8>> {
    snapshot(&fixture("basic/tree"))
}

fn new_tree() -> BTreeMap<String, Vec<u8>> {
    snapshot(&fixture("basic/expected"))
}

// ---------------------------------------------------------------------------
// 1. plan.json paths
// ---------------------------------------------------------------------------

/// A plan whose `files[0]` is the legitimate `db/docker-compose.yml` entry
/// renamed to `entry`; the victim outside the tree is a byte-identical copy
/// of that file, so every hash in the plan matches it.
fn hostile_plan(c: &Case, entry: &str) -> PathBuf {
    let plan_path = plan_file(c);
    let mut plan = read_json(&plan_path);
    let files = plan["files"].as_array_mut().unwrap();
    let index = files
        .iter()
        .position(|f| f["file"] == "db/docker-compose.yml")
        .unwrap();
    files[index]["file"] = serde_json::json!(entry);
    let hostile = c.dir.path().join("hostile-plan.json");
    write_json(&hostile, &plan);
    hostile
}

#[test]
fn apply_refuses_plan_paths_that_leave_the_root() {
    let original = fs::read(fixture("basic/tree/db/docker-compose.yml")).unwrap();
    let make = |c: &Case| -> Vec<String> {
        let victim = c.outside.join("victim.yml");
        fs::write(&victim, &original).unwrap();
        // A symlinked directory and a symlinked file, both inside the tree,
        // both leading to the victim.
        symlink(&c.outside, c.root.join("escape")).unwrap();
        symlink(&victim, c.root.join("linked.yml")).unwrap();
        vec![
            "../outside/victim.yml".to_owned(),
            victim.display().to_string(),
            "db/../../outside/victim.yml".to_owned(),
            "escape/victim.yml".to_owned(),
            "linked.yml".to_owned(),
            "./db/docker-compose.yml".to_owned(),
            ".port-convention/backups/x".to_owned(),
        ]
    };
    let probe = case();
    let entries = make(&probe);
    drop(probe);
    for (i, entry) in entries.iter().enumerate() {
        let c = case();
        let entry_here = make(&c)[i].clone();
        let plan = hostile_plan(&c, &entry_here);
        let before = snapshot(&c.root);
        let out = apply(&c, &plan);
        let stderr = refused(&out, "unsafe-path");
        assert!(stderr.contains(&entry_here), "{entry}: {stderr}");
        assert_eq!(
            fs::read(c.outside.join("victim.yml")).unwrap(),
            original,
            "{entry}: the victim outside the tree changed"
        );
        assert_eq!(
            fs::read_dir(&c.outside).unwrap().count(),
            1,
            "{entry}: something was created outside the tree"
        );
        assert_eq!(snapshot(&c.root), before, "{entry}: the tree changed");
        assert!(
            !c.root.join(".port-convention").exists(),
            "{entry}: a backup was started"
        );
    }
}

#[test]
fn a_plan_file_does_not_choose_a_root_above_the_current_directory() {
    // A plan shipped in the repository, naming the user's home as its
    // root: refused unless --root says so on the command line.
    let c = case();
    let plan_path = plan_file(&c);
    let mut plan = read_json(&plan_path);
    plan["root"] = serde_json::json!(c.dir.path().display().to_string());
    let files = plan["files"].as_array_mut().unwrap();
    for file in files.iter_mut() {
        let name = file["file"].as_str().unwrap().to_owned();
        file["file"] = serde_json::json!(format!("tree/{name}"));
    }
    write_json(&plan_path, &plan);
    let before = snapshot(c.dir.path());
    let out = apply(&c, &plan_path);
    let stderr = refused(&out, "unsafe-path");
    assert!(stderr.contains("pass --root"), "{stderr}");
    assert_eq!(snapshot(c.dir.path()), before);
}

// ---------------------------------------------------------------------------
// 2. A repository shipping its own .port-convention/backups/<id>/
// ---------------------------------------------------------------------------

/// Ships a complete-looking migration `20260101T000000Z` whose plan names
/// `plan_file` and whose manifest restores `manifest_file` from a copy
/// placed where `files/<manifest_file>` resolves.
fn ship_backup(c: &Case, plan_file: &str, manifest_file: &str, payload: &[u8]) -> PathBuf {
    let dir = c.root.join(".port-convention/backups/20260101T000000Z");
    fs::create_dir_all(dir.join("files")).unwrap();
    let current = fs::read(c.root.join("db/docker-compose.yml")).unwrap();
    let sha = |b: &[u8]| port_convention::migrate::sha256_hex(b);
    let plan = serde_json::json!({
        "format": "port-convention-migration-plan",
        "version": 1,
        "tool_version": "0.1.0",
        "root": c.root.display().to_string(),
        "convention": { "path": c.convention.display().to_string(), "version": "1.0.0", "sha256": "0" },
        "options": { "use_env_vars": false, "rename_vars": false, "maps": [] },
        "files": [{ "file": plan_file, "kind": "compose", "sha256": sha(payload),
                    "new_sha256": sha(&current), "edits": [] }],
        "changes": [], "targets": [], "stacks": [], "not_found": [], "notes": [], "problems": []
    });
    write_json(&dir.join("plan.json"), &plan);
    let manifest = serde_json::json!({
        "id": "20260101T000000Z", "root": c.root.display().to_string(), "created": "2026-01-01T00:00:00Z",
        "files": [{ "file": manifest_file, "sha256": sha(payload), "new_sha256": sha(&current), "size": payload.len() }]
    });
    write_json(&dir.join("manifest.json"), &manifest);
    let copy = dir.join("files").join(manifest_file);
    fs::create_dir_all(copy.parent().unwrap()).unwrap();
    fs::write(&copy, payload).unwrap();
    fs::write(
        dir.join("journal.jsonl"),
        "{\"event\":\"begin\",\"time\":\"t\",\"plan_sha256\":\"x\"}\n{\"event\":\"backed-up\",\"files\":1}\n{\"event\":\"complete\",\"time\":\"t\"}\n",
    )
    .unwrap();
    dir
}

#[test]
fn rollback_of_a_shipped_backup_never_writes_outside_the_root() {
    let payload = b"planted by the repository\n";
    // (plan entry, manifest entry, expected code)
    let cases = [
        // The manifest restores a file the plan does not list, outside.
        ("db/docker-compose.yml", "../outside/planted", "unsafe-path"),
        // The plan and the manifest agree on a path outside.
        ("../outside/planted", "../outside/planted", "unsafe-path"),
        // In the plan, inside, but not in the manifest's plan entry.
        ("db/docker-compose.yml", "cache/other.yml", "damaged-backup"),
        // Through a symlinked directory of the tree.
        ("escape/planted", "escape/planted", "unsafe-path"),
    ];
    for (plan_entry, manifest_entry, code) in cases {
        let c = case();
        symlink(&c.outside, c.root.join("escape")).unwrap();
        fs::write(c.outside.join("existing"), b"precious\n").unwrap();
        ship_backup(&c, plan_entry, manifest_entry, payload);
        let before = snapshot(&c.root);
        for force in [false, true] {
            let mut args = vec!["migrate", "rollback"];
            if force {
                args.push("--force");
            }
            let out = run(&c.root, &args, &[]);
            refused(&out, code);
            assert!(
                !c.outside.join("planted").exists(),
                "{manifest_entry}: a file was created outside the tree"
            );
            assert_eq!(
                fs::read(c.outside.join("existing")).unwrap(),
                b"precious\n",
                "{manifest_entry}"
            );
            assert_eq!(fs::read_dir(&c.outside).unwrap().count(), 1);
            assert_eq!(
                snapshot(&c.root),
                before,
                "{manifest_entry}: the tree changed"
            );
        }
        // `status` and `apply` report it too instead of reading through it.
        refused(&run(&c.root, &["migrate", "status"], &[]), code);
    }
}

#[test]
fn a_symlinked_state_directory_is_never_followed() {
    let c = case();
    let elsewhere = c.outside.join("state");
    fs::create_dir_all(&elsewhere).unwrap();
    symlink(&elsewhere, c.root.join(".port-convention")).unwrap();
    let plan = plan_file(&c);
    let before = snapshot(&c.root);
    let out = apply(&c, &plan);
    let stderr = refused(&out, "unsafe-path");
    assert!(stderr.contains(".port-convention"), "{stderr}");
    assert_eq!(fs::read_dir(&elsewhere).unwrap().count(), 0);
    assert_eq!(snapshot(&c.root), before);
    refused(
        &run(&c.root, &["migrate", "rollback", "--root", "."], &[]),
        "unsafe-path",
    );
    refused(
        &run(&c.root, &["migrate", "status", "--root", "."], &[]),
        "unsafe-path",
    );
    assert_eq!(fs::read_dir(&elsewhere).unwrap().count(), 0);
}

#[test]
fn a_shipped_journal_symlink_is_not_appended_to() {
    // The repository ships a backup whose journal is a link to a file of the
    // user's: `rollback` must not append to it.
    let c = case();
    let victim = c.outside.join("bashrc");
    fs::write(&victim, b"# my shell\n").unwrap();
    let current = fs::read(c.root.join("db/docker-compose.yml")).unwrap();
    let dir = ship_backup(
        &c,
        "db/docker-compose.yml",
        "db/docker-compose.yml",
        &current,
    );
    let journal = dir.join("journal.jsonl");
    let events = fs::read(&journal).unwrap();
    fs::write(&victim, [b"# my shell\n".as_slice(), &events].concat()).unwrap();
    let victim_bytes = fs::read(&victim).unwrap();
    fs::remove_file(&journal).unwrap();
    symlink(&victim, &journal).unwrap();
    let _ = run(&c.root, &["migrate", "rollback", "--force"], &[]);
    assert_eq!(fs::read(&victim).unwrap(), victim_bytes);
}

// ---------------------------------------------------------------------------
// 3 and 9. Scratch and probe files
// ---------------------------------------------------------------------------

#[test]
fn committed_scratch_symlinks_are_never_followed() {
    let c = case();
    let probe_victim = c.outside.join("probe-victim");
    fs::write(&probe_victim, b"precious probe target\n").unwrap();
    let tmp_victim = c.outside.join("tmp-victim");
    fs::write(&tmp_victim, b"precious tmp target\n").unwrap();
    let created = c.outside.join("created");
    // The fixed names of earlier versions, in every directory apply writes in.
    for dir in ["", "db", "cache"] {
        symlink(
            &probe_victim,
            c.root.join(dir).join(".port-convention-probe.tmp"),
        )
        .unwrap();
    }
    symlink(
        &tmp_victim,
        c.root.join("db/.docker-compose.yml.port-convention.tmp"),
    )
    .unwrap();
    symlink(
        &created,
        c.root.join("cache/.compose.yaml.port-convention.tmp"),
    )
    .unwrap();
    let plan = plan_file(&c);
    ok(&apply(&c, &plan));
    assert_eq!(fs::read(&probe_victim).unwrap(), b"precious probe target\n");
    assert_eq!(fs::read(&tmp_victim).unwrap(), b"precious tmp target\n");
    assert!(
        !created.exists(),
        "a file was created through a scratch link"
    );
    assert_eq!(fs::read_dir(&c.outside).unwrap().count(), 2);
    // The tree has its new text, and the stale links are gone (the links,
    // not their targets).
    assert_eq!(snapshot(&c.root), new_tree());
}

/// Runs apply with `failpoint`, which aborts the process (SIGABRT: no
/// destructor runs, as with a kill).
fn crash(c: &Case, plan: &Path, failpoint: &str) {
    let out = run(
        &c.root,
        &[
            "migrate",
            "apply",
            plan.to_str().unwrap(),
            "--skip-port-check",
        ],
        &[("PORT_CONVENTION_FAILPOINT", failpoint)],
    );
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("aborting"),
        "{}",
        text(&out)
    );
}

fn scratch_files(dir: &Path) -> Vec<String> {
    snapshot(dir)
        .into_keys()
        .filter(|n| n.ends_with(".tmp"))
        .collect()
}

#[test]
fn a_kill_mid_write_leaves_a_scratch_file_that_the_next_run_removes() {
    let c = case();
    let plan = plan_file(&c);
    crash(&c, &plan, "mid-write:2");
    let left = scratch_files(&c.root);
    assert_eq!(left.len(), 1, "{left:?}");
    assert!(left[0].ends_with(".port-convention.tmp"), "{left:?}");
    // Apply again: it resumes, and the stale scratch file is gone.
    let stdout = ok(&apply(&c, &plan));
    assert!(stdout.contains("Resumed"), "{stdout}");
    assert_eq!(snapshot(&c.root), new_tree());
}

#[test]
fn a_kill_in_pre_flight_leaves_a_probe_that_the_next_run_removes() {
    let c = case();
    let plan = plan_file(&c);
    crash(&c, &plan, "mid-probe:2");
    let left = scratch_files(&c.root);
    assert_eq!(left.len(), 1, "{left:?}");
    assert!(left[0].contains(".port-convention-probe."), "{left:?}");
    assert!(!c.root.join(".port-convention").exists());
    ok(&apply(&c, &plan));
    assert_eq!(snapshot(&c.root), new_tree());
}

// ---------------------------------------------------------------------------
// 4. Concurrent migrations
// ---------------------------------------------------------------------------

/// Starts `migrate ARGS` paused at `failpoint`, and waits until it says so.
fn start_paused(c: &Case, args: &[&str], failpoint: &str, release: &Path) -> std::process::Child {
    let mut child = Command::new(BIN)
        .current_dir(&c.root)
        .args(args)
        .env_clear()
        .env("PORT_CONVENTION_FAILPOINT", format!("{failpoint}:pause"))
        .env("PORT_CONVENTION_FAILPOINT_RELEASE", release)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    loop {
        match lines.next() {
            Some(Ok(line)) if line.contains("pausing") => break,
            Some(Ok(_)) => {}
            _ => {
                let out = child.wait_with_output().unwrap();
                panic!("the first process did not pause: {}", text(&out));
            }
        }
    }
    child
}

#[test]
fn a_second_apply_or_rollback_fails_fast_while_a_migration_runs() {
    let c = case();
    let plan = plan_file(&c);
    let release = c.dir.path().join("release");
    let plan_arg = plan.to_str().unwrap();
    let first = start_paused(
        &c,
        &["migrate", "apply", plan_arg, "--skip-port-check"],
        "after-backup",
        &release,
    );
    let pid = first.id();
    for args in [
        vec!["migrate", "apply", plan_arg, "--skip-port-check"],
        vec!["migrate", "apply", "--root", ".", "--skip-port-check"],
        vec!["migrate", "rollback"],
    ] {
        let started = Instant::now();
        let out = run(&c.root, &args, &[]);
        let stderr = refused(&out, "migration-locked");
        assert!(stderr.contains("another migration is running"), "{stderr}");
        assert!(stderr.contains(&format!("(pid {pid})")), "{stderr}");
        assert!(started.elapsed() < Duration::from_secs(20), "not fast");
    }
    fs::write(&release, b"").unwrap();
    let out = first.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(snapshot(&c.root), new_tree());
    // The lock is released with its process: the next command runs.
    ok(&run(&c.root, &["migrate", "rollback"], &[]));
    assert_eq!(snapshot(&c.root), old_tree());
    assert!(!c.root.join(".port-convention/lock").exists());
}

#[test]
fn a_killed_migration_leaves_no_lock_behind() {
    let c = case();
    let plan = plan_file(&c);
    let release = c.dir.path().join("never-released");
    let mut first = start_paused(
        &c,
        &[
            "migrate",
            "apply",
            plan.to_str().unwrap(),
            "--skip-port-check",
        ],
        "after-backup",
        &release,
    );
    let pid = first.id();
    first.kill().unwrap(); // SIGKILL
    let _ = first.wait();
    // The dead process's pid is still recorded, but the lock died with it.
    assert_eq!(
        fs::read_to_string(c.root.join(".port-convention/lock"))
            .unwrap()
            .trim(),
        pid.to_string()
    );
    let status = run(&c.root, &["migrate", "status"], &[]);
    assert_eq!(status.status.code(), Some(1), "{}", text(&status));
    assert!(
        String::from_utf8_lossy(&status.stdout).contains("State: interrupted"),
        "{}",
        text(&status)
    );
    ok(&run(&c.root, &["migrate", "rollback"], &[]));
    assert_eq!(snapshot(&c.root), old_tree());
    assert!(!c.root.join(".port-convention/lock").exists());
}

// ---------------------------------------------------------------------------
// 5. Torn plan.json, empty .gitignore
// ---------------------------------------------------------------------------

#[test]
fn a_kill_while_writing_the_backup_plan_leaves_no_torn_plan() {
    let c = case();
    let plan = plan_file(&c);
    crash(&c, &plan, "mid-plan-write");
    // Nothing began: status says so, the tree is untouched, apply works.
    let stdout = ok(&run(&c.root, &["migrate", "status"], &[]));
    assert!(stdout.contains("No migration"), "{stdout}");
    assert_eq!(snapshot(&c.root), old_tree());
    ok(&apply(&c, &plan));
    assert_eq!(snapshot(&c.root), new_tree());
    ok(&run(&c.root, &["migrate", "rollback"], &[]));
    assert_eq!(snapshot(&c.root), old_tree());
}

#[test]
fn a_torn_backup_plan_is_passed_over_or_reported_with_a_way_out() {
    let c = case();
    let plan = plan_file(&c);
    let full = fs::read(&plan).unwrap();
    let torn = &full[..full.len() / 2];
    // As an earlier version left it at a kill or ENOSPC: plan.json torn,
    // nothing else. Nothing was written: it is passed over.
    let dir = c.root.join(".port-convention/backups/20260101T000000Z");
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("plan.json"), torn).unwrap();
    let stdout = ok(&run(&c.root, &["migrate", "status"], &[]));
    assert!(stdout.contains("No migration"), "{stdout}");
    // With a journal that says it began, it is reported, with the way out.
    fs::write(
        dir.join("journal.jsonl"),
        "{\"event\":\"begin\",\"time\":\"t\",\"plan_sha256\":\"x\"}\n",
    )
    .unwrap();
    for args in [
        vec!["migrate", "status"],
        vec!["migrate", "rollback"],
        vec![
            "migrate",
            "apply",
            plan.to_str().unwrap(),
            "--skip-port-check",
        ],
    ] {
        let stderr = refused(&run(&c.root, &args, &[]), "damaged-backup");
        assert!(stderr.contains("plan.json is torn"), "{stderr}");
        assert!(stderr.contains(".damaged"), "{stderr}");
    }
    assert_eq!(snapshot(&c.root), old_tree());
    // The way out works.
    fs::rename(
        &dir,
        c.root
            .join(".port-convention/backups/20260101T000000Z.damaged"),
    )
    .unwrap();
    ok(&apply(&c, &plan));
    assert_eq!(snapshot(&c.root), new_tree());
}

#[test]
fn an_empty_state_gitignore_is_repaired() {
    let c = case();
    fs::create_dir_all(c.root.join(".port-convention")).unwrap();
    fs::write(c.root.join(".port-convention/.gitignore"), b"").unwrap();
    let plan = plan_file(&c);
    ok(&apply(&c, &plan));
    assert_eq!(
        fs::read(c.root.join(".port-convention/.gitignore")).unwrap(),
        b"*\n"
    );
    // The backups (copies of compose files) stay out of `check`.
    let out = run(
        &c.root,
        &[
            "check",
            "-c",
            c.convention.to_str().unwrap(),
            ".",
            "--format",
            "json",
        ],
        &[],
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let text = report.to_string();
    assert!(!text.contains(".port-convention"), "{text}");
}
