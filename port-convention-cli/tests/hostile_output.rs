//! Issue #10, output and input: names and text from a hostile repository
//! cannot inject GitHub Actions workflow commands or terminal escapes into
//! any output format; a symlinked `ports.yaml` does not leak the file it
//! points to; a FIFO does not block us; small input edge cases.
#![cfg(unix)]

use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::{run_in, stderr, stdout};

const CONVENTION: &str = "version: 1.0.0\nranges:\n  web: { ports: 8000-8999 }\nservices:\n  api: { range: web, ports: { http: { port: 8000, env: API_PORT } } }\n";

/// Service names and texts an attacker controls, each a way to start a
/// workflow command or to drive the terminal.
const NEWLINE_MASK: &str = "x\n::add-mask::secret";
const OSC_TITLE: &str = "\u{1b}]0;pwned\u{7}\u{1b}[2J";
const BIDI: &str = "bidi\u{202e}txt.exe";
const SEPARATOR: &str = "line\u{2028}::stop-commands::tok";

/// A tree whose directory name holds a newline and a workflow command, with
/// hostile service names, a hostile invalid port spec and a raw ESC in a
/// source line shown by the human format.
fn hostile_tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("ports.yaml"), CONVENTION).unwrap();
    let evil = dir.path().join("evil\n::stop-commands::pwn");
    fs::create_dir_all(&evil).unwrap();
    let compose = format!(
        "services:\n  {}:\n    image: a\n    ports: [\"8080:80\"]\n  {}:\n    image: a\n    ports: [\"8080:80\"]\n  {}:\n    image: a\n    ports: [\"8080:81\"]\n  {}:\n    image: a\n    ports: [\"8080:82\"]\n  spec:\n    image: a\n    ports: [\"::add-mask::x\\e[31m:80\", \"{}:80\"]\n",
        serde_json::to_string(NEWLINE_MASK).unwrap(),
        serde_json::to_string(OSC_TITLE).unwrap(),
        serde_json::to_string(BIDI).unwrap(),
        serde_json::to_string(SEPARATOR).unwrap(),
        "\u{2028}::warning::x",
    );
    fs::write(evil.join("compose.yaml"), compose).unwrap();
    // Not valid YAML (a raw ESC): the finding shows the source line.
    fs::create_dir_all(dir.path().join("raw")).unwrap();
    fs::write(
        dir.path().join("raw/compose.yaml"),
        "services:\n  a:\n    ports: [\"9000:80\"]   # \u{1b}]0;title\u{7}\n",
    )
    .unwrap();
    dir
}

const UNSAFE: &[char] = &[
    '\u{1b}', '\u{7}', '\r', '\u{0}', '\u{7f}', '\u{9b}', '\u{2028}', '\u{2029}', '\u{202e}',
    '\u{2066}',
];

/// No unsafe character anywhere, and no line that the Actions runner reads
/// as a workflow command (it trims leading whitespace first), except the
/// ones `allowed` (the github format's own annotations).
#[track_caller]
fn assert_inert(text: &str, what: &str, allowed: &[&str]) {
    for c in UNSAFE {
        assert!(
            !text.contains(*c),
            "{what}: raw {:?} in the output:\n{text}",
            c
        );
    }
    for line in text.lines() {
        let start = line.trim_start();
        if start.starts_with("::") {
            assert!(
                allowed.iter().any(|a| start.starts_with(a)),
                "{what}: a line starts a workflow command: {line:?}\n{text}"
            );
        }
    }
}

fn check(dir: &Path, format: &str) -> Output {
    run_in(dir, &["check", "--format", format, "--color", "never"])
}

