//! The bodies of the fuzz targets, shared by `fuzz/fuzz_targets/*.rs` (run
//! by `cargo fuzz`) and `port-convention/tests/fuzz_corpus.rs` (which replays
//! every committed corpus file through the same code in `cargo test`).
//!
//! Each function takes raw fuzzer bytes, must never panic, and asserts the
//! invariants that are cheap to check.

#![allow(dead_code)]

use std::collections::BTreeMap;

use port_convention::check::{TreeTexts, check_repository, scan_texts_with};
use port_convention::{Convention, Finding, Rule, validate_convention};

/// The body of a fuzz target.
pub type Target = fn(&[u8]);

/// Every target by its name (the directory name of its corpus).
pub const TARGETS: &[(&str, Target)] = &[
    ("port_spec", port_spec),
    ("interpolation", interpolation),
    ("dotenv", dotenv),
    ("convention", convention),
    ("project", project),
    ("plan", plan),
];

/// Separates the files of the `project` target's input.
pub const FILE_SEPARATOR: &str = "\n%%%\n";

/// The files of the `project` target, in the order their texts appear in
/// the input (split by [`FILE_SEPARATOR`]); the last one is the convention.
pub const PROJECT_FILES: &[&str] = &[
    "compose.yaml",
    "compose.override.yaml",
    ".env",
    "sub/docker-compose.yml",
    "sub/.env",
    "ports.yaml",
];

fn text(data: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(data)
}

/// The variables every target that interpolates sees.
fn lookup(name: &str) -> Option<String> {
    match name {
        "A" => Some("1".into()),
        "EMPTY" => Some(String::new()),
        "PORT" => Some("7001".into()),
        "SPEC" => Some("127.0.0.1:8080:80/udp".into()),
        "NESTED" => Some("${A}".into()),
        "DOLLAR" => Some("$$".into()),
        _ => None,
    }
}

/// Findings name a rule of [`Rule::ALL`] with its own severity, and a file
/// location inside the text it points at.
fn check_findings(findings: &[Finding], texts: &BTreeMap<String, String>) {
    for f in findings {
        assert!(Rule::ALL.contains(&f.rule), "unknown rule {:?}", f.rule);
        assert_eq!(Rule::from_id(f.rule.id()), Some(f.rule));
        assert!(!f.message.is_empty(), "finding without a message: {f:?}");
        if let (Some(file), Some(line)) = (f.file(), f.line())
            && let Some(text) = texts.get(file)
        {
            let lines = yaml_lines(text);
            assert!(
                (line as usize) <= lines + 1,
                "{file}:{line} is past the end ({lines} lines): {f:?}"
            );
        }
    }
}

/// Lines as YAML counts them: LF, CRLF and a lone CR each end one.
fn yaml_lines(text: &str) -> usize {
    text.replace("\r\n", "\n").split(['\n', '\r']).count()
}

/// `port_spec::parse_port_spec`: a mapping re-parses from its Display form
/// to itself (the first and last 8 of a long range are tried).
pub fn port_spec(data: &[u8]) {
    let spec = text(data);
    if let Ok(mappings) = port_convention::port_spec::parse_port_spec(&spec) {
        // A range expands to one mapping per port: round-trip its ends only.
        let ends = mappings.len().min(8);
        let sample = mappings[..ends]
            .iter()
            .chain(&mappings[mappings.len() - ends..]);
        for m in sample {
            let shown = m.to_string();
            let again = port_convention::port_spec::parse_port_spec(&shown)
                .unwrap_or_else(|e| panic!("{spec:?} -> {shown:?} does not re-parse: {e}"));
            assert_eq!(again.len(), 1, "{spec:?} -> {shown:?} -> {again:?}");
            assert_eq!(&again[0], m, "{spec:?} -> {shown:?}");
        }
    }
}

