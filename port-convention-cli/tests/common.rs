//! Helpers shared by the CLI tests: run the real binary, write fixture trees.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The real corpus, if this checkout has `../shared` beside it.
pub fn corpus() -> Option<PathBuf> {
    let path = repo().join("../shared/corpus/trading-system");
    if path.is_dir() {
        Some(path)
    } else {
        skip_or_fail_in_ci(&format!(
            "corpus not found at {} (tests against the real monorepo need ../shared beside the checkout)",
            path.display()
        ));
        None
    }
}

/// Says `SKIPPED: reason` on the real stderr: the test harness captures
/// `eprintln!`, not direct writes, so the line shows without `--nocapture`.
pub fn skipped(reason: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "SKIPPED: {reason}");
}

/// A real component a test needs is missing: under `CI=true` that is a
/// failure (CI must run every test), elsewhere a visible `SKIPPED` line.
#[track_caller]
pub fn skip_or_fail_in_ci(reason: &str) {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("CI=true and a required component is missing: {reason}");
    }
    skipped(reason);
}

/// Runs `port-convention ARGS` in `dir` with a clean colour environment.
pub fn run_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_port-convention"))
        .args(args)
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .output()
        .expect("the binary runs")
}

/// Runs `port-convention ARGS` at the repository root.
pub fn run(args: &[&str]) -> Output {
    run_in(&repo(), args)
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The exit code (panics on a signal: a crash is a failure).
#[track_caller]
pub fn code(output: &Output) -> i32 {
    output
        .status
        .code()
        .unwrap_or_else(|| panic!("killed by a signal; stderr: {}", stderr(output)))
}

/// Writes `files` (path, content) under a new temp dir.
pub fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (path, content) in files {
        let full = dir.path().join(path);
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(full, content).expect("write");
    }
    dir
}

/// Parses `check --format json` output.
#[track_caller]
pub fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            stdout(output),
            stderr(output)
        )
    })
}

/// A fixture tree of the migration tests (`tests/fixtures/migrate/NAME`).
pub fn migrate_fixture(name: &str) -> PathBuf {
    repo().join("tests/fixtures/migrate").join(name)
}

/// Copies the directory tree `from` to `to`.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Runs the CLI in `cwd` with a clean environment (plus `extra`).
pub fn run_clean(cwd: &Path, args: &[&str], extra: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_port-convention"));
    command.current_dir(cwd).args(args).env_clear();
    for (k, v) in extra {
        command.env(k, v);
    }
    command.output().unwrap()
}

/// Exit status, stdout and stderr of a run, for assertion messages.
pub fn output_text(out: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The stdout of a run that must have succeeded.
pub fn ok_stdout(out: &Output) -> String {
    assert!(out.status.success(), "{}", output_text(out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Every file under `dir` but `.port-convention/`, by relative name with `/`
/// separators, with its bytes; a symbolic link is listed with its target,
/// not followed (what a migration or an `init` must leave as it was).
pub fn snapshot(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut std::collections::BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            if entry.file_name() == ".port-convention" {
                continue;
            }
            let path = entry.path();
            let name = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            let kind = entry.file_type().unwrap();
            if kind.is_symlink() {
                let target = std::fs::read_link(&path).unwrap();
                out.insert(name, format!("-> {}", target.display()).into_bytes());
            } else if kind.is_dir() {
                walk(root, &path, out);
            } else {
                out.insert(name, std::fs::read(&path).unwrap());
            }
        }
    }
    let mut out = std::collections::BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}
