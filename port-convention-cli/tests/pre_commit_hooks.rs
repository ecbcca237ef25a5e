//! The hooks of `.pre-commit-hooks.yaml` with the real `pre-commit` (PyPI;
//! `scripts/test.sh` installs the pinned one into `.venv`), as a user runs
//! them: a temporary git repository whose `.pre-commit-config.yaml` names a
//! local clone of this repository as hook repo (`repo:` path, `rev:` sha),
//! `pre-commit install`, then `git commit`: a commit adding a clashing port
//! is refused and shows the finding; a clean one passes; a convention
//! changed without rendering the docs again is refused by the docs hook.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{output_text, repo};

fn pre_commit() -> Option<PathBuf> {
    let venv = repo().join(".venv/bin/pre-commit");
    if venv.is_file() {
        return Some(venv);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("pre-commit"))
            .find(|p| p.is_file())
    })
}

fn git(dir: &Path, args: &[&str]) -> Output {
    Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("git runs")
}

#[track_caller]
fn git_ok(dir: &Path, args: &[&str]) -> String {
    let out = git(dir, args);
    assert!(out.status.success(), "git {args:?}: {}", output_text(&out));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

const CONVENTION: &str = "version: 1.0.0
name: hooked
ranges:
  databases: { ports: 7000-7999, protected: true }
services:
  pg:
    range: databases
    compose: { file: apps/a/compose.yaml }
    ports: { sql: { port: 7000, env: PG_PORT, container: 5432 } }
hosts:
  box: { projects: [\"apps/**\"] }
";

#[test]
fn pre_commit_refuses_a_clashing_commit_and_accepts_a_clean_one() {
    let Some(pre_commit) = pre_commit() else {
        common::skip_or_fail_in_ci(
            "pre-commit not installed (.venv/bin/pre-commit; scripts/test.sh installs it)",
        );
        return;
    };
    if !git(&repo(), &["rev-parse", "HEAD"]).status.success() {
        common::skip_or_fail_in_ci("this checkout is not a git repository");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // The hook repository: a local clone of this one, with the working
    // tree's hook definition and entry script committed on top.
    let hooks = dir.path().join("hook-repo");
    let out = Command::new("git")
        .args(["clone", "-q", "--no-hardlinks"])
        .arg(repo())
        .arg(&hooks)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", output_text(&out));
    for file in [".pre-commit-hooks.yaml", "scripts/pre-commit-hook.sh"] {
        std::fs::copy(repo().join(file), hooks.join(file)).unwrap();
    }
    git_ok(&hooks, &["add", "-A"]);
    let _ = git(&hooks, &["commit", "-q", "-m", "working tree hooks"]);
    let rev = git_ok(&hooks, &["rev-parse", "HEAD"]);

    // The user's repository.
    let project = dir.path().join("project");
    std::fs::create_dir_all(&project).unwrap();
    git_ok(&project, &["init", "-q"]);
    write(&project.join("ports.yaml"), CONVENTION);
    write(
        &project.join("apps/a/compose.yaml"),
        "services:\n  pg:\n    image: postgres\n    ports: [\"127.0.0.1:${PG_PORT:-7000}:5432\"]\n",
    );
    write(
        &project.join(".pre-commit-config.yaml"),
        &format!(
            "repos:\n  - repo: {}\n    rev: {rev}\n    hooks:\n      - id: port-convention-check\n      - id: port-convention-docs\n",
            hooks.display()
        ),
    );
    let docs = Command::new(env!("CARGO_BIN_EXE_port-convention"))
        .args(["render", "markdown", "--out", "PORTS-CONVENTION.md"])
        .current_dir(&project)
        .output()
        .unwrap();
    assert!(docs.status.success(), "{}", output_text(&docs));

    // The hook builds port-convention from the hook repository with cargo
    // (a debug build in a target dir of its own, kept between runs).
    let target = repo().join("target/pre-commit-hook");
    let cache = dir.path().join("pre-commit-cache");
    let run = |args: &[&str]| -> Output {
        let mut command = Command::new(args[0]);
        command
            .args(&args[1..])
            .current_dir(&project)
            .env("PRE_COMMIT_HOME", &cache)
            .env("PORT_CONVENTION_HOOK_PROFILE", "dev")
            .env("CARGO_TARGET_DIR", &target)
            // Small: no debug info, no incremental cache.
            .env("CARGO_PROFILE_DEV_DEBUG", "0")
            .env("CARGO_INCREMENTAL", "0")
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .env("NO_COLOR", "1")
            .env_remove("CARGO")
            .env_remove("RUSTFLAGS");
        command.output().unwrap()
    };
    let install = run(&[pre_commit.to_str().unwrap(), "install"]);
    assert!(install.status.success(), "{}", output_text(&install));

    // A clean commit passes both hooks.
    git_ok(&project, &["add", "-A"]);
    let clean = run(&["git", "commit", "-m", "clean"]);
    assert!(clean.status.success(), "{}", output_text(&clean));
    let text = output_text(&clean);
    assert!(text.contains("port-convention check"), "{text}");
    assert!(text.contains("Passed"), "{text}");

    // A commit adding a clashing port is refused, with the finding shown.
    write(
        &project.join("apps/b/compose.yaml"),
        "services:\n  intruder:\n    image: nginx\n    ports: [\"127.0.0.1:7000:80\"]\n",
    );
    git_ok(&project, &["add", "-A"]);
    let clash = run(&["git", "commit", "-m", "clash"]);
    let text = output_text(&clash);
    assert!(!clash.status.success(), "refused: {text}");
    assert!(text.contains("Failed"), "{text}");
    assert!(text.contains("error[duplicate-host-port]"), "{text}");
    assert!(text.contains("apps/b/compose.yaml"), "{text}");
    assert_eq!(
        git_ok(&project, &["log", "--format=%s"]),
        "clean",
        "nothing was committed"
    );
    git_ok(&project, &["rm", "-q", "--cached", "apps/b/compose.yaml"]);
    std::fs::remove_file(project.join("apps/b/compose.yaml")).unwrap();

    // The convention changes, the docs do not: the docs hook refuses.
    write(
        &project.join("ports.yaml"),
        &CONVENTION.replace("port: 7000, env", "port: 7001, env"),
    );
    write(
        &project.join("apps/a/compose.yaml"),
        "services:\n  pg:\n    image: postgres\n    ports: [\"127.0.0.1:${PG_PORT:-7001}:5432\"]\n",
    );
    git_ok(&project, &["add", "-A"]);
    let stale = run(&["git", "commit", "-m", "move pg"]);
    let text = output_text(&stale);
    assert!(!stale.status.success(), "refused: {text}");
    assert!(text.contains("PORTS-CONVENTION.md is stale"), "{text}");
    assert!(text.contains("+| `pg` | `sql` | 7001 |"), "{text}");
    // Rendered again: accepted.
    let docs = Command::new(env!("CARGO_BIN_EXE_port-convention"))
        .args(["render", "markdown", "--out", "PORTS-CONVENTION.md"])
        .current_dir(&project)
        .output()
        .unwrap();
    assert!(docs.status.success(), "{}", output_text(&docs));
    git_ok(&project, &["add", "-A"]);
    let fixed = run(&["git", "commit", "-m", "move pg"]);
    assert!(fixed.status.success(), "{}", output_text(&fixed));
}
