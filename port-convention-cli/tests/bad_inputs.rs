//! Malformed and hostile inputs (`tests/bad-inputs/`, manifest
//! `tests/bad-inputs/cases.json`): each case is copied into a fresh temp
//! directory, the real binary runs on it, and the exact outcome (exit code,
//! every finding's rule and file:line:column, or the error code and where it
//! points) is compared with the manifest, as are the peak memory of the child
//! (`wait4` rusage `ru_maxrss`) and its running time against the case's bounds.
//!
//! `BAD_INPUTS_RECORD=FILE` writes the observed outcomes to FILE instead of
//! comparing them (to review by hand before updating the manifest).

#![cfg(unix)]

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

mod common;

/// Memory and time bounds of a case that sets none.
const DEFAULT_MAX_RSS_MB: u64 = 64;
const DEFAULT_MAX_SECONDS: f64 = 20.0;
/// Address-space limit of every child: a runaway case fails instead of
/// taking the machine's memory.
const ADDRESS_SPACE_LIMIT: u64 = 6 << 30;

fn bad_inputs() -> PathBuf {
    common::repo().join("tests/bad-inputs")
}

/// What one run did.
struct Run {
    /// Peak resident memory of this test process when the child started.
    parent_rss_kb: u64,
    code: Option<i32>,
    signal: Option<i32>,
    stdout: String,
    stderr: String,
    max_rss_kb: u64,
    seconds: f64,
    timed_out: bool,
}

/// Peak resident memory of this process so far, in KiB.
fn own_peak_rss_kb() -> u64 {
    // SAFETY: a zeroed rusage is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: usage is a valid out-pointer.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    u64::try_from(usage.ru_maxrss).unwrap_or(0)
}