#[test]
fn hostile_names_cannot_inject_commands_or_escapes_into_any_format() {
    let dir = hostile_tree();
    // JSON first: it keeps every value exactly (JSON escapes them), and it
    // proves the names reached the findings at all.
    let out = check(dir.path(), "json");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(!text.contains('\u{1b}'), "raw ESC in JSON");
    let report: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    let all = report.to_string();
    let decoded: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| format!("{} {} {}", f["message"], f["service"], f["file"]))
        .collect();
    let findings = report["findings"].as_array().unwrap().len();
    assert!(findings >= 4, "{all}");
    for name in [NEWLINE_MASK, OSC_TITLE, BIDI, SEPARATOR] {
        let json_name = serde_json::to_string(name).unwrap();
        let bare = json_name.trim_matches('"');
        assert!(
            decoded.iter().any(|d| d.contains(bare)),
            "{name:?} not in the findings: {all}"
        );
    }

    let human = check(dir.path(), "human");
    let human_text = stdout(&human);
    assert_inert(&human_text, "human", &[]);
    // Rendered visibly, not dropped.
    assert!(
        human_text.contains("x\\u{a}::add-mask::secret"),
        "{human_text}"
    );
    assert!(human_text.contains("\\u{1b}]0;pwned\\u{7}"), "{human_text}");
    assert!(
        human_text.contains("evil\\u{a}::stop-commands::pwn"),
        "{human_text}"
    );
    assert!(
        human_text.contains("# \\u{1b}]0;title\\u{7}"),
        "{human_text}"
    );
    assert!(human_text.contains("bidi\\u{202e}txt.exe"), "{human_text}");

    let github = check(dir.path(), "github");
    let github_text = stdout(&github);
    assert_inert(
        &github_text,
        "github",
        &["::error ", "::warning ", "::notice "],
    );
    assert_eq!(github_text.lines().count(), findings, "{github_text}");
    assert!(github_text.contains("\\u{1b}"), "{github_text}");

    let sarif = check(dir.path(), "sarif");
    let sarif: serde_json::Value = serde_json::from_slice(&sarif.stdout).expect("valid SARIF JSON");
    assert_eq!(
        sarif["runs"][0]["results"].as_array().unwrap().len(),
        findings
    );

    for format in ["table", "csv"] {
        let out = run_in(dir.path(), &["scan", "--format", format]);
        let text = stdout(&out);
        assert!(out.status.success(), "{}", stderr(&out));
        assert_inert(&text, format, &[]);
        assert!(
            text.contains("x\\u{a}::add-mask::secret"),
            "{format}: {text}"
        );
        assert!(
            text.contains("evil\\u{a}::stop-commands::pwn"),
            "{format}: {text}"
        );
    }
    let csv = stdout(&run_in(dir.path(), &["scan", "--format", "csv"]));
    let rows = csv.lines().count();
    let json = run_in(dir.path(), &["scan", "--format", "json"]);
    let items: serde_json::Value = serde_json::from_slice(&json.stdout).expect("valid JSON");
    let items = items["ports"].as_array().unwrap();
    assert_eq!(rows, items.len() + 1, "one CSV line per row: {csv}");
    assert!(
        items.iter().any(|i| i["service"] == NEWLINE_MASK),
        "{items:?}"
    );
}

#[test]
fn migrate_plan_output_escapes_the_text_of_the_files() {
    // The diff shows the files' text: a raw ESC in a `.env` comment, a bidi
    // override in a compose comment, a block scalar line that is a workflow
    // command.
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("ports.yaml"), CONVENTION).unwrap();
    fs::write(
        dir.path().join("compose.yaml"),
        "services:\n  api:\n    image: a\n    # \u{202e} bidi\n    ports: [\"${API_PORT:-8001}:80\"]\n    command: |\n      ::add-mask::tok\n",
    )
    .unwrap();
    fs::write(
        dir.path().join(".env"),
        "API_PORT=8001 # \u{1b}]0;title\u{7}\n",
    )
    .unwrap();
    for color in ["never", "always"] {
        let out = run_in(dir.path(), &["migrate", "plan", "--color", color]);
        let text = stdout(&out);
        assert!(text.contains("API_PORT:-8000"), "{}{}", text, stderr(&out));
        // Our own colours are the only escapes.
        let mut plain = text.clone();
        for code in ["0", "1", "31", "32", "36"] {
            plain = plain.replace(&format!("\u{1b}[{code}m"), "");
        }
        assert_inert(&plain, "migrate plan", &[]);
        assert!(plain.contains("# \\u{1b}]0;title\\u{7}"), "{plain}");
        assert!(plain.contains("# \\u{202e} bidi"), "{plain}");
        assert!(plain.contains("\\u{3a}:add-mask::tok"), "{plain}");
    }
}

// ---------------------------------------------------------------------------
// 6. Symlinked ports.yaml, FIFOs
// ---------------------------------------------------------------------------

const SECRET: &str = "root:$6$Zx9TOPSECRETHASHVALUE0123456789abcdef:19000:0:99999:7:::\n";

