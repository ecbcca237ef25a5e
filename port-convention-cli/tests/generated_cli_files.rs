//! The shell completions and the manual page under `share/` are generated
//! from the command line's definition (`port-convention completions SHELL`,
//! `port-convention man`) and must be current: regenerate them with
//! `UPDATE_GENERATED=1 cargo test -p port-convention-cli --test generated_cli_files`.

use std::path::Path;
use std::process::Command;

fn generated(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_port-convention"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn check(file: &str, args: &[&str]) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    let fresh = generated(args);
    if std::env::var_os("UPDATE_GENERATED").is_some() {
        std::fs::write(&path, &fresh).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "{file} is stale: run UPDATE_GENERATED=1 cargo test -p port-convention-cli --test generated_cli_files"
    );
}

#[test]
fn completions_are_current() {
    for shell in ["bash", "zsh", "fish"] {
        check(
            &format!("share/completions/port-convention.{shell}"),
            &["completions", shell],
        );
    }
}

#[test]
fn the_manual_page_is_current_and_names_every_command() {
    check("share/man/port-convention.1", &["man"]);
    let man = generated(&["man"]);
    for command in [
        "check", "scan", "projects", "migrate", "allocate", "explain",
    ] {
        assert!(man.contains(command), "the manual names {command}");
    }
}