/// Runs the binary in `dir` with `args`, measuring the child with `wait4`.
///
/// Linux may count in a child's `ru_maxrss` what it touched of this
/// process's memory before `exec`, so the figure is an upper bound of the
/// binary's own peak; this process's peak is recorded beside it
/// (`parent_rss_kb`; small runs measure 13-16 MiB while it is 60 MiB, so in
/// practice the figure is the binary's). Stdout goes to a file and is read
/// line by line so that this process stays small.
fn run_measured(dir: &Path, args: &[String], limit: Duration) -> Run {
    use std::os::unix::process::CommandExt as _;
    let out_dir = tempfile::tempdir().expect("temp dir");
    let out_path = out_dir.path().join("stdout");
    let out_file = std::fs::File::create(&out_path).expect("stdout file");
    let mut command = Command::new(env!("CARGO_BIN_EXE_port-convention"));
    command
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("COMPOSE_FILE")
        .env_remove("COMPOSE_PROFILES")
        .env_remove("PORT")
        .stdin(Stdio::null())
        .stdout(out_file)
        .stderr(Stdio::piped());
    // SAFETY: setrlimit is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        command.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: ADDRESS_SPACE_LIMIT,
                rlim_max: ADDRESS_SPACE_LIMIT,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let parent_rss_kb = own_peak_rss_kb();
    let start = Instant::now();
    // Reaped below with wait4, which also gives its rusage.
    #[allow(clippy::zombie_processes)]
    let mut child = command.spawn().expect("the binary starts");
    let pid = libc::pid_t::try_from(child.id()).expect("pid");
    let mut err = child.stderr.take().expect("stderr");
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = err.read_to_end(&mut buf);
        buf
    });
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let mut timed_out = false;
    loop {
        // SAFETY: pid is our child, status and usage are valid out-pointers.
        let reaped = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        if reaped == pid {
            break;
        }
        assert!(reaped == 0, "wait4: {}", std::io::Error::last_os_error());
        if start.elapsed() > limit && !timed_out {
            timed_out = true;
            // SAFETY: signalling our own, not yet reaped, child.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let seconds = start.elapsed().as_secs_f64();
    let stdout = summarize_stdout(&out_path, args.first().is_some_and(|a| a == "parse-ports"));
    let stderr = err_reader.join().expect("stderr reader");
    let (code, signal) = if libc::WIFEXITED(status) {
        (Some(libc::WEXITSTATUS(status)), None)
    } else {
        (None, Some(libc::WTERMSIG(status)))
    };
    Run {
        parent_rss_kb,
        code,
        signal,
        stdout,
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        // Linux reports kilobytes.
        max_rss_kb: u64::try_from(usage.ru_maxrss).unwrap_or(0),
        seconds,
        timed_out,
    }
}

/// The child's stdout, except that a line of more than 64 KiB (a
/// `parse-ports` line with thousands of mappings) is replaced by
/// `{"mappings_count": N}` (N: the number of `"target":` in it).
fn summarize_stdout(path: &Path, parse_ports: bool) -> String {
    use std::io::BufRead as _;
    let file = std::fs::File::open(path).expect("stdout file");
    let mut out = String::new();
    for line in std::io::BufReader::new(file).split(b'\n') {
        let line = line.expect("read stdout");
        if parse_ports && line.len() > 64 * 1024 {
            let needle = b"\"target\":";
            let count = line.windows(needle.len()).filter(|w| w == needle).count();
            out.push_str(&format!("{{\"mappings_count\":{count}}}\n"));
        } else {
            out.push_str(&String::from_utf8_lossy(&line));
            out.push('\n');
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Generated inputs (too big to commit)
// ---------------------------------------------------------------------------

const MINIMAL_CONVENTION: &str =
    "version: 1.0.0\nranges:\n  apps: { ports: 7000-7999 }\nservices: {}\n";
const COMPOSE_USES_ENV: &str =
    "services:\n  a:\n    image: x\n    ports:\n      - \"${PORT:-7000}:80\"\n";

/// The files of a generated tree (relative names and texts).
fn generate_tree(name: &str) -> Vec<(String, String)> {
    match name {
        // 5,000 projects of one service each on one port: 12.5 million pairs
        // that only share the port (no host declared), settled as one run.
        "projects-5000-one-port" => (0..5_000u32)
            .map(|i| {
                (
                    format!("p{i}/compose.yaml"),
                    "services:\n  web:\n    image: x\n    ports: [\"8080:80\"]\n".to_owned(),
                )
            })
            .collect(),
        other => panic!("no tree generator {other}"),
    }
}

fn generate(name: &str) -> String {
    let mut s = String::new();
    match name {
        "minimal-convention" => s.push_str(MINIMAL_CONVENTION),
        "compose-uses-env" => s.push_str(COMPOSE_USES_ENV),
        "convention-10000-ranges" => {
            s.push_str("version: 1.0.0\nranges:\n");
            for i in 0..10_000u32 {
                // 10,000 one-port ranges, the last 5,000 overlapping the first.
                let port = 1024 + i % 5_000;
                s.push_str(&format!("  r{i}: {{ ports: {port}-{port} }}\n"));
            }
            s.push_str("services: {}\n");
        }
        "convention-10000-services" => {
            s.push_str("version: 1.0.0\nranges:\n  big: { ports: 10000-29999 }\nservices:\n");
            for i in 0..10_000u32 {
                s.push_str(&format!(
                    "  s{i}:\n    range: big\n    ports:\n      p: {{ port: {}, env: S{i}_PORT }}\n",
                    10_000 + i
                ));
            }
        }
        "compose-10000-services" => {
            s.push_str("services:\n");
            for i in 0..10_000u32 {
                s.push_str(&format!(
                    "  s{i}:\n    image: x\n    ports: [\"{}:80\"]\n",
                    10_000 + i
                ));
            }
        }
        "compose-10000-services-one-port" => {
            // Every pair clashes: 50 million pairs, settled as one run.
            s.push_str("services:\n");
            for i in 0..10_000u32 {
                s.push_str(&format!(
                    "  s{i}:\n    image: x\n    ports: [\"8080:80\"]\n"
                ));
            }
        }
        "compose-10000-ports" => {
            s.push_str("services:\n  a:\n    image: x\n    ports:\n");
            for i in 0..10_000u32 {
                s.push_str(&format!("      - \"{}:{}\"\n", 10_000 + i, 1 + i));
            }
        }
        "env-1mib-line" => {
            s.push_str("PORT=7001\nLONG=");
            s.push_str(&"x".repeat(1 << 20));
            s.push('\n');
        }
        "env-10000-keys-one-line" => {
            for i in 0..10_000u32 {
                s.push_str(&format!("K{i}=v{i} "));
            }
            s.push('\n');
        }
        "env-10000-lines" => {
            for i in 0..10_000u32 {
                s.push_str(&format!("K{i}=${{K{}:-{i}}}\n", i.saturating_sub(1)));
            }
        }
        "compose-1mib-line" => {
            s.push_str("services:\n  a:\n    image: x\n    ports: [\"");
            s.push_str(&"9".repeat(1 << 20));
            s.push_str(":80\"]\n");
        }
        other => panic!("no generator {other}"),
    }
    s
}

// ---------------------------------------------------------------------------
// Outcomes
// ---------------------------------------------------------------------------

/// `rule file:line:column` (or `rule` alone) of every finding of a
/// `check --format json` output.
fn findings(stdout: &str) -> Option<Vec<String>> {
    let report: Value = serde_json::from_str(stdout.trim()).ok()?;
    let findings = report.get("findings")?.as_array()?;
    Some(
        findings
            .iter()
            .map(|f| {
                let rule = f["rule"].as_str().unwrap_or("?");
                match f.get("file").and_then(Value::as_str) {
                    Some(file) => format!(
                        "{rule} {file}:{}:{}",
                        f.get("line").and_then(Value::as_u64).unwrap_or(0),
                        f.get("column").and_then(Value::as_u64).unwrap_or(0)
                    ),
                    None => rule.to_owned(),
                }
            })
            .collect(),
    )
}

/// The code of `port-convention: error[CODE]: ...`.
fn error_code(stderr: &str) -> Option<String> {
    let rest = stderr.split("error[").nth(1)?;
    Some(rest.split(']').next()?.to_owned())
}

/// The observed outcome, in the manifest's shape.
fn outcome(args: &[String], run: &Run) -> Value {
    let mut o = json!({ "exit": run.code });
    if let Some(sig) = run.signal {
        o["signal"] = json!(sig);
    }
    if args.first().map(String::as_str) == Some("parse-ports") {
        let lines: Vec<Value> = run
            .stdout
            .lines()
            .map(|line| {
                let v: Value = serde_json::from_str(line).unwrap_or(Value::Null);
                match (v.get("mappings"), v.get("error")) {
                    (Some(m), _) => json!(format!("{} mappings", m.as_array().map_or(0, Vec::len))),
                    _ if v.get("mappings_count").is_some() => {
                        json!(format!("{} mappings", v["mappings_count"]))
                    }
                    (_, Some(e)) => json!(format!("error {}", e["code"].as_str().unwrap_or("?"))),
                    _ => json!("unreadable"),
                }
            })
            .collect();
        o["specs"] = json!(lines);
    } else if let Some(f) = findings(&run.stdout) {
        o["findings"] = json!(f);
    }
    if let Some(code) = error_code(&run.stderr) {
        o["error"] = json!(code);
    }
    o
}

/// The manifest entry's `args` with `@FILE` replaced by that input's text.
fn expand_args(case: &Value) -> Vec<String> {
    case["args"]
        .as_array()
        .expect("args")
        .iter()
        .map(|a| {
            let a = a.as_str().expect("string arg");
            match a.strip_prefix('@') {
                Some(file) => std::fs::read_to_string(bad_inputs().join(file)).expect("spec file"),
                None => a.to_owned(),
            }
        })
        .collect()
}

fn set_up(case: &Value) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let put = |dest: &str, bytes: &[u8]| {
        let path = dir.path().join(dest);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, bytes).expect("write");
    };
    if let Some(files) = case.get("files").and_then(Value::as_object) {
        for (dest, src) in files {
            let bytes =
                std::fs::read(bad_inputs().join(src.as_str().expect("src"))).expect("input");
            put(dest, &bytes);
        }
    }
    if let Some(files) = case.get("generated").and_then(Value::as_object) {
        for (dest, generator) in files {
            let generator = generator.as_str().expect("generator");
            // `DIR/*`: a tree of many files under DIR.
            if let Some(dir) = dest.strip_suffix("/*") {
                for (name, text) in generate_tree(generator) {
                    put(&format!("{dir}/{name}"), text.as_bytes());
                }
            } else {
                put(dest, generate(generator).as_bytes());
            }
        }
    }
    dir
}

#[test]
fn every_bad_input_has_its_exact_outcome_within_its_memory_and_time_bounds() {
    let manifest: Value = serde_json::from_str(
        &std::fs::read_to_string(bad_inputs().join("cases.json")).expect("cases.json"),
    )
    .expect("cases.json is JSON");
    let cases = manifest["cases"].as_array().expect("cases");
    let record = std::env::var_os("BAD_INPUTS_RECORD");
    let mut observed = Vec::new();
    let mut failures = Vec::new();
    let mut skipped = 0;
    for case in cases {
        let name = case["name"].as_str().expect("name");
        if case.get("known_unbounded").and_then(Value::as_bool) == Some(true) && record.is_none() {
            eprintln!(
                "SKIPPED {name}: known_unbounded ({}); remove the flag once it is bounded",
                case["note"].as_str().unwrap_or("")
            );
            skipped += 1;
            continue;
        }
        let dir = set_up(case);
        let args = expand_args(case);
        let max_seconds = case["max_seconds"].as_f64().unwrap_or(DEFAULT_MAX_SECONDS);
        let max_rss_mb = case["max_rss_mb"].as_u64().unwrap_or(DEFAULT_MAX_RSS_MB);
        let limit = if record.is_some() {
            Duration::from_secs(120)
        } else {
            Duration::from_secs_f64(max_seconds)
        };
        let run = run_measured(dir.path(), &args, limit);
        let got = outcome(&args, &run);
        if record.is_some() {
            let mut entry = case.clone();
            entry["observed"] = got;
            entry["observed_rss_mb"] = json!(run.max_rss_kb.div_ceil(1024));
            entry["parent_rss_mb"] = json!(run.parent_rss_kb.div_ceil(1024));
            entry["observed_seconds"] = json!((run.seconds * 100.0).round() / 100.0);
            entry["timed_out"] = json!(run.timed_out);
            entry["stderr"] = json!(run.stderr.chars().take(400).collect::<String>());
            observed.push(entry);
            continue;
        }
        let mut problems = Vec::new();
        if run.timed_out {
            problems.push(format!("ran over {max_seconds} s and was killed"));
        }
        if got != case["expect"] {
            problems.push(format!("outcome {got}, expected {}", case["expect"]));
        }
        if let Some(text) = case["stderr_contains"].as_str()
            && !run.stderr.contains(text)
        {
            problems.push(format!("stderr lacks {text:?}: {}", run.stderr));
        }
        if run.code.is_some_and(|c| c > 2)
            || run.signal.is_some()
            || run.stderr.contains("panicked")
        {
            problems.push(format!("crashed: {}", run.stderr));
        }
        let rss_mb = run.max_rss_kb.div_ceil(1024);
        if rss_mb > max_rss_mb {
            problems.push(format!(
                "peak memory {rss_mb} MiB over its bound {max_rss_mb} MiB (this test process: {} MiB)",
                run.parent_rss_kb.div_ceil(1024)
            ));
        }
        if !problems.is_empty() {
            failures.push(format!("{name}: {}", problems.join("; ")));
        }
    }
    if let Some(path) = record {
        std::fs::write(
            &path,
            serde_json::to_string_pretty(&observed).expect("json"),
        )
        .expect("record");
        eprintln!(
            "recorded {} cases to {}",
            observed.len(),
            Path::new(&path).display()
        );
        return;
    }
    assert!(cases.len() >= 100, "only {} cases", cases.len());
    eprintln!(
        "{} bad inputs checked, {skipped} skipped",
        cases.len() - skipped
    );
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
