//! The shared `check` vectors (tests/vectors/check.json), as the Python and
//! Node tests read them: each case's files are written to an empty
//! directory, the check runs on it with exactly the case's environment, and
//! the findings (rule, severity, file, line, column, service, port, in
//! order) and the counts must be exactly the expected ones.

use std::collections::BTreeMap;
use std::path::Path;

use port_convention::io;
use serde_json::Value;

const KEYS: &[&str] = &[
    "rule", "severity", "file", "line", "column", "service", "port",
];

/// The fields of a finding the vectors compare; a file named by its full
/// path (the convention, named as found) relative to the case's directory.
fn comparable(finding: &Value, dir: &Path) -> Value {
    let mut out = serde_json::Map::new();
    for key in KEYS {
        if let Some(v) = finding.get(*key) {
            out.insert((*key).to_owned(), v.clone());
        }
    }
    if let Some(file) = out.get("file").and_then(Value::as_str)
        && let Ok(rel) = Path::new(file).strip_prefix(dir)
    {
        let rel = rel.to_string_lossy().replace('\\', "/");
        out.insert("file".into(), Value::String(rel));
    }
    Value::Object(out)
}

fn write_tree(dir: &Path, files: &serde_json::Map<String, Value>) {
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text.as_str().unwrap()).unwrap();
    }
}

#[test]
fn check_vectors() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/vectors/check.json");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let cases = doc["cases"].as_array().unwrap();
    assert!(cases.len() >= 10, "{} cases", cases.len());
    let mut failures = Vec::new();
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let dir = tempfile::tempdir().unwrap();
        // Without a ports.yaml in the case, none may be found above it either.
        assert!(
            dir.path()
                .ancestors()
                .skip(1)
                .all(|a| !a.join("ports.yaml").exists()),
            "a ports.yaml above {} would leak into the vectors",
            dir.path().display()
        );
        write_tree(dir.path(), case["files"].as_object().unwrap());
        let env: BTreeMap<String, String> = case["env"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
            .collect();
        let outcome = io::check(&io::CheckOptions {
            paths: vec![dir.path().to_owned()],
            env: Some(env),
            ..Default::default()
        });
        let report = match outcome {
            Ok(outcome) => serde_json::to_value(&outcome.report).unwrap(),
            Err(err) => {
                failures.push(format!("{name}: check failed: {err}"));
                continue;
            }
        };
        let got: Vec<Value> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| comparable(f, dir.path()))
            .collect();
        let expect = &case["expect"];
        if Value::Array(got.clone()) != expect["findings"] {
            failures.push(format!(
                "{name}: findings\n    got      {}\n    expected {}",
                Value::Array(got),
                expect["findings"]
            ));
        }
        for count in ["errors", "warnings"] {
            if report["summary"][count] != expect[count] {
                failures.push(format!(
                    "{name}: {count} {} (expected {})",
                    report["summary"][count], expect[count]
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