#[test]
fn a_found_ports_yaml_linking_outside_its_directory_is_refused_unread() {
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("shadow");
    fs::write(&secret, SECRET).unwrap();
    let repo = tempfile::tempdir().unwrap();
    symlink(&secret, repo.path().join("ports.yaml")).unwrap();
    for args in [
        vec!["check"],
        vec!["scan"],
        vec!["allocate", "web"],
        vec!["migrate", "plan"],
    ] {
        let out = run_in(repo.path(), &args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("error[unsafe-path]"), "{args:?}: {err}");
        assert!(err.contains("ports.yaml"), "{args:?}: {err}");
        assert!(
            !err.contains("TOPSECRET"),
            "{args:?} leaks the target: {err}"
        );
        assert!(!stdout(&out).contains("TOPSECRET"));
    }
    // A link to a file beside it is fine.
    let repo2 = tempfile::tempdir().unwrap();
    fs::write(repo2.path().join("real.yaml"), CONVENTION).unwrap();
    symlink("real.yaml", repo2.path().join("ports.yaml")).unwrap();
    let out = run_in(repo2.path(), &["check"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn a_convention_that_is_not_one_is_quoted_only_in_a_short_escaped_excerpt() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("shadow");
    fs::write(&secret, SECRET).unwrap();
    let out = run_in(dir.path(), &["check", "-c", secret.to_str().unwrap()]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("error[invalid-convention]"), "{err}");
    assert!(err.contains("unknown field `root:$6$Zx9TOPSE...`"), "{err}");
    assert!(!err.contains("CRET"), "{err}");
    // A control character in a key is escaped, not echoed.
    fs::write(&secret, "version: 1.0.0\n\"a\\e]0;t\\a\": 1\n").unwrap();
    let err = stderr(&run_in(
        dir.path(),
        &["check", "-c", secret.to_str().unwrap()],
    ));
    assert!(!err.contains('\u{1b}'), "{err:?}");
    assert!(err.contains("\\u{1b}"), "{err}");
}

/// Runs the CLI, killing it after `limit`: returns `None` if it had to.
fn run_with_timeout(dir: &Path, args: &[&str], limit: Duration) -> Option<Output> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_port-convention"))
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while start.elapsed() < limit {
        if child.try_wait().unwrap().is_some() {
            return Some(child.wait_with_output().unwrap());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

#[test]
fn a_fifo_as_convention_or_env_file_is_refused_instead_of_blocking() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("ports.yaml"), CONVENTION).unwrap();
    let fifo = dir.path().join("fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let fifo = fifo.to_str().unwrap();
    for args in [
        vec!["check", "-c", fifo],
        vec!["check", "--env-file", fifo, "."],
        vec!["scan", "--env-file", fifo, "."],
        vec!["allocate", "web", "-c", fifo],
        vec!["migrate", "apply", fifo],
    ] {
        let out = run_with_timeout(dir.path(), &args, Duration::from_secs(20))
            .unwrap_or_else(|| panic!("{args:?} blocked on the FIFO"));
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("error[not-a-regular-file]"), "{args:?}: {err}");
        assert!(err.contains("a FIFO"), "{args:?}: {err}");
    }
}

// ---------------------------------------------------------------------------
// 8. Small things
// ---------------------------------------------------------------------------

#[test]
fn allocate_never_returns_port_0_and_reports_the_real_count() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("ports.yaml"),
        "version: 1.0.0\nranges:\n  low: { ports: 0-2 }\n",
    )
    .unwrap();
    let out = run_in(dir.path(), &["allocate", "low", "--count", "2"]);
    assert_eq!(stdout(&out), "1\n2\n", "{}", stderr(&out));
    let out = run_in(dir.path(), &["allocate", "low", "--count", "3"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("error[range-full]"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("port 0"), "{}", stderr(&out));
    let out = run_in(
        dir.path(),
        &["allocate", "low", "--count", "18446744073709551615"],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("error[invalid-argument]"), "{err}");
    assert!(err.contains("18446744073709551615"), "{err}");
    assert!(!err.contains("4294967295"), "{err}");
}

#[test]
fn library_advice_never_reaches_the_user() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        "version: 1.0.0\nname: a\nname: b\n",
        "version: 1.0.0\nranges:\n  web: { ports: 8000-8999 }\n  web: { ports: 9000-9999 }\n",
    ];
    for text in cases {
        fs::write(dir.path().join("ports.yaml"), text).unwrap();
        let out = run_in(dir.path(), &["check", "--convention-only"]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains("duplicate key"), "{err}");
        for leak in ["DuplicateKeyPolicy", "Options", "Option<"] {
            assert!(!err.contains(leak), "{leak}: {err}");
        }
    }
}