/// `interpolation::interpolate`: every reference span (and default span) is
/// a slice of the template that starts with `$`.
pub fn interpolation(data: &[u8]) {
    let template = text(data);
    if let Ok(out) = port_convention::interpolation::interpolate(&template, &lookup) {
        for u in &out.uses {
            let whole = template
                .get(u.span.clone())
                .unwrap_or_else(|| panic!("span {:?} of {template:?}", u.span));
            assert!(whole.starts_with('$'), "{whole:?} of {template:?}");
            if let Some(d) = &u.default {
                assert!(template.get(d.span.clone()).is_some(), "{:?}", d.span);
                assert!(d.span.start >= u.span.start && d.span.end <= u.span.end);
            }
        }
    }
}

/// `dotenv::parse_dotenv`: entries have 1-based positions inside the text and
/// a raw value that is a slice of it.
pub fn dotenv(data: &[u8]) {
    let text = text(data);
    let lines = text.split('\n').count();
    if let Ok(env) = port_convention::dotenv::parse_dotenv(".env", &text, &lookup) {
        for e in &env.entries {
            assert!(e.line >= 1 && (e.line as usize) <= lines, "{e:?}");
            assert!(e.column >= 1, "{e:?}");
            assert!(text.get(e.raw_value.clone()).is_some(), "{e:?}");
        }
        let _ = env.to_map();
    }
}

/// `Convention::from_yaml` then `validate_convention`.
pub fn convention(data: &[u8]) {
    let text = text(data);
    if let Ok(convention) = Convention::from_yaml("ports.yaml", &text) {
        let findings = validate_convention(&convention);
        let texts = BTreeMap::from([("ports.yaml".to_owned(), text.into_owned())]);
        check_findings(&findings, &texts);
    }
}

/// A small compose project tree (see [`PROJECT_FILES`]) through claim
/// extraction, project resolution and every check.
pub fn project(data: &[u8]) {
    let text = text(data);
    let mut tree = TreeTexts {
        root_name: "root".into(),
        ..TreeTexts::default()
    };
    let mut convention = None;
    for (name, part) in PROJECT_FILES.iter().zip(text.split(FILE_SEPARATOR)) {
        if *name == "ports.yaml" {
            convention = Convention::from_yaml(name, part).ok();
        } else if name.ends_with(".env") {
            tree.env.push((*name).to_owned());
        } else {
            tree.compose.push((*name).to_owned());
        }
        tree.texts.insert((*name).to_owned(), part.to_owned());
    }
    tree.compose.sort();
    tree.env.sort();
    let env = BTreeMap::from([("A".to_owned(), "1".to_owned())]);
    let scan = scan_texts_with(&tree, &env, None, convention.as_ref());
    let findings = check_repository(convention.as_ref(), &scan);
    check_findings(&findings, &tree.texts);
    let _ = scan.projects.to_json(&scan.notes);
}

/// `plan.json` through `io::migrate::load_plan` (parse, format check, path
/// safety), then the edits of every file through `migrate::apply_edits`.
pub fn plan(data: &[u8]) {
    use std::sync::OnceLock;
    static DIR: OnceLock<std::path::PathBuf> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        let dir =
            std::env::temp_dir().join(format!("port-convention-fuzz-plan-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir
    });
    let path = dir.join(format!("plan-{:?}.json", std::thread::current().id()));
    std::fs::write(&path, data).expect("write the plan");
    let loaded = port_convention::io::migrate::load_plan(&path);
    let _ = std::fs::remove_file(&path);
    let Ok(plan) = loaded else { return };
    let mut seen = std::collections::BTreeSet::new();
    for f in &plan.files {
        assert_eq!(
            port_convention::migrate::unsafe_path_reason(&f.file),
            None,
            "{f:?}"
        );
        assert!(seen.insert(f.file.clone()), "{} twice", f.file);
        let text = "services:\n  db:\n    ports:\n      - \"5433:5432\"\n";
        let _ = port_convention::migrate::apply_edits(&f.file, text, &f.edits);
    }
    for s in &plan.stacks {
        assert_eq!(
            port_convention::migrate::unsafe_path_reason(s),
            None,
            "{s:?}"
        );
    }
}
